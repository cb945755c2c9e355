//! `silly.patch`: the hot reload API of the guide (`new`, `collectupval`, `join`), written in
//! Rust over the VM's closures and upvalue cells.
//!
//! `collectupval` takes a *snapshot* in Rust: each function of the module and, transitively,
//! each Lua closure reached through upvalues, with its upvalues' indices, values and cell
//! identities at that moment. The Lua tree the guide reads,
//! `{ [fname] = { val = fn, upvals = { [name] = { idx, utype, val, upid, upvals? } } } }`, is
//! built from the snapshot lazily, the first time a script looks into a table (`__index`,
//! `__pairs`), so a reload that only joins builds no Lua tables at all. One `upvals` map is
//! made per closure, so a recursive or shared helper appears as one table (a graph).
//!
//! `join` works on the snapshots directly when both trees are untouched; when a script has
//! looked into (and so may have edited) a tree, it reads the Lua tables instead, so edits
//! are respected. Both paths apply the same rules (`decide`); `spec/patch.md` states them.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use hotlua_vm::api::Args;
use hotlua_vm::function::LuaClosure;
use hotlua_vm::gc::Gc;
use hotlua_vm::patch::{for_each_upvalue, upvalue_join};
use hotlua_vm::string::str_eq;
use hotlua_vm::string::LuaStr;
use hotlua_vm::table::Table;
use hotlua_vm::userdata::UserData;
use hotlua_vm::{LuaError, Value, Vm};

use crate::open::{get_field, set_field};

/// Builds the `silly.patch` module table.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let m = vm.new_table();
    set_field(vm, m, "new", Value::LightFn(patch_new));
    m
}

/// `patch.new()`: a patch object (one per reload) with methods `collectupval` and `join`.
fn patch_new(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let mt = registry_table(vm, "silly.patch", |vm, mt| {
        let methods = vm.new_table();
        set_field(vm, methods, "collectupval", Value::LightFn(collectupval));
        set_field(vm, methods, "join", Value::LightFn(join));
        set_field(vm, mt, "__index", Value::Table(methods));
        let name = vm.str_value("silly.patch");
        set_field(vm, mt, "__name", name);
    });
    let p = vm.new_table();
    vm.set_metatable(Value::Table(p), Some(mt));
    vm.push(Value::Table(p))?;
    Ok(1)
}

/// A table kept in the registry under `key`, created and filled by `init` the first time.
fn registry_table(vm: &mut Vm, key: &str, init: impl FnOnce(&mut Vm, Gc<Table>)) -> Gc<Table> {
    let reg = vm.registry();
    if let Value::Table(t) = get_field(vm, reg, key) {
        return t;
    }
    let t = vm.new_table();
    init(vm, t);
    set_field(vm, reg, key, Value::Table(t));
    t
}

// ---------------------------------------------------------------------------------------
// Snapshots

/// The upvalue of a closure at collect time.
struct UpSnap {
    /// 0-based upvalue index.
    idx: u32,
    /// The snapshot of `val` when it is a Lua closure, else `NO_CHILD`.
    child: u32,
    /// The upvalue's (interned) name.
    name: Name,
    val: Value,
    /// The cell's address, its identity (what `hotlua_vm::patch::upvalue_id` makes a light
    /// userdata of): never dereferenced.
    upid: usize,
}

const NO_CHILD: u32 = u32::MAX;

impl UpSnap {
    fn idx(&self) -> usize {
        self.idx as usize
    }
    fn child(&self) -> Option<usize> {
        (self.child != NO_CHILD).then_some(self.child as usize)
    }
}

/// A Lua closure at collect time; its upvalues are `Snapshot::ups[first..first + count]`.
struct ClosureSnap {
    f: Gc<LuaClosure>,
    first: usize,
    count: usize,
}

/// What one `collectupval` call saw. Every Value it holds is also in the owning
/// userdata's user values, which the collector traces, so none of them dies while the
/// snapshot lives.
#[derive(Default)]
struct Snapshot {
    /// Module form: the function fields (key, function, closure snapshot if Lua).
    entries: Vec<(Value, Value, Option<usize>)>,
    closures: Vec<ClosureSnap>,
    ups: Vec<UpSnap>,
    /// Function form: the closure collected.
    root: Option<usize>,
}

/// A fast hasher for keys that are already well mixed (`Value::hash64`, addresses).
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<MixHasher>>;

/// A table key compared as Lua does (`rawequal`), for module field names.
#[derive(Clone, Copy)]
struct Key(Value);

impl PartialEq for Key {
    fn eq(&self, o: &Key) -> bool {
        self.0.raw_eq(&o.0)
    }
}
impl Eq for Key {}
impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.0.hash64());
    }
}

/// Builds snapshots; `keep` collects every Value for the userdata's user values.
struct Collector {
    snap: Snapshot,
    by_addr: FastMap<usize, usize>,
    keep: Vec<Value>,
    work: Vec<usize>,
}

impl Collector {
    fn new() -> Collector {
        Collector {
            snap: Snapshot::default(),
            by_addr: FastMap::default(),
            keep: Vec::new(),
            work: Vec::new(),
        }
    }

    /// The snapshot index of closure `f`, collecting it (and what it reaches) if new.
    /// Iterative, so a long chain of nested closures cannot overflow the Rust stack.
    fn closure(&mut self, f: Gc<LuaClosure>) -> usize {
        if let Some(&i) = self.by_addr.get(&f.addr()) {
            return i;
        }
        let root = self.add(f);
        let mut work = std::mem::take(&mut self.work);
        work.push(root);
        while let Some(ci) = work.pop() {
            let f = self.snap.closures[ci].f;
            let first = self.snap.ups.len();
            for_each_upvalue(f, |idx, name, cell| {
                let val = cell.get().get();
                self.snap.ups.push(UpSnap {
                    idx: idx as u32,
                    child: NO_CHILD,
                    name: Name(name),
                    val,
                    upid: cell.addr(),
                });
            });
            let count = self.snap.ups.len() - first;
            self.snap.closures[ci].first = first;
            self.snap.closures[ci].count = count;
            for u in first..first + count {
                let val = self.snap.ups[u].val;
                if val.is_collectable() {
                    self.keep.push(val);
                }
                if let Value::LuaFn(g) = val {
                    let gi = match self.by_addr.get(&g.addr()) {
                        Some(&gi) => gi,
                        None => {
                            let gi = self.add(g);
                            work.push(gi);
                            gi
                        }
                    };
                    self.snap.ups[u].child = gi as u32;
                }
            }
        }
        self.work = work;
        root
    }

    fn add(&mut self, f: Gc<LuaClosure>) -> usize {
        let i = self.snap.closures.len();
        self.snap.closures.push(ClosureSnap {
            f,
            first: 0,
            count: 0,
        });
        self.by_addr.insert(f.addr(), i);
        self.keep.push(Value::LuaFn(f));
        i
    }
}

impl Snapshot {
    fn ups_of(&self, ci: usize) -> &[UpSnap] {
        let c = &self.closures[ci];
        &self.ups[c.first..c.first + c.count]
    }
}

// ---------------------------------------------------------------------------------------
// collectupval and the lazy Lua view

/// `P:collectupval(module_or_function)`.
fn collectupval(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let mut c = Collector::new();
    let target = vm.arg(args, 1);
    match target {
        Value::Table(module) => {
            // Reserve for the common shape (a few upvalues per function), so the vectors and
            // the address map do not grow step by step.
            let n = module.get().array_len() + module.get().hash_len();
            c.snap.entries.reserve(n);
            c.snap.closures.reserve(n);
            c.snap.ups.reserve(4 * n);
            c.keep.reserve(6 * n);
            c.by_addr.reserve(n);
            let mut pos = 0;
            while let Some((i, k, v)) = module.get().entry_from(pos) {
                pos = i + 1;
                if !v.is_function() {
                    continue; // a VERSION string or a nested table is not patched
                }
                let ci = match v {
                    Value::LuaFn(f) => Some(c.closure(f)),
                    _ => None,
                };
                c.keep.push(k);
                c.keep.push(v);
                c.snap.entries.push((k, v, ci));
            }
        }
        Value::LuaFn(f) => c.snap.root = Some(c.closure(f)),
        v if v.is_function() => {}
        _ => return Err(vm.type_error_arg(args, 1, "table or function")),
    }
    let is_module = matches!(target, Value::Table(_));
    let root = c.snap.root;
    let mut ud = UserData::new(c.snap);
    ud.user_values = c.keep;
    let ud = Value::UserData(vm.heap.new_userdata(ud));
    let view = View {
        ud,
        cache: vm.new_table(),
    };
    let result = if is_module {
        view.lazy(vm, Lazy::Tree)
    } else {
        match root {
            Some(ci) => view.upvals_map(vm, ci),
            None => vm.new_table(), // a native function: a leaf
        }
    };
    vm.push(Value::Table(result))?;
    Ok(1)
}

/// Which lazy table a metatable stands for.
#[derive(Clone, Copy)]
enum Lazy {
    /// The module tree of a snapshot.
    Tree,
    /// The `upvals` map of closure snapshot `ci`.
    Upvals(usize),
}

/// The Lua side of one snapshot: its userdata and the cache of `upvals` maps by closure.
#[derive(Clone, Copy)]
struct View {
    ud: Value,
    cache: Gc<Table>,
}

/// The fields of a lazy table's metatable.
const F_SNAP: &str = "__snap";
const F_CACHE: &str = "__cache";
const F_CLOSURE: &str = "__closure";

impl View {
    /// An empty table that fills itself from the snapshot when first looked into.
    fn lazy(&self, vm: &mut Vm, what: Lazy) -> Gc<Table> {
        let t = vm.new_table();
        let mt = vm.new_table();
        set_field(vm, mt, "__index", Value::LightFn(lazy_index));
        set_field(vm, mt, "__pairs", Value::LightFn(lazy_pairs));
        set_field(vm, mt, F_SNAP, self.ud);
        set_field(vm, mt, F_CACHE, Value::Table(self.cache));
        if let Lazy::Upvals(ci) = what {
            set_field(vm, mt, F_CLOSURE, Value::Int(ci as i64));
        }
        vm.set_metatable(Value::Table(t), Some(mt));
        t
    }

    /// The (lazy) `upvals` map of closure snapshot `ci`: one table per closure.
    fn upvals_map(&self, vm: &mut Vm, ci: usize) -> Gc<Table> {
        if let Value::Table(t) = self.cache.get().get_int(ci as i64 + 1) {
            return t;
        }
        let t = self.lazy(vm, Lazy::Upvals(ci));
        let _ = vm.raw_set(self.cache, Value::Int(ci as i64 + 1), Value::Table(t));
        t
    }
}

/// The snapshot behind a lazy table, with its view and what the table stands for; `None`
/// for any other table (or one already filled).
fn lazy_of(vm: &mut Vm, t: Gc<Table>) -> Option<(View, Lazy)> {
    let mt = t.get().metatable?;
    let ud = get_field(vm, mt, F_SNAP);
    let Value::UserData(u) = ud else { return None };
    u.get().downcast_ref::<Snapshot>()?;
    let Value::Table(cache) = get_field(vm, mt, F_CACHE) else {
        return None;
    };
    let what = match get_field(vm, mt, F_CLOSURE) {
        Value::Int(ci) => Lazy::Upvals(ci as usize),
        _ => Lazy::Tree,
    };
    Some((View { ud, cache }, what))
}

fn snapshot_of(ud: Value) -> Option<&'static Snapshot> {
    match ud {
        // The userdata is alive while the lazy table's metatable holds it; callers use the
        // reference only within one native call, during which nothing is collected.
        Value::UserData(u) => u.get().downcast_ref::<Snapshot>().map(|s| {
            let p: *const Snapshot = s;
            // SAFETY: see above; the snapshot is immutable once built.
            unsafe { &*p }
        }),
        _ => None,
    }
}

/// Fills a lazy table from its snapshot (once: it then loses its metatable, so it is a
/// plain table the script may edit). Does nothing to other tables.
fn force(vm: &mut Vm, t: Gc<Table>) -> Result<(), LuaError> {
    let Some((view, what)) = lazy_of(vm, t) else {
        return Ok(());
    };
    let snap = snapshot_of(view.ud).expect("lazy_of checked the snapshot type");
    vm.set_metatable(Value::Table(t), None);
    match what {
        Lazy::Tree => {
            for &(k, v, ci) in &snap.entries {
                let entry = vm.new_table();
                set_field(vm, entry, "val", v);
                let ups = match ci {
                    Some(ci) => view.upvals_map(vm, ci),
                    None => vm.new_table(),
                };
                set_field(vm, entry, "upvals", Value::Table(ups));
                vm.raw_set(t, k, Value::Table(entry))?;
            }
        }
        Lazy::Upvals(ci) => {
            for u in snap.ups_of(ci) {
                let info = vm.new_table();
                set_field(vm, info, "idx", Value::Int(u.idx as i64 + 1));
                let upid = Value::LightUserData(u.upid);
                let utype = vm.str_value(u.val.type_name());
                set_field(vm, info, "utype", utype);
                set_field(vm, info, "val", u.val);
                set_field(vm, info, "upid", upid);
                if let Some(child) = u.child() {
                    let m = view.upvals_map(vm, child);
                    set_field(vm, info, "upvals", Value::Table(m));
                }
                vm.raw_set(t, Value::Str(u.name.0), Value::Table(info))?;
            }
        }
    }
    Ok(())
}

/// `__index` of a lazy table: fill it, then read the key.
fn lazy_index(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let t = vm.check_table(args, 0)?;
    force(vm, t)?;
    let v = t.get().get(vm.arg(args, 1));
    vm.push(v)?;
    Ok(1)
}

/// `__pairs` of a lazy table: fill it, then iterate it with `next`.
fn lazy_pairs(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let t = vm.check_table(args, 0)?;
    force(vm, t)?;
    let next = vm.get_global("next");
    vm.push(next)?;
    vm.push(Value::Table(t))?;
    vm.push(Value::Nil)?;
    Ok(3)
}

// ---------------------------------------------------------------------------------------
// join

/// What to do with a pair of upvalues of the same name (the rules of spec/patch.md).
enum Action {
    /// Both are Lua functions: join their upvalues in turn.
    Recurse,
    /// Make the new closure use the old cell.
    Join,
    /// Leave unjoined and report.
    Conflict,
    /// Leave as is.
    Nothing,
}

fn decide(new: Value, old: Value) -> Action {
    match (new, old) {
        (Value::LuaFn(_), Value::LuaFn(_)) => Action::Recurse,
        (n, o) if n.is_function() || o.is_function() => {
            if n.is_nil() || o.is_nil() || (n.is_function() && o.is_function()) {
                Action::Nothing
            } else {
                Action::Conflict
            }
        }
        (n, o) if n.is_nil() || o.is_nil() || n.type_name() == o.type_name() => Action::Join,
        _ => Action::Conflict,
    }
}

/// Old cells by variable name, for upvalues the old version of the same function did not
/// capture: `None` when old functions captured different cells under that name.
type OldVars = HashMap<Name, Option<(Gc<LuaClosure>, usize)>, BuildHasherDefault<MixHasher>>;

/// A pair of function-valued upvalues of the same name. When the old variable holds a Lua
/// function defined in the same chunk as the old closure (a local function of the old
/// module, or a forward-declared one), it is code: the variable takes the new function, the
/// new closure shares the old cell, and the caller joins the two functions' own upvalues in
/// turn (returns true). Old closures that call through the variable, such as a wrapper a
/// timer holds, then run the new code. A variable holding a function from elsewhere (a
/// callback another module installed at run time) is state: the new closure shares the cell
/// and the function is kept (returns false: nothing to recurse into).
fn adopt(nf: Gc<LuaClosure>, nidx: usize, of: Gc<LuaClosure>, oidx: usize) -> bool {
    let (Some(new_cell), Some(old_cell)) = (nf.get().upvals.get(nidx), of.get().upvals.get(oidx))
    else {
        return false;
    };
    let (new_cell, old_cell) = (new_cell.get(), old_cell.get());
    if new_cell == old_cell {
        return false; // already joined (a helper shared by two functions)
    }
    let Value::LuaFn(old_fn) = old_cell.get().get() else {
        return false;
    };
    let same_chunk = old_fn.get().proto().get().source == of.get().proto().get().source;
    if same_chunk {
        old_cell.get().set(new_cell.get().get());
    }
    upvalue_join(nf, nidx, of, oidx);
    same_chunk
}

/// What a join reports.
#[derive(Default)]
struct Report {
    absent: Vec<String>,
    conflicts: Vec<String>,
}

/// Records the old cell of a non-function upvalue under its variable name.
fn index_var(vars: &mut OldVars, name: Name, f: Gc<LuaClosure>, idx: usize) {
    let cell = f.get().upval(idx);
    vars.entry(name)
        .and_modify(|e| {
            if e.is_some_and(|(of, oi)| of.get().upval(oi) != cell) {
                *e = None;
            }
        })
        .or_insert(Some((f, idx)));
}

/// Joins upvalue `nidx` of `nf`, which the old version of its function lacks, to the old
/// cell of the same variable, or reports it (an `_ENV` then gets the globals).
fn join_unmatched(
    vm: &mut Vm,
    report: &mut Report,
    vars: &OldVars,
    nf: Gc<LuaClosure>,
    nidx: usize,
    name: Name,
    path: impl FnOnce() -> String,
) {
    match vars.get(&name) {
        Some(Some((of, oidx))) => {
            upvalue_join(nf, nidx, *of, *oidx);
        }
        Some(None) => report.conflicts.push(path()),
        None => {
            if name.0.get().as_bytes() == b"_ENV" {
                let g = Value::Table(vm.globals());
                nf.get().upval(nidx).get().set(g);
            }
            report.absent.push(path());
        }
    }
}

/// Paths are built only when reported: each work item names its parent and last step.
struct Paths {
    /// (parent path id or usize::MAX for a root, the step's text)
    steps: Vec<(usize, PathStep)>,
}

enum PathStep {
    Key(Value),
    Name(Name),
}

impl Paths {
    fn push(&mut self, parent: usize, step: PathStep) -> usize {
        self.steps.push((parent, step));
        self.steps.len() - 1
    }

    fn text(&self, vm: &mut Vm, mut id: usize, last: Name) -> String {
        let mut parts: Vec<String> = vec![last.0.get().to_str_lossy().into_owned()];
        while id != usize::MAX {
            let (parent, step) = &self.steps[id];
            parts.push(match step {
                PathStep::Key(k) => key_text(vm, *k),
                PathStep::Name(n) => n.0.get().to_str_lossy().into_owned(),
            });
            id = *parent;
        }
        parts.push("$".to_string());
        parts.reverse();
        parts.join(".")
    }
}

/// `P:join(up_new, up_old)` or `P:join(fn_new, upvals_new, fn_old, upvals_old)`; returns
/// `absent` and `conflicts`, both sorted arrays of upvalue paths.
fn join(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let mut report = Report::default();
    if vm.arg(args, 1).is_function() {
        let new_ups = vm.check_table(args, 2)?;
        let old_ups = vm.check_table(args, 4)?;
        if let (Value::LuaFn(nf), Value::LuaFn(of)) = (vm.arg(args, 1), vm.arg(args, 3)) {
            TableJoin::new(vm)?.run(
                vm,
                &mut report,
                vec![(nf, new_ups, Some((of, old_ups)), "$.#".into())],
                &[(of, old_ups)],
            )?;
        }
    } else {
        let up_new = vm.check_table(args, 1)?;
        let up_old = vm.check_table(args, 2)?;
        match (
            untouched_snapshot(vm, up_new),
            untouched_snapshot(vm, up_old),
        ) {
            (Some(n), Some(o)) => snapshot_join(vm, &mut report, n, o),
            _ => tree_join(vm, &mut report, up_new, up_old)?,
        }
    }
    report.absent.sort();
    report.conflicts.sort();
    for list in [&report.absent, &report.conflicts] {
        let t = vm.new_table();
        for (i, p) in list.iter().enumerate() {
            let s = vm.str_value(p);
            vm.raw_set(t, Value::Int(i as i64 + 1), s)?;
        }
        vm.push(Value::Table(t))?;
    }
    Ok(2)
}

/// The snapshot of a module tree nobody has looked into yet.
fn untouched_snapshot(vm: &mut Vm, t: Gc<Table>) -> Option<&'static Snapshot> {
    match lazy_of(vm, t) {
        Some((view, Lazy::Tree)) => snapshot_of(view.ud),
        _ => None,
    }
}

/// The fast path: both trees untouched, joined from their snapshots without Lua tables.
fn snapshot_join(vm: &mut Vm, report: &mut Report, new: &Snapshot, old: &Snapshot) {
    let mut old_by_key: FastMap<Key, Option<usize>> = FastMap::default();
    old_by_key.reserve(old.entries.len());
    for &(k, _, ci) in &old.entries {
        old_by_key.insert(Key(k), ci);
    }
    // Needed only when an upvalue is unmatched, which a reload of unchanged code never has.
    let mut vars: Option<OldVars> = None;
    let old_vars = |vars: &mut Option<OldVars>| -> OldVars {
        if let Some(v) = vars.take() {
            return v;
        }
        let mut v = OldVars::default();
        for c in &old.closures {
            for u in &old.ups[c.first..c.first + c.count] {
                if !u.val.is_function() {
                    index_var(&mut v, u.name, c.f, u.idx());
                }
            }
        }
        v
    };
    let mut visited: HashSet<(usize, usize), BuildHasherDefault<MixHasher>> = HashSet::default();
    visited.reserve(new.closures.len());
    let mut paths = Paths {
        steps: Vec::with_capacity(new.entries.len()),
    };
    // (new closure, old closure or none, path id)
    let mut work: Vec<(usize, Option<usize>, usize)> = Vec::new();
    for &(k, _, nci) in &new.entries {
        let Some(nci) = nci else { continue };
        let oci = old_by_key.get(&Key(k)).copied().flatten();
        let path = paths.push(usize::MAX, PathStep::Key(k));
        work.push((nci, oci, path));
    }
    while let Some((nci, oci, path)) = work.pop() {
        let nf = new.closures[nci].f;
        let of = oci.map(|o| old.closures[o].f);
        if !visited.insert((nf.addr(), of.map_or(0, |f| f.addr()))) {
            continue;
        }
        let old_ups = oci.map_or(&[][..], |o| old.ups_of(o));
        for nu in new.ups_of(nci) {
            let nname = nu.name;
            // Upvalue names of one function are few: a scan is cheapest.
            let matched = of.and_then(|of| {
                old_ups
                    .iter()
                    .find(|ou| ou.name == nname)
                    .map(|ou| (of, ou))
            });
            match matched {
                Some((of, ou)) => match decide(nu.val, ou.val) {
                    Action::Recurse => {
                        if adopt(nf, nu.idx(), of, ou.idx()) {
                            if let (Some(nc), Some(oc)) = (nu.child(), ou.child()) {
                                let p = paths.push(path, PathStep::Name(nname));
                                work.push((nc, Some(oc), p));
                            }
                        }
                    }
                    Action::Join => {
                        upvalue_join(nf, nu.idx(), of, ou.idx());
                    }
                    Action::Conflict => report.conflicts.push(paths.text(vm, path, nname)),
                    Action::Nothing => {}
                },
                None => match (nu.val, nu.child()) {
                    (Value::LuaFn(_), Some(nc)) => {
                        let p = paths.push(path, PathStep::Name(nname));
                        work.push((nc, None, p));
                    }
                    (v, _) if v.is_function() => {}
                    _ => {
                        let v = old_vars(&mut vars);
                        let text = paths.text(vm, path, nname);
                        join_unmatched(vm, report, &v, nf, nu.idx(), nname, || text);
                        vars = Some(v);
                    }
                },
            }
        }
    }
}

/// A name compared as Lua strings are (pointer for interned short strings).
#[derive(Clone, Copy)]
struct Name(Gc<LuaStr>);

impl PartialEq for Name {
    fn eq(&self, o: &Name) -> bool {
        str_eq(self.0, o.0)
    }
}
impl Eq for Name {}
impl Hash for Name {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.0.get().hash() as u64);
    }
}

/// A module key as it appears in a path.
fn key_text(vm: &mut Vm, k: Value) -> String {
    match k {
        Value::Str(s) => s.get().to_str_lossy().into_owned(),
        other => vm.to_display(other),
    }
}

/// The slow path: trees a script has looked into (and may have edited), read as Lua tables.
fn tree_join(
    vm: &mut Vm,
    report: &mut Report,
    up_new: Gc<Table>,
    up_old: Gc<Table>,
) -> Result<(), LuaError> {
    force(vm, up_new)?;
    force(vm, up_old)?;
    let tj = TableJoin::new(vm)?;
    let olds = tj.entries(vm, up_old)?;
    let mut pairs = Vec::new();
    for (k, nf, nu) in tj.entries(vm, up_new)? {
        let old = match up_old.get().get(k) {
            Value::Table(info) => tj.fn_and_ups(info),
            _ => None,
        };
        pairs.push((nf, nu, old, format!("$.{}", key_text(vm, k))));
    }
    let roots: Vec<_> = olds.iter().map(|&(_, f, u)| (f, u)).collect();
    tj.run(vm, report, pairs, &roots)
}

/// Join over Lua tables (the tree a script may have edited, or the function form).
struct TableJoin {
    val: Gc<LuaStr>,
    upvals: Gc<LuaStr>,
    idx: Gc<LuaStr>,
}

type Pair = (
    Gc<LuaClosure>,
    Gc<Table>,
    Option<(Gc<LuaClosure>, Gc<Table>)>,
    String,
);

/// A function entry of a module tree: (key, function, its `upvals` map).
type Entry = (Value, Gc<LuaClosure>, Gc<Table>);

impl TableJoin {
    fn new(vm: &mut Vm) -> Result<TableJoin, LuaError> {
        Ok(TableJoin {
            val: vm.new_str("val"),
            upvals: vm.new_str("upvals"),
            idx: vm.new_str("idx"),
        })
    }

    /// `{ val = fn, upvals = map }` as (fn, map) when `fn` is a Lua function.
    fn fn_and_ups(&self, info: Gc<Table>) -> Option<(Gc<LuaClosure>, Gc<Table>)> {
        let t = info.get();
        match (t.get_str(self.val), t.get_str(self.upvals)) {
            (Value::LuaFn(f), Value::Table(u)) => Some((f, u)),
            _ => None,
        }
    }

    /// The Lua-function entries of a module tree: (key, fn, map).
    fn entries(&self, vm: &mut Vm, tree: Gc<Table>) -> Result<Vec<Entry>, LuaError> {
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some((i, k, v)) = tree.get().entry_from(pos) {
            pos = i + 1;
            if let Value::Table(info) = v {
                if let Some((f, u)) = self.fn_and_ups(info) {
                    force(vm, u)?;
                    out.push((k, f, u));
                }
            }
        }
        Ok(out)
    }

    /// The 0-based index of an upvalue info (`idx` is 1-based).
    fn idx(&self, info: Gc<Table>) -> Option<usize> {
        match info.get().get_str(self.idx) {
            Value::Int(i) if i >= 1 => Some(i as usize - 1),
            _ => None,
        }
    }

    fn run(
        &self,
        vm: &mut Vm,
        report: &mut Report,
        mut work: Vec<Pair>,
        old_roots: &[(Gc<LuaClosure>, Gc<Table>)],
    ) -> Result<(), LuaError> {
        let mut vars = OldVars::default();
        let mut seen = HashSet::new();
        let mut stack: Vec<_> = old_roots.to_vec();
        while let Some((f, ups)) = stack.pop() {
            if !seen.insert(f.addr()) {
                continue;
            }
            force(vm, ups)?;
            let mut pos = 0;
            while let Some((i, k, v)) = ups.get().entry_from(pos) {
                pos = i + 1;
                let (Value::Str(name), Value::Table(info)) = (k, v) else {
                    continue;
                };
                let Some(idx) = self.idx(info) else { continue };
                match info.get().get_str(self.val) {
                    Value::LuaFn(g) => {
                        if let Value::Table(sub) = info.get().get_str(self.upvals) {
                            stack.push((g, sub));
                        }
                    }
                    v if v.is_function() => {}
                    _ if idx < f.get().upvals.len() => index_var(&mut vars, Name(name), f, idx),
                    _ => {}
                }
            }
        }
        let mut visited = HashSet::new();
        while let Some((nf, nups, old, path)) = work.pop() {
            if !visited.insert((nf.addr(), old.map_or(0, |(f, _)| f.addr()))) {
                continue;
            }
            force(vm, nups)?;
            if let Some((_, ou)) = old {
                force(vm, ou)?;
            }
            let mut pos = 0;
            while let Some((i, k, v)) = nups.get().entry_from(pos) {
                pos = i + 1;
                let (Value::Str(name), Value::Table(ninfo)) = (k, v) else {
                    continue;
                };
                let Some(nidx) = self.idx(ninfo).filter(|&i| i < nf.get().upvals.len()) else {
                    continue;
                };
                let path = format!("{}.{}", path, name.get().to_str_lossy());
                let nval = ninfo.get().get_str(self.val);
                let oinfo = match old.map(|(_, ou)| ou.get().get_str(name)) {
                    Some(Value::Table(t)) => Some(t),
                    _ => None,
                };
                let matched = match (old, oinfo) {
                    (Some((of, _)), Some(oi)) => self
                        .idx(oi)
                        .filter(|&i| i < of.get().upvals.len())
                        .map(|oidx| (of, oi, oidx)),
                    _ => None,
                };
                match matched {
                    Some((of, oinfo, oidx)) => {
                        let oval = oinfo.get().get_str(self.val);
                        match decide(nval, oval) {
                            Action::Recurse => {
                                let nu = ninfo.get().get_str(self.upvals);
                                let ou = oinfo.get().get_str(self.upvals);
                                if adopt(nf, nidx, of, oidx) {
                                    if let (
                                        Value::LuaFn(a),
                                        Value::LuaFn(b),
                                        Value::Table(nu),
                                        Value::Table(ou),
                                    ) = (nval, oval, nu, ou)
                                    {
                                        work.push((a, nu, Some((b, ou)), path));
                                    }
                                }
                            }
                            Action::Join => {
                                upvalue_join(nf, nidx, of, oidx);
                            }
                            Action::Conflict => report.conflicts.push(path),
                            Action::Nothing => {}
                        }
                    }
                    None => match nval {
                        Value::LuaFn(g) => {
                            if let Value::Table(nu) = ninfo.get().get_str(self.upvals) {
                                work.push((g, nu, None, path));
                            }
                        }
                        v if v.is_function() => {}
                        _ => join_unmatched(vm, report, &vars, nf, nidx, Name(name), || path),
                    },
                }
            }
        }
        Ok(())
    }
}

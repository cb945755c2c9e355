//! The transaction: plan, apply with an undo log, verify, commit or roll back
//! (`spec/patch.md`).
//!
//! A patch of several modules is one transaction. Every write it makes (a closure's
//! prototype and upvalue array, a rebound upvalue, a table field, a prototype's epoch) is
//! logged with what undoes it before it is made; a failure at any step replays the log
//! backwards, so module tables, cells, prototypes and `package.loaded` are exactly as
//! before, and the caller's hooks cancel the side effects the new chunks started.
//!
//! Costs: matching is O(prototypes + upvalues); the in-place swap walks the live closures
//! of the changed prototypes once (each prototype lists its closures); the module table
//! is walked once.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::time::SystemTime;

use hotlua_compiler::opcode::OpCode;

use super::identity::{compare, decl_display, display_path, is_module_decl, Change, Index};
use super::registry::{self, same_str, tag_tree, FieldChange, Undo, Version};
use super::report::{FrameReport, ModuleReport, PatchError, Report, Step, VersionInfo};
use crate::function::{FnProto, LuaClosure, UpvalCell};
use crate::gc::Gc;
use crate::string::LuaStr;
use crate::table::Table;
use crate::thread::FrameKind;
use crate::value::Value;
use crate::Vm;

/// One module to patch: its name (as `require` was given it) and its new source.
#[derive(Clone, Debug)]
pub struct Request {
    pub name: String,
    pub source: Vec<u8>,
    /// The chunk name to compile it under (`@path`); empty: the running version's.
    pub chunkname: String,
}

/// What to do about frames running a changed function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FramePolicy {
    /// Each frame started before the patch finishes on the old version, and so do the
    /// calls it makes to functions of the same patch (no frame mixes versions).
    #[default]
    FinishOld,
    /// Refuse the patch while a changed function is running.
    Refuse,
}

/// Options of a transaction.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub frames: FramePolicy,
    /// A state variable whose type changed is a conflict that refuses the patch.
    pub strict: bool,
    /// Merge kept plain state tables additively (new keys only). Default true.
    pub merge: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            frames: FramePolicy::FinishOld,
            strict: false,
            merge: true,
        }
    }
}

/// The caller's part of a transaction: side effects and verification, which live outside
/// the VM (the event loop's timers and tasks, a Lua `verify` function).
pub trait Hooks {
    /// Before the new chunks run.
    fn begin(&mut self, _vm: &mut Vm) {}
    /// After everything is patched, before the commit: an `Err` rolls the patch back.
    fn verify(&mut self, _vm: &mut Vm, _report: &Report) -> Result<(), String> {
        Ok(())
    }
    /// The transaction committed.
    fn commit(&mut self, _vm: &mut Vm) {}
    /// The transaction was rolled back (after `begin`): cancel what the chunks started.
    fn rollback(&mut self, _vm: &mut Vm) {}
}

/// Hooks that do nothing.
pub struct NoHooks;
impl Hooks for NoHooks {}

/// One module's part of a transaction.
struct Work {
    rec: usize,
    name: String,
    /// The running version's tree and the target one.
    old_root: Gc<FnProto>,
    new_root: Gc<FnProto>,
    /// Matched prototypes that differ (old, new, how).
    pairs: Vec<(Gc<FnProto>, Gc<FnProto>, Change)>,
    /// Matched prototypes that are identical (old, new).
    same: Vec<(Gc<FnProto>, Gc<FnProto>)>,
    /// `same` by the new prototype's address.
    same_by_new: HashMap<usize, Gc<FnProto>>,
    /// Old prototypes whose declaration the new version no longer has.
    removed: HashSet<usize>,
    old_index: Index,
    new_index: Index,
    report: ModuleReport,
    /// The new chunk's main closure and what it returned (apply only).
    new_main: Option<Gc<LuaClosure>>,
    new_value: Value,
    /// The module's state cells by declaration.
    cells: CellMap,
    /// The live module value (what `package.loaded` holds).
    live: Value,
    fields: Vec<FieldChange>,
    /// A rollback to an earlier version (no chunk runs; fields are restored).
    rollback: bool,
}

/// The prototype of the running version that `p` stands for: `p` itself, or the latest of
/// the identical prototypes later versions gave the same declaration.
pub fn resolve(mut p: Gc<FnProto>) -> Gc<FnProto> {
    while let Some(n) = p.get().successor.get() {
        p = n;
    }
    p
}

fn fail(step: Step, module: Option<&str>, message: impl Into<String>) -> PatchError {
    PatchError {
        step,
        module: module.map(str::to_string),
        message: message.into(),
    }
}

fn loaded_table(vm: &mut Vm) -> Option<Gc<Table>> {
    let k = vm.new_str("_LOADED");
    match vm.registry().get().get_str(k) {
        Value::Table(t) => Some(t),
        _ => None,
    }
}

/// The dry run: compiles and matches every module and reports what a patch would do,
/// changing nothing (no chunk runs; types are compared with what the new chunk assigns
/// its top-level locals when that is a constant, a table or a function).
pub fn plan(vm: &mut Vm, reqs: &[Request], opts: &Options) -> Report {
    let mut report = Report {
        ok: true,
        ..Report::default()
    };
    for r in reqs {
        match prepare(vm, r) {
            Ok(mut w) => {
                analyse(vm, &mut w);
                static_type_changes(vm, &mut w);
                if let Err(e) = check(&w, opts) {
                    report.ok = false;
                    report.error.get_or_insert(e);
                }
                report.modules.push(w.report);
            }
            Err(e) => {
                report.ok = false;
                report.modules.push(ModuleReport {
                    name: r.name.clone(),
                    ..ModuleReport::default()
                });
                report.error.get_or_insert(e);
            }
        }
    }
    report
}

/// Patches every module in one transaction: compile all, run the new chunks, match,
/// check, swap in place, `hooks.verify`, commit; any failure rolls everything back.
pub fn apply(vm: &mut Vm, reqs: &[Request], opts: &Options, hooks: &mut dyn Hooks) -> Report {
    transaction(vm, None, opts, hooks, |vm, epoch| {
        let mut works = Vec::with_capacity(reqs.len());
        for r in reqs {
            let w = prepare(vm, r)?;
            registry::state(vm).pinned_protos.push(w.new_root);
            works.push(w);
        }
        for w in works.iter_mut() {
            analyse(vm, w);
            check(w, opts)?;
        }
        Ok((works, epoch))
    })
}

/// Puts the previous version of module `name` back, in place, through the same engine
/// (state is kept). Answers like [`apply`].
pub fn rollback(vm: &mut Vm, name: &str, opts: &Options, hooks: &mut dyn Hooks) -> Report {
    transaction(vm, Some(name), opts, hooks, |vm, epoch| {
        let st = registry::state(vm);
        let Some(idx) = st.find(name.as_bytes()) else {
            return Err(fail(
                Step::Load,
                Some(name),
                format!("module '{name}' is not loaded"),
            ));
        };
        let rec = &st.modules[idx];
        let Some(&target) = rec.previous.last() else {
            return Err(fail(
                Step::Load,
                Some(name),
                format!("module '{name}' has no previous version"),
            ));
        };
        let old_root = rec.current().root;
        let new_root = rec.versions[target].root;
        let from = rec.current().n;
        let to = rec.versions[target].n;
        let hash = rec.versions[target].hash;
        let mut w = work(idx, name, old_root, new_root);
        w.rollback = true;
        w.report.from = from;
        w.report.to = to;
        w.report.hash = hash;
        analyse(vm, &mut w);
        check(&w, opts)?;
        Ok((vec![w], epoch))
    })
}

/// The versions of module `name`, oldest first (`None`: not a recorded module).
pub fn versions(vm: &Vm, name: &str) -> Option<Vec<VersionInfo>> {
    let st = registry::state_ref(vm)?;
    let rec = &st.modules[st.find(name.as_bytes())?];
    Some(
        rec.versions
            .iter()
            .enumerate()
            .map(|(i, v)| VersionInfo {
                n: v.n,
                hash: v.hash,
                time: v.time,
                current: i == rec.current,
                rolled_back: v.rolled_back,
            })
            .collect(),
    )
}

/// Names of the recorded modules with their running version, in load order.
pub fn modules(vm: &Vm) -> Vec<(String, u32)> {
    match registry::state_ref(vm) {
        Some(st) => st
            .modules
            .iter()
            .map(|r| {
                (
                    String::from_utf8_lossy(r.name.get().as_bytes()).into_owned(),
                    r.current().n,
                )
            })
            .collect(),
        None => Vec::new(),
    }
}

fn work(rec: usize, name: &str, old_root: Gc<FnProto>, new_root: Gc<FnProto>) -> Work {
    Work {
        rec,
        name: name.to_string(),
        old_root,
        new_root,
        pairs: Vec::new(),
        same: Vec::new(),
        same_by_new: HashMap::new(),
        removed: HashSet::new(),
        old_index: Index::new(old_root),
        new_index: Index::new(new_root),
        report: ModuleReport {
            name: name.to_string(),
            ..ModuleReport::default()
        },
        new_main: None,
        new_value: Value::Nil,
        cells: CellMap::default(),
        live: Value::Nil,
        fields: Vec::new(),
        rollback: false,
    }
}

/// Finds the module's record and compiles its new source.
fn prepare(vm: &mut Vm, r: &Request) -> Result<Work, PatchError> {
    let name = r.name.as_str();
    let st = registry::state(vm);
    let Some(idx) = st.find(name.as_bytes()) else {
        return Err(fail(
            Step::Load,
            Some(name),
            format!("module '{name}' is not loaded (require it first)"),
        ));
    };
    let rec = &st.modules[idx];
    let old_root = rec.current().root;
    let from = rec.current().n;
    let next = rec.versions.iter().map(|v| v.n).max().unwrap_or(0) + 1;
    let chunkname = if r.chunkname.is_empty() {
        rec.chunkname.clone()
    } else {
        r.chunkname.clone()
    };
    let p = match hotlua_compiler::compile_module(&r.source, &chunkname) {
        Ok(p) => p,
        Err(e) => return Err(fail(Step::Compile, Some(name), e.message)),
    };
    let new_root = FnProto::instantiate(&mut vm.heap, p);
    let mut w = work(idx, name, old_root, new_root);
    w.report.from = from;
    w.report.to = next;
    w.report.hash = new_root.get().source_hash;
    Ok(w)
}

/// Matches the two trees, lists what changed, counts live closures and finds running
/// frames. Changes nothing.
fn analyse(vm: &mut Vm, w: &mut Work) {
    let rep = &mut w.report;
    for (path, p1) in &w.old_index.entries {
        match w.new_index.get(path) {
            Some(p2) => match compare(p1.get(), p2.get()) {
                Change::Same => {
                    rep.unchanged.push(display_path(path));
                    w.same.push((*p1, p2));
                    w.same_by_new.insert(p2.addr(), *p1);
                }
                c => {
                    if c == Change::Changed {
                        rep.changed.push(display_path(path));
                    } else {
                        rep.moved.push(display_path(path));
                    }
                    w.pairs.push((*p1, p2, c));
                    rep.closures += p1
                        .get()
                        .instances
                        .borrow()
                        .iter()
                        .filter(|c| resolve(c.get().proto()) == *p1)
                        .count();
                }
            },
            None => {
                rep.removed.push(display_path(path));
                w.removed.insert(p1.addr());
            }
        }
    }
    for (path, _) in &w.new_index.entries {
        if w.old_index.get(path).is_none() {
            rep.added.push(display_path(path));
        }
    }
    for l in [
        &mut rep.changed,
        &mut rep.moved,
        &mut rep.added,
        &mut rep.removed,
        &mut rep.unchanged,
    ] {
        l.sort();
    }
    // Module state: the main functions' upvalues (after `_ENV`).
    let old_decls = &w.old_root.get().upval_decls;
    let new_decls = &w.new_root.get().upval_decls;
    let old_set: HashSet<&[u8]> = old_decls.iter().map(|d| d.get().as_bytes()).collect();
    let new_set: HashSet<&[u8]> = new_decls.iter().map(|d| d.get().as_bytes()).collect();
    for d in new_decls.iter() {
        let b = d.get().as_bytes();
        if b == b"_ENV" {
            continue;
        }
        if old_set.contains(b) {
            rep.upvalues.kept.push(decl_display(b));
        } else {
            rep.upvalues.new.push(decl_display(b));
        }
    }
    for d in old_decls.iter() {
        let b = d.get().as_bytes();
        if b != b"_ENV" && !new_set.contains(b) {
            rep.upvalues.dropped.push(decl_display(b));
        }
    }
    rep.upvalues.kept.sort();
    rep.upvalues.new.sort();
    rep.upvalues.dropped.sort();
    // Upvalues of changed functions that capture an enclosing function's local the old
    // version did not capture.
    for (p1, p2, _) in &w.pairs {
        let (a, b) = (p1.get(), p2.get());
        for (i, d) in b.upval_decls.iter().enumerate() {
            if is_module_decl(d.get().as_bytes()) || a.upval_decls.iter().any(|o| same_str(*o, *d))
            {
                continue;
            }
            let path = display_path(w.new_index.path_of(*p2).unwrap_or_default());
            let name = String::from_utf8_lossy(b.upval_names[i].get().as_bytes()).into_owned();
            rep.upvalues.fresh.push(format!("{path}.{name}"));
        }
    }
    rep.upvalues.fresh.sort();
    // Frames inside changed functions, in every thread.
    let changed: HashSet<usize> = w
        .pairs
        .iter()
        .filter(|(_, _, c)| *c == Change::Changed)
        .map(|(p, _, _)| p.addr())
        .collect();
    if !changed.is_empty() {
        let threads: Vec<_> = vm.heap.threads().to_vec();
        for co in threads {
            let hit = co
                .get()
                .frames
                .iter()
                .rev()
                .find_map(|ci| match (ci.kind, ci.proto) {
                    (FrameKind::Lua, Some(p)) if changed.contains(&p.addr()) => Some(p),
                    _ => None,
                });
            if let Some(p) = hit {
                let function = display_path(w.old_index.path_of(p).unwrap_or_default());
                let traceback = vm.traceback_of(co, None, 0);
                registry::state(vm).pins.push(Value::Thread(co));
                rep.frames.push(FrameReport {
                    thread: co,
                    function,
                    traceback,
                });
            }
        }
    }
}

/// The checks of the options that do not need the new chunk to run.
fn check(w: &Work, opts: &Options) -> Result<(), PatchError> {
    if opts.frames == FramePolicy::Refuse {
        if let Some(f) = w.report.frames.first() {
            return Err(fail(
                Step::Check,
                Some(&w.name),
                format!(
                    "function '{}' of module '{}' is running (frames = \"refuse\")",
                    f.function, w.name
                ),
            ));
        }
    }
    if opts.strict {
        if let Some(v) = w.report.upvalues.type_changed.first() {
            return Err(fail(
                Step::Check,
                Some(&w.name),
                format!("'{}' of module '{}' changed type (strict)", v, w.name),
            ));
        }
    }
    Ok(())
}

/// For a plan: the types the new main chunk assigns its top-level locals in straight-line
/// code from a constant, a table constructor or a function, compared with the running
/// values.
fn static_type_changes(vm: &mut Vm, w: &mut Work) {
    let p = w.new_root.get();
    let mut reg: Vec<Option<&'static str>> = vec![None; p.max_stack as usize + 1];
    let mut first: HashMap<usize, &'static str> = HashMap::new();
    let mut seen: HashSet<usize> = HashSet::new();
    let mut skip = false;
    for ins in p.code.iter() {
        if skip {
            skip = false;
            continue;
        }
        let a = ins.a() as usize;
        let set = |reg: &mut Vec<Option<&'static str>>, t: Option<&'static str>| {
            if let Some(r) = reg.get_mut(a) {
                *r = t;
            }
        };
        match ins.op() {
            OpCode::LoadI | OpCode::LoadF => set(&mut reg, Some("number")),
            OpCode::LoadFalse | OpCode::LoadTrue => set(&mut reg, Some("boolean")),
            OpCode::LoadNil => {
                for r in a..=a + ins.b() as usize {
                    if let Some(x) = reg.get_mut(r) {
                        *x = Some("nil");
                    }
                }
            }
            OpCode::LoadK => {
                let t = p.constants.get(ins.bx() as usize).map(|k| k.type_name());
                set(&mut reg, t);
            }
            OpCode::NewTable => {
                set(&mut reg, Some("table"));
                skip = true; // its EXTRAARG
            }
            OpCode::Closure => set(&mut reg, Some("function")),
            OpCode::SetField | OpCode::SetTable | OpCode::SetI | OpCode::SetList => {}
            OpCode::SetUpval => {
                let u = ins.b() as usize;
                if seen.insert(u) {
                    if let Some(Some(t)) = reg.get(a) {
                        first.insert(u, t);
                    }
                }
            }
            _ => reg.iter_mut().for_each(|r| *r = None),
        }
    }
    let cells = module_cells(vm, w);
    for (u, t) in first {
        let d = p.upval_decls[u];
        if let Some(c) = cells.get(d) {
            let live = c.get().get();
            if !live.is_nil() && t != "nil" && live.type_name() != t {
                w.report
                    .upvalues
                    .type_changed
                    .push(decl_display(d.get().as_bytes()));
            }
        }
    }
    w.report.upvalues.type_changed.sort();
}

/// A module's state cells by declaration (module-level declarations only).
#[derive(Default)]
struct CellMap(HashMap<Box<[u8]>, Gc<UpvalCell>>);

impl CellMap {
    fn get(&self, d: Gc<LuaStr>) -> Option<Gc<UpvalCell>> {
        self.0.get(d.get().as_bytes()).copied()
    }

    /// Adds `d -> c` unless `d` is already there or not module-level.
    fn add(&mut self, d: Gc<LuaStr>, c: Gc<UpvalCell>) {
        let b = d.get().as_bytes();
        if is_module_decl(b) && !self.0.contains_key(b) {
            self.0.insert(b.into(), c);
        }
    }
}

/// The module's state cells by declaration: first those the module table's functions
/// use (what the running code sees, even after a script rebound them), then the main
/// closure's, then the retired ones.
fn module_cells(vm: &mut Vm, w: &Work) -> CellMap {
    let mut out = CellMap::default();
    let live = live_value(vm, w);
    if let Value::Table(t) = live {
        let tag = w.rec as u32 + 1;
        let mut k = Value::Nil;
        while let Ok(Some((key, v))) = t.get().next(k) {
            k = key;
            if let Value::LuaFn(c) = v {
                let c = c.get();
                let p = c.proto();
                if p.get().module_idx.get() == tag {
                    for (i, d) in p.get().upval_decls.iter().enumerate() {
                        out.add(*d, c.upval(i));
                    }
                }
            }
        }
    }
    let st = registry::state(vm);
    let rec = &st.modules[w.rec];
    let main = rec.main.get();
    let mp = main.proto();
    for (i, d) in mp.get().upval_decls.iter().enumerate() {
        out.add(*d, main.upval(i));
    }
    for (d, c) in rec.retired.iter() {
        out.add(*d, *c);
    }
    out
}

/// What `package.loaded[name]` holds (the running module), or the recorded value.
fn live_value(vm: &mut Vm, w: &Work) -> Value {
    let recorded = registry::state(vm).modules[w.rec].value;
    let Some(loaded) = loaded_table(vm) else {
        return recorded;
    };
    let k = vm.new_str(&w.name);
    match loaded.get().get_str(k) {
        v @ (Value::Table(_) | Value::LuaFn(_)) => v,
        _ => recorded,
    }
}

type Prepared = (Vec<Work>, u32);

/// Runs a transaction: `prepare` compiles and matches (nothing written yet); then, for
/// `apply`, the new chunks run; then the swap, the module tables, `verify` and the
/// commit. On failure the undo log is replayed.
fn transaction(
    vm: &mut Vm,
    rollback_of: Option<&str>,
    opts: &Options,
    hooks: &mut dyn Hooks,
    prepare: impl FnOnce(&mut Vm, u32) -> Result<Prepared, PatchError>,
) -> Report {
    let st = registry::state(vm);
    if st.busy {
        return Report {
            ok: false,
            error: Some(fail(Step::Busy, None, "a patch is already in progress")),
            ..Report::default()
        };
    }
    st.busy = true;
    st.pins.clear();
    st.pinned_protos.clear();
    st.undo.clear();
    st.epoch += 1;
    let epoch = st.epoch;
    let mut begun = false;
    let mut works: Vec<Work> = Vec::new();
    let r = (|| -> Result<(), PatchError> {
        let (w, _) = prepare(vm, epoch)?;
        works = w;
        hooks.begin(vm);
        begun = true;
        run_chunks(vm, &mut works)?;
        for w in works.iter_mut() {
            w.cells = module_cells(vm, w);
            w.live = live_value(vm, w);
            if w.new_main.is_some() {
                type_changes(w);
                check(w, opts)?;
                check_kinds(w)?;
            }
        }
        for w in works.iter_mut() {
            swap(vm, w, epoch);
            merge_state(vm, w, opts)?;
            module_table(vm, w, opts)?;
            if w.rollback {
                restore_fields(vm, w)?;
            }
        }
        let report = Report {
            ok: true,
            error: None,
            epoch,
            modules: works.iter().map(|w| w.report.clone()).collect(),
        };
        hooks
            .verify(vm, &report)
            .map_err(|m| fail(Step::Verify, None, m))?;
        Ok(())
    })();
    let report = match r {
        Ok(()) => {
            commit(vm, &mut works);
            if begun {
                hooks.commit(vm);
            }
            Report {
                ok: true,
                error: None,
                epoch,
                modules: works.into_iter().map(|w| w.report).collect(),
            }
        }
        Err(e) => {
            undo_all(vm);
            if begun {
                hooks.rollback(vm);
            }
            Report {
                ok: false,
                error: Some(e),
                epoch,
                modules: works.into_iter().map(|w| w.report).collect(),
            }
        }
    };
    let st = registry::state(vm);
    st.busy = false;
    st.undo.clear();
    st.pinned_protos.clear();
    // `pins` keeps the reported threads alive until the next transaction.
    record_log(st, &report, rollback_of);
    report
}

/// Appends the transaction's modules to the patch log (`census::log`).
fn record_log(st: &mut registry::PatchState, r: &Report, rollback_of: Option<&str>) {
    if r.error.as_ref().is_some_and(|e| e.step == Step::Busy) {
        return;
    }
    let who = st.actor.clone().unwrap_or_else(|| "script".to_string());
    let time = std::time::SystemTime::now();
    let action = if rollback_of.is_some() {
        "rollback"
    } else {
        "reload"
    };
    let mut entries: Vec<(String, u32, u32, u64)> = r
        .modules
        .iter()
        .map(|m| (m.name.clone(), m.from, m.to, m.hash))
        .collect();
    if entries.is_empty() {
        // Failed before any module was prepared: log the module the error names.
        let m = r
            .error
            .as_ref()
            .and_then(|e| e.module.clone())
            .or(rollback_of.map(str::to_string))
            .unwrap_or_default();
        entries.push((m, 0, 0, 0));
    }
    for (module, from, to, hash) in entries {
        st.log_seq += 1;
        st.log.push_back(super::census::LogEntry {
            seq: st.log_seq,
            time,
            module,
            action,
            from,
            to,
            hash,
            who: who.clone(),
            ok: r.ok,
            error: r.error.as_ref().map(|e| e.message.clone()),
        });
        if st.log.len() > super::census::LOG_LIMIT {
            st.log.pop_front();
        }
    }
}

/// Runs each new chunk (apply only: a rollback has none) as `require` would, protected.
/// `package.loaded[name]` is restored on rollback whatever the chunk did to it.
fn run_chunks(vm: &mut Vm, works: &mut [Work]) -> Result<(), PatchError> {
    let loaded = loaded_table(vm);
    for w in works.iter_mut() {
        if w.rollback {
            continue;
        }
        let root = w.new_root;
        let n = root.get().upvalues.len();
        let mut ups = Vec::with_capacity(n);
        for i in 0..n {
            let v = if i == 0 {
                Value::Table(vm.globals)
            } else {
                Value::Nil
            };
            ups.push(std::cell::Cell::new(
                vm.heap.alloc(UpvalCell::new_closed(v)),
            ));
        }
        let main = vm.heap.alloc(LuaClosure::new(root, ups));
        root.get().add_instance(main);
        registry::state(vm).pins.push(Value::LuaFn(main));
        if let Some(loaded) = loaded {
            let k = vm.str_value(&w.name);
            let before = loaded.get().get(k);
            registry::state(vm)
                .undo
                .push(Undo::Field(loaded, k, before));
        }
        let name = vm.str_value(&w.name);
        let path = root
            .get()
            .source
            .strip_prefix('@')
            .unwrap_or("")
            .to_string();
        let path = vm.str_value(path);
        match vm.call(Value::LuaFn(main), &[name, path]) {
            Ok(vals) => {
                let v = vals.first().copied().unwrap_or(Value::Nil);
                registry::state(vm).pins.push(v);
                w.new_main = Some(main);
                w.new_value = v;
            }
            Err(e) => {
                let msg = String::from_utf8_lossy(&vm.tostring_basic(e.value)).into_owned();
                return Err(fail(
                    Step::Run,
                    Some(&w.name),
                    format!("error loading module '{}': {}", w.name, msg),
                ));
            }
        }
    }
    Ok(())
}

/// Type changes of kept state variables: the running value against the one the new chunk
/// gave (apply).
fn type_changes(w: &mut Work) {
    let Some(nm) = w.new_main else { return };
    let nm = nm.get();
    let np = nm.proto();
    let decls = &np.get().upval_decls;
    let mut out = Vec::new();
    for (i, d) in decls.iter().enumerate() {
        if d.get().as_bytes() == b"_ENV" {
            continue;
        }
        if let Some(c) = w.cells.get(*d) {
            let (old, new) = (c.get().get(), nm.upval(i).get().get());
            if !old.is_nil() && !new.is_nil() && old.type_name() != new.type_name() {
                out.push(decl_display(d.get().as_bytes()));
            }
        }
    }
    out.sort();
    w.report.upvalues.type_changed = out;
}

/// A module that returned a table must return a table again (and so on).
fn check_kinds(w: &Work) -> Result<(), PatchError> {
    let (old, new) = (w.live, w.new_value);
    let kind = |v: Value| match v {
        Value::Table(_) => "table",
        Value::LuaFn(_) | Value::NativeFn(_) | Value::LightFn(_) => "function",
        _ => "other",
    };
    if kind(old) != "other" && kind(old) != kind(new) {
        return Err(fail(
            Step::Check,
            Some(&w.name),
            format!(
                "the new version of module '{}' returned a {} (the running one returned a {})",
                w.name,
                new.type_name(),
                old.type_name()
            ),
        ));
    }
    Ok(())
}

fn log(vm: &mut Vm, u: Undo) {
    registry::state(vm).undo.push(u);
}

/// The cell a declaration of the module's state has (the running one, else the new
/// chunk's for a variable only the new version declares).
fn state_cell(w: &Work, d: Gc<LuaStr>) -> Option<Gc<UpvalCell>> {
    if let Some(c) = w.cells.get(d) {
        return Some(c);
    }
    let nmg = w.new_main?;
    let nm = nmg.get();
    let np = nm.proto();
    let decls = &np.get().upval_decls;
    decls
        .iter()
        .position(|x| same_str(*x, d))
        .map(|i| nm.upval(i))
}

/// The upvalue array closure `c` (of `p1`) gets when it switches to `p2`: for each upvalue
/// of `p2`, the closure's own cell of the same declaration, else the module's state cell,
/// else a fresh `nil` cell.
fn remap_cells(
    vm: &mut Vm,
    w: &Work,
    c: &LuaClosure,
    p1: &FnProto,
    p2: &FnProto,
) -> Vec<std::cell::Cell<Gc<UpvalCell>>> {
    let mut out = Vec::with_capacity(p2.upval_decls.len());
    for d in p2.upval_decls.iter() {
        let own = p1
            .upval_decls
            .iter()
            .position(|x| same_str(*x, *d))
            .map(|i| c.upval(i));
        let cell = match own {
            Some(cell) if !is_module_decl(d.get().as_bytes()) => cell,
            _ => {
                let module = if is_module_decl(d.get().as_bytes()) {
                    state_cell(w, *d).or(own)
                } else {
                    None
                };
                match module {
                    Some(cell) => cell,
                    None => vm.heap.alloc(UpvalCell::new_closed(Value::Nil)),
                }
            }
        };
        out.push(std::cell::Cell::new(cell));
    }
    out
}

/// The in-place swap: every live closure of a changed or moved prototype switches to its
/// new version; the new chunk's closures are rebound to the module's state cells.
fn swap(vm: &mut Vm, w: &mut Work, epoch: u32) {
    let main = registry::state(vm).modules[w.rec].main;
    for &(p1, p2, _) in &w.pairs {
        let instances = p1.get().instances();
        for c in instances {
            let cp = c.get().proto();
            if resolve(cp) != p1 {
                continue;
            }
            let cells = remap_cells(vm, w, c.get(), cp.get(), p2.get());
            log(vm, Undo::Swap(c));
            c.get().swap(epoch, p2, cells);
            p2.get().add_instance(c);
        }
        log(vm, Undo::Superseded(p1, p1.get().superseded.get()));
        p1.get().superseded.set(epoch);
        log(vm, Undo::Superseded(p2, p2.get().superseded.get()));
        p2.get().superseded.set(0);
    }
    // The main closure holds the module's state: it follows even when the main function's
    // code did not change (its upvalues may have).
    let mp = main.get().proto();
    if resolve(mp) == w.old_root && !w.pairs.iter().any(|(p1, _, _)| *p1 == w.old_root) {
        let cells = remap_cells(vm, w, main.get(), mp.get(), w.new_root.get());
        log(vm, Undo::Swap(main));
        main.get().swap(epoch, w.new_root, cells);
        w.new_root.get().add_instance(main);
    }
    // The new chunk's own closures (its module table's functions, a timer it started):
    // their module-level upvalues join the running state.
    for (_, p2) in &w.new_index.entries {
        let list = p2.get().instances.borrow();
        for &c in list.iter() {
            let cl = c.get();
            // The new main closure keeps its cells: they hold the new chunk's values of
            // the state variables (merged below, compared for type changes).
            if cl.proto() != *p2 || c == main || Some(c) == w.new_main {
                continue;
            }
            for (i, d) in p2.get().upval_decls.iter().enumerate() {
                if !is_module_decl(d.get().as_bytes()) {
                    continue;
                }
                if let Some(cell) = w.cells.get(*d) {
                    let cur = cl.upval(i);
                    if cur != cell {
                        log(vm, Undo::Upval(c, i, cur));
                        cl.upvals()[i].set(cell);
                    }
                }
            }
        }
    }
}

fn key_name(k: Value) -> String {
    match k {
        Value::Str(s) => String::from_utf8_lossy(s.get().as_bytes()).into_owned(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        other => format!("<{}>", other.type_name()),
    }
}

fn set_field(
    vm: &mut Vm,
    w: &mut Work,
    t: Gc<Table>,
    k: Value,
    v: Value,
    record: bool,
) -> Result<(), PatchError> {
    let before = t.get().get(k);
    log(vm, Undo::Field(t, k, before));
    vm.raw_set(t, k, v).map_err(|e| {
        let m = String::from_utf8_lossy(&vm.tostring_basic(e.value)).into_owned();
        fail(Step::Run, Some(&w.name), m)
    })?;
    if record {
        w.fields.push(FieldChange {
            table: t,
            key: k,
            before,
            after: v,
        });
    }
    Ok(())
}

/// A table without a metatable (only those are merged).
fn plain(v: Value) -> Option<Gc<Table>> {
    match v {
        Value::Table(t) if t.get().metatable.is_none() => Some(t),
        _ => None,
    }
}

/// Adds to `old` the keys of `new` it lacks.
fn merge_into(
    vm: &mut Vm,
    w: &mut Work,
    label: &str,
    old: Gc<Table>,
    new: Gc<Table>,
) -> Result<(), PatchError> {
    if old == new {
        return Ok(());
    }
    let mut k = Value::Nil;
    let mut adds = Vec::new();
    while let Ok(Some((key, v))) = new.get().next(k) {
        k = key;
        if old.get().get(key).is_nil() {
            adds.push((key, v));
        }
    }
    for (key, v) in adds {
        set_field(vm, w, old, key, v, false)?;
        w.report
            .fields
            .merged
            .push(format!("{}.{}", label, key_name(key)));
    }
    Ok(())
}

/// Kept module locals holding plain tables get the keys the new chunk's tables add.
fn merge_state(vm: &mut Vm, w: &mut Work, opts: &Options) -> Result<(), PatchError> {
    let Some(nm) = w.new_main else { return Ok(()) };
    if !opts.merge {
        return Ok(());
    }
    let decls: Vec<Gc<LuaStr>> = nm.get().proto().get().upval_decls.to_vec();
    for (i, d) in decls.iter().enumerate() {
        let Some(live) = w.cells.get(*d) else {
            continue;
        };
        let newc = nm.get().upval(i);
        if live == newc || d.get().as_bytes() == b"_ENV" {
            continue;
        }
        let (lv, nv) = (live.get().get(), newc.get().get());
        // The module table itself follows the module table rule instead.
        if lv.raw_eq(&w.live) || nv.raw_eq(&w.new_value) {
            continue;
        }
        if let (Some(o), Some(n)) = (plain(lv), plain(nv)) {
            let label = decl_display(d.get().as_bytes());
            merge_into(vm, w, &label, o, n)?;
        }
    }
    Ok(())
}

/// The names a new module table declares as state to keep: `__keep = {"a", "b"}` or
/// `__keep = {a = true}`.
fn keep_set(t: Gc<Table>, vm: &mut Vm) -> Vec<Value> {
    let k = vm.str_value("__keep");
    let Value::Table(keep) = t.get().get(k) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut key = Value::Nil;
    while let Ok(Some((kk, v))) = keep.get().next(key) {
        key = kk;
        match (kk, v) {
            (Value::Int(_), name @ Value::Str(_)) => out.push(name),
            (name @ Value::Str(_), v) if v.is_truthy() => out.push(name),
            _ => {}
        }
    }
    out
}

/// The module table rule (`spec/patch.md`): functions of the new chunk are updated in
/// place or installed; other fields take the new value unless declared in `__keep`
/// (kept, plain tables merged additively); fields the new chunk does not define stay,
/// except functions of a removed declaration.
fn module_table(vm: &mut Vm, w: &mut Work, opts: &Options) -> Result<(), PatchError> {
    let (Value::Table(old), Value::Table(new)) = (w.live, w.new_value) else {
        return Ok(());
    };
    if let Some(loaded) = loaded_table(vm) {
        let k = vm.str_value(&w.name);
        if !loaded.get().get(k).raw_eq(&w.live) {
            set_field(vm, w, loaded, k, w.live, false)?;
        }
    }
    if old == new {
        return Ok(());
    }
    let keep = keep_set(new, vm);
    let mut entries = Vec::new();
    let mut k = Value::Nil;
    while let Ok(Some((key, v))) = new.get().next(k) {
        k = key;
        entries.push((key, v));
    }
    for (key, v) in entries {
        let cur = old.get().get(key);
        let name = key_name(key);
        let new_fn = match v {
            Value::LuaFn(c) if w.new_index.contains(c.get().proto()) => Some(c),
            _ => None,
        };
        if let Some(c) = new_fn {
            if let Value::LuaFn(oc) = cur {
                // The running closure of the same declaration: updated in place (or
                // identical): the field keeps it.
                let p2 = c.get().proto();
                let op = resolve(oc.get().proto());
                if op == p2 || w.same_by_new.get(&p2.addr()) == Some(&op) {
                    w.report.fields.updated.push(name);
                    continue;
                }
            }
        } else if keep.iter().any(|x| x.raw_eq(&key)) && !cur.is_nil() {
            if let (true, Some(o), Some(n)) = (opts.merge, plain(cur), plain(v)) {
                merge_into(vm, w, &name, o, n)?;
            }
            w.report.fields.kept.push(name);
            continue;
        } else if cur.raw_eq(&v) {
            continue;
        }
        if cur.is_nil() {
            w.report.fields.added.push(name);
        } else {
            w.report.fields.replaced.push(name);
        }
        set_field(vm, w, old, key, v, true)?;
    }
    // Fields the new chunk does not define.
    let mut k = Value::Nil;
    let mut gone = Vec::new();
    while let Ok(Some((key, v))) = old.get().next(k) {
        k = key;
        if !new.get().get(key).is_nil() {
            continue;
        }
        let removed_fn = match v {
            Value::LuaFn(c) => w.removed.contains(&resolve(c.get().proto()).addr()),
            _ => false,
        };
        if removed_fn {
            gone.push(key);
        } else {
            w.report.fields.kept.push(key_name(key));
        }
    }
    for key in gone {
        w.report.fields.removed.push(key_name(key));
        set_field(vm, w, old, key, Value::Nil, true)?;
    }
    let f = &mut w.report.fields;
    for l in [
        &mut f.updated,
        &mut f.replaced,
        &mut f.added,
        &mut f.removed,
        &mut f.kept,
        &mut f.merged,
    ] {
        l.sort();
    }
    Ok(())
}

/// A rollback puts back the module-table fields the undone version's patch wrote, where
/// they still hold what it wrote.
fn restore_fields(vm: &mut Vm, w: &mut Work) -> Result<(), PatchError> {
    let changes: Vec<(Gc<Table>, Value, Value, Value)> = {
        let st = registry::state(vm);
        let rec = &st.modules[w.rec];
        rec.current()
            .fields
            .iter()
            .rev()
            .map(|f| (f.table, f.key, f.before, f.after))
            .collect()
    };
    for (t, k, before, after) in changes {
        let name = key_name(k);
        if t.get().get(k).raw_eq(&after) {
            if before.is_nil() {
                w.report.fields.removed.push(name);
            } else {
                w.report.fields.replaced.push(name);
            }
            set_field(vm, w, t, k, before, false)?;
        } else {
            w.report.fields.kept.push(name);
        }
    }
    w.report.fields.removed.sort();
    w.report.fields.replaced.sort();
    w.report.fields.kept.sort();
    Ok(())
}

/// Replays the undo log backwards.
fn undo_all(vm: &mut Vm) {
    let log = std::mem::take(&mut registry::state(vm).undo);
    for u in log.into_iter().rev() {
        match u {
            Undo::Swap(c) => {
                c.get().unswap();
            }
            Undo::Superseded(p, e) => p.get().superseded.set(e),
            Undo::Upval(c, i, cell) => c.get().upvals()[i].set(cell),
            Undo::Field(t, k, v) => {
                // Restoring a key the table had, or removing one the patch added: no
                // growth (a removed key's slot stays until the next rehash).
                let _ = vm.raw_set(t, k, v);
            }
        }
    }
}

/// Makes the transaction's versions current.
fn commit(vm: &mut Vm, works: &mut [Work]) {
    let now = SystemTime::now();
    for w in works.iter_mut() {
        let fields = std::mem::take(&mut w.fields);
        let st = registry::state(vm);
        let rec = &mut st.modules[w.rec];
        // Locals the new version no longer declares: their cells are set aside.
        let main = rec.main.get();
        let new_decls = &w.new_root.get().upval_decls;
        for p in main.history().iter().rev().take(1) {
            let old_decls = &p.proto.get().upval_decls;
            for (i, d) in old_decls.iter().enumerate() {
                if !new_decls.iter().any(|n| same_str(*n, *d))
                    && !rec.retired.iter().any(|(x, _)| same_str(*x, *d))
                {
                    if let Some(cell) = main.upvals_for(p.proto).map(|u| u[i].get()) {
                        rec.retired.push((*d, cell));
                    }
                }
            }
        }
        let target = rec.versions.iter().position(|v| v.root == w.new_root);
        let n = match target {
            Some(t) => {
                // A rollback: the version that was current is undone.
                rec.versions[rec.current].rolled_back = true;
                rec.previous.pop();
                rec.current = t;
                rec.versions[t].n
            }
            None => {
                rec.versions.push(Version {
                    n: w.report.to,
                    hash: w.report.hash,
                    time: now,
                    root: w.new_root,
                    fields,
                    rolled_back: false,
                });
                rec.previous.push(rec.current);
                rec.current = rec.versions.len() - 1;
                w.report.to
            }
        };
        if w.old_root.get().version.get() == 0 {
            // The first patch: the loaded version is v1 from now on, in tracebacks too.
            tag_tree(w.old_root, w.rec, 1);
        }
        tag_tree(w.new_root, w.rec, n);
        // The new tree is the running one; identical prototypes of the old one: their
        // closures now count as the new one's.
        for (_, p) in &w.new_index.entries {
            p.get().successor.set(None);
        }
        for &(p1, p2) in &w.same {
            if p1 == p2 {
                continue;
            }
            p1.get().successor.set(Some(p2));
            let moved = std::mem::take(&mut *p1.get().instances.borrow_mut());
            p2.get().instances.borrow_mut().extend(moved);
        }
    }
}

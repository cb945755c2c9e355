//! `silly.patch`: the hot reload API of the guide (`new`, `collectupval`, `join`), written in
//! Rust over the VM's closures and upvalue cells.
//!
//! `collectupval` takes a *snapshot* in Rust: each function of the module and, transitively,
//! each Lua closure reached through upvalues, with its upvalues' values and cell identities
//! at that moment. The Lua tree the guide reads,
//! `{ [fname] = { val = fn, upvals = { [name] = { idx, utype, val, upid, upvals? } } } }`, is
//! built from the snapshot lazily, the first time a script looks into a table (`__index`,
//! `__pairs`), so a reload that only joins builds no Lua tables at all. One `upvals` map is
//! made per closure, so a recursive or shared helper appears as one table (a graph).
//!
//! `join` works on the snapshots directly when both trees are untouched; when a script has
//! looked into (and so may have edited) a tree, it reads the Lua tables instead, so edits
//! are respected. Both paths apply the same rules (`decide`); `spec/patch.md` states them.
//!
//! Cost: a reload is dominated by reading each closure, its prototype's names and its cells
//! (scattered heap objects), so the snapshot is flat vectors filled in one pass, closures
//! are deduplicated with an open-addressing map kept between calls (`Scratch`), and join
//! allocates nothing per function: old functions are found at the same position of the old
//! module first (both versions usually build their table in the same order), and paths
//! are formatted only for what is reported.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use hotlua_vm::api::Args;
use hotlua_vm::function::LuaClosure;
use hotlua_vm::gc::Gc;
use hotlua_vm::patch::upvalue_join;
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
// Scratch space kept between calls

/// Buffers reused by every `collectupval` and `join` of the thread, so a reload allocates
/// (and so adds GC debt) only for the snapshots themselves. Taken out of the thread-local
/// for the duration of a call: a nested call (a `__tostring` run while formatting a path)
/// simply gets fresh buffers.
#[derive(Default)]
struct Scratch {
    /// Collect: closure address -> closure snapshot index.
    seen: AddrMap,
    /// Collect: closure snapshots whose upvalues are still to be read.
    work: Vec<u32>,
    /// Collect: collectable upvalue values, kept alive with the snapshot.
    extra: Vec<Value>,
    /// Join: per new closure, the old closure it was first visited with (0: not yet).
    visited: Vec<usize>,
    /// Join: pairs to visit (new closure, old closure or `NONE`, path).
    work2: Vec<(u32, u32, u32)>,
}

thread_local! {
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

fn take_scratch() -> Box<Scratch> {
    SCRATCH.with(|s| s.take()).unwrap_or_default()
}

fn put_scratch(s: Box<Scratch>) {
    SCRATCH.with(|c| c.set(Some(s)));
}

/// An open-addressing map from an object address (never 0) to a `u32`. Entries of earlier
/// uses are told apart by a generation stamp, so emptying it is O(1) and its memory is
/// reused from call to call.
#[derive(Default)]
struct AddrMap {
    slots: Vec<Slot>,
    generation: u32,
    len: usize,
    shift: u32,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    addr: usize,
    generation: u32,
    val: u32,
}

impl AddrMap {
    /// Empties the map, with room for about `expect` entries.
    fn reset(&mut self, expect: usize) {
        let want = (expect * 2 + 16).next_power_of_two();
        if self.slots.len() < want || self.generation == u32::MAX {
            let n = want.max(self.slots.len());
            self.slots.clear();
            self.slots.resize(n, Slot::default());
            self.generation = 0;
        }
        self.generation += 1;
        self.len = 0;
        self.shift = 64 - self.slots.len().trailing_zeros();
    }

    #[inline]
    fn home(&self, addr: usize) -> usize {
        // Fibonacci hashing: heap addresses differ in their middle bits, the top bits of
        // the product mix them all.
        ((addr as u64 >> 4).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// The value stored for `addr`, or, when absent, stores `val` and returns `None`.
    #[inline]
    fn get_or_insert(&mut self, addr: usize, val: u32) -> Option<u32> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(addr);
        loop {
            let s = &mut self.slots[i];
            if s.generation != self.generation {
                *s = Slot {
                    addr,
                    generation: self.generation,
                    val,
                };
                self.len += 1;
                return None;
            }
            if s.addr == addr {
                return Some(s.val);
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let live: Vec<Slot> = self
            .slots
            .iter()
            .filter(|s| s.generation == self.generation)
            .copied()
            .collect();
        let n = (self.slots.len() * 2).max(32);
        self.slots.clear();
        self.slots.resize(n, Slot::default());
        self.generation = 1;
        self.len = 0;
        self.shift = 64 - n.trailing_zeros();
        for s in live {
            self.get_or_insert(s.addr, s.val);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Snapshots

/// An upvalue of a closure at collect time, as join reads it. Its 0-based index is its
/// position among its closure's upvalues; its cell identity and inner closure are kept
/// apart (`Snapshot::upids`, `Snapshot::children`) so that what join reads is small.
struct UpSnap {
    val: Value,
    /// The upvalue's (interned) name.
    name: Name,
}

/// No closure snapshot (a native function, or an old function that does not exist).
const NO_CHILD: u32 = u32::MAX;

/// Asks the CPU to start loading the cache line at `p`. Reading a module's closures is a
/// chain of dependent loads (closure, prototype, names, cells) over objects scattered in
/// the heap: started a few closures ahead, those loads overlap instead of queueing.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults and has no effect on memory, so
    // any address is fine.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// How many module fields ahead `snapshot_join` starts loading their closures.
const AHEAD: usize = 8;

/// A Lua closure at collect time; its upvalues are `Snapshot::ups[first..first + count]`.
struct ClosureSnap {
    f: Gc<LuaClosure>,
    first: u32,
    count: u32,
}

impl ClosureSnap {
    fn new(f: Gc<LuaClosure>) -> ClosureSnap {
        ClosureSnap {
            f,
            first: 0,
            count: 0,
        }
    }
}

/// What one `collectupval` call saw. The module's function fields are the first values of
/// `vals` (key, value, key, value...), which also holds every collectable upvalue value.
/// The snapshot is the payload of its userdata and traces `vals` and its closures itself:
/// nothing it refers to dies while it lives, and nothing a script can reach (the userdata
/// has no user values) unroots them.
///
/// Closures are deduplicated (one snapshot per closure) from the first closure-valued
/// upvalue on (`mapped`): before that, the module's functions are taken as they come, so a
/// function stored under two keys has two (identical) snapshots. Without any closure-valued
/// upvalue such duplicates only matter to which paths join reports (`snapshot_join`).
#[derive(Default)]
struct Snapshot {
    /// Module form: per function field, its closure snapshot (`NO_CHILD` if native).
    entry_ci: Vec<u32>,
    closures: Vec<ClosureSnap>,
    ups: Vec<UpSnap>,
    /// Per upvalue (as `ups`), the cell's address: its identity (what
    /// `hotlua_vm::patch::upvalue_id` makes a light userdata of), never dereferenced.
    upids: Vec<usize>,
    /// (index in `ups`, closure snapshot) of each upvalue holding a Lua closure, by index.
    children: Vec<(u32, u32)>,
    /// Function form: the closure collected.
    root: Option<u32>,
    /// Closures are deduplicated through `Scratch::seen` (some upvalue holds a closure).
    mapped: bool,
    /// Two snapshots of one closure were found when deduplication started.
    dup: bool,
    /// The module's fields (key, function, ...) then the collectable upvalue values.
    vals: Vec<Value>,
}

impl hotlua_vm::userdata::Payload for Snapshot {
    fn trace(&self, m: &mut hotlua_vm::gc::Marker) {
        m.mark_values(&self.vals);
        for c in &self.closures {
            m.mark(c.f);
        }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// Snapshot buffers of dead snapshots, reused so that a reload writes into memory it has
/// written before rather than fresh pages.
type Buffers = (
    Vec<u32>,
    Vec<ClosureSnap>,
    Vec<UpSnap>,
    Vec<usize>,
    Vec<(u32, u32)>,
);

thread_local! {
    static POOL: Cell<Vec<Buffers>> = const { Cell::new(Vec::new()) };
}

/// How many sets of buffers the pool keeps.
const POOL_MAX: usize = 4;

impl Drop for Snapshot {
    fn drop(&mut self) {
        let mut bufs = (
            std::mem::take(&mut self.entry_ci),
            std::mem::take(&mut self.closures),
            std::mem::take(&mut self.ups),
            std::mem::take(&mut self.upids),
            std::mem::take(&mut self.children),
        );
        bufs.0.clear();
        bufs.1.clear();
        bufs.2.clear();
        bufs.3.clear();
        bufs.4.clear();
        // At thread exit the pool may be gone already: then the buffers are just freed.
        let _ = POOL.try_with(|p| {
            let mut pool = p.take();
            if pool.len() < POOL_MAX {
                pool.push(bufs);
            }
            p.set(pool);
        });
    }
}

impl Snapshot {
    /// An empty snapshot, with buffers from the pool when there are some.
    fn from_pool() -> Snapshot {
        let bufs = POOL
            .try_with(|p| {
                let mut pool = p.take();
                let b = pool.pop();
                p.set(pool);
                b
            })
            .ok()
            .flatten()
            .unwrap_or_default();
        Snapshot {
            entry_ci: bufs.0,
            closures: bufs.1,
            ups: bufs.2,
            upids: bufs.3,
            children: bufs.4,
            root: None,
            mapped: false,
            dup: false,
            vals: Vec::new(),
        }
    }
}

/// A snapshot with the user values holding its module fields.
#[derive(Clone, Copy)]
struct SnapRef {
    snap: &'static Snapshot,
    vals: &'static [Value],
}

impl SnapRef {
    fn entries(&self) -> usize {
        self.snap.entry_ci.len()
    }
    /// Module field `e`: (key, function, closure snapshot or `NO_CHILD`).
    #[inline]
    fn entry(&self, e: usize) -> (Value, Value, u32) {
        (
            self.vals[2 * e],
            self.vals[2 * e + 1],
            self.snap.entry_ci[e],
        )
    }
    #[inline]
    fn ups_of(&self, ci: u32) -> &'static [UpSnap] {
        let c = &self.snap.closures[ci as usize];
        &self.snap.ups[c.first as usize..(c.first + c.count) as usize]
    }
    /// The closure snapshot of upvalue `idx` of closure snapshot `ci` (`NO_CHILD`).
    #[inline]
    fn child(&self, ci: u32, idx: usize) -> u32 {
        let u = self.snap.closures[ci as usize].first + idx as u32;
        match self.snap.children.binary_search_by_key(&u, |c| c.0) {
            Ok(i) => self.snap.children[i].1,
            Err(_) => NO_CHILD,
        }
    }
    /// The cell identity of upvalue `idx` of closure snapshot `ci` at collect time.
    fn upid(&self, ci: u32, idx: usize) -> usize {
        self.snap.upids[self.snap.closures[ci as usize].first as usize + idx]
    }
    #[inline]
    fn f(&self, ci: u32) -> Gc<LuaClosure> {
        self.snap.closures[ci as usize].f
    }
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
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
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

/// Builds one snapshot; `vals` becomes the userdata's user values.
struct Collector<'s> {
    snap: Snapshot,
    vals: Vec<Value>,
    scratch: &'s mut Scratch,
}

impl Collector<'_> {
    /// The snapshot index of closure `f`, collecting it (and what it reaches) if new.
    /// Iterative, so a long chain of nested closures cannot overflow the Rust stack.
    fn closure(&mut self, f: Gc<LuaClosure>) -> u32 {
        let ci = self.snap.closures.len() as u32;
        self.snap.closures.push(ClosureSnap::new(f));
        self.read(ci);
        self.drain();
        ci
    }

    /// Reads the closures queued by `read`.
    #[inline]
    fn drain(&mut self) {
        while let Some(gi) = self.scratch.work.pop() {
            self.read(gi);
        }
    }

    /// Reads the module functions, which are `closures[..n]`, and what they reach.
    fn roots(&mut self, n: usize) {
        // The common shape: a few upvalues per function.
        self.snap.ups.reserve(3 * n);
        self.snap.upids.reserve(3 * n);
        for ci in 0..n {
            self.ahead(ci);
            self.read(ci as u32);
            self.drain();
        }
    }

    /// Starts loading what `read` of the next closures will need.
    #[inline(always)]
    fn ahead(&self, ci: usize) {
        let cl = &self.snap.closures;
        if let Some(c) = cl.get(ci + 32) {
            prefetch(c.f.get());
        }
        if let Some(c) = cl.get(ci + 16) {
            let g = c.f.get();
            prefetch(&g.proto().get().upval_names);
            prefetch(g.upvals().as_ptr());
        }
        if let Some(c) = cl.get(ci + 8) {
            let g = c.f.get();
            prefetch(g.proto().get().upval_names.as_ptr());
            if let Some(cell) = g.upvals().first() {
                prefetch(cell.get().get());
            }
        }
    }

    /// From now on closures are deduplicated: the map starts with every closure so far.
    #[cold]
    fn start_map(&mut self) {
        self.snap.mapped = true;
        self.scratch.seen.reset(self.snap.closures.len() + 16);
        for (i, c) in self.snap.closures.iter().enumerate() {
            if self
                .scratch
                .seen
                .get_or_insert(c.f.addr(), i as u32)
                .is_some()
            {
                self.snap.dup = true;
            }
        }
    }

    /// Reads the upvalues of closure snapshot `ci`; closures found among them are added
    /// and queued.
    #[inline]
    fn read(&mut self, ci: u32) {
        let f = self.snap.closures[ci as usize].f;
        let first = self.snap.ups.len();
        let c = f.get();
        let proto = c.proto();
        let names = &proto.get().upval_names;
        let n = c.upvals().len().min(names.len());
        self.snap.ups.extend(
            c.upvals()[..n]
                .iter()
                .zip(names.iter())
                .map(|(cell, name)| UpSnap {
                    val: cell.get().get().get(),
                    name: Name(*name),
                }),
        );
        self.snap
            .upids
            .extend(c.upvals()[..n].iter().map(|cell| cell.get().addr()));
        let end = self.snap.ups.len();
        if self.snap.ups[first..end]
            .iter()
            .any(|u| u.val.is_collectable())
        {
            self.collectables(first, end);
        }
        let c = &mut self.snap.closures[ci as usize];
        c.first = first as u32;
        c.count = (end - first) as u32;
    }

    /// Keeps the collectable values of `ups[first..end]` alive with the snapshot, and adds
    /// (and queues) the closures among them.
    fn collectables(&mut self, first: usize, end: usize) {
        for u in first..end {
            let val = self.snap.ups[u].val;
            if !val.is_collectable() {
                continue;
            }
            self.scratch.extra.push(val);
            if let Value::LuaFn(g) = val {
                if !self.snap.mapped {
                    self.start_map();
                }
                let gi = self.snap.closures.len() as u32;
                let child = match self.scratch.seen.get_or_insert(g.addr(), gi) {
                    Some(i) => i,
                    None => {
                        self.snap.closures.push(ClosureSnap::new(g));
                        self.scratch.work.push(gi);
                        gi
                    }
                };
                self.snap.children.push((u as u32, child));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// collectupval and the lazy Lua view

/// `P:collectupval(module_or_function)`.
fn collectupval(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let target = vm.arg(args, 1);
    let mut scratch = take_scratch();
    let mut c = Collector {
        snap: Snapshot::from_pool(),
        vals: Vec::new(),
        scratch: &mut scratch,
    };
    c.scratch.work.clear();
    c.scratch.extra.clear();
    match target {
        Value::Table(module) => {
            // Reserve for the common shape (a few upvalues per function), so the vectors do
            // not grow step by step.
            let n = module.get().array_len() + module.get().hash_len();
            c.snap.entry_ci.reserve(n);
            c.snap.closures.reserve(n);
            c.vals.reserve(2 * n);
            // First the fields, then the functions.
            let mut pos = 0;
            while let Some((i, k, v)) = module.get().entry_from(pos) {
                pos = i + 1;
                let ci = match v {
                    Value::LuaFn(f) => {
                        c.snap.closures.push(ClosureSnap::new(f));
                        (c.snap.closures.len() - 1) as u32
                    }
                    _ if v.is_function() => NO_CHILD,
                    _ => continue, // a VERSION string or a nested table is not patched
                };
                c.vals.push(k);
                c.vals.push(v);
                c.snap.entry_ci.push(ci);
            }
            let n = c.snap.closures.len();
            c.roots(n);
        }
        Value::LuaFn(f) => {
            c.vals.push(target);
            c.snap.root = Some(c.closure(f));
        }
        v if v.is_function() => {}
        _ => {
            put_scratch(scratch);
            return Err(vm.type_error_arg(args, 1, "table or function"));
        }
    }
    let Collector {
        mut snap, mut vals, ..
    } = c;
    vals.extend_from_slice(&scratch.extra);
    put_scratch(scratch);
    let is_module = matches!(target, Value::Table(_));
    let root = snap.root;
    snap.vals = vals;
    let ud = Value::UserData(vm.heap.new_userdata(UserData::with_payload(snap)));
    let result = if is_module {
        lazy(vm, ud, Lazy::Tree)
    } else {
        match root {
            Some(ci) => {
                let view = View {
                    ud,
                    cache: vm.new_table(),
                };
                let snap = snapshot_of(ud).expect("a snapshot was just made");
                view.upvals_map(vm, snap, ci)
            }
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
    /// The `upvals` map of closure snapshot `ci`, with the cache of maps by closure.
    Upvals(u32, Gc<Table>),
}

/// The Lua side of one snapshot: its userdata and the cache of `upvals` maps by closure
/// (made when the tree is first looked into).
#[derive(Clone, Copy)]
struct View {
    ud: Value,
    cache: Gc<Table>,
}

/// The fields of a lazy table's metatable.
const F_SNAP: &str = "__snap";
const F_CACHE: &str = "__cache";
const F_CLOSURE: &str = "__closure";

/// An empty table that fills itself from snapshot `ud` when first looked into.
fn lazy(vm: &mut Vm, ud: Value, what: Lazy) -> Gc<Table> {
    let t = vm.new_table();
    let mt = vm.new_table();
    set_field(vm, mt, "__index", Value::LightFn(lazy_index));
    set_field(vm, mt, "__pairs", Value::LightFn(lazy_pairs));
    set_field(vm, mt, F_SNAP, ud);
    if let Lazy::Upvals(ci, cache) = what {
        set_field(vm, mt, F_CACHE, Value::Table(cache));
        set_field(vm, mt, F_CLOSURE, Value::Int(ci as i64));
    }
    vm.set_metatable(Value::Table(t), Some(mt));
    t
}

impl View {
    /// The (lazy) `upvals` map of closure snapshot `ci`: one table per closure (the cache
    /// is keyed by the closure, which may have two identical snapshots).
    fn upvals_map(&self, vm: &mut Vm, snap: SnapRef, ci: u32) -> Gc<Table> {
        let f = Value::LuaFn(snap.f(ci));
        if let Value::Table(t) = self.cache.get().get(f) {
            return t;
        }
        let t = lazy(vm, self.ud, Lazy::Upvals(ci, self.cache));
        let _ = vm.raw_set(self.cache, f, Value::Table(t));
        t
    }
}

/// The snapshot userdata behind a lazy table and what the table stands for; `None` for any
/// other table (or one already filled).
fn lazy_of(vm: &mut Vm, t: Gc<Table>) -> Option<(Value, Lazy)> {
    let mt = t.get().metatable?;
    let ud = get_field(vm, mt, F_SNAP);
    let Value::UserData(u) = ud else { return None };
    let closures = u.get().downcast_ref::<Snapshot>()?.closures.len();
    // The metatable is visible to scripts: its fields are checked, not trusted.
    let what = match get_field(vm, mt, F_CLOSURE) {
        Value::Int(ci) => {
            let Value::Table(cache) = get_field(vm, mt, F_CACHE) else {
                return None;
            };
            let ci = u32::try_from(ci)
                .ok()
                .filter(|&c| (c as usize) < closures)?;
            Lazy::Upvals(ci, cache)
        }
        _ => Lazy::Tree,
    };
    Some((ud, what))
}

fn snapshot_of(ud: Value) -> Option<SnapRef> {
    match ud {
        // The payload lives in its own allocation until the userdata is freed, and every
        // caller keeps the userdata on the Lua stack while it uses the reference (a script
        // may drop every other reference meanwhile, e.g. from a `__tostring`). Nothing
        // changes a snapshot once built, and no script can reach its values.
        Value::UserData(u) => {
            let data = u.get();
            let snap = data.downcast_ref::<Snapshot>()?;
            let (sp, vp): (*const Snapshot, *const [Value]) = (snap, &snap.vals[..]);
            // SAFETY: see above.
            Some(unsafe {
                SnapRef {
                    snap: &*sp,
                    vals: &*vp,
                }
            })
        }
        _ => None,
    }
}

/// Fills a lazy table from its snapshot (once: it then loses its metatable, so it is a
/// plain table the script may edit). Does nothing to other tables.
fn force(vm: &mut Vm, t: Gc<Table>) -> Result<(), LuaError> {
    let Some((ud, what)) = lazy_of(vm, t) else {
        return Ok(());
    };
    let snap = snapshot_of(ud).expect("lazy_of checked the snapshot type");
    // Filling the table allocates (and so may collect) once its metatable is gone: the
    // snapshot stays rooted on the stack meanwhile.
    vm.push(ud)?;
    vm.set_metatable(Value::Table(t), None);
    match what {
        Lazy::Tree => {
            let view = View {
                ud,
                cache: vm.new_table(),
            };
            for e in 0..snap.entries() {
                let (k, v, ci) = snap.entry(e);
                let entry = vm.new_table();
                set_field(vm, entry, "val", v);
                let ups = match ci {
                    NO_CHILD => vm.new_table(),
                    ci => view.upvals_map(vm, snap, ci),
                };
                set_field(vm, entry, "upvals", Value::Table(ups));
                vm.raw_set(t, k, Value::Table(entry))?;
            }
        }
        Lazy::Upvals(ci, cache) => {
            let view = View { ud, cache };
            for (i, u) in snap.ups_of(ci).iter().enumerate() {
                let info = vm.new_table();
                set_field(vm, info, "idx", Value::Int(i as i64 + 1));
                let upid = Value::LightUserData(snap.upid(ci, i));
                let utype = vm.str_value(u.val.type_name());
                set_field(vm, info, "utype", utype);
                set_field(vm, info, "val", u.val);
                set_field(vm, info, "upid", upid);
                let child = snap.child(ci, i);
                if child != NO_CHILD {
                    let m = view.upvals_map(vm, snap, child);
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
        (n, o) if n.is_nil() || o.is_nil() || same_type(n, o) => Action::Join,
        _ => Action::Conflict,
    }
}

/// `type(a) == type(b)` for non-function values, without comparing the names.
#[inline]
fn same_type(a: Value, b: Value) -> bool {
    a.type_index() == b.type_index()
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
    let (Some(new_cell), Some(old_cell)) =
        (nf.get().upvals().get(nidx), of.get().upvals().get(oidx))
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

/// Which list of the report a path goes to.
enum Listed {
    Absent,
    Conflict,
}

impl Report {
    fn push(&mut self, list: Listed, path: String) {
        match list {
            Listed::Absent => self.absent.push(path),
            Listed::Conflict => self.conflicts.push(path),
        }
    }
}

/// Joins upvalue `nidx` of `nf`, which the old version of its function lacks, to the old
/// cell of the same variable, or says where to report it (an `_ENV` then gets the
/// globals).
fn join_unmatched(
    vm: &mut Vm,
    vars: &OldVars,
    nf: Gc<LuaClosure>,
    nidx: usize,
    name: Name,
) -> Option<Listed> {
    match vars.get(&name) {
        Some(Some((of, oidx))) => {
            upvalue_join(nf, nidx, *of, *oidx);
            None
        }
        Some(None) => Some(Listed::Conflict),
        None => {
            if name.0.get().as_bytes() == b"_ENV" {
                let g = Value::Table(vm.globals());
                nf.get().upval(nidx).get().set(g);
            }
            Some(Listed::Absent)
        }
    }
}

/// Paths are built only when reported. A path id below the number of module fields `roots`
/// is the path of that field, `$.<key>`; id `roots + i` is `steps[i]`, an upvalue name
/// under a parent path.
struct Paths {
    roots: u32,
    steps: Vec<(u32, Name)>,
}

impl Paths {
    fn push(&mut self, parent: u32, name: Name) -> u32 {
        self.steps.push((parent, name));
        self.roots + (self.steps.len() - 1) as u32
    }

    fn text(&self, vm: &mut Vm, snap: SnapRef, mut id: u32, last: Name) -> String {
        let mut parts: Vec<String> = vec![last.0.get().to_str_lossy().into_owned()];
        while id >= self.roots {
            let (parent, name) = self.steps[(id - self.roots) as usize];
            parts.push(name.0.get().to_str_lossy().into_owned());
            id = parent;
        }
        parts.push(key_text(vm, snap.entry(id as usize).0));
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
            (Some((nud, n)), Some((oud, o))) => {
                // Formatting a reported key may run Lua code (`__tostring`): the snapshots
                // stay on the stack, alive, whatever it does to the trees.
                vm.push(nud)?;
                vm.push(oud)?;
                let mut scratch = take_scratch();
                snapshot_join(vm, &mut report, &mut scratch, n, o);
                put_scratch(scratch);
            }
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

/// The snapshot (and its userdata) of a module tree nobody has looked into yet.
fn untouched_snapshot(vm: &mut Vm, t: Gc<Table>) -> Option<(Value, SnapRef)> {
    match lazy_of(vm, t) {
        Some((ud, Lazy::Tree)) => Some((ud, snapshot_of(ud)?)),
        _ => None,
    }
}

/// The first upvalue named `name` (the scan a function's few upvalues call for). Names
/// are nearly always short, so interned: then the first upvalue with the same string
/// object is the first with the same name.
#[inline]
fn find_up(ups: &[UpSnap], name: Name) -> Option<usize> {
    match ups.iter().position(|u| u.name.0 == name.0) {
        Some(j) if j == 0 || name.0.get().is_short() => Some(j),
        _ => ups.iter().position(|u| u.name == name),
    }
}

/// `rawequal(a, b)` for module keys, with the common case (the same interned string) first.
#[inline]
fn same_key(a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) if x == y => true,
        _ => a.raw_eq(&b),
    }
}

/// Finds the old function of a module key.
struct OldIndex {
    /// Built only when the orders differ (a function added or removed).
    by_key: Option<FastMap<Key, u32>>,
}

impl OldIndex {
    /// The old closure snapshot for new field `e` (key `key`), or `NO_CHILD`.
    #[inline]
    fn find(&mut self, old: SnapRef, e: usize, key: Value) -> u32 {
        if e < old.entries() {
            let (k, _, ci) = old.entry(e);
            if same_key(k, key) {
                return ci;
            }
        }
        self.by_key(old, key)
    }

    /// `find` when the field is not at the same position.
    #[cold]
    #[inline(never)]
    fn by_key(&mut self, old: SnapRef, key: Value) -> u32 {
        let map = self.by_key.get_or_insert_with(|| {
            let mut m = FastMap::default();
            m.reserve(old.entries());
            for i in 0..old.entries() {
                let (k, _, ci) = old.entry(i);
                m.insert(Key(k), ci);
            }
            m
        });
        map.get(&Key(key)).copied().unwrap_or(NO_CHILD)
    }
}

/// The identity of the old side of a pair: the closure's address, 1 for none.
#[inline]
fn old_id(old: SnapRef, oci: u32) -> usize {
    if oci == NO_CHILD {
        1
    } else {
        old.f(oci).addr()
    }
}

/// The fast path: both trees untouched, joined from their snapshots without Lua tables.
///
/// Each module field of the new tree is paired with the old field of the same key (first
/// looked for at the same position: both versions usually build the module table alike,
/// so iteration orders agree), then joined depth first through inner functions. Fields
/// are taken last to first and each (new, old) pair of closures is visited once: the
/// first visit is the one whose paths are reported.
fn snapshot_join(
    vm: &mut Vm,
    report: &mut Report,
    scratch: &mut Scratch,
    new: SnapRef,
    old: SnapRef,
) {
    let ne = new.entries();
    let mut index = OldIndex { by_key: None };
    // Needed only when an upvalue is unmatched, which a reload of unchanged code never has.
    let mut vars: Option<OldVars> = None;
    // Visited pairs. Without closure-valued upvalues in the new tree there is no recursion
    // and each field is one pair: only a function stored under several keys makes a pair
    // repeat, which matters to nothing but the paths reported (joining again is
    // idempotent), so that is checked when a path is reported (`shadowed`). Otherwise, with
    // one snapshot per closure, the old side of the first visit of each new closure is in
    // `visited` (0: none yet) and any further pairs in `more`; with duplicate snapshots
    // (`dup`), pairs are all in `more`, by address.
    let dense = new.snap.mapped && !new.snap.dup;
    let visited = &mut scratch.visited;
    visited.clear();
    if dense {
        visited.resize(new.snap.closures.len(), 0);
    }
    let mut more: HashSet<(usize, usize), BuildHasherDefault<MixHasher>> = HashSet::default();
    let mut paths = Paths {
        roots: ne as u32,
        steps: Vec::new(),
    };
    let work = &mut scratch.work2;
    work.clear();
    for e in (0..ne).rev() {
        // Start loading the closures of the fields a few steps ahead.
        if let Some(a) = e.checked_sub(AHEAD) {
            let (k, _, ci) = new.entry(a);
            if ci != NO_CHILD {
                prefetch(new.f(ci).get());
                if a < old.entries() {
                    let (ok, _, oci) = old.entry(a);
                    if oci != NO_CHILD && same_key(ok, k) {
                        prefetch(old.f(oci).get());
                    }
                }
            }
        }
        let (key, _, nci) = new.entry(e);
        if nci == NO_CHILD {
            continue;
        }
        let oci = index.find(old, e, key);
        // Without recursion (no closure-valued upvalue in the new tree) a field is one
        // pair, and the usual one is joined here in one pass.
        if !new.snap.mapped
            && oci != NO_CHILD
            && join_plain(new.f(nci), new.ups_of(nci), old.f(oci), old.ups_of(oci))
        {
            continue;
        }
        work.push((nci, oci, e as u32));
        while let Some((nci, oci, path)) = work.pop() {
            let nf = new.f(nci);
            if new.snap.mapped {
                let id = old_id(old, oci);
                if dense {
                    let first = &mut visited[nci as usize];
                    if *first == 0 {
                        *first = id;
                    } else if *first == id || !more.insert((nci as usize, id)) {
                        continue;
                    }
                } else if !more.insert((nf.addr(), id)) {
                    continue;
                }
            }
            let (of, old_ups) = if oci == NO_CHILD {
                (None, &[][..])
            } else {
                (Some(old.f(oci)), old.ups_of(oci))
            };
            let new_ups = new.ups_of(nci);
            if let Some(of) = of {
                if join_plain(nf, new_ups, of, old_ups) {
                    continue;
                }
            }
            // Reports of a pair a later field already visited are not made (see above).
            let shadowed = |index: &mut OldIndex| {
                !new.snap.mapped && shadowed(new, old, index, path as usize, nf, oci)
            };
            for (nidx, nu) in new_ups.iter().enumerate() {
                let nname = nu.name;
                let matched = of.and_then(|of| find_up(old_ups, nname).map(|oi| (of, oi)));
                match matched {
                    Some((of, oidx)) => {
                        let ou = &old_ups[oidx];
                        match decide(nu.val, ou.val) {
                            Action::Recurse => {
                                let (nc, oc) = (new.child(nci, nidx), old.child(oci, oidx));
                                if adopt(nf, nidx, of, oidx) && nc != NO_CHILD && oc != NO_CHILD {
                                    let p = paths.push(path, nname);
                                    work.push((nc, oc, p));
                                }
                            }
                            Action::Join => {
                                upvalue_join(nf, nidx, of, oidx);
                            }
                            Action::Conflict => {
                                if !shadowed(&mut index) {
                                    let text = paths.text(vm, new, path, nname);
                                    report.conflicts.push(text);
                                }
                            }
                            Action::Nothing => {}
                        }
                    }
                    None => match nu.val {
                        Value::LuaFn(_) => {
                            let p = paths.push(path, nname);
                            work.push((new.child(nci, nidx), NO_CHILD, p));
                        }
                        v if v.is_function() => {}
                        _ => {
                            let v = vars.get_or_insert_with(|| old_vars(old));
                            if let Some(list) = join_unmatched(vm, v, nf, nidx, nname) {
                                if !shadowed(&mut index) {
                                    let text = paths.text(vm, new, path, nname);
                                    report.push(list, text);
                                }
                            }
                        }
                    },
                }
            }
        }
    }
}

/// The common case of a pair, in one tight pass: both closures have the same upvalue
/// names in the same order and every pair of values is joined (`Action::Join`). Then
/// joins them all and returns true; otherwise changes nothing and returns false (the
/// general loop handles the pair).
#[inline]
fn join_plain(
    nf: Gc<LuaClosure>,
    new_ups: &[UpSnap],
    of: Gc<LuaClosure>,
    old_ups: &[UpSnap],
) -> bool {
    if new_ups.len() != old_ups.len() || old_ups.len() > 8 {
        return false;
    }
    // Each new upvalue is matched with the old one at its position only if that is the
    // first old upvalue of its name: the old names are interned (short) and distinct.
    for (i, o) in old_ups.iter().enumerate() {
        if !o.name.0.get().is_short() || old_ups[..i].iter().any(|p| p.name.0 == o.name.0) {
            return false;
        }
    }
    let plain = new_ups.iter().zip(old_ups).all(|(n, o)| {
        n.name.0 == o.name.0
            && !n.val.is_function()
            && !o.val.is_function()
            && (n.val.is_nil() || o.val.is_nil() || same_type(n.val, o.val))
    });
    if !plain {
        return false;
    }
    // No Lua code runs in this loop: the references do not outlive it.
    let (nslots, oslots) = (&nf.get().upvals(), &of.get().upvals());
    if nslots.len() < new_ups.len() || oslots.len() < old_ups.len() {
        return false;
    }
    for (n, o) in nslots.iter().zip(oslots.iter()).take(new_ups.len()) {
        n.set(o.get());
    }
    true
}

/// Whether a field after field `e` holds the same pair (new closure `nf`, old closure
/// `oci`): that later field was visited first (without recursion, paths are fields).
#[cold]
fn shadowed(
    new: SnapRef,
    old: SnapRef,
    index: &mut OldIndex,
    e: usize,
    nf: Gc<LuaClosure>,
    oci: u32,
) -> bool {
    let id = old_id(old, oci);
    (e + 1..new.entries()).any(|e2| {
        let (k, _, ci) = new.entry(e2);
        ci != NO_CHILD && new.f(ci) == nf && old_id(old, index.find(old, e2, k)) == id
    })
}

/// The old cells of non-function upvalues by variable name (`index_var`).
fn old_vars(old: SnapRef) -> OldVars {
    let mut v = OldVars::default();
    for (ci, c) in old.snap.closures.iter().enumerate() {
        for (idx, u) in old.ups_of(ci as u32).iter().enumerate() {
            if !u.val.is_function() {
                index_var(&mut v, u.name, c.f, idx);
            }
        }
    }
    v
}

/// A name compared as Lua strings are (pointer for interned short strings).
#[derive(Clone, Copy)]
struct Name(Gc<LuaStr>);

impl PartialEq for Name {
    #[inline]
    fn eq(&self, o: &Name) -> bool {
        self.0 == o.0 || str_eq(self.0, o.0)
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

fn tree_join(
    vm: &mut Vm,
    report: &mut Report,
    up_new: Gc<Table>,
    up_old: Gc<Table>,
) -> Result<(), LuaError> {
    force(vm, up_new)?;
    force(vm, up_old)?;
    // The paths of the new tree's keys first: formatting a key may run Lua code
    // (`__tostring`), which may change the trees and collect. The keys stay on the stack
    // meanwhile, and the entries are read afterwards, when no Lua code runs any more.
    let mut keys = Vec::new();
    let mut pos = 0;
    while let Some((i, k, _)) = up_new.get().entry_from(pos) {
        pos = i + 1;
        keys.push(k);
    }
    let mut texts: HashMap<Value, String> = HashMap::with_capacity(keys.len());
    for &k in &keys {
        vm.push(k)?;
    }
    for &k in &keys {
        let text = key_text(vm, k);
        texts.insert(k, text);
    }
    let tj = TableJoin::new(vm)?;
    let olds = tj.entries(vm, up_old)?;
    let mut pairs = Vec::new();
    for (k, nf, nu) in tj.entries(vm, up_new)? {
        let old = match up_old.get().get(k) {
            Value::Table(info) => tj.fn_and_ups(info),
            _ => None,
        };
        let text = match texts.get(&k) {
            Some(t) => t.clone(),
            // A key a `__tostring` added meanwhile: formatted without running Lua code.
            None => String::from_utf8_lossy(&vm.tostring_basic(k)).into_owned(),
        };
        pairs.push((nf, nu, old, format!("$.{}", text)));
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
                    _ if idx < f.get().upvals().len() => index_var(&mut vars, Name(name), f, idx),
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
                let Some(nidx) = self.idx(ninfo).filter(|&i| i < nf.get().upvals().len()) else {
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
                        .filter(|&i| i < of.get().upvals().len())
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
                        _ => {
                            if let Some(list) = join_unmatched(vm, &vars, nf, nidx, Name(name)) {
                                report.push(list, path);
                            }
                        }
                    },
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::AddrMap;

    /// Runs `src` (which asserts its own expectations) with the libraries open.
    fn run(src: &str) {
        let mut vm = crate::open::new_vm();
        crate::open::open_libs(&mut vm);
        let f = vm
            .load(src.as_bytes(), "=test", None)
            .expect("test chunk compiles");
        if let Err(e) = vm.call(f, &[]) {
            panic!("{}", vm.to_display(e.value));
        }
    }

    #[test]
    fn addr_map_finds_what_it_stored_across_growth_and_resets() {
        let mut m = AddrMap::default();
        for round in 0..3 {
            m.reset(4);
            for i in 1..5000usize {
                assert_eq!(m.get_or_insert(i * 48 + round, i as u32), None);
            }
            for i in 1..5000usize {
                assert_eq!(m.get_or_insert(i * 48 + round, 0), Some(i as u32));
            }
            assert_eq!(m.get_or_insert(7, 1), None, "a fresh key after a reset");
        }
    }

    /// Shared by the tests below: `mod(src)` loads a module, `fields_after(t, f)` lists the
    /// keys of `t` holding `f` in `pairs` order.
    const PRELUDE: &str = r#"
        local patch = require "silly.patch"
        local function mod(src) return assert(load(src, "=m"))() end
        local function keys_of(t, f)
            local ks = {}
            for k, v in pairs(t) do if v == f then ks[#ks + 1] = k end end
            return ks
        end
        local function eq_list(a, b, what)
            assert(#a == #b, what .. ": " .. table.concat(a, ",") .. " vs " .. table.concat(b, ","))
            for i = 1, #a do assert(a[i] == b[i], what .. ": " .. tostring(a[i]) .. " vs " .. tostring(b[i])) end
        end
    "#;

    #[test]
    fn a_function_under_two_keys_is_one_table_and_reported_once_under_the_last_key() {
        run(&format!(
            "{PRELUDE}{}",
            r#"
            local old = mod [[local x = 1 local function g() return x end
                return { a = g, b = g, c = function() return x end }]]
            local new = mod [[local x = 0 local y = 5 local function f() return x + y end
                return { a = f, b = f, c = function() return x end }]]
            local P = patch.new()
            local up_old, up_new = P:collectupval(old), P:collectupval(new)
            local absent, conflicts = P:join(up_new, up_old)
            -- Fields are visited last to first: the pair (f, g) first through its last key.
            local ks = keys_of(new, new.a)
            eq_list(absent, { "$." .. ks[#ks] .. ".y" }, "absent")
            eq_list(conflicts, {}, "conflicts")
            assert(new.a() == 6, "joined to the old x")
            assert(up_new.a.upvals == up_new.b.upvals, "one upvals table per closure")
            assert(up_new.a.upvals.x.val == 0, "the value seen at collection")
            "#
        ));
    }

    #[test]
    fn a_local_function_also_exported_is_reported_where_it_is_first_reached() {
        run(&format!(
            "{PRELUDE}{}",
            r#"
            local old = mod [[local M = {} local n = 1
                local function helper() return n end
                M.helper = helper
                function M.f() return helper() end
                return M]]
            local new = mod [[local M = {} local n = 0 local z = 10
                local function helper() return n + z end
                M.helper = helper
                function M.f() return helper() end
                return M]]
            local P = patch.new()
            local up_old, up_new = P:collectupval(old), P:collectupval(new)
            local absent = P:join(up_new, up_old)
            -- Depth first from the last field: if that is f, helper is reached through it.
            local last
            for k in pairs(new) do last = k end
            local want = last == "f" and "$.f.helper.z" or "$.helper.z"
            eq_list(absent, { want }, "absent")
            assert(old.f() == 11 and new.f() == 11, "old and new f call the new helper on the old n")
            assert(up_new.helper.upvals == up_new.f.upvals.helper.upvals, "one table")
            "#
        ));
    }

    #[test]
    fn duplicate_fields_with_inner_functions_are_visited_once_per_pair() {
        run(&format!(
            "{PRELUDE}{}",
            r#"
            local old = mod [[local s = 1
                local function inner() return s end
                local function h() return inner() end
                return { a = h, b = h }]]
            local new = mod [[local s = 0 local t = 2
                local function inner() return s + t end
                local function h() return inner() end
                return { a = h, b = h }]]
            local P = patch.new()
            local up_old, up_new = P:collectupval(old), P:collectupval(new)
            local absent, conflicts = P:join(up_new, up_old)
            local ks = keys_of(new, new.a)
            eq_list(absent, { "$." .. ks[#ks] .. ".inner.t" }, "absent")
            eq_list(conflicts, {}, "conflicts")
            assert(old.a() == 3, "old h runs the new inner on the old s")
            "#
        ));
    }

    #[test]
    fn the_tree_looked_into_after_join_shows_what_collect_saw() {
        run(&format!(
            "{PRELUDE}{}",
            r#"
            local old = mod [[local n = 7 return { get = function() return n end }]]
            local new = mod [[local n = 0 return { get = function() return n end }]]
            local P = patch.new()
            local up_old, up_new = P:collectupval(old), P:collectupval(new)
            local new_id = debug.upvalueid(new.get, 1)
            P:join(up_new, up_old)
            assert(debug.upvalueid(new.get, 1) == debug.upvalueid(old.get, 1), "joined")
            assert(up_new.get.upvals.n.val == 0, "value at collection")
            assert(up_new.get.upvals.n.upid == new_id, "cell at collection")
            assert(up_old.get.upvals.n.val == 7)
            "#
        ));
    }
}

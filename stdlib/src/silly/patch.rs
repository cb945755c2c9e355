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
//! `join` follows silly's `joinval` (with fixes: natives are leaves, type changes are
//! conflicts, `absent` is sorted), then a consistency pass makes every closure of the new
//! tree follow the cells the first pass joined (and, for a module `require` loaded, the old
//! module's state cells); it never writes into an old cell. `spec/patch.md` states the
//! rules. It works on the snapshots directly when the trees are untouched; a tree a script
//! has looked into (and so may have edited) is read from its Lua tables into a graph of the
//! same shape (`build_graph`), so edits are respected and both kinds run the same code.
//!
//! Cost: a reload is dominated by reading each closure, its prototype's names and its cells
//! (scattered heap objects), so the snapshot is flat vectors filled in one pass, closures
//! are deduplicated with an open-addressing map kept between calls (`Scratch`), and join
//! allocates nothing per function: old functions are found at the same position of the old
//! module first (both versions usually build their table in the same order), and paths
//! are formatted only for what is reported.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use hotlua_vm::api::Args;
use hotlua_vm::function::{FnProto, LuaClosure, UpvalCell};
use hotlua_vm::gc::Gc;
use hotlua_vm::patch::identity::is_module_decl;
use hotlua_vm::patch::{module_cell, record_of};
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
    /// Join: per new closure snapshot, `VISITED` and `RECURSED` bits.
    state: Vec<u8>,
    /// Join: the pairs being joined, depth first (silly's recursion, as a stack).
    frames: Vec<Frame>,
    /// Join: new cell address -> what the join did with it (`Remap`).
    cells: AddrMap,
    /// Join: the old cells new cells were joined to (`cells` holds indices into it).
    targets: Vec<Gc<UpvalCell>>,
    /// Join: (new closure snapshot, upvalue position) of each absent upvalue.
    absent: Vec<(u32, u32)>,
    /// Join: the pairs of closure snapshots (new, old) the general loop joined, in order.
    roots: Vec<(u32, u32)>,
    /// Join: the pairs `join_plain` joined; those from `flushed` on are not recorded in
    /// `cells` yet.
    plain: Vec<(u32, u32)>,
    flushed: usize,
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

    /// The value stored for `addr`, if any.
    #[inline]
    fn get(&self, addr: usize) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(addr);
        loop {
            let s = &self.slots[i];
            if s.generation != self.generation {
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
    /// Per upvalue (as `ups`), its 0-based index in its closure, for a graph built from
    /// trees a script looked into (`build_graph`); empty for a collected snapshot, whose
    /// upvalues are at their own index.
    idxs: Vec<u32>,
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
            idxs: Vec::new(),
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
    /// The 0-based index, in its closure, of upvalue `j` of closure snapshot `ci`.
    #[inline]
    fn idx(&self, ci: u32, j: usize) -> usize {
        if self.snap.idxs.is_empty() {
            j
        } else {
            self.snap.idxs[self.snap.closures[ci as usize].first as usize + j] as usize
        }
    }
    /// Every upvalue is at its own index (a collected snapshot).
    #[inline]
    fn positional(&self) -> bool {
        self.snap.idxs.is_empty()
    }
}

/// Hash maps of the patch's bookkeeping (upvalue ids, addresses, field keys): foldhash.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

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
    set_field(vm, mt, "__newindex", Value::LightFn(lazy_newindex));
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

/// `__newindex` of a lazy table: fill it, then write the key (so an edit made before any
/// read is not overwritten by the filling).
fn lazy_newindex(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let t = vm.check_table(args, 0)?;
    force(vm, t)?;
    let (k, v) = (vm.arg(args, 1), vm.arg(args, 2));
    vm.raw_set(t, k, v)?;
    Ok(0)
}

// ---------------------------------------------------------------------------------------
// join
//
// Two passes (spec/patch.md):
// 1. silly's `joinval` for each module key present in both trees: per upvalue name of the
//    new function, a matched non-function upvalue is joined to the old cell, a matched pair
//    of Lua functions is recursed into (once per new function) without joining its cell,
//    and a name the old function lacks is reported absent (an `_ENV` gets the globals).
//    Every join records `new cell -> old cell`; cells left alone are recorded as such.
// 2. The consistency pass: each upvalue the first pass did not decide about (in closures
//    it never visited, such as a function only the new version has, and absent ones) follows
//    its cell: to the old cell the cell was joined to elsewhere, or, for a module-level
//    variable of a module `require` loaded, to the old module's cell of that variable.

/// What to do with a pair of upvalues of the same name (silly's `joinval`, with hotlua's
/// fixes).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Action {
    /// Both are Lua functions: their own upvalues are joined in turn; the cell is not.
    Recurse,
    /// The new closure uses the old cell.
    Join,
    /// A type change between non-nil values: left unjoined and reported.
    Conflict,
    /// A function left alone (a native on either side, or nothing on the old side).
    Leave,
}

fn decide(new: Value, old: Value) -> Action {
    match (new, old) {
        (Value::LuaFn(_), Value::LuaFn(_)) => Action::Recurse,
        (n, o) if n.is_function() => {
            if o.is_nil() || o.is_function() {
                Action::Leave
            } else {
                Action::Conflict
            }
        }
        (n, o) if n.is_nil() || o.is_nil() => Action::Join,
        (n, o) if !o.is_function() && same_type(n, o) => Action::Join,
        _ => Action::Conflict,
    }
}

/// `type(a) == type(b)` for non-function values, without comparing the names.
#[inline]
fn same_type(a: Value, b: Value) -> bool {
    a.type_index() == b.type_index()
}

/// What a join reports.
#[derive(Default)]
struct Report {
    absent: Vec<String>,
    conflicts: Vec<String>,
}

/// Paths are built only when reported. Path id `i` below `roots` is a root: module field
/// `i` (`$.<key>`), or `$.#` in the function form; id `roots + i` is `steps[i]`, an
/// upvalue name under a parent path.
struct Paths {
    fn_form: bool,
    roots: u32,
    steps: Vec<(u32, Name)>,
}

impl Paths {
    fn push(&mut self, parent: u32, name: Name) -> u32 {
        self.steps.push((parent, name));
        self.roots + (self.steps.len() - 1) as u32
    }

    fn text(&self, vm: &mut Vm, new: SnapRef, mut id: u32, last: Name) -> String {
        let mut parts: Vec<String> = vec![last.0.get().to_str_lossy().into_owned()];
        while id >= self.roots {
            let (parent, name) = self.steps[(id - self.roots) as usize];
            parts.push(name.0.get().to_str_lossy().into_owned());
            id = parent;
        }
        parts.push(if self.fn_form {
            "#".to_string()
        } else {
            key_text(vm, new.entry(id as usize).0)
        });
        parts.push("$".to_string());
        parts.reverse();
        parts.join(".")
    }
}

/// A pair of closures being joined: upvalue `j` of new closure snapshot `nci` is next.
#[derive(Clone, Copy)]
struct Frame {
    nci: u32,
    oci: u32,
    path: u32,
    j: u32,
}

/// `Scratch::state` bits: the first pass joined the closure (as a module field or through
/// an upvalue), and it was recursed into through an upvalue (silly's `joined`).
const VISITED: u8 = 1;
const RECURSED: u8 = 2;

/// `Scratch::cells` value of a new cell the first pass deliberately left alone (a function,
/// a conflict): the consistency pass leaves it alone too.
const LEFT_ALONE: u32 = u32::MAX;

/// Records that new cell `new` was joined to `old` (the first record of a cell wins).
#[inline]
fn record(
    cells: &mut AddrMap,
    targets: &mut Vec<Gc<UpvalCell>>,
    new: Gc<UpvalCell>,
    old: Gc<UpvalCell>,
) {
    if cells
        .get_or_insert(new.addr(), targets.len() as u32)
        .is_none()
    {
        targets.push(old);
    }
}

/// The chunk (one compilation) a prototype comes from: its chunk name's allocation, which
/// every prototype of a chunk shares.
#[inline]
fn chunk_of(p: Gc<FnProto>) -> usize {
    std::sync::Arc::as_ptr(&p.get().source) as *const u8 as usize
}

/// One join: both graphs (collected snapshots, or graphs built from trees a script looked
/// into), the report, and the scratch buffers.
struct Join<'a> {
    new: SnapRef,
    old: SnapRef,
    report: &'a mut Report,
    paths: Paths,
    s: &'a mut Scratch,
    index: OldIndex,
    /// New chunk -> an old closure of the chunk it replaces (from the pairs joined).
    chunks: Option<Vec<(usize, Gc<LuaClosure>)>>,
    /// Old chunk, module-level declaration -> the old closures' cell (see `scan`).
    decls: HashMap<(usize, Vec<u8>), Gc<UpvalCell>>,
    scanned: Vec<usize>,
}

impl Join<'_> {
    /// Joins the module fields present in both trees, in the new tree's order.
    fn fields(&mut self, vm: &mut Vm) {
        let (new, old) = (self.new, self.old);
        let plain = new.positional() && old.positional();
        for e in 0..new.entries() {
            // Start loading the closures of the fields a few steps ahead.
            if let Some((k, _, ci)) = (e + AHEAD < new.entries()).then(|| new.entry(e + AHEAD)) {
                if ci != NO_CHILD {
                    prefetch(new.f(ci).get());
                    if e + AHEAD < old.entries() {
                        let (ok, _, oci) = old.entry(e + AHEAD);
                        if oci != NO_CHILD && same_key(ok, k) {
                            prefetch(old.f(oci).get());
                        }
                    }
                }
            }
            let (key, _, nci) = new.entry(e);
            if nci == NO_CHILD {
                continue; // a native: a leaf
            }
            let oci = self.index.find(old, e, key);
            if oci == NO_CHILD {
                continue; // only the new version has it (or the old one is a native)
            }
            // The usual pair (the same names, values of the same types) in one pass.
            if plain {
                self.s.state[nci as usize] |= VISITED;
                if join_plain(new.f(nci), new.ups_of(nci), old.f(oci), old.ups_of(oci)) {
                    self.s.plain.push((nci, oci));
                    continue;
                }
            }
            self.pair(vm, nci, oci, e as u32, plain);
        }
    }

    /// silly's `joinval` on a pair and, depth first, the pairs of functions it reaches.
    /// `tried`: the caller already tried `join_plain` on this pair.
    fn pair(&mut self, vm: &mut Vm, nci: u32, oci: u32, path: u32, tried: bool) {
        self.s.roots.push((nci, oci));
        let base = self.s.frames.len();
        self.s.frames.push(Frame {
            nci,
            oci,
            path,
            j: 0,
        });
        while let Some(top) = self.s.frames.last_mut() {
            let Frame { nci, oci, path, j } = *top;
            top.j += 1;
            let new_ups = self.new.ups_of(nci);
            if j == 0 {
                self.s.state[nci as usize] |= VISITED;
                let tried = tried && self.s.frames.len() == base + 1;
                if !tried && self.new.positional() && self.old.positional() {
                    let (nf, of) = (self.new.f(nci), self.old.f(oci));
                    if join_plain(nf, new_ups, of, self.old.ups_of(oci)) {
                        self.s.plain.push((nci, oci));
                        self.s.frames.pop();
                        continue;
                    }
                }
            }
            if j as usize >= new_ups.len() {
                self.s.frames.pop();
                continue;
            }
            self.slot(vm, nci, oci, path, j as usize);
        }
    }

    /// The rules for upvalue `j` of new closure snapshot `nci` against old `oci`.
    fn slot(&mut self, vm: &mut Vm, nci: u32, oci: u32, path: u32, j: usize) {
        self.flush();
        let (new, old) = (self.new, self.old);
        let nu = &new.ups_of(nci)[j];
        let name = nu.name;
        let nf = new.f(nci);
        let nidx = new.idx(nci, j);
        let old_ups = old.ups_of(oci);
        let Some(oj) = find_up(old_ups, name) else {
            if name.0.get().as_bytes() == b"_ENV" {
                // silly's setupvalue, on the new closure's own cell only (an earlier visit
                // of the same closure may have joined it to an old one).
                if let Some(cell) = nf.get().upvals().get(nidx) {
                    let cell = cell.get();
                    if cell.addr() == new.upid(nci, j) {
                        cell.get().set(Value::Table(vm.globals()));
                    }
                }
            }
            self.s.absent.push((nci, j as u32));
            let text = self.paths.text(vm, new, path, name);
            self.report.absent.push(text);
            return;
        };
        match decide(nu.val, old_ups[oj].val) {
            Action::Recurse => {
                self.leave(nf, nidx);
                let (nc, oc) = (new.child(nci, j), old.child(oci, oj));
                if nc != NO_CHILD && oc != NO_CHILD && self.s.state[nc as usize] & RECURSED == 0 {
                    self.s.state[nc as usize] |= RECURSED;
                    let p = self.paths.push(path, name);
                    self.s.frames.push(Frame {
                        nci: nc,
                        oci: oc,
                        path: p,
                        j: 0,
                    });
                }
            }
            Action::Join => {
                let of = old.f(oci);
                let oidx = old.idx(oci, oj);
                if let (Some(n), Some(o)) =
                    (nf.get().upvals().get(nidx), of.get().upvals().get(oidx))
                {
                    let (nc, oc) = (n.get(), o.get());
                    record(&mut self.s.cells, &mut self.s.targets, nc, oc);
                    n.set(oc);
                }
            }
            Action::Conflict => {
                self.leave(nf, nidx);
                let text = self.paths.text(vm, new, path, name);
                self.report.conflicts.push(text);
            }
            Action::Leave => self.leave(nf, nidx),
        }
    }

    /// Records the cells of the pairs `join_plain` joined since the last flush, in order:
    /// deferred until a record could depend on them, so a reload whose pairs are all plain
    /// (and leaves nothing to settle) records nothing.
    #[inline]
    fn flush(&mut self) {
        if self.s.flushed == self.s.plain.len() {
            return;
        }
        let (new, old) = (self.new, self.old);
        let s = &mut *self.s;
        for &(nci, oci) in &s.plain[s.flushed..] {
            let of = old.f(oci);
            for j in 0..new.ups_of(nci).len() {
                if let Some(o) = of.get().upvals().get(j) {
                    let addr = new.upid(nci, j);
                    if s.cells
                        .get_or_insert(addr, s.targets.len() as u32)
                        .is_none()
                    {
                        s.targets.push(o.get());
                    }
                }
            }
        }
        s.flushed = s.plain.len();
    }

    /// Records that the cell of upvalue `idx` of `f` is left alone.
    fn leave(&mut self, f: Gc<LuaClosure>, idx: usize) {
        if let Some(c) = f.get().upvals().get(idx) {
            self.s.cells.get_or_insert(c.get().addr(), LEFT_ALONE);
        }
    }

    /// The consistency pass: every upvalue the first pass did not decide about.
    fn settle(&mut self, vm: &Vm) {
        let new = self.new;
        for ci in 0..new.snap.closures.len() as u32 {
            if self.s.state[ci as usize] & VISITED == 0 {
                for j in 0..new.ups_of(ci).len() {
                    self.settle_slot(vm, ci, j);
                }
            }
        }
        let absent = std::mem::take(&mut self.s.absent);
        for &(ci, j) in &absent {
            self.settle_slot(vm, ci, j as usize);
        }
        self.s.absent = absent;
    }

    /// Upvalue `j` of new closure snapshot `ci`, if it still has the cell it had when
    /// collected: follows its cell to the old cell it was joined to, or, if the first pass
    /// never saw that cell, to the old module's cell of the same variable.
    fn settle_slot(&mut self, vm: &Vm, ci: u32, j: usize) {
        self.flush();
        let new = self.new;
        let nf = new.f(ci);
        let idx = new.idx(ci, j);
        let Some(slot) = nf.get().upvals().get(idx) else {
            return;
        };
        let cell = slot.get();
        if cell.addr() != new.upid(ci, j) {
            return; // rebound since (by the first pass, or by a script)
        }
        let target = match self.s.cells.get(cell.addr()) {
            Some(LEFT_ALONE) => return,
            Some(t) => self.s.targets[t as usize],
            None => match self.old_module_cell(vm, nf, idx, cell) {
                Some(m) => {
                    record(&mut self.s.cells, &mut self.s.targets, cell, m);
                    m
                }
                None => {
                    self.s.cells.get_or_insert(cell.addr(), LEFT_ALONE);
                    return;
                }
            },
        };
        if target != cell {
            slot.set(target);
        }
    }

    /// The old module's cell for upvalue `idx` of new closure `f` (whose cell is `cell`):
    /// when its declaration is module-level (a top-level local or `_ENV`), the chunk it
    /// replaces was loaded by `require` (compiled as a module), and the two values would be
    /// joined by the rules (so a function stays the new version's).
    fn old_module_cell(
        &mut self,
        vm: &Vm,
        f: Gc<LuaClosure>,
        idx: usize,
        cell: Gc<UpvalCell>,
    ) -> Option<Gc<UpvalCell>> {
        let p = f.get().proto();
        let decl = *p.get().upval_decls.get(idx)?;
        if !is_module_decl(decl.get().as_bytes()) {
            return None;
        }
        let oc = self.old_chunk(chunk_of(p))?;
        let op = oc.get().proto();
        if !op.get().tracked {
            return None; // not compiled as a module: silly's rules only
        }
        // The registry knows the old module's cells while its record still describes the
        // old chunk. The guide's reload loads the new version with `require` again, which
        // makes the record the new version's: then the old closures' own cells are the
        // old module's state.
        let found = match record_of(vm, op) {
            Some(r) if chunk_of(r.main.get().proto()) == chunk_of(op) => module_cell(vm, op, decl),
            _ => self.scan(chunk_of(op), decl),
        }?;
        (decide(cell.get().get(), found.get().get()) == Action::Join).then_some(found)
    }

    /// An old closure of the chunk that new chunk `chunk` replaces: learned from the pairs
    /// joined (the first pair of each new chunk, plain pairs first).
    fn old_chunk(&mut self, chunk: usize) -> Option<Gc<LuaClosure>> {
        let (new, old) = (self.new, self.old);
        let pairs = self.s.plain.iter().chain(self.s.roots.iter());
        let chunks = self.chunks.get_or_insert_with(|| {
            let mut v: Vec<(usize, Gc<LuaClosure>)> = Vec::new();
            for &(nci, oci) in pairs {
                let c = chunk_of(new.f(nci).get().proto());
                if !v.iter().any(|&(x, _)| x == c) {
                    v.push((c, old.f(oci)));
                }
            }
            v
        });
        chunks.iter().find(|&&(c, _)| c == chunk).map(|&(_, f)| f)
    }

    /// The cell the old tree's closures of chunk `chunk` use for module-level declaration
    /// `decl` (the first found).
    fn scan(&mut self, chunk: usize, decl: Gc<LuaStr>) -> Option<Gc<UpvalCell>> {
        if !self.scanned.contains(&chunk) {
            self.scanned.push(chunk);
            let old = self.old;
            for c in &old.snap.closures {
                let f = c.f.get();
                let p = f.proto();
                if chunk_of(p) != chunk {
                    continue;
                }
                for (i, d) in p.get().upval_decls.iter().enumerate() {
                    let d = d.get().as_bytes();
                    if i < f.upvals().len() && is_module_decl(d) {
                        self.decls.entry((chunk, d.to_vec())).or_insert(f.upval(i));
                    }
                }
            }
        }
        self.decls
            .get(&(chunk, decl.get().as_bytes().to_vec()))
            .copied()
    }
}

/// Which pairs a join starts from.
enum Roots {
    /// The module fields present in both trees.
    Fields,
    /// The function form: one pair of closure snapshots.
    Function(u32, u32),
}

/// Runs both passes on two graphs.
fn run_join(vm: &mut Vm, report: &mut Report, new: SnapRef, old: SnapRef, roots: Roots) {
    let mut scratch = take_scratch();
    let s = &mut *scratch;
    s.state.clear();
    s.state.resize(new.snap.closures.len(), 0);
    s.frames.clear();
    s.cells.reset(64);
    s.targets.clear();
    s.absent.clear();
    s.roots.clear();
    s.plain.clear();
    s.flushed = 0;
    let fn_form = matches!(roots, Roots::Function(..));
    let mut j = Join {
        new,
        old,
        report,
        paths: Paths {
            fn_form,
            roots: if fn_form { 1 } else { new.entries() as u32 },
            steps: Vec::new(),
        },
        s,
        index: OldIndex { by_key: None },
        chunks: None,
        decls: HashMap::new(),
        scanned: Vec::new(),
    };
    match roots {
        Roots::Fields => j.fields(vm),
        Roots::Function(nci, oci) => j.pair(vm, nci, oci, 0, false),
    }
    j.settle(vm);
    // No cell pointers stay behind in the thread's scratch.
    scratch.targets.clear();
    put_scratch(scratch);
}

/// `P:join(up_new, up_old)` or `P:join(fn_new, upvals_new, fn_old, upvals_old)`; returns
/// `absent` and `conflicts`, both sorted arrays of upvalue paths.
fn join(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let mut report = Report::default();
    // Each graph's userdata stays on the stack while the join runs: formatting a reported
    // key may run Lua code (`__tostring`), which may change the trees and collect.
    if vm.arg(args, 1).is_function() {
        let new_ups = vm.check_table(args, 2)?;
        let old_ups = vm.check_table(args, 4)?;
        if let (Value::LuaFn(nf), Value::LuaFn(of)) = (vm.arg(args, 1), vm.arg(args, 3)) {
            let (nud, new, nci) = fn_graph(vm, nf, new_ups)?;
            vm.push(nud)?;
            let (oud, old, oci) = fn_graph(vm, of, old_ups)?;
            vm.push(oud)?;
            run_join(vm, &mut report, new, old, Roots::Function(nci, oci));
        }
    } else {
        let up_new = vm.check_table(args, 1)?;
        let up_old = vm.check_table(args, 2)?;
        let (nud, new) = tree_graph(vm, up_new)?;
        vm.push(nud)?;
        let (oud, old) = tree_graph(vm, up_old)?;
        vm.push(oud)?;
        run_join(vm, &mut report, new, old, Roots::Fields);
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

/// The graph of a module tree: its snapshot while nobody has looked into it, otherwise
/// built from its Lua tables (so a script's edits are respected).
fn tree_graph(vm: &mut Vm, t: Gc<Table>) -> Result<(Value, SnapRef), LuaError> {
    if let Some((ud, Lazy::Tree)) = lazy_of(vm, t) {
        if let Some(s) = snapshot_of(ud) {
            return Ok((ud, s));
        }
    }
    let snap = build_graph(vm, GraphRoot::Tree(t))?;
    Ok(graph_value(vm, snap))
}

/// The graph of the function form's `f` and its `upvals` map, and `f`'s closure snapshot.
fn fn_graph(
    vm: &mut Vm,
    f: Gc<LuaClosure>,
    ups: Gc<Table>,
) -> Result<(Value, SnapRef, u32), LuaError> {
    if let Some((ud, Lazy::Upvals(ci, _))) = lazy_of(vm, ups) {
        if let Some(s) = snapshot_of(ud).filter(|s| s.f(ci) == f) {
            return Ok((ud, s, ci));
        }
    }
    let snap = build_graph(vm, GraphRoot::Function(f, ups))?;
    let (ud, s) = graph_value(vm, snap);
    Ok((ud, s, 0))
}

fn graph_value(vm: &mut Vm, snap: Snapshot) -> (Value, SnapRef) {
    let ud = Value::UserData(vm.heap.new_userdata(UserData::with_payload(snap)));
    let s = snapshot_of(ud).expect("a snapshot was just made");
    (ud, s)
}

/// Where `build_graph` starts.
enum GraphRoot {
    /// A module tree `{ [key] = { val = fn, upvals = map } }`.
    Tree(Gc<Table>),
    /// A function and its `upvals` map.
    Function(Gc<LuaClosure>, Gc<Table>),
}

/// Builds a graph (a snapshot with explicit upvalue indices) from Lua tables a script may
/// have edited: `{ [name] = { idx = i, val = v, upvals = map? } }` per closure. Entries
/// without a valid `idx` are ignored; each closure is read once (from the first map found
/// for it). No Lua code runs here; everything read stays reachable from the trees, which
/// the caller holds, until the snapshot is rooted.
fn build_graph(vm: &mut Vm, root: GraphRoot) -> Result<Snapshot, LuaError> {
    let (k_val, k_upvals, k_idx) = (vm.new_str("val"), vm.new_str("upvals"), vm.new_str("idx"));
    let mut snap = Snapshot::from_pool();
    snap.mapped = true;
    let mut fields: Vec<Value> = Vec::new();
    let mut extra: Vec<Value> = Vec::new();
    let mut index: HashMap<usize, u32> = HashMap::new();
    let mut work: Vec<(u32, Option<Gc<Table>>)> = Vec::new();
    let mut add = |snap: &mut Snapshot, work: &mut Vec<_>, f: Gc<LuaClosure>, ups| {
        *index.entry(f.addr()).or_insert_with(|| {
            let ci = snap.closures.len() as u32;
            snap.closures.push(ClosureSnap::new(f));
            work.push((ci, ups));
            ci
        })
    };
    let table = |v: Value| match v {
        Value::Table(t) => Some(t),
        _ => None,
    };
    match root {
        GraphRoot::Tree(t) => {
            force(vm, t)?;
            let mut pos = 0;
            while let Some((i, k, v)) = t.get().entry_from(pos) {
                pos = i + 1;
                let Value::Table(info) = v else { continue };
                let f = info.get().get_str(k_val);
                let ci = match f {
                    Value::LuaFn(g) => {
                        let ups = table(info.get().get_str(k_upvals));
                        add(&mut snap, &mut work, g, ups)
                    }
                    _ if f.is_function() => NO_CHILD,
                    _ => continue,
                };
                fields.push(k);
                fields.push(f);
                snap.entry_ci.push(ci);
            }
        }
        GraphRoot::Function(f, ups) => {
            add(&mut snap, &mut work, f, Some(ups));
        }
    }
    let mut ups: Vec<(usize, Name, Value, Option<Gc<Table>>)> = Vec::new();
    while let Some((ci, map)) = work.pop() {
        let f = snap.closures[ci as usize].f;
        let n = f.get().upvals().len();
        ups.clear();
        if let Some(map) = map {
            force(vm, map)?;
            let mut pos = 0;
            while let Some((i, k, v)) = map.get().entry_from(pos) {
                pos = i + 1;
                let (Value::Str(name), Value::Table(info)) = (k, v) else {
                    continue;
                };
                let idx = match info.get().get_str(k_idx) {
                    Value::Int(i) if i >= 1 && (i as u64) <= n as u64 => i as usize - 1,
                    _ => continue,
                };
                let val = info.get().get_str(k_val);
                ups.push((idx, Name(name), val, table(info.get().get_str(k_upvals))));
            }
        }
        ups.sort_by_key(|u| u.0);
        let first = snap.ups.len();
        for &(idx, name, val, sub) in &ups {
            let u = snap.ups.len() as u32;
            snap.ups.push(UpSnap { val, name });
            snap.upids.push(f.get().upval(idx).addr());
            snap.idxs.push(idx as u32);
            if val.is_collectable() {
                extra.push(val);
            }
            if let (Value::LuaFn(g), Some(_)) = (val, sub) {
                let child = add(&mut snap, &mut work, g, sub);
                snap.children.push((u, child));
            }
        }
        let c = &mut snap.closures[ci as usize];
        c.first = first as u32;
        c.count = (snap.ups.len() - first) as u32;
    }
    fields.extend_from_slice(&extra);
    snap.vals = fields;
    Ok(snap)
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
                m.entry(Key(k)).or_insert(ci);
            }
            m
        });
        map.get(&Key(key)).copied().unwrap_or(NO_CHILD)
    }
}

/// The common case of a pair, in one tight pass: both closures have the same upvalue
/// names in the same order and every pair of values is joined (`Action::Join`, neither a
/// function). Then joins them all and returns true (the caller records the pair, see
/// `Join::flush`); otherwise changes nothing and returns false (the general loop handles
/// the pair).
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
    fn a_function_under_two_keys_is_one_table_joined_and_reported_under_each_key() {
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
            -- As silly: each module key is joined (and reported) on its own.
            eq_list(absent, { "$.a.y", "$.b.y" }, "absent")
            eq_list(conflicts, {}, "conflicts")
            assert(new.a() == 6, "joined to the old x")
            assert(up_new.a.upvals == up_new.b.upvals, "one upvals table per closure")
            assert(up_new.a.upvals.x.val == 0, "the value seen at collection")
            "#
        ));
    }

    #[test]
    fn a_local_function_also_exported_is_joined_as_a_field_and_through_the_upvalue() {
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
            -- silly joins the field, and recurses into f's upvalue helper: two reports.
            eq_list(absent, { "$.f.helper.z", "$.helper.z" }, "absent")
            assert(new.f() == 11, "the new f calls the new helper on the old n")
            assert(old.f() == 1, "the old f keeps calling the old helper through its old cell")
            assert(up_new.helper.upvals == up_new.f.upvals.helper.upvals, "one table")
            "#
        ));
    }

    #[test]
    fn duplicate_fields_with_inner_functions_recurse_once_per_new_function() {
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
            -- Recursion into inner happens once, from the first key in `pairs` order.
            local ks = keys_of(new, new.a)
            eq_list(absent, { "$." .. ks[1] .. ".inner.t" }, "absent")
            eq_list(conflicts, {}, "conflicts")
            assert(new.a() == 3, "the new h runs the new inner on the old s")
            assert(old.a() == 1, "the old h keeps the old inner")
            "#
        ));
    }

    #[test]
    fn a_function_only_the_new_version_has_follows_the_cells_joined_elsewhere() {
        run(&format!(
            "{PRELUDE}{}",
            r#"
            local old = mod [[local M = {} local n = 0 local tick
                function tick() n = n + 1 return n end
                function M.inc() return tick() end
                return M]]
            old.inc() old.inc()
            local new = mod [[local M = {} local n = 0 local tick
                function tick() if not tick then return end n = n + 10 return n end
                function M.inc() if tick then return tick() end end
                function M.peek() return n end
                function M.stop() tick = nil end
                return M]]
            local P = patch.new()
            local absent, conflicts = P:join(P:collectupval(new), P:collectupval(old))
            -- silly neither joins nor reports peek and stop (only the new version has them).
            -- The new tick reads tick, which the old one did not: absent.
            eq_list(absent, { "$.inc.tick.tick" }, "absent")
            eq_list(conflicts, {}, "conflicts")
            assert(new.peek() == 2, "peek shares n, which inc's tick joined to the old cell")
            assert(new.inc() == 12, "the new tick on the old n")
            -- tick's cell holds a function: never joined, so stop and the new tick share it.
            new.stop()
            assert(new.inc() == nil, "stop cleared the variable the new inc reads")
            assert(old.inc() == 13, "the old inc keeps its own tick, on the shared n")
            "#
        ));
    }

    #[test]
    fn trees_looked_into_before_join_give_the_same_result_and_edits_are_respected() {
        run(&format!(
            "{PRELUDE}{}",
            r#"
            local src_old = [[local M = {} local a, b, f = 1, 2, nil
                local function h() return a end
                function M.x() return a, b, h() end
                function M.y() return b end
                return M]]
            local src_new = [[local M = {} local a, b, c = 0, 0, 9
                local function h() return a + c end
                function M.x() return a, b, h() end
                function M.y() return b, c end
                function M.z() return a end
                return M]]
            local results = {}
            for _, look in ipairs { false, true } do
                local old, new = mod(src_old), mod(src_new)
                local P = patch.new()
                local up_old, up_new = P:collectupval(old), P:collectupval(new)
                if look then
                    for _ in pairs(up_old) do end
                    assert(up_new.x.upvals.h.upvals.a.idx == 1)
                end
                local absent, conflicts = P:join(up_new, up_old)
                results[#results + 1] = table.concat(absent, ",") .. "|" .. table.concat(conflicts, ",")
                    .. "|" .. table.concat({ new.x() }, ",") .. "|" .. table.concat({ new.y() }, ",")
                    .. "|" .. new.z()
            end
            assert(results[1] == "$.x.h.c,$.y.c||1,2,10|2,9|1", results[1])
            assert(results[1] == results[2], results[2])
            -- An entry the script removed from the new tree is not joined.
            local old, new = mod(src_old), mod(src_new)
            local P = patch.new()
            local up_old, up_new = P:collectupval(old), P:collectupval(new)
            up_new.y.upvals.b = nil
            up_new.x.upvals.b = nil
            P:join(up_new, up_old)
            assert(select(2, new.x()) == 0 and new.y() == 0, "b left as the new version's")
            assert(new.x() == 1, "a joined")
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

//! The VM's heap: every collectable object lives in a `GcBox` linked into one intrusive list
//! owned by [`Heap`]; a stop-the-world mark & sweep frees what the roots no longer reach.
//!
//! Invariants:
//! - A `Gc<T>` is valid as long as the object is reachable from the roots passed to
//!   [`Heap::collect`] (or was allocated after the last collection). Holding an unrooted `Gc`
//!   across a collection leaves it dangling: the VM only collects at safe points.
//! - References obtained through [`Gc::get`] / `Gc::get_mut` are short-lived: never held
//!   across a call into Lua, a metamethod, or a collection.
//! - `Drop` impls of heap objects must not dereference other `Gc` pointers (the sweep frees
//!   objects in arbitrary order).
//! - Allocation never collects; it only adds to the debt checked by [`Heap::should_collect`].
#![deny(unsafe_op_in_unsafe_fn)]

mod collect;
mod mark;

pub use mark::{Marker, WeakMode};

use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::string::{Interner, LuaStr};
use crate::table::Table;
use crate::userdata::UserData;
use crate::value::Value;

/// Implemented by every heap object: reports the objects it references to the marker.
pub trait Trace: 'static {
    /// Report every `Gc` this object holds (through `m.mark`/`m.mark_value`). Must not recurse
    /// into children itself: the marker's gray stack does that.
    fn trace(&self, m: &mut Marker);
    /// Bytes owned outside the object itself (vector buffers, string bytes), for accounting.
    fn extra_bytes(&self) -> usize {
        0
    }
}

/// Header flags.
const MARKED: u8 = 1;
/// Registered for finalization (`__gc` in its metatable when `setmetatable` ran).
const FINOBJ: u8 = 2;

/// Per-object GC header: the intrusive list link and the mark bits.
pub struct GcHeader {
    next: Cell<Option<NonNull<GcBox<dyn Trace>>>>,
    flags: Cell<u8>,
    /// What the box holds, when the sweep needs to know (`KIND_*`).
    kind: u8,
}

/// Any object the sweep frees normally.
const KIND_OTHER: u8 = 0;
/// A `GcBox<Table>`: the sweep may recycle it into `Heap::table_pool`.
const KIND_TABLE: u8 = 1;
/// A `GcBox<LuaStr>`: the sweep removes a dead short one from the interner.
const KIND_STR: u8 = 2;
/// A box whose destructor may run host code (a userdata's payload, a host closure's
/// callback and what it captured): the sweep frees it only after the heap is consistent
/// again, and a panic in that code is contained (see `Heap::drop_host_boxes`).
const KIND_HOST: u8 = 3;

/// The allocation unit: header followed by the object.
#[repr(C)]
pub struct GcBox<T: ?Sized + 'static> {
    header: GcHeader,
    value: UnsafeCell<T>,
}

type ErasedPtr = NonNull<GcBox<dyn Trace>>;

impl GcHeader {
    #[inline]
    fn is_marked(&self) -> bool {
        self.flags.get() & MARKED != 0
    }
    #[inline]
    fn set_marked(&self) {
        self.flags.set(self.flags.get() | MARKED);
    }
    #[inline]
    fn clear_marked(&self) {
        self.flags.set(self.flags.get() & !MARKED);
    }
}

/// A pointer to a heap object. `Copy`; equality and hashing are by address.
pub struct Gc<T: 'static> {
    ptr: NonNull<GcBox<T>>,
    _marker: PhantomData<*const T>,
}

impl<T> Clone for Gc<T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Gc<T> {}

impl<T> PartialEq for Gc<T> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}
impl<T> Eq for Gc<T> {}

impl<T> Hash for Gc<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr().hash(state)
    }
}

impl<T> fmt::Debug for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gc({:#x})", self.addr())
    }
}

impl<T: 'static> Gc<T> {
    /// Shared access to the object.
    #[inline(always)]
    pub fn get(&self) -> &T {
        // SAFETY: a Gc handed out by the heap points at a live GcBox (module invariant: the
        // VM never keeps an unrooted Gc across a collection). Aliasing with `get_mut` is
        // excluded by the VM's discipline of short-lived references.
        unsafe { &*(*self.ptr.as_ptr()).value.get() }
    }

    /// Mutable access through the shared pointer (interior mutability). The caller must not
    /// hold another reference to the same object while using the result.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    #[doc(hidden)]
    pub fn get_mut(&self) -> &mut T {
        // SAFETY: as `get`; the VM keeps at most one live reference derived from a Gc at a
        // time (references are short-lived and never span a call into Lua or a collection).
        unsafe { &mut *(*self.ptr.as_ptr()).value.get() }
    }

    /// The object's address: identity for `rawequal`, `%p`, hashing, `upvalueid`.
    #[inline(always)]
    pub fn addr(&self) -> usize {
        self.ptr.as_ptr() as *const u8 as usize
    }

    /// Same object?
    #[inline(always)]
    pub fn ptr_eq(a: Gc<T>, b: Gc<T>) -> bool {
        a.ptr == b.ptr
    }

    #[inline(always)]
    fn header(&self) -> &GcHeader {
        // SAFETY: as `get`: the box is live.
        unsafe { &(*self.ptr.as_ptr()).header }
    }
}

impl<T: Trace> Gc<T> {
    #[inline(always)]
    fn erased(self) -> ErasedPtr {
        self.ptr
    }
}

/// Default pause (percent): collect when the heap doubles after the last collection.
pub const DEFAULT_PAUSE: u32 = 200;
/// Default step multiplier (percent). Kept for `collectgarbage("setstepmul")`.
pub const DEFAULT_STEPMUL: u32 = 100;
/// No automatic collection below this heap size.
const MIN_THRESHOLD: usize = 256 * 1024;

thread_local! {
    /// Bytes allocated (or freed, negative) in buffers owned by heap objects since the heap
    /// last looked: tables and stacks growing between collections. A thread-local because
    /// those resizes happen deep inside object methods with no heap at hand; the exact figure
    /// is recomputed from `extra_bytes` at every sweep, so cross-heap noise is corrected.
    static EXTRA_DELTA: Cell<isize> = const { Cell::new(0) };
}

/// Report that a heap object's owned buffer grew (`delta > 0`) or shrank. Call it on resizes
/// of vectors owned by heap objects (table parts, thread stacks) so pacing sees them.
#[inline]
pub fn account_extra(delta: isize) {
    EXTRA_DELTA.with(|c| c.set(c.get() + delta));
}

thread_local! {
    /// A buffer owned by a heap object could not grow (a table's parts, a thread's stack):
    /// the object was left as it was, and the operation's result dropped. Transient: set
    /// deep inside object methods, which have no heap at hand, and taken by the VM at its
    /// next safe point (the same operation's caller, before any Lua code observes the
    /// object), which then raises "not enough memory".
    static ALLOC_FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Records that an owned buffer could not grow (see `ALLOC_FAILED`).
#[cold]
pub fn record_alloc_failure() {
    ALLOC_FAILED.with(|c| c.set(true));
}

/// Takes the record of a failed growth, if any.
#[inline]
pub fn take_alloc_failure() -> bool {
    ALLOC_FAILED.with(|c| c.replace(false))
}

fn take_extra_delta() -> isize {
    EXTRA_DELTA.with(|c| c.replace(0))
}

/// The object heap: allocation, the string interner, pacing, finalizer bookkeeping.
pub struct Heap {
    /// Head of the intrusive list of all objects.
    objects: Option<ErasedPtr>,
    /// Bytes accounted to live (or not yet swept) objects.
    bytes: usize,
    /// Automatic collection happens once `bytes` reaches this.
    threshold: usize,
    pause: u32,
    stepmul: u32,
    running: bool,
    pub(crate) strings: Interner,
    /// Objects registered for finalization, in registration order (weak references).
    finobj: Vec<Value>,
    /// Unreachable finalizable objects waiting for the VM to run their `__gc` (roots).
    pending: Vec<Value>,
    /// Interned `"__mode"`, consulted when tracing tables; always kept alive.
    mode_key: Gc<LuaStr>,
    /// Number of completed collections (for tests and `collectgarbage` statistics).
    cycles: u64,
    /// Memory limit in bytes (0: none).
    limit: usize,
    /// Prototypes whose closures are listed (modules: see `FnProto::instances`). Weak:
    /// purged of dead ones at each collection, with their instance lists.
    tracked_protos: Vec<Gc<crate::function::FnProto>>,
    /// Every thread (weak, purged likewise): hot patching looks for frames in them.
    threads: Vec<Gc<crate::thread::Thread>>,
    /// Boxes of dead tables, emptied, ready for `new_table_with`: tables are the most
    /// allocated objects, and reusing their boxes (and small array buffers) saves the malloc
    /// and free that dominated allocation-heavy programs. Not counted in `bytes`; bounded by
    /// `table_pool_max`.
    table_pool: Vec<NonNull<GcBox<Table>>>,
    table_pool_max: usize,
    /// The marker's gray stack, kept between collections: allocating a large buffer right
    /// after a sweep made glibc consolidate every chunk the sweep had just freed.
    gray_buffer: Vec<ErasedPtr>,
}

impl Heap {
    /// A new heap with a random string-hash seed.
    pub fn new() -> Heap {
        use std::hash::BuildHasher;
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64);
        Heap::with_seed(seed)
    }

    /// A new heap with the given string-hash seed (reproducible table iteration order).
    pub fn with_seed(seed: u64) -> Heap {
        let mut heap = Heap {
            objects: None,
            bytes: 0,
            threshold: MIN_THRESHOLD,
            pause: DEFAULT_PAUSE,
            stepmul: DEFAULT_STEPMUL,
            running: true,
            strings: Interner::new(seed),
            finobj: Vec::new(),
            pending: Vec::new(),
            // Temporary: replaced right below once the heap can allocate.
            mode_key: Gc {
                ptr: NonNull::dangling(),
                _marker: PhantomData,
            },
            cycles: 0,
            limit: 0,
            tracked_protos: Vec::new(),
            threads: Vec::new(),
            table_pool: Vec::new(),
            table_pool_max: 0,
            gray_buffer: Vec::with_capacity(256),
        };
        heap.mode_key = heap.new_str(b"__mode");
        heap
    }

    /// Allocate `value` on the heap. Never collects.
    pub fn alloc<T: Trace>(&mut self, value: T) -> Gc<T> {
        let size = std::mem::size_of::<GcBox<T>>() + value.extra_bytes();
        let id = std::any::TypeId::of::<T>();
        let kind = if id == std::any::TypeId::of::<Table>() {
            KIND_TABLE
        } else if id == std::any::TypeId::of::<LuaStr>() {
            KIND_STR
        } else if id == std::any::TypeId::of::<UserData>()
            || id == std::any::TypeId::of::<crate::function::NativeClosure>()
        {
            KIND_HOST
        } else {
            KIND_OTHER
        };
        let boxed = Box::new(GcBox {
            header: GcHeader {
                next: Cell::new(self.objects),
                flags: Cell::new(0),
                kind,
            },
            value: UnsafeCell::new(value),
        });
        // SAFETY: Box::into_raw never returns null.
        let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(boxed)) };
        self.objects = Some(ptr as ErasedPtr);
        self.bytes += size;
        Gc {
            ptr,
            _marker: PhantomData,
        }
    }

    /// A new empty table.
    #[inline]
    pub fn new_table(&mut self) -> Gc<Table> {
        self.new_table_with(0, 0)
    }

    /// A new table with preallocated array and hash parts (as `OP_NEWTABLE`).
    #[inline]
    pub fn new_table_with(&mut self, narray: usize, nhash: usize) -> Gc<Table> {
        match self.table_pool.pop() {
            Some(ptr) => self.reuse_table_box(ptr, narray, nhash),
            None => self.alloc(Table::with_capacity(narray, nhash)),
        }
    }

    fn reuse_table_box(
        &mut self,
        ptr: NonNull<GcBox<Table>>,
        narray: usize,
        nhash: usize,
    ) -> Gc<Table> {
        // SAFETY: pooled boxes came from `alloc` (kind TABLE), were unlinked from the object
        // list by the sweep and hold a valid, emptied Table; no live object dereferences them
        // (a dead table key may still hold the address, only for identity). We relink the box
        // exactly once here.
        let b = unsafe { ptr.as_ref() };
        b.header.flags.set(0);
        b.header.next.set(self.objects);
        // SAFETY: as above: the box is exclusively ours until it is handed out below.
        let t = unsafe { &mut *b.value.get() };
        t.reinit(narray, nhash);
        self.bytes += std::mem::size_of::<GcBox<Table>>() + t.extra_bytes();
        self.objects = Some(ptr as ErasedPtr);
        Gc {
            ptr,
            _marker: PhantomData,
        }
    }

    /// A new full userdata.
    pub fn new_userdata(&mut self, ud: UserData) -> Gc<UserData> {
        self.alloc(ud)
    }

    /// Bytes currently accounted to the heap (objects plus their owned buffers).
    pub fn total_bytes(&mut self) -> usize {
        self.fold_extra();
        self.bytes
    }

    /// Folds buffer growth reported through [`account_extra`] since the last look into this
    /// heap's count. The report is per thread: a host running several states on one thread
    /// calls this when it leaves one state, so each state's growth is counted in its own
    /// heap (the embedding facade does, at every boundary).
    pub fn fold_extra(&mut self) {
        let d = take_extra_delta();
        self.bytes = (self.bytes as isize + d).max(0) as usize;
    }

    /// True when the debt says an automatic collection is due (and the collector is running).
    #[inline]
    pub fn should_collect(&mut self) -> bool {
        if self.bytes >= self.threshold {
            return self.running || self.over_limit(0);
        }
        self.fold_extra();
        self.bytes >= self.threshold && (self.running || self.over_limit(0))
    }

    /// `collectgarbage("stop")` / `("restart")`: enable or disable automatic collection.
    pub fn set_running(&mut self, running: bool) {
        self.running = running;
    }

    /// `collectgarbage("isrunning")`.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Set the pause (percent); returns the previous value.
    pub fn set_pause(&mut self, pause: u32) -> u32 {
        std::mem::replace(&mut self.pause, pause)
    }

    /// Set the step multiplier (percent); returns the previous value.
    pub fn set_stepmul(&mut self, stepmul: u32) -> u32 {
        std::mem::replace(&mut self.stepmul, stepmul)
    }

    /// Number of completed collection cycles.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Register `obj` (a table or full userdata) for finalization: called by `setmetatable`
    /// when the new metatable has `__gc`. Registering twice is a no-op.
    pub fn register_finalizer(&mut self, obj: Value) {
        let header = match obj {
            Value::Table(_) | Value::UserData(_) => match value_header(obj) {
                Some(h) => h,
                None => return,
            },
            _ => return,
        };
        let f = header.flags.get();
        if f & FINOBJ == 0 {
            header.flags.set(f | FINOBJ);
            self.finobj.push(obj);
        }
    }

    /// Objects whose finalizers are due, in the order to call them (reverse order of
    /// registration). They are no longer rooted by the heap: the caller keeps them alive
    /// (e.g. on the Lua stack) while calling each `__gc`.
    pub fn take_pending_finalizers(&mut self) -> Vec<Value> {
        let taken = std::mem::take(&mut self.pending);
        for &v in &taken {
            clear_finobj(v);
        }
        taken
    }

    /// True if finalizers are waiting to be run.
    pub fn has_pending_finalizers(&self) -> bool {
        !self.pending.is_empty()
    }

    /// All objects still registered for finalization, in the order `lua_close` calls them
    /// (reverse registration); unregisters them. For VM shutdown.
    pub fn take_all_finalizers(&mut self) -> Vec<Value> {
        let mut all = std::mem::take(&mut self.pending);
        all.extend(self.finobj.drain(..).rev());
        for &v in &all {
            clear_finobj(v);
        }
        all
    }

    /// Like [`Heap::new_str`], taking ownership of the buffer: a long string keeps the
    /// vector's allocation instead of copying it (concatenation, `string.rep`, ...).
    pub fn new_str_from_vec(&mut self, bytes: Vec<u8>) -> Gc<LuaStr> {
        if bytes.len() <= crate::string::MAX_SHORT_LEN {
            return self.new_str(&bytes);
        }
        let hash = self.strings.hash(&bytes);
        self.alloc(LuaStr::from_vec_hashed(bytes, hash))
    }

    /// Intern or allocate a string.
    pub fn new_str(&mut self, bytes: &[u8]) -> Gc<LuaStr> {
        if bytes.len() <= crate::string::MAX_SHORT_LEN {
            let hash = self.strings.hash(bytes);
            if let Some(s) = self.strings.find(bytes, hash) {
                return s;
            }
            let s = self.alloc(LuaStr::new_hashed(bytes, hash, true));
            self.strings.insert(s);
            s
        } else {
            let hash = self.strings.hash(bytes);
            self.alloc(LuaStr::new_hashed(bytes, hash, false))
        }
    }
}

impl Default for Heap {
    fn default() -> Self {
        Heap::new()
    }
}

impl Heap {
    /// Frees boxes the sweep set aside because their destructors run host code. Each is
    /// dropped under `catch_unwind`: a panicking destructor leaks what it had not freed yet,
    /// but cannot unwind through the collector.
    pub(crate) fn drop_host_boxes(boxes: Vec<ErasedPtr>) {
        for p in boxes {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // SAFETY: each pointer came from Box::into_raw in `alloc`, was unlinked from
                // the object list by the sweep (or the heap's drop) and is freed only here.
                unsafe { drop(Box::from_raw(p.as_ptr())) }
            }));
            if r.is_err() {
                eprintln!("hotlua: a host destructor panicked while the collector freed it");
            }
        }
    }

    /// Lists a tracked prototype (see `FnProto::instances`).
    pub(crate) fn track_proto(&mut self, p: Gc<crate::function::FnProto>) {
        self.tracked_protos.push(p);
    }

    /// Lists a thread (see `Heap::threads`).
    pub(crate) fn track_thread(&mut self, t: Gc<crate::thread::Thread>) {
        self.threads.push(t);
    }

    /// Every live thread (as of the last collection, plus those made since).
    pub fn threads(&self) -> &[Gc<crate::thread::Thread>] {
        &self.threads
    }

    /// Drops the dead entries of the weak lists (tracked prototypes, their instances,
    /// threads): called after marking, before the sweep frees what is unmarked.
    pub(crate) fn purge_weak_lists(&mut self) {
        self.tracked_protos.retain(|p| {
            if !p.header().is_marked() {
                return false;
            }
            // A closure patched to another prototype is listed there too; one of an
            // identical earlier prototype stays listed here (`patch::engine::resolve`).
            p.get().instances.borrow_mut().retain(|c| {
                c.header().is_marked() && crate::patch::engine::resolve(c.get().proto()) == *p
            });
            true
        });
        self.threads.retain(|t| t.header().is_marked());
    }

    /// Memory limit in bytes (0: none): see [`Heap::set_limit`].
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sets the memory limit (0: none); returns the previous one. Going over it makes the
    /// next safe point collect, and allocation fail with "not enough memory" if a
    /// collection does not bring the heap back under it.
    pub fn set_limit(&mut self, limit: usize) -> usize {
        std::mem::replace(&mut self.limit, limit)
    }

    /// Would allocating `extra` more bytes go over the limit?
    #[inline]
    pub fn over_limit(&mut self, extra: usize) -> bool {
        if self.limit == 0 {
            return false;
        }
        self.fold_extra();
        self.bytes.saturating_add(extra) > self.limit
    }
}

impl Drop for Heap {
    /// Frees every object (lua_close). Pending finalizers are not run here: the VM runs them
    /// first if it wants to.
    fn drop(&mut self) {
        for p in self.table_pool.drain(..) {
            // SAFETY: pooled boxes are owned by the pool only (not in the object list).
            unsafe { drop(Box::from_raw(p.as_ptr())) }
        }
        let mut host = Vec::new();
        let mut cur = self.objects.take();
        while let Some(p) = cur {
            // SAFETY: every pointer in the list came from Box::into_raw in `alloc` and is
            // freed exactly once, here or in the sweep (which unlinks it first).
            unsafe {
                cur = p.as_ref().header.next.get();
                if p.as_ref().header.kind == KIND_HOST {
                    host.push(p);
                } else {
                    drop(Box::from_raw(p.as_ptr()));
                }
            }
        }
        Heap::drop_host_boxes(host);
    }
}

/// Unregister for finalization (the object is being finalized now).
fn clear_finobj(v: Value) {
    if let Some(h) = value_header(v) {
        h.flags.set(h.flags.get() & !FINOBJ);
    }
}

/// The header of a collectable value, if it is one.
#[inline]
fn value_header(v: Value) -> Option<&'static GcHeader> {
    // The 'static lifetime is a lie confined to this module: headers are only used while the
    // object is known live (during marking, before the sweep).
    fn h<T>(g: Gc<T>) -> &'static GcHeader {
        // SAFETY: the caller only passes live objects (see above).
        unsafe { &(*g.ptr.as_ptr()).header }
    }
    match v {
        Value::Str(g) => Some(h(g)),
        Value::Table(g) => Some(h(g)),
        Value::LuaFn(g) => Some(h(g)),
        Value::NativeFn(g) => Some(h(g)),
        Value::UserData(g) => Some(h(g)),
        Value::Thread(g) => Some(h(g)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

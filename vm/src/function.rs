//! Functions: instantiated prototypes ([`FnProto`]), Lua closures with swappable protos,
//! native closures, and upvalue cells.
//!
//! Invariant of [`UpvalCell`]: `ptr` points either into the owning thread's stack (the cell
//! is *open*; `thread` is that thread and `index` the slot) or at the cell's own `closed`
//! field (the cell is *closed*). A thread that reallocates its stack re-points every open
//! cell (`Thread::fix_upvalues`). Closing moves the value into the same cell, so every
//! closure sharing the cell keeps sharing it.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use hotlua_compiler::proto::{Constant, LocVar, Proto, UpvalDesc};

use crate::api::NativeFn;
use crate::gc::{Gc, Heap, Marker, Trace};
use crate::string::LuaStr;
use crate::thread::Thread;
use crate::value::Value;

/// The VM's instantiation of a compiler [`Proto`]: constants as Values (strings interned),
/// child protos instantiated, debug information kept. Immutable once built.
pub struct FnProto {
    pub code: Box<[hotlua_compiler::opcode::Instr]>,
    pub constants: Box<[Value]>,
    pub protos: Box<[Gc<FnProto>]>,
    pub upvalues: Box<[UpvalDesc]>,
    /// The upvalue names as interned strings, so that matching upvalues by name (patching,
    /// the debug library) is a pointer compare.
    pub upval_names: Box<[Gc<LuaStr>]>,
    /// The upvalues' declaration identities (`UpvalDesc::decl`), interned likewise.
    pub upval_decls: Box<[Gc<LuaStr>]>,
    /// Part of a module's chunk: its live closures are listed in `instances` (hot patching
    /// updates them in place).
    pub tracked: bool,
    /// The live closures of this prototype, when tracked. Weak: not traced; the collector
    /// removes the dead ones before it frees them (`Heap::purge_weak_lists`).
    pub(crate) instances: RefCell<Vec<Gc<LuaClosure>>>,
    /// The epoch of the patch that replaced this prototype (0 while it is current): frames
    /// running it call the versions that went with it (see `LuaClosure::version_for_epoch`).
    pub superseded: Cell<u32>,
    /// The version of its module this prototype belongs to (0: not a patched module), shown
    /// in tracebacks.
    pub version: Cell<u32>,
    /// The module record (`patch::registry`) this prototype's chunk belongs to, plus one
    /// (0: none), set when `require` records the module and when a patch installs a version.
    pub(crate) module_idx: Cell<u32>,
    /// The identical prototype (same code, upvalues and lines) of a later version of the
    /// module: a patch leaves this prototype's closures alone and lists them with that one
    /// (see `patch::engine::resolve`).
    pub(crate) successor: Cell<Option<Gc<FnProto>>>,
    /// `hotlua_compiler::proto::Proto::source_hash` (a module's main function; 0 otherwise).
    pub source_hash: u64,
    pub num_params: u8,
    pub is_vararg: bool,
    pub max_stack: u8,
    /// The chunk name as given to the compiler.
    pub source: std::sync::Arc<str>,
    /// The declaration name within the parent (`hotlua_compiler::proto::Proto::name`).
    pub name: std::sync::Arc<str>,
    /// The main function of a chunk compiled as a module (its top-level locals are its
    /// upvalues after `_ENV`).
    pub module: bool,
    pub line_defined: u32,
    pub last_line_defined: u32,
    pub line_info: Box<[u32]>,
    pub locvars: Box<[LocVar]>,
    /// Keeps prototypes from being built outside this crate: the interpreter reads
    /// constants, registers and the next instruction unchecked, trusting that every
    /// prototype came from the compiler through [`FnProto::instantiate`].
    _sealed: Sealed,
}

/// See `FnProto::_sealed`.
#[derive(Debug)]
struct Sealed;

impl FnProto {
    /// Instantiates a compiled prototype (and its children) on the heap, taking its
    /// buffers over instead of copying them.
    /// Crate-private: `p` must be the compiler's output, as the interpreter relies on its
    /// invariants (constant and register indices in range, jumps inside the code, a final
    /// return).
    pub(crate) fn instantiate(heap: &mut Heap, p: Proto) -> Gc<FnProto> {
        // Upvalue names are shared (`Arc`) across a chunk's protos: each distinct name is
        // converted once.
        let mut names = NameCache::default();
        let tracked = p.module;
        FnProto::instantiate_with(heap, p, &mut names, tracked)
    }

    fn instantiate_with(
        heap: &mut Heap,
        p: Proto,
        names: &mut NameCache,
        tracked: bool,
    ) -> Gc<FnProto> {
        let constants: Box<[Value]> = p
            .constants
            .into_iter()
            .map(|c| match c {
                Constant::Nil => Value::Nil,
                Constant::Bool(b) => Value::Bool(b),
                Constant::Int(i) => Value::Int(i),
                Constant::Float(f) => Value::Float(f),
                Constant::Str(s) => Value::Str(names.constant(heap, s)),
            })
            .collect();
        let protos: Box<[Gc<FnProto>]> = p
            .protos
            .into_iter()
            .map(|c| FnProto::instantiate_with(heap, *c, names, tracked))
            .collect();
        let upval_names = p
            .upvalues
            .iter()
            .map(|u| names.get(heap, &u.name))
            .collect();
        let upval_decls = p
            .upvalues
            .iter()
            .map(|u| names.get(heap, &u.decl))
            .collect();
        // The interpreter decodes opcodes without a range check (`interp::decode_op`).
        assert!(
            p.code
                .iter()
                .all(|i| ((i.0 & 0x7f) as usize) < hotlua_compiler::opcode::OpCode::ALL.len()),
            "the compiler emitted an unknown opcode"
        );
        let proto = heap.alloc(FnProto {
            upval_names,
            upval_decls,
            tracked,
            instances: RefCell::new(Vec::new()),
            superseded: Cell::new(0),
            version: Cell::new(0),
            module_idx: Cell::new(0),
            successor: Cell::new(None),
            source_hash: p.source_hash,
            code: p.code.into_boxed_slice(),
            constants,
            protos,
            upvalues: p.upvalues.into_boxed_slice(),
            num_params: p.num_params,
            is_vararg: p.is_vararg,
            max_stack: p.max_stack.max(2),
            source: p.source,
            name: p.name,
            module: p.module,
            line_defined: p.line_defined,
            last_line_defined: p.last_line_defined,
            line_info: p.line_info.into_boxed_slice(),
            locvars: p.locvars.into_boxed_slice(),
            _sealed: Sealed,
        });
        if tracked {
            heap.track_proto(proto);
        }
        proto
    }

    /// Records a new closure of this prototype (tracked prototypes only).
    #[inline]
    pub(crate) fn add_instance(&self, c: Gc<LuaClosure>) {
        if self.tracked {
            match self.successor.get() {
                // Listed with the running version's identical prototype.
                Some(_) => crate::patch::engine::resolve(c.get().proto())
                    .get()
                    .instances
                    .borrow_mut()
                    .push(c),
                None => self.instances.borrow_mut().push(c),
            }
        }
    }

    /// The live closures of this prototype (tracked prototypes only).
    pub fn instances(&self) -> Vec<Gc<LuaClosure>> {
        self.instances.borrow().clone()
    }

    /// The source line of the instruction at `pc` (or `line_defined` when unknown).
    pub fn line_at(&self, pc: usize) -> u32 {
        self.line_info.get(pc).copied().unwrap_or(self.line_defined)
    }

    /// The line of the instruction at `pc` as Lua reports it: `None` for a function without
    /// line information (loaded from a stripped binary chunk), where Lua says -1 (or shows
    /// no line at all).
    pub fn current_line(&self, pc: usize) -> Option<u32> {
        if self.line_info.is_empty() {
            None
        } else {
            Some(self.line_at(pc))
        }
    }

    /// The name of the `n`-th (1-based) local variable active at `pc`, as `debug.getlocal`.
    pub fn local_name(&self, n: usize, pc: usize) -> Option<&str> {
        let pc = pc as u32;
        self.locvars
            .iter()
            .filter(|v| v.start_pc <= pc && pc < v.end_pc)
            .nth(n.checked_sub(1)?)
            .map(|v| &*v.name)
    }
}

/// The strings of one chunk being instantiated: each distinct upvalue name or declaration
/// (by the address of its shared text) once, and each distinct long string constant once,
/// so equal long constants of a chunk are one object, as in Lua. The strings stay reachable:
/// every one is stored in the protos being built before any collection can run.
#[derive(Default)]
struct NameCache {
    map: foldhash::HashMap<usize, Gc<LuaStr>>,
    long: foldhash::HashMap<Box<[u8]>, Gc<LuaStr>>,
}

impl NameCache {
    fn get(&mut self, heap: &mut Heap, name: &std::sync::Arc<str>) -> Gc<LuaStr> {
        let key = std::sync::Arc::as_ptr(name) as *const u8 as usize;
        *self
            .map
            .entry(key)
            .or_insert_with(|| heap.new_str(name.as_bytes()))
    }

    /// A string constant (short ones are interned by the heap anyway).
    fn constant(&mut self, heap: &mut Heap, s: Box<[u8]>) -> Gc<LuaStr> {
        if s.len() <= crate::string::MAX_SHORT_LEN {
            return heap.new_str(&s);
        }
        if let Some(g) = self.long.get(&s) {
            return *g;
        }
        let g = heap.new_str(&s);
        self.long.insert(s, g);
        g
    }
}

impl Trace for FnProto {
    fn trace(&self, m: &mut Marker) {
        for c in self.constants.iter() {
            m.mark_value(*c);
        }
        for p in self.protos.iter() {
            m.mark(*p);
        }
        for n in self.upval_names.iter().chain(self.upval_decls.iter()) {
            m.mark(*n);
        }
        if let Some(p) = self.successor.get() {
            m.mark(p);
        }
    }
}

/// A variable captured by closures: open (in a thread's stack) or closed (in the cell).
pub struct UpvalCell {
    ptr: Cell<*mut Value>,
    closed: Cell<Value>,
    /// While open: the stack slot in `thread`.
    index: Cell<usize>,
    /// While open: the thread whose stack holds the value (kept alive by the cell).
    thread: Cell<Option<Gc<Thread>>>,
}

impl UpvalCell {
    /// A closed cell holding `v` (for natives and patching).
    pub fn new_closed(v: Value) -> UpvalCell {
        UpvalCell {
            ptr: Cell::new(std::ptr::null_mut()),
            closed: Cell::new(v),
            index: Cell::new(0),
            thread: Cell::new(None),
        }
    }

    /// An open cell for slot `index` of `thread`'s stack, whose current address is `slot`.
    pub(crate) fn new_open(thread: Gc<Thread>, index: usize, slot: *mut Value) -> UpvalCell {
        UpvalCell {
            ptr: Cell::new(slot),
            closed: Cell::new(Value::Nil),
            index: Cell::new(index),
            thread: Cell::new(Some(thread)),
        }
    }

    /// True while the variable still lives in a thread's stack.
    #[inline]
    pub fn is_open(&self) -> bool {
        !self.ptr.get().is_null()
    }

    /// The stack slot of an open cell.
    pub fn stack_index(&self) -> usize {
        self.index.get()
    }

    /// The current value.
    #[inline(always)]
    pub fn get(&self) -> Value {
        let p = self.ptr.get();
        if p.is_null() {
            return self.closed.get();
        }
        // SAFETY: `ptr` is either our own `closed` field or a slot of the owning thread's
        // stack, kept valid by `Thread::fix_upvalues` on every reallocation; the thread is
        // kept alive by `self.thread` while the cell is open.
        unsafe { *p }
    }

    /// Assigns the variable.
    #[inline(always)]
    pub fn set(&self, v: Value) {
        let p = self.ptr.get();
        if p.is_null() {
            self.closed.set(v);
            return;
        }
        // SAFETY: as in `get`.
        unsafe { *p = v }
    }

    /// Re-points an open cell after its thread's stack moved to `base` (slot 0's address).
    pub(crate) fn rebase(&self, base: *mut Value) {
        // SAFETY: `index` is within the thread's stack, whose new buffer starts at `base`.
        self.ptr.set(unsafe { base.add(self.index.get()) });
    }

    /// Closes an open cell: the value moves into the cell itself.
    pub(crate) fn close(&self) {
        if self.is_open() {
            let v = self.get();
            self.closed.set(v);
            self.ptr.set(std::ptr::null_mut());
            self.thread.set(None);
        }
    }
}

impl Trace for UpvalCell {
    fn trace(&self, m: &mut Marker) {
        m.mark_value(self.get());
        if let Some(t) = self.thread.get() {
            m.mark(t);
        }
    }
}

/// A closure's upvalue array.
pub type Upvals = [Cell<Gc<UpvalCell>>];

/// A closure of a Lua function. Hot patching swaps its prototype and upvalue array in place
/// (`patch::swap`): every holder of the closure runs the new code from its next call, and
/// the previous versions are kept in `history` for the frames that run them.
///
/// Invariants: `upvals` and every history entry's array are owned (from `Box::into_raw`),
/// never moved or freed before the closure is (the interpreter keeps a slice of the array a
/// frame runs with, across calls that may patch the closure); `history` is ordered by
/// epoch, oldest first, and holds each proto the closure had before a patch (with the array
/// that went with it).
pub struct LuaClosure {
    pub proto: Cell<Gc<FnProto>>,
    upvals: Cell<NonNull<Upvals>>,
    history: Cell<Option<NonNull<Vec<PrevVersion>>>>,
}

/// A version of a closure before a patch.
pub struct PrevVersion {
    /// The epoch of the patch that replaced it.
    pub epoch: u32,
    pub proto: Gc<FnProto>,
    upvals: NonNull<Upvals>,
}

fn own_upvals(cells: Vec<Cell<Gc<UpvalCell>>>) -> NonNull<Upvals> {
    let b: Box<Upvals> = cells.into_boxed_slice();
    // SAFETY: Box::into_raw never returns null.
    unsafe { NonNull::new_unchecked(Box::into_raw(b)) }
}

impl LuaClosure {
    /// A closure of `proto` with these cells.
    pub fn new(proto: Gc<FnProto>, cells: Vec<Cell<Gc<UpvalCell>>>) -> LuaClosure {
        LuaClosure {
            proto: Cell::new(proto),
            upvals: Cell::new(own_upvals(cells)),
            history: Cell::new(None),
        }
    }

    /// The current prototype.
    #[inline(always)]
    pub fn proto(&self) -> Gc<FnProto> {
        self.proto.get()
    }

    /// The current upvalue cells.
    #[inline(always)]
    pub fn upvals(&self) -> &Upvals {
        // SAFETY: the array is owned by the closure and freed only when it is (see the
        // type's invariants); it is only accessed through shared references (its cells are
        // `Cell`s).
        unsafe { self.upvals.get().as_ref() }
    }

    /// The `i`-th (0-based) upvalue cell.
    #[inline(always)]
    pub fn upval(&self, i: usize) -> Gc<UpvalCell> {
        self.upvals()[i].get()
    }

    /// True once the closure has been patched (it has earlier versions).
    #[inline(always)]
    pub fn has_history(&self) -> bool {
        self.history.get().is_some()
    }

    /// The earlier versions (oldest first).
    pub fn history(&self) -> &[PrevVersion] {
        match self.history.get() {
            // SAFETY: the history is owned by the closure and only replaced by `swap`, which
            // the VM never runs while a reference from here is live (it is used for lookups
            // that return before anything can patch).
            Some(h) => unsafe { h.as_ref() },
            None => &[],
        }
    }

    /// The upvalue array that goes with `proto`: the current one, or the one a history
    /// entry kept (a frame started before a patch keeps running with it). `None` when the
    /// closure never had `proto`.
    #[inline]
    pub fn upvals_for(&self, proto: Gc<FnProto>) -> Option<&Upvals> {
        if self.proto.get() == proto {
            return Some(self.upvals());
        }
        self.history()
            .iter()
            .rev()
            .find(|v| v.proto == proto)
            .map(|v| {
                // SAFETY: as `upvals`: history arrays are owned and never freed before the
                // closure.
                unsafe { v.upvals.as_ref() }
            })
    }

    /// The version a frame started before patch `epoch` (its proto was superseded then)
    /// should call: the proto (and array) this closure had just before that patch, if it
    /// has been patched since; otherwise the current one.
    #[inline]
    pub fn version_for_epoch(&self, epoch: u32) -> Gc<FnProto> {
        if epoch == 0 {
            return self.proto.get();
        }
        match self
            .history()
            .iter()
            .find(|v| v.epoch >= epoch && v.epoch != u32::MAX)
        {
            Some(v) => v.proto,
            None => self.proto.get(),
        }
    }

    /// Replaces the prototype and upvalue array (a patch at `epoch`), keeping the previous
    /// ones in the history. Returns nothing: undoing a swap is `unswap`.
    pub fn swap(&self, epoch: u32, proto: Gc<FnProto>, cells: Vec<Cell<Gc<UpvalCell>>>) {
        let old = PrevVersion {
            epoch,
            proto: self.proto.get(),
            upvals: self.upvals.get(),
        };
        let h = match self.history.get() {
            Some(h) => h,
            None => {
                let b = Box::new(Vec::new());
                // SAFETY: Box::into_raw never returns null.
                let p = unsafe { NonNull::new_unchecked(Box::into_raw(b)) };
                self.history.set(Some(p));
                p
            }
        };
        // SAFETY: the history vector is owned by the closure; no reference into it is live
        // (see `history`); the arrays it holds are raw pointers, so pushing (which may move
        // the vector's entries) moves no array.
        unsafe { (*h.as_ptr()).push(old) };
        self.proto.set(proto);
        self.upvals.set(own_upvals(cells));
    }

    /// Undoes the last `swap` (a rolled-back transaction): the previous proto and array
    /// come back. The array being replaced is kept in the history (a frame may still run
    /// with it) under the epoch `u32::MAX`, which no patch uses.
    pub fn unswap(&self) -> bool {
        let Some(h) = self.history.get() else {
            return false;
        };
        // SAFETY: as in `swap`.
        let hist = unsafe { &mut *h.as_ptr() };
        let Some(pos) = hist.iter().rposition(|v| v.epoch != u32::MAX) else {
            return false;
        };
        let prev = hist.remove(pos);
        let cur = PrevVersion {
            epoch: u32::MAX,
            proto: self.proto.get(),
            upvals: self.upvals.get(),
        };
        hist.push(cur);
        self.proto.set(prev.proto);
        self.upvals.set(prev.upvals);
        true
    }
}

impl Drop for LuaClosure {
    fn drop(&mut self) {
        // SAFETY: the arrays came from Box::into_raw and are freed only here, once each;
        // the history from Box::into_raw likewise.
        unsafe {
            drop(Box::from_raw(self.upvals.get().as_ptr()));
            if let Some(h) = self.history.get() {
                let hist = Box::from_raw(h.as_ptr());
                for v in hist.iter() {
                    drop(Box::from_raw(v.upvals.as_ptr()));
                }
            }
        }
    }
}

impl Trace for LuaClosure {
    fn trace(&self, m: &mut Marker) {
        m.mark(self.proto.get());
        for u in self.upvals().iter() {
            m.mark(u.get());
        }
        for v in self.history() {
            m.mark(v.proto);
            // SAFETY: as in `upvals_for`.
            for u in unsafe { v.upvals.as_ref() }.iter() {
                m.mark(u.get());
            }
        }
    }

    fn extra_bytes(&self) -> usize {
        std::mem::size_of_val(self.upvals())
    }
}

/// A Rust function with upvalues (Lua's C closure).
pub struct NativeClosure {
    pub f: NativeFn,
    pub upvals: Box<[Cell<Value>]>,
    /// The name shown in tracebacks and argument errors when the call site gives none.
    pub name: &'static str,
    /// A host (embedding) callback, for closures made by [`Vm::new_host_function`]: `f` is
    /// then [`crate::host::host_trampoline`]. Invisible to Lua (not an upvalue).
    ///
    /// [`Vm::new_host_function`]: crate::state::Vm::new_host_function
    pub host: Option<std::rc::Rc<crate::host::HostFn>>,
    /// Which built-in this is, for the interpreter's fast paths (`pcall`, `type`, ...).
    pub builtin: Builtin,
}

/// Built-in functions the interpreter runs specially, recognised by this tag (set when the
/// base library creates them), never by their address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// An ordinary native.
    None,
    /// `pcall`: run as a protected marker frame by the loop.
    Pcall,
    /// `xpcall`: likewise, with a message handler.
    Xpcall,
    /// `type`: answered without a native frame when called with one value for one result.
    Type,
    /// `next`: run inline by `TFORCALL` for `pairs` loops over tables.
    Next,
}

impl Trace for NativeClosure {
    fn trace(&self, m: &mut Marker) {
        for u in self.upvals.iter() {
            m.mark_value(u.get());
        }
    }
}

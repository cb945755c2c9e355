//! Functions: instantiated prototypes ([`FnProto`]), Lua closures with swappable protos,
//! native closures, and upvalue cells.
//!
//! Invariant of [`UpvalCell`]: `ptr` points either into the owning thread's stack (the cell
//! is *open*; `thread` is that thread and `index` the slot) or at the cell's own `closed`
//! field (the cell is *closed*). A thread that reallocates its stack re-points every open
//! cell (`Thread::fix_upvalues`). Closing moves the value into the same cell, so every
//! closure sharing the cell keeps sharing it.

use std::cell::Cell;

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
        FnProto::instantiate_with(heap, p, &mut names)
    }

    fn instantiate_with(heap: &mut Heap, p: Proto, names: &mut NameCache) -> Gc<FnProto> {
        let constants: Box<[Value]> = p
            .constants
            .into_iter()
            .map(|c| match c {
                Constant::Nil => Value::Nil,
                Constant::Bool(b) => Value::Bool(b),
                Constant::Int(i) => Value::Int(i),
                Constant::Float(f) => Value::Float(f),
                Constant::Str(s) => Value::Str(heap.new_str(&s)),
            })
            .collect();
        let protos: Box<[Gc<FnProto>]> = p
            .protos
            .into_iter()
            .map(|c| FnProto::instantiate_with(heap, *c, names))
            .collect();
        let upval_names = p
            .upvalues
            .iter()
            .map(|u| names.get(heap, &u.name))
            .collect();
        // The interpreter decodes opcodes without a range check (`interp::decode_op`).
        assert!(
            p.code
                .iter()
                .all(|i| ((i.0 & 0x7f) as usize) < hotlua_compiler::opcode::OpCode::ALL.len()),
            "the compiler emitted an unknown opcode"
        );
        heap.alloc(FnProto {
            upval_names,
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
        })
    }

    /// The source line of the instruction at `pc` (or `line_defined` when unknown).
    pub fn line_at(&self, pc: usize) -> u32 {
        self.line_info.get(pc).copied().unwrap_or(self.line_defined)
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

/// The interned string of each distinct upvalue name (by the address of its shared text)
/// met while instantiating one chunk. The strings stay reachable: every one is stored in
/// an `upval_names` of the protos being built before any collection can run.
#[derive(Default)]
struct NameCache {
    map: std::collections::HashMap<usize, Gc<LuaStr>, std::hash::BuildHasherDefault<AddrHasher>>,
}

/// Hashes an address with one multiply (SipHash would cost more than the lookup saves).
#[derive(Default)]
struct AddrHasher(u64);

impl std::hash::Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, i: usize) {
        self.0 = (i as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(20);
    }
}

impl NameCache {
    fn get(&mut self, heap: &mut Heap, name: &std::sync::Arc<str>) -> Gc<LuaStr> {
        let key = std::sync::Arc::as_ptr(name) as *const u8 as usize;
        *self
            .map
            .entry(key)
            .or_insert_with(|| heap.new_str(name.as_bytes()))
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
        for n in self.upval_names.iter() {
            m.mark(*n);
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

/// A closure of a Lua function. The proto can be swapped in place (hot patching); a running
/// frame keeps the proto it started with.
pub struct LuaClosure {
    pub proto: Cell<Gc<FnProto>>,
    pub upvals: Box<[Cell<Gc<UpvalCell>>]>,
}

impl LuaClosure {
    /// The current prototype.
    #[inline(always)]
    pub fn proto(&self) -> Gc<FnProto> {
        self.proto.get()
    }

    /// The `i`-th (0-based) upvalue cell.
    #[inline(always)]
    pub fn upval(&self, i: usize) -> Gc<UpvalCell> {
        self.upvals[i].get()
    }
}

impl Trace for LuaClosure {
    fn trace(&self, m: &mut Marker) {
        m.mark(self.proto.get());
        for u in self.upvals.iter() {
            m.mark(u.get());
        }
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

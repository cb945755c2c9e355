//! The `Vm`: owner of the heap, the registry, globals, per-type metatables, threads, and
//! host-rooted handles. Also the embedding API (load, call, globals, rooting, GC).
//!
//! Invariant: a collection only happens in [`Vm::gc_check`] / [`Vm::full_gc`], called at
//! safe points where every live value is reachable from the roots marked here (the running
//! thread's stack up to its live top included).

use std::cell::Cell;
use std::rc::Rc;

use crate::api::{NativeFn, RootedValue};
use crate::error::LuaError;
use crate::function::{FnProto, LuaClosure, NativeClosure, UpvalCell};
use crate::gc::{Gc, Heap};
use crate::meta::{Tm, TM_COUNT, TM_NAMES};
use crate::string::LuaStr;
use crate::table::Table;
use crate::thread::{Thread, MAX_STACK};
use crate::value::{Value, TYPE_NAMES};

/// `LUAI_MAXCCALLS`: nesting limit of Rust-level calls (natives calling Lua, metamethods).
pub const MAX_C_CALLS: u32 = 200;

/// A Lua state.
pub struct Vm {
    /// The heap (internal: see the crate's contract).
    #[doc(hidden)]
    pub heap: Heap,
    #[doc(hidden)]
    pub main: Gc<Thread>,
    #[doc(hidden)]
    pub cur: Gc<Thread>,
    pub(crate) globals: Gc<Table>,
    pub(crate) registry: Gc<Table>,
    /// Metatables of non-table types, indexed by [`type_index`].
    pub(crate) type_mts: [Option<Gc<Table>>; 8],
    pub(crate) tm: [Gc<LuaStr>; TM_COUNT],
    /// `type()`'s answers, interned once (see [`Vm::type_name_str`]).
    pub(crate) type_names: [Gc<LuaStr>; 8],
    pub(crate) roots: Vec<Rc<Cell<Value>>>,
    /// Nesting of Rust-level calls into Lua plus pending metamethod frames.
    pub(crate) c_calls: u32,
    /// The last error that left the Vm (rooted so a host can inspect it).
    pub(crate) last_error: Value,
    pub(crate) running_finalizers: bool,
    /// Where the running finalizer's frame is (thread, frame index): `getinfo` names it
    /// `__gc`, a metamethod (PUC's `CIST_FIN`).
    pub(crate) finalizer_frame: Option<(Gc<Thread>, usize)>,
    /// Extra stack allowed while an overflow error is being handled.
    pub(crate) stack_limit: usize,
    /// Output of `warn` (on/off by `@on`/`@off`).
    pub(crate) warn_on: bool,
    pub(crate) warn_buf: Vec<u8>,
    /// A warning's first pieces arrived (`warn` with more to come).
    pub(crate) warn_pending: bool,
    /// `close` has begun: no new object is registered for finalization (lua_close's
    /// `GCSTPCLS`), and the finalizers it has still to call wait in `close_queue`, so that
    /// a nested `close` (`os.exit(c, true)` from a finalizer) calls the rest.
    pub(crate) closing: bool,
    close_queue: Vec<RootedValue>,
    /// Where `print` writes (stdout unless a host redirects it).
    pub(crate) stdout: Box<dyn std::io::Write>,
    /// The collector mode `collectgarbage` reports ("incremental" or "generational"); the
    /// collector itself is stop-the-world either way.
    pub gc_mode: &'static str,
    /// Testing aid: collect at every safe point (shakes out values the VM forgot to root).
    pub gc_stress: bool,
    /// Debug hooks (`debug.sethook`); `hooks.mask` is zero when none is set.
    pub(crate) hooks: crate::hooks::HookState,
    /// Per-state Rust-side data of libraries and runtimes (see `ext.rs`).
    pub(crate) ext: crate::ext::Extensions,
    /// Values rooted by the host's handles (see `host.rs`).
    pub(crate) host_roots: Rc<crate::host::HostRoots>,
    /// Set by a watchdog thread to interrupt running code (see `host.rs`).
    pub(crate) signal: std::sync::Arc<crate::host::Signal>,
    /// Output captures (see `capture.rs`).
    pub(crate) captures: crate::capture::Captures,
    /// Protected calls under a time budget (see `deadline.rs`).
    pub(crate) deadlines: crate::deadline::Deadlines,
    /// The message an interrupt raises.
    pub(crate) interrupt_message: &'static str,
    /// Whether that message gets the `chunk:line:` prefix of the running function.
    pub(crate) interrupt_positioned: bool,
    /// "not enough memory", preallocated: raising it must not need memory.
    pub(crate) mem_err: Gc<LuaStr>,
    /// The tagged built-ins (`pcall`, `xpcall`, `type`, `next`) once the base library made
    /// them, indexed by `Builtin as usize - 1` (nil before).
    pub(crate) builtins: [Value; 4],
    /// Threads that resumed (or are closing) the running coroutine, innermost last: no
    /// longer `cur`, so rooted here while they wait.
    pub(crate) resumers: Vec<Gc<Thread>>,
    /// Arguments of the call a native asked to end with (`Vm::tail_call`).
    pub(crate) tail_nargs: usize,
}

impl Vm {
    /// `type(v)` as an interned string, without a lookup.
    #[inline]
    pub fn type_name_str(&self, v: Value) -> Gc<LuaStr> {
        self.type_names[v.type_index()]
    }
}

/// Index of a value's type for [`Vm::type_mts`].
#[inline]
pub(crate) fn type_index(v: Value) -> usize {
    match v {
        Value::Nil => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 2,
        Value::Str(_) => 3,
        Value::LuaFn(_) | Value::NativeFn(_) | Value::LightFn(_) => 4,
        Value::LightUserData(_) => 5,
        Value::Thread(_) => 6,
        Value::Table(_) | Value::UserData(_) => 7,
    }
}

impl Drop for Vm {
    /// Extensions go first (they may hold heap pointers; the heap frees every object
    /// afterwards, with its own drop).
    fn drop(&mut self) {
        drop(self.ext.clear());
    }
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}

impl Vm {
    /// A fresh state with no library: its globals hold only `_G`. The libraries are
    /// installed by hotlua-stdlib (`open::open_libs` or one by one).
    pub fn new() -> Vm {
        let mut heap = Heap::new();
        let main = heap.alloc(Thread::new());
        heap.track_thread(main);
        let globals = heap.new_table();
        let registry = heap.new_table();
        let tm = std::array::from_fn(|i| heap.new_str(TM_NAMES[i].as_bytes()));
        let type_names = std::array::from_fn(|i| heap.new_str(TYPE_NAMES[i].as_bytes()));
        let mem_err = heap.new_str(b"not enough memory");
        let mut vm = Vm {
            heap,
            main,
            cur: main,
            globals,
            registry,
            type_mts: [None; 8],
            tm,
            type_names,
            roots: Vec::new(),
            c_calls: 0,
            last_error: Value::Nil,
            running_finalizers: false,
            finalizer_frame: None,
            stack_limit: MAX_STACK,
            warn_on: false,
            warn_buf: Vec::new(),
            warn_pending: false,
            closing: false,
            close_queue: Vec::new(),
            stdout: Box::new(std::io::stdout()),
            gc_mode: "incremental",
            gc_stress: false,
            hooks: Default::default(),
            ext: Default::default(),
            host_roots: Default::default(),
            signal: Default::default(),
            deadlines: Default::default(),
            captures: Default::default(),
            interrupt_message: "interrupted",
            interrupt_positioned: true,
            mem_err,
            builtins: [Value::Nil; 4],
            resumers: Vec::new(),
            tail_nargs: 0,
        };
        let k = vm.str_value("_G");
        vm.globals.get_mut().set(k, Value::Table(globals)).ok();
        let k = vm.str_value("_LOADED");
        let loaded = vm.heap.new_table();
        vm.registry.get_mut().set(k, Value::Table(loaded)).ok();
        let g = vm.str_value("_G");
        loaded.get_mut().set(g, Value::Table(globals)).ok();
        vm
    }

    /// Redirects `print` (and later the io library's default output).
    pub fn set_stdout(&mut self, w: Box<dyn std::io::Write>) {
        self.stdout = w;
    }

    /// The writer `print` uses.
    pub fn stdout(&mut self) -> &mut dyn std::io::Write {
        &mut *self.stdout
    }

    /// The globals table.
    pub fn globals(&self) -> Gc<Table> {
        self.globals
    }

    /// The registry table.
    pub fn registry(&self) -> Gc<Table> {
        self.registry
    }

    /// Creates (or finds the interned) string.
    pub fn new_str(&mut self, s: impl AsRef<[u8]>) -> Gc<LuaStr> {
        self.heap.new_str(s.as_ref())
    }

    /// A string value.
    pub fn str_value(&mut self, s: impl AsRef<[u8]>) -> Value {
        Value::Str(self.heap.new_str(s.as_ref()))
    }

    /// A new empty table.
    pub fn new_table(&mut self) -> Gc<Table> {
        self.heap.new_table()
    }

    /// Reads a global (raw access to the globals table).
    pub fn get_global(&mut self, name: &str) -> Value {
        let k = self.new_str(name);
        self.globals.get().get_str(k)
    }

    /// Assigns a global (raw access to the globals table).
    pub fn set_global(&mut self, name: &str, v: Value) {
        let k = self.new_str(name);
        self.globals.get_mut().set_str(k, v);
    }

    /// Registers a native function as a global.
    pub fn register(&mut self, name: &str, f: NativeFn) {
        self.set_global(name, Value::LightFn(f));
    }

    /// A native closure with upvalues; `name` is used in messages when the call site gives
    /// none.
    pub fn new_native_closure(
        &mut self,
        f: NativeFn,
        name: &'static str,
        upvals: Vec<Value>,
    ) -> Value {
        let upvals = upvals.into_iter().map(Cell::new).collect();
        Value::NativeFn(self.heap.alloc(NativeClosure {
            f,
            upvals,
            name,
            host: None,
            builtin: crate::function::Builtin::None,
        }))
    }

    /// A native tagged as built-in `b`, which the interpreter runs specially (see
    /// [`Builtin`](crate::function::Builtin)); remembered as the state's `b`.
    pub fn new_builtin(
        &mut self,
        b: crate::function::Builtin,
        f: NativeFn,
        name: &'static str,
    ) -> Value {
        let v = Value::NativeFn(self.heap.alloc(NativeClosure {
            f,
            upvals: Box::new([]),
            name,
            host: None,
            builtin: b,
        }));
        if b != crate::function::Builtin::None {
            self.builtins[b as usize - 1] = v;
        }
        v
    }

    /// The state's built-in `b` (nil if the base library did not make it).
    pub fn builtin(&self, b: crate::function::Builtin) -> Value {
        match b {
            crate::function::Builtin::None => Value::Nil,
            _ => self.builtins[b as usize - 1],
        }
    }

    /// The metatable of any value (tables and userdata have their own, others share one per
    /// type).
    #[inline]
    pub fn metatable(&self, v: Value) -> Option<Gc<Table>> {
        match v {
            Value::Table(t) => t.get().metatable,
            Value::UserData(u) => u.get().metatable,
            _ => self.type_mts[type_index(v)],
        }
    }

    /// Sets the shared metatable of a non-table type (the string library uses it).
    pub fn set_type_metatable(&mut self, sample: Value, mt: Option<Gc<Table>>) {
        self.type_mts[type_index(sample)] = mt;
    }

    /// Keeps `v` alive across collections until the handle is dropped.
    pub fn root(&mut self, v: Value) -> RootedValue {
        let cell = Rc::new(Cell::new(v));
        self.roots.push(cell.clone());
        RootedValue { cell }
    }

    /// Compiles a chunk into a function whose `_ENV` is `env` (the globals by default).
    /// A syntax error is returned as a `LuaError` holding the message string. A binary
    /// chunk (starting with `\x1bLua`, as `string.dump` makes) is read and verified
    /// instead (`crate::dump::undump`); its other upvalues start as nil.
    pub fn load(
        &mut self,
        source: &[u8],
        chunk_name: &str,
        env: Option<Value>,
    ) -> Result<Value, LuaError> {
        self.load_as(source, chunk_name, env, false)
    }

    /// Compiles a chunk as a module (`hotlua_compiler::compile_module`: its top-level
    /// locals live in its upvalues, so they outlive it as cells), as `require` loads.
    pub fn load_module(
        &mut self,
        source: &[u8],
        chunk_name: &str,
        env: Option<Value>,
    ) -> Result<Value, LuaError> {
        self.load_as(source, chunk_name, env, true)
    }

    fn load_as(
        &mut self,
        source: &[u8],
        chunk_name: &str,
        env: Option<Value>,
        module: bool,
    ) -> Result<Value, LuaError> {
        let compiled = if source.first() == Some(&crate::dump::SIGNATURE[0]) {
            // A binary chunk (`string.dump`): read and verified, never trusted. Its
            // prototype says whether it is a module's.
            crate::dump::undump(source).map_err(|e| e.message(chunk_name))
        } else if module {
            hotlua_compiler::compile_module(source, chunk_name).map_err(|e| e.message)
        } else {
            hotlua_compiler::compile(source, chunk_name).map_err(|e| e.message)
        };
        match compiled {
            Ok(p) => {
                let proto = FnProto::instantiate(&mut self.heap, p);
                let env = env.unwrap_or(Value::Table(self.globals));
                let n = proto.get().upvalues.len();
                let mut ups = Vec::with_capacity(n);
                for i in 0..n {
                    let v = if i == 0 { env } else { Value::Nil };
                    ups.push(Cell::new(self.heap.alloc(UpvalCell::new_closed(v))));
                }
                let cl = self.heap.alloc(LuaClosure::new(proto, ups));
                proto.get().add_instance(cl);
                Ok(Value::LuaFn(cl))
            }
            Err(message) => Err(LuaError::new(self.str_value(message))),
        }
    }

    /// Runs a collection if the heap's debt calls for one (a safe point).
    #[inline]
    pub fn gc_check(&mut self) {
        if self.gc_stress || self.heap.should_collect() {
            self.full_gc();
        }
    }

    /// A safe point that also enforces the memory limit: collects when due, and raises
    /// "not enough memory" when the heap is still over the limit afterwards.
    #[inline]
    pub fn gc_check_limit(&mut self) -> Result<(), LuaError> {
        if self.gc_stress || self.heap.should_collect() {
            self.full_gc();
            if self.heap.over_limit(0) && !self.gc_inhibited() {
                return Err(self.memory_error());
            }
        }
        Ok(())
    }

    /// The "not enough memory" error (no position, as Lua's).
    #[cold]
    pub fn memory_error(&mut self) -> LuaError {
        LuaError::new(Value::Str(self.mem_err))
    }

    /// Makes room for an allocation of `bytes` that a native is about to make, as Lua's
    /// emergency collection does: when it would go over the memory limit, collects first,
    /// then fails with "not enough memory" if it still would. Call it only where every live
    /// value is rooted (a native's arguments on the stack, nothing held in Rust locals).
    pub fn reserve_bytes(&mut self, bytes: usize) -> Result<(), LuaError> {
        if self.heap.over_limit(bytes) {
            self.full_gc();
            if self.heap.over_limit(bytes) {
                return Err(self.memory_error());
            }
        }
        Ok(())
    }

    /// An empty buffer with room for `n` bytes, for a string a native is about to build:
    /// the memory limit applies (collecting first when needed, as [`Vm::reserve_bytes`]:
    /// call it only where every live value is rooted), and a failed allocation is "not
    /// enough memory", never an abort.
    pub fn alloc_buffer(&mut self, n: usize) -> Result<Vec<u8>, LuaError> {
        self.reserve_bytes(n)?;
        self.alloc_buffer_unrooted(n)
    }

    /// As [`Vm::alloc_buffer`], without collecting (for callers holding unrooted values).
    pub fn alloc_buffer_unrooted(&mut self, n: usize) -> Result<Vec<u8>, LuaError> {
        self.check_alloc(n)?;
        let mut v = Vec::new();
        if v.try_reserve_exact(n).is_err() {
            return Err(self.memory_error());
        }
        Ok(v)
    }

    /// Fails with "not enough memory" if allocating `bytes` would go over the memory limit,
    /// without collecting (for natives holding unrooted values).
    #[inline]
    pub fn check_alloc(&mut self, bytes: usize) -> Result<(), LuaError> {
        if self.heap.over_limit(bytes) {
            return Err(self.memory_error());
        }
        Ok(())
    }

    /// A full collection now, then the pending finalizers. Deferred (a no-op) while an
    /// extension is lent out (see `ext.rs`).
    pub fn full_gc(&mut self) {
        if self.gc_inhibited() {
            return;
        }
        self.collect_only();
        self.run_finalizers();
    }

    /// Marks the roots and sweeps (no finalizers run).
    pub(crate) fn collect_only(&mut self) {
        // Stale slots above a thread's live top must not keep (or later expose) dead objects.
        // Suspended coroutines clear theirs when they stop running (`Thread::clear_stale`).
        for th in [self.main, self.cur] {
            th.get_mut().clear_stale();
        }
        self.roots.retain(|r| Rc::strong_count(r) > 1);
        let roots: Vec<Value> = self.roots.iter().map(|r| r.get()).collect();
        let (globals, registry, main, cur, tms, tm, last) = (
            self.globals,
            self.registry,
            self.main,
            self.cur,
            self.type_mts,
            self.tm,
            self.last_error,
        );
        let type_names = self.type_names;
        let mem_err = self.mem_err;
        let builtins = self.builtins;
        let resumers = &self.resumers;
        let deadlines = &self.deadlines;
        let captures = &self.captures;
        let host_roots = self.host_roots.clone();
        let ext = &self.ext;
        self.heap.collect(|m| {
            m.mark(globals);
            m.mark(registry);
            m.mark(main);
            m.mark(cur);
            for t in tms.iter().flatten() {
                m.mark(*t);
            }
            for s in tm.iter().chain(type_names.iter()) {
                m.mark_value(Value::Str(*s));
            }
            m.mark_values(&roots);
            m.mark_value(last);
            m.mark_value(Value::Str(mem_err));
            m.mark_values(&builtins);
            for t in resumers.iter() {
                m.mark(*t);
            }
            host_roots.trace(m);
            deadlines.trace(m);
            captures.trace(m);
            ext.trace(m);
        });
    }

    /// True while finalizers (`__gc` metamethods) run: the collector is not reentrant, so
    /// `collectgarbage` answers fail then, as in Lua 5.4.
    pub fn running_finalizers(&self) -> bool {
        self.running_finalizers
    }

    /// Calls the `__gc` of every object the last collection found unreachable; errors
    /// become warnings.
    pub(crate) fn run_finalizers(&mut self) {
        if self.running_finalizers || !self.heap.has_pending_finalizers() {
            return;
        }
        self.running_finalizers = true;
        let objs = self.heap.take_pending_finalizers();
        // Keep them all alive while finalizers run (a finalizer may trigger a collection).
        let keep: Vec<RootedValue> = objs.iter().map(|&o| self.root(o)).collect();
        for o in &keep {
            let obj = o.get();
            let f = self.get_tm(obj, Tm::Gc);
            if f.is_nil() {
                continue;
            }
            if let Err(e) = self.call_finalizer(f, obj) {
                let msg = self.to_display(e.value);
                self.warn(&format!("error in __gc ({})", msg), false);
            }
        }
        drop(keep);
        self.running_finalizers = false;
    }

    /// Calls finalizer `f` of `obj`, protected, its frame known as a finalizer's.
    fn call_finalizer(&mut self, f: Value, obj: Value) -> Result<Vec<Value>, LuaError> {
        let saved = self.finalizer_frame;
        self.finalizer_frame = Some((self.cur, self.cur.get().frames.len()));
        let r = self.pcall_value(f, &[obj], None);
        self.finalizer_frame = saved;
        r
    }

    /// `lua_close`'s first step: when the running thread is the main one (or runs the
    /// program's main chunk, see `set_program_main`), its pending to-be-closed variables
    /// are closed as on a normal exit (no error; one a `__close` raises goes to the next).
    /// The frames they belong to are abandoned: the state is being closed.
    fn close_main_chunk(&mut self) {
        let co = self.cur;
        if (co != self.main && !co.get().program_main) || co.get().tbc.is_empty() {
            return;
        }
        let _ = self.close_all(0, None, None);
    }

    /// Emits a warning (`warn`): printed to stderr as `Lua warning: ...` when on.
    pub fn warn(&mut self, msg: &str, to_continue: bool) {
        // A control message is a whole warning of one piece (not the end of a longer one,
        // even when the earlier pieces were empty).
        if !to_continue && !self.warn_pending && msg.starts_with('@') {
            match msg {
                "@on" => self.warn_on = true,
                "@off" => self.warn_on = false,
                _ => {}
            }
            return;
        }
        self.warn_buf.extend_from_slice(msg.as_bytes());
        self.warn_pending = to_continue;
        if !to_continue {
            if self.warn_on {
                eprintln!("Lua warning: {}", String::from_utf8_lossy(&self.warn_buf));
            }
            self.warn_buf.clear();
        }
    }

    /// Closes the state as `lua_close` does: the pending to-be-closed variables of the
    /// running main chunk first (`os.exit(code, true)` from it comes here), then every
    /// registered finalizer. Call before dropping a Vm whose finalizers must run.
    pub fn close(&mut self) {
        if !self.closing {
            self.close_main_chunk();
            self.closing = true;
            // As lua_close: the collector does not run finalizers any more (one called now
            // cannot collect: `collectgarbage` answers fail), and objects made by these
            // finalizers are not finalized (`closing`).
            self.running_finalizers = true;
            let all = self.heap.take_all_finalizers();
            let mut keep: Vec<RootedValue> = all.iter().map(|&o| self.root(o)).collect();
            keep.reverse();
            self.close_queue = keep;
        }
        while let Some(o) = self.close_queue.pop() {
            let obj = o.get();
            let f = self.get_tm(obj, Tm::Gc);
            if !f.is_nil() {
                if let Err(e) = self.call_finalizer(f, obj) {
                    let msg = self.to_display(e.value);
                    self.warn(&format!("error in __gc ({})", msg), false);
                }
            }
        }
    }
}

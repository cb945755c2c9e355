//! [`Lua`]: a state, and the discipline that makes the embedding API sound.
//!
//! The VM (`hotlua_vm::Vm`) works with raw heap pointers and `&mut Vm` everywhere. This module
//! is the only place that produces a `&mut Vm` for the facade, and it upholds:
//!
//! - **One access at a time.** [`Inner::with_vm`] hands out the `&mut Vm` for the duration of
//!   a closure of this crate's own code, which never runs user code inside it. A `busy` flag
//!   makes a second, overlapping `with_vm` fail with an error instead of aliasing.
//! - **Callbacks nest, not alias.** When the VM calls a Rust callback it passes its own
//!   `&mut Vm`; [`Inner::enter_callback`] makes that reference (not the original pointer) the
//!   one the next `with_vm` reborrows from, and clears `busy` while user code runs. So every
//!   `&mut Vm` in existence is a reborrow of the one below it, used only while those below
//!   it are not (Stacked Borrows' discipline).
//! - **Handles root what they name.** A handle ([`ValueRef`]) is a slot of the VM's host
//!   root slab: the collector marks it until the last clone of the handle is dropped.
//!   Dropping a handle touches only the slab (its own allocation), never the VM.
//! - **The state outlives its borrows.** Handles hold a weak reference: using one after every
//!   [`Lua`] is dropped is an error, never a dangling access. Borrows that point into the
//!   heap (`BorrowedStr`, `UserDataRef`) also hold a strong reference.
//! - **Panics stop at the boundary.** A panic in a callback is caught where the VM called it
//!   and becomes a Lua error; a panic of this crate's own code while the VM is borrowed
//!   poisons the state (every later call fails) instead of leaving it half updated.

use std::any::TypeId;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ptr::NonNull;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use hotlua_vm::api::Args;
use hotlua_vm::host::{HostRoots, Signal};
use hotlua_vm::userdata::UserData as RawUserData;
use hotlua_vm::{LuaError, Value as Raw, Vm};

use crate::error::{Error, Result};
use crate::value::Value;

/// A Lua state: the VM, its libraries and its runtime.
///
/// Cheap to clone (a reference count): clones are the same state. Handles made by a state
/// ([`Table`](crate::Table), [`Function`](crate::Function), ...) keep only a weak reference
/// to it; the state is closed (finalizers run, memory freed) when the last `Lua` clone is
/// dropped, and handles used afterwards return an error.
///
/// # Not `Send`
/// A `Lua` stays on the thread that made it. Its handles share the state through
/// non-atomic reference counts, and the Rust callbacks it holds need not be `Send`, so
/// moving it to another thread while any of them stays behind would be a data race. To run
/// Lua on another thread, create the state there; to stop it from another thread, use an
/// [`InterruptHandle`](crate::InterruptHandle), which is `Send + Sync`.
///
/// ```
/// use hotlua::Lua;
/// let lua = Lua::new();
/// lua.globals().set("x", 20).unwrap();
/// let n: i64 = lua.load("return x + 22").eval().unwrap();
/// assert_eq!(n, 42);
/// ```
///
/// ```compile_fail
/// // A state cannot be sent to another thread.
/// let lua = hotlua::Lua::new();
/// std::thread::spawn(move || drop(lua));
/// ```
#[derive(Clone)]
pub struct Lua {
    pub(crate) inner: Rc<Inner>,
}

/// A weak reference to a state, held by handles.
#[derive(Clone)]
pub(crate) struct WeakLua(pub(crate) Weak<Inner>);

impl WeakLua {
    /// The state, or the error every handle gives once it is gone.
    pub(crate) fn upgrade(&self) -> Result<Lua> {
        match self.0.upgrade() {
            Some(inner) => Ok(Lua { inner }),
            None => Err(Error::runtime(
                "the Lua state this value belongs to is closed",
            )),
        }
    }
}

/// The state's shared part.
pub(crate) struct Inner {
    /// The VM, owned (from `Box::into_raw`), freed in `Drop`.
    vm: NonNull<Vm>,
    /// The pointer `with_vm` reborrows from: `vm`, or the `&mut Vm` of the callback that is
    /// running now (see the module docs).
    active: Cell<NonNull<Vm>>,
    /// A `&mut Vm` handed out by `with_vm` is live.
    busy: Cell<bool>,
    /// Nesting of host entries (outermost: 0), for interrupt clearing.
    depth: Cell<u32>,
    /// A panic unwound through a `with_vm`: the VM may be inconsistent.
    poisoned: Cell<bool>,
    /// The VM's host root slab (the storage behind handles).
    pub(crate) roots: Rc<HostRoots>,
    /// The VM's signal word (interrupts).
    pub(crate) signal: Arc<Signal>,
    /// This `Inner`, weakly (handles clone it).
    pub(crate) weak: Weak<Inner>,
    /// Userdata metatables by Rust type: the slab slot of each.
    pub(crate) ud_meta: RefCell<HashMap<TypeId, u32>>,
    /// The metatable of wrapped Rust errors (a slab slot), once made.
    pub(crate) err_meta: Cell<Option<u32>>,
    /// `LuaOptions::catch_rust_panics`.
    pub(crate) catch_panics: bool,
    /// A callback's panic to resume once the error reaches the host (when panics are not
    /// caught).
    pub(crate) pending_panic: RefCell<Option<Box<dyn std::any::Any + Send>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // SAFETY: `vm` came from Box::into_raw in `Lua::from_vm` and is freed only here. No
        // `&mut Vm` is live: every `with_vm` borrows `self` through a strong reference, and
        // the strong count is zero now.
        let mut vm = unsafe { Box::from_raw(self.vm.as_ptr()) };
        // Finalizers run as `lua_close` runs them. A callback they reach finds the state
        // closing (its weak reference no longer upgrades) and fails cleanly.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vm.close()));
        drop(vm);
    }
}

/// Restores the access flags when a `with_vm` ends, even by a panic.
struct EntryGuard<'a> {
    inner: &'a Inner,
    depth: u32,
}

impl Drop for EntryGuard<'_> {
    fn drop(&mut self) {
        self.inner.busy.set(false);
        self.inner.depth.set(self.depth);
        if std::thread::panicking() {
            self.inner.poisoned.set(true);
        }
        if self.depth == 0 {
            // An interrupt stops the host call it was asked for, and no later one.
            self.inner.signal.clear_interrupt();
        }
    }
}

impl Inner {
    /// Runs `f` with the VM. `f` must be this crate's code that runs no user code (no
    /// conversion trait, no user closure): callbacks the VM calls meanwhile go through
    /// `enter_callback`.
    pub(crate) fn with_vm<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> Result<R> {
        if self.poisoned.get() {
            return Err(Error::runtime(
                "the Lua state was poisoned by a panic and can no longer be used",
            ));
        }
        if self.busy.get() {
            return Err(Error::runtime(
                "the Lua state is busy: a value was used from code running inside the VM \
                 (such as a destructor run by the collector)",
            ));
        }
        let depth = self.depth.get();
        self.busy.set(true);
        self.depth.set(depth + 1);
        if depth == 0 {
            self.signal.clear_interrupt();
        }
        let guard = EntryGuard { inner: self, depth };
        // SAFETY: `active` points at the live VM (owned by `self`, freed only when `self`
        // is dropped, which cannot happen while `&self` is borrowed). It is either the
        // original pointer (no `&mut Vm` is live: `busy` was false and no callback runs)
        // or the `&mut Vm` of the running callback, which is not used while the callback
        // runs. So this reference is unique while it lives, and `busy` keeps it unique.
        let vm = unsafe { &mut *self.active.get().as_ptr() };
        let r = f(vm);
        // Buffer growth counted per thread belongs to this state (see Heap::fold_extra).
        vm.heap.fold_extra();
        drop(guard);
        Ok(r)
    }

    /// Runs user code `f` from inside the VM (a callback or a hook the VM called with
    /// `vm`): while it runs, `with_vm` reborrows `vm`.
    pub(crate) fn enter_callback<R>(&self, vm: &mut Vm, f: impl FnOnce() -> R) -> R {
        struct Restore<'a> {
            inner: &'a Inner,
            active: NonNull<Vm>,
            busy: bool,
        }
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.inner.active.set(self.active);
                self.inner.busy.set(self.busy);
            }
        }
        vm.heap.fold_extra();
        let _restore = Restore {
            inner: self,
            active: self.active.get(),
            busy: self.busy.get(),
        };
        self.active.set(NonNull::from(&mut *vm));
        self.busy.set(false);
        f()
    }

    /// A handle for `v` (rooted until the handle and its clones are dropped).
    pub(crate) fn new_ref(&self, v: Raw) -> ValueRef {
        ValueRef {
            lua: WeakLua(self.weak.clone()),
            slot: self.roots.insert(v),
        }
    }

    /// The raw value a handle names; an error for a handle of another state.
    pub(crate) fn raw_ref(&self, r: &ValueRef) -> Result<Raw> {
        if !Weak::ptr_eq(&r.lua.0, &self.weak) {
            return Err(Error::runtime(
                "a Lua value was passed to a different Lua state than the one it belongs to",
            ));
        }
        Ok(self.roots.get(r.slot))
    }

    /// The facade value for raw `v` (collectable values become handles).
    pub(crate) fn wrap(&self, v: Raw) -> Value {
        use crate::{AnyUserData, Function, LightUserData, String, Table, Thread};
        match v {
            Raw::Nil => Value::Nil,
            Raw::Bool(b) => Value::Boolean(b),
            Raw::Int(i) => Value::Integer(i),
            Raw::Float(f) => Value::Number(f),
            Raw::LightUserData(p) => {
                Value::LightUserData(LightUserData(p as *mut std::ffi::c_void))
            }
            Raw::Str(_) => Value::String(String(self.new_ref(v))),
            Raw::Table(_) => Value::Table(Table(self.new_ref(v))),
            Raw::LuaFn(_) | Raw::NativeFn(_) | Raw::LightFn(_) => {
                Value::Function(Function(self.new_ref(v)))
            }
            Raw::Thread(_) => Value::Thread(Thread(self.new_ref(v))),
            Raw::UserData(u) => match u.get().downcast_ref::<WrappedError>() {
                Some(e) => Value::Error(Box::new(e.0.clone())),
                None => Value::UserData(AnyUserData(self.new_ref(v))),
            },
        }
    }

    /// The raw value for `v`. A `Value::Error` becomes a new userdata wrapping it: the
    /// caller must root the result (push it, store it) before anything can collect.
    pub(crate) fn raw(&self, vm: &mut Vm, v: &Value) -> Result<Raw> {
        Ok(match v {
            Value::Nil => Raw::Nil,
            Value::Boolean(b) => Raw::Bool(*b),
            Value::Integer(i) => Raw::Int(*i),
            Value::Number(f) => Raw::Float(*f),
            Value::LightUserData(p) => Raw::LightUserData(p.0 as usize),
            Value::String(s) => self.raw_ref(&s.0)?,
            Value::Table(t) => self.raw_ref(&t.0)?,
            Value::Function(f) => self.raw_ref(&f.0)?,
            Value::Thread(t) => self.raw_ref(&t.0)?,
            Value::UserData(u) => self.raw_ref(&u.0)?,
            Value::Error(e) => self.wrap_error(vm, (**e).clone()),
        })
    }

    /// A userdata carrying `e` into Lua (its `tostring` is the error's message). Unrooted:
    /// see [`Inner::raw`].
    pub(crate) fn wrap_error(&self, vm: &mut Vm, e: Error) -> Raw {
        let mt = match self.err_meta.get() {
            Some(slot) => self.roots.get(slot),
            None => {
                let mt = vm.new_table();
                let k = vm.str_value("__tostring");
                let _ = vm.raw_set(mt, k, Raw::LightFn(wrapped_error_tostring));
                let k = vm.str_value("__name");
                let n = vm.str_value("hotlua.Error");
                let _ = vm.raw_set(mt, k, n);
                let slot = self.roots.insert(Raw::Table(mt));
                self.err_meta.set(Some(slot));
                Raw::Table(mt)
            }
        };
        let mut ud = RawUserData::new(WrappedError(e));
        ud.metatable = mt.as_table();
        Raw::UserData(vm.heap.new_userdata(ud))
    }

    /// The Lua error value that raises `e` in Lua code.
    pub(crate) fn raise(&self, vm: &mut Vm, e: Error) -> LuaError {
        // Plain runtime errors from Rust read as Lua's (`error(msg)`): Lua code catching
        // them with pcall gets the message string. Everything else keeps its structure.
        match e {
            Error::RuntimeError(msg) => LuaError::new(vm.str_value(msg)),
            Error::MemoryError(_) => vm.memory_error(),
            e => LuaError::new(self.wrap_error(vm, e)),
        }
    }

    /// The facade error for a Lua error value.
    pub(crate) fn error_from(&self, vm: &mut Vm, e: LuaError) -> Error {
        match e.value {
            Raw::Str(s) => {
                let msg = s.get().to_str_lossy().into_owned();
                if msg == "not enough memory" {
                    Error::MemoryError(msg)
                } else {
                    Error::RuntimeError(msg)
                }
            }
            Raw::UserData(u) => match u.get().downcast_ref::<WrappedError>() {
                Some(w) => w.0.clone(),
                None => Error::RuntimeError(vm.to_display(e.value)),
            },
            v => Error::RuntimeError(vm.to_display(v)),
        }
    }

    /// Calls `f(args...)` protected, with a traceback added to string errors (as lua.c's
    /// message handler does). Results are unrooted: wrap them before anything can collect.
    pub(crate) fn call_raw(&self, vm: &mut Vm, f: Raw, args: &[Raw]) -> Result<Vec<Raw>> {
        match vm.pcall_value(f, args, Some(Raw::LightFn(traceback_handler))) {
            Ok(v) => Ok(v),
            Err(e) => Err(self.error_from(vm, e)),
        }
    }

    /// Resumes the panic a callback raised, if panics are not caught (once the error has
    /// reached the host).
    pub(crate) fn resume_pending_panic(&self) {
        if let Some(p) = self.pending_panic.borrow_mut().take() {
            std::panic::resume_unwind(p);
        }
    }
}

/// A Rust [`Error`] travelling through Lua as a userdata.
pub(crate) struct WrappedError(pub(crate) Error);

/// `__tostring` of a wrapped error: its message.
fn wrapped_error_tostring(vm: &mut Vm, args: Args) -> std::result::Result<usize, LuaError> {
    let msg = match vm.arg(args, 0) {
        Raw::UserData(u) => u
            .get()
            .downcast_ref::<WrappedError>()
            .map(|w| w.0.lua_message()),
        _ => None,
    };
    let s = vm.str_value(msg.unwrap_or_else(|| "error".to_string()));
    vm.push(s)?;
    Ok(1)
}

/// The message handler of calls from the host: a string error gets the traceback of where
/// it was raised (other error values pass through).
fn traceback_handler(vm: &mut Vm, args: Args) -> std::result::Result<usize, LuaError> {
    let v = vm.arg(args, 0);
    let out = match v {
        Raw::Str(s) => {
            let msg = s.get().to_str_lossy().into_owned();
            if msg == "not enough memory" {
                v
            } else {
                let tb = vm.traceback(Some(&msg), 1);
                vm.str_value(tb)
            }
        }
        _ => v,
    };
    vm.push(out)?;
    Ok(1)
}

/// A rooted reference to a Lua value: the inside of every handle.
pub(crate) struct ValueRef {
    pub(crate) lua: WeakLua,
    pub(crate) slot: u32,
}

impl ValueRef {
    /// The state the value belongs to.
    pub(crate) fn lua(&self) -> Result<Lua> {
        self.lua.upgrade()
    }

    /// Runs `f` with the VM and this value (raw).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Inner, &mut Vm, Raw) -> Result<R>) -> Result<R> {
        let lua = self.lua()?;
        let inner = &*lua.inner;
        inner.with_vm(|vm| {
            let v = inner.raw_ref(self)?;
            f(inner, vm, v)
        })?
    }

    /// Identity of the referenced object (its address).
    pub(crate) fn pointer(&self) -> usize {
        match self.lua.0.upgrade() {
            Some(inner) => inner.roots.get(self.slot).identity().unwrap_or(0),
            None => 0,
        }
    }
}

impl Clone for ValueRef {
    fn clone(&self) -> ValueRef {
        if let Some(inner) = self.lua.0.upgrade() {
            inner.roots.retain(self.slot);
        }
        ValueRef {
            lua: self.lua.clone(),
            slot: self.slot,
        }
    }
}

impl Drop for ValueRef {
    fn drop(&mut self) {
        if let Some(inner) = self.lua.0.upgrade() {
            inner.roots.release(self.slot);
        }
    }
}

impl PartialEq for ValueRef {
    /// Same state and same object (raw identity, `rawequal`).
    fn eq(&self, other: &ValueRef) -> bool {
        Weak::ptr_eq(&self.lua.0, &other.lua.0)
            && match self.lua.0.upgrade() {
                Some(inner) => {
                    let (a, b) = (inner.roots.get(self.slot), inner.roots.get(other.slot));
                    a.raw_eq(&b)
                }
                None => self.slot == other.slot,
            }
    }
}

impl Lua {
    /// Wraps a VM (with whatever libraries it has) as a state.
    pub(crate) fn from_vm(vm: Vm, catch_panics: bool) -> Lua {
        let roots = vm.host_roots().clone();
        let signal = vm.signal().clone();
        let ptr = NonNull::from(Box::leak(Box::new(vm)));
        let inner = Rc::new_cyclic(|weak| Inner {
            vm: ptr,
            active: Cell::new(ptr),
            busy: Cell::new(false),
            depth: Cell::new(0),
            poisoned: Cell::new(false),
            roots,
            signal,
            weak: weak.clone(),
            ud_meta: RefCell::new(HashMap::new()),
            err_meta: Cell::new(None),
            catch_panics,
            pending_panic: RefCell::new(None),
        });
        Lua { inner }
    }

    /// A weak reference (for handles).
    pub(crate) fn weak(&self) -> WeakLua {
        WeakLua(self.inner.weak.clone())
    }

    /// Runs `f` with the VM (see [`Inner::with_vm`]).
    pub(crate) fn with_vm<R>(&self, f: impl FnOnce(&Inner, &mut Vm) -> Result<R>) -> Result<R> {
        let inner = &*self.inner;
        let r = inner.with_vm(|vm| f(inner, vm))?;
        if r.is_err() && inner.depth.get() == 0 {
            inner.resume_pending_panic();
        }
        r
    }

    /// A handle for a new value made by `make`.
    pub(crate) fn make(&self, make: impl FnOnce(&mut Vm) -> Raw) -> Result<Value> {
        self.with_vm(|inner, vm| {
            // A safe point: every value the host holds is rooted in the slab.
            vm.gc_check_limit().map_err(|e| inner.error_from(vm, e))?;
            let v = make(vm);
            Ok(inner.wrap(v))
        })
    }
}

//! [`Function`]: a handle to a Lua or Rust function, and the bridge that runs Rust
//! closures when Lua calls them.

use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use hotlua_vm::api::Args;
use hotlua_vm::host::HostFn;
use hotlua_vm::{LuaError, Value as Raw, Vm};

use crate::error::{Error, Result};
use crate::multi::{FromLuaMulti, IntoLuaMulti, MultiValue};
use crate::state::{Inner, Lua, ValueRef};

/// A Lua function or a Rust function callable from Lua.
///
/// ```
/// use hotlua::{Function, Lua};
/// let lua = Lua::new();
/// let add: Function = lua.load("return function(a, b) return a + b end").eval().unwrap();
/// assert_eq!(add.call::<i64>((2, 3)).unwrap(), 5);
/// let twice = lua.create_function(|_, (f, x): (Function, i64)| f.call::<i64>((x, x))).unwrap();
/// assert_eq!(twice.call::<i64>((add, 21)).unwrap(), 42);
/// ```
#[derive(Clone, PartialEq)]
pub struct Function(pub(crate) ValueRef);

impl Function {
    /// Calls the function with `args` and converts its results. An error raised inside
    /// comes back as an [`Error`] (a Lua error's message with its traceback).
    pub fn call<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> Result<R> {
        let lua = self.0.lua()?;
        let args = args.into_lua_multi(&lua)?;
        let results = lua.with_vm(|inner, vm| {
            let f = inner.raw_ref(&self.0)?;
            call_values(inner, vm, f, &args)
        })?;
        R::from_lua_multi(results, &lua)
    }

    /// The function's address.
    pub fn to_pointer(&self) -> *const std::ffi::c_void {
        self.0.pointer() as *const std::ffi::c_void
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "function: {:p}", self.to_pointer())
    }
}

/// Calls raw `f` with facade `args` and wraps the results.
pub(crate) fn call_values(
    inner: &Inner,
    vm: &mut Vm,
    f: Raw,
    args: &MultiValue,
) -> Result<MultiValue> {
    let mut raw = Vec::with_capacity(args.len());
    for a in args.iter() {
        // A wrapped error made here is unrooted only until the call copies the arguments to
        // the stack, which happens before any code runs.
        raw.push(inner.raw(vm, a)?);
    }
    let results = inner.call_raw(vm, f, &raw)?;
    Ok(results.into_iter().map(|v| inner.wrap(v)).collect())
}

/// A Rust callback in the facade's terms.
pub(crate) type Callback = dyn Fn(&Lua, MultiValue) -> Result<MultiValue>;

/// Makes a Lua function that runs `cb`.
pub(crate) fn create_callback(lua: &Lua, cb: Box<Callback>) -> Result<Function> {
    let weak = lua.inner.weak.clone();
    let cb: Rc<Callback> = Rc::from(cb);
    let host: Rc<HostFn> = Rc::new(move |vm: &mut Vm, args: Args| call_host(&weak, &*cb, vm, args));
    let v = lua.make(|vm| vm.new_host_function(host, "?"))?;
    match v {
        crate::Value::Function(f) => Ok(f),
        _ => Err(Error::runtime("a host function was not made")),
    }
}

/// Wraps a `FnMut` so that a call made while it runs fails instead of aliasing it.
pub(crate) fn mut_callback<F>(f: F) -> impl Fn(&Lua, MultiValue) -> Result<MultiValue>
where
    F: FnMut(&Lua, MultiValue) -> Result<MultiValue> + 'static,
{
    let cell = RefCell::new(f);
    move |lua, args| match cell.try_borrow_mut() {
        Ok(mut f) => f(lua, args),
        Err(_) => Err(Error::RecursiveMutCallback),
    }
}

/// What the VM runs for a host function: converts the arguments to handles (rooted before
/// any user code runs), runs the callback as user code, and pushes its results or raises
/// its error. A panic stops here and becomes a Lua error.
fn call_host(
    weak: &Weak<Inner>,
    cb: &Callback,
    vm: &mut Vm,
    args: Args,
) -> std::result::Result<usize, LuaError> {
    let Some(inner) = weak.upgrade() else {
        return Err(vm.rt_error("a Rust function was called while its Lua state is closing"));
    };
    let mut mv = MultiValue::with_capacity(args.len());
    for i in 0..args.len() {
        mv.push_back(inner.wrap(vm.arg(args, i)));
    }
    let lua = Lua {
        inner: inner.clone(),
    };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        inner.enter_callback(vm, || cb(&lua, mv))
    }));
    match r {
        Ok(Ok(rets)) => {
            let n = rets.len();
            for v in rets.iter() {
                let raw = inner.raw(vm, v).map_err(|e| inner.raise(vm, e))?;
                vm.push(raw)?;
            }
            Ok(n)
        }
        Ok(Err(e)) => {
            let e = match e {
                e @ Error::CallbackError { .. } => e,
                e => Error::CallbackError {
                    traceback: vm.traceback(None, 1),
                    cause: Arc::new(e),
                },
            };
            Err(inner.raise(vm, e))
        }
        Err(panic) => {
            let msg = panic_message(&*panic);
            if !inner.catch_panics {
                *inner.pending_panic.borrow_mut() = Some(panic);
            }
            let e = Error::CallbackError {
                traceback: vm.traceback(None, 1),
                cause: Arc::new(Error::RuntimeError(format!(
                    "a Rust callback panicked: {msg}"
                ))),
            };
            Err(inner.raise(vm, e))
        }
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".to_string()
    }
}

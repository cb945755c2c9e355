//! [`Thread`]: a handle to a Lua coroutine.

use std::fmt;

use hotlua_vm::coroutine::Resume;
use hotlua_vm::thread::ThreadStatus as RawStatus;
use hotlua_vm::Value as Raw;

use crate::error::{Error, Result};
use crate::multi::{FromLuaMulti, IntoLuaMulti, MultiValue};
use crate::state::ValueRef;

/// A coroutine.
///
/// ```
/// use hotlua::{Lua, Thread, ThreadStatus};
/// let lua = Lua::new();
/// let co: Thread = lua.load("coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)")
///     .eval().unwrap();
/// assert_eq!(co.resume::<i64>(1).unwrap(), 2);
/// assert_eq!(co.status(), ThreadStatus::Resumable);
/// assert_eq!(co.resume::<i64>(10).unwrap(), 20);
/// assert_eq!(co.status(), ThreadStatus::Finished);
/// assert!(co.resume::<()>(()).is_err());
/// ```
#[derive(Clone, PartialEq)]
pub struct Thread(pub(crate) ValueRef);

/// What a coroutine can do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Suspended (new or yielded): it can be resumed.
    Resumable,
    /// Running, or resuming another coroutine.
    Running,
    /// Its body returned.
    Finished,
    /// It died with an error.
    Error,
}

impl Thread {
    /// Resumes the coroutine with `args`: the values it yields or returns. An error inside
    /// it kills it and comes back as an [`Error`] (with the coroutine's traceback); a
    /// coroutine that cannot be resumed gives [`Error::CoroutineUnresumable`].
    pub fn resume<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> Result<R> {
        let lua = self.0.lua()?;
        let args = args.into_lua_multi(&lua)?;
        let results = lua.with_vm(|inner, vm| {
            let Raw::Thread(co) = inner.raw_ref(&self.0)? else {
                return Err(Error::runtime("not a thread"));
            };
            if vm.thread_status(co) != "suspended" {
                return Err(Error::CoroutineUnresumable);
            }
            // Arguments are copied to the coroutine's stack before it runs.
            let mut raw = Vec::with_capacity(args.len());
            for a in args.iter() {
                raw.push(inner.raw(vm, a)?);
            }
            match vm.resume(co, &raw) {
                Ok(Resume::Yielded(v)) | Ok(Resume::Returned(v)) => {
                    Ok(v.into_iter().map(|v| inner.wrap(v)).collect::<MultiValue>())
                }
                Err(e) => {
                    let mut err = inner.error_from(vm, e);
                    if let Error::RuntimeError(msg) = &err {
                        err = Error::RuntimeError(vm.traceback_of(co, Some(msg), 0));
                    }
                    Err(err)
                }
            }
        })?;
        R::from_lua_multi(results, &lua)
    }

    /// The coroutine's status.
    pub fn status(&self) -> ThreadStatus {
        self.0
            .with(|_, vm, v| {
                let Raw::Thread(co) = v else {
                    return Ok(ThreadStatus::Error);
                };
                Ok(match vm.thread_status(co) {
                    "suspended" => ThreadStatus::Resumable,
                    "running" | "normal" => ThreadStatus::Running,
                    _ if co.get().status == RawStatus::Dead => ThreadStatus::Error,
                    _ => ThreadStatus::Finished,
                })
            })
            .unwrap_or(ThreadStatus::Error)
    }

    /// True when [`Thread::resume`] may be called.
    pub fn is_resumable(&self) -> bool {
        self.status() == ThreadStatus::Resumable
    }

    /// The coroutine's address.
    pub fn to_pointer(&self) -> *const std::ffi::c_void {
        self.0.pointer() as *const std::ffi::c_void
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread: {:p}", self.to_pointer())
    }
}

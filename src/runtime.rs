//! The silly runtime from a host: tasks and timers of a state's own event loop, driven by
//! the host without giving it the thread ([`Lua::poll`]).
//!
//! Each state has its own loop (tasks, timers, sockets), created on first use; two states
//! on one thread run independently.

use std::time::Duration;

use hotlua_stdlib::silly::eventloop::{self, Polled, Stop};
use hotlua_vm::Value as Raw;

use crate::error::{Error, Result};
use crate::multi::IntoLuaMulti;
use crate::state::Lua;
use crate::value::Value;
use crate::{Function, Thread};

/// The state of a state's event loop after [`Lua::poll`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoopStatus {
    /// Tasks, timers or sockets remain: poll again, at the latest after `next_deadline`
    /// (the time until the earliest timer, when one is pending; zero when tasks are ready).
    Pending {
        /// Time until the next timer is due.
        next_deadline: Option<Duration>,
    },
    /// Nothing can happen any more.
    Idle,
    /// A task called `silly.exit(code)`.
    Exit(i32),
}

impl Lua {
    /// Starts `f(arg)` as a task of the state's event loop (as `silly.task.fork`); it runs
    /// at the next [`Lua::poll`]. A task may sleep (`silly.time.sleep`), wait and do I/O.
    ///
    /// ```
    /// use hotlua::{Function, LoopStatus, Lua};
    /// let lua = Lua::new();
    /// let f: Function = lua.load("return function(n)
    ///     local time = require 'silly.time'
    ///     time.sleep(10)
    ///     done = n
    /// end").eval().unwrap();
    /// lua.spawn(f, 7).unwrap();
    /// // The host keeps its thread: it polls without waiting, doing its own work between.
    /// loop {
    ///     match lua.poll(Some(std::time::Duration::ZERO)).unwrap() {
    ///         LoopStatus::Pending { .. } => std::thread::sleep(std::time::Duration::from_millis(1)),
    ///         _ => break,
    ///     }
    /// }
    /// assert_eq!(lua.globals().get::<i64>("done").unwrap(), 7);
    /// ```
    pub fn spawn(&self, f: Function, arg: impl IntoLuaMulti) -> Result<Thread> {
        let args = arg.into_lua_multi(self)?;
        if args.len() > 1 {
            return Err(Error::runtime("a task takes one argument"));
        }
        let arg = args.into_iter().next().unwrap_or(Value::Nil);
        let v = self.with_vm(|inner, vm| {
            let fr = inner.raw_ref(&f.0)?;
            crate::table::with_raws(inner, vm, &[&arg], |vm, r| {
                let co = eventloop::with_loop(vm, |vm, lp| lp.spawn(vm, fr, r[0]))
                    .and_then(|r| r)
                    .map_err(|e| inner.error_from(vm, e))?;
                Ok(inner.wrap(Raw::Thread(co)))
            })
        })?;
        match v {
            Value::Thread(t) => Ok(t),
            _ => Err(Error::runtime("a task was not made")),
        }
    }

    /// Runs one round of the state's event loop: due timers fire, ready tasks run, then it
    /// waits for socket events at most `max_wait` (`Some(Duration::ZERO)`: not at all;
    /// `None`: until something can happen). Errors in tasks are logged, as the `hotlua`
    /// program logs them; they do not stop the loop.
    pub fn poll(&self, max_wait: Option<Duration>) -> Result<LoopStatus> {
        self.with_vm(|inner, vm| {
            match eventloop::poll(vm, max_wait).map_err(|e| inner.error_from(vm, e))? {
                Polled::Pending { next_deadline } => Ok(LoopStatus::Pending { next_deadline }),
                Polled::Stopped(Stop::Idle) => Ok(LoopStatus::Idle),
                Polled::Stopped(Stop::Exit(code)) => Ok(LoopStatus::Exit(code)),
                Polled::Stopped(Stop::Signal(s)) => Ok(LoopStatus::Exit(128 + s)),
                Polled::Stopped(Stop::MainFailed(text)) | Polled::Stopped(Stop::Fatal(text)) => {
                    Err(Error::RuntimeError(text))
                }
            }
        })
    }

    /// [`Lua::poll`] without waiting.
    pub fn run_once(&self) -> Result<LoopStatus> {
        self.poll(Some(Duration::ZERO))
    }

    /// Runs the event loop until nothing can happen any more or a task calls
    /// `silly.exit`, sleeping in the poller between events (this gives the loop the
    /// thread; see [`Lua::poll`] to keep it).
    pub fn run_loop(&self) -> Result<LoopStatus> {
        loop {
            match self.poll(None)? {
                LoopStatus::Pending { .. } => continue,
                done => return Ok(done),
            }
        }
    }
}

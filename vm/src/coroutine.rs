//! Coroutines: resume/yield machinery, the Rust API (`Vm::resume`, `Vm::yield_from_native`,
//! ...) and the `coroutine` library.
//!
//! Design: each coroutine is a [`Thread`] with its own stack and frames. Resuming switches
//! `Vm::cur` to the coroutine and runs its interpreter loop in a nested Rust activation
//! (`Vm::co_execute`); a yield is a native returning the `YIELD` sentinel error, which
//! unwinds the Rust activations (never caught by protected frames, see `co_execute`) back to
//! `resume`, leaving the coroutine's frames in place: the yielding native's frame stays on
//! top with the yielded values at `base..top`. Resuming again completes that native frame
//! with resume's arguments as its results and continues the loop.
//!
//! Invariants:
//! - A thread is *fresh* when its status is `Ok`, it has no frames and `top > 0` (the body
//!   function at slot 0, its arguments above); *dead* when its status is `Dead` (died by an
//!   error: frames kept for a traceback, the error value at `stack[top - 1]`) or it is `Ok`
//!   with no frames and `top == 0` (returned or closed); *suspended* (status `Suspended`)
//!   after a yield; *running*/*normal* while its frames are active.
//! - Yielding is allowed only when every frame of the running coroutine below the yielding
//!   native is run by the coroutine's own loop activation: no native frame (a native calling
//!   back into Lua) and no FRESH Lua frame (a Rust-level call) except the body at index 0.
//! - `Vm::c_calls` counts pending pcall markers and metamethod frames; a suspended
//!   coroutine's share is removed when it yields and recomputed from its frames when it is
//!   resumed (markers' `saved_ccalls` are rebased the same way).

use crate::call::Called;
use crate::error::LuaError;
use crate::gc::Gc;
use crate::state::{Vm, MAX_C_CALLS};
use crate::thread::{flags, FrameKind, Thread, ThreadStatus, ERROR_STACK_EXTRA, MAX_STACK};
use crate::value::Value;

/// Initial stack of a coroutine (slots): PUC's `BASIC_STACK_SIZE` (2 * LUA_MINSTACK).
/// Stack slots below a program's main chunk (see `Vm::set_program_main`).
const PROGRAM_MAIN_SLOTS: usize = 6;
const CO_STACK: usize = 40;

/// The sentinel error value a yielding native returns: a light userdata no Lua value can
/// equal (light userdata made by the VM are addresses of aligned objects, never 1).
pub const YIELD: Value = Value::LightUserData(1);

/// What a resumed coroutine did.
#[derive(Debug, Clone)]
pub enum Resume {
    /// It yielded these values (`coroutine.yield(...)` or [`Vm::yield_from_native`]).
    Yielded(Vec<Value>),
    /// Its body returned these values; it is now dead.
    Returned(Vec<Value>),
}

/// How a resume ended, with the values left on the coroutine's stack at `start..end`.
pub struct Outcome {
    pub finished: bool,
    pub start: usize,
    pub end: usize,
}

fn is_yield(e: &LuaError) -> bool {
    matches!(e.value, Value::LightUserData(1))
}

impl Vm {
    /// `coroutine.create`: a new suspended thread whose body is `f` (any callable value; the
    /// library checks it is a function). Its stack starts small (40 slots, as PUC's `BASIC_STACK_SIZE`).
    pub fn new_thread(&mut self, f: Value) -> Gc<Thread> {
        let mut t = Thread::new();
        t.stack = vec![Value::Nil; CO_STACK];
        t.frames = Vec::with_capacity(2);
        t.stack[0] = f;
        t.top = 1;
        let co = self.heap.alloc(t);
        self.heap.track_thread(co);
        co
    }

    /// `coroutine.status`: "suspended", "running", "normal" or "dead".
    pub fn thread_status(&self, co: Gc<Thread>) -> &'static str {
        if co == self.cur {
            return "running";
        }
        let t = co.get();
        match t.status {
            ThreadStatus::Suspended => "suspended",
            ThreadStatus::Dead => "dead",
            ThreadStatus::Ok => {
                if co == self.main || !t.frames.is_empty() {
                    "normal"
                } else if t.top == 0 {
                    "dead"
                } else {
                    "suspended"
                }
            }
        }
    }

    /// `coroutine.running`: the running thread and whether it is the main thread.
    pub fn running_thread(&self) -> (Gc<Thread>, bool) {
        (
            self.cur,
            self.cur == self.main || self.cur.get().program_main,
        )
    }

    /// Marks `co` as the thread running the program's main chunk (see
    /// `Thread::program_main`): to Lua code it then behaves as the main thread.
    pub fn set_program_main(&mut self, co: Gc<Thread>) {
        let th = co.get_mut();
        th.program_main = true;
        // lua.c runs the main chunk above a few slots of its own (pmain, its arguments, the
        // message handler): a fresh thread's body moves up by as many, so that "stack
        // overflow" comes at the same depth as under lua5.4.
        if th.frames.is_empty() && th.top == 1 {
            let f = th.stack[0];
            th.stack[0] = Value::Nil;
            th.stack[PROGRAM_MAIN_SLOTS] = f;
            th.top = PROGRAM_MAIN_SLOTS + 1;
        }
    }

    /// Whether the running code may yield (`coroutine.isyieldable()`): inside a coroutine
    /// and not under a native that called back into Lua. Called from a native, its own
    /// frame (on top) does not count.
    pub fn is_yieldable(&self) -> bool {
        let fr = &self.cur.get().frames;
        let n = match fr.last() {
            Some(f) if f.kind == FrameKind::Native => fr.len() - 1,
            _ => fr.len(),
        };
        self.cur != self.main && !self.cur.get().program_main && self.yieldable_below(n)
    }

    /// Are frames `0..n` of the running thread all run by its own loop activation?
    fn yieldable_below(&self, n: usize) -> bool {
        let fr = &self.cur.get().frames;
        fr[..n.min(fr.len())]
            .iter()
            .enumerate()
            .all(|(i, f)| f.kind != FrameKind::Native && (i == 0 || f.flags & flags::FRESH == 0))
    }

    /// Yields from a native: `return vm.yield_from_native(&values)`. The running coroutine is
    /// suspended with `values` as what resume returns; when resumed, resume's arguments
    /// become this native call's results (as `lua_yield` from a C function). Outside a
    /// coroutine, or under a native that called back into Lua, it is Lua's error ("attempt
    /// to yield from outside a coroutine", "attempt to yield across a C-call boundary").
    pub fn yield_from_native(&mut self, values: &[Value]) -> Result<usize, LuaError> {
        let base = self.check_yield()?;
        let th = self.cur.get_mut();
        if th
            .ensure(base + values.len() + 1, MAX_STACK + ERROR_STACK_EXTRA)
            .is_err()
        {
            return Err(self.stack_overflow());
        }
        let th = self.cur.get_mut();
        th.stack[base..base + values.len()].copy_from_slice(values);
        th.top = base + values.len();
        Err(LuaError::new(YIELD))
    }

    /// Checks that the running native may yield; returns its frame's base.
    pub fn check_yield(&mut self) -> Result<usize, LuaError> {
        let n = self.cur.get().frames.len();
        let ok = self.cur != self.main
            && n > 0
            && self.cur.get().frames[n - 1].kind == FrameKind::Native
            && self.yieldable_below(n - 1);
        if !ok {
            let msg = if self.cur == self.main {
                "attempt to yield from outside a coroutine"
            } else {
                "attempt to yield across a C-call boundary"
            };
            return Err(LuaError::new(self.str_value(msg)));
        }
        Ok(self.cur.get().frames[n - 1].base)
    }

    /// `coroutine.resume` from Rust: runs `co` until it yields, returns or fails.
    /// `Err(e)`: the coroutine died with error `e` (its status becomes "dead"; its stack is
    /// kept for a traceback until closed), or it could not be resumed ("cannot resume dead
    /// coroutine", "cannot resume non-suspended coroutine", "C stack overflow").
    pub fn resume(&mut self, co: Gc<Thread>, args: &[Value]) -> Result<Resume, LuaError> {
        let o = self.resume_with(co, |vm, co, dst| {
            let th = co.get_mut();
            if th.ensure(dst + args.len() + 1, MAX_STACK).is_err() {
                return Err(LuaError::new(vm.str_value("too many arguments to resume")));
            }
            co.get_mut().stack[dst..dst + args.len()].copy_from_slice(args);
            Ok(args.len())
        })?;
        let vals = co.get().stack[o.start..o.end].to_vec();
        self.finish_transfer(co, &o);
        Ok(if o.finished {
            Resume::Returned(vals)
        } else {
            Resume::Yielded(vals)
        })
    }

    /// After the caller copied a resume's values: a finished coroutine becomes dead (and
    /// drops its results: a dead thread's stack is still marked while it is referenced).
    pub fn finish_transfer(&mut self, co: Gc<Thread>, o: &Outcome) {
        if o.finished {
            let th = co.get_mut();
            for v in &mut th.stack[..o.end] {
                *v = Value::Nil;
            }
            th.top = 0;
        }
    }

    /// Checks `co` can be resumed, lets `put_args(vm, co, slot)` write the arguments at
    /// `slot` of its stack (returning how many), then runs it.
    pub fn resume_with(
        &mut self,
        co: Gc<Thread>,
        put_args: impl FnOnce(&mut Vm, Gc<Thread>, usize) -> Result<usize, LuaError>,
    ) -> Result<Outcome, LuaError> {
        let suspended = co.get().status == ThreadStatus::Suspended && co != self.cur;
        let fresh = match self.thread_status(co) {
            _ if suspended => false,
            "suspended" => co.get().status == ThreadStatus::Ok,
            "dead" => {
                return Err(LuaError::new(
                    self.str_value("cannot resume dead coroutine"),
                ))
            }
            _ => {
                return Err(LuaError::new(
                    self.str_value("cannot resume non-suspended coroutine"),
                ))
            }
        };
        if self.c_calls >= MAX_C_CALLS {
            return Err(LuaError::new(self.str_value("C stack overflow")));
        }
        // Where the arguments go: above the body (fresh) or into the yielding native's
        // frame (its arguments are dead now).
        let dst = if fresh {
            co.get().top
        } else {
            match co.get().frames.last() {
                Some(ci) => ci.func + 1,
                None => {
                    return Err(LuaError::new(
                        self.str_value("cannot resume dead coroutine"),
                    ))
                }
            }
        };
        let nargs = put_args(self, co, dst)?;
        let prev = self.cur;
        // The resumer is no longer `cur`: it stays rooted here while `co` runs (a script may
        // drop every other reference to it meanwhile).
        self.resumers.push(prev);
        let saved_c = self.c_calls;
        let saved_limit = self.stack_limit;
        self.cur = co;
        self.stack_limit = MAX_STACK;
        self.c_calls = saved_c + 1;
        self.hooks_switched();
        self.deadline_on_resume(co);
        let r = if fresh {
            co.get_mut().top = dst + nargs;
            // As the interpreter would call it: a body that is `pcall` or `xpcall` becomes a
            // protected marker frame of the loop, so its callee may yield.
            match self.precall(dst - 1, nargs, -1, true) {
                Ok(Called::Pushed) => {
                    // The body's frame leaves the loop when it returns; a marker at the
                    // bottom leaves it when it completes (the frame stack is then empty).
                    if let Some(ci) = self.cur.get_mut().frames.first_mut() {
                        if ci.kind == crate::thread::FrameKind::Lua {
                            ci.flags |= flags::FRESH;
                        }
                    }
                    self.co_execute()
                }
                Ok(Called::Done) => Ok(()),
                Err(e) => Err(e),
            }
        } else {
            self.continue_suspended(saved_c + 1, nargs)
        };
        let th = co.get_mut();
        let out = match r {
            Ok(()) => {
                th.status = ThreadStatus::Ok;
                th.frames.clear();
                Ok(Outcome {
                    finished: true,
                    start: 0,
                    end: th.top,
                })
            }
            Err(e) if is_yield(&e) => {
                th.status = ThreadStatus::Suspended;
                let start = th.frames.last().map_or(th.top, |ci| ci.base).min(th.top);
                Ok(Outcome {
                    finished: false,
                    start,
                    end: th.top,
                })
            }
            Err(e) => {
                th.status = ThreadStatus::Dead;
                // Keep the error on the dead thread (close returns it), above its live part.
                let slot = th.live_top();
                if th.ensure(slot + 1, usize::MAX).is_ok() {
                    th.stack[slot] = e.value;
                    th.top = slot + 1;
                }
                Err(e)
            }
        };
        self.cur = prev;
        self.resumers.pop();
        self.c_calls = saved_c;
        self.stack_limit = saved_limit;
        self.hooks_switched();
        out
    }

    /// Resumes a suspended coroutine (already current) whose top frame is the native that
    /// yielded: its results are the `nargs` values at `func + 1`.
    fn continue_suspended(&mut self, c_base: u32, nargs: usize) -> Result<(), LuaError> {
        // Recount the pending markers and metamethod frames; rebase the markers.
        let mut count = 0u32;
        for f in self.cur.get_mut().frames.iter_mut() {
            if matches!(f.kind, FrameKind::Pcall | FrameKind::Xpcall) {
                f.saved_ccalls = c_base + count;
                count += 1;
            }
            if f.flags & flags::META != 0 {
                count += 1;
            }
        }
        self.c_calls = c_base + count;
        let th = self.cur.get_mut();
        th.status = ThreadStatus::Ok;
        let Some(ci) = th.frames.last().copied() else {
            return Ok(());
        };
        if self.hooks.mask != 0 {
            // The yielding native returns now.
            self.cur.get_mut().top = ci.func + 1 + nargs;
            self.hook_native(false, nargs)?;
        }
        self.cur.get_mut().frames.pop();
        self.move_results(ci.func + 1, ci.func, nargs, ci.nresults);
        self.finish_markers()?;
        if self.cur.get().frames.is_empty() {
            return Ok(());
        }
        self.co_execute()
    }

    /// The interpreter loop of a coroutine: catches errors at protected markers of the
    /// coroutine, but never a yield.
    fn co_execute(&mut self) -> Result<(), LuaError> {
        loop {
            match self.run() {
                Ok(()) => {
                    // A `__close` frame of an error recovery returned: go on closing.
                    if !self.recovering() {
                        return Ok(());
                    }
                    if self.continue_recovery()? {
                        continue;
                    }
                }
                Err(e) => {
                    if is_yield(&e) {
                        return Err(e);
                    }
                    let th = self.cur.get();
                    let found = (0..th.frames.len()).rev().find(|&i| {
                        matches!(th.frames[i].kind, FrameKind::Pcall | FrameKind::Xpcall)
                    });
                    match found {
                        None => return Err(e),
                        Some(mi) => {
                            if self.recover(mi, e, true)? {
                                continue;
                            }
                        }
                    }
                    if self.cur.get().frames.is_empty() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// CLOSE and RETURN from the interpreter: closes upvalues and to-be-closed variables at
    /// or above `level` (calls go above `call_top`). Inside a coroutine, when `may_push`, a
    /// `__close` written in Lua runs as a metamethod frame of the loop, so it may yield
    /// (as Lua 5.4 allows): `Meta::Pushed` is returned and, when that frame returns, the
    /// instruction runs again (`finish_op`) to close the remaining variables. Elsewhere the
    /// variables are closed now by Rust-level calls.
    pub(crate) fn close_tbc_loop(
        &mut self,
        level: usize,
        call_top: usize,
        may_push: bool,
    ) -> Result<crate::meta::Meta, LuaError> {
        use crate::meta::{Meta, Tm};
        if !may_push || self.cur == self.main {
            self.close_tbc_normal(level, call_top)?;
            return Ok(Meta::Done(Value::Nil));
        }
        self.cur.get_mut().close_upvals(level);
        loop {
            let th = self.cur.get_mut();
            let slot = match th.tbc.last() {
                Some(&s) if s >= level => s,
                _ => break,
            };
            th.tbc.pop();
            let v = th.stack[slot];
            let func = call_top.max(slot + 1);
            th.top = func;
            let f = self.get_tm(v, Tm::Close);
            let Value::LuaFn(cl) = f else {
                // A native closing method may yield (`__close = coroutine.yield`): the
                // frame is then resumed at the closing instruction, which runs again to
                // close the rest (`NRES_SAVED` keeps a RETURN's result count).
                let fi = self.cur.get().frames.len() - 1;
                match self.call_value(f, &[v, Value::Nil]) {
                    Ok(_) => continue,
                    Err(e) => {
                        if is_yield(&e) {
                            self.cur.get_mut().frames[fi].pc -= 1;
                        }
                        return Err(e);
                    }
                }
            };
            if self.c_calls >= MAX_C_CALLS {
                return Err(self.run_error("C stack overflow"));
            }
            let limit = self.stack_limit;
            if self.cur.get_mut().ensure(func + 4, limit).is_err() {
                return Err(self.stack_overflow());
            }
            let th = self.cur.get_mut();
            th.stack[func] = f;
            th.stack[func + 1] = v;
            th.stack[func + 2] = Value::Nil;
            th.top = func + 3;
            self.push_lua_frame(cl, func, 2, 1, flags::META)?;
            self.c_calls += 1;
            return Ok(Meta::Pushed);
        }
        Ok(Meta::Done(Value::Nil))
    }

    /// `debug.traceback` of another (suspended or dead) thread: `traceback_of(co, msg,
    /// level)`, level 0 being the thread's top frame.
    pub fn traceback_of(&mut self, co: Gc<Thread>, msg: Option<&str>, level: usize) -> String {
        let prev = self.cur;
        self.cur = co;
        let s = self.traceback(msg, level);
        self.cur = prev;
        s
    }

    /// `coroutine.close`: closes the pending to-be-closed variables of a suspended or dead
    /// coroutine, which becomes dead. `Ok(())`, or the error it died with (as replaced by
    /// any `__close` that raised). A running or normal coroutine cannot be closed ("cannot
    /// close a running coroutine").
    pub fn close_thread(&mut self, co: Gc<Thread>) -> Result<(), LuaError> {
        let st = self.thread_status(co);
        if st != "suspended" && st != "dead" {
            return Err(LuaError::new(
                self.str_value(format!("cannot close a {} coroutine", st)),
            ));
        }
        let th = co.get_mut();
        let err = if th.status == ThreadStatus::Dead && th.top > 0 {
            Some(th.stack[th.top - 1])
        } else {
            None
        };
        th.frames.clear();
        // The `__close` handlers run under a native frame (as under PUC's
        // lua_closethread, a C call): they cannot yield the coroutine being closed.
        th.frames.push(crate::thread::CallInfo::native(0, 1, 0));
        th.status = ThreadStatus::Ok;
        let prev = self.cur;
        self.resumers.push(prev);
        let saved_c = self.c_calls;
        self.cur = co;
        self.c_calls += 1;
        let r = self.close_all(0, err, None);
        self.cur = prev;
        self.resumers.pop();
        self.c_calls = saved_c;
        let th = co.get_mut();
        th.frames.clear();
        th.tbc.clear();
        th.close_upvals(0);
        th.top = 0;
        for v in th.stack.iter_mut() {
            *v = Value::Nil;
        }
        match r {
            Some(e) => Err(LuaError::new(e)),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The `coroutine` library.

//! Calls and returns: frame setup (fixed and vararg parameters), natives, `__call`,
//! `pcall`/`xpcall` as protected marker frames, Rust-level calls into Lua (bounded by
//! [`MAX_C_CALLS`]), result adjustment, error recovery and the closing of upvalues and
//! to-be-closed variables.
//!
//! Invariant: inside one `execute` activation, every frame above its entry is a Lua frame or
//! a protected marker; natives run to completion inside `precall`.

use crate::api::{Args, NativeFn};
use crate::error::LuaError;
use crate::function::{Builtin, FnProto, LuaClosure};
use crate::gc::Gc;
use crate::meta::{Meta, Tm};
use crate::state::{Vm, MAX_C_CALLS};
use crate::thread::{flags, CallInfo, FrameKind, ERROR_STACK_EXTRA, MAX_STACK};
use crate::value::Value;

/// Free slots guaranteed to a native when it starts (`LUA_MINSTACK`).
const MIN_STACK: usize = 20;

/// `CallInfo::extra` of a protected marker closing variables after an error.
pub(crate) const RECOVERING: u32 = 1;

/// What a native returns to end with a call (see [`Vm::tail_call`]).
pub const TAIL_CALL: usize = usize::MAX;

/// What `precall` did.
pub(crate) enum Called {
    /// A Lua frame was pushed; the interpreter must run it.
    Pushed,
    /// The call completed (a native); results are in place.
    Done,
}

impl Vm {
    /// Pushes a frame for Lua closure `cl` whose value is at `func` with `nargs` arguments.
    /// Returns the frame's base and proto (the interpreter starts running it with them).
    #[inline(always)]
    pub(crate) fn push_lua_frame(
        &mut self,
        cl: Gc<LuaClosure>,
        func: usize,
        nargs: usize,
        nresults: i32,
        fl: u8,
    ) -> Result<(usize, Gc<FnProto>), LuaError> {
        if self.signal.stop_pending() {
            if let Some(e) = self.stop_error() {
                return Err(e);
            }
        }
        let c = cl.get();
        // A patched closure called by a frame started before the patch: that frame gets the
        // callee's version of its time, so it never mixes versions (`spec/patch.md`).
        let p = if c.has_history() {
            self.patched_callee_proto(c)
        } else {
            c.proto()
        };
        let pr = p.get();
        if pr.is_vararg {
            return self.push_vararg_frame(cl, p, func, nargs, nresults, fl);
        }
        let nfixed = pr.num_params as usize;
        let base = func + 1;
        let top = base + pr.max_stack as usize;
        let limit = self.stack_limit;
        let th = self.cur.get_mut();
        if th.ensure(top + 1, limit).is_err() {
            return Err(self.stack_overflow());
        }
        if nargs < nfixed {
            // Missing parameters are nil.
            th.stack[base + nargs..base + nfixed].fill(Value::Nil);
        }
        th.frames
            .push(CallInfo::lua(func, base, top, nresults, fl, 0, cl, p));
        if self.hooks.mask != 0 {
            self.hook_lua_call()?;
        }
        Ok((base, p))
    }

    /// `push_lua_frame` for a vararg function: the fixed parameters move above the extra
    /// arguments, which stay below the frame's base.
    #[inline(never)]
    fn push_vararg_frame(
        &mut self,
        cl: Gc<LuaClosure>,
        p: Gc<FnProto>,
        func: usize,
        nargs: usize,
        nresults: i32,
        fl: u8,
    ) -> Result<(usize, Gc<FnProto>), LuaError> {
        let pr = p.get();
        let nfixed = pr.num_params as usize;
        let max_stack = pr.max_stack as usize;
        let (base, nvar) = if nargs > nfixed {
            (func + 1 + nargs, nargs - nfixed)
        } else {
            (func + 1, 0)
        };
        let limit = self.stack_limit;
        let th = self.cur.get_mut();
        if th.ensure(base + max_stack + 1, limit).is_err() {
            return Err(self.stack_overflow());
        }
        let th = self.cur.get_mut();
        if nvar > 0 {
            for i in 0..nfixed {
                th.stack[base + i] = th.stack[func + 1 + i];
                th.stack[func + 1 + i] = Value::Nil;
            }
        } else {
            for i in nargs..nfixed {
                th.stack[func + 1 + i] = Value::Nil;
            }
        }
        let top = base + max_stack;
        th.frames.push(CallInfo::lua(
            func,
            base,
            top,
            nresults,
            fl,
            nvar as u32,
            cl,
            p,
        ));
        if self.hooks.mask != 0 {
            self.hook_lua_call()?;
        }
        Ok((base, p))
    }

    #[cold]
    #[inline(never)]
    fn patched_callee_proto(&self, c: &crate::function::LuaClosure) -> Gc<FnProto> {
        c.version_for_epoch(self.caller_epoch())
    }

    /// The patch epoch that superseded the proto of the running Lua frame (0: none, or the
    /// top frame is not a Lua frame): calls made on its behalf use the versions of its time.
    pub(crate) fn caller_epoch(&self) -> u32 {
        match self.cur.get().frames.last() {
            Some(ci) if ci.kind == crate::thread::FrameKind::Lua => {
                ci.proto.map_or(0, |p| p.get().superseded.get())
            }
            _ => 0,
        }
    }

    /// The "stack overflow" error, raised with extra room so handlers can run.
    #[cold]
    pub(crate) fn stack_overflow(&mut self) -> LuaError {
        if crate::gc::take_alloc_failure() {
            return self.memory_error();
        }
        if self.stack_limit > MAX_STACK && self.cur.get().top > MAX_STACK {
            // Overflowing again while a message handler runs in the extra stack of an
            // overflow (natives may use the extra stack too, outside handlers): LUA_ERRERR.
            return LuaError::new(self.str_value("error in error handling"));
        }
        self.rt_error("stack overflow")
    }

    /// Calls the value at `func` with `nargs` arguments above it, wanting `nresults`
    /// (-1: all). Natives run now; Lua functions get a frame. `in_loop`: the caller is the
    /// interpreter, which handles `pcall`/`xpcall` frames itself.
    #[inline(never)]
    pub(crate) fn precall(
        &mut self,
        func: usize,
        mut nargs: usize,
        nresults: i32,
        in_loop: bool,
    ) -> Result<Called, LuaError> {
        for _ in 0..crate::meta::MAX_CALL_CHAIN {
            let f = self.cur.get().stack[func];
            match f {
                Value::LuaFn(cl) => {
                    self.push_lua_frame(cl, func, nargs, nresults, 0)?;
                    return Ok(Called::Pushed);
                }
                Value::LightFn(nf) => {
                    match self.call_native(nf, func, nargs, nresults)? {
                        None => return Ok(Called::Done),
                        // The native ended with a call (`Vm::tail_call`): make it here.
                        Some(n) => {
                            nargs = n;
                            continue;
                        }
                    }
                }
                Value::NativeFn(c) => {
                    let (nf, b) = {
                        let cl = c.get();
                        (cl.f, cl.builtin)
                    };
                    if in_loop {
                        match b {
                            Builtin::Pcall => {
                                return self.enter_pcall(func, nargs, nresults, false)
                            }
                            Builtin::Xpcall => {
                                return self.enter_pcall(func, nargs, nresults, true)
                            }
                            _ => {}
                        }
                    }
                    match self.call_native(nf, func, nargs, nresults)? {
                        None => return Ok(Called::Done),
                        Some(n) => {
                            nargs = n;
                            continue;
                        }
                    }
                }
                _ => {
                    let tm = self.get_tm(f, Tm::Call);
                    if tm.is_nil() {
                        return Err(self.call_error(f));
                    }
                    // Insert the handler below the arguments: handler(f, args...).
                    let limit = self.stack_limit;
                    let th = self.cur.get_mut();
                    if th.ensure(func + nargs + 2 + MIN_STACK, limit).is_err() {
                        return Err(self.stack_overflow());
                    }
                    let th = self.cur.get_mut();
                    for i in (func..func + 1 + nargs).rev() {
                        th.stack[i + 1] = th.stack[i];
                    }
                    th.stack[func] = tm;
                    nargs += 1;
                    th.top = func + 1 + nargs;
                }
            }
        }
        Err(self.rt_error("'__call' chain too long; possible loop"))
    }

    /// Runs a native at `func` and moves its results into place. `Some(n)`: the native
    /// ended with a call (`Vm::tail_call`), now at `func` with `n` arguments, for the caller
    /// to make (from the interpreter, as a call of the running Lua frame: it may yield).
    #[inline(never)]
    pub(crate) fn call_native(
        &mut self,
        f: NativeFn,
        func: usize,
        nargs: usize,
        nresults: i32,
    ) -> Result<Option<usize>, LuaError> {
        let limit = self.stack_limit + ERROR_STACK_EXTRA;
        let th = self.cur.get_mut();
        let top = func + 1 + nargs;
        if th.ensure(top + MIN_STACK, limit).is_err() {
            return Err(self.stack_overflow());
        }
        let th = self.cur.get_mut();
        th.top = top;
        th.frames.push(CallInfo::native(func, top, nresults));
        if self.hooks.mask != 0 {
            self.hook_native(true, 0)?;
        }
        let n = f(
            self,
            Args {
                base: func + 1,
                len: nargs,
            },
        )?;
        if self.hooks.mask != 0 {
            self.hook_native(false, if n == TAIL_CALL { 0 } else { n })?;
        }
        let th = self.cur.get_mut();
        th.frames.pop();
        if n == TAIL_CALL {
            // [f, args...] on top of the native's stack move down to its own slot.
            let k = self.tail_nargs;
            let src = th.top - k - 1;
            th.stack.copy_within(src..th.top, func);
            th.top = func + 1 + k;
            return Ok(Some(k));
        }
        let top = th.top;
        let avail = top.saturating_sub(func + 1);
        let n = n.min(avail);
        let src = top - n;
        if nresults == 1 {
            // The common case (`f(x)` in an expression): one value, no growth check (the
            // native was given `MIN_STACK` free slots above its arguments).
            if n > 0 {
                copy_fresh(&mut th.stack, src, func);
            } else {
                th.stack[func] = Value::Nil;
            }
            th.top = func + 1;
            return Ok(None);
        }
        self.move_results(src, func, n, nresults);
        Ok(None)
    }

    /// Copies `n` results from `src` to `dst`, adjusted to `wanted` (-1: all), and sets the
    /// top after them.
    #[inline]
    pub(crate) fn move_results(&mut self, src: usize, dst: usize, n: usize, wanted: i32) {
        let th = self.cur.get_mut();
        if wanted < 0 {
            if src != dst {
                match n {
                    0 => {}
                    1 => th.stack[dst] = th.stack[src],
                    _ => th.stack.copy_within(src..src + n, dst),
                }
            }
            th.top = dst + n;
        } else {
            let w = wanted as usize;
            if th
                .ensure(dst + w + 1, MAX_STACK + 2 * ERROR_STACK_EXTRA)
                .is_err()
            {
                th.top = dst;
                return;
            }
            let k = n.min(w);
            if src != dst {
                // One or two values are the usual case: moved directly, not through memmove.
                match k {
                    0 => {}
                    1 => th.stack[dst] = th.stack[src],
                    2 => {
                        th.stack[dst] = th.stack[src];
                        th.stack[dst + 1] = th.stack[src + 1];
                    }
                    _ => th.stack.copy_within(src..src + k, dst),
                }
            }
            for i in k..w {
                th.stack[dst + i] = Value::Nil;
            }
            th.top = dst + w;
        }
    }

    /// `pcall`/`xpcall` called from the interpreter: push a protected marker, then call.
    #[inline(never)]
    fn enter_pcall(
        &mut self,
        func: usize,
        nargs: usize,
        nresults: i32,
        with_handler: bool,
    ) -> Result<Called, LuaError> {
        // Argument errors are positioned as if raised by the pcall native itself: at its
        // caller when that is Lua (the current top frame).
        let arg_err = |vm: &mut Vm, msg: String| {
            let pos = match vm.cur.get().frames.last() {
                Some(ci) if ci.kind == FrameKind::Lua => vm.where_(0),
                _ => String::new(),
            };
            LuaError::new(vm.str_value(format!("{}{}", pos, msg)))
        };
        if !with_handler && nargs < 1 {
            return Err(arg_err(
                self,
                "bad argument #1 to 'pcall' (value expected)".into(),
            ));
        }
        if with_handler {
            let h = if nargs >= 2 {
                self.cur.get().stack[func + 2]
            } else {
                Value::Nil
            };
            if !h.is_function() {
                let got = if nargs >= 2 {
                    self.obj_type_name(h)
                } else {
                    "no value".into()
                };
                let msg = format!(
                    "bad argument #2 to 'xpcall' (function expected, got {})",
                    got
                );
                return Err(arg_err(self, msg));
            }
        }
        let th = self.cur.get_mut();
        let callee_nargs = if with_handler {
            // [xpcall, f, h, args...] -> [h, f, args...]
            let h = th.stack[func + 2];
            let f = th.stack[func + 1];
            th.stack[func] = h;
            th.stack[func + 1] = f;
            th.stack.copy_within(func + 3..func + 1 + nargs, func + 2);
            nargs - 2
        } else {
            nargs - 1
        };
        th.top = func + 2 + callee_nargs;
        let c_calls = self.c_calls;
        let th = self.cur.get_mut();
        th.frames.push(CallInfo {
            func,
            base: func + 1,
            top: func + 2 + callee_nargs,
            pc: 0,
            nresults,
            kind: if with_handler {
                FrameKind::Xpcall
            } else {
                FrameKind::Pcall
            },
            flags: 0,
            nvarargs: 0,
            extra: 0,
            closure: None,
            proto: None,
            saved_ccalls: c_calls,
        });
        // A protected call is a C-level call in PUC Lua: it counts toward the C-call limit.
        self.c_calls += 1;
        if self.c_calls >= MAX_C_CALLS {
            return Err(self.run_error("C stack overflow"));
        }
        match self.precall(func + 1, callee_nargs, -1, true)? {
            Called::Pushed => Ok(Called::Pushed),
            Called::Done => {
                self.finish_markers()?;
                Ok(Called::Done)
            }
        }
    }

    /// Completes protected markers on top of the frame stack whose callee returned: their
    /// results become `true, results...`.
    pub(crate) fn finish_markers(&mut self) -> Result<(), LuaError> {
        loop {
            let th = self.cur.get_mut();
            let Some(m) = th.frames.last().copied() else {
                return Ok(());
            };
            if !matches!(m.kind, FrameKind::Pcall | FrameKind::Xpcall) || m.extra == RECOVERING {
                return Ok(());
            }
            th.frames.pop();
            let index = th.frames.len();
            self.c_calls -= 1;
            self.deadline_frame_done(index);
            let th = self.cur.get_mut();
            th.stack[m.func] = Value::Bool(true);
            let n = th.top - m.func;
            self.move_results(m.func, m.func, n, m.nresults);
        }
    }

    /// After a Lua frame `ci` returned `n` values at `src`: moves them, finishes the caller's
    /// interrupted instruction for metamethod frames, and completes protected markers.
    /// Returns true when `execute` must return (the frame was entered from Rust).
    #[inline]
    pub(crate) fn post_return(
        &mut self,
        ci: CallInfo,
        src: usize,
        n: usize,
    ) -> Result<bool, LuaError> {
        self.move_results(src, ci.func, n, ci.nresults);
        if ci.flags & (flags::FRESH | flags::META) == 0 {
            if let Some(top) = self.cur.get().frames.last() {
                if top.kind == FrameKind::Lua {
                    return Ok(false);
                }
            }
            self.finish_markers()?;
            // A coroutine whose body is `pcall`: its marker completed the body.
            return Ok(self.cur.get().frames.is_empty());
        }
        if ci.flags & flags::FRESH != 0 {
            return Ok(true);
        }
        self.c_calls -= 1;
        self.finish_op(ci)?;
        self.finish_markers()?;
        // A `__close` of an error recovery returned to its marker: the coroutine's loop
        // (`co_execute`) goes on with the recovery.
        Ok(self.recovering())
    }

    /// Calls a metamethod with `args`. From the interpreter, a Lua metamethod gets a META
    /// frame above the running frame's registers (no Rust recursion); otherwise it is called
    /// now and its first result returned.
    #[inline(never)]
    pub(crate) fn call_meta(
        &mut self,
        f: Value,
        args: &[Value],
        in_loop: bool,
    ) -> Result<Meta, LuaError> {
        if let (true, Value::LuaFn(cl)) = (in_loop, f) {
            if self.c_calls >= MAX_C_CALLS {
                return Err(self.run_error("C stack overflow"));
            }
            let th = self.cur.get_mut();
            let func = th.frames.last().map_or(th.top, |c| c.top);
            let limit = self.stack_limit;
            let th = self.cur.get_mut();
            if th.ensure(func + args.len() + 1, limit).is_err() {
                return Err(self.stack_overflow());
            }
            let th = self.cur.get_mut();
            th.stack[func] = f;
            th.stack[func + 1..func + 1 + args.len()].copy_from_slice(args);
            th.top = func + 1 + args.len();
            self.push_lua_frame(cl, func, args.len(), 1, flags::META)?;
            self.c_calls += 1;
            return Ok(Meta::Pushed);
        }
        let r = self.call_value(f, args)?;
        Ok(Meta::Done(r.first().copied().unwrap_or(Value::Nil)))
    }

    /// Calls `f` at stack slot `func` with `nargs` arguments from Rust, running Lua code in a
    /// nested interpreter activation. Results are left at `func..top`. Unprotected: on error
    /// the frames are left for the catcher.
    pub fn call_at(&mut self, func: usize, nargs: usize, nresults: i32) -> Result<(), LuaError> {
        if self.c_calls >= MAX_C_CALLS {
            return Err(self.run_error("C stack overflow"));
        }
        self.c_calls += 1;
        let r = match self.precall(func, nargs, nresults, false) {
            Ok(Called::Done) => Ok(()),
            Ok(Called::Pushed) => {
                if let Some(ci) = self.cur.get_mut().frames.last_mut() {
                    ci.flags |= flags::FRESH;
                }
                self.execute()
            }
            Err(e) => Err(e),
        };
        self.c_calls -= 1;
        r
    }

    /// Ends the running native with a call of `f(args...)` whose results become the
    /// native's: `return vm.tail_call(f, args)` from the native. Called from Lua code, the
    /// call is made by the interpreter as a call of the calling Lua frame, so the callee may
    /// yield (what `lua_callk` continuations give `dofile` and `pairs` in PUC Lua); called
    /// from Rust, it is made at once.
    pub fn tail_call(&mut self, f: Value, args: &[Value]) -> Result<usize, LuaError> {
        self.push_call(f, args)?;
        self.tail_nargs = args.len();
        Ok(TAIL_CALL)
    }

    /// Puts `f` and `args` at the running thread's top (room checked, with the extra
    /// stack natives may use) and returns the slot of `f`.
    fn push_call(&mut self, f: Value, args: &[Value]) -> Result<usize, LuaError> {
        let limit = self.stack_limit + ERROR_STACK_EXTRA;
        let th = self.cur.get_mut();
        let func = th.top;
        if th.ensure(func + args.len() + 1 + MIN_STACK, limit).is_err() {
            return Err(self.stack_overflow());
        }
        let th = self.cur.get_mut();
        th.stack[func] = f;
        th.stack[func + 1..func + 1 + args.len()].copy_from_slice(args);
        th.top = func + 1 + args.len();
        Ok(func)
    }

    /// Calls `f(args...)` from Rust and returns all its results. Unprotected (errors leave
    /// frames for the enclosing catcher); hosts use [`Vm::call`].
    pub fn call_value(&mut self, f: Value, args: &[Value]) -> Result<Vec<Value>, LuaError> {
        let func = self.push_call(f, args)?;
        self.call_at(func, args.len(), -1)?;
        let th = self.cur.get_mut();
        let out = th.stack[func..th.top].to_vec();
        th.top = func;
        Ok(out)
    }

    /// Protected call from Rust: on error, the message handler (if any) runs at the error
    /// point, then frames above the call are discarded and pending to-be-closed variables
    /// are closed with the error.
    pub fn pcall_value(
        &mut self,
        f: Value,
        args: &[Value],
        handler: Option<Value>,
    ) -> Result<Vec<Value>, LuaError> {
        let th = self.cur.get();
        let saved_frames = th.frames.len();
        let saved_top = th.top;
        let saved_c = self.c_calls;
        match self.call_value(f, args) {
            Ok(v) => Ok(v),
            Err(e) => {
                let mut err = e.value;
                if let Some(h) = handler {
                    err = self.call_handler(h, err);
                }
                self.cur.get_mut().frames.truncate(saved_frames);
                self.c_calls = saved_c;
                let err = self.close_all(saved_top, Some(err), handler);
                self.cur.get_mut().top = saved_top;
                self.stack_limit = MAX_STACK;
                self.last_error = err.unwrap_or(Value::Nil);
                Err(LuaError::new(self.last_error))
            }
        }
    }

    /// Runs `body` protected: on error, frames, top and pending to-be-closed variables above
    /// the current point are unwound (closing them with the error) before returning it.
    pub fn protect<T>(
        &mut self,
        body: impl FnOnce(&mut Vm) -> Result<T, LuaError>,
    ) -> Result<T, LuaError> {
        let th = self.cur.get();
        let saved_frames = th.frames.len();
        let saved_top = th.top;
        let saved_c = self.c_calls;
        match body(self) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.cur.get_mut().frames.truncate(saved_frames);
                self.c_calls = saved_c;
                let err = self.close_all(saved_top, Some(e.value), None);
                self.cur.get_mut().top = saved_top;
                Err(LuaError::new(err.unwrap_or(Value::Nil)))
            }
        }
    }

    /// Calls `f(args...)` from Rust, protected: the embedding entry point.
    pub fn call(&mut self, f: Value, args: &[Value]) -> Result<Vec<Value>, LuaError> {
        self.pcall_value(f, args, None)
    }

    /// Runs an `xpcall` message handler on `err` (with extra stack for overflows); an error
    /// inside the handler gives Lua's "error in error handling".
    pub(crate) fn call_handler(&mut self, h: Value, err: Value) -> Value {
        let saved_limit = self.stack_limit;
        self.stack_limit = MAX_STACK + ERROR_STACK_EXTRA;
        let th = self.cur.get();
        let saved_frames = th.frames.len();
        let saved_top = th.top;
        let saved_c = self.c_calls;
        // The handler runs above everything still live at the error point.
        let lt = th.live_top();
        self.cur.get_mut().top = lt;
        let r = match self.call_value(h, &[err]) {
            Ok(v) => v.first().copied().unwrap_or(Value::Nil),
            Err(_) => {
                self.cur.get_mut().frames.truncate(saved_frames);
                self.c_calls = saved_c;
                self.str_value("error in error handling")
            }
        };
        self.cur.get_mut().top = saved_top;
        self.stack_limit = saved_limit;
        r
    }

    /// Closes upvalues and to-be-closed variables at or above `level`. With `err`, each
    /// `__close` gets the error and an error it raises replaces it (returned); without, the
    /// first error propagates. `handler`: the active message handler, which sees an error
    /// raised by a `__close` at its error point (as for any error in a protected call).
    pub(crate) fn close_all(
        &mut self,
        level: usize,
        mut err: Option<Value>,
        handler: Option<Value>,
    ) -> Option<Value> {
        self.cur.get_mut().close_upvals(level);
        loop {
            let th = self.cur.get_mut();
            let slot = match th.tbc.last() {
                Some(&s) if s >= level => s,
                _ => break,
            };
            th.tbc.pop();
            let v = th.stack[slot];
            th.top = slot + 1;
            let f = self.get_tm(v, Tm::Close);
            let e = err.unwrap_or(Value::Nil);
            let saved_frames = self.cur.get().frames.len();
            let saved_c = self.c_calls;
            if let Err(ne) = self.call_value(f, &[v, e]) {
                let mut nv = ne.value;
                if let Some(h) = handler {
                    nv = self.call_handler(h, nv);
                }
                self.cur.get_mut().frames.truncate(saved_frames);
                self.c_calls = saved_c;
                err = Some(nv);
            }
        }
        err
    }

    /// Closes to-be-closed variables at or above `level` on a normal exit (CLOSE, RETURN):
    /// calls go above `call_top`; an error propagates.
    #[inline(never)]
    pub(crate) fn close_tbc_normal(
        &mut self,
        level: usize,
        call_top: usize,
    ) -> Result<(), LuaError> {
        self.cur.get_mut().close_upvals(level);
        loop {
            let th = self.cur.get_mut();
            let slot = match th.tbc.last() {
                Some(&s) if s >= level => s,
                _ => break,
            };
            th.tbc.pop();
            let v = th.stack[slot];
            th.top = call_top.max(slot + 1);
            let f = self.get_tm(v, Tm::Close);
            self.call_value(f, &[v, Value::Nil])?;
        }
        Ok(())
    }

    /// Runs the interpreter from the current (FRESH) frame until it returns, catching errors
    /// at protected markers above the entry frame.
    pub(crate) fn execute(&mut self) -> Result<(), LuaError> {
        let entry = self.cur.get().frames.len() - 1;
        loop {
            match self.run() {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let th = self.cur.get();
                    let found = (entry + 1..th.frames.len()).rev().find(|&i| {
                        matches!(th.frames[i].kind, FrameKind::Pcall | FrameKind::Xpcall)
                    });
                    match found {
                        None => return Err(e),
                        Some(mi) => {
                            self.recover(mi, e, false)?;
                        }
                    }
                }
            }
        }
    }

    /// Unwinds to protected marker `mi`, which then returns `false, err`.
    /// `yieldable`: the caller is a coroutine's own loop (`co_execute`), which runs the
    /// closing methods as frames (true is returned when one was pushed).
    pub(crate) fn recover(
        &mut self,
        mi: usize,
        e: LuaError,
        yieldable: bool,
    ) -> Result<bool, LuaError> {
        let m = self.cur.get().frames[mi];
        let mut err = e.value;
        if m.kind == FrameKind::Xpcall {
            let h = self.cur.get().stack[m.func];
            err = self.call_handler(h, err);
        }
        self.cur.get_mut().frames.truncate(mi + 1);
        self.c_calls = m.saved_ccalls;
        if yieldable && self.cur != self.main {
            // In a coroutine the closing methods run as frames of the loop, so they may
            // yield (as Lua 5.4 allows): the marker keeps the error while it recovers.
            self.stack_limit = MAX_STACK;
            let th = self.cur.get_mut();
            th.stack[m.func + 1] = err;
            th.frames[mi].extra = RECOVERING;
            return self.continue_recovery();
        }
        let handler = if m.kind == FrameKind::Xpcall {
            Some(self.cur.get().stack[m.func])
        } else {
            None
        };
        let err = self
            .close_all(m.func + 1, Some(err), handler)
            .unwrap_or(Value::Nil);
        self.stack_limit = MAX_STACK;
        self.deadline_frame_done(mi);
        let th = self.cur.get_mut();
        th.frames.pop();
        th.stack[m.func] = Value::Bool(false);
        th.stack[m.func + 1] = err;
        self.move_results(m.func, m.func, 2, m.nresults);
        self.finish_markers()?;
        Ok(false)
    }

    /// True when the top frame is a protected marker closing variables after an error
    /// (`recover`), waiting for the `__close` frame that just returned.
    pub(crate) fn recovering(&self) -> bool {
        matches!(self.cur.get().frames.last(),
            Some(m) if matches!(m.kind, FrameKind::Pcall | FrameKind::Xpcall) && m.extra == RECOVERING)
    }

    /// Closes the next pending variable of the recovering marker on top: a `__close`
    /// written in Lua gets a metamethod frame of the loop (true: run the loop; it leaves when
    /// the frame returns, and the recovery goes on); a native one is called now. When none is
    /// left, the protected call completes with `false, error`.
    pub(crate) fn continue_recovery(&mut self) -> Result<bool, LuaError> {
        let mi = self.cur.get().frames.len() - 1;
        let m = self.cur.get().frames[mi];
        let level = m.func + 2;
        self.cur.get_mut().close_upvals(level);
        loop {
            let th = self.cur.get_mut();
            let slot = match th.tbc.last() {
                Some(&s) if s >= level => s,
                _ => break,
            };
            th.tbc.pop();
            let v = th.stack[slot];
            let err = th.stack[m.func + 1];
            th.top = slot + 1;
            let f = self.get_tm(v, Tm::Close);
            if let Value::LuaFn(cl) = f {
                let func = slot + 1;
                let limit = self.stack_limit;
                if self.cur.get_mut().ensure(func + 4, limit).is_err() {
                    return Err(self.stack_overflow());
                }
                let th = self.cur.get_mut();
                th.stack[func] = f;
                th.stack[func + 1] = v;
                th.stack[func + 2] = err;
                th.top = func + 3;
                // A metamethod frame: yieldable; when it returns, the loop hands the
                // recovery back (`post_return`).
                self.push_lua_frame(cl, func, 2, 0, flags::META)?;
                self.c_calls += 1;
                return Ok(true);
            }
            if let Err(ne) = self.call_value(f, &[v, err]) {
                let mut nv = ne.value;
                if m.kind == FrameKind::Xpcall {
                    let h = self.cur.get().stack[m.func];
                    nv = self.call_handler(h, nv);
                }
                self.cur.get_mut().frames.truncate(mi + 1);
                self.cur.get_mut().stack[m.func + 1] = nv;
            }
        }
        let th = self.cur.get_mut();
        let err = th.stack[m.func + 1];
        th.frames.pop();
        th.stack[m.func] = Value::Bool(false);
        th.stack[m.func + 1] = err;
        self.move_results(m.func, m.func, 2, m.nresults);
        self.finish_markers()?;
        Ok(false)
    }
}

/// `stack[dst] = stack[src]` for a value the native just stored: copied as two 8-byte
/// words, because a native writes a value's tag and payload with separate stores and one
/// 16-byte load of it cannot be forwarded from them (it waits for both to retire; this
/// stall was most of `type(v)`'s cost in a loop).
#[inline(always)]
fn copy_fresh(stack: &mut [Value], src: usize, dst: usize) {
    use std::mem::MaybeUninit;
    assert!(src < stack.len() && dst < stack.len());
    const _: () = assert!(std::mem::size_of::<Value>() == 16 && std::mem::align_of::<Value>() == 8);
    let base = stack.as_mut_ptr();
    // SAFETY: both indices are in bounds (checked above); a Value is 16 bytes with 8-byte
    // alignment, so each is two aligned words. The words are moved as `MaybeUninit`
    // (a Nil's payload bytes are uninitialised), which makes the copy a plain byte copy of
    // a valid Value into a slot of the same type. The volatile reads keep the compiler
    // from merging them back into one 16-byte load.
    unsafe {
        let s = base.add(src) as *const MaybeUninit<u64>;
        let d = base.add(dst) as *mut MaybeUninit<u64>;
        let lo = std::ptr::read_volatile(s);
        let hi = std::ptr::read_volatile(s.add(1));
        d.write(lo);
        d.add(1).write(hi);
    }
}

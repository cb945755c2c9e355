//! The hook machinery the interpreter calls: Lua's debug hooks (`debug.sethook`, per
//! thread, as in PUC) and the host's hook (one per state, covering every thread: a script's
//! `debug.sethook` neither sees, removes nor replaces it).
//!
//! [`HookState::mask`] is the union of the running thread's debug mask and the host's mask.
//! The interpreter learns that it is non-zero through the signal word (`host.rs`), tested
//! once per instruction, so nothing else is paid while no hook is set.
//!
//! The debug hook's function lives in the registry table `_HOOKKEY` (weak keys, so a
//! collected thread drops its hook); `defs` keeps each hooked thread's mask and count, and
//! compares threads by address only (a stale entry is never dereferenced).

use std::rc::Rc;

use hotlua_compiler::opcode::OpCode;

use crate::error::LuaError;
use crate::gc::Gc;
use crate::state::Vm;
use crate::table::Table;
use crate::thread::{flags, FrameKind, Thread};
use crate::value::Value;

/// Hook event bits (`LUA_MASKCALL`, ...).
pub const MASK_CALL: u8 = 1;
/// `LUA_MASKRET`.
pub const MASK_RET: u8 = 2;
/// `LUA_MASKLINE`.
pub const MASK_LINE: u8 = 4;
/// `LUA_MASKCOUNT`.
pub const MASK_COUNT: u8 = 8;

/// What happened, for a hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookEvent {
    /// A function is called.
    Call,
    /// A function is called by a tail call.
    TailCall,
    /// A function returns.
    Return,
    /// A new line is about to run.
    Line,
    /// The instruction count elapsed.
    Count,
}

impl HookEvent {
    /// The name Lua's hooks receive.
    pub fn name(self) -> &'static str {
        match self {
            HookEvent::Call => "call",
            HookEvent::TailCall => "tail call",
            HookEvent::Return => "return",
            HookEvent::Line => "line",
            HookEvent::Count => "count",
        }
    }

    fn bit(self) -> u8 {
        match self {
            HookEvent::Call | HookEvent::TailCall => MASK_CALL,
            HookEvent::Return => MASK_RET,
            HookEvent::Line => MASK_LINE,
            HookEvent::Count => MASK_COUNT,
        }
    }
}

/// The host's hook: called with the Vm (its top frame is the hooked function), the event
/// and, for line events, the line. An error stops the running code with that error.
pub type HostHookFn = dyn Fn(&mut Vm, HookEvent, Option<u32>) -> Result<(), LuaError>;

/// A host hook with its mask and instruction count.
pub struct HostHook {
    f: Rc<HostHookFn>,
    mask: u8,
    count: u32,
    counter: u32,
}

/// Hook settings and tracing state.
#[derive(Default)]
pub struct HookState {
    /// Union of the running thread's debug mask and the host's mask (0: no hook, the
    /// interpreter's fast path).
    pub mask: u8,
    /// The running thread's debug hook mask.
    dbg_mask: u8,
    /// Instructions between count events for the running thread.
    base_count: u32,
    /// Instructions left before the next count event.
    counter: u32,
    /// Index of the last instruction the line hook saw (PUC's `L->oldpc`).
    oldpc: usize,
    /// A debug hook is running (debug hooks do not nest).
    in_hook: bool,
    /// The host's hook is running (it does not nest either). The host's hook still fires
    /// inside a debug hook: a script cannot escape the host's instruction budget by
    /// looping in a hook of its own.
    in_host_hook: bool,
    /// Threads with a hook: (thread, mask, count).
    defs: Vec<(Gc<Thread>, u8, u32)>,
    /// Where the hook function's frame is being pushed (thread, frame index): that frame
    /// gets the DEBUG_HOOK flag.
    hook_frame: Option<(Gc<Thread>, usize)>,
    /// The values a call or return event transfers, for the next hook fired: (first, count)
    /// as local indices of the hooked frame (PUC's `ftransfer`/`ntransfer`).
    next_transfer: (usize, usize),
    /// While a debug hook for a call or return runs: (thread, hooked frame index, first,
    /// count), which `getinfo` reports for that frame ('r').
    transfer: Option<(Gc<Thread>, usize, usize, usize)>,
    /// The host's hook.
    host: Option<HostHook>,
}

impl HookState {
    fn host_mask(&self) -> u8 {
        self.host.as_ref().map_or(0, |h| h.mask)
    }
}

const HOOKKEY: &str = "_HOOKKEY";

impl Vm {
    /// Recomputes the effective mask and mirrors it into the signal word.
    fn update_mask(&mut self) {
        self.hooks.mask = self.hooks.dbg_mask | self.hooks.host_mask();
        self.signal.set_hooked(self.hooks.mask != 0);
    }

    /// Makes the hook mask follow the running thread (after a thread switch).
    pub(crate) fn hooks_switched(&mut self) {
        if self.hooks.defs.is_empty() {
            return;
        }
        let cur = self.cur;
        match self.hooks.defs.iter().find(|d| d.0 == cur) {
            Some(&(_, m, c)) => {
                self.hooks.dbg_mask = m;
                self.hooks.base_count = c;
                self.hooks.counter = c;
            }
            None => self.hooks.dbg_mask = 0,
        }
        self.update_mask();
    }

    fn hook_table(&mut self, create: bool) -> Option<Gc<Table>> {
        let k = self.new_str(HOOKKEY);
        if let Value::Table(t) = self.registry.get().get_str(k) {
            return Some(t);
        }
        if !create {
            return None;
        }
        let t = self.new_table();
        let mt = self.new_table();
        let mode = self.new_str("__mode");
        let kv = self.str_value("k");
        mt.get_mut().set_str(mode, kv);
        t.get_mut().metatable = Some(mt);
        self.registry.get_mut().set_str(k, Value::Table(t));
        Some(t)
    }

    /// `debug.sethook`: sets (or, with `f` nil or `mask` 0, removes) thread `th`'s hook.
    pub fn set_debug_hook(&mut self, th: Gc<Thread>, f: Value, mask: u8, count: u32) {
        self.hooks.defs.retain(|d| d.0 != th);
        if let Some(t) = self.hook_table(!f.is_nil()) {
            t.get_mut().set(Value::Thread(th), f).ok();
        }
        if mask != 0 {
            self.hooks.defs.push((th, mask, count));
        }
        if th == self.cur {
            self.hooks.dbg_mask = mask;
            self.hooks.base_count = count;
            self.hooks.counter = count;
            self.hooks.oldpc = 0;
        }
        self.update_mask();
    }

    /// `debug.gethook`: thread `th`'s hook function, mask and count.
    pub fn debug_hook(&mut self, th: Gc<Thread>) -> Option<(Value, u8, u32)> {
        let &(_, mask, count) = self.hooks.defs.iter().find(|d| d.0 == th)?;
        let f = match self.hook_table(false) {
            Some(t) => t.get().get(Value::Thread(th)),
            None => Value::Nil,
        };
        Some((f, mask, count))
    }

    /// Sets the host's hook (`None` removes it): called for the events in `mask` (count
    /// events every `count` instructions) in every thread of the state.
    pub fn set_host_hook(&mut self, hook: Option<(Rc<HostHookFn>, u8, u32)>) {
        self.hooks.host = hook.map(|(f, mask, count)| {
            let mask = if count == 0 { mask & !MASK_COUNT } else { mask };
            HostHook {
                f,
                mask,
                count,
                counter: count,
            }
        });
        self.update_mask();
    }

    /// Calls the hooks watching `event` (the host's first, then the running thread's debug
    /// hook).
    fn fire_hook(&mut self, event: HookEvent, line: Option<u32>) -> Result<(), LuaError> {
        let bit = event.bit();
        if self.hooks.host_mask() & bit != 0 && !self.hooks.in_host_hook {
            self.fire_host_hook(event, line)?;
        }
        if self.hooks.dbg_mask & bit != 0 && !self.hooks.in_hook && !self.hooks.in_host_hook {
            self.fire_debug_hook(event, line)?;
        }
        Ok(())
    }

    fn fire_host_hook(&mut self, event: HookEvent, line: Option<u32>) -> Result<(), LuaError> {
        let Some(f) = self.hooks.host.as_ref().map(|h| h.f.clone()) else {
            return Ok(());
        };
        self.hooks.in_host_hook = true;
        let th = self.cur.get_mut();
        let saved_top = th.top;
        th.top = th.live_top();
        let r = f(self, event, line);
        self.hooks.in_host_hook = false;
        self.cur.get_mut().top = saved_top;
        r
    }

    /// Calls the running thread's debug hook with `event` (and the line for line events).
    fn fire_debug_hook(&mut self, event: HookEvent, line: Option<u32>) -> Result<(), LuaError> {
        let Some(t) = self.hook_table(false) else {
            return Ok(());
        };
        let f = t.get().get(Value::Thread(self.cur));
        if !f.is_function() {
            // The thread that set this hook was collected (weak key) and its address
            // reused: drop the stale setting.
            let cur = self.cur;
            self.hooks.defs.retain(|d| d.0 != cur);
            self.hooks.dbg_mask = 0;
            self.update_mask();
            return Ok(());
        }
        self.hooks.in_hook = true;
        let th = self.cur.get_mut();
        let saved_top = th.top;
        // The hook runs above the hooked frame's registers and any pending values.
        th.top = th.live_top();
        let ev = self.str_value(event.name());
        let ln = line.map_or(Value::Nil, |l| Value::Int(l as i64));
        let saved_frame = self.hooks.hook_frame;
        let nframes = self.cur.get().frames.len();
        self.hooks.hook_frame = Some((self.cur, nframes));
        let saved_transfer = self.hooks.transfer;
        self.hooks.transfer = match event {
            HookEvent::Call | HookEvent::TailCall | HookEvent::Return => {
                let (first, n) = std::mem::take(&mut self.hooks.next_transfer);
                Some((self.cur, nframes.wrapping_sub(1), first, n))
            }
            _ => None,
        };
        let r = self.call_value(f, &[ev, ln]);
        self.hooks.transfer = saved_transfer;
        self.hooks.hook_frame = saved_frame;
        self.hooks.in_hook = false;
        r?;
        self.cur.get_mut().top = saved_top;
        Ok(())
    }

    /// The values transferred to (call) or from (return) frame `idx` of thread `th` while
    /// a hook for that event runs: (first local index, count); (0, 0) otherwise.
    pub fn transfer_info(&self, th: Gc<Thread>, idx: usize) -> (usize, usize) {
        match self.hooks.transfer {
            Some((t, i, first, n)) if t == th && i == idx => (first, n),
            _ => (0, 0),
        }
    }

    /// True while a hook runs (the debug library reports its frame as a hook's).
    pub fn in_hook(&self) -> bool {
        self.hooks.in_hook
    }

    /// Flags the frame just pushed when it is the hook function's.
    fn mark_hook_frame(&mut self) {
        let cur = self.cur;
        let fr = &mut cur.get_mut().frames;
        let top = fr.len().wrapping_sub(1);
        if self.hooks.hook_frame == Some((cur, top)) {
            fr[top].flags |= flags::DEBUG_HOOK;
            self.hooks.hook_frame = None;
        }
    }

    /// Call hook for a Lua frame just pushed (called by `push_lua_frame` when a hook is set).
    #[cold]
    #[inline(never)]
    pub(crate) fn hook_lua_call(&mut self) -> Result<(), LuaError> {
        if self.hooks.in_host_hook {
            return Ok(());
        }
        if self.hooks.in_hook {
            self.mark_hook_frame();
            if self.hooks.host_mask() & MASK_CALL != 0 {
                self.fire_host_hook(HookEvent::Call, None)?;
            }
            return Ok(());
        }
        let Some(ci) = self.cur.get().frames.last().copied() else {
            return Ok(());
        };
        // The first traced instruction of a function is seen as a new line (vararg
        // functions start after their VARARGPREP). For those the mark is set after the
        // call hook, which may itself set a line hook (as PUC's OP_VARARGPREP does).
        let vararg = matches!(ci.proto, Some(p) if p.get().is_vararg);
        self.hooks.oldpc = 0;
        if self.hooks.mask & MASK_CALL != 0 {
            let nparams = ci.proto.map_or(0, |p| p.get().num_params as usize);
            self.hooks.next_transfer = (1, nparams);
            let ev = if ci.flags & flags::TAIL != 0 {
                HookEvent::TailCall
            } else {
                HookEvent::Call
            };
            self.fire_hook(ev, None)?;
        }
        if vararg {
            self.hooks.oldpc = 1;
        }
        Ok(())
    }

    /// Call (`call` true) or return hook of a native whose frame is on top.
    #[cold]
    #[inline(never)]
    /// `nres`: for a return, how many results the native left on top of the stack.
    pub(crate) fn hook_native(&mut self, call: bool, nres: usize) -> Result<(), LuaError> {
        if self.hooks.in_host_hook {
            return Ok(());
        }
        if self.hooks.in_hook && call {
            self.mark_hook_frame();
        }
        let bit = if call { MASK_CALL } else { MASK_RET };
        if self.hooks.mask & bit != 0 {
            let th = self.cur.get();
            let base = th.frames.last().map_or(0, |ci| ci.base);
            self.hooks.next_transfer = if call {
                (1, th.top.saturating_sub(base))
            } else {
                let n = nres.min(th.top.saturating_sub(base));
                (th.top - n - base + 1, n)
            };
            self.fire_hook(
                if call {
                    HookEvent::Call
                } else {
                    HookEvent::Return
                },
                None,
            )?;
        }
        if !call {
            self.ret_oldpc();
        }
        Ok(())
    }

    /// PUC's `rethook`: the function being returned to (below the top frame, past pcall
    /// markers, which return at the same time) continues after its call instruction.
    fn ret_oldpc(&mut self) {
        let th = self.cur.get();
        let n = th.frames.len();
        for f in th.frames[..n.saturating_sub(1)].iter().rev() {
            match f.kind {
                FrameKind::Pcall | FrameKind::Xpcall => continue,
                FrameKind::Lua => {
                    self.hooks.oldpc = f.pc.saturating_sub(1);
                    return;
                }
                FrameKind::Native => return,
            }
        }
    }

    /// The interpreter's slow path when the signal word is non-zero: an interrupt raises
    /// its error; otherwise the per-instruction hook work runs.
    #[cold]
    #[inline(never)]
    pub(crate) fn on_signal(&mut self) -> Result<(), LuaError> {
        if self.signal.stop_pending() {
            if let Some(e) = self.stop_error() {
                return Err(e);
            }
        }
        if self.hooks.mask != 0 {
            return self.hook_instr();
        }
        Ok(())
    }

    /// Per-instruction hook work (count, line, and return events) before the instruction
    /// at the top Lua frame's saved pc runs.
    #[cold]
    #[inline(never)]
    pub(crate) fn hook_instr(&mut self) -> Result<(), LuaError> {
        if self.hooks.in_host_hook || (self.hooks.in_hook && self.hooks.host_mask() == 0) {
            return Ok(());
        }
        let th = self.cur.get();
        let n = th.frames.len();
        let Some(ci) = th.frames.last().copied() else {
            return Ok(());
        };
        let Some(p) = ci.proto else {
            return Ok(());
        };
        let npci = ci.pc;
        let pr = p.get();
        let Some(instr) = pr.code.get(npci).copied() else {
            return Ok(());
        };
        let op = instr.op();
        if op == OpCode::VarargPrep {
            return Ok(());
        }
        // While a hook runs, the frame reports the instruction about to run as current.
        self.cur.get_mut().frames[n - 1].pc = npci + 1;
        // On error the frame keeps that pc: the traceback shows the line being entered.
        self.hook_events(op, npci, p)?;
        if let Some(ci) = self.cur.get_mut().frames.get_mut(n - 1) {
            ci.pc = npci;
        }
        Ok(())
    }

    /// The return event of a RETURN that closed variables first (see `hook_events`):
    /// `n` results from register `first`.
    pub(crate) fn hook_return(&mut self, first: usize, n: usize) -> Result<(), LuaError> {
        if self.hooks.mask & MASK_RET != 0 {
            self.hooks.next_transfer = (first + 1, n);
            self.fire_hook(HookEvent::Return, None)?;
        }
        Ok(())
    }

    fn hook_events(
        &mut self,
        op: OpCode,
        npci: usize,
        p: Gc<crate::function::FnProto>,
    ) -> Result<(), LuaError> {
        let pr = p.get();
        let mask = self.hooks.mask;
        if mask & MASK_COUNT != 0 {
            if let Some(h) = self
                .hooks
                .host
                .as_mut()
                .filter(|h| h.mask & MASK_COUNT != 0)
            {
                h.counter = h.counter.saturating_sub(1);
                if h.counter == 0 {
                    h.counter = h.count;
                    self.fire_host_hook(HookEvent::Count, None)?;
                }
            }
            if self.hooks.dbg_mask & MASK_COUNT != 0 && !self.hooks.in_hook {
                self.hooks.counter = self.hooks.counter.saturating_sub(1);
                if self.hooks.counter == 0 {
                    self.hooks.counter = self.hooks.base_count;
                    self.fire_debug_hook(HookEvent::Count, None)?;
                }
            }
        }
        if mask & MASK_LINE != 0 {
            let oldpc = if self.hooks.oldpc < pr.code.len() {
                self.hooks.oldpc
            } else {
                0
            };
            // Without line information (a stripped binary chunk) the line never changes:
            // only entering the function and jumping back call the hook, with no line
            // (as Lua's `changedline`).
            let changed = !pr.line_info.is_empty() && pr.line_at(oldpc) != pr.line_at(npci);
            if npci <= oldpc || changed {
                self.fire_hook(HookEvent::Line, pr.current_line(npci))?;
            }
            if !self.hooks.in_hook {
                self.hooks.oldpc = npci;
            }
        }
        if matches!(op, OpCode::Return | OpCode::Return0 | OpCode::Return1) {
            // A return that still has variables to close reports after closing them (their
            // `__close` calls come first, as in Lua): RETURN then calls `hook_return`.
            let closing = op == OpCode::Return && pr.code[npci].k() && {
                let th = self.cur.get();
                th.frames.last().is_some_and(|ci| th.needs_close(ci.base))
            };
            if mask & MASK_RET != 0 && !closing {
                let i = pr.code[npci];
                let a = i.a() as usize;
                let n = match op {
                    OpCode::Return0 => 0,
                    OpCode::Return1 => 1,
                    _ if i.b() != 0 => i.b() as usize - 1,
                    _ => {
                        let th = self.cur.get();
                        let base = th.frames.last().map_or(0, |ci| ci.base);
                        th.top.saturating_sub(base + a)
                    }
                };
                self.hooks.next_transfer = (a + 1, n);
                self.fire_hook(HookEvent::Return, None)?;
            }
            if !self.hooks.in_hook {
                self.ret_oldpc();
            }
        }
        Ok(())
    }
}

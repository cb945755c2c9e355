//! Threads (coroutines): each has its own value stack and call frames.
//!
//! Invariants: every slot of `stack` is initialised (`stack.len()` is the allocated size);
//! `top` is the first free slot for natives and multiple results; a Lua frame owns
//! `base .. base + max_stack` (its `CallInfo::top`); `open_upvals` is sorted by stack index
//! (ascending) and holds exactly the open cells pointing into this stack; `tbc` lists the
//! stack slots of pending to-be-closed variables, ascending.

use crate::function::{FnProto, LuaClosure, UpvalCell};
use crate::gc::{Gc, Marker, Trace};
use crate::value::Value;

/// `LUAI_MAXSTACK`: the most slots a thread's stack may use.
pub const MAX_STACK: usize = 1_000_000;
/// Slots a thread may use beyond [`MAX_STACK`] while handling a stack overflow error.
pub const ERROR_STACK_EXTRA: usize = 5_000;
/// Initial stack size.
const BASIC_STACK: usize = 64;

/// The stack would exceed its limit (the caller raises Lua's "stack overflow").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackOverflow;

/// What a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A Lua function running in the interpreter loop.
    Lua,
    /// A native function (its arguments start at `base`).
    Native,
    /// `pcall` handled by the loop: a protected boundary; the callee sits at `func + 1`.
    Pcall,
    /// `xpcall` handled by the loop: the message handler sits at `func`.
    Xpcall,
}

/// Frame flags.
pub mod flags {
    /// The frame was entered from Rust: returning from it leaves `execute`.
    pub const FRESH: u8 = 1;
    /// The frame replaced its caller by a tail call.
    pub const TAIL: u8 = 2;
    /// A metamethod call: on return, the caller's interrupted instruction is finished.
    pub const META: u8 = 4;
    /// The frame runs the message handler of an `xpcall`, or a `__close`/finalizer.
    pub const HOOK: u8 = 8;
    /// A `__lt` call standing for `__le` (`a <= b` as `not (b < a)`): negate its result.
    pub const NEGATE: u8 = 16;
    /// The frame runs a debug hook function (named `hook '?'` in tracebacks).
    pub const DEBUG_HOOK: u8 = 32;
    /// The frame was called by a CALL of the Lua frame just below it (kept by tail calls):
    /// its return goes straight back to that frame, with nothing else to finish.
    pub const LUA_CALLER: u8 = 64;
    /// A RETURN with a variable result count is closing variables: the count is in `extra`
    /// while a `__close` frame runs above the results.
    pub const NRES_SAVED: u8 = 128;
}

/// One activation record.
#[derive(Clone, Copy)]
pub struct CallInfo {
    /// Stack slot of the called value; results are moved here.
    pub func: usize,
    /// First register (Lua) or first argument (native).
    pub base: usize,
    /// End of the frame's registers (Lua) or the top when the native was called.
    pub top: usize,
    /// Lua: index of the next instruction to run (saved when the frame is not running).
    pub pc: usize,
    /// Results wanted by the caller; -1 for all of them.
    pub nresults: i32,
    pub kind: FrameKind,
    pub flags: u8,
    /// Number of extra (vararg) arguments, stored below `base`.
    pub nvarargs: u32,
    /// META frames interrupting a `CONCAT`: how many values were left to concatenate.
    pub extra: u32,
    /// The closure running (Lua frames).
    pub closure: Option<Gc<LuaClosure>>,
    /// The proto the frame started with (a patched closure does not change a running frame).
    pub proto: Option<Gc<FnProto>>,
    /// `Vm::c_calls` when a protected frame was entered (restored when it catches an error).
    pub saved_ccalls: u32,
}

impl CallInfo {
    /// A frame for a native function called with its value at `func`.
    pub fn native(func: usize, top: usize, nresults: i32) -> CallInfo {
        CallInfo {
            func,
            base: func + 1,
            top,
            pc: 0,
            nresults,
            kind: FrameKind::Native,
            flags: 0,
            nvarargs: 0,
            extra: 0,
            closure: None,
            proto: None,
            saved_ccalls: 0,
        }
    }

    /// A frame for Lua closure `cl` (proto `p`) called with its value at `func`; the
    /// registers start at `base` (above the extra arguments of a vararg function).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn lua(
        func: usize,
        base: usize,
        top: usize,
        nresults: i32,
        flags: u8,
        nvarargs: u32,
        cl: Gc<LuaClosure>,
        p: Gc<FnProto>,
    ) -> CallInfo {
        CallInfo {
            func,
            base,
            top,
            pc: 0,
            nresults,
            kind: FrameKind::Lua,
            flags,
            nvarargs,
            extra: 0,
            closure: Some(cl),
            proto: Some(p),
            saved_ccalls: 0,
        }
    }

    /// True for frames running Lua code.
    #[inline(always)]
    pub fn is_lua(&self) -> bool {
        self.kind == FrameKind::Lua
    }
}

/// Status of a coroutine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Created or running normally.
    Ok,
    /// Suspended in a yield.
    Suspended,
    /// Finished with an error.
    Dead,
}

/// A Lua thread: a stack of values and a stack of frames.
pub struct Thread {
    pub stack: Vec<Value>,
    pub top: usize,
    pub frames: Vec<CallInfo>,
    /// Open upvalue cells with their stack slots, sorted by slot ascending (the slot is kept
    /// beside the cell so a lookup searches one array instead of dereferencing cells).
    pub open_upvals: Vec<(usize, Gc<UpvalCell>)>,
    /// The same cells by stack slot: finding a slot's cell is one load, not a search of
    /// `open_upvals` (a module chunk creating closures over its ~100 locals searched it
    /// three times per closure).
    open_at: Vec<Option<Gc<UpvalCell>>>,
    /// Stack slots of pending to-be-closed variables, ascending.
    pub tbc: Vec<usize>,
    pub status: ThreadStatus,
    /// This coroutine runs a program's main chunk for a host that runs it as a task (so it
    /// may sleep). To Lua code it is the main thread, as under `lua5.4`: `coroutine.running`
    /// says so, `coroutine.isyieldable` is false, `coroutine.yield` is refused (only the
    /// host's natives yield it, through `Vm::yield_from_native`), and tracebacks end with
    /// the `[C]: in ?` level lua.c's C frame gives.
    pub program_main: bool,
}

impl Default for Thread {
    fn default() -> Self {
        Thread::new()
    }
}

impl Thread {
    /// An empty thread.
    pub fn new() -> Thread {
        Thread {
            stack: vec![Value::Nil; BASIC_STACK],
            top: 0,
            frames: Vec::with_capacity(16),
            open_upvals: Vec::new(),
            open_at: Vec::new(),
            tbc: Vec::new(),
            status: ThreadStatus::Ok,
            program_main: false,
        }
    }

    /// Makes sure slots up to `needed` (exclusive) exist, growing the stack (and re-pointing
    /// open upvalues) when necessary. `limit` is the most slots allowed; `Err` means
    /// the stack would overflow.
    #[inline(always)]
    pub fn ensure(&mut self, needed: usize, limit: usize) -> Result<(), StackOverflow> {
        // The limit holds even when the stack is already longer (a message handler grew it
        // into the extra space of an earlier overflow): otherwise the next overflow would
        // happen past the limit, with no room left for its handler.
        if needed <= self.stack.len() && needed <= limit {
            Ok(())
        } else {
            self.grow(needed, limit)
        }
    }

    #[cold]
    fn grow(&mut self, needed: usize, limit: usize) -> Result<(), StackOverflow> {
        if needed > limit {
            return Err(StackOverflow);
        }
        let new_len = (self.stack.len() * 2).max(needed).min(limit.max(needed));
        let old = self.stack.len();
        if self.stack.try_reserve_exact(new_len - old).is_err() {
            // Out of memory: reported as "not enough memory" by the caller's overflow path
            // (`Vm::stack_overflow` takes the record).
            crate::gc::record_alloc_failure();
            return Err(StackOverflow);
        }
        self.stack.resize(new_len, Value::Nil);
        crate::gc::account_extra(((new_len - old) * std::mem::size_of::<Value>()) as isize);
        self.fix_upvalues();
        Ok(())
    }

    /// Re-points every open upvalue cell at the (possibly moved) stack buffer.
    pub fn fix_upvalues(&mut self) {
        let base = self.stack.as_mut_ptr();
        for (_, u) in &self.open_upvals {
            u.get().rebase(base);
        }
    }

    /// Pushes a value at `top` (the caller ensured the room or accepts growth).
    #[inline]
    pub fn push(&mut self, v: Value) -> Result<(), StackOverflow> {
        self.ensure(self.top + 1, MAX_STACK + ERROR_STACK_EXTRA)?;
        self.stack[self.top] = v;
        self.top += 1;
        Ok(())
    }

    /// The open cell for stack slot `index`, created (and registered) when absent.
    pub fn find_upval(
        &mut self,
        me: Gc<Thread>,
        index: usize,
        heap: &mut crate::gc::Heap,
    ) -> Gc<UpvalCell> {
        if let Some(&Some(cell)) = self.open_at.get(index) {
            return cell;
        }
        assert!(
            index < self.stack.len(),
            "an open upvalue's slot is on the stack"
        );
        // Derived from the buffer's own pointer, as every raw pointer into the stack is (the
        // interpreter's register base too): a pointer made from a `&mut` to the slot would
        // be invalidated, under Stacked Borrows, by the next write through the others.
        let slot: *mut Value = self.stack.as_mut_ptr().wrapping_add(index);
        let cell = heap.alloc(UpvalCell::new_open(me, index, slot));
        // Usually the highest open slot so far: then this is a push.
        let pos = self.open_upvals.partition_point(|u| u.0 < index);
        self.open_upvals.insert(pos, (index, cell));
        if self.open_at.len() <= index {
            self.open_at.resize(self.stack.len().max(index + 1), None);
        }
        self.open_at[index] = Some(cell);
        cell
    }

    /// Closes every open upvalue at or above stack slot `level`.
    #[inline]
    pub fn close_upvals(&mut self, level: usize) {
        while let Some(&(index, u)) = self.open_upvals.last() {
            if index < level {
                break;
            }
            u.get().close();
            self.open_upvals.pop();
            self.open_at[index] = None;
        }
    }

    /// True when something at or above `level` needs closing (upvalues or tbc variables).
    #[inline(always)]
    pub fn needs_close(&self, level: usize) -> bool {
        matches!(self.open_upvals.last(), Some(u) if u.0 >= level)
            || matches!(self.tbc.last(), Some(&i) if i >= level)
    }

    /// Sets every slot above the live top to nil, so stale values never keep (or, once
    /// their objects are freed, expose) dead objects: collections mark only up to the live
    /// top. The Vm does this for the main and running threads before each collection; a
    /// coroutine must do it when it stops running (yield, finish), since its stack is not
    /// touched again until it resumes.
    pub fn clear_stale(&mut self) {
        let lt = self.live_top();
        for v in &mut self.stack[lt..] {
            *v = Value::Nil;
        }
    }

    /// The slot up to which the stack holds live values: the top, or the end of the running
    /// Lua frame's registers.
    pub fn live_top(&self) -> usize {
        let ft = self.frames.last().map_or(0, |f| f.top);
        self.top.max(ft).min(self.stack.len())
    }
}

impl Trace for Thread {
    fn trace(&self, m: &mut Marker) {
        // The whole stack: slots above the live top of a thread that is not running (a
        // suspended or normal coroutine) are not cleared by the collector, and a resumed
        // frame may expose them again.
        m.mark_values(&self.stack);
        for f in &self.frames {
            if let Some(c) = f.closure {
                m.mark(c);
            }
            if let Some(p) = f.proto {
                m.mark(p);
            }
        }
        for (_, u) in &self.open_upvals {
            m.mark(*u);
        }
    }

    fn extra_bytes(&self) -> usize {
        self.stack.capacity() * std::mem::size_of::<Value>()
            + self.frames.capacity() * std::mem::size_of::<CallInfo>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cells found by slot, in any order of creation, stay the slot's cell until closed;
    /// closing above a level forgets exactly those, and a slot reopened after closing gets
    /// a fresh cell.
    #[test]
    fn open_cells_by_slot() {
        let mut heap = crate::gc::Heap::new();
        let me = heap.alloc(Thread::new());
        let th = me.get_mut();
        let c5 = th.find_upval(me, 5, &mut heap);
        let c2 = th.find_upval(me, 2, &mut heap);
        let c9 = th.find_upval(me, 9, &mut heap);
        assert!(c5 != c2 && c5 != c9 && c2 != c9);
        assert!(th.find_upval(me, 5, &mut heap) == c5);
        assert!(th.find_upval(me, 9, &mut heap) == c9);
        let slots: Vec<usize> = th.open_upvals.iter().map(|u| u.0).collect();
        assert_eq!(slots, [2, 5, 9]);
        th.close_upvals(4);
        assert!(!c5.get().is_open() && !c9.get().is_open() && c2.get().is_open());
        assert!(th.find_upval(me, 2, &mut heap) == c2);
        let c5b = th.find_upval(me, 5, &mut heap);
        assert!(c5b != c5 && c5b.get().is_open());
        th.close_upvals(0);
        assert!(th.open_upvals.is_empty() && !c2.get().is_open() && !c5b.get().is_open());
    }
}

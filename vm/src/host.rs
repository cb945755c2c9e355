//! What an embedding host needs from the VM: a slab of rooted values (the storage behind
//! the facade's handles), Rust closures as Lua functions, and the signal word a watchdog
//! thread uses to interrupt running code.
//!
//! Internal: the sound, documented embedding API is the `hotlua` crate; this module is the
//! VM side of its contract.
//!
//! Invariants:
//! - [`HostRoots`] lives in its own allocation (shared by `Rc` between the Vm and the
//!   host's handles), so releasing a slot never touches the Vm: a handle dropped anywhere
//!   (inside a callback, during a sweep's deferred drops, after the Vm is gone) is safe.
//! - Every slot with a non-zero count is marked by each collection; a slot's value is
//!   `nil` once its count reaches zero.
//! - A host callback is called through [`host_trampoline`], which clones the callback's `Rc`
//!   out of the running closure first: the callback stays alive for its whole call even if
//!   the closure itself becomes garbage meanwhile.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use crate::api::Args;
use crate::error::LuaError;
use crate::function::NativeClosure;
use crate::gc::Marker;
use crate::state::Vm;
use crate::value::Value;

/// The slab of values rooted by host handles.
#[derive(Default)]
pub struct HostRoots {
    inner: RefCell<Slab>,
}

#[derive(Default)]
struct Slab {
    values: Vec<Value>,
    counts: Vec<u32>,
    free: Vec<u32>,
    live: usize,
}

impl HostRoots {
    /// Roots `v` in a fresh slot (count 1) and returns the slot.
    pub fn insert(&self, v: Value) -> u32 {
        let mut s = self.inner.borrow_mut();
        s.live += 1;
        match s.free.pop() {
            Some(i) => {
                s.values[i as usize] = v;
                s.counts[i as usize] = 1;
                i
            }
            None => {
                let i = s.values.len() as u32;
                s.values.push(v);
                s.counts.push(1);
                i
            }
        }
    }

    /// The value in `slot` (`nil` for a released slot).
    #[inline]
    pub fn get(&self, slot: u32) -> Value {
        let s = self.inner.borrow();
        match s.counts.get(slot as usize) {
            Some(&c) if c > 0 => s.values[slot as usize],
            _ => Value::Nil,
        }
    }

    /// Replaces the value of a live slot.
    pub fn set(&self, slot: u32, v: Value) {
        let mut s = self.inner.borrow_mut();
        if s.counts.get(slot as usize).is_some_and(|&c| c > 0) {
            s.values[slot as usize] = v;
        }
    }

    /// One more handle shares `slot`.
    pub fn retain(&self, slot: u32) {
        let mut s = self.inner.borrow_mut();
        if let Some(c) = s.counts.get_mut(slot as usize) {
            *c = c.saturating_add(1);
        }
    }

    /// One handle of `slot` is gone; the value is unrooted when it was the last one.
    pub fn release(&self, slot: u32) {
        // A handle dropped while the slab is borrowed (impossible today: no user code runs
        // under a borrow) leaks its slot instead of panicking in a destructor.
        let Ok(mut s) = self.inner.try_borrow_mut() else {
            return;
        };
        let i = slot as usize;
        let Some(c) = s.counts.get_mut(i) else { return };
        if *c == 0 {
            return;
        }
        *c -= 1;
        if *c == 0 {
            s.values[i] = Value::Nil;
            s.free.push(slot);
            s.live -= 1;
        }
    }

    /// The rooted values (for the patch census).
    pub fn values(&self) -> Vec<Value> {
        let s = self.inner.borrow();
        s.values
            .iter()
            .zip(&s.counts)
            .filter(|(_, c)| **c > 0)
            .map(|(v, _)| *v)
            .collect()
    }

    /// Number of live slots (for tests and statistics).
    pub fn live(&self) -> usize {
        self.inner.borrow().live
    }

    /// Marks every rooted value.
    pub(crate) fn trace(&self, m: &mut Marker) {
        let s = self.inner.borrow();
        for (v, c) in s.values.iter().zip(&s.counts) {
            if *c > 0 {
                m.mark_value(*v);
            }
        }
    }
}

/// A Rust closure callable from Lua: the calling convention of natives (arguments at
/// `args`, results pushed, their count returned).
pub type HostFn = dyn Fn(&mut Vm, Args) -> Result<usize, LuaError>;

/// The native every host closure runs: finds the running closure's callback and calls it.
pub fn host_trampoline(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let func = args.base.wrapping_sub(1);
    let cb = match vm.cur.get().stack.get(func) {
        Some(Value::NativeFn(c)) => c.get().host.clone(),
        _ => None,
    };
    match cb {
        Some(cb) => cb(vm, args),
        None => Err(vm.rt_error("host function called without its callback")),
    }
}

/// Bits of the [`Signal`] word.
pub mod signal {
    /// A watchdog asked running code to stop (sticky until the host clears it).
    pub const INTERRUPT: u8 = 1;
    /// A hook is set for the running thread (mirrors `HookState::mask != 0`).
    pub const HOOKED: u8 = 2;
    /// A deadline's time is up (see `deadline.rs`; a hint the Vm's thread clears).
    pub const DEADLINE: u8 = 4;
}

/// The word the interpreter tests before every instruction: non-zero when a hook is set or
/// another thread asked running code to stop. Shared by `Arc` with interrupt handles.
#[derive(Default, Debug)]
pub struct Signal(AtomicU8);

impl Signal {
    /// Requests an interrupt.
    pub fn interrupt(&self) {
        self.0.fetch_or(signal::INTERRUPT, Ordering::Relaxed);
    }
    /// Clears a pending interrupt; returns whether one was pending.
    pub fn clear_interrupt(&self) -> bool {
        self.0.fetch_and(!signal::INTERRUPT, Ordering::Relaxed) & signal::INTERRUPT != 0
    }
    /// True when an interrupt is pending.
    #[inline]
    pub fn interrupt_pending(&self) -> bool {
        self.0.load(Ordering::Relaxed) & signal::INTERRUPT != 0
    }
    /// True when an interrupt is pending or a deadline may have passed: the places that
    /// notice interrupts call [`Vm::stop_error`] then.
    #[inline(always)]
    pub fn stop_pending(&self) -> bool {
        self.0.load(Ordering::Relaxed) & (signal::INTERRUPT | signal::DEADLINE) != 0
    }
    /// A deadline's time is up (its watchdog thread calls this).
    pub(crate) fn deadline_passed(&self) {
        self.0.fetch_or(signal::DEADLINE, Ordering::Relaxed);
    }
    pub(crate) fn clear_deadline(&self) {
        self.0.fetch_and(!signal::DEADLINE, Ordering::Relaxed);
    }
    /// True when the interpreter must leave its fast path (a hook or an interrupt).
    #[inline(always)]
    pub fn raised(&self) -> bool {
        self.0.load(Ordering::Relaxed) != 0
    }
    /// Records whether a hook is set (only the Vm's thread calls this).
    pub(crate) fn set_hooked(&self, on: bool) {
        if on {
            self.0.fetch_or(signal::HOOKED, Ordering::Relaxed);
        } else {
            self.0.fetch_and(!signal::HOOKED, Ordering::Relaxed);
        }
    }
}

impl Vm {
    /// The host root slab (shared with the host's handles).
    pub fn host_roots(&self) -> &Rc<HostRoots> {
        &self.host_roots
    }

    /// The signal word a watchdog thread may set (see [`Signal`]).
    pub fn signal(&self) -> &Arc<Signal> {
        &self.signal
    }

    /// Raises the interrupt error if an interrupt is pending. Long-running natives call
    /// this every few thousand steps; the interpreter checks at back-edges and calls.
    #[inline]
    pub fn check_interrupt(&mut self) -> Result<(), LuaError> {
        if self.signal.stop_pending() {
            if let Some(e) = self.stop_error() {
                return Err(e);
            }
        }
        Ok(())
    }

    /// When [`Signal::stop_pending`]: the interrupt's error, or a deadline's that applies to
    /// the running thread (`deadline.rs`), or `None` (carry on).
    #[cold]
    #[inline(never)]
    pub fn stop_error(&mut self) -> Option<LuaError> {
        if self.signal.interrupt_pending() {
            return Some(self.interrupted());
        }
        self.deadline_error()
    }

    /// The error an interrupt raises.
    #[cold]
    pub fn interrupted(&mut self) -> LuaError {
        let msg = self.interrupt_message;
        if self.interrupt_positioned {
            self.rt_error(msg)
        } else {
            LuaError::new(self.str_value(msg))
        }
    }

    /// Sets the message interrupts raise (`"interrupted"` by default; lua.c's SIGINT uses
    /// `"interrupted!"`).
    pub fn set_interrupt_message(&mut self, msg: &'static str) {
        self.interrupt_message = msg;
    }

    /// Sets the message interrupts raise and whether it is prefixed with the position of the
    /// running Lua function. lua.c raises its SIGINT error from a hook (a C level), so its
    /// `"interrupted!"` has no position; a runner imitating it passes `false`.
    pub fn set_interrupt_error(&mut self, msg: &'static str, positioned: bool) {
        self.interrupt_message = msg;
        self.interrupt_positioned = positioned;
    }

    /// A Lua function running the Rust closure `f`; `name` is used in messages when the
    /// call site gives none.
    pub fn new_host_function(&mut self, f: Rc<HostFn>, name: &'static str) -> Value {
        Value::NativeFn(self.heap.alloc(NativeClosure {
            f: host_trampoline,
            upvals: Box::new([]),
            name,
            host: Some(f),
            builtin: crate::function::Builtin::None,
        }))
    }
}

//! Deadlines: a protected call whose callee must finish within a time budget (an operator's
//! `inject`, a reload run from the console). A hot patch that loops must not freeze the
//! server it was meant to fix.
//!
//! A deadline belongs to a thread and a *boundary*: the index of the frame that makes the
//! protected call (a `pcall` marker, or the Rust-level call of a native). A watchdog thread
//! sets the [`signal::DEADLINE`](crate::host::signal::DEADLINE) bit when the time is up;
//! the interpreter notices it where it notices interrupts (loop back-edges and calls) and
//! raises `deadline exceeded (N ms)` when the running thread is the deadline's thread or
//! one of the coroutines it resumed. The error is *sticky*: while the deadline stands, every
//! later check in those threads raises it again, so a `pcall` inside the callee cannot hold
//! on (its next loop iteration or call raises again); only the boundary's protected call
//! ends the deadline (its marker completing, normally or by catching an error).
//!
//! Invariants:
//! - A deadline is removed when the boundary frame of its thread completes
//!   ([`Vm::deadline_frame_done`], called by the marker paths) or when its owner ends it
//!   ([`Vm::end_deadline`]); one whose thread died or lost the boundary frame is pruned.
//! - The bit is only a hint: with no expired deadline applying to the running thread the
//!   check clears it and nothing is raised; resuming a thread whose deadline expired sets
//!   it again (so a callee sleeping past its deadline is stopped when it wakes up).

use std::time::{Duration, Instant};

use crate::error::LuaError;
use crate::gc::{Gc, Marker};
use crate::state::Vm;
use crate::thread::{Thread, ThreadStatus};

/// One deadline (see the module docs).
pub(crate) struct Deadline {
    id: u64,
    thread: Gc<Thread>,
    boundary: usize,
    at: Instant,
    ms: u64,
}

/// Names a deadline for [`Vm::end_deadline`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineId(u64);

/// The deadlines of a Vm.
#[derive(Default)]
pub(crate) struct Deadlines {
    list: Vec<Deadline>,
    next: u64,
    /// The Vm's watchdog thread (started on first use; it ends when this sender is dropped
    /// with the Vm): it sets the signal's deadline bit at each instant it is sent.
    watchdog: Option<std::sync::mpsc::Sender<Instant>>,
}

/// The watchdog: sleeps until the earliest pending instant, then sets the bit.
fn watchdog(sig: std::sync::Arc<crate::host::Signal>, rx: std::sync::mpsc::Receiver<Instant>) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut pending: std::collections::BinaryHeap<std::cmp::Reverse<Instant>> = Default::default();
    loop {
        let now = Instant::now();
        while pending.peek().is_some_and(|r| r.0 <= now) {
            pending.pop();
            sig.deadline_passed();
        }
        let got = match pending.peek() {
            Some(r) => rx.recv_timeout(r.0 - now),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match got {
            Ok(at) => pending.push(std::cmp::Reverse(at)),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

impl Deadlines {
    pub(crate) fn trace(&self, m: &mut Marker) {
        for d in &self.list {
            m.mark(d.thread);
        }
    }

    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl Vm {
    /// Starts a deadline `ms` milliseconds from now for the running thread, whose boundary is
    /// the top frame: a native that then ends with [`Vm::tail_call`] to `pcall` puts that
    /// protected call under it (the marker takes the native's frame index), and a native that
    /// calls Lua itself ([`Vm::call`]) ends it with [`Vm::end_deadline`] before returning.
    pub fn start_deadline(&mut self, ms: u64) -> DeadlineId {
        self.prune_deadlines();
        let boundary = self.cur.get().frames.len().saturating_sub(1);
        self.start_deadline_at(boundary, ms)
    }

    /// As [`Vm::start_deadline`], with the next frame to be pushed as the boundary: for a
    /// native that runs Lua code through [`Vm::call`] and ends the deadline itself.
    pub fn start_deadline_above(&mut self, ms: u64) -> DeadlineId {
        self.prune_deadlines();
        let boundary = self.cur.get().frames.len();
        self.start_deadline_at(boundary, ms)
    }

    fn start_deadline_at(&mut self, boundary: usize, ms: u64) -> DeadlineId {
        let d = &mut self.deadlines;
        d.next += 1;
        let id = d.next;
        let at = Instant::now() + Duration::from_millis(ms);
        d.list.push(Deadline {
            id,
            thread: self.cur,
            boundary,
            at,
            ms,
        });
        // The watchdog only sets a bit: the Vm's thread decides what it means.
        if self.deadlines.watchdog.is_none() {
            let (tx, rx) = std::sync::mpsc::channel();
            let sig = self.signal.clone();
            let spawned = std::thread::Builder::new()
                .name("hotlua-deadline".into())
                .spawn(move || watchdog(sig, rx));
            if spawned.is_ok() {
                self.deadlines.watchdog = Some(tx);
            }
        }
        let sent = match &self.deadlines.watchdog {
            Some(tx) => tx.send(at).is_ok(),
            None => false,
        };
        if !sent {
            // No thread to wake us: the bit is set now, so checks keep testing the time
            // (slower, never wrong).
            self.signal.deadline_passed();
        }
        DeadlineId(id)
    }

    /// Ends a deadline (whether or not it expired).
    pub fn end_deadline(&mut self, id: DeadlineId) {
        self.deadlines.list.retain(|d| d.id != id.0);
    }

    /// The boundary frame `index` of the running thread completed: deadlines at or above it
    /// end.
    #[inline]
    pub(crate) fn deadline_frame_done(&mut self, index: usize) {
        if self.deadlines.is_empty() {
            return;
        }
        let cur = self.cur;
        self.deadlines
            .list
            .retain(|d| !(d.thread == cur && d.boundary >= index));
    }

    /// Drops deadlines whose thread died or no longer has its boundary frame.
    fn prune_deadlines(&mut self) {
        self.deadlines.list.retain(|d| {
            let t = d.thread.get();
            t.status != ThreadStatus::Dead && t.frames.len() > d.boundary
        });
    }

    /// Called where interrupts are noticed when the deadline bit is set: the error to raise
    /// when an expired deadline applies to the running thread, else `None` (and the bit is
    /// cleared when no deadline applies now).
    #[cold]
    pub(crate) fn deadline_error(&mut self) -> Option<LuaError> {
        self.prune_deadlines();
        let now = Instant::now();
        let cur = self.cur;
        let resumers = &self.resumers;
        let hit = self
            .deadlines
            .list
            .iter()
            .find(|d| d.at <= now && (d.thread == cur || resumers.contains(&d.thread)))
            .map(|d| d.ms);
        match hit {
            Some(ms) => Some(self.rt_error(&format!("deadline exceeded ({ms} ms)"))),
            None => {
                self.signal.clear_deadline();
                None
            }
        }
    }

    /// Resuming `co`: when a deadline of `co` expired while it was suspended, the next check
    /// must see it.
    #[inline]
    pub(crate) fn deadline_on_resume(&mut self, co: Gc<Thread>) {
        if self.deadlines.is_empty() {
            return;
        }
        let now = Instant::now();
        if self
            .deadlines
            .list
            .iter()
            .any(|d| d.thread == co && d.at <= now)
        {
            self.signal.deadline_passed();
        }
    }
}

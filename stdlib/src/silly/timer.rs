//! The timer queue of the event loop: a binary heap of deadlines with lazy cancellation.
//!
//! Invariants: sessions are issued in increasing order, so ordering entries by
//! `(deadline, session)` fires equal deadlines in creation order. A cancelled session stays
//! in the heap until it reaches the top (or a compaction), but is no longer in `pending`, so
//! it never fires. Adding, cancelling and firing one timer cost O(log n).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// A timer session: the integer `silly.time.after` returns.
pub type Session = u64;

/// Deadlines are microseconds on the loop's monotonic clock.
pub type Micros = u64;

/// `HashMap` for integer-like keys (sessions, object addresses), hashed by foldhash.
pub type IdMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Pending timers, each with a `u64` payload its owner interprets.
#[derive(Default)]
pub struct TimerQueue {
    heap: BinaryHeap<Reverse<(Micros, Session)>>,
    pending: IdMap<Session, u64>,
    next_session: Session,
}

impl TimerQueue {
    pub fn new() -> TimerQueue {
        TimerQueue {
            next_session: 1,
            ..TimerQueue::default()
        }
    }

    /// Schedules a timer firing at `deadline`; returns its session.
    pub fn add(&mut self, deadline: Micros) -> Session {
        self.add_with(deadline, 0)
    }

    /// Schedules a timer firing at `deadline` carrying `payload`; returns its session.
    pub fn add_with(&mut self, deadline: Micros, payload: u64) -> Session {
        let session = self.next_session;
        self.next_session += 1;
        self.heap.push(Reverse((deadline, session)));
        self.pending.insert(session, payload);
        session
    }

    /// Cancels a pending timer. Unknown and already fired sessions are ignored; returns
    /// whether a pending timer was cancelled.
    pub fn cancel(&mut self, session: Session) -> bool {
        self.take(session).is_some()
    }

    /// Cancels a pending timer and returns its payload (None: unknown or already fired).
    pub fn take(&mut self, session: Session) -> Option<u64> {
        let payload = self.pending.remove(&session);
        // Stale entries would otherwise accumulate when many far-future timers are cancelled.
        if payload.is_some() && self.heap.len() > 64 && self.heap.len() > 2 * self.pending.len() {
            let pending = &self.pending;
            self.heap.retain(|Reverse((_, s))| pending.contains_key(s));
        }
        payload
    }

    /// The payload of a pending timer.
    pub fn payload(&self, session: Session) -> Option<u64> {
        self.pending.get(&session).copied()
    }

    /// Number of timers that will still fire.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Whether `session` is still pending.
    pub fn is_pending(&self, session: Session) -> bool {
        self.pending.contains_key(&session)
    }

    /// The earliest deadline of a pending timer.
    pub fn next_deadline(&mut self) -> Option<Micros> {
        self.drop_stale_top();
        self.heap.peek().map(|Reverse((d, _))| *d)
    }

    /// Removes and returns the earliest timer whose deadline is at or before `now`.
    pub fn pop_expired(&mut self, now: Micros) -> Option<Session> {
        self.pop_expired_with(now).map(|(s, _)| s)
    }

    /// Removes the earliest timer due at `now`; returns its session and payload.
    pub fn pop_expired_with(&mut self, now: Micros) -> Option<(Session, u64)> {
        self.drop_stale_top();
        match self.heap.peek() {
            Some(Reverse((deadline, _))) if *deadline <= now => {
                let Reverse((_, session)) = self.heap.pop()?;
                let payload = self.pending.remove(&session)?;
                Some((session, payload))
            }
            _ => None,
        }
    }

    fn drop_stale_top(&mut self) {
        while let Some(Reverse((_, s))) = self.heap.peek() {
            if self.pending.contains_key(s) {
                break;
            }
            self.heap.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_deadline_then_creation_order() {
        let mut q = TimerQueue::new();
        let a = q.add(30);
        let b = q.add(10);
        let c = q.add(30);
        let d = q.add(10);
        assert_eq!(q.next_deadline(), Some(10));
        assert_eq!(q.pop_expired(5), None);
        let fired: Vec<_> = std::iter::from_fn(|| q.pop_expired(100)).collect();
        assert_eq!(fired, vec![b, d, a, c]);
        assert!(q.is_empty());
    }

    #[test]
    fn cancel_is_idempotent_and_ignores_unknown() {
        let mut q = TimerQueue::new();
        let a = q.add(10);
        let b = q.add(20);
        assert!(q.cancel(a));
        assert!(!q.cancel(a));
        assert!(!q.cancel(999));
        assert_eq!(q.next_deadline(), Some(20));
        assert_eq!(q.pop_expired(20), Some(b));
        assert!(!q.cancel(b), "a fired timer cannot be cancelled");
        assert_eq!(q.pop_expired(u64::MAX), None);
    }

    #[test]
    fn payloads_follow_their_timer() {
        let mut q = TimerQueue::new();
        let a = q.add_with(20, 7);
        let b = q.add_with(10, 9);
        assert_eq!(q.payload(a), Some(7));
        assert_eq!(q.take(a), Some(7));
        assert_eq!(q.take(a), None);
        assert_eq!(q.pop_expired_with(5), None);
        assert_eq!(q.pop_expired_with(10), Some((b, 9)));
        assert_eq!(q.payload(b), None);
    }

    #[test]
    fn id_map_hash_spreads_aligned_keys() {
        use std::hash::BuildHasher;
        let state = foldhash::fast::FixedState::default();
        let mut low = std::collections::HashSet::new();
        for i in 0..1024u64 {
            low.insert(state.hash_one((i * 64) as usize) & 1023);
        }
        assert!(
            low.len() > 600,
            "aligned addresses collide: {} buckets",
            low.len()
        );
    }

    #[test]
    fn a_million_timers_and_mass_cancellation() {
        let mut q = TimerQueue::new();
        let sessions: Vec<_> = (0..1_000_000u64).map(|i| q.add(i % 1000)).collect();
        for s in sessions.iter().step_by(2) {
            q.cancel(*s);
        }
        assert_eq!(q.len(), 500_000);
        let mut last = (0, 0);
        let mut n = 0;
        while let Some(s) = q.pop_expired(u64::MAX) {
            let key = ((s - 1) % 1000, s);
            assert!(key > last, "out of order");
            assert_eq!(s % 2, 0, "a cancelled timer fired");
            last = key;
            n += 1;
        }
        assert_eq!(n, 500_000);
    }
}

//! Output capture: what `print` and `silly.logger` write while a thread runs can also be
//! collected for someone else (the console sends an `inject`'s output back to its
//! operator). Output still goes to the Vm's stdout as well.
//!
//! A capture belongs to a thread: it collects what that thread and the coroutines it
//! resumed write, up to [`MAX_CAPTURE`] bytes (the rest is counted, not kept).

use crate::gc::{Gc, Marker};
use crate::state::Vm;
use crate::thread::Thread;

/// Bytes a capture keeps; beyond it, output is only counted.
pub const MAX_CAPTURE: usize = 1 << 20;

pub(crate) struct Capture {
    thread: Gc<Thread>,
    buf: Vec<u8>,
    dropped: usize,
}

/// The captures of a Vm (innermost last).
#[derive(Default)]
pub(crate) struct Captures(Vec<Capture>);

impl Captures {
    pub(crate) fn trace(&self, m: &mut Marker) {
        for c in &self.0 {
            m.mark(c.thread);
        }
    }
}

impl Vm {
    /// Writes `bytes` to stdout (flushed), and to the capture of the running thread or of
    /// the nearest thread that resumed it, if any.
    pub fn write_output(&mut self, bytes: &[u8]) {
        // Output that cannot be written (a closed stdout) is dropped, not a Lua error.
        let _ = self
            .stdout
            .write_all(bytes)
            .and_then(|_| self.stdout.flush());
        if self.captures.0.is_empty() {
            return;
        }
        let cur = self.cur;
        let owner = std::iter::once(cur)
            .chain(self.resumers.iter().rev().copied())
            .find(|t| self.captures.0.iter().any(|c| c.thread == *t));
        if let Some(t) = owner {
            if let Some(c) = self.captures.0.iter_mut().rev().find(|c| c.thread == t) {
                let room = MAX_CAPTURE.saturating_sub(c.buf.len());
                let n = room.min(bytes.len());
                c.buf.extend_from_slice(&bytes[..n]);
                c.dropped += bytes.len() - n;
            }
        }
    }

    /// Starts capturing the running thread's output.
    pub fn begin_capture(&mut self) {
        let thread = self.cur;
        self.captures.0.push(Capture {
            thread,
            buf: Vec::new(),
            dropped: 0,
        });
    }

    /// Ends the running thread's innermost capture: what it collected and how many bytes
    /// did not fit (`None` when the thread has no capture).
    pub fn end_capture(&mut self) -> Option<(Vec<u8>, usize)> {
        let cur = self.cur;
        let i = self.captures.0.iter().rposition(|c| c.thread == cur)?;
        let c = self.captures.0.remove(i);
        Some((c.buf, c.dropped))
    }
}

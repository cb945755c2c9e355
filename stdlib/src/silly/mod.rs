//! The silly.* runtime: the event loop, tasks, timers, logger and patching.

pub mod timer;

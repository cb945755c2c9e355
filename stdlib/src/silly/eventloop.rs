//! The single-threaded event loop behind silly.*: tasks, timers, signals and (as an extension
//! point for networking) I/O sources, all driven by one `mio::Poll`.
//!
//! Model: a task is a VM thread (coroutine). The loop resumes ready tasks in FIFO order; a
//! task gives control back by yielding from a runtime native (`sleep`, `wait`, an I/O wait,
//! `exit`) or by a plain `coroutine.yield` (it is then simply ready again). Between rounds
//! the loop fires expired timers and sleeps in `Poll::poll` until the next deadline, an I/O
//! event or a signal: it never busy-waits.
//!
//! Invariants:
//! - Every live task is a key of the anchor table `tasks` (so it survives collections) and of
//!   `EventLoop::tasks` (its status); a task that returns or dies is removed from both.
//! - A task is in the ready queue exactly when its status is `Ready`.
//! - A pending timer's session `s` has its action in the anchor tables: `tfn[s]` is the
//!   callback function (with `tud[s]` its argument) or the sleeping task's thread.
//! - The Rust state lives in a thread-local, borrowed only inside `with_loop` closures that
//!   never call into Lua (running Lua may re-enter the runtime's natives).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotlua_vm::coroutine::Resume;
use hotlua_vm::gc::Gc;
use hotlua_vm::host::Signal;
use hotlua_vm::table::Table;
use hotlua_vm::thread::Thread;
use hotlua_vm::{LuaError, Value, Vm};
use mio::{Events, Interest, Poll, Token};

use super::timer::{IdMap, Micros, Session, TimerQueue};

/// The poll token of the signal pipe; I/O sources get tokens from 1 up.
pub const SIGNAL_TOKEN: Token = Token(0);

/// What a task is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    /// In the ready queue.
    Ready,
    /// Being resumed now (or resuming another coroutine).
    Running,
    /// Suspended in `silly.time.sleep` until its timer fires.
    Sleep,
    /// Suspended in `silly.task.wait` until `silly.task.wakeup`.
    Wait,
    /// Suspended until an I/O source it waits on is ready.
    Io,
    /// Called `silly.exit`: never resumed again.
    Exiting,
}

impl TaskStatus {
    /// The name `silly.task.status` returns.
    pub fn name(self) -> &'static str {
        match self {
            TaskStatus::Ready => "ready",
            TaskStatus::Running => "running",
            TaskStatus::Sleep => "sleep",
            TaskStatus::Wait => "wait",
            TaskStatus::Io => "io",
            TaskStatus::Exiting => "exit",
        }
    }
}

/// Why [`run`] returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// Nothing can happen any more: no ready task, no timer, no I/O source.
    Idle,
    /// `silly.exit(code)`.
    Exit(i32),
    /// The main task died; the text is what `lua.c` would print after the program name.
    MainFailed(String),
    /// SIGINT or SIGTERM.
    Signal(i32),
    /// The poller failed (an OS error); the text says why.
    Fatal(String),
}

/// An I/O source registered with the poller: the extension point for sockets. The source
/// itself is owned by whoever registered it; the loop only knows who waits on its token.
#[derive(Default)]
pub struct IoSource {
    /// The task suspended in [`io_wait`] on this source, if any.
    pub waiter: Option<Gc<Thread>>,
    /// Readiness seen while nobody waited (bits as [`io_wait`] returns), reported to the
    /// next waiter at once.
    pub pending: i64,
    /// The deadline timer of [`io_wait_until`]: its session and deadline. It outlives the
    /// wait that set it, so that the next wait for the same deadline (a request trickling
    /// in one byte per wakeup) reuses it instead of touching the heap.
    timer: Option<(Session, Micros)>,
}

/// Readiness bits [`io_wait`] resumes a task with.
pub const IO_READABLE: i64 = 1;
pub const IO_WRITABLE: i64 = 2;
pub const IO_CLOSED: i64 = 4;

/// Values the loop keeps alive for Lua (task threads, callbacks, wakeup values) in a Rust
/// vector the collector traces through the loop's extension slot (never reachable from Lua,
/// so a script cannot unroot them). Freed slots are reused first. Slot 0 is never used (a
/// timer payload of 0 means "no argument").
struct Slab {
    values: Vec<Value>,
    free: Vec<i64>,
}

impl Slab {
    fn put(&mut self, v: Value) -> i64 {
        match self.free.pop() {
            Some(i) => {
                self.values[i as usize] = v;
                i
            }
            None => {
                if self.values.is_empty() {
                    self.values.push(Value::Nil);
                }
                self.values.push(v);
                self.values.len() as i64 - 1
            }
        }
    }

    fn get(&self, i: i64) -> Value {
        self.values.get(i as usize).copied().unwrap_or(Value::Nil)
    }

    fn take(&mut self, i: i64) -> Value {
        match self.values.get_mut(i as usize) {
            Some(slot) if i > 0 => {
                let v = std::mem::replace(slot, Value::Nil);
                self.free.push(i);
                v
            }
            _ => Value::Nil,
        }
    }
}

/// What a ready task's next resume passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wake {
    /// No values (after a sleep or a plain yield).
    Nothing,
    /// One nil.
    Nil,
    /// The value in this slab slot.
    Slot(i64),
    /// The main chunk's start: the values of the table in this slot.
    MainArgs(i64),
}

/// A live task.
#[derive(Clone, Copy, Debug)]
struct TaskRec {
    status: TaskStatus,
    /// The slab slot holding the thread (its root).
    anchor: i64,
    wake: Wake,
}

/// Timer payload bit: the timer wakes a sleeping task (the low bits are its anchor slot);
/// otherwise the low 32 bits are the callback's slot and the high ones its argument's (0:
/// none, the callback gets the session).
const SLEEP_BIT: u64 = 1 << 63;

/// Timer payload bit: the deadline of an I/O wait (the low bits are the source's token).
/// Callback payloads never reach it (their argument's slot would need 2^30 slab entries).
const IO_DEADLINE_BIT: u64 = 1 << 62;

/// Longest single wait in the poller (one hour).
const MAX_WAIT_US: Micros = 3_600_000_000;

/// Most timers fired per loop round.
const FIRE_BATCH: usize = 1024;

/// The loop's Rust-side state (one per Vm; see [`with_loop`]).
pub struct EventLoop {
    poll: Poll,
    events: Events,
    start: Instant,
    timers: TimerQueue,
    ready: VecDeque<Gc<Thread>>,
    tasks: IdMap<Gc<Thread>, TaskRec>,
    slab: Slab,
    main: Option<Gc<Thread>>,
    exit_code: Option<i32>,
    io: HashMap<Token, IoSource>,
    next_token: usize,
    signals: Option<signal_hook_mio::v1_0::Signals>,
    /// While a hot patch runs a new chunk: the timers and tasks it starts, so that a
    /// rolled-back patch cancels them (`begin_capture`).
    capture: Option<Captured>,
}

/// The callback timers and tasks created while capturing.
#[derive(Default, Debug)]
pub struct Captured {
    timers: Vec<Session>,
    tasks: Vec<Gc<Thread>>,
}

impl Captured {
    /// How many timers and tasks were captured.
    pub fn counts(&self) -> (usize, usize) {
        (self.timers.len(), self.tasks.len())
    }
}

/// The first SIGINT or SIGTERM received since [`install_signal_handlers`] (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The first SIGINT or SIGTERM the installed handlers saw, if any.
pub fn received_signal() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The handlers of [`install_signal_handlers`]; dropping this unregisters them.
pub struct SignalHandlers(Vec<signal_hook::SigId>);

impl Drop for SignalHandlers {
    fn drop(&mut self) {
        for id in self.0.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// Turns SIGINT and SIGTERM into an interrupt of the Lua code running in the Vm whose
/// signal word is `signal`, as lua.c does for SIGINT: the code stops at its next check (a
/// loop's back-edge, a call, or every few thousand steps of a long built-in) with the error
/// the Vm's interrupt raises. The signal is recorded ([`received_signal`]) for the loop,
/// which stops before resuming another task. A second signal ends the process at once
/// with status 128 + signal (for code stuck where no check comes, e.g. a blocking read).
pub fn install_signal_handlers(signal: &Arc<Signal>) -> std::io::Result<SignalHandlers> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    RECEIVED.store(0, Ordering::SeqCst);
    let mut ids = SignalHandlers(Vec::new());
    let seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // Actions run in registration order: the conditional exit must see the flag before
        // this signal sets it.
        ids.0.push(signal_hook::flag::register_conditional_shutdown(
            sig,
            128 + sig,
            seen.clone(),
        )?);
        ids.0.push(signal_hook::flag::register(sig, seen.clone())?);
        let word = signal.clone();
        // SAFETY: the action only does lock-free atomic operations (a compare-exchange on
        // a static and a fetch_or on the Vm's signal word, kept alive by the Arc it owns),
        // which are async-signal-safe; it allocates nothing and takes no lock.
        let id = unsafe {
            signal_hook::low_level::register(sig, move || {
                let _ = RECEIVED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
                word.interrupt();
            })
        }?;
        ids.0.push(id);
    }
    Ok(ids)
}

/// Whether this loop serves the runner (listens to signals) and a signal has arrived.
fn signalled(lp: &EventLoop) -> Option<i32> {
    if lp.signals.is_some() {
        received_signal()
    } else {
        None
    }
}

impl hotlua_vm::ext::Extension for EventLoop {
    fn trace(&self, m: &mut hotlua_vm::gc::Marker) {
        // Every live task (ready, running, sleeping, waiting on I/O) is a key of `tasks`;
        // the slab holds callbacks, wakeup values and the main chunk's arguments.
        for co in self.tasks.keys() {
            m.mark(*co);
        }
        for co in &self.ready {
            m.mark(*co);
        }
        if let Some(co) = self.main {
            m.mark(co);
        }
        for src in self.io.values() {
            if let Some(co) = src.waiter {
                m.mark(co);
            }
        }
        m.mark_values(&self.slab.values);
    }
    fn roots(&self, out: &mut Vec<(&'static str, Value)>) {
        for co in self.tasks.keys() {
            out.push(("task", Value::Thread(*co)));
        }
        for v in &self.slab.values {
            if !matches!(v, Value::Thread(_)) {
                out.push(("timer", *v));
            }
        }
    }
    hotlua_vm::extension_any!();
}

/// Runs `f` with this Vm's loop, creating it on first use. The loop is the Vm's own (an
/// extension slot): two Vms on one thread have two loops. `f` must not call into Lua (the
/// loop is lent out meanwhile; a nested `with_loop` fails with "re-entered").
pub fn with_loop<R>(
    vm: &mut Vm,
    f: impl FnOnce(&mut Vm, &mut EventLoop) -> R,
) -> Result<R, LuaError> {
    if !vm.has_ext::<EventLoop>() {
        match EventLoop::new() {
            Ok(lp) => {
                vm.set_ext(lp);
            }
            Err(e) => return Err(vm.rt_error(&format!("silly: cannot create the poller: {e}"))),
        }
    }
    match vm.with_ext(f) {
        Some(r) => Ok(r),
        None => Err(vm.rt_error("silly: the event loop was re-entered")),
    }
}

/// True when this Vm has an event loop (something used `silly.*` timers, tasks or sockets).
pub fn has_loop(vm: &Vm) -> bool {
    vm.has_ext::<EventLoop>()
}

/// Like [`with_loop`] for closures that themselves fail with a Lua error.
pub fn try_with_loop<R>(
    vm: &mut Vm,
    f: impl FnOnce(&mut Vm, &mut EventLoop) -> Result<R, LuaError>,
) -> Result<R, LuaError> {
    with_loop(vm, f)?
}

impl EventLoop {
    fn new() -> std::io::Result<EventLoop> {
        let poll = Poll::new()?;
        Ok(EventLoop {
            poll,
            events: Events::with_capacity(256),
            start: Instant::now(),
            timers: TimerQueue::new(),
            ready: VecDeque::new(),
            tasks: IdMap::default(),
            slab: Slab {
                values: Vec::new(),
                free: Vec::new(),
            },
            main: None,
            exit_code: None,
            io: HashMap::new(),
            next_token: 1,
            signals: None,
            capture: None,
        })
    }

    /// Microseconds since the loop started (the timers' clock).
    pub fn now_us(&self) -> Micros {
        self.start.elapsed().as_micros() as Micros
    }

    /// Milliseconds since the loop started.
    pub fn monotonic_ms(&self) -> i64 {
        self.start.elapsed().as_millis() as i64
    }

    /// The task running now, if the running thread is a task.
    pub fn current_task(&self, vm: &Vm) -> Option<Gc<Thread>> {
        let (co, _) = vm.running_thread();
        self.tasks.contains_key(&co).then_some(co)
    }

    /// The status of `co`, if it is a live task.
    pub fn status(&self, co: Gc<Thread>) -> Option<TaskStatus> {
        self.tasks.get(&co).map(|r| r.status)
    }

    /// Number of tasks waiting in the ready queue.
    pub fn ready_count(&self) -> usize {
        self.ready.len()
    }

    /// Every live task with its status.
    pub fn all_tasks(&self) -> Vec<(Gc<Thread>, TaskStatus)> {
        self.tasks.iter().map(|(c, r)| (*c, r.status)).collect()
    }

    /// The main script's task.
    pub fn main_task(&self) -> Option<Gc<Thread>> {
        self.main
    }

    /// Creates a task running `f(arg)` and queues it.
    pub fn spawn(&mut self, vm: &mut Vm, f: Value, arg: Value) -> Result<Gc<Thread>, LuaError> {
        let wake = self.wake_for(arg)?;
        self.spawn_with(vm, f, wake)
    }

    fn spawn_with(&mut self, vm: &mut Vm, f: Value, wake: Wake) -> Result<Gc<Thread>, LuaError> {
        let co = vm.new_thread(f);
        let anchor = self.slab.put(Value::Thread(co));
        self.tasks.insert(
            co,
            TaskRec {
                status: TaskStatus::Ready,
                anchor,
                wake,
            },
        );
        self.ready.push_back(co);
        if let Some(c) = &mut self.capture {
            c.tasks.push(co);
        }
        Ok(co)
    }

    fn wake_for(&mut self, v: Value) -> Result<Wake, LuaError> {
        Ok(if v.is_nil() {
            Wake::Nil
        } else {
            Wake::Slot(self.slab.put(v))
        })
    }

    /// Creates the main task, first resumed with the values `args[1..#args]`, and queues it.
    pub fn spawn_main(
        &mut self,
        vm: &mut Vm,
        f: Value,
        args: Gc<Table>,
    ) -> Result<Gc<Thread>, LuaError> {
        let slot = self.slab.put(Value::Table(args));
        let co = self.spawn_with(vm, f, Wake::MainArgs(slot))?;
        vm.set_program_main(co);
        self.main = Some(co);
        Ok(co)
    }

    /// Makes a suspended task ready; its pending `wait` returns `value`.
    pub fn make_ready(
        &mut self,
        _vm: &mut Vm,
        co: Gc<Thread>,
        value: Value,
    ) -> Result<(), LuaError> {
        let wake = self.wake_for(value)?;
        self.ready_with(co, wake);
        Ok(())
    }

    fn ready_with(&mut self, co: Gc<Thread>, wake: Wake) {
        if let Some(r) = self.tasks.get_mut(&co) {
            r.status = TaskStatus::Ready;
            r.wake = wake;
            self.ready.push_back(co);
        }
    }

    /// Marks the running task `co` as suspended for `why` (the native then yields).
    pub fn suspend(&mut self, co: Gc<Thread>, why: TaskStatus) {
        if let Some(r) = self.tasks.get_mut(&co) {
            r.status = why;
        }
    }

    /// Forgets a finished task (it can now be collected).
    fn release(&mut self, co: Gc<Thread>) {
        if let Some(r) = self.tasks.remove(&co) {
            self.slab.take(r.anchor);
            if let Wake::Slot(i) | Wake::MainArgs(i) = r.wake {
                self.slab.take(i);
            }
        }
    }

    /// Schedules `f(ud)` (or `f(session)` when `ud` is nil) in a new task after `delay_us`.
    pub fn add_timer(
        &mut self,
        _vm: &mut Vm,
        delay_us: Micros,
        f: Value,
        ud: Value,
    ) -> Result<Session, LuaError> {
        let deadline = self.now_us().saturating_add(delay_us);
        let fslot = self.slab.put(f) as u64;
        let uslot = if ud.is_nil() {
            0
        } else {
            self.slab.put(ud) as u64
        };
        let s = self.timers.add_with(deadline, fslot | uslot << 32);
        if let Some(c) = &mut self.capture {
            c.timers.push(s);
        }
        Ok(s)
    }

    /// Starts recording the callback timers and tasks created from now on (a hot patch
    /// running new chunks). Captures do not nest: a second call restarts the recording.
    pub fn begin_capture(&mut self) {
        self.capture = Some(Captured::default());
    }

    /// Stops recording and returns what was created.
    pub fn end_capture(&mut self) -> Captured {
        self.capture.take().unwrap_or_default()
    }

    /// Cancels what a capture recorded: its pending timers, and its tasks that have not
    /// started (their threads are forgotten, so they never run).
    pub fn cancel_captured(&mut self, vm: &mut Vm, c: Captured) {
        for s in c.timers {
            self.cancel_timer(vm, s as i64);
        }
        for co in c.tasks {
            if matches!(self.status(co), Some(TaskStatus::Ready)) {
                self.ready.retain(|x| *x != co);
                self.release(co);
            }
        }
    }

    /// Puts the running task `co` to sleep for `delay_us` (the native then yields).
    pub fn sleep(&mut self, co: Gc<Thread>, delay_us: Micros) {
        let deadline = self.now_us().saturating_add(delay_us);
        if let Some(r) = self.tasks.get_mut(&co) {
            r.status = TaskStatus::Sleep;
            self.timers.add_with(deadline, SLEEP_BIT | r.anchor as u64);
        }
    }

    /// Cancels a callback timer; unknown, fired and sleep sessions are left alone.
    pub fn cancel_timer(&mut self, _vm: &mut Vm, session: i64) -> bool {
        let Ok(s) = Session::try_from(session) else {
            return false;
        };
        match self.timers.payload(s) {
            Some(p) if p & SLEEP_BIT == 0 => {
                self.timers.take(s);
                self.free_callback(p);
                true
            }
            _ => false,
        }
    }

    /// Releases a callback timer's slots; returns the callback and its argument.
    fn free_callback(&mut self, payload: u64) -> (Value, Value) {
        let f = self.slab.take((payload & 0xffff_ffff) as i64);
        let uslot = (payload >> 32) as i64;
        let ud = if uslot == 0 {
            Value::Nil
        } else {
            self.slab.take(uslot)
        };
        (f, ud)
    }

    /// Number of pending timers (sleeps included).
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }

    /// Fires the timers due at `now`, at most [`FIRE_BATCH`] of them (the rest in the next
    /// round, so a burst of expired timers does not create all its tasks at once):
    /// callbacks become new tasks, sleepers become ready, in deadline then creation order.
    fn fire_timers(&mut self, vm: &mut Vm, now: Micros) -> Result<(), LuaError> {
        for _ in 0..FIRE_BATCH {
            let Some((s, p)) = self.timers.pop_expired_with(now) else {
                break;
            };
            if p & IO_DEADLINE_BIT != 0 && p & SLEEP_BIT == 0 {
                self.io_deadline(vm, s, Token((p & !IO_DEADLINE_BIT) as usize))?;
                continue;
            }
            if p & SLEEP_BIT != 0 {
                let anchor = (p & !SLEEP_BIT) as i64;
                if let Value::Thread(co) = self.slab.get(anchor) {
                    if matches!(self.tasks.get(&co), Some(r) if r.status == TaskStatus::Sleep && r.anchor == anchor)
                    {
                        self.ready_with(co, Wake::Nothing);
                    }
                }
                continue;
            }
            let (f, ud) = self.free_callback(p);
            let wake = if ud.is_nil() {
                Wake::Slot(self.slab.put(Value::Int(s as i64)))
            } else {
                Wake::Slot(self.slab.put(ud))
            };
            self.spawn_with(vm, f, wake)?;
        }
        Ok(())
    }

    /// An I/O deadline fired: the task waiting on `token`, if it still waits with that
    /// deadline, resumes with 0 (nothing ready: timed out).
    fn io_deadline(&mut self, vm: &mut Vm, s: Session, token: Token) -> Result<(), LuaError> {
        let Some(src) = self.io.get_mut(&token) else {
            return Ok(());
        };
        if src.timer.map(|t| t.0) != Some(s) {
            return Ok(());
        }
        src.timer = None;
        match src.waiter.take() {
            Some(co) => self.make_ready(vm, co, Value::Int(0)),
            None => Ok(()),
        }
    }

    /// Takes the next ready task and what to resume it with: the wakeup value, nothing
    /// after a sleep, the script's arguments for the main task's start.
    fn pop_ready(&mut self) -> Option<(Gc<Thread>, Vec<Value>)> {
        let co = self.ready.pop_front()?;
        let Some(r) = self.tasks.get_mut(&co) else {
            return Some((co, Vec::new()));
        };
        r.status = TaskStatus::Running;
        let wake = std::mem::replace(&mut r.wake, Wake::Nothing);
        // Values leave the slab here; resume puts them on the task's stack before anything
        // can collect.
        let args = match wake {
            Wake::Nothing => Vec::new(),
            Wake::Nil => vec![Value::Nil],
            Wake::Slot(i) => vec![self.slab.take(i)],
            Wake::MainArgs(i) => match self.slab.take(i) {
                Value::Table(t) => {
                    let t = t.get();
                    (1..=t.len()).map(|i| t.get_int(i)).collect()
                }
                _ => Vec::new(),
            },
        };
        Some((co, args))
    }

    /// Asks the loop to stop with `code` once the running task has yielded.
    pub fn request_exit(&mut self, code: i32) {
        self.exit_code.get_or_insert(code);
    }

    /// Whether anything can still happen (a ready task, a timer, an I/O source).
    fn has_work(&self) -> bool {
        !self.ready.is_empty() || !self.timers.is_empty() || !self.io.is_empty()
    }

    /// Wakes the poller on SIGINT and SIGTERM (signal-hook's self-pipe), so that a signal
    /// arriving while the loop sleeps stops it with [`Stop::Signal`]. The handlers that
    /// interrupt running Lua code are [`install_signal_handlers`]'; the runner installs both.
    pub fn listen_signals(&mut self) -> std::io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        if self.signals.is_some() {
            return Ok(());
        }
        let mut signals = signal_hook_mio::v1_0::Signals::new([SIGINT, SIGTERM])?;
        self.poll
            .registry()
            .register(&mut signals, SIGNAL_TOKEN, Interest::READABLE)?;
        self.signals = Some(signals);
        Ok(())
    }

    /// Registers an I/O source with the poller; the returned token identifies it in
    /// [`io_wait`] and [`EventLoop::deregister_io`]. While registered, the loop stays alive.
    pub fn register_io<S: mio::event::Source + ?Sized>(
        &mut self,
        source: &mut S,
        interest: Interest,
    ) -> std::io::Result<Token> {
        let token = Token(self.next_token);
        self.next_token += 1;
        self.poll.registry().register(source, token, interest)?;
        self.io.insert(token, IoSource::default());
        Ok(token)
    }

    /// Changes the interest of a registered source.
    pub fn reregister_io<S: mio::event::Source + ?Sized>(
        &mut self,
        source: &mut S,
        token: Token,
        interest: Interest,
    ) -> std::io::Result<()> {
        self.poll.registry().reregister(source, token, interest)
    }

    /// Removes a source; a task waiting on it is woken with [`IO_CLOSED`].
    pub fn deregister_io<S: mio::event::Source + ?Sized>(
        &mut self,
        vm: &mut Vm,
        source: &mut S,
        token: Token,
    ) -> std::io::Result<()> {
        let r = self.poll.registry().deregister(source);
        if let Some(src) = self.io.remove(&token) {
            if let Some((s, _)) = src.timer {
                self.timers.take(s);
            }
            if let Some(co) = src.waiter {
                let _ = self.make_ready(vm, co, Value::Int(IO_CLOSED));
            }
        }
        r
    }

    fn dispatch_io(&mut self, vm: &mut Vm, token: Token, bits: i64) -> Result<(), LuaError> {
        let Some(src) = self.io.get_mut(&token) else {
            return Ok(());
        };
        match src.waiter.take() {
            Some(co) => self.make_ready(vm, co, Value::Int(bits)),
            None => {
                src.pending |= bits;
                Ok(())
            }
        }
    }

    /// Sleeps in the poller until the next timer, an I/O event or a signal (not at all
    /// when tasks are ready). Returns a signal number if one arrived.
    fn wait_events(&mut self, vm: &mut Vm, cap: Option<Duration>) -> Result<Option<i32>, Stop> {
        let timeout = if !self.ready.is_empty() {
            Some(Duration::ZERO)
        } else {
            // Capped: the poller converts the timeout to a C int of milliseconds, and a far
            // deadline must not wrap around (waking early is harmless: nothing fires early).
            self.timers
                .next_deadline()
                .map(|d| Duration::from_micros(d.saturating_sub(self.now_us()).min(MAX_WAIT_US)))
        };
        let timeout = match (timeout, cap) {
            (Some(t), Some(c)) => Some(t.min(c)),
            (None, c) => c,
            (t, None) => t,
        };
        if let Err(e) = self.poll.poll(&mut self.events, timeout) {
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(None);
            }
            return Err(Stop::Fatal(format!("poll: {e}")));
        }
        let mut fired: Vec<(Token, i64)> = Vec::new();
        let mut signal = None;
        for ev in self.events.iter() {
            if ev.token() == SIGNAL_TOKEN {
                if let Some(s) = self.signals.as_mut() {
                    if let Some(sig) = s.pending().next() {
                        signal.get_or_insert(sig);
                    }
                }
                continue;
            }
            let mut bits = 0;
            if ev.is_readable() {
                bits |= IO_READABLE;
            }
            if ev.is_writable() {
                bits |= IO_WRITABLE;
            }
            if ev.is_read_closed() || ev.is_write_closed() || ev.is_error() {
                bits |= IO_CLOSED;
            }
            fired.push((ev.token(), bits));
        }
        for (token, bits) in fired {
            if let Err(e) = self.dispatch_io(vm, token, bits) {
                return Err(Stop::Fatal(vm.to_display(e.value)));
            }
        }
        Ok(signal)
    }
}

/// Suspends the running task until the source `token` is ready; the task is resumed with
/// the readiness bits ([`IO_READABLE`] | [`IO_WRITABLE`] | [`IO_CLOSED`]). For natives:
/// `return io_wait(vm, token)`.
pub fn io_wait(vm: &mut Vm, token: Token) -> Result<usize, LuaError> {
    io_wait_until(vm, token, None)
}

/// [`io_wait`] with a deadline on the loop's clock ([`EventLoop::now_us`]): when it passes
/// first, the task resumes with 0 (a deadline already past returns 0 at once, unless
/// readiness is pending). One timer per source, reused while the deadline stays the same,
/// so waiting many times for one deadline costs O(1) each.
pub fn io_wait_until(
    vm: &mut Vm,
    token: Token,
    deadline: Option<Micros>,
) -> Result<usize, LuaError> {
    let ready = try_with_loop(vm, |vm, lp| {
        let Some(co) = lp.current_task(vm) else {
            return Err(vm.rt_error("silly: I/O wait outside a task"));
        };
        let now = lp.now_us();
        let Some(src) = lp.io.get_mut(&token) else {
            return Err(vm.rt_error("silly: I/O source is not registered"));
        };
        if src.pending != 0 {
            return Ok(Some(std::mem::take(&mut src.pending)));
        }
        if let Some(d) = deadline {
            if d <= now {
                return Ok(Some(0));
            }
            match src.timer {
                Some((_, old)) if old == d => {}
                old => {
                    if let Some((s, _)) = old {
                        lp.timers.take(s);
                    }
                    let s = lp.timers.add_with(d, IO_DEADLINE_BIT | token.0 as u64);
                    src.timer = Some((s, d));
                }
            }
        }
        src.waiter = Some(co);
        lp.suspend(co, TaskStatus::Io);
        Ok(None)
    })?;
    if let Some(bits) = ready {
        vm.push(Value::Int(bits))?;
        return Ok(1);
    }
    vm.yield_from_native(&[])
}

/// The text an error value prints as, with a traceback of the dead thread `co` when the
/// value is a string or a number (as lua.c's message handler).
pub fn describe_error(vm: &mut Vm, co: Gc<Thread>, err: Value) -> String {
    let msg = match err {
        Value::Str(_) | Value::Int(_) | Value::Float(_) => vm.to_display(err),
        // An error object's `__tostring` runs at the error point, as under lua.c's
        // message handler (it may look at the stack: `debug.getinfo(4)` is the chunk).
        _ if !vm.get_tm(err, hotlua_vm::meta::Tm::ToString).is_nil() => {
            return hotlua_vm::docall::handle_error_of(vm, co, err);
        }
        _ => vm.to_display(err),
    };
    vm.traceback_of(co, Some(&msg), 0)
}

/// Writes an ERROR line in silly.logger's format: `YYYY-MM-DD HH:MM:SS E file:line text`,
/// where `file:line` is the first Lua position in `text`'s traceback.
pub fn log_error(vm: &mut Vm, text: &str) {
    if super::logger::level(vm) > super::logger::ERROR {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut line = Vec::with_capacity(text.len() + 64);
    match crate::strftime::localtime(now)
        .map(|tm| crate::strftime::strftime(b"%Y-%m-%d %H:%M:%S", &tm))
    {
        Some(Ok(s)) => line.extend_from_slice(&s),
        _ => line.extend_from_slice(b"0000-00-00 00:00:00"),
    }
    line.extend_from_slice(b" E ");
    let at = text
        .lines()
        .filter_map(|l| l.strip_prefix('\t'))
        .find(|l| !l.starts_with("[C]") && !l.starts_with("..."))
        .and_then(|l| {
            // "file:line: in ..." -> "file:line"
            let mut parts = l.splitn(3, ':');
            let file = parts.next()?;
            let line = parts.next()?;
            line.parse::<u64>().ok().map(|n| format!("{file}:{n}"))
        })
        .unwrap_or_else(|| "?".to_string());
    line.extend_from_slice(at.as_bytes());
    line.push(b' ');
    line.extend_from_slice(text.as_bytes());
    line.push(b'\n');
    let out = vm.stdout();
    let _ = out.write_all(&line).and_then(|_| out.flush());
}

/// The result of resuming a task, classified.
enum Outcome {
    Suspended,
    Finished,
    Failed(Value),
}

/// Resumes one ready task and updates its state; returns a stop reason if the loop must
/// end now.
fn step(vm: &mut Vm, co: Gc<Thread>, args: &[Value]) -> Result<Option<Stop>, LuaError> {
    let r = vm.resume(co, args);
    // A signal interrupted (or came during) this task: the loop stops before resuming any
    // other, and what runs from now on (`__close` handlers, finalizers) must not be
    // interrupted again.
    if with_loop(vm, |_, lp| signalled(lp))?.is_some() {
        vm.signal().clear_interrupt();
    }
    let outcome = match r {
        Ok(Resume::Yielded(_)) => Outcome::Suspended,
        Ok(Resume::Returned(_)) => Outcome::Finished,
        Err(e) => Outcome::Failed(e.value),
    };
    let is_main = with_loop(vm, |_, lp| {
        if let Outcome::Suspended = outcome {
            // A plain coroutine.yield leaves the status Running: the task is ready again.
            if matches!(lp.tasks.get(&co), Some(r) if r.status == TaskStatus::Running) {
                lp.ready_with(co, Wake::Nothing);
            }
        }
        lp.main == Some(co)
    })?;
    match outcome {
        Outcome::Suspended => {}
        Outcome::Finished => with_loop(vm, |_, lp| lp.release(co))?,
        Outcome::Failed(err) => {
            // Rooted while Lua code runs below (`__tostring`, `__close` handlers): closing
            // the thread clears the stack slot that held it.
            let _keep = vm.root(err);
            let mut text = describe_error(vm, co, err);
            // Pending to-be-closed variables run now, as lua.c closes them before printing.
            if let Err(e) = vm.close_thread(co) {
                if !e.value.raw_eq(&err) {
                    text = describe_error(vm, co, e.value);
                }
            }
            with_loop(vm, |_, lp| lp.release(co))?;
            if is_main {
                return Ok(Some(Stop::MainFailed(text)));
            }
            log_error(vm, &text);
        }
    }
    with_loop(vm, |_, lp| lp.exit_code.map(Stop::Exit))
}

/// Drives the loop until nothing can happen any more, `silly.exit`, a signal, or the main
/// task's death.
pub fn run(vm: &mut Vm) -> Stop {
    match run_inner(vm) {
        Ok(s) => s,
        Err(e) => Stop::Fatal(vm.to_display(e.value)),
    }
}

fn run_inner(vm: &mut Vm) -> Result<Stop, LuaError> {
    loop {
        if let Some(stop) = round(vm, None)? {
            return Ok(stop);
        }
    }
}

/// One round of the loop: fires the due timers, resumes the tasks ready now, then waits in
/// the poller for I/O, a signal or the next deadline, at most `cap` (not at all when tasks
/// are ready). `Some(stop)` when the loop is over.
fn round(vm: &mut Vm, cap: Option<Duration>) -> Result<Option<Stop>, LuaError> {
    let n = try_with_loop(vm, |vm, lp| {
        let now = lp.now_us();
        lp.fire_timers(vm, now)?;
        Ok(lp.ready.len())
    })?;
    // Only the tasks ready now run this round, so timers and I/O are not starved by tasks
    // that keep making each other ready.
    for _ in 0..n {
        let next = with_loop(vm, |_, lp| match signalled(lp) {
            Some(sig) => Err(Stop::Signal(sig)),
            None => Ok(lp.pop_ready()),
        })?;
        let (co, args) = match next {
            Ok(Some(t)) => t,
            Ok(None) => break,
            Err(stop) => return Ok(Some(stop)),
        };
        if let Some(stop) = step(vm, co, &args)? {
            return Ok(Some(stop));
        }
    }
    vm.gc_check();
    let waited = with_loop(vm, |vm, lp| {
        if let Some(code) = lp.exit_code {
            return Err(Stop::Exit(code));
        }
        if !lp.has_work() {
            return Err(Stop::Idle);
        }
        lp.wait_events(vm, cap)
    })?;
    Ok(match waited {
        Ok(Some(sig)) => Some(Stop::Signal(sig)),
        Ok(None) => None,
        Err(stop) => Some(stop),
    })
}

/// What a host's [`poll`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Polled {
    /// Work remains (tasks, timers or I/O sources): call `poll` again, at the latest when
    /// `next_deadline` (time until the earliest timer) has passed.
    Pending {
        /// Time until the earliest timer, when one is pending.
        next_deadline: Option<Duration>,
    },
    /// The loop is over.
    Stopped(Stop),
}

/// Runs one round of the Vm's loop for a host that keeps its thread: due timers fire,
/// ready tasks run, and then it waits for I/O at most `max_wait` (`Some(ZERO)`: not at
/// all; `None`: until something happens). Signals are not listened for (that is the
/// `hotlua` program's business).
pub fn poll(vm: &mut Vm, max_wait: Option<Duration>) -> Result<Polled, LuaError> {
    if let Some(stop) = round(
        vm,
        Some(max_wait.unwrap_or(Duration::from_micros(MAX_WAIT_US))),
    )? {
        return Ok(Polled::Stopped(stop));
    }
    let next = with_loop(vm, |_, lp| {
        if !lp.ready.is_empty() {
            return Some(Duration::ZERO);
        }
        lp.timers
            .next_deadline()
            .map(|d| Duration::from_micros(d.saturating_sub(lp.now_us())))
    })?;
    Ok(Polled::Pending {
        next_deadline: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::io::Write;

    thread_local! {
        static SOURCE: RefCell<Option<(mio::net::UnixStream, Token)>> = const { RefCell::new(None) };
    }

    fn token() -> Token {
        SOURCE.with(|s| s.borrow().as_ref().map_or(Token(usize::MAX), |(_, t)| *t))
    }

    fn waitio(vm: &mut Vm, _args: hotlua_vm::Args) -> Result<usize, LuaError> {
        io_wait(vm, token())
    }

    static TIMER_FIRED: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>> =
        std::sync::Mutex::new(None);

    /// Called by the test's timer: lets the writer thread poke the socket only then, so
    /// the order does not depend on how fast a loaded machine schedules the loop.
    fn fired(_vm: &mut Vm, _args: hotlua_vm::Args) -> Result<usize, LuaError> {
        if let Some(tx) = TIMER_FIRED.lock().expect("lock").take() {
            let _ = tx.send(());
        }
        Ok(0)
    }

    fn done(vm: &mut Vm, _args: hotlua_vm::Args) -> Result<usize, LuaError> {
        let (mut src, tok) = SOURCE.with(|s| s.borrow_mut().take()).expect("registered");
        with_loop(vm, |vm, lp| lp.deregister_io(vm, &mut src, tok))?.expect("deregister");
        Ok(0)
    }

    #[test]
    fn io_sources_wake_their_waiting_task_and_keep_the_loop_alive() {
        let mut vm = crate::open::new_vm();
        crate::open::open_libs(&mut vm);
        let (mut reader, mut writer) = mio::net::UnixStream::pair().expect("socket pair");
        let tok = with_loop(&mut vm, |_, lp| {
            lp.register_io(&mut reader, Interest::READABLE)
        })
        .expect("loop")
        .expect("register");
        SOURCE.with(|s| *s.borrow_mut() = Some((reader, tok)));
        vm.register("waitio", waitio);
        vm.register("done", done);
        vm.register("fired", fired);
        let (tx, rx) = std::sync::mpsc::channel();
        *TIMER_FIRED.lock().expect("lock") = Some(tx);
        let src = b"local task = require 'silly.task'
            local time = require 'silly.time'
            task.fork(function()
                got = waitio()
                order = (order or '') .. 'io '
                done()
            end)
            -- the writer side is poked from Rust after this timer fired
            time.after(5, function() order = (order or '') .. 'timer ' fired() end)";
        let chunk = vm.load(src, "=t", None).expect("compiles");
        with_loop(&mut vm, |vm, lp| lp.spawn(vm, chunk, Value::Nil))
            .expect("loop")
            .expect("spawn");
        // The data arrives from another thread while the loop sleeps in the poller, after
        // the timer has fired.
        let poke = std::thread::spawn(move || {
            let _ = rx.recv_timeout(Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(40));
            writer.write_all(b"x").expect("write");
            writer
        });
        let start = Instant::now();
        let stop = run(&mut vm);
        assert!(start.elapsed() >= Duration::from_millis(40));
        drop(poke.join());
        assert_eq!(stop, Stop::Idle);
        assert!(matches!(vm.get_global("got"), Value::Int(b) if b & IO_READABLE != 0));
        let order = vm.get_global("order");
        assert_eq!(vm.to_display(order), "timer io ");
    }
}

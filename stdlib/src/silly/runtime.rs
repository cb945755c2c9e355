//! What the silly runtime owns of a program's run: the main chunk as the first task of
//! the event loop, the loop run to its end, and SIGINT/SIGTERM turned into interrupts. The
//! command line itself (options, `arg`, `LUA_INIT`, the REPL, messages) is the `hotlua`
//! program's (`src/cli/` of the root package), which calls [`run_main`] and
//! [`catch_signals`].
//!
//! The loop runs until nothing can happen any more, `silly.exit(code)`, a SIGINT/SIGTERM,
//! or an error in the main chunk. A signal interrupts running Lua code ("interrupted!",
//! without a position, as lua.c's SIGINT); a second one ends the process at once.

use hotlua_vm::{Value, Vm};

use super::eventloop::{has_loop, install_signal_handlers, received_signal, run, with_loop, Stop};

/// How a program's run through the loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The exit status: 0 when the loop ran out of work, `code` for `silly.exit(code)`,
    /// 128 + signal number after a SIGINT/SIGTERM that stopped the loop (a clean
    /// shutdown: output flushed, finalizers run).
    Status(i32),
    /// An uncaught error in the main chunk (or the loop itself): the text lua.c prints
    /// after its program name (message and traceback), and the exit status: 1, or 143 when
    /// a SIGTERM interrupted it (lua.c does not catch SIGTERM: the status of a process
    /// ended by it).
    Failed(String, i32),
}

/// Runs `f` with SIGINT and SIGTERM interrupting the Lua code it runs (as lua.c's `docall`
/// sets its SIGINT handler for the time of a call); returns its result and the signal
/// received meanwhile, if any. The handlers are removed afterwards, and an interrupt no
/// Lua code consumed is cleared (what runs next, e.g. finalizers, must not meet it).
pub fn catch_signals<R>(vm: &mut Vm, f: impl FnOnce(&mut Vm) -> R) -> (R, Option<i32>) {
    vm.set_interrupt_error("interrupted!", false);
    // Without handlers (an error that cannot happen in practice) the signals keep their
    // default action: the process ends, as it would under lua.c outside a call.
    let handlers = install_signal_handlers(vm.signal()).ok();
    let r = f(vm);
    vm.signal().clear_interrupt();
    let sig = received_signal();
    drop(handlers);
    (r, sig)
}

/// Runs `main` (a loaded chunk) as the first task of `vm`'s event loop, started with `args`
/// as its `...`, then the loop until it ends (see [`Ended`]); signals are caught meanwhile.
pub fn run_main(vm: &mut Vm, main: Value, args: &[Value]) -> Ended {
    drive(vm, |vm| start_main(vm, main, args))
}

/// Runs `vm`'s event loop, when it has one, until it ends (tasks and timers that `-e`
/// code or the REPL started); signals are caught meanwhile.
pub fn run_loop(vm: &mut Vm) -> Ended {
    if !has_loop(vm) {
        return Ended::Status(0);
    }
    drive(vm, |vm| {
        with_loop(vm, |_, lp| lp.listen_signals())
            .map_err(|e| vm.to_display(e.value))?
            .map_err(|e| format!("cannot listen for signals: {e}"))
    })
}

/// Runs the loop after `start`, under [`catch_signals`], and says how it ended.
fn drive(vm: &mut Vm, start: impl FnOnce(&mut Vm) -> Result<(), String>) -> Ended {
    let (ended, sig) = catch_signals(vm, |vm| match start(vm) {
        Err(e) => Ended::Failed(e, 1),
        Ok(()) => match run(vm) {
            Stop::Idle => Ended::Status(0),
            Stop::Exit(code) => Ended::Status(code),
            Stop::Signal(sig) => Ended::Status(128 + sig),
            Stop::MainFailed(text) | Stop::Fatal(text) => Ended::Failed(text, 1),
        },
    });
    let _ = vm.stdout().flush();
    // An interrupted main chunk fails as lua.c's does on SIGINT (status 1).
    match (ended, sig) {
        (Ended::Failed(text, _), Some(sig)) if sig != libc::SIGINT => {
            Ended::Failed(text, 128 + sig)
        }
        (ended, _) => ended,
    }
}

/// Queues the main chunk as the first task, resumed with the script's arguments, and
/// makes SIGINT/SIGTERM wake the loop.
fn start_main(vm: &mut Vm, f: Value, args: &[Value]) -> Result<(), String> {
    let t = vm.new_table();
    for (i, a) in args.iter().enumerate() {
        let _ = vm.raw_set(t, Value::Int(i as i64 + 1), *a);
    }
    let r = with_loop(vm, |vm, lp| -> Result<(), String> {
        lp.spawn_main(vm, f, t)
            .map_err(|e| vm.to_display(e.value))?;
        lp.listen_signals()
            .map_err(|e| format!("cannot listen for signals: {e}"))
    });
    match r {
        Ok(r) => r,
        Err(e) => Err(vm.to_display(e.value)),
    }
}

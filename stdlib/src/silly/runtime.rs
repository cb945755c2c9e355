//! The server runner: `hotlua [--console ADDR] [options] script [args] [--key=value ...]`.
//! `--console ADDR` opens the operator console (spec/console.md) before the script runs.
//!
//! Options are lua.c's (`-e code`, `-` for stdin, `--`), and `-e` chunks run on the main
//! thread exactly as in lua.c. The script's main chunk runs as the first task of the event
//! loop (so it may sleep and wait); the loop then runs until nothing can happen any more,
//! `silly.exit(code)`, a SIGINT/SIGTERM, or an error in the main chunk.
//!
//! Exit statuses: 0 when the loop runs out of work; `code` for `silly.exit(code)`; 1 for a
//! syntax error, an unreadable script, or an uncaught error in the main chunk (printed as
//! lua.c does: `hotlua: msg` and a traceback); 128 + signal number after a SIGINT or
//! SIGTERM (a clean shutdown: output flushed, finalizers run). A signal interrupts running
//! Lua code ("interrupted!"): in the main chunk that is an uncaught error (status 1 for
//! SIGINT as lua.c, 143 for SIGTERM). Errors in other tasks are logged at ERROR and do not
//! stop the process.

use hotlua_vm::{Value, Vm};

use super::eventloop::{install_signal_handlers, received_signal, run, with_loop, Stop};

/// Program name used in messages.
const PROGNAME: &str = "hotlua";

/// Runs the command line `argv` (without the program name) in `vm`; returns the exit
/// status. The caller closes the Vm afterwards (running finalizers).
pub fn run_command_line(vm: &mut Vm, argv: &[String]) -> i32 {
    // SIGINT and SIGTERM interrupt running Lua code from here on (lua.c's SIGINT: the error
    // "interrupted!", without a position); the handlers are removed when the run is over.
    vm.set_interrupt_error("interrupted!", false);
    let handlers = match install_signal_handlers(vm.signal()) {
        Ok(h) => Some(h),
        Err(e) => {
            eprintln!("{}: cannot listen for signals: {}", PROGNAME, e);
            return 1;
        }
    };
    let mut status = run_inner(vm, argv);
    // What runs next (flushing, and the caller's `vm.close()` with its finalizers) must not
    // meet an interrupt that no Lua code consumed.
    vm.signal().clear_interrupt();
    if let Some(sig) = received_signal() {
        // An interrupted script fails as lua.c's does on SIGINT (status 1); for SIGTERM,
        // which lua.c does not catch, the status of a process ended by it.
        if status == 1 && sig != libc::SIGINT {
            status = 128 + sig;
        }
    }
    let _ = vm.stdout().flush();
    crate::io::flush_all(vm);
    drop(handlers);
    status
}

fn run_inner(vm: &mut Vm, argv: &[String]) -> i32 {
    // lua.c puts the collector in generational mode.
    vm.gc_mode = "generational";
    // `--console ADDR` comes before lua.c's options and is the runner's own.
    let (console, argv) = match argv {
        [flag, addr, rest @ ..] if flag == "--console" => (Some(addr.as_str()), rest),
        [flag] if flag == "--console" => {
            eprintln!(
                "{}: '--console' needs an address (e.g. 127.0.0.1:2345)",
                PROGNAME
            );
            return 1;
        }
        _ => (None, argv),
    };
    if let Some(addr) = console {
        if let Err(e) = start_console(vm, addr) {
            eprintln!("{}: {}", PROGNAME, e);
            return 1;
        }
    }
    let script = match hotlua_vm::runner::prepare_command_line(vm, argv) {
        Ok(script) => script,
        Err(status) => return status,
    };
    if let Some(s) = script {
        super::env::load_args(vm, &s.args);
        let f = match vm.load(&s.source, &s.chunk_name, None) {
            Ok(f) => f,
            Err(e) => {
                let msg = vm.to_display(e.value);
                eprintln!("{}: {}", PROGNAME, msg);
                return 1;
            }
        };
        let mut call_args = Vec::with_capacity(s.args.len());
        for a in &s.args {
            call_args.push(vm.str_value(a));
        }
        if let Err(e) = start_main(vm, f, &call_args) {
            eprintln!("{}: {}", PROGNAME, e);
            return 1;
        }
    }
    drive(vm)
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

/// Opens the operator console on `addr` (`require "silly.console"{addr = addr}`).
fn start_console(vm: &mut Vm, addr: &str) -> Result<(), String> {
    let src = b"local addr = ... ; require 'silly.console'{addr = addr}";
    let f = vm
        .load(src, "=[--console]", None)
        .map_err(|e| vm.to_display(e.value))?;
    let a = vm.str_value(addr);
    vm.call(f, &[a]).map_err(|e| vm.to_display(e.value))?;
    Ok(())
}

/// Runs the loop and turns its end into an exit status.
fn drive(vm: &mut Vm) -> i32 {
    match run(vm) {
        Stop::Idle => 0,
        Stop::Exit(code) => code,
        Stop::Signal(sig) => 128 + sig,
        Stop::MainFailed(text) => {
            let _ = vm.stdout().flush();
            eprintln!("{}: {}", PROGNAME, text);
            1
        }
        Stop::Fatal(text) => {
            let _ = vm.stdout().flush();
            eprintln!("{}: {}", PROGNAME, text);
            1
        }
    }
}

//! The server runner: `hotlua [options] script [args] [--key=value ...]`.
//!
//! Options are lua.c's (`-e code`, `-` for stdin, `--`), and `-e` chunks run on the main
//! thread exactly as in lua.c. The script's main chunk runs as the first task of the event
//! loop (so it may sleep and wait); the loop then runs until nothing can happen any more,
//! `silly.exit(code)`, a SIGINT/SIGTERM, or an error in the main chunk.
//!
//! Exit statuses: 0 when the loop runs out of work; `code` for `silly.exit(code)`; 1 for a
//! syntax error, an unreadable script, or an uncaught error in the main chunk (printed as
//! lua.c does: `hotlua: msg` and a traceback); 128 + signal number after a SIGINT or
//! SIGTERM (a clean shutdown: output flushed, finalizers run). Errors in other tasks are
//! logged at ERROR and do not stop the process.

use hotlua_vm::{Value, Vm};

use super::eventloop::{run, with_loop, Stop};

/// Program name used in messages.
const PROGNAME: &str = "hotlua";

/// Runs the command line `argv` (without the program name) in `vm`; returns the exit
/// status. The caller closes the Vm afterwards (running finalizers).
pub fn run_command_line(vm: &mut Vm, argv: &[String]) -> i32 {
    let status = run_inner(vm, argv);
    let _ = vm.stdout().flush();
    crate::io::flush_all();
    status
}

fn run_inner(vm: &mut Vm, argv: &[String]) -> i32 {
    // Find the script: the first argument that is not an option (`-e` takes a value).
    let mut i = 0;
    let mut script: Option<usize> = None;
    while i < argv.len() {
        let a = &argv[i];
        if a == "-e" {
            i += 2;
        } else if a == "--" {
            if i + 1 < argv.len() {
                script = Some(i + 1);
            }
            break;
        } else if a.starts_with('-') && a != "-" {
            i += 1;
        } else {
            script = Some(i);
            break;
        }
    }
    // The `arg` table: script at 0, its arguments at 1.., interpreter options negative.
    let t = vm.new_table();
    let s0 = script.unwrap_or(argv.len());
    let prog = vm.str_value(PROGNAME);
    let _ = vm.raw_set(t, Value::Int(-(s0 as i64) - 1), prog);
    for (j, a) in argv.iter().enumerate() {
        let v = vm.str_value(a);
        let _ = vm.raw_set(t, Value::Int(j as i64 - s0 as i64), v);
    }
    vm.set_global("arg", Value::Table(t));
    // lua.c puts the collector in generational mode.
    vm.gc_mode = "generational";

    let mut i = 0;
    while i < argv.len() && Some(i) != script {
        let a = &argv[i];
        if a == "-e" || a.starts_with("-e") && a.len() > 2 {
            let code = if a == "-e" {
                i += 1;
                match argv.get(i) {
                    Some(c) => c.clone(),
                    None => {
                        eprintln!("{}: '-e' needs argument", PROGNAME);
                        return 1;
                    }
                }
            } else {
                a[2..].to_string()
            };
            if hotlua_vm::runner::run_chunk(vm, code.as_bytes(), "=(command line)", &[]) != 0 {
                return 1;
            }
        }
        i += 1;
    }
    if let Some(si) = script {
        let path = &argv[si];
        let (source, name) = if path == "-" {
            let mut buf = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf);
            (buf, "=stdin".to_string())
        } else {
            match std::fs::read(path) {
                Ok(b) => (b, format!("@{}", path)),
                Err(e) => {
                    let msg = e.to_string();
                    let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
                    eprintln!("{}: cannot open {}: {}", PROGNAME, path, msg);
                    return 1;
                }
            }
        };
        let args: Vec<String> = argv[si + 1..].to_vec();
        super::env::load_args(vm, &args);
        let f = match vm.load(hotlua_compiler::strip_file_header(&source), &name, None) {
            Ok(f) => f,
            Err(e) => {
                let msg = vm.to_display(e.value);
                eprintln!("{}: {}", PROGNAME, msg);
                return 1;
            }
        };
        let mut call_args = Vec::with_capacity(args.len());
        for a in &args {
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
/// starts listening for SIGINT/SIGTERM.
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


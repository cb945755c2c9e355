//! The script (lua.c's `handle_script`, and `dofile(NULL)` for stdin when nothing else is
//! asked): its main chunk runs as the first task of the silly event loop, which then runs
//! until nothing is pending (a script that starts tasks or timers keeps the process going;
//! see spec/runtime.md).

use hotlua_stdlib::silly::runtime::{run_loop, run_main, Ended};
use hotlua_vm::{Value, Vm};

use super::args;
use super::chunk::report;

/// Runs the script `argv[script]` (`-` is stdin, unless it follows `--`) with the current
/// `arg[1..]` as its `...`. `Ok(())` when the program goes on (to the REPL under `-i`),
/// `Err(status)` when it ends with `status` (an error has been reported).
pub fn run(vm: &mut Vm, argv: &[Vec<u8>], script: usize, progname: &str) -> Result<(), i32> {
    let name = argv[script].as_slice();
    let stdin = name == b"-" && argv[script - 1] != b"--";
    let f = match hotlua_stdlib::open::load_chunk_file(vm, (!stdin).then_some(name), None, None) {
        Ok(f) => f,
        Err(e) => {
            let msg = vm.to_display(e);
            report(vm, Some(progname), &msg);
            return Err(1);
        }
    };
    let params = match args::script_args(vm) {
        Ok(p) => p,
        Err(msg) => {
            report(vm, Some(progname), &msg);
            return Err(1);
        }
    };
    // `--key=value` script arguments are silly.env settings.
    let words: Vec<String> = argv[script + 1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    hotlua_stdlib::silly::env::load_args(vm, &words);
    match run_main(vm, f, &params) {
        Ended::Status(0) => Ok(()),
        Ended::Status(code) => Err(code),
        Ended::Failed(text, code) => {
            report(vm, Some(progname), &text);
            Err(code)
        }
    }
}

/// Runs standard input as a chunk without arguments (lua.c's `dofile(NULL)` when no script,
/// `-e` or `-v` is given and stdin is not a terminal). As in lua.c, an error is reported but
/// the status stays 0; `silly.exit(code)` gives `code`.
pub fn run_stdin(vm: &mut Vm, progname: &str) -> i32 {
    let f = match hotlua_stdlib::open::load_chunk_file(vm, None, None, None) {
        Ok(f) => f,
        Err(e) => {
            let msg = vm.to_display(e);
            report(vm, Some(progname), &msg);
            return 0;
        }
    };
    match run_main(vm, f, &[] as &[Value]) {
        Ended::Status(code) => code,
        Ended::Failed(text, code) => {
            report(vm, Some(progname), &text);
            // An interrupt (SIGTERM) keeps its status; an error does not change it.
            if code == 1 {
                0
            } else {
                code
            }
        }
    }
}

/// Runs what is left in the event loop (tasks and timers started by `-e` code or the
/// REPL); returns the exit status.
pub fn finish(vm: &mut Vm, progname: &str) -> i32 {
    match run_loop(vm) {
        Ended::Status(code) => code,
        Ended::Failed(text, code) => {
            report(vm, Some(progname), &text);
            code
        }
    }
}

//! The `hotlua` program: all of lua.c (5.4) in one place, plus hotlua's own options. The
//! binary (`src/main.rs`) only calls [`main`].
//!
//! ```text
//! hotlua [options] [script [args]]   as lua5.4: -e stat, -l mod, -l g=mod, -i, -v, -E,
//!                                    -W, --, - (stdin); LUA_INIT_5_4/LUA_INIT; the REPL;
//!                                    plus --console ADDR, and --key=value script settings
//! hotlua -p FILE...                  check that each FILE compiles (as luac -p)
//! ```
//!
//! One concern per file: [`options`] reads the command line, [`args`] builds `arg`,
//! [`init`] runs `LUA_INIT`, [`chunk`] runs `-e`/`-l` code on the main thread, [`script`]
//! runs the script's main chunk as the first task of the silly event loop, [`repl`] is the
//! interactive loop, [`check`] is `-p`. The program runs on a thread of its own with
//! [`VM_THREAD_STACK`] bytes of stack.

pub mod args;
pub mod check;
pub mod chunk;
pub mod init;
pub mod options;
pub mod repl;
pub mod script;

use std::io::IsTerminal;

use hotlua_vm::{Value, Vm};

use chunk::report;
use options::Options;

/// The Rust stack the interpreter thread gets. Lua-to-Lua calls use no Rust stack, but a
/// native that calls back into Lua (sort comparators, `gsub` callbacks, `load` readers)
/// recurses, bounded at 200 levels (Lua's "C stack overflow"); this leaves ample room.
pub const VM_THREAD_STACK: usize = 256 << 20;

/// The version line (`-v`, `-i`, and the REPL on a terminal), in lua.c's shape.
pub const VERSION: &str = concat!(
    "hotlua ",
    env!("CARGO_PKG_VERSION"),
    "  Lua 5.4 by Lua.org, PUC-Rio"
);

/// Runs the command line `argv` (argv[0] being the name the program was invoked by) and
/// returns the exit status. The interpreter runs on a thread with [`VM_THREAD_STACK`]
/// bytes of stack.
pub fn main(argv: Vec<Vec<u8>>) -> i32 {
    std::thread::Builder::new()
        .name("hotlua".into())
        .stack_size(VM_THREAD_STACK)
        .spawn(move || run(&argv))
        .ok()
        .and_then(|h| h.join().ok())
        // A panic is a bug: hotlua reports errors as Lua errors.
        .unwrap_or(1)
}

/// lua.c's `main` and `pmain`.
fn run(argv: &[Vec<u8>]) -> i32 {
    let progname = match argv.first() {
        Some(p) if !p.is_empty() => String::from_utf8_lossy(p).into_owned(),
        _ => "hotlua".to_string(),
    };
    if argv.get(1).map(Vec::as_slice) == Some(b"-p") {
        if argv.len() < 3 {
            eprintln!("usage: {progname} -p FILE...");
            return 1;
        }
        return check::check_files(&progname, &argv[2..]);
    }
    let opts = match options::collect(argv) {
        Ok(o) => o,
        Err(bad) => {
            eprint!("{}", options::usage(&progname, &bad));
            return 1;
        }
    };
    if opts.version {
        println!("{VERSION}");
    }
    let mut vm = new_state(&opts);
    let status = program(&mut vm, argv, &opts, &progname);
    // As lua_close and C's exit(): finalizers run, buffered files and stdout are written.
    vm.close();
    hotlua_stdlib::io::flush_all(&mut vm);
    status
}

/// The state: every library open (`-E`: package paths from the defaults), collector
/// settings.
fn new_state(opts: &Options) -> Vm {
    let mut vm = Vm::new();
    if opts.no_env {
        let reg = vm.registry();
        hotlua_stdlib::open::set_field(&mut vm, reg, "LUA_NOENV", Value::Bool(true));
    }
    hotlua_stdlib::open::open_libs(&mut vm);
    // Testing aid: collect at every safe point (shakes out values the VM forgot to root).
    vm.gc_stress = std::env::var_os("HOTLUA_GC_STRESS").is_some();
    if let Some(limit) = address_space_heap_limit() {
        vm.heap.set_limit(limit);
    }
    // lua.c puts the collector in generational mode.
    vm.gc_mode = "generational";
    vm
}

/// What lua.c's `pmain` does once the state is open; returns the exit status.
fn program(vm: &mut Vm, argv: &[Vec<u8>], opts: &Options, progname: &str) -> i32 {
    args::create(vm, argv, opts.script);
    if !opts.no_env {
        if let Err(msg) = init::run(vm) {
            report(vm, Some(progname), &msg);
            return 1;
        }
    }
    if let Some(addr) = &opts.console {
        if let Err(msg) = start_console(vm, addr) {
            report(vm, Some(progname), &msg);
            return 1;
        }
    }
    if let Err(msg) = run_options(vm, &argv[..opts.script]) {
        report(vm, Some(progname), &msg);
        return 1;
    }
    let has_script = opts.script < argv.len();
    if has_script {
        if let Err(status) = script::run(vm, argv, opts.script, progname) {
            return status;
        }
    }
    if opts.interactive {
        repl::run(vm);
    } else if !has_script && !opts.has_e && !opts.version {
        if std::io::stdin().is_terminal() {
            println!("{VERSION}");
            repl::run(vm);
        } else {
            return script::run_stdin(vm, progname);
        }
    }
    // Tasks and timers that `-e` code or the REPL started run to their end.
    script::finish(vm, progname)
}

/// `-e`, `-l` and `-W` in their order (lua.c's `runargs`); stops at the first error.
fn run_options(vm: &mut Vm, options: &[Vec<u8>]) -> Result<(), chunk::Failure> {
    let mut i = 1;
    while i < options.len() {
        let o = options[i].as_slice();
        match o.get(1) {
            Some(&c @ (b'e' | b'l')) => {
                let value = if o.len() > 2 {
                    &o[2..]
                } else {
                    i += 1;
                    options[i].as_slice()
                };
                if c == b'e' {
                    chunk::dostring(vm, value, "=(command line)")?;
                } else {
                    chunk::dolibrary(vm, value)?;
                }
            }
            Some(b'W') => vm.warn("@on", false),
            // `--console` takes a value.
            Some(b'-') if o == b"--console" => i += 1,
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// `--console ADDR`: opens the operator console (`require "silly.console"{addr = ADDR}`,
/// spec/console.md) before the script runs.
fn start_console(vm: &mut Vm, addr: &str) -> Result<(), chunk::Failure> {
    let src = b"local addr = ... ; require 'silly.console'{addr = addr}";
    let f = chunk::load(vm, src, "=[--console]")?;
    let a = vm.str_value(addr);
    vm.call(f, &[a]).map_err(|e| vm.to_display(e.value))?;
    Ok(())
}

/// Under an address-space limit (`ulimit -v`), the heap is limited to half of what is left
/// of it, so that a script exhausting memory meets Lua's "not enough memory" while the
/// process still has room for the collector's own work and the error's handling, instead
/// of an allocation failure that would abort it.
fn address_space_heap_limit() -> Option<usize> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the limit into `rl`, a valid rlimit owned by this frame.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut rl) } != 0
        || rl.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    let used = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096);
    let left = (rl.rlim_cur as usize).saturating_sub(used);
    Some((left / 2).max(1 << 20))
}

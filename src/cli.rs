//! The `hotlua` program: lua.c's command line, the server runner, and `-p`. The binary
//! (`src/main.rs`) only calls these.

use hotlua_stdlib::open::new_vm;

/// The Rust stack the interpreter thread gets. Lua-to-Lua calls use no Rust stack, but a
/// native that calls back into Lua (sort comparators, `gsub` callbacks, `load` readers)
/// recurses, bounded at 200 levels (Lua's "C stack overflow"); this leaves ample room.
pub const VM_THREAD_STACK: usize = 256 << 20;

/// Runs `f` on a thread with [`VM_THREAD_STACK`] bytes of stack and returns its result
/// (1 if it panicked, which is a bug: hotlua reports errors as Lua errors).
pub fn run_with_big_stack(f: impl FnOnce() -> i32 + Send + 'static) -> i32 {
    std::thread::Builder::new()
        .name("hotlua".into())
        .stack_size(VM_THREAD_STACK)
        .spawn(f)
        .ok()
        .and_then(|h| h.join().ok())
        .unwrap_or(1)
}

/// `hotlua [options] [script [args] [--key=value ...]]`: options as `lua5.4`'s; the
/// script's main chunk runs as the first task of the silly event loop, which then runs
/// until nothing is pending, `silly.exit`, a signal or an error in main (see
/// `spec/runtime.md`). Returns the exit status.
pub fn run_command_line(args: &[String]) -> i32 {
    let mut vm = new_vm();
    // Testing aid: collect at every safe point (shakes out values the VM forgot to root).
    vm.gc_stress = std::env::var_os("HOTLUA_GC_STRESS").is_some();
    if let Some(limit) = address_space_heap_limit() {
        vm.heap.set_limit(limit);
    }
    let status = hotlua_stdlib::silly::runtime::run_command_line(&mut vm, args);
    vm.close();
    // As C's exit(): buffered files and stdout are written out.
    hotlua_stdlib::io::flush_all(&mut vm);
    status
}

/// `hotlua -p FILE...`: compiles every file without running it; silent on success, the
/// first error on stderr (as `luac -p` does) and status 1 otherwise.
pub fn check_files(files: &[String]) -> i32 {
    for file in files {
        let source = match std::fs::read(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("hotlua: cannot open {}: {}", file, e);
                return 1;
            }
        };
        if let Err(e) = hotlua_compiler::compile(&source, &format!("@{}", file)) {
            eprintln!("hotlua: {}", e);
            return 1;
        }
    }
    0
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

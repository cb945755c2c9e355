//! Module `silly`: `exit(code)` ends the process through the event loop (output flushed),
//! `pcall(f, ...)` is `xpcall` with a traceback as the message handler (so the error text
//! says where it came from; tasks may sleep inside it), `fork` is `silly.task.fork`.

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use super::eventloop::with_loop;
use crate::open::set_field;

/// `pcall` in Lua, so it is an ordinary Lua frame over the VM's yieldable `xpcall`.
const PCALL_SRC: &str = "local xpcall, debug = xpcall, debug\n\
local tb = debug and debug.traceback or function(m) return m end\n\
return function(f, ...) return xpcall(f, tb, ...) end\n";

/// Builds the `silly` module table.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    // Lua runs (and may collect) while `pcall` is built, so the module table, which only
    // Rust references until it is returned, is created afterwards.
    let pcall = vm
        .load(PCALL_SRC.as_bytes(), "=[silly]", None)
        .and_then(|chunk| vm.call(chunk, &[]))
        .ok()
        .and_then(|r| r.first().copied())
        .unwrap_or_else(|| vm.get_global("pcall"));
    let m = vm.new_table();
    set_field(vm, m, "pcall", pcall);
    set_field(vm, m, "exit", Value::LightFn(exit));
    set_field(vm, m, "fork", Value::LightFn(super::task::fork));
    m
}

/// The exit status an `os.exit`-like argument asks for: nil/true 0, false 1, an integer.
fn exit_code(vm: &mut Vm, args: Args) -> Result<i32, LuaError> {
    Ok(match vm.arg(args, 0) {
        Value::Nil | Value::Bool(true) => 0,
        Value::Bool(false) => 1,
        _ => vm.check_int(args, 0)? as i32,
    })
}

fn exit(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let code = exit_code(vm, args)?;
    let in_task = with_loop(vm, |vm, lp| {
        let t = lp.current_task(vm);
        if let Some(co) = t {
            lp.request_exit(code);
            lp.suspend(co, super::eventloop::TaskStatus::Exiting);
        }
        t.is_some()
    })?;
    if in_task {
        // The task never resumes: the loop sees the request as soon as it yields (a yield
        // is this native returning the `YIELD` sentinel), and the loop's owner ends with
        // the code.
        match vm.yield_from_native(&[]) {
            Err(e)
                if matches!(e.value, Value::LightUserData(_))
                    && e.value == hotlua_vm::coroutine::YIELD =>
            {
                return Err(e)
            }
            _ => {}
        }
    }
    // Not in a task (a `-e` chunk) or not able to yield (inside a C-call boundary): leave
    // now, as os.exit does, after flushing what was printed.
    let _ = vm.stdout().flush();
    crate::io::flush_all(vm);
    std::process::exit(code)
}

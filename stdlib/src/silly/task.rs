//! `silly.task`: the tasks of the event loop.
//!
//! `fork(fn, ud)` creates a task running `fn(ud)` soon and returns it; `wait()` suspends
//! the running task until `wakeup(task, value)`, and returns `value`; `running()` is the
//! running task (nil outside one); `status(task)` is "running", "ready", "sleep", "wait",
//! "io" or "exit" (nil once it has finished or for a non-task); `readycount()` counts the
//! ready queue; `inspect()` maps each live task to `{status = ..., traceback = ...}`.

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use super::eventloop::{try_with_loop, with_loop, TaskStatus};
use crate::open::set_field;

/// Builds the `silly.task` module table.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let m = vm.new_table();
    let funcs: &[(&str, hotlua_vm::NativeFn)] = &[
        ("fork", fork),
        ("wait", wait),
        ("wakeup", wakeup),
        ("running", running),
        ("status", status),
        ("readycount", readycount),
        ("inspect", inspect),
    ];
    for &(name, f) in funcs {
        set_field(vm, m, name, Value::LightFn(f));
    }
    m
}

/// `fork(fn, ud)`: also `silly.fork`.
pub fn fork(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = vm.arg(args, 0);
    if !f.is_function() {
        return Err(vm.type_error_arg(args, 0, "function"));
    }
    let ud = vm.arg(args, 1);
    let co = try_with_loop(vm, |vm, lp| lp.spawn(vm, f, ud))?;
    vm.push(Value::Thread(co))?;
    Ok(1)
}

fn wait(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    try_with_loop(vm, |vm, lp| {
        let Some(co) = lp.current_task(vm) else {
            return Err(vm.rt_error("silly.task.wait: not called from a task"));
        };
        lp.suspend(co, TaskStatus::Wait);
        Ok(())
    })?;
    vm.yield_from_native(&[])
}

fn wakeup(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let Value::Thread(co) = vm.arg(args, 0) else {
        return Err(vm.type_error_arg(args, 0, "task"));
    };
    let v = vm.arg(args, 1);
    try_with_loop(vm, |vm, lp| match lp.status(co) {
        Some(TaskStatus::Wait) => lp.make_ready(vm, co, v),
        Some(s) => Err(vm.rt_error(&format!(
            "silly.task.wakeup: the task is not waiting (status '{}')",
            s.name()
        ))),
        None => Err(vm.rt_error("silly.task.wakeup: not a live task")),
    })?;
    Ok(0)
}

fn running(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let co = with_loop(vm, |vm, lp| lp.current_task(vm))?;
    vm.push(co.map_or(Value::Nil, Value::Thread))?;
    Ok(1)
}

fn status(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let v = match vm.arg(args, 0) {
        Value::Thread(co) => with_loop(vm, |_, lp| lp.status(co))?,
        _ => None,
    };
    let v = match v {
        Some(s) => vm.str_value(s.name()),
        None => Value::Nil,
    };
    vm.push(v)?;
    Ok(1)
}

fn readycount(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let n = with_loop(vm, |_, lp| lp.ready_count())?;
    vm.push(Value::Int(n as i64))?;
    Ok(1)
}

fn inspect(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let (tasks, current) = with_loop(vm, |vm, lp| (lp.all_tasks(), lp.current_task(vm)))?;
    let out = vm.new_table();
    // Keep the result reachable while it is filled (allocations may collect at safe points).
    vm.push(Value::Table(out))?;
    for (co, st) in tasks {
        let tb = if Some(co) == current {
            vm.traceback(None, 1)
        } else {
            vm.traceback_of(co, None, 0)
        };
        let entry = vm.new_table();
        vm.raw_set(out, Value::Thread(co), Value::Table(entry))?;
        let s = vm.str_value(st.name());
        set_field(vm, entry, "status", s);
        let tb = vm.str_value(tb);
        set_field(vm, entry, "traceback", tb);
    }
    Ok(1)
}

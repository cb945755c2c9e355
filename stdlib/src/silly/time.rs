//! `silly.time`: clocks and timers of the event loop.
//!
//! `now()` wall clock in ms, `monotonic()` ms since the loop started, `after(ms, fn, ud)`
//! runs `fn(ud)` (or `fn(session)` when `ud` is nil) in a new task after `ms` and returns
//! the session, `cancel(session)`, `sleep(ms)` suspends the running task. Deadlines are
//! kept in microseconds, so a timer never fires before the time asked for.

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use super::eventloop::{try_with_loop, with_loop};
use super::timer::Micros;
use crate::open::set_field;

/// Builds the `silly.time` module table.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let m = vm.new_table();
    let funcs: &[(&str, hotlua_vm::NativeFn)] = &[
        ("now", now),
        ("monotonic", monotonic),
        ("after", after),
        ("cancel", cancel),
        ("sleep", sleep),
    ];
    for &(name, f) in funcs {
        set_field(vm, m, name, Value::LightFn(f));
    }
    m
}

/// A delay argument in ms (integer or float) as microseconds; negative and NaN are 0.
fn delay_arg(vm: &mut Vm, args: Args, i: usize) -> Result<Micros, LuaError> {
    let ms = match vm.arg(args, i) {
        Value::Int(n) => return Ok((n.max(0) as u64).saturating_mul(1000)),
        _ => vm.check_number(args, i)?,
    };
    let us = (ms * 1000.0).ceil();
    Ok(if us.is_nan() || us <= 0.0 {
        0
    } else if us >= u64::MAX as f64 {
        u64::MAX
    } else {
        us as u64
    })
}

fn now(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    vm.push(Value::Int(ms))?;
    Ok(1)
}

fn monotonic(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let ms = with_loop(vm, |_, lp| lp.monotonic_ms())?;
    vm.push(Value::Int(ms))?;
    Ok(1)
}

fn after(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let delay = delay_arg(vm, args, 0)?;
    let f = vm.arg(args, 1);
    if !f.is_function() {
        return Err(vm.type_error_arg(args, 1, "function"));
    }
    let ud = vm.arg(args, 2);
    let s = try_with_loop(vm, |vm, lp| lp.add_timer(vm, delay, f, ud))?;
    vm.push(Value::Int(s as i64))?;
    Ok(1)
}

fn cancel(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let s = vm.check_int(args, 0)?;
    let done = with_loop(vm, |vm, lp| lp.cancel_timer(vm, s))?;
    vm.push(Value::Bool(done))?;
    Ok(1)
}

fn sleep(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let delay = delay_arg(vm, args, 0)?;
    try_with_loop(vm, |vm, lp| {
        let Some(co) = lp.current_task(vm) else {
            return Err(vm.rt_error("silly.time.sleep: not called from a task"));
        };
        lp.sleep(co, delay);
        Ok(())
    })?;
    vm.yield_from_native(&[])
}

//! `silly.console`: the operator's TCP console (see spec/console.md).
//!
//! The protocol lives in `console.lua` (compiled into the module); this file adds the few
//! loop facts Lua cannot see (timer count, process id), a constant-time comparison for
//! tokens, and builds the callable module.

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use super::eventloop::with_loop;
use crate::open::set_field;

/// The Lua half: its chunk receives the primitives and returns the module table.
const LUA_SOURCE: &str = include_str!("console.lua");

/// Builds the `silly.console` module (callable: `require "silly.console"{...}`).
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let c = vm.new_table();
    set_field(vm, c, "timercount", Value::LightFn(timercount));
    set_field(vm, c, "pid", Value::LightFn(pid));
    set_field(vm, c, "same", Value::LightFn(same));
    set_field(vm, c, "pcall_deadline", Value::LightFn(pcall_deadline));
    set_field(vm, c, "capture_begin", Value::LightFn(capture_begin));
    set_field(vm, c, "capture_end", Value::LightFn(capture_end));
    set_field(vm, c, "regular_file", Value::LightFn(regular_file));
    let built = vm
        .load(LUA_SOURCE.as_bytes(), "=[silly.console]", None)
        .and_then(|f| vm.call(f, &[Value::Table(c)]));
    match built {
        Ok(v) => match v.first() {
            Some(Value::Table(t)) => *t,
            _ => c,
        },
        // Only a bug in console.lua gets here.
        Err(_) => c,
    }
}

fn timercount(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let n = with_loop(vm, |_, lp| lp.timer_count())?;
    vm.push(Value::Int(n as i64))?;
    Ok(1)
}

fn pid(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    vm.push(Value::Int(std::process::id() as i64))?;
    Ok(1)
}

/// `same(a, b)`: whether two strings are equal, in a time that depends on their lengths
/// only (a token guessed through the console learns nothing from how fast it is refused).
fn same(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let a = vm.check_str(args, 0)?;
    let b = vm.check_str(args, 1)?;
    let (a, b) = (a.get().as_bytes(), b.get().as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= (x ^ y) as usize;
    }
    vm.push(Value::Bool(std::hint::black_box(diff) == 0))?;
    Ok(1)
}

/// `pcall_deadline(ms, f, ...)`: `pcall(f, ...)` that must finish within `ms` milliseconds
/// (`hotlua_vm::deadline`): past it, `f` (and the coroutines it resumed) stop with
/// `deadline exceeded (ms ms)`, which their own `pcall`s cannot hold on to, and this returns
/// `false, message`. `f` may yield (sleep) meanwhile; the time counts while it sleeps.
fn pcall_deadline(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let ms = vm.check_int(args, 0)?.clamp(1, 365 * 24 * 3_600_000);
    let call: Vec<Value> = (1..args.len.max(2)).map(|i| vm.arg(args, i)).collect();
    vm.start_deadline(ms as u64);
    let pcall = vm.builtin(hotlua_vm::function::Builtin::Pcall);
    vm.tail_call(pcall, &call)
}

/// `capture_begin()`: from now on, what `print` and `silly.logger` write in this task (and the
/// coroutines it resumes) is also kept for `capture_end` (`hotlua_vm::capture`).
fn capture_begin(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    vm.begin_capture();
    Ok(0)
}

/// `capture_end()`: the captured output (a string) and how many bytes did not fit.
fn capture_end(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let (buf, dropped) = vm.end_capture().unwrap_or_default();
    let s = vm.str_value(buf);
    vm.push(s)?;
    vm.push(Value::Int(dropped as i64))?;
    Ok(2)
}

/// `regular_file(path)`: true, or `false, message` when `path` is not a regular file (a FIFO
/// or a device would block the loop while it is read).
fn regular_file(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let path = vm.check_str(args, 0)?;
    let path = String::from_utf8_lossy(path.get().as_bytes()).into_owned();
    let msg = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => None,
        Ok(_) => Some(format!("{path}: not a regular file")),
        // Missing or unreadable: `loadfile` says so in Lua's words.
        Err(_) => None,
    };
    match msg {
        None => {
            vm.push(Value::Bool(true))?;
            Ok(1)
        }
        Some(m) => {
            vm.push(Value::Bool(false))?;
            let m = vm.str_value(m);
            vm.push(m)?;
            Ok(2)
        }
    }
}

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

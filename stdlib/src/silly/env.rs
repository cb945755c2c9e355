//! `silly.env`: settings given on the command line as `--key=value` after the script, plus
//! values set at run time. `get(key)` returns the value (nil if unset), `set(key, value)`.
//!
//! Invariant: the values live in a registry table, so they belong to the Vm and survive
//! collections; keys given on the command line are strings.

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use crate::open::{get_field, set_field};

const REG_ENV: &str = "_SILLY_ENV";

/// Builds the `silly.env` module table.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let m = vm.new_table();
    set_field(vm, m, "get", Value::LightFn(get));
    set_field(vm, m, "set", Value::LightFn(set));
    m
}

/// The table holding the settings, created on first use.
fn store(vm: &mut Vm) -> Gc<Table> {
    let reg = vm.registry();
    match get_field(vm, reg, REG_ENV) {
        Value::Table(t) => t,
        _ => {
            let t = vm.new_table();
            set_field(vm, reg, REG_ENV, Value::Table(t));
            t
        }
    }
}

/// Records `--key=value` arguments (others are ignored); the later of two equal keys wins.
pub fn load_args(vm: &mut Vm, args: &[String]) {
    for a in args {
        if let Some((k, v)) = a.strip_prefix("--").and_then(|kv| kv.split_once('=')) {
            if !k.is_empty() {
                let t = store(vm);
                let v = vm.str_value(v);
                set_field(vm, t, k, v);
            }
        }
    }
}

fn get(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let k = vm.check_str(args, 0)?;
    let t = store(vm);
    let v = t.get().get_str(k);
    vm.push(v)?;
    Ok(1)
}

fn set(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let k = vm.check_str(args, 0)?;
    let v = vm.arg(args, 1);
    let t = store(vm);
    vm.raw_set(t, Value::Str(k), v)?;
    Ok(0)
}

//! The silly.* runtime: the event loop, tasks, timers, logger and patching.

pub mod console;
pub mod core;
pub mod env;
pub mod eventloop;
pub mod http;
pub mod logger;
pub mod patch;
pub mod runtime;
pub mod task;
pub mod tcp;
pub mod time;
pub mod timer;

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

/// Builds a module's table.
type Builder = fn(&mut Vm) -> Gc<Table>;

/// The modules `require` finds here, by name, with the function that builds each.
const MODULES: &[(&str, Builder)] = &[
    ("silly", core::module),
    ("silly.console", console::module),
    ("silly.env", env::module),
    ("silly.logger", logger::module),
    ("silly.net.http", http::module),
    ("silly.net.tcp", tcp::module),
    ("silly.patch", patch::module),
    ("silly.task", task::module),
    ("silly.time", time::module),
];

/// Makes every silly.* module available to `require` through `package.preload`.
pub fn open(vm: &mut Vm) {
    let reg = vm.registry();
    let key = vm.new_str("_PRELOAD");
    let preload = match reg.get().get_str(key) {
        Value::Table(t) => t,
        _ => {
            let t = vm.new_table();
            let _ = vm.raw_set(reg, Value::Str(key), Value::Table(t));
            t
        }
    };
    for (name, _) in MODULES {
        crate::open::set_field(vm, preload, name, Value::LightFn(load_module));
    }
}

/// The preload loader shared by every silly.* module: `require` passes the module name.
fn load_module(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = vm.check_str(args, 0)?;
    let build = MODULES
        .iter()
        .find(|(n, _)| n.as_bytes() == name.get().as_bytes())
        .map(|(_, b)| *b);
    let Some(build) = build else {
        return Err(vm.arg_error(0, "unknown silly module"));
    };
    let m = build(vm);
    vm.push(Value::Table(m))?;
    Ok(1)
}

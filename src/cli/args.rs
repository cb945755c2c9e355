//! The global `arg` as lua.c's `createargtable` builds it, and the script's `...` as its
//! `pushargs` reads them back (so `-e` code may change them).

use hotlua_vm::{Value, Vm};

/// Sets the global `arg`: the script at index 0 (the program name when there is none),
/// the interpreter name and options at negative indices, the script's arguments at 1...
pub fn create(vm: &mut Vm, argv: &[Vec<u8>], script: usize) {
    let script = if script == argv.len() { 0 } else { script };
    let t = vm.new_table();
    for (i, a) in argv.iter().enumerate() {
        let v = vm.str_value(a.clone());
        t.get_mut().set_int(i as i64 - script as i64, v);
    }
    vm.set_global("arg", Value::Table(t));
}

/// The script's arguments: `arg[1]` to `arg[#arg]` as they are now. `Err` with lua.c's
/// message when `arg` is no longer a table.
pub fn script_args(vm: &mut Vm) -> Result<Vec<Value>, String> {
    let Value::Table(t) = vm.get_global("arg") else {
        return Err("'arg' is not a table".to_string());
    };
    let n = t.get().len();
    Ok((1..=n).map(|i| t.get().get_int(i)).collect())
}

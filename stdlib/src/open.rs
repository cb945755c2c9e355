//! `open_libs`: installs the standard libraries into a Vm, plus the small helpers the
//! library modules share to build their tables.
//!
//! Invariant: each library table is both a global and an entry of `package.loaded`
//! (the registry's `_LOADED`), as `luaL_requiref` leaves them.

use std::any::Any;

use hotlua_vm::api::NativeFn;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::userdata::UserData;
use hotlua_vm::{Value, Vm};

/// Installs every standard library: table, math, os, io, utf8, package (with `require`),
/// and the string library.
pub fn open_libs(vm: &mut Vm) {
    // Cannot fail: it only sets string keys on fresh tables.
    let _ = crate::string::lib::open_string(vm);
    if let Value::Table(st) = vm.get_global("string") {
        let loaded = loaded_table(vm);
        set_field(vm, loaded, "string", Value::Table(st));
    }
    crate::package::open(vm);
    crate::table::open(vm);
    crate::math::open(vm);
    crate::os::open(vm);
    crate::io::open(vm);
    crate::utf8::open(vm);
    crate::silly::open(vm);
    // Base functions that need files; installed only if the VM's base library lacks them.
    if vm.get_global("loadfile").is_nil() {
        vm.register("loadfile", base_loadfile);
    }
    if vm.get_global("dofile").is_nil() {
        vm.register("dofile", base_dofile);
    }
}

/// Reads and compiles a chunk file (`None`: stdin) as `luaL_loadfilex`: a first line
/// starting with `#` is skipped; the error is the message value.
fn load_chunk_file(vm: &mut Vm, name: Option<&[u8]>, env: Option<Value>) -> Result<Value, Value> {
    use std::io::Read;
    use std::os::unix::ffi::OsStrExt;
    let (src, chunk) = match name {
        Some(n) => {
            let shown = String::from_utf8_lossy(n).into_owned();
            match std::fs::read(std::ffi::OsStr::from_bytes(n)) {
                Ok(s) => (s, format!("@{}", shown)),
                Err(e) => {
                    let (text, _) = crate::io::os_error(&e);
                    return Err(vm.str_value(format!("cannot open {}: {}", shown, text)));
                }
            }
        }
        None => {
            let mut b = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut b);
            (b, "=stdin".to_string())
        }
    };
    let body = hotlua_compiler::strip_file_header(&src);
    vm.load(body, &chunk, env).map_err(|e| e.value)
}

fn base_loadfile(vm: &mut Vm, args: hotlua_vm::Args) -> Result<usize, hotlua_vm::LuaError> {
    let name = vm.opt_str(args, 0)?.map(|s| s.get().as_bytes().to_vec());
    let mode = vm.opt_str(args, 1)?.map(|s| s.get().as_bytes().to_vec());
    let env = if args.len() > 2 {
        Some(vm.arg(args, 2))
    } else {
        None
    };
    if let Some(m) = &mode {
        if !m.contains(&b't') {
            vm.push(Value::Nil)?;
            let msg = format!(
                "attempt to load a text chunk (mode is '{}')",
                String::from_utf8_lossy(m)
            );
            let m = vm.str_value(msg);
            vm.push(m)?;
            return Ok(2);
        }
    }
    match load_chunk_file(vm, name.as_deref(), env) {
        Ok(f) => {
            vm.push(f)?;
            Ok(1)
        }
        Err(e) => {
            vm.push(Value::Nil)?;
            vm.push(e)?;
            Ok(2)
        }
    }
}

fn base_dofile(vm: &mut Vm, args: hotlua_vm::Args) -> Result<usize, hotlua_vm::LuaError> {
    let name = vm.opt_str(args, 0)?.map(|s| s.get().as_bytes().to_vec());
    let f = match load_chunk_file(vm, name.as_deref(), None) {
        Ok(f) => f,
        Err(e) => return Err(hotlua_vm::LuaError::new(e)),
    };
    let r = vm.call_value(f, &[])?;
    for &v in &r {
        vm.push(v)?;
    }
    Ok(r.len())
}

/// The registry's `_LOADED` table (`package.loaded`), created if missing.
pub fn loaded_table(vm: &mut Vm) -> Gc<Table> {
    let reg = vm.registry();
    let k = vm.new_str("_LOADED");
    if let Value::Table(t) = reg.get().get_str(k) {
        return t;
    }
    let t = vm.new_table();
    let _ = vm.raw_set(reg, Value::Str(k), Value::Table(t));
    t
}

/// `t.name = v` (raw).
pub fn set_field(vm: &mut Vm, t: Gc<Table>, name: &str, v: Value) {
    let k = vm.new_str(name);
    // A string key is never nil or NaN: this cannot fail.
    let _ = vm.raw_set(t, Value::Str(k), v);
}

/// `t.name` (raw).
pub fn get_field(vm: &mut Vm, t: Gc<Table>, name: &str) -> Value {
    let k = vm.new_str(name);
    t.get().get_str(k)
}

/// Creates (or reuses, if a global of that name is already a table) the library table
/// `name` with the given functions, sets the global and `package.loaded[name]`.
pub fn new_lib(vm: &mut Vm, name: &str, funcs: &[(&str, NativeFn)]) -> Gc<Table> {
    let t = match vm.get_global(name) {
        Value::Table(t) => t,
        _ => vm.new_table(),
    };
    for &(fname, f) in funcs {
        set_field(vm, t, fname, Value::LightFn(f));
    }
    vm.set_global(name, Value::Table(t));
    let loaded = loaded_table(vm);
    set_field(vm, loaded, name, Value::Table(t));
    t
}

/// A full userdata holding `data`, with metatable `mt` (a `__gc` in it is registered for
/// finalization, as `setmetatable` does).
pub fn new_userdata<T: Any>(vm: &mut Vm, data: T, mt: Option<Gc<Table>>) -> Value {
    let mut ud = UserData::new(data);
    ud.metatable = mt;
    let u = vm.heap.new_userdata(ud);
    let v = Value::UserData(u);
    if let Some(mt) = mt {
        let k = vm.new_str("__gc");
        if !mt.get().get_str(k).is_nil() {
            vm.heap.register_finalizer(v);
        }
    }
    v
}

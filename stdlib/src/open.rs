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

/// A set of libraries to open (bits; combine with `|`). The base library is always opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Libs(pub u32);

impl Libs {
    pub const COROUTINE: Libs = Libs(1);
    pub const TABLE: Libs = Libs(1 << 1);
    pub const IO: Libs = Libs(1 << 2);
    pub const OS: Libs = Libs(1 << 3);
    pub const STRING: Libs = Libs(1 << 4);
    pub const UTF8: Libs = Libs(1 << 5);
    pub const MATH: Libs = Libs(1 << 6);
    pub const PACKAGE: Libs = Libs(1 << 7);
    pub const DEBUG: Libs = Libs(1 << 8);
    /// The silly runtime (`silly.*` modules through `require`; needs PACKAGE).
    pub const SILLY: Libs = Libs(1 << 9);
    /// Every library.
    pub const ALL: Libs = Libs((1 << 10) - 1);

    /// True when every library of `other` is in `self`.
    pub fn contains(self, other: Libs) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Libs {
    type Output = Libs;
    fn bitor(self, o: Libs) -> Libs {
        Libs(self.0 | o.0)
    }
}

/// A new Vm with every library installed (see [`open_libs`]).
pub fn new_vm() -> Vm {
    let mut vm = Vm::new();
    open_libs(&mut vm);
    vm
}

/// Installs every standard library (base, coroutine, debug, string, package with `require`,
/// table, math, os, io, utf8) and the silly runtime.
pub fn open_libs(vm: &mut Vm) {
    open_selected(vm, Libs::ALL);
}

/// Installs the base library and the libraries in `libs`.
pub fn open_selected(vm: &mut Vm, libs: Libs) {
    crate::base::open_base(vm);
    // Loading chunks from files is part of the base library in Lua.
    vm.register("loadfile", base_loadfile);
    vm.register("dofile", base_dofile);
    if libs.contains(Libs::COROUTINE) {
        crate::corolib::open(vm);
    }
    if libs.contains(Libs::DEBUG) {
        crate::dblib::open(vm);
    }
    if libs.contains(Libs::STRING) {
        // Cannot fail: it only sets string keys on fresh tables.
        let _ = crate::string::lib::open_string(vm);
        if let Value::Table(st) = vm.get_global("string") {
            let loaded = loaded_table(vm);
            set_field(vm, loaded, "string", Value::Table(st));
        }
    }
    if libs.contains(Libs::PACKAGE) {
        crate::package::open(vm);
        // The hot patching engine's face (`require "hotlua.reload"`).
        let reg = vm.registry();
        if let Value::Table(preload) = get_field(vm, reg, "_PRELOAD") {
            set_field(
                vm,
                preload,
                "hotlua.reload",
                Value::LightFn(crate::reload::preload),
            );
        }
    }
    if libs.contains(Libs::TABLE) {
        crate::table::open(vm);
    }
    if libs.contains(Libs::MATH) {
        crate::math::open(vm);
    }
    if libs.contains(Libs::OS) {
        crate::os::open(vm);
    }
    if libs.contains(Libs::IO) {
        crate::io::open(vm);
    }
    if libs.contains(Libs::UTF8) {
        crate::utf8::open(vm);
    }
    if libs.contains(Libs::SILLY | Libs::PACKAGE) {
        crate::silly::open(vm);
    }
}

/// Reads and compiles a chunk file (`None`: stdin) as `luaL_loadfilex`: a first line
/// starting with `#` is skipped; `mode` (`"b"`, `"t"`, `"bt"`; `None`: both) says which
/// kinds of chunk may load; the error is the message value.
pub fn load_chunk_file(
    vm: &mut Vm,
    name: Option<&[u8]>,
    mode: Option<&[u8]>,
    env: Option<Value>,
) -> Result<Value, Value> {
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
    let body = hotlua_compiler::file_chunk(&src);
    // As `lua_load`: the mode is checked against what the file holds, once it is read.
    let (kind, letter) = if body.first() == Some(&hotlua_vm::dump::SIGNATURE[0]) {
        ("binary", b'b')
    } else {
        ("text", b't')
    };
    if let Some(m) = mode {
        if !m.contains(&letter) {
            return Err(vm.str_value(format!(
                "attempt to load a {} chunk (mode is '{}')",
                kind,
                String::from_utf8_lossy(m)
            )));
        }
    }
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
    match load_chunk_file(vm, name.as_deref(), mode.as_deref(), env) {
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
    let f = match load_chunk_file(vm, name.as_deref(), None, None) {
        Ok(f) => f,
        Err(e) => return Err(hotlua_vm::LuaError::new(e)),
    };
    // The chunk runs as a call of dofile's caller: it may yield (as lua_callk allows).
    vm.tail_call(f, &[])
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

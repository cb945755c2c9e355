//! lua.c's ways of running code on the main thread: `dostring` (`-e`, `LUA_INIT`),
//! `dofile` (`LUA_INIT=@file`), `dolibrary` (`-l`), each through lua.c's `docall`
//! (`hotlua_vm::docall`, protected with a traceback, SIGINT interrupting it), and `report`.

use hotlua_stdlib::silly::runtime::catch_signals;
use hotlua_vm::{Value, Vm};

/// An error already turned into the text lua.c prints after the program name.
pub type Failure = String;

/// Calls `f(args)` as lua.c's `docall`, SIGINT and SIGTERM interrupting it.
pub fn docall(vm: &mut Vm, f: Value, args: &[Value]) -> Result<Vec<Value>, Failure> {
    catch_signals(vm, |vm| hotlua_vm::docall::docall(vm, f, args)).0
}

/// Compiles `source` as the chunk `chunk_name`; the error is the syntax error's text.
pub fn load(vm: &mut Vm, source: &[u8], chunk_name: &str) -> Result<Value, Failure> {
    vm.load(source, chunk_name, None)
        .map_err(|e| vm.to_display(e.value))
}

/// Runs a string (lua.c's `dostring`).
pub fn dostring(vm: &mut Vm, source: &[u8], chunk_name: &str) -> Result<(), Failure> {
    let f = load(vm, source, chunk_name)?;
    docall(vm, f, &[]).map(|_| ())
}

/// Runs a file (lua.c's `dofile`): read as `luaL_loadfile` does.
pub fn dofile(vm: &mut Vm, path: &[u8]) -> Result<(), Failure> {
    let f = hotlua_stdlib::open::load_chunk_file(vm, Some(path), None, None)
        .map_err(|e| vm.to_display(e))?;
    docall(vm, f, &[]).map(|_| ())
}

/// `-l mod` or `-l g=mod`: `g = require "mod"` (lua.c's `dolibrary`; `g` is `mod` when not
/// given).
pub fn dolibrary(vm: &mut Vm, spec: &[u8]) -> Result<(), Failure> {
    let (global, module) = match spec.iter().position(|&b| b == b'=') {
        Some(eq) => (&spec[..eq], &spec[eq + 1..]),
        None => (spec, spec),
    };
    let require = vm.get_global("require");
    let name = vm.str_value(module);
    let r = docall(vm, require, &[name])?;
    let v = r.first().copied().unwrap_or(Value::Nil);
    let key = vm.str_value(global);
    let globals = vm.globals();
    vm.raw_set(globals, key, v)
        .map_err(|e| vm.to_display(e.value))
}

/// lua.c's `l_message`: the program name (none in the REPL), then the message, on stderr
/// (after what the script wrote to stdout).
pub fn report(vm: &mut Vm, progname: Option<&str>, msg: &str) {
    let _ = vm.stdout().flush();
    match progname {
        Some(p) => eprintln!("{p}: {msg}"),
        None => eprintln!("{msg}"),
    }
}

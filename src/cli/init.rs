//! `LUA_INIT_5_4`, else `LUA_INIT`: a chunk run before the options' (`@file`: a file to
//! run). Skipped under `-E`.

use hotlua_vm::Vm;

use super::chunk::{dofile, dostring, Failure};

/// Runs the first of `LUA_INIT_5_4` and `LUA_INIT` that is set (lua.c's `handle_luainit`).
pub fn run(vm: &mut Vm) -> Result<(), Failure> {
    use std::os::unix::ffi::OsStringExt;
    let (name, init) = match std::env::var_os("LUA_INIT_5_4") {
        Some(v) => ("=LUA_INIT_5_4", v),
        None => match std::env::var_os("LUA_INIT") {
            Some(v) => ("=LUA_INIT", v),
            None => return Ok(()),
        },
    };
    let init = init.into_vec();
    match init.strip_prefix(b"@") {
        Some(path) => dofile(vm, path),
        None => dostring(vm, &init, name),
    }
}

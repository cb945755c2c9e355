//! Lua 5.4's module system: `require` and the `package` library.
//!
//! Invariants: `package.loaded` is the registry's `_LOADED` table and `package.preload`
//! its `_PRELOAD`; `require` and the searchers reach the `package` table through an
//! upvalue (as loadlib.c), so a script may replace `package.searchers`, `package.path`
//! and friends and `require` sees the change. C modules cannot be loaded: the C searchers
//! still search `package.cpath` and report what they found or did not find.

use hotlua_vm::api::Args;
use hotlua_vm::error::LuaError;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{Value, Vm};

use crate::open::{get_field, loaded_table, set_field};

/// Default `package.path`.
pub const DEFAULT_PATH: &str = "./?.lua;./?/init.lua";
/// Default `package.cpath`: lua.c's (C modules cannot be loaded: a library found there fails
/// with [`DLMSG`]; the searchers still name the places, as lua5.4's messages do).
pub const DEFAULT_CPATH: &str =
    "/usr/local/lib/lua/5.4/?.so;/usr/local/lib/lua/5.4/loadall.so;./?.so";
/// Directory separator, path separator, name mark, executable-dir mark, ignore mark.
const CONFIG: &str = "/\n;\n?\n!\n-\n";
/// Why `package.loadlib` and the C searchers cannot load anything.
const DLMSG: &str = "dynamic libraries not enabled; check your Lua installation";

/// `package.path` from the environment as `setpath` in loadlib.c: the versioned variable
/// first, `;;` replaced by the default.
fn env_path(var: &str, default: &str, noenv: bool) -> String {
    if noenv {
        return default.to_string();
    }
    let versioned = std::env::var(format!("{}_5_4", var)).ok();
    let plain = std::env::var(var).ok();
    compose_path(versioned.or(plain), default)
}

/// The path given an environment value (if any): the first `;;` becomes `;default;`
/// (without empty ends, as loadlib.c's `setpath`).
fn compose_path(env: Option<String>, default: &str) -> String {
    let Some(path) = env else {
        return default.to_string();
    };
    match path.find(";;") {
        None => path,
        Some(i) => {
            let mut out = String::new();
            if i > 0 {
                out.push_str(&path[..i]);
                out.push(';');
            }
            out.push_str(default);
            if i + 2 < path.len() {
                out.push(';');
                out.push_str(&path[i + 2..]);
            }
            out
        }
    }
}

/// The package table, the first upvalue of `require` and the searchers.
fn package_of(vm: &mut Vm, args: Args) -> Result<Gc<Table>, LuaError> {
    match vm.native_upvalue(args, 0) {
        Value::Table(t) => Ok(t),
        _ => Err(vm.rt_error("package table missing")),
    }
}

fn file_readable(name: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    std::fs::File::open(std::ffi::OsStr::from_bytes(name)).is_ok()
}

/// loadlib.c's `searchpath`: the first readable file of `path` with `name` (its `sep`
/// replaced by `rep`) in place of each `?`; or the "no file" message listing every try.
pub fn search_path(name: &[u8], path: &[u8], sep: &[u8], rep: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let name: Vec<u8> = if !sep.is_empty() && name.windows(sep.len()).any(|w| w == sep) {
        replace(name, sep, rep)
    } else {
        name.to_vec()
    };
    let full = replace(path, b"?", &name);
    for entry in full.split(|&c| c == b';') {
        if entry.is_empty() {
            continue;
        }
        if file_readable(entry) {
            return Ok(entry.to_vec());
        }
    }
    let mut msg = b"no file '".to_vec();
    msg.extend_from_slice(&replace(&full, b";", b"'\n\tno file '"));
    msg.push(b'\'');
    Err(msg)
}

/// Replaces every occurrence of `pat` (non-empty) in `s` by `rep`.
fn replace(s: &[u8], pat: &[u8], rep: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if !pat.is_empty() && s[i..].starts_with(pat) {
            out.extend_from_slice(rep);
            i += pat.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// `package.<pname>` as a string, or loadlib.c's error.
fn path_field(vm: &mut Vm, pkg: Gc<Table>, pname: &str) -> Result<Vec<u8>, LuaError> {
    match get_field(vm, pkg, pname) {
        Value::Str(s) => Ok(s.get().as_bytes().to_vec()),
        v @ (Value::Int(_) | Value::Float(_)) => Ok(vm.tostring_basic(v)),
        _ => Err(vm.rt_error(&format!("'package.{}' must be a string", pname))),
    }
}

fn ll_searchpath(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    // lua5.4 (gcc) evaluates the path argument before the name.
    let path = vm.check_str(args, 1)?.get().as_bytes().to_vec();
    let name = vm.check_str(args, 0)?.get().as_bytes().to_vec();
    let sep = match vm.opt_str(args, 2)? {
        Some(s) => s.get().as_bytes().to_vec(),
        None => b".".to_vec(),
    };
    let rep = match vm.opt_str(args, 3)? {
        Some(s) => s.get().as_bytes().to_vec(),
        None => b"/".to_vec(),
    };
    match search_path(&name, &path, &sep, &rep) {
        Ok(f) => {
            let v = vm.str_value(f);
            vm.push(v)?;
            Ok(1)
        }
        Err(m) => {
            vm.push(Value::Nil)?;
            let v = vm.str_value(m);
            vm.push(v)?;
            Ok(2)
        }
    }
}

fn ll_loadlib(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    vm.check_str(args, 0)?;
    vm.check_str(args, 1)?;
    vm.push(Value::Nil)?;
    let m = vm.str_value(DLMSG);
    vm.push(m)?;
    let w = vm.str_value("absent");
    vm.push(w)?;
    Ok(3)
}

fn searcher_preload(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = vm.check_str(args, 0)?;
    let reg = vm.registry();
    let preload = get_field(vm, reg, "_PRELOAD");
    let f = match preload {
        Value::Table(_) => vm.index(preload, Value::Str(name))?,
        _ => Value::Nil,
    };
    if f.is_nil() {
        let msg = format!("no field package.preload['{}']", name.get().to_str_lossy());
        let m = vm.str_value(msg);
        vm.push(m)?;
        return Ok(1);
    }
    vm.push(f)?;
    let d = vm.str_value(":preload:");
    vm.push(d)?;
    Ok(2)
}

/// Compiles a Lua file as `luaL_loadfile` (a first line starting with `#` is skipped).
fn load_file(vm: &mut Vm, filename: &[u8]) -> Result<Value, Value> {
    use std::os::unix::ffi::OsStrExt;
    let fname = String::from_utf8_lossy(filename).into_owned();
    let src = match std::fs::read(std::ffi::OsStr::from_bytes(filename)) {
        Ok(s) => s,
        Err(e) => {
            let (text, _) = crate::io::os_error(&e);
            return Err(vm.str_value(format!("cannot open {}: {}", fname, text)));
        }
    };
    let src = hotlua_compiler::file_chunk(&src);
    // Modules keep their top-level locals in cells (see `Vm::load_module`), for hot
    // patching.
    vm.load_module(src, &format!("@{}", fname), None)
        .map_err(|e| e.value)
}

fn searcher_lua(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = vm.check_str(args, 0)?;
    let pkg = package_of(vm, args)?;
    let path = path_field(vm, pkg, "path")?;
    let nb = name.get().as_bytes().to_vec();
    match search_path(&nb, &path, b".", b"/") {
        Err(msg) => {
            let m = vm.str_value(msg);
            vm.push(m)?;
            Ok(1)
        }
        Ok(file) => match load_file(vm, &file) {
            Ok(f) => {
                vm.push(f)?;
                let fv = vm.str_value(&file);
                vm.push(fv)?;
                Ok(2)
            }
            Err(e) => {
                let emsg = vm.tostring_basic(e);
                let msg = format!(
                    "error loading module '{}' from file '{}':\n\t{}",
                    String::from_utf8_lossy(&nb),
                    String::from_utf8_lossy(&file),
                    String::from_utf8_lossy(&emsg)
                );
                Err(vm.rt_error(&msg))
            }
        },
    }
}

/// The source of module `name` as the Lua searcher finds it (`package.path`), header line
/// stripped, with its chunk name (`@file`); or the searcher's message.
pub fn module_source(vm: &mut Vm, name: &str) -> Result<(Vec<u8>, String), String> {
    let loaded = crate::open::loaded_table(vm);
    let Value::Table(pkg) = get_field(vm, loaded, "package") else {
        return Err("the package library is not loaded".to_string());
    };
    let path = match get_field(vm, pkg, "path") {
        Value::Str(s) => s.get().as_bytes().to_vec(),
        _ => return Err("'package.path' must be a string".to_string()),
    };
    let file = search_path(name.as_bytes(), &path, b".", b"/").map_err(|m| {
        format!(
            "module '{}' not found:\n\t{}",
            name,
            String::from_utf8_lossy(&m)
        )
    })?;
    let shown = String::from_utf8_lossy(&file).into_owned();
    use std::os::unix::ffi::OsStrExt;
    let src = std::fs::read(std::ffi::OsStr::from_bytes(&file)).map_err(|e| {
        let (text, _) = crate::io::os_error(&e);
        format!("cannot open {}: {}", shown, text)
    })?;
    let src = hotlua_compiler::file_chunk(&src).to_vec();
    Ok((src, format!("@{shown}")))
}

/// The C searchers: they search `package.cpath` like PUC, but can never load a library.
fn search_c(vm: &mut Vm, args: Args, name: &[u8], display: &[u8]) -> Result<usize, LuaError> {
    let pkg = package_of(vm, args)?;
    let path = path_field(vm, pkg, "cpath")?;
    match search_path(name, &path, b".", b"/") {
        Err(msg) => {
            let m = vm.str_value(msg);
            vm.push(m)?;
            Ok(1)
        }
        Ok(file) => {
            let msg = format!(
                "error loading module '{}' from file '{}':\n\t{}",
                String::from_utf8_lossy(display),
                String::from_utf8_lossy(&file),
                DLMSG
            );
            Err(vm.rt_error(&msg))
        }
    }
}

fn searcher_c(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = vm.check_str(args, 0)?.get().as_bytes().to_vec();
    search_c(vm, args, &name, &name)
}

fn searcher_croot(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = vm.check_str(args, 0)?.get().as_bytes().to_vec();
    let Some(dot) = name.iter().position(|&c| c == b'.') else {
        return Ok(0);
    };
    let root = name[..dot].to_vec();
    search_c(vm, args, &root, &name)
}

/// loadlib.c's `findloader`: asks each searcher in turn; returns the loader and its data,
/// or raises "module 'x' not found:" with every searcher's message.
fn find_loader(vm: &mut Vm, pkg: Gc<Table>, name: Value) -> Result<(Value, Value), LuaError> {
    let searchers = match get_field(vm, pkg, "searchers") {
        Value::Table(t) => t,
        _ => return Err(vm.rt_error("'package.searchers' must be a table")),
    };
    // Rooted on the stack while the searchers run: one of them may replace
    // `package.searchers` and collect.
    vm.push(Value::Table(searchers))?;
    let mut msg: Vec<u8> = Vec::new();
    let mut i = 1;
    loop {
        let s = searchers.get().get_int(i);
        if s.is_nil() {
            let full = format!(
                "module '{}' not found:{}",
                name.as_str()
                    .map(|s| s.get().to_str_lossy().into_owned())
                    .unwrap_or_default(),
                String::from_utf8_lossy(&msg)
            );
            return Err(vm.rt_error(&full));
        }
        let r = vm.call_value(s, &[name])?;
        let a = r.first().copied().unwrap_or(Value::Nil);
        let b = r.get(1).copied().unwrap_or(Value::Nil);
        if a.is_function() {
            return Ok((a, b));
        }
        match a {
            Value::Str(s) => {
                msg.extend_from_slice(b"\n\t");
                msg.extend_from_slice(s.get().as_bytes());
            }
            Value::Int(_) | Value::Float(_) => {
                msg.extend_from_slice(b"\n\t");
                msg.extend_from_slice(&vm.tostring_basic(a));
            }
            _ => {}
        }
        i += 1;
    }
}

fn ll_require(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = Value::Str(vm.check_str(args, 0)?);
    let loaded = Value::Table(loaded_table(vm));
    // Rooted on the stack while searchers and the loader run (a script may unhook
    // `package.loaded` from the registry meanwhile).
    vm.push(loaded)?;
    let cur = vm.index(loaded, name)?;
    if cur.is_truthy() {
        vm.push(cur)?;
        return Ok(1);
    }
    let pkg = package_of(vm, args)?;
    let (loader, data) = find_loader(vm, pkg, name)?;
    // Keep the loader data reachable while the loader runs.
    vm.push(data)?;
    let r = vm.call_value(loader, &[name, data])?;
    let res = r.first().copied().unwrap_or(Value::Nil);
    if !res.is_nil() {
        vm.set_index(loaded, name, res)?;
    }
    let mut v = vm.index(loaded, name)?;
    if v.is_nil() {
        v = Value::Bool(true);
        vm.set_index(loaded, name, v)?;
    }
    // A module loaded from Lua source is recorded for hot patching (`hotlua.reload`).
    if let Value::Str(s) = name {
        hotlua_vm::patch::record_module(vm, s, loader, v);
    }
    vm.push(v)?;
    vm.push(data)?;
    Ok(2)
}

/// Installs `package` and `require`.
pub fn open(vm: &mut Vm) {
    let pkg = crate::open::new_lib(
        vm,
        "package",
        &[("loadlib", ll_loadlib), ("searchpath", ll_searchpath)],
    );
    let pv = Value::Table(pkg);
    let searchers = vm.new_table();
    let fs: [(hotlua_vm::api::NativeFn, &'static str); 4] = [
        (searcher_preload, "searcher_preload"),
        (searcher_lua, "searcher_Lua"),
        (searcher_c, "searcher_C"),
        (searcher_croot, "searcher_Croot"),
    ];
    for (i, (f, n)) in fs.into_iter().enumerate() {
        let c = vm.new_native_closure(f, n, vec![pv]);
        let _ = vm.raw_set(searchers, Value::Int(i as i64 + 1), c);
    }
    set_field(vm, pkg, "searchers", Value::Table(searchers));
    // lua.c's `-E` sets the registry's `LUA_NOENV` before the libraries open.
    let reg = vm.registry();
    let noenv = get_field(vm, reg, "LUA_NOENV").is_truthy();
    let path = vm.str_value(env_path("LUA_PATH", DEFAULT_PATH, noenv));
    set_field(vm, pkg, "path", path);
    let cpath = vm.str_value(env_path("LUA_CPATH", DEFAULT_CPATH, noenv));
    set_field(vm, pkg, "cpath", cpath);
    let config = vm.str_value(CONFIG);
    set_field(vm, pkg, "config", config);
    let loaded = loaded_table(vm);
    set_field(vm, pkg, "loaded", Value::Table(loaded));
    let reg = vm.registry();
    let preload = match get_field(vm, reg, "_PRELOAD") {
        Value::Table(t) => t,
        _ => {
            let t = vm.new_table();
            set_field(vm, reg, "_PRELOAD", Value::Table(t));
            t
        }
    };
    set_field(vm, pkg, "preload", Value::Table(preload));
    let req = vm.new_native_closure(ll_require, "require", vec![pv]);
    vm.set_global("require", req);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_message_lists_every_try() {
        let e = search_path(b"zz.q", b"./?.x;;/a/?.y", b".", b"/").unwrap_err();
        assert_eq!(
            String::from_utf8(e).unwrap(),
            "no file './zz/q.x'\n\tno file ''\n\tno file '/a/zz/q.y'"
        );
        let e = search_path(b"m", b"", b".", b"/").unwrap_err();
        assert_eq!(e, b"no file ''".to_vec());
    }

    #[test]
    fn finds_readable_file() {
        let dir = std::env::temp_dir();
        let p = dir.join(format!("hotlua_pkg_{}.lua", std::process::id()));
        std::fs::write(&p, "return 1").unwrap();
        let pat = format!("{}/nothere_?.lua;{}/?.lua", dir.display(), dir.display());
        let name = format!("hotlua_pkg_{}", std::process::id());
        let f = search_path(name.as_bytes(), pat.as_bytes(), b".", b"/").unwrap();
        assert_eq!(f, p.to_string_lossy().as_bytes());
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn environment_paths() {
        let d = "./?.lua;./?/init.lua";
        assert_eq!(compose_path(None, d), d);
        assert_eq!(compose_path(Some("x/?.lua".into()), d), "x/?.lua");
        assert_eq!(compose_path(Some(";;".into()), d), d);
        assert_eq!(compose_path(Some("a;;b".into()), d), format!("a;{d};b"));
        assert_eq!(compose_path(Some(";;b".into()), d), format!("{d};b"));
        assert_eq!(compose_path(Some("a;;".into()), d), format!("a;{d}"));
        assert_eq!(compose_path(Some("".into()), d), "");
    }

    #[test]
    fn replace_all() {
        assert_eq!(replace(b"a.b.c", b".", b"/"), b"a/b/c".to_vec());
        assert_eq!(replace(b"??", b"?", b"xy"), b"xyxy".to_vec());
    }
}

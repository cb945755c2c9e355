//! The `debug` library (getinfo, getlocal/setlocal, upvalues, traceback, metatables,
//! registry, hooks, user values), over the VM's introspection API (`debuginfo.rs`) and hook
//! machinery (`hooks.rs`).
//!
//! Levels: level 0 of a thread is its top frame (for the running thread, the debug function
//! itself); pcall/xpcall markers count as C frames, as in PUC.

use hotlua_compiler::error::chunk_id;

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::hooks::{MASK_CALL, MASK_COUNT, MASK_LINE, MASK_RET};
use hotlua_vm::table::Table;
use hotlua_vm::thread::{flags, FrameKind, Thread};
use hotlua_vm::{LuaError, Value, Vm};

// ---------------------------------------------------------------------------------------
// The library.

type R = Result<usize, LuaError>;

/// Installs the `debug` table (global and `package.loaded` entry).
pub fn open(vm: &mut Vm) {
    let fns: &[(&str, hotlua_vm::api::NativeFn)] = &[
        ("getinfo", getinfo),
        ("getlocal", getlocal),
        ("setlocal", setlocal),
        ("getupvalue", getupvalue),
        ("setupvalue", setupvalue),
        ("upvalueid", upvalueid),
        ("upvaluejoin", upvaluejoin),
        ("traceback", traceback),
        ("getmetatable", getmetatable),
        ("setmetatable", setmetatable),
        ("getregistry", getregistry),
        ("sethook", sethook),
        ("gethook", gethook),
        ("getuservalue", getuservalue),
        ("setuservalue", setuservalue),
        ("debug", debug_prompt),
        ("setcstacklimit", setcstacklimit),
    ];
    let t = vm.new_table();
    for (name, f) in fns {
        let k = vm.new_str(name);
        t.get_mut().set_str(k, Value::LightFn(*f));
    }
    vm.set_global("debug", Value::Table(t));
    let k = vm.new_str("_LOADED");
    if let Value::Table(loaded) = vm.registry().get().get_str(k) {
        let n = vm.new_str("debug");
        loaded.get_mut().set_str(n, Value::Table(t));
    }
}

/// `debug.debug()`: runs each line read from stdin as a chunk until a line `cont` or end
/// of input; errors are printed to stderr, as lua5.4's prompt `lua_debug> ` is.
fn debug_prompt(vm: &mut Vm, _args: Args) -> R {
    use std::io::BufRead;
    let _ = vm.stdout().flush();
    let mut line = String::new();
    loop {
        eprint!("lua_debug> ");
        line.clear();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => return Ok(0),
            Ok(_) if line == "cont\n" || line == "cont" => return Ok(0),
            Ok(_) => {}
        }
        let r = vm
            .load(line.as_bytes(), "=(debug command)", None)
            .and_then(|f| vm.call_value(f, &[]));
        if let Err(e) = r {
            let msg = vm.to_display(e.value);
            eprintln!("{}", msg);
        }
        let _ = vm.stdout().flush();
    }
}

/// `debug.setcstacklimit`: kept for compatibility; the limit is fixed (Lua 5.4.4 answers
/// 200, LUAI_MAXCCALLS, and changes nothing).
fn setcstacklimit(vm: &mut Vm, _args: Args) -> R {
    vm.push(Value::Int(200))?;
    Ok(1)
}

/// The optional thread argument: (thread, index of the next argument).
fn get_thread(vm: &Vm, args: Args) -> (Gc<Thread>, usize) {
    match vm.arg(args, 0) {
        Value::Thread(t) => (t, 1),
        _ => (vm.cur, 0),
    }
}

fn setf(vm: &mut Vm, t: Gc<Table>, k: &str, v: Value) {
    let k = vm.new_str(k);
    t.get_mut().set_str(k, v);
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

fn getinfo(vm: &mut Vm, args: Args) -> R {
    let (th, a) = get_thread(vm, args);
    let opts = match vm.opt_str(args, a + 1)? {
        Some(s) => s.get().to_str_lossy().into_owned(),
        None => "flnSrtu".to_string(),
    };
    if opts.starts_with('>') {
        return Err(vm.arg_error(a + 1, "invalid option '>'"));
    }
    if opts.chars().any(|c| !"SlnrutfL".contains(c)) {
        return Err(vm.arg_error(a + 1, "invalid option"));
    }
    let target = vm.arg(args, a);
    let frame = if target.is_function() {
        None
    } else {
        let level = vm.check_int(args, a)?;
        let len = th.get().frames.len() as i64;
        if level < 0 || level >= len {
            vm.push(Value::Nil)?;
            return Ok(1);
        }
        Some((len - 1 - level) as usize)
    };
    let (func, ci, name) = match frame {
        None => (target, None, None),
        Some(idx) => vm.on_thread(th, |vm| {
            let f = vm.frame_function(idx);
            let name = if opts.contains('n') {
                vm.frame_name(idx)
            } else {
                None
            };
            (f, Some(vm.cur.get().frames[idx]), name)
        }),
    };
    let t = vm.new_table();
    let lua = match func {
        Value::LuaFn(c) => Some(c),
        _ => None,
    };
    // A running frame keeps the proto it started with.
    let proto = match (ci.and_then(|c| c.proto), lua) {
        (Some(p), _) => Some(p),
        (None, Some(c)) => Some(c.get().proto()),
        _ => None,
    };
    for c in opts.chars() {
        match c {
            'S' => match proto {
                Some(p) => {
                    let p = p.get();
                    let src = vm.str_value(p.source.as_bytes());
                    setf(vm, t, "source", src);
                    let short = vm.str_value(chunk_id(&p.source));
                    setf(vm, t, "short_src", short);
                    setf(vm, t, "linedefined", int(p.line_defined as i64));
                    setf(vm, t, "lastlinedefined", int(p.last_line_defined as i64));
                    let what = vm.str_value(if p.line_defined == 0 { "main" } else { "Lua" });
                    setf(vm, t, "what", what);
                    // hotlua: the version of its module the function belongs to, once the
                    // module has been patched (absent otherwise).
                    let v = p.version.get();
                    if v > 0 {
                        setf(vm, t, "version", int(v as i64));
                    }
                }
                None => {
                    let src = vm.str_value("=[C]");
                    setf(vm, t, "source", src);
                    let short = vm.str_value("[C]");
                    setf(vm, t, "short_src", short);
                    setf(vm, t, "linedefined", int(-1));
                    setf(vm, t, "lastlinedefined", int(-1));
                    let what = vm.str_value("C");
                    setf(vm, t, "what", what);
                }
            },
            'l' => {
                let line = match (ci, proto) {
                    (Some(c), Some(p)) if c.kind == FrameKind::Lua => p
                        .get()
                        .current_line(c.pc.saturating_sub(1))
                        .map_or(-1, i64::from),
                    _ => -1,
                };
                setf(vm, t, "currentline", int(line));
            }
            'u' => {
                let nups = match func {
                    Value::LuaFn(c) => c.get().upvals().len(),
                    Value::NativeFn(c) => c.get().upvals.len(),
                    _ => 0,
                };
                setf(vm, t, "nups", int(nups as i64));
                let (np, va) = match proto {
                    Some(p) => (p.get().num_params as i64, p.get().is_vararg),
                    None => (0, true),
                };
                setf(vm, t, "nparams", int(np));
                setf(vm, t, "isvararg", Value::Bool(va));
            }
            'n' => match &name {
                Some((kind, n)) => {
                    let nv = vm.str_value(n);
                    setf(vm, t, "name", nv);
                    let kv = vm.str_value(kind);
                    setf(vm, t, "namewhat", kv);
                }
                None => {
                    let kv = vm.str_value("");
                    setf(vm, t, "namewhat", kv);
                }
            },
            't' => {
                let tail = ci.is_some_and(|c| c.flags & flags::TAIL != 0);
                setf(vm, t, "istailcall", Value::Bool(tail));
            }
            'r' => {
                let (first, n) = frame.map_or((0, 0), |idx| vm.transfer_info(th, idx));
                setf(vm, t, "ftransfer", int(first as i64));
                setf(vm, t, "ntransfer", int(n as i64));
            }
            'f' => setf(vm, t, "func", func),
            'L' => {
                if let Some(c) = lua {
                    let p = c.get().proto();
                    let p = p.get();
                    let lines = vm.new_table();
                    let skip = if p.is_vararg { 1 } else { 0 };
                    for &l in p.line_info.iter().skip(skip) {
                        lines.get_mut().set_int(l as i64, Value::Bool(true));
                    }
                    setf(vm, t, "activelines", Value::Table(lines));
                }
            }
            _ => {}
        }
    }
    vm.push(Value::Table(t))?;
    Ok(1)
}

fn check_level(vm: &mut Vm, args: Args, th: Gc<Thread>, i: usize) -> Result<usize, LuaError> {
    let level = vm.check_int(args, i)?;
    let len = th.get().frames.len() as i64;
    if level < 0 || level >= len {
        return Err(vm.arg_error(i, "level out of range"));
    }
    Ok((len - 1 - level) as usize)
}

fn getlocal(vm: &mut Vm, args: Args) -> R {
    let (th, a) = get_thread(vm, args);
    let n = vm.check_int(args, a + 1)?;
    let target = vm.arg(args, a);
    if target.is_function() {
        let name = match target {
            Value::LuaFn(c) if n > 0 => c
                .get()
                .proto()
                .get()
                .local_name(n as usize, 0)
                .map(|s| s.to_string()),
            _ => None,
        };
        let v = match name {
            Some(s) => vm.str_value(s),
            None => Value::Nil,
        };
        vm.push(v)?;
        return Ok(1);
    }
    let idx = check_level(vm, args, th, a)?;
    match vm.on_thread(th, |vm| vm.find_local(idx, n)) {
        Some((name, slot)) => {
            let v = th.get().stack[slot];
            let nv = vm.str_value(name);
            vm.push(nv)?;
            vm.push(v)?;
            Ok(2)
        }
        None => {
            vm.push(Value::Nil)?;
            Ok(1)
        }
    }
}

fn setlocal(vm: &mut Vm, args: Args) -> R {
    let (th, a) = get_thread(vm, args);
    let idx = check_level(vm, args, th, a)?;
    let n = vm.check_int(args, a + 1)?;
    let v = vm.check_any(args, a + 2)?;
    // A native's arguments and temporaries can be read but not written: natives (this
    // library's own, and host callbacks) rely on the values they were given staying where
    // they are, rooted, for their whole call. (PUC writes them; hotlua refuses, as for a
    // slot that does not exist.)
    let native = th
        .get()
        .frames
        .get(idx)
        .is_some_and(|ci| ci.kind == FrameKind::Native);
    let r = match vm.on_thread(th, |vm| vm.find_local(idx, n)) {
        Some((name, slot)) if !native => {
            th.get_mut().stack[slot] = v;
            vm.str_value(name)
        }
        _ => Value::Nil,
    };
    vm.push(r)?;
    Ok(1)
}

fn check_function(vm: &mut Vm, args: Args, i: usize) -> Result<Value, LuaError> {
    let f = vm.arg(args, i);
    if !f.is_function() {
        return Err(vm.type_error_arg(args, i, "function"));
    }
    Ok(f)
}

/// The upvalue name as `debug.getupvalue` shows it (`(no name)` when unknown).
fn upvalue_name(name: String) -> String {
    if name == "?" {
        "(no name)".into()
    } else {
        name
    }
}

fn getupvalue(vm: &mut Vm, args: Args) -> R {
    let n = vm.check_int(args, 1)?;
    let f = check_function(vm, args, 0)?;
    if n < 1 {
        return Ok(0);
    }
    match vm.get_upvalue(f, n as usize) {
        Some((name, v)) => {
            let nv = vm.str_value(upvalue_name(name));
            vm.push(nv)?;
            vm.push(v)?;
            Ok(2)
        }
        None => Ok(0),
    }
}

fn setupvalue(vm: &mut Vm, args: Args) -> R {
    let v = vm.check_any(args, 2)?;
    let n = vm.check_int(args, 1)?;
    let f = check_function(vm, args, 0)?;
    if n < 1 {
        return Ok(0);
    }
    match vm.set_upvalue(f, n as usize, v) {
        Some(name) => {
            let nv = vm.str_value(upvalue_name(name));
            vm.push(nv)?;
            Ok(1)
        }
        None => Ok(0),
    }
}

/// `checkupval`: the upvalue's identity, or None when the index is out of range.
fn upval_id(vm: &mut Vm, args: Args, argf: usize, argn: usize) -> Result<Option<Value>, LuaError> {
    let n = vm.check_int(args, argn)?;
    let f = check_function(vm, args, argf)?;
    if n < 1 {
        return Ok(None);
    }
    let i = (n - 1) as usize;
    Ok(match f {
        Value::LuaFn(c) => c
            .get()
            .upvals()
            .get(i)
            .map(|cell| hotlua_vm::patch::upvalue_id(cell.get())),
        Value::NativeFn(_) => vm.upvalue_id(f, n as usize).map(Value::LightUserData),
        _ => None,
    })
}

fn upvalueid(vm: &mut Vm, args: Args) -> R {
    let id = upval_id(vm, args, 0, 1)?;
    vm.push(id.unwrap_or(Value::Nil))?;
    Ok(1)
}

fn upvaluejoin(vm: &mut Vm, args: Args) -> R {
    if upval_id(vm, args, 0, 1)?.is_none() {
        return Err(vm.arg_error(1, "invalid upvalue index"));
    }
    if upval_id(vm, args, 2, 3)?.is_none() {
        return Err(vm.arg_error(3, "invalid upvalue index"));
    }
    let (Value::LuaFn(f1), n1) = (vm.arg(args, 0), vm.check_int(args, 1)?) else {
        return Err(vm.arg_error(0, "Lua function expected"));
    };
    let (Value::LuaFn(f2), n2) = (vm.arg(args, 2), vm.check_int(args, 3)?) else {
        return Err(vm.arg_error(2, "Lua function expected"));
    };
    hotlua_vm::patch::upvalue_join(f1, (n1 - 1) as usize, f2, (n2 - 1) as usize);
    Ok(0)
}

fn traceback(vm: &mut Vm, args: Args) -> R {
    let (th, a) = get_thread(vm, args);
    let msg = vm.arg(args, a);
    let m = match msg {
        Value::Nil => None,
        Value::Str(_) | Value::Int(_) | Value::Float(_) => {
            Some(String::from_utf8_lossy(&vm.tostring_basic(msg)).into_owned())
        }
        _ => {
            vm.push(msg)?;
            return Ok(1);
        }
    };
    let default = if th == vm.cur { 1 } else { 0 };
    let level = vm.opt_int(args, a + 1, default)?.max(0) as usize;
    let s = if th == vm.cur {
        vm.traceback(m.as_deref(), level)
    } else {
        vm.traceback_of(th, m.as_deref(), level)
    };
    let v = vm.str_value(s);
    vm.push(v)?;
    Ok(1)
}

fn getmetatable(vm: &mut Vm, args: Args) -> R {
    let v = vm.check_any(args, 0)?;
    let mt = vm.metatable(v).map_or(Value::Nil, Value::Table);
    vm.push(mt)?;
    Ok(1)
}

fn setmetatable(vm: &mut Vm, args: Args) -> R {
    let v = vm.arg(args, 0);
    let mt = match vm.arg(args, 1) {
        Value::Nil => None,
        Value::Table(t) => Some(t),
        _ => return Err(vm.type_error_arg(args, 1, "nil or table")),
    };
    vm.set_metatable(v, mt);
    vm.push(v)?;
    Ok(1)
}

fn getregistry(vm: &mut Vm, _args: Args) -> R {
    let r = vm.registry();
    vm.push(Value::Table(r))?;
    Ok(1)
}

fn sethook(vm: &mut Vm, args: Args) -> R {
    let (th, a) = get_thread(vm, args);
    if vm.arg(args, a).is_nil() {
        vm.set_debug_hook(th, Value::Nil, 0, 0);
        return Ok(0);
    }
    let smask = vm.check_str(args, a + 1)?.get().as_bytes().to_vec();
    let f = check_function(vm, args, a)?;
    let count = vm.opt_int(args, a + 2, 0)?;
    let mut mask = 0;
    if smask.contains(&b'c') {
        mask |= MASK_CALL;
    }
    if smask.contains(&b'r') {
        mask |= MASK_RET;
    }
    if smask.contains(&b'l') {
        mask |= MASK_LINE;
    }
    let count = count.clamp(0, i32::MAX as i64) as u32;
    if count > 0 {
        mask |= MASK_COUNT;
    }
    vm.set_debug_hook(th, f, mask, count);
    Ok(0)
}

fn gethook(vm: &mut Vm, args: Args) -> R {
    let (th, _) = get_thread(vm, args);
    let Some((f, mask, count)) = vm.debug_hook(th) else {
        vm.push(Value::Nil)?;
        return Ok(1);
    };
    vm.push(f)?;
    let mut s = String::new();
    if mask & MASK_CALL != 0 {
        s.push('c');
    }
    if mask & MASK_RET != 0 {
        s.push('r');
    }
    if mask & MASK_LINE != 0 {
        s.push('l');
    }
    let sv = vm.str_value(s);
    vm.push(sv)?;
    vm.push(Value::Int(count as i64))?;
    Ok(3)
}

fn getuservalue(vm: &mut Vm, args: Args) -> R {
    let n = vm.opt_int(args, 1, 1)?;
    let Value::UserData(u) = vm.arg(args, 0) else {
        vm.push(Value::Nil)?;
        return Ok(1);
    };
    let uv = &u.get().user_values;
    if n >= 1 && (n as usize) <= uv.len() {
        let v = uv[n as usize - 1];
        vm.push(v)?;
        vm.push(Value::Bool(true))?;
        return Ok(2);
    }
    vm.push(Value::Nil)?;
    Ok(1)
}

fn setuservalue(vm: &mut Vm, args: Args) -> R {
    let n = vm.opt_int(args, 2, 1)?;
    let Value::UserData(u) = vm.arg(args, 0) else {
        return Err(vm.type_error_arg(args, 0, "userdata"));
    };
    let v = vm.check_any(args, 1)?;
    let uv = &mut u.get_mut().user_values;
    if n >= 1 && (n as usize) <= uv.len() {
        uv[n as usize - 1] = v;
        vm.push(Value::UserData(u))?;
    } else {
        vm.push(Value::Nil)?;
    }
    Ok(1)
}

//! The base library (`print`, `pcall`, `error`, `setmetatable`, ...). `pcall`, `xpcall`,
//! `type` and `next` are made as tagged built-ins (`Vm::new_builtin`), which the
//! interpreter runs specially. Argument errors go through the VM's argument helpers so they
//! read as Lua's.

use hotlua_vm::api::Args;
use hotlua_vm::meta::{Meta, Tm};
use hotlua_vm::{LuaError, Value, Vm};

type R = Result<usize, LuaError>;

/// Registers the base functions in the globals of `vm`.
pub fn open_base(vm: &mut Vm) {
    let fns: &[(&str, hotlua_vm::api::NativeFn)] = &[
        ("print", print),
        ("tostring", tostring),
        ("tonumber", tonumber),
        ("pairs", pairs),
        ("ipairs", ipairs),
        ("select", select),
        ("rawget", rawget),
        ("rawset", rawset),
        ("rawequal", rawequal),
        ("rawlen", rawlen),
        ("setmetatable", setmetatable),
        ("getmetatable", getmetatable),
        ("assert", assert),
        ("error", error),
        ("collectgarbage", collectgarbage),
        ("load", load),
        ("warn", warn),
    ];
    for (name, f) in fns {
        vm.register(name, *f);
    }
    // The built-ins the interpreter runs specially are closures tagged with what they are.
    use hotlua_vm::function::Builtin;
    for (b, name, f) in [
        (Builtin::Pcall, "pcall", pcall as hotlua_vm::api::NativeFn),
        (Builtin::Xpcall, "xpcall", xpcall),
        (Builtin::Type, "type", type_),
        (Builtin::Next, "next", next),
    ] {
        let v = vm.new_builtin(b, f, name);
        vm.set_global(name, v);
    }
    let v = vm.str_value("Lua 5.4");
    vm.set_global("_VERSION", v);
}

fn print(vm: &mut Vm, args: Args) -> R {
    let mut out: Vec<u8> = Vec::new();
    for i in 0..args.len() {
        if i > 0 {
            out.push(b'\t');
        }
        let v = vm.arg(args, i);
        match v {
            Value::Str(s) => out.extend_from_slice(s.get().as_bytes()),
            Value::Int(_) | Value::Float(_) | Value::Nil | Value::Bool(_) => {
                out.extend_from_slice(&vm.tostring_basic(v))
            }
            _ => match vm.tostring_meta(v)? {
                Value::Str(s) => out.extend_from_slice(s.get().as_bytes()),
                _ => return Err(vm.rt_error("'__tostring' must return a string")),
            },
        }
    }
    out.push(b'\n');
    vm.write_output(&out);
    Ok(0)
}

pub fn type_(vm: &mut Vm, args: Args) -> R {
    let v = vm.check_any(args, 0)?;
    let s = vm.type_name_str(v);
    vm.push(Value::Str(s))?;
    Ok(1)
}

fn tostring(vm: &mut Vm, args: Args) -> R {
    let v = vm.check_any(args, 0)?;
    let s = vm.tostring_meta(v)?;
    vm.push(s)?;
    Ok(1)
}

fn tonumber(vm: &mut Vm, args: Args) -> R {
    let base = vm.arg(args, 1);
    if base.is_nil() {
        let v = vm.check_any(args, 0)?;
        let r = vm.to_number(v).unwrap_or(Value::Nil);
        vm.push(r)?;
        return Ok(1);
    }
    let b = vm.check_int(args, 1)?;
    let s = match vm.arg(args, 0) {
        Value::Str(s) => s,
        _ => return Err(vm.type_error_arg(args, 0, "string")),
    };
    if !(2..=36).contains(&b) {
        return Err(vm.arg_error(1, "base out of range"));
    }
    let r = parse_int_base(s.get().as_bytes(), b as u32).map_or(Value::Nil, Value::Int);
    vm.push(r)?;
    Ok(1)
}

/// `tonumber(s, base)`: optional spaces and a sign, digits of the base, optional spaces.
fn parse_int_base(s: &[u8], base: u32) -> Option<i64> {
    let s = trim_ascii(s);
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(36)?;
        if d >= base {
            return None;
        }
        n = n.wrapping_mul(base as i64).wrapping_add(d as i64);
    }
    Some(if neg { n.wrapping_neg() } else { n })
}

fn trim_ascii(s: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c');
    let start = s.iter().position(|c| !ws(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    &s[start..end]
}

pub fn next(vm: &mut Vm, args: Args) -> R {
    let t = vm.check_table(args, 0)?;
    let k = vm.arg(args, 1);
    match t.get().next(k) {
        Ok(Some((k, v))) => {
            vm.push(k)?;
            vm.push(v)?;
            Ok(2)
        }
        Ok(None) => {
            vm.push(Value::Nil)?;
            Ok(1)
        }
        Err(()) => Err(LuaError::new(vm.str_value("invalid key to 'next'"))),
    }
}

fn pairs(vm: &mut Vm, args: Args) -> R {
    let v = vm.check_any(args, 0)?;
    let mm = vm.get_tm(v, Tm::Pairs);
    if !mm.is_nil() {
        // `__pairs(t)` runs as a call of pairs's caller: it may yield.
        return vm.tail_call(mm, &[v]);
    }
    if !matches!(v, Value::Table(_)) {
        return Err(vm.type_error_arg(args, 0, "table"));
    }
    let next_fn = vm.builtin(hotlua_vm::function::Builtin::Next);
    vm.push(next_fn)?;
    vm.push(v)?;
    vm.push(Value::Nil)?;
    Ok(3)
}

fn ipairs_aux(vm: &mut Vm, args: Args) -> R {
    let t = vm.arg(args, 0);
    let i = vm.check_int(args, 1)?.wrapping_add(1);
    let v = match t {
        Value::Table(tg) if tg.get().metatable.is_none() => tg.get().get_int(i),
        _ => match vm.index_slow(t, Value::Int(i), hotlua_vm::debuginfo::Operand::None, false)? {
            Meta::Done(v) => v,
            Meta::Pushed => Value::Nil,
        },
    };
    if v.is_nil() {
        vm.push(Value::Nil)?;
        return Ok(1);
    }
    vm.push(Value::Int(i))?;
    vm.push(v)?;
    Ok(2)
}

fn ipairs(vm: &mut Vm, args: Args) -> R {
    let v = vm.check_any(args, 0)?;
    vm.push(Value::LightFn(ipairs_aux))?;
    vm.push(v)?;
    vm.push(Value::Int(0))?;
    Ok(3)
}

fn select(vm: &mut Vm, args: Args) -> R {
    let n = args.len() as i64;
    if let Value::Str(s) = vm.arg(args, 0) {
        if s.get().as_bytes() == b"#" {
            vm.push(Value::Int(n - 1))?;
            return Ok(1);
        }
    }
    let i = vm.check_int(args, 0)?;
    let i = if i < 0 {
        n + i
    } else if i > n {
        n
    } else {
        i
    };
    if i < 1 {
        return Err(vm.arg_error(0, "index out of range"));
    }
    // Results are the arguments from i on: already on the stack, below the top.
    Ok((n - i) as usize)
}

fn rawget(vm: &mut Vm, args: Args) -> R {
    let t = vm.check_table(args, 0)?;
    let k = vm.check_any(args, 1)?;
    let v = t.get().get(k);
    vm.push(v)?;
    Ok(1)
}

fn rawset(vm: &mut Vm, args: Args) -> R {
    let t = vm.check_table(args, 0)?;
    let k = vm.check_any(args, 1)?;
    let v = vm.check_any(args, 2)?;
    vm.raw_set(t, k, v)?;
    vm.push(Value::Table(t))?;
    Ok(1)
}

fn rawequal(vm: &mut Vm, args: Args) -> R {
    let a = vm.check_any(args, 0)?;
    let b = vm.check_any(args, 1)?;
    vm.push(Value::Bool(a.raw_eq(&b)))?;
    Ok(1)
}

fn rawlen(vm: &mut Vm, args: Args) -> R {
    let n = match vm.arg(args, 0) {
        Value::Table(t) => t.get().len(),
        Value::Str(s) => s.get().len() as i64,
        _ => return Err(vm.type_error_arg(args, 0, "table or string")),
    };
    vm.push(Value::Int(n))?;
    Ok(1)
}

fn setmetatable(vm: &mut Vm, args: Args) -> R {
    let t = vm.check_table(args, 0)?;
    let mt = match vm.arg(args, 1) {
        Value::Nil if args.len() >= 2 => None,
        Value::Table(m) => Some(m),
        _ => return Err(vm.type_error_arg(args, 1, "nil or table")),
    };
    if let Some(old) = t.get().metatable {
        if !vm.tm_of_mt(old, Tm::Metatable).is_nil() {
            return Err(vm.rt_error("cannot change a protected metatable"));
        }
    }
    t.get_mut().metatable = mt;
    if let Some(m) = mt {
        if !vm.tm_of_mt(m, Tm::Gc).is_nil() {
            vm.heap.register_finalizer(Value::Table(t));
        }
    }
    vm.push(Value::Table(t))?;
    Ok(1)
}

fn getmetatable(vm: &mut Vm, args: Args) -> R {
    let v = vm.check_any(args, 0)?;
    let r = match vm.metatable(v) {
        None => Value::Nil,
        Some(mt) => {
            let p = vm.tm_of_mt(mt, Tm::Metatable);
            if p.is_nil() {
                Value::Table(mt)
            } else {
                p
            }
        }
    };
    vm.push(r)?;
    Ok(1)
}

fn assert(vm: &mut Vm, args: Args) -> R {
    let v = vm.check_any(args, 0)?;
    if v.is_truthy() {
        return Ok(args.len());
    }
    if args.len() >= 2 {
        return Err(LuaError::new(vm.arg(args, 1)));
    }
    Err(vm.rt_error("assertion failed!"))
}

fn error(vm: &mut Vm, args: Args) -> R {
    let v = vm.arg(args, 0);
    let level = vm.opt_int(args, 1, 1)?;
    if let (Value::Str(s), true) = (v, level > 0) {
        let pos = vm.where_(level as usize);
        if !pos.is_empty() {
            let mut b = pos.into_bytes();
            b.extend_from_slice(s.get().as_bytes());
            return Err(LuaError::new(vm.str_value(b)));
        }
    }
    Err(LuaError::new(v))
}

/// `pcall` when called from Rust (the interpreter handles calls from Lua itself).
pub fn pcall(vm: &mut Vm, args: Args) -> R {
    let f = vm.check_any(args, 0)?;
    let rest: Vec<Value> = (1..args.len()).map(|i| vm.arg(args, i)).collect();
    match vm.pcall_value(f, &rest, None) {
        Ok(res) => {
            vm.push(Value::Bool(true))?;
            for v in &res {
                vm.push(*v)?;
            }
            Ok(res.len() + 1)
        }
        Err(e) => {
            vm.push(Value::Bool(false))?;
            vm.push(e.value)?;
            Ok(2)
        }
    }
}

/// `xpcall` when called from Rust.
pub fn xpcall(vm: &mut Vm, args: Args) -> R {
    let f = vm.arg(args, 0);
    let h = vm.arg(args, 1);
    if !h.is_function() {
        return Err(vm.type_error_arg(args, 1, "function"));
    }
    let rest: Vec<Value> = (2..args.len()).map(|i| vm.arg(args, i)).collect();
    match vm.pcall_value(f, &rest, Some(h)) {
        Ok(res) => {
            vm.push(Value::Bool(true))?;
            for v in &res {
                vm.push(*v)?;
            }
            Ok(res.len() + 1)
        }
        Err(e) => {
            vm.push(Value::Bool(false))?;
            vm.push(e.value)?;
            Ok(2)
        }
    }
}

fn collectgarbage(vm: &mut Vm, args: Args) -> R {
    let opt = match vm.opt_str(args, 0)? {
        Some(s) => s.get().to_str_lossy().into_owned(),
        None => "collect".to_string(),
    };
    const OPTIONS: [&str; 10] = [
        "collect",
        "count",
        "step",
        "stop",
        "restart",
        "isrunning",
        "incremental",
        "generational",
        "setpause",
        "setstepmul",
    ];
    if vm.running_finalizers() && OPTIONS.contains(&opt.as_str()) {
        // Inside a finalizer the collector is stopped: every option answers fail.
        vm.push(Value::Nil)?;
        return Ok(1);
    }
    let r = match opt.as_str() {
        "collect" => {
            vm.full_gc();
            Value::Int(0)
        }
        "count" => Value::Float(vm.heap.total_bytes() as f64 / 1024.0),
        "step" => {
            vm.full_gc();
            Value::Bool(true)
        }
        "stop" => {
            vm.heap.set_running(false);
            Value::Int(0)
        }
        "restart" => {
            vm.heap.set_running(true);
            Value::Int(0)
        }
        "isrunning" => Value::Bool(vm.heap.is_running()),
        "incremental" | "generational" => {
            let prev = std::mem::replace(
                &mut vm.gc_mode,
                if opt == "incremental" {
                    "incremental"
                } else {
                    "generational"
                },
            );
            vm.str_value(prev)
        }
        "setpause" => {
            let p = vm.opt_int(args, 1, 200)?;
            Value::Int(vm.heap.set_pause(p.clamp(0, u32::MAX as i64) as u32) as i64)
        }
        "setstepmul" => {
            let p = vm.opt_int(args, 1, 100)?;
            Value::Int(vm.heap.set_stepmul(p.clamp(0, u32::MAX as i64) as u32) as i64)
        }
        _ => return Err(vm.arg_error(0, &format!("invalid option '{}'", opt))),
    };
    vm.push(r)?;
    Ok(1)
}

fn load(vm: &mut Vm, args: Args) -> R {
    let chunk = vm.arg(args, 0);
    let (source, default_name): (Vec<u8>, Vec<u8>) = match chunk {
        Value::Str(s) => (s.get().as_bytes().to_vec(), s.get().as_bytes().to_vec()),
        v if v.is_function() => {
            let mut buf = Vec::new();
            loop {
                // An error in the reader is load's failure (Lua runs the reader inside its
                // protected parser).
                let r = match vm.pcall_value(v, &[], None) {
                    Ok(r) => r,
                    Err(e) => {
                        vm.push(Value::Nil)?;
                        vm.push(e.value)?;
                        return Ok(2);
                    }
                };
                match r.first().copied().unwrap_or(Value::Nil) {
                    Value::Nil => break,
                    Value::Str(s) if s.get().is_empty() => break,
                    Value::Str(s) => buf.extend_from_slice(s.get().as_bytes()),
                    _ => {
                        vm.push(Value::Nil)?;
                        // `luaL_error` in Lua's reader: positioned at load's caller.
                        let pos = vm.where_(1);
                        let m =
                            vm.str_value(format!("{}reader function must return a string", pos));
                        vm.push(m)?;
                        return Ok(2);
                    }
                }
            }
            (buf, b"=(load)".to_vec())
        }
        _ => return Err(vm.type_error_arg(args, 0, "string")),
    };
    let name = match vm.opt_str(args, 1)? {
        Some(s) => s.get().as_bytes().to_vec(),
        None => default_name,
    };
    let mode = match vm.opt_str(args, 2)? {
        Some(s) => s.get().to_str_lossy().into_owned(),
        None => "bt".to_string(),
    };
    let name = String::from_utf8_lossy(&name).into_owned();
    // `mode` says which kinds of chunk may load: 'b' binary (string.dump's), 't' text.
    let (kind, letter) = if source.first() == Some(&hotlua_vm::dump::SIGNATURE[0]) {
        ("binary", 'b')
    } else {
        ("text", 't')
    };
    if !mode.contains(letter) {
        vm.push(Value::Nil)?;
        let m = vm.str_value(format!(
            "attempt to load a {} chunk (mode is '{}')",
            kind, mode
        ));
        vm.push(m)?;
        return Ok(2);
    }
    let env = if args.len() >= 4 {
        Some(vm.arg(args, 3))
    } else {
        None
    };
    match vm.load(&source, &name, env) {
        Ok(f) => {
            vm.push(f)?;
            Ok(1)
        }
        Err(e) => {
            vm.push(Value::Nil)?;
            vm.push(e.value)?;
            Ok(2)
        }
    }
}

fn warn(vm: &mut Vm, args: Args) -> R {
    let n = args.len();
    if n == 0 {
        return Err(vm.type_error_arg(args, 0, "string"));
    }
    let mut parts = Vec::new();
    for i in 0..n {
        parts.push(vm.check_str(args, i)?.get().to_str_lossy().into_owned());
    }
    let last = parts.len() - 1;
    for (i, p) in parts.iter().enumerate() {
        vm.warn(p, i < last);
    }
    Ok(0)
}

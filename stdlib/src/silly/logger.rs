//! `silly.logger`: leveled log lines on stdout.
//!
//! One line per call: `YYYY-MM-DD HH:MM:SS L file:line args`, where `L` is `D`, `I`, `W` or
//! `E` and `file:line` is the caller's position. Values are separated by spaces; tables are
//! printed as `{v1, v2, k=v}` (the sequence first, then the other keys sorted) down to
//! [`MAX_DEPTH`] levels. Every line is flushed as it is written, so no line is lost when the
//! process exits, is killed or dies of an error. The level is checked before anything is
//! formatted, so a message below it costs one comparison.
//!
//! The level is process-wide: a server runs one VM, and a level set from the console should
//! hold for every module.

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use crate::open::set_field;

pub const DEBUG: i64 = 0;
pub const INFO: i64 = 1;
pub const WARN: i64 = 2;
pub const ERROR: i64 = 3;

/// How deep nested tables are printed before `{...}`.
pub const MAX_DEPTH: usize = 3;
/// How many entries of one table are printed before `...`.
const MAX_ENTRIES: usize = 64;

/// The state's log level (an extension slot: each Vm has its own).
struct Level(i64);

impl hotlua_vm::ext::Extension for Level {
    hotlua_vm::extension_any!();
}

/// Builds the `silly.logger` module table.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let m = vm.new_table();
    for (name, level) in [
        ("DEBUG", DEBUG),
        ("INFO", INFO),
        ("WARN", WARN),
        ("ERROR", ERROR),
    ] {
        set_field(vm, m, name, Value::Int(level));
    }
    let funcs: &[(&str, hotlua_vm::NativeFn)] = &[
        ("getlevel", getlevel),
        ("setlevel", setlevel),
        ("debug", |vm, a| log(vm, a, DEBUG, false)),
        ("info", |vm, a| log(vm, a, INFO, false)),
        ("warn", |vm, a| log(vm, a, WARN, false)),
        ("error", |vm, a| log(vm, a, ERROR, false)),
        ("debugf", |vm, a| log(vm, a, DEBUG, true)),
        ("infof", |vm, a| log(vm, a, INFO, true)),
        ("warnf", |vm, a| log(vm, a, WARN, true)),
        ("errorf", |vm, a| log(vm, a, ERROR, true)),
    ];
    for &(name, f) in funcs {
        set_field(vm, m, name, Value::LightFn(f));
    }
    m
}

/// The current level.
pub fn level(vm: &Vm) -> i64 {
    vm.ext::<Level>().map_or(INFO, |l| l.0)
}

/// Sets the level (one of [`DEBUG`], [`INFO`], [`WARN`], [`ERROR`]).
pub fn set_level(vm: &mut Vm, l: i64) {
    vm.set_ext(Level(l));
}

fn getlevel(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    vm.push(Value::Int(level(vm)))?;
    Ok(1)
}

fn setlevel(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let l = vm.check_int(args, 0)?;
    if !(DEBUG..=ERROR).contains(&l) {
        return Err(vm.arg_error(0, "invalid log level"));
    }
    set_level(vm, l);
    Ok(0)
}

fn log(vm: &mut Vm, args: Args, lvl: i64, formatted: bool) -> Result<usize, LuaError> {
    if lvl < level(vm) {
        return Ok(0);
    }
    let mut line = Vec::with_capacity(128);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    match crate::strftime::localtime(now)
        .map(|tm| crate::strftime::strftime(b"%Y-%m-%d %H:%M:%S", &tm))
    {
        Some(Ok(s)) => line.extend_from_slice(&s),
        _ => line.extend_from_slice(b"0000-00-00 00:00:00"),
    }
    line.extend_from_slice(match lvl {
        DEBUG => b" D ",
        INFO => b" I ",
        WARN => b" W ",
        _ => b" E ",
    });
    let at = vm.where_(1);
    line.extend_from_slice(at.trim_end_matches(": ").trim_end_matches(':').as_bytes());
    if formatted {
        let string = vm.get_global("string");
        let key = vm.str_value("format");
        let format = vm.index(string, key)?;
        let all: Vec<Value> = (0..args.len()).map(|i| vm.arg(args, i)).collect();
        let r = vm.call(format, &all)?;
        line.push(b' ');
        if let Some(Value::Str(s)) = r.first() {
            line.extend_from_slice(s.get().as_bytes());
        }
    } else {
        for i in 0..args.len() {
            line.push(b' ');
            let v = vm.arg(args, i);
            write_value(vm, v, 0, &mut line)?;
        }
    }
    line.push(b'\n');
    vm.write_output(&line);
    Ok(0)
}

/// Appends the log form of `v`: strings raw, tables expanded, others as `tostring`.
fn write_value(vm: &mut Vm, v: Value, depth: usize, out: &mut Vec<u8>) -> Result<(), LuaError> {
    let Value::Table(t) = v else {
        match vm.tostring_meta(v)? {
            Value::Str(s) => out.extend_from_slice(s.get().as_bytes()),
            other => out.extend_from_slice(&vm.tostring_basic(other)),
        }
        return Ok(());
    };
    if vm
        .metatable(v)
        .is_some_and(|mt| !crate::open::get_field(vm, mt, "__tostring").is_nil())
    {
        if let Value::Str(s) = vm.tostring_meta(v)? {
            out.extend_from_slice(s.get().as_bytes());
        }
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        out.extend_from_slice(b"{...}");
        return Ok(());
    }
    // The sequence 1..n first, in order; then the other keys sorted by their printed form.
    let mut seq = Vec::new();
    while seq.len() < MAX_ENTRIES {
        let v = t.get().get_int(seq.len() as i64 + 1);
        if v.is_nil() {
            break;
        }
        seq.push(v);
    }
    let mut rest = Vec::new();
    let mut pos = 0;
    while let Some((i, k, val)) = t.get().entry_from(pos) {
        pos = i + 1;
        let in_seq = matches!(k, Value::Int(n) if n >= 1 && (n as usize) <= seq.len());
        if !in_seq {
            let mut key = Vec::new();
            match k {
                Value::Str(s) => key.extend_from_slice(s.get().as_bytes()),
                Value::Table(_) => key.extend_from_slice(b"{table}"),
                _ => key.extend_from_slice(&vm.tostring_basic(k)),
            }
            rest.push((key, val));
        }
    }
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    // Formatting an entry may run Lua code (`__tostring`), which may remove the entries
    // still waiting from the table and collect: they stay on the stack, rooted, until the
    // logging native returns.
    for v in seq.iter().chain(rest.iter().map(|(_, v)| v)) {
        vm.push(*v)?;
    }
    out.push(b'{');
    let mut n = 0;
    for val in seq {
        if n > 0 {
            out.extend_from_slice(b", ");
        }
        write_value(vm, val, depth + 1, out)?;
        n += 1;
    }
    for (key, val) in rest {
        if n > 0 {
            out.extend_from_slice(b", ");
        }
        if n >= MAX_ENTRIES {
            out.extend_from_slice(b"...");
            break;
        }
        out.extend_from_slice(&key);
        out.push(b'=');
        write_value(vm, val, depth + 1, out)?;
        n += 1;
    }
    out.push(b'}');
    Ok(())
}

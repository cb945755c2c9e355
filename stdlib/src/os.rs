//! Lua 5.4's `os` library.
//!
//! Invariant: time conversions go through the C library (via [`crate::strftime`]'s
//! `localtime`/`gmtime`/`mktime`), so `os.date` and `os.time` agree with lua5.4 in every
//! timezone; file operations report failures as `nil, message, errno` as `luaL_fileresult`.

use std::ffi::CString;
use std::io;

use hotlua_vm::api::Args;
use hotlua_vm::error::LuaError;
use hotlua_vm::{Value, Vm};

use crate::io::{flush_all, push_fail};
use crate::open::new_lib;
use crate::strftime::{self, DateResult, Tm};
use crate::string::LibError;

fn os_clock(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    // C's clock() on glibc is the process CPU time, with microsecond resolution.
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, exclusively borrowed timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    let micros = ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000;
    vm.push(Value::Float(micros as f64 / 1e6))?;
    Ok(1)
}

fn now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

fn lib_error(vm: &mut Vm, e: LibError) -> LuaError {
    match e {
        LibError::Arg(n, m) => vm.arg_error(n.saturating_sub(1), &m),
        LibError::Msg(m) => vm.rt_error(&m),
    }
}

/// Stores the broken-down time `tm` into table `t` as `os.date("*t")` fields (lua's
/// `setallfields`).
fn set_all_fields(vm: &mut Vm, t: Value, tm: &Tm) -> Result<(), LuaError> {
    let fields: [(&str, i64); 8] = [
        ("year", tm.year as i64 + 1900),
        ("month", tm.mon as i64 + 1),
        ("day", tm.mday as i64),
        ("hour", tm.hour as i64),
        ("min", tm.min as i64),
        ("sec", tm.sec as i64),
        ("yday", tm.yday as i64 + 1),
        ("wday", tm.wday as i64 + 1),
    ];
    for (k, v) in fields {
        let key = vm.str_value(k);
        vm.set_index(t, key, Value::Int(v))?;
    }
    if tm.isdst >= 0 {
        let key = vm.str_value("isdst");
        vm.set_index(t, key, Value::Bool(tm.isdst > 0))?;
    }
    Ok(())
}

fn os_date(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let fmt = match vm.opt_str(args, 0)? {
        Some(s) => s.get().as_bytes().to_vec(),
        None => b"%c".to_vec(),
    };
    let t = if vm.arg(args, 1).is_nil() {
        now()
    } else {
        vm.check_int(args, 1)?
    };
    match strftime::os_date(&fmt, t) {
        Ok(DateResult::Text(b)) => {
            let s = vm.str_value(b);
            vm.push(s)?;
        }
        Ok(DateResult::Table(tm)) => {
            let t = vm.new_table();
            vm.push(Value::Table(t))?;
            set_all_fields(vm, Value::Table(t), &tm)?;
        }
        Err(e) => return Err(lib_error(vm, e)),
    }
    Ok(1)
}

/// lua's `getfield` for `os.time`: an integer field minus `delta`, `d` when absent (or
/// an error when there is no default).
fn get_field_int(vm: &mut Vm, t: Value, key: &str, d: i64, delta: i64) -> Result<i32, LuaError> {
    let k = vm.str_value(key);
    let v = vm.index(t, k)?;
    let n = match vm.to_number(v) {
        Some(Value::Int(i)) => Some(i),
        Some(Value::Float(f)) => hotlua_vm::value::float_to_int(f),
        _ => None,
    };
    let res = match n {
        None => {
            if !v.is_nil() {
                return Err(vm.rt_error(&format!("field '{}' is not an integer", key)));
            }
            if d < 0 {
                return Err(vm.rt_error(&format!("field '{}' missing in date table", key)));
            }
            d
        }
        Some(r) => {
            let ok = if r >= 0 {
                r - delta <= i32::MAX as i64
            } else {
                i32::MIN as i64 + delta <= r
            };
            if !ok {
                return Err(vm.rt_error(&format!("field '{}' is out-of-bound", key)));
            }
            r - delta
        }
    };
    Ok(res as i32)
}

fn os_time(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let a = vm.arg(args, 0);
    if a.is_nil() {
        vm.push(Value::Int(now()))?;
        return Ok(1);
    }
    let t = Value::Table(vm.check_table(args, 0)?);
    let mut tm = Tm {
        year: get_field_int(vm, t, "year", -1, 1900)?,
        mon: get_field_int(vm, t, "month", -1, 1)?,
        mday: get_field_int(vm, t, "day", -1, 0)?,
        hour: get_field_int(vm, t, "hour", 12, 0)?,
        min: get_field_int(vm, t, "min", 0, 0)?,
        sec: get_field_int(vm, t, "sec", 0, 0)?,
        ..Tm::default()
    };
    let k = vm.str_value("isdst");
    let dst = vm.index(t, k)?;
    tm.isdst = if dst.is_nil() {
        -1
    } else {
        dst.is_truthy() as i32
    };
    match strftime::mktime(&tm) {
        Some((secs, norm)) => {
            set_all_fields(vm, t, &norm)?;
            vm.push(Value::Int(secs))?;
            Ok(1)
        }
        None => Err(vm.rt_error("time result cannot be represented in this installation")),
    }
}

fn os_difftime(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let t1 = vm.check_int(args, 0)?;
    let t2 = vm.check_int(args, 1)?;
    vm.push(Value::Float(t1 as f64 - t2 as f64))?;
    Ok(1)
}

fn os_exit(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let status = match vm.arg(args, 0) {
        Value::Bool(b) => {
            if b {
                0
            } else {
                1
            }
        }
        _ => vm.opt_int(args, 0, 0)? as i32,
    };
    if vm.arg(args, 1).is_truthy() {
        vm.close();
    }
    flush_all(vm);
    std::process::exit(status);
}

fn os_getenv(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let name = vm.check_str(args, 0)?;
    let v = match std::env::var_os(std::ffi::OsStr::from_bytes(name.get().as_bytes())) {
        Some(v) => vm.str_value(v.into_vec()),
        None => Value::Nil,
    };
    vm.push(v)?;
    Ok(1)
}

/// A C string from Lua bytes (a name with an embedded NUL cannot exist: ENOENT-like).
fn cstring(b: &[u8]) -> io::Result<CString> {
    CString::new(b).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn os_remove(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = vm.check_str(args, 0)?.get().as_bytes().to_vec();
    let r = cstring(&name).and_then(|c| {
        // SAFETY: `c` is a valid NUL-terminated path.
        if unsafe { libc::remove(c.as_ptr()) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    });
    match r {
        Ok(()) => {
            vm.push(Value::Bool(true))?;
            Ok(1)
        }
        Err(e) => push_fail(vm, &e, Some(&name)),
    }
}

fn os_rename(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let from = vm.check_str(args, 0)?.get().as_bytes().to_vec();
    let to = vm.check_str(args, 1)?.get().as_bytes().to_vec();
    let r = cstring(&from).and_then(|a| {
        let b = cstring(&to)?;
        // SAFETY: both are valid NUL-terminated paths.
        if unsafe { libc::rename(a.as_ptr(), b.as_ptr()) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    });
    match r {
        Ok(()) => {
            vm.push(Value::Bool(true))?;
            Ok(1)
        }
        Err(e) => push_fail(vm, &e, None),
    }
}

fn os_tmpname(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let mut tmpl = *b"/tmp/lua_XXXXXX\0";
    // SAFETY: `tmpl` is a writable NUL-terminated template as mkstemp requires.
    let fd = unsafe { libc::mkstemp(tmpl.as_mut_ptr() as *mut libc::c_char) };
    if fd == -1 {
        return Err(vm.rt_error("unable to generate a unique filename"));
    }
    // SAFETY: `fd` was just opened by mkstemp and is owned here.
    unsafe { libc::close(fd) };
    let name = vm.str_value(&tmpl[..tmpl.len() - 1]);
    vm.push(name)?;
    Ok(1)
}

fn os_execute(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    use std::os::unix::ffi::OsStrExt;
    let Some(cmd) = vm.opt_str(args, 0)? else {
        vm.push(Value::Bool(true))?;
        return Ok(1);
    };
    flush_all(vm);
    let st = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(std::ffi::OsStr::from_bytes(cmd.get().as_bytes()))
        .status();
    match st {
        Ok(st) => push_exec_status(vm, st),
        Err(e) => push_fail(vm, &e, None),
    }
}

/// The results of `os.execute` and of closing an `io.popen` file (`luaL_execresult`):
/// `true|nil, "exit"|"signal", code`.
pub(crate) fn push_exec_status(
    vm: &mut Vm,
    st: std::process::ExitStatus,
) -> Result<usize, LuaError> {
    use std::os::unix::process::ExitStatusExt;
    let (what, code) = match (st.code(), st.signal()) {
        (Some(c), _) => ("exit", c as i64),
        (None, Some(s)) => ("signal", s as i64),
        _ => ("exit", 0),
    };
    vm.push(if what == "exit" && code == 0 {
        Value::Bool(true)
    } else {
        Value::Nil
    })?;
    let w = vm.str_value(what);
    vm.push(w)?;
    vm.push(Value::Int(code))?;
    Ok(3)
}

/// Only the "C" locale exists here: queries answer "C", setting "C"/"POSIX"/"" succeeds.
fn os_setlocale(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let loc = vm.opt_str(args, 0)?;
    const CATS: [&str; 6] = ["all", "collate", "ctype", "monetary", "numeric", "time"];
    if !vm.arg(args, 1).is_nil() {
        let c = vm.check_str(args, 1)?;
        if !CATS.iter().any(|k| k.as_bytes() == c.get().as_bytes()) {
            let msg = format!("invalid option '{}'", c.get().to_str_lossy());
            return Err(vm.arg_error(1, &msg));
        }
    }
    let r = match loc {
        None => vm.str_value("C"),
        Some(l) if matches!(l.get().as_bytes(), b"" | b"C" | b"POSIX") => vm.str_value("C"),
        Some(_) => Value::Nil,
    };
    vm.push(r)?;
    Ok(1)
}

/// Installs the `os` library.
pub fn open(vm: &mut Vm) {
    new_lib(
        vm,
        "os",
        &[
            ("clock", os_clock),
            ("date", os_date),
            ("difftime", os_difftime),
            ("execute", os_execute),
            ("exit", os_exit),
            ("getenv", os_getenv),
            ("remove", os_remove),
            ("rename", os_rename),
            ("setlocale", os_setlocale),
            ("time", os_time),
            ("tmpname", os_tmpname),
        ],
    );
}

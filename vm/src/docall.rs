//! lua.c's protected call (`docall`): a function run above a native base frame (lua.c's
//! `pmain`, shown as `[C]: in ?` at the bottom of tracebacks) under lua.c's message handler
//! (the message, or `__tostring` of the error object, plus a traceback). The `hotlua`
//! program (`src/cli/` of the root package) runs its `-e`/`-l` chunks, `LUA_INIT` and the
//! REPL's lines through [`docall`]; the VM's script tests run chunks through
//! [`run_chunk_report`] to compare their output with lua5.4's.

use crate::api::Args;
use crate::error::LuaError;
use crate::gc::Gc;
use crate::meta::Tm;
use crate::state::Vm;
use crate::thread::{Thread, ThreadStatus};
use crate::value::Value;

/// Compiles and runs one chunk; an error comes back as the text `lua.c` would print after
/// its program name (the message and, for runtime errors, the traceback).
pub fn run_chunk_report(
    vm: &mut Vm,
    source: &[u8],
    chunk_name: &str,
    args: &[String],
) -> Result<(), String> {
    run_chunk_report_as(vm, source, chunk_name, args, false)
}

/// [`run_chunk_report`], compiling the chunk as a module when `module` (for tests that
/// check a module behaves as the same code run as a script).
pub fn run_chunk_report_as(
    vm: &mut Vm,
    source: &[u8],
    chunk_name: &str,
    args: &[String],
    module: bool,
) -> Result<(), String> {
    // lua.c puts the collector in generational mode.
    vm.gc_mode = "generational";
    let loaded = if module {
        vm.load_module(source, chunk_name, None)
    } else {
        vm.load(source, chunk_name, None)
    };
    let f = match loaded {
        Ok(f) => f,
        Err(e) => return Err(vm.to_display(e.value)),
    };
    let mut call_args = Vec::with_capacity(args.len());
    for a in args {
        call_args.push(vm.str_value(a));
    }
    docall(vm, f, &call_args).map(|_| ())
}

/// Calls `f(args)` as lua.c's `docall`: protected, under the message handler, above the
/// base frame; returns the results, or the handled error as the text `lua.c` prints after
/// its program name (for runtime errors, the message and a traceback).
pub fn docall(vm: &mut Vm, f: Value, args: &[Value]) -> Result<Vec<Value>, String> {
    let mut call_args = Vec::with_capacity(args.len() + 1);
    call_args.push(f);
    call_args.extend_from_slice(args);
    // lua.c's stack holds a few values below the chunk (its base frame, `pmain`, argc, argv
    // and the message handler); keeping the same room makes "stack overflow" happen at the
    // same depth.
    let saved_top = vm.cur.get().top;
    for _ in 0..LUA_C_SLOTS {
        let _ = vm.push(Value::Nil);
    }
    let r = match vm.call(Value::LightFn(pmain), &call_args) {
        Ok(mut res) => match res.first() {
            Some(Value::Bool(false)) => {
                Err(vm.to_display(res.get(1).copied().unwrap_or(Value::Nil)))
            }
            _ => {
                res.remove(0);
                Ok(res)
            }
        },
        Err(e) => Err(vm.to_display(e.value)),
    };
    vm.cur.get_mut().top = saved_top;
    r
}

/// Stack slots lua.c uses below a script's main chunk.
const LUA_C_SLOTS: usize = 4;

/// The bottom native frame (lua.c's `pmain`, shown as `[C]: in ?`): calls its first
/// argument with the others under the message handler, as lua.c's `docall`; returns
/// `true` and the results, or `false` and the handled error. Being a frame of its own, it stays on the stack
/// while pending `__close` handlers run after an error (so their tracebacks end in it).
fn pmain(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = vm.arg(args, 0);
    let rest: Vec<Value> = (1..args.len()).map(|i| vm.arg(args, i)).collect();
    match vm.pcall_value(f, &rest, Some(Value::LightFn(msghandler))) {
        Ok(res) => {
            vm.push(Value::Bool(true))?;
            for v in &res {
                vm.push(*v)?;
            }
            Ok(1 + res.len())
        }
        Err(e) => {
            vm.push(Value::Bool(false))?;
            vm.push(e.value)?;
            Ok(2)
        }
    }
}

/// lua.c's message handler applied to `err`, the error the thread `co` (dead, its frames
/// still in place) died with, as if it ran at the error point: what lua.c prints for an
/// error in a main chunk that ran as a coroutine (the silly runtime's main task). Code the
/// handler runs (`__tostring`) sees the dead thread's frames below it, as under lua.c.
pub fn handle_error_of(vm: &mut Vm, co: Gc<Thread>, err: Value) -> String {
    let th = co.get_mut();
    let (saved_status, saved_top, saved_frames) = (th.status, th.top, th.frames.len());
    th.status = ThreadStatus::Ok;
    let prev = vm.cur;
    vm.resumers.push(prev);
    vm.cur = co;
    let r = vm.pcall_value(Value::LightFn(msghandler), &[err], None);
    vm.cur = prev;
    vm.resumers.pop();
    let th = co.get_mut();
    th.frames.truncate(saved_frames);
    th.top = saved_top;
    th.status = saved_status;
    match r {
        Ok(v) => {
            let v = v.first().copied().unwrap_or(Value::Nil);
            vm.to_display(v)
        }
        Err(e) => vm.to_display(e.value),
    }
}

/// lua.c's message handler: the message (or `__tostring` of the error object) plus a
/// traceback.
fn msghandler(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let v = vm.arg(args, 0);
    let msg = match v {
        Value::Str(s) => s.get().to_str_lossy().into_owned(),
        Value::Int(_) | Value::Float(_) => {
            String::from_utf8_lossy(&vm.tostring_basic(v)).into_owned()
        }
        _ => {
            if !vm.get_tm(v, Tm::ToString).is_nil() {
                if let Ok(s @ Value::Str(_)) = vm.protect(|vm| vm.tostring_meta(v)) {
                    vm.push(s)?;
                    return Ok(1);
                }
            }
            format!("(error object is a {} value)", v.type_name())
        }
    };
    let tb = vm.traceback(Some(&msg), 1);
    let s = vm.str_value(tb);
    vm.push(s)?;
    Ok(1)
}

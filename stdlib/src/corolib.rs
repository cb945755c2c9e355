//! The `coroutine` library, over the VM's coroutine machinery (`Vm::resume`,
//! `Vm::yield_from_native`, ... in hotlua-vm's `coroutine.rs`).

use hotlua_vm::api::Args;
use hotlua_vm::coroutine::YIELD;
use hotlua_vm::gc::Gc;
use hotlua_vm::thread::{Thread, ThreadStatus, MAX_STACK};
use hotlua_vm::{LuaError, Value, Vm};

type R = Result<usize, LuaError>;

/// Installs the `coroutine` table (global and `package.loaded` entry).
pub fn open(vm: &mut Vm) {
    let fns: &[(&str, hotlua_vm::api::NativeFn)] = &[
        ("create", co_create),
        ("resume", co_resume),
        ("yield", co_yield),
        ("status", co_status),
        ("wrap", co_wrap),
        ("isyieldable", co_isyieldable),
        ("running", co_running),
        ("close", co_close),
    ];
    let t = vm.new_table();
    for (name, f) in fns {
        let k = vm.new_str(name);
        t.get_mut().set_str(k, Value::LightFn(*f));
    }
    vm.set_global("coroutine", Value::Table(t));
    let k = vm.new_str("_LOADED");
    if let Value::Table(loaded) = vm.registry().get().get_str(k) {
        let n = vm.new_str("coroutine");
        loaded.get_mut().set_str(n, Value::Table(t));
    }
}

fn check_co(vm: &mut Vm, args: Args, i: usize) -> Result<Gc<Thread>, LuaError> {
    match vm.arg(args, i) {
        Value::Thread(t) => Ok(t),
        _ => Err(vm.type_error_arg(args, i, "thread")),
    }
}

fn co_create(vm: &mut Vm, args: Args) -> R {
    let f = vm.arg(args, 0);
    if !f.is_function() {
        return Err(vm.type_error_arg(args, 0, "function"));
    }
    let t = vm.new_thread(f);
    vm.push(Value::Thread(t))?;
    Ok(1)
}

/// Resumes `co` with this native's arguments from `first`; pushes the results. `Err` holds
/// the error value (not yet raised).
fn aux_resume(vm: &mut Vm, args: Args, co: Gc<Thread>, first: usize) -> Result<usize, Value> {
    let from = vm.cur;
    let n = args.len().saturating_sub(first);
    let src = args.base + first;
    let o = vm.resume_with(co, |vm, co, dst| {
        let th = co.get_mut();
        if th.ensure(dst + n + 1, MAX_STACK).is_err() {
            return Err(LuaError::new(vm.str_value("too many arguments to resume")));
        }
        for i in 0..n {
            let v = from.get().stack[src + i];
            co.get_mut().stack[dst + i] = v;
        }
        Ok(n)
    });
    let o = match o {
        Ok(o) => o,
        Err(e) => return Err(e.value),
    };
    let count = o.end - o.start;
    let th = vm.cur.get_mut();
    // As lua_checkstack: the results, and room for the native's own use (LUA_MINSTACK),
    // within the stack limit.
    if th.ensure(th.top + count + 1 + 20, MAX_STACK).is_err() {
        vm.finish_transfer(co, &o);
        return Err(vm.str_value("too many results to resume"));
    }
    for i in 0..count {
        let v = co.get().stack[o.start + i];
        let th = vm.cur.get_mut();
        th.stack[th.top] = v;
        th.top += 1;
    }
    vm.finish_transfer(co, &o);
    Ok(count)
}

fn co_resume(vm: &mut Vm, args: Args) -> R {
    let co = check_co(vm, args, 0)?;
    vm.push(Value::Bool(true))?;
    match aux_resume(vm, args, co, 1) {
        Ok(n) => Ok(n + 1),
        Err(e) => {
            vm.push(Value::Bool(false))?;
            vm.push(e)?;
            Ok(2)
        }
    }
}

fn co_yield(vm: &mut Vm, args: Args) -> R {
    if vm.cur.get().program_main {
        return Err(LuaError::new(
            vm.str_value("attempt to yield from outside a coroutine"),
        ));
    }
    vm.check_yield()?;
    // The arguments are already where yielded values go: base..base+len.
    let th = vm.cur.get_mut();
    th.top = args.base + args.len();
    Err(LuaError::new(YIELD))
}

fn co_status(vm: &mut Vm, args: Args) -> R {
    let co = check_co(vm, args, 0)?;
    let s = vm.thread_status(co);
    let v = vm.str_value(s);
    vm.push(v)?;
    Ok(1)
}

fn co_running(vm: &mut Vm, _args: Args) -> R {
    let (t, main) = vm.running_thread();
    vm.push(Value::Thread(t))?;
    vm.push(Value::Bool(main))?;
    Ok(2)
}

fn co_isyieldable(vm: &mut Vm, args: Args) -> R {
    let r = if args.is_empty() {
        vm.is_yieldable()
    } else {
        let co = check_co(vm, args, 0)?;
        if co == vm.cur {
            vm.is_yieldable()
        } else {
            co != vm.main && !co.get().program_main
        }
    };
    vm.push(Value::Bool(r))?;
    Ok(1)
}

fn co_close(vm: &mut Vm, args: Args) -> R {
    let co = check_co(vm, args, 0)?;
    let st = vm.thread_status(co);
    if st != "suspended" && st != "dead" {
        return Err(vm.rt_error(&format!("cannot close a {} coroutine", st)));
    }
    match vm.close_thread(co) {
        Ok(()) => {
            vm.push(Value::Bool(true))?;
            Ok(1)
        }
        Err(e) => {
            vm.push(Value::Bool(false))?;
            vm.push(e.value)?;
            Ok(2)
        }
    }
}

fn co_wrap(vm: &mut Vm, args: Args) -> R {
    let f = vm.arg(args, 0);
    if !f.is_function() {
        return Err(vm.type_error_arg(args, 0, "function"));
    }
    let t = vm.new_thread(f);
    let w = vm.new_native_closure(wrap_call, "wrap", vec![Value::Thread(t)]);
    vm.push(w)?;
    Ok(1)
}

/// The function `coroutine.wrap` returns: resumes, and re-raises the coroutine's error
/// (after closing it) with the caller's position prepended to string errors (as lcorolib's
/// `auxwrap`).
fn wrap_call(vm: &mut Vm, args: Args) -> R {
    let Value::Thread(co) = vm.native_upvalue(args, 0) else {
        return Err(vm.rt_error("cannot resume dead coroutine"));
    };
    match aux_resume(vm, args, co, 0) {
        Ok(n) => Ok(n),
        Err(mut e) => {
            if co.get().status == ThreadStatus::Dead {
                if let Err(ce) = vm.close_thread(co) {
                    e = ce.value;
                }
            }
            if let Value::Str(s) = e {
                let pos = vm.where_(1);
                let mut b = pos.into_bytes();
                b.extend_from_slice(s.get().as_bytes());
                e = vm.str_value(b);
            }
            Err(LuaError::new(e))
        }
    }
}

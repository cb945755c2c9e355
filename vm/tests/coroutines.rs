//! Coroutines: runs every `tests/lua/coroutine/*.lua` script (base library, `coroutine` and
//! `debug` only) and compares its output with the `.expected` file and with `lua5.4` when
//! installed; plus Rust API tests (`Vm::resume`, `yield_from_native`, `close_thread`) and the
//! memory cost of a million suspended coroutines.

mod common;

use hotlua_vm::coroutine::Resume;
use hotlua_vm::{Args, LuaError, Value, Vm};

#[test]
fn coroutine_scripts_match_lua54() {
    common::check_dir("coroutine");
}

fn load(vm: &mut Vm, src: &str) -> Value {
    vm.load(src.as_bytes(), "=test", None).expect("compiles")
}

fn ints(v: &[Value]) -> Vec<i64> {
    v.iter()
        .map(|x| match x {
            Value::Int(n) => *n,
            _ => -999,
        })
        .collect()
}

#[test]
fn resume_from_rust() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let f = load(
        &mut vm,
        "return function(a) local b = coroutine.yield(a + 1) local c = coroutine.yield(b * 2) return c, 7 end",
    );
    let body = vm.call(f, &[]).unwrap()[0];
    let co = vm.new_thread(body);
    let _keep = vm.root(Value::Thread(co));
    assert_eq!(vm.thread_status(co), "suspended");
    match vm.resume(co, &[Value::Int(1)]).unwrap() {
        Resume::Yielded(v) => assert_eq!(ints(&v), vec![2]),
        r => panic!("{:?}", r),
    }
    vm.full_gc();
    match vm.resume(co, &[Value::Int(5)]).unwrap() {
        Resume::Yielded(v) => assert_eq!(ints(&v), vec![10]),
        r => panic!("{:?}", r),
    }
    match vm.resume(co, &[Value::Int(3)]).unwrap() {
        Resume::Returned(v) => assert_eq!(ints(&v), vec![3, 7]),
        r => panic!("{:?}", r),
    }
    assert_eq!(vm.thread_status(co), "dead");
    let e = vm.resume(co, &[]).unwrap_err();
    assert_eq!(vm.to_display(e.value), "cannot resume dead coroutine");
    let (main, is_main) = vm.running_thread();
    assert!(is_main);
    assert_eq!(vm.thread_status(main), "running");
}

/// A native that yields its arguments doubled; resume's arguments become its results.
fn twice(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let vals: Vec<Value> = (0..args.len())
        .map(|i| match vm.arg(args, i) {
            Value::Int(n) => Value::Int(2 * n),
            v => v,
        })
        .collect();
    vm.yield_from_native(&vals)
}

#[test]
fn native_yield() {
    let mut vm = hotlua_stdlib::open::new_vm();
    vm.register("twice", twice);
    let f = load(
        &mut vm,
        "return function() local a, b = twice(1, 2) local ok, c = pcall(twice, a + b) return c end",
    );
    let body = vm.call(f, &[]).unwrap()[0];
    let co = vm.new_thread(body);
    let _keep = vm.root(Value::Thread(co));
    match vm.resume(co, &[]).unwrap() {
        Resume::Yielded(v) => assert_eq!(ints(&v), vec![2, 4]),
        r => panic!("{:?}", r),
    }
    match vm.resume(co, &[Value::Int(10), Value::Int(20)]).unwrap() {
        Resume::Yielded(v) => assert_eq!(ints(&v), vec![60]),
        r => panic!("{:?}", r),
    }
    match vm.resume(co, &[Value::Int(42)]).unwrap() {
        Resume::Returned(v) => assert_eq!(ints(&v), vec![42]),
        r => panic!("{:?}", r),
    }
    // Outside a coroutine.
    let g = load(&mut vm, "return twice(1)");
    let e = vm.call(g, &[]).unwrap_err();
    assert_eq!(
        vm.to_display(e.value),
        "attempt to yield from outside a coroutine"
    );
}

#[test]
fn close_and_errors_from_rust() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let f = load(
        &mut vm,
        "log = {} return function() local x <close> = setmetatable({}, {__close = function(_, e) log[#log + 1] = tostring(e) end}) coroutine.yield() error('bad', 0) end",
    );
    let body = vm.call(f, &[]).unwrap()[0];
    let co = vm.new_thread(body);
    let _keep = vm.root(Value::Thread(co));
    assert!(matches!(vm.resume(co, &[]), Ok(Resume::Yielded(_))));
    let e = vm.resume(co, &[]).unwrap_err();
    assert_eq!(vm.to_display(e.value), "bad");
    assert_eq!(vm.thread_status(co), "dead");
    let tb = vm.traceback_of(co, Some("msg"), 0);
    assert!(
        tb.starts_with("msg\nstack traceback:\n\t[C]: in function 'error'"),
        "{}",
        tb
    );
    let e = vm.close_thread(co).unwrap_err();
    assert_eq!(vm.to_display(e.value), "bad");
    let log = vm.get_global("log");
    let first = vm.index(log, Value::Int(1)).unwrap();
    assert_eq!(vm.to_display(first), "bad");
    assert!(vm.close_thread(co).is_ok());
}

/// A million coroutines, each resumed once to a yield, stay alive and cost a bounded,
/// linear amount of memory; dropping them lets the collector free them.
#[test]
fn million_coroutines_memory() {
    let n: i64 = std::env::var("HOTLUA_COROS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut vm = hotlua_stdlib::open::new_vm();
    let f = load(
        &mut vm,
        "local n = ... \
         local function body() coroutine.yield() end \
         collectgarbage() collectgarbage() \
         local before = collectgarbage('count') \
         local t = {} \
         for i = 1, n // 2 do local co = coroutine.create(body) coroutine.resume(co) t[i] = co end \
         collectgarbage() \
         local half = collectgarbage('count') \
         for i = n // 2 + 1, n do local co = coroutine.create(body) coroutine.resume(co) t[i] = co end \
         collectgarbage() \
         local full = collectgarbage('count') \
         local ok = 0 for i = 1, n do if coroutine.status(t[i]) == 'suspended' then ok = ok + 1 end end \
         t = nil collectgarbage() collectgarbage() \
         local after = collectgarbage('count') \
         return before, half, full, after, ok",
    );
    let r = vm.call(f, &[Value::Int(n)]).unwrap();
    let kb = |v: Value| match v {
        Value::Float(x) => x,
        Value::Int(x) => x as f64,
        _ => panic!(),
    };
    let (before, half, full, after) = (kb(r[0]), kb(r[1]), kb(r[2]), kb(r[3]));
    assert!(matches!(r[4], Value::Int(k) if k == n));
    let per_first = (half - before) * 1024.0 / (n / 2) as f64;
    let per_second = (full - half) * 1024.0 / (n - n / 2) as f64;
    eprintln!(
        "bytes per suspended coroutine: {:.0} (first half) {:.0} (second half); total {:.0} MB",
        per_first,
        per_second,
        (full - before) / 1024.0
    );
    // Linear: both halves cost about the same per coroutine.
    assert!((per_first - per_second).abs() < 0.25 * per_first);
    assert!(per_first < 1500.0, "{} bytes per coroutine", per_first);
    assert!((full - before) * 1024.0 < 2e9);
    // Unreferenced suspended coroutines are collected.
    assert!(after - before < 0.05 * (full - before));
}

/// Runs `f` on a thread with a big Rust stack (nested resumes recurse in Rust; debug builds
/// need about 40 KB per level).
fn big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// Nested resumes are bounded by the C-call limit: "C stack overflow", as lua5.4 (which
/// stops at depth 197; hotlua at 199).
#[test]
fn nested_resume_depth_is_bounded() {
    let (msg, depth) = big_stack(|| {
        let mut vm = hotlua_stdlib::open::new_vm();
        let f = load(
            &mut vm,
            "local depth = 0 \
             local function nest(n) depth = n \
               local co = coroutine.create(function() return nest(n + 1) end) \
               local ok, e = coroutine.resume(co) if not ok then error(e, 0) end return e end \
             local ok, e = pcall(nest, 1) return e, depth",
        );
        let r = vm.call(f, &[]).unwrap();
        let d = match r[1] {
            Value::Int(d) => d,
            _ => -1,
        };
        (vm.to_display(r[0]), d)
    });
    assert_eq!(msg, "C stack overflow");
    assert!((150..=200).contains(&depth), "{}", depth);
}

/// A closure keeps the suspended coroutine whose local it captured alive: the open
/// upvalue still reads and writes that stack after the coroutine is unreachable.
#[test]
fn open_upvalue_keeps_its_thread() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let f = load(
        &mut vm,
        "local get, set \
         do local co = coroutine.create(function() local x = 5 \
              get = function() return x end set = function(v) x = v end coroutine.yield() end) \
            coroutine.resume(co) end \
         collectgarbage() collectgarbage() \
         local junk = {} for i = 1, 1000 do junk[i] = {i} end junk = nil collectgarbage() \
         set(get() * 3) collectgarbage() return get()",
    );
    let r = vm.call(f, &[]).unwrap();
    assert!(matches!(r[0], Value::Int(15)));
}

/// Coroutines created and abandoned in a loop do not accumulate: the heap returns to
/// about its size after a collection.
#[test]
fn abandoned_coroutines_are_collected() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let f = load(
        &mut vm,
        "local function body(a) local t = {a} coroutine.yield(t) return 1 end \
         collectgarbage() local before = collectgarbage('count') \
         for i = 1, 20000 do local co = coroutine.wrap(body) co(i) end \
         collectgarbage() collectgarbage() \
         return collectgarbage('count') - before",
    );
    let r = vm.call(f, &[]).unwrap();
    let grown = match r[0] {
        Value::Float(x) => x,
        Value::Int(x) => x as f64,
        _ => panic!(),
    };
    assert!(grown < 200.0, "heap grew by {} KB", grown);
}

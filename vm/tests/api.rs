//! The embedding API: loading, calling in both directions, globals, rooting across
//! collections, errors as values, and the patch primitives over closures and upvalues.

use hotlua_vm::{Args, LuaError, Value, Vm};

fn s(vm: &mut Vm, v: Value) -> String {
    vm.to_display(v)
}

fn run(vm: &mut Vm, src: &str) -> Result<Vec<Value>, LuaError> {
    let f = vm.load(src.as_bytes(), "=test", None)?;
    vm.call(f, &[])
}

#[test]
fn load_and_call_return_values() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let r = run(&mut vm, "return 1 + 2, 'x' .. 1, 2^63, nil").unwrap();
    assert_eq!(r.len(), 4);
    assert!(matches!(r[0], Value::Int(3)));
    assert_eq!(s(&mut vm, r[1]), "x1");
    assert_eq!(s(&mut vm, r[2]), "9.2233720368548e+18");
    assert!(r[3].is_nil());
    let f = vm
        .load(b"local a, b = ... return a * b", "=args", None)
        .unwrap();
    let r = vm.call(f, &[Value::Int(6), Value::Float(0.5)]).unwrap();
    assert!(matches!(r[0], Value::Float(x) if x == 3.0));
}

#[test]
fn syntax_and_runtime_errors_are_values() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let e = vm.load(b"x = = 1", "=chunk", None).unwrap_err();
    let m = s(&mut vm, e.value);
    assert!(m.starts_with("chunk:1:"), "{}", m);
    let e = run(&mut vm, "local t\nreturn t.x").unwrap_err();
    assert_eq!(
        s(&mut vm, e.value),
        "test:2: attempt to index a nil value (local 't')"
    );
    let e = run(&mut vm, "error({code = 7})").unwrap_err();
    assert!(matches!(e.value, Value::Table(_)));
    // The Vm is still usable after errors, with a clean stack.
    let r = run(&mut vm, "return select('#', 1, 2, 3)").unwrap();
    assert!(matches!(r[0], Value::Int(3)));
}

fn twice(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = vm.arg(args, 0);
    let x = vm.check_int(args, 1)?;
    let r1 = vm.call_value(f, &[Value::Int(x)])?;
    let r2 = vm.call_value(f, &[r1.first().copied().unwrap_or(Value::Nil)])?;
    vm.push(r2.first().copied().unwrap_or(Value::Nil))?;
    Ok(1)
}

thread_local! {
    static DEPTHS: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn probe(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let marker = 0u8;
    DEPTHS.with(|d| d.borrow_mut().push(&marker as *const u8 as usize));
    let f = vm.arg(args, 0);
    let n = vm.check_int(args, 1)?;
    if n > 0 {
        vm.call_value(f, &[Value::Int(n - 1)])?;
    }
    Ok(0)
}

/// The Rust stack one level of native -> Lua -> native recursion takes (documented in the
/// crate docs; the C-call limit of 200 bounds the total).
#[test]
fn rust_stack_per_c_level() {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let mut vm = hotlua_stdlib::open::new_vm();
            vm.register("probe", probe);
            run(&mut vm, "local function f(n) probe(f, n) end f(10)").unwrap();
            let d = DEPTHS.with(|d| d.borrow().clone());
            let per_level = (d[1] as isize - d[9] as isize).unsigned_abs() / 8;
            eprintln!("Rust stack per native->Lua level: {} bytes", per_level);
            assert!(per_level < 64 * 1024, "{}", per_level);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn natives_call_lua_and_report_argument_errors() {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(natives_call_lua_body)
        .unwrap()
        .join()
        .unwrap();
}

fn natives_call_lua_body() {
    let mut vm = hotlua_stdlib::open::new_vm();
    vm.register("twice", twice);
    let r = run(&mut vm, "return twice(function(n) return n * 3 end, 2)").unwrap();
    assert!(matches!(r[0], Value::Int(18)));
    let e = run(&mut vm, "return twice(print, 'x')").unwrap_err();
    assert_eq!(
        s(&mut vm, e.value),
        "test:1: bad argument #2 to 'twice' (number expected, got string)"
    );
    // A native recursing through Lua is bounded by the C-call limit.
    let e = run(
        &mut vm,
        "local function f(n) return twice(f, n) end return f(1)",
    )
    .unwrap_err();
    assert!(
        s(&mut vm, e.value).ends_with("C stack overflow"),
        "{}",
        s(&mut vm, e.value)
    );
    let r = run(&mut vm, "return 5").unwrap();
    assert!(matches!(r[0], Value::Int(5)));
}

#[test]
fn globals_and_rooted_values_survive_collections() {
    let mut vm = hotlua_stdlib::open::new_vm();
    vm.set_global("answer", Value::Int(42));
    let r = run(&mut vm, "return answer + 1").unwrap();
    assert!(matches!(r[0], Value::Int(43)));
    let t = vm.new_table();
    let k = vm.str_value("field");
    let v = vm.str_value("a long string value that is not interned by the heap at all, surely");
    vm.raw_set(t, k, v).unwrap();
    let root = vm.root(Value::Table(t));
    for _ in 0..3 {
        run(&mut vm, "local x = {} for i = 1, 10000 do x[i] = {i} end").unwrap();
        vm.full_gc();
    }
    let Value::Table(t2) = root.get() else {
        panic!()
    };
    let got = t2.get().get(k);
    assert_eq!(
        s(&mut vm, got),
        "a long string value that is not interned by the heap at all, surely"
    );
    drop(root);
    vm.full_gc();
    assert!(matches!(vm.get_global("answer"), Value::Int(42)));
}

#[test]
fn upvalue_primitives_share_join_and_swap() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let r = run(
        &mut vm,
        "local n = 0
         local function inc() n = n + 1 return n end
         local function get() return n end
         local other = 100
         local function get_other() return other end
         return inc, get, get_other",
    )
    .unwrap();
    let (inc, get, get_other) = (r[0], r[1], r[2]);
    assert_eq!(vm.upvalue_id(inc, 1), vm.upvalue_id(get, 1));
    assert_ne!(vm.upvalue_id(inc, 1), vm.upvalue_id(get_other, 1));
    let ups = vm.upvalues(inc);
    assert_eq!(ups.len(), 1);
    assert_eq!(ups[0].1, "n");
    vm.call(inc, &[]).unwrap();
    vm.call(inc, &[]).unwrap();
    assert!(matches!(vm.call(get, &[]).unwrap()[0], Value::Int(2)));
    assert_eq!(vm.set_upvalue(get, 1, Value::Int(10)).as_deref(), Some("n"));
    assert!(matches!(vm.call(inc, &[]).unwrap()[0], Value::Int(11)));
    // Join: get_other now reads inc's counter.
    vm.upvalue_join(get_other, 1, inc, 1).unwrap();
    assert_eq!(vm.upvalue_id(get_other, 1), vm.upvalue_id(inc, 1));
    assert!(matches!(
        vm.call(get_other, &[]).unwrap()[0],
        Value::Int(11)
    ));
    assert!(vm.upvalue_join(get_other, 5, inc, 1).is_err());
    // Swap the code of `get` in place: its holders see the new behaviour.
    let newf = run(&mut vm, "local n return function() return n * 2 end").unwrap()[0];
    let (Value::LuaFn(g), Value::LuaFn(nf)) = (get, newf) else {
        panic!()
    };
    let p = nf.get().proto();
    let cells: Vec<_> = g
        .get()
        .upvals()
        .iter()
        .map(|c| std::cell::Cell::new(c.get()))
        .collect();
    g.get().swap(1, p, cells);
    assert!(matches!(vm.call(get, &[]).unwrap()[0], Value::Int(22)));
    // Undone: the old code and cells again.
    assert!(g.get().unswap());
    assert!(matches!(vm.call(get, &[]).unwrap()[0], Value::Int(11)));
}

#[test]
fn tostring_and_number_formatting() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let r = run(
        &mut vm,
        "return tostring(1e15), tostring(-0.0), tostring(0/0), tostring(-(0/0)), tostring(2^63), \
         tostring(-9223372036854775807 - 1), tostring(1/0), 7 // 0.0",
    )
    .unwrap();
    let got: Vec<String> = r.iter().map(|v| s(&mut vm, *v)).collect();
    assert_eq!(
        got,
        [
            "1e+15",
            "-0.0",
            "-nan",
            "nan",
            "9.2233720368548e+18",
            "-9223372036854775808",
            "inf",
            "inf"
        ]
    );
}

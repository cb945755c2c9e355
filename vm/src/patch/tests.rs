//! The engine on a bare VM (no library), small enough for Miri: the in-place swap, the
//! undo log, rollback and the collector around them (closure histories are raw-owned).

use super::*;
use crate::{Value, Vm};

const V1: &str = "local M = {}\nlocal n = 0\nlocal function step() n = n + 1 return n end\n\
                  function M.hit() return step() end\nfunction M.make(k) return function() return k + n end end\n\
                  return M";
const V2: &str = "local M = {}\nlocal n = 0\nlocal function step() n = n + 10 return n end\n\
                  function M.hit() return step() end\nfunction M.make(k) return function() return k * 100 + n end end\n\
                  return M";

fn load(vm: &mut Vm) -> crate::gc::Gc<crate::table::Table> {
    let f = vm.load_module(V1.as_bytes(), "@m", None).expect("compiles");
    let name = vm.new_str("m");
    let r = vm.call(f, &[Value::Str(name)]).expect("runs");
    record_module(vm, name, f, r[0]);
    match r[0] {
        Value::Table(t) => t,
        _ => panic!("a table"),
    }
}

fn field(vm: &mut Vm, t: crate::gc::Gc<crate::table::Table>, k: &str) -> Value {
    let k = vm.new_str(k);
    t.get().get_str(k)
}

fn int(vm: &mut Vm, f: Value, args: &[Value]) -> i64 {
    match vm.call(f, args).expect("call")[0] {
        Value::Int(i) => i,
        other => panic!("not an integer: {}", other.type_name()),
    }
}

fn req(src: &str) -> Vec<Request> {
    vec![Request {
        name: "m".into(),
        source: src.as_bytes().to_vec(),
        chunkname: String::new(),
    }]
}

#[test]
fn swap_undo_rollback_and_collections() {
    let mut vm = Vm::new();
    let m = load(&mut vm);
    let hit = field(&mut vm, m, "hit");
    let make = field(&mut vm, m, "make");
    let made = vm.call(make, &[Value::Int(7)]).expect("make")[0];
    let _root = vm.root(made);
    let _root2 = vm.root(hit);
    assert_eq!(int(&mut vm, hit, &[]), 1);
    assert_eq!(int(&mut vm, made, &[]), 8);
    // A failing chunk: everything is undone.
    let r = apply(
        &mut vm,
        &req("error('no')"),
        &Options::default(),
        &mut NoHooks,
    );
    assert!(!r.ok);
    assert_eq!(r.error.as_ref().map(|e| e.step), Some(Step::Run));
    vm.full_gc();
    assert_eq!(int(&mut vm, hit, &[]), 2);
    // The patch: the held closures run the new code on the same state.
    let r = apply(&mut vm, &req(V2), &Options::default(), &mut NoHooks);
    assert!(r.ok, "{:?}", r.error);
    vm.full_gc();
    assert_eq!(int(&mut vm, hit, &[]), 12);
    assert_eq!(int(&mut vm, made, &[]), 712);
    // A verify failure after the swap: undone (unswap), then collected.
    struct Refuse;
    impl Hooks for Refuse {
        fn verify(&mut self, _: &mut Vm, _: &Report) -> Result<(), String> {
            Err("no".into())
        }
    }
    let r = apply(&mut vm, &req(V1), &Options::default(), &mut Refuse);
    assert!(!r.ok);
    vm.full_gc();
    assert_eq!(int(&mut vm, hit, &[]), 22);
    // Rollback to version 1, in place.
    let r = rollback(&mut vm, "m", &Options::default(), &mut NoHooks);
    assert!(r.ok, "{:?}", r.error);
    vm.full_gc();
    assert_eq!(int(&mut vm, hit, &[]), 23);
    assert_eq!(int(&mut vm, made, &[]), 30);
    let v = versions(&vm, "m").expect("recorded");
    assert_eq!(
        v.iter().map(|v| (v.n, v.current)).collect::<Vec<_>>(),
        [(1, true), (2, false)]
    );
}

//! The debug library: runs every `tests/lua/debug/*.lua` script and compares its output
//! with the `.expected` file and with `lua5.4` when installed.

mod common;

#[test]
fn debug_scripts_match_lua54() {
    common::check_dir("debug");
}

use hotlua_vm::Value;

/// `debug.upvalueid` is `patch::upvalue_id` of the closure's cell, and `debug.upvaluejoin`
/// shares the cell (seen from Rust through the closures' upvalue arrays).
#[test]
fn upvalueid_is_the_patch_identity() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let f = vm
        .load(
            b"local a, b = 1, 2 \
              local function f() return a end \
              local function g() return b end \
              local before = debug.upvalueid(f, 1) \
              debug.upvaluejoin(f, 1, g, 1) \
              return f, g, before, debug.upvalueid(f, 1), f()",
            "=t",
            None,
        )
        .unwrap();
    let r = vm.call(f, &[]).unwrap();
    let (Value::LuaFn(fc), Value::LuaFn(gc)) = (r[0], r[1]) else {
        panic!("closures expected");
    };
    let gid = hotlua_vm::patch::upvalue_id(gc.get().upval(0));
    let fid = hotlua_vm::patch::upvalue_id(fc.get().upval(0));
    assert!(r[3].raw_eq(&gid) && fid.raw_eq(&gid));
    assert!(!r[2].raw_eq(&gid));
    assert!(matches!(r[2], Value::LightUserData(_)));
    assert!(matches!(r[4], Value::Int(2)));
}

/// A count hook set from Rust-visible Lua fires every N instructions, and a hook that
/// raises an error propagates it to the hooked code's caller.
#[test]
fn hooks_count_and_errors() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let f = vm
        .load(
            b"local n = 0\n\
              debug.sethook(function(ev) n = n + 1 end, '', 10)\n\
              local s = 0 for i = 1, 1000 do s = s + i end\n\
              debug.sethook()\n\
              local fired = false\n\
              local ok, e = pcall(function()\n\
                debug.sethook(function(ev, line)\n\
                  if not fired then fired = true error('from hook ' .. ev .. ' ' .. line) end\n\
                end, 'l')\n\
                local x = 1\n\
              end)\n\
              debug.sethook()\n\
              return n, ok, e",
            "=t",
            None,
        )
        .unwrap();
    let r = vm.call(f, &[]).unwrap();
    // Two instructions per iteration (ADD, FORLOOP; lua5.4 also runs an MMBIN: 334).
    assert!(matches!(r[0], Value::Int(200)), "{:?}", r[0]);
    assert!(matches!(r[1], Value::Bool(false)));
    let e = vm.to_display(r[2]);
    assert!(e.contains("from hook line"), "{}", e);
}

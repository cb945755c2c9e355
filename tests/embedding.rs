//! The embedding API (issue 12): one test per capability, through the public `hotlua` API
//! only, as a host would use it. These tests also run under Miri (`scripts/miri.sh`).

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use hotlua::{
    AnyUserData, Error, ExternalError, FramePolicy, Function, HookTriggers, LoopStatus, Lua,
    LuaOptions, MetaMethod, MultiValue, Nil, StdLib, Step, String as LuaString, Table, Thread,
    ThreadStatus, UserData, UserDataFields, UserDataMethods, Value, Variadic, VmState,
};

/// Miri runs these tests too, a thousand times slower: loops that show a collection or a
/// limit at work are shorter there.
fn scale(n: usize) -> usize {
    if cfg!(miri) {
        (n / 100).max(2)
    } else {
        n
    }
}

// ---------------------------------------------------------------------------------------
// Soundness: handles keep their values alive; dead states fail cleanly.

#[test]
fn handles_survive_collections_and_later_allocations() {
    let lua = Lua::new();
    let t = lua.create_table().unwrap();
    t.set("k", "v").unwrap();
    lua.gc_collect().unwrap();
    assert_eq!(t.get::<String>("k").unwrap(), "v");

    // A table and a string returned by a call stay valid after calls that allocate and
    // collect.
    let (made, s): (Table, LuaString) = lua
        .load("return {1, 2, 3}, string.rep('ab', 50)")
        .eval()
        .unwrap();
    lua.load(format!(
        "local g = {{}} for i = 1, {} do g[i] = {{i}} end collectgarbage()",
        scale(20_000)
    ))
    .exec()
    .unwrap();
    lua.gc_collect().unwrap();
    assert_eq!(made.len().unwrap(), 3);
    assert_eq!(made.get::<i64>(3).unwrap(), 3);
    assert_eq!(s.as_bytes().len(), 100);
    assert_eq!(&s.to_str().unwrap()[..4], "abab");
}

#[test]
fn dropped_handles_let_their_values_be_collected() {
    let lua = Lua::new();
    let collected = Rc::new(Cell::new(false));
    let flag = collected.clone();
    let mark = lua
        .create_function(move |_, ()| {
            flag.set(true);
            Ok(())
        })
        .unwrap();
    lua.globals().set("mark", mark).unwrap();
    let t: Table = lua
        .load("return setmetatable({}, {__gc = function() mark() end})")
        .eval()
        .unwrap();
    let t2 = t.clone();
    drop(t);
    lua.gc_collect().unwrap();
    assert!(!collected.get(), "a clone still roots the table");
    drop(t2);
    lua.gc_collect().unwrap();
    assert!(collected.get(), "no handle left: the table is collected");
}

#[test]
fn handles_of_a_closed_state_fail_instead_of_dangling() {
    let lua = Lua::new();
    let t = lua.create_table().unwrap();
    let f: Function = lua.load("return function() return 1 end").eval().unwrap();
    let s = lua.create_string("still here").unwrap();
    let borrowed = s.to_str().unwrap();
    drop(lua);
    // A borrow of a string keeps the state (and so the bytes) alive.
    assert_eq!(&*borrowed, "still here");
    assert!(t.set(1, 2).is_ok(), "still open while the borrow lives");
    drop(borrowed);
    assert!(t.set(1, 2).is_err());
    assert!(t.get::<Value>(1).is_err());
    assert!(f.call::<i64>(()).is_err());
    assert!(s.to_str().is_err());
}

#[test]
fn values_of_another_state_are_refused() {
    let a = Lua::new();
    let b = Lua::new();
    let t = a.create_table().unwrap();
    let e = b.globals().set("t", t).unwrap_err();
    assert!(e.to_string().contains("different Lua state"), "{e}");
}

#[test]
fn handle_equality_is_identity() {
    let lua = Lua::new();
    let t = lua.create_table().unwrap();
    lua.globals().set("t", &t).unwrap();
    let same: Table = lua.globals().get("t").unwrap();
    assert!(same == t);
    assert!(lua.create_table().unwrap() != t);
    assert_eq!(same.to_pointer(), t.to_pointer());
}

// ---------------------------------------------------------------------------------------
// Chunks, globals, sandboxes.

#[test]
fn chunks_name_environment_eval_exec_call() {
    let lua = Lua::new();
    lua.load("x = 1").exec().unwrap();
    assert_eq!(lua.globals().get::<i64>("x").unwrap(), 1);
    assert_eq!(lua.load("x + 41").eval::<i64>().unwrap(), 42);
    assert_eq!(
        lua.load("local a, b = ... return a * b")
            .call::<i64>((6, 7))
            .unwrap(),
        42
    );
    let f = lua.load("return 'f'").into_function().unwrap();
    assert_eq!(f.call::<String>(()).unwrap(), "f");
    let e = lua
        .load("local t = nil; return t.x")
        .set_name("@app/config.lua")
        .exec()
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("app/config.lua:1: attempt to index a nil value (local 't')"),
        "{msg}"
    );
    assert!(msg.contains("stack traceback:"), "{msg}");

    let env = lua.create_table().unwrap();
    env.set("y", 2).unwrap();
    let r: (Option<i64>, i64) = lua.load("return x, y").set_environment(env).eval().unwrap();
    assert_eq!(r, (None, 2), "the chunk sees only its environment");
}

#[test]
fn syntax_errors_say_when_input_is_incomplete() {
    let lua = Lua::new();
    match lua.load("if x then").exec() {
        Err(Error::SyntaxError {
            message,
            incomplete_input,
        }) => {
            assert!(incomplete_input);
            assert!(message.contains("'end' expected near <eof>"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match lua.load("x = = 1").exec() {
        Err(Error::SyntaxError {
            incomplete_input, ..
        }) => assert!(!incomplete_input),
        other => panic!("{other:?}"),
    }
}

#[test]
fn stdlib_flags_open_only_what_is_asked() {
    let lua = Lua::new_with(StdLib::MATH | StdLib::STRING, LuaOptions::new()).unwrap();
    let r: (String, String, String, String) = lua
        .load("return type(math), type(string), type(io), type(os)")
        .eval()
        .unwrap();
    assert_eq!(
        r,
        ("table".into(), "table".into(), "nil".into(), "nil".into())
    );
    // The base library is always there.
    assert_eq!(
        lua.load("return type(pcall)").eval::<String>().unwrap(),
        "function"
    );
    let all = Lua::new();
    let r: (String, String, String) = all
        .load("return type(debug), type(coroutine), type(require('silly.time'))")
        .eval()
        .unwrap();
    assert_eq!(r, ("table".into(), "table".into(), "table".into()));
    let safe = Lua::new_with(StdLib::ALL_SAFE, LuaOptions::new()).unwrap();
    assert!(safe.load("return debug").eval::<Value>().unwrap().is_nil());
    assert!(Lua::new_with(StdLib::SILLY, LuaOptions::new()).is_err());
}

// ---------------------------------------------------------------------------------------
// Conversions.

#[test]
fn conversions_follow_lua_rules() {
    let lua = Lua::new();
    let g = lua.globals();
    g.set("i", 42).unwrap();
    g.set("f", 2.5).unwrap();
    g.set("s", "12").unwrap();
    g.set("b", true).unwrap();
    g.set("v", vec![1, 2, 3]).unwrap();
    g.set("m", HashMap::from([("a", 1), ("b", 2)])).unwrap();
    g.set("none", None::<i64>).unwrap();
    assert_eq!(g.get::<i64>("i").unwrap(), 42);
    assert_eq!(g.get::<u8>("i").unwrap(), 42);
    assert_eq!(g.get::<f64>("f").unwrap(), 2.5);
    assert_eq!(g.get::<i64>("s").unwrap(), 12, "numeric strings convert");
    assert_eq!(
        g.get::<String>("i").unwrap(),
        "42",
        "numbers convert to strings"
    );
    assert!(
        g.get::<i64>("f").is_err(),
        "2.5 has no integer representation"
    );
    assert!(g.get::<i8>("big").is_err());
    g.set("big", 1000).unwrap();
    assert!(matches!(
        g.get::<i8>("big"),
        Err(Error::FromLuaConversionError { .. })
    ));
    assert!(g.get::<bool>("b").unwrap());
    assert!(!g.get::<bool>("none").unwrap());
    assert!(g.get::<bool>("i").unwrap(), "truthiness");
    assert_eq!(g.get::<Vec<i64>>("v").unwrap(), vec![1, 2, 3]);
    let m: HashMap<String, i64> = g.get("m").unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m["b"], 2);
    assert_eq!(g.get::<Option<i64>>("none").unwrap(), None);
    assert_eq!(g.get::<Option<i64>>("i").unwrap(), Some(42));
    assert!(g.get::<Table>("i").is_err());
    let mv: MultiValue = lua.load("return 1, nil, 'x'").eval().unwrap();
    assert_eq!(mv.len(), 3);
    assert!(mv[1].is_nil());
    let (a, b, c): (i64, Option<i64>, String) = lua.load("return 1, nil, 'x'").eval().unwrap();
    assert_eq!((a, b, c.as_str()), (1, None, "x"));
    let sum = lua
        .create_function(|_, v: Variadic<f64>| Ok(v.iter().sum::<f64>()))
        .unwrap();
    assert_eq!(sum.call::<f64>((1, 2.5, "3")).unwrap(), 6.5);
    let bad = sum.call::<f64>((1, "x")).unwrap_err();
    assert!(bad.to_string().contains("bad argument #2"), "{bad}");
}

#[test]
fn value_helpers() {
    let lua = Lua::new();
    let v: Value = lua.load("return 'text'").eval().unwrap();
    assert_eq!(v.type_name(), "string");
    assert_eq!(&*v.as_str().unwrap(), "text");
    assert!(Value::Integer(3).as_integer() == Some(3));
    assert!(Value::Number(1.5).as_f64() == Some(1.5));
    assert!(
        Value::Integer(1) == Value::Number(1.0),
        "raw equality: 1 == 1.0"
    );
    assert_eq!(Value::Nil.type_name(), "nil");
    let t: Value = lua
        .load("return setmetatable({}, {__tostring = function() return 'T!' end})")
        .eval()
        .unwrap();
    assert_eq!(t.to_string().unwrap(), "T!");
    assert!(matches!(Nil, Value::Nil));
}

// ---------------------------------------------------------------------------------------
// Tables.

#[test]
fn tables_with_and_without_metamethods() {
    let lua = Lua::new();
    let t: Table = lua
        .load(
            "local log = {}
             return setmetatable({}, {
               __index = function(_, k) return 'default:' .. k end,
               __newindex = function(t, k, v) rawset(t, k, v * 2) end,
               __len = function() return 99 end,
             })",
        )
        .eval()
        .unwrap();
    t.set("a", 5).unwrap();
    assert_eq!(t.raw_get::<i64>("a").unwrap(), 10, "__newindex ran");
    t.raw_set("b", 5).unwrap();
    assert_eq!(t.get::<i64>("b").unwrap(), 5);
    assert_eq!(t.get::<String>("zz").unwrap(), "default:zz");
    assert!(t.raw_get::<Value>("zz").unwrap().is_nil());
    assert!(t.contains_key("zz").unwrap());
    assert_eq!(t.len().unwrap(), 99);
    assert_eq!(t.raw_len(), 0);
    assert!(t.metatable().is_some());
    t.set_metatable(None).unwrap();
    assert!(t.metatable().is_none());
    assert!(!t.contains_key("zz").unwrap());

    let seq = lua.create_sequence_from(["a", "b", "c"]).unwrap();
    seq.push("d").unwrap();
    let vals: Vec<String> = seq
        .sequence_values()
        .collect::<hotlua::Result<_>>()
        .unwrap();
    assert_eq!(vals, ["a", "b", "c", "d"]);
    assert_eq!(seq.pop::<String>().unwrap(), "d");
    let map = lua.create_table_from([("x", 1), ("y", 2)]).unwrap();
    let mut pairs: Vec<(String, i64)> = map.pairs().collect::<hotlua::Result<_>>().unwrap();
    pairs.sort();
    assert_eq!(pairs, [("x".into(), 1), ("y".into(), 2)]);
    // Assigning existing keys while iterating is allowed.
    for kv in map.pairs::<String, i64>() {
        let (k, v) = kv.unwrap();
        map.set(k, v * 10).unwrap();
    }
    assert_eq!(map.get::<i64>("y").unwrap(), 20);
    assert!(lua.create_table().unwrap().set(Nil, 1).is_err(), "nil key");
    assert!(
        lua.create_table().unwrap().set(f64::NAN, 1).is_err(),
        "NaN key"
    );
}

// ---------------------------------------------------------------------------------------
// Functions and callbacks.

#[test]
fn rust_closures_capture_state_and_errors_cross_both_ways() {
    let lua = Lua::new();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let f = lua
        .create_function(move |_, (a, b): (i64, i64)| {
            c.set(c.get() + 1);
            Ok(a + b)
        })
        .unwrap();
    lua.globals().set("add", f).unwrap();
    assert_eq!(
        lua.load("return add(add(1, 2), 3)").eval::<i64>().unwrap(),
        6
    );
    assert_eq!(calls.get(), 2);

    #[derive(Debug)]
    struct Refused;
    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("refused")
        }
    }
    impl std::error::Error for Refused {}
    let fail = lua
        .create_function(|_, ()| -> hotlua::Result<()> { Err(Refused.into_lua_err()) })
        .unwrap();
    lua.globals().set("fail", fail).unwrap();
    // Lua's pcall catches it and sees its message.
    let (ok, msg): (bool, String) = lua
        .load("local ok, e = pcall(fail) return ok, tostring(e)")
        .eval()
        .unwrap();
    assert!(!ok);
    assert!(msg.contains("refused"), "{msg}");
    // Uncaught, it comes back to Rust with its cause and a traceback.
    let e = lua.load("fail()").exec().unwrap_err();
    match &e {
        Error::CallbackError { traceback, cause } => {
            assert!(matches!(**cause, Error::ExternalError(_)));
            assert!(traceback.contains("stack traceback"), "{traceback}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.downcast_ref::<Refused>().is_some());
}

#[test]
fn mutable_callbacks_refuse_reentry() {
    let lua = Lua::new();
    let mut n = 0;
    let f = lua
        .create_function_mut(move |lua, reenter: bool| {
            n += 1;
            if reenter {
                lua.load("return counter(false)").eval::<i64>()?;
            }
            Ok(n)
        })
        .unwrap();
    lua.globals().set("counter", f.clone()).unwrap();
    assert_eq!(f.call::<i64>(false).unwrap(), 1);
    let e = f.call::<i64>(true).unwrap_err();
    let mut found = false;
    let mut cur: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = cur {
        if err
            .to_string()
            .contains("mutable callback called recursively")
        {
            found = true;
        }
        cur = err.source();
    }
    assert!(found, "{e}");
}

#[test]
fn callbacks_use_the_state_and_other_handles() {
    let lua = Lua::new();
    let store = lua.create_table().unwrap();
    let s2 = store.clone();
    let put = lua
        .create_function(move |lua, (k, v): (String, Value)| {
            s2.set(k, v)?;
            // Run Lua from inside a callback, which itself calls back.
            let n: i64 = lua.load("return #tostring(1234)").eval()?;
            Ok(n)
        })
        .unwrap();
    lua.globals().set("put", put).unwrap();
    lua.load("for i = 1, 3 do put('k' .. i, {i}) end")
        .exec()
        .unwrap();
    assert_eq!(store.get::<Table>("k3").unwrap().get::<i64>(1).unwrap(), 3);
}

#[test]
fn panics_in_callbacks_become_lua_errors() {
    let lua = Lua::new();
    let boom = lua
        .create_function(|_, ()| -> hotlua::Result<()> { panic!("kaboom") })
        .unwrap();
    lua.globals().set("boom", boom).unwrap();
    let (ok, msg): (bool, String) = lua
        .load("local ok, e = pcall(boom) return ok, tostring(e)")
        .eval()
        .unwrap();
    assert!(!ok);
    assert!(msg.contains("kaboom"), "{msg}");
    let e = lua.load("boom()").exec().unwrap_err();
    assert!(e.to_string().contains("kaboom"), "{e}");
    // The state is intact.
    assert_eq!(lua.load("return 1 + 1").eval::<i64>().unwrap(), 2);

    // With panics not caught, the panic continues in the host once the VM has unwound.
    let strict = Lua::new_with(StdLib::ALL, LuaOptions::new().catch_rust_panics(false)).unwrap();
    let boom = strict
        .create_function(|_, ()| -> hotlua::Result<()> { panic!("strict kaboom") })
        .unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| boom.call::<()>(())));
    assert!(r.is_err(), "the panic was resumed in the host");
    assert_eq!(strict.load("return 3").eval::<i64>().unwrap(), 3);
}

// ---------------------------------------------------------------------------------------
// Userdata.

#[derive(Debug, PartialEq)]
struct Vec2 {
    x: f64,
    y: f64,
}

impl UserData for Vec2 {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("x", |_, v| Ok(v.x));
        fields.add_field_method_set("x", |_, v, x: f64| {
            v.x = x;
            Ok(())
        });
        fields.add_field_method_get("y", |_, v| Ok(v.y));
        fields.add_field("kind", "vec2");
    }
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("len", |_, v, ()| Ok((v.x * v.x + v.y * v.y).sqrt()));
        methods.add_method_mut("scale", |_, v, k: f64| {
            v.x *= k;
            v.y *= k;
            Ok(())
        });
        methods.add_function("new", |_, (x, y): (f64, f64)| Ok(Vec2 { x, y }));
        methods.add_method_mut("call_back", |lua, _, f: Function| {
            // While `self` is borrowed mutably, Lua code touching it again must fail.
            let _ = lua;
            f.call::<()>(())
        });
        methods.add_meta_method(MetaMethod::Add, |_, a, b: hotlua::UserDataRef<Vec2>| {
            Ok(Vec2 {
                x: a.x + b.x,
                y: a.y + b.y,
            })
        });
        methods.add_meta_method(MetaMethod::Eq, |_, a, b: hotlua::UserDataRef<Vec2>| {
            Ok(*a == *b)
        });
        methods.add_meta_method(MetaMethod::Lt, |_, a, b: hotlua::UserDataRef<Vec2>| {
            Ok(a.x < b.x)
        });
        methods.add_meta_method(MetaMethod::Le, |_, a, b: hotlua::UserDataRef<Vec2>| {
            Ok(a.x <= b.x)
        });
        methods.add_meta_method(MetaMethod::Len, |_, _, ()| Ok(2));
        methods.add_meta_method(MetaMethod::ToString, |_, v, ()| {
            Ok(format!("({}, {})", v.x, v.y))
        });
        methods.add_meta_method(MetaMethod::Concat, |_, v, other: String| {
            Ok(format!("({}, {}){}", v.x, v.y, other))
        });
        methods.add_meta_method(MetaMethod::Call, |_, v, k: f64| Ok(v.x * k));
        methods.add_meta_method(MetaMethod::Index, |_, _, key: String| {
            Ok(format!("no field {key}"))
        });
        methods.add_meta_function(MetaMethod::Sub, |_, (a, b): (AnyUserData, AnyUserData)| {
            let (a, b) = (a.borrow::<Vec2>()?, b.borrow::<Vec2>()?);
            Ok(Vec2 {
                x: a.x - b.x,
                y: a.y - b.y,
            })
        });
        methods.add_meta_method_mut(MetaMethod::Close, |lua, v, _err: Value| {
            v.x = -1.0;
            lua.globals().set("closed", true)
        });
    }
}

#[test]
fn userdata_fields_methods_and_metamethods() {
    let lua = Lua::new();
    lua.globals().set("a", Vec2 { x: 3.0, y: 4.0 }).unwrap();
    lua.globals().set("b", Vec2 { x: 1.0, y: 1.0 }).unwrap();
    let r: (
        f64,
        f64,
        String,
        f64,
        bool,
        bool,
        bool,
        i64,
        String,
        String,
        f64,
        String,
    ) = lua
        .load(
            "a.x = a.x -- setter and getter
             local c = a + b
             local d = a - b
             return a:len(), c.y, tostring(d), d.x, a == a, b < a, a <= b, #a,
                    a .. '!', a.kind, a(2), a.missing",
        )
        .eval()
        .unwrap();
    assert_eq!(r.0, 5.0);
    assert_eq!(r.1, 5.0);
    assert_eq!(r.2, "(2, 3)");
    assert_eq!(r.3, 2.0);
    assert!(r.4 && r.5 && !r.6);
    assert_eq!(r.7, 2);
    assert_eq!(r.8, "(3, 4)!");
    assert_eq!(r.9, "vec2");
    assert_eq!(r.10, 6.0);
    assert_eq!(r.11, "no field missing");
    lua.load("a:scale(2)").exec().unwrap();
    let a: AnyUserData = lua.globals().get("a").unwrap();
    assert_eq!(*a.borrow::<Vec2>().unwrap(), Vec2 { x: 6.0, y: 8.0 });
    // A method taking `&mut self` while Lua code reaches the same object again.
    let e = lua
        .load("a:call_back(function() return a:len() end)")
        .exec()
        .unwrap_err();
    assert!(e.to_string().contains("error borrowing userdata"), "{e}");
    // A to-be-closed userdata.
    lua.load("do local v <close> = b end").exec().unwrap();
    assert!(lua.globals().get::<bool>("closed").unwrap());
    let b: AnyUserData = lua.globals().get("b").unwrap();
    assert_eq!(b.borrow::<Vec2>().unwrap().x, -1.0);
    // Wrong types are errors, not crashes.
    assert!(a.borrow::<String>().is_err());
    let e = lua.load("return a.len(42)").exec().unwrap_err();
    assert!(e.to_string().contains("bad argument #1"), "{e}");
    let e = lua.load("a.y = 1").exec().unwrap_err();
    assert!(e.to_string().contains("unknown field 'y'"), "{e}");
    // An associated function makes new objects.
    let n: AnyUserData = lua.load("return a.new(7, 8)").eval().unwrap();
    assert_eq!(n.borrow::<Vec2>().unwrap().y, 8.0);
}

#[test]
fn userdata_borrows_are_checked_at_run_time() {
    let lua = Lua::new();
    let ud = lua.create_userdata(Vec2 { x: 1.0, y: 2.0 }).unwrap();
    let r1 = ud.borrow::<Vec2>().unwrap();
    let r2 = ud.borrow::<Vec2>().unwrap();
    assert!(matches!(
        ud.borrow_mut::<Vec2>(),
        Err(Error::UserDataBorrowMutError)
    ));
    // Lua code calling a `&mut` method while Rust holds a shared borrow fails cleanly.
    lua.globals().set("v", &ud).unwrap();
    assert!(lua.load("v:scale(2)").exec().is_err());
    assert_eq!(r1.x + r2.y, 3.0);
    drop((r1, r2));
    lua.load("v:scale(2)").exec().unwrap();
    assert_eq!(ud.borrow::<Vec2>().unwrap().x, 2.0);
    let taken: Vec2 = ud.take().unwrap();
    assert_eq!(taken.y, 4.0);
    assert!(matches!(
        ud.borrow::<Vec2>(),
        Err(Error::UserDataDestructed)
    ));
    let e = lua.load("v:len()").exec().unwrap_err();
    assert!(e.to_string().contains("destructed"), "{e}");
}

#[test]
fn userdata_values_are_dropped_when_collected_or_closed() {
    struct Tracked(Rc<Cell<u32>>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    impl UserData for Tracked {}
    let drops = Rc::new(Cell::new(0));
    let lua = Lua::new();
    lua.create_userdata(Tracked(drops.clone())).unwrap();
    let kept = lua.create_userdata(Tracked(drops.clone())).unwrap();
    lua.gc_collect().unwrap();
    assert_eq!(drops.get(), 1);
    drop(kept);
    drop(lua);
    assert_eq!(drops.get(), 2);
}

#[test]
fn destructors_that_touch_the_state_fail_cleanly() {
    // A userdata whose Drop uses a handle runs inside the collector: the state is busy, so
    // the use is an error; a panicking destructor is contained.
    struct Sneaky(Table);
    impl Drop for Sneaky {
        fn drop(&mut self) {
            assert!(self.0.set("x", 1).is_err());
            panic!("destructor panics");
        }
    }
    impl UserData for Sneaky {}
    let lua = Lua::new();
    let t = lua.create_table().unwrap();
    lua.create_userdata(Sneaky(t.clone())).unwrap();
    lua.gc_collect().unwrap();
    t.set("after", 2).unwrap();
    assert_eq!(t.get::<i64>("after").unwrap(), 2);
}

// ---------------------------------------------------------------------------------------
// Threads.

#[test]
fn threads_resume_yield_and_report_status() {
    let lua = Lua::new();
    let body: Function = lua
        .load("return function(a) local b = coroutine.yield(a * 2) error('stop ' .. b) end")
        .eval()
        .unwrap();
    let co: Thread = lua.create_thread(body).unwrap();
    assert_eq!(co.status(), ThreadStatus::Resumable);
    assert_eq!(co.resume::<i64>(21).unwrap(), 42);
    let e = co.resume::<()>("now").unwrap_err();
    assert!(e.to_string().contains("stop now"), "{e}");
    assert_eq!(co.status(), ThreadStatus::Error);
    assert!(matches!(
        co.resume::<()>(()),
        Err(Error::CoroutineUnresumable)
    ));
    let done: Thread = lua
        .load("local co = coroutine.create(function() end) coroutine.resume(co) return co")
        .eval()
        .unwrap();
    assert_eq!(done.status(), ThreadStatus::Finished);
}

// ---------------------------------------------------------------------------------------
// Registry.

#[test]
fn registry_values_and_names() {
    let lua = Lua::new();
    let key = lua.create_registry_value(vec![1, 2]).unwrap();
    lua.gc_collect().unwrap();
    assert_eq!(lua.registry_value::<Vec<i64>>(&key).unwrap(), vec![1, 2]);
    lua.replace_registry_value(&key, "x").unwrap();
    assert_eq!(lua.registry_value::<String>(&key).unwrap(), "x");
    let other = Lua::new();
    assert!(matches!(
        other.registry_value::<Value>(&key),
        Err(Error::MismatchedRegistryKey)
    ));
    assert!(lua.owns_registry_value(&key));
    lua.remove_registry_value(key).unwrap();
    lua.set_named_registry_value("app.config", 7).unwrap();
    assert_eq!(lua.named_registry_value::<i64>("app.config").unwrap(), 7);
    assert_eq!(
        lua.load("return debug.getregistry()['app.config']")
            .eval::<i64>()
            .unwrap(),
        7
    );
}

// ---------------------------------------------------------------------------------------
// Errors.

#[test]
fn errors_are_std_errors_and_box_into_dyn_error() {
    fn run(lua: &Lua) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        lua.load("error({code = 1})").exec()?;
        Ok(())
    }
    let lua = Lua::new();
    let e = run(&lua).unwrap_err();
    assert!(
        e.to_string().contains("error object is a table value"),
        "{e}"
    );
    let r = Error::runtime("plain");
    assert_eq!(r.to_string(), "runtime error: plain");
    let m: Error = lua.load("error('x', 0)").exec().unwrap_err();
    assert!(matches!(m, Error::RuntimeError(ref s) if s.starts_with("x\nstack traceback")));
}

// ---------------------------------------------------------------------------------------
// Host limits.

#[test]
fn memory_limit_is_a_catchable_error() {
    let lua = Lua::new();
    let room = if cfg!(miri) { 256 << 10 } else { 4 << 20 };
    lua.set_memory_limit(lua.used_memory() + room).unwrap();
    let e = lua
        .load("local t = {} for i = 1, 1e8 do t[i] = {i} end")
        .exec()
        .unwrap_err();
    assert!(matches!(e, Error::MemoryError(_)), "{e:?}");
    // Inside Lua, pcall catches it with Lua's message.
    let msg: String = lua
        .load("local ok, e = pcall(string.rep, 'x', 1 << 30) return e")
        .eval()
        .unwrap();
    assert_eq!(msg, "not enough memory");
    let msg: String = lua
        .load("local ok, e = pcall(function() local s = {} for i = 1, 1e8 do s[i] = 'x' .. i end end) return e")
        .eval()
        .unwrap();
    assert_eq!(msg, "not enough memory");
    // The state stays usable, and more memory makes it work again.
    lua.gc_collect().unwrap();
    assert_eq!(
        lua.load("return #string.rep('a', 1000)")
            .eval::<i64>()
            .unwrap(),
        1000
    );
    assert!(lua.create_string(vec![b'z'; 2 * room]).is_err());
    lua.set_memory_limit(0).unwrap();
    assert!(lua.create_string(vec![b'z'; 2 * room]).is_ok());
}

#[test]
fn host_hook_is_a_budget_scripts_cannot_remove() {
    let lua = Lua::new();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(100),
        move |_, _| {
            c.set(c.get() + 1);
            if c.get() > 50 {
                Err(Error::runtime("instruction budget exceeded"))
            } else {
                Ok(VmState::Continue)
            }
        },
    );
    // The script removes "the" hook, sets its own, and loops: the host's still fires, even
    // inside the script's own hook and inside a coroutine.
    let e = lua
        .load(
            "debug.sethook()
             debug.sethook(function() while true do end end, 'l')
             local co = coroutine.wrap(function() while true do end end)
             co()",
        )
        .exec()
        .unwrap_err();
    assert!(e.to_string().contains("instruction budget exceeded"), "{e}");
    // The script's own looping line hook is still set: each new chunk runs into it, and
    // the host's budget stops it again.
    let e = lua.load("debug.sethook()").exec().unwrap_err();
    assert!(e.to_string().contains("instruction budget exceeded"), "{e}");

    let lua = Lua::new();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(10),
        move |_, _| {
            c.set(c.get() + 1);
            Ok(VmState::Continue)
        },
    );
    let sum = "local s = 0 for i = 1, 1000 do s = s + i end return s";
    assert_eq!(lua.load(sum).eval::<i64>().unwrap(), 500500);
    // Two instructions per iteration (ADD, FORLOOP): about one event per 10 of them.
    assert!((190..=210).contains(&count.get()), "{}", count.get());
    lua.remove_hook();
    count.set(0);
    assert_eq!(lua.load(sum).eval::<i64>().unwrap(), 500500);
    assert_eq!(count.get(), 0, "removed");

    // Call and line events carry what the hook needs.
    let lines = Rc::new(std::cell::RefCell::new(Vec::new()));
    let l = lines.clone();
    lua.set_hook(HookTriggers::EVERY_LINE, move |_, d| {
        l.borrow_mut()
            .push((d.curr_line(), d.source().short_src.unwrap_or_default()));
        Ok(VmState::Continue)
    });
    lua.load("local a = 1\nlocal b = 2\n")
        .set_name("=hooked")
        .exec()
        .unwrap();
    lua.remove_hook();
    let got = lines.borrow().clone();
    assert_eq!(got, [(1, "hooked".to_string()), (2, "hooked".to_string())]);
}

#[test]
fn interrupt_stops_loops_calls_and_builtins() {
    // Same thread (deterministic, and what Miri runs): a callback asks for the interrupt
    // the first time the script calls it.
    let lua = Lua::new();
    let handle = lua.interrupt_handle();
    let trip = lua
        .create_function(move |_, ()| {
            handle.interrupt();
            Ok(())
        })
        .unwrap();
    lua.globals().set("trip", trip).unwrap();
    for code in [
        "trip() while true do end",
        "trip() local function f() return f() end f()",
        "while true do pcall(function() trip() while true do end end) end",
        "trip() local s = string.rep('x', 1 << 18) s:find('.-y') while true do end",
        "local t = {} for i = 1, 300 do t[i] = -i end trip() table.sort(t) while true do end",
    ] {
        let e = lua.load(code).exec().unwrap_err();
        assert!(e.to_string().contains("interrupted"), "{code}: {e}");
        assert_eq!(
            lua.load("return 5").eval::<i64>().unwrap(),
            5,
            "usable after {code}"
        );
    }
    // An interrupt asked for while no Lua code runs does not stop the next call.
    lua.interrupt_handle().interrupt();
    assert_eq!(
        lua.load("local n = 0 for i = 1, 100 do n = n + i end return n")
            .eval::<i64>()
            .unwrap(),
        5050
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "a thread spinning in the interpreter starves Miri's scheduler"
)]
fn interrupt_from_another_thread_stops_loops_and_builtins() {
    let lua = Lua::new();
    let handle = lua.interrupt_handle();
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    assert_send_sync(&handle);
    let big = if cfg!(miri) { 12 } else { 28 };
    let many = if cfg!(miri) { 200 } else { 200_000 };
    let long_find = format!("string.rep('x', 1 << {big}):find('.-y') while true do end");
    let long_sort = format!(
        "local t = {{}} for i = 1, {many} do t[i] = -i end \
         table.sort(t, function(a, b) return a < b end) while true do end"
    );
    for code in [
        "while true do end",
        "local function f() return f() end f()",
        // pcall inside the script cannot swallow the interrupt
        "while true do pcall(function() while true do end end) end",
        long_find.as_str(),
        long_sort.as_str(),
    ] {
        let h = handle.clone();
        let watchdog = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 100 }));
            h.interrupt();
        });
        let e = lua.load(code).exec().unwrap_err();
        watchdog.join().unwrap();
        assert!(e.to_string().contains("interrupted"), "{code}: {e}");
        assert_eq!(
            lua.load("return 5").eval::<i64>().unwrap(),
            5,
            "usable after {code}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The runtime from a host.

#[test]
fn two_states_on_one_thread_have_their_own_loops() {
    let a = Lua::new();
    let b = Lua::new();
    let task = |lua: &Lua, name: &str, ms: u32| {
        let f: Function = lua
            .load(format!(
                "return function()
                   local time = require 'silly.time'
                   log = (log or '') .. '{name}1 '
                   time.sleep({ms})
                   log = log .. '{name}2 '
                 end"
            ))
            .eval()
            .unwrap();
        lua.spawn(f, ()).unwrap();
    };
    task(&a, "a", 30);
    task(&b, "b", 5);
    // Poll b until it is done: a's task must not have advanced meanwhile.
    loop {
        match b.poll(Some(Duration::from_millis(50))).unwrap() {
            LoopStatus::Idle => break,
            LoopStatus::Pending { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(b.globals().get::<String>("log").unwrap(), "b1 b2 ");
    assert!(
        a.globals().get::<Value>("log").unwrap().is_nil(),
        "a never ran"
    );
    // One round starts a's task; it then sleeps, and poll says how long.
    match a.run_once().unwrap() {
        LoopStatus::Pending { next_deadline } => {
            assert!(next_deadline.unwrap() <= Duration::from_millis(30));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a.globals().get::<String>("log").unwrap(), "a1 ");
    assert_eq!(a.run_loop().unwrap(), LoopStatus::Idle);
    assert_eq!(a.globals().get::<String>("log").unwrap(), "a1 a2 ");
}

#[test]
fn silly_exit_ends_a_host_driven_loop() {
    let lua = Lua::new();
    let f: Function = lua
        .load("return function() require('silly.time').sleep(1) require('silly').exit(3) end")
        .eval()
        .unwrap();
    lua.spawn(f, ()).unwrap();
    assert_eq!(lua.run_loop().unwrap(), LoopStatus::Exit(3));
}

// ---------------------------------------------------------------------------------------
// Hot patching from Rust.

#[test]
fn reload_module_keeps_state_and_reports() {
    let lua = Lua::new();
    lua.load_module(
        "greeter",
        "local count = 0
         local M = {}
         function M.greet(name) count = count + 1 return 'hello ' .. name .. ' #' .. count end
         return M",
    )
    .unwrap();
    lua.load("greeter = require 'greeter'; greeter.greet('a')")
        .exec()
        .unwrap();
    let report = lua
        .reload_module(
            "greeter",
            "local count = 0
             local fresh = 0
             local M = {}
             function M.greet(name) count = count + 1 return 'hi ' .. name .. ' #' .. count end
             function M.reset() count = 0 fresh = 1 end
             return M",
        )
        .unwrap();
    assert_eq!(report.replaced, ["greet", "reset"]);
    assert_eq!(
        lua.load("return greeter.greet('b')")
            .eval::<String>()
            .unwrap(),
        "hi b #2",
        "the new code runs with the old count"
    );
    assert!(lua.reload_module("nope", "return {}").is_err());
    let e = lua.reload_module("greeter", "return {").unwrap_err();
    assert!(e.to_string().contains("expected"), "{e}");
    assert_eq!(
        lua.load("return greeter.greet('c')")
            .eval::<String>()
            .unwrap(),
        "hi c #3",
        "a failed reload changes nothing"
    );
}

// ---------------------------------------------------------------------------------------
// Lua programs cannot break memory safety through the embedding either.

#[test]
fn scripts_cannot_reach_the_hosts_bookkeeping() {
    let lua = Lua::new();
    let kept = lua.create_table().unwrap();
    kept.set("x", 1).unwrap();
    let f = lua.create_function(|_, ()| Ok(1)).unwrap();
    lua.globals().set("f", f).unwrap();
    // Empty the registry, inspect and overwrite the host function's upvalues, collect.
    lua.load(
        "local reg = debug.getregistry()
         for k in pairs(reg) do if k ~= '_LOADED' then reg[k] = nil end end
         assert(debug.getupvalue(f, 1) == nil, 'host callbacks have no Lua-visible upvalues')
         debug.setupvalue(f, 1, 'x')
         collectgarbage() collectgarbage()",
    )
    .exec()
    .unwrap();
    assert_eq!(kept.get::<i64>("x").unwrap(), 1);
    assert_eq!(lua.load("return f()").eval::<i64>().unwrap(), 1);
}

const COUNTER_V1: &str = "local M = {}\nlocal n = 0\nlocal function step() n = n + 1 return n end\nfunction M.hit() return 'v1:' .. step() end\nreturn M";
const COUNTER_V2: &str = "local M = {}\nlocal n = 0\nlocal function step() n = n + 10 return n end\nfunction M.hit() return 'v2:' .. step() end\nfunction M.peek() return n end\nreturn M";

#[test]
fn a_function_handle_held_by_rust_runs_the_patched_code_in_place() {
    let lua = Lua::new();
    lua.load_module("counter", COUNTER_V1).unwrap();
    let m: Table = lua.load("return require 'counter'").eval().unwrap();
    let hit: Function = m.get("hit").unwrap();
    assert_eq!(hit.call::<String>(()).unwrap(), "v1:1");
    let report = lua.patch().source("counter", COUNTER_V2).apply().unwrap();
    assert!(report.ok, "{:?}", report.error);
    let c = report.module("counter").unwrap();
    assert_eq!(c.changed, ["(main)", "M.hit", "step"]);
    assert_eq!(c.added, ["M.peek"]);
    assert_eq!(c.fields.updated, ["hit"]);
    assert_eq!(c.fields.added, ["peek"]);
    // The same function value, the new code, the old state.
    assert_eq!(hit.call::<String>(()).unwrap(), "v2:11");
    let same: Function = m.get("hit").unwrap();
    assert_eq!(same, hit);
    let versions = lua.module_versions("counter").unwrap().unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version, v.current))
            .collect::<Vec<_>>(),
        [(1, false), (2, true)]
    );
    let back = lua.rollback_module("counter").unwrap();
    assert!(back.ok);
    assert_eq!(hit.call::<String>(()).unwrap(), "v1:12");
    assert!(lua.module_versions("nothing").unwrap().is_none());
}

#[test]
fn a_failing_verify_rolls_the_patch_back() {
    let lua = Lua::new();
    lua.load_module("counter", COUNTER_V1).unwrap();
    lua.load("counter = require 'counter'; counter.hit()")
        .exec()
        .unwrap();
    let seen = Rc::new(Cell::new(String::new()));
    let seen2 = seen.clone();
    let report = lua
        .patch()
        .source("counter", COUNTER_V2)
        .verify(|r| {
            // The callback may use the state: the new code runs on the live state.
            let v: String = lua
                .load("return counter.hit()")
                .eval()
                .map_err(|e| e.to_string())?;
            seen2.set(v);
            assert!(r.ok);
            Err("refused by the host".to_string())
        })
        .apply()
        .unwrap();
    assert!(!report.ok);
    let e = report.error.clone().unwrap();
    assert_eq!(
        (e.step, e.message.as_str()),
        (Step::Verify, "refused by the host")
    );
    assert_eq!(seen.take(), "v2:11");
    // Old code again; the state the verify call changed stays (state is never rolled back).
    assert_eq!(
        lua.load("return counter.hit(), counter.peek")
            .eval::<(String, Value)>()
            .unwrap()
            .0,
        "v1:12"
    );
    assert!(report.into_result().is_err());
    // A syntax error is reported, not raised.
    let bad = lua.patch().source("counter", "return {").apply().unwrap();
    assert_eq!(bad.error.unwrap().step, Step::Compile);
}

#[test]
fn a_panicking_verify_rolls_back_and_the_panic_reaches_the_host() {
    // Panics caught (the default): the patch is rolled back and reports the panic.
    let lua = Lua::new();
    lua.load_module("counter", COUNTER_V1).unwrap();
    let report = lua
        .patch()
        .source("counter", COUNTER_V2)
        .verify(|_| panic!("verify blew up"))
        .apply()
        .unwrap();
    let e = report.error.unwrap();
    assert_eq!(e.step, Step::Verify);
    assert!(e.message.contains("verify blew up"), "{}", e.message);
    // Panics not caught: the patch is rolled back, then the panic reaches the host.
    let lua = Lua::new_with(StdLib::ALL, LuaOptions::new().catch_rust_panics(false)).unwrap();
    lua.load_module("counter", COUNTER_V1).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lua.patch()
            .source("counter", COUNTER_V2)
            .verify(|_| panic!("verify blew up"))
            .apply()
    }));
    assert!(
        r.is_err(),
        "the panic is resumed once the patch is rolled back"
    );
    // The state is usable and the module is the old one.
    assert_eq!(
        lua.load("return require('counter').hit()")
            .eval::<String>()
            .unwrap(),
        "v1:1"
    );
}

#[test]
fn plan_names_the_coroutines_inside_changed_functions() {
    let lua = Lua::new();
    lua.load_module(
        "worker",
        "local M = {}\nfunction M.run() coroutine.yield('waiting') return 'v1 done' end\nreturn M",
    )
    .unwrap();
    let co: Thread = lua
        .load("return coroutine.create(require('worker').run)")
        .eval()
        .unwrap();
    assert_eq!(co.resume::<String>(()).unwrap(), "waiting");
    let v2 =
        "local M = {}\nfunction M.run() coroutine.yield('waiting') return 'v2 done' end\nreturn M";
    let plan = lua.patch().source("worker", v2).plan().unwrap();
    let frames = &plan.module("worker").unwrap().frames;
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].function, "M.run");
    assert_eq!(frames[0].thread, co);
    assert!(
        frames[0].traceback.contains("worker:2"),
        "{}",
        frames[0].traceback
    );
    let refused = lua
        .patch()
        .source("worker", v2)
        .frames(FramePolicy::Refuse)
        .apply()
        .unwrap();
    assert_eq!(refused.error.unwrap().step, Step::Check);
    // Finish-old: the suspended frame completes on v1; new calls run v2.
    assert!(lua.patch().source("worker", v2).apply().unwrap().ok);
    assert_eq!(co.resume::<String>(()).unwrap(), "v1 done");
    let again: Thread = lua
        .load("return coroutine.create(require('worker').run)")
        .eval()
        .unwrap();
    again.resume::<String>(()).unwrap();
    assert_eq!(again.resume::<String>(()).unwrap(), "v2 done");
}

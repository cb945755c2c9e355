//! Rust closures as Lua functions: captured state, errors both ways, and `FnMut`.
//!
//! Run: `cargo run --example embed_closures`

use std::cell::RefCell;
use std::rc::Rc;

use hotlua::{Error, Function, Lua, Result, Variadic};

fn run() -> Result<(Vec<String>, i64)> {
    let lua = Lua::new();

    // A closure capturing shared Rust state: Lua code appends to a Rust log.
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = log.clone();
    let emit = lua.create_function(move |_, parts: Variadic<String>| {
        sink.borrow_mut().push(parts.join(" "));
        Ok(())
    })?;
    lua.globals().set("emit", emit)?;

    // A `FnMut`: a counter with its own state.
    let mut next = 0;
    let ticket = lua.create_function_mut(move |_, ()| {
        next += 1;
        Ok(next)
    })?;
    lua.globals().set("ticket", ticket)?;

    // An error from Rust is a Lua error: `pcall` catches it.
    let checked_div = lua.create_function(|_, (a, b): (i64, i64)| {
        if b == 0 {
            return Err(Error::runtime("division by zero"));
        }
        Ok(a / b)
    })?;
    lua.globals().set("div", checked_div)?;

    lua.load(
        r#"
        emit("first", "ticket", tostring(ticket()))
        local ok, err = pcall(div, 1, 0)
        emit("caught:", tostring(ok), tostring(err):match("division by zero"))
        emit("second", "ticket", tostring(ticket()))
    "#,
    )
    .exec()?;

    // Lua functions called from Rust, and Rust functions passed back to Lua.
    let apply: Function = lua
        .load("return function(f, x) return f(f(x)) end")
        .eval()?;
    let double = lua.create_function(|_, x: i64| Ok(x * 2))?;
    let n: i64 = apply.call((double, 10))?;

    let lines = log.borrow().clone();
    Ok((lines, n))
}

fn main() -> Result<()> {
    let (lines, n) = run()?;
    for l in &lines {
        println!("{l}");
    }
    println!("apply(double, 10) = {n}");
    Ok(())
}

#[test]
fn example_runs() {
    let (lines, n) = run().unwrap();
    assert_eq!(
        lines,
        [
            "first ticket 1",
            "caught: false division by zero",
            "second ticket 2"
        ]
    );
    assert_eq!(n, 40);
}

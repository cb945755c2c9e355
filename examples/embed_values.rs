//! Values between Rust and Lua: globals, tables, conversions, chunks and errors.
//!
//! Run: `cargo run --example embed_values`

use std::collections::HashMap;

use hotlua::{Lua, Result, Table, Value};

fn run() -> Result<String> {
    let lua = Lua::new();
    let globals = lua.globals();

    // Rust values become Lua values...
    globals.set("name", "hotlua")?;
    globals.set("primes", vec![2, 3, 5, 7])?;
    globals.set("limits", HashMap::from([("memory", 64), ("tasks", 8)]))?;

    // ...Lua code runs over them, and its results come back typed.
    let summary: String = lua
        .load(
            r#"
            local sum = 0
            for _, p in ipairs(primes) do sum = sum + p end
            return string.format("%s: %d primes, sum %d, memory %d", name, #primes, sum, limits.memory)
        "#,
        )
        .set_name("=summary")
        .eval()?;

    // Tables are handles: they stay valid as long as you hold them.
    let config: Table = lua
        .load("return { port = 8080, hosts = {'a', 'b'}, debug = false }")
        .eval()?;
    let port: u16 = config.get("port")?;
    let hosts: Vec<String> = config.get("hosts")?;
    let debug: bool = config.get("debug")?;
    assert_eq!((port, hosts.len(), debug), (8080, 2, false));

    // Any Lua value, inspected dynamically.
    for pair in config.pairs::<String, Value>() {
        let (k, v) = pair?;
        assert!(
            ["port", "hosts", "debug"].contains(&k.as_str()),
            "{k}: {}",
            v.type_name()
        );
    }

    // Errors carry Lua's message and traceback.
    let err = lua
        .load("local t = nil; return t.x")
        .set_name("=broken")
        .exec()
        .unwrap_err();
    assert!(err
        .to_string()
        .contains("broken:1: attempt to index a nil value (local 't')"));

    Ok(summary)
}

fn main() -> Result<()> {
    println!("{}", run()?);
    Ok(())
}

#[test]
fn example_runs() {
    assert_eq!(run().unwrap(), "hotlua: 4 primes, sum 17, memory 64");
}

//! Hot patching from Rust: a module keeps its state while its code is replaced.
//!
//! Run: `cargo run --example embed_hotpatch`

use hotlua::{Lua, Result};

const V1: &str = r#"
local visits = 0
local M = {}
function M.handle(name)
  visits = visits + 1
  return "Hello, " .. name .. " (#" .. visits .. ")"
end
return M
"#;

const V2: &str = r#"
local visits = 0
local M = {}
local function greet(name) return "Welcome back, " .. name end
function M.handle(name)
  visits = visits + 1
  return greet(name) .. " (#" .. visits .. ")"
end
return M
"#;

fn run() -> Result<Vec<String>> {
    let lua = Lua::new();
    // Make the module requirable (a real server would put it on package.path).
    let loader = lua.load(V1).set_name("@route.lua").into_function()?;
    lua.load("package.preload.route = ...").call::<()>(loader)?;
    lua.load("route = require 'route'").exec()?;

    let mut out = Vec::new();
    out.push(lua.load("return route.handle('ann')").eval::<String>()?);
    out.push(lua.load("return route.handle('bob')").eval::<String>()?);
    let report = lua.reload_module("route", V2)?;
    out.push(format!(
        "patched {:?}, new upvalues {:?}",
        report.replaced, report.absent
    ));
    // The visit count survived; the new code runs.
    out.push(lua.load("return route.handle('ann')").eval::<String>()?);
    Ok(out)
}

fn main() -> Result<()> {
    for line in run()? {
        println!("{line}");
    }
    Ok(())
}

#[test]
fn example_runs() {
    let out = run().unwrap();
    assert_eq!(out[0], "Hello, ann (#1)");
    assert_eq!(out[1], "Hello, bob (#2)");
    assert_eq!(out[3], "Welcome back, ann (#3)");
}

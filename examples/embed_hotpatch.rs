//! Hot patching from Rust: a module keeps its state while its code is replaced.
//!
//! Run: `cargo run --example embed_hotpatch`

use hotlua::{Function, Lua, Result, Table};

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
    // Load the module as `require` would (a real server would put it on package.path).
    let route: Table = lua
        .load_module("route", V1)?
        .as_table()
        .cloned()
        .expect("a table");
    // A router holding the handler, as a server would.
    let handle: Function = route.get("handle")?;

    let mut out = Vec::new();
    out.push(handle.call::<String>("ann")?);
    out.push(handle.call::<String>("bob")?);
    // The dry run changes nothing.
    let plan = lua.patch().source("route", V2).plan()?;
    let m = plan.module("route").expect("planned");
    out.push(format!(
        "plan: changed {:?}, added {:?}",
        m.changed, m.added
    ));
    // Apply, trying the new code before committing.
    let report = lua
        .patch()
        .source("route", V2)
        .verify(|_| match handle.call::<String>("probe") {
            Ok(s) if s.starts_with("Welcome back") => Ok(()),
            other => Err(format!("unexpected answer {other:?}")),
        })
        .apply()?;
    out.push(format!("applied: {}", report.ok));
    // The visit count survived; the held handler runs the new code.
    out.push(handle.call::<String>("ann")?);
    // And back.
    lua.rollback_module("route")?;
    out.push(handle.call::<String>("ann")?);
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
    assert_eq!(
        out[2],
        r#"plan: changed ["(main)", "M.handle"], added ["greet"]"#
    );
    assert_eq!(out[3], "applied: true");
    // #3 went to the verify probe.
    assert_eq!(out[4], "Welcome back, ann (#4)");
    assert_eq!(out[5], "Hello, ann (#5)");
}

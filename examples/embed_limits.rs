//! Running untrusted scripts: a sandbox, a memory limit, an instruction budget and a
//! watchdog.
//!
//! Run: `cargo run --example embed_limits`

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use hotlua::{Error, HookTriggers, Lua, LuaOptions, Result, StdLib, VmState};

fn run() -> Result<Vec<String>> {
    let mut report = Vec::new();

    // A sandbox: only the string, table and math libraries, and a chunk that sees only the
    // environment it is given.
    let lua = Lua::new_with(
        StdLib::STRING | StdLib::TABLE | StdLib::MATH,
        LuaOptions::new(),
    )?;
    let env = lua.create_table()?;
    env.set("math", lua.globals().get::<hotlua::Table>("math")?)?;
    let r: Option<String> = lua
        .load("return io and 'has io' or nil")
        .set_environment(env)
        .eval()?;
    report.push(format!(
        "sandbox: io is {}",
        if r.is_none() { "absent" } else { "present" }
    ));

    // A memory limit: going over it is a catchable Lua error.
    lua.set_memory_limit(lua.used_memory() + (2 << 20))?;
    match lua
        .load("local t = {} while true do t[#t + 1] = ('x'):rep(100) end")
        .exec()
    {
        Err(Error::MemoryError(msg)) => report.push(format!("memory: {msg}")),
        other => panic!("expected a memory error, got {other:?}"),
    }
    lua.set_memory_limit(0)?;

    // An instruction budget that scripts cannot remove (debug.sethook sets its own hook).
    let budget = Rc::new(Cell::new(10_000u32));
    let left = budget.clone();
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(100),
        move |_, _| {
            left.set(left.get().saturating_sub(1));
            if left.get() == 0 {
                Err(Error::runtime("instruction budget exhausted"))
            } else {
                Ok(VmState::Continue)
            }
        },
    );
    let e = lua.load("while true do end").exec().unwrap_err();
    report.push(format!(
        "budget: {}",
        e.to_string().lines().next().unwrap_or("")
    ));
    lua.remove_hook();

    // A watchdog thread: the interrupt handle is Send + Sync.
    let stop = lua.interrupt_handle();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        stop.interrupt();
    });
    let e = lua.load("while true do end").exec().unwrap_err();
    watchdog.join().expect("watchdog");
    report.push(format!(
        "watchdog: {}",
        e.to_string().lines().next().unwrap_or("")
    ));

    // After all that, the state is still usable.
    let n: i64 = lua.load("return 6 * 7").eval()?;
    report.push(format!("still usable: {n}"));
    Ok(report)
}

fn main() -> Result<()> {
    for line in run()? {
        println!("{line}");
    }
    Ok(())
}

#[test]
fn example_runs() {
    let r = run().unwrap();
    assert_eq!(r[0], "sandbox: io is absent");
    assert_eq!(r[1], "memory: not enough memory");
    assert!(r[2].contains("instruction budget exhausted"), "{}", r[2]);
    assert!(r[3].contains("interrupted"), "{}", r[3]);
    assert_eq!(r[4], "still usable: 42");
}

//! Driving the silly event loop from a host that keeps its own thread: Lua tasks sleep and
//! wake on timers while the host polls between its own work.
//!
//! Run: `cargo run --example embed_loop`

use std::time::Duration;

use hotlua::{Function, LoopStatus, Lua, Result};

fn run() -> Result<(String, u32)> {
    let lua = Lua::new();
    let worker: Function = lua
        .load(
            r#"
            return function(name)
              local time = require "silly.time"
              for i = 1, 3 do
                time.sleep(5)
                trace = (trace or "") .. name .. i .. " "
              end
            end
        "#,
        )
        .eval()?;
    lua.spawn(worker.clone(), "a")?;
    lua.spawn(worker, "b")?;

    // The host's own loop: poll without blocking, do other work, sleep until the next
    // timer is due.
    let mut host_ticks = 0;
    while let LoopStatus::Pending { next_deadline } = lua.poll(Some(Duration::ZERO))? {
        host_ticks += 1;
        std::thread::sleep(next_deadline.unwrap_or(Duration::from_millis(1)));
    }
    Ok((lua.globals().get("trace")?, host_ticks))
}

fn main() -> Result<()> {
    let (trace, ticks) = run()?;
    println!("{trace}(the host ran {ticks} times between rounds)");
    Ok(())
}

#[test]
fn example_runs() {
    let (trace, ticks) = run().unwrap();
    assert_eq!(trace, "a1 b1 a2 b2 a3 b3 ");
    assert!(ticks >= 3);
}

//! Any bytes as a Lua program, run with the safe standard libraries under an instruction
//! budget (200,000 instructions) and a memory limit (32 MiB): whatever the program does,
//! the VM answers a value or a Lua error; it never panics, crashes or hangs. The corpus
//! seeds are small programs of the kinds that found bugs (metamethods, coroutines, closing
//! variables, string patterns, goto).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lua = hotlua::Lua::new_with(hotlua::StdLib::ALL_SAFE, hotlua::LuaOptions::new())
        .expect("a state");
    let _ = lua.set_memory_limit(32 << 20);
    // Ending the process is what os.exit and silly.exit are for: not a finding.
    let _ = lua
        .load("os.exit = nil package.loaded.silly = {}")
        .exec();
    // The budget: a hook error alone can be caught by a pcall in the program (as in PUC Lua
    // and mlua), so once it is spent the interrupt, which stays raised, stops everything.
    let budget = std::cell::Cell::new(200u32);
    let stop = lua.interrupt_handle();
    lua.set_hook(
        hotlua::HookTriggers::new().every_nth_instruction(1000),
        move |_, _| {
            budget.set(budget.get().saturating_sub(1));
            if budget.get() == 0 {
                stop.interrupt();
                Err(hotlua::Error::runtime("budget exceeded"))
            } else {
                Ok(hotlua::VmState::Continue)
            }
        },
    );
    let _ = lua.load(data).set_mode(hotlua::ChunkMode::Text).exec();
    let _ = lua.gc_collect();
});

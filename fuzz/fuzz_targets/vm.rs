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
    let budget = std::cell::Cell::new(200u32);
    lua.set_hook(
        hotlua::HookTriggers::new().every_nth_instruction(1000),
        move |_, _| {
            budget.set(budget.get().saturating_sub(1));
            if budget.get() == 0 {
                Err(hotlua::Error::runtime("budget exceeded"))
            } else {
                Ok(hotlua::VmState::Continue)
            }
        },
    );
    let _ = lua.load(data).set_mode(hotlua::ChunkMode::Text).exec();
    let _ = lua.gc_collect();
});

//! Any bytes as a binary chunk (after the signature, so the fuzzer spends its time past the
//! header): the loader answers a verified prototype or an error, never panics. A chunk it
//! accepts is run under an instruction budget and a memory limit: verified bytecode must
//! not make the VM misbehave whatever it does.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut chunk = Vec::with_capacity(data.len() + 4);
    chunk.extend_from_slice(b"\x1bLua");
    chunk.extend_from_slice(data);
    if hotlua_vm::dump::undump(&chunk).is_err() {
        return;
    }
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
    let _ = lua.load(&chunk[..]).set_mode(hotlua::ChunkMode::Binary).exec();
});

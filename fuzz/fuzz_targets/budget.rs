//! The sandbox the Lua-running fuzz targets share: safe libraries, a 32 MiB memory limit,
//! process exits disabled (ending the process is what os.exit and silly.exit are for: not a
//! finding), and a budget of 200,000 instructions. A hook error alone can be caught by a
//! pcall in the program (as in PUC Lua and mlua), so once the budget is spent the hook also
//! raises the interrupt, which stays raised and stops everything.

pub fn sandbox() -> hotlua::Lua {
    let lua = hotlua::Lua::new_with(hotlua::StdLib::ALL_SAFE, hotlua::LuaOptions::new())
        .expect("a state");
    let _ = lua.set_memory_limit(32 << 20);
    let _ = lua
        .load("os.exit = nil package.loaded.silly = {}")
        .exec();
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
    lua
}

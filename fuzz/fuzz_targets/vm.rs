//! Any bytes as a Lua program, run with the safe standard libraries under an instruction
//! budget (200,000 instructions) and a memory limit (32 MiB): whatever the program does,
//! the VM answers a value or a Lua error; it never panics, crashes or hangs. The corpus
//! seeds are small programs of the kinds that found bugs (metamethods, coroutines, closing
//! variables, string patterns, goto).
#![no_main]
use libfuzzer_sys::fuzz_target;

mod budget;

fuzz_target!(|data: &[u8]| {
    let lua = budget::sandbox();
    let _ = lua.load(data).set_mode(hotlua::ChunkMode::Text).exec();
    let _ = lua.gc_collect();
});

//! Any bytes as a binary chunk (after the signature, so the fuzzer spends its time past the
//! header): the loader answers a verified prototype or an error, never panics. A chunk it
//! accepts is run under an instruction budget and a memory limit: verified bytecode must
//! not make the VM misbehave whatever it does.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod budget;

fuzz_target!(|data: &[u8]| {
    let mut chunk = Vec::with_capacity(data.len() + 4);
    chunk.extend_from_slice(b"\x1bLua");
    chunk.extend_from_slice(data);
    if hotlua_vm::dump::undump(&chunk).is_err() {
        return;
    }
    let lua = budget::sandbox();
    let _ = lua.load(&chunk[..]).set_mode(hotlua::ChunkMode::Binary).exec();
});

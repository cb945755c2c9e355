//! Any bytes as Lua source: the compiler answers a prototype or a compile error, never
//! panics, overflows its stack or hangs. A prototype it answers also passes the binary
//! chunk verifier (what the compiler makes, the loader accepts) and survives a dump/undump
//! round trip unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = hotlua_compiler::compile(data, "=fuzz") {
        let bytes = hotlua_vm::dump::dump_proto(&p, false);
        let back = hotlua_vm::dump::undump(&bytes).expect("a compiled chunk loads back");
        assert_eq!(hotlua_vm::dump::dump_proto(&back, false), bytes, "round trip");
    }
});

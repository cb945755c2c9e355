//! Any bytes as what a client sends on one connection, arriving a few bytes at a time (the
//! first byte chooses how many): the request reader (httparse plus the RFC 9112 framing of
//! `silly.net.http`) answers requests or a refusal, never panics or loops.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, rest)) = data.split_first() else {
        return;
    };
    hotlua_stdlib::silly::http::fuzz_requests(rest, usize::from(step % 64) + 1);
});

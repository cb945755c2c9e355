//! Compiler throughput over a generated multi-megabyte Lua file, in bytes per second:
//! `compile` (parse + code generation, what `luac -p` does), `parse` and `tokenize` alone. `cargo run --release -p hotlua-compiler --example gen_compile_input -- FILE`
//! writes the same file for a side-by-side `luac5.4 -p FILE`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "support/gen_input.rs"]
mod gen_input;

fn compile_throughput(c: &mut Criterion) {
    let source = gen_input::generate(4 << 20);
    hotlua_compiler::parse(source.as_bytes(), "=bench").expect("generated input parses");
    let mut group = c.benchmark_group("front_end");
    group.throughput(Throughput::Bytes(source.len() as u64));
    group.sample_size(10);
    group.bench_function("compile", |b| {
        b.iter(|| hotlua_compiler::compile(source.as_bytes(), "=bench"))
    });
    group.bench_function("parse", |b| {
        b.iter_with_large_drop(|| hotlua_compiler::parse(source.as_bytes(), "=bench"))
    });
    group.bench_function("tokenize", |b| {
        b.iter(|| {
            hotlua_compiler::lexer::tokenize(source.as_bytes())
                .tokens
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, compile_throughput);
criterion_main!(benches);

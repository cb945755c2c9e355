//! Writes the compile benchmark's input to a file, for `luac5.4 -p` comparisons:
//! `cargo run --release -p hotlua-compiler --example gen_compile_input -- /tmp/bench.lua`

#[path = "../benches/support/gen_input.rs"]
mod gen_input;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "compile_input.lua".to_string());
    let source = gen_input::generate(4 << 20);
    std::fs::write(&path, &source).expect("cannot write the output file");
    println!("wrote {} bytes to {path}", source.len());
}

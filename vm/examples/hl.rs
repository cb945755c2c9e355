//! Development runner: `cargo run -p hotlua-vm --example hl -- script.lua args...`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 2 && args[0] == "-l" {
        list(&args[1]);
        return;
    }
    std::process::exit(hotlua_vm::runner::run_main(args));
}

#[allow(dead_code)]
fn list(path: &str) {
    let src = std::fs::read(path).unwrap();
    let p = hotlua_compiler::compile(&src, "=x").unwrap();
    println!("{}", hotlua_compiler::codegen::listing::listing(&p));
}

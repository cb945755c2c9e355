//! Development runner: `cargo run -p hotlua-vm --example hl -- script.lua args...`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut vm = hotlua_vm::Vm::new();
    std::process::exit(hotlua_vm::runner::run_command_line(&mut vm, &args));
}

//! The `hotlua` command line. It only parses arguments and calls the library.
//!
//! ```text
//! hotlua [options] [script [args]]     run a script as lua5.4 does (-e code, -, --), its
//!                                      main chunk as the first task of the event loop
//! hotlua -p FILE...                    check that each FILE compiles (like luac -p)
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = if args.first().map(String::as_str) == Some("-p") {
        if args.len() < 2 {
            eprintln!("usage: hotlua -p FILE...");
            1
        } else {
            hotlua::check_files(&args[1..])
        }
    } else {
        hotlua::run_with_big_stack(move || hotlua::run_command_line(&args))
    };
    ExitCode::from(status as u8)
}

//! The `hotlua` command line. It only parses arguments and calls the library.

use std::process::ExitCode;

fn usage() -> ! {
    eprintln!("usage: hotlua -p FILE...      check that each FILE compiles (like luac -p)");
    std::process::exit(1);
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-p") if args.len() > 1 => check_files(&args[1..]),
        _ => usage(),
    }
}

/// `hotlua -p FILE...`: compiles every file without running it; silent on success, the first
/// error on stderr (as `luac -p` does) and exit status 1 otherwise.
fn check_files(files: &[String]) -> ExitCode {
    for file in files {
        let source = match std::fs::read(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("hotlua: cannot open {}: {}", file, e);
                return ExitCode::FAILURE;
            }
        };
        let chunk_name = format!("@{}", file);
        if let Err(e) = hotlua::compiler::compile(&source, &chunk_name) {
            eprintln!("hotlua: {}", e);
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

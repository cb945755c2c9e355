//! `hotlua -p FILE...`: compiles each file without running it, as `luac -p` (a `#` first
//! line is skipped, as `luaL_loadfile` skips it).

/// Silent on success; the first error on stderr (as `luac -p`) and status 1 otherwise.
pub fn check_files(progname: &str, files: &[Vec<u8>]) -> i32 {
    use std::os::unix::ffi::OsStrExt;
    for file in files {
        let shown = String::from_utf8_lossy(file);
        let source = match std::fs::read(std::ffi::OsStr::from_bytes(file)) {
            Ok(s) => s,
            Err(e) => {
                let msg = e.to_string();
                let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
                eprintln!("{progname}: cannot open {shown}: {msg}");
                return 1;
            }
        };
        let body = hotlua_compiler::file_chunk(&source);
        if body.first() == Some(&0x1b) {
            continue; // a binary chunk: compiled already
        }
        if let Err(e) = hotlua_compiler::compile(body, &format!("@{shown}")) {
            eprintln!("{progname}: {e}");
            return 1;
        }
    }
    0
}

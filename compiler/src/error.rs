//! Compile errors and chunk names, formatted exactly as PUC Lua formats them.

use std::fmt;

/// Lua's `LUA_IDSIZE`: the size of a chunk id including its terminating zero.
const ID_SIZE: usize = 60;

/// A syntax or compile-time error. `message` is the complete text Lua would show, such as
/// `x.lua:3: '=' expected near 'y'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub message: String,
}

impl CompileError {
    /// Builds `"<chunkid>:<line>: <msg>"`.
    pub fn new(chunk_name: &str, line: u32, msg: impl fmt::Display) -> CompileError {
        CompileError {
            message: format!("{}:{}: {}", chunk_id(chunk_name), line, msg),
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CompileError {}

/// The printable form of a chunk name, as Lua's `luaO_chunkid`: `@file` shows as `file`
/// (the tail, after `...`, when it is long), `=name` as `name`, and source text as
/// `[string "first line..."]`.
pub fn chunk_id(source: &str) -> String {
    let bytes = source.as_bytes();
    match bytes.first() {
        Some(b'=') => {
            let rest = &bytes[1..];
            let keep = rest.len().min(ID_SIZE - 1);
            String::from_utf8_lossy(&rest[..keep]).into_owned()
        }
        Some(b'@') => {
            let rest = &bytes[1..];
            if rest.len() < ID_SIZE {
                String::from_utf8_lossy(rest).into_owned()
            } else {
                let keep = ID_SIZE - 1 - 3;
                format!("...{}", String::from_utf8_lossy(&rest[rest.len() - keep..]))
            }
        }
        _ => {
            // Room left for the text after `[string "`, `..."]` and the terminating zero.
            let room = ID_SIZE - ("[string \"".len() + "...".len() + "\"]".len()) - 1;
            let newline = bytes.iter().position(|&b| b == b'\n');
            if newline.is_none() && bytes.len() < room {
                format!("[string \"{}\"]", source)
            } else {
                let end = newline.unwrap_or(bytes.len()).min(room);
                format!("[string \"{}...\"]", String::from_utf8_lossy(&bytes[..end]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ids_follow_lua() {
        assert_eq!(chunk_id("@x.lua"), "x.lua");
        assert_eq!(chunk_id("=stdin"), "stdin");
        assert_eq!(chunk_id("x = 1"), "[string \"x = 1\"]");
        assert_eq!(chunk_id("x = 1\ny = 2"), "[string \"x = 1...\"]");
        let long = format!("@{}", "a".repeat(100));
        assert_eq!(chunk_id(&long), format!("...{}", "a".repeat(56)));
        let long_src = "b".repeat(100);
        assert_eq!(
            chunk_id(&long_src),
            format!("[string \"{}...\"]", "b".repeat(45))
        );
        assert_eq!(
            CompileError::new("@x.lua", 3, "'=' expected near 'y'").message,
            "x.lua:3: '=' expected near 'y'"
        );
    }
}

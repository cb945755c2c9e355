//! hotlua-compiler: Lua 5.4 source text to register bytecode.
//!
//! The pipeline is [`lexer`] (logos) → [`parser`] (lalrpop, builds the [`ast`]) →
//! [`codegen`] (scopes, registers, jumps) → [`proto::Proto`], plain data the VM instantiates.
//! Every error is a [`CompileError`] whose message is the one PUC Lua would give.
//!
//! ```
//! let proto = hotlua_compiler::compile(b"local x = 1 return x + 1", "=example").unwrap();
//! assert!(!proto.code.is_empty());
//! ```

pub mod ast;
pub mod codegen;
pub mod error;
pub mod lexer;
mod limits;
pub mod number;
pub mod opcode;
pub mod parser;
pub mod proto;
pub mod strings;

pub use error::{chunk_id, CompileError};

/// What `luaL_loadfile` skips at the start of a file before compiling it: a UTF-8 byte
/// order mark, then a first line starting with `#` (a shebang). The line's newline is kept,
/// so line numbers stay right. Chunks given as strings (`load`) are compiled as they are.
pub fn strip_file_header(source: &[u8]) -> &[u8] {
    let s = source.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(source);
    if s.first() == Some(&b'#') {
        let end = s
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(s.len());
        &s[end..]
    } else {
        s
    }
}

/// The chunk a file holds, as `luaL_loadfilex` reads it: [`strip_file_header`]'s text, or,
/// when the first byte after the byte order mark and the `#` line is ESC, the binary chunk
/// that starts there (the `#` line is skipped with its `\n`, so a binary file may start
/// with a comment line).
pub fn file_chunk(source: &[u8]) -> &[u8] {
    let s = source.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(source);
    let after_comment = if s.first() == Some(&b'#') {
        match s.iter().position(|&b| b == b'\n') {
            Some(nl) => &s[nl + 1..],
            None => &[][..],
        }
    } else {
        s
    };
    if after_comment.first() == Some(&0x1b) {
        after_comment
    } else {
        strip_file_header(source)
    }
}

/// Parses a chunk into its syntax tree. `chunk_name` follows Lua's conventions (`@file.lua`,
/// `=stdin`, or the source text itself) and is used in error messages.
pub fn parse(source: &[u8], chunk_name: &str) -> Result<ast::Chunk, CompileError> {
    parser::parse_chunk(source, chunk_name)
}

/// Compiles a chunk to the prototype of its main function, making every check `luac` makes.
pub fn compile(source: &[u8], chunk_name: &str) -> Result<proto::Proto, CompileError> {
    let chunk = parse(source, chunk_name)?;
    codegen::generate(&chunk, chunk_name, false)
}

/// Compiles a chunk as a module (what `require` loads): as [`compile`], except that the
/// main function's top-level locals (those of the chunk's own scope, not of its nested
/// blocks) live in upvalues of the main function instead of registers. Their cells then
/// outlive the chunk, so hot patching finds a module's whole state even where no function
/// captured it. Behaviour is Lua's in every other respect; `debug.getlocal` on the running
/// main chunk does not list those locals (`debug.getupvalue` of it does).
pub fn compile_module(source: &[u8], chunk_name: &str) -> Result<proto::Proto, CompileError> {
    let chunk = parse(source, chunk_name)?;
    let mut p = codegen::generate(&chunk, chunk_name, true)?;
    p.source_hash = source_hash(source);
    Ok(p)
}

/// The FNV-1a hash (64 bits) of a source text, as [`proto::Proto::source_hash`] records it.
pub fn source_hash(source: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in source {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

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
pub mod number;
pub mod opcode;
pub mod parser;
pub mod proto;

pub use error::{chunk_id, CompileError};

/// Parses a chunk into its syntax tree. `chunk_name` follows Lua's conventions (`@file.lua`,
/// `=stdin`, or the source text itself) and is used in error messages.
pub fn parse(source: &[u8], chunk_name: &str) -> Result<ast::Chunk, CompileError> {
    parser::parse_chunk(source, chunk_name)
}

/// Compiles a chunk to the prototype of its main function, making every check `luac` makes.
pub fn compile(source: &[u8], chunk_name: &str) -> Result<proto::Proto, CompileError> {
    let chunk = parse(source, chunk_name)?;
    codegen::generate(&chunk, chunk_name)
}

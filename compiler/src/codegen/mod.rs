//! Code generation: the syntax tree to a [`Proto`].

use crate::ast::Chunk;
use crate::error::CompileError;
use crate::proto::Proto;

/// Compiles a parsed chunk into the prototype of its main function.
pub fn generate(chunk: &Chunk, chunk_name: &str) -> Result<Proto, CompileError> {
    let _ = chunk;
    Err(CompileError::new(chunk_name, 1, "code generator not built yet"))
}

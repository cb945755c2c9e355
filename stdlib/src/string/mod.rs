//! The engines of Lua's `string` library: patterns, `string.format`, `string.pack`.
//!
//! Invariant: everything here is pure Rust over bytes with no VM dependency; errors are
//! Lua's message texts, which the native wrappers raise as Lua errors.

pub mod format;
pub mod lib;
pub mod pack;
pub mod pattern;

/// An error raised by an engine, in Lua's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LibError {
    /// A plain error message (`invalid conversion '%y' to 'format'`).
    Msg(String),
    /// An argument error: Lua's argument number (the first argument is #1) and the text
    /// Lua puts in parentheses (`bad argument #2 to 'format' (no value)`).
    Arg(usize, String),
}

impl From<String> for LibError {
    fn from(s: String) -> Self {
        LibError::Msg(s)
    }
}

impl LibError {
    /// The full message as Lua shows it, given the function's name for argument errors.
    pub fn message(&self, fname: &str) -> String {
        match self {
            LibError::Msg(m) => m.clone(),
            LibError::Arg(n, m) => format!("bad argument #{n} to '{fname}' ({m})"),
        }
    }
}

//! hotlua: a Lua 5.4 virtual machine with first-class hot patching.
pub use hotlua_compiler as compiler;

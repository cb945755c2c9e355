//! `LuaError`: an error in flight. Any Lua value can be an error object; the runner may also
//! ask for the traceback captured where the error was raised.

use crate::value::Value;

/// An error raised by Lua code, a native function, or the VM itself.
///
/// The `value` is only guaranteed to stay alive until the next collection; a host keeping it
/// longer should convert it (`Vm::to_display`) or root it (`Vm::root`). The Vm also keeps
/// the last error that left it rooted until the next error.
#[derive(Clone, Copy, Debug)]
pub struct LuaError {
    /// The error object (the message string, for most errors).
    pub value: Value,
}

impl LuaError {
    /// Wraps an error value.
    pub fn new(value: Value) -> LuaError {
        LuaError { value }
    }
}

/// Result of a native function: the number of results it pushed.
pub type NativeResult = Result<usize, LuaError>;

//! [`Error`] and [`Result`]: mlua's shapes (0.10), so that error handling written against
//! mlua compiles against hotlua.

use std::fmt;
use std::sync::Arc;

/// The result of an operation on a Lua state.
pub type Result<T> = std::result::Result<T, Error>;

/// An error from Lua, from a Rust callback, or from a conversion.
///
/// It is `Send + Sync` and converts into `Box<dyn std::error::Error + Send + Sync>`, so `?`
/// works in functions returning either.
///
/// ```
/// use hotlua::{Error, Lua};
/// let lua = Lua::new();
/// match lua.load("error('boom')").exec() {
///     Err(Error::RuntimeError(msg)) => assert!(msg.starts_with("[string \"error('boom')\"]:1: boom")),
///     other => panic!("{other:?}"),
/// }
/// let e = lua.load("x = = 1").exec().unwrap_err();
/// assert!(matches!(e, Error::SyntaxError { incomplete_input: false, .. }));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// A chunk did not compile. `incomplete_input` is true when more input could complete
    /// it (the error is at the end of the source), as an interactive prompt wants to know.
    SyntaxError {
        /// The compiler's message, as Lua gives it (`chunk:line: message near 'token'`).
        message: String,
        /// The error is at `<eof>`: more input might make the chunk valid.
        incomplete_input: bool,
    },
    /// A Lua error (`error(...)`, a failed operation) with its message and, when it reached
    /// Rust from a call, the traceback.
    RuntimeError(String),
    /// An allocation failed or the memory limit was reached ("not enough memory").
    MemoryError(String),
    /// A mutable callback (`create_function_mut`) was called while it was running.
    RecursiveMutCallback,
    /// A callback was called after its state started closing.
    CallbackDestructed,
    /// A userdata's Rust value was taken (`AnyUserData::take`) or destructed.
    UserDataDestructed,
    /// A userdata is not of the expected Rust type.
    UserDataTypeMismatch,
    /// A userdata could not be borrowed: it is mutably borrowed.
    UserDataBorrowError,
    /// A userdata could not be borrowed mutably: it is borrowed.
    UserDataBorrowMutError,
    /// A registry key of another state, or one already removed.
    MismatchedRegistryKey,
    /// A coroutine that cannot be resumed (dead, running, or normal).
    CoroutineUnresumable,
    /// A Rust value could not be converted to a Lua value.
    ToLuaConversionError {
        /// The Rust type.
        from: String,
        /// The Lua type.
        to: &'static str,
        /// Why.
        message: Option<String>,
    },
    /// A Lua value could not be converted to the Rust type asked for.
    FromLuaConversionError {
        /// The Lua type.
        from: &'static str,
        /// The Rust type.
        to: String,
        /// Why.
        message: Option<String>,
    },
    /// An argument of a Rust callback could not be converted.
    BadArgument {
        /// The function, when known.
        to: Option<String>,
        /// The argument's position (1-based).
        pos: usize,
        /// The argument's name, when known.
        name: Option<String>,
        /// The conversion error.
        cause: Arc<Error>,
    },
    /// A Rust callback failed: `cause` is its error, `traceback` the Lua traceback where it
    /// was called.
    CallbackError {
        /// The Lua traceback at the call.
        traceback: String,
        /// The callback's error.
        cause: Arc<Error>,
    },
    /// An error of the host's own type (see [`Error::external`]).
    ExternalError(Arc<dyn std::error::Error + Send + Sync>),
    /// An error with context added (see [`ErrorContext`]).
    WithContext {
        /// The context.
        context: String,
        /// The original error.
        cause: Arc<Error>,
    },
}

impl Error {
    /// A runtime error with `message` (what `error(message)` gives in Lua).
    pub fn runtime<T: fmt::Display>(message: T) -> Error {
        Error::RuntimeError(message.to_string())
    }

    /// Wraps any error type of the host.
    pub fn external<T: Into<Box<dyn std::error::Error + Send + Sync>>>(err: T) -> Error {
        Error::ExternalError(Arc::from(err.into()))
    }

    /// The external error of type `T` inside this error (through callbacks and context).
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        match self {
            Error::ExternalError(e) => e.downcast_ref(),
            Error::CallbackError { cause, .. } | Error::WithContext { cause, .. } => {
                cause.downcast_ref()
            }
            Error::BadArgument { cause, .. } => cause.downcast_ref(),
            _ => None,
        }
    }

    /// This error and its causes, outermost first.
    pub fn chain(&self) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(self);
        std::iter::from_fn(move || {
            let cur = next?;
            next = cur.source();
            Some(cur)
        })
    }

    pub(crate) fn from_lua_conversion(from: &'static str, to: &str, msg: Option<String>) -> Error {
        Error::FromLuaConversionError {
            from,
            to: to.to_string(),
            message: msg,
        }
    }

    /// The error as Lua code sees it when it reaches Lua (`tostring(e)`).
    pub(crate) fn lua_message(&self) -> String {
        match self {
            Error::RuntimeError(m) | Error::MemoryError(m) => m.clone(),
            Error::SyntaxError { message, .. } => message.clone(),
            Error::CallbackError { cause, .. } => cause.lua_message(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SyntaxError { message, .. } => write!(f, "syntax error: {message}"),
            Error::RuntimeError(m) => write!(f, "runtime error: {m}"),
            Error::MemoryError(m) => write!(f, "memory error: {m}"),
            Error::RecursiveMutCallback => write!(f, "mutable callback called recursively"),
            Error::CallbackDestructed => write!(f, "a destructed callback was called"),
            Error::UserDataDestructed => write!(f, "userdata has been destructed"),
            Error::UserDataTypeMismatch => write!(f, "userdata is not expected type"),
            Error::UserDataBorrowError => write!(f, "error borrowing userdata"),
            Error::UserDataBorrowMutError => write!(f, "error mutably borrowing userdata"),
            Error::MismatchedRegistryKey => {
                write!(f, "RegistryKey used from different Lua state")
            }
            Error::CoroutineUnresumable => write!(f, "coroutine is non-resumable"),
            Error::ToLuaConversionError { from, to, message } => {
                write!(f, "error converting {from} to Lua {to}")?;
                match message {
                    Some(m) => write!(f, " ({m})"),
                    None => Ok(()),
                }
            }
            Error::FromLuaConversionError { from, to, message } => {
                write!(f, "error converting Lua {from} to {to}")?;
                match message {
                    Some(m) => write!(f, " ({m})"),
                    None => Ok(()),
                }
            }
            Error::BadArgument {
                to,
                pos,
                name,
                cause,
            } => {
                match name {
                    Some(n) => write!(f, "bad argument #{pos} `{n}`")?,
                    None => write!(f, "bad argument #{pos}")?,
                }
                if let Some(to) = to {
                    write!(f, " to `{to}`")?;
                }
                write!(f, ": {cause}")
            }
            Error::CallbackError { traceback, cause } => {
                write!(f, "callback error: {cause}")?;
                if !traceback.is_empty() {
                    write!(f, "\n{traceback}")?;
                }
                Ok(())
            }
            Error::ExternalError(e) => write!(f, "{e}"),
            Error::WithContext { context, cause } => write!(f, "{context}\n{cause}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::CallbackError { cause, .. }
            | Error::WithContext { cause, .. }
            | Error::BadArgument { cause, .. } => Some(&**cause),
            Error::ExternalError(e) => Some(&**e),
            _ => None,
        }
    }
}

/// Turns any error into an [`Error`] (`ExternalError`), for `?` in callbacks.
///
/// ```
/// use hotlua::{ExternalError, Lua};
/// let lua = Lua::new();
/// let parse = lua.create_function(|_, s: String| {
///     s.parse::<i64>().map_err(|e| e.into_lua_err())
/// }).unwrap();
/// assert!(parse.call::<i64>("12").is_ok());
/// assert!(parse.call::<i64>("x").is_err());
/// ```
pub trait ExternalError {
    /// Converts `self` into an [`Error`].
    fn into_lua_err(self) -> Error;
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> ExternalError for E {
    fn into_lua_err(self) -> Error {
        Error::external(self)
    }
}

/// Turns the error of any `Result` into an [`Error`].
pub trait ExternalResult<T> {
    /// Converts the error into an [`Error`].
    fn into_lua_err(self) -> Result<T>;
}

impl<T, E: ExternalError> ExternalResult<T> for std::result::Result<T, E> {
    fn into_lua_err(self) -> Result<T> {
        self.map_err(|e| e.into_lua_err())
    }
}

/// Adds context to an error.
///
/// ```
/// use hotlua::{Error, ErrorContext};
/// let r: hotlua::Result<()> = Err(Error::runtime("disk full"));
/// let e = r.context("saving the state").unwrap_err();
/// assert_eq!(e.to_string(), "saving the state\nruntime error: disk full");
/// ```
pub trait ErrorContext: Sized {
    /// Wraps the error with `context`.
    fn context<C: fmt::Display>(self, context: C) -> Self;
    /// Wraps the error with the context `f` computes.
    fn with_context<C: fmt::Display>(self, f: impl FnOnce(&Error) -> C) -> Self;
}

impl ErrorContext for Error {
    fn context<C: fmt::Display>(self, context: C) -> Self {
        Error::WithContext {
            context: context.to_string(),
            cause: Arc::new(self),
        }
    }
    fn with_context<C: fmt::Display>(self, f: impl FnOnce(&Error) -> C) -> Self {
        let context = f(&self).to_string();
        self.context(context)
    }
}

impl<T> ErrorContext for Result<T> {
    fn context<C: fmt::Display>(self, context: C) -> Self {
        self.map_err(|e| e.context(context))
    }
    fn with_context<C: fmt::Display>(self, f: impl FnOnce(&Error) -> C) -> Self {
        self.map_err(|e| e.with_context(f))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::external(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn error_is_send_sync_and_boxes() {
        assert_send_sync::<Error>();
        let e: Box<dyn std::error::Error + Send + Sync> = Error::runtime("x").into();
        assert_eq!(e.to_string(), "runtime error: x");
    }

    #[test]
    fn external_errors_downcast_through_callbacks() {
        let io = std::io::Error::other("gone");
        let e = Error::CallbackError {
            traceback: String::new(),
            cause: Arc::new(Error::external(io)),
        };
        assert_eq!(
            e.downcast_ref::<std::io::Error>().map(|e| e.to_string()),
            Some("gone".to_string())
        );
        assert_eq!(e.chain().count(), 3);
    }
}

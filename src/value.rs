//! [`Value`]: a Lua value as the host sees it. Collectable values are handles, which keep
//! the object alive while they exist.

use std::fmt;

use crate::error::{Error, Result};
use crate::{AnyUserData, Function, String, Table, Thread};

/// Lua's integer type.
pub type Integer = i64;
/// Lua's float type.
pub type Number = f64;

/// A light userdata: a pointer-sized value Lua only compares (never dereferenced).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LightUserData(pub *mut std::ffi::c_void);

/// A Lua value.
///
/// ```
/// use hotlua::{Lua, Value};
/// let lua = Lua::new();
/// let v: Value = lua.load("return {1, 2}").eval().unwrap();
/// assert_eq!(v.type_name(), "table");
/// assert!(v.as_table().is_some());
/// assert_eq!(Value::Integer(3).as_integer(), Some(3));
/// assert!(Value::Nil.is_nil());
/// ```
#[derive(Clone, Default)]
pub enum Value {
    /// `nil`.
    #[default]
    Nil,
    /// `true` or `false`.
    Boolean(bool),
    /// A light userdata.
    LightUserData(LightUserData),
    /// An integer.
    Integer(Integer),
    /// A float.
    Number(Number),
    /// A string.
    String(String),
    /// A table.
    Table(Table),
    /// A function (Lua or Rust).
    Function(Function),
    /// A coroutine.
    Thread(Thread),
    /// A full userdata.
    UserData(AnyUserData),
    /// A Rust error travelling as a Lua value.
    Error(Box<Error>),
}

/// `nil`, for use in argument lists: `f.call::<()>((1, Nil, 3))`.
#[allow(non_upper_case_globals)]
pub const Nil: Value = Value::Nil;

impl Value {
    /// `type(v)`'s answer.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Boolean(_) => "boolean",
            Value::LightUserData(_) | Value::UserData(_) => "userdata",
            Value::Integer(_) | Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Table(_) => "table",
            Value::Function(_) => "function",
            Value::Thread(_) => "thread",
            Value::Error(_) => "error",
        }
    }

    /// True for `nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
    /// True for `nil` or a null light userdata.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Nil) || matches!(self, Value::LightUserData(p) if p.0.is_null())
    }
    /// True for a boolean.
    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Boolean(_))
    }
    /// The boolean, if this is one.
    pub fn as_boolean(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }
    /// True for an integer.
    pub fn is_integer(&self) -> bool {
        matches!(self, Value::Integer(_))
    }
    /// The integer, if this is one (no conversion).
    pub fn as_integer(&self) -> Option<Integer> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
    /// The integer as `i32`, if it is one and fits.
    pub fn as_i32(&self) -> Option<i32> {
        self.as_integer().and_then(|i| i32::try_from(i).ok())
    }
    /// The integer as `u32`, if it is one and fits.
    pub fn as_u32(&self) -> Option<u32> {
        self.as_integer().and_then(|i| u32::try_from(i).ok())
    }
    /// The integer as `i64`, if it is one.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_integer()
    }
    /// The integer as `usize`, if it is one and fits.
    pub fn as_usize(&self) -> Option<usize> {
        self.as_integer().and_then(|i| usize::try_from(i).ok())
    }
    /// True for a float.
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }
    /// The float, if this is one (no conversion).
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(f) => Some(*f),
            _ => None,
        }
    }
    /// The number as `f64`: a float, or an integer converted.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(f) => Some(*f),
            Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
    /// The number as `f32`.
    pub fn as_f32(&self) -> Option<f32> {
        self.as_f64().map(|f| f as f32)
    }
    /// True for a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }
    /// The string's text, if this is a string of valid UTF-8.
    pub fn as_str(&self) -> Option<crate::string::BorrowedStr<'_>> {
        match self {
            Value::String(s) => s.to_str().ok(),
            _ => None,
        }
    }
    /// The string handle, if this is one.
    pub fn as_string(&self) -> Option<&String> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// The string's text with invalid UTF-8 replaced, if this is a string.
    pub fn as_string_lossy(&self) -> Option<std::string::String> {
        match self {
            Value::String(s) => Some(s.to_string_lossy()),
            _ => None,
        }
    }
    /// True for a table.
    pub fn is_table(&self) -> bool {
        matches!(self, Value::Table(_))
    }
    /// The table, if this is one.
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }
    /// True for a function.
    pub fn is_function(&self) -> bool {
        matches!(self, Value::Function(_))
    }
    /// The function, if this is one.
    pub fn as_function(&self) -> Option<&Function> {
        match self {
            Value::Function(f) => Some(f),
            _ => None,
        }
    }
    /// True for a coroutine.
    pub fn is_thread(&self) -> bool {
        matches!(self, Value::Thread(_))
    }
    /// The coroutine, if this is one.
    pub fn as_thread(&self) -> Option<&Thread> {
        match self {
            Value::Thread(t) => Some(t),
            _ => None,
        }
    }
    /// True for a full userdata.
    pub fn is_userdata(&self) -> bool {
        matches!(self, Value::UserData(_))
    }
    /// The userdata, if this is one.
    pub fn as_userdata(&self) -> Option<&AnyUserData> {
        match self {
            Value::UserData(u) => Some(u),
            _ => None,
        }
    }
    /// True for a light userdata.
    pub fn is_light_userdata(&self) -> bool {
        matches!(self, Value::LightUserData(_))
    }
    /// The light userdata, if this is one.
    pub fn as_light_userdata(&self) -> Option<LightUserData> {
        match self {
            Value::LightUserData(p) => Some(*p),
            _ => None,
        }
    }
    /// True for an error value.
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }
    /// The error, if this is one.
    pub fn as_error(&self) -> Option<&Error> {
        match self {
            Value::Error(e) => Some(e),
            _ => None,
        }
    }

    /// The object's address for reference types (what `%p` shows), else null.
    pub fn to_pointer(&self) -> *const std::ffi::c_void {
        let addr = match self {
            Value::String(s) => s.0.pointer(),
            Value::Table(t) => t.0.pointer(),
            Value::Function(f) => f.0.pointer(),
            Value::Thread(t) => t.0.pointer(),
            Value::UserData(u) => u.0.pointer(),
            Value::LightUserData(p) => p.0 as usize,
            _ => 0,
        };
        addr as *const std::ffi::c_void
    }

    /// `tostring(v)` as Lua computes it (`__tostring` and `__name` included).
    pub fn to_string(&self) -> Result<std::string::String> {
        match self {
            Value::Nil => Ok("nil".into()),
            Value::Boolean(b) => Ok(b.to_string()),
            Value::Integer(i) => Ok(i.to_string()),
            Value::Error(e) => Ok(e.to_string()),
            Value::LightUserData(p) => Ok(format!("userdata: {:p}", p.0)),
            Value::Number(_) => Ok(crate::conversion::number_text(self)),
            Value::String(s) => Ok(s.to_string_lossy()),
            Value::Table(t) => crate::conversion::tostring_ref(&t.0),
            Value::Function(f) => crate::conversion::tostring_ref(&f.0),
            Value::Thread(t) => crate::conversion::tostring_ref(&t.0),
            Value::UserData(u) => crate::conversion::tostring_ref(&u.0),
        }
    }

    /// Equality as `==` computes it (`__eq` included).
    pub fn equals(&self, other: &Value) -> Result<bool> {
        crate::conversion::equals(self, other)
    }
}

impl PartialEq for Value {
    /// Raw equality (`rawequal`): no metamethods; `1 == 1.0`.
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::Integer(a), Value::Integer(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::Integer(i), Value::Number(f)) | (Value::Number(f), Value::Integer(i)) => {
                *i as f64 == *f && (*f as i64) == *i
            }
            (Value::LightUserData(a), Value::LightUserData(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Table(a), Value::Table(b)) => a == b,
            (Value::Function(a), Value::Function(b)) => a == b,
            (Value::Thread(a), Value::Thread(b)) => a == b,
            (Value::UserData(a), Value::UserData(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Number(n) => write!(f, "{n:?}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Error(e) => write!(f, "error: {e}"),
            Value::LightUserData(p) => write!(f, "userdata: {:p}", p.0),
            other => write!(f, "{}: {:p}", other.type_name(), other.to_pointer()),
        }
    }
}

impl From<Error> for Value {
    fn from(e: Error) -> Value {
        Value::Error(Box::new(e))
    }
}

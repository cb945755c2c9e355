//! Conversions between Rust values and Lua values: [`IntoLua`] and [`FromLua`] for the
//! usual Rust types and every handle.
//!
//! Numbers follow Lua's rules: an integer type accepts an integer, a float with an exact
//! integer value, or a string Lua would convert (`"42"`), and fails when out of range; a
//! float type accepts any number or numeric string. `bool` takes Lua's truthiness.
//! `std::string::String` accepts strings (valid UTF-8) and numbers (converted as `tostring`
//! does).

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use hotlua_vm::Value as Raw;

use crate::error::{Error, Result};
use crate::state::{Lua, ValueRef};
use crate::value::{Integer, LightUserData, Number, Value};
use crate::{AnyUserData, Function, String, Table, Thread};

/// A Rust value that can become a Lua value.
pub trait IntoLua: Sized {
    /// Converts `self` for `lua`.
    fn into_lua(self, lua: &Lua) -> Result<Value>;
}

/// A Rust value that can be made from a Lua value.
pub trait FromLua: Sized {
    /// Converts `value`.
    fn from_lua(value: Value, lua: &Lua) -> Result<Self>;
}

impl IntoLua for Value {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(self)
    }
}

impl IntoLua for &Value {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(self.clone())
    }
}

impl FromLua for Value {
    fn from_lua(value: Value, _: &Lua) -> Result<Value> {
        Ok(value)
    }
}

macro_rules! handle_conv {
    ($t:ident, $variant:ident, $name:expr) => {
        impl IntoLua for $t {
            fn into_lua(self, _: &Lua) -> Result<Value> {
                Ok(Value::$variant(self))
            }
        }
        impl IntoLua for &$t {
            fn into_lua(self, _: &Lua) -> Result<Value> {
                Ok(Value::$variant(self.clone()))
            }
        }
        impl FromLua for $t {
            fn from_lua(value: Value, _: &Lua) -> Result<$t> {
                match value {
                    Value::$variant(v) => Ok(v),
                    other => Err(Error::from_lua_conversion(other.type_name(), $name, None)),
                }
            }
        }
    };
}

handle_conv!(Table, Table, "table");
handle_conv!(Function, Function, "function");
handle_conv!(Thread, Thread, "thread");
handle_conv!(AnyUserData, UserData, "userdata");

impl IntoLua for String {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(Value::String(self))
    }
}

impl IntoLua for &String {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(Value::String(self.clone()))
    }
}

impl FromLua for String {
    /// A string, or a number converted as `tostring` does.
    fn from_lua(value: Value, lua: &Lua) -> Result<String> {
        match value {
            Value::String(s) => Ok(s),
            Value::Integer(_) | Value::Number(_) => lua.create_string(number_text(&value)),
            other => Err(Error::from_lua_conversion(
                other.type_name(),
                "string",
                None,
            )),
        }
    }
}

impl IntoLua for LightUserData {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(Value::LightUserData(self))
    }
}

impl FromLua for LightUserData {
    fn from_lua(value: Value, _: &Lua) -> Result<LightUserData> {
        match value {
            Value::LightUserData(p) => Ok(p),
            other => Err(Error::from_lua_conversion(
                other.type_name(),
                "light userdata",
                None,
            )),
        }
    }
}

impl IntoLua for Error {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(Value::Error(Box::new(self)))
    }
}

impl FromLua for Error {
    fn from_lua(value: Value, lua: &Lua) -> Result<Error> {
        match value {
            Value::Error(e) => Ok(*e),
            other => Ok(Error::RuntimeError(
                other
                    .to_string()
                    .or_else(|_| std::string::String::from_lua(other, lua))?,
            )),
        }
    }
}

impl IntoLua for bool {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(Value::Boolean(self))
    }
}

impl FromLua for bool {
    /// Lua's truthiness: `nil` and `false` are false, everything else true.
    fn from_lua(value: Value, _: &Lua) -> Result<bool> {
        Ok(match value {
            Value::Nil => false,
            Value::Boolean(b) => b,
            _ => true,
        })
    }
}

/// The text `tostring` gives a number (`%.14g` for floats, `.0` for integral ones).
pub(crate) fn number_text(v: &Value) -> std::string::String {
    match v {
        Value::Integer(i) => i.to_string(),
        Value::Number(f) => hotlua_vm::numfmt::float_to_string(*f),
        _ => std::string::String::new(),
    }
}

/// A string converted to a number as Lua's arithmetic does (`" 0x10 "` is 16).
fn string_number(s: &String) -> Option<Value> {
    let b = s.to_vec();
    match hotlua_compiler::number::str_to_number(&b)? {
        hotlua_compiler::number::Number::Int(i) => Some(Value::Integer(i)),
        hotlua_compiler::number::Number::Float(f) => Some(Value::Number(f)),
    }
}

macro_rules! int_conv {
    ($($t:ty),*) => {$(
        impl IntoLua for $t {
            fn into_lua(self, _: &Lua) -> Result<Value> {
                match i64::try_from(self) {
                    Ok(i) => Ok(Value::Integer(i)),
                    // Beyond i64 (large u64/usize/u128): a float, as Lua would hold it.
                    Err(_) => Ok(Value::Number(self as f64)),
                }
            }
        }
        impl FromLua for $t {
            fn from_lua(value: Value, _: &Lua) -> Result<$t> {
                let ty = value.type_name();
                let n = match &value {
                    Value::String(s) => string_number(s),
                    v => Some(v.clone()),
                };
                let i = match n {
                    Some(Value::Integer(i)) => Some(i),
                    Some(Value::Number(f)) => {
                        if f.fract() == 0.0 && (-9.223372036854776e18..9.223372036854776e18).contains(&f) {
                            Some(f as i64)
                        } else if f.fract() == 0.0 && (0.0..1.8446744073709552e19).contains(&f)
                            && <$t>::try_from(u64::MAX).is_ok()
                        {
                            // Exactly representable and in range of a 64-bit unsigned type.
                            return <$t>::try_from(f as u64).map_err(|_| {
                                Error::from_lua_conversion(ty, stringify!($t), Some("out of range".into()))
                            });
                        } else {
                            return Err(Error::from_lua_conversion(
                                ty,
                                stringify!($t),
                                Some("number has no integer representation".into()),
                            ));
                        }
                    }
                    _ => None,
                };
                match i {
                    Some(i) => <$t>::try_from(i).map_err(|_| {
                        Error::from_lua_conversion(ty, stringify!($t), Some("out of range".into()))
                    }),
                    None => Err(Error::from_lua_conversion(
                        ty,
                        stringify!($t),
                        Some("expected number or string coercible to number".into()),
                    )),
                }
            }
        }
    )*};
}

int_conv!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

macro_rules! float_conv {
    ($($t:ty),*) => {$(
        impl IntoLua for $t {
            fn into_lua(self, _: &Lua) -> Result<Value> {
                Ok(Value::Number(self as f64))
            }
        }
        impl FromLua for $t {
            fn from_lua(value: Value, _: &Lua) -> Result<$t> {
                let ty = value.type_name();
                let n = match &value {
                    Value::String(s) => string_number(s),
                    v => Some(v.clone()),
                };
                match n {
                    Some(Value::Integer(i)) => Ok(i as $t),
                    Some(Value::Number(f)) => Ok(f as $t),
                    _ => Err(Error::from_lua_conversion(
                        ty,
                        stringify!($t),
                        Some("expected number or string coercible to number".into()),
                    )),
                }
            }
        }
    )*};
}

float_conv!(f32, f64);

impl IntoLua for &str {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self)?))
    }
}

impl IntoLua for std::string::String {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self)?))
    }
}

impl IntoLua for &std::string::String {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self)?))
    }
}

impl IntoLua for Box<str> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(&*self)?))
    }
}

impl IntoLua for std::borrow::Cow<'_, str> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self.as_ref())?))
    }
}

impl FromLua for std::string::String {
    /// A string of valid UTF-8, or a number converted as `tostring` does.
    fn from_lua(value: Value, _: &Lua) -> Result<std::string::String> {
        match &value {
            Value::String(s) => Ok(s.to_str()?.to_owned()),
            Value::Integer(_) | Value::Number(_) => Ok(number_text(&value)),
            other => Err(Error::from_lua_conversion(
                other.type_name(),
                "String",
                None,
            )),
        }
    }
}

impl FromLua for Box<str> {
    fn from_lua(value: Value, lua: &Lua) -> Result<Box<str>> {
        std::string::String::from_lua(value, lua).map(Into::into)
    }
}

impl<T: IntoLua> IntoLua for Option<T> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        match self {
            Some(v) => v.into_lua(lua),
            None => Ok(Value::Nil),
        }
    }
}

impl<T: FromLua> FromLua for Option<T> {
    fn from_lua(value: Value, lua: &Lua) -> Result<Option<T>> {
        match value {
            Value::Nil => Ok(None),
            v => T::from_lua(v, lua).map(Some),
        }
    }
}

impl<T: IntoLua> IntoLua for Vec<T> {
    /// A sequence `{v1, v2, ...}`.
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_sequence_from(self)?))
    }
}

impl<T: FromLua> FromLua for Vec<T> {
    /// The values `t[1], t[2], ...` up to the first nil.
    fn from_lua(value: Value, _: &Lua) -> Result<Vec<T>> {
        match value {
            Value::Table(t) => t.sequence_values().collect(),
            other => Err(Error::from_lua_conversion(other.type_name(), "Vec", None)),
        }
    }
}

impl<T: IntoLua + Clone> IntoLua for &[T] {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(
            lua.create_sequence_from(self.iter().cloned())?,
        ))
    }
}

impl<K: IntoLua + Eq + Hash, V: IntoLua, S: BuildHasher> IntoLua for HashMap<K, V, S> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_table_from(self)?))
    }
}

impl<K: FromLua + Eq + Hash, V: FromLua, S: BuildHasher + Default> FromLua for HashMap<K, V, S> {
    fn from_lua(value: Value, _: &Lua) -> Result<HashMap<K, V, S>> {
        match value {
            Value::Table(t) => t.pairs().collect(),
            other => Err(Error::from_lua_conversion(
                other.type_name(),
                "HashMap",
                None,
            )),
        }
    }
}

impl<K: IntoLua + Ord, V: IntoLua> IntoLua for BTreeMap<K, V> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_table_from(self)?))
    }
}

impl<K: FromLua + Ord, V: FromLua> FromLua for BTreeMap<K, V> {
    fn from_lua(value: Value, _: &Lua) -> Result<BTreeMap<K, V>> {
        match value {
            Value::Table(t) => t.pairs().collect(),
            other => Err(Error::from_lua_conversion(
                other.type_name(),
                "BTreeMap",
                None,
            )),
        }
    }
}

/// `tostring` of a reference value (`__tostring`, `__name`).
pub(crate) fn tostring_ref(r: &ValueRef) -> Result<std::string::String> {
    r.with(|inner, vm, v| {
        let s = crate::table::protect(inner, vm, |vm| vm.tostring_meta(v))?;
        Ok(match s {
            Raw::Str(s) => s.get().to_str_lossy().into_owned(),
            other => vm.to_display(other),
        })
    })
}

/// `a == b` with `__eq`.
pub(crate) fn equals(a: &Value, b: &Value) -> Result<bool> {
    let refs = [a, b].map(|v| match v {
        Value::String(s) => Some(&s.0),
        Value::Table(t) => Some(&t.0),
        Value::Function(f) => Some(&f.0),
        Value::Thread(t) => Some(&t.0),
        Value::UserData(u) => Some(&u.0),
        _ => None,
    });
    let Some(r) = refs.iter().flatten().next() else {
        return Ok(a == b);
    };
    let lua = r.lua()?;
    lua.with_vm(|inner, vm| {
        crate::table::with_raws(inner, vm, &[a, b], |vm, raws| {
            crate::table::protect(inner, vm, |vm| vm.equals(raws[0], raws[1]))
        })
    })
}

impl<T: crate::userdata::UserData + 'static> IntoLua for T {
    /// A new userdata holding `self` (see [`Lua::create_userdata`]).
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::UserData(lua.create_userdata(self)?))
    }
}

/// Keeps the integer and number aliases visible to rustdoc's links.
#[allow(dead_code)]
fn _types(_: Integer, _: Number) {}

//! Several values at once: [`MultiValue`], [`Variadic`], and [`IntoLuaMulti`] /
//! [`FromLuaMulti`] for single values, tuples, `()` and `Result` — how arguments and
//! results cross between Rust and Lua.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::conversion::{FromLua, IntoLua};
use crate::error::{Error, Result};
use crate::state::Lua;
use crate::value::Value;

/// A list of Lua values (arguments or results).
///
/// ```
/// use hotlua::{Lua, MultiValue, Value};
/// let lua = Lua::new();
/// let r: MultiValue = lua.load("return 1, 'two', nil").eval().unwrap();
/// assert_eq!(r.len(), 3);
/// assert_eq!(r[0], Value::Integer(1));
/// ```
#[derive(Clone, Debug, Default)]
pub struct MultiValue(VecDeque<Value>);

impl MultiValue {
    /// An empty list.
    pub fn new() -> MultiValue {
        MultiValue(VecDeque::new())
    }
    /// An empty list with room for `n` values.
    pub fn with_capacity(n: usize) -> MultiValue {
        MultiValue(VecDeque::with_capacity(n))
    }
    /// The values of `v`, in order.
    pub fn from_vec(v: Vec<Value>) -> MultiValue {
        MultiValue(v.into())
    }
    /// The values as a vector.
    pub fn into_vec(self) -> Vec<Value> {
        self.0.into()
    }
}

impl Deref for MultiValue {
    type Target = VecDeque<Value>;
    fn deref(&self) -> &VecDeque<Value> {
        &self.0
    }
}

impl DerefMut for MultiValue {
    fn deref_mut(&mut self) -> &mut VecDeque<Value> {
        &mut self.0
    }
}

impl FromIterator<Value> for MultiValue {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> MultiValue {
        MultiValue(iter.into_iter().collect())
    }
}

impl IntoIterator for MultiValue {
    type Item = Value;
    type IntoIter = std::collections::vec_deque::IntoIter<Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a MultiValue {
    type Item = &'a Value;
    type IntoIter = std::collections::vec_deque::Iter<'a, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Any number of values of one type: `...` as a Rust argument or result.
///
/// ```
/// use hotlua::{Lua, Variadic};
/// let lua = Lua::new();
/// let sum = lua.create_function(|_, xs: Variadic<i64>| Ok(xs.iter().sum::<i64>())).unwrap();
/// assert_eq!(sum.call::<i64>((1, 2, 3)).unwrap(), 6);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Variadic<T>(Vec<T>);

impl<T> Variadic<T> {
    /// An empty list.
    pub fn new() -> Variadic<T> {
        Variadic(Vec::new())
    }
}

impl<T> Deref for Variadic<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T> DerefMut for Variadic<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}

impl<T> From<Vec<T>> for Variadic<T> {
    fn from(v: Vec<T>) -> Variadic<T> {
        Variadic(v)
    }
}

impl<T> From<Variadic<T>> for Vec<T> {
    fn from(v: Variadic<T>) -> Vec<T> {
        v.0
    }
}

impl<T> FromIterator<T> for Variadic<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Variadic<T> {
        Variadic(iter.into_iter().collect())
    }
}

impl<T> IntoIterator for Variadic<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Rust values that become a list of Lua values.
pub trait IntoLuaMulti: Sized {
    /// Converts `self` for `lua`.
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue>;
}

/// Rust values made from a list of Lua values (missing values are nil, extra ones are
/// ignored, as Lua adjusts).
pub trait FromLuaMulti: Sized {
    /// Converts `values`.
    fn from_lua_multi(values: MultiValue, lua: &Lua) -> Result<Self>;
}

impl<T: IntoLua> IntoLuaMulti for T {
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
        let mut m = MultiValue::with_capacity(1);
        m.push_back(self.into_lua(lua)?);
        Ok(m)
    }
}

impl<T: FromLua> FromLuaMulti for T {
    fn from_lua_multi(mut values: MultiValue, lua: &Lua) -> Result<T> {
        T::from_lua(values.pop_front().unwrap_or(Value::Nil), lua)
    }
}

impl IntoLuaMulti for MultiValue {
    fn into_lua_multi(self, _: &Lua) -> Result<MultiValue> {
        Ok(self)
    }
}

impl FromLuaMulti for MultiValue {
    fn from_lua_multi(values: MultiValue, _: &Lua) -> Result<MultiValue> {
        Ok(values)
    }
}

impl<T: IntoLua> IntoLuaMulti for Variadic<T> {
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
        self.0.into_iter().map(|v| v.into_lua(lua)).collect()
    }
}

impl<T: FromLua> FromLuaMulti for Variadic<T> {
    fn from_lua_multi(values: MultiValue, lua: &Lua) -> Result<Variadic<T>> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| T::from_lua(v, lua).map_err(|e| bad_argument(i + 1, e)))
            .collect()
    }
}

impl<T: IntoLuaMulti, E: Into<Error>> IntoLuaMulti for std::result::Result<T, E> {
    /// `Ok(v)` is `v`'s values; `Err(e)` is `nil, e` (the Lua convention for failure).
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
        match self {
            Ok(v) => v.into_lua_multi(lua),
            Err(e) => {
                let mut m = MultiValue::with_capacity(2);
                m.push_back(Value::Nil);
                m.push_back(Value::Error(Box::new(e.into())));
                Ok(m)
            }
        }
    }
}

impl IntoLuaMulti for () {
    fn into_lua_multi(self, _: &Lua) -> Result<MultiValue> {
        Ok(MultiValue::new())
    }
}

impl FromLuaMulti for () {
    fn from_lua_multi(_: MultiValue, _: &Lua) -> Result<()> {
        Ok(())
    }
}

/// The error for argument `pos` (1-based) of a callback.
pub(crate) fn bad_argument(pos: usize, cause: Error) -> Error {
    match cause {
        e @ Error::BadArgument { .. } => e,
        cause => Error::BadArgument {
            to: None,
            pos,
            name: None,
            cause: Arc::new(cause),
        },
    }
}

macro_rules! tuple_impls {
    ($($name:ident),+ ; $last:ident) => {
        impl<$($name: IntoLua,)+ $last: IntoLuaMulti> IntoLuaMulti for ($($name,)+ $last,) {
            #[allow(non_snake_case)]
            fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
                let ($($name,)+ $last,) = self;
                let mut m = $last.into_lua_multi(lua)?;
                let firsts = [$($name.into_lua(lua)?,)+];
                for v in firsts.into_iter().rev() {
                    m.push_front(v);
                }
                Ok(m)
            }
        }

        impl<$($name: FromLua,)+ $last: FromLuaMulti> FromLuaMulti for ($($name,)+ $last,) {
            #[allow(non_snake_case, unused_assignments)]
            fn from_lua_multi(mut values: MultiValue, lua: &Lua) -> Result<Self> {
                let mut pos = 0;
                $(
                    pos += 1;
                    let $name = $name::from_lua(values.pop_front().unwrap_or(Value::Nil), lua)
                        .map_err(|e| bad_argument(pos, e))?;
                )+
                let $last = $last::from_lua_multi(values, lua).map_err(|e| match e {
                    Error::BadArgument { to, pos: p, name, cause } => {
                        Error::BadArgument { to, pos: p + pos, name, cause }
                    }
                    e => bad_argument(pos + 1, e),
                })?;
                Ok(($($name,)+ $last,))
            }
        }
    };
}

impl<A: IntoLuaMulti> IntoLuaMulti for (A,) {
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
        self.0.into_lua_multi(lua)
    }
}

impl<A: FromLuaMulti> FromLuaMulti for (A,) {
    fn from_lua_multi(values: MultiValue, lua: &Lua) -> Result<(A,)> {
        Ok((A::from_lua_multi(values, lua).map_err(|e| bad_argument(1, e))?,))
    }
}

tuple_impls!(A ; B);
tuple_impls!(A, B ; C);
tuple_impls!(A, B, C ; D);
tuple_impls!(A, B, C, D ; E);
tuple_impls!(A, B, C, D, E ; F);
tuple_impls!(A, B, C, D, E, F ; G);
tuple_impls!(A, B, C, D, E, F, G ; H);
tuple_impls!(A, B, C, D, E, F, G, H ; I);
tuple_impls!(A, B, C, D, E, F, G, H, I ; J);
tuple_impls!(A, B, C, D, E, F, G, H, I, J ; K);
tuple_impls!(A, B, C, D, E, F, G, H, I, J, K ; L);

//! [`Table`]: a handle to a Lua table.

use std::fmt;
use std::marker::PhantomData;

use hotlua_vm::{LuaError, Value as Raw, Vm};

use crate::conversion::{FromLua, IntoLua};
use crate::error::{Error, Result};
use crate::state::{Inner, Lua, ValueRef};
use crate::value::{Integer, Value};

/// A Lua table.
///
/// `get`/`set` go through metamethods (`__index`, `__newindex`), `raw_get`/`raw_set` do not.
///
/// ```
/// use hotlua::{Lua, Table};
/// let lua = Lua::new();
/// let t = lua.create_table().unwrap();
/// t.set("name", "ann").unwrap();
/// t.push(10).unwrap();
/// t.push(20).unwrap();
/// assert_eq!(t.get::<String>("name").unwrap(), "ann");
/// assert_eq!(t.len().unwrap(), 2);
/// let sum: i64 = t.sequence_values::<i64>().map(|v| v.unwrap()).sum();
/// assert_eq!(sum, 30);
/// let mut keys: Vec<String> = t.pairs::<hotlua::Value, hotlua::Value>()
///     .map(|kv| format!("{:?}", kv.unwrap().0)).collect();
/// keys.sort();
/// assert_eq!(keys, ["\"name\"", "1", "2"]);
/// ```
#[derive(Clone, PartialEq)]
pub struct Table(pub(crate) ValueRef);

/// Converts the values of an operation's arguments and keeps them on the Lua stack while
/// `f` runs (a value converted from `Value::Error` is a fresh userdata nothing else roots,
/// and `f` may run Lua code, which may collect).
pub(crate) fn with_raws<R>(
    inner: &Inner,
    vm: &mut Vm,
    vals: &[&Value],
    f: impl FnOnce(&mut Vm, &[Raw]) -> Result<R>,
) -> Result<R> {
    let th = vm.cur;
    let top = th.get().top;
    let mut raws: smallvec::SmallVec<[Raw; 4]> = smallvec::SmallVec::new();
    for v in vals {
        let r = inner.raw(vm, v)?;
        if matches!(v, Value::Error(_)) {
            vm.push(r).map_err(|e| inner.error_from(vm, e))?;
        }
        raws.push(r);
    }
    let res = f(vm, &raws);
    if th.get().top > top {
        th.get_mut().top = top;
    }
    res
}

/// Runs a VM operation that may call metamethods, protected: an error unwinds whatever it
/// started and comes back as an [`Error`].
pub(crate) fn protect<R>(
    inner: &Inner,
    vm: &mut Vm,
    f: impl FnOnce(&mut Vm) -> std::result::Result<R, LuaError>,
) -> Result<R> {
    match vm.protect(f) {
        Ok(r) => Ok(r),
        Err(e) => Err(inner.error_from(vm, e)),
    }
}

impl Table {
    fn lua(&self) -> Result<Lua> {
        self.0.lua()
    }

    /// `t[key] = value`, with `__newindex`.
    pub fn set(&self, key: impl IntoLua, value: impl IntoLua) -> Result<()> {
        let lua = self.lua()?;
        let (key, value) = (key.into_lua(&lua)?, value.into_lua(&lua)?);
        lua.with_vm(|inner, vm| {
            let t = inner.raw_ref(&self.0)?;
            with_raws(inner, vm, &[&key, &value], |vm, r| {
                protect(inner, vm, |vm| vm.set_index(t, r[0], r[1]))
            })
        })
    }

    /// `t[key]`, with `__index`.
    pub fn get<V: FromLua>(&self, key: impl IntoLua) -> Result<V> {
        let lua = self.lua()?;
        let key = key.into_lua(&lua)?;
        let v = lua.with_vm(|inner, vm| {
            let t = inner.raw_ref(&self.0)?;
            with_raws(inner, vm, &[&key], |vm, r| {
                let v = protect(inner, vm, |vm| vm.index(t, r[0]))?;
                Ok(inner.wrap(v))
            })
        })?;
        V::from_lua(v, &lua)
    }

    /// True when `t[key]` (with `__index`) is not nil.
    pub fn contains_key(&self, key: impl IntoLua) -> Result<bool> {
        Ok(!self.get::<Value>(key)?.is_nil())
    }

    /// `rawset(t, key, value)`.
    pub fn raw_set(&self, key: impl IntoLua, value: impl IntoLua) -> Result<()> {
        let lua = self.lua()?;
        let (key, value) = (key.into_lua(&lua)?, value.into_lua(&lua)?);
        lua.with_vm(|inner, vm| {
            let Raw::Table(t) = inner.raw_ref(&self.0)? else {
                return Err(Error::runtime("not a table"));
            };
            with_raws(inner, vm, &[&key, &value], |vm, r| {
                vm.raw_set(t, r[0], r[1])
                    .map_err(|e| inner.error_from(vm, e))
            })
        })
    }

    /// `rawget(t, key)`.
    pub fn raw_get<V: FromLua>(&self, key: impl IntoLua) -> Result<V> {
        let lua = self.lua()?;
        let key = key.into_lua(&lua)?;
        let v = lua.with_vm(|inner, vm| {
            let Raw::Table(t) = inner.raw_ref(&self.0)? else {
                return Err(Error::runtime("not a table"));
            };
            let k = inner.raw(vm, &key)?;
            Ok(inner.wrap(t.get().get(k)))
        })?;
        V::from_lua(v, &lua)
    }

    /// `#t`, with `__len`.
    pub fn len(&self) -> Result<Integer> {
        self.0
            .with(|inner, vm, t| protect(inner, vm, |vm| vm.len_of(t)))
    }

    /// `rawlen(t)`: a border of the sequence part.
    pub fn raw_len(&self) -> usize {
        self.0
            .with(|_, _, t| Ok(t.as_table().map_or(0, |t| t.get().len().max(0) as usize)))
            .unwrap_or(0)
    }

    /// True when the table has no entry (ignoring metamethods).
    pub fn is_empty(&self) -> bool {
        self.0
            .with(|_, _, t| {
                Ok(t.as_table()
                    .is_none_or(|t| t.get().next(Raw::Nil) == Ok(None)))
            })
            .unwrap_or(true)
    }

    /// `t[#t + 1] = value` (with `__len` and `__newindex`).
    pub fn push(&self, value: impl IntoLua) -> Result<()> {
        let lua = self.lua()?;
        let value = value.into_lua(&lua)?;
        lua.with_vm(|inner, vm| {
            let t = inner.raw_ref(&self.0)?;
            with_raws(inner, vm, &[&value], |vm, r| {
                protect(inner, vm, |vm| {
                    let n = vm.len_of(t)?;
                    vm.set_index(t, Raw::Int(n.wrapping_add(1)), r[0])
                })
            })
        })
    }

    /// Removes and returns `t[#t]` (with metamethods).
    pub fn pop<V: FromLua>(&self) -> Result<V> {
        let lua = self.lua()?;
        let v = lua.with_vm(|inner, vm| {
            let t = inner.raw_ref(&self.0)?;
            let v = protect(inner, vm, |vm| {
                let n = vm.len_of(t)?;
                if n == 0 {
                    return Ok(Raw::Nil);
                }
                let v = vm.index(t, Raw::Int(n))?;
                vm.set_index(t, Raw::Int(n), Raw::Nil)?;
                Ok(v)
            })?;
            Ok(inner.wrap(v))
        })?;
        V::from_lua(v, &lua)
    }

    /// Removes every entry (raw).
    pub fn clear(&self) -> Result<()> {
        self.0.with(|inner, vm, t| {
            let Raw::Table(t) = t else { return Ok(()) };
            let mut keys = Vec::new();
            let mut k = Raw::Nil;
            while let Ok(Some((nk, _))) = t.get().next(k) {
                keys.push(nk);
                k = nk;
            }
            for k in keys {
                vm.raw_set(t, k, Raw::Nil)
                    .map_err(|e| inner.error_from(vm, e))?;
            }
            Ok(())
        })
    }

    /// Sets (or, with `None`, removes) the metatable.
    pub fn set_metatable(&self, metatable: Option<Table>) -> Result<()> {
        self.0.with(|inner, vm, t| {
            let mt = match &metatable {
                Some(m) => match inner.raw_ref(&m.0)? {
                    Raw::Table(m) => Some(m),
                    _ => None,
                },
                None => None,
            };
            vm.set_metatable(t, mt);
            Ok(())
        })
    }

    /// The metatable, if any (raw: `__metatable` is not consulted).
    pub fn metatable(&self) -> Option<Table> {
        self.0
            .with(|inner, vm, t| Ok(vm.metatable(t).map(|m| Table(inner.new_ref(Raw::Table(m))))))
            .ok()
            .flatten()
    }

    /// Same as [`Table::metatable`] (mlua's older name).
    pub fn get_metatable(&self) -> Option<Table> {
        self.metatable()
    }

    /// `self == other` with `__eq`.
    pub fn equals(&self, other: &Table) -> Result<bool> {
        crate::conversion::equals(&Value::Table(self.clone()), &Value::Table(other.clone()))
    }

    /// The table's address.
    pub fn to_pointer(&self) -> *const std::ffi::c_void {
        self.0.pointer() as *const std::ffi::c_void
    }

    /// An iterator over the entries, as `pairs` without `__pairs` (raw `next`). Keys added
    /// while iterating may or may not be seen; assigning existing keys (even to nil) is fine.
    pub fn pairs<K: FromLua, V: FromLua>(&self) -> TablePairs<K, V> {
        TablePairs {
            table: self.clone(),
            key: Some(Value::Nil),
            _types: PhantomData,
        }
    }

    /// Calls `f` for each entry (as [`Table::pairs`]); stops at the first error.
    pub fn for_each<K: FromLua, V: FromLua>(
        &self,
        mut f: impl FnMut(K, V) -> Result<()>,
    ) -> Result<()> {
        for kv in self.pairs::<K, V>() {
            let (k, v) = kv?;
            f(k, v)?;
        }
        Ok(())
    }

    /// An iterator over `t[1], t[2], ...` (raw) until the first nil.
    pub fn sequence_values<V: FromLua>(&self) -> TableSequence<V> {
        TableSequence {
            table: self.clone(),
            index: 1,
            done: false,
            _types: PhantomData,
        }
    }
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table: {:p}", self.to_pointer())
    }
}

/// The iterator of [`Table::pairs`].
pub struct TablePairs<K, V> {
    table: Table,
    key: Option<Value>,
    _types: PhantomData<(K, V)>,
}

impl<K: FromLua, V: FromLua> Iterator for TablePairs<K, V> {
    type Item = Result<(K, V)>;

    fn next(&mut self) -> Option<Self::Item> {
        let key = self.key.take()?;
        let lua = match self.table.lua() {
            Ok(l) => l,
            Err(e) => return Some(Err(e)),
        };
        let step = lua.with_vm(|inner, vm| {
            let Raw::Table(t) = inner.raw_ref(&self.table.0)? else {
                return Ok(None);
            };
            let k = inner.raw(vm, &key)?;
            match t.get().next(k) {
                Ok(Some((k, v))) => Ok(Some((inner.wrap(k), inner.wrap(v)))),
                Ok(None) => Ok(None),
                Err(()) => Err(Error::runtime("invalid key to 'next'")),
            }
        });
        match step {
            Ok(Some((k, v))) => {
                self.key = Some(k.clone());
                let kv = K::from_lua(k, &lua).and_then(|k| Ok((k, V::from_lua(v, &lua)?)));
                Some(kv)
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// The iterator of [`Table::sequence_values`].
pub struct TableSequence<V> {
    table: Table,
    index: Integer,
    done: bool,
    _types: PhantomData<V>,
}

impl<V: FromLua> Iterator for TableSequence<V> {
    type Item = Result<V>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let lua = match self.table.lua() {
            Ok(l) => l,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let i = self.index;
        let v = lua.with_vm(|inner, _| {
            Ok(match inner.raw_ref(&self.table.0)? {
                Raw::Table(t) => inner.wrap(t.get().get_int(i)),
                _ => Value::Nil,
            })
        });
        match v {
            Ok(Value::Nil) => {
                self.done = true;
                None
            }
            Ok(v) => {
                self.index += 1;
                Some(V::from_lua(v, &lua))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

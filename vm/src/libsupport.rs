//! Operations the standard libraries need from natives, as PUC's `lua_gettable`,
//! `lua_settable`, `luaL_len`, `lua_compare`, `lua_setmetatable`, `lua_checkstack` and
//! native-closure upvalues give them. Metamethods written in Lua are called by recursion
//! here (natives are a C-call boundary), bounded like every native callback.

use crate::api::Args;
use crate::debuginfo::Operand;
use crate::error::LuaError;
use crate::gc::Gc;
use crate::meta::{Meta, Tm};
use crate::state::Vm;
use crate::table::Table;
use crate::value::Value;

/// Unwraps the result of a slow path run outside the interpreter loop, where metamethods
/// are always called to completion.
fn done(m: Meta) -> Value {
    match m {
        Meta::Done(v) => v,
        Meta::Pushed => Value::Nil,
    }
}

impl Vm {
    /// `obj[key]` with `__index` (`lua_gettable`).
    pub fn index(&mut self, obj: Value, key: Value) -> Result<Value, LuaError> {
        if let Value::Table(t) = obj {
            let v = t.get().get(key);
            if !v.is_nil() || t.get().metatable.is_none() {
                return Ok(v);
            }
        }
        self.index_slow(obj, key, Operand::None, false).map(done)
    }

    /// `obj[key] = val` with `__newindex` (`lua_settable`).
    pub fn set_index(&mut self, obj: Value, key: Value, val: Value) -> Result<(), LuaError> {
        self.newindex_slow(obj, key, val, Operand::None, false)
            .map(|_| ())
    }

    /// `#v` with `__len`, as an integer (`luaL_len`).
    pub fn len_of(&mut self, v: Value) -> Result<i64, LuaError> {
        match done(self.len_slow(v, Operand::None, false)?) {
            Value::Int(n) => Ok(n),
            Value::Float(f) if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) => {
                Ok(f as i64)
            }
            _ => Err(self.rt_error("object length is not an integer")),
        }
    }

    /// `a < b` with `__lt` (`lua_compare` with `LUA_OPLT`).
    pub fn less_than(&mut self, a: Value, b: Value) -> Result<bool, LuaError> {
        Ok(done(self.compare_slow(a, b, false, false)?).is_truthy())
    }

    /// `a <= b` with `__le` (`lua_compare` with `LUA_OPLE`).
    pub fn less_equal(&mut self, a: Value, b: Value) -> Result<bool, LuaError> {
        Ok(done(self.compare_slow(a, b, true, false)?).is_truthy())
    }

    /// `a == b` with `__eq` (`lua_compare` with `LUA_OPEQ`).
    pub fn equals(&mut self, a: Value, b: Value) -> Result<bool, LuaError> {
        if a.raw_eq(&b) {
            return Ok(true);
        }
        Ok(done(self.eq_slow(a, b, false)?).is_truthy())
    }

    /// Sets the metatable of a table or full userdata (`lua_setmetatable`), registering the
    /// object for finalization when the metatable has `__gc`, as `setmetatable` does. Other
    /// values set the metatable of their whole type.
    pub fn set_metatable(&mut self, v: Value, mt: Option<Gc<Table>>) {
        match v {
            Value::Table(t) => t.get_mut().metatable = mt,
            Value::UserData(u) => u.get_mut().metatable = mt,
            other => return self.set_type_metatable(other, mt),
        }
        if let Some(m) = mt {
            // Once `close` has begun, no new finalizer is registered (as lua_close).
            if !self.closing && !self.tm_of_mt(m, Tm::Gc).is_nil() {
                self.heap.register_finalizer(v);
            }
        }
    }

    /// Upvalue `i` (0-based) of the running native closure, `nil` when it has none
    /// (`lua_upvalueindex`).
    pub fn native_upvalue(&self, args: Args, i: usize) -> Value {
        match self.native_callee(args) {
            Some(Value::NativeFn(c)) => c.get().upvals.get(i).map_or(Value::Nil, |u| u.get()),
            _ => Value::Nil,
        }
    }

    /// Replaces upvalue `i` of the running native closure; false when it has none.
    pub fn set_native_upvalue(&mut self, args: Args, i: usize, v: Value) -> bool {
        match self.native_callee(args) {
            Some(Value::NativeFn(c)) => match c.get().upvals.get(i) {
                Some(u) => {
                    u.set(v);
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    /// The function being run by the native frame whose arguments are `args`.
    fn native_callee(&self, args: Args) -> Option<Value> {
        let th = self.cur.get();
        args.base
            .checked_sub(1)
            .and_then(|i| th.stack.get(i).copied())
    }

    /// Whether `n` more values fit on the running thread's stack (`lua_checkstack`).
    pub fn check_stack(&self, n: usize) -> bool {
        self.cur.get().top.saturating_add(n) < crate::thread::MAX_STACK
    }
}

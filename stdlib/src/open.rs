//! `open_libs`: installs the standard libraries into a Vm, plus the small helpers the
//! library modules share to build their tables.
//!
//! Invariant: each library table is both a global and an entry of `package.loaded`
//! (the registry's `_LOADED`), as `luaL_requiref` leaves them.

use std::any::Any;

use hotlua_vm::api::NativeFn;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::userdata::UserData;
use hotlua_vm::{Value, Vm};

/// Installs every standard library: table, math, os, io, utf8, package (with `require`),
/// and the string library.
pub fn open_libs(vm: &mut Vm) {
    crate::table::open(vm);
    crate::math::open(vm);
    crate::utf8::open(vm);
}

/// The registry's `_LOADED` table (`package.loaded`), created if missing.
pub fn loaded_table(vm: &mut Vm) -> Gc<Table> {
    let reg = vm.registry();
    let k = vm.new_str("_LOADED");
    if let Value::Table(t) = reg.get().get_str(k) {
        return t;
    }
    let t = vm.new_table();
    let _ = vm.raw_set(reg, Value::Str(k), Value::Table(t));
    t
}

/// `t.name = v` (raw).
pub fn set_field(vm: &mut Vm, t: Gc<Table>, name: &str, v: Value) {
    let k = vm.new_str(name);
    // A string key is never nil or NaN: this cannot fail.
    let _ = vm.raw_set(t, Value::Str(k), v);
}

/// `t.name` (raw).
pub fn get_field(vm: &mut Vm, t: Gc<Table>, name: &str) -> Value {
    let k = vm.new_str(name);
    t.get().get_str(k)
}

/// Creates (or reuses, if a global of that name is already a table) the library table
/// `name` with the given functions, sets the global and `package.loaded[name]`.
pub fn new_lib(vm: &mut Vm, name: &str, funcs: &[(&str, NativeFn)]) -> Gc<Table> {
    let t = match vm.get_global(name) {
        Value::Table(t) => t,
        _ => vm.new_table(),
    };
    for &(fname, f) in funcs {
        set_field(vm, t, fname, Value::LightFn(f));
    }
    vm.set_global(name, Value::Table(t));
    let loaded = loaded_table(vm);
    set_field(vm, loaded, name, Value::Table(t));
    t
}

/// A full userdata holding `data`, with metatable `mt` (a `__gc` in it is registered for
/// finalization, as `setmetatable` does).
pub fn new_userdata<T: Any>(vm: &mut Vm, data: T, mt: Option<Gc<Table>>) -> Value {
    let mut ud = UserData::new(data);
    ud.metatable = mt;
    let u = vm.heap.new_userdata(ud);
    let v = Value::UserData(u);
    if let Some(mt) = mt {
        let k = vm.new_str("__gc");
        if !mt.get().get_str(k).is_nil() {
            vm.heap.register_finalizer(v);
        }
    }
    v
}

/// Stand-ins for VM API calls requested from EXEC (see `/work/notes/api-requests.md`),
/// written over the public API. Inherent methods of the same name on `Vm` take precedence,
/// so these retire silently once the VM provides them.
pub(crate) trait VmExt {
    /// `lua_gettable` from a native: raw get, then the `__index` chain.
    fn index(&mut self, obj: Value, key: Value) -> Result<Value, hotlua_vm::LuaError>;
    /// `lua_settable` from a native: raw set when the key is present, else `__newindex`.
    fn set_index(&mut self, obj: Value, key: Value, val: Value) -> Result<(), hotlua_vm::LuaError>;
    /// `luaL_len`: `#v` with `__len`; the result must be an integer.
    fn len_of(&mut self, v: Value) -> Result<i64, hotlua_vm::LuaError>;
    /// `lua_compare(LT)` with `__lt`.
    fn less_than(&mut self, a: Value, b: Value) -> Result<bool, hotlua_vm::LuaError>;
    /// Upvalue `i` of the running native closure (nil for a light function).
    fn native_upvalue(&self, args: hotlua_vm::Args, i: usize) -> Value;
    /// `lua_checkstack`: room for `n` more values.
    fn check_stack(&self, n: usize) -> bool;
}

impl VmExt for Vm {
    fn index(&mut self, obj: Value, key: Value) -> Result<Value, hotlua_vm::LuaError> {
        use hotlua_vm::meta::Tm;
        let mut o = obj;
        for _ in 0..2000 {
            let tm = match o {
                Value::Table(t) => {
                    let v = t.get().get(key);
                    if !v.is_nil() {
                        return Ok(v);
                    }
                    let tm = self.get_tm(o, Tm::Index);
                    if tm.is_nil() {
                        return Ok(Value::Nil);
                    }
                    tm
                }
                _ => {
                    let tm = self.get_tm(o, Tm::Index);
                    if tm.is_nil() {
                        let t = self.obj_type_name(o);
                        return Err(self.rt_error(&format!("attempt to index a {} value", t)));
                    }
                    tm
                }
            };
            if tm.is_function() {
                let r = self.call_value(tm, &[o, key])?;
                return Ok(r.first().copied().unwrap_or(Value::Nil));
            }
            o = tm;
        }
        Err(self.rt_error("'__index' chain too long; possible loop"))
    }

    fn set_index(&mut self, obj: Value, key: Value, val: Value) -> Result<(), hotlua_vm::LuaError> {
        use hotlua_vm::meta::Tm;
        let mut o = obj;
        for _ in 0..2000 {
            let tm = match o {
                Value::Table(t) => {
                    if !t.get().get(key).is_nil() {
                        return self.raw_set(t, key, val);
                    }
                    let tm = self.get_tm(o, Tm::NewIndex);
                    if tm.is_nil() {
                        return self.raw_set(t, key, val);
                    }
                    tm
                }
                _ => {
                    let tm = self.get_tm(o, Tm::NewIndex);
                    if tm.is_nil() {
                        let t = self.obj_type_name(o);
                        return Err(self.rt_error(&format!("attempt to index a {} value", t)));
                    }
                    tm
                }
            };
            if tm.is_function() {
                self.call_value(tm, &[o, key, val])?;
                return Ok(());
            }
            o = tm;
        }
        Err(self.rt_error("'__newindex' chain too long; possible loop"))
    }

    fn len_of(&mut self, v: Value) -> Result<i64, hotlua_vm::LuaError> {
        use hotlua_vm::meta::Tm;
        let tm = self.get_tm(v, Tm::Len);
        let r = if !tm.is_nil() {
            self.call_value(tm, &[v])?
                .first()
                .copied()
                .unwrap_or(Value::Nil)
        } else {
            match v {
                Value::Table(t) => Value::Int(t.get().len()),
                Value::Str(s) => Value::Int(s.get().len() as i64),
                _ => {
                    let t = self.obj_type_name(v);
                    return Err(self.rt_error(&format!("attempt to get length of a {} value", t)));
                }
            }
        };
        match r {
            Value::Int(i) => Ok(i),
            Value::Float(f) => match hotlua_vm::value::float_to_int(f) {
                Some(i) => Ok(i),
                None => Err(self.rt_error("object length is not an integer")),
            },
            _ => Err(self.rt_error("object length is not an integer")),
        }
    }

    fn less_than(&mut self, a: Value, b: Value) -> Result<bool, hotlua_vm::LuaError> {
        use hotlua_vm::meta::Tm;
        if let Some(r) = hotlua_vm::compare::compare_prim(a, b, false) {
            return Ok(r);
        }
        let mut f = self.get_tm(a, Tm::Lt);
        if f.is_nil() {
            f = self.get_tm(b, Tm::Lt);
        }
        if f.is_nil() {
            let t1 = self.obj_type_name(a);
            let t2 = self.obj_type_name(b);
            let msg = if t1 == t2 {
                format!("attempt to compare two {} values", t1)
            } else {
                format!("attempt to compare {} with {}", t1, t2)
            };
            return Err(self.rt_error(&msg));
        }
        let r = self.call_value(f, &[a, b])?;
        Ok(r.first().is_some_and(|v| v.is_truthy()))
    }

    fn native_upvalue(&self, args: hotlua_vm::Args, i: usize) -> Value {
        // The called value sits just below the first argument (CallInfo::native).
        if args.base == 0 {
            return Value::Nil;
        }
        let f = self.arg(
            hotlua_vm::Args {
                base: args.base - 1,
                len: 1,
            },
            0,
        );
        match f {
            Value::NativeFn(c) => c.get().upvals.get(i).map(|c| c.get()).unwrap_or(Value::Nil),
            _ => Value::Nil,
        }
    }

    fn check_stack(&self, n: usize) -> bool {
        // Without access to the thread's top, keep a margin below LUAI_MAXSTACK.
        n < hotlua_vm::thread::MAX_STACK - 10_000
    }
}

//! The native function convention and the helpers natives use to read their arguments,
//! push results, and raise Lua-style argument errors.
//!
//! A native is `fn(&mut Vm, Args) -> Result<usize, LuaError>`: its arguments are slots
//! `args.base .. args.base + args.len` of the running thread's stack; it pushes its results
//! (with [`Vm::push`]) and returns how many it pushed (the last `n` values pushed).

use std::cell::Cell;
use std::rc::Rc;

use crate::error::LuaError;
use crate::gc::Gc;
use crate::state::Vm;
use crate::string::LuaStr;
use crate::table::Table;
use crate::value::Value;

/// A native function.
pub type NativeFn = fn(&mut Vm, Args) -> Result<usize, LuaError>;

/// Where a native's arguments are on the running thread's stack.
#[derive(Clone, Copy, Debug)]
pub struct Args {
    /// Stack slot of the first argument.
    pub base: usize,
    /// Number of arguments.
    pub len: usize,
}

impl Args {
    /// Number of arguments.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when called without arguments.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A value kept alive across collections until this handle is dropped.
pub struct RootedValue {
    pub(crate) cell: Rc<Cell<Value>>,
}

impl RootedValue {
    /// The rooted value.
    pub fn get(&self) -> Value {
        self.cell.get()
    }
    /// Replaces the rooted value.
    pub fn set(&self, v: Value) {
        self.cell.set(v)
    }
}

impl Vm {
    /// Argument `i` (0-based) of a native call; `nil` beyond the last one.
    #[inline]
    pub fn arg(&self, args: Args, i: usize) -> Value {
        if i < args.len {
            self.cur.get().stack[args.base + i]
        } else {
            Value::Nil
        }
    }

    /// Pushes a result of a native (or a value for a stack-based call).
    #[inline]
    pub fn push(&mut self, v: Value) -> Result<(), LuaError> {
        if self.cur.get_mut().push(v).is_err() {
            return Err(self.stack_overflow());
        }
        Ok(())
    }

    /// Raises `bad argument #<i+1> to '<fname>' (<msg>)`, naming the function as Lua does
    /// (from the call site, or its global name).
    pub fn arg_error(&mut self, i: usize, msg: &str) -> LuaError {
        let (mut n, name) = self.native_name_for_error();
        let mut idx = i + 1;
        if n == "method" {
            if idx == 1 {
                return self.rt_error(&format!("calling '{}' on bad self ({})", name, msg));
            }
            idx -= 1;
        }
        n = "";
        let _ = n;
        self.rt_error(&format!("bad argument #{} to '{}' ({})", idx, name, msg))
    }

    /// Raises `bad argument #<i+1> to 'f' (<expected> expected, got <type>)`.
    pub fn type_error_arg(&mut self, args: Args, i: usize, expected: &str) -> LuaError {
        let got = if i >= args.len {
            "no value".to_string()
        } else {
            match self.arg(args, i) {
                // luaL_typeerror names it apart from full userdata.
                Value::LightUserData(_) => "light userdata".to_string(),
                v => self.obj_type_name(v),
            }
        };
        self.arg_error(i, &format!("{} expected, got {}", expected, got))
    }

    /// Argument `i` as a table, or the standard error.
    pub fn check_table(&mut self, args: Args, i: usize) -> Result<Gc<Table>, LuaError> {
        match self.arg(args, i) {
            Value::Table(t) => Ok(t),
            _ => Err(self.type_error_arg(args, i, "table")),
        }
    }

    /// Argument `i` present (any value, even nil), or "value expected".
    pub fn check_any(&mut self, args: Args, i: usize) -> Result<Value, LuaError> {
        if i >= args.len {
            return Err(self.arg_error(i, "value expected"));
        }
        Ok(self.arg(args, i))
    }

    /// Argument `i` as an integer (floats with an integral value and numeric strings
    /// accepted), or Lua's error.
    pub fn check_int(&mut self, args: Args, i: usize) -> Result<i64, LuaError> {
        let v = self.arg(args, i);
        match v {
            Value::Int(n) => Ok(n),
            _ => match self.to_number(v) {
                Some(Value::Int(n)) => Ok(n),
                Some(Value::Float(f)) => match crate::arith::float_to_int_exact(f) {
                    Some(n) => Ok(n),
                    None => Err(self.arg_error(i, "number has no integer representation")),
                },
                _ => Err(self.type_error_arg(args, i, "number")),
            },
        }
    }

    /// Optional integer argument.
    pub fn opt_int(&mut self, args: Args, i: usize, default: i64) -> Result<i64, LuaError> {
        if self.arg(args, i).is_nil() {
            Ok(default)
        } else {
            self.check_int(args, i)
        }
    }

    /// Argument `i` as a float (numeric strings accepted).
    pub fn check_number(&mut self, args: Args, i: usize) -> Result<f64, LuaError> {
        let v = self.arg(args, i);
        match self.to_number(v) {
            Some(Value::Int(n)) => Ok(n as f64),
            Some(Value::Float(f)) => Ok(f),
            _ => Err(self.type_error_arg(args, i, "number")),
        }
    }

    /// Argument `i` as a string (numbers converted, as `luaL_checklstring`).
    pub fn check_str(&mut self, args: Args, i: usize) -> Result<Gc<LuaStr>, LuaError> {
        let v = self.arg(args, i);
        match v {
            Value::Str(s) => Ok(s),
            Value::Int(_) | Value::Float(_) => {
                let b = self.tostring_basic(v);
                Ok(self.heap.new_str(&b))
            }
            _ => Err(self.type_error_arg(args, i, "string")),
        }
    }

    /// Optional string argument.
    pub fn opt_str(&mut self, args: Args, i: usize) -> Result<Option<Gc<LuaStr>>, LuaError> {
        if self.arg(args, i).is_nil() {
            Ok(None)
        } else {
            self.check_str(args, i).map(Some)
        }
    }
}

/// Introspection and patch primitives over closures and their upvalue cells (for the debug
/// library and hot patching). Upvalue indices are 1-based, as in `debug.getupvalue`.
impl Vm {
    /// Every upvalue of a function: `(index, name, value)`. Natives have unnamed upvalues
    /// (`""`), as in Lua.
    pub fn upvalues(&self, f: Value) -> Vec<(usize, String, Value)> {
        let mut out = Vec::new();
        let mut n = 1;
        while let Some((name, v)) = self.get_upvalue(f, n) {
            out.push((n, name, v));
            n += 1;
        }
        out
    }

    /// The name and value of upvalue `n` of `f` (`debug.getupvalue`).
    pub fn get_upvalue(&self, f: Value, n: usize) -> Option<(String, Value)> {
        let i = n.checked_sub(1)?;
        match f {
            Value::LuaFn(c) => {
                let cl = c.get();
                let cell = cl.upvals().get(i)?.get();
                let p = cl.proto();
                let name = p
                    .get()
                    .upvalues
                    .get(i)
                    .map_or_else(|| "?".to_string(), |d| d.name.to_string());
                Some((name, cell.get().get()))
            }
            Value::NativeFn(c) => c.get().upvals.get(i).map(|u| (String::new(), u.get())),
            _ => None,
        }
    }

    /// Assigns upvalue `n` of `f`; returns its name (`debug.setupvalue`), `None` when absent.
    pub fn set_upvalue(&mut self, f: Value, n: usize, v: Value) -> Option<String> {
        let i = n.checked_sub(1)?;
        match f {
            Value::LuaFn(c) => {
                let cl = c.get();
                let cell = cl.upvals().get(i)?.get();
                cell.get().set(v);
                let p = cl.proto();
                Some(
                    p.get()
                        .upvalues
                        .get(i)
                        .map_or_else(|| "?".to_string(), |d| d.name.to_string()),
                )
            }
            Value::NativeFn(c) => {
                c.get().upvals.get(i)?.set(v);
                Some(String::new())
            }
            _ => None,
        }
    }

    /// Identity of upvalue `n` of `f` (`debug.upvalueid`): the cell's address, shared by
    /// every closure that shares the variable.
    pub fn upvalue_id(&self, f: Value, n: usize) -> Option<usize> {
        let i = n.checked_sub(1)?;
        match f {
            Value::LuaFn(c) => Some(c.get().upvals().get(i)?.get().addr()),
            Value::NativeFn(c) => c.get().upvals.get(i).map(|u| u as *const _ as usize),
            _ => None,
        }
    }

    /// Makes upvalue `n1` of Lua closure `f1` refer to the same cell as upvalue `n2` of `f2`
    /// (`debug.upvaluejoin`), in O(1). Errors name the bad argument as Lua does.
    pub fn upvalue_join(
        &mut self,
        f1: Value,
        n1: usize,
        f2: Value,
        n2: usize,
    ) -> Result<(), String> {
        let (Value::LuaFn(c1), Value::LuaFn(c2)) = (f1, f2) else {
            return Err("Lua function expected".into());
        };
        match (n1.checked_sub(1), n2.checked_sub(1)) {
            (Some(i1), Some(i2)) if crate::patch::upvalue_join(c1, i1, c2, i2) => Ok(()),
            _ => Err("invalid upvalue index".into()),
        }
    }

    /// Compiles `source` to an instantiated prototype (without creating a closure), for
    /// patching.
    pub fn compile_proto(
        &mut self,
        source: &[u8],
        chunk_name: &str,
    ) -> Result<Gc<crate::function::FnProto>, LuaError> {
        match hotlua_compiler::compile(source, chunk_name) {
            Ok(p) => Ok(crate::function::FnProto::instantiate(&mut self.heap, p)),
            Err(e) => Err(LuaError::new(self.str_value(e.message))),
        }
    }
}

/// Metamethod-aware operations for natives and hosts (`lua_compare`, `lua_arith`,
/// `lua_concat`; indexing and length are in `libsupport.rs`). They may call Lua (through
/// Rust recursion, bounded by the C-call limit).
impl Vm {
    /// `a < b` (or `a <= b` when `le`) with `__lt`/`__le`.
    pub fn compare(&mut self, a: Value, b: Value, le: bool) -> Result<bool, LuaError> {
        match self.compare_slow(a, b, le, false)? {
            crate::meta::Meta::Done(r) => Ok(r.is_truthy()),
            crate::meta::Meta::Pushed => Ok(false),
        }
    }

    /// An arithmetic or bitwise operation with coercions and metamethods (`lua_arith`); for
    /// the unary operators pass the operand twice.
    pub fn arith(
        &mut self,
        op: crate::arith::ArithOp,
        a: Value,
        b: Value,
    ) -> Result<Value, LuaError> {
        use crate::debuginfo::Operand;
        match self.arith_slow(op, a, b, Operand::None, Operand::None, false)? {
            crate::meta::Meta::Done(r) => Ok(r),
            crate::meta::Meta::Pushed => Ok(Value::Nil),
        }
    }

    /// Concatenates `values` as the `..` operator does (numbers converted, `__concat`).
    pub fn concat_values(&mut self, values: &[Value]) -> Result<Value, LuaError> {
        if values.is_empty() {
            return Ok(self.str_value(""));
        }
        let th = self.cur.get_mut();
        let first = th.top;
        for &v in values {
            if th.push(v).is_err() {
                return Err(self.stack_overflow());
            }
        }
        let r = self.concat(first, values.len(), first, false);
        self.cur.get_mut().top = first;
        match r? {
            crate::meta::Meta::Done(v) => Ok(v),
            crate::meta::Meta::Pushed => Ok(Value::Nil),
        }
    }
}

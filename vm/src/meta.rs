//! Metamethods: names, lookup, and the slow paths of indexing, assignment, arithmetic,
//! comparison, length and concatenation. Each slow path either finishes at once (raw
//! result, native metamethod) or, when called from the interpreter with a Lua metamethod,
//! pushes a META frame and returns `Meta::Pushed`; the loop finishes the instruction when
//! that frame returns (`Vm::finish_op`).

use crate::arith::{self, ArithOp};
use crate::debuginfo::Operand;
use crate::error::LuaError;
use crate::gc::Gc;
use crate::state::Vm;
use crate::table::{Table, TableKeyError};
use crate::value::Value;

/// Tag methods, in the order of [`TM_NAMES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Tm {
    Index,
    NewIndex,
    Gc,
    Mode,
    Len,
    Eq,
    Add,
    Sub,
    Mul,
    Mod,
    Pow,
    Div,
    IDiv,
    BAnd,
    BOr,
    BXor,
    Shl,
    Shr,
    Unm,
    BNot,
    Lt,
    Le,
    Concat,
    Call,
    Close,
    ToString,
    Name,
    Metatable,
    Pairs,
}

/// Number of tag methods.
pub const TM_COUNT: usize = 29;

/// The metamethod names.
pub const TM_NAMES: [&str; TM_COUNT] = [
    "__index",
    "__newindex",
    "__gc",
    "__mode",
    "__len",
    "__eq",
    "__add",
    "__sub",
    "__mul",
    "__mod",
    "__pow",
    "__div",
    "__idiv",
    "__band",
    "__bor",
    "__bxor",
    "__shl",
    "__shr",
    "__unm",
    "__bnot",
    "__lt",
    "__le",
    "__concat",
    "__call",
    "__close",
    "__tostring",
    "__name",
    "__metatable",
    "__pairs",
];

/// Longest chain of `__call` handlers followed before giving up.
pub(crate) const MAX_CALL_CHAIN: usize = 200;

/// Loop limit of `__index`/`__newindex` chains (`MAXTAGLOOP`).
const MAX_TAG_LOOP: usize = 2000;

/// Outcome of a slow path that may call a metamethod.
pub enum Meta {
    /// Finished with this value (for assignments: `Nil`).
    Done(Value),
    /// A Lua metamethod frame was pushed; the loop continues in it.
    Pushed,
}

impl Tm {
    fn of_arith(op: ArithOp) -> Tm {
        match op {
            ArithOp::Add => Tm::Add,
            ArithOp::Sub => Tm::Sub,
            ArithOp::Mul => Tm::Mul,
            ArithOp::Mod => Tm::Mod,
            ArithOp::Pow => Tm::Pow,
            ArithOp::Div => Tm::Div,
            ArithOp::IDiv => Tm::IDiv,
            ArithOp::BAnd => Tm::BAnd,
            ArithOp::BOr => Tm::BOr,
            ArithOp::BXor => Tm::BXor,
            ArithOp::Shl => Tm::Shl,
            ArithOp::Shr => Tm::Shr,
            ArithOp::Unm => Tm::Unm,
            ArithOp::BNot => Tm::BNot,
        }
    }
}

impl Vm {
    /// The metamethod `tm` of `v` (raw lookup in its metatable), or nil.
    #[inline]
    pub fn get_tm(&self, v: Value, tm: Tm) -> Value {
        match self.metatable(v) {
            Some(mt) => mt.get().get_str(self.tm[tm as usize]),
            None => Value::Nil,
        }
    }

    /// Metamethod from a metatable, using the table's absent-flags cache for the first 8.
    #[inline]
    pub fn tm_of_mt(&self, mt: Gc<Table>, tm: Tm) -> Value {
        let bit = if (tm as u8) < 8 { 1u8 << (tm as u8) } else { 0 };
        let t = mt.get();
        if bit != 0 && t.tm_absent() & bit != 0 {
            return Value::Nil;
        }
        let v = t.get_str(self.tm[tm as usize]);
        if v.is_nil() && bit != 0 {
            t.set_tm_absent(bit);
        }
        v
    }

    /// String to number coercion as Lua's `cvt2num` (strings only; numbers pass).
    pub fn to_number(&self, v: Value) -> Option<Value> {
        match v {
            Value::Int(_) | Value::Float(_) => Some(v),
            Value::Str(s) => match hotlua_compiler::number::str_to_number(s.get().as_bytes())? {
                hotlua_compiler::number::Number::Int(i) => Some(Value::Int(i)),
                hotlua_compiler::number::Number::Float(f) => Some(Value::Float(f)),
            },
            _ => None,
        }
    }

    /// Integer conversion for bitwise operands: integers and integral floats (strings are
    /// not coerced: in 5.4 they have no bitwise metamethods).
    fn to_int_bitwise(v: Value) -> Option<i64> {
        match v {
            Value::Int(i) => Some(i),
            Value::Float(f) => arith::float_to_int_exact(f),
            _ => None,
        }
    }

    /// Index `obj[key]` through `__index` (PUC's `luaV_finishget`); `desc` names `obj`.
    #[inline(never)]
    pub fn index_slow(
        &mut self,
        mut obj: Value,
        key: Value,
        desc: Operand,
        in_loop: bool,
    ) -> Result<Meta, LuaError> {
        for lvl in 0..MAX_TAG_LOOP {
            let tm = if let Value::Table(t) = obj {
                let v = t.get().get(key);
                if !v.is_nil() {
                    return Ok(Meta::Done(v));
                }
                match t.get().metatable {
                    None => return Ok(Meta::Done(Value::Nil)),
                    Some(mt) => {
                        let tm = self.tm_of_mt(mt, Tm::Index);
                        if tm.is_nil() {
                            return Ok(Meta::Done(Value::Nil));
                        }
                        tm
                    }
                }
            } else {
                let tm = self.get_tm(obj, Tm::Index);
                if tm.is_nil() {
                    let d = if lvl == 0 { desc } else { Operand::None };
                    return Err(self.type_error(obj, "index", d));
                }
                tm
            };
            if tm.is_function() {
                return self.call_meta(tm, &[obj, key], in_loop);
            }
            obj = tm;
        }
        Err(self.rt_error("'__index' chain too long; possible loop"))
    }

    /// Assign `obj[key] = val` through `__newindex` (PUC's `luaV_finishset`).
    #[inline(never)]
    pub(crate) fn newindex_slow(
        &mut self,
        mut obj: Value,
        key: Value,
        val: Value,
        desc: Operand,
        in_loop: bool,
    ) -> Result<Meta, LuaError> {
        for lvl in 0..MAX_TAG_LOOP {
            let tm = if let Value::Table(t) = obj {
                let existing = t.get().get(key);
                let tm = if existing.is_nil() {
                    match t.get().metatable {
                        Some(mt) => self.tm_of_mt(mt, Tm::NewIndex),
                        None => Value::Nil,
                    }
                } else {
                    Value::Nil
                };
                if tm.is_nil() {
                    self.raw_set(t, key, val)?;
                    return Ok(Meta::Done(Value::Nil));
                }
                tm
            } else {
                let tm = self.get_tm(obj, Tm::NewIndex);
                if tm.is_nil() {
                    let d = if lvl == 0 { desc } else { Operand::None };
                    return Err(self.type_error(obj, "index", d));
                }
                tm
            };
            if tm.is_function() {
                return self.call_meta(tm, &[obj, key, val], in_loop);
            }
            obj = tm;
        }
        Err(self.rt_error("'__newindex' chain too long; possible loop"))
    }

    /// Raw `t[key] = val` with Lua's key errors.
    pub fn raw_set(&mut self, t: Gc<Table>, key: Value, val: Value) -> Result<(), LuaError> {
        match t.get_mut().set_grow(key, val) {
            Ok(false) => Ok(()),
            Ok(true) => {
                if crate::gc::take_alloc_failure() {
                    return Err(self.memory_error());
                }
                Ok(())
            }
            Err(TableKeyError::Nil) => Err(self.rt_error("table index is nil")),
            Err(TableKeyError::NaN) => Err(self.rt_error("table index is NaN")),
        }
    }

    /// Arithmetic or bitwise operation on operands that are not both numbers of the fast
    /// path: string coercion (as the string library's arithmetic metamethods do), then the
    /// metamethod (first operand's, then second's), then Lua's error. `da`/`db` describe the
    /// operands for messages.
    #[inline(never)]
    pub(crate) fn arith_slow(
        &mut self,
        op: ArithOp,
        a: Value,
        b: Value,
        da: Operand,
        db: Operand,
        in_loop: bool,
    ) -> Result<Meta, LuaError> {
        let tm = Tm::of_arith(op);
        if op.is_bitwise() {
            if let (Some(x), Some(y)) = (Self::to_int_bitwise(a), Self::to_int_bitwise(b)) {
                if let Some(r) = arith::int_arith(op, x, y) {
                    return Ok(Meta::Done(Value::Int(r)));
                }
            }
            let mut f = self.get_tm(a, tm);
            if f.is_nil() {
                f = self.get_tm(b, tm);
            }
            if !f.is_nil() {
                return self.call_meta(f, &[a, b], in_loop);
            }
            if a.is_number() && b.is_number() {
                let d = if Self::to_int_bitwise(a).is_none() {
                    da
                } else {
                    db
                };
                let info = self.var_info(d);
                return Err(self.rt_error(&format!("number{} has no integer representation", info)));
            }
            let (v, d) = if a.is_number() { (b, db) } else { (a, da) };
            return Err(self.type_error(v, "perform bitwise operation on", d));
        }
        if let (Some(x), Some(y)) = (self.to_number(a), self.to_number(b)) {
            return self.arith_numbers(op, x, y).map(Meta::Done);
        }
        if let Value::Str(_) = a {
            return self.string_arith_fail(op, tm, a, b, in_loop);
        }
        let f = self.get_tm(a, tm);
        if !f.is_nil() {
            return self.call_meta(f, &[a, b], in_loop);
        }
        if let Value::Str(_) = b {
            return self.string_arith_fail(op, tm, a, b, in_loop);
        }
        let f = self.get_tm(b, tm);
        if !f.is_nil() {
            return self.call_meta(f, &[a, b], in_loop);
        }
        let (v, d) = if self.to_number(a).is_some() {
            (b, db)
        } else {
            (a, da)
        };
        Err(self.type_error(v, "perform arithmetic on", d))
    }

    /// The string library's arithmetic metamethod when coercion failed (lstrlib's `trymt`):
    /// the second operand's metamethod if it has one, else its error.
    fn string_arith_fail(
        &mut self,
        op: ArithOp,
        tm: Tm,
        a: Value,
        b: Value,
        in_loop: bool,
    ) -> Result<Meta, LuaError> {
        let f = if let Value::Str(_) = b {
            Value::Nil
        } else {
            self.get_tm(b, tm)
        };
        if f.is_nil() {
            let name = &TM_NAMES[tm as usize][2..];
            let _ = op;
            return Err(self.rt_error(&format!(
                "attempt to {} a '{}' with a '{}'",
                name,
                a.type_name(),
                b.type_name()
            )));
        }
        self.call_meta(f, &[a, b], in_loop)
    }

    /// Arithmetic on two numbers (after coercion).
    pub(crate) fn arith_numbers(
        &mut self,
        op: ArithOp,
        a: Value,
        b: Value,
    ) -> Result<Value, LuaError> {
        if let (Value::Int(x), Value::Int(y)) = (a, b) {
            if !matches!(op, ArithOp::Div | ArithOp::Pow) {
                return match arith::int_arith(op, x, y) {
                    Some(r) => Ok(Value::Int(r)),
                    None if op == ArithOp::Mod => Err(self.rt_error("attempt to perform 'n%0'")),
                    None => Err(self.rt_error("attempt to divide by zero")),
                };
            }
        }
        let x = a.as_float().unwrap_or(0.0);
        let y = b.as_float().unwrap_or(0.0);
        Ok(Value::Float(arith::float_arith(op, x, y)))
    }

    /// `a == b` with `__eq` (only for two tables or two full userdata).
    #[inline(never)]
    pub(crate) fn eq_slow(&mut self, a: Value, b: Value, in_loop: bool) -> Result<Meta, LuaError> {
        if a.raw_eq(&b) {
            return Ok(Meta::Done(Value::Bool(true)));
        }
        let f = match (a, b) {
            (Value::Table(_), Value::Table(_)) | (Value::UserData(_), Value::UserData(_)) => {
                let f = self.get_tm(a, Tm::Eq);
                if f.is_nil() {
                    self.get_tm(b, Tm::Eq)
                } else {
                    f
                }
            }
            _ => return Ok(Meta::Done(Value::Bool(false))),
        };
        if f.is_nil() {
            return Ok(Meta::Done(Value::Bool(false)));
        }
        self.call_meta(f, &[a, b], in_loop)
    }

    /// `a < b` (`le` false) or `a <= b` (`le` true): numbers, strings, then `__lt`/`__le`.
    #[inline(never)]
    pub(crate) fn compare_slow(
        &mut self,
        a: Value,
        b: Value,
        le: bool,
        in_loop: bool,
    ) -> Result<Meta, LuaError> {
        if let Some(r) = crate::compare::compare_prim(a, b, le) {
            return Ok(Meta::Done(Value::Bool(r)));
        }
        let tm = if le { Tm::Le } else { Tm::Lt };
        let mut f = self.get_tm(a, tm);
        if f.is_nil() {
            f = self.get_tm(b, tm);
        }
        if f.is_nil() && le {
            // Lua 5.4 built with LUA_COMPAT_LT_LE (the default): `a <= b` as `not (b < a)`.
            let mut g = self.get_tm(b, Tm::Lt);
            if g.is_nil() {
                g = self.get_tm(a, Tm::Lt);
            }
            if !g.is_nil() {
                return match self.call_meta(g, &[b, a], in_loop)? {
                    Meta::Done(v) => Ok(Meta::Done(Value::Bool(v.is_falsy()))),
                    Meta::Pushed => {
                        if let Some(ci) = self.cur.get_mut().frames.last_mut() {
                            ci.flags |= crate::thread::flags::NEGATE;
                        }
                        Ok(Meta::Pushed)
                    }
                };
            }
        }
        if f.is_nil() {
            return Err(self.order_error(a, b));
        }
        self.call_meta(f, &[a, b], in_loop)
    }

    /// `#v`.
    #[inline(never)]
    pub(crate) fn len_slow(
        &mut self,
        v: Value,
        desc: Operand,
        in_loop: bool,
    ) -> Result<Meta, LuaError> {
        let f = self.get_tm(v, Tm::Len);
        if !f.is_nil() {
            // Like every unary metamethod, __len gets its operand twice (luaT_trybinTM).
            return self.call_meta(f, &[v, v], in_loop);
        }
        match v {
            Value::Table(t) => Ok(Meta::Done(Value::Int(t.get().len()))),
            Value::Str(s) => Ok(Meta::Done(Value::Int(s.get().len() as i64))),
            _ => Err(self.type_error(v, "get length of", desc)),
        }
    }

    /// Raw string form of strings and numbers (`None` for other values).
    pub(crate) fn tostring_prim(&self, v: Value) -> Option<Vec<u8>> {
        match v {
            Value::Str(s) => Some(s.get().as_bytes().to_vec()),
            Value::Int(i) => Some(i.to_string().into_bytes()),
            Value::Float(f) => Some(crate::numfmt::float_to_string(f).into_bytes()),
            _ => None,
        }
    }

    /// `tostring` without metamethods: `table: 0x...`, numbers, strings, booleans, nil.
    pub fn tostring_basic(&self, v: Value) -> Vec<u8> {
        if let Some(b) = self.tostring_prim(v) {
            return b;
        }
        match v {
            Value::Nil => b"nil".to_vec(),
            Value::Bool(b) => {
                if b {
                    b"true".to_vec()
                } else {
                    b"false".to_vec()
                }
            }
            _ => {
                let name = self.obj_type_name(v);
                let id = match v {
                    Value::LightFn(f) => f as usize,
                    _ => v.identity().unwrap_or(0),
                };
                format!("{}: {:#x}", name, id).into_bytes()
            }
        }
    }

    /// `tostring(v)` with `__tostring` and `__name` (may call Lua).
    pub fn tostring_meta(&mut self, v: Value) -> Result<Value, LuaError> {
        let f = self.get_tm(v, Tm::ToString);
        if !f.is_nil() {
            let r = self.call_value(f, &[v])?;
            let r = r.first().copied().unwrap_or(Value::Nil);
            return match r {
                Value::Str(_) => Ok(r),
                Value::Int(_) | Value::Float(_) => {
                    let b = self.tostring_basic(r);
                    Ok(self.str_value(b))
                }
                _ => Err(self.rt_error("'__tostring' must return a string")),
            };
        }
        if let Value::Str(_) = v {
            return Ok(v);
        }
        let b = self.tostring_basic(v);
        Ok(self.str_value(b))
    }

    /// A printable form of an error value for hosts: strings and numbers as is, other
    /// values through `__tostring` when possible, else `(error object is a X value)`.
    pub fn to_display(&mut self, v: Value) -> String {
        match v {
            Value::Str(s) => s.get().to_str_lossy().into_owned(),
            Value::Int(_) | Value::Float(_) => {
                String::from_utf8_lossy(&self.tostring_basic(v)).into_owned()
            }
            _ => {
                if !self.get_tm(v, Tm::ToString).is_nil() {
                    if let Ok(Value::Str(s)) = self.protect(|vm| vm.tostring_meta(v)) {
                        return s.get().to_str_lossy().into_owned();
                    }
                }
                format!("(error object is a {} value)", v.type_name())
            }
        }
    }

    /// Concatenates `stack[first .. first + total]` into `stack[first]`, from the right, as
    /// PUC's `luaV_concat`. Returns `Pushed` when a Lua `__concat` frame was pushed (its
    /// `extra` records how many values remained).
    #[inline(never)]
    pub(crate) fn concat(
        &mut self,
        first: usize,
        mut total: usize,
        base_reg: usize,
        in_loop: bool,
    ) -> Result<Meta, LuaError> {
        while total > 1 {
            let th = self.cur.get();
            let top = first + total;
            let a = th.stack[top - 2];
            let b = th.stack[top - 1];
            let a_ok = matches!(a, Value::Str(_) | Value::Int(_) | Value::Float(_));
            let b_ok = matches!(b, Value::Str(_) | Value::Int(_) | Value::Float(_));
            if !(a_ok && b_ok) {
                let mut f = self.get_tm(a, Tm::Concat);
                if f.is_nil() {
                    f = self.get_tm(b, Tm::Concat);
                }
                if f.is_nil() {
                    let (v, reg) = if a_ok { (b, top - 1) } else { (a, top - 2) };
                    let d = if in_loop {
                        Operand::Reg((reg - base_reg) as u32)
                    } else {
                        Operand::None
                    };
                    return Err(self.type_error(v, "concatenate", d));
                }
                match self.call_meta(f, &[a, b], in_loop)? {
                    Meta::Done(r) => {
                        self.cur.get_mut().stack[top - 2] = r;
                        total -= 1;
                        continue;
                    }
                    Meta::Pushed => {
                        let th = self.cur.get_mut();
                        if let Some(ci) = th.frames.last_mut() {
                            ci.extra = total as u32;
                        }
                        return Ok(Meta::Pushed);
                    }
                }
            }
            // Gather the longest run of strings/numbers ending at the top.
            let mut n = 2;
            while n < total {
                let v = th.stack[top - n - 1];
                if matches!(v, Value::Str(_) | Value::Int(_) | Value::Float(_)) {
                    n += 1;
                } else {
                    break;
                }
            }
            // The result's length first: a string that cannot exist, or memory that cannot
            // be had, is Lua's error rather than an abort.
            let mut len = 0usize;
            for i in top - n..top {
                len = len.saturating_add(match th.stack[i] {
                    Value::Str(s) => s.get().len(),
                    _ => 48,
                });
            }
            if len > crate::string::MAX_STRING_LEN {
                return Err(self.rt_error("string length overflow"));
            }
            let mut buf = self.alloc_buffer_unrooted(len)?;
            for i in top - n..top {
                let v = self.cur.get().stack[i];
                match v {
                    Value::Str(s) => buf.extend_from_slice(s.get().as_bytes()),
                    Value::Int(x) => crate::numfmt::write_int(&mut buf, x),
                    Value::Float(f) => crate::numfmt::write_float(&mut buf, f),
                    _ => {}
                }
            }
            let s = self.heap.new_str_from_vec(buf);
            self.cur.get_mut().stack[top - n] = Value::Str(s);
            total -= n - 1;
        }
        Ok(Meta::Done(self.cur.get().stack[first]))
    }
}

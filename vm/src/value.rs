//! `Value`: a Lua value in 16 bytes (tag + 8-byte payload). Collectable values hold a `Gc`
//! pointer into the VM's heap.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::api::NativeFn;
use crate::function::{LuaClosure, NativeClosure};
use crate::gc::Gc;
use crate::string::{str_eq, LuaStr};
use crate::table::Table;
use crate::thread::Thread;
use crate::userdata::UserData;

/// A Lua value.
#[derive(Clone, Copy, Default)]
// A full-word tag at offset 0 and the payload at offset 8: copies of a Value are then two
// aligned 8-byte moves. With the default layout (1-byte tag, payload at 1 for `Bool`) rustc
// copied values as overlapping unaligned words, and reading a value just stored by a callee
// stalled on store forwarding (the `pairs`/`type` replacement loop ran 2x slower).
#[repr(u64)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Gc<LuaStr>),
    Table(Gc<Table>),
    /// Closure of a compiled function.
    LuaFn(Gc<LuaClosure>),
    /// Rust function with upvalues.
    NativeFn(Gc<NativeClosure>),
    /// A bare Rust function pointer: no upvalues, no allocation.
    LightFn(NativeFn),
    UserData(Gc<UserData>),
    LightUserData(usize),
    Thread(Gc<Thread>),
}

/// The names `type()` answers, indexed by [`Value::type_index`].
pub const TYPE_NAMES: [&str; 8] = [
    "nil", "boolean", "number", "string", "table", "function", "userdata", "thread",
];

impl Value {
    /// Lua's `type()` name.
    pub fn type_name(&self) -> &'static str {
        TYPE_NAMES[self.type_index()]
    }

    /// The index of `type(v)` in [`TYPE_NAMES`]: values of the same Lua type share it.
    #[inline]
    pub fn type_index(&self) -> usize {
        match self {
            Value::Nil => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Float(_) => 2,
            Value::Str(_) => 3,
            Value::Table(_) => 4,
            Value::LuaFn(_) | Value::NativeFn(_) | Value::LightFn(_) => 5,
            Value::UserData(_) | Value::LightUserData(_) => 6,
            Value::Thread(_) => 7,
        }
    }

    /// `nil` or `false`.
    #[inline(always)]
    pub fn is_falsy(&self) -> bool {
        matches!(self, Value::Nil | Value::Bool(false))
    }

    /// Anything but `nil` and `false`.
    #[inline(always)]
    pub fn is_truthy(&self) -> bool {
        !self.is_falsy()
    }

    #[inline(always)]
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    #[inline(always)]
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Float(_))
    }

    #[inline(always)]
    pub fn is_function(&self) -> bool {
        matches!(
            self,
            Value::LuaFn(_) | Value::NativeFn(_) | Value::LightFn(_)
        )
    }

    /// The integer, if this is an `Int` (no conversion from floats).
    #[inline(always)]
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// An integer or a float with an exact integer value (as `lua_tointegerx` without string
    /// coercion, mode "exact").
    #[inline]
    pub fn to_int_exact(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::Float(f) => float_to_int(f),
            _ => None,
        }
    }

    /// The number as a float (Int converted), if this is a number.
    #[inline(always)]
    pub fn as_float(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    #[inline(always)]
    pub fn as_str(&self) -> Option<Gc<LuaStr>> {
        match *self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    #[inline(always)]
    pub fn as_table(&self) -> Option<Gc<Table>> {
        match *self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// Collectable (heap) value?
    #[inline]
    pub fn is_collectable(&self) -> bool {
        matches!(
            self,
            Value::Str(_)
                | Value::Table(_)
                | Value::LuaFn(_)
                | Value::NativeFn(_)
                | Value::UserData(_)
                | Value::Thread(_)
        )
    }

    /// Identity of a reference value (for `%p`, `tostring` of tables, ...): the object's
    /// address, the function pointer, or the light userdata. `None` for numbers, booleans, nil.
    pub fn identity(&self) -> Option<usize> {
        match *self {
            Value::Str(g) => Some(g.addr()),
            Value::Table(g) => Some(g.addr()),
            Value::LuaFn(g) => Some(g.addr()),
            Value::NativeFn(g) => Some(g.addr()),
            Value::LightFn(f) => Some(f as usize),
            Value::UserData(g) => Some(g.addr()),
            Value::LightUserData(p) => Some(p),
            Value::Thread(g) => Some(g.addr()),
            _ => None,
        }
    }

    /// True when two constants are the same value of the same type (floats bit for bit,
    /// so `0.0` and `-0.0`, or `1` and `1.0`, differ): how hot patching compares code.
    pub fn same_constant(&self, other: &Value) -> bool {
        match (*self, *other) {
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => false,
            _ => self.raw_eq(other),
        }
    }

    /// Raw equality (`rawequal`): no metamethods; 1 == 1.0; long strings by content.
    #[inline]
    pub fn raw_eq(&self, other: &Value) -> bool {
        match (*self, *other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) => {
                int_eq_float(i, f)
            }
            (Value::Str(a), Value::Str(b)) => str_eq(a, b),
            (Value::Table(a), Value::Table(b)) => a == b,
            (Value::LuaFn(a), Value::LuaFn(b)) => a == b,
            (Value::NativeFn(a), Value::NativeFn(b)) => a == b,
            (Value::LightFn(a), Value::LightFn(b)) => a as usize == b as usize,
            (Value::UserData(a), Value::UserData(b)) => a == b,
            (Value::LightUserData(a), Value::LightUserData(b)) => a == b,
            (Value::Thread(a), Value::Thread(b)) => a == b,
            _ => false,
        }
    }

    /// Same tag and same payload bits (no numeric or string-content equivalence). Used for
    /// dead table keys, which must never be dereferenced.
    #[inline]
    pub(crate) fn raw_identical(&self, other: &Value) -> bool {
        match (*self, *other) {
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Nil, Value::Nil) => true,
            (a, b) => {
                std::mem::discriminant(&a) == std::mem::discriminant(&b)
                    && a.identity() == b.identity()
            }
        }
    }

    /// Normalise a table key: floats with an integral value become integers (`t[2.0]` is
    /// `t[2]`, `t[-0.0]` is `t[0]`).
    #[inline(always)]
    pub fn normalize_key(self) -> Value {
        match self {
            Value::Float(f) => match float_to_int(f) {
                Some(i) => Value::Int(i),
                None => self,
            },
            v => v,
        }
    }

    /// 64-bit hash consistent with `raw_eq` (integral floats hash as their integer; long
    /// strings by their precomputed content hash).
    #[inline]
    pub fn hash64(&self) -> u64 {
        match *self {
            Value::Nil => 0,
            Value::Bool(b) => b as u64 + 1,
            Value::Int(i) => mix(i as u64),
            Value::Float(f) => match float_to_int(f) {
                Some(i) => mix(i as u64),
                None => mix(f.to_bits() ^ 0x5555_5555),
            },
            Value::Str(s) => s.get().hash() as u64,
            other => mix(other.identity().unwrap_or(0) as u64),
        }
    }
}

/// Full avalanche of a 64-bit word (murmur3's finaliser): every input bit affects the low
/// bits used as bucket index. Floats such as `k + 0.5` differ only in their high bits and
/// pointers only above their alignment, so a plain multiply is not enough.
#[inline(always)]
pub(crate) fn mix(x: u64) -> u64 {
    let mut h = x;
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// `f` as an i64 if it has an exact integer value in range.
#[inline]
pub fn float_to_int(f: f64) -> Option<i64> {
    // -2^63 <= f < 2^63 and integral.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        let i = f as i64;
        if i as f64 == f {
            return Some(i);
        }
    }
    None
}

/// Mathematical equality of an integer and a float.
#[inline]
pub fn int_eq_float(i: i64, f: f64) -> bool {
    float_to_int(f) == Some(i)
}

impl PartialEq for Value {
    #[inline]
    fn eq(&self, other: &Value) -> bool {
        self.raw_eq(other)
    }
}

/// `Eq` for use as a key in Rust maps: NaN is never a valid key (tables reject it).
impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash64())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}
impl From<Gc<LuaStr>> for Value {
    fn from(s: Gc<LuaStr>) -> Value {
        Value::Str(s)
    }
}
impl From<Gc<Table>> for Value {
    fn from(t: Gc<Table>) -> Value {
        Value::Table(t)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{:?}", s.get()),
            other => write!(
                f,
                "{}: {:#x}",
                other.type_name(),
                other.identity().unwrap_or(0)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gc::Heap;

    #[test]
    fn value_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<Option<Gc<Table>>>(), 8);
    }

    #[test]
    fn raw_equality() {
        let mut h = Heap::with_seed(1);
        assert!(Value::Int(1).raw_eq(&Value::Float(1.0)));
        assert!(!Value::Int(1).raw_eq(&Value::Float(1.5)));
        assert!(!Value::Float(f64::NAN).raw_eq(&Value::Float(f64::NAN)));
        assert!(!Value::Int(i64::MAX).raw_eq(&Value::Float(9.223372036854776e18)));
        assert!(!Value::Bool(false).raw_eq(&Value::Nil));
        let a = h.new_str(b"abc");
        let b = h.new_str(b"abc");
        assert_eq!(a, b, "short strings are interned");
        let long = vec![b'x'; 100];
        let la = h.new_str(&long);
        let lb = h.new_str(&long);
        assert_ne!(la, lb, "long strings are separate objects");
        assert!(Value::Str(la).raw_eq(&Value::Str(lb)));
        assert_eq!(Value::Str(la).hash64(), Value::Str(lb).hash64());
        let t1 = h.new_table();
        let t2 = h.new_table();
        assert!(Value::Table(t1).raw_eq(&Value::Table(t1)));
        assert!(!Value::Table(t1).raw_eq(&Value::Table(t2)));
    }

    #[test]
    fn type_names_and_truthiness() {
        assert_eq!(Value::Nil.type_name(), "nil");
        assert_eq!(Value::Float(1.0).type_name(), "number");
        assert_eq!(Value::LightUserData(0).type_name(), "userdata");
        assert!(Value::Nil.is_falsy() && Value::Bool(false).is_falsy());
        assert!(Value::Int(0).is_truthy());
    }

    #[test]
    fn key_normalisation() {
        assert!(matches!(Value::Float(2.0).normalize_key(), Value::Int(2)));
        assert!(matches!(Value::Float(-0.0).normalize_key(), Value::Int(0)));
        assert!(matches!(Value::Float(2.5).normalize_key(), Value::Float(_)));
        assert!(matches!(
            Value::Float(1e300).normalize_key(),
            Value::Float(_)
        ));
        assert!(matches!(
            Value::Float(-9.223372036854776e18).normalize_key(),
            Value::Int(i64::MIN)
        ));
        assert_eq!(Value::Float(3.0).hash64(), Value::Int(3).hash64());
    }
}

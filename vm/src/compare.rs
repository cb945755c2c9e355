//! Comparisons: exact integer/float ordering, string ordering by bytes; the metamethod and
//! error paths are in `meta.rs`.

use crate::arith;
use crate::value::Value;

/// `a < b` (or `a <= b` when `le`) for two numbers or two strings; `None` otherwise.
#[inline]
pub fn compare_prim(a: Value, b: Value, le: bool) -> Option<bool> {
    Some(match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            if le {
                x <= y
            } else {
                x < y
            }
        }
        (Value::Float(x), Value::Float(y)) => {
            if le {
                x <= y
            } else {
                x < y
            }
        }
        (Value::Int(x), Value::Float(y)) => {
            if le {
                arith::le_int_float(x, y)
            } else {
                arith::lt_int_float(x, y)
            }
        }
        (Value::Float(x), Value::Int(y)) => {
            if le {
                arith::le_float_int(x, y)
            } else {
                arith::lt_float_int(x, y)
            }
        }
        (Value::Str(x), Value::Str(y)) => {
            let o = x.get().as_bytes().cmp(y.get().as_bytes());
            if le {
                o != std::cmp::Ordering::Greater
            } else {
                o == std::cmp::Ordering::Less
            }
        }
        _ => return None,
    })
}

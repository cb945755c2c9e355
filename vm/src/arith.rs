//! Arithmetic with Lua 5.4's number semantics. The fast paths (two integers, two floats) are
//! inlined by the interpreter; this file holds the exact integer/float rules (floor division,
//! floor modulo, shifts, float-to-integer conversion) and the slow path: string coercion,
//! then the metamethod, then Lua's error message.

/// The arithmetic and bitwise operators, in the order of their metamethod names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
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
}

impl ArithOp {
    /// True for the operators that work on integers only (`&`, `|`, `~`, `<<`, `>>`, `~x`).
    pub fn is_bitwise(self) -> bool {
        matches!(
            self,
            ArithOp::BAnd
                | ArithOp::BOr
                | ArithOp::BXor
                | ArithOp::Shl
                | ArithOp::Shr
                | ArithOp::BNot
        )
    }
}

/// Integer floor division; `n // 0` is the caller's error, `MIN // -1` wraps.
#[inline]
pub fn int_idiv(m: i64, n: i64) -> i64 {
    if n == -1 {
        return m.wrapping_neg();
    }
    let q = m / n;
    if (m % n != 0) && ((m ^ n) < 0) {
        q - 1
    } else {
        q
    }
}

/// Integer floor modulo; `n % 0` is the caller's error, `m % -1` is 0.
#[inline]
pub fn int_mod(m: i64, n: i64) -> i64 {
    if n == -1 {
        return 0;
    }
    let r = m % n;
    if r != 0 && (r ^ n) < 0 {
        r + n
    } else {
        r
    }
}

/// Float floor modulo as `luai_nummod`.
#[inline]
pub fn float_mod(a: f64, b: f64) -> f64 {
    let r = a % b;
    if (r > 0.0 && b < 0.0) || (r < 0.0 && b > 0.0) {
        r + b
    } else {
        r
    }
}

/// Float floor division.
#[inline]
pub fn float_idiv(a: f64, b: f64) -> f64 {
    (a / b).floor()
}

/// Float exponentiation (`^`), with C's `pow` special cases as Rust implements them.
#[inline]
pub fn float_pow(a: f64, b: f64) -> f64 {
    if b == 2.0 {
        a * a
    } else {
        a.powf(b)
    }
}

/// Logical shift left by a signed amount; shifts of 64 bits or more give 0.
#[inline]
pub fn shift_left(x: i64, n: i64) -> i64 {
    if n <= -64 || n >= 64 {
        0
    } else if n >= 0 {
        ((x as u64) << n) as i64
    } else {
        ((x as u64) >> (-n)) as i64
    }
}

/// The integer with exactly the float's value, if there is one (`lua_numbertointeger` with
/// `F2Ieq`).
#[inline]
pub fn float_to_int_exact(f: f64) -> Option<i64> {
    if f.floor() == f && (-9223372036854775808.0..9223372036854775808.0).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// `floor(f)` as an integer when it fits (for `for` loop limits and `math.floor`).
#[inline]
pub fn float_floor_to_int(f: f64) -> Option<i64> {
    float_to_int_exact(f.floor())
}

/// Integer arithmetic for the operators defined on two integers (not `/` and `^`, which are
/// float operators). `None` for division or modulo by zero (the caller raises the error).
#[inline]
pub fn int_arith(op: ArithOp, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        ArithOp::Add => a.wrapping_add(b),
        ArithOp::Sub => a.wrapping_sub(b),
        ArithOp::Mul => a.wrapping_mul(b),
        ArithOp::Mod => {
            if b == 0 {
                return None;
            }
            int_mod(a, b)
        }
        ArithOp::IDiv => {
            if b == 0 {
                return None;
            }
            int_idiv(a, b)
        }
        ArithOp::BAnd => a & b,
        ArithOp::BOr => a | b,
        ArithOp::BXor => a ^ b,
        ArithOp::Shl => shift_left(a, b),
        ArithOp::Shr => shift_left(a, b.wrapping_neg()),
        ArithOp::Unm => a.wrapping_neg(),
        ArithOp::BNot => !a,
        ArithOp::Pow | ArithOp::Div => return None,
    })
}

/// Float arithmetic for the non-bitwise operators.
#[inline]
pub fn float_arith(op: ArithOp, a: f64, b: f64) -> f64 {
    match op {
        ArithOp::Add => a + b,
        ArithOp::Sub => a - b,
        ArithOp::Mul => a * b,
        ArithOp::Div => a / b,
        ArithOp::Mod => {
            if b.is_infinite() && a.is_finite() {
                // fmod(a, inf) = a; the sign adjustment below must not produce inf.
                if (a >= 0.0) == (b > 0.0) || a == 0.0 {
                    a
                } else {
                    b
                }
            } else {
                float_mod(a, b)
            }
        }
        ArithOp::Pow => float_pow(a, b),
        ArithOp::IDiv => float_idiv(a, b),
        ArithOp::Unm => -a,
        _ => f64::NAN,
    }
}

/// `i < f` exactly (no rounding of `i` to float).
#[inline]
pub fn lt_int_float(i: i64, f: f64) -> bool {
    if f.is_nan() {
        return false;
    }
    // i < f  <=>  i < ceil(f) when ceil(f) fits; otherwise decided by the sign of f.
    if f >= 9223372036854775808.0 {
        true
    } else if f > -9223372036854775808.0 {
        let c = f.ceil();
        i < c as i64
    } else {
        false
    }
}

/// `i <= f` exactly.
#[inline]
pub fn le_int_float(i: i64, f: f64) -> bool {
    if f.is_nan() {
        return false;
    }
    if f >= 9223372036854775808.0 {
        true
    } else if f >= -9223372036854775808.0 {
        i <= f.floor() as i64
    } else {
        false
    }
}

/// `f < i` exactly.
#[inline]
pub fn lt_float_int(f: f64, i: i64) -> bool {
    if f.is_nan() {
        return false;
    }
    if f >= 9223372036854775808.0 {
        false
    } else if f >= -9223372036854775808.0 {
        (f.floor() as i64) < i
    } else {
        true
    }
}

/// `f <= i` exactly.
#[inline]
pub fn le_float_int(f: f64, i: i64) -> bool {
    if f.is_nan() {
        return false;
    }
    if f >= 9223372036854775808.0 {
        false
    } else if f > -9223372036854775808.0 {
        (f.ceil() as i64) <= i
    } else {
        true
    }
}

/// `i == f` exactly.
#[inline]
pub fn eq_int_float(i: i64, f: f64) -> bool {
    float_to_int_exact(f) == Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_and_modulo() {
        assert_eq!(int_idiv(7, 2), 3);
        assert_eq!(int_idiv(-7, 2), -4);
        assert_eq!(int_idiv(7, -2), -4);
        assert_eq!(int_idiv(i64::MIN, -1), i64::MIN);
        assert_eq!(int_mod(-3, 2), 1);
        assert_eq!(int_mod(3, -2), -1);
        assert_eq!(int_mod(i64::MIN, -1), 0);
        assert_eq!(float_mod(5.5, -2.0), -0.5);
        assert_eq!(float_arith(ArithOp::Mod, 1.0, f64::INFINITY), 1.0);
        assert_eq!(
            float_arith(ArithOp::Mod, -1.0, f64::INFINITY),
            f64::INFINITY
        );
    }

    #[test]
    fn shifts() {
        assert_eq!(shift_left(1, 63), i64::MIN);
        assert_eq!(shift_left(1, 64), 0);
        assert_eq!(shift_left(-1, -1), i64::MAX);
        assert_eq!(shift_left(-1, -64), 0);
    }

    #[test]
    fn exact_mixed_comparisons() {
        let big = 9007199254740993i64; // 2^53 + 1: not representable as f64
        let f = 9007199254740992.0;
        assert!(!lt_int_float(big, f));
        assert!(lt_float_int(f, big));
        assert!(!eq_int_float(big, f));
        assert!(lt_int_float(i64::MAX, 9223372036854775808.0));
        assert!(le_float_int(-9223372036854775808.0, i64::MIN));
        assert!(!lt_float_int(-9223372036854775808.0, i64::MIN));
        assert!(!lt_int_float(1, f64::NAN));
        assert_eq!(float_to_int_exact(2.5), None);
        assert_eq!(float_to_int_exact(-0.0), Some(0));
    }
}

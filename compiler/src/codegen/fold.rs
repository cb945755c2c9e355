//! Constant folding of arithmetic and bitwise operators on numeric literals, with Lua 5.4's
//! exact rules: integer arithmetic wraps, `/` and `^` are float, floor division and modulo
//! round towards minus infinity. [`fold`] refuses what Lua refuses to fold: division or
//! modulo by zero, bitwise operations on floats without an exact integer value, and any
//! result that is NaN or a (possibly negative) float zero.

use crate::ast::{BinOp, UnOp};

/// A numeric literal operand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

/// An operator that can be folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FoldOp {
    Bin(BinOp),
    Un(UnOp),
}

impl Num {
    fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
    /// The integer value of a number that has an exact one (Lua's `F2Ieq` mode).
    pub(crate) fn to_int(self) -> Option<i64> {
        match self {
            Num::Int(i) => Some(i),
            Num::Float(f) => float_to_int(f),
        }
    }
}

/// `f` as an integer when it has an exact integer value in range.
pub(crate) fn float_to_int(f: f64) -> Option<i64> {
    // -2^63 is exact in f64; 2^63 is the first value out of range.
    if f.floor() == f && (-9223372036854775808.0..9223372036854775808.0).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// Lua's integer floor division (the divisor is not zero).
pub(crate) fn int_idiv(a: i64, b: i64) -> i64 {
    if b == -1 {
        return a.wrapping_neg();
    }
    let q = a / b;
    if (a % b != 0) && ((a ^ b) < 0) {
        q - 1
    } else {
        q
    }
}

/// Lua's integer modulo (the divisor is not zero).
pub(crate) fn int_mod(a: i64, b: i64) -> i64 {
    if b == -1 {
        return 0;
    }
    let m = a % b;
    if m != 0 && (m ^ b) < 0 {
        m + b
    } else {
        m
    }
}

/// Lua's float modulo.
pub(crate) fn float_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m * b < 0.0 {
        m + b
    } else {
        m
    }
}

/// Lua's logical shift left (a negative count shifts right).
pub(crate) fn shift_left(x: i64, y: i64) -> i64 {
    if y < 0 {
        if y <= -64 {
            0
        } else {
            ((x as u64) >> (-y) as u32) as i64
        }
    } else if y >= 64 {
        0
    } else {
        ((x as u64) << y as u32) as i64
    }
}

fn is_bitwise(op: FoldOp) -> bool {
    matches!(
        op,
        FoldOp::Bin(BinOp::BAnd | BinOp::BOr | BinOp::BXor | BinOp::Shl | BinOp::Shr)
            | FoldOp::Un(UnOp::BNot)
    )
}

/// Folds `a op b` (for a unary operator `b` is ignored), or returns `None` when Lua would
/// not fold it.
pub(crate) fn fold(op: FoldOp, a: Num, b: Num) -> Option<Num> {
    // Lua's validop: bitwise operands must be integral; no division by zero.
    if is_bitwise(op) {
        a.to_int()?;
        if let FoldOp::Bin(_) = op {
            b.to_int()?;
        }
    }
    if matches!(op, FoldOp::Bin(BinOp::Div | BinOp::IDiv | BinOp::Mod)) && b.to_f64() == 0.0 {
        return None;
    }
    let r = raw_arith(op, a, b)?;
    match r {
        Num::Int(_) => Some(r),
        Num::Float(f) if f.is_nan() || f == 0.0 => None,
        Num::Float(_) => Some(r),
    }
}

fn raw_arith(op: FoldOp, a: Num, b: Num) -> Option<Num> {
    use BinOp::*;
    match op {
        FoldOp::Un(UnOp::Neg) => Some(match a {
            Num::Int(i) => Num::Int(i.wrapping_neg()),
            Num::Float(f) => Num::Float(-f),
        }),
        FoldOp::Un(UnOp::BNot) => Some(Num::Int(!a.to_int()?)),
        FoldOp::Un(_) => None,
        FoldOp::Bin(op) => match op {
            BAnd | BOr | BXor | Shl | Shr => {
                let (x, y) = (a.to_int()?, b.to_int()?);
                Some(Num::Int(match op {
                    BAnd => x & y,
                    BOr => x | y,
                    BXor => x ^ y,
                    Shl => shift_left(x, y),
                    _ => shift_left(x, y.wrapping_neg()),
                }))
            }
            Div | Pow => {
                let (x, y) = (a.to_f64(), b.to_f64());
                Some(Num::Float(if op == Div {
                    x / y
                } else if y == 2.0 {
                    x * x
                } else {
                    x.powf(y)
                }))
            }
            Add | Sub | Mul | IDiv | Mod => match (a, b) {
                (Num::Int(x), Num::Int(y)) => Some(Num::Int(match op {
                    Add => x.wrapping_add(y),
                    Sub => x.wrapping_sub(y),
                    Mul => x.wrapping_mul(y),
                    IDiv => int_idiv(x, y),
                    _ => int_mod(x, y),
                })),
                _ => {
                    let (x, y) = (a.to_f64(), b.to_f64());
                    Some(Num::Float(match op {
                        Add => x + y,
                        Sub => x - y,
                        Mul => x * y,
                        IDiv => (x / y).floor(),
                        _ => float_mod(x, y),
                    }))
                }
            },
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BinOp::*;

    fn b(op: BinOp, x: Num, y: Num) -> Option<Num> {
        fold(FoldOp::Bin(op), x, y)
    }

    #[test]
    fn folds_like_lua() {
        use Num::*;
        assert_eq!(b(Add, Int(1), Int(2)), Some(Int(3)));
        assert_eq!(b(Add, Int(i64::MAX), Int(1)), Some(Int(i64::MIN)));
        assert_eq!(b(Add, Int(1), Float(2.0)), Some(Float(3.0)));
        assert_eq!(b(Div, Int(1), Int(2)), Some(Float(0.5)));
        assert_eq!(b(IDiv, Int(7), Int(-2)), Some(Int(-4)));
        assert_eq!(b(Mod, Int(-7), Int(3)), Some(Int(2)));
        assert_eq!(b(Mod, Float(5.5), Int(-2)), Some(Float(-0.5)));
        assert_eq!(b(IDiv, Int(i64::MIN), Int(-1)), Some(Int(i64::MIN)));
        assert_eq!(b(Pow, Int(2), Int(10)), Some(Float(1024.0)));
        assert_eq!(b(Shl, Int(1), Int(64)), Some(Int(0)));
        assert_eq!(b(Shr, Int(-1), Int(60)), Some(Int(15)));
        assert_eq!(b(Shl, Int(1), Int(-1)), Some(Int(0)));
        assert_eq!(b(BAnd, Float(3.0), Int(1)), Some(Int(1)));
        // Not folded: division by zero, non-integral bitwise, NaN and zero results.
        assert_eq!(b(Div, Int(1), Int(0)), None);
        assert_eq!(b(IDiv, Int(1), Int(0)), None);
        assert_eq!(b(Mod, Float(1.0), Float(0.0)), None);
        assert_eq!(b(BOr, Float(1.5), Int(1)), None);
        assert_eq!(b(Sub, Float(1.0), Float(1.0)), None);
        assert_eq!(b(Mul, Float(0.0), Int(-1)), None);
        assert_eq!(b(Sub, Int(1), Int(1)), Some(Int(0)));
        assert_eq!(fold(FoldOp::Un(UnOp::Neg), Float(0.0), Int(0)), None);
        assert_eq!(
            fold(FoldOp::Un(UnOp::Neg), Int(i64::MIN), Int(0)),
            Some(Int(i64::MIN))
        );
        assert_eq!(fold(FoldOp::Un(UnOp::BNot), Int(0), Int(0)), Some(Int(-1)));
        assert_eq!(fold(FoldOp::Un(UnOp::BNot), Float(0.5), Int(0)), None);
        assert_eq!(b(Add, Float(f64::INFINITY), Float(f64::NEG_INFINITY)), None);
    }
}

//! Lua numerals: text to number conversion shared by the lexer and the VM's string coercion.
//!
//! Invariant: [`str_to_number`] accepts exactly the strings PUC Lua's `lua_stringtonumber`
//! accepts (the whole string must be a numeral, surrounded by optional whitespace), so the
//! lexer, `tonumber` and arithmetic coercion agree on every input.

/// A Lua number: integers and floats are distinct subtypes, as in Lua 5.4.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// Lua's `lisspace`: the C locale's white space.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_value(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// Converts a whole string to a number as Lua's `lua_stringtonumber`: optional leading and
/// trailing whitespace, an optional sign, decimal or hexadecimal (`0x`) integers and floats,
/// hex floats with `p` exponents, `inf`/`nan` words refused. A decimal integer that does not
/// fit in 64 bits becomes a float; a hexadecimal one wraps around modulo 2^64.
pub fn str_to_number(s: &[u8]) -> Option<Number> {
    let start = s.iter().position(|&b| !is_space(b))?;
    let end = s.iter().rposition(|&b| !is_space(b))? + 1;
    let body = &s[start..end];
    if let Some(i) = str_to_int(body) {
        return Some(Number::Int(i));
    }
    str_to_float(body).map(Number::Float)
}

/// Splits an optional sign off the front: (negative, rest).
fn split_sign(s: &[u8]) -> (bool, &[u8]) {
    match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

fn hex_prefix(s: &[u8]) -> Option<&[u8]> {
    if s.len() >= 2 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X') {
        Some(&s[2..])
    } else {
        None
    }
}

/// Lua's `l_str2int` on trimmed text: `None` when it is not an integer numeral or when a
/// decimal one overflows (the caller then reads it as a float).
fn str_to_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = split_sign(s);
    let mut acc: u64 = 0;
    if let Some(hex) = hex_prefix(digits) {
        if hex.is_empty() {
            return None;
        }
        for &b in hex {
            // Hexadecimal integers wrap around modulo 2^64.
            acc = acc.wrapping_mul(16).wrapping_add(u64::from(hex_value(b)?));
        }
    } else {
        if digits.is_empty() {
            return None;
        }
        // The magnitude may reach 2^63 only when negative.
        let limit: u64 = if neg { 1 << 63 } else { (1 << 63) - 1 };
        for &b in digits {
            if !b.is_ascii_digit() {
                return None;
            }
            acc = acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            if acc > limit {
                return None;
            }
        }
    }
    let value = acc as i64;
    Some(if neg { value.wrapping_neg() } else { value })
}

/// Lua's `l_str2d` on trimmed text: C `strtod` syntax, without `inf`/`nan`.
fn str_to_float(s: &[u8]) -> Option<f64> {
    let (neg, body) = split_sign(s);
    let magnitude = match hex_prefix(body) {
        Some(hex) => hex_float(hex)?,
        None => decimal_float(body)?,
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// `digits [. digits] [(e|E) [sign] digits]` with at least one mantissa digit.
fn decimal_float(s: &[u8]) -> Option<f64> {
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return None;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        i += 1;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != s.len() {
        return None;
    }
    // The text is now plain ASCII in a syntax Rust's correctly rounded parser accepts.
    std::str::from_utf8(s).ok()?.parse::<f64>().ok()
}

/// The part after `0x`: `hexdigits [. hexdigits] [(p|P) [sign] decimal digits]`.
fn hex_float(s: &[u8]) -> Option<f64> {
    let mut mantissa: u64 = 0;
    // Binary exponent adjustment: digits past the 60 bits we keep, minus fraction digits.
    let mut exp: i64 = 0;
    let mut any_digit = false;
    let mut seen_dot = false;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b == b'.' {
            if seen_dot {
                return None;
            }
            seen_dot = true;
        } else if let Some(d) = hex_value(b) {
            any_digit = true;
            if mantissa >> 56 == 0 {
                mantissa = mantissa * 16 + u64::from(d);
                if seen_dot {
                    exp -= 4;
                }
            } else {
                // Too many significant digits: keep the magnitude, fold the rest in as sticky.
                if d != 0 {
                    mantissa |= 1;
                }
                if !seen_dot {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if !any_digit {
        return None;
    }
    if i < s.len() && (s[i] == b'p' || s[i] == b'P') {
        i += 1;
        let mut exp_neg = false;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            exp_neg = s[i] == b'-';
            i += 1;
        }
        let exp_start = i;
        let mut e: i64 = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            e = (e * 10 + i64::from(s[i] - b'0')).min(1 << 20);
            i += 1;
        }
        if i == exp_start {
            return None;
        }
        exp += if exp_neg { -e } else { e };
    }
    if i != s.len() {
        return None;
    }
    Some(ldexp(mantissa as f64, exp))
}

/// `x * 2^e` without intermediate overflow of the power.
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    if x == 0.0 {
        return x;
    }
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * 2f64.powi(e as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<Number> {
        str_to_number(s.as_bytes())
    }

    #[test]
    fn integers() {
        assert_eq!(n("0"), Some(Number::Int(0)));
        assert_eq!(n(" 42\t\n"), Some(Number::Int(42)));
        assert_eq!(n("-17"), Some(Number::Int(-17)));
        assert_eq!(n("+17"), Some(Number::Int(17)));
        assert_eq!(n("9223372036854775807"), Some(Number::Int(i64::MAX)));
        assert_eq!(n("-9223372036854775808"), Some(Number::Int(i64::MIN)));
        assert_eq!(
            n("9223372036854775808"),
            Some(Number::Float(9223372036854775808.0))
        );
        assert_eq!(n("0x10"), Some(Number::Int(16)));
        assert_eq!(n(" -0x10 "), Some(Number::Int(-16)));
        assert_eq!(n("0xffffffffffffffff"), Some(Number::Int(-1)));
        assert_eq!(n("0x10000000000000000"), Some(Number::Int(0)));
        assert_eq!(n("0XA"), Some(Number::Int(10)));
    }

    #[test]
    fn floats() {
        assert_eq!(n("1.5"), Some(Number::Float(1.5)));
        assert_eq!(n(".5"), Some(Number::Float(0.5)));
        assert_eq!(n("5."), Some(Number::Float(5.0)));
        assert_eq!(n("1e5"), Some(Number::Float(100000.0)));
        assert_eq!(n("1E-2"), Some(Number::Float(0.01)));
        assert_eq!(n("1e400"), Some(Number::Float(f64::INFINITY)));
        assert_eq!(n("0x1p-2"), Some(Number::Float(0.25)));
        assert_eq!(n("0x.8"), Some(Number::Float(0.5)));
        assert_eq!(n("0x1.8p1"), Some(Number::Float(3.0)));
        assert_eq!(n("0x1P+4"), Some(Number::Float(16.0)));
        assert_eq!(n("0xA."), Some(Number::Float(10.0)));
        assert_eq!(n("0x1p99999999"), Some(Number::Float(f64::INFINITY)));
        assert_eq!(n("0x1p-99999999"), Some(Number::Float(0.0)));
        // 17 significant hex digits: the low digit is beyond f64 precision anyway.
        assert_eq!(n("0x10000000000000001"), Some(Number::Int(1)));
        assert_eq!(
            n("0x10000000000000000.0"),
            Some(Number::Float(18446744073709551616.0))
        );
    }

    #[test]
    fn rejects() {
        for s in [
            "", " ", "1e", "1e+", "0x", "0x.", "0x1p", ".", "e5", "inf", "nan", "-inf", "1 e5",
            "- 1", "--1", "1..2", "3x", "0x1g", "1.5.", "1\0", "infinity", "0x1p+", "1_000",
        ] {
            assert_eq!(n(s), None, "{s:?}");
        }
    }
}

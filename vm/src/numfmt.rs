//! Number to string conversion exactly as Lua 5.4 prints numbers (`lua_Number2str` with
//! `LUAI_NUMFFORMAT` "%.14g", then ".0" appended when the text looks like an integer), and
//! glibc's spelling of the special values (`inf`, `-inf`, `nan`, `-nan`).

use std::fmt::Write;

/// Appends the decimal form of an integer (`%d`).
pub fn write_int(out: &mut Vec<u8>, i: i64) {
    let mut buf = itoa_buf(i);
    out.extend_from_slice(buf.as_bytes());
    buf.clear();
}

fn itoa_buf(i: i64) -> String {
    let mut s = String::with_capacity(20);
    let _ = write!(s, "{}", i);
    s
}

/// The text Lua shows for a float: `%.14g`, plus `.0` when that looks like an integer.
pub fn float_to_string(f: f64) -> String {
    let mut s = fmt_g(f, 14, false);
    if s.bytes().all(|b| b == b'-' || b.is_ascii_digit()) {
        s.push_str(".0");
    }
    s
}

/// Appends the text Lua shows for a float (see [`float_to_string`]).
pub fn write_float(out: &mut Vec<u8>, f: f64) {
    out.extend_from_slice(float_to_string(f).as_bytes());
}

/// C's `%.<prec>g` (with `alt` for the `#` flag, which keeps trailing zeros), as glibc prints
/// it, including `inf`/`nan` with their signs.
pub fn fmt_g(f: f64, prec: usize, alt: bool) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf".into() } else { "inf".into() };
    }
    let p = if prec == 0 { 1 } else { prec };
    // Scientific form with p significant digits gives the exponent after rounding.
    let sci = format!("{:.*e}", p - 1, f);
    let (mant, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    if exp < -4 || exp >= p as i32 {
        let mut m = mant.to_string();
        if !alt {
            strip_zeros(&mut m);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", m, sign, exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        let mut s = format!("{:.*}", decimals, f);
        if !alt {
            strip_zeros(&mut s);
        }
        s
    }
}

/// Removes trailing zeros of a fraction, and the point when nothing follows it.
fn strip_zeros(s: &mut String) {
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_lua() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.33333333333333"),
            (1e15, "1e+15"),
            (1e14, "1e+14"),
            (123456789012345.0, "1.2345678901234e+14"),
            (12345678901234.0, "12345678901234.0"),
            (9223372036854775808.0, "9.2233720368548e+18"),
            (9007199254740992.0, "9.007199254741e+15"),
            (1e100, "1e+100"),
            (-3.5e-7, "-3.5e-07"),
            (0.0001, "0.0001"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (100.0, "100.0"),
            (-0.5, "-0.5"),
        ];
        for (f, s) in cases {
            assert_eq!(float_to_string(*f), *s, "{}", f);
        }
        assert_eq!(
            float_to_string(f64::from_bits(0xfff8_0000_0000_0000)),
            "-nan"
        );
        assert_eq!(
            float_to_string(f64::from_bits(0x7ff8_0000_0000_0000)),
            "nan"
        );
    }

    #[test]
    fn g_format() {
        assert_eq!(fmt_g(0.5, 6, false), "0.5");
        assert_eq!(fmt_g(1234567.0, 6, false), "1.23457e+06");
        assert_eq!(fmt_g(0.5, 6, true), "0.500000");
        let mut v = Vec::new();
        write_int(&mut v, i64::MIN);
        assert_eq!(v, b"-9223372036854775808");
    }
}

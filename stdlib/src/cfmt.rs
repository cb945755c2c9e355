//! C `printf`-style formatting of one conversion, byte for byte as glibc prints it in the C
//! locale: `%d %i %u %c %s %x %X %o %e %E %f %F %g %G %a %A` with the flags `-+ #0`, a width
//! and a precision.
//!
//! Invariant: decimal float digits come from Rust's exact float formatting (correctly
//! rounded, ties to even, like glibc); this module only arranges sign, padding, exponent
//! layout and the `%g` / `%a` rules. Nothing here allocates more than the output needs and
//! nothing panics for any spec or value.

use std::fmt::Write as _;

/// The flags, width and precision of one conversion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spec {
    /// `-`: left-justify within the width.
    pub left: bool,
    /// `+`: always show a sign for signed conversions.
    pub plus: bool,
    /// ` `: a space where a `+` would go.
    pub space: bool,
    /// `#`: the alternate form (`0x` prefix, forced decimal point, kept `%g` zeros).
    pub alt: bool,
    /// `0`: pad with zeros after the sign and prefix.
    pub zero: bool,
    /// Minimum field width.
    pub width: usize,
    /// Precision, if given (`.` alone means 0).
    pub precision: Option<usize>,
}

impl Spec {
    /// Parses flags, width and precision at the start of `s` (just after the `%`).
    /// Returns the spec and the number of bytes consumed; the conversion letter follows.
    pub fn parse(s: &[u8]) -> (Spec, usize) {
        let mut spec = Spec::default();
        let mut i = 0;
        while let Some(&c) = s.get(i) {
            match c {
                b'-' => spec.left = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.alt = true,
                b'0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
            spec.width = spec
                .width
                .saturating_mul(10)
                .saturating_add((c - b'0') as usize);
            i += 1;
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            let mut p = 0usize;
            while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
                p = p.saturating_mul(10).saturating_add((c - b'0') as usize);
                i += 1;
            }
            spec.precision = Some(p);
        }
        (spec, i)
    }
}

/// A fixed-size text buffer for one formatted number (no heap allocation); longer output
/// spills into a `String`.
struct StackBuf {
    len: usize,
    bytes: [u8; 64],
    spill: String,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf {
            len: 0,
            bytes: [0; 64],
            spill: String::new(),
        }
    }

    fn as_str(&self) -> &str {
        if self.spill.is_empty() {
            // Only whole `&str` pieces are ever copied in, so this is valid UTF-8.
            std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
        } else {
            &self.spill
        }
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.spill.is_empty() && self.len + s.len() <= self.bytes.len() {
            self.bytes[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            if self.spill.is_empty() {
                let head = std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("");
                self.spill.push_str(head);
            }
            self.spill.push_str(s);
        }
        Ok(())
    }
}

fn pad(out: &mut Vec<u8>, n: usize, c: u8) {
    out.extend(std::iter::repeat_n(c, n));
}

/// Emits `prefix` (sign, `0x`) and `body` padded to the spec's width. `zero_ok` says
/// whether the `0` flag applies (not for inf/nan, nor integers with a precision).
fn emit(out: &mut Vec<u8>, spec: &Spec, prefix: &[u8], body: &[u8], zero_ok: bool) {
    let len = prefix.len() + body.len();
    let fill = spec.width.saturating_sub(len);
    if spec.left {
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
        pad(out, fill, b' ');
    } else if spec.zero && zero_ok {
        out.extend_from_slice(prefix);
        pad(out, fill, b'0');
        out.extend_from_slice(body);
    } else {
        pad(out, fill, b' ');
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
    }
}

fn sign_prefix(spec: &Spec, negative: bool) -> &'static [u8] {
    if negative {
        b"-"
    } else if spec.plus {
        b"+"
    } else if spec.space {
        b" "
    } else {
        b""
    }
}

/// Applies an integer precision (minimum digit count; precision 0 prints 0 as nothing).
fn int_digits(spec: &Spec, digits: String, is_zero: bool) -> Vec<u8> {
    match spec.precision {
        Some(0) if is_zero => Vec::new(),
        Some(p) if p > digits.len() => {
            let mut v = vec![b'0'; p - digits.len()];
            v.extend_from_slice(digits.as_bytes());
            v
        }
        _ => digits.into_bytes(),
    }
}

/// `%d` / `%i`.
pub fn fmt_signed(out: &mut Vec<u8>, spec: &Spec, v: i64) {
    let body = int_digits(spec, v.unsigned_abs().to_string(), v == 0);
    emit(
        out,
        spec,
        sign_prefix(spec, v < 0),
        &body,
        spec.precision.is_none(),
    );
}

/// `%u`, `%o`, `%x`, `%X` of the value's 64-bit two's complement pattern.
pub fn fmt_unsigned(out: &mut Vec<u8>, spec: &Spec, v: u64, conv: u8) {
    let digits = match conv {
        b'o' => format!("{v:o}"),
        b'x' => format!("{v:x}"),
        b'X' => format!("{v:X}"),
        _ => v.to_string(),
    };
    let mut body = int_digits(spec, digits, v == 0);
    let prefix: &[u8] = match conv {
        b'x' if spec.alt && v != 0 => b"0x",
        b'X' if spec.alt && v != 0 => b"0X",
        _ => b"",
    };
    if conv == b'o' && spec.alt && body.first() != Some(&b'0') {
        body.insert(0, b'0');
    }
    emit(out, spec, prefix, &body, spec.precision.is_none());
}

/// `%c`: one byte.
pub fn fmt_char(out: &mut Vec<u8>, spec: &Spec, c: u8) {
    emit(out, spec, b"", &[c], false);
}

/// `%s`: bytes, cut at the precision.
pub fn fmt_str(out: &mut Vec<u8>, spec: &Spec, s: &[u8]) {
    let s = match spec.precision {
        Some(p) if p < s.len() => &s[..p],
        _ => s,
    };
    emit(out, spec, b"", s, false);
}

/// Splits Rust's `{:e}` output ("1.25e-3") into mantissa and exponent.
fn split_exp(s: &str) -> (&str, i32) {
    match s.find('e') {
        Some(k) => (&s[..k], s[k + 1..].parse().unwrap_or(0)),
        None => (s, 0),
    }
}

fn push_exp(body: &mut String, e: i32, letter: char) {
    body.push(letter);
    body.push(if e < 0 { '-' } else { '+' });
    let a = e.unsigned_abs();
    if a < 10 {
        body.push('0');
    }
    body.push_str(&a.to_string());
}

/// `%e` body of a finite non-negative value.
fn exp_body(v: f64, prec: usize, alt: bool, upper: bool) -> String {
    let s = format!("{:.*e}", prec, v);
    let (mant, e) = split_exp(&s);
    let mut body = String::with_capacity(mant.len() + 6);
    body.push_str(mant);
    if alt && prec == 0 {
        body.push('.');
    }
    push_exp(&mut body, e, if upper { 'E' } else { 'e' });
    body
}

/// `%f` body of a finite non-negative value.
fn fixed_body(v: f64, prec: usize, alt: bool) -> String {
    let mut body = format!("{:.*}", prec, v);
    if alt && prec == 0 {
        body.push('.');
    }
    body
}

/// `%g` body of a finite non-negative value. One exact conversion to `p` significant
/// digits gives both the digits and the exponent; the fixed or exponential layout is then
/// assembled from them.
fn general_body(v: f64, prec: usize, alt: bool, upper: bool) -> String {
    let p = if prec == 0 { 1 } else { prec };
    let mut buf = StackBuf::new();
    // Rust's exact formatting rounds correctly (ties to even), like glibc.
    let _ = write!(buf, "{:.*e}", p - 1, v);
    let (mant, x) = split_exp(buf.as_str());
    let mut digits: Vec<u8> = mant.bytes().filter(|c| c.is_ascii_digit()).collect();
    let fixed = (x as i64) < p as i64 && x >= -4;
    if !alt {
        // Trailing zeros go (they are all after the point in both layouts, except for
        // integral fixed values, where the point sits after digit x).
        let keep = if fixed && x >= 0 {
            (x as usize + 1).min(digits.len())
        } else {
            1
        };
        while digits.len() > keep && digits.last() == Some(&b'0') {
            digits.pop();
        }
    }
    let mut body = String::with_capacity(digits.len() + 8);
    if fixed {
        if x >= 0 {
            let int_len = x as usize + 1;
            body.extend(digits[..int_len].iter().map(|&c| c as char));
            if digits.len() > int_len || alt {
                body.push('.');
            }
            body.extend(digits[int_len..].iter().map(|&c| c as char));
        } else {
            body.push_str("0.");
            for _ in 0..(-x - 1) {
                body.push('0');
            }
            body.extend(digits.iter().map(|&c| c as char));
        }
    } else {
        body.push(digits[0] as char);
        if digits.len() > 1 || alt {
            body.push('.');
        }
        body.extend(digits[1..].iter().map(|&c| c as char));
        push_exp(&mut body, x, if upper { 'E' } else { 'e' });
    }
    body
}

/// `%a` body (after the sign) of a finite non-negative value, glibc style: a normal number
/// shows `0x1.<hex>p<exp>`, a subnormal `0x0.<hex>p-1022`; rounding to a precision is to
/// nearest, ties to even, and a carry may turn the leading digit into `2`.
fn hex_body(v: f64, prec: Option<usize>, alt: bool, upper: bool) -> String {
    let bits = v.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    let (mut lead, exp) = if raw_exp == 0 {
        (0u64, if mant == 0 { 0 } else { -1022 })
    } else {
        (1u64, raw_exp - 1023)
    };
    let mut ndig = 13usize;
    if let Some(p) = prec {
        if p < 13 {
            let drop = (13 - p) * 4;
            let rem = mant & ((1u64 << drop) - 1);
            let half = 1u64 << (drop - 1);
            mant >>= drop;
            // Ties go to even; with no fraction digits left the leading digit decides.
            let odd = if p == 0 { lead & 1 == 1 } else { mant & 1 == 1 };
            if rem > half || (rem == half && odd) {
                mant += 1;
                if mant >> (p * 4) != 0 {
                    mant &= (1u64 << (p * 4)) - 1;
                    lead += 1;
                }
            }
            ndig = p;
        }
    }
    let mut digits = if ndig == 0 {
        String::new()
    } else {
        format!("{:0width$x}", mant, width = ndig)
    };
    match prec {
        None => {
            let t = digits.trim_end_matches('0').len();
            digits.truncate(t);
        }
        Some(p) if p > 13 => digits.extend(std::iter::repeat_n('0', p - 13)),
        _ => {}
    }
    let mut body = format!("{lead}");
    if !digits.is_empty() || alt {
        body.push('.');
    }
    body.push_str(&digits);
    body.push('p');
    if exp >= 0 {
        body.push('+');
    }
    body.push_str(&exp.to_string());
    if upper {
        body = body.to_ascii_uppercase();
    }
    body
}

/// `%e %E %f %F %g %G %a %A` of a float.
pub fn fmt_float(out: &mut Vec<u8>, spec: &Spec, v: f64, conv: u8) {
    let upper = conv.is_ascii_uppercase();
    let negative = v.is_sign_negative();
    let sign = sign_prefix(spec, negative);
    if !v.is_finite() {
        let word = match (v.is_nan(), upper) {
            (true, false) => "nan",
            (true, true) => "NAN",
            (false, false) => "inf",
            (false, true) => "INF",
        };
        emit(out, spec, sign, word.as_bytes(), false);
        return;
    }
    let a = v.abs();
    let prec = spec.precision.unwrap_or(6);
    match conv.to_ascii_lowercase() {
        b'e' => emit(
            out,
            spec,
            sign,
            exp_body(a, prec, spec.alt, upper).as_bytes(),
            true,
        ),
        b'f' => emit(
            out,
            spec,
            sign,
            fixed_body(a, prec, spec.alt).as_bytes(),
            true,
        ),
        b'g' => emit(
            out,
            spec,
            sign,
            general_body(a, prec, spec.alt, upper).as_bytes(),
            true,
        ),
        _ => {
            let mut prefix = sign.to_vec();
            prefix.extend_from_slice(if upper { b"0X" } else { b"0x" });
            let body = hex_body(a, spec.precision, spec.alt, upper);
            emit(out, spec, &prefix, body.as_bytes(), true);
        }
    }
}

/// Formats `v` as C's `%.14g`, the way Lua shows floats (without Lua's added `.0`).
pub fn fmt_g14(v: f64) -> String {
    let mut out = Vec::new();
    let spec = Spec {
        precision: Some(14),
        ..Spec::default()
    };
    fmt_float(&mut out, &spec, v, b'g');
    String::from_utf8(out).unwrap_or_default()
}

/// Formats a Lua float as `tostring` does: `%.14g`, plus `.0` when that looks like an
/// integer (`1.0`, `-0.0`, but `1e+100` and `inf` unchanged).
pub fn lua_float_to_string(v: f64) -> String {
    let mut s = fmt_g14(v);
    if s.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
        s.push_str(".0");
    }
    s
}

/// Formats one C conversion: `fmt` is the whole spec such as `%-08.3f`.
/// Unknown conversions yield the spec text itself. Convenience for tests and callers that
/// hold a complete spec string.
pub fn sprintf_float(fmt: &str, v: f64) -> String {
    let b = fmt.as_bytes();
    let (spec, n) = Spec::parse(b.get(1..).unwrap_or(&[]));
    let conv = b.get(1 + n).copied().unwrap_or(b'g');
    let mut out = Vec::new();
    fmt_float(&mut out, &spec, v, conv);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_number_text() {
        assert_eq!(lua_float_to_string(1.0), "1.0");
        assert_eq!(lua_float_to_string(-0.0), "-0.0");
        assert_eq!(lua_float_to_string(1e100), "1e+100");
        assert_eq!(lua_float_to_string(0.1), "0.1");
        assert_eq!(lua_float_to_string(1e15), "1e+15");
        assert_eq!(lua_float_to_string(123456789012.0), "123456789012.0");
        assert_eq!(lua_float_to_string(f64::INFINITY), "inf");
        assert_eq!(
            lua_float_to_string(f64::from_bits(0xfff8_0000_0000_0000)),
            "-nan"
        );
        assert_eq!(lua_float_to_string(f64::NAN), "nan");
    }

    #[test]
    fn hex_floats_as_glibc() {
        assert_eq!(sprintf_float("%a", 3.0), "0x1.8p+1");
        assert_eq!(sprintf_float("%.0a", 1.5), "0x2p+0");
        assert_eq!(sprintf_float("%A", -0.5), "-0X1P-1");
        assert_eq!(sprintf_float("%a", 5e-324), "0x0.0000000000001p-1022");
    }

    #[test]
    fn integers_with_flags() {
        let mut out = Vec::new();
        let (spec, _) = Spec::parse(b"+08.3d");
        fmt_signed(&mut out, &spec, -42);
        assert_eq!(out, b"    -042");
        out.clear();
        let (spec, _) = Spec::parse(b"#o");
        fmt_unsigned(&mut out, &spec, 0, b'o');
        assert_eq!(out, b"0");
    }
}

//! The `string.format` engine: parses the format string with Lua 5.4's checks and formats
//! each item through [`crate::cfmt`]; arguments come from the caller through [`FormatArgs`].
//!
//! Invariant: the order of checks equals lstrlib.c's (argument presence, then the spec
//! length, then per conversion the argument conversion and/or the spec's legality), so the
//! first error reported is the one Lua reports.

use crate::cfmt::{self, Spec};

pub use super::LibError as FormatError;

/// A value for `%q`: what `addliteral` distinguishes.
pub enum Literal {
    /// A string, quoted with escapes.
    Str(Vec<u8>),
    /// An integer.
    Int(i64),
    /// A float (hex float, `1e9999`, `-1e9999` or `(0/0)`).
    Float(f64),
    /// `nil`, `true` or `false`: the text as is.
    Plain(&'static str),
    /// Anything else: "value has no literal form".
    NoLiteral,
}

/// The caller's view of the arguments. Indices are Lua argument numbers (the format string
/// is #1, so the first value is #2). Conversions follow lauxlib (`luaL_checkinteger` accepts
/// numeric strings and integral floats, ...) and report failures as the caller's error type.
pub trait FormatArgs {
    /// The caller's error type (a Lua error); engine errors convert into it.
    type Error: From<FormatError>;
    /// Number of the last argument present (arguments 2..=top exist).
    fn top(&self) -> usize;
    /// `luaL_checkinteger`.
    fn integer(&mut self, arg: usize) -> Result<i64, Self::Error>;
    /// `luaL_checknumber`.
    fn number(&mut self, arg: usize) -> Result<f64, Self::Error>;
    /// `luaL_checklstring` (strings and numbers; used by `string.pack`).
    fn lstring(&mut self, arg: usize) -> Result<Vec<u8>, Self::Error>;
    /// `luaL_tolstring` (may call `__tostring`).
    fn tostring(&mut self, arg: usize) -> Result<Vec<u8>, Self::Error>;
    /// The argument classified for `%q`.
    fn literal(&mut self, arg: usize) -> Result<Literal, Self::Error>;
    /// `lua_topointer` for `%p` (`None` for values without identity).
    fn pointer(&mut self, arg: usize) -> Result<Option<usize>, Self::Error>;
}

const FLAGS_F: &[u8] = b"-+ #0";
const FLAGS_X: &[u8] = b"-#0";
const FLAGS_I: &[u8] = b"-+ 0";
const FLAGS_U: &[u8] = b"-0";
const FLAGS_C: &[u8] = b"-";
/// Lua's `MAX_FORMAT`: a spec (without `%`) of this length minus 10 or more is refused.
const MAX_FORMAT: usize = 32;

fn skip2digits(s: &[u8], mut i: usize) -> usize {
    if s.get(i).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
        if s.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
    }
    i
}

/// Lua's `checkformat`: `form` is the spec after `%` including the conversion letter.
fn check_form(form: &[u8], flags: &[u8], precision: bool) -> Result<(), FormatError> {
    let mut i = form.iter().take_while(|c| flags.contains(c)).count();
    if form.get(i) != Some(&b'0') {
        i = skip2digits(form, i);
        if form.get(i) == Some(&b'.') && precision {
            i = skip2digits(form, i + 1);
        }
    }
    if form.get(i).is_some_and(|c| c.is_ascii_alphabetic()) && i + 1 == form.len() {
        Ok(())
    } else {
        Err(FormatError::Msg(format!(
            "invalid conversion specification: '%{}'",
            String::from_utf8_lossy(form)
        )))
    }
}

/// Appends `s` quoted as `%q` does: `"`, `\`, newline escaped with a backslash, control
/// characters as decimal escapes (three digits when a digit follows).
pub fn add_quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for (i, &c) in s.iter().enumerate() {
        if c == b'"' || c == b'\\' || c == b'\n' {
            out.push(b'\\');
            out.push(c);
        } else if c < 32 || c == 127 {
            let next_digit = s.get(i + 1).is_some_and(|d| d.is_ascii_digit());
            if next_digit {
                out.extend_from_slice(format!("\\{c:03}").as_bytes());
            } else {
                out.extend_from_slice(format!("\\{c}").as_bytes());
            }
        } else {
            out.push(c);
        }
    }
    out.push(b'"');
}

/// `%q` of a float: a hex float, or a form that reads back as inf/nan.
pub fn quote_float(out: &mut Vec<u8>, v: f64) {
    if v == f64::INFINITY {
        out.extend_from_slice(b"1e9999");
    } else if v == f64::NEG_INFINITY {
        out.extend_from_slice(b"-1e9999");
    } else if v.is_nan() {
        out.extend_from_slice(b"(0/0)");
    } else {
        cfmt::fmt_float(out, &Spec::default(), v, b'a');
    }
}

/// `%q` of an integer (the minimum integer in hex, as it has no decimal literal).
pub fn quote_int(out: &mut Vec<u8>, v: i64) {
    if v == i64::MIN {
        out.extend_from_slice(b"0x8000000000000000");
    } else {
        out.extend_from_slice(v.to_string().as_bytes());
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `string.format(fmt, ...)`.
pub fn format<A: FormatArgs>(fmt: &[u8], args: &mut A) -> Result<Vec<u8>, A::Error> {
    let mut out = Vec::with_capacity(fmt.len() + 16);
    let mut arg = 1usize;
    let mut i = 0usize;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        arg += 1;
        if arg > args.top() {
            return Err(FormatError::Arg(arg, "no value".into()).into());
        }
        // Span flags, digits and '.', then take the conversion letter.
        let span = fmt[i..]
            .iter()
            .take_while(|c| b"-+ #0123456789.".contains(c))
            .count();
        let len = span + 1;
        if len >= MAX_FORMAT - 10 {
            return Err(FormatError::Msg("invalid format (too long)".into()).into());
        }
        let end = (i + len).min(fmt.len());
        let form = &fmt[i..end];
        let conv = fmt.get(i + span).copied();
        i = end;
        let (spec, _) = Spec::parse(form);
        match conv {
            Some(b'c') => {
                check_form(form, FLAGS_C, false)?;
                let n = args.integer(arg)?;
                cfmt::fmt_char(&mut out, &spec, n as u8);
            }
            Some(cv @ (b'd' | b'i' | b'u' | b'o' | b'x' | b'X')) => {
                let flags = match cv {
                    b'd' | b'i' => FLAGS_I,
                    b'u' => FLAGS_U,
                    _ => FLAGS_X,
                };
                let n = args.integer(arg)?;
                check_form(form, flags, true)?;
                if cv == b'd' || cv == b'i' {
                    cfmt::fmt_signed(&mut out, &spec, n);
                } else {
                    cfmt::fmt_unsigned(&mut out, &spec, n as u64, cv);
                }
            }
            Some(cv @ (b'a' | b'A')) => {
                check_form(form, FLAGS_F, true)?;
                let n = args.number(arg)?;
                cfmt::fmt_float(&mut out, &spec, n, cv);
            }
            Some(cv @ (b'e' | b'E' | b'f' | b'g' | b'G')) => {
                let n = args.number(arg)?;
                check_form(form, FLAGS_F, true)?;
                cfmt::fmt_float(&mut out, &spec, n, cv);
            }
            Some(b'p') => {
                let p = args.pointer(arg)?;
                check_form(form, FLAGS_C, false)?;
                match p {
                    Some(p) => {
                        cfmt::fmt_str(&mut out, &spec, format!("{p:#x}").as_bytes());
                    }
                    None => cfmt::fmt_str(&mut out, &spec, b"(null)"),
                }
            }
            Some(b'q') => {
                if form.len() > 1 {
                    return Err(
                        FormatError::Msg("specifier '%q' cannot have modifiers".into()).into(),
                    );
                }
                match args.literal(arg)? {
                    Literal::Str(s) => add_quoted(&mut out, &s),
                    Literal::Int(n) => quote_int(&mut out, n),
                    Literal::Float(f) => quote_float(&mut out, f),
                    Literal::Plain(t) => out.extend_from_slice(t.as_bytes()),
                    Literal::NoLiteral => {
                        return Err(FormatError::Arg(arg, "value has no literal form".into()).into())
                    }
                }
            }
            Some(b's') => {
                let s = args.tostring(arg)?;
                if form.len() == 1 {
                    out.extend_from_slice(&s);
                } else {
                    if s.contains(&0) {
                        return Err(FormatError::Arg(arg, "string contains zeros".into()).into());
                    }
                    check_form(form, FLAGS_C, true)?;
                    if !form.contains(&b'.') && s.len() >= 100 {
                        out.extend_from_slice(&s);
                    } else {
                        cfmt::fmt_str(&mut out, &spec, &s);
                    }
                }
            }
            _ => {
                return Err(FormatError::Msg(format!(
                    "invalid conversion '%{}' to 'format'",
                    lossy(form)
                ))
                .into())
            }
        }
    }
    Ok(out)
}

/// A simple argument value, for callers (and tests) that already hold plain values.
#[derive(Clone, Debug, PartialEq)]
pub enum FmtArg {
    /// `nil`.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Vec<u8>),
    /// Another value: its type name and the `tostring` text.
    Other(&'static str, Vec<u8>),
}

/// [`FormatArgs`] over a slice of [`FmtArg`] with lauxlib's coercions (numeric strings
/// convert to numbers using a simple parser: decimal and hex integers, decimal floats).
pub struct SimpleArgs<'a>(pub &'a [FmtArg]);

impl SimpleArgs<'_> {
    fn get(&self, arg: usize) -> &FmtArg {
        self.0.get(arg.wrapping_sub(2)).unwrap_or(&FmtArg::Nil)
    }
    fn type_name(v: &FmtArg) -> &'static str {
        match v {
            FmtArg::Nil => "nil",
            FmtArg::Bool(_) => "boolean",
            FmtArg::Int(_) | FmtArg::Float(_) => "number",
            FmtArg::Str(_) => "string",
            FmtArg::Other(t, _) => t,
        }
    }
    fn num(&self, arg: usize) -> Result<FmtArg, FormatError> {
        let v = self.get(arg);
        let conv = match v {
            FmtArg::Int(_) | FmtArg::Float(_) => Some(v.clone()),
            FmtArg::Str(s) => parse_number(s),
            _ => None,
        };
        conv.ok_or_else(|| {
            FormatError::Arg(arg, format!("number expected, got {}", Self::type_name(v)))
        })
    }
}

/// A small Lua numeral parser for [`SimpleArgs`]: integers (decimal or hex) and decimal
/// floats, surrounded by optional spaces.
fn parse_number(s: &[u8]) -> Option<FmtArg> {
    let t = std::str::from_utf8(s).ok()?.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        let mut v: u64 = 0;
        if h.is_empty() {
            return None;
        }
        for c in h.chars() {
            v = v.wrapping_mul(16).wrapping_add(c.to_digit(16)? as u64);
        }
        let v = v as i64;
        return Some(FmtArg::Int(if neg { v.wrapping_neg() } else { v }));
    }
    if !body.is_empty() && body.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(v) = t.parse::<i64>() {
            return Some(FmtArg::Int(v));
        }
    }
    let lower = body.to_ascii_lowercase();
    if lower.contains("inf") || lower.contains("nan") {
        return None;
    }
    t.parse::<f64>().ok().map(FmtArg::Float)
}

impl FormatArgs for SimpleArgs<'_> {
    type Error = FormatError;
    fn top(&self) -> usize {
        self.0.len() + 1
    }
    fn integer(&mut self, arg: usize) -> Result<i64, FormatError> {
        match self.num(arg)? {
            FmtArg::Int(i) => Ok(i),
            FmtArg::Float(f) => float_to_int(f).ok_or_else(|| {
                FormatError::Arg(arg, "number has no integer representation".into())
            }),
            _ => unreachable!("num returns numbers"),
        }
    }
    fn number(&mut self, arg: usize) -> Result<f64, FormatError> {
        match self.num(arg)? {
            FmtArg::Int(i) => Ok(i as f64),
            FmtArg::Float(f) => Ok(f),
            _ => unreachable!("num returns numbers"),
        }
    }
    fn lstring(&mut self, arg: usize) -> Result<Vec<u8>, FormatError> {
        match self.get(arg) {
            FmtArg::Str(s) => Ok(s.clone()),
            FmtArg::Int(_) | FmtArg::Float(_) => self.tostring(arg),
            v => Err(FormatError::Arg(
                arg,
                format!("string expected, got {}", Self::type_name(v)),
            )),
        }
    }
    fn tostring(&mut self, arg: usize) -> Result<Vec<u8>, FormatError> {
        Ok(match self.get(arg) {
            FmtArg::Nil => b"nil".to_vec(),
            FmtArg::Bool(b) => b.to_string().into_bytes(),
            FmtArg::Int(i) => i.to_string().into_bytes(),
            FmtArg::Float(f) => cfmt::lua_float_to_string(*f).into_bytes(),
            FmtArg::Str(s) => s.clone(),
            FmtArg::Other(_, s) => s.clone(),
        })
    }
    fn literal(&mut self, arg: usize) -> Result<Literal, FormatError> {
        Ok(match self.get(arg) {
            FmtArg::Nil => Literal::Plain("nil"),
            FmtArg::Bool(true) => Literal::Plain("true"),
            FmtArg::Bool(false) => Literal::Plain("false"),
            FmtArg::Int(i) => Literal::Int(*i),
            FmtArg::Float(f) => Literal::Float(*f),
            FmtArg::Str(s) => Literal::Str(s.clone()),
            FmtArg::Other(..) => Literal::NoLiteral,
        })
    }
    fn pointer(&mut self, arg: usize) -> Result<Option<usize>, FormatError> {
        Ok(match self.get(arg) {
            FmtArg::Other(..) => Some(0x1000),
            _ => None,
        })
    }
}

/// Lua's float-to-integer conversion for `luaL_checkinteger`: exact integral values in
/// range only.
pub fn float_to_int(f: f64) -> Option<i64> {
    // The range is [-2^63, 2^63): both bounds are exact powers of two.
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if f.floor() == f && (-TWO63..TWO63).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

//! `string.pack`, `string.unpack` and `string.packsize` (Lua 5.4 binary formats).
//!
//! Invariant: option parsing, alignment and every check follow lstrlib.c's order, so the
//! same format yields the same bytes and the same first error as Lua on a little-endian
//! 64-bit host (native endianness little, native max alignment 8, `size_t` 8 bytes).

use super::format::FormatArgs;
use super::LibError;

/// Largest integer size an option may ask for (`MAXINTSIZE`).
const MAXINTSIZE: usize = 16;
/// Bytes in a Lua integer.
const SZINT: usize = 8;
/// Native maximum alignment (`offsetof(struct cD, u)` on x86-64).
const NATIVE_ALIGN: usize = 8;
/// Lua's `MAXSIZE` for sizes in formats (`INT_MAX` here, as size_t is wider than int).
const MAXSIZE: usize = i32::MAX as usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Uint,
    Float,
    Number,
    Double,
    Char,
    Str,
    Zstr,
    Padding,
    PaddAlign,
    Nop,
}

struct Header {
    little: bool,
    max_align: usize,
}

/// A cursor over a format string.
struct Fmt<'a> {
    s: &'a [u8],
    i: usize,
}

impl Fmt<'_> {
    fn peek_digit(&self) -> bool {
        self.s.get(self.i).is_some_and(|c| c.is_ascii_digit())
    }

    fn getnum(&mut self, default: usize) -> usize {
        if !self.peek_digit() {
            return default;
        }
        let mut a = 0usize;
        loop {
            a = a * 10 + (self.s[self.i] - b'0') as usize;
            self.i += 1;
            if !(self.peek_digit() && a <= (MAXSIZE - 9) / 10) {
                return a;
            }
        }
    }

    fn getnumlimit(&mut self, default: usize) -> Result<usize, LibError> {
        let sz = self.getnum(default);
        if sz > MAXINTSIZE || sz == 0 {
            return Err(LibError::Msg(format!(
                "integral size ({sz}) out of limits [1,{MAXINTSIZE}]"
            )));
        }
        Ok(sz)
    }

    /// Reads one option; returns its kind and size.
    fn option(&mut self, h: &mut Header) -> Result<(Kind, usize), LibError> {
        let c = self.s[self.i];
        self.i += 1;
        Ok(match c {
            b'b' => (Kind::Int, 1),
            b'B' => (Kind::Uint, 1),
            b'h' => (Kind::Int, 2),
            b'H' => (Kind::Uint, 2),
            b'l' | b'j' => (Kind::Int, 8),
            b'L' | b'J' | b'T' => (Kind::Uint, 8),
            b'f' => (Kind::Float, 4),
            b'n' => (Kind::Number, 8),
            b'd' => (Kind::Double, 8),
            b'i' => (Kind::Int, self.getnumlimit(4)?),
            b'I' => (Kind::Uint, self.getnumlimit(4)?),
            b's' => (Kind::Str, self.getnumlimit(8)?),
            b'c' => {
                if !self.peek_digit() {
                    return Err(LibError::Msg("missing size for format option 'c'".into()));
                }
                (Kind::Char, self.getnum(0))
            }
            b'z' => (Kind::Zstr, 0),
            b'x' => (Kind::Padding, 1),
            b'X' => (Kind::PaddAlign, 0),
            b' ' => (Kind::Nop, 0),
            b'<' => {
                h.little = true;
                (Kind::Nop, 0)
            }
            b'>' => {
                h.little = false;
                (Kind::Nop, 0)
            }
            b'=' => {
                h.little = true;
                (Kind::Nop, 0)
            }
            b'!' => {
                h.max_align = self.getnumlimit(NATIVE_ALIGN)?;
                (Kind::Nop, 0)
            }
            _ => {
                return Err(LibError::Msg(format!(
                    "invalid format option '{}'",
                    char::from(c)
                )))
            }
        })
    }

    /// Reads one option with its alignment padding given the current `total` size.
    /// Returns (kind, size, padding bytes to insert before it).
    fn details(&mut self, h: &mut Header, total: usize) -> Result<(Kind, usize, usize), LibError> {
        let (kind, size) = self.option(h)?;
        let mut align = size;
        if kind == Kind::PaddAlign {
            let bad = || LibError::Arg(1, "invalid next option for option 'X'".into());
            if self.i >= self.s.len() {
                return Err(bad());
            }
            let (k2, s2) = self.option(h)?;
            align = s2;
            if k2 == Kind::Char || align == 0 {
                return Err(bad());
            }
        }
        let pad = if align <= 1 || kind == Kind::Char {
            0
        } else {
            let align = align.min(h.max_align);
            if !align.is_power_of_two() {
                return Err(LibError::Arg(
                    1,
                    "format asks for alignment not power of 2".into(),
                ));
            }
            (align - (total & (align - 1))) & (align - 1)
        };
        Ok((kind, size, pad))
    }
}

fn new_header() -> Header {
    Header {
        little: true,
        max_align: 1,
    }
}

fn pack_int(out: &mut Vec<u8>, v: u64, little: bool, size: usize, negative: bool) {
    let mut bytes = vec![0u8; size];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = if i < SZINT {
            (v >> (8 * i)) as u8
        } else if negative {
            0xff
        } else {
            0
        };
    }
    if !little {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

fn unpack_int(data: &[u8], little: bool, size: usize, signed: bool) -> Result<i64, LibError> {
    let byte = |i: usize| if little { data[i] } else { data[size - 1 - i] };
    let limit = size.min(SZINT);
    let mut res: u64 = 0;
    for i in (0..limit).rev() {
        res = (res << 8) | byte(i) as u64;
    }
    if size < SZINT {
        if signed {
            let mask = 1u64 << (size * 8 - 1);
            res = (res ^ mask).wrapping_sub(mask);
        }
    } else if size > SZINT {
        let fill = if !signed || (res as i64) >= 0 {
            0
        } else {
            0xff
        };
        for i in limit..size {
            if byte(i) != fill {
                return Err(LibError::Msg(format!(
                    "{size}-byte integer does not fit into Lua Integer"
                )));
            }
        }
    }
    Ok(res as i64)
}

/// `string.pack(fmt, ...)`: values are arguments 2.. of `args`.
pub fn pack<A: FormatArgs>(fmt: &[u8], args: &mut A) -> Result<Vec<u8>, A::Error> {
    let mut h = new_header();
    let mut f = Fmt { s: fmt, i: 0 };
    let mut out = Vec::new();
    let mut arg = 1usize;
    while f.i < fmt.len() {
        let (kind, size, pad) = f.details(&mut h, out.len())?;
        out.resize(out.len() + pad, 0);
        arg += 1;
        match kind {
            Kind::Int => {
                let n = args.integer(arg)?;
                if size < SZINT {
                    let lim = 1i64 << (size * 8 - 1);
                    if !(-lim <= n && n < lim) {
                        return Err(LibError::Arg(arg, "integer overflow".into()).into());
                    }
                }
                pack_int(&mut out, n as u64, h.little, size, n < 0);
            }
            Kind::Uint => {
                let n = args.integer(arg)?;
                if size < SZINT && (n as u64) >= (1u64 << (size * 8)) {
                    return Err(LibError::Arg(arg, "unsigned overflow".into()).into());
                }
                pack_int(&mut out, n as u64, h.little, size, false);
            }
            Kind::Float => {
                let v = args.number(arg)? as f32;
                let b = if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                out.extend_from_slice(&b);
            }
            Kind::Number | Kind::Double => {
                let v = args.number(arg)?;
                let b = if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                out.extend_from_slice(&b);
            }
            Kind::Char => {
                let s = args.lstring(arg)?;
                if s.len() > size {
                    return Err(LibError::Arg(arg, "string longer than given size".into()).into());
                }
                out.extend_from_slice(&s);
                out.resize(out.len() + (size - s.len()), 0);
            }
            Kind::Str => {
                let s = args.lstring(arg)?;
                if size < SZINT && (s.len() as u64) >= (1u64 << (size * 8)) {
                    return Err(LibError::Arg(
                        arg,
                        "string length does not fit in given size".into(),
                    )
                    .into());
                }
                pack_int(&mut out, s.len() as u64, h.little, size, false);
                out.extend_from_slice(&s);
            }
            Kind::Zstr => {
                let s = args.lstring(arg)?;
                if s.contains(&0) {
                    return Err(LibError::Arg(arg, "string contains zeros".into()).into());
                }
                out.extend_from_slice(&s);
                out.push(0);
            }
            Kind::Padding => {
                out.push(0);
                arg -= 1;
            }
            Kind::PaddAlign | Kind::Nop => arg -= 1,
        }
    }
    Ok(out)
}

/// `string.packsize(fmt)`.
pub fn packsize(fmt: &[u8]) -> Result<i64, LibError> {
    let mut h = new_header();
    let mut f = Fmt { s: fmt, i: 0 };
    let mut total = 0usize;
    while f.i < fmt.len() {
        let (kind, size, pad) = f.details(&mut h, total)?;
        if kind == Kind::Str || kind == Kind::Zstr {
            return Err(LibError::Arg(1, "variable-length format".into()));
        }
        let size = size + pad;
        if total > MAXSIZE - size.min(MAXSIZE) || size > MAXSIZE {
            return Err(LibError::Arg(1, "format result too large".into()));
        }
        total += size;
    }
    Ok(total as i64)
}

/// A value produced by `string.unpack`.
#[derive(Clone, Debug, PartialEq)]
pub enum Unpacked {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Vec<u8>),
}

/// `string.unpack(fmt, data, init)`: returns the values and the 1-based position after the
/// last byte read.
pub fn unpack(fmt: &[u8], data: &[u8], init: i64) -> Result<(Vec<Unpacked>, i64), LibError> {
    let ld = data.len();
    let pos1 = if init > 0 {
        init as u64
    } else if init == 0 || init < -(ld as i64) {
        1
    } else {
        (ld as i64 + init + 1) as u64
    };
    let mut pos = (pos1 - 1) as usize;
    if pos1 - 1 > ld as u64 {
        return Err(LibError::Arg(3, "initial position out of string".into()));
    }
    let mut h = new_header();
    let mut f = Fmt { s: fmt, i: 0 };
    let mut vals = Vec::new();
    let short = || LibError::Arg(2, "data string too short".into());
    while f.i < fmt.len() {
        let (kind, size, pad) = f.details(&mut h, pos)?;
        if pad.saturating_add(size) > ld - pos {
            return Err(short());
        }
        pos += pad;
        match kind {
            Kind::Int | Kind::Uint => {
                let v = unpack_int(&data[pos..pos + size], h.little, size, kind == Kind::Int)?;
                vals.push(Unpacked::Int(v));
            }
            Kind::Float => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let v = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                vals.push(Unpacked::Float(v as f64));
            }
            Kind::Number | Kind::Double => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let v = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                vals.push(Unpacked::Float(v));
            }
            Kind::Char => vals.push(Unpacked::Str(data[pos..pos + size].to_vec())),
            Kind::Str => {
                let len = unpack_int(&data[pos..pos + size], h.little, size, false)? as u64;
                if len > (ld - pos - size) as u64 {
                    return Err(short());
                }
                let len = len as usize;
                vals.push(Unpacked::Str(data[pos + size..pos + size + len].to_vec()));
                pos += len;
            }
            Kind::Zstr => {
                let len = data[pos..].iter().position(|&c| c == 0);
                let Some(len) = len else {
                    return Err(LibError::Arg(2, "unfinished string for format 'z'".into()));
                };
                vals.push(Unpacked::Str(data[pos..pos + len].to_vec()));
                pos += len + 1;
            }
            Kind::Padding | Kind::PaddAlign | Kind::Nop => {}
        }
        pos += size;
    }
    Ok((vals, pos as i64 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_integers_sign_extend_and_check() {
        let mut out = Vec::new();
        pack_int(&mut out, (-2i64) as u64, true, 12, true);
        assert_eq!(
            out,
            [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(unpack_int(&out, true, 12, true), Ok(-2));
        out[11] = 0;
        assert_eq!(
            unpack_int(&out, true, 12, true),
            Err(LibError::Msg(
                "12-byte integer does not fit into Lua Integer".into()
            ))
        );
    }

    #[test]
    fn alignment_follows_the_bang_option() {
        assert_eq!(packsize(b"!4 b i4"), Ok(8));
        assert_eq!(packsize(b"!2 b i8"), Ok(10));
        assert_eq!(packsize(b"b i8"), Ok(9));
    }
}

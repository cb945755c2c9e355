//! Lua 5.4's `utf8` library.
//!
//! Invariant: decoding follows Lua's own (extended) UTF-8: sequences of up to 6 bytes, code
//! points up to 0x7FFFFFFF, overlong forms rejected; "strict" mode (the default) also rejects
//! surrogates and values above 0x10FFFF. Positions are 1-based byte indices as in Lua, and a
//! byte read past the end of the string reads as 0 (Lua strings carry a trailing NUL).

use hotlua_vm::api::Args;
use hotlua_vm::error::LuaError;
use hotlua_vm::state::Vm;
use hotlua_vm::value::Value;

use crate::open::new_lib;

/// Largest code point accepted in lax mode.
const MAX_UTF: u32 = 0x7FFF_FFFF;
/// Largest Unicode code point (strict mode).
const MAX_UNICODE: u32 = 0x10_FFFF;

/// The byte at `i`, or 0 past the end (as C's terminating NUL).
#[inline]
fn byte_at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// Is the byte at `i` a continuation byte (10xxxxxx)?
#[inline]
fn is_cont(s: &[u8], i: usize) -> bool {
    byte_at(s, i) & 0xC0 == 0x80
}

/// Decodes one sequence starting at `i`: the code point and the index just after it, or
/// `None` for an invalid sequence.
pub fn decode(s: &[u8], i: usize, strict: bool) -> Option<(u32, usize)> {
    const LIMITS: [u32; 6] = [!0, 0x80, 0x800, 0x1_0000, 0x20_0000, 0x400_0000];
    let mut c = byte_at(s, i) as u32;
    let mut res: u32;
    let mut count = 0usize;
    if c < 0x80 {
        res = c;
    } else {
        res = 0;
        while c & 0x40 != 0 {
            count += 1;
            let cc = byte_at(s, i + count) as u32;
            if cc & 0xC0 != 0x80 {
                return None;
            }
            res = (res << 6) | (cc & 0x3F);
            c <<= 1;
        }
        if count > 5 {
            return None;
        }
        res |= (c & 0x7F) << (count * 5);
        if res > MAX_UTF || res < LIMITS[count] {
            return None;
        }
    }
    if strict && (res > MAX_UNICODE || (0xD800..=0xDFFF).contains(&res)) {
        return None;
    }
    Some((res, i + count + 1))
}

/// Encodes `x` (<= 0x7FFFFFFF) as Lua's extended UTF-8 (up to 6 bytes).
pub fn encode(x: u32, out: &mut Vec<u8>) {
    if x < 0x80 {
        out.push(x as u8);
        return;
    }
    let mut buf = [0u8; 8];
    let mut n = 1;
    let mut x = x;
    let mut mfb: u32 = 0x3f; // largest value that fits in the first byte
    loop {
        buf[8 - n] = 0x80 | (x & 0x3f) as u8;
        n += 1;
        x >>= 6;
        mfb >>= 1;
        if x <= mfb {
            break;
        }
    }
    buf[8 - n] = ((!mfb << 1) | x) as u8;
    out.extend_from_slice(&buf[8 - n..]);
}

/// Lua's `u_posrelat`: a negative position counts from the end; too negative gives 0.
fn posrelat(pos: i64, len: usize) -> i64 {
    if pos >= 0 {
        pos
    } else if pos.unsigned_abs() > len as u64 {
        0
    } else {
        len as i64 + pos + 1
    }
}

fn utf8_char(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let mut out = Vec::new();
    for i in 0..args.len() {
        let code = vm.check_int(args, i)?;
        if code as u64 > MAX_UTF as u64 {
            return Err(vm.arg_error(i, "value out of range"));
        }
        encode(code as u32, &mut out);
    }
    let s = vm.str_value(out);
    vm.push(s)?;
    Ok(1)
}

fn utf8_len(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let s = vm.check_str(args, 0)?;
    let len = s.get().len();
    let i = vm.opt_int(args, 1, 1)?;
    let j = vm.opt_int(args, 2, -1)?;
    let lax = vm.arg(args, 3).is_truthy();
    let mut posi = posrelat(i, len);
    let posj = posrelat(j, len) - 1;
    if !(1 <= posi && posi - 1 <= len as i64) {
        return Err(vm.arg_error(1, "initial position out of bounds"));
    }
    posi -= 1;
    if posj >= len as i64 {
        return Err(vm.arg_error(2, "final position out of bounds"));
    }
    let mut n: i64 = 0;
    while posi <= posj {
        match decode(s.get().as_bytes(), posi as usize, !lax) {
            Some((_, next)) => posi = next as i64,
            None => {
                vm.push(Value::Nil)?;
                vm.push(Value::Int(posi + 1))?;
                return Ok(2);
            }
        }
        n += 1;
    }
    vm.push(Value::Int(n))?;
    Ok(1)
}

fn utf8_codepoint(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let s = vm.check_str(args, 0)?;
    let len = s.get().len();
    let posi = posrelat(vm.opt_int(args, 1, 1)?, len);
    let pose = posrelat(vm.opt_int(args, 2, posi)?, len);
    let lax = vm.arg(args, 3).is_truthy();
    if posi < 1 {
        return Err(vm.arg_error(1, "out of bounds"));
    }
    if pose > len as i64 {
        return Err(vm.arg_error(2, "out of bounds"));
    }
    if posi > pose {
        return Ok(0);
    }
    if pose - posi >= i32::MAX as i64 {
        return Err(vm.rt_error("string slice too long"));
    }
    let mut codes = Vec::new();
    let mut p = (posi - 1) as usize;
    let end = pose as usize;
    while p < end {
        match decode(s.get().as_bytes(), p, !lax) {
            Some((c, next)) => {
                codes.push(c);
                p = next;
            }
            None => return Err(vm.rt_error("invalid UTF-8 code")),
        }
    }
    for &c in &codes {
        vm.push(Value::Int(c as i64))?;
    }
    Ok(codes.len())
}

fn utf8_offset(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let s = vm.check_str(args, 0)?;
    let len = s.get().len() as i64;
    let mut n = vm.check_int(args, 1)?;
    let default = if n >= 0 { 1 } else { len + 1 };
    let mut posi = posrelat(vm.opt_int(args, 2, default)?, len as usize);
    if !(1 <= posi && posi - 1 <= len) {
        return Err(vm.arg_error(2, "position out of bounds"));
    }
    posi -= 1;
    let b = s.get().as_bytes();
    if n == 0 {
        while posi > 0 && is_cont(b, posi as usize) {
            posi -= 1;
        }
    } else {
        if is_cont(b, posi as usize) {
            return Err(vm.rt_error("initial position is a continuation byte"));
        }
        if n < 0 {
            while n < 0 && posi > 0 {
                loop {
                    posi -= 1;
                    if !(posi > 0 && is_cont(b, posi as usize)) {
                        break;
                    }
                }
                n += 1;
            }
        } else {
            n -= 1;
            while n > 0 && posi < len {
                loop {
                    posi += 1;
                    if !is_cont(b, posi as usize) {
                        break;
                    }
                }
                n -= 1;
            }
        }
    }
    if n == 0 {
        vm.push(Value::Int(posi + 1))?;
    } else {
        vm.push(Value::Nil)?;
    }
    Ok(1)
}

/// One step of `utf8.codes`: from control value `n` (the previous position, 0 at the
/// start) to the next code point.
fn iter_aux(vm: &mut Vm, args: Args, strict: bool) -> Result<usize, LuaError> {
    let s = vm.check_str(args, 0)?;
    let b = s.get().as_bytes();
    let len = b.len() as u64;
    let mut n = match vm.arg(args, 1) {
        Value::Int(i) => i as u64,
        v => v.to_int_exact().unwrap_or(0) as u64,
    };
    if n < len {
        while is_cont(b, n as usize) {
            n += 1;
        }
    }
    if n >= len {
        return Ok(0);
    }
    match decode(b, n as usize, strict) {
        Some((code, _)) => {
            vm.push(Value::Int(n as i64 + 1))?;
            vm.push(Value::Int(code as i64))?;
            Ok(2)
        }
        None => Err(vm.rt_error("invalid UTF-8 code")),
    }
}

fn iter_strict(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    iter_aux(vm, args, true)
}

fn iter_lax(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    iter_aux(vm, args, false)
}

fn utf8_codes(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let s = vm.check_str(args, 0)?;
    let lax = vm.arg(args, 1).is_truthy();
    let f: hotlua_vm::api::NativeFn = if lax { iter_lax } else { iter_strict };
    vm.push(Value::LightFn(f))?;
    vm.push(Value::Str(s))?;
    vm.push(Value::Int(0))?;
    Ok(3)
}

/// Installs the `utf8` library.
pub fn open(vm: &mut Vm) {
    let t = new_lib(
        vm,
        "utf8",
        &[
            ("char", utf8_char),
            ("codepoint", utf8_codepoint),
            ("codes", utf8_codes),
            ("len", utf8_len),
            ("offset", utf8_offset),
        ],
    );
    let pat = vm.str_value(&b"[\0-\x7F\xC2-\xFD][\x80-\xBF]*"[..]);
    crate::open::set_field(vm, t, "charpattern", pat);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_roundtrip() {
        for &c in &[
            0u32,
            0x7f,
            0x80,
            0x7ff,
            0x800,
            0xffff,
            0x10000,
            0x10ffff,
            0x7fff_ffff,
        ] {
            let mut v = Vec::new();
            encode(c, &mut v);
            assert_eq!(decode(&v, 0, false), Some((c, v.len())), "{c:#x}");
        }
        let mut v = Vec::new();
        encode(0x4e2d, &mut v);
        assert_eq!(v, "中".as_bytes());
        encode(0x7fff_ffff, &mut v);
        assert_eq!(&v[3..], &[0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf]);
    }

    #[test]
    fn decode_rejects() {
        assert_eq!(decode(b"\x80", 0, false), None, "lone continuation");
        assert_eq!(decode(b"\xc0\x80", 0, false), None, "overlong");
        assert_eq!(decode(b"\xe4\xb8", 0, false), None, "truncated");
        assert_eq!(decode(b"\xff\xbf\xbf\xbf\xbf\xbf\xbf\xbf", 0, false), None);
        assert_eq!(decode("\u{d7ff}".as_bytes(), 0, true), Some((0xd7ff, 3)));
        assert_eq!(decode(b"\xed\xa0\x80", 0, true), None, "surrogate strict");
        assert_eq!(decode(b"\xed\xa0\x80", 0, false), Some((0xd800, 3)));
        assert_eq!(
            decode(b"\xf4\x90\x80\x80", 0, true),
            None,
            "above 10FFFF strict"
        );
    }

    #[test]
    fn relative_positions() {
        assert_eq!(posrelat(-1, 3), 3);
        assert_eq!(posrelat(-4, 3), 0);
        assert_eq!(posrelat(-3, 3), 1);
        assert_eq!(posrelat(i64::MIN, 3), 0);
        assert_eq!(posrelat(5, 3), 5);
    }
}

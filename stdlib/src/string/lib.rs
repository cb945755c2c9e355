//! The `string` library as native functions over the engines in this module.
//!
//! Invariant: natives read their arguments through the Vm's lauxlib-style checks and only
//! hold borrowed string bytes while no Lua code can run (captures are copied before a
//! `gsub` callback is called), so a collection can never free bytes in use.

use hotlua_vm::{Args, LuaError, NativeFn, Value, Vm};

use super::format::{self, FormatArgs, Literal};
use super::pack::{self, Unpacked};
use super::pattern::{self, Capture, MatchState};
use super::LibError;

type R = Result<usize, LuaError>;

/// Fills the global `string` table (creating it if needed) with the library's functions,
/// and makes it the `__index` of the string metatable.
pub fn open_string(vm: &mut Vm) -> Result<(), LuaError> {
    let lib = match vm.get_global("string") {
        Value::Table(t) => t,
        _ => {
            let t = vm.new_table();
            vm.set_global("string", Value::Table(t));
            t
        }
    };
    let fns: &[(&str, NativeFn)] = &[
        ("byte", str_byte),
        ("char", str_char),
        ("dump", str_dump),
        ("find", str_find),
        ("format", str_format),
        ("gmatch", str_gmatch),
        ("gsub", str_gsub),
        ("len", str_len),
        ("lower", str_lower),
        ("match", str_match),
        ("rep", str_rep),
        ("reverse", str_reverse),
        ("sub", str_sub),
        ("upper", str_upper),
        ("pack", str_pack),
        ("packsize", str_packsize),
        ("unpack", str_unpack),
    ];
    for &(name, f) in fns {
        let k = vm.str_value(name);
        vm.raw_set(lib, k, Value::LightFn(f))?;
    }
    // The string metatable: `("x"):upper()` finds the library.
    let sample = vm.str_value("");
    let smt = match vm.metatable(sample) {
        Some(mt) => mt,
        None => {
            let mt = vm.new_table();
            vm.set_type_metatable(sample, Some(mt));
            mt
        }
    };
    let k = vm.str_value("__index");
    vm.raw_set(smt, k, Value::Table(lib))?;
    Ok(())
}

/// Converts an engine error into a Lua error (argument errors name the function).
fn raise(vm: &mut Vm, e: LibError) -> LuaError {
    match e {
        LibError::Msg(m) => vm.rt_error(&m),
        LibError::Arg(n, m) => vm.arg_error(n.saturating_sub(1), &m),
    }
}

/// An error while formatting: the engine's own, or one raised by the Vm (argument checks,
/// `__tostring`).
enum NativeError {
    Lib(LibError),
    Lua(LuaError),
}

impl From<LibError> for NativeError {
    fn from(e: LibError) -> Self {
        NativeError::Lib(e)
    }
}

impl From<String> for NativeError {
    fn from(e: String) -> Self {
        NativeError::Lib(LibError::Msg(e))
    }
}

impl From<LuaError> for NativeError {
    fn from(e: LuaError) -> Self {
        NativeError::Lua(e)
    }
}

fn finish(vm: &mut Vm, e: NativeError) -> LuaError {
    match e {
        NativeError::Lib(e) => raise(vm, e),
        NativeError::Lua(e) => e,
    }
}

/// [`FormatArgs`] over a native call's arguments (Lua numbering: the first is #1).
struct VmArgs<'a> {
    vm: &'a mut Vm,
    args: Args,
    /// `string.pack` pushes a nil after its arguments, so a missing one reads as nil.
    nil_past_end: bool,
}

impl VmArgs<'_> {
    /// The error for a missing argument read as nil (`string.pack`), if that applies.
    fn missing(&mut self, arg: usize, expected: &str) -> Option<NativeError> {
        (self.nil_past_end && arg > self.args.len()).then(|| {
            NativeError::Lua(
                self.vm
                    .arg_error(arg - 1, &format!("{expected} expected, got nil")),
            )
        })
    }
}

impl FormatArgs for VmArgs<'_> {
    type Error = NativeError;
    fn top(&self) -> usize {
        self.args.len()
    }
    fn integer(&mut self, arg: usize) -> Result<i64, NativeError> {
        if let Some(e) = self.missing(arg, "number") {
            return Err(e);
        }
        Ok(self.vm.check_int(self.args, arg - 1)?)
    }
    fn number(&mut self, arg: usize) -> Result<f64, NativeError> {
        if let Some(e) = self.missing(arg, "number") {
            return Err(e);
        }
        Ok(self.vm.check_number(self.args, arg - 1)?)
    }
    fn lstring(&mut self, arg: usize) -> Result<Vec<u8>, NativeError> {
        if let Some(e) = self.missing(arg, "string") {
            return Err(e);
        }
        let s = self.vm.check_str(self.args, arg - 1)?;
        Ok(s.get().as_bytes().to_vec())
    }
    fn tostring(&mut self, arg: usize) -> Result<Vec<u8>, NativeError> {
        let v = self.vm.arg(self.args, arg - 1);
        match self.vm.tostring_meta(v)? {
            Value::Str(s) => Ok(s.get().as_bytes().to_vec()),
            other => Ok(self.vm.tostring_basic(other)),
        }
    }
    fn literal(&mut self, arg: usize) -> Result<Literal, NativeError> {
        Ok(match self.vm.arg(self.args, arg - 1) {
            Value::Str(s) => Literal::Str(s.get().as_bytes().to_vec()),
            Value::Int(i) => Literal::Int(i),
            Value::Float(f) => Literal::Float(f),
            Value::Nil => Literal::Plain("nil"),
            Value::Bool(true) => Literal::Plain("true"),
            Value::Bool(false) => Literal::Plain("false"),
            _ => Literal::NoLiteral,
        })
    }
    fn pointer(&mut self, arg: usize) -> Result<Option<usize>, NativeError> {
        Ok(self.vm.arg(self.args, arg - 1).identity())
    }
}

fn push_bytes(vm: &mut Vm, b: &[u8]) -> Result<(), LuaError> {
    let v = vm.str_value(b);
    vm.push(v)
}

/// Lua's `posrelatI`: a 1-based start position, negative from the end, clamped to >= 1.
fn posrelat_start(pos: i64, len: usize) -> i64 {
    if pos > 0 {
        pos
    } else if pos == 0 || pos < -(len as i64) {
        1
    } else {
        len as i64 + pos + 1
    }
}

/// Lua's `getendpos`: an end position clamped into [0, len].
fn end_pos(pos: i64, len: usize) -> i64 {
    if pos > len as i64 {
        len as i64
    } else if pos >= 0 {
        pos
    } else if pos < -(len as i64) {
        0
    } else {
        len as i64 + pos + 1
    }
}

fn str_len(vm: &mut Vm, args: Args) -> R {
    let s = vm.check_str(args, 0)?;
    vm.push(Value::Int(s.get().len() as i64))?;
    Ok(1)
}

fn str_sub(vm: &mut Vm, args: Args) -> R {
    let s = vm.check_str(args, 0)?;
    let len = s.get().len();
    let i = vm.check_int(args, 1)?;
    let j = vm.opt_int(args, 2, -1)?;
    let start = posrelat_start(i, len);
    let end = end_pos(j, len);
    if start <= end {
        // Allocation never collects, so the subject's bytes stay valid while copied.
        let v = vm.str_value(&s.get().as_bytes()[(start - 1) as usize..end as usize]);
        vm.push(v)?;
    } else {
        push_bytes(vm, b"")?;
    }
    Ok(1)
}

fn map_bytes(vm: &mut Vm, args: Args, f: fn(&[u8]) -> Vec<u8>) -> R {
    let s = vm.check_str(args, 0)?;
    let out = f(s.get().as_bytes());
    push_bytes(vm, &out)?;
    Ok(1)
}

fn str_upper(vm: &mut Vm, args: Args) -> R {
    map_bytes(vm, args, |b| b.to_ascii_uppercase())
}

fn str_lower(vm: &mut Vm, args: Args) -> R {
    map_bytes(vm, args, |b| b.to_ascii_lowercase())
}

fn str_reverse(vm: &mut Vm, args: Args) -> R {
    map_bytes(vm, args, |b| b.iter().rev().copied().collect())
}

/// lstrlib's `MAXSIZE` (`INT_MAX`): the largest string `rep` may build.
const MAXSIZE: u64 = i32::MAX as u64;

fn str_rep(vm: &mut Vm, args: Args) -> R {
    let s = vm.check_str(args, 0)?;
    let n = vm.check_int(args, 1)?;
    let sep = vm.opt_str(args, 2)?;
    if n <= 0 {
        push_bytes(vm, b"")?;
        return Ok(1);
    }
    let sb = s.get().as_bytes();
    let sepb: &[u8] = match &sep {
        Some(x) => x.get().as_bytes(),
        None => b"",
    };
    if sb.is_empty() && sepb.is_empty() {
        // Nothing to repeat (Lua would copy zero bytes n times).
        push_bytes(vm, b"")?;
        return Ok(1);
    }
    let unit = sb.len() + sepb.len();
    // lstrlib's limit: results must fit in a C int.
    if unit as u64 > MAXSIZE / n as u64 {
        return Err(vm.rt_error("resulting string too large"));
    }
    let total = unit * n as usize - sepb.len();
    // The arguments are on the stack (rooted): the buffer may be made room for by a
    // collection, and failing to get it is "not enough memory".
    let mut out = vm.alloc_buffer(total)?;
    for k in 0..n {
        out.extend_from_slice(sb);
        if k + 1 < n {
            out.extend_from_slice(sepb);
        }
        // A long repetition notices an interrupt (every 64 KiB or so).
        if k & 0xfff == 0xfff && out.len() > (1 << 16) {
            vm.check_interrupt()?;
        }
    }
    let r = vm.heap.new_str_from_vec(out);
    vm.push(Value::Str(r))?;
    Ok(1)
}

fn str_byte(vm: &mut Vm, args: Args) -> R {
    let s = vm.check_str(args, 0)?;
    let len = s.get().len();
    let i = vm.opt_int(args, 1, 1)?;
    let pi = posrelat_start(i, len);
    // The end defaults to the raw start argument (so `byte(s, 0)` gives nothing).
    let j = vm.opt_int(args, 2, i)?;
    let pose = end_pos(j, len);
    if pi > pose {
        return Ok(0);
    }
    if pose - pi >= i32::MAX as i64 {
        return Err(vm.rt_error("string slice too long"));
    }
    for k in (pi - 1) as usize..pose as usize {
        let b = s.get().as_bytes()[k];
        vm.push(Value::Int(b as i64))?;
    }
    Ok((pose - pi + 1) as usize)
}

fn str_char(vm: &mut Vm, args: Args) -> R {
    let mut out = Vec::with_capacity(args.len());
    for i in 0..args.len() {
        let c = vm.check_int(args, i)?;
        if c as u64 > 255 {
            return Err(vm.arg_error(i, "value out of range"));
        }
        out.push(c as u8);
    }
    push_bytes(vm, &out)?;
    Ok(1)
}

/// `string.dump(f [, strip])`: the binary chunk of a Lua function (`hotlua_vm::dump`);
/// `strip` leaves the debug information out.
fn str_dump(vm: &mut Vm, args: Args) -> R {
    let strip = vm.arg(args, 1).is_truthy();
    match vm.arg(args, 0) {
        Value::LuaFn(c) => {
            let bytes = hotlua_vm::dump::dump(c.get().proto().get(), strip);
            push_bytes(vm, &bytes)?;
            Ok(1)
        }
        Value::NativeFn(_) | Value::LightFn(_) => Err(vm.rt_error("unable to dump given function")),
        _ => Err(vm.type_error_arg(args, 0, "function")),
    }
}

fn str_format(vm: &mut Vm, args: Args) -> R {
    let f = vm.check_str(args, 0)?;
    let fmt = f.get().as_bytes().to_vec();
    let r = format::format(
        &fmt,
        &mut VmArgs {
            vm,
            args,
            nil_past_end: false,
        },
    );
    match r {
        Ok(b) => {
            push_bytes(vm, &b)?;
            Ok(1)
        }
        Err(e) => Err(finish(vm, e)),
    }
}

fn str_pack(vm: &mut Vm, args: Args) -> R {
    let f = vm.check_str(args, 0)?;
    let fmt = f.get().as_bytes().to_vec();
    let r = pack::pack(
        &fmt,
        &mut VmArgs {
            vm,
            args,
            nil_past_end: true,
        },
    );
    match r {
        Ok(b) => {
            push_bytes(vm, &b)?;
            Ok(1)
        }
        Err(e) => Err(finish(vm, e)),
    }
}

fn str_packsize(vm: &mut Vm, args: Args) -> R {
    let f = vm.check_str(args, 0)?;
    match pack::packsize(f.get().as_bytes()) {
        Ok(n) => {
            vm.push(Value::Int(n))?;
            Ok(1)
        }
        Err(e) => Err(raise(vm, e)),
    }
}

fn str_unpack(vm: &mut Vm, args: Args) -> R {
    let f = vm.check_str(args, 0)?;
    let d = vm.check_str(args, 1)?;
    let init = vm.opt_int(args, 2, 1)?;
    match pack::unpack(f.get().as_bytes(), d.get().as_bytes(), init) {
        Ok((vals, next)) => {
            let n = vals.len();
            for v in vals {
                let v = match v {
                    Unpacked::Int(i) => Value::Int(i),
                    Unpacked::Float(f) => Value::Float(f),
                    Unpacked::Str(b) => vm.str_value(b),
                };
                vm.push(v)?;
            }
            vm.push(Value::Int(next))?;
            Ok(n + 1)
        }
        Err(e) => Err(raise(vm, e)),
    }
}

fn capture_value(vm: &mut Vm, src: &[u8], c: Capture) -> Value {
    match c {
        Capture::Range(s, e) => vm.str_value(&src[s..e]),
        Capture::Position(p) => Value::Int(p as i64 + 1),
    }
}

fn push_captures(vm: &mut Vm, src: &[u8], caps: &[Capture]) -> R {
    for &c in caps {
        let v = capture_value(vm, src, c);
        vm.push(v)?;
    }
    Ok(caps.len())
}

fn find_aux(vm: &mut Vm, args: Args, find: bool) -> R {
    let s = vm.check_str(args, 0)?;
    let p = vm.check_str(args, 1)?;
    let init = vm.opt_int(args, 2, 1)?;
    let plain = find && !matches!(vm.arg(args, 3), Value::Nil | Value::Bool(false));
    let src = s.get().as_bytes();
    let pat = p.get().as_bytes();
    let Some(start) = pattern::start_offset(init, src.len()) else {
        vm.push(Value::Nil)?;
        return Ok(1);
    };
    let sig = vm.signal().clone();
    let r = if find {
        pattern::find(src, pat, start, plain, Some(&sig))
    } else {
        pattern::pattern_search(src, pat, start, Some(&sig))
    };
    match r {
        Err(e) => Err(pattern_error(vm, &e)),
        Ok(None) => {
            vm.push(Value::Nil)?;
            Ok(1)
        }
        Ok(Some(m)) => {
            if find {
                vm.push(Value::Int(m.start as i64 + 1))?;
                vm.push(Value::Int(m.end as i64))?;
                let n = if m.explicit {
                    push_captures(vm, src, &m.captures)?
                } else {
                    0
                };
                Ok(2 + n)
            } else {
                push_captures(vm, src, &m.captures)
            }
        }
    }
}

fn str_find(vm: &mut Vm, args: Args) -> R {
    find_aux(vm, args, true)
}

fn str_match(vm: &mut Vm, args: Args) -> R {
    find_aux(vm, args, false)
}

/// The position of a `gmatch` iterator and the end of its last match.
struct GMatchState(std::cell::Cell<(usize, Option<usize>)>);

/// `string.gmatch(s, p [, init])`: a native closure over the subject, the pattern and its
/// state, a userdata (as Lua's, three upvalues: `debug.getupvalue` shows them, named "").
fn str_gmatch(vm: &mut Vm, args: Args) -> R {
    let s = vm.check_str(args, 0)?;
    let p = vm.check_str(args, 1)?;
    let init = vm.opt_int(args, 2, 1)?;
    let len = s.get().len();
    let start = pattern::start_offset(init, len).unwrap_or(len + 1);
    let state = GMatchState(std::cell::Cell::new((start, None)));
    let ud = crate::open::new_userdata(vm, state, None);
    let it = vm.new_native_closure(
        gmatch_step,
        "for iterator",
        vec![Value::Str(s), Value::Str(p), ud],
    );
    vm.push(it)?;
    Ok(1)
}

/// An error from the iterator, positioned at the line that called it (`luaL_error`).
fn gmatch_error(vm: &mut Vm, msg: &str) -> LuaError {
    let text = format!("{}{}", vm.where_(1), msg);
    let v = vm.str_value(text);
    LuaError::new(v)
}

fn gmatch_step(vm: &mut Vm, args: Args) -> R {
    let (Value::Str(s), Value::Str(p), Value::UserData(ud)) = (
        vm.native_upvalue(args, 0),
        vm.native_upvalue(args, 1),
        vm.native_upvalue(args, 2),
    ) else {
        return Err(vm.rt_error("bad gmatch iterator"));
    };
    let Some((pos, last)) = ud.get().downcast_ref::<GMatchState>().map(|st| st.0.get()) else {
        return Err(vm.rt_error("bad gmatch iterator"));
    };
    let save = |g: &pattern::GMatch, last: Option<usize>| {
        if let Some(st) = ud.get().downcast_ref::<GMatchState>() {
            st.0.set((g.pos, last));
        }
    };
    let mut g = pattern::GMatch::new(pos);
    g.last_match = last;
    let src = s.get().as_bytes();
    let sig = vm.signal().clone();
    match g.next_match(src, p.get().as_bytes(), Some(&sig)) {
        Err(e) if e == pattern::INTERRUPTED && sig.interrupt_pending() => Err(vm.interrupted()),
        Err(e) => Err(gmatch_error(vm, &e)),
        Ok(None) => {
            // Lua's iterator returns nothing at the end (not even nil).
            save(&g, last);
            Ok(0)
        }
        Ok(Some(m)) => {
            save(&g, Some(m.end));
            push_captures(vm, src, &m.captures)
        }
    }
}

fn str_gsub(vm: &mut Vm, args: Args) -> R {
    let s = vm.check_str(args, 0)?;
    let p = vm.check_str(args, 1)?;
    let repl = vm.arg(args, 2);
    match repl {
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Table(_) => {}
        Value::LuaFn(_) | Value::NativeFn(_) | Value::LightFn(_) => {}
        _ => return Err(vm.type_error_arg(args, 2, "string/function/table")),
    }
    let src_len = s.get().len() as i64;
    let max_n = vm.opt_int(args, 3, src_len + 1)?;
    let sig = vm.signal().clone();
    // Whether a match was replaced by something (a nil or false replacement keeps it): if
    // none was, the subject itself is the result, as in Lua.
    let mut changed = false;
    let result = match repl {
        Value::Str(_) | Value::Int(_) | Value::Float(_) => {
            changed = true;
            let r = vm.check_str(args, 2)?;
            pattern::gsub_str(
                s.get().as_bytes(),
                p.get().as_bytes(),
                r.get().as_bytes(),
                Some(max_n),
                Some(&sig),
            )
            .map_err(|e| NativeError::Lib(LibError::Msg(e)))
        }
        _ => {
            // The callback may run Lua code: work on copies of the subject and pattern.
            let src = s.get().as_bytes().to_vec();
            let pat = p.get().as_bytes().to_vec();
            pattern::gsub(&src, &pat, Some(max_n), Some(&sig), |ms, st, en, out| {
                gsub_value(vm, repl, ms, &src, st, en, out, &mut changed)
            })
        }
    };
    match result {
        Ok((out, n)) => {
            if n == 0 || !changed {
                // Nothing replaced: the subject itself, as Lua returns it.
                vm.push(Value::Str(s))?;
            } else {
                push_bytes(vm, &out)?;
            }
            vm.push(Value::Int(n))?;
            Ok(2)
        }
        Err(_) if sig.interrupt_pending() => Err(vm.interrupted()),
        Err(e) => Err(finish(vm, e)),
    }
}

/// Lua's `lua_gettable`: `obj[key]` with `__index` metamethods (tables and functions),
/// bounded as Lua's `MAXTAGLOOP`.
fn index_value(vm: &mut Vm, mut obj: Value, key: Value) -> Result<Value, LuaError> {
    for _ in 0..2000 {
        if let Value::Table(t) = obj {
            let v = t.get().get(key);
            if !v.is_nil() {
                return Ok(v);
            }
        }
        let handler = match vm.metatable(obj) {
            Some(mt) => {
                let k = vm.str_value("__index");
                mt.get().get(k)
            }
            None => Value::Nil,
        };
        match handler {
            Value::Nil if matches!(obj, Value::Table(_)) => return Ok(Value::Nil),
            Value::Nil => {
                let t = vm.obj_type_name(obj);
                return Err(vm.rt_error(&format!("attempt to index a {t} value")));
            }
            Value::LuaFn(_) | Value::NativeFn(_) | Value::LightFn(_) => {
                let r = vm.call_value(handler, &[obj, key])?;
                return Ok(r.first().copied().unwrap_or(Value::Nil));
            }
            next => obj = next,
        }
    }
    Err(vm.rt_error("'__index' chain too long; possibly a loop"))
}

/// The replacement for one match when `repl` is a table or a function.
// The match state travels as separate arguments: gsub's loop keeps them in registers.
#[allow(clippy::too_many_arguments)]
fn gsub_value(
    vm: &mut Vm,
    repl: Value,
    ms: &MatchState<'_>,
    src: &[u8],
    s: usize,
    e: usize,
    out: &mut Vec<u8>,
    changed: &mut bool,
) -> Result<(), NativeError> {
    let v = if let Value::Table(_) = repl {
        let c = ms.get_capture(0, s, e)?;
        let key = capture_value(vm, src, c);
        index_value(vm, repl, key)?
    } else {
        let caps = ms.captures(s, e)?;
        let vals: Vec<Value> = caps.iter().map(|&c| capture_value(vm, src, c)).collect();
        let r = vm.call_value(repl, &vals)?;
        r.first().copied().unwrap_or(Value::Nil)
    };
    match v {
        Value::Nil | Value::Bool(false) => {
            out.extend_from_slice(&src[s..e]);
            Ok(())
        }
        Value::Str(x) => {
            *changed = true;
            out.extend_from_slice(x.get().as_bytes());
            Ok(())
        }
        Value::Int(_) | Value::Float(_) => {
            *changed = true;
            out.extend_from_slice(&vm.tostring_basic(v));
            Ok(())
        }
        other => {
            let t = other.type_name();
            Err(LibError::Msg(format!("invalid replacement value (a {t})")).into())
        }
    }
}

/// The error of a failed match: the VM's interrupt error when a match was stopped by an
/// interrupt, else the pattern's message.
fn pattern_error(vm: &mut Vm, e: &str) -> LuaError {
    if e == pattern::INTERRUPTED && vm.signal().interrupt_pending() {
        return vm.interrupted();
    }
    vm.rt_error(e)
}

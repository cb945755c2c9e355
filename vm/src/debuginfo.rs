//! Debug information: variable names for error messages (symbolic execution of bytecode as
//! PUC's `getobjname`), function names from call sites, positions (`chunk:line:`), and
//! tracebacks in PUC's layout. Every runtime error message is built here.

use hotlua_compiler::error::chunk_id;
use hotlua_compiler::opcode::{Instr, OpCode};

use crate::error::LuaError;
use crate::function::FnProto;
use crate::state::Vm;
use crate::thread::{flags, FrameKind};
use crate::value::Value;

/// What an instruction's operand was, for error messages.
#[derive(Clone, Copy, Debug)]
pub enum Operand {
    /// No information (a constant, an immediate, an intermediate value).
    None,
    /// Register of the running Lua frame.
    Reg(u32),
    /// Upvalue of the running closure.
    Upval(u32),
}

/// Does the instruction write register A?
fn sets_a(op: OpCode) -> bool {
    use OpCode::*;
    !matches!(
        op,
        SetUpval
            | SetTabUp
            | SetTable
            | SetI
            | SetField
            | Close
            | Tbc
            | Jmp
            | Eq
            | Lt
            | Le
            | EqK
            | EqI
            | LtI
            | LeI
            | GtI
            | GeI
            | Test
            | Return
            | Return0
            | Return1
            | TForPrep
            | TForCall
            | SetList
            | ExtraArg
    )
}

/// The pc of the last instruction before `lastpc` that wrote `reg` (None when a jump makes
/// it uncertain), as PUC's `findsetreg`.
fn find_set_reg(p: &FnProto, lastpc: usize, reg: u32) -> Option<usize> {
    let mut setreg = None;
    let mut jmptarget = 0usize;
    for pc in 0..lastpc.min(p.code.len()) {
        let i = p.code[pc];
        let op = i.op();
        let a = i.a();
        let change = match op {
            OpCode::LoadNil => a <= reg && reg <= a + i.b(),
            OpCode::TForCall => reg >= a + 2,
            OpCode::Call | OpCode::TailCall => reg >= a,
            OpCode::Jmp => {
                let dest = pc as i64 + 1 + i.sj() as i64;
                if dest <= lastpc as i64 && dest > jmptarget as i64 {
                    jmptarget = dest as usize;
                }
                false
            }
            _ => sets_a(op) && reg == a,
        };
        if change {
            setreg = if pc < jmptarget { None } else { Some(pc) };
        }
    }
    setreg
}

fn upval_name(p: &FnProto, i: u32) -> String {
    p.upvalues
        .get(i as usize)
        .map_or_else(|| "?".to_string(), |u| u.name.to_string())
}

fn const_str(p: &FnProto, i: u32) -> Option<String> {
    match p.constants.get(i as usize) {
        Some(Value::Str(s)) => Some(s.get().to_str_lossy().into_owned()),
        _ => None,
    }
}

/// The name of register `reg` at `lastpc`: `("local", "x")`, `("global", "g")`, ...
pub(crate) fn get_obj_name(p: &FnProto, lastpc: usize, reg: u32) -> Option<(&'static str, String)> {
    obj_name(p, lastpc, reg, 0)
}

/// How far names are traced back through moves and table accesses: the compiler's code
/// needs a few steps; a crafted binary chunk could chain one per instruction.
const MAX_NAME_DEPTH: u32 = 64;

fn obj_name(p: &FnProto, lastpc: usize, reg: u32, depth: u32) -> Option<(&'static str, String)> {
    if depth > MAX_NAME_DEPTH {
        return None;
    }
    if let Some(name) = p.local_name(reg as usize + 1, lastpc) {
        return Some(("local", name.to_string()));
    }
    let pc = find_set_reg(p, lastpc, reg)?;
    let i = p.code[pc];
    match i.op() {
        OpCode::Move => {
            let b = i.b();
            if b < i.a() {
                return obj_name(p, pc, b, depth + 1);
            }
            None
        }
        OpCode::GetTabUp => {
            let k = const_str(p, i.c()).unwrap_or_else(|| "?".into());
            let kind = if upval_name(p, i.b()) == "_ENV" {
                "global"
            } else {
                "field"
            };
            Some((kind, k))
        }
        OpCode::GetTable => {
            let k = match obj_name(p, pc, i.c(), depth + 1) {
                Some(("constant", n)) => n,
                _ => "?".into(),
            };
            Some((is_env(p, pc, i.b(), depth + 1), k))
        }
        OpCode::GetI => Some(("field", "integer index".into())),
        OpCode::GetField => {
            let k = const_str(p, i.c()).unwrap_or_else(|| "?".into());
            Some((is_env(p, pc, i.b(), depth + 1), k))
        }
        OpCode::GetUpval => Some((upval_kind(p, i.b()), upval_name(p, i.b()))),
        OpCode::LoadK => const_str(p, i.bx()).map(|s| ("constant", s)),
        OpCode::LoadKX => {
            let ax = p.code.get(pc + 1).map_or(0, |n| n.ax());
            const_str(p, ax).map(|s| ("constant", s))
        }
        OpCode::SelfOp => {
            // The key is a constant, or (past the RK limit of 255 constants) a register
            // loaded by LOADK: both name the method.
            let k = if i.k() {
                const_str(p, i.c())
            } else {
                match obj_name(p, pc, i.c(), depth + 1) {
                    Some(("constant", n)) => Some(n),
                    _ => None,
                }
            };
            Some(("method", k.unwrap_or_else(|| "?".into())))
        }
        _ => None,
    }
}

/// How messages name upvalue `u` of `p`: "upvalue", except a module main chunk's top-level
/// locals (its upvalues after `_ENV`), which are locals of that chunk as Lua sees it.
fn upval_kind(p: &FnProto, u: u32) -> &'static str {
    if p.module && u > 0 {
        "local"
    } else {
        "upvalue"
    }
}

fn is_env(p: &FnProto, pc: usize, t: u32, depth: u32) -> &'static str {
    match obj_name(p, pc, t, depth) {
        Some((_, n)) if n == "_ENV" => "global",
        _ => "field",
    }
}

/// Name of the function called by the instruction at `pc` of `p` (PUC's `funcnamefromcode`).
pub(crate) fn func_name_from_code(p: &FnProto, pc: usize) -> Option<(&'static str, String)> {
    let i: Instr = *p.code.get(pc)?;
    let tm = match i.op() {
        OpCode::Call | OpCode::TailCall => return get_obj_name(p, pc, i.a()),
        OpCode::TForCall => return Some(("for iterator", "for iterator".into())),
        OpCode::SelfOp | OpCode::GetTabUp | OpCode::GetTable | OpCode::GetI | OpCode::GetField => {
            "index"
        }
        OpCode::SetTabUp | OpCode::SetTable | OpCode::SetI | OpCode::SetField => "newindex",
        OpCode::AddI | OpCode::AddK | OpCode::Add => "add",
        OpCode::SubK | OpCode::Sub => "sub",
        OpCode::MulK | OpCode::Mul => "mul",
        OpCode::ModK | OpCode::Mod => "mod",
        OpCode::PowK | OpCode::Pow => "pow",
        OpCode::DivK | OpCode::Div => "div",
        OpCode::IDivK | OpCode::IDiv => "idiv",
        OpCode::BAndK | OpCode::BAnd => "band",
        OpCode::BOrK | OpCode::BOr => "bor",
        OpCode::BXorK | OpCode::BXor => "bxor",
        OpCode::ShlI | OpCode::Shl => "shl",
        OpCode::ShrI | OpCode::Shr => "shr",
        OpCode::Unm => "unm",
        OpCode::BNot => "bnot",
        OpCode::Len => "len",
        OpCode::Concat => "concat",
        OpCode::Eq => "eq",
        OpCode::Lt | OpCode::LtI | OpCode::GtI => "lt",
        OpCode::Le | OpCode::LeI | OpCode::GeI => "le",
        OpCode::Close | OpCode::Return => "close",
        _ => return None,
    };
    Some(("metamethod", tm.into()))
}

impl Vm {
    /// `type` name, or the `__name` of a table/userdata metatable (PUC's `luaT_objtypename`).
    pub fn obj_type_name(&self, v: Value) -> String {
        if let Value::Table(_) | Value::UserData(_) = v {
            if let Some(mt) = self.metatable(v) {
                let k = self.tm[crate::meta::Tm::Name as usize];
                if let Value::Str(s) = mt.get().get_str(k) {
                    return s.get().to_str_lossy().into_owned();
                }
            }
        }
        v.type_name().to_string()
    }

    /// The " (local 'x')" suffix for an operand of the running Lua frame.
    pub(crate) fn var_info(&self, op: Operand) -> String {
        let th = self.cur.get();
        let Some(ci) = th.frames.last() else {
            return String::new();
        };
        let Some(p) = ci.proto else {
            return String::new();
        };
        let p = p.get();
        let pc = ci.pc.saturating_sub(1);
        let found = match op {
            Operand::None => None,
            Operand::Upval(u) => Some((upval_kind(p, u), upval_name(p, u))),
            Operand::Reg(r) => get_obj_name(p, pc, r),
        };
        match found {
            Some((kind, name)) => format!(" ({} '{}')", kind, name),
            None => String::new(),
        }
    }

    /// `chunk:line:` of the frame `level` levels below the top (0 = the running function),
    /// or empty for natives and for functions without line information (`luaL_where`).
    pub fn where_(&self, level: usize) -> String {
        let th = self.cur.get();
        let n = th.frames.len();
        if level >= n {
            return String::new();
        }
        let ci = &th.frames[n - 1 - level];
        match (ci.kind, ci.proto) {
            (FrameKind::Lua, Some(p)) => {
                let p = p.get();
                match p.current_line(ci.pc.saturating_sub(1)) {
                    Some(l) => format!("{}:{}{}: ", chunk_id(&p.source), l, version_tag(p)),
                    None => String::new(),
                }
            }
            _ => String::new(),
        }
    }

    /// The position the VM gives its own errors in the running Lua function
    /// (`luaG_addinfo`): `chunk:line:`, with line -1 when the function has no line
    /// information (`?:-1:` for a stripped binary chunk). Empty when no Lua function runs.
    fn run_where(&self) -> String {
        let th = self.cur.get();
        match th.frames.last() {
            Some(ci) if ci.kind == FrameKind::Lua => match ci.proto {
                Some(p) => {
                    let p = p.get();
                    let line = p
                        .current_line(ci.pc.saturating_sub(1))
                        .map_or(-1, i64::from);
                    format!("{}:{}: ", chunk_id(&p.source), line)
                }
                None => String::new(),
            },
            _ => String::new(),
        }
    }

    /// A runtime error with the running function's position (`luaG_runerror` when the top
    /// frame is Lua; a native's caller position for natives, as `luaL_error`).
    pub fn rt_error(&mut self, msg: &str) -> LuaError {
        let th = self.cur.get();
        let lvl = match th.frames.last() {
            Some(ci) if ci.kind == FrameKind::Lua => 0,
            _ => 1,
        };
        let pos = if lvl == 0 {
            self.run_where()
        } else {
            self.where_(lvl)
        };
        let s = format!("{}{}", pos, msg);
        LuaError::new(self.str_value(s))
    }

    /// A runtime error positioned as `luaG_runerror`: only when the running function is Lua.
    pub(crate) fn run_error(&mut self, msg: &str) -> LuaError {
        let pos = self.run_where();
        LuaError::new(self.str_value(format!("{}{}", pos, msg)))
    }

    /// `attempt to <op> a <type> value<varinfo>`.
    pub(crate) fn type_error(&mut self, v: Value, op: &str, desc: Operand) -> LuaError {
        let t = self.obj_type_name(v);
        let info = self.var_info(desc);
        self.rt_error(&format!("attempt to {} a {} value{}", op, t, info))
    }

    /// `attempt to call a nil value (global 'f')`, naming the callee from the call site.
    pub(crate) fn call_error(&mut self, v: Value) -> LuaError {
        let t = self.obj_type_name(v);
        let th = self.cur.get();
        let mut info = String::new();
        if let Some(ci) = th.frames.last() {
            if let (FrameKind::Lua, Some(p)) = (ci.kind, ci.proto) {
                if let Some((kind, name)) = func_name_from_code(p.get(), ci.pc.saturating_sub(1)) {
                    info = format!(" ({} '{}')", kind, name);
                }
            }
        }
        let msg = format!("attempt to call a {} value{}", t, info);
        // Only a Lua caller gives a position (a protected call of a non-function has none).
        let pos = self.run_where();
        LuaError::new(self.str_value(format!("{}{}", pos, msg)))
    }

    /// `attempt to compare ...`.
    pub(crate) fn order_error(&mut self, a: Value, b: Value) -> LuaError {
        let t1 = self.obj_type_name(a);
        let t2 = self.obj_type_name(b);
        if t1 == t2 {
            self.rt_error(&format!("attempt to compare two {} values", t1))
        } else {
            self.rt_error(&format!("attempt to compare {} with {}", t1, t2))
        }
    }

    /// The name and kind of the running native, for argument errors: from the call site,
    /// else its global name, else "?".
    pub(crate) fn native_name_for_error(&mut self) -> (&'static str, String) {
        let n = self.cur.get().frames.len();
        if n == 0 {
            return ("", "?".into());
        }
        if let Some((kind, name)) = self.frame_name(n - 1) {
            return (kind, name);
        }
        let f = self.frame_func(n - 1);
        if let Some(g) = self.global_func_name(f) {
            return ("", g);
        }
        if let Value::NativeFn(c) = f {
            return ("", c.get().name.to_string());
        }
        ("", "?".into())
    }

    /// The function value of frame `idx`.
    pub(crate) fn frame_func(&self, idx: usize) -> Value {
        let th = self.cur.get();
        let ci = &th.frames[idx];
        match ci.closure {
            Some(c) => Value::LuaFn(c),
            None => th.stack.get(ci.func).copied().unwrap_or(Value::Nil),
        }
    }

    /// The name of the function running in frame `idx`, from its caller's call instruction.
    #[doc(hidden)]
    pub fn frame_name(&self, idx: usize) -> Option<(&'static str, String)> {
        let th = self.cur.get();
        let ci = &th.frames[idx];
        if ci.flags & flags::DEBUG_HOOK != 0 {
            return Some(("hook", "?".into()));
        }
        if self.finalizer_frame == Some((self.cur, idx)) {
            return Some(("metamethod", "__gc".into()));
        }
        if ci.flags & flags::TAIL != 0 || idx == 0 {
            return None;
        }
        if ci.flags & flags::HOOK != 0 && ci.kind != FrameKind::Lua {
            return None;
        }
        let caller = &th.frames[idx - 1];
        match (caller.kind, caller.proto) {
            (FrameKind::Lua, Some(p)) => func_name_from_code(p.get(), caller.pc.saturating_sub(1)),
            _ => None,
        }
    }

    /// `"string.rep"` / `"print"`: where a function sits in the loaded libraries.
    pub(crate) fn global_func_name(&mut self, f: Value) -> Option<String> {
        if !f.is_function() {
            return None;
        }
        let k = self.new_str("_LOADED");
        let loaded = self.registry.get().get_str(k).as_table()?;
        let mut key = Value::Nil;
        while let Ok(Some((k, v))) = loaded.get().next(key) {
            key = k;
            if let (Value::Str(modname), Value::Table(m)) = (k, v) {
                let mut k2 = Value::Nil;
                while let Ok(Some((fk, fv))) = m.get().next(k2) {
                    k2 = fk;
                    if let Value::Str(fname) = fk {
                        if fv.raw_eq(&f) {
                            let mname = modname.get().to_str_lossy().into_owned();
                            let fname = fname.get().to_str_lossy().into_owned();
                            return Some(if mname == "_G" {
                                fname
                            } else {
                                format!("{}.{}", mname, fname)
                            });
                        }
                    }
                }
            }
        }
        None
    }

    /// `stack traceback:` and the frames from `level` (0 = the running function), in PUC's
    /// layout; `msg`, when given, comes first on its own line.
    pub fn traceback(&mut self, msg: Option<&str>, level: usize) -> String {
        let mut out = String::new();
        if let Some(m) = msg {
            out.push_str(m);
            out.push('\n');
        }
        out.push_str("stack traceback:");
        let n = self.cur.get().frames.len();
        // `None` is the C frame lua.c runs a program's main chunk from (`[C]: in ?`).
        let mut levels: Vec<Option<usize>> = (0..n.saturating_sub(level)).rev().map(Some).collect();
        if self.cur.get().program_main && level <= n {
            levels.push(None);
        }
        let total = levels.len();
        const FIRST: usize = 10;
        const LAST: usize = 11;
        for (li, &idx) in levels.iter().enumerate() {
            // As luaL_traceback: beyond 22 levels, the first 10 and the last 11 are shown
            // (the count it prints is one less than the levels it leaves out).
            if total > FIRST + LAST + 1 && li == FIRST {
                out.push_str(&format!(
                    "\n\t...\t(skipping {} levels)",
                    total - FIRST - LAST - 1
                ));
            }
            if total > FIRST + LAST + 1 && li >= FIRST && li < total - LAST {
                continue;
            }
            let Some(idx) = idx else {
                out.push_str("\n\t[C]: in ?");
                continue;
            };
            let ci = self.cur.get().frames[idx];
            if matches!(ci.kind, FrameKind::Pcall | FrameKind::Xpcall) {
                let name = if ci.kind == FrameKind::Pcall {
                    "pcall"
                } else {
                    "xpcall"
                };
                out.push_str(&format!("\n\t[C]: in function '{}'", name));
                continue;
            }
            let f = self.frame_func(idx);
            let (src, line) = match (ci.kind, ci.proto) {
                (FrameKind::Lua, Some(p)) => {
                    let p = p.get();
                    // No line for a function without line information (`?:`).
                    (chunk_id(&p.source), p.current_line(ci.pc.saturating_sub(1)))
                }
                _ => ("[C]".to_string(), None),
            };
            out.push_str("\n\t");
            out.push_str(&src);
            out.push(':');
            if let Some(l) = line {
                out.push_str(&format!("{}", l));
                if let (FrameKind::Lua, Some(p)) = (ci.kind, ci.proto) {
                    out.push_str(&version_tag(p.get()));
                }
                out.push(':');
            }
            out.push_str(" in ");
            let gname = self.global_func_name(f);
            if let Some(g) = gname {
                out.push_str(&format!("function '{}'", g));
            } else if let Some((kind, name)) = self.frame_name(idx) {
                out.push_str(&format!("{} '{}'", kind, name));
            } else if let (FrameKind::Lua, Some(p)) = (ci.kind, ci.proto) {
                let p = p.get();
                if p.line_defined == 0 {
                    out.push_str("main chunk");
                } else {
                    out.push_str(&format!(
                        "function <{}:{}>",
                        chunk_id(&p.source),
                        p.line_defined
                    ));
                }
            } else {
                out.push('?');
            }
            if ci.flags & flags::TAIL != 0 {
                out.push_str("\n\t(...tail calls...)");
            }
        }
        out
    }
}

/// Frame introspection for the debug library (internal API).
impl Vm {
    /// Runs `f` with `t` as the current thread (for inspection only: no Lua code runs).
    #[doc(hidden)]
    pub fn on_thread<T>(
        &mut self,
        t: crate::gc::Gc<crate::thread::Thread>,
        f: impl FnOnce(&mut Vm) -> T,
    ) -> T {
        let prev = self.cur;
        self.cur = t;
        let r = f(self);
        self.cur = prev;
        r
    }

    /// The function a frame runs (markers stand for `pcall`/`xpcall`).
    #[doc(hidden)]
    pub fn frame_function(&self, idx: usize) -> Value {
        let ci = self.cur.get().frames[idx];
        match ci.kind {
            FrameKind::Pcall => self.builtin(crate::function::Builtin::Pcall),
            FrameKind::Xpcall => self.builtin(crate::function::Builtin::Xpcall),
            _ => self.frame_func(idx),
        }
    }

    /// Finds local `n` of frame `idx` of the running thread (`luaG_findlocal`): its name and
    /// stack slot.
    #[doc(hidden)]
    pub fn find_local(&self, idx: usize, n: i64) -> Option<(String, usize)> {
        let th = self.cur.get();
        let ci = th.frames[idx];
        let lua = ci.kind == FrameKind::Lua;
        if lua {
            if n < 0 {
                let nvar = ci.nvarargs as i64;
                if n >= -nvar {
                    let slot = ci.base - nvar as usize + (-n - 1) as usize;
                    return Some(("(vararg)".into(), slot));
                }
                return None;
            }
            if let Some(p) = ci.proto {
                if let Some(name) = p.get().local_name(n as usize, ci.pc.saturating_sub(1)) {
                    return Some((name.to_string(), ci.base + n as usize - 1));
                }
            }
        }
        let limit = if idx + 1 == th.frames.len() {
            th.top
        } else {
            th.frames[idx + 1].func
        };
        if n > 0 && limit >= ci.base && (limit - ci.base) as i64 >= n {
            let name = if lua { "(temporary)" } else { "(C temporary)" };
            return Some((name.into(), ci.base + n as usize - 1));
        }
        None
    }
}

/// ` (vN)` for a function of a module version installed by a patch or a rollback (a module
/// never patched shows nothing): tracebacks and error positions tell versions apart.
pub fn version_tag(p: &crate::function::FnProto) -> String {
    match p.version.get() {
        0 => String::new(),
        n => format!(" (v{n})"),
    }
}

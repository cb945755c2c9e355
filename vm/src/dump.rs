//! Binary chunks: `string.dump`'s format ([`dump`]), its reader ([`undump`]) and the
//! verifier ([`verify`]) that every loaded prototype passes before the VM may run it.
//!
//! The interpreter trusts prototypes (it reads registers, constants and the next
//! instruction without bounds checks: see `interp.rs`), and a binary chunk is arbitrary
//! bytes, so [`undump`] accepts a chunk only when the prototype it describes satisfies every
//! invariant the compiler's output satisfies and the interpreter relies on. The format and
//! the invariants are documented in `spec/bytecode.md` ("Binary chunks").
//!
//! [`undump`] is a plain function of bytes (no VM), for fuzzers: it returns a verified
//! [`Proto`] or the reason Lua prints inside `bad binary format (...)`, and never panics.

use std::collections::HashMap;
use std::sync::Arc;

use hotlua_compiler::opcode::{Instr, OpCode, FIELDS_PER_FLUSH, MAX_REGS};
use hotlua_compiler::proto::{Constant, LocVar, Proto, UpvalDesc, VarKind};

use crate::function::FnProto;
use crate::value::Value;

/// `LUA_SIGNATURE`: every binary chunk starts with it (`load` tells binary from text by
/// its first byte).
pub const SIGNATURE: &[u8; 4] = b"\x1bLua";
/// `LUAC_VERSION`: Lua 5.4.
pub const LUAC_VERSION: u8 = 0x54;
/// `LUAC_FORMAT`: the official format number, as PUC writes it.
pub const LUAC_FORMAT: u8 = 0;
/// `LUAC_DATA`: catches conversions of line ends and such.
pub const LUAC_DATA: &[u8; 6] = b"\x19\x93\r\n\x1a\n";
/// `LUAC_INT` and `LUAC_NUM`: check the integer and float formats.
pub const LUAC_INT: i64 = 0x5678;
pub const LUAC_NUM: f64 = 370.5;
/// What follows PUC's header in a hotlua chunk: hotlua's tag and the version of its format.
/// A PUC chunk has other bytes there ("format mismatch").
pub const HOTLUA_TAG: &[u8; 6] = b"hotlua";
/// Version of the format after the header (bumped whenever the layout or the instruction
/// set changes; other versions are refused with "version mismatch").
pub const FORMAT_VERSION: u8 = 1;
/// Deepest nesting of functions a chunk may have (the compiler stops at 200 syntax levels).
pub const MAX_NESTING: usize = 250;
/// Most upvalues a function may have (as the compiler).
pub const MAX_UPVALUES: usize = 255;

/// Tags of constants.
const K_NIL: u8 = 0;
const K_FALSE: u8 = 1;
const K_TRUE: u8 = 2;
const K_INT: u8 = 3;
const K_FLOAT: u8 = 4;
const K_STR: u8 = 5;

/// Function flags.
const F_VARARG: u8 = 1;
const F_MODULE: u8 = 2;

/// Why a chunk was refused: the text Lua puts in `<name>: bad binary format (<why>)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndumpError {
    pub why: String,
}

impl UndumpError {
    fn new(why: impl Into<String>) -> UndumpError {
        UndumpError { why: why.into() }
    }

    /// The whole message for a chunk loaded under `chunk_name`, as `lundump.c` builds it:
    /// the name without its `@` or `=`, or `binary string` for a chunk named by its bytes.
    pub fn message(&self, chunk_name: &str) -> String {
        let name = if let Some(n) = chunk_name.strip_prefix(['@', '=']) {
            n
        } else if chunk_name.as_bytes().first() == Some(&SIGNATURE[0]) {
            "binary string"
        } else {
            chunk_name
        };
        format!("{}: bad binary format ({})", name, self.why)
    }
}

impl std::fmt::Display for UndumpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad binary format ({})", self.why)
    }
}

impl std::error::Error for UndumpError {}

// ---- writing -----------------------------------------------------------------------------

/// The binary chunk of `p` (`string.dump`). `strip` leaves out the debug information: line
/// info, local variables, upvalue names and declaration identities, the function names and
/// the source.
pub fn dump(p: &FnProto, strip: bool) -> Vec<u8> {
    dump_proto(&to_proto(p), strip)
}

/// The binary chunk of a compiler prototype (as [`dump`]).
pub fn dump_proto(p: &Proto, strip: bool) -> Vec<u8> {
    let mut w = Writer {
        out: Vec::with_capacity(64 + p.code.len() * 5),
        strip,
    };
    w.header();
    w.function(p, None);
    w.out
}

/// The plain-data prototype an instantiated one came from.
pub fn to_proto(p: &FnProto) -> Proto {
    Proto {
        source: p.source.clone(),
        name: p.name.clone(),
        module: p.module,
        source_hash: p.source_hash,
        line_defined: p.line_defined,
        last_line_defined: p.last_line_defined,
        num_params: p.num_params,
        is_vararg: p.is_vararg,
        max_stack: p.max_stack,
        code: p.code.to_vec(),
        constants: p
            .constants
            .iter()
            .map(|k| match *k {
                Value::Bool(b) => Constant::Bool(b),
                Value::Int(i) => Constant::Int(i),
                Value::Float(f) => Constant::Float(f),
                Value::Str(s) => Constant::Str(s.get().as_bytes().into()),
                // Constants are only ever nil, booleans, numbers and strings.
                _ => Constant::Nil,
            })
            .collect(),
        upvalues: p.upvalues.to_vec(),
        protos: p
            .protos
            .iter()
            .map(|c| Box::new(to_proto(c.get())))
            .collect(),
        line_info: p.line_info.to_vec(),
        locvars: p.locvars.to_vec(),
    }
}

struct Writer {
    out: Vec<u8>,
    strip: bool,
}

impl Writer {
    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    /// Unsigned LEB128: seven bits a byte, least significant group first, the high bit set
    /// on every byte but the last.
    fn varint(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.out.push(b);
                return;
            }
            self.out.push(b | 0x80);
        }
    }

    fn size(&mut self, n: usize) {
        self.varint(n as u64);
    }

    fn string(&mut self, s: &[u8]) {
        self.size(s.len());
        self.out.extend_from_slice(s);
    }

    /// A string that may be absent: its length plus one, 0 when absent.
    fn opt_string(&mut self, s: Option<&[u8]>) {
        match s {
            None => self.varint(0),
            Some(s) => {
                self.varint(s.len() as u64 + 1);
                self.out.extend_from_slice(s);
            }
        }
    }

    fn header(&mut self) {
        self.out.extend_from_slice(SIGNATURE);
        self.byte(LUAC_VERSION);
        self.byte(LUAC_FORMAT);
        self.out.extend_from_slice(LUAC_DATA);
        self.byte(4); // size of an instruction
        self.byte(8); // size of an integer
        self.byte(8); // size of a float
        self.out.extend_from_slice(&LUAC_INT.to_le_bytes());
        self.out.extend_from_slice(&LUAC_NUM.to_le_bytes());
        self.out.extend_from_slice(HOTLUA_TAG);
        self.byte(FORMAT_VERSION);
    }

    fn function(&mut self, p: &Proto, parent_source: Option<&str>) {
        let source = if self.strip || parent_source == Some(&*p.source) {
            None
        } else {
            Some(p.source.as_bytes())
        };
        self.opt_string(source);
        let name = if self.strip { "" } else { &*p.name };
        self.string(name.as_bytes());
        self.varint(p.line_defined.into());
        self.varint(p.last_line_defined.into());
        self.byte(p.num_params);
        let flags = if p.is_vararg { F_VARARG } else { 0 } | if p.module { F_MODULE } else { 0 };
        self.byte(flags);
        self.byte(p.max_stack);
        self.out.extend_from_slice(&p.source_hash.to_le_bytes());
        self.size(p.code.len());
        for i in p.code.iter() {
            self.out.extend_from_slice(&i.0.to_le_bytes());
        }
        self.size(p.constants.len());
        for k in p.constants.iter() {
            match k {
                Constant::Nil => self.byte(K_NIL),
                Constant::Bool(false) => self.byte(K_FALSE),
                Constant::Bool(true) => self.byte(K_TRUE),
                Constant::Int(i) => {
                    self.byte(K_INT);
                    self.out.extend_from_slice(&i.to_le_bytes());
                }
                Constant::Float(f) => {
                    self.byte(K_FLOAT);
                    self.out.extend_from_slice(&f.to_bits().to_le_bytes());
                }
                Constant::Str(s) => {
                    self.byte(K_STR);
                    self.string(s);
                }
            }
        }
        self.size(p.upvalues.len());
        for u in p.upvalues.iter() {
            self.byte(u.in_stack as u8);
            self.byte(u.index);
            self.byte(match u.kind {
                VarKind::Regular => 0,
                VarKind::Const => 1,
                VarKind::Close => 2,
            });
        }
        self.size(p.protos.len());
        for c in p.protos.iter() {
            self.function(c, Some(&p.source));
        }
        // Debug information.
        if self.strip {
            self.size(0); // line info
            self.size(0); // local variables
            self.size(0); // upvalue names
            return;
        }
        self.size(p.line_info.len());
        let mut prev = i64::from(p.line_defined);
        for &l in p.line_info.iter() {
            let d = i64::from(l) - prev;
            prev = i64::from(l);
            // Zigzag: small deltas of either sign take one byte.
            self.varint(((d << 1) ^ (d >> 63)) as u64);
        }
        self.size(p.locvars.len());
        for v in p.locvars.iter() {
            self.string(v.name.as_bytes());
            self.varint(v.start_pc.into());
            self.varint(v.end_pc.into());
            self.size(v.scope_path.len());
            for &s in v.scope_path.iter() {
                self.varint(s.into());
            }
            self.varint(v.shadow.into());
        }
        self.size(p.upvalues.len());
        for u in p.upvalues.iter() {
            self.string(u.name.as_bytes());
            self.string(u.decl.as_bytes());
        }
    }
}

// ---- reading -----------------------------------------------------------------------------

/// Reads a binary chunk into a verified prototype (the chunk's main function). Bytes after
/// the main function are ignored, as Lua does. Never panics: a truncated, corrupted or
/// foreign chunk is an error with Lua's reason ("truncated chunk", "version mismatch", ...).
pub fn undump(bytes: &[u8]) -> Result<Proto, UndumpError> {
    let mut r = Reader {
        data: bytes,
        pos: 0,
        names: HashMap::new(),
    };
    r.header()?;
    let p = r.function(None, 0)?;
    verify(&p).map_err(|e| UndumpError::new(format!("invalid code: {}", e)))?;
    Ok(p)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Identical names share one `Arc` (instantiation converts each distinct one once).
    names: HashMap<Box<[u8]>, Arc<str>>,
}

type R<T> = Result<T, UndumpError>;

fn truncated() -> UndumpError {
    UndumpError::new("truncated chunk")
}

fn corrupted() -> UndumpError {
    UndumpError::new("corrupted chunk")
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn block(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.remaining() {
            self.pos = self.data.len();
            return Err(truncated());
        }
        let b = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    fn byte(&mut self) -> R<u8> {
        Ok(self.block(1)?[0])
    }

    fn u64_le(&mut self) -> R<u64> {
        let b = self.block(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn varint(&mut self) -> R<u64> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if shift >= 64 || (shift == 63 && bits > 1) {
                return Err(UndumpError::new("integer overflow"));
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    fn u32_varint(&mut self) -> R<u32> {
        u32::try_from(self.varint()?).map_err(|_| UndumpError::new("integer overflow"))
    }

    fn u16_varint(&mut self) -> R<u16> {
        u16::try_from(self.varint()?).map_err(|_| UndumpError::new("integer overflow"))
    }

    /// A count of items taking at least `min_bytes` each: more than the rest of the chunk
    /// can hold means it was cut short (and nothing is allocated for it).
    fn count(&mut self, min_bytes: usize) -> R<usize> {
        let n = self.varint()?;
        if n > (self.remaining() / min_bytes.max(1)) as u64 {
            self.pos = self.data.len();
            return Err(truncated());
        }
        Ok(n as usize)
    }

    fn string(&mut self) -> R<&'a [u8]> {
        let n = self.count(1)?;
        self.block(n)
    }

    fn opt_string(&mut self) -> R<Option<&'a [u8]>> {
        let n = self.varint()?;
        if n == 0 {
            return Ok(None);
        }
        if n - 1 > self.remaining() as u64 {
            self.pos = self.data.len();
            return Err(truncated());
        }
        self.block((n - 1) as usize).map(Some)
    }

    /// A name or chunk name (text: hotlua keeps them as `str`).
    fn name(&mut self, b: &[u8]) -> R<Arc<str>> {
        if let Some(a) = self.names.get(b) {
            return Ok(a.clone());
        }
        let s = std::str::from_utf8(b).map_err(|_| corrupted())?;
        let a: Arc<str> = Arc::from(s);
        self.names.insert(b.into(), a.clone());
        Ok(a)
    }

    fn literal(&mut self, lit: &[u8], why: &str) -> R<()> {
        if self.block(lit.len())? != lit {
            return Err(UndumpError::new(why));
        }
        Ok(())
    }

    fn header(&mut self) -> R<()> {
        self.literal(SIGNATURE, "not a binary chunk")?;
        if self.byte()? != LUAC_VERSION {
            return Err(UndumpError::new("version mismatch"));
        }
        if self.byte()? != LUAC_FORMAT {
            return Err(UndumpError::new("format mismatch"));
        }
        self.literal(LUAC_DATA, "corrupted chunk")?;
        for (size, what) in [(4, "Instruction"), (8, "lua_Integer"), (8, "lua_Number")] {
            if self.byte()? != size {
                return Err(UndumpError::new(format!("{} size mismatch", what)));
            }
        }
        if self.u64_le()? as i64 != LUAC_INT {
            return Err(UndumpError::new("integer format mismatch"));
        }
        if f64::from_bits(self.u64_le()?) != LUAC_NUM {
            return Err(UndumpError::new("float format mismatch"));
        }
        self.literal(HOTLUA_TAG, "format mismatch")?;
        if self.byte()? != FORMAT_VERSION {
            return Err(UndumpError::new("version mismatch"));
        }
        Ok(())
    }

    fn function(&mut self, parent_source: Option<&Arc<str>>, depth: usize) -> R<Proto> {
        if depth >= MAX_NESTING {
            return Err(UndumpError::new("too many nested functions"));
        }
        let source = match self.opt_string()? {
            Some(s) => self.name(s)?,
            None => match parent_source {
                Some(s) => s.clone(),
                // A stripped main function: Lua shows its source as "=?".
                None => Arc::from("=?"),
            },
        };
        let name = self.string()?;
        let name = self.name(name)?;
        let line_defined = self.u32_varint()?;
        let last_line_defined = self.u32_varint()?;
        let num_params = self.byte()?;
        let flags = self.byte()?;
        if flags & !(F_VARARG | F_MODULE) != 0 {
            return Err(corrupted());
        }
        let max_stack = self.byte()?;
        let source_hash = self.u64_le()?;
        let ncode = self.count(4)?;
        let raw = self.block(ncode * 4)?;
        let code: Vec<Instr> = raw
            .chunks_exact(4)
            .map(|c| Instr(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect();
        let nk = self.count(1)?;
        let mut constants = Vec::with_capacity(nk);
        for _ in 0..nk {
            let k = match self.byte()? {
                K_NIL => Constant::Nil,
                K_FALSE => Constant::Bool(false),
                K_TRUE => Constant::Bool(true),
                K_INT => Constant::Int(self.u64_le()? as i64),
                K_FLOAT => Constant::Float(f64::from_bits(self.u64_le()?)),
                K_STR => Constant::Str(self.string()?.into()),
                _ => return Err(corrupted()),
            };
            constants.push(k);
        }
        let nup = self.count(3)?;
        if nup > MAX_UPVALUES {
            return Err(corrupted());
        }
        let mut upvalues = Vec::with_capacity(nup);
        for _ in 0..nup {
            let in_stack = match self.byte()? {
                0 => false,
                1 => true,
                _ => return Err(corrupted()),
            };
            let index = self.byte()?;
            let kind = match self.byte()? {
                0 => VarKind::Regular,
                1 => VarKind::Const,
                2 => VarKind::Close,
                _ => return Err(corrupted()),
            };
            upvalues.push((in_stack, index, kind));
        }
        let np = self.count(1)?;
        let mut protos = Vec::with_capacity(np);
        for _ in 0..np {
            protos.push(Box::new(self.function(Some(&source), depth + 1)?));
        }
        // Debug information.
        let nlines = self.count(1)?;
        if nlines != 0 && nlines != ncode {
            return Err(corrupted());
        }
        let mut line_info = Vec::with_capacity(nlines);
        let mut prev = i64::from(line_defined);
        for _ in 0..nlines {
            let z = self.varint()?;
            let d = (z >> 1) as i64 ^ -((z & 1) as i64);
            let l = prev.checked_add(d).ok_or_else(corrupted)?;
            let l = u32::try_from(l).map_err(|_| corrupted())?;
            line_info.push(l);
            prev = i64::from(l);
        }
        let nloc = self.count(5)?;
        let mut locvars = Vec::with_capacity(nloc);
        for _ in 0..nloc {
            let name = self.string()?;
            let name = self.name(name)?;
            let start_pc = self.u32_varint()?;
            let end_pc = self.u32_varint()?;
            let npath = self.count(1)?;
            let mut path = Vec::with_capacity(npath);
            for _ in 0..npath {
                path.push(self.u16_varint()?);
            }
            let shadow = self.u16_varint()?;
            locvars.push(LocVar {
                name,
                start_pc,
                end_pc,
                scope_path: path.into(),
                shadow,
            });
        }
        let nnames = self.count(2)?;
        if nnames != 0 && nnames != nup {
            return Err(corrupted());
        }
        let mut names = Vec::with_capacity(nnames);
        for _ in 0..nnames {
            let n = self.string()?;
            let n = self.name(n)?;
            let d = self.string()?;
            let d = self.name(d)?;
            names.push((n, d));
        }
        // Stripped upvalues have no name: Lua shows "?" (and "(no name)" in the debug
        // library), and no declaration identity.
        let unknown = self.name(b"?")?;
        let no_decl = self.name(b"")?;
        let upvalues = upvalues
            .into_iter()
            .enumerate()
            .map(|(i, (in_stack, index, kind))| {
                let (name, decl) = names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| (unknown.clone(), no_decl.clone()));
                UpvalDesc {
                    name,
                    in_stack,
                    index,
                    kind,
                    decl,
                }
            })
            .collect();
        Ok(Proto {
            source,
            name,
            module: flags & F_MODULE != 0,
            source_hash,
            line_defined,
            last_line_defined,
            num_params,
            is_vararg: flags & F_VARARG != 0,
            max_stack,
            code,
            constants,
            upvalues,
            protos,
            line_info,
            locvars,
        })
    }
}

// ---- verifying -----------------------------------------------------------------------------

/// Checks that `p` (and every nested prototype) keeps the invariants the interpreter relies
/// on, which the compiler's output always keeps (`spec/bytecode.md`, "What the loader
/// verifies"). The error says which instruction breaks which rule.
pub fn verify(p: &Proto) -> Result<(), String> {
    verify_at(p, 0)
}

fn verify_at(p: &Proto, depth: usize) -> Result<(), String> {
    if depth >= MAX_NESTING {
        return Err("too many nested functions".into());
    }
    verify_proto(p)?;
    for (i, c) in p.protos.iter().enumerate() {
        // How a closure of `c` finds its upvalues in a frame of `p`.
        for (j, u) in c.upvalues.iter().enumerate() {
            let ok = if u.in_stack {
                u32::from(u.index) < regs(p)
            } else {
                usize::from(u.index) < p.upvalues.len()
            };
            if !ok {
                return Err(format!("function {} upvalue {} out of range", i, j));
            }
        }
        verify_at(c, depth + 1).map_err(|e| format!("function {}: {}", i, e))?;
    }
    Ok(())
}

/// The registers a frame of `p` has (the VM gives every frame at least 2).
fn regs(p: &Proto) -> u32 {
    u32::from(p.max_stack.max(2))
}

/// Does the instruction leave its results up to the stack top (for the next instruction)?
fn is_open_producer(i: Instr) -> bool {
    match i.op() {
        OpCode::Call | OpCode::Vararg => i.c() == 0,
        OpCode::TailCall => true,
        _ => false,
    }
}

/// Does the instruction take its operands up to the stack top?
fn is_open_consumer(i: Instr) -> bool {
    matches!(
        i.op(),
        OpCode::Call | OpCode::TailCall | OpCode::Return | OpCode::SetList
    ) && i.b() == 0
}

fn verify_proto(p: &Proto) -> Result<(), String> {
    let n = p.code.len();
    let nregs = regs(p);
    let nk = p.constants.len();
    let nup = p.upvalues.len();
    if n == 0 {
        return Err("empty code".into());
    }
    if u32::from(p.num_params) > nregs {
        return Err("more parameters than registers".into());
    }
    if nregs > MAX_REGS {
        return Err("too many registers".into());
    }
    if nup > MAX_UPVALUES {
        return Err("too many upvalues".into());
    }
    if !p.line_info.is_empty() && p.line_info.len() != n {
        return Err("line info does not match the code".into());
    }
    // A frame with variables that may need closing (captured locals, to-be-closed variables)
    // must return through RETURN with k (the interpreter closes nothing otherwise).
    let needclose = p
        .protos
        .iter()
        .any(|c| c.upvalues.iter().any(|u| u.in_stack))
        || p.code
            .iter()
            .any(|i| matches!(i.op_checked(), Some(OpCode::Tbc | OpCode::TForPrep)));
    // Bound on the sizes a constructor may ask for (each SETLIST stores at most
    // FIELDS_PER_FLUSH items, each hash field needs an instruction): a chunk must not
    // allocate far beyond its own size.
    let max_items = (n as u64) * u64::from(FIELDS_PER_FLUSH);
    // Branch targets (any successor but the next instruction of a plain fall-through).
    let mut target = vec![false; n + 2];
    for pc in 0..n {
        let i = p.code[pc];
        let Some(op) = i.op_checked() else {
            return Err(format!("unknown opcode at {}", pc));
        };
        let err = |what: &str| Err(format!("{} at {} ({:?})", what, pc, i));
        let reg = |r: u32| r < nregs;
        let kst = |k: u32| (k as usize) < nk;
        let upv = |u: u32| (u as usize) < nup;
        let rk = |c: u32| if i.k() { kst(c) } else { reg(c) };
        let (a, b, c) = (i.a(), i.b(), i.c());
        // Whether control may go on to pc+1, and any other successor.
        let mut falls = true;
        let mut jump: Option<i64> = None;
        let next = p.code.get(pc + 1).copied();
        let next_is_extra = next.is_some_and(|x| x.op_checked() == Some(OpCode::ExtraArg));
        let ok = match op {
            OpCode::Move | OpCode::Unm | OpCode::BNot | OpCode::Not | OpCode::Len => {
                reg(a) && reg(b)
            }
            OpCode::LoadI
            | OpCode::LoadF
            | OpCode::LoadFalse
            | OpCode::LoadTrue
            | OpCode::Tbc
            | OpCode::Close
            | OpCode::Test
            | OpCode::EqI
            | OpCode::LtI
            | OpCode::LeI
            | OpCode::GtI
            | OpCode::GeI
            | OpCode::Return1 => reg(a),
            OpCode::LoadK => reg(a) && kst(i.bx()),
            OpCode::LoadKX => {
                if !next_is_extra {
                    return err("LOADKX without EXTRAARG");
                }
                jump = Some(pc as i64 + 2);
                falls = false;
                reg(a) && next.is_some_and(|x| kst(x.ax()))
            }
            OpCode::LFalseSkip => {
                jump = Some(pc as i64 + 2);
                falls = false;
                reg(a)
            }
            OpCode::LoadNil => reg(a + b),
            OpCode::GetUpval | OpCode::SetUpval => reg(a) && upv(b),
            OpCode::GetTabUp => reg(a) && upv(b) && kst(c),
            OpCode::GetTable => reg(a) && reg(b) && reg(c),
            OpCode::GetI => reg(a) && reg(b),
            OpCode::GetField => reg(a) && reg(b) && kst(c),
            OpCode::SetTabUp => upv(a) && kst(b) && rk(c),
            OpCode::SetTable => reg(a) && reg(b) && rk(c),
            OpCode::SetI => reg(a) && rk(c),
            OpCode::SetField => reg(a) && kst(b) && rk(c),
            OpCode::NewTable => {
                // Always followed by EXTRAARG, which the VM skips.
                let Some(x) = next.filter(|_| next_is_extra) else {
                    return err("NEWTABLE without EXTRAARG");
                };
                jump = Some(pc as i64 + 2);
                falls = false;
                let asize = u64::from(c) + if i.k() { u64::from(x.ax()) * 256 } else { 0 };
                let hsize_ok = b == 0 || (b - 1 < 32 && (1u64 << (b - 1)) <= 2 * n as u64);
                if asize > max_items || !hsize_ok {
                    return err("table size out of range");
                }
                reg(a)
            }
            OpCode::SelfOp => reg(a + 1) && reg(b) && rk(c),
            OpCode::AddI | OpCode::ShrI | OpCode::ShlI => reg(a) && reg(b),
            OpCode::AddK
            | OpCode::SubK
            | OpCode::MulK
            | OpCode::ModK
            | OpCode::PowK
            | OpCode::DivK
            | OpCode::IDivK
            | OpCode::BAndK
            | OpCode::BOrK
            | OpCode::BXorK => reg(a) && reg(b) && kst(c),
            OpCode::Add
            | OpCode::Sub
            | OpCode::Mul
            | OpCode::Mod
            | OpCode::Pow
            | OpCode::Div
            | OpCode::IDiv
            | OpCode::BAnd
            | OpCode::BOr
            | OpCode::BXor
            | OpCode::Shl
            | OpCode::Shr => reg(a) && reg(b) && reg(c),
            OpCode::Concat => b >= 2 && reg(a + b - 1),
            OpCode::Jmp => {
                falls = false;
                jump = Some(pc as i64 + 1 + i64::from(i.sj()));
                true
            }
            OpCode::Eq | OpCode::Lt | OpCode::Le | OpCode::TestSet => {
                jump = Some(pc as i64 + 2);
                reg(a) && reg(b)
            }
            OpCode::EqK => {
                jump = Some(pc as i64 + 2);
                reg(a) && kst(b)
            }
            OpCode::Call => reg(a) && (b == 0 || reg(a + b - 1)) && (c < 2 || reg(a + c - 2)),
            OpCode::TailCall => reg(a) && (b == 0 || reg(a + b - 1)),
            OpCode::Return => {
                falls = false;
                if needclose && !i.k() {
                    return err("RETURN without k in a function that must close variables");
                }
                match b {
                    0 | 1 => a <= nregs,
                    _ => reg(a + b - 2),
                }
            }
            OpCode::Return0 => true,
            OpCode::ForLoop | OpCode::TForLoop => {
                jump = Some(pc as i64 + 1 - i64::from(i.bx()));
                reg(a + if op == OpCode::ForLoop { 3 } else { 4 })
            }
            OpCode::ForPrep => {
                jump = Some(pc as i64 + 2 + i64::from(i.bx()));
                reg(a + 3)
            }
            OpCode::TForPrep => {
                falls = false;
                jump = Some(pc as i64 + 1 + i64::from(i.bx()));
                reg(a + 3)
            }
            OpCode::TForCall => reg(a + 6) && reg(a + 3 + c),
            OpCode::SetList => {
                let mut last = u64::from(c);
                if i.k() {
                    let Some(x) = next.filter(|_| next_is_extra) else {
                        return err("SETLIST without EXTRAARG");
                    };
                    last += u64::from(x.ax()) * 256;
                    jump = Some(pc as i64 + 2);
                    falls = false;
                }
                if last > max_items {
                    return err("list index out of range");
                }
                reg(a) && (b == 0 || reg(a + b))
            }
            OpCode::Closure => reg(a) && (i.bx() as usize) < p.protos.len(),
            OpCode::Vararg => p.is_vararg && reg(a) && (c < 2 || reg(a + c - 2)),
            OpCode::VarargPrep => true,
            OpCode::ExtraArg => {
                // Only as the argument of the instruction before it.
                let prev = if pc > 0 { Some(p.code[pc - 1]) } else { None };
                let paired = prev.is_some_and(|x| match x.op_checked() {
                    Some(OpCode::LoadKX | OpCode::NewTable) => true,
                    Some(OpCode::SetList) => x.k(),
                    _ => false,
                });
                if !paired {
                    return err("EXTRAARG without its instruction");
                }
                true
            }
        };
        if !ok {
            return err("operand out of range");
        }
        match op {
            OpCode::Return0 | OpCode::Return1 => {
                falls = false;
                if needclose {
                    return err("RETURN0/RETURN1 in a function that must close variables");
                }
            }
            // Tests skip the next instruction (the jump that follows them) or not.
            OpCode::Test | OpCode::EqI | OpCode::LtI | OpCode::LeI | OpCode::GtI | OpCode::GeI => {
                jump = Some(pc as i64 + 2)
            }
            _ => {}
        }
        if falls && pc + 1 >= n {
            return err("control falls off the end of the code");
        }
        if let Some(t) = jump {
            if t < 0 || t >= n as i64 {
                return err("jump out of the code");
            }
            target[t as usize] = true;
        }
        // Results left up to the top are taken by the very next instruction, whose
        // registers start below them, and only there.
        if is_open_producer(i) {
            let Some(x) = next.filter(|x| is_open_consumer(*x)) else {
                return err("open results not used by the next instruction");
            };
            let first = match x.op() {
                OpCode::Return => x.a(),
                _ => x.a() + 1,
            };
            if first > a {
                return err("open results below the next instruction's registers");
            }
        }
        if is_open_consumer(i) && (pc == 0 || !is_open_producer(p.code[pc - 1])) {
            return err("open operands without a preceding open result");
        }
    }
    // A multiple-results hand-over is never entered by a jump.
    for (pc, (&t, &i)) in target.iter().zip(p.code.iter()).enumerate().skip(1) {
        if t && is_open_consumer(i) {
            return Err(format!("jump into an open call at {}", pc));
        }
    }
    // Local variables name registers by rank: never more active at once than registers
    // (the debug library turns a rank into a stack slot).
    let mut events: Vec<(u32, i32)> = Vec::with_capacity(p.locvars.len() * 2);
    for (j, v) in p.locvars.iter().enumerate() {
        if v.start_pc > v.end_pc || v.end_pc as usize > n {
            return Err(format!("local variable {} has an invalid range", j));
        }
        events.push((v.start_pc, 1));
        events.push((v.end_pc, -1));
    }
    events.sort_unstable_by_key(|&(pc, d)| (pc, d));
    let mut live = 0i64;
    for (_, d) in events {
        live += i64::from(d);
        if live > i64::from(nregs) {
            return Err("more active local variables than registers".into());
        }
    }
    Ok(())
}

/// Checked decoding for the verifier (the interpreter's `decode_op` trusts the opcode).
trait OpChecked {
    fn op_checked(self) -> Option<OpCode>;
}

impl OpChecked for Instr {
    fn op_checked(self) -> Option<OpCode> {
        OpCode::ALL.get((self.0 & 0x7f) as usize).copied()
    }
}

//! Per-function state: the instruction buffer with its line table, the constant table with
//! deduplication, register allocation and jump lists.
//!
//! Invariants (those of PUC Lua's FuncState): registers below `free_reg` are in use, the
//! active locals occupy the lowest ones (`nvarstack`), and temporaries are freed in stack
//! order. A jump list is threaded through the sJ fields of its `JMP` instructions, ending
//! with [`NO_JUMP`]; a conditional jump is a test instruction followed by its `JMP`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::CompileError;
use crate::opcode::{Instr, OpCode, MAX_A, MAX_AX, MAX_BX, MAX_C, MAX_REGS, OFFSET_SBX, OFFSET_SJ};
use crate::proto::{Constant, Proto};
use crate::strings::{Strings, Sym};

use super::expr::EK;

/// A hash map for the compiler's small keys (symbols, constant bit patterns, names):
/// foldhash mixes every bit of the key, so float constants whose low mantissa bits are all
/// zero (`0.5`, `1.5`, ...) spread like any others (a bare multiply put them all in a few
/// buckets: compiling 300,000 of them was quadratic). Fixed seed: compiles are
/// deterministic.
pub(crate) type IntMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

pub(crate) type R<T> = Result<T, CgErr>;

/// A compile error inside the code generator, boxed so that the `Result`s of the hot
/// helpers stay small (returned in registers rather than through memory).
#[derive(Debug)]
pub(crate) struct CgErr(pub Box<CompileError>);

impl CgErr {
    /// `"<chunkid>:<line>: <msg>"`, as [`CompileError::new`].
    pub fn new(chunk_name: &str, line: u32, msg: impl std::fmt::Display) -> CgErr {
        CgErr(Box::new(CompileError::new(chunk_name, line, msg)))
    }
}

impl From<CompileError> for CgErr {
    fn from(e: CompileError) -> CgErr {
        CgErr(Box::new(e))
    }
}

/// The end of a jump list.
pub(crate) const NO_JUMP: i32 = -1;
/// "No register" for `patch_test_reg`.
pub(crate) const NO_REG: u32 = MAX_A;
/// Largest constant index usable as an RK operand (it must fit in B or C).
pub(crate) const MAX_INDEX_RK: u32 = MAX_C;
/// Lua's `LUAI_MAXSHORTLEN`: the longest string that is a short (interned) string.
pub(crate) const MAX_SHORT_LEN: usize = 40;
/// Lua's `MAXVARS`.
pub(crate) const MAX_VARS: usize = 200;
/// Lua's `MAXUPVAL`.
pub(crate) const MAX_UPVAL: usize = 255;

/// Key of the constant cache: floats by bit pattern, so `1` and `1.0`, `0.0` and `-0.0`
/// are distinct constants.
#[derive(Hash, PartialEq, Eq)]
enum KKey {
    Nil,
    Bool(bool),
    Int(i64),
    Float(u64),
}

/// What a declared local is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VarKindD {
    Regular,
    Const,
    Close,
    /// A `<const>` whose value is known at compile time: it has no register.
    CompileTimeConst,
    /// A module's top-level local (module mode): upvalue `n` of the main function, no
    /// register.
    Module(u32),
}

impl VarKindD {
    /// True for kinds that occupy a register.
    pub fn in_register(self) -> bool {
        !matches!(self, VarKindD::CompileTimeConst | VarKindD::Module(_))
    }
}

/// A declared local variable (active or pending activation).
#[derive(Debug, Clone)]
pub(crate) struct VarDesc {
    pub name: Sym,
    pub kind: VarKindD,
    /// Its register (meaningless for compile-time constants).
    pub ridx: u32,
    /// Its index in `Proto::locvars` (meaningless for compile-time constants).
    pub pidx: usize,
    /// The value of a compile-time constant (a constant descriptor).
    pub k: Option<EK>,
    /// Declaration identity (see `LocVar`).
    pub scope_path: Box<[u16]>,
    pub shadow: u16,
    /// Its `UpvalDesc::decl`, made the first time a closure captures it (every capture
    /// shares the text).
    pub decl: std::cell::OnceCell<std::sync::Arc<str>>,
}

/// A block being compiled (PUC's BlockCnt).
#[derive(Debug)]
pub(crate) struct BlockCnt {
    pub first_label: usize,
    pub first_goto: usize,
    /// Active variables outside the block.
    pub nactvar: u32,
    /// Some variable of the block is captured (or to be closed): leaving needs `CLOSE`.
    pub upval: bool,
    pub is_loop: bool,
    /// Inside the scope of a to-be-closed variable (no tail calls).
    pub inside_tbc: bool,
}

/// A syntactic block for declaration identities.
#[derive(Debug, Default)]
pub(crate) struct PathScope {
    pub children: u16,
    /// Where this block's declarations start in [`FuncState::declared`].
    pub first_decl: usize,
}

pub(crate) struct FuncState {
    pub f: Proto,
    kcache: IntMap<KKey, u32>,
    /// String constants by their chunk string.
    scache: IntMap<Sym, u32>,
    /// The names of `f.upvalues`, for resolution by integer compare.
    pub upval_syms: Vec<Sym>,
    /// Declared variables: the first `nactvar` are active, the rest pending.
    pub actvar: Vec<VarDesc>,
    pub nactvar: u32,
    pub free_reg: u32,
    /// The last pc that is a jump target (no peephole merge across it).
    pub last_target: usize,
    pub needclose: bool,
    pub blocks: Vec<BlockCnt>,
    /// First entry of this function in the shared label list.
    pub first_label: usize,
    /// The line given to emitted instructions.
    pub line: u32,
    /// The line luac reports for a goto left unresolved at the end of the function (the
    /// token after its `end`).
    pub end_err_line: u32,
    /// Path of the current syntactic block and the scopes along it.
    pub path: Vec<u16>,
    pub scopes: Vec<PathScope>,
    /// The names declared in the open syntactic blocks, innermost last (each block's run
    /// starts at its `first_decl`), to count shadowed declarations.
    pub declared: Vec<Sym>,
    /// The function's identity: the path of declaration names from the main function
    /// (empty for it), joined by `/`.
    pub fn_path: Arc<str>,
    /// How many children of each name this function has defined so far (for `#k`).
    pub child_names: IntMap<Arc<str>, u32>,
    /// Anonymous children defined so far (for `@n`).
    pub anon_children: u32,
}

impl FuncState {
    pub fn new(source: Arc<str>, line_defined: u32, first_label: usize) -> FuncState {
        FuncState {
            f: Proto {
                source,
                line_defined,
                max_stack: 2,
                ..Proto::default()
            },
            kcache: IntMap::default(),
            scache: IntMap::default(),
            upval_syms: Vec::new(),
            actvar: Vec::new(),
            nactvar: 0,
            free_reg: 0,
            last_target: 0,
            needclose: false,
            blocks: Vec::new(),
            first_label,
            line: line_defined,
            end_err_line: line_defined,
            path: Vec::new(),
            scopes: vec![PathScope::default()],
            declared: Vec::new(),
            fn_path: Arc::from(""),
            child_names: IntMap::default(),
            anon_children: 0,
        }
    }

    /// Makes a used state ready for a new function, keeping its buffers' capacity.
    pub fn reset(&mut self, source: Arc<str>, line_defined: u32, first_label: usize) {
        let f = &mut self.f;
        f.source = source;
        f.line_defined = line_defined;
        f.last_line_defined = 0;
        f.num_params = 0;
        f.is_vararg = false;
        f.max_stack = 2;
        f.code.clear();
        f.constants.clear();
        f.upvalues.clear();
        f.protos.clear();
        f.line_info.clear();
        f.locvars.clear();
        self.kcache.clear();
        self.scache.clear();
        self.upval_syms.clear();
        self.actvar.clear();
        self.nactvar = 0;
        self.free_reg = 0;
        self.last_target = 0;
        self.needclose = false;
        self.blocks.clear();
        self.first_label = first_label;
        self.line = line_defined;
        self.end_err_line = line_defined;
        self.path.clear();
        self.scopes.clear();
        self.scopes.push(PathScope::default());
        self.declared.clear();
        self.f.name = Arc::from("");
        self.f.module = false;
        self.fn_path = Arc::from("");
        self.child_names.clear();
        self.anon_children = 0;
    }

    /// The finished prototype, its buffers moved into exactly sized ones (the state's
    /// buffers stay, empty, for the next function).
    pub fn take_proto(&mut self) -> Proto {
        let f = &mut self.f;
        Proto {
            source: f.source.clone(),
            name: f.name.clone(),
            module: f.module,
            source_hash: f.source_hash,
            line_defined: f.line_defined,
            last_line_defined: f.last_line_defined,
            num_params: f.num_params,
            is_vararg: f.is_vararg,
            max_stack: f.max_stack,
            code: take_exact(&mut f.code),
            constants: take_exact(&mut f.constants),
            upvalues: take_exact(&mut f.upvalues),
            protos: take_exact(&mut f.protos),
            line_info: take_exact(&mut f.line_info),
            locvars: take_exact(&mut f.locvars),
        }
    }

    pub fn err(&self, msg: impl std::fmt::Display) -> CgErr {
        CgErr::new(&self.f.source, self.line, msg)
    }

    pub fn pc(&self) -> usize {
        self.f.code.len()
    }

    // ---- emission ----

    pub fn emit(&mut self, i: Instr) -> usize {
        self.f.code.push(i);
        self.f.line_info.push(self.line);
        self.f.code.len() - 1
    }
    pub fn code_abck(&mut self, op: OpCode, a: u32, b: u32, c: u32, k: bool) -> usize {
        self.emit(Instr::abc(op, a, b, c, k))
    }
    pub fn code_abc(&mut self, op: OpCode, a: u32, b: u32, c: u32) -> usize {
        self.code_abck(op, a, b, c, false)
    }
    pub fn code_abx(&mut self, op: OpCode, a: u32, bx: u32) -> usize {
        self.emit(Instr::abx(op, a, bx))
    }
    pub fn code_asbx(&mut self, op: OpCode, a: u32, sbx: i32) -> usize {
        self.emit(Instr::asbx(op, a, sbx))
    }
    pub fn code_extraarg(&mut self, ax: u32) -> usize {
        self.emit(Instr::ax_(OpCode::ExtraArg, ax & MAX_AX))
    }
    /// Gives the last instruction the line `line` (PUC's `luaK_fixline`).
    pub fn fix_line(&mut self, line: u32) {
        if let Some(l) = self.f.line_info.last_mut() {
            *l = line;
        }
    }
    pub fn remove_last_instruction(&mut self) {
        self.f.code.pop();
        self.f.line_info.pop();
    }
    /// The previous instruction, when it is not a jump target (for peephole merges).
    pub fn previous_instruction(&mut self) -> Option<&mut Instr> {
        if self.pc() > self.last_target && self.pc() > 0 {
            self.f.code.last_mut()
        } else {
            None
        }
    }

    /// `LOADNIL from..from+n-1`, merged with a previous adjacent `LOADNIL`.
    pub fn nil(&mut self, from: u32, n: u32) {
        let l = from + n - 1;
        if let Some(prev) = self.previous_instruction() {
            if prev.op() == OpCode::LoadNil {
                let pfrom = prev.a();
                let pl = pfrom + prev.b();
                if (pfrom <= from && from <= pl + 1) || (from <= pfrom && pfrom <= l + 1) {
                    let nf = pfrom.min(from);
                    let nl = pl.max(l);
                    prev.set_a(nf);
                    prev.set_b(nl - nf);
                    return;
                }
            }
        }
        self.code_abc(OpCode::LoadNil, from, n - 1, 0);
    }

    // ---- jumps ----

    fn get_jump(&self, pc: usize) -> i32 {
        let off = self.f.code[pc].sj();
        if off == NO_JUMP {
            NO_JUMP
        } else {
            pc as i32 + 1 + off
        }
    }
    pub fn fix_jump(&mut self, pc: usize, dest: usize) -> R<()> {
        let off = dest as i64 - (pc as i64 + 1);
        if off < -(OFFSET_SJ as i64) || off > (MAX_AX as i64 - OFFSET_SJ as i64) {
            return Err(self.err("control structure too long"));
        }
        self.f.code[pc].set_sj(off as i32);
        Ok(())
    }
    /// Joins list `l2` to list `l1`. A list is a set (every jump gets the same target), so
    /// `l2` is walked and put in front: `l2` is the short one in chains such as
    /// `a and b and c ...`, keeping them linear.
    pub fn concat(&mut self, l1: &mut i32, l2: i32) -> R<()> {
        if l2 == NO_JUMP {
            return Ok(());
        }
        if *l1 == NO_JUMP {
            *l1 = l2;
            return Ok(());
        }
        let mut last = l2 as usize;
        loop {
            let next = self.get_jump(last);
            if next == NO_JUMP {
                break;
            }
            last = next as usize;
        }
        self.fix_jump(last, *l1 as usize)?;
        *l1 = l2;
        Ok(())
    }
    pub fn jump(&mut self) -> i32 {
        self.emit(Instr::sj_(OpCode::Jmp, NO_JUMP)) as i32
    }
    /// `RETURN`, `RETURN0` or `RETURN1` (finished by [`FuncState::finish`]).
    pub fn ret(&mut self, first: u32, nret: i32) {
        let op = match nret {
            0 => OpCode::Return0,
            1 => OpCode::Return1,
            _ => OpCode::Return,
        };
        self.code_abc(op, first, (nret + 1) as u32, 0);
    }
    pub fn cond_jump(&mut self, op: OpCode, a: u32, b: u32, c: u32, k: bool) -> i32 {
        self.code_abck(op, a, b, c, k);
        self.jump()
    }
    /// Marks the current pc as a jump target and returns it.
    pub fn get_label(&mut self) -> usize {
        self.last_target = self.pc();
        self.pc()
    }
    /// The instruction controlling the jump at `pc` (its test, if it is conditional).
    pub fn jump_control(&self, pc: usize) -> usize {
        if pc >= 1 && is_test(self.f.code[pc - 1].op()) {
            pc - 1
        } else {
            pc
        }
    }
    /// Makes the `TESTSET` controlling `node` store into `reg`, or turns it into a `TEST`
    /// when there is no register (or it would store into its own source). False when the
    /// jump is not controlled by a `TESTSET`.
    fn patch_test_reg(&mut self, node: usize, reg: u32) -> bool {
        let pc = self.jump_control(node);
        let i = self.f.code[pc];
        if i.op() != OpCode::TestSet {
            return false;
        }
        if reg != NO_REG && reg != i.b() {
            self.f.code[pc].set_a(reg);
        } else {
            self.f.code[pc] = Instr::abc(OpCode::Test, i.b(), 0, 0, i.k());
        }
        true
    }
    pub fn remove_values(&mut self, mut list: i32) {
        while list != NO_JUMP {
            self.patch_test_reg(list as usize, NO_REG);
            list = self.get_jump(list as usize);
        }
    }
    pub fn patch_list_aux(
        &mut self,
        mut list: i32,
        vtarget: usize,
        reg: u32,
        dtarget: usize,
    ) -> R<()> {
        while list != NO_JUMP {
            let next = self.get_jump(list as usize);
            if self.patch_test_reg(list as usize, reg) {
                self.fix_jump(list as usize, vtarget)?;
            } else {
                self.fix_jump(list as usize, dtarget)?;
            }
            list = next;
        }
        Ok(())
    }
    pub fn patch_list(&mut self, list: i32, target: usize) -> R<()> {
        self.patch_list_aux(list, target, NO_REG, target)
    }
    pub fn patch_to_here(&mut self, list: i32) -> R<()> {
        let here = self.get_label();
        self.patch_list(list, here)
    }
    /// True when some jump of the list does not produce a value (is not a `TESTSET`).
    pub fn need_value(&self, mut list: i32) -> bool {
        while list != NO_JUMP {
            let pc = self.jump_control(list as usize);
            if self.f.code[pc].op() != OpCode::TestSet {
                return true;
            }
            list = self.get_jump(list as usize);
        }
        false
    }

    // ---- registers ----

    /// Number of registers holding active locals (PUC's `luaY_nvarstack`).
    pub fn nvarstack(&self) -> u32 {
        self.reg_level(self.nactvar)
    }
    /// The register level of the first `nvar` active variables.
    pub fn reg_level(&self, nvar: u32) -> u32 {
        let mut i = nvar as usize;
        while i > 0 {
            i -= 1;
            let v = &self.actvar[i];
            if v.kind.in_register() {
                return v.ridx + 1;
            }
        }
        0
    }
    pub fn check_stack(&mut self, n: u32) -> R<()> {
        let newstack = self.free_reg + n;
        if newstack > self.f.max_stack as u32 {
            if newstack >= MAX_REGS {
                return Err(self.err("function or expression needs too many registers"));
            }
            self.f.max_stack = newstack as u8;
        }
        Ok(())
    }
    pub fn reserve_regs(&mut self, n: u32) -> R<()> {
        self.check_stack(n)?;
        self.free_reg += n;
        Ok(())
    }
    /// Frees `reg` if it is a temporary (it must then be the top one).
    pub fn free_reg(&mut self, reg: u32) {
        if reg >= self.nvarstack() {
            self.free_reg -= 1;
            debug_assert_eq!(reg, self.free_reg);
        }
    }
    /// Frees two registers in stack order.
    pub fn free_regs(&mut self, r1: u32, r2: u32) {
        if r1 > r2 {
            self.free_reg(r1);
            self.free_reg(r2);
        } else {
            self.free_reg(r2);
            self.free_reg(r1);
        }
    }

    // ---- constants ----

    fn add_k(&mut self, key: KKey, value: Constant) -> u32 {
        if let Some(&i) = self.kcache.get(&key) {
            return i;
        }
        let i = self.f.constants.len() as u32;
        self.f.constants.push(value);
        self.kcache.insert(key, i);
        i
    }
    /// The constant index of the chunk string `s` (`strings` holds its text).
    pub fn string_k(&mut self, s: Sym, strings: &Strings) -> u32 {
        if let Some(&i) = self.scache.get(&s) {
            return i;
        }
        let i = self.f.constants.len() as u32;
        self.f.constants.push(Constant::Str(strings.get(s).into()));
        self.scache.insert(s, i);
        i
    }
    pub fn int_k(&mut self, i: i64) -> u32 {
        self.add_k(KKey::Int(i), Constant::Int(i))
    }
    pub fn number_k(&mut self, f: f64) -> u32 {
        let bits = if f.is_nan() {
            f64::NAN.to_bits()
        } else {
            f.to_bits()
        };
        self.add_k(KKey::Float(bits), Constant::Float(f))
    }
    pub fn bool_k(&mut self, b: bool) -> u32 {
        self.add_k(KKey::Bool(b), Constant::Bool(b))
    }
    pub fn nil_k(&mut self) -> u32 {
        self.add_k(KKey::Nil, Constant::Nil)
    }
    /// Loads constant `k` into `reg` (`LOADK`, or `LOADKX` beyond Bx's range).
    pub fn code_k(&mut self, reg: u32, k: u32) -> usize {
        if k <= MAX_BX {
            self.code_abx(OpCode::LoadK, reg, k)
        } else {
            let p = self.code_abx(OpCode::LoadKX, reg, 0);
            self.code_extraarg(k);
            p
        }
    }
    pub fn load_int(&mut self, reg: u32, i: i64) {
        if fits_bx(i) {
            self.code_asbx(OpCode::LoadI, reg, i as i32);
        } else {
            let k = self.int_k(i);
            self.code_k(reg, k);
        }
    }
    pub fn load_float(&mut self, reg: u32, f: f64) {
        match super::fold::float_to_int(f) {
            // -0.0 has an integer value but LOADF would lose its sign.
            Some(i) if fits_bx(i) && !(f == 0.0 && f.is_sign_negative()) => {
                self.code_asbx(OpCode::LoadF, reg, i as i32);
            }
            _ => {
                let k = self.number_k(f);
                self.code_k(reg, k);
            }
        }
    }
    pub fn is_short_str_k(&self, k: u32) -> bool {
        matches!(self.f.constants.get(k as usize), Some(Constant::Str(s)) if s.len() <= MAX_SHORT_LEN)
    }

    /// Final pass (PUC's `luaK_finish`): returns get their close/vararg flags and jumps
    /// to jumps are short-circuited to their final target.
    pub fn finish(&mut self) -> R<()> {
        if self.f.constants.len() > MAX_AX as usize + 1 {
            // A memory-limit error in luac: no position.
            return Err(CompileError {
                message: format!("too many constants (limit is {})", MAX_AX),
            }
            .into());
        }
        let needclose = self.needclose;
        let vararg = self.f.is_vararg;
        let nparams = self.f.num_params as u32;
        for pc in 0..self.f.code.len() {
            let i = self.f.code[pc];
            match i.op() {
                OpCode::Return0 | OpCode::Return1 | OpCode::Return | OpCode::TailCall => {
                    if matches!(i.op(), OpCode::Return0 | OpCode::Return1) && !(needclose || vararg)
                    {
                        continue;
                    }
                    let op = if i.op() == OpCode::TailCall {
                        OpCode::TailCall
                    } else {
                        OpCode::Return
                    };
                    let c = if vararg { nparams + 1 } else { i.c() };
                    self.f.code[pc] = Instr::abc(op, i.a(), i.b(), c, needclose || i.k());
                }
                OpCode::Jmp => {
                    let target = self.final_target(pc);
                    self.fix_jump(pc, target)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
    fn final_target(&self, mut i: usize) -> usize {
        for _ in 0..100 {
            let Some(&ins) = self.f.code.get(i) else {
                break;
            };
            if ins.op() != OpCode::Jmp {
                break;
            }
            i = (i as i64 + 1 + ins.sj() as i64) as usize;
        }
        i
    }
}

/// Moves the elements of `v` into a new exactly sized Vec (one block copy), leaving `v`
/// empty with its capacity.
fn take_exact<T>(v: &mut Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(v.len());
    out.append(v);
    out
}

/// Opcodes that are tests (followed by their jump).
pub(crate) fn is_test(op: OpCode) -> bool {
    use OpCode::*;
    matches!(
        op,
        Eq | Lt | Le | EqK | EqI | LtI | LeI | GtI | GeI | Test | TestSet
    )
}

/// Whether `i` fits the signed Bx field.
pub(crate) fn fits_bx(i: i64) -> bool {
    -(OFFSET_SBX as i64) <= i && i <= MAX_BX as i64 - OFFSET_SBX as i64
}

/// Whether `i` fits a signed 8-bit immediate (sB, sC).
pub(crate) fn fits_c(i: i64) -> bool {
    use crate::opcode::OFFSET_SC;
    -(OFFSET_SC as i64) <= i && i <= MAX_C as i64 - OFFSET_SC as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> FuncState {
        FuncState::new(Arc::from("=t"), 0, 0)
    }

    #[test]
    fn loadnil_merges_adjacent_ranges() {
        let mut f = fs();
        f.nil(0, 2);
        f.nil(2, 1);
        f.nil(1, 3);
        assert_eq!(f.f.code.len(), 1);
        assert_eq!((f.f.code[0].a(), f.f.code[0].b()), (0, 3));
        // not across a jump target
        f.get_label();
        f.nil(4, 1);
        assert_eq!(f.f.code.len(), 2);
        // not when disjoint
        f.nil(7, 1);
        assert_eq!(f.f.code.len(), 3);
    }

    #[test]
    fn jump_lists_join_and_patch() {
        let mut f = fs();
        let mut l = NO_JUMP;
        let j1 = f.jump();
        let j2 = f.jump();
        let j3 = f.jump();
        f.concat(&mut l, j1).unwrap();
        f.concat(&mut l, j2).unwrap();
        let mut l2 = j3;
        f.concat(&mut l2, l).unwrap();
        f.code_abc(OpCode::Move, 0, 1, 0);
        f.patch_to_here(l2).unwrap();
        for pc in [j1, j2, j3] {
            let pc = pc as usize;
            assert_eq!(pc as i32 + 1 + f.f.code[pc].sj(), 4, "jump at {}", pc);
        }
        assert_eq!(f.last_target, 4);
    }

    #[test]
    fn testset_becomes_test_without_a_register() {
        let mut f = fs();
        let j = f.cond_jump(OpCode::TestSet, NO_REG, 3, 0, true);
        assert!(!f.need_value(j));
        f.remove_values(j);
        let i = f.f.code[0];
        assert_eq!((i.op(), i.a(), i.k()), (OpCode::Test, 3, true));
        assert!(f.need_value(j));
    }

    #[test]
    fn immediate_ranges() {
        assert!(fits_bx(65536) && !fits_bx(65537) && fits_bx(-65535) && !fits_bx(-65536));
        assert!(fits_c(128) && !fits_c(129) && fits_c(-127) && !fits_c(-128));
    }

    #[test]
    fn constants_keep_number_subtypes_and_zero_signs() {
        let mut f = fs();
        let a = f.int_k(1);
        let b = f.number_k(1.0);
        let c = f.number_k(0.0);
        let d = f.number_k(-0.0);
        let e = f.number_k(f64::NAN);
        let g = f.number_k(-f64::NAN);
        let mut strings = Strings::new();
        let one = strings.intern(b"1");
        let h = f.string_k(one, &strings);
        assert_eq!([a, b, c, d, e, g, h], [0, 1, 2, 3, 4, 4, 5]);
        assert_eq!(f.int_k(1), 0);
        assert_eq!(f.bool_k(true), 6);
        assert_eq!(f.nil_k(), 7);
        // -0.0 is loaded through the constant table, keeping its sign
        f.load_float(0, -0.0);
        assert_eq!(f.f.code.last().map(|i| i.op()), Some(OpCode::LoadK));
        f.load_float(0, 3.0);
        assert_eq!(
            f.f.code.last().map(|i| (i.op(), i.sbx())),
            Some((OpCode::LoadF, 3))
        );
    }

    #[test]
    fn register_limit() {
        let mut f = fs();
        assert!(f.reserve_regs(254).is_ok());
        assert_eq!(f.f.max_stack, 254);
        let e = f.reserve_regs(1).unwrap_err();
        assert_eq!(
            e.0.message,
            "t:0: function or expression needs too many registers"
        );
    }
}

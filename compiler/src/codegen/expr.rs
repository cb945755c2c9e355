//! Expression descriptors and their discharge into registers, operators (with constant
//! folding and immediate operands), and the compilation of expression nodes.
//!
//! An [`ExpDesc`] describes a value not yet materialised (PUC's expdesc): a constant, a
//! variable, an indexing, an instruction whose target register is still open (`Reloc`), a
//! call or vararg whose result count is still open, or a comparison jump. `t` and `f` are
//! the jump lists taken when the expression is true or false. Left-associative chains (binary
//! operators, suffixes) are walked iteratively, because their length is unbounded.

use crate::ast::{BinOp, Expr, ExprKind, Field, UnOp};
use crate::opcode::{Instr, OpCode, FIELDS_PER_FLUSH, MAX_B, MAX_C, OFFSET_SC};
use crate::strings::{Strings, Sym};
use smallvec::SmallVec;

/// The range of the C field: larger list counts spill into an `EXTRAARG`.
const MAX_ARG_C_PLUS_ONE: u32 = MAX_C + 1;

use super::fold::{self, FoldOp, Num};
use super::func::{fits_c, MAX_INDEX_RK, NO_JUMP, NO_REG, R};
use super::Codegen;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EK {
    /// No value (an empty list).
    Void,
    Nil,
    True,
    False,
    /// Constant `K[i]`.
    K(u32),
    KFlt(f64),
    KInt(i64),
    /// A string constant not yet in the constant table (a chunk string).
    KStr(Sym),
    /// A value in a fixed register.
    NonReloc(u32),
    Local {
        reg: u32,
        vidx: u32,
    },
    Upval(u32),
    /// A compile-time constant local of function `level` (0 is the main function).
    Const {
        level: u32,
        vidx: u32,
    },
    Indexed {
        t: u32,
        idx: u32,
    },
    IndexUp {
        t: u32,
        idx: u32,
    },
    IndexI {
        t: u32,
        idx: u32,
    },
    IndexStr {
        t: u32,
        idx: u32,
    },
    /// A comparison: the pc of its jump.
    Jmp(usize),
    /// An instruction whose A is still to be set.
    Reloc(usize),
    Call(usize),
    Vararg(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExpDesc {
    pub k: EK,
    pub t: i32,
    pub f: i32,
}

impl ExpDesc {
    pub fn new(k: EK) -> ExpDesc {
        ExpDesc {
            k,
            t: NO_JUMP,
            f: NO_JUMP,
        }
    }
    pub fn has_jumps(&self) -> bool {
        self.t != self.f
    }
    pub fn is_multi(&self) -> bool {
        matches!(self.k, EK::Call(_) | EK::Vararg(_))
    }
    /// A numeric literal without jumps.
    pub fn numeral(&self) -> Option<Num> {
        if self.has_jumps() {
            return None;
        }
        match self.k {
            EK::KInt(i) => Some(Num::Int(i)),
            EK::KFlt(f) => Some(Num::Float(f)),
            _ => None,
        }
    }
    /// An integer constant fitting in C (unsigned).
    fn is_cint(&self) -> bool {
        matches!(self.k, EK::KInt(i) if (0..=MAX_C as i64).contains(&i)) && !self.has_jumps()
    }
    /// An integer constant fitting in sC.
    fn is_scint(&self) -> bool {
        matches!(self.k, EK::KInt(i) if fits_c(i)) && !self.has_jumps()
    }
    /// A number with an integral value fitting in sC: (encoded immediate, is float).
    fn sc_number(&self) -> Option<(u32, bool)> {
        if self.has_jumps() {
            return None;
        }
        let (i, isf) = match self.k {
            EK::KInt(i) => (i, false),
            EK::KFlt(f) => (fold::float_to_int(f)?, true),
            _ => return None,
        };
        if fits_c(i) {
            Some(((i + OFFSET_SC as i64) as u32, isf))
        } else {
            None
        }
    }
    fn reg(&self) -> u32 {
        match self.k {
            EK::NonReloc(r) => r,
            _ => NO_REG,
        }
    }
}

fn arith_op(op: BinOp) -> OpCode {
    use BinOp::*;
    match op {
        Add => OpCode::Add,
        Sub => OpCode::Sub,
        Mul => OpCode::Mul,
        Mod => OpCode::Mod,
        Pow => OpCode::Pow,
        Div => OpCode::Div,
        IDiv => OpCode::IDiv,
        BAnd => OpCode::BAnd,
        BOr => OpCode::BOr,
        BXor => OpCode::BXor,
        Shl => OpCode::Shl,
        _ => OpCode::Shr,
    }
}

fn arith_k_op(op: BinOp) -> OpCode {
    use BinOp::*;
    match op {
        Add => OpCode::AddK,
        Sub => OpCode::SubK,
        Mul => OpCode::MulK,
        Mod => OpCode::ModK,
        Pow => OpCode::PowK,
        Div => OpCode::DivK,
        IDiv => OpCode::IDivK,
        BAnd => OpCode::BAndK,
        BOr => OpCode::BOrK,
        _ => OpCode::BXorK,
    }
}

fn is_arith_or_bitwise(op: BinOp) -> bool {
    use BinOp::*;
    matches!(
        op,
        Add | Sub | Mul | Div | IDiv | Mod | Pow | BAnd | BOr | BXor | Shl | Shr
    )
}

impl<'a> Codegen<'a> {
    // ---- discharge ----

    /// Turns variables into values (PUC's `luaK_dischargevars`).
    pub(crate) fn discharge_vars(&mut self, e: &mut ExpDesc) {
        let fs = &mut self.fs;
        e.k = match e.k {
            EK::Const { level, vidx } => self.var_at(level, vidx).k.clone().unwrap_or(EK::Nil),
            EK::Local { reg, .. } => EK::NonReloc(reg),
            EK::Upval(u) => EK::Reloc(fs.code_abc(OpCode::GetUpval, 0, u, 0)),
            EK::IndexUp { t, idx } => EK::Reloc(fs.code_abc(OpCode::GetTabUp, 0, t, idx)),
            EK::IndexI { t, idx } => {
                fs.free_reg(t);
                EK::Reloc(fs.code_abc(OpCode::GetI, 0, t, idx))
            }
            EK::IndexStr { t, idx } => {
                fs.free_reg(t);
                EK::Reloc(fs.code_abc(OpCode::GetField, 0, t, idx))
            }
            EK::Indexed { t, idx } => {
                fs.free_regs(t, idx);
                EK::Reloc(fs.code_abc(OpCode::GetTable, 0, t, idx))
            }
            EK::Call(_) | EK::Vararg(_) => {
                self.set_one_ret(e);
                return;
            }
            _ => return,
        };
    }

    /// A multi-valued expression adjusted to one value.
    pub(crate) fn set_one_ret(&mut self, e: &mut ExpDesc) {
        match e.k {
            EK::Call(pc) => e.k = EK::NonReloc(self.fs.f.code[pc].a()),
            EK::Vararg(pc) => {
                self.fs.f.code[pc].set_c(2);
                e.k = EK::Reloc(pc);
            }
            _ => {}
        }
    }

    /// Adjusts a multi-valued expression to `nresults` values (-1: all).
    pub(crate) fn set_returns(&mut self, e: &mut ExpDesc, nresults: i32) -> R<()> {
        match e.k {
            EK::Call(pc) => self.fs.f.code[pc].set_c((nresults + 1) as u32),
            EK::Vararg(pc) => {
                let fr = self.fs.free_reg;
                let i = &mut self.fs.f.code[pc];
                i.set_c((nresults + 1) as u32);
                i.set_a(fr);
                self.fs.reserve_regs(1)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn str_to_k(&mut self, e: &mut ExpDesc) {
        if let EK::KStr(s) = e.k {
            let k = self.fs.string_k(s, self.strings);
            e.k = EK::K(k);
        }
    }

    fn discharge_to_reg(&mut self, e: &mut ExpDesc, reg: u32) {
        self.discharge_vars(e);
        let fs = &mut self.fs;
        match std::mem::replace(&mut e.k, EK::Void) {
            EK::Nil => fs.nil(reg, 1),
            EK::False => {
                fs.code_abc(OpCode::LoadFalse, reg, 0, 0);
            }
            EK::True => {
                fs.code_abc(OpCode::LoadTrue, reg, 0, 0);
            }
            EK::KStr(s) => {
                let k = fs.string_k(s, self.strings);
                fs.code_k(reg, k);
            }
            EK::K(k) => {
                fs.code_k(reg, k);
            }
            EK::KFlt(f) => fs.load_float(reg, f),
            EK::KInt(i) => fs.load_int(reg, i),
            EK::Reloc(pc) => fs.f.code[pc].set_a(reg),
            EK::NonReloc(r) => {
                if r != reg {
                    fs.code_abc(OpCode::Move, reg, r, 0);
                }
            }
            other => {
                // A jump (or no value): nothing to load here.
                e.k = other;
                return;
            }
        }
        e.k = EK::NonReloc(reg);
    }

    fn discharge_to_any_reg(&mut self, e: &mut ExpDesc) -> R<()> {
        if !matches!(e.k, EK::NonReloc(_)) {
            self.fs.reserve_regs(1)?;
            let r = self.fs.free_reg - 1;
            self.discharge_to_reg(e, r);
        }
        Ok(())
    }

    fn code_loadbool(&mut self, a: u32, op: OpCode) -> usize {
        self.fs.get_label();
        self.fs.code_abc(op, a, 0, 0)
    }

    /// Puts the final value of `e` (jumps included) into `reg`.
    fn exp_to_reg(&mut self, e: &mut ExpDesc, reg: u32) -> R<()> {
        self.discharge_to_reg(e, reg);
        if let EK::Jmp(pc) = e.k {
            self.fs.concat(&mut e.t, pc as i32)?;
        }
        if e.has_jumps() {
            let mut p_f = NO_JUMP as usize;
            let mut p_t = NO_JUMP as usize;
            let fs = &mut self.fs;
            if fs.need_value(e.t) || fs.need_value(e.f) {
                let fj = if matches!(e.k, EK::Jmp(_)) {
                    NO_JUMP
                } else {
                    self.fs.jump()
                };
                p_f = self.code_loadbool(reg, OpCode::LFalseSkip);
                p_t = self.code_loadbool(reg, OpCode::LoadTrue);
                self.fs.patch_to_here(fj)?;
            }
            let end = self.fs.get_label();
            self.fs.patch_list_aux(e.f, end, reg, p_f)?;
            self.fs.patch_list_aux(e.t, end, reg, p_t)?;
        }
        e.f = NO_JUMP;
        e.t = NO_JUMP;
        e.k = EK::NonReloc(reg);
        Ok(())
    }

    fn free_exp(&mut self, e: &ExpDesc) {
        if let EK::NonReloc(r) = e.k {
            self.fs.free_reg(r);
        }
    }
    fn free_exps(&mut self, e1: &ExpDesc, e2: &ExpDesc) {
        let r1 = e1.reg();
        let r2 = e2.reg();
        match (r1 != NO_REG, r2 != NO_REG) {
            (true, true) => self.fs.free_regs(r1, r2),
            (true, false) => self.fs.free_reg(r1),
            (false, true) => self.fs.free_reg(r2),
            _ => {}
        }
    }

    /// Puts `e` into the next free register.
    pub(crate) fn exp_to_next_reg(&mut self, e: &mut ExpDesc) -> R<()> {
        self.discharge_vars(e);
        self.free_exp(e);
        self.fs.reserve_regs(1)?;
        let r = self.fs.free_reg - 1;
        self.exp_to_reg(e, r)
    }

    /// Puts `e` in some register and returns it.
    pub(crate) fn exp_to_any_reg(&mut self, e: &mut ExpDesc) -> R<u32> {
        self.discharge_vars(e);
        if let EK::NonReloc(r) = e.k {
            if !e.has_jumps() {
                return Ok(r);
            }
            if r >= self.fs.nvarstack() {
                self.exp_to_reg(e, r)?;
                return Ok(r);
            }
        }
        self.exp_to_next_reg(e)?;
        Ok(e.reg())
    }

    /// Like `exp_to_any_reg`, but an upvalue without jumps may stay an upvalue.
    pub(crate) fn exp_to_any_reg_up(&mut self, e: &mut ExpDesc) -> R<()> {
        if !matches!(e.k, EK::Upval(_)) || e.has_jumps() {
            self.exp_to_any_reg(e)?;
        }
        Ok(())
    }

    pub(crate) fn exp_to_val(&mut self, e: &mut ExpDesc) -> R<()> {
        if e.has_jumps() {
            self.exp_to_any_reg(e)?;
        } else {
            self.discharge_vars(e);
        }
        Ok(())
    }

    /// Makes `e` a constant operand `K[i]` (i fitting an RK field) when possible.
    fn exp_to_k(&mut self, e: &mut ExpDesc) -> bool {
        if e.has_jumps() {
            return false;
        }
        let fs = &mut self.fs;
        let info = match &e.k {
            EK::True => fs.bool_k(true),
            EK::False => fs.bool_k(false),
            EK::Nil => fs.nil_k(),
            EK::KInt(i) => fs.int_k(*i),
            EK::KFlt(f) => fs.number_k(*f),
            EK::KStr(s) => fs.string_k(*s, self.strings),
            EK::K(k) => *k,
            _ => return false,
        };
        if info <= MAX_INDEX_RK {
            e.k = EK::K(info);
            true
        } else {
            false
        }
    }

    /// A constant operand or a register: true when it is a constant.
    pub(crate) fn exp_to_rk(&mut self, e: &mut ExpDesc) -> R<bool> {
        if self.exp_to_k(e) {
            Ok(true)
        } else {
            self.exp_to_any_reg(e)?;
            Ok(false)
        }
    }

    fn code_abrk(&mut self, op: OpCode, a: u32, b: u32, ec: &mut ExpDesc) -> R<()> {
        let k = self.exp_to_rk(ec)?;
        let c = match ec.k {
            EK::K(i) => i,
            EK::NonReloc(r) => r,
            _ => 0,
        };
        self.fs.code_abck(op, a, b, c, k);
        Ok(())
    }

    /// Stores `ex` into the variable `var`.
    pub(crate) fn store_var(&mut self, var: &ExpDesc, ex: &mut ExpDesc) -> R<()> {
        match var.k {
            EK::Local { reg, .. } => {
                self.free_exp(ex);
                return self.exp_to_reg(ex, reg);
            }
            EK::Upval(u) => {
                let r = self.exp_to_any_reg(ex)?;
                self.fs.code_abc(OpCode::SetUpval, r, u, 0);
            }
            EK::IndexUp { t, idx } => self.code_abrk(OpCode::SetTabUp, t, idx, ex)?,
            EK::IndexI { t, idx } => self.code_abrk(OpCode::SetI, t, idx, ex)?,
            EK::IndexStr { t, idx } => self.code_abrk(OpCode::SetField, t, idx, ex)?,
            EK::Indexed { t, idx } => self.code_abrk(OpCode::SetTable, t, idx, ex)?,
            _ => {}
        }
        self.free_exp(ex);
        Ok(())
    }

    /// `e:key` (PUC's `luaK_self`): the method and `e` in two consecutive registers.
    fn code_self(&mut self, e: &mut ExpDesc, key: &mut ExpDesc) -> R<()> {
        self.exp_to_any_reg(e)?;
        let ereg = e.reg();
        self.free_exp(e);
        let base = self.fs.free_reg;
        e.k = EK::NonReloc(base);
        self.fs.reserve_regs(2)?;
        self.code_abrk(OpCode::SelfOp, base, ereg, key)?;
        self.free_exp(key);
        Ok(())
    }

    fn negate_condition(&mut self, pc: usize) {
        let c = self.fs.jump_control(pc);
        let i = &mut self.fs.f.code[c];
        let k = i.k();
        i.set_k(!k);
    }

    /// Emits a jump taken when `e` is `cond`; returns it.
    fn jump_on_cond(&mut self, e: &mut ExpDesc, cond: bool) -> R<i32> {
        if let EK::Reloc(pc) = e.k {
            let ie = self.fs.f.code[pc];
            if ie.op() == OpCode::Not {
                self.fs.remove_last_instruction();
                return Ok(self.fs.cond_jump(OpCode::Test, ie.b(), 0, 0, !cond));
            }
        }
        self.discharge_to_any_reg(e)?;
        self.free_exp(e);
        Ok(self.fs.cond_jump(OpCode::TestSet, NO_REG, e.reg(), 0, cond))
    }

    /// Falls through when `e` is true, jumps (via `e.f`) when false.
    pub(crate) fn go_if_true(&mut self, e: &mut ExpDesc) -> R<()> {
        self.discharge_vars(e);
        let pc = match e.k {
            EK::Jmp(pc) => {
                self.negate_condition(pc);
                pc as i32
            }
            EK::K(_) | EK::KFlt(_) | EK::KInt(_) | EK::KStr(_) | EK::True => NO_JUMP,
            _ => self.jump_on_cond(e, false)?,
        };
        self.fs.concat(&mut e.f, pc)?;
        self.fs.patch_to_here(e.t)?;
        e.t = NO_JUMP;
        Ok(())
    }

    /// Falls through when `e` is false, jumps (via `e.t`) when true.
    pub(crate) fn go_if_false(&mut self, e: &mut ExpDesc) -> R<()> {
        self.discharge_vars(e);
        let pc = match e.k {
            EK::Jmp(pc) => pc as i32,
            EK::Nil | EK::False => NO_JUMP,
            _ => self.jump_on_cond(e, true)?,
        };
        self.fs.concat(&mut e.t, pc)?;
        self.fs.patch_to_here(e.f)?;
        e.f = NO_JUMP;
        Ok(())
    }

    fn code_not(&mut self, e: &mut ExpDesc) -> R<()> {
        match e.k {
            EK::Nil | EK::False => e.k = EK::True,
            EK::K(_) | EK::KFlt(_) | EK::KInt(_) | EK::KStr(_) | EK::True => e.k = EK::False,
            EK::Jmp(pc) => self.negate_condition(pc),
            EK::Reloc(_) | EK::NonReloc(_) => {
                self.discharge_to_any_reg(e)?;
                self.free_exp(e);
                let r = e.reg();
                e.k = EK::Reloc(self.fs.code_abc(OpCode::Not, 0, r, 0));
            }
            _ => {}
        }
        std::mem::swap(&mut e.f, &mut e.t);
        self.fs.remove_values(e.f);
        self.fs.remove_values(e.t);
        Ok(())
    }

    fn is_kstr(&self, e: &ExpDesc) -> bool {
        matches!(e.k, EK::K(k) if k <= MAX_B && self.fs.is_short_str_k(k)) && !e.has_jumps()
    }

    /// `t[k]`: turns `t` into an indexed descriptor.
    pub(crate) fn indexed(&mut self, t: &mut ExpDesc, k: &mut ExpDesc) -> R<()> {
        if matches!(k.k, EK::KStr(_)) {
            self.str_to_k(k);
        }
        if matches!(t.k, EK::Upval(_)) && !self.is_kstr(k) {
            self.exp_to_any_reg(t)?;
        }
        if let EK::Upval(u) = t.k {
            let idx = match k.k {
                EK::K(i) => i,
                _ => 0,
            };
            t.k = EK::IndexUp { t: u, idx };
            return Ok(());
        }
        let treg = match t.k {
            EK::Local { reg, .. } => reg,
            EK::NonReloc(r) => r,
            _ => 0,
        };
        if self.is_kstr(k) {
            let EK::K(idx) = k.k else { unreachable!() };
            t.k = EK::IndexStr { t: treg, idx };
        } else if k.is_cint() {
            let EK::KInt(i) = k.k else { unreachable!() };
            t.k = EK::IndexI {
                t: treg,
                idx: i as u32,
            };
        } else {
            let idx = self.exp_to_any_reg(k)?;
            t.k = EK::Indexed { t: treg, idx };
        }
        Ok(())
    }

    // ---- operators ----

    fn const_folding(&mut self, op: FoldOp, e1: &mut ExpDesc, e2: &ExpDesc) -> bool {
        let (Some(a), Some(b)) = (e1.numeral(), e2.numeral()) else {
            return false;
        };
        match fold::fold(op, a, b) {
            Some(Num::Int(i)) => e1.k = EK::KInt(i),
            Some(Num::Float(f)) => e1.k = EK::KFlt(f),
            None => return false,
        }
        true
    }

    /// A unary operator applied to `e`.
    pub(crate) fn prefix(&mut self, op: UnOp, e: &mut ExpDesc, line: u32) -> R<()> {
        self.discharge_vars(e);
        match op {
            UnOp::Neg | UnOp::BNot => {
                let zero = ExpDesc::new(EK::KInt(0));
                if self.const_folding(FoldOp::Un(op), e, &zero) {
                    return Ok(());
                }
                let opc = if op == UnOp::Neg {
                    OpCode::Unm
                } else {
                    OpCode::BNot
                };
                self.code_unexp(opc, e, line)
            }
            UnOp::Len => self.code_unexp(OpCode::Len, e, line),
            UnOp::Not => self.code_not(e),
        }
    }

    fn code_unexp(&mut self, op: OpCode, e: &mut ExpDesc, line: u32) -> R<()> {
        let r = self.exp_to_any_reg(e)?;
        self.free_exp(e);
        e.k = EK::Reloc(self.fs.code_abc(op, 0, r, 0));
        self.fs.fix_line(line);
        Ok(())
    }

    /// Prepares the first operand of `op` before the second is evaluated.
    pub(crate) fn infix(&mut self, op: BinOp, v: &mut ExpDesc) -> R<()> {
        self.discharge_vars(v);
        use BinOp::*;
        match op {
            And => self.go_if_true(v)?,
            Or => self.go_if_false(v)?,
            Concat => self.exp_to_next_reg(v)?,
            Eq | Ne => {
                if v.numeral().is_none() {
                    self.exp_to_rk(v)?;
                }
            }
            Lt | Le | Gt | Ge => {
                if v.sc_number().is_none() {
                    self.exp_to_any_reg(v)?;
                }
            }
            _ => {
                if v.numeral().is_none() {
                    self.exp_to_any_reg(v)?;
                }
            }
        }
        Ok(())
    }

    /// Finishes `e1 op e2` into `e1`.
    pub(crate) fn posfix(
        &mut self,
        op: BinOp,
        e1: &mut ExpDesc,
        mut e2: ExpDesc,
        line: u32,
    ) -> R<()> {
        self.discharge_vars(&mut e2);
        if is_arith_or_bitwise(op) && self.const_folding(FoldOp::Bin(op), e1, &e2) {
            return Ok(());
        }
        use BinOp::*;
        match op {
            And => {
                self.fs.concat(&mut e2.f, e1.f)?;
                *e1 = e2;
            }
            Or => {
                self.fs.concat(&mut e2.t, e1.t)?;
                *e1 = e2;
            }
            Concat => {
                self.exp_to_next_reg(&mut e2)?;
                self.code_concat(e1, &mut e2, line);
            }
            Add | Mul => self.code_commutative(op, e1, e2, line)?,
            Sub | Div | IDiv | Mod | Pow => self.code_arith(op, e1, e2, false, line)?,
            BAnd | BOr | BXor => self.code_bitwise(op, e1, e2, line)?,
            Shl => {
                if e1.is_scint() {
                    // I << x: SHLI x I
                    let mut e2 = e2;
                    std::mem::swap(e1, &mut e2);
                    self.code_bini(OpCode::ShlI, e1, e2, false, line)?;
                } else {
                    // No SHRI with a negated immediate: the metamethod must be __shl.
                    self.code_bin_exp_val(op, e1, e2, line)?;
                }
            }
            Shr => {
                if e2.is_scint() {
                    self.code_bini(OpCode::ShrI, e1, e2, false, line)?;
                } else {
                    self.code_bin_exp_val(op, e1, e2, line)?;
                }
            }
            Eq | Ne => self.code_eq(op, e1, e2)?,
            Gt | Ge => {
                // a > b is b < a
                let mut e2 = e2;
                std::mem::swap(e1, &mut e2);
                self.code_order(if op == Gt { Lt } else { Le }, e1, e2)?;
            }
            Lt | Le => self.code_order(op, e1, e2)?,
        }
        Ok(())
    }

    fn code_concat(&mut self, e1: &mut ExpDesc, e2: &mut ExpDesc, line: u32) {
        let r1 = e1.reg();
        if let Some(ie2) = self.fs.previous_instruction() {
            if ie2.op() == OpCode::Concat {
                let n = ie2.b();
                debug_assert_eq!(r1 + 1, ie2.a());
                ie2.set_a(r1);
                ie2.set_b(n + 1);
                self.free_exp(e2);
                return;
            }
        }
        self.fs.code_abc(OpCode::Concat, r1, 2, 0);
        self.free_exp(e2);
        self.fs.fix_line(line);
    }

    fn finish_bin_exp_val(
        &mut self,
        e1: &mut ExpDesc,
        e2: &ExpDesc,
        op: OpCode,
        v2: u32,
        flip: bool,
        line: u32,
    ) -> R<()> {
        let v1 = self.exp_to_any_reg(e1)?;
        let pc = self.fs.code_abck(op, 0, v1, v2, flip);
        self.free_exps(e1, e2);
        e1.k = EK::Reloc(pc);
        self.fs.fix_line(line);
        Ok(())
    }

    fn code_bin_exp_val(
        &mut self,
        op: BinOp,
        e1: &mut ExpDesc,
        mut e2: ExpDesc,
        line: u32,
    ) -> R<()> {
        let v2 = self.exp_to_any_reg(&mut e2)?;
        self.finish_bin_exp_val(e1, &e2, arith_op(op), v2, false, line)
    }

    fn code_bini(
        &mut self,
        op: OpCode,
        e1: &mut ExpDesc,
        e2: ExpDesc,
        flip: bool,
        line: u32,
    ) -> R<()> {
        let EK::KInt(i) = e2.k else { unreachable!() };
        let v2 = (i + OFFSET_SC as i64) as u32;
        self.finish_bin_exp_val(e1, &e2, op, v2, flip, line)
    }

    fn code_bin_k(
        &mut self,
        op: BinOp,
        e1: &mut ExpDesc,
        e2: ExpDesc,
        flip: bool,
        line: u32,
    ) -> R<()> {
        let EK::K(v2) = e2.k else { unreachable!() };
        self.finish_bin_exp_val(e1, &e2, arith_k_op(op), v2, flip, line)
    }

    fn code_arith(
        &mut self,
        op: BinOp,
        e1: &mut ExpDesc,
        mut e2: ExpDesc,
        flip: bool,
        line: u32,
    ) -> R<()> {
        if e2.numeral().is_some() && self.exp_to_k(&mut e2) {
            self.code_bin_k(op, e1, e2, flip, line)
        } else {
            if flip {
                std::mem::swap(e1, &mut e2);
            }
            self.code_bin_exp_val(op, e1, e2, line)
        }
    }

    fn code_commutative(
        &mut self,
        op: BinOp,
        e1: &mut ExpDesc,
        mut e2: ExpDesc,
        line: u32,
    ) -> R<()> {
        let mut flip = false;
        if e1.numeral().is_some() {
            std::mem::swap(e1, &mut e2);
            flip = true;
        }
        if op == BinOp::Add && e2.is_scint() {
            self.code_bini(OpCode::AddI, e1, e2, flip, line)
        } else {
            self.code_arith(op, e1, e2, flip, line)
        }
    }

    fn code_bitwise(&mut self, op: BinOp, e1: &mut ExpDesc, mut e2: ExpDesc, line: u32) -> R<()> {
        // Unlike Lua, a constant first operand is not swapped into K: BANDK and friends
        // have no "swapped" flag, so the metamethod would see the operands reversed.
        if matches!(e2.k, EK::KInt(_)) && self.exp_to_k(&mut e2) {
            self.code_bin_k(op, e1, e2, false, line)
        } else {
            self.code_bin_exp_val(op, e1, e2, line)
        }
    }

    fn code_order(&mut self, op: BinOp, e1: &mut ExpDesc, mut e2: ExpDesc) -> R<()> {
        let (r1, r2, isf, opc);
        if let Some((im, f)) = e2.sc_number() {
            r1 = self.exp_to_any_reg(e1)?;
            r2 = im;
            isf = f;
            opc = if op == BinOp::Lt {
                OpCode::LtI
            } else {
                OpCode::LeI
            };
        } else if let Some((im, f)) = e1.sc_number() {
            r1 = self.exp_to_any_reg(&mut e2)?;
            r2 = im;
            isf = f;
            opc = if op == BinOp::Lt {
                OpCode::GtI
            } else {
                OpCode::GeI
            };
        } else {
            r1 = self.exp_to_any_reg(e1)?;
            r2 = self.exp_to_any_reg(&mut e2)?;
            isf = false;
            opc = if op == BinOp::Lt {
                OpCode::Lt
            } else {
                OpCode::Le
            };
        }
        self.free_exps(e1, &e2);
        let pc = self.fs.cond_jump(opc, r1, r2, isf as u32, true);
        *e1 = ExpDesc::new(EK::Jmp(pc as usize));
        Ok(())
    }

    fn code_eq(&mut self, op: BinOp, e1: &mut ExpDesc, mut e2: ExpDesc) -> R<()> {
        if !matches!(e1.k, EK::NonReloc(_)) {
            std::mem::swap(e1, &mut e2);
        }
        let r1 = self.exp_to_any_reg(e1)?;
        let (opc, r2, isf);
        if let Some((im, f)) = e2.sc_number() {
            opc = OpCode::EqI;
            r2 = im;
            isf = f;
        } else if self.exp_to_rk(&mut e2)? {
            opc = OpCode::EqK;
            let EK::K(k) = e2.k else { unreachable!() };
            r2 = k;
            isf = false;
        } else {
            opc = OpCode::Eq;
            r2 = self.exp_to_any_reg(&mut e2)?;
            isf = false;
        }
        self.free_exps(e1, &e2);
        let pc = self.fs.cond_jump(opc, r1, r2, isf as u32, op == BinOp::Eq);
        *e1 = ExpDesc::new(EK::Jmp(pc as usize));
        Ok(())
    }

    // ---- expression nodes ----

    /// Compiles an expression into a descriptor.
    pub(crate) fn expr(&mut self, e: &Expr) -> R<ExpDesc> {
        // A pending declaration name belongs to this expression only if it is a function or
        // a table constructor itself (not one nested inside it).
        if self.name_ctx.is_some() && !matches!(e.kind, ExprKind::Function(_) | ExprKind::Table(_))
        {
            self.name_ctx = None;
        }
        match &e.kind {
            ExprKind::Binary(b) if b.op.is_left_assoc() => self.binary_chain(e),
            ExprKind::Binary(b) => {
                let mut v = self.expr(&b.lhs)?;
                // luac discharges the first operand once past the operator, on its line.
                self.fs.line = e.line;
                self.infix(b.op, &mut v)?;
                let v2 = self.expr(&b.rhs)?;
                self.posfix(b.op, &mut v, v2, e.line)?;
                Ok(v)
            }
            ExprKind::Unary(u) => {
                let mut v = self.expr(&u.operand)?;
                self.prefix(u.op, &mut v, e.line)?;
                Ok(v)
            }
            // The most common operand, straight to what `simple_exp` -> `suffixed_exp` ->
            // `primary_exp` would do with it.
            ExprKind::Name(n) => {
                self.fs.line = e.line;
                self.single_var(*n)
            }
            _ => self.simple_exp(e),
        }
    }

    /// A chain of left-associative binary operators, walked iteratively.
    fn binary_chain(&mut self, e: &Expr) -> R<ExpDesc> {
        let mut spine: SmallVec<[&Expr; 8]> = SmallVec::new();
        let mut cur = e;
        while let ExprKind::Binary(b) = &cur.kind {
            if !b.op.is_left_assoc() {
                break;
            }
            spine.push(cur);
            cur = &b.lhs;
        }
        let mut v = self.expr(cur)?;
        for node in spine.iter().rev() {
            let ExprKind::Binary(b) = &node.kind else {
                unreachable!()
            };
            self.fs.line = node.line;
            self.infix(b.op, &mut v)?;
            let v2 = self.expr(&b.rhs)?;
            self.posfix(b.op, &mut v, v2, node.line)?;
        }
        Ok(v)
    }

    fn simple_exp(&mut self, e: &Expr) -> R<ExpDesc> {
        self.fs.line = e.line;
        Ok(match &e.kind {
            ExprKind::Nil => ExpDesc::new(EK::Nil),
            ExprKind::True => ExpDesc::new(EK::True),
            ExprKind::False => ExpDesc::new(EK::False),
            ExprKind::Int(i) => ExpDesc::new(EK::KInt(*i)),
            ExprKind::Float(f) => ExpDesc::new(EK::KFlt(*f)),
            ExprKind::Str(s) => ExpDesc::new(EK::KStr(*s)),
            ExprKind::Vararg => {
                if !self.fs.f.is_vararg {
                    return Err(self
                        .fs
                        .err("cannot use '...' outside a vararg function near '...'"));
                }
                ExpDesc::new(EK::Vararg(self.fs.code_abc(OpCode::Vararg, 0, 0, 1)))
            }
            ExprKind::Table(fields) => {
                let ctx = self.name_ctx.take();
                self.constructor(fields, e.line, ctx)?
            }
            ExprKind::Function(body) => {
                // `body` takes the pending declaration name, if any.
                let after = self.after_line_for(body);
                self.body(body, false, after)?
            }
            _ => self.suffixed_exp(e)?,
        })
    }

    fn primary_exp(&mut self, e: &Expr) -> R<ExpDesc> {
        self.fs.line = e.line;
        match &e.kind {
            ExprKind::Name(n) => self.single_var(*n),
            ExprKind::Paren(inner) => {
                let mut v = self.expr(inner)?;
                self.discharge_vars(&mut v);
                Ok(v)
            }
            // Not a prefix expression in Lua's grammar, but harmless to compile.
            _ => {
                let mut v = self.simple_exp(e)?;
                self.discharge_vars(&mut v);
                Ok(v)
            }
        }
    }

    /// A suffix chain (`a.b[c](d):m(e)`), walked iteratively from its primary expression.
    pub(crate) fn suffixed_exp(&mut self, e: &Expr) -> R<ExpDesc> {
        if let ExprKind::Name(n) = e.kind {
            // A plain variable (an assignment target): what `primary_exp` does with it.
            self.fs.line = e.line;
            return self.single_var(n);
        }
        let mut spine: SmallVec<[&Expr; 8]> = SmallVec::new();
        let mut cur = e;
        loop {
            match &cur.kind {
                ExprKind::Index(x) => {
                    spine.push(cur);
                    cur = &x.obj;
                }
                ExprKind::Call(c) => {
                    spine.push(cur);
                    cur = &c.func;
                }
                ExprKind::Method(m) => {
                    spine.push(cur);
                    cur = &m.obj;
                }
                _ => break,
            }
        }
        // A call's line is the line where the whole suffixed expression starts (as luac).
        let line = e.line;
        let mut v = match cur.kind {
            ExprKind::Name(n) => {
                self.fs.line = cur.line;
                self.single_var(n)?
            }
            _ => self.primary_exp(cur)?,
        };
        for node in spine.iter().rev() {
            match &node.kind {
                ExprKind::Index(x) => {
                    self.exp_to_any_reg_up(&mut v)?;
                    let mut k = self.expr(&x.key)?;
                    self.exp_to_val(&mut k)?;
                    self.indexed(&mut v, &mut k)?;
                }
                ExprKind::Call(c) => {
                    self.exp_to_next_reg(&mut v)?;
                    self.func_args(&mut v, &c.args, line)?;
                }
                ExprKind::Method(m) => {
                    let mut key = ExpDesc::new(EK::KStr(m.name));
                    self.code_self(&mut v, &mut key)?;
                    self.func_args(&mut v, &m.args, line)?;
                }
                _ => unreachable!(),
            }
        }
        Ok(v)
    }

    /// Compiles a list of expressions; all but the last go to consecutive registers. Returns
    /// the last one's descriptor (Void for an empty list).
    pub(crate) fn exp_list(&mut self, exprs: &[Expr]) -> R<ExpDesc> {
        self.exp_list_named(exprs, &[])
    }

    /// [`Codegen::exp_list`] where expression `i` is bound to `names[i]` (when given): a
    /// function or table constructor there is named after it (see `Proto::name`).
    pub(crate) fn exp_list_named(
        &mut self,
        exprs: &[Expr],
        names: &[Option<std::sync::Arc<str>>],
    ) -> R<ExpDesc> {
        let mut v = ExpDesc::new(EK::Void);
        for (i, e) in exprs.iter().enumerate() {
            if i > 0 {
                self.exp_to_next_reg(&mut v)
                    .map_err(|err| with_near(err, e, self.strings))?;
            }
            self.name_ctx = names.get(i).cloned().flatten();
            v = self.expr(e)?;
        }
        self.name_ctx = None;
        Ok(v)
    }

    fn func_args(&mut self, f: &mut ExpDesc, args: &[Expr], line: u32) -> R<()> {
        let mut a = self.exp_list(args)?;
        if a.is_multi() {
            self.set_returns(&mut a, -1)?;
        }
        let base = f.reg();
        let nparams = if a.is_multi() {
            -1
        } else {
            if a.k != EK::Void {
                self.exp_to_next_reg(&mut a)?;
            }
            (self.fs.free_reg - (base + 1)) as i32
        };
        self.fs.line = line;
        let pc = self
            .fs
            .code_abc(OpCode::Call, base, (nparams + 1) as u32, 2);
        self.fs.fix_line(line);
        f.k = EK::Call(pc);
        f.t = NO_JUMP;
        f.f = NO_JUMP;
        self.fs.free_reg = base + 1;
        Ok(())
    }

    fn constructor(
        &mut self,
        fields: &[Field],
        line: u32,
        ctx: Option<std::sync::Arc<str>>,
    ) -> R<ExpDesc> {
        let ctx: std::sync::Arc<str> = ctx.unwrap_or_else(|| std::sync::Arc::from("{}"));
        let pc = self.fs.code_abc(OpCode::NewTable, 0, 0, 0);
        self.fs.code_extraarg(0);
        let treg = self.fs.free_reg;
        let t = ExpDesc::new(EK::NonReloc(treg));
        self.fs.reserve_regs(1)?;
        let mut na: u32 = 0; // array items already stored
        let mut nh: u32 = 0;
        let mut tostore: u32 = 0;
        let mut pending = ExpDesc::new(EK::Void);
        for field in fields {
            // close the previous list item
            if pending.k != EK::Void {
                self.exp_to_next_reg(&mut pending)
                    .map_err(|err| with_near(err, field_value(field), self.strings))?;
                pending = ExpDesc::new(EK::Void);
                if tostore == FIELDS_PER_FLUSH {
                    self.set_list(treg, na, tostore as i32);
                    na += tostore;
                    tostore = 0;
                }
            }
            match field {
                Field::Pos(e) => {
                    pending = self.expr(e)?;
                    tostore += 1;
                }
                Field::Named(name, v) => {
                    let reg = self.fs.free_reg;
                    let mut key = ExpDesc::new(EK::KStr(*name));
                    if matches!(v.kind, ExprKind::Function(_) | ExprKind::Table(_)) {
                        self.name_ctx = Some(std::sync::Arc::from(format!(
                            "{}.{}",
                            ctx,
                            String::from_utf8_lossy(self.strings.get(*name))
                        )));
                    }
                    self.rec_field(&t, &mut key, v, reg)?;
                    self.name_ctx = None;
                    nh += 1;
                }
                Field::Keyed(k, v) => {
                    let reg = self.fs.free_reg;
                    let mut key = self.expr(k)?;
                    self.exp_to_val(&mut key)?;
                    self.rec_field(&t, &mut key, v, reg)?;
                    nh += 1;
                }
            }
        }
        // luac emits the last SETLIST after `}` (estimated as for any `end`).
        self.fs.line = match fields.last() {
            Some(Field::Pos(v)) | Some(Field::Named(_, v)) | Some(Field::Keyed(_, v)) => {
                let last = super::expr_last_line(v);
                if last > line {
                    last + 1
                } else {
                    line
                }
            }
            None => line,
        };
        if tostore > 0 {
            if pending.is_multi() {
                self.set_returns(&mut pending, -1)?;
                self.set_list(treg, na, -1);
                na = na + tostore - 1;
            } else {
                if pending.k != EK::Void {
                    self.exp_to_next_reg(&mut pending)?;
                }
                self.set_list(treg, na, tostore as i32);
                na += tostore;
            }
        }
        self.set_table_size(pc, treg, na, nh);
        Ok(t)
    }

    fn rec_field(&mut self, t: &ExpDesc, key: &mut ExpDesc, v: &Expr, reg: u32) -> R<()> {
        let mut tab = t.clone();
        self.indexed(&mut tab, key)?;
        let mut val = self.expr(v)?;
        self.store_var(&tab, &mut val)?;
        self.fs.free_reg = reg;
        Ok(())
    }

    fn set_list(&mut self, base: u32, nelems: u32, tostore: i32) {
        let b = if tostore < 0 { 0 } else { tostore as u32 };
        if nelems <= MAX_C {
            self.fs.code_abc(OpCode::SetList, base, b, nelems);
        } else {
            let extra = nelems / MAX_ARG_C_PLUS_ONE;
            self.fs
                .code_abck(OpCode::SetList, base, b, nelems % MAX_ARG_C_PLUS_ONE, true);
            self.fs.code_extraarg(extra);
        }
        self.fs.free_reg = base + 1;
    }

    fn set_table_size(&mut self, pc: usize, ra: u32, asize: u32, hsize: u32) {
        let rb = if hsize != 0 { ceil_log2(hsize) + 1 } else { 0 };
        let extra = asize / MAX_ARG_C_PLUS_ONE;
        let rc = asize % MAX_ARG_C_PLUS_ONE;
        self.fs.f.code[pc] = Instr::abc(OpCode::NewTable, ra, rb, rc, extra > 0);
        self.fs.f.code[pc + 1] = Instr::ax_(OpCode::ExtraArg, extra);
    }
}

fn ceil_log2(x: u32) -> u32 {
    // smallest l with 2^l >= x
    32 - (x - 1).leading_zeros()
}

/// The expression whose first token luac shows for a field (keys come first).
fn field_value(f: &Field) -> &Expr {
    match f {
        Field::Pos(e) | Field::Named(_, e) => e,
        Field::Keyed(k, _) => k,
    }
}

/// Completes a register-limit error with luac's `near` token: the first token of the next
/// expression (the one luac had just read).
fn with_near(mut err: super::func::CgErr, next: &Expr, strings: &Strings) -> super::func::CgErr {
    if err.0.message.ends_with("needs too many registers") {
        if let Some(tok) = first_token(next) {
            err.0
                .message
                .push_str(&format!(" near {}", tok.text(strings)));
        }
    }
    err
}

/// The first token of an expression or statement, kept without formatting it (it is only
/// shown in the rare limit errors).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FirstTok {
    /// A fixed text, already quoted (or `<eof>`).
    Fixed(&'static str),
    Int(i64),
    Str(Sym),
    Name(Sym),
}

impl FirstTok {
    /// The token as luac quotes it.
    pub(crate) fn text(self, strings: &Strings) -> String {
        match self {
            FirstTok::Fixed(t) => t.to_string(),
            FirstTok::Int(i) => format!("'{}'", i),
            FirstTok::Str(s) => format!("'\"{}\"'", String::from_utf8_lossy(strings.get(s))),
            FirstTok::Name(n) => format!("'{}'", strings.name(n)),
        }
    }
}

/// The first token of an expression (`'?'` when unknown).
pub(crate) fn first_token_or_unknown(e: &Expr) -> FirstTok {
    first_token(e).unwrap_or(FirstTok::Fixed("'?'"))
}

/// The first token of an expression as luac would quote it, when it can be known.
fn first_token(e: &Expr) -> Option<FirstTok> {
    let mut e = e;
    loop {
        e = match &e.kind {
            ExprKind::Binary(b) => &b.lhs,
            ExprKind::Index(x) => &x.obj,
            ExprKind::Call(c) => &c.func,
            ExprKind::Method(m) => &m.obj,
            ExprKind::Nil => return Some(FirstTok::Fixed("'nil'")),
            ExprKind::True => return Some(FirstTok::Fixed("'true'")),
            ExprKind::False => return Some(FirstTok::Fixed("'false'")),
            ExprKind::Vararg => return Some(FirstTok::Fixed("'...'")),
            ExprKind::Int(i) if *i >= 0 => return Some(FirstTok::Int(*i)),
            ExprKind::Str(s) => return Some(FirstTok::Str(*s)),
            ExprKind::Function(_) => return Some(FirstTok::Fixed("'function'")),
            ExprKind::Table(_) => return Some(FirstTok::Fixed("'{'")),
            ExprKind::Name(n) => return Some(FirstTok::Name(*n)),
            ExprKind::Paren(_) => return Some(FirstTok::Fixed("'('")),
            ExprKind::Unary(u) => {
                return Some(FirstTok::Fixed(match u.op {
                    UnOp::Neg => "'-'",
                    UnOp::Not => "'not'",
                    UnOp::Len => "'#'",
                    UnOp::BNot => "'~'",
                }))
            }
            _ => return None,
        };
    }
}

//! Statements: assignments, locals, control structures, functions, returns, labels.
//!
//! Invariant: after each statement every temporary register is free again
//! (`free_reg == nvarstack`).

use crate::ast::{
    Attrib, Block, Expr, ExprKind, FuncBody, FuncName, LocalName, Return, Stat, StatKind,
};
use crate::opcode::{Instr, OpCode, MAX_BX};
use crate::strings::Sym;

use super::expr::{ExpDesc, FirstTok, EK};
use super::func::{VarKindD, NO_JUMP, R};
use super::scope::Near;
use super::Codegen;

impl<'a> Codegen<'a> {
    /// A block with its own scope (`do ... end` and loop bodies).
    pub(crate) fn block(&mut self, b: &Block, new_path: bool) -> R<()> {
        self.enter_block(false);
        if new_path {
            self.enter_path();
        }
        self.stat_list(b, false, None, "'end'")?;
        if new_path {
            self.leave_path();
        }
        self.leave_block()
    }

    /// The statements of a block. `in_repeat`: the block is a `repeat` body (its end is
    /// `until`, so a final label is not "at the end of the block"). `end_line`: the line
    /// of the token that ends the block, when known.
    /// `end_tok` is the token that ends the block (`'end'`, `'until'`, `<eof>`...), for
    /// error messages.
    pub(crate) fn stat_list(
        &mut self,
        b: &Block,
        in_repeat: bool,
        end_line: Option<u32>,
        end_tok: &'static str,
    ) -> R<()> {
        self.stat_list_at(b, 0, in_repeat, end_line, end_tok)
    }

    /// `stat_list` from statement `from` on.
    fn stat_list_at(
        &mut self,
        b: &Block,
        from: usize,
        in_repeat: bool,
        end_line: Option<u32>,
        end_tok: &'static str,
    ) -> R<()> {
        let stats = &b.stats;
        let mut i = from;
        while i < stats.len() {
            if let StatKind::Label(_) = stats[i].kind {
                // luac handles a run of labels recursively: the last one is created first.
                let mut j = i;
                while j < stats.len() && matches!(stats[j].kind, StatKind::Label(_)) {
                    j += 1;
                }
                let last = j == stats.len() && b.ret.is_none() && !in_repeat;
                let err_line = if j < stats.len() {
                    stats[j].line
                } else if let Some(r) = &b.ret {
                    r.line
                } else {
                    end_line.unwrap_or(stats[j - 1].line)
                };
                for k in (i..j).rev() {
                    let StatKind::Label(name) = &stats[k].kind else {
                        unreachable!()
                    };
                    self.label_stat(*name, stats[k].line, last, err_line)?;
                }
                i = j;
                continue;
            }
            let next_line = if i + 1 < stats.len() {
                Some(stats[i + 1].line)
            } else {
                b.ret.as_ref().map(|r| r.line).or(end_line)
            };
            self.next_tok = if i + 1 < stats.len() {
                stat_first_token(&stats[i + 1])
            } else if b.ret.is_some() {
                FirstTok::Fixed("'return'")
            } else {
                FirstTok::Fixed(end_tok)
            };
            self.statement(&stats[i], next_line)?;
            i += 1;
        }
        if let Some(r) = &b.ret {
            self.ret_stat(r)?;
            self.fs.free_reg = self.fs.nvarstack();
        }
        Ok(())
    }

    fn label_stat(&mut self, name: Sym, line: u32, last: bool, err_line: u32) -> R<()> {
        if let Some(lb) = self.find_label(name) {
            return Err(super::func::CgErr::new(
                self.chunk_name,
                err_line,
                format!(
                    "label '{}' already defined on line {}",
                    self.strings.name(name),
                    lb.line
                ),
            ));
        }
        self.fs.line = line;
        self.create_label(name, line, last, err_line)?;
        Ok(())
    }

    /// One statement. `next_line` is the line of the token after it, when known.
    fn statement(&mut self, s: &Stat, next_line: Option<u32>) -> R<()> {
        self.fs.line = s.line;
        match &s.kind {
            StatKind::Assign { targets, values } => self.assign_stat(targets, values, next_line)?,
            StatKind::Call(e) => {
                let v = self.suffixed_exp(e)?;
                if let EK::Call(pc) = v.k {
                    self.fs.f.code[pc].set_c(1);
                }
            }
            StatKind::Label(name) => self.label_stat(*name, s.line, false, s.line)?,
            StatKind::Break => {
                let j = self.fs.jump();
                self.new_goto_entry(Sym::BREAK, s.line, j);
            }
            StatKind::Goto(name) => self.goto_stat(*name, s.line)?,
            StatKind::Do(b) => self.block(b, true)?,
            StatKind::While { cond, body } => {
                self.while_stat(cond, body, super::stat_last_line(s))?
            }
            StatKind::Repeat { body, cond } => self.repeat_stat(body, cond)?,
            StatKind::If { arms, else_block } => self.if_stat(arms, else_block.as_deref())?,
            StatKind::NumFor(f) => self.num_for(
                f.var,
                &f.start,
                &f.limit,
                f.step.as_ref(),
                &f.body,
                s.line,
                super::stat_last_line(s),
            )?,
            StatKind::GenFor { names, exprs, body } => {
                self.gen_for(names, exprs, body, s.line, super::stat_last_line(s))?
            }
            StatKind::Function { name, body } => self.func_stat(name, body, s.line, next_line)?,
            StatKind::LocalFunction { name, body } => {
                let fvar = self.fs.nactvar as usize;
                let vidx = self.new_localvar(*name, Near::Tok("'('"))?;
                let after = next_line.unwrap_or(body.end_line);
                if self.at_module_scope() {
                    // A module's top-level function: its cell is the module's (visible in
                    // its own body, for recursion).
                    let u = self.activate_module_var(vidx)?;
                    self.name_ctx = Some(self.name_arc(*name));
                    let e = self.body(body, false, after)?;
                    if let EK::NonReloc(r) = e.k {
                        self.fs.code_abc(OpCode::SetUpval, r, u, 0);
                    }
                } else {
                    self.adjust_localvars(1);
                    self.name_ctx = Some(self.name_arc(*name));
                    self.body(body, false, after)?;
                    let pc = self.fs.pc() as u32;
                    let pidx = self.fs.actvar[fvar].pidx;
                    self.fs.f.locvars[pidx].start_pc = pc;
                }
            }
            StatKind::Local { names, exprs } => self.local_stat(names, exprs, s.line, next_line)?,
        }
        self.fs.free_reg = self.fs.nvarstack();
        Ok(())
    }

    fn goto_stat(&mut self, name: Sym, line: u32) -> R<()> {
        if let Some(lb) = self.find_label(name) {
            // A backward jump: resolved now.
            let (lb_nactvar, lb_pc) = (lb.nactvar, lb.pc);
            let lblevel = self.fs.reg_level(lb_nactvar);
            if self.fs.nvarstack() > lblevel {
                self.fs.code_abc(OpCode::Close, lblevel, 0, 0);
            }
            let j = self.fs.jump();
            self.fs.patch_list(j, lb_pc)?;
        } else {
            let j = self.fs.jump();
            self.new_goto_entry(name, line, j);
        }
        Ok(())
    }

    /// Remembers that the function expression `e` (if it is the last one of a statement)
    /// is followed by the token at `line`.
    fn note_last_function(&mut self, exprs: &[Expr], next_line: Option<u32>) {
        self.fn_after = match (exprs.last(), next_line) {
            (
                Some(Expr {
                    kind: ExprKind::Function(b),
                    ..
                }),
                Some(l),
            ) => Some((&**b as *const FuncBody as usize, l)),
            _ => None,
        };
    }

    /// The error line for unresolved gotos in the function `b`.
    pub(crate) fn after_line_for(&mut self, b: &FuncBody) -> u32 {
        match self.fn_after.take() {
            Some((p, l)) if p == b as *const FuncBody as usize => l,
            other => {
                self.fn_after = other;
                b.end_line
            }
        }
    }

    fn assign_stat(&mut self, targets: &[Expr], values: &[Expr], next_line: Option<u32>) -> R<()> {
        if targets.is_empty() {
            return Ok(());
        }
        let mut lhs: smallvec::SmallVec<[ExpDesc; 4]> = smallvec::SmallVec::new();
        for (i, t) in targets.iter().enumerate() {
            self.fs.line = t.line;
            let v = self.suffixed_exp(t)?;
            let is_var = matches!(
                v.k,
                EK::Local { .. }
                    | EK::Upval(_)
                    | EK::Const { .. }
                    | EK::Indexed { .. }
                    | EK::IndexUp { .. }
                    | EK::IndexI { .. }
                    | EK::IndexStr { .. }
            );
            if !is_var {
                return Err(self.fs.err("syntax error"));
            }
            let indexed = matches!(
                v.k,
                EK::Indexed { .. } | EK::IndexUp { .. } | EK::IndexI { .. } | EK::IndexStr { .. }
            );
            if i > 0 && !indexed {
                self.check_conflict(&mut lhs, &v)?;
            }
            self.check_readonly(&v, t.line)?;
            lhs.push(v);
        }
        self.note_last_function(values, next_line);
        // Only a function or a table constructor takes its target's name (see `Proto::name`).
        let names: smallvec::SmallVec<[Option<std::sync::Arc<str>>; 4]> = targets
            .iter()
            .zip(values.iter())
            .map(|(t, v)| {
                if names_value(v) {
                    self.target_name(t)
                } else {
                    None
                }
            })
            .collect();
        let mut e = self.exp_list_named(values, &names)?;
        self.fn_after = None;
        // luac gives the stores the line of the last token of the value list.
        if let Some(last) = values.last() {
            self.fs.line = super::expr_last_line(last);
        }
        let n = lhs.len();
        if values.len() != n {
            self.adjust_assign(n as i32, values.len() as i32, &mut e)?;
        } else {
            self.set_one_ret(&mut e);
            self.store_var(&lhs[n - 1], &mut e)?;
            for var in lhs[..n - 1].iter().rev() {
                let mut e = ExpDesc::new(EK::NonReloc(self.fs.free_reg - 1));
                self.store_var(var, &mut e)?;
            }
            return Ok(());
        }
        for var in lhs.iter().rev() {
            let mut e = ExpDesc::new(EK::NonReloc(self.fs.free_reg - 1));
            self.store_var(var, &mut e)?;
        }
        Ok(())
    }

    /// A local or upvalue assigned in a multiple assignment may be the table or key of an
    /// earlier target: that target must use a copy made before the assignment.
    fn check_conflict(&mut self, lhs: &mut [ExpDesc], v: &ExpDesc) -> R<()> {
        let extra = self.fs.free_reg;
        let mut conflict = false;
        for lh in lhs.iter_mut() {
            match (&mut lh.k, &v.k) {
                (EK::IndexUp { t, idx }, EK::Upval(u)) if *t == *u => {
                    conflict = true;
                    lh.k = EK::IndexStr {
                        t: extra,
                        idx: *idx,
                    };
                }
                (EK::Indexed { t, idx }, EK::Local { reg, .. }) => {
                    if *t == *reg {
                        conflict = true;
                        *t = extra;
                    }
                    if *idx == *reg {
                        conflict = true;
                        *idx = extra;
                    }
                }
                (EK::IndexI { t, .. } | EK::IndexStr { t, .. }, EK::Local { reg, .. })
                    if *t == *reg =>
                {
                    conflict = true;
                    *t = extra;
                }
                _ => {}
            }
        }
        if conflict {
            match v.k {
                EK::Local { reg, .. } => self.fs.code_abc(OpCode::Move, extra, reg, 0),
                EK::Upval(u) => self.fs.code_abc(OpCode::GetUpval, extra, u, 0),
                _ => 0,
            };
            self.fs.reserve_regs(1)?;
        }
        Ok(())
    }

    /// Adjusts `nexps` values (the last one `e`) to `nvars`.
    fn adjust_assign(&mut self, nvars: i32, nexps: i32, e: &mut ExpDesc) -> R<()> {
        let needed = nvars - nexps;
        if e.is_multi() {
            let extra = (needed + 1).max(0);
            self.fs.check_stack(extra as u32)?;
            self.set_returns(e, extra)?;
        } else {
            if e.k != EK::Void {
                self.exp_to_next_reg(e)?;
            }
            if needed > 0 {
                self.fs.check_stack(needed as u32)?;
                let fr = self.fs.free_reg;
                self.fs.nil(fr, needed as u32);
            }
        }
        if needed > 0 {
            self.fs.reserve_regs(needed as u32)?;
        } else {
            self.fs.free_reg = (self.fs.free_reg as i32 + needed) as u32;
        }
        Ok(())
    }

    fn local_stat(
        &mut self,
        names: &[LocalName],
        exprs: &[Expr],
        line: u32,
        next_line: Option<u32>,
    ) -> R<()> {
        if names.is_empty() {
            return Ok(());
        }
        let mut toclose: Option<u32> = None;
        let mut vidx = 0;
        for (i, n) in names.iter().enumerate() {
            let near = if i + 1 < names.len() {
                if n.attrib != Attrib::None {
                    "'<'"
                } else {
                    "','"
                }
            } else if n.attrib != Attrib::None {
                "'<'"
            } else if !exprs.is_empty() {
                "'='"
            } else {
                "<eof>"
            };
            let near = if near == "<eof>" {
                // The error is reported at the token after the statement.
                self.fs.line = next_line.unwrap_or(line);
                Near::Next
            } else {
                Near::Tok(near)
            };
            vidx = self.new_localvar(n.name, near)?;
            self.fs.line = line;
            let kind = match n.attrib {
                Attrib::None => VarKindD::Regular,
                Attrib::Const => VarKindD::Const,
                Attrib::Close => VarKindD::Close,
            };
            self.fs.actvar[vidx as usize].kind = kind;
            if kind == VarKindD::Close {
                if toclose.is_some() {
                    return Err(super::func::CgErr::new(
                        self.chunk_name,
                        line,
                        "multiple to-be-closed variables in local list",
                    ));
                }
                toclose = Some(self.fs.nactvar + i as u32);
            }
        }
        let nvars = names.len() as i32;
        self.note_last_function(exprs, next_line);
        let base = self.fs.free_reg;
        let decl_names: smallvec::SmallVec<[Option<std::sync::Arc<str>>; 4]> = names
            .iter()
            .zip(exprs.iter())
            .map(|(n, v)| names_value(v).then(|| self.name_arc(n.name)))
            .collect();
        let mut e = self.exp_list_named(exprs, &decl_names)?;
        self.fn_after = None;
        let nexps = exprs.len() as i32;
        let var_kind = self.fs.actvar[vidx as usize].kind;
        let ctc = if nvars == nexps && var_kind == VarKindD::Const {
            self.exp_to_const(&e)
        } else {
            None
        };
        if let Some(c) = ctc {
            let v = &mut self.fs.actvar[vidx as usize];
            v.kind = VarKindD::CompileTimeConst;
            v.k = Some(c);
            self.adjust_localvars(nvars as u32 - 1);
            let vidx = self.fs.nactvar;
            self.bind(vidx);
            self.fs.nactvar += 1;
        } else if toclose.is_none() && self.at_module_scope() {
            // A module's top-level locals: each value moves from its register into the
            // module's cell for it (the registers are free again after the statement).
            self.adjust_assign(nvars, nexps, &mut e)?;
            for i in 0..nvars as u32 {
                let vidx = self.fs.nactvar;
                let u = self.activate_module_var(vidx)?;
                self.fs.code_abc(OpCode::SetUpval, base + i, u, 0);
            }
        } else {
            self.adjust_assign(nvars, nexps, &mut e)?;
            self.adjust_localvars(nvars as u32);
        }
        if let Some(level) = toclose {
            self.mark_to_be_closed();
            let r = self.fs.reg_level(level);
            self.fs.code_abc(OpCode::Tbc, r, 0, 0);
        }
        Ok(())
    }

    /// The compile-time value of `e`, if it has one (PUC's `luaK_exp2const`).
    fn exp_to_const(&self, e: &ExpDesc) -> Option<EK> {
        if e.has_jumps() {
            return None;
        }
        match &e.k {
            EK::False | EK::True | EK::Nil | EK::KStr(_) | EK::KInt(_) | EK::KFlt(_) => {
                Some(e.k.clone())
            }
            EK::Const { level, vidx } => self.var_at(*level, *vidx).k.clone(),
            _ => None,
        }
    }

    fn func_stat(
        &mut self,
        name: &FuncName,
        body: &FuncBody,
        line: u32,
        next_line: Option<u32>,
    ) -> R<()> {
        let Some(&first) = name.path.first() else {
            return Err(self.fs.err("syntax error"));
        };
        let mut v = self.single_var(first)?;
        let fields = name.path.iter().skip(1).copied().chain(name.method);
        for field in fields {
            self.exp_to_any_reg_up(&mut v)?;
            let mut key = ExpDesc::new(EK::KStr(field));
            self.indexed(&mut v, &mut key)?;
        }
        let after = next_line.unwrap_or(body.end_line);
        let mut decl = String::new();
        for (i, p) in name.path.iter().enumerate() {
            if i > 0 {
                decl.push('.');
            }
            decl.push_str(&self.strings.name(*p));
        }
        if let Some(m) = name.method {
            decl.push(':');
            decl.push_str(&self.strings.name(m));
        }
        self.name_ctx = Some(std::sync::Arc::from(decl));
        let mut b = self.body(body, name.method.is_some(), after)?;
        self.check_readonly(&v, after)?;
        self.fs.line = line;
        self.store_var(&v, &mut b)?;
        self.fs.fix_line(line);
        Ok(())
    }

    fn ret_stat(&mut self, r: &Return) -> R<()> {
        self.fs.line = r.line;
        let mut first = self.fs.nvarstack();
        let nret: i32;
        if r.exprs.is_empty() {
            nret = 0;
        } else {
            let ret_names: smallvec::SmallVec<[Option<std::sync::Arc<str>>; 2]> = r
                .exprs
                .iter()
                .map(|v| names_value(v).then(|| std::sync::Arc::from("return")))
                .collect();
            let mut e = self.exp_list_named(&r.exprs, &ret_names)?;
            if e.is_multi() {
                self.set_returns(&mut e, -1)?;
                let tbc = self.fs.blocks.last().is_some_and(|b| b.inside_tbc);
                if let EK::Call(pc) = e.k {
                    if r.exprs.len() == 1 && !tbc {
                        let i = self.fs.f.code[pc];
                        self.fs.f.code[pc] =
                            Instr::abc(OpCode::TailCall, i.a(), i.b(), i.c(), i.k());
                    }
                }
                nret = -1;
            } else if r.exprs.len() == 1 {
                first = self.exp_to_any_reg(&mut e)?;
                nret = 1;
            } else {
                self.exp_to_next_reg(&mut e)?;
                first = self.fs.nvarstack();
                nret = r.exprs.len() as i32;
            }
        }
        // luac gives the return the line of its last token.
        self.fs.line = r
            .exprs
            .last()
            .map_or(r.line, super::expr_last_line)
            .max(r.line);
        self.fs.ret(first, nret);
        Ok(())
    }

    /// A condition: falls through when true; returns the false exit list.
    fn cond(&mut self, c: &Expr) -> R<i32> {
        let mut v = self.expr(c)?;
        if v.k == EK::Nil {
            v.k = EK::False;
        }
        self.go_if_true(&mut v)?;
        Ok(v.f)
    }

    fn while_stat(&mut self, cond: &Expr, body: &Block, end_line: u32) -> R<()> {
        let while_init = self.fs.get_label();
        let condexit = self.cond(cond)?;
        self.enter_block(true);
        self.block(body, true)?;
        // The jump back follows the body's last token; what follows comes after `end`.
        self.fs.line = super::block_last_line(body).unwrap_or(self.fs.line);
        let j = self.fs.jump();
        self.fs.patch_list(j, while_init)?;
        self.fs.line = end_line;
        self.leave_block()?;
        self.fs.patch_to_here(condexit)
    }

    fn repeat_stat(&mut self, body: &Block, cond: &Expr) -> R<()> {
        let repeat_init = self.fs.get_label();
        self.enter_block(true);
        self.enter_block(false);
        self.enter_path();
        self.stat_list(body, true, Some(cond.line), "'until'")?;
        let mut condexit = self.cond(cond)?;
        self.leave_path();
        let (upval, nactvar) = match self.fs.blocks.last() {
            Some(b) => (b.upval, b.nactvar),
            None => (false, 0),
        };
        self.leave_block()?;
        if upval {
            let exit = self.fs.jump();
            self.fs.patch_to_here(condexit)?;
            let lvl = self.fs.reg_level(nactvar);
            self.fs.code_abc(OpCode::Close, lvl, 0, 0);
            condexit = self.fs.jump();
            self.fs.patch_to_here(exit)?;
        }
        self.fs.patch_list(condexit, repeat_init)?;
        self.leave_block()
    }

    fn if_stat(&mut self, arms: &[(Expr, Block)], else_block: Option<&Block>) -> R<()> {
        let mut escape = NO_JUMP;
        for (i, (c, b)) in arms.iter().enumerate() {
            let end_tok = if i + 1 < arms.len() {
                "'elseif'"
            } else if else_block.is_some() {
                "'else'"
            } else {
                "'end'"
            };
            self.test_then_block(c, b, end_tok != "'end'", end_tok, &mut escape)?;
        }
        if let Some(b) = else_block {
            self.block(b, true)?;
        }
        self.fs.patch_to_here(escape)
    }

    fn test_then_block(
        &mut self,
        c: &Expr,
        b: &Block,
        has_more: bool,
        end_tok: &'static str,
        escape: &mut i32,
    ) -> R<()> {
        let mut v = self.expr(c)?;
        // luac tests the condition once past `then`, on its line.
        if b.then_line != 0 {
            self.fs.line = b.then_line;
        }
        let jf;
        let mut skip_first = false;
        if let Some(Stat {
            kind: StatKind::Break,
            line,
            ..
        }) = b.stats.first()
        {
            // `if x then break`: the condition jumps straight out of the loop.
            self.go_if_false(&mut v)?;
            self.enter_block(false);
            self.enter_path();
            self.new_goto_entry(Sym::BREAK, *line, v.t);
            if b.stats.len() == 1 && b.ret.is_none() {
                self.leave_path();
                return self.leave_block();
            }
            jf = self.fs.jump();
            skip_first = true;
        } else {
            self.go_if_true(&mut v)?;
            self.enter_block(false);
            self.enter_path();
            jf = v.f;
        }
        if skip_first {
            self.stat_list_at(b, 1, false, None, end_tok)?;
        } else {
            self.stat_list(b, false, None, end_tok)?;
        }
        self.leave_path();
        self.leave_block()?;
        if has_more {
            // luac emits the escape jump after the arm's last token.
            if let Some(l) = super::block_last_line(b) {
                self.fs.line = l;
            }
            let j = self.fs.jump();
            self.fs.concat(escape, j)?;
        }
        self.fs.patch_to_here(jf)
    }

    fn exp1(&mut self, e: &Expr) -> R<()> {
        let mut v = self.expr(e)?;
        self.exp_to_next_reg(&mut v)
    }

    #[allow(clippy::too_many_arguments)]
    fn num_for(
        &mut self,
        var: Sym,
        start: &Expr,
        limit: &Expr,
        step: Option<&Expr>,
        body: &Block,
        line: u32,
        end_line: u32,
    ) -> R<()> {
        self.enter_block(true);
        self.enter_path();
        let base = self.fs.free_reg;
        for _ in 0..3 {
            self.new_localvar(Sym::FOR_STATE, Near::Tok("'='"))?;
        }
        self.new_localvar(var, Near::Tok("'='"))?;
        self.exp1(start)?;
        self.exp1(limit)?;
        match step {
            Some(s) => self.exp1(s)?,
            None => {
                let r = self.fs.free_reg;
                self.fs.load_int(r, 1);
                self.fs.reserve_regs(1)?;
            }
        }
        self.adjust_localvars(3);
        self.for_body(base, line, 1, false, body)?;
        self.leave_path();
        self.fs.line = end_line;
        self.leave_block()
    }

    fn gen_for(
        &mut self,
        names: &[crate::ast::Name],
        exprs: &[Expr],
        body: &Block,
        line: u32,
        end_line: u32,
    ) -> R<()> {
        self.enter_block(true);
        self.enter_path();
        let base = self.fs.free_reg;
        for _ in 0..4 {
            self.new_localvar(Sym::FOR_STATE, Near::Tok("'in'"))?;
        }
        for (i, n) in names.iter().enumerate() {
            let near = if i + 1 < names.len() { "','" } else { "'in'" };
            self.new_localvar(*n, Near::Tok(near))?;
        }
        let line = exprs.first().map_or(line, |e| e.line);
        let mut e = self.exp_list(exprs)?;
        self.adjust_assign(4, exprs.len() as i32, &mut e)?;
        self.adjust_localvars(4);
        self.mark_to_be_closed();
        self.fs.check_stack(3)?;
        self.for_body(base, line, names.len() as u32, true, body)?;
        self.leave_path();
        self.fs.line = end_line;
        self.leave_block()
    }

    fn for_body(&mut self, base: u32, line: u32, nvars: u32, generic: bool, body: &Block) -> R<()> {
        let (prep_op, loop_op) = if generic {
            (OpCode::TForPrep, OpCode::TForLoop)
        } else {
            (OpCode::ForPrep, OpCode::ForLoop)
        };
        self.fs.line = line;
        let prep = self.fs.code_abx(prep_op, base, 0);
        self.enter_block(false);
        self.adjust_localvars(nvars);
        self.fs.reserve_regs(nvars)?;
        self.block(body, false)?;
        self.leave_block()?;
        self.fs.line = line;
        let dest = self.fs.get_label();
        self.fix_for_jump(prep, dest, false)?;
        if generic {
            self.fs.code_abc(OpCode::TForCall, base, 0, nvars);
            self.fs.fix_line(line);
        }
        let endfor = self.fs.code_abx(loop_op, base, 0);
        self.fix_for_jump(endfor, prep + 1, true)?;
        self.fs.fix_line(line);
        Ok(())
    }

    fn fix_for_jump(&mut self, pc: usize, dest: usize, back: bool) -> R<()> {
        let mut offset = dest as i64 - (pc as i64 + 1);
        if back {
            offset = -offset;
        }
        if offset > MAX_BX as i64 || offset < 0 {
            return Err(self.fs.err("control structure too long"));
        }
        self.fs.f.code[pc].set_bx(offset as u32);
        Ok(())
    }
}

/// The first token of a statement (luac's `near` for errors found before it).
fn stat_first_token(s: &Stat) -> FirstTok {
    use super::expr::first_token_or_unknown;
    FirstTok::Fixed(match &s.kind {
        StatKind::Assign { targets, .. } => {
            return targets
                .first()
                .map_or(FirstTok::Fixed("?"), first_token_or_unknown)
        }
        StatKind::Call(e) => return first_token_or_unknown(e),
        StatKind::Label(_) => "'::'",
        StatKind::Break => "'break'",
        StatKind::Goto(_) => "'goto'",
        StatKind::Do(_) => "'do'",
        StatKind::While { .. } => "'while'",
        StatKind::Repeat { .. } => "'repeat'",
        StatKind::If { .. } => "'if'",
        StatKind::NumFor(_) | StatKind::GenFor { .. } => "'for'",
        StatKind::Function { .. } => "'function'",
        StatKind::LocalFunction { .. } | StatKind::Local { .. } => "'local'",
    })
}

/// Whether an expression takes a declaration name from where it is stored: a function, or
/// a table constructor (whose function fields are named after it).
fn names_value(e: &crate::ast::Expr) -> bool {
    matches!(
        e.kind,
        crate::ast::ExprKind::Function(_) | crate::ast::ExprKind::Table(_)
    )
}

//! Scopes: local variable declaration and activation, name resolution (locals, upvalues,
//! globals through `_ENV`), blocks with their upvalue-closing duties, and goto/label
//! resolution with Lua 5.4's rules.
//!
//! Invariants: `fs.actvar[..nactvar]` are the active locals of the current function in
//! declaration order; every active local of every open function has a [`Binding`], pushed
//! when it becomes active and popped when it dies (always in stack order), and
//! `bind_top[name]` is the innermost binding of `name`, so resolution is O(1); pending gotos of a block start at its `first_goto` and are moved to
//! the enclosing block when it ends (getting a `close` flag when they leave the scope of a
//! captured variable); visible labels are `labels[fs.first_label..]`.

use crate::opcode::OpCode;
use crate::proto::{LocVar, UpvalDesc, VarKind};
use crate::strings::Sym;

use super::expr::{ExpDesc, EK};
use super::func::{
    BlockCnt, CgErr, FuncState, PathScope, VarDesc, VarKindD, MAX_UPVAL, MAX_VARS, R,
};
use super::Codegen;

/// `LabelDesc::pc` of a goto already resolved (a tombstone until its block ends). Not
/// `usize::MAX`: that is an empty jump list (`NO_JUMP as usize`), which a goto may have.
const RESOLVED: usize = usize::MAX - 1;

/// A pending goto or an active label.
#[derive(Debug, Clone)]
pub(crate) struct LabelDesc {
    pub name: Sym,
    pub pc: usize,
    pub line: u32,
    /// Active variables at that point.
    pub nactvar: u32,
    /// A goto that leaves the scope of a captured variable (needs `CLOSE`).
    pub close: bool,
}

/// An active local as seen by name resolution: local `vidx` of the function at nesting
/// `level`; `prev` is the binding it shadows (index + 1 in `Codegen::binds`, 0 for none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binding {
    level: u32,
    vidx: u32,
    prev: u32,
}

/// What luac shows as `near` for a declaration limit error.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Near {
    /// A fixed token, quoted.
    Tok(&'static str),
    /// The token after the statement being compiled.
    Next,
}

impl<'a> Codegen<'a> {
    /// The function at nesting `level` (0 is the main function).
    pub(crate) fn level(&self, level: usize) -> &FuncState {
        if level < self.outer.len() {
            &self.outer[level]
        } else {
            &self.fs
        }
    }
    fn level_mut(&mut self, level: usize) -> &mut FuncState {
        if level < self.outer.len() {
            &mut self.outer[level]
        } else {
            &mut self.fs
        }
    }
    pub(crate) fn cur_level(&self) -> usize {
        self.outer.len()
    }
    pub(crate) fn var_at(&self, level: u32, vidx: u32) -> &VarDesc {
        &self.level(level as usize).actvar[vidx as usize]
    }

    /// The "too many X (limit is N) in F" error.
    pub(crate) fn error_limit(&self, level: usize, limit: usize, what: &str, near: &str) -> CgErr {
        let fs = self.level(level);
        let line = fs.f.line_defined;
        let wher = if line == 0 {
            "main function".to_string()
        } else {
            format!("function at line {}", line)
        };
        self.fs.err(format!(
            "too many {} (limit is {}) in {} near {}",
            what, limit, wher, near
        ))
    }

    // ---- declaration identity ----

    /// Enters a syntactic block for declaration identities.
    pub(crate) fn enter_path(&mut self) {
        let fs = &mut self.fs;
        let idx = match fs.scopes.last_mut() {
            Some(s) => {
                let i = s.children;
                s.children = s.children.saturating_add(1);
                i
            }
            None => 0,
        };
        fs.path.push(idx);
        fs.scopes.push(PathScope {
            children: 0,
            first_decl: fs.declared.len(),
        });
    }
    pub(crate) fn leave_path(&mut self) {
        self.fs.path.pop();
        if let Some(s) = self.fs.scopes.pop() {
            self.fs.declared.truncate(s.first_decl);
        }
    }

    // ---- locals ----

    /// Declares a local (not yet active). `near` is the token luac would show in a limit
    /// error.
    pub(crate) fn new_localvar(&mut self, name: Sym, near: Near) -> R<u32> {
        if self.fs.actvar.len() + 1 > MAX_VARS {
            let lvl = self.cur_level();
            let near = match near {
                Near::Tok(t) => t.to_string(),
                Near::Next => self.next_tok_text(),
            };
            return Err(self.error_limit(lvl, MAX_VARS, "local variables", &near));
        }
        let fs = &mut self.fs;
        // The block's earlier declarations of the same name (a block declares at most a
        // few hundred names: MAX_VARS bounds the active ones).
        let first = fs.scopes.last().map_or(fs.declared.len(), |s| s.first_decl);
        let shadow = fs.declared[first..].iter().filter(|&&n| n == name).count();
        fs.declared.push(name);
        let scope_path: Box<[u16]> = if fs.path.is_empty() {
            Box::default()
        } else {
            fs.path.as_slice().into()
        };
        fs.actvar.push(VarDesc {
            name,
            kind: VarKindD::Regular,
            ridx: 0,
            pidx: 0,
            k: None,
            scope_path,
            shadow: shadow.min(u16::MAX as usize) as u16,
            decl: std::cell::OnceCell::new(),
        });
        Ok(fs.actvar.len() as u32 - 1)
    }

    /// The shared text of a name, for debug information.
    pub(crate) fn name_arc(&mut self, name: Sym) -> std::sync::Arc<str> {
        let i = name.index();
        if i >= self.name_arcs.len() {
            self.name_arcs.resize(i + 1, None);
        }
        let strings = self.strings;
        self.name_arcs[i]
            .get_or_insert_with(|| std::sync::Arc::from(&*strings.name(name)))
            .clone()
    }

    /// Makes local `vidx` of the current function visible to name resolution.
    pub(crate) fn bind(&mut self, vidx: u32) {
        let name = self.fs.actvar[vidx as usize].name.index();
        if name >= self.bind_top.len() {
            self.bind_top.resize(name + 1, 0);
        }
        self.binds.push(Binding {
            level: self.outer.len() as u32,
            vidx,
            prev: self.bind_top[name],
        });
        self.bind_top[name] = self.binds.len() as u32;
    }

    /// Activates the next `n` declared locals.
    pub(crate) fn adjust_localvars(&mut self, n: u32) {
        let first_reg = self.fs.nvarstack();
        for reglevel in first_reg..first_reg + n {
            let vidx = self.fs.nactvar;
            self.bind(vidx);
            let name = self.name_arc(self.fs.actvar[vidx as usize].name);
            let fs = &mut self.fs;
            fs.nactvar += 1;
            let pc = fs.pc() as u32;
            let v = &mut fs.actvar[vidx as usize];
            v.ridx = reglevel;
            v.pidx = fs.f.locvars.len();
            fs.f.locvars.push(LocVar {
                name,
                start_pc: pc,
                end_pc: pc,
                scope_path: v.scope_path.clone(),
                shadow: v.shadow,
            });
        }
    }

    /// Ends the scope of the locals above `tolevel`.
    pub(crate) fn remove_vars(&mut self, tolevel: u32) {
        let fs = &mut self.fs;
        let pc = fs.pc() as u32;
        while fs.nactvar > tolevel {
            fs.nactvar -= 1;
            let v = &fs.actvar[fs.nactvar as usize];
            if v.kind.in_register() {
                fs.f.locvars[v.pidx].end_pc = pc;
            }
            // Bindings die in the order they were made: this is the innermost one.
            if let Some(b) = self.binds.pop() {
                self.bind_top[v.name.index()] = b.prev;
            }
        }
        fs.actvar.truncate(tolevel as usize);
    }

    /// The identity of a local declaration of the function at `fn_path` (see
    /// `UpvalDesc::decl`).
    pub(crate) fn local_decl(&self, fn_path: &str, v: &VarDesc) -> std::sync::Arc<str> {
        let mut s = String::with_capacity(fn_path.len() + 16);
        s.push_str(fn_path);
        s.push('|');
        s.push_str(&self.strings.name(v.name));
        if v.shadow > 0 {
            s.push('#');
            s.push_str(&(v.shadow + 1).to_string());
        }
        if !v.scope_path.is_empty() {
            s.push('@');
            for (i, p) in v.scope_path.iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                s.push_str(&p.to_string());
            }
        }
        std::sync::Arc::from(s)
    }

    /// Module mode: makes declared local `vidx` of the main function (at chunk scope) an
    /// upvalue of the main function, active from now on. Returns the upvalue's index.
    pub(crate) fn activate_module_var(&mut self, vidx: u32) -> R<u32> {
        if self.fs.f.upvalues.len() + 1 > MAX_UPVAL {
            let name = self.fs.actvar[vidx as usize].name;
            let near = format!("'{}'", self.strings.name(name));
            return Err(self.error_limit(0, MAX_UPVAL, "upvalues", &near));
        }
        let v = self.fs.actvar[vidx as usize].clone();
        let decl = self.local_decl("", &v);
        let kind = match v.kind {
            VarKindD::Const => VarKind::Const,
            _ => VarKind::Regular,
        };
        let text = self.name_arc(v.name);
        let fs = &mut self.fs;
        let u = fs.f.upvalues.len() as u32;
        fs.f.upvalues.push(UpvalDesc {
            name: text,
            in_stack: false,
            index: 0,
            kind,
            decl,
        });
        fs.upval_syms.push(v.name);
        fs.actvar[vidx as usize].kind = VarKindD::Module(u);
        self.bind(vidx);
        self.fs.nactvar += 1;
        Ok(u)
    }

    /// Module mode and at the main chunk's own scope (not in a nested block or function).
    pub(crate) fn at_module_scope(&self) -> bool {
        self.module_mode && self.outer.is_empty() && self.fs.blocks.len() == 1
    }

    // ---- name resolution ----

    /// The active local `name` of function `level`, if it is the innermost binding of the
    /// name (resolution walks the levels from the innermost out, so an inner binding of
    /// the name would have been found first).
    fn search_var(&self, level: usize, name: Sym) -> Option<EK> {
        let top = *self.bind_top.get(name.index())?;
        let b = self.binds.get((top as usize).checked_sub(1)?)?;
        if b.level as usize != level {
            return None;
        }
        let i = b.vidx;
        let v = &self.level(level).actvar[i as usize];
        Some(if v.kind == VarKindD::CompileTimeConst {
            EK::Const {
                level: level as u32,
                vidx: i,
            }
        } else if let VarKindD::Module(u) = v.kind {
            EK::Upval(u)
        } else {
            EK::Local {
                reg: v.ridx,
                vidx: i,
            }
        })
    }

    fn search_upvalue(&self, level: usize, name: Sym) -> Option<u32> {
        self.level(level)
            .upval_syms
            .iter()
            .position(|&u| u == name)
            .map(|i| i as u32)
    }

    /// Marks the block declaring local `vidx` of function `level` as having a captured
    /// variable.
    fn mark_upval(&mut self, level: usize, vidx: u32) {
        let fs = self.level_mut(level);
        if let Some(bl) = fs.blocks.iter_mut().rev().find(|b| b.nactvar <= vidx) {
            bl.upval = true;
        }
        fs.needclose = true;
    }

    /// The current block has a to-be-closed variable.
    pub(crate) fn mark_to_be_closed(&mut self) {
        let fs = &mut self.fs;
        if let Some(bl) = fs.blocks.last_mut() {
            bl.upval = true;
            bl.inside_tbc = true;
        }
        fs.needclose = true;
    }

    fn new_upvalue(&mut self, level: usize, name: Sym, v: &EK) -> R<u32> {
        if self.level(level).f.upvalues.len() + 1 > MAX_UPVAL {
            let near = format!("'{}'", self.strings.name(name));
            return Err(self.error_limit(level, MAX_UPVAL, "upvalues", &near));
        }
        let prev = self.level(level - 1);
        let (in_stack, index, kind, decl) = match *v {
            EK::Local { reg, vidx } => {
                let var = &prev.actvar[vidx as usize];
                let kind = match var.kind {
                    VarKindD::Const => VarKind::Const,
                    VarKindD::Close => VarKind::Close,
                    _ => VarKind::Regular,
                };
                let decl = var
                    .decl
                    .get_or_init(|| self.local_decl(&prev.fn_path, var))
                    .clone();
                (true, reg as u8, kind, decl)
            }
            EK::Upval(u) => {
                let up = &prev.f.upvalues[u as usize];
                (false, u as u8, up.kind, up.decl.clone())
            }
            _ => (false, 0, VarKind::Regular, std::sync::Arc::from("?")),
        };
        let text = self.name_arc(name);
        let fs = self.level_mut(level);
        fs.f.upvalues.push(UpvalDesc {
            name: text,
            in_stack,
            index,
            kind,
            decl,
        });
        fs.upval_syms.push(name);
        Ok(fs.f.upvalues.len() as u32 - 1)
    }

    /// Resolves `name` in function `level`: a local, an upvalue, a compile-time constant or
    /// `Void` for a global.
    fn single_var_aux(&mut self, level: usize, name: Sym, base: bool) -> R<EK> {
        if let Some(ek) = self.search_var(level, name) {
            if let EK::Local { vidx, .. } = ek {
                if !base {
                    self.mark_upval(level, vidx);
                }
            }
            return Ok(ek);
        }
        if let Some(idx) = self.search_upvalue(level, name) {
            return Ok(EK::Upval(idx));
        }
        if level == 0 {
            return Ok(EK::Void);
        }
        let ek = self.single_var_aux(level - 1, name, false)?;
        match ek {
            EK::Local { .. } | EK::Upval(_) => Ok(EK::Upval(self.new_upvalue(level, name, &ek)?)),
            other => Ok(other),
        }
    }

    /// A variable reference: globals become `_ENV.name`.
    pub(crate) fn single_var(&mut self, name: Sym) -> R<ExpDesc> {
        let lvl = self.cur_level();
        let ek = self.single_var_aux(lvl, name, true)?;
        if ek != EK::Void {
            return Ok(ExpDesc::new(ek));
        }
        let env = self.single_var_aux(lvl, Sym::ENV, true)?;
        let mut var = ExpDesc::new(env);
        if var.k == EK::Void {
            // No `_ENV` at all cannot happen (the main function always has it).
            return Err(self.fs.err("no _ENV"));
        }
        self.exp_to_any_reg_up(&mut var)?;
        let mut key = ExpDesc::new(EK::KStr(name));
        self.indexed(&mut var, &mut key)?;
        Ok(var)
    }

    /// The "attempt to assign to const variable" check.
    pub(crate) fn check_readonly(&self, e: &ExpDesc, line: u32) -> R<()> {
        let name = match e.k {
            EK::Const { level, vidx } => Some(self.var_at(level, vidx).name),
            EK::Local { vidx, .. } => {
                let v = &self.fs.actvar[vidx as usize];
                (v.kind != VarKindD::Regular).then_some(v.name)
            }
            EK::Upval(u) => {
                let up = &self.fs.f.upvalues[u as usize];
                (up.kind != VarKind::Regular).then_some(self.fs.upval_syms[u as usize])
            }
            _ => None,
        };
        match name {
            Some(n) => Err(CgErr::new(
                self.chunk_name,
                line,
                format!(
                    "attempt to assign to const variable '{}'",
                    self.strings.name(n)
                ),
            )),
            None => Ok(()),
        }
    }

    // ---- blocks ----

    pub(crate) fn enter_block(&mut self, is_loop: bool) {
        let fs = &mut self.fs;
        let inside_tbc = fs.blocks.last().is_some_and(|b| b.inside_tbc);
        fs.blocks.push(BlockCnt {
            first_label: self.labels.len(),
            first_goto: self.gotos.len(),
            nactvar: fs.nactvar,
            upval: false,
            is_loop,
            inside_tbc,
        });
    }

    pub(crate) fn leave_block(&mut self) -> R<()> {
        let (bl_nactvar, bl_loop, bl_upval, first_label, first_goto) = match self.fs.blocks.last() {
            Some(b) => (b.nactvar, b.is_loop, b.upval, b.first_label, b.first_goto),
            None => return Ok(()),
        };
        let has_previous = self.fs.blocks.len() > 1;
        let stklevel = self.fs.reg_level(bl_nactvar);
        // As luac 5.4.4: the break label and the CLOSE come before the locals' scope ends.
        let mut hasclose = false;
        if bl_loop {
            let line = self.fs.line;
            hasclose = self.create_label(Sym::BREAK, 0, false, line)?;
        }
        self.compact_gotos(first_goto);
        // Register levels of pending gotos, computed while their variables are known.
        let goto_levels: Vec<u32> = self.gotos[first_goto..]
            .iter()
            .map(|g| self.fs.reg_level(g.nactvar))
            .collect();
        if !hasclose && has_previous && bl_upval {
            self.fs.code_abc(OpCode::Close, stklevel, 0, 0);
        }
        self.fs.free_reg = stklevel;
        self.remove_vars(bl_nactvar);
        for l in &self.labels[first_label..] {
            if let Some(v) = self.label_index.get_mut(&l.name) {
                v.pop();
            }
        }
        self.labels.truncate(first_label);
        self.fs.blocks.pop();
        if has_previous {
            for (g, lvl) in self.gotos[first_goto..].iter_mut().zip(goto_levels) {
                if lvl > stklevel {
                    g.close |= bl_upval;
                }
                g.nactvar = bl_nactvar;
            }
        } else if let Some(g) = self.gotos.get(first_goto) {
            let msg = if g.name == Sym::BREAK {
                format!("break outside loop at line {}", g.line)
            } else {
                format!(
                    "no visible label '{}' for <goto> at line {}",
                    self.strings.name(g.name),
                    g.line
                )
            };
            return Err(CgErr::new(self.chunk_name, self.fs.end_err_line, msg));
        }
        Ok(())
    }

    // ---- gotos and labels ----

    /// Drops the resolved gotos (tombstones) at or above `first`, re-indexing the pending
    /// ones: O(gotos of the block), once per block they pass through.
    fn compact_gotos(&mut self, first: usize) {
        if !self.gotos[first..].iter().any(|g| g.pc == RESOLVED) {
            return;
        }
        for g in &self.gotos[first..] {
            if g.pc != RESOLVED {
                if let Some(v) = self.goto_index.get_mut(&g.name) {
                    while v.last().is_some_and(|&i| i as usize >= first) {
                        v.pop();
                    }
                }
            }
        }
        let mut w = first;
        for r in first..self.gotos.len() {
            if self.gotos[r].pc != RESOLVED {
                self.gotos.swap(w, r);
                let name = self.gotos[w].name;
                self.goto_index.entry(name).or_default().push(w as u32);
                w += 1;
            }
        }
        self.gotos.truncate(w);
    }

    pub(crate) fn new_goto_entry(&mut self, name: Sym, line: u32, pc: i32) {
        self.goto_index
            .entry(name)
            .or_default()
            .push(self.gotos.len() as u32);
        self.gotos.push(LabelDesc {
            name,
            pc: pc as usize,
            line,
            nactvar: self.fs.nactvar,
            close: false,
        });
    }

    /// The visible label `name` of the current function (labels of one function never
    /// share a name while visible, so the innermost is the only one).
    pub(crate) fn find_label(&self, name: Sym) -> Option<&LabelDesc> {
        let &i = self.label_index.get(&name)?.last()?;
        (i as usize >= self.fs.first_label).then(|| &self.labels[i as usize])
    }

    /// Creates a label here and resolves the pending gotos to it; true when a `CLOSE` was
    /// emitted for them. `err_line` is the line luac reports for scope errors.
    pub(crate) fn create_label(
        &mut self,
        name: Sym,
        line: u32,
        last: bool,
        err_line: u32,
    ) -> R<bool> {
        let pc = self.fs.get_label();
        let nactvar = if last {
            self.fs.blocks.last().map_or(self.fs.nactvar, |b| b.nactvar)
        } else {
            self.fs.nactvar
        };
        let label = LabelDesc {
            name,
            pc,
            line,
            nactvar,
            close: false,
        };
        self.label_index
            .entry(name)
            .or_default()
            .push(self.labels.len() as u32);
        self.labels.push(label.clone());
        if self.solve_gotos(&label, err_line)? {
            let lvl = self.fs.nvarstack();
            self.fs.code_abc(OpCode::Close, lvl, 0, 0);
            return Ok(true);
        }
        Ok(false)
    }

    fn solve_gotos(&mut self, lb: &LabelDesc, err_line: u32) -> R<bool> {
        let first = self
            .fs
            .blocks
            .last()
            .map_or(self.gotos.len(), |b| b.first_goto);
        // The pending gotos of this block with the label's name: a suffix of its index.
        let mut todo: Vec<u32> = Vec::new();
        if let Some(v) = self.goto_index.get_mut(&lb.name) {
            while v.last().is_some_and(|&i| i as usize >= first) {
                todo.push(v.pop().unwrap_or_default());
            }
        }
        let mut needsclose = false;
        for &i in todo.iter().rev() {
            let i = i as usize;
            {
                let gt = self.gotos[i].clone();
                self.gotos[i].pc = RESOLVED;
                needsclose |= gt.close;
                if gt.nactvar < lb.nactvar {
                    let var = self
                        .fs
                        .actvar
                        .get(gt.nactvar as usize)
                        .map_or("?".into(), |v| self.strings.name(v.name));
                    return Err(CgErr::new(
                        self.chunk_name,
                        err_line,
                        format!(
                            "<goto {}> at line {} jumps into the scope of local '{}'",
                            self.strings.name(gt.name),
                            gt.line,
                            var
                        ),
                    ));
                }
                self.fs.patch_list(gt.pc as i32, lb.pc)?;
            }
        }
        Ok(needsclose)
    }
}

//! Scopes: local variable declaration and activation, name resolution (locals, upvalues,
//! globals through `_ENV`), blocks with their upvalue-closing duties, and goto/label
//! resolution with Lua 5.4's rules.
//!
//! Invariants: `fs.actvar[..nactvar]` are the active locals of the current function in
//! declaration order; pending gotos of a block start at its `first_goto` and are moved to
//! the enclosing block when it ends (getting a `close` flag when they leave the scope of a
//! captured variable); visible labels are `labels[fs.first_label..]`.

use crate::opcode::OpCode;
use crate::proto::{LocVar, UpvalDesc, VarKind};

use super::expr::{ExpDesc, EK};
use super::func::{BlockCnt, FuncState, PathScope, VarDesc, VarKindD, MAX_UPVAL, MAX_VARS, R};
use super::Codegen;
use crate::error::CompileError;

/// A pending goto or an active label.
#[derive(Debug, Clone)]
pub(crate) struct LabelDesc {
    pub name: Box<str>,
    pub pc: usize,
    pub line: u32,
    /// Active variables at that point.
    pub nactvar: u32,
    /// A goto that leaves the scope of a captured variable (needs `CLOSE`).
    pub close: bool,
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
    pub(crate) fn var_at(&self, level: usize, vidx: u32) -> &VarDesc {
        &self.level(level).actvar[vidx as usize]
    }

    /// The "too many X (limit is N) in F" error.
    pub(crate) fn error_limit(
        &self,
        level: usize,
        limit: usize,
        what: &str,
        near: &str,
    ) -> CompileError {
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
        fs.scopes.push(PathScope::default());
    }
    pub(crate) fn leave_path(&mut self) {
        self.fs.path.pop();
        self.fs.scopes.pop();
    }

    // ---- locals ----

    /// Declares a local (not yet active). `near` is the token luac would show in a limit
    /// error (already quoted).
    pub(crate) fn new_localvar(&mut self, name: &str, near: &str) -> R<u32> {
        if self.fs.actvar.len() + 1 > MAX_VARS {
            let lvl = self.cur_level();
            return Err(self.error_limit(lvl, MAX_VARS, "local variables", near));
        }
        let fs = &mut self.fs;
        let shadow = match fs.scopes.last_mut() {
            Some(s) => {
                let c = s.shadows.entry(name.into()).or_insert(0);
                let v = *c;
                *c = c.saturating_add(1);
                v
            }
            None => 0,
        };
        fs.actvar.push(VarDesc {
            name: name.into(),
            kind: VarKindD::Regular,
            ridx: 0,
            pidx: 0,
            k: None,
            scope_path: fs.path.clone().into_boxed_slice(),
            shadow,
        });
        Ok(fs.actvar.len() as u32 - 1)
    }

    /// Activates the next `n` declared locals.
    pub(crate) fn adjust_localvars(&mut self, n: u32) {
        let fs = &mut self.fs;
        let first_reg = fs.nvarstack();
        for reglevel in first_reg..first_reg + n {
            let vidx = fs.nactvar as usize;
            fs.nactvar += 1;
            let pc = fs.pc() as u32;
            let v = &mut fs.actvar[vidx];
            v.ridx = reglevel;
            v.pidx = fs.f.locvars.len();
            fs.f.locvars.push(LocVar {
                name: v.name.clone(),
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
            if v.kind != VarKindD::CompileTimeConst {
                fs.f.locvars[v.pidx].end_pc = pc;
            }
        }
        fs.actvar.truncate(tolevel as usize);
    }

    // ---- name resolution ----

    fn search_var(&self, level: usize, name: &str) -> Option<EK> {
        let fs = self.level(level);
        for i in (0..fs.nactvar as usize).rev() {
            let v = &fs.actvar[i];
            if &*v.name == name {
                return Some(if v.kind == VarKindD::CompileTimeConst {
                    EK::Const {
                        level,
                        vidx: i as u32,
                    }
                } else {
                    EK::Local {
                        reg: v.ridx,
                        vidx: i as u32,
                    }
                });
            }
        }
        None
    }

    fn search_upvalue(&self, level: usize, name: &str) -> Option<u32> {
        self.level(level)
            .f
            .upvalues
            .iter()
            .position(|u| &*u.name == name)
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

    fn new_upvalue(&mut self, level: usize, name: &str, v: &EK) -> R<u32> {
        if self.level(level).f.upvalues.len() + 1 > MAX_UPVAL {
            return Err(self.error_limit(level, MAX_UPVAL, "upvalues", &format!("'{}'", name)));
        }
        let prev = self.level(level - 1);
        let (in_stack, index, kind) = match *v {
            EK::Local { reg, vidx } => {
                let kind = match prev.actvar[vidx as usize].kind {
                    VarKindD::Const => VarKind::Const,
                    VarKindD::Close => VarKind::Close,
                    _ => VarKind::Regular,
                };
                (true, reg as u8, kind)
            }
            EK::Upval(u) => (false, u as u8, prev.f.upvalues[u as usize].kind),
            _ => (false, 0, VarKind::Regular),
        };
        let fs = self.level_mut(level);
        fs.f.upvalues.push(UpvalDesc {
            name: name.into(),
            in_stack,
            index,
            kind,
        });
        Ok(fs.f.upvalues.len() as u32 - 1)
    }

    /// Resolves `name` in function `level`: a local, an upvalue, a compile-time constant or
    /// `Void` for a global.
    fn single_var_aux(&mut self, level: usize, name: &str, base: bool) -> R<EK> {
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
    pub(crate) fn single_var(&mut self, name: &str) -> R<ExpDesc> {
        let lvl = self.cur_level();
        let ek = self.single_var_aux(lvl, name, true)?;
        if ek != EK::Void {
            return Ok(ExpDesc::new(ek));
        }
        let env = self.single_var_aux(lvl, "_ENV", true)?;
        let mut var = ExpDesc::new(env);
        if var.k == EK::Void {
            // No `_ENV` at all cannot happen (the main function always has it).
            return Err(self.fs.err("no _ENV"));
        }
        self.exp_to_any_reg_up(&mut var)?;
        let mut key = ExpDesc::new(EK::KStr(name.as_bytes().into()));
        self.indexed(&mut var, &mut key)?;
        Ok(var)
    }

    /// The "attempt to assign to const variable" check.
    pub(crate) fn check_readonly(&self, e: &ExpDesc, line: u32) -> R<()> {
        let name = match e.k {
            EK::Const { level, vidx } => Some(self.var_at(level, vidx).name.clone()),
            EK::Local { vidx, .. } => {
                let v = &self.fs.actvar[vidx as usize];
                (v.kind != VarKindD::Regular).then(|| v.name.clone())
            }
            EK::Upval(u) => {
                let up = &self.fs.f.upvalues[u as usize];
                (up.kind != VarKind::Regular).then(|| up.name.clone())
            }
            _ => None,
        };
        match name {
            Some(n) => Err(CompileError::new(
                self.chunk_name,
                line,
                format!("attempt to assign to const variable '{}'", n),
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
        // Register levels of pending gotos, computed while their variables are known.
        let goto_levels: Vec<u32> = self.gotos[first_goto..]
            .iter()
            .map(|g| self.fs.reg_level(g.nactvar))
            .collect();
        // As luac 5.4.4: the break label and the CLOSE come before the locals' scope ends.
        let mut hasclose = false;
        if bl_loop {
            let line = self.fs.line;
            hasclose = self.create_label("break", 0, false, line)?;
        }
        if !hasclose && has_previous && bl_upval {
            self.fs.code_abc(OpCode::Close, stklevel, 0, 0);
        }
        self.fs.free_reg = stklevel;
        self.remove_vars(bl_nactvar);
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
            let msg = if &*g.name == "break" {
                format!("break outside loop at line {}", g.line)
            } else {
                format!(
                    "no visible label '{}' for <goto> at line {}",
                    g.name, g.line
                )
            };
            return Err(CompileError::new(
                self.chunk_name,
                self.fs.end_err_line,
                msg,
            ));
        }
        Ok(())
    }

    // ---- gotos and labels ----

    pub(crate) fn new_goto_entry(&mut self, name: &str, line: u32, pc: i32) {
        self.gotos.push(LabelDesc {
            name: name.into(),
            pc: pc as usize,
            line,
            nactvar: self.fs.nactvar,
            close: false,
        });
    }

    pub(crate) fn find_label(&self, name: &str) -> Option<&LabelDesc> {
        self.labels[self.fs.first_label..]
            .iter()
            .find(|l| &*l.name == name)
    }

    /// Creates a label here and resolves the pending gotos to it; true when a `CLOSE` was
    /// emitted for them. `err_line` is the line luac reports for scope errors.
    pub(crate) fn create_label(
        &mut self,
        name: &str,
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
            name: name.into(),
            pc,
            line,
            nactvar,
            close: false,
        };
        self.labels.push(label.clone());
        if self.solve_gotos(&label, err_line)? {
            let lvl = self.fs.nvarstack();
            self.fs.code_abc(OpCode::Close, lvl, 0, 0);
            return Ok(true);
        }
        Ok(false)
    }

    fn solve_gotos(&mut self, lb: &LabelDesc, err_line: u32) -> R<bool> {
        let mut i = self
            .fs
            .blocks
            .last()
            .map_or(self.gotos.len(), |b| b.first_goto);
        let mut needsclose = false;
        while i < self.gotos.len() {
            if self.gotos[i].name == lb.name {
                let gt = self.gotos.remove(i);
                needsclose |= gt.close;
                if gt.nactvar < lb.nactvar {
                    let var = self
                        .fs
                        .actvar
                        .get(gt.nactvar as usize)
                        .map_or("?".into(), |v| v.name.clone());
                    return Err(CompileError::new(
                        self.chunk_name,
                        err_line,
                        format!(
                            "<goto {}> at line {} jumps into the scope of local '{}'",
                            gt.name, gt.line, var
                        ),
                    ));
                }
                self.fs.patch_list(gt.pc as i32, lb.pc)?;
            } else {
                i += 1;
            }
        }
        Ok(needsclose)
    }
}

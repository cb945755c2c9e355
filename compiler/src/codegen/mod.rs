//! Code generation: the syntax tree to a [`Proto`], modelled on PUC Lua 5.4's one-pass
//! code generator (lparser.c/lcode.c) but driven by the AST.
//!
//! - `func`: per-function state (instructions, constants, registers, jumps).
//! - `scope`: locals, upvalues, `_ENV`, blocks, gotos and labels.
//! - `expr`: expression descriptors, operators, expression nodes.
//! - `stat`: statements.
//! - `fold`: constant folding.
//! - [`mod@listing`]: a `luac -l` style disassembler.
//!
//! The recursion over the tree is bounded by [`crate::ast::MAX_DEPTH`], except along the
//! left spines of binary operator and suffix chains, which are walked iteratively.
//!
//! The code has luac 5.4's shapes (the tests diff listings against `luac5.4 -l`), except
//! where the absence of `MMBIN` requires otherwise: see `spec/bytecode.md`, "Deviations".
//! Errors are returned at the first problem, in luac's order, with luac's messages.

mod expr;
mod fold;
mod func;
pub mod listing;
mod scope;
mod stat;

use std::sync::Arc;

use crate::ast::{Block, Chunk, Expr, ExprKind, Field, FuncBody, Stat, StatKind};
use crate::error::CompileError;
use crate::opcode::OpCode;
use crate::proto::{Proto, UpvalDesc, VarKind};
use crate::strings::{Strings, Sym};

use expr::{ExpDesc, FirstTok, EK};
use func::{CgErr, FuncState, R};
use scope::{Binding, LabelDesc, Near};

pub use listing::listing;

/// The code generator's state: the function being compiled, its enclosing functions, and
/// the pending gotos and active labels of all of them.
pub(crate) struct Codegen<'a> {
    chunk_name: &'a str,
    source: Arc<str>,
    /// The function being compiled (boxed: switching functions moves a pointer).
    fs: Box<FuncState>,
    /// Enclosing functions, outermost first. Boxed: entering and leaving a function swaps
    /// `fs` with an entry, which should move a pointer, not a whole state.
    #[allow(clippy::vec_box)]
    outer: Vec<Box<FuncState>>,
    /// Finished function states, kept for their buffers' capacity.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<FuncState>>,
    labels: Vec<LabelDesc>,
    gotos: Vec<LabelDesc>,
    /// Indices in `labels`, by name, in order: the last is the innermost visible one.
    label_index: func::IntMap<Sym, Vec<u32>>,
    /// Indices of pending gotos in `gotos`, by name, in order (resolved ones are removed
    /// here and left in `gotos` as tombstones until their block ends).
    goto_index: func::IntMap<Sym, Vec<u32>>,
    /// (address of a `FuncBody`, line of the token after it) for goto error lines.
    fn_after: Option<(usize, u32)>,
    /// The token after the statement being compiled (for `near` in errors).
    next_tok: FirstTok,
    /// The chunk's string table.
    strings: &'a Strings,
    /// The innermost binding of each name (index + 1 in `binds`, 0 for none).
    bind_top: Vec<u32>,
    /// The active locals of all open functions, in activation order.
    binds: Vec<Binding>,
    /// The shared text of each name used in debug information, made on first use.
    name_arcs: Vec<Option<Arc<str>>>,
    /// Compiling a module (see `crate::compile_module`).
    module_mode: bool,
    /// The declaration name the next function or table constructor expression is bound
    /// to (set by the statement compiling it, taken by the expression): see `Proto::name`.
    name_ctx: Option<Arc<str>>,
}

/// Compiles a parsed chunk into the prototype of its main function.
pub fn generate(chunk: &Chunk, chunk_name: &str, module: bool) -> Result<Proto, CompileError> {
    let source: Arc<str> = Arc::from(chunk_name);
    let mut fs = Box::new(FuncState::new(source.clone(), 0, 0));
    fs.end_err_line = chunk.last_line;
    fs.f.module = module;
    let mut cg = Codegen {
        chunk_name,
        source,
        fs,
        outer: Vec::new(),
        spare: Vec::new(),
        labels: Vec::new(),
        gotos: Vec::new(),
        label_index: Default::default(),
        goto_index: Default::default(),
        fn_after: None,
        next_tok: FirstTok::Fixed("<eof>"),
        strings: &chunk.strings,
        bind_top: vec![0; chunk.strings.len()],
        binds: Vec::with_capacity(64),
        name_arcs: vec![None; chunk.strings.len()],
        module_mode: module,
        name_ctx: None,
    };
    cg.main_func(chunk).map_err(|e| *e.0)?;
    Ok(cg.fs.take_proto())
}

impl<'a> Codegen<'a> {
    fn main_func(&mut self, chunk: &Chunk) -> R<()> {
        self.enter_block(false);
        // luac emits VARARGPREP before reading the first token.
        self.fs.line = 1;
        self.set_vararg(0);
        let name = self.name_arc(Sym::ENV);
        self.fs.f.upvalues.push(UpvalDesc {
            name,
            in_stack: true,
            index: 0,
            kind: VarKind::Regular,
            decl: Arc::from("_ENV"),
        });
        self.fs.upval_syms.push(Sym::ENV);
        self.stat_list(&chunk.block, false, Some(chunk.last_line), "<eof>")?;
        // luac gives the final return the line of the last token before <eof>.
        // (An estimate past <eof>'s line is capped there: the last token is no later.)
        self.fs.line = block_last_line(&chunk.block)
            .unwrap_or(1)
            .min(chunk.last_line.max(1));
        self.close_func()
    }

    /// The token after the statement being compiled, as luac quotes it.
    pub(crate) fn next_tok_text(&self) -> String {
        self.next_tok.text(self.strings)
    }

    fn set_vararg(&mut self, nparams: u32) {
        self.fs.f.is_vararg = true;
        self.fs.code_abc(OpCode::VarargPrep, nparams, 0, 0);
    }

    /// The final return, the end of the outermost block, and the final pass.
    fn close_func(&mut self) -> R<()> {
        let n = self.fs.nvarstack();
        self.fs.ret(n, 0);
        self.leave_block()?;
        self.fs.finish()
    }

    /// Compiles a function body into a child prototype and a `CLOSURE` in the next
    /// register. `after_line` is the line luac reports for unresolved gotos in it.
    pub(crate) fn body(&mut self, b: &FuncBody, is_method: bool, after_line: u32) -> R<ExpDesc> {
        let pending = self.name_ctx.take();
        let name = self.child_name(pending);
        let fn_path: Arc<str> = if self.fs.fn_path.is_empty() {
            name.clone()
        } else {
            Arc::from(format!("{}/{}", self.fs.fn_path, name))
        };
        let mut nfs = match self.spare.pop() {
            Some(mut fs) => {
                fs.reset(self.source.clone(), b.line, self.labels.len());
                fs
            }
            None => Box::new(FuncState::new(
                self.source.clone(),
                b.line,
                self.labels.len(),
            )),
        };
        nfs.f.name = name;
        nfs.fn_path = fn_path;
        nfs.f.last_line_defined = b.end_line;
        nfs.end_err_line = after_line;
        let parent = std::mem::replace(&mut self.fs, nfs);
        self.outer.push(parent);
        let r = self.func_contents(b, is_method);
        let mut child = match self.outer.pop() {
            Some(p) => std::mem::replace(&mut self.fs, p),
            None => return Err(CgErr::new(self.chunk_name, b.line, "internal error")),
        };
        r?;
        let proto = child.take_proto();
        self.spare.push(child);
        let f = &mut self.fs.f;
        f.protos.push(Box::new(proto));
        let idx = f.protos.len() as u32 - 1;
        if idx > crate::opcode::MAX_BX {
            // A memory-limit error in luac: no position.
            return Err(CompileError {
                message: format!("too many functions (limit is {})", crate::opcode::MAX_BX),
            }
            .into());
        }
        self.fs.line = b.end_line;
        let pc = self.fs.code_abx(OpCode::Closure, 0, idx);
        let mut e = ExpDesc::new(EK::Reloc(pc));
        self.exp_to_next_reg(&mut e)?;
        Ok(e)
    }

    /// The declaration name of the next child function of the current one: `name` (from
    /// the statement defining it) or `@n` for an anonymous one, with `#k` on the k-th
    /// repetition of a name.
    fn child_name(&mut self, name: Option<Arc<str>>) -> Arc<str> {
        let fs = &mut self.fs;
        let base = match name {
            Some(n) => n,
            None => {
                fs.anon_children += 1;
                return Arc::from(format!("@{}", fs.anon_children));
            }
        };
        let n = fs.child_names.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            Arc::from(format!("{}#{}", base, n))
        }
    }

    /// The declaration name of an assignment target: a name, or a field path with
    /// constant string keys (`a.b.c`).
    pub(crate) fn target_name(&self, e: &Expr) -> Option<Arc<str>> {
        fn walk(cg: &Codegen, e: &Expr, out: &mut String) -> bool {
            match &e.kind {
                ExprKind::Name(n) => {
                    out.push_str(&cg.strings.name(*n));
                    true
                }
                ExprKind::Index(ix) => {
                    let ExprKind::Str(k) = &ix.key.kind else {
                        return false;
                    };
                    if !walk(cg, &ix.obj, out) {
                        return false;
                    }
                    out.push('.');
                    out.push_str(&cg.strings.name(*k));
                    true
                }
                _ => false,
            }
        }
        let mut s = String::new();
        walk(self, e, &mut s).then(|| Arc::from(s))
    }

    fn func_contents(&mut self, b: &FuncBody, is_method: bool) -> R<()> {
        self.enter_block(false);
        self.fs.line = b.line;
        if is_method {
            self.new_localvar(Sym::SELF, Near::Tok("'('"))?;
            self.adjust_localvars(1);
        }
        for (i, p) in b.params.iter().enumerate() {
            let near = if i + 1 < b.params.len() || b.is_vararg {
                "','"
            } else {
                "')'"
            };
            self.new_localvar(*p, Near::Tok(near))?;
        }
        self.adjust_localvars(b.params.len() as u32);
        self.fs.f.num_params = self.fs.nactvar as u8;
        if b.is_vararg {
            let n = self.fs.nactvar;
            self.set_vararg(n);
        }
        let n = self.fs.nactvar;
        self.fs.reserve_regs(n)?;
        self.stat_list(&b.block, false, Some(b.end_line), "'end'")?;
        self.fs.line = b.end_line;
        self.close_func()
    }
}

/// An estimate of the line of the last token of a block (the AST keeps no `end` lines
/// except for functions).
pub(crate) fn block_last_line(b: &Block) -> Option<u32> {
    if let Some(r) = &b.ret {
        return Some(r.exprs.last().map_or(r.line, expr_last_line).max(r.line));
    }
    b.stats.last().map(stat_last_line)
}

/// An estimate of the line of the last token of a statement. For a statement closed by
/// `end`, the `end` is taken to be on the statement's line when the whole body is, and
/// otherwise on the line after the body's last token (the usual layouts).
pub(crate) fn stat_last_line(s: &Stat) -> u32 {
    let closed_by_end = |body_last: Option<u32>| match body_last {
        Some(l) if l > s.line => l + 1,
        _ => s.line,
    };
    let l = match &s.kind {
        StatKind::Assign { values, .. } => values.last().map(expr_last_line),
        StatKind::Call(e) => Some(expr_last_line(e)),
        StatKind::Local { exprs, .. } => exprs.last().map(expr_last_line),
        StatKind::Function { body, .. } | StatKind::LocalFunction { body, .. } => {
            Some(body.end_line)
        }
        StatKind::Do(b) | StatKind::While { body: b, .. } => {
            Some(closed_by_end(block_last_line(b)))
        }
        StatKind::NumFor(f) => Some(closed_by_end(block_last_line(&f.body))),
        StatKind::GenFor { body, .. } => Some(closed_by_end(block_last_line(body))),
        StatKind::Repeat { cond, .. } => Some(expr_last_line(cond)),
        StatKind::If { arms, else_block } => Some(closed_by_end(
            else_block
                .as_deref()
                .or(arms.last().map(|a| &a.1))
                .and_then(block_last_line),
        )),
        StatKind::Label(_) | StatKind::Break | StatKind::Goto(_) => None,
    };
    l.unwrap_or(s.line).max(s.line)
}

/// Follows the rightmost child (iteratively: suffix chains can be long).
pub(crate) fn expr_last_line(e: &Expr) -> u32 {
    let mut e = e;
    let mut line = e.line;
    loop {
        line = line.max(e.line);
        e = match &e.kind {
            ExprKind::Binary(b) => &b.rhs,
            ExprKind::Unary(u) => &u.operand,
            ExprKind::Index(x) => &x.key,
            ExprKind::Call(c) => c.args.last().unwrap_or(&c.func),
            ExprKind::Method(m) => m.args.last().unwrap_or(&m.obj),
            ExprKind::Paren(x) => x,
            ExprKind::Function(b) => return line.max(b.end_line),
            ExprKind::Table(fields) => match fields.last() {
                // `}` is taken to be on its own line when the constructor spans lines.
                Some(Field::Pos(v)) | Some(Field::Named(_, v)) | Some(Field::Keyed(_, v)) => {
                    let last = expr_last_line(v);
                    return if last > e.line {
                        last + 1
                    } else {
                        line.max(last)
                    };
                }
                None => return line,
            },
            _ => return line,
        };
    }
}

//! The abstract syntax tree the parser builds and the code generator reads.
//!
//! Invariants:
//! - Every [`Expr`] and [`Stat`] carries the line of its first token, which is where a runtime
//!   error in it is reported (PUC Lua reports the line of the operator for binary operations,
//!   so [`ExprKind::Binary`] keeps the operator's line as the node's line).
//! - Names and string literals are [`Sym`]s of the chunk's string table ([`Chunk::strings`]),
//!   which keeps their text for error messages (`local 'x'`, `global 'f'`) and constants.
//! - `depth` counts the syntactic nesting that a recursive walk of the node needs. The parser
//!   refuses a chunk whose depth exceeds [`MAX_DEPTH`], so every recursive pass over a parsed
//!   tree (codegen, checks) is bounded. A left-associative chain such as `1 + 1 + ... + 1`
//!   does not deepen (its left spine must be walked iteratively), because Lua accepts such
//!   chains of any length.
//! - Dropping a tree never recurses deeper than `MAX_DEPTH` for the same reason: see the
//!   iterative `Drop` below for the left spines.

/// The nesting limit: PUC Lua's `LUAI_MAXCCALLS` (200) less the C levels its parser starts
/// under. Depths count as PUC's parser enters levels: one per statement (a block adds
/// none), one per expression, operand of a nesting operator, bracket and call argument
/// list, and one per extra target of a multiple assignment, so that the same chunks are
/// refused ("C stack overflow").
pub const MAX_DEPTH: u32 = 197;

pub use crate::strings::{Strings, Sym};

/// A Lua name (identifier): always ASCII letters, digits and `_`, interned in the chunk's
/// [`Strings`].
pub type Name = Sym;

/// A whole chunk: the body of the main function, which is always vararg.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub block: Block,
    /// The line of the last token (the `<eof>` line), used for the final `RETURN`.
    pub last_line: u32,
    /// The text of every [`Sym`] in the tree.
    pub strings: Strings,
}

/// A sequence of statements with an optional final `return`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub stats: Vec<Stat>,
    /// Boxed: a `Block` is a grammar symbol, and lalrpop sizes every symbol for the largest.
    pub ret: Option<Box<Return>>,
    pub depth: u32,
    /// The line of the `then` before an `if` arm's block (where luac emits the test of the
    /// condition); 0 elsewhere.
    pub then_line: u32,
}

/// `return explist [';']`.
#[derive(Debug, Clone, PartialEq)]
pub struct Return {
    pub exprs: Vec<Expr>,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    pub kind: StatKind,
    pub line: u32,
    pub depth: u32,
}

/// The attribute of a local declared with `local x <attrib>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attrib {
    None,
    Const,
    Close,
}

/// One name of a `local` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalName {
    pub name: Name,
    pub attrib: Attrib,
}

/// `function a.b.c:m` — `path[0]` is the variable, the rest are fields; `method` is `m`.
#[derive(Debug, Clone, PartialEq)]
pub struct FuncName {
    pub path: Vec<Name>,
    pub method: Option<Name>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatKind {
    /// `targets = values`. Every target is an [`ExprKind::Name`] or [`ExprKind::Index`].
    Assign {
        targets: Vec<Expr>,
        values: Vec<Expr>,
    },
    /// A function call used as a statement ([`ExprKind::Call`] or [`ExprKind::Method`]).
    Call(Expr),
    /// `::name::`
    Label(Name),
    Break,
    Goto(Name),
    // Blocks and rare large parts are boxed so that a `Stat` stays small: the parser moves
    // statements by value, and blocks hold them in `Vec`s.
    Do(Box<Block>),
    While {
        cond: Expr,
        body: Box<Block>,
    },
    /// `repeat body until cond`: `cond` is in the scope of `body`'s locals.
    Repeat {
        body: Box<Block>,
        cond: Expr,
    },
    /// `if c1 then b1 elseif c2 then b2 ... else e end`
    If {
        arms: Vec<(Expr, Block)>,
        else_block: Option<Box<Block>>,
    },
    NumFor(Box<NumFor>),
    GenFor {
        names: Vec<Name>,
        exprs: Vec<Expr>,
        body: Box<Block>,
    },
    /// `function a.b.c:m (...) ... end`
    Function {
        name: FuncName,
        body: Box<FuncBody>,
    },
    /// `local function f (...) ... end`
    LocalFunction {
        name: Name,
        body: Box<FuncBody>,
    },
    /// `local a <const>, b = e1, e2`
    Local {
        names: Vec<LocalName>,
        exprs: Vec<Expr>,
    },
}

/// `for var = start, limit [, step] do body end`
#[derive(Debug, Clone, PartialEq)]
pub struct NumFor {
    pub var: Name,
    pub start: Expr,
    pub limit: Expr,
    pub step: Option<Expr>,
    pub body: Block,
}

/// Parameters and body of a function; `line` is the line of `function`, `end_line` of `end`.
/// (Exactly: `line` is Lua's `linedefined`, which for an anonymous or local function is the
/// line of the `(` opening its parameters; they differ only when that `(` is on a later line.)
#[derive(Debug, Clone, PartialEq)]
pub struct FuncBody {
    pub params: Vec<Name>,
    pub is_vararg: bool,
    pub block: Block,
    pub line: u32,
    pub end_line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub line: u32,
    pub depth: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    IDiv,
    Mod,
    Pow,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    BAnd,
    BOr,
    BXor,
    Shl,
    Shr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `-`
    Neg,
    Not,
    /// `#`
    Len,
    /// `~`
    BNot,
}

/// A field of a table constructor.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `expr` — the next positional item.
    Pos(Expr),
    /// `name = expr`
    Named(Name, Expr),
    /// `[key] = expr` (the key boxed, to keep `Field` small)
    Keyed(Box<Expr>, Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Nil,
    True,
    False,
    /// `...`
    Vararg,
    Int(i64),
    Float(f64),
    /// A string literal: its bytes (escapes resolved; not necessarily UTF-8) are in the
    /// chunk's [`Strings`].
    Str(Sym),
    Function(Box<FuncBody>),
    Table(Box<[Field]>),
    /// A variable reference: local, upvalue or global (`_ENV.name`), resolved by codegen.
    Name(Name),
    /// `obj[key]`; `obj.name` is an `Index` whose key is an [`ExprKind::Str`].
    Index(Box<IndexExpr>),
    /// `func(args)`, `func"str"`, `func{...}`
    Call(Box<CallExpr>),
    /// `obj:name(args)`
    Method(Box<MethodExpr>),
    /// `(expr)`: kept distinct because it truncates a multi-valued expression to one value
    /// and makes a name not assignable.
    Paren(Box<Expr>),
    Binary(Box<BinaryExpr>),
    Unary(Box<UnaryExpr>),
}

// The composite nodes keep their parts in one box each, so an `Expr` stays small (the
// parser moves every grammar symbol by value) and a node costs one allocation.

/// `obj[key]`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexExpr {
    pub obj: Expr,
    pub key: Expr,
}

/// `func(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallExpr {
    pub func: Expr,
    pub args: Vec<Expr>,
}

/// `obj:name(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodExpr {
    pub obj: Expr,
    pub name: Name,
    pub args: Vec<Expr>,
}

/// `lhs op rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    pub op: BinOp,
    pub lhs: Expr,
    pub rhs: Expr,
}

/// `op operand`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnaryExpr {
    pub op: UnOp,
    pub operand: Expr,
}

impl BinOp {
    /// Left-associative operators: a chain of them nests on the left without deepening.
    pub fn is_left_assoc(self) -> bool {
        !matches!(self, BinOp::Pow | BinOp::Concat)
    }
}

impl Expr {
    /// Builds a node and computes its depth from its children.
    #[inline]
    pub fn new(kind: ExprKind, line: u32) -> Expr {
        let depth = expr_kind_depth(&kind);
        Expr { kind, line, depth }
    }

    /// True for expressions that may produce several values (a call or `...`).
    pub fn is_multi(&self) -> bool {
        matches!(
            self.kind,
            ExprKind::Call { .. } | ExprKind::Method { .. } | ExprKind::Vararg
        )
    }
}

fn max_depth<'a>(exprs: impl IntoIterator<Item = &'a Expr>) -> u32 {
    exprs.into_iter().map(|e| e.depth).max().unwrap_or(0)
}

#[inline]
fn expr_kind_depth(kind: &ExprKind) -> u32 {
    match kind {
        ExprKind::Nil
        | ExprKind::True
        | ExprKind::False
        | ExprKind::Vararg
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Name(_) => 1,
        ExprKind::Function(body) => body.block.depth + 1,
        ExprKind::Table(fields) => {
            1 + fields
                .iter()
                .map(|f| match f {
                    Field::Pos(e) | Field::Named(_, e) => e.depth,
                    Field::Keyed(k, v) => k.depth.max(v.depth),
                })
                .max()
                .unwrap_or(0)
        }
        // A suffix chain `a.b.c(d)[e]` nests on the left like a left-associative operator.
        ExprKind::Index(x) => x.obj.depth.max(x.key.depth + 1),
        ExprKind::Call(c) => c.func.depth.max(max_depth(&c.args) + 1),
        ExprKind::Method(m) => m.obj.depth.max(max_depth(&m.args) + 1),
        ExprKind::Paren(e) => e.depth + 1,
        ExprKind::Binary(b) if b.op.is_left_assoc() => b.lhs.depth.max(b.rhs.depth + 1),
        ExprKind::Binary(b) => b.lhs.depth.max(b.rhs.depth) + 1,
        ExprKind::Unary(u) => u.operand.depth + 1,
    }
}

impl Stat {
    /// Builds a statement and computes its depth from its parts.
    #[inline]
    pub fn new(kind: StatKind, line: u32) -> Stat {
        let depth = 1 + match &kind {
            // PUC's `restassign` enters a level per extra target.
            StatKind::Assign { targets, values } => {
                (targets.len() as u32).saturating_sub(1)
                    + max_depth(targets).saturating_sub(1).max(max_depth(values))
            }
            // A call statement is not an expression level of its own.
            StatKind::Call(e) => e.depth.saturating_sub(1),
            StatKind::Label(_) | StatKind::Break | StatKind::Goto(_) => 0,
            StatKind::Do(b) => b.depth,
            StatKind::While { cond, body } | StatKind::Repeat { body, cond } => {
                cond.depth.max(body.depth)
            }
            StatKind::If { arms, else_block } => arms
                .iter()
                .map(|(c, b)| c.depth.max(b.depth))
                .chain(else_block.iter().map(|b| b.depth))
                .max()
                .unwrap_or(0),
            StatKind::NumFor(f) => f
                .start
                .depth
                .max(f.limit.depth)
                .max(f.step.as_ref().map_or(0, |s| s.depth))
                .max(f.body.depth),
            StatKind::GenFor { exprs, body, .. } => max_depth(exprs).max(body.depth),
            StatKind::Function { body, .. } | StatKind::LocalFunction { body, .. } => {
                body.block.depth
            }
            StatKind::Local { exprs, .. } => max_depth(exprs),
        };
        Stat { kind, line, depth }
    }
}

impl Block {
    /// Builds a block and computes its depth from its statements.
    #[inline]
    pub fn new(stats: Vec<Stat>, ret: Option<Return>) -> Block {
        let depth = stats
            .iter()
            .map(|s| s.depth)
            .chain(ret.iter().map(|r| 1 + max_depth(&r.exprs)))
            .max()
            .unwrap_or(0);
        Block {
            stats,
            ret: ret.map(Box::new),
            depth,
            then_line: 0,
        }
    }
}

impl Drop for Expr {
    /// Left-associative chains can be arbitrarily long, so their left spine is dropped in a
    /// loop instead of by recursion (which could overflow the Rust stack).
    fn drop(&mut self) {
        if !continues_spine(&self.kind) {
            return;
        }
        let mut next = take_left_child(&mut self.kind);
        while let Some(mut e) = next {
            next = take_left_child(&mut e.kind);
        }
    }
}

/// Detaches the left child of a node that nests on the left (see [`expr_kind_depth`]).
/// A child that does not itself continue the spine is left in place: dropping it recurses
/// one level only.
fn take_left_child(kind: &mut ExprKind) -> Option<Expr> {
    let child = match kind {
        ExprKind::Binary(b) => &mut b.lhs,
        ExprKind::Index(x) => &mut x.obj,
        ExprKind::Call(c) => &mut c.func,
        ExprKind::Method(m) => &mut m.obj,
        _ => return None,
    };
    if !continues_spine(&child.kind) {
        return None;
    }
    Some(std::mem::replace(
        child,
        Expr {
            kind: ExprKind::Nil,
            line: 0,
            depth: 0,
        },
    ))
}

fn continues_spine(kind: &ExprKind) -> bool {
    matches!(
        kind,
        ExprKind::Binary(_) | ExprKind::Index(_) | ExprKind::Call(_) | ExprKind::Method(_)
    )
}

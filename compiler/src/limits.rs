//! Limits that PUC Lua's recursive-descent parser meets while reading, before the error
//! that stops hotlua's LR parser.
//!
//! PUC's parser refuses a chunk as soon as it nests too deep ("C stack overflow") or a
//! `local` statement declares one local too many, even when the text stops short later. The
//! LR parser only builds (and so measures) a construct once it is complete, so a truncated
//! chunk reaches its syntax error at the end instead. When a parse fails, [`first_limit`]
//! walks the tokens before the error with an explicit stack that follows PUC's levels (a
//! statement, an expression, a pending operand of a binary or unary operator, a bracket, an
//! extra assignment target) and the active locals of each function, and reports the limit
//! PUC would have hit first, if any.
//!
//! Invariants: it never recurses (chunks may nest without bound) and only runs on chunks
//! that are refused anyway, so an imprecise estimate can only change which message a bad
//! chunk gets.

use crate::ast::MAX_DEPTH;
use crate::lexer::{Tok, Token};

/// PUC's `MAXVARS`.
const MAX_VARS: u32 = 200;
/// Priority of unary operators (`lparser.c`'s `UNARY_PRIORITY`).
const UNARY: u8 = 12;

/// A limit met before the syntax error.
#[derive(Debug, PartialEq)]
pub enum Limit {
    /// Nesting deeper than PUC's C stack allows.
    Overflow,
    /// Too many locals: the index of the token after the name, and the line where the
    /// function was defined (0: the main function).
    Locals { at: usize, func_line: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// An expression statement (assignment targets, or a call).
    Expr,
    /// Expression lists (`return`, `=` of an assignment or a `local`).
    Values,
    /// The names of a `local` statement, with how many were read.
    LocalNames(u32),
    /// `goto` or a label, before its name.
    Name,
    /// A statement with a block (`do`, `while`, `if`, `for`, `repeat`, `function`).
    Block,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Header {
    /// In the body.
    No,
    /// A function's name and parameters, before `)`; parameters seen.
    Func(u32),
    /// A loop's or `if`'s condition or header, before `do`/`then`; names before `=`/`in`.
    Cond,
}

#[derive(Clone, Copy, Debug)]
enum E {
    /// A block: its active locals, whether it starts a function (and its line), whether it
    /// is a function expression (the expression goes on after `end`), its header state.
    Block {
        locals: u32,
        func: Option<u32>,
        expr: bool,
        header: Header,
    },
    /// A statement in progress.
    Stat(Mode),
    /// An expression's own level (PUC's `subexpr` for `expr`).
    Expr,
    /// A pending operand of an operator with this right priority.
    Sub(u8),
    /// An extra assignment target.
    Target,
    /// An open bracket.
    Bracket,
}

impl E {
    fn levels(self) -> u32 {
        match self {
            E::Block { .. } => 0,
            _ => 1,
        }
    }
}

/// Lua's (left, right) binary priorities, or None for a token that is no binary operator.
fn binary(t: &Tok) -> Option<(u8, u8)> {
    Some(match t {
        Tok::Or => (1, 1),
        Tok::And => (2, 2),
        Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge => (3, 3),
        Tok::Pipe => (4, 4),
        Tok::Tilde => (5, 5),
        Tok::Amp => (6, 6),
        Tok::Shl | Tok::Shr => (7, 7),
        Tok::Concat => (9, 8),
        Tok::Plus | Tok::Minus => (10, 10),
        Tok::Star | Tok::Slash | Tok::DSlash | Tok::Percent => (11, 11),
        Tok::Caret => (14, 13),
        _ => return None,
    })
}

struct Walk {
    st: Vec<E>,
    level: u32,
    /// The last token completed an operand (a suffix or binary operator may follow).
    operand: bool,
    /// An expression may start here (after `=`, `return`, an operator, `,` in a list...).
    expect: bool,
}

impl Walk {
    fn push(&mut self, e: E) {
        self.level += e.levels();
        self.st.push(e);
    }
    fn pop(&mut self) -> Option<E> {
        let e = self.st.pop()?;
        self.level -= e.levels();
        Some(e)
    }
    fn top(&self) -> Option<E> {
        self.st.last().copied()
    }
    /// Ends the expression in progress (its own level and pending operands).
    fn end_expr(&mut self) {
        while matches!(self.top(), Some(E::Sub(_) | E::Expr)) {
            self.pop();
        }
    }
    /// Ends the statement in progress: back to its block, counting a `local`'s names.
    fn end_stat(&mut self) {
        while let Some(e) = self.top() {
            match e {
                E::Block { .. } => break,
                E::Stat(Mode::LocalNames(n)) => {
                    self.pop();
                    self.add_locals(n);
                }
                _ => {
                    self.pop();
                }
            }
        }
    }
    /// Counts `n` more active locals in the innermost block.
    fn add_locals(&mut self, n: u32) {
        let block = self.st.iter_mut().rev().find_map(|e| match e {
            E::Block { locals, .. } => Some(locals),
            _ => None,
        });
        if let Some(locals) = block {
            *locals += n;
        }
    }
    /// Active locals of the innermost function, and its line.
    fn active(&self) -> (u32, u32) {
        let mut n = 0;
        for e in self.st.iter().rev() {
            if let E::Block { locals, func, .. } = e {
                n += locals;
                if let Some(line) = func {
                    return (n, *line);
                }
            }
        }
        (n, 0)
    }
    /// In a block, between statements.
    fn at_stat(&self) -> bool {
        matches!(
            self.top(),
            Some(E::Block {
                header: Header::No,
                ..
            })
        )
    }

    /// The innermost block's header state.
    fn header_mut(&mut self) -> Option<&mut Header> {
        self.st.iter_mut().rev().find_map(|e| match e {
            E::Block { header, .. } => Some(header),
            _ => None,
        })
    }

    /// Enters a block (`func`: a function's, with its line).
    fn open_block(&mut self, func: Option<u32>, expr: bool, header: Header) {
        self.push(E::Block {
            locals: 0,
            func,
            expr,
            header,
        });
    }
    /// Begins an operand in expression context.
    fn begin_operand(&mut self) {
        if self.expect && !matches!(self.top(), Some(E::Sub(_) | E::Expr | E::Bracket)) {
            self.push(E::Expr);
        }
        self.expect = false;
    }
}

/// The first limit PUC's parser meets in `tokens[..upto]`, if any.
pub fn first_limit(tokens: &[Token], upto: usize) -> Option<Limit> {
    let mut w = Walk {
        st: vec![E::Block {
            locals: 0,
            func: Some(0),
            expr: false,
            header: Header::No,
        }],
        level: 0,
        operand: false,
        expect: false,
    };
    let upto = upto.min(tokens.len());
    for (i, t) in tokens[..upto].iter().enumerate() {
        if w.level > MAX_DEPTH {
            return Some(Limit::Overflow);
        }
        let tok = &t.tok;
        let line = t.line;
        let prev = if i > 0 {
            Some(&tokens[i - 1].tok)
        } else {
            None
        };
        'tok: {
            // After an operand: suffixes and binary operators go on; anything else that may
            // begin a statement ends the one in progress.
            if w.operand {
                w.operand = false;
                match tok {
                    Tok::LParen | Tok::LBrace => {
                        w.push(E::Bracket);
                        w.expect = true;
                        break 'tok;
                    }
                    Tok::LBracket => {
                        w.push(E::Bracket);
                        w.expect = true;
                        break 'tok;
                    }
                    Tok::Str(_) => {
                        w.operand = true;
                        break 'tok;
                    }
                    Tok::Dot | Tok::Colon => {
                        // The name after it completes the operand.
                        break 'tok;
                    }
                    _ => {}
                }
                if let Some((left, right)) = binary(tok) {
                    while let Some(E::Sub(limit)) = w.top() {
                        if left > limit {
                            break;
                        }
                        w.pop();
                    }
                    w.push(E::Sub(right));
                    w.expect = true;
                    break 'tok;
                }
                match tok {
                    Tok::Comma => {
                        w.end_expr();
                        match w.top() {
                            Some(E::Stat(Mode::Expr)) => w.push(E::Target),
                            Some(E::Target) => w.push(E::Target),
                            _ => {}
                        }
                        w.expect = !matches!(w.top(), Some(E::Target));
                        break 'tok;
                    }
                    Tok::Name(_) | Tok::LBracket => {
                        if matches!(
                            w.top(),
                            Some(E::Block {
                                header: Header::Func(_),
                                ..
                            })
                        ) {
                            // A function's name (`function a.b`) or parameters.
                        } else {
                            w.end_stat();
                        }
                    }
                    _ => {}
                }
            }
            if let Some(Header::Func(params)) = w.header_mut().copied() {
                // `function name.field:method (params)`: no levels until `)`.
                match tok {
                    Tok::LParen => set_header(&mut w, Header::Func(params | IN_PARAMS)),
                    Tok::Name(_) if params & IN_PARAMS != 0 => {
                        set_header(&mut w, Header::Func(params + 1))
                    }
                    Tok::Colon => set_header(&mut w, Header::Func(params + 1)),
                    Tok::RParen => {
                        set_header(&mut w, Header::No);
                        w.add_locals(params & !IN_PARAMS);
                    }
                    _ => {}
                }
                break 'tok;
            }
            match tok {
                Tok::Name(_) => {
                    if let Some(E::Stat(Mode::LocalNames(n))) = w.top() {
                        if matches!(prev, Some(Tok::Lt)) {
                            break 'tok; // an attribute
                        }
                        if !matches!(prev, Some(Tok::Local | Tok::Comma)) {
                            // The statement has ended: this name begins the next one.
                            w.end_stat();
                            w.push(E::Stat(Mode::Expr));
                            w.operand = true;
                            break 'tok;
                        }
                        // PUC counts the new name with those already active.
                        let (active, func_line) = w.active();
                        if active + n + 1 > MAX_VARS {
                            return Some(Limit::Locals {
                                at: i + 1,
                                func_line,
                            });
                        }
                        w.pop();
                        w.push(E::Stat(Mode::LocalNames(n + 1)));
                        break 'tok;
                    }
                    if matches!(w.top(), Some(E::Stat(Mode::Name))) {
                        w.pop();
                        break 'tok;
                    }
                    if w.at_stat() {
                        w.push(E::Stat(Mode::Expr));
                    } else if matches!(
                        w.top(),
                        Some(E::Block {
                            header: Header::Cond,
                            ..
                        })
                    ) {
                        // A `for`'s names.
                        if !w.expect {
                            break 'tok;
                        }
                        w.begin_operand();
                    } else {
                        w.begin_operand();
                    }
                    w.operand = true;
                }
                Tok::Nil | Tok::True | Tok::False | Tok::Int(_) | Tok::Float(_) | Tok::Str(_) => {
                    w.begin_operand();
                    w.operand = true;
                }
                Tok::Dots => {
                    w.begin_operand();
                    w.operand = true;
                }
                Tok::Not | Tok::Hash | Tok::Minus | Tok::Tilde => {
                    w.begin_operand();
                    w.push(E::Sub(UNARY));
                    w.expect = true;
                }
                Tok::LParen | Tok::LBrace | Tok::LBracket => {
                    if w.at_stat() {
                        w.push(E::Stat(Mode::Expr));
                    } else {
                        w.begin_operand();
                    }
                    w.push(E::Bracket);
                    w.expect = true;
                }
                Tok::RParen | Tok::RBrace | Tok::RBracket => {
                    while let Some(e) = w.top() {
                        match e {
                            E::Bracket => {
                                w.pop();
                                break;
                            }
                            E::Block { .. } => break,
                            _ => {
                                w.pop();
                            }
                        }
                    }
                    w.operand = true;
                }
                Tok::Comma => {
                    w.end_expr();
                    w.expect = true;
                }
                Tok::Assign => {
                    // Targets end; values (or a table field's value) follow.
                    while matches!(w.top(), Some(E::Sub(_) | E::Expr | E::Target)) {
                        w.pop();
                    }
                    if let Some(E::Stat(m)) = w.top() {
                        w.pop();
                        if let Mode::LocalNames(n) = m {
                            // (They become active after the values: close enough.)
                            w.add_locals(n);
                        }
                        w.push(E::Stat(Mode::Values));
                    } else if let Some(E::Block {
                        header: Header::Cond,
                        ..
                    }) = w.top()
                    {
                        // A numeric `for`: three hidden locals and the variable.
                        w.add_locals(4);
                    }
                    w.expect = true;
                }
                Tok::Semi => w.end_stat(),
                Tok::Local => {
                    w.end_stat();
                    w.push(E::Stat(Mode::LocalNames(0)));
                }
                Tok::Return => {
                    w.end_stat();
                    w.push(E::Stat(Mode::Values));
                    w.expect = true;
                }
                Tok::Break => w.end_stat(),
                Tok::Goto => {
                    w.end_stat();
                    w.push(E::Stat(Mode::Name));
                }
                // A label's closing `::` follows its name.
                Tok::DColon if i >= 2 && tokens[i - 2].tok == Tok::DColon => {}
                Tok::DColon => {
                    w.end_stat();
                    w.push(E::Stat(Mode::Name));
                }
                Tok::Function => {
                    if w.expect || matches!(w.top(), Some(E::Bracket)) {
                        // An anonymous function: linedefined is the line of its `(`.
                        w.begin_operand();
                        let l = tokens.get(i + 1).map_or(line, |t| t.line);
                        w.open_block(Some(l), true, Header::Func(0));
                    } else if let Some(E::Stat(Mode::LocalNames(0))) = w.top() {
                        // `local function f`: one local, its body on the line of its `(`.
                        let (active, func_line) = w.active();
                        if active + 1 > MAX_VARS {
                            return Some(Limit::Locals {
                                at: i + 2,
                                func_line,
                            });
                        }
                        w.add_locals(1);
                        let l = tokens.get(i + 2).map_or(line, |t| t.line);
                        w.open_block(Some(l), false, Header::Func(0));
                    } else {
                        w.end_stat();
                        w.push(E::Stat(Mode::Block));
                        w.open_block(Some(line), false, Header::Func(0));
                    }
                }
                Tok::Do => {
                    if let Some(h @ Header::Cond) = w.header_mut() {
                        *h = Header::No;
                        w.end_stat();
                    } else {
                        w.end_stat();
                        w.push(E::Stat(Mode::Block));
                        w.open_block(None, false, Header::No);
                    }
                }
                Tok::While | Tok::If | Tok::For => {
                    w.end_stat();
                    w.push(E::Stat(Mode::Block));
                    w.open_block(None, false, Header::Cond);
                    w.expect = *tok != Tok::For;
                }
                Tok::In => {
                    if let Some(Header::Cond) = w.header_mut().copied() {
                        w.add_locals(4);
                    }
                    w.expect = true;
                }
                Tok::Then => {
                    w.end_stat();
                    if let Some(h) = w.header_mut() {
                        *h = Header::No;
                    }
                }
                Tok::Elseif => {
                    w.end_stat();
                    if let Some(E::Block { locals, header, .. }) = w.st.last_mut() {
                        *locals = 0;
                        *header = Header::Cond;
                    }
                    w.expect = true;
                }
                Tok::Else => {
                    w.end_stat();
                    if let Some(E::Block { locals, .. }) = w.st.last_mut() {
                        *locals = 0;
                    }
                }
                Tok::Repeat => {
                    w.end_stat();
                    w.push(E::Stat(Mode::Block));
                    w.open_block(None, false, Header::No);
                }
                Tok::Until | Tok::End => {
                    w.end_stat();
                    if w.st.len() > 1 {
                        if let Some(E::Block { expr, .. }) = w.pop() {
                            if *tok == Tok::Until {
                                w.push(E::Expr);
                                w.expect = true;
                            } else if expr {
                                w.operand = true;
                            } else {
                                w.end_stat();
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if w.level > MAX_DEPTH {
        return Some(Limit::Overflow);
    }
    None
}

/// Marks the parameter list of a function header as open.
const IN_PARAMS: u32 = 0x8000_0000;

fn set_header(w: &mut Walk, h: Header) {
    if let Some(slot) = w.header_mut() {
        *slot = h;
    }
}

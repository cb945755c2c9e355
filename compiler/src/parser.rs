//! The parser: drives the lalrpop grammar over the lexer's tokens and maps its errors onto
//! PUC Lua's messages.
//!
//! Invariants:
//! - A grammar location ([`Loc`]) packs a token's index and its line, so actions know lines
//!   without a side table and errors can find the token to show.
//! - Every AST node is built through [`Ctx`], which never builds a node deeper than
//!   [`MAX_DEPTH`] (it records the error, ends the token stream and
//!   puts a leaf in its place), so no later recursive pass can overflow the stack.
//! - On a syntax error, the message is rebuilt from lalrpop's expected-terminal set and a
//!   forward scan of the tokens before the error (open blocks and brackets), so that it reads
//!   as luac's recursive-descent checkpoint would (`'end' expected (to close ...)`).

use crate::ast::{
    Attrib, BinOp, BinaryExpr, Block, Chunk, Expr, ExprKind, FuncBody, LocalName, Name, Return,
    Stat, StatKind, UnOp, UnaryExpr, MAX_DEPTH,
};
use crate::error::CompileError;
use crate::lexer::{self, Tok, Token};
use crate::limits::{self, Limit};
use crate::strings::{Strings, Sym};
use lalrpop_util::ParseError;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, unused_imports, unused_parens)]
    grammar
);

/// An error raised by a grammar action.
#[derive(Debug, Clone, PartialEq)]
pub enum SynErr {
    /// `chunk has too many syntax levels`, at a line.
    TooDeep(u32),
    /// A message followed by `near <token at this index>`.
    Near(String, usize),
    /// A message without `near` (Lua's semantic errors), on the line of the token at this
    /// index (the token after the construct, where luac's reader stands).
    Plain(String, usize),
    /// `unknown attribute 'name'` (the text is in the string table, which the grammar
    /// actions cannot see), at a token index as `Plain`.
    Attrib(Sym, usize),
}

/// The error type of grammar actions.
pub type PErr = ParseError<Loc, Tok, SynErr>;

/// A run of binary operations below unary priority, as read: `first (op operand)+`. One
/// Vec (the first operand's operator is unused), so the grammar symbol stays small.
pub struct Chain {
    items: Vec<(BinOp, Loc, Expr)>,
}

impl Chain {
    /// Appends `op operand`; `op.1` is the operator's token index.
    pub fn push(&mut self, op: (BinOp, Loc), operand: Expr) {
        self.items.push((op.0, op.1, operand));
    }
}

/// Lua's (left, right) binary priorities (`lparser.c`); `^` is handled by the grammar.
/// A right priority below the left one makes an operator right-associative (`..`).
fn priority(op: BinOp) -> (u8, u8) {
    match op {
        BinOp::Or => (1, 1),
        BinOp::And => (2, 2),
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => (3, 3),
        BinOp::BOr => (4, 4),
        BinOp::BXor => (5, 5),
        BinOp::BAnd => (6, 6),
        BinOp::Shl | BinOp::Shr => (7, 7),
        BinOp::Concat => (9, 8),
        BinOp::Add | BinOp::Sub => (10, 10),
        BinOp::Mul | BinOp::Div | BinOp::IDiv | BinOp::Mod => (11, 11),
        BinOp::Pow => (14, 13),
    }
}

/// A grammar location: a token's index in the high 32 bits, its line in the low 32 bits.
/// The location after a token is the next index with the same line.
pub type Loc = u64;

fn loc(index: usize, line: u32) -> Loc {
    ((index as u64) << 32) | u64::from(line)
}

/// The token index of a location.
fn index_of(at: Loc) -> usize {
    (at >> 32) as usize
}

/// What grammar actions need: node constructors that enforce the depth limit.
///
/// The constructors are infallible (a fallible lalrpop action returns a `Result` as large as
/// lalrpop's error type, which costs on every reduction). A node deeper than
/// [`MAX_DEPTH`] instead records the error (the first one wins, as if the parse had stopped
/// there) and is replaced by a leaf, so no tree ever gets deeper; the token stream then
/// ends, and [`parse_chunk`] reports the recorded error whatever the parser makes of the
/// truncated input.
#[derive(Default)]
pub struct Ctx {
    /// The line of the first node that was too deep.
    too_deep: std::cell::Cell<Option<u32>>,
    /// Emptied chain buffers for reuse: a chain lives only until its fold, and nearly
    /// every binary expression makes one.
    chain_bufs: std::cell::RefCell<Vec<Vec<(BinOp, Loc, Expr)>>>,
}

impl Ctx {
    /// The line of the token at a location.
    #[inline]
    pub fn line(&self, at: Loc) -> u32 {
        at as u32
    }

    /// False (and the error recorded) when `depth` exceeds the limit.
    #[inline]
    fn check_depth(&self, depth: u32, at: Loc) -> bool {
        if depth > MAX_DEPTH {
            if self.too_deep.get().is_none() {
                self.too_deep.set(Some(self.line(at)));
            }
            false
        } else {
            true
        }
    }

    /// Builds an expression whose first token is at `at`.
    #[inline]
    pub fn expr(&self, kind: ExprKind, at: Loc) -> Expr {
        let e = Expr::new(kind, self.line(at));
        if self.check_depth(e.depth, at) {
            e
        } else {
            self.leaf(ExprKind::Nil, at)
        }
    }

    /// Builds a leaf expression (a name or literal: depth 1, never too deep) whose token is
    /// at `at`. Infallible, so the grammar action returns a small value rather than a
    /// `Result` as large as lalrpop's error type.
    #[inline]
    pub fn leaf(&self, kind: ExprKind, at: Loc) -> Expr {
        Expr {
            kind,
            line: self.line(at),
            depth: 1,
        }
    }

    /// Builds a binary node on the operator's line.
    #[inline]
    pub fn binary(&self, op: (BinOp, Loc), lhs: Expr, rhs: Expr) -> Expr {
        let kind = ExprKind::Binary(Box::new(BinaryExpr { op: op.0, lhs, rhs }));
        self.expr(kind, op.1)
    }

    /// Builds a unary node on the operator's line.
    #[inline]
    pub fn unary(&self, op: (UnOp, Loc), operand: Expr) -> Expr {
        self.expr(
            ExprKind::Unary(Box::new(UnaryExpr { op: op.0, operand })),
            op.1,
        )
    }

    /// Builds a statement whose first token is at `at`.
    #[inline]
    pub fn stat(&self, kind: StatKind, at: Loc) -> Stat {
        let s = Stat::new(kind, self.line(at));
        if self.check_depth(s.depth, at) {
            s
        } else {
            Stat::new(StatKind::Break, self.line(at))
        }
    }

    /// Folds a chain of binary operations by Lua's operator priorities, iteratively (a chain
    /// may be a million operands long; a right-associative one deepens and hits the limit).
    pub fn fold(&self, chain: Chain) -> Expr {
        let Chain { mut items } = chain;
        let e = self.fold_items(&mut items);
        items.clear();
        self.chain_bufs.borrow_mut().push(items);
        e
    }

    /// The first two operands of a chain (in a reused buffer); more follow.
    pub fn chain(&self, first: Expr, op: (BinOp, Loc), second: Expr) -> Chain {
        let mut items = match self.chain_bufs.borrow_mut().pop() {
            Some(v) => v,
            None => Vec::with_capacity(4),
        };
        items.push((op.0, 0, first));
        items.push((op.0, op.1, second));
        Chain { items }
    }

    /// Chains have three operands or more: two are a `binary` directly (`Bin2` in the grammar).
    fn fold_items(&self, items: &mut Vec<(BinOp, Loc, Expr)>) -> Expr {
        let mut items = items.drain(..);
        let Some((_, _, first)) = items.next() else {
            return Expr::new(ExprKind::Nil, 0);
        };
        // The stacks stay short unless a right-associative chain is long.
        let mut operands: Vec<Expr> = Vec::with_capacity(8);
        let mut ops: Vec<(BinOp, Loc)> = Vec::with_capacity(8);
        operands.push(first);
        for (op, at, rhs) in items {
            while let Some(&top) = ops.last() {
                if priority(op).0 > priority(top.0).1 {
                    break;
                }
                ops.pop();
                self.reduce_top(top, &mut operands);
            }
            ops.push((op, at));
            operands.push(rhs);
        }
        while let Some(top) = ops.pop() {
            self.reduce_top(top, &mut operands);
        }
        operands
            .pop()
            .unwrap_or_else(|| Expr::new(ExprKind::Nil, 0))
    }

    /// Replaces the two topmost operands with their combination by `op`.
    fn reduce_top(&self, op: (BinOp, Loc), operands: &mut Vec<Expr>) {
        // The fold pushes one operand more than operators, so both are always there.
        if let (Some(rhs), Some(lhs)) = (operands.pop(), operands.pop()) {
            operands.push(self.binary(op, lhs, rhs));
        }
    }

    /// Builds a block starting at token `at`.
    #[inline]
    pub fn block(&self, stats: Vec<Stat>, ret: Option<Return>, at: Loc) -> Block {
        let b = Block::new(stats, ret);
        if self.check_depth(b.depth, at) {
            b
        } else {
            Block::default()
        }
    }

    /// Completes a function body. Its line is Lua's `linedefined`: the line of `function`
    /// (`keyword`) for a function statement, of the `(` for anonymous and local functions.
    /// The grammar boxes the body once (lalrpop moves symbols by value) with the `(`'s line.
    pub fn func_body(&self, mut f: Box<FuncBody>, keyword: Option<Loc>) -> Box<FuncBody> {
        if let Some(k) = keyword {
            f.line = self.line(k);
        }
        f
    }

    /// An error reported `near` the token at index `at`.
    pub fn near_error(&self, msg: &str, at: Loc) -> PErr {
        ParseError::User {
            error: SynErr::Near(msg.to_string(), index_of(at)),
        }
    }

    /// `name <attrib>`; `next` is the index of the token after `>`.
    pub fn attrib(&self, name: Name, attrib: Sym, next: Loc) -> Result<LocalName, PErr> {
        let attrib = match attrib {
            Sym::CONST => Attrib::Const,
            Sym::CLOSE => Attrib::Close,
            other => {
                return Err(ParseError::User {
                    error: SynErr::Attrib(other, index_of(next)),
                });
            }
        };
        Ok(LocalName { name, attrib })
    }

    /// Appends a name to a `local` list, refusing a second `<close>`.
    pub fn push_local(
        &self,
        mut names: Vec<LocalName>,
        name: LocalName,
        next: Loc,
    ) -> Result<Vec<LocalName>, PErr> {
        if name.attrib == Attrib::Close && names.iter().any(|n| n.attrib == Attrib::Close) {
            let msg = "multiple to-be-closed variables in local list".to_string();
            return Err(ParseError::User {
                error: SynErr::Plain(msg, index_of(next)),
            });
        }
        names.push(name);
        Ok(names)
    }
}

/// Tokens lexed per batch (see `parse_chunk`).
const TOKEN_BATCH: usize = 64;

/// Parses a whole chunk.
pub fn parse_chunk(source: &[u8], chunk_name: &str) -> Result<Chunk, CompileError> {
    let cx = Ctx::default();
    let mut stream = lexer::Tokens::new(source);
    let mut ntok = 0;
    // Tokens are pulled as the parser needs them; none after a too deep node (the parse
    // stops there, as on an error).
    // (The flag is checked before lexing the next token: lexing it could find an error.)
    // Tokens are lexed in batches ahead of the parser: the parser then reads each one from
    // a buffer written long before, instead of from a just-built value (whose piecewise
    // stores it reread as wider loads, a store-forwarding stall per token). Lexing ahead
    // must not change results: a lexical error found ahead counts only once the parser
    // has asked past the last good token (`reached_end`).
    let mut buf: Vec<(Loc, Tok, Loc)> = Vec::with_capacity(TOKEN_BATCH);
    let mut next = 0;
    let mut lexed = 0;
    let mut reached_end = false;
    let tokens = std::iter::from_fn(|| {
        if cx.too_deep.get().is_some() {
            return None;
        }
        if next == buf.len() {
            buf.clear();
            next = 0;
            for t in stream.by_ref().take(TOKEN_BATCH) {
                buf.push((loc(lexed, t.line), t.tok, loc(lexed + 1, t.line)));
                lexed += 1;
            }
            if buf.is_empty() {
                reached_end = true;
                return None;
            }
        }
        let t = buf[next];
        next += 1;
        ntok += 1;
        Some(Ok::<_, SynErr>(t))
    });
    let result = grammar::ChunkParser::new().parse(&cx, tokens);
    if !reached_end {
        // The parser stopped before the end of the lexed tokens: an error lexed ahead was
        // never reached.
        stream.error = None;
    }
    let lex_error = stream.error.take();
    let eof_line = stream.eof_line();
    let result = match cx.too_deep.get() {
        Some(line) => Err(ParseError::User {
            error: SynErr::TooDeep(line),
        }),
        None => result,
    };
    let err = match result {
        Ok(block) => {
            if let Some(e) = lex_error {
                return Err(CompileError::new(chunk_name, e.line, e.message));
            }
            return Ok(Chunk {
                block,
                last_line: eof_line,
                strings: stream.take_strings(),
            });
        }
        Err(err) => err,
    };
    // A lexical error wins unless the syntax error comes before the point where lexing
    // stopped (the parser saw an artificial end of input there).
    if let Some(e) = lex_error {
        let before = match &err {
            ParseError::UnrecognizedToken { token, .. } => index_of(token.0) < ntok,
            ParseError::User {
                error: SynErr::Near(_, at) | SynErr::Plain(_, at) | SynErr::Attrib(_, at),
            } => *at < ntok,
            _ => false,
        };
        if !before {
            return Err(CompileError::new(chunk_name, e.line, e.message));
        }
    }
    let strings = stream.take_strings();
    Err(describe(source, eof_line, err, chunk_name, &strings))
}

/// Turns a parse failure into Lua's message.
fn describe(
    source: &[u8],
    eof_line: u32,
    err: PErr,
    chunk_name: &str,
    strings: &Strings,
) -> CompileError {
    // Errors are rare: tokenize again rather than keep token texts on the fast path.
    let lexed = lexer::tokenize(source);
    let tokens = lexed.tokens;
    let near = |at: usize| near_token(source, tokens.get(at), &lexed.strings);
    let line_of = |at: usize| tokens.get(at).map_or(eof_line, |t| t.line);
    // Lua reports the line where the token ends (a long string may span lines).
    let end_line = |at: usize| match tokens.get(at) {
        Some(t) => t.line + lexer::count_newlines(&source[t.start as usize..t.end as usize]),
        None => eof_line,
    };
    // PUC's parser may have met a limit earlier in the text than this error.
    let error_at = match &err {
        ParseError::User {
            error: SynErr::TooDeep(_),
        } => None,
        ParseError::User {
            error: SynErr::Near(_, at) | SynErr::Plain(_, at) | SynErr::Attrib(_, at),
        } => Some(*at),
        ParseError::UnrecognizedToken {
            token: (at, _, _), ..
        } => Some(index_of(*at)),
        ParseError::UnrecognizedEof { .. } => Some(tokens.len()),
        ParseError::InvalidToken { location }
        | ParseError::ExtraToken {
            token: (location, _, _),
        } => Some(index_of(*location)),
    };
    match error_at.and_then(|at| limits::first_limit(&tokens, at)) {
        Some(Limit::Overflow) => return too_deep(),
        Some(Limit::Locals { at, func_line }) => {
            let wher = if func_line == 0 {
                "main function".to_string()
            } else {
                format!("function at line {func_line}")
            };
            let msg = format!(
                "too many local variables (limit is 200) in {wher} near {}",
                near(at)
            );
            return CompileError::new(chunk_name, line_of(at), msg);
        }
        None => {}
    }
    match err {
        ParseError::User {
            error: SynErr::TooDeep(_),
        } => too_deep(),
        ParseError::User {
            error: SynErr::Near(msg, at),
        } => CompileError::new(chunk_name, end_line(at), format!("{msg} near {}", near(at))),
        ParseError::User {
            error: SynErr::Plain(msg, at),
        } => CompileError::new(chunk_name, line_of(at), msg),
        ParseError::User {
            error: SynErr::Attrib(name, at),
        } => CompileError::new(
            chunk_name,
            line_of(at),
            format!("unknown attribute '{}'", strings.name(name)),
        ),
        ParseError::UnrecognizedToken {
            token: (at, _, _),
            expected,
        } => {
            let at = index_of(at);
            let line = end_line(at);
            let msg = expected_message(&tokens, at, line, &expected);
            CompileError::new(chunk_name, line, format!("{msg} near {}", near(at)))
        }
        ParseError::UnrecognizedEof { expected, .. } => {
            let at = tokens.len();
            let msg = expected_message(&tokens, at, eof_line, &expected);
            CompileError::new(chunk_name, eof_line, format!("{msg} near <eof>"))
        }
        ParseError::InvalidToken { location }
        | ParseError::ExtraToken {
            token: (location, _, _),
        } => {
            let at = index_of(location);
            CompileError::new(
                chunk_name,
                line_of(at),
                format!("unexpected symbol near {}", near(at)),
            )
        }
    }
}

/// Nesting too deep: PUC's parser runs out of C levels, an error raised without a position.
fn too_deep() -> CompileError {
    CompileError {
        message: "C stack overflow".to_string(),
    }
}

/// A token as Lua's `txtToken` shows it.
fn near_token(source: &[u8], token: Option<&Token>, strings: &Strings) -> String {
    let Some(t) = token else {
        return "<eof>".to_string();
    };
    let text = &source[t.start as usize..t.end as usize];
    match &t.tok {
        Tok::Other(b) if b.is_ascii_graphic() || *b == b' ' => format!("'{}'", *b as char),
        Tok::Other(b) => format!("'<\\{b}>'"),
        // A string shows as Lua's buffer holds it: the delimiters around the value as read
        // (escapes resolved; for a long string, first newline dropped and newlines as `\n`).
        Tok::Str(value) => {
            let open = if text.first() == Some(&b'[') {
                1 + text[1..].iter().take_while(|&&b| b == b'=').count() + 1
            } else {
                1
            };
            let mut shown = text[..open].to_vec();
            shown.extend_from_slice(strings.get(*value));
            shown.extend_from_slice(&text[text.len() - open..]);
            lexer::near_text(Some(&shown))
        }
        _ => lexer::near_text(Some(text)),
    }
}

/// What encloses a point of the token stream, innermost last.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Open {
    /// A block closed by `end` (`function`, `if`, `while`, `for`, `do`), with its opener's
    /// name and line; `awaits_do` while a loop header has not reached its `do`.
    End {
        what: &'static str,
        line: u32,
        awaits_do: bool,
    },
    Repeat(u32),
    /// A `(`: `line` is what luac names in `to close '(' at line N` (for call arguments, the
    /// line where the called expression starts). `params` for a parameter list, which luac
    /// closes without naming the opener. `call` when it encloses call arguments.
    Paren {
        line: u32,
        params: bool,
        call: bool,
        chain: u32,
    },
    /// A `{`; `call` when it is a call's argument (`f{...}`).
    Brace {
        line: u32,
        call: bool,
        chain: u32,
    },
    /// A `[`; `index` when it indexes a prefix expression.
    Bracket {
        index: bool,
        chain: u32,
    },
}

/// Scans the tokens before the error for the constructs still open there. Alongside the
/// stack it follows whether the previous token ends a prefix expression (so that a `(`, a
/// string or a `{` after it are call arguments) and the line where that expression starts.
fn open_constructs(tokens: &[Token], upto: usize) -> Vec<Open> {
    let mut stack = Vec::new();
    let mut in_header = false; // between `function` and its `(`
    let mut in_names = false; // in the name list of `local` or `for`
    let mut prefix = false; // the previous token ends a prefix expression
    let mut chain = 0u32; // line where that prefix expression starts
    let mut prev: Option<&Tok> = None;
    // luac names an anonymous or local function by the line of its `(`, a function
    // statement by the line of `function`.
    let mut line_at_paren = false;
    let scanned = &tokens[..upto.min(tokens.len())];
    for (i, t) in scanned.iter().enumerate() {
        let line = t.line;
        let was_prefix = prefix;
        prefix = false;
        match &t.tok {
            Tok::Function => {
                stack.push(Open::End {
                    what: "function",
                    line,
                    awaits_do: false,
                });
                in_header = true;
                let next = scanned.get(i + 1).map(|t| &t.tok);
                line_at_paren = matches!(prev, Some(Tok::Local)) || next == Some(&Tok::LParen);
            }
            Tok::If => stack.push(Open::End {
                what: "if",
                line,
                awaits_do: false,
            }),
            Tok::While => stack.push(Open::End {
                what: "while",
                line,
                awaits_do: true,
            }),
            Tok::For => {
                stack.push(Open::End {
                    what: "for",
                    line,
                    awaits_do: true,
                });
                in_names = true;
            }
            Tok::Local => in_names = true,
            Tok::Do => match stack.last_mut() {
                Some(Open::End { awaits_do, .. }) if *awaits_do => *awaits_do = false,
                _ => stack.push(Open::End {
                    what: "do",
                    line,
                    awaits_do: false,
                }),
            },
            Tok::Repeat => stack.push(Open::Repeat(line)),
            Tok::End | Tok::Until => {
                stack.pop();
            }
            Tok::Name(_) => {
                // A name list goes on only after `local`, `for`, `,` or an attribute's `<`.
                in_names &= matches!(prev, Some(Tok::Local | Tok::For | Tok::Comma | Tok::Lt));
                let field = matches!(prev, Some(Tok::Dot | Tok::Colon));
                prefix = !in_header && !in_names && !matches!(prev, Some(Tok::Goto | Tok::DColon));
                if prefix && !field {
                    chain = line;
                }
            }
            Tok::Str(_) => prefix = was_prefix && !in_header,
            Tok::LParen => {
                if in_header && line_at_paren {
                    if let Some(Open::End { line: opened, .. }) = stack.last_mut() {
                        *opened = line;
                    }
                }
                let call = was_prefix && !in_header;
                let paren_line = if call { chain } else { line };
                stack.push(Open::Paren {
                    line: paren_line,
                    params: in_header,
                    call,
                    chain,
                });
                in_header = false;
            }
            Tok::LBrace => stack.push(Open::Brace {
                line,
                call: was_prefix,
                chain,
            }),
            Tok::LBracket => stack.push(Open::Bracket {
                index: was_prefix,
                chain,
            }),
            Tok::RParen => {
                if let Some(Open::Paren {
                    params: false,
                    call,
                    chain: c,
                    line: l,
                }) = stack.pop()
                {
                    prefix = true;
                    chain = if call { c } else { l };
                }
            }
            Tok::RBrace => {
                if let Some(Open::Brace { call, chain: c, .. }) = stack.pop() {
                    prefix = call;
                    chain = c;
                }
            }
            Tok::RBracket => {
                if let Some(Open::Bracket { index, chain: c }) = stack.pop() {
                    prefix = index;
                    chain = c;
                }
            }
            Tok::Dot | Tok::Colon => prefix = was_prefix,
            Tok::Assign | Tok::In => in_names = false,
            _ => {}
        }
        if !matches!(
            t.tok,
            Tok::Name(_) | Tok::Comma | Tok::Lt | Tok::Gt | Tok::Local | Tok::For
        ) {
            in_names = false;
        }
        prev = Some(&t.tok);
    }
    stack
}

/// `'X' expected`, with ` (to close 'Y' at line N)` when the opener is on another line.
fn closing(what: &str, who: &str, opened: u32, line: u32) -> String {
    if opened == line {
        format!("{what} expected")
    } else {
        format!("{what} expected (to close {who} at line {opened})")
    }
}

/// The message for a construct left open at a point where its closer was required.
fn close_message(tokens: &[Token], at: usize, line: u32) -> String {
    match open_constructs(tokens, at).last() {
        None => "<eof> expected".to_string(),
        Some(Open::End {
            what, line: opened, ..
        }) => closing("'end'", &format!("'{what}'"), *opened, line),
        Some(Open::Repeat(opened)) => closing("'until'", "'repeat'", *opened, line),
        Some(Open::Paren { params: true, .. }) => "')' expected".to_string(),
        Some(Open::Paren { line: opened, .. }) => closing("')'", "'('", *opened, line),
        Some(Open::Brace { line: opened, .. }) => closing("'}'", "'{'", *opened, line),
        Some(Open::Bracket { .. }) => "']' expected".to_string(),
    }
}

/// Maps lalrpop's expected-terminal set at token `at` onto the checkpoint luac would fail.
fn expected_message(tokens: &[Token], at: usize, line: u32, expected: &[String]) -> String {
    let has = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
    let tok = tokens.get(at).map(|t| &t.tok);
    let closer = matches!(
        tok,
        None | Some(Tok::End | Tok::Else | Tok::Elseif | Tok::Until)
    );
    let operators = has("+");
    let suffixes = has("[");
    if has("nil") {
        // An expression must start here (after `return` one may).
        if has(";") && closer {
            return close_message(tokens, at, line);
        }
        return "unexpected symbol".to_string();
    }
    if has("local") {
        // Between statements.
        if has("=") && has(".") {
            return "syntax error".to_string(); // a variable alone is not a statement
        }
        if matches!(tok, Some(Tok::Assign | Tok::Comma)) && has(".") && !operators {
            return "syntax error".to_string(); // a call cannot be assigned to
        }
        if closer {
            return close_message(tokens, at, line);
        }
        return "unexpected symbol".to_string();
    }
    if has("=") && has(".") && !has("}") && !operators {
        return "'=' expected".to_string(); // `a, b` must go on as an assignment
    }
    if has("Name") && has("(") && !suffixes {
        return "unexpected symbol".to_string(); // a prefix expression must start here
    }
    let required = |t: &str| {
        has(t)
            && !(operators && is_operator(t))
            && !(suffixes && matches!(t, "." | "[" | ":" | "(" | "String" | "{"))
    };
    let open_at = || open_constructs(tokens, at);
    if required("then") {
        return "'then' expected".to_string();
    }
    if required("do") {
        return "'do' expected".to_string();
    }
    if required("in") {
        return if required("=") {
            "'=' or 'in' expected"
        } else {
            "'in' expected"
        }
        .to_string();
    }
    if required("...") && required("Name") {
        return "<name> or '...' expected".to_string();
    }
    if required(")") {
        return match open_at().last() {
            Some(Open::Paren {
                line: opened,
                params: false,
                ..
            }) => closing("')'", "'('", *opened, line),
            _ => "')' expected".to_string(),
        };
    }
    if required("]") {
        return "']' expected".to_string();
    }
    if required("}") {
        return match open_at().last() {
            Some(Open::Brace { line: opened, .. }) => closing("'}'", "'{'", *opened, line),
            _ => "'}' expected".to_string(),
        };
    }
    for (t, msg) in [
        ("=", "'=' expected"),
        ("::", "'::' expected"),
        (">", "'>' expected"),
        ("Name", "<name> expected"),
    ] {
        if required(t) {
            return msg.to_string();
        }
    }
    if has("String") && !suffixes {
        return "function arguments expected".to_string();
    }
    if required("(") {
        return "'(' expected".to_string();
    }
    if required(",") && !has(";") {
        return "',' expected".to_string();
    }
    if suffixes && !operators {
        return "syntax error".to_string(); // `(a) = 1`, `a, f() = 1`
    }
    close_message(tokens, at, line)
}

fn is_operator(t: &str) -> bool {
    matches!(
        t,
        "+" | "-"
            | "*"
            | "/"
            | "//"
            | "%"
            | "^"
            | ".."
            | "=="
            | "~="
            | "<"
            | "<="
            | ">"
            | ">="
            | "and"
            | "or"
            | "&"
            | "|"
            | "~"
            | "<<"
            | ">>"
    )
}

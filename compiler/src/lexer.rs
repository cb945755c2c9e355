//! The Lua 5.4 lexer (logos, over bytes: Lua source and strings may hold any byte).
//!
//! Invariants:
//! - [`Tokens`] yields a chunk's tokens on demand (the parser pulls them; [`tokenize`]
//!   collects them). It stops at the first lexical error and keeps it, so the parser can
//!   give priority to an earlier syntax error, exactly as PUC Lua's single pass would.
//! - A token's `line` is the line of its first byte. Lines are counted over the raw bytes
//!   between and inside tokens; `\n`, `\r`, `\r\n` and `\n\r` each end one line.
//! - A byte that starts no token becomes [`Tok::Other`], as in `llex.c`, so that the parser
//!   reports `unexpected symbol near '@'` rather than a lexical error.
//! - Names and string values are interned in the chunk's [`Strings`] (the lexer's extras),
//!   so tokens carry a [`Sym`] and lexing allocates nothing per token.

use crate::number::{str_to_number, Number};
use crate::strings::{Strings, Sym};
use logos::{Lexer, Logos};

/// Why the lexer stopped, before it is placed on a line. `None` (logos' default error) is
/// a byte that starts no token, which [`tokenize`] turns into [`Tok::Other`]. Boxed, so that
/// the lexer's `Result<Tok, LexFail>` stays two words.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LexFail(Option<Box<LexFailInfo>>);

#[derive(Debug, Clone, PartialEq)]
struct LexFailInfo {
    /// The message without position, e.g. `unfinished string`.
    msg: String,
    /// What follows `near`: `None` means `<eof>`.
    near: Option<Vec<u8>>,
    /// The byte offset where Lua's reader stood when it failed (for the line number).
    pos: usize,
}

impl LexFail {
    fn new(msg: impl Into<String>, near: Option<Vec<u8>>, pos: usize) -> LexFail {
        LexFail(Some(Box::new(LexFailInfo {
            msg: msg.into(),
            near,
            pos,
        })))
    }
}

/// A Lua token. Keywords and symbols carry nothing; their text is fixed.
#[derive(Logos, Debug, Clone, Copy, PartialEq)]
#[logos(utf8 = false)]
#[logos(error = LexFail)]
#[logos(extras = Strings)]
#[logos(skip r"[ \t\r\n\x0B\x0C]+")]
#[logos(skip("--", callback = comment))]
pub enum Tok {
    #[token("and")]
    And,
    #[token("break")]
    Break,
    #[token("do")]
    Do,
    #[token("else")]
    Else,
    #[token("elseif")]
    Elseif,
    #[token("end")]
    End,
    #[token("false")]
    False,
    #[token("for")]
    For,
    #[token("function")]
    Function,
    #[token("goto")]
    Goto,
    #[token("if")]
    If,
    #[token("in")]
    In,
    #[token("local")]
    Local,
    #[token("nil")]
    Nil,
    #[token("not")]
    Not,
    #[token("or")]
    Or,
    #[token("repeat")]
    Repeat,
    #[token("return")]
    Return,
    #[token("then")]
    Then,
    #[token("true")]
    True,
    #[token("until")]
    Until,
    #[token("while")]
    While,

    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("//")]
    DSlash,
    #[token("%")]
    Percent,
    #[token("^")]
    Caret,
    #[token("#")]
    Hash,
    #[token("&")]
    Amp,
    #[token("~")]
    Tilde,
    #[token("|")]
    Pipe,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("==")]
    Eq,
    #[token("~=")]
    Ne,
    #[token("<=")]
    Le,
    #[token(">=")]
    Ge,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("=")]
    Assign,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("::")]
    DColon,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token("..")]
    Concat,
    #[token("...")]
    Dots,

    #[regex("[A-Za-z_][A-Za-z0-9_]*", name)]
    Name(Sym),
    /// A string literal's value, escapes resolved.
    #[token("\"", short_string)]
    #[token("'", short_string)]
    #[regex(r"\[=*\[", long_string)]
    #[regex(r"\[=+", bad_long_delimiter)]
    Str(Sym),
    /// An integer numeral (hexadecimal ones wrapped to 64 bits).
    Int(i64),
    /// A float numeral, or a decimal integer numeral too large for 64 bits.
    Float(f64),
    /// Never produced: the start of a numeral, whose callback yields [`Tok::Int`] or
    /// [`Tok::Float`].
    #[regex(r"[0-9]|\.[0-9]", numeral)]
    Numeral,
    /// Any other byte: a one-byte token the grammar never accepts.
    Other(u8),
}

fn name(lex: &mut Lexer<Tok>) -> Sym {
    let text = lex.slice();
    lex.extras.intern(text)
}

/// Reads a numeral as `llex.c`'s `read_numeral`: the longest run of hex digits, `.`, and
/// exponent marks with their signs, plus one touching letter; then converts the whole text.
fn numeral(lex: &mut Lexer<Tok>) -> Result<Tok, LexFail> {
    let src = lex.source();
    let start = lex.span().start;
    let mut i = start + 1;
    let expo: &[u8] = if src[start] == b'0' && matches!(src.get(i), Some(b'x' | b'X')) {
        i += 1;
        b"Pp"
    } else {
        b"Ee"
    };
    while let Some(&c) = src.get(i) {
        if expo.contains(&c) {
            i += 1;
            if matches!(src.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
        } else if c.is_ascii_hexdigit() || c == b'.' {
            i += 1;
        } else {
            break;
        }
    }
    if matches!(src.get(i), Some(c) if c.is_ascii_alphabetic() || *c == b'_') {
        i += 1;
    }
    lex.bump(i - lex.span().end);
    let text = &src[start..i];
    match str_to_number(text) {
        Some(Number::Int(n)) => Ok(Tok::Int(n)),
        Some(Number::Float(f)) => Ok(Tok::Float(f)),
        None => Err(LexFail::new("malformed number", Some(text.to_vec()), i)),
    }
}

fn is_newline(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The length of the newline sequence at `src[i]` (`\n`, `\r`, `\r\n` or `\n\r`), 0 if none.
fn newline_len(src: &[u8], i: usize) -> usize {
    match src.get(i) {
        Some(&a) if is_newline(a) => match src.get(i + 1) {
            Some(&b) if is_newline(b) && b != a => 2,
            _ => 1,
        },
        _ => 0,
    }
}

/// Counts line ends in raw text, a `\r\n` or `\n\r` pair counting once.
pub fn count_newlines(text: &[u8]) -> u32 {
    let mut n = 0u32;
    let mut i = 0;
    while i < text.len() {
        if is_newline(text[i]) {
            n += 1;
            i += newline_len(text, i);
        } else {
            i += 1;
        }
    }
    n
}

/// Reads a quoted string after its opening delimiter, resolving escapes as `llex.c`'s
/// `read_string`. On an error, the `near` text is what Lua's buffer holds at that point: the
/// delimiter, the decoded text so far, the escape read so far and the offending byte.
fn short_string(lex: &mut Lexer<Tok>) -> Result<Sym, LexFail> {
    let src = lex.source();
    let start = lex.span().start;
    let delim = src[start];
    // Fast path: no escape before the closing delimiter, so the value is the raw text.
    let body = &src[start + 1..];
    if let Some(n) = body
        .iter()
        .position(|&b| b == delim || b == b'\\' || is_newline(b))
    {
        if body[n] == delim {
            lex.bump(n + 1 + start + 1 - lex.span().end);
            return Ok(lex.extras.intern(&body[..n]));
        }
    }
    let mut out = Vec::new();
    let mut i = start + 1;
    // The error for an escape: Lua's buffer keeps the raw escape text and then the current byte.
    let esc_err = |out: &[u8], esc_start: usize, at: usize, msg: &str| {
        let mut near = vec![delim];
        near.extend_from_slice(out);
        near.extend_from_slice(&src[esc_start..at.min(src.len())]);
        if at < src.len() {
            near.push(src[at]);
        }
        LexFail::new(msg, Some(near), at)
    };
    loop {
        let Some(&c) = src.get(i) else {
            return Err(LexFail::new("unfinished string", None, i));
        };
        if c == delim {
            i += 1;
            break;
        }
        match c {
            b'\n' | b'\r' => {
                let mut near = vec![delim];
                near.extend_from_slice(&out);
                return Err(LexFail::new("unfinished string", Some(near), i));
            }
            b'\\' => {
                let esc = i;
                i += 1;
                let Some(&e) = src.get(i) else {
                    return Err(LexFail::new("unfinished string", None, i));
                };
                let simple = match e {
                    b'a' => Some(7),
                    b'b' => Some(8),
                    b'f' => Some(12),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(11),
                    b'\\' | b'"' | b'\'' => Some(e),
                    _ => None,
                };
                if let Some(v) = simple {
                    out.push(v);
                    i += 1;
                    continue;
                }
                match e {
                    b'\n' | b'\r' => {
                        out.push(b'\n');
                        i += newline_len(src, i);
                    }
                    b'x' => {
                        let mut v = 0u8;
                        for _ in 0..2 {
                            i += 1;
                            match src.get(i).and_then(|&d| (d as char).to_digit(16)) {
                                Some(d) => v = (v << 4) | d as u8,
                                None => {
                                    return Err(esc_err(&out, esc, i, "hexadecimal digit expected"))
                                }
                            }
                        }
                        out.push(v);
                        i += 1;
                    }
                    b'u' => {
                        i += 1;
                        if src.get(i) != Some(&b'{') {
                            return Err(esc_err(&out, esc, i, "missing '{'"));
                        }
                        i += 1;
                        let Some(mut v) = src.get(i).and_then(|&d| (d as char).to_digit(16)) else {
                            return Err(esc_err(&out, esc, i, "hexadecimal digit expected"));
                        };
                        i += 1;
                        while let Some(d) = src.get(i).and_then(|&d| (d as char).to_digit(16)) {
                            if v > 0x7FFF_FFFF >> 4 {
                                return Err(esc_err(&out, esc, i, "UTF-8 value too large"));
                            }
                            v = (v << 4) + d;
                            i += 1;
                        }
                        if src.get(i) != Some(&b'}') {
                            return Err(esc_err(&out, esc, i, "missing '}'"));
                        }
                        i += 1;
                        push_utf8(&mut out, v);
                    }
                    b'z' => {
                        i += 1;
                        while matches!(src.get(i), Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
                        {
                            i += 1;
                        }
                    }
                    b'0'..=b'9' => {
                        let mut v: u32 = 0;
                        let mut n = 0;
                        while n < 3 {
                            match src.get(i) {
                                Some(&d) if d.is_ascii_digit() => {
                                    v = v * 10 + u32::from(d - b'0');
                                    i += 1;
                                    n += 1;
                                }
                                _ => break,
                            }
                        }
                        if v > 255 {
                            return Err(esc_err(&out, esc, i, "decimal escape too large"));
                        }
                        out.push(v as u8);
                    }
                    _ => return Err(esc_err(&out, esc, i, "invalid escape sequence")),
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    lex.bump(i - lex.span().end);
    Ok(lex.extras.intern(&out))
}

/// Lua's extended UTF-8 (`luaO_utf8esc`): up to six bytes, values up to 2^31 - 1.
fn push_utf8(out: &mut Vec<u8>, mut x: u32) {
    if x < 0x80 {
        out.push(x as u8);
        return;
    }
    let mut buf = [0u8; 8];
    let mut n = 0;
    let mut mfb: u32 = 0x3f; // the most a first byte can hold
    loop {
        buf[7 - n] = 0x80 | (x & 0x3f) as u8;
        n += 1;
        x >>= 6;
        mfb >>= 1;
        if x <= mfb {
            break;
        }
    }
    buf[7 - n] = ((!mfb << 1) | x) as u8;
    n += 1;
    out.extend_from_slice(&buf[8 - n..]);
}

/// Finds the closer `]=*]` with `level` equal signs at or after `from`: (content end, after).
fn find_long_close(src: &[u8], from: usize, level: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i < src.len() {
        let rel = src[i..].iter().position(|&b| b == b']')?;
        let close = i + rel;
        let mut j = close + 1;
        while j < src.len() && src[j] == b'=' {
            j += 1;
        }
        if j - close - 1 == level && src.get(j) == Some(&b']') {
            return Some((close, j + 1));
        }
        // The run of `=` cannot start another closer, but the `]` after it may.
        i = if j > close + 1 { j } else { close + 1 };
    }
    None
}

/// Scans a long bracket body whose opener ends at `open_end`: (content, end after the closer).
/// The first newline right after the opener is dropped; every newline sequence inside is read
/// as `\n`, as `llex.c` does.
fn long_body<'s>(
    src: &'s [u8],
    open_start: usize,
    open_end: usize,
    level: usize,
    what: &str,
) -> Result<(std::borrow::Cow<'s, [u8]>, usize), LexFail> {
    let Some((close, end)) = find_long_close(src, open_end, level) else {
        let start_line = count_newlines(&src[..open_start]) + 1;
        return Err(LexFail::new(
            format!("unfinished long {what} (starting at line {start_line})"),
            None,
            src.len(),
        ));
    };
    let body_start = open_end + newline_len(src, open_end);
    let body = &src[body_start.min(close)..close];
    let content = if body.contains(&b'\r') {
        let mut out = Vec::with_capacity(body.len());
        let mut i = 0;
        while i < body.len() {
            let nl = newline_len(body, i);
            if nl > 0 {
                out.push(b'\n');
                i += nl;
            } else {
                out.push(body[i]);
                i += 1;
            }
        }
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(body)
    };
    Ok((content, end))
}

fn long_string(lex: &mut Lexer<Tok>) -> Result<Sym, LexFail> {
    let span = lex.span();
    let level = span.len() - 2;
    let (content, end) = long_body(lex.source(), span.start, span.end, level, "string")?;
    lex.bump(end - span.end);
    Ok(lex.extras.intern(&content))
}

/// `[=` not followed by a second `[`.
fn bad_long_delimiter(lex: &mut Lexer<Tok>) -> Result<Sym, LexFail> {
    Err(LexFail::new(
        "invalid long string delimiter",
        Some(lex.slice().to_vec()),
        lex.span().end,
    ))
}

/// A comment: `--[=*[` opens a long comment, anything else runs to the end of the line.
fn comment(lex: &mut Lexer<Tok>) -> Result<(), LexFail> {
    let src = lex.source();
    let start = lex.span().start;
    let after = lex.span().end;
    if src.get(after) == Some(&b'[') {
        let mut j = after + 1;
        while src.get(j) == Some(&b'=') {
            j += 1;
        }
        if src.get(j) == Some(&b'[') {
            let level = j - after - 1;
            // Comments keep no value; only the closer matters.
            let end = match find_long_close(src, j + 1, level) {
                Some((_, end)) => end,
                None => return long_body(src, start, j + 1, level, "comment").map(|_| ()),
            };
            lex.bump(end - after);
            return Ok(());
        }
    }
    let len = src[after..]
        .iter()
        .position(|&b| is_newline(b))
        .unwrap_or(src.len() - after);
    lex.bump(len);
    Ok(())
}

/// One token with its place in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// Byte offsets of the token's text.
    pub start: u32,
    pub end: u32,
    /// The line of the token's first byte.
    pub line: u32,
}

/// A lexical error, placed: `message` is e.g. `unfinished string near '"abc'`.
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub line: u32,
    pub message: String,
    /// Offset of the token that failed (syntax errors before it take precedence).
    pub start: u32,
}

/// A tokenized chunk.
#[derive(Debug)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    /// The line of `<eof>` (or of the lexical error, if any).
    pub eof_line: u32,
    /// The first lexical error; `tokens` holds the tokens before it.
    pub error: Option<LexError>,
    /// The names and string values the tokens refer to.
    pub strings: Strings,
}

/// Formats a `near` text as Lua does: quoted as written, or `<eof>`.
pub fn near_text(text: Option<&[u8]>) -> String {
    match text {
        None => "<eof>".to_string(),
        Some(t) => format!("'{}'", String::from_utf8_lossy(t)),
    }
}

/// Splits a chunk into tokens.
pub fn tokenize(source: &[u8]) -> Lexed {
    let mut stream = Tokens::new(source);
    let tokens: Vec<Token> = stream.by_ref().collect();
    Lexed {
        tokens,
        eof_line: stream.eof_line(),
        error: stream.error.take(),
        strings: stream.take_strings(),
    }
}

/// The tokens of a chunk, produced on demand (the parser pulls them, so no token vector is
/// built on the fast path). After the iterator ends, [`Tokens::error`] holds the lexical
/// error that stopped it, if any.
pub struct Tokens<'s> {
    lex: Lexer<'s, Tok>,
    /// The source text.
    body: &'s [u8],
    /// The line at `pos`.
    line: u32,
    /// End of the last token.
    pos: usize,
    /// The lexical error that ended the stream.
    pub error: Option<LexError>,
    done: bool,
}

impl<'s> Tokens<'s> {
    /// Starts tokenizing `source`.
    pub fn new(source: &'s [u8]) -> Tokens<'s> {
        // A file's byte order mark and `#` line are the loader's business
        // (`crate::strip_file_header`): a chunk is lexed as it is.
        let body = source;
        let mut tokens = Tokens {
            lex: Tok::lexer_with_extras(body, Strings::for_source(body.len())),
            body,
            line: 1,
            pos: 0,
            error: None,
            done: false,
        };
        if source.len() > u32::MAX as usize - 1 {
            let message = "chunk too large".to_string();
            tokens.error = Some(LexError {
                line: 1,
                message,
                start: 0,
            });
            tokens.done = true;
        }
        tokens
    }

    /// The chunk's string table (what the tokens' [`Sym`]s refer to), leaving an empty one.
    pub fn take_strings(&mut self) -> Strings {
        std::mem::replace(&mut self.lex.extras, Strings::placeholder())
    }

    /// The chunk's string table so far.
    pub fn strings(&self) -> &Strings {
        &self.lex.extras
    }

    /// The line of `<eof>` once the stream has ended (or of the lexical error).
    pub fn eof_line(&self) -> u32 {
        match &self.error {
            Some(e) => e.line,
            None => self.line + count_newlines(&self.body[self.pos.min(self.body.len())..]),
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    // Inlined into the parser's token loop: the token then stays in registers.
    #[inline(always)]
    fn next(&mut self) -> Option<Token> {
        if self.done {
            return None;
        }
        let Some(result) = self.lex.next() else {
            self.done = true;
            return None;
        };
        let span = self.lex.span();
        let body = self.body;
        self.line += count_newlines(&body[self.pos..span.start]);
        let start = span.start as u32;
        match result {
            Ok(tok) => {
                let token = Token {
                    tok,
                    start,
                    end: span.end as u32,
                    line: self.line,
                };
                // Only strings can hold a newline inside a token.
                if span.len() > 2 && matches!(token.tok, Tok::Str(_)) {
                    self.line += count_newlines(&body[span.start..span.end]);
                }
                self.pos = span.end;
                Some(token)
            }
            Err(LexFail(None)) => {
                let byte = body.get(span.start).copied().unwrap_or(0);
                self.pos = span.start + 1;
                if span.end != self.pos {
                    // Resynchronise on the byte after the unknown one.
                    let strings = self.take_strings();
                    self.lex = relex_from(body, self.pos, strings);
                }
                Some(Token {
                    tok: Tok::Other(byte),
                    start,
                    end: start + 1,
                    line: self.line,
                })
            }
            Err(LexFail(Some(fail))) => {
                let at = fail.pos.min(body.len());
                let line = count_newlines(&self.body[..at]) + 1;
                let message = format!("{} near {}", fail.msg, near_text(fail.near.as_deref()));
                self.error = Some(LexError {
                    line,
                    message,
                    start,
                });
                self.done = true;
                None
            }
        }
    }
}

/// A lexer positioned at `pos` of `body`.
fn relex_from(body: &[u8], pos: usize, strings: Strings) -> Lexer<'_, Tok> {
    let mut lex = Tok::lexer_with_extras(body, strings);
    lex.bump(pos);
    // `bump` extends the current (empty) token; the next call to `next` starts after it.
    lex
}

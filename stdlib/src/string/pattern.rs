//! Lua 5.4 pattern matching over bytes (the engine behind `string.find`, `match`, `gmatch`
//! and `gsub`).
//!
//! Invariant: the matcher is a backtracking interpreter over the pattern text, as Lua's
//! lstrlib.c. Its Rust recursion depth is bounded by [`MAXCCALLS`] (past it the match fails
//! with Lua's "pattern too complex"), single-item repetitions iterate instead of recursing,
//! and every index into the subject or pattern is bounds-checked, so no input can panic or
//! overflow the stack. Classes use the C locale (ASCII only). Errors are Lua's message texts.

use hotlua_vm::host::Signal;

/// Maximum number of captures in one pattern (Lua's `LUA_MAXCAPTURES`).
pub const MAXCAPTURES: usize = 32;
/// Maximum nesting of the matcher's recursion (Lua's `MAXCCALLS` in lstrlib.c).
pub const MAXCCALLS: usize = 200;

const ESC: u8 = b'%';
const SPECIALS: &[u8] = b"^$*+?.([%-";

/// A capture's length while its `(` is open.
const CAP_UNFINISHED: isize = -1;
/// The length marking a position capture `()`.
const CAP_POSITION: isize = -2;

/// One capture of a successful match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// A substring capture: byte range `start..end` of the subject.
    Range(usize, usize),
    /// A position capture `()`: the 0-based byte offset (Lua shows it plus one).
    Position(usize),
}

impl Capture {
    /// The captured bytes, or `None` for a position capture.
    pub fn bytes<'s>(&self, src: &'s [u8]) -> Option<&'s [u8]> {
        match *self {
            Capture::Range(s, e) => Some(&src[s..e]),
            Capture::Position(_) => None,
        }
    }
}

/// A successful match: the whole match range and the captures as Lua returns them
/// (when the pattern has no captures, `captures` holds the whole match).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// Start offset (0-based, inclusive) of the whole match.
    pub start: usize,
    /// End offset (0-based, exclusive) of the whole match.
    pub end: usize,
    /// Captures in order; the whole match when the pattern has none.
    pub captures: Vec<Capture>,
    /// Whether the pattern defined captures (`find` returns them only then).
    pub explicit: bool,
}

/// The matcher's state for one (subject, pattern) pair.
pub struct MatchState<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    depth_left: usize,
    level: usize,
    capture: [(usize, isize); MAXCAPTURES],
    /// The VM's signal word: a long match stops when an interrupt is requested.
    stop: Option<&'a Signal>,
    /// Matching steps since the start (the signal is read every 65,536 of them).
    steps: u32,
}

/// The error text of a match stopped by an interrupt (the caller raises the VM's own
/// interrupt error instead).
pub const INTERRUPTED: &str = "interrupted";

/// The matcher's internal result: the end of a match, [`NO_MATCH`], or an error. A plain
/// `usize` with a sentinel keeps the hot recursion's return value in registers.
type MResult = Result<usize, PatErr>;

/// "No match" in [`MResult`] (no subject offset can be this large).
const NO_MATCH: usize = usize::MAX;

/// The matcher's errors, turned into Lua's texts only when they leave the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PatErr {
    EndsWithEsc,
    MissingBracket,
    MissingFrontierSet,
    MissingBalanceArgs,
    InvalidCaptureIndex(isize),
    InvalidPatternCapture,
    UnfinishedCapture,
    TooComplex,
    TooManyCaptures,
    Interrupted,
}

impl From<PatErr> for String {
    fn from(e: PatErr) -> String {
        match e {
            PatErr::EndsWithEsc => "malformed pattern (ends with '%')".into(),
            PatErr::MissingBracket => "malformed pattern (missing ']')".into(),
            PatErr::MissingFrontierSet => "missing '[' after '%f' in pattern".into(),
            PatErr::MissingBalanceArgs => "malformed pattern (missing arguments to '%b')".into(),
            PatErr::InvalidCaptureIndex(i) => format!("invalid capture index %{i}"),
            PatErr::InvalidPatternCapture => "invalid pattern capture".into(),
            PatErr::UnfinishedCapture => "unfinished capture".into(),
            PatErr::TooComplex => "pattern too complex".into(),
            PatErr::TooManyCaptures => "too many captures".into(),
            PatErr::Interrupted => INTERRUPTED.into(),
        }
    }
}

const fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

const CL_ALPHA: u16 = 1;
const CL_CNTRL: u16 = 2;
const CL_DIGIT: u16 = 4;
const CL_GRAPH: u16 = 8;
const CL_LOWER: u16 = 16;
const CL_PUNCT: u16 = 32;
const CL_SPACE: u16 = 64;
const CL_UPPER: u16 = 128;
const CL_ALNUM: u16 = 256;
const CL_XDIGIT: u16 = 512;
const CL_ZERO: u16 = 1024;

/// The C-locale classes of every byte, one bit per class letter.
static CLASS_TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut b = 0;
        if c.is_ascii_alphabetic() {
            b |= CL_ALPHA;
        }
        if c < 32 || c == 127 {
            b |= CL_CNTRL;
        }
        if c.is_ascii_digit() {
            b |= CL_DIGIT;
        }
        if c >= 33 && c <= 126 {
            b |= CL_GRAPH;
        }
        if c.is_ascii_lowercase() {
            b |= CL_LOWER;
        }
        if c.is_ascii_punctuation() {
            b |= CL_PUNCT;
        }
        if is_space(c) {
            b |= CL_SPACE;
        }
        if c.is_ascii_uppercase() {
            b |= CL_UPPER;
        }
        if c.is_ascii_alphanumeric() {
            b |= CL_ALNUM;
        }
        if c.is_ascii_hexdigit() {
            b |= CL_XDIGIT;
        }
        if c == 0 {
            b |= CL_ZERO;
        }
        t[i] = b;
        i += 1;
    }
    t
};

/// Whether `c` belongs to the class letter `cl` (`a`, `d`, ...; upper case complements);
/// any other `cl` stands for itself.
#[inline]
pub fn match_class(c: u8, cl: u8) -> bool {
    let bit = match cl.to_ascii_lowercase() {
        b'a' => CL_ALPHA,
        b'c' => CL_CNTRL,
        b'd' => CL_DIGIT,
        b'g' => CL_GRAPH,
        b'l' => CL_LOWER,
        b'p' => CL_PUNCT,
        b's' => CL_SPACE,
        b'u' => CL_UPPER,
        b'w' => CL_ALNUM,
        b'x' => CL_XDIGIT,
        b'z' => CL_ZERO, // deprecated in 5.2, still accepted by 5.4
        _ => return cl == c,
    };
    (CLASS_TABLE[c as usize] & bit != 0) != cl.is_ascii_uppercase()
}

/// Whether `c` is in the set `[...]` spanning pattern offsets `p` (the `[`) to `ec`
/// (the closing `]`).
fn match_bracket_class(pat: &[u8], c: u8, mut p: usize, ec: usize) -> bool {
    let mut sig = true;
    p += 1;
    if pat[p] == b'^' {
        sig = false;
        p += 1;
    }
    while p < ec {
        if pat[p] == ESC {
            p += 1;
            if match_class(c, pat[p]) {
                return sig;
            }
            p += 1;
        } else if pat[p + 1] == b'-' && p + 2 < ec {
            if pat[p] <= c && c <= pat[p + 2] {
                return sig;
            }
            p += 3;
        } else {
            if pat[p] == c {
                return sig;
            }
            p += 1;
        }
    }
    !sig
}

/// Whether the single-character item `p..ep` of `pat` matches the byte `c`.
#[inline]
fn item_match(pat: &[u8], c: u8, p: usize, ep: usize) -> bool {
    match pat[p] {
        b'.' => true,
        ESC => match_class(c, pat[p + 1]),
        b'[' => match_bracket_class(pat, c, p, ep - 1),
        pc => pc == c,
    }
}

/// The first single-character item of a pattern when every match must start with a byte
/// it accepts: the pattern (from `p`, after any opening captures) begins with an item that
/// must occur at least once. `None` otherwise, or when that item is malformed (so the
/// matcher reports the error itself). Skipping the other start positions changes nothing
/// observable: the matcher would fail there on this item without looking further.
#[derive(Clone, Copy, Debug)]
struct FirstItem {
    p: usize,
    ep: usize,
}

fn first_item(pat: &[u8], mut p: usize) -> Option<FirstItem> {
    // Opening captures consume nothing: look at the item after them. With at most
    // MAXCAPTURES of them the matcher cannot fail on them either ("too many captures").
    let mut opened = 0;
    while pat.get(p) == Some(&b'(') {
        opened += 1;
        p += if pat.get(p + 1) == Some(&b')') { 2 } else { 1 };
    }
    if opened > MAXCAPTURES {
        return None;
    }
    let pc = *pat.get(p)?;
    match pc {
        b'(' | b')' | b'.' => return None,
        b'$' if p + 1 == pat.len() => return None,
        ESC if matches!(pat.get(p + 1), Some(b'b' | b'f' | b'0'..=b'9')) => return None,
        _ => {}
    }
    let ep = MatchState::new(&[], pat, None).class_end(p).ok()?;
    if matches!(pat.get(ep), Some(b'*' | b'?' | b'-')) {
        return None;
    }
    Some(FirstItem { p, ep })
}

/// The next offset from `s` whose byte the first item accepts (or `src.len()` if none).
#[inline]
fn skip_to_candidate(src: &[u8], pat: &[u8], s: usize, f: FirstItem) -> usize {
    let Some(rest) = src.get(s..) else {
        return src.len();
    };
    let found = match pat[f.p] {
        ESC | b'[' => rest.iter().position(|&c| item_match(pat, c, f.p, f.ep)),
        lit => rest.iter().position(|&c| c == lit),
    };
    match found {
        Some(k) => s + k,
        None => src.len(),
    }
}

/// Whether the pattern has none of the magic characters (so `find` may search plainly).
pub fn no_specials(pat: &[u8]) -> bool {
    !pat.iter().any(|c| SPECIALS.contains(c))
}

/// Plain substring search from `init`.
pub fn find_plain(src: &[u8], needle: &[u8], init: usize) -> Option<usize> {
    if init > src.len() {
        return None;
    }
    if needle.is_empty() {
        return Some(init);
    }
    let hay = &src[init..];
    if needle.len() > hay.len() {
        return None;
    }
    let first = needle[0];
    let last_start = hay.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        match hay[i..=last_start].iter().position(|&b| b == first) {
            None => return None,
            Some(k) => {
                i += k;
                if &hay[i..i + needle.len()] == needle {
                    return Some(init + i);
                }
                i += 1;
            }
        }
    }
    None
}

impl<'a> MatchState<'a> {
    /// A matcher of `pat` over `src`.
    pub fn new(src: &'a [u8], pat: &'a [u8], stop: Option<&'a Signal>) -> Self {
        MatchState {
            src,
            pat,
            depth_left: MAXCCALLS,
            level: 0,
            capture: [(0, 0); MAXCAPTURES],
            stop,
            steps: 0,
        }
    }

    /// Counts a matching step; every 65,536 steps, an interrupt request stops the match.
    #[inline(always)]
    fn tick(&mut self) -> Result<(), PatErr> {
        self.steps = self.steps.wrapping_add(1);
        if self.steps & 0xffff == 0 && self.stop.is_some_and(|s| s.interrupt_pending()) {
            return Err(PatErr::Interrupted);
        }
        Ok(())
    }

    /// Tries to match the pattern suffix starting at pattern offset `p` at subject offset
    /// `s`, from a fresh capture state. Returns the end of the match.
    pub fn match_at(&mut self, s: usize, p: usize) -> Result<Option<usize>, String> {
        self.level = 0;
        self.depth_left = MAXCCALLS;
        match self.do_match(s, p) {
            Ok(NO_MATCH) => Ok(None),
            Ok(e) => Ok(Some(e)),
            Err(e) => Err(e.into()),
        }
    }

    /// Number of captures recorded by the last successful match.
    pub fn level(&self) -> usize {
        self.level
    }

    /// Capture `i` (0-based) of the last match `s..e`, as Lua's `get_onecapture`: index 0
    /// without explicit captures is the whole match.
    pub fn get_capture(&self, i: usize, s: usize, e: usize) -> Result<Capture, String> {
        if i >= self.level {
            if i != 0 {
                return Err(PatErr::InvalidCaptureIndex(i as isize + 1).into());
            }
            return Ok(Capture::Range(s, e));
        }
        let (init, len) = self.capture[i];
        match len {
            CAP_UNFINISHED => Err(PatErr::UnfinishedCapture.into()),
            CAP_POSITION => Ok(Capture::Position(init)),
            _ => Ok(Capture::Range(init, init + len as usize)),
        }
    }

    /// All captures of the last match `s..e` (the whole match if the pattern has none).
    pub fn captures(&self, s: usize, e: usize) -> Result<Vec<Capture>, String> {
        let n = if self.level == 0 { 1 } else { self.level };
        (0..n).map(|i| self.get_capture(i, s, e)).collect()
    }

    fn class_end(&self, mut p: usize) -> Result<usize, PatErr> {
        let pat = self.pat;
        let c = pat[p];
        p += 1;
        if c == ESC {
            if p >= pat.len() {
                return Err(PatErr::EndsWithEsc);
            }
            return Ok(p + 1);
        }
        if c == b'[' {
            if pat.get(p) == Some(&b'^') {
                p += 1;
            }
            // The first character is taken literally, so `[]]` is a set holding `]`.
            loop {
                if p >= pat.len() {
                    return Err(PatErr::MissingBracket);
                }
                let cc = pat[p];
                p += 1;
                if cc == ESC && p < pat.len() {
                    p += 1;
                }
                if pat.get(p) == Some(&b']') {
                    return Ok(p + 1);
                }
            }
        }
        Ok(p)
    }

    /// Whether the single-character item `p..ep` matches the subject byte at `s`.
    #[inline]
    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        match self.src.get(s) {
            Some(&c) => item_match(self.pat, c, p, ep),
            None => false,
        }
    }

    /// Matches the pattern from `p` at subject offset `s`: the end of the match, or
    /// [`NO_MATCH`].
    fn do_match(&mut self, s: usize, p: usize) -> MResult {
        self.tick()?;
        if self.depth_left == 0 {
            return Err(PatErr::TooComplex);
        }
        self.depth_left -= 1;
        let r = self.do_match_body(s, p);
        self.depth_left += 1;
        r
    }

    fn do_match_body(&mut self, mut s: usize, mut p: usize) -> MResult {
        let pat = self.pat;
        let src = self.src;
        loop {
            let Some(&pc) = pat.get(p) else { return Ok(s) };
            match pc {
                b'(' => {
                    return if pat.get(p + 1) == Some(&b')') {
                        self.start_capture(s, p + 2, CAP_POSITION)
                    } else {
                        self.start_capture(s, p + 1, CAP_UNFINISHED)
                    };
                }
                b')' => return self.end_capture(s, p + 1),
                b'$' if p + 1 == pat.len() => {
                    return Ok(if s == src.len() { s } else { NO_MATCH });
                }
                ESC if p + 1 < pat.len() && pat[p + 1] == b'b' => {
                    s = self.match_balance(s, p + 2)?;
                    if s == NO_MATCH {
                        return Ok(NO_MATCH);
                    }
                    p += 4;
                }
                ESC if p + 1 < pat.len() && pat[p + 1] == b'f' => {
                    p += 2;
                    if pat.get(p) != Some(&b'[') {
                        return Err(PatErr::MissingFrontierSet);
                    }
                    let ep = self.class_end(p)?;
                    let prev = if s == 0 { 0 } else { src[s - 1] };
                    let cur = src.get(s).copied().unwrap_or(0);
                    if match_bracket_class(pat, prev, p, ep - 1)
                        || !match_bracket_class(pat, cur, p, ep - 1)
                    {
                        return Ok(NO_MATCH);
                    }
                    p = ep;
                }
                ESC if p + 1 < pat.len() && pat[p + 1].is_ascii_digit() => {
                    s = self.match_capture(s, pat[p + 1])?;
                    if s == NO_MATCH {
                        return Ok(NO_MATCH);
                    }
                    p += 2;
                }
                _ => {
                    // A plain character needs no class_end scan.
                    let ep = match pc {
                        ESC | b'[' => self.class_end(p)?,
                        _ => p + 1,
                    };
                    let next = pat.get(ep).copied();
                    if !self.single_match(s, p, ep) {
                        if matches!(next, Some(b'*' | b'?' | b'-')) {
                            // The item may match zero times.
                            p = ep + 1;
                            continue;
                        }
                        return Ok(NO_MATCH);
                    }
                    match next {
                        Some(b'?') => {
                            let r = self.do_match(s + 1, ep + 1)?;
                            if r != NO_MATCH {
                                return Ok(r);
                            }
                            p = ep + 1;
                        }
                        Some(b'+') => return self.max_expand(s + 1, p, ep),
                        Some(b'*') => return self.max_expand(s, p, ep),
                        Some(b'-') => return self.min_expand(s, p, ep),
                        _ => {
                            s += 1;
                            p = ep;
                        }
                    }
                }
            }
        }
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> MResult {
        let mut i = 0usize;
        while self.single_match(s + i, p, ep) {
            i += 1;
            if i & 0xffff == 0 {
                self.tick()?;
            }
        }
        // Try the longest run first, then back off one item at a time.
        loop {
            let r = self.do_match(s + i, ep + 1)?;
            if r != NO_MATCH {
                return Ok(r);
            }
            if i == 0 {
                return Ok(NO_MATCH);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> MResult {
        loop {
            let r = self.do_match(s, ep + 1)?;
            if r != NO_MATCH {
                return Ok(r);
            }
            if self.single_match(s, p, ep) {
                s += 1;
            } else {
                return Ok(NO_MATCH);
            }
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, what: isize) -> MResult {
        if self.level >= MAXCAPTURES {
            return Err(PatErr::TooManyCaptures);
        }
        self.capture[self.level] = (s, what);
        self.level += 1;
        let r = self.do_match(s, p)?;
        if r == NO_MATCH {
            self.level -= 1;
        }
        Ok(r)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> MResult {
        let l = self.capture_to_close()?;
        self.capture[l].1 = (s - self.capture[l].0) as isize;
        let r = self.do_match(s, p)?;
        if r == NO_MATCH {
            self.capture[l].1 = CAP_UNFINISHED;
        }
        Ok(r)
    }

    fn capture_to_close(&self) -> Result<usize, PatErr> {
        (0..self.level)
            .rev()
            .find(|&l| self.capture[l].1 == CAP_UNFINISHED)
            .ok_or(PatErr::InvalidPatternCapture)
    }

    fn match_balance(&self, s: usize, p: usize) -> MResult {
        if p + 1 >= self.pat.len() {
            return Err(PatErr::MissingBalanceArgs);
        }
        let (b, e) = (self.pat[p], self.pat[p + 1]);
        if self.src.get(s) != Some(&b) {
            return Ok(NO_MATCH);
        }
        let mut cont = 1usize;
        for (i, &c) in self.src.iter().enumerate().skip(s + 1) {
            if c == e {
                cont -= 1;
                if cont == 0 {
                    return Ok(i + 1);
                }
            } else if c == b {
                cont += 1;
            }
        }
        Ok(NO_MATCH)
    }

    fn match_capture(&self, s: usize, digit: u8) -> MResult {
        let l = digit as isize - b'1' as isize;
        if l < 0 || l as usize >= self.level || self.capture[l as usize].1 == CAP_UNFINISHED {
            return Err(PatErr::InvalidCaptureIndex(l + 1));
        }
        let (init, len) = self.capture[l as usize];
        if len < 0 {
            // A back reference to a position capture never matches (as in Lua).
            return Ok(NO_MATCH);
        }
        let len = len as usize;
        if self.src.len() - s >= len && self.src[init..init + len] == self.src[s..s + len] {
            Ok(s + len)
        } else {
            Ok(NO_MATCH)
        }
    }
}

/// Converts Lua's `init` argument (1-based, negative from the end) into a 0-based offset,
/// as `find`, `match` and `gmatch` do. Returns `None` when it lies past the end plus one.
pub fn start_offset(init: i64, len: usize) -> Option<usize> {
    let len_i = len as i64;
    let pos = if init > 0 {
        init
    } else if init == 0 || init < -len_i {
        1
    } else {
        len_i + init + 1
    };
    if pos - 1 > len_i {
        None
    } else {
        Some((pos - 1) as usize)
    }
}

/// `string.find`/`string.match` core: search `pat` in `src` from offset `init`.
/// `plain` forces a plain substring search (find's 4th argument); a pattern without magic
/// characters is searched plainly too, as Lua does, which matters for malformed patterns.
pub fn find(
    src: &[u8],
    pat: &[u8],
    init: usize,
    plain: bool,
    stop: Option<&Signal>,
) -> Result<Option<Match>, String> {
    if init > src.len() {
        return Ok(None);
    }
    if plain || no_specials(pat) {
        return Ok(find_plain(src, pat, init).map(|s| Match {
            start: s,
            end: s + pat.len(),
            captures: vec![Capture::Range(s, s + pat.len())],
            explicit: false,
        }));
    }
    pattern_search(src, pat, init, stop)
}

/// `string.match` core: like [`find`] but always interprets the pattern.
pub fn pattern_search(
    src: &[u8],
    pat: &[u8],
    init: usize,
    stop: Option<&Signal>,
) -> Result<Option<Match>, String> {
    if init > src.len() {
        return Ok(None);
    }
    let anchor = pat.first() == Some(&b'^');
    let p0 = anchor as usize;
    let mut ms = MatchState::new(src, pat, stop);
    let filter = if anchor { None } else { first_item(pat, p0) };
    let mut s = init;
    loop {
        if let Some(f) = filter {
            s = skip_to_candidate(src, pat, s, f);
            if s == src.len() {
                return Ok(None);
            }
        }
        if let Some(e) = ms.match_at(s, p0)? {
            return Ok(Some(Match {
                start: s,
                end: e,
                captures: ms.captures(s, e)?,
                explicit: ms.level() > 0,
            }));
        }
        s += 1;
        if anchor || s > src.len() {
            return Ok(None);
        }
    }
}

/// The state of a `string.gmatch` iteration. Lua 5.4 treats `^` literally here, and skips
/// an empty match ending where the previous match ended.
#[derive(Clone, Debug)]
pub struct GMatch {
    /// Where the next search starts.
    pub pos: usize,
    /// End of the previous match, if any.
    pub last_match: Option<usize>,
}

impl GMatch {
    /// A new iteration starting at 0-based offset `init` (clamped to the subject length by
    /// the caller: 5.4's gmatch sets init past the end to len + 1, which yields nothing).
    pub fn new(init: usize) -> Self {
        GMatch {
            pos: init,
            last_match: None,
        }
    }

    /// The next match, or `None` when the iteration is over.
    pub fn next_match(
        &mut self,
        src: &[u8],
        pat: &[u8],
        stop: Option<&Signal>,
    ) -> Result<Option<Match>, String> {
        let mut ms = MatchState::new(src, pat, stop);
        let filter = first_item(pat, 0);
        let mut s = self.pos;
        while s <= src.len() {
            if let Some(f) = filter {
                s = skip_to_candidate(src, pat, s, f);
                if s == src.len() {
                    break;
                }
            }
            if let Some(e) = ms.match_at(s, 0)? {
                if Some(e) != self.last_match {
                    self.pos = e;
                    self.last_match = Some(e);
                    return Ok(Some(Match {
                        start: s,
                        end: e,
                        captures: ms.captures(s, e)?,
                        explicit: ms.level() > 0,
                    }));
                }
            }
            s += 1;
        }
        self.pos = s;
        Ok(None)
    }
}

/// `string.gsub` driver: replaces up to `max_n` matches (`None` = all) of `pat` in `src`,
/// calling `repl(state, start, end, out)` for each match to append its replacement to `out`
/// (see [`expand_replacement`] for the string case; a callback that keeps the match
/// appends `src[start..end]`). Returns the new string and the number of matches.
pub fn gsub<E: From<String>>(
    src: &[u8],
    pat: &[u8],
    max_n: Option<i64>,
    stop: Option<&Signal>,
    mut repl: impl FnMut(&MatchState<'_>, usize, usize, &mut Vec<u8>) -> Result<(), E>,
) -> Result<(Vec<u8>, i64), E> {
    let anchor = pat.first() == Some(&b'^');
    let p0 = anchor as usize;
    let max_n = max_n.unwrap_or(i64::MAX);
    let mut ms = MatchState::new(src, pat, stop);
    let filter = if anchor { None } else { first_item(pat, p0) };
    let mut out = Vec::with_capacity(src.len());
    let mut s = 0usize;
    let mut n = 0i64;
    let mut last_match: Option<usize> = None;
    while n < max_n {
        if let Some(f) = filter {
            let next = skip_to_candidate(src, pat, s, f);
            out.extend_from_slice(&src[s..next]);
            s = next;
            if s == src.len() {
                break;
            }
        }
        match ms.match_at(s, p0)? {
            Some(e) if Some(e) != last_match => {
                n += 1;
                repl(&ms, s, e, &mut out)?;
                s = e;
                last_match = Some(e);
            }
            _ => {
                if s < src.len() {
                    out.push(src[s]);
                    s += 1;
                } else {
                    break;
                }
            }
        }
        if anchor {
            break;
        }
    }
    if s < src.len() {
        out.extend_from_slice(&src[s..]);
    }
    Ok((out, n))
}

/// Expands a gsub replacement string for the match `s..e`: `%0` is the whole match,
/// `%1`-`%9` captures (a position capture as its 1-based decimal position), `%%` a percent.
pub fn expand_replacement(
    ms: &MatchState<'_>,
    src: &[u8],
    repl: &[u8],
    s: usize,
    e: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mut i = 0;
    while i < repl.len() {
        let c = repl[i];
        i += 1;
        if c != ESC {
            out.push(c);
            continue;
        }
        match repl.get(i).copied() {
            Some(ESC) => out.push(ESC),
            Some(b'0') => out.extend_from_slice(&src[s..e]),
            Some(d) if d.is_ascii_digit() => match ms.get_capture((d - b'1') as usize, s, e)? {
                Capture::Range(a, b) => out.extend_from_slice(&src[a..b]),
                Capture::Position(p) => out.extend_from_slice((p + 1).to_string().as_bytes()),
            },
            _ => return Err("invalid use of '%' in replacement string".to_string()),
        }
        i += 1;
    }
    Ok(())
}

/// Convenience: `string.gsub` with a replacement string.
pub fn gsub_str(
    src: &[u8],
    pat: &[u8],
    repl: &[u8],
    max_n: Option<i64>,
    stop: Option<&Signal>,
) -> Result<(Vec<u8>, i64), String> {
    gsub(src, pat, max_n, stop, |ms, s, e, out| {
        expand_replacement(ms, src, repl, s, e, out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_subjects_do_not_recurse() {
        // Single-item repetitions iterate: a megabyte-long run neither overflows the stack
        // nor hits the depth limit.
        let s = vec![b'a'; 1 << 20];
        let m = pattern_search(&s, b"^a*$", 0, None).unwrap().unwrap();
        assert_eq!((m.start, m.end), (0, s.len()));
        let m = pattern_search(&s, b"a-$", 0, None).unwrap().unwrap();
        assert_eq!(m.end, s.len());
    }

    #[test]
    fn nesting_beyond_the_limit_is_an_error() {
        let pat = b"a?".repeat(MAXCCALLS + 1);
        let s = vec![b'a'; MAXCCALLS + 1];
        assert_eq!(
            pattern_search(&s, &pat, 0, None),
            Err("pattern too complex".to_string())
        );
    }

    #[test]
    fn deepest_patterns_fit_a_small_stack() {
        // MAXCCALLS nested items (captures and optional items, each a recursion level) on
        // a 256 KB thread: the explicit depth limit bounds the Rust stack use.
        let run = || {
            let pat = b"(a?"
                .repeat(MAXCAPTURES)
                .into_iter()
                .chain(b"a?".repeat(150))
                .collect::<Vec<u8>>();
            let s = vec![b'a'; 400];
            let r = pattern_search(&s, &pat, 0, None);
            assert_eq!(r, Err("pattern too complex".to_string()));
            let pat = b"a?".repeat(MAXCCALLS - 2);
            assert!(pattern_search(&s, &pat, 0, None).unwrap().is_some());
        };
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn start_offsets_follow_posrelat() {
        assert_eq!(start_offset(1, 3), Some(0));
        assert_eq!(start_offset(0, 3), Some(0));
        assert_eq!(start_offset(-1, 3), Some(2));
        assert_eq!(start_offset(-10, 3), Some(0));
        assert_eq!(start_offset(4, 3), Some(3));
        assert_eq!(start_offset(5, 3), None);
        assert_eq!(start_offset(i64::MIN, 3), Some(0));
    }

    #[test]
    fn gsub_anchor_and_limits() {
        assert_eq!(
            gsub_str(b"aaa", b"^a", b"b", None, None),
            Ok((b"baa".to_vec(), 1))
        );
        assert_eq!(
            gsub_str(b"aaa", b"a", b"b", Some(2), None),
            Ok((b"bba".to_vec(), 2))
        );
        assert_eq!(
            gsub_str(b"abc", b"%w*", b"x", None, None),
            Ok((b"x".to_vec(), 1))
        );
        assert_eq!(
            gsub_str(b"abc", b"b", b"%", None, None),
            Err("invalid use of '%' in replacement string".to_string())
        );
    }

    #[test]
    fn classes_are_c_locale() {
        assert!(match_class(0x0b, b's')); // vertical tab is a C space
        assert!(!match_class(0xe9, b'a'));
        assert!(match_class(0xe9, b'A'));
        assert!(match_class(b'_', b'p'));
        assert!(match_class(0, b'z'));
    }
}

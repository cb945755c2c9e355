//! `silly.net.http`: an HTTP/1.1 server on silly.net.tcp (see spec/http.md).
//!
//! This file reads requests: a state machine per connection (kept with the socket, see
//! `tcp::Stream::proto`) that consumes the socket's read buffer as bytes arrive, so a
//! request costs O(its bytes) however it is split. Heads, chunk-size lines and trailers are
//! parsed by the `httparse` crate; the framing rules of RFC 9112 on top of it are here
//! (Content-Length digits only, no Content-Length with Transfer-Encoding, `chunked` the
//! only transfer coding, Host required in HTTP/1.1, limits and deadlines). Responses,
//! keep-alive decisions and handler errors live in `http.lua`, compiled into the module.
//!
//! Invariant: nothing a client sends makes a primitive raise or panic: every outcome is a
//! request, "wait", or an error status for the Lua side to answer with before closing.

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use super::eventloop::with_loop;
use super::tcp::{self, Fill, ReadBuf, Stream};
use super::timer::Micros;
use crate::open::set_field;

/// The Lua half: its chunk receives the primitives and returns the module table.
const LUA_SOURCE: &str = include_str!("http.lua");

/// Most header lines one request (or its trailers) may carry.
const MAX_HEADERS: usize = 100;

/// Longest chunk-size line (size and extensions).
const MAX_CHUNK_LINE: usize = 4096;

/// Most memory set aside ahead for a body of announced size: beyond it the buffer grows as
/// the bytes arrive, so announcing a large body costs nothing until it is sent.
const MAX_RESERVE: usize = 256 * 1024;

/// Builds the `silly.net.http` module.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let c = vm.new_table();
    let funcs: &[(&str, hotlua_vm::NativeFn)] = &[
        ("attach", attach),
        ("request", request),
        ("validheader", validheader),
        ("wait", tcp::wait),
        ("shutdown", tcp::shutdown),
        ("drain", tcp::drain),
        ("close", tcp::close),
    ];
    for &(name, f) in funcs {
        set_field(vm, c, name, Value::LightFn(f));
    }
    let built = vm
        .load(LUA_SOURCE.as_bytes(), "=[silly.net.http]", None)
        .and_then(|f| vm.call(f, &[Value::Table(c)]));
    match built {
        Ok(v) => match v.first() {
            Some(Value::Table(t)) => *t,
            _ => c,
        },
        // Only a bug in http.lua gets here.
        Err(_) => c,
    }
}

/// Limits of one connection (`http.listen`'s options).
#[derive(Clone, Copy, Debug)]
struct Limits {
    max_head: usize,
    max_body: u64,
    header_us: Micros,
    body_us: Micros,
    idle_us: Micros,
}

/// Where a connection is in its current request.
enum Phase {
    /// Nothing of the next request yet. `head_by`: the deadline its head inherits (the
    /// first request's head is due `header_timeout` after the connection was accepted).
    Idle {
        deadline: Micros,
        head_by: Option<Micros>,
    },
    /// Receiving the head: `scanned` unread bytes were searched for its end.
    Head { deadline: Micros, scanned: usize },
    /// Receiving the body of `head`.
    Body {
        deadline: Micros,
        head: Box<Head>,
        body: Vec<u8>,
        framing: Framing,
    },
    /// A request was handed out; the next call starts the idle time.
    Served,
    /// A framing error or the end of the stream: nothing more is read.
    Failed,
}

enum Framing {
    Length(usize),
    Chunked(Chunk),
}

enum Chunk {
    /// A chunk-size line; `scanned` bytes searched for its LF.
    Size { scanned: usize },
    /// `left` bytes of chunk data.
    Data { left: usize },
    /// The CRLF after a chunk's data.
    DataEnd,
    /// Trailer fields up to the empty line; `scanned` bytes searched for it.
    Trailers { scanned: usize },
}

/// A parsed request head.
struct Head {
    method: String,
    target: Vec<u8>,
    minor: u8,
    /// Names lower-cased, in arrival order.
    headers: Vec<(String, Vec<u8>)>,
    keep_alive: bool,
}

/// The request reader of one connection.
struct Conn {
    limits: Limits,
    phase: Phase,
}

/// What one call of `request` gives Lua.
enum Outcome {
    Request(Box<Head>, Vec<u8>),
    /// Wait for the socket until this deadline, then call again.
    Wait(Micros),
    /// Answer with this status (0: none, just close) and close.
    Fail(u16, String),
}

fn fail(status: u16, msg: &str) -> Result<Option<Outcome>, Outcome> {
    Err(Outcome::Fail(status, msg.to_string()))
}

/// Integer option `i` in milliseconds or bytes: non-negative, saturating.
fn opt_nonneg(vm: &mut Vm, args: Args, i: usize) -> Result<u64, LuaError> {
    let n = vm.check_int(args, i)?;
    if n < 0 {
        return Err(vm.arg_error(i, "non-negative integer expected"));
    }
    Ok(n as u64)
}

/// `attach(fd, max_head, max_body, header_ms, body_ms, idle_ms)`: starts reading requests
/// on the stream `fd` (the first head is due `header_ms` from now). false if `fd` is not
/// an open stream.
fn attach(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let fd = vm.check_int(args, 0)?;
    let limits = Limits {
        max_head: opt_nonneg(vm, args, 1)? as usize,
        max_body: opt_nonneg(vm, args, 2)?,
        header_us: opt_nonneg(vm, args, 3)?.saturating_mul(1000),
        body_us: opt_nonneg(vm, args, 4)?.saturating_mul(1000),
        idle_us: opt_nonneg(vm, args, 5)?.saturating_mul(1000),
    };
    let now = with_loop(vm, |_, lp| lp.now_us())?;
    let head_by = now.saturating_add(limits.header_us);
    let ok = tcp::with_stream(vm, fd, |st| {
        st.proto = Some(Box::new(Conn {
            limits,
            phase: Phase::Idle {
                deadline: head_by,
                head_by: Some(head_by),
            },
        }));
    })
    .is_some();
    vm.push(Value::Bool(ok))?;
    Ok(1)
}

/// `request(fd)`: reads what has arrived and answers
/// - `"request", method, target, version, headers, body, keepalive` for a complete
///   request (`version` "1.1" or "1.0", `headers` names lower-cased with repeated fields
///   joined by ", ", `keepalive` whether the connection may serve another request);
/// - `"wait", deadline`: wait for the socket until `deadline` (ms on the loop's clock),
///   then call again;
/// - `"error", status, message`: answer `status` (0: none) and close the connection.
fn request(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let fd = vm.check_int(args, 0)?;
    let now = with_loop(vm, |_, lp| lp.now_us())?;
    let out = tcp::with_stream(vm, fd, |st| {
        let Some(mut conn) = st.proto.take().and_then(|p| p.downcast::<Conn>().ok()) else {
            return Outcome::Fail(0, "not an HTTP connection".into());
        };
        let out = conn.advance(st, now);
        if let Outcome::Fail(..) = out {
            conn.phase = Phase::Failed;
        }
        st.proto = Some(conn);
        out
    })
    .unwrap_or_else(|| Outcome::Fail(0, "closed".into()));
    match out {
        Outcome::Request(head, body) => push_request(vm, *head, &body),
        Outcome::Wait(deadline) => {
            let s = vm.new_str("wait");
            vm.push(Value::Str(s))?;
            // Rounded up: waking a little late is harmless, early is not.
            vm.push(Value::Int(deadline.div_ceil(1000) as i64))?;
            Ok(2)
        }
        Outcome::Fail(status, msg) => {
            let s = vm.new_str("error");
            vm.push(Value::Str(s))?;
            vm.push(Value::Int(status as i64))?;
            let m = vm.new_str(&msg);
            vm.push(Value::Str(m))?;
            Ok(3)
        }
    }
}

fn push_request(vm: &mut Vm, head: Head, body: &[u8]) -> Result<usize, LuaError> {
    let t = vm.new_table();
    for (name, value) in &head.headers {
        let k = vm.new_str(name);
        let v = match t.get().get_str(k) {
            Value::Str(old) => {
                let mut joined = old.get().as_bytes().to_vec();
                joined.extend_from_slice(b", ");
                joined.extend_from_slice(value);
                vm.new_str(&joined)
            }
            _ => vm.new_str(value),
        };
        let _ = vm.raw_set(t, Value::Str(k), Value::Str(v));
    }
    let vals = [
        vm.str_value("request"),
        vm.str_value(&head.method),
        vm.str_value(&head.target),
        vm.str_value(if head.minor == 0 { "1.0" } else { "1.1" }),
        Value::Table(t),
        vm.str_value(body),
        Value::Bool(head.keep_alive),
    ];
    for v in vals {
        vm.push(v)?;
    }
    Ok(vals.len())
}

/// The end of a head or trailer block in `b`: the offset just past the empty line that
/// ends it (CRLF or a bare LF, which RFC 9112 lets a recipient accept), searching from
/// `*scanned` and recording how far it got.
fn block_end(b: &[u8], scanned: &mut usize) -> Option<usize> {
    let mut from = *scanned;
    // Each byte is looked at once: LFs are found from where the last search stopped, and
    // only the two bytes before each are checked.
    while let Some(k) = b[from..].iter().position(|&x| x == b'\n') {
        let i = from + k;
        if (i >= 1 && b[i - 1] == b'\n') || (i >= 2 && b[i - 1] == b'\r' && b[i - 2] == b'\n') {
            return Some(i + 1);
        }
        from = i + 1;
    }
    *scanned = b.len();
    None
}

/// Whether `v` is 1*DIGIT.
fn all_digits(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_digit)
}

/// Case-insensitive, OWS-trimmed elements of a comma-separated field value (empty ones
/// dropped, as RFC 9110 5.6.1 asks).
fn list_items(v: &[u8]) -> impl Iterator<Item = String> + '_ {
    v.split(|&b| b == b',')
        .map(|item| String::from_utf8_lossy(item.trim_ascii()).to_ascii_lowercase())
        .filter(|s| !s.is_empty())
}

impl Conn {
    /// Consumes buffered bytes and reads more until the request is complete, the socket
    /// has nothing more for now, or the request is refused.
    fn advance(&mut self, st: &mut Stream, now: Micros) -> Outcome {
        loop {
            let mut reply = Vec::new();
            let r = self.progress(&mut st.rbuf, &mut reply, now);
            if !reply.is_empty() {
                let _ = st.send(&reply);
            }
            match r {
                Ok(Some(out)) => return out,
                Ok(None) => {}
                Err(out) => return out,
            }
            // More bytes are needed.
            match st.fill() {
                Fill::Data(_) => {}
                Fill::Again => {
                    let deadline = match self.phase {
                        Phase::Idle { deadline, .. }
                        | Phase::Head { deadline, .. }
                        | Phase::Body { deadline, .. } => deadline,
                        Phase::Served | Phase::Failed => now,
                    };
                    if now < deadline {
                        return Outcome::Wait(deadline);
                    }
                    return match self.phase {
                        Phase::Idle { .. } => Outcome::Fail(0, "idle timeout".into()),
                        Phase::Head { .. } => {
                            Outcome::Fail(408, "the request head took too long".into())
                        }
                        _ => Outcome::Fail(408, "the request body took too long".into()),
                    };
                }
                Fill::End(e) => {
                    // A peer that closes or resets mid-request gets no answer.
                    return Outcome::Fail(0, e);
                }
            }
        }
    }

    /// One step on the buffered bytes: `Ok(None)` when more bytes are needed. Bytes to send
    /// back at once (`100 Continue`) are appended to `reply`.
    fn progress(
        &mut self,
        rb: &mut ReadBuf,
        reply: &mut Vec<u8>,
        now: Micros,
    ) -> Result<Option<Outcome>, Outcome> {
        let lim = self.limits;
        match &mut self.phase {
            Phase::Failed => fail(0, "closed"),
            Phase::Served => {
                self.phase = Phase::Idle {
                    deadline: now.saturating_add(lim.idle_us),
                    head_by: None,
                };
                self.progress(rb, reply, now)
            }
            Phase::Idle { head_by, .. } => {
                // RFC 9112 2.2: empty lines before a request line are ignored.
                let skip = rb
                    .bytes()
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                rb.consume(skip);
                if rb.len() == 0 {
                    return Ok(None);
                }
                let deadline = head_by.unwrap_or(now.saturating_add(lim.header_us));
                self.phase = Phase::Head {
                    deadline,
                    scanned: 0,
                };
                self.progress(rb, reply, now)
            }
            Phase::Head { scanned, .. } => {
                let Some(end) = block_end(rb.bytes(), scanned) else {
                    if rb.len() > lim.max_head {
                        return Err(too_long_head(rb.bytes(), lim.max_head));
                    }
                    return Ok(None);
                };
                if end > lim.max_head {
                    return Err(too_long_head(rb.bytes(), lim.max_head));
                }
                let head = parse_head(&rb.bytes()[..end])?;
                rb.consume(end);
                let framing = framing(&head, lim)?;
                let Some(framing) = framing else {
                    self.phase = Phase::Served;
                    return Ok(Some(Outcome::Request(head, Vec::new())));
                };
                if expects_continue(&head) {
                    // The client waits for this before sending the body.
                    reply.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                if let Framing::Length(n) = framing {
                    rb.reserve(n.min(MAX_RESERVE));
                }
                self.phase = Phase::Body {
                    deadline: now.saturating_add(lim.body_us),
                    head,
                    body: Vec::new(),
                    framing,
                };
                self.progress(rb, reply, now)
            }
            Phase::Body { framing, body, .. } => {
                let done = match framing {
                    Framing::Length(n) => {
                        if rb.len() < *n {
                            return Ok(None);
                        }
                        *body = rb.bytes()[..*n].to_vec();
                        rb.consume(*n);
                        true
                    }
                    Framing::Chunked(ch) => chunked(ch, body, rb, lim)?,
                };
                if !done {
                    return Ok(None);
                }
                match std::mem::replace(&mut self.phase, Phase::Served) {
                    Phase::Body { head, body, .. } => Ok(Some(Outcome::Request(head, body))),
                    _ => fail(0, "closed"),
                }
            }
        }
    }
}

/// 414 when the request line alone is over the limit, else 431.
fn too_long_head(b: &[u8], max: usize) -> Outcome {
    let line_end = b.iter().position(|&x| x == b'\n');
    if line_end.is_none_or(|i| i > max) {
        Outcome::Fail(414, "the request target is too long".into())
    } else {
        Outcome::Fail(431, "the request head is too large".into())
    }
}

/// Parses a complete head with httparse and checks what RFC 9112 requires of it.
fn parse_head(b: &[u8]) -> Result<Box<Head>, Outcome> {
    let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut hdrs);
    match req.parse(b) {
        Ok(httparse::Status::Complete(n)) if n == b.len() => {}
        Ok(_) => return Err(Outcome::Fail(400, "malformed request head".into())),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Outcome::Fail(431, "too many header fields".into()))
        }
        Err(httparse::Error::Version) => {
            return Err(Outcome::Fail(505, "HTTP version not supported".into()))
        }
        Err(e) => return Err(Outcome::Fail(400, format!("malformed request head ({e})"))),
    }
    let minor = req.version.unwrap_or(1);
    let headers: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect();
    // httparse refuses NUL and bare CR/LF in names and values; say so explicitly here too,
    // so that the guarantee does not rest on a parser detail.
    if headers
        .iter()
        .any(|(_, v)| v.iter().any(|&c| c == 0 || c == b'\r' || c == b'\n'))
    {
        return Err(Outcome::Fail(
            400,
            "control character in a header field".into(),
        ));
    }
    let hosts = headers.iter().filter(|(n, _)| n == "host").count();
    if minor == 1 && hosts == 0 {
        return Err(Outcome::Fail(400, "missing Host header".into()));
    }
    if hosts > 1 {
        return Err(Outcome::Fail(400, "more than one Host header".into()));
    }
    let mut close = false;
    let mut keep = false;
    for (_, v) in headers.iter().filter(|(n, _)| n == "connection") {
        for item in list_items(v) {
            close |= item == "close";
            keep |= item == "keep-alive";
        }
    }
    let keep_alive = !close && (minor == 1 || keep);
    Ok(Box::new(Head {
        method: req.method.unwrap_or("").to_string(),
        target: req.path.unwrap_or("").as_bytes().to_vec(),
        minor,
        headers,
        keep_alive,
    }))
}

/// How the body of `head` is delimited (RFC 9112 6.3), None when it has none.
fn framing(head: &Head, lim: Limits) -> Result<Option<Framing>, Outcome> {
    let te: Vec<&Vec<u8>> = head
        .headers
        .iter()
        .filter(|(n, _)| n == "transfer-encoding")
        .map(|(_, v)| v)
        .collect();
    let cl: Vec<&Vec<u8>> = head
        .headers
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v)
        .collect();
    if !te.is_empty() {
        if !cl.is_empty() {
            return Err(Outcome::Fail(
                400,
                "both Content-Length and Transfer-Encoding".into(),
            ));
        }
        if head.minor == 0 {
            return Err(Outcome::Fail(400, "Transfer-Encoding in HTTP/1.0".into()));
        }
        let codings: Vec<String> = te.iter().flat_map(|v| list_items(v)).collect();
        if let Some(other) = codings.iter().find(|c| *c != "chunked") {
            return Err(Outcome::Fail(
                501,
                format!("unsupported transfer coding '{other}'"),
            ));
        }
        if codings.len() != 1 {
            return Err(Outcome::Fail(400, "bad Transfer-Encoding".into()));
        }
        return Ok(Some(Framing::Chunked(Chunk::Size { scanned: 0 })));
    }
    let Some(first) = cl.first() else {
        return Ok(None);
    };
    if !cl.iter().all(|v| all_digits(v)) {
        return Err(Outcome::Fail(400, "bad Content-Length".into()));
    }
    if cl.iter().any(|v| v != first) {
        return Err(Outcome::Fail(400, "conflicting Content-Length".into()));
    }
    // Digits only: the value fits unless it is absurd, which is too large anyway.
    let n = std::str::from_utf8(first)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    if n > lim.max_body {
        return Err(Outcome::Fail(413, "request body too large".into()));
    }
    Ok(if n == 0 {
        None
    } else {
        Some(Framing::Length(n as usize))
    })
}

/// `Expect: 100-continue` on an HTTP/1.1 request.
fn expects_continue(head: &Head) -> bool {
    head.minor == 1
        && head
            .headers
            .iter()
            .any(|(n, v)| n == "expect" && v.eq_ignore_ascii_case(b"100-continue"))
}

/// Advances a chunked body (RFC 9112 7.1); true once the last chunk and the trailers are in.
fn chunked(
    ch: &mut Chunk,
    body: &mut Vec<u8>,
    rb: &mut ReadBuf,
    lim: Limits,
) -> Result<bool, Outcome> {
    loop {
        match ch {
            Chunk::Size { scanned } => {
                let b = rb.bytes();
                let Some(lf) = b[*scanned..].iter().position(|&x| x == b'\n') else {
                    if b.len() > MAX_CHUNK_LINE {
                        return Err(Outcome::Fail(400, "chunk-size line too long".into()));
                    }
                    *scanned = b.len();
                    return Ok(false);
                };
                let line = &b[..*scanned + lf + 1];
                if line.len() > MAX_CHUNK_LINE || !line[0].is_ascii_hexdigit() {
                    return Err(Outcome::Fail(400, "bad chunk size".into()));
                }
                let size = match httparse::parse_chunk_size(line) {
                    Ok(httparse::Status::Complete((n, size))) if n == line.len() => size,
                    _ => return Err(Outcome::Fail(400, "bad chunk size".into())),
                };
                let room = lim.max_body - body.len() as u64;
                if size > room {
                    return Err(Outcome::Fail(413, "request body too large".into()));
                }
                let n = line.len();
                rb.consume(n);
                *ch = if size == 0 {
                    Chunk::Trailers { scanned: 0 }
                } else {
                    // size <= max_body, which came from a Lua integer: it fits.
                    body.reserve((size as usize).min(MAX_RESERVE));
                    Chunk::Data {
                        left: size as usize,
                    }
                };
            }
            Chunk::Data { left } => {
                let k = rb.len().min(*left);
                if k == 0 {
                    return Ok(false);
                }
                body.extend_from_slice(&rb.bytes()[..k]);
                rb.consume(k);
                *left -= k;
                if *left == 0 {
                    *ch = Chunk::DataEnd;
                }
            }
            Chunk::DataEnd => {
                let b = rb.bytes();
                if b.len() < 2 {
                    if b.first().is_some_and(|&x| x != b'\r') {
                        return Err(Outcome::Fail(400, "bad chunk data end".into()));
                    }
                    return Ok(false);
                }
                if &b[..2] != b"\r\n" {
                    return Err(Outcome::Fail(400, "bad chunk data end".into()));
                }
                rb.consume(2);
                *ch = Chunk::Size { scanned: 0 };
            }
            Chunk::Trailers { scanned } => {
                let b = rb.bytes();
                // No trailer fields: the empty line at once.
                if *scanned == 0 {
                    if b.starts_with(b"\r\n") {
                        rb.consume(2);
                        return Ok(true);
                    }
                    if b.starts_with(b"\n") {
                        rb.consume(1);
                        return Ok(true);
                    }
                    if b.is_empty() || b == b"\r" {
                        return Ok(false);
                    }
                }
                let Some(end) = block_end(b, scanned) else {
                    if b.len() > lim.max_head {
                        return Err(Outcome::Fail(431, "trailer section too large".into()));
                    }
                    return Ok(false);
                };
                if end > lim.max_head {
                    return Err(Outcome::Fail(431, "trailer section too large".into()));
                }
                let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
                match httparse::parse_headers(&b[..end], &mut hdrs) {
                    Ok(httparse::Status::Complete((n, _))) if n == end => {}
                    Err(httparse::Error::TooManyHeaders) => {
                        return Err(Outcome::Fail(431, "too many trailer fields".into()))
                    }
                    _ => return Err(Outcome::Fail(400, "malformed trailer section".into())),
                }
                // Trailer fields are read and dropped.
                rb.consume(end);
                return Ok(true);
            }
        }
    }
}

/// `validheader(name, value)`: nil when a response header may carry them, else the reason
/// (a name must be an RFC 9110 token; a value may not hold control characters but HTAB:
/// CR or LF would split the response, NUL is refused by every parser).
fn validheader(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = vm.check_str(args, 0)?;
    let value = vm.check_str(args, 1)?;
    let tchar = |c: &u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(c);
    let n = name.get().as_bytes();
    let why = if n.is_empty() || !n.iter().all(tchar) {
        Some("invalid header name")
    } else if value
        .get()
        .as_bytes()
        .iter()
        .any(|&c| (c < 0x20 && c != b'\t') || c == 0x7f)
    {
        Some("header value contains a control character (CR, LF, NUL, ...)")
    } else {
        None
    };
    match why {
        None => Ok(0),
        Some(w) => {
            let s = vm.new_str(w);
            vm.push(Value::Str(s))?;
            Ok(1)
        }
    }
}

/// Fuzzing entry (`fuzz/fuzz_targets/http_request.rs`): reads requests from `data` as a
/// connection would, `step` bytes arriving at a time (at least 1), with small limits, and
/// returns how many complete requests it read before the bytes ran out or a request was
/// refused. Bad input is an `Outcome::Fail` (a status to answer), never a panic.
#[doc(hidden)]
pub fn fuzz_requests(data: &[u8], step: usize) -> usize {
    let lim = Limits {
        max_head: 4096,
        max_body: 1 << 16,
        header_us: 1_000_000,
        body_us: 1_000_000,
        idle_us: 1_000_000,
    };
    let mut conn = Conn {
        limits: lim,
        phase: Phase::Idle {
            deadline: 1_000_000,
            head_by: None,
        },
    };
    let mut rb = ReadBuf::default();
    let mut reply = Vec::new();
    let (mut fed, mut n) = (0, 0);
    let step = step.max(1);
    loop {
        match conn.progress(&mut rb, &mut reply, 0) {
            Ok(Some(Outcome::Request(head, body))) => {
                assert!(body.len() as u64 <= lim.max_body);
                assert!(head.minor <= 1);
                n += 1;
            }
            Ok(Some(_)) | Err(_) => return n,
            Ok(None) => {
                if fed >= data.len() {
                    return n;
                }
                let end = (fed + step).min(data.len());
                rb.feed(&data[fed..end]);
                fed = end;
            }
        }
    }
}

//! `silly.net.tcp`: non-blocking TCP sockets on the event loop.
//!
//! The Rust side owns every socket (in a per-thread table keyed by a small integer id) and
//! offers non-blocking primitives; the Lua side (`tcp.lua`, compiled into the module) builds
//! the blocking-looking API on them by suspending the task in `wait(id)` whenever a
//! primitive answers "again". Invariant: a task only waits after a primitive saw
//! `WouldBlock`, because mio's readiness is edge-triggered.
//!
//! Writes are buffered: `send` writes what the kernel takes and keeps the rest; the rest is
//! flushed by every later call on the socket (including the wakeups of a task waiting to
//! read) and by `close`.

use std::any::Any;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};

use super::eventloop::{io_wait_until, try_with_loop, with_loop};
use super::timer::Micros;
use crate::open::set_field;

/// The Lua half of the module; its chunk receives the table of primitives.
const LUA_SOURCE: &str = include_str!("tcp.lua");

/// Pending connections the kernel queues for a listener.
const LISTEN_BACKLOG: libc::c_int = 4096;

/// Free room a read asks the kernel to fill (the buffer grows or compacts to offer it).
const RECV_ROOM: usize = 16 * 1024;

/// A buffer emptied by its reader and bigger than this is given back (a keep-alive
/// connection that once received a big body does not keep its memory).
const KEEP_CAPACITY: usize = 256 * 1024;

enum Sock {
    Listener(TcpListener, Token),
    Stream(Box<Stream>),
}

/// A connected socket with its buffers.
pub(crate) struct Stream {
    s: TcpStream,
    token: Token,
    wbuf: Vec<u8>,
    /// Received bytes not yet consumed.
    pub(crate) rbuf: ReadBuf,
    /// The state of a protocol reading this stream (`silly.net.http`'s request reader); it
    /// goes away with the socket.
    pub(crate) proto: Option<Box<dyn Any>>,
}

/// What [`ReadBuf::fill`] got.
pub(crate) enum Fill {
    /// This many new bytes.
    Data(usize),
    /// Nothing now: wait for readiness.
    Again,
    /// The end of the stream ("closed") or the error; buffered bytes stay readable.
    End(String),
}

/// Received bytes: `data[start..end]` are unread, `data[end..]` is zeroed room for the next
/// read (kept initialized, so a read costs only what it receives, however small).
#[derive(Default)]
pub(crate) struct ReadBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
    /// Set once a read saw the end of the stream or an error.
    eof: Option<String>,
    /// Delimiter search state of `readline`: the delimiter and how many unread bytes were
    /// already searched (so bytes arriving one at a time are each looked at once).
    scan_delim: Vec<u8>,
    scanned: usize,
}

impl ReadBuf {
    /// The unread bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Drops the first `n` unread bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.len());
        self.start += n;
        self.scanned = self.scanned.saturating_sub(n);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.data.len() > KEEP_CAPACITY {
                self.data = Vec::new();
            }
        }
    }

    /// Makes room for a read of at least `want` bytes: moves the unread bytes to the front
    /// when that frees enough (amortized: only when they are at most half the buffer),
    /// else grows (doubling).
    fn room(&mut self, want: usize) {
        if self.data.len() - self.end >= want {
            return;
        }
        let unread = self.len();
        if self.start > 0 && unread <= self.data.len() / 2 && self.data.len() - unread >= want {
            self.data.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = unread;
            return;
        }
        let need = self.end + want;
        let cap = need.max(self.data.len() * 2).max(RECV_ROOM);
        self.data.resize(cap, 0);
    }

    /// Appends bytes as if they were read (tests and fuzzing).
    #[doc(hidden)]
    pub(crate) fn feed(&mut self, b: &[u8]) {
        self.room(b.len());
        self.data[self.end..self.end + b.len()].copy_from_slice(b);
        self.end += b.len();
    }

    /// Makes sure `n` more unread bytes fit without growing again (a body of known size).
    pub(crate) fn reserve(&mut self, n: usize) {
        let have = self.len();
        if n > have {
            self.room(n - have);
        }
    }

    /// One read from the socket into the buffer.
    pub(crate) fn fill(&mut self, s: &mut TcpStream) -> Fill {
        if let Some(e) = &self.eof {
            return Fill::End(e.clone());
        }
        self.room(RECV_ROOM);
        loop {
            match s.read(&mut self.data[self.end..]) {
                Ok(0) => {
                    self.eof = Some("closed".into());
                    return Fill::End("closed".into());
                }
                Ok(n) => {
                    self.end += n;
                    return Fill::Data(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Fill::Again,
                Err(e) => {
                    let e = e.to_string();
                    self.eof = Some(e.clone());
                    return Fill::End(e);
                }
            }
        }
    }

    /// The offset of `delim` in the unread bytes, searching only what was not searched
    /// before for the same delimiter.
    fn find(&mut self, delim: &[u8]) -> Option<usize> {
        if self.scan_delim != delim {
            self.scan_delim = delim.to_vec();
            self.scanned = 0;
        }
        let bytes = &self.data[self.start..self.end];
        // A delimiter may straddle what was searched and what is new.
        let from = self.scanned.saturating_sub(delim.len() - 1);
        let found = match delim {
            [b] => bytes[from..].iter().position(|x| x == b),
            _ => bytes[from..].windows(delim.len()).position(|w| w == delim),
        };
        match found {
            Some(i) => Some(from + i),
            None => {
                self.scanned = bytes.len();
                None
            }
        }
    }
}

/// The state's sockets by id (an extension slot of the Vm: closed when the Vm is dropped).
#[derive(Default)]
struct Sockets {
    next: i64,
    map: HashMap<i64, Sock>,
}

impl hotlua_vm::ext::Extension for Sockets {
    hotlua_vm::extension_any!();
}

fn sockets(vm: &mut Vm) -> &mut Sockets {
    if !vm.has_ext::<Sockets>() {
        vm.set_ext(Sockets::default());
    }
    match vm.ext_mut::<Sockets>() {
        Some(s) => s,
        None => unreachable!("the sockets slot was just installed"),
    }
}

fn insert(vm: &mut Vm, sock: Sock) -> i64 {
    let s = sockets(vm);
    s.next += 1;
    let id = s.next;
    s.map.insert(id, sock);
    id
}

fn with_sock<R>(vm: &mut Vm, id: i64, f: impl FnOnce(&mut Sock) -> R) -> Option<R> {
    sockets(vm).map.get_mut(&id).map(f)
}

/// Runs `f` on the stream `id` (None: no such open stream).
pub(crate) fn with_stream<R>(vm: &mut Vm, id: i64, f: impl FnOnce(&mut Stream) -> R) -> Option<R> {
    match sockets(vm).map.get_mut(&id) {
        Some(Sock::Stream(st)) => Some(f(st)),
        _ => None,
    }
}

impl Stream {
    /// Reads once from the socket into the read buffer (buffered output is flushed first).
    pub(crate) fn fill(&mut self) -> Fill {
        let _ = flush_stream(&mut self.s, &mut self.wbuf);
        self.rbuf.fill(&mut self.s)
    }

    /// Queues `data` and writes what the kernel takes.
    pub(crate) fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.wbuf.extend_from_slice(data);
        flush_stream(&mut self.s, &mut self.wbuf)
    }
}

/// Builds the `silly.net.tcp` module: the primitives, wrapped by the Lua half.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let c = vm.new_table();
    let funcs: &[(&str, hotlua_vm::NativeFn)] = &[
        ("listen", listen),
        ("accept", accept),
        ("connect", connect),
        ("connected", connected),
        ("read", read),
        ("readline", readline),
        ("send", send),
        ("flush", flush),
        ("wait", wait),
        ("shutdown", shutdown),
        ("drain", drain),
        ("close", close),
    ];
    for &(name, f) in funcs {
        set_field(vm, c, name, Value::LightFn(f));
    }
    let built = vm
        .load(LUA_SOURCE.as_bytes(), "=[silly.net.tcp]", None)
        .and_then(|f| vm.call(f, &[Value::Table(c)]));
    match built {
        Ok(v) => match v.first() {
            Some(Value::Table(t)) => *t,
            _ => c,
        },
        // Only a bug in tcp.lua gets here; the primitives are still usable.
        Err(_) => c,
    }
}

fn push_err(vm: &mut Vm, msg: &str) -> Result<usize, LuaError> {
    vm.push(Value::Nil)?;
    let s = vm.new_str(msg);
    vm.push(Value::Str(s))?;
    Ok(2)
}

fn push_str(vm: &mut Vm, s: &str) -> Result<(), LuaError> {
    let s = vm.new_str(s);
    vm.push(Value::Str(s))
}

fn resolve(text: &[u8]) -> Result<SocketAddr, String> {
    let text = std::str::from_utf8(text).map_err(|_| "invalid address".to_string())?;
    text.to_socket_addrs()
        .map_err(|e| format!("{text}: {e}"))?
        .next()
        .ok_or_else(|| format!("{text}: no address"))
}

/// `listen(addr)`: id, bound address; or nil, err.
fn listen(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let addr = vm.check_str(args, 0)?;
    let addr = match resolve(addr.get().as_bytes()) {
        Ok(a) => a,
        Err(e) => return push_err(vm, &e),
    };
    let mut l = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => return push_err(vm, &format!("{addr}: {e}")),
    };
    // mio listens with std's backlog of 128: a burst of connects beyond that loses SYNs,
    // which the peers only retry after a second. Linux lets listen() raise it (capped by
    // net.core.somaxconn).
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is the live listening socket `l` owns; listen() on it
        // only changes the backlog.
        unsafe {
            libc::listen(l.as_raw_fd(), LISTEN_BACKLOG);
        }
    }
    let bound = l
        .local_addr()
        .map_or_else(|_| addr.to_string(), |a| a.to_string());
    let token = match with_loop(vm, |_, lp| lp.register_io(&mut l, Interest::READABLE))? {
        Ok(t) => t,
        Err(e) => return push_err(vm, &e.to_string()),
    };
    let id = insert(vm, Sock::Listener(l, token));
    vm.push(Value::Int(id))?;
    push_str(vm, &bound)?;
    Ok(2)
}

/// Registers an accepted or connecting stream.
fn add_stream(vm: &mut Vm, mut s: TcpStream) -> Result<Result<i64, String>, LuaError> {
    let _ = s.set_nodelay(true);
    let r = with_loop(vm, |_, lp| {
        lp.register_io(&mut s, Interest::READABLE | Interest::WRITABLE)
    })?;
    Ok(match r {
        Ok(token) => Ok(insert(
            vm,
            Sock::Stream(Box::new(Stream {
                s,
                token,
                wbuf: Vec::new(),
                rbuf: ReadBuf::default(),
                proto: None,
            })),
        )),
        Err(e) => Err(e.to_string()),
    })
}

/// `accept(id)`: conn id, "ip:port"; or nil, "again"; or nil, err.
fn accept(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let r = with_sock(vm, id, |s| match s {
        Sock::Listener(l, _) => Some(l.accept()),
        _ => None,
    });
    match r {
        None | Some(None) => push_err(vm, "closed"),
        Some(Some(Err(e))) if e.kind() == ErrorKind::WouldBlock => push_err(vm, "again"),
        Some(Some(Err(e))) => push_err(vm, &e.to_string()),
        Some(Some(Ok((s, peer)))) => match add_stream(vm, s)? {
            Ok(cid) => {
                vm.push(Value::Int(cid))?;
                push_str(vm, &peer.to_string())?;
                Ok(2)
            }
            Err(e) => push_err(vm, &e),
        },
    }
}

/// `connect(addr)`: id of a connecting stream (wait, then `connected`); or nil, err.
fn connect(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let addr = vm.check_str(args, 0)?;
    let addr = match resolve(addr.get().as_bytes()) {
        Ok(a) => a,
        Err(e) => return push_err(vm, &e),
    };
    let s = match TcpStream::connect(addr) {
        Ok(s) => s,
        Err(e) => return push_err(vm, &format!("{addr}: {e}")),
    };
    match add_stream(vm, s)? {
        Ok(id) => {
            vm.push(Value::Int(id))?;
            Ok(1)
        }
        Err(e) => push_err(vm, &e),
    }
}

/// `connected(id)`: "ip:port" of the peer once connected; nil, "again" while connecting;
/// nil, err when the connection failed.
fn connected(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let r = with_sock(vm, id, |s| match s {
        Sock::Stream(st) => {
            if let Ok(Some(e)) | Err(e) = st.s.take_error() {
                return Err(e.to_string());
            }
            match st.s.peer_addr() {
                Ok(a) => Ok(Some(a.to_string())),
                Err(e) if e.kind() == ErrorKind::NotConnected => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        }
        _ => Err("not a stream".to_string()),
    });
    match r {
        None => push_err(vm, "closed"),
        Some(Ok(Some(a))) => {
            push_str(vm, &a)?;
            Ok(1)
        }
        Some(Ok(None)) => push_err(vm, "again"),
        Some(Err(e)) => push_err(vm, &e),
    }
}

/// Writes as much of `wbuf` as the kernel takes; the error text on failure.
fn flush_stream(s: &mut TcpStream, wbuf: &mut Vec<u8>) -> Result<(), String> {
    let mut done = 0;
    let r = loop {
        if done == wbuf.len() {
            break Ok(());
        }
        match s.write(&wbuf[done..]) {
            Ok(0) => break Err("closed".to_string()),
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Err(e.to_string()),
        }
    };
    wbuf.drain(..done);
    r
}

/// What a read primitive answers.
enum Got {
    Bytes(Vec<u8>),
    /// nil, msg ("again", "closed", "line too long", an OS error).
    Err(String),
}

fn push_got(vm: &mut Vm, r: Option<Got>) -> Result<usize, LuaError> {
    match r {
        None => push_err(vm, "closed"),
        Some(Got::Bytes(b)) => {
            let s = vm.new_str(&b);
            vm.push(Value::Str(s))?;
            Ok(1)
        }
        Some(Got::Err(e)) => push_err(vm, &e),
    }
}

/// `read(id, n)`: exactly `n` bytes; nil, "again" when they have not all arrived; nil, err
/// at the end of the stream or on an error (the bytes received stay buffered).
fn read(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let n = vm.check_int(args, 1)?;
    if n < 0 {
        return Err(vm.arg_error(1, "negative count"));
    }
    let n = n as usize;
    let r = with_stream(vm, id, |st| loop {
        if st.rbuf.len() >= n {
            let b = st.rbuf.bytes()[..n].to_vec();
            st.rbuf.consume(n);
            break Got::Bytes(b);
        }
        // Room for what is asked, within reason (the rest grows as it arrives): a length a
        // peer announces must not make the reader allocate it before it is sent.
        st.rbuf.reserve(n.min(256 * 1024));
        match st.fill() {
            Fill::Data(_) => {}
            Fill::Again => break Got::Err("again".into()),
            Fill::End(e) => break Got::Err(e),
        }
    });
    push_got(vm, r)
}

/// `readline(id, delim [, max])`: the bytes before `delim` (which is consumed); nil,
/// "again" when it has not arrived; nil, "line too long" when more than `max` bytes come
/// before it (exactly: a line of `max` bytes is accepted, one of `max + 1` is not, however
/// the bytes arrive); nil, err at the end of the stream or on an error. Each received byte
/// is searched once.
fn readline(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let delim = vm.check_str(args, 1)?.get().as_bytes().to_vec();
    if delim.is_empty() {
        return Err(vm.arg_error(1, "empty delimiter"));
    }
    let max = match vm.arg(args, 2) {
        Value::Nil => None,
        _ => Some(vm.check_int(args, 2)?.max(0) as usize),
    };
    let r = with_stream(vm, id, |st| loop {
        if let Some(i) = st.rbuf.find(&delim) {
            if max.is_some_and(|m| i > m) {
                break Got::Err("line too long".into());
            }
            let b = st.rbuf.bytes()[..i].to_vec();
            st.rbuf.consume(i + delim.len());
            break Got::Bytes(b);
        }
        // The delimiter can start no earlier than here: past `max`, the line is too long.
        let earliest = st.rbuf.len().saturating_sub(delim.len() - 1);
        if max.is_some_and(|m| earliest > m) {
            break Got::Err("line too long".into());
        }
        match st.fill() {
            Fill::Data(_) => {}
            Fill::Again => break Got::Err("again".into()),
            Fill::End(e) => break Got::Err(e),
        }
    });
    push_got(vm, r)
}

/// `send(id, data)`: the bytes still buffered after writing what the kernel takes; or
/// nil, err.
fn send(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let data = vm.check_str(args, 1)?;
    let r = with_stream(vm, id, |st| {
        st.send(data.get().as_bytes()).map(|()| st.wbuf.len())
    })
    .or(Some(Err("closed".to_string())));
    push_len(vm, r)
}

fn push_len(vm: &mut Vm, r: Option<Result<usize, String>>) -> Result<usize, LuaError> {
    match r {
        None => push_err(vm, "closed"),
        Some(Ok(n)) => {
            vm.push(Value::Int(n as i64))?;
            Ok(1)
        }
        Some(Err(e)) => push_err(vm, &e),
    }
}

/// `flush(id)`: the bytes still buffered; or nil, err.
fn flush(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let r = with_sock(vm, id, |s| match s {
        Sock::Stream(st) => flush_stream(&mut st.s, &mut st.wbuf).map(|()| st.wbuf.len()),
        _ => Ok(0),
    });
    push_len(vm, r)
}

/// `wait(id [, deadline])`: suspends the task until the socket is ready, or until
/// `deadline` (milliseconds on `silly.time.monotonic`'s clock) has passed; returns the
/// readiness bits (4: closed; 0: the deadline passed). A closed id returns 4 at once.
pub(crate) fn wait(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let deadline: Option<Micros> = match vm.arg(args, 1) {
        Value::Nil => None,
        _ => Some(vm.check_int(args, 1)?.max(0) as Micros * 1000),
    };
    let token = with_sock(vm, id, |s| match s {
        Sock::Listener(_, t) => *t,
        Sock::Stream(st) => st.token,
    });
    match token {
        Some(t) => io_wait_until(vm, t, deadline),
        None => {
            vm.push(Value::Int(super::eventloop::IO_CLOSED))?;
            Ok(1)
        }
    }
}

/// `shutdown(id)`: ends the sending side (the peer reads the end of the stream once the
/// buffered output is through; the Lua side flushes first); true, or nil, err.
pub(crate) fn shutdown(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let r = with_stream(vm, id, |st| {
        let _ = flush_stream(&mut st.s, &mut st.wbuf);
        st.s.shutdown(std::net::Shutdown::Write)
            .map_err(|e| e.to_string())
    });
    match r {
        None => push_err(vm, "closed"),
        Some(Ok(())) => {
            vm.push(Value::Bool(true))?;
            Ok(1)
        }
        Some(Err(e)) => push_err(vm, &e),
    }
}

/// `drain(id)`: discards what was received and what can be read now; the number of bytes
/// discarded (wait and call again for more), or nil, err once the peer is done ("closed")
/// or failed.
pub(crate) fn drain(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let r = with_stream(vm, id, |st| {
        let mut n = st.rbuf.len();
        st.rbuf.consume(n);
        // At most a few reads per call, so a fast sender cannot keep the task here.
        for _ in 0..4 {
            match st.fill() {
                Fill::Data(k) => {
                    n += k;
                    st.rbuf.consume(k);
                }
                Fill::Again => return Ok(n),
                Fill::End(e) => return Err(e),
            }
        }
        Ok(n)
    });
    push_len(vm, r)
}

/// `close(id)`: deregisters and closes the socket (a task waiting on it wakes up);
/// buffered output not yet written is dropped (the Lua side flushes first).
pub(crate) fn close(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let sock = sockets(vm).map.remove(&id);
    let done = sock.is_some();
    if let Some(sock) = sock {
        try_with_loop(vm, |vm, lp| {
            match sock {
                Sock::Listener(mut l, t) => {
                    let _ = lp.deregister_io(vm, &mut l, t);
                }
                Sock::Stream(mut st) => {
                    let _ = lp.deregister_io(vm, &mut st.s, st.token);
                    let _ = st.s.shutdown(std::net::Shutdown::Both);
                }
            }
            Ok(())
        })?;
    }
    vm.push(Value::Bool(done))?;
    Ok(1)
}

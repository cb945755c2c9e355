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

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};

use super::eventloop::{io_wait, try_with_loop, with_loop};
use crate::open::set_field;

/// The Lua half of the module; its chunk receives the table of primitives.
const LUA_SOURCE: &str = include_str!("tcp.lua");

/// Pending connections the kernel queues for a listener.
const LISTEN_BACKLOG: libc::c_int = 4096;

/// Largest chunk one `recv` returns.
const RECV_CHUNK: usize = 64 * 1024;

enum Sock {
    Listener(TcpListener, Token),
    Stream {
        s: TcpStream,
        token: Token,
        wbuf: Vec<u8>,
    },
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

/// Builds the `silly.net.tcp` module: the primitives, wrapped by the Lua half.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let c = vm.new_table();
    let funcs: &[(&str, hotlua_vm::NativeFn)] = &[
        ("listen", listen),
        ("accept", accept),
        ("connect", connect),
        ("connected", connected),
        ("recv", recv),
        ("send", send),
        ("flush", flush),
        ("wait", wait),
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
            Sock::Stream {
                s,
                token,
                wbuf: Vec::new(),
            },
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
        Sock::Stream { s, .. } => {
            if let Ok(Some(e)) | Err(e) = s.take_error() {
                return Err(e.to_string());
            }
            match s.peer_addr() {
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

/// `recv(id)`: a string of the bytes available; or nil, "again"; nil, "closed" at the end
/// of the stream; nil, err.
fn recv(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let mut buf = vec![0u8; RECV_CHUNK];
    let r = with_sock(vm, id, |s| match s {
        Sock::Stream { s, wbuf, .. } => {
            let _ = flush_stream(s, wbuf);
            loop {
                match s.read(&mut buf) {
                    Ok(0) => break Err("closed".to_string()),
                    Ok(n) => break Ok(n),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break Err("again".into()),
                    Err(e) => break Err(e.to_string()),
                }
            }
        }
        _ => Err("not a stream".to_string()),
    });
    match r {
        None => push_err(vm, "closed"),
        Some(Ok(n)) => {
            let s = vm.new_str(&buf[..n]);
            vm.push(Value::Str(s))?;
            Ok(1)
        }
        Some(Err(e)) => push_err(vm, &e),
    }
}

/// `send(id, data)`: the bytes still buffered after writing what the kernel takes; or
/// nil, err.
fn send(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let data = vm.check_str(args, 1)?;
    let r = with_sock(vm, id, |s| match s {
        Sock::Stream { s, wbuf, .. } => {
            wbuf.extend_from_slice(data.get().as_bytes());
            flush_stream(s, wbuf).map(|()| wbuf.len())
        }
        _ => Err("not a stream".to_string()),
    });
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
        Sock::Stream { s, wbuf, .. } => flush_stream(s, wbuf).map(|()| wbuf.len()),
        _ => Ok(0),
    });
    push_len(vm, r)
}

/// `wait(id)`: suspends the task until the socket is ready; returns the readiness bits
/// (4: closed). A closed id returns 4 at once.
fn wait(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let token = with_sock(vm, id, |s| match s {
        Sock::Listener(_, t) => *t,
        Sock::Stream { token, .. } => *token,
    });
    match token {
        Some(t) => io_wait(vm, t),
        None => {
            vm.push(Value::Int(super::eventloop::IO_CLOSED))?;
            Ok(1)
        }
    }
}

/// `close(id)`: deregisters and closes the socket (a task waiting on it wakes up);
/// buffered output not yet written is dropped (the Lua side flushes first).
fn close(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let id = vm.check_int(args, 0)?;
    let sock = sockets(vm).map.remove(&id);
    let done = sock.is_some();
    if let Some(sock) = sock {
        try_with_loop(vm, |vm, lp| {
            match sock {
                Sock::Listener(mut l, t) => {
                    let _ = lp.deregister_io(vm, &mut l, t);
                }
                Sock::Stream { mut s, token, .. } => {
                    let _ = lp.deregister_io(vm, &mut s, token);
                    let _ = s.shutdown(std::net::Shutdown::Both);
                }
            }
            Ok(())
        })?;
    }
    vm.push(Value::Bool(done))?;
    Ok(1)
}

//! silly.net.http end to end: a server script (tests/lua/http/server.lua or the route
//! example) runs in a child process (this test binary re-executed in runner mode, as in
//! net.rs) on free loopback ports, and
//! this test talks HTTP to it with std sockets. Every child is killed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

const CHILD_ENV: &str = "HOTLUA_HTTP_CHILD";

/// Runner mode (as in net.rs): when [`CHILD_ENV`] is set, this "test" is the whole
/// process, a hotlua runner over the stdlib of this very build.
#[test]
fn child_process_entry() {
    let Ok(joined) = std::env::var(CHILD_ENV) else {
        return;
    };
    let argv: Vec<String> = joined.split('\x1f').map(str::to_string).collect();
    let status = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let mut vm = hotlua_stdlib::open::new_vm();
            let st = hotlua_stdlib::silly::runtime::run_command_line(&mut vm, &argv);
            vm.close();
            hotlua_stdlib::io::flush_all(&mut vm);
            st
        })
        .ok()
        .and_then(|h| h.join().ok())
        .unwrap_or(101);
    std::process::exit(status);
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A server child, killed when dropped; its output goes to a temporary file.
struct Server(Child, PathBuf);

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.1).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

fn start(script: &Path, args: &[String], port: u16) -> Server {
    let log = std::env::temp_dir().join(format!("hotlua_http_{}_{port}.log", std::process::id()));
    let out = std::fs::File::create(&log).expect("log file");
    let mut argv = vec![script.display().to_string()];
    argv.extend(args.iter().cloned());
    let child = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "child_process_entry",
            "--exact",
            "--quiet",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, argv.join("\x1f"))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hotlua");
    let s = Server(child, log);
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    s
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// One response: (status, lower-cased header lines, body).
fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(u16, String, String)> {
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < i + 4 + len {
                let mut b = [0u8; 4096];
                let n = s.read(&mut b).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&b[..n]);
            }
            let body = String::from_utf8_lossy(&buf[i + 4..i + 4 + len]).to_string();
            let status = head.get(9..12)?.parse().ok()?;
            buf.drain(..i + 4 + len);
            return Some((status, head.to_ascii_lowercase(), body));
        }
        let mut b = [0u8; 4096];
        let n = s.read(&mut b).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
}

fn request(port: u16, raw: &str) -> (u16, String, String) {
    let mut s = connect(port);
    s.write_all(raw.as_bytes()).expect("write");
    read_response(&mut s, &mut Vec::new()).expect("a response")
}

fn test_server() -> (Server, u16) {
    let port = free_port();
    let script = root().join("tests/lua/http/server.lua");
    (start(&script, &[format!("--port={port}")], port), port)
}

#[test]
fn request_fields_and_response() {
    let (_srv, port) = test_server();
    let (st, head, body) = request(
        port,
        "GET /a%20b?name=J%C3%B6rg+X&x=1%2B2&flag HTTP/1.1\r\nX-Test: Yes\r\n\r\n",
    );
    assert_eq!(st, 200);
    assert!(head.contains("content-length: "), "{head}");
    assert_eq!(body, "GET|/a b|flag=&name=Jörg X&x=1+2|Yes|");
    let (st, head, body) = request(port, "GET /header HTTP/1.1\r\n\r\n");
    assert_eq!((st, body.as_str()), (201, "h"));
    assert!(head.contains("x-reply: yes"), "{head}");
    // a handler that never sends: an empty 200
    let (st, _, body) = request(port, "GET /nosend HTTP/1.1\r\n\r\n");
    assert_eq!((st, body.as_str()), (200, ""));
}

#[test]
fn bodies_and_keep_alive() {
    let (_srv, port) = test_server();
    let mut s = connect(port);
    let mut buf = Vec::new();
    s.write_all(b"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        .expect("w");
    let (st, _, body) = read_response(&mut s, &mut buf).expect("r1");
    assert_eq!((st, body.as_str()), (200, "POST|/p||nil|hello"));
    // second request on the same connection, chunked, split across writes
    s.write_all(b"PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n")
        .expect("w");
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(b"A\r\npedia in 3\r\n0\r\n\r\n").expect("w");
    let (st, _, body) = read_response(&mut s, &mut buf).expect("r2");
    assert_eq!((st, body.as_str()), (200, "PUT|/c||nil|Wikipedia in 3"));
    // Connection: close is honoured: the server answers and closes
    s.write_all(b"GET /z HTTP/1.1\r\nConnection: close\r\n\r\n")
        .expect("w");
    let (st, head, _) = read_response(&mut s, &mut buf).expect("r3");
    assert_eq!(st, 200);
    assert!(head.contains("connection: close"));
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).expect("eof"), 0);
}

#[test]
fn errors_keep_the_server_serving() {
    let (srv, port) = test_server();
    let (st, _, body) = request(port, "GET /error HTTP/1.1\r\n\r\n");
    assert_eq!((st, body.as_str()), (500, "Internal Server Error"));
    // the handler error is logged at ERROR level with its traceback
    let t = Instant::now();
    while !srv.log().contains("stack traceback:") {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "no traceback in {}",
            srv.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let log = srv.log();
    assert!(
        log.contains(" E ") && log.contains("server.lua:16: boom"),
        "{log}"
    );
    let (st, head, _) = request(port, "GARBAGE\x01\x02 nonsense\r\n\r\n");
    assert_eq!(st, 400);
    assert!(head.contains("connection: close"));
    let (st, _, _) = request(port, "POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n");
    assert_eq!(st, 400);
    // a head over 64 KiB
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(70 * 1024));
    let (st, _, _) = request(port, &long);
    assert_eq!(st, 400);
    let (st, _, body) = request(port, "GET /ok?name=v HTTP/1.1\r\n\r\n");
    assert_eq!((st, body.as_str()), (200, "GET|/ok|name=v|nil|"));
}

fn route_copy(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hotlua_route_{}_{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    for f in [
        "main.lua",
        "route.lua",
        "route_v1.lua",
        "route_v2.lua",
        "hotfix_route.lua",
    ] {
        std::fs::copy(root().join("examples/route_server").join(f), dir.join(f)).expect("copy");
    }
    dir
}

fn start_route(dir: &Path) -> (Server, u16, u16) {
    let (port, cport) = (free_port(), free_port());
    let srv = start(
        &dir.join("main.lua"),
        &[
            format!("--port={port}"),
            format!("--console=127.0.0.1:{cport}"),
        ],
        port,
    );
    (srv, port, cport)
}

/// Sends `inject <path>` to a console; returns its reply.
fn inject(cport: u16, path: &Path) -> String {
    let mut c = connect(cport);
    let cmd = format!("inject {}\nquit\n", path.display());
    c.write_all(cmd.as_bytes()).expect("console");
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    out
}

/// Issue 7, item 6(a): requests keep flowing (300 over about 1.5 s on one keep-alive
/// connection) while another thread injects the hotfix through the console.
#[test]
fn hotfix_under_load() {
    let dir = route_copy("load");
    let (_srv, port, cport) = start_route(&dir);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let injector = {
        let (done, sent, dir) = (done.clone(), sent.clone(), dir.clone());
        std::thread::spawn(move || {
            let t = Instant::now();
            while sent.load(std::sync::atomic::Ordering::SeqCst) < 100 {
                assert!(t.elapsed() < Duration::from_secs(20));
                std::thread::sleep(Duration::from_millis(1));
            }
            std::fs::copy(dir.join("route_v2.lua"), dir.join("route.lua")).expect("v2");
            let out = inject(cport, &dir.join("hotfix_route.lua"));
            done.store(
                sent.load(std::sync::atomic::Ordering::SeqCst),
                std::sync::atomic::Ordering::SeqCst,
            );
            out
        })
    };
    let mut s = connect(port);
    let mut buf = Vec::new();
    let mut max_pause = Duration::ZERO;
    let mut v2_from = None;
    let start_t = Instant::now();
    for i in 0..300usize {
        std::thread::sleep(Duration::from_millis(5));
        assert!(start_t.elapsed() < Duration::from_secs(30));
        let t = Instant::now();
        let path = if i % 2 == 0 { "/" } else { "/?name=Ann" };
        s.write_all(format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes())
            .expect("w");
        let (st, _, body) = read_response(&mut s, &mut buf).expect("no request may fail");
        max_pause = max_pause.max(t.elapsed());
        sent.store(i + 1, std::sync::atomic::Ordering::SeqCst);
        let v1 = format!("Hello, visitor #{}", i + 1);
        if v2_from.is_none() && st == 200 && body == v1 {
            continue; // still v1, and the count has no gap
        }
        v2_from.get_or_insert(i);
        if i % 2 == 0 {
            assert_eq!(
                (st, body.as_str()),
                (400, "Error: name is required"),
                "request {i}"
            );
        } else {
            assert_eq!(st, 200);
            assert_eq!(
                body,
                format!("Hello, Ann (visitor #{})", i + 1),
                "request {i}"
            );
        }
    }
    let out = injector.join().expect("injector");
    assert!(
        out.contains("Inject file:") && out.contains("Success"),
        "{out}"
    );
    let done = done.load(std::sync::atomic::Ordering::SeqCst);
    let v2 = v2_from.expect("v2 answered after the inject");
    // `done` requests had answers when the console acknowledged; request `done` may have
    // been in flight, every later one was sent after the inject finished.
    assert!(
        v2 <= done + 1,
        "v2 from request {v2}, inject done after {done}"
    );
    eprintln!(
        "hotfix_under_load: v2 from request {v2}, inject acknowledged after {done}, longest request {max_pause:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 7, item 6(b): the guide's batch hotfix, one script over three servers; each
/// server's success is reported, and a server that is down is reported as failed.
#[test]
fn batch_hotfix_three_servers() {
    let dirs: Vec<PathBuf> = (0..3).map(|i| route_copy(&format!("batch{i}"))).collect();
    let servers: Vec<(Server, u16, u16)> = dirs.iter().map(|d| start_route(d)).collect();
    for (_, port, _) in &servers {
        let (st, _, body) = request(*port, "GET / HTTP/1.1\r\n\r\n");
        assert_eq!((st, body.as_str()), (200, "Hello, visitor #1"));
    }
    let mut report = Vec::new();
    let dead = free_port();
    let mut targets: Vec<(u16, PathBuf)> = servers
        .iter()
        .zip(&dirs)
        .map(|((_, _, c), d)| (*c, d.clone()))
        .collect();
    targets.push((dead, dirs[0].clone()));
    for (cport, dir) in &targets {
        std::fs::copy(dir.join("route_v2.lua"), dir.join("route.lua")).expect("v2");
        let ok = match TcpStream::connect(("127.0.0.1", *cport)) {
            Err(_) => false,
            Ok(_) => inject(*cport, &dir.join("hotfix_route.lua")).contains("Success"),
        };
        report.push((*cport, ok));
    }
    assert_eq!(report.iter().filter(|r| r.1).count(), 3, "{report:?}");
    assert!(!report[3].1);
    for (_, port, _) in &servers {
        let (st, _, body) = request(*port, "GET / HTTP/1.1\r\n\r\n");
        assert_eq!((st, body.as_str()), (400, "Error: name is required"));
        let (_, _, body) = request(*port, "GET /?name=Bo HTTP/1.1\r\n\r\n");
        assert_eq!(body, "Hello, Bo (visitor #3)");
    }
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

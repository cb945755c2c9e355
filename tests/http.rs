//! silly.net.http end to end: a server script (tests/lua/http/server.lua or the route
//! example) runs with the `hotlua` program in a child process on free loopback ports, and
//! this test talks HTTP to it with std sockets. Every child is killed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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
    let child = Command::new(env!("CARGO_BIN_EXE_hotlua"))
        .args(&argv)
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
        "GET /a%20b?name=J%C3%B6rg+X&x=1%2B2&flag HTTP/1.1\r\nHost: t\r\nX-Test: Yes\r\n\r\n",
    );
    assert_eq!(st, 200);
    assert!(head.contains("content-length: "), "{head}");
    assert_eq!(body, "GET|/a b|flag=&name=Jörg X&x=1+2|Yes|");
    let (st, head, body) = request(port, "GET /header HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((st, body.as_str()), (201, "h"));
    assert!(head.contains("x-reply: yes"), "{head}");
    // a handler that never sends: an empty 200
    let (st, _, body) = request(port, "GET /nosend HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((st, body.as_str()), (200, ""));
}

#[test]
fn bodies_and_keep_alive() {
    let (_srv, port) = test_server();
    let mut s = connect(port);
    let mut buf = Vec::new();
    s.write_all(b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        .expect("w");
    let (st, _, body) = read_response(&mut s, &mut buf).expect("r1");
    assert_eq!((st, body.as_str()), (200, "POST|/p||nil|hello"));
    // second request on the same connection, chunked, split across writes
    s.write_all(b"PUT /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n")
        .expect("w");
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(b"A\r\npedia in 3\r\n0\r\n\r\n").expect("w");
    let (st, _, body) = read_response(&mut s, &mut buf).expect("r2");
    assert_eq!((st, body.as_str()), (200, "PUT|/c||nil|Wikipedia in 3"));
    // Connection: close is honoured: the server answers and closes
    s.write_all(b"GET /z HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
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
    let (st, _, body) = request(port, "GET /error HTTP/1.1\r\nHost: t\r\n\r\n");
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
    let (st, _, _) = request(
        port,
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -3\r\n\r\n",
    );
    assert_eq!(st, 400);
    // a request line over the 64 KiB head limit, then a head over it
    let long = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(70 * 1024));
    let (st, _, _) = request(port, &long);
    assert_eq!(st, 414);
    let long = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let (st, _, _) = request(port, &long);
    assert_eq!(st, 431);
    let (st, _, body) = request(port, "GET /ok?name=v HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((st, body.as_str()), (200, "GET|/ok|name=v|nil|"));
}

fn route_copy(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hotlua_route_{}_{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    for f in ["main.lua", "route.lua"] {
        std::fs::copy(root().join("examples/route_server").join(f), dir.join(f)).expect("copy");
    }
    // The guide's files, kept once in the project.
    for f in ["route_v1.lua", "route_v2.lua", "hotfix_route.lua"] {
        std::fs::copy(root().join("tests/guide/examples").join(f), dir.join(f)).expect("copy");
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
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
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
        let (st, _, body) = request(*port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
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
        let (st, _, body) = request(*port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!((st, body.as_str()), (400, "Error: name is required"));
        let (_, _, body) = request(*port, "GET /?name=Bo HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(body, "Hello, Bo (visitor #3)");
    }
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

// ---------------------------------------------------------------------------------------
// Issue 16: framing, closing, limits and timeouts (server: tests/lua/http/strict.lua).

fn strict_server(opts: &str) -> (Server, u16) {
    let port = free_port();
    let script = root().join("tests/lua/http/strict.lua");
    (
        start(
            &script,
            &[format!("--port={port}"), format!("--opts={opts}")],
            port,
        ),
        port,
    )
}

/// Sends `raw` on a fresh connection and reads until the server closes (or `limit`
/// passes): everything received, and whether the server closed.
fn exchange(port: u16, raw: &[u8], limit: Duration) -> (String, bool) {
    let mut s = connect(port);
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let _ = s.write_all(raw);
    let mut got = Vec::new();
    let t = Instant::now();
    let closed = loop {
        let mut b = [0u8; 8192];
        match s.read(&mut b) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&b[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => {
                if t.elapsed() > limit {
                    break false;
                }
            }
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), closed)
}

/// The status codes of the responses in `text`, in order.
fn statuses(text: &str) -> Vec<u16> {
    text.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| text.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

#[test]
fn framing_follows_rfc_9112() {
    let (_srv, port) = strict_server("");
    let post = |extra: &str, body: &str| {
        format!("POST /p HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{extra}\r\n{body}")
    };
    let chunked = |body: &str| post("Transfer-Encoding: chunked\r\n", body);
    let cases: Vec<(&str, String, Vec<u16>)> =
        vec![
        ("CL hex", post("Content-Length: 0x5\r\n", "hello"), vec![400]),
        ("CL plus", post("Content-Length: +5\r\n", "hello"), vec![400]),
        ("CL exp", post("Content-Length: 1e1\r\n", "helloworld"), vec![400]),
        ("CL float", post("Content-Length: 5.0\r\n", "hello"), vec![400]),
        ("CL negative", post("Content-Length: -3\r\n", ""), vec![400]),
        ("CL list", post("Content-Length: 5, 5\r\n", "hello"), vec![400]),
        ("CL empty", post("Content-Length: \r\n", "hello"), vec![400]),
        (
            "CL conflicting",
            post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
            vec![400],
        ),
        (
            "CL repeated",
            post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"),
            vec![200],
        ),
        (
            "CL huge",
            post("Content-Length: 99999999999999999999999\r\n", ""),
            vec![413],
        ),
        (
            "CL with TE",
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n\
             5\r\nhello\r\n0\r\n\r\nGET /?smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
                .to_string(),
            vec![400],
        ),
        ("TE gzip", post("Transfer-Encoding: gzip\r\n", ""), vec![501]),
        ("TE gzip chunked", post("Transfer-Encoding: gzip, chunked\r\n", ""), vec![501]),
        ("TE other", post("Transfer-Encoding: notchunked\r\n", ""), vec![501]),
        (
            "TE twice",
            post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"),
            vec![400],
        ),
        (
            "TE in 1.0",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_string(),
            vec![400],
        ),
        ("chunk zz", chunked("zz\r\n"), vec![400]),
        ("chunk 2^64-1", chunked("ffffffffffffffff\r\nx\r\n"), vec![413]),
        ("chunk 17 digits", chunked("10000000000000000\r\n"), vec![400]),
        ("chunk empty size", chunked("\r\nhello\r\n0\r\n\r\n"), vec![400]),
        ("chunk negative", chunked("-1\r\n"), vec![400]),
        ("chunk ext only", chunked(";x=y\r\n"), vec![400]),
        ("chunk 0x", chunked("0x5\r\nhello\r\n0\r\n\r\n"), vec![400]),
        ("chunk bare LF", chunked("5\nhello\r\n0\r\n\r\n"), vec![400]),
        ("chunk data end", chunked("5\r\nhelloXX0\r\n\r\n"), vec![400]),
        (
            "chunk ext and trailers",
            chunked("5;name=v\r\nhello\r\n1\r\n!\r\n0\r\nX-Trailer: 1\r\n\r\n"),
            vec![200],
        ),
        (
            "no Host",
            "GET / HTTP/1.1\r\nConnection: close\r\n\r\n".into(),
            vec![400],
        ),
        (
            "two Hosts",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n".into(),
            vec![400],
        ),
        ("1.0 without Host", "GET / HTTP/1.0\r\n\r\n".into(), vec![200]),
        (
            "NUL in value",
            "GET / HTTP/1.1\r\nHost: t\r\nX-Test: a\0b\r\n\r\n".into(),
            vec![400],
        ),
        (
            "CR in value",
            "GET / HTTP/1.1\r\nHost: t\r\nX-Test: a\rb\r\n\r\n".into(),
            vec![400],
        ),
        (
            "space before colon",
            "GET / HTTP/1.1\r\nHost : t\r\n\r\n".into(),
            vec![400],
        ),
        ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: t\r\n\r\n".into(), vec![505]),
        ("garbage", "GARBAGE\x01\x02 nonsense\r\n\r\n".into(), vec![400]),
    ];
    for (name, raw, want) in cases {
        let (got, closed) = exchange(port, raw.as_bytes(), Duration::from_secs(5));
        assert_eq!(statuses(&got), want, "{name}: {got:?}");
        assert!(closed, "{name}: the connection stayed open: {got:?}");
        if want[0] >= 400 {
            assert!(
                got.contains("\r\nconnection: close\r\n")
                    || got.contains("\r\nConnection: close\r\n"),
                "{name}: {got:?}"
            );
        }
    }
    // the bodies that were accepted
    let (got, _) = exchange(
        port,
        post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello").as_bytes(),
        Duration::from_secs(5),
    );
    assert!(got.ends_with("POST|/p|hello|nil"), "{got:?}");
    let (got, _) = exchange(
        port,
        chunked("5;name=v\r\nhello\r\n1\r\n!\r\n0\r\nX-Trailer: 1\r\n\r\n").as_bytes(),
        Duration::from_secs(5),
    );
    assert!(got.ends_with("POST|/p|hello!|nil"), "{got:?}");
    // the server still serves
    let (st, _, body) = request(port, "GET /ok HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((st, body.as_str()), (200, "GET|/ok||nil"));
}

#[test]
fn keep_alive_versions_head_and_continue() {
    let (_srv, port) = strict_server("");
    // HTTP/1.0 asking for keep-alive is answered as such and kept open
    let mut s = connect(port);
    let mut buf = Vec::new();
    s.write_all(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .expect("w");
    let (st, head, _) = read_response(&mut s, &mut buf).expect("r1");
    assert_eq!(st, 200);
    assert!(head.contains("connection: keep-alive"), "{head}");
    assert!(head.contains("x-version: 1.0"), "{head}");
    s.write_all(b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .expect("w");
    let (_, _, body) = read_response(&mut s, &mut buf).expect("r2");
    assert_eq!(body, "GET|/b||nil");
    // HTTP/1.0 without it: closed after the response
    s.write_all(b"GET /c HTTP/1.0\r\n\r\n").expect("w");
    let (_, head, body) = read_response(&mut s, &mut buf).expect("r3");
    assert_eq!(body, "GET|/c||nil");
    assert!(!head.contains("keep-alive"), "{head}");
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).expect("eof"), 0);

    // HEAD: the headers of GET, no content; 204: neither content nor Content-Length. The
    // connection's framing stays right: the next response is read correctly.
    let mut s = connect(port);
    s.write_all(b"HEAD /h HTTP/1.1\r\nHost: t\r\n\r\nGET /nocontent HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("w");
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let all = String::from_utf8_lossy(&all).into_owned();
    assert_eq!(statuses(&all), vec![200, 204, 200], "{all:?}");
    let parts: Vec<&str> = all.split("HTTP/1.1 ").collect();
    assert!(
        parts[1].contains("Content-Length: 12\r\n") && parts[1].ends_with("\r\n\r\n"),
        "{all:?}"
    );
    assert!(
        !parts[2].contains("Content-Length") && parts[2].ends_with("\r\n\r\n"),
        "{all:?}"
    );
    assert!(parts[3].ends_with("GET|/after||nil"), "{all:?}");

    // Expect: 100-continue gets the interim response before the body is sent
    let mut s = connect(port);
    s.write_all(
        b"POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    )
    .expect("w");
    let mut interim = [0u8; 25];
    s.read_exact(&mut interim).expect("100 Continue");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"body").expect("w");
    let (st, _, body) = read_response(&mut s, &mut Vec::new()).expect("final");
    assert_eq!((st, body.as_str()), (200, "POST|/e|body|nil"));

    // empty lines before a request line are ignored; pipelined requests answered in order
    let (got, _) = exchange(
        port,
        b"\r\n\r\nGET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(statuses(&got), vec![200, 200], "{got:?}");
    assert!(
        got.contains("GET|/1||nil") && got.ends_with("GET|/2||nil"),
        "{got:?}"
    );
}

#[test]
fn handler_errors_and_header_injection() {
    let (srv, port) = strict_server("");
    let mut s = connect(port);
    let mut buf = Vec::new();
    for path in ["/errobj", "/inject", "/injectnul", "/badname", "/error"] {
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .expect("w");
        let (st, head, body) = read_response(&mut s, &mut buf).expect(path);
        assert_eq!(
            (st, body.as_str()),
            (500, "Internal Server Error"),
            "{path}"
        );
        assert!(!head.contains("injected"), "{head}");
    }
    // the same connection is still served
    s.write_all(b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("w");
    let (st, _, _) = read_response(&mut s, &mut buf).expect("ok");
    assert_eq!(st, 200);
    let t = Instant::now();
    while !srv.log().contains("boom") {
        assert!(t.elapsed() < Duration::from_secs(5), "{}", srv.log());
        std::thread::sleep(Duration::from_millis(10));
    }
    let log = srv.log();
    assert!(log.contains("(error object is a table value)"), "{log}");
    assert!(
        log.contains("bad argument #2 to 'header' (header value contains a control character"),
        "{log}"
    );
    assert!(
        log.contains("bad argument #1 to 'header' (invalid header name)"),
        "{log}"
    );
}

#[test]
fn size_limits_and_timeouts() {
    let (_srv, port) = strict_server(
        "max_header_size=1024,max_body_size=1000,header_timeout=400,body_timeout=400,keepalive_timeout=400",
    );
    let limit = Duration::from_secs(5);
    let target = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(2000));
    assert_eq!(
        statuses(&exchange(port, target.as_bytes(), limit).0),
        vec![414]
    );
    let big = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX: {}\r\n\r\n",
        "a".repeat(2000)
    );
    assert_eq!(
        statuses(&exchange(port, big.as_bytes(), limit).0),
        vec![431]
    );
    let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nHost: t\r\n{many}\r\n");
    assert_eq!(
        statuses(&exchange(port, many.as_bytes(), limit).0),
        vec![431]
    );
    // a head of exactly the limit passes
    let head = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX: \r\n\r\n";
    let exact = head.replace("X: ", &format!("X: {}", "a".repeat(1024 - head.len())));
    assert_eq!(exact.len(), 1024);
    assert_eq!(
        statuses(&exchange(port, exact.as_bytes(), limit).0),
        vec![200]
    );
    // bodies: refused from the announced size, before it is sent; chunked as it grows
    let (got, closed) = exchange(
        port,
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n",
        limit,
    );
    assert_eq!((statuses(&got), closed), (vec![413], true));
    let body = "a".repeat(1000);
    let ok = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n{body}"
    );
    assert_eq!(statuses(&exchange(port, ok.as_bytes(), limit).0), vec![200]);
    let ch = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n{body}\r\n1\r\nx\r\n"
    );
    assert_eq!(statuses(&exchange(port, ch.as_bytes(), limit).0), vec![413]);

    // timeouts: a silent connection is closed without an answer; a head or a body that
    // does not complete in time gets 408; an idle keep-alive connection is closed
    let (got, closed) = exchange(port, b"", limit);
    assert_eq!((got.as_str(), closed), ("", true));
    let mut s = connect(port);
    s.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let t = Instant::now();
    let mut got = Vec::new();
    let mut sent = 0;
    for b in b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: "
        .iter()
        .chain([b'a'; 200].iter())
    {
        if s.write_all(&[*b]).is_err() {
            break;
        }
        sent += 1;
        let mut r = [0u8; 512];
        if let Ok(n) = s.read(&mut r) {
            got.extend_from_slice(&r[..n]);
            break;
        }
        assert!(t.elapsed() < limit, "the trickled head was never cut");
    }
    let got = String::from_utf8_lossy(&got).into_owned();
    assert!(
        got.starts_with("HTTP/1.1 408 "),
        "after {sent} bytes: {got:?}"
    );
    let (got, closed) = exchange(
        port,
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc",
        limit,
    );
    assert_eq!((statuses(&got), closed), (vec![408], true));
    let (got, closed) = exchange(port, b"GET /k HTTP/1.1\r\nHost: t\r\n\r\n", limit);
    assert_eq!((statuses(&got), closed), (vec![200], true), "{got:?}");
}

#[test]
fn connections_beyond_the_limit_are_refused() {
    let (_srv, port) = strict_server("max_connections=3");
    // three connections, each inside a request head
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = connect(port);
            s.write_all(b"GET /held HTTP/1.1\r\nHost: t\r\n")
                .expect("w");
            s
        })
        .collect();
    // make sure all three are being served before the fourth comes
    std::thread::sleep(Duration::from_millis(200));
    let (got, closed) = exchange(
        port,
        b"GET / HTTP/1.1\r\nHost: t\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(closed, "{got:?}");
    assert!(got.is_empty() || statuses(&got) == vec![503], "{got:?}");
    // one finishes: a new connection is served again
    let mut s = held.pop().expect("held");
    s.write_all(b"Connection: close\r\n\r\n").expect("w");
    let (st, _, body) = read_response(&mut s, &mut Vec::new()).expect("held one answered");
    assert_eq!((st, body.as_str()), (200, "GET|/held||nil"));
    drop(s);
    let t = Instant::now();
    loop {
        let (got, _) = exchange(
            port,
            b"GET /again HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        );
        if statuses(&got) == vec![200] {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "{got:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How a malformed-request client ends its connection.
#[derive(Clone, Copy)]
enum End {
    /// Reads until the server closes.
    Read,
    /// Resets the connection (SO_LINGER 0) right after sending.
    Reset,
    /// Resets it while the handler runs (after a short pause).
    ResetLater,
    /// Closes its sending side mid-request, then reads until the server closes.
    HalfClose,
}

fn reset(s: TcpStream) {
    use std::os::fd::AsRawFd;
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on the live socket `s` owns, with a pointer to a linger struct of
    // the size passed, valid for the call.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(s);
}

/// The open descriptors of process `pid` (None without /proc).
fn fd_count(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Issue 16, item 2: 10,000 malformed requests of 20 kinds (framing errors, handler
/// errors, error objects whose `__tostring` fails, peers that reset or leave mid-request)
/// against a server limited to 256 descriptors: it still answers, and its descriptors are
/// back to where they were.
#[test]
fn ten_thousand_malformed_requests_leak_no_descriptor() {
    if !Path::new("/bin/sh").exists() || !Path::new("/proc/self/fd").exists() {
        eprintln!("skipped: needs /bin/sh (for ulimit -n) and /proc");
        return;
    }
    let port = free_port();
    let script = root().join("tests/lua/http/strict.lua");
    let argv = [
        script.display().to_string(),
        format!("--port={port}"),
        "--opts=max_header_size=2048".to_string(),
    ];
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_hotlua"))
        .args(&argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sh");
    let srv = Server(child, std::env::temp_dir().join("hotlua_http_unused.log"));
    let pid = srv.0.id();
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max open files") && l.contains(" 256 ")),
        "{limits}"
    );
    let good = "GET /good HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    assert_eq!(
        statuses(&exchange(port, good.as_bytes(), Duration::from_secs(5)).0),
        vec![200]
    );
    std::thread::sleep(Duration::from_millis(100));
    let baseline = fd_count(pid).expect("fd count");

    let post = |extra: &str, body: &str| {
        format!("POST / HTTP/1.1\r\nHost: t\r\n{extra}\r\n{body}").into_bytes()
    };
    let chunked = |body: &str| post("Transfer-Encoding: chunked\r\n", body);
    let get_close = |path: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").into_bytes()
    };
    let many: String = (0..120).map(|i| format!("X-{i}: v\r\n")).collect();
    let kinds: Vec<(Vec<u8>, End)> = vec![
        (chunked("zz\r\n"), End::Read),
        (chunked("ffffffffffffffff\r\nx\r\n"), End::Read),
        (post("Content-Length: 0x5\r\n", "hello"), End::Read),
        (post("Content-Length: +5\r\n", "hello"), End::Read),
        (
            post(
                "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
                "0\r\n\r\n",
            ),
            End::Read,
        ),
        (post("Transfer-Encoding: gzip\r\n", ""), End::Read),
        (b"GET / HTTP/1.1\r\n\r\n".to_vec(), End::Read),
        (b"GARBAGE\x01\x02\r\n\r\n".to_vec(), End::Read),
        (
            b"GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n".to_vec(),
            End::Read,
        ),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n".to_vec(), End::Read),
        (get_close("/error"), End::Read),
        (get_close("/errobj"), End::Read),
        (get_close("/inject"), End::Read),
        (
            format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(3000)).into_bytes(),
            End::Read,
        ),
        (
            format!("GET / HTTP/1.1\r\nHost: t\r\n{many}\r\n").into_bytes(),
            End::Read,
        ),
        (post("Content-Length: 999999999999\r\n", ""), End::Read),
        (chunked("5\r\nhelloXX"), End::Read),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-Par".to_vec(), End::Reset),
        (post("Content-Length: 10\r\n", "abc"), End::HalfClose),
        (
            b"GET /sleep?ms=5 HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(),
            End::ResetLater,
        ),
    ];
    assert_eq!(kinds.len(), 20);
    let kinds = std::sync::Arc::new(kinds);
    let threads = 4;
    let per = 10_000 / threads;
    let start_t = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|w| {
            let kinds = kinds.clone();
            std::thread::spawn(move || -> Result<(), String> {
                for i in 0..per {
                    let k = (w * per + i) % kinds.len();
                    let (raw, end) = &kinds[k];
                    let mut s = TcpStream::connect(("127.0.0.1", port))
                        .map_err(|e| format!("request {i}: connect: {e}"))?;
                    s.set_read_timeout(Some(Duration::from_secs(10)))
                        .expect("timeout");
                    let _ = s.write_all(raw);
                    match end {
                        End::Reset => reset(s),
                        End::ResetLater => {
                            std::thread::sleep(Duration::from_millis(1));
                            reset(s);
                        }
                        End::Read | End::HalfClose => {
                            if let End::HalfClose = end {
                                let _ = s.shutdown(std::net::Shutdown::Write);
                            }
                            let mut sink = Vec::new();
                            match s.read_to_end(&mut sink) {
                                Ok(_) => {}
                                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
                                Err(e) => return Err(format!("kind {k}: not closed: {e}")),
                            }
                            if let End::Read = end {
                                let text = String::from_utf8_lossy(&sink);
                                let st = statuses(&text);
                                if st.len() != 1 || st[0] < 400 {
                                    return Err(format!("kind {k}: {text:?}"));
                                }
                            }
                        }
                    }
                }
                Ok(())
            })
        })
        .collect();
    for w in workers {
        w.join()
            .expect("worker")
            .expect("every malformed request refused and closed");
    }
    let took = start_t.elapsed();
    // the server answers, and every connection it closed gave its descriptor back
    assert_eq!(
        statuses(&exchange(port, good.as_bytes(), Duration::from_secs(5)).0),
        vec![200]
    );
    let t = Instant::now();
    let mut now = fd_count(pid).expect("fd count");
    while now > baseline && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        now = fd_count(pid).expect("fd count");
    }
    assert_eq!(now, baseline, "descriptors: {baseline} before, {now} after");
    eprintln!("10,000 malformed requests in {took:?}; descriptors {baseline} -> {now}");
}

/// A client streaming pipelined requests does not keep the server from answering others.
#[test]
fn pipelined_requests_do_not_starve_other_connections() {
    let (_srv, port) = strict_server("");
    let n = 20_000;
    let mut a = connect(port);
    let reader = {
        let mut a = a.try_clone().expect("clone");
        std::thread::spawn(move || {
            let mut count = 0usize;
            let mut buf = Vec::new();
            while count < n {
                match read_response(&mut a, &mut buf) {
                    Some(_) => count += 1,
                    None => break,
                }
                COUNT.store(count, std::sync::atomic::Ordering::SeqCst);
            }
            count
        })
    };
    let batch: String = (0..n)
        .map(|i| format!("GET /a{i} HTTP/1.1\r\nHost: t\r\n\r\n"))
        .collect();
    let writer = std::thread::spawn(move || {
        a.write_all(batch.as_bytes()).expect("pipelined batch");
        a
    });
    // once A's stream is being served, B's one request is answered long before A's last
    let t = Instant::now();
    while COUNT.load(std::sync::atomic::Ordering::SeqCst) < 100 {
        assert!(t.elapsed() < Duration::from_secs(20), "A is not served");
        std::thread::sleep(Duration::from_millis(1));
    }
    let (st, _, body) = request(port, "GET /b HTTP/1.1\r\nHost: t\r\n\r\n");
    let a_done = COUNT.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!((st, body.as_str()), (200, "GET|/b||nil"));
    assert!(a_done < n, "B waited for all of A's {n} requests");
    drop(writer.join().expect("writer"));
    assert_eq!(reader.join().expect("reader"), n);
    eprintln!("B answered after {a_done} of A's {n} pipelined requests");
}

static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

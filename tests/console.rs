//! Hot patching in operation (issue 14), end to end: a server (`tests/lua/console/server.lua`:
//! the guide's route module behind HTTP, and a console) runs as a `hotlua` process in a
//! scratch directory; the tests talk to its console and its HTTP port over TCP as an
//! operator and clients would, and change the module files on disk between commands.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A scratch directory with the fixtures, `route.lua` (the guide's v1) and `boom.lua` (v1).
fn scratch(tag: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("hotlua-console-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for e in std::fs::read_dir(root().join("tests/lua/console")).expect("fixtures") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy a fixture");
    }
    install(&dir, "route.lua", &guide("route_v1.lua"));
    install(&dir, "boom.lua", &read(&dir.join("boom_v1.lua")));
    dir
}

fn guide(name: &str) -> String {
    read(&root().join("tests/guide/examples").join(name))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn install(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write a module file");
}

/// A running server; killed (and its stdout kept) when dropped.
struct Server {
    child: Child,
    console: u16,
    http: u16,
    out: Arc<Mutex<String>>,
    dir: PathBuf,
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let (console, http) = (free_port(), free_port());
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotlua"))
            .arg("server.lua")
            .arg(format!("--cport={console}"))
            .arg(format!("--hport={http}"))
            .args(extra)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hotlua");
        let out = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let sink = out.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("ready ") {
                    let _ = tx.send(());
                }
                let mut o = sink.lock().unwrap();
                o.push_str(&line);
                o.push('\n');
            }
        });
        let stderr = child.stderr.take().expect("stderr");
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut s);
            sink.lock().unwrap().push_str(&s);
        });
        if rx.recv_timeout(Duration::from_secs(20)).is_err() {
            let _ = child.kill();
            panic!("the server did not start: {}", out.lock().unwrap());
        }
        Server {
            child,
            console,
            http,
            out,
            dir: dir.to_path_buf(),
        }
    }

    fn op(&self) -> Op {
        Op::connect(self.console)
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const PROMPT: &[u8] = b"console> ";

/// An operator's console connection.
struct Op {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Op {
    fn connect(port: u16) -> Op {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the console");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut op = Op { s, buf: Vec::new() };
        let banner = op.until_prompt();
        assert!(
            banner.starts_with("Welcome to the hotlua console"),
            "{banner}"
        );
        op
    }

    fn until_prompt(&mut self) -> String {
        while !self.buf.ends_with(PROMPT) {
            let mut chunk = [0u8; 65536];
            let n = self.s.read(&mut chunk).expect("read a reply");
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&self.buf));
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&self.buf[..self.buf.len() - PROMPT.len()]).into_owned();
        self.buf.clear();
        text
    }

    fn cmd(&mut self, line: &str) -> String {
        self.s
            .write_all(format!("{line}\n").as_bytes())
            .expect("send");
        self.until_prompt()
    }
}

/// The value of `key=` in a reply line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// A multi-line reply: `OK ...`, items, `.`. Returns the items.
fn items(reply: &str) -> Vec<String> {
    let lines: Vec<&str> = reply.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("OK")),
        "{reply}"
    );
    assert_eq!(
        lines.last(),
        Some(&"."),
        "a list ends with a lone '.': {reply}"
    );
    lines[1..lines.len() - 1]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// GET `path` on a fresh connection: (status, body).
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to http");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = Vec::new();
    s.read_to_end(&mut r).expect("read the response");
    let text = String::from_utf8_lossy(&r).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The visitor number in a route response ("Hello, visitor #7", "Hello, x (visitor #7)").
fn visitor(body: &str) -> u64 {
    let i = body
        .find('#')
        .unwrap_or_else(|| panic!("no visitor number: {body}"));
    body[i + 1..]
        .trim_end_matches(')')
        .parse()
        .unwrap_or_else(|_| panic!("visitor number: {body}"))
}

#[test]
fn patch_commands_over_the_console() {
    let dir = scratch("cmds");
    let srv = Server::start(&dir, &["--deadline=2000"]);
    let mut op = srv.op();
    assert_eq!(visitor(&get(srv.http, "/?name=a").1), 1);

    assert_eq!(items(&op.cmd("modules")), ["route version=1 versions=1"]);

    // plan changes nothing; reload installs v2 with the state kept
    install(&dir, "route.lua", &guide("route_v2.lua"));
    let plan = op.cmd("plan route");
    let line = &items(&plan)[0];
    assert!(line.starts_with("route from=1 to=2 "), "{plan}");
    assert_eq!(field(line, "state_new"), Some("error_count"), "{plan}");
    assert_eq!(
        field(line, "changed"),
        Some("(main),M.get_stats,M.handle_request")
    );
    assert_eq!(
        items(&op.cmd("versions route")).len(),
        1,
        "plan changed nothing"
    );
    assert_eq!(
        get(srv.http, "/").0,
        200,
        "v1 still serves requests without a name"
    );

    let r = op.cmd("reload route");
    let line = &items(&r)[0];
    assert_eq!(
        (field(line, "from"), field(line, "to")),
        (Some("1"), Some("2")),
        "{r}"
    );
    let (status, body) = get(srv.http, "/");
    assert_eq!((status, body.as_str()), (400, "Error: name is required"));
    assert_eq!(
        get(srv.http, "/?name=b").1,
        "Hello, b (visitor #4)",
        "access_count kept"
    );
    let vs = items(&op.cmd("versions route"));
    assert_eq!(vs.len(), 2, "{vs:?}");
    assert_eq!(field(&vs[1], "current"), Some("true"));
    assert_eq!(items(&op.cmd("modules")), ["route version=2 versions=2"]);

    // rollback puts v1 back, state still kept
    let r = op.cmd("rollback route");
    assert_eq!(field(&items(&r)[0], "to"), Some("1"), "{r}");
    assert_eq!(get(srv.http, "/").1, "Hello, visitor #5");
    assert!(op
        .cmd("rollback route")
        .starts_with("ERR step=load module=route error=module 'route' has no previous version"));

    // two phases: prepare then commit applies exactly what was prepared
    let p = op.cmd("prepare route");
    assert!(p.starts_with("OK id="), "{p}");
    let id = field(&p, "id").unwrap().to_string();
    assert!(field(&p, "hashes").unwrap().starts_with("route:"), "{p}");
    assert_eq!(
        items(&op.cmd("modules")),
        ["route version=1 versions=2"],
        "prepare changes nothing"
    );
    let c = op.cmd(&format!("commit {id}"));
    assert!(
        c.starts_with("OK epoch=") && c.contains(&format!("id={id}")),
        "{c}"
    );
    assert_eq!(get(srv.http, "/?name=c").1, "Hello, c (visitor #6)");
    assert!(op
        .cmd(&format!("commit {id}"))
        .starts_with(&format!("ERR id={id} error=unknown or expired")));

    // a source changed since prepare: refused; abort drops a prepared patch
    let p = op.cmd("prepare route");
    let id = field(&p, "id").unwrap().to_string();
    install(
        &dir,
        "route.lua",
        &(guide("route_v2.lua") + "\n-- edited\n"),
    );
    let c = op.cmd(&format!("commit {id}"));
    assert!(
        c.starts_with(&format!(
            "ERR changed id={id} module=route error=source file changed"
        )),
        "{c}"
    );
    let p = op.cmd("prepare route");
    let id = field(&p, "id").unwrap().to_string();
    assert_eq!(op.cmd(&format!("abort {id}")), format!("OK id={id}\n"));
    assert!(
        op.cmd(&format!("commit {id}")).starts_with("ERR"),
        "aborted"
    );
    // another operator reloads between prepare and commit: the module changed
    let p = op.cmd("prepare route");
    let id = field(&p, "id").unwrap().to_string();
    let mut other = srv.op();
    assert!(other.cmd("reload route").starts_with("OK"));
    let c = op.cmd(&format!("commit {id}"));
    assert!(
        c.starts_with(&format!(
            "ERR changed id={id} module=route error=module version changed"
        )),
        "{c}"
    );

    // a compile error is reported with its step, and changes nothing
    install(&dir, "route.lua", "local M = {\n");
    let r = op.cmd("reload route");
    assert!(r.starts_with("ERR step=compile module=route error="), "{r}");
    assert_eq!(get(srv.http, "/?name=d").0, 200);

    // the patch log: every transaction, with who asked
    let log = items(&op.cmd("log"));
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|l| (field(l, "action").unwrap(), field(l, "ok").unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("reload", "true"),
            ("rollback", "true"),
            ("rollback", "false"),
            ("reload", "true"),
            ("reload", "true"),
            ("reload", "false")
        ]
    );
    assert!(
        log.iter()
            .all(|l| field(l, "who").is_some_and(|w| w.starts_with("console:127.0.0.1:"))),
        "{log:?}"
    );
    assert!(log[5].contains(" error="), "{log:?}");
    assert!(op
        .cmd("plan nosuchmodule")
        .starts_with("ERR step=load module=nosuchmodule"));
    assert!(op.cmd("commit").starts_with("ERR usage"));
}

#[test]
fn census_shows_old_frames_until_they_drain() {
    let dir = scratch("census");
    let srv = Server::start(&dir, &[]);
    let mut op = srv.op();
    assert_eq!(op.cmd("inject nap.lua"), "Inject file:nap.lua Success\n");
    assert_eq!(
        items(&op.cmd("census")),
        Vec::<String>::new(),
        "nothing patched yet"
    );
    install(
        &dir,
        "slow.lua",
        &read(&dir.join("slow.lua")).replace("napped v1", "napped v2"),
    );
    let r = op.cmd("reload slow");
    assert_eq!(field(&items(&r)[0], "frames"), Some("1"), "{r}");
    let c = op.cmd("census slow");
    let lines = items(&c);
    assert!(
        lines[0].starts_with("slow version=1 frames=1 closures=0 bytes="),
        "{c}"
    );
    assert!(lines[0].contains("held_by=task:./slow.lua:4"), "{c}");
    assert!(
        c.contains("./slow.lua:5 (v1): in function 'slow.nap'"),
        "the frame's traceback names v1: {c}"
    );
    // closures of a removed function are not updated: the census says what holds them
    assert_eq!(op.cmd("inject hold.lua"), "Inject file:hold.lua Success\n");
    install(
        &dir,
        "keep.lua",
        "local M = {}\nfunction M.new() return 'new' end\nreturn M\n",
    );
    let r = op.cmd("reload keep");
    assert_eq!(field(&items(&r)[0], "removed"), Some("M.old"), "{r}");
    let c = op.cmd("census keep");
    let lines = items(&c);
    assert_eq!(lines.len(), 1, "{c}");
    assert!(
        lines[0].starts_with("keep version=1 frames=0 closures=1 bytes="),
        "{c}"
    );
    let held = field(&lines[0], "held_by").unwrap();
    assert_eq!(held, "table__G.saved.fn,timer", "{c}");
    // the napping frame ends (600 ms): the old version drains and the log says so
    let t = Instant::now();
    loop {
        if items(&op.cmd("census slow")).is_empty() {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "never drained");
        std::thread::sleep(Duration::from_millis(50));
    }
    let t = Instant::now();
    while !srv
        .output()
        .contains("module slow v1 drained: no frame runs it")
    {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no drain line: {}",
            srv.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn versions_show_in_errors_and_tracebacks() {
    let dir = scratch("versions");
    let srv = Server::start(&dir, &[]);
    let mut op = srv.op();
    let before = op.cmd("inject fail_boom.lua");
    assert!(
        before.starts_with("./boom.lua:3: boom\n") && before.contains("\ngetinfo version\tnil\n"),
        "never patched: no version shown: {before}"
    );
    install(&dir, "boom.lua", &read(&dir.join("boom_v2.lua")));
    assert!(op.cmd("reload boom").starts_with("OK"));
    let after = op.cmd("inject fail_boom.lua");
    assert!(
        after.starts_with("./boom.lua:4 (v2): boom again\n"),
        "{after}"
    );
    assert!(
        after.contains("\n\t./boom.lua:4 (v2): in function 'boom.fail'\n"),
        "{after}"
    );
    assert!(after.contains("\ngetinfo version\t2\n"), "{after}");
    assert!(
        after.contains(" I ./boom.lua:7 (v2) said by v2\n"),
        "logger lines name the version: {after}"
    );
    assert!(op.cmd("rollback boom").starts_with("OK"));
    let back = op.cmd("inject fail_boom.lua");
    assert!(back.starts_with("./boom.lua:3 (v1): boom\n"), "{back}");
    assert!(back.contains("\ngetinfo version\t1\n"), "{back}");
}

#[test]
fn a_looping_inject_is_stopped_by_its_deadline_while_http_is_served() {
    let dir = scratch("deadline");
    let srv = Server::start(&dir, &["--deadline=400"]);
    let mut op = srv.op();
    // output of an inject goes back to the operator
    let talk = op.cmd("inject talk.lua");
    assert!(talk.starts_with("hello from the hotfix\t2\n"), "{talk}");
    assert!(
        talk.contains(" I talk.lua:4 logged by the hotfix\n"),
        "{talk}"
    );
    assert!(talk.ends_with("Inject file:talk.lua Success\n"), "{talk}");

    // HTTP clients keep going while an inject loops (with pcall, to hold on)
    let stop = Arc::new(AtomicBool::new(false));
    let port = srv.http;
    let flag = stop.clone();
    let load = std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !flag.load(Ordering::Relaxed) {
            let (status, body) = get(port, "/?name=x");
            assert_eq!(status, 200, "{body}");
            seen.push(visitor(&body));
        }
        seen
    });
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..2 {
        let t = Instant::now();
        let r = op.cmd("inject loop.lua");
        assert_eq!(
            r,
            "looping\nInject file:loop.lua loop.lua:4: deadline exceeded (400 ms)\n"
        );
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "took {:?}",
            t.elapsed()
        );
        assert_eq!(op.cmd("ping"), "PONG\n");
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let seen = load.join().expect("the load thread");
    assert!(seen.len() > 3, "requests were answered: {seen:?}");
    let expect: Vec<u64> = (1..=seen.len() as u64).collect();
    assert_eq!(seen, expect, "every request counted once, in order");

    // a FIFO would block the loop while read: refused
    let fifo = dir.join("pipe.lua");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        let r = op.cmd(&format!("inject {}", fifo.display()));
        assert_eq!(
            r,
            format!("Inject file:{0} {0}: not a regular file\n", fifo.display())
        );
    } else {
        eprintln!("mkfifo unavailable: FIFO case skipped");
    }
    assert_eq!(op.cmd("ping"), "PONG\n");
}

#[test]
fn hundred_reloads_and_rollbacks_under_http_load() {
    let dir = scratch("load");
    let srv = Server::start(&dir, &[]);
    let mut op = srv.op();
    install(&dir, "route.lua", &guide("route_v2.lua"));
    let stop = Arc::new(AtomicBool::new(false));
    let port = srv.http;
    let flag = stop.clone();
    let load = std::thread::spawn(move || {
        let mut n = 0u64;
        while !flag.load(Ordering::Relaxed) {
            let (status, body) = get(port, "/?name=x");
            n += 1;
            assert_eq!(status, 200, "request {n}: {body}");
            assert_eq!(visitor(&body), n, "the visitor count is exact: {body}");
        }
        n
    });
    for i in 0..100 {
        let r = op.cmd("reload route");
        assert!(r.starts_with("OK"), "reload {i}: {r}");
        let r = op.cmd("rollback route");
        assert!(r.starts_with("OK"), "rollback {i}: {r}");
    }
    stop.store(true, Ordering::Relaxed);
    let n = load.join().expect("the load thread");
    assert!(n > 0);
    assert_eq!(
        get(srv.http, "/stats").1,
        n.to_string(),
        "total after {n} requests"
    );
    assert_eq!(items(&op.cmd("log")).len(), 200);
}

/// `examples/fleet/fleet.py` over three servers (skipped without python3).
#[test]
fn fleet_two_phase_patch_over_three_servers() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not installed: skipped");
        return;
    }
    let fleet = root().join("examples/fleet/fleet.py");
    let run = |nodes: &[String]| -> (i32, Vec<String>) {
        let out = Command::new("python3")
            .arg(&fleet)
            .args(["--timeout", "20"])
            .args(nodes)
            .args(["--", "route"])
            .output()
            .expect("run fleet.py");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.code().unwrap_or(-1),
            text.lines().map(str::to_string).collect(),
        )
    };
    let servers: Vec<Server> = (0..3)
        .map(|i| Server::start(&scratch(&format!("fleet{i}")), &[]))
        .collect();
    let nodes: Vec<String> = servers
        .iter()
        .map(|s| format!("127.0.0.1:{}", s.console))
        .collect();
    let version = |s: &Server| items(&s.op().cmd("modules"))[0].clone();

    // one node's source differs: every node aborts, none changes
    for s in &servers {
        install(&s.dir, "route.lua", &guide("route_v2.lua"));
    }
    install(
        &servers[1].dir,
        "route.lua",
        &(guide("route_v2.lua") + "-- not the same\n"),
    );
    let (code, lines) = run(&nodes);
    assert_eq!(code, 1, "{lines:?}");
    for (l, n) in lines.iter().zip(&nodes) {
        assert!(
            l.starts_with(&format!("{n} ABORTED nodes prepared different sources")),
            "{lines:?}"
        );
    }
    assert!(servers
        .iter()
        .all(|s| version(s) == "route version=1 versions=1"));

    // one node unreachable: the others abort
    let mut with_dead = nodes.clone();
    with_dead.push(format!("127.0.0.1:{}", free_port()));
    install(&servers[1].dir, "route.lua", &guide("route_v2.lua"));
    let (code, lines) = run(&with_dead);
    assert_eq!(code, 1, "{lines:?}");
    assert!(
        lines[3].starts_with(&format!("{} UNREACHABLE", with_dead[3])),
        "{lines:?}"
    );
    for l in &lines[..3] {
        assert!(l.contains(" ABORTED not every node prepared"), "{lines:?}");
    }
    assert!(servers
        .iter()
        .all(|s| version(s) == "route version=1 versions=1"));

    // all prepared the same source: all commit
    let (code, lines) = run(&nodes);
    assert_eq!(code, 0, "{lines:?}");
    for (l, n) in lines.iter().zip(&nodes) {
        assert!(
            l.starts_with(&format!("{n} COMMITTED OK epoch=")),
            "{lines:?}"
        );
    }
    for s in &servers {
        assert_eq!(version(s), "route version=2 versions=2");
        assert_eq!(get(s.http, "/").0, 400, "v2 runs");
    }
}

#[test]
fn a_prepared_patch_expires() {
    let dir = scratch("ttl");
    let srv = Server::start(&dir, &["--ttl=200"]);
    let mut op = srv.op();
    let p = op.cmd("prepare route");
    let id = field(&p, "id").unwrap().to_string();
    assert_eq!(field(&p, "expires_ms"), Some("200"));
    std::thread::sleep(Duration::from_millis(400));
    assert!(op
        .cmd(&format!("commit {id}"))
        .starts_with(&format!("ERR id={id} error=unknown or expired")));
}

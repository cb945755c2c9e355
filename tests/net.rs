//! silly.net.tcp end to end: scripts of `tests/lua/net/` run with the `hotlua` program in a
//! child process, killed if they outlive their time limit.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `script` of tests/lua/net; returns (status, stdout without the harness header).
fn run_script(script: &str, limit: Duration) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotlua"))
        .arg(script)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lua/net"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn the runner");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{script} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = t_out.join().unwrap_or_default();
    let stdout = match stdout.find("running 1 test\n") {
        Some(i) => stdout[i + "running 1 test\n".len()..].to_string(),
        None => stdout,
    };
    (status.code(), stdout, t_err.join().unwrap_or_default())
}

#[test]
fn echo_server_and_clients_in_one_process() {
    let (status, out, err) = run_script("echo.lua", Duration::from_secs(30));
    assert_eq!(status, Some(0), "stderr: {err}\nstdout: {out}");
    let expected = "addr\ttrue\n\
        remote\ttrue\n\
        hello\tworld\ttrue\n\
        partial line\n\
        read after close\tnil\tclosed\n\
        write after close\tnil\tclosed\n\
        connect refused\tnil\tConnection refused (os error 111)\n\
        pipelined\t5000\n\
        split delimiter\tab\tcd\tnil\tclosed\n\
        write to closed peer\tnil\tstring\tnil\tclosed\n\
        concurrent\t300\t300\ttrue\n\
        big\t8388608\n\
        eof\tnil\tclosed\n\
        line limit\tnil\tline too long\n\
        scoped\tscoped\n\
        closed by scope\tnil\tclosed\n\
        closed\tfalse\n";
    assert!(out.starts_with(expected), "stdout: {out}\nstderr: {err}");
}

/// A runner child serving in the background; killed when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the runner with `args` in tests/lua/net, without waiting for it.
fn serve(args: &[&str]) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_hotlua"))
        .args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lua/net"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn the runner");
    Server(child)
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

const PROMPT: &str = "console> ";

/// One operator's connection.
struct Op {
    s: std::net::TcpStream,
    buf: Vec<u8>,
}

impl Op {
    /// Connects (retrying while the server starts, at most 10 s).
    fn connect(port: u16) -> Op {
        let start = Instant::now();
        loop {
            match std::net::TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(10)))
                        .expect("timeout");
                    return Op { s, buf: Vec::new() };
                }
                Err(e) => {
                    assert!(start.elapsed() < Duration::from_secs(10), "connect: {e}");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.s.write_all(bytes).expect("send");
    }

    /// Reads until the text read ends with the prompt; returns it without the prompt.
    fn until_prompt(&mut self) -> String {
        loop {
            if self.buf.ends_with(PROMPT.as_bytes()) {
                let n = self.buf.len() - PROMPT.len();
                let text = String::from_utf8_lossy(&self.buf[..n]).into_owned();
                self.buf.clear();
                return text;
            }
            let mut chunk = [0u8; 4096];
            let n = self.s.read(&mut chunk).expect("read a reply");
            assert!(
                n > 0,
                "closed before the prompt; got {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends one command line and returns the reply (without the next prompt).
    fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\n").as_bytes());
        self.until_prompt()
    }

    /// Reads everything up to the end of the stream.
    fn rest(&mut self) -> String {
        let mut out = std::mem::take(&mut self.buf);
        let _ = self.s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn script_path(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/lua/net")
        .join(name)
        .canonicalize()
        .expect("script path")
        .display()
        .to_string()
}

#[test]
fn console_commands_inject_and_bad_input() {
    let port = free_port();
    let _server = serve(&["console_app.lua", &port.to_string()]);
    let mut op = Op::connect(port);
    let banner = op.until_prompt();
    assert!(
        banner.starts_with("Welcome to the hotlua console"),
        "{banner}"
    );
    assert_eq!(op.cmd("ping"), "PONG\n");
    assert_eq!(op.cmd("PiNg hello"), "hello\n");
    assert_eq!(op.cmd(""), "");
    assert_eq!(
        op.cmd("frobnicate now"),
        "ERR unknown command 'frobnicate'\n"
    );
    let help = op.cmd("HELP");
    for word in [
        "help", "ping", "gc", "info", "task", "inject", "quit", "state", "add",
    ] {
        assert!(help.contains(word), "help lacks {word}: {help}");
    }
    assert!(op.cmd("gc").ends_with(" KB\n"));
    let info = op.cmd("info");
    assert!(
        info.contains("uptime: ") && info.contains("timers: ") && info.contains("silly.console"),
        "{info}"
    );
    let tasks = op.cmd("task");
    assert!(
        tasks.starts_with("tasks: ")
            && tasks.contains("running")
            && tasks.contains("stack traceback"),
        "{tasks}"
    );
    assert_eq!(op.cmd("add 2 3"), "5\n");
    assert_eq!(op.cmd("state"), "1\n");

    // inject: success changes the live state; failures report the message
    let ok = script_path("fix_ok.lua");
    assert_eq!(
        op.cmd(&format!("inject {ok}")),
        format!("Inject file:{ok} Success\n")
    );
    assert_eq!(op.cmd("state"), "2\n");
    let bad = script_path("fix_error.lua");
    assert_eq!(
        op.cmd(&format!("inject {bad}")),
        format!("Inject file:{bad} {bad}:1: hotfix failed\n")
    );
    let syn = script_path("fix_syntax.lua");
    let r = op.cmd(&format!("INJECT {syn}"));
    assert!(
        r.starts_with(&format!("Inject file:{syn} {syn}:1: unexpected symbol")),
        "{r}"
    );
    assert_eq!(
        op.cmd("inject /nonexistent/x.lua"),
        "Inject file:/nonexistent/x.lua cannot open /nonexistent/x.lua: No such file or directory\n"
    );
    assert_eq!(op.cmd("state"), "2\n");
    let y = script_path("fix_yield.lua");
    assert_eq!(
        op.cmd(&format!("inject {y}")),
        format!("Inject file:{y} Success\n")
    );
    assert_eq!(op.cmd("state"), "7\n");

    // a sleeping inject suspends only its own operator: another one is served meanwhile
    let slow = script_path("fix_sleep.lua");
    op.send(format!("inject {slow}\n").as_bytes());
    let mut other = Op::connect(port);
    other.until_prompt();
    let t = Instant::now();
    assert_eq!(other.cmd("ping"), "PONG\n");
    assert_eq!(other.cmd("state"), "7\n");
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "blocked by the inject"
    );
    assert_eq!(op.until_prompt(), format!("Inject file:{slow} Success\n"));
    assert_eq!(other.cmd("state"), "100\n");

    // disconnect in the middle of an inject: the inject completes, the server keeps serving
    let mut gone = Op::connect(port);
    gone.until_prompt();
    assert_eq!(gone.cmd("ping"), "PONG\n");
    other.cmd("state");
    op.cmd(&format!("inject {ok}"));
    assert_eq!(op.cmd("state"), "101\n");
    gone.send(format!("inject {slow}\n").as_bytes());
    drop(gone);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(op.cmd("state"), "100\n");

    // binary garbage is an unknown command; the connection stays usable
    let r = op.cmd("\u{1}\u{7f}garbage\tmore");
    assert!(
        r.starts_with("ERR unknown command '\u{1}\u{7f}garbage'"),
        "{r:?}"
    );
    op.send(b"\xff\xfe\x00\x80\n");
    assert!(op.until_prompt().starts_with("ERR unknown command"));
    assert_eq!(op.cmd("ping"), "PONG\n");

    // an over-long line is refused and closes that connection only
    let mut long = Op::connect(port);
    long.until_prompt();
    long.send(&vec![b'a'; 70 * 1024]);
    assert_eq!(long.rest(), "ERR line too long\n");
    assert_eq!(op.cmd("ping"), "PONG\n");

    // quit closes this connection; exit too
    op.send(b"quit\n");
    assert_eq!(op.rest(), "Bye\n");
    other.send(b"EXIT\n");
    assert_eq!(other.rest(), "Bye\n");
    let mut again = Op::connect(port);
    again.until_prompt();
    assert_eq!(again.cmd("ping"), "PONG\n");
}

#[test]
fn console_token_and_remote_opt_in() {
    let port = free_port();
    let _server = serve(&["console_auth.lua", &port.to_string()]);
    let mut op = Op::connect(port);
    let banner = op.until_prompt();
    assert!(banner.contains("auth <token>"), "{banner}");
    assert_eq!(op.cmd("ping"), "ERR authentication required\n");
    assert_eq!(op.cmd("auth wrong"), "ERR authentication failed\n");
    assert_eq!(op.cmd("info"), "ERR authentication required\n");
    assert_eq!(
        op.cmd("auth s3cret-token extra"),
        "ERR authentication failed\n"
    );
    assert_eq!(op.cmd("AUTH s3cret-token"), "OK\n");
    assert_eq!(op.cmd("ping"), "PONG\n");
    let mut other = Op::connect(port);
    other.until_prompt();
    assert_eq!(other.cmd("ping"), "ERR authentication required\n");
}

#[test]
fn console_refuses_remote_addresses_without_opt_in_and_token() {
    let (status, out, err) = run_script("console_refuse.lua", Duration::from_secs(20));
    assert_eq!(status, Some(0), "{err}");
    assert_eq!(
        out,
        "remote without opt-in\tfalse\tsilly.console: a non-loopback address (0.0.0.0:1) needs allow_remote = true and a token\n\
         remote without token\tfalse\tsilly.console: a non-loopback address (0.0.0.0:1) needs allow_remote = true and a token\n\
         token with a space\tfalse\tsilly.console: the token must not contain white space or control characters\n\
         token too short\tfalse\tsilly.console: the token is too short (5 bytes, at least 8)\n\
         empty token\tfalse\tsilly.console: the token is too short (0 bytes, at least 8)\n\
         token with a tab\tfalse\tsilly.console: the token must not contain white space or control characters\n\
         token not a string\tfalse\tsilly.console: 'token' must be a string\n\
         loopback by default\ttrue\n"
    );
}

#[test]
fn runner_console_flag_serves_beside_the_script() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _server = serve(&["--console", &addr, "idle.lua"]);
    let mut op = Op::connect(port);
    op.until_prompt();
    assert_eq!(op.cmd("ping"), "PONG\n");
    assert!(op.cmd("info").contains("silly.console"));
}

#[test]
fn timeouts_exact_line_limits_and_failing_accept_functions() {
    let (status, out, err) = run_script("robust.lua", Duration::from_secs(30));
    assert_eq!(status, Some(0), "stderr: {err}\nstdout: {out}");
    // The accept function's error is logged (at ERROR, with its traceback) between them.
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with('\t') && !l.contains(" E ") && *l != "stack traceback:")
        .collect();
    assert_eq!(
        lines,
        [
            "read timeout\tnil\ttimeout\ttrue",
            "after timeout\tlate",
            "bad timeout\tfalse\tbad argument #1 to 'settimeout' (non-negative number or nil expected)",
            "limit at once\t100\tline too long",
            "limit trickled\t100\tline too long",
            "limit crlf\t100\tline too long",
            "accept error\tnil\tclosed",
            "collected\tnil\tclosed",
            "shutdown\tbye\tnil\tclosed",
            "after shutdown\tmore",
        ],
        "{out}"
    );
    assert!(out.contains("robust.lua:59: accept failed"), "{out}");
}

#[test]
fn console_auth_failures_are_slowed_and_end_the_connection() {
    let port = free_port();
    let _server = serve(&["console_auth.lua", &port.to_string()]);
    // 2,000 guesses in one write: answered one by one, each after a pause, and the
    // connection closes after the fifth failure
    let mut op = Op::connect(port);
    op.until_prompt();
    let guesses: String = (0..2000).map(|i| format!("auth guess{i}\n")).collect();
    let t = Instant::now();
    op.send(guesses.as_bytes());
    let rest = op.rest();
    let took = t.elapsed();
    assert_eq!(
        rest,
        "ERR authentication failed\nconsole> ".repeat(4) + "ERR too many authentication failures\n"
    );
    // five failures, each answered after 300 ms: never faster than that
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    // other connections are not locked out
    let mut other = Op::connect(port);
    other.until_prompt();
    assert_eq!(other.cmd("auth s3cret-token"), "OK\n");
    assert_eq!(other.cmd("ping"), "PONG\n");
}

#[test]
fn console_line_limit_is_exact_however_the_bytes_arrive() {
    let port = free_port();
    let _server = serve(&["console_app.lua", &port.to_string()]);
    let limit = 64 * 1024;
    // "ping <word>" of exactly the limit: accepted, in one write or in pieces, with "\n" or
    // "\r\n"; one byte more is refused and closes that connection
    for (len, ending, piece) in [
        (limit, "\n", usize::MAX),
        (limit, "\r\n", 1000),
        (limit, "\n", 7),
        (limit + 1, "\n", usize::MAX),
        (limit + 1, "\r\n", 1000),
        (100_000, "\n", usize::MAX),
    ] {
        let mut op = Op::connect(port);
        op.until_prompt();
        let line = format!("ping {}{ending}", "a".repeat(len - 5));
        for chunk in line.as_bytes().chunks(piece.min(line.len())) {
            op.send(chunk);
            if piece != usize::MAX {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        if len <= limit {
            assert_eq!(
                op.until_prompt().len(),
                len - 5 + 1,
                "{len} {ending:?} {piece}"
            );
            assert_eq!(op.cmd("ping"), "PONG\n");
        } else {
            assert_eq!(op.rest(), "ERR line too long\n", "{len} {ending:?} {piece}");
        }
    }
}

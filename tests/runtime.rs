//! The silly runtime end to end: each test runs a script of `tests/lua/runtime/` with the
//! `hotlua` program in a child process and checks its output and exit status. Every wait
//! is bounded.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn script_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lua/runtime")
}

struct Output {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Starts the runner with `args` in the scripts' directory.
fn spawn(args: &[&str], stdin: Option<&str>) -> Child {
    spawn_env(args, stdin, &[])
}

fn spawn_env(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotlua"));
    // Messages name the program as invoked: "hotlua: ...".
    cmd.arg0("hotlua")
        .args(args)
        .current_dir(script_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn the runner");
    if let Some(text) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    child
}

/// Waits at most `limit` for the child (killing it past that) and collects its output.
fn finish(mut child: Child, limit: Duration) -> Output {
    let out = child.stdout.take();
    let mut err = child.stderr.take().expect("stderr pipe");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(mut out) = out {
            let _ = out.read_to_end(&mut s);
        }
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
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
            panic!("the runner did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    Output {
        status: status.code(),
        stdout: strip_harness(&stdout),
        stderr,
    }
}

/// What the program printed (a test harness header, when a child was a test binary, is
/// dropped).
fn strip_harness(s: &str) -> String {
    match s.find("running 1 test\n") {
        Some(i) => s[i + "running 1 test\n".len()..].to_string(),
        None => s.to_string(),
    }
}

fn run(args: &[&str]) -> Output {
    finish(spawn(args, None), Duration::from_secs(60))
}

/// The same script under lua5.4 (None when it is not installed).
fn lua54(args: &[&str]) -> Option<Output> {
    let child = Command::new("lua5.4")
        .args(args)
        .current_dir(script_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .ok()?;
    Some(finish(child, Duration::from_secs(60)))
}

/// `YYYY-MM-DD HH:MM:SS L ` at the start of a log line; returns the rest.
fn log_body(line: &str, level: char) -> Option<&str> {
    let b = line.as_bytes();
    if b.len() < 22 {
        return None;
    }
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    let ok = digits.iter().all(|&i| b[i].is_ascii_digit())
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b' '
        && b[20] == level as u8
        && b[21] == b' ';
    ok.then(|| &line[22..])
}

#[test]
fn plain_script_matches_lua54() {
    let out = run(&["plain.lua", "x", "y"]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    if let Some(lua) = lua54(&["plain.lua", "x", "y"]) {
        assert_eq!(out.stdout, lua.stdout);
        assert_eq!(out.stderr, lua.stderr);
    }
    assert!(
        out.stdout.starts_with("1\t2.5\tx\tnil\ttrue\ntrue\t42\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn main_error_prints_lua_c_message_and_exits_1() {
    let out = run(&["plainerror.lua"]);
    assert_eq!(out.status, Some(1));
    assert_eq!(out.stdout, "start\n");
    assert!(out.stderr.starts_with("hotlua: plainerror.lua:3: attempt to index a nil value (field 'field')\nstack traceback:\n"), "{}", out.stderr);
    if let Some(lua) = lua54(&["plainerror.lua"]) {
        assert_eq!(lua.status, Some(1));
        assert_eq!(out.stderr.replacen("hotlua:", "lua5.4:", 1), lua.stderr);
    }
}

#[test]
fn main_error_after_sleeping_ends_the_process() {
    let out = run(&["mainerror.lua"]);
    assert_eq!(out.status, Some(1));
    assert_eq!(out.stdout, "slept\n");
    let expected = "hotlua: mainerror.lua:4: boom\nstack traceback:\n\t[C]: in function 'error'\n\tmainerror.lua:4: in local 'fail'\n\tmainerror.lua:8: in main chunk\n\t[C]: in ?\n";
    assert_eq!(out.stderr, expected);
}

#[test]
fn syntax_error_exits_1() {
    let out = run(&["syntax.lua"]);
    assert_eq!(out.status, Some(1));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "hotlua: syntax.lua:2: unexpected symbol near '='\n"
    );
    if let Some(lua) = lua54(&["syntax.lua"]) {
        assert_eq!(out.stderr.replacen("hotlua:", "lua5.4:", 1), lua.stderr);
    }
}

#[test]
fn missing_script_exits_1() {
    let out = run(&["no_such_file.lua"]);
    assert_eq!(out.status, Some(1));
    assert_eq!(
        out.stderr,
        "hotlua: cannot open no_such_file.lua: No such file or directory\n"
    );
}

#[test]
fn silly_exit_sets_the_status_and_flushes() {
    let out = run(&["exit.lua", "3"]);
    assert_eq!(out.status, Some(3), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "before exit 3\n");
    let out = run(&["exit.lua", "0"]);
    assert_eq!(out.status, Some(0));
    assert_eq!(out.stdout, "before exit 0\n");
    // From the main chunk itself, and from a -e chunk (not a task: exits at once).
    let out = run(&["exit_main.lua"]);
    assert_eq!(out.status, Some(5), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "top ");
    let out = run(&[
        "-e",
        "io.write('e ') require('silly').exit(false) print('no')",
    ]);
    assert_eq!(out.status, Some(1), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "e ");
}

#[test]
fn timers_fire_in_deadline_then_creation_order() {
    let out = run(&["timers.lua"]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert_eq!(
        out.stdout,
        "e0 session b10 d10 a30 c30\nequal deadlines in creation order\n"
    );
}

#[test]
fn sleep_is_never_early() {
    let start = Instant::now();
    let out = run(&["sleep.lua"]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert_eq!(
        out.stdout,
        "0\ttrue\ttrue\n1\ttrue\ttrue\n3\ttrue\ttrue\n10\ttrue\ttrue\n25\ttrue\ttrue\n50\ttrue\ttrue\n0\nidle cpu\ttrue\n"
    );
    assert!(start.elapsed() >= Duration::from_millis(289));
}

#[test]
fn hundred_thousand_tasks_ping_pong() {
    let start = Instant::now();
    let out = finish(spawn(&["pingpong.lua"], None), Duration::from_secs(120));
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "ready\t100000\nring done\t200000\t200000\n");
    eprintln!("100,000-task ping-pong: {:?}", start.elapsed());
}

#[test]
fn an_error_in_a_task_is_logged_and_the_rest_goes_on() {
    let out = run(&["taskerror.lua"]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let first = log_body(lines[0], 'E').unwrap_or_else(|| panic!("not a log line: {}", lines[0]));
    assert_eq!(
        first,
        "taskerror.lua:6 taskerror.lua:6: attempt to index a nil value (local 'x')"
    );
    assert_eq!(lines[1], "stack traceback:");
    assert_eq!(lines[2], "\ttaskerror.lua:6: in function <taskerror.lua:4>");
    let timer = lines
        .iter()
        .position(|l| l.contains("boom in timer"))
        .expect("timer error logged");
    let body = log_body(lines[timer], 'E').expect("timer error is a log line");
    assert_eq!(body, "taskerror.lua:12 taskerror.lua:12: boom in timer");
    assert!(
        lines[timer + 2].starts_with("\t[C]: in function 'error'"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("still running\nmain done\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn sigterm_ends_a_sleeping_server_cleanly() {
    signal_ends_a_sleeping_server(libc::SIGTERM);
}

#[test]
fn sigint_ends_a_sleeping_server_cleanly() {
    signal_ends_a_sleeping_server(libc::SIGINT);
}

fn signal_ends_a_sleeping_server(sig: i32) {
    let mut child = spawn(&["sigterm.lua"], None);
    // Wait for "ready" (bounded) before signalling.
    let mut out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while out.read(&mut byte).map(|n| n == 1).unwrap_or(false) {
            buf.push(byte[0]);
            if buf.ends_with(b"ready\n") {
                let _ = tx.send(());
            }
        }
        buf
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the server never got ready");
    let sent = Instant::now();
    // SAFETY: kill(2) on our own child's pid has no memory effects.
    let r = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(r, 0);
    let out = finish(child, Duration::from_secs(10));
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "slow shutdown: {:?}",
        sent.elapsed()
    );
    assert_eq!(out.status, Some(128 + sig), "stderr: {}", out.stderr);
    assert_eq!(out.stderr, "");
    // A clean shutdown: finalizers ran, output is complete, the sleep never returned.
    let stdout = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    assert_eq!(strip_harness(&stdout), "ready\nfinalized\n");
}

#[test]
fn env_values_come_from_key_value_arguments() {
    let out = run(&["env.lua", "a", "--port=8080", "--name=x=y", "b"]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert_eq!(
        out.stdout,
        "8080\tx=y\tnil\n9\tv\n4\ta\t--port=8080\t--name=x=y\tb\nenv.lua\ta\t4\n"
    );
}

#[test]
fn inspect_reports_status_and_traceback() {
    let out = run(&["inspect.lua"]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert!(
        out.stdout
            .starts_with("3\trunning\twait\tsleep\ntrue\ntrue\ntrue\n"),
        "{}",
        out.stdout
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        log_body(lines[4], 'E'),
        Some("inspect.lua:27 dies"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with("\nreleased\ttrue\n"), "{}", out.stdout);
}

#[test]
fn tasks_are_coroutines() {
    let out = run(&["coroutines.lua"]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    let expected = "2\n\
false\tcoroutines.lua:8: silly.time.sleep: not called from a task\n\
a1 b1 a2 b2\n\
wait\n\
false\tsilly.task.wakeup: the task is not waiting (status 'running')\n\
ready\n\
false\tsilly.task.wakeup: the task is not waiting (status 'ready')\n\
woken with\thello\n\
false\tinside pcall\n\
false\ttrue\n\
true\t1\t2\n\
nil\ttrue\tfalse\n\
true\n";
    assert_eq!(out.stdout, expected);
}

#[test]
fn logger_format_and_levels() {
    let out = run(&["logger.lua"]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    assert_eq!(
        log_body(lines[0], 'I'),
        Some("logger.lua:2 hello 1 {a=1, b={2}}")
    );
    assert_eq!(log_body(lines[1], 'D'), Some("logger.lua:5 shown nil true"));
    assert_eq!(log_body(lines[2], 'E'), Some("logger.lua:9 err 4"));
    assert_eq!(log_body(lines[3], 'W'), Some("logger.lua:11 {1, 2, x=y}"));
    assert_eq!(lines[4], "2");
}

#[test]
fn e_chunks_stdin_and_double_dash() {
    let out = run(&[
        "-e",
        "require'silly.time'.after(5, function() print('timer') end) print('e')",
    ]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "e\ntimer\n");
    let out = finish(
        spawn(
            &["-", "z"],
            Some("require'silly.time'.sleep(2) print('stdin', ...)"),
        ),
        Duration::from_secs(60),
    );
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "stdin\tz\n");
    let out = run(&["-e", "x = 5", "--", "env.lua", "--port=1"]);
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert!(out.stdout.starts_with("1\tnil\tnil\n"), "{}", out.stdout);
    let out = run(&["-e", "require'silly.time'.sleep(1)"]);
    assert_eq!(out.status, Some(1));
    assert!(
        out.stderr
            .starts_with("hotlua: (command line):1: silly.time.sleep: not called from a task\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn many_pending_timers_through_the_loop() {
    // The benchmark script: 200,000 timers pending at once, every 10th cancelled.
    let out = finish(
        spawn(&["../../../benches/runtime/timers.lua", "200000"], None),
        Duration::from_secs(120),
    );
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines[0].starts_with("scheduled 200000 timers: "),
        "{}",
        out.stdout
    );
    assert!(lines[1].starts_with("cancelled 20000: "), "{}", out.stdout);
    assert!(lines[2].starts_with("fired 180000: "), "{}", out.stdout);
}

#[test]
fn tasks_and_timers_survive_a_collection_at_every_safe_point() {
    // Everything the loop holds for Lua (threads, callbacks, wakeup values) must be rooted.
    let stress = [("HOTLUA_GC_STRESS", "1")];
    let out = finish(
        spawn_env(&["timers.lua"], None, &stress),
        Duration::from_secs(120),
    );
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert_eq!(
        out.stdout,
        "e0 session b10 d10 a30 c30\nequal deadlines in creation order\n"
    );
    let out = finish(
        spawn_env(&["pingpong.lua", "300"], None, &stress),
        Duration::from_secs(120),
    );
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "ready\t300\nring done\t600\t600\n");
    let out = finish(
        spawn_env(&["coroutines.lua"], None, &stress),
        Duration::from_secs(120),
    );
    assert_eq!(out.status, Some(0), "stderr: {}", out.stderr);
    assert!(out.stdout.starts_with("2\n"), "{}", out.stdout);
}

#[test]
fn deep_main_error_traceback_is_elided_as_lua_c() {
    // The runner's bottom `[C]: in ?` level counts in luaL_traceback's 10 + 11 elision.
    for depth in ["5", "19", "20", "21", "30"] {
        let out = run(&["deeperror.lua", depth]);
        assert_eq!(out.status, Some(1));
        if let Some(lua) = lua54(&["deeperror.lua", depth]) {
            assert_eq!(
                out.stderr.replacen("hotlua:", "lua5.4:", 1),
                lua.stderr,
                "depth {depth}"
            );
        }
        assert!(
            out.stderr.ends_with("in main chunk\n\t[C]: in ?\n"),
            "{}",
            out.stderr
        );
    }
}

/// Runs `cmd` (the runner when `lua` is false, else lua5.4; None when it is missing),
/// sends `sig` once `marker` has been printed, and collects the output.
fn signal_after(args: &[&str], marker: &'static [u8], sig: i32, lua: bool) -> Option<Output> {
    let mut child = if lua {
        Command::new("lua5.4")
            .args(args)
            .current_dir(script_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .ok()?
    } else {
        spawn(args, None)
    };
    let mut out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while out.read(&mut byte).map(|n| n == 1).unwrap_or(false) {
            buf.push(byte[0]);
            if buf.ends_with(marker) {
                let _ = tx.send(());
            }
        }
        buf
    });
    if rx.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = child.kill();
        panic!("the script never printed its marker");
    }
    // Let it get into its endless loop.
    std::thread::sleep(Duration::from_millis(50));
    // SAFETY: kill(2) on our own child's pid has no memory effects.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
    let mut o = finish(child, Duration::from_secs(10));
    o.stdout = strip_harness(&String::from_utf8_lossy(&reader.join().unwrap_or_default()));
    Some(o)
}

#[test]
fn a_signal_interrupts_a_script_that_never_yields_as_lua_c_does() {
    // SIGINT: lua.c's "interrupted!" error, status 1; SIGTERM (which lua.c does not catch,
    // so it dies of it) the same clean stop, with the status of a process ended by SIGTERM.
    for (sig, status) in [(libc::SIGINT, 1), (libc::SIGTERM, 128 + libc::SIGTERM)] {
        let path = std::env::temp_dir().join(format!("hotlua_busy_{}_{sig}", std::process::id()));
        let p = path.to_string_lossy().into_owned();
        let out = signal_after(&["busy.lua", &p], b"spin\n", sig, false).expect("runner");
        assert_eq!(out.status, Some(status), "stderr: {}", out.stderr);
        assert_eq!(out.stdout, "spin\nclosed\n");
        assert_eq!(
            out.stderr,
            "hotlua: interrupted!\nstack traceback:\n\tbusy.lua:8: in main chunk\n\t[C]: in ?\n"
        );
        assert_eq!(
            std::fs::read_to_string(&path).ok().as_deref(),
            Some("buffered")
        );
        let _ = std::fs::remove_file(&path);
        if sig == libc::SIGINT {
            if let Some(lua) = signal_after(&["busy.lua", &p], b"spin\n", sig, true) {
                assert_eq!(lua.status, out.status);
                assert_eq!(lua.stdout, out.stdout);
                assert_eq!(lua.stderr.replacen("lua5.4:", "hotlua:", 1), out.stderr);
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

#[test]
fn a_signal_interrupts_a_spinning_task_and_the_server_shuts_down() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let path = std::env::temp_dir().join(format!("hotlua_spin_{}_{sig}", std::process::id()));
        let p = path.to_string_lossy().into_owned();
        let out = signal_after(&["spintask.lua", &p], b"spin\n", sig, false).expect("runner");
        assert_eq!(out.status, Some(128 + sig), "stderr: {}", out.stderr);
        assert_eq!(out.stderr, "");
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines[0], "spin", "{}", out.stdout);
        assert_eq!(lines[1], "task closed", "{}", out.stdout);
        assert_eq!(
            log_body(lines[2], 'E'),
            Some("spintask.lua:11 interrupted!"),
            "{}",
            out.stdout
        );
        assert_eq!(lines.last(), Some(&"finalized"), "{}", out.stdout);
        assert!(!out.stdout.contains("not reached"));
        assert_eq!(
            std::fs::read_to_string(&path).ok().as_deref(),
            Some("buffered")
        );
        let _ = std::fs::remove_file(&path);
    }
}

#[test]
fn main_error_objects_print_as_lua_c() {
    let cases = [
        "error(setmetatable({}, {__tostring = function() return 'custom' end}))",
        "error()",
        "error({})",
        "error(42)",
        "local t <close> = setmetatable({}, {__close = function() print('closed') end}) error('x')",
        "local function f() coroutine.wrap(function() error('in co') end)() end f()",
    ];
    let dir = std::env::temp_dir().join(format!("hotlua-runtime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (i, src) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.lua"));
        std::fs::write(&path, src).expect("write case");
        let path = path.to_string_lossy().into_owned();
        let out = run(&[&path]);
        assert_eq!(out.status, Some(1), "{src}");
        if let Some(lua) = lua54(&[&path]) {
            assert_eq!(out.stdout, lua.stdout, "{src}");
            assert_eq!(
                out.stderr.replacen("hotlua:", "lua5.4:", 1),
                lua.stderr,
                "{src}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

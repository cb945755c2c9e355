//! silly.net.tcp end to end: scripts of `tests/lua/net/` run through the server runner in a
//! child process (this test binary re-executed in runner mode, as in runtime.rs), killed if
//! they outlive their time limit.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "HOTLUA_NET_CHILD";

/// Runner mode: when [`CHILD_ENV`] is set, this "test" is the whole process.
#[test]
fn child_process_entry() {
    let Ok(joined) = std::env::var(CHILD_ENV) else {
        return;
    };
    let argv: Vec<String> = joined.split('\x1f').map(str::to_string).collect();
    let status = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let mut vm = hotlua_vm::Vm::new();
            hotlua_stdlib::open::open_libs(&mut vm);
            let st = hotlua_stdlib::silly::runtime::run_command_line(&mut vm, &argv);
            vm.close();
            hotlua_stdlib::io::flush_all();
            st
        })
        .ok()
        .and_then(|h| h.join().ok())
        .unwrap_or(101);
    std::process::exit(status);
}

/// Runs `script` of tests/lua/net; returns (status, stdout without the harness header).
fn run_script(script: &str, limit: Duration) -> (Option<i32>, String, String) {
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(exe)
        .args([
            "child_process_entry",
            "--exact",
            "--quiet",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, script)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/lua/net"))
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
        concurrent\t200\t200\n\
        big\t8388608\n\
        eof\tnil\tclosed\n\
        line limit\tnil\tline too long\n\
        closed\tfalse\n";
    assert!(out.starts_with(expected), "stdout: {out}\nstderr: {err}");
}

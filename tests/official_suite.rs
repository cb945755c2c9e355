//! The official Lua 5.4.4 test suite (issue 15), run from `../shared/lua-5.4.4-tests` when
//! that folder is beside the repository (skipped, with a message, when it is not: the
//! suite is never copied into the project). Portable mode, as the suite's README says:
//! each file standalone from the suite's folder, `-e "_port=true _soft=true _nomsg=true"`,
//! stdin a pipe, `big.lua` inside a coroutine. api.lua and code.lua need PUC's internal `T`
//! library and are not run; all.lua runs the others; heavy.lua is a stress test the README
//! leaves out.
//!
//! Every file must pass except those listed in `KNOWN_FAILURES`, each with its reason; a
//! known failure that starts passing fails the test too, so the list stays true.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Files that do not pass yet, with why (see the closing note).
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn suite() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/lua-5.4.4-tests");
    dir.join("all.lua").is_file().then_some(dir)
}

fn run(dir: &PathBuf, file: &str) -> (bool, String, Duration) {
    let t = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotlua"));
    cmd.arg("-e").arg("_port=true _soft=true _nomsg=true");
    if file == "big.lua" {
        cmd.arg("-e").arg("coroutine.wrap(loadfile('big.lua'))()");
    } else {
        cmd.arg(file);
    }
    let mut child = cmd
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hotlua");
    let _ = child.stdin.take().expect("stdin").write_all(b"\n");
    // A file that hangs is killed after two minutes (the slowest passes in seconds).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("wait for hotlua");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), text, t.elapsed())
}

#[test]
fn official_suite_portable_mode() {
    let Some(dir) = suite() else {
        eprintln!("skipped: ../shared/lua-5.4.4-tests is not beside the repository");
        return;
    };
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("read the suite")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lua"))
        .filter(|n| !["all.lua", "api.lua", "code.lua", "heavy.lua"].contains(&n.as_str()))
        .collect();
    files.sort();
    assert!(files.len() >= 27, "the suite's files: {files:?}");
    let mut wrong = Vec::new();
    for f in &files {
        let (ok, err, took) = run(&dir, f);
        let known = KNOWN_FAILURES.iter().find(|(k, _)| k == f);
        eprintln!(
            "{f:<16} {} {:>6.2} s",
            if ok { "pass" } else { "FAIL" },
            took.as_secs_f64()
        );
        match (ok, known) {
            (true, None) | (false, Some(_)) => {}
            (false, None) => wrong.push(format!(
                "{f} fails: {}",
                err.lines().take(3).collect::<Vec<_>>().join(" | ")
            )),
            (true, Some(_)) => wrong.push(format!("{f} passes now: remove it from KNOWN_FAILURES")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

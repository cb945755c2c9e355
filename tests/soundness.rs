//! Lua programs that used to break memory safety (use after free, out-of-bounds access)
//! must now run to their expected output: each `tests/lua/soundness/*.lua` runs under the
//! `hotlua` program twice, normally and collecting at every safe point
//! (`HOTLUA_GC_STRESS`), and its stdout must equal its `.expected` file (log lines are
//! compared without their timestamp).

use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lua/soundness")
}

/// Drops the `YYYY-MM-DD HH:MM:SS ` prefix of silly.logger lines.
fn without_timestamps(out: &str) -> String {
    out.lines()
        .map(|l| {
            let b = l.as_bytes();
            let stamped = b.len() > 20
                && b[4] == b'-'
                && b[7] == b'-'
                && b[10] == b' '
                && b[13] == b':'
                && b[16] == b':'
                && b[19] == b' ';
            if stamped {
                &l[20..]
            } else {
                l
            }
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn run(script: &Path, stress: bool) -> (String, String, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotlua"));
    cmd.arg(script.file_name().expect("a file name"))
        .current_dir(dir());
    if stress {
        cmd.env("HOTLUA_GC_STRESS", "1");
    }
    let out = cmd.output().expect("run hotlua");
    (
        without_timestamps(&String::from_utf8_lossy(&out.stdout)),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn former_memory_safety_bugs_run_to_their_expected_output() {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/lua/soundness")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 9);
    let mut failures = Vec::new();
    for script in &scripts {
        let expected = std::fs::read_to_string(script.with_extension("expected"))
            .expect("an .expected file beside each script");
        for stress in [false, true] {
            let (out, err, code) = run(script, stress);
            if out != expected || code != Some(0) {
                failures.push(format!(
                    "{} (stress: {stress}): status {code:?}\n--- got\n{out}--- expected\n{expected}--- stderr\n{err}",
                    script.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

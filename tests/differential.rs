//! Differential runs (issue 15 item 4): random programs from `tests/differential/gen.py`
//! run by hotlua and lua5.4 must print the same thing. `cargo test` runs 300 of them when
//! `python3` and `lua5.4` are installed (skipped, with a message, otherwise); the full
//! 10,000 run is `python3 tests/differential/run.py --count 10000`.

use std::process::Command;

#[test]
fn random_programs_agree_with_lua54() {
    let have = |cmd: &str, arg: &str| Command::new(cmd).arg(arg).output().is_ok();
    if !have("python3", "--version") || !have("lua5.4", "-v") {
        eprintln!("skipped: python3 or lua5.4 is not installed");
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("tests/differential/run.py"))
        .args([
            "--count",
            "300",
            "--start",
            "0",
            "--hotlua",
            env!("CARGO_BIN_EXE_hotlua"),
        ])
        .output()
        .expect("run the differential harness");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("300 programs, 0 differences"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

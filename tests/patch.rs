//! The patch engine (issue 13) end to end: each test runs one driver of `tests/lua/patch/`
//! with the `hotlua` binary, in a fresh temporary copy of that directory (drivers install
//! module versions over the module's path), and compares its stdout with the driver's
//! `.expected` file line for line; the driver must exit 0 (a failed check inside it raises).
//! The guide's examples are the project's copy in `tests/guide/examples/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the scenario directory");
    for entry in std::fs::read_dir(from).expect("read tests/lua/patch") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a test file");
        }
    }
}

/// Runs `driver` (a file of tests/lua/patch) with `args`; checks its output.
fn run(driver: &str, args: &[&str]) {
    run_env(driver, args, &[]);
}

fn run_env(driver: &str, args: &[&str], env: &[(&str, &str)]) {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "hotlua-patch-{}-{}-{n}",
        std::process::id(),
        driver.trim_end_matches(".lua")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let src = root().join("tests/lua/patch");
    copy_dir(&src, &dir);
    let out = Command::new(env!("CARGO_BIN_EXE_hotlua"))
        .arg(driver)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(&dir)
        .output()
        .expect("run hotlua");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{driver} failed ({}):\n--- stdout\n{stdout}--- stderr\n{stderr}",
        out.status
    );
    let expected_path = src.join(driver.replace(".lua", ".expected"));
    let expected = std::fs::read_to_string(&expected_path).expect("read the .expected file");
    let got: Vec<&str> = stdout.lines().collect();
    let want: Vec<&str> = expected.lines().collect();
    assert_eq!(got, want, "{driver}: stdout differs (stderr: {stderr})");
}

/// The guide's examples, written out in `tests/guide/examples/` (the guide's three examples with
/// its lost line breaks restored; `tests/guide.rs` checks they match `../shared` when present).
fn examples() -> String {
    root()
        .join("tests/guide/examples")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn guide_example1_route_through_hotlua_reload() {
    let ex = examples();
    run("guide_route.lua", &[&ex]);
}

#[test]
fn guide_example2_game_through_hotlua_reload() {
    let ex = examples();
    run("guide_game.lua", &[&ex]);
}

#[test]
fn guide_example3_config_through_hotlua_reload() {
    let ex = examples();
    run("guide_config.lua", &[&ex]);
}

#[test]
fn versions_are_matched_by_declaration_identity() {
    run("identity.lua", &[]);
}

#[test]
fn live_closures_are_updated_in_place_wherever_held() {
    run("holders.lua", &[]);
}

#[test]
fn an_uncaptured_module_local_is_kept_as_state() {
    run("uncaptured.lua", &[]);
}

#[test]
fn module_table_fields_follow_the_keep_rule() {
    run("fields.lua", &[]);
}

#[test]
fn a_failure_at_any_step_leaves_everything_as_before() {
    run("fail_steps.lua", &[]);
}

#[test]
fn a_sleeping_frame_finishes_on_the_old_version() {
    run("frames.lua", &[]);
}

#[test]
fn a_reload_past_its_deadline_is_stopped_and_rolled_back() {
    run("deadline.lua", &[]);
}

#[test]
fn plan_reports_and_changes_nothing() {
    run("plan.lua", &[]);
}

#[test]
fn rollback_restores_the_previous_code_and_keeps_state() {
    run("rollback.lua", &[]);
}

/// Every driver again with a full collection at each allocation safe point: whatever the
/// engine keeps across the new chunks' run and the verify callback must be rooted.
#[test]
fn every_driver_under_gc_stress() {
    for d in [
        "holders.lua",
        "uncaptured.lua",
        "fields.lua",
        "fail_steps.lua",
        "frames.lua",
        "plan.lua",
        "rollback.lua",
        "identity.lua",
    ] {
        run_env(d, &[], &[("HOTLUA_GC_STRESS", "1")]);
    }
}

//! Conformance: the hot reload guide as tests (issue 6).
//!
//! Each test runs the `hotlua` binary on a driver script from `tests/guide/<scenario>/` in a
//! fresh temporary directory holding a copy of that scenario, `tests/guide/support.lua` and,
//! for the guide's three complete examples, the example files copied VERBATIM from
//! `tests/guide/examples/` (kept equal to `../shared/seed/examples`). The drivers assert what
//! the guide promises (a failed assertion exits non-zero); this file checks the exit status and the exact stdout lines. Logger
//! lines are matched after their timestamp, whose shape is checked separately.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long one run of a driver may take (the timer scenarios need about 4 s).
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Distinguishes the temporary directories of tests running in parallel.
static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The guide's examples as clean files (its three complete examples with the line breaks its text
/// lost restored), part of the project so that a fresh clone tests them.
fn examples_dir() -> PathBuf {
    manifest_dir().join("tests/guide/examples")
}

/// The project's copy of the guide's examples is the maintained one in `../shared/seed/examples`,
/// byte for byte (skipped, with a message, when `../shared` is not beside the repository).
#[test]
fn guide_examples_match_the_shared_seed() {
    let shared = manifest_dir().join("../shared/seed/examples");
    if !shared.join("README.md").is_file() {
        eprintln!("skipped: {} is absent", shared.display());
        return;
    }
    let mut names: Vec<String> = std::fs::read_dir(&shared)
        .expect("read the shared examples")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lua"))
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        9,
        "the guide has three examples of three files each"
    );
    for n in &names {
        let want = std::fs::read(shared.join(n)).expect("read a shared example");
        let got = std::fs::read(examples_dir().join(n))
            .unwrap_or_else(|e| panic!("tests/guide/examples/{n}: {e}"));
        assert!(
            got == want,
            "tests/guide/examples/{n} differs from the shared seed"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", path.display()));
        }
    }
}

/// One scenario's private working directory, removed when the test ends.
struct Scenario {
    dir: PathBuf,
}

impl Scenario {
    /// A fresh directory holding `tests/guide/<name>/` and `support.lua`.
    fn new(name: &str) -> Scenario {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("hotlua-guide-{}-{name}-{n}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove a stale scenario directory");
        }
        let guide = manifest_dir().join("tests/guide");
        copy_dir(&guide.join(name), &dir);
        std::fs::copy(guide.join("support.lua"), dir.join("support.lua"))
            .expect("copy support.lua");
        Scenario { dir }
    }

    /// Copies the guide's example files verbatim into the scenario directory.
    fn with_examples(self, files: &[&str]) -> Scenario {
        let examples = examples_dir();
        for f in files {
            let from = examples.join(f);
            std::fs::copy(&from, self.dir.join(f))
                .unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
        }
        self
    }

    /// Runs `hotlua <script> <args>` in the scenario directory; returns (success, stdout lines with
    /// logger timestamps stripped, stderr). A run that outlives [`RUN_LIMIT`] (a timer that
    /// never stops, a hung loop) is killed and fails the test instead of hanging the suite.
    fn run(&self, script: &str, args: &[&str]) -> (bool, Vec<String>, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotlua"))
            .arg(script)
            .args(args)
            .current_dir(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run hotlua");
        // Drain both pipes while waiting, so a chatty script cannot block on a full pipe.
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut buf);
                }
                String::from_utf8_lossy(&buf).into_owned()
            })
        };
        let out = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let err = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for hotlua") {
                break Some(status);
            }
            if started.elapsed() > RUN_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = out.join().expect("stdout reader");
        let stderr = err.join().expect("stderr reader");
        let Some(status) = status else {
            panic!("{script} ran longer than {RUN_LIMIT:?}; stdout so far:\n{stdout}");
        };
        (
            status.success(),
            stdout.lines().map(strip_timestamp).collect(),
            stderr,
        )
    }

    /// Runs a driver that must succeed and returns its stdout lines.
    fn pass(&self, script: &str) -> Vec<String> {
        self.pass_args(script, &[])
    }

    /// Runs a driver with arguments (`arg[1]`...) that must succeed; returns its stdout lines.
    fn pass_args(&self, script: &str, args: &[&str]) -> Vec<String> {
        let (ok, lines, stderr) = self.run(script, args);
        assert!(
            ok,
            "{script} failed:\n--- stderr\n{stderr}--- stdout\n{}",
            lines.join("\n")
        );
        lines
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A logger line `YYYY-MM-DD HH:MM:SS L rest` becomes ` L rest` after its timestamp's shape
/// is checked; other lines are returned as they are.
fn strip_timestamp(line: &str) -> String {
    let b = line.as_bytes();
    let is_log = b.len() >= 22 && b[19] == b' ' && b"DIWE".contains(&b[20]) && b[21] == b' ';
    if !is_log || !b[0].is_ascii_digit() {
        return line.to_string();
    }
    for (i, &c) in b[..19].iter().enumerate() {
        let ok = match i {
            4 | 7 => c == b'-',
            10 => c == b' ',
            13 | 16 => c == b':',
            _ => c.is_ascii_digit(),
        };
        assert!(ok, "malformed logger timestamp in {line:?}");
    }
    line[19..].to_string()
}

/// Asserts the lines equal `expected`, in order.
fn assert_lines(lines: &[String], expected: &[&str]) {
    let got: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_eq!(got, expected, "stdout lines differ");
}

/// Asserts the lines equal `expected` as a multiset (for output whose order follows `pairs`).
fn assert_line_set(lines: &[String], expected: &[&str]) {
    let mut got: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut want = expected.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "stdout lines differ (as a set)");
}

// ---------------------------------------------------------------------------------------------
// The guide's three complete examples, hotfix scripts verbatim.

#[test]
fn example1_route_keeps_access_count_and_adds_error_count() {
    let s = Scenario::new("example_route").with_examples(&[
        "route_v1.lua",
        "route_v2.lua",
        "hotfix_route.lua",
    ]);
    let lines = s.pass("driver.lua");
    assert_lines(
        &lines,
        &[
            "response\t200\tHello, visitor #1",
            "response\t200\tHello, visitor #2",
            "response\t200\tHello, visitor #3",
            " I hotfix_route.lua:7 Before hotfix - Stats: {total=3}",
            " W hotfix_route.lua:25 New upvalues detected: $.get_stats.error_count, $.handle_request.error_count",
            " I hotfix_route.lua:31 After hotfix - Stats: {errors=0, total=3}",
            " I hotfix_route.lua:32 Hotfix applied successfully",
            "response\t400\tError: name is required",
            "response\t200\tHello, carol (visitor #5)",
            "response\t200\tHello, dave (visitor #6)",
            "response\t400\tError: name is required",
            "stats\t7\t2",
            "done",
        ],
    );
}

#[test]
fn example1_route_hotfix_applied_twice_finds_nothing_new_and_keeps_counting() {
    let s = Scenario::new("example_route").with_examples(&[
        "route_v1.lua",
        "route_v2.lua",
        "hotfix_route.lua",
    ]);
    let lines = s.pass("driver_twice.lua");
    assert_lines(
        &lines,
        &[
            " I hotfix_route.lua:7 Before hotfix - Stats: {total=2}",
            " W hotfix_route.lua:25 New upvalues detected: $.get_stats.error_count, $.handle_request.error_count",
            " I hotfix_route.lua:31 After hotfix - Stats: {errors=0, total=2}",
            " I hotfix_route.lua:32 Hotfix applied successfully",
            " I hotfix_route.lua:7 Before hotfix - Stats: {errors=1, total=4}",
            " I hotfix_route.lua:31 After hotfix - Stats: {errors=1, total=4}",
            " I hotfix_route.lua:32 Hotfix applied successfully",
            "done",
        ],
    );
}

#[test]
fn example2_game_migrates_players_and_levels_up() {
    let s = Scenario::new("example_game").with_examples(&[
        "game_v1.lua",
        "game_v2.lua",
        "hotfix_game.lua",
    ]);
    let lines = s.pass("driver.lua");
    assert_lines(
        &lines,
        &[
            " I hotfix_game.lua:29 Migrated 3 existing players",
            " I hotfix_game.lua:30 Hotfix applied successfully",
            "alice\t6100\t4\t5",
            "dave\t1000\t2\t0",
            "done",
        ],
    );
}

#[test]
fn example3_config_keeps_changes_merges_new_settings_and_validates() {
    let s = Scenario::new("example_config").with_examples(&[
        "config_v1.lua",
        "config_v2.lua",
        "hotfix_config.lua",
    ]);
    let lines = s.pass("driver.lua");
    let (added, rest) = lines.split_at(lines.len().min(2));
    // The merge loop walks the new settings with `pairs`: its two lines come in any order.
    assert_line_set(
        added,
        &[
            " I hotfix_config.lua:21 Added new config: enable_cache = true",
            " I hotfix_config.lua:21 Added new config: cache_ttl = 300",
        ],
    );
    assert_lines(
        rest,
        &[
            " I hotfix_config.lua:30 Config hotfix applied successfully",
            "error\t./config.lua:28: Invalid value for timeout",
            "done",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Inline snippets: basic process, upvalue continuity, rollback.

#[test]
fn basic_process_five_steps_keep_state_and_warn_about_absent_upvalues() {
    let lines = Scenario::new("basic_process").pass("driver.lua");
    assert_lines(
        &lines,
        &[
            "Warning: new module has upvalues not in old module:",
            " $.add.calls",
            " $.add.history",
            "count\t13\tcalls\t1",
            "done",
        ],
    );
}

#[test]
fn continuity_direct_replacement_resets_state() {
    let lines = Scenario::new("continuity").pass("driver_direct.lua");
    assert_lines(&lines, &["direct\t2", "done"]);
}

#[test]
fn continuity_patch_keeps_count() {
    let lines = Scenario::new("continuity").pass("driver_patch.lua");
    assert_lines(&lines, &["patched\t103\t105", "done"]);
}

#[test]
fn rollback_after_too_many_absent_upvalues_restores_old_functions() {
    let s = Scenario::new("rollback");
    let lines = s.pass_args(
        "driver.lua",
        &["mymodule_v1.lua", "mymodule_v2_bad.lua", "fail"],
    );
    assert_lines(
        &lines,
        &[
            " E rollback.lua:34 Hotfix failed: rollback.lua:24: Too many missing upvalues: \
             $.add.calls, $.add.limit, $.size.zone, $.total.scale",
            " I rollback.lua:35 Rolling back...",
            " I rollback.lua:40 Rollback completed",
            "rolled back\t17\t3",
            "done",
        ],
    );
}

#[test]
fn rollback_after_failing_part_way_through_replacement_restores_old_functions() {
    let s = Scenario::new("rollback");
    let lines = s.pass_args(
        "driver.lua",
        &["mymodule_v1_sealed.lua", "mymodule_v2.lua", "fail"],
    );
    assert_lines(
        &lines,
        &[
            " E rollback.lua:34 Hotfix failed: rollback.lua:29: mymodule is sealed: cannot add calls",
            " I rollback.lua:35 Rolling back...",
            " I rollback.lua:40 Rollback completed",
            "rolled back\t17\t3",
            "done",
        ],
    );
}

#[test]
fn rollback_success_path_applies_the_new_version() {
    let s = Scenario::new("rollback");
    let lines = s.pass_args("driver.lua", &["mymodule_v1.lua", "mymodule_v2.lua", "ok"]);
    assert_lines(
        &lines,
        &[
            " I rollback.lua:42 Hotfix applied successfully",
            "applied\t27\t3",
            "done",
        ],
    );
}

/// The reload succeeds (join and replacement loop), then the guide's rollback loop restores
/// the old fields from the backup: the old hello calls the old local greet again, because
/// join never writes a new function into an old cell.
#[test]
fn rollback_after_a_successful_reload_brings_back_the_old_local_helper() {
    let lines = Scenario::new("rollback").pass("driver_helper.lua");
    assert_lines(&lines, &["Hi, bob! #2", "Hello, dee #4", "done"]);
}

// ---------------------------------------------------------------------------------------------
// silly's own patch test (upstream test/testpatch.lua), its five cases as our scripts.

const UPSTREAM_CASES: [&str; 6] = [
    "case1 ok", "case2 ok", "case3 ok", "case4 ok", "case5 ok", "done",
];

#[test]
fn silly_upstream_cases_with_versions_loaded_by_load() {
    let lines =
        Scenario::new("silly_upstream").pass_args("driver.lua", &["load", "1", "2", "3", "4", "5"]);
    assert_lines(&lines, &UPSTREAM_CASES);
}

#[test]
fn silly_upstream_cases_with_versions_loaded_by_require() {
    let lines = Scenario::new("silly_upstream")
        .pass_args("driver.lua", &["require", "1", "2", "3", "4", "5"]);
    assert_lines(&lines, &UPSTREAM_CASES);
}

// ---------------------------------------------------------------------------------------------
// "7. Test Hot Reload" and the four troubleshooting cases.

#[test]
fn test_hotfix_script_passes_verbatim() {
    let lines = Scenario::new("test_hotfix").pass("driver.lua");
    assert_lines(&lines, &["Hotfix test passed", "done"]);
}

#[test]
fn trouble1_unconnected_upvalue_fails_with_the_guides_message() {
    let lines =
        Scenario::new("trouble1_upvalue_loss").pass_args("driver.lua", &["reload_nojoin.lua"]);
    assert_lines(
        &lines,
        &[
            "error\t./mymodule.lua:11: attempt to index a nil value (upvalue 'config')",
            "done",
        ],
    );
}

#[test]
fn trouble1_join_connects_the_lazily_initialised_upvalue() {
    let lines =
        Scenario::new("trouble1_upvalue_loss").pass_args("driver.lua", &["reload_join.lua"]);
    assert_lines(
        &lines,
        &["Missing upvalues:\t$.init.retries", "timeout\t5000", "done"],
    );
}

#[test]
fn trouble2_reversed_join_resets_state() {
    let lines = Scenario::new("trouble2_join_order").pass_args("driver.lua", &["wrong"]);
    assert_lines(&lines, &["wrong\t0\t0", "done"]);
}

#[test]
fn trouble2_join_new_to_old_keeps_state() {
    let lines = Scenario::new("trouble2_join_order").pass_args("driver.lua", &["right"]);
    assert_lines(&lines, &["right\t11\t11", "done"]);
}

#[test]
fn trouble3_isolated_env_keeps_globals_out_until_merged() {
    let lines = Scenario::new("trouble3_global_env").pass("driver.lua");
    assert_lines(&lines, &["<Hello, bob>\t2", "done"]);
}

#[test]
fn trouble4_batch_reload_of_three_modules_keeps_each_state() {
    let lines = Scenario::new("trouble4_batch").pass("driver.lua");
    assert_lines(&lines, &["a:3\tb:9\tc:1,1,5,2 owner total 16", "done"]);
}

// ---------------------------------------------------------------------------------------------
// Debugging tips and version management.

#[test]
fn debug_tip1_print_upval_tree() {
    let lines = Scenario::new("debugging").pass_args("driver.lua", &["tip1_print_upval_tree.lua"]);
    assert_line_set(
        &lines,
        &[
            "add:",
            " [1] count (number)",
            "get:",
            " [1] helper (function)",
            " helper:",
            "  [1] count (number)",
            "show:",
            " [1] _ENV (table)",
            " [2] count (number)",
        ],
    );
    // Each function's block starts with its name; the nested helper follows get's line.
    let at = |l: &str| lines.iter().position(|x| x == l).expect("line present");
    assert_eq!(at(" helper:"), at(" [1] helper (function)") + 1);
    assert_eq!(at("  [1] count (number)"), at(" helper:") + 1);
}

#[test]
fn debug_tip2_compare_upvals() {
    let lines = Scenario::new("debugging").pass_args("driver.lua", &["tip2_compare_upvals.lua"]);
    let (added, removed) = lines.split_at(3);
    assert_line_set(
        added,
        &[
            "+ New upvalue: add.calls",
            "+ New upvalue: show.helper",
            "+ New upvalue: reset.count",
        ],
    );
    assert_lines(removed, &["- Removed upvalue: show.count"]);
}

#[test]
fn debug_tip3_verify_hotfix() {
    let lines = Scenario::new("debugging").pass_args("driver.lua", &["tip3_verify_hotfix.lua"]);
    assert_lines(
        &lines,
        &[
            "Warning: show not replaced",
            "Version updated: 1.2.2 -> 1.2.3",
            "--",
            "Warning: VERSION not updated",
            "count\t4",
        ],
    );
}

#[test]
fn version_check_passes_and_the_update_brings_the_new_version() {
    let lines = Scenario::new("version").pass_args("driver.lua", &["mymodule_v1.lua"]);
    assert_lines(&lines, &["updated\t1.2.3\t6", "done"]);
}

#[test]
fn version_check_refuses_an_unexpected_running_version() {
    let lines = Scenario::new("version").pass_args("driver.lua", &["mymodule_v2.lua"]);
    assert_lines(
        &lines,
        &[
            "refused\tversion_check.lua:7: Version mismatch: expected 1.2.2, got 1.2.3",
            "done",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Beyond the guide: where silly's Lua implementation fails, hotlua does the right thing.

#[test]
fn beyond_type_change_is_a_conflict_left_unjoined() {
    let lines = Scenario::new("beyond").pass("driver_type_change.lua");
    assert_lines(
        &lines,
        &["conflicts\t$.check.limit, $.get_limit.limit", "done"],
    );
}

#[test]
fn beyond_native_functions_are_leaves() {
    let lines = Scenario::new("beyond").pass("driver_native.lua");
    assert_lines(&lines, &["v2: hi", "done"]);
}

#[test]
fn beyond_absent_is_sorted_and_stable_across_runs() {
    let s = Scenario::new("beyond");
    let first = s.pass("driver_sorted.lua");
    assert_lines(
        &first,
        &[
            "$.aa.delta $.aa.kilo $.aa.zeta $.get.alpha $.get.zeta $.mm.alpha $.mm.delta \
             $.zz.beta $.zz.mid $.zz.yank",
            "done",
        ],
    );
    assert_eq!(
        s.pass("driver_sorted.lua"),
        first,
        "a second process gives the same list"
    );
}

#[test]
fn beyond_recursive_function_and_shared_helper_are_visited_once() {
    let lines = Scenario::new("beyond").pass("driver_graph.lua");
    assert_lines(&lines, &["stats\t53\t13", "done"]);
}

#[test]
fn beyond_join_to_an_open_upvalue_of_a_running_function() {
    let lines = Scenario::new("beyond").pass("driver_open.lua");
    assert_lines(&lines, &["done"]);
}

#[test]
fn beyond_reloads_in_a_row_keep_state() {
    let lines = Scenario::new("beyond").pass("driver_repeat.lua");
    assert_lines(&lines, &["done"]);
}

/// silly's rule: an upvalue holding a function is recursed into, never joined. Held old
/// closures keep the old local functions (and a callback installed at run time); the new
/// closures run the new ones.
#[test]
fn beyond_function_upvalues_are_never_joined_so_held_closures_keep_old_code() {
    let lines = Scenario::new("beyond").pass("driver_callback.lua");
    assert_lines(&lines, &["done"]);
}

/// The consistency pass: a function only the new version has reads the old module's state
/// of a variable no matched function shares with it, when the old version was `require`d
/// (whether the new one is `require`d, as the guide does, or run with `dofile`); with both
/// versions plain chunks it sees its own chunk's state, as with silly.
#[test]
fn beyond_a_new_function_sees_the_running_module_state() {
    for (how, hits) in [("require", "2"), ("dofile", "2"), ("load", "0")] {
        let lines = Scenario::new("beyond").pass_args("driver_module_state.lua", &[how]);
        let want = format!("{how}\t{hits}");
        assert_lines(&lines, &[want.as_str(), "done"]);
    }
}

#[test]
fn beyond_join_rules_of_the_spec() {
    let lines = Scenario::new("beyond").pass("driver_rules.lua");
    assert_lines(&lines, &["done"]);
}

#[test]
fn beyond_deep_closure_chain_is_collected_and_joined() {
    let lines = Scenario::new("beyond").pass("driver_deep.lua");
    assert_lines(&lines, &["depth\t20000", "done"]);
}

// ---------------------------------------------------------------------------------------------
// Upvalue structure (best practice 1) and the production hotfix script (without the console).

#[test]
fn stable_upvalue_structure_joins_to_the_running_config() {
    let lines = Scenario::new("structure").pass_args("driver.lua", &["stable"]);
    assert_lines(&lines, &["stable\t1000", "done"]);
}

#[test]
fn deleted_upvalue_leaves_nothing_to_join() {
    let lines = Scenario::new("structure").pass_args("driver.lua", &["deleted"]);
    assert_lines(&lines, &["deleted\t2000", "done"]);
}

#[test]
fn production_hotfix_script_keeps_sessions_and_logs() {
    let lines = Scenario::new("production").pass("driver.lua");
    assert_lines(
        &lines,
        &[
            " I hotfix_20251014.lua:6 Starting hotfix 20251014...",
            " I hotfix_20251014.lua:21 Hotfix 20251014 completed successfully",
            " W hotfix_20251014.lua:23 New upvalues: $.login.logins",
            "done",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Snippets that need silly.time and the event loop.

/// Checks the guide's hotfix log line: ` L hotfix_log.lua:N <head>timestamp=<number><tail>`.
fn assert_log_entry(line: &str, head: &str, tail: &str) {
    let rest = line
        .strip_prefix(head)
        .unwrap_or_else(|| panic!("{line:?} should start with {head:?}"));
    let rest = rest
        .strip_prefix("timestamp=")
        .unwrap_or_else(|| panic!("no timestamp in {line:?}"));
    let digits = rest
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(rest.len());
    assert!(digits > 0, "timestamp is not a number in {line:?}");
    assert_eq!(&rest[digits..], tail, "log entry tail");
}

#[test]
fn hotfix_log_records_success_and_failure() {
    let s = Scenario::new("hotfix_log");
    let lines = s.pass_args("driver.lua", &["mymodule_v2.lua"]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_log_entry(
        &lines[0],
        " I hotfix_log.lua:16 Hotfix applied: {module=mymodule, success=true, ",
        ", version_new=1.2.3, version_old=1.2.2}",
    );
    assert_lines(&lines[1..], &["hit\t11\t1.2.3", "done"]);
    let lines = s.pass_args("driver.lua", &["mymodule_v2_broken.lua"]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_log_entry(
        &lines[0],
        " E hotfix_log.lua:18 Hotfix failed: {error=./mymodule.lua:3: broken build, module=mymodule, \
         success=false, ",
        ", version_new=1.2.2, version_old=1.2.2}",
    );
    assert_lines(&lines[1..], &["hit\t2\t1.2.2", "done"]);
}

#[test]
fn async_timer_holding_the_old_function_keeps_running_old_code() {
    let lines = Scenario::new("async").pass("driver_problem.lua");
    assert_lines(
        &lines,
        &[
            "Count:\t1",
            "Count:\t2",
            "reload\t0",
            "Count:\t3",
            "Count v2:\t4",
            "Count:\t5",
            "done",
        ],
    );
}

/// The guide claims Solution 1 updates the timer; under silly's rules (which silly.patch
/// keeps) the timer's old wrapper calls the old timer_func through its old cell, on the
/// shared count.
#[test]
fn async_indirect_invocation_with_silly_patch_keeps_old_code_in_the_timer() {
    let lines = Scenario::new("async").pass("driver_indirect.lua");
    assert_lines(
        &lines,
        &[
            "Count:\t1",
            "Count:\t2",
            "reload\t0",
            "Count:\t3",
            "Count:\t4",
            "done",
        ],
    );
}

/// The same timer reloaded with `hotlua.reload`: the engine swaps the closures in place,
/// so the guide's claim holds (the timer runs the new code on the same count).
#[test]
fn async_indirect_invocation_with_hotlua_reload_runs_new_code() {
    let lines = Scenario::new("async").pass("driver_indirect_engine.lua");
    assert_lines(
        &lines,
        &[
            "Count:\t1",
            "Count:\t2",
            "reload\ttrue\tnil",
            "Count v2:\t3",
            "Count v2:\t4",
            "done",
        ],
    );
}

#[test]
fn async_restarting_the_timer_runs_new_code() {
    let lines = Scenario::new("async").pass("driver_restart.lua");
    assert_lines(
        &lines,
        &[
            "Count:\t1",
            "Count:\t2",
            "Count v2:\t3",
            "Count v2:\t4",
            "done",
        ],
    );
}

// Solution 1 without timers: a reference to the wrapper taken before the reload stands for
// the timer's.

#[test]
fn async_solution1_held_wrapper_calling_through_an_upvalue_keeps_old_code_with_silly_patch() {
    let lines = Scenario::new("async").pass_args("driver_held.lua", &["upvalue"]);
    assert_lines(
        &lines,
        &[
            "Count:\t1",
            "Count:\t2",
            "Count:\t3",
            "Count v2:\t4",
            "done",
        ],
    );
}

#[test]
fn async_solution1_held_wrapper_calling_through_an_upvalue_runs_new_code_with_hotlua_reload() {
    let lines = Scenario::new("async").pass_args("driver_held.lua", &["upvalue", "engine"]);
    assert_lines(
        &lines,
        &[
            "Count:\t1",
            "Count:\t2",
            "Count v2:\t3",
            "Count v2:\t4",
            "done",
        ],
    );
}

#[test]
fn async_solution1_held_wrapper_calling_through_a_module_field_runs_new_code() {
    let lines = Scenario::new("async").pass_args("driver_held.lua", &["field"]);
    assert_lines(
        &lines,
        &[
            "Count:\t1",
            "Count:\t2",
            "Count v2:\t3",
            "Count v2:\t4",
            "done",
        ],
    );
}

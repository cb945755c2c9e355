//! Runs the Lua scripts of `tests/lua/stdlib/` under hotlua (this test binary re-executes
//! itself as the interpreter, with every library opened) and, when `lua5.4` is installed,
//! under lua5.4 too, and requires the same standard output and exit status.
//!
//! Each script asserts its own expectations and ends with a line saying it finished, so a
//! script that stops early fails even without lua5.4 at hand.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment variable that turns this test binary into a script runner.
const CHILD_ENV: &str = "HOTLUA_STDLIB_CHILD";
const BEGIN: &str = "\u{1}@@hotlua-begin@@";
const END: &str = "\u{1}@@hotlua-end@@";

fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lua/stdlib")
}

/// In the child: runs the script named by the environment, between markers, and exits
/// with the interpreter's status (os.exit may exit earlier on its own).
#[test]
fn child_runner() {
    let Ok(script) = std::env::var(CHILD_ENV) else {
        return;
    };
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", BEGIN);
    let _ = out.flush();
    let mut vm = hotlua_stdlib::open::new_vm();
    // As the `hotlua` program does: `arg[0]` is the script (names.lua lists `arg` too).
    let arg = vm.new_table();
    let name = vm.str_value(script.as_str());
    arg.get_mut().set_int(0, name);
    vm.set_global("arg", hotlua_vm::Value::Table(arg));
    let code =
        match hotlua_stdlib::open::load_chunk_file(&mut vm, Some(script.as_bytes()), None, None)
            .map_err(|e| vm.to_display(e))
            .and_then(|f| hotlua_vm::docall::docall(&mut vm, f, &[]).map(|_| ()))
        {
            Ok(()) => 0,
            Err(msg) => {
                let _ = vm.stdout().flush();
                eprintln!("hotlua: {msg}");
                1
            }
        };
    vm.close();
    let _ = write!(out, "\n{}\n", END);
    let _ = out.flush();
    std::process::exit(code);
}

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn run_hotlua(script: &Path) -> Run {
    run_hotlua_input(script, b"")
}

/// Runs a command with `input` on its standard input.
fn output_with_input(cmd: &mut Command, input: &[u8]) -> std::io::Result<std::process::Output> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(input)?;
    }
    child.wait_with_output()
}

fn run_hotlua_input(script: &Path, input: &[u8]) -> Run {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    let out = cmd
        .args(["--exact", "child_runner", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, script)
        .env("TZ", "UTC")
        .env_remove("LUA_PATH")
        .env_remove("LUA_PATH_5_4")
        .env_remove("LUA_CPATH")
        .env_remove("LUA_CPATH_5_4")
        .current_dir(script_dir());
    let out = output_with_input(out, input).expect("spawn child");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // Keep what lies between the markers (os.exit skips the end marker).
    let start = text.find(BEGIN).map(|i| i + BEGIN.len() + 1).unwrap_or(0);
    let body = &text[start..];
    let body = match body.find(&format!("\n{}", END)) {
        Some(e) => &body[..e],
        None => body,
    };
    Run {
        stdout: body.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

fn run_lua54(script: &Path) -> Option<Run> {
    run_lua54_input(script, b"")
}

fn run_lua54_input(script: &Path, input: &[u8]) -> Option<Run> {
    let mut cmd = Command::new("lua5.4");
    let out = cmd
        .arg(script)
        .env("TZ", "UTC")
        .env_remove("LUA_INIT")
        .env_remove("LUA_INIT_5_4")
        .env_remove("LUA_PATH")
        .env_remove("LUA_PATH_5_4")
        .env("LUA_CPATH", "")
        .current_dir(script_dir());
    let out = output_with_input(out, input).ok()?;
    Some(Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    })
}

/// Runs one script under both and compares.
fn check(name: &str) {
    check_input(name, b"")
}

/// Runs one script under both with `input` on stdin and compares.
fn check_input(name: &str, input: &[u8]) {
    let script = script_dir().join(name);
    assert!(script.exists(), "missing {}", script.display());
    let h = run_hotlua_input(&script, input);
    assert!(
        h.stdout
            .contains(&format!("{} done", name.trim_end_matches(".lua"))),
        "{name}: hotlua did not finish (status {:?})\nstdout:\n{}\nstderr:\n{}",
        h.code,
        h.stdout,
        h.stderr
    );
    if let Some(l) = run_lua54_input(&script, input) {
        assert_eq!(
            h.stdout, l.stdout,
            "{name}: stdout differs from lua5.4 (left hotlua)\nstderr: {}",
            h.stderr
        );
        assert_eq!(h.code, l.code, "{name}: exit status differs from lua5.4");
    }
}

/// `debug.debug` reads commands from stdin (errors go to stderr) until `cont`.
#[test]
fn debug_prompt_runs_commands_until_cont() {
    check_input(
        "debug_prompt.lua",
        b"x = 1 + 1\nerror('boom')\nx =\nprint('cmd', x)\ncont\nx = 99\n",
    );
}

#[test]
fn utf8_lib() {
    check("utf8.lua");
}

#[test]
fn math_lib() {
    check("math.lua");
}

#[test]
fn table_lib() {
    check("table.lua");
}

#[test]
fn io_lib() {
    check("io.lua");
}

#[test]
fn os_lib() {
    check("os.lua");
}

#[test]
fn package_lib() {
    check("package.lua");
}

/// `os.exit` flushes pending output and exits with its status.
#[test]
fn exit_status_and_flush() {
    let h = run_hotlua(&script_dir().join("exit.lua"));
    assert_eq!(h.code, Some(3), "stderr: {}", h.stderr);
    assert_eq!(h.stdout, "no newline at exit ...exit done\n");
}

#[test]
fn every_lua54_name_exists() {
    let script = script_dir().join("names.lua");
    let h = run_hotlua(&script);
    assert!(h.stdout.contains("names done"), "stderr: {}", h.stderr);
    let Some(l) = run_lua54(&script) else { return };
    let ours: std::collections::HashSet<&str> = h.stdout.lines().collect();
    // Every global and library field of lua5.4 exists in hotlua, with the same type.
    let missing: Vec<&str> = l.stdout.lines().filter(|n| !ours.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "names missing in hotlua: {}",
        missing.join(" ")
    );
}

#[test]
fn small_semantics_of_the_official_suite() {
    check("small_semantics.lua");
}

#[test]
fn limits_and_warnings_as_lua54() {
    check("limits_and_warnings.lua");
}

#[test]
fn finalizers_at_close_as_lua54() {
    check("close_finalizers.lua");
}

#[test]
fn dofile_chunks_may_yield() {
    check("dofile_yield.lua");
}

#[test]
fn error_messages() {
    check("errors.lua");
}

#[test]
fn sort_matches_lua_order() {
    check("sort.lua");
}

/// Reading stdin: numbers, lines, `io.lines()`, EOF results, and stdout flushed first.
#[test]
fn stdin_reading() {
    check_input("stdin.lua", b" 12 0x10 rest of line\nsecond\nthird\nfourth");
}

/// A file left open is still written out when the Vm is dropped without `close`.
#[test]
fn unclosed_file_is_flushed_when_the_vm_goes() {
    let path = std::env::temp_dir().join(format!("hotlua_libs_unclosed_{}", std::process::id()));
    let src = format!(
        "F = io.open({:?}, 'w') F:write('kept', 1, 2.5)",
        path.to_string_lossy()
    );
    {
        let mut vm = hotlua_stdlib::open::new_vm();
        let f = vm.load(src.as_bytes(), "=t", None).expect("compiles");
        vm.call(f, &[]).expect("runs");
    }
    assert_eq!(
        std::fs::read_to_string(&path).expect("file written"),
        "kept12.5"
    );
    let _ = std::fs::remove_file(&path);
}

/// Libraries are reachable through `package.loaded` and `require` gives the same tables.
#[test]
fn libraries_are_registered_as_loaded() {
    let mut vm = hotlua_stdlib::open::new_vm();
    let src = "for _, n in ipairs{'table','math','os','io','utf8','string','package'} do \
               assert(require(n) == _G[n] and package.loaded[n] == _G[n], n) end return true";
    let f = vm.load(src.as_bytes(), "=t", None).expect("compiles");
    let r = vm
        .call(f, &[])
        .unwrap_or_else(|e| panic!("{}", vm.to_display(e.value)));
    assert!(matches!(r.first(), Some(hotlua_vm::Value::Bool(true))));
}

#[test]
fn random_table_operations() {
    check("table_ops.lua");
}

#[test]
fn values_survive_collections_inside_callbacks() {
    check("gc_stress.lua");
}

#[test]
fn utf8_random_strings() {
    check("utf8_fuzz.lua");
}

#[test]
fn math_argument_grid() {
    check("math_fuzz.lua");
}

//! Runs every `tests/lua/vm/*.lua` script in the VM and compares its output (stdout, then
//! `hotlua: <error>` for an uncaught error) with the script's `.expected` file, and with
//! `lua5.4` itself when it is installed. Scripts print no addresses, so outputs are exact.
//! `LUA_SCRIPT=name cargo test -p hotlua-vm --test lua_scripts` runs the matching ones only.

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lua/vm")
}

/// Output of a script under hotlua, as `lua` prints it (stdout, then the error line).
fn run_hotlua(name: &str, source: Vec<u8>) -> String {
    run_hotlua_with(name, source, false)
}

/// `stress`: collect at every safe point.
fn run_hotlua_with(name: &str, source: Vec<u8>, stress: bool) -> String {
    run_hotlua_as(name, source, stress, false)
}

/// `module`: compile the script as a module (its top-level locals in cells).
fn run_hotlua_as(name: &str, source: Vec<u8>, stress: bool, module: bool) -> String {
    let name = name.to_string();
    // Deep recursion tests need more Rust stack than a test thread has by default.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let buf = Rc::new(RefCell::new(Vec::new()));
            let mut vm = hotlua_stdlib::open::new_vm();
            vm.gc_stress = stress;
            vm.set_stdout(Box::new(Sink(buf.clone())));
            let chunk = format!("@{}", name);
            let r = hotlua_vm::docall::run_chunk_report_as(&mut vm, &source, &chunk, &[], module);
            let mut out = String::from_utf8_lossy(&buf.borrow()).into_owned();
            if let Err(m) = r {
                out.push_str(&format!("hotlua: {}\n", m));
            }
            out
        })
        .unwrap()
        .join()
        .unwrap()
}

/// Output of the script under `lua5.4`, if installed, with its program name replaced.
fn run_reference(name: &str) -> Option<String> {
    let out = std::process::Command::new("lua5.4")
        .arg(name)
        .current_dir(script_dir())
        .output()
        .ok()?;
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    s.push_str(&err.replace("lua5.4: ", "hotlua: "));
    Some(s)
}

#[test]
fn lua_scripts_match_lua54() {
    let mut names: Vec<String> = std::fs::read_dir(script_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lua"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "scripts missing");
    let mut failures = Vec::new();
    let only = std::env::var("LUA_SCRIPT").ok();
    for name in &names {
        if let Some(o) = &only {
            if !name.contains(o.as_str()) {
                continue;
            }
        }
        let path = script_dir().join(name);
        let source = std::fs::read(&path).unwrap();
        let got = run_hotlua(name, source);
        let expected_path = path.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path).ok();
        if let Some(exp) = &expected {
            if &got != exp {
                failures.push(format!(
                    "{}: differs from .expected\n--- expected\n{}\n--- got\n{}",
                    name, exp, got
                ));
                continue;
            }
        }
        if let Some(reference) = run_reference(name) {
            if got != reference {
                failures.push(format!(
                    "{}: differs from lua5.4\n--- lua5.4\n{}\n--- got\n{}",
                    name, reference, got
                ));
            }
        } else if expected.is_none() {
            failures.push(format!("{}: no .expected file and no lua5.4", name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The same scripts with a collection at every safe point: any value the VM forgot to root
/// would be freed and show up as a wrong output or a crash. (Scripts whose output depends on
/// collection timing or that only stress call depth are skipped.)
#[test]
fn lua_scripts_survive_gc_stress() {
    let skip = [
        "gc.lua",
        "calls.lua",
        "overflow.lua",
        "uncaught_overflow.lua",
    ];
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(script_dir())
        .unwrap()
        .filter_map(|e| e.ok())
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".lua") || skip.contains(&name.as_str()) {
            continue;
        }
        let path = script_dir().join(&name);
        let Ok(expected) = std::fs::read_to_string(path.with_extension("expected")) else {
            continue;
        };
        let got = run_hotlua_with(&name, std::fs::read(&path).unwrap(), true);
        if got != expected {
            failures.push(format!(
                "{}:\n--- expected\n{}\n--- got\n{}",
                name, expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The same scripts compiled as modules (`require`'s mode, which keeps top-level locals in
/// cells for hot patching) behave the same. Skipped: scripts whose output depends on how
/// many registers the main chunk uses (stack depth) or that list its locals.
#[test]
fn lua_scripts_behave_the_same_as_modules() {
    let skip = [
        "calls.lua",
        "overflow.lua",
        "uncaught_overflow.lua",
        "gc.lua",
    ];
    let mut failures = Vec::new();
    let mut ran = 0;
    for entry in std::fs::read_dir(script_dir())
        .unwrap()
        .filter_map(|e| e.ok())
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".lua") || skip.contains(&name.as_str()) {
            continue;
        }
        let path = script_dir().join(&name);
        let Ok(expected) = std::fs::read_to_string(path.with_extension("expected")) else {
            continue;
        };
        let got = run_hotlua_as(&name, std::fs::read(&path).unwrap(), false, true);
        ran += 1;
        if got != expected {
            failures.push(format!(
                "{}:\n--- expected\n{}\n--- got\n{}",
                name, expected, got
            ));
        }
    }
    assert!(ran >= 10);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

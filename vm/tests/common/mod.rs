//! Shared runner for the coroutine and debug script tests: each `tests/lua/<dir>/*.lua` runs
//! in a Vm with the base, coroutine and debug libraries; its output (stdout, then
//! `hotlua: <error>` for an uncaught error) must equal the `.expected` file and, when
//! `lua5.4` is installed, lua5.4's output; and again with a collection at every safe point. `LUA_SCRIPT=name` runs the matching scripts only.

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

pub fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/lua")
        .join(sub)
}

/// `stress`: collect at every safe point (catches values the coroutine code forgot to root).
pub fn run_hotlua(name: &str, source: Vec<u8>, stress: bool) -> String {
    let name = name.to_string();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let buf = Rc::new(RefCell::new(Vec::new()));
            let mut vm = hotlua_stdlib::open::new_vm();
            vm.gc_stress = stress;
            vm.set_stdout(Box::new(Sink(buf.clone())));
            let chunk = format!("@{}", name);
            let r = hotlua_vm::docall::run_chunk_report(&mut vm, &source, &chunk, &[]);
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

pub fn run_reference(d: &Path, name: &str) -> Option<String> {
    let out = std::process::Command::new("lua5.4")
        .arg(name)
        .current_dir(d)
        .output()
        .ok()?;
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr).replace("lua5.4: ", "hotlua: "));
    Some(s)
}

pub fn check_dir(sub: &str) {
    let d = dir(sub);
    let mut names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lua"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no scripts in {}", d.display());
    let only = std::env::var("LUA_SCRIPT").ok();
    let mut failures = Vec::new();
    for name in &names {
        if let Some(o) = &only {
            if !name.contains(o.as_str()) {
                continue;
            }
        }
        let src = std::fs::read(d.join(name)).unwrap();
        let got = run_hotlua(name, src.clone(), false);
        let exp_path = d.join(name.replace(".lua", ".expected"));
        let expected = std::fs::read_to_string(&exp_path).unwrap_or_default();
        if got != expected {
            failures.push(format!(
                "{}: differs from .expected\n--- expected\n{}--- got\n{}",
                name, expected, got
            ));
        }
        let stressed = run_hotlua(name, src, true);
        if stressed != expected {
            failures.push(format!(
                "{}: differs under GC stress\n--- got\n{}",
                name, stressed
            ));
        }
        if let Some(r) = run_reference(&d, name) {
            if r != expected {
                failures.push(format!("{}: lua5.4 differs from .expected\n{}", name, r));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

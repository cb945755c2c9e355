//! Parses every `.lua` file of the workspace (skipping `target/` and `.git/`) and of the
//! shared seed examples (`<workspace>/../shared/seed/examples/`), asserting each parses.
//! A file that is broken on purpose (other tests check how syntax errors surface) must fail
//! exactly as `luac5.4 -p` fails on it; without luac, such files are recognised by a name
//! containing `bad` or `error`.

use std::path::{Path, PathBuf};

fn lua_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                lua_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "lua") {
            out.push(path);
        }
    }
}

fn parse_all(files: &[PathBuf]) -> Vec<String> {
    let mut failures = Vec::new();
    for path in files {
        let source = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let source = hotlua_compiler::strip_file_header(&source);
        let chunk_name = format!("@{}", path.display());
        let got = hotlua_compiler::parse(source, &chunk_name)
            .map(|_| ())
            .map_err(|e| e.message);
        match (got, luac_verdict(path)) {
            (Ok(()), None | Some(Ok(()))) => {}
            (Err(ours), Some(Err(theirs))) if ours == theirs => {}
            (Err(_), None) if is_broken_on_purpose(path) => {}
            (ours, theirs) => failures.push(format!(
                "{}\n  ours:  {ours:?}\n  luac:  {theirs:?}",
                path.display()
            )),
        }
    }
    failures
}

fn is_broken_on_purpose(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    name.contains("bad") || name.contains("error")
}

/// `luac5.4 -p`'s verdict, its message in our format; `None` if luac is not installed.
fn luac_verdict(path: &Path) -> Option<Result<(), String>> {
    let out = std::process::Command::new("luac5.4")
        .arg("-p")
        .arg(path)
        .output()
        .ok()?;
    if out.status.success() {
        return Some(Ok(()));
    }
    let text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    Some(Err(text
        .strip_prefix("luac5.4: ")
        .unwrap_or(&text)
        .to_string()))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_workspace_lua_file_parses() {
    let mut files = Vec::new();
    lua_files(&workspace_root(), &mut files);
    // Our own syntax corpus is always there, so the walk cannot silently find nothing.
    assert!(
        files
            .iter()
            .any(|p| p.ends_with("tests/lua/syntax/statements.lua")),
        "syntax corpus not found"
    );
    let failures = parse_all(&files);
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    println!("parsed {} workspace files", files.len());
}

#[test]
fn every_seed_example_parses() {
    let dir = workspace_root().join("../shared/seed/examples");
    if !dir.is_dir() {
        println!("note: {} is absent; seed examples skipped", dir.display());
        return;
    }
    let mut files = Vec::new();
    lua_files(&dir, &mut files);
    let failures = parse_all(&files);
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    println!("parsed {} seed examples", files.len());
}

//! The interactive loop, as lua.c's `doREPL`: a line is first tried as `return <line>;`
//! (so a bare expression prints its values; `=expr` is `return expr`), then as a
//! statement, with continuation lines (prompt `>> `) while the error says the chunk ended
//! early (`<eof>`). Results are printed with the global `print`; errors are printed
//! without the program name and the session goes on. Prompts are the globals `_PROMPT`
//! and `_PROMPT2` when set (through `tostring`), else `> ` and `>> `.
//!
//! On a terminal, lines are read with rustyline (editing, history); otherwise they are
//! read from stdin and echoed after the prompt, as lua5.4 (built with readline) does.

use std::io::{BufRead, IsTerminal};

use hotlua_vm::meta::Tm;
use hotlua_vm::{Value, Vm};

use super::chunk::{docall, load, report};

/// Where lines come from.
enum Input {
    Terminal(Box<rustyline::DefaultEditor>),
    Plain,
}

impl Input {
    fn new() -> Input {
        if std::io::stdin().is_terminal() {
            if let Ok(ed) = rustyline::DefaultEditor::new() {
                return Input::Terminal(Box::new(ed));
            }
        }
        Input::Plain
    }

    /// Shows `prompt` and reads a line, without its newline; `None` at end of input.
    fn read(&mut self, vm: &mut Vm, prompt: &[u8]) -> Option<Vec<u8>> {
        match self {
            Input::Terminal(ed) => {
                let _ = vm.stdout().flush();
                loop {
                    match ed.readline(&String::from_utf8_lossy(prompt).into_owned()) {
                        Ok(line) => return Some(line.into_bytes()),
                        // Ctrl-C drops the line being typed.
                        Err(rustyline::error::ReadlineError::Interrupted) => continue,
                        Err(_) => return None,
                    }
                }
            }
            Input::Plain => {
                let out = vm.stdout();
                let _ = out.write_all(prompt).and_then(|_| out.flush());
                let mut line = Vec::new();
                // Rust's stdin buffer is the one `io.read` uses: a line read here is not
                // lost to the script, nor the script's to the REPL.
                match std::io::stdin().lock().read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                let out = vm.stdout();
                let _ = out
                    .write_all(&line)
                    .and_then(|_| out.write_all(b"\n"))
                    .and_then(|_| out.flush());
                Some(line)
            }
        }
    }

    fn remember(&mut self, line: &[u8]) {
        if let Input::Terminal(ed) = self {
            if !line.is_empty() {
                let _ = ed.add_history_entry(String::from_utf8_lossy(line));
            }
        }
    }
}

/// Runs the REPL until the end of input; ends the output with a newline, as lua.c.
pub fn run(vm: &mut Vm) {
    let mut input = Input::new();
    while let Some(loaded) = load_line(vm, &mut input) {
        let r = loaded.and_then(|f| docall(vm, f, &[]));
        match r {
            Ok(results) => print_results(vm, &results),
            Err(msg) => report(vm, None, &msg),
        }
    }
    let out = vm.stdout();
    let _ = out.write_all(b"\n").and_then(|_| out.flush());
}

/// lua.c's `get_prompt`: `_PROMPT`/`_PROMPT2` through `tostring`, or the default.
fn prompt(vm: &mut Vm, first: bool) -> Vec<u8> {
    let (name, default) = if first {
        ("_PROMPT", "> ")
    } else {
        ("_PROMPT2", ">> ")
    };
    let v = vm.get_global(name);
    if v.is_nil() {
        return default.as_bytes().to_vec();
    }
    match vm.tostring_meta(v) {
        Ok(Value::Str(s)) => s.get().as_bytes().to_vec(),
        _ => default.as_bytes().to_vec(),
    }
}

/// Reads and compiles one input (lua.c's `loadline`): `None` at end of input, else the
/// function or the syntax error.
fn load_line(vm: &mut Vm, input: &mut Input) -> Option<Result<Value, String>> {
    let p = prompt(vm, true);
    let first = input.read(vm, &p)?;
    let line = match first.strip_prefix(b"=") {
        Some(expr) => [b"return ".as_slice(), expr].concat(),
        None => first,
    };
    // First as an expression, its values to be printed.
    let ret = [b"return ".as_slice(), &line, b";"].concat();
    if let Ok(f) = vm.load(&ret, "=stdin", None) {
        input.remember(&line);
        return Some(Ok(f));
    }
    // Then as a statement, continued while the chunk is incomplete.
    let mut buf = line;
    loop {
        match load(vm, &buf, "=stdin") {
            Ok(f) => {
                input.remember(&buf);
                return Some(Ok(f));
            }
            Err(msg) if msg.ends_with("<eof>") => {
                let p = prompt(vm, false);
                match input.read(vm, &p) {
                    Some(more) => {
                        buf.push(b'\n');
                        buf.extend_from_slice(&more);
                    }
                    None => {
                        input.remember(&buf);
                        return Some(Err(msg));
                    }
                }
            }
            Err(msg) => {
                input.remember(&buf);
                return Some(Err(msg));
            }
        }
    }
}

/// lua.c's `l_print`: the values, if any, through the global `print`.
fn print_results(vm: &mut Vm, results: &[Value]) {
    if results.is_empty() {
        return;
    }
    let print = vm.get_global("print");
    if let Err(e) = vm.pcall_value(print, results, None) {
        let msg = error_text(vm, e.value);
        report(vm, None, &format!("error calling 'print' ({msg})"));
    }
}

/// `lua_tostring` of an error value for a message (`nil` for what is not a string/number).
fn error_text(vm: &mut Vm, v: Value) -> String {
    match v {
        Value::Str(_) | Value::Int(_) | Value::Float(_) => {
            String::from_utf8_lossy(&vm.tostring_basic(v)).into_owned()
        }
        _ if !vm.get_tm(v, Tm::ToString).is_nil() => vm.to_display(v),
        _ => "(null)".to_string(),
    }
}

//! A `lua.c`-like runner for the command line: `[options] [script [args]]` with `-e code`,
//! the `arg` table, and uncaught errors printed as `hotlua: <msg>` plus a traceback.

use crate::api::Args;
use crate::error::LuaError;
use crate::meta::Tm;
use crate::state::Vm;
use crate::value::Value;

/// Program name used in messages.
const PROGNAME: &str = "hotlua";

/// Runs the command line `argv` (without the program name) in `vm`, as `lua` does: `-e
/// code` chunks in order, then the script (`-` for stdin) with its arguments in `...` and in
/// the global `arg`. Returns the process exit status (0 or 1); errors go to stderr.
pub fn run_command_line(vm: &mut Vm, argv: &[String]) -> i32 {
    match prepare_command_line(vm, argv) {
        Err(status) => status,
        Ok(None) => 0,
        Ok(Some(s)) => run_chunk(vm, &s.source, &s.chunk_name, &s.args),
    }
}

/// The script a command line names, read and ready to compile.
pub struct Script {
    /// The file's text, with a byte order mark and a `#` first line skipped.
    pub source: Vec<u8>,
    /// `@path`, or `=stdin` for `-`.
    pub chunk_name: String,
    /// The script's arguments (its `...`).
    pub args: Vec<String>,
}

/// lua.c's handling of a command line up to the script: sets the global `arg` (script at 0,
/// its arguments at 1.., interpreter options negative), runs the `-e` chunks in order, and
/// reads the script (`-` for stdin). `Ok(None)` when no script is named; `Err(status)`
/// after an error has been reported on stderr.
pub fn prepare_command_line(vm: &mut Vm, argv: &[String]) -> Result<Option<Script>, i32> {
    // The script is the first argument that is not an option (`-e` takes a value).
    let mut i = 0;
    let mut script: Option<usize> = None;
    while i < argv.len() {
        let a = &argv[i];
        if a == "-e" {
            i += 2;
        } else if a == "--" {
            if i + 1 < argv.len() {
                script = Some(i + 1);
            }
            break;
        } else if a.starts_with('-') && a != "-" {
            i += 1;
        } else {
            script = Some(i);
            break;
        }
    }
    let t = vm.new_table();
    let s0 = script.unwrap_or(argv.len());
    let prog = vm.str_value(PROGNAME);
    t.get_mut().set_int(-(s0 as i64) - 1, prog);
    for (j, a) in argv.iter().enumerate() {
        let v = vm.str_value(a);
        t.get_mut().set_int(j as i64 - s0 as i64, v);
    }
    vm.set_global("arg", Value::Table(t));

    let mut i = 0;
    while i < argv.len() && Some(i) != script {
        let a = &argv[i];
        if a == "-e" || a.starts_with("-e") && a.len() > 2 {
            let code = if a == "-e" {
                i += 1;
                match argv.get(i) {
                    Some(c) => c.clone(),
                    None => {
                        eprintln!("{}: '-e' needs argument", PROGNAME);
                        return Err(1);
                    }
                }
            } else {
                a[2..].to_string()
            };
            if run_chunk(vm, code.as_bytes(), "=(command line)", &[]) != 0 {
                return Err(1);
            }
        }
        i += 1;
    }
    let Some(si) = script else { return Ok(None) };
    let path = &argv[si];
    let (source, chunk_name) = if path == "-" {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf);
        (buf, "=stdin".to_string())
    } else {
        match std::fs::read(path) {
            Ok(b) => (b, format!("@{}", path)),
            Err(e) => {
                let msg = e.to_string();
                let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
                eprintln!("{}: cannot open {}: {}", PROGNAME, path, msg);
                return Err(1);
            }
        }
    };
    let source = hotlua_compiler::file_chunk(&source).to_vec();
    Ok(Some(Script {
        source,
        chunk_name,
        args: argv[si + 1..].to_vec(),
    }))
}

/// Compiles and runs one chunk with `args` as `...`; reports errors on stderr.
pub fn run_chunk(vm: &mut Vm, source: &[u8], chunk_name: &str, args: &[String]) -> i32 {
    match run_chunk_report(vm, source, chunk_name, args) {
        Ok(()) => 0,
        Err(m) => {
            eprintln!("{}: {}", PROGNAME, m);
            1
        }
    }
}

/// Compiles and runs one chunk; an error comes back as the text `lua.c` would print after
/// its program name (the message and, for runtime errors, the traceback).
pub fn run_chunk_report(
    vm: &mut Vm,
    source: &[u8],
    chunk_name: &str,
    args: &[String],
) -> Result<(), String> {
    run_chunk_report_as(vm, source, chunk_name, args, false)
}

/// [`run_chunk_report`], compiling the chunk as a module when `module` (for tests that
/// check a module behaves as the same code run as a script).
pub fn run_chunk_report_as(
    vm: &mut Vm,
    source: &[u8],
    chunk_name: &str,
    args: &[String],
    module: bool,
) -> Result<(), String> {
    // lua.c puts the collector in generational mode.
    vm.gc_mode = "generational";
    let loaded = if module {
        vm.load_module(source, chunk_name, None)
    } else {
        vm.load(source, chunk_name, None)
    };
    let f = match loaded {
        Ok(f) => f,
        Err(e) => return Err(vm.to_display(e.value)),
    };
    let mut call_args = vec![f];
    for a in args {
        call_args.push(vm.str_value(a));
    }
    // lua.c's stack holds a few values below the chunk (its base frame, `pmain`, argc, argv
    // and the message handler); keeping the same room makes "stack overflow" happen at the
    // same depth.
    let saved_top = vm.cur.get().top;
    for _ in 0..LUA_C_SLOTS {
        let _ = vm.push(Value::Nil);
    }
    let r = match vm.call(Value::LightFn(pmain), &call_args) {
        Ok(res) => match res.as_slice() {
            [Value::Bool(false), e, ..] => Err(vm.to_display(*e)),
            _ => Ok(()),
        },
        Err(e) => Err(vm.to_display(e.value)),
    };
    vm.cur.get_mut().top = saved_top;
    r
}

/// Stack slots lua.c uses below a script's main chunk.
const LUA_C_SLOTS: usize = 4;

/// The bottom native frame (lua.c's `pmain`, shown as `[C]: in ?`): calls its first
/// argument with the others under the message handler, as lua.c's `docall`; returns
/// `true`, or `false` and the handled error. Being a frame of its own, it stays on the stack
/// while pending `__close` handlers run after an error (so their tracebacks end in it).
fn pmain(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = vm.arg(args, 0);
    let rest: Vec<Value> = (1..args.len()).map(|i| vm.arg(args, i)).collect();
    match vm.pcall_value(f, &rest, Some(Value::LightFn(msghandler))) {
        Ok(_) => {
            vm.push(Value::Bool(true))?;
            Ok(1)
        }
        Err(e) => {
            vm.push(Value::Bool(false))?;
            vm.push(e.value)?;
            Ok(2)
        }
    }
}

/// lua.c's message handler: the message (or `__tostring` of the error object) plus a
/// traceback.
fn msghandler(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let v = vm.arg(args, 0);
    let msg = match v {
        Value::Str(s) => s.get().to_str_lossy().into_owned(),
        Value::Int(_) | Value::Float(_) => {
            String::from_utf8_lossy(&vm.tostring_basic(v)).into_owned()
        }
        _ => {
            if !vm.get_tm(v, Tm::ToString).is_nil() {
                if let Ok(s @ Value::Str(_)) = vm.protect(|vm| vm.tostring_meta(v)) {
                    vm.push(s)?;
                    return Ok(1);
                }
            }
            format!("(error object is a {} value)", v.type_name())
        }
    };
    let tb = vm.traceback(Some(&msg), 1);
    let s = vm.str_value(tb);
    vm.push(s)?;
    Ok(1)
}

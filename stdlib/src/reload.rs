//! `require "hotlua.reload"`: the Lua face of the VM's patch engine (`hotlua_vm::patch`,
//! `spec/patch.md`).
//!
//! ```lua
//! local reload = require "hotlua.reload"
//! local report = reload.plan({"route"})            -- a dry run: changes nothing
//! local ok, report = reload.apply({"route"}, {verify = function(r) return true end})
//! local ok, report = reload.rollback("route")
//! for _, v in ipairs(reload.versions("route")) do print(v.version, v.hash, v.current) end
//! ```
//!
//! `mods` is a module name, a list of names (each found as `require` finds it, through
//! `package.path`) or a table `name -> source`. The transaction's side effects in the event
//! loop (timers and tasks the new chunks started) are cancelled when it rolls back.

use hotlua_vm::api::Args;
use hotlua_vm::gc::Gc;
use hotlua_vm::patch::{self, FramePolicy, Hooks, Options, Report, Request, Step};
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use crate::open::set_field;
use crate::silly::eventloop;

/// Hooks that tie a transaction to the event loop (and, from Lua, to a `verify` function).
pub struct RuntimeHooks<'a> {
    captured: bool,
    /// The transaction's time budget (`opts.deadline`): ended as soon as the outcome is known,
    /// so that undoing or completing it is never interrupted.
    pub deadline: Option<hotlua_vm::deadline::DeadlineId>,
    /// The Rust-side verify callback, if any.
    pub verify: Option<VerifyFn<'a>>,
}

/// A Rust-side verify callback: `Err(message)` rolls the patch back.
pub type VerifyFn<'a> = &'a mut dyn FnMut(&mut Vm, &Report) -> Result<(), String>;

impl<'a> RuntimeHooks<'a> {
    pub fn new() -> RuntimeHooks<'a> {
        RuntimeHooks {
            captured: false,
            deadline: None,
            verify: None,
        }
    }
}

impl Default for RuntimeHooks<'_> {
    fn default() -> Self {
        RuntimeHooks::new()
    }
}

/// True when the silly runtime is installed (its timers exist).
fn has_silly(vm: &mut Vm) -> bool {
    if eventloop::has_loop(vm) {
        return true;
    }
    let reg = vm.registry();
    let k = vm.new_str("_PRELOAD");
    match reg.get().get_str(k) {
        Value::Table(p) => {
            let n = vm.new_str("silly.time");
            !p.get().get_str(n).is_nil()
        }
        _ => false,
    }
}

impl Hooks for RuntimeHooks<'_> {
    fn begin(&mut self, vm: &mut Vm) {
        if has_silly(vm) {
            self.captured = eventloop::with_loop(vm, |_, l| l.begin_capture()).is_ok();
        }
    }
    fn verify(&mut self, vm: &mut Vm, report: &Report) -> Result<(), String> {
        match self.verify.as_mut() {
            Some(f) => f(vm, report),
            None => Ok(()),
        }
    }
    fn commit(&mut self, vm: &mut Vm) {
        if let Some(id) = self.deadline.take() {
            vm.end_deadline(id);
        }
        if self.captured {
            let _ = eventloop::with_loop(vm, |_, l| {
                l.end_capture();
            });
        }
    }
    fn rollback(&mut self, vm: &mut Vm) {
        if let Some(id) = self.deadline.take() {
            vm.end_deadline(id);
        }
        if self.captured {
            let _ = eventloop::with_loop(vm, |vm, l| {
                let c = l.end_capture();
                l.cancel_captured(vm, c);
            });
        }
    }
}

/// Builds requests for `names` (sources found through `package.path`); a name that cannot
/// be found gives a failed report.
pub fn requests_for(vm: &mut Vm, names: &[String]) -> Result<Vec<Request>, Report> {
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        match crate::package::module_source(vm, n) {
            Ok((source, chunkname)) => out.push(Request {
                name: n.clone(),
                source,
                chunkname,
            }),
            Err(message) => {
                return Err(Report {
                    ok: false,
                    error: Some(patch::PatchError {
                        step: Step::Load,
                        module: Some(n.clone()),
                        message,
                    }),
                    ..Report::default()
                })
            }
        }
    }
    Ok(out)
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// Reads `mods` (a name, a list of names, or `name -> source`).
fn parse_mods(vm: &mut Vm, args: Args) -> Result<Result<Vec<Request>, Report>, LuaError> {
    let v = vm.arg(args, 0);
    let mut names = Vec::new();
    let mut given = Vec::new();
    match v {
        Value::Str(s) => names.push(lossy(s.get().as_bytes())),
        Value::Table(t) => {
            let mut k = Value::Nil;
            while let Ok(Some((key, val))) = t.get().next(k) {
                k = key;
                match (key, val) {
                    (Value::Int(_), Value::Str(n)) => names.push(lossy(n.get().as_bytes())),
                    (Value::Str(n), Value::Str(src)) => given.push(Request {
                        name: lossy(n.get().as_bytes()),
                        source: src.get().as_bytes().to_vec(),
                        chunkname: String::new(),
                    }),
                    (Value::Str(n), Value::Table(spec)) => {
                        let ks = vm.new_str("source");
                        let kc = vm.new_str("chunkname");
                        let (src, cn) = (spec.get().get_str(ks), spec.get().get_str(kc));
                        let Value::Str(src) = src else {
                            return Err(vm.arg_error(0, "a module's 'source' must be a string"));
                        };
                        let chunkname = match cn {
                            Value::Str(c) => lossy(c.get().as_bytes()),
                            Value::Nil => String::new(),
                            _ => return Err(vm.arg_error(0, "'chunkname' must be a string")),
                        };
                        given.push(Request {
                            name: lossy(n.get().as_bytes()),
                            source: src.get().as_bytes().to_vec(),
                            chunkname,
                        })
                    }
                    _ => {
                        return Err(
                            vm.arg_error(0, "expected module names or a table of name -> source")
                        )
                    }
                }
            }
        }
        _ => return Err(vm.type_error_arg(args, 0, "table or string")),
    }
    names.sort();
    given.sort_by(|a, b| a.name.cmp(&b.name));
    match requests_for(vm, &names) {
        Ok(mut r) => {
            r.extend(given);
            Ok(Ok(r))
        }
        Err(rep) => Ok(Err(rep)),
    }
}

/// What `opts` says beyond the engine's [`Options`].
struct Extra {
    verify: Value,
    /// Milliseconds.
    deadline: Option<u64>,
    /// Who the patch is for, in the patch log.
    who: Option<String>,
}

/// Reads `opts`: `frames`, `strict`, `merge`, `verify`, `deadline` (milliseconds), `who`.
fn parse_opts(vm: &mut Vm, args: Args, i: usize) -> Result<(Options, Extra), LuaError> {
    let mut o = Options::default();
    let mut verify = Value::Nil;
    let mut deadline = None;
    let mut who = None;
    match vm.arg(args, i) {
        Value::Nil => {}
        Value::Table(t) => {
            let get = |vm: &mut Vm, k: &str| {
                let k = vm.new_str(k);
                t.get().get_str(k)
            };
            match get(vm, "frames") {
                Value::Nil => {}
                Value::Str(s) if s.get().as_bytes() == b"finish-old" => {
                    o.frames = FramePolicy::FinishOld
                }
                Value::Str(s) if s.get().as_bytes() == b"refuse" => o.frames = FramePolicy::Refuse,
                _ => return Err(vm.arg_error(i, "'frames' must be \"finish-old\" or \"refuse\"")),
            }
            o.strict = get(vm, "strict").is_truthy();
            let m = get(vm, "merge");
            o.merge = m.is_nil() || m.is_truthy();
            verify = get(vm, "verify");
            if !matches!(
                verify,
                Value::Nil | Value::LuaFn(_) | Value::NativeFn(_) | Value::LightFn(_)
            ) {
                return Err(vm.arg_error(i, "'verify' must be a function"));
            }
            deadline = match get(vm, "deadline") {
                Value::Nil => None,
                Value::Int(n) if n > 0 => Some(n as u64),
                Value::Float(f) if (1.0..1e15).contains(&f) => Some(f as u64),
                _ => {
                    return Err(
                        vm.arg_error(i, "'deadline' must be a positive number of milliseconds")
                    )
                }
            };
            who = match get(vm, "who") {
                Value::Nil => None,
                Value::Str(s) => Some(lossy(s.get().as_bytes())),
                _ => return Err(vm.arg_error(i, "'who' must be a string")),
            };
        }
        _ => return Err(vm.type_error_arg(args, i, "table")),
    }
    Ok((
        o,
        Extra {
            verify,
            deadline,
            who,
        },
    ))
}

fn list(vm: &mut Vm, items: &[String]) -> Value {
    let t = vm.new_table();
    for (i, s) in items.iter().enumerate() {
        let v = vm.str_value(s);
        let _ = vm.raw_set(t, Value::Int(i as i64 + 1), v);
    }
    Value::Table(t)
}

fn set_str(vm: &mut Vm, t: Gc<Table>, k: &str, s: &str) {
    let v = vm.str_value(s);
    set_field(vm, t, k, v);
}

/// The report as a Lua table (`spec/patch.md` lists its fields).
pub fn report_table(vm: &mut Vm, r: &Report) -> Gc<Table> {
    let t = vm.new_table();
    set_field(vm, t, "ok", Value::Bool(r.ok));
    set_field(vm, t, "epoch", Value::Int(r.epoch as i64));
    if let Some(e) = &r.error {
        set_str(vm, t, "error", &e.message);
        set_str(vm, t, "step", e.step.name());
        if let Some(m) = &e.module {
            set_str(vm, t, "module", m);
        }
    }
    let mods = vm.new_table();
    for m in &r.modules {
        let mt = vm.new_table();
        set_str(vm, mt, "name", &m.name);
        set_field(vm, mt, "from", Value::Int(m.from as i64));
        set_field(vm, mt, "to", Value::Int(m.to as i64));
        set_str(vm, mt, "hash", &format!("{:016x}", m.hash));
        for (k, l) in [
            ("changed", &m.changed),
            ("moved", &m.moved),
            ("added", &m.added),
            ("removed", &m.removed),
            ("unchanged", &m.unchanged),
        ] {
            let v = list(vm, l);
            set_field(vm, mt, k, v);
        }
        let up = vm.new_table();
        for (k, l) in [
            ("kept", &m.upvalues.kept),
            ("new", &m.upvalues.new),
            ("dropped", &m.upvalues.dropped),
            ("type_changed", &m.upvalues.type_changed),
            ("fresh", &m.upvalues.fresh),
        ] {
            let v = list(vm, l);
            set_field(vm, up, k, v);
        }
        set_field(vm, mt, "upvalues", Value::Table(up));
        let f = vm.new_table();
        for (k, l) in [
            ("updated", &m.fields.updated),
            ("replaced", &m.fields.replaced),
            ("added", &m.fields.added),
            ("removed", &m.fields.removed),
            ("kept", &m.fields.kept),
            ("merged", &m.fields.merged),
        ] {
            let v = list(vm, l);
            set_field(vm, f, k, v);
        }
        set_field(vm, mt, "fields", Value::Table(f));
        set_field(vm, mt, "closures", Value::Int(m.closures as i64));
        let frames = vm.new_table();
        for (i, fr) in m.frames.iter().enumerate() {
            let ft = vm.new_table();
            set_field(vm, ft, "thread", Value::Thread(fr.thread));
            set_str(vm, ft, "function", &fr.function);
            set_str(vm, ft, "traceback", &fr.traceback);
            let _ = vm.raw_set(frames, Value::Int(i as i64 + 1), Value::Table(ft));
        }
        set_field(vm, mt, "frames", Value::Table(frames));
        let k = vm.str_value(&m.name);
        let _ = vm.raw_set(mods, k, Value::Table(mt));
    }
    set_field(vm, t, "modules", Value::Table(mods));
    t
}

/// Calls a Lua `verify(report)`: an error, or a false or nil first result, fails the
/// patch (the second result, if any, is the message).
fn lua_verify(vm: &mut Vm, f: Value, r: &Report) -> Result<(), String> {
    let t = report_table(vm, r);
    match vm.call(f, &[Value::Table(t)]) {
        Ok(vals) => {
            if vals.first().is_some_and(|v| v.is_truthy()) {
                Ok(())
            } else {
                Err(match vals.get(1) {
                    Some(m @ (Value::Str(_) | Value::Int(_) | Value::Float(_))) => {
                        lossy(&vm.tostring_basic(*m))
                    }
                    _ => "verify failed".to_string(),
                })
            }
        }
        Err(e) => Err(format!(
            "verify failed: {}",
            lossy(&vm.tostring_basic(e.value))
        )),
    }
}

/// `reload.plan(mods [, opts])`.
fn l_plan(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let reqs = parse_mods(vm, args)?;
    let (opts, _) = parse_opts(vm, args, 1)?;
    let r = match reqs {
        Ok(reqs) => patch::plan(vm, &reqs, &opts),
        Err(r) => r,
    };
    let t = report_table(vm, &r);
    vm.push(Value::Table(t))?;
    Ok(1)
}

fn push_result(vm: &mut Vm, r: &Report) -> Result<usize, LuaError> {
    let t = report_table(vm, r);
    vm.push(Value::Bool(r.ok))?;
    vm.push(Value::Table(t))?;
    Ok(2)
}

/// Runs `f` with hooks whose verify calls the Lua function `verify` (if not nil).
fn with_lua_hooks(
    vm: &mut Vm,
    extra: Extra,
    f: impl FnOnce(&mut Vm, &mut RuntimeHooks) -> Report,
) -> Report {
    let verify = extra.verify;
    let mut call = |vm: &mut Vm, r: &Report| lua_verify(vm, verify, r);
    let mut hooks = RuntimeHooks::new();
    if !verify.is_nil() {
        hooks.verify = Some(&mut call);
    }
    let id = extra.deadline.map(|ms| vm.start_deadline_above(ms));
    hooks.deadline = id;
    patch::set_actor(vm, extra.who);
    let r = f(vm, &mut hooks);
    patch::set_actor(vm, None);
    if let Some(id) = id {
        vm.end_deadline(id);
    }
    r
}

/// `reload.apply(mods [, opts])`: `ok, report`.
fn l_apply(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let reqs = parse_mods(vm, args)?;
    let (opts, extra) = parse_opts(vm, args, 1)?;
    // The verify function stays reachable on the stack (argument 2) while the patch runs.
    let r = match reqs {
        Ok(reqs) => with_lua_hooks(vm, extra, |vm, h| patch::apply(vm, &reqs, &opts, h)),
        Err(r) => r,
    };
    push_result(vm, &r)
}

/// `reload.rollback(name [, opts])`: `ok, report`.
fn l_rollback(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = lossy(vm.check_str(args, 0)?.get().as_bytes());
    let (opts, extra) = parse_opts(vm, args, 1)?;
    let r = with_lua_hooks(vm, extra, |vm, h| patch::rollback(vm, &name, &opts, h));
    push_result(vm, &r)
}

/// `reload.versions(name)`: a list of `{version, hash, time, current, rolled_back}`, or
/// `nil, message` for a module that is not loaded.
fn l_versions(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = lossy(vm.check_str(args, 0)?.get().as_bytes());
    let Some(vs) = patch::versions(vm, &name) else {
        vm.push(Value::Nil)?;
        let m = vm.str_value(format!("module '{name}' is not loaded"));
        vm.push(m)?;
        return Ok(2);
    };
    let t = vm.new_table();
    for (i, v) in vs.iter().enumerate() {
        let e = vm.new_table();
        set_field(vm, e, "version", Value::Int(v.n as i64));
        set_str(vm, e, "hash", &format!("{:016x}", v.hash));
        set_field(vm, e, "time", Value::Float(unix_secs(v.time)));
        set_field(vm, e, "current", Value::Bool(v.current));
        set_field(vm, e, "rolled_back", Value::Bool(v.rolled_back));
        let _ = vm.raw_set(t, Value::Int(i as i64 + 1), Value::Table(e));
    }
    vm.push(Value::Table(t))?;
    Ok(1)
}

fn unix_secs(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `reload.census([name])`: old versions still alive, as a list of `{module, version,
/// closures, bytes, holders = {...}, frames = { {thread, main, ["function"], traceback}, ... }}`.
fn l_census(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let name = vm.opt_str(args, 0)?.map(|s| lossy(s.get().as_bytes()));
    let census = patch::census(vm, name.as_deref());
    let t = vm.new_table();
    for (i, e) in census.iter().enumerate() {
        let et = vm.new_table();
        set_str(vm, et, "module", &e.module);
        set_field(vm, et, "version", Value::Int(e.version as i64));
        set_field(vm, et, "closures", Value::Int(e.closures as i64));
        set_field(vm, et, "bytes", Value::Int(e.bytes as i64));
        let hs = list(vm, &e.holders);
        set_field(vm, et, "holders", hs);
        let frames = vm.new_table();
        for (j, f) in e.frames.iter().enumerate() {
            let ft = vm.new_table();
            set_field(vm, ft, "thread", Value::Thread(f.thread));
            set_field(vm, ft, "main", Value::Bool(f.main));
            set_str(vm, ft, "function", &f.function);
            set_str(vm, ft, "traceback", &f.traceback);
            let _ = vm.raw_set(frames, Value::Int(j as i64 + 1), Value::Table(ft));
        }
        set_field(vm, et, "frames", Value::Table(frames));
        let _ = vm.raw_set(t, Value::Int(i as i64 + 1), Value::Table(et));
    }
    vm.push(Value::Table(t))?;
    Ok(1)
}

/// `reload.drained()`: `{ {module, version}, ... }`: old versions alive at the previous call
/// and no longer running (each reported once).
fn l_drained(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let gone = patch::drained(vm);
    let t = vm.new_table();
    for (i, (m, v)) in gone.iter().enumerate() {
        let e = vm.new_table();
        set_str(vm, e, "module", m);
        set_field(vm, e, "version", Value::Int(*v as i64));
        let _ = vm.raw_set(t, Value::Int(i as i64 + 1), Value::Table(e));
    }
    vm.push(Value::Table(t))?;
    Ok(1)
}

/// `reload.log()`: the patch log, oldest first: `{seq, time, module, action, from, to, hash,
/// who, ok [, error]}`.
fn l_log(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let log = patch::log(vm);
    let t = vm.new_table();
    for (i, e) in log.iter().enumerate() {
        let et = vm.new_table();
        set_field(vm, et, "seq", Value::Int(e.seq as i64));
        set_field(vm, et, "time", Value::Float(unix_secs(e.time)));
        set_str(vm, et, "module", &e.module);
        set_str(vm, et, "action", e.action);
        set_field(vm, et, "from", Value::Int(e.from as i64));
        set_field(vm, et, "to", Value::Int(e.to as i64));
        set_str(vm, et, "hash", &format!("{:016x}", e.hash));
        set_str(vm, et, "who", &e.who);
        set_field(vm, et, "ok", Value::Bool(e.ok));
        if let Some(m) = &e.error {
            set_str(vm, et, "error", m);
        }
        let _ = vm.raw_set(t, Value::Int(i as i64 + 1), Value::Table(et));
    }
    vm.push(Value::Table(t))?;
    Ok(1)
}

/// `reload.modules()`: `{ {name = ..., version = n}, ... }` in load order.
fn l_modules(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let ms = patch::modules(vm);
    let t = vm.new_table();
    for (i, (name, n)) in ms.iter().enumerate() {
        let e = vm.new_table();
        set_str(vm, e, "name", name);
        set_field(vm, e, "version", Value::Int(*n as i64));
        let _ = vm.raw_set(t, Value::Int(i as i64 + 1), Value::Table(e));
    }
    vm.push(Value::Table(t))?;
    Ok(1)
}

/// Builds the module table.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let m = vm.new_table();
    let funcs: &[(&str, hotlua_vm::NativeFn)] = &[
        ("plan", l_plan),
        ("apply", l_apply),
        ("rollback", l_rollback),
        ("versions", l_versions),
        ("modules", l_modules),
        ("census", l_census),
        ("drained", l_drained),
        ("log", l_log),
    ];
    for &(name, f) in funcs {
        set_field(vm, m, name, Value::LightFn(f));
    }
    m
}

/// The preload loader of `hotlua.reload`.
pub fn preload(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let m = module(vm);
    vm.push(Value::Table(m))?;
    Ok(1)
}

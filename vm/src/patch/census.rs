//! What an operator asks of a patched server: which old versions still run (the census),
//! which versions finished draining since the last look, and the patch log.
//!
//! Patched closures are updated in place, so an old version stays alive only in frames
//! that started before the patch (they finish on the version they started with) and in
//! closures of functions the new version removed. The census finds both; a version with
//! neither has drained.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::SystemTime;

use crate::function::LuaClosure;
use crate::gc::Gc;
use crate::thread::{FrameKind, Thread};
use crate::value::Value;
use crate::Vm;

use super::registry;

/// A frame running an old version.
#[derive(Clone, Debug)]
pub struct OldFrame {
    /// Its thread: a task's coroutine, or the main thread.
    pub thread: Gc<Thread>,
    /// The main thread (not a task or coroutine).
    pub main: bool,
    /// The function's name as its prototype knows it (`route.lua:7`-style when unnamed).
    pub function: String,
    pub traceback: String,
}

/// One old version of a module that is still alive.
#[derive(Clone, Debug)]
pub struct OldVersion {
    pub module: String,
    pub version: u32,
    /// Frames running it, innermost of each thread.
    pub frames: Vec<OldFrame>,
    /// Live closures whose current code is this version's (functions a later version
    /// removed).
    pub closures: usize,
    /// Bytes of code, constants and debug information of its prototypes the frames and
    /// closures keep in use.
    pub bytes: usize,
    /// What holds those closures, one entry per holder: `Rust handle`, `timer`, `task`,
    /// `main thread`, or `table <path>` (`_G.handlers.old`, `registry._LOADED.route.f`).
    pub holders: Vec<String>,
}

/// One entry of the patch log.
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// 1, 2, ... in order.
    pub seq: u64,
    pub time: SystemTime,
    pub module: String,
    /// `"reload"` or `"rollback"`.
    pub action: &'static str,
    pub from: u32,
    pub to: u32,
    /// The installed version's source hash.
    pub hash: u64,
    /// Who asked: `"script"` unless the caller said (`console 127.0.0.1:50122`, ...).
    pub who: String,
    pub ok: bool,
    /// Why it failed.
    pub error: Option<String>,
}

/// Entries kept by the patch log (the oldest are dropped beyond it).
pub const LOG_LIMIT: usize = 1000;

/// Sets who the next transactions are made for (recorded in the log); `None`: `"script"`.
pub fn set_actor(vm: &mut Vm, who: Option<String>) {
    registry::state(vm).actor = who;
}

/// The patch log, oldest first.
pub fn log(vm: &Vm) -> Vec<LogEntry> {
    registry::state_ref(vm).map_or_else(Vec::new, |s| s.log.iter().cloned().collect())
}

fn proto_bytes(p: &crate::function::FnProto) -> usize {
    p.code.len() * 4 + p.constants.len() * 16 + p.line_info.len() * 4 + 160
}

/// Old versions still alive (of `module` only, when given), by module and version.
pub fn census(vm: &mut Vm, module: Option<&str>) -> Vec<OldVersion> {
    let Some(st) = registry::state_ref(vm) else {
        return Vec::new();
    };
    // (record index, version number) -> entry
    let mut out: Vec<(usize, OldVersion)> = Vec::new();
    let current: Vec<u32> = st.modules.iter().map(|r| r.current().n).collect();
    let names: Vec<String> = st
        .modules
        .iter()
        .map(|r| String::from_utf8_lossy(r.name.get().as_bytes()).into_owned())
        .collect();
    let wanted = |idx: usize| module.is_none_or(|m| names[idx] == m);
    // The version a prototype belongs to: its tag, or 1 for a module's first load.
    let version_of = |p: &crate::function::FnProto| p.version.get().max(1);
    let entry = |out: &mut Vec<(usize, OldVersion)>, idx: usize, v: u32| -> usize {
        match out.iter().position(|(i, e)| *i == idx && e.version == v) {
            Some(k) => k,
            None => {
                out.push((
                    idx,
                    OldVersion {
                        module: names[idx].clone(),
                        version: v,
                        frames: Vec::new(),
                        closures: 0,
                        bytes: 0,
                        holders: Vec::new(),
                    },
                ));
                out.len() - 1
            }
        }
    };
    let threads: Vec<Gc<Thread>> = vm.heap.threads().to_vec();
    let mut hits: Vec<(usize, Gc<Thread>, String)> = Vec::new();
    for co in threads {
        let mut seen: Vec<(usize, u32)> = Vec::new();
        for ci in co.get().frames.iter().rev() {
            let (FrameKind::Lua, Some(p)) = (ci.kind, ci.proto) else {
                continue;
            };
            let pr = p.get();
            let idx = pr.module_idx.get() as usize;
            if idx == 0 || idx > current.len() || !wanted(idx - 1) {
                continue;
            }
            let v = version_of(pr);
            if v == current[idx - 1] || seen.contains(&(idx - 1, v)) {
                continue;
            }
            seen.push((idx - 1, v));
            let k = entry(&mut out, idx - 1, v);
            out[k].1.bytes += proto_bytes(pr);
            let function = format!(
                "{}:{}",
                hotlua_compiler::error::chunk_id(&pr.source),
                pr.line_defined
            );
            hits.push((k, co, function));
        }
    }
    for (k, co, function) in hits {
        let traceback = vm.traceback_of(co, None, 0);
        let main = co == vm.main;
        out[k].1.frames.push(OldFrame {
            thread: co,
            main,
            function,
            traceback,
        });
    }
    // Closures still running an old version's code: prototypes of old versions with live
    // instances (a closure updated in place is listed with the new prototype).
    let Some(st) = registry::state_ref(vm) else {
        return Vec::new();
    };
    let mut extra: Vec<(usize, u32, usize, usize, Vec<usize>)> = Vec::new();
    for (idx, rec) in st.modules.iter().enumerate() {
        if !wanted(idx) {
            continue;
        }
        for (vi, ver) in rec.versions.iter().enumerate() {
            if vi == rec.current {
                continue;
            }
            let mut todo = vec![ver.root];
            let (mut n, mut bytes, mut addrs) = (0usize, 0usize, Vec::new());
            while let Some(p) = todo.pop() {
                let pr = p.get();
                let live: Vec<Gc<LuaClosure>> = pr.instances();
                let own: Vec<usize> = live
                    .iter()
                    .filter(|c| c.get().proto() == p)
                    .map(|c| c.addr())
                    .collect();
                if !own.is_empty() {
                    n += own.len();
                    bytes += proto_bytes(pr);
                    addrs.extend(own);
                }
                todo.extend(pr.protos.iter().copied());
            }
            if n > 0 {
                extra.push((idx, ver.n, n, bytes, addrs));
            }
        }
    }
    if !extra.is_empty() {
        let targets: HashSet<usize> = extra.iter().flat_map(|e| e.4.iter().copied()).collect();
        let found = holders(vm, &targets);
        for (idx, v, n, bytes, addrs) in extra {
            let k = entry(&mut out, idx, v);
            out[k].1.closures += n;
            out[k].1.bytes += bytes;
            let mut hs: Vec<String> = addrs
                .iter()
                .flat_map(|a| {
                    found
                        .get(a)
                        .cloned()
                        .unwrap_or_else(|| vec!["unreachable".into()])
                })
                .collect();
            hs.sort();
            hs.dedup();
            out[k].1.holders = hs;
        }
    }
    let mut out: Vec<OldVersion> = out.into_iter().map(|(_, e)| e).collect();
    out.sort_by(|a, b| a.module.cmp(&b.module).then(a.version.cmp(&b.version)));
    out
}

/// Old versions that were alive at the previous call and are not any more (each reported
/// once): the runtime logs them as drained.
pub fn drained(vm: &mut Vm) -> Vec<(String, u32)> {
    let alive: Vec<(String, u32)> = census(vm, None)
        .into_iter()
        .map(|e| (e.module, e.version))
        .collect();
    let st = registry::state(vm);
    let gone: Vec<(String, u32)> = st
        .alive_old
        .iter()
        .filter(|e| !alive.contains(e))
        .cloned()
        .collect();
    st.alive_old = alive;
    gone
}

/// For each closure address in `targets`, what holds it: a breadth-first walk over values from
/// the roots, most specific first (Rust handles, the runtime's timers and tasks, the main
/// thread, the globals, the registry). Each arrival at a target names a holder (at most 8):
/// the root's kind, or the path of table keys from a global or registry table.
fn holders(vm: &Vm, targets: &HashSet<usize>) -> HashMap<usize, Vec<String>> {
    let mut found: HashMap<usize, Vec<String>> = HashMap::new();
    let mut seen: HashSet<usize> = HashSet::new();
    // (value, holder label, path) in breadth-first order.
    let mut queue: VecDeque<(Value, &'static str, String)> = VecDeque::new();
    let mut roots: Vec<(&'static str, Value)> = Vec::new();
    for v in vm.host_roots.values() {
        roots.push(("Rust handle", v));
    }
    vm.ext.roots(&mut roots);
    roots.push(("main thread", Value::Thread(vm.main)));
    roots.push(("table", Value::Table(vm.globals)));
    roots.push(("table", Value::Table(vm.registry)));
    for (label, v) in roots {
        let path = match v {
            Value::Table(t) if t == vm.globals => "_G".to_string(),
            Value::Table(t) if t == vm.registry => "registry".to_string(),
            _ => String::new(),
        };
        queue.push_back((v, label, path));
    }
    let key_text = |k: Value| -> String {
        match k {
            Value::Str(s) => format!(".{}", String::from_utf8_lossy(s.get().as_bytes())),
            Value::Int(i) => format!("[{i}]"),
            _ => "[?]".to_string(),
        }
    };
    while let Some((v, label, path)) = queue.pop_front() {
        let addr = match v {
            Value::Table(g) => g.addr(),
            Value::LuaFn(g) => g.addr(),
            Value::NativeFn(g) => g.addr(),
            Value::UserData(g) => g.addr(),
            Value::Thread(g) => g.addr(),
            _ => continue,
        };
        if targets.contains(&addr) {
            // Every holder of a target counts (a closure may be in a table and a timer).
            let who = match label {
                "table" => format!("table {path}"),
                l => l.to_string(),
            };
            let hs = found.entry(addr).or_default();
            if hs.len() < 8 && !hs.contains(&who) {
                hs.push(who);
            }
        }
        if !seen.insert(addr) {
            continue;
        }
        // Children inherit the holder; table keys extend the path of tables reached from
        // the globals or the registry, a few levels deep (no text is built beyond that, so
        // a walk over a big heap allocates little).
        let child = |p: &str, k: &dyn Fn() -> String| -> String {
            if p.is_empty() || p.len() > 120 {
                String::new()
            } else {
                format!("{p}{}", k())
            }
        };
        match v {
            Value::Table(t) => {
                let t = t.get();
                let mut k = Value::Nil;
                while let Ok(Some((key, val))) = t.next(k) {
                    k = key;
                    if val.is_collectable() {
                        queue.push_back((val, label, child(&path, &|| key_text(key))));
                    }
                    if key.is_collectable() {
                        queue.push_back((key, label, String::new()));
                    }
                }
                if let Some(mt) = t.metatable {
                    let p = child(&path, &|| "<metatable>".to_string());
                    queue.push_back((Value::Table(mt), label, p));
                }
            }
            Value::LuaFn(c) => {
                for u in c.get().upvals() {
                    queue.push_back((u.get().get().get(), label, path.clone()));
                }
            }
            Value::NativeFn(c) => {
                for u in c.get().upvals.iter() {
                    queue.push_back((u.get(), label, path.clone()));
                }
            }
            Value::UserData(u) => {
                let u = u.get();
                for &x in &u.user_values {
                    queue.push_back((x, label, path.clone()));
                }
                if let Some(mt) = u.metatable {
                    queue.push_back((Value::Table(mt), label, path.clone()));
                }
            }
            Value::Thread(th) => {
                let t = th.get();
                let top = t.live_top().min(t.stack.len());
                for &x in &t.stack[..top] {
                    queue.push_back((x, label, String::new()));
                }
            }
            _ => {}
        }
    }
    found
}

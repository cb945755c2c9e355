//! `silly.patch`: the hot reload API of the guide (`new`, `collectupval`, `join`), written in
//! Rust over the VM's closures and upvalue cells.
//!
//! A collected tree maps each function field of a module to
//! `{ val = fn, upvals = { [name] = { idx, utype, val, upid, upvals? } } }`, where `upvals`
//! of a Lua-function upvalue is the same map for that inner function. Maps are cached per
//! closure, so a recursive or shared helper appears as one table (the tree is a graph).
//! Joining reads the trees (so a script may edit them first) and connects each new closure's
//! upvalue to the old closure's cell; the semantics, including what hotlua does where
//! silly's Lua implementation fails, are in `spec/patch.md`.

use std::collections::{HashMap, HashSet};

use hotlua_vm::api::Args;
use hotlua_vm::function::LuaClosure;
use hotlua_vm::gc::Gc;
use hotlua_vm::patch::{for_each_upvalue, upvalue_id, upvalue_join};
use hotlua_vm::string::LuaStr;
use hotlua_vm::table::Table;
use hotlua_vm::{LuaError, Value, Vm};

use crate::open::set_field;

/// The field names of a collected tree, interned once per call.
struct Keys {
    val: Gc<LuaStr>,
    upvals: Gc<LuaStr>,
    idx: Gc<LuaStr>,
    utype: Gc<LuaStr>,
    upid: Gc<LuaStr>,
}

impl Keys {
    fn new(vm: &mut Vm) -> Keys {
        Keys {
            val: vm.new_str("val"),
            upvals: vm.new_str("upvals"),
            idx: vm.new_str("idx"),
            utype: vm.new_str("utype"),
            upid: vm.new_str("upid"),
        }
    }
}

/// Builds the `silly.patch` module table.
pub fn module(vm: &mut Vm) -> Gc<Table> {
    let m = vm.new_table();
    set_field(vm, m, "new", Value::LightFn(patch_new));
    m
}

/// `patch.new()`: a patch object (one per reload) whose methods are `collectupval` and
/// `join`.
fn patch_new(vm: &mut Vm, _args: Args) -> Result<usize, LuaError> {
    let mt = patch_metatable(vm);
    let p = vm.new_table();
    let setmetatable = vm.get_global("setmetatable");
    vm.call(setmetatable, &[Value::Table(p), Value::Table(mt)])?;
    vm.push(Value::Table(p))?;
    Ok(1)
}

/// The metatable of patch objects, created once and kept in the registry.
fn patch_metatable(vm: &mut Vm) -> Gc<Table> {
    let reg = vm.registry();
    let key = vm.new_str("silly.patch");
    if let Value::Table(mt) = reg.get().get_str(key) {
        return mt;
    }
    let methods = vm.new_table();
    set_field(vm, methods, "collectupval", Value::LightFn(collectupval));
    set_field(vm, methods, "join", Value::LightFn(join));
    let mt = vm.new_table();
    set_field(vm, mt, "__index", Value::Table(methods));
    set_field(vm, mt, "__name", Value::Str(key));
    let _ = vm.raw_set(reg, Value::Str(key), Value::Table(mt));
    mt
}

/// `P:collectupval(module_or_function)`.
fn collectupval(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let keys = Keys::new(vm);
    let mut cache = HashMap::new();
    let result = match vm.arg(args, 1) {
        Value::Table(module) => {
            let out = vm.new_table();
            let mut pos = 0;
            while let Some((i, k, v)) = module.get().entry_from(pos) {
                pos = i + 1;
                if !v.is_function() {
                    continue; // a VERSION string or a nested table is not patched
                }
                let entry = vm.new_table();
                put(vm, entry, keys.val, v);
                let ups = collect_fn(vm, v, &keys, &mut cache);
                put(vm, entry, keys.upvals, Value::Table(ups));
                vm.raw_set(out, k, Value::Table(entry))?;
            }
            out
        }
        v if v.is_function() => collect_fn(vm, v, &keys, &mut cache),
        _ => return Err(vm.type_error_arg(args, 1, "table or function")),
    };
    vm.push(Value::Table(result))?;
    Ok(1)
}

/// The `upvals` map of one function (empty for a native function: natives are leaves).
/// Iterative, so a long chain of nested closures cannot overflow the Rust stack.
fn collect_fn(vm: &mut Vm, f: Value, keys: &Keys, cache: &mut HashMap<usize, Gc<Table>>) -> Gc<Table> {
    let Value::LuaFn(f) = f else {
        return vm.new_table();
    };
    if let Some(t) = cache.get(&f.addr()) {
        return *t;
    }
    let root = vm.new_table();
    cache.insert(f.addr(), root);
    let mut work = vec![(f, root)];
    let mut ups = Vec::new();
    while let Some((f, map)) = work.pop() {
        ups.clear();
        for_each_upvalue(f, |i, name, cell| ups.push((i, vm.new_str(name), cell)));
        for &(i, name, cell) in &ups {
            let val = cell.get().get();
            let info = vm.new_table();
            let utype = vm.new_str(val.type_name());
            put(vm, info, keys.idx, Value::Int(i as i64 + 1));
            put(vm, info, keys.utype, Value::Str(utype));
            put(vm, info, keys.val, val);
            put(vm, info, keys.upid, upvalue_id(cell));
            if let Value::LuaFn(g) = val {
                let sub = match cache.get(&g.addr()) {
                    Some(t) => *t,
                    None => {
                        let t = vm.new_table();
                        cache.insert(g.addr(), t);
                        work.push((g, t));
                        t
                    }
                };
                put(vm, info, keys.upvals, Value::Table(sub));
            }
            put(vm, map, name, Value::Table(info));
        }
    }
    root
}

/// `t[k] = v` for a string key (which cannot be an invalid key).
fn put(vm: &mut Vm, t: Gc<Table>, k: Gc<LuaStr>, v: Value) {
    let _ = vm.raw_set(t, Value::Str(k), v);
}

/// One function pair to join: the new closure and its map, the old closure and its map (or
/// none for a function only the new version has), and the path used in reports.
struct Pair {
    new_fn: Gc<LuaClosure>,
    new_ups: Gc<Table>,
    old: Option<(Gc<LuaClosure>, Gc<Table>)>,
    path: String,
}

/// The state of one join: what was visited and what is reported.
struct Joiner<'k> {
    keys: &'k Keys,
    visited: HashSet<(usize, usize)>,
    absent: Vec<String>,
    conflicts: Vec<String>,
    /// Old cells by variable name, for upvalues the old version of the same function did not
    /// capture; `None` when old functions captured different cells under that name.
    old_vars: HashMap<Vec<u8>, Option<(Gc<LuaClosure>, usize)>>,
}

/// `P:join(up_new, up_old)` or `P:join(fn_new, upvals_new, fn_old, upvals_old)`; returns
/// `absent` and `conflicts`, both sorted arrays of upvalue paths.
fn join(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let keys = Keys::new(vm);
    let mut j = Joiner {
        keys: &keys,
        visited: HashSet::new(),
        absent: Vec::new(),
        conflicts: Vec::new(),
        old_vars: HashMap::new(),
    };
    let mut pairs = Vec::new();
    if vm.arg(args, 1).is_function() {
        let new_fn = lua_fn(vm.arg(args, 1));
        let old_fn = lua_fn(vm.arg(args, 3));
        let new_ups = vm.check_table(args, 2)?;
        let old_ups = vm.check_table(args, 4)?;
        if let (Some(nf), Some(of)) = (new_fn, old_fn) {
            j.index_old_vars(vm, &[(of, old_ups)]);
            pairs.push(Pair { new_fn: nf, new_ups, old: Some((of, old_ups)), path: "$.#".into() });
        }
    } else {
        let up_new = vm.check_table(args, 1)?;
        let up_old = vm.check_table(args, 2)?;
        let olds = j.entries(vm, up_old);
        j.index_old_vars(vm, &olds.iter().map(|(_, f, u)| (*f, *u)).collect::<Vec<_>>());
        for (name, new_fn, new_ups) in j.entries(vm, up_new) {
            let old = match up_old.get().get(name) {
                Value::Table(info) => j.fn_and_ups(info),
                _ => None,
            };
            let path = format!("$.{}", vm.to_display(name));
            pairs.push(Pair { new_fn, new_ups, old, path });
        }
    }
    j.run(vm, pairs)?;
    j.absent.sort();
    j.conflicts.sort();
    for list in [&j.absent, &j.conflicts] {
        let t = vm.new_table();
        for (i, p) in list.iter().enumerate() {
            let s = vm.str_value(p);
            vm.raw_set(t, Value::Int(i as i64 + 1), s)?;
        }
        vm.push(Value::Table(t))?;
    }
    Ok(2)
}

fn lua_fn(v: Value) -> Option<Gc<LuaClosure>> {
    match v {
        Value::LuaFn(f) => Some(f),
        _ => None,
    }
}

impl Joiner<'_> {
    /// `{ val = fn, upvals = map }` as (fn, map) when `fn` is a Lua function.
    fn fn_and_ups(&self, info: Gc<Table>) -> Option<(Gc<LuaClosure>, Gc<Table>)> {
        let t = info.get();
        match (t.get_str(self.keys.val), t.get_str(self.keys.upvals)) {
            (Value::LuaFn(f), Value::Table(u)) => Some((f, u)),
            _ => None,
        }
    }

    /// The Lua-function entries of a collected module tree: (key, fn, map).
    fn entries(&self, _vm: &mut Vm, tree: Gc<Table>) -> Vec<(Value, Gc<LuaClosure>, Gc<Table>)> {
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some((i, k, v)) = tree.get().entry_from(pos) {
            pos = i + 1;
            if let Value::Table(info) = v {
                if let Some((f, u)) = self.fn_and_ups(info) {
                    out.push((k, f, u));
                }
            }
        }
        out
    }

    /// Indexes every non-function upvalue cell reachable from the old trees by name.
    fn index_old_vars(&mut self, _vm: &mut Vm, roots: &[(Gc<LuaClosure>, Gc<Table>)]) {
        let mut seen = HashSet::new();
        let mut work: Vec<_> = roots.to_vec();
        while let Some((f, ups)) = work.pop() {
            if !seen.insert(f.addr()) {
                continue;
            }
            let mut pos = 0;
            while let Some((i, k, v)) = ups.get().entry_from(pos) {
                pos = i + 1;
                let (Value::Str(name), Value::Table(info)) = (k, v) else { continue };
                let Some(idx) = self.idx(info) else { continue };
                match info.get().get_str(self.keys.val) {
                    Value::LuaFn(g) => {
                        if let Value::Table(sub) = info.get().get_str(self.keys.upvals) {
                            work.push((g, sub));
                        }
                    }
                    v if v.is_function() => {}
                    _ => {
                        let Some(cell) = f.get().upvals.get(idx).map(|c| c.get()) else { continue };
                        let key = name.get().as_bytes().to_vec();
                        self.old_vars
                            .entry(key)
                            .and_modify(|e| {
                                if e.is_some_and(|(of, oi)| of.get().upvals[oi].get() != cell) {
                                    *e = None;
                                }
                            })
                            .or_insert(Some((f, idx)));
                    }
                }
            }
        }
    }

    /// The 0-based index of an upvalue info (`idx` is 1-based).
    fn idx(&self, info: Gc<Table>) -> Option<usize> {
        match info.get().get_str(self.keys.idx) {
            Value::Int(i) if i >= 1 => Some(i as usize - 1),
            _ => None,
        }
    }

    fn run(&mut self, vm: &mut Vm, mut work: Vec<Pair>) -> Result<(), LuaError> {
        while let Some(p) = work.pop() {
            let old_addr = p.old.map_or(0, |(f, _)| f.addr());
            if !self.visited.insert((p.new_fn.addr(), old_addr)) {
                continue;
            }
            let mut pos = 0;
            while let Some((i, k, v)) = p.new_ups.get().entry_from(pos) {
                pos = i + 1;
                let (Value::Str(name), Value::Table(ninfo)) = (k, v) else { continue };
                let Some(nidx) = self.idx(ninfo) else { continue };
                let path = format!("{}.{}", p.path, name.get().to_str_lossy());
                let nval = ninfo.get().get_str(self.keys.val);
                let oinfo = match p.old.map(|(_, ou)| ou.get().get_str(name)) {
                    Some(Value::Table(t)) => Some(t),
                    _ => None,
                };
                let Some(oinfo) = oinfo else {
                    self.unmatched(vm, &p, name, nidx, nval, path, &mut work);
                    continue;
                };
                let (Some((of, _)), Some(oidx)) = (p.old, self.idx(oinfo)) else { continue };
                let oval = oinfo.get().get_str(self.keys.val);
                match (nval, oval) {
                    (Value::LuaFn(nf), Value::LuaFn(ofn)) => {
                        // Functions are not joined: the new closure keeps calling the new
                        // helper, whose own upvalues are joined to the old helper's.
                        let nu = ninfo.get().get_str(self.keys.upvals);
                        let ou = oinfo.get().get_str(self.keys.upvals);
                        if let (Value::Table(nu), Value::Table(ou)) = (nu, ou) {
                            work.push(Pair { new_fn: nf, new_ups: nu, old: Some((ofn, ou)), path });
                        }
                    }
                    (n, o) if n.is_function() || o.is_function() => {
                        if !(n.is_nil() || o.is_nil() || n.is_function() && o.is_function()) {
                            self.conflicts.push(path);
                        }
                    }
                    (n, o) if n.is_nil() || o.is_nil() || n.type_name() == o.type_name() => {
                        upvalue_join(p.new_fn, nidx, of, oidx);
                    }
                    _ => self.conflicts.push(path),
                }
            }
        }
        Ok(())
    }

    /// An upvalue the old version of the same function does not have: join it to the old
    /// cell of the same variable wherever an old function captured it, else report it.
    #[allow(clippy::too_many_arguments)]
    fn unmatched(
        &mut self,
        vm: &mut Vm,
        p: &Pair,
        name: Gc<LuaStr>,
        nidx: usize,
        nval: Value,
        path: String,
        work: &mut Vec<Pair>,
    ) {
        if let Value::LuaFn(nf) = nval {
            // A helper the old function did not use: join its own upvalues by variable.
            if let Value::Table(nu) = self.upvals_of(p.new_ups, name) {
                work.push(Pair { new_fn: nf, new_ups: nu, old: None, path });
            }
            return;
        }
        if nval.is_function() {
            return;
        }
        match self.old_vars.get(name.get().as_bytes()) {
            Some(Some((of, oidx))) => {
                upvalue_join(p.new_fn, nidx, *of, *oidx);
            }
            Some(None) => self.conflicts.push(path),
            None => {
                if name.get().as_bytes() == b"_ENV" {
                    let g = Value::Table(vm.globals());
                    p.new_fn.get().upval(nidx).get().set(g);
                }
                self.absent.push(path);
            }
        }
    }

    fn upvals_of(&self, ups: Gc<Table>, name: Gc<LuaStr>) -> Value {
        match ups.get().get_str(name) {
            Value::Table(info) => info.get().get_str(self.keys.upvals),
            _ => Value::Nil,
        }
    }
}

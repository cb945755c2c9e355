//! What the engine knows of loaded modules: one record per module `require` loaded from
//! Lua source, with its versions, and the state of a transaction in progress.
//!
//! Everything here lives in a VM extension ([`PatchState`]), traced with the VM's roots and
//! invisible to Lua (no table or userdata a script could reach).

use std::time::SystemTime;

use crate::function::{FnProto, LuaClosure, UpvalCell};
use crate::gc::{Gc, Marker};
use crate::string::LuaStr;
use crate::table::Table;
use crate::value::Value;
use crate::Vm;

/// One version of a module.
pub struct Version {
    /// 1 for the version `require` loaded, then one more per patch.
    pub n: u32,
    /// `hotlua_compiler::source_hash` of its source.
    pub hash: u64,
    /// When it was loaded or applied.
    pub time: SystemTime,
    /// Its main function's prototype (the root of its prototype tree).
    pub root: Gc<FnProto>,
    /// The module-table fields the patch that installed it wrote (rollback restores the
    /// ones still holding what it wrote).
    pub fields: Vec<FieldChange>,
    /// Undone by `rollback`.
    pub rolled_back: bool,
}

/// A module-table field a patch wrote.
pub struct FieldChange {
    pub table: Gc<Table>,
    pub key: Value,
    pub before: Value,
    pub after: Value,
}

/// A loaded module.
pub struct ModuleRecord {
    /// The name `require` was given.
    pub name: Gc<LuaStr>,
    /// Its chunk name (`@path`), and the second argument `require` passed the chunk.
    pub chunkname: String,
    /// The main closure: its upvalues are the module's top-level locals (the module's state
    /// cells, see `hotlua_compiler::compile_module`).
    pub main: Gc<LuaClosure>,
    /// What loading it returned (its module table, usually).
    pub value: Value,
    /// Every version, oldest first.
    pub versions: Vec<Version>,
    /// The running version (an index into `versions`).
    pub current: usize,
    /// The versions that were current before, most recent last (`rollback` pops it).
    pub previous: Vec<usize>,
    /// Cells of top-level locals a later version dropped, kept so that a version that
    /// declares them again finds their state.
    pub retired: Vec<(Gc<LuaStr>, Gc<UpvalCell>)>,
}

impl ModuleRecord {
    /// The running version.
    pub fn current(&self) -> &Version {
        &self.versions[self.current]
    }

    fn trace(&self, m: &mut Marker) {
        m.mark(self.name);
        m.mark(self.main);
        m.mark_value(self.value);
        for v in &self.versions {
            m.mark(v.root);
            for f in &v.fields {
                m.mark(f.table);
                m.mark_value(f.key);
                m.mark_value(f.before);
                m.mark_value(f.after);
            }
        }
        for (d, c) in &self.retired {
            m.mark(*d);
            m.mark(*c);
        }
    }
}

/// One write of a transaction, with what undoes it.
pub enum Undo {
    /// A closure's prototype and upvalues were swapped (`LuaClosure::swap`).
    Swap(Gc<LuaClosure>),
    /// A prototype's `superseded` epoch was set (the previous value).
    Superseded(Gc<FnProto>, u32),
    /// A closure's upvalue `i` was rebound (the previous cell).
    Upval(Gc<LuaClosure>, usize, Gc<UpvalCell>),
    /// A table field was written (the previous value, raw).
    Field(Gc<Table>, Value, Value),
}

impl Undo {
    fn trace(&self, m: &mut Marker) {
        match *self {
            Undo::Swap(c) => m.mark(c),
            Undo::Superseded(p, _) => m.mark(p),
            Undo::Upval(c, _, cell) => {
                m.mark(c);
                m.mark(cell);
            }
            Undo::Field(t, k, v) => {
                m.mark(t);
                m.mark_value(k);
                m.mark_value(v);
            }
        }
    }
}

/// The engine's state in a VM.
#[derive(Default)]
pub struct PatchState {
    pub(crate) modules: Vec<ModuleRecord>,
    /// The last patch epoch used (epochs start at 1).
    pub(crate) epoch: u32,
    /// A transaction is running (patches do not nest).
    pub(crate) busy: bool,
    /// The running transaction's undo log.
    pub(crate) undo: Vec<Undo>,
    /// Values and prototypes the running transaction keeps alive (new chunks, their
    /// results, the report's threads).
    pub(crate) pins: Vec<Value>,
    pub(crate) pinned_protos: Vec<Gc<FnProto>>,
    /// The patch log (`census::log`), at most `census::LOG_LIMIT` entries.
    pub(crate) log: std::collections::VecDeque<super::census::LogEntry>,
    pub(crate) log_seq: u64,
    /// Who the next transactions are for (`census::set_actor`).
    pub(crate) actor: Option<String>,
    /// Old versions alive at the last `census::drained`.
    pub(crate) alive_old: Vec<(String, u32)>,
}

impl crate::ext::Extension for PatchState {
    fn trace(&self, m: &mut Marker) {
        for r in &self.modules {
            r.trace(m);
        }
        for u in &self.undo {
            u.trace(m);
        }
        m.mark_values(&self.pins);
        for p in &self.pinned_protos {
            m.mark(*p);
        }
    }
    crate::extension_any!();
}

impl PatchState {
    /// The record of module `name`.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        self.modules
            .iter()
            .position(|r| r.name.get().as_bytes() == name)
    }

    /// The records, in load order.
    pub fn modules(&self) -> &[ModuleRecord] {
        &self.modules
    }
}

/// The VM's engine state, created on first use.
pub fn state(vm: &mut Vm) -> &mut PatchState {
    if !vm.has_ext::<PatchState>() {
        vm.set_ext(PatchState::default());
    }
    match vm.ext_mut::<PatchState>() {
        Some(s) => s,
        // The slot is only missing while lent out by `with_ext`, which the engine never
        // does: its functions only borrow it between other calls.
        None => unreachable!("the patch state is never lent"),
    }
}

/// The engine's state, if any module was recorded.
pub fn state_ref(vm: &Vm) -> Option<&PatchState> {
    vm.ext::<PatchState>()
}

/// Marks every prototype of the tree under `root` as belonging to record `idx`.
pub(crate) fn tag_tree(root: Gc<FnProto>, idx: usize, version: u32) {
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        let pr = p.get();
        pr.module_idx.set(idx as u32 + 1);
        pr.version.set(version);
        todo.extend(pr.protos.iter().copied());
    }
}

/// Records module `name` just loaded by `require`: `loader` is the function the searcher
/// returned (recorded when it is the main function of a chunk compiled as a module) and
/// `value` what `require` will return. A module loaded again (its `package.loaded` entry
/// was cleared) replaces its record.
pub fn record_module(vm: &mut Vm, name: Gc<LuaStr>, loader: Value, value: Value) {
    let Value::LuaFn(main) = loader else {
        return;
    };
    let root = main.get().proto();
    if !root.get().module {
        return;
    }
    let chunkname = root.get().source.to_string();
    let version = Version {
        n: 1,
        hash: root.get().source_hash,
        time: SystemTime::now(),
        root,
        fields: Vec::new(),
        rolled_back: false,
    };
    let rec = ModuleRecord {
        name,
        chunkname,
        main,
        value,
        versions: vec![version],
        current: 0,
        previous: Vec::new(),
        retired: Vec::new(),
    };
    let st = state(vm);
    let idx = match st.find(name.get().as_bytes()) {
        Some(i) => {
            st.modules[i] = rec;
            i
        }
        None => {
            st.modules.push(rec);
            st.modules.len() - 1
        }
    };
    tag_tree(root, idx, 0);
}

/// The record a prototype's chunk belongs to.
pub fn record_of(vm: &Vm, p: Gc<FnProto>) -> Option<&ModuleRecord> {
    let i = p.get().module_idx.get();
    if i == 0 {
        return None;
    }
    state_ref(vm)?.modules.get(i as usize - 1)
}

/// The module-state cell of declaration `decl` (a top-level local or `_ENV`) of the module
/// whose chunk defined `p`, as the module's main closure holds it now (or a dropped local's
/// retired cell).
pub fn module_cell(vm: &Vm, p: Gc<FnProto>, decl: Gc<LuaStr>) -> Option<Gc<UpvalCell>> {
    let rec = record_of(vm, p)?;
    let main = rec.main.get();
    let mp = main.proto();
    let decls = &mp.get().upval_decls;
    if let Some(i) = decls.iter().position(|d| same_str(*d, decl)) {
        return Some(main.upval(i));
    }
    rec.retired
        .iter()
        .find(|(d, _)| same_str(*d, decl))
        .map(|(_, c)| *c)
}

/// Two strings with the same bytes (long strings are not interned).
#[inline]
pub fn same_str(a: Gc<LuaStr>, b: Gc<LuaStr>) -> bool {
    a == b || a.get().as_bytes() == b.get().as_bytes()
}

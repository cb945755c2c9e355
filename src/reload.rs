//! Hot patching from Rust: the VM's patch engine (`spec/patch.md`) behind [`Lua::patch`],
//! [`Lua::rollback_module`], [`Lua::module_versions`] and [`Lua::reload_module`].

use std::time::SystemTime;

use hotlua_vm::patch as engine;
use hotlua_vm::Value as Raw;

pub use hotlua_vm::patch::{FieldReport, FramePolicy, PatchError, Step, UpvalueReport};

use crate::error::{Error, Result};
use crate::state::{Inner, Lua};
use crate::thread::Thread;
use crate::Value;

/// A frame running a changed function when the report was made.
#[derive(Clone, Debug)]
pub struct RunningFrame {
    /// The coroutine it runs in (a task, or the main thread).
    pub thread: Thread,
    /// The function's path in its module (`M.loop`).
    pub function: String,
    /// The coroutine's traceback.
    pub traceback: String,
}

/// What a patch does (or did) to one module. Function paths name declarations: `M.f`,
/// `helper`, `M.factory/return`, `(main)`.
#[derive(Clone, Debug, Default)]
pub struct ModuleChanges {
    /// The module's name.
    pub name: String,
    /// The version running before the patch.
    pub from: u32,
    /// The version running after the patch.
    pub to: u32,
    /// The new source's hash.
    pub hash: u64,
    /// Functions whose code changed.
    pub changed: Vec<String>,
    /// Same code at other lines (updated too).
    pub moved: Vec<String>,
    /// Functions only the new version has.
    pub added: Vec<String>,
    /// Functions only the old version has.
    pub removed: Vec<String>,
    /// Identical functions.
    pub unchanged: Vec<String>,
    /// The module's top-level locals: kept, new, dropped, type-changed.
    pub upvalues: UpvalueReport,
    /// What happened to the module table's fields.
    pub fields: FieldReport,
    /// Live closures of changed functions (each runs the new code from its next call).
    pub closures: usize,
    /// Frames inside changed functions.
    pub frames: Vec<RunningFrame>,
}

/// The result of a plan, a patch or a rollback.
#[derive(Clone, Debug, Default)]
pub struct PatchReport {
    /// Applied (for a plan: applicable, as far as a dry run can tell).
    pub ok: bool,
    /// Why not: the step that failed and its message. Everything was rolled back.
    pub error: Option<PatchError>,
    /// The transaction's number (0 for a plan).
    pub epoch: u32,
    /// One entry per module, in the order asked.
    pub modules: Vec<ModuleChanges>,
}

impl PatchReport {
    /// The report of module `name`.
    pub fn module(&self, name: &str) -> Option<&ModuleChanges> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// `Ok(self)` when the patch applied, else its error as an [`Error::RuntimeError`].
    pub fn into_result(self) -> Result<PatchReport> {
        match &self.error {
            Some(e) if !self.ok => Err(Error::RuntimeError(e.message.clone())),
            _ => Ok(self),
        }
    }
}

/// One version of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleVersion {
    /// 1 for the version `require` loaded, then one more per patch.
    pub version: u32,
    /// A hash of its source.
    pub hash: u64,
    /// When it was loaded or applied.
    pub time: SystemTime,
    /// The running version.
    pub current: bool,
    /// Undone by a rollback.
    pub rolled_back: bool,
}

fn convert(inner: &Inner, r: &engine::Report) -> PatchReport {
    PatchReport {
        ok: r.ok,
        error: r.error.clone(),
        epoch: r.epoch,
        modules: r
            .modules
            .iter()
            .map(|m| ModuleChanges {
                name: m.name.clone(),
                from: m.from,
                to: m.to,
                hash: m.hash,
                changed: m.changed.clone(),
                moved: m.moved.clone(),
                added: m.added.clone(),
                removed: m.removed.clone(),
                unchanged: m.unchanged.clone(),
                upvalues: m.upvalues.clone(),
                fields: m.fields.clone(),
                closures: m.closures,
                frames: m
                    .frames
                    .iter()
                    .map(|f| RunningFrame {
                        thread: Thread(inner.new_ref(Raw::Thread(f.thread))),
                        function: f.function.clone(),
                        traceback: f.traceback.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

type VerifyFn<'a> = Box<dyn FnMut(&PatchReport) -> std::result::Result<(), String> + 'a>;

/// A patch being described: modules, options, then [`Patch::plan`] or [`Patch::apply`].
/// Made by [`Lua::patch`].
///
/// ```
/// use hotlua::{FramePolicy, Lua};
/// let lua = Lua::new();
/// lua.load_module("counter", "local n = 0\nlocal M = {}\nfunction M.hit() n = n + 1 return n end\nreturn M").unwrap();
/// lua.load("counter = require 'counter'; counter.hit()").exec().unwrap();
/// let v2 = "local n = 0\nlocal M = {}\nfunction M.hit() n = n + 10 return n end\nreturn M";
/// let plan = lua.patch().source("counter", v2).plan().unwrap();
/// assert_eq!(plan.module("counter").unwrap().changed, ["M.hit"]);
/// let report = lua
///     .patch()
///     .source("counter", v2)
///     .frames(FramePolicy::Refuse)
///     .verify(|r| if r.ok { Ok(()) } else { Err("not ok".into()) })
///     .apply()
///     .unwrap();
/// assert!(report.ok);
/// assert_eq!(lua.load("return counter.hit()").eval::<i64>().unwrap(), 11);
/// ```
pub struct Patch<'a> {
    lua: &'a Lua,
    names: Vec<String>,
    sources: Vec<(String, Vec<u8>)>,
    opts: engine::Options,
    verify: Option<VerifyFn<'a>>,
}

impl<'a> Patch<'a> {
    /// Patches module `name` from its file, found through `package.path` as `require`
    /// finds it.
    pub fn module(mut self, name: &str) -> Self {
        self.names.push(name.to_string());
        self
    }

    /// Patches module `name` with `source`.
    pub fn source(mut self, name: &str, source: impl AsRef<[u8]>) -> Self {
        self.sources
            .push((name.to_string(), source.as_ref().to_vec()));
        self
    }

    /// What to do about frames running a changed function (default: they finish on the
    /// old version).
    pub fn frames(mut self, policy: FramePolicy) -> Self {
        self.opts.frames = policy;
        self
    }

    /// Refuse the patch when a module-level variable changes type.
    pub fn strict(mut self, strict: bool) -> Self {
        self.opts.strict = strict;
        self
    }

    /// Merge kept plain state tables additively (default true).
    pub fn merge(mut self, merge: bool) -> Self {
        self.opts.merge = merge;
        self
    }

    /// Runs `f` on the report once everything is patched, before the commit: an `Err`
    /// rolls the patch back. `f` may use the Lua state (to try the new code).
    pub fn verify(
        mut self,
        f: impl FnMut(&PatchReport) -> std::result::Result<(), String> + 'a,
    ) -> Self {
        self.verify = Some(Box::new(f));
        self
    }

    fn requests(
        &self,
        vm: &mut hotlua_vm::Vm,
    ) -> std::result::Result<Vec<engine::Request>, engine::Report> {
        let mut reqs = hotlua_stdlib::reload::requests_for(vm, &self.names)?;
        for (name, src) in &self.sources {
            reqs.push(engine::Request {
                name: name.clone(),
                source: src.clone(),
                chunkname: String::new(),
            });
        }
        Ok(reqs)
    }

    /// The dry run: what [`Patch::apply`] would do. Changes nothing.
    pub fn plan(self) -> Result<PatchReport> {
        self.lua.with_vm(|inner, vm| {
            let r = match self.requests(vm) {
                Ok(reqs) => engine::plan(vm, &reqs, &self.opts),
                Err(r) => r,
            };
            Ok(convert(inner, &r))
        })
    }

    /// Patches every module as one transaction; any failure rolls everything back (the
    /// report says why: `ok` is false and `error` is set).
    pub fn apply(mut self) -> Result<PatchReport> {
        let mut verify = self.verify.take();
        let opts = self.opts;
        self.lua.with_vm(|inner, vm| {
            let reqs = match self.requests(vm) {
                Ok(reqs) => reqs,
                Err(r) => return Ok(convert(inner, &r)),
            };
            let mut check = |vm: &mut hotlua_vm::Vm, r: &engine::Report| match verify.as_mut() {
                Some(f) => verified(inner, vm, r, f),
                None => Ok(()),
            };
            let mut hooks = hotlua_stdlib::reload::RuntimeHooks::new();
            hooks.verify = Some(&mut check);
            let r = engine::apply(vm, &reqs, &opts, &mut hooks);
            if inner.pending_panic.borrow().is_some() {
                // The patch was rolled back; `with_vm` resumes the verify callback's panic.
                return Err(Error::runtime("the verify callback panicked"));
            }
            Ok(convert(inner, &r))
        })
    }
}

/// Calls a Rust verify callback (user code: it may use the state; a panic rolls the patch
/// back and is resumed once the call returns, unless panics are caught).
fn verified(
    inner: &Inner,
    vm: &mut hotlua_vm::Vm,
    r: &engine::Report,
    f: &mut VerifyFn<'_>,
) -> std::result::Result<(), String> {
    let report = convert(inner, r);
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        inner.enter_callback(vm, || f(&report))
    }));
    match res {
        Ok(r) => r,
        Err(panic) => {
            let msg = crate::function::panic_message(&*panic);
            if !inner.catch_panics {
                *inner.pending_panic.borrow_mut() = Some(panic);
            }
            Err(format!("verify panicked: {msg}"))
        }
    }
}

/// What [`Lua::reload_module`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Module-table functions now running the new code (field names, sorted).
    pub replaced: Vec<String>,
    /// Module-level variables only the new version has (they start with its values).
    pub absent: Vec<String>,
    /// Module-level variables whose value changed type between the versions (the running
    /// value stays).
    pub conflicts: Vec<String>,
}

impl Lua {
    /// Describes a patch (see [`Patch`]).
    pub fn patch(&self) -> Patch<'_> {
        Patch {
            lua: self,
            names: Vec::new(),
            sources: Vec::new(),
            opts: engine::Options::default(),
            verify: None,
        }
    }

    /// Loads `source` as module `name` the way `require` loads a file (compiled as a
    /// module, run with the name, stored in `package.loaded`), for modules a host keeps
    /// outside the file system. Returns what `require(name)` now returns; the module can
    /// be hot patched like any other.
    pub fn load_module(&self, name: &str, source: impl AsRef<[u8]>) -> Result<Value> {
        let chunk = format!("@{name}");
        let v = self.with_vm(|inner, vm| {
            let f =
                vm.load_module(source.as_ref(), &chunk, None)
                    .map_err(|e| Error::SyntaxError {
                        message: String::from_utf8_lossy(&vm.tostring_basic(e.value)).into_owned(),
                        incomplete_input: false,
                    })?;
            let nm = vm.new_str(name);
            let arg = vm.str_value(&chunk[1..]);
            let res = inner.call_raw(vm, f, &[Raw::Str(nm), arg])?;
            let mut v = res.first().copied().unwrap_or(Raw::Nil);
            let k = vm.new_str("_LOADED");
            if let Raw::Table(loaded) = vm.registry().get().get_str(k) {
                let cur = loaded.get().get_str(nm);
                if v.is_nil() {
                    v = if cur.is_nil() { Raw::Bool(true) } else { cur };
                }
                vm.raw_set(loaded, Raw::Str(nm), v)
                    .map_err(|e| inner.error_from(vm, e))?;
            }
            engine::record_module(vm, nm, f, v);
            Ok(inner.wrap(v))
        })?;
        Ok(v)
    }

    /// Puts the previous version of module `name` back (in place; state is kept). The
    /// report's `ok` says whether it applied.
    pub fn rollback_module(&self, name: &str) -> Result<PatchReport> {
        self.with_vm(|inner, vm| {
            let mut hooks = hotlua_stdlib::reload::RuntimeHooks::new();
            let r = engine::rollback(vm, name, &engine::Options::default(), &mut hooks);
            Ok(convert(inner, &r))
        })
    }

    /// The versions of module `name`, oldest first (`None`: not loaded by `require` from
    /// Lua source).
    pub fn module_versions(&self, name: &str) -> Result<Option<Vec<ModuleVersion>>> {
        self.with_vm(|_, vm| {
            Ok(engine::versions(vm, name).map(|vs| {
                vs.into_iter()
                    .map(|v| ModuleVersion {
                        version: v.n,
                        hash: v.hash,
                        time: v.time,
                        current: v.current,
                        rolled_back: v.rolled_back,
                    })
                    .collect()
            }))
        })
    }

    /// Hot-patches the loaded module `name` with new `source`, keeping its state: every
    /// live closure of a changed function runs the new code from its next call, wherever
    /// it is held, on the same upvalue cells (`spec/patch.md`). A failure (a syntax error,
    /// an error in the new chunk) changes nothing and is returned as an error.
    ///
    /// ```
    /// use hotlua::Lua;
    /// let lua = Lua::new();
    /// lua.load_module("counter", r#"
    ///     local n = 0
    ///     return { hit = function() n = n + 1; return n end }
    /// "#).unwrap();
    /// lua.load("counter = require 'counter'; hit = counter.hit; hit(); hit()").exec().unwrap();
    /// let report = lua.reload_module("counter", r#"
    ///     local n = 0
    ///     return { hit = function() n = n + 10; return n end }
    /// "#).unwrap();
    /// assert_eq!(report.replaced, ["hit"]);
    /// // The count survived the patch; the new code runs, even through a held reference.
    /// assert_eq!(lua.load("return hit()").eval::<i64>().unwrap(), 12);
    /// ```
    pub fn reload_module(&self, name: &str, source: impl AsRef<[u8]>) -> Result<ReloadReport> {
        let r = self.patch().source(name, source).apply()?.into_result()?;
        let Some(m) = r.modules.into_iter().next() else {
            return Ok(ReloadReport::default());
        };
        let mut replaced: Vec<String> = m
            .fields
            .updated
            .into_iter()
            .chain(m.fields.replaced)
            .chain(m.fields.added)
            .collect();
        replaced.sort();
        Ok(ReloadReport {
            replaced,
            absent: m.upvalues.new,
            conflicts: m.upvalues.type_changed,
        })
    }
}

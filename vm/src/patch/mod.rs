//! Hot patching, in the VM: declaration identity, the module registry, plans that change
//! nothing, and transactions that swap prototypes in place with an undo log
//! (`spec/patch.md`).
//!
//! - [`identity`]: matching two versions of a module by declaration path.
//! - [`registry`]: the modules `require` loaded, their versions and state cells.
//! - [`engine`]: [`plan`], [`apply`], [`rollback`], [`versions`].
//! - [`primitives`]: the upvalue operations the debug library and `silly.patch` use.
//!
//! The faces are `require "hotlua.reload"` (stdlib) and the embedding API's
//! `Lua::reload_*` methods; `silly.patch` is a compatibility binding with silly's own
//! semantics.

pub mod census;
pub mod engine;
pub mod identity;
pub mod primitives;
pub mod registry;
pub mod report;

pub use census::{census, drained, log, set_actor, LogEntry, OldFrame, OldVersion};
pub use engine::{
    apply, modules, plan, rollback, versions, FramePolicy, Hooks, NoHooks, Options, Request,
};
pub use primitives::{for_each_upvalue, upvalue_id, upvalue_join, upvalue_name};
pub use registry::{module_cell, record_module, record_of};
pub use report::{
    FieldReport, FrameReport, ModuleReport, PatchError, Report, Step, UpvalueReport, VersionInfo,
};

#[cfg(test)]
mod tests;

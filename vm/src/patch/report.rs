//! What a plan, a patch or a rollback tells its caller.

use std::time::SystemTime;

use crate::gc::Gc;
use crate::thread::Thread;

/// Which step of a transaction failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Another patch is in progress (patches do not nest).
    Busy,
    /// The module is not loaded, or has no version to roll back to.
    Load,
    /// The new source does not compile.
    Compile,
    /// The new chunk raised an error while it ran.
    Run,
    /// The versions cannot be matched under the options: a changed function is running
    /// (`frames = "refuse"`), a state variable changed type (`strict`), or the new chunk
    /// returned another kind of value.
    Check,
    /// The `verify` callback failed.
    Verify,
}

impl Step {
    /// Its name in reports (`compile`, `run`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Step::Busy => "busy",
            Step::Load => "load",
            Step::Compile => "compile",
            Step::Run => "run",
            Step::Check => "check",
            Step::Verify => "verify",
        }
    }
}

/// Why a transaction was rolled back (or a plan found a module it cannot patch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchError {
    pub step: Step,
    /// The module concerned, when there is one.
    pub module: Option<String>,
    pub message: String,
}

/// A frame running a changed function.
#[derive(Clone, Debug)]
pub struct FrameReport {
    /// The coroutine (a task, or the main thread) the frame is in. Kept alive by the
    /// engine until the next patch starts.
    pub thread: Gc<Thread>,
    /// The function's path in its module.
    pub function: String,
    /// The thread's traceback.
    pub traceback: String,
}

/// Module-level variables (the chunk's top-level locals), by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpvalueReport {
    /// In both versions: their cells (and values) are kept.
    pub kept: Vec<String>,
    /// Only in the new version: they start with the value the new chunk gave them.
    pub new: Vec<String>,
    /// Only in the old version: their cells are set aside (a later version declaring them
    /// again gets them back).
    pub dropped: Vec<String>,
    /// Kept, but the running value's type differs from the one the new chunk gives (a
    /// conflict under `strict`).
    pub type_changed: Vec<String>,
    /// Upvalues of a changed function that capture a local of an enclosing function the old
    /// version did not capture (`path.name`): existing closures get a fresh `nil` cell.
    pub fresh: Vec<String>,
}

/// What a patch did to the module table (`spec/patch.md`, "Module tables").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldReport {
    /// Function fields whose closure was updated in place (the field still holds it).
    pub updated: Vec<String>,
    /// Fields that now hold the new chunk's value.
    pub replaced: Vec<String>,
    /// Fields the old table did not have.
    pub added: Vec<String>,
    /// Functions the new version no longer defines (the field is now nil).
    pub removed: Vec<String>,
    /// Fields left as they were: state declared in `__keep`, or not defined by the new
    /// chunk.
    pub kept: Vec<String>,
    /// Keys added to kept plain tables (`table.key`): state tables are merged additively.
    pub merged: Vec<String>,
}

/// What happens (or happened) to one module.
#[derive(Clone, Debug, Default)]
pub struct ModuleReport {
    pub name: String,
    /// The version running before, and the one running after the patch.
    pub from: u32,
    pub to: u32,
    /// The new source's hash.
    pub hash: u64,
    /// Function paths (`M.f`, `M.factory/return`, `(main)`): code changed.
    pub changed: Vec<String>,
    /// Same code at other lines (updated too, so that tracebacks are right).
    pub moved: Vec<String>,
    /// Only in the new version.
    pub added: Vec<String>,
    /// Only in the old version.
    pub removed: Vec<String>,
    pub unchanged: Vec<String>,
    pub upvalues: UpvalueReport,
    pub fields: FieldReport,
    /// Live closures of changed or moved functions: each runs the new code from its next
    /// call, wherever it is held.
    pub closures: usize,
    /// Frames currently inside changed functions (they finish on the old version under
    /// the default policy).
    pub frames: Vec<FrameReport>,
}

/// The result of [`super::plan`], [`super::apply`] or [`super::rollback`].
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Applied (or, for a plan, applicable as far as a dry run can tell).
    pub ok: bool,
    /// Why not.
    pub error: Option<PatchError>,
    /// The transaction's epoch (0 for a plan).
    pub epoch: u32,
    pub modules: Vec<ModuleReport>,
}

/// One version of a module, as [`super::versions`] lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    pub n: u32,
    pub hash: u64,
    pub time: SystemTime,
    /// The running version.
    pub current: bool,
    /// Undone by a rollback.
    pub rolled_back: bool,
}

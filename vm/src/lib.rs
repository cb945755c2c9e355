//! hotlua-vm: the Lua 5.4 virtual machine. **Internal crate of hotlua**: embed hotlua
//! through the `hotlua` crate, whose API is sound; this crate's is not meant for hosts.
//!
//! # The VM's contract (what the other crates of hotlua rely on)
//!
//! This module states it; the files it names hold the details.
//!
//! - **Values and heap pointers are raw.** A [`Value`] holds [`Gc`] pointers into the Vm's
//!   heap; [`Gc::get`] and `Gc::get_mut` are safe functions over raw pointers, [`gc::Trace`]
//!   is a safe trait, and `Vm::heap` is a public field. They are sound only under this
//!   discipline, which the internal crates keep and no host can be asked to: that is why the
//!   `hotlua` crate never hands them out.
//! - **Liveness.** A `Gc` is valid while its object is reachable from the roots
//!   (`Vm::collect_only`: globals, registry, the running thread and the threads that resumed
//!   it, type metatables, built-ins, host roots ([`host`]), extension slots ([`ext`])) or was
//!   allocated after the last collection. Collections happen only at safe points:
//!   `Vm::gc_check`, `gc_check_limit`, `full_gc`, the interpreter's checks (table growth,
//!   `NEWTABLE`, `CONCAT`, `CLOSURE`, calls of natives), and anything that runs Lua code. A
//!   native keeps a value alive across a safe point by leaving it on the stack (its
//!   arguments, or `Vm::push`), by [`Vm::root`], or in a traced payload or extension; Rust
//!   locals are not roots. A native's argument slots stay as they were for its whole call
//!   (`debug.setlocal` does not write native frames).
//! - **References are short.** `&T` from `Gc::get` (and `&mut T` from `get_mut`) are not held
//!   across anything that may run Lua code or collect, and two `&mut` to one object never
//!   overlap (read what you need before borrowing mutably: Stacked Borrows).
//! - **Per-state data lives in the Vm** (extension slots), never in thread-locals or statics;
//!   the only thread-locals are transient records taken by the same operation
//!   ([`gc::account_extra`], the allocation-failure record).
//! - **Natives** are `fn(&mut Vm, Args) -> Result<usize, LuaError>` ([`api`]); host closures
//!   are natives with a callback ([`host`]). A native yields by returning
//!   `vm.yield_from_native(..)`'s error.
//! - **Errors** are Lua values ([`LuaError`]) with PUC's texts; running out of memory is
//!   "not enough memory" (`Vm::memory_error`), for the limit (`Heap::set_limit`) and for
//!   allocations that can be large.
//! - **Prototypes are sealed**: the interpreter trusts compiler output (registers, constants,
//!   jumps in range) and only `FnProto::instantiate` (crate-private) builds them.
//! - `Vm::new` opens no library: hotlua-stdlib installs them.
//!
//! Rust stack: Lua-to-Lua calls, returns, metamethods written in Lua and `pcall` run inside
//! one interpreter loop without Rust recursion; only natives calling back into Lua recurse,
//! bounded by 200 levels ("C stack overflow"), each under 5 KB of Rust stack in release
//! builds (about 40 KB in debug builds: run debug builds on a thread with a 16 MB stack or
//! more, as the `hotlua` binary does).
//!
//! ```
//! use hotlua_vm::{Vm, Value};
//! let mut vm = Vm::new();
//! # if let Ok(f) = vm.load(b"return 1 + 2", "=example", None) {
//! let r = vm.call(f, &[]).unwrap();
//! assert!(matches!(r[0], Value::Int(3)));
//! # }
//! ```

pub mod gc;
pub mod string;
pub mod table;
pub mod userdata;
pub mod value;

pub mod api;
pub mod arith;
pub mod call;
pub mod capture;
pub mod compare;
pub mod coroutine;
pub mod deadline;
pub mod debuginfo;
pub mod docall;
pub mod dump;
pub mod error;
pub mod ext;
pub mod function;
pub mod hooks;
pub mod host;
pub mod interp;
pub mod libsupport;
pub mod meta;
pub mod numfmt;
pub mod patch;
pub mod state;
pub mod thread;

pub use api::{Args, NativeFn, RootedValue};
pub use coroutine::Resume;
pub use error::LuaError;
pub use gc::Gc;
pub use state::Vm;
pub use value::Value;

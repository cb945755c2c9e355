//! hotlua-vm: the Lua 5.4 virtual machine.
//!
//! Object model (values, heap and GC, strings, tables, userdata) and execution (closures,
//! threads, the interpreter loop, calls and errors, metamethods, the embedding API).
//!
//! Rust stack: Lua-to-Lua calls, returns, metamethods written in Lua and `pcall` run inside
//! one interpreter loop without Rust recursion; only natives calling back into Lua recurse,
//! bounded by 200 levels ("C stack overflow"), each under 5 KB of Rust stack in release
//! builds (about 40 KB in debug builds: run debug builds on a thread with a 16 MB stack or
//! more, as the `hotlua` binary does).
//!
//! Values returned to the host (`Vm::call` results, `LuaError::value`) are not roots: use
//! them before the next call into the Vm, or keep them with [`Vm::root`].
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
pub mod compare;
pub mod coroutine;
pub mod debuginfo;
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
pub mod runner;
pub mod state;
pub mod thread;

pub use api::{Args, NativeFn, RootedValue};
pub use coroutine::Resume;
pub use error::LuaError;
pub use gc::Gc;
pub use state::Vm;
pub use value::Value;

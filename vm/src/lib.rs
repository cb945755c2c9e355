//! hotlua-vm: the Lua 5.4 virtual machine.
//!
//! Object model (values, heap and GC, strings, tables, userdata) and execution (closures,
//! threads, the interpreter loop, calls and errors, metamethods, the embedding API).
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
pub mod baselib;
pub mod call;
pub mod compare;
pub mod debuginfo;
pub mod error;
pub mod function;
pub mod interp;
pub mod libsupport;
pub mod meta;
pub mod numfmt;
pub mod patch;
pub mod runner;
pub mod state;
pub mod thread;

pub use api::{Args, NativeFn, RootedValue};
pub use error::LuaError;
pub use gc::Gc;
pub use state::Vm;
pub use value::Value;

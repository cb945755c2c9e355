//! hotlua: a Lua 5.4 virtual machine with first-class hot patching, embeddable in Rust.
//!
//! The embedding API has mlua's shapes (0.10, Lua 5.4 flavour): code written against mlua
//! for this subset compiles against hotlua by changing the import. Handles ([`Table`],
//! [`Function`], [`String`], ...) have no lifetime, are cheap to clone, and keep their
//! value alive; conversions go through [`IntoLua`]/[`FromLua`]; Rust closures and types
//! become Lua functions and userdata.
//!
//! ```
//! use hotlua::{Lua, Result, Table, UserData, UserDataMethods};
//!
//! struct Account { balance: i64 }
//! impl UserData for Account {
//!     fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
//!         methods.add_method_mut("deposit", |_, this, amount: i64| {
//!             if amount <= 0 { return Err(hotlua::Error::runtime("amount must be positive")) }
//!             this.balance += amount;
//!             Ok(this.balance)
//!         });
//!         methods.add_method("balance", |_, this, ()| Ok(this.balance));
//!     }
//! }
//!
//! fn main() -> Result<()> {
//!     let lua = Lua::new();
//!     // A Rust closure with state, callable from Lua.
//!     let greeting = String::from("hello");
//!     lua.globals().set("greet", lua.create_function(move |_, name: String| {
//!         Ok(format!("{greeting}, {name}"))
//!     })?)?;
//!     lua.globals().set("acct", Account { balance: 10 })?;
//!     let config: Table = lua.load(r#"
//!         acct:deposit(32)
//!         local ok, err = pcall(acct.deposit, acct, -1)
//!         return { message = greet("lua"), balance = acct:balance(), refused = not ok }
//!     "#).eval()?;
//!     assert_eq!(config.get::<String>("message")?, "hello, lua");
//!     assert_eq!(config.get::<i64>("balance")?, 42);
//!     assert!(config.get::<bool>("refused")?);
//!     Ok(())
//! }
//! ```
//!
//! # Soundness
//! No program using this crate without `unsafe` can cause undefined behaviour, whatever it
//! does with handles, collections, dropped states or panics, and no Lua program can (the
//! `debug` library included). The VM's raw values and heap pointers never leave the
//! internal crates (`hotlua-vm`, `hotlua-stdlib`, which are internal: their APIs assume the
//! VM's discipline and are not part of this contract). `state.rs` explains the discipline
//! the facade keeps; `scripts/miri.sh` runs the embedding tests under Miri.
//!
//! # Host limits
//! [`Lua::set_memory_limit`], [`Lua::set_hook`] (an instruction budget a script cannot
//! remove), [`Lua::interrupt_handle`] (a `Send + Sync` watchdog handle), and sandboxes
//! ([`Lua::new_with`] opens only the [`StdLib`]s asked for; [`Chunk::set_environment`]).
//!
//! # The runtime and hot patching
//! Each state has its own silly event loop; [`Lua::spawn`] starts tasks and [`Lua::poll`]
//! drives the loop without taking the host's thread. [`Lua::patch`] plans and applies hot
//! patches as transactions (the VM's engine, `spec/patch.md`): every live closure of a
//! changed function runs the new code in place, state is kept, a failure rolls everything
//! back; [`Lua::rollback_module`] and [`Lua::module_versions`] complete it, and
//! [`Lua::load_module`] loads a module from a string as `require` would.

#![warn(missing_docs)]

mod chunk;
pub mod cli;
mod conversion;
mod error;
mod function;
mod hook;
mod lua;
mod multi;
pub mod prelude;
mod reload;
mod runtime;
mod state;
mod string;
mod table;
mod thread;
mod userdata;
mod value;

pub use chunk::{AsChunk, Chunk, ChunkMode};
pub use conversion::{FromLua, IntoLua};
pub use error::{Error, ErrorContext, ExternalError, ExternalResult, Result};
pub use function::Function;
pub use hook::{Debug, DebugEvent, DebugSource, HookTriggers, VmState};
pub use lua::{InterruptHandle, LuaOptions, RegistryKey, StdLib};
pub use multi::{FromLuaMulti, IntoLuaMulti, MultiValue, Variadic};
pub use reload::{
    FieldReport, FramePolicy, ModuleChanges, ModuleVersion, Patch, PatchError, PatchReport,
    ReloadReport, RunningFrame, Step, UpvalueReport,
};
pub use runtime::LoopStatus;
pub use state::Lua;
pub use string::{BorrowedBytes, BorrowedStr, String};
pub use table::{Table, TablePairs, TableSequence};
pub use thread::{Thread, ThreadStatus};
pub use userdata::{
    AnyUserData, MetaMethod, UserData, UserDataFields, UserDataMethods, UserDataRef, UserDataRefMut,
};
pub use value::{Integer, LightUserData, Nil, Number, Value};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Misuses that must not compile.
///
/// Handles and borrows stay on the state's thread:
/// ```compile_fail
/// let lua = hotlua::Lua::new();
/// let t = lua.create_table().unwrap();
/// std::thread::spawn(move || drop(t));
/// ```
/// A borrowed string cannot outlive its handle:
/// ```compile_fail
/// let lua = hotlua::Lua::new();
/// let s = lua.create_string("x").unwrap();
/// let text = s.to_str().unwrap();
/// drop(s);
/// println!("{}", &*text);
/// ```
/// A userdata borrow is not `Send` (it holds the state):
/// ```compile_fail
/// struct P(i32);
/// impl hotlua::UserData for P {}
/// let lua = hotlua::Lua::new();
/// let ud = lua.create_userdata(P(1)).unwrap();
/// let r = ud.borrow::<P>().unwrap();
/// std::thread::spawn(move || drop(r));
/// ```
/// The VM's raw values are not part of this crate:
/// ```compile_fail
/// let v: hotlua::vm::Value = hotlua::vm::Value::Nil;
/// ```
#[cfg(doctest)]
pub struct CompileFailDoctests;

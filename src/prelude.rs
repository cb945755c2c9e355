//! The names of this crate prefixed with `Lua`, for a glob import that does not clash with
//! the standard library's (`String`, `Error`, `Result`), as mlua's prelude.
//!
//! ```
//! use hotlua::prelude::*;
//! fn run(lua: &Lua) -> LuaResult<LuaTable> {
//!     let t: LuaTable = lua.create_table()?;
//!     let v: LuaValue = LuaValue::Integer(1);
//!     t.set("x", v)?;
//!     Ok(t)
//! }
//! assert!(run(&Lua::new()).is_ok());
//! ```

pub use crate::{
    AnyUserData as LuaAnyUserData, Chunk as LuaChunk, Debug as LuaDebug,
    DebugEvent as LuaDebugEvent, Error as LuaError, ErrorContext as LuaErrorContext,
    ExternalError as LuaExternalError, ExternalResult as LuaExternalResult, FromLua as LuaFromLua,
    FromLuaMulti as LuaFromLuaMulti, Function as LuaFunction, HookTriggers as LuaHookTriggers,
    IntoLua as LuaIntoLua, IntoLuaMulti as LuaIntoLuaMulti, LightUserData as LuaLightUserData, Lua,
    LuaOptions, MetaMethod as LuaMetaMethod, MultiValue as LuaMultiValue, Nil as LuaNil,
    RegistryKey as LuaRegistryKey, Result as LuaResult, StdLib as LuaStdLib, String as LuaString,
    Table as LuaTable, Thread as LuaThread, ThreadStatus as LuaThreadStatus,
    UserData as LuaUserData, UserDataFields as LuaUserDataFields,
    UserDataMethods as LuaUserDataMethods, UserDataRef as LuaUserDataRef,
    UserDataRefMut as LuaUserDataRefMut, Value as LuaValue, Variadic as LuaVariadic,
    VmState as LuaVmState,
};

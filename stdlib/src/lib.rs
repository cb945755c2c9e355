//! hotlua-stdlib: Lua's standard libraries, the module loader and the silly.* runtime.

//! hotlua-stdlib: Lua's standard libraries, the module loader and the silly.* runtime.
pub mod cfmt;
pub mod random;
pub mod strftime;
pub mod string;
pub mod silly;
pub mod math;
pub mod open;
pub mod table;
pub mod utf8;
pub mod io;
pub mod os;
pub mod package;

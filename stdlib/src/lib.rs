//! hotlua-stdlib: Lua's standard libraries, the module loader and the silly.* runtime.
//! **Internal crate of hotlua**: its functions work on the VM's raw values under the
//! discipline hotlua-vm's crate docs state; embed hotlua through the `hotlua` crate.
pub mod base;
pub mod cfmt;
pub mod corolib;
pub mod dblib;
pub mod io;
pub mod math;
pub mod open;
pub mod os;
pub mod package;
pub mod random;
pub mod reload;
pub mod silly;
pub mod strftime;
pub mod string;
pub mod table;
pub mod utf8;

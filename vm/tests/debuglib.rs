//! The debug library: runs every `tests/lua/debug/*.lua` script and compares its output
//! with the `.expected` file and with `lua5.4` when installed.

mod common;

#[test]
fn debug_scripts_match_lua54() {
    common::check_dir("debug");
}

//! Parser tests: AST shapes, precedence by tree shape, and luac's error messages.

#[allow(unused_imports)]
use hotlua_compiler::ast::*;
use hotlua_compiler::parse;

/// Prints the parse of each file named in `HOTLUA_PARSE` (one case per line, `\n` escaped as
/// `\\n`): a development aid for comparing messages with `luac5.4 -p`.
#[test]
#[ignore]
fn dump_cases() {
    let Ok(path) = std::env::var("HOTLUA_PARSE") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    for case in text.lines() {
        let src = case.replace("\\n", "\n");
        match parse(src.as_bytes(), "=t.lua") {
            Ok(c) => println!("OK {:?}", c.block.stats.len()),
            Err(e) => println!("{}", e.message),
        }
    }
}

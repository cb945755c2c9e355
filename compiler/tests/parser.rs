//! Parser tests: AST shapes, precedence by tree shape, Lua 5.4's `(` continuation rule, the
//! depth limit, robustness on hostile input, and luac's exact error messages.

use hotlua_compiler::ast::*;
use hotlua_compiler::parse;

thread_local! {
    /// The string table of the chunk the test looks at (names in the tree are ids into it).
    static STRINGS: std::cell::RefCell<Strings> = std::cell::RefCell::new(Strings::new());
}

/// Makes `c`'s names readable by [`txt`] and [`bytes`].
fn use_strings(c: &Chunk) {
    STRINGS.with(|s| *s.borrow_mut() = c.strings.clone());
}

/// The text of a name of the current chunk.
fn txt(n: Sym) -> String {
    STRINGS.with(|s| s.borrow().name(n).into_owned())
}

/// The bytes of a string of the current chunk.
fn bytes(n: Sym) -> Vec<u8> {
    STRINGS.with(|s| s.borrow().get(n).to_vec())
}

/// Parses `src` as a file's text (a leading `#` line is skipped, as loaders do).
fn chunk(src: &str) -> Chunk {
    match parse(hotlua_compiler::strip_file_header(src.as_bytes()), "=t.lua") {
        Ok(c) => {
            use_strings(&c);
            c
        }
        Err(e) => panic!("{src:?} failed: {e}"),
    }
}

fn err(src: &str) -> String {
    match parse(src.as_bytes(), "=t.lua") {
        Ok(_) => panic!("{src:?} parsed"),
        Err(e) => e.message,
    }
}

/// The expression of `return <e>`.
fn ret(src: &str) -> Expr {
    let c = chunk(&format!("return {src}"));
    c.block.ret.clone().unwrap().exprs[0].clone()
}

/// A compact rendering of an expression tree, for shape assertions.
fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Nil => "nil".into(),
        ExprKind::True => "true".into(),
        ExprKind::False => "false".into(),
        ExprKind::Vararg => "...".into(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => format!("{f:?}"),
        ExprKind::Str(s) => format!("{:?}", String::from_utf8_lossy(&bytes(*s))),
        ExprKind::Function(b) => {
            let ps: Vec<String> = b.params.iter().map(|p| txt(*p)).collect();
            format!("fn({})", ps.join(","))
        }
        ExprKind::Table(fields) => {
            let fs: Vec<String> = fields
                .iter()
                .map(|f| match f {
                    Field::Pos(e) => show(e),
                    Field::Named(n, e) => format!("{}={}", txt(*n), show(e)),
                    Field::Keyed(k, v) => format!("[{}]={}", show(k), show(v)),
                })
                .collect();
            format!("{{{}}}", fs.join(" "))
        }
        ExprKind::Name(n) => txt(*n),
        ExprKind::Index(x) => {
            let IndexExpr { obj, key } = &**x;
            format!("{}[{}]", show(obj), show(key))
        }
        ExprKind::Call(c) => {
            let CallExpr { func, args } = &**c;
            format!("{}({})", show(func), list(args))
        }
        ExprKind::Method(m) => {
            let MethodExpr { obj, name, args } = &**m;
            format!("{}:{}({})", show(obj), txt(*name), list(args))
        }
        ExprKind::Paren(e) => format!("<{}>", show(e)),
        ExprKind::Binary(b) => {
            let BinaryExpr { op, lhs, rhs } = &**b;
            format!("({} {op:?} {})", show(lhs), show(rhs))
        }
        ExprKind::Unary(u) => {
            let UnaryExpr { op, operand } = &**u;
            format!("({op:?} {})", show(operand))
        }
    }
}

fn list(es: &[Expr]) -> String {
    es.iter().map(show).collect::<Vec<_>>().join(", ")
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        ("1 + 2 * 3", "(1 Add (2 Mul 3))"),
        ("1 * 2 + 3", "((1 Mul 2) Add 3)"),
        ("1 - 2 - 3", "((1 Sub 2) Sub 3)"),
        ("a .. b .. c", "(a Concat (b Concat c))"),
        ("2 ^ 3 ^ 2", "(2 Pow (3 Pow 2))"),
        ("-x ^ 2", "(Neg (x Pow 2))"),
        ("2 ^ -3", "(2 Pow (Neg 3))"),
        ("not a == b", "((Not a) Eq b)"),
        ("a or b and c", "(a Or (b And c))"),
        ("a and b or c", "((a And b) Or c)"),
        ("a < b == c", "((a Lt b) Eq c)"),
        ("a | b ~ c & d", "(a BOr (b BXor (c BAnd d)))"),
        ("a & b << c", "(a BAnd (b Shl c))"),
        ("a << b .. c", "(a Shl (b Concat c))"),
        ("a .. b + c", "(a Concat (b Add c))"),
        ("1 + 2 // 3 % 4 / 5", "(1 Add (((2 IDiv 3) Mod 4) Div 5))"),
        ("#t + 1", "((Len t) Add 1)"),
        ("~~x", "(BNot (BNot x))"),
        ("- - x", "(Neg (Neg x))"),
        ("a ~= b", "(a Ne b)"),
        ("a >= b", "(a Ge b)"),
        ("a > b", "(a Gt b)"),
        ("a <= b", "(a Le b)"),
        ("a >> b", "(a Shr b)"),
        ("(a + b) * c", "(<(a Add b)> Mul c)"),
        ("a or b or c", "((a Or b) Or c)"),
        ("x ^ y ^ -z", "(x Pow (y Pow (Neg z)))"),
        ("-2 ^ 2", "(Neg (2 Pow 2))"),
        ("not not x", "(Not (Not x))"),
        ("1 .. 2", "(1 Concat 2)"),
    ];
    for (src, want) in cases {
        assert_eq!(show(&ret(src)), want, "{src}");
    }
}

#[test]
fn primary_and_suffix_expressions() {
    let cases = [
        ("a.b.c", "a[\"b\"][\"c\"]"),
        ("a[1][2]", "a[1][2]"),
        ("a.b:c(1, 2)", "a[\"b\"]:c(1, 2)"),
        ("f\"x\"", "f(\"x\")"),
        ("f[[x]]", "f(\"x\")"),
        ("f{1}", "f({1})"),
        ("f{}{}", "f({})({})"),
        ("a:b\"s\"", "a:b(\"s\")"),
        ("(f)()", "<f>()"),
        ("(f())", "<f()>"),
        ("...", "..."),
        ("nil", "nil"),
        ("true", "true"),
        ("false", "false"),
        ("0x10", "16"),
        ("1e2", "100.0"),
        ("0x1p-2", "0.25"),
        ("9223372036854775808", "9.223372036854776e18"),
        ("function(a, b) end", "fn(a,b)"),
        ("{1, 2; x = 3, [4] = 5,}", "{1 2 x=3 [4]=5}"),
        ("{f()}", "{f()}"),
        ("{}", "{}"),
    ];
    for (src, want) in cases {
        assert_eq!(show(&ret(src)), want, "{src}");
    }
}

#[test]
fn statements() {
    let c = chunk(
        "local a <const>, b <close>, c = 1, 2\n\
         local function f(x, ...) return ... end\n\
         function t.a.b:m() end\n\
         if a then elseif b then else end\n\
         while a do break end\n\
         repeat local z until z\n\
         for i = 1, 2, 3 do end\n\
         for i = 1, 2 do end\n\
         for k, v in pairs(t) do end\n\
         do goto l end ::l::\n\
         a, b.c, d[1] = 1, 2\n\
         f(1);;\n\
         return 1, 2;",
    );
    let stats = &c.block.stats;
    assert_eq!(stats.len(), 13);
    match &stats[0].kind {
        StatKind::Local { names, exprs } => {
            let attrs: Vec<_> = names.iter().map(|n| (txt(n.name), n.attrib)).collect();
            let attrs: Vec<_> = attrs.iter().map(|(n, a)| (n.as_str(), *a)).collect();
            assert_eq!(
                attrs,
                [
                    ("a", Attrib::Const),
                    ("b", Attrib::Close),
                    ("c", Attrib::None)
                ]
            );
            assert_eq!(exprs.len(), 2);
        }
        k => panic!("{k:?}"),
    }
    match &stats[1].kind {
        StatKind::LocalFunction { name, body } => {
            assert_eq!(txt(*name), "f");
            assert_eq!(
                body.params.iter().map(|p| txt(*p)).collect::<Vec<_>>(),
                ["x"]
            );
            assert!(body.is_vararg);
            assert_eq!((body.line, body.end_line), (2, 2));
        }
        k => panic!("{k:?}"),
    }
    match &stats[2].kind {
        StatKind::Function { name, body } => {
            let path: Vec<String> = name.path.iter().map(|s| txt(*s)).collect();
            assert_eq!(path, ["t", "a", "b"]);
            assert_eq!(name.method.map(txt).as_deref(), Some("m"));
            assert!(!body.is_vararg);
        }
        k => panic!("{k:?}"),
    }
    match &stats[3].kind {
        StatKind::If { arms, else_block } => {
            assert_eq!(arms.len(), 2);
            assert!(else_block.is_some());
        }
        k => panic!("{k:?}"),
    }
    assert!(
        matches!(&stats[4].kind, StatKind::While { body, .. } if matches!(body.stats[0].kind, StatKind::Break))
    );
    assert!(matches!(&stats[5].kind, StatKind::Repeat { cond, .. } if show(cond) == "z"));
    assert!(matches!(
        &stats[6].kind,
        StatKind::NumFor(f) if f.step.is_some()
    ));
    assert!(matches!(&stats[7].kind, StatKind::NumFor(f) if f.step.is_none() && txt(f.var) == "i"));
    assert!(
        matches!(&stats[8].kind, StatKind::GenFor { names, exprs, .. } if names.len() == 2 && exprs.len() == 1)
    );
    assert!(
        matches!(&stats[9].kind, StatKind::Do(b) if matches!(&b.stats[0].kind, StatKind::Goto(l) if txt(*l) == "l"))
    );
    assert!(matches!(&stats[10].kind, StatKind::Label(l) if txt(*l) == "l"));
    match &stats[11].kind {
        StatKind::Assign { targets, values } => {
            assert_eq!(list(targets), "a, b[\"c\"], d[1]");
            assert_eq!(list(values), "1, 2");
        }
        k => panic!("{k:?}"),
    }
    assert!(matches!(&stats[12].kind, StatKind::Call(e) if show(e) == "f(1)"));
    let r = c.block.ret.as_ref().unwrap();
    assert_eq!((r.exprs.len(), r.line), (2, 13));
    assert_eq!(c.last_line, 13);
}

#[test]
fn lines_of_nodes() {
    let c = chunk("x =\n  a\n  +\n  b\nf(\n1)\n");
    match &c.block.stats[0].kind {
        StatKind::Assign { values, .. } => {
            assert_eq!(values[0].line, 3, "binary nodes take the operator's line");
            assert_eq!(c.block.stats[0].line, 1);
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(c.block.stats[1].line, 5);
    assert_eq!(c.last_line, 7);
    let c = chunk("x = [[\na\nb]] y = 1");
    assert_eq!(c.block.stats[1].line, 3);
    let c = chunk("x = 1\r\ny = 2\n\rz = 3\r\rw = 4");
    let lines: Vec<u32> = c.block.stats.iter().map(|s| s.line).collect();
    assert_eq!(lines, [1, 2, 3, 5]);
    let c = chunk("#!/usr/bin/lua\nx = 1");
    assert_eq!(c.block.stats[0].line, 2);
}

/// Lua 5.4: a `(` after a prefix expression continues it as a call, even on a new line.
#[test]
fn paren_continues_a_prefix_expression() {
    let c = chunk("a = b\n(f)(x)");
    assert_eq!(c.block.stats.len(), 1);
    match &c.block.stats[0].kind {
        StatKind::Assign { values, .. } => assert_eq!(show(&values[0]), "b(f)(x)"),
        k => panic!("{k:?}"),
    }
    for src in [
        "f()\n(g)()",
        "local x = y\n(f)()",
        "repeat until x\n(f)()",
        "x = a.b\n(f)()",
    ] {
        assert_eq!(chunk(src).block.stats.len(), 1, "{src}");
    }
    // After a literal, a keyword-ended statement, or a `;`, a new statement starts.
    for src in [
        "x = 1\n(f)()",
        "x = 'a'\n(f)()",
        "x = {}\n(f)()",
        "local x\n(f)()",
        "local x = 1\n(f)()",
        "x = function() end\n(f)()",
        "do end\n(f)()",
        "x = b;\n(f)()",
        "repeat until 1\n(f)()",
        "::l::\n(f)()",
        "goto l\n(f)() ::l::",
    ] {
        let c = chunk(src);
        let n = c.block.stats.len();
        assert!(n >= 2, "{src}");
        assert!(
            matches!(&c.block.stats[1].kind, StatKind::Call(e) if show(e) == "<f>()"),
            "{src}"
        );
    }
}

#[test]
fn depth_limit() {
    let ok = format!("return {}1{}", "(".repeat(150), ")".repeat(150));
    chunk(&ok);
    let deep = format!("return {}1{}", "(".repeat(300), ")".repeat(300));
    assert_eq!(err(&deep), "C stack overflow");
    let deep = format!("x = {}{}", "{".repeat(300), "}".repeat(300));
    assert_eq!(err(&deep), "C stack overflow");
    let deep = format!("{}\n{}", "do ".repeat(300), "end ".repeat(300));
    assert_eq!(err(&deep), "C stack overflow");
    let deep = format!("x = {}1", "- ".repeat(300));
    assert_eq!(err(&deep), "C stack overflow");
    let deep = format!("x = {}1", "a .. ".repeat(300));
    assert_eq!(err(&deep), "C stack overflow");
}

#[test]
fn huge_inputs_neither_panic_nor_overflow() {
    let n = 100_000;
    for src in [
        format!("return {}1{}", "(".repeat(n), ")".repeat(n)),
        format!("return {}1", "- ".repeat(n)),
        format!("return {}1", "not ".repeat(n)),
        format!("return {}", "{".repeat(n)),
        format!("return {}{}", "{".repeat(n), "}".repeat(n)),
        format!("return {}", "(".repeat(n)),
        "do ".repeat(n),
        format!("return {}1", "a .. ".repeat(n)),
        format!("return {}1", "2 ^ ".repeat(n)),
        format!("x = f{}", "(".repeat(n)),
    ] {
        assert!(parse(src.as_bytes(), "=t").is_err());
    }
    // Left-associative chains and suffix chains are not depth-limited.
    let sum = format!("return 1{}", "+1".repeat(1_000_000));
    let c = chunk(&sum);
    assert!(c.block.depth <= 4);
    drop(c);
    let calls = format!("f{}", "()".repeat(200_000));
    chunk(&calls);
    let index = format!("return a{}", ".b".repeat(200_000));
    chunk(&index);
    let stats = "x = 1\n".repeat(200_000);
    assert_eq!(chunk(&stats).block.stats.len(), 200_000);
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SAMPLE: &str = r#"#!/usr/bin/env lua
local M <const> = {}
local function helper(a, b, ...)
  local t = {a, b, n = select('#', ...), [1 + 2] = "three"; ...}
  for i = 1, #t, 2 do t[i] = t[i] and -t[i] ^ 2 or ~i end
  for k, v in pairs(t) do
    if type(v) == "string" then v = v .. '\x41\65\u{48}\z
          tail' elseif k // 2 > 0x1p4 then goto skip else break end
    ::skip::
  end
  while a < b do a = a << 1 | 1 end
  repeat b = b - 1 until b <= 0 or not a
  return M.x.y:z"s" {1} [[long
string]], f(...) --[==[ long
comment ]==]
end
function M.run(x) return helper(x, 2, 3) end
-- a comment
return M
"#;

#[test]
fn truncations_and_mutations_never_panic() {
    chunk(SAMPLE);
    let bytes = hotlua_compiler::strip_file_header(SAMPLE.as_bytes());
    for end in 0..=bytes.len() {
        let _ = parse(&bytes[..end], "=t");
        let _ = parse(&bytes[end..], "=t");
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let alphabet = b"()[]{}=.,;:+-*/^%#&|~<>\"'\\\n\r\t 0123456789xpeEabz_[=]-\x00\xff";
    let rounds = std::env::var("HOTLUA_FUZZ_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    for _ in 0..rounds {
        let mut m = bytes.to_vec();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(m.len());
            match rng.below(3) {
                0 => m[i] = alphabet[rng.below(alphabet.len())],
                1 => {
                    m.remove(i);
                }
                _ => m.insert(i, alphabet[rng.below(alphabet.len())]),
            }
        }
        let _ = parse(&m, "=t");
    }
    for len in [1, 7, 100, 1000] {
        for _ in 0..200 {
            let g: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let _ = parse(&g, "=t");
            let g: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            let _ = parse(&g, "=t");
        }
    }
}

#[test]
fn chunk_names_in_messages() {
    let e = parse(b"x = = 1", "@dir/x.lua").unwrap_err();
    assert_eq!(e.message, "dir/x.lua:1: unexpected symbol near '='");
    let e = parse(b"x = = 1", "x = = 1").unwrap_err();
    assert_eq!(
        e.message,
        "[string \"x = = 1\"]:1: unexpected symbol near '='"
    );
    let e = parse(b"\n\nx y", "=stdin").unwrap_err();
    assert_eq!(e.message, "stdin:3: syntax error near 'y'");
}

#[test]
fn lexical_and_syntax_errors_come_in_source_order() {
    assert_eq!(err("x = = \"abc"), "t.lua:1: unexpected symbol near '='");
    assert_eq!(err("x = \"abc"), "t.lua:1: unfinished string near <eof>");
    assert_eq!(err("x = 1\ny = 3x"), "t.lua:2: malformed number near '3x'");
    assert_eq!(
        err("f(\n[==[\nabc"),
        "t.lua:3: unfinished long string (starting at line 2) near <eof>"
    );
    assert_eq!(
        err("x = 1 --[[ abc\n"),
        "t.lua:2: unfinished long comment (starting at line 1) near <eof>"
    );
    assert_eq!(
        err("x = \"\\u{12\""),
        "t.lua:1: missing '}' near '\"\\u{12\"'"
    );
    assert_eq!(err("x = \"\\u12\""), "t.lua:1: missing '{' near '\"\\u1'");
}

/// The parser lexes tokens in batches ahead of itself: a lexical error lexed ahead must not
/// change the error of a parse that stops before reaching it.
#[test]
fn errors_lexed_ahead_are_ignored_until_reached() {
    // A syntax error, then a lexical one a few tokens later (same batch) or much later.
    assert_eq!(
        err("x = = 1\ny = \"abc"),
        "t.lua:1: unexpected symbol near '='"
    );
    let far = format!("x = = 1\n{}z = \"abc", "y = 1\n".repeat(100));
    assert_eq!(err(&far), "t.lua:1: unexpected symbol near '='");
    // Too deep: the parse stops at the reduction, before the unfinished string.
    let deep = format!("x = {}1{}\n\"abc", "(".repeat(300), ")".repeat(300));
    assert_eq!(err(&deep), "C stack overflow");
    // A lexical error the parser reaches (after two batches here) still wins.
    let reached = format!("{}x = \"abc", "y = 1\n".repeat(40));
    assert_eq!(err(&reached), "t.lua:41: unfinished string near <eof>");
}

/// Every case was checked against `luac5.4 -p` (Lua 5.4.4).
#[test]
fn syntax_errors_match_luac() {
    let cases: &[(&str, &str)] = &[
        ("x y", "t.lua:1: syntax error near 'y'"),
        ("x, y z", "t.lua:1: '=' expected near 'z'"),
        ("x +", "t.lua:1: syntax error near '+'"),
        ("x = 1 +", "t.lua:1: unexpected symbol near <eof>"),
        ("x = = 1", "t.lua:1: unexpected symbol near '='"),
        ("f() = 1", "t.lua:1: syntax error near '='"),
        ("(a) = 1", "t.lua:1: syntax error near '='"),
        ("a, f() = 1", "t.lua:1: syntax error near '='"),
        ("f(), b = 1", "t.lua:1: syntax error near ','"),
        ("x = 1 end", "t.lua:1: <eof> expected near 'end'"),
        ("return 1 x", "t.lua:1: <eof> expected near 'x'"),
        ("return end", "t.lua:1: <eof> expected near 'end'"),
        ("if x", "t.lua:1: 'then' expected near <eof>"),
        ("if x then", "t.lua:1: 'end' expected near <eof>"),
        (
            "if x then\nx=1",
            "t.lua:2: 'end' expected (to close 'if' at line 1) near <eof>",
        ),
        ("while x", "t.lua:1: 'do' expected near <eof>"),
        (
            "while x do\n\n",
            "t.lua:3: 'end' expected (to close 'while' at line 1) near <eof>",
        ),
        ("for", "t.lua:1: <name> expected near <eof>"),
        ("for i", "t.lua:1: '=' or 'in' expected near <eof>"),
        ("for i =", "t.lua:1: unexpected symbol near <eof>"),
        ("for i = 1", "t.lua:1: ',' expected near <eof>"),
        ("for i = 1, 2", "t.lua:1: 'do' expected near <eof>"),
        ("for a, b = 1", "t.lua:1: 'in' expected near '='"),
        ("for a, b in x", "t.lua:1: 'do' expected near <eof>"),
        ("function f", "t.lua:1: '(' expected near <eof>"),
        (
            "function f(",
            "t.lua:1: <name> or '...' expected near <eof>",
        ),
        ("function f(a", "t.lua:1: ')' expected near <eof>"),
        (
            "function f(a,",
            "t.lua:1: <name> or '...' expected near <eof>",
        ),
        (
            "function f(1)",
            "t.lua:1: <name> or '...' expected near '1'",
        ),
        (
            "function f()\nx = 1",
            "t.lua:2: 'end' expected (to close 'function' at line 1) near <eof>",
        ),
        ("function a:b.c() end", "t.lua:1: '(' expected near '.'"),
        ("local", "t.lua:1: <name> expected near <eof>"),
        ("local 1", "t.lua:1: <name> expected near '1'"),
        ("local function", "t.lua:1: <name> expected near <eof>"),
        ("local function f", "t.lua:1: '(' expected near <eof>"),
        ("local x <const", "t.lua:1: '>' expected near <eof>"),
        ("local x <", "t.lua:1: <name> expected near <eof>"),
        ("local x <foo> = 1", "t.lua:1: unknown attribute 'foo'"),
        (
            "local x <close>, y <close> = 1",
            "t.lua:1: multiple to-be-closed variables in local list",
        ),
        ("x = (a", "t.lua:1: ')' expected near <eof>"),
        (
            "x = (a\n\n b",
            "t.lua:3: ')' expected (to close '(' at line 1) near 'b'",
        ),
        ("f(a", "t.lua:1: ')' expected near <eof>"),
        ("f(a,", "t.lua:1: unexpected symbol near <eof>"),
        (
            "f(a\n 1",
            "t.lua:2: ')' expected (to close '(' at line 1) near '1'",
        ),
        ("t = {1 2}", "t.lua:1: '}' expected near '2'"),
        (
            "t = {1,\n 2\n 3}",
            "t.lua:3: '}' expected (to close '{' at line 1) near '3'",
        ),
        ("t = {[1] 2}", "t.lua:1: '=' expected near '2'"),
        ("t[1", "t.lua:1: ']' expected near <eof>"),
        ("a:b", "t.lua:1: function arguments expected near <eof>"),
        ("a.", "t.lua:1: <name> expected near <eof>"),
        ("a:", "t.lua:1: <name> expected near <eof>"),
        ("::a", "t.lua:1: '::' expected near <eof>"),
        ("goto 1", "t.lua:1: <name> expected near '1'"),
        ("goto", "t.lua:1: <name> expected near <eof>"),
        ("repeat x = 1", "t.lua:1: 'until' expected near <eof>"),
        (
            "repeat\n x = 1\n",
            "t.lua:3: 'until' expected (to close 'repeat' at line 1) near <eof>",
        ),
        (
            "repeat x = 1 until",
            "t.lua:1: unexpected symbol near <eof>",
        ),
        ("else", "t.lua:1: <eof> expected near 'else'"),
        ("end", "t.lua:1: <eof> expected near 'end'"),
        (
            "if a then else elseif",
            "t.lua:1: 'end' expected near 'elseif'",
        ),
        ("while x do else", "t.lua:1: 'end' expected near 'else'"),
        ("x = @", "t.lua:1: unexpected symbol near '@'"),
        ("x = \"abc", "t.lua:1: unfinished string near <eof>"),
        ("x = 3x", "t.lua:1: malformed number near '3x'"),
        (
            "x = 'a\\qb'",
            "t.lua:1: invalid escape sequence near ''a\\q'",
        ),
        (
            "x = [==[ abc",
            "t.lua:1: unfinished long string (starting at line 1) near <eof>",
        ),
        ("x = [=", "t.lua:1: invalid long string delimiter near '[='"),
        ("return return", "t.lua:1: unexpected symbol near 'return'"),
        ("x = not", "t.lua:1: unexpected symbol near <eof>"),
        ("x = -", "t.lua:1: unexpected symbol near <eof>"),
        ("f{", "t.lua:1: unexpected symbol near <eof>"),
        ("f{x", "t.lua:1: '}' expected near <eof>"),
        ("f{x=", "t.lua:1: unexpected symbol near <eof>"),
        ("{", "t.lua:1: unexpected symbol near '{'"),
        ("x = {x 1}", "t.lua:1: '}' expected near '1'"),
        ("a.b.c = ", "t.lua:1: unexpected symbol near <eof>"),
        ("a.b c", "t.lua:1: syntax error near 'c'"),
        ("(a)", "t.lua:1: syntax error near <eof>"),
        ("(a) x", "t.lua:1: syntax error near 'x'"),
        ("local x y", "t.lua:1: syntax error near <eof>"),
        (
            "x = function() end end",
            "t.lua:1: <eof> expected near 'end'",
        ),
        ("do end end", "t.lua:1: <eof> expected near 'end'"),
        ("f(function() end", "t.lua:1: ')' expected near <eof>"),
        ("f(function() x = 1", "t.lua:1: 'end' expected near <eof>"),
        ("local x <const> +", "t.lua:1: unexpected symbol near '+'"),
        ("local x +", "t.lua:1: unexpected symbol near '+'"),
        ("local x end", "t.lua:1: <eof> expected near 'end'"),
        (
            "x = \"abc\" \"def\"",
            "t.lua:1: unexpected symbol near '\"def\"'",
        ),
        ("x = \"a\nb\" y", "t.lua:1: unfinished string near '\"a'"),
        ("x = [[abc]] y", "t.lua:1: syntax error near <eof>"),
        ("x = [==[\nabc]==] y", "t.lua:2: syntax error near <eof>"),
        ("x = 0x10 y", "t.lua:1: syntax error near <eof>"),
        ("x = 1.5e3 y", "t.lua:1: syntax error near <eof>"),
        ("x = 3 .. 4 y", "t.lua:1: syntax error near <eof>"),
        ("f \"a\" \"b\" c", "t.lua:1: syntax error near <eof>"),
        ("f [[x]] y", "t.lua:1: syntax error near <eof>"),
        ("x = f{} y", "t.lua:1: syntax error near <eof>"),
        (
            "local t = {a=1, [2]=3; 4,} z",
            "t.lua:1: syntax error near <eof>",
        ),
        (
            "local function f() end end",
            "t.lua:1: <eof> expected near 'end'",
        ),
        (
            "function f() return end x",
            "t.lua:1: syntax error near <eof>",
        ),
        (
            "function f() return 1; end end",
            "t.lua:1: <eof> expected near 'end'",
        ),
        (
            "if a then elseif b then else end end",
            "t.lua:1: <eof> expected near 'end'",
        ),
        (
            "if a then\n  x = 1\nelseif b then\n  y = 2\n",
            "t.lua:5: 'end' expected (to close 'if' at line 1) near <eof>",
        ),
        (
            "while true do\n  if x then\n    break\n",
            "t.lua:4: 'end' expected (to close 'if' at line 2) near <eof>",
        ),
        (
            "for i = 1, 10 do\n  print(i)\n",
            "t.lua:3: 'end' expected (to close 'for' at line 1) near <eof>",
        ),
        (
            "for k, v in pairs(t) do\n  print(k)\n",
            "t.lua:3: 'end' expected (to close 'for' at line 1) near <eof>",
        ),
        (
            "do\n  local x = 1\n",
            "t.lua:3: 'end' expected (to close 'do' at line 1) near <eof>",
        ),
        (
            "x = function()\n  return 1\n",
            "t.lua:3: 'end' expected (to close 'function' at line 1) near <eof>",
        ),
        (
            "x = {\n  1,\n  2\n",
            "t.lua:4: '}' expected (to close '{' at line 1) near <eof>",
        ),
        (
            "x = f(\n  1,\n  2\n",
            "t.lua:4: ')' expected (to close '(' at line 1) near <eof>",
        ),
        ("x = t[\n  1\n", "t.lua:3: ']' expected near <eof>"),
        ("a.b:c\"x\" d", "t.lua:1: syntax error near <eof>"),
        ("(f)() = 1", "t.lua:1: syntax error near '='"),
        ("x = 0x", "t.lua:1: malformed number near '0x'"),
        ("x = 1e", "t.lua:1: malformed number near '1e'"),
        ("x = 0x1p", "t.lua:1: malformed number near '0x1p'"),
        ("x = 1..2", "t.lua:1: malformed number near '1..2'"),
        (
            "x = \"\\u{80000000}\"",
            "t.lua:1: UTF-8 value too large near '\"\\u{80000000'",
        ),
        (
            "x = \"\\xg0\"",
            "t.lua:1: hexadecimal digit expected near '\"\\xg'",
        ),
        (
            "x = \"\\256\"",
            "t.lua:1: decimal escape too large near '\"\\256\"'",
        ),
        ("x = 'it''s'", "t.lua:1: unexpected symbol near ''s''"),
        (
            "x = \"tab\\	x\"",
            "t.lua:1: invalid escape sequence near '\"tab\\	'",
        ),
        ("x = !", "t.lua:1: unexpected symbol near '!'"),
        ("x = $", "t.lua:1: unexpected symbol near '$'"),
        ("x = `", "t.lua:1: unexpected symbol near '`'"),
        ("x = ?", "t.lua:1: unexpected symbol near '?'"),
        ("x = 1 \n = 2", "t.lua:2: unexpected symbol near '='"),
        ("if x then else", "t.lua:1: 'end' expected near <eof>"),
        (
            "if x then else\n\nx = 1",
            "t.lua:3: 'end' expected (to close 'if' at line 1) near <eof>",
        ),
        (
            "function f() if x then end",
            "t.lua:1: 'end' expected near <eof>",
        ),
        ("(", "t.lua:1: unexpected symbol near <eof>"),
        (")", "t.lua:1: unexpected symbol near ')'"),
        ("]", "t.lua:1: unexpected symbol near ']'"),
        ("}", "t.lua:1: unexpected symbol near '}'"),
        ("a.b.c", "t.lua:1: syntax error near <eof>"),
        ("a[b][c]", "t.lua:1: syntax error near <eof>"),
        ("a:b()c", "t.lua:1: syntax error near <eof>"),
        ("a:b():c", "t.lua:1: function arguments expected near <eof>"),
        ("x = {[1]=}", "t.lua:1: unexpected symbol near '}'"),
        ("x = {[1]}", "t.lua:1: '=' expected near '}'"),
        ("x = {a.b = 1}", "t.lua:1: '}' expected near '='"),
        ("x = {a = }", "t.lua:1: unexpected symbol near '}'"),
        ("x = {,}", "t.lua:1: unexpected symbol near ','"),
        ("x = {;}", "t.lua:1: unexpected symbol near ';'"),
        ("x = {1,,2}", "t.lua:1: unexpected symbol near ','"),
        ("local function f.x() end", "t.lua:1: '(' expected near '.'"),
        ("local x.y = 1", "t.lua:1: unexpected symbol near '.'"),
        ("local a, b, = 1", "t.lua:1: <name> expected near '='"),
        (
            "function f(a, ...) end x",
            "t.lua:1: syntax error near <eof>",
        ),
        (
            "function f(a, ..., b) end",
            "t.lua:1: ')' expected near ','",
        ),
        ("function f(..., a) end", "t.lua:1: ')' expected near ','"),
        ("x = ...x", "t.lua:1: syntax error near <eof>"),
        ("x = a[]", "t.lua:1: unexpected symbol near ']'"),
        ("x = a.1", "t.lua:1: unexpected symbol near '.1'"),
        ("x = a:1()", "t.lua:1: <name> expected near '1'"),
        (
            "x = \"\\q\"",
            "t.lua:1: invalid escape sequence near '\"\\q'",
        ),
        (
            "x = \"a\\65\\q\"",
            "t.lua:1: invalid escape sequence near '\"aA\\q'",
        ),
        (
            "x = \"\\xZZ\"",
            "t.lua:1: hexadecimal digit expected near '\"\\xZ'",
        ),
        (
            "x = \"\\x5Z\"",
            "t.lua:1: hexadecimal digit expected near '\"\\x5Z'",
        ),
        (
            "x = \"\\300\"",
            "t.lua:1: decimal escape too large near '\"\\300\"'",
        ),
        (
            "x = \"\\u{110000000}\"",
            "t.lua:1: UTF-8 value too large near '\"\\u{110000000'",
        ),
        (
            "x = \"\\u{}\"",
            "t.lua:1: hexadecimal digit expected near '\"\\u{}'",
        ),
        ("x = \"abc\\", "t.lua:1: unfinished string near <eof>"),
        ("def\" y", "t.lua:1: unfinished string near <eof>"),
        ("x = \"a\\tb\" y", "t.lua:1: syntax error near <eof>"),
        ("x = 'a\"b' y", "t.lua:1: syntax error near <eof>"),
        ("x = \"a'b\" y", "t.lua:1: syntax error near <eof>"),
        ("x = [[a\nb]] y", "t.lua:2: syntax error near <eof>"),
        ("x @", "t.lua:1: syntax error near '@'"),
        ("if x @", "t.lua:1: 'then' expected near '@'"),
        ("local x @", "t.lua:1: unexpected symbol near '@'"),
        ("x = 1 @", "t.lua:1: unexpected symbol near '@'"),
        ("f(@)", "t.lua:1: unexpected symbol near '@'"),
        ("x = {@}", "t.lua:1: unexpected symbol near '@'"),
        ("return @", "t.lua:1: unexpected symbol near '@'"),
        ("x.@", "t.lua:1: <name> expected near '@'"),
        ("@", "t.lua:1: unexpected symbol near '@'"),
        ("local x\n(f", "t.lua:2: ')' expected near <eof>"),
        ("local x, y\n(f", "t.lua:2: ')' expected near <eof>"),
        (
            "x = a\n.b(\n1 2",
            "t.lua:3: ')' expected (to close '(' at line 1) near '2'",
        ),
        (
            "x = a.b\n:c(\n1 2",
            "t.lua:3: ')' expected (to close '(' at line 1) near '2'",
        ),
        (
            "f\"s\"\n(\n1 2",
            "t.lua:3: ')' expected (to close '(' at line 1) near '2'",
        ),
        (
            "f{}\n(\n1 2",
            "t.lua:3: ')' expected (to close '(' at line 1) near '2'",
        ),
        (
            "x = \"s\"\n(\n1 2",
            "t.lua:3: ')' expected (to close '(' at line 2) near '2'",
        ),
        (
            "x = {}\n(\n1 2",
            "t.lua:3: ')' expected (to close '(' at line 2) near '2'",
        ),
        ("local t = {\n[1\n= 2}", "t.lua:3: ']' expected near '='"),
        (
            "x = f(\n{\n1 2",
            "t.lua:3: '}' expected (to close '{' at line 2) near '2'",
        ),
        ("for i\n, j\n(", "t.lua:3: 'in' expected near '('"),
        (
            "x = (\n(a\n) 2",
            "t.lua:3: ')' expected (to close '(' at line 1) near '2'",
        ),
        (
            "goto l\n(f\n1 2",
            "t.lua:3: ')' expected (to close '(' at line 2) near '1'",
        ),
        (
            "x = function()\nend\n(f\n1 2",
            "t.lua:4: ')' expected (to close '(' at line 3) near '1'",
        ),
        (
            "t[\n1\n](\n2 3",
            "t.lua:4: ')' expected (to close '(' at line 1) near '3'",
        ),
        ("a.b.c:d \"x\" {y} [[z]]", "OK"),
        ("f{}:m()", "OK"),
        ("local function f(...) end", "OK"),
        ("for i=1,2 do end", "OK"),
        ("if x then return end", "OK"),
        ("do return end", "OK"),
        ("while true do break break end", "OK"),
        ("x = -2^63", "OK"),
        ("::a:: ::b::", "OK"),
        ("f()()", "OK"),
        ("a.b = function(...) return ... end", "OK"),
        ("t = {[f()] = g(), h(); i}", "OK"),
        ("x = a--[==[ ]] ]==]+b", "OK"),
        ("return", "OK"),
        ("return;", "OK"),
        ("x = 1;;;", "OK"),
        ("local a <const>, b <close>", "OK"),
        ("x = #\"abc\" .. #{}", "OK"),
        ("x = not - ~ # a", "OK"),
        ("x = a < b < c", "OK"),
        ("x = \"a\" \"b\"", "t.lua:1: unexpected symbol near '\"b\"'"),
        ("f \"a\" \"b\"", "OK"),
        ("x = 0x.1p4", "OK"),
        ("x = 1e-3 + .5e+2", "OK"),
        ("x=1 y=2 z=3", "OK"),
        ("local t = {f=function() end; [1]=1,}", "OK"),
        ("a[b][c] = d[e][f]", "OK"),
        ("a.b:c().d[e]:f()", "OK"),
        ("return function() end", "OK"),
        ("return ...", "OK"),
        ("goto = 1", "t.lua:1: <name> expected near '='"),
        ("local function = 1", "t.lua:1: <name> expected near '='"),
        ("x = function end", "t.lua:1: '(' expected near 'end'"),
        ("x = (...)", "OK"),
        ("x = {(...)}", "OK"),
        ("local a, b, c <const> = ...", "OK"),
        ("repeat local x until x == nil", "OK"),
        (
            "x = function\n()\n\n",
            "t.lua:4: 'end' expected (to close 'function' at line 2) near <eof>",
        ),
        (
            "local function f\n()\n\n",
            "t.lua:4: 'end' expected (to close 'function' at line 2) near <eof>",
        ),
        (
            "function f\n()\n\n",
            "t.lua:4: 'end' expected (to close 'function' at line 1) near <eof>",
        ),
        (
            "local function\nf()\n\n",
            "t.lua:4: 'end' expected (to close 'function' at line 2) near <eof>",
        ),
        (
            "x = function\n\n(a)\n\n",
            "t.lua:5: 'end' expected (to close 'function' at line 3) near <eof>",
        ),
        (
            "f(function\n()\n\n",
            "t.lua:4: 'end' expected (to close 'function' at line 2) near <eof>",
        ),
        (
            "local f = function()\n\n",
            "t.lua:3: 'end' expected (to close 'function' at line 1) near <eof>",
        ),
        (
            "x = function(\n",
            "t.lua:2: <name> or '...' expected near <eof>",
        ),
        (
            "local acc\n  Point.new(0, 0\nlocal one = 1\n",
            "t.lua:3: ')' expected (to close '(' at line 2) near 'local'",
        ),
        ("x = [==[\na]==] y", "t.lua:2: syntax error near <eof>"),
        (
            "x = y [==[\r\na\r\nb]==] = 1",
            "t.lua:3: unexpected symbol near '='",
        ),
        (
            "x = 1 [==[\na]==]",
            "t.lua:2: unexpected symbol near '[==[a]==]'",
        ),
        (
            "x = 1 [[\na\nb]]",
            "t.lua:3: unexpected symbol near '[[a\nb]]'",
        ),
        ("x = 1 'a\\tb'", "t.lua:1: unexpected symbol near ''a\tb''"),
    ];
    let mut bad = Vec::new();
    for (src, want) in cases {
        let got = match parse(src.as_bytes(), "@t.lua") {
            Ok(_) => "OK".to_string(),
            Err(e) => e.message,
        };
        if got != *want {
            bad.push(format!("{src:?}\n  got:  {got}\n  want: {want}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Prints the parse of each case in the file named in `HOTLUA_PARSE`, one message per line:
/// a development aid for comparing messages with `luac5.4 -p`. Cases are lines (with `\n`
/// written as `\\n`), or, when the file contains a NUL byte, NUL-separated raw texts.
#[test]
#[ignore]
fn dump_cases() {
    let Ok(path) = std::env::var("HOTLUA_PARSE") else {
        return;
    };
    let text = hotlua_compiler::strip_file_header(&std::fs::read(path).unwrap()).to_vec();
    let cases: Vec<Vec<u8>> = if text.contains(&0) {
        text.split(|&b| b == 0).map(|c| c.to_vec()).collect()
    } else {
        text.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                if l.is_ascii() {
                    String::from_utf8_lossy(l).replace("\\n", "\n").into_bytes()
                } else {
                    l.to_vec()
                }
            })
            .collect()
    };
    for src in cases {
        match parse(&src, "=t.lua") {
            Ok(c) => println!("OK {:?}", c.block.stats.len()),
            Err(e) => println!("{}", e.message.replace('\n', "\\n")),
        }
    }
}

/// Runs `luac5.4 -p` on `source`; `None` when luac is not installed.
fn luac_message(source: &[u8], scratch: &std::path::Path) -> Option<String> {
    std::fs::write(scratch, source).ok()?;
    let out = std::process::Command::new("luac5.4")
        .arg("-p")
        .arg(scratch)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let prefix = format!("luac5.4: {}:", scratch.display());
    Some(match text.strip_prefix(&prefix) {
        Some(rest) => format!("t.lua:{rest}"),
        None if text.is_empty() => "OK".to_string(),
        None => text,
    })
}

/// Differential test: cuts each syntax-corpus program after many of its tokens and checks
/// that every prefix gets luac's verdict and message. Skipped when luac5.4 is absent.
#[test]
fn truncations_match_luac() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lua/syntax");
    let scratch = std::env::temp_dir().join(format!("hotlua-trunc-{}.lua", std::process::id()));
    if luac_message(b"", &scratch).is_none() {
        println!("note: luac5.4 not found; differential test skipped");
        return;
    }
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut bad = Vec::new();
    let mut count = 0;
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
    {
        let src = hotlua_compiler::strip_file_header(&std::fs::read(path).unwrap()).to_vec();
        // Cut after every third run of non-blank bytes.
        let cuts: Vec<usize> = (1..src.len())
            .filter(|&i| !src[i - 1].is_ascii_whitespace() && src[i].is_ascii_whitespace())
            .step_by(3)
            .collect();
        for cut in cuts {
            let prefix = &src[..cut];
            let want = luac_message(prefix, &scratch).unwrap();
            if want.contains("goto") || want.contains("break") || want.contains("vararg") {
                continue; // code generator checks
            }
            let got = match parse(prefix, "=t.lua") {
                Ok(_) => "OK".to_string(),
                Err(e) => e.message,
            };
            count += 1;
            if got != want {
                bad.push(format!(
                    "{}@{cut}\n  got:  {got}\n  want: {want}",
                    path.display()
                ));
            }
        }
    }
    let _ = std::fs::remove_file(&scratch);
    assert!(count > 300, "only {count} cases");
    assert!(
        bad.is_empty(),
        "{} of {count} differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[path = "../benches/support/gen_input.rs"]
mod gen_input;

/// Writes a tree back as Lua, every operation parenthesised and every statement ended by `;`,
/// so that running it shows whether the tree has Lua's meaning.
mod unparse {
    use super::{bytes, txt, use_strings};
    use hotlua_compiler::ast::*;

    pub fn chunk(c: &Chunk) -> String {
        use_strings(c);
        let mut out = String::new();
        block(&c.block, &mut out);
        out
    }

    fn block(b: &Block, out: &mut String) {
        for s in &b.stats {
            stat(s, out);
            out.push_str(";\n");
        }
        if let Some(r) = &b.ret {
            out.push_str("return ");
            list(&r.exprs, out);
            out.push_str(";\n");
        }
    }

    fn names(ns: &[Name]) -> String {
        ns.iter().map(|n| txt(*n)).collect::<Vec<_>>().join(", ")
    }

    fn body(f: &FuncBody, out: &mut String) {
        let mut params = names(&f.params);
        if f.is_vararg {
            params.push_str(if f.params.is_empty() { "..." } else { ", ..." });
        }
        out.push_str(&format!("({params})\n"));
        block(&f.block, out);
        out.push_str("end");
    }

    fn stat(s: &Stat, out: &mut String) {
        match &s.kind {
            StatKind::Assign { targets, values } => {
                list(targets, out);
                out.push_str(" = ");
                list(values, out);
            }
            StatKind::Call(e) => expr(e, out),
            StatKind::Label(n) => out.push_str(&format!("::{}::", txt(*n))),
            StatKind::Break => out.push_str("break"),
            StatKind::Goto(n) => out.push_str(&format!("goto {}", txt(*n))),
            StatKind::Do(b) => {
                out.push_str("do\n");
                block(b, out);
                out.push_str("end");
            }
            StatKind::While { cond, body } => {
                out.push_str("while ");
                expr(cond, out);
                out.push_str(" do\n");
                block(body, out);
                out.push_str("end");
            }
            StatKind::Repeat { body, cond } => {
                out.push_str("repeat\n");
                block(body, out);
                out.push_str("until ");
                expr(cond, out);
            }
            StatKind::If { arms, else_block } => {
                for (i, (c, b)) in arms.iter().enumerate() {
                    out.push_str(if i == 0 { "if " } else { "elseif " });
                    expr(c, out);
                    out.push_str(" then\n");
                    block(b, out);
                }
                if let Some(b) = else_block {
                    out.push_str("else\n");
                    block(b, out);
                }
                out.push_str("end");
            }
            StatKind::NumFor(f) => {
                let NumFor {
                    var,
                    start,
                    limit,
                    step,
                    body,
                } = &**f;
                out.push_str(&format!("for {} = ", txt(*var)));
                expr(start, out);
                out.push_str(", ");
                expr(limit, out);
                if let Some(s) = step {
                    out.push_str(", ");
                    expr(s, out);
                }
                out.push_str(" do\n");
                block(body, out);
                out.push_str("end");
            }
            StatKind::GenFor {
                names: ns,
                exprs,
                body,
            } => {
                out.push_str(&format!("for {} in ", names(ns)));
                list(exprs, out);
                out.push_str(" do\n");
                block(body, out);
                out.push_str("end");
            }
            StatKind::Function { name, body: f } => {
                out.push_str(&format!(
                    "function {}",
                    names(&name.path).replace(", ", ".")
                ));
                if let Some(m) = &name.method {
                    out.push_str(&format!(":{}", txt(*m)));
                }
                body(f, out);
            }
            StatKind::LocalFunction { name, body: f } => {
                out.push_str(&format!("local function {}", txt(*name)));
                body(f, out);
            }
            StatKind::Local { names: ns, exprs } => {
                let ns: Vec<String> = ns
                    .iter()
                    .map(|n| match n.attrib {
                        Attrib::None => txt(n.name),
                        Attrib::Const => format!("{} <const>", txt(n.name)),
                        Attrib::Close => format!("{} <close>", txt(n.name)),
                    })
                    .collect();
                out.push_str(&format!("local {}", ns.join(", ")));
                if !exprs.is_empty() {
                    out.push_str(" = ");
                    list(exprs, out);
                }
            }
        }
    }

    fn list(es: &[Expr], out: &mut String) {
        for (i, e) in es.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            expr(e, out);
        }
    }

    fn string(s: &[u8], out: &mut String) {
        out.push('"');
        for &b in s {
            if b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ' {
                out.push(b as char);
            } else {
                out.push_str(&format!("\\{b:03}"));
            }
        }
        out.push('"');
    }

    fn binop(op: BinOp) -> &'static str {
        use BinOp::*;
        match op {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            IDiv => "//",
            Mod => "%",
            Pow => "^",
            Concat => "..",
            Eq => "==",
            Ne => "~=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            And => "and",
            Or => "or",
            BAnd => "&",
            BOr => "|",
            BXor => "~",
            Shl => "<<",
            Shr => ">>",
        }
    }

    pub fn expr(e: &Expr, out: &mut String) {
        match &e.kind {
            ExprKind::Nil => out.push_str("nil"),
            ExprKind::True => out.push_str("true"),
            ExprKind::False => out.push_str("false"),
            ExprKind::Vararg => out.push_str("..."),
            // Hexadecimal literals wrap, so a negative integer reads back as itself.
            ExprKind::Int(i) if *i < 0 => out.push_str(&format!("0x{:X}", *i as u64)),
            ExprKind::Int(i) => out.push_str(&i.to_string()),
            ExprKind::Float(f) if f.is_infinite() => out.push_str("(1e999)"),
            ExprKind::Float(f) => {
                let s = format!("{f:?}");
                out.push_str(&if s.contains(['.', 'e']) {
                    s
                } else {
                    format!("{s}.0")
                });
            }
            ExprKind::Str(s) => string(&bytes(*s), out),
            ExprKind::Function(f) => {
                out.push_str("function");
                body(f, out);
            }
            ExprKind::Table(fields) => {
                out.push('{');
                for f in fields {
                    match f {
                        Field::Pos(e) => expr(e, out),
                        Field::Named(n, e) => {
                            out.push_str(&format!("{} = ", txt(*n)));
                            expr(e, out);
                        }
                        Field::Keyed(k, v) => {
                            out.push('[');
                            expr(k, out);
                            out.push_str("] = ");
                            expr(v, out);
                        }
                    }
                    out.push_str("; ");
                }
                out.push('}');
            }
            ExprKind::Name(n) => out.push_str(&txt(*n)),
            ExprKind::Index(x) => {
                let IndexExpr { obj, key } = &**x;
                expr(obj, out);
                out.push('[');
                expr(key, out);
                out.push(']');
            }
            ExprKind::Call(c) => {
                let CallExpr { func, args } = &**c;
                expr(func, out);
                out.push('(');
                list(args, out);
                out.push(')');
            }
            ExprKind::Method(m) => {
                let MethodExpr { obj, name, args } = &**m;
                expr(obj, out);
                out.push_str(&format!(":{}(", txt(*name)));
                list(args, out);
                out.push(')');
            }
            // An operation is written in parentheses anyway (and is single-valued).
            ExprKind::Paren(e)
                if matches!(e.kind, ExprKind::Binary { .. } | ExprKind::Unary { .. }) =>
            {
                expr(e, out)
            }
            ExprKind::Paren(e) => {
                out.push('(');
                expr(e, out);
                out.push(')');
            }
            ExprKind::Binary(b) => {
                let BinaryExpr { op, lhs, rhs } = &**b;
                out.push('(');
                expr(lhs, out);
                out.push_str(&format!(" {} ", binop(*op)));
                expr(rhs, out);
                out.push(')');
            }
            ExprKind::Unary(u) => {
                let UnaryExpr { op, operand } = &**u;
                out.push_str(match op {
                    UnOp::Neg => "(- ",
                    UnOp::Not => "(not ",
                    UnOp::Len => "(# ",
                    UnOp::BNot => "(~ ",
                });
                expr(operand, out);
                out.push(')');
            }
        }
    }
}

/// Parsing the unparsed tree gives the same tree again (up to lines), for every corpus file
/// and the benchmark's generated input.
#[test]
fn unparse_round_trips() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources: Vec<(String, Vec<u8>)> = Vec::new();
    for dir in ["tests/lua/syntax", "benches/lua", "../shared/seed/examples"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for p in entries.flatten().map(|e| e.path()) {
            if p.extension().is_some_and(|e| e == "lua") {
                let src = hotlua_compiler::strip_file_header(&std::fs::read(&p).unwrap()).to_vec();
                sources.push((
                    p.display().to_string(),
                    hotlua_compiler::strip_file_header(&src).to_vec(),
                ));
            }
        }
    }
    sources.push((
        "SAMPLE".into(),
        hotlua_compiler::strip_file_header(SAMPLE.as_bytes()).to_vec(),
    ));
    sources.push((
        "generated".into(),
        gen_input::generate(300_000).into_bytes(),
    ));
    assert!(sources.len() >= 5);
    for (name, src) in sources {
        let once = unparse::chunk(&parse(&src, "=t").unwrap_or_else(|e| panic!("{name}: {e}")));
        let twice = unparse::chunk(
            &parse(once.as_bytes(), "=t").unwrap_or_else(|e| panic!("{name}: {e}\n{once}")),
        );
        assert_eq!(once, twice, "{name}");
    }
}

/// The syntax corpus, written back from our trees, prints what the original prints under
/// lua5.4: the trees carry Lua's meaning (precedence, associativity, calls, fields).
#[test]
fn unparsed_corpus_runs_like_the_original() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lua/syntax");
    let scratch = std::env::temp_dir().join(format!("hotlua-unparse-{}.lua", std::process::id()));
    let run = |path: &std::path::Path| {
        std::process::Command::new("lua5.4")
            .arg(path)
            .output()
            .ok()
            .map(|o| (o.status.success(), o.stdout))
    };
    let mut checked = 0;
    for p in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
        if p.extension().is_none_or(|e| e != "lua") {
            continue;
        }
        let Some(original) = run(&p) else {
            println!("note: lua5.4 not found; skipped");
            return;
        };
        let src = hotlua_compiler::strip_file_header(&std::fs::read(&p).unwrap()).to_vec();
        let text = unparse::chunk(&parse(&src, "=t").unwrap());
        std::fs::write(&scratch, &text).unwrap();
        let ours = run(&scratch).unwrap();
        assert!(original.0, "{} fails under lua5.4", p.display());
        assert_eq!(
            String::from_utf8_lossy(&ours.1),
            String::from_utf8_lossy(&original.1),
            "{}:\n{text}",
            p.display()
        );
        checked += 1;
    }
    let _ = std::fs::remove_file(&scratch);
    assert!(checked >= 3);
}

/// Differential test: random word-level mutations (deletions, insertions of tokens and
/// newlines) of the syntax corpus get luac's verdict and message. Skipped without luac5.4.
#[test]
fn mutations_match_luac() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lua/syntax");
    let scratch = std::env::temp_dir().join(format!("hotlua-mut-{}.lua", std::process::id()));
    if luac_message(b"", &scratch).is_none() {
        println!("note: luac5.4 not found; differential test skipped");
        return;
    }
    let pool: &[&[u8]] = &[
        b"end",
        b"(",
        b")",
        b"{",
        b"}",
        b"[",
        b"]",
        b"=",
        b",",
        b".",
        b":",
        b"::",
        b";",
        b"local",
        b"function",
        b"if",
        b"then",
        b"else",
        b"elseif",
        b"do",
        b"while",
        b"for",
        b"in",
        b"repeat",
        b"until",
        b"return",
        b"x",
        b"1",
        b"\"s\"",
        b"+",
        b"..",
        b"...",
        b"not",
        b"<",
        b"\n",
        b"\n\n(",
        b"[==[\na]==]",
        b"@",
        b"3x",
    ];
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let (mut bad, mut count) = (Vec::new(), 0);
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
    {
        let src = hotlua_compiler::strip_file_header(&std::fs::read(path).unwrap()).to_vec();
        // Word boundaries: starts of runs of non-blank bytes.
        let words: Vec<usize> = (0..src.len())
            .filter(|&i| {
                !src[i].is_ascii_whitespace() && (i == 0 || src[i - 1].is_ascii_whitespace())
            })
            .collect();
        for _ in 0..120 {
            let mut m = src.clone();
            for _ in 0..1 + rng.below(2) {
                let at = words[rng.below(words.len())].min(m.len());
                let end = (at..m.len())
                    .find(|&i| m[i].is_ascii_whitespace())
                    .unwrap_or(m.len());
                let token = pool[rng.below(pool.len())];
                match rng.below(3) {
                    0 => drop(m.drain(at..end)),
                    1 => m
                        .splice(at..at, token.iter().chain(b" ").copied())
                        .for_each(drop),
                    _ => m.splice(at..end, token.iter().copied()).for_each(drop),
                }
            }
            let want = luac_message(&m, &scratch).unwrap();
            if ["goto", "break", "vararg", "label", "const variable"]
                .iter()
                .any(|w| want.contains(w))
            {
                continue; // code generator checks
            }
            let got = match parse(&m, "=t.lua") {
                Ok(_) => "OK".to_string(),
                Err(e) => e.message,
            };
            count += 1;
            if got != want {
                bad.push(format!(
                    "{:?}\n  got:  {got}\n  want: {want}",
                    String::from_utf8_lossy(&m)
                ));
            }
        }
    }
    let _ = std::fs::remove_file(&scratch);
    assert!(count > 200, "only {count} cases");
    assert!(
        bad.is_empty(),
        "{} of {count} differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// `FuncBody::line` is Lua's `linedefined` (checked with debug.getinfo on lua5.4): the line of
/// `function` for a statement, of `(` for anonymous and local functions.
#[test]
fn function_lines_are_lua_linedefined() {
    let c = chunk("local f = function\n(x) end\nlocal function\ng\n() end\nfunction\nh\n() end");
    let lines: Vec<(u32, u32)> = c
        .block
        .stats
        .iter()
        .map(|s| match &s.kind {
            StatKind::Local { exprs, .. } => match &exprs[0].kind {
                ExprKind::Function(b) => (b.line, b.end_line),
                k => panic!("{k:?}"),
            },
            StatKind::LocalFunction { body, .. } | StatKind::Function { body, .. } => {
                (body.line, body.end_line)
            }
            k => panic!("{k:?}"),
        })
        .collect();
    assert_eq!(lines, [(2, 2), (5, 5), (6, 8)]);
}

//! Table-driven tests of the string engines (patterns, format, pack) and the C number
//! formatter. Every expected value was produced by lua5.4; when `lua5.4` is on PATH the
//! tests also run the same cases through it and compare, so they keep proving agreement.

use hotlua_stdlib::cfmt;
use hotlua_stdlib::string::format::{self, FmtArg, SimpleArgs};
use hotlua_stdlib::string::pack;
use hotlua_stdlib::string::pattern::{self, Capture};
use std::io::Write;
use std::process::{Command, Stdio};

// ---------------------------------------------------------------------------------------
// Shared helpers: a byte rendering both sides agree on, and running lua5.4.

/// Printable ASCII as is; `\`, `|` and other bytes as `\xNN`.
fn esc(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        if (32..=126).contains(&c) && c != b'\\' && c != b'|' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// A Lua string literal for any bytes.
fn lit(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b {
        if c.is_ascii_alphanumeric() || c == b' ' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\{c:03}"));
        }
    }
    s.push('"');
    s
}

const LUA_PRELUDE: &str = r#"
local function esc(s)
  return (tostring(s):gsub(".", function(c)
    local b = c:byte()
    if b < 32 or b > 126 or c == "\\" or c == "|" then return string.format("\\x%02x", b) end
  end))
end
local function R(ok, ...)
  if not ok then return "E:" .. esc((...)) end
  local t = table.pack(...)
  for i = 1, t.n do t[i] = esc(t[i]) end
  return table.concat(t, "|", 1, t.n)
end
local function GM(s, p)
  local out = {}
  local ok, err = pcall(function()
    local it = string.gmatch(s, p)
    for i = 1, 50 do
      local r = table.pack(it())
      if r[1] == nil then break end
      for k = 1, r.n do r[k] = esc(r[k]) end
      out[#out + 1] = table.concat(r, ",", 1, r.n)
    end
  end)
  -- A native called from a Lua function reports its caller's position: drop it.
  if not ok then return "E:" .. esc((err:gsub("^stdin:%d+: ", ""))) end
  return table.concat(out, ";")
end
"#;

fn lua_available() -> bool {
    Command::new("lua5.4")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `lines` (each a Lua expression giving a string) through lua5.4; one output per line.
fn run_lua(exprs: &[String]) -> Option<Vec<String>> {
    if !lua_available() {
        return None;
    }
    let mut script = String::from(LUA_PRELUDE);
    for e in exprs {
        script.push_str(&format!("io.write({e}, '\\n')\n"));
    }
    // Bounded, so that a reference run that never ends fails the comparison instead of
    // hanging the suite.
    let mut child = Command::new("timeout")
        .args(["60", "lua5.4", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    assert!(
        out.status.success(),
        "lua5.4 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

/// Compares our results with the table's expectations and, when lua5.4 is present, with
/// lua5.4's live answers. Set HOTLUA_DUMP=1 to print lua5.4's answers (for new cases).
fn check(name: &str, exprs: Vec<String>, ours: Vec<String>, expected: Vec<&str>) {
    let live = run_lua(&exprs);
    if std::env::var("HOTLUA_DUMP").is_ok() {
        if let Some(live) = &live {
            for l in live {
                println!("DUMP {name} {l:?}");
            }
        }
    }
    let mut failures = Vec::new();
    for i in 0..exprs.len() {
        if ours[i] != expected[i] {
            failures.push(format!(
                "{name}[{i}] {}: ours {:?} expected {:?}",
                exprs[i], ours[i], expected[i]
            ));
        }
        if let Some(live) = &live {
            if live.get(i) != Some(&ours[i]) {
                failures.push(format!(
                    "{name}[{i}] {}: ours {:?} lua5.4 {:?}",
                    exprs[i],
                    ours[i],
                    live.get(i)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn render_caps(src: &[u8], caps: &[Capture]) -> Vec<String> {
    caps.iter()
        .map(|c| match *c {
            Capture::Range(s, e) => esc(&src[s..e]),
            Capture::Position(p) => (p + 1).to_string(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Patterns

/// (subject, pattern, init, expected `find` result, expected `match` result)
type FindCase = (
    &'static [u8],
    &'static [u8],
    i64,
    &'static str,
    &'static str,
);
const FIND: &[FindCase] = &[
    (b"hello world", b"o w", 1, "5|7", "o w"),
    (b"hello world", b"o", 6, "8|8", "o"),
    (b"hello", b"l+", 1, "3|4", "ll"),
    (b"hello", b"", 10, "nil", "nil"),
    (b"hello", b"", 6, "6|5", ""),
    (b"hello", b"", -2, "4|3", ""),
    (b"hello", b"h", -100, "1|1", "h"),
    (b"abc", b"b", 0, "2|2", "b"),
    (b"a+b", b"+", 1, "2|2", "+"),
    (b"a.b", b"%.", 1, "2|2", "."),
    (b"a)", b"a)", 1, "1|2", "E:invalid pattern capture"),
    (b"  x", b"^%s*()", 1, "1|2|3", "3"),
    (b"abc", b"^b", 1, "nil", "nil"),
    (b"abc", b"^b", 2, "2|2", "b"),
    (b"abc", b"c$", 1, "3|3", "c"),
    (b"a$c", b"$c", 1, "2|3", "$c"),
    (b"abc", b"b$", 1, "nil", "nil"),
    (b"a^b", b"a^b", 1, "1|3", "a^b"),
    (b"THE (quick) fox", b"%((%a+)%)", 1, "5|11|quick", "quick"),
    (b"key = value", b"(%w+)%s*=%s*(%w+)", 1, "1|11|key|value", "key|value"),
    (b"x = (a(b)c) (d)", b"%b()", 1, "5|11", "(a(b)c)"),
    (b"((a)", b"%b()", 1, "2|4", "(a)"),
    (b"[[x]]", b"%b[]", 1, "1|5", "[[x]]"),
    (b"if a then b end", b"%bie", 1, "1|8", "if a the"),
    (b"THE (quick) fox", b"%f[%a]%a+", 5, "6|10", "quick"),
    (b"hello", b"%f[%l]", 1, "1|0", ""),
    (b"hello", b"%f[%z]", 1, "6|5", ""),
    (b"hello", b"%f[^%l]", 1, "6|5", ""),
    (b"helloABC", b"%f[%u]%u+", 1, "6|8", "ABC"),
    (b"abba", b"(a)(b)%2%1", 1, "1|4|a|b", "a|b"),
    (b"xyzzy", b"(z)%1", 1, "3|4|z", "z"),
    (b"say \"hi\" and 'bye'", b"([\"'])(.-)%1", 1, "5|8|\"|hi", "\"|hi"),
    (b"aaa", b"a-", 1, "1|0", ""),
    (b"aaab", b"a-b", 1, "1|4", "aaab"),
    (b"<a><b>", b"<(.-)>", 1, "1|3|a", "a"),
    (b"<a><b>", b"<(.*)>", 1, "1|6|a><b", "a><b"),
    (b"aaa", b"a?a?a?a", 1, "1|3", "aaa"),
    (b"ab", b"a?b?c?", 1, "1|2", "ab"),
    (b"x", b"[]]", 1, "nil", "nil"),
    (b"]", b"[]]", 1, "1|1", "]"),
    (b"a-", b"[a-]+", 1, "1|2", "a-"),
    (b"^x", b"[x^]+", 1, "1|2", "^x"),
    (b"^x", b"[^^]+", 1, "2|2", "x"),
    (b"a1-b2", b"[%d%-]+", 1, "2|3", "1-"),
    (b"hello123", b"[^%a]+", 1, "6|8", "123"),
    (b"z-a", b"[z-a]", 1, "nil", "nil"),
    (b"abcXYZ", b"[A-Z]+", 1, "4|6", "XYZ"),
    (b"a\x00b", b"%z", 1, "2|2", "\\x00"),
    (b"a\x00b", b"[\x00]", 1, "2|2", "\\x00"),
    (b"a\x00b", b"\x00b", 1, "2|3", "\\x00b"),
    (b"\t\x0b\x0c\r\n x", b"%s+", 1, "1|6", "\\x09\\x0b\\x0c\\x0d\\x0a "),
    (b"\x01\x7f\x80", b"%c+", 1, "1|2", "\\x01\\x7f"),
    (b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~a", b"%p+", 1, "1|32", "!\"#$%&'()*+,-./:;<=>?@[\\x5c]^_`{\\x7c}~"),
    (b"\xe9t\xe9", b"%a+", 1, "2|2", "t"),
    (b"\xe9t\xe9", b"%A+", 1, "1|1", "\\xe9"),
    (b"09afAFgG", b"%x+", 1, "1|6", "09afAF"),
    (b"abc DEF", b"%u+", 1, "5|7", "DEF"),
    (b"abc DEF", b"%L+", 1, "4|7", " DEF"),
    (b"a b", b"%G", 1, "2|2", " "),
    (b"a_b9", b"%W", 1, "2|2", "_"),
    (b"a%b", b"%%", 1, "2|2", "%"),
    (b"abc", b"()a()", 1, "1|1|1|2", "1|2"),
    (b"abc", b"()", 4, "4|3|4", "4"),
    (b"abc", b"((a)(b))", 1, "1|2|ab|a|b", "ab|a|b"),
    (b"a", b"%1", 1, "E:invalid capture index %1", "E:invalid capture index %1"),
    (b"a", b"(a)%2", 1, "E:invalid capture index %2", "E:invalid capture index %2"),
    (b"a", b"(a%1)", 1, "E:invalid capture index %1", "E:invalid capture index %1"),
    (b"a", b"%0", 1, "E:invalid capture index %0", "E:invalid capture index %0"),
    (b"aa", b"()%1", 1, "nil", "nil"),
    (b"a", b"%", 1, "E:malformed pattern (ends with '%')", "E:malformed pattern (ends with '%')"),
    (b"a", b"a%", 1, "E:malformed pattern (ends with '%')", "E:malformed pattern (ends with '%')"),
    (b"a", b"[a", 1, "E:malformed pattern (missing ']')", "E:malformed pattern (missing ']')"),
    (b"a", b"[a%", 1, "E:malformed pattern (missing ']')", "E:malformed pattern (missing ']')"),
    (b"a", b"[]", 1, "E:malformed pattern (missing ']')", "E:malformed pattern (missing ']')"),
    (b"a", b"[^]", 1, "E:malformed pattern (missing ']')", "E:malformed pattern (missing ']')"),
    (b"a", b"%f", 1, "E:missing '[' after '%f' in pattern", "E:missing '[' after '%f' in pattern"),
    (b"a", b"%fa", 1, "E:missing '[' after '%f' in pattern", "E:missing '[' after '%f' in pattern"),
    (b"a", b"a)", 1, "nil", "E:invalid pattern capture"),
    (b"a", b"(a", 1, "E:unfinished capture", "E:unfinished capture"),
    (b"a", b"(()", 1, "E:unfinished capture", "E:unfinished capture"),
    (b"a", b"%b", 1, "E:malformed pattern (missing arguments to '%b')", "E:malformed pattern (missing arguments to '%b')"),
    (b"a", b"%bx", 1, "E:malformed pattern (missing arguments to '%b')", "E:malformed pattern (missing arguments to '%b')"),
    (b"a", b".-$", 1, "1|1", "a"),
    (b"", b"", 1, "1|0", ""),
    (b"", b".*", 1, "1|0", ""),
    (b"", b"^$", 1, "1|0", ""),
    (b"abc", b"[%a-z]+", 1, "1|3", "abc"),
    (b"a-z", b"[%a-z]+", 2, "2|3", "-z"),
    (b"f(a,b)", b"%((.-)%)", 1, "2|6|a,b", "a,b"),
    (b"2024-01-15", b"(%d+)-(%d+)-(%d+)", 1, "1|10|2024|01|15", "2024|01|15"),
    (b"  trim me  ", b"^%s*(.-)%s*$", 1, "1|11|trim me", "trim me"),
    (b"x", b"x*x*x*x*x*x*x*x*x*x*x*x*y", 1, "nil", "nil"),
    (b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", b"a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?", 1, "E:pattern too complex", "E:pattern too complex"),
    (b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", b"(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)", 1, "1|32|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a", "a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a"),
    (b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", b"(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)", 1, "E:too many captures", "E:too many captures"),
];

fn our_find(s: &[u8], p: &[u8], init: i64, is_match: bool) -> String {
    let Some(start) = pattern::start_offset(init, s.len()) else {
        return "nil".into();
    };
    let r = if is_match {
        pattern::pattern_search(s, p, start, None)
    } else {
        pattern::find(s, p, start, false, None)
    };
    match r {
        Err(e) => format!("E:{}", esc(e.as_bytes())),
        Ok(None) => "nil".into(),
        Ok(Some(m)) => {
            let mut v = Vec::new();
            if !is_match {
                v.push((m.start + 1).to_string());
                v.push(m.end.to_string());
            }
            if is_match || m.explicit {
                v.extend(render_caps(s, &m.captures));
            }
            v.join("|")
        }
    }
}

#[test]
fn pattern_find_and_match() {
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for &(s, p, init, ef, em) in FIND {
        exprs.push(format!(
            "R(pcall(string.find, {}, {}, {init}))",
            lit(s),
            lit(p)
        ));
        ours.push(our_find(s, p, init, false));
        expected.push(ef);
        exprs.push(format!(
            "R(pcall(string.match, {}, {}, {init}))",
            lit(s),
            lit(p)
        ));
        ours.push(our_find(s, p, init, true));
        expected.push(em);
    }
    check("find", exprs, ours, expected);
}

/// (subject, pattern, expected gmatch iterations: captures joined by `,`, matches by `;`)
const GMATCH: &[(&[u8], &[u8], &str)] = &[
    (b"hello world from Lua", b"%a+", "hello;world;from;Lua"),
    (b"k1=v1, k2=v2", b"(%w+)=(%w+)", "k1,v1;k2,v2"),
    (b"abc", b"", ";;;"),
    (b"abc", b"%w*", "abc"),
    (b"a,b,,c", b"([^,]*)", "a;b;;c"),
    (b"a^b", b"^b", "^b"),
    (b"aXbXc", b"()X()", "2,3;4,5"),
    (b"one two", b"%f[%w]%w+", "one;two"),
    (b"x", b"(", "E:unfinished capture"),
    (b"x", b"[x", "E:malformed pattern (missing ']')"),
    (b"hello", b".-", ";;;;;"),
    (b"hello", b"l*", ";;ll;"),
];

fn our_gmatch(s: &[u8], p: &[u8]) -> String {
    let mut g = pattern::GMatch::new(0);
    let mut out = Vec::new();
    for _ in 0..50 {
        match g.next_match(s, p, None) {
            Err(e) => return format!("E:{}", esc(e.as_bytes())),
            Ok(None) => break,
            Ok(Some(m)) => out.push(render_caps(s, &m.captures).join(",")),
        }
    }
    out.join(";")
}

#[test]
fn pattern_gmatch() {
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for &(s, p, e) in GMATCH {
        exprs.push(format!("GM({}, {})", lit(s), lit(p)));
        ours.push(our_gmatch(s, p));
        expected.push(e);
    }
    check("gmatch", exprs, ours, expected);
}

/// (subject, pattern, replacement string, max replacements or -1 for none, expected)
type GsubCase = (
    &'static [u8],
    &'static [u8],
    &'static [u8],
    i64,
    &'static str,
);
const GSUB: &[GsubCase] = &[
    (b"abc", b"%w*", b"x", -1, "x|1"),
    (b"abc d", b"%w*", b"x", -1, "x x|2"),
    (b"hello world", b"o*", b"-", -1, "-h-e-l-l- -w-r-l-d-|10"),
    (b"abc", b"", b"-", -1, "-a-b-c-|4"),
    (b"abc", b"b*", b"-", -1, "-a-c-|3"),
    (
        b"hello world",
        b"(o)",
        b"[%1%0%%]",
        -1,
        "hell[oo%] w[oo%]rld|2",
    ),
    (b"hello world", b"l", b"L", 2, "heLLo world|2"),
    (b"hello world", b"l", b"L", 0, "hello world|0"),
    (b"hello world", b"l", b"L", -5, "hello world|0"),
    (b"hello", b"^h", b"H", -1, "Hello|1"),
    (b"hhh", b"^h", b"H", -1, "Hhh|1"),
    (b"hello", b"^", b">", -1, ">hello|1"),
    (b"hello", b"$", b"<", -1, "hello<|1"),
    (b"abc", b"()", b"%1", -1, "1a2b3c4|4"),
    (b"abc", b"b", b"%2", -1, "E:invalid capture index %2"),
    (b"abc", b"(b)", b"%2", -1, "E:invalid capture index %2"),
    (
        b"abc",
        b"b",
        b"%",
        -1,
        "E:invalid use of '%' in replacement string",
    ),
    (
        b"abc",
        b"b",
        b"%x",
        -1,
        "E:invalid use of '%' in replacement string",
    ),
    (b"abc", b"b", b"%1", -1, "abc|1"),
    (b"abc", b"x", b"%", -1, "abc|0"),
    (b"THE (quick) fox", b"%f[%a]%a+", b"W", -1, "W (W) W|3"),
    (b"a,b,,c", b",", b";", -1, "a;b;;c|3"),
    (b"  trim  ", b"^%s*(.-)%s*$", b"%1", -1, "trim|1"),
    (b"x = 1", b"(%w+)%s*=%s*(%w+)", b"%2 = %1", -1, "1 = x|1"),
    (b"abc", b".", b"%0%0", -1, "aabbcc|3"),
    (b"a\x00b", b"%z", b"0", -1, "a0b|1"),
    (b"abc", b"[", b"", -1, "E:malformed pattern (missing ']')"),
];

fn our_gsub(s: &[u8], p: &[u8], r: &[u8], n: i64) -> String {
    match pattern::gsub_str(s, p, r, if n == -1 { None } else { Some(n) }, None) {
        Err(e) => format!("E:{}", esc(e.as_bytes())),
        Ok((b, k)) => format!("{}|{k}", esc(&b)),
    }
}

#[test]
fn pattern_gsub() {
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for &(s, p, r, n, e) in GSUB {
        let n_arg = if n == -1 {
            "nil".to_string()
        } else {
            n.to_string()
        };
        exprs.push(format!(
            "R(pcall(string.gsub, {}, {}, {}, {n_arg}))",
            lit(s),
            lit(p),
            lit(r)
        ));
        ours.push(our_gsub(s, p, r, n));
        expected.push(e);
    }
    check("gsub", exprs, ours, expected);
}

// ---------------------------------------------------------------------------------------
// string.format

use FmtArg::{Bool as B, Float as F, Int as I, Nil as N};

fn s(b: &str) -> FmtArg {
    FmtArg::Str(b.as_bytes().to_vec())
}

/// A Lua expression for an argument value.
fn lua_arg(a: &FmtArg) -> String {
    match a {
        FmtArg::Nil => "nil".into(),
        FmtArg::Bool(b) => b.to_string(),
        FmtArg::Int(i) if *i == i64::MIN => "math.mininteger".into(),
        FmtArg::Int(i) => i.to_string(),
        FmtArg::Float(f) if f.is_nan() => {
            // On x86 `0/0` has the sign bit set.
            if f.is_sign_negative() {
                "(0/0)".into()
            } else {
                "(-(0/0))".into()
            }
        }
        FmtArg::Float(f) if f.is_infinite() => {
            if *f > 0.0 {
                "(1/0)".into()
            } else {
                "(-1/0)".into()
            }
        }
        FmtArg::Float(f) => format!("({})", cfmt::sprintf_float("%a", *f)),
        FmtArg::Str(b) => lit(b),
        FmtArg::Other(..) => "{}".into(),
    }
}

const NEG_NAN: f64 = f64::from_bits(0xfff8_0000_0000_0000);

fn format_cases() -> Vec<(&'static str, Vec<FmtArg>, &'static str)> {
    vec![
        ("%5.2s|%-5d|%+.3e|%#x", vec![s("abc"), I(3), F(1234.5), I(255)], "   ab\\x7c3    \\x7c+1.234e+03\\x7c0xff"),
        ("%.0f %.0f %.0f %.0f %.1f %.2f", vec![F(0.5), F(1.5), F(2.5), F(-0.5), F(0.25), F(1.005)], "0 2 2 -0 0.2 1.00"),
        ("%g %g %g %g %g %g", vec![F(1e15), F(1e16), F(0.0001), F(1e-5), F(100000.0), F(1e6)], "1e+15 1e+16 0.0001 1e-05 100000 1e+06"),
        ("%.14g %.14g %.14g %.14g %.14g", vec![F(0.1), F(1.0 / 3.0), F(1e100), F(123456789012345678.0), F(9.223_372_036_854_776e18)], "0.1 0.33333333333333 1e+100 1.2345678901235e+17 9.2233720368548e+18"),
        ("%a %a %a %A %a %a", vec![F(1.0), F(0.1), F(-2.5), F(255.5), F(5e-324), F(0.0)], "0x1p+0 0x1.999999999999ap-4 -0x1.4p+1 0X1.FFP+7 0x0.0000000000001p-1022 0x0p+0"),
        ("%.0a %.0a %.1a %.1a %.1a %.1a %.3a %.20a", vec![F(1.5), F(2.5), F(1.96875), F(1.03125), F(1.09375), F(1.15625), F(5e-324), F(0.1)], "0x2p+0 0x1p+1 0x2.0p+0 0x1.0p+0 0x1.2p+0 0x1.2p+0 0x0.000p-1022 0x1.999999999999a0000000p-4"),
        ("%#a %#.0a %010a %-12a| %+a % a %#x", vec![F(1.0), F(1.0), F(-1.5), F(1.5), F(1.5), F(1.5), I(0)], "0x1.p+0 0x1.p+0 -0x01.8p+0 0x1.8p+0    \\x7c +0x1.8p+0  0x1.8p+0 0"),
        ("%5.1f %05.1f %-8.3e| %+g % g %#g %#.0e %#.0f %G %E", vec![F(3.14158), F(-3.14158), F(1234.5678), F(1.0), F(1.0), F(1.0), F(5.0), F(5.0), F(1e-20), F(1e300)], "  3.1 -03.1 1.235e+03\\x7c +1  1 1.00000 5.e+00 5. 1E-20 1.000000E+300"),
        ("%010.2f %-010.2f| %.3g %.0g %#.3g %g %#g %g", vec![F(-2.5), F(2.5), F(1234567.0), F(0.5), F(1.0), F(0.00001234), F(100000.0), F(-0.0)], "-000002.50 2.50      \\x7c 1.23e+06 0.5 1.00 1.234e-05 100000. -0"),
        ("%f %e %g %G %a %A %5f %-6f| %06f %+f % f", vec![F(f64::INFINITY), F(f64::NEG_INFINITY), F(NEG_NAN), F(NEG_NAN), F(f64::INFINITY), F(f64::NAN), F(f64::INFINITY), F(f64::INFINITY), F(f64::INFINITY), F(f64::INFINITY), F(f64::INFINITY)], "inf -inf -nan -NAN inf NAN   inf inf   \\x7c    inf +inf  inf"),
        ("%5d|%-5d|%05d|%+d|% d|%.3d|%.0d|%5.3d|%0-5d|%00005d", vec![I(42), I(42), I(-42), I(42), I(42), I(7), I(0), I(-7), I(1), I(1)], "   42\\x7c42   \\x7c-0042\\x7c+42\\x7c 42\\x7c007\\x7c\\x7c -007\\x7c1    \\x7c00001"),
        ("%x %X %#x %#o %o %#X %#.0o %.0x %u %i", vec![I(-1), I(255), I(0), I(8), I(8), I(0xab), I(0), I(0), I(-1), I(-9)], "ffffffffffffffff FF 0 010 10 0XAB 0  18446744073709551615 -9"),
        ("%c%c%5c%-3c|%c", vec![I(65), I(66), I(67), I(68), I(256 + 65)], "AB    CD  \\x7cA"),
        ("%5s|%-5s|%.2s|%5.1s|%s|%s|%s|%s|%.0s|", vec![s("ab"), s("ab"), s("abc"), s("xyz"), I(1), F(1.5), B(true), N, s("abc")], "   ab\\x7cab   \\x7cab\\x7c    x\\x7c1\\x7c1.5\\x7ctrue\\x7cnil\\x7c\\x7c"),
        ("%d %x %s %d %.3f", vec![s("10"), F(3.0), F(-0.0), s(" 0x10 "), s("1e2")], "10 3 -0.0 16 100.000"),
        ("%99.99f", vec![F(1.0)], "1.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"),
        ("%.99f", vec![F(0.1)], "0.100000000000000005551115123125782702118158340454101562500000000000000000000000000000000000000000000"),
        ("%-99d|%099d", vec![I(3), I(-3)], "3                                                                                                  \\x7c-00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003"),
        ("%e %.0e %.20e %e", vec![F(0.0), F(15.0), F(1.0 / 3.0), F(1e-310)], "0.000000e+00 2e+01 3.33333333333333314830e-01 1.000000e-310"),
        ("%f %.10f %f", vec![F(1e22), F(1e-9), F(123456789.125)], "10000000000000000000000.000000 0.0000000010 123456789.125000"),
        ("%d %d", vec![I(i64::MIN), I(i64::MAX)], "-9223372036854775808 9223372036854775807"),
        ("%q", vec![s("a\0b\x001\r\n\"\\\x01\u{7f}9\t")], "\"a\\x5c0b\\x5c0001\\x5c13\\x5c\\x0a\\x5c\"\\x5c\\x5c\\x5c1\\x5c1279\\x5c9\""),
        ("%q|%q|%q|%q|%q|%q|%q|%q", vec![I(i64::MIN), F(f64::INFINITY), F(f64::NEG_INFINITY), F(NEG_NAN), F(1.0), F(0.1), F(-0.0), F(1e100)], "0x8000000000000000\\x7c1e9999\\x7c-1e9999\\x7c(0/0)\\x7c0x1p+0\\x7c0x1.999999999999ap-4\\x7c-0x0p+0\\x7c0x1.249ad2594c37dp+332"),
        ("%q %q %q %q", vec![I(-5), B(true), B(false), N], "-5 true false nil"),
        ("%%%s%%", vec![s("x")], "%x%"),
        ("no conversions", vec![], "no conversions"),
        ("%10.3q", vec![s("a")], "E:specifier '%q' cannot have modifiers"),
        ("%5q", vec![N], "E:specifier '%q' cannot have modifiers"),
        ("%d", vec![F(1.5)], "E:bad argument #2 to 'string.format' (number has no integer representation)"),
        ("%d", vec![s("x")], "E:bad argument #2 to 'string.format' (number expected, got string)"),
        ("%d", vec![s("1.5")], "E:bad argument #2 to 'string.format' (number has no integer representation)"),
        ("%x", vec![F(9.3e18)], "E:bad argument #2 to 'string.format' (number has no integer representation)"),
        ("%f", vec![B(true)], "E:bad argument #2 to 'string.format' (number expected, got boolean)"),
        ("%y", vec![I(1)], "E:invalid conversion '%y' to 'format'"),
        ("%y", vec![], "E:bad argument #2 to 'string.format' (no value)"),
        ("%10.3y", vec![I(1)], "E:invalid conversion '%10.3y' to 'format'"),
        ("%F", vec![F(1.0)], "E:invalid conversion '%F' to 'format'"),
        ("%123d", vec![I(1)], "E:invalid conversion specification: '%123d'"),
        ("%123d", vec![s("x")], "E:bad argument #2 to 'string.format' (number expected, got string)"),
        ("%123f", vec![s("x")], "E:bad argument #2 to 'string.format' (number expected, got string)"),
        ("%123a", vec![s("x")], "E:invalid conversion specification: '%123a'"),
        ("%123s", vec![N], "E:invalid conversion specification: '%123s'"),
        ("%01234567890123456789d", vec![I(1)], "E:invalid conversion specification: '%01234567890123456789d'"),
        ("%012345678901234567890d", vec![I(1)], "E:invalid format (too long)"),
        ("%.123f", vec![F(1.0)], "E:invalid conversion specification: '%.123f'"),
        ("%100d", vec![I(1)], "E:invalid conversion specification: '%100d'"),
        ("%.3c %0c", vec![I(65), I(65)], "E:invalid conversion specification: '%.3c'"),
        ("%#d", vec![I(1)], "E:invalid conversion specification: '%#d'"),
        ("% u", vec![I(1)], "E:invalid conversion specification: '% u'"),
        ("%+x", vec![I(1)], "E:invalid conversion specification: '%+x'"),
        ("%#s", vec![s("a")], "E:invalid conversion specification: '%#s'"),
        ("%#c", vec![I(65)], "E:invalid conversion specification: '%#c'"),
        ("%5.3s", vec![s("a\0b")], "E:bad argument #2 to 'string.format' (string contains zeros)"),
        ("%s", vec![s("a\0b")], "a\\x00b"),
        ("%", vec![I(1)], "E:invalid conversion '%' to 'format'"),
        ("%-", vec![I(1)], "E:invalid conversion '%-' to 'format'"),
        ("%5", vec![I(1)], "E:invalid conversion '%5' to 'format'"),
        ("%5%", vec![I(1)], "E:invalid conversion '%5%' to 'format'"),
        ("%s %s", vec![I(1)], "E:bad argument #3 to 'string.format' (no value)"),
        ("%q", vec![FmtArg::Other("table", b"table: 0x1".to_vec())], "E:bad argument #2 to 'string.format' (value has no literal form)"),
        ("%-5.1s|%5.0s|", vec![s("xyz"), s("abc")], "x    \\x7c     \\x7c"),
        ("%s", vec![s(&"x".repeat(150))], "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        ("%-5s|", vec![s(&"y".repeat(120))], "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\\x7c"),
        ("%.3s|", vec![s(&"y".repeat(120))], "yyy\\x7c"),
    ]
}

fn our_format(f: &str, args: &[FmtArg]) -> String {
    match format::format(f.as_bytes(), &mut SimpleArgs(args)) {
        Ok(b) => esc(&b),
        Err(e) => format!("E:{}", esc(e.message("string.format").as_bytes())),
    }
}

#[test]
fn string_format() {
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for (f, args, e) in format_cases() {
        let mut call = format!("R(pcall(string.format, {}", lit(f.as_bytes()));
        for a in &args {
            call.push_str(", ");
            call.push_str(&lua_arg(a));
        }
        call.push_str("))");
        exprs.push(call);
        ours.push(our_format(f, &args));
        expected.push(e);
    }
    check("format", exprs, ours, expected);
}

// ---------------------------------------------------------------------------------------
// string.pack / unpack / packsize

fn pack_cases() -> Vec<(&'static str, Vec<FmtArg>, &'static str)> {
    vec![
        (">i3 <j !8 d z s2 c3", vec![I(0x123456), I(-2), F(1.5), s("hi"), s("yo"), s("ab")], "18,52,86,254,255,255,255,255,255,255,255,0,0,0,0,0,0,0,0,0,0,0,248,63,104,105,0,0,2,0,121,111,97,98,0"),
        ("bBhHlLjJT", vec![I(-1), I(255), I(-300), I(65535), I(-5), I(5), I(i64::MIN), I(-1), I(7)], "255,255,212,254,255,255,251,255,255,255,255,255,255,255,5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,128,255,255,255,255,255,255,255,255,7,0,0,0,0,0,0,0"),
        ("i1i2i3i4i5i6i7i8i9i16", vec![I(-1), I(-2), I(-3), I(-4), I(-5), I(-6), I(-7), I(-8), I(-9), I(-10)], "255,254,255,253,255,255,252,255,255,255,251,255,255,255,255,250,255,255,255,255,255,249,255,255,255,255,255,255,248,255,255,255,255,255,255,255,247,255,255,255,255,255,255,255,255,246,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255"),
        (">I1I2I3I5I9I16", vec![I(1), I(2), I(3), I(5), I(9), I(-1)], "1,0,2,0,0,3,0,0,0,0,5,0,0,0,0,0,0,0,0,9,0,0,0,0,0,0,0,0,255,255,255,255,255,255,255,255"),
        ("<f>f=d>n", vec![F(0.1), F(-2.5), F(1e300), F(f64::INFINITY)], "205,204,204,61,192,32,0,0,156,117,0,136,60,228,55,126,127,240,0,0,0,0,0,0"),
        ("!4 b i4 b h b d", vec![I(1), I(2), I(3), I(4), I(5), F(6.0)], "1,0,0,0,2,0,0,0,3,0,4,0,5,0,0,0,0,0,0,0,0,0,24,64"),
        ("!8 b d b j !2 b i8", vec![I(1), F(2.0), I(3), I(4), I(5), I(6)], "1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,64,3,0,0,0,0,0,0,0,4,0,0,0,0,0,0,0,5,0,6,0,0,0,0,0,0,0"),
        ("b x X i4 b Xi2 b", vec![I(1), I(2), I(3), I(4)], "E:bad argument #1 to 'string.pack' (invalid next option for option 'X')"),
        ("!4 b Xi4 i2", vec![I(1), I(2)], "1,0,0,0,2,0"),
        ("s1 s4 >s2 z", vec![s("a"), s(""), s("xyz"), s("")], "1,97,0,0,0,0,0,3,120,121,122,0"),
        ("c5 c0 c1", vec![s("ab"), s(""), I(7)], "97,98,0,0,0,55"),
        ("i", vec![s("12")], "12,0,0,0"),
        ("d", vec![s("0x10")], "0,0,0,0,0,0,48,64"),
        ("b", vec![I(200)], "E:bad argument #2 to 'string.pack' (integer overflow)"),
        ("b", vec![I(-129)], "E:bad argument #2 to 'string.pack' (integer overflow)"),
        ("B", vec![I(-1)], "E:bad argument #2 to 'string.pack' (unsigned overflow)"),
        ("I3", vec![I(1 << 24)], "E:bad argument #2 to 'string.pack' (unsigned overflow)"),
        ("i16", vec![I(-2)], "254,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255"),
        ("c2", vec![s("abc")], "E:bad argument #2 to 'string.pack' (string longer than given size)"),
        ("s1", vec![s(&"x".repeat(256))], "E:bad argument #2 to 'string.pack' (string length does not fit in given size)"),
        ("z", vec![s("a\0b")], "E:bad argument #2 to 'string.pack' (string contains zeros)"),
        ("i", vec![s("x")], "E:bad argument #2 to 'string.pack' (number expected, got string)"),
        ("i", vec![F(1.5)], "E:bad argument #2 to 'string.pack' (number has no integer representation)"),
        ("i", vec![], "E:bad argument #2 to 'string.pack' (number expected, got nil)"),
        ("c", vec![s("a")], "E:missing size for format option 'c'"),
        ("y", vec![], "E:invalid format option 'y'"),
        ("i17", vec![I(1)], "E:integral size (17) out of limits [1,16]"),
        ("i0", vec![I(1)], "E:integral size (0) out of limits [1,16]"),
        ("X", vec![], "E:bad argument #1 to 'string.pack' (invalid next option for option 'X')"),
        ("Xc1", vec![], "E:bad argument #1 to 'string.pack' (invalid next option for option 'X')"),
        ("bXz", vec![I(1)], "E:bad argument #1 to 'string.pack' (invalid next option for option 'X')"),
        ("!3i", vec![I(1)], "E:bad argument #1 to 'string.pack' (format asks for alignment not power of 2)"),
        ("!", vec![], ""),
        ("<=> !  ", vec![], ""),
        ("z", vec![B(true)], "E:bad argument #2 to 'string.pack' (string expected, got boolean)"),
        ("s", vec![I(12)], "2,0,0,0,0,0,0,0,49,50"),
    ]
}

fn our_pack(f: &str, args: &[FmtArg]) -> String {
    match pack::pack(f.as_bytes(), &mut SimpleArgs(args)) {
        Ok(b) => b
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(","),
        Err(e) => format!("E:{}", esc(e.message("string.pack").as_bytes())),
    }
}

#[test]
fn string_pack() {
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for (f, args, e) in pack_cases() {
        let mut call = format!(
            "(function() local ok, r = pcall(string.pack, {}",
            lit(f.as_bytes())
        );
        for a in &args {
            call.push_str(", ");
            call.push_str(&lua_arg(a));
        }
        call.push_str(
            ") if not ok then return 'E:' .. esc(r) end \
             return table.concat({r:byte(1, -1)}, ',') end)()",
        );
        exprs.push(call);
        ours.push(our_pack(f, &args));
        expected.push(e);
    }
    check("pack", exprs, ours, expected);
}

const PACKSIZE: &[(&str, &str)] = &[
    ("", "0"),
    ("i4 i8 b", "13"),
    ("!8 b d b h !2 j i3 Xi2 x", "33"),
    ("!bXh", "2"),
    ("!16 b Xj", "8"),
    ("c100 c2147483646", "E:invalid format option '6'"),
    ("c2147483647", "E:invalid format option '7'"),
    ("c2147483647c2", "E:invalid format option '7'"),
    (
        "c1073741824c1073741824",
        "E:bad argument #1 to 'string.packsize' (format result too large)",
    ),
    ("c999999999999", "E:invalid format option '9'"),
    (
        "s",
        "E:bad argument #1 to 'string.packsize' (variable-length format)",
    ),
    (
        "z",
        "E:bad argument #1 to 'string.packsize' (variable-length format)",
    ),
    ("!17", "E:integral size (17) out of limits [1,16]"),
    (
        "bX",
        "E:bad argument #1 to 'string.packsize' (invalid next option for option 'X')",
    ),
    ("c", "E:missing size for format option 'c'"),
    ("i", "4"),
    ("T J n f", "28"),
];

#[test]
fn string_packsize() {
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for &(f, e) in PACKSIZE {
        exprs.push(format!("R(pcall(string.packsize, {}))", lit(f.as_bytes())));
        ours.push(match pack::packsize(f.as_bytes()) {
            Ok(n) => n.to_string(),
            Err(e) => format!("E:{}", esc(e.message("string.packsize").as_bytes())),
        });
        expected.push(e);
    }
    check("packsize", exprs, ours, expected);
}

/// (format, data, init, expected values and next position)
const UNPACK: &[(&str, &[u8], i64, &str)] = &[
    (
        "<i2 >i2 =I3 !4 xXi4 b",
        b"\x01\x02\x01\x02\x01\x02\x03\0\0\0\0\0\0\0\xff",
        1,
        "513|258|197121|0|10",
    ),
    (
        "i16",
        b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        1,
        "-2|17",
    ),
    (
        "i16",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff",
        1,
        "E:16-byte integer does not fit into Lua Integer",
    ),
    (
        "I9",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        1,
        "E:9-byte integer does not fit into Lua Integer",
    ),
    ("I9", b"\xff\xff\xff\xff\xff\xff\xff\xff\x00", 1, "-1|10"),
    (">i9", b"\xff\xff\xff\xff\xff\xff\xff\xff\xfe", 1, "-2|10"),
    (
        "i4",
        b"abc",
        1,
        "E:bad argument #2 to 'string.unpack' (data string too short)",
    ),
    (
        "z",
        b"abc",
        1,
        "E:bad argument #2 to 'string.unpack' (unfinished string for format 'z')",
    ),
    ("z z", b"ab\0\0", 1, "ab||5"),
    (
        "s1",
        b"\x05ab",
        1,
        "E:bad argument #2 to 'string.unpack' (data string too short)",
    ),
    ("s1 B", b"\x02abc", 1, "ab|99|5"),
    (
        "i",
        b"abcd",
        6,
        "E:bad argument #3 to 'string.unpack' (initial position out of string)",
    ),
    (
        "i",
        b"abcd",
        5,
        "E:bad argument #2 to 'string.unpack' (data string too short)",
    ),
    ("c0", b"abcd", 5, "|5"),
    ("i", b"abcd", -10, "1684234849|5"),
    ("i2", b"abcd", -2, "25699|5"),
    ("b", b"abcd", 0, "97|2"),
    (
        "f d",
        b"\xcd\xcc\xcc\x3d\0\0\0\0\0\0\xf8\x3f",
        1,
        "0.10000000149012|1.5|13",
    ),
    ("c3 c0", b"abc", 1, "abc||4"),
    (
        ">h <H j",
        b"\x80\x00\x00\x80\x01\0\0\0\0\0\0\x80",
        1,
        "-32768|32768|-9223372036854775807|13",
    ),
    ("q", b"", 1, "E:invalid format option 'q'"),
];

#[test]
fn string_unpack() {
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for &(f, d, init, e) in UNPACK {
        exprs.push(format!(
            "R(pcall(string.unpack, {}, {}, {init}))",
            lit(f.as_bytes()),
            lit(d)
        ));
        ours.push(match pack::unpack(f.as_bytes(), d, init) {
            Ok((vals, next)) => {
                let mut v: Vec<String> = vals
                    .iter()
                    .map(|x| match x {
                        pack::Unpacked::Int(i) => i.to_string(),
                        pack::Unpacked::Float(f) => cfmt::lua_float_to_string(*f),
                        pack::Unpacked::Str(b) => esc(b),
                    })
                    .collect();
                v.push(next.to_string());
                v.join("|")
            }
            Err(e) => format!("E:{}", esc(e.message("string.unpack").as_bytes())),
        });
        expected.push(e);
    }
    check("unpack", exprs, ours, expected);
}

#[test]
fn pack_round_trips() {
    let cases: Vec<(&str, Vec<FmtArg>)> = vec![
        (
            "<i1 i2 i3 i4 i5 i6 i7 i8 i9 i16",
            (1..=10).map(|k| I(-(1 << (5 * k).min(62)) + 3)).collect(),
        ),
        (
            ">I1 I2 I3 I4 I7 I8 J",
            vec![
                I(200),
                I(60000),
                I(1 << 23),
                I(1 << 31),
                I(1 << 50),
                I(-1),
                I(i64::MIN),
            ],
        ),
        (
            "!8 b d f n h j",
            vec![I(-7), F(0.1), F(0.5), F(-1e-300), I(-32768), I(i64::MAX)],
        ),
        (
            "z s1 s8 >s3 c4",
            vec![s("zero"), s("one"), s("eight"), s("three"), s("c4c4")],
        ),
    ];
    for (f, args) in cases {
        let bytes = pack::pack(f.as_bytes(), &mut SimpleArgs(&args)).unwrap();
        let (vals, next) = pack::unpack(f.as_bytes(), &bytes, 1).unwrap();
        assert_eq!(next as usize, bytes.len() + 1, "{f}");
        if let Ok(n) = pack::packsize(f.as_bytes()) {
            assert_eq!(n as usize, bytes.len(), "{f}");
        }
        for (a, v) in args.iter().zip(&vals) {
            match (a, v) {
                (FmtArg::Int(x), pack::Unpacked::Int(y)) => {
                    // Unsigned options narrower than 8 bytes read back the same bits.
                    assert_eq!(*x, *y, "{f}");
                }
                (FmtArg::Float(x), pack::Unpacked::Float(y)) => {
                    assert!(*x == *y || (*x as f32) as f64 == *y, "{f}: {x} vs {y}");
                }
                (FmtArg::Str(x), pack::Unpacked::Str(y)) => {
                    let y = if f.contains("c4") {
                        &y[..x.len().min(y.len())]
                    } else {
                        &y[..]
                    };
                    assert_eq!(&x[..], y, "{f}");
                }
                _ => panic!("{f}: kind mismatch {a:?} {v:?}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// math.random (xoshiro256**)

use hotlua_stdlib::random::{RandomArgs, RandomValue, Xoshiro};

/// The calls made after each seed, as Lua source and as our arguments.
fn random_calls() -> Vec<(&'static str, RandomArgs)> {
    vec![
        ("", RandomArgs::None),
        ("10", RandomArgs::Upper(10)),
        ("1, 1000000", RandomArgs::Range(1, 1_000_000)),
        ("0", RandomArgs::Upper(0)),
        (
            "math.mininteger, math.maxinteger",
            RandomArgs::Range(i64::MIN, i64::MAX),
        ),
        ("-5, -1", RandomArgs::Range(-5, -1)),
        ("3", RandomArgs::Upper(3)),
        ("1, 1099511627783", RandomArgs::Range(1, 1_099_511_627_783)),
        ("7, 7", RandomArgs::Range(7, 7)),
        ("0, 4611686018427387904", RandomArgs::Range(0, 1 << 62)),
        ("2, 1", RandomArgs::Range(2, 1)),
    ]
}

/// lua5.4's output for each seed of [`math_random_sequences`].
const RANDOM_EXPECTED: &[&str] = &[
    "0x1.dc9369eecc04ep-1 2 154966 -7059243630996204619 -9046270629122405825 -4 1 975859394819 7 1351074849451138816 E 0x1.134e707737dc7p-1 8 913633 -1348856425985113987 -4048306103081716727 -5 1 477469278758 7 2195419124698032835 E 0x1.52c1581c20d1cp-3 8 521389 -2033279040265587720 -5644710639043423632 -1 1 734963299217 7 2814867048471451236 E",
    "0x1.f9acea71bda18p-3 9 391084 -7628392839634014443 -476379886374458193 -1 1 893291297073 7 3760998950794155079 E 0x1.81fbca5d05fe6p-1 4 228484 4626759532564815333 8570264376185983377 -1 1 564013252877 7 1240909520103478696 E 0x1.7fcd8da124276p-2 5 673924 -5017944572177074678 7440858599734736617 -1 3 822059114171 7 3404026170035825051 E",
    "0x1.4ab1d6188f46p-1 8 646272 -6531135529039494973 7251563905118047351 -5 3 957380141278 7 3122042499350457751 E 0x1.22b3791be51fp-1 6 958125 2385241980335140372 2407635436787381254 -4 2 452874363020 7 2247337680810571533 E 0x1.c0083fd55d512p-2 1 316973 -8015466833063037485 -9165972322508424435 -4 2 977209498601 7 2056723202353086498 E",
    "0x1.041e44f32b395p-1 8 682913 -8795627348194645208 -1106193239474277875 -3 1 126562128532 7 3856565462907170223 E 0x1.d1c17a2f73c98p-3 3 827925 8220839215502137670 9210595379480389287 -5 1 605262083506 7 4406062850218839256 E 0x1.f81b7825a4f24p-3 5 749781 -7013894358105319671 6872147374543093888 -1 2 826912516861 7 4305771994806416509 E",
    "0x1.568941439b762p-1 6 536180 -3543499606823921414 -8994643630604269251 -4 1 776191941080 7 1051134002705768015 E 0x1.a42fffa5994a4p-2 9 723591 3608358311937796482 7914484763716256154 -2 1 1082748687089 7 270929736996824522 E 0x1.1a8ecd7ee8d9p-4 1 469044 8536190884183242783 3940533795010078107 -3 1 98627388786 7 203613594869298186 E",
];

#[test]
fn math_random_sequences() {
    let seeds: &[(i64, i64)] = &[(42, 0), (0, 0), (-1, 0), (7, 3), (123_456_789, -9)];
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for (k, &(n1, n2)) in seeds.iter().enumerate() {
        let mut lua = format!("(function() math.randomseed({n1}, {n2}) local t = {{}} ");
        let mut gen = Xoshiro::from_seed(n1, n2);
        let mut mine = Vec::new();
        for _ in 0..3 {
            for (src, args) in random_calls() {
                lua.push_str(&format!(
                    "do local ok, v = pcall(math.random{}{src}) \
                     t[#t + 1] = not ok and 'E' or math.type(v) == 'float' and string.format('%a', v) or tostring(v) end ",
                    if src.is_empty() { "" } else { ", " }
                ));
                mine.push(match gen.random(args) {
                    Ok(RandomValue::Float(f)) => cfmt::sprintf_float("%a", f),
                    Ok(RandomValue::Int(i)) => i.to_string(),
                    Err(_) => "E".to_string(),
                });
            }
        }
        lua.push_str("return table.concat(t, ' ') end)()");
        exprs.push(lua);
        ours.push(mine.join(" "));
        expected.push(RANDOM_EXPECTED[k]);
    }
    check("random", exprs, ours, expected);
}

#[test]
fn math_random_seed_42_matches_lua() {
    // Values printed by lua5.4 after math.randomseed(42).
    let mut g = Xoshiro::from_seed(42, 0);
    let Ok(RandomValue::Float(f)) = g.random(RandomArgs::None) else {
        panic!("float expected")
    };
    assert_eq!(cfmt::sprintf_float("%a", f), "0x1.dc9369eecc04ep-1");
    assert_eq!(cfmt::fmt_g14(f), "0.93081217803957");
    assert_eq!(g.random(RandomArgs::Upper(10)), Ok(RandomValue::Int(2)));
    assert_eq!(
        g.random(RandomArgs::Range(1, 1_000_000)),
        Ok(RandomValue::Int(154_966))
    );
    assert_eq!(
        g.random(RandomArgs::Upper(0)),
        Ok(RandomValue::Int(-7_059_243_630_996_204_619))
    );
}

// ---------------------------------------------------------------------------------------
// os.date formats

use hotlua_stdlib::strftime::{self, DateResult};

const DATE_TIMES: &[i64] = &[
    0,
    -1,
    951_782_400,     // 2000-02-29
    1_703_980_800,   // 2023-12-31 (a Sunday)
    1_704_067_199,   // 2023-12-31 23:59:59
    1_704_067_200,   // 2024-01-01 (a Monday)
    1_735_603_200,   // 2024-12-31 (ISO week 1 of 2025)
    1_609_459_200,   // 2021-01-01 (ISO week 53 of 2020)
    1_230_768_000,   // 2009-01-01
    1_262_217_600,   // 2009-12-31 (ISO week 53)
    43_200,          // noon
    -2_208_988_800,  // 1900-01-01
    -62_135_596_800, // year 1
    -65_000_000_000, // a negative year
    253_402_300_799, // 9999-12-31 23:59:59
    4_102_444_800,   // 2100-01-01
    67_767_976_233_532_799,
    67_767_976_233_532_800,
    1_i64 << 62,
];

const DATE_FORMAT: &str = "%a|%A|%b|%B|%c|%C|%d|%D|%e|%F|%g|%G|%h|%H|%I|%j|%m|%M|%n|%p|%r|%R|%S|%t|%T|%u|%U|%V|%w|%W|%x|%X|%y|%Y|%z|%Z|%%|%Ec|%EC|%Ex|%EX|%Ey|%EY|%Od|%Oe|%OH|%OI|%Om|%OM|%OS|%Ou|%OU|%OV|%Ow|%OW|%Oy|plain";

fn our_date(f: &[u8], t: i64) -> String {
    match strftime::os_date(f, t) {
        Ok(DateResult::Text(b)) => esc(&b),
        Ok(DateResult::Table(tm)) => format!(
            "{} {} {} {} {} {} {} {} {}",
            tm.year as i64 + 1900,
            tm.mon + 1,
            tm.mday,
            tm.hour,
            tm.min,
            tm.sec,
            tm.yday + 1,
            tm.wday + 1,
            tm.isdst > 0
        ),
        Err(e) => format!("E:{}", esc(e.message("os.date").as_bytes())),
    }
}

/// Every conversion, for UTC and local time, at times around year and week boundaries;
/// checked live against lua5.4 (same process timezone) when it is available.
#[test]
fn os_date_formats_agree_with_lua() {
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut fmts: Vec<Vec<u8>> = Vec::new();
    for prefix in ["!", ""] {
        fmts.push(format!("{prefix}{DATE_FORMAT}").into_bytes());
        fmts.push(format!("{prefix}*t").into_bytes());
    }
    for f in &fmts {
        for &t in DATE_TIMES {
            let lua = if f.ends_with(b"*t") {
                format!(
                    "(function() local ok, d = pcall(os.date, {}, {t}) if not ok then return 'E:' .. esc(d) end \
                     return string.format('%d %d %d %d %d %d %d %d %s', d.year, d.month, d.day, d.hour, d.min, d.sec, d.yday, d.wday, d.isdst) end)()",
                    lit(f)
                )
            } else {
                format!("R(pcall(os.date, {}, {t}))", lit(f))
            };
            exprs.push(lua);
            ours.push(our_date(f, t));
        }
    }
    let expected = ours.iter().map(|s| s.as_str()).collect::<Vec<_>>();
    // Local time depends on the machine's timezone, so only the live comparison applies.
    check("date", exprs.clone(), ours.clone(), expected);
}

/// Fixed UTC expectations (from lua5.4) that hold on any machine.
#[test]
fn os_date_utc_fixed() {
    let cases: &[(&str, i64, &str)] = &[
        ("!%c", 0, "Thu Jan  1 00:00:00 1970"),
        ("!%Y-%m-%d %H:%M:%S", 1_704_067_199, "2023-12-31 23:59:59"),
        (
            "!%G %g %V %U %W %j %u %w",
            1_735_603_200,
            "2025 25 01 52 53 366 2 2",
        ),
        (
            "!%G %g %V %U %W %j %u %w",
            1_609_459_200,
            "2020 20 53 00 00 001 5 5",
        ),
        ("!%G %V", 1_262_217_600, "2009 53"),
        (
            "!%Y %C %y %G %g %F",
            -65_000_000_000,
            "-90 -1 10 -90 10 -90-03-27",
        ),
        (
            "!%Y %C %y %F %c",
            -62_135_596_800,
            "1 0 01 1-01-01 Mon Jan  1 00:00:00 1",
        ),
        ("!%I %p %r", 43_200, "12 PM 12:00:00 PM"),
        ("!%I %p %r", 0, "12 AM 12:00:00 AM"),
        ("!%z %Z", 0, "+0000 GMT"),
        ("!%Y", 67_767_976_233_532_800, "-2147483648"),
        (
            "!%Y",
            1_i64 << 62,
            "E:date result cannot be represented in this installation",
        ),
        (
            "!%Q",
            0,
            "E:bad argument #1 to 'os.date' (invalid conversion specifier '%Q')",
        ),
        (
            "%Qabc",
            0,
            "E:bad argument #1 to 'os.date' (invalid conversion specifier '%Qabc')",
        ),
        (
            "%E",
            0,
            "E:bad argument #1 to 'os.date' (invalid conversion specifier '%E')",
        ),
        (
            "%Ez",
            0,
            "E:bad argument #1 to 'os.date' (invalid conversion specifier '%Ez')",
        ),
        (
            "%",
            0,
            "E:bad argument #1 to 'os.date' (invalid conversion specifier '%')",
        ),
        (
            "%5d",
            0,
            "E:bad argument #1 to 'os.date' (invalid conversion specifier '%5d')",
        ),
        ("!*t", 951_782_400, "2000 2 29 0 0 0 60 3 false"),
        ("", 0, ""),
    ];
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    let mut expected = Vec::new();
    for &(f, t, e) in cases {
        exprs.push(if f.ends_with("*t") {
            format!(
                "(function() local d = os.date({}, {t}) \
                 return string.format('%d %d %d %d %d %d %d %d %s', d.year, d.month, d.day, d.hour, d.min, d.sec, d.yday, d.wday, d.isdst) end)()",
                lit(f.as_bytes())
            )
        } else {
            format!("R(pcall(os.date, {}, {t}))", lit(f.as_bytes()))
        });
        ours.push(our_date(f.as_bytes(), t));
        expected.push(e);
    }
    check("datefixed", exprs, ours, expected);
}

// ---------------------------------------------------------------------------------------
// Differential fuzzing of the pattern engine against lua5.4

/// Random patterns and subjects built from pieces that exercise every pattern feature
/// (including malformed ones): our find/match/gsub/gmatch must never panic and, when
/// lua5.4 is available, must give its exact answers.
#[test]
fn pattern_fuzz_against_lua() {
    const PIECES: &[&str] = &[
        "a", "b", "c", ".", "%a", "%d", "%s", "%W", "%1", "%2", "%0", "(", ")", "()", "[ab]",
        "[^a]", "[a-c]", "[%d)]", "[]]", "*", "+", "-", "?", "^", "$", "%b()", "%f[a]", "%f[%W]",
        "%", "[", "]", "%%", "%.", " ",
    ];
    const SUBJECT: &[u8] = b"ab(c)1 ";
    let mut rng = Xoshiro::from_seed(2024, 0);
    let mut pick = |n: usize| match rng.random(RandomArgs::Range(0, n as i64 - 1)) {
        Ok(RandomValue::Int(i)) => i as usize,
        _ => 0,
    };
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..600 {
        let plen = 1 + pick(6);
        let pat: String = (0..plen).map(|_| PIECES[pick(PIECES.len())]).collect();
        let slen = pick(12);
        let subj: Vec<u8> = (0..slen).map(|_| SUBJECT[pick(SUBJECT.len())]).collect();
        let init = [1i64, 2, -1, 0, 20][pick(5)];
        let p = pat.as_bytes();
        exprs.push(format!(
            "R(pcall(string.find, {}, {}, {init}))",
            lit(&subj),
            lit(p)
        ));
        ours.push(our_find(&subj, p, init, false));
        exprs.push(format!(
            "R(pcall(string.match, {}, {}, {init}))",
            lit(&subj),
            lit(p)
        ));
        ours.push(our_find(&subj, p, init, true));
        exprs.push(format!(
            "R(pcall(string.gsub, {}, {}, \"<%0>\"))",
            lit(&subj),
            lit(p)
        ));
        ours.push(our_gsub(&subj, p, b"<%0>", -1));
        exprs.push(format!("GM({}, {})", lit(&subj), lit(p)));
        ours.push(our_gmatch(&subj, p));
    }
    // Without lua5.4 this still proves the engine never panics on these inputs.
    let expected: Vec<&str> = ours.iter().map(|s| s.as_str()).collect();
    check("fuzz", exprs.clone(), ours.clone(), expected);
}

/// Random conversion specs (flags, width, precision, letter) over awkward values, compared
/// with lua5.4's `string.format` (which uses glibc's printf).
#[test]
fn format_fuzz_against_lua() {
    const FLAGS: &[&str] = &["", "", "-", "+", " ", "#", "0", "-0", "+0", "# ", "-#"];
    const WIDTHS: &[&str] = &["", "", "1", "5", "12", "30", "99"];
    const PRECS: &[&str] = &["", "", ".", ".0", ".1", ".3", ".10", ".17", ".40"];
    const CONVS: &[u8] = b"diuxXocseEfgGaAq";
    let values = [
        I(0),
        I(1),
        I(-1),
        I(255),
        I(i64::MIN),
        I(i64::MAX),
        I(1_000_000),
        F(0.0),
        F(-0.0),
        F(0.5),
        F(2.5),
        F(1.0 / 3.0),
        F(123.456),
        F(-9.999_999e-5),
        F(1e300),
        F(5e-324),
        F(2.225_073_858_507_201e-308),
        F(1e15),
        F(0.1),
        F(f64::INFINITY),
        F(NEG_NAN),
        F(9.5),
        F(99999.5),
        F(-1.5e-7),
        s("hello"),
        s(""),
    ];
    let mut rng = Xoshiro::from_seed(99, 1);
    let mut pick = |n: usize| match rng.random(RandomArgs::Range(0, n as i64 - 1)) {
        Ok(RandomValue::Int(i)) => i as usize,
        _ => 0,
    };
    let mut exprs = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..1500 {
        let conv = CONVS[pick(CONVS.len())] as char;
        let f = format!(
            "%{}{}{}{conv}",
            FLAGS[pick(FLAGS.len())],
            WIDTHS[pick(WIDTHS.len())],
            PRECS[pick(PRECS.len())]
        );
        let v = values[pick(values.len())].clone();
        exprs.push(format!(
            "R(pcall(string.format, {}, {}))",
            lit(f.as_bytes()),
            lua_arg(&v)
        ));
        ours.push(our_format(&f, &[v]));
    }
    let expected: Vec<&str> = ours.iter().map(|s| s.as_str()).collect();
    check("formatfuzz", exprs.clone(), ours.clone(), expected);
}

//! The `string` library running inside the VM, checked against lua5.4: each script returns
//! a string that both must produce identically.

use hotlua_stdlib::string::lib::open_string;
use hotlua_vm::Value;
use std::process::Command;

/// Helpers every script may use (the table library is not part of this crate).
const PRELUDE: &str = "local function J(sep, ...) local s = '' for i = 1, select('#', ...) do \
    s = s .. (i > 1 and sep or '') .. tostring((select(i, ...))) end return s end \
    local function table_unpack(t, i) i = i or 1 if t[i] ~= nil then return t[i], table_unpack(t, i + 1) end end ";

fn run_ours(src: &str) -> String {
    let src = &format!("{PRELUDE}{src}");
    let mut vm = hotlua_stdlib::open::new_vm();
    open_string(&mut vm).expect("open string");
    let f = match vm.load(src.as_bytes(), "=test", None) {
        Ok(f) => f,
        Err(e) => return format!("LOAD ERROR: {}", vm.to_display(e.value)),
    };
    match vm.call(f, &[]) {
        Ok(v) => match v.first() {
            Some(Value::Str(s)) => s.get().to_str_lossy().into_owned(),
            Some(other) => vm.to_display(*other),
            None => String::new(),
        },
        Err(e) => format!("ERROR: {}", vm.to_display(e.value)),
    }
}

fn run_lua(src: &str) -> Option<String> {
    let src = &format!("{PRELUDE}{src}");
    let script = format!("local f = assert(load({src:?}, '=test'))\nlocal ok, r = pcall(f)\nif ok then io.write(tostring(r)) else io.write('ERROR: ' .. tostring(r)) end");
    let out = Command::new("timeout")
        .args(["60", "lua5.4"])
        .arg("-e")
        .arg(script)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn smoke() {
    let src = "return string.format('%d %s', 42, ('x'):rep(3))";
    assert_eq!(run_ours(src), "42 xxx");
    if let Some(l) = run_lua(src) {
        assert_eq!(l, "42 xxx");
    }
}

/// Lua scripts (each returns a string) and lua5.4's result for each.
const SCRIPTS: &[(&str, &str)] = &[
    ("local t = {} for w in string.gmatch('one two  three', '%a+') do t[#t+1] = w end return J(',', table_unpack(t))", "one,two,three"),
    ("local t = {} for k, v in ('a=1, b=2'):gmatch('(%w+)=(%w+)') do t[#t+1] = k .. v end return J(';', table_unpack(t))", "a1;b2"),
    ("local it = ('x'):gmatch('(') local ok, e = pcall(function() local r = it() return r end) return type(it) .. ' ' .. e", "function test:1: unfinished capture"),
    ("local it = ('x'):gmatch('[') local ok, e = pcall(it) return e", "malformed pattern (missing ']')"),
    ("local it = ('abc'):gmatch('.') return it() .. it() .. it() .. tostring(it())", "ERROR: test:1: bad argument #1 to 'tostring' (value expected)"),
    ("local t = {} for p in ('abc'):gmatch('()', 2) do t[#t+1] = p end return J(',', table_unpack(t))", "2,3,4"),
    ("return select('#', ('hello'):byte(1, -1)) .. ':' .. J(',', ('hello'):byte(-3, 10))", "5:108,108,111"),
    ("return ('hello'):byte() .. ',' .. tostring(('hello'):byte(10)) .. ',' .. select('#', ('hello'):byte(3, 2))", "ERROR: test:1: bad argument #1 to 'tostring' (value expected)"),
    ("return string.char(72, 105, 0, 255):len() .. string.char()", "4"),
    ("return select('#', ('abc'):byte(0)) .. select('#', ('abc'):byte(-10)) .. ('abc'):byte(-1) .. J(',', ('abc'):byte(-10, 2))", "009997,98"),
    ("return select(2, pcall(string.char, 256))", "bad argument #1 to 'string.char' (value out of range)"),
    ("return select(2, pcall(string.char, -1))", "bad argument #1 to 'string.char' (value out of range)"),
    ("return ('hello'):sub(2, 3) .. '|' .. ('hello'):sub(-3) .. '|' .. ('hello'):sub(0) .. '|' .. ('hello'):sub(4, 2) .. '|' .. ('hello'):sub(-100, 100) .. '|' .. ('hello'):sub(-9223372036854775807 - 1, 9223372036854775807)", "el|llo|hello||hello|hello"),
    ("return ('Hello World'):upper() .. ('Hello World'):lower() .. ('abc'):reverse() .. #('x'):rep(0) .. ('ab'):rep(3, ',')", "HELLO WORLDhello worldcba0ab,ab,ab"),
    ("return select(2, pcall(string.rep, 'x', 1 << 62))", "resulting string too large"),
    ("return select(2, pcall(string.rep))", "bad argument #1 to 'string.rep' (string expected, got no value)"),
    ("return select(2, pcall(('x').rep, 'x', 'y'))", "bad argument #2 to 'string.rep' (number expected, got string)"),
    ("local ok, e = pcall(function() return ('x'):rep({}) end) return e", "test:1: bad argument #1 to 'rep' (number expected, got table)"),
    ("return string.format('%5.1f|%-5d|%q|%s|%x', 3.14159, 42, 'a\\nb', nil, 255)", "  3.1|42   |\"a\\\nb\"|nil|ff"),
    ("return select(2, pcall(string.format, '%d', 1.5))", "bad argument #2 to 'string.format' (number has no integer representation)"),
    ("return select(2, pcall(string.format, '%d', 'x'))", "bad argument #2 to 'string.format' (number expected, got string)"),
    ("local ok, e = pcall(function() return ('%d'):format({}) end) return e", "test:1: bad argument #1 to 'format' (number expected, got table)"),
    ("return select(2, pcall(string.format, '%y', 1))", "invalid conversion '%y' to 'format'"),
    ("local ok, e = pcall(function() local s = string.format('%y', 1) return s end) return e", "test:1: invalid conversion '%y' to 'format'"),
    ("return string.format('%s|%s', setmetatable({}, {__tostring = function() return 'OBJ' end}), 1.0)", "OBJ|1.0"),
    ("return select(2, pcall(string.format, '%s', setmetatable({}, {__tostring = function() return {} end})))", "'__tostring' must return a string"),
    ("return string.format('%p', 1) .. string.format('%p', nil)", "(null)(null)"),
    ("return (string.format('%p', {}):match('^0x%x+$') and 'ptr' or 'bad')", "ptr"),
    ("return J(',', string.find('hello world', 'o w')) .. ';' .. J(',', string.find('hello', '(l)(l)'))", "5,7;3,4,l,l"),
    ("return tostring(string.find('a.b', '.', 1, true)) .. tostring(string.find('abc', 'b', -1)) .. tostring(string.find('abc', '', 10))", "2nilnil"),
    ("return J('|', string.match('key = val', '(%w+)%s*=%s*(%w+)')) .. string.match('  x', '()x')", "key|val3"),
    ("return select(2, pcall(string.find, 'a', '(%'))", "malformed pattern (ends with '%')"),
    ("local ok, e = pcall(function() local r = string.find('a', '[a') return r end) return e", "test:1: malformed pattern (missing ']')"),
    ("return (string.gsub('hello world', 'o', '0'))", "hell0 w0rld"),
    ("return J('|', string.gsub('abc', '%w', '%0%0', 2))", "aabbc|2"),
    ("return J('|', string.gsub('hello world', '%w+', function(w) return w:upper() end))", "HELLO WORLD|2"),
    ("return J('|', string.gsub('$name is $age', '%$(%w+)', {name = 'Bob', age = 42}))", "Bob is 42|2"),
    ("local t = setmetatable({}, {__index = function(_, k) return k:upper() end}) return (string.gsub('abc', '%w', t))", "ABC"),
    ("local t = setmetatable({a = 1}, {__index = setmetatable({b = 2}, {__index = {c = 3}})}) return (string.gsub('abcd', '%w', t))", "123d"),
    ("return string.rep('', 5) .. string.rep('', 3, '') .. string.rep('ab', 1, '-')", "ab"),
    ("return (string.gsub('abc', '%w', function(c) if c == 'b' then return false end return c .. c end))", "aabcc"),
    ("return (string.gsub('abc', '()', function(p) return p end))", "1a2b3c4"),
    ("return (string.gsub('abc', '(a)(b)(c)', function(a, b, c) return c .. b .. a end))", "cba"),
    ("return select(2, pcall(string.gsub, 'abc', 'b', {b = {}}))", "invalid replacement value (a table)"),
    ("return select(2, pcall(string.gsub, 'abc', 'b', function() return true end))", "invalid replacement value (a boolean)"),
    ("return select(2, pcall(string.gsub, 'abc', 'b'))", "bad argument #3 to 'string.gsub' (string/function/table expected, got no value)"),
    ("return select(2, pcall(string.gsub, 'abc', 'b', '%2'))", "invalid capture index %2"),
    ("return (string.gsub('abc', 'b', 7)) .. (string.gsub('a.b', '%.', 1.5))", "a7ca1.5b"),
    ("return J('|', string.gsub('abc', '', '-')) .. J('|', string.gsub('abc', 'x*', '-'))", "-a-b-c-|4-a-b-c-|4"),
    ("return (string.gsub('one two', '(%w+) (%w+)', '%2 %1'))", "two one"),
    ("local p = string.pack('>i4 z d', 100, 'hi', 0.5) return #p .. ':' .. J(',', string.unpack('>i4 z d', p))", "15:100,hi,0.5,16"),
    ("return string.packsize('i4 i8') .. ',' .. select(2, pcall(string.packsize, 's'))", "12,bad argument #1 to 'string.packsize' (variable-length format)"),
    ("return select(2, pcall(string.pack, 'i2', 1 << 20))", "bad argument #2 to 'string.pack' (integer overflow)"),
    ("return select(2, pcall(string.unpack, 'i4', 'ab'))", "bad argument #2 to 'string.unpack' (data string too short)"),
    ("return select(2, pcall(string.pack, 'y'))", "invalid format option 'y'"),
    ("return ('%d'):rep(2, '-'):format(1, 2) .. #string.format('%099d', 7)", "1-299"),
    ("return select(2, pcall(string.dump, 1))", "bad argument #1 to 'string.dump' (function expected, got number)"),
    ("return select(2, pcall(string.len))", "bad argument #1 to 'string.len' (string expected, got no value)"),
    ("return string.len('\\0a\\0') .. ('x'):len() .. #('abc'):upper()", "313"),
    ("return tostring(('x'):find('x', 2)) .. tostring(('x'):match('y'))", "nilnil"),
    ("return select(2, pcall(string.sub, 'x', {}))", "bad argument #2 to 'string.sub' (number expected, got table)"),
    ("return select(2, pcall(string.byte, 'x', 1.5))", "bad argument #2 to 'string.byte' (number has no integer representation)"),
    ("return string.format('%q', 1/0) .. string.format('%q', (-9223372036854775807 - 1)) .. string.format('%.3f', '1.5')", "1e99990x80000000000000001.500"),
];

#[test]
fn string_library_scripts_agree_with_lua() {
    let dump = std::env::var("HOTLUA_DUMP").is_ok();
    let mut failures = Vec::new();
    for (i, &(src, expected)) in SCRIPTS.iter().enumerate() {
        let ours = run_ours(src);
        if let Some(live) = run_lua(src) {
            if dump {
                println!("DUMP lib {live:?}");
            }
            if live != ours {
                failures.push(format!("[{i}] {src}\n  ours   {ours:?}\n  lua5.4 {live:?}"));
            }
        }
        if ours != expected {
            failures.push(format!(
                "[{i}] {src}\n  ours     {ours:?}\n  expected {expected:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Random calls of the library functions with awkward arguments (negative and huge
/// positions, floats, numeric strings, nil, booleans, tables), results or error messages
/// compared with lua5.4 line by line.
#[test]
fn random_calls_agree_with_lua() {
    const FUNCS: &[&str] = &[
        "byte", "sub", "rep", "find", "match", "gsub", "format", "char", "upper", "len", "reverse",
        "lower", "pack", "unpack", "packsize",
    ];
    const ARGS: &[&str] = &[
        "-10",
        "-3",
        "-1",
        "0",
        "1",
        "2",
        "3",
        "5",
        "10",
        "2^31",
        "(-9223372036854775807 - 1)",
        "1.5",
        "2.0",
        "-0.0",
        "1e308",
        "''",
        "'abc'",
        "'hello world'",
        "'%d+'",
        "'(%a)(%a)'",
        "'a.b'",
        "'10'",
        "'0x10'",
        "'%5.2s'",
        "'i4'",
        "'<h z'",
        "nil",
        "true",
        "{}",
        "'%'",
        "'[a-'",
        "'%b()'",
        "'x%1'",
        "'%q'",
        "'%10.3f'",
        "'%x'",
        "'%c'",
        "'%-5d|'",
        "'!4 i3 s1'",
        "'>I2 d'",
        "'%f[%w]%w+'",
        "'()'",
        "'%s*'",
        "3.141592653589793",
        "255",
        "-255",
    ];
    let mut seed: u64 = 0xdead_beef_0bad_cafe;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut script = String::from("local out = {}\n");
    for _ in 0..800 {
        let f = FUNCS[next(FUNCS.len())];
        let nargs = next(4);
        let args: Vec<&str> = (0..nargs).map(|_| ARGS[next(ARGS.len())]).collect();
        let call = format!("string.{f}, {}", args.join(", "));
        let call = call.trim_end_matches(", ");
        script.push_str(&format!("out[#out + 1] = J('|', pcall({call}))\n"));
    }
    // Large results (rep) would flood the comparison: show their lengths instead.
    script.push_str(
        "for i = 1, #out do if #out[i] > 200 then out[i] = 'len ' .. #out[i] end end\n\
         return J('\\n', table_unpack(out))",
    );
    let ours = run_ours(&script);
    let Some(live) = run_lua(&script) else { return };
    assert!(
        live.lines().count() >= 100,
        "lua5.4 did not run the script: {}",
        &live[..live.len().min(300)]
    );
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), live.lines().collect());
    let script_lines: Vec<&str> = script.lines().skip(1).collect();
    let mut bad = Vec::new();
    for i in 0..a.len().max(b.len()) {
        if a.get(i) != b.get(i) {
            bad.push(format!(
                "{}\n  ours   {:?}\n  lua5.4 {:?}",
                script_lines.get(i).unwrap_or(&"?"),
                a.get(i),
                b.get(i)
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

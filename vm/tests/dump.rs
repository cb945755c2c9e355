//! Binary chunks (`hotlua_vm::dump`): every prototype the compiler makes passes the
//! verifier and survives a dump and a load unchanged; hand-broken prototypes are refused
//! with the rule they break; and a deterministic fuzzer truncates and corrupts dumps of real
//! functions, asserting that loading gives an error or a verified function (which then runs
//! under an instruction budget), never a panic.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use hotlua_compiler::opcode::{Instr, OpCode};
use hotlua_compiler::proto::Proto;
use hotlua_vm::dump::{dump, dump_proto, undump, verify};
use hotlua_vm::{Value, Vm};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn lua_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if name != "target" && !name.starts_with('.') {
                lua_files(&p, out);
            }
        } else if name.ends_with(".lua") {
            out.push(p);
        }
    }
}

/// Every Lua file of the workspace, plus the official test suite and the seed examples
/// when the shared folder is beside the workspace.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    lua_files(&workspace_root(), &mut files);
    lua_files(
        &workspace_root().join("../shared/lua-5.4.4-tests"),
        &mut files,
    );
    lua_files(
        &workspace_root().join("../shared/seed/examples"),
        &mut files,
    );
    assert!(
        files.iter().any(|p| p.ends_with("tests/lua/vm/dump.lua")),
        "corpus not found"
    );
    files
        .into_iter()
        .filter_map(|p| {
            let src = std::fs::read(&p).ok()?;
            let src = hotlua_compiler::file_chunk(&src).to_vec();
            Some((format!("@{}", p.display()), src))
        })
        .collect()
}

fn lua_fn(vm: &mut Vm, src: &[u8], name: &str) -> hotlua_vm::Gc<hotlua_vm::function::LuaClosure> {
    match vm.load(src, name, None) {
        Ok(Value::LuaFn(c)) => c,
        Ok(_) => panic!("load made no Lua function"),
        Err(e) => panic!("{}: {}", name, vm.to_display(e.value)),
    }
}

fn count_protos(p: &Proto) -> usize {
    1 + p.protos.iter().map(|c| count_protos(c)).sum::<usize>()
}

#[test]
fn compiler_output_passes_the_verifier_and_round_trips() {
    let mut vm = Vm::new();
    let (mut files, mut protos) = (0, 0);
    for (name, src) in corpus() {
        for module in [false, true] {
            let compiled = if module {
                hotlua_compiler::compile_module(&src, &name)
            } else {
                hotlua_compiler::compile(&src, &name)
            };
            // Files that are meant not to compile (error tests) are skipped.
            let Ok(p) = compiled else { continue };
            if let Err(e) = verify(&p) {
                panic!("{} (module: {}): the verifier refuses: {}", name, module, e);
            }
            files += 1;
            protos += count_protos(&p);
            // Through the VM: dump the instantiated function, read it back.
            let c = if module {
                match vm.load_module(&src, &name, None) {
                    Ok(Value::LuaFn(c)) => c,
                    _ => panic!("{}: load_module failed", name),
                }
            } else {
                lua_fn(&mut vm, &src, &name)
            };
            let bytes = dump(c.get().proto().get(), false);
            let back = undump(&bytes).unwrap_or_else(|e| panic!("{}: {}", name, e));
            assert!(back == p, "{}: the loaded prototype differs", name);
            assert_eq!(dump_proto(&back, false), bytes, "{}: dump not stable", name);
            // Stripped: no debug information, everything else the same.
            let stripped = undump(&dump_proto(&p, true)).unwrap_or_else(|e| panic!("{}", e));
            check_stripped(&stripped, &p);
        }
        vm.full_gc();
    }
    assert!(
        files > 50 && protos > 500,
        "{} files, {} protos",
        files,
        protos
    );
    println!(
        "verified and round-tripped {} chunks ({} functions)",
        files, protos
    );
}

fn check_stripped(s: &Proto, p: &Proto) {
    assert_eq!(s.code, p.code);
    assert_eq!(s.constants, p.constants);
    assert!(s.line_info.is_empty() && s.locvars.is_empty());
    assert_eq!(&*s.source, "=?");
    assert!(s.name.is_empty());
    assert_eq!(
        (
            s.line_defined,
            s.last_line_defined,
            s.num_params,
            s.is_vararg,
            s.max_stack
        ),
        (
            p.line_defined,
            p.last_line_defined,
            p.num_params,
            p.is_vararg,
            p.max_stack
        )
    );
    for (u, v) in s.upvalues.iter().zip(p.upvalues.iter()) {
        assert_eq!((&*u.name, &*u.decl), ("?", ""));
        assert_eq!((u.in_stack, u.index, u.kind), (v.in_stack, v.index, v.kind));
    }
    assert_eq!(s.protos.len(), p.protos.len());
    for (a, b) in s.protos.iter().zip(p.protos.iter()) {
        check_stripped(a, b);
    }
}

#[test]
fn debug_identities_survive_an_unstripped_dump() {
    let src = b"local M = {}\nlocal count = 0\nfunction M.f(a)\n  do local a = 2; local a = 3 end\n  count = count + a\n  return function() return count end\nend\nreturn M\n";
    let p = hotlua_compiler::compile_module(src, "@m.lua").unwrap();
    assert!(p.module && p.source_hash != 0);
    let back = undump(&dump_proto(&p, false)).unwrap();
    assert!(back.module && back.source_hash == p.source_hash);
    let f = &back.protos[0];
    assert_eq!(&*f.name, "M.f");
    assert!(f
        .locvars
        .iter()
        .any(|v| v.shadow == 1 && *v.scope_path == [0]));
    let g = &f.protos[0];
    assert_eq!(
        &*g.upvalues[0].decl,
        &*p.protos[0].protos[0].upvalues[0].decl
    );
    assert!(!g.upvalues[0].decl.is_empty());
    assert_eq!(back, p);
}

#[test]
fn foreign_and_other_version_chunks_are_refused() {
    // `string.dump(function() return 1 end, true)` as lua5.4 (5.4.4) writes it.
    let puc: &[u8] = b"\x1b\x4c\x75\x61\x54\x00\x19\x93\x0d\x0a\x1a\x0a\x04\x08\x08\x78\x56\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x28\x77\x40\x00\x80\x81\x81\x00\x00\x02\x83\x01\x00\x00\x80\x48\x00\x02\x00\x47\x00\x01\x00\x80\x80\x80\x80\x80\x80\x80";
    assert_eq!(undump(puc).unwrap_err().why, "format mismatch");
    let p = hotlua_compiler::compile(b"return 1", "=x").unwrap();
    let mut d = dump_proto(&p, false);
    let vpos = 31 + hotlua_vm::dump::HOTLUA_TAG.len();
    assert_eq!(d[vpos], hotlua_vm::dump::FORMAT_VERSION);
    d[vpos] += 1;
    assert_eq!(undump(&d).unwrap_err().why, "version mismatch");
    d[4] = 0x53;
    assert_eq!(undump(&d).unwrap_err().why, "version mismatch");
    assert_eq!(undump(b"").unwrap_err().why, "truncated chunk");
    assert_eq!(undump(b"\x1bLuX").unwrap_err().why, "not a binary chunk");
    let e = undump(b"\x1bLua").unwrap_err();
    assert_eq!(
        e.message("@f.lua"),
        "f.lua: bad binary format (truncated chunk)"
    );
    assert_eq!(
        e.message("\x1bLua"),
        "binary string: bad binary format (truncated chunk)"
    );
    assert_eq!(
        e.message("chunk"),
        "chunk: bad binary format (truncated chunk)"
    );
}

/// Chunks written by PUC's `luac5.4`, when it is installed: every one is refused with
/// lundump's reason for a chunk of another format, through `undump` and through `load`.
#[test]
fn luac_chunks_are_refused() {
    let dir = std::env::temp_dir().join(format!("hotlua-dump-luac-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = 0;
    let mut vm = Vm::new();
    for (i, src) in SNIPPETS.iter().enumerate() {
        let lua = dir.join(format!("s{}.lua", i));
        std::fs::write(&lua, src).unwrap();
        for strip in [false, true] {
            let out = dir.join(format!("s{}-{}.luac", i, strip));
            let mut cmd = std::process::Command::new("luac5.4");
            if strip {
                cmd.arg("-s");
            }
            let Ok(st) = cmd.arg("-o").arg(&out).arg(&lua).status() else {
                println!("luac5.4 not installed: skipped");
                let _ = std::fs::remove_dir_all(&dir);
                return;
            };
            assert!(st.success(), "luac5.4 failed on snippet {}", i);
            let bytes = std::fs::read(&out).unwrap();
            assert_eq!(undump(&bytes).unwrap_err().why, "format mismatch");
            match vm.load(&bytes, "@s.luac", None) {
                Ok(_) => panic!("a luac5.4 chunk loaded"),
                Err(e) => assert_eq!(
                    vm.to_display(e.value),
                    "s.luac: bad binary format (format mismatch)"
                ),
            }
            // Every prefix is refused too (the header check comes first).
            for len in 0..bytes.len() {
                assert!(undump(&bytes[..len]).is_err());
            }
            checked += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("refused {} luac5.4 chunks", checked);
}

/// A compiled function whose prototype a test breaks.
fn compiled(src: &str) -> Proto {
    hotlua_compiler::compile(src.as_bytes(), "=t").unwrap()
}

fn pc_of(p: &Proto, op: OpCode) -> usize {
    p.code
        .iter()
        .position(|i| i.op() == op)
        .unwrap_or_else(|| panic!("no {:?} in {:?}", op, p.code))
}

/// `p` broken by `f` is refused by the verifier with a message containing `what`, and a
/// dump of it is refused by `undump` as invalid code.
fn refused(mut p: Proto, what: &str, f: impl FnOnce(&mut Proto)) {
    f(&mut p);
    let e = verify(&p).expect_err(what);
    assert!(e.contains(what), "expected '{}', got '{}'", what, e);
    // Refused by the reader itself (a shape it checks while reading) or by the verifier.
    let e = undump(&dump_proto(&p, false)).expect_err(what);
    assert!(
        e.why.starts_with("invalid code: ") || e.why == "corrupted chunk",
        "{}",
        e.why
    );
}

fn set(p: &mut Proto, pc: usize, i: Instr) {
    p.code[pc] = i;
}

#[test]
fn the_verifier_refuses_broken_prototypes() {
    use OpCode::*;
    let base = compiled("local a, b = ... ; local t = {a, b, x = 1} ; return t.x + a");
    assert!(verify(&base).is_ok());
    // Registers, constants, upvalues.
    refused(base.clone(), "operand out of range", |p| {
        let pc = pc_of(p, Move);
        let i = p.code[pc];
        set(p, pc, Instr::abc(Move, i.a(), p.max_stack as u32, 0, false));
    });
    refused(base.clone(), "operand out of range", |p| {
        let pc = pc_of(p, GetField);
        let i = p.code[pc];
        set(p, pc, Instr::abc(GetField, i.a(), i.b(), 200, false));
    });
    refused(base.clone(), "operand out of range", |p| p.max_stack = 1);
    refused(base.clone(), "operand out of range", |p| {
        p.code.insert(1, Instr::abc(GetUpval, 0, 3, 0, false));
        p.line_info.insert(1, 1);
    });
    refused(base.clone(), "more parameters than registers", |p| {
        p.num_params = p.max_stack + 1
    });
    refused(base.clone(), "unknown opcode", |p| p.code[0] = Instr(0x7f));
    // Control flow.
    refused(base.clone(), "falls off the end", |p| {
        let n = p.code.len();
        p.code[n - 1] = Instr::abc(LoadNil, 0, 0, 0, false);
    });
    refused(base.clone(), "empty code", |p| {
        p.code.clear();
        p.line_info.clear();
    });
    let branchy = compiled("local x = ... if x then x = 1 else x = 2 end return x");
    refused(branchy.clone(), "jump out of the code", |p| {
        let pc = pc_of(p, Jmp);
        set(p, pc, Instr::sj_(Jmp, 1000));
    });
    refused(branchy.clone(), "jump out of the code", |p| {
        let pc = pc_of(p, Jmp);
        set(p, pc, Instr::sj_(Jmp, -(pc as i32) - 2));
    });
    let lfalse = compiled("local a = ... ; return a < 1");
    refused(lfalse, "jump out of the code", |p| {
        // A test as the second-last instruction would skip past the end.
        let n = p.code.len();
        p.code[n - 2] = Instr::abc(Test, 0, 0, 0, false);
    });
    let numfor = compiled("local s = 0 for i = 1, 10 do s = s + i end return s");
    refused(numfor.clone(), "jump out of the code", |p| {
        let pc = pc_of(p, ForLoop);
        let i = p.code[pc];
        set(p, pc, Instr::abx(ForLoop, i.a(), pc as u32 + 5));
    });
    refused(numfor, "operand out of range", |p| {
        let pc = pc_of(p, ForPrep);
        let i = p.code[pc];
        set(p, pc, Instr::abx(ForPrep, p.max_stack as u32 - 3, i.bx()));
    });
    // EXTRAARG pairing and table sizes.
    let table = compiled("return {1, 2, 3}");
    refused(table.clone(), "NEWTABLE without EXTRAARG", |p| {
        let pc = pc_of(p, NewTable);
        p.code[pc + 1] = Instr::abc(LoadNil, 0, 0, 0, false);
    });
    refused(table.clone(), "table size out of range", |p| {
        let pc = pc_of(p, NewTable);
        let i = p.code[pc];
        p.code[pc] = Instr::abc(NewTable, i.a(), 0, 0, true);
        p.code[pc + 1] = Instr::ax_(ExtraArg, 1 << 24);
    });
    refused(table.clone(), "table size out of range", |p| {
        let pc = pc_of(p, NewTable);
        let i = p.code[pc];
        p.code[pc] = Instr::abc(NewTable, i.a(), 31, 0, false);
    });
    refused(table.clone(), "EXTRAARG without its instruction", |p| {
        p.code.insert(0, Instr::ax_(ExtraArg, 0));
        p.line_info.insert(0, 1);
    });
    refused(table, "list index out of range", |p| {
        let pc = pc_of(p, SetList);
        let i = p.code[pc];
        p.code[pc] = Instr::abc(SetList, i.a(), i.b(), 0, true);
        p.code.insert(pc + 1, Instr::ax_(ExtraArg, 1 << 24));
        p.line_info.insert(pc + 1, 1);
    });
    // Results left up to the top.
    let open = compiled("local f = ... ; return f(f())");
    refused(
        open.clone(),
        "open operands without a preceding open result",
        |p| {
            let pc = pc_of(p, Call);
            let i = p.code[pc];
            set(p, pc, Instr::abc(Call, i.a(), i.b(), 2, false));
        },
    );
    refused(open.clone(), "open results below", |p| {
        let pc = pc_of(p, Call);
        let i = p.code[pc];
        set(p, pc, Instr::abc(Call, 0, i.b(), 0, false));
    });
    refused(open, "open results not used", |p| {
        let pc = pc_of(p, TailCall);
        p.code[pc + 1] = Instr::abc(Return0, 0, 0, 0, false);
    });
    // Closing variables.
    let captured = compiled("local x = 1 local function f() return x end return f");
    refused(captured.clone(), "must close variables", |p| {
        let pc = pc_of(p, Return);
        let i = p.code[pc];
        set(p, pc, Instr::abc(Return, i.a(), i.b(), i.c(), false));
    });
    let tbc = compiled("local x <close> = nil");
    refused(tbc, "must close variables", |p| {
        let pc = pc_of(p, Return);
        set(p, pc, Instr::abc(Return0, 0, 0, 0, false));
    });
    // Nested functions and their upvalues.
    refused(captured.clone(), "out of range", |p| {
        let pc = pc_of(p, Closure);
        let i = p.code[pc];
        set(p, pc, Instr::abx(Closure, i.a(), 5));
    });
    refused(captured.clone(), "upvalue 0 out of range", |p| {
        p.protos[0].upvalues[0].index = 250;
    });
    refused(captured, "upvalue 0 out of range", |p| {
        p.protos[0].upvalues[0].in_stack = false;
        p.protos[0].upvalues[0].index = 9;
    });
    // Debug information the VM indexes by.
    refused(base.clone(), "local variable 0 has an invalid range", |p| {
        p.locvars[0].end_pc = p.code.len() as u32 + 1;
    });
    refused(
        base.clone(),
        "more active local variables than registers",
        |p| {
            let v = p.locvars[0].clone();
            for _ in 0..p.max_stack {
                p.locvars.push(v.clone());
            }
        },
    );
    refused(base, "line info does not match", |p| {
        p.line_info.pop();
    });
}

#[test]
fn nesting_is_bounded() {
    // The deepest nesting the compiler accepts loads; a deeper hand-made chain is refused
    // (not a stack overflow).
    let mut src = String::new();
    let depth = 60;
    for _ in 0..depth {
        src.push_str("return function() ");
    }
    src.push_str("return 1 ");
    for _ in 0..depth {
        src.push_str("end ");
    }
    let p = compiled(&src);
    assert!(undump(&dump_proto(&p, false)).is_ok());
    let mut deep = compiled("return 1");
    for _ in 0..300 {
        let mut parent = compiled("return function() end");
        *parent.protos[0] = deep;
        deep = parent;
    }
    let e = undump(&dump_proto(&deep, false)).unwrap_err();
    assert_eq!(e.why, "too many nested functions");
    assert!(verify(&deep).is_err());
}

// ---- the fuzzer ---------------------------------------------------------------------------

/// xorshift64*: deterministic, so a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Functions whose dumps are corrupted: together they use every opcode family (loops,
/// closures, varargs, to-be-closed variables, constructors with EXTRAARG, method calls,
/// integer and float arithmetic, comparisons with immediates, goto, string constants).
const SNIPPETS: &[&str] = &[
    "local a, b = ... ; return a + b * 2 - (a // 3) % 5, a / b, a ^ 2, -a, ~a, a & 7 | b ~ 1, a << 2, a >> 1",
    "local t = {} for i = 1, 10 do t[i] = i * i end local s = 0 for _, v in ipairs(t) do s = s + v end return s, #t",
    "local n = 0 while n < 100 do n = n + 3 if n % 7 == 0 then break end end repeat n = n - 1 until n < 50 return n",
    "local function f(...) local a, b = ... return select('#', ...), a, b, ... end return f(1, nil, 3)",
    "local x = 0 local function inc(d) x = x + (d or 1) return x end inc() inc(5) return x, inc",
    "local t = setmetatable({}, {__index = function(_, k) return k .. '!' end}) return t.foo, t[1], rawget(t, 'x')",
    "local o = {v = 1} function o:get(k) return self.v + k end function o.set(s, v) s.v = v end o:set(4) return o:get(2)",
    "local s = 'abc' .. 1 .. 2.5 .. 'def' return s, #s, s == 'abc12.5def', s < 'b', 'x' <= s",
    "do local c <close> = setmetatable({}, {__close = function() end}) end local y <const> = 10 return y",
    "local a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, x = 1, y = 2, [3.5] = 'f'} return #a, a.x",
    "local i = 1 ::top:: i = i * 2 if i < 1000 then goto top end return i, i > 500, i >= 1024, 3 < i, 5 == i, i ~= 7",
    "local f = 1.5 local g = f * 2.0 + 1e300 - 0.25 local h = math and math.huge return f < g, g // 1, f % 0.5, h",
    "local t = {...} local r = {} for k, v in pairs(t) do r[#r + 1] = v end table.sort(r) return table.unpack(r)",
    "return function(a) return function(b) return function(c) return a + b + c end end end",
    "local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) return co(1), co(5)",
    "local ok, e = pcall(error, {code = 1}) local s = tostring(nil) .. tostring(true) return ok, e.code, s, type(e)",
    "local a, b, c = 1, 2, 3 a, b, c = c, a, b local t = {a = a} t.a, t.b = t.b, t.a return a, b, c, t.a, not t.b",
    "local x <const> = 'k' local t = {[x] = 1, [true] = 2, [false] = 3} return t.k, t[true], t[1 == 2], next({})",
];

/// What loading and running corrupted chunks gave.
#[derive(Default, Debug)]
struct Tally {
    tried: usize,
    refused: usize,
    loaded: usize,
    ran: usize,
}

fn try_chunk(vm: &mut Vm, bytes: &[u8], what: &str, tally: &mut Tally, run: bool) {
    tally.tried += 1;
    // The plain function, as a fuzzer calls it.
    let checked = std::panic::catch_unwind(|| undump(bytes).is_ok());
    let ok = match checked {
        Ok(ok) => ok,
        Err(_) => panic!("undump panicked on {}", what),
    };
    if bytes.first() != Some(&0x1b) {
        // Not a binary chunk: `load` would compile it as text.
        assert!(
            !ok,
            "{}: undump accepts a chunk without the signature",
            what
        );
        tally.refused += 1;
        return;
    }
    // Through the VM's `load`.
    match vm.load(bytes, "=fuzz", None) {
        Err(e) => {
            assert!(!ok, "{}: undump accepts what load refuses", what);
            let m = vm.to_display(e.value);
            assert!(
                m.starts_with("fuzz: bad binary format ("),
                "{}: {}",
                what,
                m
            );
            tally.refused += 1;
        }
        Ok(f) => {
            assert!(ok, "{}: load accepts what undump refuses", what);
            tally.loaded += 1;
            if run {
                // Errors are fine (the code is garbage); panics are not. Every eighth run
                // collects at every safe point (which clears registers the compiler's
                // layout says are dead: garbage code may not keep that layout).
                vm.gc_stress = tally.ran % 8 == 0;
                let _ = vm.pcall_value(f, &[Value::Int(3), Value::Int(4)], None);
                vm.gc_stress = false;
                tally.ran += 1;
            }
        }
    }
}

/// A VM with no libraries (corrupted code reaches only what it can build), an
/// instruction budget per call and a heap limit.
fn fuzz_vm() -> Vm {
    let mut vm = Vm::new();
    let hook: Rc<hotlua_vm::hooks::HostHookFn> =
        Rc::new(|vm: &mut Vm, _, _| Err(vm.rt_error("instruction budget spent")));
    vm.set_host_hook(Some((hook, hotlua_vm::hooks::MASK_COUNT, 5_000)));
    vm.heap.set_limit(256 << 20);
    vm
}

#[test]
fn corrupted_chunks_are_errors_or_verified_functions() {
    // The work per dump grows with its length squared (every truncation, every byte):
    // scale with HOTLUA_FUZZ_SCALE (random cases per dump; default 2000).
    let scale: usize = std::env::var("HOTLUA_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || fuzz(scale))
        .unwrap()
        .join()
        .unwrap();
}

fn fuzz(scale: usize) {
    let mut vm = fuzz_vm();
    let mut dumps: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, src) in SNIPPETS.iter().enumerate() {
        let c = lua_fn(&mut vm, src.as_bytes(), &format!("=snippet{}", i));
        let p = c.get().proto();
        for strip in [false, true] {
            dumps.push((
                format!("snippet {} strip {}", i, strip),
                dump(p.get(), strip),
            ));
        }
        // Nested functions on their own too.
        for (j, q) in p.get().protos.iter().enumerate() {
            dumps.push((
                format!("snippet {} function {}", i, j),
                dump(q.get(), false),
            ));
        }
    }
    // Functions of the VM's test scripts, of moderate size (the work per dump grows with
    // its length squared).
    let mut extra = 0;
    for (name, src) in corpus() {
        if !name.contains("tests/lua/vm/") || extra >= 40 {
            continue;
        }
        let Ok(Value::LuaFn(c)) = vm.load(&src, &name, None) else {
            continue;
        };
        for (j, q) in c.get().proto().get().protos.iter().enumerate() {
            let d = dump(q.get(), j % 2 == 1);
            if (150..4000).contains(&d.len()) && extra < 40 {
                dumps.push((format!("{} function {}", name, j), d));
                extra += 1;
            }
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut tally = Tally::default();
    for (name, d) in &dumps {
        // The dump itself loads and runs.
        let f = vm
            .load(d, "=fuzz", None)
            .unwrap_or_else(|_| panic!("{} does not load", name));
        let _ = vm.pcall_value(f, &[], None);
        // Every truncation.
        for len in 0..d.len() {
            try_chunk(
                &mut vm,
                &d[..len],
                &format!("{} cut at {}", name, len),
                &mut tally,
                false,
            );
        }
        // Every byte: each bit flipped, zeroed, all ones, one more.
        let mut buf = d.clone();
        for pos in 0..d.len() {
            let orig = d[pos];
            let variants = (0..8)
                .map(|b| orig ^ (1 << b))
                .chain([0, 0xff, orig.wrapping_add(1)]);
            for v in variants {
                if v == orig {
                    continue;
                }
                buf[pos] = v;
                let what = format!("{} byte {} = {:#04x}", name, pos, v);
                try_chunk(&mut vm, &buf, &what, &mut tally, true);
            }
            buf[pos] = orig;
        }
        // Random damage: several bytes, insertions and deletions, splices with other dumps.
        for case in 0..scale {
            let mut b = d.clone();
            match case % 4 {
                0 => {
                    for _ in 0..1 + rng.below(8) {
                        let p = rng.below(b.len());
                        b[p] = rng.next() as u8;
                    }
                }
                1 => {
                    let p = rng.below(b.len());
                    if rng.next() & 1 == 0 {
                        b.insert(p, rng.next() as u8);
                    } else {
                        b.remove(p);
                    }
                }
                2 => {
                    let (_, other) = &dumps[rng.below(dumps.len())];
                    let cut = 31 + rng.below(b.len() - 31);
                    let from = rng.below(other.len());
                    b.truncate(cut);
                    b.extend_from_slice(&other[from..]);
                }
                _ => {
                    // Damage inside the code only: instruction words with random fields.
                    let p = 40 + rng.below(b.len() - 40);
                    let word = (rng.next() as u32).to_le_bytes();
                    for (k, w) in word.iter().enumerate() {
                        if p + k < b.len() {
                            b[p + k] = *w;
                        }
                    }
                }
            }
            let what = format!("{} random case {}", name, case);
            try_chunk(&mut vm, &b, &what, &mut tally, true);
        }
        vm.full_gc();
    }
    println!(
        "fuzzed {} dumps: {} corrupted chunks tried, {} refused, {} loaded ({} run)",
        dumps.len(),
        tally.tried,
        tally.refused,
        tally.loaded,
        tally.ran
    );
    assert!(tally.tried > 100_000 && tally.refused > 0 && tally.loaded > 0);
}

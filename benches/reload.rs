//! Reload latency: collect(old) + collect(new) + join + function replacement with hotlua's
//! native `silly.patch`, the same with a Lua-level patch over the debug library (as silly
//! does it), and compiling the new module's source, for modules of N functions with 3
//! upvalues each (drawn from 150 module-level locals, so many are shared).
//!
//! Run: `cargo bench --bench reload`. The Lua-level patch on lua5.4, for comparison:
//! `cd benches/reload && lua5.4 bench.lua`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hotlua_vm::{Value, Vm};

/// The allocator of the `hotlua` binary (src/main.rs), so these figures are what the CLI
/// gets (with the system allocator, native N = 1,000 measured 116 us instead of 101 us).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GEN: &str = include_str!("reload/gen_module.lua");
const LUA_PATCH: &str = include_str!("reload/lua_patch.lua");

/// A VM holding `old` (the module loaded once), a backup of `old`'s fields, a `restore`
/// that puts them back and loads a fresh `new` version, and two reload functions taking no
/// arguments: native and Lua-level.
struct Setup {
    vm: Vm,
    restore: Value,
    native: Value,
    lua_level: Value,
    source: Vec<u8>,
}

fn setup(n: usize) -> Setup {
    let mut vm = hotlua_stdlib::open::new_vm();
    let gen = vm.load(GEN.as_bytes(), "=gen_module", None).unwrap();
    let gen = vm.call(gen, &[]).unwrap()[0];
    let src = vm.call(gen, &[Value::Int(n as i64)]).unwrap()[0];
    let Value::Str(s) = src else {
        panic!("generator returned no source")
    };
    let source = s.get().as_bytes().to_vec();
    let lua_patch = vm.load(LUA_PATCH.as_bytes(), "=lua_patch", None).unwrap();
    let lua_patch = vm.call(lua_patch, &[]).unwrap()[0];
    let driver = r#"
        local src, lua_patch = ...
        local patch = require "silly.patch"
        local old = load(src, "=mod")()
        local new
        local backup = {}
        for k, v in pairs(old) do backup[k] = v end
        -- Untimed before each sample: the old module as it was, and a freshly loaded new
        -- version (joining the same new version twice would measure an already-joined one),
        -- then a full collection, so that the garbage of that untimed load is not collected
        -- inside the timed reload (the collector stops the world).
        local function restore()
          for k, v in pairs(backup) do old[k] = v end
          new = load(src, "=mod")()
          collectgarbage()
        end
        local function native()
          local P = patch.new()
          local up_old = P:collectupval(old)
          local up_new = P:collectupval(new)
          P:join(up_new, up_old)
          for k, v in pairs(new) do if type(v) == "function" then old[k] = v end end
        end
        local function lua_level()
          local up_old = lua_patch.collect(old)
          local up_new = lua_patch.collect(new)
          lua_patch.join(up_new, up_old)
          for k, v in pairs(new) do if type(v) == "function" then old[k] = v end end
        end
        return restore, native, lua_level
    "#;
    let f = vm.load(driver.as_bytes(), "=driver", None).unwrap();
    let r = vm.call(f, &[src, lua_patch]).unwrap();
    // Keep everything reachable from Lua globals so collections cannot free it.
    let keep = vm.new_table();
    vm.set_global("__bench", Value::Table(keep));
    for (i, v) in r.iter().enumerate() {
        let g = vm.get_global("__bench");
        let key = Value::Int(i as i64 + 1);
        vm.set_index(g, key, *v).unwrap();
    }
    Setup {
        vm,
        restore: r[0],
        native: r[1],
        lua_level: r[2],
        source,
    }
}

/// Times `f` alone over `iters` runs, restoring the old module and loading a fresh new one
/// before each (untimed).
fn timed(s: &mut Setup, f: Value, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        s.vm.call(s.restore, &[]).unwrap();
        let t = Instant::now();
        s.vm.call(f, &[]).unwrap();
        total += t.elapsed();
    }
    total
}

fn reload(c: &mut Criterion) {
    let mut group = c.benchmark_group("reload");
    group.sample_size(20);
    for n in [10usize, 100, 1_000, 10_000] {
        let mut s = setup(n);
        let (native, lua_level) = (s.native, s.lua_level);
        group.bench_with_input(BenchmarkId::new("native", n), &n, |b, _| {
            b.iter_custom(|iters| timed(&mut s, native, iters))
        });
        group.bench_with_input(BenchmarkId::new("lua_level", n), &n, |b, _| {
            b.iter_custom(|iters| timed(&mut s, lua_level, iters))
        });
        group.bench_with_input(BenchmarkId::new("compile", n), &n, |b, _| {
            b.iter(|| hotlua_compiler::compile(&s.source, "=mod").unwrap())
        });
        group.bench_with_input(BenchmarkId::new("load", n), &n, |b, _| {
            b.iter(|| s.vm.load(&s.source, "=mod", None).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, reload);
criterion_main!(benches);

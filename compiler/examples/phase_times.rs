//! Times each compile phase on a source file:
//! `cargo run --release -p hotlua-compiler --example phase_times -- FILE [REPS]`.
//! Prints allocation counts and the mean time of lexing, parsing (including lexing), dropping
//! the tree and code generation. Allocations go through mimalloc, as in the `hotlua` binary.
//! With `PHASE=parse` or `PHASE=codegen` it only runs that phase REPS times (for profiling
//! with `perf`, or timing with `perf stat -e task-clock`).
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let src = std::fs::read(&args[1]).unwrap();
    let reps: u32 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(200);
    // PHASE=parse or PHASE=codegen: run only that phase (for profiling).
    match std::env::var("PHASE").as_deref() {
        Ok("parse") => {
            for _ in 0..reps {
                std::hint::black_box(hotlua_compiler::parse(&src, "=mod").unwrap());
            }
            return;
        }
        Ok("codegen") => {
            let c = hotlua_compiler::parse(&src, "=mod").unwrap();
            for _ in 0..reps {
                std::hint::black_box(
                    hotlua_compiler::codegen::generate(&c, "=mod", false).unwrap(),
                );
            }
            return;
        }
        _ => {}
    }
    let t = Instant::now();
    for _ in 0..reps {
        let n = hotlua_compiler::lexer::Tokens::new(&src).count();
        std::hint::black_box(n);
    }
    let lex = t.elapsed() / reps;
    let t = Instant::now();
    let mut parse_only = std::time::Duration::ZERO;
    let mut drop_t = std::time::Duration::ZERO;
    for _ in 0..reps {
        let t0 = Instant::now();
        let c = hotlua_compiler::parse(&src, "=mod").unwrap();
        parse_only += t0.elapsed();
        let t1 = Instant::now();
        drop(c);
        drop_t += t1.elapsed();
    }
    let _ = t;
    let mut gen = std::time::Duration::ZERO;
    for _ in 0..reps {
        let c = hotlua_compiler::parse(&src, "=mod").unwrap();
        let t0 = Instant::now();
        let p = hotlua_compiler::codegen::generate(&c, "=mod", false).unwrap();
        gen += t0.elapsed();
        std::hint::black_box(p);
    }
    let a0 = allocs();
    let c = hotlua_compiler::parse(&src, "=mod").unwrap();
    let a1 = allocs();
    let p = hotlua_compiler::codegen::generate(&c, "=mod", false).unwrap();
    let a2 = allocs();
    println!("allocs: parse {} codegen {}", a1 - a0, a2 - a1);
    drop((c, p));
    println!(
        "lex {:?} parse {:?} drop {:?} codegen {:?}",
        lex,
        parse_only / reps,
        drop_t / reps,
        gen / reps
    );
}

struct Counting;
static ALLOCS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        mimalloc::MiMalloc.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        mimalloc::MiMalloc.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        mimalloc::MiMalloc.realloc(p, l, n)
    }
}
#[global_allocator]
static GA: Counting = Counting;
pub fn allocs() -> usize {
    ALLOCS.load(std::sync::atomic::Ordering::Relaxed)
}

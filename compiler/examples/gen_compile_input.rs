//! Writes the compile benchmark's input to a file, for `luac5.4 -p` comparisons:
//! `cargo run --release -p hotlua-compiler --example gen_compile_input -- /tmp/bench.lua`
//! With `--time N` it also parses the text N times and prints the best throughput.

#[path = "../benches/support/gen_input.rs"]
mod gen_input;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .cloned()
        .unwrap_or_else(|| "compile_input.lua".to_string());
    let source = gen_input::generate(4 << 20);
    std::fs::write(&path, &source).expect("cannot write the output file");
    println!("wrote {} bytes to {path}", source.len());
    if args.get(1).map(String::as_str) == Some("--time") {
        let runs: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(5);
        let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
        for _ in 0..runs {
            let (start, cpu) = (std::time::Instant::now(), thread_cpu_seconds());
            let chunk = hotlua_compiler::parse(source.as_bytes(), "=bench").expect("parses");
            best = best.min(start.elapsed().as_secs_f64());
            best_cpu = best_cpu.min(thread_cpu_seconds() - cpu);
            drop(chunk);
        }
        let mb = source.len() as f64 / 1e6;
        println!(
            "parse, best of {runs}: wall {:.1} ms ({:.1} MB/s), cpu {:.1} ms ({:.1} MB/s)",
            best * 1e3,
            mb / best,
            best_cpu * 1e3,
            mb / best_cpu
        );
    }
}

/// This thread's CPU time (Linux `schedstat`), so a busy machine does not skew the figure;
/// 0 where unavailable.
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map_or(0.0, |ns| ns / 1e9)
}

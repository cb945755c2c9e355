//! A deterministic generator of realistic Lua source for the compile benchmark, shared by
//! `benches/compile.rs` and `examples/gen_compile_input.rs` (which writes the same text to a
//! file for `luac5.4 -p`).

/// xorshift64: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const NAMES: &[&str] = &[
    "count", "total", "item", "value", "index", "player", "config", "buffer", "result", "node",
    "left", "right", "key", "entry", "limit", "offset", "score", "name", "queue", "state",
];
const OPS: &[&str] = &[
    "+", "-", "*", "/", "//", "%", "..", "<", "<=", "==", "~=", "and", "or", "&", "|", "<<",
];

fn expr(r: &mut Rng, depth: u32, out: &mut String) {
    if depth > 3 || r.below(3) == 0 {
        match r.below(8) {
            0 => out.push_str(&r.below(100_000).to_string()),
            1 => out.push_str(&format!("{}.{}", r.below(1000), r.below(100))),
            2 => out.push_str(&format!("\"{}_{}\\n\"", r.pick(NAMES), r.below(100))),
            3 => out.push_str(&format!("0x{:X}", r.next() >> 40)),
            4 => out.push_str(&format!("self.{}", r.pick(NAMES))),
            5 => out.push_str(&format!("{}[{}]", r.pick(NAMES), r.below(10) + 1)),
            _ => out.push_str(r.pick(NAMES)),
        }
        return;
    }
    match r.below(6) {
        0 => {
            out.push('(');
            expr(r, depth + 1, out);
            out.push(')');
        }
        1 => {
            out.push_str(&format!(
                "{}(",
                r.pick(&["math.max", "tostring", "helper", "string.format"])
            ));
            expr(r, depth + 1, out);
            out.push_str(", ");
            expr(r, depth + 1, out);
            out.push(')');
        }
        2 => {
            out.push_str(r.pick(&["not ", "- ", "#"]));
            expr(r, depth + 1, out);
        }
        _ => {
            expr(r, depth + 1, out);
            out.push_str(&format!(" {} ", r.pick(OPS)));
            expr(r, depth + 1, out);
        }
    }
}

fn statement(r: &mut Rng, indent: usize, depth: u32, out: &mut String) {
    let pad = "  ".repeat(indent);
    out.push_str(&pad);
    let kind = if depth > 2 { r.below(4) } else { r.below(9) };
    match kind {
        0 => {
            out.push_str(&format!("local {} = ", r.pick(NAMES)));
            expr(r, 0, out);
        }
        1 => {
            out.push_str(&format!("{}.{} = ", r.pick(NAMES), r.pick(NAMES)));
            expr(r, 0, out);
        }
        2 => {
            out.push_str(&format!(
                "{}:{}(",
                r.pick(NAMES),
                r.pick(&["push", "update", "send", "emit"])
            ));
            expr(r, 0, out);
            out.push(')');
        }
        3 => out.push_str(&format!(
            "-- note: {} depends on {}",
            r.pick(NAMES),
            r.pick(NAMES)
        )),
        4 => {
            out.push_str("if ");
            expr(r, 0, out);
            out.push_str(" then\n");
            block(r, indent + 1, depth + 1, out);
            out.push_str(&format!("{pad}else\n"));
            block(r, indent + 1, depth + 1, out);
            out.push_str(&format!("{pad}end"));
        }
        5 => {
            out.push_str(&format!("for i = 1, #{} do\n", r.pick(NAMES)));
            block(r, indent + 1, depth + 1, out);
            out.push_str(&format!("{pad}end"));
        }
        6 => {
            out.push_str(&format!("for k, v in pairs({}) do\n", r.pick(NAMES)));
            block(r, indent + 1, depth + 1, out);
            out.push_str(&format!("{pad}end"));
        }
        7 => {
            out.push_str(&format!("local {} = {{ ", r.pick(NAMES)));
            for i in 0..r.below(6) {
                match i % 3 {
                    0 => out.push_str(&format!("{} = ", r.pick(NAMES))),
                    1 => out.push_str(&format!("[{}] = ", r.below(50))),
                    _ => {}
                }
                expr(r, 2, out);
                out.push_str(", ");
            }
            out.push('}');
        }
        _ => {
            out.push_str("while ");
            expr(r, 1, out);
            out.push_str(" do\n");
            block(r, indent + 1, depth + 1, out);
            out.push_str(&format!("{}break\n{pad}end", "  ".repeat(indent + 1)));
        }
    }
    out.push('\n');
}

fn block(r: &mut Rng, indent: usize, depth: u32, out: &mut String) {
    for _ in 0..1 + r.below(4) {
        statement(r, indent, depth, out);
    }
}

/// About `target` bytes of valid Lua: a sequence of functions and module-level tables.
pub fn generate(target: usize) -> String {
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let mut out = String::with_capacity(target + 4096);
    out.push_str("local M = {}\nlocal function helper(a, b) return a end\n");
    let mut n = 0;
    while out.len() < target {
        n += 1;
        if n % 7 == 0 {
            out.push_str(&format!("M.data{n} = {{\n  name = \"entry {n}\",\n  tags = {{ 'a', 'b', [[long\ntext]] }},\n  weight = {}.5,\n}}\n", r.below(100)));
            continue;
        }
        out.push_str(&format!(
            "function M.handler{n}(self, {}, ...)\n",
            r.pick(NAMES)
        ));
        block(&mut r, 1, 0, &mut out);
        out.push_str("  return ");
        expr(&mut r, 0, &mut out);
        out.push_str("\nend\n\n");
    }
    out.push_str("return M\n");
    out
}

//! A disassembler printing a [`Proto`] in a layout close to `luac -l -l`, used by tests and
//! by `hotlua -l`. Each instruction line is `\t<n>\t[<line>]\t<OPNAME>\t<operands>[\t; note]`.

use std::fmt::Write;

use crate::opcode::{Instr, OpCode, OFFSET_SC};
use crate::proto::{Constant, Proto};

/// The listing of `p` and, recursively, of its nested functions.
pub fn listing(p: &Proto) -> String {
    let mut out = String::new();
    list_function(p, true, &mut out);
    out
}

/// The upper-case name luac uses for an opcode.
pub fn op_name(op: OpCode) -> String {
    match op {
        OpCode::SelfOp => "SELF".to_string(),
        _ => op.name().to_ascii_uppercase(),
    }
}

fn source_name(p: &Proto) -> String {
    let s = &*p.source;
    match s.as_bytes().first() {
        Some(b'@') | Some(b'=') => s[1..].to_string(),
        _ => "?".to_string(),
    }
}

/// A constant as luac shows it.
pub fn constant_text(c: &Constant) -> String {
    match c {
        Constant::Nil => "nil".into(),
        Constant::Bool(b) => b.to_string(),
        Constant::Int(i) => i.to_string(),
        Constant::Float(f) => float_text(*f),
        Constant::Str(s) => quote_string(s),
    }
}

/// A string as luac prints it: C escapes for control characters, `\ddd` for other
/// unprintable bytes.
fn quote_string(s: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in s {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            12 => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            11 => out.push_str("\\v"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{:03}", b)),
        }
    }
    out.push('"');
    out
}

fn float_text(f: f64) -> String {
    let s = fmt_g14(f);
    if s.bytes().all(|b| b == b'-' || b.is_ascii_digit()) {
        s + ".0"
    } else {
        s
    }
}

/// C's `%.14g` (Lua's number format).
pub fn fmt_g14(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.13e}", f);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..14).contains(&exp) {
        format!(
            "{}e{}{:02}",
            strip(mant),
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else {
        strip(&format!("{:.*}", (13 - exp) as usize, f))
    }
}

fn list_function(p: &Proto, main: bool, out: &mut String) {
    let kind = if main { "main" } else { "function" };
    let _ = writeln!(
        out,
        "\n{} <{}:{},{}> ({} instructions)",
        kind,
        source_name(p),
        p.line_defined,
        p.last_line_defined,
        p.code.len()
    );
    let _ = writeln!(
        out,
        "{}{} params, {} slots, {} upvalues, {} locals, {} constants, {} functions",
        p.num_params,
        if p.is_vararg { "+" } else { "" },
        p.max_stack,
        p.upvalues.len(),
        p.locvars.len(),
        p.constants.len(),
        p.protos.len()
    );
    for (pc, i) in p.code.iter().enumerate() {
        let (ops, note) = operands(p, pc, *i);
        let note = note.trim_end();
        let _ = write!(
            out,
            "\t{}\t[{}]\t{}\t{}",
            pc + 1,
            p.line_at(pc),
            op_name(i.op()),
            ops
        );
        if !note.is_empty() {
            let _ = write!(out, "\t; {}", note);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "constants ({}):", p.constants.len());
    for (n, c) in p.constants.iter().enumerate() {
        let tag = match c {
            Constant::Nil => "N",
            Constant::Bool(_) => "B",
            Constant::Int(_) => "I",
            Constant::Float(_) => "F",
            Constant::Str(_) => "S",
        };
        let _ = writeln!(out, "\t{}\t{}\t{}", n, tag, constant_text(c));
    }
    let _ = writeln!(out, "locals ({}):", p.locvars.len());
    for (n, v) in p.locvars.iter().enumerate() {
        let path: Vec<String> = v.scope_path.iter().map(|x| x.to_string()).collect();
        let _ = writeln!(
            out,
            "\t{}\t{}\t{}\t{}\t[{}]#{}",
            n,
            v.name,
            v.start_pc + 1,
            v.end_pc + 1,
            path.join("."),
            v.shadow
        );
    }
    let _ = writeln!(out, "upvalues ({}):", p.upvalues.len());
    for (n, u) in p.upvalues.iter().enumerate() {
        let _ = writeln!(
            out,
            "\t{}\t{}\t{}\t{}",
            n, u.name, u.in_stack as u8, u.index
        );
    }
    for c in &p.protos {
        list_function(c, false, out);
    }
}

fn kc(p: &Proto, k: u32) -> String {
    p.constants
        .get(k as usize)
        .map_or_else(|| "?".into(), constant_text)
}

fn upname(p: &Proto, u: u32) -> String {
    p.upvalues
        .get(u as usize)
        .map_or_else(|| "?".into(), |u| u.name.to_string())
}

fn operands(p: &Proto, pc: usize, i: Instr) -> (String, String) {
    use OpCode::*;
    let (a, b, c, k) = (i.a(), i.b(), i.c(), i.k());
    let ks = if k { "k" } else { "" };
    let sc = c as i32 - OFFSET_SC;
    let sb = b as i32 - OFFSET_SC;
    let rk = |c: u32| if k { kc(p, c) } else { String::new() };
    match i.op() {
        Move | Unm | BNot | Not | Len => (format!("{} {}", a, b), String::new()),
        LoadI | LoadF => (format!("{} {}", a, i.sbx()), String::new()),
        LoadK => (format!("{} {}", a, i.bx()), kc(p, i.bx())),
        LoadKX => (
            format!("{}", a),
            p.code.get(pc + 1).map_or(String::new(), |e| kc(p, e.ax())),
        ),
        LoadFalse | LFalseSkip | LoadTrue | Close | Tbc | Return1 | VarargPrep => {
            (format!("{}", a), String::new())
        }
        LoadNil => (format!("{} {}", a, b), format!("{} out", b + 1)),
        GetUpval | SetUpval => (format!("{} {}", a, b), upname(p, b)),
        GetTabUp => (
            format!("{} {} {}", a, b, c),
            format!("{} {}", upname(p, b), kc(p, c)),
        ),
        GetTable | Add | Sub | Mul | Mod | Pow | Div | IDiv | BAnd | BOr | BXor | Shl | Shr => {
            (format!("{} {} {}", a, b, c), String::new())
        }
        GetI => (format!("{} {} {}", a, b, c), String::new()),
        GetField => (format!("{} {} {}", a, b, c), kc(p, c)),
        SetTabUp => (
            format!("{} {} {}{}", a, b, c, ks),
            format!("{} {} {}", upname(p, a), kc(p, b), rk(c)),
        ),
        SetTable | SetI => (format!("{} {} {}{}", a, b, c, ks), rk(c)),
        SetField => (
            format!("{} {} {}{}", a, b, c, ks),
            format!("{} {}", kc(p, b), rk(c)),
        ),
        NewTable => (format!("{} {} {}{}", a, b, c, ks), String::new()),
        SelfOp => (format!("{} {} {}{}", a, b, c, ks), rk(c)),
        AddI | ShrI | ShlI => (format!("{} {} {}{}", a, b, sc, ks), String::new()),
        AddK | SubK | MulK | ModK | PowK | DivK | IDivK | BAndK | BOrK | BXorK => {
            (format!("{} {} {}{}", a, b, c, ks), kc(p, c))
        }
        Concat => (format!("{} {}", a, b), String::new()),
        Jmp => (
            format!("{}", i.sj()),
            format!("to {}", pc as i64 + 2 + i.sj() as i64),
        ),
        Eq | Lt | Le => (format!("{} {} {}", a, b, k as u8), String::new()),
        EqK => (format!("{} {} {}", a, b, k as u8), kc(p, b)),
        EqI | LtI | LeI | GtI | GeI => (format!("{} {} {}", a, sb, k as u8), String::new()),
        Test => (format!("{} {}", a, k as u8), String::new()),
        TestSet => (format!("{} {} {}", a, b, k as u8), String::new()),
        Call => (format!("{} {} {}", a, b, c), String::new()),
        TailCall | Return => (format!("{} {} {}{}", a, b, c, ks), String::new()),
        Return0 => (String::new(), String::new()),
        ForLoop | TForLoop => (
            format!("{} {}", a, i.bx()),
            format!("to {}", pc as i64 + 2 - i.bx() as i64),
        ),
        ForPrep => (
            format!("{} {}", a, i.bx()),
            format!("exit to {}", pc + 3 + i.bx() as usize),
        ),
        TForPrep => (
            format!("{} {}", a, i.bx()),
            format!("to {}", pc + 2 + i.bx() as usize),
        ),
        TForCall => (format!("{} {}", a, c), String::new()),
        SetList => (format!("{} {} {}{}", a, b, c, ks), String::new()),
        Closure => (format!("{} {}", a, i.bx()), String::new()),
        Vararg => (format!("{} {}", a, c), String::new()),
        ExtraArg => (format!("{}", i.ax()), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_lua() {
        assert_eq!(float_text(1.0), "1.0");
        assert_eq!(float_text(0.5), "0.5");
        assert_eq!(float_text(9007199254740992.0), "9.007199254741e+15");
        assert_eq!(float_text(1e100), "1e+100");
        assert_eq!(float_text(-2.5e-7), "-2.5e-07");
        assert_eq!(float_text(123456.789), "123456.789");
        assert_eq!(float_text(-0.0), "-0.0");
        assert_eq!(float_text(f64::INFINITY), "inf");
        assert_eq!(fmt_g14(0.1), "0.1");
        assert_eq!(fmt_g14(1.0 / 3.0), "0.33333333333333");
    }

    #[test]
    fn listing_shows_operands_and_notes() {
        let p = crate::compile(b"local t = {} t.x = g", "@x.lua").unwrap();
        let l = listing(&p);
        assert!(
            l.starts_with("\nmain <x.lua:0,0> (6 instructions)\n0+ params, 2 slots"),
            "{}",
            l
        );
        assert!(l.contains("\t3\t[1]\tEXTRAARG\t0\n"), "{}", l);
        assert!(
            l.contains("\t4\t[1]\tGETTABUP\t1 0 1\t; _ENV \"g\"\n"),
            "{}",
            l
        );
        assert!(l.contains("\t5\t[1]\tSETFIELD\t0 0 1\t; \"x\"\n"), "{}", l);
        assert!(l.contains("locals (1):\n\t0\tt\t4\t7\t[]#0\n"), "{}", l);
    }
}

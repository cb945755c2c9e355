//! The command line as lua.c's `collectargs` reads it: options up to the script, the
//! script's index, and the usage message for a bad option.
//!
//! hotlua adds `--console ADDR` (an interpreter option: the operator console) to lua.c's
//! set; `-p FILE...` (a parse-only check) is a mode of its own, read by `super::main`.

/// What the options ask for, and where the script is.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-i`: the REPL after the script (implies `-v`).
    pub interactive: bool,
    /// `-v` (or `-i`): the version line first.
    pub version: bool,
    /// At least one `-e`.
    pub has_e: bool,
    /// `-E`: ignore `LUA_INIT*`, `LUA_PATH*`, `LUA_CPATH*`.
    pub no_env: bool,
    /// `--console ADDR`.
    pub console: Option<String>,
    /// Index in argv of the script (`argv.len()` when there is none).
    pub script: usize,
}

/// An option lua.c would reject: its text, for [`usage`].
#[derive(Debug, PartialEq, Eq)]
pub struct BadOption(pub Vec<u8>);

/// Reads the options of `argv` (argv[0] being the program name) as lua.c does: they end at
/// the first argument not starting with `-` (the script), at `-` (the script is stdin), or
/// after `--`.
pub fn collect(argv: &[Vec<u8>]) -> Result<Options, BadOption> {
    let mut o = Options::default();
    let bad = |a: &[u8]| Err(BadOption(a.to_vec()));
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_slice();
        o.script = i;
        if a.first() != Some(&b'-') {
            return Ok(o);
        }
        match a.get(1) {
            None => return Ok(o), // `-`: the script is stdin
            Some(b'-') if a == b"--console" => match argv.get(i + 1) {
                Some(addr) => {
                    o.console = Some(String::from_utf8_lossy(addr).into_owned());
                    i += 1;
                }
                None => return bad(a),
            },
            Some(b'-') => {
                if a.len() > 2 {
                    return bad(a);
                }
                o.script = i + 1;
                return Ok(o);
            }
            Some(b'E') if a.len() == 2 => o.no_env = true,
            Some(b'W') if a.len() == 2 => {}
            Some(b'i') if a.len() == 2 => {
                o.interactive = true;
                o.version = true;
            }
            Some(b'v') if a.len() == 2 => o.version = true,
            Some(c @ (b'e' | b'l')) => {
                o.has_e |= *c == b'e';
                if a.len() == 2 {
                    // The argument is the next word, which must not look like an option.
                    i += 1;
                    match argv.get(i) {
                        Some(next) if next.first() != Some(&b'-') => {}
                        _ => return bad(a),
                    }
                }
            }
            _ => return bad(a),
        }
        i += 1;
    }
    o.script = argv.len();
    Ok(o)
}

/// lua.c's `print_usage`: what was wrong with `bad`, then the options.
pub fn usage(progname: &str, bad: &BadOption) -> String {
    let b = String::from_utf8_lossy(&bad.0);
    let what = match bad.0.get(1) {
        Some(b'e' | b'l') => format!("'{b}' needs argument"),
        _ if bad.0 == b"--console" => format!("'{b}' needs argument"),
        _ => format!("unrecognized option '{b}'"),
    };
    format!(
        "{progname}: {what}\n\
         usage: {progname} [options] [script [args]]\n\
         Available options are:\n\
         \x20 -e stat   execute string 'stat'\n\
         \x20 -i        enter interactive mode after executing 'script'\n\
         \x20 -l mod    require library 'mod' into global 'mod'\n\
         \x20 -l g=mod  require library 'mod' into global 'g'\n\
         \x20 -v        show version information\n\
         \x20 -E        ignore environment variables\n\
         \x20 -W        turn warnings on\n\
         \x20 --        stop handling options\n\
         \x20 -         stop handling options and execute stdin\n\
         hotlua's own:\n\
         \x20 --console ADDR  open the operator console on ADDR (host:port)\n\
         \x20 -p FILE...      (first) only check that each FILE compiles\n\
         \x20 --key=value     (after the script) a setting for silly.env\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<Vec<u8>> {
        std::iter::once("lua")
            .chain(words.iter().copied())
            .map(|w| w.as_bytes().to_vec())
            .collect()
    }

    #[test]
    fn options_end_at_the_script_dash_or_double_dash() {
        let o = collect(&argv(&["-e", "x=1", "-i", "s.lua", "-v"])).unwrap();
        assert_eq!(
            (o.script, o.interactive, o.version, o.has_e),
            (4, true, true, true)
        );
        assert_eq!(collect(&argv(&["-", "a"])).unwrap().script, 1);
        assert_eq!(collect(&argv(&["--", "-x"])).unwrap().script, 2);
        assert_eq!(collect(&argv(&["-lstring", "-W"])).unwrap().script, 3);
        let o = collect(&argv(&["--console", "127.0.0.1:1", "s.lua"])).unwrap();
        assert_eq!((o.console.as_deref(), o.script), (Some("127.0.0.1:1"), 3));
    }

    #[test]
    fn bad_options_are_named_as_lua_names_them() {
        for (words, bad) in [
            (&["-h"][..], "-h"),
            (&["---"][..], "---"),
            (&["-Ex"][..], "-Ex"),
            (&["-vv"][..], "-vv"),
            (&["-iv"][..], "-iv"),
            (&["-e"][..], "-e"),
            (&["-l", "-x"][..], "-l"),
        ] {
            assert_eq!(
                collect(&argv(words)),
                Err(BadOption(bad.as_bytes().to_vec()))
            );
        }
        let u = usage("lua", &BadOption(b"-e".to_vec()));
        assert!(u.starts_with("lua: '-e' needs argument\nusage: lua [options]"));
    }
}

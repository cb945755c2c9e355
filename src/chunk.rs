//! [`Chunk`]: Lua code about to be compiled and run, from [`Lua::load`].

use std::borrow::Cow;

use hotlua_vm::Value as Raw;

use crate::error::{Error, Result};
use crate::function::call_values;
use crate::multi::{FromLuaMulti, IntoLuaMulti, MultiValue};
use crate::state::Lua;
use crate::table::Table;
use crate::value::Value;
use crate::Function;

/// Source code for [`Lua::load`]: text (`&str`, `String`, bytes) or a file path.
pub trait AsChunk<'a> {
    /// The source, and the chunk name when the source implies one (a file: `@path`).
    fn source(self) -> std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)>;
}

impl<'a> AsChunk<'a> for &'a str {
    fn source(self) -> std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)> {
        Ok((Cow::Borrowed(self.as_bytes()), None))
    }
}

impl<'a> AsChunk<'a> for std::string::String {
    fn source(self) -> std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)> {
        Ok((Cow::Owned(self.into_bytes()), None))
    }
}

impl<'a> AsChunk<'a> for &'a std::string::String {
    fn source(self) -> std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)> {
        Ok((Cow::Borrowed(self.as_bytes()), None))
    }
}

impl<'a> AsChunk<'a> for &'a [u8] {
    fn source(self) -> std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)> {
        Ok((Cow::Borrowed(self), None))
    }
}

impl<'a, const N: usize> AsChunk<'a> for &'a [u8; N] {
    fn source(self) -> std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)> {
        Ok((Cow::Borrowed(&self[..]), None))
    }
}

impl<'a> AsChunk<'a> for Vec<u8> {
    fn source(self) -> std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)> {
        Ok((Cow::Owned(self), None))
    }
}

impl<'a> AsChunk<'a> for &std::path::Path {
    /// The file's contents (a first line starting with `#` is skipped, as `lua` does),
    /// named `@path`.
    fn source(self) -> std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)> {
        let bytes = std::fs::read(self)?;
        let body = hotlua_compiler::file_chunk(&bytes).to_vec();
        Ok((Cow::Owned(body), Some(format!("@{}", self.display()))))
    }
}

impl<'a> AsChunk<'a> for std::path::PathBuf {
    fn source(self) -> std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)> {
        self.as_path().source()
    }
}

/// How a chunk's source is read (hotlua accepts text chunks only until binary chunks land).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkMode {
    /// Source text.
    Text,
    /// A precompiled chunk.
    Binary,
}

/// A chunk of Lua code: name it, give it an environment, then run it or turn it into a
/// function.
///
/// ```
/// use hotlua::Lua;
/// let lua = Lua::new();
/// let env = lua.create_table().unwrap();
/// env.set("x", 5).unwrap();
/// let r: i64 = lua.load("return x * 2").set_name("=calc").set_environment(env).eval().unwrap();
/// assert_eq!(r, 10);
/// let e = lua.load("error('no')").set_name("=calc").exec().unwrap_err();
/// assert!(e.to_string().contains("calc:1: no"));
/// ```
#[must_use = "a chunk does nothing until it is run (exec, eval, call) or turned into a function"]
pub struct Chunk<'a> {
    lua: &'a Lua,
    source: std::io::Result<(Cow<'a, [u8]>, Option<std::string::String>)>,
    name: Option<std::string::String>,
    env: Option<Table>,
    mode: Option<ChunkMode>,
}

impl Lua {
    /// Prepares `chunk` (source text or a path) to be run. By default the chunk is named
    /// after its text, as `load` names a string chunk (`[string "..."]`), and its
    /// environment is the globals table.
    pub fn load<'a>(&'a self, chunk: impl AsChunk<'a>) -> Chunk<'a> {
        Chunk {
            lua: self,
            source: chunk.source(),
            name: None,
            env: None,
            mode: None,
        }
    }
}

impl<'a> Chunk<'a> {
    /// Names the chunk: `@file` for a file, `=name` for a name shown as is, or any text
    /// (shown as `[string "text"]`).
    pub fn set_name(mut self, name: impl Into<std::string::String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Runs the chunk with `env` as its `_ENV`: it sees only that table's names (a sandbox).
    pub fn set_environment(mut self, env: Table) -> Self {
        self.env = Some(env);
        self
    }

    /// Restricts what the source may be; a chunk of the other kind fails to load.
    pub fn set_mode(mut self, mode: ChunkMode) -> Self {
        self.mode = Some(mode);
        self
    }

    fn compile(&self, prefix: &[u8]) -> Result<Function> {
        let (src, implied) = match &self.source {
            Ok((s, n)) => (s, n.clone()),
            Err(e) => return Err(Error::runtime(format!("cannot read the chunk: {e}"))),
        };
        let binary = src.first() == Some(&0x1b);
        match (self.mode, binary) {
            (Some(ChunkMode::Text), true) => {
                return Err(Error::SyntaxError {
                    message: "attempt to load a binary chunk (mode is 't')".into(),
                    incomplete_input: false,
                })
            }
            (Some(ChunkMode::Binary), false) => {
                return Err(Error::SyntaxError {
                    message: "attempt to load a text chunk (mode is 'b')".into(),
                    incomplete_input: false,
                })
            }
            _ => {}
        }
        let name = self
            .name
            .clone()
            .or(implied)
            .unwrap_or_else(|| std::string::String::from_utf8_lossy(src).into_owned());
        let code: Cow<[u8]> = if prefix.is_empty() {
            Cow::Borrowed(&src[..])
        } else {
            let mut v = prefix.to_vec();
            v.extend_from_slice(src);
            Cow::Owned(v)
        };
        self.lua.with_vm(|inner, vm| {
            vm.gc_check_limit().map_err(|e| inner.error_from(vm, e))?;
            let env = match &self.env {
                Some(t) => Some(inner.raw_ref(&t.0)?),
                None => None,
            };
            match vm.load(&code, &name, env) {
                Ok(f) => match inner.wrap(f) {
                    Value::Function(f) => Ok(f),
                    _ => Err(Error::runtime("load did not make a function")),
                },
                Err(e) => Err(match e.value {
                    Raw::Str(s) => {
                        let message = s.get().to_str_lossy().into_owned();
                        if message == "not enough memory" {
                            Error::MemoryError(message)
                        } else {
                            let incomplete_input = message.ends_with("<eof>");
                            Error::SyntaxError {
                                message,
                                incomplete_input,
                            }
                        }
                    }
                    v => Error::RuntimeError(vm.to_display(v)),
                }),
            }
        })
    }

    /// Compiles the chunk into a function (not run).
    pub fn into_function(self) -> Result<Function> {
        self.compile(b"")
    }

    /// Runs the chunk, discarding its results.
    pub fn exec(self) -> Result<()> {
        self.call(())
    }

    /// Runs the chunk with `args` (its `...`) and converts its results.
    pub fn call<R: FromLuaMulti>(self, args: impl IntoLuaMulti) -> Result<R> {
        self.into_function()?.call(args)
    }

    /// Evaluates the chunk: as an expression if it is one (`"1 + 2"`), otherwise as
    /// statements (`"return 1 + 2"`), and converts the results.
    pub fn eval<R: FromLuaMulti>(self) -> Result<R> {
        let f = match self.compile(b"return ") {
            Ok(f) => f,
            Err(_) => self.compile(b"")?,
        };
        let lua = self.lua;
        let results: MultiValue = lua.with_vm(|inner, vm| {
            let raw = inner.raw_ref(&f.0)?;
            call_values(inner, vm, raw, &MultiValue::new())
        })?;
        R::from_lua_multi(results, lua)
    }
}

//! `Proto`: a compiled function as plain data. The compiler produces it; the VM instantiates
//! it (interns its string constants, wraps it in a heap object) and never mutates it.

use crate::opcode::Instr;

/// A constant of a function's constant table.
#[derive(Debug, Clone, PartialEq)]
pub enum Constant {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string constant as bytes (Lua strings are not necessarily UTF-8).
    Str(Box<[u8]>),
}

/// How a closure finds one of its upvalues when it is created.
#[derive(Debug, Clone, PartialEq)]
pub struct UpvalDesc {
    /// The variable's name (`_ENV` for the environment), for debug info and patching.
    /// Shared: every use of a name in a chunk points at the same text, so instantiation
    /// can convert each distinct name once.
    pub name: std::sync::Arc<str>,
    /// True: the upvalue is local `index` (a register) of the enclosing function.
    /// False: it is upvalue `index` of the enclosing function.
    pub in_stack: bool,
    pub index: u8,
    /// The declared attribute of the captured variable (`Const` or `Close` locals).
    pub kind: VarKind,
    /// The identity of the declaration this upvalue finally refers to, stable across two
    /// versions of the same source: `<function path>|<name>`, plus `#n` for the n-th
    /// redeclaration of the name in its block and `@i.j` for a local of a nested block
    /// (see `spec/patch.md`). A module's top-level local is `|<name>`; `_ENV` is `_ENV`.
    pub decl: std::sync::Arc<str>,
}

/// What kind of variable a local or an upvalue refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    /// An ordinary variable.
    Regular,
    /// `<const>` (not a compile-time constant: it lives in a register).
    Const,
    /// `<close>`.
    Close,
}

/// Debug information about a local variable: its register is live for `start_pc..end_pc`.
#[derive(Debug, Clone, PartialEq)]
pub struct LocVar {
    /// Shared as [`UpvalDesc::name`].
    pub name: std::sync::Arc<str>,
    /// First instruction where the variable is active.
    pub start_pc: u32,
    /// First instruction where the variable is dead.
    pub end_pc: u32,
    /// The stable identity of the declaration for hot patching: the path of block indices
    /// from the function's body to the declaring block (each the ordinal of that block among
    /// its parent's child blocks), e.g. `[]` for the function's top level or `[2, 0]`.
    /// Together with `name` (and, when a block declares the name twice, `shadow`), this
    /// matches a variable across two versions of the same source.
    pub scope_path: Box<[u16]>,
    /// How many earlier declarations of the same name the same block has (0 for the first).
    pub shadow: u16,
}

/// A compiled function.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Proto {
    /// The chunk name as given to the compiler (`@file.lua`, `=stdin`, or the source text).
    pub source: std::sync::Arc<str>,
    /// The function's declaration name within its parent, the last component of its
    /// identity (`spec/patch.md`): `f` (`local function f`, `function f`, `local f =
    /// function`), `M.f` / `M:f` (a field path it is defined or assigned to), `t.k` (a field
    /// of a table constructor assigned to `t`), or `@n` for the n-th anonymous function of
    /// the parent; `#k` is appended to the k-th repetition of a name. Empty for a main chunk.
    pub name: std::sync::Arc<str>,
    /// Compiled as a module (`compile_module`): the main function's top-level locals live in
    /// its upvalues (after `_ENV`), so they outlive the chunk as cells.
    pub module: bool,
    /// A hash of the source text (FNV-1a, 64 bits) for a module's main function (0
    /// otherwise): hot patching tells versions apart by it.
    pub source_hash: u64,
    /// Line of `function` (0 for a main chunk).
    pub line_defined: u32,
    /// Line of `end` (0 for a main chunk).
    pub last_line_defined: u32,
    pub num_params: u8,
    pub is_vararg: bool,
    /// Number of registers the function needs.
    pub max_stack: u8,
    pub code: Vec<Instr>,
    pub constants: Vec<Constant>,
    pub upvalues: Vec<UpvalDesc>,
    /// Functions defined inside this one, indexed by `CLOSURE`'s Bx. Boxed: a module can
    /// define thousands, and a growing Vec of whole protos churns large allocations.
    pub protos: Vec<Box<Proto>>,
    /// The source line of each instruction (same length as `code`).
    pub line_info: Vec<u32>,
    pub locvars: Vec<LocVar>,
}

impl Proto {
    /// The name of the `n`-th local active at `pc` (1-based, as `debug.getlocal`), if any.
    pub fn local_name(&self, n: usize, pc: u32) -> Option<&str> {
        self.locvars
            .iter()
            .filter(|v| v.start_pc <= pc && pc < v.end_pc)
            .nth(n.checked_sub(1)?)
            .map(|v| &*v.name)
    }

    /// The line of the instruction at `pc`, or `line_defined` when there is none.
    pub fn line_at(&self, pc: usize) -> u32 {
        self.line_info.get(pc).copied().unwrap_or(self.line_defined)
    }
}

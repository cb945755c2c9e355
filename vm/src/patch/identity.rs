//! Declaration identity: matching two versions of a module's prototypes.
//!
//! The compiler names every prototype within its parent (`FnProto::name`: `f`, `M.f`,
//! `M:f`, `t.k`, `return`, `@n` for the n-th anonymous function, `#k` for a repeated name),
//! so a prototype's identity is the path of names from the chunk's main function: `M.f`,
//! `M.factory/return`, `helper/@1`; the main function's path is empty. Two versions are
//! matched path by path: renaming or reordering unrelated code matches everything else, and
//! a function renamed or moved is reported removed (old path) and added (new path), never
//! joined to another.

use foldhash::HashMap;

use crate::function::FnProto;
use crate::gc::Gc;

/// Every prototype of a chunk, by path (parents before their children).
pub struct Index {
    pub entries: Vec<(String, Gc<FnProto>)>,
    by_path: HashMap<String, usize>,
    by_proto: HashMap<usize, usize>,
}

impl Index {
    /// Indexes the prototype tree under `root` (iteratively: nesting depth does not use
    /// the Rust stack).
    pub fn new(root: Gc<FnProto>) -> Index {
        let mut entries: Vec<(String, Gc<FnProto>)> = Vec::new();
        let mut todo = vec![(String::new(), root)];
        while let Some((path, p)) = todo.pop() {
            for c in p.get().protos.iter().rev() {
                let name = &c.get().name;
                let child = if path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}/{name}")
                };
                todo.push((child, *c));
            }
            entries.push((path, p));
        }
        let by_path = entries
            .iter()
            .enumerate()
            .map(|(i, (path, _))| (path.clone(), i))
            .collect();
        let by_proto = entries
            .iter()
            .enumerate()
            .map(|(i, (_, p))| (p.addr(), i))
            .collect();
        Index {
            entries,
            by_path,
            by_proto,
        }
    }

    /// The prototype at `path`.
    pub fn get(&self, path: &str) -> Option<Gc<FnProto>> {
        self.by_path.get(path).map(|&i| self.entries[i].1)
    }

    /// True when `p` is one of this chunk's prototypes.
    pub fn contains(&self, p: Gc<FnProto>) -> bool {
        self.by_proto.contains_key(&p.addr())
    }

    /// The path of prototype `p` of this chunk.
    pub fn path_of(&self, p: Gc<FnProto>) -> Option<&str> {
        self.by_proto
            .get(&p.addr())
            .map(|&i| self.entries[i].0.as_str())
    }
}

/// How a prototype differs from its match in the other version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The same code, constants, upvalues and lines.
    Same,
    /// The same behaviour, at other lines (swapped so that tracebacks are right).
    Moved,
    /// Different code, constants, parameters, upvalues or children.
    Changed,
}

/// Compares two prototypes (not their children, except for their names and order, which
/// `CLOSURE` instructions depend on).
pub fn compare(a: &FnProto, b: &FnProto) -> Change {
    let same_code = a.num_params == b.num_params
        && a.is_vararg == b.is_vararg
        && a.max_stack == b.max_stack
        && a.code.len() == b.code.len()
        && a.code.iter().zip(b.code.iter()).all(|(x, y)| x.0 == y.0)
        && a.constants.len() == b.constants.len()
        && a.constants
            .iter()
            .zip(b.constants.iter())
            .all(|(x, y)| x.same_constant(y))
        && a.upvalues.len() == b.upvalues.len()
        && a.upvalues.iter().zip(b.upvalues.iter()).all(|(x, y)| {
            x.in_stack == y.in_stack && x.index == y.index && x.kind == y.kind && x.decl == y.decl
        })
        && a.protos.len() == b.protos.len()
        && a.protos
            .iter()
            .zip(b.protos.iter())
            .all(|(x, y)| x.get().name == y.get().name);
    if !same_code {
        return Change::Changed;
    }
    if a.line_defined != b.line_defined
        || a.last_line_defined != b.last_line_defined
        || a.line_info != b.line_info
    {
        return Change::Moved;
    }
    Change::Same
}

/// The printable name of a path (the main function's is `(main)`).
pub fn display_path(path: &str) -> String {
    if path.is_empty() {
        "(main)".to_string()
    } else {
        path.to_string()
    }
}

/// True when an upvalue declaration identity names a module-level variable: a top-level
/// local of the main chunk (`|name`, `|name#k`) or `_ENV`.
pub fn is_module_decl(decl: &[u8]) -> bool {
    decl == b"_ENV" || (decl.first() == Some(&b'|') && !decl.contains(&b'@'))
}

/// The variable name a module-level declaration identity stands for (`|count` ->
/// `count`, `|x#1` -> `x#1`).
pub fn decl_display(decl: &[u8]) -> String {
    let d = decl.strip_prefix(b"|").unwrap_or(decl);
    String::from_utf8_lossy(d).into_owned()
}

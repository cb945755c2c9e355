//! The upvalue primitives: the operations the debug library and `silly.patch` build on.
//!
//! Upvalues are shared cells ([`UpvalCell`]); a closure holds one `Cell<Gc<UpvalCell>>` per
//! upvalue. Joining replaces that pointer, so it is O(1) and every later access of the
//! joined closure reads and writes the other closure's cell. A cell's identity (what
//! `debug.upvalueid` returns) is its address.

use crate::function::{LuaClosure, UpvalCell};
use crate::gc::Gc;
use crate::string::LuaStr;
use crate::value::Value;

/// Calls `visit(index, name, cell)` for each upvalue of `f`, in order: `index` is 0-based
/// (`debug.getupvalue` numbers from 1) and `name` is the interned name from the closure's
/// current prototype.
#[inline]
pub fn for_each_upvalue(
    f: Gc<LuaClosure>,
    mut visit: impl FnMut(usize, Gc<LuaStr>, Gc<UpvalCell>),
) {
    let c = f.get();
    let proto = c.proto();
    let names = &proto.get().upval_names;
    for (index, (cell, name)) in c.upvals().iter().zip(names.iter()).enumerate() {
        visit(index, *name, cell.get());
    }
}

/// The identity of an upvalue cell, as `debug.upvalueid` gives it (a light userdata).
#[inline]
pub fn upvalue_id(cell: Gc<UpvalCell>) -> Value {
    Value::LightUserData(cell.addr())
}

/// Makes upvalue `n1` of `f1` refer to the cell of upvalue `n2` of `f2` (`upvaluejoin`).
/// Returns false when an index is out of range.
#[inline]
pub fn upvalue_join(f1: Gc<LuaClosure>, n1: usize, f2: Gc<LuaClosure>, n2: usize) -> bool {
    let (a, b) = (f1.get(), f2.get());
    match (a.upvals().get(n1), b.upvals().get(n2)) {
        (Some(dst), Some(src)) => {
            dst.set(src.get());
            true
        }
        _ => false,
    }
}

/// The name of upvalue `idx` of `f` as an interned string (from its current prototype).
#[inline]
pub fn upvalue_name(f: Gc<LuaClosure>, idx: usize) -> Option<Gc<LuaStr>> {
    f.get().proto().get().upval_names.get(idx).copied()
}

//! Marking: a gray stack (no recursion, so deep structures cannot overflow the Rust stack) and
//! the lists of weak tables met while marking, handled after propagation.
#![deny(unsafe_op_in_unsafe_fn)]

use std::ptr::NonNull;

use super::{value_header, ErasedPtr, Gc, GcBox, Trace};
use crate::string::LuaStr;
use crate::table::Table;
use crate::value::Value;

/// How a table holds its entries, from its metatable's `__mode`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WeakMode {
    /// Ordinary table.
    Strong,
    /// `"k"`: ephemeron table (a value is kept only while its key is reachable).
    Keys,
    /// `"v"`: values do not keep their objects alive.
    Values,
    /// `"kv"`: neither keys nor values keep anything alive.
    Both,
}

/// The marking state passed to [`Trace::trace`] and to the root callback of
/// [`super::Heap::collect`].
pub struct Marker {
    gray: Vec<ErasedPtr>,
    /// The object being traced right now (lets a table register itself as weak).
    current: Option<ErasedPtr>,
    pub(crate) mode_key: Gc<LuaStr>,
    pub(crate) weak_values: Vec<Gc<Table>>,
    pub(crate) ephemerons: Vec<Gc<Table>>,
    pub(crate) all_weak: Vec<Gc<Table>>,
}

impl Marker {
    /// A marker reusing `gray`'s buffer (kept by the heap between collections, see
    /// `Heap::gray_buffer`).
    pub(super) fn new(mode_key: Gc<LuaStr>, gray: Vec<ErasedPtr>) -> Marker {
        Marker {
            gray,
            current: None,
            mode_key,
            weak_values: Vec::new(),
            ephemerons: Vec::new(),
            all_weak: Vec::new(),
        }
    }

    /// Mark an object: it and (later) everything it references survive this collection.
    #[inline]
    pub fn mark<T: Trace>(&mut self, g: Gc<T>) {
        let h = g.header();
        if !h.is_marked() {
            h.set_marked();
            self.gray.push(g.erased());
        }
    }

    /// Mark a value if it is collectable.
    #[inline]
    pub fn mark_value(&mut self, v: Value) {
        match v {
            // Strings reference nothing: mark without a trip through the gray stack.
            Value::Str(s) => s.header().set_marked(),
            Value::Table(g) => self.mark(g),
            Value::LuaFn(g) => self.mark(g),
            Value::NativeFn(g) => self.mark(g),
            Value::UserData(g) => self.mark(g),
            Value::Thread(g) => self.mark(g),
            _ => {}
        }
    }

    /// Mark every value of a slice.
    #[inline]
    pub fn mark_values(&mut self, vs: &[Value]) {
        for &v in vs {
            self.mark_value(v);
        }
    }

    /// Is `v` already marked (or not collectable)?
    #[inline]
    pub fn is_marked(&self, v: Value) -> bool {
        match value_header(v) {
            Some(h) => h.is_marked(),
            None => true,
        }
    }

    /// For weak tables: would `v` be removed? Strings are values, never removed: they are
    /// marked here instead. Non-collectable values are never removed.
    #[inline]
    pub(crate) fn is_cleared(&self, v: Value) -> bool {
        match v {
            Value::Str(s) => {
                s.header().set_marked();
                false
            }
            _ => match value_header(v) {
                Some(h) => !h.is_marked(),
                None => false,
            },
        }
    }

    /// Called by `Table::trace`: remember the table being traced as weak, to be visited again
    /// after propagation.
    pub(crate) fn register_weak(&mut self, mode: WeakMode) {
        let Some(cur) = self.current else { return };
        let t: NonNull<GcBox<Table>> = cur.cast();
        let g = Gc {
            ptr: t,
            _marker: std::marker::PhantomData,
        };
        match mode {
            WeakMode::Strong => {}
            WeakMode::Keys => self.ephemerons.push(g),
            WeakMode::Values => self.weak_values.push(g),
            WeakMode::Both => self.all_weak.push(g),
        }
    }

    /// Give back the gray stack's (empty) buffer for the next collection.
    pub(super) fn into_gray_buffer(self) -> Vec<ErasedPtr> {
        self.gray
    }

    /// Trace gray objects until none is left.
    pub(super) fn propagate(&mut self) {
        while let Some(p) = self.gray.pop() {
            self.current = Some(p);
            // SAFETY: only live, marked objects are pushed on the gray stack, and no object is
            // freed during marking.
            let obj: &dyn Trace = unsafe { &*p.as_ref().value.get() };
            obj.trace(self);
        }
        self.current = None;
    }

    /// Ephemeron fixpoint: mark values of weak-key tables whose keys are marked, propagate,
    /// and repeat until nothing changes (a newly marked value may make other keys reachable).
    pub(super) fn converge_ephemerons(&mut self) {
        loop {
            let mut changed = false;
            let mut i = 0;
            // The list may grow while propagating (tables first reached now): index loop.
            while i < self.ephemerons.len() {
                let t = self.ephemerons[i];
                if t.get().mark_ephemeron_values(self) {
                    changed = true;
                    self.propagate();
                }
                i += 1;
            }
            if !changed {
                break;
            }
        }
    }
}

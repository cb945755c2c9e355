//! Per-state extension slots: the Rust-side state of libraries and runtimes that belongs to
//! one [`Vm`] (the silly event loop, sockets, logger settings, open files, the patch
//! engine's versions). Keeping it here instead of in thread-locals or statics lets two
//! states live on one thread without sharing anything, and lets the state move with its Vm.
//!
//! Invariants:
//! - At most one slot per Rust type; a slot holds a `Box<dyn Extension>` and is traced by
//!   every collection ([`Extension::trace`]), so heap objects an extension refers to stay
//!   alive without being reachable from Lua (a script cannot unroot them through the
//!   registry or the debug library).
//! - [`Vm::with_ext`] lends a slot out (taking it out of the Vm for the duration): while any
//!   slot is lent, collections are deferred ([`Vm::gc_inhibited`]), since the lent
//!   extension cannot be traced. A nested `with_ext` of the same type finds the slot empty
//!   and fails instead of aliasing it.

use std::any::{Any, TypeId};

use crate::gc::Marker;
use crate::state::Vm;
use crate::value::Value;

/// Rust-side state kept in a [`Vm`]'s extension slots.
pub trait Extension: Any {
    /// Marks every heap object the extension refers to (through `m.mark`/`m.mark_value`).
    fn trace(&self, _m: &mut Marker) {}
    /// The values it keeps alive, each with what holds it (`"timer"`, `"task"`): the patch
    /// census names the holders of old code with them. Optional.
    fn roots(&self, _out: &mut Vec<(&'static str, Value)>) {}
    /// `self` as `Any` (for downcasting).
    fn as_any(&self) -> &dyn Any;
    /// `self` as `Any`, mutably.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// `self` as a box of `Any` (for taking a slot out by type).
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// Implements the `Any` conversions of [`Extension`] for a type.
#[macro_export]
macro_rules! extension_any {
    () => {
        fn as_any(&self) -> &dyn ::std::any::Any {
            self
        }
        fn as_any_mut(&mut self) -> &mut dyn ::std::any::Any {
            self
        }
        fn into_any(self: Box<Self>) -> Box<dyn ::std::any::Any> {
            self
        }
    };
}

/// The slots of one Vm.
#[derive(Default)]
pub struct Extensions {
    slots: Vec<(TypeId, Option<Box<dyn Extension>>)>,
    /// Number of slots currently lent out by `with_ext`.
    lent: u32,
}

impl Extensions {
    fn find(&self, id: TypeId) -> Option<usize> {
        self.slots.iter().position(|(t, _)| *t == id)
    }

    /// Marks every extension present.
    pub(crate) fn trace(&self, m: &mut Marker) {
        for (_, e) in &self.slots {
            if let Some(e) = e {
                e.trace(m);
            }
        }
    }

    /// Every extension's [`Extension::roots`].
    pub(crate) fn roots(&self, out: &mut Vec<(&'static str, Value)>) {
        for (_, e) in self.slots.iter() {
            if let Some(e) = e {
                e.roots(out);
            }
        }
    }

    /// Drops every extension (state shutdown), in reverse order of insertion.
    pub(crate) fn clear(&mut self) -> Vec<Box<dyn Extension>> {
        self.slots.drain(..).rev().filter_map(|(_, e)| e).collect()
    }
}

impl Vm {
    /// Installs `ext` in its type's slot, replacing (and returning) any previous one.
    pub fn set_ext<T: Extension>(&mut self, ext: T) -> Option<Box<T>> {
        let id = TypeId::of::<T>();
        let boxed: Box<dyn Extension> = Box::new(ext);
        let old = match self.ext.find(id) {
            Some(i) => self.ext.slots[i].1.replace(boxed),
            None => {
                self.ext.slots.push((id, Some(boxed)));
                None
            }
        };
        old.and_then(|b| b.into_any().downcast::<T>().ok())
    }

    /// The extension of type `T`, if installed (and not lent out).
    pub fn ext<T: Extension>(&self) -> Option<&T> {
        let i = self.ext.find(TypeId::of::<T>())?;
        self.ext.slots[i].1.as_ref()?.as_any().downcast_ref()
    }

    /// The extension of type `T`, mutably, if installed (and not lent out).
    pub fn ext_mut<T: Extension>(&mut self) -> Option<&mut T> {
        let i = self.ext.find(TypeId::of::<T>())?;
        self.ext.slots[i].1.as_mut()?.as_any_mut().downcast_mut()
    }

    /// True when an extension of type `T` is installed (lent out or not).
    pub fn has_ext<T: Extension>(&self) -> bool {
        self.ext.find(TypeId::of::<T>()).is_some()
    }

    /// Removes the extension of type `T`.
    pub fn remove_ext<T: Extension>(&mut self) -> Option<Box<T>> {
        let i = self.ext.find(TypeId::of::<T>())?;
        let (_, e) = self.ext.slots.remove(i);
        e.and_then(|b| b.into_any().downcast::<T>().ok())
    }

    /// Runs `f` with both the Vm and its extension of type `T` borrowed mutably. `None` when
    /// no such extension is installed or it is already lent (a nested call). Collections
    /// requested meanwhile are deferred to the next safe point after `f` returns.
    pub fn with_ext<T: Extension, R>(&mut self, f: impl FnOnce(&mut Vm, &mut T) -> R) -> Option<R> {
        let id = TypeId::of::<T>();
        let i = self.ext.find(id)?;
        let mut boxed = self.ext.slots[i].1.take()?;
        self.ext.lent += 1;
        // The slot is restored even if `f` panics (the panic then continues), so the
        // extension is never lost.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            boxed
                .as_any_mut()
                .downcast_mut::<T>()
                .map(|ext| f(self, ext))
        }));
        self.ext.lent -= 1;
        // `f` may have removed or replaced slots: the lent one goes back to its type's slot
        // if that is still empty (otherwise the newer value wins and ours is dropped).
        match self.ext.find(id) {
            Some(j) if self.ext.slots[j].1.is_none() => self.ext.slots[j].1 = Some(boxed),
            Some(_) => {}
            None => self.ext.slots.push((id, Some(boxed))),
        }
        match r {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    }

    /// True while an extension is lent out: collections must wait (see the module docs).
    #[inline]
    pub fn gc_inhibited(&self) -> bool {
        self.ext.lent > 0
    }
}

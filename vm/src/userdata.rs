//! Full userdata: a host value with a metatable and Lua user values.
//!
//! The host value is a [`Payload`]: any `'static` Rust value, which may also trace heap
//! objects it refers to (so Rust-side state can keep Lua values alive without exposing them
//! to Lua as user values a script could overwrite).
//!
//! Invariant: the payload lives in its own allocation, owned through a raw pointer (not a
//! `Box` field, which would assert uniqueness whenever the `UserData` struct is borrowed):
//! a host may hold a pointer to it while the VM reads or writes the userdata's metatable and
//! user values. It is freed exactly once, when the userdata is (see `Drop`).

use std::any::Any;
use std::ptr::NonNull;

use crate::gc::{Gc, Marker, Trace};
use crate::table::Table;
use crate::value::Value;

/// A userdata's host value.
pub trait Payload: Any {
    /// Marks heap objects the value refers to. Most payloads hold none.
    fn trace(&self, _m: &mut Marker) {}
    /// `self` as `Any`.
    fn as_any(&self) -> &dyn Any;
    /// `self` as `Any`, mutably.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// Wraps an ordinary value (one that refers to no heap object) as a [`Payload`].
pub struct Plain<T>(pub T);

impl<T: Any> Payload for Plain<T> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        &mut self.0
    }
}

/// A full userdata object.
pub struct UserData {
    /// The metatable (raw slot).
    pub metatable: Option<Gc<Table>>,
    /// User values (`lua_setiuservalue`); traced.
    pub user_values: Vec<Value>,
    data: NonNull<dyn Payload>,
    size: usize,
}

impl UserData {
    /// Wrap a host value that refers to no heap object.
    pub fn new<T: Any>(data: T) -> UserData {
        UserData::with_payload(Plain(data))
    }

    /// Wrap a payload (which may trace heap objects).
    pub fn with_payload<P: Payload>(payload: P) -> UserData {
        let size = std::mem::size_of::<P>();
        let b: Box<dyn Payload> = Box::new(payload);
        UserData {
            metatable: None,
            user_values: Vec::new(),
            // SAFETY: Box::into_raw never returns null.
            data: unsafe { NonNull::new_unchecked(Box::into_raw(b)) },
            size,
        }
    }

    /// The payload.
    pub fn payload(&self) -> &dyn Payload {
        // SAFETY: `data` came from Box::into_raw and is freed only in Drop.
        unsafe { self.data.as_ref() }
    }

    /// The host value, if it is a `T` (for payloads made by [`UserData::new`], the wrapped
    /// value; otherwise the payload itself).
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.payload().as_any().downcast_ref()
    }

    /// The host value, mutably, if it is a `T`.
    pub fn downcast_mut<T: Any>(&mut self) -> Option<&mut T> {
        // The type is checked through a shared reference first: a host may hold references
        // into a payload of another type (see `payload_ptr`), and a unique reference to
        // that payload must never be made.
        if !self.payload().as_any().is::<T>() {
            return None;
        }
        // SAFETY: as `payload`; the payload is a `T` (or wraps one), which no host lends out
        // (hosts lend only their own payload types, which are never asked for here), and
        // `&mut self` excludes other references made through self.
        unsafe { self.data.as_mut() }.as_any_mut().downcast_mut()
    }

    /// The host value as `dyn Any`.
    pub fn data(&self) -> &dyn Any {
        self.payload().as_any()
    }

    /// A raw pointer to the payload, valid until the userdata is freed. Hosts use it to
    /// give out references that outlive a borrow of the userdata struct (the embedding
    /// facade's `UserDataRef`, which keeps the userdata rooted meanwhile).
    pub fn payload_ptr(&self) -> NonNull<dyn Payload> {
        self.data
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        // SAFETY: `data` came from Box::into_raw in `with_payload` and is freed only here.
        unsafe { drop(Box::from_raw(self.data.as_ptr())) }
    }
}

impl Trace for UserData {
    fn trace(&self, m: &mut Marker) {
        if let Some(mt) = self.metatable {
            m.mark(mt);
        }
        m.mark_values(&self.user_values);
        self.payload().trace(m);
    }

    fn extra_bytes(&self) -> usize {
        self.size + self.user_values.capacity() * std::mem::size_of::<Value>()
    }
}

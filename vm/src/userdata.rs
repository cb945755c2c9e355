//! Full userdata: a host value (`Box<dyn Any>`) with a metatable and Lua user values.

use std::any::Any;

use crate::gc::{Gc, Marker, Trace};
use crate::table::Table;
use crate::value::Value;

/// A full userdata object.
pub struct UserData {
    /// The metatable (raw slot).
    pub metatable: Option<Gc<Table>>,
    /// User values (`lua_setiuservalue`); traced.
    pub user_values: Vec<Value>,
    data: Box<dyn Any>,
}

impl UserData {
    /// Wrap a host value.
    pub fn new<T: Any>(data: T) -> UserData {
        UserData {
            metatable: None,
            user_values: Vec::new(),
            data: Box::new(data),
        }
    }

    /// The host value, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.data.downcast_ref()
    }

    /// The host value, mutably, if it is a `T`.
    pub fn downcast_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.data.downcast_mut()
    }

    /// The host value as `dyn Any`.
    pub fn data(&self) -> &dyn Any {
        &*self.data
    }
}

impl Trace for UserData {
    fn trace(&self, m: &mut Marker) {
        if let Some(mt) = self.metatable {
            m.mark(mt);
        }
        m.mark_values(&self.user_values);
    }

    fn extra_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.data)
            + self.user_values.capacity() * std::mem::size_of::<Value>()
    }
}

//! Rust values in Lua: the [`UserData`] trait (fields, methods, metamethods),
//! [`AnyUserData`] handles, and run-time-checked borrows ([`UserDataRef`],
//! [`UserDataRefMut`]).
//!
//! A userdata's Rust value lives in a [`UdCell`] (a borrow count beside the value) in the
//! userdata's payload allocation, which the VM never moves and frees only when the userdata
//! is collected. A borrow holds a handle to the userdata (so it stays rooted) and a strong
//! reference to the state (so the heap stays alive); the borrow count makes `&T` and
//! `&mut T` exclusive of each other whoever asks (Rust code or a method called from Lua).

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use hotlua_vm::userdata::{Payload, UserData as RawUserData};
use hotlua_vm::Value as Raw;

use crate::conversion::{FromLua, IntoLua};
use crate::error::{Error, Result};
use crate::function::{create_callback, mut_callback, Callback};
use crate::multi::{FromLuaMulti, IntoLuaMulti, MultiValue};
use crate::state::{Lua, ValueRef};
use crate::table::Table;
use crate::value::Value;

/// A Rust type usable from Lua as a userdata.
///
/// ```
/// use hotlua::{Lua, MetaMethod, UserData, UserDataFields, UserDataMethods};
/// struct Counter { n: i64 }
/// impl UserData for Counter {
///     fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
///         fields.add_field_method_get("n", |_, this| Ok(this.n));
///         fields.add_field_method_set("n", |_, this, v: i64| { this.n = v; Ok(()) });
///     }
///     fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
///         methods.add_method_mut("add", |_, this, k: i64| { this.n += k; Ok(this.n) });
///         methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(format!("Counter({})", this.n)));
///     }
/// }
/// let lua = Lua::new();
/// lua.globals().set("c", Counter { n: 1 }).unwrap();
/// lua.load("c:add(2); c.n = c.n * 10; s = tostring(c)").exec().unwrap();
/// let c: hotlua::AnyUserData = lua.globals().get("c").unwrap();
/// assert_eq!(c.borrow::<Counter>().unwrap().n, 30);
/// assert_eq!(lua.globals().get::<String>("s").unwrap(), "Counter(30)");
/// ```
pub trait UserData: Sized {
    /// Declares fields (`obj.name`), with getters and setters.
    fn add_fields<F: UserDataFields<Self>>(_fields: &mut F) {}
    /// Declares methods (`obj:name(...)`) and metamethods.
    fn add_methods<M: UserDataMethods<Self>>(_methods: &mut M) {}
}

/// Lua's metamethods, for [`UserDataMethods::add_meta_method`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetaMethod {
    /// `+`
    Add,
    /// `-` (binary)
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `-` (unary)
    Unm,
    /// `//`
    IDiv,
    /// `&`
    BAnd,
    /// `|`
    BOr,
    /// `~` (binary)
    BXor,
    /// `~` (unary)
    BNot,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `..`
    Concat,
    /// `#`
    Len,
    /// `==`
    Eq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `obj[key]` (a fallback after fields and methods)
    Index,
    /// `obj[key] = v` (a fallback after field setters)
    NewIndex,
    /// `obj(...)`
    Call,
    /// `tostring(obj)`
    ToString,
    /// `pairs(obj)`
    Pairs,
    /// A to-be-closed variable going out of scope.
    Close,
}

impl MetaMethod {
    /// The metatable key (`"__add"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            MetaMethod::Add => "__add",
            MetaMethod::Sub => "__sub",
            MetaMethod::Mul => "__mul",
            MetaMethod::Div => "__div",
            MetaMethod::Mod => "__mod",
            MetaMethod::Pow => "__pow",
            MetaMethod::Unm => "__unm",
            MetaMethod::IDiv => "__idiv",
            MetaMethod::BAnd => "__band",
            MetaMethod::BOr => "__bor",
            MetaMethod::BXor => "__bxor",
            MetaMethod::BNot => "__bnot",
            MetaMethod::Shl => "__shl",
            MetaMethod::Shr => "__shr",
            MetaMethod::Concat => "__concat",
            MetaMethod::Len => "__len",
            MetaMethod::Eq => "__eq",
            MetaMethod::Lt => "__lt",
            MetaMethod::Le => "__le",
            MetaMethod::Index => "__index",
            MetaMethod::NewIndex => "__newindex",
            MetaMethod::Call => "__call",
            MetaMethod::ToString => "__tostring",
            MetaMethod::Pairs => "__pairs",
            MetaMethod::Close => "__close",
        }
    }
}

impl fmt::Display for MetaMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<MetaMethod> for std::string::String {
    fn from(m: MetaMethod) -> std::string::String {
        m.name().to_string()
    }
}

/// Where [`UserData::add_fields`] declares fields.
pub trait UserDataFields<T> {
    /// A field with a fixed value, the same for every object of the type.
    fn add_field<V>(&mut self, name: impl ToString, value: V)
    where
        V: IntoLua + Clone + 'static;
    /// A field read through `method(&T)`.
    fn add_field_method_get<M, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T) -> Result<R> + 'static,
        R: IntoLua;
    /// A field written through `method(&mut T, value)`.
    fn add_field_method_set<M, A>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<()> + 'static,
        A: FromLua;
    /// A field read through `function(userdata)`.
    fn add_field_function_get<F, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, AnyUserData) -> Result<R> + 'static,
        R: IntoLua;
    /// A field written through `function(userdata, value)`.
    fn add_field_function_set<F, A>(&mut self, name: impl ToString, function: F)
    where
        F: FnMut(&Lua, AnyUserData, A) -> Result<()> + 'static,
        A: FromLua;
    /// A field of the metatable (`__name`, or a metamethod given as a value).
    fn add_meta_field<V>(&mut self, name: impl ToString, value: V)
    where
        V: IntoLua + Clone + 'static;
}

/// Where [`UserData::add_methods`] declares methods and metamethods.
pub trait UserDataMethods<T> {
    /// A method taking `&T` (`obj:name(args)`).
    fn add_method<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A method taking `&mut T`.
    fn add_method_mut<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A function stored under `name` (called with whatever arguments Lua passes, the
    /// object first when called as `obj:name()`).
    fn add_function<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A `FnMut` function.
    fn add_function_mut<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A metamethod taking `&T` as its first operand.
    fn add_meta_method<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A metamethod taking `&mut T`.
    fn add_meta_method_mut<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A metamethod taking its operands as they come (for binary operators, the object
    /// may be either one).
    fn add_meta_function<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A `FnMut` metamethod function.
    fn add_meta_function_mut<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
}

/// A userdata's Rust value and its borrow count (`> 0`: shared borrows, `-1`: exclusive).
pub(crate) struct UdCell<T> {
    borrow: Cell<isize>,
    value: UnsafeCell<Option<T>>,
}

impl<T: 'static> Payload for UdCell<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl<T> UdCell<T> {
    fn new(v: T) -> UdCell<T> {
        UdCell {
            borrow: Cell::new(0),
            value: UnsafeCell::new(Some(v)),
        }
    }

    fn is_taken(&self) -> bool {
        // SAFETY: reading the discriminant through the UnsafeCell while no `&mut` made from
        // it is live: exclusive borrows set `borrow` to -1, and callers check that first.
        unsafe { (*self.value.get()).is_none() }
    }

    fn acquire(&self) -> Result<()> {
        let b = self.borrow.get();
        if b < 0 {
            return Err(Error::UserDataBorrowError);
        }
        if self.is_taken() {
            return Err(Error::UserDataDestructed);
        }
        self.borrow.set(b + 1);
        Ok(())
    }

    fn acquire_mut(&self) -> Result<()> {
        if self.borrow.get() != 0 {
            return Err(Error::UserDataBorrowMutError);
        }
        if self.is_taken() {
            return Err(Error::UserDataDestructed);
        }
        self.borrow.set(-1);
        Ok(())
    }
}

/// A handle to a full userdata (of any Rust type, or one made by Lua's own libraries).
///
/// ```
/// use hotlua::{AnyUserData, Lua, UserData};
/// struct Point(i32, i32);
/// impl UserData for Point {}
/// let lua = Lua::new();
/// let ud = lua.create_userdata(Point(1, 2)).unwrap();
/// assert!(ud.is::<Point>());
/// {
///     let mut p = ud.borrow_mut::<Point>().unwrap();
///     p.0 = 10;
///     // While borrowed mutably, a shared borrow fails instead of aliasing.
///     assert!(ud.borrow::<Point>().is_err());
/// }
/// assert_eq!(ud.borrow::<Point>().unwrap().0, 10);
/// let p: Point = ud.take().unwrap();
/// assert_eq!(p.1, 2);
/// assert!(ud.borrow::<Point>().is_err()); // the value is gone
/// ```
#[derive(Clone, PartialEq)]
pub struct AnyUserData(pub(crate) ValueRef);

impl AnyUserData {
    /// The cell of the Rust value, if this userdata holds a `T`.
    fn cell<T: 'static>(&self) -> Result<(Lua, NonNull<UdCell<T>>)> {
        let lua = self.0.lua()?;
        let cell = lua.with_vm(|inner, _| {
            let Raw::UserData(u) = inner.raw_ref(&self.0)? else {
                return Err(Error::UserDataTypeMismatch);
            };
            let ud = u.get();
            if !ud.payload().as_any().is::<UdCell<T>>() {
                return Err(Error::UserDataTypeMismatch);
            }
            // The payload pointer keeps the provenance of the payload's allocation; it is
            // valid until the userdata is freed, which this handle prevents.
            Ok(ud.payload_ptr().cast::<UdCell<T>>())
        })?;
        Ok((lua, cell))
    }

    /// True when the userdata holds a `T` (even one already taken).
    pub fn is<T: 'static>(&self) -> bool {
        self.cell::<T>().is_ok()
    }

    /// Borrows the `T` inside. Fails when it is mutably borrowed (by Rust code or a method
    /// running now), taken, or not a `T`.
    pub fn borrow<T: 'static>(&self) -> Result<UserDataRef<T>> {
        let (lua, cell) = self.cell::<T>()?;
        // SAFETY: the cell lives in the payload of a userdata this handle roots, in a heap
        // `lua` keeps alive (see the module docs); it is only accessed through shared
        // references, its value through the UnsafeCell under the borrow count.
        unsafe { cell.as_ref() }.acquire()?;
        Ok(UserDataRef {
            _ud: self.clone(),
            _lua: lua,
            cell,
        })
    }

    /// Borrows the `T` inside mutably. Fails when it is borrowed at all, taken, or not a `T`.
    pub fn borrow_mut<T: 'static>(&self) -> Result<UserDataRefMut<T>> {
        let (lua, cell) = self.cell::<T>()?;
        // SAFETY: as in `borrow`.
        unsafe { cell.as_ref() }.acquire_mut()?;
        Ok(UserDataRefMut {
            _ud: self.clone(),
            _lua: lua,
            cell,
        })
    }

    /// Takes the `T` out; the userdata stays, empty (later borrows fail with
    /// [`Error::UserDataDestructed`]). Fails while it is borrowed.
    pub fn take<T: 'static>(&self) -> Result<T> {
        let (_lua, cell) = self.cell::<T>()?;
        // SAFETY: as in `borrow`; the count is 0, so no reference to the value exists.
        let c = unsafe { cell.as_ref() };
        if c.borrow.get() != 0 {
            return Err(Error::UserDataBorrowMutError);
        }
        // SAFETY: no borrow is live (checked just above), so this access is exclusive.
        unsafe { (*c.value.get()).take() }.ok_or(Error::UserDataDestructed)
    }

    /// Sets the first user value (`debug.setuservalue`'s slot 1).
    pub fn set_user_value(&self, v: impl IntoLua) -> Result<()> {
        let lua = self.0.lua()?;
        let v = v.into_lua(&lua)?;
        lua.with_vm(|inner, vm| {
            let Raw::UserData(u) = inner.raw_ref(&self.0)? else {
                return Err(Error::UserDataTypeMismatch);
            };
            let raw = inner.raw(vm, &v)?;
            let uv = &mut u.get_mut().user_values;
            if uv.is_empty() {
                uv.push(raw);
            } else {
                uv[0] = raw;
            }
            Ok(())
        })
    }

    /// The first user value (nil when none was set).
    pub fn user_value<V: FromLua>(&self) -> Result<V> {
        let lua = self.0.lua()?;
        let v = lua.with_vm(|inner, _| {
            let Raw::UserData(u) = inner.raw_ref(&self.0)? else {
                return Err(Error::UserDataTypeMismatch);
            };
            Ok(inner.wrap(u.get().user_values.first().copied().unwrap_or(Raw::Nil)))
        })?;
        V::from_lua(v, &lua)
    }

    /// The metatable.
    pub fn metatable(&self) -> Option<Table> {
        self.0
            .with(|inner, vm, v| Ok(vm.metatable(v).map(|m| Table(inner.new_ref(Raw::Table(m))))))
            .ok()
            .flatten()
    }

    /// The userdata's address.
    pub fn to_pointer(&self) -> *const std::ffi::c_void {
        self.0.pointer() as *const std::ffi::c_void
    }
}

impl fmt::Debug for AnyUserData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "userdata: {:p}", self.to_pointer())
    }
}

/// A shared borrow of a userdata's `T` (see [`AnyUserData::borrow`]).
pub struct UserDataRef<T: 'static> {
    _ud: AnyUserData,
    _lua: Lua,
    cell: NonNull<UdCell<T>>,
}

/// An exclusive borrow of a userdata's `T` (see [`AnyUserData::borrow_mut`]).
pub struct UserDataRefMut<T: 'static> {
    _ud: AnyUserData,
    _lua: Lua,
    cell: NonNull<UdCell<T>>,
}

impl<T> Deref for UserDataRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the cell is alive (the handle roots the userdata, `_lua` keeps the heap);
        // the shared borrow counted in `acquire` excludes `&mut T` until this is dropped,
        // and the value is present (taking needs a zero count).
        match unsafe { &*self.cell.as_ref().value.get() } {
            Some(v) => v,
            None => unreachable!("a borrowed userdata value is never taken"),
        }
    }
}

impl<T> Drop for UserDataRef<T> {
    fn drop(&mut self) {
        // SAFETY: as in `deref`.
        let c = unsafe { self.cell.as_ref() };
        c.borrow.set(c.borrow.get() - 1);
    }
}

impl<T> Deref for UserDataRefMut<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: as for `UserDataRef`; the exclusive borrow (count -1) excludes every
        // other reference to the value.
        match unsafe { &*self.cell.as_ref().value.get() } {
            Some(v) => v,
            None => unreachable!("a borrowed userdata value is never taken"),
        }
    }
}

impl<T> DerefMut for UserDataRefMut<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`: this is the only reference to the value while it lives.
        match unsafe { &mut *self.cell.as_ref().value.get() } {
            Some(v) => v,
            None => unreachable!("a borrowed userdata value is never taken"),
        }
    }
}

impl<T> Drop for UserDataRefMut<T> {
    fn drop(&mut self) {
        // SAFETY: as in `deref`.
        unsafe { self.cell.as_ref() }.borrow.set(0);
    }
}

impl<T: fmt::Debug> fmt::Debug for UserDataRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for UserDataRefMut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: 'static> FromLua for UserDataRef<T> {
    fn from_lua(value: Value, _: &Lua) -> Result<UserDataRef<T>> {
        match value {
            Value::UserData(u) => u.borrow(),
            other => Err(Error::from_lua_conversion(
                other.type_name(),
                "userdata",
                None,
            )),
        }
    }
}

impl<T: 'static> FromLua for UserDataRefMut<T> {
    fn from_lua(value: Value, _: &Lua) -> Result<UserDataRefMut<T>> {
        match value {
            Value::UserData(u) => u.borrow_mut(),
            other => Err(Error::from_lua_conversion(
                other.type_name(),
                "userdata",
                None,
            )),
        }
    }
}

type FieldGet = Box<dyn Fn(&Lua, AnyUserData) -> Result<Value>>;
type FieldSet = Box<dyn Fn(&Lua, AnyUserData, Value) -> Result<()>>;
type MakeValue = Box<dyn Fn(&Lua) -> Result<Value>>;

/// What a type's `add_fields` and `add_methods` declared.
struct Registry<T> {
    getters: Vec<(std::string::String, FieldGet)>,
    setters: Vec<(std::string::String, FieldSet)>,
    statics: Vec<(std::string::String, MakeValue)>,
    methods: Vec<(std::string::String, Box<Callback>)>,
    meta: Vec<(std::string::String, Box<Callback>)>,
    meta_fields: Vec<(std::string::String, MakeValue)>,
    _t: PhantomData<T>,
}

/// The object argument of a method: the first value, a userdata holding a `T`.
fn self_arg(args: &mut MultiValue, name: &str) -> Result<AnyUserData> {
    match args.pop_front() {
        Some(Value::UserData(u)) => Ok(u),
        other => Err(Error::BadArgument {
            to: Some(name.to_string()),
            pos: 1,
            name: Some("self".into()),
            cause: std::sync::Arc::new(Error::from_lua_conversion(
                other.as_ref().map_or("no value", Value::type_name),
                "userdata",
                None,
            )),
        }),
    }
}

/// Names the method in an argument error and counts `self` in the position.
fn method_arg_error(e: Error, name: &str, shift: usize) -> Error {
    match e {
        Error::BadArgument {
            pos,
            name: n,
            cause,
            ..
        } => Error::BadArgument {
            to: Some(name.to_string()),
            pos: pos + shift,
            name: n,
            cause,
        },
        e => e,
    }
}

impl<T: 'static> Registry<T> {
    fn new() -> Registry<T> {
        Registry {
            getters: Vec::new(),
            setters: Vec::new(),
            statics: Vec::new(),
            methods: Vec::new(),
            meta: Vec::new(),
            meta_fields: Vec::new(),
            _t: PhantomData,
        }
    }

    fn method<M, A, R>(name: &str, method: M) -> Box<Callback>
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        Box::new(move |lua, mut args| {
            let ud = self_arg(&mut args, &name)?;
            let this = ud.borrow::<T>()?;
            let a = A::from_lua_multi(args, lua).map_err(|e| method_arg_error(e, &name, 1))?;
            method(lua, &this, a)?.into_lua_multi(lua)
        })
    }

    fn method_mut<M, A, R>(name: &str, method: M) -> Box<Callback>
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        let method = RefCell::new(method);
        Box::new(move |lua, mut args| {
            let ud = self_arg(&mut args, &name)?;
            let mut this = ud.borrow_mut::<T>()?;
            let a = A::from_lua_multi(args, lua).map_err(|e| method_arg_error(e, &name, 1))?;
            let mut m = method
                .try_borrow_mut()
                .map_err(|_| Error::RecursiveMutCallback)?;
            (m)(lua, &mut this, a)?.into_lua_multi(lua)
        })
    }

    fn function<F, A, R>(name: &str, function: F) -> Box<Callback>
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        Box::new(move |lua, args| {
            let a = A::from_lua_multi(args, lua).map_err(|e| method_arg_error(e, &name, 0))?;
            function(lua, a)?.into_lua_multi(lua)
        })
    }
}

impl<T: 'static> UserDataFields<T> for Registry<T> {
    fn add_field<V>(&mut self, name: impl ToString, value: V)
    where
        V: IntoLua + Clone + 'static,
    {
        self.statics.push((
            name.to_string(),
            Box::new(move |lua| value.clone().into_lua(lua)),
        ));
    }

    fn add_field_method_get<M, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T) -> Result<R> + 'static,
        R: IntoLua,
    {
        self.getters.push((
            name.to_string(),
            Box::new(move |lua, ud| {
                let this = ud.borrow::<T>()?;
                method(lua, &this)?.into_lua(lua)
            }),
        ));
    }

    fn add_field_method_set<M, A>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<()> + 'static,
        A: FromLua,
    {
        let method = RefCell::new(method);
        self.setters.push((
            name.to_string(),
            Box::new(move |lua, ud, v| {
                let mut this = ud.borrow_mut::<T>()?;
                let a = A::from_lua(v, lua)?;
                let mut m = method
                    .try_borrow_mut()
                    .map_err(|_| Error::RecursiveMutCallback)?;
                (m)(lua, &mut this, a)
            }),
        ));
    }

    fn add_field_function_get<F, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, AnyUserData) -> Result<R> + 'static,
        R: IntoLua,
    {
        self.getters.push((
            name.to_string(),
            Box::new(move |lua, ud| function(lua, ud)?.into_lua(lua)),
        ));
    }

    fn add_field_function_set<F, A>(&mut self, name: impl ToString, function: F)
    where
        F: FnMut(&Lua, AnyUserData, A) -> Result<()> + 'static,
        A: FromLua,
    {
        let function = RefCell::new(function);
        self.setters.push((
            name.to_string(),
            Box::new(move |lua, ud, v| {
                let a = A::from_lua(v, lua)?;
                let mut f = function
                    .try_borrow_mut()
                    .map_err(|_| Error::RecursiveMutCallback)?;
                (f)(lua, ud, a)
            }),
        ));
    }

    fn add_meta_field<V>(&mut self, name: impl ToString, value: V)
    where
        V: IntoLua + Clone + 'static,
    {
        self.meta_fields.push((
            name.to_string(),
            Box::new(move |lua| value.clone().into_lua(lua)),
        ));
    }
}

impl<T: 'static> UserDataMethods<T> for Registry<T> {
    fn add_method<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        let cb = Self::method(&name, method);
        self.methods.push((name, cb));
    }

    fn add_method_mut<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        let cb = Self::method_mut(&name, method);
        self.methods.push((name, cb));
    }

    fn add_function<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        let cb = Self::function(&name, function);
        self.methods.push((name, cb));
    }

    fn add_function_mut<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        let f = RefCell::new(function);
        let cb = Self::function(&name, move |lua, a: A| {
            let mut f = f
                .try_borrow_mut()
                .map_err(|_| Error::RecursiveMutCallback)?;
            (f)(lua, a)
        });
        self.methods.push((name, cb));
    }

    fn add_meta_method<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        let cb = Self::method(&name, method);
        self.meta.push((name, cb));
    }

    fn add_meta_method_mut<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        let cb = Self::method_mut(&name, method);
        self.meta.push((name, cb));
    }

    fn add_meta_function<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        let cb = Self::function(&name, function);
        self.meta.push((name, cb));
    }

    fn add_meta_function_mut<F, A, R>(&mut self, name: impl ToString, mut function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let name = name.to_string();
        let f = mut_callback(move |lua: &Lua, args: MultiValue| {
            let a = A::from_lua_multi(args, lua)?;
            function(lua, a)?.into_lua_multi(lua)
        });
        self.meta.push((name, Box::new(f)));
    }
}

/// The shared metatable of userdata holding a `T` (made once per state).
fn metatable_for<T: UserData + 'static>(lua: &Lua) -> Result<Table> {
    let id = TypeId::of::<T>();
    if let Some(&slot) = lua.inner.ud_meta.borrow().get(&id) {
        lua.inner.roots.retain(slot);
        return Ok(Table(ValueRef {
            lua: lua.weak(),
            slot,
        }));
    }
    let mut reg = Registry::<T>::new();
    T::add_fields(&mut reg);
    T::add_methods(&mut reg);
    let Registry {
        getters,
        setters,
        statics,
        methods,
        meta,
        meta_fields,
        ..
    } = reg;

    let mt = lua.create_table()?;
    for (name, make) in meta_fields {
        mt.raw_set(name, make(lua)?)?;
    }
    let mut user_index = None;
    let mut user_newindex = None;
    for (name, cb) in meta {
        let f = create_callback(lua, cb)?;
        match name.as_str() {
            "__index" => user_index = Some(f),
            "__newindex" => user_newindex = Some(f),
            _ => mt.raw_set(name, f)?,
        }
    }
    let method_table = lua.create_table()?;
    for (name, make) in statics {
        method_table.raw_set(name, make(lua)?)?;
    }
    for (name, cb) in methods {
        method_table.raw_set(name, create_callback(lua, cb)?)?;
    }
    if getters.is_empty() && user_index.is_none() {
        mt.raw_set("__index", method_table)?;
    } else {
        let getters: HashMap<Vec<u8>, FieldGet> = getters
            .into_iter()
            .map(|(k, g)| (k.into_bytes(), g))
            .collect();
        let index = create_callback(
            lua,
            Box::new(move |lua, mut args: MultiValue| {
                let obj = args.pop_front().unwrap_or(Value::Nil);
                let key = args.pop_front().unwrap_or(Value::Nil);
                if let (Value::UserData(ud), Value::String(k)) = (&obj, &key) {
                    if let Some(g) = getters.get(&k.to_vec()) {
                        return g(lua, ud.clone())?.into_lua_multi(lua);
                    }
                }
                let v: Value = method_table.raw_get(key.clone())?;
                if !v.is_nil() {
                    return v.into_lua_multi(lua);
                }
                match &user_index {
                    Some(f) => f.call::<MultiValue>((obj, key)),
                    None => Ok(MultiValue::new()),
                }
            }),
        )?;
        mt.raw_set("__index", index)?;
    }
    if !setters.is_empty() || user_newindex.is_some() {
        let setters: HashMap<Vec<u8>, FieldSet> = setters
            .into_iter()
            .map(|(k, s)| (k.into_bytes(), s))
            .collect();
        let newindex = create_callback(
            lua,
            Box::new(move |lua, mut args: MultiValue| {
                let obj = args.pop_front().unwrap_or(Value::Nil);
                let key = args.pop_front().unwrap_or(Value::Nil);
                let val = args.pop_front().unwrap_or(Value::Nil);
                if let (Value::UserData(ud), Value::String(k)) = (&obj, &key) {
                    if let Some(s) = setters.get(&k.to_vec()) {
                        s(lua, ud.clone(), val)?;
                        return Ok(MultiValue::new());
                    }
                }
                match &user_newindex {
                    Some(f) => f.call::<MultiValue>((obj, key, val)),
                    None => Err(Error::runtime(format!(
                        "attempt to assign to an unknown field '{}' of a {}",
                        key.to_string().unwrap_or_default(),
                        short_type_name::<T>()
                    ))),
                }
            }),
        )?;
        mt.raw_set("__newindex", newindex)?;
    }
    if mt.raw_get::<Value>("__name")?.is_nil() {
        mt.raw_set("__name", short_type_name::<T>())?;
    }
    lua.inner.roots.retain(mt.0.slot);
    lua.inner.ud_meta.borrow_mut().insert(id, mt.0.slot);
    Ok(mt)
}

/// `T`'s name without its module path (`"Counter"`, `"Vec<Point>"` keeps its generics).
fn short_type_name<T>() -> std::string::String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let short = base.rsplit("::").next().unwrap_or(base);
    format!("{}{}", short, &full[base.len()..])
}

impl Lua {
    /// A new userdata holding `data`, with the fields, methods and metamethods `T`
    /// declares. The value is dropped when the userdata is collected (or the state closed).
    pub fn create_userdata<T: UserData + 'static>(&self, data: T) -> Result<AnyUserData> {
        let mt = metatable_for::<T>(self)?;
        let mut data = Some(data);
        let v = self.with_vm(|inner, vm| {
            vm.gc_check_limit().map_err(|e| inner.error_from(vm, e))?;
            let Raw::Table(m) = inner.raw_ref(&mt.0)? else {
                return Err(Error::runtime("a userdata metatable is not a table"));
            };
            let Some(d) = data.take() else {
                return Err(Error::runtime("userdata value already used"));
            };
            let mut ud = RawUserData::with_payload(UdCell::new(d));
            ud.metatable = Some(m);
            let u = vm.heap.new_userdata(ud);
            Ok(inner.wrap(Raw::UserData(u)))
        })?;
        match v {
            Value::UserData(u) => Ok(u),
            _ => Err(Error::runtime("a userdata was not made")),
        }
    }
}

//! [`String`]: a handle to a Lua string (bytes, not necessarily UTF-8).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;

use hotlua_vm::Value as Raw;

use crate::error::{Error, Result};
use crate::state::{Lua, ValueRef};

/// A Lua string. Lua strings are byte strings; [`String::to_str`] checks UTF-8.
///
/// ```
/// use hotlua::Lua;
/// let lua = Lua::new();
/// let s = lua.create_string("hé").unwrap();
/// assert_eq!(&*s.to_str().unwrap(), "hé");
/// assert_eq!(s.as_bytes().len(), 3);
/// let bin = lua.create_string(b"\xff\x00").unwrap();
/// assert!(bin.to_str().is_err());
/// assert_eq!(bin.to_string_lossy(), "\u{fffd}\u{0}");
/// ```
#[derive(Clone)]
pub struct String(pub(crate) ValueRef);

/// A string's text, borrowed from its handle. It keeps the state alive while it exists.
///
/// The text is held as a raw pointer, not a reference: dropping the borrow may close the
/// state (it can hold the last strong reference), which frees the text, and a reference
/// field would still be asserted valid for the whole drop.
pub struct BorrowedStr<'a> {
    s: NonNull<str>,
    _lua: Lua,
    _borrow: PhantomData<&'a str>,
}

/// A string's bytes, borrowed from its handle. It keeps the state alive while it exists
/// (the bytes are held as for [`BorrowedStr`]).
pub struct BorrowedBytes<'a> {
    b: NonNull<[u8]>,
    _lua: Lua,
    _borrow: PhantomData<&'a [u8]>,
}

impl Deref for BorrowedStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        // SAFETY: the text lives in a string rooted by the handle this borrows (for 'a) in
        // a heap `_lua` keeps alive for as long as `self` exists.
        unsafe { self.s.as_ref() }
    }
}

impl AsRef<str> for BorrowedStr<'_> {
    fn as_ref(&self) -> &str {
        self
    }
}

impl fmt::Display for BorrowedStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for BorrowedStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq<str> for BorrowedStr<'_> {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl PartialEq<&str> for BorrowedStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl Deref for BorrowedBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: as for `BorrowedStr::deref`.
        unsafe { self.b.as_ref() }
    }
}

impl AsRef<[u8]> for BorrowedBytes<'_> {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl String {
    /// The bytes, tied to this handle and to a strong reference to the state.
    fn bytes(&self) -> Result<(&[u8], Lua)> {
        let lua = self.0.lua()?;
        let raw = lua.inner.raw_ref(&self.0)?;
        let Raw::Str(s) = raw else {
            return Err(Error::runtime("a string handle names a non-string"));
        };
        let bytes: *const [u8] = s.get().as_bytes();
        // SAFETY: the string is rooted by this handle's slot for as long as `&self` lives
        // (slots of string handles are never reassigned), Lua strings are immutable and the
        // collector never moves objects, and the returned `Lua` keeps the heap alive; the
        // caller ties the slice to `&self` and keeps that `Lua` beside it.
        Ok((unsafe { &*bytes }, lua))
    }

    /// The text, if the bytes are valid UTF-8.
    pub fn to_str(&self) -> Result<BorrowedStr<'_>> {
        let (b, lua) = self.bytes()?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(BorrowedStr {
                s: NonNull::from(s),
                _lua: lua,
                _borrow: PhantomData,
            }),
            Err(e) => Err(Error::from_lua_conversion(
                "string",
                "&str",
                Some(e.to_string()),
            )),
        }
    }

    /// The text with invalid UTF-8 sequences replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> std::string::String {
        match self.bytes() {
            Ok((b, _)) => std::string::String::from_utf8_lossy(b).into_owned(),
            Err(_) => std::string::String::new(),
        }
    }

    /// The bytes.
    pub fn as_bytes(&self) -> BorrowedBytes<'_> {
        match self.bytes() {
            Ok((b, lua)) => BorrowedBytes {
                b: NonNull::from(b),
                _lua: lua,
                _borrow: PhantomData,
            },
            Err(_) => panic!("the Lua state this string belongs to is closed"),
        }
    }

    /// The bytes, copied.
    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes().map(|(b, _)| b.to_vec()).unwrap_or_default()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes().map_or(0, |(b, _)| b.len())
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The string object's address.
    pub fn to_pointer(&self) -> *const std::ffi::c_void {
        self.0.pointer() as *const std::ffi::c_void
    }
}

impl PartialEq for String {
    /// Same bytes.
    fn eq(&self, other: &String) -> bool {
        match (self.bytes(), other.bytes()) {
            (Ok((a, _)), Ok((b, _))) => a == b,
            _ => false,
        }
    }
}

impl PartialEq<str> for String {
    fn eq(&self, other: &str) -> bool {
        self.bytes().is_ok_and(|(b, _)| b == other.as_bytes())
    }
}

impl PartialEq<&str> for String {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq<[u8]> for String {
    fn eq(&self, other: &[u8]) -> bool {
        self.bytes().is_ok_and(|(b, _)| b == other)
    }
}

impl fmt::Debug for String {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.bytes() {
            Ok((b, _)) => match std::str::from_utf8(b) {
                Ok(s) => fmt::Debug::fmt(s, f),
                Err(_) => write!(f, "{:?}", bstr_escape(b)),
            },
            Err(_) => write!(f, "<closed>"),
        }
    }
}

impl fmt::Display for String {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

fn bstr_escape(b: &[u8]) -> std::string::String {
    b.iter()
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect()
}

//! The hash part of a table: a power-of-two node array with collision chains threaded through
//! the nodes and a free pointer that only moves down (Brent's variation, as PUC's ltable.c).
//!
//! Invariants:
//! - A key lives in its main position or in a node reachable by `next` links from it.
//! - Assigning an existing key (including to nil) never moves nodes, so `next` order is
//!   stable during a traversal; removed entries keep their key with a nil value.
//! - A node whose value is nil and whose key is collectable may be *dead*: the collector has
//!   stopped keeping the key alive, so the key is never dereferenced again; it only matches a
//!   `next` argument by identity (same tag and bits).
//! - `key == Nil` marks a never-used node: the only kind the free pointer hands out.

use std::cell::Cell;

use crate::gc::Gc;
use crate::string::LuaStr;
use crate::value::Value;

pub(super) const NONE: u32 = u32::MAX;

/// One slot of the hash part.
pub(crate) struct Node {
    pub(super) key: Value,
    pub(super) val: Value,
    /// Next node of the collision chain, or `NONE`.
    pub(super) next: u32,
    /// Key no longer kept alive by the collector (see the module invariant). A `Cell` so the
    /// tracer, which only has `&Table`, can set it.
    pub(super) dead: Cell<bool>,
}

impl Node {
    #[inline]
    fn empty() -> Node {
        Node {
            key: Value::Nil,
            val: Value::Nil,
            next: NONE,
            dead: Cell::new(false),
        }
    }
}

/// The node array.
#[derive(Default)]
pub(crate) struct HashPart {
    /// A boxed slice, not a Vec: it never grows in place (resizing rebuilds it), and the
    /// smaller handle keeps `Table` at 64 bytes.
    pub(super) nodes: Box<[Node]>,
    /// All nodes at or above this index are in use; free nodes are searched below it.
    last_free: u32,
}

/// Does the stored (live) key `stored` equal the normalised lookup key `key`?
#[inline]
fn key_matches(stored: &Value, key: &Value) -> bool {
    match (*stored, *key) {
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Str(a), Value::Str(b)) => crate::string::str_eq(a, b),
        (Value::Float(a), Value::Float(b)) => a == b,
        (Value::Nil, _) => false,
        (a, b) => a.raw_eq(&b),
    }
}

impl HashPart {
    /// A hash part with room for `n` keys (rounded up to a power of two; 0 stays empty).
    pub(super) fn with_capacity(n: usize) -> HashPart {
        match HashPart::try_with_capacity(n) {
            Some(h) => h,
            None => std::alloc::handle_alloc_error(std::alloc::Layout::new::<Node>()),
        }
    }

    /// As `with_capacity`, or `None` when the memory cannot be had.
    pub(super) fn try_with_capacity(n: usize) -> Option<HashPart> {
        if n == 0 {
            return Some(HashPart::default());
        }
        let size = n.checked_next_power_of_two()?;
        let mut nodes = Vec::new();
        nodes.try_reserve_exact(size).ok()?;
        nodes.resize_with(size, Node::empty);
        Some(HashPart {
            nodes: nodes.into_boxed_slice(),
            last_free: size as u32,
        })
    }

    #[inline(always)]
    pub(super) fn len(&self) -> usize {
        self.nodes.len()
    }

    #[inline(always)]
    fn mask(&self) -> usize {
        self.nodes.len() - 1
    }

    /// Main position of a (live, normalised) key. Requires a non-empty node array.
    #[inline(always)]
    pub(super) fn main_pos(&self, key: &Value) -> usize {
        match *key {
            Value::Int(i) => self.int_pos(i),
            _ => (key.hash64() as usize) & self.mask(),
        }
    }

    /// Main position of an integer key: modulo an odd number, as Lua does. Nearby keys land in
    /// nearby nodes (cache friendly for dense-ish integer keys), while strided keys such as
    /// multiples of a power of two still spread over every node.
    #[inline(always)]
    fn int_pos(&self, i: i64) -> usize {
        ((i as u64) % ((self.mask() as u64) | 1)) as usize
    }

    /// Node index holding integer key `i`.
    #[inline]
    pub(super) fn find_int(&self, i: i64) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mut n = self.int_pos(i);
        loop {
            let node = &self.nodes[n];
            if let Value::Int(k) = node.key {
                if k == i {
                    return Some(n);
                }
            }
            if node.next == NONE {
                return None;
            }
            n = node.next as usize;
        }
    }

    /// Node index holding string key `s`: a pointer compare for interned strings. Small and
    /// inlined (the hot path of field access); long strings take an out-of-line path.
    #[inline(always)]
    pub(super) fn find_str(&self, s: Gc<LuaStr>) -> Option<usize> {
        let nodes = &self.nodes[..];
        if nodes.is_empty() {
            return None;
        }
        let sr = s.get();
        if !sr.is_short() {
            return self.find_long_str(s);
        }
        let mut n = sr.hash() as usize & (nodes.len() - 1);
        loop {
            let node = &nodes[n];
            if let Value::Str(k) = node.key {
                if k == s && !node.dead.get() {
                    return Some(n);
                }
            }
            if node.next == NONE {
                return None;
            }
            n = node.next as usize;
        }
    }

    /// The value stored under string key `s` (nil if absent).
    #[inline(always)]
    pub(super) fn get_str(&self, s: Gc<LuaStr>) -> Value {
        match self.find_str(s) {
            Some(n) => self.nodes[n].val,
            None => Value::Nil,
        }
    }

    #[inline(never)]
    fn find_long_str(&self, s: Gc<LuaStr>) -> Option<usize> {
        let mut n = s.get().hash() as usize & self.mask();
        loop {
            let node = &self.nodes[n];
            if let Value::Str(k) = node.key {
                if !node.dead.get() && crate::string::str_eq(k, s) {
                    return Some(n);
                }
            }
            if node.next == NONE {
                return None;
            }
            n = node.next as usize;
        }
    }

    /// Node index holding any normalised, non-nil, non-NaN key.
    #[inline]
    pub(super) fn find(&self, key: &Value) -> Option<usize> {
        match *key {
            Value::Int(i) => self.find_int(i),
            Value::Str(s) => self.find_str(s),
            _ => {
                if self.nodes.is_empty() {
                    return None;
                }
                let mut n = self.main_pos(key);
                loop {
                    let node = &self.nodes[n];
                    if !node.dead.get() && key_matches(&node.key, key) {
                        return Some(n);
                    }
                    if node.next == NONE {
                        return None;
                    }
                    n = node.next as usize;
                }
            }
        }
    }

    /// Node index of a dead key identical to `key` (for `next` after a collection cleared the
    /// entry being visited). `key` itself is live: it came from the caller.
    pub(super) fn find_dead(&self, key: &Value) -> Option<usize> {
        if self.nodes.is_empty() || !key.is_collectable() {
            return None;
        }
        let mut n = self.main_pos(key);
        loop {
            let node = &self.nodes[n];
            if node.dead.get() && node.key.raw_identical(key) {
                return Some(n);
            }
            if node.next == NONE {
                return None;
            }
            n = node.next as usize;
        }
    }

    #[inline]
    fn free_pos(&mut self) -> Option<usize> {
        while self.last_free > 0 {
            self.last_free -= 1;
            if self.nodes[self.last_free as usize].key.is_nil() {
                return Some(self.last_free as usize);
            }
        }
        None
    }

    /// Insert a key known to be absent. Returns false (and changes nothing) when there is no
    /// free node: the table must rehash.
    pub(super) fn insert_new(&mut self, key: Value, val: Value) -> bool {
        if self.nodes.is_empty() {
            return false;
        }
        let mut mp = self.main_pos(&key);
        if !self.nodes[mp].val.is_nil() {
            // Main position taken by a live entry.
            let Some(f) = self.free_pos() else {
                return false;
            };
            // Its key is live (value non-nil), so hashing it is safe.
            let other = self.main_pos(&self.nodes[mp].key);
            if other != mp {
                // The occupant is a colliding key out of its own main position: move it to
                // the free node and give the new key its main position.
                let mut prev = other;
                while self.nodes[prev].next as usize != mp {
                    prev = self.nodes[prev].next as usize;
                }
                self.nodes[prev].next = f as u32;
                let moved = std::mem::replace(&mut self.nodes[mp], Node::empty());
                self.nodes[f] = moved;
            } else {
                // The occupant is in its main position: chain the new key after it.
                self.nodes[f].next = self.nodes[mp].next;
                self.nodes[mp].next = f as u32;
                mp = f;
            }
        }
        let node = &mut self.nodes[mp];
        node.key = key;
        node.dead.set(false);
        node.val = val;
        true
    }

    /// Bytes owned by the node array.
    pub(super) fn bytes(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Node>()
    }
}

//! Lua strings: immutable byte strings (not necessarily UTF-8) with a hash computed once, with
//! the heap's seed. Short strings (<= `MAX_SHORT_LEN` bytes) are interned: two short strings
//! with the same bytes are the same object, so comparing them is a pointer compare. Long
//! strings are compared by content. The interner holds its strings weakly: the collector
//! unlinks dead ones before the sweep frees them.

use std::fmt;

use crate::gc::{Gc, Marker, Trace};

/// The longest string Lua may make (a C `int` of bytes, as lstrlib's `MAXSIZE`).
pub const MAX_STRING_LEN: usize = i32::MAX as usize;

/// Longest string that is interned (LUAI_MAXSHORTLEN).
pub const MAX_SHORT_LEN: usize = 40;

/// An immutable Lua string.
pub struct LuaStr {
    hash: u32,
    short: bool,
    bytes: Bytes,
}

/// Bytes stored inside the object (most strings then cost one allocation).
const INLINE: usize = 30;

/// A string's bytes: inline when short enough, else a vector. 32 bytes either way.
enum Bytes {
    Inline { len: u8, data: [u8; INLINE] },
    Heap(Vec<u8>),
}

impl Bytes {
    #[inline]
    fn from_slice(b: &[u8]) -> Bytes {
        if b.len() <= INLINE {
            let mut data = [0u8; INLINE];
            data[..b.len()].copy_from_slice(b);
            Bytes::Inline {
                len: b.len() as u8,
                data,
            }
        } else {
            Bytes::Heap(b.to_vec())
        }
    }

    #[inline(always)]
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Inline { len, data } => &data[..*len as usize],
            Bytes::Heap(v) => v,
        }
    }
}

impl LuaStr {
    pub(crate) fn new_hashed(bytes: &[u8], hash: u32, short: bool) -> LuaStr {
        LuaStr {
            hash,
            short,
            bytes: Bytes::from_slice(bytes),
        }
    }

    /// A long string owning `bytes` (no copy).
    pub(crate) fn from_vec_hashed(bytes: Vec<u8>, hash: u32) -> LuaStr {
        LuaStr {
            hash,
            short: false,
            bytes: Bytes::Heap(bytes),
        }
    }

    /// The bytes.
    #[inline(always)]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    /// Length in bytes.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Empty string?
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The precomputed (seeded) hash.
    #[inline(always)]
    pub fn hash(&self) -> u32 {
        self.hash
    }

    /// Interned (short) string? Two interned strings are equal iff they are the same object.
    #[inline(always)]
    pub fn is_short(&self) -> bool {
        self.short
    }

    /// The contents as `&str` if they are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }

    /// The contents as text, invalid UTF-8 replaced (for messages and debugging).
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

/// String equality as Lua defines it: same object, or both long with the same bytes.
#[inline]
pub fn str_eq(a: Gc<LuaStr>, b: Gc<LuaStr>) -> bool {
    if a == b {
        return true;
    }
    let (x, y) = (a.get(), b.get());
    // Equal contents imply equal length, so if one is short both are, and interned strings
    // with different addresses differ.
    !x.short && x.hash == y.hash && x.as_bytes() == y.as_bytes()
}

impl Trace for LuaStr {
    fn trace(&self, _m: &mut Marker) {}
    fn extra_bytes(&self) -> usize {
        match &self.bytes {
            Bytes::Inline { .. } => 0,
            Bytes::Heap(v) => v.capacity(),
        }
    }
}

impl fmt::Debug for LuaStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_str_lossy())
    }
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Seeded hash of a byte string: word at a time, then a final avalanche.
fn hash_bytes(seed: u64, b: &[u8]) -> u32 {
    let mut h = seed ^ (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(23) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = 0u64;
        for (i, &x) in rest.iter().enumerate() {
            w |= (x as u64) << (8 * i);
        }
        h = (h.rotate_left(23) ^ w).wrapping_mul(K);
    }
    h ^= h >> 32;
    h = h.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^= h >> 29;
    h as u32
}

/// One slot of the interner: the string's hash kept next to the pointer, so probing
/// compares hashes without touching the (cold) string objects.
#[derive(Clone, Copy)]
struct Slot {
    hash: u32,
    s: Option<Gc<LuaStr>>,
}

const EMPTY: Slot = Slot { hash: 0, s: None };

/// The weak set of short strings: open addressing with linear probing, at most 3/4 full.
/// Dead strings are removed by the sweep as it frees them (`remove`).
pub(crate) struct Interner {
    seed: u64,
    slots: Vec<Slot>,
    count: usize,
}

/// Smallest slot count.
const MIN_SLOTS: usize = 256;

impl Interner {
    pub(crate) fn new(seed: u64) -> Interner {
        Interner {
            seed,
            slots: vec![EMPTY; MIN_SLOTS],
            count: 0,
        }
    }

    #[inline]
    pub(crate) fn hash(&self, bytes: &[u8]) -> u32 {
        hash_bytes(self.seed, bytes)
    }

    pub(crate) fn find(&self, bytes: &[u8], hash: u32) -> Option<Gc<LuaStr>> {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            let s = slot.s?;
            if slot.hash == hash && s.get().as_bytes() == bytes {
                return Some(s);
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn insert(&mut self, s: Gc<LuaStr>) {
        if (self.count + 1) * 4 > self.slots.len() * 3 {
            self.grow(self.slots.len() * 2);
        }
        Self::place(&mut self.slots, s.get().hash, s);
        self.count += 1;
    }

    fn place(slots: &mut [Slot], hash: u32, s: Gc<LuaStr>) {
        let mask = slots.len() - 1;
        let mut i = hash as usize & mask;
        while slots[i].s.is_some() {
            i = (i + 1) & mask;
        }
        slots[i] = Slot { hash, s: Some(s) };
    }

    /// Move every string into a table of `n` slots (hashes are kept: no string is read).
    fn grow(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; n]);
        for slot in old {
            if let Some(s) = slot.s {
                Self::place(&mut self.slots, slot.hash, s);
            }
        }
    }

    /// Forgets the string at `addr` with hash `hash`: the sweep calls this as it frees a
    /// dead short string, so a collection costs the interner one probe per dead string
    /// instead of a look at every live one. Linear probing with backward-shift deletion:
    /// later entries of the cluster move back into the hole when their home slot allows,
    /// so no probe ever stops at a gap inside a cluster (and no tombstones build up).
    pub(crate) fn remove(&mut self, addr: usize, hash: u32) {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i].s {
                None => return, // not interned (cannot happen for a short string)
                Some(s) if s.addr() == addr => break,
                Some(_) => i = (i + 1) & mask,
            }
        }
        let mut hole = i;
        let mut j = (i + 1) & mask;
        while self.slots[j].s.is_some() {
            let home = self.slots[j].hash as usize & mask;
            // The entry may fill the hole if the hole lies on its probe path (home..=j).
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.slots[hole] = self.slots[j];
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.slots[hole] = EMPTY;
        self.count -= 1;
    }

    /// After a sweep: a table four times bigger than its strings need is rebuilt smaller
    /// (from the kept hashes: no string is read).
    pub(crate) fn shrink_if_sparse(&mut self) {
        let n = (self.count * 2).next_power_of_two().max(MIN_SLOTS);
        if n * 4 <= self.slots.len() {
            self.grow(n);
        }
    }

    /// Number of interned strings.
    #[allow(dead_code)]
    pub(crate) fn len(&self) -> usize {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gc::Heap;

    #[test]
    fn short_strings_are_interned_up_to_40_bytes() {
        let mut h = Heap::with_seed(1);
        let s40 = vec![b'a'; MAX_SHORT_LEN];
        let s41 = vec![b'a'; MAX_SHORT_LEN + 1];
        assert_eq!(h.new_str(&s40), h.new_str(&s40));
        assert!(h.new_str(&s40).get().is_short());
        assert_ne!(h.new_str(&s41), h.new_str(&s41));
        assert!(!h.new_str(&s41).get().is_short());
        assert!(str_eq(h.new_str(&s41), h.new_str(&s41)));
        assert!(!str_eq(h.new_str(&s41), h.new_str(&s40)));
    }

    #[test]
    fn bytes_are_not_utf8_and_may_hold_zeros() {
        let mut h = Heap::with_seed(2);
        let raw = [0u8, 0xff, b'x', 0, 0xc3];
        let s = h.new_str(&raw);
        assert_eq!(s.get().as_bytes(), &raw);
        assert_eq!(s.get().len(), 5);
        assert!(s.get().as_str().is_none());
        assert_ne!(h.new_str(b"a\0b"), h.new_str(b"a\0c"));
        assert!(h.new_str(b"").get().is_empty());
        // Inline/out-of-line boundary keeps the contents.
        for n in [0, 1, 29, 30, 31, 40, 41, 1000] {
            let v: Vec<u8> = (0..n).map(|i| i as u8).collect();
            assert_eq!(h.new_str(&v).get().as_bytes(), &v[..]);
        }
    }

    /// Dead strings leave the interner during the sweep (backward-shift deletion inside
    /// clusters): every survivor is still found as the same object, every dead one is made
    /// afresh, and the count matches, over several collections of a crowded table.
    #[test]
    fn collections_remove_exactly_the_dead_strings() {
        let mut h = Heap::with_seed(7);
        let base = h.strings.len();
        let mut live: Vec<(Vec<u8>, Gc<LuaStr>)> = Vec::new();
        for round in 0..4u32 {
            // ~180 new strings per round in a table of a few hundred slots: long clusters.
            for i in 0..180u32 {
                let b = format!("s{round}_{i}").into_bytes();
                let g = h.new_str(&b);
                live.push((b, g));
            }
            // Keep every third string, in an order unrelated to the table's.
            let mut n = 0;
            live.retain(|_| {
                n += 1;
                n % 3 == 0
            });
            let keep: Vec<Gc<LuaStr>> = live.iter().map(|(_, g)| *g).collect();
            h.collect(|m| {
                for g in &keep {
                    m.mark(*g);
                }
            });
            assert_eq!(h.strings.len(), base + live.len());
            for (b, g) in &live {
                assert!(h.new_str(b) == *g, "a survivor must still be interned");
            }
            assert_eq!(h.strings.len(), base + live.len());
        }
        // A dead string's bytes intern to a fresh, findable object.
        let again = h.new_str(b"s0_0");
        assert!(h.new_str(b"s0_0") == again);
    }

    #[test]
    fn string_object_size() {
        assert_eq!(std::mem::size_of::<LuaStr>(), 40);
    }

    #[test]
    fn hash_is_seeded_and_spreads() {
        let a = hash_bytes(1, b"hello");
        assert_eq!(a, hash_bytes(1, b"hello"));
        assert_ne!(a, hash_bytes(2, b"hello"), "seed changes the hash");
        // Strings differing only in one byte or in length spread over many buckets.
        let mut buckets = std::collections::HashSet::new();
        for i in 0..1000 {
            buckets.insert(hash_bytes(7, format!("key{i}").as_bytes()) & 1023);
        }
        assert!(
            buckets.len() > 550,
            "{} distinct buckets of 1024",
            buckets.len()
        );
        assert_ne!(hash_bytes(7, b"a"), hash_bytes(7, b"a\0"));
    }
}

//! The per-chunk string table: every name and string literal of a chunk is interned once, so
//! the syntax tree carries a `Copy` [`Sym`] instead of an owned string, and the code
//! generator compares and looks up names as integers.
//!
//! Invariants: a [`Sym`] indexes `spans`, whose byte ranges lie in `bytes`; equal byte
//! strings get the same `Sym`; the first entries are the [`Sym`] constants below, at fixed
//! ids, so the compiler can name them without a lookup.

/// An interned byte string of one chunk (an index into its [`Strings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

impl Sym {
    /// `const` (a local's attribute).
    pub const CONST: Sym = Sym(0);
    /// `close` (a local's attribute).
    pub const CLOSE: Sym = Sym(1);
    /// `_ENV`.
    pub const ENV: Sym = Sym(2);
    /// `self` (the implicit parameter of methods).
    pub const SELF: Sym = Sym(3);
    /// `break`: the label of a loop's exit (never a user's label: it is a keyword).
    pub const BREAK: Sym = Sym(4);
    /// `(for state)`: the hidden control variables of `for` loops (never a Lua name).
    pub const FOR_STATE: Sym = Sym(5);

    /// The id as an index.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

const PREDEFINED: [&str; 6] = ["const", "close", "_ENV", "self", "break", "(for state)"];

/// A chunk's interned strings.
#[derive(Clone)]
pub struct Strings {
    /// The text of all strings, back to back.
    bytes: Vec<u8>,
    /// `(start, end)` of each string in `bytes`, indexed by [`Sym`].
    spans: Vec<(u32, u32)>,
    /// Open addressing: (`id + 1` of the string hashed there, 0 for an empty slot; the high
    /// 32 bits of its hash, to skip most byte compares).
    table: Vec<(u32, u32)>,
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries((0..self.len()).map(|i| String::from_utf8_lossy(self.get(Sym(i as u32)))))
            .finish()
    }
}

impl PartialEq for Strings {
    fn eq(&self, other: &Strings) -> bool {
        self.len() == other.len()
            && (0..self.len() as u32).all(|i| self.get(Sym(i)) == other.get(Sym(i)))
    }
}

impl Default for Strings {
    fn default() -> Strings {
        Strings::new()
    }
}

/// Byte string equality without a `memcmp` call: interned strings are mostly short names.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A fast hash of short byte strings (names): 8 bytes per step, multiplicative mixing.
#[inline]
fn hash(s: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (s.len() as u64).wrapping_mul(K);
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Byte by byte: a variable-length copy would be a `memcpy` call.
        let mut w = 0u64;
        for (i, &b) in rest.iter().enumerate() {
            w |= u64::from(b) << (8 * i);
        }
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

impl Strings {
    /// A table holding only the predefined strings.
    pub fn new() -> Strings {
        Strings::for_source(0)
    }

    /// A table holding only the predefined strings, sized for a chunk of `source_len`
    /// bytes so that lexing it rarely grows (and rehashes) the table: real code has about
    /// one distinct string per 40 to 50 bytes (a 1,000-function module: one per 49).
    pub fn for_source(source_len: usize) -> Strings {
        let expect = (source_len / 40).clamp(128, 1 << 16);
        let mut s = Strings {
            bytes: Vec::with_capacity(expect * 8),
            spans: Vec::with_capacity(expect),
            // Load factor at most one half.
            table: vec![(0, 0); (expect * 2).next_power_of_two()],
        };
        for p in PREDEFINED {
            s.intern(p.as_bytes());
        }
        s
    }

    /// An empty table without the predefined strings, allocating nothing: a stand-in left
    /// behind when a table is moved out (interning into it still works).
    pub fn placeholder() -> Strings {
        Strings {
            bytes: Vec::new(),
            spans: Vec::new(),
            table: Vec::new(),
        }
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Always false: the predefined strings are there.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The bytes of a string.
    #[inline]
    pub fn get(&self, s: Sym) -> &[u8] {
        let (a, b) = self.spans[s.index()];
        &self.bytes[a as usize..b as usize]
    }

    /// The text of a name (names are ASCII; other bytes show lossily, for messages).
    pub fn name(&self, s: Sym) -> std::borrow::Cow<'_, str> {
        let b = self.get(s);
        match std::str::from_utf8(b) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(b),
        }
    }

    /// Where `s` is or would go in `table`: `(slot index, its hash tag, the id if found)`.
    #[inline]
    fn probe(&self, s: &[u8]) -> (usize, u32, Option<Sym>) {
        let mask = self.table.len() - 1;
        let h = hash(s);
        let tag = (h >> 32) as u32;
        let mut i = h as usize & mask;
        loop {
            let (slot, t) = self.table[i];
            if slot == 0 {
                return (i, tag, None);
            }
            let id = Sym(slot - 1);
            if t == tag && same_bytes(self.get(id), s) {
                return (i, tag, Some(id));
            }
            i = (i + 1) & mask;
        }
    }

    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &[u8]) -> Sym {
        if self.table.is_empty() {
            self.table = vec![(0, 0); 16];
        }
        let (i, tag, found) = self.probe(s);
        if let Some(id) = found {
            return id;
        }
        let id = self.spans.len() as u32;
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s);
        self.spans.push((start, self.bytes.len() as u32));
        self.table[i] = (id + 1, tag);
        // Keep the load factor at or below one half.
        if self.spans.len() * 2 > self.table.len() {
            self.grow();
        }
        Sym(id)
    }

    /// The id of `s` if it is interned.
    pub fn lookup(&self, s: &[u8]) -> Option<Sym> {
        if self.table.is_empty() {
            return None;
        }
        self.probe(s).2
    }

    fn grow(&mut self) {
        let size = self.table.len() * 2;
        let mask = size - 1;
        let mut table = vec![(0u32, 0u32); size];
        for id in 0..self.spans.len() {
            let h = hash(self.get(Sym(id as u32)));
            let mut i = h as usize & mask;
            while table[i].0 != 0 {
                i = (i + 1) & mask;
            }
            table[i] = (id as u32 + 1, (h >> 32) as u32);
        }
        self.table = table;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_dedupes() {
        let mut s = Strings::new();
        assert_eq!(s.intern(b"_ENV"), Sym::ENV);
        assert_eq!(s.intern(b"const"), Sym::CONST);
        let mut ids = Vec::new();
        for i in 0..5000 {
            ids.push(s.intern(format!("name{i}").as_bytes()));
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(s.get(*id), format!("name{i}").as_bytes());
            assert_eq!(s.intern(format!("name{i}").as_bytes()), *id);
            assert_eq!(s.lookup(format!("name{i}").as_bytes()), Some(*id));
        }
        assert_eq!(s.lookup(b"nope"), None);
        let e = s.intern(b"");
        assert_eq!(s.get(e), b"");
        assert_eq!(s.intern(b"a\0b"), s.intern(b"a\0b"));
        assert_ne!(s.intern(b"a\0b"), s.intern(b"a\0c"));
    }
}

//! Lua tables: an array part for integer keys `1..=array.len()` plus a hash part for every
//! other key (see `table/hash.rs`).
//!
//! Invariants:
//! - Keys are normalised: a float with an integral value is stored as an integer; nil and NaN
//!   are never keys.
//! - An integer key `k` with `1 <= k <= array.len()` lives in the array part, never in the hash.
//! - Assigning an existing key never moves entries (stable `next` order); only inserting a new
//!   key into a full hash part rehashes, resizing both parts so that the array part stays more
//!   than half full (Lua's `computesizes`).
//! - No metamethod logic here: that is `meta.rs`.

mod hash;

use std::cell::Cell;
use std::fmt;

use crate::gc::{account_extra, Gc, Marker, Trace, WeakMode};
use crate::string::LuaStr;
use crate::value::{float_to_int, Value};
use hash::HashPart;

/// Why a key cannot be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKeyError {
    /// `t[nil] = v`.
    Nil,
    /// `t[0/0] = v`.
    NaN,
}

impl fmt::Display for TableKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TableKeyError::Nil => "index is nil",
            TableKeyError::NaN => "index is NaN",
        })
    }
}

/// Bits of the absent-metamethod cache: the first metamethods of Lua's TM order, which are
/// the ones looked up on hot paths.
pub mod tm_flag {
    pub const INDEX: u8 = 1 << 0;
    pub const NEWINDEX: u8 = 1 << 1;
    pub const GC: u8 = 1 << 2;
    pub const MODE: u8 = 1 << 3;
    pub const LEN: u8 = 1 << 4;
    pub const EQ: u8 = 1 << 5;
    pub const CALL: u8 = 1 << 6;
    pub const CLOSE: u8 = 1 << 7;
}

/// A Lua table.
#[derive(Default)]
pub struct Table {
    array: Vec<Value>,
    hash: HashPart,
    /// The metatable (`setmetatable` / `getmetatable` are EXEC's; this is the raw slot).
    pub metatable: Option<Gc<Table>>,
    /// Cache of metamethods known to be absent when this table is used as a metatable: a set
    /// bit means "absent". Cleared whenever a key starting with `__` may have been set.
    flags: Cell<u8>,
    /// Lua 5.4's `alimit`: a hint for `#t`, `<= array.len()`; when smaller, it is more than
    /// half of the (power of two) array size. Integer accesses beyond it move it, exactly as
    /// `luaH_getint` does, so that `#t` returns the same border as lua5.4 when there are
    /// several. A `Cell` because reads update it.
    limit: Cell<u32>,
}

/// Number of power-of-two slices used by `compute_sizes` (array sizes up to 2^MAXABITS).
const MAXABITS: usize = 31;

impl Table {
    /// An empty table.
    pub fn new() -> Table {
        Table::default()
    }

    /// A table with room for `narray` array entries and `nhash` other keys.
    pub fn with_capacity(narray: usize, nhash: usize) -> Table {
        // No `account_extra` here: `Heap::alloc` counts the initial buffers.
        Table {
            array: vec![Value::Nil; narray],
            hash: HashPart::with_capacity(nhash),
            metatable: None,
            flags: Cell::new(0),
            limit: Cell::new(narray as u32),
        }
    }

    /// Empty a dead table for reuse (the sweep pools its box). The entries may refer to freed
    /// objects: they are forgotten, never dereferenced. A small array buffer is kept.
    pub(crate) fn recycle(&mut self) {
        self.array.clear();
        if self.array.capacity() > 4 {
            self.array = Vec::new();
        }
        self.hash = HashPart::default();
        self.metatable = None;
        self.flags.set(0);
        self.limit.set(0);
    }

    /// Turn a recycled table into a fresh `Table::with_capacity(narray, nhash)`.
    pub(crate) fn reinit(&mut self, narray: usize, nhash: usize) {
        // Exact sizes: Vec's amortised growth would double small arrays for nothing.
        self.array
            .reserve_exact(narray.saturating_sub(self.array.len()));
        self.array.resize(narray, Value::Nil);
        self.limit.set(narray as u32);
        if nhash > 0 {
            self.hash = HashPart::with_capacity(nhash);
        }
    }

    /// Size of the array part.
    #[inline(always)]
    pub fn array_len(&self) -> usize {
        self.array.len()
    }

    /// Number of nodes of the hash part.
    #[inline(always)]
    pub fn hash_len(&self) -> usize {
        self.hash.len()
    }

    /// The array part (keys `1..=len`), e.g. for `table.unpack` / `table.concat` fast paths.
    #[inline(always)]
    pub fn array(&self) -> &[Value] {
        &self.array
    }

    // ---- lookups -------------------------------------------------------------------------

    /// `t[i]`.
    #[inline(always)]
    pub fn get_int(&self, i: i64) -> Value {
        let idx = (i as u64).wrapping_sub(1);
        if idx < self.array.len() as u64 {
            self.touch(idx);
            return self.array[idx as usize];
        }
        self.get_int_hash(i)
    }

    /// An access to array slot `idx` beyond the length hint moves the hint there (as
    /// `luaH_getint`: "probably '#t' is here now").
    #[inline(always)]
    fn touch(&self, idx: u64) {
        if idx >= self.limit.get() as u64 {
            self.limit.set(idx as u32 + 1);
        }
    }

    #[inline(never)]
    fn get_int_hash(&self, i: i64) -> Value {
        match self.hash.find_int(i) {
            Some(n) => self.hash.nodes[n].val,
            None => Value::Nil,
        }
    }

    /// `t[s]` for a string key.
    #[inline(always)]
    pub fn get_str(&self, s: Gc<LuaStr>) -> Value {
        self.hash.get_str(s)
    }

    /// `t[key]` for any key (nil for nil or NaN keys).
    #[inline]
    pub fn get(&self, key: Value) -> Value {
        match key {
            Value::Int(i) => self.get_int(i),
            Value::Str(s) => self.get_str(s),
            Value::Nil => Value::Nil,
            Value::Float(f) => match float_to_int(f) {
                Some(i) => self.get_int(i),
                None => self.get_other(&key),
            },
            _ => self.get_other(&key),
        }
    }

    fn get_other(&self, key: &Value) -> Value {
        match self.hash.find(key) {
            Some(n) => self.hash.nodes[n].val,
            None => Value::Nil,
        }
    }

    // ---- assignment ----------------------------------------------------------------------

    /// `t[key] = val` (raw). Errors for nil and NaN keys.
    #[inline]
    pub fn set(&mut self, key: Value, val: Value) -> Result<(), TableKeyError> {
        self.set_grow(key, val).map(|_| ())
    }

    /// `t[key] = val` (raw); `Ok(true)` when the table had to resize (see
    /// [`Table::set_int_grow`]).
    #[inline]
    pub fn set_grow(&mut self, key: Value, val: Value) -> Result<bool, TableKeyError> {
        Ok(match key {
            Value::Int(i) => self.set_int_grow(i, val),
            Value::Str(s) => self.set_str_grow(s, val),
            Value::Nil => return Err(TableKeyError::Nil),
            Value::Float(f) => match float_to_int(f) {
                Some(i) => self.set_int_grow(i, val),
                None if f.is_nan() => return Err(TableKeyError::NaN),
                None => self.set_other(key, val),
            },
            _ => self.set_other(key, val),
        })
    }

    /// `t[i] = val`.
    #[inline(always)]
    pub fn set_int(&mut self, i: i64, val: Value) {
        self.set_int_grow(i, val);
    }

    /// `t[i] = val`; true when the table had to resize (or failed to: see
    /// [`Table::resize`]), which makes the caller's next step a safe point.
    #[inline(always)]
    pub fn set_int_grow(&mut self, i: i64, val: Value) -> bool {
        let idx = (i as u64).wrapping_sub(1);
        if idx < self.array.len() as u64 {
            self.touch(idx);
            self.array[idx as usize] = val;
            return false;
        }
        self.set_int_hash(i, val)
    }

    #[inline(never)]
    fn set_int_hash(&mut self, i: i64, val: Value) -> bool {
        match self.hash.find_int(i) {
            Some(n) => {
                self.hash.nodes[n].val = val;
                false
            }
            None => self.insert_new(Value::Int(i), val),
        }
    }

    /// `t[s] = val` for a string key.
    #[inline(always)]
    pub fn set_str(&mut self, s: Gc<LuaStr>, val: Value) {
        self.set_str_grow(s, val);
    }

    /// `t[s] = val`; true when the table had to resize (see [`Table::set_int_grow`]).
    #[inline(always)]
    pub fn set_str_grow(&mut self, s: Gc<LuaStr>, val: Value) -> bool {
        if self.flags.get() != 0 {
            self.invalidate_tm_cache(s);
        }
        match self.hash.find_str(s) {
            Some(n) => {
                self.hash.nodes[n].val = val;
                false
            }
            None => self.insert_new_str(s, val),
        }
    }

    #[inline(never)]
    fn invalidate_tm_cache(&self, s: Gc<LuaStr>) {
        if s.get().as_bytes().starts_with(b"__") {
            self.flags.set(0);
        }
    }

    #[inline(never)]
    fn insert_new_str(&mut self, s: Gc<LuaStr>, val: Value) -> bool {
        self.insert_new(Value::Str(s), val)
    }

    /// Any other normalised key (not nil, NaN, integer or string).
    fn set_other(&mut self, key: Value, val: Value) -> bool {
        match self.hash.find(&key) {
            Some(n) => {
                self.hash.nodes[n].val = val;
                false
            }
            None => self.insert_new(key, val),
        }
    }

    /// Add a key known to be absent (normalised, valid). Nil values are not stored.
    /// Returns true when the table resized (or failed to).
    fn insert_new(&mut self, key: Value, val: Value) -> bool {
        if val.is_nil() {
            return false;
        }
        if !self.hash.insert_new(key, val) {
            if !self.rehash(&key) {
                // Out of memory: the entry is dropped; the VM raises the error before any
                // Lua code can see the table again.
                return true;
            }
            // After the rehash the key may belong to the array part.
            if let Value::Int(i) = key {
                let idx = (i as u64).wrapping_sub(1);
                if idx < self.array.len() as u64 {
                    self.array[idx as usize] = val;
                    return true;
                }
            }
            let ok = self.hash.insert_new(key, val);
            debug_assert!(ok, "rehash left no room for the new key");
            return true;
        }
        false
    }

    // ---- resizing ------------------------------------------------------------------------

    /// Resize both parts to fit all current entries plus `extra`.
    fn rehash(&mut self, extra: &Value) -> bool {
        // nums[i]: integer keys k with 2^(i-1) < k <= 2^i.
        let mut nums = [0usize; MAXABITS + 1];
        let mut total = 0usize;
        let mut int_keys = 0usize;
        let count_int = |k: i64, nums: &mut [usize; MAXABITS + 1]| -> bool {
            if k >= 1 && (k as u64) <= (1u64 << MAXABITS) {
                nums[ceil_log2(k as u64)] += 1;
                true
            } else {
                false
            }
        };
        for (i, v) in self.array.iter().enumerate() {
            if !v.is_nil() {
                nums[ceil_log2(i as u64 + 1)] += 1;
                int_keys += 1;
                total += 1;
            }
        }
        for n in &self.hash.nodes {
            if !n.val.is_nil() {
                total += 1;
                if let Value::Int(k) = n.key {
                    if count_int(k, &mut nums) {
                        int_keys += 1;
                    }
                }
            }
        }
        total += 1;
        if let Value::Int(k) = *extra {
            if count_int(k, &mut nums) {
                int_keys += 1;
            }
        }
        let (asize, in_array) = compute_sizes(&nums, int_keys);
        self.resize(asize, total - in_array)
    }

    /// Give the array part `asize` slots and the hash part room for `nhash` keys, moving
    /// every entry to its new place. When the memory cannot be had, the table is left as it
    /// was and the failure is recorded for the VM to raise "not enough memory" (see
    /// [`crate::gc::take_alloc_failure`]); callers then drop the entry they were adding.
    pub fn resize(&mut self, asize: usize, nhash: usize) -> bool {
        let old_bytes = self.array.capacity() * std::mem::size_of::<Value>() + self.hash.bytes();
        let Some(new_hash) = HashPart::try_with_capacity(nhash) else {
            crate::gc::record_alloc_failure();
            return false;
        };
        if asize > self.array.len()
            && self
                .array
                .try_reserve_exact(asize - self.array.len())
                .is_err()
        {
            crate::gc::record_alloc_failure();
            return false;
        }
        let old_hash = std::mem::replace(&mut self.hash, new_hash);
        let mut spill: Vec<(i64, Value)> = Vec::new();
        if asize < self.array.len() {
            for (i, v) in self.array.drain(asize..).enumerate() {
                if !v.is_nil() {
                    spill.push(((asize + i + 1) as i64, v));
                }
            }
            self.array.shrink_to_fit();
        } else {
            self.array.resize(asize, Value::Nil);
        }
        for (k, v) in spill {
            let ok = self.hash.insert_new(Value::Int(k), v);
            debug_assert!(ok);
        }
        for n in old_hash.nodes {
            if n.val.is_nil() {
                continue;
            }
            if let Value::Int(i) = n.key {
                let idx = (i as u64).wrapping_sub(1);
                if idx < self.array.len() as u64 {
                    self.array[idx as usize] = n.val;
                    continue;
                }
            }
            let ok = self.hash.insert_new(n.key, n.val);
            debug_assert!(ok);
        }
        self.limit.set(self.array.len() as u32);
        let new_bytes = self.array.capacity() * std::mem::size_of::<Value>() + self.hash.bytes();
        account_extra(new_bytes as isize - old_bytes as isize);
        true
    }

    /// Grow the array part to at least `n` slots, keeping the hash part's size (Lua's
    /// `luaH_resizearray` as `OP_SETLIST` uses it: a constructor ending in a call or `...`
    /// stores all its items in the array part without a rehash per overflow).
    pub fn ensure_array(&mut self, n: usize) {
        if n > self.array.len() {
            let nhash = self.hash.len();
            let _ = self.resize(n, nhash);
        }
    }

    // ---- length and traversal ------------------------------------------------------------

    /// `#t` without metamethods: a border (`t[n] ~= nil and t[n+1] == nil`, or 0 if `t[1]`
    /// is nil). Follows `luaH_getn` of Lua 5.4 step by step, length hint included, so that
    /// tables with holes give the same border as lua5.4.
    #[inline]
    pub fn len(&self) -> i64 {
        // Fast path: a full array part and no hash part (a sequence built by appends).
        let asize = self.array.len();
        if self.hash.len() == 0
            && self.limit.get() as usize == asize
            && (asize == 0 || !self.array[asize - 1].is_nil())
        {
            return asize as i64;
        }
        self.len_slow()
    }

    #[inline(never)]
    fn len_slow(&self) -> i64 {
        let asize = self.array.len();
        let mut limit = self.limit.get() as usize;
        if limit > 0 && self.array[limit - 1].is_nil() {
            // There is a border before `limit`.
            if limit >= 2 && !self.array[limit - 2].is_nil() {
                if asize.is_power_of_two() && !(limit - 1).is_power_of_two() {
                    self.limit.set(limit as u32 - 1);
                }
                return (limit - 1) as i64;
            }
            let border = binsearch(&self.array, 0, limit);
            if asize.is_power_of_two() && border > asize / 2 {
                self.limit.set(border as u32);
            }
            return border as i64;
        }
        if limit != asize {
            // `t[limit]` is present (or limit is 0): look after it.
            if self.array[limit].is_nil() {
                return limit as i64;
            }
            limit = asize;
            if self.array[limit - 1].is_nil() {
                let border = binsearch(&self.array, self.limit.get() as usize, limit);
                self.limit.set(border as u32);
                return border as i64;
            }
            self.limit.set(limit as u32);
        }
        // The array part is full (or empty).
        if self.hash.len() == 0 || self.get_int_hash(limit as i64 + 1).is_nil() {
            return limit as i64;
        }
        self.hash_border(limit as u64)
    }

    /// Border search beyond the array part, knowing `t[j + 1]` is present: unbounded doubling
    /// from `j`, then bisection (`hash_search`).
    fn hash_border(&self, mut j: u64) -> i64 {
        if j == 0 {
            j = 1;
        }
        let mut i;
        loop {
            i = j;
            if j <= (i64::MAX as u64) / 2 {
                j *= 2;
            } else {
                j = i64::MAX as u64;
                if self.get_int(j as i64).is_nil() {
                    break;
                }
                return j as i64;
            }
            if self.get_int(j as i64).is_nil() {
                break;
            }
        }
        while j - i > 1 {
            let m = (i + j) / 2;
            if self.get_int(m as i64).is_nil() {
                j = m;
            } else {
                i = m;
            }
        }
        i as i64
    }

    /// `next(t, key)`: the entry after `key` (nil: the first), `Ok(None)` at the end, `Err`
    /// if `key` is not in the table ("invalid key to 'next'").
    #[allow(clippy::result_unit_err)]
    pub fn next(&self, key: Value) -> Result<Option<(Value, Value)>, ()> {
        let start = match key {
            Value::Nil => 0,
            _ => self.index_of(key.normalize_key())? + 1,
        };
        Ok(self.entry_from(start).map(|(_, k, v)| (k, v)))
    }

    /// [`Table::next`] with a guess of `key`'s traversal index (what the previous step
    /// returned): when the entry there still holds exactly `key`, the lookup is skipped.
    /// Returns the entry's index too, the guess for the following step. Any guess is safe: a
    /// wrong one only costs the lookup.
    #[allow(clippy::result_unit_err)]
    #[inline]
    pub fn next_hinted(
        &self,
        key: Value,
        hint: usize,
    ) -> Result<Option<(usize, Value, Value)>, ()> {
        let start = match key {
            Value::Nil => 0,
            _ if self.key_at(hint, &key) => hint + 1,
            _ => self.index_of(key.normalize_key())? + 1,
        };
        Ok(self.entry_from(start))
    }

    /// Is traversal index `pos` the (live) place of exactly `key`? Then `index_of(key)` is
    /// `pos`: a key has a single live node.
    #[inline(always)]
    fn key_at(&self, pos: usize, key: &Value) -> bool {
        let asize = self.array.len();
        if pos < asize {
            return matches!(*key, Value::Int(i) if (i as u64).wrapping_sub(1) == pos as u64);
        }
        match self.hash.nodes.get(pos - asize) {
            Some(node) => {
                let same = match (node.key, *key) {
                    (Value::Str(a), Value::Str(b)) => a == b,
                    (Value::Int(a), Value::Int(b)) => a == b,
                    (Value::Nil, _) => false,
                    (a, b) => a.raw_identical(&b),
                };
                same && !node.dead.get()
            }
            None => false,
        }
    }

    /// Traversal by position, for iteration loops that keep a cursor instead of the last key
    /// (no lookup per step): the first entry at traversal index `>= pos` as
    /// `(index, key, value)`; continue with `index + 1`. Same order as [`Table::next`], and
    /// equally stable while existing fields are assigned.
    #[inline]
    pub fn entry_from(&self, pos: usize) -> Option<(usize, Value, Value)> {
        let asize = self.array.len();
        for i in pos..asize {
            let v = self.array[i];
            if !v.is_nil() {
                return Some((i, Value::Int(i as i64 + 1), v));
            }
        }
        for n in pos.saturating_sub(asize)..self.hash.len() {
            let node = &self.hash.nodes[n];
            if !node.val.is_nil() {
                return Some((asize + n, node.key, node.val));
            }
        }
        None
    }

    /// No non-nil entry at all?
    pub fn is_empty(&self) -> bool {
        matches!(self.next(Value::Nil), Ok(None))
    }

    /// Traversal index of a key: array slot, or array size + node index.
    fn index_of(&self, key: Value) -> Result<usize, ()> {
        if let Value::Int(i) = key {
            let idx = (i as u64).wrapping_sub(1);
            if idx < self.array.len() as u64 {
                return Ok(idx as usize);
            }
        }
        if matches!(key, Value::Float(f) if f.is_nan()) {
            return Err(());
        }
        match self.hash.find(&key).or_else(|| self.hash.find_dead(&key)) {
            Some(n) => Ok(self.array.len() + n),
            None => Err(()),
        }
    }

    // ---- metamethod cache ----------------------------------------------------------------

    /// Bits of metamethods known absent (see [`tm_flag`]).
    #[inline(always)]
    pub fn tm_absent(&self) -> u8 {
        self.flags.get()
    }

    /// Record that a metamethod is absent from this table.
    #[inline(always)]
    pub fn set_tm_absent(&self, bit: u8) {
        self.flags.set(self.flags.get() | bit);
    }

    // ---- collector support ---------------------------------------------------------------

    /// For ephemeron tables: mark values whose keys are marked. True if anything was marked.
    pub(crate) fn mark_ephemeron_values(&self, m: &mut Marker) -> bool {
        let mut changed = false;
        for n in &self.hash.nodes {
            if !n.val.is_nil() && !m.is_cleared(n.key) && !m.is_marked(n.val) {
                m.mark_value(n.val);
                changed = true;
            }
        }
        changed
    }

    /// Remove entries whose values were not marked (weak values).
    pub(crate) fn clear_weak_values(&mut self, m: &Marker) {
        for v in &mut self.array {
            if m.is_cleared(*v) {
                *v = Value::Nil;
            }
        }
        for n in &mut self.hash.nodes {
            if !n.val.is_nil() && m.is_cleared(n.val) {
                n.val = Value::Nil;
                if n.key.is_collectable() {
                    n.dead.set(true);
                }
            }
        }
    }

    /// Remove entries whose keys were not marked (weak keys).
    pub(crate) fn clear_weak_keys(&mut self, m: &Marker) {
        for n in &mut self.hash.nodes {
            if !n.val.is_nil() && m.is_cleared(n.key) {
                n.val = Value::Nil;
                n.dead.set(true);
            }
        }
    }

    fn weak_mode(&self, m: &Marker) -> WeakMode {
        let Some(mt) = self.metatable else {
            return WeakMode::Strong;
        };
        match mt.get().get_str(m.mode_key) {
            Value::Str(s) => {
                let b = s.get().as_bytes();
                match (b.contains(&b'k'), b.contains(&b'v')) {
                    (false, false) => WeakMode::Strong,
                    (true, false) => WeakMode::Keys,
                    (false, true) => WeakMode::Values,
                    (true, true) => WeakMode::Both,
                }
            }
            _ => WeakMode::Strong,
        }
    }
}

impl Trace for Table {
    fn trace(&self, m: &mut Marker) {
        if let Some(mt) = self.metatable {
            m.mark(mt);
        }
        let mode = self.weak_mode(m);
        // Empty entries stop keeping their keys alive: the key becomes dead.
        let mark_dead = |n: &hash::Node| {
            if n.key.is_collectable() {
                n.dead.set(true);
            }
        };
        match mode {
            WeakMode::Strong => {
                m.mark_values(&self.array);
                for n in &self.hash.nodes {
                    if n.val.is_nil() {
                        mark_dead(n);
                    } else {
                        m.mark_value(n.key);
                        m.mark_value(n.val);
                    }
                }
            }
            WeakMode::Values => {
                m.register_weak(mode);
                for n in &self.hash.nodes {
                    if n.val.is_nil() {
                        mark_dead(n);
                    } else {
                        m.mark_value(n.key);
                    }
                }
            }
            WeakMode::Keys => {
                m.register_weak(mode);
                // Integer keys are never collected: array values are strong.
                m.mark_values(&self.array);
                for n in &self.hash.nodes {
                    if n.val.is_nil() {
                        mark_dead(n);
                    } else if !m.is_cleared(n.key) {
                        m.mark_value(n.val);
                    }
                }
            }
            WeakMode::Both => {
                m.register_weak(mode);
                for n in &self.hash.nodes {
                    if n.val.is_nil() {
                        mark_dead(n);
                    }
                }
            }
        }
    }

    fn extra_bytes(&self) -> usize {
        self.array.capacity() * std::mem::size_of::<Value>() + self.hash.bytes()
    }
}

/// A border in `array[i..j]` knowing `i == 0 or array[i-1]` is present and `array[j-1]` is
/// absent.
fn binsearch(array: &[Value], mut i: usize, mut j: usize) -> usize {
    while j - i > 1 {
        let m = (i + j) / 2;
        if array[m - 1].is_nil() {
            j = m;
        } else {
            i = m;
        }
    }
    i
}

/// ceil(log2(x)) for x >= 1.
#[inline]
fn ceil_log2(x: u64) -> usize {
    (64 - (x - 1).leading_zeros()) as usize
}

/// Lua's `computesizes`: the largest power of two `n` such that more than `n/2` of the slots
/// `1..=n` would be used. Returns (array size, number of keys that go to the array part).
fn compute_sizes(nums: &[usize; MAXABITS + 1], int_keys: usize) -> (usize, usize) {
    let mut a = 0usize;
    let mut na = 0usize;
    let mut optimal = 0usize;
    let mut twotoi = 1usize;
    let mut i = 0;
    while i <= MAXABITS && twotoi > 0 && int_keys > twotoi / 2 {
        a += nums[i];
        if a > twotoi / 2 {
            optimal = twotoi;
            na = a;
        }
        i += 1;
        twotoi = twotoi.wrapping_mul(2);
    }
    (optimal, na)
}

#[cfg(test)]
mod tests;

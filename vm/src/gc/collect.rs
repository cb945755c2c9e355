//! A full stop-the-world cycle: mark from the roots, settle weak tables and finalizers, sweep.
#![deny(unsafe_op_in_unsafe_fn)]

use std::ptr::NonNull;

use super::{ErasedPtr, GcBox, Heap, Marker, KIND_HOST, KIND_STR, KIND_TABLE, MIN_THRESHOLD};
use crate::string::LuaStr;
use crate::table::Table;

/// Approximate bytes held by one pooled table box (box plus a small array buffer).
const TABLE_BOX_COST: usize = std::mem::size_of::<GcBox<Table>>() + 64;
use crate::value::Value;

impl Heap {
    /// Run a full collection. `roots` marks everything the VM holds (registry, globals,
    /// metatables, thread stacks, host handles) through the given [`Marker`]; objects waiting
    /// for finalization and the heap's own strings are rooted by the heap itself.
    pub fn collect(&mut self, roots: impl FnOnce(&mut Marker)) {
        let mut m = Marker::new(self.mode_key, std::mem::take(&mut self.gray_buffer));
        m.mark(self.mode_key);
        for &v in &self.pending {
            m.mark_value(v);
        }
        roots(&mut m);
        m.propagate();
        m.converge_ephemerons();

        // Weak values referring to objects about to be resurrected are cleared now, before
        // resurrection marks them (as Lua: a finalized object is gone from weak values).
        for t in m.weak_values.clone().into_iter().chain(m.all_weak.clone()) {
            t.get_mut().clear_weak_values(&m);
        }
        let orig_weak = m.weak_values.len();
        let orig_all = m.all_weak.len();

        // Unreached finalizable objects are queued (newest registration first) and
        // resurrected with everything they reach.
        let mut newly: Vec<Value> = Vec::new();
        self.finobj.retain(|&v| {
            if m.is_marked(v) {
                true
            } else {
                newly.push(v);
                false
            }
        });
        // They keep their FINOBJ bit while queued (a `setmetatable` meanwhile does not
        // register them twice); `take_pending_finalizers` clears it.
        for &v in newly.iter().rev() {
            m.mark_value(v);
            self.pending.push(v);
        }
        m.propagate();
        m.converge_ephemerons();

        for t in m.ephemerons.clone().into_iter().chain(m.all_weak.clone()) {
            t.get_mut().clear_weak_keys(&m);
        }
        // Tables first reached through resurrected objects still need their values cleared.
        for t in m.weak_values[orig_weak..]
            .iter()
            .chain(&m.all_weak[orig_all..])
            .copied()
            .collect::<Vec<_>>()
        {
            t.get_mut().clear_weak_values(&m);
        }

        self.gray_buffer = m.into_gray_buffer();
        self.purge_weak_lists();
        self.sweep();
        self.strings.shrink_if_sparse();
        self.cycles += 1;
    }

    /// Free every unmarked object, unmark the survivors, recompute the accounted bytes and
    /// the next threshold.
    fn sweep(&mut self) {
        let mut host = Vec::new();
        let mut live = 0usize;
        let mut prev: Option<ErasedPtr> = None;
        let mut cur = self.objects;
        while let Some(p) = cur {
            // SAFETY: `p` is in the object list, hence live; we read its header and, when it
            // is unmarked, unlink it before freeing it exactly once (the Box came from
            // `alloc`). A box tagged `KIND_STR` holds a `LuaStr` (set by `alloc` from the
            // type), read before it is freed. Survivors are only read.
            unsafe {
                let b = p.as_ref();
                let next = b.header.next.get();
                if b.header.is_marked() {
                    b.header.clear_marked();
                    live += std::mem::size_of_val(b) + (*b.value.get()).extra_bytes();
                    prev = Some(p);
                } else {
                    match prev {
                        Some(pp) => pp.as_ref().header.next.set(next),
                        None => self.objects = next,
                    }
                    if b.header.kind == KIND_STR {
                        // A dead short string leaves the interner before its memory goes.
                        let sp: NonNull<GcBox<LuaStr>> = p.cast();
                        let s = &*sp.as_ref().value.get();
                        if s.is_short() {
                            self.strings
                                .remove(sp.as_ptr() as *const u8 as usize, s.hash());
                        }
                    }
                    if b.header.kind == KIND_HOST {
                        // Freed after the sweep (its destructor may run host code).
                        host.push(p);
                    } else if b.header.kind == KIND_TABLE
                        && self.table_pool.len() < self.table_pool_max
                    {
                        // A table box (tagged by `alloc`): empty it and keep it for reuse.
                        // Its contents may point to freed objects: `recycle` only forgets them.
                        let tp: NonNull<GcBox<Table>> = p.cast();
                        (*tp.as_ref().value.get()).recycle();
                        self.table_pool.push(tp);
                    } else {
                        drop(Box::from_raw(p.as_ptr()));
                    }
                }
                cur = next;
            }
        }
        // Resizes reported since the last look are included in the recount.
        let _ = super::take_extra_delta();
        self.bytes = live;
        let grown = (live / 100).saturating_mul(self.pause as usize);
        self.threshold = grown.max(MIN_THRESHOLD);
        if self.limit != 0 {
            // Collect before the limit is reached, so that garbage is not what fails an
            // allocation.
            self.threshold = self.threshold.min(self.limit.max(live + live / 8));
        }
        // Recycled table boxes may hold up to a quarter of the next threshold.
        self.table_pool_max = self.threshold / 4 / TABLE_BOX_COST;
        if self.table_pool.len() > self.table_pool_max {
            for p in self.table_pool.drain(self.table_pool_max..) {
                // SAFETY: pooled boxes are owned by the pool only.
                unsafe { drop(Box::from_raw(p.as_ptr())) }
            }
        }
        Heap::drop_host_boxes(host);
    }
}

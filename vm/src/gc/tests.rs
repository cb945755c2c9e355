//! Collector tests at the heap level (no interpreter): reclamation of garbage and cycles,
//! bounded memory under churn, weak tables (k, v, kv, ephemerons), finalizer order and
//! resurrection, the string interner.

use std::cell::Cell;
use std::rc::Rc;

use super::*;
use crate::table::Table;

fn s(h: &mut Heap, x: &str) -> Gc<LuaStr> {
    h.new_str(x.as_bytes())
}

/// A table whose metatable has `__mode = mode`.
fn weak_table(h: &mut Heap, mode: &str) -> Gc<Table> {
    let mt = h.new_table();
    let k = s(h, "__mode");
    let v = s(h, mode);
    mt.get_mut().set_str(k, Value::Str(v));
    let t = h.new_table();
    t.get_mut().metatable = Some(mt);
    t
}

/// Userdata that counts its drops.
struct DropCounter(Rc<Cell<usize>>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

fn counted(h: &mut Heap, c: &Rc<Cell<usize>>) -> Gc<UserData> {
    h.new_userdata(UserData::new(DropCounter(c.clone())))
}

#[test]
fn ten_million_self_referencing_tables_stay_bounded() {
    let mut h = Heap::with_seed(1);
    let key = s(&mut h, "self");
    let mut peak = 0usize;
    for _ in 0..10_000_000u32 {
        let t = h.new_table();
        t.get_mut().set_str(key, Value::Table(t));
        if h.should_collect() {
            peak = peak.max(h.total_bytes());
            h.collect(|m| m.mark(key));
        }
    }
    peak = peak.max(h.total_bytes());
    assert!(h.cycles() > 10, "collections happened: {}", h.cycles());
    assert!(peak < 100 << 20, "peak {peak} bytes");
    h.collect(|m| m.mark(key));
    assert!(
        h.total_bytes() < 64 * 1024,
        "all garbage reclaimed: {}",
        h.total_bytes()
    );
    eprintln!(
        "self-referencing tables: peak {peak} bytes, {} cycles",
        h.cycles()
    );
}

#[test]
fn unreachable_cycles_are_freed_and_reachable_ones_kept() {
    let mut h = Heap::with_seed(2);
    let drops = Rc::new(Cell::new(0));
    let k = s(&mut h, "other");
    let base = {
        h.collect(|m| m.mark(k));
        h.total_bytes()
    };
    // Garbage cycle a <-> b, each holding a counted userdata.
    let a = h.new_table();
    let b = h.new_table();
    a.get_mut().set_str(k, Value::Table(b));
    b.get_mut().set_str(k, Value::Table(a));
    let ua = counted(&mut h, &drops);
    a.get_mut().set_int(1, Value::UserData(ua));
    // Live cycle c <-> d.
    let c = h.new_table();
    let d = h.new_table();
    c.get_mut().set_str(k, Value::Table(d));
    d.get_mut().set_str(k, Value::Table(c));
    let ud = counted(&mut h, &drops);
    d.get_mut().set_int(1, Value::UserData(ud));
    h.collect(|m| {
        m.mark(k);
        m.mark(c);
    });
    assert_eq!(drops.get(), 1, "only the garbage cycle's userdata is freed");
    assert_eq!(c.get().get_str(k), Value::Table(d));
    assert_eq!(d.get().get_int(1), Value::UserData(ud));
    h.collect(|m| m.mark(k));
    assert_eq!(drops.get(), 2);
    assert_eq!(h.total_bytes(), base);
}

#[test]
fn deep_structures_do_not_overflow_the_stack() {
    let mut h = Heap::with_seed(3);
    let head = h.new_table();
    let mut cur = head;
    // Deep enough to overflow a recursive marker; shorter under Miri (same code path).
    let depth = if cfg!(miri) { 2_000 } else { 1_000_000 };
    for _ in 0..depth {
        let n = h.new_table();
        cur.get_mut().set_int(1, Value::Table(n));
        cur = n;
    }
    h.collect(|m| m.mark(head));
    let mut len = 0;
    let mut cur = head;
    while let Value::Table(n) = cur.get().get_int(1) {
        cur = n;
        len += 1;
    }
    assert_eq!(len, depth);
    let before = h.total_bytes();
    h.collect(|_| {});
    assert!(h.total_bytes() < before / 100);
}

#[test]
fn weak_values() {
    let mut h = Heap::with_seed(4);
    let wt = weak_table(&mut h, "v");
    let kept = h.new_table();
    let sv = s(&mut h, "a string value");
    let skey = s(&mut h, "str");
    let gone_key = s(&mut h, "gone");
    {
        let t = h.new_table();
        let w = wt.get_mut();
        w.set_int(1, Value::Table(t));
        w.set_int(2, Value::Table(kept));
        w.set_int(3, Value::Int(42));
        w.set_str(skey, Value::Str(sv));
    }
    let t2 = h.new_table();
    wt.get_mut().set_str(gone_key, Value::Table(t2));
    h.collect(|m| {
        m.mark(wt);
        m.mark(kept);
        m.mark(skey);
        m.mark(gone_key);
    });
    let w = wt.get();
    assert!(
        w.get_int(1).is_nil(),
        "unreachable value removed from array part"
    );
    assert!(
        w.get_str(gone_key).is_nil(),
        "unreachable value removed from hash part"
    );
    assert_eq!(w.get_int(2), Value::Table(kept));
    assert_eq!(w.get_int(3), Value::Int(42));
    // Strings are values: never removed, and kept alive by the weak table.
    assert_eq!(w.get_str(skey), Value::Str(sv));
    assert_eq!(sv.get().as_bytes(), b"a string value");
}

#[test]
fn weak_keys_are_ephemerons() {
    let mut h = Heap::with_seed(5);
    let wt = weak_table(&mut h, "k");
    let live_key = h.new_table();
    let live_val = h.new_table();
    wt.get_mut()
        .set(Value::Table(live_key), Value::Table(live_val))
        .unwrap();
    // A value that refers to its own (otherwise unreachable) key: must not keep it alive.
    let k = h.new_table();
    let v = h.new_table();
    v.get_mut().set_int(1, Value::Table(k));
    wt.get_mut().set(Value::Table(k), Value::Table(v)).unwrap();
    // A chain a -> b -> c -> d through the ephemeron table, inserted backwards so that the
    // fixpoint needs several rounds.
    let chain: Vec<Gc<Table>> = (0..4).map(|_| h.new_table()).collect();
    for i in (0..3).rev() {
        wt.get_mut()
            .set(Value::Table(chain[i]), Value::Table(chain[i + 1]))
            .unwrap();
    }
    let head = chain[0];
    h.collect(|m| {
        m.mark(wt);
        m.mark(live_key);
        m.mark(head);
    });
    let w = wt.get();
    assert_eq!(w.get(Value::Table(live_key)), Value::Table(live_val));
    for i in 0..3 {
        assert_eq!(w.get(Value::Table(chain[i])), Value::Table(chain[i + 1]));
    }
    let mut n = 0;
    let mut key = Value::Nil;
    while let Some((nk, _)) = w.next(key).unwrap() {
        n += 1;
        key = nk;
    }
    assert_eq!(n, 4, "self-referencing entry removed, the chain kept");
    // Without the head the whole chain goes.
    h.collect(|m| {
        m.mark(wt);
        m.mark(live_key);
    });
    assert_eq!(
        wt.get().next(Value::Nil).unwrap().map(|e| e.0),
        Some(Value::Table(live_key))
    );
    assert_eq!(wt.get().next(Value::Table(live_key)).unwrap(), None);
}

#[test]
fn weak_keys_and_values() {
    let mut h = Heap::with_seed(6);
    let wt = weak_table(&mut h, "kv");
    let a = h.new_table();
    let b = h.new_table();
    let c = h.new_table();
    let sk = s(&mut h, "key");
    {
        let w = wt.get_mut();
        w.set(Value::Table(a), Value::Int(1)).unwrap(); // key dead
        w.set(Value::Int(1), Value::Table(b)).unwrap(); // value dead
        w.set(Value::Table(c), Value::Table(c)).unwrap(); // both alive
        w.set_str(sk, Value::Bool(true)); // string key: kept
    }
    h.collect(|m| {
        m.mark(wt);
        m.mark(c);
    });
    let w = wt.get();
    assert!(w.get(Value::Table(a)).is_nil());
    assert!(w.get_int(1).is_nil());
    assert_eq!(w.get(Value::Table(c)), Value::Table(c));
    assert_eq!(w.get(Value::Str(h.new_str(b"key"))), Value::Bool(true));
}

/// A traversal can continue from a key whose entry the collector cleared meanwhile.
#[test]
fn next_continues_from_a_cleared_entry() {
    let mut h = Heap::with_seed(7);
    let wt = weak_table(&mut h, "v");
    let keys: Vec<Gc<LuaStr>> = (0..20).map(|i| s(&mut h, &format!("k{i}"))).collect();
    for &k in &keys {
        let t = h.new_table();
        wt.get_mut().set_str(k, Value::Table(t));
    }
    let (first, _) = wt.get().next(Value::Nil).unwrap().unwrap();
    h.collect(|m| {
        m.mark(wt);
        for &k in &keys {
            m.mark(k);
        }
    });
    assert!(wt.get().get(first).is_nil(), "entry cleared");
    assert_eq!(wt.get().next(first), Ok(None), "still a valid key to next");

    // Strong table: a removed entry whose key object dies. Lookups and inserts of an equal
    // long string must not touch the dead key.
    let t = h.new_table();
    let long = "x".repeat(100);
    let lk = s(&mut h, &long);
    t.get_mut().set_str(lk, Value::Int(1));
    t.get_mut().set_str(lk, Value::Nil);
    h.collect(|m| m.mark(t));
    let lk2 = s(&mut h, &long);
    assert!(t.get().get_str(lk2).is_nil());
    t.get_mut().set_str(lk2, Value::Int(2));
    assert_eq!(t.get().get_str(lk2), Value::Int(2));
    assert_eq!(
        t.get().next(Value::Nil).unwrap(),
        Some((Value::Str(lk2), Value::Int(2)))
    );
}

#[test]
fn finalizers_run_in_reverse_registration_order_once() {
    let mut h = Heap::with_seed(8);
    let objs: Vec<Gc<Table>> = (0..3).map(|_| h.new_table()).collect();
    let child = h.new_table();
    objs[0].get_mut().set_int(1, Value::Table(child));
    for &o in &objs {
        h.register_finalizer(Value::Table(o));
        h.register_finalizer(Value::Table(o)); // twice: still one registration
    }
    // Reachable: nothing queued.
    h.collect(|m| {
        for &o in &objs {
            m.mark(o);
        }
    });
    assert!(!h.has_pending_finalizers());
    // Unreachable: queued newest first, resurrected with what they reach.
    h.collect(|_| {});
    let pending = h.take_pending_finalizers();
    let expect: Vec<Value> = objs.iter().rev().map(|&o| Value::Table(o)).collect();
    assert_eq!(pending, expect);
    assert_eq!(
        objs[0].get().get_int(1),
        Value::Table(child),
        "child survived"
    );
    // Finalized once: the next cycle frees them without queueing again.
    let before = h.total_bytes();
    h.collect(|_| {});
    assert!(!h.has_pending_finalizers());
    assert!(h.total_bytes() < before);
}

#[test]
fn pending_finalizers_stay_alive_until_taken() {
    let mut h = Heap::with_seed(9);
    let drops = Rc::new(Cell::new(0));
    let u = counted(&mut h, &drops);
    h.register_finalizer(Value::UserData(u));
    h.collect(|_| {});
    h.collect(|_| {});
    h.collect(|_| {});
    assert_eq!(
        drops.get(),
        0,
        "queued object is a root until the VM takes it"
    );
    assert_eq!(h.take_pending_finalizers(), vec![Value::UserData(u)]);
    h.collect(|_| {});
    assert_eq!(drops.get(), 1);
}

#[test]
fn resurrection_and_reregistration() {
    let mut h = Heap::with_seed(10);
    let drops = Rc::new(Cell::new(0));
    let keeper = h.new_table();
    let u = counted(&mut h, &drops);
    h.register_finalizer(Value::UserData(u));
    h.collect(|m| m.mark(keeper));
    // Registering again while queued changes nothing (as Lua: it is already marked for
    // finalization).
    h.register_finalizer(Value::UserData(u));
    let p = h.take_pending_finalizers();
    assert_eq!(p, vec![Value::UserData(u)]);
    // The "finalizer" stores the object somewhere reachable: it lives on, not re-queued.
    keeper.get_mut().set_int(1, Value::UserData(u));
    h.collect(|m| m.mark(keeper));
    assert!(!h.has_pending_finalizers());
    assert_eq!(drops.get(), 0);
    // Re-registered (setmetatable again) and dropped: finalized a second time.
    h.register_finalizer(Value::UserData(u));
    keeper.get_mut().set_int(1, Value::Nil);
    h.collect(|m| m.mark(keeper));
    assert_eq!(h.take_pending_finalizers(), vec![Value::UserData(u)]);
    h.collect(|m| m.mark(keeper));
    assert_eq!(drops.get(), 1);
}

#[test]
fn weak_entries_of_finalized_objects() {
    let mut h = Heap::with_seed(11);
    let wv = weak_table(&mut h, "v");
    let wk = weak_table(&mut h, "k");
    let o = h.new_table();
    h.register_finalizer(Value::Table(o));
    wv.get_mut().set_int(1, Value::Table(o));
    wk.get_mut().set(Value::Table(o), Value::Int(1)).unwrap();
    h.collect(|m| {
        m.mark(wv);
        m.mark(wk);
    });
    assert!(h.has_pending_finalizers());
    // As Lua: removed from weak values before resurrection, kept as a weak key until the
    // object is really collected.
    assert!(wv.get().get_int(1).is_nil());
    assert_eq!(wk.get().get(Value::Table(o)), Value::Int(1));
    h.take_pending_finalizers();
    h.collect(|m| {
        m.mark(wv);
        m.mark(wk);
    });
    assert_eq!(wk.get().next(Value::Nil).unwrap(), None);
}

#[test]
fn take_all_finalizers_for_close() {
    let mut h = Heap::with_seed(12);
    let a = h.new_table();
    let b = h.new_table();
    h.register_finalizer(Value::Table(a));
    h.register_finalizer(Value::Table(b));
    assert_eq!(
        h.take_all_finalizers(),
        vec![Value::Table(b), Value::Table(a)]
    );
    h.collect(|_| {});
    assert!(!h.has_pending_finalizers(), "unregistered");
}

#[test]
fn interner_is_weak() {
    let mut h = Heap::with_seed(13);
    let kept = s(&mut h, "kept");
    let n0 = h.strings.len();
    for i in 0..10_000 {
        s(&mut h, &format!("tmp{i}"));
    }
    assert_eq!(h.strings.len(), n0 + 10_000);
    h.collect(|m| m.mark(kept));
    assert_eq!(h.strings.len(), n0);
    assert_eq!(s(&mut h, "kept"), kept, "survivor still interned");
    let again = s(&mut h, "tmp5");
    assert_eq!(again.get().as_bytes(), b"tmp5");
    assert_eq!(s(&mut h, "tmp5"), again);
}

#[test]
fn pacing_and_stop() {
    let mut h = Heap::with_seed(14);
    assert!(!h.should_collect());
    let keep = h.new_table();
    for i in 0..200_000 {
        keep.get_mut().set_int(i + 1, Value::Int(i));
    }
    assert!(
        h.total_bytes() > 3_000_000,
        "array growth is accounted: {}",
        h.total_bytes()
    );
    assert!(h.should_collect());
    h.set_running(false);
    assert!(!h.should_collect());
    assert!(!h.is_running());
    h.set_running(true);
    h.collect(|m| m.mark(keep));
    let live = h.total_bytes();
    assert!(!h.should_collect(), "threshold is pause% of the live size");
    // Growing by less than the live size does not trigger with pause 200.
    for _ in 0..1000 {
        h.new_table();
    }
    assert!(!h.should_collect());
    assert_eq!(h.set_pause(100), 200);
    assert!(live > 0);
}

#[test]
fn recycled_table_boxes_come_back_empty() {
    let mut h = Heap::with_seed(15);
    let k = s(&mut h, "k");
    let mt = h.new_table();
    let mut addrs = std::collections::HashSet::new();
    for i in 0..1000 {
        let t = h.new_table_with(3, 2);
        addrs.insert(t.addr());
        let tm = t.get_mut();
        tm.set_int(1, Value::Int(i));
        tm.set_int(2, Value::Table(mt));
        tm.set_str(k, Value::Int(i));
        for j in 0..40 {
            tm.set_int(100 + j, Value::Int(j));
        }
        tm.metatable = Some(mt);
        tm.set_tm_absent(crate::table::tm_flag::INDEX);
    }
    h.collect(|m| {
        m.mark(k);
        m.mark(mt);
    });
    let mut reused = 0;
    for _ in 0..1000 {
        let t = h.new_table_with(5, 0);
        if addrs.contains(&t.addr()) {
            reused += 1;
        }
        let r = t.get();
        assert_eq!(r.next(Value::Nil), Ok(None), "no stale entries");
        assert!(r.metatable.is_none());
        assert_eq!(r.tm_absent(), 0);
        assert_eq!(r.len(), 0);
        assert_eq!(r.array_len(), 5);
        assert!(r.get_str(k).is_nil());
        t.get_mut().set_int(1, Value::Int(7));
        // A fresh shared borrow: `r` must not outlive the mutable one (Miri checks it).
        assert_eq!(t.get().len(), 1);
    }
    assert!(reused > 0, "dead table boxes are reused");
}

#[test]
fn interner_keeps_survivors_findable_after_removal() {
    let mut h = Heap::with_seed(16);
    let all: Vec<Gc<LuaStr>> = (0..5000).map(|i| s(&mut h, &format!("s{i}"))).collect();
    let kept: Vec<(usize, Gc<LuaStr>)> = all.iter().copied().enumerate().step_by(3).collect();
    h.collect(|m| {
        for (_, g) in &kept {
            m.mark(*g);
        }
    });
    assert_eq!(h.strings.len(), kept.len() + 1, "survivors plus \"__mode\"");
    for (i, g) in &kept {
        assert_eq!(s(&mut h, &format!("s{i}")), *g, "s{i} still interned");
    }
    // Dead ones come back as new, distinct objects equal by content.
    let again = s(&mut h, "s1");
    assert_eq!(again.get().as_bytes(), b"s1");
    assert_eq!(s(&mut h, "s1"), again);
}

/// Random object graphs with strong and weak-valued tables, random roots, many cycles of
/// mutation and collection, checked against a model: every table reachable from the roots
/// keeps exactly its entries (a wrongly freed table would be recycled and change), weak
/// entries to unreachable tables are cleared.
#[test]
#[allow(clippy::needless_range_loop)] // indices address several parallel arrays
fn random_graphs_against_a_model() {
    let mut h = Heap::with_seed(17);
    let mt = weak_table(&mut h, "v").get().metatable.unwrap();
    let mut x: u64 = 4242;
    let mut rnd = |n: usize| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) as usize) % n
    };
    const N: usize = 400;
    const SLOTS: usize = 6;
    let mut objs: Vec<Gc<Table>> = Vec::new();
    let mut weak: Vec<bool> = Vec::new();
    let mut edges: Vec<[Option<usize>; SLOTS]> = Vec::new();
    let new_obj = |h: &mut Heap, weak_v: bool| {
        let t = h.new_table();
        if weak_v {
            t.get_mut().metatable = Some(mt);
        }
        t
    };
    for i in 0..N {
        let w = i % 5 == 0;
        objs.push(new_obj(&mut h, w));
        weak.push(w);
        edges.push([None; SLOTS]);
    }
    for _round in 0..60 {
        for _ in 0..N {
            let (i, j, k) = (rnd(N), rnd(SLOTS), rnd(N));
            let target = if rnd(4) == 0 { None } else { Some(k) };
            edges[i][j] = target;
            // Slots 1..=3 live in the array part or hash, 4.. use large keys (hash part).
            let key = if j < 3 { j as i64 + 1 } else { 1000 + j as i64 };
            let v = target.map_or(Value::Nil, |k| Value::Table(objs[k]));
            objs[i].get_mut().set_int(key, v);
        }
        let roots: Vec<usize> = (0..8).map(|_| rnd(N)).collect();
        // Model reachability: weak tables do not hold their values.
        let mut reach = vec![false; N];
        let mut stack = roots.clone();
        while let Some(i) = stack.pop() {
            if reach[i] {
                continue;
            }
            reach[i] = true;
            if !weak[i] {
                stack.extend(edges[i].iter().flatten().copied());
            }
        }
        h.collect(|m| {
            m.mark(mt);
            for &r in &roots {
                m.mark(objs[r]);
            }
        });
        for i in 0..N {
            if !reach[i] {
                continue;
            }
            for j in 0..SLOTS {
                let key = if j < 3 { j as i64 + 1 } else { 1000 + j as i64 };
                let got = objs[i].get().get_int(key);
                let want = match edges[i][j] {
                    Some(k) if reach[k] => Value::Table(objs[k]),
                    _ => Value::Nil,
                };
                assert_eq!(got, want, "table {i} slot {j}");
                if !reach
                    .get(edges[i][j].unwrap_or(0))
                    .copied()
                    .unwrap_or(false)
                {
                    edges[i][j] = None;
                }
            }
        }
        // Unreachable tables are gone: replace them with fresh ones.
        for i in 0..N {
            if !reach[i] {
                objs[i] = new_obj(&mut h, weak[i]);
                edges[i] = [None; SLOTS];
            }
        }
        // Edges into replaced tables now point to nothing.
        for i in 0..N {
            for j in 0..SLOTS {
                if let Some(k) = edges[i][j] {
                    if !reach[k] {
                        edges[i][j] = None;
                        let key = if j < 3 { j as i64 + 1 } else { 1000 + j as i64 };
                        objs[i].get_mut().set_int(key, Value::Nil);
                    }
                }
            }
        }
    }
}

#[test]
fn userdata_keeps_its_metatable_and_user_values_alive() {
    let mut h = Heap::with_seed(18);
    let drops = Rc::new(Cell::new(0));
    let u = counted(&mut h, &drops);
    let mt = h.new_table();
    let uv = h.new_table();
    let inner = counted(&mut h, &drops);
    uv.get_mut().set_int(1, Value::UserData(inner));
    u.get_mut().metatable = Some(mt);
    u.get_mut().user_values.push(Value::Table(uv));
    h.collect(|m| m.mark(u));
    assert_eq!(drops.get(), 0);
    assert_eq!(u.get().metatable, Some(mt));
    assert_eq!(uv.get().get_int(1), Value::UserData(inner));
    assert!(u.get().downcast_ref::<DropCounter>().is_some());
    assert!(u.get().downcast_ref::<u32>().is_none());
    h.collect(|_| {});
    assert_eq!(drops.get(), 2, "both userdata freed once unreachable");
}

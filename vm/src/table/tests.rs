//! Unit tests of the table: borders as lua5.4 computes them, traversal stability, key
//! normalisation and errors, and rehashing against a model.

use super::*;
use crate::gc::Heap;
use std::collections::HashMap;

fn int(i: i64) -> Value {
    Value::Int(i)
}

/// A table built like the constructor `{...}` (array part sized to the items).
fn ctor(items: &[Option<i64>]) -> Table {
    let mut t = Table::with_capacity(items.len(), 0);
    for (i, v) in items.iter().enumerate() {
        t.set_int(i as i64 + 1, v.map_or(Value::Nil, Value::Int));
    }
    t
}

#[test]
fn borders_match_lua54() {
    // Expected values checked with lua5.4.
    assert_eq!(ctor(&[Some(1), Some(2), None, Some(4)]).len(), 4);
    assert_eq!(ctor(&[Some(1), None, Some(3)]).len(), 3);
    assert_eq!(ctor(&[None, None, Some(3)]).len(), 3);
    assert_eq!(
        ctor(&[Some(1), Some(2), Some(3), None, Some(5), None]).len(),
        5
    );
    let mut t = ctor(&[Some(1), Some(2), Some(3)]);
    t.set_int(2, Value::Nil);
    assert_eq!(t.len(), 3);

    // local t = {} t[1]=1 t[2]=2 t[4]=4 -> 4
    let mut t = Table::new();
    for k in [1, 2, 4] {
        t.set_int(k, int(k));
    }
    assert_eq!(t.len(), 4);

    // for i=1,10 do t[i]=i end; t[5]=nil -> 10; t[10]=nil -> 9; t[9]=nil -> 8
    let mut t = Table::new();
    for i in 1..=10 {
        t.set_int(i, int(i));
    }
    t.set_int(5, Value::Nil);
    assert_eq!(t.len(), 10);
    t.set_int(10, Value::Nil);
    assert_eq!(t.len(), 9);
    t.set_int(9, Value::Nil);
    assert_eq!(t.len(), 8);

    assert_eq!(Table::new().len(), 0);
    let mut t = Table::new();
    t.set_int(2, int(2));
    assert_eq!(t.len(), 0, "t[1] nil and t[2] in hash: border 0");
}

#[test]
fn border_found_in_hash_part() {
    // Keys beyond the array part: the unbounded search must find a border.
    let mut t = Table::with_capacity(4, 64);
    for i in 1..=40 {
        t.set_int(i, int(i));
    }
    assert_eq!(
        t.array_len(),
        4,
        "no rehash happened: keys 5..40 are in the hash part"
    );
    assert_eq!(t.len(), 40);
    let b = t.len();
    assert!(!t.get_int(b).is_nil() && t.get_int(b + 1).is_nil());
}

#[test]
fn len_is_always_a_border() {
    let mut t = Table::new();
    let mut x: u64 = 12345;
    for step in 0..5000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let k = (x >> 33) as i64 % 300 + 1;
        if x & 3 == 0 {
            t.set_int(k, Value::Nil);
        } else {
            t.set_int(k, int(step));
        }
        let b = t.len();
        assert!(b == 0 || !t.get_int(b).is_nil(), "t[{b}] must be non-nil");
        assert!(t.get_int(b + 1).is_nil(), "t[{}] must be nil", b + 1);
    }
}

#[test]
fn sequential_appends_use_the_array_part() {
    let mut t = Table::new();
    for i in 1..=1000 {
        t.set_int(i, int(i * 2));
    }
    assert!(t.array_len() >= 1000);
    assert_eq!(t.hash_len(), 0);
    assert_eq!(t.len(), 1000);
    for i in 1..=1000 {
        assert_eq!(t.get_int(i), int(i * 2));
    }
}

#[test]
fn float_keys_are_normalised() {
    let mut h = Heap::with_seed(7);
    let mut t = Table::new();
    t.set(Value::Float(2.0), int(20)).unwrap();
    assert_eq!(t.get_int(2), int(20));
    assert_eq!(t.get(Value::Float(2.0)), int(20));
    t.set(Value::Float(-0.0), int(0)).unwrap();
    assert_eq!(t.get(Value::Int(0)), int(0));
    assert_eq!(t.get(Value::Float(0.0)), int(0));
    t.set(Value::Float(2.5), int(25)).unwrap();
    assert_eq!(t.get(Value::Float(2.5)), int(25));
    assert!(t.get(Value::Float(2.25)).is_nil());
    // The key comes back as an integer from next.
    let mut keys = Vec::new();
    let mut k = Value::Nil;
    while let Some((nk, _)) = t.next(k).unwrap() {
        keys.push(nk);
        k = nk;
    }
    assert!(keys.iter().any(|k| matches!(k, Value::Int(2))));
    assert!(keys.iter().any(|k| matches!(k, Value::Int(0))));
    assert!(!keys
        .iter()
        .any(|k| matches!(k, Value::Float(f) if *f == 2.0)));
    // Other key types.
    let s = h.new_str(b"x");
    t.set(Value::Bool(true), int(1)).unwrap();
    t.set(Value::Str(s), int(2)).unwrap();
    t.set(Value::LightUserData(99), int(3)).unwrap();
    assert_eq!(t.get(Value::Bool(true)), int(1));
    assert!(t.get(Value::Bool(false)).is_nil());
    assert_eq!(t.get(Value::Str(h.new_str(b"x"))), int(2));
    assert_eq!(t.get(Value::LightUserData(99)), int(3));
}

#[test]
fn nil_and_nan_keys() {
    let mut t = Table::new();
    assert_eq!(t.set(Value::Nil, int(1)), Err(TableKeyError::Nil));
    assert_eq!(
        t.set(Value::Float(f64::NAN), int(1)),
        Err(TableKeyError::NaN)
    );
    assert_eq!(TableKeyError::Nil.to_string(), "index is nil");
    assert_eq!(TableKeyError::NaN.to_string(), "index is NaN");
    assert!(t.get(Value::Nil).is_nil());
    assert!(t.get(Value::Float(f64::NAN)).is_nil());
    assert!(t.next(Value::Float(f64::NAN)).is_err());
    assert!(
        t.next(int(1)).is_err(),
        "absent key is an invalid key to next"
    );
    // Storing nil in an absent key adds nothing.
    t.set(int(100), Value::Nil).unwrap();
    assert_eq!(t.hash_len(), 0);
    assert_eq!(t.next(Value::Nil).unwrap(), None);
}

#[test]
fn long_and_short_string_keys() {
    let mut h = Heap::with_seed(3);
    let mut t = Table::new();
    let long = vec![b'q'; 100];
    let a = h.new_str(&long);
    let b = h.new_str(&long);
    assert_ne!(a, b);
    t.set_str(a, int(1));
    assert_eq!(t.get_str(b), int(1), "long strings compare by content");
    t.set_str(b, int(2));
    assert_eq!(t.get_str(a), int(2), "same key, not a second entry");
    let k1 = h.new_str(b"key");
    t.set_str(k1, int(3));
    assert_eq!(t.get_str(h.new_str(b"key")), int(3));
    let mut n = 0;
    let mut k = Value::Nil;
    while let Some((nk, _)) = t.next(k).unwrap() {
        n += 1;
        k = nk;
    }
    assert_eq!(n, 2);
}

/// Assigning existing fields (including to nil) during a traversal visits every original key
/// exactly once.
#[test]
fn next_survives_assignment_during_traversal() {
    let mut h = Heap::with_seed(11);
    let mut t = Table::new();
    let mut expected = HashMap::new();
    for i in 1..=50 {
        t.set_int(i, int(i));
        expected.insert(format!("i{i}"), ());
    }
    for i in 0..200 {
        let s = h.new_str(format!("k{i}").as_bytes());
        t.set_str(s, int(i));
        expected.insert(format!("k{i}"), ());
        t.set(Value::Float(i as f64 + 0.5), int(i)).unwrap();
        expected.insert(format!("f{i}"), ());
    }
    let mut seen = HashMap::new();
    let mut k = Value::Nil;
    let mut step = 0;
    while let Some((nk, _)) = t.next(k).unwrap() {
        let name = match nk {
            Value::Int(i) => format!("i{i}"),
            Value::Str(s) => s.get().to_str_lossy().into_owned(),
            Value::Float(f) => format!("f{}", (f - 0.5) as i64),
            _ => unreachable!(),
        };
        assert!(seen.insert(name, ()).is_none(), "key visited twice");
        // Clear every other key, update the rest.
        if step % 2 == 0 {
            t.set(nk, Value::Nil).unwrap();
        } else {
            t.set(nk, int(-1)).unwrap();
        }
        step += 1;
        k = nk;
    }
    assert_eq!(seen.len(), expected.len());
    // What remains is exactly the updated half.
    let mut left = 0;
    let mut k = Value::Nil;
    while let Some((nk, v)) = t.next(k).unwrap() {
        assert_eq!(v, int(-1));
        left += 1;
        k = nk;
    }
    assert_eq!(left, expected.len() / 2);
}

/// Random inserts, overwrites and deletions of mixed keys, checked against a HashMap; rehash
/// must never lose an entry.
#[test]
fn rehash_preserves_entries_against_model() {
    let mut h = Heap::with_seed(5);
    let mut t = Table::new();
    let mut model: HashMap<i64, i64> = HashMap::new();
    let mut strs = Vec::new();
    for i in 0..500 {
        strs.push(h.new_str(format!("s{i}").as_bytes()));
    }
    // Key space: ints (some dense, some sparse, some negative) and strings (encoded as
    // STR + index in the model).
    const STR: i64 = 1 << 40;
    let mut x: u64 = 99;
    for step in 0..200_000i64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = x >> 33;
        let key = match r % 4 {
            0 => (r >> 3) as i64 % 2000 + 1,
            1 => ((r >> 3) as i64 % 5000) * 7919 - 100_000,
            _ => STR + (r >> 3) as i64 % 500,
        };
        let del = (r >> 20) % 3 == 0;
        let tkey = if key >= STR {
            Value::Str(strs[(key - STR) as usize])
        } else {
            Value::Int(key)
        };
        if del {
            t.set(tkey, Value::Nil).unwrap();
            model.remove(&key);
        } else {
            t.set(tkey, int(step)).unwrap();
            model.insert(key, step);
        }
    }
    for (&k, &v) in &model {
        let tkey = if k >= STR {
            Value::Str(strs[(k - STR) as usize])
        } else {
            Value::Int(k)
        };
        assert_eq!(t.get(tkey), int(v), "key {k}");
    }
    let mut n = 0;
    let mut k = Value::Nil;
    while let Some((nk, _)) = t.next(k).unwrap() {
        n += 1;
        k = nk;
    }
    assert_eq!(n, model.len(), "next visits exactly the live entries");
}

#[test]
fn big_tables() {
    let mut t = Table::new();
    for i in (1..=1_000_000i64).rev() {
        t.set_int(i, int(i));
    }
    assert_eq!(t.len(), 1_000_000);
    for i in [1, 2, 500_000, 1_000_000] {
        assert_eq!(t.get_int(i), int(i));
    }
    let mut t = Table::new();
    for i in 0..300_000i64 {
        t.set_int(i * 1_000_003, int(i));
    }
    for i in 0..300_000i64 {
        assert_eq!(t.get_int(i * 1_000_003), int(i));
    }
    assert!(t.hash_len() >= 300_000 && t.hash_len() <= 1 << 20);
}

#[test]
fn rehash_shrinks_array_when_sparse() {
    let mut t = Table::new();
    for i in 1..=64 {
        t.set_int(i, int(i));
    }
    assert_eq!(t.array_len(), 64);
    for i in 1..=64 {
        if i != 3 {
            t.set_int(i, Value::Nil);
        }
    }
    // Force rehashes with new non-integer keys.
    for i in 0..20 {
        t.set(Value::Float(i as f64 + 0.5), int(i)).unwrap();
    }
    assert!(t.array_len() < 64, "array part shrank to {}", t.array_len());
    assert_eq!(t.get_int(3), int(3));
    for i in 0..20 {
        assert_eq!(t.get(Value::Float(i as f64 + 0.5)), int(i));
    }
}

#[test]
fn metamethod_cache_is_invalidated_by_dunder_keys() {
    let mut h = Heap::with_seed(1);
    let mut t = Table::new();
    t.set_tm_absent(tm_flag::INDEX | tm_flag::EQ);
    assert_eq!(t.tm_absent(), tm_flag::INDEX | tm_flag::EQ);
    t.set_str(h.new_str(b"name"), int(1));
    assert_ne!(t.tm_absent(), 0, "ordinary keys keep the cache");
    t.set(Value::Str(h.new_str(b"__index")), int(1)).unwrap();
    assert_eq!(t.tm_absent(), 0);
}

#[test]
fn compute_sizes_matches_lua_rule() {
    let mut nums = [0usize; MAXABITS + 1];
    // keys 1, 2, 4 -> array size 4 (3 > 4/2)
    for k in [1u64, 2, 4] {
        nums[ceil_log2(k)] += 1;
    }
    assert_eq!(compute_sizes(&nums, 3), (4, 3));
    // keys 1 and 100 -> array size 1
    let mut nums = [0usize; MAXABITS + 1];
    for k in [1u64, 100] {
        nums[ceil_log2(k)] += 1;
    }
    assert_eq!(compute_sizes(&nums, 2), (1, 1));
    assert_eq!(ceil_log2(1), 0);
    assert_eq!(ceil_log2(2), 1);
    assert_eq!(ceil_log2(3), 2);
    assert_eq!(ceil_log2(1 << 31), 31);
}

#[test]
fn sizes() {
    assert_eq!(std::mem::size_of::<hash::Node>(), 40);
    assert_eq!(std::mem::size_of::<Table>(), 64);
}

/// Random integer stores, deletions and reads on small tables: `#t` after every step equals
/// lua5.4's (same array sizing, same length hint). Integer keys only: with string keys lua5.4
/// itself varies from run to run (its hash seed is random).
#[test]
fn borders_match_lua54_on_random_histories() {
    const SCRIPT: &str = r#"
        local x = 12345
        local function rnd() x = (x * 1103515245 + 12345) % 2147483648 return x end
        local out = {}
        for trial = 1, 200 do
          local t
          if trial % 3 == 0 then t = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13} else t = {} end
          for step = 1, 60 do
            local r = rnd()
            local k = r % 24 + 1
            local op = (r // 64) % 4
            if op == 0 then t[k] = nil elseif op == 1 then local _ = t[k] else t[k] = step end
            out[#out + 1] = #t
          end
        end
        io.write(table.concat(out, " "))
    "#;
    let Ok(output) = std::process::Command::new("lua5.4")
        .arg("-e")
        .arg(SCRIPT)
        .output()
    else {
        eprintln!("lua5.4 not installed: skipped");
        return;
    };
    let expected: Vec<i64> = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    let mut x: i64 = 12345;
    let mut rnd = || {
        x = (x * 1103515245 + 12345) % 2147483648;
        x
    };
    let mut got = Vec::new();
    for trial in 1..=200 {
        let mut t = if trial % 3 == 0 {
            ctor(&(1..=13).map(Some).collect::<Vec<_>>())
        } else {
            Table::new()
        };
        for step in 1..=60 {
            let r = rnd();
            let k = r % 24 + 1;
            match (r / 64) % 4 {
                0 => t.set_int(k, Value::Nil),
                1 => {
                    t.get_int(k);
                }
                _ => t.set_int(k, int(step)),
            }
            got.push(t.len());
        }
    }
    assert_eq!(got.len(), expected.len());
    let first_diff = got.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "first difference at step {first_diff:?}");
}

#[test]
fn entry_from_walks_like_next() {
    let mut h = Heap::with_seed(21);
    let mut t = Table::new();
    for i in 1..=10 {
        t.set_int(i, int(i));
    }
    for i in 0..10 {
        t.set_str(h.new_str(format!("k{i}").as_bytes()), int(i));
    }
    t.set_int(3, Value::Nil);
    let mut by_next = Vec::new();
    let mut k = Value::Nil;
    while let Some((nk, v)) = t.next(k).unwrap() {
        by_next.push((nk, v));
        k = nk;
    }
    let mut by_pos = Vec::new();
    let mut pos = 0;
    while let Some((i, k, v)) = t.entry_from(pos) {
        by_pos.push((k, v));
        pos = i + 1;
    }
    assert_eq!(by_next.len(), 19);
    assert_eq!(by_next, by_pos);
}

#[test]
fn strings_from_vectors() {
    let mut h = Heap::with_seed(22);
    let long = vec![b'z'; 1000];
    let a = h.new_str_from_vec(long.clone());
    let b = h.new_str(&long);
    assert!(Value::Str(a).raw_eq(&Value::Str(b)));
    let mut t = Table::new();
    t.set_str(a, int(1));
    assert_eq!(t.get_str(b), int(1));
    // Short ones are still interned.
    let s1 = h.new_str_from_vec(b"short".to_vec());
    assert_eq!(s1, h.new_str(b"short"));
}

/// Keys that differ only in high bits (floats `k + 0.5`) or above an alignment (addresses)
/// must not pile up in one chain.
#[test]
fn float_and_pointer_keys_spread() {
    let mut t = Table::new();
    for k in 0..4096 {
        t.set(Value::Float(k as f64 + 0.5), int(k)).unwrap();
        t.set(Value::LightUserData(k as usize * 4096), int(k))
            .unwrap();
    }
    let mut used = std::collections::HashSet::new();
    for k in 0..4096 {
        used.insert(t.hash.main_pos(&Value::Float(k as f64 + 0.5)));
        used.insert(t.hash.main_pos(&Value::LightUserData(k as usize * 4096)));
    }
    // 8192 keys in 8192 nodes: random placement fills about 63% of the nodes.
    assert!(
        used.len() > 4500,
        "only {} distinct main positions",
        used.len()
    );
}

#[test]
fn ensure_array_grows_in_place_of_rehashes() {
    let mut h = Heap::with_seed(23);
    let mut t = Table::with_capacity(1, 0);
    t.set_int(1, int(1));
    t.set_str(h.new_str(b"x"), int(0));
    t.ensure_array(5);
    assert_eq!(t.array_len(), 5);
    for i in 2..=5 {
        t.set_int(i, int(i));
    }
    assert_eq!(t.len(), 5);
    assert_eq!(t.get_str(h.new_str(b"x")), int(0), "hash entries kept");
    t.ensure_array(3);
    assert_eq!(t.array_len(), 5, "never shrinks");
}

/// `next_hinted` gives `next`'s answer whatever the hint: the right one, a stale one, one
/// from another table, one past the end, or one pointing at a long string equal to the key
/// but not identical to it (the hint must then be refused, not trusted).
#[test]
fn next_hinted_agrees_with_next_for_any_hint() {
    let mut h = Heap::with_seed(23);
    let mut t = Table::new();
    for i in 1..=8 {
        t.set_int(i, int(i));
    }
    for i in 0..40 {
        t.set_str(h.new_str(format!("k{i}").as_bytes()), int(i));
        t.set(Value::Float(i as f64 + 0.25), int(i)).unwrap();
    }
    let long_a = h.new_str(&[b'L'; 80]);
    let long_b = h.new_str(&[b'L'; 80]);
    t.set_str(long_a, int(99));
    t.set_int(5, Value::Nil);
    let mut keys = vec![Value::Nil];
    let mut k = Value::Nil;
    while let Some((nk, _)) = t.next(k).unwrap() {
        keys.push(nk);
        k = nk;
    }
    keys.push(Value::Str(long_b));
    let total = t.array_len() + t.hash_len();
    for &key in &keys {
        let want = t.next(key).unwrap();
        for hint in (0..total + 3).chain([usize::MAX / 2]) {
            let got = t.next_hinted(key, hint).unwrap().map(|(_, k, v)| (k, v));
            let same = match (want, got) {
                (None, None) => true,
                (Some((a, b)), Some((c, d))) => a.raw_identical(&c) && b.raw_identical(&d),
                _ => false,
            };
            assert!(same, "hint {hint} changed the answer");
        }
    }
    // The returned index is the next step's exact hint: a walk by hints visits every entry.
    let (mut k, mut hint, mut n) = (Value::Nil, 0, 0);
    while let Some((pos, nk, _)) = t.next_hinted(k, hint).unwrap() {
        assert!(t.key_at(pos, &nk));
        n += 1;
        k = nk;
        hint = pos;
    }
    assert_eq!(n, keys.len() - 2);
    // A key that is not in the table is still an error, hint or not.
    assert!(t.next_hinted(Value::Int(1000), 0).is_err());
    assert!(t.next_hinted(Value::Str(h.new_str(b"absent")), 3).is_err());
}

//! Lua 5.4's `table` library.
//!
//! Invariant: element access goes through `__index`/`__newindex`/`__len` exactly where 5.4
//! uses `lua_geti`/`lua_seti`/`luaL_len`; a table without a metatable takes a raw fast path
//! with the same observable result. Values held across a call into Lua (a sort comparator,
//! a metamethod) are rooted, so a collection inside the call cannot free them.

use hotlua_vm::api::{Args, RootedValue};
use hotlua_vm::compare::compare_prim;
use hotlua_vm::error::LuaError;
use hotlua_vm::state::Vm;
use hotlua_vm::value::Value;

use crate::open::new_lib;

/// Access wanted from a table argument (5.4's `TAB_R`, `TAB_W`, `TAB_L`).
const TAB_R: u8 = 1;
const TAB_W: u8 = 2;
const TAB_L: u8 = 4;
const TAB_RW: u8 = TAB_R | TAB_W;

/// 5.4's `checktab`: a table, or a value whose metatable has every metamethod `what`
/// needs; otherwise the standard "table expected" error.
fn check_tab(vm: &mut Vm, args: Args, i: usize, what: u8) -> Result<Value, LuaError> {
    let v = vm.arg(args, i);
    if let Value::Table(_) = v {
        return Ok(v);
    }
    if let Some(mt) = vm.metatable(v) {
        let has = |vm: &mut Vm, name: &str| {
            let k = vm.new_str(name);
            !mt.get().get_str(k).is_nil()
        };
        let ok = (what & TAB_R == 0 || has(vm, "__index"))
            && (what & TAB_W == 0 || has(vm, "__newindex"))
            && (what & TAB_L == 0 || has(vm, "__len"));
        if ok {
            return Ok(v);
        }
    }
    Err(vm.type_error_arg(args, i, "table"))
}

/// A plain table (no metatable): raw access gives the same result as `lua_geti`.
#[inline]
fn plain(v: Value) -> Option<hotlua_vm::gc::Gc<hotlua_vm::table::Table>> {
    match v {
        Value::Table(t) if t.get().metatable.is_none() => Some(t),
        _ => None,
    }
}

/// `lua_geti`.
#[inline]
fn geti(vm: &mut Vm, t: Value, i: i64) -> Result<Value, LuaError> {
    match plain(t) {
        Some(tb) => Ok(tb.get().get_int(i)),
        None => vm.index(t, Value::Int(i)),
    }
}

/// `lua_seti`.
#[inline]
fn seti(vm: &mut Vm, t: Value, i: i64, v: Value) -> Result<(), LuaError> {
    match plain(t) {
        Some(tb) => vm.raw_set(tb, Value::Int(i), v),
        None => vm.set_index(t, Value::Int(i), v),
    }
}

/// `luaL_len`.
#[inline]
fn len(vm: &mut Vm, t: Value) -> Result<i64, LuaError> {
    match plain(t) {
        Some(tb) => Ok(tb.get().len()),
        None => vm.len_of(t),
    }
}

/// `aux_getn`: check the table argument, then its length.
fn aux_getn(vm: &mut Vm, args: Args, i: usize, what: u8) -> Result<(Value, i64), LuaError> {
    let t = check_tab(vm, args, i, what | TAB_L)?;
    let n = len(vm, t)?;
    Ok((t, n))
}

fn tinsert(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let (t, n) = aux_getn(vm, args, 0, TAB_RW)?;
    let e = n.wrapping_add(1); // first empty slot
    let pos = match args.len() {
        2 => e,
        3 => {
            let pos = vm.check_int(args, 1)?;
            // 1 <= pos <= e, as an unsigned comparison (negatives wrap to huge).
            if (pos as u64).wrapping_sub(1) >= e as u64 {
                return Err(vm.arg_error(1, "position out of bounds"));
            }
            let mut i = e;
            while i > pos {
                let v = geti(vm, t, i - 1)?;
                seti(vm, t, i, v)?;
                i -= 1;
            }
            pos
        }
        _ => return Err(vm.rt_error("wrong number of arguments to 'insert'")),
    };
    let v = vm.arg(args, args.len() - 1);
    seti(vm, t, pos, v)?;
    Ok(0)
}

fn tremove(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let (t, size) = aux_getn(vm, args, 0, TAB_RW)?;
    let mut pos = vm.opt_int(args, 1, size)?;
    if pos != size && (pos as u64).wrapping_sub(1) > size as u64 {
        // 5.4.4 names argument #1 here (lua5.4 prints "bad argument #1 to 'remove'").
        return Err(vm.arg_error(0, "position out of bounds"));
    }
    let removed = geti(vm, t, pos)?;
    let keep = vm.root(removed);
    while pos < size {
        let v = geti(vm, t, pos + 1)?;
        seti(vm, t, pos, v)?;
        pos += 1;
    }
    seti(vm, t, pos, Value::Nil)?;
    vm.push(keep.get())?;
    Ok(1)
}

fn tmove(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let f = vm.check_int(args, 1)?;
    let e = vm.check_int(args, 2)?;
    let t = vm.check_int(args, 3)?;
    let tt = if vm.arg(args, 4).is_nil() { 0 } else { 4 };
    let src = check_tab(vm, args, 0, TAB_R)?;
    let dst = check_tab(vm, args, tt, TAB_W)?;
    if e >= f {
        if !(f > 0 || e < i64::MAX.wrapping_add(f)) {
            return Err(vm.arg_error(2, "too many elements to move"));
        }
        let n = e - f + 1;
        if t > i64::MAX - n + 1 {
            return Err(vm.arg_error(3, "destination wrap around"));
        }
        let different = tt != 0 && !vm.equals(src, dst)?;
        if t > e || t <= f || different {
            for i in 0..n {
                let v = geti(vm, src, f + i)?;
                seti(vm, dst, t + i, v)?;
            }
        } else {
            for i in (0..n).rev() {
                let v = geti(vm, src, f + i)?;
                seti(vm, dst, t + i, v)?;
            }
        }
    }
    vm.push(dst)?;
    Ok(1)
}

/// Appends `t[i]` to `buf`, or raises 5.4.4's concat error for a non-string value.
fn add_field(vm: &mut Vm, t: Value, i: i64, buf: &mut Vec<u8>) -> Result<(), LuaError> {
    let v = geti(vm, t, i)?;
    match v {
        Value::Str(s) => append(vm, buf, s.get().as_bytes())?,
        Value::Int(_) | Value::Float(_) => {
            let text = vm.tostring_basic(v);
            append(vm, buf, &text)?
        }
        _ => {
            let msg = format!(
                "invalid value ({}) at index {} in table for 'concat'",
                v.type_name(),
                i
            );
            return Err(vm.rt_error(&msg));
        }
    }
    Ok(())
}

/// Appends to a buffer that may grow large: the growth counts against the memory limit and
/// failing to get it is "not enough memory", not an abort.
fn append(vm: &mut Vm, buf: &mut Vec<u8>, bytes: &[u8]) -> Result<(), LuaError> {
    if buf.capacity() - buf.len() < bytes.len() {
        let want = bytes.len().max(buf.len());
        vm.check_alloc(want)?;
        if buf.len().saturating_add(bytes.len()) > hotlua_vm::string::MAX_STRING_LEN
            || buf.try_reserve(want).is_err()
        {
            return Err(vm.memory_error());
        }
    }
    buf.extend_from_slice(bytes);
    Ok(())
}

fn tconcat(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let (t, n) = aux_getn(vm, args, 0, TAB_R)?;
    let sep = match vm.opt_str(args, 1)? {
        Some(s) => s.get().as_bytes().to_vec(),
        None => Vec::new(),
    };
    let mut i = vm.opt_int(args, 2, 1)?;
    let last = vm.opt_int(args, 3, n)?;
    let mut buf = Vec::new();
    while i < last {
        add_field(vm, t, i, &mut buf)?;
        append(vm, &mut buf, &sep)?;
        i += 1;
        if i & 0xfff == 0 {
            vm.check_interrupt()?;
        }
    }
    if i == last {
        add_field(vm, t, i, &mut buf)?;
    }
    let s = Value::Str(vm.heap.new_str_from_vec(buf));
    vm.push(s)?;
    Ok(1)
}

fn tpack(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let t = vm.new_table();
    // Keep the new table reachable while the elements go in.
    vm.push(Value::Table(t))?;
    for i in 0..args.len() {
        let v = vm.arg(args, i);
        vm.raw_set(t, Value::Int(i as i64 + 1), v)?;
    }
    let k = vm.str_value("n");
    vm.raw_set(t, k, Value::Int(args.len() as i64))?;
    Ok(1)
}

fn tunpack(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let t = vm.arg(args, 0);
    let mut i = vm.opt_int(args, 1, 1)?;
    let e = if vm.arg(args, 2).is_nil() {
        len(vm, t)?
    } else {
        vm.check_int(args, 2)?
    };
    if i > e {
        return Ok(0);
    }
    let n = (e as u64).wrapping_sub(i as u64);
    if n >= i32::MAX as u64 || !vm.check_stack(n as usize + 1) {
        return Err(vm.rt_error("too many results to unpack"));
    }
    if let Some(tb) = plain(t) {
        while i <= e {
            let v = tb.get().get_int(i);
            vm.push(v)?;
            if i == e {
                break;
            }
            i += 1;
        }
    } else {
        loop {
            let v = geti(vm, t, i)?;
            vm.push(v)?;
            if i == e {
                break;
            }
            i += 1;
        }
    }
    Ok(n as usize + 1)
}

// ---- sort ---------------------------------------------------------------------------------

/// State of one `table.sort`: the table, the order function (nil for `<`), and rooted
/// slots for the values held across comparator calls (the pivot and the two elements being
/// swapped), as PUC keeps them on its stack.
struct Sorter {
    t: Value,
    cmp: Value,
    pivot: RootedValue,
    ai: RootedValue,
    aj: RootedValue,
    /// Pseudo-random state for pivot choice after an unbalanced partition (deterministic,
    /// so runs are reproducible; it only guards against quadratic inputs).
    rnd: u32,
}

/// Intervals shorter than this always take the middle element as pivot.
const RANLIMIT: i64 = 100;

impl Sorter {
    /// `a < b` under the sort's order.
    fn less(&self, vm: &mut Vm, a: Value, b: Value) -> Result<bool, LuaError> {
        if self.cmp.is_nil() {
            if let Some(r) = compare_prim(a, b, false) {
                return Ok(r);
            }
            return vm.less_than(a, b);
        }
        let r = vm.call_value(self.cmp, &[a, b])?;
        Ok(r.first().is_some_and(|v| v.is_truthy()))
    }

    fn get(&self, vm: &mut Vm, i: i64) -> Result<Value, LuaError> {
        geti(vm, self.t, i)
    }

    fn set(&self, vm: &mut Vm, i: i64, v: Value) -> Result<(), LuaError> {
        seti(vm, self.t, i, v)
    }

    /// Swaps `a[i]` and `a[j]` given their values.
    fn swap(&self, vm: &mut Vm, i: i64, vi: Value, j: i64, vj: Value) -> Result<(), LuaError> {
        self.set(vm, i, vj)?;
        self.set(vm, j, vi)
    }

    fn invalid(vm: &mut Vm) -> LuaError {
        vm.rt_error("invalid order function for sorting")
    }

    /// Partitions `a[lo..=up]` around the pivot held in `a[up - 1]` (and `self.pivot`);
    /// returns the pivot's final index. Every index stays within `lo..=up` even with an
    /// inconsistent order function: such a function is caught and reported.
    fn partition(&self, vm: &mut Vm, lo: i64, up: i64) -> Result<i64, LuaError> {
        let mut i = lo;
        let mut j = up - 1;
        loop {
            vm.check_interrupt()?;
            // Advance i while a[i] < P.
            loop {
                i += 1;
                let v = self.get(vm, i)?;
                self.ai.set(v);
                if !self.less(vm, v, self.pivot.get())? {
                    break;
                }
                if i == up - 1 {
                    return Err(Self::invalid(vm));
                }
            }
            // Retreat j while P < a[j].
            loop {
                j -= 1;
                let v = self.get(vm, j)?;
                self.aj.set(v);
                if !self.less(vm, self.pivot.get(), v)? {
                    break;
                }
                if j < i {
                    return Err(Self::invalid(vm));
                }
            }
            if j < i {
                // Put the pivot (at up - 1) in its place, i.
                self.swap(vm, up - 1, self.pivot.get(), i, self.ai.get())?;
                return Ok(i);
            }
            self.swap(vm, i, self.ai.get(), j, self.aj.get())?;
        }
    }

    fn choose_pivot(&mut self, lo: i64, up: i64) -> i64 {
        if up - lo < RANLIMIT || self.rnd == 0 {
            return lo + (up - lo) / 2;
        }
        let r4 = (up - lo) / 4;
        (self.rnd as i64) % (r4 * 2) + lo + r4
    }

    fn sort(&mut self, vm: &mut Vm, mut lo: i64, mut up: i64) -> Result<(), LuaError> {
        while lo < up {
            vm.check_interrupt()?;
            // Order a[lo] and a[up].
            let vl = self.get(vm, lo)?;
            self.ai.set(vl);
            let vu = self.get(vm, up)?;
            self.aj.set(vu);
            if self.less(vm, vu, vl)? {
                self.swap(vm, lo, self.ai.get(), up, self.aj.get())?;
            }
            if up - lo == 1 {
                break;
            }
            let p = self.choose_pivot(lo, up);
            // Order a[p] between a[lo] and a[up].
            let vp = self.get(vm, p)?;
            self.ai.set(vp);
            let vl = self.get(vm, lo)?;
            self.aj.set(vl);
            if self.less(vm, vp, vl)? {
                self.swap(vm, p, self.ai.get(), lo, self.aj.get())?;
            } else {
                let vu = self.get(vm, up)?;
                self.aj.set(vu);
                if self.less(vm, vu, self.ai.get())? {
                    self.swap(vm, p, self.ai.get(), up, self.aj.get())?;
                }
            }
            if up - lo == 2 {
                break;
            }
            // The pivot goes to up - 1 while partitioning.
            let pv = self.get(vm, p)?;
            self.pivot.set(pv);
            let v2 = self.get(vm, up - 1)?;
            self.swap(vm, p, pv, up - 1, v2)?;
            let p = self.partition(vm, lo, up)?;
            // Recurse into the smaller half, loop on the larger one (bounded depth).
            let n;
            if p - lo < up - p {
                self.sort(vm, lo, p - 1)?;
                n = p - lo;
                lo = p + 1;
            } else {
                self.sort(vm, p + 1, up)?;
                n = up - p;
                up = p - 1;
            }
            if (up - lo) / 128 > n {
                // Unbalanced: pick later pivots pseudo-randomly.
                self.rnd = self.rnd.wrapping_mul(1_103_515_245).wrapping_add(12_345) | 1;
            }
        }
        Ok(())
    }
}

fn tsort(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let (t, n) = aux_getn(vm, args, 0, TAB_RW)?;
    if n > 1 {
        if n >= i32::MAX as i64 {
            return Err(vm.arg_error(0, "array too big"));
        }
        let cmp = vm.arg(args, 1);
        if !cmp.is_nil() && !cmp.is_function() {
            return Err(vm.type_error_arg(args, 1, "function"));
        }
        let mut s = Sorter {
            t,
            cmp,
            pivot: vm.root(Value::Nil),
            ai: vm.root(Value::Nil),
            aj: vm.root(Value::Nil),
            rnd: 0,
        };
        s.sort(vm, 1, n)?;
    }
    Ok(0)
}

/// Installs the `table` library.
pub fn open(vm: &mut Vm) {
    new_lib(
        vm,
        "table",
        &[
            ("concat", tconcat),
            ("insert", tinsert),
            ("move", tmove),
            ("pack", tpack),
            ("remove", tremove),
            ("sort", tsort),
            ("unpack", tunpack),
        ],
    );
}

//! The interpreter loop: one `match` on the opcode per instruction, registers addressed
//! through a raw pointer to the frame's base (reloaded after anything that may reallocate
//! the stack), fast paths inline, slow paths (metamethods, coercions, errors) in `meta.rs`,
//! `arith.rs`, `compare.rs` and `call.rs`.
//!
//! Invariants while a frame runs: `base` points at `stack[frame_base]` of the current
//! thread and `frame_base + max_stack <= stack.len()`; `ci.pc` is saved before any call
//! that may raise an error, run Lua, or inspect the frame (tracebacks, variable names);
//! the running frame is the last one (`frames[ci_idx]`). Lua-to-Lua calls and returns
//! switch frames without leaving the loop: a call sets the frame state directly, and a
//! frame flagged `LUA_CALLER` returns straight into the Lua frame below it. Code comes from
//! the compiler, which keeps jumps and constant indices in bounds and emits RETURN0/RETURN1
//! (or RETURN without k) only in functions with nothing to close.
#![deny(unsafe_op_in_unsafe_fn)]

use hotlua_compiler::opcode::OpCode;

use crate::arith::{self, ArithOp};
use crate::call::Called;
use crate::debuginfo::Operand;
use crate::error::LuaError;
use crate::function::{Builtin, FnProto, LuaClosure, UpvalCell};
use crate::gc::Gc;
use crate::meta::{Meta, Tm};
use crate::state::Vm;
use crate::thread::{flags, CallInfo};
use crate::value::Value;
use hotlua_compiler::opcode::Instr;
use std::cell::Cell;

impl Vm {
    /// Runs Lua frames from the top frame until a FRESH frame returns.
    #[allow(unused_assignments)]
    pub(crate) fn run(&mut self) -> Result<(), LuaError> {
        let thg = self.cur;
        // Traversal index of the key the last `pairs` step returned (see `next_hinted`): a
        // guess, checked before use, so it may come from another loop or table.
        let mut next_hint = 0usize;
        // The running frame's state, kept in locals across its instructions: loaded from its
        // CallInfo when a frame (re)starts running (`load_frame!`), or set directly by a
        // Lua-to-Lua call, which knows every value already (`enter_frame!`). Only what the
        // fast paths use is kept (each is stored on every frame entry); slow paths read the
        // rest from the CallInfo (`ci_top!`, `proto!`).
        let mut ci_idx: usize;
        let mut frame_base: usize;
        let mut clg: Gc<LuaClosure>;
        // The proto's constants (indices emitted by the compiler are in bounds).
        let mut kst: *const Value;
        // Reloaded with `base`: patching may give the closure a longer upvalue array.
        let mut upvals: &[Cell<Gc<UpvalCell>>];
        // The next instruction as a pointer (one register, one load per fetch); `pc!()`
        // gives its index for the slow paths that save or report it. Moves use wrapping
        // arithmetic: only the fetch relies on the compiler keeping jumps in the code.
        let mut code_start: *const Instr;
        let mut ip: *const Instr;
        let mut base: *mut Value;
        #[cfg(debug_assertions)]
        let mut code_len: usize;
        #[cfg(debug_assertions)]
        let mut kst_len: usize;
        // Makes the frame at `frames[$idx]` (closure `$cl`, proto `$p`, registers from
        // `$fb`) the running one, at instruction `$pc`.
        macro_rules! enter_frame {
            ($idx:expr, $cl:expr, $p:expr, $fb:expr, $pc:expr, $ups:expr) => {{
                ci_idx = $idx;
                clg = $cl;
                let pr: &FnProto = $p.get();
                kst = pr.constants.as_ptr();
                code_start = pr.code.as_ptr();
                #[cfg(debug_assertions)]
                {
                    code_len = pr.code.len();
                    kst_len = pr.constants.len();
                }
                ip = code_start.wrapping_add($pc);
                frame_base = $fb;
                // `$ups` is the closure's upvalue array for `$p` (`frame_upvals`, or the
                // current one for a closure never patched), detached: the closure is
                // referenced by the frame's CallInfo (traced with the running thread, so
                // alive while the frame is on the frame stack, and `upvals` is replaced
                // before another frame runs), and never frees an array before it dies
                // (patching keeps the replaced ones in its history). Patching may give the
                // closure a new array, which is why `upvals` is reloaded after anything that
                // may run other code (`reload!`). The code and constants pointers point into
                // the frame's proto, kept alive the same way and never mutated once built.
                upvals = $ups;
                let th = thg.get_mut();
                debug_assert!(frame_base + pr.max_stack as usize <= th.stack.len());
                // SAFETY: a Lua frame's registers lie inside the stack (ensured when it was
                // pushed; the stack never shrinks).
                base = unsafe { th.stack.as_mut_ptr().add(frame_base) };
            }};
        }
        // Makes the Lua frame `frames[$idx]` the running one, from its saved state.
        macro_rules! load_frame {
            ($idx:expr) => {{
                let idx = $idx;
                let th = thg.get_mut();
                // Fields are read one by one (copying the whole CallInfo just after it was
                // pushed stalls on store forwarding).
                let ci = &th.frames[idx];
                let (fb, pc0) = (ci.base, ci.pc);
                let (Some(c), Some(p)) = (ci.closure, ci.proto) else {
                    return Err(
                        self.rt_error("internal error: interpreter entered a non-Lua frame")
                    );
                };
                enter_frame!(idx, c, p, fb, pc0, frame_upvals(c, || p));
            }};
        }
        'frame: loop {
            load_frame!(thg.get().frames.len() - 1);
            macro_rules! pc {
                () => {
                    (ip as usize - code_start as usize) / std::mem::size_of::<Instr>()
                };
            }
            // Drops the running frame, whose flags say LUA_CALLER, and resumes its caller:
            // the Lua frame just below it.
            macro_rules! pop_to_caller {
                ($th:expr) => {{
                    let th = $th;
                    debug_assert!(ci_idx + 1 == th.frames.len() && ci_idx > 0);
                    // SAFETY: the running frame is the last one (ci_idx < len), and
                    // CallInfo is Copy: shortening the vector drops nothing.
                    unsafe { th.frames.set_len(ci_idx) };
                    load_frame!(ci_idx - 1);
                }};
            }
            // End of the running frame's registers (slow paths only).
            macro_rules! ci_top {
                () => {
                    thg.get().frames[ci_idx].top
                };
            }
            // The running frame's proto (slow paths only).
            macro_rules! proto {
                () => {
                    match thg.get().frames[ci_idx].proto {
                        Some(p) => p,
                        None => unreachable!("a Lua frame has a proto"),
                    }
                };
            }
            // Constant `$x` of the running function.
            macro_rules! k {
                ($x:expr) => {{
                    let x = $x as usize;
                    #[cfg(debug_assertions)]
                    debug_assert!(x < kst_len);
                    // SAFETY: constant indices emitted by the compiler are in bounds of the
                    // proto's constants, which the frame keeps alive.
                    unsafe { &*kst.add(x) }
                }};
            }
            // The instruction after the running one (EXTRAARG, or a peek by NEWTABLE).
            macro_rules! next_instr {
                () => {{
                    #[cfg(debug_assertions)]
                    debug_assert!(pc!() < code_len);
                    // SAFETY: only instructions that are not returns call this, and a
                    // compiled function ends in a return, so `ip` is still in the code.
                    unsafe { *ip }
                }};
            }

            macro_rules! reg {
                ($x:expr) => {
                    // SAFETY: registers are below max_stack, and the frame owns
                    // frame_base..frame_base+max_stack of a stack at least that long
                    // (ensured when the frame was pushed); `base` is reloaded after
                    // anything that may reallocate the stack.
                    unsafe { *base.add($x as usize) }
                };
            }
            macro_rules! regp {
                ($x:expr) => {
                    // SAFETY: as `reg!`; the reference is used before anything can move
                    // the stack.
                    unsafe { &*base.add($x as usize) }
                };
            }
            macro_rules! set_reg {
                ($x:expr, $v:expr) => {{
                    let v = $v;
                    // SAFETY: as `reg!`.
                    unsafe { *base.add($x as usize) = v }
                }};
            }
            macro_rules! reload {
                () => {
                    // SAFETY: as in `enter_frame!`.
                    base = unsafe { thg.get_mut().stack.as_mut_ptr().add(frame_base) };
                    // The closure may have been patched: a frame keeps its version's cells.
                    upvals = frame_upvals(clg, || proto!());
                };
            }
            // Before a slow path: save pc, and put the top above the frame's registers so
            // Rust-level calls do not clobber them.
            macro_rules! sync {
                () => {{
                    // The frame's top is read before the thread is borrowed mutably: a
                    // shared borrow made while `t` is live would invalidate `t` (Stacked
                    // Borrows: a read through the parent pointer disables the unique child).
                    let top = ci_top!();
                    let t = thg.get_mut();
                    t.frames[ci_idx].pc = pc!();
                    t.top = top;
                }};
            }
            // A backward jump: the point where a running loop notices an interrupt another
            // thread requested (calls notice it in `push_lua_frame`), so that any loop or
            // recursion stops at its next iteration.
            macro_rules! back_edge {
                () => {
                    if self.signal.stop_pending() {
                        sync!();
                        if let Some(e) = self.stop_error() {
                            return Err(e);
                        }
                    }
                };
            }
            // After a table store that resized the table: a safe point (the growth was
            // accounted, so a collection runs when due, and the memory limit applies), and
            // the place a failed resize becomes "not enough memory".
            macro_rules! grew {
                () => {{
                    gc_check!();
                    if crate::gc::take_alloc_failure() {
                        sync!();
                        return Err(self.memory_error());
                    }
                }};
            }
            macro_rules! meta_result {
                ($e:expr, $a:expr) => {{
                    sync!();
                    let r = $e;
                    reload!();
                    match r? {
                        Meta::Done(v) => set_reg!($a, v),
                        Meta::Pushed => continue 'frame,
                    }
                }};
            }
            // `t[key] = v` through `__newindex` (or its error) for R[A].
            macro_rules! set_slow {
                ($a:expr, $t:expr, $key:expr, $v:expr) => {{
                    let (t, key, v) = ($t, $key, $v);
                    sync!();
                    let r = self.newindex_slow(t, key, v, Operand::Reg($a), true);
                    reload!();
                    if let Meta::Pushed = r? {
                        continue 'frame;
                    }
                }};
            }
            macro_rules! cond_result {
                ($e:expr, $k:expr) => {{
                    sync!();
                    let r = $e;
                    reload!();
                    match r? {
                        Meta::Done(v) => {
                            if v.is_truthy() != $k {
                                ip = ip.wrapping_add(1);
                            }
                        }
                        Meta::Pushed => continue 'frame,
                    }
                }};
            }
            // A safe point. `gc_check!(live)` names the first register (absolute slot) that
            // holds nothing live at this instruction: the compiler puts the targets of
            // NEWTABLE, CLOSURE, CONCAT and calls at its first free register, as PUC's
            // does, so the registers above the result are dead temporaries (a finished
            // call's arguments, say) and are cleared before collecting, or what they held
            // would live as long as the frame. Clearing is sound whatever the bytecode
            // does (a verified binary chunk may break that layout): it only drops values.
            macro_rules! gc_check {
                () => {
                    gc_check!(usize::MAX)
                };
                ($live:expr) => {
                    if self.gc_stress || self.heap.should_collect() {
                        let live: usize = $live;
                        // The top may mark pending multiple results (after a CALL with
                        // C = 0): keep it, but never below the frame's registers.
                        let top = ci_top!();
                        let t = thg.get_mut();
                        t.frames[ci_idx].pc = pc!();
                        if live < top {
                            let end = top.min(t.stack.len());
                            if live < end {
                                for v in &mut t.stack[live..end] {
                                    *v = Value::Nil;
                                }
                            }
                        }
                        let saved_top = t.top;
                        t.top = saved_top.max(top);
                        self.full_gc();
                        thg.get_mut().top = saved_top;
                        reload!();
                        if self.heap.over_limit(0) && !self.gc_inhibited() {
                            return Err(self.memory_error());
                        }
                    }
                };
            }
            // Operands are matched by reference: reading the tag and the payload separately
            // lets the CPU forward them from the two stores that wrote the register.
            macro_rules! arith {
                ($op:expr, $a:expr, $x:expr, $y:expr, $dx:expr, $dy:expr, $int:expr, $flt:expr) => {{
                    let x: &Value = $x;
                    let y: &Value = $y;
                    let r = match (x, y) {
                        (Value::Int(p), Value::Int(q)) => $int(*p, *q),
                        (Value::Float(p), Value::Float(q)) => Some(Value::Float($flt(*p, *q))),
                        (Value::Int(p), Value::Float(q)) => Some(Value::Float($flt(*p as f64, *q))),
                        (Value::Float(p), Value::Int(q)) => Some(Value::Float($flt(*p, *q as f64))),
                        _ => None,
                    };
                    match r {
                        Some(v) => set_reg!($a, v),
                        None => {
                            let (x, y) = (*x, *y);
                            meta_result!(self.arith_slow($op, x, y, $dx, $dy, true), $a)
                        }
                    }
                }};
            }
            macro_rules! bitwise {
                ($op:expr, $a:expr, $x:expr, $y:expr, $dx:expr, $dy:expr, $f:expr) => {{
                    let x: &Value = $x;
                    let y: &Value = $y;
                    match (x, y) {
                        (Value::Int(p), Value::Int(q)) => set_reg!($a, Value::Int($f(*p, *q))),
                        _ => {
                            let (x, y) = (*x, *y);
                            meta_result!(self.arith_slow($op, x, y, $dx, $dy, true), $a)
                        }
                    }
                }};
            }
            // LTI/LEI/GTI/GEI: R[A] against the immediate sB (a float when C is set), one arm
            // per opcode. `le`: the comparison is `<=`; `swap`: the immediate is on the left
            // (GTI/GEI ask `sB < R[A]` / `sB <= R[A]` of a metamethod).
            macro_rules! cmp_imm {
                ($i:expr, $fi:expr, $ff:expr, $le:expr, $swap:expr) => {{
                    let i = $i;
                    let sb = i.sb() as i64;
                    let cond = match *regp!(i.a()) {
                        Value::Int(p) => $fi(p, sb),
                        Value::Float(f) => $ff(f, sb as f64),
                        x => {
                            let imm = if i.c() != 0 {
                                Value::Float(sb as f64)
                            } else {
                                Value::Int(sb)
                            };
                            let (l, r) = if $swap { (imm, x) } else { (x, imm) };
                            let r = self.compare_slow_sync(ci_idx, pc!(), ci_top!(), l, r, $le);
                            reload!();
                            match r? {
                                Meta::Done(v) => {
                                    if v.is_truthy() != i.k() {
                                        ip = ip.wrapping_add(1);
                                    }
                                }
                                Meta::Pushed => continue 'frame,
                            }
                            continue;
                        }
                    };
                    if cond != i.k() {
                        ip = ip.wrapping_add(1);
                    }
                }};
            }
            let add = |p: i64, q: i64| Some(Value::Int(p.wrapping_add(q)));
            let sub = |p: i64, q: i64| Some(Value::Int(p.wrapping_sub(q)));
            let mul = |p: i64, q: i64| Some(Value::Int(p.wrapping_mul(q)));
            let imod = |p: i64, q: i64| {
                if q == 0 {
                    None
                } else {
                    Some(Value::Int(arith::int_mod(p, q)))
                }
            };
            let idiv = |p: i64, q: i64| {
                if q == 0 {
                    None
                } else {
                    Some(Value::Int(arith::int_idiv(p, q)))
                }
            };
            let fdiv = |p: i64, q: i64| Some(Value::Float(p as f64 / q as f64));
            let fpow = |p: i64, q: i64| Some(Value::Float(arith::float_pow(p as f64, q as f64)));
            let fmod = |p: f64, q: f64| arith::float_arith(ArithOp::Mod, p, q);
            let fidiv = |p: f64, q: f64| (p / q).floor();

            loop {
                // Debug and host hooks: one flag test per instruction while none is set.
                // (Interrupts are tested at back-edges and calls: see `back_edge!`.)
                if self.hooks.mask != 0 {
                    thg.get_mut().frames[ci_idx].pc = pc!();
                    let r = self.on_signal();
                    reload!();
                    r?;
                }
                #[cfg(debug_assertions)]
                debug_assert!(pc!() < code_len);
                // SAFETY: a compiled function always ends in a return, and jumps stay inside
                // the code (the compiler's contract), so `ip` points into `code`, which the
                // frame's proto keeps alive.
                let i = unsafe { *ip };
                ip = ip.wrapping_add(1);
                let a = i.a();
                match decode_op(i) {
                    OpCode::Move => set_reg!(a, reg!(i.b())),
                    OpCode::LoadI => set_reg!(a, Value::Int(i.sbx() as i64)),
                    OpCode::LoadF => set_reg!(a, Value::Float(i.sbx() as f64)),
                    OpCode::LoadK => set_reg!(a, *k!(i.bx())),
                    OpCode::LoadKX => {
                        let ax = next_instr!().ax();
                        ip = ip.wrapping_add(1);
                        set_reg!(a, *k!(ax));
                    }
                    OpCode::LoadFalse => set_reg!(a, Value::Bool(false)),
                    OpCode::LFalseSkip => {
                        set_reg!(a, Value::Bool(false));
                        ip = ip.wrapping_add(1);
                    }
                    OpCode::LoadTrue => set_reg!(a, Value::Bool(true)),
                    OpCode::LoadNil => {
                        for r in a..=a + i.b() {
                            set_reg!(r, Value::Nil);
                        }
                    }
                    OpCode::GetUpval => set_reg!(a, upvals[i.b() as usize].get().get().get()),
                    OpCode::SetUpval => upvals[i.b() as usize].get().get().set(reg!(a)),
                    OpCode::GetTabUp => {
                        let t = upvals[i.b() as usize].get().get().get();
                        let key = *k!(i.c() as usize);
                        if let (Value::Table(tg), Value::Str(ks)) = (t, key) {
                            let tb = tg.get();
                            let v = tb.get_str(ks);
                            if !v.is_nil() || tb.metatable.is_none() {
                                set_reg!(a, v);
                                continue;
                            }
                            if let Some(v) = self.index_chain_str(tg, ks) {
                                set_reg!(a, v);
                                continue;
                            }
                        }
                        meta_result!(self.index_slow(t, key, Operand::Upval(i.b()), true), a);
                    }
                    OpCode::GetTable => {
                        // Operands are read in place (tag, then payload), not copied out.
                        let (tv, kv) = (regp!(i.b()), regp!(i.c()));
                        if let Value::Table(tg) = tv {
                            let tb = tg.get();
                            let v = match kv {
                                Value::Int(n) => tb.get_int(*n),
                                Value::Str(s) => tb.get_str(*s),
                                _ => tb.get(*kv),
                            };
                            if !v.is_nil() || tb.metatable.is_none() {
                                set_reg!(a, v);
                                continue;
                            }
                        }
                        let (t, key) = (*tv, *kv);
                        meta_result!(self.index_slow(t, key, Operand::Reg(i.b()), true), a);
                    }
                    OpCode::GetI => {
                        let tv = regp!(i.b());
                        let n = i.c() as i64;
                        if let Value::Table(tg) = tv {
                            let tb = tg.get();
                            let v = tb.get_int(n);
                            if !v.is_nil() || tb.metatable.is_none() {
                                set_reg!(a, v);
                                continue;
                            }
                        }
                        let t = *tv;
                        meta_result!(
                            self.index_slow(t, Value::Int(n), Operand::Reg(i.b()), true),
                            a
                        );
                    }
                    OpCode::GetField => {
                        let tv = regp!(i.b());
                        let key = *k!(i.c() as usize);
                        if let (Value::Table(tg), Value::Str(ks)) = (tv, key) {
                            let (tg, tb) = (*tg, tg.get());
                            let v = tb.get_str(ks);
                            if !v.is_nil() || tb.metatable.is_none() {
                                set_reg!(a, v);
                                continue;
                            }
                            if let Some(v) = self.index_chain_str(tg, ks) {
                                set_reg!(a, v);
                                continue;
                            }
                        }
                        let t = *tv;
                        meta_result!(self.index_slow(t, key, Operand::Reg(i.b()), true), a);
                    }
                    OpCode::SetTabUp => {
                        let t = upvals[a as usize].get().get().get();
                        let key = *k!(i.b() as usize);
                        let v = if i.k() {
                            *k!(i.c() as usize)
                        } else {
                            reg!(i.c())
                        };
                        if let (Value::Table(tg), Value::Str(ks)) = (t, key) {
                            if self.fast_set_ok(tg, key) {
                                if tg.get_mut().set_str_grow(ks, v) {
                                    grew!();
                                }
                                continue;
                            }
                        }
                        sync!();
                        let r = self.newindex_slow(t, key, v, Operand::Upval(a), true);
                        reload!();
                        if let Meta::Pushed = r? {
                            continue 'frame;
                        }
                    }
                    OpCode::SetTable => {
                        let (kv, v) = (
                            regp!(i.b()),
                            if i.k() {
                                *k!(i.c() as usize)
                            } else {
                                reg!(i.c())
                            },
                        );
                        if let Value::Table(tg) = regp!(a) {
                            let tg = *tg;
                            let done = match kv {
                                Value::Int(n) if self.fast_set_ok(tg, *kv) => {
                                    Some(tg.get_mut().set_int_grow(*n, v))
                                }
                                Value::Str(s) if self.fast_set_ok(tg, *kv) => {
                                    Some(tg.get_mut().set_str_grow(*s, v))
                                }
                                _ if self.fast_set_ok(tg, *kv) => {
                                    tg.get_mut().set_grow(*kv, v).ok()
                                }
                                _ => None,
                            };
                            if let Some(g) = done {
                                if g {
                                    grew!();
                                }
                                continue;
                            }
                        }
                        set_slow!(a, reg!(a), reg!(i.b()), v);
                    }
                    OpCode::SetI => {
                        let v = if i.k() {
                            *k!(i.c() as usize)
                        } else {
                            reg!(i.c())
                        };
                        let n = i.b() as i64;
                        if let Value::Table(tg) = regp!(a) {
                            let tg = *tg;
                            if self.fast_set_ok(tg, Value::Int(n)) {
                                if tg.get_mut().set_int_grow(n, v) {
                                    grew!();
                                }
                                continue;
                            }
                        }
                        set_slow!(a, reg!(a), Value::Int(n), v);
                    }
                    OpCode::SetField => {
                        let v = if i.k() {
                            *k!(i.c() as usize)
                        } else {
                            reg!(i.c())
                        };
                        let key = k!(i.b() as usize);
                        if let (Value::Table(tg), Value::Str(ks)) = (regp!(a), key) {
                            let tg = *tg;
                            if self.fast_set_ok(tg, *key) {
                                if tg.get_mut().set_str_grow(*ks, v) {
                                    grew!();
                                }
                                continue;
                            }
                        }
                        set_slow!(a, reg!(a), *key, v);
                    }
                    OpCode::NewTable => {
                        let b = i.b();
                        let mut asize = i.c() as usize;
                        let next = next_instr!();
                        if next.op() == OpCode::ExtraArg {
                            if i.k() {
                                asize += next.ax() as usize * 256;
                            }
                            ip = ip.wrapping_add(1);
                        }
                        let hsize = if b > 0 { 1usize << (b - 1).min(30) } else { 0 };
                        let t = self.heap.new_table_with(asize, hsize);
                        set_reg!(a, Value::Table(t));
                        gc_check!(frame_base + a as usize + 1);
                    }
                    OpCode::SelfOp => {
                        let t = reg!(i.b());
                        let key = if i.k() {
                            *k!(i.c() as usize)
                        } else {
                            reg!(i.c())
                        };
                        set_reg!(a + 1, t);
                        if let (Value::Table(tg), Value::Str(ks)) = (t, key) {
                            let tb = tg.get();
                            let v = tb.get_str(ks);
                            if !v.is_nil() || tb.metatable.is_none() {
                                set_reg!(a, v);
                                continue;
                            }
                            if let Some(v) = self.index_chain_str(tg, ks) {
                                set_reg!(a, v);
                                continue;
                            }
                        }
                        meta_result!(self.index_slow(t, key, Operand::Reg(i.b()), true), a);
                    }
                    OpCode::AddI => {
                        // Matched in place: tag and payload are read separately (see arith!).
                        match *regp!(i.b()) {
                            Value::Int(p) => set_reg!(a, Value::Int(p.wrapping_add(i.sc() as i64))),
                            Value::Float(f) => set_reg!(a, Value::Float(f + i.sc() as f64)),
                            _ => {
                                let x = reg!(i.b());
                                let imm = Value::Int(i.sc() as i64);
                                if i.k() {
                                    meta_result!(
                                        self.arith_slow(
                                            ArithOp::Add,
                                            imm,
                                            x,
                                            Operand::None,
                                            Operand::Reg(i.b()),
                                            true
                                        ),
                                        a
                                    )
                                } else {
                                    meta_result!(
                                        self.arith_slow(
                                            ArithOp::Add,
                                            x,
                                            imm,
                                            Operand::Reg(i.b()),
                                            Operand::None,
                                            true
                                        ),
                                        a
                                    )
                                }
                            }
                        }
                    }
                    OpCode::AddK | OpCode::MulK if i.k() => {
                        // Operands swapped by the compiler: the metamethod sees them in
                        // source order.
                        let op = if i.op() == OpCode::AddK {
                            ArithOp::Add
                        } else {
                            ArithOp::Mul
                        };
                        let f = if op == ArithOp::Add { add } else { mul };
                        let fl = |p: f64, q: f64| if op == ArithOp::Add { q + p } else { q * p };
                        arith!(
                            op,
                            a,
                            k!(i.c() as usize),
                            regp!(i.b()),
                            Operand::None,
                            Operand::Reg(i.b()),
                            f,
                            fl
                        )
                    }
                    OpCode::AddK => arith!(
                        ArithOp::Add,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        add,
                        |p: f64, q: f64| p + q
                    ),
                    OpCode::SubK => arith!(
                        ArithOp::Sub,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        sub,
                        |p: f64, q: f64| p - q
                    ),
                    OpCode::MulK => arith!(
                        ArithOp::Mul,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        mul,
                        |p: f64, q: f64| p * q
                    ),
                    OpCode::ModK => arith!(
                        ArithOp::Mod,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        imod,
                        fmod
                    ),
                    OpCode::PowK => arith!(
                        ArithOp::Pow,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        fpow,
                        arith::float_pow
                    ),
                    OpCode::DivK => arith!(
                        ArithOp::Div,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        fdiv,
                        |p: f64, q: f64| p / q
                    ),
                    OpCode::IDivK => arith!(
                        ArithOp::IDiv,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        idiv,
                        fidiv
                    ),
                    OpCode::BAndK => bitwise!(
                        ArithOp::BAnd,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        |p: i64, q: i64| p & q
                    ),
                    OpCode::BOrK => bitwise!(
                        ArithOp::BOr,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        |p: i64, q: i64| p | q
                    ),
                    OpCode::BXorK => bitwise!(
                        ArithOp::BXor,
                        a,
                        regp!(i.b()),
                        k!(i.c() as usize),
                        Operand::Reg(i.b()),
                        Operand::None,
                        |p: i64, q: i64| p ^ q
                    ),
                    OpCode::ShrI => bitwise!(
                        ArithOp::Shr,
                        a,
                        regp!(i.b()),
                        &Value::Int(i.sc() as i64),
                        Operand::Reg(i.b()),
                        Operand::None,
                        |p: i64, q: i64| arith::shift_left(p, q.wrapping_neg())
                    ),
                    OpCode::ShlI => bitwise!(
                        ArithOp::Shl,
                        a,
                        &Value::Int(i.sc() as i64),
                        regp!(i.b()),
                        Operand::None,
                        Operand::Reg(i.b()),
                        arith::shift_left
                    ),
                    OpCode::Add => arith!(
                        ArithOp::Add,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        add,
                        |p: f64, q: f64| p + q
                    ),
                    OpCode::Sub => arith!(
                        ArithOp::Sub,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        sub,
                        |p: f64, q: f64| p - q
                    ),
                    OpCode::Mul => arith!(
                        ArithOp::Mul,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        mul,
                        |p: f64, q: f64| p * q
                    ),
                    OpCode::Mod => arith!(
                        ArithOp::Mod,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        imod,
                        fmod
                    ),
                    OpCode::Pow => arith!(
                        ArithOp::Pow,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        fpow,
                        arith::float_pow
                    ),
                    OpCode::Div => arith!(
                        ArithOp::Div,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        fdiv,
                        |p: f64, q: f64| p / q
                    ),
                    OpCode::IDiv => arith!(
                        ArithOp::IDiv,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        idiv,
                        fidiv
                    ),
                    OpCode::BAnd => bitwise!(
                        ArithOp::BAnd,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        |p: i64, q: i64| p & q
                    ),
                    OpCode::BOr => bitwise!(
                        ArithOp::BOr,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        |p: i64, q: i64| p | q
                    ),
                    OpCode::BXor => bitwise!(
                        ArithOp::BXor,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        |p: i64, q: i64| p ^ q
                    ),
                    OpCode::Shl => bitwise!(
                        ArithOp::Shl,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        arith::shift_left
                    ),
                    OpCode::Shr => bitwise!(
                        ArithOp::Shr,
                        a,
                        regp!(i.b()),
                        regp!(i.c()),
                        Operand::Reg(i.b()),
                        Operand::Reg(i.c()),
                        |p: i64, q: i64| arith::shift_left(p, q.wrapping_neg())
                    ),
                    OpCode::Unm => {
                        let x = regp!(i.b());
                        match *x {
                            Value::Int(p) => set_reg!(a, Value::Int(p.wrapping_neg())),
                            Value::Float(f) => set_reg!(a, Value::Float(-f)),
                            x => meta_result!(
                                self.arith_slow(
                                    ArithOp::Unm,
                                    x,
                                    x,
                                    Operand::Reg(i.b()),
                                    Operand::Reg(i.b()),
                                    true
                                ),
                                a
                            ),
                        }
                    }
                    OpCode::BNot => {
                        let x = reg!(i.b());
                        match x {
                            Value::Int(p) => set_reg!(a, Value::Int(!p)),
                            _ => meta_result!(
                                self.arith_slow(
                                    ArithOp::BNot,
                                    x,
                                    x,
                                    Operand::Reg(i.b()),
                                    Operand::Reg(i.b()),
                                    true
                                ),
                                a
                            ),
                        }
                    }
                    OpCode::Not => set_reg!(a, Value::Bool(reg!(i.b()).is_falsy())),
                    OpCode::Len => {
                        let x = reg!(i.b());
                        match x {
                            Value::Str(s) => set_reg!(a, Value::Int(s.get().len() as i64)),
                            Value::Table(t) if t.get().metatable.is_none() => {
                                set_reg!(a, Value::Int(t.get().len()))
                            }
                            _ => meta_result!(self.len_slow(x, Operand::Reg(i.b()), true), a),
                        }
                    }
                    OpCode::Concat => {
                        let n = i.b() as usize;
                        meta_result!(self.concat(frame_base + a as usize, n, frame_base, true), a);
                        gc_check!(frame_base + a as usize + 1);
                    }
                    OpCode::Close => {
                        sync!();
                        let r = self.close_tbc_loop(frame_base + a as usize, ci_top!(), true);
                        reload!();
                        if let Meta::Pushed = r? {
                            continue 'frame;
                        }
                    }
                    OpCode::Tbc => {
                        let r = self.mark_tbc(ci_idx, pc!(), ci_top!(), a);
                        r?;
                    }
                    OpCode::Jmp => {
                        let off = i.sj() as isize;
                        if off < 0 {
                            back_edge!();
                        }
                        ip = ip.wrapping_offset(off);
                    }
                    OpCode::Eq => {
                        let (xr, yr) = (regp!(a), regp!(i.b()));
                        if let (Value::Int(p), Value::Int(q)) = (xr, yr) {
                            if (p == q) != i.k() {
                                ip = ip.wrapping_add(1);
                            }
                            continue;
                        }
                        let (x, y) = (*xr, *yr);
                        let cond = match (x, y) {
                            (Value::Table(_), Value::Table(_))
                            | (Value::UserData(_), Value::UserData(_))
                                if !x.raw_eq(&y) =>
                            {
                                cond_result!(self.eq_slow(x, y, true), i.k());
                                continue;
                            }
                            _ => x.raw_eq(&y),
                        };
                        if cond != i.k() {
                            ip = ip.wrapping_add(1);
                        }
                    }
                    OpCode::Lt | OpCode::Le => {
                        let le = i.op() == OpCode::Le;
                        let cond = match (*regp!(a), *regp!(i.b())) {
                            (Value::Int(p), Value::Int(q)) => {
                                if le {
                                    p <= q
                                } else {
                                    p < q
                                }
                            }
                            (Value::Float(p), Value::Float(q)) => {
                                if le {
                                    p <= q
                                } else {
                                    p < q
                                }
                            }
                            _ => {
                                let (x, y) = (reg!(a), reg!(i.b()));
                                cond_result!(self.compare_slow(x, y, le, true), i.k());
                                continue;
                            }
                        };
                        if cond != i.k() {
                            ip = ip.wrapping_add(1);
                        }
                    }
                    OpCode::EqK => {
                        let x = regp!(a);
                        let y = k!(i.b() as usize);
                        // Interned short strings: equal exactly when identical.
                        let eq = match (x, y) {
                            (Value::Str(p), Value::Str(q)) if p == q => true,
                            (Value::Int(p), Value::Int(q)) => p == q,
                            _ => x.raw_eq(y),
                        };
                        if eq != i.k() {
                            ip = ip.wrapping_add(1);
                        }
                    }
                    OpCode::EqI => {
                        let sb = i.sb() as i64;
                        let cond = match *regp!(a) {
                            Value::Int(p) => p == sb,
                            Value::Float(f) => f == sb as f64,
                            _ => false,
                        };
                        if cond != i.k() {
                            ip = ip.wrapping_add(1);
                        }
                    }
                    OpCode::LtI => cmp_imm!(
                        i,
                        |p: i64, q: i64| p < q,
                        |p: f64, q: f64| p < q,
                        false,
                        false
                    ),
                    OpCode::LeI => cmp_imm!(
                        i,
                        |p: i64, q: i64| p <= q,
                        |p: f64, q: f64| p <= q,
                        true,
                        false
                    ),
                    OpCode::GtI => cmp_imm!(
                        i,
                        |p: i64, q: i64| p > q,
                        |p: f64, q: f64| p > q,
                        false,
                        true
                    ),
                    OpCode::GeI => cmp_imm!(
                        i,
                        |p: i64, q: i64| p >= q,
                        |p: f64, q: f64| p >= q,
                        true,
                        true
                    ),
                    OpCode::Test => {
                        if regp!(a).is_truthy() != i.k() {
                            ip = ip.wrapping_add(1);
                        }
                    }
                    OpCode::TestSet => {
                        let v = reg!(i.b());
                        if v.is_falsy() == i.k() {
                            ip = ip.wrapping_add(1);
                        } else {
                            set_reg!(a, v);
                        }
                    }
                    OpCode::Call => {
                        let func = frame_base + a as usize;
                        let b = i.b() as usize;
                        let th = thg.get_mut();
                        th.frames[ci_idx].pc = pc!();
                        let nargs = if b != 0 {
                            th.top = func + b;
                            b - 1
                        } else {
                            th.top - func - 1
                        };
                        let nres = i.c() as i32 - 1;
                        let f = reg!(a);
                        if let Value::LuaFn(cl) = f {
                            let (nb, p) =
                                self.push_lua_frame(cl, func, nargs, nres, flags::LUA_CALLER)?;
                            if self.hooks.mask != 0 {
                                // A call hook may have run anything: start afresh.
                                continue 'frame;
                            }
                            if cl.get().has_history() {
                                // A patched closure: `load_frame!` finds the version's cells.
                                continue 'frame;
                            }
                            // The new frame is on top of the running one.
                            // SAFETY: as in `enter_frame!`.
                            enter_frame!(ci_idx + 1, cl, p, nb, 0, unsafe {
                                detach(cl.get().upvals())
                            });
                            continue;
                        }
                        // A plain native: called directly, without precall's dispatch.
                        if let Value::LightFn(nf) = f {
                            let r = self.call_native(nf, func, nargs, nres);
                            reload!();
                            if let Some(n) = r? {
                                // It ended with a call (`Vm::tail_call`), made as ours.
                                let r = self.precall(func, n, nres, true);
                                reload!();
                                if let Called::Pushed = r? {
                                    continue 'frame;
                                }
                            }
                            gc_check!(call_live(func, nres, thg.get().top));
                            continue;
                        }
                        // `type(v)` for one value and one result (`type(v) == "table"`, the
                        // commonest native call in Lua code): it can neither fail nor yield,
                        // so its result is written directly, without a native frame. With
                        // hooks set it takes the normal path, so call and return hooks still
                        // see it. Other tagged built-ins (pcall, xpcall) go through precall.
                        if let Value::NativeFn(c) = f {
                            if c.get().builtin == Builtin::Type
                                && nargs == 1
                                && nres == 1
                                && self.hooks.mask == 0
                            {
                                let s = self.type_names[reg!(a + 1).type_index()];
                                set_reg!(a, Value::Str(s));
                                thg.get_mut().top = func + 1;
                                continue;
                            }
                        }
                        let r = self.precall(func, nargs, nres, true);
                        reload!();
                        match r? {
                            Called::Pushed => continue 'frame,
                            Called::Done => gc_check!(call_live(func, nres, thg.get().top)),
                        }
                    }
                    OpCode::TailCall => {
                        let func = frame_base + a as usize;
                        let b = i.b() as usize;
                        let th = thg.get_mut();
                        th.frames[ci_idx].pc = pc!();
                        let nargs = if b != 0 {
                            th.top = func + b;
                            b - 1
                        } else {
                            th.top - func - 1
                        };
                        th.close_upvals(frame_base);
                        if let Value::LuaFn(cl) = reg!(a) {
                            let th = thg.get_mut();
                            let old = th.frames.pop().unwrap_or_else(|| CallInfo::native(0, 0, 0));
                            th.stack.copy_within(func..func + 1 + nargs, old.func);
                            let fl = (old.flags & (flags::FRESH | flags::META | flags::LUA_CALLER))
                                | flags::TAIL;
                            if let Err(e) =
                                self.push_lua_frame(cl, old.func, nargs, old.nresults, fl)
                            {
                                // Keep a frame for the error to be reported from.
                                thg.get_mut().frames.push(old);
                                return Err(e);
                            }
                            // A metamethod frame's continuation data survives the tail call.
                            if let Some(f) = thg.get_mut().frames.last_mut() {
                                f.extra = old.extra;
                            }
                            continue 'frame;
                        }
                        // Natives and `__call`: an ordinary call; the RETURN that follows
                        // returns its results.
                        let r = self.precall(func, nargs, -1, true);
                        reload!();
                        match r? {
                            Called::Pushed => continue 'frame,
                            Called::Done => {}
                        }
                    }
                    OpCode::Return => {
                        let src = frame_base + a as usize;
                        let b = i.b() as usize;
                        let th = thg.get_mut();
                        let saved = th.frames[ci_idx].flags & flags::NRES_SAVED != 0;
                        let n = if b != 0 {
                            b - 1
                        } else if saved {
                            // Run again after a `__close` frame: the count was saved.
                            th.frames[ci_idx].extra as usize
                        } else {
                            th.top - src
                        };
                        // k: the function has variables to close (captured locals or
                        // to-be-closed variables), as in PUC Lua; without it, nothing above
                        // the frame's base can be open.
                        debug_assert!(i.k() || !th.needs_close(frame_base));
                        if i.k() && th.needs_close(frame_base) {
                            th.frames[ci_idx].pc = pc!();
                            th.top = src + n;
                            // With B = 0 the result count lives in the top, which a
                            // `__close` frame overwrites: it is kept in the frame meanwhile
                            // (PUC's `ci->u2.nres`), so the closing method may yield.
                            if b == 0 {
                                th.frames[ci_idx].extra = n as u32;
                                th.frames[ci_idx].flags |= flags::NRES_SAVED;
                            }
                            let r = self.close_tbc_loop(frame_base, (src + n).max(ci_top!()), true);
                            reload!();
                            if let Meta::Pushed = r? {
                                continue 'frame;
                            }
                            if self.hooks.mask != 0 {
                                // Everything is closed: the return event comes now.
                                let r = self.hook_return(src - frame_base, n);
                                reload!();
                                r?;
                            }
                        }
                        let th = thg.get_mut();
                        if saved || b == 0 {
                            th.frames[ci_idx].flags &= !flags::NRES_SAVED;
                            th.top = src + n;
                        }
                        // A Lua caller wanting a fixed number of values: copy them in place
                        // (the caller's registers hold them: the compiler sized its frame).
                        let (func, nres, fl) = {
                            let c = &th.frames[ci_idx];
                            (c.func, c.nresults, c.flags)
                        };
                        if fl & (flags::FRESH | flags::META | flags::LUA_CALLER)
                            == flags::LUA_CALLER
                            && nres >= 0
                        {
                            let w = nres as usize;
                            for j in 0..w {
                                th.stack[func + j] =
                                    if j < n { th.stack[src + j] } else { Value::Nil };
                            }
                            th.top = func + w;
                            pop_to_caller!(th);
                            continue;
                        }
                        let ci = th.frames.pop().unwrap_or_else(|| CallInfo::native(0, 0, 0));
                        if self.post_return(ci, src, n)? {
                            return Ok(());
                        }
                        continue 'frame;
                    }
                    OpCode::Return0 | OpCode::Return1 => {
                        // The compiler emits these only in functions with nothing to close
                        // (as PUC Lua's `luaK_finish`): no open upvalue or to-be-closed
                        // variable can be at or above the frame's base.
                        let th = thg.get_mut();
                        debug_assert!(!th.needs_close(frame_base));
                        let n = if i.op() == OpCode::Return1 { 1 } else { 0 };
                        let th = thg.get_mut();
                        // Common case: a plain frame returning to the Lua frame that called
                        // it. Only the fields needed are read (no copy of the
                        // whole CallInfo), and the frame is dropped in place.
                        let (func, nres, fl) = {
                            let c = &th.frames[ci_idx];
                            (c.func, c.nresults, c.flags)
                        };
                        if fl & (flags::FRESH | flags::META | flags::LUA_CALLER)
                            == flags::LUA_CALLER
                            && nres >= 0
                        {
                            if nres != 0 {
                                th.stack[func] = if n == 1 { reg!(a) } else { Value::Nil };
                                for j in 1..nres as usize {
                                    th.stack[func + j] = Value::Nil;
                                }
                            }
                            th.top = func + nres as usize;
                            pop_to_caller!(th);
                            continue;
                        }
                        let ci = th.frames.pop().unwrap_or_else(|| CallInfo::native(0, 0, 0));
                        if self.post_return(ci, frame_base + a as usize, n)? {
                            return Ok(());
                        }
                        continue 'frame;
                    }
                    OpCode::ForLoop => match *regp!(a + 2) {
                        Value::Int(step) => {
                            if let Value::Int(count) = *regp!(a + 1) {
                                if count > 0 {
                                    set_reg!(a + 1, Value::Int(count - 1));
                                    if let Value::Int(idx) = *regp!(a) {
                                        let idx = idx.wrapping_add(step);
                                        set_reg!(a, Value::Int(idx));
                                        set_reg!(a + 3, Value::Int(idx));
                                    }
                                    back_edge!();
                                    ip = ip.wrapping_sub(i.bx() as usize);
                                }
                            }
                        }
                        Value::Float(step) => {
                            if let (Value::Float(idx), Value::Float(lim)) =
                                (*regp!(a), *regp!(a + 1))
                            {
                                let idx = idx + step;
                                let go = if step > 0.0 { idx <= lim } else { lim <= idx };
                                if go {
                                    set_reg!(a, Value::Float(idx));
                                    set_reg!(a + 3, Value::Float(idx));
                                    back_edge!();
                                    ip = ip.wrapping_sub(i.bx() as usize);
                                }
                            }
                        }
                        _ => {}
                    },
                    OpCode::ForPrep => {
                        sync!();
                        let (init, limit, step) = (reg!(a), reg!(a + 1), reg!(a + 2));
                        match self.for_prep(init, limit, step)? {
                            None => ip = ip.wrapping_add(i.bx() as usize + 1),
                            Some((v0, v1, v2)) => {
                                set_reg!(a, v0);
                                set_reg!(a + 1, v1);
                                set_reg!(a + 2, v2);
                                set_reg!(a + 3, v0);
                            }
                        }
                    }
                    OpCode::TForPrep => {
                        let r = self.mark_tbc(ci_idx, pc!(), ci_top!(), a + 3);
                        r?;
                        ip = ip.wrapping_add(i.bx() as usize);
                    }
                    OpCode::TForCall => {
                        // `pairs` over a table: the base library's `next` runs here, with
                        // no call (no hooks are watching calls). A key `next` rejects takes
                        // the call path, which raises its error.
                        if let (Value::NativeFn(f), Value::Table(t), 0) =
                            (reg!(a), reg!(a + 1), self.hooks.mask)
                        {
                            if f.get().builtin == Builtin::Next {
                                // Opaque: otherwise values derived from the hint are
                                // computed (and spilled) on every frame entry.
                                let hint = std::hint::black_box(next_hint);
                                if let Ok(r) = t.get().next_hinted(reg!(a + 2), hint) {
                                    let (k, v) = match r {
                                        Some((pos, k, v)) => {
                                            next_hint = pos;
                                            (k, v)
                                        }
                                        None => (Value::Nil, Value::Nil),
                                    };
                                    set_reg!(a + 4, k);
                                    let nvars = i.c();
                                    if nvars >= 2 {
                                        set_reg!(a + 5, v);
                                    }
                                    for j in 2..nvars {
                                        set_reg!(a + 4 + j, Value::Nil);
                                    }
                                    continue;
                                }
                            }
                        }
                        set_reg!(a + 4, reg!(a));
                        set_reg!(a + 5, reg!(a + 1));
                        set_reg!(a + 6, reg!(a + 2));
                        let func = frame_base + a as usize + 4;
                        let th = thg.get_mut();
                        th.frames[ci_idx].pc = pc!();
                        th.top = func + 3;
                        // An iterator written in Lua: entered as by CALL.
                        if let Value::LuaFn(cl) = reg!(a) {
                            let (nb, p) =
                                self.push_lua_frame(cl, func, 2, i.c() as i32, flags::LUA_CALLER)?;
                            if self.hooks.mask != 0 || cl.get().has_history() {
                                continue 'frame;
                            }
                            // SAFETY: as in `enter_frame!`.
                            enter_frame!(ci_idx + 1, cl, p, nb, 0, unsafe {
                                detach(cl.get().upvals())
                            });
                            continue;
                        }
                        let r = self.precall(func, 2, i.c() as i32, true);
                        reload!();
                        match r? {
                            Called::Pushed => continue 'frame,
                            Called::Done => {}
                        }
                    }
                    OpCode::TForLoop => {
                        let v = reg!(a + 4);
                        if !v.is_nil() {
                            set_reg!(a + 2, v);
                            back_edge!();
                            ip = ip.wrapping_sub(i.bx() as usize);
                        }
                    }
                    OpCode::SetList => {
                        let mut last = i.c() as usize;
                        if i.k() {
                            last += next_instr!().ax() as usize * 256;
                            ip = ip.wrapping_add(1);
                        }
                        self.op_setlist(frame_base + a as usize, i.b() as usize, last);
                        grew!();
                    }
                    OpCode::Closure => {
                        let c = self.new_closure(
                            proto!().get().protos[i.bx() as usize],
                            frame_base,
                            upvals,
                        );
                        set_reg!(a, Value::LuaFn(c));
                        gc_check!(frame_base + a as usize + 1);
                    }
                    OpCode::Vararg => {
                        let r = self.op_vararg(
                            ci_idx,
                            pc!(),
                            ci_top!(),
                            frame_base + a as usize,
                            i.c(),
                        );
                        reload!();
                        r?;
                    }
                    OpCode::VarargPrep => {}
                    OpCode::ExtraArg => {}
                }
            }
        }
    }

    /// CLOSURE: a closure of `p` capturing from the frame at `frame_base` and from the
    /// running closure's `upvals`. Out of line: rare next to calls, and its locals would
    /// otherwise be set up on every frame entry of `run`.
    #[inline(never)]
    fn new_closure(
        &mut self,
        p: crate::gc::Gc<crate::function::FnProto>,
        frame_base: usize,
        upvals: &[std::cell::Cell<crate::gc::Gc<UpvalCell>>],
    ) -> crate::gc::Gc<LuaClosure> {
        let thg = self.cur;
        let descs = &p.get().upvalues;
        let mut ups = Vec::with_capacity(descs.len());
        for d in descs.iter() {
            let cell = if d.in_stack {
                thg.get_mut()
                    .find_upval(thg, frame_base + d.index as usize, &mut self.heap)
            } else {
                upvals[d.index as usize].get()
            };
            ups.push(std::cell::Cell::new(cell));
        }
        let c = self.heap.alloc(LuaClosure::new(p, ups));
        p.get().add_instance(c);
        c
    }

    /// TBC (and the closing value of a generic `for`): registers register `reg` of the
    /// running frame as a to-be-closed variable, or raises Lua's error for a value without
    /// `__close`. Nil and false are ignored.
    #[inline(never)]
    fn mark_tbc(
        &mut self,
        ci_idx: usize,
        pc: usize,
        ci_top: usize,
        reg: u32,
    ) -> Result<(), LuaError> {
        let th = self.cur.get_mut();
        let slot = th.frames[ci_idx].base + reg as usize;
        let v = th.stack[slot];
        if v.is_falsy() {
            return Ok(());
        }
        if self.get_tm(v, Tm::Close).is_nil() {
            let th = self.cur.get_mut();
            th.frames[ci_idx].pc = pc;
            th.top = ci_top;
            // A register without a name (stripped debug information) is a temporary, as
            // `luaG_findlocal` calls it.
            let name = match th.frames[ci_idx].proto {
                Some(p) => p
                    .get()
                    .local_name(reg as usize + 1, pc - 1)
                    .unwrap_or("(temporary)")
                    .to_string(),
                None => "?".to_string(),
            };
            return Err(self.rt_error(&format!("variable '{}' got a non-closable value", name)));
        }
        self.cur.get_mut().tbc.push(slot);
        Ok(())
    }

    /// SETLIST: stores the `n` values above slot `ra` (up to the top when `n` is 0) into
    /// the table at `ra`, from index `last + 1`.
    #[inline(never)]
    fn op_setlist(&mut self, ra: usize, n: usize, last: usize) {
        let th = self.cur.get_mut();
        let n = if n != 0 { n } else { th.top - ra - 1 };
        if let Value::Table(t) = th.stack[ra] {
            let tm = t.get_mut();
            // Grow the array part once, as lua5.4 does, instead of rehashing item by item.
            tm.ensure_array(last + n);
            for j in 1..=n {
                tm.set_int((last + j) as i64, th.stack[ra + j]);
            }
        }
    }

    /// VARARG: copies the frame's extra arguments to `dst` (all of them when `c` is 0, with
    /// the top after them; else `c - 1`, nil-padded). May grow the stack.
    #[inline(never)]
    fn op_vararg(
        &mut self,
        ci_idx: usize,
        pc: usize,
        ci_top: usize,
        dst: usize,
        c: u32,
    ) -> Result<(), LuaError> {
        let th = self.cur.get_mut();
        let frame_base = th.frames[ci_idx].base;
        let nvar = th.frames[ci_idx].nvarargs as usize;
        let c = c as usize;
        let n = if c == 0 { nvar } else { c - 1 };
        if c == 0 {
            let limit = self.stack_limit;
            let th = self.cur.get_mut();
            if th.ensure(dst + n + 1, limit).is_err() {
                th.frames[ci_idx].pc = pc;
                th.top = ci_top;
                return Err(self.stack_overflow());
            }
            th.top = dst + n;
        }
        let th = self.cur.get_mut();
        let vstart = frame_base - nvar;
        for j in 0..n {
            th.stack[dst + j] = if j < nvar {
                th.stack[vstart + j]
            } else {
                Value::Nil
            };
        }
        Ok(())
    }

    /// `t[key]` for a string key missing from `t` itself, following `__index` tables (the
    /// class pattern) without leaving the fast path; `None` when a function `__index` or a
    /// long chain needs the general slow path.
    #[inline]
    fn index_chain_str(
        &self,
        mut t: crate::gc::Gc<crate::table::Table>,
        key: crate::gc::Gc<crate::string::LuaStr>,
    ) -> Option<Value> {
        for _ in 0..4 {
            let mt = match t.get().metatable {
                None => return Some(Value::Nil),
                Some(m) => m,
            };
            match self.tm_of_mt(mt, Tm::Index) {
                Value::Nil => return Some(Value::Nil),
                Value::Table(next) => {
                    let v = next.get().get_str(key);
                    if !v.is_nil() {
                        return Some(v);
                    }
                    t = next;
                }
                _ => return None,
            }
        }
        None
    }

    /// Is a raw assignment of `key` in `t` free of `__newindex` (key present, or no
    /// metamethod)?
    #[inline(always)]
    fn fast_set_ok(&self, t: crate::gc::Gc<crate::table::Table>, key: Value) -> bool {
        let tb = t.get();
        match tb.metatable {
            None => true,
            Some(mt) => !tb.get(key).is_nil() || self.tm_of_mt(mt, Tm::NewIndex).is_nil(),
        }
    }

    #[inline(never)]
    fn compare_slow_sync(
        &mut self,
        ci_idx: usize,
        pc: usize,
        ci_top: usize,
        x: Value,
        y: Value,
        le: bool,
    ) -> Result<Meta, LuaError> {
        let th = self.cur.get_mut();
        th.frames[ci_idx].pc = pc;
        th.top = ci_top;
        self.compare_slow(x, y, le, true)
    }

    /// Numeric `for` preparation (Lua 5.4's `forprep`): `None` to skip the loop, else the
    /// values for R[A], R[A+1], R[A+2] (the integer loop keeps an iteration count in R[A+1]).
    #[inline(never)]
    fn for_prep(
        &mut self,
        init: Value,
        limit: Value,
        step: Value,
    ) -> Result<Option<(Value, Value, Value)>, LuaError> {
        if let (Value::Int(i0), Value::Int(st)) = (init, step) {
            if st == 0 {
                return Err(self.rt_error("'for' step is zero"));
            }
            let lim = match limit {
                Value::Int(l) => l,
                _ => {
                    let f = match self.to_number(limit) {
                        Some(Value::Int(l)) => l as f64,
                        Some(Value::Float(f)) => f,
                        _ => return Err(self.for_error(limit, "limit")),
                    };
                    let fl = if st < 0 { f.ceil() } else { f.floor() };
                    match arith::float_to_int_exact(fl) {
                        Some(l) => l,
                        None => {
                            if f > 0.0 {
                                if st < 0 {
                                    return Ok(None);
                                }
                                i64::MAX
                            } else {
                                if st > 0 {
                                    return Ok(None);
                                }
                                i64::MIN
                            }
                        }
                    }
                }
            };
            if if st > 0 { i0 > lim } else { i0 < lim } {
                return Ok(None);
            }
            let count = if st > 0 {
                (lim as u64).wrapping_sub(i0 as u64) / st as u64
            } else {
                (i0 as u64).wrapping_sub(lim as u64) / ((-(st + 1)) as u64 + 1)
            };
            return Ok(Some((
                Value::Int(i0),
                Value::Int(count as i64),
                Value::Int(st),
            )));
        }
        let fl = match self.to_number(limit) {
            Some(v) => v.as_float().unwrap_or(0.0),
            None => return Err(self.for_error(limit, "limit")),
        };
        let fs = match self.to_number(step) {
            Some(v) => v.as_float().unwrap_or(0.0),
            None => return Err(self.for_error(step, "step")),
        };
        let fi = match self.to_number(init) {
            Some(v) => v.as_float().unwrap_or(0.0),
            None => return Err(self.for_error(init, "initial value")),
        };
        if fs == 0.0 {
            return Err(self.rt_error("'for' step is zero"));
        }
        if if fs > 0.0 { fl < fi } else { fi < fl } {
            return Ok(None);
        }
        Ok(Some((Value::Float(fi), Value::Float(fl), Value::Float(fs))))
    }

    fn for_error(&mut self, v: Value, what: &str) -> LuaError {
        let t = self.obj_type_name(v);
        self.rt_error(&format!("bad 'for' {} (number expected, got {})", what, t))
    }

    /// Finishes the caller's instruction interrupted by metamethod frame `meta` (which has
    /// just returned its single result at the top).
    #[inline(never)]
    pub(crate) fn finish_op(&mut self, meta: CallInfo) -> Result<(), LuaError> {
        let th = self.cur.get_mut();
        let mut res = th.stack[th.top - 1];
        if meta.flags & flags::NEGATE != 0 {
            res = Value::Bool(res.is_falsy());
        }
        let ci_idx = th.frames.len() - 1;
        let ci = th.frames[ci_idx];
        let Some(p) = ci.proto else { return Ok(()) };
        let i = p.get().code[ci.pc - 1];
        let ra = ci.base + i.a() as usize;
        match i.op() {
            OpCode::Eq
            | OpCode::Lt
            | OpCode::Le
            | OpCode::LtI
            | OpCode::LeI
            | OpCode::GtI
            | OpCode::GeI => {
                if res.is_truthy() != i.k() {
                    th.frames[ci_idx].pc += 1;
                }
            }
            OpCode::SetTabUp | OpCode::SetTable | OpCode::SetI | OpCode::SetField => {}
            // A `__close` run by CLOSE/RETURN returned: the instruction runs again to close
            // the remaining variables (and then return).
            OpCode::Close | OpCode::Return | OpCode::Return0 | OpCode::Return1 => {
                th.frames[ci_idx].pc -= 1
            }
            OpCode::Concat => {
                let total = meta.extra as usize;
                th.stack[ra + total - 2] = res;
                th.top = ci.top;
                if let Meta::Done(v) = self.concat(ra, total - 1, ci.base, true)? {
                    self.cur.get_mut().stack[ra] = v;
                }
            }
            _ => th.stack[ra] = res,
        }
        Ok(())
    }
}

/// A reference not tied to the borrow of the `Gc` handle it came from, so the interpreter
/// can keep the running frame's proto and closure data in locals it reassigns on calls.
///
/// # Safety
/// The caller keeps the object alive (rooted) and unmodified in the referenced part for as
/// long as the reference is used.
#[inline(always)]
unsafe fn detach<'a, T: ?Sized>(r: &T) -> &'a T {
    // SAFETY: the caller upholds the lifetime (see above); the pointer comes from a valid
    // reference.
    unsafe { &*(r as *const T) }
}

/// The upvalue array a frame of `cl` running `p` uses: the closure's current one, or, for a
/// frame started before a patch replaced `p`, the one kept with `p` in the closure's history.
/// `p` is only computed for patched closures.
#[inline(always)]
fn frame_upvals<'a>(
    cl: Gc<LuaClosure>,
    p: impl FnOnce() -> Gc<FnProto>,
) -> &'a [Cell<Gc<UpvalCell>>] {
    let c = cl.get();
    let ups = if c.has_history() {
        patched_frame_upvals(c, p())
    } else {
        c.upvals()
    };
    // SAFETY: upvalue arrays are owned by their closure and never freed before it (see
    // `LuaClosure`), and the frame keeps the closure alive while it runs.
    unsafe { detach(ups) }
}

#[cold]
#[inline(never)]
fn patched_frame_upvals(c: &LuaClosure, p: Gc<FnProto>) -> &[Cell<Gc<UpvalCell>>] {
    c.upvals_for(p).unwrap_or_else(|| c.upvals())
}

/// The opcode of an instruction without a table lookup or range check (OpCode is
/// `repr(u8)` with contiguous discriminants `0..ALL.len()`).
#[inline(always)]
fn decode_op(i: hotlua_compiler::opcode::Instr) -> OpCode {
    let n = (i.0 & 0x7f) as usize;
    debug_assert!(n < OpCode::ALL.len());
    // SAFETY: every instruction the interpreter runs belongs to a sealed `FnProto`, built
    // only by `FnProto::instantiate`, which asserts that each opcode field is below
    // `ALL.len()`; so `n` is a valid discriminant of the fieldless `repr(u8)` enum OpCode,
    // whose variants are numbered 0..ALL.len() in order (OpCode::ALL lists them by number).
    unsafe { std::mem::transmute::<u8, OpCode>(n as u8) }
}

/// The first dead slot after a call that returned at `func` with `nres` results (`-1`: all of
/// them, up to `top`).
#[inline(always)]
fn call_live(func: usize, nres: i32, top: usize) -> usize {
    if nres >= 0 {
        func + nres as usize
    } else {
        top
    }
}

#[allow(dead_code)]
fn _assert_types(_: UpvalCell) {}

#[cfg(test)]
mod tests {
    use crate::{Value, Vm};

    /// Runs a chunk with no library and hands its first result to `check` while the Vm
    /// (which owns the result's objects) is still alive.
    fn eval(src: &str, check: impl FnOnce(Value)) {
        let mut vm = Vm::new();
        let f = match vm.load(src.as_bytes(), "=t", None) {
            Ok(f) => f,
            Err(e) => panic!("{}", vm.to_display(e.value)),
        };
        match vm.call(f, &[]) {
            Ok(r) => check(r.first().copied().unwrap_or(Value::Nil)),
            Err(e) => panic!("{}", vm.to_display(e.value)),
        }
    }

    /// The interpreter's slow paths (here CONCAT's `sync!`, which saves the frame's pc and
    /// top) under Miri: Stacked Borrows once reported a `&mut Thread` invalidated there by a
    /// shared borrow taken while it was live.
    #[test]
    fn slow_paths_keep_borrows_apart() {
        eval("local s = 'a' .. 1 return s", |v| {
            assert!(matches!(v, Value::Str(s) if s.get().as_bytes() == b"a1"))
        });
        eval(
            "local t = {} for i = 1, 40 do t[i] = i .. '' end \
             local mt = {__index = function(_, k) return k * 2 end} \
             setmetatable = nil return #t + (t[40] + 0)",
            |v| assert!(matches!(v, Value::Int(80))),
        );
    }
}

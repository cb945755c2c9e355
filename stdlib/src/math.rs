//! Lua 5.4's `math` library.
//!
//! Invariant: integer/float results follow 5.4 exactly: functions that take an integer
//! argument (`abs`, `floor`, `ceil`, `fmod`, `modf`) keep integers integers; rounding
//! functions return an integer when the result fits (`math.floor(2^70)` stays a float);
//! `min`/`max` return the chosen argument itself. Random numbers come from
//! [`crate::random`] (xoshiro256** seeded as 5.4 does), one generator per Vm kept in a
//! userdata upvalue of `random`/`randomseed`.

use std::cell::RefCell;

use hotlua_vm::api::Args;
use hotlua_vm::error::LuaError;
use hotlua_vm::state::Vm;
use hotlua_vm::value::{float_to_int, Value};

use crate::open::{new_lib, set_field};
use crate::random::{RandomArgs, RandomValue, Xoshiro};
use crate::string::LibError;

/// An integer when the float has an exact integer value in range, else the float
/// (PUC's `pushnumint`).
fn num_int(f: f64) -> Value {
    match float_to_int(f) {
        Some(i) => Value::Int(i),
        None => Value::Float(f),
    }
}

fn ret(vm: &mut Vm, v: Value) -> Result<usize, LuaError> {
    vm.push(v)?;
    Ok(1)
}

fn math_abs(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let v = match vm.arg(args, 0) {
        Value::Int(i) => Value::Int(i.wrapping_abs()),
        _ => Value::Float(vm.check_number(args, 0)?.abs()),
    };
    ret(vm, v)
}

fn math_floor(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let v = match vm.arg(args, 0) {
        v @ Value::Int(_) => v,
        _ => num_int(vm.check_number(args, 0)?.floor()),
    };
    ret(vm, v)
}

fn math_ceil(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let v = match vm.arg(args, 0) {
        v @ Value::Int(_) => v,
        _ => num_int(vm.check_number(args, 0)?.ceil()),
    };
    ret(vm, v)
}

fn math_fmod(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let v = match (vm.arg(args, 0), vm.arg(args, 1)) {
        (Value::Int(m), Value::Int(d)) => {
            if d == 0 {
                return Err(vm.arg_error(1, "zero"));
            }
            // C's `%` truncates; -1 is special-cased to avoid overflow of MININT % -1.
            if d == -1 {
                Value::Int(0)
            } else {
                Value::Int(m % d)
            }
        }
        _ => {
            // lua5.4 (gcc) evaluates the second argument first.
            let b = vm.check_number(args, 1)?;
            let a = vm.check_number(args, 0)?;
            Value::Float(a % b)
        }
    };
    ret(vm, v)
}

fn math_modf(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    if let v @ Value::Int(_) = vm.arg(args, 0) {
        vm.push(v)?;
        vm.push(Value::Float(0.0))?;
        return Ok(2);
    }
    let n = vm.check_number(args, 0)?;
    let ip = if n < 0.0 { n.ceil() } else { n.floor() };
    vm.push(num_int(ip))?;
    let frac = if n == ip { 0.0 } else { n - ip };
    vm.push(Value::Float(frac))?;
    Ok(2)
}

fn math_sqrt(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.sqrt()))
}

fn math_sin(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.sin()))
}

fn math_cos(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.cos()))
}

fn math_tan(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.tan()))
}

fn math_asin(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.asin()))
}

fn math_acos(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.acos()))
}

fn math_atan(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let y = vm.check_number(args, 0)?;
    let x = if vm.arg(args, 1).is_nil() {
        1.0
    } else {
        vm.check_number(args, 1)?
    };
    ret(vm, Value::Float(y.atan2(x)))
}

fn math_exp(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.exp()))
}

fn math_log(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    let r = if vm.arg(args, 1).is_nil() {
        x.ln()
    } else {
        let base = vm.check_number(args, 1)?;
        if base == 2.0 {
            x.log2()
        } else if base == 10.0 {
            x.log10()
        } else {
            x.ln() / base.ln()
        }
    };
    ret(vm, Value::Float(r))
}

fn math_deg(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x * (180.0 / std::f64::consts::PI)))
}

fn math_rad(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x * (std::f64::consts::PI / 180.0)))
}

fn math_tointeger(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let v = vm.arg(args, 0);
    let r = match vm.to_number(v) {
        Some(Value::Int(i)) => Value::Int(i),
        Some(Value::Float(f)) => match float_to_int(f) {
            Some(i) => Value::Int(i),
            None => Value::Nil,
        },
        _ => {
            vm.check_any(args, 0)?;
            Value::Nil
        }
    };
    ret(vm, r)
}

fn math_type(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let r = match vm.arg(args, 0) {
        Value::Int(_) => vm.str_value("integer"),
        Value::Float(_) => vm.str_value("float"),
        _ => {
            vm.check_any(args, 0)?;
            Value::Nil
        }
    };
    ret(vm, r)
}

fn math_ult(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let a = vm.check_int(args, 0)?;
    let b = vm.check_int(args, 1)?;
    ret(vm, Value::Bool((a as u64) < (b as u64)))
}

/// `a < b` for `min`/`max`: numbers numerically; anything else (numeric strings) through
/// the VM's comparison, which raises Lua's "attempt to compare" error as 5.4 does.
fn less(vm: &mut Vm, a: Value, b: Value) -> Result<bool, LuaError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => {
            Ok(hotlua_vm::compare::compare_prim(a, b, false).unwrap_or(false))
        }
        _ => vm.less_than(a, b),
    }
}

fn min_max(vm: &mut Vm, args: Args, max: bool) -> Result<usize, LuaError> {
    if args.is_empty() {
        return Err(vm.arg_error(0, "value expected"));
    }
    // As lmathlib: no number check, only `lua_compare` (so `math.max("10")` is "10").
    let mut best = 0;
    for i in 1..args.len() {
        let (a, b) = (vm.arg(args, i), vm.arg(args, best));
        let better = if max {
            less(vm, b, a)?
        } else {
            less(vm, a, b)?
        };
        if better {
            best = i;
        }
    }
    let v = vm.arg(args, best);
    ret(vm, v)
}

fn math_min(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    min_max(vm, args, false)
}

fn math_max(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    min_max(vm, args, true)
}

// ---- random -------------------------------------------------------------------------------

/// The generator state of one Vm, held by a userdata in the upvalue of `random` and
/// `randomseed`.
struct RandState(RefCell<Xoshiro>);

fn with_state<R>(vm: &mut Vm, args: Args, f: impl FnOnce(&mut Xoshiro) -> R) -> Option<R> {
    let ud = match vm.native_upvalue(args, 0) {
        Value::UserData(u) => u,
        _ => return None,
    };
    let st = ud.get().downcast_ref::<RandState>()?;
    let mut g = st.0.borrow_mut();
    Some(f(&mut g))
}

/// A seed from the clock and an address, as 5.4's `randseed` (time and the state's address).
fn entropy_seed() -> (i64, i64) {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64 ^ d.subsec_nanos() as i64)
        .unwrap_or(0);
    let local = 0u8;
    (t, &local as *const u8 as usize as i64)
}

fn math_random(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let ra = match args.len() {
        0 => RandomArgs::None,
        1 => RandomArgs::Upper(vm.check_int(args, 0)?),
        2 => RandomArgs::Range(vm.check_int(args, 0)?, vm.check_int(args, 1)?),
        _ => return Err(vm.rt_error("wrong number of arguments")),
    };
    let r = match with_state(vm, args, |g| g.random(ra)) {
        Some(r) => r,
        None => return Err(vm.rt_error("random state missing")),
    };
    match r {
        Ok(RandomValue::Float(f)) => ret(vm, Value::Float(f)),
        Ok(RandomValue::Int(i)) => ret(vm, Value::Int(i)),
        Err(LibError::Arg(n, m)) => Err(vm.arg_error(n.saturating_sub(1), &m)),
        Err(LibError::Msg(m)) => Err(vm.rt_error(&m)),
    }
}

fn math_randomseed(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let (n1, n2) = if args.is_empty() {
        entropy_seed()
    } else {
        (vm.check_int(args, 0)?, vm.opt_int(args, 1, 0)?)
    };
    with_state(vm, args, |g| *g = Xoshiro::from_seed(n1, n2));
    vm.push(Value::Int(n1))?;
    vm.push(Value::Int(n2))?;
    Ok(2)
}

// ---- LUA_COMPAT_MATHLIB functions (lua5.4 as packaged by Debian has them) ---------------

/// A function of its own (not an alias of `atan`), so argument errors of `math.atan`
/// keep naming `math.atan`.
fn math_atan2(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    math_atan(vm, args)
}

fn math_cosh(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.cosh()))
}

fn math_sinh(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.sinh()))
}

fn math_tanh(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.tanh()))
}

fn math_pow(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    let y = vm.check_number(args, 1)?;
    ret(vm, Value::Float(x.powf(y)))
}

fn math_log10(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let x = vm.check_number(args, 0)?;
    ret(vm, Value::Float(x.log10()))
}

/// C's `frexp`: `x = m * 2^e` with `0.5 <= |m| < 1` (zero and non-finite pass through).
fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    if exp == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(x * 2f64.powi(54));
        return (m, e - 54);
    }
    let m = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (m, exp - 1022)
}

/// C's `ldexp`: `m * 2^e`, scaling in steps so intermediate powers never overflow.
fn ldexp(mut m: f64, e: i64) -> f64 {
    let mut e = e.clamp(-4000, 4000);
    while e > 1000 {
        m *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        m *= 2f64.powi(-1000);
        e += 1000;
    }
    m * 2f64.powi(e as i32)
}

fn math_frexp(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let (m, e) = frexp(vm.check_number(args, 0)?);
    vm.push(Value::Float(m))?;
    vm.push(Value::Int(e))?;
    Ok(2)
}

fn math_ldexp(vm: &mut Vm, args: Args) -> Result<usize, LuaError> {
    let m = vm.check_number(args, 0)?;
    // lmathlib casts the exponent to C's int (truncating), then calls ldexp.
    let e = vm.check_int(args, 1)? as i32;
    ret(vm, Value::Float(ldexp(m, e as i64)))
}

/// Installs the `math` library.
pub fn open(vm: &mut Vm) {
    let t = new_lib(
        vm,
        "math",
        &[
            ("abs", math_abs),
            ("ceil", math_ceil),
            ("floor", math_floor),
            ("fmod", math_fmod),
            ("modf", math_modf),
            ("sqrt", math_sqrt),
            ("sin", math_sin),
            ("cos", math_cos),
            ("tan", math_tan),
            ("asin", math_asin),
            ("acos", math_acos),
            ("atan", math_atan),
            ("exp", math_exp),
            ("log", math_log),
            ("deg", math_deg),
            ("rad", math_rad),
            ("tointeger", math_tointeger),
            ("type", math_type),
            ("ult", math_ult),
            ("min", math_min),
            ("max", math_max),
            ("atan2", math_atan2),
            ("cosh", math_cosh),
            ("sinh", math_sinh),
            ("tanh", math_tanh),
            ("pow", math_pow),
            ("log10", math_log10),
            ("frexp", math_frexp),
            ("ldexp", math_ldexp),
        ],
    );
    set_field(vm, t, "pi", Value::Float(std::f64::consts::PI));
    set_field(vm, t, "huge", Value::Float(f64::INFINITY));
    set_field(vm, t, "maxinteger", Value::Int(i64::MAX));
    set_field(vm, t, "mininteger", Value::Int(i64::MIN));
    // One generator shared by `random` and `randomseed`, seeded randomly as 5.4 does.
    let (a, b) = entropy_seed();
    let g = Xoshiro::from_seed(a, b);
    let ud = crate::open::new_userdata(vm, RandState(RefCell::new(g)), None);
    let f = vm.new_native_closure(math_random, "random", vec![ud]);
    set_field(vm, t, "random", f);
    let f = vm.new_native_closure(math_randomseed, "randomseed", vec![ud]);
    set_field(vm, t, "randomseed", f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_ldexp() {
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(-3.5), (-0.875, 2));
        assert_eq!(frexp(0.0), (0.0, 0));
        let tiny = f64::from_bits(1);
        let (m, e) = frexp(tiny);
        assert_eq!((m, e), (0.5, -1073));
        assert_eq!(ldexp(m, e), tiny);
        assert_eq!(ldexp(0.5, 4), 8.0);
        assert_eq!(ldexp(1.0, 2000), f64::INFINITY);
    }

    #[test]
    fn num_int_keeps_big_floats() {
        assert!(matches!(num_int(3.0), Value::Int(3)));
        assert!(matches!(num_int(-0.0), Value::Int(0)));
        assert!(matches!(num_int(2f64.powi(70)), Value::Float(_)));
        assert!(matches!(num_int(-(2f64.powi(63))), Value::Int(i64::MIN)));
        assert!(matches!(num_int(2f64.powi(63)), Value::Float(_)));
        assert!(matches!(num_int(f64::INFINITY), Value::Float(_)));
    }
}

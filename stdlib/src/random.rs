//! Lua 5.4's pseudo-random generator (xoshiro256**), bit for bit: the same seed gives the
//! same `math.random` sequence as lua5.4.
//!
//! Invariant: every `math.random` call draws exactly one 64-bit value first (as lmathlib's
//! `math_random`), and more only while rejecting out-of-range values in [`Xoshiro::project`].

use crate::string::LibError;

/// The generator state (four 64-bit words, never all zero after seeding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xoshiro {
    s: [u64; 4],
}

/// The arguments of one `math.random` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RandomArgs {
    /// `math.random()`: a float in [0, 1).
    None,
    /// `math.random(m)`: an integer in [1, m]; `m == 0` gives a full 64-bit integer.
    Upper(i64),
    /// `math.random(m, n)`: an integer in [m, n].
    Range(i64, i64),
}

/// The result of one `math.random` call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RandomValue {
    /// A float in [0, 1).
    Float(f64),
    /// An integer.
    Int(i64),
}

impl Xoshiro {
    /// The state after `math.randomseed(n1, n2)`: `n1`, `0xff`, `n2`, `0`, then 16 values
    /// discarded to spread the seed.
    pub fn from_seed(n1: i64, n2: i64) -> Self {
        let mut x = Xoshiro {
            s: [n1 as u64, 0xff, n2 as u64, 0],
        };
        for _ in 0..16 {
            x.next_u64();
        }
        x
    }

    /// The next raw 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let res = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        res
    }

    /// A float in [0, 1) from the top 53 bits of a raw value.
    pub fn to_float(x: u64) -> f64 {
        (x >> 11) as f64 * (0.5f64).powi(53)
    }

    /// Projects the raw value `ran` into [0, n]: a mask when n + 1 is a power of two,
    /// otherwise masking to the smallest 2^b - 1 >= n and drawing again until inside.
    pub fn project(&mut self, mut ran: u64, n: u64) -> u64 {
        if n & n.wrapping_add(1) == 0 {
            return ran & n;
        }
        let mut lim = n;
        lim |= lim >> 1;
        lim |= lim >> 2;
        lim |= lim >> 4;
        lim |= lim >> 8;
        lim |= lim >> 16;
        lim |= lim >> 32;
        loop {
            ran &= lim;
            if ran <= n {
                return ran;
            }
            ran = self.next_u64();
        }
    }

    /// One `math.random` call. The error is Lua's argument error for an empty interval.
    pub fn random(&mut self, args: RandomArgs) -> Result<RandomValue, LibError> {
        let rv = self.next_u64();
        let (low, up) = match args {
            RandomArgs::None => return Ok(RandomValue::Float(Self::to_float(rv))),
            RandomArgs::Upper(0) => return Ok(RandomValue::Int(rv as i64)),
            RandomArgs::Upper(up) => (1, up),
            RandomArgs::Range(low, up) => (low, up),
        };
        if low > up {
            return Err(LibError::Arg(1, "interval is empty".into()));
        }
        let p = self.project(rv, (up as u64).wrapping_sub(low as u64));
        Ok(RandomValue::Int(p.wrapping_add(low as u64) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_in_unit_interval_and_ints_in_range() {
        let mut g = Xoshiro::from_seed(1, 0);
        for _ in 0..10_000 {
            match g.random(RandomArgs::None) {
                Ok(RandomValue::Float(f)) => assert!((0.0..1.0).contains(&f)),
                other => panic!("{other:?}"),
            }
            match g.random(RandomArgs::Range(-3, 5)) {
                Ok(RandomValue::Int(i)) => assert!((-3..=5).contains(&i)),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            g.random(RandomArgs::Upper(-1)),
            Err(LibError::Arg(1, "interval is empty".into()))
        );
    }
}

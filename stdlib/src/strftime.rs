//! `os.date` formatting: Lua 5.4's option check plus every C99 `strftime` conversion as
//! glibc prints it in the C locale, over a broken-down time from the C library's
//! `gmtime_r` / `localtime_r` (the timezone rules live there).
//!
//! Invariant: conversions are computed from the `Tm` fields alone (no locale, no libc
//! `strftime`), so the output depends only on the time and the process timezone.

use crate::string::LibError;

/// A broken-down time, as C's `struct tm` (years since 1900, months 0-11, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tm {
    /// Seconds, 0-60.
    pub sec: i32,
    /// Minutes, 0-59.
    pub min: i32,
    /// Hours, 0-23.
    pub hour: i32,
    /// Day of the month, 1-31.
    pub mday: i32,
    /// Month, 0-11.
    pub mon: i32,
    /// Years since 1900.
    pub year: i32,
    /// Day of the week, 0-6, Sunday = 0.
    pub wday: i32,
    /// Day of the year, 0-365.
    pub yday: i32,
    /// Daylight saving flag (positive, zero, or negative for unknown).
    pub isdst: i32,
    /// Offset from UTC in seconds (east positive).
    pub gmtoff: i64,
    /// Timezone abbreviation.
    pub zone: String,
}

impl Tm {
    fn from_libc(t: &libc::tm) -> Tm {
        let zone = if t.tm_zone.is_null() {
            String::new()
        } else {
            // SAFETY: glibc sets tm_zone to a NUL-terminated string with static lifetime
            // (or null, checked above).
            unsafe { std::ffi::CStr::from_ptr(t.tm_zone) }
                .to_string_lossy()
                .into_owned()
        };
        Tm {
            sec: t.tm_sec,
            min: t.tm_min,
            hour: t.tm_hour,
            mday: t.tm_mday,
            mon: t.tm_mon,
            year: t.tm_year,
            wday: t.tm_wday,
            yday: t.tm_yday,
            isdst: t.tm_isdst,
            gmtoff: t.tm_gmtoff,
            zone,
        }
    }
}

/// UTC broken-down time of `t` (seconds since the epoch); `None` if it cannot be
/// represented (the year overflows C's `int`).
pub fn gmtime(t: i64) -> Option<Tm> {
    let tt = t as libc::time_t;
    // SAFETY: zeroed is a valid `struct tm` (plain integers and a null pointer).
    let mut out: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; gmtime_r is thread-safe.
    let r = unsafe { libc::gmtime_r(&tt, &mut out) };
    (!r.is_null()).then(|| Tm::from_libc(&out))
}

/// Local broken-down time of `t` in the process timezone (`TZ`); `None` if it cannot be
/// represented.
pub fn localtime(t: i64) -> Option<Tm> {
    let tt = t as libc::time_t;
    // SAFETY: zeroed is a valid `struct tm` (plain integers and a null pointer).
    let mut out: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is thread-safe.
    let r = unsafe { libc::localtime_r(&tt, &mut out) };
    (!r.is_null()).then(|| Tm::from_libc(&out))
}

/// C's `mktime` over local time (for `os.time(table)`): normalises the fields (so
/// `mday = 32` rolls over) and returns the time and the normalised fields, or `None` when
/// the result cannot be represented.
pub fn mktime(tm: &Tm) -> Option<(i64, Tm)> {
    // SAFETY: zeroed is a valid `struct tm`.
    let mut c: libc::tm = unsafe { std::mem::zeroed() };
    c.tm_sec = tm.sec;
    c.tm_min = tm.min;
    c.tm_hour = tm.hour;
    c.tm_mday = tm.mday;
    c.tm_mon = tm.mon;
    c.tm_year = tm.year;
    c.tm_isdst = tm.isdst;
    // A sentinel: mktime sets tm_wday only on success (-1 is also a valid time).
    c.tm_wday = -1;
    // SAFETY: `c` is a valid, exclusively borrowed `struct tm`.
    let t = unsafe { libc::mktime(&mut c) };
    if t == -1 && c.tm_wday == -1 {
        return None;
    }
    Some((t as i64, Tm::from_libc(&c)))
}

const WDAY_ABBR: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const WDAY_FULL: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MON_ABBR: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MON_FULL: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Conversions Lua 5.4 accepts (C99), by length: one letter, then `E`/`O` modified.
const OPTIONS_1: &[u8] = b"aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ%";
const OPTIONS_2: &[&[u8]] = &[
    b"Ec", b"EC", b"Ex", b"EX", b"Ey", b"EY", b"Od", b"Oe", b"OH", b"OI", b"Om", b"OM", b"OS",
    b"Ou", b"OU", b"OV", b"Ow", b"OW", b"Oy",
];

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days from the start of the ISO week-based year's first week to `yday` (negative when
/// `yday` lies in the previous ISO year). Weeks start on Monday; week 1 holds a Thursday.
fn iso_week_days(yday: i32, wday: i32) -> i32 {
    let big = (366 / 7 + 2) * 7;
    yday - (yday - wday + 4 + big) % 7 + 3
}

/// The ISO 8601 year and the day count within it (week = days / 7 + 1). The year is C
/// `int` arithmetic, wrapping at the extremes as glibc's does.
fn iso_year_days(tm: &Tm) -> (i32, i32) {
    let mut year = tm.year.wrapping_add(1900);
    let mut days = iso_week_days(tm.yday, tm.wday);
    if days < 0 {
        year = year.wrapping_sub(1);
        days = iso_week_days(tm.yday + 365 + is_leap(year as i64) as i32, tm.wday);
    } else {
        let d = iso_week_days(tm.yday - (365 + is_leap(year as i64) as i32), tm.wday);
        if d >= 0 {
            year = year.wrapping_add(1);
            days = d;
        }
    }
    (year, days)
}

fn push_num(out: &mut Vec<u8>, v: i64, width: usize, pad: u8) {
    let s = v.unsigned_abs().to_string();
    if v < 0 {
        out.push(b'-');
    }
    for _ in s.len()..width {
        out.push(pad);
    }
    out.extend_from_slice(s.as_bytes());
}

/// Appends one conversion (the letter after `%` and any `E`/`O` modifier).
fn convert(out: &mut Vec<u8>, c: u8, tm: &Tm) {
    // C computes tm_year + 1900 in int, wrapping at the extreme (as glibc prints it).
    let year = tm.year.wrapping_add(1900) as i64;
    let idx = |v: i32, n: usize| (v.rem_euclid(n as i32)) as usize;
    match c {
        b'a' => out.extend_from_slice(WDAY_ABBR[idx(tm.wday, 7)].as_bytes()),
        b'A' => out.extend_from_slice(WDAY_FULL[idx(tm.wday, 7)].as_bytes()),
        b'b' | b'h' => out.extend_from_slice(MON_ABBR[idx(tm.mon, 12)].as_bytes()),
        b'B' => out.extend_from_slice(MON_FULL[idx(tm.mon, 12)].as_bytes()),
        b'c' => {
            for &k in b"a b e H:M:S Y" {
                if k == b' ' || k == b':' {
                    out.push(k);
                } else {
                    convert(out, k, tm);
                }
            }
        }
        b'C' => push_num(out, year.div_euclid(100), 1, b'0'),
        b'd' => push_num(out, tm.mday as i64, 2, b'0'),
        b'D' | b'x' => {
            convert(out, b'm', tm);
            out.push(b'/');
            convert(out, b'd', tm);
            out.push(b'/');
            convert(out, b'y', tm);
        }
        b'e' => push_num(out, tm.mday as i64, 2, b' '),
        b'F' => {
            convert(out, b'Y', tm);
            out.push(b'-');
            convert(out, b'm', tm);
            out.push(b'-');
            convert(out, b'd', tm);
        }
        b'g' => push_num(out, iso_year_days(tm).0.rem_euclid(100) as i64, 2, b'0'),
        b'G' => push_num(out, iso_year_days(tm).0 as i64, 1, b'0'),
        b'H' => push_num(out, tm.hour as i64, 2, b'0'),
        b'I' => {
            let h = tm.hour % 12;
            push_num(out, if h == 0 { 12 } else { h as i64 }, 2, b'0');
        }
        b'j' => push_num(out, tm.yday as i64 + 1, 3, b'0'),
        b'm' => push_num(out, tm.mon as i64 + 1, 2, b'0'),
        b'M' => push_num(out, tm.min as i64, 2, b'0'),
        b'n' => out.push(b'\n'),
        b'p' => out.extend_from_slice(if tm.hour < 12 { b"AM" } else { b"PM" }),
        b'r' => {
            convert(out, b'I', tm);
            out.push(b':');
            convert(out, b'M', tm);
            out.push(b':');
            convert(out, b'S', tm);
            out.push(b' ');
            convert(out, b'p', tm);
        }
        b'R' => {
            convert(out, b'H', tm);
            out.push(b':');
            convert(out, b'M', tm);
        }
        b'S' => push_num(out, tm.sec as i64, 2, b'0'),
        b't' => out.push(b'\t'),
        b'T' | b'X' => {
            convert(out, b'H', tm);
            out.push(b':');
            convert(out, b'M', tm);
            out.push(b':');
            convert(out, b'S', tm);
        }
        b'u' => push_num(out, if tm.wday == 0 { 7 } else { tm.wday as i64 }, 1, b'0'),
        b'U' => push_num(out, ((tm.yday - tm.wday + 7) / 7) as i64, 2, b'0'),
        b'V' => push_num(out, (iso_year_days(tm).1 / 7 + 1) as i64, 2, b'0'),
        b'w' => push_num(out, tm.wday as i64, 1, b'0'),
        b'W' => push_num(
            out,
            ((tm.yday - (tm.wday - 1 + 7) % 7 + 7) / 7) as i64,
            2,
            b'0',
        ),
        // From tm_year directly (1900 is a multiple of 100), so it never overflows.
        b'y' => push_num(out, tm.year.rem_euclid(100) as i64, 2, b'0'),
        b'Y' => push_num(out, year, 1, b'0'),
        b'z' => {
            let off = tm.gmtoff;
            out.push(if off < 0 { b'-' } else { b'+' });
            let m = off.unsigned_abs() / 60;
            push_num(out, ((m / 60) * 100 + m % 60) as i64, 4, b'0');
        }
        b'Z' => out.extend_from_slice(tm.zone.as_bytes()),
        b'%' => out.push(b'%'),
        _ => {}
    }
}

/// Formats `tm` with an `os.date` format (without the leading `!`), checking each
/// conversion as Lua 5.4 does. The error is Lua's argument error on argument #1.
pub fn strftime(fmt: &[u8], tm: &Tm) -> Result<Vec<u8>, LibError> {
    let mut out = Vec::with_capacity(fmt.len() * 2);
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        let rest = &fmt[i..];
        if let Some(&k) = rest.first().filter(|k| OPTIONS_1.contains(k)) {
            convert(&mut out, k, tm);
            i += 1;
        } else if rest.len() >= 2 && OPTIONS_2.contains(&&rest[..2]) {
            convert(&mut out, rest[1], tm);
            i += 2;
        } else {
            // Lua prints the rest of the format (up to a NUL) after the '%'.
            let shown = rest.split(|&b| b == 0).next().unwrap_or(&[]);
            return Err(LibError::Arg(
                1,
                format!(
                    "invalid conversion specifier '%{}'",
                    String::from_utf8_lossy(shown)
                ),
            ));
        }
    }
    Ok(out)
}

/// The result of `os.date`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateResult {
    /// The formatted string.
    Text(Vec<u8>),
    /// `*t` / `!*t`: the fields for the table (the os library builds it).
    Table(Tm),
}

/// `os.date(format, t)`: a leading `!` selects UTC; `*t` asks for a table.
pub fn os_date(fmt: &[u8], t: i64) -> Result<DateResult, LibError> {
    let (utc, fmt) = match fmt.strip_prefix(b"!") {
        Some(rest) => (true, rest),
        None => (false, fmt),
    };
    let tm = if utc { gmtime(t) } else { localtime(t) };
    let Some(tm) = tm else {
        return Err(LibError::Msg(
            "date result cannot be represented in this installation".into(),
        ));
    };
    if fmt == b"*t" {
        return Ok(DateResult::Table(tm));
    }
    strftime(fmt, &tm).map(DateResult::Text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(fmt: &str, t: i64) -> String {
        match os_date(format!("!{fmt}").as_bytes(), t) {
            Ok(DateResult::Text(b)) => String::from_utf8(b).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn iso_weeks_at_year_boundaries() {
        // 2021-01-01 is in week 53 of 2020; 2024-12-30 starts week 1 of 2025.
        assert_eq!(utc("%G-W%V-%u", 1_609_459_200), "2020-W53-5");
        assert_eq!(utc("%G-W%V-%u", 1_735_516_800), "2025-W01-1");
        assert_eq!(
            utc("%F %T %j %U %W", 1_704_067_199),
            "2023-12-31 23:59:59 365 53 52"
        );
    }

    #[test]
    fn invalid_specifiers_name_the_rest_of_the_format() {
        assert_eq!(os_date(b"%Ex", 0).map(|_| ()), Ok(()),);
        assert_eq!(
            os_date(b"%Qx", 0),
            Err(LibError::Arg(
                1,
                "invalid conversion specifier '%Qx'".into()
            ))
        );
    }

    #[test]
    fn table_form() {
        match os_date(b"!*t", 951_782_400) {
            Ok(DateResult::Table(tm)) => {
                assert_eq!(
                    (tm.year + 1900, tm.mon + 1, tm.mday, tm.yday + 1),
                    (2000, 2, 29, 60)
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

//! Calendar dates (`YYYY-MM-DD`, proleptic Gregorian), for what a topology says is wanted only
//! until some day (`expires`).
//!
//! A small civil-date routine rather than a crate: fwtopo needs parsing, printing and the number
//! of days between two dates, nothing of times or zones. Today's date is never read here: the
//! edges (command line, designer) pass it in, so the core stays pure and tests are fixed in time.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A day of the calendar, 0001-01-01 to 9999-12-31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Whether a year has a 29 February.
fn is_leap(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// The days of a month of a year (month 1-12).
fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const MONTHS: [&str; 12] = [
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

impl Date {
    /// The date, if it is one (`2026-02-30` is not).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        ((1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month))
        .then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (negative before it): Howard Hinnant's `days_from_civil`.
    pub fn days(self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01: the inverse of [`Date::days`] (`civil_from_days`);
    /// `None` outside the years 1-9999.
    pub fn from_days(days: i64) -> Option<Date> {
        let z = days.checked_add(719_468)?;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// The UTC date of a moment given in seconds since 1970-01-01T00:00:00Z.
    pub fn from_unix_seconds(seconds: i64) -> Option<Date> {
        Date::from_days(seconds.div_euclid(86_400))
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.days() - self.days()
    }
}

impl std::str::FromStr for Date {
    type Err = String;

    /// Exactly `YYYY-MM-DD`, a real day of the calendar.
    fn from_str(s: &str) -> Result<Date, String> {
        let shown = crate::user_text::quoted(s);
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) {
            return Err(format!("{shown} is not a date written YYYY-MM-DD"));
        }
        if !digits(8..10) {
            return Err(format!("{shown} is not a date written YYYY-MM-DD"));
        }
        let num =
            |r: std::ops::Range<usize>| b[r].iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        let (year, month, day) = (num(0..4), num(5..7), num(8..10));
        if year == 0 {
            return Err(format!("{shown}: there is no year 0"));
        }
        if !(1..=12).contains(&month) {
            return Err(format!("{shown}: there is no month {month}"));
        }
        // Both fit: a month is 1-12, a day two digits.
        let (month, day) = (month as u8, day as u8);
        Date::new(year, month, day).ok_or_else(|| {
            format!(
                "{shown} is not a day: {} {year} has {} days",
                MONTHS[usize::from(month - 1)],
                days_in_month(year, month)
            )
        })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Written as its text, `"2027-06-30"`.
impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Read from its text; a date that is no day of the calendar is an error where it stands.
impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn days_count_from_1970_and_back() {
        assert_eq!(date("1970-01-01").days(), 0);
        assert_eq!(date("1970-01-02").days(), 1);
        assert_eq!(date("1969-12-31").days(), -1);
        assert_eq!(date("2000-03-01").days(), 11_017);
        assert_eq!(date("2026-12-03").days(), 20_790);
        // Every day of four centuries goes there and back, one day after the other.
        let mut previous = date("1899-12-31");
        for n in date("1900-01-01").days()..=date("2300-12-31").days() {
            let d = Date::from_days(n).expect("a date");
            assert_eq!(d.days(), n);
            assert_eq!(previous.days_until(d), 1, "{previous} -> {d}");
            assert!(previous < d);
            previous = d;
        }
        assert_eq!(Date::from_days(date("9999-12-31").days() + 1), None);
        assert_eq!(Date::from_days(i64::MAX), None);
        assert_eq!(Date::from_days(i64::MIN), None);
        assert_eq!(
            Date::from_unix_seconds(1_796_256_000),
            Some(date("2026-12-03"))
        );
        assert_eq!(Date::from_unix_seconds(-1), Some(date("1969-12-31")));
    }

    #[test]
    fn only_real_days_written_yyyy_mm_dd_parse() {
        for ok in [
            "2024-02-29",
            "2000-02-29",
            "0001-01-01",
            "9999-12-31",
            "2026-04-30",
        ] {
            assert_eq!(date(ok).to_string(), ok);
        }
        for (bad, why) in [
            (
                "2026-02-30",
                "'2026-02-30' is not a day: February 2026 has 28 days",
            ),
            ("2026-02-29", "February 2026 has 28 days"),
            ("1900-02-29", "February 1900 has 28 days"),
            ("2026-04-31", "April 2026 has 30 days"),
            ("2026-13-01", "there is no month 13"),
            ("2026-00-10", "there is no month 0"),
            ("2026-01-00", "January 2026 has 31 days"),
            ("0000-01-01", "there is no year 0"),
            ("2026-1-01", "not a date written YYYY-MM-DD"),
            ("26-01-01", "not a date written YYYY-MM-DD"),
            ("2026/01/01", "not a date written YYYY-MM-DD"),
            (" 2026-01-01", "not a date written YYYY-MM-DD"),
            ("2026-01-0x", "not a date written YYYY-MM-DD"),
            ("２０２６-01-01", "not a date written YYYY-MM-DD"),
            ("", "not a date written YYYY-MM-DD"),
            ("2026-01-01\u{1b}", "'2026-01-01\\u{1b}' is not a date"),
        ] {
            let e = bad.parse::<Date>().expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}

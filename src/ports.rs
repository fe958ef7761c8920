//! Protocols, ports and port sets: the smallest shared vocabulary of the core.
//!
//! A [`PortSet`] is kept sorted and coalesced, so two sets that allow the same ports compare equal and
//! every exporter prints ranges the same way.

use crate::user_text::quoted;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A transport protocol a rule can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An inclusive port range; `start == end` is a single port. Ports are never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    /// A range, or `None` when it is empty, starts at 0 or runs backwards.
    pub fn new(start: u16, end: u16) -> Option<Self> {
        (start >= 1 && start <= end).then_some(PortRange { start, end })
    }

    pub fn single(port: u16) -> Option<Self> {
        Self::new(port, port)
    }

    pub fn is_single(&self) -> bool {
        self.start == self.end
    }

    #[allow(clippy::len_without_is_empty)] // a range always holds at least one port
    pub fn len(&self) -> u32 {
        u32::from(self.end) - u32::from(self.start) + 1
    }

    pub fn contains(&self, port: u16) -> bool {
        self.start <= port && port <= self.end
    }

    /// `a-b` (nftables, firewalld, netsh) or `a:b` (iptables, ufw) or `a_b` (CSF, APF) by separator.
    pub fn format_with(&self, sep: &str) -> String {
        let mut out = String::new();
        self.push_with(&mut out, sep);
        out
    }

    /// [`Self::format_with`], appended to `out` (a script's port lists are written in place).
    pub fn push_with(&self, out: &mut String, sep: &str) {
        use std::fmt::Write as _;
        // Writing into a String cannot fail.
        let _ = if self.is_single() {
            write!(out, "{}", self.start)
        } else {
            write!(out, "{}{sep}{}", self.start, self.end)
        };
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_with("-"))
    }
}

/// Error from parsing a port or range typed by a person; each quotes what was written, whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("{} is not a port number or range (plain decimal digits: 22, 8352-8364)", quoted(.0))]
    NotANumber(String),
    #[error("{} has a sign; a port is plain decimal digits", quoted(.0))]
    Signed(String),
    #[error("{} has a leading zero; a port is plain decimal digits without one", quoted(.0))]
    LeadingZero(String),
    #[error("{} is out of range: a port is 1-65535", quoted(.0))]
    OutOfRange(String),
    #[error("range {} runs backwards", quoted(.0))]
    Backwards(String),
}

/// One port of `whole` (which errors quote): plain decimal digits, no sign, no leading zero
/// (`022` reads as 22 to some tools and as octal 18 to others), 1-65535.
fn parse_port(s: &str, whole: &str) -> Result<u16, PortError> {
    let t = s.trim();
    let error = |make: fn(String) -> PortError| Err(make(whole.to_string()));
    if t.starts_with(['+', '-']) && t.len() > 1 && t[1..].bytes().all(|b| b.is_ascii_digit()) {
        return error(PortError::Signed);
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return error(PortError::NotANumber);
    }
    if t.len() > 1 && t.starts_with('0') {
        return error(PortError::LeadingZero);
    }
    match t.parse::<u16>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => error(PortError::OutOfRange),
    }
}

impl std::str::FromStr for PortRange {
    type Err = PortError;
    /// Accepts `25`, `8352-8364` and `60000:65000` (the PA document's spelling), with spaces
    /// around the numbers.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        // A leading sign is the port's, not a range separator (`-1`, `+22`).
        let split = s
            .char_indices()
            .skip(1)
            .find(|&(_, c)| c == '-' || c == ':')
            .map(|(i, _)| (&s[..i], &s[i + 1..]));
        match split {
            None => {
                let p = parse_port(s, s)?;
                Ok(PortRange { start: p, end: p })
            }
            Some((a, b)) => {
                let (a, b) = (parse_port(a, s)?, parse_port(b, s)?);
                PortRange::new(a, b).ok_or_else(|| PortError::Backwards(s.to_string()))
            }
        }
    }
}

/// A sorted, coalesced set of port ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortSet(Vec<PortRange>);

impl PortSet {
    pub fn new() -> Self {
        PortSet(Vec::new())
    }

    /// Builds a set from ranges in any order, merging overlapping and adjacent ones.
    pub fn from_ranges(mut ranges: Vec<PortRange>) -> Self {
        ranges.sort_unstable();
        let mut out: Vec<PortRange> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match out.last_mut() {
                Some(last) if u32::from(r.start) <= u32::from(last.end) + 1 => {
                    last.end = last.end.max(r.end);
                }
                _ => out.push(r),
            }
        }
        PortSet(out)
    }

    pub fn all() -> Self {
        PortSet(vec![PortRange {
            start: 1,
            end: 65535,
        }])
    }

    pub fn ranges(&self) -> &[PortRange] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.0
            == [PortRange {
                start: 1,
                end: 65535,
            }]
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        let mut v = self.0.clone();
        v.extend_from_slice(&other.0);
        PortSet::from_ranges(v)
    }

    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|r| r.contains(port))
    }

    /// Ports in both sets.
    pub fn intersection(&self, other: &PortSet) -> PortSet {
        let mut out = Vec::new();
        for a in &self.0 {
            for b in &other.0 {
                let (s, e) = (a.start.max(b.start), a.end.min(b.end));
                if s <= e {
                    out.push(PortRange { start: s, end: e });
                }
            }
        }
        PortSet::from_ranges(out)
    }

    /// Every port, one by one (for tests and small sets).
    pub fn ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.0.iter().flat_map(|r| r.start..=r.end)
    }

    /// Ranges as `a-b` strings, the form the JSON interface uses.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|r| r.to_string()).collect()
    }

    /// Ranges joined by `,` with the given range separator (e.g. `8352:8364,8412`).
    pub fn join(&self, range_sep: &str) -> String {
        self.0
            .iter()
            .map(|r| r.format_with(range_sep))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.join("-"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(a: u16, b: u16) -> PortRange {
        PortRange::new(a, b).unwrap()
    }

    #[test]
    fn coalesces_overlapping_and_adjacent() {
        let s = PortSet::from_ranges(vec![
            r(8412, 8412),
            r(8352, 8364),
            r(8365, 8365),
            r(8360, 8400),
        ]);
        assert_eq!(s.ranges(), &[r(8352, 8400), r(8412, 8412)]);
        assert_eq!(s.to_string(), "8352-8400,8412");
    }

    #[test]
    fn parses_ports_and_ranges() {
        assert_eq!("25".parse::<PortRange>(), Ok(r(25, 25)));
        assert_eq!("60000:65000".parse::<PortRange>(), Ok(r(60000, 65000)));
        assert_eq!(" 8352 - 8364 ".parse::<PortRange>(), Ok(r(8352, 8364)));
        assert_eq!(
            "0".parse::<PortRange>(),
            Err(PortError::OutOfRange("0".into()))
        );
        assert_eq!(
            "65536".parse::<PortRange>(),
            Err(PortError::OutOfRange("65536".into()))
        );
        assert!(matches!(
            "9-3".parse::<PortRange>(),
            Err(PortError::Backwards(_))
        ));
        assert!(matches!(
            "http".parse::<PortRange>(),
            Err(PortError::NotANumber(_))
        ));
    }

    #[test]
    fn a_port_is_plain_decimal_digits_and_errors_quote_the_whole_value() {
        for (text, error) in [
            ("-1", PortError::Signed("-1".into())),
            ("+22", PortError::Signed("+22".into())),
            ("+22-25", PortError::Signed("+22-25".into())),
            ("22-+25", PortError::Signed("22-+25".into())),
            ("022", PortError::LeadingZero("022".into())),
            ("00", PortError::LeadingZero("00".into())),
            ("20-030", PortError::LeadingZero("20-030".into())),
            ("", PortError::NotANumber("".into())),
            ("-", PortError::NotANumber("-".into())),
            ("--1", PortError::NotANumber("--1".into())),
            ("1--2", PortError::Signed("1--2".into())),
            ("0x16", PortError::NotANumber("0x16".into())),
            ("2 2", PortError::NotANumber("2 2".into())),
            ("22-", PortError::NotANumber("22-".into())),
            ("\u{664}", PortError::NotANumber("\u{664}".into())),
            (
                "99999999999999999999999",
                PortError::OutOfRange("99999999999999999999999".into()),
            ),
        ] {
            assert_eq!(text.parse::<PortRange>(), Err(error), "{text:?}");
        }
        assert_eq!(
            "-1".parse::<PortRange>().unwrap_err().to_string(),
            "'-1' has a sign; a port is plain decimal digits"
        );
        assert_eq!(
            "022".parse::<PortRange>().unwrap_err().to_string(),
            "'022' has a leading zero; a port is plain decimal digits without one"
        );
        assert_eq!(
            "a\u{1b}b".parse::<PortRange>().unwrap_err().to_string(),
            "'a\\u{1b}b' is not a port number or range (plain decimal digits: 22, 8352-8364)"
        );
    }
}

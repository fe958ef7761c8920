//! Who asked for a custom role, a custom flow or a node, why, and until when (`owner`, `ticket`,
//! `reason`, `expires`): an opening nobody owns stays open for years. `fwtopo check` reports what
//! has expired ([`crate::engine::derive_on`]); `rules`, the exports' comments and the designer show
//! the rest.

use crate::date::Date;
use crate::user_text::check_line;
use serde::Serialize;

/// How many days after `expires` an expired entry is a warning before it is an error, when the
/// topology does not say (`expiry_grace_days`).
pub const DEFAULT_GRACE_DAYS: u16 = 14;

/// The longest grace period a topology may set: ten years.
pub const MAX_GRACE_DAYS: u16 = 3650;

/// The longest owner or ticket, in bytes: both are printed within rule lists and comments.
pub const MAX_NAME_BYTES: usize = 200;

/// The longest reason, in bytes: one line, shown in full by `rules` and the designer.
pub const MAX_REASON_BYTES: usize = 1000;

/// Who asked for something and until when; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Ownership {
    /// A person or team (`ops@example.com`, `web team`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub owner: String,
    /// The change or request it was opened for (`CHG-1234`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ticket: String,
    /// Why, in a line.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The first day it is no longer wanted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Date>,
}

impl Ownership {
    pub fn is_empty(&self) -> bool {
        self.owner.is_empty()
            && self.ticket.is_empty()
            && self.reason.is_empty()
            && self.expires.is_none()
    }

    /// Checks the texts (the date was checked when it was read), pushing `{at}: owner` etc.
    pub fn check(&self, at: &dyn std::fmt::Display, push: &mut impl FnMut(String, String)) {
        for (field, value, max) in [
            ("owner", &self.owner, MAX_NAME_BYTES),
            ("ticket", &self.ticket, MAX_NAME_BYTES),
            ("reason", &self.reason, MAX_REASON_BYTES),
        ] {
            if let Err(m) = check_field(value, max) {
                push(format!("{at}: {field}"), m);
            }
        }
    }

    /// `owner ops, ticket CHG-1, expires 2027-06-30, reason …`: the parts that are set, for a
    /// line of text; empty when none is.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (label, value) in [
            ("owner", self.owner.as_str()),
            ("ticket", self.ticket.as_str()),
        ] {
            if !value.is_empty() {
                parts.push(format!("{label} {value}"));
            }
        }
        if let Some(d) = self.expires {
            parts.push(format!("expires {d}"));
        }
        if !self.reason.is_empty() {
            parts.push(format!("reason: {}", self.reason));
        }
        parts.join(", ")
    }
}

/// Checks one owner, ticket or reason: a line of at most `max` bytes.
pub fn check_field(value: &str, max: usize) -> Result<(), String> {
    check_line(value)?;
    if value.len() > max {
        return Err(format!(
            "is {} bytes long, more than the {max} allowed",
            value.len()
        ));
    }
    Ok(())
}

/// `expires` in a file: the date's bare text (`expires: "2027-06-30"`), not `Some("…")`; a text
/// that is no day of the calendar is an error at its line and column.
pub(super) mod expires {
    use crate::date::Date;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => d.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse()
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("expires: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_one_line_and_capped() {
        let mut problems = Vec::new();
        let o = Ownership {
            owner: "x".repeat(MAX_NAME_BYTES + 1),
            ticket: "CHG\u{1b}[2J".into(),
            reason: "two\nlines".into(),
            expires: None,
        };
        o.check(&"nodes[0] \"a\"", &mut |p, m| {
            problems.push(format!("{p}: {m}"))
        });
        assert_eq!(
            problems,
            [
                "nodes[0] \"a\": owner: is 201 bytes long, more than the 200 allowed",
                "nodes[0] \"a\": ticket: contains the control character U+001B",
                "nodes[0] \"a\": reason: contains the control character U+000A",
            ]
        );
        let fine = Ownership {
            owner: "x".repeat(MAX_NAME_BYTES),
            reason: "é".repeat(MAX_REASON_BYTES / 2),
            ..Default::default()
        };
        let mut none = 0;
        fine.check(&"n", &mut |_, _| none += 1);
        assert_eq!(none, 0);
    }

    #[test]
    fn describe_names_the_parts_that_are_set() {
        assert_eq!(Ownership::default().describe(), "");
        let o = Ownership {
            owner: "web team".into(),
            ticket: String::new(),
            reason: "load test".into(),
            expires: "2027-06-30".parse().ok(),
        };
        assert_eq!(
            o.describe(),
            "owner web team, expires 2027-06-30, reason: load test"
        );
    }

    use crate::topology::{LoadError, from_ron, from_ron_in_parts, to_ron};

    const SITE: &str = r#"(
        version: 1,
        expiry_grace_days: 30,
        zones: [(name: "admin", cidrs: ["198.51.100.0/28"])],
        nodes: [
            (name: "mon", os: "debian", addresses: ["203.0.113.30"],
             roles: [(product: "site", role: "monitoring")],
             owner: "ops team", ticket: "CHG-7", reason: "trial of the new monitor",
             expires: "2027-06-30"),
            (name: "web", os: "debian", addresses: ["203.0.113.31"]),
        ],
        custom: (
            roles: [(id: "monitoring", owner: "ops team", expires: "2028-01-31")],
            flows: [
                (id: "agent", service: "Zabbix agent", protocols: [tcp], ports: [Port(10050)],
                 from: [Role("monitoring")], to: [EveryNode],
                 owner: "ops@example.com", ticket: "CHG-8", reason: "passive checks",
                 expires: "2027-02-28"),
            ],
        ),
    )"#;

    /// The problems of a text that loads but does not check, as lines.
    fn problems(text: &str) -> Vec<String> {
        match from_ron(text) {
            Err(LoadError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn owner_ticket_reason_and_expiry_load_and_round_trip() {
        let t = from_ron(SITE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.expiry_grace_days, 30);
        let node = &t.nodes[0].ownership;
        assert_eq!(node.owner, "ops team");
        assert_eq!(node.ticket, "CHG-7");
        assert_eq!(node.reason, "trial of the new monitor");
        assert_eq!(node.expires, "2027-06-30".parse().ok());
        assert!(t.nodes[1].ownership.is_empty());
        assert_eq!(t.custom.roles[0].expires, "2028-01-31".parse().ok());
        assert_eq!(t.custom.flows[0].ownership().ticket, "CHG-8");
        let text = to_ron(&t);
        // Written as the operator writes them: bare dates, not Some("...").
        assert!(text.contains("expires: \"2027-06-30\""), "{text}");
        assert!(text.contains("expiry_grace_days: 30"), "{text}");
        assert!(!text.contains("Some(\"2027"), "{text}");
        let again = from_ron(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(t, again);
        assert_eq!(text, to_ron(&again));
        for parts in 2..=4 {
            assert_eq!(from_ron_in_parts(&text, parts), Ok(t.clone()), "{parts}");
        }
        // The custom product carries them to the catalog, for rules and exports.
        let product = crate::topology::custom::product(&t.custom);
        assert_eq!(
            product.flows[0]
                .ownership
                .as_deref()
                .map(|o| o.owner.as_str()),
            Some("ops@example.com")
        );
        assert_eq!(
            product.roles[0]
                .ownership
                .as_deref()
                .and_then(|o| o.expires),
            "2028-01-31".parse().ok()
        );
        // Nothing set, nothing written: the default grace period neither.
        let mut plain = t;
        plain.expiry_grace_days = DEFAULT_GRACE_DAYS;
        plain.nodes[0].ownership = Ownership::default();
        plain.custom = Default::default();
        let text = to_ron(&plain);
        for word in ["owner", "ticket", "reason", "expires", "expiry_grace_days"] {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }

    #[test]
    fn files_without_them_load_with_the_default_grace_period() {
        let old = r#"(version: 1, nodes: [(name: "a", os: "debian", addresses: ["203.0.113.2"])])"#;
        let t = from_ron(old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.expiry_grace_days, DEFAULT_GRACE_DAYS);
        assert_eq!(DEFAULT_GRACE_DAYS, 14);
        assert!(t.nodes[0].ownership.is_empty());
    }

    #[test]
    fn a_date_that_is_no_day_is_refused_at_its_line_and_column() {
        for from in ["\"2027-06-30\"", "\"2027-02-28\"", "\"2028-01-31\""] {
            let line = 1 + SITE
                .lines()
                .position(|l| l.contains(from))
                .unwrap_or_default();
            let bad = SITE.replacen(from, "\"2026-02-30\"", 1);
            match from_ron(&bad) {
                Err(LoadError::Syntax {
                    line: l,
                    col,
                    message,
                }) => {
                    assert_eq!(l, line, "{message}");
                    let at = bad.lines().nth(l - 1).unwrap_or_default();
                    // At the value, or just after it: not at the start of the file or node.
                    let value = at.find("2026-02-30").unwrap_or_default();
                    assert!(col > value && col <= value + 13, "{col} in {at}");
                    assert_eq!(
                        message,
                        "expires: '2026-02-30' is not a day: February 2026 has 28 days"
                    );
                }
                other => panic!("{from}: {other:?}"),
            }
        }
        let bad = SITE.replacen("\"2027-06-30\"", "\"30.06.2027\"", 1);
        assert!(
            matches!(from_ron(&bad), Err(LoadError::Syntax { message, .. }) if message.contains("not a date written YYYY-MM-DD")),
        );
    }

    #[test]
    fn texts_that_are_too_long_or_hold_controls_name_their_place() {
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        for (from, to, want) in [
            (
                "owner: \"ops team\", ticket",
                format!("owner: \"{long}\", ticket"),
                "nodes[0] \"mon\": owner: is 201 bytes long, more than the 200 allowed",
            ),
            (
                "ticket: \"CHG-8\"",
                "ticket: \"CHG\\u{1b}]0;x\\u{7}\"".to_string(),
                "custom.flows[0] \"agent\": ticket: contains the control character U+001B",
            ),
            (
                "reason: \"passive checks\"",
                "reason: \"passive\\nchecks\"".to_string(),
                "custom.flows[0] \"agent\": reason: contains the control character U+000A",
            ),
            (
                "owner: \"ops team\", expires",
                "owner: \"ops\\u{202E}team\", expires".to_string(),
                "custom.roles[0] \"monitoring\": owner: contains the control character U+202E",
            ),
            (
                "expiry_grace_days: 30",
                "expiry_grace_days: 3651".to_string(),
                "expiry_grace_days: 3651 days is more than the 3650 allowed",
            ),
        ] {
            assert!(SITE.contains(from), "{from}");
            let all = problems(&SITE.replacen(from, &to, 1));
            assert_eq!(all.len(), 1, "{all:?}");
            assert!(all[0].starts_with(want), "{all:?}");
        }
    }
}

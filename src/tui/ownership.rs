//! Who asked for a node, a custom role or a custom flow, in the designer's one-line form:
//! `owner: web team; ticket: CHG-2; expires: 2027-06-30; reason: load test`. The prompt (`w`)
//! opens on that text and refuses what the file loader would (a date that is no day, a control
//! character, a text over its length) with the reason, so what is typed is what a save keeps.

use super::app::{App, Pane, Purpose};
use super::custom_role::{CustomRow, row};
use super::update::{commit, open_input};
use fwtopo::date::Date;
use fwtopo::topology::ownership::{MAX_NAME_BYTES, MAX_REASON_BYTES, Ownership, check_field};

/// The fields of the form, in the order it writes them.
const FIELDS: [&str; 4] = ["owner", "ticket", "expires", "reason"];

/// The form of `o`: the parts that are set, `key: value` joined by `; `.
pub fn text(o: &Ownership) -> String {
    let expires = o.expires.map(|d| d.to_string()).unwrap_or_default();
    FIELDS
        .iter()
        .zip([&o.owner, &o.ticket, &expires, &o.reason])
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads the form back; empty text clears everything. A `;` not followed by a field name
/// belongs to the value before it (a reason may hold one).
pub fn parse(text: &str) -> Result<Ownership, String> {
    let mut values: [Option<String>; 4] = Default::default();
    let mut current: Option<usize> = None;
    for piece in text.split(';') {
        let field = piece.split_once(':').and_then(|(k, v)| {
            let k = k.trim();
            FIELDS.iter().position(|f| *f == k).map(|i| (i, v))
        });
        match (field, current) {
            (Some((i, v)), _) => {
                if values[i].is_some() {
                    return Err(format!("{} is given twice", FIELDS[i]));
                }
                values[i] = Some(v.to_string());
                current = Some(i);
            }
            (None, Some(i)) => {
                if let Some(v) = &mut values[i] {
                    v.push(';');
                    v.push_str(piece);
                }
            }
            (None, None) if piece.trim().is_empty() => {}
            (None, None) => {
                return Err(format!(
                    "'{}' names no field: write owner: …; ticket: …; expires: YYYY-MM-DD; reason: …",
                    piece.trim().escape_debug()
                ));
            }
        }
    }
    let [owner, ticket, expires, reason] = values.map(|v| v.unwrap_or_default().trim().to_string());
    for (name, value, max) in [
        ("owner", &owner, MAX_NAME_BYTES),
        ("ticket", &ticket, MAX_NAME_BYTES),
        ("reason", &reason, MAX_REASON_BYTES),
    ] {
        check_field(value, max).map_err(|e| format!("{name} {e}"))?;
    }
    let expires = if expires.is_empty() {
        None
    } else {
        Some(
            expires
                .parse::<Date>()
                .map_err(|e| format!("expires: {e}"))?,
        )
    };
    Ok(Ownership {
        owner,
        ticket,
        reason,
        expires,
    })
}

/// The parts of `o` that are set, for a detail line: `owner web team, ticket CHG-2, expired
/// 2027-06-30 (3 days ago), reason: load test`; empty when none is.
pub fn describe(o: &Ownership, today: Option<Date>) -> String {
    let mut parts = Vec::new();
    if !o.owner.is_empty() {
        parts.push(format!("owner {}", o.owner));
    }
    if !o.ticket.is_empty() {
        parts.push(format!("ticket {}", o.ticket));
    }
    if let Some(d) = o.expires {
        parts.push(expiry_note(d, today));
    }
    if !o.reason.is_empty() {
        parts.push(format!("reason: {}", o.reason));
    }
    parts.join(", ")
}

/// `expires 2027-06-30`, or how long ago it expired as of `today`, for lists and details.
pub fn expiry_note(expires: Date, today: Option<Date>) -> String {
    match today.map(|t| expires.days_until(t)) {
        Some(0) => format!("expired {expires} (today)"),
        Some(1) => format!("expired {expires} (1 day ago)"),
        Some(d) if d > 1 => format!("expired {expires} ({d} days ago)"),
        _ => format!("expires {expires}"),
    }
}

/// `w`: the form of the selected node (nodes pane), or of the selected custom role or flow
/// (custom pane).
pub fn edit(app: &mut App) {
    let t = &app.topology;
    let (purpose, o) = match app.focus {
        Pane::Custom => match row(t, app.custom.sel) {
            Some(CustomRow::Role(i)) => (Purpose::RoleOwnership(i), t.custom.roles[i].ownership()),
            Some(CustomRow::Flow(i)) => (Purpose::FlowOwnership(i), t.custom.flows[i].ownership()),
            None => return,
        },
        _ => match app.selected_node() {
            Some(n) => (Purpose::NodeOwnership(n), t.nodes[n].ownership.clone()),
            None => return,
        },
    };
    open_input(app, purpose, text(&o));
}

/// Accepts the form of a node, custom role or flow, or says what is wrong (the prompt stays).
pub fn submit(app: &mut App, purpose: &Purpose, text: &str) -> Result<(), String> {
    let o = parse(text)?;
    let t = &app.topology;
    match *purpose {
        Purpose::NodeOwnership(n) => {
            let node = t.nodes.get(n).ok_or("the node is gone")?;
            if node.ownership != o {
                let label = format!("who asked for {}", node.name);
                commit(app, label, |t| t.nodes[n].ownership = o);
            }
        }
        Purpose::RoleOwnership(i) => {
            let role = t.custom.roles.get(i).ok_or("the role is gone")?;
            if role.ownership() != o {
                let label = format!("who asked for custom role {}", role.id);
                commit(app, label, |t| {
                    let r = &mut t.custom.roles[i];
                    (r.owner, r.ticket, r.reason, r.expires) =
                        (o.owner, o.ticket, o.reason, o.expires);
                });
            }
        }
        Purpose::FlowOwnership(i) => {
            let flow = t.custom.flows.get(i).ok_or("the flow is gone")?;
            if flow.ownership() != o {
                let label = format!("who asked for custom flow {}", flow.id);
                commit(app, label, |t| {
                    let f = &mut t.custom.flows[i];
                    (f.owner, f.ticket, f.reason, f.expires) =
                        (o.owner, o.ticket, o.reason, o.expires);
                });
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_back_what_it_writes() {
        let o = Ownership {
            owner: "web team".into(),
            ticket: "CHG-2".into(),
            reason: "load test; then remove".into(),
            expires: "2027-06-30".parse().ok(),
        };
        let t = text(&o);
        assert_eq!(
            t,
            "owner: web team; ticket: CHG-2; expires: 2027-06-30; reason: load test; then remove"
        );
        assert_eq!(parse(&t), Ok(o));
        assert_eq!(parse("  "), Ok(Ownership::default()));
        assert_eq!(text(&Ownership::default()), "");
        // Any order, any spacing.
        assert_eq!(
            parse("expires:2027-01-31 ;owner :ops").map(|o| (o.owner, o.expires)),
            Ok(("ops".to_string(), "2027-01-31".parse().ok()))
        );
    }

    #[test]
    fn what_the_loader_refuses_the_form_refuses_with_the_reason() {
        for (bad, why) in [
            ("expires: 2026-02-30", "expires: '2026-02-30' is not a day"),
            ("expires: soon", "not a date written YYYY-MM-DD"),
            (
                "owner: a\u{1b}[2Jb",
                "owner contains the control character U+001B",
            ),
            ("owner: a; owner: b", "owner is given twice"),
            ("who: me", "'who: me' names no field"),
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!("ticket: {}", "x".repeat(MAX_NAME_BYTES + 1));
        assert!(parse(&long).is_err_and(|e| e.contains("more than the 200 allowed")));
    }

    #[test]
    fn the_expiry_note_says_how_long_ago() {
        let d: Date = "2027-03-01".parse().unwrap_or_else(|e| panic!("{e}"));
        let day = |s: &str| s.parse().ok();
        assert_eq!(expiry_note(d, None), "expires 2027-03-01");
        assert_eq!(expiry_note(d, day("2027-02-28")), "expires 2027-03-01");
        assert_eq!(
            expiry_note(d, day("2027-03-01")),
            "expired 2027-03-01 (today)"
        );
        assert_eq!(
            expiry_note(d, day("2027-03-11")),
            "expired 2027-03-01 (10 days ago)"
        );
    }
}

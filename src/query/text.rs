//! A query's answer as an operator reads it: the verdict, the evidence per address family on both
//! ends, and what would allow it. The command line prints it and the designer shows it.

use super::{Answer, Side};
use std::fmt::Write;

/// One side's verdict in a query answer, with its evidence.
fn side(out: &mut String, what: &str, s: &Side) {
    match s {
        Side::NotFiltered { why } => {
            let _ = writeln!(out, "    {what}: not filtered ({why})");
        }
        Side::Dropped => {
            let _ = writeln!(out, "    {what}: DROPPED: no rule allows it");
        }
        Side::Allowed { rule } => {
            let _ = writeln!(
                out,
                "    {what}: allowed on {} by the rule {} {} {} {}",
                rule.node,
                rule.protocol,
                rule.ports,
                if rule.direction == "inbound" {
                    "from"
                } else {
                    "to"
                },
                rule.peers.join(", ")
            );
            for f in &rule.flows {
                let _ = writeln!(out, "      {}: {}", f.flow, f.service);
                let _ = writeln!(out, "        source: {}, {}", f.document, f.section);
            }
        }
    }
}

/// A query's answer: the verdict, then per address family the evidence on both ends, then what
/// would allow it.
pub fn answer(a: &Answer) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} -> {} {}/{} (egress {}): {}",
        a.from,
        a.to,
        a.protocol,
        a.port,
        a.egress,
        if a.allowed { "ALLOWED" } else { "NOT ALLOWED" }
    );
    if a.families.is_empty() {
        let _ = writeln!(out, "  no address family both ends have an address of");
    }
    for f in &a.families {
        let _ = writeln!(
            out,
            "  {} {} -> {}: {}",
            f.family,
            f.from,
            f.to,
            if f.allowed { "allowed" } else { "not allowed" }
        );
        side(&mut out, "inbound", &f.inbound);
        side(&mut out, "outbound", &f.outbound);
    }
    if !a.missing.is_empty() {
        let _ = writeln!(out, "  what would allow it:");
        for m in &a.missing {
            let _ = writeln!(out, "    - {m}");
        }
    }
    out
}

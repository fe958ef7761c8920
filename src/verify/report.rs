//! The answer of `fwtopo verify`: in sync or not, each drift in words, for people and for `--json`.

use super::compare::Drift;
use super::model::Foreign;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub node: String,
    /// The tool whose output was read: `nftables`, `iptables`.
    pub source: &'static str,
    pub egress: &'static str,
    /// The families compared (a capture of one family compares that one).
    pub families: Vec<&'static str>,
    pub in_sync: bool,
    /// Missing, extra ports and wider peers, in that order.
    pub drift: Vec<Drift>,
    /// Tables, chains and rules that no fwtopo export wrote.
    pub not_ours: Vec<Foreign>,
    pub notes: Vec<String>,
}

/// The text report: a verdict line, then one line per drift and per thing not ours.
pub fn render(r: &Report) -> String {
    let mut out = format!(
        "node {}: {} ({} capture, {}, egress {})\n",
        r.node,
        if r.in_sync { "in sync" } else { "drift" },
        r.source,
        r.families.join(" and "),
        r.egress
    );
    for d in &r.drift {
        let (to, from) = match d.direction {
            "inbound" => ("from", "in"),
            _ => ("to", "out"),
        };
        let peers = d.peers.join(" ");
        let line = match d.kind {
            "missing" => format!(
                "missing: {from} {} {} {to} {peers} ({}): the design allows it, the live firewall blocks it",
                d.protocol, d.ports, d.family
            ),
            "extra-port" => format!(
                "extra port: {from} {} {} {to} {peers} ({}): the live firewall allows it, the design does not",
                d.protocol, d.ports, d.family
            ),
            _ => format!(
                "wider peer: {from} {} {} {to} {peers} ({}): the design allows only {}",
                d.protocol,
                d.ports,
                d.family,
                d.design_peers.join(" ")
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    for f in &r.not_ours {
        out.push_str(&format!("not ours: {} {}", f.kind, f.name));
        if !f.detail.is_empty() {
            out.push_str(&format!(": {}", f.detail));
        }
        out.push('\n');
    }
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

//! `nft -j list ruleset`: the JSON nftables prints, read into chains and rules.
//!
//! Ours is the `inet fwtopo` table with its `input` and `output` chains (see
//! [`crate::export::nftables`]); every other table, any other chain in ours, and any rule in ours
//! that neither carries a comment (every exported rule does) nor is one of the fixed loopback,
//! conntrack and ICMP lines is named as not ours.

use super::CaptureError;
use super::addrs::{AddrSet, Fam, interval};
use super::model::{Foreign, LiveModel};
use super::ruleset::{Chain, Cond, Hook, Rule, Ruleset, Verdict, port_complement};
use crate::export::nftables::TABLE;
use crate::ports::{PortRange, PortSet, Protocol};
use crate::user_text::escaped;
use ipnet::IpNet;
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;

/// Parses a capture; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<LiveModel, CaptureError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| CaptureError {
        at: format!("{file}:{}:{}", e.line(), e.column()),
        message: format!("not nft JSON: {e}"),
    })?;
    let Some(items) = doc.get("nftables").and_then(Value::as_array) else {
        return Err(CaptureError {
            at: file.to_string(),
            message: "no \"nftables\" array at the top: not the output of `nft -j list ruleset`"
                .into(),
        });
    };
    let err = |i: usize, what: &str, msg: &str| CaptureError {
        at: format!("{file}: nftables[{i}].{what}"),
        message: msg.to_string(),
    };
    let mut tables: Vec<(String, String)> = Vec::new();
    let mut sets: HashMap<(String, String), AddrSet> = HashMap::new();
    let mut ruleset = Ruleset::default();
    let mut rules: Vec<(usize, &serde_json::Map<String, Value>)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            return Err(err(i, "", "not an object"));
        };
        let Some((kind, body)) = obj.iter().next() else {
            continue;
        };
        let field = |name: &str| -> Result<String, CaptureError> {
            body.get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| err(i, kind, &format!("no \"{name}\" string")))
        };
        match kind.as_str() {
            "table" => tables.push((field("family")?, field("name")?)),
            "set" | "map" => {
                let table = format!("{} {}", field("family")?, field("table")?);
                let ty = body.get("type").and_then(Value::as_str).unwrap_or("");
                let fam = match ty {
                    "ipv4_addr" => Fam::V4,
                    "ipv6_addr" => Fam::V6,
                    _ => continue,
                };
                let elems = body
                    .get("elem")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let mut intervals = Vec::new();
                for e in elems {
                    match addresses(e, fam) {
                        Some(v) => intervals.extend(v),
                        None => return Err(err(i, "set.elem", "an element is not an address")),
                    }
                }
                sets.insert((table, field("name")?), AddrSet::from_intervals(intervals));
            }
            "chain" => {
                let family = field("family")?;
                let hook = match (
                    body.get("type").and_then(Value::as_str),
                    body.get("hook").and_then(Value::as_str),
                ) {
                    (Some("filter"), Some("input")) => Some(Hook::Input),
                    (Some("filter"), Some("output")) => Some(Hook::Output),
                    _ => None,
                };
                let accepts = body.get("policy").and_then(Value::as_str) != Some("drop");
                ruleset.chains.push(Chain {
                    table: format!("{family} {}", field("table")?),
                    name: field("name")?,
                    fams: families(&family),
                    base: hook.map(|h| (h, accepts)),
                    rules: Vec::new(),
                });
            }
            "rule" => rules.push((
                i,
                body.as_object()
                    .ok_or_else(|| err(i, kind, "not an object"))?,
            )),
            _ => {}
        }
    }
    let ours_table = format!("inet {TABLE}");
    let mut foreign = Vec::new();
    for (family, name) in &tables {
        let t = format!("{family} {name}");
        if t != ours_table {
            foreign.push(Foreign {
                kind: "table",
                name: escaped(&t),
                detail: String::new(),
            });
        }
    }
    for c in &ruleset.chains {
        if c.table == ours_table && !matches!(c.name.as_str(), "input" | "output") {
            foreign.push(Foreign {
                kind: "chain",
                name: escaped(&format!("{}/{}", c.table, c.name)),
                detail: String::new(),
            });
        }
    }
    for (i, body) in rules {
        let get = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
        let table = format!("{} {}", get("family"), get("table"));
        let chain = get("chain").to_string();
        let exprs = body
            .get("expr")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let (mut cond, verdict) = rule(&table, exprs, &sets);
        let at = format!("{file}: nftables[{i}]");
        if let Some(f) = families(get("family"))
            .as_slice()
            .first()
            .filter(|_| matches!(get("family"), "ip" | "ip6"))
        {
            cond.family(*f);
        }
        let ours = table == ours_table
            && matches!(chain.as_str(), "input" | "output")
            && (body.get("comment").is_some() || cond.is_housekeeping());
        if table == ours_table && !ours && matches!(chain.as_str(), "input" | "output") {
            foreign.push(Foreign {
                kind: "rule",
                name: escaped(&format!("{table}/{chain}")),
                detail: escaped(&format!("{} {}", cond.describe(), verdict_word(&verdict))),
            });
        }
        if let Some(c) = ruleset
            .chains
            .iter_mut()
            .find(|c| c.table == table && c.name == chain)
        {
            c.rules.push(Rule { cond, verdict, at });
        }
    }
    let mut model = LiveModel::from_ruleset("nftables", &ruleset, Fam::BOTH.to_vec());
    if !tables.iter().any(|(f, n)| format!("{f} {n}") == ours_table) {
        model.notes.push(format!(
            "no table {ours_table}: fwtopo's rules are not loaded"
        ));
    }
    foreign.sort();
    model.foreign = foreign;
    Ok(model)
}

fn verdict_word(v: &Verdict) -> String {
    match v {
        Verdict::Accept => "accept".into(),
        Verdict::Drop => "drop".into(),
        Verdict::Jump(t) => format!("jump {t}"),
        Verdict::Goto(t) => format!("goto {t}"),
        Verdict::Return => "return".into(),
        Verdict::Continue => "(no verdict)".into(),
    }
}

/// The families a table of this nft family sees (arp, bridge and netdev tables: none we compare).
fn families(family: &str) -> Vec<Fam> {
    match family {
        "inet" => vec![Fam::V4, Fam::V6],
        "ip" => vec![Fam::V4],
        "ip6" => vec![Fam::V6],
        _ => Vec::new(),
    }
}

/// One rule's conditions and verdict.
fn rule(
    table: &str,
    exprs: &[Value],
    sets: &HashMap<(String, String), AddrSet>,
) -> (Cond, Verdict) {
    let mut cond = Cond::default();
    let mut verdict = Verdict::Continue;
    for e in exprs {
        let Some((key, body)) = e.as_object().and_then(|o| o.iter().next()) else {
            cond.unknown.push(short(e));
            continue;
        };
        match key.as_str() {
            "match" => matcher(table, body, sets, &mut cond),
            "accept" => verdict = Verdict::Accept,
            "drop" | "reject" => verdict = Verdict::Drop,
            "return" => verdict = Verdict::Return,
            "jump" | "goto" => {
                let target = body
                    .get("target")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                verdict = if key == "jump" {
                    Verdict::Jump(target)
                } else {
                    Verdict::Goto(target)
                };
            }
            "counter" | "log" | "comment" => {}
            _ => cond.unknown.push(short(e)),
        }
    }
    (cond, verdict)
}

/// A JSON value cut short for a report line.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

fn matcher(table: &str, m: &Value, sets: &HashMap<(String, String), AddrSet>, cond: &mut Cond) {
    let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
    let negate = op == "!=";
    let (Some(left), Some(right)) = (m.get("left"), m.get("right")) else {
        cond.unknown.push(short(m));
        return;
    };
    if !matches!(op, "==" | "!=" | "in") {
        cond.unknown.push(short(m));
        return;
    }
    let meta = left.pointer("/meta/key").and_then(Value::as_str);
    let ct = left.pointer("/ct/key").and_then(Value::as_str);
    let payload = left.get("payload").map(|p| {
        (
            p.get("protocol").and_then(Value::as_str).unwrap_or(""),
            p.get("field").and_then(Value::as_str).unwrap_or(""),
        )
    });
    match (meta, ct, payload) {
        (Some("iifname" | "oifname" | "iif" | "oif"), _, _) => {
            let names = strings(right);
            if names == ["lo"] {
                // Our model is a connection over a network interface, never loopback.
                cond.never |= !negate;
            } else {
                cond.unknown.push(short(m));
            }
        }
        (Some("l4proto"), _, _) | (_, _, Some(("ip", "protocol") | ("ip6", "nexthdr"))) => {
            let names = strings(right);
            let mut protos: Vec<Protocol> = [Protocol::Tcp, Protocol::Udp]
                .into_iter()
                .filter(|p| names.iter().any(|n| n == p.as_str()) != negate)
                .collect();
            protos.dedup();
            cond.protocols(&protos);
        }
        (Some("nfproto"), _, _) => {
            let names = strings(right);
            let v4 = names.iter().any(|n| n == "ipv4") != negate;
            let v6 = names.iter().any(|n| n == "ipv6") != negate;
            match (v4, v6) {
                (true, false) => cond.family(Fam::V4),
                (false, true) => cond.family(Fam::V6),
                (false, false) => cond.never = true,
                (true, true) => {}
            }
        }
        (_, Some("state"), _) => {
            let names = strings(right);
            if (names.iter().any(|n| n == "new") == negate) || names.is_empty() {
                cond.never = true;
            }
        }
        (_, _, Some((proto @ ("tcp" | "udp" | "th"), "dport"))) => match ports(right) {
            Some(p) => {
                if proto == "tcp" {
                    cond.protocols(&[Protocol::Tcp]);
                } else if proto == "udp" {
                    cond.protocols(&[Protocol::Udp]);
                }
                let p = if negate { port_complement(&p) } else { p };
                cond.dports(p);
            }
            None => cond.unknown.push(short(m)),
        },
        (_, _, Some((fam @ ("ip" | "ip6"), field @ ("saddr" | "daddr")))) => {
            let fam = if fam == "ip" { Fam::V4 } else { Fam::V6 };
            match address_match(table, right, fam, sets) {
                Some(a) => {
                    let a = if negate { a.complement(fam) } else { a };
                    cond.addresses(field == "saddr", (fam, a));
                }
                None => cond.unknown.push(short(m)),
            }
        }
        _ => cond.unknown.push(short(m)),
    }
}

/// The strings of a right-hand side: `"lo"`, `["established", "related"]`, `{"set": [...]}`.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        Value::Object(o) => o.get("set").map(strings).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Ports: `22`, `{"range": [a, b]}`, `{"set": [...]}`; `None` for anything else (a named set).
fn ports(v: &Value) -> Option<PortSet> {
    let mut out = Vec::new();
    collect_ports(v, &mut out)?;
    Some(PortSet::from_ranges(out))
}

fn collect_ports(v: &Value, out: &mut Vec<PortRange>) -> Option<()> {
    let port = |v: &Value| v.as_u64().and_then(|n| u16::try_from(n).ok());
    match v {
        Value::Number(_) => {
            // Port 0 is never a real destination: it matches nothing we compare.
            if let Some(r) = PortRange::single(port(v)?) {
                out.push(r);
            }
        }
        Value::Array(a) => a.iter().try_for_each(|x| collect_ports(x, out))?,
        Value::Object(o) => {
            if let Some(s) = o.get("set") {
                collect_ports(s, out)?;
            } else if let Some(r) = o.get("range").and_then(Value::as_array) {
                let (a, b) = (port(r.first()?)?, port(r.get(1)?)?);
                if let Some(r) = PortRange::new(a.max(1), b) {
                    out.push(r);
                }
            } else if let Some(e) = o.get("elem") {
                collect_ports(e.get("val")?, out)?;
            } else {
                return None;
            }
        }
        _ => return None,
    }
    Some(())
}

/// An address match's right-hand side: an address, a prefix, a range, an anonymous set, or a
/// named set of this table (`@name`).
fn address_match(
    table: &str,
    v: &Value,
    fam: Fam,
    sets: &HashMap<(String, String), AddrSet>,
) -> Option<AddrSet> {
    if let Some(name) = v.as_str().and_then(|s| s.strip_prefix('@')) {
        return sets.get(&(table.to_string(), name.to_string())).cloned();
    }
    if let Some(list) = v.get("set").and_then(Value::as_array) {
        let mut all = Vec::new();
        for e in list {
            all.extend(addresses(e, fam)?);
        }
        return Some(AddrSet::from_intervals(all));
    }
    addresses(v, fam).map(AddrSet::from_intervals)
}

/// One element: `"192.0.2.1"`, `{"prefix": {...}}`, `{"range": [a, b]}`, `{"elem": {"val": ...}}`.
fn addresses(v: &Value, fam: Fam) -> Option<Vec<(u128, u128)>> {
    let one = |s: &str| -> Option<u128> {
        let a: IpAddr = s.parse().ok()?;
        let n = IpNet::from(a);
        (Fam::of(&n) == fam).then(|| interval(&n).0)
    };
    match v {
        Value::String(s) => {
            let a = one(s)?;
            Some(vec![(a, a)])
        }
        Value::Object(o) => {
            if let Some(p) = o.get("prefix") {
                let addr: IpAddr = p.get("addr")?.as_str()?.parse().ok()?;
                let len = u8::try_from(p.get("len")?.as_u64()?).ok()?;
                let net = IpNet::new(addr, len).ok()?.trunc();
                (Fam::of(&net) == fam).then(|| vec![interval(&net)])
            } else if let Some(r) = o.get("range").and_then(Value::as_array) {
                Some(vec![(
                    one(r.first()?.as_str()?)?,
                    one(r.get(1)?.as_str()?)?,
                )])
            } else if let Some(e) = o.get("elem") {
                addresses(e.get("val")?, fam)
            } else {
                None
            }
        }
        _ => None,
    }
}

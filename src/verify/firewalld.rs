//! firewalld: the default zone, every zone, every policy and our ipsets as `firewall-cmd` (or
//! `firewall-offline-cmd`) lists them (the command is in `fwtopo verify --help`).
//!
//! Inbound, a packet is filtered by the zone of the interface (or source) it comes from: every
//! active zone and the default zone count, so a port any of them opens is open. In a zone, rich
//! rules with a negative priority come first, then rich rules that drop or reject, then what
//! accepts (rich rules, ports, services), then rich rules with a positive priority, then the
//! target. Outbound, policies from `HOST` filter, each the same way; without one nothing is
//! filtered. Ours are the zone `fwtopo`, the policy `fwtopo-out` and the ipsets `fwtopo-*` (see
//! [`crate::export::firewalld`]); the `dhcpv6-client` service our zone keeps is taken as part of
//! it; any other active zone or policy is named as not ours. Services are read by a short table
//! of well-known ones; others are named as not understood.

use super::CaptureError;
use super::addrs::{AddrSet, Fam};
use super::model::{Foreign, LiveModel};
use super::ruleset::{Chain, Cond, Hook, Rule, Ruleset, Verdict};
use crate::ports::{PortRange, PortSet, Protocol};
use crate::user_text::escaped;
use ipnet::IpNet;
use std::collections::HashMap;

const ZONE: &str = "fwtopo";
const POLICY: &str = "fwtopo-out";

/// One listed zone, policy or ipset: its name, flags (`active`, `default`) and `key: value` lines,
/// rich rules apart.
#[derive(Default)]
struct Block {
    name: String,
    flags: String,
    fields: HashMap<String, String>,
    rich: Vec<(String, String)>,
    at: String,
}

/// Well-known services and their ports: (name, protocol, first, last).
const SERVICES: &[(&str, Protocol, u16, u16)] = &[
    ("ssh", Protocol::Tcp, 22, 22),
    ("http", Protocol::Tcp, 80, 80),
    ("https", Protocol::Tcp, 443, 443),
    ("dns", Protocol::Tcp, 53, 53),
    ("dns", Protocol::Udp, 53, 53),
    ("dhcpv6-client", Protocol::Udp, 546, 546),
    ("cockpit", Protocol::Tcp, 9090, 9090),
    ("mdns", Protocol::Udp, 5353, 5353),
    ("smtp", Protocol::Tcp, 25, 25),
    ("ntp", Protocol::Udp, 123, 123),
    ("mysql", Protocol::Tcp, 3306, 3306),
    ("rdp", Protocol::Tcp, 3389, 3389),
];

pub fn parse(files: &[(&str, &str)]) -> Result<LiveModel, CaptureError> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut default_zone = None;
    let mut in_rich = false;
    for (file, text) in files {
        for (n, line) in text.lines().enumerate() {
            let at = format!("{file}:{}", n + 1);
            if line.trim().is_empty() {
                in_rich = false;
                continue;
            }
            if !line.starts_with([' ', '\t']) {
                let (name, flags) = match line.split_once(" (") {
                    Some((n, f)) => (n.trim(), f.trim_end_matches(')')),
                    None => (line.trim(), ""),
                };
                blocks.push(Block {
                    name: name.to_string(),
                    flags: flags.to_string(),
                    at,
                    ..Block::default()
                });
                in_rich = false;
                continue;
            }
            let Some(b) = blocks.last_mut() else {
                return Err(CaptureError {
                    at: format!("{at}:1"),
                    message: "an indented line before any zone, policy or ipset".into(),
                });
            };
            let t = line.trim();
            if in_rich && t.starts_with("rule") {
                b.rich.push((t.to_string(), at));
                continue;
            }
            match t.split_once(':') {
                Some((k, v)) => {
                    in_rich = k == "rich rules";
                    b.fields.insert(k.to_string(), v.trim().to_string());
                }
                None => {
                    return Err(CaptureError {
                        at: format!("{at}:{}", line.len() - line.trim_start().len() + 1),
                        message: "expected `key: value` in a zone, policy or ipset".into(),
                    });
                }
            }
        }
    }
    // A name with no fields is `--get-default-zone`'s answer.
    for b in &blocks {
        if b.fields.is_empty() && b.rich.is_empty() && !b.name.contains(' ') {
            default_zone = Some(b.name.clone());
        }
        if b.flags.split(", ").any(|f| f == "default") {
            default_zone = Some(b.name.clone());
        }
    }
    let Some(default_zone) = default_zone else {
        return Err(CaptureError {
            at: files.first().map_or("", |f| f.0).to_string(),
            message: "no default zone: the capture needs `firewall-cmd --get-default-zone` first"
                .into(),
        });
    };
    let mut ipsets: HashMap<String, (Fam, AddrSet)> = HashMap::new();
    for b in blocks.iter().filter(|b| b.fields.contains_key("entries")) {
        let fam = if b
            .fields
            .get("options")
            .is_some_and(|o| o.contains("family=inet6"))
        {
            Fam::V6
        } else {
            Fam::V4
        };
        let mut nets = Vec::new();
        let mut fam = fam;
        for e in b.fields["entries"].split_whitespace() {
            let net = e
                .parse::<IpNet>()
                .or_else(|_| e.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| CaptureError {
                    at: b.at.clone(),
                    message: format!(
                        "ipset {}: {} is not an address",
                        escaped(&b.name),
                        escaped(e)
                    ),
                })?;
            fam = Fam::of(&net);
            nets.push(net.trunc());
        }
        ipsets.insert(b.name.clone(), (fam, AddrSet::from_nets(fam, &nets)));
    }
    let mut ruleset = Ruleset::default();
    let mut foreign = Vec::new();
    let mut notes = Vec::new();
    if default_zone != ZONE {
        notes.push(format!(
            "the default zone is {}, not {ZONE}: interfaces bound to no zone are filtered by it",
            escaped(&default_zone)
        ));
    }
    for b in &blocks {
        let is_zone = b.fields.contains_key("interfaces");
        let is_policy = b.fields.contains_key("ingress-zones");
        let active = b.flags.split(", ").any(|f| f == "active")
            || (is_zone
                && (!b.fields["interfaces"].is_empty()
                    || b.fields.get("sources").is_some_and(|s| !s.is_empty())));
        let hook = if is_zone && (active || b.name == default_zone) {
            Hook::Input
        } else if is_policy
            && b.fields["ingress-zones"]
                .split_whitespace()
                .any(|z| z == "HOST")
        {
            Hook::Output
        } else {
            continue;
        };
        let ours = (is_zone && b.name == ZONE) || (is_policy && b.name == POLICY);
        if !ours {
            foreign.push(Foreign {
                kind: if is_zone { "zone" } else { "policy" },
                name: escaped(&b.name),
                detail: escaped(&summary(b)),
            });
        }
        ruleset.chains.push(chain(b, hook, ours, &ipsets));
    }
    // Zones are alternatives (one per interface): a port any of them opens is open. Their union
    // is one chain that jumps to each and accepts what any accepts.
    let zones: Vec<Chain> = ruleset
        .chains
        .iter()
        .filter(|c| c.base.is_some_and(|b| b.0 == Hook::Input))
        .cloned()
        .collect();
    if zones.len() > 1 {
        ruleset
            .chains
            .retain(|c| !c.base.is_some_and(|b| b.0 == Hook::Input));
        let mut any = Chain {
            table: "firewalld".into(),
            name: "zones".into(),
            fams: Fam::BOTH.to_vec(),
            base: Some((Hook::Input, false)),
            rules: Vec::new(),
        };
        for z in zones {
            // Each zone as a sub-chain whose end returns (its target is part of it).
            let mut sub = z.clone();
            let accepts = sub.base.is_some_and(|b| b.1);
            sub.base = None;
            sub.rules.push(Rule {
                cond: Cond::default(),
                verdict: if accepts {
                    Verdict::Accept
                } else {
                    Verdict::Return
                },
                at: String::new(),
            });
            any.rules.push(Rule {
                cond: Cond::default(),
                verdict: Verdict::Jump(sub.name.clone()),
                at: String::new(),
            });
            ruleset.chains.push(sub);
        }
        // What one zone drops, the next may accept: jumps see all, so drops are only returns.
        for c in ruleset.chains.iter_mut().filter(|c| c.base.is_none()) {
            for r in &mut c.rules {
                if r.verdict == Verdict::Drop {
                    r.verdict = Verdict::Return;
                }
            }
        }
        ruleset.chains.push(any);
    }
    let mut model = LiveModel::from_ruleset("firewalld", &ruleset, Fam::BOTH.to_vec());
    foreign.sort();
    model.foreign = foreign;
    model.notes.extend(notes);
    Ok(model)
}

/// What a foreign zone or policy lets through, in a few words.
fn summary(b: &Block) -> String {
    let mut parts = Vec::new();
    for k in ["target", "interfaces", "sources", "services", "ports"] {
        if let Some(v) = b.fields.get(k).filter(|v| !v.is_empty()) {
            parts.push(format!("{k} {v}"));
        }
    }
    if !b.rich.is_empty() {
        parts.push(format!("{} rich rules", b.rich.len()));
    }
    parts.join(", ")
}

/// `53/tcp 60000-65000/udp`.
fn port_items(s: &str) -> Vec<(Protocol, PortRange)> {
    s.split_whitespace()
        .filter_map(|item| {
            let (p, proto) = item.split_once('/')?;
            let proto = match proto {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                _ => return None,
            };
            let (a, b) = p.split_once('-').unwrap_or((p, p));
            Some((proto, PortRange::new(a.parse().ok()?, b.parse().ok()?)?))
        })
        .collect()
}

fn accept_ports(proto: Protocol, range: PortRange, at: &str) -> Rule {
    let mut cond = Cond::default();
    cond.protocols(&[proto]);
    cond.dports(PortSet::from_ranges(vec![range]));
    Rule {
        cond,
        verdict: Verdict::Accept,
        at: at.to_string(),
    }
}

fn chain(b: &Block, hook: Hook, ours: bool, ipsets: &HashMap<String, (Fam, AddrSet)>) -> Chain {
    let mut first = Vec::new();
    let mut drops = Vec::new();
    let mut accepts = Vec::new();
    let mut last = Vec::new();
    for (text, at) in &b.rich {
        let (priority, rule) = rich(text, hook, ipsets, at);
        match priority {
            p if p < 0 => first.push((p, rule)),
            p if p > 0 => last.push((p, rule)),
            _ if rule.verdict == Verdict::Drop => drops.push(rule),
            _ => accepts.push(rule),
        }
    }
    first.sort_by_key(|r| r.0);
    last.sort_by_key(|r| r.0);
    for (proto, range) in port_items(b.fields.get("ports").map_or("", String::as_str)) {
        accepts.push(accept_ports(proto, range, &b.at));
    }
    for s in b
        .fields
        .get("services")
        .map_or("", String::as_str)
        .split_whitespace()
    {
        // The DHCPv6 replies our zone keeps accepting, as firewalld's public zone does.
        if ours && s == "dhcpv6-client" {
            continue;
        }
        let known: Vec<_> = SERVICES.iter().filter(|x| x.0 == s).collect();
        if known.is_empty() {
            let mut cond = Cond::default();
            cond.unknown.push(format!("service {s}"));
            cond.never = true;
            accepts.push(Rule {
                cond,
                verdict: Verdict::Accept,
                at: b.at.clone(),
            });
        }
        for x in known {
            if let Some(r) = PortRange::new(x.2, x.3) {
                accepts.push(accept_ports(x.1, r, &b.at));
            }
        }
    }
    let target = b.fields.get("target").map_or("default", String::as_str);
    let accepts_all = matches!(target, "ACCEPT" | "CONTINUE");
    let mut rules: Vec<Rule> = first.into_iter().map(|r| r.1).collect();
    rules.extend(drops);
    rules.extend(accepts);
    rules.extend(last.into_iter().map(|r| r.1));
    Chain {
        table: "firewalld".into(),
        name: b.name.clone(),
        fams: Fam::BOTH.to_vec(),
        base: Some((hook, accepts_all)),
        rules,
    }
}

/// `rule priority="-100" family="ipv4" source address="198.51.100.0/28" port port="22"
/// protocol="tcp" accept`: its priority and rule. What it does not understand is named.
fn rich(text: &str, hook: Hook, ipsets: &HashMap<String, (Fam, AddrSet)>, at: &str) -> (i32, Rule) {
    let mut cond = Cond::default();
    let mut verdict = Verdict::Continue;
    let mut priority = 0;
    let mut side: Option<bool> = None; // Some(true) source, Some(false) destination
    let mut negate = false;
    let mut element = "";
    let mut port: Option<PortSet> = None;
    for w in text.split_whitespace().skip(1) {
        let (k, v) = match w.split_once('=') {
            Some((k, v)) => (k, v.trim_matches('"')),
            None => (w, ""),
        };
        match (k, v) {
            ("priority", v) => priority = v.parse().unwrap_or(0),
            ("family", "ipv4") => cond.family(Fam::V4),
            ("family", "ipv6") => cond.family(Fam::V6),
            ("source", "") => side = Some(true),
            ("destination", "") => side = Some(false),
            ("not", "") => negate = true,
            ("address" | "ipset", v) if side.is_some() => {
                let set = if k == "ipset" {
                    ipsets.get(v).cloned()
                } else {
                    v.parse::<IpNet>()
                        .or_else(|_| v.parse::<std::net::IpAddr>().map(IpNet::from))
                        .ok()
                        .map(|n| {
                            let n = n.trunc();
                            (Fam::of(&n), AddrSet::from_nets(Fam::of(&n), &[n]))
                        })
                };
                let src = side == Some(true);
                let peer_side = src == (hook == Hook::Input);
                match set {
                    Some((fam, a)) if peer_side => {
                        let a = if negate { a.complement(fam) } else { a };
                        cond.addresses(src, (fam, a));
                    }
                    _ => cond.unknown.push(w.to_string()),
                }
                negate = false;
            }
            ("port", "") => element = "port",
            ("service", "") => element = "service",
            ("port", v) if element == "port" => match PortSet::from_ranges(
                v.split(',')
                    .filter_map(|p| {
                        let (a, b) = p.split_once('-').unwrap_or((p, p));
                        PortRange::new(a.parse().ok()?, b.parse().ok()?)
                    })
                    .collect(),
            ) {
                p if p.is_empty() => cond.unknown.push(w.to_string()),
                p => port = Some(p),
            },
            ("protocol", "tcp") if element == "port" => cond.protocols(&[Protocol::Tcp]),
            ("protocol", "udp") if element == "port" => cond.protocols(&[Protocol::Udp]),
            ("name", s) if element == "service" => {
                let known: Vec<_> = SERVICES.iter().filter(|x| x.0 == s).collect();
                match known.as_slice() {
                    [one] => {
                        cond.protocols(&[one.1]);
                        port = PortRange::new(one.2, one.3).map(|r| PortSet::from_ranges(vec![r]));
                    }
                    _ => cond.unknown.push(w.to_string()),
                }
            }
            ("accept", _) => verdict = Verdict::Accept,
            ("drop" | "reject", _) => verdict = Verdict::Drop,
            ("type", _) | ("log" | "audit" | "limit" | "prefix" | "level" | "value", _) => {}
            _ => cond.unknown.push(w.to_string()),
        }
    }
    if let Some(p) = port {
        cond.dports(p);
    }
    (
        priority,
        Rule {
            cond,
            verdict,
            at: at.to_string(),
        },
    )
}

//! ufw: `ufw status verbose` (whether ufw is active, the default policies) followed by
//! `ufw show added` (the user rules as the commands that add them, in order).
//!
//! The rules read are the user rules; ufw's own before and after rules (loopback, established,
//! ICMP, and DHCP, mDNS and SSDP replies, which the ufw export's comments name) are not compared.
//! Ours carry `comment 'fwtopo'` (see [`crate::export::ufw`]); every other user rule is named as
//! not ours.

use super::CaptureError;
use super::addrs::{AddrSet, Fam};
use super::model::{Foreign, LiveModel};
use super::ruleset::{Chain, Cond, Hook, Rule, Ruleset, Verdict};
use crate::ports::{PortRange, PortSet, Protocol};
use crate::user_text::escaped;
use ipnet::IpNet;

/// The comment every rule of the ufw export carries.
const OURS: &str = "comment 'fwtopo'";

/// Parses one or more captures (status and rules may come in two files).
pub fn parse(files: &[(&str, &str)]) -> Result<LiveModel, CaptureError> {
    let mut active = None;
    let mut defaults: Option<(bool, bool)> = None;
    let mut rules: Vec<(Hook, Rule, bool, String)> = Vec::new();
    let mut foreign = Vec::new();
    for (file, text) in files {
        for (n, line) in text.lines().enumerate() {
            let at = format!("{file}:{}", n + 1);
            let t = line.trim();
            if let Some(s) = t.strip_prefix("Status:") {
                active = Some(s.trim() == "active");
            } else if let Some(d) = t.strip_prefix("Default:") {
                // `deny (incoming), allow (outgoing), disabled (routed)`
                let policy = |what: &str| {
                    d.split(',')
                        .map(str::trim)
                        .find(|p| p.ends_with(&format!("({what})")))
                        .map(|p| p.starts_with("allow"))
                };
                match (policy("incoming"), policy("outgoing")) {
                    (Some(i), Some(o)) => defaults = Some((i, o)),
                    _ => {
                        return Err(CaptureError {
                            at: format!("{at}:1"),
                            message: "a Default: line without (incoming) and (outgoing)".into(),
                        });
                    }
                }
            } else if let Some(cmd) = t.strip_prefix("ufw ") {
                let ours = cmd.ends_with(OURS);
                match rule(cmd) {
                    Some((hook, cond, verdict)) => {
                        if !ours {
                            foreign.push(Foreign {
                                kind: "rule",
                                name: "ufw".into(),
                                detail: escaped(t),
                            });
                        }
                        rules.push((
                            hook,
                            Rule {
                                cond,
                                verdict,
                                at: at.clone(),
                            },
                            ours,
                            t.to_string(),
                        ));
                    }
                    None => foreign.push(Foreign {
                        kind: "rule",
                        name: "ufw".into(),
                        detail: escaped(&format!(
                            "{t} (not compared: forwarded or not understood)"
                        )),
                    }),
                }
            }
        }
    }
    let file = files.first().map_or("", |f| f.0);
    let Some((in_allows, out_allows)) = defaults else {
        return Err(CaptureError {
            at: file.to_string(),
            message:
                "no `Default:` line: the capture needs `ufw status verbose` before `ufw show added`"
                    .into(),
        });
    };
    let mut ruleset = Ruleset::default();
    let mut notes = Vec::new();
    if active == Some(true) {
        for (hook, policy) in [(Hook::Input, in_allows), (Hook::Output, out_allows)] {
            ruleset.chains.push(Chain {
                table: "ufw".into(),
                name: if hook == Hook::Input {
                    "incoming"
                } else {
                    "outgoing"
                }
                .into(),
                fams: Fam::BOTH.to_vec(),
                base: Some((hook, policy)),
                rules: rules
                    .iter()
                    .filter(|r| r.0 == hook)
                    .map(|r| r.1.clone())
                    .collect(),
            });
        }
    } else {
        notes.push("ufw is not active: nothing is filtered".to_string());
    }
    let mut model = LiveModel::from_ruleset("ufw", &ruleset, Fam::BOTH.to_vec());
    if !rules.iter().any(|r| r.2) {
        notes.push("no rule with comment 'fwtopo': fwtopo's rules are not loaded".into());
    }
    foreign.sort();
    model.foreign = foreign;
    model.notes.extend(notes);
    Ok(model)
}

/// Splits a ufw command into words, a `'...'` comment as one.
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = cmd.trim();
    while !rest.is_empty() {
        if let Some(q) = rest.strip_prefix('\'') {
            let end = q.find('\'').unwrap_or(q.len());
            out.push(q[..end].to_string());
            rest = q.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// `22`, `80,8352:8364`.
fn ports(s: &str) -> Option<PortSet> {
    let mut v = Vec::new();
    for p in s.split(',') {
        let (a, b) = p.split_once(':').unwrap_or((p, p));
        v.push(PortRange::new(a.parse().ok()?, b.parse().ok()?)?);
    }
    Some(PortSet::from_ranges(v))
}

/// An address of a rule: `any` is `None`.
fn address(s: &str) -> Option<Option<(Fam, AddrSet)>> {
    if s == "any" {
        return Some(None);
    }
    let net: IpNet = match s.parse() {
        Ok(n) => n,
        Err(_) => IpNet::from(s.parse::<std::net::IpAddr>().ok()?),
    };
    let net = net.trunc();
    let fam = Fam::of(&net);
    Some(Some((fam, AddrSet::from_nets(fam, &[net]))))
}

/// One `ufw show added` line (without `ufw `): its hook, condition and verdict; `None` for a
/// forwarded (`route`) rule, which neither hook sees.
fn rule(cmd: &str) -> Option<(Hook, Cond, Verdict)> {
    let w = words(cmd);
    let mut i = 0;
    let word = |i: usize| w.get(i).map(String::as_str);
    if word(0) == Some("route") {
        return None;
    }
    let verdict = match word(i)? {
        "allow" | "limit" => Verdict::Accept,
        "deny" | "reject" => Verdict::Drop,
        _ => return None,
    };
    i += 1;
    let mut hook = Hook::Input;
    match word(i) {
        Some("in") => i += 1,
        Some("out") => {
            hook = Hook::Output;
            i += 1;
        }
        _ => {}
    }
    let mut cond = Cond::default();
    let peer_is_from = hook == Hook::Input;
    let mut side: Option<&str> = None;
    while let Some(x) = word(i) {
        let arg = word(i + 1);
        match (x, arg) {
            ("on", Some(iface)) => cond.unknown.push(format!("on {iface}")),
            ("log" | "log-all", _) => {
                i += 1;
                continue;
            }
            ("comment", _) => break,
            ("proto", Some(p)) => match p {
                "tcp" => cond.protocols(&[Protocol::Tcp]),
                "udp" => cond.protocols(&[Protocol::Udp]),
                "any" => {}
                _ => cond.never = true,
            },
            (s @ ("from" | "to"), Some(a)) => {
                side = Some(s);
                let a = address(a)?;
                let is_peer = (s == "from") == peer_is_from;
                match (a, is_peer) {
                    (Some(m), true) => cond.addresses(s == "from", m),
                    (Some((fam, _)), false) => {
                        cond.family(fam);
                        cond.unknown.push(format!("{s} {}", arg.unwrap_or("")));
                    }
                    (None, _) => {}
                }
            }
            ("port", Some(p)) => {
                let set = ports(p)?;
                if side == Some("to") {
                    cond.dports(set);
                } else {
                    cond.unknown.push(format!("from port {p}"));
                }
            }
            ("app", Some(a)) => {
                cond.unknown.push(format!("app {a}"));
                cond.never = true;
            }
            (simple, _) if side.is_none() => {
                // `22/tcp`, `80,443/tcp`, `22` (both protocols), or an application profile.
                let (p, proto) = simple.split_once('/').unwrap_or((simple, "any"));
                match ports(p) {
                    Some(set) => cond.dports(set),
                    None => {
                        cond.unknown.push(format!("app {simple}"));
                        cond.never = true;
                    }
                }
                match proto {
                    "tcp" => cond.protocols(&[Protocol::Tcp]),
                    "udp" => cond.protocols(&[Protocol::Udp]),
                    _ => {}
                }
                i += 1;
                continue;
            }
            _ => cond.unknown.push(x.to_string()),
        }
        i += 2;
    }
    Some((hook, cond, verdict))
}

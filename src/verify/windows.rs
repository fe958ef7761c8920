//! A Windows Firewall capture: `Get-NetFirewallRule` with each rule's address and port filters,
//! and the profiles' default actions, as JSON (the command is [`CAPTURE_COMMAND`]).
//!
//! Windows Firewall has no rule order: a block rule wins over every allow rule, and what no rule
//! matches gets the profile's default action. That is a chain of the block rules, then the allow
//! rules, then the default, so the one evaluator reads it. The profile in force is not in the
//! capture: a default counts as allowing when any enabled profile allows, and a disabled profile
//! allows everything. Ours are the rules in group `fwtopo-<node>` or named `fwtopo-<node>-mgmt`,
//! `-in` or `-out` (see [`crate::export::powershell`]); every other enabled allow or block rule is
//! named as not ours.

use super::CaptureError;
use super::addrs::{AddrSet, Fam, interval};
use super::model::{Foreign, LiveModel};
use super::ruleset::{Chain, Cond, Hook, Rule, Ruleset, Verdict};
use crate::ports::{PortRange, PortSet, Protocol};
use crate::user_text::escaped;
use ipnet::IpNet;
use serde_json::{Map, Value};
use std::net::IpAddr;

/// The PowerShell that writes the capture (elevated, on the node).
pub const CAPTURE_COMMAND: &str = "$r = Get-NetFirewallRule -Enabled True | ForEach-Object { $a = $_ | Get-NetFirewallAddressFilter; $p = $_ | Get-NetFirewallPortFilter; [pscustomobject]@{ Name = $_.Name; DisplayName = $_.DisplayName; Group = $_.Group; Direction = [string]$_.Direction; Action = [string]$_.Action; Protocol = [string]$p.Protocol; LocalPort = @($p.LocalPort); RemotePort = @($p.RemotePort); RemoteAddress = @($a.RemoteAddress) } }; [pscustomobject]@{ Profiles = @(Get-NetFirewallProfile | ForEach-Object { [pscustomobject]@{ Name = [string]$_.Name; Enabled = [string]$_.Enabled; DefaultInboundAction = [string]$_.DefaultInboundAction; DefaultOutboundAction = [string]$_.DefaultOutboundAction } }); Rules = @($r) } | ConvertTo-Json -Depth 4 | Set-Content -Encoding UTF8 N.windows.json";

/// A field, whatever its case (PowerShell's JSON keeps the property names as written).
fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A field as text: strings as they are, numbers (enums ConvertTo-Json wrote as numbers) as digits.
fn text(o: &Map<String, Value>, name: &str) -> String {
    match field(o, name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// A field holding one value or a list, as strings.
fn list(o: &Map<String, Value>, name: &str) -> Vec<String> {
    match field(o, name) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// Parses a capture for `node` (our rules are named after it); `file` names it in errors.
pub fn parse(file: &str, text_in: &str, node: &str) -> Result<LiveModel, CaptureError> {
    let body = text_in.trim_start_matches('\u{feff}');
    let doc: Value = serde_json::from_str(body).map_err(|e| CaptureError {
        at: format!("{file}:{}:{}", e.line(), e.column()),
        message: format!("not a Windows capture (JSON): {e}"),
    })?;
    let (profiles, rules): (Option<&Vec<Value>>, &Vec<Value>) = match &doc {
        Value::Array(a) => (None, a),
        Value::Object(o) => {
            let rules = match field(o, "Rules") {
                Some(Value::Array(a)) => a,
                Some(Value::Null) | None => {
                    return Err(CaptureError {
                        at: file.to_string(),
                        message: "no \"Rules\" list: not the capture `fwtopo verify --help` prints"
                            .into(),
                    });
                }
                Some(_) => {
                    return Err(CaptureError {
                        at: format!("{file}: Rules"),
                        message: "not a list".into(),
                    });
                }
            };
            (field(o, "Profiles").and_then(Value::as_array), rules)
        }
        _ => {
            return Err(CaptureError {
                at: file.to_string(),
                message: "neither an object nor a list of rules".into(),
            });
        }
    };
    let mut notes = Vec::new();
    // Defaults: Windows blocks inbound and allows outbound unless configured.
    let (mut in_allows, mut out_allows) = (false, false);
    match profiles {
        Some(list) => {
            for (i, p) in list.iter().enumerate() {
                let Some(p) = p.as_object() else {
                    return Err(CaptureError {
                        at: format!("{file}: Profiles[{i}]"),
                        message: "not an object".into(),
                    });
                };
                let enabled = !matches!(text(p, "Enabled").as_str(), "False" | "false" | "0");
                let inbound = text(p, "DefaultInboundAction");
                let outbound = text(p, "DefaultOutboundAction");
                // NetSecurity.Action: NotConfigured 0, Allow 2, Block 4.
                in_allows |= !enabled || matches!(inbound.as_str(), "Allow" | "2");
                out_allows |= !enabled || !matches!(outbound.as_str(), "Block" | "4");
            }
        }
        None => {
            out_allows = true;
            notes.push("no profiles in the capture: taken as Windows' defaults (inbound blocked, outbound allowed)".to_string());
        }
    }
    let group = format!("fwtopo-{node}");
    let names: Vec<String> = ["mgmt", "in", "out"]
        .iter()
        .map(|k| format!("fwtopo-{node}-{k}"))
        .collect();
    let mut chains = [
        (Hook::Input, in_allows, Vec::new(), Vec::new()),
        (Hook::Output, out_allows, Vec::new(), Vec::new()),
    ];
    let mut foreign = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let at = format!("{file}: Rules[{i}]");
        let Some(r) = r.as_object() else {
            return Err(CaptureError {
                at,
                message: "not an object".into(),
            });
        };
        // A capture taken without `-Enabled True` holds disabled rules too: they let nothing through.
        if matches!(text(r, "Enabled").as_str(), "False" | "false" | "2") {
            continue;
        }
        let direction = text(r, "Direction");
        let hook = match direction.as_str() {
            "Inbound" | "1" => Hook::Input,
            "Outbound" | "2" => Hook::Output,
            other => {
                return Err(CaptureError {
                    at: format!("{at}.Direction"),
                    message: format!("{} is neither Inbound nor Outbound", escaped(other)),
                });
            }
        };
        let action = text(r, "Action");
        let verdict = match action.as_str() {
            "Allow" | "2" => Verdict::Accept,
            "Block" | "4" => Verdict::Drop,
            other => {
                return Err(CaptureError {
                    at: format!("{at}.Action"),
                    message: format!("{} is neither Allow nor Block", escaped(other)),
                });
            }
        };
        let cond = condition(r, hook);
        let display = text(r, "DisplayName");
        let ours = text(r, "Group") == group || names.contains(&display);
        if !ours {
            let name = if display.is_empty() {
                text(r, "Name")
            } else {
                display
            };
            foreign.push(Foreign {
                kind: "rule",
                name: escaped(&name),
                detail: escaped(&format!(
                    "{} {} {}",
                    if hook == Hook::Input {
                        "Inbound"
                    } else {
                        "Outbound"
                    },
                    if verdict == Verdict::Accept {
                        "Allow"
                    } else {
                        "Block"
                    },
                    cond.describe()
                )),
            });
        }
        let slot = if hook == Hook::Input { 0 } else { 1 };
        let rule = Rule { cond, verdict, at };
        if matches!(rule.verdict, Verdict::Drop) {
            chains[slot].2.push(rule);
        } else {
            chains[slot].3.push(rule);
        }
    }
    let mut ruleset = Ruleset::default();
    for (hook, allows, blocks, accepts) in chains {
        let mut rules = blocks;
        rules.extend(accepts);
        ruleset.chains.push(Chain {
            table: "windows".into(),
            name: if hook == Hook::Input {
                "inbound"
            } else {
                "outbound"
            }
            .into(),
            fams: Fam::BOTH.to_vec(),
            base: Some((hook, allows)),
            rules,
        });
    }
    let mut model = LiveModel::from_ruleset("windows", &ruleset, Fam::BOTH.to_vec());
    if in_allows {
        notes.push("a profile allows inbound by default (or is off)".into());
    }
    foreign.sort();
    model.foreign = foreign;
    model.notes.extend(notes);
    Ok(model)
}

/// A rule's protocol, ports (local inbound, remote outbound) and remote addresses.
fn condition(r: &Map<String, Value>, hook: Hook) -> Cond {
    let mut cond = Cond::default();
    let proto = text(r, "Protocol");
    match proto.to_ascii_uppercase().as_str() {
        "TCP" | "6" => cond.protocols(&[Protocol::Tcp]),
        "UDP" | "17" => cond.protocols(&[Protocol::Udp]),
        "ANY" | "" => {}
        _ => cond.never = true, // ICMP and the rest: not compared
    }
    let ports_field = if hook == Hook::Input {
        "LocalPort"
    } else {
        "RemotePort"
    };
    let port_words = list(r, ports_field);
    if !port_words.iter().any(|p| p.eq_ignore_ascii_case("Any")) && !port_words.is_empty() {
        let mut ranges = Vec::new();
        for w in &port_words {
            let (a, b) = w.split_once('-').unwrap_or((w, w));
            match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
                (Ok(a), Ok(b)) => ranges.extend(PortRange::new(a.max(1), b)),
                // RPC, IPHTTPS, Teredo...: ports Windows chooses.
                _ => cond.unknown.push(format!("{ports_field} {w}")),
            }
        }
        if ranges.is_empty() {
            cond.never = true;
        } else {
            cond.dports(PortSet::from_ranges(ranges));
        }
    }
    let addrs = list(r, "RemoteAddress");
    if !addrs.iter().any(|a| a.eq_ignore_ascii_case("Any")) && !addrs.is_empty() {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for a in &addrs {
            match remote(a) {
                Some((Fam::V4, iv)) => v4.push(iv),
                Some((Fam::V6, iv)) => v6.push(iv),
                None => cond.unknown.push(format!("RemoteAddress {a}")),
            }
        }
        // A rule with addresses of both families matches each family's own.
        match (v4.is_empty(), v6.is_empty()) {
            (false, true) => {
                cond.addresses(hook == Hook::Input, (Fam::V4, AddrSet::from_intervals(v4)))
            }
            (true, false) => {
                cond.addresses(hook == Hook::Input, (Fam::V6, AddrSet::from_intervals(v6)))
            }
            (false, false) => cond.unknown.push("RemoteAddress of both families".into()),
            (true, true) => {} // only keywords: LocalSubnet, Internet, ... taken as any
        }
    }
    cond
}

/// `198.51.100.0/255.255.255.240`, `198.51.100.0/28`, `203.0.113.1-203.0.113.9`, `2001:db8::1`.
fn remote(s: &str) -> Option<(Fam, (u128, u128))> {
    if let Some((a, b)) = s.split_once('-') {
        let (a, b): (IpAddr, IpAddr) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        let (na, nb) = (IpNet::from(a), IpNet::from(b));
        let fam = Fam::of(&na);
        return (fam == Fam::of(&nb)).then(|| (fam, (interval(&na).0, interval(&nb).0)));
    }
    let net = if let Some((addr, mask)) = s.split_once('/')
        && mask.contains('.')
    {
        let addr: IpAddr = addr.parse().ok()?;
        let mask: std::net::Ipv4Addr = mask.parse().ok()?;
        let len = u32::from(mask).leading_ones();
        (u32::from(mask).count_ones() == len).then_some(())?;
        IpNet::new(addr, len as u8).ok()?
    } else if let Ok(n) = s.parse::<IpNet>() {
        n
    } else {
        IpNet::from(s.parse::<IpAddr>().ok()?)
    };
    let net = net.trunc();
    Some((Fam::of(&net), interval(&net)))
}

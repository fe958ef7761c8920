//! The plan both Windows exports print (netsh for cmd.exe, PowerShell NetSecurity): which rules a
//! node gets, under which names, split into which chunks, in which order.
//!
//! Every rule of a node shares one of three fixed names, one per kind: `fwtopo-<node>-mgmt`, `-in`
//! and `-out` (rule names need not be unique). Addresses and ports are split into several rules so
//! no line passes cmd.exe's 8,191-character limit (Aerleon's netsh output does at about 590 peers).
//! Planning once here means both scripts create the same rules under the same names.

use super::{Egress, Export, text, windows_builtin};
use crate::catalog::Tag;
use crate::engine::{Direction, Rule};
use crate::net::Peers;
use crate::ports::{PortRange, Protocol};
use std::borrow::Cow;
use std::rc::Rc;
use std::sync::LazyLock;

/// cmd.exe's documented command-line limit; every emitted line stays below it.
pub const MAX_LINE: usize = 8191;
/// Most remote-address entries one rule takes (community-observed limit of Windows Firewall).
const MAX_ADDRS: usize = 1000;
/// Characters the address list of one rule may take (quotes and commas of the PowerShell form
/// included), leaving room for the name, ports and description under [`MAX_LINE`].
const ADDR_BUDGET: usize = 6000;
/// Port ranges per rule, so a port list stays a short part of the line.
const MAX_PORT_ITEMS: usize = 100;
/// Where both Windows exports keep the policy as it was before their first run: this file in the
/// folder [`BACKUP_DIR`] of `%ProgramData%`.
pub(super) const BACKUP_FILE: &str = "fwtopo-backup.wfw";
pub(super) const BACKUP_DIR: &str = "fwtopo";
/// What undoes the PA WinRM preparation in a rollback: Basic authentication and unencrypted
/// traffic off again, Windows' defaults (run as `cmd /c`: winrm is itself a script).
pub(super) const WINRM_UNDO: [&str; 2] = [
    r#"winrm set winrm/config/service @{AllowUnencrypted="false"}"#,
    r#"winrm set winrm/config/service/Auth @{Basic="false"}"#,
];

/// ICMP types let in (and, with `--egress strict`, out): IPv4 unreachable (path MTU), echo, time
/// exceeded; IPv6 errors, echo, multicast listener discovery and neighbour/router discovery, without
/// which IPv6 stops working on the link.
pub(super) const ICMPV4_TYPES: [u8; 3] = [3, 8, 11];
pub(super) const ICMPV6_TYPES: [u8; 13] = [1, 2, 3, 4, 128, 130, 131, 132, 133, 134, 135, 136, 143];

/// Where a planned Windows rule comes from, for its name and its place in the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Management access from the admin zone: always first.
    Management,
    Inbound,
    Outbound,
}

impl Kind {
    /// Every kind, in script order. Each names its rules, and each name is deleted on every run
    /// even when no rule of the kind is added, so never drop one from this list.
    pub(super) const ALL: [Kind; 3] = [Kind::Management, Kind::Inbound, Kind::Outbound];

    /// The name every rule of this kind of a node shares: `fwtopo-<node>-mgmt`, `-in` or `-out`.
    /// Node names are safe names, so this is ASCII without quotes, spaces or wildcards.
    pub(super) fn rule_name(self, node: &str) -> String {
        let kind = match self {
            Kind::Management => "mgmt",
            Kind::Inbound => "in",
            Kind::Outbound => "out",
        };
        format!("fwtopo-{node}-{kind}")
    }
}

/// The protocol field of a Windows rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WinProto {
    Tcp,
    Udp,
    Icmpv4(u8),
    Icmpv6(u8),
}

impl WinProto {
    fn from_protocol(p: Protocol) -> Self {
        match p {
            Protocol::Tcp => WinProto::Tcp,
            Protocol::Udp => WinProto::Udp,
        }
    }
}

/// The remote side of one planned Windows rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Remote {
    Any,
    /// Addresses of one family, already formatted (`203.0.113.2`, `198.51.100.0/24`).
    List(Vec<String>),
    /// One host name, which only an apply-time lookup can turn into addresses.
    Dns(String),
}

/// One Windows firewall rule as both exports write it.
#[derive(Debug, Clone)]
pub(super) struct WinRule {
    /// The kind's shared name, [`Kind::rule_name`] (made once per kind: a node has many rules).
    pub name: Rc<str>,
    pub kind: Kind,
    pub direction: Direction,
    pub protocol: WinProto,
    /// Local (inbound) or remote (outbound) ports; empty for ICMP.
    pub ports: Vec<PortRange>,
    pub remote: Remote,
    /// ASCII text without quotes or cmd.exe metacharacters.
    pub description: Cow<'static, str>,
}

/// A derived rule the Windows exports do not add, and why (host-name peers in netsh; outbound rules
/// under `--egress open`).
#[derive(Debug, Clone)]
pub(super) struct Listed {
    /// [`rule_summary`] of the rule.
    pub summary: String,
    pub comment: String,
}

/// Everything one Windows export writes for a node, in order.
#[derive(Debug, Clone)]
pub(super) struct WinPlan {
    /// Management rules, then ICMP, then the other inbound rules, then (strict egress) outbound.
    pub rules: Vec<WinRule>,
    /// Outbound rules under `--egress open`: listed as comments.
    pub outbound_listed: Vec<Listed>,
    /// Whether the node needs the PA WinRM preparation (a rule carries the WinRM Basic/HTTP tag).
    pub winrm_basic_http: bool,
    /// The addresses that may reach WinRM over HTTP (the Management Node's), for the warning.
    pub winrm_peers: Vec<String>,
    /// The built-in rules to disable (see [`super::windows_builtin`]); `None` keeps them all.
    pub disable: Option<Vec<windows_builtin::BuiltIn>>,
}

/// An address as Windows Firewall writes it: host networks without their `/32` or `/128`.
pub(super) fn addr_v4(n: &ipnet::Ipv4Net) -> String {
    if n.prefix_len() == 32 {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

pub(super) fn addr_v6(n: &ipnet::Ipv6Net) -> String {
    if n.prefix_len() == 128 {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

/// Windows Firewall refuses the unspecified address as a remote address, even as the first
/// address of a network (`0.0.0.0/0` from a zone meaning every address): such a network is
/// written as the networks covering the rest of it. No packet comes from 0.0.0.0.
/// Multicast addresses (mDNS's 224.0.0.251) are refused as well, and no rule can name them: they
/// are left out, which only narrows the rule, and the header says so ([`multicast_peers`]).
fn windows_v4(v: &[ipnet::Ipv4Net]) -> Cow<'_, [ipnet::Ipv4Net]> {
    if !v
        .iter()
        .any(|n| n.network().is_unspecified() || n.network().is_multicast())
    {
        return Cow::Borrowed(v);
    }
    let mut rest: Vec<ipnet::Ipv4Net> = v
        .iter()
        .filter(|n| !n.network().is_multicast())
        .copied()
        .collect();
    crate::net::exclude_v4(&mut rest, std::net::Ipv4Addr::UNSPECIFIED);
    Cow::Owned(rest)
}

/// [`windows_v4`] for IPv6, where `::/0` also holds the loopback address `::1` that Windows
/// refuses as well: both go.
fn windows_v6(v: &[ipnet::Ipv6Net]) -> Cow<'_, [ipnet::Ipv6Net]> {
    if !v
        .iter()
        .any(|n| n.network().is_unspecified() || n.network().is_multicast())
    {
        return Cow::Borrowed(v);
    }
    let mut rest: Vec<ipnet::Ipv6Net> = v
        .iter()
        .filter(|n| !n.network().is_multicast())
        .copied()
        .collect();
    if rest.iter().any(|n| n.network().is_unspecified()) {
        crate::net::exclude_v6(&mut rest, std::net::Ipv6Addr::UNSPECIFIED);
        crate::net::exclude_v6(&mut rest, std::net::Ipv6Addr::LOCALHOST);
    }
    Cow::Owned(rest)
}

/// The multicast peers of a node's rules, which Windows Firewall cannot name (see
/// [`windows_v4`]).
fn multicast_peers(x: &Export) -> Vec<String> {
    let mut out: Vec<String> = x
        .inbound()
        .iter()
        .chain(x.outbound().iter())
        .flat_map(|r| match &r.peers {
            Peers::V4(v) => v
                .iter()
                .filter(|n| n.network().is_multicast())
                .map(|n| format!("{} {} to/from {n}", r.protocol.as_str(), r.ports))
                .collect(),
            Peers::V6(v) => v
                .iter()
                .filter(|n| n.network().is_multicast())
                .map(|n| format!("{} {} to/from {n}", r.protocol.as_str(), r.ports))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Splits an address list into chunks that respect [`MAX_ADDRS`] and [`ADDR_BUDGET`].
fn chunk_addrs(addrs: Vec<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut used = 0;
    for a in addrs {
        // `'a',` in PowerShell is the longest form: the address, two quotes and a comma.
        let w = a.len() + 3;
        if !cur.is_empty() && (used + w > ADDR_BUDGET || cur.len() >= MAX_ADDRS) {
            out.push(std::mem::take(&mut cur));
            used = 0;
        }
        used += w;
        cur.push(a);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The remote sides a rule's peers become: one (`any`, one family, or one per host name) or
/// several address chunks.
fn remotes(peers: &Peers) -> Vec<Remote> {
    match peers {
        Peers::Any => vec![Remote::Any],
        Peers::V4(v) => chunk_addrs(windows_v4(v).iter().map(addr_v4).collect())
            .into_iter()
            .map(Remote::List)
            .collect(),
        Peers::V6(v) => chunk_addrs(windows_v6(v).iter().map(addr_v6).collect())
            .into_iter()
            .map(Remote::List)
            .collect(),
        Peers::Dns(v) => v.iter().map(|n| Remote::Dns(n.clone())).collect(),
    }
}

/// Plans one node's Windows rules: names, chunks, order. Both Windows exports print this plan.
pub(super) fn plan(x: &Export) -> WinPlan {
    let node = &x.node().name;
    let strict = x.options.egress == Egress::Strict;
    let names = Kind::ALL.map(|k| (k, Rc::<str>::from(k.rule_name(node))));
    let name = |kind: Kind| {
        let (_, n) = names.iter().find(|(k, _)| *k == kind).unwrap_or(&names[0]);
        Rc::clone(n)
    };
    let mut rules = Vec::new();
    let add = |rules: &mut Vec<WinRule>, kind: Kind, r: &Rule, description: String| {
        let remotes = remotes(&r.peers);
        let port_chunks = text::chunk_ports(&r.ports, MAX_PORT_ITEMS, 1);
        let total = port_chunks.len() * remotes.len();
        let mut k = 0;
        for ports in &port_chunks {
            for remote in &remotes {
                k += 1;
                // The parts of a split rule share its name; the description tells them apart.
                let description = if total > 1 {
                    format!("{description} (part {k} of {total})")
                } else {
                    description.clone()
                };
                rules.push(WinRule {
                    name: name(kind),
                    kind,
                    direction: r.direction,
                    protocol: WinProto::from_protocol(r.protocol),
                    ports: ports.ranges().to_vec(),
                    remote: remote.clone(),
                    description: description.into(),
                });
            }
        }
    };

    let (mgmt, other): (Vec<&Rule>, Vec<&Rule>) =
        x.inbound().iter().partition(|r| r.is_management());
    for r in &mgmt {
        add(
            &mut rules,
            Kind::Management,
            r,
            text::cmd_text(&x.rule_comment(r)),
        );
    }
    icmp_rules(name(Kind::Inbound), Direction::Inbound, &mut rules);
    for r in &other {
        add(
            &mut rules,
            Kind::Inbound,
            r,
            text::cmd_text(&x.rule_comment(r)),
        );
    }
    let mut outbound_listed = Vec::new();
    if strict {
        icmp_rules(name(Kind::Outbound), Direction::Outbound, &mut rules);
        for r in x.outbound() {
            add(
                &mut rules,
                Kind::Outbound,
                r,
                text::cmd_text(&x.rule_comment(r)),
            );
        }
    } else {
        outbound_listed = x
            .outbound()
            .iter()
            .map(|r| Listed {
                summary: x.rule_text(r, super::Text::WindowsSummary, || rule_summary(r)),
                comment: x.rule_comment(r),
            })
            .collect();
    }

    let winrm: Vec<&Rule> = x
        .inbound()
        .iter()
        .filter(|r| r.has_tag(Tag::WinrmBasicHttp))
        .collect();
    let mut winrm_peers: Vec<String> = winrm.iter().flat_map(|r| r.peers.to_strings()).collect();
    winrm_peers.sort();
    winrm_peers.dedup();
    WinPlan {
        rules,
        outbound_listed,
        winrm_basic_http: !winrm.is_empty(),
        winrm_peers,
        disable: windows_builtin::to_disable(x),
    }
}

/// The ICMP rules' descriptions, written once: every node has them.
static ICMP_DESCRIPTIONS: LazyLock<Vec<(WinProto, String)>> = LazyLock::new(|| {
    let v4 = ICMPV4_TYPES.map(|t| {
        (
            WinProto::Icmpv4(t),
            format!("fwtopo: ICMPv4 type {t} ({})", icmpv4_name(t)),
        )
    });
    let v6 = ICMPV6_TYPES.map(|t| {
        (
            WinProto::Icmpv6(t),
            format!("fwtopo: ICMPv6 type {t} ({})", icmpv6_name(t)),
        )
    });
    v4.into_iter().chain(v6).collect()
});

/// ICMP rules that keep IPv4 path MTU discovery and IPv6 neighbour discovery working.
fn icmp_rules(name: Rc<str>, direction: Direction, rules: &mut Vec<WinRule>) {
    let kind = match direction {
        Direction::Inbound => Kind::Inbound,
        Direction::Outbound => Kind::Outbound,
    };
    for (protocol, description) in ICMP_DESCRIPTIONS.iter() {
        rules.push(WinRule {
            name: Rc::clone(&name),
            kind,
            direction,
            protocol: *protocol,
            ports: Vec::new(),
            remote: Remote::Any,
            description: Cow::Borrowed(description.as_str()),
        });
    }
}

fn icmpv4_name(t: u8) -> &'static str {
    match t {
        3 => "destination unreachable, path MTU discovery",
        8 => "echo request",
        11 => "time exceeded",
        _ => "other",
    }
}

fn icmpv6_name(t: u8) -> &'static str {
    match t {
        1 => "destination unreachable",
        2 => "packet too big, path MTU discovery",
        3 => "time exceeded",
        4 => "parameter problem",
        128 => "echo request",
        130 => "multicast listener query",
        131 => "multicast listener report",
        132 => "multicast listener done",
        133 => "router solicitation",
        134 => "router advertisement",
        135 => "neighbor solicitation",
        136 => "neighbor advertisement",
        143 => "multicast listener report v2",
        _ => "other",
    }
}

/// A short, one-line description of a derived rule for a comment: direction, protocol, ports and
/// peers (at most a few addresses, so a comment never grows with the peer count).
pub(super) fn rule_summary(r: &Rule) -> String {
    // Only the addresses shown are formatted: a management node has thousands of peers.
    let peers = r.peers.first_strings(6);
    let shown = match r.peers.len() {
        n if n > 6 => format!("{} and {} more", peers.join(" "), n - 6),
        _ => peers.join(" "),
    };
    let (dir, way) = match r.direction {
        Direction::Inbound => ("in", "from"),
        Direction::Outbound => ("out", "to"),
    };
    let ports = text::ports(&r.ports, "-", ",");
    text::comment_text(&format!(
        "{dir} {} {} {way} {shown}",
        r.protocol.as_str(),
        short_ports(&ports)
    ))
}

/// A port list for a comment, cut so a comment line stays short.
pub(super) fn short_ports(ports: &str) -> String {
    if ports.len() <= 120 {
        ports.to_string()
    } else {
        format!("{}...", &ports[..117])
    }
}

/// The lines the netsh and PowerShell headers share about what the script cannot do.
pub(super) fn windows_notes(x: &Export, comment: &str) -> Vec<String> {
    let mut v = vec![
        "Windows Firewall never filters loopback, and replies to allowed connections pass statefully.".to_string(),
        "Rules that were already enabled (another tool's, or built-in ones such as File and Printer".to_string(),
        "Sharing) still apply next to these: the script lists them at the end, review them.".to_string(),
    ];
    if !x.inbound().iter().any(|r| r.is_management()) {
        v.push("WARNING: this node has no management rule (RDP/WinRM from the admin zone); with the inbound".into());
        v.push("default block, only consoles and already open sessions reach it.".into());
    }
    for m in multicast_peers(x) {
        v.push(text::comment_text(&format!(
            "not written (Windows Firewall cannot name a multicast address): {m}"
        )));
    }
    for lp in &x.node_plan.local_only {
        let label = lp.provenance.label(x.catalog);
        v.push(text::comment_text(&format!(
            "not opened (loopback only, bind the service to 127.0.0.1): {} {} [{label}]",
            lp.protocol.as_str(),
            text::ports(&lp.ports, "-", ",")
        )));
    }
    v.into_iter()
        .map(|l| format!("{comment}{l}").trim_end().to_string())
        .collect()
}

/// The longest rule the plan can make, for the exports' line-limit tests: the longest node name,
/// a full port chunk of the widest ranges, an address chunk of the longest IPv6 networks, the
/// longest description and part number; with `dns`, the longest host name instead of addresses.
#[cfg(test)]
pub(super) fn longest_rule(dns: bool) -> WinRule {
    let node = "n".repeat(63);
    let ports = (0..MAX_PORT_ITEMS as u16)
        .filter_map(|i| PortRange::new(60000 + 3 * i, 60001 + 3 * i))
        .collect();
    let remote = if dns {
        Remote::Dns(format!("{}.example", "h".repeat(245)))
    } else {
        let longest = (0..4000u32)
            .map(|i| format!("2001:db8:ffff:ffff:ffff:ffff:{:x}:fffe/127", 0xa000 + i))
            .collect();
        Remote::List(chunk_addrs(longest).remove(0))
    };
    WinRule {
        name: Kind::Management.rule_name(&node).into(),
        kind: Kind::Management,
        direction: Direction::Inbound,
        protocol: WinProto::Tcp,
        ports,
        remote,
        description: format!("{} (part 99999 of 99999)", "d".repeat(200)).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_budget_and_count() {
        let addrs: Vec<String> = (0..3000)
            .map(|i| format!("198.51.{}.{}", i / 256, i % 256))
            .collect();
        let chunks = chunk_addrs(addrs.clone());
        assert!(chunks.len() > 1);
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 3000);
        for c in &chunks {
            assert!(c.len() <= MAX_ADDRS);
            assert!(c.iter().map(|a| a.len() + 3).sum::<usize>() <= ADDR_BUDGET);
        }
        assert_eq!(chunks.concat(), addrs);
    }

    #[test]
    fn host_networks_lose_their_prefix() {
        assert_eq!(addr_v4(&"203.0.113.2/32".parse().unwrap()), "203.0.113.2");
        assert_eq!(
            addr_v4(&"198.51.100.0/24".parse().unwrap()),
            "198.51.100.0/24"
        );
        assert_eq!(addr_v6(&"2001:db8::1/128".parse().unwrap()), "2001:db8::1");
    }
}

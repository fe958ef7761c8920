//! nftables export: one file for `nft -f` that replaces our own `table inet fwtopo` atomically.
//!
//! The file creates the table if missing, deletes it and defines it again, all in one transaction, so
//! loading it twice gives the same ruleset and nothing outside our table is touched. Peers live in
//! named interval sets, one address family each (an IPv6 list can never be read as IPv4 or `any`).
//! Host-name peers get empty sets that a documented command fills at apply time: nft resolves names
//! only once, while loading, so this file never names a host and never widens one to `any`.

use super::{AddressIndex, Egress, Export, file_name, header, text};
use crate::catalog::Tag;
use crate::engine::{Direction, Rule};
use crate::net::Peers;
use crate::ports::{PortSet, Protocol};
use crate::target::Target;
use ipnet::IpNet;

/// Our table (family `inet`): the only thing in the ruleset this export creates or deletes.
pub const TABLE: &str = "fwtopo";

/// Seconds the safe-apply snippet waits for a confirmation before it restores the previous table.
pub const CONFIRM_SECONDS: u32 = 60;

/// An address family, for sets and address matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    V4,
    V6,
}

impl Family {
    fn nft_type(self) -> &'static str {
        match self {
            Family::V4 => "ipv4_addr",
            Family::V6 => "ipv6_addr",
        }
    }

    /// The nft payload keyword (`ip saddr`, `ip6 saddr`).
    fn nft_proto(self) -> &'static str {
        match self {
            Family::V4 => "ip",
            Family::V6 => "ip6",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Family::V4 => "v4",
            Family::V6 => "v6",
        }
    }

    /// `4` or `6`, as in `ahostsv4` and the shell helpers.
    pub(super) fn digit(self) -> &'static str {
        match self {
            Family::V4 => "4",
            Family::V6 => "6",
        }
    }

    /// `getent` database resolving a name in this family only.
    pub(super) fn getent_db(self) -> &'static str {
        match self {
            Family::V4 => "ahostsv4",
            Family::V6 => "ahostsv6",
        }
    }
}

/// One named set of the table.
struct NamedSet {
    name: String,
    family: Family,
    /// The networks it holds; empty for host-name sets (filled at apply time).
    elements: Vec<IpNet>,
    /// What the set stands for, for a `#` comment.
    about: String,
    /// The host names a host-name set is for.
    dns: Vec<String>,
}

/// The table's named sets, one per distinct peer list and family, named after what they hold.
#[derive(Default)]
struct Sets {
    list: Vec<NamedSet>,
    dns_count: usize,
    peer_count: usize,
}

impl Sets {
    fn taken(&self, name: &str) -> bool {
        self.list.iter().any(|s| s.name == name)
    }

    fn unique(&self, base: String) -> String {
        if !self.taken(&base) {
            return base;
        }
        (2..)
            .map(|i| format!("{base}_{i}"))
            .find(|n| !self.taken(n))
            .unwrap_or(base)
    }

    /// The set holding exactly these networks, created on first use.
    fn nets(&mut self, x: &Export, family: Family, nets: &[IpNet]) -> String {
        if let Some(s) = self
            .list
            .iter()
            .find(|s| s.family == family && s.dns.is_empty() && s.elements == nets)
        {
            return s.name.clone();
        }
        let v6 = matches!(family, Family::V6);
        let (base, about) = match x.texts {
            Some(texts) => {
                texts.set_description(x.topology, v6, nets, || describe(x, family, nets))
            }
            None => describe(x, family, nets),
        };
        let base = base.unwrap_or_else(|| {
            // The other family's set for the same nodes gets the same number: peers1_v4, peers1_v6.
            let twin = self.list.iter().find(|s| {
                s.family != family && s.dns.is_empty() && !about.is_empty() && s.about == about
            });
            match twin.and_then(|s| s.name.strip_suffix(s.family.suffix())) {
                Some(stem) if stem.starts_with("peers") => stem.trim_end_matches('_').to_string(),
                _ => {
                    self.peer_count += 1;
                    format!("peers{}", self.peer_count)
                }
            }
        });
        let name = self.unique(format!("{base}_{}", family.suffix()));
        self.list.push(NamedSet {
            name: name.clone(),
            family,
            elements: nets.to_vec(),
            about,
            dns: Vec::new(),
        });
        name
    }

    /// The pair of (empty) sets for a list of host names, created on first use.
    fn dns(&mut self, names: &[String]) -> (String, String) {
        let find = |f: Family, list: &[NamedSet]| {
            list.iter()
                .find(|s| s.family == f && s.dns == names)
                .map(|s| s.name.clone())
        };
        if let (Some(a), Some(b)) = (find(Family::V4, &self.list), find(Family::V6, &self.list)) {
            return (a, b);
        }
        self.dns_count += 1;
        let n = self.dns_count;
        let about = text::comment_text(&format!(
            "host names {}, filled at apply time (see the header)",
            names.join(" ")
        ));
        let mut mk = |f: Family| {
            let name = self.unique(format!("dns{n}_{}", f.suffix()));
            self.list.push(NamedSet {
                name: name.clone(),
                family: f,
                elements: Vec::new(),
                about: about.clone(),
                dns: names.to_vec(),
            });
            name
        };
        let v4 = mk(Family::V4);
        let v6 = mk(Family::V6);
        (v4, v6)
    }
}

/// A network as nft prints it: a bare address for a single host.
fn nft_net(n: &IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

/// An nft identifier from a safe name: anything but letters, digits and `_` becomes `_`.
fn ident(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The fewest networks covering these of one family (see [`crate::net::aggregate_v4`]).
fn aggregate(nets: &[IpNet]) -> Vec<IpNet> {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for n in nets {
        match n {
            IpNet::V4(n) => v4.push(*n),
            IpNet::V6(n) => v6.push(*n),
        }
    }
    let mut out: Vec<IpNet> = crate::net::aggregate_v4(&v4)
        .into_iter()
        .map(IpNet::V4)
        .collect();
    out.extend(crate::net::aggregate_v6(&v6).into_iter().map(IpNet::V6));
    out
}

/// A readable set name when the networks are exactly one zone or one node, and the zones and nodes
/// they cover, for a comment.
fn describe(x: &Export, family: Family, nets: &[IpNet]) -> (Option<String>, String) {
    let of_family = |n: &IpNet| {
        matches!(
            (family, n),
            (Family::V4, IpNet::V4(_)) | (Family::V6, IpNet::V6(_))
        )
    };
    let merged = aggregate(nets);
    let inside = |c: &IpNet| {
        let i = merged.partition_point(|n| n.network() <= c.network());
        i > 0 && merged[i - 1].contains(c)
    };
    let same = |fam: &[IpNet]| !fam.is_empty() && fam.len() >= nets.len() && aggregate(fam) == nets;
    let covered = |fam: &[IpNet]| !fam.is_empty() && fam.iter().all(inside);
    let mut name = None;
    let mut covers: Vec<std::borrow::Cow<str>> = Vec::new();
    for z in &x.topology.zones {
        let fam: Vec<IpNet> = z
            .cidrs
            .iter()
            .map(IpNet::trunc)
            .filter(|n| of_family(n))
            .collect();
        if same(&fam) {
            name.get_or_insert_with(|| format!("zone_{}", ident(&z.name)));
        }
        if covered(&fam) {
            covers.push(format!("zone {}", z.name).into());
        }
    }
    // Nodes are looked up in an index of the site's addresses, not asked one by one: a thousand
    // node scripts with a few sets each would otherwise ask every node a few thousand times.
    let own;
    let index = match x.addresses {
        Some(index) => index,
        None => {
            own = AddressIndex::new(x.topology);
            &own
        }
    };
    // A node that is exactly this set is also covered by it.
    for ni in index.covered(&merged) {
        let node = &x.topology.nodes[ni];
        let fam = || {
            node.addresses
                .iter()
                .map(|a| IpNet::from(*a))
                .filter(of_family)
        };
        let is_same = match (fam().count(), nets) {
            (1, [only]) => fam().next() == Some(*only),
            (c, _) if c < nets.len() => false,
            _ => same(&fam().collect::<Vec<_>>()),
        };
        if is_same {
            name.get_or_insert_with(|| format!("node_{}", ident(&node.name)));
        }
        covers.push(node.name.as_str().into());
    }
    // A set named after the one thing it covers needs no comment.
    let about = if covers.is_empty() || (name.is_some() && covers.len() == 1) {
        String::new()
    } else {
        // The comment keeps 200 characters: a set of a thousand nodes lists only the first few.
        let mut listed = String::from("covers");
        for c in &covers {
            if listed.len() > 400 {
                break;
            }
            listed.push(' ');
            listed.push_str(c);
        }
        text::comment_text(&listed)
    };
    (name, about)
}

/// `tcp dport 22` or `tcp dport { 80, 8352-8364 }`; `None` for an empty port set (nft rejects `{ }`).
fn dport(protocol: Protocol, ports: &PortSet) -> Option<String> {
    match ports.ranges() {
        [] => None,
        [one] => Some(format!(
            "{} dport {}",
            protocol.as_str(),
            one.format_with("-")
        )),
        _ => Some(format!(
            "{} dport {{ {} }}",
            protocol.as_str(),
            text::ports(ports, "-", ", ")
        )),
    }
}

/// Tags worth a line in the file (management rules are obvious from their place; `egress-need`
/// only tells `check` to name the flow while it is switched off).
pub(super) fn notable_tags(r: &Rule) -> Vec<&'static str> {
    r.tags
        .iter()
        .filter(|t| !matches!(t, Tag::Management | Tag::EgressNeed))
        .map(|t| t.as_str())
        .collect()
}

/// One-line summary of a rule for a comment: `in tcp 22 from 198.51.100.0/28: SSH [...]`.
pub(super) fn summary(x: &Export, r: &Rule) -> String {
    x.rule_text(r, super::Text::Summary, || make_summary(x, r))
}

fn make_summary(x: &Export, r: &Rule) -> String {
    let (dir, prep) = match r.direction {
        Direction::Inbound => ("in", "from"),
        Direction::Outbound => ("out", "to"),
    };
    let tags = notable_tags(r);
    let tags = if tags.is_empty() {
        String::new()
    } else {
        format!(" ({})", tags.join(", "))
    };
    text::comment_text(&format!(
        "{dir} {} {} {prep} {}: {}{tags}",
        r.protocol.as_str(),
        if r.ports.is_empty() {
            "(no ports)".to_string()
        } else {
            r.ports.join("-")
        },
        // The comment keeps 200 characters: a management node's thousands of peers need not be
        // written out only to be cut off.
        r.peers.display_prefix(400),
        x.rule_comment(r)
    ))
}

/// The chain lines for one rule (one per address family it needs), after a `#` line when it has tags.
fn rule_lines(x: &Export, sets: &mut Sets, r: &Rule) -> Vec<String> {
    let Some(dport) = dport(r.protocol, &r.ports) else {
        return vec![format!("# left out, no ports: {}", summary(x, r))];
    };
    let dir = match r.direction {
        Direction::Inbound => "saddr",
        Direction::Outbound => "daddr",
    };
    let comment = format!("comment \"{}\"", text::nft_comment(&x.rule_comment(r)));
    let mut out = Vec::new();
    let tags = notable_tags(r);
    if !tags.is_empty() {
        out.push(format!("# {}", tags.join(", ")));
    }
    let matched = |family: Family, set: String| {
        format!(
            "{} {dir} @{set} {dport} accept {comment}",
            family.nft_proto()
        )
    };
    match &r.peers {
        Peers::Any => out.push(format!("{dport} accept {comment}")),
        Peers::V4(v) => {
            let nets: Vec<IpNet> = v.iter().map(|n| IpNet::V4(*n)).collect();
            let set = sets.nets(x, Family::V4, &nets);
            out.push(matched(Family::V4, set));
        }
        Peers::V6(v) => {
            let nets: Vec<IpNet> = v.iter().map(|n| IpNet::V6(*n)).collect();
            let set = sets.nets(x, Family::V6, &nets);
            out.push(matched(Family::V6, set));
        }
        Peers::Dns(names) => {
            let names: Vec<String> = names
                .iter()
                .filter(|n| crate::catalog::is_dns_name(n))
                .cloned()
                .collect();
            if names.is_empty() {
                out.push(format!("# left out, no valid host name: {}", summary(x, r)));
            } else {
                out.push(format!(
                    "# host names {}: these sets are empty until filled (see the header)",
                    names.join(" ")
                ));
                let (v4, v6) = sets.dns(&names);
                out.push(matched(Family::V4, v4));
                out.push(matched(Family::V6, v6));
            }
        }
    }
    out
}

/// Rules in the order they must appear: management first, then the rest in the engine's order.
pub(super) fn ordered(rules: &[Rule]) -> impl Iterator<Item = &Rule> {
    rules
        .iter()
        .filter(|r| r.is_management())
        .chain(rules.iter().filter(|r| !r.is_management()))
}

/// The lines that fill the host-name sets from `getent` (documented in the header, run after loading).
fn dns_fill_lines(sets: &Sets) -> Vec<String> {
    let mut out = Vec::new();
    for s in sets.list.iter().filter(|s| !s.dns.is_empty()) {
        for name in &s.dns {
            let filter = match s.family {
                // IPv4-mapped IPv6 answers (::ffff:a.b.c.d) are IPv4 addresses: leave them out.
                Family::V6 => "$1 !~ /^::ffff:/ {print $1}",
                Family::V4 => "{print $1}",
            };
            out.push(format!(
                "for a in $(getent {} {name} | awk '{filter}' | sort -u); do nft add element inet {TABLE} {} \"{{ $a }}\"; done",
                s.family.getent_db(),
                s.name
            ));
        }
    }
    out
}

/// The `#` header: what, for whom, how to apply safely and how to roll back.
fn header_lines(x: &Export, sets: &Sets) -> Vec<String> {
    let file = file_name(&x.node().name, Target::Nftables);
    let prev = format!("/run/fwtopo-{}.prev.nft", x.node().name);
    let apply = [
        format!("nft -c -f {file} && nft -f {file}"),
        "(loading it again replaces our table in one transaction: same ruleset, nothing else touched)".to_string(),
        format!("safe apply, restores the previous table unless confirmed within {CONFIRM_SECONDS} s (bash, as root):"),
        format!("  F={file} P={prev} T={CONFIRM_SECONDS}"),
        format!(
            "  nft -c -f \"$F\" && {{ echo 'table inet {TABLE} {{}}'; echo 'delete table inet {TABLE}'; nft list table inet {TABLE} 2>/dev/null || :; }} > \"$P\" && rm -f \"$P.ok\" && (nohup setsid sh -c \"sleep $T; [ -e $P.ok ] || nft -f $P\" >/dev/null 2>&1 </dev/null &) && nft -f \"$F\""
        ),
        format!("  then, within T seconds and from a NEW ssh session (proves the way in still works): touch {prev}.ok"),
        "at boot: include this file from /etc/sysconfig/nftables.conf (RHEL family) or /etc/nftables.conf".to_string(),
    ];
    let rollback = [
        format!("nft delete table inet {TABLE}"),
        "(removes only our table; other tables, e.g. firewalld's, are left as they are)"
            .to_string(),
    ];
    let apply: Vec<&str> = apply.iter().map(String::as_str).collect();
    let rollback: Vec<&str> = rollback.iter().map(String::as_str).collect();
    let mut h = header(x, Target::Nftables, &apply, &rollback);
    h.push("coexistence: every table's base chain sees each packet; an accept here does not override a drop in".into());
    h.push("  another table (firewalld, iptables-nft), and our policy drop drops what they accept. forward is not filtered.".into());
    h.push("  firewalld runs by default on AlmaLinux, Rocky and RHEL: check `systemctl is-active firewalld`; stop it".into());
    h.push(
        "  first (systemctl disable --now firewalld), or export --target firewalld instead.".into(),
    );
    let fill = dns_fill_lines(sets);
    let dns = x.dns_peers();
    if !fill.is_empty() {
        h.push("WARNING host-name peers: nft resolves names only once, at load time, so this file names none.".into());
        h.push("  Their rules match the sets below, which are EMPTY after every load: until filled, that traffic is".into());
        h.push("  dropped (never allowed to any). Fill them after each load and whenever the addresses change:".into());
        h.extend(fill.into_iter().map(|l| format!("    {l}")));
        h.push(
            "  or pin the addresses as an external host in the topology and export again.".into(),
        );
    } else if !dns.is_empty() {
        h.push(format!(
            "note: host-name peers ({}) only reach outbound rules, which are not filtered here (egress open).",
            text::comment_text(&dns.join(" "))
        ));
    }
    let local: Vec<String> = x
        .node_plan
        .local_only
        .iter()
        .map(|l| format!("{}/{}", l.protocol.as_str(), l.ports.join("-")))
        .collect();
    if !local.is_empty() {
        h.push(format!(
            "loopback-only ports, never opened (loopback is accepted): {}",
            local.join(" ")
        ));
    }
    h
}

/// The whole `nft -f` file for one node.
pub fn render(x: &Export) -> String {
    let mut sets = Sets::default();
    let strict = x.options.egress == Egress::Strict;

    let mut input = vec![
        "type filter hook input priority filter; policy drop;".to_string(),
        "iifname \"lo\" accept".to_string(),
        "ct state established,related accept".to_string(),
        "ct state invalid drop".to_string(),
        "# ICMP, and the ICMPv6 that IPv6 neighbour discovery and path MTU discovery need"
            .to_string(),
        "meta l4proto { icmp, ipv6-icmp } accept".to_string(),
    ];
    for r in ordered(x.inbound()) {
        input.extend(rule_lines(x, &mut sets, r));
    }
    input.push("# everything else: policy drop".to_string());

    let mut output = Vec::new();
    if strict {
        output.push("type filter hook output priority filter; policy drop;".to_string());
        output.push("oifname \"lo\" accept".to_string());
        output.push("ct state established,related accept".to_string());
        output.push("ct state invalid drop".to_string());
        output.push("meta l4proto { icmp, ipv6-icmp } accept".to_string());
        for r in ordered(x.outbound()) {
            output.extend(rule_lines(x, &mut sets, r));
        }
        output.push("# everything else: policy drop".to_string());
    } else {
        output.push("type filter hook output priority filter; policy accept;".to_string());
        output.push(
            "# egress open: outbound is not filtered. Derived outbound rules, for reference:"
                .to_string(),
        );
        output.extend(
            x.outbound()
                .iter()
                .map(|r| format!("#   {}", summary(x, r))),
        );
    }

    let mut lines = vec!["#!/usr/sbin/nft -f".to_string()];
    lines.extend(
        header_lines(x, &sets)
            .into_iter()
            .map(|l| format!("# {l}").trim_end().to_string()),
    );
    lines.push(String::new());
    lines.push(
        "# create our table if missing, so that the delete below never fails; then replace it"
            .to_string(),
    );
    lines.push(format!("table inet {TABLE} {{}}"));
    lines.push(format!("delete table inet {TABLE}"));
    lines.push(format!("table inet {TABLE} {{"));
    for s in &sets.list {
        if !s.about.is_empty() {
            lines.push(format!("\t# {}", s.about));
        }
        lines.push(format!("\tset {} {{", s.name));
        lines.push(format!("\t\ttype {}", s.family.nft_type()));
        lines.push("\t\tflags interval".to_string());
        lines.push("\t\tauto-merge".to_string());
        if !s.elements.is_empty() {
            let elements: Vec<String> = s.elements.iter().map(nft_net).collect();
            lines.push(format!("\t\telements = {{ {} }}", elements.join(", ")));
        }
        lines.push("\t}".to_string());
        lines.push(String::new());
    }
    for (name, body) in [("input", input), ("output", output)] {
        lines.push(format!("\tchain {name} {{"));
        lines.extend(body.into_iter().map(|l| format!("\t\t{l}")));
        lines.push("\t}".to_string());
        if name == "input" {
            lines.push(String::new());
        }
    }
    lines.push("}".to_string());
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::engine::{NodePlan, Plan};
    use crate::export::Options;
    use crate::ports::PortRange;
    use crate::topology::{Node, Os, Topology};

    fn rule(direction: Direction, ports: &[(u16, u16)], peers: Peers) -> Rule {
        let ranges = ports
            .iter()
            .filter_map(|&(a, b)| PortRange::new(a, b))
            .collect();
        Rule {
            direction,
            protocol: Protocol::Tcp,
            ports: PortSet::from_ranges(ranges),
            peers,
            provenance: vec![],
            tags: vec![],
        }
    }

    fn render_rules(inbound: Vec<Rule>, outbound: Vec<Rule>, egress: Egress) -> String {
        let catalog = Catalog::embedded().expect("catalog");
        let topology = Topology {
            name: "t".into(),
            nodes: vec![Node::new("n1", Os::Almalinux)],
            ..Default::default()
        };
        let plan = Plan::default();
        let np = NodePlan {
            node: 0,
            name: "n1".into(),
            inbound: inbound.into(),
            outbound: outbound.into(),
            local_only: vec![],
        };
        render(&Export::new(
            &catalog,
            &topology,
            &plan,
            &np,
            Options {
                egress,
                crlf: false,
            },
        ))
    }

    fn rules_only(s: &str) -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#') && l.contains(" accept comment"))
            .map(String::from)
            .collect()
    }

    #[test]
    fn each_family_in_its_own_set() {
        let v6 = Peers::V6(vec!["2001:db8::/32".parse().expect("net")]);
        let v4 = Peers::V4(vec![
            "203.0.113.2/32".parse().expect("net"),
            "198.51.100.0/24".parse().expect("net"),
        ]);
        let out = render_rules(
            vec![
                rule(Direction::Inbound, &[(22, 22)], v6),
                rule(Direction::Inbound, &[(80, 80), (8352, 8364)], v4),
            ],
            vec![],
            Egress::Open,
        );
        let rules = rules_only(&out);
        assert!(
            rules[0].starts_with("ip6 saddr @peers1_v6 tcp dport 22 accept"),
            "{rules:?}"
        );
        assert!(
            rules[1].starts_with("ip saddr @peers2_v4 tcp dport { 80, 8352-8364 } accept"),
            "{rules:?}"
        );
        assert!(out.contains(
            "type ipv6_addr\n\t\tflags interval\n\t\tauto-merge\n\t\telements = { 2001:db8::/32 }"
        ));
        assert!(out.contains("elements = { 203.0.113.2, 198.51.100.0/24 }"));
    }

    #[test]
    fn host_names_get_empty_sets_never_any() {
        let dns = Peers::Dns(vec!["my.mailstore.com".into()]);
        let out = render_rules(
            vec![],
            vec![rule(Direction::Outbound, &[(443, 443)], dns)],
            Egress::Strict,
        );
        let rules = rules_only(&out);
        assert_eq!(rules.len(), 2, "{rules:?}");
        assert!(rules[0].starts_with("ip daddr @dns1_v4 tcp dport 443 accept"));
        assert!(rules[1].starts_with("ip6 daddr @dns1_v6 tcp dport 443 accept"));
        assert!(out.contains("getent ahostsv4 my.mailstore.com"));
        assert!(!out.contains("elements = { }"));
    }

    #[test]
    fn empty_ports_are_left_out_and_management_comes_first() {
        let mut ssh = rule(Direction::Inbound, &[(22, 22)], Peers::Any);
        ssh.tags = vec![Tag::Management];
        let out = render_rules(
            vec![
                rule(Direction::Inbound, &[], Peers::Any),
                rule(Direction::Inbound, &[(80, 80)], Peers::Any),
                ssh,
            ],
            vec![],
            Egress::Open,
        );
        let rules = rules_only(&out);
        assert!(rules[0].starts_with("tcp dport 22 accept"), "{rules:?}");
        assert!(rules[1].starts_with("tcp dport 80 accept"), "{rules:?}");
        assert!(out.contains("# left out, no ports"));
        assert!(!out.contains("{  }"));
    }
}

//! firewalld export: a bash script of `firewall-cmd --permanent` calls (or `firewall-offline-cmd`
//! with `--offline`) that replaces our own zone `fwtopo` (target DROP, bound to the node's
//! interfaces), our ipsets `fwtopo-*` (one per peer set and family, `hash:net`) and, with strict
//! egress, our policy `fwtopo-out` (HOST to ANY, target DROP).
//!
//! Why these shapes (domain.md §2.5, tested with firewalld 1.3.3): a rich rule's `source address`
//! needs `family=`, holds one address and one port element, and has no comment, so peer lists go to
//! ipsets and each port range gets its own rich rule; the CLI rejects mixing option kinds in one call,
//! so each kind is its own call; zones and ipsets exist only in the permanent configuration, so
//! `--timeout` cannot guard a zone switch: safe apply instead saves `/etc/firewalld`, reloads, and
//! restores it unless the operator confirms. Idempotent: our objects are deleted, then re-created in
//! a fixed order, so the XML is the same after every run.

#[path = "shell.rs"]
pub(super) mod shell;

use super::{Egress, Export};
use crate::engine::Rule;
use crate::net::Peers;
use crate::target::Target;
use shell::{addr, nets, rule_comment};

const ZONE: &str = "fwtopo";
const POLICY: &str = "fwtopo-out";
/// Rich-rule priority of management rules: evaluated before every other rule of the zone.
const MGMT_PRIORITY: &str = "-100";

/// Peer sets that need an ipset, named in order of first use.
#[derive(Default)]
struct Ipsets {
    /// (peers, name of the v4 or v6 set, or the `fwtopo-dnsN` stem for host names).
    sets: Vec<(Peers, String)>,
    v4: usize,
    v6: usize,
    dns: usize,
}

impl Ipsets {
    /// The ipset (or stem) for a peer set, or `None` when a rich rule can name the peer inline.
    fn name(&mut self, p: &Peers) -> Option<String> {
        let inline =
            matches!(p, Peers::Any) || (matches!(p, Peers::V4(_) | Peers::V6(_)) && p.len() == 1);
        if inline {
            return None;
        }
        if let Some((_, n)) = self.sets.iter().find(|(q, _)| q == p) {
            return Some(n.clone());
        }
        let n = match p {
            Peers::V4(_) => {
                self.v4 += 1;
                format!("fwtopo-v4-{}", self.v4)
            }
            Peers::V6(_) => {
                self.v6 += 1;
                format!("fwtopo-v6-{}", self.v6)
            }
            _ => {
                self.dns += 1;
                format!("fwtopo-dns{}", self.dns)
            }
        };
        self.sets.push((p.clone(), n.clone()));
        Some(n)
    }
}

/// Which side of a rich rule the peer is on.
#[derive(Clone, Copy)]
enum Side {
    Source,
    Destination,
}

impl Side {
    fn word(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Destination => "destination",
        }
    }
}

/// The rich rules of one rule: one per family-specific peer element and port range.
fn rich_rules(r: &Rule, side: Side, priority: Option<&str>, sets: &mut Ipsets) -> Vec<String> {
    let prio = priority
        .map(|p| format!(" priority=\"{p}\""))
        .unwrap_or_default();
    let elements: Vec<(&str, String)> = match (&r.peers, sets.name(&r.peers)) {
        (Peers::Any, _) => vec![("", String::new())],
        (Peers::Dns(_), Some(stem)) => vec![
            ("ipv4", format!(" {} ipset=\"{stem}-v4\"", side.word())),
            ("ipv6", format!(" {} ipset=\"{stem}-v6\"", side.word())),
        ],
        (p, Some(set)) => {
            let fam = if matches!(p, Peers::V6(_)) {
                "ipv6"
            } else {
                "ipv4"
            };
            vec![(fam, format!(" {} ipset=\"{set}\"", side.word()))]
        }
        (p, None) => nets(p)
            .iter()
            .map(|n| {
                let fam = if n.addr().is_ipv6() { "ipv6" } else { "ipv4" };
                (fam, format!(" {} address=\"{n}\"", side.word()))
            })
            .collect(),
    };
    let mut out = Vec::new();
    for (fam, peer) in &elements {
        let fam = if fam.is_empty() {
            String::new()
        } else {
            format!(" family=\"{fam}\"")
        };
        for range in r.ports.ranges() {
            out.push(format!(
                "rule{prio}{fam}{peer} port port=\"{}\" protocol=\"{}\" accept",
                range.format_with("-"),
                r.protocol.as_str()
            ));
        }
    }
    out
}

/// One `fw` call with repeated options, one per continuation line.
fn call(head: &str, opts: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if opts.len() == 1 {
        out.push(format!("{head} {}", opts[0]));
        return out;
    }
    out.push(format!("{head} \\"));
    for (i, o) in opts.iter().enumerate() {
        let tail = if i + 1 == opts.len() { "" } else { " \\" };
        out.push(format!("  {o}{tail}"));
    }
    out
}

/// The ports and rich rules of a zone or policy, as two bash arrays with a comment above each rule's
/// entries, so one `firewall-cmd` call adds each kind (the CLI rejects mixing kinds in one call).
#[derive(Default)]
struct Scope {
    ports: Vec<String>,
    rich: Vec<String>,
}

impl Scope {
    /// Adds one rule: `any` as plain ports (unless it must come first), everything else as rich rules.
    fn add(&mut self, x: &Export, r: &Rule, side: Side, priority: Option<&str>, sets: &mut Ipsets) {
        if matches!(r.peers, Peers::Any) && priority.is_none() {
            self.ports.push(format!("  {}", rule_comment(x, r)));
            for p in r.ports.ranges() {
                self.ports
                    .push(format!("  {}/{}", p.format_with("-"), r.protocol.as_str()));
            }
        } else {
            self.rich.push(format!("  {}", rule_comment(x, r)));
            for rr in rich_rules(r, side, priority, sets) {
                self.rich.push(format!("  '{rr}'"));
            }
        }
    }

    /// The array assignments and the calls, for `--zone="$ZONE"` or `--policy="$POLICY"`.
    fn lines(self, scope: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !self.rich.is_empty() {
            out.push("RICH=(".into());
            out.extend(self.rich);
            out.push(")".into());
            out.push(format!("fw {scope} \"${{RICH[@]/#/--add-rich-rule=}}\""));
        }
        if !self.ports.is_empty() {
            out.push("PORTS=(".into());
            out.extend(self.ports);
            out.push(")".into());
            out.push(format!("fw {scope} \"${{PORTS[@]/#/--add-port=}}\""));
        }
        out
    }
}

pub fn render(x: &Export) -> String {
    let node = x.node();
    let file = super::file_name(&node.name, Target::Firewalld);
    let apply_online = format!(
        "bash {file}   (firewall-cmd --permanent, --reload, then rolls back unless you type yes in time)"
    );
    let apply_offline = format!(
        "FWTOPO_INTERFACES=eth0 bash {file} --offline   (firewall-offline-cmd: no daemon needed)"
    );
    let spec = shell::Spec {
        target: Target::Firewalld,
        apply: &[
            &apply_online,
            &apply_offline,
            "binds the interfaces that carry the node addresses (or FWTOPO_INTERFACES) to zone fwtopo, target DROP,",
            "and makes fwtopo the default zone, so every other interface is filtered by it too",
        ],
        rollback: &[
            "bash /var/lib/fwtopo/firewalld-rollback.sh   (restores /etc/firewalld as saved by the last apply)",
            "by hand: firewall-cmd --set-default-zone= the old default (public on most systems), move the interfaces",
            "back to their zone, then firewall-cmd --permanent --delete-zone=fwtopo,",
            "--delete-policy=fwtopo-out and --delete-ipset=fwtopo-... for each, then firewall-cmd --reload",
        ],
        extra_args: &[(
            "--offline",
            "OFFLINE=0",
            "write the permanent configuration with firewall-offline-cmd (no running daemon)",
        )],
    };
    let mut o = shell::preamble(x, &spec);
    o.extend(shell::safe_apply(Target::Firewalld));
    o.extend(shell::resolve_fn());

    let addrs: Vec<String> = node.addresses.iter().map(|a| a.to_string()).collect();
    let need = match x.options.egress {
        Egress::Strict => "0.9",
        Egress::Open => "0.7",
    };
    o.extend(
        [
            "# --- firewalld ---".to_string(),
            format!("ZONE={ZONE}"),
            format!("POLICY={POLICY}"),
            format!("NODE_ADDRS=' {} '", addrs.join(" ")),
            "fw_get() { if [ \"$OFFLINE\" = 1 ]; then firewall-offline-cmd \"$@\"; else firewall-cmd --permanent \"$@\"; fi; }".into(),
            "fw() { fw_get \"$@\" >/dev/null; }".into(),
            "add_entries() { local s=$1 a args=(); shift; for a in \"$@\"; do args+=(\"--add-entry=$a\"); done; [ \"${#args[@]}\" -eq 0 ] || fw --ipset=\"$s\" \"${args[@]}\"; }".into(),
            String::new(),
            "if [ \"$OFFLINE\" = 1 ]; then".into(),
            "  command -v firewall-offline-cmd >/dev/null || die \"firewall-offline-cmd not found: install firewalld\"".into(),
            "  CONFIRM_SECONDS=0".into(),
            "else".into(),
            "  command -v firewall-cmd >/dev/null || die \"firewall-cmd not found: install firewalld, or use --offline\"".into(),
            "  firewall-cmd --state >/dev/null 2>&1 || die \"firewalld is not running: start it, or write the configuration with --offline\"".into(),
            "fi".into(),
            "# Rich-rule priorities need firewalld 0.7, policies (strict egress) 0.9: CentOS and CloudLinux 7".into(),
            "# ship 0.6, which would fail halfway.".into(),
            format!("NEED={need}"),
            "if [ \"$OFFLINE\" = 1 ]; then FW_VERSION=$(firewall-offline-cmd --version 2>/dev/null || true); else FW_VERSION=$(firewall-cmd --version 2>/dev/null || true); fi".into(),
            "FW_VERSION=$(printf '%s' \"$FW_VERSION\" | head -n 1 | tr -cd '0-9.')".into(),
            "if [ -z \"$FW_VERSION\" ]; then".into(),
            "  say \"warning: cannot tell the firewalld version: this export needs $NEED or later\"".into(),
            "elif [ \"$(printf '%s\\n' \"$NEED\" \"$FW_VERSION\" | sort -V | head -n 1)\" != \"$NEED\" ]; then".into(),
            "  die \"firewalld $FW_VERSION is too old: this export needs $NEED or later (rich-rule priorities 0.7, policies 0.9); nothing was changed\"".into(),
            "fi".into(),
            String::new(),
            "# The interfaces to bind: FWTOPO_INTERFACES, else (online) those that carry the node's addresses.".into(),
            "IFACES=\"${FWTOPO_INTERFACES:-}\"".into(),
            "if [ -z \"$IFACES\" ] && [ \"$OFFLINE\" = 0 ]; then".into(),
            "  IFACES=$(ip -o address show 2>/dev/null | awk -v want=\"$NODE_ADDRS\" '{split($4, a, \"/\"); if (index(want, \" \" a[1] \" \")) print $2}' | sed 's/@.*//' | sort -u | tr '\\n' ' ')".into(),
            "fi".into(),
            "for i in $IFACES; do [[ $i =~ ^[A-Za-z0-9._-]+$ ]] || die \"bad interface name '$i'\"; done".into(),
            "if [ -z \"${IFACES// /}\" ]; then".into(),
            "  [ \"$OFFLINE\" = 1 ] || die \"no interface carries${NODE_ADDRS% }: set FWTOPO_INTERFACES='eth0 ...'\"".into(),
            "  say \"warning: FWTOPO_INTERFACES is empty: zone $ZONE is written but bound to no interface\"".into(),
            "fi".into(),
            String::new(),
            "backup_paths() { echo /etc/firewalld; }".into(),
            "rollback_body() {".into(),
            "  local i old".into(),
            "  if [ \"$OFFLINE\" = 1 ]; then".into(),
            "    echo 'rm -f /etc/firewalld/zones/fwtopo.xml /etc/firewalld/policies/fwtopo-out.xml /etc/firewalld/ipsets/fwtopo-*.xml'".into(),
            "    echo 'tar -xPf \"$BACKUP\"'".into(),
            "    return 0".into(),
            "  fi".into(),
            "  for i in $IFACES; do".into(),
            "    old=$(firewall-cmd --permanent --get-zone-of-interface=\"$i\" 2>/dev/null || true)".into(),
            "    if [ -z \"$old\" ]; then printf 'firewall-cmd --permanent --zone=%q --remove-interface=%q >/dev/null 2>&1 || true\\n' \"$ZONE\" \"$i\"".into(),
            "    elif [ \"$old\" != \"$ZONE\" ]; then printf 'firewall-cmd --permanent --zone=%q --change-interface=%q >/dev/null 2>&1 || true\\n' \"$old\" \"$i\"; fi".into(),
            "  done".into(),
            "  echo 'rm -f /etc/firewalld/zones/fwtopo.xml /etc/firewalld/policies/fwtopo-out.xml /etc/firewalld/ipsets/fwtopo-*.xml'".into(),
            "  echo 'tar -xPf \"$BACKUP\"'".into(),
            "  echo 'firewall-cmd --reload >/dev/null'".into(),
            "}".into(),
            "safe_begin".into(),
            String::new(),
            "FW_CONF=/etc/firewalld/firewalld.conf".into(),
            "# set_default ZONE: the default zone in firewalld.conf only; the running firewall takes it at the reload.".into(),
            "set_default() { if grep -q '^DefaultZone=' \"$FW_CONF\"; then sed -i \"s/^DefaultZone=.*/DefaultZone=$1/\" \"$FW_CONF\"; else echo \"DefaultZone=$1\" >> \"$FW_CONF\"; fi; }".into(),
            "say \"removing the previous fwtopo zone, policy and ipsets\"".into(),
            "# The default zone cannot be deleted: a built-in one stands in until ours is back.".into(),
            "if grep -qx \"DefaultZone=$ZONE\" \"$FW_CONF\" 2>/dev/null; then set_default public; fi".into(),
            "policies=$(fw_get --get-policies 2>/dev/null || true)".into(),
            "[[ \" $policies \" != *\" $POLICY \"* ]] || fw --delete-policy=\"$POLICY\"".into(),
            "zones=$(fw_get --get-zones)".into(),
            "[[ \" $zones \" != *\" $ZONE \"* ]] || fw --delete-zone=\"$ZONE\"".into(),
            "for s in $(fw_get --get-ipsets); do case \"$s\" in fwtopo-*) fw --delete-ipset=\"$s\" ;; esac; done".into(),
            String::new(),
        ],
    );

    // Rules first (into a buffer), so every ipset they name is known before the ipset section.
    let mut sets = Ipsets::default();
    let mut zone = vec![
        "say \"creating zone $ZONE (target DROP)\"".to_string(),
        "fw --new-zone=\"$ZONE\"".into(),
        "fw --zone=\"$ZONE\" --set-target=DROP".into(),
        "fw --zone=\"$ZONE\" --set-short=\"$ZONE\"".into(),
        format!(
            "fw --zone=\"$ZONE\" --set-description={}",
            super::text::sh_quote(&super::text::comment_text(&format!(
                "fwtopo rules of node {}, replaced by every run of its export",
                node.name
            )))
        ),
        "# The way in: firewalld itself accepts loopback and established/related traffic; ICMP and".into(),
        "# ICMPv6 (neighbour discovery) here; management rules first, at the lowest priority number.".into(),
        "fw --zone=\"$ZONE\" --add-protocol=icmp --add-protocol=ipv6-icmp".into(),
        "# DHCPv6 replies (udp 546 to this node's link-local address, as in firewalld's public zone):".into(),
        "# without them a node configured by DHCPv6 loses its IPv6 address when its lease runs out.".into(),
        "fw --zone=\"$ZONE\" --add-service=dhcpv6-client".into(),
    ];
    let mut scope = Scope::default();
    for r in shell::inbound_ordered(x) {
        let prio = r.is_management().then_some(MGMT_PRIORITY);
        scope.add(x, r, Side::Source, prio, &mut sets);
    }
    zone.extend(scope.lines("--zone=\"$ZONE\""));
    zone.push("for i in $IFACES; do fw --zone=\"$ZONE\" --change-interface=\"$i\"; done".into());
    zone.extend(
        [
            "# The default zone: every interface bound to no zone (a second NIC, one added later) is",
            "# filtered by ours too, not by public (which accepts ssh and more from anyone).",
            "say \"making $ZONE the default zone\"",
            "set_default \"$ZONE\"",
            "# What ours does not filter: interfaces bound to another zone, and zones with sources, which",
            "# take precedence over interfaces for traffic from those sources.",
            "for f in /etc/firewalld/zones/*.xml; do",
            "  [ -e \"$f\" ] || continue",
            "  z=$(basename \"$f\" .xml)",
            "  [ \"$z\" != \"$ZONE\" ] && [[ $z =~ ^[A-Za-z0-9_.-]+$ ]] || continue",
            "  v=$(sed -n 's/.*<source [a-z]*=\"\\([^\"]*\\)\".*/\\1/p' \"$f\" | tr -cd 'A-Za-z0-9.:/_\\n-' | tr '\\n' ' ')",
            "  [ -z \"$v\" ] || say \"warning: zone $z has sources ($v): traffic from them is filtered by $z, not by $ZONE\"",
            "  v=$(sed -n 's/.*<interface name=\"\\([^\"]*\\)\".*/\\1/p' \"$f\" | tr -cd 'A-Za-z0-9._\\n-' | tr '\\n' ' ')",
            "  [ -z \"$v\" ] || say \"warning: zone $z holds interfaces $v: they are filtered by $z, not by $ZONE (FWTOPO_INTERFACES binds them here)\"",
            "done",
            "",
        ]
        .map(String::from),
    );

    let mut policy = Vec::new();
    match x.options.egress {
        Egress::Open => {
            policy.push(
                "# Outbound stays open: no fwtopo-out policy (a previous one was deleted above)."
                    .into(),
            );
            policy.extend(shell::outbound_as_comments(x));
        }
        Egress::Strict => {
            policy.extend([
                "say \"creating policy $POLICY (host to any, target DROP)\"".to_string(),
                "fw --new-policy=\"$POLICY\"".into(),
                "fw --policy=\"$POLICY\" --set-target=DROP".into(),
                "fw --policy=\"$POLICY\" --set-short=\"$POLICY\"".into(),
                "fw --policy=\"$POLICY\" --add-ingress-zone=HOST".into(),
                "fw --policy=\"$POLICY\" --add-egress-zone=ANY".into(),
                "# firewalld accepts loopback and established/related output itself; ICMP and ICMPv6 here.".into(),
                "fw --policy=\"$POLICY\" --add-protocol=icmp --add-protocol=ipv6-icmp".into(),
            ]);
            let mut scope = Scope::default();
            for r in x.outbound() {
                scope.add(x, r, Side::Destination, None, &mut sets);
            }
            policy.extend(scope.lines("--policy=\"$POLICY\""));
            policy.push(String::new());
        }
    }

    if !sets.sets.is_empty() {
        o.push("say \"creating ipsets\"".into());
    }
    for (peers, name) in &sets.sets {
        match peers {
            Peers::Dns(names) => {
                let words = shell::dns_words(names);
                o.push(format!(
                    "# {}: resolved now (firewalld has no host-name rules); re-run to refresh.",
                    super::text::comment_text(&names.join(", "))
                ));
                o.push(format!("fw --new-ipset={name}-v4 --type=hash:net"));
                o.push(format!(
                    "fw --new-ipset={name}-v6 --type=hash:net --option=family=inet6"
                ));
                o.push(format!("A4=$(resolve 4 {words})"));
                o.push(format!("A6=$(resolve 6 {words})"));
                o.push(shell::warn_unresolved("A4", names, 4));
                o.push(shell::warn_unresolved("A6", names, 6));
                o.push(format!("add_entries {name}-v4 $A4"));
                o.push(format!("add_entries {name}-v6 $A6"));
            }
            p => {
                let fam = if matches!(p, Peers::V6(_)) {
                    " --option=family=inet6"
                } else {
                    ""
                };
                o.push(format!("fw --new-ipset={name} --type=hash:net{fam}"));
                let entries: Vec<String> = nets(p)
                    .iter()
                    .map(|n| format!("--add-entry={}", addr(n)))
                    .collect();
                o.extend(call(&format!("fw --ipset={name}"), &entries));
            }
        }
    }
    if !sets.sets.is_empty() {
        o.push(String::new());
    }
    o.extend(zone);
    o.extend(policy);
    o.extend(
        [
            "if [ \"$OFFLINE\" = 1 ]; then",
            "  firewall-offline-cmd --check-config >/dev/null || die \"firewall-offline-cmd --check-config rejects the result\"",
            "  safe_end",
            "  say \"done: permanent configuration written; it applies when firewalld starts\"",
            "else",
            "  firewall-cmd --check-config >/dev/null || die \"firewall-cmd --check-config rejects the result\"",
            "  firewall-cmd --reload >/dev/null",
            "  say \"active zones now:\"",
            "  firewall-cmd --get-active-zones >&2",
            "  safe_end",
            "  say \"done\"",
            "fi",
        ]
        .map(String::from),
    );
    shell::finish(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{PortRange, PortSet, Protocol};

    fn rule(peers: Peers, ports: &[(u16, u16)]) -> Rule {
        Rule {
            direction: crate::engine::Direction::Inbound,
            protocol: Protocol::Tcp,
            ports: PortSet::from_ranges(
                ports
                    .iter()
                    .filter_map(|&(a, b)| PortRange::new(a, b))
                    .collect(),
            ),
            peers,
            provenance: vec![],
            tags: vec![],
        }
    }

    #[test]
    fn rich_rules_keep_families_apart_and_split_ranges() {
        let mut sets = Ipsets::default();
        let one = rule(
            Peers::V6(vec!["2001:db8::/32".parse().unwrap()]),
            &[(8352, 8364), (8412, 8412)],
        );
        let rr = rich_rules(&one, Side::Source, None, &mut sets);
        assert_eq!(
            rr,
            vec![
                r#"rule family="ipv6" source address="2001:db8::/32" port port="8352-8364" protocol="tcp" accept"#,
                r#"rule family="ipv6" source address="2001:db8::/32" port port="8412" protocol="tcp" accept"#,
            ]
        );
        let two = rule(
            Peers::V4(vec![
                "192.0.2.0/24".parse().unwrap(),
                "198.51.100.0/24".parse().unwrap(),
            ]),
            &[(22, 22)],
        );
        let rr = rich_rules(&two, Side::Destination, Some("-100"), &mut sets);
        assert_eq!(
            rr,
            vec![
                r#"rule priority="-100" family="ipv4" destination ipset="fwtopo-v4-1" port port="22" protocol="tcp" accept"#
            ]
        );
        // The same peers reuse their set; host names get one set per family.
        assert_eq!(sets.name(&two.peers).as_deref(), Some("fwtopo-v4-1"));
        let dns = rule(Peers::Dns(vec!["my.mailstore.com".into()]), &[(443, 443)]);
        let rr = rich_rules(&dns, Side::Destination, None, &mut sets);
        assert_eq!(rr.len(), 2);
        assert!(rr[0].contains(r#"family="ipv4" destination ipset="fwtopo-dns1-v4""#));
        assert!(rr[1].contains(r#"family="ipv6" destination ipset="fwtopo-dns1-v6""#));
    }
}

//! iptables export: a bash script that refills our own chains with `iptables-restore --noflush`.
//!
//! Our chains (`FWTOPO-IN`, `FWTOPO-OUT`) are re-declared in the restore input, which flushes just
//! them; every other chain is left alone. One jump from `INPUT` and `OUTPUT` is inserted only when
//! `iptables -C` does not find it, so running the script twice gives the same rules. IPv4 rules go to
//! `iptables-restore`, IPv6 rules to `ip6tables-restore`; a peer list of one family never reaches the
//! other. Host-name peers are resolved when the script runs (`getent ahostsv4/ahostsv6`), with a
//! warning; a name that resolves to nothing adds no rule (never `any`).

use super::nftables::{Family, ordered, summary};
use super::{Egress, Export, file_name, header, text};
use crate::engine::{Direction, Rule};
use crate::net::Peers;
use crate::ports::PortSet;
use crate::target::Target;

/// Our inbound chain (iptables chain names must stay under 29 characters).
pub const CHAIN_IN: &str = "FWTOPO-IN";
/// Our outbound chain.
pub const CHAIN_OUT: &str = "FWTOPO-OUT";
/// `multiport` takes at most 15 ports, a range counting as two.
pub const MULTIPORT_MAX: usize = 15;
/// Addresses per `-s`/`-d` list: iptables expands each into its own rule anyway; this keeps lines short.
pub const ADDRS_PER_RULE: usize = 16;
/// Default seconds `--safe` waits for a confirmation before it restores the saved rules.
pub const CONFIRM_SECONDS: u32 = 60;

/// One line of restore input, or a call that resolves a host name into lines when the script runs.
enum Line {
    Fixed(String),
    Dns {
        family: Family,
        chain: &'static str,
        flag: &'static str,
        name: String,
        tail: String,
    },
}

/// `-m tcp --dport 22` or `-m multiport --dports 80,8352:8364` for one chunk of ports.
fn port_match(protocol: &str, ports: &PortSet) -> String {
    match ports.ranges() {
        [one] => format!("-m {protocol} --dport {}", one.format_with(":")),
        _ => format!("-m multiport --dports {}", text::ports(ports, ":", ",")),
    }
}

/// The restore lines for one rule in one family: chunks of at most 15 ports, 16 addresses.
fn rule_lines(x: &Export, family: Family, r: &Rule) -> Vec<Line> {
    let (chain, flag) = match r.direction {
        Direction::Inbound => (CHAIN_IN, "-s"),
        Direction::Outbound => (CHAIN_OUT, "-d"),
    };
    let proto = r.protocol.as_str();
    let comment = format!("-m comment --comment \"{}\"", x.rule_comment(r));
    let addrs: Option<Vec<String>> = match (&r.peers, family) {
        (Peers::Any, _) => Some(Vec::new()),
        (Peers::V4(v), Family::V4) => Some(v.iter().map(|n| n.to_string()).collect()),
        (Peers::V6(v), Family::V6) => Some(v.iter().map(|n| n.to_string()).collect()),
        (Peers::Dns(_), _) => None,
        _ => return Vec::new(),
    };
    let chunks = text::chunk_ports(&r.ports, MULTIPORT_MAX, 2);
    let mut out = Vec::new();
    if chunks.is_empty() {
        out.push(Line::Fixed(format!(
            "# left out, no ports: {}",
            summary(x, r)
        )));
        return out;
    }
    for ports in &chunks {
        let tail = format!(
            "-p {proto} {} {comment} -j ACCEPT",
            port_match(proto, ports)
        );
        match &addrs {
            Some(a) if a.is_empty() => out.push(Line::Fixed(format!("-A {chain} {tail}"))),
            Some(a) => {
                for group in a.chunks(ADDRS_PER_RULE) {
                    out.push(Line::Fixed(format!(
                        "-A {chain} {flag} {} {tail}",
                        group.join(",")
                    )));
                }
            }
            None => {
                let Peers::Dns(names) = &r.peers else {
                    continue;
                };
                for name in names {
                    if crate::catalog::is_dns_name(name) {
                        out.push(Line::Dns {
                            family,
                            chain,
                            flag,
                            name: name.clone(),
                            tail: tail.clone(),
                        });
                    } else {
                        out.push(Line::Fixed(format!(
                            "# left out, not a host name: {}",
                            text::comment_text(name)
                        )));
                    }
                }
            }
        }
    }
    out
}

/// The `iptables-restore --noflush` input of one family.
fn payload(x: &Export, family: Family) -> Vec<Line> {
    let strict = x.options.egress == Egress::Strict;
    let icmp = match family {
        Family::V4 => "icmp",
        Family::V6 => "ipv6-icmp",
    };
    let fixed = |s: String| Line::Fixed(s);
    let mut v = vec![
        fixed("*filter".into()),
        fixed(format!(":{CHAIN_IN} - [0:0]")),
        fixed(format!(":{CHAIN_OUT} - [0:0]")),
        fixed(format!("-A {CHAIN_IN} -i lo -j ACCEPT")),
        fixed(format!(
            "-A {CHAIN_IN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
        )),
        fixed(format!(
            "-A {CHAIN_IN} -m conntrack --ctstate INVALID -j DROP"
        )),
        fixed(match family {
            Family::V4 => "# ICMP errors and echo".to_string(),
            Family::V6 => {
                "# ICMPv6: neighbour discovery and path MTU discovery need it".to_string()
            }
        }),
        fixed(format!("-A {CHAIN_IN} -p {icmp} -j ACCEPT")),
    ];
    for r in ordered(x.inbound()) {
        v.extend(rule_lines(x, family, r));
    }
    v.push(fixed(format!("-A {CHAIN_IN} -j DROP")));
    if strict {
        v.push(fixed(format!("-A {CHAIN_OUT} -o lo -j ACCEPT")));
        v.push(fixed(format!(
            "-A {CHAIN_OUT} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
        )));
        v.push(fixed(format!(
            "-A {CHAIN_OUT} -m conntrack --ctstate INVALID -j DROP"
        )));
        v.push(fixed(format!("-A {CHAIN_OUT} -p {icmp} -j ACCEPT")));
        for r in ordered(x.outbound()) {
            v.extend(rule_lines(x, family, r));
        }
        v.push(fixed(format!("-A {CHAIN_OUT} -j DROP")));
    } else {
        v.push(fixed(format!(
            "# egress open: {CHAIN_OUT} stays empty. Derived outbound rules, for reference:"
        )));
        v.extend(
            x.outbound()
                .iter()
                .map(|r| fixed(format!("#   {}", summary(x, r)))),
        );
    }
    v.push(fixed("COMMIT".into()));
    v
}

/// The bash function that prints one family's payload: quoted here-documents, so nothing in them is
/// expanded, and `dns_rules` calls for host names.
fn payload_function(x: &Export, family: Family) -> Vec<String> {
    let mut out = vec![format!("payload_v{}() {{", family.digit())];
    let mut open = false;
    for line in payload(x, family) {
        match line {
            Line::Fixed(s) => {
                if !open {
                    out.push("    cat <<'FWTOPO_END'".into());
                    open = true;
                }
                out.push(s);
            }
            Line::Dns {
                family,
                chain,
                flag,
                name,
                tail,
            } => {
                if open {
                    out.push("FWTOPO_END".into());
                    open = false;
                }
                out.push(format!(
                    "    dns_rules {} {chain} {flag} {} {}",
                    family.digit(),
                    text::sh_quote(&name),
                    text::sh_quote(&tail)
                ));
            }
        }
    }
    if open {
        out.push("FWTOPO_END".into());
    }
    out.push("}".into());
    out
}

/// The `#` header lines.
fn header_lines(x: &Export) -> Vec<String> {
    let file = file_name(&x.node().name, Target::Iptables);
    let apply = [
        format!("bash {file} --test          check both payloads with iptables-restore/ip6tables-restore --test"),
        format!("bash {file}                 apply: refill {CHAIN_IN}/{CHAIN_OUT}, one jump each from INPUT/OUTPUT"),
        "  (running it again gives the same rules; chains other than ours are never flushed)".to_string(),
        format!("bash {file} --safe [SECONDS] iptables-apply style: save the current rules, apply, and restore the"),
        format!("  saved rules unless you type yes within SECONDS (default {CONFIRM_SECONDS}); survives a dropped ssh session,"),
        "  and a detached timer restores them even if this shell is killed. Automation: FWTOPO_CONFIRM_FILE=FILE".to_string(),
        "  confirms by creating FILE (from a NEW session) instead of typing yes; FILE.waiting appears once the rules are live".to_string(),
        format!("bash {file} --payload v4|v6 print the iptables-restore input"),
        "at boot: iptables-save > /etc/iptables/rules.v4; ip6tables-save > /etc/iptables/rules.v6 (netfilter-persistent)".to_string(),
    ];
    let rollback = [format!(
        "bash {file} --remove        delete our jumps and chains (both families), nothing else"
    )];
    let apply: Vec<&str> = apply.iter().map(String::as_str).collect();
    let rollback: Vec<&str> = rollback.iter().map(String::as_str).collect();
    let mut h = header(x, Target::Iptables, &apply, &rollback);
    h.push(format!(
        "inbound: {CHAIN_IN} ends in DROP (the builtin INPUT policy is left as it is)."
    ));
    if x.options.egress == Egress::Strict {
        h.push(format!(
            "outbound: {CHAIN_OUT} ends in DROP (the builtin OUTPUT policy is left as it is)."
        ));
    }
    let dns = x.dns_peers();
    let filtered_dns = x.inbound().iter().any(|r| matches!(r.peers, Peers::Dns(_)))
        || (x.options.egress == Egress::Strict
            && x.outbound()
                .iter()
                .any(|r| matches!(r.peers, Peers::Dns(_))));
    if filtered_dns {
        h.push(format!(
            "WARNING host-name peers ({}) are resolved with getent when this script runs: the rules hold the",
            text::comment_text(&dns.join(" "))
        ));
        h.push("  addresses of that moment. Run the script again when they change; a name that resolves to nothing".into());
        h.push("  adds no rule (its traffic stays dropped, never opened to any). Or pin the addresses in the topology.".into());
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

/// The fixed part of the script: helpers and the command line.
const BODY: &str = r#"set -euo pipefail

warn() { printf 'fwtopo: warning: %s\n' "$*" >&2 || :; }

# The addresses NAME has right now in family 4 or 6, one a line (IPv4-mapped IPv6 answers left out).
resolve() {
    local re
    if [ "$1" = 4 ]; then re='^[0-9]{1,3}(\.[0-9]{1,3}){3}$'; else re='^[0-9A-Fa-f]*:[0-9A-Fa-f:]*$'; fi
    { getent "ahostsv$1" "$2" 2>/dev/null || :; } | awk '{print $1}' | { grep -E "$re" || :; } | sort -u
}

# dns_rules FAMILY CHAIN -s|-d NAME TAIL: one rule per address NAME has now; none when it has none.
dns_rules() {
    local addrs a
    addrs=$(resolve "$1" "$4")
    if [ -z "$addrs" ]; then
        warn "$4 has no IPv$1 address now: its IPv$1 rule is left out (run this script again later)"
        return 0
    fi
    warn "$4 resolved now to" $addrs "(run this script again when that changes)"
    for a in $addrs; do printf -- '-A %s %s %s %s\n' "$2" "$3" "$a" "$5"; done
}

need() {
    local t
    for t in iptables ip6tables iptables-restore ip6tables-restore iptables-save ip6tables-save; do
        command -v "$t" >/dev/null 2>&1 || { echo "fwtopo: $t not found (install iptables)" >&2; exit 1; }
    done
}

# Both payloads, built once and checked by the tools before anything changes.
prepare() {
    V4=$(payload_v4)
    V6=$(payload_v6)
    printf '%s\n' "$V4" | iptables-restore -w --test || { echo "fwtopo: IPv4 payload rejected; nothing changed" >&2; exit 1; }
    printf '%s\n' "$V6" | ip6tables-restore -w --test || { echo "fwtopo: IPv6 payload rejected; nothing changed" >&2; exit 1; }
}

# Refills our chains (--noflush: no other chain is touched) and hooks each once.
apply() {
    local t
    printf '%s\n' "$V4" | iptables-restore -w --noflush || return 1
    printf '%s\n' "$V6" | ip6tables-restore -w --noflush || return 1
    for t in iptables ip6tables; do
        "$t" -w -C INPUT -j FWTOPO-IN 2>/dev/null || "$t" -w -I INPUT 1 -j FWTOPO-IN || return 1
        "$t" -w -C OUTPUT -j FWTOPO-OUT 2>/dev/null || "$t" -w -I OUTPUT 1 -j FWTOPO-OUT || return 1
    done
}

# Deletes our jumps and chains, and nothing else.
remove() {
    local t c
    for t in iptables ip6tables; do
        while "$t" -w -D INPUT -j FWTOPO-IN 2>/dev/null; do :; done
        while "$t" -w -D OUTPUT -j FWTOPO-OUT 2>/dev/null; do :; done
        for c in FWTOPO-IN FWTOPO-OUT; do
            "$t" -w -F "$c" 2>/dev/null || :
            "$t" -w -X "$c" 2>/dev/null || :
        done
    done
}

# Puts back the filter tables saved in DIR (our chains go when the saved table had none).
rollback() {
    local ok=0
    remove
    sed -n '/^\*filter/,/^COMMIT/p' "$1/v4" > "$1/v4.filter"
    sed -n '/^\*filter/,/^COMMIT/p' "$1/v6" > "$1/v6.filter"
    if [ -s "$1/v4.filter" ]; then iptables-restore -w < "$1/v4.filter" || ok=1; fi
    if [ -s "$1/v6.filter" ]; then ip6tables-restore -w < "$1/v6.filter" || ok=1; fi
    return "$ok"
}

# iptables-apply style: save, apply, keep only what is confirmed in time.
safe() {
    local secs=$1 dir ans=
    # A confirmation left from an earlier run must not confirm this one.
    [ -z "${FWTOPO_CONFIRM_FILE:-}" ] || rm -f "$FWTOPO_CONFIRM_FILE" "$FWTOPO_CONFIRM_FILE.waiting"
    dir=$(mktemp -d "${TMPDIR:-/tmp}/fwtopo-rollback.XXXXXX")
    if ! { iptables-save > "$dir/v4" && ip6tables-save > "$dir/v6"; }; then
        echo "fwtopo: could not save the current rules; nothing changed" >&2
        exit 1
    fi
    # A dropped ssh session (hang-up, broken pipe) must not stop the rollback.
    trap '' HUP PIPE
    # And if this shell dies anyway (kill -9, an OOM kill), a timer outside it restores the saved
    # rules a little after the deadline, unless the answer came: the answer removes DIR.
    if [ -f "$0" ]; then
        setsid -f bash "$0" --rollback-after "$((secs + 5))" "$dir" </dev/null >/dev/null 2>&1
    else
        echo "fwtopo: not run from a file: no rollback timer if this shell is killed" >&2
    fi
    if ! apply; then
        rollback "$dir" || :
        rm -rf "$dir"
        echo "fwtopo: apply failed; the saved rules are back" >&2 || :
        exit 1
    fi
    if [ -n "${FWTOPO_CONFIRM_FILE:-}" ]; then
        # Automation: the answer is a file made from a new session; the marker says we wait.
        echo "fwtopo: new rules active. Waiting up to $secs seconds for $FWTOPO_CONFIRM_FILE (made from a NEW session)" >&2 || :
        : > "$FWTOPO_CONFIRM_FILE.waiting"
        for _ in $(seq 1 $((secs * 5))); do [ -e "$FWTOPO_CONFIRM_FILE" ] && break; sleep 0.2; done
        [ ! -e "$FWTOPO_CONFIRM_FILE" ] || ans=yes
        rm -f "$FWTOPO_CONFIRM_FILE" "$FWTOPO_CONFIRM_FILE.waiting"
    else
        printf 'fwtopo: new rules active. Type yes within %s seconds to keep them; anything else restores the saved rules: ' "$secs" >&2 || :
        read -r -t "$secs" ans || :
    fi
    if [ "$ans" = yes ]; then
        rm -rf "$dir"
        echo "fwtopo: kept" >&2 || :
    else
        if rollback "$dir"; then
            rm -rf "$dir"
            echo "fwtopo: not confirmed; the saved rules are back" >&2 || :
        else
            echo "fwtopo: not confirmed; restoring failed, saved rules are in $dir" >&2 || :
        fi
        exit 3
    fi
}

usage() {
    echo "usage: bash $0 [--test | --safe [SECONDS] | --payload v4|v6 | --remove]" >&2
}

case "${1:-}" in
    "")
        need
        prepare
        apply
        ;;
    --test)
        need
        prepare
        echo "fwtopo: both payloads pass iptables-restore --test; nothing changed" >&2
        ;;
    --safe)
        secs=${2:-__SECONDS__}
        case "$secs" in '' | *[!0-9]*) usage; exit 2 ;; esac
        need
        prepare
        safe "$secs"
        ;;
    --rollback-after)
        # The detached timer of --safe: DIR still there after SECONDS means nobody answered.
        case "${2:-}" in '' | *[!0-9]*) usage; exit 2 ;; esac
        sleep "$2"
        if [ -d "${3:-}" ] && [ -s "$3/v4" ]; then
            rollback "$3" && rm -rf "$3"
            echo "fwtopo: the session died unconfirmed; the saved rules are back" >&2 || :
        fi
        ;;
    --payload)
        case "${2:-}" in
            v4) payload_v4 ;;
            v6) payload_v6 ;;
            *) usage; exit 2 ;;
        esac
        ;;
    --remove)
        need
        remove
        ;;
    *)
        usage
        exit 2
        ;;
esac
"#;

/// The whole bash script for one node: header, payload functions (bash defines them before the
/// command line at the end runs), helpers, command line.
pub fn render(x: &Export) -> String {
    let mut script = vec!["#!/bin/bash".to_string()];
    script.extend(
        header_lines(x)
            .into_iter()
            .map(|l| format!("# {l}").trim_end().to_string()),
    );
    script.push(String::new());
    script.push(
        "# The iptables-restore input of each family (quoted here-documents: nothing is expanded)."
            .into(),
    );
    script.extend(payload_function(x, Family::V4));
    script.push(String::new());
    script.extend(payload_function(x, Family::V6));
    script.push(String::new());
    let mut s = script.join("\n");
    s.push('\n');
    s.push_str(&BODY.replace("__SECONDS__", &CONFIRM_SECONDS.to_string()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::engine::{NodePlan, Plan};
    use crate::export::Options;
    use crate::ports::{PortRange, Protocol};
    use crate::topology::{Node, Os, Topology};

    fn rule(direction: Direction, ports: Vec<PortRange>, peers: Peers) -> Rule {
        Rule {
            direction,
            protocol: Protocol::Tcp,
            ports: PortSet::from_ranges(ports),
            peers,
            provenance: vec![],
            tags: vec![],
        }
    }

    fn render_rules(inbound: Vec<Rule>, outbound: Vec<Rule>, egress: Egress) -> String {
        let catalog = Catalog::embedded().expect("catalog");
        let topology = Topology {
            name: "t".into(),
            nodes: vec![Node::new("n1", Os::Ubuntu)],
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

    /// The `-A` lines of one payload function.
    fn payload_lines(script: &str, family: &str) -> Vec<String> {
        let start = format!("payload_{family}() {{");
        script
            .lines()
            .skip_while(|l| *l != start)
            .take_while(|l| *l != "}")
            .filter(|l| l.starts_with("-A ") || l.contains("dns_rules"))
            .map(String::from)
            .collect()
    }

    #[test]
    fn multiport_lists_hold_at_most_fifteen_ports() {
        // 20 single ports and 4 ranges: 28 slots, so two multiport rules.
        let mut ports: Vec<PortRange> = (1..=20)
            .filter_map(|p| PortRange::single(p * 100))
            .collect();
        ports.extend(
            [(3000, 3010), (4000, 4010), (5000, 5010), (6000, 6010)]
                .iter()
                .filter_map(|&(a, b)| PortRange::new(a, b)),
        );
        let out = render_rules(
            vec![rule(Direction::Inbound, ports, Peers::Any)],
            vec![],
            Egress::Open,
        );
        let lines: Vec<String> = payload_lines(&out, "v4")
            .into_iter()
            .filter(|l| l.contains("multiport"))
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        for l in &lines {
            let list = l
                .split("--dports ")
                .nth(1)
                .and_then(|s| s.split(' ').next())
                .expect("dports");
            let weight: usize = list
                .split(',')
                .map(|p| if p.contains(':') { 2 } else { 1 })
                .sum();
            assert!(weight <= MULTIPORT_MAX, "{l}");
        }
    }

    #[test]
    fn families_never_mix_and_addresses_are_chunked() {
        let v4: Vec<ipnet::Ipv4Net> = (1..=20)
            .map(|i| format!("192.0.2.{i}/32").parse().expect("net"))
            .collect();
        let v6 = Peers::V6(vec!["2001:db8::/32".parse().expect("net")]);
        let out = render_rules(
            vec![
                rule(
                    Direction::Inbound,
                    vec![PortRange::single(22).expect("port")],
                    Peers::V4(v4),
                ),
                rule(
                    Direction::Inbound,
                    vec![PortRange::single(80).expect("port")],
                    v6,
                ),
            ],
            vec![],
            Egress::Open,
        );
        let l4 = payload_lines(&out, "v4");
        let l6 = payload_lines(&out, "v6");
        assert_eq!(
            l4.iter().filter(|l| l.contains("--dport 22")).count(),
            2,
            "{l4:?}"
        );
        assert!(!l4.iter().any(|l| l.contains("2001:db8")), "{l4:?}");
        assert!(!l6.iter().any(|l| l.contains("192.0.2.")), "{l6:?}");
        assert!(
            l6.iter()
                .any(|l| l.contains("-s 2001:db8::/32 -p tcp -m tcp --dport 80 ")),
            "{l6:?}"
        );
        // Open egress: our outbound chain holds nothing.
        assert!(!l4.iter().any(|l| l.starts_with("-A FWTOPO-OUT")), "{l4:?}");
    }

    #[test]
    fn host_names_are_resolved_by_the_script() {
        let dns = Peers::Dns(vec!["my.mailstore.com".into()]);
        let out = render_rules(
            vec![],
            vec![rule(
                Direction::Outbound,
                vec![PortRange::single(443).expect("port")],
                dns,
            )],
            Egress::Strict,
        );
        let l4 = payload_lines(&out, "v4");
        assert!(
            l4.iter().any(|l| l.starts_with(
                "    dns_rules 4 FWTOPO-OUT -d 'my.mailstore.com' '-p tcp -m tcp --dport 443 "
            )),
            "{l4:?}"
        );
        assert!(
            !l4.iter()
                .any(|l| l.starts_with("-A") && l.contains("--dport 443")),
            "{l4:?}"
        );
        assert!(
            payload_lines(&out, "v6")
                .iter()
                .any(|l| l.contains("dns_rules 6 FWTOPO-OUT"))
        );
    }
}

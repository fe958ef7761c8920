//! CSF (ConfigServer Security & Firewall) export: a bash script that sets the port lists in
//! `csf.conf`, writes our own `/etc/csf/fwtopo.allow` and `fwtopo.dyndns` (each included once from
//! `csf.allow` and `csf.dyndns`), then runs `csf -r`.
//!
//! Why this shape (domain.md §2.7): `TCP_IN`/`UDP_IN` (and the `6` twins) open ports to everyone,
//! so only any-peer ports go there; a peer-restricted port must be an advanced filter
//! `proto|in|d=PORT|s=ADDR` in `csf.allow` (a plain address line would allow all ports). One port
//! or `_` range per line keeps clear of the 15-port multiport limit. CSF filters egress itself:
//! `--egress open` sets the `*_OUT` lists to all ports; strict lists only the derived any-peer
//! ports and writes `|out|` filters for the rest. Host-name peers go to `fwtopo.dyndns`, which lfd
//! re-resolves every `DYNDNS` seconds, so CSF is the one Linux target that tracks them honestly.

use super::conf_firewall::ConfFirewall;
use super::firewalld::shell::{self, addr, nets, rule_comment};
use super::{Egress, Export};
use crate::engine::{Direction, Rule};
use crate::net::Peers;
use crate::ports::Protocol;
use crate::target::Target;

const CSF: ConfFirewall = ConfFirewall {
    target: Target::Csf,
    product: "CSF",
    dir_var: "CSF_DIR",
    conf: "csf.conf",
    ipv6_off: "IPV6 = \"0\"",
};

/// Lines of `fwtopo.allow` (addresses) and `csf.dyndns` (host names) for one rule.
fn filter_lines(x: &Export, r: &Rule, allow: &mut Vec<String>, dyndns: &mut Vec<String>) {
    let (dir, side) = match r.direction {
        Direction::Inbound => ("in", "s"),
        Direction::Outbound => ("out", "d"),
    };
    let proto = r.protocol.as_str();
    let peers: Vec<String> = match &r.peers {
        Peers::Any => return,
        Peers::Dns(names) => names.clone(),
        p => nets(p).iter().map(addr).collect(),
    };
    let out = if matches!(r.peers, Peers::Dns(_)) {
        dyndns
    } else {
        allow
    };
    out.push(rule_comment(x, r));
    for p in &peers {
        for range in r.ports.ranges() {
            out.push(format!(
                "{proto}|{dir}|d={}|{side}={p}",
                range.format_with("_")
            ));
        }
    }
}

pub fn render(x: &Export) -> String {
    let node = x.node();
    let file = super::file_name(&node.name, Target::Csf);
    let apply = format!(
        "bash {file}   (edits /etc/csf, csf -r, then rolls back unless you type yes in time)"
    );
    let spec = shell::Spec {
        target: Target::Csf,
        apply: &[
            &apply,
            "FWTOPO_ROOT=/mnt/image bash ... writes below that root only (no csf -r, no confirmation)",
            "extra safety net: TESTING = 1 in csf.conf makes cron flush the firewall every TESTING_INTERVAL minutes",
        ],
        rollback: &[
            "bash /var/lib/fwtopo/csf-rollback.sh   (restores csf.conf, csf.allow, csf.dyndns as saved by the last apply)",
            "by hand: csf -f first (with IPV6 = 1 still set, it flushes ip6tables too), then remove the",
            "Include lines of fwtopo.allow and fwtopo.dyndns, restore IPV6 and TCP_IN, TCP_OUT, UDP_IN, UDP_OUT,",
            "TCP6_IN, TCP6_OUT, UDP6_IN, UDP6_OUT in csf.conf, then csf -r (if CSF was running before)",
        ],
        extra_args: &[],
    };
    let strict = x.options.egress == Egress::Strict;
    let inbound = shell::inbound_ordered(x);
    let outbound: Vec<&Rule> = shell::outbound_enforced(x).iter().collect();

    let mut allow = vec![
        format!(
            "# fwtopo: advanced allow filters of node {} (written by fwtopo, replaced by every run: do not edit)",
            node.name
        ),
        "# proto|direction|d=port or a_b range|s= or d=address; management rules first".into(),
    ];
    let mut dyndns = Vec::new();
    for r in inbound.iter().copied().chain(outbound.iter().copied()) {
        filter_lines(x, r, &mut allow, &mut dyndns);
    }

    let mut o = shell::preamble(x, &spec);
    o.extend(shell::safe_apply(Target::Csf));
    o.extend(CSF.locate());
    o.extend(
        [
            "# set_conf KEY VALUE: the KEY = \"VALUE\" line of csf.conf (values are ports and digits only).",
            "set_conf() {",
            "  if grep -qE \"^$1[[:space:]]*=\" \"$CONF\"; then sed -i -E \"s/^$1[[:space:]]*=.*/$1 = \\\"$2\\\"/\" \"$CONF\"",
            "  else printf '%s = \"%s\"\\n' \"$1\" \"$2\" >> \"$CONF\"; fi",
            "}",
            "backup_paths() { local f; for f in csf.conf csf.allow csf.dyndns fwtopo.allow fwtopo.dyndns; do echo \"$CSF_DIR/$f\"; done; }",
        ]
        .map(String::from),
    );
    o.extend(
        CSF.backup(&[
            "printf 'rm -f %q %q\\n' \"$CSF_DIR/fwtopo.allow\" \"$CSF_DIR/fwtopo.dyndns\"",
        ]),
    );

    // Ports open to everyone.
    let tcp_in = shell::any_ports(&inbound, Protocol::Tcp, ":");
    let udp_in = shell::any_ports(&inbound, Protocol::Udp, ":");
    let (tcp_out, udp_out) = if strict {
        (
            shell::any_ports(&outbound, Protocol::Tcp, ":"),
            shell::any_ports(&outbound, Protocol::Udp, ":"),
        )
    } else {
        ("1:65535".to_string(), "1:65535".to_string())
    };
    o.push("say \"setting the port lists in csf.conf (ports open to every address)\"".into());
    o.push("# Peer-restricted ports are NOT here (that would open them to all): see fwtopo.allow below.".into());
    o.extend(shell::ipv6_filtering_on("IPV6"));
    for (k, v) in [
        ("TCP_IN", &tcp_in),
        ("UDP_IN", &udp_in),
        ("TCP6_IN", &tcp_in),
        ("UDP6_IN", &udp_in),
    ] {
        o.push(format!("set_conf {k} '{v}'"));
    }
    if strict {
        o.push("# --egress strict: outbound only to the derived any-peer ports here, the rest as |out| filters.".into());
    } else {
        o.push(
            "# --egress open: CSF filters egress by default, so every outbound port is listed."
                .into(),
        );
    }
    for (k, v) in [
        ("TCP_OUT", &tcp_out),
        ("UDP_OUT", &udp_out),
        ("TCP6_OUT", &tcp_out),
        ("UDP6_OUT", &udp_out),
    ] {
        o.push(format!("set_conf {k} '{v}'"));
    }
    o.push("# The way in: CSF itself accepts loopback, established/related and ICMPv6 neighbour discovery;".into());
    o.push("# ICMP_IN (ping) is left as configured.".into());
    o.push(String::new());

    o.push("# Our own files, rewritten whole; each is included once from the operator's file (csf reads".into());
    o.push(
        "# Include lines in csf.allow and csf.dyndns; no comment may follow the file name).".into(),
    );
    o.push("include_once() {".into());
    o.push("  local f=\"$CSF_DIR/$1\" line=\"Include /etc/csf/$2\"".into());
    o.push("  [ -f \"$f\" ] || : > \"$f\"".into());
    o.push("  grep -qxF \"$line\" \"$f\" && return 0".into());
    o.push("  [ ! -s \"$f\" ] || [ -z \"$(tail -c 1 \"$f\")\" ] || echo >> \"$f\"".into());
    o.push("  echo \"$line\" >> \"$f\"".into());
    o.push("}".into());
    o.push("say \"writing $CSF_DIR/fwtopo.allow\"".into());
    o.push("cat > \"$CSF_DIR/fwtopo.allow.tmp\" <<'FWTOPO_EOF'".into());
    o.extend(allow);
    o.push("FWTOPO_EOF".into());
    o.push("mv -f \"$CSF_DIR/fwtopo.allow.tmp\" \"$CSF_DIR/fwtopo.allow\"".into());
    o.push("include_once csf.allow fwtopo.allow".into());
    o.push(String::new());
    o.push("say \"writing $CSF_DIR/fwtopo.dyndns\"".into());
    o.push("cat > \"$CSF_DIR/fwtopo.dyndns.tmp\" <<'FWTOPO_EOF'".into());
    o.push(format!("# fwtopo: host-name filters of node {} (written by fwtopo, replaced by every run: do not edit)", node.name));
    o.push("# lfd re-resolves these names every DYNDNS seconds.".into());
    o.extend(dyndns.iter().cloned());
    o.push("FWTOPO_EOF".into());
    o.push("mv -f \"$CSF_DIR/fwtopo.dyndns.tmp\" \"$CSF_DIR/fwtopo.dyndns\"".into());
    o.push("include_once csf.dyndns fwtopo.dyndns".into());
    if !dyndns.is_empty() {
        o.push("if grep -qE '^DYNDNS[[:space:]]*=[[:space:]]*\"0\"' \"$CONF\"; then set_conf DYNDNS 300; fi".into());
    }
    o.push("# Note: lfd may still block an address allowed here; list trusted peers in csf.ignore if needed.".into());
    o.push(String::new());
    o.extend(shell::outbound_as_comments(x));
    o.extend(CSF.finish(&[
        "if grep -qE '^TESTING[[:space:]]*=[[:space:]]*\"1\"' \"$CONF\"; then",
        "  say \"note: TESTING = 1: cron flushes this firewall every TESTING_INTERVAL minutes; set TESTING = 0 and csf -r once you are happy\"",
        "fi",
    ]));
    shell::finish(o)
}

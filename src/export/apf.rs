//! APF (Advanced Policy Firewall) export: a bash script that sets the port lists in `conf.apf` and
//! replaces a marked fwtopo block of advanced trust lines in `allow_hosts.rules`, then `apf -r`.
//!
//! Why this shape (domain.md §2.8, APF 2.0.2): `IG_*_CPORTS` open ports to everyone, so only
//! any-peer ports go there (ranges written `a_b`); peer-restricted ports become trust lines
//! `proto:flow:d=PORT:s=ADDR`, one port or range per line (APF validates the field as `^[0-9_]+$`),
//! IPv6 addresses in brackets, protocol and flow always explicit (their defaults changed between
//! versions). Egress is filtered only with `EGF="1"`, which `--egress strict` sets. APF has no
//! host-name rules we can rely on, so host-name peers are resolved when the script runs, with a
//! warning, and refreshed only by running it again.

use super::conf_firewall::ConfFirewall;
use super::firewalld::shell::{self, addr, nets, rule_comment};
use super::{Egress, Export, text};
use crate::engine::{Direction, Rule};
use crate::net::Peers;
use crate::ports::Protocol;
use crate::target::Target;
use ipnet::IpNet;

const APF: ConfFirewall = ConfFirewall {
    target: Target::Apf,
    product: "APF",
    dir_var: "APF_DIR",
    conf: "conf.apf",
    ipv6_off: "USE_IPV6=\"0\"",
};

/// An address in APF's advanced syntax: IPv6 in brackets.
fn apf_addr(n: &IpNet) -> String {
    match n {
        IpNet::V4(_) => addr(n),
        IpNet::V6(_) => format!("[{}]", addr(n)),
    }
}

/// A line of the `trust_block` function: fixed trust text, or a shell line that prints some.
enum Piece {
    Fixed(String),
    Shell(String),
}

/// The pieces for one rule: fixed lines for addresses, shell lines that resolve host names.
fn trust_lines(x: &Export, r: &Rule, out: &mut Vec<Piece>) {
    let (flow, side) = match r.direction {
        Direction::Inbound => ("in", "s"),
        Direction::Outbound => ("out", "d"),
    };
    let proto = r.protocol.as_str();
    match &r.peers {
        Peers::Any => {}
        Peers::Dns(names) => {
            let words = shell::dns_words(names);
            let shown = text::comment_text(&names.join(", "));
            out.push(Piece::Fixed(rule_comment(x, r)));
            out.push(Piece::Fixed(format!(
                "# {shown}: resolved when the script ran; run it again to refresh"
            )));
            out.push(Piece::Shell(format!(
                "A4=$(resolve 4 {words}); A6=$(resolve 6 {words})"
            )));
            out.push(Piece::Shell(format!(
                "[ -n \"$A4$A6\" ] || say \"warning: {shown} resolves to no address now; its rule allows nothing\""
            )));
            for range in r.ports.ranges() {
                let port = range.format_with("_");
                out.push(Piece::Shell(format!(
                    "for a in $A4; do echo \"{proto}:{flow}:d={port}:{side}=$a\"; done"
                )));
                out.push(Piece::Shell(format!(
                    "for a in $A6; do echo \"{proto}:{flow}:d={port}:{side}=[$a]\"; done"
                )));
            }
        }
        p => {
            out.push(Piece::Fixed(rule_comment(x, r)));
            for n in nets(p) {
                for range in r.ports.ranges() {
                    out.push(Piece::Fixed(format!(
                        "{proto}:{flow}:d={}:{side}={}",
                        range.format_with("_"),
                        apf_addr(&n)
                    )));
                }
            }
        }
    }
}

/// The body of `trust_block`: runs of fixed lines as one quoted heredoc, shell lines indented.
fn trust_body(pieces: Vec<Piece>) -> Vec<String> {
    let mut out = Vec::new();
    let mut open = false;
    for p in pieces {
        match p {
            Piece::Fixed(l) => {
                if !open {
                    out.push("  cat <<'FWTOPO_EOF'".into());
                    open = true;
                }
                out.push(l);
            }
            Piece::Shell(l) => {
                if open {
                    out.push("FWTOPO_EOF".into());
                    open = false;
                }
                out.push(format!("  {l}"));
            }
        }
    }
    if open {
        out.push("FWTOPO_EOF".into());
    }
    out
}

pub fn render(x: &Export) -> String {
    let node = x.node();
    let file = super::file_name(&node.name, Target::Apf);
    let apply = format!(
        "bash {file}   (edits /etc/apf, apf -r, then rolls back unless you type yes in time)"
    );
    let spec = shell::Spec {
        target: Target::Apf,
        apply: &[
            &apply,
            "FWTOPO_ROOT=/mnt/image bash ... writes below that root only (no apf -r, no confirmation)",
            "extra safety net: DEVEL_MODE=1 in conf.apf flushes the firewall every 5 minutes until set to 0",
        ],
        rollback: &[
            "bash /var/lib/fwtopo/apf-rollback.sh   (restores conf.apf and allow_hosts.rules as saved by the last apply)",
            "by hand: apf -f first (with USE_IPV6=1 still set, it flushes ip6tables too), then delete the",
            "fwtopo block of allow_hosts.rules, restore USE_IPV6, EGF, IG_TCP_CPORTS, IG_UDP_CPORTS,",
            "EG_TCP_CPORTS, EG_UDP_CPORTS in conf.apf, then apf -s (if APF was running before)",
        ],
        extra_args: &[],
    };
    let strict = x.options.egress == Egress::Strict;
    let inbound = shell::inbound_ordered(x);
    let outbound: Vec<&Rule> = shell::outbound_enforced(x).iter().collect();

    let mut o = shell::preamble(x, &spec);
    o.extend(shell::safe_apply(Target::Apf));
    // Whether the node has IPv6 rules: an IPv6 address of its own, or IPv6 peers.
    o.push(format!("V6_RULES={}", u8::from(shell::needs_v6(x))));
    o.extend(shell::resolve_fn());
    o.extend(shell::replace_block_fn());
    o.extend(APF.locate());
    o.extend(
        [
            "# APF before 2.0.1 knows no IPv6: port lists and trust lines go to iptables only, and it does",
            "# not understand [2001:db8::1]. Its version, from its own files (9.x: the 0.9 series' name).",
            "APF_VERSION=$( { sed -n 's/^version: *//p' \"$APF_DIR/VERSION\"; sed -n 's/^VER=\"\\([^\"]*\\)\".*/\\1/p' \"$APF_DIR/internals/internals.conf\" \"$APF_DIR/apf\"; } 2>/dev/null | head -n 1 | tr -cd '0-9A-Za-z._-' || true)",
            "if [ -z \"$APF_VERSION\" ]; then",
            "  say \"warning: cannot tell the APF version: IPv6 filtering needs APF 2.0.1 or later\"",
            "elif [[ $APF_VERSION == 9.* ]] || [ \"$(printf '%s\\n' 2.0.1 \"$APF_VERSION\" | sort -V | head -n 1)\" != 2.0.1 ]; then",
            "  if [ \"$V6_RULES\" = 1 ]; then",
            "    die \"APF $APF_VERSION cannot hold this node's IPv6 rules (they need APF 2.0.1 or later): nothing was changed\"",
            "  fi",
            "  say \"warning: APF $APF_VERSION filters no IPv6 (2.0.1 or later does): every IPv6 port of this node stays open\"",
            "fi",
            "# set_conf KEY VALUE: the KEY=\"VALUE\" line of conf.apf (values are ports and digits only).",
            "set_conf() {",
            "  if grep -qE \"^$1=\" \"$CONF\"; then sed -i -E \"s/^$1=.*/$1=\\\"$2\\\"/\" \"$CONF\"",
            "  else printf '%s=\"%s\"\\n' \"$1\" \"$2\" >> \"$CONF\"; fi",
            "}",
            "backup_paths() { printf '%s\\n' \"$CONF\" \"$APF_DIR/allow_hosts.rules\"; }",
        ]
        .map(String::from),
    );
    o.extend(APF.backup(&[]));

    o.push("say \"setting the port lists in conf.apf (ports open to every address)\"".into());
    o.push("# Peer-restricted ports are NOT here (that would open them to all): see the trust lines below.".into());
    o.extend(shell::ipv6_filtering_on("USE_IPV6"));
    o.push(format!(
        "set_conf IG_TCP_CPORTS '{}'",
        shell::any_ports(&inbound, Protocol::Tcp, "_")
    ));
    o.push(format!(
        "set_conf IG_UDP_CPORTS '{}'",
        shell::any_ports(&inbound, Protocol::Udp, "_")
    ));
    if strict {
        o.push("# --egress strict: egress filtering on, outbound only to these ports and the out trust lines.".into());
        o.push("set_conf EGF 1".into());
        o.push(format!(
            "set_conf EG_TCP_CPORTS '{}'",
            shell::any_ports(&outbound, Protocol::Tcp, "_")
        ));
        o.push(format!(
            "set_conf EG_UDP_CPORTS '{}'",
            shell::any_ports(&outbound, Protocol::Udp, "_")
        ));
    } else {
        o.push(
            "# --egress open: egress filtering off (EG_* lists are then ignored by APF).".into(),
        );
        o.push("set_conf EGF 0".into());
    }
    o.push("# The way in: APF itself accepts loopback and established/related; ICMP per IG_ICMP_TYPES.".into());
    o.extend(
        [
            "# APF's own defaults, beyond the design, left as conf.apf has them:",
            "#   TCR_PASS=\"1\" accepts udp 33434-33534 (traceroute) from everyone;",
            "#   BLK_PORTS (135_139,111,513,520,445,1433,1434,1234,1524,3127 as shipped) drops those ports",
            "#   in and out, even with egress open;",
            "#   with EGF=\"1\" (strict egress) it accepts replies only to ports 1024-65535.",
        ]
        .map(String::from),
    );
    o.push(String::new());

    o.push("say \"writing the fwtopo block of allow_hosts.rules (management first)\"".into());
    o.push("trust_block() {".into());
    let mut body = vec![Piece::Fixed(format!(
        "# advanced trust lines of node {}: proto:flow:d=port:s= or d=address",
        node.name
    ))];
    for r in inbound.iter().copied().chain(outbound.iter().copied()) {
        trust_lines(x, r, &mut body);
    }
    o.extend(trust_body(body));
    o.push("}".into());
    o.push("trust_block | replace_block \"$APF_DIR/allow_hosts.rules\"".into());
    o.push(String::new());
    o.extend(shell::outbound_as_comments(x));
    o.extend(APF.finish(&[
        "if grep -qE '^DEVEL_MODE=\"1\"' \"$CONF\"; then",
        "  say \"note: DEVEL_MODE=1: APF flushes this firewall every 5 minutes; set DEVEL_MODE=0 and apf -r once you are happy\"",
        "fi",
    ]));
    shell::finish(o)
}

//! ufw export: a bash script of `ufw` rules tagged `comment 'fwtopo'`.
//!
//! Why this shape (domain.md §2.6, tested with ufw 0.36.2): ufw takes one source per rule, no
//! address ranges or host names, at most 15 ports per rule (a range counts 2) and needs `proto` for
//! lists and ranges. Every rule is written in the exact form `ufw show added` prints it back, so a
//! re-run can tell our current rules from stale ones: it adds every rule (ufw skips existing ones),
//! and only then deletes tagged rules that are no longer wanted, so the management rules never
//! disappear, not even for a moment. Running it twice leaves the rule files byte-identical.

use super::firewalld::shell::{self, addr, nets, rule_comment};
use super::{Egress, Export, text};
use crate::engine::Rule;
use crate::net::Peers;
use crate::target::Target;

/// ufw's multiport limit: 15 ports, a range counting 2 ("Bad port" beyond).
const MAX_PORTS: usize = 15;

/// `add` lines for one rule (arguments before the comment, in `ufw show added` form); `first`:
/// `add_first` lines (ufw prepend) in reverse order, so the rule's lines end up on top in order.
fn rule_lines(x: &Export, r: &Rule, first: bool) -> Vec<String> {
    let mut out = vec![rule_comment(x, r)];
    let verb = if first { "add_first" } else { "add" };
    let proto = r.protocol.as_str();
    let out_word = match r.direction {
        crate::engine::Direction::Inbound => "",
        crate::engine::Direction::Outbound => "out ",
    };
    let chunks: Vec<String> = text::chunk_ports(&r.ports, MAX_PORTS, 2)
        .iter()
        .map(|c| text::ports(c, ":", ","))
        .collect();
    match &r.peers {
        Peers::Any => {
            let mut lines: Vec<String> = chunks
                .iter()
                .map(|c| format!("{verb} allow {out_word}{c}/{proto}"))
                .collect();
            if first {
                lines.reverse();
            }
            out.extend(lines);
        }
        Peers::V4(_) | Peers::V6(_) => {
            let mut lines = Vec::new();
            for n in nets(&r.peers) {
                for c in &chunks {
                    lines.push(peer_rule(verb, out_word, &addr(&n), c, proto));
                }
            }
            if first {
                lines.reverse();
            }
            out.extend(lines);
        }
        Peers::Dns(names) => {
            let words = shell::dns_words(names);
            out.push(format!("A=$(resolve 4 {words}; resolve 6 {words})"));
            out.push(format!(
                "[ -n \"$A\" ] || say \"warning: {} resolves to no address now; its rule allows nothing\"",
                text::comment_text(&names.join(", "))
            ));
            out.push("for a in $A; do".into());
            for c in &chunks {
                out.push(format!(
                    "  {}",
                    peer_rule(verb, out_word, "\"$a\"", c, proto)
                ));
            }
            out.push("done".into());
        }
    }
    out
}

/// One peer-restricted rule: `allow from P to any port …` in, `allow out to P port …` out.
fn peer_rule(verb: &str, out_word: &str, peer: &str, ports: &str, proto: &str) -> String {
    if out_word.is_empty() {
        format!("{verb} allow from {peer} to any port {ports} proto {proto}")
    } else {
        format!("{verb} allow out to {peer} port {ports} proto {proto}")
    }
}

pub fn render(x: &Export) -> String {
    let node = x.node();
    let file = super::file_name(&node.name, Target::Ufw);
    let apply = format!(
        "bash {file}   (adds the rules, enables ufw, then rolls back unless you type yes in time)"
    );
    let out_policy = match x.options.egress {
        Egress::Strict => {
            "ufw default allow outgoing (this export set deny), ufw default deny incoming as before,"
        }
        Egress::Open => {
            "the default policies as before (this export sets deny incoming, allow outgoing),"
        }
    };
    let spec = shell::Spec {
        target: Target::Ufw,
        apply: &[
            &apply,
            "our rules carry the comment fwtopo; other ufw rules are left alone",
        ],
        rollback: &[
            "bash /var/lib/fwtopo/ufw-rollback.sh   (restores the ufw files saved by the last apply)",
            "by hand: ufw show added, then ufw delete each rule that ends in comment fwtopo;",
            out_policy,
            "and ufw disable if ufw was off before",
        ],
        extra_args: &[(
            "--remove-untagged",
            "REMOVE_UNTAGGED=0",
            "also delete the ufw rules fwtopo did not write (default: list them)",
        )],
    };
    let mut o = shell::preamble(x, &spec);
    o.extend(shell::safe_apply(Target::Ufw));
    o.extend(shell::resolve_fn());
    let strict = x.options.egress == Egress::Strict;
    o.extend(
        [
            "# --- ufw ---",
            "command -v ufw >/dev/null || die \"ufw not found: apt-get install ufw\"",
            "backup_paths() { printf '%s\\n' /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf /etc/default/ufw; }",
            "rollback_body() {",
            "  echo 'tar -xPf \"$BACKUP\"'",
            "  echo 'if grep -q \"^ENABLED=yes\" /etc/ufw/ufw.conf; then ufw reload; else ufw disable; fi'",
            "}",
            "safe_begin",
            "",
            "# Every rule we want, as `ufw show added` prints it; add() records it and adds it (ufw skips",
            "# a rule it already has), add_first() prepends it (management rules stay on top after an edit).",
            "# An identical rule of the operator's (no comment, or one of its own) stays theirs: ufw would",
            "# re-tag it fwtopo, and a later run that no longer wants it would delete it.",
            "BEFORE=$(ufw show added)",
            "WANT=()",
            "KEPT=()",
            "theirs() {",
            "  local l",
            "  while IFS= read -r l; do",
            "    if [ \"$l\" = \"$1\" ] || { [[ $l == \"$1 comment '\"* ]] && [ \"$l\" != \"$1 comment 'fwtopo'\" ]; }; then KEPT+=(\"$l\"); return 0; fi",
            "  done <<< \"$BEFORE\"",
            "  return 1",
            "}",
            "add() { theirs \"ufw $*\" && return 0; WANT+=(\"ufw $* comment 'fwtopo'\"); ufw \"$@\" comment fwtopo >/dev/null; }",
            "add_first() { theirs \"ufw $*\" && return 0; WANT+=(\"ufw $* comment 'fwtopo'\"); ufw prepend \"$@\" comment fwtopo >/dev/null; }",
            "# printable TEXT: what ufw printed, without control characters, for a message.",
            "printable() { printf '%s' \"$1\" | tr -cd '[:print:]'; }",
            "",
        ]
        .map(String::from),
    );
    if shell::needs_v6(x) {
        o.extend(
            [
                "# IPv6 rules need IPV6=yes (ufw enable below reloads with it).",
                "if ! grep -q '^IPV6=yes$' /etc/default/ufw; then",
                "  if grep -q '^IPV6=' /etc/default/ufw; then sed -i 's/^IPV6=.*/IPV6=yes/' /etc/default/ufw; else echo IPV6=yes >> /etc/default/ufw; fi",
                "fi",
                "",
            ]
            .map(String::from),
        );
    }
    o.push("say \"adding rules (management first)\"".into());
    o.push("# The way in: ufw's before.rules accept loopback, established/related, ICMP and the ICMPv6".into());
    o.push("# that neighbour discovery needs, ahead of these rules. They also accept, beyond the design:".into());
    o.push("# DHCP replies (udp 67 to 68), mDNS (udp 5353 to 224.0.0.251, ff02::fb) and SSDP (udp 1900".into());
    o.push("# to 239.255.255.250, ff02::f); edit /etc/ufw/before.rules and before6.rules to drop them.".into());
    let (mgmt, rest): (Vec<&Rule>, Vec<&Rule>) =
        x.inbound().iter().partition(|r| r.is_management());
    if !mgmt.is_empty() {
        o.push(
            "# Management: prepended, last first, so these are the first rules in this order."
                .into(),
        );
    }
    for r in mgmt.iter().rev() {
        o.extend(rule_lines(x, r, true));
    }
    for r in rest {
        o.extend(rule_lines(x, r, false));
    }
    if strict {
        o.push(String::new());
        o.push("# Outbound (--egress strict): only these; ufw's before.rules accept loopback and established.".into());
        for r in x.outbound() {
            o.extend(rule_lines(x, r, false));
        }
    }
    o.push(String::new());
    o.extend(shell::outbound_as_comments(x));
    o.extend(
        [
            "say \"removing tagged rules that are no longer wanted\"",
            "STALE=$(ufw show added | sed -n \"s/^\\(ufw .*\\) comment 'fwtopo'\\$/\\1/p\")",
            "while IFS= read -r r; do",
            "  [ -n \"$r\" ] || continue",
            "  for w in ${WANT[@]+\"${WANT[@]}\"}; do [ \"$w\" != \"$r comment 'fwtopo'\" ] || continue 2; done",
            "  # Only plain words: never evaluate what ufw printed.",
            "  [[ $r =~ ^ufw\\ [a-z]+(\\ [A-Za-z0-9./:,_-]+)*$ ]] || { say \"warning: leaving odd tagged rule: $r\"; continue; }",
            "  say \"deleting stale rule: $r\"",
            "  read -r -a words <<< \"${r#ufw }\"",
            "  ufw delete \"${words[@]}\" >/dev/null",
            "done <<< \"$STALE\"",
            "",
            "# Rules fwtopo did not write may allow more than the design: listed, or deleted on request.",
            "while IFS= read -r r; do",
            "  case \"$r\" in \"ufw \"*) ;; *) continue ;; esac",
            "  case \"$r\" in *\" comment 'fwtopo'\") continue ;; esac",
            "  for k in ${KEPT[@]+\"${KEPT[@]}\"}; do [ \"$k\" != \"$r\" ] || continue 2; done",
            "  plain=${r% comment \\'*}",
            "  if [ \"$REMOVE_UNTAGGED\" = 1 ] && [[ $plain =~ ^ufw\\ [a-z]+(\\ [A-Za-z0-9./:,_-]+)*$ ]]; then",
            "    say \"deleting a rule fwtopo did not write: $(printable \"$r\")\"",
            "    read -r -a words <<< \"${plain#ufw }\"",
            "    # A forwarding rule is deleted as `ufw route delete ...`, not `ufw delete route ...`.",
            "    if [ \"${words[0]}\" = route ]; then ufw route delete \"${words[@]:1}\" >/dev/null; else ufw delete \"${words[@]}\" >/dev/null; fi",
            "  else",
            "    say \"warning: a rule fwtopo did not write stays, and may allow more than the design (--remove-untagged deletes it): $(printable \"$r\")\"",
            "  fi",
            "done < <(ufw show added)",
            "",
            "say \"default policies and enable\"",
            "ufw default deny incoming >/dev/null",
        ]
        .map(String::from),
    );
    o.push(format!(
        "ufw default {} outgoing >/dev/null",
        if strict { "deny" } else { "allow" }
    ));
    o.extend(
        [
            "ufw --force enable >/dev/null",
            "ufw status verbose >&2",
            "safe_end",
            "say \"done\"",
        ]
        .map(String::from),
    );
    shell::finish(o)
}

//! Bash pieces shared by the four Linux script targets (firewalld, ufw, CSF, APF).
//!
//! Declared from `firewalld.rs` with `#[path]` because `export/mod.rs` is shared; it belongs in
//! `mod.rs` as `pub mod shell;`. Everything here is fixed text or text built from addresses, ports and
//! names restricted at load; free text goes through [`text::comment_text`] only.

use crate::engine::Rule;
use crate::export::text;
use crate::export::{Egress, Export};
use crate::net::Peers;
use crate::target::Target;
use ipnet::IpNet;

/// Where safe apply keeps its backup and roll-back script.
pub const STATE_DIR: &str = "/var/lib/fwtopo";

/// How a target's script differs in its shared parts.
pub struct Spec<'a> {
    pub target: Target,
    /// Header lines under "apply:" and "roll back:".
    pub apply: &'a [&'a str],
    pub rollback: &'a [&'a str],
    /// Extra `case` arms for the argument loop (`--offline) OFFLINE=1 ;;`), and their help lines.
    pub extra_args: &'a [(&'a str, &'a str, &'a str)],
}

/// Shebang, header, strict mode, `say`/`die`, argument parsing and the root check.
pub fn preamble(x: &Export, spec: &Spec) -> Vec<String> {
    let mut out = vec!["#!/bin/bash".to_string()];
    // Header lines are built from load-checked names and comment-safe text; only line breaks matter.
    out.extend(
        crate::export::header(x, spec.target, spec.apply, spec.rollback)
            .into_iter()
            .map(|l| format!("# {}", l.replace(['\n', '\r'], " "))),
    );
    out.push("#".into());
    out.push(
        "# Options: --no-confirm   apply without asking (automation); the backup and roll-back script are still written".into(),
    );
    for (flag, _, help) in spec.extra_args {
        out.push(format!("#          {flag:<12} {help}"));
    }
    out.push(
        "# Environment: FWTOPO_CONFIRM_SECONDS (default 60) how long to wait for the confirmation;"
            .into(),
    );
    out.push(format!("#              FWTOPO_STATE_DIR (default {STATE_DIR}) where the backup and roll-back script go;"));
    out.push("#              FWTOPO_CONFIRM_FILE (automation) confirm by creating this file, from a NEW session,".into());
    out.push("#              instead of typing yes: the script writes FILE.waiting once the new rules are live.".into());
    out.push(String::new());
    out.extend(
        [
            "set -euo pipefail",
            "umask 077",
            "",
            "say() { printf 'fwtopo: %s\\n' \"$*\" >&2; }",
            "die() { say \"error: $*\"; exit 1; }",
            "",
            "CONFIRM_SECONDS=\"${FWTOPO_CONFIRM_SECONDS:-60}\"",
            "CONFIRM_FILE=\"${FWTOPO_CONFIRM_FILE:-}\"",
            "# LIVE=0: the script writes files only (an image, or --offline), so there is nothing to roll back.",
            "LIVE=1",
        ]
        .map(String::from),
    );
    for (_, init, _) in spec.extra_args {
        if !init.is_empty() {
            out.push((*init).to_string());
        }
    }
    out.push("for arg in \"$@\"; do".into());
    out.push("  case \"$arg\" in".into());
    out.push("    --no-confirm) CONFIRM_SECONDS=0 ;;".into());
    for (flag, init, _) in spec.extra_args {
        // `init` is `VAR=0`; the flag sets it to 1.
        let var = init.split('=').next().unwrap_or_default();
        out.push(format!("    {flag}) {var}=1 ;;"));
    }
    out.push("    -h|--help) sed -n '2,/^$/s/^# \\{0,1\\}//p' \"$0\"; exit 0 ;;".into());
    out.push("    *) die \"unknown argument '$arg' (see --help)\" ;;".into());
    out.push("  esac".into());
    out.push("done".into());
    out.push("case \"$CONFIRM_SECONDS\" in ''|*[!0-9]*) die \"FWTOPO_CONFIRM_SECONDS must be a whole number of seconds\" ;; esac".into());
    out.push("[ \"$(id -u)\" -eq 0 ] || die \"run as root\"".into());
    out.push(String::new());
    out
}

/// The confirm-or-roll-back machinery in the spirit of `iptables-apply`: `safe_begin` saves the files
/// the script changes, writes the roll-back script and arms a detached timer that runs it;
/// `safe_end` asks for `yes` and disarms, or rolls back at once. The target defines `backup_paths`
/// (prints paths to save, one per line) and `rollback_body` (prints the restore commands, reading
/// `$BACKUP`), and calls both functions around its changes. `--no-confirm` skips only the question
/// (and the timer): the backup and the roll-back script are written all the same, and a run that
/// fails halfway rolls back.
pub fn safe_apply(target: Target) -> Vec<String> {
    let t = target.as_str();
    let lines = [
        "# --- safe apply: roll back unless confirmed (a detached timer survives a dropped SSH session) ---".to_string(),
        format!("STATE_DIR=\"${{FWTOPO_STATE_DIR:-{STATE_DIR}}}\""),
        format!("BACKUP=\"$STATE_DIR/{t}-backup.tar\""),
        format!("ROLLBACK=\"$STATE_DIR/{t}-rollback.sh\""),
        "ARMED=0".into(),
        "TIMED=0".into(),
        // The timer is not our child (setsid -f): it writes its pid, and disarm kills its group.
        format!("TIMER=\"$STATE_DIR/{t}-timer.pid\""),
        "arm() {".into(),
        "  rm -f \"$TIMER\"; TIMED=1".into(),
        "  setsid -f bash \"$ROLLBACK\" --after \"$1\" \"$TIMER\" </dev/null >>\"$STATE_DIR/rollback.log\" 2>&1".into(),
        "}".into(),
        "disarm() {".into(),
        "  local i pid".into(),
        "  [ \"$TIMED\" = 1 ] || return 0".into(),
        "  TIMED=0".into(),
        "  for i in $(seq 1 50); do [ -s \"$TIMER\" ] && break; sleep 0.1; done".into(),
        "  pid=$(cat \"$TIMER\" 2>/dev/null || true)".into(),
        "  [[ $pid =~ ^[0-9]+$ ]] || return 0".into(),
        "  kill -- \"-$pid\" 2>/dev/null || kill \"$pid\" 2>/dev/null || true".into(),
        "  rm -f \"$TIMER\"".into(),
        "}".into(),
        "on_exit() {".into(),
        "  if [ \"$ARMED\" = 1 ]; then".into(),
        "    ARMED=0; disarm".into(),
        "    say \"stopped before the end: rolling back\"".into(),
        "    bash \"$ROLLBACK\" || say \"roll back failed: run bash $ROLLBACK\"".into(),
        "  fi".into(),
        "}".into(),
        "safe_begin() {".into(),
        "  [ \"$LIVE\" = 1 ] || return 0".into(),
        "  [ \"$CONFIRM_SECONDS\" -eq 0 ] || [ -t 0 ] || [ -n \"$CONFIRM_FILE\" ] || die \"safe apply needs a terminal to confirm on: run this interactively, set FWTOPO_CONFIRM_FILE, or pass --no-confirm\"".into(),
        // A confirmation left from an earlier run must not confirm this one.
        "  [ -z \"$CONFIRM_FILE\" ] || rm -f \"$CONFIRM_FILE\" \"$CONFIRM_FILE.waiting\"".into(),
        "  mkdir -p \"$STATE_DIR\"".into(),
        "  local paths=() p".into(),
        "  while IFS= read -r p; do [ -e \"$p\" ] && paths+=(\"$p\"); done < <(backup_paths)".into(),
        // Everything is written under .new names and renamed only once all of it is there: a run
        // refused halfway (a failed save) leaves the previous backup and roll-back as they were.
        "  tar -cPf \"$BACKUP.new\" --files-from /dev/null".into(),
        "  [ \"${#paths[@]}\" -eq 0 ] || tar -cPf \"$BACKUP.new\" \"${paths[@]}\"".into(),
        "  {".into(),
        "    echo '#!/bin/bash'".into(),
        format!("    echo '# fwtopo roll back for {t}: restores the files saved before the last apply.'"),
        "    echo 'if [ \"${1:-}\" = --after ]; then echo $$ > \"$3\"; sleep \"$2\"; rm -f \"$3\"; fi'".into(),
        "    printf 'BACKUP=%q\\n' \"$BACKUP\"".into(),
        "    rollback_body".into(),
        "    echo 'echo \"fwtopo: rolled back\" >&2'".into(),
        "  } > \"$ROLLBACK.new\"".into(),
        "  mv -f \"$BACKUP.new\" \"$BACKUP\"".into(),
        "  mv -f \"$ROLLBACK.new\" \"$ROLLBACK\"".into(),
        "  ! declare -F promote_state >/dev/null || promote_state".into(),
        "  ARMED=1".into(),
        "  trap on_exit EXIT".into(),
        "  [ \"$CONFIRM_SECONDS\" -eq 0 ] || arm $((CONFIRM_SECONDS + 180))".into(),
        "  say \"saved the old configuration to $BACKUP; roll back with: bash $ROLLBACK\"".into(),
        "}".into(),
        "safe_end() {".into(),
        "  [ \"$ARMED\" = 1 ] || return 0".into(),
        "  if [ \"$CONFIRM_SECONDS\" -eq 0 ]; then".into(),
        "    ARMED=0; trap - EXIT".into(),
        "    say \"applied without confirmation. To roll back: bash $ROLLBACK\"".into(),
        "    return 0".into(),
        "  fi".into(),
        "  disarm; arm \"$CONFIRM_SECONDS\"".into(),
        "  local answer=".into(),
        "  if [ -n \"$CONFIRM_FILE\" ]; then".into(),
        "    say \"new firewall active: waiting up to ${CONFIRM_SECONDS}s for $CONFIRM_FILE (made from a NEW session)\"".into(),
        "    : > \"$CONFIRM_FILE.waiting\"".into(),
        "    for _ in $(seq 1 $((CONFIRM_SECONDS * 5))); do [ -e \"$CONFIRM_FILE\" ] && break; sleep 0.2; done".into(),
        "    [ ! -e \"$CONFIRM_FILE\" ] || answer=yes".into(),
        "    rm -f \"$CONFIRM_FILE\" \"$CONFIRM_FILE.waiting\"".into(),
        "  else".into(),
        "    read -r -t \"$CONFIRM_SECONDS\" -p \"fwtopo: new firewall active. Open a NEW session to check you can still log in, then type yes within ${CONFIRM_SECONDS}s to keep it: \" answer || true".into(),
        "  fi".into(),
        "  disarm; ARMED=0; trap - EXIT".into(),
        "  if [ \"$answer\" = yes ]; then".into(),
        "    say \"kept. To roll back by hand: bash $ROLLBACK\"".into(),
        "  else".into(),
        "    say \"not confirmed: rolling back\"".into(),
        "    bash \"$ROLLBACK\"".into(),
        "    exit 1".into(),
        "  fi".into(),
        "}".into(),
        String::new(),
    ];
    lines.to_vec()
}

/// For the targets whose tool builds the kernel's rules from its configuration (CSF, APF):
/// `save_netfilter` keeps the IPv4 and IPv6 rules as they are before the apply, and
/// `netfilter_rollback` prints the roll-back lines that load them back exactly. Restoring the
/// configuration and restarting the tool is not enough: with IPv6 back off, neither CSF nor APF
/// touches ip6tables, so the export's IPv6 rules (and CSF's `-P INPUT DROP`) would stay.
pub fn netfilter_state(target: Target) -> Vec<String> {
    let t = target.as_str();
    let mut out = vec![
        "# The kernel's rules before the apply, both families, for the roll-back to load back.".to_string(),
        format!("NF_SAVED=\"$STATE_DIR/{t}-netfilter\""),
        "# A kernel booted with ipv6.disable=1 has no IPv6 rules to keep, and its ip6tables-save fails:".into(),
        "# then the IPv4 rules alone are kept and restored. Where IPv6 exists, a failed save refuses.".into(),
        "NF_V6=1".into(),
        // Saved under .new names; safe_begin renames them (promote_state) with the backup and the
        // roll-back, so a refused run keeps the previous apply's roll-back working.
        "save_netfilter() {".into(),
        "  iptables-save > \"$NF_SAVED.v4.new\" || die \"iptables-save failed: nothing was changed\"".into(),
        "  if ! command -v ip6tables-save >/dev/null; then : > \"$NF_SAVED.v6.new\"".into(),
        format!("  elif ! {HAS_IPV6}; then"),
        "    NF_V6=0".into(),
        "    say \"note: this kernel has no IPv6 (booted with ipv6.disable=1?): the backup keeps the IPv4 rules only\"".into(),
        "  else".into(),
        "    ip6tables-save > \"$NF_SAVED.v6.new\" || die \"ip6tables-save failed: nothing was changed\"".into(),
        "  fi".into(),
        "}".into(),
        "promote_state() {".into(),
        "  mv -f \"$NF_SAVED.v4.new\" \"$NF_SAVED.v4\"".into(),
        "  if [ \"$NF_V6\" = 1 ]; then mv -f \"$NF_SAVED.v6.new\" \"$NF_SAVED.v6\"; else rm -f \"$NF_SAVED.v6\"; fi".into(),
        "}".into(),
        "netfilter_rollback() {".into(),
        "  printf 'NF_SAVED=%q\\n' \"$NF_SAVED\"".into(),
        "  cat <<'FWTOPO_EOF'".into(),
    ];
    out.extend(
        [
            "# Back to the kernel's rules before the apply, per family in one restore: every table",
            "# the saved rules lack is emptied (policies ACCEPT, own chains gone), the others are",
            "# replaced by their saved contents.",
            "restore_family() {",
            "  local save=$1 restore=$2 file=$3 keep",
            "  command -v \"$restore\" >/dev/null || return 0",
            "  keep=\" $(sed -n 's/^\\*//p' \"$file\" | tr '\\n' ' ') \"",
            "  { \"$save\" | awk -v keep=\"$keep\" '/^\\*/ {skip = index(keep, \" \" substr($0, 2) \" \") > 0} skip {next} /^\\*/ || /^COMMIT/ {print; next} /^:/ && $2 != \"-\" {print $1, \"ACCEPT\"}'; cat \"$file\"; } | \"$restore\"",
            "}",
            "restore_family iptables-save iptables-restore \"$NF_SAVED.v4\"",
            "FWTOPO_EOF",
            "  if [ \"$NF_V6\" = 1 ]; then",
            "    echo 'restore_family ip6tables-save ip6tables-restore \"$NF_SAVED.v6\"'",
            "  else",
            "    echo '# IPv6: this kernel had none when the rules were saved; only IPv4 is restored.'",
            "  fi",
            "}",
            "",
        ]
        .map(String::from),
    );
    out
}

/// `resolve FAMILY NAME...`: the addresses the names have now, one per line, validated to be
/// addresses of that family (never a name, never "any"); nothing when a name does not resolve.
pub fn resolve_fn() -> Vec<String> {
    [
        "# Host-name peers: resolved once, now. The rules hold these addresses until the next run.",
        "resolve() {",
        "  local fam=$1 db=ahostsv4 re='^[0-9]+(\\.[0-9]+){3}$'",
        "  shift",
        "  [ \"$fam\" = 6 ] && { db=ahostsv6; re='^[0-9a-fA-F:]*:[0-9a-fA-F:]*$'; }",
        "  local n",
        "  for n in \"$@\"; do getent \"$db\" \"$n\" 2>/dev/null || true; done | awk '{print $1}' | grep -E \"$re\" | sort -u || true",
        "}",
        "",
    ]
    .map(String::from)
    .to_vec()
}

/// The comment line above a rule: services and provenance.
pub fn rule_comment(x: &Export, r: &Rule) -> String {
    format!("# {}", x.rule_comment(r))
}

/// Inbound rules with management (SSH, RDP, WinRM from admin) first, otherwise in engine order.
pub fn inbound_ordered<'a>(x: &Export<'a>) -> Vec<&'a Rule> {
    let (mut m, rest): (Vec<&Rule>, Vec<&Rule>) =
        x.inbound().iter().partition(|r| r.is_management());
    m.extend(rest);
    m
}

/// The outbound rules that become real rules (strict egress), or none (open egress: comments).
pub fn outbound_enforced<'a>(x: &Export<'a>) -> &'a [Rule] {
    match x.options.egress {
        Egress::Strict => x.outbound(),
        Egress::Open => &[],
    }
}

/// For open egress: the derived outbound rules as comment lines (what strict mode would allow).
pub fn outbound_as_comments(x: &Export) -> Vec<String> {
    if x.options.egress == Egress::Strict || x.outbound().is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        "# Outbound is open (--egress open). The derived outbound rules, for reference:"
            .to_string(),
    ];
    for r in x.outbound() {
        out.push(format!(
            "#   {} {} to {}: {}",
            r.protocol.as_str(),
            text::ports(&r.ports, "-", ","),
            text::comment_text(&r.peers.to_string()),
            x.rule_comment(r)
        ));
    }
    out.push(String::new());
    out
}

/// An address as firewalls print it: a host without its `/32` or `/128`, a network with its prefix.
pub fn addr(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// The networks of an address peer set, either family; empty for `any` and host names.
pub fn nets(p: &Peers) -> Vec<IpNet> {
    match p {
        Peers::V4(v) => v.iter().map(|n| IpNet::V4(*n)).collect(),
        Peers::V6(v) => v.iter().map(|n| IpNet::V6(*n)).collect(),
        Peers::Any | Peers::Dns(_) => Vec::new(),
    }
}

/// Whether any rule the script enforces needs IPv6 switched on in the firewall's configuration.
pub fn needs_v6(x: &Export) -> bool {
    x.has_v6()
        || x.inbound()
            .iter()
            .chain(outbound_enforced(x))
            .any(|r| matches!(r.peers, Peers::V6(_)))
}

/// Lines that switch IPv6 filtering on with `set_conf KEY 1`, whatever the node's addresses: the
/// tools ship with it off, which leaves every IPv6 port open, and a link-local address makes a node
/// reachable over IPv6 from its segment even where it has no global IPv6 address. Only a live
/// kernel without IPv6 (booted with `ipv6.disable=1`) gets `0`, since the tool would fail there.
/// The shell test for a kernel with IPv6: one booted with `ipv6.disable=1` has no
/// `/proc/sys/net/ipv6` (nor `/proc/net/if_inet6`).
const HAS_IPV6: &str = "[ -d /proc/sys/net/ipv6 ]";

pub fn ipv6_filtering_on(key: &str) -> Vec<String> {
    vec![
        "# IPv6 filtering on, always: the tool ships with it off, which leaves every IPv6 port open, and".into(),
        "# a link-local address makes this node reachable over IPv6 even without a global address.".into(),
        format!("if [ -z \"$ROOT\" ] && ! {HAS_IPV6}; then"),
        format!("  say \"note: this kernel has no IPv6: {key} = 0\""),
        format!("  set_conf {key} 0"),
        "else".into(),
        format!("  set_conf {key} 1"),
        "fi".into(),
    ]
}

/// Host names in a `Dns` peer set, as shell words (names are checked at load: letters, digits, `.`, `-`).
pub fn dns_words(names: &[String]) -> String {
    names
        .iter()
        .map(|n| text::sh_quote(n))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The shell line that warns when host names resolved to nothing in a family.
pub fn warn_unresolved(var: &str, names: &[String], fam: u8) -> String {
    format!(
        "[ -n \"${var}\" ] || say \"warning: {} has no IPv{fam} address now; its IPv{fam} rules allow nothing\"",
        text::comment_text(&names.join(", "))
    )
}

/// Joins lines into the script text with a final newline.
pub fn finish(lines: Vec<String>) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// `replace_block FILE`: replaces the lines between our begin and end markers in FILE with stdin
/// (appended at the end; an empty stdin removes the block), through a temporary file and `mv`, so
/// a re-run gives the same file and everything outside the markers stays as it was.
pub fn replace_block_fn() -> Vec<String> {
    [
        "BEGIN_MARK='# BEGIN fwtopo (written by fwtopo; replaced by every run: do not edit)'",
        "END_MARK='# END fwtopo'",
        "replace_block() {",
        "  local f=$1 body tmp",
        "  body=$(cat)",
        "  [ -f \"$f\" ] || : > \"$f\"",
        "  tmp=$(mktemp \"$f.fwtopo.XXXXXX\")",
        "  awk -v b=\"$BEGIN_MARK\" -v e=\"$END_MARK\" '$0 == b {skip = 1; next} $0 == e {skip = 0; next} !skip' \"$f\" > \"$tmp\"",
        "  if [ -n \"$body\" ]; then printf '%s\\n%s\\n%s\\n' \"$BEGIN_MARK\" \"$body\" \"$END_MARK\" >> \"$tmp\"; fi",
        "  chmod --reference=\"$f\" \"$tmp\" 2>/dev/null || true",
        "  mv -f \"$tmp\" \"$f\"",
        "}",
        "",
    ]
    .map(String::from)
    .to_vec()
}

/// The any-peer ports of rules in one direction and protocol, merged, in a target's syntax.
pub fn any_ports(rules: &[&Rule], proto: crate::ports::Protocol, range_sep: &str) -> String {
    let mut set = crate::ports::PortSet::new();
    for r in rules
        .iter()
        .filter(|r| r.protocol == proto && r.peers.is_any())
    {
        set = set.union(&r.ports);
    }
    text::ports(&set, range_sep, ",")
}

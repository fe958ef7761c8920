//! firewalld, ufw, CSF and APF exports without the tools' daemons: snapshots of every node of
//! every example, the scripts' structure, and the line grammars of CSF and APF. The real tools run
//! in export_firewalld.rs, export_ufw.rs and csf_apf_tools.rs.
//!
//! Every check compares what a firewall ends up allowing with what the engine derived, as a map
//! (direction, protocol, peer) -> ports, so a rule that is dropped, widened or put in the wrong
//! family fails whatever the target's syntax. CSF and APF scripts write below `FWTOPO_ROOT`, in a
//! private mount namespace with a hosts file bound over /etc/hosts that gives my.mailstore.com
//! documentation addresses. Without root the system tests print `SKIPPED (...)`; with
//! `FWTOPO_REQUIRE_SYSTEM_TESTS=1` that is a failure.

#[path = "support/linux_exports.rs"]
mod linux_exports;
#[path = "support/linux_tools_grammar.rs"]
mod linux_tools_grammar;
mod support;

use fwtopo::catalog::Catalog;
use fwtopo::export::Egress;
use fwtopo::ports::PortSet;
use fwtopo::target::Target;
use fwtopo::topology::Topology;
use linux_exports::*;
use linux_tools_grammar::{is_address, peer_key};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const TARGETS: [Target; 4] = [Target::Firewalld, Target::Ufw, Target::Csf, Target::Apf];
const EGRESS: [Egress; 2] = [Egress::Open, Egress::Strict];

/// All nodes of one example in one text, for one snapshot per example and target.
fn example_text(cat: &Catalog, t: &Topology, target: Target, egress: Egress) -> String {
    t.nodes
        .iter()
        .map(|n| {
            format!(
                "===== {} =====\n{}",
                n.name,
                support::render(cat, t, &n.name, target, egress)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn snapshots_every_node_of_every_example() {
    let cat = catalog();
    for (ex, t) in support::examples() {
        for target in TARGETS {
            insta::assert_snapshot!(
                format!("{}__{ex}", target.as_str()),
                example_text(&cat, &t, target, Egress::Open)
            );
        }
    }
    // Strict egress for PA and for MailStore, whose management server reaches a host name.
    for (ex, t) in support::examples()
        .into_iter()
        .filter(|(ex, _)| ex == "plesk-automation" || ex == "mailstore-spe")
    {
        for target in TARGETS {
            insta::assert_snapshot!(
                format!("{}__{ex}__strict", target.as_str()),
                example_text(&cat, &t, target, Egress::Strict)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Structure, without tools

/// Every (example, node, egress, target) export.
fn all_exports() -> Vec<(String, String, Egress, Target, String)> {
    let cat = catalog();
    let mut out = Vec::new();
    for (ex, t) in support::examples() {
        for node in &t.nodes {
            for e in EGRESS {
                for target in TARGETS {
                    let s = support::render(&cat, &t, &node.name, target, e);
                    out.push((ex.clone(), node.name.clone(), e, target, s));
                }
            }
        }
    }
    out
}

#[test]
fn every_script_is_valid_bash() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (n, (ex, node, e, target, s)) in all_exports().into_iter().enumerate() {
        linux_tools_grammar::check_script_shape(&format!("{ex}/{node}/{target}"), &s);
        let p = dir.path().join(format!("{n}.sh"));
        std::fs::write(&p, &s).expect("write script");
        let out = Command::new("bash")
            .arg("-n")
            .arg(&p)
            .output()
            .expect("run bash -n");
        assert!(
            out.status.success(),
            "{ex}/{node}/{target}/{e:?}: bash -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The PA example with hostile free text everywhere a user can type it.
fn hostile_pa() -> (Topology, Topology) {
    let t = support::example("plesk-automation");
    let evil = "x\"y'z; rm -rf / & echo | % ^ ` $(reboot) `id` \\ \nFWTOPO_EOF\nEOF\n'; touch /tmp/pwned; '\r\n# END fwtopo\n\u{201C}curly\u{201D} \u{00fc}ber";
    let mut h = t.clone();
    h.name = evil.into();
    h.description = evil.into();
    for z in &mut h.zones {
        z.note = evil.into();
    }
    for n in &mut h.nodes {
        n.note = evil.into();
    }
    (t, h)
}

/// Lines that are not whole-line comments (inside heredocs too: they start with `#` there as well).
fn without_comments(s: &str) -> Vec<&str> {
    s.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect()
}

#[test]
fn hostile_text_stays_in_comments() {
    let cat = catalog();
    let (t, h) = hostile_pa();
    for target in TARGETS {
        for node in &t.nodes {
            for e in EGRESS {
                let good = support::render(&cat, &t, &node.name, target, e);
                let bad = support::render(&cat, &h, &node.name, target, e);
                assert_eq!(
                    without_comments(&good),
                    without_comments(&bad),
                    "{target:?} {}",
                    node.name
                );
                assert_eq!(
                    good.lines().count(),
                    bad.lines().count(),
                    "a newline escaped a comment"
                );
                assert!(bad.is_ascii());
                assert!(!bad.contains("FWTOPO_EOF\nEOF") && !bad.contains("pwned'"));
            }
        }
    }
}

/// The manual roll-back in each header undoes every setting the script changes: the outgoing
/// policy of a strict ufw export, IPv6 and the egress switch of CSF and APF, and the ip6tables
/// rules, which only a flush while IPv6 is still on removes.
#[test]
fn manual_roll_backs_undo_every_setting() {
    let cat = catalog();
    let t = support::example("plesk-automation");
    let header = |target: Target, egress: Egress| -> String {
        support::render(&cat, &t, "pa-mn", target, egress)
            .lines()
            .skip_while(|l| !l.starts_with("# roll back:"))
            .take_while(|l| l.starts_with("# "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let ufw = header(Target::Ufw, Egress::Strict);
    assert!(ufw.contains("ufw default allow outgoing"), "{ufw}");
    let csf = header(Target::Csf, Egress::Open);
    for want in ["csf -f", "IPV6", "TCP6_IN", "csf -r"] {
        assert!(
            csf.contains(want),
            "CSF manual roll-back lacks {want}:\n{csf}"
        );
    }
    let apf = header(Target::Apf, Egress::Strict);
    for want in ["apf -f", "USE_IPV6", "EGF", "EG_TCP_CPORTS"] {
        assert!(
            apf.contains(want),
            "APF manual roll-back lacks {want}:\n{apf}"
        );
    }
}

#[test]
fn ufw_rules_respect_its_limits() {
    for (ex, node, _, target, s) in all_exports() {
        if target == Target::Ufw {
            linux_tools_grammar::check_ufw_limits(&format!("{ex}/{node}"), &s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CSF and APF: no package in Debian, so the scripts write below FWTOPO_ROOT and a parser built
// from the documented grammars reads the result.

const CSF_CONF: &str = "# sample csf.conf (the keys fwtopo sets, as CSF ships them)\nTESTING = \"1\"\nTCP_IN = \"20,21,22,25,53,80,110,143,443,465,587,993,995\"\nTCP_OUT = \"20,21,22,25,53,80,110,113,443,587,993,995\"\nUDP_IN = \"20,21,53\"\nUDP_OUT = \"20,21,53,113,123\"\nIPV6 = \"0\"\nTCP6_IN = \"20,21,22,25,53,80,110,143,443,465,587,993,995\"\nTCP6_OUT = \"20,21,22,25,53,80,110,113,443,587,993,995\"\nUDP6_IN = \"20,21,53\"\nUDP6_OUT = \"20,21,53,113,123\"\nDYNDNS = \"0\"\n";
const CSF_ALLOW: &str = "# operator's csf.allow\n198.51.100.77 # the operator's own line\nInclude /etc/csf/cpanel.allow";
const APF_CONF: &str = "# sample conf.apf\nDEVEL_MODE=\"1\"\nUSE_IPV6=\"0\"\nIG_TCP_CPORTS=\"22\"\nIG_UDP_CPORTS=\"\"\nEGF=\"0\"\nEG_TCP_CPORTS=\"21,25,80,443,43\"\nEG_UDP_CPORTS=\"20,21,53\"\n";
const APF_HOSTS: &str = "# operator's allow_hosts.rules\n198.51.100.77\n";

/// `KEY = "VALUE"` (CSF) or `KEY="VALUE"` (APF) lines.
fn conf_values(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect()
}

/// Checks a port field: one port or one `_` range, in order.
fn one_port(p: &str) -> Result<PortSet, String> {
    let ok = p.split('_').count() <= 2
        && !p.is_empty()
        && p.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(format!("port field '{p}'"));
    }
    Ok(PortSet::from_ranges(vec![port_range(p)]))
}

/// One csf.allow advanced filter `proto|dir|d=PORT|s=ADDR` (in) or `proto|out|d=PORT|d=ADDR`.
fn csf_line(l: &str, names: bool) -> Result<Line, String> {
    let f: Vec<&str> = l.split('|').collect();
    let [proto, dir, port, peer] = f.as_slice() else {
        return Err(format!("not four fields: {l}"));
    };
    if !matches!(*proto, "tcp" | "udp") || !matches!(*dir, "in" | "out") {
        return Err(format!("protocol or direction: {l}"));
    }
    let ports = one_port(port.strip_prefix("d=").ok_or(format!("port not d=: {l}"))?)?;
    let side = if *dir == "in" { "s=" } else { "d=" };
    let addr = peer
        .strip_prefix(side)
        .ok_or(format!("peer not {side}: {l}"))?;
    if names == is_address(addr) || addr.contains('[') {
        return Err(format!("peer '{addr}' in the wrong file: {l}"));
    }
    Ok((dir.to_string(), proto.to_string(), peer_key(addr), ports))
}

/// One APF trust line `proto:flow:d=PORT:s=ADDR` (IPv6 in brackets).
fn apf_line(l: &str) -> Result<Line, String> {
    let f: Vec<&str> = l.splitn(4, ':').collect();
    let [proto, flow, port, peer] = f.as_slice() else {
        return Err(format!("not four fields: {l}"));
    };
    if !matches!(*proto, "tcp" | "udp") || !matches!(*flow, "in" | "out") {
        return Err(format!("protocol or flow: {l}"));
    }
    let ports = one_port(port.strip_prefix("d=").ok_or(format!("port not d=: {l}"))?)?;
    let side = if *flow == "in" { "s=" } else { "d=" };
    let addr = peer
        .strip_prefix(side)
        .ok_or(format!("peer not {side}: {l}"))?;
    let v6 = addr.contains(':');
    if v6 != (addr.starts_with('[') && addr.ends_with(']')) || !is_address(addr) {
        return Err(format!(
            "address '{addr}' (IPv6 needs brackets, IPv4 none): {l}"
        ));
    }
    Ok((flow.to_string(), proto.to_string(), peer_key(addr), ports))
}

/// Runs a CSF or APF script twice below a root prepared by `prepare`, in a private mount namespace
/// with the tests' hosts file; returns the files after the first run.
fn run_below_root(
    dir: &Path,
    script: &str,
    files: &[&str],
) -> Result<BTreeMap<String, String>, String> {
    let root = dir.join("root");
    let s = dir.join("script.sh");
    std::fs::write(&s, script).expect("write script");
    let hosts = hosts_file(dir);
    let mut snaps = Vec::new();
    for _ in 0..2 {
        let out = sandbox(
            dir,
            true,
            &[(&hosts, "/etc/hosts")],
            &[],
            &format!("FWTOPO_ROOT='{}' bash '{}'\n", root.display(), s.display()),
        );
        if !out.status.success() {
            return Err(format!("failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let snap: BTreeMap<String, String> = files
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    std::fs::read_to_string(root.join(f)).unwrap_or_default(),
                )
            })
            .collect();
        snaps.push(snap);
    }
    if snaps[0] != snaps[1] {
        return Err("second run changed the files".into());
    }
    Ok(snaps.swap_remove(0))
}

fn csf_check(
    cat: &Catalog,
    ex: &str,
    t: &Topology,
    node: &str,
    egress: Egress,
) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let etc = dir.path().join("root/etc/csf");
    std::fs::create_dir_all(&etc).expect("mkdir");
    std::fs::write(etc.join("csf.conf"), CSF_CONF).expect("write");
    std::fs::write(etc.join("csf.allow"), CSF_ALLOW).expect("write");
    let script = support::render(cat, t, node, Target::Csf, egress);
    let files = run_below_root(
        dir.path(),
        &script,
        &[
            "etc/csf/csf.conf",
            "etc/csf/csf.allow",
            "etc/csf/fwtopo.allow",
            "etc/csf/csf.dyndns",
            "etc/csf/fwtopo.dyndns",
        ],
    )?;
    let allow = &files["etc/csf/csf.allow"];
    if !allow.starts_with(CSF_ALLOW) || allow.matches("Include /etc/csf/fwtopo.allow").count() != 1
    {
        return Err(format!("csf.allow not kept or Include not once:\n{allow}"));
    }
    if files["etc/csf/csf.dyndns"]
        .matches("Include /etc/csf/fwtopo.dyndns")
        .count()
        != 1
    {
        return Err("csf.dyndns Include not once".into());
    }
    let conf = conf_values(&files["etc/csf/csf.conf"]);
    let mut got = Flows::new();
    for (k6, k, dir, proto) in [
        ("TCP6_IN", "TCP_IN", "in", "tcp"),
        ("UDP6_IN", "UDP_IN", "in", "udp"),
        ("TCP6_OUT", "TCP_OUT", "out", "tcp"),
        ("UDP6_OUT", "UDP_OUT", "out", "udp"),
    ] {
        let v = conf.get(k).ok_or(format!("{k} missing"))?;
        if conf.get(k6) != Some(v) {
            return Err(format!("{k6} differs from {k}"));
        }
        if v.contains('_') || v.contains('-') {
            return Err(format!("{k}: csf.conf ranges are a:b, got {v}"));
        }
        if dir == "out" && egress == Egress::Open {
            if v != "1:65535" {
                return Err(format!("{k} with open egress: {v}"));
            }
            continue;
        }
        let ps = port_list(v);
        if !ps.is_empty() {
            add(&mut got, dir, proto, "any".into(), &ps);
        }
    }
    let rules = enforced(cat, t, node, egress);
    let mut order = Vec::new();
    for (file, names) in [
        ("etc/csf/fwtopo.allow", false),
        ("etc/csf/fwtopo.dyndns", true),
    ] {
        for l in files[file]
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (d, p, peer, ps) = csf_line(l, names).map_err(|e| format!("{file}: {e}"))?;
            add(&mut got, &d, &p, peer.clone(), &ps);
            order.push((d, p, peer, ps));
        }
    }
    let want = expected(&rules, false);
    if got != want {
        return Err(format!("allows something else:\n{}", diff(&got, &want)));
    }
    management_first(&rules, &order, false)?;
    // IPv6 filtering always on: CSF ships with IPV6 = "0", which leaves ip6tables open, and a
    // link-local address makes a node reachable over IPv6 even without a global one.
    if conf.get("IPV6").map(String::as_str) != Some("1") {
        return Err("IPV6 is not 1: ip6tables stays open".into());
    }
    let _ = ex;
    Ok(())
}

fn apf_check(cat: &Catalog, t: &Topology, node: &str, egress: Egress) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let etc = dir.path().join("root/etc/apf");
    std::fs::create_dir_all(&etc).expect("mkdir");
    std::fs::write(etc.join("conf.apf"), APF_CONF).expect("write");
    std::fs::write(etc.join("allow_hosts.rules"), APF_HOSTS).expect("write");
    let script = support::render(cat, t, node, Target::Apf, egress);
    let files = run_below_root(
        dir.path(),
        &script,
        &["etc/apf/conf.apf", "etc/apf/allow_hosts.rules"],
    )?;
    let hosts = &files["etc/apf/allow_hosts.rules"];
    if !hosts.starts_with(APF_HOSTS)
        || hosts.matches("# BEGIN fwtopo").count() != 1
        || hosts.matches("# END fwtopo").count() != 1
    {
        return Err(format!(
            "allow_hosts.rules: operator lines lost or block not once:\n{hosts}"
        ));
    }
    let conf = conf_values(&files["etc/apf/conf.apf"]);
    // IPv6 filtering always on (APF ships with USE_IPV6="0": ip6tables untouched, IPv6 open).
    if conf.get("USE_IPV6").map(String::as_str) != Some("1") {
        return Err("USE_IPV6 is not 1: ip6tables stays open".into());
    }
    let mut got = Flows::new();
    let strict = egress == Egress::Strict;
    if conf.get("EGF").map(String::as_str) != Some(if strict { "1" } else { "0" }) {
        return Err(format!("EGF {:?} with {egress:?}", conf.get("EGF")));
    }
    let mut keys = vec![
        ("IG_TCP_CPORTS", "in", "tcp"),
        ("IG_UDP_CPORTS", "in", "udp"),
    ];
    if strict {
        keys.extend([
            ("EG_TCP_CPORTS", "out", "tcp"),
            ("EG_UDP_CPORTS", "out", "udp"),
        ]);
    }
    for (k, dir, proto) in keys {
        let v = conf.get(k).ok_or(format!("{k} missing"))?;
        if v.contains(':') || v.contains('-') {
            return Err(format!("{k}: APF ranges are a_b, got {v}"));
        }
        let ps = port_list(v);
        if !ps.is_empty() {
            add(&mut got, dir, proto, "any".into(), &ps);
        }
    }
    let block = hosts.split("# BEGIN fwtopo").nth(1).unwrap_or_default();
    let mut order = Vec::new();
    for l in block
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("# END fwtopo"))
    {
        if l.starts_with('#') || l.is_empty() {
            continue;
        }
        let (d, p, peer, ps) = apf_line(l)?;
        add(&mut got, &d, &p, peer.clone(), &ps);
        order.push((d, p, peer, ps));
    }
    let rules = enforced(cat, t, node, egress);
    let want = expected(&rules, true);
    if got != want {
        return Err(format!("allows something else:\n{}", diff(&got, &want)));
    }
    management_first(&rules, &order, true)
}

#[test]
fn csf_and_apf_files_follow_the_grammar_and_allow_exactly_the_plan() {
    if !support::require_root() || !support::require("unshare") {
        return;
    }
    let cat = catalog();
    let started = Instant::now();
    let mut errors = Vec::new();
    let mut n = 0;
    for (ex, t) in support::examples() {
        for node in &t.nodes {
            for e in EGRESS {
                n += 1;
                if let Err(msg) = csf_check(&cat, &ex, &t, &node.name, e) {
                    errors.push(format!("csf {ex}/{}/{e:?}: {msg}", node.name));
                }
                if let Err(msg) = apf_check(&cat, &t, &node.name, e) {
                    errors.push(format!("apf {ex}/{}/{e:?}: {msg}", node.name));
                }
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    eprintln!(
        "csf+apf: {n} node/egress pairs, each target run twice, in {:.1?}",
        started.elapsed()
    );
}

#[test]
fn csf_and_apf_grammar_parsers_reject_what_the_tools_reject() {
    assert!(csf_line("tcp|in|d=8352_8364|s=203.0.113.2", false).is_ok());
    assert!(csf_line("tcp|out|d=443|d=my.mailstore.com", true).is_ok());
    assert!(
        csf_line("tcp|in|d=22|d=203.0.113.2", false).is_err(),
        "in needs s="
    );
    assert!(
        csf_line("tcp|in|d=22-23|s=203.0.113.2", false).is_err(),
        "ranges use _"
    );
    assert!(
        csf_line("tcp|in|d=22|s=[2001:db8::1]", false).is_err(),
        "no brackets in CSF"
    );
    assert!(
        csf_line("tcp|in|d=22|s=my.mailstore.com", false).is_err(),
        "names only in csf.dyndns"
    );
    assert!(apf_line("tcp:in:d=8352_8364:s=[2001:db8::/32]").is_ok());
    assert!(
        apf_line("tcp:in:d=22,80:s=203.0.113.2").is_err(),
        "APF: one port or range"
    );
    assert!(
        apf_line("tcp:in:d=22:s=2001:db8::/32").is_err(),
        "APF: IPv6 in brackets"
    );
    assert!(
        apf_line("in:d=22:s=203.0.113.2").is_err(),
        "protocol explicit"
    );
}

/// APF before 2.0.1 sends port lists and trust lines to iptables only and does not understand
/// `[2001:db8::1]`: the script refuses a node with IPv6 rules there (changing nothing), and warns
/// for a node without (IPv6 stays unfiltered). The version comes from APF's own files.
#[test]
fn apf_before_2_0_1_is_refused_for_ipv6_rules() {
    if !support::require_root() {
        return;
    }
    let cat = catalog();
    let cases = [
        // (example, node, version file, its text, refused, warned)
        (
            "plesk-automation",
            "pa-mn",
            "VERSION",
            "version: 1.7.6\n",
            true,
            true,
        ),
        (
            "plesk-automation",
            "pa-mn",
            "internals/internals.conf",
            "VER=\"9.7\"\n",
            true,
            true,
        ),
        (
            "cpanel-whm",
            "cpanel-ubuntu",
            "VERSION",
            "version: 1.7.6\n",
            false,
            true,
        ),
        (
            "plesk-automation",
            "pa-mn",
            "VERSION",
            "version: 2.0.2\n",
            false,
            false,
        ),
    ];
    for (ex, node, file, version, refused, warned) in cases {
        let t = support::example(ex);
        let dir = tempfile::tempdir().expect("temp dir");
        let etc = dir.path().join("root/etc/apf");
        std::fs::create_dir_all(etc.join("internals")).expect("mkdir");
        std::fs::write(etc.join("conf.apf"), APF_CONF).expect("write");
        std::fs::write(etc.join("allow_hosts.rules"), APF_HOSTS).expect("write");
        std::fs::write(etc.join(file), version).expect("write");
        let script = dir.path().join("apf.sh");
        std::fs::write(
            &script,
            support::render(&cat, &t, node, Target::Apf, Egress::Open),
        )
        .expect("write");
        // In a sandbox all the same: a script that forgot FWTOPO_ROOT must not reach the machine.
        let out = sandbox(
            dir.path(),
            true,
            &[],
            &[],
            &format!(
                "FWTOPO_ROOT='{}' bash '{}'\n",
                dir.path().join("root").display(),
                script.display()
            ),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        let who = format!("{node} with {file} {version:?}");
        assert_eq!(!out.status.success(), refused, "{who}: {err}");
        assert_eq!(err.contains("2.0.1"), warned, "{who}: {err}");
        if refused {
            let conf = std::fs::read_to_string(etc.join("conf.apf")).expect("read");
            assert_eq!(conf, APF_CONF, "{who}: refused, but conf.apf changed");
        }
    }
}

/// The tools' own defaults that open or block more than the design are named in the scripts.
#[test]
fn tools_own_defaults_are_named_in_the_scripts() {
    let cat = catalog();
    let t = support::example("plesk-automation");
    let comments = |target: Target, egress: Egress| -> String {
        support::render(&cat, &t, "pa-mn", target, egress)
            .lines()
            .filter(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let apf = comments(Target::Apf, Egress::Strict);
    for want in ["TCR_PASS", "33434-33534", "BLK_PORTS", "1024-65535"] {
        assert!(apf.contains(want), "APF script does not name {want}");
    }
    let ufw = comments(Target::Ufw, Egress::Open);
    for want in ["mDNS", "5353", "SSDP", "1900"] {
        assert!(ufw.contains(want), "ufw script does not name {want}");
    }
}

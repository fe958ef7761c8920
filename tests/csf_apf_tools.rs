//! CSF and APF exports in the real tools: CSF 15.10 and APF 2.0.2, installed by their own
//! `install.sh` from the upstream tarballs in `../shared/tools/` (beside the repository, as CI lays
//! it out), inside a network namespace and a private mount namespace (`support/csf_apf_lab.sh`
//! says how the machine itself is kept out of reach).
//!
//! Per tool and node: the node's namespace and a peer's, on one veth. The peer holds a source
//! address in every peer network of the node's inbound rules, an outsider of each family, and its
//! link-local address (which reaches a node over IPv6 even where the node has no global IPv6
//! address). The tool starts with its own defaults (the operator's firewall before fwtopo); then
//! the export is applied with `--no-confirm`, and every TCP probe from the peer must connect exactly
//! when the plan's inbound rules allow its source and port, over IPv4 and IPv6; the roll-back
//! script it leaves must restore the state before exactly (files, iptables and ip6tables); a safe
//! apply that is not confirmed must do the same by itself; a second apply must load the same rules.
//!
//! Without root, a tool or a tarball this prints `SKIPPED (<reason>)`; with
//! `FWTOPO_REQUIRE_SYSTEM_TESTS=1` (CI) that is a failure.

mod support;

use fwtopo::catalog::Catalog;
use fwtopo::engine::{Rule, derive};
use fwtopo::export::Egress;
use fwtopo::net::{Peers, is_documentation};
use fwtopo::ports::Protocol;
use fwtopo::target::Target;
use ipnet::IpNet;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::netns::{self, Netns};

/// The driver run inside the node's namespaces.
const LAB: &str = include_str!("support/csf_apf_lab.sh");
/// Routes exist for these and nothing else: no probe can leave the documentation ranges.
const DOC_ROUTES: [&str; 4] = [
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "2001:db8::/32",
];
/// Outsider candidates: the first that no inbound rule names is probed from.
const OUTSIDERS: [&str; 5] = [
    "192.0.2.250",
    "198.51.100.250",
    "203.0.113.250",
    "2001:db8:ffff:ff::250",
    "2001:db8:fffe::250",
];
/// A port no rule opens, probed as a control (the first of these that none names).
const CLOSED: [u16; 3] = [9999, 1234, 65001];

/// The nodes each tool is run on: one with IPv6 addresses and IPv6 peers under strict egress, and
/// the one the review found open over IPv6 (no IPv6 address of its own).
const NODES: [(&str, &str, Egress); 2] = [
    ("plesk-automation", "pa-mn", Egress::Strict),
    ("cpanel-whm", "cpanel-ubuntu", Egress::Open),
];

/// The upstream tarball of a tool, beside the repository; a visible skip (or a CI failure) without.
fn tarball(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join("tools")
        .join(name);
    if p.is_file() {
        Some(p)
    } else {
        support::skip(&format!("{} not found", p.display()));
        None
    }
}

/// One TCP probe from the peer to the node.
struct Probe {
    name: String,
    dst: String,
    port: u16,
    src: String,
    allowed: bool,
}

/// An address as socat takes it: IPv6 in brackets, a link-local one with its interface.
fn socat_addr(a: IpAddr, link_local: bool) -> String {
    match a {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) if link_local => format!("[{v6}%eth0]"),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// A host inside a network: the fifth address when there is one, else the first.
fn host_in(net: &IpNet) -> IpAddr {
    if net.prefix_len() == net.max_prefix_len() {
        return net.addr();
    }
    let mut hosts = net.hosts();
    let first = hosts.next().unwrap_or(net.addr());
    hosts.nth(3).unwrap_or(first)
}

fn allows(inbound: &[Rule], src: IpAddr, port: u16) -> bool {
    inbound
        .iter()
        .any(|r| r.protocol == Protocol::Tcp && r.ports.contains(port) && r.peers.contains(src))
}

/// The probes of one node: every source (one per peer network, outsiders, link-local) to every
/// probed port (the first of each TCP rule, and a closed one), over each family the node has.
fn plan_probes(
    inbound: &[Rule],
    node: &[IpAddr],
    node_ll: IpAddr,
    peer_ll: IpAddr,
) -> (Vec<Probe>, Vec<IpAddr>, BTreeSet<u16>) {
    let mut sources: Vec<IpAddr> = Vec::new();
    for r in inbound {
        let nets: Vec<IpNet> = match &r.peers {
            Peers::V4(v) => v.iter().map(|n| IpNet::V4(*n)).collect(),
            Peers::V6(v) => v.iter().map(|n| IpNet::V6(*n)).collect(),
            Peers::Any | Peers::Dns(_) => Vec::new(),
        };
        // Only documentation addresses are ever probed from (a catalog may pin a vendor's).
        if let Some(n) = nets.iter().find(|n| is_documentation(n)) {
            let h = host_in(n);
            if !sources.contains(&h) && sources.len() < 8 {
                sources.push(h);
            }
        }
    }
    for v6 in [false, true] {
        let outsider = OUTSIDERS
            .iter()
            .map(|o| o.parse::<IpAddr>().expect("outsider address"))
            .filter(|a| a.is_ipv6() == v6)
            .find(|a| {
                !inbound
                    .iter()
                    .any(|r| !r.peers.is_any() && r.peers.contains(*a))
            })
            .expect("an outsider address");
        sources.push(outsider);
    }
    let mut ports: BTreeSet<u16> = inbound
        .iter()
        .filter(|r| r.protocol == Protocol::Tcp)
        .filter_map(|r| r.ports.ranges().first().map(|p| p.start))
        .take(8)
        .collect();
    let closed = CLOSED
        .into_iter()
        .find(|p| !inbound.iter().any(|r| r.ports.contains(*p)))
        .expect("a closed port");
    ports.insert(closed);
    let mut probes = Vec::new();
    for &port in &ports {
        for &src in &sources {
            let Some(&dst) = node.iter().find(|d| d.is_ipv6() == src.is_ipv6()) else {
                continue;
            };
            probes.push(Probe {
                name: format!("{src}>{port}"),
                dst: socat_addr(dst, false),
                port,
                src: socat_addr(src, false),
                allowed: allows(inbound, src, port),
            });
        }
        probes.push(Probe {
            name: format!("link-local>{port}"),
            dst: socat_addr(node_ll, true),
            port,
            src: socat_addr(peer_ll, true),
            allowed: allows(inbound, peer_ll, port),
        });
    }
    (probes, sources, ports)
}

/// The link-local address of eth0 in a namespace.
fn link_local(ns: &Netns) -> IpAddr {
    let out = ns.run(&[
        "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link",
    ]);
    out.split_whitespace()
        .skip_while(|w| *w != "inet6")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no link-local address in {}: {out}", ns.name()))
}

/// A rule dump as comparable text: no save-tool comments, no counters, and no table that holds
/// nothing (no rule, no chain of its own, every policy ACCEPT), which is the same as no table.
fn rules_text(dump: &str) -> String {
    let mut out = String::new();
    let mut table: Vec<String> = Vec::new();
    for line in dump.lines().filter(|l| !l.starts_with('#')) {
        let line = match (line.starts_with(':'), line.rfind(" [")) {
            (true, Some(i)) => &line[..i],
            _ => line,
        };
        table.push(line.to_string());
        if line == "COMMIT" {
            let empty = table.iter().all(|l| {
                l.starts_with('*')
                    || l == "COMMIT"
                    || (l.starts_with(':') && l.ends_with(" ACCEPT"))
            });
            if !empty {
                out.push_str(&table.join("\n"));
                out.push('\n');
            }
            table.clear();
        }
    }
    out
}

/// A `state-PHASE` file with both rule dumps made comparable.
fn state(out: &Path, phase: &str) -> String {
    let text = std::fs::read_to_string(out.join(format!("state-{phase}")))
        .unwrap_or_else(|e| panic!("no state {phase}: {e}"));
    let mut sections = Vec::new();
    for sec in text.split("@@ ").filter(|s| !s.is_empty()) {
        let (head, body) = sec.split_once('\n').unwrap_or((sec, ""));
        let body = if head == "iptables" || head == "ip6tables" {
            rules_text(body)
        } else {
            body.to_string()
        };
        sections.push(format!("@@ {head}\n{body}"));
    }
    sections.concat()
}

/// The lines of `a` and `b` that differ, for a readable failure.
fn line_diff(a: &str, b: &str) -> String {
    let la: BTreeSet<&str> = a.lines().collect();
    let lb: BTreeSet<&str> = b.lines().collect();
    let mut s = String::new();
    for l in la.difference(&lb).take(30) {
        s += &format!("  - {l}\n");
    }
    for l in lb.difference(&la).take(30) {
        s += &format!("  + {l}\n");
    }
    s
}

/// Runs one node's export through one tool; returns what went wrong.
fn run(tool: Target, tar: &Path, ex: &str, node: &str, egress: Egress) -> Vec<String> {
    let who = format!("{} {ex}/{node}/{egress:?}", tool.as_str());
    let t = support::example(ex);
    let cat = fwtopo::topology::site_catalog(&Catalog::embedded().expect("embedded catalog"), &t);
    let plan = derive(&cat, &t);
    let np = plan.node(node).expect("node in plan");
    let addrs = t
        .nodes
        .iter()
        .find(|n| n.name == node)
        .expect("node")
        .addresses
        .clone();

    let n = Netns::new("csfn");
    let peer = Netns::new("csfp");
    n.run(&[
        "ip",
        "link",
        "add",
        "eth0",
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        peer.name(),
    ]);
    for ns in [&n, &peer] {
        ns.run(&["sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0"]);
        ns.run(&["ip", "link", "set", "eth0", "up"]);
        for r in DOC_ROUTES {
            ns.run(&["ip", "route", "add", r, "dev", "eth0"]);
        }
    }
    for a in &addrs {
        n.run(&[
            "ip",
            "addr",
            "add",
            &IpNet::from(*a).to_string(),
            "dev",
            "eth0",
        ]);
    }
    let (probes, sources, ports) =
        plan_probes(&np.inbound, &addrs, link_local(&n), link_local(&peer));
    for s in &sources {
        peer.run(&[
            "ip",
            "addr",
            "add",
            &IpNet::from(*s).to_string(),
            "dev",
            "eth0",
        ]);
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let (out, scratch) = (dir.path().join("out"), dir.path().join("scratch"));
    std::fs::create_dir_all(&out).expect("mkdir out");
    std::fs::create_dir_all(&scratch).expect("mkdir scratch");
    let script = dir.path().join(fwtopo::export::file_name(node, tool));
    std::fs::write(&script, support::render(&cat, &t, node, tool, egress)).expect("write export");
    let probe_file = dir.path().join("probes");
    let lines: String = probes
        .iter()
        .map(|p| format!("{} {} {} {}\n", p.name, p.dst, p.port, p.src))
        .collect();
    std::fs::write(&probe_file, lines).expect("write probes");
    let driver = dir.path().join("lab.sh");
    std::fs::write(&driver, LAB).expect("write driver");

    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let status = n
        .command("timeout")
        .args(["300", "unshare", "-m", "--propagation", "private", "bash"])
        .arg(&driver)
        .env("LAB_TOOL", tool.as_str())
        .env("LAB_TARBALL", tar)
        .env("LAB_SCRIPT", &script)
        .env("LAB_SCRATCH", &scratch)
        .env("LAB_OUT", &out)
        .env("LAB_PEER_NS", format!("/run/netns/{}", peer.name()))
        .env("LAB_IFACE", "eth0")
        .env("LAB_PORTS", ports.join(" "))
        .env("LAB_PROBES", &probe_file)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("run the lab driver");
    let log = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    let mut errors: Vec<String> = log("failures")
        .lines()
        .map(|l| format!("{who}: {l}"))
        .collect();
    if !status.success() || !out.join("state-again").exists() {
        errors.push(format!(
            "{who}: the lab stopped ({status}); apply.log:\n{}",
            log("apply.log")
        ));
        return errors;
    }

    // The lab itself: without a firewall every probe connects.
    let seen = |phase: &str| -> Vec<(String, bool)> {
        log(&format!("probes-{phase}"))
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, r)| (n.to_string(), r == "ok"))
            .collect()
    };
    let open = seen("open");
    if open.len() != probes.len() || open.iter().any(|(_, ok)| !ok) {
        errors.push(format!(
            "{who}: the lab is broken before any firewall: {open:?}"
        ));
        return errors;
    }
    // Applied: exactly what the plan allows, both families.
    let applied = seen("applied");
    for p in &probes {
        match applied.iter().find(|(n, _)| *n == p.name) {
            Some((_, ok)) if *ok == p.allowed => {}
            Some((_, ok)) => errors.push(format!(
                "{who}: probe {} {} (the plan {} it)",
                p.name,
                if *ok { "connected" } else { "was dropped" },
                if p.allowed {
                    "allows"
                } else {
                    "does not allow"
                }
            )),
            None => errors.push(format!("{who}: probe {} did not run", p.name)),
        }
    }
    // Roll-backs restore the state before exactly; a second apply loads the same rules.
    let before = state(&out, "before");
    // Each compared with the state its apply started from: the unconfirmed apply with the
    // tool's defaults; the apply --no-confirm starts from what the unconfirmed one left.
    for (phase, start, what, log_file) in [
        (
            "unconfirmed",
            "before",
            "an unconfirmed safe apply",
            "unconfirmed.log",
        ),
        (
            "rolled-back",
            "unconfirmed",
            "the roll-back script",
            "rollback.log",
        ),
    ] {
        let (start, now) = (state(&out, start), state(&out, phase));
        if now != start {
            let printed = log(log_file);
            let tail: Vec<&str> = printed.lines().rev().take(12).collect();
            errors.push(format!(
                "{who}: after {what} the state differs from before:\n{}  {log_file} ends:\n    {}",
                line_diff(&start, &now),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
            ));
        }
    }
    let (applied, again) = (state(&out, "applied"), state(&out, "again"));
    if applied != again {
        errors.push(format!(
            "{who}: a second apply loaded other rules:\n{}",
            line_diff(&applied, &again)
        ));
    }
    if applied == before {
        errors.push(format!("{who}: the export changed nothing"));
    }
    // Where the time goes, one line per node.
    let mut last = None;
    let mut steps = Vec::new();
    for (step, at) in log("times").lines().filter_map(|l| l.split_once(' ')) {
        let at: f64 = at.parse().unwrap_or(0.0);
        if let Some(prev) = last {
            steps.push(format!("{step} {:.1}s", at - prev));
        }
        last = Some(at);
    }
    eprintln!("{who}: {}", steps.join(", "));
    errors
}

fn tool_test(tool: Target, tarball_name: &str, tools: &[&str]) {
    if !netns::available(tools) {
        return;
    }
    let Some(tar) = tarball(tarball_name) else {
        return;
    };
    let started = Instant::now();
    let mut errors = Vec::new();
    for (ex, node, egress) in NODES {
        errors.extend(run(tool, &tar, ex, node, egress));
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    eprintln!(
        "{}: {} nodes in the real tool in {:.1?}",
        tool.as_str(),
        NODES.len(),
        started.elapsed()
    );
}

const COMMON_TOOLS: [&str; 9] = [
    "unshare",
    "nsenter",
    "timeout",
    "socat",
    "script",
    "tar",
    "iptables-save",
    "ip6tables-save",
    "ip6tables",
];

#[test]
fn csf_exports_hold_in_the_real_csf() {
    let mut tools = COMMON_TOOLS.to_vec();
    tools.push("perl");
    tool_test(Target::Csf, "csf-15.10.tar.gz", &tools);
}

#[test]
fn apf_exports_hold_in_the_real_apf() {
    tool_test(Target::Apf, "apf-2.0.2.tar.gz", &COMMON_TOOLS);
}

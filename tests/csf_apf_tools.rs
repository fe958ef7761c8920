//! CSF and APF exports in the real tools: CSF 15.10 and APF 2.0.2, installed by their own
//! `install.sh` from the upstream tarballs in `../shared/tools/` (beside the repository, as CI lays
//! it out), inside a network namespace and a private mount namespace (`support/csf_apf_lab.sh`
//! says how the machine itself is kept out of reach).
//!
//! Every Linux node of every example, per tool: one install of the tool and one pair of namespaces
//! (the node's and a peer's, on one veth) serve every Linux node (28 today) in turn; per node only the addresses,
//! the export and a restart change. Egress is strict for the examples whose exports are reviewed
//! strict (plesk-automation, mailstore-spe) and open for the others. The peer holds a source address
//! in every peer network of the node's inbound rules, an outsider of each family, and its
//! link-local address (which reaches a node over IPv6 even where the node has no global IPv6
//! address; IPv6 sources then probe the node's link-local address). The tool runs with its own
//! defaults (the operator's firewall before fwtopo); then the export is applied with
//! `--no-confirm`, and every TCP probe from the peer must connect exactly when the plan's inbound
//! rules allow its source and port, over IPv4 and IPv6. The probes are derived from the plan: the
//! management ports first, then the first port of every other TCP rule, and a port no rule opens,
//! from every source. Each node must have an allowed probe per family it has (IPv6: an address or
//! a peer of its own), a refused one per family, and, where management is restricted, an outsider
//! refused on a management port in each family. The roll-back script the apply leaves must restore
//! the state before exactly (files, iptables-save and ip6tables-save, normalised), for every node.
//! On pa-mn a safe apply that is not confirmed must also roll back by itself, and a second apply
//! must load the same rules.
//!
//! Wall time (`time cargo test --test csf_apf_tools`, both tools in parallel): 10 min 35 s on a
//! 2-core machine shared with other builds (load average 10 to 47), of which 3 min 32 s CPU (user
//! 2:04, sys 1:28, a 27 s build included); the two nodes tested before took 51 s alone and 4 min
//! 14 s under the same kind of load, so about 2.5 min is expected on an idle CI machine. Most of
//! it is the tools restarting (`csf -r`, `apf -r`: 3 to 40 s each under that load).
//!
//! `FWTOPO_LAB_NODES=pa-mn,web1` runs only the nodes named (while working on one export).
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

/// Lines of the lab's /etc/hosts: the one host name the examples' designs use, on documentation
/// addresses (as in the export tests), so no lookup ever leaves the machine.
const HOSTS: &str = "127.0.0.1 localhost\n::1 localhost\n198.51.100.201 my.mailstore.com\n2001:db8:ffff::201 my.mailstore.com";
/// Examples whose exports are reviewed with strict egress (as in export_linux_tools' snapshots).
const STRICT_EXAMPLES: [&str; 2] = ["plesk-automation", "mailstore-spe"];
/// The node that also gets an unconfirmed safe apply and a second apply.
const FULL_NODE: &str = "pa-mn";
/// Sources and ports probed per node, at most (every source probes every port).
const MAX_SOURCES: usize = 8;
const MAX_PORTS: usize = 10;

/// One TCP probe from the peer to the node.
struct Probe {
    name: String,
    dst: String,
    port: u16,
    src: String,
    v6: bool,
    allowed: bool,
    /// An outsider's probe of a management port.
    management: bool,
}

/// An address as socat takes it: IPv6 in brackets, a link-local one with its interface.
fn socat_addr(a: IpAddr, link_local: bool) -> String {
    match a {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) if link_local => format!("[{v6}%eth0]"),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// A host inside a network that is not one of the node's own addresses (a mesh's peer set holds
/// them): the fifth address when there is one, else the first.
fn host_in(net: &IpNet, own: &[IpAddr]) -> Option<IpAddr> {
    if net.prefix_len() == net.max_prefix_len() {
        return Some(net.addr()).filter(|a| !own.contains(a));
    }
    let hosts: Vec<IpAddr> = net.hosts().take(8).collect();
    [4, 0, 1, 2, 3, 5, 6, 7]
        .into_iter()
        .filter_map(|i| hosts.get(i).copied())
        .find(|a| !own.contains(a))
}

fn allows(inbound: &[Rule], src: IpAddr, port: u16) -> bool {
    inbound
        .iter()
        .any(|r| r.protocol == Protocol::Tcp && r.ports.contains(port) && r.peers.contains(src))
}

/// One node's probes and the addresses the peer needs for them.
struct NodeProbes {
    probes: Vec<Probe>,
    sources: Vec<IpAddr>,
    ports: BTreeSet<u16>,
}

/// The probes of one node: every source (one per peer network, outsiders, link-local) to every
/// probed port (management ports first, then the first of each other TCP rule, and a closed one),
/// over each family; IPv6 sources probe the node's link-local address where it has no global one.
fn plan_probes(inbound: &[Rule], node: &[IpAddr], node_ll: IpAddr, peer_ll: IpAddr) -> NodeProbes {
    let mut sources: Vec<IpAddr> = Vec::new();
    for r in inbound {
        let nets: Vec<IpNet> = match &r.peers {
            Peers::V4(v) => v.iter().map(|n| IpNet::V4(*n)).collect(),
            Peers::V6(v) => v.iter().map(|n| IpNet::V6(*n)).collect(),
            Peers::Any | Peers::Dns(_) => Vec::new(),
        };
        // Only documentation addresses are ever probed from (a catalog may pin a vendor's).
        let host = nets
            .iter()
            .filter(|n| is_documentation(n))
            .find_map(|n| host_in(n, node));
        if let Some(h) = host
            && !sources.contains(&h)
            && sources.len() < MAX_SOURCES
        {
            sources.push(h);
        }
    }
    let mut outsiders = Vec::new();
    for v6 in [false, true] {
        let outsider = OUTSIDERS
            .iter()
            .filter_map(|o| o.parse::<IpAddr>().ok())
            .filter(|a| a.is_ipv6() == v6 && !node.contains(a))
            .find(|a| {
                !inbound
                    .iter()
                    .any(|r| !r.peers.is_any() && r.peers.contains(*a))
            });
        if let Some(o) = outsider {
            sources.push(o);
            outsiders.push(o);
        }
    }
    let tcp = || inbound.iter().filter(|r| r.protocol == Protocol::Tcp);
    let first = |r: &Rule| r.ports.ranges().first().map(|p| p.start);
    let management: BTreeSet<u16> = tcp()
        .filter(|r| r.is_management() && !r.peers.is_any())
        .filter_map(first)
        .collect();
    let mut ports = management.clone();
    for p in tcp().filter_map(first) {
        if ports.len() >= MAX_PORTS {
            break;
        }
        ports.insert(p);
    }
    if let Some(closed) = CLOSED
        .into_iter()
        .find(|p| !inbound.iter().any(|r| r.ports.contains(*p)))
    {
        ports.insert(closed);
    }
    let mut probes = Vec::new();
    for &port in &ports {
        for &src in &sources {
            let global = node.iter().find(|d| d.is_ipv6() == src.is_ipv6());
            let (dst, ll) = match (global, src) {
                (Some(&d), _) => (d, false),
                (None, IpAddr::V6(_)) => (node_ll, true),
                (None, IpAddr::V4(_)) => continue,
            };
            probes.push(Probe {
                name: format!("{src}>{port}"),
                dst: socat_addr(dst, ll),
                port,
                src: socat_addr(src, false),
                v6: src.is_ipv6(),
                allowed: allows(inbound, src, port),
                management: outsiders.contains(&src) && management.contains(&port),
            });
        }
        probes.push(Probe {
            name: format!("link-local>{port}"),
            dst: socat_addr(node_ll, true),
            port,
            src: socat_addr(peer_ll, true),
            v6: true,
            allowed: allows(inbound, peer_ll, port),
            management: false,
        });
    }
    NodeProbes {
        probes,
        sources,
        ports,
    }
}

/// What the probes of a node must cover; empty when they do.
fn coverage(inbound: &[Rule], node: &[IpAddr], np: &NodeProbes) -> Vec<String> {
    let mut missing = Vec::new();
    let has_v6 = node.iter().any(IpAddr::is_ipv6)
        || inbound
            .iter()
            .any(|r| matches!(r.peers, Peers::V6(_)) && r.protocol == Protocol::Tcp);
    let restricted_management = inbound
        .iter()
        .any(|r| r.protocol == Protocol::Tcp && r.is_management() && !r.peers.is_any());
    for (v6, family, needs_allowed) in [
        (false, "IPv4", node.iter().any(IpAddr::is_ipv4)),
        (true, "IPv6", has_v6),
    ] {
        let of = || np.probes.iter().filter(move |p| p.v6 == v6);
        if needs_allowed && !of().any(|p| p.allowed) {
            missing.push(format!("no allowed {family} probe"));
        }
        if !of().any(|p| !p.allowed) {
            missing.push(format!("no refused {family} probe"));
        }
        if restricted_management && !of().any(|p| p.management && !p.allowed) {
            missing.push(format!(
                "no {family} probe of a management port from an outsider"
            ));
        }
    }
    missing
}

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
        .unwrap_or_else(|e| format!("@@ missing\n{e}\n"));
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

/// One node's run through a tool.
struct Case {
    who: String,
    dir: PathBuf,
    probes: Vec<Probe>,
    full: bool,
}

/// Whether `FWTOPO_LAB_NODES` (a comma-separated list of node names) leaves this node in.
fn wanted(node: &str) -> bool {
    std::env::var("FWTOPO_LAB_NODES").map_or(true, |v| v.split(',').any(|n| n.trim() == node))
}

/// Every Linux node of every example, with its egress mode, in example order.
fn linux_nodes() -> Vec<(String, fwtopo::topology::Topology, String, Egress)> {
    let mut out = Vec::new();
    for (ex, t) in support::examples() {
        let egress = if STRICT_EXAMPLES.contains(&ex.as_str()) {
            Egress::Strict
        } else {
            Egress::Open
        };
        for n in t
            .nodes
            .iter()
            .filter(|n| !n.os.is_windows() && wanted(&n.name))
        {
            out.push((ex.clone(), t.clone(), n.name.clone(), egress));
        }
    }
    out
}

/// Writes one case directory for the lab; returns the case, or what its probes fail to cover.
fn write_case(
    tool: Target,
    cases: &Path,
    i: usize,
    (ex, t, node, egress): &(String, fwtopo::topology::Topology, String, Egress),
    (node_ll, peer_ll): (IpAddr, IpAddr),
) -> Result<(Case, BTreeSet<u16>), String> {
    let who = format!("{} {ex}/{node}/{egress:?}", tool.as_str());
    let cat = fwtopo::topology::site_catalog(&Catalog::embedded().expect("embedded catalog"), t);
    let plan = derive(&cat, t);
    let np = plan.node(node).expect("node in plan");
    let addrs = &t
        .nodes
        .iter()
        .find(|n| &n.name == node)
        .expect("node")
        .addresses;
    let planned = plan_probes(&np.inbound, addrs, node_ll, peer_ll);
    let missing = coverage(&np.inbound, addrs, &planned);
    if !missing.is_empty() {
        return Err(format!(
            "{who}: the probes fall short: {}",
            missing.join("; ")
        ));
    }
    let dir = cases.join(format!("{i:02}"));
    std::fs::create_dir_all(&dir).expect("mkdir case");
    let cidrs =
        |v: &[IpAddr]| -> String { v.iter().map(|a| format!("{}\n", IpNet::from(*a))).collect() };
    let write = |f: &str, text: String| std::fs::write(dir.join(f), text).expect("write case");
    write("addrs", cidrs(addrs));
    write("sources", cidrs(&planned.sources));
    write(
        "probes",
        planned
            .probes
            .iter()
            .map(|p| {
                let allowed = if p.allowed { "ok" } else { "no" };
                format!("{} {} {} {} {allowed}\n", p.name, p.dst, p.port, p.src)
            })
            .collect(),
    );
    write("script", support::render(&cat, t, node, tool, *egress));
    let full = node == FULL_NODE;
    if full {
        write("full", String::new());
    }
    let case = Case {
        who,
        dir: dir.clone(),
        probes: planned.probes,
        full,
    };
    Ok((case, planned.ports))
}

/// What went wrong in one case, from the lab's output directory of it.
fn check_case(case: &Case, out: &Path) -> Vec<String> {
    let who = &case.who;
    let log = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    let mut errors: Vec<String> = log("failures")
        .lines()
        .map(|l| format!("{who}: {l}"))
        .collect();
    if !out.join("done").exists() {
        errors.push(format!(
            "{who}: the lab stopped in this case; apply.log:\n{}",
            log("apply.log")
        ));
        return errors;
    }
    let seen = |phase: &str| -> Vec<(String, bool)> {
        log(&format!("probes-{phase}"))
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, r)| (n.to_string(), r == "ok"))
            .collect()
    };
    // The lab itself: with the filter tables open every probe connects.
    let open = seen("open");
    if open.len() != case.probes.len() || open.iter().any(|(_, ok)| !ok) {
        errors.push(format!(
            "{who}: the lab is broken before any firewall: {open:?}"
        ));
        return errors;
    }
    // Applied: exactly what the plan allows, both families.
    let applied = seen("applied");
    for p in &case.probes {
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
    // Roll-backs restore the state their apply started from exactly.
    let mut checks = vec![(
        "rolled-back",
        "before",
        "the roll-back script",
        "rollback.log",
    )];
    if case.full {
        checks.extend([
            (
                "unconfirmed",
                "before",
                "an unconfirmed safe apply",
                "unconfirmed.log",
            ),
            (
                "rolled-back-again",
                "before",
                "the second roll-back",
                "rollback-again.log",
            ),
        ]);
    }
    for (phase, start, what, log_file) in checks {
        let (start, now) = (state(out, start), state(out, phase));
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
    let (applied, before) = (state(out, "applied"), state(out, "before"));
    if case.full {
        let again = state(out, "again");
        if applied != again {
            errors.push(format!(
                "{who}: a second apply loaded other rules:\n{}",
                line_diff(&applied, &again)
            ));
        }
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
    eprintln!("{who}: {} probes; {}", case.probes.len(), steps.join(", "));
    errors
}

/// Runs every Linux node's export through one tool, one install for all; returns what went wrong.
fn run(tool: Target, tar: &Path) -> Vec<String> {
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
    let lls = (link_local(&n), link_local(&peer));

    let dir = tempfile::tempdir().expect("temp dir");
    let (out, scratch, cases_dir) = (
        dir.path().join("out"),
        dir.path().join("scratch"),
        dir.path().join("cases"),
    );
    for d in [&out, &scratch, &cases_dir] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    let mut errors = Vec::new();
    let mut cases = Vec::new();
    let mut ports = BTreeSet::new();
    for (i, node) in linux_nodes().iter().enumerate() {
        match write_case(tool, &cases_dir, i, node, lls) {
            Ok((case, p)) => {
                ports.extend(p);
                cases.push(case);
            }
            Err(e) => errors.push(e),
        }
    }
    let driver = dir.path().join("lab.sh");
    std::fs::write(&driver, LAB).expect("write driver");
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let status = n
        .command("timeout")
        .args(["900", "unshare", "-m", "--propagation", "private", "bash"])
        .arg(&driver)
        .env("LAB_TOOL", tool.as_str())
        .env("LAB_TARBALL", tar)
        .env("LAB_SCRATCH", &scratch)
        .env("LAB_OUT", &out)
        .env("LAB_PEER_NS", format!("/run/netns/{}", peer.name()))
        .env("LAB_IFACE", "eth0")
        .env("LAB_ROUTES", DOC_ROUTES.join(" "))
        .env("LAB_PORTS", ports.join(" "))
        .env("LAB_HOSTS", HOSTS)
        .env("LAB_CASES", &cases_dir)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("run the lab driver");
    let log = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    errors.extend(
        log("failures")
            .lines()
            .map(|l| format!("{}: {l}", tool.as_str())),
    );
    if !status.success() {
        errors.push(format!(
            "{}: the lab stopped ({status}); install.log ends:\n{}",
            tool.as_str(),
            log("install.log")
                .lines()
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    for case in &cases {
        let name = case.dir.file_name().expect("case name");
        errors.extend(check_case(case, &out.join(name)));
    }
    errors
}

fn tool_test(tool: Target, tarball_name: &str, tools: &[&str]) {
    if !netns::available(tools) {
        return;
    }
    let Some(tar) = tarball(tarball_name) else {
        return;
    };
    assert!(
        !linux_nodes().is_empty(),
        "no Linux node to run (FWTOPO_LAB_NODES names none?)"
    );
    let started = Instant::now();
    let errors = run(tool, &tar);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    eprintln!(
        "{}: {} Linux nodes in the real tool in {:.1?}",
        tool.as_str(),
        linux_nodes().len(),
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

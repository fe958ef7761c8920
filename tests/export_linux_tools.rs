//! firewalld, ufw, CSF and APF exports: snapshots of every node of every example, the line grammars
//! of CSF and APF, and the real tools where Debian has them.
//!
//! Every check compares what a firewall ends up allowing with what the engine derived, as a map
//! (direction, protocol, peer) -> ports, so a rule that is dropped, widened or put in the wrong
//! family fails whatever the target's syntax. The tools only ever write inside a temporary directory:
//! `firewall-offline-cmd` and `ufw` run in a private mount namespace (`unshare -m`, plus `-n` for
//! ufw, which loads its rules into a fresh network namespace) with copies of their configuration
//! bound over /etc; CSF and APF scripts write below `FWTOPO_ROOT`. A hosts file bound over
//! /etc/hosts in the same private namespace gives my.mailstore.com documentation addresses. Without
//! root or a tool the system tests print `SKIPPED (...)`; with `FWTOPO_REQUIRE_SYSTEM_TESTS=1`
//! that is a failure.

#[path = "support/linux_tools_grammar.rs"]
mod linux_tools_grammar;
mod support;

use fwtopo::catalog::Catalog;
use fwtopo::engine::{Direction, Rule, derive};
use fwtopo::export::Egress;
use fwtopo::net::Peers;
use fwtopo::ports::{PortRange, PortSet};
use fwtopo::target::Target;
use fwtopo::topology::Topology;
use ipnet::IpNet;
use linux_tools_grammar::{is_address, peer_key};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Instant;

const TARGETS: [Target; 4] = [Target::Firewalld, Target::Ufw, Target::Csf, Target::Apf];
const EGRESS: [Egress; 2] = [Egress::Open, Egress::Strict];

/// What the tests' hosts file makes my.mailstore.com resolve to (documentation addresses).
const MS_V4: &str = "198.51.100.201";
const MS_V6: &str = "2001:db8:ffff::201";

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

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
// What a node must allow, and parsers for what a firewall ends up allowing

/// (direction "in"/"out", protocol, peer) -> ports. A peer is "any", a CIDR, or "dns:NAME".
type Flows = BTreeMap<(String, String, String), PortSet>;

/// One parsed rule line, in file order: (direction, protocol, peer, ports).
type Line = (String, String, String, PortSet);

fn add(f: &mut Flows, dir: &str, proto: &str, peer: String, ports: &PortSet) {
    let e = f.entry((dir.into(), proto.into(), peer)).or_default();
    *e = e.union(ports);
}

fn port_range(s: &str) -> PortRange {
    s.replace('_', "-")
        .parse()
        .unwrap_or_else(|e| panic!("bad port '{s}': {e}"))
}

/// `22,80,8000:8010` (any of `-`, `:`, `_` between range ends); empty is no port.
fn port_list(s: &str) -> PortSet {
    PortSet::from_ranges(
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(port_range)
            .collect(),
    )
}

fn dir_word(r: &Rule) -> &'static str {
    match r.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    }
}

/// The rules an export enforces: inbound always, outbound with strict egress.
fn enforced(cat: &Catalog, t: &Topology, node: &str, egress: Egress) -> Vec<Rule> {
    let plan = derive(cat, t);
    let np = plan.node(node).expect("node in plan");
    let mut v = np.inbound.to_vec();
    if egress == Egress::Strict {
        v.extend(np.outbound.iter().cloned());
    }
    v
}

/// What must be allowed. `resolved`: host names become the hosts file's addresses (targets that
/// resolve at apply time); otherwise they stay names (CSF's csf.dyndns).
fn expected(rules: &[Rule], resolved: bool) -> Flows {
    let mut f = Flows::new();
    for r in rules {
        let peers: Vec<String> = match &r.peers {
            Peers::Any => vec!["any".into()],
            Peers::V4(v) => v.iter().map(|n| n.to_string()).collect(),
            Peers::V6(v) => v.iter().map(|n| n.to_string()).collect(),
            Peers::Dns(names) if resolved => names
                .iter()
                .flat_map(|n| {
                    assert_eq!(n, "my.mailstore.com", "the hosts file knows only this name");
                    [peer_key(MS_V4), peer_key(MS_V6)]
                })
                .collect(),
            Peers::Dns(names) => names.iter().map(|n| format!("dns:{n}")).collect(),
        };
        for p in peers {
            add(&mut f, dir_word(r), r.protocol.as_str(), p, &r.ports);
        }
    }
    f
}

/// Management rules only (they must come first).
fn management(rules: &[Rule]) -> Vec<Rule> {
    rules
        .iter()
        .filter(|r| r.is_management())
        .cloned()
        .collect()
}

/// Whether one parsed line (dir, proto, peer, ports) is covered by a flow map.
fn covered(f: &Flows, dir: &str, proto: &str, peer: &str, ports: &PortSet) -> bool {
    f.get(&(dir.into(), proto.into(), peer.into()))
        .is_some_and(|have| have.intersection(ports) == *ports)
}

fn diff(got: &Flows, want: &Flows) -> String {
    let mut s = String::new();
    for (k, v) in want {
        if got.get(k) != Some(v) {
            s += &format!(
                "  want {k:?} {} got {:?}\n",
                v.join("-"),
                got.get(k).map(|p| p.join("-"))
            );
        }
    }
    for (k, v) in got {
        if !want.contains_key(k) {
            s += &format!("  extra {k:?} {}\n", v.join("-"));
        }
    }
    s
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

#[test]
fn ufw_rules_respect_its_limits() {
    for (ex, node, _, target, s) in all_exports() {
        if target == Target::Ufw {
            linux_tools_grammar::check_ufw_limits(&format!("{ex}/{node}"), &s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running the scripts in sandboxes

/// Runs `driver` (a bash script) in a private mount namespace (and a fresh network namespace when
/// `net`), after binding each `(source, target)` over the target and mounting tmpfs on `tmpfs`.
fn sandbox(dir: &Path, net: bool, binds: &[(&Path, &str)], tmpfs: &[&str], driver: &str) -> Output {
    let d = dir.join(format!("driver-{}.sh", std::process::id()));
    std::fs::write(&d, driver).expect("write driver");
    let mut setup = vec!["mount --make-rprivate /".to_string()];
    for (src, dst) in binds {
        setup.push(format!("mount --bind '{}' '{dst}'", src.display()));
    }
    for t in tmpfs {
        setup.push(format!("mount -t tmpfs tmpfs '{t}'"));
    }
    if net {
        // Addresses for getaddrinfo's AI_ADDRCONFIG (getent ahosts*), inside the new namespace only.
        setup.push("ip link set lo up && ip link add fwt0 type veth peer name fwt1 && ip addr add 192.0.2.254/24 dev fwt0 && ip addr add 2001:db8::fe/64 dev fwt0 nodad && ip link set fwt1 up && ip link set fwt0 up".into());
    }
    setup.push(format!("exec bash '{}'", d.display()));
    let mut c = Command::new("unshare");
    c.arg("-m");
    if net {
        c.arg("-n");
    }
    c.args(["bash", "-c", &setup.join(" && ")])
        .stdin(Stdio::null())
        .output()
        .expect("run unshare")
}

fn hosts_file(dir: &Path) -> PathBuf {
    let p = dir.join("hosts");
    std::fs::write(
        &p,
        format!("127.0.0.1 localhost\n::1 localhost\n{MS_V4} my.mailstore.com\n{MS_V6} my.mailstore.com\n"),
    )
    .expect("write hosts");
    p
}

fn cp_a(from: &str, to: &Path) {
    let st = Command::new("cp")
        .args(["-a", from])
        .arg(to)
        .status()
        .expect("run cp");
    assert!(st.success(), "cp -a {from}");
}

/// The nodes the slow tools run on: per example up to three Linux nodes with distinct role sets,
/// or the first node where an example has only Windows nodes (MailStore: its management server
/// reaches a host name).
fn representative_nodes() -> Vec<(String, Topology, String)> {
    use fwtopo::topology::OsFamily;
    let mut out = Vec::new();
    for (ex, t) in support::examples() {
        let mut seen = BTreeSet::new();
        let linux: Vec<_> = t
            .nodes
            .iter()
            .filter(|n| n.os.family() == OsFamily::Linux)
            .collect();
        let pool = if linux.is_empty() {
            vec![&t.nodes[0]]
        } else {
            linux
        };
        for n in pool {
            let mut roles: Vec<String> = n
                .roles
                .iter()
                .map(|r| format!("{}/{}", r.product, r.role))
                .collect();
            roles.sort();
            if seen.len() < 3 && seen.insert(roles) {
                out.push((ex.clone(), t.clone(), n.name.clone()));
            }
        }
    }
    out
}

/// Runs `jobs` on two threads (the slow tools are single-threaded Python) and fails with every
/// collected message at the end.
fn run_parallel<J: Send>(jobs: Vec<J>, f: impl Fn(J) -> Result<(), String> + Sync) {
    let queue = Mutex::new(jobs);
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let job = queue.lock().expect("queue").pop();
                    let Some(job) = job else { break };
                    if let Err(e) = f(job) {
                        errors.lock().expect("errors").push(e);
                    }
                }
            });
        }
    });
    let errors = errors.into_inner().expect("errors");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// firewalld with firewall-offline-cmd

fn attr<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let i = line.find(&format!(" {name}=\""))? + name.len() + 3;
    let rest = &line[i..];
    Some(&rest[..rest.find('"')?])
}

/// An ipset file: (family option is inet6, entries).
fn ipset(etc: &Path, name: &str) -> (bool, Vec<String>) {
    let xml = std::fs::read_to_string(etc.join("ipsets").join(format!("{name}.xml")))
        .unwrap_or_else(|e| panic!("ipset {name}: {e}"));
    assert!(xml.contains("<ipset type=\"hash:net\">"), "{xml}");
    let v6 = xml.contains("<option name=\"family\" value=\"inet6\"/>");
    let entries = xml
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("<entry>")?
                .strip_suffix("</entry>")
                .map(String::from)
        })
        .collect();
    (v6, entries)
}

/// What a zone (`in`) or policy (`out`) XML allows; checks families and returns management ports
/// (rules with priority -100) separately.
fn firewalld_flows(etc: &Path, xml: &str, dir: &str) -> Result<(Flows, Flows), String> {
    let (mut all, mut first) = (Flows::new(), Flows::new());
    let mut in_rule = false;
    let mut fam: Option<String> = None;
    let mut prio = false;
    let mut peers: Vec<String> = Vec::new();
    let mut port: Option<(String, PortSet)> = None;
    // Whether the rule names a peer (an empty ipset then allows nobody, not everybody).
    let mut named = false;
    for l in xml.lines().map(str::trim) {
        if l.starts_with("<rule") {
            in_rule = true;
            fam = attr(l, "family").map(String::from);
            prio = attr(l, "priority") == Some("-100");
            peers.clear();
            named = false;
            port = None;
        } else if l == "</rule>" {
            in_rule = false;
            let (proto, ports) = port.take().ok_or("rule without port")?;
            if !named {
                peers.push("any".into());
            }
            for p in &peers {
                add(&mut all, dir, &proto, p.clone(), &ports);
                if prio {
                    add(&mut first, dir, &proto, p.clone(), &ports);
                }
            }
        } else if l.starts_with("<port ") {
            let proto = attr(l, "protocol")
                .ok_or("port without protocol")?
                .to_string();
            let ports = port_list(attr(l, "port").ok_or("port without port")?);
            if in_rule {
                port = Some((proto, ports));
            } else {
                add(&mut all, dir, &proto, "any".into(), &ports);
            }
        } else if l.starts_with("<source ") || l.starts_with("<destination ") {
            named = true;
            let want6 = match fam.as_deref() {
                Some("ipv6") => true,
                Some("ipv4") => false,
                other => return Err(format!("address element without family: {other:?} {l}")),
            };
            if let Some(a) = attr(l, "address") {
                let n: IpNet = a.parse().map_err(|e| format!("{a}: {e}"))?;
                if n.addr().is_ipv6() != want6 {
                    return Err(format!("family mismatch: {l}"));
                }
                peers.push(peer_key(a));
            } else if let Some(s) = attr(l, "ipset") {
                let (v6, entries) = ipset(etc, s);
                if v6 != want6 {
                    return Err(format!("ipset {s} family mismatch"));
                }
                for e in entries {
                    if e.contains(':') != want6 {
                        return Err(format!("ipset {s}: entry {e} of the other family"));
                    }
                    peers.push(peer_key(&e));
                }
            } else {
                return Err(format!("unexpected peer element {l}"));
            }
        }
    }
    Ok((all, first))
}

/// Every XML file firewalld keeps, by relative path (`.old` backups excluded).
fn firewalld_files(etc: &Path) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for sub in ["zones", "ipsets", "policies", ""] {
        let Ok(rd) = std::fs::read_dir(etc.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".xml") || name == "firewalld.conf" {
                m.insert(
                    format!("{sub}/{name}"),
                    std::fs::read_to_string(&p).unwrap_or_default(),
                );
            }
        }
    }
    m
}

/// A fresh copy of /etc/firewalld plus a foreign zone binding and ipset that must survive.
fn firewalld_root(dir: &Path) -> PathBuf {
    let etc = dir.join("etc-firewalld");
    cp_a("/etc/firewalld", &etc);
    std::fs::write(
        etc.join("ipsets/operator-set.xml"),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ipset type=\"hash:ip\">\n  <entry>192.0.2.99</entry>\n</ipset>\n",
    )
    .expect("foreign ipset");
    etc
}

/// Runs the offline variant in a sandbox: `runs` scripts in order, each twice when `twice`;
/// returns the files after each run.
fn firewalld_offline(
    dir: &Path,
    etc: &Path,
    scripts: &[&str],
    twice: bool,
) -> Result<Vec<BTreeMap<String, String>>, String> {
    let hosts = hosts_file(dir);
    let mut results = Vec::new();
    for (i, s) in scripts.iter().enumerate() {
        let p = dir.join(format!("fw{i}.sh"));
        std::fs::write(&p, s).expect("write script");
        for _ in 0..(if twice { 2 } else { 1 }) {
            let out = sandbox(
                dir,
                true,
                &[(etc, "/etc/firewalld"), (&hosts, "/etc/hosts")],
                &[],
                &format!(
                    "FWTOPO_INTERFACES='eth0 eth1' bash '{}' --offline\n",
                    p.display()
                ),
            );
            if !out.status.success() {
                return Err(format!(
                    "script {i} failed: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            results.push(firewalld_files(etc));
        }
    }
    Ok(results)
}

fn firewalld_check(
    ex: &str,
    t: &Topology,
    node: &str,
    egress: Egress,
    twice: bool,
) -> Result<(), String> {
    let cat = catalog();
    let dir = tempfile::tempdir().expect("temp dir");
    let etc = firewalld_root(dir.path());
    let script = support::render(&cat, t, node, Target::Firewalld, egress);
    let who = format!("firewalld {ex}/{node}/{egress:?}");
    let runs = firewalld_offline(dir.path(), &etc, &[&script], twice)
        .map_err(|e| format!("{who}: {e}"))?;
    if twice && runs[0] != runs[1] {
        let changed: Vec<&String> = runs[0]
            .keys()
            .filter(|k| runs[0].get(*k) != runs[1].get(*k))
            .collect();
        return Err(format!("{who}: second run changed {changed:?}"));
    }
    let files = &runs[0];
    let zone = files
        .get("zones/fwtopo.xml")
        .ok_or(format!("{who}: no zone"))?;
    if !zone.contains("<zone target=\"DROP\">")
        || !zone.contains("<protocol value=\"icmp\"/>")
        || !zone.contains("<protocol value=\"ipv6-icmp\"/>")
        || !zone.contains("<interface name=\"eth0\"/>")
        || !zone.contains("<interface name=\"eth1\"/>")
    {
        return Err(format!(
            "{who}: zone lacks target, ICMP or interfaces:\n{zone}"
        ));
    }
    if !files.contains_key("ipsets/operator-set.xml") {
        return Err(format!("{who}: a foreign ipset was removed"));
    }
    let rules = enforced(&cat, t, node, egress);
    let (mut got, first) = firewalld_flows(&etc, zone, "in").map_err(|e| format!("{who}: {e}"))?;
    match (egress, files.get("policies/fwtopo-out.xml")) {
        (Egress::Open, None) => {}
        (Egress::Strict, Some(p)) => {
            if !p.contains("<policy target=\"DROP\">")
                || !p.contains("<ingress-zone name=\"HOST\"/>")
                || !p.contains("<egress-zone name=\"ANY\"/>")
            {
                return Err(format!("{who}: policy shape:\n{p}"));
            }
            let (out, _) = firewalld_flows(&etc, p, "out").map_err(|e| format!("{who}: {e}"))?;
            got.extend(out);
        }
        (e, p) => return Err(format!("{who}: policy present={} with {e:?}", p.is_some())),
    }
    let want = expected(&rules, true);
    if got != want {
        return Err(format!(
            "{who}: allows something else:\n{}",
            diff(&got, &want)
        ));
    }
    // Management rules come first: rich rules at priority -100.
    let mgmt = management(&rules);
    if first != expected(&mgmt, true) {
        return Err(format!(
            "{who}: management rules not at priority -100:\n{}",
            diff(&first, &expected(&mgmt, true))
        ));
    }
    Ok(())
}

#[test]
fn firewalld_offline_cmd_accepts_every_export_and_reruns_identically() {
    if !support::require_root()
        || !support::require("unshare")
        || !support::require("firewall-offline-cmd")
    {
        return;
    }
    let started = Instant::now();
    let mut jobs = Vec::new();
    let mut first_of = BTreeSet::new();
    for (ex, t, node) in representative_nodes() {
        // Run twice on the first node of each example (idempotence), once on the others.
        let twice = first_of.insert(ex.clone());
        jobs.push((ex.clone(), t.clone(), node.clone(), Egress::Open, twice));
        if ex == "plesk-automation" || ex == "mailstore-spe" {
            jobs.push((ex, t, node, Egress::Strict, twice));
        }
    }
    let n = jobs.len();
    run_parallel(jobs, |(ex, t, node, e, twice)| {
        firewalld_check(&ex, &t, &node, e, twice)
    });
    eprintln!(
        "firewalld: {n} offline exports checked in {:.1?}",
        started.elapsed()
    );
}

#[test]
fn firewalld_switching_egress_removes_the_policy_and_stale_ipsets() {
    if !support::require_root()
        || !support::require("unshare")
        || !support::require("firewall-offline-cmd")
    {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let etc = firewalld_root(dir.path());
    let strict = support::render(&cat, &t, "pa-mn", Target::Firewalld, Egress::Strict);
    let open = support::render(&cat, &t, "pa-mn", Target::Firewalld, Egress::Open);
    let runs =
        firewalld_offline(dir.path(), &etc, &[&open, &strict, &open], false).expect("offline runs");
    assert!(runs[1].contains_key("policies/fwtopo-out.xml"));
    assert!(
        !runs[2].contains_key("policies/fwtopo-out.xml"),
        "policy left behind"
    );
    assert_eq!(runs[0], runs[2], "open -> strict -> open differs from open");
    let sets =
        |r: &BTreeMap<String, String>| r.keys().filter(|k| k.starts_with("ipsets/fwtopo-")).count();
    assert!(
        sets(&runs[1]) > sets(&runs[0]),
        "strict mode should add outbound ipsets"
    );
}

// ---------------------------------------------------------------------------------------------
// ufw in a private mount and network namespace

/// Copies of ufw's configuration, with an empty sysctl file (the namespace's sysctls are its own,
/// but nothing needs changing).
fn ufw_root(dir: &Path) -> (PathBuf, PathBuf) {
    let etc = dir.join("etc-ufw");
    cp_a("/etc/ufw", &etc);
    std::fs::write(etc.join("sysctl.conf"), "").expect("blank sysctl.conf");
    let default = dir.join("default-ufw");
    cp_a("/etc/default/ufw", &default);
    (etc, default)
}

fn ufw_sandbox(dir: &Path, etc: &Path, default: &Path, driver: &str) -> Output {
    let hosts = hosts_file(dir);
    sandbox(
        dir,
        true,
        &[
            (etc, "/etc/ufw"),
            (default, "/etc/default/ufw"),
            (&hosts, "/etc/hosts"),
        ],
        &["/run"],
        driver,
    )
}

/// What `ufw show added` lines tagged fwtopo allow; also checks every line's shape.
fn ufw_flows(added: &str) -> Result<(Flows, Vec<Line>), String> {
    let mut f = Flows::new();
    let mut order = Vec::new();
    for l in added.lines() {
        let Some(body) = l
            .strip_prefix("ufw ")
            .and_then(|b| b.strip_suffix(" comment 'fwtopo'"))
        else {
            continue;
        };
        let w: Vec<&str> = body.split_whitespace().collect();
        let (dir, proto, peer, ports) = match w.as_slice() {
            ["allow", pp] | ["allow", "out", pp] => {
                let (p, proto) = pp.split_once('/').ok_or(format!("bad rule {l}"))?;
                (
                    if w.len() == 3 { "out" } else { "in" },
                    proto,
                    "any".to_string(),
                    port_list(p),
                )
            }
            ["allow", "from", a, "to", "any", "port", p, "proto", proto] => {
                ("in", *proto, peer_key(a), port_list(p))
            }
            ["allow", "out", "to", a, "port", p, "proto", proto] => {
                ("out", *proto, peer_key(a), port_list(p))
            }
            _ => return Err(format!("unexpected rule {l}")),
        };
        add(&mut f, dir, proto, peer.clone(), &ports);
        order.push((dir.to_string(), proto.to_string(), peer, ports));
    }
    Ok((f, order))
}

const UFW_STATE: &str = "for f in user.rules user6.rules ufw.conf; do echo \"@@ $f\"; cat /etc/ufw/$f; done; echo '@@ default'; cat /etc/default/ufw; echo '@@ added'; ufw show added; echo '@@ status'; ufw status verbose; echo '@@ end'";

fn ufw_check(ex: &str, t: &Topology, node: &str, egress: Egress) -> Result<(), String> {
    let cat = catalog();
    let dir = tempfile::tempdir().expect("temp dir");
    let (etc, default) = ufw_root(dir.path());
    let script = dir.path().join("ufw.sh");
    std::fs::write(&script, support::render(&cat, t, node, Target::Ufw, egress)).expect("write");
    let who = format!("ufw {ex}/{node}/{egress:?}");
    // A foreign rule that must survive; two runs, the state after each.
    let driver = format!(
        "set -e\nufw allow 8888/tcp comment operator >/dev/null\n\
         bash '{s}' --no-confirm >/dev/null 2>'{e}' || {{ cat '{e}'; exit 1; }}\n\
         echo @@one; {UFW_STATE}\n\
         bash '{s}' --no-confirm >/dev/null 2>&1\n\
         echo @@two; {UFW_STATE}\n\
         echo @@iptables; iptables -S ufw-user-input | wc -l\n",
        s = script.display(),
        e = dir.path().join("err1").display()
    );
    let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || !text.contains("@@iptables") {
        return Err(format!(
            "{who}: failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let one = text
        .split("@@one")
        .nth(1)
        .and_then(|s| s.split("@@two").next())
        .unwrap_or_default();
    let two = text
        .split("@@two")
        .nth(1)
        .and_then(|s| s.split("@@iptables").next())
        .unwrap_or_default();
    if one != two {
        return Err(format!(
            "{who}: second run changed the rules:\n--- one\n{one}\n--- two\n{two}"
        ));
    }
    let added = one
        .split("@@ added")
        .nth(1)
        .and_then(|s| s.split("@@ status").next())
        .unwrap_or_default();
    if !added.contains("ufw allow 8888/tcp comment 'operator'") {
        return Err(format!("{who}: the operator's rule is gone"));
    }
    let status = one.split("@@ status").nth(1).unwrap_or_default();
    let out_policy = if egress == Egress::Strict {
        "deny (outgoing)"
    } else {
        "allow (outgoing)"
    };
    if !status.contains("Status: active")
        || !status.contains("deny (incoming)")
        || !status.contains(out_policy)
    {
        return Err(format!("{who}: status:\n{status}"));
    }
    let rules = enforced(&cat, t, node, egress);
    let (got, order) = ufw_flows(added).map_err(|e| format!("{who}: {e}"))?;
    let want = expected(&rules, true);
    if got != want {
        return Err(format!(
            "{who}: allows something else:\n{}",
            diff(&got, &want)
        ));
    }
    // Management first: ufw lists IPv4 rules, then IPv6 ones, each in the order they were added.
    let mgmt = expected(&management(&rules), true);
    for fam6 in [false, true] {
        // Rules open to any (both families) are listed once, among the IPv4 ones.
        let lines: Vec<_> = order
            .iter()
            .filter(|(_, _, p, _)| p.contains(':') == fam6)
            .collect();
        let k = lines
            .iter()
            .take_while(|(d, pr, p, ps)| covered(&mgmt, d, pr, p, ps))
            .count();
        let total = lines
            .iter()
            .filter(|(d, pr, p, ps)| covered(&mgmt, d, pr, p, ps))
            .count();
        if k != total {
            return Err(format!("{who}: a management rule comes after another rule"));
        }
    }
    let loaded: usize = text
        .rsplit("@@iptables")
        .next()
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0);
    if loaded < 2 {
        return Err(format!("{who}: no rules loaded into the kernel"));
    }
    Ok(())
}

#[test]
fn ufw_accepts_every_export_and_reruns_identically() {
    if !support::require_root() || !support::require("unshare") || !support::require("ufw") {
        return;
    }
    let started = Instant::now();
    let mut jobs = Vec::new();
    for (ex, t, node) in representative_nodes() {
        jobs.push((ex.clone(), t.clone(), node.clone(), Egress::Open));
        if ex == "plesk-automation" || ex == "mailstore-spe" {
            jobs.push((ex, t, node, Egress::Strict));
        }
    }
    let n = jobs.len();
    run_parallel(jobs, |(ex, t, node, e)| ufw_check(&ex, &t, &node, e));
    eprintln!(
        "ufw: {n} exports applied twice in {:.1?}",
        started.elapsed()
    );
}

#[test]
fn ufw_removes_only_its_stale_rules() {
    if !support::require_root() || !support::require("unshare") || !support::require("ufw") {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let (etc, default) = ufw_root(dir.path());
    let strict = dir.path().join("strict.sh");
    let open = dir.path().join("open.sh");
    std::fs::write(
        &strict,
        support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Strict),
    )
    .expect("write");
    std::fs::write(
        &open,
        support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Open),
    )
    .expect("write");
    let driver = format!(
        "set -e\nbash '{o}' --no-confirm >/dev/null 2>&1\necho @@a; ufw show added\n\
         ufw allow from 192.0.2.9 to any port 7 proto tcp comment fwtopo >/dev/null\n\
         ufw allow 9/udp comment operator >/dev/null\n\
         bash '{s}' --no-confirm >/dev/null 2>&1\n\
         bash '{o}' --no-confirm >/dev/null 2>&1\necho @@b; ufw show added\necho @@end\n",
        o = open.display(),
        s = strict.display()
    );
    let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("@@end"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = text
        .split("@@a")
        .nth(1)
        .and_then(|s| s.split("@@b").next())
        .unwrap_or_default();
    let b = text
        .split("@@b")
        .nth(1)
        .and_then(|s| s.split("@@end").next())
        .unwrap_or_default();
    assert!(!b.contains("192.0.2.9"), "stale tagged rule kept:\n{b}");
    assert!(
        !b.contains("allow out"),
        "strict outbound rules kept after switching to open:\n{b}"
    );
    assert!(
        b.contains("ufw allow 9/udp comment 'operator'"),
        "foreign rule removed:\n{b}"
    );
    assert_eq!(a, b.replace("ufw allow 9/udp comment 'operator'\n", ""));
}

#[test]
fn ufw_safe_apply_rolls_back_unless_confirmed() {
    if !support::require_root()
        || !support::require("unshare")
        || !support::require("ufw")
        || !support::require("script")
    {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    for (answer, kept) in [("", false), ("yes", true)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (etc, default) = ufw_root(dir.path());
        let s = dir.path().join("ufw.sh");
        let state = dir.path().join("state");
        std::fs::write(
            &s,
            support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Open),
        )
        .expect("write");
        // `script` gives the run a terminal; the answer (or nothing) arrives on it.
        let driver = format!(
            "before=$(cat /etc/ufw/user.rules)\n\
             printf '{answer}\\n' | FWTOPO_CONFIRM_SECONDS=3 FWTOPO_STATE_DIR='{st}' script -qec \"bash '{s}'\" /dev/null >/dev/null 2>&1\n\
             echo \"@@rc=$?\"\n\
             if [ \"$(cat /etc/ufw/user.rules)\" = \"$before\" ]; then echo @@restored; fi\n\
             grep -q '^ENABLED=yes' /etc/ufw/ufw.conf && echo @@enabled\n\
             sleep 1; pgrep -f '{st}/ufw-rollback.sh --after' >/dev/null && echo @@timer-left\n\
             echo @@end\n",
            answer = if answer.is_empty() { "" } else { answer },
            st = state.display(),
            s = s.display()
        );
        // Without an answer the prompt would wait out its 3 s; an empty line answers "not yes".
        let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("@@end"),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains("@@timer-left"),
            "the roll-back timer was left running"
        );
        if kept {
            assert!(
                text.contains("@@rc=0")
                    && text.contains("@@enabled")
                    && !text.contains("@@restored"),
                "{text}"
            );
        } else {
            assert!(
                text.contains("@@restored") && !text.contains("@@enabled"),
                "not rolled back: {text}"
            );
        }
        assert!(state.join("ufw-rollback.sh").exists() && state.join("ufw-backup.tar").exists());
    }
}

/// The session dies (SIGKILL, no EXIT trap) while the script waits for `yes`: only the detached
/// timer is left, and it must restore the old rules on its own.
#[test]
fn ufw_detached_timer_rolls_back_after_a_dropped_session() {
    if !support::require_root()
        || !support::require("unshare")
        || !support::require("ufw")
        || !support::require("script")
    {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let (etc, default) = ufw_root(dir.path());
    let s = dir.path().join("dropped.sh");
    let state = dir.path().join("state");
    std::fs::write(
        &s,
        support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Open),
    )
    .expect("write");
    let driver = format!(
        r#"before=$(cat /etc/ufw/user.rules)
# A terminal whose input stays open with nothing typed: script reads from a FIFO we hold open.
mkfifo '{st}.in'
sleep 120 > '{st}.in' &
FEED=$!
FWTOPO_CONFIRM_SECONDS=3 FWTOPO_STATE_DIR='{st}' script -qec "bash '{s}'" /dev/null < '{st}.in' >/dev/null 2>&1 &
# At the prompt: the short timer (3 s) has replaced the one armed for the apply itself.
for i in $(seq 1 600); do pgrep -f '{st}/ufw-rollback.sh --after 3 ' >/dev/null && break; sleep 0.1; done
grep -q '^ENABLED=yes' /etc/ufw/ufw.conf && echo @@applied
pkill -9 -f "bash {s}"
sleep 6
[ "$(cat /etc/ufw/user.rules)" = "$before" ] && echo @@restored
grep -q '^ENABLED=yes' /etc/ufw/ufw.conf || echo @@disabled
kill $FEED 2>/dev/null || true
echo @@end
"#,
        st = state.display(),
        s = s.display()
    );
    let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("@@end"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("@@applied"),
        "the script never reached its prompt: {text}"
    );
    assert!(
        text.contains("@@restored") && text.contains("@@disabled"),
        "the detached timer did not roll back: {text}\n{}",
        std::fs::read_to_string(state.join("rollback.log")).unwrap_or_default()
    );
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

/// The peer-restricted lines of management rules come before all others.
fn management_first(rules: &[Rule], order: &[Line], resolved: bool) -> Result<(), String> {
    let mgmt = expected(&management(rules), resolved);
    let is_m = |(d, p, peer, ps): &Line| covered(&mgmt, d, p, peer, ps);
    let k = order.iter().take_while(|x| is_m(x)).count();
    if order.iter().filter(|x| is_m(x)).count() != k {
        return Err("a management line comes after another line".into());
    }
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

// ---------------------------------------------------------------------------------------------
// firewalld with a real daemon: its own D-Bus system bus and firewalld, in a private mount and
// network namespace, so `firewall-cmd` is exercised online (permanent config, --reload, interface
// detection from the node's addresses, safe apply).

#[test]
fn firewalld_daemon_applies_rolls_back_unless_confirmed_and_reruns_identically() {
    if !support::require_root()
        || !support::require("unshare")
        || !support::require("firewalld")
        || !support::require("dbus-daemon")
        || !support::require("script")
    {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let etc = firewalld_root(d);
    let s = d.join("pa-mn.sh");
    std::fs::write(
        &s,
        support::render(&cat, &t, "pa-mn", Target::Firewalld, Egress::Strict),
    )
    .expect("write");
    let state = d.join("state");
    let started = Instant::now();
    // pa-mn's addresses on a veth, so the script finds its interface by itself.
    let driver = format!(
        r#"set -u
ip link add fwt2 type veth peer name fwt3
ip addr add 203.0.113.2/24 dev fwt2 && ip addr add 2001:db8:10::2/64 dev fwt2 nodad
ip link set fwt3 up && ip link set fwt2 up
mkdir -p /run/dbus
dbus-daemon --system --nofork --nopidfile &
BUS=$!
for i in $(seq 1 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.1; done
firewalld --nofork --nopid --log-target=console >'{d}/firewalld.log' 2>&1 &
FWD=$!
# Both daemons are ours and die with this driver, whatever happens.
trap 'kill $FWD $BUS 2>/dev/null; wait 2>/dev/null' EXIT
for i in $(seq 1 120); do firewall-cmd --state >/dev/null 2>&1 && break; sleep 0.5; done
firewall-cmd --state >/dev/null 2>&1 || {{ echo @@no-daemon; exit 1; }}
zone() {{ firewall-cmd --get-zone-of-interface=fwt2 2>/dev/null || echo none; }}
echo "@@before $(zone)"
printf '\n' | FWTOPO_CONFIRM_SECONDS=3 FWTOPO_STATE_DIR='{st}' script -qec "bash '{s}'" /dev/null >'{d}/no.log' 2>&1
echo "@@no rc=$? zone=$(zone) permanent=$(firewall-cmd --permanent --get-zones | grep -c fwtopo)"
printf 'yes\n' | FWTOPO_CONFIRM_SECONDS=5 FWTOPO_STATE_DIR='{st}' script -qec "bash '{s}'" /dev/null >'{d}/yes.log' 2>&1
echo "@@yes rc=$? zone=$(zone) policy=$(firewall-cmd --get-policies | grep -c fwtopo-out)"
firewall-cmd --zone=fwtopo --list-all | sort > '{d}/runtime1'
cp /etc/firewalld/zones/fwtopo.xml '{d}/zone1'
bash '{s}' --no-confirm >'{d}/again.log' 2>&1
echo "@@again rc=$? zone=$(zone)"
firewall-cmd --zone=fwtopo --list-all | sort > '{d}/runtime2'
cp /etc/firewalld/zones/fwtopo.xml '{d}/zone2'
sleep 1; pgrep -f '{st}/firewalld-rollback.sh --after' >/dev/null && echo @@timer-left
echo @@end
"#,
        d = d.display(),
        st = state.display(),
        s = s.display()
    );
    let out = sandbox(d, true, &[(&etc, "/etc/firewalld")], &["/run"], &driver);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = |n: &str| std::fs::read_to_string(d.join(n)).unwrap_or_default();
    assert!(
        text.contains("@@end"),
        "{text}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        log("firewalld.log")
    );
    assert!(text.contains("@@before none"), "{text}");
    // Not confirmed: the interface is back where it was and our zone is gone, runtime and permanent.
    assert!(
        text.contains("@@no rc=1 zone=none permanent=0"),
        "{text}\n{}",
        log("no.log")
    );
    // Confirmed: our zone holds the interface found by the node's address, the policy is active.
    assert!(
        text.contains("@@yes rc=0 zone=fwtopo policy=1"),
        "{text}\n{}",
        log("yes.log")
    );
    assert!(
        text.contains("@@again rc=0 zone=fwtopo"),
        "{text}\n{}",
        log("again.log")
    );
    assert!(
        !text.contains("@@timer-left"),
        "a roll-back timer was left running"
    );
    assert_eq!(
        log("runtime1"),
        log("runtime2"),
        "a re-run changed the runtime zone"
    );
    assert_eq!(log("zone1"), log("zone2"), "a re-run changed the zone file");
    let rt = log("runtime1");
    assert!(
        rt.contains("target: DROP") && rt.contains("interfaces: fwt2"),
        "{rt}"
    );
    assert!(
        rt.contains(r#"rule priority="-100" family="ipv4" source address="198.51.100.0/28" port port="22" protocol="tcp" accept"#),
        "{rt}"
    );
    assert!(
        !log("yes.log").contains("No record of process"),
        "{}",
        log("yes.log")
    );
    eprintln!(
        "firewalld daemon: two safe applies and a re-run in {:.1?}",
        started.elapsed()
    );
}

//! Kernel behaviour of the nftables and iptables exports for the PA example.
//!
//! One network namespace per node (the management node and two Linux service nodes), an operator in
//! the admin zone and an outsider, all on one bridge that lives in a namespace of its own, with the
//! documentation addresses of examples/plesk-automation.ron. Each node gets its export; listeners
//! bind every probed port. Every probe's outcome must match the plan: a probe connects exactly when
//! the destination's inbound rules allow the source (and, under strict egress, the source's outbound
//! rules allow the destination); everything else is dropped (a timeout, not a refusal). Traffic stays
//! inside the namespaces made here, which are deleted on drop.
//!
//! The listeners and probes are this test binary itself, started inside a namespace with
//! `ip netns exec` and told what to do by an environment variable (see the `helper_` tests).

mod support;

use fwtopo::catalog::Catalog;
use fwtopo::engine::{self, NodePlan, Plan};
use fwtopo::export::{Egress, Export, Options};
use fwtopo::ports::Protocol;
use fwtopo::target::Target;
use fwtopo::topology::Topology;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::netns::{self, Netns};

const LISTEN_ENV: &str = "FWTOPO_TEST_LISTEN";
const PROBE_ENV: &str = "FWTOPO_TEST_PROBE";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The firewalled nodes of the example that take part.
const NODES: [&str; 3] = ["pa-mn", "pa-web-apache", "pa-mail-postfix"];
/// An operator's workstation in the admin zone (198.51.100.0/28, 2001:db8:ad::/64).
const ADMIN: [&str; 2] = ["198.51.100.5", "2001:db8:ad::5"];
/// A host on the same link that no flow names.
const OUTSIDER: [&str; 2] = ["203.0.113.99", "2001:db8:10::99"];

// ---------------------------------------------------------------------------------------------
// Helpers run inside namespaces (no-ops in a normal test run)

/// Listens on the ports in `FWTOPO_TEST_LISTEN` (dual-stack), says READY, and exits when stdin closes.
#[test]
fn helper_listen() {
    let Ok(ports) = std::env::var(LISTEN_ENV) else {
        return;
    };
    for p in ports.split(',').filter(|p| !p.is_empty()) {
        let port: u16 = p.parse().expect("port");
        let l = TcpListener::bind(("::", port)).unwrap_or_else(|e| panic!("bind [::]:{port}: {e}"));
        std::thread::spawn(move || {
            for s in l.incoming() {
                drop(s);
            }
        });
    }
    // libtest prints "test helper_listen ... " first, on the same line.
    println!("FWTOPO-READY");
    std::io::stdout().flush().expect("flush");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::exit(0);
}

/// Connects to every address in `FWTOPO_TEST_PROBE` at once and prints `PROBE <addr> <outcome>`.
#[test]
fn helper_probe() {
    let Ok(list) = std::env::var(PROBE_ENV) else {
        return;
    };
    let handles: Vec<_> = list
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let addr: SocketAddr = s.parse().expect("socket address");
            std::thread::spawn(move || {
                let outcome = match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                    Ok(_) => "ok",
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => "timeout",
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => "refused",
                    // A local egress drop fails connect() at once with EPERM.
                    Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => "denied",
                    Err(_) => "error",
                };
                (addr, outcome)
            })
        })
        .collect();
    for h in handles {
        let (addr, outcome) = h.join().expect("probe thread");
        println!("PROBE {addr} {outcome}");
    }
    std::process::exit(0);
}

/// This test binary inside a namespace, running one helper.
fn helper(ns: &Netns, name: &str, env: &str, value: &str) -> std::process::Command {
    let exe = std::env::current_exe().expect("test binary path");
    let mut c = ns.command(exe.to_str().expect("utf-8 path"));
    c.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(env, value);
    c
}

/// A listener process; killed on drop.
struct Listener(Child);

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn listen(ns: &Netns, ports: &BTreeSet<u16>) -> Listener {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let mut child = helper(ns, "helper_listen", LISTEN_ENV, &list.join(","))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn listener");
    let out = child.stdout.take().expect("stdout is piped");
    let l = Listener(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ready = BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.ends_with("FWTOPO-READY"));
        let _ = tx.send(ready);
    });
    let ready = rx.recv_timeout(Duration::from_secs(20)).unwrap_or(false);
    assert!(ready, "listener in {} did not start", ns.name());
    l
}

/// Probes every address from inside `ns`; returns each address with its outcome.
fn probe(ns: &Netns, targets: &[SocketAddr]) -> Vec<(SocketAddr, String)> {
    let list: Vec<String> = targets.iter().map(SocketAddr::to_string).collect();
    let out = helper(ns, "helper_probe", PROBE_ENV, &list.join(","))
        .stderr(Stdio::inherit())
        .output()
        .expect("run probes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: Vec<(SocketAddr, String)> = stdout
        .lines()
        .filter_map(|l| l.find("PROBE ").map(|i| &l[i + 6..]))
        .map(|l| {
            let (a, o) = l.split_once(' ').expect("probe line");
            (a.parse().expect("address"), o.to_string())
        })
        .collect();
    assert_eq!(
        results.len(),
        targets.len(),
        "probes from {} did not all report:\n{stdout}",
        ns.name()
    );
    results
}

// ---------------------------------------------------------------------------------------------
// The world

/// A host of the test network: its namespace and addresses; `plan` for the firewalled nodes.
struct Host {
    name: String,
    ns: Netns,
    addrs: Vec<IpAddr>,
    plan: Option<NodePlan>,
}

/// Every namespace of one scenario. Field order is drop order: listeners first, the bridge last.
struct World {
    listeners: Vec<Listener>,
    hosts: Vec<Host>,
    _bridge: Netns,
}

fn pa() -> (Catalog, Topology, Plan) {
    let cat = Catalog::embedded().expect("catalog");
    let t = support::examples()
        .into_iter()
        .find(|(ex, _)| ex == "plesk-automation")
        .expect("PA example")
        .1;
    let plan = engine::derive(&cat, &t);
    (cat, t, plan)
}

/// The namespaces on one bridge, addressed; no firewall yet.
fn build(t: &Topology, plan: &Plan) -> World {
    let bridge = Netns::new("kfbr");
    bridge.run(&["ip", "link", "add", "br0", "type", "bridge"]);
    bridge.run(&["ip", "link", "set", "br0", "up"]);
    let mut specs: Vec<(String, Vec<IpAddr>, Option<NodePlan>)> = NODES
        .iter()
        .map(|n| {
            let node = t.node(n).expect("node in example");
            (
                n.to_string(),
                node.addresses.clone(),
                Some(plan.node(n).expect("plan").clone()),
            )
        })
        .collect();
    let parse = |a: [&str; 2]| {
        a.iter()
            .map(|s| s.parse().expect("address"))
            .collect::<Vec<IpAddr>>()
    };
    specs.push(("admin".into(), parse(ADMIN), None));
    specs.push(("outsider".into(), parse(OUTSIDER), None));
    let mut hosts = Vec::new();
    for (i, (name, addrs, plan)) in specs.into_iter().enumerate() {
        let ns = Netns::new("kf");
        let port = format!("p{i}");
        bridge.run(&[
            "ip",
            "link",
            "add",
            &port,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            ns.name(),
        ]);
        bridge.run(&["ip", "link", "set", &port, "master", "br0"]);
        bridge.run(&["ip", "link", "set", &port, "up"]);
        ns.run(&["ip", "link", "set", "eth0", "up"]);
        for a in &addrs {
            match a {
                IpAddr::V4(_) => ns.run(&["ip", "addr", "add", &format!("{a}/24"), "dev", "eth0"]),
                IpAddr::V6(_) => ns.run(&[
                    "ip",
                    "addr",
                    "add",
                    &format!("{a}/64"),
                    "dev",
                    "eth0",
                    "nodad",
                ]),
            };
        }
        // The admin zone is another prefix on the same link: on-link routes both ways.
        let routes: &[&str] = if name == "admin" {
            &["203.0.113.0/24", "2001:db8:10::/64"]
        } else {
            &["198.51.100.0/28", "2001:db8:ad::/64"]
        };
        for r in routes {
            ns.run(&["ip", "route", "add", r, "dev", "eth0"]);
        }
        hosts.push(Host {
            name,
            ns,
            addrs,
            plan,
        });
    }
    World {
        listeners: Vec::new(),
        hosts,
        _bridge: bridge,
    }
}

/// Ports worth probing on a destination: both ends of every TCP range its inbound rules and its
/// would-be clients' outbound rules name, a middle port, the ports just outside, and two unrelated.
fn probe_ports(w: &World, dst: &Host) -> BTreeSet<u16> {
    let mut ranges = Vec::new();
    let plan = dst.plan.as_ref().expect("firewalled node");
    ranges.extend(
        plan.inbound
            .iter()
            .filter(|r| r.protocol == Protocol::Tcp)
            .flat_map(|r| r.ports.ranges().to_vec()),
    );
    for src in w.hosts.iter().filter_map(|h| h.plan.as_ref()) {
        let to_dst = src.outbound.iter().filter(|r| {
            r.protocol == Protocol::Tcp
                && !r.peers.is_any()
                && dst.addrs.iter().any(|a| r.peers.contains(*a))
        });
        ranges.extend(to_dst.flat_map(|r| r.ports.ranges().to_vec()));
    }
    let mut ports: BTreeSet<u16> = [9, 3306].into();
    for r in ranges {
        ports.extend([r.start, r.end, r.start + (r.end - r.start) / 2]);
        ports.extend(
            [r.start.checked_sub(1), r.end.checked_add(1)]
                .into_iter()
                .flatten()
                .filter(|p| *p != 0),
        );
    }
    ports
}

/// What the plan says about `src` opening a TCP connection to `addr:port` on `dst`: whether the
/// source lets it out, and whether the destination lets it in.
fn expected(
    src: &Host,
    src_addr: IpAddr,
    dst: &Host,
    addr: IpAddr,
    port: u16,
    egress: Egress,
) -> (bool, bool) {
    let inbound = engine::allows(
        &dst.plan.as_ref().expect("firewalled").inbound,
        Protocol::Tcp,
        port,
        src_addr,
    );
    let outbound = match (&src.plan, egress) {
        (Some(p), Egress::Strict) => engine::allows(&p.outbound, Protocol::Tcp, port, addr),
        _ => true,
    };
    (outbound, inbound)
}

/// One probe: source host index, source address, destination index, destination socket.
type Probe = (usize, IpAddr, usize, SocketAddr);

/// Every probe between hosts: from each host to each firewalled node, per family both have.
fn probes(w: &World) -> Vec<Probe> {
    let mut out = Vec::new();
    for (di, dst) in w.hosts.iter().enumerate().filter(|(_, h)| h.plan.is_some()) {
        let ports = probe_ports(w, dst);
        for (si, src) in w.hosts.iter().enumerate().filter(|(si, _)| *si != di) {
            for &da in &dst.addrs {
                let Some(&sa) = src.addrs.iter().find(|a| a.is_ipv4() == da.is_ipv4()) else {
                    continue;
                };
                out.extend(ports.iter().map(|&p| (si, sa, di, SocketAddr::new(da, p))));
            }
        }
    }
    out
}

/// Runs every probe (one process per source, all at once) and returns the outcomes in order.
fn run_probes(w: &World, all: &[Probe]) -> Vec<String> {
    let outcomes: Vec<Vec<(SocketAddr, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = w
            .hosts
            .iter()
            .enumerate()
            .map(|(si, src)| {
                let targets: Vec<SocketAddr> =
                    all.iter().filter(|p| p.0 == si).map(|p| p.3).collect();
                s.spawn(move || {
                    if targets.is_empty() {
                        Vec::new()
                    } else {
                        probe(&src.ns, &targets)
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("probe thread"))
            .collect()
    });
    all.iter()
        .map(|p| {
            outcomes[p.0]
                .iter()
                .find(|(a, _)| *a == p.3)
                .map(|(_, o)| o.clone())
                .expect("outcome for every probe")
        })
        .collect()
}

/// Applies one target's export to every firewalled host.
fn apply(
    w: &World,
    cat: &Catalog,
    t: &Topology,
    plan: &Plan,
    target: Target,
    egress: Egress,
    dir: &std::path::Path,
) {
    for h in w.hosts.iter().filter(|h| h.plan.is_some()) {
        let np = plan.node(&h.name).expect("plan");
        let text = fwtopo::export::render(
            target,
            &Export::new(
                cat,
                t,
                plan,
                np,
                Options {
                    egress,
                    crlf: false,
                },
            ),
        );
        let path = dir.join(fwtopo::export::file_name(&h.name, target));
        std::fs::write(&path, text).expect("write export");
        let p = path.to_str().expect("utf-8 path");
        match target {
            Target::Nftables => h.ns.run(&["nft", "-f", p]),
            Target::Iptables => h.ns.run(&["bash", p]),
            other => panic!("no kernel test for {other:?}"),
        };
    }
}

/// Builds the world, checks that every probe connects without a firewall, applies the exports and
/// checks every probe against the plan.
fn scenario(target: Target, egress: Egress) {
    let started = Instant::now();
    let (cat, t, plan) = pa();
    let mut w = build(&t, &plan);
    for i in 0..w.hosts.len() {
        if w.hosts[i].plan.is_some() {
            let ports = probe_ports(&w, &w.hosts[i]);
            let l = listen(&w.hosts[i].ns, &ports);
            w.listeners.push(l);
        }
    }
    let all = probes(&w);

    // Without a firewall every probe connects: listeners and the link work, so a timeout below is
    // the firewall's doing.
    let open = run_probes(&w, &all);
    let broken: Vec<String> = all
        .iter()
        .zip(&open)
        .filter(|(_, o)| *o != "ok")
        .map(|(p, o)| format!("{} -> {} {o}", w.hosts[p.0].name, p.3))
        .collect();
    assert!(
        broken.is_empty(),
        "network broken before any firewall:\n{}",
        broken.join("\n")
    );

    let dir = tempfile::tempdir().expect("temp dir");
    apply(&w, &cat, &t, &plan, target, egress, dir.path());
    let got = run_probes(&w, &all);

    let mut wrong = Vec::new();
    let (mut allowed, mut dropped) = (0, 0);
    for (p, outcome) in all.iter().zip(&got) {
        let (src, dst) = (&w.hosts[p.0], &w.hosts[p.2]);
        let (out_ok, in_ok) = expected(src, p.1, dst, p.3.ip(), p.3.port(), egress);
        let want = out_ok && in_ok;
        // Dropped on the way in: the SYN vanishes (timeout). Dropped on the way out: connect() fails
        // at once with EPERM, or times out.
        let ok = match (out_ok, in_ok) {
            (true, true) => outcome == "ok",
            (true, false) => outcome == "timeout",
            (false, _) => outcome == "denied" || outcome == "timeout",
        };
        if want {
            allowed += 1;
        } else {
            dropped += 1;
        }
        if !ok {
            wrong.push(format!(
                "{} ({}) -> {} {}: want {}, got {outcome}",
                src.name,
                p.1,
                dst.name,
                p.3,
                if want {
                    "connect"
                } else if out_ok {
                    "drop on the way in"
                } else {
                    "drop on the way out"
                }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{target:?} egress {egress:?}: {} of {} probes wrong:\n{}",
        wrong.len(),
        all.len(),
        wrong.join("\n")
    );

    // The flows the brief names must be among the probes, with the right expectation.
    let find = |s: &str, d: &str, port: u16, v4: bool| {
        let (si, di) = (idx(&w, s), idx(&w, d));
        let i = all
            .iter()
            .position(|p| p.0 == si && p.2 == di && p.3.port() == port && p.3.is_ipv4() == v4)
            .unwrap_or_else(|| panic!("no probe {s} -> {d}:{port}"));
        got[i] == "ok"
    };
    for v4 in [true, false] {
        assert!(find("pa-web-apache", "pa-mn", 8352, v4), "SN -> MN 8352");
        assert!(find("pa-mail-postfix", "pa-mn", 8352, v4), "SN -> MN 8352");
        for port in [8352, 8358, 8364] {
            assert!(find("pa-mn", "pa-web-apache", port, v4), "MN -> SN {port}");
            assert!(
                find("pa-mn", "pa-mail-postfix", port, v4),
                "MN -> SN {port}"
            );
        }
        assert!(find("admin", "pa-mn", 22, v4), "admin -> MN ssh");
        assert!(!find("outsider", "pa-mn", 8352, v4), "outsider -> MN 8352");
        assert!(!find("outsider", "pa-mn", 22, v4), "outsider -> MN ssh");
        assert!(
            !find("pa-web-apache", "pa-mn", 8365, v4),
            "non-derived port 8365"
        );
        assert!(
            !find("pa-mn", "pa-web-apache", 3306, v4),
            "non-derived port 3306"
        );
    }
    eprintln!(
        "{} egress {:?}: {} probes ({allowed} connect, {dropped} dropped) as planned in {:?}",
        target.as_str(),
        egress,
        all.len(),
        started.elapsed()
    );
}

fn idx(w: &World, name: &str) -> usize {
    w.hosts
        .iter()
        .position(|h| h.name == name)
        .unwrap_or_else(|| panic!("no host {name}"))
}

fn ready(target: Target) -> bool {
    match target {
        Target::Nftables => netns::available(&["nft"]),
        _ => netns::available(&[
            "bash",
            "iptables",
            "ip6tables",
            "iptables-restore",
            "ip6tables-restore",
        ]),
    }
}

#[test]
fn pa_nftables_egress_open() {
    if ready(Target::Nftables) {
        scenario(Target::Nftables, Egress::Open);
    }
}

#[test]
fn pa_nftables_egress_strict() {
    if ready(Target::Nftables) {
        scenario(Target::Nftables, Egress::Strict);
    }
}

#[test]
fn pa_iptables_egress_open() {
    if ready(Target::Iptables) {
        scenario(Target::Iptables, Egress::Open);
    }
}

#[test]
fn pa_iptables_egress_strict() {
    if ready(Target::Iptables) {
        scenario(Target::Iptables, Egress::Strict);
    }
}

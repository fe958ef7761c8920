//! Shared by the Linux export tests (export_linux_tools, export_firewalld, export_ufw): what a node
//! must allow as a flow map, parsers' common pieces, and the sandboxes the real tools run in.
//! Included with `#[path]` next to `linux_tools_grammar`; each test crate uses a subset.
#![allow(dead_code)]

use crate::linux_tools_grammar::peer_key;
use crate::support;
use fwtopo::catalog::Catalog;
use fwtopo::engine::{Direction, Rule, derive};
use fwtopo::export::Egress;
use fwtopo::net::Peers;
use fwtopo::ports::{PortRange, PortSet};
use fwtopo::topology::Topology;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

/// What the tests' hosts file makes my.mailstore.com resolve to (documentation addresses).
pub const MS_V4: &str = "198.51.100.201";
pub const MS_V6: &str = "2001:db8:ffff::201";

pub fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

// ---------------------------------------------------------------------------------------------
// What a node must allow, and parsers for what a firewall ends up allowing

/// (direction "in"/"out", protocol, peer) -> ports. A peer is "any", a CIDR, or "dns:NAME".
pub type Flows = BTreeMap<(String, String, String), PortSet>;

/// One parsed rule line, in file order: (direction, protocol, peer, ports).
pub type Line = (String, String, String, PortSet);

pub fn add(f: &mut Flows, dir: &str, proto: &str, peer: String, ports: &PortSet) {
    let e = f.entry((dir.into(), proto.into(), peer)).or_default();
    *e = e.union(ports);
}

pub fn port_range(s: &str) -> PortRange {
    s.replace('_', "-")
        .parse()
        .unwrap_or_else(|e| panic!("bad port '{s}': {e}"))
}

/// `22,80,8000:8010` (any of `-`, `:`, `_` between range ends); empty is no port.
pub fn port_list(s: &str) -> PortSet {
    PortSet::from_ranges(
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(port_range)
            .collect(),
    )
}

pub fn dir_word(r: &Rule) -> &'static str {
    match r.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    }
}

/// The rules an export enforces: inbound always, outbound with strict egress.
pub fn enforced(cat: &Catalog, t: &Topology, node: &str, egress: Egress) -> Vec<Rule> {
    let cat = &fwtopo::topology::site_catalog(cat, t);
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
pub fn expected(rules: &[Rule], resolved: bool) -> Flows {
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
pub fn management(rules: &[Rule]) -> Vec<Rule> {
    rules
        .iter()
        .filter(|r| r.is_management())
        .cloned()
        .collect()
}

/// Whether one parsed line (dir, proto, peer, ports) is covered by a flow map.
pub fn covered(f: &Flows, dir: &str, proto: &str, peer: &str, ports: &PortSet) -> bool {
    f.get(&(dir.into(), proto.into(), peer.into()))
        .is_some_and(|have| have.intersection(ports) == *ports)
}

pub fn diff(got: &Flows, want: &Flows) -> String {
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
// Running the scripts in sandboxes

/// Runs `driver` (a bash script) in a private mount namespace (and a fresh network namespace when
/// `net`), after binding each `(source, target)` over the target and mounting tmpfs on `tmpfs`.
pub fn sandbox(
    dir: &Path,
    net: bool,
    binds: &[(&Path, &str)],
    tmpfs: &[&str],
    driver: &str,
) -> Output {
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
    // The scripts' backup and roll-back go below the test's directory, never the machine's
    // /var/lib/fwtopo (a driver may still choose another).
    setup.push(format!(
        "export FWTOPO_STATE_DIR=\"${{FWTOPO_STATE_DIR:-{}/state}}\"",
        dir.display()
    ));
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

pub fn hosts_file(dir: &Path) -> PathBuf {
    let p = dir.join("hosts");
    std::fs::write(
        &p,
        format!("127.0.0.1 localhost\n::1 localhost\n{MS_V4} my.mailstore.com\n{MS_V6} my.mailstore.com\n"),
    )
    .expect("write hosts");
    p
}

pub fn cp_a(from: &str, to: &Path) {
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
pub fn representative_nodes() -> Vec<(String, Topology, String)> {
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
pub fn run_parallel<J: Send>(jobs: Vec<J>, f: impl Fn(J) -> Result<(), String> + Sync) {
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

/// The peer-restricted lines of management rules come before all others.
pub fn management_first(rules: &[Rule], order: &[Line], resolved: bool) -> Result<(), String> {
    let mgmt = expected(&management(rules), resolved);
    let is_m = |(d, p, peer, ps): &Line| covered(&mgmt, d, p, peer, ps);
    let k = order.iter().take_while(|x| is_m(x)).count();
    if order.iter().filter(|x| is_m(x)).count() != k {
        return Err("a management line comes after another line".into());
    }
    Ok(())
}

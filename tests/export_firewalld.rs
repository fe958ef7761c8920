//! firewalld exports in the real firewalld: `firewall-offline-cmd` on every representative node
//! (the permanent XML it writes must allow exactly the plan, and a re-run must leave it as it was),
//! and a real daemon with its own D-Bus system bus (`firewall-cmd` online: reload, interfaces, safe
//! apply). Everything runs in a private mount namespace (`unshare -m`, plus `-n`) with a copy of
//! /etc/firewalld bound over it. Without root or a tool the tests print `SKIPPED (...)`; with
//! `FWTOPO_REQUIRE_SYSTEM_TESTS=1` that is a failure.

#[path = "support/linux_exports.rs"]
mod linux_exports;
// Shared with the fuzz crate; these tests use only its peer parser.
#[allow(dead_code)]
#[path = "support/linux_tools_grammar.rs"]
mod linux_tools_grammar;
mod support;

use fwtopo::export::Egress;
use fwtopo::ports::PortSet;
use fwtopo::target::Target;
use fwtopo::topology::Topology;
use ipnet::IpNet;
use linux_exports::*;
use linux_tools_grammar::peer_key;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    // DHCPv6 replies, as firewalld's public zone accepts them (a DHCPv6 node keeps its address).
    if !zone.contains("<service name=\"dhcpv6-client\"/>") {
        return Err(format!("{who}: zone lacks dhcpv6-client:\n{zone}"));
    }
    // Every interface bound to no zone is filtered by ours too.
    let conf = files
        .get("/firewalld.conf")
        .map(String::as_str)
        .unwrap_or("");
    if !conf.lines().any(|l| l == "DefaultZone=fwtopo") {
        return Err(format!("{who}: fwtopo is not the default zone"));
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
// firewalld with a real daemon: its own D-Bus system bus and firewalld, in a private mount and
// network namespace, so `firewall-cmd` is exercised online (permanent config, --reload, interface
// detection from the node's addresses, safe apply).

/// Driver lines that start a D-Bus system bus and firewalld of their own (they die with the
/// driver) and wait until firewalld answers; firewalld logs to `DIR/firewalld.log`.
fn daemons(dir: &Path) -> String {
    format!(
        r#"mkdir -p /run/dbus
dbus-daemon --system --nofork --nopidfile &
BUS=$!
for i in $(seq 1 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.1; done
firewalld --nofork --nopid --log-target=console >'{d}/firewalld.log' 2>&1 &
FWD=$!
trap 'kill $FWD $BUS 2>/dev/null; wait 2>/dev/null' EXIT
for i in $(seq 1 120); do firewall-cmd --state >/dev/null 2>&1 && break; sleep 0.5; done
firewall-cmd --state >/dev/null 2>&1 || {{ echo @@no-daemon; exit 1; }}
"#,
        d = dir.display()
    )
}

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
{start}zone() {{ firewall-cmd --get-zone-of-interface=fwt2 2>/dev/null || echo none; }}
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
        s = s.display(),
        start = daemons(d),
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

/// An interface that carries none of the node's addresses is filtered by fwtopo's zone too (the
/// export makes it the default zone): a second interface no longer accepts SSH from anyone, and
/// the roll-back gives the old default zone back. A zone with sources of its own is reported.
#[test]
fn firewalld_daemon_filters_every_interface() {
    if !support::require_root()
        || !support::require("unshare")
        || !support::require("firewalld")
        || !support::require("dbus-daemon")
        || !support::require("socat")
    {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let etc = firewalld_root(d);
    std::fs::write(
        etc.join("zones/operator.xml"),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n  <short>operator</short>\n  <source address=\"198.51.100.99\"/>\n  <service name=\"ssh\"/>\n</zone>\n",
    )
    .expect("operator zone");
    let s = d.join("pa-mn.sh");
    std::fs::write(
        &s,
        support::render(&cat, &t, "pa-mn", Target::Firewalld, Egress::Open),
    )
    .expect("write");
    let state = d.join("state");
    // fwt2 carries pa-mn's addresses; fwt4 only 198.51.100.77, and a peer on its far end (outside
    // the admin zone, 198.51.100.0/28) knocks.
    let driver = format!(
        r#"set -u
ip link add fwt2 type veth peer name fwt3
ip addr add 203.0.113.2/24 dev fwt2 && ip addr add 2001:db8:10::2/64 dev fwt2 nodad
ip link set fwt3 up && ip link set fwt2 up
mkdir -p /run/netns && ip netns add fwpeer
ip link add fwt4 type veth peer name fwt5 netns fwpeer
ip addr add 198.51.100.77/24 dev fwt4 && ip link set fwt4 up
ip netns exec fwpeer ip addr add 198.51.100.200/24 dev fwt5
ip netns exec fwpeer ip link set fwt5 up
socat TCP-LISTEN:22,fork,reuseaddr EXEC:/bin/true &
LISTENER=$!
{start}trap 'kill $LISTENER $FWD $BUS 2>/dev/null; wait 2>/dev/null' EXIT
ssh() {{ ip netns exec fwpeer socat -u OPEN:/dev/null TCP:198.51.100.77:22,connect-timeout=2 2>/dev/null && echo open || echo closed; }}
echo "@@before default=$(firewall-cmd --get-default-zone) ssh=$(ssh)"
FWTOPO_STATE_DIR='{st}' bash '{s}' --no-confirm >'{d}/apply.log' 2>&1
echo "@@applied rc=$? default=$(firewall-cmd --get-default-zone) ssh=$(ssh)"
echo "@@services $(firewall-cmd --zone=fwtopo --list-services)"
bash '{st}/firewalld-rollback.sh' >'{d}/rollback.log' 2>&1
echo "@@rolled-back default=$(firewall-cmd --get-default-zone) ssh=$(ssh)"
echo @@end
"#,
        d = d.display(),
        st = state.display(),
        s = s.display(),
        start = daemons(d),
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
    assert!(text.contains("@@before default=public ssh=open"), "{text}");
    assert!(
        text.contains("@@applied rc=0 default=fwtopo ssh=closed"),
        "a second interface is not filtered by fwtopo's zone: {text}\n{}",
        log("apply.log")
    );
    assert!(
        text.contains("@@rolled-back default=public ssh=open"),
        "{text}\n{}",
        log("rollback.log")
    );
    assert!(
        text.contains("@@services dhcpv6-client"),
        "the zone lacks dhcpv6-client (DHCPv6 replies): {text}"
    );
    let applied = log("apply.log");
    assert!(
        applied.contains("zone operator has sources"),
        "no warning about the operator's zone with sources:\n{applied}"
    );
}

/// firewalld older than the export needs (0.7 for rich-rule priorities, 0.9 for the strict
/// policy) is refused before anything changes; a run that fails halfway, even with
/// `--no-confirm`, rolls back instead of leaving the zone deleted.
#[test]
fn firewalld_refuses_old_versions_and_a_failed_run_rolls_back() {
    if !support::require_root()
        || !support::require("unshare")
        || !support::require("firewall-offline-cmd")
    {
        return;
    }
    let real = support::find_tool("firewall-offline-cmd").expect("firewall-offline-cmd");
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let etc = firewalld_root(d);
    let open = d.join("open.sh");
    let strict = d.join("strict.sh");
    for (p, e) in [(&open, Egress::Open), (&strict, Egress::Strict)] {
        std::fs::write(p, support::render(&cat, &t, "pa-mn", Target::Firewalld, e)).expect("write");
    }
    // Fake tools first on PATH: old versions that log every call, and the real one failing at the
    // rich rules (after the old zone was deleted).
    let bin = |name: &str, body: &str| -> PathBuf {
        let b = d.join(name);
        std::fs::create_dir_all(&b).expect("mkdir");
        let f = b.join("firewall-offline-cmd");
        std::fs::write(&f, format!("#!/bin/bash\n{body}\n")).expect("write fake");
        let st = std::process::Command::new("chmod")
            .arg("755")
            .arg(&f)
            .status()
            .expect("chmod");
        assert!(st.success());
        b
    };
    let old6 = bin(
        "v063",
        &format!(
            "echo \"$*\" >> '{}/calls'; [ \"$1\" != --version ] || echo 0.6.3",
            d.display()
        ),
    );
    let old8 = bin(
        "v083",
        &format!(
            "echo \"$*\" >> '{}/calls'; [ \"$1\" != --version ] || echo 0.8.3",
            d.display()
        ),
    );
    let failing = bin(
        "failing",
        &format!(
            "case \"$*\" in *--add-rich-rule*) exit 1 ;; esac; exec '{}' \"$@\"",
            real.display()
        ),
    );
    let driver = format!(
        r#"run() {{ PATH="$1:$PATH" FWTOPO_INTERFACES=eth0 bash "$2" --offline --no-confirm >"$3" 2>&1; echo "@@$4 rc=$?"; }}
run '{old6}' '{o}' '{d}/v063.log' old-open
run '{old8}' '{s}' '{d}/v083.log' old-strict
run '{old8}' '{o}' '{d}/v083-open.log' new-enough
FWTOPO_INTERFACES=eth0 bash '{o}' --offline >/dev/null 2>&1 && echo @@first-ok
cp -a /etc/firewalld '{d}/before'
run '{failing}' '{o}' '{d}/failing.log' failing
cp -a /etc/firewalld '{d}/after'
echo @@end
"#,
        old6 = old6.display(),
        old8 = old8.display(),
        failing = failing.display(),
        o = open.display(),
        s = strict.display(),
        d = d.display(),
    );
    let out = sandbox(d, true, &[(&etc, "/etc/firewalld")], &[], &driver);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = |n: &str| std::fs::read_to_string(d.join(n)).unwrap_or_default();
    assert!(
        text.contains("@@end"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("@@old-open rc=1") && log("v063.log").contains("0.7 or later"),
        "firewalld 0.6.3 was not refused: {text}\n{}",
        log("v063.log")
    );
    assert!(
        text.contains("@@old-strict rc=1") && log("v083.log").contains("0.9 or later"),
        "firewalld 0.8.3 was not refused for a strict export: {text}\n{}",
        log("v083.log")
    );
    let calls = log("calls");
    let changes: Vec<&str> = calls
        .lines()
        .filter(|l| *l != "--version")
        .take(3)
        .collect();
    // The open export on 0.8.3 went on (its calls are logged); the refused runs made none.
    assert!(
        text.contains("@@new-enough rc=0"),
        "firewalld 0.8.3 was refused for an open export: {text}\n{}",
        log("v083-open.log")
    );
    assert!(
        calls.lines().take(2).all(|l| l == "--version"),
        "a refused run called firewall-offline-cmd beyond --version: {changes:?}"
    );
    assert!(text.contains("@@first-ok"), "{text}");
    assert!(
        text.contains("@@failing rc=1"),
        "{text}\n{}",
        log("failing.log")
    );
    let (before, after) = (
        firewalld_files(&d.join("before")),
        firewalld_files(&d.join("after")),
    );
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(
        changed.is_empty(),
        "a failed --no-confirm run left /etc/firewalld changed ({changed:?}):\n{}",
        log("failing.log")
    );
}

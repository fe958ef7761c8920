//! `fwtopo verify` on captures: the plesk-automation example's pa-mn node with its own exports
//! applied (tests/verify-captures, made by capture.sh in a network namespace), as they are and
//! with the drifts an operator makes: an accept added, a rule deleted, a peer widened, the table
//! flushed, a rule that is not ours. The real-kernel counterpart is tests/verify_netns.rs.

mod support;

use fwtopo::catalog::Catalog;
use fwtopo::engine;
use fwtopo::export::Egress;
use fwtopo::verify::{self, Report, Source};
use serde_json::{Value, json};
use std::path::Path;
use support::cli::{fwtopo, run};

const SITE: &str = "examples/plesk-automation.ron";
const NODE: &str = "pa-mn";

fn capture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/verify-captures")
            .join(name),
    )
    .expect("capture")
}

fn site() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(SITE)
        .display()
        .to_string()
}

/// Verifies pa-mn against captures of one tool.
fn check(files: &[(&str, &str)], egress: Egress) -> Report {
    let topology = fwtopo::files::load_topology(Path::new(&site())).expect("example");
    let catalog = fwtopo::topology::site_catalog(&Catalog::embedded().expect("catalog"), &topology);
    let plan = engine::derive(&catalog, &topology);
    let source = Source::detect(files[0].1).expect("a capture");
    let live = verify::read(source, NODE, files).expect("readable capture");
    verify::verify(plan.node(NODE).expect("node"), egress, &live)
}

fn nft(json: &str, egress: Egress) -> Report {
    check(&[("pa-mn.nft.json", json)], egress)
}

fn ipt(v4: &str, v6: &str, egress: Egress) -> Report {
    check(&[("pa-mn.v4", v4), ("pa-mn.v6", v6)], egress)
}

/// The drift lines of a report, as text.
fn lines(r: &Report) -> Vec<String> {
    verify::render(r)
        .lines()
        .skip(1)
        .map(String::from)
        .collect()
}

fn has(r: &Report, needle: &str) -> bool {
    lines(r).iter().any(|l| l.contains(needle))
}

// --- nftables ----------------------------------------------------------------------------------

/// The JSON capture's items, to edit like an operator would.
fn items(json: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).expect("json");
    v["nftables"].as_array().expect("array").clone()
}

fn joined(items: Vec<Value>) -> String {
    json!({ "nftables": items }).to_string()
}

/// The index of our input chain's rule for this destination port.
fn rule_for_port(items: &[Value], port: u64) -> usize {
    items
        .iter()
        .position(|i| {
            i["rule"]["chain"] == "input"
                && i["rule"]["expr"].as_array().is_some_and(|e| {
                    e.iter().any(|x| {
                        x["match"]["left"]["payload"]["field"] == "dport"
                            && x["match"]["right"] == port
                    })
                })
        })
        .expect("a rule for the port")
}

#[test]
fn nftables_capture_of_its_own_export_is_in_sync() {
    for egress in [Egress::Strict, Egress::Open] {
        let name = match egress {
            Egress::Strict => "pa-mn.strict.nft.json",
            Egress::Open => "pa-mn.open.nft.json",
        };
        let r = nft(&capture(name), egress);
        assert!(r.in_sync, "{egress:?}: {}", verify::render(&r));
        assert_eq!(r.families, ["IPv4", "IPv6"]);
    }
}

#[test]
fn nftables_egress_mismatch_is_drift_with_a_hint() {
    let r = nft(&capture("pa-mn.strict.nft.json"), Egress::Open);
    assert!(!r.in_sync);
    assert!(
        r.drift
            .iter()
            .all(|d| d.kind == "missing" && d.direction == "outbound"),
        "{}",
        verify::render(&r)
    );
    assert!(
        r.notes.iter().any(|n| n.contains("--egress strict")),
        "{:?}",
        r.notes
    );
    let r = nft(&capture("pa-mn.open.nft.json"), Egress::Strict);
    assert!(
        r.drift
            .iter()
            .all(|d| d.kind != "missing" && d.direction == "outbound"),
        "{}",
        verify::render(&r)
    );
    assert!(has(&r, "extra port: out tcp"), "{}", verify::render(&r));
}

#[test]
fn nftables_added_accept_is_an_extra_port_and_not_ours() {
    let mut it = items(&capture("pa-mn.strict.nft.json"));
    let last_input = it
        .iter()
        .rposition(|i| i["rule"]["chain"] == "input")
        .expect("input rules");
    it.insert(
        last_input + 1,
        json!({"rule": {"family": "inet", "table": "fwtopo", "chain": "input", "handle": 999, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}},
            {"accept": null}]}}),
    );
    let r = nft(&joined(it), Egress::Strict);
    assert!(!r.in_sync);
    assert!(
        has(&r, "extra port: in tcp 8080 from any (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(&r, "extra port: in tcp 8080 from any (IPv6)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(
            &r,
            "not ours: rule inet fwtopo/input: tcp dport 8080 accept"
        ),
        "{}",
        verify::render(&r)
    );
    assert_eq!(r.drift.len(), 2, "{}", verify::render(&r));
}

#[test]
fn nftables_deleted_rule_is_missing() {
    let mut it = items(&capture("pa-mn.strict.nft.json"));
    // Both families' SSH rules.
    it.remove(rule_for_port(&it, 22));
    it.remove(rule_for_port(&it, 22));
    let r = nft(&joined(it), Egress::Strict);
    assert!(
        has(&r, "missing: in tcp 22 from 198.51.100.0/28 (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(&r, "missing: in tcp 22 from 2001:db8:ad::/64 (IPv6)"),
        "{}",
        verify::render(&r)
    );
    assert_eq!(r.drift.len(), 2, "{}", verify::render(&r));
    assert!(r.not_ours.is_empty());
}

#[test]
fn nftables_widened_peer_set_is_a_wider_peer() {
    let mut it = items(&capture("pa-mn.strict.nft.json"));
    let set = it
        .iter()
        .position(|i| i["set"]["name"] == "zone_admin_v4")
        .expect("admin set");
    it[set]["set"]["elem"] = json!([{"prefix": {"addr": "0.0.0.0", "len": 0}}]);
    let r = nft(&joined(it), Egress::Strict);
    // SSH, the panel and the API: every rule of the admin zone, one line as they have the same
    // peers.
    assert_eq!(
        lines(&r),
        [
            "wider peer: in tcp 22,8440,8443,8880 from any (IPv4): the design allows only 198.51.100.0/28"
        ]
    );
    // A strict superset that is not everything is wider too.
    let mut it = items(&capture("pa-mn.strict.nft.json"));
    let set = it
        .iter()
        .position(|i| i["set"]["name"] == "zone_admin_v4")
        .expect("admin set");
    it[set]["set"]["elem"] = json!([{"prefix": {"addr": "198.51.100.0", "len": 27}}]);
    let r = nft(&joined(it), Egress::Strict);
    assert!(
        has(
            &r,
            "wider peer: in tcp 22,8440,8443,8880 from 198.51.100.0/27 (IPv4): the design allows only 198.51.100.0/28"
        ),
        "{}",
        verify::render(&r)
    );
    assert!(
        r.drift.iter().all(|d| d.kind == "wider-peer"),
        "{}",
        verify::render(&r)
    );
}

#[test]
fn nftables_flushed_table_misses_everything_and_no_table_opens_everything() {
    let it: Vec<Value> = items(&capture("pa-mn.strict.nft.json"))
        .into_iter()
        .filter(|i| i.get("rule").is_none())
        .collect();
    let r = nft(&joined(it), Egress::Strict);
    assert!(
        r.drift.iter().all(|d| d.kind == "missing"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(
            &r,
            "missing: in tcp 22,8440,8443,8880 from 198.51.100.0/28 (IPv4)"
        ),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(&r, "missing: out tcp 3306 to 203.0.113.15 (IPv4)"),
        "{}",
        verify::render(&r)
    );
    // No table at all: nothing is filtered.
    let r = nft(
        &joined(items(&capture("pa-mn.strict.nft.json"))[..1].to_vec()),
        Egress::Strict,
    );
    assert!(
        has(&r, "extra port: in tcp 1-21,23-79,81-8351"),
        "{}",
        verify::render(&r)
    );
    assert!(
        r.notes.iter().any(|n| n.contains("no table inet fwtopo")),
        "{:?}",
        r.notes
    );
}

#[test]
fn nftables_rules_are_read_in_order_and_through_jumps() {
    // A drop of the admin network before our SSH rule: SSH is missing for it.
    let mut it = items(&capture("pa-mn.strict.nft.json"));
    let ssh = rule_for_port(&it, 22);
    it.insert(
        ssh,
        json!({"rule": {"family": "inet", "table": "fwtopo", "chain": "input", "handle": 998, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "198.51.100.8", "len": 29}}}},
            {"counter": {"packets": 0, "bytes": 0}},
            {"drop": null}]}}),
    );
    let r = nft(&joined(it), Egress::Strict);
    assert!(
        has(
            &r,
            "missing: in tcp 22,8440,8443,8880 from 198.51.100.8/29 (IPv4)"
        ),
        "{}",
        verify::render(&r)
    );
    assert_eq!(r.drift.len(), 1, "{}", verify::render(&r));
    assert!(
        has(
            &r,
            "not ours: rule inet fwtopo/input: IPv4 saddr 198.51.100.8/29 drop"
        ),
        "{}",
        verify::render(&r)
    );
    // Another table whose input chain jumps to a chain accepting 2222 from anyone: our table still
    // drops it (a packet must pass every base chain), so only the tables are named.
    let mut it = items(&capture("pa-mn.strict.nft.json"));
    it.extend([
        json!({"table": {"family": "ip", "name": "extra", "handle": 50}}),
        json!({"chain": {"family": "ip", "table": "extra", "name": "in", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}),
        json!({"chain": {"family": "ip", "table": "extra", "name": "open", "handle": 2}}),
        json!({"rule": {"family": "ip", "table": "extra", "chain": "in", "handle": 3, "expr": [{"jump": {"target": "open"}}]}}),
        json!({"rule": {"family": "ip", "table": "extra", "chain": "open", "handle": 4, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 2222}}, {"accept": null}]}}),
        json!({"rule": {"family": "ip", "table": "extra", "chain": "open", "handle": 5, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"drop": null}]}}),
    ]);
    let r = nft(&joined(it), Egress::Strict);
    assert!(
        has(&r, "not ours: table ip extra"),
        "{}",
        verify::render(&r)
    );
    assert!(!has(&r, "2222"), "{}", verify::render(&r));
    // ... but its drop of 22 blocks our SSH rule over IPv4.
    assert!(
        has(&r, "missing: in tcp 22 from 198.51.100.0/28 (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        !has(&r, "missing: in tcp 22 from 2001:db8:ad::/64"),
        "{}",
        verify::render(&r)
    );
}

// --- iptables ----------------------------------------------------------------------------------

#[test]
fn iptables_capture_of_its_own_export_is_in_sync() {
    for e in ["strict", "open"] {
        let egress = if e == "strict" {
            Egress::Strict
        } else {
            Egress::Open
        };
        let (v4, v6) = (
            capture(&format!("pa-mn.{e}.v4")),
            capture(&format!("pa-mn.{e}.v6")),
        );
        let r = ipt(&v4, &v6, egress);
        assert!(r.in_sync, "{e}: {}", verify::render(&r));
        // One file with both, as `iptables-save; ip6tables-save` prints it.
        let both = format!("{v4}{v6}");
        let r = check(&[("both", &both)], egress);
        assert!(r.in_sync, "{e}: {}", verify::render(&r));
        assert_eq!(r.families, ["IPv4", "IPv6"]);
    }
    // The IPv4 capture alone compares IPv4 only.
    let r = check(&[("v4", &capture("pa-mn.strict.v4"))], Egress::Strict);
    assert!(r.in_sync, "{}", verify::render(&r));
    assert_eq!(r.families, ["IPv4"]);
}

#[test]
fn iptables_families_without_the_tools_comments() {
    let strip = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let (v4, v6) = (
        strip(&capture("pa-mn.strict.v4")),
        strip(&capture("pa-mn.strict.v6")),
    );
    let r = ipt(&v4, &v6, Egress::Strict);
    assert!(r.in_sync, "{}", verify::render(&r));
}

#[test]
fn iptables_drifts() {
    let (v4, v6) = (capture("pa-mn.strict.v4"), capture("pa-mn.strict.v6"));
    let ssh = v4
        .lines()
        .find(|l| l.contains("--dport 22 "))
        .expect("ssh rule")
        .to_string();
    // An accept added before our chain's final DROP.
    let added = v4.replace(
        "-A FWTOPO-IN -j DROP",
        "-A FWTOPO-IN -p tcp -m tcp --dport 8080 -j ACCEPT\n-A FWTOPO-IN -j DROP",
    );
    let r = ipt(&added, &v6, Egress::Strict);
    assert!(
        has(&r, "extra port: in tcp 8080 from any (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(
            &r,
            "not ours: rule filter (IPv4)/FWTOPO-IN: -p tcp -m tcp --dport 8080 -j ACCEPT"
        ),
        "{}",
        verify::render(&r)
    );
    assert_eq!(r.drift.len(), 1);
    // Our SSH rule deleted.
    let r = ipt(&v4.replace(&format!("{ssh}\n"), ""), &v6, Egress::Strict);
    assert!(
        has(&r, "missing: in tcp 22 from 198.51.100.0/28 (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert_eq!(r.drift.len(), 1, "{}", verify::render(&r));
    // Its peer widened.
    let r = ipt(
        &v4.replace(&ssh, &ssh.replace("198.51.100.0/28", "0.0.0.0/0")),
        &v6,
        Egress::Strict,
    );
    assert!(
        has(
            &r,
            "wider peer: in tcp 22 from any (IPv4): the design allows only 198.51.100.0/28"
        ),
        "{}",
        verify::render(&r)
    );
    // Our chain flushed.
    let flushed: String = v4
        .lines()
        .filter(|l| !l.starts_with("-A FWTOPO-IN"))
        .map(|l| format!("{l}\n"))
        .collect();
    let r = ipt(&flushed, &v6, Egress::Strict);
    // The jump from INPUT finds an empty chain and INPUT accepts: everything is open.
    assert!(
        has(&r, "extra port: in tcp 1-21,23-79,"),
        "{}",
        verify::render(&r)
    );
    // A rule ahead of our jump in INPUT, and a chain of someone else's.
    let ahead = v4.replace(
        "-A INPUT -j FWTOPO-IN",
        "-A INPUT -s 203.0.113.99/32 -p udp -m udp --dport 161 -j ACCEPT\n-A INPUT -j FWTOPO-IN",
    ).replace(":FWTOPO-IN - [0:0]", ":FWTOPO-IN - [0:0]\n:DOCKER-USER - [0:0]");
    let r = ipt(&ahead, &v6, Egress::Strict);
    assert!(
        has(&r, "extra port: in udp 161 from 203.0.113.99 (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(&r, "not ours: chain filter (IPv4)/DOCKER-USER"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(&r, "not ours: rule filter (IPv4)/INPUT"),
        "{}",
        verify::render(&r)
    );
}

// --- the command line --------------------------------------------------------------------------

fn captures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify-captures")
}

#[test]
fn cli_exit_status_in_sync_drift_and_json() {
    let dir = captures_dir();
    let mut c = fwtopo();
    c.args([
        "verify",
        &site(),
        "--node",
        NODE,
        "--egress",
        "strict",
        "--live",
    ])
    .arg(dir.join("pa-mn.strict.v4"))
    .arg("--live")
    .arg(dir.join("pa-mn.strict.v6"));
    let out = c.output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("node pa-mn: in sync (iptables capture")
    );
    // Standard input, JSON, and drift (open egress against a strict capture).
    let mut c = fwtopo();
    c.args(["verify", &site(), "--node", NODE, "--live", "-", "--json"])
        .write_stdin(capture("pa-mn.strict.nft.json"));
    let out = c.output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["in_sync"], false);
    assert_eq!(v["source"], "nftables");
    assert_eq!(v["drift"][0]["kind"], "missing");
    assert_eq!(v["drift"][0]["direction"], "outbound");
}

#[test]
fn cli_unusable_captures_exit_2_naming_where() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cases: [(&str, &str, &str); 7] = [
        (
            "broken.json",
            "{\"nftables\": [\n  {\"table\": }\n]}",
            "broken.json:2:13: not nft JSON",
        ),
        (
            "other.json",
            "{\"nftables\": {}}",
            "other.json: no \"nftables\" array",
        ),
        (
            "chain.json",
            "{\"nftables\": [{\"chain\": {\"family\": \"inet\"}}]}",
            "chain.json: nftables[0].chain: no \"table\" string",
        ),
        (
            "bad.v4",
            "*filter\n:INPUT ACCEPT [0:0]\nrm -rf /\nCOMMIT\n",
            "bad.v4:3:1: expected -A CHAIN",
        ),
        (
            "quote.v4",
            "*filter\n-A INPUT -m comment --comment \"open -j ACCEPT\nCOMMIT\n",
            "quote.v4:2:31: unterminated double quote",
        ),
        (
            "cut.v4",
            "*filter\n:INPUT ACCEPT [0:0]\n",
            "cut.v4:2:1: table *filter has no COMMIT",
        ),
        (
            "text.txt",
            "hello\n",
            "text.txt: not a capture verify reads",
        ),
    ];
    for (name, text, want) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).expect("write");
        let mut c = fwtopo();
        c.args(["verify", &site(), "--node", NODE, "--live"])
            .arg(&path);
        let (code, err) = run(c);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
    }
    // Unknown node, and a Windows node without a capture.
    let mut c = fwtopo();
    c.args(["verify", &site(), "--node", "nope", "--live", "-"]);
    let (code, err) = run(c);
    assert_eq!(code, Some(2));
    assert!(err.contains("no node named"), "{err}");
    let mut c = fwtopo();
    c.args(["verify", &site(), "--node", "pa-web-iis"]);
    let (code, err) = run(c);
    assert_eq!(code, Some(2));
    assert!(err.contains("pass a capture with --live"), "{err}");
}

#[test]
fn cli_never_echoes_control_characters_from_a_capture() {
    let mut it = items(&capture("pa-mn.strict.nft.json"));
    it.push(json!({"table": {"family": "ip", "name": "evil\u{1b}[2J\u{7}", "handle": 77}}));
    let mut c = fwtopo();
    c.args([
        "verify",
        &site(),
        "--node",
        NODE,
        "--egress",
        "strict",
        "--live",
        "-",
    ])
    .write_stdin(joined(it));
    let out = c.output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not ours: table ip evil"), "{text}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
}

#[test]
fn large_rulesets_stay_linear() {
    // Ten thousand single-port rules from ten thousand peers each: evaluated per port range, each
    // range by binary search (each range walking every rule took 40 s in a debug build).
    let mut v4 =
        String::from("*filter\n:INPUT ACCEPT [0:0]\n:FWTOPO-IN - [0:0]\n-A INPUT -j FWTOPO-IN\n");
    for i in 0..10_000u32 {
        let port = 10_000 + i;
        v4.push_str(&format!(
            "-A FWTOPO-IN -s 198.51.{}.{}/32 -p tcp -m tcp --dport {port} -m comment --comment \"x\" -j ACCEPT\n",
            100 + (i / 256) % 3,
            i % 256
        ));
    }
    v4.push_str("-A FWTOPO-IN -j DROP\nCOMMIT\n");
    // How long it takes is measured by `benches/review.rs` (review/verify), not asserted here.
    let r = check(&[("big.v4", &v4)], Egress::Open);
    assert!(
        r.drift
            .iter()
            .any(|d| d.kind == "extra-port" && d.ports.starts_with("10000")),
        "{}",
        verify::render(&r)
    );
}

#[test]
fn hostile_jumps_neither_hang_nor_loop() {
    // The kernel refuses loops, but a capture can hold anything: a chain that jumps to itself, and
    // thirty levels of chains each jumping twice to the next (2^30 paths if followed blindly).
    let mut it = vec![
        json!({"table": {"family": "ip", "name": "evil", "handle": 1}}),
        json!({"chain": {"family": "ip", "table": "evil", "name": "in", "handle": 2, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}),
        json!({"rule": {"family": "ip", "table": "evil", "chain": "in", "handle": 3, "expr": [{"jump": {"target": "in"}}]}}),
        json!({"rule": {"family": "ip", "table": "evil", "chain": "in", "handle": 4, "expr": [{"jump": {"target": "c0"}}]}}),
    ];
    for i in 0..30 {
        it.push(json!({"chain": {"family": "ip", "table": "evil", "name": format!("c{i}"), "handle": 10 + i}}));
        for h in 0..2 {
            it.push(json!({"rule": {"family": "ip", "table": "evil", "chain": format!("c{i}"), "handle": 100 + 2 * i + h,
                "expr": [{"jump": {"target": format!("c{}", i + 1)}}]}}));
        }
    }
    it.push(json!({"chain": {"family": "ip", "table": "evil", "name": "c30", "handle": 99}}));
    it.push(json!({"rule": {"family": "ip", "table": "evil", "chain": "c30", "handle": 999, "expr": [
        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"accept": null}]}}));
    // Were loops followed, this would not return: the note below says the jumps were capped.
    let r = nft(&joined(it), Egress::Open);
    assert!(has(&r, "not ours: table ip evil"), "{}", verify::render(&r));
    assert!(
        has(&r, "wider peer: in tcp 80 from any (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("more often than verify follows")),
        "{:?}",
        r.notes
    );
}

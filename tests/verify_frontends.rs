//! `fwtopo verify` on captures of the firewall front ends: ufw (`ufw status verbose; ufw show
//! added`) and firewalld (its default zone, zones, policies and ipsets), from pa-mn's own exports
//! applied to the real tools in private namespaces (tests/verify-captures/capture-ufw.sh and
//! capture-firewalld.sh), as they are and with an operator's drifts.

use fwtopo::catalog::Catalog;
use fwtopo::engine;
use fwtopo::export::Egress;
use fwtopo::verify::{self, Report, Source};
use std::path::Path;

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

/// Verifies pa-mn against captures of one tool.
fn check(files: &[(&str, &str)], egress: Egress) -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SITE);
    let topology = fwtopo::files::load_topology(&path).expect("example");
    let catalog = fwtopo::topology::site_catalog(&Catalog::embedded().expect("catalog"), &topology);
    let plan = engine::derive(&catalog, &topology);
    let source = Source::detect(files[0].1).expect("a capture");
    let live = verify::read(source, NODE, files).expect("readable capture");
    verify::verify(plan.node(NODE).expect("node"), egress, &live)
}

fn has(r: &Report, needle: &str) -> bool {
    verify::render(r).lines().any(|l| l.contains(needle))
}

// --- ufw ---------------------------------------------------------------------------------------

fn ufw(text: &str, egress: Egress) -> Report {
    check(&[("pa-mn.ufw", text)], egress)
}

#[test]
fn ufw_capture_of_its_own_export_is_in_sync() {
    for e in ["strict", "open"] {
        let egress = if e == "strict" {
            Egress::Strict
        } else {
            Egress::Open
        };
        let r = ufw(&capture(&format!("pa-mn.{e}.ufw")), egress);
        assert!(r.in_sync, "{e}: {}", verify::render(&r));
        assert_eq!(r.source, "ufw");
    }
    // Status and rules in two files.
    let text = capture("pa-mn.strict.ufw");
    let (status, added) = text.split_at(text.find("Added user rules").expect("rules"));
    let r = check(&[("status", status), ("added", added)], Egress::Strict);
    assert!(r.in_sync, "{}", verify::render(&r));
}

#[test]
fn ufw_drifts() {
    let text = capture("pa-mn.strict.ufw");
    let ssh = "ufw allow from 198.51.100.0/28 to any port 22 proto tcp comment 'fwtopo'";
    assert!(text.contains(ssh));
    let r = ufw(&format!("{text}ufw allow 8080/tcp\n"), Egress::Strict);
    assert!(
        has(&r, "extra port: in tcp 8080 from any (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(&r, "not ours: rule ufw: ufw allow 8080/tcp"),
        "{}",
        verify::render(&r)
    );
    let r = ufw(&text.replace(&format!("{ssh}\n"), ""), Egress::Strict);
    assert!(
        has(&r, "missing: in tcp 22 from 198.51.100.0/28 (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert_eq!(r.drift.len(), 1, "{}", verify::render(&r));
    let r = ufw(
        &text.replace(ssh, &ssh.replace("198.51.100.0/28", "198.51.100.0/24")),
        Egress::Strict,
    );
    assert!(
        has(
            &r,
            "wider peer: in tcp 22 from 198.51.100.0/24 (IPv4): the design allows only 198.51.100.0/28"
        ),
        "{}",
        verify::render(&r)
    );
    // A deny ahead of ours (ufw insert 1): first match wins.
    let r = ufw(
        &text.replace(
            ssh,
            &format!("ufw deny from 198.51.100.7 to any port 22 proto tcp\n{ssh}"),
        ),
        Egress::Strict,
    );
    assert!(
        has(&r, "missing: in tcp 22 from 198.51.100.7 (IPv4)"),
        "{}",
        verify::render(&r)
    );
    // The default outgoing policy back to allow, and ufw disabled.
    let r = ufw(
        &text.replace("deny (outgoing)", "allow (outgoing)"),
        Egress::Strict,
    );
    assert!(
        r.drift
            .iter()
            .all(|d| d.direction == "outbound" && d.kind != "missing"),
        "{}",
        verify::render(&r)
    );
    assert!(!r.drift.is_empty());
    let r = ufw(
        &text.replace("Status: active", "Status: inactive"),
        Egress::Strict,
    );
    assert!(
        has(&r, "extra port: in tcp 1-21,23-79,"),
        "{}",
        verify::render(&r)
    );
    assert!(
        r.notes.iter().any(|n| n.contains("ufw is not active")),
        "{:?}",
        r.notes
    );
    // Only the rules: the defaults are missing.
    let added = &text[text.find("Added user rules").expect("rules")..];
    let e = verify::read(Source::Ufw, NODE, &[("added.ufw", added)]).expect_err("no defaults");
    assert!(
        e.to_string().starts_with("added.ufw: no `Default:` line"),
        "{e}"
    );
}

// --- firewalld ---------------------------------------------------------------------------------

fn firewalld(text: &str, egress: Egress) -> Report {
    check(&[("pa-mn.firewalld", text)], egress)
}

#[test]
fn firewalld_capture_of_its_own_export_is_in_sync() {
    for e in ["strict", "open"] {
        let egress = if e == "strict" {
            Egress::Strict
        } else {
            Egress::Open
        };
        let r = firewalld(&capture(&format!("pa-mn.{e}.firewalld")), egress);
        assert!(r.in_sync, "{e}: {}", verify::render(&r));
        assert_eq!(r.source, "firewalld");
    }
}

/// The text with one zone's (or policy's) `key: value` line changed.
fn set_field(text: &str, block: &str, key: &str, value: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for l in text.lines() {
        if !l.starts_with([' ', '\t']) && !l.is_empty() {
            inside = l.split(" (").next() == Some(block);
        }
        if inside && l.starts_with(&format!("  {key}:")) {
            out.push_str(&format!("  {key}: {value}\n"));
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

#[test]
fn firewalld_drifts() {
    let text = capture("pa-mn.strict.firewalld");
    let ssh = "rule priority=\"-100\" family=\"ipv4\" source address=\"198.51.100.0/28\" port port=\"22\" protocol=\"tcp\" accept";
    assert!(text.contains(ssh), "{text}");
    // A port added to our zone.
    let r = firewalld(
        &set_field(&text, "fwtopo", "ports", "8080/tcp"),
        Egress::Strict,
    );
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
    // Our SSH rich rule deleted.
    let deleted: String = text
        .lines()
        .filter(|l| l.trim() != ssh)
        .map(|l| format!("{l}\n"))
        .collect();
    let r = firewalld(&deleted, Egress::Strict);
    assert!(
        has(&r, "missing: in tcp 22 from 198.51.100.0/28 (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert_eq!(r.drift.len(), 1, "{}", verify::render(&r));
    // The admin network widened to any, and an ipset widened.
    let r = firewalld(
        &text.replace(
            "source address=\"198.51.100.0/28\"",
            "source address=\"0.0.0.0/0\"",
        ),
        Egress::Strict,
    );
    assert!(
        has(
            &r,
            "wider peer: in tcp 22,8440,8443,8880 from any (IPv4): the design allows only 198.51.100.0/28"
        ),
        "{}",
        verify::render(&r)
    );
    let r = firewalld(
        &text.replace(
            "entries: 203.0.113.10/31 203.0.113.12/30 203.0.113.16/31",
            "entries: 203.0.113.0/24",
        ),
        Egress::Strict,
    );
    assert!(
        has(
            &r,
            "wider peer: in tcp 80,8352-8364,8400,8412,8490,8532 from 203.0.113.0/24 (IPv4)"
        ),
        "{}",
        verify::render(&r)
    );
    // Another zone holding an interface: its services are open too, and it is not ours.
    let r = firewalld(
        &set_field(&text, "public", "interfaces", "eth1"),
        Egress::Strict,
    );
    assert!(has(&r, "not ours: zone public"), "{}", verify::render(&r));
    assert!(
        has(
            &r,
            "wider peer: in tcp 22 from any (IPv4): the design allows only 198.51.100.0/28"
        ),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(&r, "extra port: in udp 546 from any (IPv6)"),
        "{}",
        verify::render(&r)
    );
    // Our policy's target accepting: outbound open.
    let r = firewalld(
        &set_field(&text, "fwtopo-out", "target", "ACCEPT"),
        Egress::Strict,
    );
    assert!(
        r.drift
            .iter()
            .all(|d| d.direction == "outbound" && d.kind != "missing"),
        "{}",
        verify::render(&r)
    );
    assert!(!r.drift.is_empty());
    // Without the default zone line.
    let e = verify::read(
        Source::Firewalld,
        NODE,
        &[("f", text.split_once('\n').expect("lines").1)],
    )
    .expect_err("no default zone");
    assert!(e.to_string().starts_with("f: no default zone"), "{e}");
}

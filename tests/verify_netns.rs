//! `fwtopo verify` against real kernels, in network namespaces this test makes.
//!
//! Every node of every example gets its own nftables export (one namespace: each load replaces our
//! table) and its own iptables export (another: each run refills our chains), under both egress
//! modes, and the kernel's rules, as `nft -j list ruleset` and `iptables-save`/`ip6tables-save`
//! print them, must verify in sync. Then the binary itself runs inside a namespace, reading the
//! kernel with the node's own tool: in sync (exit 0) after the export, and after each of an accept
//! added, one of our rules deleted, a peer widened to any, and the table (chain) flushed, the drift
//! named in words with exit 1; the export is loaded again between them.
//!
//! Runs as root (CI); elsewhere it prints `SKIPPED (<reason>)`, and with
//! `FWTOPO_REQUIRE_SYSTEM_TESTS=1` a missing tool fails it. Time: 10-24 s for the whole file (96
//! node exports per target, and the drifts) in a debug build on the 2-core development machine at
//! load averages of 8 and of 21 (other builds running); budget in CI: 40 s.

mod support;

use fwtopo::catalog::Catalog;
use fwtopo::engine;
use fwtopo::export::{Egress, Export, Options};
use fwtopo::target::Target;
use fwtopo::verify::{self, Source};
use std::path::Path;
use std::process::Output;
use support::netns::{self, Netns};

const NFT_TOOLS: &[&str] = &["nft"];
const IPT_TOOLS: &[&str] = &[
    "bash",
    "iptables",
    "ip6tables",
    "iptables-restore",
    "ip6tables-restore",
    "iptables-save",
    "ip6tables-save",
];

fn example_path(stem: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("examples/{stem}.ron"))
        .display()
        .to_string()
}

/// Exports every node of every example for one target, applies it and captures the kernel with
/// `apply` (one `ip netns exec` for both: under load each costs tens of milliseconds), and asks
/// verify: each must be in sync.
fn sweep(target: Target, apply: impl Fn(&str) -> String) {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (stem, topology) in support::examples() {
        let catalog =
            fwtopo::topology::site_catalog(&Catalog::embedded().expect("catalog"), &topology);
        let plan = engine::derive(&catalog, &topology);
        for np in &plan.nodes {
            for egress in [Egress::Open, Egress::Strict] {
                let options = Options {
                    egress,
                    crlf: false,
                };
                let script = fwtopo::export::render(
                    target,
                    &Export::new(&catalog, &topology, &plan, np, options),
                );
                let captured = apply(&script);
                let source = Source::detect(&captured).expect("a capture");
                let live = verify::read(source, &np.name, &[("capture", captured.as_str())])
                    .expect("the kernel's capture reads");
                let report = verify::verify(np, egress, &live);
                checked += 1;
                if !report.in_sync {
                    failures.push(format!(
                        "{stem} {} {egress:?}:\n{}",
                        np.name,
                        verify::render(&report)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 40, "only {checked} node exports checked");
}

#[test]
fn every_example_node_in_sync_after_its_nftables_export() {
    if !netns::available(NFT_TOOLS) {
        return;
    }
    let ns = Netns::new("verify-nft");
    sweep(Target::Nftables, |script| {
        ns.run_stdin(
            &["sh", "-c", "nft -f - && nft -j list ruleset"],
            Some(script.as_bytes()),
        )
    });
}

#[test]
fn every_example_node_in_sync_after_its_iptables_export() {
    if !netns::available(IPT_TOOLS) {
        return;
    }
    let ns = Netns::new("verify-ipt");
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("node.iptables.sh");
    let file = file.to_str().expect("a UTF-8 path");
    // The first script runs whole (it hooks our chains into INPUT and OUTPUT); the others refill
    // the chains with their own `--payload`, which is what the script applies (`iptables-restore
    // --noflush`). Both tools' saves in one text, as `iptables-save; ip6tables-save` prints them.
    let hooked = std::cell::Cell::new(false);
    sweep(Target::Iptables, |script| {
        std::fs::write(file, script).expect("write the script");
        let apply = if hooked.replace(true) {
            r#"bash "$0" --payload v4 | iptables-restore -w --noflush && bash "$0" --payload v6 | ip6tables-restore -w --noflush"#
        } else {
            r#"bash "$0""#
        };
        ns.run(&[
            "bash",
            "-c",
            &format!("set -o pipefail; {apply} && iptables-save && ip6tables-save"),
            file,
        ])
    });
}

/// `fwtopo verify SITE --node NODE --egress strict` run inside the namespace, reading the kernel.
fn verify_in(ns: &Netns, site: &str, node: &str) -> (Option<i32>, String) {
    let out: Output = ns
        .command(env!("CARGO_BIN_EXE_fwtopo"))
        .args(["verify", site, "--node", node, "--egress", "strict"])
        .env(
            "FWTOPO_CONFIG_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/no-config"),
        )
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .output()
        .expect("run fwtopo verify");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code(), text)
}

/// The binary's export of one node.
fn export(site: &str, node: &str, target: &str) -> String {
    let out = support::cli::fwtopo()
        .args([
            "export", site, "--node", node, "-t", target, "--egress", "strict",
        ])
        .output()
        .expect("export");
    assert!(out.status.success(), "{}", support::cli::stderr(&out));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Checks one drift: exit 1 and every expected line.
fn expect_drift(ns: &Netns, site: &str, node: &str, what: &str, lines: &[&str]) {
    let (code, text) = verify_in(ns, site, node);
    assert_eq!(code, Some(1), "{what}: {text}");
    assert!(
        text.starts_with(&format!("node {node}: drift")),
        "{what}: {text}"
    );
    for l in lines {
        assert!(text.contains(l), "{what}: no {l:?} in:\n{text}");
    }
}

#[test]
fn nftables_drift_in_a_kernel() {
    if !netns::available(NFT_TOOLS) {
        return;
    }
    let ns = Netns::new("verify-nft-drift");
    let site = example_path("plesk-automation");
    let node = "pa-mn";
    let script = export(&site, node, "nftables");
    let apply = || {
        ns.run_stdin(&["nft", "-f", "-"], Some(script.as_bytes()));
        let (code, text) = verify_in(&ns, &site, node);
        assert_eq!(code, Some(0), "{text}");
        assert!(
            text.starts_with(
                "node pa-mn: in sync (nftables capture, IPv4 and IPv6, egress strict)"
            ),
            "{text}"
        );
    };
    apply();
    ns.run(&[
        "nft", "add", "rule", "inet", "fwtopo", "input", "tcp", "dport", "8080", "accept",
    ]);
    expect_drift(
        &ns,
        &site,
        node,
        "accept added",
        &[
            "extra port: in tcp 8080 from any (IPv4)",
            "extra port: in tcp 8080 from any (IPv6)",
            "not ours: rule inet fwtopo/input: tcp dport 8080 accept",
        ],
    );
    apply();
    let listing = ns.run(&["nft", "-a", "list", "chain", "inet", "fwtopo", "input"]);
    let ssh = listing
        .lines()
        .find(|l| l.contains("ip saddr @zone_admin_v4 tcp dport 22 "))
        .and_then(|l| l.rsplit("# handle ").next())
        .expect("the SSH rule's handle")
        .trim()
        .to_string();
    ns.run(&[
        "nft", "delete", "rule", "inet", "fwtopo", "input", "handle", &ssh,
    ]);
    expect_drift(
        &ns,
        &site,
        node,
        "rule deleted",
        &[
            "missing: in tcp 22 from 198.51.100.0/28 (IPv4): the design allows it, the live firewall blocks it",
        ],
    );
    apply();
    ns.run(&["nft", "flush", "set", "inet", "fwtopo", "zone_admin_v4"]);
    ns.run(&[
        "nft",
        "add",
        "element",
        "inet",
        "fwtopo",
        "zone_admin_v4",
        "{ 0.0.0.0/0 }",
    ]);
    expect_drift(
        &ns,
        &site,
        node,
        "peer widened",
        &[
            "wider peer: in tcp 22,8440,8443,8880 from any (IPv4): the design allows only 198.51.100.0/28",
        ],
    );
    apply();
    ns.run(&["nft", "flush", "table", "inet", "fwtopo"]);
    expect_drift(
        &ns,
        &site,
        node,
        "table flushed",
        &[
            "missing: in tcp 22,8440,8443,8880 from 198.51.100.0/28 (IPv4)",
            "missing: out tcp 3306 to 203.0.113.15 (IPv4)",
        ],
    );
}

#[test]
fn iptables_drift_in_a_kernel() {
    if !netns::available(IPT_TOOLS) {
        return;
    }
    let ns = Netns::new("verify-ipt-drift");
    // An Ubuntu node whose firewall is iptables: verify runs iptables-save and ip6tables-save.
    let site = example_path("cpanel-whm");
    let node = "cpanel-ubuntu";
    let script = export(&site, node, "iptables");
    let apply = || {
        ns.run_stdin(&["bash", "-s"], Some(script.as_bytes()));
        let (code, text) = verify_in(&ns, &site, node);
        assert_eq!(code, Some(0), "{text}");
        assert!(
            text.starts_with(
                "node cpanel-ubuntu: in sync (iptables capture, IPv4 and IPv6, egress strict)"
            ),
            "{text}"
        );
    };
    // The position of our SSH rule in FWTOPO-IN (iptables counts from 1).
    let ssh_number = || {
        ns.run(&["iptables", "-S", "FWTOPO-IN"])
            .lines()
            .filter(|l| l.starts_with("-A "))
            .position(|l| l.contains("--dport 22 "))
            .map(|i| (i + 1).to_string())
            .expect("the SSH rule")
    };
    apply();
    ns.run(&[
        "iptables",
        "-I",
        "FWTOPO-IN",
        "5",
        "-p",
        "tcp",
        "--dport",
        "8080",
        "-j",
        "ACCEPT",
    ]);
    expect_drift(
        &ns,
        &site,
        node,
        "accept added",
        &[
            "extra port: in tcp 8080 from any (IPv4)",
            "not ours: rule filter (IPv4)/FWTOPO-IN: -p tcp -m tcp --dport 8080 -j ACCEPT",
        ],
    );
    apply();
    ns.run(&["iptables", "-D", "FWTOPO-IN", &ssh_number()]);
    expect_drift(
        &ns,
        &site,
        node,
        "rule deleted",
        &[
            "missing: in tcp 22 from 198.51.100.0/28 (IPv4): the design allows it, the live firewall blocks it",
        ],
    );
    apply();
    let n = ssh_number();
    ns.run(&[
        "iptables",
        "-R",
        "FWTOPO-IN",
        &n,
        "-s",
        "0.0.0.0/0",
        "-p",
        "tcp",
        "-m",
        "tcp",
        "--dport",
        "22",
        "-m",
        "comment",
        "--comment",
        "SSH",
        "-j",
        "ACCEPT",
    ]);
    expect_drift(
        &ns,
        &site,
        node,
        "peer widened",
        &["wider peer: in tcp 22 from any (IPv4): the design allows only 198.51.100.0/28"],
    );
    apply();
    ns.run(&["iptables", "-F"]);
    expect_drift(
        &ns,
        &site,
        node,
        "table flushed",
        &["extra port: in tcp 1-19,"],
    );
}

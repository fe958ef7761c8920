//! nftables and iptables exports: snapshots of every node of every example, and the real tools.
//!
//! The system tests load rules only inside network namespaces they create (deleted on drop) and use a
//! private mount namespace (`unshare -m`) where a test needs its own /etc/hosts. Without root or the
//! tools they print `SKIPPED (...)`; with `FWTOPO_REQUIRE_SYSTEM_TESTS=1` that is a failure.

#[path = "support/netfilter_grammar.rs"]
mod netfilter_grammar;
mod support;

use fwtopo::catalog::Catalog;
use fwtopo::export::Egress;
use fwtopo::target::Target;
use fwtopo::topology::Topology;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::netns::{self, Netns};

const EGRESS: [Egress; 2] = [Egress::Open, Egress::Strict];

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

fn egress_name(e: Egress) -> &'static str {
    match e {
        Egress::Open => "open",
        Egress::Strict => "strict",
    }
}

/// Every (example, node, egress) export for a target.
fn all_exports(target: Target) -> Vec<(String, String, Egress, String)> {
    let cat = catalog();
    let mut out = Vec::new();
    for (ex, t) in support::examples() {
        for node in &t.nodes {
            for e in EGRESS {
                out.push((
                    ex.clone(),
                    node.name.clone(),
                    e,
                    support::render(&cat, &t, &node.name, target, e),
                ));
            }
        }
    }
    out
}

/// All nodes of one example in one text, for one snapshot per example.
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

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write export");
    p
}

// ---------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn snapshots_every_node_of_every_example() {
    let cat = catalog();
    for (ex, t) in support::examples() {
        for target in [Target::Nftables, Target::Iptables] {
            insta::assert_snapshot!(
                format!("{}__{ex}", target.as_str()),
                example_text(&cat, &t, target, Egress::Open)
            );
        }
    }
    // Strict egress for the PA example and for MailStore, whose management server reaches a host name.
    for (ex, t) in support::examples()
        .into_iter()
        .filter(|(ex, _)| ex == "plesk-automation" || ex == "mailstore-spe")
    {
        for target in [Target::Nftables, Target::Iptables] {
            insta::assert_snapshot!(
                format!("{}__{ex}__strict", target.as_str()),
                example_text(&cat, &t, target, Egress::Strict)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Structure, without tools
//
// The checks are in tests/support/netfilter_grammar.rs, shared with the fuzz targets (fuzz/).

#[test]
fn iptables_lines_respect_multiport_and_family_limits() {
    for (ex, node, e, script) in all_exports(Target::Iptables) {
        netfilter_grammar::check_iptables_lines(&format!("{ex}/{node}/{e:?}"), &script);
    }
}

#[test]
fn nftables_sets_match_the_family_of_their_use() {
    for (ex, node, e, file) in all_exports(Target::Nftables) {
        netfilter_grammar::check_nftables_sets(&format!("{ex}/{node}/{e:?}"), &file);
    }
}

#[test]
fn host_name_peers_are_never_widened() {
    let cat = catalog();
    let t = support::example("mailstore-spe");
    // ms-mgmt reaches my.mailstore.com on tcp/443 and nothing else on 443.
    let nft = support::render(&cat, &t, "ms-mgmt", Target::Nftables, Egress::Strict);
    let rules443: Vec<&str> = nft
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && l.contains("dport 443"))
        .collect();
    assert_eq!(rules443.len(), 2, "{rules443:?}");
    assert!(
        rules443[0].starts_with("ip daddr @dns1_v4 "),
        "{rules443:?}"
    );
    assert!(
        rules443[1].starts_with("ip6 daddr @dns1_v6 "),
        "{rules443:?}"
    );
    let rule_text = |l: &str| {
        l.split(" comment \"")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        !nft.lines()
            .any(|l| !l.trim_start().starts_with('#') && rule_text(l).contains("mailstore.com")),
        "host name in a rule"
    );

    let ipt = support::render(&cat, &t, "ms-mgmt", Target::Iptables, Egress::Strict);
    assert!(
        !ipt.lines()
            .any(|l| l.starts_with("-A") && l.contains("--dport 443")),
        "443 fixed rule"
    );
    assert!(
        ipt.contains("dns_rules 4 FWTOPO-OUT -d 'my.mailstore.com' '-p tcp -m tcp --dport 443 ")
    );
    assert!(
        ipt.contains("dns_rules 6 FWTOPO-OUT -d 'my.mailstore.com' '-p tcp -m tcp --dport 443 ")
    );
}

/// The PA example with hostile free text everywhere a user can type it.
fn hostile_pa() -> (Topology, Topology) {
    let t = support::example("plesk-automation");
    let evil = "x\"y'z; rm -rf / & echo | % ^ ` $(reboot) `id` \\ }\n{ table inet fwtopo { } \r\nCOMMIT\n*filter \u{201C}curly\u{201D} \u{00fc}ber";
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

fn without_comments(s: &str) -> Vec<&str> {
    s.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect()
}

#[test]
fn hostile_text_stays_in_comments() {
    let cat = catalog();
    let (t, h) = hostile_pa();
    for target in [Target::Nftables, Target::Iptables] {
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
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// nftables with the real nft

/// `nft list ruleset` in a namespace.
fn ruleset(ns: &Netns) -> String {
    ns.run(&["nft", "list", "ruleset"])
}

#[test]
fn nftables_every_export_checks_loads_and_reloads_identically() {
    if !netns::available(&["nft"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let exports = all_exports(Target::Nftables);
    let (mut loads, mut load_time) = (0u32, Duration::ZERO);
    for (i, (ex, node, e, text)) in exports.iter().enumerate() {
        let file = write(dir.path(), &format!("{i}.nft"), text);
        let f = file.to_str().expect("utf-8 path");
        let ns = Netns::new("nft");
        ns.run(&["nft", "-c", "-f", f]);
        assert_eq!(ruleset(&ns), "", "nft -c changed the ruleset");
        let t0 = Instant::now();
        ns.run(&["nft", "-f", f]);
        load_time += t0.elapsed();
        loads += 1;
        let once = ruleset(&ns);
        assert!(once.contains("table inet fwtopo {"), "{ex}/{node}");
        assert!(
            once.contains("type filter hook input priority filter; policy drop;"),
            "{ex}/{node}"
        );
        let out_policy = if *e == Egress::Strict {
            "policy drop;"
        } else {
            "policy accept;"
        };
        assert!(
            once.contains(&format!(
                "type filter hook output priority filter; {out_policy}"
            )),
            "{ex}/{node}"
        );
        ns.run(&["nft", "-f", f]);
        assert_eq!(
            once,
            ruleset(&ns),
            "{ex}/{node}/{}: second load differs",
            egress_name(*e)
        );
    }
    eprintln!(
        "nftables: {} exports pass nft -c and load twice identically; mean load {:?}",
        exports.len(),
        load_time / loads.max(1)
    );
}

#[test]
fn nftables_replaces_only_its_own_table() {
    if !netns::available(&["nft"]) {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let open = write(
        dir.path(),
        "open.nft",
        &support::render(&cat, &t, "pa-mn", Target::Nftables, Egress::Open),
    );
    let strict = write(
        dir.path(),
        "strict.nft",
        &support::render(&cat, &t, "pa-mn", Target::Nftables, Egress::Strict),
    );
    let (open, strict) = (
        open.to_str().expect("utf-8"),
        strict.to_str().expect("utf-8"),
    );

    let alone = Netns::new("nftown");
    alone.run(&["nft", "-f", open]);
    let open_only = ruleset(&alone);

    let ns = Netns::new("nftown");
    let foreign = "table inet other {\n\tchain c {\n\t\ttype filter hook input priority 10; policy accept;\n\t\ttcp dport 9 accept\n\t}\n}\n";
    ns.run_stdin(&["nft", "-f", "-"], Some(foreign.as_bytes()));
    let before = ruleset(&ns);
    ns.run(&["nft", "-f", strict]);
    ns.run(&["nft", "-f", open]);
    let after = ruleset(&ns);
    assert!(
        after.starts_with(&before),
        "the foreign table changed:\n{before}\n---\n{after}"
    );
    assert_eq!(
        after[before.len()..].trim_start(),
        open_only,
        "strict then open is not open"
    );
    ns.run(&["nft", "delete", "table", "inet", "fwtopo"]);
    assert_eq!(
        ruleset(&ns),
        before,
        "the documented roll back leaves more than the foreign table"
    );
}

/// The safe-apply lines of an nft header, with the file, the state path and the timeout replaced.
fn nft_safe_apply(text: &str, file: &str, state: &str, secs: u32) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains(" F=") && l.contains(" P=") && l.contains(" T="))
        .expect("safe-apply line");
    let vars = format!("F={file} P={state} T={secs}");
    let cmd = lines[i + 1].trim_start_matches('#').trim();
    assert!(cmd.starts_with("nft -c -f \"$F\""), "{cmd}");
    format!("{vars}\n{cmd}\n")
}

#[test]
fn nftables_safe_apply_restores_the_previous_table_unless_confirmed() {
    if !netns::available(&["nft", "bash", "setsid", "nohup"]) {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let open_text = support::render(&cat, &t, "pa-mn", Target::Nftables, Egress::Open);
    let open = write(dir.path(), "open.nft", &open_text);
    let strict = write(
        dir.path(),
        "strict.nft",
        &support::render(&cat, &t, "pa-mn", Target::Nftables, Egress::Strict),
    );
    let (open, strict) = (
        open.to_str().expect("utf-8"),
        strict.to_str().expect("utf-8"),
    );
    let state = |n: &str| dir.path().join(n).to_str().expect("utf-8").to_string();

    // 1. No table before, no confirmation: the table is there, then gone.
    let a = Netns::new("nftsafe");
    a.run(&[
        "bash",
        "-c",
        &nft_safe_apply(&open_text, open, &state("a.prev"), 1),
    ]);
    assert!(ruleset(&a).contains("table inet fwtopo"));
    // 2. A previous version, no confirmation: the previous version comes back.
    let b = Netns::new("nftsafe");
    b.run(&["nft", "-f", strict]);
    let previous = ruleset(&b);
    b.run(&[
        "bash",
        "-c",
        &nft_safe_apply(&open_text, open, &state("b.prev"), 1),
    ]);
    assert_ne!(ruleset(&b), previous, "the new table was not loaded");
    // 3. Confirmed in time (the .ok file): the new table stays.
    let c = Netns::new("nftsafe");
    c.run(&["nft", "-f", strict]);
    c.run(&[
        "bash",
        "-c",
        &nft_safe_apply(&open_text, open, &state("c.prev"), 1),
    ]);
    std::fs::write(format!("{}.ok", state("c.prev")), "").expect("confirm");
    let confirmed = ruleset(&c);

    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(ruleset(&a), "", "not rolled back to no table");
    assert_eq!(
        ruleset(&b),
        previous,
        "not rolled back to the previous table"
    );
    assert_eq!(ruleset(&c), confirmed, "a confirmed table was rolled back");
}

/// Runs `script` with bash inside the namespace, in a private mount namespace whose /etc/hosts is
/// `hosts` (the host's file is never touched).
fn with_hosts(ns: &Netns, hosts: &Path, script: &str) -> std::process::Output {
    let inner = format!(
        "mount --bind {} /etc/hosts && exec ip netns exec {} bash -c {}",
        hosts.display(),
        ns.name(),
        fwtopo::export::text::sh_quote(script)
    );
    std::process::Command::new("unshare")
        .args(["-m", "bash", "-c", &inner])
        .output()
        .expect("run unshare")
}

/// Gives a namespace a non-loopback address of each family (a veth pair inside it), as every real
/// host has: `getent ahostsv4/ahostsv6` answer nothing for a family the host has no address of.
fn addressed(ns: &Netns) {
    ns.run(&[
        "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1",
    ]);
    ns.run(&["ip", "link", "set", "v0", "up"]);
    ns.run(&["ip", "link", "set", "v1", "up"]);
    ns.run(&["ip", "addr", "add", "192.0.2.5/24", "dev", "v0"]);
    ns.run(&["ip", "addr", "add", "2001:db8::5/64", "dev", "v0", "nodad"]);
}

const HOSTS: &str =
    "127.0.0.1 localhost\n192.0.2.201 my.mailstore.com\n2001:db8::201 my.mailstore.com\n";

#[test]
fn nftables_host_name_sets_filled_by_the_header_commands() {
    if !netns::available(&["nft", "unshare", "mount", "getent"]) {
        return;
    }
    let cat = catalog();
    let t = support::example("mailstore-spe");
    let text = support::render(&cat, &t, "ms-mgmt", Target::Nftables, Egress::Strict);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(dir.path(), "ms.nft", &text);
    let hosts = write(dir.path(), "hosts", HOSTS);
    let ns = Netns::new("nftdns");
    addressed(&ns);
    ns.run(&["nft", "-f", file.to_str().expect("utf-8")]);
    let fill: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("getent ahosts"))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    assert_eq!(fill.len(), 2, "{fill:?}");
    let out = with_hosts(&ns, &hosts, &fill.join("\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v4 = ns.run(&["nft", "list", "set", "inet", "fwtopo", "dns1_v4"]);
    let v6 = ns.run(&["nft", "list", "set", "inet", "fwtopo", "dns1_v6"]);
    assert!(v4.contains("elements = { 192.0.2.201 }"), "{v4}");
    assert!(v6.contains("elements = { 2001:db8::201 }"), "{v6}");
}

// ---------------------------------------------------------------------------------------------
// iptables with the real iptables-restore

const IPT_TOOLS: [&str; 7] = [
    "bash",
    "iptables",
    "ip6tables",
    "iptables-restore",
    "ip6tables-restore",
    "iptables-save",
    "ip6tables-save",
];

#[test]
fn iptables_every_export_passes_restore_test_and_reruns_identically() {
    if !netns::available(&IPT_TOOLS) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let exports = all_exports(Target::Iptables);
    let (mut runs, mut run_time) = (0u32, Duration::ZERO);
    for (i, (ex, node, e, text)) in exports.iter().enumerate() {
        let file = write(dir.path(), &format!("{i}.sh"), text);
        let f = file.to_str().expect("utf-8 path");
        let ns = Netns::new("ipt");
        // A foreign rule and chain that must survive.
        ns.run(&["iptables", "-w", "-N", "OTHER"]);
        ns.run(&[
            "iptables",
            "-w",
            "-A",
            "INPUT",
            "-s",
            "192.0.2.99",
            "-j",
            "OTHER",
        ]);
        for (fam, tool) in [("v4", "iptables-restore"), ("v6", "ip6tables-restore")] {
            let payload = ns.run(&["bash", f, "--payload", fam]);
            ns.run_stdin(&[tool, "--test"], Some(payload.as_bytes()));
        }
        let t0 = Instant::now();
        ns.run(&["bash", f]);
        run_time += t0.elapsed();
        runs += 1;
        let once = ns.iptables_saved();
        for must in [
            "-A INPUT -j FWTOPO-IN\n",
            "-A OUTPUT -j FWTOPO-OUT\n",
            "-A FWTOPO-IN -j DROP\n",
            "-A INPUT -s 192.0.2.99/32 -j OTHER\n",
            ":OTHER -\n",
        ] {
            assert!(
                once.contains(must),
                "{ex}/{node}/{}: no {must:?} in\n{once}",
                egress_name(*e)
            );
        }
        assert_eq!(
            once.matches("-j FWTOPO-IN\n").count(),
            2,
            "one jump per family"
        );
        assert_eq!(
            once.contains("-A FWTOPO-OUT -j DROP\n"),
            *e == Egress::Strict,
            "{ex}/{node}"
        );
        ns.run(&["bash", f]);
        assert_eq!(
            once,
            ns.iptables_saved(),
            "{ex}/{node}/{}: second run differs",
            egress_name(*e)
        );
    }
    eprintln!(
        "iptables: {} exports pass iptables-restore --test / ip6tables-restore --test and run twice identically; mean run {:?}",
        exports.len(),
        run_time / runs.max(1)
    );
}

/// The PA management node's iptables scripts, egress open and strict, written into `dir`.
fn pa_mn_iptables(dir: &Path) -> (PathBuf, PathBuf) {
    let cat = catalog();
    let t = support::example("plesk-automation");
    let script = |name: &str, egress| {
        write(
            dir,
            name,
            &support::render(&cat, &t, "pa-mn", Target::Iptables, egress),
        )
    };
    (
        script("open.sh", Egress::Open),
        script("strict.sh", Egress::Strict),
    )
}

#[test]
fn iptables_switching_modes_and_removing_touch_only_our_chains() {
    if !netns::available(&IPT_TOOLS) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (open, strict) = pa_mn_iptables(dir.path());
    let (open, strict) = (
        open.to_str().expect("utf-8"),
        strict.to_str().expect("utf-8"),
    );

    let alone = Netns::new("iptmode");
    alone.run(&["bash", open]);
    let open_only = alone.iptables_saved();

    let ns = Netns::new("iptmode");
    ns.run(&["bash", strict]);
    ns.run(&["bash", open]);
    assert_eq!(
        ns.iptables_saved(),
        open_only,
        "strict then open is not open"
    );
    ns.run(&[
        "iptables",
        "-w",
        "-A",
        "INPUT",
        "-s",
        "192.0.2.99",
        "-j",
        "ACCEPT",
    ]);
    ns.run(&["bash", open, "--remove"]);
    let left = ns.iptables_saved();
    assert!(!left.contains("FWTOPO"), "{left}");
    assert!(
        left.contains("-A INPUT -s 192.0.2.99/32 -j ACCEPT\n"),
        "{left}"
    );
}

#[test]
fn iptables_safe_apply_restores_unless_confirmed() {
    if !netns::available(&IPT_TOOLS) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (open, strict) = pa_mn_iptables(dir.path());
    let (open, strict) = (
        open.to_str().expect("utf-8"),
        strict.to_str().expect("utf-8"),
    );

    // Fresh namespace, no answer: nothing of ours remains.
    let a = Netns::new("iptsafe");
    let out = a.output(&["bash", open, "--safe", "1"], Some(b""));
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !a.iptables_saved().contains("FWTOPO"),
        "{}",
        a.iptables_saved()
    );

    // A previous version plus a foreign rule, wrong answer: exactly the saved rules come back.
    let b = Netns::new("iptsafe");
    b.run(&["bash", strict]);
    b.run(&[
        "iptables",
        "-w",
        "-A",
        "INPUT",
        "-s",
        "192.0.2.99",
        "-j",
        "ACCEPT",
    ]);
    let before = b.iptables_saved();
    let out = b.output(&["bash", open, "--safe", "5"], Some(b"no\n"));
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(b.iptables_saved(), before);

    // Confirmed: the same as a plain run.
    let c = Netns::new("iptsafe");
    c.run(&["bash", strict]);
    let out = c.output(&["bash", open, "--safe", "5"], Some(b"yes\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = Netns::new("iptsafe");
    d.run(&["bash", open]);
    assert_eq!(c.iptables_saved(), d.iptables_saved());
}

/// Automation's confirm channel (the Ansible rollout): with `FWTOPO_CONFIRM_FILE` the script
/// reads no answer; it writes `FILE.waiting` once the new rules are live, and keeps them only when
/// FILE appears in time. No terminal and no standard input are needed.
#[test]
fn iptables_safe_apply_confirms_through_a_file() {
    if !netns::available(&IPT_TOOLS) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (open, _) = pa_mn_iptables(dir.path());
    let open = open.to_str().expect("utf-8");
    let confirm = dir.path().join("confirm");
    let confirm = confirm.to_str().expect("utf-8");
    for confirmed in [false, true] {
        let ns = Netns::new("iptfile");
        // The confirmer: waits for the marker, checks the new rules are live, then confirms.
        let driver = format!(
            "FWTOPO_CONFIRM_FILE='{confirm}' bash '{open}' --safe 4 </dev/null & job=$!\n\
             for i in $(seq 1 100); do [ -e '{confirm}.waiting' ] && break; sleep 0.1; done\n\
             [ -e '{confirm}.waiting' ] && echo @@waiting\n\
             iptables-save | grep -q FWTOPO-IN && echo @@live\n\
             {touch}\n\
             wait $job; echo \"@@rc=$?\"\n",
            touch = if confirmed {
                format!("touch '{confirm}'")
            } else {
                String::new()
            },
        );
        let out = ns.output(&["bash", "-c", &driver], None);
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("@@waiting") && text.contains("@@live"),
            "{text}{err}"
        );
        if confirmed {
            assert!(text.contains("@@rc=0"), "{text}{err}");
            assert!(ns.iptables_saved().contains("FWTOPO-IN"));
        } else {
            assert!(text.contains("@@rc=3"), "{text}{err}");
            assert!(!ns.iptables_saved().contains("FWTOPO"), "not rolled back");
        }
        assert!(!std::path::Path::new(&format!("{confirm}.waiting")).exists());
        let _ = std::fs::remove_file(confirm);
    }
}

/// The shell running `--safe` dies unconfirmed (SIGKILL: no trap runs): the detached timer alone
/// must put the saved rules back.
#[test]
fn iptables_safe_apply_rolls_back_after_the_shell_is_killed() {
    if !netns::available(&IPT_TOOLS) || !support::require("setsid") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (open, strict) = pa_mn_iptables(dir.path());
    let ns = Netns::new("iptkill");
    ns.run(&["bash", strict.to_str().expect("utf-8")]);
    let before = ns.iptables_saved();
    // stdin stays open with nothing typed, as in a session that hangs.
    let mut child = ns
        .command("bash")
        .args([open.to_str().expect("utf-8"), "--safe", "2"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn safe apply");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while ns.iptables_saved() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the safe apply never applied"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().expect("kill -9 the script");
    let _ = child.wait();
    assert_ne!(
        ns.iptables_saved(),
        before,
        "nothing rolled back before the deadline"
    );
    // The deadline (2 s) plus the timer's grace (5 s), and some slack for a loaded machine.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while ns.iptables_saved() != before {
        assert!(
            std::time::Instant::now() < deadline,
            "the detached timer did not restore the saved rules:\n{}",
            ns.iptables_saved()
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

#[test]
fn iptables_host_names_resolved_at_apply_time_never_widened() {
    if !netns::available(&IPT_TOOLS) || !support::require("unshare") || !support::require("getent")
    {
        return;
    }
    let cat = catalog();
    let t = support::example("mailstore-spe");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(
        dir.path(),
        "ms.sh",
        &support::render(&cat, &t, "ms-mgmt", Target::Iptables, Egress::Strict),
    );
    let f = file.to_str().expect("utf-8");

    // Resolvable (private /etc/hosts): one rule per address, in its own family.
    let hosts = write(dir.path(), "hosts", HOSTS);
    let ns = Netns::new("iptdns");
    addressed(&ns);
    let out = with_hosts(&ns, &hosts, &format!("bash {f}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning: my.mailstore.com resolved now to")
    );
    let rules = ns.iptables_saved();
    let r443: Vec<&str> = rules
        .lines()
        .filter(|l| l.contains("--dport 443"))
        .collect();
    assert_eq!(r443.len(), 2, "{r443:?}");
    assert!(
        r443[0].starts_with("-A FWTOPO-OUT -d 192.0.2.201/32 -p tcp"),
        "{r443:?}"
    );
    assert!(
        r443[1].starts_with("-A FWTOPO-OUT -d 2001:db8::201/128 -p tcp"),
        "{r443:?}"
    );

    // Unresolvable (no such entry; the namespace has no network): no rule at all, and a warning.
    let empty = write(dir.path(), "hosts.empty", "127.0.0.1 localhost\n");
    let ns = Netns::new("iptdns");
    addressed(&ns);
    let out = with_hosts(&ns, &empty, &format!("bash {f}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("my.mailstore.com has no IPv4 address now")
    );
    assert!(
        !ns.iptables_saved().contains("--dport 443"),
        "widened: {}",
        ns.iptables_saved()
    );
}

#[test]
fn hostile_text_loads_like_the_plain_export() {
    if !netns::available(&["nft"]) || !netns::available(&IPT_TOOLS) {
        return;
    }
    let cat = catalog();
    let (t, h) = hostile_pa();
    let dir = tempfile::tempdir().expect("temp dir");
    let load = |topo: &Topology, n: &str| {
        let nft = write(
            dir.path(),
            &format!("{n}.nft"),
            &support::render(&cat, topo, "pa-mn", Target::Nftables, Egress::Strict),
        );
        let ipt = write(
            dir.path(),
            &format!("{n}.sh"),
            &support::render(&cat, topo, "pa-mn", Target::Iptables, Egress::Strict),
        );
        let ns = Netns::new("hostile");
        ns.run(&["nft", "-c", "-f", nft.to_str().expect("utf-8")]);
        ns.run(&["nft", "-f", nft.to_str().expect("utf-8")]);
        ns.run(&["bash", ipt.to_str().expect("utf-8")]);
        (ruleset(&ns), ns.iptables_saved())
    };
    assert_eq!(load(&t, "plain"), load(&h, "hostile"));
}

//! `fwtopo query`: allowed or not, with the evidence on both ends and what would allow it. The
//! answers are checked against the derived rules themselves (every restricted inbound rule of
//! every example answers "allowed" for a node among its peers, a port no rule opens answers "not
//! allowed"), and the command's text, JSON and exit status on the cases issue 16 names.

use assert_cmd::Command;
use fwtopo::catalog::Catalog;
use fwtopo::engine;
use fwtopo::export::Egress;
use fwtopo::ports::Protocol;
use fwtopo::query::{End, Question, Side, ask};
use fwtopo::topology::from_ron;

const EXAMPLES: &[&str] = &[
    "plesk-automation",
    "mailstore-spe",
    "communigate-pro",
    "cpanel-whm",
    "virtuozzo",
    "mixed-site",
    "real-site",
];

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/examples/{name}.ron",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn fwtopo() -> Command {
    let mut c = Command::cargo_bin("fwtopo").unwrap();
    c.env(
        "FWTOPO_CONFIG_DIR",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
    );
    c
}

#[test]
fn every_restricted_rule_answers_allowed_for_its_peers_and_closed_ports_do_not() {
    let base = Catalog::embedded().unwrap();
    let mut asked = 0;
    for name in EXAMPLES {
        let t = from_ron(&example(name)).unwrap();
        let catalog = fwtopo::topology::site_catalog(&base, &t);
        let plan = engine::derive(&catalog, &t);
        for p in &plan.nodes {
            for r in p.inbound.iter().filter(|r| !r.peers.is_any()) {
                // A node among the peers, not the destination itself.
                let Some(a) = t.nodes.iter().position(|n| {
                    n.name != p.name && n.addresses.iter().any(|x| r.peers.contains(*x))
                }) else {
                    continue;
                };
                let port = r.ports.ranges()[0].start;
                let q = Question {
                    from: End::Node(a),
                    to: End::Node(p.node),
                    protocol: r.protocol,
                    port,
                    egress: Egress::Open,
                };
                let answer = ask(&catalog, &t, &plan, &q);
                assert!(
                    answer.allowed,
                    "{name}: {} -> {} {} {port}",
                    t.nodes[a].name, p.name, r.protocol
                );
                let f = answer.families.iter().find(|f| f.allowed).unwrap();
                let Side::Allowed { rule } = &f.inbound else {
                    panic!("{name}: the inbound side names its rule")
                };
                assert!(!rule.flows.is_empty());
                assert!(rule.flows.iter().all(|f| !f.document.is_empty()));
                asked += 1;
            }
            // A port no inbound rule of the node opens, from an address no zone holds.
            let closed = (1..u16::MAX)
                .find(|port| !p.inbound.iter().any(|r| r.ports.contains(*port)))
                .unwrap();
            let q = Question {
                from: End::Address("192.0.2.250".parse().unwrap()),
                to: End::Node(p.node),
                protocol: Protocol::Tcp,
                port: closed,
                egress: Egress::Open,
            };
            let answer = ask(&catalog, &t, &plan, &q);
            assert!(!answer.allowed, "{name}: {} {closed}", p.name);
            assert!(!answer.missing.is_empty());
        }
    }
    assert!(asked > 50, "{asked}");
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = fwtopo().arg("query").args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn pa() -> String {
    format!(
        "{}/examples/plesk-automation.ron",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn the_admin_zone_reaches_ssh_with_the_flow_and_section_behind_it() {
    let (code, out, err) = run(&[&pa(), "--from", "admin", "--to", "pa-mn", "--port", "22"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("zone admin -> node pa-mn tcp/22 (egress open): ALLOWED"),
        "{out}"
    );
    assert!(out.contains("host/linux/ssh"), "{out}");
    assert!(out.contains("source: fwtopo-host"), "{out}");
    // From outside the zone: not allowed, and the answer says the zone is what is missing.
    let (code, out, _) = run(&[
        &pa(),
        "--from",
        "192.0.2.77",
        "--to",
        "pa-mn",
        "--port",
        "22",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("NOT ALLOWED") && out.contains("inbound: DROPPED"),
        "{out}"
    );
    assert!(out.contains("only from zone:admin"), "{out}");
}

/// Under strict egress the source's outbound rules decide too: the Apache node has no flow to
/// the mail node's IMAPS (open to any inbound), so only its outbound side drops it. (The webmail
/// node, which issue 13 found cut off, now has its flow: see `webmail_reaches_the_mail_node`.)
#[test]
fn strict_egress_is_checked_on_the_source() {
    let args = |egress: &str| {
        vec![
            pa(),
            "--from".into(),
            "pa-web-apache".into(),
            "--to".into(),
            "pa-mail-postfix".into(),
            "--port".into(),
            "993".into(),
            "--egress".into(),
            egress.into(),
            "--json".into(),
        ]
    };
    let json = |egress: &str| -> (i32, serde_json::Value) {
        let a = args(egress);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let (code, out, err) = run(&a);
        (
            code,
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}")),
        )
    };
    let (code, open) = json("open");
    assert_eq!(code, 0);
    assert_eq!(open["allowed"], true);
    assert_eq!(open["families"][0]["outbound"]["verdict"], "not-filtered");
    let (code, strict) = json("strict");
    assert_eq!(code, 1);
    assert_eq!(strict["allowed"], false);
    assert_eq!(strict["families"][0]["inbound"]["verdict"], "allowed");
    assert_eq!(strict["families"][0]["outbound"]["verdict"], "dropped");
    assert!(
        strict["missing"][0].as_str().unwrap().contains("outbound"),
        "{strict}"
    );
}

/// Issue 13 found in real kernels that under strict egress the webmail node could not reach the
/// mail node's IMAP and SMTP; the PA flow `webmail_mail` now lets it, and the query says by which.
#[test]
fn webmail_reaches_the_mail_node_under_strict_egress() {
    for port in ["143", "993", "25", "587"] {
        let (code, out, err) = run(&[
            &pa(),
            "--from",
            "pa-webmail",
            "--to",
            "pa-mail-postfix",
            "--port",
            port,
            "--egress",
            "strict",
        ]);
        assert_eq!(code, 0, "{port}: {out}{err}");
        assert!(out.contains("outbound: allowed on pa-webmail"), "{out}");
    }
}

#[test]
fn a_switched_off_flow_is_named_as_what_would_allow_it() {
    let (code, out, _) = run(&[
        &pa(),
        "--from",
        "pa-web-apache",
        "--to",
        "pa-db",
        "--port",
        "5432",
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("turn on switch postgresql of plesk-automation/sn-database on pa-db"),
        "{out}"
    );
}

#[test]
fn bad_ends_and_ports_are_refused_with_exit_2() {
    for (args, says) in [
        (
            vec!["--from", "nope", "--to", "pa-mn", "--port", "22"],
            "--from: 'nope' is no node",
        ),
        (
            vec!["--from", "admin", "--to", "pa-mn", "--port", "0"],
            "port",
        ),
        (
            vec![
                "--from", "admin", "--to", "pa-mn", "--port", "22", "--proto", "icmp",
            ],
            "icmp",
        ),
    ] {
        let mut a = vec![pa()];
        a.extend(args.iter().map(|s| s.to_string()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let (code, out, err) = run(&a);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// Issue 16.2: a topology carries flow tests; `check` fails when the design breaks one (an error
/// finding that names it and what would allow it), notes the kept ones, and `export` refuses a
/// broken one without --force. The tests survive a save.
#[test]
fn flow_tests_in_the_topology_fail_check_and_block_export_when_broken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.ron");
    let with = |tests: &str| {
        let text = example("plesk-automation");
        let text = text.trim_end();
        let text = text.strip_suffix(')').unwrap();
        std::fs::write(&path, format!("{text}\n    tests: [{tests}],\n)\n")).unwrap();
    };
    with(
        r#"(from: "admin", to: "pa-mn", port: 22, expect: allow),
           (from: "pa-webmail", to: "pa-mail-postfix", proto: tcp, port: 993, expect: allow),
           (from: "192.0.2.9", to: "pa-db", port: 3306, expect: deny, note: "never public")"#,
    );
    let check = fwtopo().arg("check").arg(&path).output().unwrap();
    let out = String::from_utf8_lossy(&check.stdout);
    assert_eq!(out.matches("FW028 flow-test-passed").count(), 3, "{out}");
    assert!(!out.contains("FW027"), "{out}");

    // Broken: strict egress keeps the Apache node from the mail node's IMAPS, and pa-db's MySQL
    // from the web node is promised closed but is open.
    with(
        r#"(from: "pa-web-apache", to: "pa-mail-postfix", port: 993, expect: allow, strict: true),
           (from: "pa-web-apache", to: "pa-db", port: 3306, expect: deny)"#,
    );
    let check = fwtopo().arg("check").arg(&path).output().unwrap();
    assert_eq!(check.status.code(), Some(1));
    let out = String::from_utf8_lossy(&check.stdout);
    assert_eq!(out.matches("FW027 flow-test-failed").count(), 2, "{out}");
    assert!(out.contains("tests[0] pa-web-apache -> pa-mail-postfix tcp/993 expect allow (egress strict): not allowed; what would allow it:"), "{out}");
    assert!(
        out.contains("tests[1] pa-web-apache -> pa-db tcp/3306 expect deny: allowed over IPv4"),
        "{out}"
    );
    let export = || {
        let mut c = fwtopo();
        c.args(["export", "--target", "nftables", "--node", "pa-mn"])
            .arg(&path);
        c
    };
    let refused = export().output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("flow-test-failed"));
    export().arg("--force").assert().success();

    // A save keeps them: the file written back loads to the same tests.
    let t = fwtopo::topology::from_ron(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(t.tests.len(), 2);
    let again = fwtopo::topology::from_ron(&fwtopo::topology::to_ron(&t)).unwrap();
    assert_eq!(again, t);
}

#[test]
fn a_flow_test_naming_nothing_is_a_load_error_at_its_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.ron");
    for (test, says) in [
        (
            r#"(from: "nobody", to: "pa-mn", port: 22, expect: allow)"#,
            "tests[0]: from: 'nobody' is no node",
        ),
        (
            r#"(from: "admin", to: "pa-mn", port: 0, expect: allow)"#,
            "tests[0]: port: 0 is not a port",
        ),
        (
            r#"(from: "admin", to: "pa-mn", port: 70000, expect: allow)"#,
            "tests[0]: port: 70000 is not a port",
        ),
        (
            r#"(from: "admin", to: "pa-mn", port: 22, expect: maybe)"#,
            "maybe",
        ),
        (
            r#"(from: "admin", to: "pa-mn", port: 22, expect: allow, proto: icmp)"#,
            "icmp",
        ),
    ] {
        let text = example("plesk-automation");
        let text = text.trim_end().strip_suffix(')').unwrap().to_string();
        std::fs::write(&path, format!("{text}\n    tests: [{test}],\n)\n")).unwrap();
        let out = fwtopo().arg("check").arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{test}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{test}: {err}");
    }
}

/// Issue 16's own example, `(from: "any", to: "db", port: 3306, expect: deny)`: `any` is every
/// address, so only a rule open to anyone lets it in. On the PA example MySQL on pa-db is open to
/// the site's nodes only, and the mail node's SMTP to anyone.
#[test]
fn any_is_every_address_for_query_and_flow_tests() {
    let (code, out, err) = run(&[&pa(), "--from", "any", "--to", "pa-db", "--port", "3306"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with("any address -> node pa-db tcp/3306 (egress open): NOT ALLOWED"),
        "{out}"
    );
    assert!(out.contains("0.0.0.0/0"), "{out}");
    let (code, out, err) = run(&[
        &pa(),
        "--from",
        "any",
        "--to",
        "pa-mail-postfix",
        "--port",
        "25",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("IPv4 0.0.0.0/0 ->"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.ron");
    let text = example("plesk-automation");
    let text = text.trim_end().strip_suffix(')').unwrap();
    std::fs::write(
        &path,
        format!(
            "{text}\n    tests: [(from: \"any\", to: \"pa-db\", port: 3306, expect: deny),\n             (from: \"any\", to: \"pa-mail-postfix\", port: 25, expect: allow)],\n)\n"
        ),
    )
    .unwrap();
    let check = fwtopo().arg("check").arg(&path).output().unwrap();
    let out = String::from_utf8_lossy(&check.stdout);
    let err = String::from_utf8_lossy(&check.stderr);
    assert_eq!(
        out.matches("FW028 flow-test-passed").count(),
        2,
        "{out}{err}"
    );
}

//! Who asked for it and until when (issue 17.3), from the command line: `check` and `export` on
//! fixed days either side of the grace period (`--today`, `$FWTOPO_TODAY`), `rules` showing
//! owner, ticket, reason and expiry, and dates that are no day.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

const SITE: &str = r#"(
    version: 1,
    name: "expiry",
    zones: [(name: "admin", cidrs: ["198.51.100.0/28"], note: "operators")],
    nodes: [
        (name: "mon", os: "debian", addresses: ["203.0.113.30"],
         roles: [(product: "site", role: "monitoring")]),
        (name: "web", os: "debian", addresses: ["203.0.113.31"],
         owner: "web team", ticket: "CHG-2", reason: "launch", expires: "2099-01-01"),
    ],
    custom: (
        roles: [(id: "monitoring", owner: "ops", ticket: "CHG-1")],
        flows: [
            (id: "ui", service: "monitor UI", protocols: [tcp], ports: [Port(8443)],
             from: [Zone("admin")], to: [Role("monitoring")],
             owner: "ops@example.com", ticket: "CHG-8", reason: "trial of the new monitor",
             expires: "2027-02-28"),
        ],
    ),
)
"#;

fn fwtopo() -> Command {
    let mut c = Command::cargo_bin("fwtopo").unwrap();
    c.env(
        "FWTOPO_CONFIG_DIR",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
    );
    c.env_remove("FWTOPO_TODAY");
    c
}

/// The site written to a file of its own; the directory lives as long as the returned guard.
fn site(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.ron");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Exit status, standard output and standard error.
fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_warns_from_the_expiry_day_and_fails_after_the_grace_period() {
    let (_dir, path) = site(SITE);
    let check = |day: &str| run(fwtopo().args(["check", "--today", day]).arg(&path));
    let (code, out, _) = check("2027-02-27");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("FW029") && !out.contains("FW030"), "{out}");

    let (code, out, _) = check("2027-03-13");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("warning FW029 expired [mon]: custom flow site/ui (monitor UI) (owner ops@example.com, ticket CHG-8) expired on 2027-02-28, 13 days ago"),
        "{out}"
    );

    // The day from the environment, as a CI job would fix it.
    let (code, out, _) = run(fwtopo()
        .env("FWTOPO_TODAY", "2027-03-14")
        .arg("check")
        .arg(&path));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error   FW030 expired-past-grace [mon]: custom flow site/ui"),
        "{out}"
    );
    // The flag wins over the environment.
    let (code, out, _) = run(fwtopo()
        .env("FWTOPO_TODAY", "2027-03-14")
        .args(["check", "--today", "2027-01-01"])
        .arg(&path));
    assert_eq!(code, 0, "{out}");

    // The topology's own grace period.
    let (_dir, longer) = site(&SITE.replace(
        "name: \"expiry\",",
        "name: \"expiry\", expiry_grace_days: 30,",
    ));
    let (code, out, _) = run(fwtopo()
        .args(["check", "--today", "2027-03-14"])
        .arg(&longer));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("an error in 16 days (grace period 30 days)"),
        "{out}"
    );
}

#[test]
fn export_refuses_a_node_with_a_flow_past_its_grace_period_unless_forced() {
    let (_dir, path) = site(SITE);
    let export = |node: &str, extra: &[&str]| {
        run(fwtopo()
            .args([
                "export",
                "-t",
                "nftables",
                "--today",
                "2027-04-01",
                "--node",
                node,
            ])
            .args(extra)
            .arg(&path))
    };
    let (code, out, err) = export("mon", &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("FW030"), "{err}");
    // Not the node the flow does not reach.
    let (code, out, err) = export("web", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("table inet fwtopo"), "{out}");
    let (code, out, err) = export("mon", &["--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("FW030"), "{out}");
}

#[test]
fn dates_that_are_no_day_are_refused_with_exit_status_2() {
    let (_dir, path) = site(SITE);
    let (code, _, err) = run(fwtopo().args(["check", "--today", "2027-02-30"]).arg(&path));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("2027-02-30"), "{err}");
    assert!(err.contains("February 2027 has 28 days"), "{err}");

    let (code, _, err) = run(fwtopo()
        .env("FWTOPO_TODAY", "tomorrow")
        .arg("check")
        .arg(&path));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("$FWTOPO_TODAY: 'tomorrow' is not a date written YYYY-MM-DD"),
        "{err}"
    );
    // Commands that derive nothing do not read it.
    let (code, _, err) = run(fwtopo().env("FWTOPO_TODAY", "tomorrow").arg("catalog"));
    assert_eq!(code, 0, "{err}");

    // In the file: where it stands.
    let (_dir, bad) = site(&SITE.replace("\"2027-02-28\"", "\"2027-02-29\""));
    let (code, _, err) = run(fwtopo().arg("check").arg(&bad));
    assert_eq!(code, 2, "{err}");
    let line = 1 + SITE.lines().position(|l| l.contains("2027-02-28")).unwrap();
    assert!(
        err.contains(&format!("site.ron:{line}:")),
        "line {line}: {err}"
    );
    assert!(
        err.contains("expires: '2027-02-29' is not a day: February 2027 has 28 days"),
        "{err}"
    );
}

#[test]
fn rules_show_who_asked_for_each_rule_and_node() {
    let (_dir, path) = site(SITE);
    let out = run(fwtopo()
        .args(["rules", "--json", "--today", "2027-01-01"])
        .arg(&path));
    assert_eq!(out.0, 0, "{}", out.2);
    let v: Value = serde_json::from_str(&out.1).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    let mon = nodes.iter().find(|n| n["name"] == "mon").unwrap();
    let rule = mon["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ports"][0] == "8443")
        .unwrap_or_else(|| panic!("{mon}"));
    assert_eq!(
        rule["ownership"],
        serde_json::json!([
            {"provenance": "site/monitoring/ui", "of": "flow site/ui", "owner": "ops@example.com",
             "ticket": "CHG-8", "reason": "trial of the new monitor", "expires": "2027-02-28"},
            {"provenance": "site/monitoring/ui", "of": "role site/monitoring", "owner": "ops",
             "ticket": "CHG-1"},
        ])
    );
    // Rules of the catalog's flows say nothing of the kind.
    let ssh = mon["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ports"][0] == "22")
        .unwrap_or_else(|| panic!("{mon}"));
    assert!(ssh.get("ownership").is_none(), "{ssh}");
    assert!(mon.get("ownership").is_none(), "{mon}");
    let web = nodes.iter().find(|n| n["name"] == "web").unwrap();
    assert_eq!(
        web["ownership"],
        serde_json::json!({"owner": "web team", "ticket": "CHG-2", "reason": "launch",
                           "expires": "2099-01-01"})
    );

    let (code, text, err) = run(fwtopo().args(["rules", "--today", "2027-01-01"]).arg(&path));
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("\n  asked for (custom flows and roles behind these rules)\n    flow site/ui: owner ops@example.com, ticket CHG-8, expires 2027-02-28, reason: trial of the new monitor\n    role site/monitoring: owner ops, ticket CHG-1\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "\n  asked for: owner web team, ticket CHG-2, expires 2099-01-01, reason: launch\n"
        ),
        "{text}"
    );
}

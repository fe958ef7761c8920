//! The probe scripts as text: a snapshot per OS, bash's own syntax check of every Linux node's
//! script, and every Windows node's script through the PowerShell tokenizer and statement parser
//! the Windows export tests use (tests/support/windows_ps_syntax.rs): each generated line is one
//! `Test-FwtopoFlow 'address' port 'peer' 'services'` or `Write-Output 'text'` and nothing else,
//! around fixed text that is the same in every script. (tests/probe_netns.rs runs them.)

mod support;

#[allow(dead_code)]
#[path = "support/windows_ps_syntax.rs"]
mod ps_syntax;

use fwtopo::catalog::Catalog;
use fwtopo::export::Egress;
use fwtopo::target::Target;
use ps_syntax::{PsParser, Tok, Val, ps_tokens};
use std::process::Command;

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

/// Every (example, node, Windows?, probe script).
fn all_probes() -> Vec<(String, String, bool, String)> {
    let cat = catalog();
    let mut out = Vec::new();
    for (ex, t) in support::examples() {
        for n in &t.nodes {
            let text = support::render(&cat, &t, &n.name, Target::Probe, Egress::Strict);
            out.push((ex.clone(), n.name.clone(), n.os.is_windows(), text));
        }
    }
    out
}

#[test]
fn snapshots_of_one_linux_and_one_windows_probe_script() {
    let cat = catalog();
    let t = support::example("plesk-automation");
    for node in ["pa-webmail", "pa-mail-smartermail"] {
        insta::assert_snapshot!(
            format!("probe__plesk-automation__{node}"),
            support::render(&cat, &t, node, Target::Probe, Egress::Strict)
        );
    }
}

#[test]
fn every_linux_probe_script_passes_bash_syntax_check() {
    if !support::require("bash") {
        return;
    }
    let mut checked = 0;
    for (ex, node, windows, text) in all_probes() {
        if windows {
            continue;
        }
        let out = Command::new("bash")
            .args(["-n", "-c", &text])
            .output()
            .expect("run bash -n");
        assert!(
            out.status.success(),
            "{ex} {node}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.is_ascii(), "{ex} {node}: not ASCII");
        checked += 1;
    }
    assert!(checked > 20, "{checked}");
}

/// A generated line of a PowerShell probe script, parsed: its command and positional values.
fn parse_line(line: &str) -> Result<(String, Vec<Val>), String> {
    let toks = ps_tokens(line)?;
    let mut p = PsParser {
        t: &toks,
        i: 0,
        cmds: Vec::new(),
    };
    p.statement()?;
    if p.i != toks.len() {
        return Err(format!("left over: {:?}", &toks[p.i..]));
    }
    match p.cmds.as_slice() {
        [c] if c.params.is_empty() => Ok((c.name.clone(), c.positional.clone())),
        other => Err(format!("not one command without parameters: {other:?}")),
    }
}

#[test]
fn every_windows_probe_script_is_fixed_text_around_plain_calls() {
    // The fixed text before the first generated line and after the last, from the first script.
    let mut fixed: Option<(Vec<String>, Vec<String>)> = None;
    let mut calls = 0;
    let mut scripts = 0;
    for (ex, node, _, text) in all_probes().into_iter().filter(|p| p.2) {
        assert!(text.is_ascii(), "{ex} {node}: not ASCII");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("# fwtopo probe export for node {node}"),
            "{ex}"
        );
        let body: Vec<&str> = lines
            .iter()
            .copied()
            .skip_while(|l| l.starts_with("# "))
            .collect();
        let generated =
            |l: &str| l.starts_with("Test-FwtopoFlow ") || l.starts_with("Write-Output '");
        let first = body.iter().position(|l| generated(l)).unwrap_or(body.len());
        let last = body
            .iter()
            .rposition(|l| generated(l))
            .map_or(first, |i| i + 1);
        let before: Vec<String> = body[..first].iter().map(|l| l.to_string()).collect();
        let after: Vec<String> = body[last..].iter().map(|l| l.to_string()).collect();
        let (b, a) = fixed.get_or_insert_with(|| (before.clone(), after.clone()));
        assert_eq!(
            &before, b,
            "{ex} {node}: the fixed text before the calls differs"
        );
        assert_eq!(
            &after, a,
            "{ex} {node}: the fixed text after the calls differs"
        );
        for line in &body[first..last] {
            let (cmd, values) =
                parse_line(line).unwrap_or_else(|e| panic!("{ex} {node}: {line}: {e}"));
            match (cmd.as_str(), values.as_slice()) {
                ("Test-FwtopoFlow", [Val::Str(a), Val::Num(p), Val::Str(_), Val::Str(_)]) => {
                    assert!(a.parse::<std::net::IpAddr>().is_ok(), "{ex} {node}: {line}");
                    assert!((1..=65535).contains(p), "{ex} {node}: {line}");
                    calls += 1;
                }
                ("Write-Output", [Val::Str(s)]) if s.starts_with("not probed (") => {}
                _ => panic!("{ex} {node}: unexpected line {line}"),
            }
        }
        scripts += 1;
    }
    let (before, after) = fixed.expect("a Windows node among the examples");
    assert!(
        before
            .iter()
            .any(|l| l.starts_with("function Test-FwtopoFlow("))
    );
    assert_eq!(after.last().map(String::as_str), Some("exit 0"));
    assert!(
        scripts >= 5 && calls > 10,
        "{scripts} scripts, {calls} calls"
    );
    // The tokenizer refuses what would end a string early.
    assert!(parse_line("Write-Output 'a' 'b'; calc").is_err());
    assert!(ps_tokens("Write-Output 'it\u{2019}s'").is_err());
    assert!(matches!(ps_tokens("'a''b'").as_deref(), Ok([Tok::Str(s)]) if s == "a'b"));
}

/// The bash script's own edges, runnable anywhere: a node with no flow to try (cpanel-whm's
/// server reaches only `any`) says `flows reached 0/0` and exits 0; bad settings exit 2.
#[test]
fn a_bash_probe_script_counts_nothing_as_reached_and_refuses_bad_settings() {
    if !support::require("bash") || !support::require("timeout") {
        return;
    }
    let t = support::example("cpanel-whm");
    let node = &t.nodes[0].name;
    let text = support::render(&catalog(), &t, node, Target::Probe, Egress::Strict);
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("probe.sh");
    std::fs::write(&path, &text).expect("write script");
    let run = |env: Option<&str>, arg: Option<&str>| {
        let mut c = Command::new("bash");
        c.arg(&path).args(arg).env_remove("FWTOPO_PROBE_SECONDS");
        if let Some(v) = env {
            c.env("FWTOPO_PROBE_SECONDS", v);
        }
        let o = c.output().expect("run the script");
        let all =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        (o.status.code(), all)
    };
    let (code, out) = run(None, None);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.lines().last(), Some("flows reached 0/0"), "{out}");
    assert!(out.contains("not probed (any) "), "{out}");
    // Empty is unset: the default.
    for bad in ["0", "03", "abc", "1000", "-1", " 1"] {
        let (code, out) = run(Some(bad), None);
        assert_eq!(code, Some(2), "FWTOPO_PROBE_SECONDS={bad:?}: {out}");
        assert!(out.contains("FWTOPO_PROBE_SECONDS must be"), "{out}");
    }
    let (code, out) = run(None, Some("--bogus"));
    assert_eq!(
        (code, out.contains("unknown argument '--bogus'")),
        (Some(2), true),
        "{out}"
    );
    let (code, out) = run(None, Some("--help"));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with(&format!("fwtopo probe export for node {node}\n")),
        "{out}"
    );
    assert!(out.contains("Exit status: 0 every flow reached"), "{out}");
}

/// `fwtopo export --target probe`: one node's script on standard output (a Windows node's in
/// PowerShell, CRLF with --crlf), every node's under --out; `--target auto` never writes one.
#[test]
fn the_command_line_exports_probe_scripts_and_auto_never_does() {
    use support::cli::fwtopo;
    let site =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plesk-automation.ron");
    let t = support::example("plesk-automation");
    let want = support::render(
        &catalog(),
        &t,
        "pa-mail-smartermail",
        Target::Probe,
        Egress::Open,
    );
    let out = fwtopo()
        .arg("export")
        .arg(&site)
        .args(["--target", "probe", "--node", "pa-mail-smartermail"])
        .output()
        .expect("run fwtopo");
    assert_eq!(out.status.code(), Some(0), "{}", support::cli::stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    let crlf = fwtopo()
        .arg("export")
        .arg(&site)
        .args([
            "--target",
            "probe",
            "--node",
            "pa-mail-smartermail",
            "--crlf",
        ])
        .output()
        .expect("run fwtopo");
    assert_eq!(
        String::from_utf8_lossy(&crlf.stdout),
        want.replace('\n', "\r\n")
    );
    let dir = tempfile::tempdir().expect("temporary directory");
    let auto = fwtopo()
        .arg("export")
        .arg(&site)
        .args(["--target", "auto", "--out"])
        .arg(dir.path())
        .output()
        .expect("run fwtopo");
    assert_eq!(
        auto.status.code(),
        Some(0),
        "{}",
        support::cli::stderr(&auto)
    );
    let files = String::from_utf8_lossy(&auto.stdout).into_owned();
    assert!(
        files.contains(".nftables.nft") && !files.contains(".probe."),
        "{files}"
    );
    let bad = fwtopo()
        .arg("export")
        .arg(&site)
        .args(["--target", "probes"])
        .output()
        .expect("run fwtopo");
    let err = support::cli::stderr(&bad);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown firewall 'probes'") && err.contains("or probe, ansible, or auto"),
        "{err}"
    );
}

//! The Windows copies (what the designer's `y` and `Y` copy, and `fwtopo export --node N` prints)
//! in whichever console they are pasted into (issue 14).
//!
//! The netsh copy must do the same in cmd.exe, Windows PowerShell 5.1 and PowerShell 7: every line
//! of it, for every node of every example with either egress policy, must hand netsh the same
//! argument list in both consoles, by the tokenizers in tests/support/windows_consoles.rs. The
//! PowerShell copy must stop at its first line in cmd.exe, with a message, and that line must be a
//! comment in PowerShell. tests/hostile_names.rs holds the netsh copy of hostile text to the same.

#[path = "support/windows_consoles.rs"]
mod windows_consoles;

use fwtopo::catalog::Catalog;
use fwtopo::engine;
use fwtopo::export::{self, Egress, Export, Options};
use fwtopo::files::load_topology;
use fwtopo::target::Target;
use fwtopo::topology::Topology;
use std::path::{Path, PathBuf};
use windows_consoles::{Run, alike, cmd_line, crt_argv, ps_line};

fn examples() -> Vec<(String, Topology)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    paths
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, load_topology(&p).unwrap())
        })
        .collect()
}

/// Every node's copy for `target`, open and strict: (context, text).
fn copies(target: Target) -> Vec<(String, String)> {
    let catalog = Catalog::embedded().unwrap();
    let mut out = Vec::new();
    for (stem, t) in examples() {
        let plan = engine::derive(&catalog, &t);
        for n in &t.nodes {
            for egress in [Egress::Open, Egress::Strict] {
                let np = plan.node(&n.name).unwrap();
                let options = Options {
                    egress,
                    crlf: false,
                };
                let text =
                    export::copy_text(target, &Export::new(&catalog, &t, &plan, np, options));
                out.push((format!("{stem} {} {egress:?}", n.name), text));
            }
        }
    }
    out
}

/// Checks that every line of a netsh copy does the same in cmd.exe and PowerShell, and runs only
/// netsh and echo; returns the netsh argument lists.
pub fn netsh_copy_is_alike(ctx: &str, text: &str) -> Vec<Vec<String>> {
    let mut netsh = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let runs = alike(line).unwrap_or_else(|e| panic!("{ctx} line {}: {e}\n{line}", n + 1));
        for r in runs {
            match r {
                Run::Program(argv) if argv[0] == "netsh" => netsh.push(argv),
                Run::Echo(_) => {}
                other => panic!("{ctx} line {}: runs {other:?}\n{line}", n + 1),
            }
        }
    }
    netsh
}

// ------------------------------------------------------------------------------------------------
// The tokenizers themselves: each construct the issue names, in both consoles.

#[test]
fn an_unquoted_comma_splits_the_argument_in_powershell_only() {
    let line = "netsh advfirewall firewall add rule localport=3389,5986 remoteip=192.0.2.1,198.51.100.0/24";
    let cmd = cmd_line(line).unwrap();
    assert_eq!(
        cmd,
        [Run::Program(
            [
                "netsh",
                "advfirewall",
                "firewall",
                "add",
                "rule",
                "localport=3389,5986",
                "remoteip=192.0.2.1,198.51.100.0/24"
            ]
            .map(String::from)
            .to_vec()
        )]
    );
    let ps = ps_line(line).unwrap();
    assert_eq!(
        ps,
        [Run::Program(
            [
                "netsh",
                "advfirewall",
                "firewall",
                "add",
                "rule",
                "localport=3389",
                "5986",
                "remoteip=192.0.2.1",
                "198.51.100.0/24"
            ]
            .map(String::from)
            .to_vec()
        )]
    );
    assert!(alike(line).is_err());
    // Quoted, both hand netsh one argument.
    let quoted = r#"netsh advfirewall firewall add rule localport="3389,5986" remoteip="192.0.2.1,198.51.100.0/24""#;
    let both = alike(quoted).unwrap();
    assert_eq!(
        both,
        [Run::Program(
            [
                "netsh",
                "advfirewall",
                "firewall",
                "add",
                "rule",
                "localport=3389,5986",
                "remoteip=192.0.2.1,198.51.100.0/24"
            ]
            .map(String::from)
            .to_vec()
        )]
    );
}

#[test]
fn quotes_and_spaces_reach_netsh_alike() {
    let line = r#"netsh advfirewall firewall add rule name="fwtopo-a-in" description="tcp 25 (SMTP) from any""#;
    let want: Vec<String> = [
        "netsh",
        "advfirewall",
        "firewall",
        "add",
        "rule",
        "name=fwtopo-a-in",
        "description=tcp 25 (SMTP) from any",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(alike(line).unwrap(), [Run::Program(want)]);
    // PowerShell's doubled quote and single quotes, cmd.exe's backslash-quote.
    assert_eq!(
        ps_line("netsh 'it''s'").unwrap(),
        [Run::Program(vec!["netsh".into(), "it's".into()])]
    );
    assert_eq!(
        crt_argv(r#"a\"b "c d" e\\"f g"#),
        [r#"a"b"#, "c d", r"e\f g"]
    );
    // An embedded quote: 5.1 and 7 disagree.
    assert!(ps_line(r#"netsh "a""b""#).is_err());
}

#[test]
fn powershell_special_characters_are_refused_unless_quoted_alike() {
    for (line, why) in [
        ("netsh x=$y", "variable"),
        (r#"netsh x="$env:TEMP""#, "expands"),
        ("netsh x=`n", "backtick"),
        (r#"netsh x="a`tb""#, "backtick"),
        ("netsh @{a=1}", "hashtable"),
        ("netsh @args", "splat"),
        ("netsh x=(1)", "evaluates"),
        ("netsh x={1}", "script block"),
        ("netsh 0x10", "number"),
        ("netsh a | b", "operator"),
        ("@echo off", "expression"),
    ] {
        let e = ps_line(line).unwrap_err();
        assert!(e.contains(why) || e.contains('@'), "{line}: {e}");
    }
    // `;` ends a statement in PowerShell; in cmd.exe it is part of the argument.
    assert_eq!(
        ps_line("netsh a; netsh b").unwrap(),
        [
            Run::Program(vec!["netsh".into(), "a".into()]),
            Run::Program(vec!["netsh".into(), "b".into()])
        ]
    );
    assert_eq!(
        cmd_line("netsh a; netsh b").unwrap(),
        [Run::Program(
            ["netsh", "a;", "netsh", "b"].map(String::from).to_vec()
        )]
    );
    assert!(alike("netsh a; netsh b").is_err());
    // `--%` hands the rest over verbatim: alike only where the rest splits alike.
    assert_eq!(
        ps_line("netsh --% a=1,2 b").unwrap(),
        [Run::Program(
            ["netsh", "a=1,2", "b"].map(String::from).to_vec()
        )]
    );
    assert_eq!(
        cmd_line("netsh --% a").unwrap(),
        [Run::Program(
            ["netsh", "--%", "a"].map(String::from).to_vec()
        )]
    );
    // Single-quoted `$` and parentheses inside double quotes are plain text.
    assert_eq!(
        ps_line(r#"netsh '$x' "(a) $ b""#).unwrap(),
        [Run::Program(
            ["netsh", "$x", "(a) $ b"].map(String::from).to_vec()
        )]
    );
}

#[test]
fn cmd_exe_metacharacters_are_modelled() {
    assert!(cmd_line(r#"if not exist "%TEMP%\x" netsh a"#).is_err());
    assert!(cmd_line("netsh a > nul").is_err());
    assert!(cmd_line("REM comment").unwrap().is_empty());
    assert_eq!(
        cmd_line("netsh a ^& b & echo c").unwrap(),
        [
            Run::Program(["netsh", "a", "&", "b"].map(String::from).to_vec()),
            Run::Echo(vec!["c".into()])
        ]
    );
    // The WinRM document line: a hashtable in PowerShell.
    let winrm = r#"cmd /c winrm put winrm/config/service @{AllowUnencrypted = "true"}"#;
    assert!(cmd_line(winrm).is_ok());
    assert!(ps_line(winrm).unwrap_err().contains("hashtable"));
    // The old backup line: cmd.exe syntax, and %TEMP% only cmd.exe expands.
    assert!(alike(r#"if not exist "%TEMP%\fwtopo-backup.wfw" netsh advfirewall export "%TEMP%\fwtopo-backup.wfw""#).is_err());
}

// ------------------------------------------------------------------------------------------------
// The copies

#[test]
fn every_line_of_every_netsh_copy_hands_netsh_the_same_arguments_in_cmd_and_powershell() {
    let mut lines = 0;
    let mut adds = 0;
    for (ctx, text) in copies(Target::Netsh) {
        let netsh = netsh_copy_is_alike(&ctx, &text);
        lines += text.lines().count();
        adds += netsh
            .iter()
            .filter(|a| a.get(3).is_some_and(|w| w == "add"))
            .count();
    }
    eprintln!("netsh copies: {lines} lines alike in both consoles, {adds} add rule commands");
    assert!(adds > 100, "only {adds} rules");
}

/// The copies of the Windows nodes, for review: what an operator pastes.
#[test]
fn snapshots_of_netsh_copies() {
    for (ctx, text) in copies(Target::Netsh) {
        let mut words = ctx.split(' ');
        let (stem, node, egress) = (
            words.next().unwrap(),
            words.next().unwrap(),
            words.next().unwrap(),
        );
        let windows = examples()
            .into_iter()
            .any(|(s, t)| s == stem && t.node(node).is_some_and(|n| n.os.is_windows()));
        if windows && (egress == "Open" || node == "pa-web-iis") {
            insta::assert_snapshot!(format!("netsh_copy__{stem}__{node}__{egress}"), text);
        }
    }
}

#[test]
fn the_netsh_copy_leaves_out_the_backup_policy_and_winrm_and_says_where_they_are() {
    let mut winrm_nodes = 0;
    for (ctx, text) in copies(Target::Netsh) {
        // netsh only renames and adds rules: nothing whose roll back needs the backup, nothing that
        // loses a rule when an earlier command failed (a delete), nothing but netsh and echo.
        for argv in netsh_copy_is_alike(&ctx, &text) {
            let words = argv[1..4].join(" ");
            assert!(
                words == "advfirewall firewall add" || words == "advfirewall firewall set",
                "{ctx}: the copy runs {argv:?}"
            );
        }
        let node = ctx.split(' ').nth(1).unwrap();
        let first: String = text.lines().take(2).collect();
        assert!(
            first.contains("cmd.exe or PowerShell")
                && first.contains(&format!("{node}.netsh.cmd"))
                && first.contains("export --out")
                && first.contains("backup"),
            "{ctx}: the copy says first which console it is for and where the full script is:\n{text}"
        );
        if first.contains("WinRM") {
            winrm_nodes += 1;
        }
    }
    assert!(
        winrm_nodes > 0,
        "no copy says it leaves out the WinRM preparation"
    );
}

#[test]
fn the_powershell_copy_stops_at_its_first_line_in_cmd_exe() {
    let mut checked = 0;
    for (ctx, text) in copies(Target::Powershell) {
        let first = text.lines().next().unwrap_or_default();
        // PowerShell: a comment, nothing runs.
        assert_eq!(ps_line(first), Ok(vec![]), "{ctx}: {first}");
        // cmd.exe: an unknown word, the message, then everything pasted after it is swallowed.
        let cmd = cmd_line(first).unwrap_or_else(|e| panic!("{ctx}: {e}: {first}"));
        match &cmd[..] {
            [Run::NotACommand(_), Run::Echo(msg), Run::SwallowsTheRest] => {
                let msg = msg.join(" ");
                assert!(
                    msg.contains("PowerShell") && msg.contains("cmd.exe") && msg.contains("Ctrl+C"),
                    "{ctx}: {msg}"
                );
            }
            other => panic!("{ctx}: cmd.exe runs {other:?} for {first}"),
        }
        checked += 1;
    }
    assert!(checked > 20);
}

/// `fwtopo export --target netsh --node N` prints exactly the copy, and `--out` still writes the
/// full cmd.exe script.
#[test]
fn export_prints_the_copy_and_out_writes_the_full_script() {
    let catalog = Catalog::embedded().unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plesk-automation.ron");
    let t = load_topology(&file).unwrap();
    let plan = engine::derive(&catalog, &t);
    let x = Export::new(
        &catalog,
        &t,
        &plan,
        plan.node("pa-web-iis").unwrap(),
        Options::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    for target in [Target::Netsh, Target::Powershell] {
        let run = |extra: &[&str]| {
            let out = assert_cmd::Command::cargo_bin("fwtopo")
                .unwrap()
                .env(
                    "FWTOPO_CONFIG_DIR",
                    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/no-config"),
                )
                .arg("export")
                .arg(&file)
                .args(["--target", target.as_str(), "--node", "pa-web-iis"])
                .args(extra)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let printed = run(&[]);
        assert_eq!(printed, export::copy_text(target, &x), "{target}");
        if target == Target::Netsh {
            netsh_copy_is_alike("stdout", &printed);
        }
        run(&["--out", dir.path().to_str().unwrap()]);
        let written =
            std::fs::read_to_string(dir.path().join(export::file_name("pa-web-iis", target)))
                .unwrap();
        // Files meant for cmd.exe and PowerShell are written with CRLF line ends (--lf opts out).
        assert_eq!(
            written,
            export::text::to_crlf(&export::render(target, &x)),
            "{target}"
        );
    }
}

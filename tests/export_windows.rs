//! The Windows exports (netsh for cmd.exe, PowerShell NetSecurity), checked without Windows.
//!
//! Every emitted line of every example node (Windows nodes, and Linux nodes forced to these targets),
//! with open and strict egress, is parsed against a grammar written from the commands' documentation
//! (`netsh advfirewall firewall add rule /?`, the NetSecurity cmdlet reference): known command words
//! and parameter names only, valid values (ports, ranges, addresses), cmd.exe quoting and
//! metacharacters, PowerShell single-quoted strings, and the 8,191-character line limit. Anything
//! else fails the test. The parsed rules must then allow exactly what the engine derived, management
//! first and before the default block. Snapshots keep the full text reviewable. A model of one host's
//! rule table replays exports one after another, as Windows applies them: a re-run leaves exactly its
//! own rules, whatever an earlier export of the node added, and never touches another node's (`web`
//! and `web-2`) or another tool's.
//!
//! The grammars and checks are in tests/support/windows_grammar.rs, shared with the fuzz targets
//! (fuzz/).

#[path = "support/windows_grammar.rs"]
mod windows_grammar;
#[path = "support/windows_host.rs"]
mod windows_host;

use fwtopo::catalog::Catalog;
use fwtopo::engine;
use fwtopo::export::{Egress, Options};
use fwtopo::files::load_topology;
use fwtopo::target::Target;
use fwtopo::topology::{Node, Os, RoleAssignment, Topology, Zone};
use ipnet::IpNet;
use std::path::{Path, PathBuf};
use windows_grammar::{
    BACKUP, BACKUP_DIR, MAX_LINE, check_node, options, parse_netsh, parse_powershell, render,
    rule_names,
};
use windows_host::{Host, Mode, foreign};

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

/// Every `examples/*.ron`, sorted by file name.
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

// ------------------------------------------------------------------------------------------------
// Tests

#[test]
fn every_line_of_every_example_parses() {
    let base = catalog();
    let mut nodes = 0;
    for (_, t) in examples() {
        let catalog = fwtopo::topology::site_catalog(&base, &t);
        let plan = engine::derive(&catalog, &t);
        for n in &t.nodes {
            for egress in [Egress::Open, Egress::Strict] {
                check_node(&catalog, &t, &plan, &n.name, egress);
            }
            nodes += 1;
        }
    }
    assert!(nodes > 20, "only {nodes} nodes checked");
}

#[test]
fn snapshots_of_windows_nodes() {
    let base = catalog();
    for (stem, t) in examples() {
        let catalog = fwtopo::topology::site_catalog(&base, &t);
        let plan = engine::derive(&catalog, &t);
        let mut nodes: Vec<&Node> = t.nodes.iter().filter(|n| n.os.is_windows()).collect();
        // An example without Windows nodes: its first node, forced to the Windows targets.
        if nodes.is_empty() {
            nodes.push(&t.nodes[0]);
        }
        for (i, n) in nodes.iter().enumerate() {
            let (netsh, ps) = check_node(&catalog, &t, &plan, &n.name, Egress::Open);
            insta::assert_snapshot!(format!("netsh__{stem}__{}", n.name), netsh);
            insta::assert_snapshot!(format!("powershell__{stem}__{}", n.name), ps);
            if i == 0 {
                let (netsh, ps) = check_node(&catalog, &t, &plan, &n.name, Egress::Strict);
                insta::assert_snapshot!(format!("netsh__{stem}__{}__strict", n.name), netsh);
                insta::assert_snapshot!(format!("powershell__{stem}__{}__strict", n.name), ps);
            }
        }
    }
}

#[test]
fn crlf_ends_every_line() {
    let catalog = catalog();
    let t =
        load_topology(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plesk-automation.ron"))
            .unwrap();
    let plan = engine::derive(&catalog, &t);
    for target in [Target::Netsh, Target::Powershell] {
        let lf = render(
            target,
            &catalog,
            &t,
            &plan,
            "pa-web-iis",
            options(Egress::Open),
        );
        let crlf = render(
            target,
            &catalog,
            &t,
            &plan,
            "pa-web-iis",
            Options {
                egress: Egress::Open,
                crlf: true,
            },
        );
        assert!(crlf.ends_with("\r\n"));
        assert_eq!(
            crlf.matches('\n').count(),
            crlf.matches("\r\n").count(),
            "{target}: a bare LF"
        );
        assert_eq!(
            crlf.matches('\r').count(),
            crlf.matches("\r\n").count(),
            "{target}: a bare CR"
        );
        assert_eq!(
            crlf.replace("\r\n", "\n"),
            lf,
            "{target}: CRLF changed more than line ends"
        );
    }
}

/// A Windows node whose admin zone holds hundreds of scattered addresses of both families: far
/// past the point (about 590 peers) where a single netsh line passes 8,191 characters.
fn crowded() -> Topology {
    let mut cidrs: Vec<IpNet> = Vec::new();
    for base in ["192.0.2", "198.51.100", "203.0.113"] {
        for last in (0..=254).step_by(2) {
            cidrs.push(format!("{base}.{last}/32").parse().unwrap());
        }
    }
    for i in 0..1500u32 {
        cidrs.push(
            format!("2001:db8:ad:{:x}::{:x}/128", i / 200, (i % 200) * 2 + 1)
                .parse()
                .unwrap(),
        );
    }
    let mut node = Node::new("win-crowded", Os::WindowsServer2022);
    node.addresses = vec![
        "203.0.113.201".parse().unwrap(),
        "2001:db8:1::201".parse().unwrap(),
    ];
    node.roles = vec![RoleAssignment::new("mailstore-spe", "server")];
    Topology {
        name: "crowded".into(),
        zones: vec![Zone {
            name: "admin".into(),
            cidrs,
            note: String::new(),
        }],
        nodes: vec![node],
        ..Default::default()
    }
}

#[test]
fn long_address_lists_are_split_under_the_line_limit() {
    let catalog = catalog();
    let t = crowded();
    let plan = engine::derive(&catalog, &t);
    let np = plan.node("win-crowded").unwrap();
    let biggest = np.inbound.iter().map(|r| r.peers.len()).max().unwrap();
    assert!(
        biggest >= 1000,
        "the test needs a rule with many peers, got {biggest}"
    );
    for egress in [Egress::Open, Egress::Strict] {
        let (netsh, ps) = check_node(&catalog, &t, &plan, "win-crowded", egress);
        for (target, text) in [("netsh", &netsh), ("powershell", &ps)] {
            let longest = text.lines().map(str::len).max().unwrap();
            assert!(
                longest <= MAX_LINE,
                "{target}: a line of {longest} characters"
            );
            // The IPv6 management rule (1500 peers) really was split into several rules, each
            // saying which part it is; the 384 IPv4 peers (all the scattered documentation
            // addresses there are) fit in one.
            let mgmt: Vec<&str> = text
                .lines()
                .filter(|l| {
                    (l.contains("netsh advfirewall firewall add rule")
                        || l.starts_with("New-NetFirewallRule"))
                        && l.contains("fwtopo-win-crowded-mgmt")
                })
                .collect();
            let four = mgmt.iter().filter(|l| l.contains("192.0.2.0")).count();
            assert_eq!(four, 1, "{target}: IPv4 management rules");
            let six = mgmt.iter().filter(|l| l.contains("2001:db8:ad:")).count();
            assert_eq!(four + six, mgmt.len(), "{target}: management rules");
            for k in 1..=six {
                assert_eq!(
                    mgmt.iter()
                        .filter(|l| l.contains(&format!("(part {k} of {six})")))
                        .count(),
                    1,
                    "{target}: part {k} of {six}"
                );
            }
            eprintln!(
                "{target} {egress:?}: longest line {longest} characters, IPv6 management rule split in {six}"
            );
            assert!(
                six >= 3,
                "{target}: the IPv6 management rule should be split in at least 3, got {six}"
            );
        }
    }
}

#[test]
fn netsh_grammar_rejects_what_it_should() {
    let node = "n1";
    let guard = |c: &str| format!("if not defined fwtopoFailed {c}");
    let check = |c: &str| format!("if not defined fwtopoFailed {c} || set \"fwtopoFailed=1\"");
    let rename = |k: &str| {
        guard(&format!(
            "netsh advfirewall firewall set rule name=\"fwtopo-n1-{k}\" new name=\"fwtopo-n1-{k}-old\""
        ))
    };
    let delete = |k: &str| {
        guard(&format!(
            "netsh advfirewall firewall delete rule name=\"fwtopo-n1-{k}-old\""
        ))
    };
    let reset = "set \"fwtopoFailed=\"".to_string();
    let elevation = "net session >nul 2>&1 || set \"fwtopoFailed=1\"".to_string();
    let folder = check(&format!(
        "if not exist \"{BACKUP_DIR}\\\" mkdir \"{BACKUP_DIR}\""
    ));
    let owner = check(&format!(
        "icacls \"{BACKUP_DIR}\" /setowner *S-1-5-32-544 /T /C /Q"
    ));
    let private = check(&format!(
        "icacls \"{BACKUP_DIR}\" /inheritance:r /grant:r \"*S-1-5-32-544:(OI)(CI)F\" \"*S-1-5-18:(OI)(CI)F\" /T /C /Q"
    ));
    let backup = check(&format!(
        "if not exist {BACKUP} netsh advfirewall export {BACKUP}"
    ));
    let policy =
        check("netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound");
    let ok_add = check(
        r#"netsh advfirewall firewall add rule name="fwtopo-n1-in" dir=in action=allow protocol=TCP localport=80 remoteip=192.0.2.1 profile=any enable=yes edge=no description="x""#,
    );
    let ok_out = check(
        r#"netsh advfirewall firewall add rule name="fwtopo-n1-out" dir=out action=allow protocol=TCP remoteport=80 remoteip=192.0.2.1 profile=any enable=yes description="x""#,
    );
    let built_in = check(
        r#"powershell -NoProfile -Command "Get-NetFirewallRule | Where-Object -Property Name -In -Value 'RemoteDesktop-UserMode-In-TCP' | Disable-NetFirewallRule""#,
    );
    let (rm, ri, ro) = (rename("mgmt"), rename("in"), rename("out"));
    let (dm, di, dout) = (delete("mgmt"), delete("in"), delete("out"));
    let script = |lines: &[&String]| {
        let lines: Vec<&str> = lines.iter().map(|l| l.as_str()).collect();
        format!("@echo off\n{}\n", lines.join("\n"))
    };
    let ok = [
        &reset, &elevation, &folder, &owner, &private, &backup, &rm, &ri, &ro, &ok_add, &ok_out,
        &built_in, &dm, &di, &dout, &policy,
    ];
    parse_netsh(&script(&ok), node).unwrap();
    let unguarded = |l: &String| {
        l.trim_start_matches("if not defined fwtopoFailed ")
            .trim_end_matches(" || set \"fwtopoFailed=1\"")
            .to_string()
    };
    let bad_add = [
        ok_add.replace("name=\"fwtopo-n1-in\"", "name=\u{201D}fwtopo-n1-in\u{201D}"),
        ok_add.replace("remoteip=192.0.2.1", "remoteip=192.0.2.1,2001:db8::1"),
        ok_add.replace("remoteip=192.0.2.1", "remoteip=127.0.0.1"),
        ok_add.replace("localport=80", "localport=0"),
        ok_add.replace("localport=80", "localport=90-80"),
        ok_add.replace("localport=80", "localport=80 remoteport=1"),
        ok_add.replace("description=\"x\"", "description=\"x\" & calc"),
        ok_add.replace("description=\"x\"", "description=\"%PATH%\""),
        ok_add.replace("description=\"x\"", "description=\"x"),
        ok_add.replace("protocol=TCP", "protocol=TCP service=ftpsvc"),
        ok_add.replace("fwtopo-n1-in", "all"),
        // Names: only the node's three, each on its own direction.
        ok_add.replace("fwtopo-n1-in", "fwtopo-n1-in01-tcp-v4"),
        ok_add.replace("fwtopo-n1-in", "fwtopo-n1-2-in"),
        ok_add.replace("fwtopo-n1-in", "fwtopo-n1"),
        ok_add.replace("fwtopo-n1-in", "fwtopo-n1-*"),
        ok_add.replace("fwtopo-n1-in", "fwtopo-n1-out"),
        ok_add.replace("fwtopo-n1-in", "fwtopo-n1-in-old"),
        format!("{ok_add} {}", "x".repeat(MAX_LINE)),
        // An add that a failure does not stop, or that runs after a failure.
        unguarded(&ok_add),
        ok_add.replace(" || set \"fwtopoFailed=1\"", ""),
    ];
    let bad_out = [
        ok_out.replace("fwtopo-n1-out", "fwtopo-n1-mgmt"),
        ok_out.replace("fwtopo-n1-out", "fwtopo-n1-in"),
        ok_out.replace("remoteport=80", "localport=80"),
    ];
    let bad_other = [
        // Renames, deletes and built-in rules: exactly the node's names, only known rules.
        (
            &ri,
            ri.replace(
                "new name=\"fwtopo-n1-in-old\"",
                "new name=\"fwtopo-n1-in-2\"",
            ),
        ),
        (&ri, ri.replace("fwtopo-n1-in", "fwtopo-n1-2-in")),
        (&ri, ri.replace("fwtopo-n1-in", "fwtopo-n1-*")),
        (&di, di.replace("fwtopo-n1-in-old", "fwtopo-n1-in")),
        (&di, di.replace("fwtopo-n1-in-old", "fwtopo-n1-2-in-old")),
        (
            &di,
            di.replace(
                "name=\"fwtopo-n1-in-old\"",
                "name=\"fwtopo-n1-in-old\" dir=in",
            ),
        ),
        (&di, di.replace("name=\"fwtopo-n1-in-old\"", "name=all")),
        (&di, unguarded(&di)),
        (
            &built_in,
            built_in.replace("RemoteDesktop-UserMode-In-TCP", "FPS-SMB-In-TCP"),
        ),
        (
            &built_in,
            built_in.replace("Disable-NetFirewallRule", "Remove-NetFirewallRule"),
        ),
        (&built_in, unguarded(&built_in)),
        (&policy, unguarded(&policy)),
        (
            &backup,
            backup.replace(BACKUP, r#""%TEMP%\fwtopo-backup.wfw""#),
        ),
        // Mechanisms that behave differently in a .cmd file and pasted, or run planted files.
        (
            &di,
            guard(
                r#"for %%k in (mgmt in out) do netsh advfirewall firewall delete rule name="fwtopo-n1-%%k-old""#,
            ),
        ),
        (
            &di,
            guard(r#"if exist "%ProgramData%\fwtopo\n1.cmd" call "%ProgramData%\fwtopo\n1.cmd""#),
        ),
        (&di, guard("goto :done")),
    ];
    let bad = bad_add
        .iter()
        .map(|b| (&ok_add, b))
        .chain(bad_out.iter().map(|b| (&ok_out, b)))
        .chain(bad_other.iter().map(|(g, b)| (*g, b)));
    for (good, b) in bad {
        let lines = ok.map(|l| if l == good { b } else { l });
        assert!(parse_netsh(&script(&lines), node).is_err(), "accepted: {b}");
    }
    let bad_order: [&[&String]; 9] = [
        // An add before the renames (it would be renamed and deleted with the old rules); a
        // delete of the old rules before this run's adds (a connection could drop in between);
        // a kind never deleted before the policy (an earlier export's rules would stay); a delete
        // after the policy; a change before the backup; the backup before the folder is taken
        // over; no elevation check; no failure mark reset.
        &[
            &reset, &elevation, &folder, &owner, &private, &backup, &rm, &ok_add, &ri, &ro, &dm,
            &di, &dout, &policy,
        ],
        &[
            &reset, &elevation, &folder, &owner, &private, &backup, &rm, &ri, &ro, &di, &ok_add,
            &dm, &dout, &policy,
        ],
        &[
            &reset, &elevation, &folder, &owner, &private, &backup, &rm, &ri, &ro, &ok_add, &dm,
            &di, &policy,
        ],
        &[
            &reset, &elevation, &folder, &owner, &private, &backup, &rm, &ri, &ro, &ok_add, &dm,
            &di, &policy, &dout,
        ],
        &[
            &reset, &elevation, &folder, &owner, &private, &rm, &backup, &ri, &ro, &ok_add, &dm,
            &di, &dout, &policy,
        ],
        &[
            &reset, &elevation, &folder, &backup, &owner, &private, &rm, &ri, &ro, &ok_add, &dm,
            &di, &dout, &policy,
        ],
        &[
            &reset, &folder, &owner, &private, &backup, &rm, &ri, &ro, &ok_add, &dm, &di, &dout,
            &policy,
        ],
        &[
            &elevation, &folder, &owner, &private, &backup, &rm, &ri, &ro, &ok_add, &dm, &di,
            &dout, &policy,
        ],
        &[
            &reset, &elevation, &folder, &owner, &private, &backup, &rm, &ri, &ro, &ok_add, &dm,
            &di, &dout, &policy, &ok_out,
        ],
    ];
    for lines in bad_order {
        assert!(
            parse_netsh(&script(lines), node).is_err(),
            "accepted: {lines:#?}"
        );
    }
    assert!(parse_netsh("@echo off\nREM a & b\n", node).is_err());
}

#[test]
fn powershell_grammar_rejects_what_it_should() {
    let node = "n1";
    let stop = "# & echo fwtopo: STOP. This is PowerShell, press Ctrl+C. & copy con nul";
    let head = [
        stop,
        "#Requires -RunAsAdministrator",
        "& {",
        "$ErrorActionPreference = 'Stop'",
        "net session | Out-Null",
        "if ($LASTEXITCODE -ne 0) { throw 'not elevated' }",
        "Register-ScheduledTask -TaskName 'fwtopo-rollback' -Force",
        "$fwtopoOld = @(Get-NetFirewallRule -Group 'fwtopo-n1' -ErrorAction SilentlyContinue)",
        "$fwtopoOld += @(Get-NetFirewallRule -DisplayName 'fwtopo-n1-mgmt','fwtopo-n1-in','fwtopo-n1-out','fwtopo-n1-mgmt-old','fwtopo-n1-in-old','fwtopo-n1-out-old' -ErrorAction SilentlyContinue | Where-Object -Property Group -NE -Value 'fwtopo-n1')",
    ];
    let remove = "if ($fwtopoOld) { $fwtopoOld | Remove-NetFirewallRule }";
    let tail = [remove, "}"];
    let ps = |lines: &[&str]| format!("{}\n", lines.join("\n"));
    let ok_new = "New-NetFirewallRule -DisplayName 'fwtopo-n1-in' -Group 'fwtopo-n1' -Description 'x' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 80,'8000-8010' -RemoteAddress '192.0.2.1' -Profile Any -Enabled True | Out-Null";
    let with = |middle: &[&str]| ps(&[&head[..], middle, &tail[..]].concat());
    parse_powershell(&with(&[ok_new]), node).unwrap();
    // The first line must stop cmd.exe, and only with its echo.
    for bad in [
        "#Requires -RunAsAdministrator",
        "# & echo fwtopo: STOP. x & del C:\\x & copy con nul",
        "# & echo fwtopo: STOP. x > nul & copy con nul",
        "# & echo fwtopo: STOP. x",
    ] {
        let script = with(&[ok_new]).replacen(stop, bad, 1);
        assert!(parse_powershell(&script, node).is_err(), "accepted {bad}");
    }
    let bad_ps = [
        "Remove-NetFirewallRule".to_string(),
        "$fwtopoOld | Remove-NetFirewallRule".to_string(),
        "Remove-NetFirewallRule -ErrorAction SilentlyContinue".to_string(),
        "Remove-NetFirewallRule -Group 'fwtopo-n1' -ErrorAction SilentlyContinue".to_string(),
        "Remove-NetFirewallRule -DisplayName 'fwtopo-n1-*' -ErrorAction SilentlyContinue"
            .to_string(),
        "Get-NetFirewallRule -Group 'fwtopo-n1-2' | Remove-NetFirewallRule".to_string(),
        "Disable-NetFirewallRule -Name 'FPS-SMB-In-TCP'".to_string(),
        "Get-NetFirewallRule | Where-Object -Property Name -In -Value 'FPS-SMB-In-TCP' | Disable-NetFirewallRule".to_string(),
        "Get-NetFirewallRule | Disable-NetFirewallRule".to_string(),
        ok_new.replace("'fwtopo-n1-in'", "'fwtopo-n1-in01-tcp-v4'"),
        ok_new.replace("'fwtopo-n1-in'", "'fwtopo-n1-out'"),
        ok_new.replace("'fwtopo-n1-in'", "'fwtopo-n1-2-in'"),
        ok_new.replace(
            "-Description 'x'",
            "-Description 'x' ; Remove-Item C:\\ -Recurse",
        ),
        ok_new.replace("-Description 'x'", "-Description \"$(calc)\""),
        ok_new.replace("-Description 'x'", "-Description 'it\u{2019}s'"),
        ok_new.replace("-Description 'x'", "-Description 'x' `"),
        ok_new.replace("'192.0.2.1'", "192.0.2.1"),
        ok_new.replace("'192.0.2.1'", "'192.0.2.1','2001:db8::1'"),
        ok_new.replace("-Protocol TCP", "-Protocol TCP -Program 'c:\\x.exe'"),
        ok_new.replace("80,", "70000,"),
        "Invoke-Expression 'calc'".to_string(),
        "icacls $fwtopoDir /grant 'Everyone:F' | Out-Null".to_string(),
        "$fwtopoX = New-ScheduledTaskAction -Execute 'cmd.exe' -Argument '/c calc'".to_string(),
        String::new(),
    ];
    for b in &bad_ps {
        assert!(
            parse_powershell(&with(&[ok_new, b.as_str()]), node).is_err(),
            "accepted: {b}"
        );
    }
    // A rule created before the earlier rules were noted, or after they were removed; no
    // elevation check; commands outside the block; no block at all.
    let bad_scripts = [
        ps(&[&head[..7], &[ok_new], &head[7..], &tail[..]].concat()),
        ps(&[&head[..], &[remove, ok_new], &tail[1..]].concat()),
        ps(&[&head[..3], &head[5..], &[ok_new], &tail[..]].concat()),
        ps(&[&head[..], &[ok_new], &tail[..], &["Write-Host 'x'"]].concat()),
        ps(&[&head[..1], &head[2..], &[ok_new, remove]].concat()),
    ];
    for b in &bad_scripts {
        assert!(parse_powershell(b, node).is_err(), "accepted: {b}");
    }
}

// ------------------------------------------------------------------------------------------------
// Exports replayed one after another on the host model of tests/support/windows_host.rs

/// Runs an export on the host, as a file.
fn apply(host: &mut Host, script: &str, node: &str) {
    if script.starts_with("@echo off") {
        host.run_cmd(script, node, None);
    } else {
        host.run_ps(script, node, Mode::File, None);
    }
}

/// The rules a script adds, as the commands the host ran for them.
fn added_by(script: &str) -> Vec<String> {
    script
        .lines()
        .filter_map(windows_host::rule_command)
        .collect()
}

/// The rules on the host that a node's exports made: one of its names, and its group or none.
fn rules_of(host: &Host, node: &str) -> Vec<String> {
    let names = rule_names(node);
    let group = format!("fwtopo-{node}");
    host.rules
        .iter()
        .filter(|r| {
            names
                .iter()
                .any(|n| r.name == *n || r.name == format!("{n}-old"))
                && r.group.as_ref().is_none_or(|g| *g == group)
        })
        .map(|r| r.made_by.clone())
        .collect()
}

/// Windows nodes with the MailStore server role and management from a small admin zone.
fn windows_site(names: &[&str]) -> Topology {
    let nodes = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut node = Node::new(*name, Os::WindowsServer2022);
            node.addresses = vec![
                format!("203.0.113.{}", 10 + i).parse().unwrap(),
                format!("2001:db8:1::{}", 10 + i).parse().unwrap(),
            ];
            node.roles = vec![RoleAssignment::new("mailstore-spe", "server")];
            node
        })
        .collect();
    Topology {
        name: "windows site".into(),
        zones: vec![Zone {
            name: "admin".into(),
            cidrs: vec!["198.51.100.0/24".parse().unwrap()],
            note: String::new(),
        }],
        nodes,
        ..Default::default()
    }
}

fn export_of(target: Target, t: &Topology, node: &str, egress: Egress) -> String {
    let catalog = catalog();
    let plan = engine::derive(&catalog, t);
    let (netsh, ps) = check_node(&catalog, t, &plan, node, egress);
    match target {
        Target::Netsh => netsh,
        _ => ps,
    }
}

#[test]
fn a_rerun_removes_whatever_an_earlier_export_of_the_node_added_and_nothing_else() {
    // Earlier: a crowded admin zone (management split in several rules), a role, strict egress.
    // Later: a small admin zone, the role removed, open egress: far fewer rules.
    let earlier = crowded();
    let mut later = crowded();
    later.zones[0].cidrs = vec!["198.51.100.0/24".parse().unwrap()];
    later.nodes[0].roles.clear();
    // Another node on the same host whose name extends this one's, and rules of other tools.
    let mut neighbour = crowded();
    neighbour.nodes[0].name = "win-crowded-2".into();
    let others = vec![
        foreign(
            "Remote Desktop - User Mode (TCP-In)",
            Some("@FirewallAPI.dll,-28752"),
        ),
        foreign("fwtopo-win-crowded", None),
        foreign("fwtopo-win-crowded-in", Some("someone-elses-group")),
    ];
    let node = "win-crowded";
    for (first, then) in [
        (Target::Netsh, Target::Netsh),
        (Target::Powershell, Target::Netsh),
        (Target::Netsh, Target::Powershell),
        (Target::Powershell, Target::Powershell),
    ] {
        let mut host = Host::new(others.clone());
        for target in [Target::Netsh, Target::Powershell] {
            apply(
                &mut host,
                &export_of(target, &neighbour, "win-crowded-2", Egress::Strict),
                "win-crowded-2",
            );
        }
        let neighbours = rules_of(&host, "win-crowded-2");
        let before = export_of(first, &earlier, node, Egress::Strict);
        apply(&mut host, &before, node);
        assert_eq!(rules_of(&host, node), added_by(&before), "{first}");
        let after = export_of(then, &later, node, Egress::Open);
        let kinds = |script: &str, kind: &str| {
            added_by(script)
                .iter()
                .filter(|l| l.contains(&format!("{node}-{kind}")))
                .count()
        };
        assert!(kinds(&before, "mgmt") > kinds(&after, "mgmt") + 1);
        assert!(kinds(&before, "in") > kinds(&after, "in"));
        assert!(kinds(&before, "out") > 0 && kinds(&after, "out") == 0);
        apply(&mut host, &after, node);
        assert_eq!(
            rules_of(&host, node),
            added_by(&after),
            "{first} then {then}: rules of the earlier export stayed"
        );
        assert_eq!(
            rules_of(&host, "win-crowded-2"),
            neighbours,
            "{first} then {then}: another node's rules were touched"
        );
        // Other tools' rules stay, except one in our namespace a netsh delete cannot tell apart.
        for r in &others {
            let ours_by_name = r.name == "fwtopo-win-crowded-in";
            assert_eq!(
                host.rules.contains(r),
                !ours_by_name,
                "{first} then {then}: {}",
                r.name
            );
        }
    }
}

#[test]
fn node_web_never_removes_the_rules_of_node_web_2() {
    let t = windows_site(&["web", "web-2"]);
    for egress in [Egress::Open, Egress::Strict] {
        for neighbour_by in [Target::Netsh, Target::Powershell] {
            let mut host = Host::default();
            apply(
                &mut host,
                &export_of(neighbour_by, &t, "web-2", egress),
                "web-2",
            );
            let theirs = rules_of(&host, "web-2");
            assert!(!theirs.is_empty());
            for target in [Target::Powershell, Target::Netsh, Target::Powershell] {
                let script = export_of(target, &t, "web", egress);
                apply(&mut host, &script, "web");
                assert_eq!(rules_of(&host, "web"), added_by(&script), "{target}");
                assert_eq!(
                    rules_of(&host, "web-2"),
                    theirs,
                    "{target} of web removed rules of web-2 ({neighbour_by}, {egress:?})"
                );
            }
        }
    }
}

//! The Windows exports run on the host model of tests/support/windows_host.rs (issue 12, items 8
//! to 13): what stays open besides fwtopo's rules, where the backup lives and how often it is
//! taken, what a rollback undoes, in which order a re-run changes rules, what a failed command or
//! a console that is not elevated leaves behind, and what a pasted PowerShell script does when it
//! stops. Every script is first held to the grammars of tests/support/windows_grammar.rs.

#[path = "support/windows_grammar.rs"]
mod windows_grammar;
#[path = "support/windows_host.rs"]
mod windows_host;

use fwtopo::catalog::Catalog;
use fwtopo::engine::{self, Direction};
use fwtopo::export::Egress;
use fwtopo::files::load_topology;
use fwtopo::ports::Protocol;
use fwtopo::target::Target;
use fwtopo::topology::{Node, Os, RoleAssignment, Topology, Zone};
use std::collections::BTreeSet;
use std::path::Path;
use windows_grammar::{check_node, rule_names};
use windows_host::{Host, HostRule, Mode, built_in, foreign};

const BOTH: [Target; 2] = [Target::Netsh, Target::Powershell];

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

/// One Windows node with the MailStore server role and management from a small admin zone.
fn mailstore() -> Topology {
    let mut node = Node::new("ms", Os::WindowsServer2022);
    node.addresses = vec![
        "203.0.113.10".parse().unwrap(),
        "2001:db8:1::10".parse().unwrap(),
    ];
    node.roles = vec![RoleAssignment::new("mailstore-spe", "server")];
    Topology {
        name: "windows site".into(),
        zones: vec![Zone {
            name: "admin".into(),
            cidrs: vec!["198.51.100.0/24".parse().unwrap()],
            note: String::new(),
        }],
        nodes: vec![node],
        ..Default::default()
    }
}

/// The PA example, whose IIS node gets the WinRM Basic-over-HTTP preparation.
fn plesk() -> Topology {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plesk-automation.ron");
    load_topology(&path).unwrap()
}

/// A node's export, held to the grammar first.
fn export(target: Target, t: &Topology, node: &str) -> String {
    let catalog = catalog();
    let plan = engine::derive(&catalog, t);
    let (netsh, ps) = check_node(&catalog, t, &plan, node, Egress::Open);
    match target {
        Target::Netsh => netsh,
        _ => ps,
    }
}

/// Runs an export on the host as a file.
fn run(host: &mut Host, target: Target, script: &str, node: &str) {
    match target {
        Target::Netsh => host.run_cmd(script, node, None),
        _ => host.run_ps(script, node, Mode::File, None),
    }
}

/// Rolls back as each export says: the PowerShell task comes due; for the .cmd, the operator
/// types the commands it printed.
fn roll_back(host: &mut Host, target: Target) {
    match target {
        Target::Netsh => {
            let lines = host.printed_commands("to roll back");
            assert!(!lines.is_empty(), "the .cmd printed no rollback commands");
            host.type_cmd(&lines);
        }
        _ => host.fire_task(),
    }
}

/// The built-in remote access rules of an English Windows Server, all enabled (Remote Desktop
/// and WinRM over HTTP turned on), another tool's rule, and a disabled built-in rule.
fn english_host() -> Host {
    Host::new(vec![
        built_in(
            "RemoteDesktop-UserMode-In-TCP",
            "Remote Desktop - User Mode (TCP-In)",
            Protocol::Tcp,
            3389,
            true,
        ),
        built_in(
            "RemoteDesktop-UserMode-In-UDP",
            "Remote Desktop - User Mode (UDP-In)",
            Protocol::Udp,
            3389,
            true,
        ),
        built_in(
            "WINRM-HTTP-In-TCP",
            "Windows Remote Management (HTTP-In)",
            Protocol::Tcp,
            5985,
            true,
        ),
        built_in(
            "WINRM-HTTP-In-TCP-PUBLIC",
            "Windows Remote Management (HTTP-In)",
            Protocol::Tcp,
            5985,
            true,
        ),
        built_in(
            "FPS-SMB-In-TCP",
            "File and Printer Sharing (SMB-In)",
            Protocol::Tcp,
            445,
            false,
        ),
        backup_agent(),
    ])
}

/// Another tool's enabled inbound allow rule, which fwtopo must list and leave alone.
fn backup_agent() -> HostRule {
    let mut r = foreign("Backup agent (TCP-In)", None);
    r.id = "BackupAgent-In-TCP".into();
    r.allows = vec![(Direction::Inbound, Protocol::Tcp, (9000, 9000), None)];
    r
}

/// The same rules on a German Windows Server: the display names are translated, the stable
/// names are not.
fn german_host() -> Host {
    let mut host = english_host();
    for r in &mut host.rules {
        r.name = match r.id.as_str() {
            "RemoteDesktop-UserMode-In-TCP" => "Remotedesktop - Benutzermodus (TCP eingehend)",
            "RemoteDesktop-UserMode-In-UDP" => "Remotedesktop - Benutzermodus (UDP eingehend)",
            "WINRM-HTTP-In-TCP" | "WINRM-HTTP-In-TCP-PUBLIC" => {
                "Windows-Remoteverwaltung (HTTP eingehend)"
            }
            _ => continue,
        }
        .into();
    }
    host
}

const REMOTE_ACCESS: [&str; 4] = [
    "RemoteDesktop-UserMode-In-TCP",
    "RemoteDesktop-UserMode-In-UDP",
    "WINRM-HTTP-In-TCP",
    "WINRM-HTTP-In-TCP-PUBLIC",
];

fn enabled(host: &Host, id: &str) -> bool {
    host.rule(id)
        .unwrap_or_else(|| panic!("{id} is gone"))
        .enabled
}

/// What the rules of the node's names allow.
fn allowed_by_node(host: &Host, node: &str) -> BTreeSet<windows_grammar::Allow> {
    let names = rule_names(node);
    host.rules
        .iter()
        .filter(|r| r.enabled && names.contains(&r.name))
        .flat_map(|r| r.allows.iter().copied())
        .collect()
}

fn any_peer(host: &Host, protocol: Protocol, port: u16) -> bool {
    host.allowed().iter().any(|&(d, p, (a, b), peer)| {
        d == Direction::Inbound && p == protocol && a <= port && port <= b && peer.is_none()
    })
}

// ------------------------------------------------------------------------------------------------
// Item 8: rules already enabled on the server

#[test]
fn enabled_inbound_allow_rules_that_are_not_fwtopos_are_listed() {
    let t = mailstore();
    for target in BOTH {
        let mut host = english_host();
        run(&mut host, target, &export(target, &t, "ms"), "ms");
        assert!(
            host.output.iter().any(|l| l.contains("BackupAgent-In-TCP")),
            "{target}: another tool's enabled allow rule is not listed: {:#?}",
            host.output
        );
        assert!(
            !host.output.iter().any(|l| l.contains("fwtopo-ms-")),
            "{target}: fwtopo's own rules are listed as not fwtopo's"
        );
        assert!(enabled(&host, "BackupAgent-In-TCP"), "{target}");
    }
}

#[test]
fn built_in_rules_opening_a_port_the_design_restricts_are_disabled_and_come_back_on_rollback() {
    let t = mailstore();
    for target in BOTH {
        let mut host = english_host();
        let before = host.rules.clone();
        run(&mut host, target, &export(target, &t, "ms"), "ms");
        for id in REMOTE_ACCESS {
            assert!(!enabled(&host, id), "{target}: {id} still enabled");
        }
        assert!(
            !any_peer(&host, Protocol::Tcp, 3389) && !any_peer(&host, Protocol::Tcp, 5985),
            "{target}: RDP or WinRM over HTTP still open to any address"
        );
        // The design's way in is there: RDP from the admin zone.
        let admin: ipnet::IpNet = "198.51.100.0/24".parse().unwrap();
        assert!(
            host.allowed().contains(&(
                Direction::Inbound,
                Protocol::Tcp,
                (3389, 3389),
                Some(admin)
            )),
            "{target}: no RDP from the admin zone"
        );
        // Another tool's rule and a rule that was off are left as they were.
        assert!(enabled(&host, "BackupAgent-In-TCP") && !enabled(&host, "FPS-SMB-In-TCP"));
        roll_back(&mut host, target);
        assert_eq!(
            host.rules, before,
            "{target}: the rollback did not restore the rules"
        );
    }
}

#[test]
fn built_in_rules_are_found_by_their_stable_names_on_a_non_english_server() {
    // The PA IIS node, where the .cmd used to disable WinRM's HTTP rule by its English name.
    let t = plesk();
    for target in BOTH {
        let mut host = german_host();
        run(
            &mut host,
            target,
            &export(target, &t, "pa-web-iis"),
            "pa-web-iis",
        );
        for id in REMOTE_ACCESS {
            assert!(!enabled(&host, id), "{target}: {id} still enabled");
        }
        assert!(
            !any_peer(&host, Protocol::Tcp, 5985),
            "{target}: 5985 open to any"
        );
    }
}

#[test]
fn a_node_without_management_keeps_the_built_in_remote_access() {
    // With no admin zone the design has no way in: disabling the built-in Remote Desktop rules
    // would lock the operator out, so they stay (and the script says so).
    let mut t = mailstore();
    t.zones.clear();
    for target in BOTH {
        let mut host = english_host();
        run(&mut host, target, &export(target, &t, "ms"), "ms");
        assert!(enabled(&host, "RemoteDesktop-UserMode-In-TCP"), "{target}");
        assert!(enabled(&host, "WINRM-HTTP-In-TCP"), "{target}");
    }
}

// ------------------------------------------------------------------------------------------------
// Item 9: the backup

#[test]
fn the_backup_is_taken_once_under_programdata_and_survives_a_logoff() {
    let t = mailstore();
    for target in BOTH {
        let mut host = english_host();
        let before = host.rules.clone();
        let script = export(target, &t, "ms");
        run(&mut host, target, &script, "ms");
        // The operator logs off to test a fresh logon, then runs the script again from the new
        // session: the backup must still be the policy from before fwtopo.
        host.log_off_and_on(3);
        run(&mut host, target, &script, "ms");
        let backup = host
            .files
            .get(r"c:\programdata\fwtopo\fwtopo-backup.wfw")
            .unwrap_or_else(|| {
                panic!(
                    "{target}: no backup under ProgramData: {:?}",
                    host.files.keys()
                )
            });
        assert_eq!(
            backup.rules, before,
            "{target}: the backup is not the policy from before fwtopo"
        );
        assert_eq!(
            host.unsafe_writes,
            Vec::<String>::new(),
            "{target}: the backup was written before the folder was taken over"
        );
        roll_back(&mut host, target);
        assert_eq!(host.rules, before, "{target}: rollback");
    }
}

#[test]
fn a_backup_an_earlier_export_left_in_temp_is_kept() {
    // An earlier version kept its backup in TEMP; this session still has it. A run now must
    // keep that one (the policy from before fwtopo), not back up the earlier export's policy.
    let t = mailstore();
    for target in BOTH {
        let mut host = english_host();
        let before = host.rules.clone();
        let temp = r"c:\users\admin\appdata\local\temp\2\fwtopo-backup.wfw";
        host.files.insert(
            temp.into(),
            windows_host::Policy {
                rules: before.clone(),
                inbound_block: true,
                outbound_block: false,
                on: true,
            },
        );
        host.rules.push(foreign("fwtopo-ms-in", None));
        run(&mut host, target, &export(target, &t, "ms"), "ms");
        let backup = &host.files[r"c:\programdata\fwtopo\fwtopo-backup.wfw"];
        assert_eq!(backup.rules, before, "{target}");
    }
}

// ------------------------------------------------------------------------------------------------
// Item 10: WinRM Basic over HTTP

#[test]
fn rollback_undoes_the_winrm_basic_over_http_preparation() {
    let t = plesk();
    for target in BOTH {
        let mut host = english_host();
        let before = host.rules.clone();
        run(
            &mut host,
            target,
            &export(target, &t, "pa-web-iis"),
            "pa-web-iis",
        );
        assert!(
            host.winrm.basic && host.winrm.allow_unencrypted,
            "{target}: the preparation did not run"
        );
        roll_back(&mut host, target);
        assert!(
            !host.winrm.basic && !host.winrm.allow_unencrypted,
            "{target}: rolled back, but WinRM still takes Basic credentials over plain HTTP"
        );
        assert_eq!(host.rules, before, "{target}: rollback");
    }
}

// ------------------------------------------------------------------------------------------------
// Item 12: order, errors, elevation

#[test]
fn a_rerun_never_drops_an_allowed_connection_midway() {
    let t = mailstore();
    for first in BOTH {
        for then in BOTH {
            let mut host = english_host();
            run(&mut host, first, &export(first, &t, "ms"), "ms");
            let kept = allowed_by_node(&host, "ms");
            assert!(!kept.is_empty());
            let script = export(then, &t, "ms");
            let mut dropped: Vec<String> = Vec::new();
            let observe: windows_host::Observer = Box::new(|h: &Host, line: &str| {
                if !h.allowed().is_superset(&kept) {
                    dropped.push(line.to_string());
                }
            });
            match then {
                Target::Netsh => host.run_cmd(&script, "ms", Some(observe)),
                _ => host.run_ps(&script, "ms", Mode::File, Some(observe)),
            }
            assert_eq!(
                dropped,
                Vec::<String>::new(),
                "{first} then {then}: connections the design allows were dropped after these lines"
            );
            assert_eq!(allowed_by_node(&host, "ms"), kept, "{first} then {then}");
        }
    }
}

/// A host whose policy lets everything in, so a change of the default policy shows.
fn open_host() -> Host {
    let mut host = english_host();
    host.inbound_block = false;
    host
}

#[test]
fn a_failed_rule_stops_the_script_before_the_policy_and_keeps_the_old_rules() {
    let t = mailstore();
    for first in BOTH {
        for target in BOTH {
            let mut host = open_host();
            run(&mut host, first, &export(first, &t, "ms"), "ms");
            host.inbound_block = false;
            let kept = allowed_by_node(&host, "ms");
            // The third rule the script adds fails (a typo, a policy refusing it, ...).
            let mut adds = 0;
            host.fail = Some(Box::new(move |c: &str| {
                if c.starts_with("netsh advfirewall firewall add rule")
                    || c.starts_with("New-NetFirewallRule")
                {
                    adds += 1;
                    return adds == 3;
                }
                false
            }));
            host.output.clear();
            run(&mut host, target, &export(target, &t, "ms"), "ms");
            assert!(
                !host.inbound_block,
                "{first} then {target}: the default policy changed after a failed add"
            );
            assert!(
                !host.output.iter().any(|l| l.contains("done")),
                "{first} then {target}: says done after a failed add: {:#?}",
                host.output
            );
            assert!(
                host.allowed().is_superset(&kept),
                "{first} then {target}: the earlier rules are gone after a failed add"
            );
        }
    }
}

#[test]
fn a_console_that_is_not_elevated_changes_nothing_and_says_so() {
    let t = mailstore();
    for target in BOTH {
        for mode in [Mode::File, Mode::Pasted] {
            let mut host = open_host();
            host.elevated = false;
            let before = host.rules.clone();
            let script = export(target, &t, "ms");
            match target {
                Target::Netsh => host.run_cmd(&script, "ms", None),
                _ => host.run_ps(&script, "ms", mode, None),
            }
            assert_eq!(host.rules, before, "{target} {mode:?}");
            assert!(!host.inbound_block, "{target} {mode:?}");
            assert!(
                !host.output.iter().any(|l| l.contains("done")),
                "{target} {mode:?}: says done without elevation: {:#?}",
                host.output
            );
            assert!(
                host.output.iter().any(|l| l.contains("elevat")),
                "{target} {mode:?}: does not say it needs elevation: {:#?}",
                host.output
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Item 13: a pasted .ps1

#[test]
fn a_pasted_ps1_stops_at_its_first_error() {
    let t = mailstore();
    let script = export(Target::Powershell, &t, "ms");
    let mut host = open_host();
    let before = host.rules.clone();
    // The backup cannot be written (a full disk): the script throws, and nothing may change.
    host.fail = Some(Box::new(|c: &str| {
        c.starts_with("netsh advfirewall export")
    }));
    host.run_ps(&script, "ms", Mode::Pasted, None);
    assert_eq!(host.rules, before, "rules changed after the throw");
    assert!(
        !host.inbound_block,
        "the default policy changed after the throw"
    );
    assert!(
        host.task.is_none(),
        "a rollback task was scheduled after the throw"
    );
    assert!(
        !host.output.iter().any(|l| l.contains("done")),
        "{:#?}",
        host.output
    );
}

// ------------------------------------------------------------------------------------------------
// Issue 14: the netsh copy, pasted into whichever console (tests/export_windows_consoles.rs proves
// cmd.exe and PowerShell hand netsh the same arguments for every line of it)

/// The copy of a node, as `y` copies it and `export --node N` prints it.
fn netsh_copy(t: &Topology, node: &str) -> String {
    let catalog = catalog();
    let plan = engine::derive(&catalog, t);
    let np = plan.node(node).unwrap();
    fwtopo::export::copy_text(
        Target::Netsh,
        &fwtopo::export::Export::new(&catalog, t, &plan, np, Default::default()),
    )
}

/// Pasted after a full run of the .cmd, the copy adds exactly the rules the full run added, never
/// drops a connection midway, keeps the earlier rules under -old, and changes neither the default
/// policy nor the built-in rules; even with an `add rule` failing, nothing allowed before is lost.
#[test]
fn the_netsh_copy_adds_the_plan_and_takes_nothing_away() {
    let t = mailstore();
    for failing in [false, true] {
        let mut host = english_host();
        run(
            &mut host,
            Target::Netsh,
            &export(Target::Netsh, &t, "ms"),
            "ms",
        );
        let full = allowed_by_node(&host, "ms");
        let before = host.allowed();
        let builtins: Vec<bool> = REMOTE_ACCESS.iter().map(|id| enabled(&host, id)).collect();
        if failing {
            host.fail = Some(Box::new(|c: &str| {
                c.contains("add rule") && c.contains("-in\"")
            }));
        }
        let mut dropped: Vec<String> = Vec::new();
        let observe: windows_host::Observer = Box::new(|h: &Host, line: &str| {
            if !h.allowed().is_superset(&before) {
                dropped.push(line.to_string());
            }
        });
        host.run_cmd(&netsh_copy(&t, "ms"), "ms", Some(observe));
        assert_eq!(
            dropped,
            Vec::<String>::new(),
            "failing {failing}: dropped after"
        );
        assert_eq!(
            host.allowed(),
            before,
            "failing {failing}: the copy changed what is allowed"
        );
        let builtins_after: Vec<bool> = REMOTE_ACCESS.iter().map(|id| enabled(&host, id)).collect();
        assert_eq!(
            builtins_after, builtins,
            "the copy touched the built-in rules"
        );
        if !failing {
            assert_eq!(
                allowed_by_node(&host, "ms"),
                full,
                "the copy adds what the full run did"
            );
            let old: Vec<&str> = host
                .rules
                .iter()
                .filter(|r| r.name.ends_with("-old"))
                .map(|r| r.name.as_str())
                .collect();
            assert!(!old.is_empty(), "the earlier rules are kept under -old");
            assert!(
                host.output
                    .iter()
                    .any(|l| l.contains("delete rule name=NAME")),
                "the copy says how to delete the -old rules: {:?}",
                host.output
            );
        }
    }
}

/// The PowerShell copy pasted into cmd.exe: its first line says why nothing runs and `copy con nul`
/// swallows every line after it, so nothing changes (before, cmd.exe failed through it line by
/// line). Pasted into PowerShell, the same line is a comment and the script runs.
#[test]
fn the_powershell_copy_pasted_into_cmd_exe_changes_nothing() {
    let t = mailstore();
    let ps = export(Target::Powershell, &t, "ms");
    let mut host = english_host();
    let rules = host.rules.clone();
    host.run_cmd(&ps, "ms", None);
    assert_eq!(host.rules, rules, "cmd.exe changed rules");
    assert!(host.task.is_none() && host.files.is_empty());
    assert!(
        host.output
            .iter()
            .any(|l| l.starts_with("fwtopo: STOP.") && l.contains("PowerShell")),
        "{:?}",
        host.output
    );
    let mut host = english_host();
    host.run_ps(&ps, "ms", Mode::Pasted, None);
    assert!(
        !allowed_by_node(&host, "ms").is_empty(),
        "PowerShell ran it"
    );
}

//! Action sequences through `update`: the state and effects they leave, with no terminal.

use super::{example_app, run, typed};
use crate::tui::action::Action as A;
use crate::tui::app::{ConfirmKind, Modal, Pane, Purpose, RoleRow, Screen, StatusKind};
use crate::tui::clipboard::CopyOutcome;
use crate::tui::effect::{Effect, Replace};
use fwtopo::files::OnDisk;
use fwtopo::ports::Protocol;
use fwtopo::target::Target;
use fwtopo::topology::{Os, to_ron};
use std::path::PathBuf;

fn input_error(app: &crate::tui::app::App) -> Option<String> {
    match &app.modal {
        Some(Modal::Input(s)) => s.error.clone(),
        _ => None,
    }
}

fn purpose(app: &crate::tui::app::App) -> Option<Purpose> {
    match &app.modal {
        Some(Modal::Input(s)) => Some(s.purpose.clone()),
        _ => None,
    }
}

/// The udp 53,443-from-any rule cPanel's DNS and HTTP/3 give a server.
fn has_cpanel_udp_rule(app: &crate::tui::app::App, node: usize) -> bool {
    app.plan.nodes[node]
        .inbound
        .iter()
        .any(|r| r.protocol == Protocol::Udp && r.ports.to_string() == "53,443" && r.peers.is_any())
}

#[test]
fn add_node_set_address_assign_role_undo_redo_save() {
    let mut app = example_app();
    assert!(!app.dirty());
    let nodes_before = app.topology.nodes.len();

    // Add a node: its name, then straight on to its addresses.
    assert!(run(&mut app, [A::Add]).is_empty());
    assert_eq!(purpose(&app), Some(Purpose::AddNode));
    run(&mut app, typed("web2"));
    run(&mut app, [A::Activate]);
    assert_eq!(app.topology.nodes.len(), nodes_before + 1);
    assert_eq!(
        app.topology.nodes[1].name, "web2",
        "inserted after the selected node"
    );
    assert_eq!(app.nodes.sel, 1);
    assert_eq!(purpose(&app), Some(Purpose::Addresses(1)));
    assert!(app.dirty());
    run(&mut app, typed("203.0.113.150"));
    run(&mut app, [A::Activate]);
    assert!(app.modal.is_none());
    assert_eq!(
        app.topology.nodes[1].addresses,
        vec!["203.0.113.150".parse::<std::net::IpAddr>().unwrap()]
    );
    assert!(!has_cpanel_udp_rule(&app, 1));

    // Assign a role through the searchable picker: rules appear at once.
    run(&mut app, [A::FocusNext, A::Add]);
    assert!(matches!(app.modal, Some(Modal::Picker(_))));
    run(&mut app, typed("cpanel"));
    let Some(Modal::Picker(p)) = &app.modal else {
        panic!("picker closed")
    };
    assert_eq!(p.matches.len(), 1);
    run(&mut app, [A::Activate]);
    assert!(app.modal.is_none());
    assert_eq!(app.topology.nodes[1].roles.len(), 1);
    assert_eq!(app.topology.nodes[1].roles[0].product, "cpanel-whm");
    assert!(
        has_cpanel_udp_rule(&app, 1),
        "the role's rules are derived immediately"
    );
    assert_eq!(app.focus, Pane::Roles);
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.starts_with("assigned cpanel-whm/server to web2"))
    );

    // Undo the role, then redo it.
    run(&mut app, [A::Undo]);
    assert!(app.topology.nodes[1].roles.is_empty());
    assert!(!has_cpanel_udp_rule(&app, 1));
    run(&mut app, [A::Redo]);
    assert!(has_cpanel_udp_rule(&app, 1));

    // Save writes the topology text to the file it came from; the result clears the marker.
    let fx = run(&mut app, [A::Save]);
    assert_eq!(
        fx,
        vec![Effect::Save {
            path: PathBuf::from("site.ron"),
            text: to_ron(&app.topology),
            replace: Replace::AsKnown(None)
        }]
    );
    run(
        &mut app,
        [A::Saved {
            path: PathBuf::from("site.ron"),
            result: Ok(OnDisk::of(b"saved")),
        }],
    );
    assert!(!app.dirty());
    // The saved text loads back to the same topology.
    let Effect::Save { text, .. } = &fx[0] else {
        unreachable!()
    };
    assert_eq!(fwtopo::topology::from_ron(text).unwrap(), app.topology);
}

#[test]
fn bad_input_is_shown_where_typed_and_never_accepted() {
    let mut app = example_app();
    let before = app.topology.clone();
    run(&mut app, [A::Add]);
    run(&mut app, typed("web 2"));
    run(&mut app, [A::Activate]);
    assert!(
        input_error(&app).is_some_and(|e| e.contains("'web 2' may only use letters")),
        "{:?}",
        input_error(&app)
    );
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("vz1"));
    run(&mut app, [A::Activate]);
    assert_eq!(
        input_error(&app).as_deref(),
        Some("there is already a node named 'vz1' (names may not differ only in case)")
    );
    // Export file names and Windows rule names ignore case: `VZ1` is `vz1` too.
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("VZ1"));
    run(&mut app, [A::Activate]);
    assert!(
        input_error(&app).is_some_and(|e| e.starts_with("there is already a node named 'VZ1'")),
        "{:?}",
        input_error(&app)
    );
    assert_eq!(app.topology, before, "nothing changed");

    // Addresses: one that does not parse, one listed twice, one another node has.
    run(&mut app, [A::Close, A::Edit]);
    assert_eq!(purpose(&app), Some(Purpose::Addresses(0)));
    for (text, want) in [
        (
            "203.0.113.300",
            "'203.0.113.300' is not an IPv4 or IPv6 address",
        ),
        ("203.0.113.9 203.0.113.9", "'203.0.113.9' is listed twice"),
        (
            "192.0.2.201",
            "192.0.2.201 is already an address of node 'vz1'",
        ),
        // The file loader's own rule: no loopback, unspecified or multicast address.
        (
            "0.0.0.0",
            "'0.0.0.0' cannot be a node's address (loopback, unspecified or multicast)",
        ),
        (
            "127.0.0.1",
            "'127.0.0.1' cannot be a node's address (loopback, unspecified or multicast)",
        ),
        (
            "::1",
            "'::1' cannot be a node's address (loopback, unspecified or multicast)",
        ),
        (
            "203.0.113.9, 224.0.0.1",
            "'224.0.0.1' cannot be a node's address (loopback, unspecified or multicast)",
        ),
        (
            "::ffff:127.0.0.1",
            "'::ffff:127.0.0.1' cannot be a node's address (loopback, unspecified or multicast)",
        ),
    ] {
        run(&mut app, [A::ClearLine]);
        run(&mut app, typed(text));
        run(&mut app, [A::Activate]);
        assert_eq!(input_error(&app).as_deref(), Some(want));
        // Typing clears the message; the text stays for fixing.
        run(&mut app, [A::Char(' '), A::Backspace]);
        assert_eq!(input_error(&app), None);
    }
    assert_eq!(app.topology, before);
    assert!(!app.dirty());

    // A zone network with host bits set.
    run(&mut app, [A::Close, A::Show(Screen::Zones), A::Edit]);
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("10.0.0.1/8"));
    run(&mut app, [A::Activate]);
    assert!(input_error(&app).is_some_and(|e| e.contains("host bits set")));
    assert_eq!(app.topology, before);

    // An external host's pinned addresses follow the loader's rule too.
    run(&mut app, [A::Close, A::Right, A::Edit]);
    assert!(matches!(purpose(&app), Some(Purpose::HostAddresses(_))));
    for (text, want) in [
        (
            "127.0.0.1",
            "'127.0.0.1' cannot be a host's address (loopback, unspecified or multicast)",
        ),
        (
            "::1",
            "'::1' cannot be a host's address (loopback, unspecified or multicast)",
        ),
        (
            "224.0.0.1",
            "'224.0.0.1' cannot be a host's address (loopback, unspecified or multicast)",
        ),
    ] {
        run(&mut app, [A::ClearLine]);
        run(&mut app, typed(text));
        run(&mut app, [A::Activate]);
        assert_eq!(input_error(&app).as_deref(), Some(want));
    }
    assert_eq!(app.topology, before);
}

/// Whatever the designer accepts, the file it saves opens again: every prompt gets hostile input,
/// and after each the save text (the same `to_ron`) loads back with `from_ron` to the same topology.
#[test]
fn nothing_the_designer_accepts_makes_a_saved_file_fail_to_load() {
    let inputs = [
        "127.0.0.1",
        "::1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:0.0.0.0",
        "255.255.255.255",
        "169.254.1.1",
        "fe80::1",
        "127.0.0.0/8",
        "224.0.0.0/4",
        "0.0.0.0/0",
        "::/0",
        "::1/128",
        "10.0.0.0/8 10.0.0.0/8",
        "203.0.113.77",
        "2001:db8:77::1",
        "198.51.100.0/24, 2001:db8:5::/48",
        "x\u{202e}y",
        // Zone names of the example's zones in other case: one of them is another zone's.
        "ADMIN",
        "TRUSTED",
        "a;b",
        "-x",
        "on",
        "70000",
        "1-65535",
        "",
    ];
    let check = |app: &mut crate::tui::app::App, what: &str| {
        let fx = run(app, [A::Close, A::Save]);
        let [Effect::Save { text, .. }] = &fx[..] else {
            panic!("after {what}: no save: {fx:?} {:?}", app.status)
        };
        match fwtopo::topology::from_ron(text) {
            Ok(t) => assert_eq!(t, app.topology, "after {what}"),
            Err(e) => panic!("after {what} the saved file does not load: {e}"),
        }
    };
    let mut app = example_app();
    for text in inputs {
        // Nodes: addresses, name, note.
        run(&mut app, [A::Show(Screen::Design), A::Top]);
        for open in [A::Edit, A::Rename, A::EditNote] {
            run(&mut app, [open, A::ClearLine]);
            run(&mut app, typed(text));
            run(&mut app, [A::Activate]);
            check(&mut app, &format!("node prompt {text:?}"));
        }
        // A parameter of web1's role.
        run(&mut app, [A::FocusNext, A::Down, A::Edit, A::ClearLine]);
        run(&mut app, typed(text));
        run(&mut app, [A::Activate]);
        check(&mut app, &format!("parameter {text:?}"));
        // Zones and external hosts: name, networks or addresses.
        run(&mut app, [A::Show(Screen::Zones)]);
        for pane in [A::Left, A::Right] {
            for open in [A::Rename, A::Edit] {
                run(&mut app, [pane.clone(), open, A::ClearLine]);
                run(&mut app, typed(text));
                run(&mut app, [A::Activate]);
                check(&mut app, &format!("zones screen {text:?}"));
            }
        }
    }
    assert!(app.dirty(), "some of the input was accepted");
}

/// The last line of defence: a topology the loader would refuse (here put there behind the
/// designer's back) is not written, and the status says why.
#[test]
fn save_refuses_to_write_a_file_that_would_not_open() {
    let mut app = example_app();
    app.topology.nodes[0]
        .addresses
        .push("127.0.0.1".parse().unwrap());
    run(&mut app, [A::ToggleManagement, A::Quit]);
    let fx = run(&mut app, [A::SaveFirst]);
    assert!(fx.is_empty(), "{fx:?}");
    let s = app.status.clone().unwrap();
    assert_eq!(s.kind, StatusKind::Error);
    assert!(
        s.text
            .starts_with("not saved: the file would not open again:")
            && s.text.contains("127.0.0.1"),
        "{}",
        s.text
    );
    assert!(!app.quit_after_save, "a refused save does not quit later");
}

#[test]
fn parameters_are_checked_against_their_kind() {
    let mut app = example_app();
    // web1 runs cpanel-whm/server; its first parameter row is `ftp` (a switch, set to off).
    run(&mut app, [A::FocusNext, A::Down]);
    assert_eq!(
        app.role_rows()[app.roles.sel],
        RoleRow::Param(0, "ftp".into())
    );
    run(&mut app, [A::Edit]);
    assert!(matches!(purpose(&app), Some(Purpose::Param { .. })));
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("maybe"));
    run(&mut app, [A::Activate]);
    assert!(input_error(&app).is_some_and(|e| e.contains("not on or off")));
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("on"));
    run(&mut app, [A::Activate]);
    assert!(app.modal.is_none());
    assert_eq!(
        app.topology.nodes[0].roles[0]
            .params
            .get("ftp")
            .map(String::as_str),
        Some("on")
    );
    // Empty goes back to the catalog default.
    run(&mut app, [A::Edit, A::ClearLine, A::Activate]);
    assert_eq!(app.topology.nodes[0].roles[0].params.get("ftp"), None);
    // Undoing both edits returns to the saved state: no unsaved marker.
    run(&mut app, [A::Undo, A::Undo]);
    assert!(!app.dirty());
}

#[test]
fn quitting_with_unsaved_work_asks_first() {
    let mut app = example_app();
    assert_eq!(
        run(&mut app, [A::Quit]),
        vec![Effect::Quit],
        "nothing to lose"
    );
    run(&mut app, [A::ToggleManagement]);
    assert!(app.dirty());
    assert!(run(&mut app, [A::Quit]).is_empty());
    assert_eq!(app.modal, Some(Modal::Confirm(ConfirmKind::Quit)));
    assert!(run(&mut app, [A::No]).is_empty());
    assert!(app.modal.is_none());
    // Save and quit: the save first, the quit once it succeeded.
    run(&mut app, [A::Quit]);
    let fx = run(&mut app, [A::SaveFirst]);
    assert!(matches!(fx.as_slice(), [Effect::Save { .. }]));
    let fx = run(
        &mut app,
        [A::Saved {
            path: PathBuf::from("site.ron"),
            result: Ok(OnDisk::of(b"saved")),
        }],
    );
    assert_eq!(fx, vec![Effect::Quit]);
}

#[test]
fn cancelling_the_file_name_of_save_and_quit_cancels_the_quit() {
    let mut app = example_app();
    app.path = None;
    run(&mut app, [A::ToggleManagement, A::Quit, A::SaveFirst]);
    assert_eq!(purpose(&app), Some(Purpose::SaveAs));
    run(&mut app, [A::Close]);
    assert!(app.modal.is_none());
    // A later, ordinary Save As saves and stays.
    run(&mut app, [A::SaveAs, A::ClearLine]);
    run(&mut app, typed("later.ron"));
    let fx = run(&mut app, [A::Activate]);
    assert!(matches!(fx.as_slice(), [Effect::Save { .. }]), "{fx:?}");
    let fx = run(
        &mut app,
        [A::Saved {
            path: PathBuf::from("later.ron"),
            result: Ok(OnDisk::of(b"saved")),
        }],
    );
    assert!(
        fx.is_empty(),
        "the designer quit after a plain save: {fx:?}"
    );
    assert!(!app.quit);
}

/// A role whose required parameter is left unset is saved (work is never lost), and the status
/// says the command line will refuse the file until the problem is fixed.
#[test]
fn saving_with_catalog_problems_says_what_they_mean() {
    let mut app = example_app();
    app.topology.nodes[0].roles[0]
        .params
        .insert("ftp".into(), "maybe".into());
    app.rederive();
    assert!(!app.problems.is_empty());
    assert!(matches!(
        run(&mut app, [A::Save]).as_slice(),
        [Effect::Save { .. }]
    ));
    run(
        &mut app,
        [A::Saved {
            path: PathBuf::from("site.ron"),
            result: Ok(OnDisk::of(b"saved")),
        }],
    );
    let s = app.status.clone().unwrap();
    assert_eq!(s.kind, StatusKind::Warning);
    assert!(
        s.text
            .starts_with("saved site.ron with 1 catalog problem(s)"),
        "{}",
        s.text
    );
}

#[test]
fn a_failed_save_says_why_and_does_not_quit() {
    let mut app = example_app();
    run(&mut app, [A::ToggleManagement, A::Quit, A::SaveFirst]);
    let fx = run(
        &mut app,
        [A::Saved {
            path: PathBuf::from("site.ron"),
            result: Err("permission denied".into()),
        }],
    );
    assert!(fx.is_empty());
    assert!(app.dirty());
    let s = app.status.clone().unwrap();
    assert_eq!(
        (s.kind, s.text.as_str()),
        (StatusKind::Error, "not saved: permission denied")
    );
}

#[test]
fn save_as_refuses_to_replace_another_file_without_asking() {
    let mut app = example_app();
    app.path = None;
    run(&mut app, [A::Save]);
    assert_eq!(purpose(&app), Some(Purpose::SaveAs));
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("other.ron"));
    let fx = run(&mut app, [A::Activate]);
    let text = to_ron(&app.topology);
    assert_eq!(
        fx,
        vec![Effect::Save {
            path: PathBuf::from("other.ron"),
            text: text.clone(),
            replace: Replace::Nothing
        }]
    );
    run(&mut app, [A::WouldOverwrite(PathBuf::from("other.ron"))]);
    assert_eq!(
        app.modal,
        Some(Modal::Confirm(ConfirmKind::Overwrite(PathBuf::from(
            "other.ron"
        ))))
    );
    let fx = run(&mut app, [A::Yes]);
    assert_eq!(
        fx,
        vec![Effect::Save {
            path: PathBuf::from("other.ron"),
            text,
            replace: Replace::Anything
        }]
    );
    run(
        &mut app,
        [A::Saved {
            path: PathBuf::from("other.ron"),
            result: Ok(OnDisk::of(b"saved")),
        }],
    );
    assert_eq!(app.path, Some(PathBuf::from("other.ron")));
}

#[test]
fn opening_a_bad_file_keeps_the_prompt_with_the_error() {
    let mut app = example_app();
    run(&mut app, [A::Open, A::ClearLine]);
    run(&mut app, typed("x.ron"));
    let fx = run(&mut app, [A::Activate]);
    assert_eq!(
        fx,
        vec![Effect::Load {
            path: PathBuf::from("x.ron")
        }]
    );
    run(
        &mut app,
        [A::Loaded {
            path: PathBuf::from("x.ron"),
            result: Err("x.ron:3:4: expected ','".into()),
        }],
    );
    assert_eq!(purpose(&app), Some(Purpose::Open));
    assert_eq!(
        input_error(&app).as_deref(),
        Some("x.ron:3:4: expected ','")
    );
    // A good file replaces the document and its history.
    let mut t = app.topology.clone();
    t.nodes.truncate(1);
    run(
        &mut app,
        [A::Loaded {
            path: PathBuf::from("y.ron"),
            result: Ok((t, OnDisk::of(b"opened"))),
        }],
    );
    assert_eq!(app.topology.nodes.len(), 1);
    assert!(app.undo.is_empty() && !app.dirty());
    // With unsaved work, opening asks first.
    run(&mut app, [A::Close, A::ToggleManagement, A::Open]);
    assert_eq!(app.modal, Some(Modal::Confirm(ConfirmKind::OpenDiscard)));
}

#[test]
fn a_finding_jumps_to_its_node() {
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Findings)]);
    assert_eq!(app.focus, Pane::Findings);
    let target = app
        .findings
        .iter()
        .position(|f| f.node == Some(5))
        .expect("the example has a finding on mail");
    for _ in 0..target {
        run(&mut app, [A::Down]);
    }
    run(&mut app, [A::Activate]);
    assert_eq!(
        (app.screen, app.focus, app.nodes.sel),
        (Screen::Design, Pane::Rules, 5)
    );
}

#[test]
fn copying_a_windows_node_and_the_fallback_to_a_file() {
    let mut app = example_app();
    // archive-mgmt, a Windows node.
    run(&mut app, [A::Down, A::Down, A::Down]);
    assert!(app.topology.nodes[3].os.is_windows());
    let netsh = app.export_text(3, Target::Netsh);
    let fx = run(&mut app, [A::Copy]);
    if netsh.trim().is_empty() {
        assert!(fx.is_empty());
        assert!(
            app.status
                .as_ref()
                .is_some_and(|s| s.text.contains("nothing to copy"))
        );
        return;
    }
    assert_eq!(
        fx,
        vec![Effect::Copy {
            text: netsh.clone(),
            what: "the netsh commands of archive-mgmt (for cmd.exe or PowerShell)".into()
        }]
    );
    let fx = run(&mut app, [A::CopyPowershell]);
    assert!(
        matches!(&fx[..], [Effect::Copy { what, .. }] if what == "the powershell commands of archive-mgmt (for PowerShell, not cmd.exe)"),
        "{fx:?}"
    );

    // Over SSH the terminal got it: the status says "sent", not "copied".
    run(
        &mut app,
        [A::Copied {
            what: "the netsh commands of archive-mgmt".into(),
            outcome: CopyOutcome::SentOsc52 {
                reason: "over SSH".into(),
                via: None,
            },
            extras: Default::default(),
        }],
    );
    let s = app.status.clone().unwrap().text;
    assert!(
        s.starts_with("sent the netsh commands of archive-mgmt to the terminal (OSC 52"),
        "{s}"
    );

    // A failure offers to write the text to a file.
    run(&mut app, [A::Copy]);
    run(
        &mut app,
        [A::Copied {
            what: "x".into(),
            outcome: CopyOutcome::Failed("no display; OSC 52: broken pipe".into()),
            extras: Default::default(),
        }],
    );
    assert!(
        matches!(&app.modal, Some(Modal::Confirm(ConfirmKind::WriteInstead { suggested, .. })) if suggested == "archive-mgmt.netsh.cmd")
    );
    run(&mut app, [A::Yes]);
    assert_eq!(purpose(&app), Some(Purpose::WriteFile(netsh.clone())));
    let fx = run(&mut app, [A::Activate]);
    assert_eq!(
        fx,
        vec![Effect::WriteFile {
            path: PathBuf::from("archive-mgmt.netsh.cmd"),
            text: netsh
        }]
    );
}

#[test]
fn powershell_is_refused_for_a_linux_node() {
    let mut app = example_app();
    assert!(run(&mut app, [A::CopyPowershell]).is_empty());
    let s = app.status.clone().unwrap();
    assert_eq!(s.kind, StatusKind::Warning);
    assert!(
        s.text.contains("PowerShell commands are for Windows nodes"),
        "{}",
        s.text
    );
}

#[test]
fn export_preview_follows_node_and_target() {
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Export)]);
    assert_eq!(
        app.preview.target,
        Some(Target::Nftables),
        "web1 (CloudLinux) defaults to nftables"
    );
    assert_eq!(app.preview.text, app.export_text(0, Target::Nftables));
    run(&mut app, [A::NextTarget]);
    assert_eq!(
        app.preview.target,
        Some(Target::Nftables),
        "first explicit target"
    );
    run(&mut app, [A::NextTarget]);
    assert_eq!(app.preview.target, Some(Target::Iptables));
    run(&mut app, [A::Down]);
    assert_eq!(app.preview.node, 1);
    assert_eq!(app.preview.text, app.export_text(1, Target::Iptables));
    run(&mut app, [A::PrevTarget, A::PrevTarget]);
    assert_eq!(app.target, None);
}

/// The export screen's target is its own: the design screen and `y` elsewhere use the node's target.
#[test]
fn the_export_screens_target_stays_on_the_export_screen() {
    let mut app = example_app();
    run(
        &mut app,
        [A::Show(Screen::Export), A::NextTarget, A::NextTarget],
    );
    assert_eq!(app.target, Some(Target::Iptables));
    // On the export screen y copies exactly the text previewed.
    let fx = run(&mut app, [A::Copy]);
    assert_eq!(
        fx,
        vec![Effect::Copy {
            text: app.preview.text.clone(),
            what: "the iptables commands of web1".into()
        }]
    );
    assert_eq!(app.preview.text, app.export_text(0, Target::Iptables));

    // Elsewhere, web1 (CloudLinux, no firewall chosen) is nftables, whatever the export screen shows.
    run(&mut app, [A::Show(Screen::Design)]);
    assert_eq!(app.node_target(0), Target::Nftables);
    let fx = run(&mut app, [A::Copy]);
    assert_eq!(
        fx,
        vec![Effect::Copy {
            text: app.export_text(0, Target::Nftables),
            what: "the nftables commands of web1".into()
        }]
    );
    // A Windows node's own target is netsh, as the key's help says.
    run(&mut app, [A::Down, A::Down, A::Down]);
    let fx = run(&mut app, [A::Copy]);
    assert!(
        matches!(&fx[..], [Effect::Copy { what, .. }] if what == "the netsh commands of archive-mgmt (for cmd.exe or PowerShell)"),
        "{fx:?}"
    );
    // A firewall chosen for the node is its own target.
    app.topology.nodes[0].firewall = Some(Target::Ufw);
    app.rederive();
    run(&mut app, [A::Top]);
    let fx = run(&mut app, [A::Copy]);
    assert!(
        matches!(&fx[..], [Effect::Copy { what, .. }] if what == "the ufw commands of web1"),
        "{fx:?}"
    );
}

#[test]
fn the_export_preview_scrolls_sideways() {
    let mut app = example_app();
    run(&mut app, [A::Resize(80, 24), A::Show(Screen::Export)]);
    let view = {
        let a = crate::tui::layout::areas(app.screen, crate::tui::layout::frame(&app));
        let r = a.pane(Pane::Preview).unwrap();
        crate::tui::layout::rows_area(&app, Pane::Preview, r).width as usize
    };
    assert!(
        app.preview.width > view,
        "web1's preview is wider than 80 columns"
    );
    run(&mut app, [A::ScrollRight, A::ScrollRight]);
    assert_eq!(app.preview_hscroll, 2 * crate::tui::update::HSCROLL);
    run(&mut app, [A::ScrollLeft]);
    assert_eq!(app.preview_hscroll, crate::tui::update::HSCROLL);
    // Never past the end of the widest line.
    for _ in 0..1000 {
        run(&mut app, [A::ScrollRight]);
    }
    assert_eq!(app.preview_hscroll, app.preview.width - view);
    // Another target or node starts at the left again.
    run(&mut app, [A::NextTarget]);
    assert_eq!(app.preview_hscroll, 0);
}

#[test]
fn keys_do_nothing_while_the_terminal_is_too_small() {
    let mut app = example_app();
    run(&mut app, [A::Resize(40, 10)]);
    let before = app.topology.clone();
    for a in [
        A::Copy,
        A::Delete,
        A::Down,
        A::Add,
        A::ToggleManagement,
        A::Save,
        A::Show(Screen::Findings),
        A::Click { col: 5, row: 4 },
    ] {
        assert!(run(&mut app, [a.clone()]).is_empty(), "{a:?} acted");
        assert!(app.modal.is_none(), "{a:?} opened {:?}", app.modal);
    }
    assert_eq!(app.topology, before);
    assert_eq!((app.screen, app.nodes.sel), (Screen::Design, 0));
    // Help opened before the terminal shrank can be closed; quitting works.
    run(&mut app, [A::Resize(80, 24), A::Help, A::Resize(40, 10)]);
    run(&mut app, [A::Down, A::Close]);
    assert!(app.modal.is_none());
    // Effects' results still arrive.
    run(
        &mut app,
        [A::Saved {
            path: PathBuf::from("site.ron"),
            result: Ok(OnDisk::of(b"saved")),
        }],
    );
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text == "saved site.ron")
    );
    assert_eq!(run(&mut app, [A::Quit]), vec![Effect::Quit]);
    // Large enough again, keys act.
    run(&mut app, [A::Resize(80, 24), A::Down]);
    assert_eq!(app.nodes.sel, 1);
}

#[test]
fn a_in_the_rules_pane_assigns_a_role() {
    let mut app = example_app();
    run(&mut app, [A::FocusNext, A::FocusNext]);
    assert_eq!(app.focus, Pane::Rules);
    run(&mut app, [A::Add]);
    assert!(matches!(app.modal, Some(Modal::Picker(_))));
}

#[test]
fn os_choice_duplicate_and_delete() {
    let mut app = example_app();
    run(&mut app, [A::ChooseOs, A::Bottom, A::Activate]);
    assert_eq!(app.topology.nodes[0].os, Os::WindowsServer2025);
    run(&mut app, [A::Duplicate]);
    assert_eq!(app.topology.nodes[1].name, "web1-2");
    assert!(
        app.topology.nodes[1].addresses.is_empty(),
        "a copy never shares addresses"
    );
    assert_eq!(app.nodes.sel, 1);
    run(&mut app, [A::Delete]);
    assert_eq!(app.modal, Some(Modal::Confirm(ConfirmKind::DeleteNode(1))));
    run(&mut app, [A::Yes]);
    assert_eq!(app.topology.nodes.len(), 6);
    run(&mut app, [A::Undo, A::Undo, A::Undo]);
    assert_eq!(app.topology, example_app().topology);
    assert!(!app.dirty());
}

#[test]
fn zones_and_external_hosts() {
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Zones), A::Add]);
    run(&mut app, typed("backup"));
    run(&mut app, [A::Activate]);
    assert_eq!(purpose(&app), Some(Purpose::ZoneCidrs(2)));
    run(&mut app, typed("192.0.2.128/25, 2001:db8:b::/48"));
    run(&mut app, [A::Activate]);
    assert_eq!(app.topology.zones[2].cidrs.len(), 2);
    run(&mut app, [A::Right, A::Add]);
    run(&mut app, typed("not a name"));
    run(&mut app, [A::Activate]);
    assert!(input_error(&app).is_some_and(|e| e.contains("is not a DNS name")));
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("STORE.cpanel.net"));
    run(&mut app, [A::Activate]);
    assert_eq!(
        input_error(&app).as_deref(),
        Some("'STORE.cpanel.net' is already listed")
    );
}

#[test]
fn mouse_selects_rows_and_tabs() {
    let mut app = example_app();
    // Row 1 is the node list's top border; nodes start at row 2.
    run(&mut app, [A::Click { col: 5, row: 4 }]);
    assert_eq!((app.focus, app.nodes.sel), (Pane::Nodes, 2));
    // The tab bar: " 1 Design " is 10 wide, so column 12 is " 2 Findings ".
    run(&mut app, [A::Click { col: 12, row: 0 }]);
    assert_eq!(app.screen, Screen::Findings);
    run(&mut app, [A::ScrollDown { col: 10, row: 10 }]);
    assert_eq!(app.finding_cursor.sel, 3);
}

#[test]
fn scrolling_keeps_the_selection_visible_at_1000_nodes() {
    let mut app = example_app();
    let base = app.topology.nodes[1].clone();
    let mut t = app.topology.clone();
    for i in 0..1000 {
        let mut n = base.clone();
        n.name = format!("n{i}");
        n.addresses.clear();
        t.nodes.push(n);
    }
    run(
        &mut app,
        [A::Loaded {
            path: PathBuf::from("big.ron"),
            result: Ok((t, OnDisk::of(b"opened"))),
        }],
    );
    run(&mut app, [A::Bottom]);
    assert_eq!(app.nodes.sel, 1005);
    let h = crate::tui::layout::page(&app, Pane::Nodes);
    assert_eq!(app.nodes.offset, 1006 - h);
    run(&mut app, [A::PageUp]);
    assert_eq!(app.nodes.sel, 1005 - h);
}

#[test]
fn recovery_is_offered_loaded_or_discarded() {
    let mut app = example_app();
    app.modal = Some(Modal::Confirm(ConfirmKind::Recovery {
        original: Some(PathBuf::from("site.ron")),
    }));
    assert_eq!(run(&mut app, [A::Yes]), vec![Effect::LoadRecovery]);
    let mut t = app.topology.clone();
    t.nodes.truncate(2);
    run(
        &mut app,
        [A::Recovered {
            original: Some(PathBuf::from("site.ron")),
            result: Ok(t),
            disk: None,
            baseline: None,
        }],
    );
    assert_eq!(app.topology.nodes.len(), 2);
    assert!(app.dirty(), "recovered work is not saved yet");
    assert_eq!(app.path, Some(PathBuf::from("site.ron")));
    app.modal = Some(Modal::Confirm(ConfirmKind::Recovery { original: None }));
    assert_eq!(run(&mut app, [A::No]), vec![Effect::DiscardRecovery]);
    app.modal = Some(Modal::Confirm(ConfirmKind::Recovery { original: None }));
    assert!(
        run(&mut app, [A::Close]).is_empty(),
        "decide later keeps the file"
    );
}

#[test]
fn recovery_file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let app = example_app();
    let path = dir.path().join("data/recovery-1.ron");
    crate::tui::write_recovery(
        &path,
        Some(std::path::Path::new("/srv/site.ron")),
        &app.topology,
    )
    .unwrap();
    let (original, t) = crate::tui::read_recovery(&path).unwrap();
    assert_eq!(original, Some(PathBuf::from("/srv/site.ron")));
    assert_eq!(t.unwrap(), app.topology);
    crate::tui::write_recovery(&path, None, &app.topology).unwrap();
    assert_eq!(crate::tui::read_recovery(&path).unwrap().0, None);
}

#[test]
fn theme_switch_cycles() {
    let mut app = example_app();
    run(&mut app, [A::CycleTheme]);
    assert_eq!(app.theme().name, "light");
    run(&mut app, [A::CycleTheme, A::CycleTheme]);
    assert_eq!(app.theme().name, "dark");
}

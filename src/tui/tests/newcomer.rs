//! The designer as a newcomer meets it (issue 15): copies that always land, the message log,
//! rows in full, the traps in the keys, what the file can say; flow tests shown live (issue 16).

use super::{example_app, run, typed};
use crate::tui::action::Action as A;
use crate::tui::app::{Modal, Pane};
use crate::tui::clipboard::CopyOutcome;
use fwtopo::ports::Protocol;
use fwtopo::target::Target;
use std::path::PathBuf;

/// Issue 15.1: inside tmux with its defaults, OSC 52 went nowhere while the status said "sent".
/// The status now says where the text surely is (tmux's paste buffer, and whether tmux passed it
/// on), and names the copy kept on disk.
#[test]
fn a_copy_inside_tmux_says_where_the_text_really_is() {
    use crate::tui::clipboard::CopyExtras;
    use crate::tui::tmux_buffer::Forwarded;
    let mut app = example_app();
    let sent = || CopyOutcome::SentOsc52 {
        reason: "no system clipboard: Unknown error while interacting with the clipboard".into(),
        via: Some(crate::tui::clipboard::Multiplexer::Tmux),
    };
    let kept = PathBuf::from("/home/op/.local/share/fwtopo/copies/iis1.netsh.cmd");
    run(
        &mut app,
        [A::Copied {
            what: "the netsh commands of iis1".into(),
            outcome: sent(),
            extras: CopyExtras {
                tmux: Some(Ok(Forwarded::Off)),
                kept: Some(Ok(kept.clone())),
            },
        }],
    );
    let s = app.status.clone().unwrap().text;
    assert!(
        s.starts_with("put the netsh commands of iis1 in tmux's paste buffer"),
        "{s}"
    );
    assert!(
        s.contains("did not get it") && s.contains("set-clipboard external"),
        "{s}"
    );
    assert!(
        !s.contains("sent the netsh"),
        "no claim that OSC 52 arrived: {s}"
    );
    assert!(
        s.ends_with(&format!("a copy is in {}", kept.display())),
        "{s}"
    );

    // tmux failing is said too, after the clipboard's own outcome.
    run(
        &mut app,
        [A::Copied {
            what: "x".into(),
            outcome: sent(),
            extras: CopyExtras {
                tmux: Some(Err("no server running".into())),
                kept: Some(Err("permission denied".into())),
            },
        }],
    );
    let s = app.status.clone().unwrap().text;
    assert!(s.starts_with("sent x to the terminal through tmux"), "{s}");
    assert!(
        s.contains("not in tmux's paste buffer: no server running"),
        "{s}"
    );
    assert!(s.contains("no copy kept on disk: permission denied"), "{s}");
}

/// Issue 15.1 and 15.6: every status message can be read in full in the message log (`M`), which
/// keeps the last 200; the help and the log scroll with g/G and page keys, and stop at their ends.
#[test]
fn the_message_log_keeps_every_status_in_full_and_scrolls_within_bounds() {
    use crate::tui::app::{MESSAGES_KEPT, StatusKind};
    use crate::tui::tests::render::{render, text};
    let mut app = example_app();
    let long = format!("{} the end", "word ".repeat(60));
    app.set_status(StatusKind::Info, "first");
    app.set_status(StatusKind::Error, long.clone());
    let bar = text(&render(&mut app, 100, 30));
    assert!(
        bar.contains("(M: in full)"),
        "the cut status says where it is:\n{bar}"
    );
    run(&mut app, [A::Messages]);
    assert!(matches!(app.modal, Some(Modal::Messages { scroll: 0 })));
    let screen = text(&render(&mut app, 100, 30));
    // The log's column only: between the modal's double borders.
    let inside: Vec<&str> = screen.lines().filter_map(|l| l.split('║').nth(1)).collect();
    let flat = inside
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("first"), "{screen}");
    assert!(
        flat.contains(&long.split_whitespace().collect::<Vec<_>>().join(" ")),
        "{screen}"
    );
    // Nothing older than the first message: scrolling back stops there.
    run(&mut app, [A::Top]);
    let Some(Modal::Messages { scroll: top }) = app.modal.clone() else {
        panic!("still open")
    };
    run(&mut app, [A::Up]);
    assert_eq!(app.modal, Some(Modal::Messages { scroll: top }));
    run(&mut app, [A::Down]);
    assert_eq!(
        app.modal,
        Some(Modal::Messages {
            scroll: top.saturating_sub(1)
        })
    );
    run(&mut app, [A::Close]);
    assert!(app.modal.is_none());

    for i in 0..MESSAGES_KEPT + 5 {
        app.set_status(StatusKind::Ok, format!("message {i}"));
    }
    assert_eq!(app.messages.len(), MESSAGES_KEPT);
    assert_eq!(app.messages[0].text, "message 5");

    // The help: G goes to its last page and k from there moves at once; g back to the top.
    run(&mut app, [A::Help, A::Bottom]);
    let Some(Modal::Help { scroll: last }) = app.modal.clone() else {
        panic!("help open")
    };
    assert!(last > 0 && last < 1000, "{last}");
    run(&mut app, [A::Up]);
    assert_eq!(app.modal, Some(Modal::Help { scroll: last - 1 }));
    run(&mut app, [A::Top]);
    assert_eq!(app.modal, Some(Modal::Help { scroll: 0 }));
}

/// Issue 15.4 and 15.5: selecting a rule shows every flow behind it in full: service, ports,
/// peers, tags, note, document and section; other panes show their selected row whole.
#[test]
fn a_rule_in_full_shows_every_flow_note_and_source() {
    let mut app = example_app();
    // Find a node with a rule whose flow has a note, and select that rule.
    let (n, i) = app
        .plan
        .nodes
        .iter()
        .find_map(|p| {
            p.inbound
                .iter()
                .chain(p.outbound.iter())
                .position(|r| {
                    r.provenance.len() > 1
                        && r.provenance
                            .iter()
                            .any(|f| !f.flow(&app.catalog).note.is_empty())
                })
                .map(|i| (p.node, i))
        })
        .expect("the example has a merged rule with a note");
    app.nodes.sel = n;
    app.focus = crate::tui::app::Pane::Rules;
    app.rules.sel = i;
    run(&mut app, [A::Detail]);
    let Some(Modal::Detail { detail, .. }) = app.modal.clone() else {
        panic!("the rule opens in full: {:?}", app.modal)
    };
    let plan = &app.plan.nodes[n];
    let rule = plan
        .inbound
        .iter()
        .chain(plan.outbound.iter())
        .nth(i)
        .unwrap();
    let text = detail.lines.join("\n");
    assert!(text.contains(&rule.peers.to_string()), "{text}");
    for f in &rule.provenance {
        let flow = f.flow(&app.catalog);
        let product = f.product(&app.catalog);
        assert!(text.contains(&f.label(&app.catalog)), "{text}");
        assert!(text.contains(&flow.service), "{text}");
        assert!(text.contains(&flow.note), "the note whole: {text}");
        assert!(text.contains(&product.document.title), "{text}");
        assert!(text.contains(&flow.source.section), "{text}");
    }
    // Scrolling stops at the end; esc closes.
    run(&mut app, [A::Bottom]);
    let Some(Modal::Detail { scroll: last, .. }) = app.modal.clone() else {
        panic!("open")
    };
    run(&mut app, [A::Down]);
    assert!(matches!(app.modal, Some(Modal::Detail { scroll, .. }) if scroll == last));
    run(&mut app, [A::Close]);
    assert!(app.modal.is_none());

    // A parameter's help in full (the roles pane cuts it).
    app.focus = crate::tui::app::Pane::Roles;
    let with_help = (0..app.topology.nodes.len()).find_map(|n| {
        app.nodes.sel = n;
        app.role_rows()
            .iter()
            .position(|r| matches!(r, crate::tui::app::RoleRow::Param(..)))
    });
    if let Some(p) = with_help {
        app.roles.sel = p;
        run(&mut app, [A::Detail]);
        let Some(Modal::Detail { detail, .. }) = app.modal.clone() else {
            panic!("a parameter opens in full")
        };
        assert!(
            detail.lines.iter().any(|l| l.starts_with("set here:")),
            "{detail:?}"
        );
    } else {
        panic!("the example has a role with a parameter");
    }
}

/// Issue 15.6: the traps a newcomer met in the keys.
#[test]
fn the_newcomers_traps_in_the_keys() {
    use crate::tui::app::{Pane, RoleRow};
    use crate::tui::tests::render::{render, text};
    use fwtopo::catalog::ParamKind;
    use fwtopo::topology::Os;
    let mut app = example_app();

    // A node without roles: on the nodes pane `a` adds a node, so the hint says to tab first.
    run(&mut app, [A::Add]);
    run(&mut app, typed("fresh"));
    run(&mut app, [A::Activate, A::Close]);
    assert_eq!(
        app.topology.nodes[app.selected_node().unwrap()].name,
        "fresh"
    );
    app.focus = Pane::Nodes;
    let screen = text(&render(&mut app, 120, 40));
    assert!(
        screen.contains("no roles: tab here, then a assigns"),
        "{screen}"
    );

    // The OS list jumps by letter.
    run(&mut app, [A::ChooseOs, A::Char('u')]);
    let Some(Modal::Os(c)) = app.modal.clone() else {
        panic!("OS list")
    };
    assert_eq!(Os::ALL[c.sel], Os::Ubuntu);
    run(&mut app, [A::Char('w')]);
    let Some(Modal::Os(c)) = app.modal.clone() else {
        panic!("OS list")
    };
    assert!(Os::ALL[c.sel].is_windows());
    run(&mut app, [A::Close]);

    // A Windows-only role on a Linux node: the picker says so first; a second enter assigns it.
    let n = app.selected_node().unwrap();
    assert!(!app.topology.nodes[n].os.is_windows());
    app.focus = Pane::Roles;
    run(&mut app, [A::Add]);
    run(&mut app, typed("sn-iis"));
    run(&mut app, [A::Activate]);
    let Some(Modal::Picker(p)) = app.modal.clone() else {
        panic!("still picking")
    };
    assert!(
        p.error
            .as_deref()
            .is_some_and(|e| e.contains("Windows only")),
        "{p:?}"
    );
    assert!(app.topology.nodes[n].roles.is_empty());
    run(&mut app, [A::Activate]);
    assert_eq!(app.topology.nodes[n].roles.len(), 1);
    // The edit is confirmed in the status line, in the undo step's words.
    assert!(app.status.as_ref().unwrap().text.contains("sn-iis"));

    // Space flips an on/off parameter; the status confirms it.
    let (node, row, id, default) = (0..app.topology.nodes.len())
        .find_map(|n| {
            app.nodes.sel = n;
            app.role_rows().iter().enumerate().find_map(|(r, row)| {
                let RoleRow::Param(i, id) = row else {
                    return None;
                };
                let ra = &app.topology.nodes[n].roles[*i];
                let spec = app.catalog.role(&ra.product, &ra.role)?;
                let p = spec.parameters.iter().find(|p| &p.id == id)?;
                match p.kind {
                    ParamKind::Switch { default } if !ra.params.contains_key(id) => {
                        Some((n, r, id.clone(), default))
                    }
                    _ => None,
                }
            })
        })
        .expect("the example has a switch left at its default");
    app.nodes.sel = node;
    app.focus = Pane::Roles;
    app.roles.sel = row;
    run(&mut app, [A::ToggleSwitch]);
    let RoleRow::Param(i, _) = app.role_rows()[row].clone() else {
        panic!()
    };
    let want = if default { "off" } else { "on" };
    assert_eq!(
        app.topology.nodes[node].roles[i]
            .params
            .get(&id)
            .map(String::as_str),
        Some(want)
    );
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .starts_with(&format!("{id} {want} on"))
    );
    run(&mut app, [A::ToggleSwitch]);
    let back = if default { "on" } else { "off" };
    assert_eq!(
        app.topology.nodes[node].roles[i]
            .params
            .get(&id)
            .map(String::as_str),
        Some(back)
    );

    // A zone's networks edited: the status line confirms it.
    run(&mut app, [A::Show(crate::tui::app::Screen::Zones)]);
    app.focus = Pane::Zones;
    app.zones.sel = 0;
    run(&mut app, [A::Edit, A::ClearLine]);
    run(&mut app, typed("192.0.2.0/26"));
    run(&mut app, [A::Activate]);
    let z = app.topology.zones[0].name.clone();
    assert_eq!(
        app.status.as_ref().unwrap().text,
        format!("networks of zone {z} (u undoes it)")
    );
}

/// Issue 15.6: enter on a finding selects the rule it is about, not the node's first rule.
#[test]
fn enter_on_a_finding_selects_its_rule() {
    use crate::tui::app::{FindingSource, Pane, Screen};
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Findings)]);
    let mut checked = 0;
    for k in 0..app.findings.len() {
        let row = app.findings[k];
        let (Some(n), FindingSource::Engine(i)) = (row.node, row.source) else {
            continue;
        };
        let f = app.plan.findings[i].clone();
        let plan = &app.plan.nodes[n];
        let rules: Vec<_> = plan
            .inbound
            .iter()
            .chain(plan.outbound.iter())
            .cloned()
            .collect();
        let Some(want) = rules.iter().position(|r| {
            crate::tui::view::rule_codes(r).contains(&f.code)
                && f.message
                    .contains(&format!("{}/{}", r.protocol.as_str(), r.ports))
        }) else {
            continue;
        };
        if want == 0 {
            continue;
        }
        run(&mut app, [A::Show(Screen::Findings)]);
        app.focus = Pane::Findings;
        app.finding_cursor.sel = k;
        run(&mut app, [A::Activate]);
        assert_eq!(app.selected_node(), Some(n));
        assert_eq!(app.rules.sel, want, "{f}");
        checked += 1;
    }
    assert!(
        checked > 0,
        "the example has a finding about a rule other than the first"
    );
}

/// Issue 15.7: what the file can say, the designer can do: a node's firewall, the topology's name,
/// a zone's and a host's note.
#[test]
fn the_designer_sets_the_firewall_the_name_and_zone_notes() {
    use crate::tui::app::{Pane, Screen};
    let mut app = example_app();
    let n = (0..app.topology.nodes.len())
        .find(|&n| {
            !app.topology.nodes[n].os.is_windows() && app.topology.nodes[n].firewall.is_none()
        })
        .expect("a Linux node choosing from its OS");
    app.nodes.sel = n;
    app.focus = Pane::Nodes;
    let linux: Vec<Target> = Target::ALL
        .into_iter()
        .filter(|t| !t.is_windows())
        .collect();
    for want in &linux {
        run(&mut app, [A::CycleFirewall]);
        assert_eq!(app.topology.nodes[n].firewall, Some(*want));
    }
    run(&mut app, [A::CycleFirewall]);
    assert_eq!(
        app.topology.nodes[n].firewall, None,
        "and back to the OS's choice"
    );
    assert!(app.status.as_ref().unwrap().text.contains("from its OS"));
    run(&mut app, [A::Undo]);
    assert_eq!(app.topology.nodes[n].firewall, linux.last().copied());

    run(&mut app, [A::RenameTopology, A::ClearLine]);
    run(&mut app, typed("Production site"));
    run(&mut app, [A::Activate]);
    assert_eq!(app.topology.name, "Production site");

    run(&mut app, [A::Show(Screen::Zones)]);
    app.focus = Pane::Zones;
    app.zones.sel = 0;
    run(&mut app, [A::EditNote, A::ClearLine]);
    run(&mut app, typed("Operators' VPN"));
    run(&mut app, [A::Activate]);
    assert_eq!(app.topology.zones[0].note, "Operators' VPN");
    app.focus = Pane::Hosts;
    app.hosts.sel = 0;
    run(&mut app, [A::EditNote, A::ClearLine]);
    run(&mut app, typed("pinned 2026-12"));
    run(&mut app, [A::Activate]);
    assert_eq!(app.topology.external_hosts[0].note, "pinned 2026-12");
}

/// Issue 16.2: the designer shows each flow test passing or failing live as the operator edits.
#[test]
fn flow_tests_pass_and_fail_live_in_the_designer() {
    use fwtopo::engine::Code;
    use fwtopo::topology::flow_tests::{Expect, FlowTest};
    let mut app = example_app();
    // The CommuniGate node: SSH only from the admin zone, through its management access (web1's
    // cPanel opens SSH to any).
    let name = "mail".to_string();
    let n = app
        .topology
        .nodes
        .iter()
        .position(|x| x.name == name)
        .unwrap();
    app.topology.tests.push(FlowTest {
        from: "admin".into(),
        to: name.clone(),
        proto: Protocol::Tcp,
        port: 22,
        expect: Expect::Allow,
        strict: false,
        note: String::new(),
    });
    app.rederive();
    let count = |app: &crate::tui::app::App, code: Code| {
        app.plan.findings.iter().filter(|f| f.code == code).count()
    };
    assert_eq!(count(&app, Code::FlowTestPassed), 1);
    assert_eq!(count(&app, Code::FlowTestFailed), 0);
    // Management access off: SSH from the admin zone is gone, and the test fails at once.
    app.nodes.sel = n;
    app.focus = Pane::Nodes;
    run(&mut app, [A::ToggleManagement]);
    assert_eq!(
        count(&app, Code::FlowTestFailed),
        1,
        "{:?}",
        app.plan.findings
    );
    assert!(
        app.findings
            .iter()
            .any(|r| app.finding_message(r).contains("flow-test-failed"))
    );
    run(&mut app, [A::Undo]);
    assert_eq!(count(&app, Code::FlowTestFailed), 0);
}

/// Issue 15.5: the export preview's title and lines are cut to the pane; `v` shows them whole.
#[test]
fn the_export_preview_in_full() {
    use crate::tui::app::Screen;
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Export)]);
    app.focus = Pane::Preview;
    app.preview_scroll = 1;
    run(&mut app, [A::Detail]);
    let Some(Modal::Detail { detail, .. }) = app.modal.clone() else {
        panic!("the preview opens in full: {:?}", app.modal)
    };
    let second = app.preview.text.lines().nth(1).unwrap().to_string();
    assert!(
        detail
            .lines
            .iter()
            .any(|l| l == &format!("line 2: {second}")),
        "{detail:?}"
    );
    assert!(
        detail.lines.iter().any(|l| l.starts_with("fwtopo export ")),
        "{detail:?}"
    );
}

/// Issue 16.4: the export screen lists the probe script after the firewalls; a Windows node's
/// is PowerShell, and its copy is kept as `<node>.probe.ps1`.
#[test]
fn the_export_screen_offers_the_probe_script() {
    use crate::tui::app::Screen;
    let mut app = example_app();
    // Before the first firewall, backwards: the last of the list.
    run(&mut app, [A::Show(Screen::Export), A::PrevTarget]);
    assert_eq!(app.target, Some(Target::Probe));
    assert_eq!(app.preview.text, app.export_text(0, Target::Probe));
    assert!(
        app.preview
            .text
            .starts_with("#!/bin/bash\n# fwtopo probe export for node web1\n"),
        "{}",
        app.preview.text
    );
    let windows = 3;
    assert!(app.topology.nodes[windows].os.is_windows());
    for _ in 0..windows {
        run(&mut app, [A::Down]);
    }
    let name = app.topology.nodes[windows].name.clone();
    assert!(
        app.preview
            .text
            .starts_with(&format!("# fwtopo probe export for node {name}\n")),
        "{}",
        app.preview.text
    );
    run(&mut app, [A::Copy]);
    let kept = app.pending_copy.as_ref().map(|(_, file)| file.clone());
    assert_eq!(kept, Some(format!("{name}.probe.ps1")));
    // Never offered as a node's own firewall.
    run(&mut app, [A::NextTarget]);
    assert_eq!(app.target, None);
}

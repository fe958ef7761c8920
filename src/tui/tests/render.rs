//! Rendered buffers (ratatui's TestBackend) of the main screens at 80×24 and 120×40, and one per theme
//! with its styles. Snapshots live in `snapshots/`; review changes with `cargo insta review`.

use super::{example_app, run, typed};
use crate::tui::action::Action as A;
use crate::tui::app::{App, Screen};
use crate::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

pub(super) fn render(app: &mut App, w: u16, h: u16) -> Buffer {
    run(app, [A::Resize(w, h)]);
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| view::draw(f, app)).expect("draw");
    term.backend().buffer().clone()
}

/// The characters of a buffer, one line per row, trailing spaces removed.
pub(super) fn text(b: &Buffer) -> String {
    let w = b.area.width as usize;
    let mut out = String::new();
    for row in b.content.chunks(w) {
        let line: String = row.iter().map(|c| c.symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn screen(s: Screen, w: u16, h: u16) -> String {
    let mut app = example_app();
    run(&mut app, [A::Show(s)]);
    text(&render(&mut app, w, h))
}

#[test]
fn design_80x24() {
    insta::assert_snapshot!(screen(Screen::Design, 80, 24));
}

#[test]
fn design_120x40() {
    insta::assert_snapshot!(screen(Screen::Design, 120, 40));
}

#[test]
fn design_windows_node_rules_focused_120x40() {
    let mut app = example_app();
    run(
        &mut app,
        [
            A::Down,
            A::Down,
            A::Down,
            A::Down,
            A::FocusNext,
            A::FocusNext,
            A::Down,
        ],
    );
    insta::assert_snapshot!(text(&render(&mut app, 120, 40)));
}

#[test]
fn findings_80x24() {
    insta::assert_snapshot!(screen(Screen::Findings, 80, 24));
}

#[test]
fn findings_120x40() {
    insta::assert_snapshot!(screen(Screen::Findings, 120, 40));
}

#[test]
fn zones_80x24() {
    insta::assert_snapshot!(screen(Screen::Zones, 80, 24));
}

#[test]
fn zones_120x40() {
    insta::assert_snapshot!(screen(Screen::Zones, 120, 40));
}

#[test]
fn overview_80x24() {
    insta::assert_snapshot!(screen(Screen::Overview, 80, 24));
}

#[test]
fn overview_120x40() {
    insta::assert_snapshot!(screen(Screen::Overview, 120, 40));
}

#[test]
fn picker_80x24() {
    let mut app = example_app();
    run(&mut app, [A::FocusNext, A::Add]);
    run(&mut app, typed("mail"));
    insta::assert_snapshot!(text(&render(&mut app, 80, 24)));
}

#[test]
fn picker_120x40() {
    let mut app = example_app();
    run(&mut app, [A::FocusNext, A::Add]);
    run(&mut app, typed("plesk postfix"));
    insta::assert_snapshot!(text(&render(&mut app, 120, 40)));
}

#[test]
fn input_error_80x24() {
    let mut app = example_app();
    run(&mut app, [A::Edit]);
    run(&mut app, typed(", 203.0.113.300"));
    run(&mut app, [A::Activate]);
    insta::assert_snapshot!(text(&render(&mut app, 80, 24)));
}

#[test]
fn help_80x24() {
    let mut app = example_app();
    run(&mut app, [A::Help]);
    insta::assert_snapshot!(text(&render(&mut app, 80, 24)));
}

#[test]
fn quit_confirmation_80x24() {
    let mut app = example_app();
    run(&mut app, [A::ToggleManagement, A::Quit]);
    insta::assert_snapshot!(text(&render(&mut app, 80, 24)));
}

#[test]
fn too_small_says_so() {
    let mut app = example_app();
    let t = text(&render(&mut app, 40, 10))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        t.contains("fwtopo needs at least 60×16 (this is 40×10)"),
        "{t}"
    );
    assert!(t.contains("keys do nothing but q (quit)"), "{t}");
}

#[test]
fn export_80x24() {
    insta::assert_snapshot!(screen(Screen::Export, 80, 24));
}

#[test]
fn export_120x40() {
    insta::assert_snapshot!(screen(Screen::Export, 120, 40));
}

/// The export screen says in words which console a Windows copy is for (issue 14); a Linux node's
/// preview says nothing of consoles.
#[test]
fn the_export_preview_says_which_console_a_copy_is_for() {
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Export)]);
    let linux = text(&render(&mut app, 80, 24));
    assert!(!linux.contains("cmd.exe"), "{linux}");
    // archive-mgmt, a Windows node: netsh by default, then PowerShell.
    run(&mut app, [A::Down, A::Down, A::Down]);
    let netsh = text(&render(&mut app, 80, 24));
    assert!(
        netsh.contains("◀ auto: netsh ▶ for cmd.exe or PowerShell"),
        "{netsh}"
    );
    while app.preview.target != Some(fwtopo::target::Target::Powershell) {
        run(&mut app, [A::NextTarget]);
    }
    let ps = text(&render(&mut app, 80, 24));
    assert!(
        ps.contains("◀ powershell ▶ for PowerShell, not cmd.exe"),
        "{ps}"
    );
}

/// Scrolled sideways: `…` on both edges, the columns shown in the bar.
#[test]
fn export_scrolled_right_80x24() {
    let mut app = example_app();
    run(
        &mut app,
        [
            A::Resize(80, 24),
            A::Show(Screen::Export),
            A::FocusNext,
            A::ScrollRight,
            A::ScrollRight,
        ],
    );
    insta::assert_snapshot!(text(&render(&mut app, 80, 24)));
}

#[test]
fn roles_focused_80x24() {
    let mut app = example_app();
    run(&mut app, [A::FocusNext, A::Down]);
    insta::assert_snapshot!(text(&render(&mut app, 80, 24)));
}

#[test]
fn rules_focused_80x24() {
    let mut app = example_app();
    // web1's second rule: the plaintext one behind a warning.
    run(&mut app, [A::FocusNext, A::FocusNext, A::Down]);
    insta::assert_snapshot!(text(&render(&mut app, 80, 24)));
}

/// The rule behind a finding shows that finding in full in its details.
#[test]
fn rules_focused_finding_in_full_120x40() {
    let mut app = example_app();
    run(&mut app, [A::FocusNext, A::FocusNext, A::Down]);
    let t = text(&render(&mut app, 120, 40));
    insta::assert_snapshot!(t);
}

/// The selected finding's whole message, wrapped under the list.
#[test]
fn findings_long_message_80x24() {
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Findings)]);
    let mail_errata = app
        .findings
        .iter()
        .position(|r| app.finding_node_name(r) == "mail" && app.finding_code(r) == "FW010")
        .expect("the example has errata on mail");
    for _ in 0..mail_errata {
        run(&mut app, [A::Down]);
    }
    let t = text(&render(&mut app, 80, 24));
    assert!(
        t.contains("communigate-pro/rtp-media"),
        "the end of the message shows:\n{t}"
    );
    insta::assert_snapshot!(t);
}

/// A long reason under a prompt gets the lines it wraps to, so its end is visible.
#[test]
fn input_long_error_80x24() {
    let mut app = example_app();
    run(&mut app, [A::Open, A::ClearLine]);
    run(&mut app, typed("broken.ron"));
    run(&mut app, [A::Activate]);
    // Five wrapped lines: more than a count of characters suggests, and more than the old cap.
    let why = "nodes[0] \"web1\": addresses[2]: '127.0.0.1' cannot be a node's address (loopback, unspecified or multicast); nodes[3] \"archive-mgmt\": roles[0] mailstore-spe/mgmt: params.port: 'x' is not a port or range; nodes[4] \"archive\": roles[1] mailstore-spe/ih: params.port: 'y' is not a port or range; nodes[5] \"mail\": note contains the control character U+202E END";
    run(
        &mut app,
        [A::Loaded {
            path: "broken.ron".into(),
            result: Err(why.into()),
        }],
    );
    let t = text(&render(&mut app, 80, 24));
    assert!(t.contains("END"), "the whole reason shows:\n{t}");
    insta::assert_snapshot!(t);
}

/// The design screen shows the node's own target, whatever the export screen was set to.
#[test]
fn design_shows_the_nodes_own_target() {
    let mut app = example_app();
    run(
        &mut app,
        [
            A::Show(Screen::Export),
            A::NextTarget,
            A::NextTarget,
            A::Show(Screen::Design),
        ],
    );
    assert_eq!(app.target, Some(fwtopo::target::Target::Iptables));
    let t = text(&render(&mut app, 80, 24));
    assert!(t.contains("firewall nftables (auto)"), "{t}");
}

/// More findings than the rules pane has lines for: the last line says where the rest are.
#[test]
fn rules_pane_says_when_findings_are_left_out() {
    let mut app = example_app();
    for p in ["ftp", "mail", "dns"] {
        app.topology.nodes[0].roles[0]
            .params
            .insert(p.into(), "maybe".into());
    }
    app.rederive();
    let t = text(&render(&mut app, 80, 24));
    // Four of them, the strict-egress note on the cPanel node (apt_11371 is off), FW024 (WHM
    // public, twice) and FW025 (ssh_public).
    assert!(t.contains("… 8 more: 2 lists every finding in full"), "{t}");
}

/// At 80 columns the status bar keeps copy, save and undo, skipping what does not fit.
#[test]
fn status_bar_keeps_the_important_keys() {
    for (s, w) in [
        (Screen::Design, 80),
        (Screen::Export, 80),
        (Screen::Design, 60),
    ] {
        let mut app = example_app();
        run(&mut app, [A::Show(s)]);
        let t = text(&render(&mut app, w, 24));
        let bar = t.lines().nth(23).unwrap_or_default().to_string();
        for want in ["y copy", "s save", "u undo", "? help", "q quit"] {
            assert!(
                bar.contains(want),
                "{s:?} at {w}: {want:?} missing in {bar:?}"
            );
        }
    }
    let mut app = example_app();
    insta::assert_snapshot!(
        text(&render(&mut app, 80, 24))
            .lines()
            .nth(23)
            .unwrap_or_default()
            .to_string()
    );
}

/// The help lists every pane's keys (the rules pane too) and what the mouse does.
#[test]
fn help_has_rules_and_mouse() {
    let mut app = example_app();
    run(&mut app, [A::Help]);
    let t = text(&render(&mut app, 80, 200));
    for want in [
        "Rules",
        "assign a role from the catalog",
        "Mouse",
        "wheel",
        "click a row",
    ] {
        assert!(t.contains(want), "{want:?} missing in the help:\n{t}");
    }
}

/// The export screen shows exactly `export::copy_text`'s text (exporters change; the rule does not).
#[test]
fn export_preview_is_the_exporter_output() {
    for (node, w, h) in [(0usize, 80u16, 24u16), (3, 120, 40)] {
        let mut app = example_app();
        run(&mut app, [A::Show(crate::tui::app::Screen::Export)]);
        for _ in 0..node {
            run(&mut app, [A::Down]);
        }
        let want = app.export_text(node, app.preview_target(node));
        let buf = render(&mut app, w, h);
        let rows = crate::tui::layout::rows_area(
            &app,
            crate::tui::app::Pane::Preview,
            crate::tui::layout::areas(app.screen, buf.area)
                .pane(crate::tui::app::Pane::Preview)
                .unwrap(),
        );
        let shown: Vec<String> = (rows.y..rows.y + rows.height)
            .map(|y| {
                (rows.x..rows.x + rows.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect();
        if want.is_empty() {
            assert!(shown[0].starts_with("(the "), "{shown:?}");
            continue;
        }
        for (got, line) in shown.iter().zip(want.lines()) {
            let line = line.replace('\t', "    ");
            if line.chars().count() <= rows.width as usize {
                assert_eq!(got, line.trim_end());
            } else {
                let head: String = line.chars().take(rows.width as usize - 1).collect();
                assert_eq!(got, &format!("{head}…"));
            }
        }
    }
}

/// One snapshot per theme, with every cell's style, so a theme change is a visible diff.
#[test]
fn themes_record_styles() {
    for name in ["dark", "light", "high-contrast"] {
        let mut app = example_app();
        app.theme = app.themes.iter().position(|t| t.name == name).unwrap();
        // Something of each severity, a selection, a focused and an unfocused pane, the status line.
        run(
            &mut app,
            [
                A::Down,
                A::Down,
                A::Down,
                A::Down,
                A::Down,
                A::FocusNext,
                A::FocusNext,
            ],
        );
        let b = render(&mut app, 80, 24);
        insta::assert_snapshot!(format!("theme_{name}"), format!("{b:?}"));
    }
}

#[test]
fn first_frame_while_deriving_then_the_rules() {
    use crate::tui::app::derived;
    let done = example_app();
    let mut app = App::deriving(
        done.catalog.clone(),
        done.topology.clone(),
        done.path.clone(),
        done.themes.clone(),
        0,
    );
    assert!(app.deriving && app.plan.nodes.is_empty());
    let first = text(&render(&mut app, 120, 40));
    let name = &app.topology.nodes[0].name;
    let count = app.topology.nodes.len();
    assert!(first.contains(&format!("Rules of {name} ")), "{first}");
    assert!(
        first.contains(&format!("Deriving the rules of {count} nodes…")),
        "{first}"
    );
    assert!(
        !first.contains("inbound,"),
        "no rules before they are derived:\n{first}"
    );
    // Every node is listed already.
    for n in &app.topology.nodes {
        assert!(first.contains(&n.name), "{} missing:\n{first}", n.name);
    }
    let (plan, problems) = derived(&app.catalog, &app.topology, app.today);
    app.install(plan, problems);
    assert!(!app.deriving);
    assert_eq!(
        text(&render(&mut app, 120, 40)),
        screen(Screen::Design, 120, 40)
    );
}

#[test]
fn a_file_with_problems_says_so_once_derived() {
    use crate::tui::app::derived;
    let done = example_app();
    let mut t = done.topology.clone();
    t.nodes[0].roles[0].role = "no-such-role".into();
    let mut app = App::deriving(
        done.catalog.clone(),
        t,
        done.path.clone(),
        done.themes.clone(),
        0,
    );
    let (plan, problems) = derived(&app.catalog, &app.topology, app.today);
    assert!(!problems.is_empty());
    app.install(plan, problems);
    let status = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(
        status.contains("site.ron: the catalog check found 1 problem"),
        "{status}"
    );
    // Later derivations (after an edit) leave the status line to the edit.
    app.status = None;
    app.rederive();
    assert!(app.status.is_none());
}

/// Issue 15.8: a theme paints the background it was designed for on every cell, modals and
/// pickers included, so the light theme's black text never lands on a dark terminal's own
/// background.
#[test]
fn every_theme_paints_its_own_background_on_every_cell() {
    use ratatui::style::Color;
    let screens: Vec<(&str, Vec<A>)> = vec![
        ("design", vec![]),
        ("help", vec![A::Help]),
        ("os list", vec![A::ChooseOs]),
        ("role picker", vec![A::FocusNext, A::Add]),
        ("rename", vec![A::Rename]),
        ("export", vec![A::Show(Screen::Export)]),
        ("findings", vec![A::Show(Screen::Findings)]),
    ];
    for name in ["dark", "light", "high-contrast"] {
        for (what, actions) in &screens {
            let mut app = example_app();
            app.theme = app.themes.iter().position(|t| t.name == name).unwrap();
            run(&mut app, actions.clone());
            let b = render(&mut app, 100, 30);
            let bare = b
                .content
                .iter()
                .position(|c| c.bg == Color::Reset || c.fg == Color::Reset);
            assert!(
                bare.is_none(),
                "{name}, {what}: cell {:?} keeps the terminal's own colours\n{}",
                bare.map(|i| (i % 100, i / 100)),
                text(&b)
            );
        }
    }
}

/// Issue 15.3: the overview has rows for zones and external hosts, so SSH/RDP from the admin zone
/// is visible, and each protocol is named (`t53 u53`, never `53,53`).
#[test]
fn the_overview_shows_zones_hosts_and_protocols() {
    use crate::tui::app::Source;
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Overview)]);
    let zones = app.topology.zones.len();
    let hosts = app.topology.external_hosts.len();
    assert!(zones > 0 && hosts > 0, "the example has both");
    assert_eq!(
        app.overview_rows(),
        1 + zones + hosts + app.topology.nodes.len()
    );
    let admin = app
        .topology
        .zones
        .iter()
        .position(|z| z.name == "admin")
        .unwrap();
    assert_eq!(app.overview_source(1 + admin), Some(Source::Zone(admin)));
    let screen = text(&render(&mut app, 160, 50));
    assert!(screen.contains("zone admin"), "{screen}");
    assert!(screen.contains("host store.cpane"), "{screen}");
    // The admin zone reaches every Linux node's SSH and every Windows node's RDP.
    let ov = app.overview.as_ref().unwrap();
    // Everything fits at this size: every row was computed, the nodes' rows below the new ones
    // included (the Virtuozzo mesh: vz2 reaches vz1).
    assert_eq!(ov.rows, 0..app.overview_rows());
    let vz = |n: &str| app.topology.nodes.iter().position(|x| x.name == n).unwrap();
    assert!(ov.cells.contains_key(&(Source::Node(vz("vz2")), vz("vz1"))));
    for (n, node) in app.topology.nodes.iter().enumerate() {
        if let Some(cell) = ov.cells.get(&(Source::Zone(admin), n)) {
            let port = if node.os.is_windows() { "3389" } else { "22" };
            assert!(
                cell.ports
                    .iter()
                    .any(|p| p.starts_with("tcp") && p.contains(port)),
                "{} {cell:?}",
                node.name
            );
        }
    }
    assert!(
        (0..app.topology.nodes.len()).any(|n| ov.cells.contains_key(&(Source::Zone(admin), n))),
        "admin reaches some node in the visible window"
    );
    let dns = crate::tui::app::Cell {
        ports: vec!["tcp 53".into(), "udp 53".into()],
        services: vec![],
    };
    assert_eq!(dns.short(), "t53 u53");
}

/// Issue 16.1 in the designer: `w` on an overview cell asks for a port and shows `fwtopo query`'s
/// answer: the admin zone reaches a Linux node's SSH through the host role's flow, an address-less
/// outsider (`any`) does not, and the answer says what would allow it.
#[test]
fn w_on_an_overview_cell_answers_why_or_why_not() {
    use crate::tui::app::{Modal, Source};
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Overview)]);
    let admin = app
        .topology
        .zones
        .iter()
        .position(|z| z.name == "admin")
        .unwrap();
    // A Linux node whose SSH only the admin zone reaches (the cell lists it).
    let linux = (0..app.topology.nodes.len())
        .find(|&n| {
            !app.topology.nodes[n].os.is_windows()
                && app
                    .cell(Source::Zone(admin), n)
                    .is_some_and(|c| c.ports.iter().any(|p| p.starts_with("tcp 22")))
        })
        .unwrap();
    app.grid.row.sel = 1 + admin;
    app.grid.col.sel = linux;
    assert_eq!(
        app.overview_source(app.grid.row.sel),
        Some(Source::Zone(admin))
    );
    run(&mut app, [A::Query]);
    let Some(Modal::Input(s)) = &app.modal else {
        panic!("w opens the port prompt: {:?}", app.modal)
    };
    // Filled with the cell's first allowed port.
    assert!(s.field.text.starts_with("tcp/"), "{}", s.field.text);
    // Types a port into the open prompt; the answer's title and text.
    let ask = |app: &mut App, port: &str| -> (String, String) {
        run(app, [A::ClearLine]);
        run(app, typed(port));
        run(app, [A::Activate]);
        match &app.modal {
            Some(Modal::Detail { detail, .. }) => (detail.title.clone(), detail.lines.join("\n")),
            other => panic!("the answer opens: {other:?}"),
        }
    };
    let (title, all) = ask(&mut app, "22");
    assert!(title.ends_with("tcp/22: allowed"), "{title}");
    assert!(all.contains("host/linux/ssh"), "{all}");
    assert!(all.contains("source: fwtopo-host"), "{all}");
    let screen = text(&render(&mut app, 160, 50));
    assert!(screen.contains("host/linux/ssh"), "{screen}");

    // From any address: not allowed, with what would allow it.
    run(&mut app, [A::Close]);
    app.grid.row.sel = 0;
    run(&mut app, [A::Query]);
    let (title, all) = ask(&mut app, "tcp 22");
    assert!(title.ends_with("tcp/22: NOT allowed"), "{title}");
    assert!(all.contains("inbound: DROPPED"), "{all}");
    assert!(all.contains("what would allow it"), "{all}");
    assert!(all.contains("--from any"), "{all}");

    // A bad port keeps the prompt open with the reason.
    run(&mut app, [A::Close, A::Query, A::ClearLine]);
    run(&mut app, typed("icmp/8"));
    run(&mut app, [A::Activate]);
    let Some(Modal::Input(s)) = &app.modal else {
        panic!("the prompt stays: {:?}", app.modal)
    };
    assert!(
        s.error.as_deref().is_some_and(|e| e.contains("443")),
        "{:?}",
        s.error
    );
}

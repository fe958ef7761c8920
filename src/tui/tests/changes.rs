//! Changes since the file was opened or saved (issue 17): `+`/`~` marks on the rules an edit
//! opens, `-` rows for what it closes, the changes screen with `fwtopo diff`'s words, and the
//! baseline moving on save, open and recovery.

use super::render::{render, text};
use super::{example_app, run};
use crate::tui::action::Action as A;
use crate::tui::app::{App, Pane, RoleRow, Screen};
use fwtopo::diff::{self, RuleMark};
use fwtopo::files::OnDisk;
use fwtopo::topology::Topology;
use std::path::PathBuf;

/// The rules pane's rows of the selected node as drawn (the table part of the screen).
fn rules_text(app: &mut App) -> String {
    text(&render(app, 120, 40))
}

/// Whether a drawn row of the rules table carries `sign` before its direction.
fn has_row(screen: &str, sign: char) -> bool {
    screen
        .lines()
        .any(|l| l.contains(&format!("{sign} in ")) || l.contains(&format!("{sign} out ")))
}

/// Selects web1's `ftp` switch in the roles pane.
fn select_ftp(app: &mut App) {
    app.nodes.sel = 0;
    app.focus = Pane::Roles;
    app.roles.sel = app
        .role_rows()
        .iter()
        .position(|r| matches!(r, RoleRow::Param(0, p) if p == "ftp"))
        .expect("web1 has an ftp switch");
}

fn saved(app: &mut App) {
    run(
        app,
        [A::Saved {
            path: PathBuf::from("site.ron"),
            result: Ok(OnDisk::of(b"saved")),
        }],
    );
}

#[test]
fn an_edit_marks_the_rules_it_opens_and_a_save_clears_the_marks() {
    let mut app = example_app();
    let opened = app.topology.clone();
    assert!(!has_row(&rules_text(&mut app), '+'), "nothing changed yet");
    select_ftp(&mut app);
    run(&mut app, [A::ToggleSwitch]);
    let marks = app.node_marks().expect("marks of the selected node");
    let plan = &app.plan.nodes[0];
    let ftp: Vec<RuleMark> = plan
        .rules()
        .zip(&marks.marks)
        .filter(|(r, _)| r.ports.contains(21))
        .map(|(_, m)| *m)
        .collect();
    assert!(!ftp.is_empty(), "ftp on opens port 21");
    assert!(ftp.iter().all(|m| *m != RuleMark::Same), "{ftp:?}");
    let shown = rules_text(&mut app);
    assert!(
        has_row(&shown, '+') || has_row(&shown, '~'),
        "the opened rule is marked:\n{shown}"
    );
    // The baseline is still the file as opened.
    assert_eq!(app.baseline.topology, opened);

    saved(&mut app);
    assert_eq!(
        app.baseline.topology, app.topology,
        "saved: the new baseline"
    );
    assert!(
        app.baseline.since.contains("saved"),
        "{}",
        app.baseline.since
    );
    let marks = app.node_marks().expect("marks");
    assert!(marks.is_empty(), "{marks:?}");
    let shown = rules_text(&mut app);
    assert!(
        !has_row(&shown, '+') && !has_row(&shown, '~'),
        "no marks after a save:\n{shown}"
    );
}

#[test]
fn removing_a_role_lists_what_it_allowed_as_removed_rows() {
    let mut app = example_app();
    app.nodes.sel = 0;
    app.focus = Pane::Roles;
    app.roles.sel = 0;
    let live_before = app.pane_len(Pane::Rules);
    run(&mut app, [A::Delete]);
    let marks = app.node_marks().expect("marks").clone();
    assert!(!marks.removed.is_empty(), "the cPanel role's rules went");
    assert!(marks.removed.iter().any(|r| r.whole));
    let live = app.plan.nodes[0].inbound.len() + app.plan.nodes[0].outbound.len();
    assert!(live < live_before);
    assert_eq!(app.pane_len(Pane::Rules), live + marks.removed.len());
    // cPanel's web ports, struck through in colour and `-` in text.
    let shown = rules_text(&mut app);
    assert!(has_row(&shown, '-'), "{shown}");
    assert!(
        shown.contains(&format!("outbound, {} removed", marks.removed.len())),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.contains("- in ") && l.contains("443") && l.contains("removed")),
        "{shown}"
    );
    // A removed row can be selected and shown in full.
    app.focus = Pane::Rules;
    run(&mut app, [A::Bottom]);
    assert_eq!(app.rules.sel, live + marks.removed.len() - 1);
    run(&mut app, [A::Detail]);
    let shown = rules_text(&mut app);
    assert!(shown.contains("Removed from web1"), "{shown}");
    // Undone: back to the baseline, nothing removed.
    run(&mut app, [A::Close, A::Undo]);
    assert!(app.node_marks().expect("marks").is_empty());
    assert!(!has_row(&rules_text(&mut app), '-'));
}

#[test]
fn the_changes_screen_says_what_fwtopo_diff_says_and_enter_goes_to_the_rule() {
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Changes)]);
    let shown = text(&render(&mut app, 80, 24));
    assert!(
        shown.contains("no changes since site.ron was opened"),
        "{shown}"
    );
    // Management access off on web1 (cPanel keeps its SSH open): its NTP client goes.
    run(&mut app, [A::Show(Screen::Design), A::ToggleManagement]);
    assert!(
        app.site_changes
            .as_ref()
            .is_none_or(|c| c.key.0 != app.version),
        "the whole site's diff waits for the changes screen"
    );
    run(&mut app, [A::Show(Screen::Changes)]);
    let base = app.baseline.plan.clone().expect("the baseline's plan");
    let want = diff::render(&diff::diff(&base, &app.plan), false, false);
    let got: String = app
        .change_rows()
        .iter()
        .map(|r| format!("{}\n", r.text))
        .collect();
    assert_eq!(got, want, "the same lines as `fwtopo diff`");
    assert!(want.contains("Node web1"), "{want}");
    let shown = text(&render(&mut app, 120, 40));
    assert!(shown.contains("Node web1"), "{shown}");
    assert!(
        shown.contains("- outbound udp 123 to any (closed)"),
        "{shown}"
    );
    insta::assert_snapshot!(text(&render(&mut app, 80, 24)));

    // Enter on the closed line: web1, its removed NTP row.
    let line = app
        .change_rows()
        .iter()
        .position(|r| r.text.contains("udp 123") && r.node.as_deref() == Some("web1"))
        .expect("the NTP line");
    run(&mut app, [A::Top]);
    for _ in 0..line {
        run(&mut app, [A::Down]);
    }
    run(&mut app, [A::Activate]);
    assert_eq!(app.screen, Screen::Design);
    assert_eq!((app.nodes.sel, app.focus), (0, Pane::Rules));
    let live = app.plan.nodes[0].inbound.len() + app.plan.nodes[0].outbound.len();
    let marks = app.node_marks().expect("marks");
    let removed = app.rules.sel.checked_sub(live).expect("a removed row");
    assert!(marks.removed[removed].ports.contains(123));
    assert_eq!(marks.removed[removed].peers, ["any"]);
}

#[test]
fn recovered_work_counts_from_the_file_on_disk() {
    let mut app = example_app();
    let on_disk = app.topology.clone();
    let mut work = on_disk.clone();
    work.nodes[0].management = !work.nodes[0].management;
    run(
        &mut app,
        [A::Recovered {
            original: Some(PathBuf::from("site.ron")),
            result: Ok(work.clone()),
            disk: None,
            baseline: Some(Box::new(on_disk.clone())),
        }],
    );
    assert_eq!(app.baseline.topology, on_disk);
    assert!(!app.node_marks().expect("marks").is_empty(), "web1 changed");
    run(&mut app, [A::Show(Screen::Changes)]);
    assert!(
        app.change_rows().iter().any(|r| r.text == "Node web1"),
        "{:?}",
        app.change_rows()
    );
    assert!(!app.change_rows().iter().any(|r| r.text == "Nodes added"));

    // Work for a file that was never saved: everything is new.
    run(
        &mut app,
        [A::Recovered {
            original: None,
            result: Ok(work),
            disk: None,
            baseline: None,
        }],
    );
    assert_eq!(app.baseline.topology, Topology::default());
    assert!(app.change_rows().iter().any(|r| r.text == "Nodes added"));
    assert!(
        app.node_marks()
            .expect("marks")
            .marks
            .iter()
            .all(|m| *m == RuleMark::Added)
    );
}

#[test]
fn opening_a_file_makes_it_the_baseline() {
    let mut app = example_app();
    run(&mut app, [A::ToggleManagement]);
    assert!(!app.node_marks().expect("marks").is_empty());
    let t = app.topology.clone();
    run(
        &mut app,
        [A::Loaded {
            path: PathBuf::from("other.ron"),
            result: Ok((t, OnDisk::of(b"other"))),
        }],
    );
    assert!(app.node_marks().expect("marks").is_empty());
    assert_eq!(app.baseline.since, "since other.ron was opened");
}

#[test]
fn the_help_explains_the_marks() {
    let mut app = example_app();
    run(&mut app, [A::Help, A::Bottom]);
    let shown = text(&render(&mut app, 120, 40));
    assert!(shown.contains("+ added  ~ changed  - removed"), "{shown}");
}

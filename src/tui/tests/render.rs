//! Rendered buffers (ratatui's TestBackend) of the main screens at 80×24 and 120×40, and one per theme
//! with its styles. Snapshots live in `snapshots/`; review changes with `cargo insta review`.

use super::{example_app, run, typed};
use crate::tui::action::Action as A;
use crate::tui::app::{App, Screen};
use crate::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

fn render(app: &mut App, w: u16, h: u16) -> Buffer {
    run(app, [A::Resize(w, h)]);
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| view::draw(f, app)).expect("draw");
    term.backend().buffer().clone()
}

/// The characters of a buffer, one line per row, trailing spaces removed.
fn text(b: &Buffer) -> String {
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
}

/// The export screen shows exactly `export::render`'s text (exporters change; the rule does not).
#[test]
fn export_preview_is_the_exporter_output() {
    for (node, w, h) in [(0usize, 80u16, 24u16), (3, 120, 40)] {
        let mut app = example_app();
        run(&mut app, [A::Show(crate::tui::app::Screen::Export)]);
        for _ in 0..node {
            run(&mut app, [A::Down]);
        }
        let want = app.export_text(node, app.effective_target(node));
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

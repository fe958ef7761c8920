//! The `?` overlay, generated from the keymap table.

use super::{App, fit, modal_block};
use crate::tui::{keymap, layout};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// What the mouse does (the loop turns clicks and the wheel into actions; no keymap entry).
const MOUSE: &[(&str, &str)] = &[
    ("click a tab", "show that screen"),
    ("click a row", "focus its pane and select the row"),
    ("click a matrix cell", "select that source and destination"),
    ("click in the picker / OS", "select that entry"),
    ("wheel", "scroll the list under the pointer"),
];

/// The help's lines, from the keymap.
fn lines(app: &App) -> Vec<Line<'static>> {
    let t = app.theme();
    let mut out: Vec<Line> = Vec::new();
    for (title, bindings) in keymap::help_sections() {
        out.push(Line::styled(title, t.header));
        for (keys, help) in bindings {
            out.push(Line::from(vec![
                Span::styled(format!("  {} ", fit(&keys, 24)), t.key),
                Span::styled(help, t.text),
            ]));
        }
        out.push(Line::raw(""));
    }
    out.push(Line::styled("Mouse", t.header));
    for (what, does) in MOUSE {
        out.push(Line::from(vec![
            Span::styled(format!("  {} ", fit(what, 24)), t.key),
            Span::styled(*does, t.text),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        "Panes take their own keys first, then the ones listed under Everywhere.",
        t.muted,
    ));
    out.push(Line::styled(
        "Severity: ✖ error  ▲ warning  • note",
        t.muted,
    ));
    out.push(Line::styled(
        "Rules since the file was opened or saved: + added  ~ changed  - removed",
        t.muted,
    ));
    out
}

/// How far the help scrolls before its last line reaches the bottom of its box.
pub fn max_scroll(app: &App, area: Rect) -> usize {
    let inner_h = layout::help_area(area).height.saturating_sub(2) as usize;
    lines(app).len().saturating_sub(inner_h)
}

pub fn draw(f: &mut Frame, app: &App, area: Rect, scroll: usize) {
    let r = layout::help_area(area);
    f.render_widget(Clear, r);
    let out = lines(app);
    let inner_h = r.height.saturating_sub(2) as usize;
    let scroll = scroll.min(out.len().saturating_sub(inner_h));
    let block = modal_block(app, " Keys (esc closes, j/k scroll) ");
    f.render_widget(
        Paragraph::new(out).block(block).scroll((scroll as u16, 0)),
        r,
    );
}

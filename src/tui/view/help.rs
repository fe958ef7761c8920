//! The `?` overlay, generated from the keymap table.

use super::{App, fit, modal_block};
use crate::tui::{keymap, layout};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub fn draw(f: &mut Frame, app: &App, area: Rect, scroll: usize) {
    let t = app.theme();
    let r = layout::help_area(area);
    f.render_widget(Clear, r);
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
    out.push(Line::styled(
        "Severity: ✖ error  ▲ warning  • note",
        t.muted,
    ));
    let inner_h = r.height.saturating_sub(2) as usize;
    let scroll = scroll.min(out.len().saturating_sub(inner_h));
    let block = modal_block(app, " Keys (esc closes, j/k scroll) ");
    f.render_widget(
        Paragraph::new(out).block(block).scroll((scroll as u16, 0)),
        r,
    );
}

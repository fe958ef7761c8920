//! The message log (`M`): every status message of the session in full, wrapped, newest at the
//! bottom. The status line is one row, and what it cuts (a kept copy's path, a long error) must
//! still be readable.

use super::{App, modal_block};
use crate::tui::app::StatusKind;
use crate::tui::layout;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// The messages wrapped to the box's inner `width`, oldest first.
fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = app.theme();
    let mut out: Vec<Line> = Vec::new();
    for m in &app.messages {
        let (sym, style) = match m.kind {
            StatusKind::Ok => ("✔", t.ok),
            StatusKind::Info => ("•", t.info),
            StatusKind::Warning => ("▲", t.warning),
            StatusKind::Error => ("✖", t.error),
        };
        for (i, piece) in layout::wrap(&m.text, width.saturating_sub(2).max(1))
            .into_iter()
            .enumerate()
        {
            let head = if i == 0 { sym } else { " " };
            out.push(Line::from(vec![
                Span::styled(format!("{head} "), style),
                Span::styled(piece, t.text),
            ]));
        }
    }
    if out.is_empty() {
        out.push(Line::styled("No messages yet.", t.muted));
    }
    out
}

/// How far back the log scrolls before its first line reaches the top of its box.
pub fn max_scroll(app: &App, area: Rect) -> usize {
    let r = layout::help_area(area);
    let out = lines(app, r.width.saturating_sub(2) as usize);
    out.len()
        .saturating_sub(r.height.saturating_sub(2) as usize)
}

/// `scroll` counts wrapped lines up from the bottom (0: the newest messages in view).
pub fn draw(f: &mut Frame, app: &App, area: Rect, scroll: usize) {
    let r = layout::help_area(area);
    f.render_widget(Clear, r);
    let out = lines(app, r.width.saturating_sub(2) as usize);
    let inner_h = r.height.saturating_sub(2) as usize;
    let last_page = out.len().saturating_sub(inner_h);
    let top = last_page.saturating_sub(scroll);
    let block = modal_block(
        app,
        format!(
            " Messages ({}; esc closes, j/k scroll) ",
            app.messages.len()
        ),
    );
    f.render_widget(Paragraph::new(out).block(block).scroll((top as u16, 0)), r);
}

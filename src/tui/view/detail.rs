//! A row shown in full (`v`): the text a pane cut, wrapped, scrollable.

use super::{App, modal_block};
use crate::tui::detail::Detail;
use crate::tui::layout;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

/// The detail's paragraphs wrapped to the box's inner `width`.
fn lines(app: &App, d: &Detail, width: usize) -> Vec<Line<'static>> {
    let t = app.theme();
    let mut out = Vec::new();
    for para in &d.lines {
        // Continuation lines keep the paragraph's own indent.
        let indent = para.len() - para.trim_start().len();
        let pieces = layout::wrap(para.trim_start(), width.saturating_sub(indent + 2).max(1));
        if pieces.is_empty() {
            out.push(Line::raw(""));
        }
        for (i, piece) in pieces.into_iter().enumerate() {
            let pad = " ".repeat(if i == 0 { indent } else { indent + 2 });
            out.push(Line::styled(format!("{pad}{piece}"), t.text));
        }
    }
    out
}

pub fn max_scroll(app: &App, area: Rect, d: &Detail) -> usize {
    let r = layout::help_area(area);
    lines(app, d, r.width.saturating_sub(2) as usize)
        .len()
        .saturating_sub(r.height.saturating_sub(2) as usize)
}

pub fn draw(f: &mut Frame, app: &App, area: Rect, d: &Detail, scroll: usize) {
    let r = layout::help_area(area);
    f.render_widget(Clear, r);
    let out = lines(app, d, r.width.saturating_sub(2) as usize);
    let scroll = scroll.min(
        out.len()
            .saturating_sub(r.height.saturating_sub(2) as usize),
    );
    let block = modal_block(app, format!(" {} (esc closes, j/k scroll) ", d.title));
    f.render_widget(
        Paragraph::new(out).block(block).scroll((scroll as u16, 0)),
        r,
    );
}

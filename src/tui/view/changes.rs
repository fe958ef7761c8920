//! The changes screen: what `fwtopo diff` says of the live topology against the file as opened or
//! saved, line for line (ports opened and closed per node, direction and peers; nodes added and
//! removed; findings introduced and resolved). Enter on a line goes to its node and rule.

use super::{App, cut, lines, pane_block, row_line};
use crate::tui::app::Pane;
use crate::tui::layout;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    let rows = app.change_rows();
    let counts = app
        .site_changes
        .as_ref()
        .filter(|_| !rows.is_empty())
        .map(|c| {
            let d = &c.diff;
            format!(
                ": nodes {} changed, {} added, {} removed; findings +{} -{}",
                d.nodes_changed.len(),
                d.nodes_added.len(),
                d.nodes_removed.len(),
                d.findings_introduced.len(),
                d.findings_resolved.len()
            )
        })
        .unwrap_or_default();
    let title = format!(" Changes {}{counts} ", app.baseline.since);
    let w = layout::inner(rect).width as usize;
    f.render_widget(pane_block(app, Pane::Changes, cut(&title, w)), rect);
    let area = layout::rows_area(app, Pane::Changes, rect);
    if rows.is_empty() {
        let text = if app.deriving {
            "deriving…".to_string()
        } else {
            format!("no changes {}", app.baseline.since)
        };
        lines(f, area, vec![Span::styled(cut(&text, w), t.ok).into()]);
        return;
    }
    let off = app.changes_cursor.offset_for(area.height as usize);
    let out: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(off)
        .take(area.height as usize)
        .map(|(i, r)| {
            let style = match r.text.trim_start().chars().next() {
                _ if !r.text.starts_with(' ') => t.header,
                Some('+') => t.inbound,
                Some('-') => t.error,
                _ => t.text,
            };
            let spans = vec![Span::styled(cut(&r.text, w), style)];
            row_line(
                spans,
                i == app.changes_cursor.sel && app.focus == Pane::Changes,
                t.selected,
                area.width,
            )
        })
        .collect();
    lines(f, area, out);
}

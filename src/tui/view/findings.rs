//! Findings of the whole topology (and catalog-check problems), worst first; Enter jumps to the node.

use super::{App, cut, fit, lines, pane_block, row_line};
use crate::tui::app::Pane;
use crate::tui::layout;
use crate::tui::theme::severity_symbol;
use fwtopo::engine::Severity;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    let count = |s| app.findings.iter().filter(|x| x.severity == s).count();
    let title = format!(
        " Findings: {} {} errors, {} {} warnings, {} {} notes ",
        severity_symbol(Severity::Error),
        count(Severity::Error),
        severity_symbol(Severity::Warning),
        count(Severity::Warning),
        severity_symbol(Severity::Info),
        count(Severity::Info)
    );
    f.render_widget(pane_block(app, Pane::Findings, title), rect);
    let inner = layout::inner(rect);
    let rows = layout::rows_area(app, Pane::Findings, rect);
    let w = inner.width as usize;
    let node_w = app
        .topology
        .nodes
        .iter()
        .map(|x| x.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 18);
    let msg_w = w.saturating_sub(10 + 6 + node_w + 3);
    let head = format!(
        "{} {} {} {}",
        fit("severity", 9),
        fit("code", 5),
        fit("node", node_w),
        "message"
    );
    lines(
        f,
        Rect { height: 1, ..inner },
        vec![Line::styled(cut(&head, w), t.header)],
    );
    if app.findings.is_empty() {
        lines(f, rows, vec![Span::styled("no findings", t.ok).into()]);
        return;
    }
    let off = app.finding_cursor.offset_for(rows.height as usize);
    let out = app
        .findings
        .iter()
        .enumerate()
        .skip(off)
        .take(rows.height as usize)
        .map(|(i, x)| {
            let spans = vec![
                Span::styled(
                    format!(
                        "{} {} ",
                        severity_symbol(x.severity),
                        fit(x.severity.as_str(), 7)
                    ),
                    t.severity(x.severity),
                ),
                Span::styled(format!("{} ", fit(app.finding_code(x), 5)), t.text),
                Span::styled(
                    format!(
                        "{} ",
                        fit(
                            Some(app.finding_node_name(x))
                                .filter(|n| !n.is_empty())
                                .unwrap_or("-"),
                            node_w
                        )
                    ),
                    t.text,
                ),
                Span::styled(cut(&app.finding_message(x), msg_w), t.muted),
            ];
            row_line(spans, i == app.finding_cursor.sel, t.selected, rows.width)
        })
        .collect();
    lines(f, rows, out);
}

//! The export preview: exactly what `fwtopo export` writes for the selected node and target.

use super::{App, cut, lines, pane_block};
use crate::tui::app::Pane;
use crate::tui::layout;
use fwtopo::export::Egress;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    let Some(n) = app.selected_node() else {
        f.render_widget(pane_block(app, Pane::Preview, " Export "), rect);
        return;
    };
    let name = &app.topology.nodes[n].name;
    let target = app
        .preview
        .target
        .unwrap_or_else(|| app.effective_target(n));
    let total = app.preview.text.lines().count();
    f.render_widget(
        pane_block(
            app,
            Pane::Preview,
            format!(" Export {name} · {target} · {total} lines "),
        ),
        rect,
    );
    let inner = layout::inner(rect);
    let w = inner.width as usize;
    let choice = match app.target {
        None => format!("auto: {target}"),
        Some(t) => t.to_string(),
    };
    let egress = match app.egress {
        Egress::Open => "open",
        Egress::Strict => "strict",
    };
    let file = app
        .path
        .as_ref()
        .map_or("FILE".to_string(), |p| p.display().to_string());
    let bar = vec![
        Line::from(vec![
            Span::styled("target ", t.muted),
            Span::styled(format!("◀ {choice} ▶"), t.tab_active),
            Span::styled("   outbound ", t.muted),
            Span::styled(egress, t.text),
        ]),
        Line::styled(
            cut(
                &format!(
                    "= fwtopo export {file} --node {name} --target {target}{}",
                    if app.egress == Egress::Strict {
                        " --egress strict"
                    } else {
                        ""
                    }
                ),
                w,
            ),
            t.muted,
        ),
    ];
    lines(
        f,
        Rect {
            height: 2.min(inner.height),
            ..inner
        },
        bar,
    );
    let rows = layout::rows_area(app, Pane::Preview, rect);
    if app.preview.text.is_empty() {
        lines(
            f,
            rows,
            vec![
                Span::styled(
                    format!("(the {target} exporter wrote nothing for {name})"),
                    t.muted,
                )
                .into(),
            ],
        );
        return;
    }
    let out = app
        .preview
        .text
        .lines()
        .skip(app.preview_scroll)
        .take(rows.height as usize)
        .map(|l| Line::styled(cut(&l.replace('\t', "    "), w), t.text))
        .collect();
    lines(f, rows, out);
}

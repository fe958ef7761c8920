//! The whole site as a flow matrix: rows are sources (any address, the zones, the external hosts,
//! then the nodes), columns destination nodes, each cell the ports the destination accepts from
//! that source, each protocol by its initial (`t22 u53`). Only the visible window is drawn, so a
//! 1,000-node site costs what fits on screen.

use super::{App, cut, fit, lines, pane_block};
use crate::tui::app::{Pane, Source};
use crate::tui::layout;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    f.render_widget(
        pane_block(
            app,
            Pane::Overview,
            " Overview: who may connect to whom (rows → columns; t tcp, u udp) ",
        ),
        rect,
    );
    let Some(ov) = &app.overview else { return };
    let g = layout::grid_parts(app, rect);
    let nodes = &app.topology.nodes;
    if nodes.is_empty() {
        lines(f, g.rows, vec![Span::styled("no nodes", t.muted).into()]);
        return;
    }
    let lw = g.label_width as usize;
    let cw = g.cell_width as usize;
    let ncols = g.visible_cols();
    let col_off = app.grid.col.offset_for(ncols);
    let row_off = app.grid.row.offset_for(g.rows.height as usize);
    let cols: Vec<usize> = (col_off..nodes.len()).take(ncols).collect();

    let mut head = vec![Span::styled(fit("from \\ to", lw), t.muted)];
    for &c in &cols {
        let style = if c == app.grid.col.sel {
            t.header.patch(t.selected)
        } else {
            t.header
        };
        head.push(Span::styled(fit(&nodes[c].name, cw - 1), style));
        head.push(Span::raw(" "));
    }
    lines(f, g.header, vec![Line::from(head)]);

    let mut out = Vec::new();
    for r in (row_off..app.overview_rows()).take(g.rows.height as usize) {
        let Some(from) = app.overview_source(r) else {
            break;
        };
        let label = app.source_name(from);
        let lstyle = if r == app.grid.row.sel {
            t.header.patch(t.selected)
        } else {
            match from {
                Source::Any => t.warning,
                Source::Zone(_) | Source::Host(_) => t.info,
                Source::Node(_) => t.text,
            }
        };
        let mut spans = vec![Span::styled(
            fit(&cut(&label, lw.saturating_sub(1)), lw),
            lstyle,
        )];
        for &c in &cols {
            let cell = ov.cells.get(&(from, c));
            let text = match cell {
                Some(x) => cut(&x.short(), cw - 1),
                None if from == Source::Node(c) => "=".into(),
                None => "·".into(),
            };
            let style = if r == app.grid.row.sel && c == app.grid.col.sel {
                t.selected
            } else if cell.is_some() {
                if from == Source::Any {
                    t.warning
                } else {
                    t.inbound
                }
            } else {
                t.muted
            };
            spans.push(Span::styled(fit(&text, cw - 1), style));
            spans.push(Span::raw(" "));
        }
        out.push(Line::from(spans));
    }
    lines(f, g.rows, out);

    let w = g.detail.width as usize;
    let from = app.overview_source(app.grid.row.sel).unwrap_or(Source::Any);
    let to = app.grid.col.sel.min(nodes.len() - 1);
    let src = match from {
        Source::Any => "any address".to_string(),
        s => app.source_name(s),
    };
    let mut detail = vec![Line::styled(
        cut(&format!("{src} → {}", nodes[to].name), w),
        t.title,
    )];
    match ov.cells.get(&(from, to)) {
        Some(c) => {
            detail.push(Line::styled(cut(&c.ports.join("; "), w), t.text));
            detail.push(Line::styled(cut(&c.services.join(", "), w), t.muted));
        }
        None => detail.push(Line::styled("nothing allowed", t.muted)),
    }
    lines(f, g.detail, detail);
}

//! The catalog picker: search product roles, and read what a role is and which ports it opens before
//! assigning it.

use super::roles::param_default;
use super::{App, cut, modal_block, row_line};
use crate::tui::app::PickerState;
use crate::tui::layout;
use fwtopo::catalog::Endpoint;
use fwtopo::report;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub fn draw(f: &mut Frame, app: &App, area: Rect, p: &PickerState) {
    let t = app.theme();
    let parts = layout::picker_parts(area);
    f.render_widget(Clear, parts.outer);
    let node = app
        .topology
        .nodes
        .get(p.node)
        .map_or("", |n| n.name.as_str());
    f.render_widget(
        modal_block(app, format!(" Assign a role to {node} ")),
        parts.outer,
    );
    let search = Line::from(vec![
        Span::styled("search ", t.muted),
        Span::styled(format!("{} ", p.query.text), t.input),
        Span::styled(format!("  {} roles", p.matches.len()), t.muted),
    ]);
    let err = p
        .error
        .as_ref()
        .map(|e| Line::styled(format!("✖ {e}"), t.error));
    f.render_widget(Paragraph::new(vec![search]), parts.search);
    if let Some(e) = err {
        f.render_widget(
            Paragraph::new(e),
            Rect {
                y: parts.search.y + 1,
                ..parts.search
            },
        );
    }
    let x = (parts.search.x + 7).saturating_add(p.query.cursor as u16);
    f.set_cursor_position((
        x.min(parts.search.x + parts.search.width.saturating_sub(1)),
        parts.search.y,
    ));

    let list = parts.list;
    let off = p.cursor.offset_for(list.height as usize);
    let assigned = |pid: &str, rid: &str| {
        app.topology
            .nodes
            .get(p.node)
            .is_some_and(|n| n.roles.iter().any(|r| r.product == pid && r.role == rid))
    };
    let rows: Vec<Line> =
        p.matches
            .iter()
            .enumerate()
            .skip(off)
            .take(list.height as usize)
            .map(|(i, &(pi, ri))| {
                let prod = &app.catalog.products()[pi];
                let role = &prod.roles[ri];
                let mark = if assigned(&prod.id, &role.id) {
                    "✓ "
                } else {
                    "  "
                };
                let id = format!("{mark}{}/{}", prod.id, role.id);
                // Roles for the other OS family are marked (enter asks before assigning them).
                let misfit = app.topology.nodes.get(p.node).is_some_and(|n| {
                    crate::tui::update::platform_misfit(role.platform, n).is_some()
                });
                let (id_style, tail) = if misfit {
                    (
                        t.muted,
                        format!(" ✗ {}", format!("{:?}", role.platform).to_lowercase()),
                    )
                } else {
                    (t.text, String::new())
                };
                let rest = (list.width as usize)
                    .saturating_sub(id.chars().count() + 2 + tail.chars().count());
                row_line(
                    vec![
                        Span::styled(id, id_style),
                        Span::styled(format!("  {}", cut(&role.name, rest)), t.muted),
                        Span::styled(tail, t.warning),
                    ],
                    i == p.cursor.sel,
                    t.selected,
                    list.width,
                )
            })
            .collect();
    f.render_widget(Paragraph::new(rows), list);

    let Some(&(pi, ri)) = p.matches.get(p.cursor.sel) else {
        return;
    };
    let prod = &app.catalog.products()[pi];
    let role = &prod.roles[ri];
    let mut d = vec![
        Line::styled(format!("{} ({}/{})", role.name, prod.id, role.id), t.title),
        Line::styled(
            format!(
                "{} · {} · platform {}",
                prod.name,
                prod.vendor,
                format!("{:?}", role.platform).to_lowercase()
            ),
            t.muted,
        ),
    ];
    if !role.description.is_empty() {
        d.push(Line::styled(role.description.clone(), t.text));
    }
    let plays = |eps: &[Endpoint]| {
        eps.iter()
            .any(|e| matches!(e, Endpoint::Role(id) if prod.role_matches(role, id)))
    };
    let mut inbound = Vec::new();
    let mut outbound = Vec::new();
    for fl in &prod.flows {
        let protos: Vec<&str> = fl.protocols.iter().map(|x| x.as_str()).collect();
        let ports = report::default_ports(prod, fl);
        if plays(&fl.to) {
            let from: Vec<String> = fl.from.iter().map(report::endpoint).collect();
            inbound.push(format!(
                "{} {} ← {}  {}",
                protos.join("+"),
                ports,
                from.join(","),
                fl.service
            ));
        }
        if plays(&fl.from) {
            let to: Vec<String> = fl.to.iter().map(report::endpoint).collect();
            outbound.push(format!(
                "{} {} → {}  {}",
                protos.join("+"),
                ports,
                to.join(","),
                fl.service
            ));
        }
    }
    d.push(Line::styled(
        format!("accepts ({})", inbound.len()),
        t.inbound,
    ));
    d.extend(
        inbound
            .into_iter()
            .map(|l| Line::styled(format!("  {l}"), t.text)),
    );
    d.push(Line::styled(
        format!("opens to ({})", outbound.len()),
        t.outbound,
    ));
    d.extend(
        outbound
            .into_iter()
            .map(|l| Line::styled(format!("  {l}"), t.text)),
    );
    for x in &role.parameters {
        d.push(Line::from(vec![
            Span::styled(format!("param {} ", x.id), t.key),
            Span::styled(format!("{}: {}", x.name, param_default(x)), t.text),
        ]));
    }
    f.render_widget(Paragraph::new(d).wrap(Wrap { trim: false }), parts.detail);
}

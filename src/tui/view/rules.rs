//! The selected node's live rules: inbound then outbound, with protocol, ports, peers, services and
//! (when wide enough) provenance; rules behind one of the node's findings carry its severity symbol,
//! rules added or changed since the file was opened or saved a `+` or `~`, and what was removed
//! since follows the live rules as `-` rows (signs, so they read without colour).
//! Below: the selected rule in full with the findings it causes (wrapped, whole), and the node's
//! findings one per line.

use super::{App, cut, fit, lines, pane_block, row_line};
use crate::tui::app::{FindingSource, Pane};
use crate::tui::layout;
use crate::tui::theme::severity_symbol;
use fwtopo::catalog::Tag;
use fwtopo::diff::Removed;
use fwtopo::engine::{Code, Direction, Rule, Severity};
use fwtopo::net::Peers;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

/// The finding codes a rule can be the cause of, from its tags and peers.
pub fn rule_codes(r: &Rule) -> Vec<Code> {
    let mut v = Vec::new();
    let any = r.peers.is_any();
    if r.has_tag(Tag::Insecure) && any {
        v.push(Code::PlaintextOpenToAny);
    }
    if r.has_tag(Tag::TrustedOnly) && any {
        v.push(Code::TrustedOnlyOpenToAny);
    }
    if r.has_tag(Tag::Administration) && any {
        v.push(Code::AdministrationOpenToAny);
    }
    if r.has_tag(Tag::Management) && any {
        v.push(Code::ManagementOpenToAny);
    }
    if r.has_tag(Tag::WinrmBasicHttp) {
        v.push(Code::WinrmBasicHttp);
    }
    if r.has_tag(Tag::Errata) {
        v.push(Code::ErrataInUse);
    }
    if r.has_tag(Tag::Temporary) {
        v.push(Code::TemporaryPort);
    }
    if r.has_tag(Tag::DynamicPort) {
        v.push(Code::DynamicPortUnset);
    }
    if matches!(r.peers, Peers::Dns(_)) {
        v.push(Code::DnsPeer);
    }
    v
}

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    let Some(n) = app.selected_node() else {
        f.render_widget(pane_block(app, Pane::Rules, " Rules "), rect);
        return;
    };
    let name = &app.topology.nodes[n].name;
    if app.deriving {
        f.render_widget(
            pane_block(app, Pane::Rules, format!(" Rules of {name} ")),
            rect,
        );
        let n = app.topology.nodes.len();
        let text = format!(
            "Deriving the rules of {n} node{}…",
            if n == 1 { "" } else { "s" }
        );
        lines(f, layout::inner(rect), vec![Line::styled(text, t.muted)]);
        return;
    }
    let Some(plan) = app.plan.nodes.get(n) else {
        return;
    };
    let node_findings: Vec<_> = app
        .plan
        .findings
        .iter()
        .filter(|x| x.node.as_deref() == Some(name.as_str()))
        .collect();
    let problems: Vec<_> = app
        .findings
        .iter()
        .filter(|x| matches!(x.source, FindingSource::Check(_)) && x.node == Some(n))
        .collect();
    let marks = app.node_marks();
    let removed: &[Removed] = marks.map_or(&[], |m| &m.removed);
    let title = format!(
        " Rules of {name}: {} inbound, {} outbound{} ",
        plan.inbound.len(),
        plan.outbound.len(),
        match removed.len() {
            0 => String::new(),
            n => format!(", {n} removed"),
        }
    );
    f.render_widget(pane_block(app, Pane::Rules, title), rect);
    let rules: Vec<&Rule> = plan.inbound.iter().chain(plan.outbound.iter()).collect();
    let parts = layout::rules_parts(
        rect,
        app.findings.iter().filter(|x| x.node == Some(n)).count(),
        rules.len() + removed.len(),
    );
    let w = parts.table.width as usize;
    if rules.is_empty() && removed.is_empty() {
        lines(
            f,
            parts.table,
            vec![
                Span::styled(
                    "no rules: a (here or in the roles pane) assigns a role",
                    t.muted,
                )
                .into(),
            ],
        );
    } else {
        let ports: Vec<String> = rules
            .iter()
            .map(|r| r.ports.to_string())
            .chain(removed.iter().map(|r| r.ports.to_string()))
            .collect();
        let peers: Vec<String> = rules
            .iter()
            .map(|r| r.peers.to_string())
            .chain(removed.iter().map(|r| r.peers.join(", ")))
            .collect();
        // Ports and peers get what they need up to about a third of the row each; services the rest.
        let prov_w = if w >= 110 { 34 } else { 0 };
        let avail = w.saturating_sub(3 + 4 + 4 + if prov_w > 0 { prov_w + 1 } else { 0 });
        let ports_w = ports
            .iter()
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(5)
            .clamp(5, (avail * 2 / 5).clamp(5, 24));
        let peers_w = peers
            .iter()
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(5)
            .clamp(5, (avail / 3).clamp(5, 30));
        let svc_w = avail.saturating_sub(ports_w + 1 + peers_w + 1).max(4);
        let mut header = format!(
            "   {} {} {} {} {}",
            fit("dir", 3),
            fit("pro", 3),
            fit("ports", ports_w),
            fit("peers", peers_w),
            fit("services", svc_w)
        );
        if prov_w > 0 {
            header.push_str(&format!(" {}", fit("provenance", prov_w)));
        }
        let mut out = vec![Line::styled(cut(&header, w), t.header)];
        let height = parts.table.height.saturating_sub(1) as usize;
        let off = app.rules.offset_for(height);
        let selected = |i: usize| i == app.rules.sel && app.focus == Pane::Rules;
        for (i, r) in rules.iter().enumerate().skip(off).take(height) {
            let codes = rule_codes(r);
            let mark = marks.and_then(|m| m.marks.get(i)).map_or(' ', |m| m.sign());
            let worst: Option<Severity> = node_findings
                .iter()
                .filter(|x| codes.contains(&x.code))
                .map(|x| x.severity)
                .min();
            let (dir, dir_style) = match r.direction {
                Direction::Inbound => ("in ", t.inbound),
                Direction::Outbound => ("out", t.outbound),
            };
            let mut spans = vec![
                match worst {
                    Some(s) => Span::styled(severity_symbol(s).to_string(), t.severity(s)),
                    None => Span::raw(" "),
                },
                Span::styled(format!("{mark} "), t.dirty),
                Span::styled(format!("{dir} "), dir_style),
                Span::styled(format!("{} ", fit(r.protocol.as_str(), 3)), t.text),
                Span::styled(format!("{} ", fit(&ports[i], ports_w)), t.text),
                Span::styled(format!("{} ", fit(&peers[i], peers_w)), t.text),
                Span::styled(fit(&r.services(&app.catalog).join(", "), svc_w), t.muted),
            ];
            if prov_w > 0 {
                let p: Vec<String> = r.provenance.iter().map(|x| x.label(&app.catalog)).collect();
                spans.push(Span::styled(
                    format!(" {}", fit(&p.join(" "), prov_w)),
                    t.muted,
                ));
            }
            out.push(row_line(spans, selected(i), t.selected, parts.table.width));
        }
        let skip = off.saturating_sub(rules.len());
        let room = height.saturating_sub(out.len() - 1);
        for (j, r) in removed.iter().enumerate().skip(skip).take(room) {
            let i = rules.len() + j;
            let gone = t.muted.add_modifier(Modifier::CROSSED_OUT);
            let dir = match r.direction {
                Direction::Inbound => "in ",
                Direction::Outbound => "out",
            };
            let what = if r.whole {
                "removed"
            } else {
                "removed (the rest of the rule stays)"
            };
            let spans = vec![
                Span::styled(" - ", t.dirty),
                Span::styled(format!("{dir} "), gone),
                Span::styled(format!("{} ", fit(r.protocol, 3)), gone),
                Span::styled(format!("{} ", fit(&ports[i], ports_w)), gone),
                Span::styled(format!("{} ", fit(&peers[i], peers_w)), gone),
                Span::styled(fit(what, svc_w), t.muted),
            ];
            out.push(row_line(spans, selected(i), t.selected, parts.table.width));
        }
        lines(f, parts.table, out);
        if let Some(r) = app
            .rules
            .sel
            .checked_sub(rules.len())
            .and_then(|j| removed.get(j))
        {
            let word = if r.direction == Direction::Inbound {
                "from"
            } else {
                "to"
            };
            let dw = parts.detail.width as usize;
            let mut detail: Vec<Line> = layout::wrap(
                &format!(
                    "- {} {} {} {word} {}",
                    r.direction.as_str(),
                    r.protocol,
                    r.ports,
                    r.peers.join(", ")
                ),
                dw,
            )
            .into_iter()
            .map(|l| Line::styled(l, t.text))
            .collect();
            detail.extend(
                layout::wrap(
                    &format!("allowed {}; no rule allows it now", app.baseline.since),
                    dw,
                )
                .into_iter()
                .map(|l| Line::styled(l, t.muted)),
            );
            lines(f, parts.detail, detail);
        } else if let Some(r) = rules.get(app.rules.sel) {
            let word = if r.direction == Direction::Inbound {
                "from"
            } else {
                "to"
            };
            let tags: Vec<&str> = r.tags.iter().map(|x| x.as_str()).collect();
            let prov: Vec<String> = r.provenance.iter().map(|x| x.label(&app.catalog)).collect();
            let services = r.services(&app.catalog).join(", ");
            let dw = parts.detail.width as usize;
            let mut detail: Vec<Line> = layout::wrap(
                &format!(
                    "{} {} {} {word} {}",
                    r.direction.as_str(),
                    r.protocol,
                    r.ports,
                    r.peers
                ),
                dw,
            )
            .into_iter()
            .map(|l| Line::styled(l, t.text))
            .collect();
            // The findings this rule is behind, in full: the list below has room for one line each.
            let codes = rule_codes(r);
            for x in node_findings.iter().filter(|x| codes.contains(&x.code)) {
                let text = format!(
                    "{} {} {}: {}",
                    severity_symbol(x.severity),
                    x.code.id(),
                    x.code.slug(),
                    x.message
                );
                detail.extend(
                    layout::wrap(&text, dw)
                        .into_iter()
                        .map(|l| Line::styled(l, t.severity(x.severity))),
                );
            }
            for text in [
                format!("services: {services}"),
                format!(
                    "from flows: {}{}",
                    prov.join(" "),
                    if tags.is_empty() {
                        String::new()
                    } else {
                        format!("  [{}]", tags.join(", "))
                    }
                ),
            ] {
                detail.extend(
                    layout::wrap(&text, dw)
                        .into_iter()
                        .map(|l| Line::styled(l, t.muted)),
                );
            }
            lines(f, parts.detail, detail);
        }
    }
    let mut flines: Vec<Line> = problems
        .iter()
        .map(|p| {
            Line::styled(
                cut(
                    &format!("{} {}", severity_symbol(p.severity), app.finding_message(p)),
                    w,
                ),
                t.error,
            )
        })
        .collect();
    flines.extend(node_findings.iter().map(|x| {
        Line::from(vec![
            Span::styled(
                format!("{} {} ", severity_symbol(x.severity), x.code.id()),
                t.severity(x.severity),
            ),
            Span::styled(
                cut(
                    &format!("{}: {}", x.code.slug(), x.message),
                    w.saturating_sub(8),
                ),
                t.muted,
            ),
        ])
    }));
    // More findings than lines: the last line says where the rest are.
    let room = parts.findings.height as usize;
    if flines.len() > room && room > 0 {
        let more = flines.len() - (room - 1);
        flines.truncate(room - 1);
        flines.push(Line::styled(
            cut(&format!("… {more} more: 2 lists every finding in full"), w),
            t.muted,
        ));
    }
    lines(f, parts.findings, flines);
}

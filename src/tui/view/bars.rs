//! The tab bar (screens, topology name, file, unsaved marker) and the status line (the last message,
//! then the keys that matter here, from the keymap).

use super::{App, cut};
use crate::tui::app::StatusKind;
use crate::tui::{keymap, layout};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn tabs(f: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let mut spans = Vec::new();
    let mut used = 0usize;
    for (s, label, _) in layout::tab_spans(area) {
        used += label.chars().count();
        spans.push(Span::styled(
            label,
            if s == app.screen { t.tab_active } else { t.tab },
        ));
    }
    let file = match &app.path {
        Some(p) => p.display().to_string(),
        None => "(not saved to a file)".into(),
    };
    let dirty = if app.dirty() { " ● unsaved" } else { "" };
    let room = (area.width as usize).saturating_sub(used + 1);
    let name = if app.topology.name.is_empty() {
        "untitled"
    } else {
        app.topology.name.as_str()
    };
    let info = format!("{name} · {file}");
    let info_room = room.saturating_sub(dirty.chars().count());
    // Keep the end of a long path: the file name matters more than the directory.
    let info = if info.chars().count() > info_room && info_room > 1 {
        let skip = info.chars().count() - (info_room - 1);
        format!("…{}", info.chars().skip(skip).collect::<String>())
    } else {
        cut(&info, info_room)
    };
    let pad = room.saturating_sub(info.chars().count() + dirty.chars().count());
    spans.push(Span::raw(" ".repeat(pad + 1)));
    spans.push(Span::styled(info, t.muted));
    spans.push(Span::styled(dirty, t.dirty));
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.status), area);
}

pub fn status(f: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let mut spans = Vec::new();
    let mut used = 0usize;
    if let Some(s) = &app.status {
        let (sym, style) = match s.kind {
            StatusKind::Ok => ("✔", t.ok),
            StatusKind::Info => ("•", t.info),
            StatusKind::Warning => ("▲", t.warning),
            StatusKind::Error => ("✖", t.error),
        };
        let full = format!("{sym} {}", s.text);
        let width = area.width as usize;
        // A message the line cannot hold says where it is in full.
        let text = if full.chars().count() > width {
            format!("{} (M: in full)", cut(&full, width.saturating_sub(14)))
        } else {
            full
        };
        used += text.chars().count() + 3;
        spans.push(Span::styled(text, style));
        spans.push(Span::raw("   "));
    }
    // Help and quit are always shown, at the right; the other keys fill the space before them, the
    // most important first (copy, save, undo, then the pane's own), each that fits, in table order.
    let ctx = keymap::context(app);
    let all = keymap::hints(ctx);
    let (fixed, own): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|h| ctx.falls_back() && (h.key == "?" || h.key == "q"));
    let cost = |h: &keymap::Hint| h.key.chars().count() + h.label.chars().count() + 3;
    let fixed_w: usize = fixed.iter().map(cost).sum();
    let room = (area.width as usize).saturating_sub(fixed_w);
    let mut order: Vec<usize> = (0..own.len()).collect();
    order.sort_by_key(|&i| own[i].rank);
    let mut shown = vec![false; own.len()];
    for i in order {
        let n = cost(&own[i]);
        if used + n <= room {
            used += n;
            shown[i] = true;
        }
    }
    for (h, _) in own.iter().zip(&shown).filter(|(_, s)| **s) {
        spans.push(Span::styled(h.key.clone(), t.key));
        spans.push(Span::styled(format!(" {}  ", h.label), t.muted));
    }
    if used + fixed_w <= area.width as usize {
        spans.push(Span::raw(" ".repeat(room - used)));
        for h in fixed {
            spans.push(Span::styled(h.key, t.key));
            spans.push(Span::styled(format!(" {}  ", h.label), t.muted));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.status), area);
}

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
        let text = cut(&format!("{sym} {}", s.text), area.width as usize);
        used += text.chars().count() + 3;
        spans.push(Span::styled(text, style));
        spans.push(Span::raw("   "));
    }
    // Help and quit are always shown, at the right; the pane's own keys fill the space before them.
    let ctx = keymap::context(app);
    let all = keymap::hints(ctx);
    let (fixed, own): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(k, _)| ctx.falls_back() && (k == "?" || k == "q"));
    let width = |v: &[(String, &str)]| {
        v.iter()
            .map(|(k, h)| k.chars().count() + h.chars().count() + 3)
            .sum::<usize>()
    };
    let room = (area.width as usize).saturating_sub(width(&fixed));
    for (key, help) in own {
        let n = key.chars().count() + help.chars().count() + 3;
        if used + n > room {
            break;
        }
        used += n;
        spans.push(Span::styled(key, t.key));
        spans.push(Span::styled(format!(" {help}  "), t.muted));
    }
    if used + width(&fixed) <= area.width as usize {
        spans.push(Span::raw(" ".repeat(room - used)));
        for (key, help) in fixed {
            spans.push(Span::styled(key, t.key));
            spans.push(Span::styled(format!(" {help}  "), t.muted));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.status), area);
}

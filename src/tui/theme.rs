//! Themes: built-in RON files (`themes/*.ron`, embedded) and user files in `<config>/themes/NAME.ron`
//! that override a built-in style by style and field by field, as television and gitui do.
//!
//! Colour is never the only signal: severities also carry a symbol ([`severity_symbol`]).

use fwtopo::engine::Severity;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The embedded themes, as (name, RON text); the first is the default.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.ron")),
    ("light", include_str!("../../themes/light.ron")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.ron"),
    ),
];

/// Every style a theme sets, by the name theme files use.
pub const KEYS: &[&str] = &[
    "text",
    "muted",
    "title",
    "border",
    "border_focus",
    "tab",
    "tab_active",
    "selected",
    "header",
    "status",
    "key",
    "error",
    "warning",
    "info",
    "ok",
    "inbound",
    "outbound",
    "dirty",
    "input",
    "modal",
];

/// A resolved theme: one ratatui style per key.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub muted: Style,
    pub title: Style,
    pub border: Style,
    pub border_focus: Style,
    pub tab: Style,
    pub tab_active: Style,
    pub selected: Style,
    pub header: Style,
    pub status: Style,
    pub key: Style,
    pub error: Style,
    pub warning: Style,
    pub info: Style,
    pub ok: Style,
    pub inbound: Style,
    pub outbound: Style,
    pub dirty: Style,
    pub input: Style,
    pub modal: Style,
}

/// One style as written in a theme file; every field is optional so a user file can change one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    bold: Option<bool>,
    italic: Option<bool>,
    underline: Option<bool>,
    reversed: Option<bool>,
    dim: Option<bool>,
}

/// A theme file: an optional built-in to start from (user files only) and styles by key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    styles: BTreeMap<String, StyleSpec>,
}

fn parse_file(name: &str, text: &str) -> Result<ThemeFile, String> {
    let file: ThemeFile = ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str(text)
        .map_err(|e| format!("theme {name}: {e}"))?;
    if let Some(k) = file.styles.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "theme {name}: unknown style '{k}' (known: {})",
            KEYS.join(", ")
        ));
    }
    Ok(file)
}

fn color(name: &str, key: &str, s: &str) -> Result<Color, String> {
    s.parse::<Color>()
        .map_err(|_| format!("theme {name}: style {key}: '{s}' is not a colour"))
}

fn apply(name: &str, key: &str, style: Style, spec: &StyleSpec) -> Result<Style, String> {
    let mut s = style;
    if let Some(fg) = &spec.fg {
        s = s.fg(color(name, key, fg)?);
    }
    if let Some(bg) = &spec.bg {
        s = s.bg(color(name, key, bg)?);
    }
    for (flag, m) in [
        (spec.bold, Modifier::BOLD),
        (spec.italic, Modifier::ITALIC),
        (spec.underline, Modifier::UNDERLINED),
        (spec.reversed, Modifier::REVERSED),
        (spec.dim, Modifier::DIM),
    ] {
        match flag {
            Some(true) => s = s.add_modifier(m),
            Some(false) => s = s.remove_modifier(m),
            None => {}
        }
    }
    Ok(s)
}

impl Theme {
    /// Plain terminal colours: used only if no theme at all could be built.
    pub fn fallback() -> Theme {
        let d = Style::default();
        Theme {
            name: "plain".into(),
            text: d,
            muted: d.add_modifier(Modifier::DIM),
            title: d.add_modifier(Modifier::BOLD),
            border: d,
            border_focus: d.add_modifier(Modifier::BOLD),
            tab: d,
            tab_active: d.add_modifier(Modifier::REVERSED),
            selected: d.add_modifier(Modifier::REVERSED),
            header: d.add_modifier(Modifier::BOLD),
            status: d,
            key: d.add_modifier(Modifier::BOLD),
            error: d.add_modifier(Modifier::BOLD),
            warning: d,
            info: d,
            ok: d,
            inbound: d,
            outbound: d,
            dirty: d.add_modifier(Modifier::BOLD),
            input: d.add_modifier(Modifier::UNDERLINED),
            modal: d.add_modifier(Modifier::BOLD),
        }
    }

    fn slot(&mut self, key: &str) -> Option<&mut Style> {
        Some(match key {
            "text" => &mut self.text,
            "muted" => &mut self.muted,
            "title" => &mut self.title,
            "border" => &mut self.border,
            "border_focus" => &mut self.border_focus,
            "tab" => &mut self.tab,
            "tab_active" => &mut self.tab_active,
            "selected" => &mut self.selected,
            "header" => &mut self.header,
            "status" => &mut self.status,
            "key" => &mut self.key,
            "error" => &mut self.error,
            "warning" => &mut self.warning,
            "info" => &mut self.info,
            "ok" => &mut self.ok,
            "inbound" => &mut self.inbound,
            "outbound" => &mut self.outbound,
            "dirty" => &mut self.dirty,
            "input" => &mut self.input,
            "modal" => &mut self.modal,
            _ => return None,
        })
    }

    /// Applies a file's styles over this theme, field by field.
    fn overlay(mut self, name: &str, file: &ThemeFile) -> Result<Theme, String> {
        for (key, spec) in &file.styles {
            let Some(slot) = self.slot(key) else { continue };
            *slot = apply(name, key, *slot, spec)?;
        }
        Ok(self)
    }

    /// A built-in theme by name.
    pub fn built_in(name: &str) -> Result<Theme, String> {
        let (n, text) = BUILT_IN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            format!(
                "unknown theme '{name}' (built in: {})",
                built_in_names().join(", ")
            )
        })?;
        let file = parse_file(n, text)?;
        let mut t = Theme::fallback().overlay(n, &file)?;
        t.name = n.to_string();
        Ok(t)
    }

    /// A theme by name: `<dir>/NAME.ron` over the built-in of that name (or over its `base`, or dark).
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme, String> {
        let user = match user_dir.map(|d| d.join(format!("{name}.ron"))) {
            Some(path) if path.is_file() => {
                // Capped like every file a person gives fwtopo.
                let text = fwtopo::files::read_text(&path).map_err(|e| e.to_string())?;
                Some(parse_file(&path.display().to_string(), &text)?)
            }
            _ => None,
        };
        let is_built_in = BUILT_IN.iter().any(|(n, _)| *n == name);
        let Some(user) = user else {
            return Theme::built_in(name).map_err(|e| match user_dir {
                Some(d) if !is_built_in => {
                    format!("{e}; no {}", d.join(format!("{name}.ron")).display())
                }
                _ => e,
            });
        };
        let base = match &user.base {
            Some(b) => b.as_str(),
            None if is_built_in => name,
            None => "dark",
        };
        let mut t = Theme::built_in(base)?.overlay(name, &user)?;
        t.name = name.to_string();
        Ok(t)
    }

    /// Every theme to cycle through: the built-ins (each with the user's overrides) then the user's
    /// own; a broken user file is reported, not fatal.
    pub fn load_all(user_dir: Option<&Path>) -> (Vec<Theme>, Vec<String>) {
        let mut names: Vec<String> = built_in_names().iter().map(|s| s.to_string()).collect();
        if let Some(Ok(entries)) = user_dir.map(std::fs::read_dir) {
            let mut extra: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "ron"))
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .filter(|n| !names.contains(n))
                .collect();
            extra.sort();
            names.extend(extra);
        }
        let mut themes = Vec::new();
        let mut errors = Vec::new();
        for n in names {
            match Theme::load(&n, user_dir) {
                Ok(t) => themes.push(t),
                Err(e) => errors.push(e),
            }
        }
        (themes, errors)
    }

    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.error,
            Severity::Warning => self.warning,
            Severity::Info => self.info,
        }
    }
}

pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(n, _)| *n).collect()
}

/// A symbol per severity so findings read without colour.
pub fn severity_symbol(s: Severity) -> &'static str {
    match s {
        Severity::Error => "✖",
        Severity::Warning => "▲",
        Severity::Info => "•",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_themes_set_every_style() {
        for (name, text) in BUILT_IN {
            let file = parse_file(name, text).unwrap();
            for k in KEYS {
                assert!(file.styles.contains_key(*k), "{name} lacks {k}");
            }
            Theme::built_in(name).unwrap();
        }
    }

    #[test]
    fn user_file_overrides_one_field_of_one_style() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dark.ron"),
            r##"(styles: {"error": (fg: "#ff00ff")})"##,
        )
        .unwrap();
        let base = Theme::built_in("dark").unwrap();
        let t = Theme::load("dark", Some(dir.path())).unwrap();
        assert_eq!(t.error.fg, Some(Color::Rgb(255, 0, 255)));
        assert_eq!(t.error.add_modifier, base.error.add_modifier, "bold kept");
        assert_eq!(t.text, base.text);
    }

    #[test]
    fn user_theme_with_a_base_and_errors_that_say_where() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.ron"),
            r#"(base: "light", styles: {"ok": (bold: true)})"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("bad.ron"),
            r#"(styles: {"eror": (fg: "red")})"#,
        )
        .unwrap();
        let t = Theme::load("mine", Some(dir.path())).unwrap();
        assert_eq!(t.text, Theme::built_in("light").unwrap().text);
        let e = Theme::load("bad", Some(dir.path())).unwrap_err();
        assert!(e.contains("unknown style 'eror'"), "{e}");
        let e = Theme::load("nosuch", Some(dir.path())).unwrap_err();
        assert!(e.contains("unknown theme 'nosuch'"), "{e}");
        let (all, errors) = Theme::load_all(Some(dir.path()));
        assert_eq!(
            all.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["dark", "light", "high-contrast", "mine"]
        );
        assert_eq!(errors.len(), 1);
    }
}

//! The designer: an interactive face over the same core the command line uses.
//!
//! Elm architecture with effects: a key or mouse event becomes an [`action::Action`] through the
//! [`keymap`]; [`update::update`] changes the [`app::App`] and returns [`effect::Effect`]s; the loop
//! here performs them (files, clipboard) and feeds the results back as actions; [`view::draw`] draws
//! from `&App`. Terminal setup, the panic hook and the recovery copy live here, at the edge.

pub mod action;
pub mod app;
pub mod clipboard;
pub mod effect;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod theme;
pub mod update;
pub mod view;

#[cfg(test)]
mod tests;

use action::Action;
use anyhow::{Context, Result, bail};
use app::{App, ConfirmKind, Modal, StatusKind};
use effect::Effect;
use fwtopo::catalog::Catalog;
use fwtopo::files;
use fwtopo::topology::{self, Topology};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyCode, KeyEventKind, MouseButton,
    MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

/// The example plain `fwtopo` opens, so the first run shows real work.
pub const EXAMPLE: &str = include_str!("../../examples/mixed-site.ron");

/// Environment variable that replaces the data directory (where the recovery copy goes).
pub const DATA_DIR_ENV: &str = "FWTOPO_DATA_DIR";
/// Environment variable naming the theme when `--theme` is not given.
pub const THEME_ENV: &str = "FWTOPO_THEME";
/// Set in system tests only: F12 then panics, to prove the terminal and the work survive a crash.
pub const TEST_PANIC_ENV: &str = "FWTOPO_TEST_PANIC";

const RECOVERY_FILE: &str = "recovery.ron";
const RECOVERY_HEADER: &str = "// fwtopo recovery copy of: ";
const RECOVERY_NEW: &str = "// fwtopo recovery copy of a topology never saved";

/// How the designer was asked to start.
#[derive(Debug, Default)]
pub struct Options {
    /// A file to open, or to create on first save when it does not exist; `None` is the example.
    pub file: Option<PathBuf>,
    pub theme: Option<String>,
    pub data_dir: Option<PathBuf>,
}

/// The data directory: `--data-dir`, `$FWTOPO_DATA_DIR`, else the platform's (`~/.local/share/fwtopo`).
pub fn data_dir(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| {
        std::env::var_os(DATA_DIR_ENV)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    })
    .or_else(|| {
        directories::ProjectDirs::from("", "", "fwtopo").map(|p| p.data_dir().to_path_buf())
    })
}

/// Writes the recovery copy: the topology, with the file it belongs to in a first-line comment.
pub fn write_recovery(
    dir: &Path,
    original: Option<&Path>,
    t: &Topology,
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let head = match original {
        Some(p) => format!("{RECOVERY_HEADER}{}\n", p.display()),
        None => format!("{RECOVERY_NEW}\n"),
    };
    let path = dir.join(RECOVERY_FILE);
    files::write_atomic(&path, format!("{head}{}", topology::to_ron(t)).as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(path)
}

/// The recovery copy, if one is there: the file it belongs to, and its topology.
pub fn read_recovery(dir: &Path) -> Option<(Option<PathBuf>, Result<Topology, String>)> {
    let text = std::fs::read_to_string(dir.join(RECOVERY_FILE)).ok()?;
    let original = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(RECOVERY_HEADER))
        .map(PathBuf::from);
    Some((
        original,
        topology::from_ron(&text).map_err(|e| e.to_string()),
    ))
}

/// What the panic hook saves: the unsaved topology, refreshed by the loop after every edit.
struct Recovery {
    dir: PathBuf,
    original: Option<PathBuf>,
    topology: Topology,
}

static RECOVERY: Mutex<Option<Recovery>> = Mutex::new(None);

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

/// Restores the terminal before anything is printed, then keeps the unsaved work. Only for panics
/// of the designer's own thread: another thread's panic (a clipboard helper) does not end the
/// designer, so the terminal must stay as it is.
fn install_panic_hook() {
    let ui = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui {
            restore_terminal();
            // try_lock: the panic may have happened while the loop held the lock.
            if let Ok(guard) = RECOVERY.try_lock()
                && let Some(r) = guard.as_ref()
            {
                match write_recovery(&r.dir, r.original.as_deref(), &r.topology) {
                    Ok(p) => eprintln!(
                        "fwtopo: unsaved work kept in {}; it is offered at the next start",
                        p.display()
                    ),
                    Err(e) => eprintln!("fwtopo: could not keep the unsaved work: {e}"),
                }
            }
        }
        previous(info);
    }));
}

/// Loads themes: the named one must exist; broken user files only show in the status line.
fn themes(name: Option<String>) -> Result<(Vec<theme::Theme>, usize, Vec<String>)> {
    let dir = files::config_dir().map(|d| d.join("themes"));
    let (all, errors) = theme::Theme::load_all(dir.as_deref());
    let name = name.or_else(|| std::env::var(THEME_ENV).ok().filter(|s| !s.is_empty()));
    let index = match name {
        None => 0,
        Some(n) => match all.iter().position(|t| t.name == n) {
            Some(i) => i,
            None => bail!(
                "{}",
                theme::Theme::load(&n, dir.as_deref())
                    .err()
                    .unwrap_or_else(|| format!("theme {n} did not load"))
            ),
        },
    };
    Ok((all, index, errors))
}

/// Builds the app for the options (no terminal yet, so errors print normally).
fn start(opts: &Options, catalog: Catalog) -> Result<App> {
    let (themes, theme, theme_errors) = themes(opts.theme.clone())?;
    let mut status = None;
    let (topology, path, new) = match &opts.file {
        Some(path) if path.exists() => {
            let t = files::load_topology(path)?;
            let problems = topology::check(&t, &catalog);
            if !problems.is_empty() {
                let lines: Vec<String> = problems
                    .iter()
                    .map(|p| format!("{}: {p}", path.display()))
                    .collect();
                bail!("{}", lines.join("\n"));
            }
            (t, Some(path.clone()), false)
        }
        Some(path) => {
            let t = fwtopo::starter::topology(&catalog, None).map_err(anyhow::Error::msg)?;
            status = Some(format!("new topology: s saves it to {}", path.display()));
            (t, Some(path.clone()), true)
        }
        None => {
            let t = topology::from_ron(EXAMPLE).context("the built-in example")?;
            status = Some("the built-in example: S saves a copy, O opens a file".to_string());
            (t, None, false)
        }
    };
    let mut app = App::new(catalog, topology, path, themes, theme);
    if new {
        app.mark_unsaved();
    }
    if let Some(s) = status {
        app.set_status(StatusKind::Info, s);
    }
    if !theme_errors.is_empty() {
        app.set_status(StatusKind::Warning, theme_errors.join("; "));
    }
    Ok(app)
}

/// Runs the designer until the operator quits.
pub fn run(opts: Options) -> Result<ExitCode> {
    // Everything that can fail on bad input fails here, before the terminal changes.
    let catalog = files::load_catalog().context("loading the catalog")?;
    let mut app = start(&opts, catalog)?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("the designer needs a terminal; in scripts use `fwtopo rules`, `check` or `export`");
    }
    let data = data_dir(opts.data_dir.clone());
    if let Some((original, _)) = data.as_deref().and_then(read_recovery) {
        app.modal = Some(Modal::Confirm(ConfirmKind::Recovery { original }));
    }

    install_panic_hook();
    enable_raw_mode().context("switching the terminal to raw mode")?;
    let mut stdout = std::io::stdout();
    if let Err(e) = execute!(stdout, EnterAlternateScreen, EnableMouseCapture) {
        restore_terminal();
        return Err(e.into());
    }
    let result = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .map_err(anyhow::Error::from)
        .and_then(|mut terminal| event_loop(&mut terminal, &mut app, data.as_deref()));
    restore_terminal();
    let _ = std::panic::take_hook();
    if let Ok(mut g) = RECOVERY.lock() {
        *g = None;
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// Performs effects for the loop: files, clipboard, quitting.
struct Performer<'a> {
    data: Option<&'a Path>,
    over_ssh: bool,
    system: clipboard::System,
}

impl Performer<'_> {
    fn perform(&mut self, app: &mut App, effect: Effect) -> Option<Action> {
        match effect {
            Effect::Save {
                path,
                text,
                overwrite,
            } => {
                if !overwrite && path.exists() {
                    return Some(Action::WouldOverwrite(path));
                }
                let result = files::write_atomic(&path, text.as_bytes()).map_err(|e| e.to_string());
                Some(Action::Saved { path, result })
            }
            Effect::Load { path } => {
                let result = files::load_topology(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| {
                        let problems = topology::check(&t, &app.catalog);
                        if problems.is_empty() {
                            Ok(t)
                        } else {
                            Err(problems
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join("; "))
                        }
                    });
                Some(Action::Loaded { path, result })
            }
            Effect::Copy { text, what } => {
                let mut osc = clipboard::Osc52 {
                    out: std::io::stdout(),
                };
                let outcome = clipboard::copy(&text, self.over_ssh, &mut self.system, &mut osc);
                Some(Action::Copied { what, outcome })
            }
            Effect::WriteFile { path, text } => {
                let result = files::write_atomic(&path, text.as_bytes()).map_err(|e| e.to_string());
                Some(Action::Written { path, result })
            }
            Effect::LoadRecovery => {
                let dir = self.data?;
                let (original, result) = read_recovery(dir)?;
                if result.is_ok() {
                    let _ = std::fs::remove_file(dir.join(RECOVERY_FILE));
                }
                Some(Action::Recovered { original, result })
            }
            Effect::DiscardRecovery => {
                if let Some(dir) = self.data {
                    let _ = std::fs::remove_file(dir.join(RECOVERY_FILE));
                }
                None
            }
            Effect::Quit => {
                app.quit = true;
                None
            }
        }
    }
}

/// Updates the app with an action and everything its effects lead to.
fn dispatch(app: &mut App, action: Action, performer: &mut Performer) {
    let mut queue = vec![action];
    while let Some(a) = queue.pop() {
        for e in update::update(app, a) {
            if let Some(next) = performer.perform(app, e) {
                queue.push(next);
            }
        }
    }
}

/// A terminal event as an action (through the keymap for keys).
fn to_action(app: &App, ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            keymap::lookup(keymap::context(app), &k)
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                col: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollUp => Some(Action::ScrollUp {
                col: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown {
                col: m.column,
                row: m.row,
            }),
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

/// Keeps the panic hook's copy of unsaved work current.
fn sync_recovery(app: &App, data: Option<&Path>, last: &mut Option<u64>) {
    if *last == Some(app.version) {
        return;
    }
    *last = Some(app.version);
    let Ok(mut g) = RECOVERY.lock() else { return };
    *g = match data {
        Some(dir) if app.dirty() => Some(Recovery {
            dir: dir.to_path_buf(),
            original: app.path.clone(),
            topology: app.topology.clone(),
        }),
        _ => None,
    };
}

fn event_loop<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    app: &mut App,
    data: Option<&Path>,
) -> Result<()> {
    let mut performer = Performer {
        data,
        over_ssh: clipboard::over_ssh(|v| std::env::var(v).ok()),
        system: clipboard::System::default(),
    };
    let test_panic = std::env::var_os(TEST_PANIC_ENV).is_some();
    let size = terminal.size()?;
    dispatch(app, Action::Resize(size.width, size.height), &mut performer);
    let mut synced = None;
    while !app.quit {
        sync_recovery(app, data, &mut synced);
        terminal.draw(|f| view::draw(f, app))?;
        // One event, then whatever else is already queued, so held keys never lag behind the screen.
        let mut events = vec![event::read()?];
        while events.len() < 64 && event::poll(Duration::ZERO)? {
            events.push(event::read()?);
        }
        for ev in events {
            if test_panic && matches!(&ev, Event::Key(k) if k.code == KeyCode::F(12)) {
                sync_recovery(app, data, &mut synced);
                panic!("test panic ({TEST_PANIC_ENV})");
            }
            if let Some(a) = to_action(app, ev) {
                dispatch(app, a, &mut performer);
            }
            if app.quit {
                break;
            }
        }
    }
    Ok(())
}

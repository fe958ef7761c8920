//! The designer: an interactive face over the same core the command line uses.
//!
//! Elm architecture with effects: a key or mouse event becomes an [`action::Action`] through the
//! [`keymap`]; [`update::update`] changes the [`app::App`] and returns [`effect::Effect`]s; the loop
//! here performs them (files, clipboard) and feeds the results back as actions; [`view::draw`] draws
//! from `&App`. Terminal setup, the panic hook and signals live here, at the edge; the recovery copy in
//! [`recovery`].
//!
//! The recovery copy: while the topology has unsaved changes, the loop keeps a copy of it in the data
//! directory (`recovery-PID.ron`, first line naming the file it belongs to), written atomically on
//! the loop tick after an edit and at most once per [`recovery::RECOVERY_INTERVAL`], so a SIGKILL or a lost
//! SSH session costs at most the last second of work. A panic, SIGTERM, SIGHUP, SIGINT or SIGQUIT
//! writes the latest copy at once. Saving, or quitting on purpose, removes it. At the next start a
//! copy whose designer is no longer running is offered (the one of the file being opened first).

pub mod action;
pub mod app;
pub mod changes;
pub mod clipboard;
pub mod custom_role;
pub mod detail;
pub mod effect;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod modal;
pub mod ownership;
mod recovery;
pub mod theme;
pub mod tmux_buffer;
pub mod update;
pub mod view;
pub mod why;

#[cfg(test)]
mod tests;

use action::Action;
use anyhow::{Context, Result, bail};
use app::{App, ConfirmKind, Modal, StatusKind};
use effect::{Effect, Replace};
use fwtopo::catalog::Catalog;
use fwtopo::files;
use fwtopo::topology;
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
use recovery::*;
pub use recovery::{read_recovery, write_recovery};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The example plain `fwtopo` opens, so the first run shows real work.
pub const EXAMPLE: &str = include_str!("../../examples/mixed-site.ron");

/// Environment variable that replaces the data directory (where the recovery copy goes).
pub const DATA_DIR_ENV: &str = "FWTOPO_DATA_DIR";
/// Environment variable naming the theme when `--theme` is not given.
pub const THEME_ENV: &str = "FWTOPO_THEME";
/// Set in system tests only: F12 then panics, to prove the terminal and the work survive a crash.
pub const TEST_PANIC_ENV: &str = "FWTOPO_TEST_PANIC";

/// How the designer was asked to start.
#[derive(Debug, Default)]
pub struct Options {
    /// A file to open, or to create on first save when it does not exist; `None` is the example.
    pub file: Option<PathBuf>,
    pub theme: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// The day expiry findings are reckoned from; `None` reports none.
    pub today: Option<fwtopo::date::Date>,
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
            if let Some(message) = keep_unsaved_work(RECOVERY.try_lock().ok()) {
                // Not eprintln: it panics when stderr is gone, and a panic in the hook aborts.
                let _ = writeln!(std::io::stderr(), "{message}");
            }
        }
        previous(info);
    }));
}

/// SIGTERM, SIGHUP (the terminal or SSH session went away), SIGINT and SIGQUIT end the designer
/// like a panic does: terminal restored, the latest unsaved work kept, exit status 128 + signal.
/// A thread waits for them (signal-hook's self-pipe), so nothing runs inside a signal handler.
#[cfg(unix)]
fn watch_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGHUP, SIGINT, SIGQUIT, SIGTERM])
    else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let Some(signal) = signals.forever().next() else {
                return;
            };
            // The work first (no terminal needed); should the terminal hang, exit anyway.
            let message =
                keep_unsaved_work(Some(RECOVERY.lock().unwrap_or_else(|e| e.into_inner())));
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(2));
                std::process::exit(128 + signal);
            });
            // Holding stdout keeps the loop from drawing over the restored screen until the exit.
            let _terminal = std::io::stdout().lock();
            restore_terminal();
            // Not eprintln: after SIGHUP the terminal is gone and it would panic, never exiting.
            if let Some(message) = message {
                let _ = writeln!(std::io::stderr(), "{message}");
            }
            std::process::exit(128 + signal);
        });
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
    let (topology, disk, path, new, status) = match &opts.file {
        Some(path) if path.exists() => {
            // A file that does not parse (file:line:col) or holds unusable values refuses here.
            // What only the catalog check finds (an unknown role, `ftp: "maybe"`) opens, shown
            // as findings, so the designer can fix it.
            let (t, disk) = files::open_topology(path)?;
            // The check runs with the derivation; `App::install` says in the status line what it
            // found.
            (t, Some(disk), Some(path.clone()), false, None)
        }
        Some(path) => {
            let t = fwtopo::starter::topology(&catalog, None).map_err(anyhow::Error::msg)?;
            let status = format!("new topology: s saves it to {}", path.display());
            (
                t,
                None,
                Some(path.clone()),
                true,
                Some((StatusKind::Info, status)),
            )
        }
        None => {
            let t = topology::from_ron(EXAMPLE).context("the built-in example")?;
            let status = "the built-in example: S saves a copy, O opens a file".to_string();
            (t, None, None, false, Some((StatusKind::Info, status)))
        }
    };
    // Derived while the first frame is drawn (`first_frame`).
    let mut app = App::deriving(catalog, topology, path, themes, theme);
    app.today = opts.today;
    app.disk = disk;
    if new {
        app.mark_unsaved();
        // Nothing on disk yet: every rule is new.
        if let Some(p) = &app.path {
            let since = format!("against nothing: {} is not saved yet", p.display());
            app.set_baseline_other(None, since);
        }
    }
    if let Some((kind, s)) = status {
        app.set_status(kind, s);
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
    let offered = data
        .as_deref()
        .and_then(|d| recovery_to_offer(d, opts.file.as_deref()));
    if let Some((_, original)) = &offered {
        app.modal = Some(Modal::Confirm(ConfirmKind::Recovery {
            original: original.clone(),
        }));
    }
    let own = data.as_deref().map(own_recovery_file);

    install_panic_hook();
    #[cfg(unix)]
    watch_signals();
    enable_raw_mode().context("switching the terminal to raw mode")?;
    let mut stdout = std::io::stdout();
    if let Err(e) = execute!(stdout, EnterAlternateScreen, EnableMouseCapture) {
        restore_terminal();
        return Err(e.into());
    }
    let result = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .map_err(anyhow::Error::from)
        .and_then(|mut terminal| {
            let performer = Performer {
                over_ssh: clipboard::over_ssh(|v| std::env::var(v).ok()),
                system: clipboard::System::default(),
                data: data.clone(),
                offered: offered.map(|(p, _)| p),
                own: own.clone(),
            };
            event_loop(&mut terminal, &mut app, own.as_deref(), performer)
        });
    restore_terminal();
    let _ = std::panic::take_hook();
    if let Ok(mut g) = RECOVERY.lock() {
        *g = None;
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// Performs effects for the loop: files, clipboard, quitting.
struct Performer {
    over_ssh: bool,
    system: clipboard::System,
    /// Where copies are kept (`copies/`), beside the recovery copies.
    data: Option<PathBuf>,
    /// The recovery copy offered at start, until it is taken over or deleted.
    offered: Option<PathBuf>,
    /// This designer's own recovery file.
    own: Option<PathBuf>,
}

impl Performer {
    fn perform(&mut self, app: &mut App, effect: Effect) -> Option<Action> {
        match effect {
            Effect::Save {
                path,
                text,
                replace,
            } => {
                match &replace {
                    Replace::Nothing if path.exists() => {
                        return Some(Action::WouldOverwrite(path));
                    }
                    // A file that cannot be read to compare is left to the write, which says why
                    // it fails.
                    Replace::AsKnown(known) => {
                        if let Ok(now) = files::on_disk(&path)
                            && !files::unchanged_since(known.as_ref(), now.as_ref())
                        {
                            return Some(Action::ChangedOnDisk(path));
                        }
                    }
                    _ => {}
                }
                let result = files::write_atomic(&path, text.as_bytes())
                    .map(|()| files::OnDisk::of(text.as_bytes()))
                    .map_err(|e| e.to_string());
                Some(Action::Saved { path, result })
            }
            Effect::Load { path } => {
                // As at start: catalog-check problems open, shown as findings.
                let result = files::open_topology(&path).map_err(|e| e.to_string());
                Some(Action::Loaded { path, result })
            }
            Effect::Copy { text, what } => {
                let mut osc = clipboard::Osc52 {
                    out: std::io::stdout(),
                };
                let outcome = clipboard::copy(&text, self.over_ssh, &mut self.system, &mut osc);
                let in_tmux = clipboard::Multiplexer::detect(|v| std::env::var(v).ok())
                    == Some(clipboard::Multiplexer::Tmux);
                let tmux = in_tmux.then(|| {
                    use tmux_buffer::TmuxBuffer;
                    tmux_buffer::Tmux::default().load(&text)
                });
                let name = app
                    .pending_copy
                    .as_ref()
                    .map_or_else(|| "copy.txt".to_string(), |(_, n)| n.clone());
                let kept = self
                    .data
                    .as_deref()
                    .map(|d| clipboard::keep_copy(d, &name, &text));
                let extras = clipboard::CopyExtras { tmux, kept };
                Some(Action::Copied {
                    what,
                    outcome,
                    extras,
                })
            }
            Effect::WriteFile { path, text } => {
                let result = files::write_atomic(&path, text.as_bytes()).map_err(|e| e.to_string());
                Some(Action::Written { path, result })
            }
            Effect::LoadRecovery => {
                let file = self.offered.take()?;
                let Some((original, result)) = read_recovery(&file) else {
                    return Some(Action::Recovered {
                        original: None,
                        result: Err(format!("{}: gone", file.display())),
                        disk: None,
                        baseline: None,
                    });
                };
                if result.is_ok() {
                    // Taken over: it stays on disk, as this designer's copy, until the work is
                    // saved (a rename, so there is no moment without a copy).
                    let moved = self
                        .own
                        .as_deref()
                        .is_some_and(|own| std::fs::rename(&file, own).is_ok());
                    if !moved {
                        let _ = std::fs::remove_file(&file);
                    }
                }
                // The original as it is now: a save asks before replacing what changes later.
                let disk = original
                    .as_deref()
                    .and_then(|p| files::on_disk(p).ok().flatten());
                let baseline = original
                    .as_deref()
                    .filter(|p| p.exists())
                    .and_then(|p| files::open_topology(p).ok())
                    .map(|(t, _)| Box::new(t));
                Some(Action::Recovered {
                    original,
                    result,
                    disk,
                    baseline,
                })
            }
            Effect::DiscardRecovery => {
                if let Some(file) = self.offered.take() {
                    let _ = std::fs::remove_file(file);
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

fn event_loop<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    app: &mut App,
    recovery: Option<&Path>,
    mut performer: Performer,
) -> Result<()> {
    let mut autosave = recovery.map(|f| Autosave::new(f.to_path_buf()));
    let result = run_loop(terminal, app, recovery, &mut performer, autosave.as_mut());
    let Some(autosave) = autosave.as_mut() else {
        return result;
    };
    match result {
        // Quit: the work is saved, or the operator chose to discard it.
        Ok(()) => {
            autosave.remove();
            Ok(())
        }
        // The terminal failed (a closed session): keep the newest work.
        Err(e) if app.dirty() => {
            let kept = write_recovery(&autosave.file, app.path.as_deref(), &app.topology);
            Err(match kept {
                Ok(()) => e.context(format!(
                    "unsaved work kept in {}; it is offered at the next start",
                    autosave.file.display()
                )),
                Err(k) => e.context(format!("could not keep the unsaved work: {k}")),
            })
        }
        Err(e) => Err(e),
    }
}

/// Draws the first frame while the plan is derived on another thread, then installs it: a large
/// site shows at once, and its rules a derivation later. Keys pressed meanwhile wait in the
/// terminal.
fn first_frame<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    app: &mut App,
) -> Result<()> {
    let (catalog, topology, today) = (&app.catalog, &app.topology, app.today);
    let (drawn, derived) = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .spawn_scoped(scope, move || app::derived(catalog, topology, today));
        let drawn = terminal.draw(|f| view::draw(f, app)).map(|_| ());
        (drawn, worker.ok().and_then(|w| w.join().ok()))
    });
    // No thread (or it panicked): derive here, where a panic reaches the hook.
    let (plan, problems) =
        derived.unwrap_or_else(|| app::derived(&app.catalog, &app.topology, app.today));
    app.install(plan, problems);
    drawn?;
    Ok(())
}

fn run_loop<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    app: &mut App,
    recovery: Option<&Path>,
    performer: &mut Performer,
    mut autosave: Option<&mut Autosave>,
) -> Result<()> {
    let test_panic = std::env::var_os(TEST_PANIC_ENV).is_some();
    let size = terminal.size()?;
    dispatch(app, Action::Resize(size.width, size.height), performer);
    if app.deriving {
        first_frame(terminal, app)?;
    }
    let mut synced = None;
    while !app.quit {
        sync_recovery(app, recovery, &mut synced);
        terminal.draw(|f| view::draw(f, app))?;
        // After the frame, so the write never delays what a key press shows.
        let mut wait = None;
        if let Some(a) = autosave.as_deref_mut() {
            let (w, failed) = a.tick(app, Instant::now());
            wait = w;
            if let Some(e) = failed {
                app.set_status(StatusKind::Warning, format!("no recovery copy: {e}"));
                terminal.draw(|f| view::draw(f, app))?;
            }
        }
        // One event, then whatever else is already queued, so held keys never lag behind the screen.
        let first = match wait {
            None => event::read()?,
            Some(d) if event::poll(d)? => event::read()?,
            // The recovery write that was held back is due now.
            Some(_) => continue,
        };
        let mut events = vec![first];
        while events.len() < 64 && event::poll(Duration::ZERO)? {
            events.push(event::read()?);
        }
        for ev in events {
            if test_panic && matches!(&ev, Event::Key(k) if k.code == KeyCode::F(12)) {
                sync_recovery(app, recovery, &mut synced);
                panic!("test panic ({TEST_PANIC_ENV})");
            }
            if let Some(a) = to_action(app, ev) {
                dispatch(app, a, performer);
            }
            if app.quit {
                break;
            }
        }
    }
    Ok(())
}

//! The designer: an interactive face over the same core the command line uses.
//!
//! Elm architecture with effects: a key or mouse event becomes an [`action::Action`] through the
//! [`keymap`]; [`update::update`] changes the [`app::App`] and returns [`effect::Effect`]s; the loop
//! here performs them (files, clipboard) and feeds the results back as actions; [`view::draw`] draws
//! from `&App`. Terminal setup, the panic hook, signals and the recovery copy live here, at the edge.
//!
//! The recovery copy: while the topology has unsaved changes, the loop keeps a copy of it in the data
//! directory (`recovery-PID.ron`, first line naming the file it belongs to), written atomically on
//! the loop tick after an edit and at most once per [`RECOVERY_INTERVAL`], so a SIGKILL or a lost
//! SSH session costs at most the last second of work. A panic, SIGTERM, SIGHUP, SIGINT or SIGQUIT
//! writes the latest copy at once. Saving, or quitting on purpose, removes it. At the next start a
//! copy whose designer is no longer running is offered (the one of the file being opened first).

pub mod action;
pub mod app;
pub mod clipboard;
pub mod custom_role;
pub mod detail;
pub mod effect;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod modal;
pub mod ownership;
pub mod theme;
pub mod tmux_buffer;
pub mod update;
pub mod view;

#[cfg(test)]
mod tests;

use action::Action;
use anyhow::{Context, Result, bail};
use app::{App, ConfirmKind, Modal, StatusKind};
use effect::{Effect, Replace};
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
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// The example plain `fwtopo` opens, so the first run shows real work.
pub const EXAMPLE: &str = include_str!("../../examples/mixed-site.ron");

/// Environment variable that replaces the data directory (where the recovery copy goes).
pub const DATA_DIR_ENV: &str = "FWTOPO_DATA_DIR";
/// Environment variable naming the theme when `--theme` is not given.
pub const THEME_ENV: &str = "FWTOPO_THEME";
/// Set in system tests only: F12 then panics, to prove the terminal and the work survive a crash.
pub const TEST_PANIC_ENV: &str = "FWTOPO_TEST_PANIC";

/// The longest the recovery copy on disk lags behind the last edit, and the shortest time between
/// two writes of it.
pub const RECOVERY_INTERVAL: Duration = Duration::from_secs(1);

const RECOVERY_PREFIX: &str = "recovery";
const RECOVERY_HEADER: &str = "// fwtopo recovery copy of: ";
const RECOVERY_NEW: &str = "// fwtopo recovery copy of a topology never saved";

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

/// Writes a recovery copy to `file`: the topology, with the file it belongs to in a first-line
/// comment (made absolute, so a start from another directory finds the same file). The copy holds
/// the whole design, so only its owner may read it (`0600`), in a data directory created `0700`.
pub fn write_recovery(file: &Path, original: Option<&Path>, t: &Topology) -> Result<(), String> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::create_private_dir(dir).map_err(|e| e.to_string())?;
    }
    let head = match original {
        Some(p) => format!(
            "{RECOVERY_HEADER}{}\n",
            std::path::absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
        ),
        None => format!("{RECOVERY_NEW}\n"),
    };
    files::write_private(file, format!("{head}{}", topology::to_ron(t)).as_bytes())
        .map_err(|e| e.to_string())
}

/// A recovery copy, if `file` is there: the file it belongs to, and its topology.
pub fn read_recovery(file: &Path) -> Option<(Option<PathBuf>, Result<Topology, String>)> {
    let text = files::read_text(file).ok()?;
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

/// Who wrote a recovery file, from its name: `recovery-PID.ron` or `recovery-PID-N.ron` give
/// `Some(Some(PID))`, `recovery.ron` (earlier versions) `Some(None)`; other names `None`.
fn recovery_owner(name: &str) -> Option<Option<u32>> {
    let stem = name.strip_prefix(RECOVERY_PREFIX)?.strip_suffix(".ron")?;
    if stem.is_empty() {
        return Some(None);
    }
    let rest = stem.strip_prefix('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let pid = match rest.split_once('-') {
        Some((pid, n)) if digits(n) => pid,
        Some(_) => return None,
        None => rest,
    };
    digits(pid).then(|| pid.parse().ok()).flatten().map(Some)
}

/// This designer's recovery file in `dir`: `recovery-PID.ron`, or `recovery-PID-N.ron` when a copy
/// left by an earlier process with the same id is still there (it must not be overwritten).
fn own_recovery_file(dir: &Path) -> PathBuf {
    let pid = std::process::id();
    (0..100)
        .map(|n| match n {
            0 => dir.join(format!("{RECOVERY_PREFIX}-{pid}.ron")),
            n => dir.join(format!("{RECOVERY_PREFIX}-{pid}-{n}.ron")),
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{RECOVERY_PREFIX}-{pid}.ron")))
}

/// The program name and state of a process, from `/proc/PID/stat` (`PID (name) S …`).
fn proc_stat(pid: &str) -> Option<(String, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, tail) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_string();
    Some((name, tail.trim_start().chars().next()?))
}

/// Whether `pid` is another designer still running: its recovery copy is its own safety net, not
/// work to offer. Running means not a zombie, with this program's name (a process id reused by
/// another program after a reboot does not hide a copy). Without `/proc` nothing counts as running.
fn other_designer_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    match (proc_stat("self"), proc_stat(&pid.to_string())) {
        (Some((own, _)), Some((name, state))) => name == own && !matches!(state, 'Z' | 'X'),
        _ => false,
    }
}

/// The recovery copy to offer at start, and the file it belongs to: one whose designer is not
/// running any more, the copy of `file` first, else the newest.
fn recovery_to_offer(dir: &Path, file: Option<&Path>) -> Option<(PathBuf, Option<PathBuf>)> {
    let want = file.and_then(|f| std::path::absolute(f).ok());
    let mut found: Vec<(bool, SystemTime, PathBuf, Option<PathBuf>)> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            recovery_owner(&e.file_name().to_string_lossy())
                .is_some_and(|pid| pid.is_none_or(|p| !other_designer_running(p)))
        })
        .filter_map(|e| {
            let path = e.path();
            let (original, _) = read_recovery(&path)?;
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let mine = original.is_some() && original == want;
            Some((mine, modified, path, original))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse((f.0, f.1)));
    found.into_iter().next().map(|(_, _, p, o)| (p, o))
}

/// What the panic hook and the signal handler save: the unsaved topology, refreshed by the loop
/// after every batch of events.
struct Recovery {
    file: PathBuf,
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

/// Writes the loop's latest copy of unsaved work to its recovery file; what to tell the operator.
fn keep_unsaved_work(guard: Option<MutexGuard<'_, Option<Recovery>>>) -> Option<String> {
    let r = guard.as_ref()?.as_ref()?;
    Some(
        match write_recovery(&r.file, r.original.as_deref(), &r.topology) {
            Ok(()) => format!(
                "fwtopo: unsaved work kept in {}; it is offered at the next start",
                r.file.display()
            ),
            Err(e) => format!("fwtopo: could not keep the unsaved work: {e}"),
        },
    )
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
                Some(Action::Recovered {
                    original,
                    result,
                    disk,
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

/// Keeps the panic hook's (and signal handler's) copy of unsaved work current.
fn sync_recovery(app: &App, file: Option<&Path>, last: &mut Option<(u64, bool)>) {
    let key = (app.version, app.dirty());
    if *last == Some(key) {
        return;
    }
    *last = Some(key);
    let Ok(mut g) = RECOVERY.lock() else { return };
    *g = match file {
        Some(file) if app.dirty() => Some(Recovery {
            file: file.to_path_buf(),
            original: app.path.clone(),
            topology: app.topology.clone(),
        }),
        _ => None,
    };
}

/// What the loop does about the recovery copy on disk at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Nothing,
    Write,
    Remove,
    /// A write is due, but not before this much time has passed since the last one.
    WriteIn(Duration),
}

/// Keeps the recovery copy on disk in step with unsaved work, from the loop: written on the tick
/// after an edit, at most once per [`RECOVERY_INTERVAL`] (the last edit always gets written, at the
/// latest one interval after the write before it), removed when nothing is unsaved.
struct Autosave {
    file: PathBuf,
    /// The version and file of the work the copy on disk holds; `None` when there is no copy.
    on_disk: Option<(u64, Option<PathBuf>)>,
    last_write: Option<Instant>,
    /// The last write failed: reported once, retried every interval.
    failing: bool,
}

impl Autosave {
    fn new(file: PathBuf) -> Autosave {
        Autosave {
            file,
            on_disk: None,
            last_write: None,
            failing: false,
        }
    }

    /// The step for `unsaved` (the version and file of unsaved work; `None` when all is saved).
    fn step(&self, unsaved: Option<(u64, Option<&Path>)>, now: Instant) -> Step {
        let Some((version, path)) = unsaved else {
            return if self.on_disk.is_some() {
                Step::Remove
            } else {
                Step::Nothing
            };
        };
        if self
            .on_disk
            .as_ref()
            .is_some_and(|(v, p)| *v == version && p.as_deref() == path)
        {
            return Step::Nothing;
        }
        match self.last_write.map(|t| now.saturating_duration_since(t)) {
            Some(since) if since < RECOVERY_INTERVAL => Step::WriteIn(RECOVERY_INTERVAL - since),
            _ => Step::Write,
        }
    }

    /// Does this tick's step; returns how long the loop may wait for input before the next write,
    /// and the error of a write that failed (once, until one succeeds again).
    fn tick(&mut self, app: &App, now: Instant) -> (Option<Duration>, Option<String>) {
        let unsaved = app.dirty().then_some((app.version, app.path.as_deref()));
        match self.step(unsaved, now) {
            Step::Nothing => (None, None),
            Step::WriteIn(wait) => (Some(wait), None),
            Step::Remove => {
                self.remove();
                (None, None)
            }
            Step::Write => {
                self.last_write = Some(now);
                match write_recovery(&self.file, app.path.as_deref(), &app.topology) {
                    Ok(()) => {
                        self.on_disk = Some((app.version, app.path.clone()));
                        self.failing = false;
                        (None, None)
                    }
                    Err(e) => {
                        let first = !std::mem::replace(&mut self.failing, true);
                        (Some(RECOVERY_INTERVAL), first.then_some(e))
                    }
                }
            }
        }
    }

    fn remove(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        self.on_disk = None;
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

#[cfg(test)]
mod recovery_tests {
    use super::*;

    fn autosave() -> Autosave {
        Autosave::new(PathBuf::from("/nonexistent/recovery-1.ron"))
    }

    #[test]
    fn the_copy_follows_edits_at_most_once_an_interval_and_always_the_last() {
        let mut a = autosave();
        let t0 = Instant::now();
        let file = Some(Path::new("site.ron"));
        assert_eq!(a.step(None, t0), Step::Nothing, "nothing unsaved");
        // The first edit is written on the next tick.
        assert_eq!(a.step(Some((1, file)), t0), Step::Write);
        a.on_disk = Some((1, file.map(Path::to_path_buf)));
        a.last_write = Some(t0);
        assert_eq!(a.step(Some((1, file)), t0), Step::Nothing, "already there");
        // The next edit waits for the rest of the interval, then is written.
        let ms = Duration::from_millis;
        assert_eq!(
            a.step(Some((2, file)), t0 + ms(300)),
            Step::WriteIn(ms(700))
        );
        assert_eq!(a.step(Some((2, file)), t0 + ms(1000)), Step::Write);
        assert_eq!(a.step(Some((2, file)), t0 + ms(5000)), Step::Write);
        // A new file name (save as failed half way, a recovered copy) is a change too.
        assert_eq!(
            a.step(Some((1, Some(Path::new("other.ron")))), t0 + ms(2000)),
            Step::Write
        );
        // Saved, or undone to the saved state: the copy goes.
        assert_eq!(a.step(None, t0 + ms(10)), Step::Remove);
    }

    #[test]
    fn tick_writes_and_removes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data/recovery-1.ron");
        let mut a = Autosave::new(file.clone());
        let mut app = crate::tui::tests::example_app();
        let now = Instant::now();
        assert_eq!(a.tick(&app, now), (None, None));
        assert!(!file.exists(), "nothing unsaved, nothing written");
        app.mark_unsaved();
        assert_eq!(a.tick(&app, now), (None, None));
        let (original, t) = read_recovery(&file).unwrap();
        // The example app's file, made absolute.
        let want = std::path::absolute(app.path.as_deref().unwrap()).unwrap();
        assert_eq!(original, Some(want));
        assert_eq!(t.unwrap(), app.topology);
        app.version += 1;
        assert_eq!(
            a.tick(&app, now + Duration::from_millis(400)),
            (Some(Duration::from_millis(600)), None)
        );
        app.saved_version = Some(app.version);
        a.tick(&app, now + Duration::from_millis(500));
        assert!(!file.exists(), "saved: the copy is gone");
        // A write that fails is reported once, and retried.
        let mut broken = Autosave::new(dir.path().join("data/recovery-1.ron/x"));
        std::fs::write(&file, b"a file where a directory is needed").unwrap();
        app.mark_unsaved();
        let (wait, error) = broken.tick(&app, now);
        assert_eq!(wait, Some(RECOVERY_INTERVAL));
        assert!(error.is_some());
        let later = now + RECOVERY_INTERVAL;
        assert_eq!(broken.tick(&app, later), (Some(RECOVERY_INTERVAL), None));
    }

    /// A recovery copy holds the whole design (addresses, networks): only its owner may read it,
    /// whatever the mode of the file it is a copy of, and in a data directory fwtopo creates private.
    #[cfg(unix)]
    #[test]
    fn recovery_copies_and_the_data_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("share/fwtopo");
        let file = data.join("recovery-1.ron");
        let t = topology::from_ron(EXAMPLE).unwrap();
        write_recovery(&file, Some(Path::new("site.ron")), &t).unwrap();
        assert_eq!(mode(&data), 0o700, "the data directory fwtopo created");
        assert_eq!(mode(&dir.path().join("share")), 0o700);
        assert_eq!(mode(&file), 0o600);
        // A copy an earlier version left readable to all becomes private when rewritten.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_recovery(&file, None, &t).unwrap();
        assert_eq!(mode(&file), 0o600);
        // A data directory the operator made is left as it is.
        let own = dir.path().join("mine");
        std::fs::create_dir(&own).unwrap();
        std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o750)).unwrap();
        write_recovery(&own.join("recovery-2.ron"), None, &t).unwrap();
        assert_eq!(mode(&own), 0o750);
        assert_eq!(mode(&own.join("recovery-2.ron")), 0o600);
    }

    #[test]
    fn recovery_file_names() {
        assert_eq!(recovery_owner("recovery.ron"), Some(None));
        assert_eq!(recovery_owner("recovery-42.ron"), Some(Some(42)));
        assert_eq!(recovery_owner("recovery-42-3.ron"), Some(Some(42)));
        for other in [
            "recovery-.ron",
            "recovery-x.ron",
            "recovery-42-x.ron",
            "recovery-42.ron.tmp",
            ".recovery-42.ron.42.0.tmp",
            "recoveryx.ron",
            "site.ron",
        ] {
            assert_eq!(recovery_owner(other), None, "{other}");
        }
    }

    #[test]
    fn an_old_copy_with_this_process_id_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let pid = std::process::id();
        assert_eq!(
            own_recovery_file(dir.path()),
            dir.path().join(format!("recovery-{pid}.ron"))
        );
        std::fs::write(dir.path().join(format!("recovery-{pid}.ron")), "x").unwrap();
        assert_eq!(
            own_recovery_file(dir.path()),
            dir.path().join(format!("recovery-{pid}-1.ron"))
        );
    }

    #[test]
    fn the_copy_of_the_file_being_opened_is_offered_first() {
        let dir = tempfile::tempdir().unwrap();
        let t = topology::from_ron(EXAMPLE).unwrap();
        let a = dir.path().join("a.ron");
        let b = dir.path().join("b.ron");
        // Process ids that run no designer: a finished child's, and one no system hands out.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        let dead = child.id();
        assert!(!other_designer_running(dead));
        assert!(!other_designer_running(std::process::id()));
        let copy_a = dir.path().join(format!("recovery-{dead}.ron"));
        let copy_b = dir.path().join("recovery-99999999.ron");
        write_recovery(&copy_a, Some(&a), &t).unwrap();
        // Written later, so newer.
        std::thread::sleep(Duration::from_millis(20));
        write_recovery(&copy_b, Some(&b), &t).unwrap();
        std::fs::write(dir.path().join("notes.ron"), "not a copy").unwrap();
        assert_eq!(
            recovery_to_offer(dir.path(), Some(&a)),
            Some((copy_a.clone(), Some(a.clone())))
        );
        assert_eq!(
            recovery_to_offer(dir.path(), Some(&b)),
            Some((copy_b.clone(), Some(b.clone())))
        );
        // Another file, or none: the newest.
        assert_eq!(
            recovery_to_offer(dir.path(), None),
            Some((copy_b.clone(), Some(b)))
        );
        std::fs::remove_file(&copy_b).unwrap();
        std::fs::remove_file(&copy_a).unwrap();
        assert_eq!(recovery_to_offer(dir.path(), Some(&a)), None);
        // Earlier versions' name still counts.
        let legacy = dir.path().join("recovery.ron");
        write_recovery(&legacy, None, &t).unwrap();
        assert_eq!(
            recovery_to_offer(dir.path(), Some(&a)),
            Some((legacy, None))
        );
    }
}

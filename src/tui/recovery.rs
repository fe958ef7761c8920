//! The recovery copy of unsaved work (see the module documentation of [`super`]): writing and
//! reading copies, finding the one to offer at start, and the loop's [`Autosave`] that keeps the
//! copy on disk in step with the edits.

use super::app::App;
use fwtopo::files;
use fwtopo::topology::{self, Topology};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// The longest the recovery copy on disk lags behind the last edit, and the shortest time between
/// two writes of it.
pub(super) const RECOVERY_INTERVAL: Duration = Duration::from_secs(1);

const RECOVERY_PREFIX: &str = "recovery";
const RECOVERY_HEADER: &str = "// fwtopo recovery copy of: ";
const RECOVERY_NEW: &str = "// fwtopo recovery copy of a topology never saved";

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
pub(super) fn recovery_owner(name: &str) -> Option<Option<u32>> {
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
pub(super) fn own_recovery_file(dir: &Path) -> PathBuf {
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
pub(super) fn proc_stat(pid: &str) -> Option<(String, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, tail) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_string();
    Some((name, tail.trim_start().chars().next()?))
}

/// Whether `pid` is another designer still running the copy last written at `written`: its
/// recovery copy is its own safety net, not work to offer. Running means not a zombie, with this
/// program's name, a process and not a thread, started before the copy was written (a process id
/// reused by another program, or by a later designer, does not hide a copy). Without `/proc`
/// nothing counts as running.
pub(super) fn other_designer_running(pid: u32, written: Option<SystemTime>) -> bool {
    if pid == std::process::id() {
        return false;
    }
    match (proc_stat("self"), proc_stat(&pid.to_string())) {
        (Some((own, _)), Some((name, state))) => {
            name == own
                && !matches!(state, 'Z' | 'X')
                && fwtopo::files::writer_alive(pid, written) == Some(true)
        }
        _ => false,
    }
}

/// The recovery copy to offer at start, and the file it belongs to: one whose designer is not
/// running any more, the copy of `file` first, else the newest.
pub(super) fn recovery_to_offer(
    dir: &Path,
    file: Option<&Path>,
) -> Option<(PathBuf, Option<PathBuf>)> {
    let want = file.and_then(|f| std::path::absolute(f).ok());
    let mut found: Vec<(bool, SystemTime, PathBuf, Option<PathBuf>)> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            let written = e.metadata().and_then(|m| m.modified()).ok();
            recovery_owner(&e.file_name().to_string_lossy())
                .is_some_and(|pid| pid.is_none_or(|p| !other_designer_running(p, written)))
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
pub(super) struct Recovery {
    pub(super) file: PathBuf,
    pub(super) original: Option<PathBuf>,
    pub(super) topology: Topology,
}

pub(super) static RECOVERY: Mutex<Option<Recovery>> = Mutex::new(None);

/// Writes the loop's latest copy of unsaved work to its recovery file; what to tell the operator.
pub(super) fn keep_unsaved_work(guard: Option<MutexGuard<'_, Option<Recovery>>>) -> Option<String> {
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

/// Keeps the panic hook's (and signal handler's) copy of unsaved work current.
pub(super) fn sync_recovery(app: &App, file: Option<&Path>, last: &mut Option<(u64, bool)>) {
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
pub(super) enum Step {
    Nothing,
    Write,
    Remove,
    /// A write is due, but not before this much time has passed since the last one.
    WriteIn(Duration),
}

/// Keeps the recovery copy on disk in step with unsaved work, from the loop: written on the tick
/// after an edit, at most once per [`RECOVERY_INTERVAL`] (the last edit always gets written, at the
/// latest one interval after the write before it), removed when nothing is unsaved.
pub(super) struct Autosave {
    pub(super) file: PathBuf,
    /// The version and file of the work the copy on disk holds; `None` when there is no copy.
    on_disk: Option<(u64, Option<PathBuf>)>,
    last_write: Option<Instant>,
    /// The last write failed: reported once, retried every interval.
    failing: bool,
}

impl Autosave {
    pub(super) fn new(file: PathBuf) -> Autosave {
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
    pub(super) fn tick(&mut self, app: &App, now: Instant) -> (Option<Duration>, Option<String>) {
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

    pub(super) fn remove(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        self.on_disk = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::EXAMPLE;

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
        assert!(!other_designer_running(dead, None));
        assert!(!other_designer_running(std::process::id(), None));
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

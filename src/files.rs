//! The file edge of the core: loading and saving topologies, the user's catalog directory, and atomic
//! writes. Everything else in the library works on values.

use crate::catalog::{Catalog, CatalogError};
use crate::topology::{self, LoadError, Topology};
use crate::user_text::escaped;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Environment variable that replaces the configuration directory (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "FWTOPO_CONFIG_DIR";

/// `--config-dir`, set once by the binary before anything reads the configuration.
static CONFIG_DIR_FLAG: OnceLock<PathBuf> = OnceLock::new();

/// The most bytes a topology or catalog file may hold: 256 MiB. A 100,000-node site is some 35 MB;
/// anything larger is not a design but a mistake (`/dev/zero`, a log file), and reading it whole
/// would take the machine's memory.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// A file that could not be read, parsed or written; always names the file (its control
/// characters escaped).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    // The operating system's error is part of the message, not a source: a chain printed with
    // its sources would say it twice.
    #[error("{}: {error}", shown(path))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "{}: not a regular file ({kind}); fwtopo reads its input from regular files only",
        shown(path)
    )]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error(
        "{}: larger than {} MiB, the most fwtopo reads from one file",
        shown(path),
        MAX_FILE_BYTES / 1024 / 1024
    )]
    TooLarge { path: PathBuf },
    #[error("{}", topology_message(path, error))]
    Topology { path: PathBuf, error: LoadError },
    /// The error names the file (and product) itself.
    #[error("{error}")]
    Catalog { path: PathBuf, error: CatalogError },
    #[error("{}: not valid UTF-8", shown(path))]
    Encoding { path: PathBuf },
}

/// A path as a message shows it: whole, its control characters escaped.
fn shown(path: &Path) -> String {
    escaped(&path.display().to_string())
}

/// `file:line:col: message` for syntax errors; one `file: path: message` line per semantic problem.
fn topology_message(path: &Path, error: &LoadError) -> String {
    let file = shown(path);
    match error {
        LoadError::Syntax { .. } => format!("{file}:{error}"),
        LoadError::Invalid(problems) => problems
            .iter()
            .map(|p| format!("{file}: {p}"))
            .collect::<Vec<_>>()
            .join("\n"),
        LoadError::Version { .. } => format!("{file}: {error}"),
    }
}

impl FileError {
    fn io(path: &Path, error: std::io::Error) -> Self {
        FileError::Io {
            path: path.to_path_buf(),
            error,
        }
    }
}

/// Reads a topology or catalog file as text: a regular file of at most [`MAX_FILE_BYTES`]. A
/// device (`/dev/zero`), a FIFO or pipe, a socket or a directory is refused at once, before any
/// read: such a file may never end, or never begin.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    use std::io::Read;
    let file = open_to_read(path).map_err(|e| FileError::io(path, e))?;
    let meta = file.metadata().map_err(|e| FileError::io(path, e))?;
    if !meta.is_file() {
        return Err(FileError::NotAFile {
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        });
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    // The file may grow while it is read: the cap holds whatever its size said.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::io(path, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    String::from_utf8(bytes).map_err(|_| FileError::Encoding {
        path: path.to_path_buf(),
    })
}

/// Opens a file to read without waiting: opening a FIFO waits for a writer, forever if none
/// comes, unless it is opened non-blocking (which changes nothing for a regular file).
fn open_to_read(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// What a file that is not a regular one is, for the message refusing it.
fn kind_of(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO or pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "neither a file nor a directory"
    }
}

/// Loads a topology file; errors carry the file name and, for syntax errors, line and column.
pub fn load_topology(path: &Path) -> Result<Topology, FileError> {
    let text = read_text(path)?;
    topology::from_ron(&text).map_err(|error| FileError::Topology {
        path: path.to_path_buf(),
        error,
    })
}

/// Saves a topology atomically: a crash leaves either the old file or the new one, never half.
pub fn save_topology(path: &Path, t: &Topology) -> Result<(), FileError> {
    write_atomic(path, topology::to_ron(t).as_bytes())
}

/// Writes a file through a temporary file in the same directory (`.NAME.PID.N.tmp`), synced, then
/// renamed over the target; the temporary file is removed if anything fails. A process killed
/// between creating and renaming its temporary leaves it behind: after a successful write, the
/// temporaries of the same target left by processes that are no longer running are removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut batch = AtomicBatch::new(&parent_dir(path));
    batch.add(&file_name(path), bytes)?;
    batch.commit()
}

/// Several files of one directory written atomically, each through its own temporary: [`add`]
/// writes and closes a temporary (so thousands can be written with little memory and few open
/// files), [`commit`] syncs them all, renames them in the order added (put an index last) and syncs
/// the directory once. Syncing after all writes lets the file system flush them together: a
/// thousand exported scripts cost about one flush instead of a thousand. Dropped uncommitted, or
/// failing before the renames, it removes its temporaries and leaves every target as it was.
///
/// A target that already holds the bytes, exactly, is left alone (and still synced): exporting a
/// site again after an edit rewrites only the scripts that changed, their times show which, and
/// the file system is spared a thousand new files (ext4 slows down creating files right after
/// as many were replaced: 0.3 s for a 1,002-file re-export on this machine's disk).
///
/// [`add`]: AtomicBatch::add
/// [`commit`]: AtomicBatch::commit
pub struct AtomicBatch {
    dir: PathBuf,
    /// (temporary, target name), in the order added.
    pending: Vec<(PathBuf, String)>,
    /// Targets that already held their bytes.
    unchanged: Vec<PathBuf>,
}

impl AtomicBatch {
    pub fn new(dir: &Path) -> Self {
        AtomicBatch {
            dir: dir.to_path_buf(),
            pending: Vec::new(),
            unchanged: Vec::new(),
        }
    }

    /// Writes `bytes` to a new temporary for target `name` in the batch's directory, unless the
    /// target is a file holding exactly these bytes.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), FileError> {
        let target = self.dir.join(name);
        if holds(&target, bytes) {
            self.unchanged.push(target);
            return Ok(());
        }
        let (tmp, mut file) =
            create_temporary(&self.dir, name).map_err(|e| FileError::io(&target, e))?;
        self.pending.push((tmp, name.to_string()));
        file.write_all(bytes).map_err(|e| FileError::io(&target, e))
    }

    /// Syncs every temporary, renames each over its target, syncs the directory.
    pub fn commit(mut self) -> Result<(), FileError> {
        if !sync_file_system(&self.dir) {
            let unchanged = self.unchanged.iter().map(|p| (p, p.clone()));
            let written = self.pending.iter().map(|(t, n)| (t, self.dir.join(n)));
            for (file, target) in written.chain(unchanged) {
                // Read-only where it cannot be opened for writing (an unchanged target may be
                // read-only; Linux syncs through any descriptor).
                fs::OpenOptions::new()
                    .write(true)
                    .open(file)
                    .or_else(|_| fs::File::open(file))
                    .and_then(|f| f.sync_all())
                    .map_err(|e| FileError::io(&target, e))?;
            }
        }
        let pending = std::mem::take(&mut self.pending);
        for (i, (tmp, name)) in pending.iter().enumerate() {
            let path = self.dir.join(name);
            // Keep the permissions of the file being replaced (a script may be executable).
            let result = fs::metadata(&path)
                .map_or(Ok(()), |meta| fs::set_permissions(tmp, meta.permissions()))
                .and_then(|()| fs::rename(tmp, &path));
            if let Err(e) = result {
                // What is renamed stays; the rest goes when the batch drops.
                self.pending = pending[i..].to_vec();
                return Err(FileError::io(&path, e));
            }
        }
        // Make the renames themselves durable where the platform allows it.
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        let names: Vec<&str> = pending.iter().map(|(_, n)| n.as_str()).collect();
        remove_stale_temporaries(&self.dir, &names);
        Ok(())
    }
}

/// Whether `path` is a regular file (not a link to one) holding exactly `bytes`.
fn holds(path: &Path, bytes: &[u8]) -> bool {
    use std::io::Read;
    let same_size =
        fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64);
    if !same_size {
        return false;
    }
    let mut held = Vec::with_capacity(bytes.len());
    fs::File::open(path)
        .and_then(|f| f.take(bytes.len() as u64 + 1).read_to_end(&mut held))
        .is_ok_and(|_| held == bytes)
}

impl Drop for AtomicBatch {
    fn drop(&mut self) {
        for (tmp, _) in &self.pending {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Flushes the whole file system holding `dir` with one `syncfs(2)`: a thousand temporaries are
/// then on disk after one journal commit, where a thousand `fsync` calls cost one each (8 ms
/// against 210 ms for 1,002 scripts on this machine's disk). `false` where there is no such call
/// or it failed: the caller syncs file by file instead, so an error is never lost (Linux reports
/// write-back errors through `syncfs` since 5.8; older kernels only through `fsync`).
#[cfg(target_os = "linux")]
fn sync_file_system(dir: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(d) = fs::File::open(dir) else {
        return false;
    };
    // SAFETY: `d` is an open descriptor for the call's whole duration; syncfs reads nothing else.
    unsafe { libc::syncfs(d.as_raw_fd()) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn sync_file_system(_dir: &Path) -> bool {
    false
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fwtopo".into())
}

/// A new temporary `.NAME.PID.N.tmp` beside the target, never one that exists.
fn create_temporary(dir: &Path, name: &str) -> std::io::Result<(PathBuf, fs::File)> {
    let mut attempt = 0u32;
    loop {
        let tmp = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1
            }
            Err(e) => return Err(e),
        }
    }
}

/// The process id in a name `write_atomic` gives the temporaries of target `name`
/// (`.NAME.PID.N.tmp`), or `None` when the name is not one.
fn temporary_pid(file_name: &str, name: &str) -> Option<u32> {
    let rest = file_name
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix('.')?
        .strip_suffix(".tmp")?;
    let (pid, attempt) = rest.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(pid) && digits(attempt) {
        pid.parse().ok()
    } else {
        None
    }
}

/// Removes the temporaries of the targets `names` in `dir` whose writer is known not to run any
/// more, in one pass over the directory. Where that cannot be known (no `/proc`), nothing is
/// removed. Returns how many went. Each entry's target name is read off the entry and looked up,
/// so a directory of 100,000 scripts costs one pass, not one per script and entry.
fn remove_stale_temporaries(dir: &Path, names: &[&str]) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let names: std::collections::HashSet<&str> = names.iter().copied().collect();
    let own = std::process::id();
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let file = e.file_name();
            let file = file.to_string_lossy();
            temporary_target(&file)
                .filter(|name| names.contains(name))
                .and_then(|name| temporary_pid(&file, name))
                .is_some_and(|pid| pid != own && process_alive(pid) == Some(false))
        })
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

/// The target name in a temporary's name `.NAME.PID.N.tmp` (NAME may hold dots), or `None`.
fn temporary_target(file_name: &str) -> Option<&str> {
    let rest = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(3, '.');
    let (_attempt, _pid) = (parts.next()?, parts.next()?);
    parts.next()
}

/// Whether process `pid` exists (a zombie counts), from `/proc`; `None` where there is no `/proc`
/// to ask (other systems), so callers can leave alone what they cannot judge.
pub fn process_alive(pid: u32) -> Option<bool> {
    if !cfg!(target_os = "linux") || !Path::new("/proc/self").exists() {
        return None;
    }
    Some(Path::new(&format!("/proc/{pid}")).exists())
}

/// Sets the configuration directory for this process (the binary's `--config-dir`); it wins over
/// `$FWTOPO_CONFIG_DIR`. Only the first call counts; call it before anything reads the
/// configuration.
pub fn set_config_dir(dir: PathBuf) {
    let _ = CONFIG_DIR_FLAG.set(dir);
}

/// The user's configuration directory: `--config-dir` ([`set_config_dir`]), else
/// `$FWTOPO_CONFIG_DIR`, else the platform's (e.g. `~/.config/fwtopo`).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(d) = CONFIG_DIR_FLAG.get() {
        return Some(d.clone());
    }
    if let Some(d) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "fwtopo").map(|p| p.config_dir().to_path_buf())
}

/// The embedded catalog plus every `*.ron` file in `<config>/catalog/`, which add products or
/// override embedded ones by id. Files load in name order, so the result is reproducible.
pub fn load_catalog() -> Result<Catalog, FileError> {
    let extra = match config_dir() {
        Some(dir) => user_catalog_files(&dir.join("catalog"))?,
        None => Vec::new(),
    };
    let sources = crate::catalog::EMBEDDED
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .chain(extra.into_iter().map(|(p, t)| (p.display().to_string(), t)));
    Catalog::from_sources(sources).map_err(|error| FileError::Catalog {
        path: PathBuf::from("catalog"),
        error,
    })
}

fn user_catalog_files(dir: &Path) -> Result<Vec<(PathBuf, String)>, FileError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(FileError::io(dir, e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| read_text(&p).map(|t| (p, t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ron");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_batch_renames_all_or_leaves_the_targets_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.sh"), b"old").unwrap();
        // Dropped before commit: nothing changes, no temporary stays.
        let mut batch = AtomicBatch::new(dir.path());
        batch.add("a.sh", b"new a").unwrap();
        batch.add("b.sh", b"new b").unwrap();
        assert_eq!(
            names_in(dir.path()).len(),
            3,
            "temporaries exist until commit"
        );
        drop(batch);
        assert_eq!(names_in(dir.path()), ["a.sh"]);
        assert_eq!(fs::read(dir.path().join("a.sh")).unwrap(), b"old");
        // Committed: every file in place, index last, no temporary left.
        let mut batch = AtomicBatch::new(dir.path());
        for (n, b) in [("a.sh", "new a"), ("b.sh", "new b"), ("index.txt", "a b")] {
            batch.add(n, b.as_bytes()).unwrap();
        }
        batch.commit().unwrap();
        assert_eq!(names_in(dir.path()), ["a.sh", "b.sh", "index.txt"]);
        assert_eq!(fs::read(dir.path().join("b.sh")).unwrap(), b"new b");
        // A rename that fails (a directory in the way): what came before stays renamed, the
        // rest is untouched and its temporaries go.
        fs::create_dir(dir.path().join("c.sh")).unwrap();
        fs::write(dir.path().join("c.sh").join("keep"), b"x").unwrap();
        let mut batch = AtomicBatch::new(dir.path());
        for (n, b) in [("a.sh", "newer a"), ("c.sh", "c"), ("index.txt", "a c")] {
            batch.add(n, b.as_bytes()).unwrap();
        }
        assert!(batch.commit().is_err());
        assert_eq!(names_in(dir.path()), ["a.sh", "b.sh", "c.sh", "index.txt"]);
        assert_eq!(fs::read(dir.path().join("a.sh")).unwrap(), b"newer a");
        assert_eq!(fs::read(dir.path().join("index.txt")).unwrap(), b"a b");
    }

    #[cfg(unix)]
    #[test]
    fn a_batch_leaves_targets_that_hold_their_bytes() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let inode = |n: &str| fs::metadata(dir.path().join(n)).unwrap().ino();
        let mut batch = AtomicBatch::new(dir.path());
        for (n, b) in [("a.sh", "a"), ("b.sh", "b"), ("c.sh", "c")] {
            batch.add(n, b.as_bytes()).unwrap();
        }
        batch.commit().unwrap();
        let before = ["a.sh", "b.sh", "c.sh"].map(inode);
        // A link to a file with the bytes is still replaced by a file of its own.
        fs::write(dir.path().join("target"), "d").unwrap();
        std::os::unix::fs::symlink("target", dir.path().join("d.sh")).unwrap();
        let mut batch = AtomicBatch::new(dir.path());
        for (n, b) in [("a.sh", "a"), ("b.sh", "B"), ("c.sh", "c2"), ("d.sh", "d")] {
            batch.add(n, b.as_bytes()).unwrap();
        }
        batch.commit().unwrap();
        let after = ["a.sh", "b.sh", "c.sh"].map(inode);
        assert_eq!(after[0], before[0], "unchanged a.sh is the same file");
        assert_ne!(
            after[1], before[1],
            "b.sh (same size, other bytes) is replaced"
        );
        assert_ne!(after[2], before[2], "c.sh (other size) is replaced");
        let read = |n: &str| fs::read_to_string(dir.path().join(n)).unwrap();
        assert_eq!([read("a.sh"), read("b.sh"), read("c.sh")], ["a", "B", "c2"]);
        assert!(
            !fs::symlink_metadata(dir.path().join("d.sh"))
                .unwrap()
                .is_symlink()
        );
        assert_eq!(
            names_in(dir.path()),
            ["a.sh", "b.sh", "c.sh", "d.sh", "target"]
        );
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: rename must fail, the temporary must go.
        let path = dir.path().join("sub");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), b"x").unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(path.join("keep").exists());
    }

    /// Larger than any pid_max Linux allows (2^22), so never a running process.
    const NO_SUCH_PID: u32 = 99_999_999;

    #[test]
    fn temporary_target_names_are_read_off_the_name() {
        assert_eq!(temporary_target(".a.nft.12.0.tmp"), Some("a.nft"));
        assert_eq!(temporary_target(".index.txt.7.3.tmp"), Some("index.txt"));
        assert_eq!(temporary_target("a.nft"), None);
        assert_eq!(temporary_target(".x.tmp"), None);
    }

    #[test]
    fn temporary_names_are_recognised_exactly() {
        assert_eq!(temporary_pid(".t.ron.123.0.tmp", "t.ron"), Some(123));
        assert_eq!(temporary_pid(".t.ron.123.17.tmp", "t.ron"), Some(123));
        // Another target whose name starts the same, or not a temporary at all.
        assert_eq!(temporary_pid(".t.ron.5.123.0.tmp", "t.ron"), None);
        assert_eq!(temporary_pid(".t.ron.123.tmp", "t.ron"), None);
        assert_eq!(temporary_pid(".t.ron.x.0.tmp", "t.ron"), None);
        assert_eq!(temporary_pid("t.ron.123.0.tmp", "t.ron"), None);
        assert_eq!(temporary_pid(".u.ron.123.0.tmp", "t.ron"), None);
        assert_eq!(temporary_pid(".t.ron..0.tmp", "t.ron"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_save_removes_temporaries_of_dead_writers_only() {
        assert_eq!(process_alive(std::process::id()), Some(true));
        assert_eq!(process_alive(NO_SUCH_PID), Some(false));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ron");
        let stale = [
            format!(".t.ron.{NO_SUCH_PID}.0.tmp"),
            format!(".t.ron.{NO_SUCH_PID}.3.tmp"),
        ];
        let kept = [
            // A running writer (this process's parent is alive), another target, not ours.
            format!(".t.ron.{}.0.tmp", std::os::unix::process::parent_id()),
            format!(".other.ron.{NO_SUCH_PID}.0.tmp"),
            format!(".t.ron.{NO_SUCH_PID}.tmp"),
            "notes.txt".to_string(),
        ];
        for n in stale.iter().chain(&kept) {
            fs::write(dir.path().join(n), b"half").unwrap();
        }
        write_atomic(&path, b"new").unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want: Vec<String> = kept.to_vec();
        want.push("t.ron".into());
        want.sort();
        assert_eq!(names, want);
    }
}

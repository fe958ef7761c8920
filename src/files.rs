//! The file edge of the core: loading and saving topologies, the user's catalog directory, and atomic
//! writes. Everything else in the library works on values.

mod batch;
pub mod export_index;
mod on_disk;
mod writer;
pub use writer::writer_alive;

pub use batch::AtomicBatch;
pub use on_disk::{OnDisk, on_disk, unchanged_since};

use crate::catalog::{Catalog, CatalogError};
use crate::topology::{self, LoadError, Topology};
use crate::user_text::escaped;
use std::fs;
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
    /// A batch found a directory where one of its files goes, before it replaced anything.
    #[error("{}: a directory is in the way; nothing was replaced", shown(path))]
    InTheWay { path: PathBuf },
    /// A rename of a batch failed after others had been done; `state` says what the directory
    /// holds now (put back as it was, or which files hold the new text).
    #[error("{}: {error}; {state}", shown(path))]
    Partial {
        path: PathBuf,
        error: std::io::Error,
        state: String,
    },
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
    read_capped(file, path, meta.len() as usize)
}

/// Reads at most [`MAX_FILE_BYTES`] of UTF-8 text (a file, standard input, a tool's output);
/// `expected` sizes the buffer; `path` names the input in errors.
pub fn read_capped(
    from: impl std::io::Read,
    path: &Path,
    expected: usize,
) -> Result<String, FileError> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(expected);
    from.take(MAX_FILE_BYTES + 1)
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

/// How standard input is named in messages.
pub const STDIN_NAME: &str = "(standard input)";

/// Standard input as text, with the same cap as a file: `git show REV:site.ron | fwtopo diff - …`.
pub fn read_stdin_text() -> Result<String, FileError> {
    read_capped(std::io::stdin().lock(), Path::new(STDIN_NAME), 0)
}

/// Loads a topology file, or standard input for `-`; errors carry the file name and, for syntax
/// errors, line and column.
pub fn load_topology(path: &Path) -> Result<Topology, FileError> {
    let (text, path) = if path == Path::new("-") {
        (read_stdin_text()?, Path::new(STDIN_NAME))
    } else {
        (read_text(path)?, path)
    };
    topology::from_ron(&text).map_err(|error| FileError::Topology {
        path: path.to_path_buf(),
        error,
    })
}

/// [`load_topology`], and the file as it was read (one read, so the two agree).
pub fn open_topology(path: &Path) -> Result<(Topology, OnDisk), FileError> {
    let text = read_text(path)?;
    let t = topology::from_ron(&text).map_err(|error| FileError::Topology {
        path: path.to_path_buf(),
        error,
    })?;
    Ok((t, OnDisk::of(text.as_bytes())))
}

/// Saves a topology atomically: a crash leaves either the old file or the new one, never half.
pub fn save_topology(path: &Path, t: &Topology) -> Result<(), FileError> {
    write_atomic(path, topology::to_ron(t).as_bytes())
}

/// Writes a file through a temporary file in the same directory (`.NAME.PID.N.tmp`), synced, then
/// renamed over the target; the temporary file is removed if anything fails. A process killed
/// between creating and renaming its temporary leaves it behind: after a successful write, the
/// temporaries of the same target left by processes that are no longer running are removed.
///
/// A symbolic link is written through: the file it leads to is replaced (its temporary beside it)
/// and the link stays, as editors do, so `site.ron -> sites/prod.ron` keeps working. The file
/// keeps its permissions; a new one gets the usual `0666` less the umask.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let path = resolve_links(path).map_err(|e| FileError::io(path, e))?;
    let mut batch = AtomicBatch::new(&parent_dir(&path));
    batch.add(&file_name(&path), bytes)?;
    batch.commit()
}

/// [`write_atomic`] for a file only its owner may read (`0600`, whatever was there before), such as
/// the designer's recovery copy; a link at `path` is replaced, not followed.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut batch = AtomicBatch::private(&parent_dir(path));
    batch.add(&file_name(path), bytes)?;
    batch.commit()
}

/// Creates a directory (and its missing parents) only its owner may enter (`0700`); one that
/// exists is left as it is (the operator may have chosen who shares it).
pub fn create_private_dir(dir: &Path) -> Result<(), FileError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| FileError::io(dir, e))
}

/// The most symbolic links followed from one path before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// The file `path` leads to through symbolic links, which need not exist yet: a link's target is
/// taken relative to the link's directory. A loop of links is an error.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&path)?;
                path = parent_dir(&path).join(to);
            }
            _ => return Ok(path),
        }
    }
    Err(std::io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links (a loop?)"
    )))
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

/// The environment variable that fixes today's date (`YYYY-MM-DD`) for the expiry findings, so
/// a CI run of `fwtopo check` gives the same answer every day.
pub const TODAY_ENV: &str = "FWTOPO_TODAY";

/// Today's date for the expiry findings: `$FWTOPO_TODAY` when set, else the system clock's day
/// in UTC (a site's operators are in many zones; a day early or late is within any grace period).
pub fn today() -> Result<crate::date::Date, String> {
    if let Some(v) = std::env::var_os(TODAY_ENV).filter(|v| !v.is_empty()) {
        let text = v.to_string_lossy();
        return text.parse().map_err(|e| format!("${TODAY_ENV}: {e}"));
    }
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    crate::date::Date::from_unix_seconds(seconds)
        .ok_or_else(|| "the system clock is outside the years 1-9999".to_string())
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

    /// The names in a directory, sorted (also for the batch tests).
    pub(super) fn names_in(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
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

    #[cfg(unix)]
    #[test]
    fn a_save_through_a_link_replaces_the_target_and_keeps_the_link() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::create_dir(&real).unwrap();
        let target = real.join("target.ron");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        // link.ron -> hop.ron -> real/target.ron, both relative.
        symlink("real/target.ron", dir.path().join("hop.ron")).unwrap();
        symlink("hop.ron", dir.path().join("link.ron")).unwrap();
        write_atomic(&dir.path().join("link.ron"), b"new").unwrap();
        for link in ["link.ron", "hop.ron"] {
            let meta = fs::symlink_metadata(dir.path().join(link)).unwrap();
            assert!(meta.is_symlink(), "{link} is still a link");
        }
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the target keeps its mode");
        assert_eq!(names_in(dir.path()), ["hop.ron", "link.ron", "real"]);
        assert_eq!(names_in(&real), ["target.ron"]);
        // A link to a file not there yet creates it; a loop of links is an error, not a hang.
        symlink("real/new.ron", dir.path().join("dangling.ron")).unwrap();
        write_atomic(&dir.path().join("dangling.ron"), b"first").unwrap();
        assert_eq!(fs::read(real.join("new.ron")).unwrap(), b"first");
        assert!(
            fs::symlink_metadata(dir.path().join("dangling.ron"))
                .unwrap()
                .is_symlink()
        );
        symlink("loop-b", dir.path().join("loop-a")).unwrap();
        symlink("loop-a", dir.path().join("loop-b")).unwrap();
        let e = write_atomic(&dir.path().join("loop-a"), b"x").unwrap_err();
        assert!(e.to_string().contains("loop-a"), "{e}");
    }

    /// Larger than any pid_max Linux allows (2^22), so never a running process.
    const NO_SUCH_PID: u32 = 99_999_999;

    /// A save whose file already holds its bytes writes nothing, but it still removes what killed
    /// writers left (it did not: CI saw a sweep miss them whenever the last save was the same text).
    #[test]
    #[cfg(target_os = "linux")]
    fn a_save_of_the_same_bytes_still_removes_dead_writers_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ron");
        write_atomic(&path, b"same").unwrap();
        let stale = dir.path().join(format!(".t.ron.{NO_SUCH_PID}.0.tmp"));
        fs::write(&stale, b"sa").unwrap();
        write_atomic(&path, b"same").unwrap();
        assert!(!stale.exists(), "the dead writer's temporary is left");
        assert_eq!(fs::read(&path).unwrap(), b"same");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_save_removes_temporaries_of_dead_writers_only() {
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

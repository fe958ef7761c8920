//! The file edge of the core: loading and saving topologies, the user's catalog directory, and atomic
//! writes. Everything else in the library works on values.

use crate::catalog::{Catalog, CatalogError};
use crate::topology::{self, LoadError, Topology};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Environment variable that replaces the configuration directory (tests, portable installs).
pub const CONFIG_DIR_ENV: &str = "FWTOPO_CONFIG_DIR";

/// `--config-dir`, set once by the binary before anything reads the configuration.
static CONFIG_DIR_FLAG: OnceLock<PathBuf> = OnceLock::new();

/// A file that could not be read, parsed or written; always names the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", topology_message(path, error))]
    Topology { path: PathBuf, error: LoadError },
    #[error("{path}: {error}")]
    Catalog { path: PathBuf, error: CatalogError },
    #[error("{path}: not valid UTF-8")]
    Encoding { path: PathBuf },
}

/// `file:line:col: message` for syntax errors; one `file: path: message` line per semantic problem.
fn topology_message(path: &Path, error: &LoadError) -> String {
    let file = path.display();
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
    fn io(path: &Path, source: std::io::Error) -> Self {
        FileError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn read_text(path: &Path) -> Result<String, FileError> {
    let bytes = fs::read(path).map_err(|e| FileError::io(path, e))?;
    String::from_utf8(bytes).map_err(|_| FileError::Encoding {
        path: path.to_path_buf(),
    })
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
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fwtopo".into());
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1
            }
            Err(e) => return Err(FileError::io(path, e)),
        }
    };
    let result = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            // Keep the permissions of the file being replaced (a script may be executable).
            if let Ok(meta) = fs::metadata(path) {
                fs::set_permissions(&tmp, meta.permissions())?;
            }
            fs::rename(&tmp, path)
        });
    drop(file);
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(FileError::io(path, e));
    }
    // Make the rename itself durable where the platform allows it.
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    remove_stale_temporaries(&dir, &name);
    Ok(())
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

/// Removes the temporaries of target `name` in `dir` whose writer is known not to run any more.
/// Where that cannot be known (no `/proc`), nothing is removed. Returns how many went.
fn remove_stale_temporaries(dir: &Path, name: &str) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let own = std::process::id();
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            temporary_pid(&e.file_name().to_string_lossy(), name)
                .is_some_and(|pid| pid != own && process_alive(pid) == Some(false))
        })
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
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

//! [`AtomicBatch`]: files of one directory replaced all together or not at all, each through a
//! temporary of its own; [`super::write_atomic`] is a batch of one.

use super::FileError;
use super::writer::writer_alive;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Several files of one directory written atomically, each through its own temporary: [`add`]
/// writes and closes a temporary (so thousands can be written with little memory and few open
/// files), [`commit`] syncs them all, renames them in the order added (put an index last) and syncs
/// the directory once. Syncing after all writes lets the file system flush them together: a
/// thousand exported scripts cost about one flush instead of a thousand. Dropped uncommitted, or
/// failing before the renames, it removes its temporaries and leaves every target as it was.
///
/// All or nothing: before renaming anything, `commit` checks that no directory is in the way of a
/// target. Should a rename still fail half way (a file made immutable meanwhile), the targets
/// already replaced are put back (each old file was kept: see [`replace_keeping_old`]), and the
/// error says whether that worked and, if not, which files hold the new text. Old files are kept
/// only when a batch renames more than one file (one rename is all or nothing by itself).
///
/// A target that already holds the bytes, exactly, is left alone (and still synced): exporting a
/// site again after an edit rewrites only the scripts that changed, their times show which, and
/// the file system is spared a thousand new files (ext4 slows down creating files right after
/// as many were replaced: 0.3 s for a 1,002-file re-export on this machine's disk).
///
/// Links in the directory are replaced, never followed. A replaced file keeps its permissions (a
/// script may be executable, a topology private), and its temporary is never more open than it
/// while being written; a new file gets `0666` less the umask. A private batch writes `0600`.
///
/// [`add`]: AtomicBatch::add
/// [`commit`]: AtomicBatch::commit
pub struct AtomicBatch {
    dir: PathBuf,
    /// (temporary, target name), in the order added.
    pending: Vec<(PathBuf, String)>,
    /// Targets that already held their bytes.
    unchanged: Vec<PathBuf>,
    /// Every file `0600`, whatever it replaces.
    private: bool,
}

impl AtomicBatch {
    pub fn new(dir: &Path) -> Self {
        AtomicBatch {
            dir: dir.to_path_buf(),
            pending: Vec::new(),
            unchanged: Vec::new(),
            private: false,
        }
    }

    /// A batch whose files only their owner may read (`0600`), whatever they replace.
    pub fn private(dir: &Path) -> Self {
        let mut batch = AtomicBatch::new(dir);
        batch.private = true;
        batch
    }

    /// Writes `bytes` to a new temporary for target `name` in the batch's directory, unless the
    /// target is a file holding exactly these bytes.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), FileError> {
        let target = self.dir.join(name);
        if !self.private && holds(&target, bytes) {
            self.unchanged.push(target);
            return Ok(());
        }
        let mode = match self.private {
            true => 0o600,
            false => regular_file_mode(&target).unwrap_or(0o666),
        };
        let (tmp, mut file) =
            create_temporary(&self.dir, name, mode).map_err(|e| FileError::io(&target, e))?;
        self.pending.push((tmp, name.to_string()));
        file.write_all(bytes).map_err(|e| FileError::io(&target, e))
    }

    /// Syncs every temporary, renames each over its target, syncs the directory.
    pub fn commit(mut self) -> Result<(), FileError> {
        self.sync()?;
        self.check_targets()?;
        self.replace_all()?;
        // Make the renames themselves durable where the platform allows it.
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Puts every temporary (and every unchanged target) on disk.
    fn sync(&self) -> Result<(), FileError> {
        if sync_file_system(&self.dir) {
            return Ok(());
        }
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
        Ok(())
    }

    /// Refuses the batch, before anything is renamed, when a directory stands where a file goes
    /// (a rename cannot replace it), and gives each temporary the permissions it will keep.
    fn check_targets(&self) -> Result<(), FileError> {
        for (tmp, name) in &self.pending {
            let target = self.dir.join(name);
            let meta = fs::symlink_metadata(&target).ok();
            if meta.as_ref().is_some_and(fs::Metadata::is_dir) {
                return Err(FileError::InTheWay { path: target });
            }
            let permissions = match (self.private, meta) {
                (true, _) => private_permissions(),
                (false, Some(m)) if m.is_file() => Some(m.permissions()),
                _ => None,
            };
            if let Some(p) = permissions {
                fs::set_permissions(tmp, p).map_err(|e| FileError::io(&target, e))?;
            }
        }
        Ok(())
    }

    /// Renames every temporary over its target, in order; a failure puts back what was renamed.
    fn replace_all(&mut self) -> Result<(), FileError> {
        let pending = std::mem::take(&mut self.pending);
        let undoable = pending.len() > 1;
        let mut done: Vec<(PathBuf, Undo)> = Vec::with_capacity(pending.len());
        for (i, (tmp, name)) in pending.iter().enumerate() {
            let target = self.dir.join(name);
            // A directory is never exchanged (that would succeed): its rename fails, as it must.
            let there = fs::symlink_metadata(&target).map(|m| m.is_dir());
            let step = match (undoable, there) {
                (true, Ok(false)) => replace_keeping_old(&self.dir, name, tmp, &target),
                (_, Err(_)) => fs::rename(tmp, &target).map(|()| Undo::Remove),
                _ => fs::rename(tmp, &target).map(|()| Undo::Lost),
            };
            match step {
                Ok(undo) => done.push((target, undo)),
                Err(error) => {
                    // The rest go when the batch drops.
                    self.pending = pending[i..].to_vec();
                    let state = self.put_back(done);
                    return Err(FileError::Partial {
                        path: target,
                        error,
                        state,
                    });
                }
            }
        }
        for (_, undo) in &done {
            if let Undo::Restore(old) = undo {
                let _ = fs::remove_file(old);
            }
        }
        // Unchanged targets too: a save that had nothing to write still clears what killed
        // writers of the same file left.
        let unchanged: Vec<String> = self
            .unchanged
            .iter()
            .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .collect();
        let names: Vec<&str> = pending
            .iter()
            .map(|(_, n)| n.as_str())
            .chain(unchanged.iter().map(String::as_str))
            .collect();
        remove_stale_temporaries(&self.dir, &names);
        Ok(())
    }

    /// Undoes the renames of a failed batch, newest first; says what the directory holds now.
    fn put_back(&self, done: Vec<(PathBuf, Undo)>) -> String {
        if done.is_empty() {
            return "nothing was replaced".to_string();
        }
        let count = done.len();
        let mut kept: Vec<String> = Vec::new();
        for (target, undo) in done.into_iter().rev() {
            let undone = match undo {
                Undo::Restore(old) => fs::rename(old, &target).is_ok(),
                Undo::Remove => fs::remove_file(&target).is_ok(),
                Undo::Lost => false,
            };
            if !undone {
                kept.push(target.display().to_string());
            }
        }
        let dir = self.dir.display();
        if kept.is_empty() {
            format!("the {count} file(s) replaced before it were put back: {dir} is as it was")
        } else {
            kept.reverse();
            format!(
                "{dir} is mixed: these hold the new text, every other file is as it was: {}",
                kept.join(", ")
            )
        }
    }
}

/// How to undo one rename of a batch.
#[derive(Debug)]
enum Undo {
    /// Nothing was there: remove the new file.
    Remove,
    /// The old file is kept under this name: rename it back.
    Restore(PathBuf),
    /// The old file is gone (a batch of one, or neither an exchange nor a hard link was possible).
    Lost,
}

/// Renames `tmp` over the existing `target`, keeping the old file to put back. On Linux the two
/// swap names (`renameat2` with `RENAME_EXCHANGE`: no more work than the rename, and the old file
/// is then removed instead of freed by the rename); elsewhere, or on a file system without it,
/// through a hard link made first.
fn replace_keeping_old(dir: &Path, name: &str, tmp: &Path, target: &Path) -> std::io::Result<Undo> {
    #[cfg(target_os = "linux")]
    match exchange(tmp, target) {
        Ok(()) => return Ok(Undo::Restore(tmp.to_path_buf())),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
            ) => {}
        Err(e) => return Err(e),
    }
    replace_through_link(dir, name, tmp, target)
}

/// [`replace_keeping_old`] without an exchange: a hard link to the old file first.
fn replace_through_link(
    dir: &Path,
    name: &str,
    tmp: &Path,
    target: &Path,
) -> std::io::Result<Undo> {
    let backup = link_backup(dir, name, target);
    match fs::rename(tmp, target) {
        Ok(()) => Ok(backup.map_or(Undo::Lost, Undo::Restore)),
        Err(e) => {
            if let Some(b) = backup {
                let _ = fs::remove_file(b);
            }
            Err(e)
        }
    }
}

/// Swaps the names of two files in one step (`renameat2(2)` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are NUL-terminated strings that outlive the call; AT_FDCWD resolves relative
    // paths as rename(2) does.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `0600`, where the platform has such modes.
fn private_permissions() -> Option<fs::Permissions> {
    #[cfg(unix)]
    {
        Some(std::os::unix::fs::PermissionsExt::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The permission bits of `path` when it is a regular file (not a link to one).
fn regular_file_mode(path: &Path) -> Option<u32> {
    let meta = fs::symlink_metadata(path)
        .ok()
        .filter(fs::Metadata::is_file)?;
    #[cfg(unix)]
    {
        Some(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// A hard link to `target` named like a temporary (`.NAME.PID.N.tmp`, N from 1000, so a killed
/// writer's is cleaned up like one), to put it back should the batch fail; `None` where the file
/// system has no hard links.
fn link_backup(dir: &Path, name: &str, target: &Path) -> Option<PathBuf> {
    (1000..1100u32).find_map(|attempt| {
        let backup = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        fs::hard_link(target, &backup).ok().map(|()| backup)
    })
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

/// A new temporary `.NAME.PID.N.tmp` beside the target, never one that exists, created with
/// `mode` (less the umask) so that it is never more open than the file it replaces.
fn create_temporary(dir: &Path, name: &str, mode: u32) -> std::io::Result<(PathBuf, fs::File)> {
    let mut attempt = 0u32;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    loop {
        let tmp = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        match options.open(&tmp) {
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
            let written = || e.metadata().ok().and_then(|m| m.modified().ok());
            temporary_target(&file)
                .filter(|name| names.contains(name))
                .and_then(|name| temporary_pid(&file, name))
                .is_some_and(|pid| pid != own && writer_alive(pid, written()) == Some(false))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::tests::names_in;
    use crate::files::write_atomic;

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
    }

    /// A rename that fails half way (here a directory, which `commit` would have refused before
    /// renaming anything; in life a file made immutable meanwhile): what was renamed before it is
    /// put back, files that were not there go again, and no temporary or backup stays.
    #[test]
    fn a_rename_failing_half_way_puts_back_what_it_replaced() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.sh"), b"old a").unwrap();
        fs::create_dir(dir.path().join("c.sh")).unwrap();
        fs::write(dir.path().join("c.sh").join("keep"), b"x").unwrap();
        fs::write(dir.path().join("index.txt"), b"old index").unwrap();
        let mut batch = AtomicBatch::new(dir.path());
        let files = [
            ("a.sh", "new a"),
            ("b.sh", "new b"),
            ("c.sh", "c"),
            ("index.txt", "i"),
        ];
        for (n, b) in files {
            batch.add(n, b.as_bytes()).unwrap();
        }
        let e = batch.replace_all().unwrap_err().to_string();
        drop(batch);
        assert!(e.contains("c.sh") && e.contains("is as it was"), "{e}");
        assert_eq!(names_in(dir.path()), ["a.sh", "c.sh", "index.txt"]);
        assert_eq!(fs::read(dir.path().join("a.sh")).unwrap(), b"old a");
        assert_eq!(
            fs::read(dir.path().join("index.txt")).unwrap(),
            b"old index"
        );
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

    /// A private file's new text is never readable by others, not even while it is written; a new
    /// file gets what the umask allows.
    #[cfg(unix)]
    #[test]
    fn a_temporary_is_never_more_open_than_the_file_it_replaces() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.ron");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let mut batch = AtomicBatch::new(dir.path());
        batch.add("site.ron", b"secret").unwrap();
        let tmp = names_in(dir.path())
            .into_iter()
            .find(|n| n.ends_with(".tmp"))
            .unwrap();
        assert_eq!(mode(&dir.path().join(tmp)), 0o600, "while being written");
        batch.commit().unwrap();
        assert_eq!(mode(&path), 0o600);
        // Executable scripts stay executable.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o750)).unwrap();
        write_atomic(&path, b"newer").unwrap();
        assert_eq!(mode(&path), 0o750);
        // A new file: 0666 less the umask (read back from a file the system creates so).
        let probe = dir.path().join("probe");
        fs::write(&probe, b"").unwrap();
        write_atomic(&dir.path().join("new.ron"), b"x").unwrap();
        assert_eq!(mode(&dir.path().join("new.ron")), mode(&probe));
    }

    /// Where names cannot be exchanged, a hard link keeps the old file to put back.
    #[test]
    fn without_an_exchange_a_hard_link_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.sh");
        fs::write(&target, b"old").unwrap();
        let tmp = dir.path().join("new");
        fs::write(&tmp, b"new").unwrap();
        let undo = replace_through_link(dir.path(), "a.sh", &tmp, &target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let Undo::Restore(old) = undo else {
            panic!("no backup: {undo:?}")
        };
        assert_eq!(fs::read(&old).unwrap(), b"old");
        fs::rename(&old, &target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(names_in(dir.path()), ["a.sh"]);
    }

    #[test]
    fn a_directory_in_the_way_replaces_nothing() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.sh"), b"old a").unwrap();
        fs::create_dir(dir.path().join("b.sh")).unwrap();
        fs::write(dir.path().join("index.txt"), b"old index").unwrap();
        let mut batch = AtomicBatch::new(dir.path());
        for (n, b) in [("a.sh", "new a"), ("b.sh", "new b"), ("index.txt", "new")] {
            batch.add(n, b.as_bytes()).unwrap();
        }
        let e = batch.commit().unwrap_err().to_string();
        assert!(e.contains("b.sh") && e.contains("directory"), "{e}");
        assert_eq!(fs::read(dir.path().join("a.sh")).unwrap(), b"old a");
        assert_eq!(
            fs::read(dir.path().join("index.txt")).unwrap(),
            b"old index"
        );
        assert_eq!(names_in(dir.path()), ["a.sh", "b.sh", "index.txt"]);
    }

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
}

//! `index.txt` of an `export --out` directory: what fwtopo wrote there. The next export reads it to
//! tell the scripts it no longer writes (a node left the site, or the target changed: stale) from
//! files it never wrote, so that it lists the stale ones and `--prune` removes only those.
//!
//! One line per script, `FILE<TAB>NODE<TAB>TARGET`; a stale script kept on request of no one is
//! carried as a comment, `# stale<TAB>FILE<TAB>NODE<TAB>TARGET`, so scripts that read the index
//! see only what this export wrote (or, with `--node`, what the site's other nodes still have).

use super::FileError;
use crate::export;
use crate::target::Target;
use crate::topology::is_safe_name;
use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The index's file name.
pub const INDEX: &str = "index.txt";

/// Where a stale script's line starts.
const STALE: &str = "# stale\t";

/// The most of an index read: far more than 100,000 nodes' lines, far less than memory.
const MAX_INDEX: u64 = 64 << 20;

/// How much of a script is read to find fwtopo's header line in it.
const HEADER_BYTES: u64 = 4096;

/// One script fwtopo wrote: its file name, node and target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Written {
    pub file: String,
    pub node: String,
    pub target: Target,
}

impl Written {
    pub fn new(node: &str, target: Target) -> Written {
        Written {
            file: export::file_name(node, target),
            node: node.to_string(),
            target,
        }
    }

    /// What fwtopo writes for a node: [`Written::new`], with the probe script of a Windows node
    /// in PowerShell.
    pub fn for_node(node: &crate::topology::Node, target: Target) -> Written {
        Written {
            file: export::node_file_name(node, target),
            node: node.name.clone(),
            target,
        }
    }

    /// An index line's fields, when they are a script fwtopo could have written: a node name the
    /// loader accepts, a target, and the very file name fwtopo gives that pair (so never a path,
    /// a hidden file or another file of the directory).
    fn parse(fields: &str) -> Option<Written> {
        let mut f = fields.trim_end_matches('\r').split('\t');
        let (file, node, target) = (f.next()?, f.next()?, f.next()?);
        let target = Target::export_named(target).ok()?;
        let mut w = Written::new(node, target);
        // A Windows node's probe script is PowerShell.
        if target == Target::Probe && file == format!("{node}.probe.ps1") {
            w.file = file.to_string();
        }
        (is_safe_name(node) && w.file == file).then_some(w)
    }

    fn line(&self) -> String {
        format!("{}\t{}\t{}\n", self.file, self.node, self.target)
    }
}

/// Why a script an earlier export wrote is no longer fwtopo's to list or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOurs {
    /// A symbolic link or anything but a regular file: never followed, never removed.
    NotAFile,
    /// It no longer starts with fwtopo's header for its node and target (rewritten by hand).
    Changed,
}

impl std::fmt::Display for NotOurs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotOurs::NotAFile => "not a regular file any more",
            NotOurs::Changed => "no longer holds the export fwtopo wrote (changed by hand?)",
        })
    }
}

/// What becomes of the scripts an earlier export wrote and this one does not.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Scripts of nodes this export does not decide about (`--node`): still the site's, listed
    /// again as they were.
    pub carried: Vec<Written>,
    /// Still as fwtopo wrote them, and no longer written: listed as stale, or pruned.
    pub stale: Vec<Written>,
    /// No longer fwtopo's: left alone and no longer listed.
    pub not_ours: Vec<(Written, NotOurs)>,
}

/// What the index an earlier export left in `dir` lists, stale scripts included, in its order and
/// once each; nothing when there is none. Lines that do not name a script fwtopo could have
/// written are ignored. A link or anything but a regular file is not read.
pub fn previous(dir: &Path) -> Result<Vec<Written>, FileError> {
    let path = dir.join(INDEX);
    let io = |e| FileError::io(&path, e);
    let Some(file) = open_regular(&path).map_err(io)? else {
        return Ok(Vec::new());
    };
    let mut bytes = Vec::new();
    file.take(MAX_INDEX + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_INDEX {
        return Err(io(std::io::Error::other(format!(
            "larger than {} MiB: not an index fwtopo wrote",
            MAX_INDEX >> 20
        ))));
    }
    let mut seen = HashSet::new();
    Ok(bytes
        .split(|b| *b == b'\n')
        .filter_map(|l| std::str::from_utf8(l).ok())
        .filter_map(|l| match l.strip_prefix(STALE) {
            Some(rest) => Written::parse(rest),
            None if l.starts_with('#') => None,
            None => Written::parse(l),
        })
        .filter(|w| seen.insert(w.file.clone()))
        .collect())
}

/// Sorts what an earlier export wrote (`previous`) and this one does not (`now`). `judged(script)`
/// says whether this export decides about a script (of every node, the one exported with
/// `--node`, a node gone from the topology; of its kind, firewall or probe); the others are
/// carried as they are while they exist.
/// A judged script is stale while it is a regular file that still starts with fwtopo's header for
/// its node and target; gone, it is forgotten; otherwise it is not fwtopo's any more.
pub fn leftovers(
    dir: &Path,
    previous: Vec<Written>,
    now: &[Written],
    judged: impl Fn(&Written) -> bool,
) -> Leftovers {
    let written: HashSet<&str> = now.iter().map(|w| w.file.as_str()).collect();
    let mut out = Leftovers::default();
    for w in previous {
        if written.contains(w.file.as_str()) {
            continue;
        }
        let path = dir.join(&w.file);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !judged(&w) {
            out.carried.push(w);
        } else if !meta.is_file() {
            out.not_ours.push((w, NotOurs::NotAFile));
        } else if holds_header(&path, &w) {
            out.stale.push(w);
        } else {
            out.not_ours.push((w, NotOurs::Changed));
        }
    }
    out
}

/// The index: `title` (already made a safe comment), the scripts this export wrote, the ones it
/// carried, and the stale ones to keep listing.
pub fn text(title: &str, written: &[Written], carried: &[Written], stale: &[Written]) -> String {
    let mut s = format!("# fwtopo export of {title}\n");
    for w in written.iter().chain(carried) {
        s.push_str(&w.line());
    }
    if !stale.is_empty() {
        s.push_str(
            "# stale: written by an earlier export, no longer written (--prune removes them)\n",
        );
        for w in stale {
            s.push_str(STALE);
            s.push_str(&w.line());
        }
    }
    s
}

/// Removes stale scripts from `dir`, each checked again to be a regular file (a link is never
/// followed nor removed); returns the paths removed and the ones that could not be, with why.
pub fn prune(dir: &Path, stale: &[Written]) -> (Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>) {
    let mut removed = Vec::new();
    let mut failed = Vec::new();
    for w in stale {
        let path = dir.join(&w.file);
        let result = match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => fs::remove_file(&path),
            Ok(_) => Err(std::io::Error::other(
                "no longer a regular file; left alone",
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => removed.push(path),
            Err(e) => failed.push((path, e)),
        }
    }
    (removed, failed)
}

/// Whether the script at `path` starts with the header line fwtopo gives `w`'s node and target.
fn holds_header(path: &Path, w: &Written) -> bool {
    let Ok(Some(file)) = open_regular(path) else {
        return false;
    };
    let mut head = Vec::new();
    if file.take(HEADER_BYTES).read_to_end(&mut head).is_err() {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    let want = format!("fwtopo {} export for node {}", w.target, w.node);
    head.lines()
        .take(3)
        .any(|l| l.trim_end_matches('\r').ends_with(&want))
}

/// Opens `path` for reading if it is a regular file, never through a link; `None` otherwise.
fn open_regular(path: &Path) -> std::io::Result<Option<fs::File>> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    // Replaced by a link since it was looked at: refused rather than followed.
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    match options.open(path) {
        Ok(f) => Ok(f.metadata()?.is_file().then_some(f)),
        Err(e) if e.raw_os_error() == Some(ELOOP) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `open` refuses a link with `O_NOFOLLOW` so.
#[cfg(target_os = "linux")]
const ELOOP: i32 = libc::ELOOP;
#[cfg(not(target_os = "linux"))]
const ELOOP: i32 = -1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lines_naming_a_script_fwtopo_could_write_count() {
        let w = |n: &str, t: Target| Written::new(n, t);
        assert_eq!(
            Written::parse("vz1.iptables.sh\tvz1\tiptables"),
            Some(w("vz1", Target::Iptables))
        );
        assert_eq!(
            Written::parse("pa-mn.netsh.cmd\tpa-mn\tnetsh\r"),
            Some(w("pa-mn", Target::Netsh))
        );
        // The probe script: bash, or PowerShell for a Windows node.
        assert_eq!(
            Written::parse("vz1.probe.sh\tvz1\tprobe"),
            Some(w("vz1", Target::Probe))
        );
        let win = Written::parse("iis.probe.ps1\tiis\tprobe").map(|w| w.file);
        assert_eq!(win.as_deref(), Some("iis.probe.ps1"));
        for bad in ["iis.probe.cmd\tiis\tprobe", "iis.probe.ps1\tiis2\tprobe"] {
            assert_eq!(Written::parse(bad), None, "{bad}");
        }
        for bad in [
            "../x.sh\tvz1\tiptables",
            "victim.txt\tvz1\tiptables",
            "vz1.iptables.sh\tvz2\tiptables",
            "vz1.iptables.sh\tvz1\tnftables",
            "vz1.iptables.sh\tvz1\tpf",
            "vz1.iptables.sh\tvz1",
            "../a.iptables.sh\t../a\tiptables",
            ".a.iptables.sh\t.a\tiptables",
            "",
        ] {
            assert_eq!(Written::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_index_lists_stale_scripts_as_comments_and_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = Written::new("a", Target::Nftables);
        let b = Written::new("b", Target::Ufw);
        let c = Written::new("c", Target::Csf);
        let text = text(
            "site",
            std::slice::from_ref(&a),
            std::slice::from_ref(&b),
            std::slice::from_ref(&c),
        );
        assert!(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .all(|l| !l.contains("c.csf")),
            "{text}"
        );
        fs::write(dir.path().join(INDEX), &text).unwrap();
        assert_eq!(previous(dir.path()).unwrap(), [a, b, c]);
        // No index, or a link where it should be: nothing is known.
        let empty = tempfile::tempdir().unwrap();
        assert!(previous(empty.path()).unwrap().is_empty());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join(INDEX), empty.path().join(INDEX)).unwrap();
            assert!(previous(empty.path()).unwrap().is_empty());
        }
    }

    #[test]
    fn a_script_is_stale_only_while_it_holds_what_fwtopo_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let node = |n: &str| Written::new(n, Target::Iptables);
        let header = |n: &str| format!("#!/bin/bash\n# fwtopo iptables export for node {n}\n");
        fs::write(dir.path().join("a.iptables.sh"), header("a")).unwrap();
        // Another node whose name starts the same is not this one's header.
        fs::write(dir.path().join("b.iptables.sh"), header("b1")).unwrap();
        fs::write(dir.path().join("c.iptables.sh"), header("c")).unwrap();
        let prev = vec![node("a"), node("b"), node("c"), node("d"), node("e")];
        fs::write(dir.path().join("e.iptables.sh"), header("e")).unwrap();
        let now = [node("e")];
        // c belongs to a node this export does not judge; d is gone; e is written again.
        let l = leftovers(dir.path(), prev, &now, |w| w.node != "c");
        assert_eq!(l.stale, [node("a")]);
        assert_eq!(l.carried, [node("c")]);
        assert_eq!(l.not_ours, [(node("b"), NotOurs::Changed)]);
        let (removed, failed) = prune(dir.path(), &l.stale);
        assert_eq!(removed, [dir.path().join("a.iptables.sh")]);
        assert!(failed.is_empty());
        assert!(!dir.path().join("a.iptables.sh").exists());
        // Gone since: nothing to do; no longer a regular file: left alone, and said so.
        let (removed, failed) = prune(dir.path(), &l.stale);
        assert!(removed.is_empty() && failed.is_empty());
        fs::create_dir(dir.path().join("a.iptables.sh")).unwrap();
        let (removed, failed) = prune(dir.path(), &l.stale);
        assert!(removed.is_empty());
        assert_eq!(failed.len(), 1);
        assert!(dir.path().join("a.iptables.sh").is_dir());
    }
}

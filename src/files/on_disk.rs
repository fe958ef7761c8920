//! What the designer knows of its file as it last read or wrote it, to notice another hand's
//! changes before a save replaces them, and the comments a save would drop.

use super::FileError;
use crate::topology::comments::CommentCounter;
use std::fs;
use std::path::Path;

/// What a designer knows of a topology file as it last read or wrote it: enough to notice that
/// another hand changed it since (its size and a hash of its bytes), and the comments a save would
/// drop. The modification time is left out on purpose: a file touched, or checked out again with
/// the same bytes, loses nothing when it is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnDisk {
    pub len: u64,
    pub hash: u64,
    /// `//` and `/* */` comments, which a save drops (see [`crate::topology::comments`]).
    pub comments: usize,
}

impl OnDisk {
    /// The file as these bytes.
    pub fn of(bytes: &[u8]) -> OnDisk {
        let mut seen = Seen::default();
        seen.feed(bytes);
        seen.finish()
    }

    /// Whether both are the same bytes (the comments follow from them).
    pub fn same_bytes(&self, other: &OnDisk) -> bool {
        self.len == other.len && self.hash == other.hash
    }
}

/// [`OnDisk`] of bytes fed in blocks.
#[derive(Default)]
struct Seen {
    len: u64,
    hash: std::collections::hash_map::DefaultHasher,
    comments: CommentCounter,
}

impl Seen {
    fn feed(&mut self, bytes: &[u8]) {
        use std::hash::Hasher;
        self.len += bytes.len() as u64;
        self.hash.write(bytes);
        self.comments.feed(bytes);
    }

    fn finish(self) -> OnDisk {
        use std::hash::Hasher;
        OnDisk {
            len: self.len,
            hash: self.hash.finish(),
            comments: self.comments.comments(),
        }
    }
}

/// The file at `path` (through links) as it is now, read in blocks; `None` when there is none.
/// Anything but a regular file is an error, never read (a FIFO would block).
pub fn on_disk(path: &Path) -> Result<Option<OnDisk>, FileError> {
    use std::io::Read;
    let io = |e| FileError::io(path, e);
    match fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(io(std::io::Error::other("not a regular file"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    }
    let mut file = fs::File::open(path).map_err(io)?;
    let mut seen = Seen::default();
    let mut block = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut block) {
            Ok(0) => return Ok(Some(seen.finish())),
            Ok(n) => seen.feed(&block[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
}

/// Whether the file a save would replace is still as it was `known` (`None`: there was none).
/// A file removed since counts as unchanged (nothing of it can be lost); one created since does
/// not.
pub fn unchanged_since(known: Option<&OnDisk>, now: Option<&OnDisk>) -> bool {
    match (known, now) {
        (Some(k), Some(n)) => k.same_bytes(n),
        (None, Some(_)) => false,
        (_, None) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::open_topology;
    use crate::topology;

    #[test]
    fn a_file_is_known_by_its_bytes_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.ron");
        assert_eq!(on_disk(&path).unwrap(), None);
        let text = include_str!("../../examples/cpanel-whm.ron");
        fs::write(&path, text).unwrap();
        let (t, seen) = open_topology(&path).unwrap();
        assert_eq!(t, topology::from_ron(text).unwrap());
        assert_eq!(seen.comments, 2);
        assert_eq!(seen.len, text.len() as u64);
        assert_eq!(on_disk(&path).unwrap(), Some(seen));
        // Same size, other bytes: changed.
        let other = text.replacen("cPanel", "cpanel", 1);
        fs::write(&path, &other).unwrap();
        let now = on_disk(&path).unwrap().unwrap();
        assert_eq!(now.len, seen.len);
        assert!(!seen.same_bytes(&now));
        assert!(!unchanged_since(Some(&seen), Some(&now)));
        assert!(unchanged_since(Some(&now), Some(&now)));
        // Created by another hand since: changed; removed since: nothing to lose.
        assert!(!unchanged_since(None, Some(&now)));
        assert!(unchanged_since(Some(&seen), None));
        assert!(unchanged_since(None, None));
        // A directory (or a FIFO) is not read.
        assert!(on_disk(dir.path()).is_err());
    }
}

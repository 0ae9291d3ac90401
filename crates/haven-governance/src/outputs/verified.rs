//! Held files already read and hashed, remembered by what the file system
//! says about them, so that showing a held output to its reviewers does not
//! read and hash every file again on every view (at the `icb` scale an
//! output holds ~700 files, and the review page was bound by SHA-256).
//!
//! A file is taken as unchanged only when its device, inode, size,
//! modification time *and* status-change time all match the time it last
//! hashed as its manifest says. The status-change time (ctime) is set by the
//! kernel on every write, rename or `utimes`, and no unprivileged call can
//! set it back, so a file edited in place or replaced keeps none of its old
//! stamp. Export never uses this: what leaves is hashed afresh
//! ([`super::Outputs::export`]).

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What identifies one version of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(m: &std::fs::Metadata) -> Stamp {
        Stamp { dev: m.dev(), ino: m.ino(), size: m.size(), mtime: (m.mtime(), m.mtime_nsec()), ctime: (m.ctime(), m.ctime_nsec()) }
    }
}

/// Files that hashed as their manifest says, with their bytes.
#[derive(Debug, Default)]
pub struct Verified {
    files: Mutex<HashMap<PathBuf, (Stamp, String, Arc<Vec<u8>>)>>,
}

/// Files remembered before the oldest are dropped (a few outputs' worth).
const KEPT: usize = 8_192;

impl Verified {
    /// The bytes of `path` if, with metadata `m` (read before the file),
    /// it is the version that last hashed to `sha256`.
    pub(super) fn get(&self, path: &Path, m: &std::fs::Metadata, sha256: &str) -> Option<Vec<u8>> {
        let files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let (stamp, sha, bytes) = files.get(path)?;
        (*stamp == Stamp::of(m) && sha == sha256).then(|| bytes.as_ref().clone())
    }

    /// Whether `path`, with metadata `m`, is the version that last hashed
    /// to `sha256` (without copying its bytes).
    pub(super) fn holds(&self, path: &Path, m: &std::fs::Metadata, sha256: &str) -> bool {
        let files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        files.get(path).is_some_and(|(stamp, sha, _)| *stamp == Stamp::of(m) && sha == sha256)
    }

    /// Remembers that `path`, with metadata `m` read before its bytes,
    /// hashed to `sha256`. (Had it changed after `m` was read, its ctime
    /// moved on and the stamp no longer matches: it is read again.)
    pub(super) fn put(&self, path: &Path, m: &std::fs::Metadata, sha256: &str, bytes: &[u8]) {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if files.len() >= KEPT {
            files.clear();
        }
        files.insert(path.to_path_buf(), (Stamp::of(m), sha256.to_owned(), Arc::new(bytes.to_vec())));
    }
}

#[cfg(test)]
mod tests {
    use std::fs::{File, FileTimes, OpenOptions};
    use std::io::Write;

    use super::super::{FileState, Outputs};
    use super::*;

    fn states(outputs: &Outputs, id: &str, v: &Verified) -> Vec<(String, FileState, Option<Vec<u8>>)> {
        let checked = outputs.inspect_verified_by(id, Some(v), |_| true, |_, name, bytes, names| Outputs::render(name, bytes, names)).unwrap();
        checked.into_iter().map(|(i, b)| (i.name, i.state, b)).collect()
    }

    #[test]
    fn a_file_changed_in_place_is_caught_even_with_its_size_and_mtime_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut outputs = Outputs::open(dir.path()).unwrap();
        let mut draft = outputs.draft("ana", "t", "D", "commissioning").unwrap();
        draft.put("a.csv", b"area,count\nN,10\n").unwrap();
        draft.put("b.csv", b"area,count\nS,20\n").unwrap();
        let out = draft.submit(&mut outputs).unwrap();
        let v = Verified::default();
        // First view: both read, hashed, remembered; the second view gives
        // the same bytes from memory.
        let first = states(&outputs, &out.id, &v);
        assert!(first.iter().all(|(_, s, _)| *s == FileState::Held));
        assert_eq!(v.files.lock().unwrap().len(), 2);
        assert_eq!(states(&outputs, &out.id, &v), first);
        // Same size, same modification time, other digits: the kernel moved
        // the status-change time, so the file is read and hashed again, and
        // found changed.
        let path = dir.path().join("outputs").join(&out.id).join("a.csv");
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all(b"area,count\nN,90\n").unwrap();
        f.set_times(FileTimes::new().set_modified(mtime)).unwrap();
        drop(f);
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
        let after = states(&outputs, &out.id, &v);
        assert_eq!((after[0].1, after[1].1), (FileState::Changed, FileState::Held));
        assert!(after[0].2.is_none());
        // Replaced by a new file with the old bytes: a new inode, read again,
        // and as written.
        std::fs::remove_file(&path).unwrap();
        File::create(&path).unwrap().write_all(b"area,count\nN,10\n").unwrap();
        assert_eq!(states(&outputs, &out.id, &v)[0].1, FileState::Held);
    }
}

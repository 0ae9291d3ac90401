//! Connections to a data directory's `catalog.sqlite`, kept per thread
//! between uses. The server opens the users, sessions, registry and outputs
//! tables on every request; opening SQLite afresh each time (the file, its
//! locks, its schema parsed again) was a large share of a page's cost under
//! fifty clients. A connection goes back to its thread's pool only outside
//! a transaction, and is reused only while the path still names the same
//! file (device and inode): a catalog replaced or removed under a running
//! process is opened afresh, never written through a stale handle.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// How many idle connections a thread keeps (a request holds at most four
/// tables open at once).
const KEEP: usize = 6;

/// Which file a connection was opened on.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FileId {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(path: &Path) -> Option<FileId> {
        let m = std::fs::metadata(path).ok()?;
        Some(FileId { path: path.to_path_buf(), dev: m.dev(), ino: m.ino() })
    }
}

thread_local! {
    static IDLE: RefCell<Vec<(FileId, Connection)>> = const { RefCell::new(Vec::new()) };
}

/// A catalog connection that returns to its thread's pool when dropped.
pub(crate) struct CatalogConn {
    conn: Option<Connection>,
    file: Option<FileId>,
}

impl CatalogConn {
    /// An idle connection to `path` if this thread has one on the same
    /// file, else a new one (with the ten-second wait for a writer).
    pub(crate) fn open(path: &Path) -> rusqlite::Result<CatalogConn> {
        if let Some(file) = FileId::of(path) {
            let reused = IDLE.with(|idle| {
                let mut idle = idle.borrow_mut();
                let at = idle.iter().position(|(f, _)| *f == file)?;
                Some(idle.swap_remove(at).1)
            });
            if let Some(conn) = reused {
                return Ok(CatalogConn { conn: Some(conn), file: Some(file) });
            }
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // A kept connection keeps its page cache: 512 KiB each (SQLite's
        // default is 2 MiB), so a server's pools stay small however many
        // blocking threads it has run on.
        conn.execute_batch("PRAGMA cache_size = -512")?;
        Ok(CatalogConn { conn: Some(conn), file: FileId::of(path) })
    }
}

impl Deref for CatalogConn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a catalog connection is present until dropped")
    }
}

impl DerefMut for CatalogConn {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("a catalog connection is present until dropped")
    }
}

impl Drop for CatalogConn {
    fn drop(&mut self) {
        let (Some(conn), Some(file)) = (self.conn.take(), self.file.take()) else { return };
        if !conn.is_autocommit() {
            return;
        }
        // A thread being torn down has no pool left; the connection closes.
        let _ = IDLE.try_with(|idle| {
            if let Ok(mut idle) = idle.try_borrow_mut() {
                if idle.len() < KEEP {
                    idle.push((file, conn));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(path: &Path) -> usize {
        let file = FileId::of(path).unwrap();
        IDLE.with(|idle| idle.borrow().iter().filter(|(f, _)| *f == file).count())
    }

    #[test]
    fn a_connection_is_reused_on_the_same_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.sqlite");
        {
            let c = CatalogConn::open(&path).unwrap();
            c.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").unwrap();
        }
        assert_eq!(count(&path), 1, "returned to the pool");
        {
            let c = CatalogConn::open(&path).unwrap();
            assert_eq!(count(&path), 0, "taken from the pool");
            let x: i64 = c.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
            assert_eq!(x, 1);
        }
        // The file is replaced: the idle handle is not used for the new one.
        std::fs::remove_file(&path).unwrap();
        let c = CatalogConn::open(&path).unwrap();
        let tables: i64 = c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 't'", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0, "a new file, opened afresh");
    }

    #[test]
    fn a_connection_inside_a_transaction_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.sqlite");
        let c = CatalogConn::open(&path).unwrap();
        c.execute_batch("CREATE TABLE t (x INTEGER); BEGIN; INSERT INTO t VALUES (1);").unwrap();
        drop(c);
        assert_eq!(count(&path), 0);
        let c = CatalogConn::open(&path).unwrap();
        let n: i64 = c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "the open transaction was rolled back when its connection closed");
    }
}

//! The audit key and the checkpoint an auditor keeps.
//!
//! The chain is keyed (HMAC-SHA-256) so that someone who can write the
//! metadata database — but not read the keys folder — cannot rewrite history
//! and recompute a consistent chain, as they could with plain SHA-256. The
//! key lives with the zone and session keys (`<keys-dir>/audit.key`, mode
//! 0600, never inside the data directory), created with the first entry of a
//! new log and never again: a log with entries and no key is refused, because
//! a fresh key would silently start a chain no one can tie to the old one.
//!
//! A [`Checkpoint`] is the head of the log at one moment (entry count, last
//! entry's MAC, and a MAC over both) that an auditor copies somewhere the
//! operator of the data directory cannot write. Given back to
//! [`super::AuditLog::verify_with`], it detects what no check inside the data
//! directory can: a log cut back to an older state, emptied or dropped
//! together with its head file.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::GovernanceError;

/// The file in the keys folder that holds the audit key.
pub const KEY_FILE: &str = "audit.key";

/// The secret that keys the audit chain (32 random bytes).
pub struct AuditKey([u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(redacted)")
    }
}

impl AuditKey {
    /// The key in `keys_dir`, or `None` if there is none yet. A key file
    /// that group or others may read is refused: it is no longer a secret.
    pub fn load(keys_dir: &Path) -> Result<Option<AuditKey>, GovernanceError> {
        let path = keys_dir.join(KEY_FILE);
        let io = |source| GovernanceError::Io { path: path.display().to_string(), source };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(GovernanceError::Refused(format!("{} may be read by group or others (mode {:o}): make it 0600", path.display(), mode & 0o777)));
            }
        }
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(|k| Some(AuditKey(k)))
            .map_err(|_| GovernanceError::Refused(format!("{} is not a 32-byte audit key", path.display())))
    }

    /// Creates a new key in `keys_dir` (never overwriting one).
    pub(super) fn create(keys_dir: &Path) -> Result<AuditKey, GovernanceError> {
        let path = keys_dir.join(KEY_FILE);
        let io = |source| GovernanceError::Io { path: path.display().to_string(), source };
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| GovernanceError::Refused(format!("no randomness for a key: {e}")))?;
        std::fs::create_dir_all(keys_dir).map_err(io)?;
        crate::session::write_private(&path, &key).map_err(io)?;
        Ok(AuditKey(key))
    }

    /// HMAC-SHA-256 under a domain label over length-prefixed parts (so no
    /// part can be shifted into its neighbour), as hex.
    pub(super) fn mac(&self, label: &str, parts: &[&str]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac.update(b"\0");
        for part in parts {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        haven_store::hex(&mac.finalize().into_bytes())
    }
}

/// Refuses a keys folder inside the data directory: whoever copies or can
/// write the data would then hold the key that makes the chain trustworthy.
pub(super) fn refuse_inside(keys_dir: &Path, data_dir: &Path) -> Result<(), GovernanceError> {
    let (keys, data) = (resolve(keys_dir), resolve(data_dir));
    if keys.starts_with(&data) {
        return Err(GovernanceError::Refused(format!(
            "the keys folder {} is inside the data directory {}: keep the audit key outside it",
            keys_dir.display(),
            data_dir.display()
        )));
    }
    Ok(())
}

/// `path` made absolute through its nearest existing ancestor (symlinks
/// resolved), so `a/../a/keys` and a link into the data directory compare
/// as what they are.
fn resolve(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut at = path.to_path_buf();
    loop {
        if let Ok(real) = at.canonicalize() {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (at.file_name().map(|n| n.to_os_string()), at.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                at = if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent.to_path_buf() };
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// The head of the log at one moment, as an auditor keeps it:
/// `haven-audit-1:<entries>:<last entry's MAC>:<MAC over both>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// How many entries the log held.
    pub entries: u64,
    /// The MAC of the last of them (the genesis value for an empty log).
    pub last: String,
    /// HMAC of the two under the audit key: a checkpoint cannot be made up
    /// without the key, nor one of another deployment passed off as this one's.
    pub mac: String,
}

const CHECKPOINT_PREFIX: &str = "haven-audit-1";

impl Checkpoint {
    pub(super) fn new(key: &AuditKey, entries: u64, last: &str) -> Checkpoint {
        Checkpoint { entries, last: last.to_owned(), mac: Checkpoint::expected_mac(key, entries, last) }
    }

    fn expected_mac(key: &AuditKey, entries: u64, last: &str) -> String {
        key.mac("haven-audit-checkpoint-v1", &[&entries.to_string(), last])
    }

    /// Whether `key` made this checkpoint.
    pub(super) fn is_made_by(&self, key: &AuditKey) -> bool {
        Checkpoint::expected_mac(key, self.entries, &self.last) == self.mac
    }

    /// Reads the form [`Checkpoint`]'s `Display` writes.
    pub fn parse(text: &str) -> Result<Checkpoint, GovernanceError> {
        let bad = || GovernanceError::Audit(format!("a checkpoint looks like {CHECKPOINT_PREFIX}:<entries>:<mac>:<mac>; this one does not"));
        let parts: Vec<&str> = text.trim().split(':').collect();
        let [CHECKPOINT_PREFIX, entries, last, mac] = parts.as_slice() else { return Err(bad()) };
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex64(last) || !hex64(mac) {
            return Err(bad());
        }
        Ok(Checkpoint { entries: entries.parse().map_err(|_| bad())?, last: last.to_ascii_lowercase(), mac: mac.to_ascii_lowercase() })
    }
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{CHECKPOINT_PREFIX}:{}:{}:{}", self.entries, self.last, self.mac)
    }
}

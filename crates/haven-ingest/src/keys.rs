//! Pseudonymisation keys and keyed tokens.
//!
//! Each keyed zone has its own 256-bit secret in a file outside the data
//! directory (`haven keys init` writes them, mode 0600). A token is
//! HMAC-SHA-256 of the NHS number under the zone's key, truncated to 128 bits
//! and written as 32 hex characters (the width of HES's TOKEN_PERSON_ID), so
//! the same person has unrelated tokens in different zones and no token can
//! be reversed without its key (DESIGN.md §2).
//!
//! Keys fail closed (issue 14 item 6): a key folder inside the data
//! directory (or holding it) is refused, since whoever copies the data would
//! copy the keys with it; a key file readable or writable by group or others
//! is refused; the catalog records each zone's key id at its first load
//! ([`KEY_ID_SETTING`]) and a load under another key is refused, because
//! tokens made under different keys do not link. [`Keys::rotate`] is the one
//! way to change a key, and only for a zone that holds no data.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use haven_store::{Catalog, Zone};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::IngestError;
use crate::source::hex;

/// Prefix of the catalog setting that records a zone's key id
/// (`zone_key_id.<zone>`), written at the zone's first load.
pub const KEY_ID_SETTING: &str = "zone_key_id.";

/// The secret of one zone.
#[derive(Clone)]
pub struct ZoneKey {
    zone: Zone,
    secret: [u8; 32],
}

impl std::fmt::Debug for ZoneKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZoneKey({}, id {})", self.zone, self.id())
    }
}

impl ZoneKey {
    /// A key from raw bytes (tests and key files).
    pub fn new(zone: Zone, secret: [u8; 32]) -> ZoneKey {
        ZoneKey { zone, secret }
    }

    /// A public fingerprint of the key, recorded in lineage: the first 16 hex
    /// digits of SHA-256 over a label and the secret.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"haven key id\0");
        h.update(self.secret);
        hex(&h.finalize())[..16].to_owned()
    }

    /// The person token for an NHS number.
    pub fn person_token(&self, nhs_number: u64) -> String {
        self.token(b"person", format!("{nhs_number:010}").as_bytes())
    }

    /// The token of a record identifier (EPIKEY, ATTENDKEY, ...) in its
    /// identifier space (`haven.record_key`), domain-separated from person
    /// and spell tokens and from other spaces.
    pub fn record_token(&self, space: &str, value: &str) -> String {
        self.token(format!("record.{space}").as_bytes(), value.as_bytes())
    }

    /// A keyed token for another identifier (e.g. a provider spell number),
    /// domain-separated from person tokens by `label`.
    pub fn token(&self, label: &[u8], value: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(label);
        mac.update(b"\0");
        mac.update(value);
        hex(&mac.finalize().into_bytes()[..16])
    }
}

/// The keys of every keyed zone, read from a key directory.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    keys: BTreeMap<Zone, ZoneKey>,
}

impl Keys {
    fn path(dir: &Path, zone: Zone) -> PathBuf {
        dir.join(format!("{}.key", zone.name()))
    }

    /// Refuses a key folder inside the data directory, or a data directory
    /// inside the key folder (either way a copy of one carries the other).
    /// Paths are compared canonically, so `..` and symbolic links do not
    /// hide the nesting; a folder not created yet is resolved through its
    /// nearest existing parent.
    pub fn check_location(keys_dir: &Path, data_dir: &Path) -> Result<(), IngestError> {
        let keys = canonical(keys_dir);
        let data = canonical(data_dir);
        let refuse = |reason: String| Err(IngestError::Key { zone: "all".into(), reason });
        if keys.starts_with(&data) {
            return refuse(format!(
                "the key folder {} is inside the data directory {}; keep the keys outside it (--keys-dir)",
                keys_dir.display(),
                data_dir.display()
            ));
        }
        if data.starts_with(&keys) {
            return refuse(format!(
                "the data directory {} is inside the key folder {}; keep the keys apart from the data (--keys-dir)",
                data_dir.display(),
                keys_dir.display()
            ));
        }
        Ok(())
    }

    /// Checks these keys against the key ids the catalog recorded at each
    /// zone's first load, and records the ids of zones keyed for the first
    /// time (before the load writes anything, so a failed load still fixes
    /// the id: fail closed).
    pub fn check_recorded(&self, catalog: &mut dyn Catalog) -> Result<(), IngestError> {
        for (zone, key) in &self.keys {
            let name = format!("{KEY_ID_SETTING}{}", zone.name());
            let id = key.id();
            match catalog.setting(&name)? {
                Some(was) if was != id => {
                    return Err(IngestError::KeyChanged { zone: zone.name().into(), recorded: was, found: id })
                }
                Some(_) => {}
                None => catalog.set_setting(&name, &id)?,
            }
        }
        Ok(())
    }

    /// Replaces a zone's key with a new random one: the old file is kept,
    /// retired, beside it as `<zone>.key.retired-<old id>`; the new one is
    /// written with mode 0600. Returns (old id, new id). The caller must
    /// have checked the zone holds no data.
    pub fn rotate(dir: &Path, zone: Zone) -> Result<(String, String), IngestError> {
        let key_err = |reason: String| IngestError::Key { zone: zone.name().into(), reason };
        if !zone.has_key() {
            return Err(key_err("this zone has no key".into()));
        }
        let old = Keys::load(dir, &[zone])?;
        let old_id = old.get(zone).map(ZoneKey::id).unwrap_or_default();
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| key_err(format!("no randomness: {e}")))?;
        let new_id = ZoneKey::new(zone, secret).id();
        let path = Keys::path(dir, zone);
        let fresh = dir.join(format!("{}.key.new", zone.name()));
        let _ = fs::remove_file(&fresh);
        write_private(&fresh, hex(&secret).as_bytes()).map_err(|e| key_err(format!("write {}: {e}", fresh.display())))?;
        let retired = dir.join(format!("{}.key.retired-{old_id}", zone.name()));
        if retired.exists() {
            return Err(key_err(format!("{} already exists", retired.display())));
        }
        fs::hard_link(&path, &retired).map_err(|e| key_err(format!("retire {}: {e}", path.display())))?;
        fs::rename(&fresh, &path).map_err(|e| key_err(format!("install {}: {e}", path.display())))?;
        Ok((old_id, new_id))
    }

    /// Creates any missing key files in `dir` (never overwriting one) and
    /// returns the zones whose keys were created.
    pub fn init(dir: &Path) -> Result<Vec<Zone>, IngestError> {
        let key_err = |zone: Zone, reason: String| IngestError::Key { zone: zone.name().into(), reason };
        fs::create_dir_all(dir).map_err(|e| key_err(Zone::Pseudonymised, format!("create {}: {e}", dir.display())))?;
        let mut created = Vec::new();
        for zone in Zone::ALL.into_iter().filter(|z| z.has_key()) {
            let path = Keys::path(dir, zone);
            if path.exists() {
                continue;
            }
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret).map_err(|e| key_err(zone, format!("no randomness: {e}")))?;
            write_private(&path, hex(&secret).as_bytes()).map_err(|e| key_err(zone, format!("write {}: {e}", path.display())))?;
            created.push(zone);
        }
        Ok(created)
    }

    /// Reads the keys of `zones` from `dir`.
    pub fn load(dir: &Path, zones: &[Zone]) -> Result<Keys, IngestError> {
        let mut keys = BTreeMap::new();
        for &zone in zones.iter().filter(|z| z.has_key()) {
            let path = Keys::path(dir, zone);
            check_private(zone, &path)?;
            let text = fs::read_to_string(&path).map_err(|e| IngestError::Key {
                zone: zone.name().into(),
                reason: format!("cannot read {} ({e}); run `haven keys init` to create the zone keys", path.display()),
            })?;
            let secret = parse_secret(text.trim()).ok_or_else(|| IngestError::Key {
                zone: zone.name().into(),
                reason: format!("{} does not hold 64 hex digits", path.display()),
            })?;
            keys.insert(zone, ZoneKey::new(zone, secret));
        }
        Ok(Keys { keys })
    }

    /// The key of a zone, if loaded.
    pub fn get(&self, zone: Zone) -> Option<&ZoneKey> {
        self.keys.get(&zone)
    }

    /// `{"zone": "key id"}` for lineage.
    pub fn ids_json(&self) -> String {
        let ids: BTreeMap<&str, String> = self.keys.iter().map(|(z, k)| (z.name(), k.id())).collect();
        serde_json::to_string(&ids).unwrap_or_default()
    }
}

/// Refuses a key file that group or others may read or write: anyone who can
/// read it can reverse-link tokens (names the file and its mode, never the key).
fn check_private(zone: Zone, path: &Path) -> Result<(), IngestError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(IngestError::Key {
                    zone: zone.name().into(),
                    reason: format!(
                        "{} has mode {mode:04o}, readable or writable by group or others; make it owner-only (chmod 600)",
                        path.display()
                    ),
                });
            }
        }
    }
    let _ = (zone, path);
    Ok(())
}

/// A path made absolute and canonical as far as it exists; the part that
/// does not exist yet is appended as given.
fn canonical(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

fn parse_secret(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_keyed_per_zone_and_domain_separated() {
        let a = ZoneKey::new(Zone::Pseudonymised, [1; 32]);
        let b = ZoneKey::new(Zone::Ceff, [2; 32]);
        let n = 9_434_765_919;
        assert_eq!(a.person_token(n), a.person_token(n));
        assert_eq!(a.person_token(n).len(), 32);
        assert_ne!(a.person_token(n), b.person_token(n));
        assert_ne!(a.person_token(n), a.token(b"spell", b"9434765919"));
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn init_creates_private_keys_once_and_load_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let created = Keys::init(dir.path()).unwrap();
        assert_eq!(created, [Zone::Ceff, Zone::DirectCare, Zone::Pseudonymised]);
        assert!(Keys::init(dir.path()).unwrap().is_empty(), "existing keys are never overwritten");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("pseudonymised.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let keys = Keys::load(dir.path(), &[Zone::Pseudonymised, Zone::Staging]).unwrap();
        assert!(keys.get(Zone::Pseudonymised).is_some() && keys.get(Zone::Staging).is_none());
        fs::write(dir.path().join("ceff.key"), "zz").unwrap();
        let err = Keys::load(dir.path(), &[Zone::Ceff]).unwrap_err().to_string();
        assert!(err.contains("64 hex digits"), "{err}");
        let empty = tempfile::tempdir().unwrap();
        let err = Keys::load(empty.path(), &[Zone::Ceff]).unwrap_err().to_string();
        assert!(err.contains("haven keys init"), "{err}");
    }

    /// Issue 14 item 6: a key file group or others can read is refused,
    /// naming the file and mode and no key material.
    #[cfg(unix)]
    #[test]
    fn issue_14_a_key_readable_by_group_or_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        Keys::init(dir.path()).unwrap();
        let path = dir.path().join("ceff.key");
        let secret = fs::read_to_string(&path).unwrap();
        for mode in [0o640, 0o604, 0o620, 0o644] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = Keys::load(dir.path(), &[Zone::Ceff]).unwrap_err().to_string();
            assert!(err.contains("ceff.key") && err.contains(&format!("{mode:04o}")), "{err}");
            assert!(!err.contains(secret.trim()));
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Keys::load(dir.path(), &[Zone::Ceff]).is_ok());
    }

    /// Issue 14 item 6: keys inside the data directory (or the reverse) are
    /// refused, also through `..` and a symbolic link.
    #[test]
    fn issue_14_keys_and_data_must_not_nest() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir_all(data.join("zones")).unwrap();
        assert!(Keys::check_location(&root.path().join("keys"), &data).is_ok());
        assert!(Keys::check_location(&data.join("keys"), &data).is_err());
        assert!(Keys::check_location(&data.join("zones/../k"), &data).is_err());
        assert!(Keys::check_location(&data, &data).is_err());
        assert!(Keys::check_location(root.path(), &data).is_err(), "data inside the key folder");
        #[cfg(unix)]
        {
            let link = root.path().join("elsewhere");
            std::os::unix::fs::symlink(&data, &link).unwrap();
            let err = Keys::check_location(&link.join("keys"), &data).unwrap_err().to_string();
            assert!(err.contains("inside the data directory"), "{err}");
        }
    }

    #[test]
    fn issue_14_rotation_retires_the_old_key_and_writes_a_private_new_one() {
        let dir = tempfile::tempdir().unwrap();
        Keys::init(dir.path()).unwrap();
        let before = Keys::load(dir.path(), &[Zone::Pseudonymised]).unwrap().get(Zone::Pseudonymised).unwrap().id();
        let (old, new) = Keys::rotate(dir.path(), Zone::Pseudonymised).unwrap();
        assert_eq!(old, before);
        assert_ne!(old, new);
        let after = Keys::load(dir.path(), &[Zone::Pseudonymised]).unwrap().get(Zone::Pseudonymised).unwrap().id();
        assert_eq!(after, new);
        assert!(dir.path().join(format!("pseudonymised.key.retired-{old}")).is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("pseudonymised.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(Keys::rotate(dir.path(), Zone::National).is_err());
    }
}

//! Pseudonymisation keys and keyed tokens.
//!
//! Each keyed zone has its own 256-bit secret in a file outside the data
//! directory (`haven keys init` writes them, mode 0600). A token is
//! HMAC-SHA-256 of the NHS number under the zone's key, truncated to 128 bits
//! and written as 32 hex characters (the width of HES's TOKEN_PERSON_ID), so
//! the same person has unrelated tokens in different zones and no token can
//! be reversed without its key (DESIGN.md §2).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use haven_store::Zone;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::IngestError;
use crate::source::hex;

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
}

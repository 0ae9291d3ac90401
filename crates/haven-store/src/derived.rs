//! Derived datasets: tables computed from another dataset of the same zone
//! (e.g. `apc_spell_derived` from `apc_episode`), stored as ordinary loads so they
//! get the same atomic commit, lineage and retention.
//!
//! A derived load names its source in `source_path` as
//! `derived:<zone>.<dataset>` and records in `source_sha256` the
//! [`Store::fingerprint`] of the source's committed files when it was built.
//! A derived dataset whose source has changed since (a new load, a reload,
//! a retention rewrite) is stale; [`Store::is_current`] says so and
//! sessions do not register it, so a reader sees a derivation only of the
//! data it is reading.

use sha2::{Digest, Sha256};

use crate::catalog::LoadRecord;
use crate::error::StoreError;
use crate::load::{hex, Store};
use crate::zone::Zone;

const PREFIX: &str = "derived:";

/// The `source_path` of a load derived from `zone.dataset`.
pub fn derived_source(zone: Zone, dataset: &str) -> String {
    format!("{PREFIX}{}.{dataset}", zone.name())
}

/// The zone and dataset a derived load was built from, if it is one.
pub fn derived_from(load: &LoadRecord) -> Option<(Zone, &str)> {
    let (zone, dataset) = load.source_path.strip_prefix(PREFIX)?.split_once('.')?;
    Some((Zone::from_name(zone)?, dataset))
}

impl Store {
    /// SHA-256 over the sorted SHA-256s of `zone.dataset`'s committed files:
    /// it changes whenever any file is added, removed or replaced.
    pub fn fingerprint(&self, zone: Zone, dataset: &str) -> Result<String, StoreError> {
        let mut hashes: Vec<String> = self.catalog().files(zone, dataset)?.into_iter().map(|f| f.sha256).collect();
        hashes.sort();
        let mut h = Sha256::new();
        for s in hashes {
            h.update(s.as_bytes());
            h.update(b"\n");
        }
        Ok(hex(&h.finalize()))
    }

    /// Committed loads of `zone.dataset` (derived ones included).
    pub fn dataset_loads(&self, zone: Zone, dataset: &str) -> Result<Vec<LoadRecord>, StoreError> {
        let mut ids: Vec<String> = self.catalog().files(zone, dataset)?.into_iter().map(|f| f.load_id).collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            if let Some(l) = self.catalog().load(&id)? {
                out.push(l);
            }
        }
        Ok(out)
    }

    /// False when any load of `zone.dataset` is derived from a source whose
    /// files have changed since it was built.
    pub fn is_current(&self, zone: Zone, dataset: &str) -> Result<bool, StoreError> {
        for load in self.dataset_loads(zone, dataset)? {
            if let Some((z, source)) = derived_from(&load) {
                if self.fingerprint(z, source)? != load.source_sha256 {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

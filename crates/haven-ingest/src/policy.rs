//! What a load is allowed to keep: the controller ICB, the minimisation rule,
//! which opt-out purposes each zone needs, and the reference data and opt-out
//! lists those rules are checked against.
//!
//! The governance issue turns this into a Data Sharing Agreement read from a
//! reviewed file; until then the defaults follow datasets.md §7 and the
//! DSfC agreements: opt-outs for commissioning and risk stratification apply
//! to the pseudonymised zone and never to invoice validation (CEfF).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, StringArray};
use haven_store::{Store, Zone};
use serde::Serialize;

use crate::error::IngestError;
use crate::validate::{normalise_postcode, KnownCodes};

/// Which of the commissioner's links to a patient keep a record (DESIGN.md
/// §2: registered with, resident in, or treated by a provider it hosts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Minimisation {
    pub registered: bool,
    pub resident: bool,
    pub hosted_provider: bool,
}

impl Minimisation {
    /// Parses a comma-separated list of `registered`, `resident`, `hosted`.
    pub fn parse(text: &str) -> Result<Minimisation, String> {
        let mut m = Minimisation { registered: false, resident: false, hosted_provider: false };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "registered" => m.registered = true,
                "resident" => m.resident = true,
                "hosted" => m.hosted_provider = true,
                other => return Err(format!("unknown minimisation rule {other:?} (expected registered, resident, hosted)")),
            }
        }
        if !(m.registered || m.resident || m.hosted_provider) {
            return Err("minimisation needs at least one of registered, resident, hosted".into());
        }
        Ok(m)
    }
}

/// The rules a load runs under.
#[derive(Clone, Debug, Serialize)]
pub struct IngestPolicy {
    /// The controller ICB (ODS code, e.g. `QMJ`).
    pub icb: String,
    /// The Data Sharing Agreement id, recorded in lineage.
    pub dsa: Option<String>,
    /// The version of that agreement (in the registry) the load runs under.
    pub dsa_version: Option<u32>,
    pub minimisation: Minimisation,
    /// Opt-out clean-list purposes a person must be on to reach each zone.
    pub optout_purposes: BTreeMap<Zone, Vec<String>>,
    /// Who ran the load.
    pub operator: String,
    /// Values read as "not recorded" in code fields (configurable: the
    /// source convention is not a published rule).
    #[serde(serialize_with = "as_text")]
    pub null_placeholders: haven_model::NullPlaceholders,
}

fn as_text<S: serde::Serializer>(p: &haven_model::NullPlaceholders, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
}

impl IngestPolicy {
    /// The defaults for an ICB: all three minimisation links; the
    /// pseudonymised zone needs the COMMISSIONING and RISK_STRATIFICATION
    /// clean lists; CEfF and direct care need none (datasets.md §7: the
    /// national data opt-out does not apply to invoice validation or to
    /// direct care).
    pub fn for_icb(icb: &str) -> IngestPolicy {
        IngestPolicy {
            icb: icb.to_ascii_uppercase(),
            dsa: None,
            dsa_version: None,
            minimisation: Minimisation { registered: true, resident: true, hosted_provider: true },
            optout_purposes: BTreeMap::from([(
                Zone::Pseudonymised,
                vec!["COMMISSIONING".to_owned(), "RISK_STRATIFICATION".to_owned()],
            )]),
            operator: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            null_placeholders: haven_model::NullPlaceholders::default(),
        }
    }
}

/// The staging dataset holding the opt-out clean lists.
const OPTOUT_DATASET: &str = "optout_clean_list";

/// Reference data and opt-out lists loaded from the store for one load.
#[derive(Default)]
pub struct Context {
    pub known: Arc<KnownCodes>,
    /// Practice → ICB (through its sub-ICB parent).
    pub practice_icb: HashMap<String, String>,
    /// LSOA 2021 → ICB.
    pub lsoa_icb: HashMap<String, String>,
    /// Provider → the ICB that hosts it.
    pub provider_host: HashMap<String, String>,
    /// Clean list per purpose: NHS numbers that have not opted out.
    pub clean: HashMap<String, HashSet<u64>>,
    /// Which clean list `clean` holds (the newest), recorded by each load.
    pub optout_list: Option<OptoutList>,
}

/// The opt-out clean list a load applied: the list's own load, the SHA-256
/// of the file it came from and when that load was committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OptoutList {
    pub load: String,
    pub sha256: String,
    pub loaded_at: String,
}

fn strings(batch: &arrow::record_batch::RecordBatch, name: &str) -> Option<StringArray> {
    let col = batch.column_by_name(name)?;
    col.as_any().downcast_ref::<StringArray>().cloned()
}

fn get(a: &Option<StringArray>, i: usize) -> Option<&str> {
    a.as_ref().filter(|a| a.is_valid(i)).map(|a| a.value(i))
}

impl Context {
    /// Loads what the reference zone and staging hold. Missing reference data
    /// leaves the matching map empty; [`Context::require`] says what a feed
    /// cannot do without.
    pub fn load(store: &Store, need_optouts: bool) -> Result<Context, IngestError> {
        let mut known = KnownCodes::default();
        let mut parent: HashMap<String, (String, String)> = HashMap::new();
        let mut ctx = Context::default();
        store.scan(Zone::Reference, "org", &["ORG_CODE", "ORG_TYPE", "PARENT_CODE", "HOST_ICB"], |b| {
            let (code, kind, par, host) =
                (strings(b, "ORG_CODE"), strings(b, "ORG_TYPE"), strings(b, "PARENT_CODE"), strings(b, "HOST_ICB"));
            for i in 0..b.num_rows() {
                let Some(c) = get(&code, i) else { continue };
                known.orgs.insert(c.to_owned());
                parent.insert(
                    c.to_owned(),
                    (get(&kind, i).unwrap_or("").to_owned(), get(&par, i).unwrap_or("").to_owned()),
                );
                if let Some(h) = get(&host, i).filter(|h| !h.is_empty()) {
                    ctx.provider_host.insert(c.to_owned(), h.to_owned());
                }
            }
            Ok(())
        })?;
        for (code, (kind, _)) in &parent {
            if kind == "GP_PRACTICE" {
                if let Some(icb) = icb_of(&parent, code) {
                    ctx.practice_icb.insert(code.clone(), icb);
                }
            }
        }
        store.scan(Zone::Reference, "lsoa_lookup", &["LSOA21", "LSOA11", "ICB", "IMD_DECILE"], |b| {
            let (lsoa, lsoa11, icb) = (strings(b, "LSOA21"), strings(b, "LSOA11"), strings(b, "ICB"));
            let imd = b.column_by_name("IMD_DECILE").and_then(|c| c.as_any().downcast_ref::<arrow::array::Int32Array>().cloned());
            for i in 0..b.num_rows() {
                if let (Some(l), Some(c)) = (get(&lsoa, i), get(&icb, i)) {
                    ctx.lsoa_icb.insert(l.to_owned(), c.to_owned());
                }
                if let Some(d) = imd.as_ref().filter(|a| a.is_valid(i)).map(|a| a.value(i)) {
                    for l in [get(&lsoa, i), get(&lsoa11, i)].into_iter().flatten() {
                        known.lsoa_imd.insert(l.to_owned(), d);
                    }
                }
            }
            Ok(())
        })?;
        store.scan(Zone::Reference, "postcode_lookup", &["POSTCODE", "LSOA21"], |b| {
            let (pc, lsoa) = (strings(b, "POSTCODE"), strings(b, "LSOA21"));
            for i in 0..b.num_rows() {
                if let (Some(p), Some(l)) = (get(&pc, i), get(&lsoa, i)) {
                    known.postcode_lsoa.insert(normalise_postcode(p), l.to_owned());
                }
            }
            Ok(())
        })?;
        if need_optouts {
            // The newest clean list supersedes the older ones (issue 14 item
            // 7): the national service returns the whole list cleaned against
            // today's opt-outs, so someone missing from an older list who is
            // on the newest has withdrawn their opt-out, and someone on an
            // older list only has since opted out. Merging lists would keep
            // the latter flowing. "Newest" is the latest committed load (its
            // commit time, then its id, which starts with that time): the
            // list the DSCRO received last, whatever dates its rows carry
            // (CLEANED_ON is a value in the file, not a fact Haven checked).
            let mut lists = store.dataset_loads(Zone::Staging, OPTOUT_DATASET)?;
            lists.retain(|l| l.status == haven_store::LoadStatus::Committed);
            lists.sort_by(|a, b| (&a.finished_at, &a.id).cmp(&(&b.finished_at, &b.id)));
            if let Some(newest) = lists.pop() {
                let files: Vec<_> = store
                    .catalog()
                    .load_files(&newest.id)?
                    .into_iter()
                    .filter(|f| f.zone == Zone::Staging && f.dataset == OPTOUT_DATASET)
                    .collect();
                for file in &files {
                    store.read_file(file, Some(&["PURPOSE", "NEWNHSNO"][..]), |b| {
                        let (purpose, nhs) = (strings(b, "PURPOSE"), strings(b, "NEWNHSNO"));
                        for i in 0..b.num_rows() {
                            if let (Some(p), Some(n)) = (get(&purpose, i), get(&nhs, i).and_then(|n| n.parse().ok())) {
                                ctx.clean.entry(p.to_owned()).or_default().insert(n);
                            }
                        }
                        Ok(())
                    })?;
                }
                ctx.optout_list =
                    Some(OptoutList { load: newest.id, sha256: newest.source_sha256, loaded_at: newest.finished_at });
            }
        }
        ctx.known = Arc::new(known);
        Ok(ctx)
    }

    /// Refuses a load that would write a zone whose opt-out list or
    /// minimisation lookups are not loaded, rather than let data through
    /// unfiltered.
    pub fn require(&self, policy: &IngestPolicy, zones: &[Zone], person_level: bool) -> Result<(), IngestError> {
        for zone in zones {
            if !person_level {
                break;
            }
            for purpose in policy.optout_purposes.get(zone).into_iter().flatten() {
                if !self.clean.contains_key(purpose) {
                    return Err(IngestError::Prerequisite(format!(
                        "zone {zone} needs the national data opt-out clean list for {purpose}, and the newest loaded list \
                         has none; load optout_clean_list first (the newest list supersedes older ones)"
                    )));
                }
            }
        }
        let minimised = zones.iter().any(|z| matches!(z, Zone::Ceff | Zone::Pseudonymised | Zone::DirectCare));
        if minimised && person_level && self.practice_icb.is_empty() && self.lsoa_icb.is_empty() {
            return Err(IngestError::Prerequisite(
                "minimisation needs the org and lsoa_lookup reference tables, and neither is loaded; load reference data first"
                    .into(),
            ));
        }
        Ok(())
    }
}

fn icb_of(parent: &HashMap<String, (String, String)>, code: &str) -> Option<String> {
    let mut cur = code;
    for _ in 0..5 {
        let (kind, up) = parent.get(cur)?;
        if kind == "ICB" {
            return Some(cur.to_owned());
        }
        cur = up;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimisation_parses_named_links_only() {
        let m = Minimisation::parse("registered, hosted").unwrap();
        assert!(m.registered && !m.resident && m.hosted_provider);
        assert!(Minimisation::parse("").is_err());
        assert!(Minimisation::parse("registered,everyone").unwrap_err().contains("everyone"));
    }

    #[test]
    fn icb_is_found_through_the_parent_chain() {
        let parent: HashMap<String, (String, String)> = [
            ("A81001", ("GP_PRACTICE", "93C")),
            ("93C", ("SUB_ICB", "QMJ")),
            ("QMJ", ("ICB", "Y56")),
            ("LOOP", ("GP_PRACTICE", "LOOP")),
        ]
        .into_iter()
        .map(|(a, (b, c))| (a.to_owned(), (b.to_owned(), c.to_owned())))
        .collect();
        assert_eq!(icb_of(&parent, "A81001").as_deref(), Some("QMJ"));
        assert_eq!(icb_of(&parent, "LOOP"), None);
        assert_eq!(icb_of(&parent, "ZZZ"), None);
    }
}

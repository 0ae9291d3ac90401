//! "Who Pays?" lookups over the reference zone: `haven_model::rules::OrgLookup`
//! implemented on the loaded `org` and `lsoa_lookup` tables, whether they came
//! from the synthetic generator or from the publishers' files
//! (`crate::publisher`), so the responsible-commissioner rule
//! (`haven_model::rules::responsible_commissioner`, datasets.md §6.2/§11.7)
//! runs on real organisations as on synthetic ones.

use std::collections::HashMap;

use arrow::array::{Array, Date32Array, StringArray};
use haven_model::rules::OrgLookup;
use haven_model::Date;
use haven_store::{Store, Zone};

use crate::error::IngestError;

/// The armed forces' parent organisation (datasets.md §11.7: practices with
/// parent `13Q` are NHS England's).
const ARMED_FORCES: &str = "13Q";

/// One organisation row's validity and parent.
#[derive(Clone, Debug)]
struct Version {
    open: Option<Date>,
    close: Option<Date>,
    parent: String,
}

/// The reference zone's organisations and residence lookup, for "Who Pays?".
#[derive(Debug, Default)]
pub struct ReferenceOrgs {
    /// Practice → its rows (a practice can move between sub-ICBs).
    practices: HashMap<String, Vec<Version>>,
    /// Sub-ICB location → ICB.
    sub_icbs: HashMap<String, String>,
    /// Trust → the sub-ICB hosting its contract.
    hosts: HashMap<String, String>,
    /// LSOA 2021 → sub-ICB of residence.
    lsoas: HashMap<String, String>,
}

fn strings(b: &arrow::record_batch::RecordBatch, name: &str) -> Option<StringArray> {
    b.column_by_name(name)?.as_any().downcast_ref::<StringArray>().cloned()
}

fn dates(b: &arrow::record_batch::RecordBatch, name: &str) -> Option<Date32Array> {
    b.column_by_name(name)?.as_any().downcast_ref::<Date32Array>().cloned()
}

impl ReferenceOrgs {
    /// Reads the reference zone. A trust's host is the sub-ICB its rows name
    /// as `HOST_ICB` when that is a sub-ICB; when it is an ICB (ODS `etr`
    /// gives only the ICB, column 4), the ICB's first sub-ICB location by
    /// code stands for it: the rule needs a sub-ICB and pays the ICB, which
    /// is right whichever of its sub-ICBs is named.
    pub fn load(store: &Store) -> Result<ReferenceOrgs, IngestError> {
        let mut r = ReferenceOrgs::default();
        let mut host_icbs: Vec<(String, String)> = Vec::new();
        let cols = ["ORG_CODE", "ORG_TYPE", "PARENT_CODE", "OPEN_DATE", "CLOSE_DATE", "HOST_ICB"];
        store.scan(Zone::Reference, "org", &cols, |b| {
            let (code, kind, parent, host) = (strings(b, "ORG_CODE"), strings(b, "ORG_TYPE"), strings(b, "PARENT_CODE"), strings(b, "HOST_ICB"));
            let (open, close) = (dates(b, "OPEN_DATE"), dates(b, "CLOSE_DATE"));
            let text = |a: &Option<StringArray>, i: usize| a.as_ref().filter(|a| a.is_valid(i)).map(|a| a.value(i).to_owned());
            let date = |a: &Option<Date32Array>, i: usize| a.as_ref().filter(|a| a.is_valid(i)).map(|a| Date::from_days(a.value(i)));
            for i in 0..b.num_rows() {
                let (Some(c), Some(k)) = (text(&code, i), text(&kind, i)) else { continue };
                let parent = text(&parent, i).unwrap_or_default();
                match k.as_str() {
                    "GP_PRACTICE" => r.practices.entry(c).or_default().push(Version { open: date(&open, i), close: date(&close, i), parent }),
                    "SUB_ICB" if !parent.is_empty() => {
                        r.sub_icbs.insert(c, parent);
                    }
                    "TRUST" | "INDEPENDENT_PROVIDER" => {
                        if let Some(h) = text(&host, i).filter(|h| !h.is_empty()) {
                            host_icbs.push((c, h));
                        }
                    }
                    _ => {}
                }
            }
            Ok(())
        })?;
        store.scan(Zone::Reference, "lsoa_lookup", &["LSOA21", "SUB_ICB"], |b| {
            let (lsoa, sub) = (strings(b, "LSOA21"), strings(b, "SUB_ICB"));
            for i in 0..b.num_rows() {
                if let (Some(l), Some(s)) = (lsoa.as_ref().filter(|a| a.is_valid(i)), sub.as_ref().filter(|a| a.is_valid(i))) {
                    r.lsoas.insert(l.value(i).to_owned(), s.value(i).to_owned());
                }
            }
            Ok(())
        })?;
        for (trust, host) in host_icbs {
            let sub = if r.sub_icbs.contains_key(&host) {
                Some(host)
            } else {
                r.sub_icbs.iter().filter(|(_, icb)| **icb == host).map(|(s, _)| s.clone()).min()
            };
            if let Some(s) = sub {
                r.hosts.insert(trust, s);
            }
        }
        Ok(r)
    }

    /// The practice's row in force on `on`: open by then and not closed
    /// before it.
    fn practice_on(&self, practice: &str, on: Date) -> Option<&Version> {
        self.practices.get(practice)?.iter().find(|v| v.open.is_none_or(|o| o <= on) && v.close.is_none_or(|c| c >= on))
    }
}

impl OrgLookup for ReferenceOrgs {
    fn practice_sub_icb(&self, practice: &str, on: Date) -> Option<&str> {
        self.practice_on(practice, on).map(|v| v.parent.as_str()).filter(|p| !p.is_empty())
    }
    fn practice_parent_is_armed_forces(&self, practice: &str) -> bool {
        self.practices.get(practice).is_some_and(|vs| vs.iter().any(|v| v.parent == ARMED_FORCES))
    }
    /// Not in the reference tables yet (ODS lists prison practices under
    /// prescribing settings 16–25, which `publisher` leaves out).
    fn practice_is_health_and_justice(&self, _practice: &str) -> bool {
        false
    }
    fn lsoa_sub_icb(&self, lsoa: &str) -> Option<&str> {
        self.lsoas.get(lsoa).map(String::as_str)
    }
    fn provider_host_sub_icb(&self, procode3: &str) -> Option<&str> {
        self.hosts.get(procode3).map(String::as_str)
    }
    fn sub_icb_icb(&self, sub_icb: &str) -> Option<&str> {
        self.sub_icbs.get(sub_icb).map(String::as_str)
    }
}

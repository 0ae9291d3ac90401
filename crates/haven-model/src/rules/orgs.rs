//! The organisation lookups "Who Pays?" needs, built once from the rows of
//! the `org` and `lsoa_lookup` reference tables (datasets.md §10.10), whoever
//! reads them: the DSCRO stage from the store, invoice validation from its
//! zone session. Whether the rows came from the synthetic generator or from
//! the publishers' files, the rule runs on them the same way.

use std::collections::HashMap;

use super::commissioner::OrgLookup;
use crate::date::Date;

/// The armed forces' parent organisation (datasets.md §6.2, CAM step J:
/// practices with parent `13Q` are NHS England's).
pub const ARMED_FORCES: &str = "13Q";

/// One row of the `org` table, as far as "Who Pays?" reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgRow {
    pub code: String,
    /// `GP_PRACTICE`, `SUB_ICB`, `ICB`, `TRUST`, `INDEPENDENT_PROVIDER`, ...
    pub kind: String,
    pub parent: String,
    pub open: Option<Date>,
    pub close: Option<Date>,
    /// The commissioner hosting a provider's contract (`HOST_ICB`): a
    /// sub-ICB location, or an ICB where the publisher gives only that.
    pub host: Option<String>,
}

/// One practice row's validity and parent.
#[derive(Clone, Debug)]
struct Version {
    open: Option<Date>,
    close: Option<Date>,
    parent: String,
}

/// Organisations and the residence lookup, indexed for [`OrgLookup`].
#[derive(Clone, Debug, Default)]
pub struct OrgTable {
    /// Practice → its rows (a practice can move between sub-ICBs).
    practices: HashMap<String, Vec<Version>>,
    /// Sub-ICB location → ICB.
    sub_icbs: HashMap<String, String>,
    /// Provider → the sub-ICB hosting its contract.
    hosts: HashMap<String, String>,
    /// LSOA 2021 → sub-ICB of residence.
    lsoas: HashMap<String, String>,
    /// Providers and sites the table knows.
    providers: HashMap<String, String>,
    /// Health-and-justice (prison) practices, as the ICB lists them: see
    /// [`OrgTable::set_health_and_justice`].
    health_and_justice: std::collections::HashSet<String>,
}

impl OrgTable {
    /// Indexes `orgs` and `(LSOA21, SUB_ICB)` pairs. A provider's host is
    /// the sub-ICB its row names when that is a sub-ICB; when it is an ICB
    /// (ODS `etr` gives only the ICB, column 4), the ICB's first sub-ICB
    /// location by code stands for it: the rule needs a sub-ICB and pays the
    /// ICB, which is right whichever of its sub-ICBs is named.
    pub fn build(orgs: impl IntoIterator<Item = OrgRow>, lsoas: impl IntoIterator<Item = (String, String)>) -> OrgTable {
        let mut t = OrgTable::default();
        let mut host_of: Vec<(String, String)> = Vec::new();
        for r in orgs {
            match r.kind.as_str() {
                "GP_PRACTICE" => t.practices.entry(r.code).or_default().push(Version { open: r.open, close: r.close, parent: r.parent }),
                "SUB_ICB" if !r.parent.is_empty() => {
                    t.sub_icbs.insert(r.code, r.parent);
                }
                "TRUST" | "INDEPENDENT_PROVIDER" | "SITE" => {
                    if let Some(h) = r.host.filter(|h| !h.is_empty()) {
                        host_of.push((r.code.clone(), h));
                    }
                    t.providers.insert(r.code, r.kind);
                }
                _ => {}
            }
        }
        t.lsoas.extend(lsoas);
        for (provider, host) in host_of {
            let sub = if t.sub_icbs.contains_key(&host) {
                Some(host)
            } else {
                t.sub_icbs.iter().filter(|(_, icb)| **icb == host).map(|(s, _)| s.clone()).min()
            };
            if let Some(s) = sub {
                t.hosts.insert(provider, s);
            }
        }
        t
    }

    /// The practice's row in force on `on`: open by then and not closed
    /// before it.
    fn practice_on(&self, practice: &str, on: Date) -> Option<&Version> {
        self.practices.get(practice)?.iter().find(|v| v.open.is_none_or(|o| o <= on) && v.close.is_none_or(|c| c >= on))
    }

    /// Whether `code` is a provider (trust, independent provider or site)
    /// the table knows.
    pub fn is_provider(&self, code: &str) -> bool {
        self.providers.contains_key(code)
    }

    /// Names the health-and-justice (prison) practices, whose patients'
    /// activity NHS England commissions (CAM v5.3 step E, datasets.md §6.2).
    /// The `org` reference table has no column that marks them (ODS lists
    /// prison practices under prescribing settings the publisher reader
    /// leaves out), so the list is the operator's setting; it replaces any
    /// list named before.
    pub fn set_health_and_justice(&mut self, practices: impl IntoIterator<Item = String>) {
        self.health_and_justice = practices.into_iter().map(|p| p.trim().to_ascii_uppercase()).filter(|p| !p.is_empty()).collect();
    }

    /// Whether the table holds any organisation at all (an empty reference
    /// zone cannot answer "Who Pays?").
    pub fn is_empty(&self) -> bool {
        self.practices.is_empty() && self.sub_icbs.is_empty() && self.providers.is_empty()
    }
}

impl OrgLookup for OrgTable {
    fn practice_sub_icb(&self, practice: &str, on: Date) -> Option<&str> {
        self.practice_on(practice, on).map(|v| v.parent.as_str()).filter(|p| !p.is_empty())
    }
    fn practice_parent_is_armed_forces(&self, practice: &str) -> bool {
        self.practices.get(practice).is_some_and(|vs| vs.iter().any(|v| v.parent == ARMED_FORCES))
    }
    /// The practices [`OrgTable::set_health_and_justice`] named.
    fn practice_is_health_and_justice(&self, practice: &str) -> bool {
        self.health_and_justice.contains(practice.trim())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{responsible_commissioner, NhseReason, Responsibility, ResponsibilityOrigin};

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn row(code: &str, kind: &str, parent: &str) -> OrgRow {
        OrgRow { code: code.into(), kind: kind.into(), parent: parent.into(), ..OrgRow::default() }
    }

    fn table() -> OrgTable {
        let mut moved_out = row("P1", "GP_PRACTICE", "S1");
        moved_out.close = Some(d("2024-06-30"));
        let mut moved_in = row("P1", "GP_PRACTICE", "S2");
        moved_in.open = Some(d("2024-07-01"));
        let mut trust = row("RX1", "TRUST", "");
        trust.host = Some("Q2".into());
        OrgTable::build(
            [moved_out, moved_in, row("S1", "SUB_ICB", "Q1"), row("S2", "SUB_ICB", "Q2"), row("S3", "SUB_ICB", "Q2"), row("PAF", "GP_PRACTICE", "13Q"), trust],
            [("E01000001".to_string(), "S1".to_string())],
        )
    }

    #[test]
    fn a_practice_pays_where_it_was_on_the_day() {
        let t = table();
        let r = |on| responsible_commissioner("P1", None, "RX1", "300", d(on), &t);
        assert_eq!(r("2024-06-30").icb(), Some("Q1"));
        assert_eq!(r("2024-07-01").icb(), Some("Q2"));
    }

    #[test]
    fn residence_then_the_host_stands_in_for_no_practice() {
        let t = table();
        let by_lsoa = responsible_commissioner("V81999", Some("E01000001"), "RX1", "300", d("2024-05-01"), &t);
        assert!(matches!(by_lsoa, Responsibility::SubIcb { ref icb, origin: ResponsibilityOrigin::Residence, .. } if icb == "Q1"));
        // The host is given as an ICB (Q2): its first sub-ICB by code, S2.
        let by_host = responsible_commissioner("", Some("E01999999"), "RX1", "300", d("2024-05-01"), &t);
        assert_eq!(by_host, Responsibility::SubIcb { sub_icb: "S2".into(), icb: "Q2".into(), origin: ResponsibilityOrigin::Provider });
        assert!(t.is_provider("RX1") && !t.is_provider("RZZ"));
    }

    #[test]
    fn armed_forces_practices_are_nhs_englands() {
        let t = table();
        assert_eq!(responsible_commissioner("PAF", None, "RX1", "300", d("2024-05-01"), &t), Responsibility::NhsEngland(NhseReason::ArmedForces));
    }
}

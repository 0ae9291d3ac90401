//! Access grants: the only way to read a zone.
//!
//! An [`AccessGrant`] binds a user, their role, a purpose and a Data Sharing
//! Agreement. It has no public constructor: [`grant`] makes one only after
//! every check passes — the user exists and is enabled, holds the role, the
//! agreement is in force, covers the purpose and allows the role — and the
//! role × purpose table below yields the zones it may read. The store's
//! sessions take a [`haven_store::ReadGrant`], which only this type
//! implements outside the store's own tests (xtask tidy checks), so an
//! ungoverned read does not compile. A GP's grant carries their practice and
//! sees only its registered patients.
//!
//! A grant also decides which datasets a session opens
//! ([`ReadGrant::admits`]): only data whose every committed load ran under
//! the grant's own agreement, of a dataset that agreement lists
//! ([`dsa_dataset`] maps each stored table to the agreement's dataset
//! name, in this one place), and — so that person-level data is linked only
//! as the agreement allows — only datasets that the purpose's `linkages`
//! allow to be linked with every other dataset the session opens
//! ([`linkable_datasets`]). Reference data is exempt.

use haven_model::Date;
use haven_store::{ReadGrant, Zone};
use serde::Serialize;

use crate::dsa::{Dsa, Purpose, Role};
use crate::error::GovernanceError;
use crate::users::Users;

/// Permission for one user to read some zones for one purpose under one DSA.
#[derive(Debug, Serialize)]
pub struct AccessGrant {
    user: String,
    role: Role,
    purpose: Purpose,
    dsa: String,
    on: String,
    #[serde(skip)]
    date: Date,
    zones: Vec<Zone>,
    practice: Option<String>,
    /// The agreement's datasets this grant may open together.
    datasets: Vec<String>,
}

impl AccessGrant {
    /// Who holds the grant.
    pub fn user(&self) -> &str {
        &self.user
    }
    /// The role it was issued for.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The purpose it was issued for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }
    /// The agreement it was issued under.
    pub fn dsa(&self) -> &str {
        &self.dsa
    }
}

impl ReadGrant for AccessGrant {
    fn zones(&self) -> &[Zone] {
        &self.zones
    }
    fn practice(&self) -> Option<&str> {
        self.practice.as_deref()
    }
    fn date(&self) -> Date {
        self.date
    }
    fn admits(&self, zone: Zone, dataset: &str, agreements: &[Option<String>]) -> bool {
        if zone == Zone::Reference {
            return true;
        }
        let Some(name) = dsa_dataset(zone, dataset) else { return false };
        self.datasets.iter().any(|d| d == name)
            && !agreements.is_empty()
            && agreements.iter().all(|a| a.as_deref() == Some(self.dsa.as_str()))
    }
}

/// The agreement dataset a stored table belongs to (the names `dsa/*.toml`
/// use), by zone and table: e.g. `apc_episode` is `sus_apc`, while in the
/// national zone it is `national_hes`. `None` for a table no agreement
/// dataset names (a session never opens it, unless it is reference data).
pub fn dsa_dataset(zone: Zone, dataset: &str) -> Option<&'static str> {
    let national = zone == Zone::National;
    let table = dataset.strip_prefix("national.").unwrap_or(dataset);
    let name = match (national, table) {
        (true, "ecds_attendance") => "national_ecds",
        (true, "apc_episode" | "apc_spell_derived" | "op_attendance" | "ae_attendance" | "cc_period" | "death") => {
            "national_hes"
        }
        (true, _) => return None,
        (false, "apc_episode" | "apc_spell_derived") => "sus_apc",
        (false, "op_attendance") => "sus_op",
        (false, "cc_period") => "sus_cc",
        (false, "ecds_attendance" | "ae_attendance") => "ecds",
        (false, "death") => "deaths",
        (false, "gp_patient" | "gp_registration" | "gp_event" | "gp_medication" | "gp_register") => "gp_extract",
        (false, "invoice_header" | "invoice_line" | "acm_total") => "invoices",
        (false, "mhsds_summary") => "mhsds",
        (false, _) => return None,
    };
    Some(name)
}

/// The agreement's datasets a session over `zones` may open together for
/// `purpose`: taken in the agreement's order, each dataset is kept if the
/// purpose may link it with every dataset already kept
/// ([`Dsa::allows_linkage`]), so no two opened person-level datasets are
/// linked unless a linkage of the purpose names both. National datasets are
/// reachable only from the national zone, local ones only from the others.
pub fn linkable_datasets(dsa: &Dsa, purpose: Purpose, zones: &[Zone]) -> Vec<String> {
    let national = zones.contains(&Zone::National);
    let mut kept: Vec<String> = Vec::new();
    for d in &dsa.datasets {
        if d.starts_with("national") != national {
            continue;
        }
        if kept.iter().all(|k| dsa.allows_linkage(purpose, k, d)) && dsa.allows_linkage(purpose, d, d) {
            kept.push(d.clone());
        }
    }
    kept
}

/// The zones a role may read for a purpose (DESIGN.md §1 and §2); `None`
/// means the pair gives no record-level access at all.
pub fn zones_for(role: Role, purpose: Purpose) -> Option<Vec<Zone>> {
    use Purpose::*;
    let zones = match (role, purpose) {
        // The DSCRO prepares every flow; it reads what it received.
        (Role::Dscro, _) => vec![Zone::Staging, Zone::Reference],
        (Role::Ceff, InvoiceValidation) => vec![Zone::Ceff, Zone::Reference],
        (Role::Gp, DirectCare) => vec![Zone::DirectCare, Zone::Pseudonymised, Zone::Reference],
        (Role::Analyst, Commissioning | RiskStratification) => vec![Zone::Pseudonymised, Zone::Reference],
        (Role::Analyst, PopulationHealthBenchmarking) => vec![Zone::National, Zone::Reference],
        _ => return None,
    };
    Some(zones)
}

/// Issues a grant after every check passes; each refusal says which rule.
pub fn grant(users: &Users, user: &str, role: Role, purpose: Purpose, dsa: &Dsa, on: Date) -> Result<AccessGrant, GovernanceError> {
    let account = users
        .get(user)?
        .ok_or_else(|| GovernanceError::Refused(format!("no user {user}")))?;
    if account.disabled {
        return Err(GovernanceError::Refused(format!("user {user} is disabled")));
    }
    if account.role != role {
        return Err(GovernanceError::Refused(format!("user {user} holds role {}, not {role}", account.role)));
    }
    dsa.check(on, purpose, role)?;
    let zones = zones_for(role, purpose).ok_or_else(|| {
        GovernanceError::Refused(format!("role {role} has no record-level access for {purpose}; aggregates only"))
    })?;
    let practice = match role {
        Role::Gp => Some(account.practice.ok_or_else(|| {
            GovernanceError::Refused(format!("gp user {user} is not bound to a practice"))
        })?),
        _ => None,
    };
    let datasets = linkable_datasets(dsa, purpose, &zones);
    Ok(AccessGrant {
        user: user.to_owned(),
        role,
        purpose,
        dsa: dsa.id.clone(),
        on: on.to_string(),
        date: on,
        zones,
        practice,
        datasets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Dsa {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DSA-HAVEN-DEMO.toml");
        Dsa::from_toml("DSA-HAVEN-DEMO.toml", &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn ncl() -> Dsa {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DARS-NIC-615974-Y3R7Q.toml");
        Dsa::from_toml("DARS-NIC-615974-Y3R7Q.toml", &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn today() -> Date {
        Date::from_ymd(2026, 11, 22).unwrap()
    }

    #[test]
    fn grants_follow_the_role_purpose_table_and_every_check() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::open(dir.path()).unwrap();
        users.add("ana", Role::Analyst, None, "long enough password").unwrap();
        users.add("dr.lee", Role::Gp, Some("A81001"), "long enough password").unwrap();
        users.add("vic", Role::Viewer, None, "long enough password").unwrap();
        let g = grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &demo(), today()).unwrap();
        assert_eq!(g.zones(), [Zone::Pseudonymised, Zone::Reference]);
        assert!(g.practice().is_none());
        let gp = grant(&users, "dr.lee", Role::Gp, Purpose::DirectCare, &demo(), today()).unwrap();
        assert_eq!(gp.practice(), Some("A81001"));
        assert!(!gp.zones().contains(&Zone::Staging));

        let refused = |r: Result<AccessGrant, GovernanceError>| r.unwrap_err().to_string();
        assert!(refused(grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &ncl(), today())).contains("expired"));
        assert!(refused(grant(&users, "ana", Role::Gp, Purpose::DirectCare, &demo(), today())).contains("holds role analyst"));
        assert!(refused(grant(&users, "vic", Role::Viewer, Purpose::Commissioning, &demo(), today())).contains("aggregates only"));
        assert!(refused(grant(&users, "nobody", Role::Analyst, Purpose::Commissioning, &demo(), today())).contains("no user"));
        assert!(refused(grant(&users, "ana", Role::Analyst, Purpose::DirectCare, &demo(), today())).contains("analyst"));
        users.disable("ana").unwrap();
        assert!(refused(grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &demo(), today())).contains("disabled"));
    }

    #[test]
    fn no_pair_reaches_an_identifiable_zone_it_should_not() {
        for role in Role::ALL {
            for purpose in Purpose::ALL {
                let Some(zones) = zones_for(role, purpose) else { continue };
                // Analysts, viewers, auditors and admins never see identifiers.
                if matches!(role, Role::Analyst | Role::Viewer | Role::Auditor | Role::Admin) {
                    assert!(zones.iter().all(|z| !z.holds_identifiers()), "{role} {purpose}");
                }
                // The national extract is never in the same session as local data.
                if zones.contains(&Zone::National) {
                    assert!(zones.iter().all(|z| matches!(z, Zone::National | Zone::Reference)), "{role} {purpose}");
                }
                // Only the CEfF role reads the CEfF zone.
                assert_eq!(zones.contains(&Zone::Ceff), role == Role::Ceff);
            }
        }
    }

    /// Commits a one-column dataset to `zone` as a load under `dsa`.
    fn commit(store: &mut haven_store::Store, zone: Zone, dataset: &str, dsa: &str) {
        use std::sync::Arc;

        use arrow::array::Int64Array;
        use arrow::datatypes::{DataType, Field, Schema};
        use arrow::record_batch::RecordBatch;
        use haven_store::{LoadRecord, LoadStatus, ZoneCounts};
        let schema = Arc::new(Schema::new(vec![Field::new("N", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2, 3]))]).unwrap();
        let mut txn = store.begin_load().unwrap();
        let mut w = txn.part_writer(zone, dataset, schema, 0).unwrap();
        w.write(&batch).unwrap();
        txn.add_file(w.finish().unwrap());
        let record = LoadRecord {
            id: txn.id().to_owned(),
            dataset: dataset.into(),
            source_path: format!("{dataset}.psv"),
            source_sha256: format!("{dsa}-{}-{dataset}", zone.name()),
            source_bytes: 1,
            dsa: Some(dsa.into()),
            dsa_version: Some(1),
            operator: "test".into(),
            started_at: "x".into(),
            finished_at: "x".into(),
            status: LoadStatus::Committed,
            key_ids: "{}".into(),
            summary: "{}".into(),
        };
        let counts = [ZoneCounts { zone: Some(zone), read: 3, written: 3, ..ZoneCounts::default() }];
        store.commit(txn, &record, &counts, &[], &[]).unwrap();
    }

    /// Which of `tables` (`zone.dataset`) a session with `g` can read.
    fn visible(store: &haven_store::Store, g: &AccessGrant, tables: &[(Zone, &str)]) -> Vec<String> {
        let session = haven_store::ZoneSession::open(store, g).unwrap();
        tables
            .iter()
            .filter(|(z, d)| g.zones().contains(z) && session.count_rows(*z, d).is_ok())
            .map(|(z, d)| format!("{}.{d}", z.name()))
            .collect()
    }

    fn other() -> Dsa {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DSA-HAVEN-DEMO.toml");
        let text = std::fs::read_to_string(path).unwrap().replace("\"DSA-HAVEN-DEMO\"", "\"DSA-HAVEN-OTHER\"");
        Dsa::from_toml("other.toml", &text).unwrap()
    }

    // Issue 14 item 5: a grant opens only data loaded under its own agreement.
    #[test]
    fn issue_14_a_session_under_one_agreement_cannot_open_data_loaded_under_another() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::open(dir.path()).unwrap();
        users.add("ana", Role::Analyst, None, "long enough password").unwrap();
        let mut store = haven_store::Store::open_for_write(dir.path()).unwrap();
        commit(&mut store, Zone::Pseudonymised, "apc_episode", "DSA-HAVEN-OTHER");
        commit(&mut store, Zone::Pseudonymised, "op_attendance", "DSA-HAVEN-DEMO");
        // One dataset with loads under both: neither agreement covers all of it.
        commit(&mut store, Zone::Pseudonymised, "ecds_attendance", "DSA-HAVEN-DEMO");
        commit(&mut store, Zone::Pseudonymised, "ecds_attendance", "DSA-HAVEN-OTHER");
        // Reference data is shared whatever agreement loaded it.
        commit(&mut store, Zone::Reference, "org", "DSA-HAVEN-OTHER");
        let tables = [
            (Zone::Pseudonymised, "apc_episode"),
            (Zone::Pseudonymised, "op_attendance"),
            (Zone::Pseudonymised, "ecds_attendance"),
            (Zone::Reference, "org"),
        ];
        let under_demo = grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &demo(), today()).unwrap();
        assert_eq!(visible(&store, &under_demo, &tables), ["pseudonymised.op_attendance", "reference.org"]);
        let under_other = grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &other(), today()).unwrap();
        assert_eq!(visible(&store, &under_other, &tables), ["pseudonymised.apc_episode", "reference.org"]);
    }

    // Issue 14 item 5: person-level datasets open together only where the
    // purpose's linkages allow it (GP extract beside SUS data only for risk
    // stratification under the demo agreement).
    #[test]
    fn issue_14_datasets_open_together_only_where_a_linkage_allows() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::open(dir.path()).unwrap();
        users.add("ana", Role::Analyst, None, "long enough password").unwrap();
        let mut store = haven_store::Store::open_for_write(dir.path()).unwrap();
        for d in ["apc_episode", "apc_spell_derived", "death", "gp_patient", "gp_event", "invoice_line"] {
            commit(&mut store, Zone::Pseudonymised, d, "DSA-HAVEN-DEMO");
        }
        for d in ["apc_episode", "ecds_attendance"] {
            commit(&mut store, Zone::National, d, "DSA-HAVEN-DEMO");
        }
        let local = [
            (Zone::Pseudonymised, "apc_episode"),
            (Zone::Pseudonymised, "apc_spell_derived"),
            (Zone::Pseudonymised, "death"),
            (Zone::Pseudonymised, "gp_patient"),
            (Zone::Pseudonymised, "gp_event"),
            (Zone::Pseudonymised, "invoice_line"),
        ];
        let comm = grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &demo(), today()).unwrap();
        assert_eq!(
            visible(&store, &comm, &local),
            ["pseudonymised.apc_episode", "pseudonymised.apc_spell_derived", "pseudonymised.death"]
        );
        let rs = grant(&users, "ana", Role::Analyst, Purpose::RiskStratification, &demo(), today()).unwrap();
        assert_eq!(
            visible(&store, &rs, &local),
            ["pseudonymised.apc_episode", "pseudonymised.apc_spell_derived", "pseudonymised.gp_patient", "pseudonymised.gp_event"]
        );
        let national = [(Zone::National, "apc_episode"), (Zone::National, "ecds_attendance")];
        let bench = grant(&users, "ana", Role::Analyst, Purpose::PopulationHealthBenchmarking, &demo(), today()).unwrap();
        assert_eq!(visible(&store, &bench, &national), ["national.apc_episode", "national.ecds_attendance"]);
        // The mapping and the agreement's order decide what opens together.
        let d = demo();
        assert_eq!(linkable_datasets(&d, Purpose::RiskStratification, &[Zone::Pseudonymised]), ["sus_apc", "sus_op", "ecds", "gp_extract"]);
        assert_eq!(
            linkable_datasets(&d, Purpose::Commissioning, &[Zone::Pseudonymised]),
            ["sus_apc", "sus_op", "sus_cc", "ecds", "deaths", "mhsds"]
        );
        assert_eq!(dsa_dataset(Zone::National, "national.apc_episode"), Some("national_hes"));
        assert_eq!(dsa_dataset(Zone::Pseudonymised, "apc_episode"), Some("sus_apc"));
        assert_eq!(dsa_dataset(Zone::National, "gp_patient"), None);
    }
}

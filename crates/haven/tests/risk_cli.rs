//! Issue 18 §5: who sees what of risk stratification. The demo's analyst
//! runs the ICB's model (pseudonymised); a GP then sees only their own
//! practice's currently registered patients, ranked by that model, with
//! NHS numbers — checked against the synthetic registration file the DSCRO
//! received, read independently here — and naming another practice is
//! refused.

use std::collections::{BTreeMap, BTreeSet};

use haven_app::{Actor, App};
use haven_governance::dsa::{Purpose, Role};
use haven_governance::session::Session;

mod common;

fn gp(practice: &str) -> Actor {
    Actor::Signed(Session {
        user: "risk.gp".into(),
        role: Role::Gp,
        purpose: Some(Purpose::DirectCare),
        dsa: Some("DSA-HAVEN-DEMO".into()),
        practice: Some(practice.into()),
        expires_at: u64::MAX,
    })
}

/// NHS numbers registered with each practice on `on` (REG_START on or
/// before it, REG_END empty or on or after it), from the raw file.
fn registered(file: &str, on: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in file.lines().skip(1) {
        let f: Vec<&str> = line.split('|').collect();
        let (nhs, practice, start, end) = (f[0], f[1], f[2], f[3]);
        // ISO dates compare as text.
        if start <= on && (end.is_empty() || end >= on) {
            out.entry(practice.to_owned()).or_default().insert(nhs.to_owned());
        }
    }
    out
}

#[test]
fn issue_18_a_gp_sees_only_their_current_patients_ranked_by_the_icbs_model() {
    let tmp = tempfile::tempdir().unwrap();
    let (h, _) = common::demo_store(tmp.path());
    let app = App::new(&h.data, &h.keys);
    let icb = std::fs::read_dir(h.data.join("synth/dscro")).unwrap().next().unwrap().unwrap().path();
    let file = std::fs::read_to_string(icb.join("gp_registration.psv")).unwrap();
    // The demo's model was fitted from 2025-04-01; a GP's list reads
    // histories to the end of that outcome year, 2026-04-01, and the
    // session shows patients registered today.
    let today = haven_app::today().to_string();
    let (at_index, now) = (registered(&file, "2026-04-01"), registered(&file, &today));
    let practice = at_index.iter().max_by_key(|(_, s)| s.len()).map(|(p, _)| p.clone()).unwrap();
    let allowed: BTreeSet<&String> = at_index[&practice].intersection(&now[&practice]).collect();

    let mut users = haven_governance::users::Users::open(&h.data).unwrap();
    users.add("risk.gp", Role::Gp, Some(&practice), "a long enough password").unwrap();
    let list = app.risk_list(&gp(&practice), None, None, 10_000).unwrap();
    assert_eq!(list.practice, practice);
    assert_eq!(list.index_date, "2026-04-01");
    assert!(!list.patients.is_empty() && list.patients.len() == list.registered, "every registered patient is ranked");
    assert!(list.registered <= allowed.len(), "{} listed, {} registered then and now", list.registered, allowed.len());
    for p in &list.patients {
        assert!(allowed.contains(&p.nhs_number), "patient ranked {} ({:?}, synthetic) is not currently registered with {practice}; registered at index {}, now {}", p.rank, p.nhs_number, at_index[&practice].contains(&p.nhs_number), now[&practice].contains(&p.nhs_number));
        assert!((0.0..=1.0).contains(&p.risk));
    }
    assert!(list.patients.windows(2).all(|w| w[0].risk >= w[1].risk && w[0].rank + 1 == w[1].rank), "ranked by risk, highest first");
    let other = at_index.keys().find(|p| **p != practice).unwrap();
    let refused = app.risk_list(&gp(&practice), Some(other), None, 10).unwrap_err();
    assert!(refused.is_refusal(), "{refused}");
    // An analyst is not a GP: the list is refused whatever the purpose.
    let analyst = Actor::Signed(Session { user: "demo.analyst".into(), role: Role::Analyst, purpose: Some(Purpose::RiskStratification), dsa: Some("DSA-HAVEN-DEMO".into()), practice: None, expires_at: u64::MAX });
    assert!(app.risk_list(&analyst, Some(&practice), None, 10).unwrap_err().is_refusal());
}

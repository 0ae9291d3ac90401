//! Issue 18 §5: who sees what of risk stratification. The demo's analyst
//! runs the ICB's model (pseudonymised); a GP then sees only their own
//! practice's currently registered patients, ranked by that model, with
//! NHS numbers — checked against the synthetic registration file the DSCRO
//! received, read independently here — and naming another practice is
//! refused.

use std::collections::{BTreeMap, BTreeSet};

use common::registered;

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

/// Outpatient encounters (seen: ATTENDED 5, 6; not attended: 3, 7) of
/// each NHS number from `from` to `to`, from the raw file.
fn outpatients(file: &str, from: &str, to: &str) -> BTreeMap<String, usize> {
    let mut lines = file.lines();
    let head: Vec<&str> = lines.next().unwrap().split('|').collect();
    let at = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (nhs, day, attended) = (at("NEWNHSNO"), at("APPTDATE"), at("ATTENDED"));
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split('|').collect();
        if matches!(f[attended], "5" | "6" | "3" | "7") && f[day] >= from && f[day] <= to {
            *out.entry(f[nhs].to_owned()).or_default() += 1;
        }
    }
    out
}

#[test]
fn issue_18_a_gp_sees_one_patients_encounters_and_each_view_is_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let (h, _) = common::demo_store(tmp.path());
    let app = App::new(&h.data, &h.keys);
    let icb = std::fs::read_dir(h.data.join("synth/dscro")).unwrap().next().unwrap().unwrap().path();
    let file = |name: &str| std::fs::read_to_string(icb.join(name)).unwrap();
    let today = haven_app::today().to_string();
    let now = registered(&file("gp_registration.psv"), &today);
    // The national data opt-out's clean list: the people whose records
    // may be used beyond their own care (the pseudonymised zone's).
    let clean: BTreeSet<String> = file("optout_clean_list.psv").lines().skip(1).filter_map(|l| l.split('|').nth(1)).map(str::to_owned).collect();
    // Two years to the end of the model's outcome year (2026-04-01):
    // 2024-04-01 to 2026-04-01 (730 days; 2024-04-01 + 730 = 2026-04-01).
    let op = outpatients(&file("op_attendance.psv"), "2024-04-01", "2026-04-01");
    let (practice, patients) = now.iter().max_by_key(|(_, s)| s.len()).unwrap();
    // The practice's patient on the clean list with the most outpatient encounters.
    let (nhs, expected) = patients.iter().filter(|n| clean.contains(*n)).map(|n| (n.clone(), op.get(n).copied().unwrap_or(0))).max_by_key(|(n, c)| (*c, n.clone())).unwrap();
    assert!(expected > 0, "the fixture has a patient with outpatient encounters");
    let mut users = haven_governance::users::Users::open(&h.data).unwrap();
    users.add("risk.gp", Role::Gp, Some(practice), "a long enough password").unwrap();

    let t = app.risk_patient(&gp(practice), &nhs, None, 2).unwrap();
    assert_eq!((t.from.as_str(), t.to.as_str(), &t.nhs_number), ("2024-04-01", "2026-04-01", &nhs));
    let seen = t.encounters.iter().filter(|e| e.kind == "Outpatients" || e.kind == "Outpatients not attended").count();
    assert_eq!(seen, expected, "outpatient encounters as the raw file counts them");
    assert!(t.encounters.windows(2).all(|w| w[0].day <= w[1].day), "in day order");
    assert_eq!(t.svg.matches("<circle class=\"outpatient").count(), expected, "each drawn on the theograph");
    assert!(!t.svg.contains(&nhs), "the chart names no one");

    // A patient of another practice (not registered with this one) is refused.
    let stranger = now.iter().filter(|(p, _)| *p != practice).flat_map(|(_, s)| s.iter()).find(|n| !patients.contains(*n)).unwrap();
    assert!(app.risk_patient(&gp(practice), stranger, None, 2).unwrap_err().is_refusal());
    // An analyst never sees a patient identifiably.
    let analyst = Actor::Signed(Session { user: "demo.analyst".into(), role: Role::Analyst, purpose: Some(Purpose::RiskStratification), dsa: Some("DSA-HAVEN-DEMO".into()), practice: None, expires_at: u64::MAX });
    assert!(app.risk_patient(&analyst, &nhs, None, 2).unwrap_err().is_refusal());

    // The view and the refusal are in the audit log, which names the
    // patient only by a MAC and carries no NHS number.
    let entries = app.audit_log().unwrap().entries().unwrap();
    let views: Vec<_> = entries.iter().filter(|e| e.event.action == "risk.patient").collect();
    assert_eq!(views.iter().map(|e| e.event.outcome.as_str()).collect::<Vec<_>>(), ["ok", "refused"]);
    let detail: serde_json::Value = serde_json::from_str(&views[0].event.detail).unwrap();
    assert_eq!(detail["patient"].as_str().map(str::len), Some(64), "{detail}");
    for e in &entries {
        let text = serde_json::to_string(&e.event).unwrap();
        assert!(!text.contains(&nhs) && !text.contains(stranger.as_str()), "an audit entry carries an NHS number");
    }
}

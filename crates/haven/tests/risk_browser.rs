//! The GP's risk pages in headless Chromium over the store the demo made
//! (issue 18 §5): a GP signs in under direct care, reads the practice's
//! at-risk list, opens a patient's timeline with its theograph, and then
//! edits the NHS number in the URL to another practice's patient: the page
//! refuses, and the refusal is in the audit log. axe-core finds no WCAG 2.2
//! AA violation on the pages shown.

mod common;
#[path = "../../haven-server/tests/driver/mod.rs"]
mod driver;

use driver::{wait_for, Browser, Checked};
use haven_app::App;
use haven_governance::dsa::Role;

#[test]
fn issue_18_a_gp_reads_a_patients_timeline_and_a_url_edited_to_another_practice_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (h, _) = common::demo_store(tmp.path());
    let app = App::new(&h.data, &h.keys);
    let icb = std::fs::read_dir(h.data.join("synth/dscro")).unwrap().next().unwrap().unwrap().path();
    let now = common::registered(&std::fs::read_to_string(icb.join("gp_registration.psv")).unwrap(), &haven_app::today().to_string());
    let (practice, patients) = now.iter().max_by_key(|(_, s)| s.len()).unwrap();
    let stranger = now.iter().filter(|(p, _)| *p != practice).flat_map(|(_, s)| s.iter()).find(|n| !patients.contains(*n)).unwrap().clone();
    let mut users = haven_governance::users::Users::open(&h.data).unwrap();
    users.add("risk.gp", Role::Gp, Some(practice), "a long enough password").unwrap();
    // Remote access needs a second factor.
    let mut mfa = haven_governance::mfa::Mfa::open(&h.data).unwrap();
    mfa.enrol("risk.gp", haven_governance::session::now()).unwrap();

    let (_runtime, site) = common::serve(&app);

    let b = Browser::start();
    let mut pages = Checked::default();
    b.go(&format!("{site}/sign-in"));
    b.type_into("#user", "risk.gp");
    b.type_into("#password", "a long enough password");
    b.type_into("#dsa", "DSA-HAVEN-DEMO");
    b.click("#purpose option[value='direct_care']");
    let code = mfa.code_for("risk.gp", haven_governance::session::now()).unwrap().unwrap();
    b.type_into("#code", &code);
    b.click("button[type=submit]");
    wait_for(&b, "Signed in as");

    b.go(&format!("{site}/risk/patients"));
    wait_for(&b, "ranked by the risk");
    pages.page(&b, "risk-list", practice);
    // The highest-risk patient's timeline, from the list's link.
    b.click("a[href^='/risk/patients/']");
    wait_for(&b, "Encounters with services");
    pages.page(&b, "risk-patient", "Patient timeline");
    assert!(b.source().contains("<svg") && b.source().contains("haven-chart theograph"), "the theograph is on the page");

    // The NHS number edited in the URL to a patient of another practice.
    let refusals = |app: &App| app.audit_log().unwrap().entries().unwrap().iter().filter(|e| e.event.action == "risk.patient" && e.event.outcome == "refused").count();
    let before = refusals(&app);
    b.go(&format!("{site}/risk/patients/{stranger}"));
    wait_for(&b, "not a patient currently registered");
    assert!(!b.source().contains("Encounters with services"));
    assert_eq!(refusals(&app), before + 1, "the refusal is audited");
    pages.assert_accessible();
}

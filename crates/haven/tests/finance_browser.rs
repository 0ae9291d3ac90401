//! The finance (CEfF) pages in headless Chromium over the store the demo
//! made (issue 17 §2): the demo's finance validator signs in through the
//! form with their second factor, reads the run, an invoice's lines with
//! their evidence, the reports and the challenge log, moves a challenge on
//! through its form, and runs validation again from the page; axe-core finds
//! no WCAG 2.2 AA violation on any of them, and each page's screenshot goes
//! to `target/screenshots/`.

mod common;
#[path = "../../haven-server/tests/driver/mod.rs"]
mod driver;

use driver::{wait_for, Browser, Checked};
use haven_app::App;
use haven_finance::challenge::Status;

#[test]
fn issue_17_a_finance_validator_works_a_run_and_its_challenges_in_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let (h, creds) = common::demo_store(tmp.path());
    let app = App::new(&h.data, &h.keys);
    let (_runtime, site) = common::serve(&app);

    let b = Browser::start();
    let mut pages = Checked::default();
    let mut check = |b: &Browser, name: &str, expect: &str| pages.page(b, name, expect);
    b.go(&format!("{site}/sign-in"));
    b.type_into("#user", "demo.finance");
    b.type_into("#password", &creds["demo.finance"]);
    b.type_into("#dsa", "DSA-HAVEN-DEMO");
    b.click("#purpose option[value='invoice_validation']");
    let code = haven_governance::mfa::Mfa::open(app.data_dir()).unwrap().code_for("demo.finance", haven_governance::session::now()).unwrap().unwrap();
    b.type_into("#code", &code);
    b.click("button[type=submit]");
    wait_for(&b, "Signed in as");

    let run = app.iv_runs().unwrap().remove(0);
    b.click("a[href='/finance']");
    wait_for(&b, "Validation runs");
    check(&b, "finance-home", &run.run);
    b.click(&format!("a[href='/finance/runs/{}']", run.run));
    wait_for(&b, "Lines challenged, by reason");
    check(&b, "finance-run", &format!("{}", run.challenged));
    let inv = app.iv_invoices(&run.run).unwrap().into_iter().find(|i| i.challenged > 0).unwrap();
    b.click(&format!("a[href='/finance/runs/{}/invoices/{}']", run.run, inv.invoice_id));
    wait_for(&b, "Evidence");
    check(&b, "finance-invoice", "challenged");
    b.go(&format!("{site}/finance/runs/{}/reports", run.run));
    check(&b, "finance-reports", "iv_accuracy_by_provider_month.csv");

    // A raised challenge, sent through its form.
    let c = app.challenges(Some("raised")).unwrap().remove(0);
    b.go(&format!("{site}/finance/challenges"));
    check(&b, "finance-challenges", "Import a provider");
    b.go(&format!("{site}/finance/challenges/{}", c.id));
    check(&b, "finance-challenge", "Move it on");
    b.click("#status option[value='sent']");
    b.type_into("#note", "sent to the provider by email");
    b.click(&format!("form[action='/finance/challenges/{}'] button", c.id));
    wait_for(&b, "sent to the provider by email");
    assert_eq!(app.challenge(c.id).unwrap().0.status, Status::Sent);
    // The provider accepts; resolving records part of the amount as
    // recovered, typed in pounds.
    b.click("#status option[value='accepted']");
    b.type_into("#note", "accepted by phone");
    b.click(&format!("form[action='/finance/challenges/{}'] button", c.id));
    wait_for(&b, "accepted by phone");
    let part = c.amount.max(2) / 2;
    b.click("#status option[value='resolved']");
    b.type_into("#recovered", &format!("{}.{:02}", part / 100, part % 100));
    b.click(&format!("form[action='/finance/challenges/{}'] button", c.id));
    wait_for(&b, "recovered £");
    let now = app.challenge(c.id).unwrap().0;
    assert_eq!((now.status, now.recovered), (Status::Resolved, Some(part)));

    // Validation again from the page: queued, then named on the job page.
    b.go(&format!("{site}/finance"));
    b.click("form[action='/finance/run'] button");
    wait_for(&b, "Analysis JOB-");
    let start = std::time::Instant::now();
    while !b.source().contains("Validated as") {
        assert!(start.elapsed() < std::time::Duration::from_secs(120), "{}", b.source());
        std::thread::sleep(std::time::Duration::from_millis(500));
        b.click("a[href^='/jobs/']");
    }
    check(&b, "finance-job", "Validated as");
    pages.assert_accessible();
}

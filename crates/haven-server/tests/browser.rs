//! The web app in headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `cargo xtask test`) against the real
//! server on a loopback port (issue 16 §5): each role signs in through the
//! form with its second factor, its pages render with real figures, axe-core
//! (vendored, run in the page) finds no WCAG 2.2 AA violation, and a
//! screenshot of each page goes to `target/screenshots/`.

mod common;
mod driver;

use std::time::{Duration, Instant};

use common::{Fixture, Server, PASSWORD};
use driver::{wait_for, Browser, Checked};
use serde_json::{json, Value};

/// Signs in through the form (user, password, the current code, and the
/// agreement and purpose when the role works on data).
fn sign_in(b: &Browser, fx: &Fixture, site: &str, user: &str, purpose: Option<&str>) {
    b.go(&format!("{site}/sign-in"));
    b.type_into("#user", user);
    b.type_into("#password", PASSWORD);
    if let Some(p) = purpose {
        b.type_into("#dsa", "DSA-HAVEN-DEMO");
        b.click(&format!("#purpose option[value='{p}']"));
    }
    b.type_into("#code", &fx.code(user));
    b.click("button[type=submit]");
    // The form's submission may still be under way when the click returns.
    let start = Instant::now();
    while !b.source().contains("Signed in as") {
        assert!(start.elapsed() < Duration::from_secs(10), "{user} did not sign in: {}", b.source());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sign_out(b: &Browser) {
    b.click(".haven-sign-out button");
    // A form's submission may still be under way when the click returns.
    let start = Instant::now();
    while b.title() != "Sign in – Haven" {
        assert!(start.elapsed() < Duration::from_secs(10), "not signed out: {}", b.title());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn each_roles_pages_render_with_real_figures_and_no_accessibility_violations() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    // `localhost`, a secure context, so the browser keeps the Secure cookie.
    let site = server.base.replace("127.0.0.1", "localhost");
    let b = Browser::start();
    let mut pages = Checked::default();
    let mut check = |b: &Browser, name: &str, expect: &str| pages.page(b, name, expect);
    b.go(&format!("{site}/sign-in"));
    check(&b, "sign-in", "Sign in");
    // axe-core does find violations here: an image without alternative text.
    b.call("POST", "/execute/sync", json!({"script": "document.body.appendChild(document.createElement('img'))", "args": []}));
    assert!(b.axe().iter().any(|v| v.starts_with("image-alt")), "axe-core runs and reports");

    sign_in(&b, &fx, &site, "ana", Some("commissioning"));
    check(&b, "analyst-home", "Overview");
    b.go(&format!("{site}/overview"));
    // The released benchmark: QMJ 10.0% against England 8.0% (worse).
    check(&b, "analyst-overview", "Against England (95%)");
    assert!(b.source().contains(">worse<") && b.source().contains("8.0"), "{}", b.source());
    b.go(&format!("{site}/indicators/{}", common::READMISSIONS));
    check(&b, "analyst-indicator", "By practice");
    b.go(&format!("{site}/inequalities"));
    check(&b, "analyst-inequalities", "Slope index of inequality");
    b.go(&format!("{site}/benchmarking?indicator={}&level=practice", common::READMISSIONS));
    check(&b, "analyst-benchmarking", "A81001");
    b.go(&format!("{site}/areas/pcn/U1?indicator={}", common::READMISSIONS));
    check(&b, "analyst-drill-down", "A81002");
    b.go(&format!("{site}/analyses"));
    check(&b, "analyst-analyses", "Run the catalogue");
    // Running it queues a job and goes to the job's page at once.
    b.click("form[action='/analyses/indicators'] button");
    wait_for(&b, "Analysis JOB-");
    check(&b, "analyst-job", "Your jobs");
    // The released table under the HES rule: every count rounded to the
    // nearest 5 and the cells of 1–7 (3 and 7) suppressed with their row
    // partners: the grand total 120+3+45+7+88+9 = 272 shows as 270.
    b.go(&format!("{site}/released/{}", fx.released));
    check(&b, "analyst-released", "<td>270</td>");
    b.go(&format!("{site}/outputs"));
    check(&b, "analyst-outputs", &fx.held);
    b.go(&format!("{site}/outputs/{}", fx.released));
    check(&b, "analyst-output-review", "Manifest SHA-256");
    b.go(&format!("{site}/tokens"));
    check(&b, "analyst-tokens", "Make a token");
    // A token made on the page works for the API until it is revoked on the
    // page; then the API refuses it.
    b.type_into("#label", "browser test");
    b.click("form[action='/tokens'] button");
    wait_for(&b, "Your new token");
    let token = b.call("GET", &format!("/element/{}/text", b.find("#new-token")), Value::Null).as_str().unwrap().trim().to_owned();
    let whoami = || {
        let http: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        http.get(&format!("{}/api/whoami", server.base)).header("Authorization", &format!("Bearer {token}")).call().unwrap().status().as_u16()
    };
    assert_eq!(whoami(), 200);
    b.go(&format!("{site}/tokens"));
    b.click("form[action$='/revoke'] button");
    wait_for(&b, "revoked");
    check(&b, "analyst-token-revoked", "revoked");
    assert_eq!(whoami(), 401, "a revoked token is refused");
    sign_out(&b);

    sign_in(&b, &fx, &site, "ben", Some("commissioning"));
    b.go(&format!("{site}/outputs/{}", fx.held));
    check(&b, "reviewer-decision", "Your decision");
    b.click("#approve");
    b.click("form[action$='/review'] button");
    // The page after the decision lists it (the header's "ben" would show
    // before the form's submission has ended).
    wait_for(&b, "<strong>ben</strong>: ");
    sign_out(&b);

    sign_in(&b, &fx, &site, "vic", None);
    b.go(&format!("{site}/released/{}", fx.released));
    // North: 120+3+45 = 168, shown as 170.
    check(&b, "viewer-released", "<td>170</td>");
    // (Not the inequality page: its groups are IMD quintiles 1–5.)
    for page in ["overview", "practices/A81004", "benchmarking?level=practice"] {
        b.go(&format!("{site}/{page}"));
        for small in 1..=7 {
            assert!(!b.source().contains(&format!("<td>{small}</td>")) && !b.source().contains(&format!("\">{small}</td>")), "{page}: the viewer sees a count of {small}");
        }
    }
    b.go(&format!("{site}/practices/A81003"));
    check(&b, "viewer-practice", "better");
    // Editing the id to the held output is refused.
    b.go(&format!("{site}/released/{}", fx.held));
    assert!(b.source().contains("not released"), "{}", b.source());
    b.go(&format!("{site}/"));
    sign_out(&b);

    sign_in(&b, &fx, &site, "aud", None);
    b.go(&format!("{site}/audit"));
    check(&b, "auditor-audit", "Chain verified");
    b.go(&format!("{site}/agreements"));
    check(&b, "auditor-agreements", "days to expiry");
    sign_out(&b);

    sign_in(&b, &fx, &site, "gill", Some("direct_care"));
    b.click("a[href='/practices/A81001']");
    check(&b, "gp-practice", "Practice A81001 against its ICB");
    sign_out(&b);

    sign_in(&b, &fx, &site, "dee", None);
    b.go(&format!("{site}/dq"));
    check(&b, "dscro-data-quality", "Data quality");
    // A session that ends (here made to expire) sends the next page to
    // the sign-in form, which says so.
    let db = rusqlite::Connection::open(fx.data_dir().join("catalog.sqlite")).unwrap();
    db.execute("UPDATE sessions SET expires_at = 1 WHERE user = 'dee'", []).unwrap();
    b.go(&format!("{site}/dq"));
    check(&b, "session-ended", "Your session has ended");

    sign_in(&b, &fx, &site, "admin", None);
    b.go(&format!("{site}/admin/users"));
    check(&b, "admin-users", "Add a user");
    sign_out(&b);

    // Five wrong passwords lock the account; then the right one is refused
    // too, and the form says why.
    let attempt = |password: &str| {
        b.go(&format!("{site}/sign-in"));
        b.type_into("#user", "cef");
        b.type_into("#password", password);
        b.click("button[type=submit]");
        let start = Instant::now();
        while !b.source().contains("Sign-in refused") {
            assert!(start.elapsed() < Duration::from_secs(10), "no refusal shown: {}", b.source());
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    for _ in 0..5 {
        attempt("not the password at all");
    }
    attempt(PASSWORD);
    check(&b, "account-locked", "locked");

    pages.assert_accessible();
}

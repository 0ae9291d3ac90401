//! The web app over a store the demo made (issue 16 §1, §3, §5): the pages
//! show the demo's released indicators and benchmark, an analyst runs the
//! catalogue from the web (held for review, audited like the CLI's run),
//! and the DSCRO sees data quality by provider and each load's quarantine.

mod common;

use std::collections::BTreeMap;

use haven_app::sign_in::{Channel, Request};
use haven_app::App;

struct Web {
    base: String,
    _runtime: tokio::runtime::Runtime,
}

impl Web {
    fn start(app: &App) -> Web {
        haven_server::check_ready(app).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = app.clone();
        runtime.spawn(async move { haven_server::serve(app, listener).await.unwrap() });
        Web { base, _runtime: runtime }
    }

    /// (status, Location header, body) of a request with the session cookie.
    fn call(&self, token: &str, method: &str, path: &str, form: Option<String>) -> (u16, String, String) {
        let http: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
        let url = format!("{}{path}", self.base);
        let cookie = format!("haven_session={token}");
        let resp = match (method, form) {
            ("POST", Some(body)) => http.post(&url).header("Cookie", &cookie).header("Content-Type", "application/x-www-form-urlencoded").send(body.as_bytes()),
            _ => http.get(&url).header("Cookie", &cookie).call(),
        };
        let mut resp = resp.unwrap();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let status = resp.status().as_u16();
        (status, location, resp.body_mut().read_to_string().unwrap_or_default())
    }
}

/// Signs a demo user in over the application layer, as the web form does.
fn sign_in(app: &App, creds: &BTreeMap<String, String>, user: &str, purpose: Option<&str>) -> String {
    let code = haven_governance::mfa::Mfa::open(app.data_dir()).unwrap().code_for(user, haven_governance::session::now()).unwrap();
    let req = Request { user, password: &creds[user], code: code.as_deref(), purpose, dsa: purpose.map(|_| "DSA-HAVEN-DEMO"), hours: 1, channel: Channel::Remote };
    app.sign_in(&req).unwrap_or_else(|e| panic!("{user}: {e}")).1
}

#[test]
fn issue_16_an_analyst_runs_the_catalogue_from_the_web_and_the_dscro_sees_quality_and_quarantine() {
    let tmp = tempfile::tempdir().unwrap();
    let (h, creds) = common::demo_store(tmp.path());
    let app = App::new(&h.data, &h.keys);
    let web = Web::start(&app);

    // The demo released its indicators output and benchmark: the overview
    // has a line per indicator, each linking to its page.
    let viewer = sign_in(&app, &creds, "demo.viewer", None);
    let (status, _, body) = web.call(&viewer, "GET", "/overview", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Against England (95%)"), "{body}");
    let lines = body.matches("href=\"/indicators/").count();
    assert!(lines >= 10, "{lines} headline lines");
    // The drill-down reads the output's practices (areas.csv).
    let (_, _, body) = web.call(&viewer, "GET", "/areas", None);
    assert!(body.contains("href=\"/areas/sub_icb/"), "{body}");

    // An analyst runs the catalogue from the web: it is held for review and
    // audited as the CLI's run is.
    let analyst = sign_in(&app, &creds, "demo.analyst", Some("commissioning"));
    let (status, _, body) = web.call(&analyst, "GET", "/analyses", None);
    assert_eq!(status, 200, "{body}");
    let csrf = app.form_token(&analyst).unwrap();
    let (status, location, body) = web.call(&analyst, "POST", "/analyses/indicators", Some(format!("csrf={csrf}&period=2024-25&icb=")));
    assert_eq!(status, 303, "{body}");
    // The form queues the run and goes to the job's page, which names the
    // held output once the worker has run it.
    let job = location.strip_prefix("/jobs/").unwrap_or_else(|| panic!("{location}")).to_owned();
    let start = std::time::Instant::now();
    let id = loop {
        let (status, _, body) = web.call(&analyst, "GET", &location, None);
        assert_eq!(status, 200, "{body}");
        if let Some(at) = body.find("Held for review as <a href=\"/outputs/") {
            let rest = &body[at + "Held for review as <a href=\"/outputs/".len()..];
            break rest[..rest.find('"').unwrap()].to_owned();
        }
        assert!(!body.contains("Failed"), "{body}");
        assert!(start.elapsed() < std::time::Duration::from_secs(300), "{job} did not finish: {body}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    // The job is listed on the analyst's form page, and only there: another
    // analyst editing the id is refused, and the refusal audited.
    assert!(web.call(&analyst, "GET", "/analyses", None).2.contains(&job));
    // (A new analyst: the demo's own have used this 30 s step's code.)
    let host = haven_app::Actor::host();
    app.add_user(&host, "web.other", "analyst", None, "another long passphrase").unwrap();
    app.enrol_mfa(&host, "web.other").unwrap();
    let mut creds = creds.clone();
    creds.insert("web.other".into(), "another long passphrase".into());
    let other = sign_in(&app, &creds, "web.other", Some("commissioning"));
    let (status, _, body) = web.call(&other, "GET", &location, None);
    assert_eq!(status, 403, "{body}");
    assert!(!web.call(&other, "GET", "/analyses", None).2.contains(&job));
    let refusals = app.audit_entries(usize::MAX).unwrap().into_iter().filter(|e| e.event.actor == "web.other" && e.event.outcome == "refused").count();
    assert!(refusals >= 1, "the refusal is audited");
    let shown = app.output(&id).unwrap();
    assert_eq!(shown.output.author, "demo.analyst");
    assert_eq!(shown.output.status, haven_governance::outputs::Status::Pending);
    assert!(shown.files.iter().any(|f| f.name == "areas.csv") && shown.files.iter().any(|f| f.name.ends_with(".practice.funnel.svg")));
    let runs: Vec<_> = app.audit_entries(usize::MAX).unwrap().into_iter().filter(|e| e.event.action == "indicators.run" && e.event.target == id).collect();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].event.actor.as_str(), runs[0].event.purpose.as_str()), ("demo.analyst", "commissioning"));
    // A viewer cannot run one.
    let csrf = app.form_token(&viewer).unwrap();
    assert_eq!(web.call(&viewer, "POST", "/analyses/indicators", Some(format!("csrf={csrf}"))).0, 403);

    // The DSCRO: data quality by provider for every committed load, and
    // each load's quarantine by field and reason, with no values.
    let dscro = sign_in(&app, &creds, "demo.dscro", None);
    let (status, _, body) = web.call(&dscro, "GET", "/dq", None);
    assert_eq!(status, 200, "{body}");
    let quality = app.data_quality(None).unwrap();
    let with_providers = quality.iter().find(|l| !l.providers.is_empty()).expect("a load with field checks");
    assert!(body.contains(&with_providers.load.id) && body.contains(&format!(">{}<", with_providers.providers[0].provider)), "{body}");
    let mut faults = 0;
    for l in &quality {
        let (status, _, body) = web.call(&dscro, "GET", &format!("/loads/{}/quarantine", l.load.id), None);
        assert_eq!(status, 200, "{body}");
        let q = app.quarantine(&l.load.id).unwrap();
        assert!(body.contains(&format!("{} faults recorded", q.faults)), "{body}");
        if let Some((field, reason, _, _)) = q.by_reason.first() {
            assert!(body.contains(field.as_str()) && body.contains(&maud_escape(reason)), "{body}");
        }
        faults += q.faults;
    }
    eprintln!("{} loads, {faults} quarantined faults", quality.len());
    // An analyst reads data quality but not the quarantine (DSCRO, auditor).
    assert_eq!(web.call(&analyst, "GET", "/dq", None).0, 200);
    assert_eq!(web.call(&analyst, "GET", &format!("/loads/{}/quarantine", quality[0].load.id), None).0, 403);
}

/// HTML-escapes as maud does (`&`, `<`, `>`, `"`).
fn maud_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A new user of `role`, enrolled, signed in over the application layer
/// (the demo's own users may have used this 30 s step's code).
fn new_user(app: &App, name: &str, role: &str, practice: Option<&str>, purpose: Option<&str>) -> String {
    let host = haven_app::Actor::host();
    app.add_user(&host, name, role, practice, "another long passphrase").unwrap();
    app.enrol_mfa(&host, name).unwrap();
    let creds = BTreeMap::from([(name.to_owned(), "another long passphrase".to_owned())]);
    sign_in(app, &creds, name, purpose)
}

#[test]
fn issue_17_the_finance_pages_show_runs_invoices_and_challenges_to_the_ceff_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (h, creds) = common::demo_store(tmp.path());
    let app = App::new(&h.data, &h.keys);
    let web = Web::start(&app);
    let ceff = sign_in(&app, &creds, "demo.finance", Some("invoice_validation"));

    // The demo's run: its headline on the finance home and its own page,
    // each reason with its count as the run recorded them.
    let runs = app.iv_runs().unwrap();
    assert_eq!(runs.len(), 1);
    let run = runs[0].clone();
    let (status, _, body) = web.call(&ceff, "GET", "/finance", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&run.run) && body.contains(&format!("<td class=\"nhsuk-table__cell\">{}</td>", run.lines)), "{body}");
    let (status, _, body) = web.call(&ceff, "GET", &format!("/finance/runs/{}", run.run), None);
    assert_eq!(status, 200, "{body}");
    assert!(!run.by_reason.is_empty());
    for (code, n) in &run.by_reason {
        assert!(body.contains(&format!("<code>{code}</code></td><td class=\"nhsuk-table__cell\">{n}</td>")), "{code} {n}: {body}");
    }
    // An invoice with a challenged line: every line shown, with its evidence.
    let invoices = app.iv_invoices(&run.run).unwrap();
    assert_eq!(invoices.iter().map(|i| i.lines).sum::<usize>(), run.lines);
    let inv = invoices.iter().find(|i| i.challenged > 0).expect("a challenged invoice");
    let (status, _, body) = web.call(&ceff, "GET", &format!("/finance/runs/{}/invoices/{}", run.run, inv.invoice_id), None);
    assert_eq!(status, 200, "{body}");
    let lines = app.iv_lines(&run.run, Some(&inv.invoice_id)).unwrap();
    assert_eq!(lines.len(), inv.lines);
    for l in lines.iter().filter(|l| l.outcome == "challenged") {
        assert!(body.contains(&maud_escape(&l.evidence)), "{}: {body}", l.evidence);
    }
    let (status, _, body) = web.call(&ceff, "GET", &format!("/finance/runs/{}/reports", run.run), None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("iv_summary.csv") && body.contains("iv_budget_by_practice_month.csv"), "{body}");

    // The challenge log: a raised challenge sent to the provider from its
    // page, then the provider's accepting response imported.
    let all = app.challenges(None).unwrap();
    let (status, _, body) = web.call(&ceff, "GET", "/finance/challenges", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("{} challenges", all.len())), "{body}");
    let c = all.iter().find(|c| c.status == haven_finance::challenge::Status::Raised).expect("a raised challenge").clone();
    let csrf = app.form_token(&ceff).unwrap();
    let (status, location, body) = web.call(&ceff, "POST", &format!("/finance/challenges/{}", c.id), Some(format!("csrf={csrf}&status=sent&note=by+email")));
    assert_eq!((status, location.as_str()), (303, format!("/finance/challenges/{}", c.id).as_str()), "{body}");
    assert_eq!(app.challenge(c.id).unwrap().0.status, haven_finance::challenge::Status::Sent);
    // A move the process does not allow (sent → resolved) is refused.
    let (status, _, _) = web.call(&ceff, "POST", &format!("/finance/challenges/{}", c.id), Some(format!("csrf={csrf}&status=resolved")));
    assert!(status == 400 || status == 403, "{status}");
    let file = format!("invoice_number,line_no,response,reason\n{},{},accept,agreed\nnot,a,row\n", c.invoice_number, c.line_no);
    let form = format!("csrf={csrf}&responses={}", file.replace(' ', "+").replace(',', "%2C").replace('\n', "%0A"));
    let (status, _, body) = web.call(&ceff, "POST", "/finance/responses", Some(form));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Accepted</dt><dd class=\"nhsuk-summary-list__value\">1<") && body.contains("Line 3: "), "{body}");
    assert_eq!(app.challenge(c.id).unwrap().0.status, haven_finance::challenge::Status::Accepted);

    // Validation from the page: queued, and the job names the new run.
    let (status, location, body) = web.call(&ceff, "POST", "/finance/run", Some(format!("csrf={csrf}&month=")));
    assert_eq!(status, 303, "{body}");
    assert!(location.starts_with("/jobs/JOB-"), "{location}");
    let start = std::time::Instant::now();
    loop {
        let (_, _, body) = web.call(&ceff, "GET", &location, None);
        if body.contains("Validated as <a href=\"/finance/runs/IV-") {
            break;
        }
        assert!(!body.contains("Failed"), "{body}");
        assert!(start.elapsed() < std::time::Duration::from_secs(120), "{body}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(app.iv_runs().unwrap().len(), 2);
    let (status, _, _) = web.call(&ceff, "POST", "/finance/run", Some(format!("csrf={csrf}&month=2024-13")));
    assert_eq!(status, 400);

    // No one else reaches a run's lines; the auditor reads the challenge
    // log but no invoice; each refusal is audited.
    let auditor = new_user(&app, "web.auditor", "auditor", None, None);
    assert_eq!(web.call(&auditor, "GET", "/finance/challenges", None).0, 200);
    let invoice_page = format!("/finance/runs/{}/invoices/{}", run.run, inv.invoice_id);
    let refused_before = app.audit_entries(usize::MAX).unwrap().iter().filter(|e| e.event.action == "refusal").count();
    let others = [
        ("web.analyst", "analyst", None, Some("commissioning")),
        ("web.viewer", "viewer", None, None),
        ("web.gp", "gp", Some("A81001"), Some("direct_care")),
    ];
    let mut refusals = 0;
    for token in others.iter().map(|(n, r, p, purpose)| new_user(&app, n, r, *p, *purpose)).chain([auditor]) {
        for page in ["/finance", &format!("/finance/runs/{}", run.run), &invoice_page, &format!("/finance/runs/{}/reports", run.run)] {
            let (status, _, body) = web.call(&token, "GET", page, None);
            assert_eq!(status, 403, "{page}: {body}");
            assert!(!body.contains(&inv.invoice_number), "{body}");
            refusals += 1;
        }
    }
    let refused_after = app.audit_entries(usize::MAX).unwrap().iter().filter(|e| e.event.action == "refusal").count();
    assert_eq!(refused_after, refused_before + refusals);
}

//! The web app over a store the demo made (issue 16 §1, §3, §5): the pages
//! show the demo's released indicators and benchmark, an analyst runs the
//! catalogue from the web (held for review, audited like the CLI's run),
//! and the DSCRO sees data quality by provider and each load's quarantine.

mod common;

use std::collections::BTreeMap;

use common::{text, Haven};
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
    let h = Haven::new(tmp.path());
    let demo = h.run(&["demo", "--scale", "small", "--no-serve"]);
    assert!(demo.status.success(), "{}", text(&demo));
    let creds: BTreeMap<String, String> = std::fs::read_to_string(h.data.join("demo-credentials.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(u, p)| (u.to_owned(), p.to_owned())))
        .collect();
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
    let job = location.strip_prefix("/analyses/jobs/").unwrap_or_else(|| panic!("{location}")).to_owned();
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

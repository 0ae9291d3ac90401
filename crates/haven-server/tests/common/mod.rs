//! A real store and a real server on a loopback port, for the server's
//! tests: users of every role with second factors, the demo agreement
//! imported (audited), one output held and one released by two reviewers.

#![allow(dead_code)]

use std::path::PathBuf;

use haven_app::{Actor, App};
use haven_governance::disclosure::Policy;
use haven_governance::dsa::{Purpose, Role};
use haven_governance::mfa::Mfa;
use haven_governance::outputs::Content;
use haven_governance::session::{Session, SessionKey};

pub const PASSWORD: &str = "a long enough passphrase";

/// The demo agreement, as `haven demo` imports it.
pub const DEMO_DSA: &str = include_str!("../../../../dsa/DSA-HAVEN-DEMO.toml");

/// (user, role) of the store; every one has a second factor but `nofactor`.
pub const USERS: &[(&str, Role)] = &[
    ("admin", Role::Admin),
    ("ana", Role::Analyst),
    ("ben", Role::Analyst),
    ("aud", Role::Auditor),
    ("vic", Role::Viewer),
    ("dee", Role::Dscro),
    ("gill", Role::Gp),
    ("cef", Role::Ceff),
];

pub struct Fixture {
    pub _tmp: tempfile::TempDir,
    pub app: App,
    pub held: String,
    pub released: String,
    /// A released indicators output and benchmark (see [`insight_outputs`]).
    pub indicators: String,
    pub benchmark: String,
    /// The counts the held and released tables were made from (some 1–7).
    pub raw: Vec<Vec<u64>>,
}

/// The purpose each role signs in for (analysts: commissioning).
pub fn purpose_of(role: Role) -> Option<Purpose> {
    match role {
        Role::Analyst => Some(Purpose::Commissioning),
        Role::Gp => Some(Purpose::DirectCare),
        Role::Ceff => Some(Purpose::InvoiceValidation),
        _ => None,
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let app = App::new(tmp.path().join("data"), tmp.path().join("keys"));
        std::fs::create_dir_all(app.data_dir()).unwrap();
        SessionKey::load_or_create(app.keys_dir()).unwrap();
        let host = Actor::host();
        app.import_dsa(&host, "DSA-HAVEN-DEMO.toml", DEMO_DSA).unwrap();
        for (name, role) in USERS {
            let practice = (*role == Role::Gp).then_some("A81001");
            app.add_user(&host, name, role.name(), practice, PASSWORD).unwrap();
            app.enrol_mfa(&host, name).unwrap();
        }
        app.add_user(&host, "nofactor", "analyst", None, PASSWORD).unwrap();
        let raw = vec![vec![120, 3, 45], vec![7, 88, 9]];
        let content = |title: &str| {
            let policy = Policy::default();
            Content::from_protected(title, &["North".into(), "South".into()], &["a".into(), "b".into(), "c".into()], &policy.table(&raw))
        };
        let ana = Actor::Signed(Fixture::session("ana", Role::Analyst));
        let held = app.submit(&ana, "Held table", &content("held")).unwrap().id;
        let released = app.submit(&ana, "Released table", &content("released")).unwrap().id;
        for reviewer in [("ben", Role::Analyst), ("aud", Role::Auditor)] {
            app.review(&Actor::Signed(Fixture::session(reviewer.0, reviewer.1)), &released, true, "").unwrap();
        }
        let (indicators, benchmark) = insight_outputs(&app, &ana);
        for id in [&indicators, &benchmark] {
            for reviewer in [("ben", Role::Analyst), ("aud", Role::Auditor)] {
                app.review(&Actor::Signed(Fixture::session(reviewer.0, reviewer.1)), id, true, "").unwrap();
            }
        }
        Fixture { _tmp: tmp, app, held, released, raw, indicators, benchmark }
    }

    /// A session's terms, for calling the application layer directly.
    pub fn session(user: &str, role: Role) -> Session {
        let purpose = purpose_of(role);
        Session { user: user.into(), role, purpose, dsa: purpose.map(|_| "DSA-HAVEN-DEMO".into()), practice: None, expires_at: u64::MAX }
    }

    /// The current one-time code of `user`.
    pub fn code(&self, user: &str) -> String {
        Mfa::open(self.app.data_dir()).unwrap().code_for(user, haven_governance::session::now()).unwrap().unwrap()
    }

    /// Signs `user` in over the application layer (as the web app does)
    /// and returns the session token.
    pub fn token(&self, user: &str, role: Role) -> String {
        let purpose = purpose_of(role).map(|p| p.name());
        let code = self.code(user);
        let req = haven_app::sign_in::Request {
            user,
            password: PASSWORD,
            code: Some(&code),
            purpose,
            dsa: purpose.map(|_| "DSA-HAVEN-DEMO"),
            hours: 8,
            channel: haven_app::sign_in::Channel::Remote,
        };
        self.app.sign_in(&req).unwrap().1
    }

    /// How many audit entries of `action` the log holds.
    pub fn audited(&self, action: &str) -> usize {
        self.app.audit_entries(usize::MAX).unwrap().iter().filter(|e| e.event.action == action).count()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.app.data_dir().to_path_buf()
    }
}

/// A server on a loopback port, serving until the test ends.
pub struct Server {
    pub base: String,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    pub fn start(app: &App) -> Server {
        haven_server::check_ready(app).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let app = app.clone();
        runtime.spawn(async move { haven_server::serve(app, listener).await.unwrap() });
        Server { base: format!("http://{addr}"), _runtime: runtime }
    }
}

/// An HTTP client that follows no redirects and treats no status as an error.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
}

/// (status, headers' Set-Cookie values, body).
pub fn read(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Vec<String>, String) {
    let mut resp = resp.unwrap();
    let cookies = resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    (status, cookies, body)
}

/// The indicator the insight fixture publishes.
pub const READMISSIONS: &str = "apc.emergency_readmission_30d";

fn row(group: &str, x: Option<u64>, n: u64) -> haven_analytics::Row {
    use haven_governance::disclosure::Cell;
    haven_analytics::Row {
        group: group.into(),
        numerator: Some(x.map_or(Cell::Suppressed, Cell::Value)),
        denominator: Some(Cell::Value(n)),
        value: x.map(|x| (1000.0 * x as f64 / n as f64).round() / 10.0),
        lower: None,
        upper: None,
    }
}

/// A released indicators output and a benchmark, made by hand with known
/// figures, held by `ana` (the caller releases them). Readmissions (lower
/// is better), ICB 300/3,000 = 10.0%:
/// - practices A81001 150/1,000 = 15.0% (above the 99.8% funnel: worse),
///   A81002 100/1,000 = 10.0% (similar), A81003 50/1,000 = 5.0% (below:
///   better), A81004 suppressed of 40;
/// - PCNs U1 (A81001, A81002) 250/2,000 = 12.5%, U2 (A81003, A81004)
///   50/1,040; one sub-ICB S1; providers RXX 200/2,000 and RYY 100/1,000;
/// - twelve months of 25/250 = 10.0%; SII −5.0 (−6.0 to −4.0);
/// - the benchmark: QMJ 10.0% against England 8.0%, peer median 9.5, worse.
pub fn insight_outputs(app: &App, ana: &Actor) -> (String, String) {
    use haven_analytics::{write, Breakdown, Table};
    let ind = haven_analytics::find(READMISSIONS).unwrap();
    let total = row("All", Some(300), 3000);
    let table = |breakdown, rows| Table { indicator: READMISSIONS.into(), title: ind.title.into(), unit: "%".into(), breakdown, period: "2024-25".into(), rows, total: total.clone() };
    let tables = vec![
        table(Breakdown::Total, vec![total.clone()]),
        table(Breakdown::Month, (4..16).map(|m| row(&format!("{}-{:02}", 2024 + (m - 1) / 12, (m - 1) % 12 + 1), Some(25), 250)).collect()),
        table(Breakdown::SubIcb, vec![row("S1", Some(300), 3000)]),
        table(Breakdown::Pcn, vec![row("U1", Some(250), 2000), row("U2", Some(50), 1040)]),
        table(Breakdown::Practice, vec![row("A81001", Some(150), 1000), row("A81002", Some(100), 1000), row("A81003", Some(50), 1000), row("A81004", None, 40)]),
        table(Breakdown::Provider, vec![row("RXX", Some(200), 2000), row("RYY", Some(100), 1000)]),
        table(Breakdown::ImdQuintile, (1..=5).map(|q| row(&q.to_string(), Some(80 - 10 * q), 600)).collect()),
    ];
    let area = |p: &str, pcn: &str| haven_analytics::insight::Area { practice: p.into(), pcn: Some(pcn.into()), sub_icb: Some("S1".into()) };
    let areas = vec![area("A81001", "U1"), area("A81002", "U1"), area("A81003", "U2"), area("A81004", "U2")];
    let (indicators, _) = app
        .hold(ana, "Indicators 2024-25", |d| {
            for t in &tables {
                write::table(t, d)?;
                write::charts(&ind, t, d, &[])?;
            }
            write::areas(&areas, d)?;
            let sii = format!("indicator,sii,sii_lower_95,sii_upper_95,rii,rii_lower_95,rii_upper_95\n{READMISSIONS},-5.000,-6.000,-4.000,0.5000,0.4000,0.6000\n");
            d.put(&format!("{READMISSIONS}.imd_quintile.sii.csv"), sii.as_bytes())?;
            Ok(())
        })
        .unwrap();
    let b: haven_analytics::benchmark::Benchmark = serde_json::from_value(serde_json::json!({
        "icb": "QMJ", "period": "2024-25",
        "profile": {"icb": "QMJ", "population": 1_000_000, "age_shares": [0.2, 0.3, 0.3, 0.15, 0.05], "imd_mean_decile": 5.5, "most_deprived_share": 0.2},
        "peers": [{"icb": "QWE", "distance": 0.1}],
        "comparisons": [{"indicator": READMISSIONS, "title": ind.title, "unit": "%", "method": "crude", "polarity": "lower_is_better",
            "value": 10.0, "lower": 9.0, "upper": 11.1, "england": 8.0, "peer_median": 9.5, "spread": [7.0, 8.5, 10.5, 12.0],
            "vs_england": "worse", "opportunity": 15.0, "opportunity_unit": "readmissions"}]
    }))
    .unwrap();
    let (benchmark, _) = app.hold(ana, "Benchmark QMJ 2024-25", |d| Ok(write::benchmark(&b, std::slice::from_ref(&ind), d).map(|_| ())?)).unwrap();
    (indicators, benchmark)
}

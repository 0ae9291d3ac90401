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
        Fixture { _tmp: tmp, app, held, released, raw }
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

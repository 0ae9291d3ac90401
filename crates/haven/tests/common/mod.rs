//! Shared set-up for the CLI tests: a data directory with its keys folder,
//! users of each role, signed-in sessions, and the agreements they run
//! under imported with dates relative to today, so no test depends on the
//! calendar (issue 14 item 16).

#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The password every test user has.
pub const PW: &str = "a long enough passphrase";

/// A data directory and its keys folder, used through the real binary.
pub struct Haven {
    pub data: PathBuf,
    pub keys: PathBuf,
    /// Where the harness writes the agreements it imports.
    root: PathBuf,
    admin: std::cell::OnceCell<String>,
}

impl Haven {
    /// `<root>/data` and `<root>/keys`.
    pub fn new(root: &Path) -> Haven {
        Haven { data: root.join("data"), keys: root.join("keys"), root: root.to_owned(), admin: Default::default() }
    }

    /// The binary with this data directory, with no session.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_haven"));
        c.arg("--data-dir").arg(&self.data).arg("--keys-dir").arg(&self.keys).args(args);
        c.env_remove("HAVEN_SESSION").env_remove("HAVEN_SESSION_KEY").env("HAVEN_PASSWORD", PW);
        c
    }

    /// Runs a command with no session.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs a command in a session.
    pub fn as_(&self, token: &str, args: &[&str]) -> Output {
        self.cmd(args).env("HAVEN_SESSION", token).output().unwrap()
    }

    /// Signs in; panics with the reason if refused.
    pub fn login(&self, user: &str, purpose: Option<&str>, dsa: Option<&str>) -> String {
        let mut args = vec!["login", user];
        if let Some(d) = dsa {
            args.extend(["--dsa", d]);
        }
        if let Some(p) = purpose {
            args.extend(["--purpose", p]);
        }
        let out = self.run(&args);
        assert!(out.status.success(), "login {user}: {}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// The administrator's session, adding the first administrator on a
    /// fresh data directory (the bootstrap case) and importing the shipped
    /// agreements with dates relative to today ([`AGREEMENTS`]).
    pub fn admin(&self) -> String {
        self.admin
            .get_or_init(|| {
                let out = self.run(&["users", "add", "admin", "--role", "admin"]);
                assert!(out.status.success(), "bootstrap: {}", text(&out));
                let token = self.login("admin", None, None);
                for (id, from, to) in AGREEMENTS {
                    let out = self.import(&token, id, &agreement(id, *from, *to));
                    assert!(out.status.success(), "import {id}: {}", text(&out));
                }
                token
            })
            .clone()
    }

    /// Writes `text` as `<id>.toml` beside the data directory and imports it
    /// in the session `token`.
    pub fn import(&self, token: &str, id: &str, text: &str) -> Output {
        let dir = self.root.join("agreements");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{id}.toml"));
        std::fs::write(&file, text).unwrap();
        self.as_(token, &["dsa", "import", file.to_str().unwrap()])
    }

    /// Adds `name` with `role` (and practice, for a GP) as the administrator.
    pub fn add_user(&self, name: &str, role: &str, practice: Option<&str>) {
        let admin = self.admin();
        let mut args = vec!["users", "add", name, "--role", role];
        if let Some(p) = practice {
            args.extend(["--practice", p]);
        }
        let out = self.as_(&admin, &args);
        assert!(out.status.success(), "add {name}: {}", text(&out));
    }

    /// A session for a new user of `role`, signed in for the role's usual
    /// purpose under the demo agreement.
    pub fn signed(&self, role: &str) -> String {
        let name = format!("{role}.user");
        self.add_user(&name, role, (role == "gp").then_some("A81001"));
        let (purpose, dsa) = usual_purpose(role);
        self.login(&name, purpose, dsa)
    }
}

/// The purpose and agreement each role signs in for in the tests.
pub fn usual_purpose(role: &str) -> (Option<&'static str>, Option<&'static str>) {
    const DEMO: Option<&str> = Some("DSA-HAVEN-DEMO");
    match role {
        "dscro" => (None, DEMO),
        "ceff" => (Some("invoice_validation"), DEMO),
        "gp" => (Some("direct_care"), DEMO),
        "analyst" | "viewer" => (Some("commissioning"), DEMO),
        _ => (None, None),
    }
}

/// Stdout and stderr together.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The repository's agreements folder.
pub fn dsa_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dsa")
}

/// Three years, in days, either side of today for agreements in force.
pub const YEARS_3: i32 = 3 * 365 + 1;

/// The shipped agreements the harness imports, with their start and end as
/// days from today: in force for three years either side, or (those that
/// have expired in reality) ended a year ago.
pub const AGREEMENTS: &[(&str, i32, i32)] = &[
    ("DSA-HAVEN-DEMO", -YEARS_3, YEARS_3),
    ("NIC-791919-T4Y0Y", -YEARS_3, YEARS_3),
    ("DARS-NIC-615974-Y3R7Q", -4 * 365, -365),
    ("DARS-NIC-617743-X0M9Z", -4 * 365, -365),
    ("DARS-NIC-193456-W3M0H", -4 * 365, -365),
];

/// Today (UTC), the day the binary checks agreements against.
pub fn today() -> haven_model::Date {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    haven_model::Date::from_days((secs / 86_400) as i32)
}

/// The day `offset` days from today.
pub fn day(offset: i32) -> haven_model::Date {
    haven_model::Date::from_days(today().days() + offset)
}

/// The shipped agreement `id`, its `start` and `end` moved to `from` and
/// `to` days from today.
pub fn agreement(id: &str, from: i32, to: i32) -> String {
    let text = std::fs::read_to_string(dsa_dir().join(format!("{id}.toml"))).unwrap();
    with_dates(&text, day(from), day(to))
}

/// `text` with its `start = "…"` and `end = "…"` lines replaced.
pub fn with_dates(text: &str, start: haven_model::Date, end: haven_model::Date) -> String {
    let mut seen = (false, false);
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("start = ") {
                seen.0 = true;
                format!("start = \"{start}\"")
            } else if l.starts_with("end = ") {
                seen.1 = true;
                format!("end = \"{end}\"")
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert_eq!(seen, (true, true), "the agreement has start and end lines");
    out.join("\n") + "\n"
}

/// The `small` synthetic folder, generated once per build of the binary and
/// shared read-only by every CLI test process (see
/// [`haven_synth::generate_shared`]).
pub fn small_synth() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("haven-cli-tests");
        let key = haven_synth::build_key(Path::new(env!("CARGO_BIN_EXE_haven")));
        let cfg = haven_synth::SynthConfig { scale: haven_synth::Scale::Small, ..Default::default() };
        haven_synth::generate_shared(&cfg, &root, &key).unwrap()
    })
}

/// A demo store at the small scale (`haven demo --scale small --no-serve`)
/// and the demo users' passwords, from `demo-credentials.txt`.
pub fn demo_store(root: &Path) -> (Haven, std::collections::BTreeMap<String, String>) {
    let h = Haven::new(root);
    let demo = h.run(&["demo", "--scale", "small", "--no-serve"]);
    assert!(demo.status.success(), "{}", text(&demo));
    let creds = std::fs::read_to_string(h.data.join("demo-credentials.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(u, p)| (u.to_owned(), p.to_owned())))
        .collect();
    (h, creds)
}

/// NHS numbers registered with each practice on `on` (REG_START on or
/// before it, REG_END empty or on or after it), from the raw file.
pub fn registered(file: &str, on: &str) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = std::collections::BTreeMap::new();
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

/// Serves `app` on a loopback port for a browser test: the runtime (kept
/// alive by the caller) and the site's address. `localhost` is a secure
/// context, so the browser keeps the Secure cookie.
pub fn serve(app: &haven_app::App) -> (tokio::runtime::Runtime, String) {
    haven_server::check_ready(app).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let site = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let served = app.clone();
    runtime.spawn(async move { haven_server::serve(served, listener).await.unwrap() });
    (runtime, site)
}

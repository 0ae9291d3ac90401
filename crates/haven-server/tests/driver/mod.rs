//! A headless Chromium (Debian's `chromium` and `chromium-driver`) driven
//! over the W3C WebDriver protocol, for the browser tests of the server
//! (`haven-server/tests/browser.rs`) and of the finance pages over the
//! demo's store (`haven/tests/finance_browser.rs`, by `#[path]`).

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

const AXE: &str = include_str!("../assets/axe-core/axe.min.js");
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one browser session through it, spoken to
/// over the W3C WebDriver protocol.
pub struct Browser {
    driver: Child,
    base: String,
    http: ureq::Agent,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("chromedriver").arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("chromedriver (cargo xtask test installs Debian's chromium-driver)");
        let http: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let root = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while http.get(&format!("{root}/status")).call().is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        // As root Chromium needs --no-sandbox; the background-networking
        // flags keep it from calling out of this closed machine.
        let args = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000",
        ];
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}});
        let mut resp = http.post(&format!("{root}/session")).send_json(&caps).unwrap();
        let v: Value = resp.body_mut().read_json().unwrap();
        let id = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no browser session: {v}")).to_owned();
        Browser { driver, base: format!("{root}/session/{id}"), http, _profile: profile }
    }

    pub fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let mut resp = match method {
            "GET" => self.http.get(&url).call(),
            _ => self.http.post(&url).send_json(&body),
        }
        .unwrap();
        let v: Value = resp.body_mut().read_json().unwrap();
        assert!(v["value"]["error"].is_null(), "{method} {path}: {v}");
        v["value"].clone()
    }

    pub fn go(&self, url: &str) {
        self.call("POST", "/url", json!({"url": url}));
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.call("POST", "/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("{css}: {v}")).to_owned()
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/element/{e}/value"), json!({"text": text}));
    }

    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/element/{e}/click"), json!({}));
    }

    pub fn source(&self) -> String {
        self.call("GET", "/source", Value::Null).as_str().unwrap().to_owned()
    }

    pub fn title(&self) -> String {
        self.call("GET", "/title", Value::Null).as_str().unwrap().to_owned()
    }

    /// axe-core's WCAG 2.x A/AA (to 2.2) violations on the current page.
    pub fn axe(&self) -> Vec<String> {
        let script = format!(
            "{AXE}\n;const done = arguments[arguments.length - 1];\
             axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}}}})\
             .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"
        );
        let v = self.call("POST", "/execute/async", json!({"script": script, "args": []}));
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    }

    pub fn screenshot(&self, name: &str) {
        let png = self.call("GET", "/screenshot", Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.base).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Waits until the page's source contains `text` (a form's submission may
/// still be under way when a click returns).
pub fn wait_for(b: &Browser, text: &str) {
    let start = Instant::now();
    while !b.source().contains(text) {
        assert!(start.elapsed() < Duration::from_secs(10), "{text:?} never shown: {}", b.source());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The pages one test checks: each must show its text, and each gets a
/// screenshot and an axe-core run whose violations are gathered.
#[derive(Default)]
pub struct Checked {
    violations: Vec<String>,
}

impl Checked {
    pub fn page(&mut self, b: &Browser, name: &str, expect: &str) {
        assert!(b.source().contains(expect), "{name}: expected {expect:?} in {}", b.source());
        b.screenshot(name);
        self.violations.extend(b.axe().into_iter().map(|v| format!("{name}: {v}")));
    }

    /// Fails with every violation found on any page checked.
    pub fn assert_accessible(&self) {
        assert!(self.violations.is_empty(), "axe-core found WCAG violations:\n{}", self.violations.join("\n"));
    }
}

//! The server over a real store on a loopback port (issue 16 §1, §2, §5):
//! every route walked for every role against the operation table, sign-in
//! with the second factor, cookies, anti-forgery tokens, editing ids in
//! URLs, revoked tokens, lock-outs and what a viewer may see.

mod common;

use common::{agent, read, Fixture, Server, USERS};
use haven_app::operation::{self, Need, TABLE};
use haven_governance::dsa::Role;

/// A route's path with its parameters filled in.
fn fill(path: &str, fx: &Fixture) -> String {
    path.replace("{id}", &fx.held)
        .replace("{name}", "table.csv")
        .replace("{handle}", "000000000000")
        .replace("{*path}", "haven.css")
        .replace("{code}", "A81001")
        .replace("{level}", "sub_icb")
        .replace("{invoice}", "INV-1")
}

/// Every `.route("…")` in the server's source: the routes it serves.
fn served_routes() -> Vec<String> {
    let mut out = Vec::new();
    for file in ["src/lib.rs", "src/api.rs"] {
        let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        for part in text.split(".route(\"").skip(1) {
            let (path, rest) = part.split_once('"').unwrap();
            let handlers = rest.split("))").next().unwrap();
            for method in ["get", "post"] {
                if handlers.contains(&format!("{method}(")) || handlers.contains(&format!(".{method}(")) {
                    out.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_served_route_is_in_the_table_and_every_table_route_is_served() {
    let served = served_routes();
    let mut table: Vec<String> = TABLE.iter().flat_map(|o| o.routes.iter().map(|r| (*r).to_owned())).collect();
    table.sort();
    assert!(served.len() > 20, "{served:?}");
    assert_eq!(served, table);
}

#[test]
fn every_route_for_every_role_is_decided_by_the_table_and_refusals_are_audited() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let http = agent();
    for (user, role) in USERS {
        let token = fx.token(user, *role);
        for op in TABLE {
            for route in op.routes {
                let (method, path) = route.split_once(' ').unwrap();
                let url = format!("{}{}", server.base, fill(path, &fx));
                let api = path.starts_with("/api/");
                let before = fx.audited("refusal");
                let resp = match (method, api) {
                    ("GET", true) => http.get(&url).header("Authorization", &format!("Bearer {token}")).call(),
                    ("GET", false) => http.get(&url).header("Cookie", &format!("haven_session={token}")).call(),
                    (_, true) => http.post(&url).header("Authorization", &format!("Bearer {token}")).send_json(serde_json::json!({"decision": "neither"})),
                    // No anti-forgery token: a form the table allows is
                    // still refused, for that reason and no other.
                    (_, false) => http.post(&url).header("Cookie", &format!("haven_session={token}")).header("Content-Type", "application/x-www-form-urlencoded").send("x=1"),
                };
                let (status, _, body) = read(resp);
                let session = fx.app.verify(&token).unwrap();
                let allowed = fx.app.authorize(op, route, Some(&session)).is_ok();
                let what = format!("{user} ({role}) {route}: {status} {}", &body[..body.len().min(200)]);
                if op.need == Need::Open {
                    assert!(status != 401 && status != 403 || route.starts_with("POST /sign-in"), "{what}");
                } else if !allowed {
                    assert_eq!(status, 403, "{what}");
                    assert!(body.contains(" is for ") || body.contains("purpose"), "{what}");
                    assert_eq!(fx.audited("refusal"), before + 1, "the refusal is audited: {what}");
                } else if method == "POST" && !api {
                    assert_eq!(status, 403, "{what}");
                    assert!(body.contains("anti-forgery"), "{what}");
                } else {
                    assert!(status != 401 && !(status == 403 && body.contains(" is for ")), "{what}");
                }
            }
        }
    }
}

#[test]
fn sign_in_needs_the_second_factor_and_sets_a_strict_cookie() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let http = agent();
    let form = |cookie: &str, csrf: &str, user: &str, code: &str| {
        http.post(&format!("{}/sign-in", server.base))
            .header("Cookie", cookie)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(format!("csrf={csrf}&user={user}&password=a+long+enough+passphrase&code={code}&purpose=commissioning&dsa=DSA-HAVEN-DEMO"))
    };
    let (status, cookies, body) = read(http.get(&format!("{}/sign-in", server.base)).call());
    assert_eq!(status, 200);
    let pre = cookies.iter().find(|c| c.starts_with("haven_sign_in=")).expect("a sign-in form cookie").clone();
    let value = pre.split(';').next().unwrap().trim_start_matches("haven_sign_in=").to_owned();
    assert!(body.contains(&format!("value=\"{value}\"")), "the form carries the same token");
    let cookie = format!("haven_sign_in={value}");

    // A form posted from elsewhere (no or another token) is refused.
    let (status, _, _) = read(form("", &value, "ana", &fx.code("ana")));
    assert_eq!(status, 403);
    let (status, _, _) = read(form(&cookie, "forged", "ana", &fx.code("ana")));
    assert_eq!(status, 403);
    // The wrong code, and no code, are refused and audited.
    let refused = fx.audited("session.login");
    let (status, _, body) = read(form(&cookie, &value, "ana", "000000"));
    assert_eq!(status, 401, "{body}");
    let (status, _, _) = read(form(&cookie, &value, "ana", ""));
    assert_eq!(status, 401);
    assert_eq!(fx.audited("session.login"), refused + 2);
    // Remote access needs a second factor: a right password alone is not enough.
    let (status, _, body) = read(form(&cookie, &value, "nofactor", ""));
    assert_eq!(status, 401);
    assert!(body.contains("no second factor"), "{body}");
    // The right code signs in: the cookie is Secure, HttpOnly, SameSite=Strict.
    let (status, cookies, _) = read(form(&cookie, &value, "ana", &fx.code("ana")));
    assert_eq!(status, 303);
    let session = cookies.iter().find(|c| c.starts_with("haven_session=")).expect("a session cookie");
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(attr), "{session} lacks {attr}");
    }
    let token = session.split(';').next().unwrap().trim_start_matches("haven_session=");
    let (status, _, body) = read(http.get(&format!("{}/", server.base)).header("Cookie", &format!("haven_session={token}")).call());
    assert_eq!(status, 200);
    assert!(body.contains("Signed in as") && body.contains("ana"), "{body}");
}

#[test]
fn five_failed_sign_ins_lock_the_account_and_the_lockout_is_audited() {
    let fx = Fixture::new();
    let _server = Server::start(&fx.app);
    fn req(code: &str) -> haven_app::sign_in::Request<'_> {
        haven_app::sign_in::Request {
        user: "vic",
        password: "not the password",
        code: Some(code),
        purpose: None,
        dsa: None,
        hours: 8,
        channel: haven_app::sign_in::Channel::Remote,
        }
    }
    for _ in 0..haven_governance::lockout::MAX_FAILURES {
        assert!(fx.app.sign_in(&req("123456")).is_err());
    }
    let code = fx.code("vic");
    let right = haven_app::sign_in::Request { password: common::PASSWORD, ..req(&code) };
    let e = fx.app.sign_in(&right).unwrap_err().to_string();
    assert!(e.contains("locked"), "{e}");
    assert!(fx.audited("session.lockout") >= 1);
}

#[test]
fn a_form_needs_this_sessions_anti_forgery_token() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let http = agent();
    let ben = fx.token("ben", Role::Analyst);
    let aud = fx.token("aud", Role::Auditor);
    let url = format!("{}/outputs/{}/review", server.base, fx.held);
    let post = |token: &str, csrf: &str| {
        http.post(&url)
            .header("Cookie", &format!("haven_session={token}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(format!("csrf={csrf}&decision=approve&reason="))
    };
    // Another session's token is not this one's.
    let (status, _, body) = read(post(&ben, &fx.app.form_token(&aud).unwrap()));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("anti-forgery"));
    assert!(fx.app.output(&fx.held).unwrap().output.reviews.is_empty(), "nothing was recorded");
    // Its own token records the decision.
    let (status, _, _) = read(post(&ben, &fx.app.form_token(&ben).unwrap()));
    assert_eq!(status, 303);
    assert_eq!(fx.app.output(&fx.held).unwrap().output.reviews.len(), 1);
}

#[test]
fn editing_an_id_in_the_url_reaches_nothing_the_role_does_not_cover_and_is_audited() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let http = agent();
    let vic = fx.token("vic", Role::Viewer);
    let get = |path: &str| read(http.get(&format!("{}{path}", server.base)).header("Cookie", &format!("haven_session={vic}")).call());
    // The released output shows; the held one, edited into the same URL, does not.
    let (status, _, body) = get(&format!("/released/{}", fx.released));
    assert_eq!(status, 200, "{body}");
    let before = fx.audited("refusal");
    for path in [format!("/released/{}", fx.held), format!("/released/{}/table.csv", fx.held), format!("/outputs/{}", fx.held), "/audit".into(), "/admin/users".into()] {
        let (status, _, body) = get(&path);
        assert_eq!(status, 403, "{path}: {body}");
    }
    assert_eq!(fx.audited("refusal"), before + 5, "every refusal is audited");
    // A viewer never sees a count of 1 to 7: the raw table had 3 and 7.
    let (_, _, body) = get(&format!("/released/{}", fx.released));
    for small in 1..=7 {
        assert!(!body.contains(&format!("<td>{small}</td>")), "a cell shows {small}");
    }
    assert!(fx.raw.iter().flatten().any(|&n| (1..=7).contains(&n)), "the fixture has small counts to hide");
}

#[test]
fn api_tokens_carry_their_makers_scope_and_stop_when_revoked() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let http = agent();
    let ana = fx.app.verify(&fx.token("ana", Role::Analyst)).unwrap();
    let (made, token) = fx.app.issue_token(&ana, "weekly", 7).unwrap();
    let call = |path: &str| read(http.get(&format!("{}{path}", server.base)).header("Authorization", &format!("Bearer {token}")).call());
    let (status, _, body) = call("/api/whoami");
    assert_eq!(status, 200);
    let who: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((who["user"].as_str(), who["purpose"].as_str()), (Some("ana"), Some("commissioning")));
    let (status, _, _) = call("/api/outputs");
    assert_eq!(status, 200);
    // Not an auditor: the audit log is refused.
    assert_eq!(call("/api/audit").0, 403);
    // A token in a cookie is not a web session's way in... but is a
    // session; the API refuses a cookie and takes only the bearer header.
    let (status, _, _) = read(http.get(&format!("{}/api/whoami", server.base)).header("Cookie", &format!("haven_session={token}")).call());
    assert_eq!(status, 401);
    fx.app.revoke_token(&ana, &made.handle).unwrap();
    let (status, _, body) = call("/api/whoami");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
    assert_eq!(fx.audited("token.issue"), 1);
    assert_eq!(fx.audited("token.revoke"), 1);
}

#[test]
fn analyses_are_queued_followed_by_their_user_only_and_checked_before_queueing() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let http = agent();
    let (ana, ben) = (fx.token("ana", Role::Analyst), fx.token("ben", Role::Analyst));
    let post = |token: &str, path: &str, body: serde_json::Value| read(http.post(&format!("{}{path}", server.base)).header("Authorization", &format!("Bearer {token}")).send_json(body));
    let get = |token: &str, path: &str| read(http.get(&format!("{}{path}", server.base)).header("Authorization", &format!("Bearer {token}")).call());
    // A period that is not a financial year is answered at once, not queued.
    let (status, _, body) = post(&ana, "/api/analyses/indicators", serde_json::json!({"period": "2024-99"}));
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = get(&ana, "/api/jobs");
    assert_eq!((status, body.as_str()), (200, "[]"));
    // Queued: the answer is the job, which its user follows to the end.
    let (status, _, body) = post(&ana, "/api/analyses/indicators", serde_json::json!({"period": "2024-25"}));
    assert_eq!(status, 200, "{body}");
    let job: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = job["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("JOB-") && job["state"]["state"].as_str().is_some(), "{job}");
    let start = std::time::Instant::now();
    let end = loop {
        let (status, _, body) = get(&ana, &format!("/api/jobs/{id}"));
        assert_eq!(status, 200, "{body}");
        let j: serde_json::Value = serde_json::from_str(&body).unwrap();
        if matches!(j["state"]["state"].as_str(), Some("done" | "failed")) {
            break j;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "{j}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // This store has no loaded data: the catalogue either holds empty
    // tables or fails with its reason; either way the job ends and says so.
    match end["state"]["state"].as_str() {
        Some("done") => assert!(fx.app.output(end["state"]["id"].as_str().unwrap()).is_ok(), "{end}"),
        _ => assert!(!end["state"]["reason"].as_str().unwrap_or("").is_empty(), "{end}"),
    }
    // Another analyst editing the id is refused, and the refusal audited.
    let before = fx.audited("refusal");
    let (status, _, body) = get(&ben, &format!("/api/jobs/{id}"));
    assert_eq!(status, 403, "{body}");
    assert_eq!(fx.audited("refusal"), before + 1);
    assert_eq!(get(&ben, "/api/jobs").2, "[]");
    // The benchmark needs its own purpose: refused under commissioning.
    assert_eq!(post(&ana, "/api/analyses/benchmark", serde_json::json!({"icb": "QMJ"})).0, 403);
}

#[test]
fn an_administrator_revokes_another_users_token_and_no_one_else_can() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let http = agent();
    let ana = fx.app.verify(&fx.token("ana", Role::Analyst)).unwrap();
    let (made, token) = fx.app.issue_token(&ana, "nightly", 7).unwrap();
    let whoami = || read(http.get(&format!("{}/api/whoami", server.base)).header("Authorization", &format!("Bearer {token}")).call()).0;
    assert_eq!(whoami(), 200);
    // The auditor sees every token (never the token itself) but may not
    // revoke; the analyst may not revoke another's through the app either.
    let aud = fx.token("aud", Role::Auditor);
    let (status, _, body) = read(http.get(&format!("{}/admin/tokens", server.base)).header("Cookie", &format!("haven_session={aud}")).call());
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&made.handle) && body.contains("nightly") && !body.contains(&token), "{body}");
    let ben = fx.app.verify(&fx.token("ben", Role::Analyst)).unwrap();
    assert!(fx.app.revoke_token_of(&ben, "ana", &made.handle).unwrap_err().to_string().contains("only their own"));
    assert_eq!(whoami(), 200);
    // The administrator revokes it through the page: audited against ana.
    let admin = fx.token("admin", Role::Admin);
    let csrf = fx.app.form_token(&admin).unwrap();
    let url = format!("{}/admin/tokens/ana/{}/revoke", server.base, made.handle);
    let (status, _, body) = read(http.post(&url).header("Cookie", &format!("haven_session={admin}")).header("Content-Type", "application/x-www-form-urlencoded").send(format!("csrf={csrf}")));
    assert_eq!(status, 303, "{body}");
    assert_eq!(whoami(), 401);
    let revokes: Vec<_> = fx.app.audit_entries(usize::MAX).unwrap().into_iter().filter(|e| e.event.action == "token.revoke").collect();
    assert_eq!(revokes.iter().map(|e| (e.event.actor.as_str(), e.event.target.as_str(), e.event.outcome.as_str())).collect::<Vec<_>>(), [("admin", "ana", "ok"), ("ben", "ana", "refused")], "newest first");
    // The practices page lists gill's practice and the released practices.
    let (_, _, body) = read(http.get(&format!("{}/admin/practices", server.base)).header("Cookie", &format!("haven_session={admin}")).call());
    assert!(body.contains("A81001") && body.contains("gill") && body.contains("A81004"), "{body}");
}

#[test]
fn an_idle_session_is_refused_audited_and_sent_to_sign_in() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let http = agent();
    let token = fx.token("aud", Role::Auditor);
    let get = || read(http.get(&format!("{}/audit", server.base)).header("Cookie", &format!("haven_session={token}")).call());
    assert_eq!(get().0, 200);
    // Its last use moved 31 minutes back, as if left idle.
    let db = rusqlite::Connection::open(fx.data_dir().join("catalog.sqlite")).unwrap();
    db.execute("UPDATE sessions SET last_used_at = last_used_at - 31 * 60", []).unwrap();
    let before = fx.audited("refusal");
    let (status, cookies, _) = get();
    assert_eq!(status, 303, "sent to the sign-in page");
    assert!(cookies.iter().any(|c| c.starts_with("haven_session=;")), "the cookie is cleared: {cookies:?}");
    assert_eq!(fx.audited("refusal"), before + 1);
    let last = fx.app.audit_entries(1).unwrap().remove(0);
    assert!(last.event.detail.contains("idle"), "{}", last.event.detail);
}

#[test]
fn the_openapi_document_describes_every_api_route() {
    let doc = serde_json::to_value(haven_server::api::document()).unwrap();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for op in TABLE {
        for route in op.routes.iter().filter(|r| r.contains(" /api/") && !r.ends_with("openapi.json")) {
            let path = route.split_once(' ').unwrap().1;
            assert!(paths.iter().any(|p| p.as_str() == path), "{path} is not in the OpenAPI document");
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[test]
fn the_server_refuses_to_start_without_keys_or_an_agreement() {
    let tmp = tempfile::tempdir().unwrap();
    let app = haven_app::App::new(tmp.path().join("data"), tmp.path().join("keys"));
    std::fs::create_dir_all(app.data_dir()).unwrap();
    let e = haven_server::check_ready(&app).unwrap_err().to_string();
    assert!(e.contains("keys folder"), "{e}");
    haven_governance::session::SessionKey::load_or_create(app.keys_dir()).unwrap();
    app.audit(haven_app::Actor::host().event("", "", "", "test", "-", "ok", serde_json::json!({}))).unwrap();
    let e = haven_server::check_ready(&app).unwrap_err().to_string();
    assert!(e.contains("registry is empty"), "{e}");
    let _ = operation::for_route("GET /");
}

#[test]
fn given_a_certificate_it_serves_tls_and_refuses_a_readable_key() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (cargo xtask test installs it)");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let e = runtime.block_on(haven_server::serve_tls(fx.app.clone(), listener, &cert, &key)).unwrap_err().to_string();
    assert!(e.contains("may be read by group or others"), "{e}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = fx.app.clone();
    let (c, k) = (cert.clone(), key.clone());
    runtime.spawn(async move { haven_server::serve_tls(app, listener, &c, &k).await.unwrap() });
    let curl = |extra: &[&str]| {
        let mut args = vec!["-sS", "--max-time", "10", "--resolve"];
        let resolve = format!("localhost:{port}:127.0.0.1");
        args.push(&resolve);
        args.extend_from_slice(extra);
        let url = format!("https://localhost:{port}/healthz");
        std::process::Command::new("curl").args(&args).arg(&url).output().expect("curl (cargo xtask test installs it)")
    };
    // Trusting the certificate: TLS works end to end.
    let mut ok = curl(&["--cacert", cert.to_str().unwrap()]);
    for _ in 0..50 {
        if ok.status.success() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        ok = curl(&["--cacert", cert.to_str().unwrap()]);
    }
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "ok");
    // Without trusting it, the handshake fails: it is TLS, not plain HTTP.
    assert!(!curl(&[]).status.success());
}

#[test]
fn a_large_output_is_reviewed_page_by_page_and_a_changed_file_is_named_on_every_page() {
    let fx = Fixture::new();
    let server = Server::start(&fx.app);
    let http = agent();
    let ana = haven_app::Actor::Signed(Fixture::session("ana", Role::Analyst));
    // 45 tables: pages of 40, so 1–40 then 41–45.
    let (id, files) = fx
        .app
        .hold(&ana, "Many tables", |draft| {
            for i in 0..45 {
                draft.put(&format!("t{i:02}.csv"), format!("area,count\nA{i:02},{}\n", 100 + i).as_bytes())?;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(files, 45);
    let ben = fx.token("ben", Role::Analyst);
    let page = |q: &str| read(http.get(&format!("{}/outputs/{id}{q}", server.base)).header("Cookie", &format!("haven_session={ben}")).call());
    let (status, _, first) = page("");
    assert_eq!(status, 200, "{first}");
    assert!(first.contains("Files 1–40 of 45, page 1 of 2") && first.contains("45 files, every one as its manifest records it"), "{first}");
    assert!(first.contains(">A00<") && first.contains(">A39<") && !first.contains(">A40<"), "{first}");
    assert!(first.contains("Your decision"), "the decision form is on every page");
    let (_, _, second) = page("?page=2");
    assert!(second.contains(">A40<") && second.contains(">A44<") && !second.contains(">A39<"), "{second}");
    // Past the end: the last page.
    assert!(page("?page=99").2.contains("page 2 of 2"));
    // A file changed on disk is named at the top of every page.
    std::fs::write(fx.data_dir().join("outputs").join(&id).join("t44.csv"), "area,count\nA44,3\n").unwrap();
    for q in ["", "?page=2"] {
        let (_, _, body) = page(q);
        assert!(body.contains("1 of 45 files are not as written") && body.contains("t44.csv: CHANGED"), "{body}");
    }
}

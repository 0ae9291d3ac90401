//! The command × role × purpose table, end to end: every subcommand the
//! binary offers is run by every role (and by nobody), and the test's own
//! statement of who may run what must match what the binary does. A command
//! added without an entry here fails the coverage check. Then the ways a
//! session can be abused — replayed after sign-out, forged, carried to
//! another data directory, used by a disabled user — and retention with its
//! destruction certificate.

use std::collections::BTreeSet;
use std::process::Command;

mod common;
use common::{text, Haven};

const ROLES: [&str; 7] = ["dscro", "ceff", "gp", "analyst", "viewer", "auditor", "admin"];

/// Who may run each command, stated independently of the binary's table:
/// `None` means no sign-in is needed. Arguments make allowed runs finish or
/// fail quickly after the access check.
struct Case {
    name: &'static str,
    args: Vec<String>,
    allowed: Option<&'static [&'static str]>,
}

fn cases(out: &str) -> Vec<Case> {
    let c = |name: &'static str, extra: &[&str], allowed: Option<&'static [&'static str]>| Case {
        name,
        args: name.split(' ').map(str::to_owned).chain(extra.iter().map(|a| a.replace('@', out))).collect(),
        allowed,
    };
    vec![
        c("synth", &["--scale", "nope", "--out", "@/s"], None),
        c("demo", &["--scale", "nope"], Some(&["admin"][..])),
        c("ingest", &["--dataset", "org", "--file", "@/missing.psv"], Some(&["dscro"])),
        c("keys init", &[], Some(&["dscro", "admin"])),
        c("keys list", &[], Some(&["dscro", "admin", "auditor"])),
        c("keys rotate", &["--zone", "bogus"], Some(&["dscro", "admin"])),
        c("loads", &[], Some(&["dscro", "analyst", "auditor", "admin"])),
        c("dq", &[], Some(&["dscro", "analyst", "auditor"])),
        c("users add", &["nobody.new", "--role", "bogus"], Some(&["admin"])),
        c("users list", &[], Some(&["admin", "auditor"])),
        c("users disable", &["nobody.at.all"], Some(&["admin"])),
        c("users mfa", &["nobody.at.all"], Some(&["admin"])),
        c("users unlock", &["nobody.at.all"], Some(&["admin"])),
        c("login", &["nobody.at.all"], None),
        c("whoami", &[], None),
        c("dsa list", &[], None),
        c("dsa show", &["DSA-HAVEN-DEMO"], None),
        c("dsa check", &["DSA-HAVEN-DEMO"], None),
        c("dsa import", &["@/missing.toml"], Some(&["admin"])),
        c("outputs submit", &["--title", "t", "--counts", "@/missing.csv"], Some(&["analyst"])),
        c("outputs list", &[], Some(&["analyst", "auditor"])),
        c("outputs show", &["OUT-99999"], Some(&["analyst", "auditor"])),
        c("outputs approve", &["OUT-99999"], Some(&["analyst", "auditor"])),
        c("outputs reject", &["OUT-99999", "--reason", "r"], Some(&["analyst", "auditor"])),
        c("outputs export", &["OUT-99999", "--out", "@/x.csv"], Some(&["analyst", "viewer"])),
        c("audit verify", &[], Some(&["auditor", "admin"])),
        c("audit checkpoint", &[], Some(&["auditor", "admin"])),
        c("audit export", &["--out", "@/audit.csv", "--format", "bogus"], Some(&["auditor"])),
        c("retention apply", &["--dsa", "DSA-HAVEN-DEMO", "--dry-run"], Some(&["dscro", "admin"])),
        c("retention certificates", &[], Some(&["dscro", "auditor", "admin"])),
        c("indicators list", &[], None),
        c("indicators show", &["apc.los_mean"], None),
        c("indicators run", &["--period", "bogus"], Some(&["analyst"])),
        // Analysts sign in for commissioning here; the national extract
        // needs the benchmarking purpose (tested in analytics_cli).
        c("benchmark", &["--icb", "QMJ"], Some(&[])),
        // Invoice validation: finance validators (ceff) alone.
        c("iv run", &["--period", "bogus"], Some(&["ceff"])),
        c("iv reasons", &[], None),
        // Risk stratification: analysts under that purpose only (here they
        // sign in for commissioning, so no one may).
        c("risk run", &["--index-date", "bogus"], Some(&[])),
        // A GP's at-risk list: GPs (for direct care) alone; here no model
        // has been fitted, so an allowed run ends "not found".
        c("risk list", &["--limit", "5"], Some(&["gp"])),
        // One of those patients: GPs alone; a number that is not ten digits
        // ends "invalid" once allowed.
        c("risk patient", &["12345"], Some(&["gp"])),
        c("iv challenges list", &["--status", "bogus"], Some(&["ceff", "auditor"])),
        c("iv challenges show", &["999"], Some(&["ceff", "auditor"])),
        c("iv challenges update", &["999", "--status", "sent"], Some(&["ceff"])),
        c("iv import-responses", &["@/missing.csv"], Some(&["ceff"])),
        c("iv report", &["--run", "IV-0"], Some(&["ceff"])),
        // Open: the server itself admits each request by the same table. A
        // bad address stops it before it would serve.
        c("serve", &["--bind", "not-an-address"], None),
        c("bench synth", &["--scale", "nope", "--out", "@/b"], None),
        c("bench ingest", &["--file", "@/missing.psv"], None),
        c("bench catalogue", &["--from", "@/missing"], None),
        c("bench serve", &["--scale", "nope"], None),
        c("bench iv", &["--scale", "nope"], None),
        c("bench risk", &["--scale", "nope"], None),
        // Last: it ends the session it runs in.
        c("logout", &[], None),
    ]
}

/// Every leaf subcommand the binary lists in its help.
fn leaf_commands(prefix: &[String]) -> Vec<String> {
    let mut args = prefix.to_vec();
    args.push("--help".into());
    let help = Command::new(env!("CARGO_BIN_EXE_haven")).args(&args).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let subs: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|s| s != "help")
        .collect();
    if subs.is_empty() {
        return vec![prefix.join(" ")];
    }
    subs.iter()
        .flat_map(|s| {
            let mut p = prefix.to_vec();
            p.push(s.clone());
            leaf_commands(&p)
        })
        .collect()
}

#[test]
fn every_command_by_every_role_matches_the_access_table() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let out = tmp.path().to_str().unwrap();
    let cases = cases(out);

    let offered: BTreeSet<String> = leaf_commands(&[]).into_iter().collect();
    let tested: BTreeSet<String> = cases.iter().map(|c| c.name.to_owned()).collect();
    assert_eq!(offered, tested, "every command the binary offers has a row here, and no more");

    let mut sessions: Vec<(&str, Option<String>)> = ROLES.iter().map(|r| (*r, Some(h.signed(r)))).collect();
    sessions.push(("nobody", None));
    let mut refusals = 0;
    for (role, token) in &sessions {
        for Case { args, allowed, .. } in &cases {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = match token {
                Some(t) => h.as_(t, &args),
                None => h.run(&args),
            };
            let may = match allowed {
                None => true,
                Some(roles) => token.is_some() && roles.contains(role),
            };
            let refused = run.status.code() == Some(3);
            assert_eq!(!refused, may, "`haven {}` as {role}: {}", args.join(" "), text(&run));
            if refused {
                refusals += 1;
                assert!(text(&run).contains("refused"), "{}", text(&run));
            }
        }
    }
    // Every refusal is in the audit chain (the sessions above are all
    // signed out now, so the auditor signs in again).
    let auditor = h.login("auditor.user", None, None);
    let csv = tmp.path().join("audit-final.csv");
    assert!(h.as_(&auditor, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let log = std::fs::read_to_string(&csv).unwrap();
    let audited = log.lines().filter(|l| l.split(',').nth(6) == Some("refusal")).count();
    assert_eq!(audited, refusals);
    assert!(h.as_(&auditor, &["audit", "verify"]).status.success());
}

#[test]
fn replayed_forged_foreign_and_stale_sessions_are_refused_and_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let ana = h.signed("analyst");
    assert!(text(&h.as_(&ana, &["whoami"])).contains("analyst.user as analyst for commissioning under DSA-HAVEN-DEMO"));
    assert!(h.as_(&ana, &["loads"]).status.success());

    // Forged: one digit of the id changed, so the MAC fails.
    let mut forged = ana.clone().into_bytes();
    forged[6] = if forged[6] == b'a' { b'b' } else { b'a' };
    let forged = String::from_utf8(forged).unwrap();
    let f = h.as_(&forged, &["loads"]);
    assert_eq!(f.status.code(), Some(3));
    assert!(text(&f).contains("not issued here"), "{}", text(&f));

    // Foreign: a genuine token from another deployment (its own keys).
    let other = Haven::new(&tmp.path().join("other"));
    let theirs = other.signed("analyst");
    let x = h.as_(&theirs, &["loads"]);
    assert_eq!(x.status.code(), Some(3), "{}", text(&x));

    // Replayed after sign-out.
    assert!(h.as_(&ana, &["logout"]).status.success());
    let replay = h.as_(&ana, &["loads"]);
    assert_eq!(replay.status.code(), Some(3));
    assert!(text(&replay).contains("signed out"), "{}", text(&replay));

    // A disabled user's live session stops at once.
    let bea_token = {
        h.add_user("bea", "analyst", None);
        h.login("bea", Some("commissioning"), Some("DSA-HAVEN-DEMO"))
    };
    assert!(h.as_(&h.admin(), &["users", "disable", "bea"]).status.success());
    let stale = h.as_(&bea_token, &["loads"]);
    assert_eq!(stale.status.code(), Some(3));
    assert!(text(&stale).contains("disabled"), "{}", text(&stale));

    // Sign-in itself refuses a wrong password, an agreement that does not
    // let the role do the purpose, and a purpose with no agreement.
    let wrong = h.cmd(&["login", "analyst.user"]).env("HAVEN_PASSWORD", "not the password").output().unwrap();
    assert!(!wrong.status.success());
    let gp_purpose = h.run(&["login", "analyst.user", "--purpose", "direct_care", "--dsa", "DSA-HAVEN-DEMO"]);
    assert!(text(&gp_purpose).contains("may not process for direct_care"), "{}", text(&gp_purpose));
    // A purpose without its agreement is a usage error, refused before anything runs.
    assert_eq!(h.run(&["login", "analyst.user", "--purpose", "commissioning"]).status.code(), Some(2));
    // A missing session key file is a clear refusal, not a crash.
    std::fs::remove_file(h.keys.join("session.key")).unwrap();
    let nokey = h.as_(&h.admin(), &["users", "list"]);
    assert_eq!(nokey.status.code(), Some(3));
    assert!(text(&nokey).contains("no session key"), "{}", text(&nokey));

    let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
    let refusals: i64 = db.query_row("SELECT COUNT(*) FROM audit WHERE action = 'refusal'", [], |r| r.get(0)).unwrap();
    assert_eq!(refusals, 5, "forged, foreign, replayed, disabled, no key");
    let bad_logins: i64 = db.query_row("SELECT COUNT(*) FROM audit WHERE action = 'session.login' AND outcome = 'refused'", [], |r| r.get(0)).unwrap();
    assert_eq!(bad_logins, 2, "wrong password, purpose the role may not do");
}

/// Issue 16 §2: a user with a second factor (TOTP, RFC 6238) signs in only
/// with the current code from their app, once; the enrolment shows the
/// secret and QR code once and audits only that it happened.
#[test]
fn a_second_factor_is_needed_once_enrolled_and_each_code_works_once() {
    use haven_governance::mfa::Mfa;
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    h.add_user("cara", "analyst", None);
    let login = |code: Option<&str>| {
        let mut c = h.cmd(&["login", "cara", "--purpose", "commissioning", "--dsa", "DSA-HAVEN-DEMO"]);
        if let Some(code) = code {
            c.env("HAVEN_TOTP", code);
        }
        c.output().unwrap()
    };
    assert!(login(None).status.success(), "no second factor yet: the password suffices on the host");
    let enrol = h.as_(&h.admin(), &["users", "mfa", "cara"]);
    assert!(enrol.status.success(), "{}", text(&enrol));
    let shown = String::from_utf8_lossy(&enrol.stdout).into_owned();
    assert!(shown.contains("otpauth://totp/Haven:cara?") && shown.contains('█'), "the URI and a QR code: {shown}");

    let no_code = login(None);
    assert!(!no_code.status.success() && text(&no_code).contains("one-time code is needed"), "{}", text(&no_code));
    let wrong = login(Some("000000"));
    assert!(!wrong.status.success() && !text(&wrong).contains("000000"), "{}", text(&wrong));
    let code = Mfa::open(&h.data).unwrap().code_for("cara", haven_governance::session::now()).unwrap().unwrap();
    let ok = login(Some(&code));
    assert!(ok.status.success(), "{}", text(&ok));
    let replay = login(Some(&code));
    assert!(!replay.status.success() && text(&replay).contains("already used"), "{}", text(&replay));

    let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
    let refused: i64 = db.query_row("SELECT COUNT(*) FROM audit WHERE action = 'session.login' AND outcome = 'refused' AND target = 'cara'", [], |r| r.get(0)).unwrap();
    assert_eq!(refused, 3, "no code, wrong code, replayed code");
    // Four more wrong codes after the replay make five failures in a row: the account locks,
    // refuses even the right code, and the lock-out is audited; an
    // administrator unlocks it.
    for _ in 0..4 {
        assert!(!login(Some("000000")).status.success());
    }
    let locked = login(Some(&Mfa::open(&h.data).unwrap().code_for("cara", haven_governance::session::now() + 30).unwrap().unwrap()));
    assert!(!locked.status.success() && text(&locked).contains("locked"), "{}", text(&locked));
    let lockouts: i64 = db.query_row("SELECT COUNT(*) FROM audit WHERE action = 'session.lockout' AND target = 'cara'", [], |r| r.get(0)).unwrap();
    assert_eq!(lockouts, 2, "the locking failure and the refusal while locked");
    assert!(h.as_(&h.admin(), &["users", "unlock", "cara"]).status.success());
    let next = Mfa::open(&h.data).unwrap().code_for("cara", haven_governance::session::now() + 30).unwrap().unwrap();
    let back = login(Some(&next));
    assert!(back.status.success(), "unlocked: {}", text(&back));
    let secret = shown.lines().find_map(|l| l.split("app): ").nth(1)).unwrap().trim().to_owned();
    let leaked: i64 = db.query_row("SELECT COUNT(*) FROM audit WHERE detail LIKE ?1", [format!("%{secret}%")], |r| r.get(0)).unwrap();
    assert_eq!(leaked, 0, "the secret is never audited");
}

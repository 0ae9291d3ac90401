//! `haven users` and `haven audit` as an administrator and an auditor use
//! them: every load, key and user change lands in the hash chain, and
//! tampering with the database is found and located.

use std::path::Path;
use std::process::{Command, Output};

fn haven(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haven"))
        .arg("--data-dir")
        .arg(data)
        .arg("--keys-dir")
        .arg(data.with_extension("keys"))
        .args(args)
        .env("HAVEN_USER", "ig.lead")
        .env("HAVEN_PASSWORD", "a long enough passphrase")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn loads_keys_and_user_changes_are_chained_and_tampering_is_located() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(haven(&data, &["keys", "init"]).status.success());
    let synth = tmp.path().join("synth");
    let out = Command::new(env!("CARGO_BIN_EXE_haven")).args(["synth", "--scale", "small", "--out"]).arg(&synth).output().unwrap();
    assert!(out.status.success());
    let org = synth.join("reference/org.psv");
    let ok = haven(&data, &["ingest", "--icb", "QMJ", "--dataset", "org", "--file", org.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok));
    let bad = haven(&data, &["ingest", "--dataset", "apc_episode", "--file", tmp.path().join("missing.psv").to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(haven(&data, &["users", "add", "ana", "--role", "analyst"]).status.success());
    let refused = haven(&data, &["users", "add", "dr.x", "--role", "gp"]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("bound to a practice"), "{}", text(&refused));
    assert!(haven(&data, &["users", "add", "dr.lee", "--role", "gp", "--practice", "A81001"]).status.success());
    let list = haven(&data, &["--json", "users", "list"]);
    let users: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert!(!String::from_utf8_lossy(&list.stdout).contains("argon2"), "hashes are never listed");

    let verify = haven(&data, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("6 entries"), "{}", text(&verify));
    let csv = tmp.path().join("audit.csv");
    assert!(haven(&data, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let exported = std::fs::read_to_string(&csv).unwrap();
    let actions: Vec<&str> = exported.lines().skip(1).map(|l| l.split(',').nth(6).unwrap()).collect();
    assert_eq!(actions, ["keys.init", "ingest", "ingest", "user.add", "user.add", "user.add"]);
    assert!(exported.lines().nth(3).unwrap().contains(",failed,"), "the failed load is audited");
    assert!(exported.lines().nth(5).unwrap().contains(",refused,"), "the refused user is audited");

    // Tamper directly with the database: the guards can be dropped, the chain cannot be fooled.
    let db = rusqlite::Connection::open(data.join("catalog.sqlite")).unwrap();
    db.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
    db.execute("UPDATE audit SET actor = 'someone.else' WHERE seq = 4", []).unwrap();
    let broken = haven(&data, &["audit", "verify"]);
    assert!(!broken.status.success());
    assert!(text(&broken).contains("entry 4 was edited"), "{}", text(&broken));
}

fn dsa_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dsa")
}

#[test]
fn agreements_are_listed_checked_and_an_expired_one_refuses_processing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let run = |args: &[&str]| {
        let mut all = vec!["--dsa-dir", dsa_dir().to_str().unwrap().to_owned().leak()];
        all.extend_from_slice(args);
        haven(&data, &all)
    };
    let list = run(&["--json", "dsa", "list"]);
    assert!(list.status.success(), "{}", text(&list));
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let ids: Vec<&str> = v.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    for id in ["DARS-NIC-193456-W3M0H", "DARS-NIC-615974-Y3R7Q", "DARS-NIC-617743-X0M9Z", "DSA-HAVEN-DEMO", "NIC-791919-T4Y0Y"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let show = run(&["dsa", "show", "DARS-NIC-615974-Y3R7Q"]);
    assert!(text(&show).contains("2022-11-28 to 2025-11-27"), "{}", text(&show));

    // The NCL agreement expired on 2025-11-27: checking and processing are refused.
    let check = run(&["dsa", "check", "DARS-NIC-615974-Y3R7Q"]);
    assert!(!check.status.success());
    assert!(text(&check).contains("expired on 2025-11-27"), "{}", text(&check));
    assert!(run(&["dsa", "check", "DARS-NIC-615974-Y3R7Q", "--on", "2024-06-01"]).status.success());
    let role = run(&["dsa", "check", "DSA-HAVEN-DEMO", "--purpose", "direct_care", "--role", "viewer"]);
    assert!(!role.status.success());
    assert!(text(&role).contains("viewer"), "{}", text(&role));

    let synth = tmp.path().join("synth");
    assert!(Command::new(env!("CARGO_BIN_EXE_haven")).args(["synth", "--scale", "small", "--out"]).arg(&synth).output().unwrap().status.success());
    let org = synth.join("reference/org.psv");
    let refused = run(&["ingest", "--icb", "QMJ", "--dsa", "DARS-NIC-615974-Y3R7Q", "--dataset", "org", "--file", org.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("expired"), "{}", text(&refused));
    let loads = run(&["--json", "loads"]);
    assert_eq!(String::from_utf8_lossy(&loads.stdout).trim(), "[]", "nothing was loaded");
    let ok = run(&["ingest", "--icb", "QMJ", "--dsa", "DSA-HAVEN-DEMO", "--dataset", "org", "--file", org.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok));
    // Another ICB's agreement cannot carry this ICB's local flows.
    let optout = synth.join("dscro/QMJ/optout_clean_list.psv");
    let wrong = run(&["ingest", "--dsa", "NIC-791919-T4Y0Y", "--dataset", "optout_clean_list", "--file", optout.to_str().unwrap()]);
    assert!(!wrong.status.success());

    let csv = tmp.path().join("audit.csv");
    assert!(run(&["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert!(exported.lines().any(|l| l.contains(",dsa.check,") && l.contains(",refused,")));
    assert!(exported.lines().any(|l| l.contains(",ingest,") && l.contains(",refused,") && l.contains("DARS-NIC-615974-Y3R7Q")));
    assert!(run(&["audit", "verify"]).status.success());
}

fn as_user(data: &Path, user: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haven"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("HAVEN_USER", user)
        .env("HAVEN_PASSWORD", "a long enough passphrase")
        .output()
        .unwrap()
}

#[test]
fn an_output_is_disclosure_controlled_and_exported_only_after_two_independent_approvals() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for (u, r) in [("ana", "analyst"), ("bea", "analyst"), ("ida", "auditor")] {
        assert!(as_user(&data, "admin", &["users", "add", u, "--role", r]).status.success());
    }
    let counts = tmp.path().join("counts.csv");
    // 5 and 2 are in 1-7 (primary); secondary suppression then hides 120
    // (A81001's row would otherwise give 125 - 120) and 9 (likewise for
    // A81002); each column then holds two hidden cells. Published values are
    // rounded to 5: 64 -> 65, 33 -> 35, row total 97 -> 95.
    std::fs::write(&counts, "practice,elective,emergency\nA81001,120,5\nA81002,9,2\nA81003,64,33\n").unwrap();
    let sub = as_user(&data, "ana", &["outputs", "submit", "--title", "Admissions", "--counts", counts.to_str().unwrap()]);
    assert!(sub.status.success(), "{}", text(&sub));
    let show = as_user(&data, "ana", &["outputs", "show", "OUT-00001"]);
    let body = text(&show);
    assert!(body.contains("A81001,*,*,125\nA81002,*,*,10\nA81003,65,35,95\n"), "{body}");
    for small in [",5,", ",2,", ",9,"] {
        assert!(!body.contains(small), "{small} leaked: {body}");
    }
    let dest = tmp.path().join("released.csv");
    let early = as_user(&data, "ana", &["outputs", "export", "OUT-00001", "--out", dest.to_str().unwrap()]);
    assert!(!early.status.success() && text(&early).contains("pending"));
    assert!(!as_user(&data, "ana", &["outputs", "approve", "OUT-00001"]).status.success(), "authors cannot approve");
    assert!(as_user(&data, "bea", &["outputs", "approve", "OUT-00001"]).status.success());
    assert!(as_user(&data, "ida", &["outputs", "approve", "OUT-00001"]).status.success());
    let ok = as_user(&data, "ana", &["outputs", "export", "OUT-00001", "--out", dest.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(std::fs::read_to_string(&dest).unwrap().contains("A81001,*,*,125"));
    let csv = tmp.path().join("audit.csv");
    assert!(as_user(&data, "ida", &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let log = std::fs::read_to_string(&csv).unwrap();
    for action in ["output.submit", "output.approve", "output.export"] {
        assert!(log.contains(action), "{action}");
    }
    assert!(log.lines().any(|l| l.contains("output.export") && l.contains(",refused,")));
    assert!(log.lines().any(|l| l.contains("output.approve") && l.contains(",refused,")));
}

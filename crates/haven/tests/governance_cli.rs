//! Governance as an administrator, DSCRO, analyst and auditor meet it
//! through the CLI: every load, sign-in, key and user change lands in the
//! hash chain, tampering is found and located, expired agreements refuse
//! processing, and outputs leave only after two independent approvals.

use std::collections::BTreeSet;
use std::process::Command;

mod common;
use common::{text, Haven};

#[test]
fn loads_keys_and_user_changes_are_chained_and_tampering_is_located() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let dscro = h.signed("dscro");
    assert!(h.as_(&dscro, &["keys", "init"]).status.success());
    let synth = tmp.path().join("synth");
    let out = Command::new(env!("CARGO_BIN_EXE_haven")).args(["synth", "--scale", "small", "--out"]).arg(&synth).output().unwrap();
    assert!(out.status.success());
    let org = synth.join("reference/org.psv");
    let ok = h.as_(&dscro, &["ingest", "--icb", "QMJ", "--dataset", "org", "--file", org.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok));
    let bad = h.as_(&dscro, &["ingest", "--dataset", "apc_episode", "--file", tmp.path().join("missing.psv").to_str().unwrap()]);
    assert!(!bad.status.success());
    let admin = h.admin();
    assert!(h.as_(&admin, &["users", "add", "ana", "--role", "analyst"]).status.success());
    let refused = h.as_(&admin, &["users", "add", "dr.x", "--role", "gp"]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("bound to a practice"), "{}", text(&refused));
    assert!(h.as_(&admin, &["users", "add", "dr.lee", "--role", "gp", "--practice", "A81001"]).status.success());
    let list = h.as_(&admin, &["--json", "users", "list"]);
    let users: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    // admin, dscro.user, ana, dr.lee
    assert_eq!(users.as_array().unwrap().len(), 4);
    assert!(!String::from_utf8_lossy(&list.stdout).contains("argon2"), "hashes are never listed");
    // A DSCRO may not manage users: refused (exit 3) and audited.
    let not_admin = h.as_(&dscro, &["users", "add", "eve", "--role", "admin"]);
    assert_eq!(not_admin.status.code(), Some(3), "{}", text(&not_admin));

    let auditor = h.signed("auditor");
    let verify = h.as_(&auditor, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    let csv = tmp.path().join("audit.csv");
    assert!(h.as_(&auditor, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let exported = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = exported.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let actions: Vec<&str> = rows.iter().map(|r| r[6]).collect();
    assert_eq!(
        actions,
        [
            "user.add", "session.login", "user.add", "session.login", // bootstrap admin; dscro.user
            "keys.init", "ingest", "ingest", // one load ok, one failed
            "user.add", "user.add", "user.add", "refusal", // ana, dr.x refused, dr.lee; dscro refused
            "user.add", "session.login", // auditor.user
        ]
    );
    assert!(text(&verify).contains(&format!("{} entries", actions.len())), "{}", text(&verify));
    assert_eq!(rows[6][8], "failed", "the failed load is audited");
    assert_eq!(rows[8][8], "refused", "the refused user is audited");
    assert_eq!((rows[10][2], rows[10][3], rows[10][8]), ("dscro.user", "dscro", "refused"), "who was refused, as what");
    assert_eq!(rows[5][2], "dscro.user", "the load is attributed to the signed-in user");

    // Tamper directly with the database: the guards can be dropped, the chain cannot be fooled.
    let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
    db.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
    db.execute("UPDATE audit SET actor = 'someone.else' WHERE seq = 4", []).unwrap();
    let broken = h.as_(&auditor, &["audit", "verify"]);
    assert!(!broken.status.success());
    assert!(text(&broken).contains("entry 4 was edited"), "{}", text(&broken));
}

#[test]
fn agreements_are_listed_checked_and_an_expired_one_refuses_processing() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let list = h.run(&["--json", "dsa", "list"]);
    assert!(list.status.success(), "{}", text(&list));
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let ids: Vec<&str> = v.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    for id in ["DARS-NIC-193456-W3M0H", "DARS-NIC-615974-Y3R7Q", "DARS-NIC-617743-X0M9Z", "DSA-HAVEN-DEMO", "NIC-791919-T4Y0Y"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let show = h.run(&["dsa", "show", "DARS-NIC-615974-Y3R7Q"]);
    assert!(text(&show).contains("2022-11-28 to 2025-11-27"), "{}", text(&show));

    // The NCL agreement expired on 2025-11-27: checking, signing in and processing are refused.
    let check = h.run(&["dsa", "check", "DARS-NIC-615974-Y3R7Q"]);
    assert!(!check.status.success());
    assert!(text(&check).contains("expired on 2025-11-27"), "{}", text(&check));
    assert!(h.run(&["dsa", "check", "DARS-NIC-615974-Y3R7Q", "--on", "2024-06-01"]).status.success());
    let role = h.run(&["dsa", "check", "DSA-HAVEN-DEMO", "--purpose", "direct_care", "--role", "viewer"]);
    assert!(!role.status.success());
    assert!(text(&role).contains("viewer"), "{}", text(&role));

    let dscro = h.signed("dscro");
    let expired = h.run(&["login", "dscro.user", "--dsa", "DARS-NIC-615974-Y3R7Q"]);
    assert!(!expired.status.success());
    assert!(text(&expired).contains("expired"), "{}", text(&expired));
    let synth = tmp.path().join("synth");
    assert!(Command::new(env!("CARGO_BIN_EXE_haven")).args(["synth", "--scale", "small", "--out"]).arg(&synth).output().unwrap().status.success());
    let org = synth.join("reference/org.psv");
    let other = h.as_(&dscro, &["ingest", "--icb", "QMJ", "--dsa", "DARS-NIC-615974-Y3R7Q", "--dataset", "org", "--file", org.to_str().unwrap()]);
    assert!(!other.status.success());
    assert!(text(&other).contains("differs from the agreement the session runs under"), "{}", text(&other));
    let loads = h.as_(&dscro, &["--json", "loads"]);
    assert_eq!(String::from_utf8_lossy(&loads.stdout).trim(), "[]", "nothing was loaded");
    let ok = h.as_(&dscro, &["ingest", "--icb", "QMJ", "--dataset", "org", "--file", org.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok));
    // Another ICB's agreement cannot carry this ICB's local flows.
    let swl = h.login("dscro.user", None, Some("NIC-791919-T4Y0Y"));
    let optout = synth.join("dscro/QMJ/optout_clean_list.psv");
    let wrong = h.as_(&swl, &["ingest", "--dataset", "optout_clean_list", "--file", optout.to_str().unwrap()]);
    assert!(!wrong.status.success(), "{}", text(&wrong));

    let auditor = h.signed("auditor");
    let csv = tmp.path().join("audit.csv");
    assert!(h.as_(&auditor, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert!(exported.lines().any(|l| l.contains(",dsa.check,") && l.contains(",refused,")));
    assert!(exported.lines().any(|l| l.contains(",session.login,") && l.contains(",refused,") && l.contains("DARS-NIC-615974-Y3R7Q")));
    assert!(h.as_(&auditor, &["audit", "verify"]).status.success());
}

#[test]
fn an_output_is_disclosure_controlled_and_exported_only_after_two_independent_approvals() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    for (u, r) in [("ana", "analyst"), ("bea", "analyst"), ("ida", "auditor")] {
        h.add_user(u, r, None);
    }
    let ana = h.login("ana", Some("commissioning"), Some("DSA-HAVEN-DEMO"));
    let bea = h.login("bea", None, None);
    let ida = h.login("ida", None, None);
    let counts = tmp.path().join("counts.csv");
    // 5 and 2 are in 1-7 (primary); secondary suppression then hides 120
    // (A81001's row would otherwise give 125 - 120) and 9 (likewise for
    // A81002); each column then holds two hidden cells. Published values are
    // rounded to 5: 64 -> 65, 33 -> 35, row total 97 -> 95.
    std::fs::write(&counts, "practice,elective,emergency\nA81001,120,5\nA81002,9,2\nA81003,64,33\n").unwrap();
    // Submitting needs a purpose: bea signed in without one.
    let no_purpose = h.as_(&bea, &["outputs", "submit", "--title", "Admissions", "--counts", counts.to_str().unwrap()]);
    assert_eq!(no_purpose.status.code(), Some(3), "{}", text(&no_purpose));
    let sub = h.as_(&ana, &["outputs", "submit", "--title", "Admissions", "--counts", counts.to_str().unwrap()]);
    assert!(sub.status.success(), "{}", text(&sub));
    let show = h.as_(&ana, &["outputs", "show", "OUT-00001"]);
    let body = text(&show);
    assert!(body.contains("by ana under DSA-HAVEN-DEMO for commissioning"), "{body}");
    assert!(body.contains("A81001,*,*,125\nA81002,*,*,10\nA81003,65,35,95\n"), "{body}");
    for small in [",5,", ",2,", ",9,"] {
        assert!(!body.contains(small), "{small} leaked: {body}");
    }
    let dest = tmp.path().join("released");
    let early = h.as_(&ana, &["outputs", "export", "OUT-00001", "--out", dest.to_str().unwrap()]);
    assert!(!early.status.success() && text(&early).contains("pending"));
    assert!(!h.as_(&ana, &["outputs", "approve", "OUT-00001"]).status.success(), "authors cannot approve");
    assert!(h.as_(&bea, &["outputs", "approve", "OUT-00001"]).status.success());
    assert!(h.as_(&ida, &["outputs", "approve", "OUT-00001"]).status.success());
    let ok = h.as_(&ana, &["outputs", "export", "OUT-00001", "--out", dest.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(std::fs::read_to_string(dest.join("table.csv")).unwrap().contains("A81001,*,*,125"));
    let csv = tmp.path().join("audit.csv");
    assert!(h.as_(&ida, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let log = std::fs::read_to_string(&csv).unwrap();
    for action in ["output.submit", "output.approve", "output.export"] {
        assert!(log.contains(action), "{action}");
    }
    assert!(log.lines().any(|l| l.contains("output.export") && l.contains(",refused,")));
    assert!(log.lines().any(|l| l.contains("output.approve") && l.contains(",refused,")));
}

/// Rows of `apc_episode` in every zone whose EPIEND is before `cutoff`,
/// and on or after it (undated rows count as after).
fn episodes_by_cutoff(data: &std::path::Path, cutoff: haven_model::Date) -> (u64, u64) {
    use arrow::array::{Array, Date32Array};
    let store = haven_store::Store::open(data).unwrap();
    let (mut before, mut after) = (0, 0);
    for zone in haven_store::Zone::ALL {
        store
            .scan(zone, "apc_episode", &["EPIEND"], |b| {
                let d = b.column(0).as_any().downcast_ref::<Date32Array>().unwrap();
                for v in d.iter() {
                    match v {
                        Some(v) if v < cutoff.days() => before += 1,
                        _ => after += 1,
                    }
                }
                Ok(())
            })
            .unwrap();
    }
    (before, after)
}

#[test]
fn retention_destroys_rows_outside_the_window_and_certifies_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = Haven::new(tmp.path());
    // An agreement like the demo's but keeping one year plus the current one.
    let dsa_dir = tmp.path().join("dsa");
    std::fs::create_dir_all(&dsa_dir).unwrap();
    let demo = std::fs::read_to_string(common::dsa_dir().join("DSA-HAVEN-DEMO.toml")).unwrap();
    let short = demo.replace("\"DSA-HAVEN-DEMO\"", "\"DSA-TEST-SHORT\"").replace("retention_years = 10", "retention_years = 1");
    std::fs::write(dsa_dir.join("DSA-TEST-SHORT.toml"), short).unwrap();
    h.dsa_dir = dsa_dir;
    h.add_user("dee", "dscro", None);
    let dee = h.login("dee", None, Some("DSA-TEST-SHORT"));
    assert!(h.as_(&dee, &["keys", "init"]).status.success());
    let synth = tmp.path().join("synth");
    assert!(Command::new(env!("CARGO_BIN_EXE_haven")).args(["synth", "--scale", "small", "--out"]).arg(&synth).output().unwrap().status.success());
    for (dataset, file) in [
        ("org", "reference/org.psv"),
        ("lsoa_lookup", "reference/lsoa_lookup.psv"),
        ("postcode_lookup", "reference/postcode_lookup.psv"),
        ("optout_clean_list", "dscro/QMJ/optout_clean_list.psv"),
        ("apc_episode", "dscro/QMJ/apc_episode.psv"),
    ] {
        let out = h.as_(&dee, &["ingest", "--icb", "QMJ", "--dataset", dataset, "--file", synth.join(file).to_str().unwrap()]);
        assert!(out.status.success(), "{dataset}: {}", text(&out));
    }
    // On 2026-11-23 (2026-27) one whole year back starts 2025-04-01; the
    // synthetic data covers 2024-25 and 2025-26, so 2024-25 goes.
    let cutoff = haven_model::Date::from_ymd(2025, 4, 1).unwrap();
    let (old, kept) = episodes_by_cutoff(&h.data, cutoff);
    assert!(old > 0 && kept > 0, "{old} {kept}");

    let dry = h.as_(&dee, &["--json", "retention", "apply", "--dsa", "DSA-TEST-SHORT", "--on", "2026-11-23", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    let plan: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(plan["rows_destroyed"].as_u64().unwrap(), old, "the plan counts exactly the rows dated before the window");
    assert_eq!(plan["window"]["keep_from"], "2025-04-01");
    assert_eq!(episodes_by_cutoff(&h.data, cutoff), (old, kept), "a dry run changes nothing");

    let run = h.as_(&dee, &["--json", "retention", "apply", "--dsa", "DSA-TEST-SHORT", "--on", "2026-11-23"]);
    assert!(run.status.success(), "{}", text(&run));
    let cert: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(cert["rows_destroyed"].as_u64().unwrap(), old);
    assert_eq!(episodes_by_cutoff(&h.data, cutoff), (0, kept), "expired rows gone, the rest untouched");
    let years: BTreeSet<&str> = cert["files"].as_array().unwrap().iter().flat_map(|f| f["years"].as_array().unwrap()).map(|y| y.as_str().unwrap()).collect();
    assert_eq!(years, BTreeSet::from(["2024-25"]));
    // The certificate is on disk, and the audit chain holds its hash.
    let id = cert["id"].as_str().unwrap();
    let saved = std::fs::read(h.data.join("certificates").join(format!("{id}.json"))).unwrap();
    let auditor = h.signed("auditor");
    let listed = h.as_(&auditor, &["retention", "certificates"]);
    assert!(text(&listed).contains(id), "{}", text(&listed));
    let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
    let detail: String = db.query_row("SELECT detail FROM audit WHERE action = 'retention.apply'", [], |r| r.get(0)).unwrap();
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["sha256"].as_str().unwrap(), haven_store::hex(&sha256(&saved)));
    assert!(h.as_(&auditor, &["audit", "verify"]).status.success());
    // An analyst may not destroy data.
    let ana = h.signed("analyst");
    assert_eq!(h.as_(&ana, &["retention", "apply", "--dsa", "DSA-TEST-SHORT"]).status.code(), Some(3));
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

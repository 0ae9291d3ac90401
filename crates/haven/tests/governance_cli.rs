//! Governance as an administrator, DSCRO, analyst and auditor meet it
//! through the CLI: every load, sign-in, key and user change lands in the
//! hash chain, tampering is found and located, expired agreements refuse
//! processing, and outputs leave only after two independent approvals.

use std::collections::BTreeSet;
use std::process::Command;

mod common;
use common::{agreement, day, text, Haven, YEARS_3};

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
            "user.add", "session.login", // bootstrap admin
            "dsa.import", "dsa.import", "dsa.import", "dsa.import", "dsa.import", // the harness's agreements
            "user.add", "session.login", // dscro.user
            "keys.init", "ingest", "ingest", // one load ok, one failed
            "user.add", "user.add", "user.add", "refusal", // ana, dr.x refused, dr.lee; dscro refused
            "user.add", "session.login", // auditor.user
        ]
    );
    assert!(text(&verify).contains(&format!("{} entries", actions.len())), "{}", text(&verify));
    assert_eq!(rows[11][8], "failed", "the failed load is audited");
    assert_eq!(rows[13][8], "refused", "the refused user is audited");
    assert_eq!((rows[15][2], rows[15][3], rows[15][8]), ("dscro.user", "dscro", "refused"), "who was refused, as what");
    assert_eq!(rows[10][2], "dscro.user", "the load is attributed to the signed-in user");

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
    // A fresh data directory obeys no agreement until one is imported.
    let list = h.run(&["--json", "dsa", "list"]);
    assert!(list.status.success(), "{}", text(&list));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&list.stdout).unwrap(), serde_json::json!([]));
    h.admin();
    let list = h.run(&["--json", "dsa", "list"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let ids: Vec<&str> = v.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["DARS-NIC-193456-W3M0H", "DARS-NIC-615974-Y3R7Q", "DARS-NIC-617743-X0M9Z", "DSA-HAVEN-DEMO", "NIC-791919-T4Y0Y"]);
    // The harness imported the NCL agreement as ended a year ago.
    let (start, end) = (day(-4 * 365), day(-365));
    let show = h.run(&["dsa", "show", "DARS-NIC-615974-Y3R7Q"]);
    assert!(text(&show).contains(&format!("{start} to {end} (expired)")), "{}", text(&show));

    // Expired: checking, signing in and processing are refused.
    let check = h.run(&["dsa", "check", "DARS-NIC-615974-Y3R7Q"]);
    assert!(!check.status.success());
    assert!(text(&check).contains(&format!("expired on {end}")), "{}", text(&check));
    let within = day(-2 * 365).to_string();
    assert!(h.run(&["dsa", "check", "DARS-NIC-615974-Y3R7Q", "--on", &within]).status.success());
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
    let h = Haven::new(tmp.path());
    // An agreement like the demo's, in force from three years ago to three
    // years ahead, keeping whole years back to 2025-26 plus the current one
    // (a destruction runs as of today only, issue 14 item 14, so the window
    // is made relative to today rather than today to a fixed window).
    let keep = common::today().financial_year() - 2025;
    let short = agreement("DSA-HAVEN-DEMO", -YEARS_3, YEARS_3)
        .replace("\"DSA-HAVEN-DEMO\"", "\"DSA-TEST-SHORT\"")
        .replace("retention_years = 10", &format!("retention_years = {keep}"));
    let imported = h.import(&h.admin(), "DSA-TEST-SHORT", &short);
    assert!(imported.status.success(), "{}", text(&imported));
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
    // The window starts 2025-04-01; the synthetic data covers 2024-25 and
    // 2025-26, so 2024-25 goes.
    let cutoff = haven_model::Date::from_ymd(2025, 4, 1).unwrap();
    let (old, kept) = episodes_by_cutoff(&h.data, cutoff);
    assert!(old > 0 && kept > 0, "{old} {kept}");

    let dry = h.as_(&dee, &["--json", "retention", "apply", "--dsa", "DSA-TEST-SHORT", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    let plan: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(plan["rows_destroyed"].as_u64().unwrap(), old, "the plan counts exactly the rows dated before the window");
    assert_eq!(plan["window"]["keep_from"], "2025-04-01");
    assert_eq!(episodes_by_cutoff(&h.data, cutoff), (old, kept), "a dry run changes nothing");

    let run = h.as_(&dee, &["--json", "retention", "apply", "--dsa", "DSA-TEST-SHORT"]);
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
    let detail: String = db.query_row("SELECT detail FROM audit WHERE action = 'retention.apply' AND outcome = 'ok'", [], |r| r.get(0)).unwrap();
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

const NCL: &str = "DARS-NIC-615974-Y3R7Q";

/// The NCL agreement (expired a year ago in the harness) with a later end
/// date, as someone would copy and edit its file to revive it.
fn revived_ncl() -> String {
    agreement(NCL, -4 * 365, YEARS_3)
}

// Issue 14 item 5: agreements were read from whatever folder `--dsa-dir`
// (or HAVEN_DSA_DIR, or ./dsa) named, so a copied file revived an expired one.
#[test]
fn issue_14_an_agreement_file_named_on_the_command_line_revives_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    h.add_user("dee", "dscro", None);
    let folder = tmp.path().join("dsa");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("{NCL}.toml")), revived_ncl()).unwrap();
    // The flag is gone ...
    let flag = h.cmd(&["--dsa-dir", folder.to_str().unwrap(), "login", "dee", "--dsa", NCL]).output().unwrap();
    assert!(!flag.status.success());
    assert!(text(&flag).contains("--dsa-dir"), "{}", text(&flag));
    // ... and neither its variable nor a ./dsa folder beside the caller is read.
    let env = h.cmd(&["login", "dee", "--dsa", NCL]).env("HAVEN_DSA_DIR", &folder).current_dir(tmp.path()).output().unwrap();
    assert!(!env.status.success());
    assert!(text(&env).contains(&format!("expired on {}", day(-365))), "{}", text(&env));
    // A file for an agreement never imported gives nothing to sign in under.
    std::fs::write(folder.join("DSA-HAVEN-NEW.toml"), revived_ncl().replace(NCL, "DSA-HAVEN-NEW")).unwrap();
    let new = h.cmd(&["login", "dee", "--dsa", "DSA-HAVEN-NEW"]).env("HAVEN_DSA_DIR", &folder).current_dir(tmp.path()).output().unwrap();
    assert!(!new.status.success());
    assert!(text(&new).contains("no Data Sharing Agreement DSA-HAVEN-NEW has been imported"), "{}", text(&new));
}

// Issue 14 item 5: only an administrator changes an agreement, as a new
// version with its hash in the audit chain; refusals are audited too.
#[test]
fn issue_14_only_an_administrator_imports_an_agreement_and_every_attempt_is_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let dscro = h.signed("dscro");
    let text_revived = revived_ncl();
    let sha = haven_store::hex(&sha256(text_revived.as_bytes()));
    let refused = h.import(&dscro, NCL, &text_revived);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    assert!(!h.run(&["login", "dscro.user", "--dsa", NCL]).status.success(), "still expired");

    let admin = h.admin();
    let ok = h.import(&admin, NCL, &text_revived);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains(&format!("imported {NCL} version 2 (sha256 {sha})")), "{}", text(&ok));
    let again = h.import(&admin, NCL, &text_revived);
    assert!(again.status.success());
    assert!(text(&again).contains("nothing changed"), "{}", text(&again));
    let show = h.run(&["dsa", "show", NCL]);
    let shown = text(&show);
    assert!(shown.contains("v1 ") && shown.contains("v2 ") && !shown.contains("v3 "), "{shown}");
    assert!(shown.contains(&format!("end {} -> {}", day(-365), day(YEARS_3))), "{shown}");
    assert!(shown.contains(&sha) && shown.contains("by admin"), "{shown}");
    // An administrator's audited import is the way to extend an agreement.
    h.login("dscro.user", None, Some(NCL));

    let auditor = h.signed("auditor");
    let csv = tmp.path().join("audit.csv");
    assert!(h.as_(&auditor, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let log = std::fs::read_to_string(&csv).unwrap();
    let with_hash: Vec<&str> = log.lines().filter(|l| l.contains(&sha)).collect();
    assert_eq!(with_hash.len(), 3, "{with_hash:?}");
    assert!(with_hash[0].contains(",refusal,dsa import,refused,") && with_hash[0].contains(",dscro.user,"), "{}", with_hash[0]);
    assert!(with_hash[1].contains(&format!(",dsa.import,{NCL},ok,")), "{}", with_hash[1]);
    assert!(with_hash[2].contains(&format!(",dsa.import,{NCL},unchanged,")), "{}", with_hash[2]);
    assert!(h.as_(&auditor, &["audit", "verify"]).status.success());
}

// Issue 14 item 5: an agreement changed in the catalog database outside
// Haven no longer matches its hash and is refused everywhere it is read.
#[test]
fn issue_14_an_agreement_edited_in_the_catalog_is_refused_by_its_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let dscro = h.signed("dscro");
    let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
    assert!(db.execute("UPDATE dsa_versions SET toml = ''", []).is_err(), "versions are append-only");
    db.execute_batch("DROP TRIGGER dsa_versions_no_update;").unwrap();
    let ncl_end = format!("end = \"{}\"", day(-365));
    let later = format!("end = \"{}\"", day(YEARS_3));
    let n = db.execute("UPDATE dsa_versions SET toml = replace(toml, ?1, ?2) WHERE id = ?3", rusqlite::params![ncl_end, later, NCL]).unwrap();
    assert_eq!(n, 1);
    let login = h.run(&["login", "dscro.user", "--dsa", NCL]);
    assert!(!login.status.success());
    assert!(text(&login).contains(&format!("DSA {NCL} version 1 was changed outside Haven")), "{}", text(&login));
    // Opt-outs switched off in the demo agreement: the session under it is
    // refused before the command runs. (Opening the registry made the
    // trigger again, so the attacker drops it again.)
    db.execute_batch("DROP TRIGGER IF EXISTS dsa_versions_no_update;").unwrap();
    db.execute("UPDATE dsa_versions SET toml = replace(toml, 'optout_applies = true', 'optout_applies = false') WHERE id = 'DSA-HAVEN-DEMO'", []).unwrap();
    let org = tmp.path().join("missing.psv");
    let ingest = h.as_(&dscro, &["ingest", "--icb", "QMJ", "--dataset", "org", "--file", org.to_str().unwrap()]);
    assert_eq!(ingest.status.code(), Some(3), "{}", text(&ingest));
    assert!(text(&ingest).contains("DSA DSA-HAVEN-DEMO version 1 was changed outside Haven"), "{}", text(&ingest));
    assert!(!h.run(&["dsa", "list"]).status.success());
}

// Issue 14 item 5: an attacker with write access to the database rewrites an
// expired agreement's end date *and* the SHA-256 stored beside it, so the
// registry's own check passes. The import's audit entry is MAC'd under the
// audit key, which the attacker lacks, so the rewritten version is refused.
#[test]
fn issue_14_an_agreement_rewritten_with_its_hash_has_no_audited_import() {
    use sha2::Digest;
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    h.add_user("dee", "dscro", None);
    let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
    db.execute_batch("DROP TRIGGER IF EXISTS dsa_versions_no_update;").unwrap();
    let toml: String = db.query_row("SELECT toml FROM dsa_versions WHERE id = ?1", [NCL], |r| r.get(0)).unwrap();
    let revived = toml.replace(&format!("end = \"{}\"", day(-365)), &format!("end = \"{}\"", day(YEARS_3)));
    assert_ne!(revived, toml);
    let sha = haven_store::hex(&sha2::Sha256::digest(revived.as_bytes()));
    let n = db.execute("UPDATE dsa_versions SET toml = ?1, sha256 = ?2 WHERE id = ?3", rusqlite::params![revived, sha, NCL]).unwrap();
    assert_eq!(n, 1);
    let login = h.run(&["login", "dee", "--dsa", NCL]);
    assert!(!login.status.success(), "{}", text(&login));
    assert!(text(&login).contains("has no audited import of its text"), "{}", text(&login));
    // The same agreement imported honestly (by the administrator) is obeyed.
    let honest = h.import(&h.admin(), NCL, &agreement(NCL, -YEARS_3, YEARS_3));
    assert!(honest.status.success(), "{}", text(&honest));
    assert!(h.run(&["login", "dee", "--dsa", NCL]).status.success());
}

// Issue 14 item 2: someone with write access to the data directory swaps a
// released output's file and rewrites its manifest row and the output's
// SHA-256 to match, so the held folder agrees with the catalog. The
// submission's manifest is in the keyed audit chain, so export refuses.
#[test]
fn issue_14_a_released_output_rewritten_with_its_manifest_is_not_exported() {
    use sha2::Digest;
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    for (u, r) in [("ana", "analyst"), ("bea", "analyst"), ("ida", "auditor")] {
        h.add_user(u, r, None);
    }
    let ana = h.login("ana", Some("commissioning"), Some("DSA-HAVEN-DEMO"));
    let counts = tmp.path().join("counts.csv");
    std::fs::write(&counts, "practice,elective\nA81001,120\nA81003,64\n").unwrap();
    assert!(h.as_(&ana, &["outputs", "submit", "--title", "T", "--counts", counts.to_str().unwrap()]).status.success());
    for who in ["bea", "ida"] {
        let t = h.login(who, None, None);
        assert!(h.as_(&t, &["outputs", "approve", "OUT-00001"]).status.success());
    }
    let swapped = b"practice,elective,Total\nA81001,121,121\n".to_vec();
    let sha = |b: &[u8]| haven_store::hex(&sha2::Sha256::digest(b));
    std::fs::write(h.data.join("outputs/OUT-00001/table.csv"), &swapped).unwrap();
    let manifest = format!("{}  table.csv\n", sha(&swapped));
    let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
    db.execute("UPDATE output_files SET sha256 = ?1, bytes = ?2 WHERE output_id = 'OUT-00001'", rusqlite::params![sha(&swapped), swapped.len() as i64]).unwrap();
    db.execute("UPDATE outputs SET sha256 = ?1 WHERE id = 'OUT-00001'", [sha(manifest.as_bytes())]).unwrap();
    let dest = tmp.path().join("out");
    let export = h.as_(&ana, &["outputs", "export", "OUT-00001", "--out", dest.to_str().unwrap()]);
    assert!(!export.status.success(), "{}", text(&export));
    assert!(text(&export).contains("no audited submission of its manifest"), "{}", text(&export));
    assert!(!dest.exists(), "nothing left Haven");
}

// Issue 14 item 2: someone with write access to the catalog adds the second
// approval and marks the output released. Release needs the approvals in
// the keyed audit chain, so export refuses.
#[test]
fn issue_14_approvals_written_into_the_catalog_release_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    for (u, r) in [("ana", "analyst"), ("bea", "analyst")] {
        h.add_user(u, r, None);
    }
    let ana = h.login("ana", Some("commissioning"), Some("DSA-HAVEN-DEMO"));
    let counts = tmp.path().join("counts.csv");
    std::fs::write(&counts, "practice,elective\nA81001,120\nA81003,64\n").unwrap();
    assert!(h.as_(&ana, &["outputs", "submit", "--title", "T", "--counts", counts.to_str().unwrap()]).status.success());
    let bea = h.login("bea", None, None);
    assert!(h.as_(&bea, &["outputs", "approve", "OUT-00001"]).status.success());
    let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
    db.execute("INSERT INTO output_reviews (output_id, reviewer, decision, reason, at) VALUES ('OUT-00001', 'mallory', 'approve', '', 'now')", []).unwrap();
    db.execute("UPDATE outputs SET status = 'released' WHERE id = 'OUT-00001'", []).unwrap();
    let dest = tmp.path().join("out");
    let export = h.as_(&ana, &["outputs", "export", "OUT-00001", "--out", dest.to_str().unwrap()]);
    assert!(!export.status.success(), "{}", text(&export));
    assert!(text(&export).contains("holds 1 approval(s)"), "{}", text(&export));
    assert!(!dest.exists(), "nothing left Haven");
}

//! The audit chain and retention attacked as someone with write access to
//! the data directory (but not the keys folder) would (issue 14 items 13
//! and 14): every attack is made on the real SQLite file, through the real
//! binary.

mod common;

use std::path::Path;

use common::{text, today, Haven};
use rusqlite::{params, Connection};

/// The database with the append-only guards dropped, as an attacker would.
fn tamper(h: &Haven) -> Connection {
    let db = Connection::open(h.data.join("catalog.sqlite")).unwrap();
    db.execute_batch("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;").unwrap();
    db
}

/// Copies the data directory's top-level files (catalog and head) to `to`,
/// or back.
fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Removes the data directory's top-level files (before a restore).
fn clear_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
}

fn verify(h: &Haven, auditor: &str, checkpoint: Option<&str>) -> (bool, String) {
    let mut args = vec!["audit", "verify"];
    if let Some(c) = checkpoint {
        args.extend(["--checkpoint", c]);
    }
    let out = h.as_(auditor, &args);
    (out.status.success(), text(&out))
}

/// The chain as Haven computed it before it was keyed (plain SHA-256 over
/// length-prefixed fields): what an attacker without the key can recompute.
fn plain_sha256(fields: &[String]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for f in fields {
        h.update((f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    haven_store::hex(&h.finalize())
}

// Issue 14 item 13: the chain is keyed, so editing an entry and recomputing
// the chain (as plain SHA-256, all that is possible without the key) is
// found; the key is kept in the keys folder, owner-only.
#[test]
fn issue_14_an_edit_with_a_recomputed_chain_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    h.add_user("ann", "analyst", None);
    h.add_user("bob", "analyst", None);
    let auditor = h.signed("auditor");
    assert!(verify(&h, &auditor, None).0);
    use std::os::unix::fs::PermissionsExt;
    let key = h.keys.join("audit.key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600, "the audit key is owner-only");
    assert!(!h.data.join("audit.key").exists());

    let db = tamper(&h);
    db.execute("UPDATE audit SET target = 'mallory' WHERE action = 'user.add' AND target = 'bob'", []).unwrap();
    let seqs: Vec<i64> = db.prepare("SELECT seq FROM audit ORDER BY seq").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let mut prev = "0".repeat(64);
    for seq in seqs {
        let mut fields: Vec<String> = db
            .query_row("SELECT seq, at, actor, role, purpose, dsa, action, target, outcome, detail FROM audit WHERE seq = ?1", [seq], |r| {
                Ok((0..10).map(|i| if i == 0 { r.get::<_, i64>(0).map(|v| v.to_string()) } else { r.get::<_, String>(i) }).collect::<Result<Vec<_>, _>>())
            })
            .unwrap()
            .unwrap();
        fields.push(prev.clone());
        let hash = plain_sha256(&fields);
        db.execute("UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE seq = ?3", params![prev, hash, seq]).unwrap();
        prev = hash;
    }
    let (ok, out) = verify(&h, &auditor, None);
    assert!(!ok && out.contains("entry 1 was edited"), "{out}");
}

// Issue 14 item 13: a checkpoint kept by the auditor finds a log cut back
// (with its head file from then), emptied or dropped; without one, an
// emptied or dropped log on a store with users is still refused.
#[test]
fn issue_14_a_checkpoint_finds_a_truncated_emptied_or_dropped_log() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let auditor = h.signed("auditor");
    let old = tmp.path().join("old");
    copy_files(&h.data, &old);
    h.add_user("ann", "analyst", None);
    h.add_user("bob", "analyst", None);

    let out = h.as_(&auditor, &["audit", "checkpoint"]);
    assert!(out.status.success(), "{}", text(&out));
    let checkpoint = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(checkpoint.starts_with("haven-audit-1:"), "{checkpoint}");
    let (ok, out) = verify(&h, &auditor, Some(&checkpoint));
    assert!(ok, "{out}");
    // A viewer may not take checkpoints.
    let viewer = h.signed("viewer");
    assert_eq!(h.as_(&viewer, &["audit", "checkpoint"]).status.code(), Some(3));
    let (ok, _) = verify(&h, &auditor, Some(&checkpoint));
    assert!(ok, "later entries do not disturb the checkpoint");
    let snapshot = tmp.path().join("snapshot");
    copy_files(&h.data, &snapshot);
    let restore = || {
        clear_files(&h.data);
        copy_files(&snapshot, &h.data);
    };

    // Truncate: remove every entry since the old copy, and put its head back.
    let kept: i64 = Connection::open(old.join("catalog.sqlite")).unwrap().query_row("SELECT max(seq) FROM audit", [], |r| r.get(0)).unwrap();
    tamper(&h).execute("DELETE FROM audit WHERE seq > ?1", [kept]).unwrap();
    std::fs::copy(old.join("audit.head"), h.data.join("audit.head")).unwrap();
    let (ok, out) = verify(&h, &auditor, Some(&checkpoint));
    assert!(!ok && out.contains("entries were removed from the end"), "{out}");

    // Empty the table, or drop it: refused with and without the checkpoint,
    // and with the head file removed as well.
    for (attack, how) in [("DELETE FROM audit", "emptied"), ("DROP TABLE audit", "dropped")] {
        restore();
        tamper(&h).execute_batch(attack).unwrap();
        let (ok, out) = verify(&h, &auditor, Some(&checkpoint));
        assert!(!ok && out.contains("the checkpoint records") && out.contains(how), "{attack}: {out}");
        let (ok, out) = verify(&h, &auditor, None);
        assert!(!ok && out.contains(how), "{attack}: {out}");
        // Nothing starts a fresh chain over it: a sign-in is not recorded, so it fails.
        let out = h.run(&["login", "ann"]);
        assert!(!out.status.success() && text(&out).contains("emptied or dropped"), "{attack}: {}", text(&out));
        std::fs::remove_file(h.data.join("audit.head")).unwrap();
        let (ok, out) = verify(&h, &auditor, None);
        assert!(!ok && out.contains("the store has users"), "{attack}: {out}");
    }

    // A checkpoint altered to claim fewer entries is not one Haven made.
    restore();
    let mut parts: Vec<String> = checkpoint.split(':').map(str::to_owned).collect();
    parts[1] = kept.to_string();
    let (ok, out) = verify(&h, &auditor, Some(&parts.join(":")));
    assert!(!ok && out.contains("not made with this log's audit key"), "{out}");
    assert!(verify(&h, &auditor, Some(&checkpoint)).0, "the restored log holds the checkpoint");
}

/// Signs in a DSCRO under `dsa` and loads the reference tables, the opt-out
/// list and the APC episodes of the small synthetic ICB.
fn load_apc(h: &Haven, dsa: &str) {
    h.add_user("dee", "dscro", None);
    let dee = h.login("dee", None, Some(dsa));
    assert!(h.as_(&dee, &["keys", "init"]).status.success());
    let synth = common::small_synth();
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
}

/// (action, target, outcome, actor, purpose) of every audit entry.
fn entries(h: &Haven) -> Vec<[String; 5]> {
    let db = Connection::open(h.data.join("catalog.sqlite")).unwrap();
    let mut stmt = db.prepare("SELECT action, target, outcome, actor, purpose FROM audit ORDER BY seq").unwrap();
    stmt.query_map([], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?])).unwrap().map(Result::unwrap).collect()
}

// Issue 14 item 13: a read that fails half-way (here: the zone's Parquet
// files are corrupt) leaves its attempt in the chain, then its failure with
// a fixed reason; before, entries were written only after success.
#[test]
fn issue_14_a_failed_read_leaves_its_attempt_in_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    load_apc(&h, "DSA-HAVEN-DEMO");
    let ana = h.signed("analyst");
    let mut corrupted = 0;
    let mut stack = vec![h.data.join("zones/pseudonymised")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if e.path().extension().is_some_and(|x| x == "parquet") {
                std::fs::write(e.path(), b"not parquet at all").unwrap();
                corrupted += 1;
            }
        }
    }
    assert!(corrupted > 0);
    let before = entries(&h).len();
    let out = h.as_(&ana, &["indicators", "run", "--only", "apc.spells", "--by", "total"]);
    assert!(!out.status.success(), "{}", text(&out));
    let after = entries(&h);
    let reads: Vec<&[String; 5]> = after[before..].iter().filter(|e| e[0] == "read").collect();
    assert_eq!(reads.len(), 2, "{after:?}");
    for (e, outcome) in reads.iter().zip(["attempt", "failed"]) {
        assert_eq!((e[1].as_str(), e[2].as_str(), e[3].as_str(), e[4].as_str()), ("pseudonymised+reference", outcome, "analyst.user", "commissioning"));
    }
    let reason: String = Connection::open(h.data.join("catalog.sqlite"))
        .unwrap()
        .query_row("SELECT detail FROM audit WHERE action = 'read' AND outcome = 'failed'", [], |r| r.get(0))
        .unwrap();
    assert!(!reason.contains("parquet at all") && !reason.contains(h.data.to_str().unwrap()), "a fixed reason: {reason}");
    let auditor = h.signed("auditor");
    assert!(verify(&h, &auditor, None).0);
}

/// Imports agreement `id` as the administrator: the demo's terms, in force
/// from three years ago to two years after today, keeping `years` whole
/// years plus the current one.
fn relative_agreement(h: &Haven, id: &str, years: i32) {
    let toml = common::agreement("DSA-HAVEN-DEMO", -common::YEARS_3, 731)
        .replace("\"DSA-HAVEN-DEMO\"", &format!("\"{id}\""))
        .replace("retention_years = 10", &format!("retention_years = {years}"));
    let out = h.import(&h.admin(), id, &toml);
    assert!(out.status.success(), "import {id}: {}", text(&out));
}

// Issue 14 item 14: a destruction takes no date (it runs as of today), a dry
// run takes no past date, and a dry run lists each load once.
#[test]
fn issue_14_retention_runs_as_of_today_and_plans_only_ahead() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    // Keeps everything the small synthetic data holds (2024-25 on) today.
    let years = today().financial_year() - 2024;
    relative_agreement(&h, "DSA-TEST-REL", years);
    load_apc(&h, "DSA-TEST-REL");
    let dee = h.login("dee", None, Some("DSA-TEST-REL"));
    let far = "2099-01-01";

    // The attack: a far date on a real run would destroy every row as if the
    // agreement had ended. Refused and audited; nothing changes.
    let loads_before = Connection::open(h.data.join("catalog.sqlite")).unwrap().query_row("SELECT count(*) FROM loads WHERE status = 'committed'", [], |r| r.get::<_, i64>(0)).unwrap();
    let out = h.as_(&dee, &["retention", "apply", "--dsa", "DSA-TEST-REL", "--on", far]);
    assert!(!out.status.success() && text(&out).contains("a destruction runs as of today only"), "{}", text(&out));
    let past = haven_model::Date::from_days(today().days() - 1).to_string();
    let out = h.as_(&dee, &["retention", "apply", "--dsa", "DSA-TEST-REL", "--dry-run", "--on", &past]);
    assert!(!out.status.success() && text(&out).contains("a dry run looks ahead, not back"), "{}", text(&out));
    let refused = entries(&h).iter().filter(|e| e[0].starts_with("retention.") && e[2] == "refused").count();
    assert_eq!(refused, 2, "both refusals are audited");
    assert!(certificates(&h).is_empty());

    // Today nothing is outside the window.
    let out = h.as_(&dee, &["--json", "retention", "apply", "--dsa", "DSA-TEST-REL"]);
    assert!(out.status.success(), "{}", text(&out));
    let cert: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cert["rows_destroyed"], 0);
    assert_eq!(cert["on"], today().to_string());

    // Looking ahead is allowed: by 2099 the agreement has ended, so every
    // row of every load would go — each load listed once.
    let out = h.as_(&dee, &["--json", "retention", "apply", "--dsa", "DSA-TEST-REL", "--dry-run", "--on", far]);
    assert!(out.status.success(), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["window"]["keep_from"], serde_json::Value::Null);
    let files = plan["files"].as_array().unwrap();
    let paths: std::collections::BTreeSet<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), files.len(), "no file is planned twice");
    let loads: std::collections::BTreeSet<&str> = files.iter().map(|f| f["load_id"].as_str().unwrap()).collect();
    let listed: Vec<&str> = plan["loads"].as_array().unwrap().iter().map(|l| l["load_id"].as_str().unwrap()).collect();
    assert_eq!(listed.len(), loads.len(), "each load once in the plan: {listed:?}");
    assert!(files.iter().any(|f| f["dataset"] == "apc_spell_derived"), "the derived spells are planned too");
    let out = h.as_(&dee, &["retention", "apply", "--dsa", "DSA-TEST-REL", "--dry-run", "--on", far]);
    let listing = text(&out);
    for load in &loads {
        assert_eq!(listing.matches(load).count(), 1, "load {load} listed once:\n{listing}");
    }
    assert_eq!(loads.len() as i64, loads_before, "every load under the agreement is planned");
    // Two files (certificate and its hash) from today's run; dry runs certify nothing.
    assert_eq!(certificates(&h).len(), 2, "{:?}", certificates(&h));
}

fn certificates(h: &Haven) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(h.data.join("certificates")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default()
}

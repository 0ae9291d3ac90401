//! Issue 14's attacks on the store's surroundings, through the real binary:
//! unsigned benchmarks aimed at real folders (§3), file permissions seen by
//! another user (§10), and an emptied users table re-opening the unsigned
//! bootstrap (§15).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{text, Haven};

/// The marker `haven bench` writes in the scratch folders it creates.
const BENCH_MARKER: &str = "haven-bench-scratch";

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// The binary with no data directory of its own (benchmarks need none), run
/// in an empty working folder that must stay empty: a benchmark writes only
/// in its scratch folder (an earlier bench wrote its audit key to
/// `./haven-data.keys`, and that key was committed to the repository).
fn haven(args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_haven")).args(args).current_dir(cwd.path()).env_remove("HAVEN_SESSION").output().unwrap();
    let left: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "haven {args:?} wrote {left:?} in its working folder");
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A folder that is not a benchmark's: `data/notes.txt` inside.
fn victim(root: &Path) -> PathBuf {
    let v = root.join("victim");
    std::fs::create_dir_all(v.join("data")).unwrap();
    std::fs::write(v.join("data/notes.txt"), "not a bench's").unwrap();
    v
}

// issue 14 §3: `bench ingest --scratch X --file /nonexistent` deleted X/data
// with no sign-in.
#[test]
fn issue_14_bench_ingest_never_touches_a_folder_it_did_not_make() {
    let tmp = tempfile::tempdir().unwrap();
    let v = victim(tmp.path());
    let out = haven(&["bench", "ingest", "--scratch", s(&v), "--file", "/nonexistent/apc.psv"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--file /nonexistent/apc.psv: no such file"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(v.join("data/notes.txt")).unwrap(), "not a bench's");

    // With a real file, an existing folder is still refused.
    let file = common::small_synth().join("national/apc_episode.psv");
    let out = haven(&["bench", "ingest", "--scratch", s(&v), "--file", s(&file)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(v.join("data/notes.txt")).unwrap(), "not a bench's");
    let listed: Vec<_> = std::fs::read_dir(&v).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(listed, ["data"], "nothing added, no marker planted");

    // A new folder is created, used and removed.
    let fresh = tmp.path().join("bench-scratch");
    let out = haven(&["--json", "bench", "ingest", "--scratch", s(&fresh), "--file", s(&file)]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["rows"].as_u64().unwrap() > 0);
    assert!(!fresh.exists(), "the bench removed the folder it made");
}

// issue 14 §3: `bench catalogue --reuse` opened an existing store, added a
// user without an audit entry and granted itself national reads.
#[test]
fn issue_14_bench_catalogue_reuses_only_its_own_scratch() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    let h = Haven::new(&real);
    h.admin();
    let users = |data: &Path| -> Vec<String> {
        let db = rusqlite::Connection::open(data.join("catalog.sqlite")).unwrap();
        let mut stmt = db.prepare("SELECT name FROM users ORDER BY name").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let from = common::small_synth();
    let attack = || haven(&["bench", "catalogue", "--from", s(from), "--scratch", s(&real), "--reuse"]);
    let out = attack();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not a benchmark's scratch folder"), "{}", text(&out));
    assert_eq!(users(&h.data), ["admin"], "no bench user was added");

    // A planted marker does not make a real store the bench's.
    std::fs::write(real.join(BENCH_MARKER), "").unwrap();
    let out = attack();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("has an audit log"), "{}", text(&out));
    assert_eq!(users(&h.data), ["admin"]);

    // Without --reuse the folder must be new.
    let out = haven(&["bench", "catalogue", "--from", s(from), "--scratch", s(&real)]);
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    // Arguments are checked before anything is created.
    let never = tmp.path().join("never");
    let out = haven(&["bench", "catalogue", "--from", s(&tmp.path().join("missing")), "--scratch", s(&never)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!never.exists(), "nothing created for a bad --from");
    assert_eq!(users(&h.data), ["admin"]);
}

// A bench's own scratch folder is reused: its audit log holds only its
// import of the demo agreement (issue 14 had it refused as "has an audit
// log", so `--reuse` never worked after a run).
#[test]
fn a_benchs_own_scratch_folder_is_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let scratch = tmp.path().join("scratch");
    let from = common::small_synth();
    let out = haven(&["bench", "catalogue", "--from", s(from), "--scratch", s(&scratch)]);
    assert!(out.status.success(), "{}", text(&out));
    let out = haven(&["bench", "catalogue", "--from", s(from), "--scratch", s(&scratch), "--reuse"]);
    assert!(out.status.success(), "{}", text(&out));
}

/// Every folder and file under `root`, with its mode bits.
fn modes(root: &Path) -> Vec<(PathBuf, bool, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        out.push((p.clone(), meta.is_dir(), meta.permissions().mode() & 0o7777));
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
        }
    }
    out
}

/// Runs `cat FILE` as uid/gid 65534; whether it could read it.
fn nobody_reads(file: &Path) -> bool {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--", "cat"])
        .arg(file)
        .output()
        .expect("setpriv (util-linux) is needed to test as another user")
        .status
        .success()
}

// issue 14 §10: zones, catalog, quarantine and keys were readable by
// other users of the machine.
#[test]
fn issue_14_everything_haven_writes_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    // The folders above the data directory are open, as a home or /srv is:
    // only Haven's own modes protect what it writes.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let h = Haven::new(tmp.path());
    let dscro = h.signed("dscro");
    assert!(h.as_(&dscro, &["keys", "init"]).status.success());
    let out = h.as_(&dscro, &["ingest", "--from", s(common::small_synth()), "--dsa", "DSA-HAVEN-DEMO"]);
    assert!(out.status.success(), "{}", text(&out));
    let dq = tmp.path().join("dq");
    assert!(h.as_(&dscro, &["dq", "--out", s(&dq)]).status.success());

    let written: Vec<_> = [&h.data, &h.keys, &dq].into_iter().flat_map(|r| modes(r)).collect();
    assert!(written.iter().any(|(p, _, _)| p.extension().is_some_and(|e| e == "parquet")));
    assert!(written.iter().any(|(p, _, _)| p.starts_with(h.data.join("quarantine")) && p.is_file()), "a quarantine file is checked too");
    for (path, dir, mode) in &written {
        let want = if *dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{} has mode {mode:o}", path.display());
    }

    if is_root() {
        let catalog = h.data.join("catalog.sqlite");
        let parquet = written.iter().find(|(p, _, _)| p.extension().is_some_and(|e| e == "parquet")).unwrap().0.clone();
        let key = h.keys.join("pseudonymised.key");
        assert!(nobody_reads(&readable_probe(tmp.path())), "the probe itself works");
        for f in [&catalog, &parquet, &key] {
            assert!(!nobody_reads(f), "uid 65534 read {}", f.display());
        }
        // Even with every folder opened for traversal, the files stay shut.
        for (path, dir, _) in &written {
            if *dir {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o711)).unwrap();
            }
        }
        for f in [&catalog, &parquet, &key] {
            assert!(!nobody_reads(f), "uid 65534 read {} through open folders", f.display());
        }
    }
}

/// A world-readable file in `dir`, to show the check as another user works.
fn readable_probe(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("probe");
    std::fs::write(&p, "probe").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    p
}

// issue 14 §15: emptying the users table re-opened unsigned administrator
// creation and the unsigned demo.
#[test]
fn issue_14_an_emptied_users_table_does_not_reopen_the_bootstrap() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    h.admin();
    let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
    db.execute_batch("DROP TRIGGER IF EXISTS users_no_delete; DELETE FROM users;").unwrap();
    let n: i64 = db.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);

    let add = h.run(&["users", "add", "intruder", "--role", "admin"]);
    assert_eq!(add.status.code(), Some(3), "{}", text(&add));
    assert!(text(&add).contains("needs a sign-in") && text(&add).contains("never been used"), "{}", text(&add));
    // A bad scale makes the demo fail at once if it were let through.
    let demo = h.run(&["demo", "--scale", "nope"]);
    assert_eq!(demo.status.code(), Some(3), "{}", text(&demo));
    let n: i64 = db.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0, "no administrator was added");
    for target in ["users add", "demo"] {
        let audited: i64 = db
            .query_row("SELECT COUNT(*) FROM audit WHERE action = 'refusal' AND target = ?1 AND outcome = 'refused'", [target], |r| r.get(0))
            .unwrap();
        assert_eq!(audited, 1, "the refused `{target}` is audited");
    }
}

// Issue 16 §5: running the README's demo command a second time stopped with
// "needs a sign-in". A store the demo made is marked (in the catalog and the
// keyed audit chain) and the demo runs on it again, or rebuilds it with
// --fresh; on any other store it is refused, even with the mark planted.
#[test]
fn issue_16_the_demo_runs_again_on_its_own_store_and_nowhere_else() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(&tmp.path().join("demo"));
    let loads = |h: &Haven| -> i64 {
        let db = rusqlite::Connection::open(h.data.join("catalog.sqlite")).unwrap();
        db.query_row("SELECT COUNT(*) FROM loads", [], |r| r.get(0)).unwrap()
    };
    let first = h.run(&["demo", "--scale", "small", "--no-serve"]);
    assert!(first.status.success(), "{}", text(&first));
    // Issue 18 §5: the demo prints the model's AUC beside the ceiling the
    // ground truth's own risk reaches on the same held-out people.
    let out = text(&first);
    let line = out.lines().find(|l| l.starts_with("Risk stratification: ")).unwrap_or_else(|| panic!("{out}"));
    let after = |key: &str| -> f64 { line.split(key).nth(1).and_then(|r| r.split_whitespace().next()).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{key} in {line}")) };
    let (model, ceiling) = (after("model AUC "), after("true-risk ceiling "));
    assert!(model > 0.5 && ceiling > 0.5 && model <= 1.0 && ceiling <= 1.0, "{line}");
    assert!(line.contains("held for review as OUT-"), "{line}");
    let after_first = loads(&h);
    let again = h.run(&["demo", "--scale", "small", "--no-serve"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("Reopening the demo store"), "{}", text(&again));
    assert_eq!(loads(&h), after_first, "the same files: every load a no-op");
    let fresh = h.run(&["demo", "--scale", "small", "--fresh", "--no-serve"]);
    assert!(fresh.status.success(), "{}", text(&fresh));
    assert_eq!(loads(&h), after_first, "rebuilt from nothing: the same loads again");

    // A real store, its catalog given a demo mark by someone with file access.
    let real = Haven::new(&tmp.path().join("real"));
    real.admin();
    let db = rusqlite::Connection::open(real.data.join("catalog.sqlite")).unwrap();
    db.execute_batch("CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO settings (name, value) VALUES ('demo_store', 'planted');").unwrap();
    for args in [&["demo", "--scale", "nope"][..], &["demo", "--scale", "nope", "--fresh"][..]] {
        let out = real.run(args);
        assert_eq!(out.status.code(), Some(3), "{}", text(&out));
        assert!(text(&out).contains("needs a sign-in"), "{}", text(&out));
    }
    assert!(real.data.join("catalog.sqlite").is_file(), "--fresh removed nothing");
    // An administrator's demo on a store it did not start does not make it
    // the demo's: the unsigned demo stays refused there.
    let signed = real.as_(&real.admin(), &["demo", "--scale", "small", "--no-serve"]);
    assert!(signed.status.success(), "{}", text(&signed));
    let out = real.run(&["demo", "--scale", "nope"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

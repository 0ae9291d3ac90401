//! `haven ingest` as an operator runs it: whole folders, reruns, lineage and
//! data-quality output, and the failures that must leave the data directory
//! exactly as it was — a process killed mid-load, a crash at each commit
//! step, a full disk and a permission error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;

fn haven() -> Command {
    Command::new(env!("CARGO_BIN_EXE_haven"))
}

fn synth() -> &'static Path {
    common::small_synth()
}

struct Dirs {
    tmp: tempfile::TempDir,
    haven: common::Haven,
    /// A DSCRO signed in under the demo agreement.
    token: String,
}

impl Dirs {
    fn new() -> Dirs {
        let tmp = tempfile::tempdir().unwrap();
        let haven = common::Haven::new(tmp.path());
        let token = haven.signed("dscro");
        let d = Dirs { tmp, haven, token };
        assert!(d.run(&["keys", "init"]).status.success());
        d
    }
    fn data(&self) -> PathBuf {
        self.haven.data.clone()
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.haven.cmd(args);
        c.env("HAVEN_SESSION", &self.token);
        c
    }
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
    /// Loads reference data and the opt-out list so a local flow can load.
    fn prepare(&self) {
        for t in ["org", "lsoa_lookup", "postcode_lookup"] {
            let f = synth().join(format!("reference/{t}.psv"));
            let out = self.run(&["ingest", "--icb", "QMJ", "--dataset", t, "--file", f.to_str().unwrap()]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let f = synth().join("dscro/QMJ/optout_clean_list.psv");
        assert!(self.run(&["ingest", "--dataset", "optout_clean_list", "--file", f.to_str().unwrap()]).status.success());
    }
    /// Everything a reader could see: the catalog's loads and every file
    /// under the zones, quarantine and tmp folders.
    fn snapshot(&self) -> (String, BTreeSet<String>) {
        let loads = self.run(&["--json", "loads"]);
        assert!(loads.status.success(), "{}", String::from_utf8_lossy(&loads.stderr));
        let mut files = BTreeSet::new();
        let mut stack = vec![self.data().join("zones"), self.data().join("quarantine"), self.data().join("tmp")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.insert(p.strip_prefix(self.data()).unwrap().display().to_string());
                }
            }
        }
        (String::from_utf8(loads.stdout).unwrap(), files)
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_folder_loads_once_and_a_rerun_is_a_no_op_that_says_so() {
    let d = Dirs::new();
    let out = d.run(&["--json", "ingest", "--from", synth().to_str().unwrap(), "--dsa", "DSA-HAVEN-DEMO"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reports = reports.as_array().unwrap();
    assert!(reports.len() >= 20);
    for r in reports {
        assert_eq!(r["outcome"], "loaded");
        for c in r["counts"].as_array().unwrap() {
            let n = |k: &str| c[k].as_u64().unwrap();
            assert_eq!(n("read"), n("rejected") + n("opted_out") + n("out_of_area") + n("written"));
        }
    }
    let before = d.snapshot();
    let again = d.run(&["ingest", "--from", synth().to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    let text = String::from_utf8_lossy(&again.stdout);
    assert_eq!(text.matches("already loaded").count(), reports.len(), "{text}");
    assert_eq!(d.snapshot(), before, "a rerun changes nothing");

    // Lineage names the DSA, the file hash and reconciling counts.
    let loads: serde_json::Value = serde_json::from_str(&before.0).unwrap();
    let first = &loads[0];
    assert_eq!(first["load"]["dsa"], "DSA-HAVEN-DEMO");
    assert_eq!(first["load"]["dsa_version"], 1, "the agreement version the load ran under");
    assert_eq!(first["load"]["source_sha256"].as_str().unwrap().len(), 64);
    assert!(!first["files"].as_array().unwrap().is_empty());

    // The data-quality report, as text, CSV and JSON.
    let dq_dir = d.tmp.path().join("dq");
    let dq = d.run(&["dq", "--out", dq_dir.to_str().unwrap()]);
    assert!(dq.status.success(), "{}", stderr(&dq));
    assert!(String::from_utf8_lossy(&dq.stdout).contains("completeness"));
    let csv = std::fs::read_to_string(dq_dir.join("dq.csv")).unwrap();
    assert!(csv.starts_with("load,dataset,provider,field,rows,filled,valid,completeness,validity\n"));
    assert!(csv.lines().any(|l| l.contains(",apc_episode,") && l.contains(",DIAG_4_01,")));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dq_dir.join("dq.json")).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), csv.lines().count() - 1);

    // No NHS number from the flows appears in anything printed.
    let apc = std::fs::read_to_string(synth().join("dscro/QMJ/apc_episode.psv")).unwrap();
    let printed = format!("{}{}{}{}", before.0, String::from_utf8_lossy(&out.stdout), text, String::from_utf8_lossy(&dq.stdout));
    for line in apc.lines().skip(1).take(200) {
        let nhs = line.split('|').nth(2).unwrap();
        assert!(!printed.contains(nhs));
    }
}

#[test]
fn a_crash_at_any_commit_step_leaves_the_data_directory_as_before_or_fully_loaded() {
    let file = synth().join("dscro/QMJ/op_attendance.psv");
    for point in ["before-publish", "after-publish", "after-catalog"] {
        let d = Dirs::new();
        d.prepare();
        let before = d.snapshot();
        let out = d
            .cmd(&["ingest", "--dataset", "op_attendance", "--file", file.to_str().unwrap()])
            .env("HAVEN_CRASH_AT", point)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: the process was aborted");
        // The next writer recovers: debris is removed on open.
        let rerun = d.run(&["ingest", "--dataset", "op_attendance", "--file", file.to_str().unwrap()]);
        assert!(rerun.status.success(), "{point}: {}", stderr(&rerun));
        let said = String::from_utf8_lossy(&rerun.stdout).into_owned();
        if point == "after-catalog" {
            // The catalog committed before the crash: the load happened once.
            assert!(said.contains("already loaded"), "{point}: {said}");
        } else {
            assert!(!said.contains("already loaded"), "{point}: {said}");
        }
        let after = d.snapshot();
        let loads: serde_json::Value = serde_json::from_str(&after.0).unwrap();
        let before_loads: serde_json::Value = serde_json::from_str(&before.0).unwrap();
        assert_eq!(loads.as_array().unwrap().len(), before_loads.as_array().unwrap().len() + 1, "{point}");
        assert!(!after.1.iter().any(|f| f.starts_with("tmp")), "{point}: no scratch left");
        // Every file on disk belongs to a catalogued load.
        for f in &after.1 {
            assert!(after.0.contains(f.as_str()) || f.starts_with("quarantine"), "{point}: stray {f}");
        }
    }
}

#[test]
fn a_load_killed_mid_way_leaves_the_zones_unchanged_and_a_rerun_succeeds() {
    let file = synth().join("national/op_attendance.psv");
    let d = Dirs::new();
    let before = d.snapshot();
    let mut saw_unfinished = false;
    for delay_ms in [150u64, 400, 800] {
        let mut child = d
            .cmd(&["ingest", "--dataset", "national.op_attendance", "--file", file.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL: no destructor, no cleanup
        let status = child.wait().unwrap();
        if status.success() {
            break; // finished before the kill: nothing more to test at this delay
        }
        saw_unfinished = true;
        let (loads, _) = d.snapshot();
        assert_eq!(loads, before.0, "killed after {delay_ms} ms: the catalog is unchanged");
    }
    assert!(saw_unfinished, "the load always finished before it could be killed");
    let rerun = d.run(&["ingest", "--dataset", "national.op_attendance", "--file", file.to_str().unwrap()]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    let after = d.snapshot();
    assert!(!after.1.iter().any(|f| f.starts_with("tmp")));
    for f in &after.1 {
        assert!(after.0.contains(f.as_str()), "stray file {f} after recovery");
    }
}

#[test]
fn a_full_disk_fails_the_load_cleanly_and_a_rerun_succeeds() {
    let d = Dirs::new();
    d.prepare();
    let before = d.snapshot();
    let file = synth().join("national/op_attendance.psv");
    // RLIMIT_FSIZE makes writes past 2 MB fail with EFBIG, as a full disk
    // or quota would; SIGXFSZ is ignored so the write returns the error.
    let script = format!(
        "trap '' XFSZ; ulimit -f 4000; exec \"$0\" --data-dir {} --keys-dir {} ingest --dataset national.op_attendance --file {}",
        d.data().display(),
        d.tmp.path().join("keys").display(),
        file.display()
    );
    let out = Command::new("sh").arg("-c").arg(&script).arg(env!("CARGO_BIN_EXE_haven")).env("HAVEN_SESSION", &d.token).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("File too large") || err.contains("os error 27"), "{err}");
    assert_eq!(d.snapshot(), before, "nothing changed");
    let rerun = d.run(&["ingest", "--dataset", "national.op_attendance", "--file", file.to_str().unwrap()]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
}

#[test]
fn a_read_only_data_directory_is_refused_with_nothing_changed() {
    let d = Dirs::new();
    d.prepare();
    let before = d.snapshot();
    // The source sits where an unprivileged user can read it, so only the
    // data directory's permissions can cause the failure.
    let file = d.tmp.path().join("death.psv");
    std::fs::copy(synth().join("dscro/QMJ/death.psv"), &file).unwrap();
    set_mode_tree(&d.data(), 0o500, 0o400);
    std::fs::set_permissions(d.tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    set_mode_tree(&d.tmp.path().join("keys"), 0o755, 0o444);
    let (data, keys) = (d.data(), d.tmp.path().join("keys"));
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "--keys-dir",
        keys.to_str().unwrap(),
        "ingest",
        "--dataset",
        "death",
        "--file",
        file.to_str().unwrap(),
    ];
    // Root ignores permission bits, so run as an unprivileged user when root.
    let out = if unsafe_is_root() {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_haven"))
            .args(args)
            .env("HAVEN_SESSION", &d.token)
            .output()
            .expect("setpriv (util-linux) is needed to drop root for this test")
    } else {
        haven().args(args).env("HAVEN_SESSION", &d.token).output().unwrap()
    };
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.to_lowercase().contains("permission denied") || err.contains("readonly") || err.contains("unable to open"), "{err}");
    set_mode_tree(&d.data(), 0o700, 0o600);
    assert_eq!(d.snapshot(), before, "nothing changed");
}

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

fn set_mode_tree(root: &Path, dir_mode: u32, file_mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap().flatten() {
                stack.push(e.path());
            }
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(dir_mode)).unwrap();
        } else {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(file_mode)).unwrap();
        }
    }
}

#[test]
fn single_file_loads_need_a_known_icb_and_refuse_another_icbs_flows() {
    let d = Dirs::new();
    let f = synth().join("dscro/QMJ/death.psv");
    let out = d.run(&["ingest", "--dataset", "death", "--file", f.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--icb"), "{}", stderr(&out));
    d.prepare();
    let out = d.run(&["ingest", "--icb", "QWE", "--dataset", "death", "--file", f.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("belongs to ICB QMJ"), "{}", stderr(&out));
    let out = d.run(&["ingest", "--dataset", "nonsense", "--file", f.to_str().unwrap()]);
    assert!(stderr(&out).contains("unknown dataset"), "{}", stderr(&out));
}

/// Issue 14 item 1: a death or GP file sent without its header row used to
/// quote its first NHS number in the error and in the append-only audit log.
/// Every table whose first column identifies a patient, loaded without its
/// header through the binary (text and --json): nothing on stdout, stderr,
/// in the quarantine files or in the exported audit log repeats a value of
/// the file.
#[test]
fn issue_14_a_file_without_its_header_repeats_none_of_its_values() {
    use haven_model::schema::{is_identifiable, Table};
    let d = Dirs::new();
    d.prepare();
    let mut said = String::new();
    let mut values: BTreeSet<String> = BTreeSet::new();
    let mut tables = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(synth().join("dscro/QMJ")).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let Some(table) = path.file_stem().and_then(|s| Table::from_name(&s.to_string_lossy())) else { continue };
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let first = lines.next().unwrap().split('|').next().unwrap().to_owned();
        if !table.schema().field_with_name(&first).is_ok_and(is_identifiable) {
            continue;
        }
        let body: Vec<&str> = lines.take(40).collect();
        for line in &body {
            // Values that could identify or date a record: anything with a
            // digit, five characters or more (NHS numbers, dates, codes).
            values.extend(line.split('|').filter(|v| v.len() >= 5 && v.bytes().any(|b| b.is_ascii_digit())).map(str::to_owned));
        }
        let headless = d.tmp.path().join(format!("{}.psv", table.name()));
        std::fs::write(&headless, body.join("\n") + "\n").unwrap();
        for json in [false, true] {
            let mut args = vec!["ingest", "--dataset", table.name(), "--file", headless.to_str().unwrap()];
            if json {
                args.insert(0, "--json");
            }
            let out = d.run(&args);
            assert!(!out.status.success(), "{}: a file without its header is refused", table.name());
            said.push_str(&common::text(&out));
        }
        tables.push(table.name());
    }
    assert!(tables.contains(&"death") && tables.contains(&"gp_patient"), "{tables:?}");
    for e in std::fs::read_dir(d.data().join("quarantine")).into_iter().flatten().flatten() {
        said.push_str(&std::fs::read_to_string(e.path()).unwrap());
    }
    let auditor = d.haven.signed("auditor");
    for format in ["csv", "json"] {
        let file = d.tmp.path().join(format!("audit.{format}"));
        let out = d.haven.as_(&auditor, &["audit", "export", "--out", file.to_str().unwrap(), "--format", format]);
        assert!(out.status.success(), "{}", common::text(&out));
        let exported = std::fs::read_to_string(&file).unwrap();
        assert!(exported.contains("failed"), "the refused loads are audited");
        said.push_str(&exported);
    }
    assert!(said.contains("without its header row"), "{said}");
    assert!(values.len() > 100);
    for v in &values {
        assert!(!said.contains(v.as_str()), "a value of the file was repeated");
    }
}

/// Issue 14 item 6: keys fail closed. A key folder inside the data directory
/// and a key file others can read are refused (naming the file and mode, no
/// key material); a load under another key than the zone's first load is
/// refused; rotation is refused while the zone holds data, and otherwise
/// retires the old key, records and audits both ids.
#[test]
fn issue_14_keys_fail_closed_and_rotate_only_an_empty_zone() {
    use std::os::unix::fs::PermissionsExt;
    let d = Dirs::new();
    d.prepare();
    let keys = d.tmp.path().join("keys");
    let death = synth().join("dscro/QMJ/death.psv");
    let ingest_death = |d: &Dirs| d.run(&["ingest", "--dataset", "death", "--file", death.to_str().unwrap(), "--replace"]);

    // A key folder inside the data directory.
    let inside = d.data().join("keys");
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::copy(keys.join("session.key"), inside.join("session.key")).unwrap();
    let out = haven()
        .args(["--data-dir", d.data().to_str().unwrap(), "--keys-dir", inside.to_str().unwrap(), "keys", "init"])
        .env("HAVEN_SESSION", &d.token)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("inside the data directory"), "{}", stderr(&out));
    assert!(!inside.join("ceff.key").exists(), "no key was written inside the data");
    std::fs::remove_dir_all(&inside).unwrap();

    // A key file readable by group or others.
    let secret = std::fs::read_to_string(keys.join("ceff.key")).unwrap();
    std::fs::set_permissions(keys.join("ceff.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = ingest_death(&d);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("ceff.key") && err.contains("0644"), "{err}");
    assert!(!err.contains(secret.trim()));
    std::fs::set_permissions(keys.join("ceff.key"), std::fs::Permissions::from_mode(0o600)).unwrap();

    // The first load records the key ids; another key is refused.
    let out = ingest_death(&d);
    assert!(out.status.success(), "{}", stderr(&out));
    // (Issue 14 item 7: the load names the opt-out list it applied.)
    let loads = String::from_utf8(d.run(&["loads"]).stdout).unwrap();
    assert!(loads.contains("opt-out list applied: load"), "{loads}");
    let ids: serde_json::Value = serde_json::from_slice(&d.run(&["--json", "keys", "list"]).stdout).unwrap();
    let pseudo_id = ids["pseudonymised"].as_str().unwrap().to_owned();
    let original = std::fs::read(keys.join("pseudonymised.key")).unwrap();
    std::fs::remove_file(keys.join("pseudonymised.key")).unwrap();
    let other = "ab".repeat(32);
    std::fs::write(keys.join("pseudonymised.key"), &other).unwrap();
    std::fs::set_permissions(keys.join("pseudonymised.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = ingest_death(&d);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&format!("zone pseudonymised was loaded under key id {pseudo_id}")), "{err}");
    assert!(err.contains("the key folder holds key id"), "{err}");
    assert!(!err.contains(&other));
    std::fs::write(keys.join("pseudonymised.key"), &original).unwrap();
    assert!(ingest_death(&d).status.success());

    // Rotation: refused while the zone holds data, audited either way.
    let out = d.run(&["keys", "rotate", "--zone", "pseudonymised"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("holds data"), "{}", stderr(&out));
    assert_eq!(std::fs::read(keys.join("pseudonymised.key")).unwrap(), original, "the key is unchanged");
    // Direct care holds nothing yet: its key may be rotated.
    let before: serde_json::Value = serde_json::from_slice(&d.run(&["--json", "keys", "list"]).stdout).unwrap();
    let out = d.run(&["--json", "keys", "rotate", "--zone", "direct_care"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rotated: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (old, new) = (rotated["old_key_id"].as_str().unwrap(), rotated["new_key_id"].as_str().unwrap());
    assert_eq!(old, before["direct_care"].as_str().unwrap());
    assert_ne!(old, new);
    assert!(keys.join(format!("direct_care.key.retired-{old}")).is_file());
    let mode = std::fs::metadata(keys.join("direct_care.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // The new key is the zone's recorded key: a GP registration loads under it.
    let reg = synth().join("dscro/QMJ/gp_registration.psv");
    let out = d.run(&["ingest", "--dataset", "gp_registration", "--file", reg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let auditor = d.haven.signed("auditor");
    let file = d.tmp.path().join("audit.json");
    assert!(d.haven.as_(&auditor, &["audit", "export", "--out", file.to_str().unwrap(), "--format", "json"]).status.success());
    let audit = std::fs::read_to_string(&file).unwrap();
    assert!(audit.contains("keys.rotate") && audit.contains(old) && audit.contains(new), "both ids are audited");
    assert!(audit.contains("refused"));
}

/// Issue 15: a publisher's reference file and NHS Digital's artificial HES
/// through the binary, as a DSCRO operator loads them.
#[test]
fn issue_15_published_reference_files_and_artificial_hes_load_and_say_how() {
    let d = Dirs::new();
    let etr = Path::new(env!("CARGO_MANIFEST_DIR")).join("../haven-ingest/tests/fixtures/reference/etr.csv");
    let etr = etr.to_str().unwrap();
    // Reference files are versioned by publication date: none given, refused.
    let out = d.run(&["ingest", "--icb", "QMJ", "--dataset", "ods.etr", "--file", etr]);
    assert!(!out.status.success() && stderr(&out).contains("--published"), "{}", stderr(&out));
    let out = d.run(&["ingest", "--icb", "QMJ", "--dataset", "ods.etr", "--file", etr, "--published", "2025-11-14"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout.contains("ods.etr") && stdout.contains("2 rows from") && stdout.contains("published 2025-11-14"), "{stdout}");
    let out = d.run(&["ingest", "--dataset", "ods.etr", "--file", etr, "--published", "2025-01-01"]);
    assert!(!out.status.success() && stderr(&out).contains("refusing the older publication"), "{}", stderr(&out));

    // The artificial APC file has no spell identifier: the summary says
    // every episode was keyed by person, provider and admission date, and
    // that its `-` diagnoses were read as placeholders.
    let apc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/external-data/artificial-hes/artificial_hes_apc_0102_truncated.csv");
    let out = d.run(&["ingest", "--dataset", "national.apc_episode", "--file", apc.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout.contains("2074 spells from 2074 episodes"), "{stdout}");
    assert!(stdout.contains("spell keys: 2074 by person + PROCODE3 + ADMIDATE"), "{stdout}");
    assert!(stdout.contains("\"not recorded\" placeholders"), "{stdout}");
    // Of DIAG_4_02's 777 values that are not codes, 776 are `-`; the one
    // left is `0000`, a real fault.
    assert!(stdout.contains(" 1  DIAG_4_02: is not an ICD-10 code"), "{stdout}");
}

//! Tidy rules, after rust-analyzer's `xtask/src/tidy.rs`:
//! * every Rust module starts with a `//!` doc comment;
//! * library crates contain no `println!`, `eprintln!` or `dbg!` (output is
//!   the binary's business, and stray prints can leak patient data);
//! * `ARCHITECTURE.md` mentions every crate under `crates/`;
//! * layering: each crate depends only on crates below it (DESIGN.md §3);
//! * fault injection (`HAVEN_CRASH_AT`) is test-only: the store's
//!   `fault-injection` feature is enabled only from `[dev-dependencies]`,
//!   never by default, and every use of it is behind its `cfg`, so a release
//!   binary cannot commit a load without its audit entry (issue 14 §11).

use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace root").to_path_buf()
}

/// Allowed workspace dependencies of each crate; anything else is a layering error.
const LAYERS: &[(&str, &[&str])] = &[
    ("haven-model", &[]),
    ("haven-synth", &["haven-model"]),
    ("haven-store", &["haven-model"]),
    ("haven-governance", &["haven-model", "haven-store"]),
    // Pure maths and pure SVG: no workspace dependencies at all.
    ("haven-stats", &[]),
    ("haven-charts", &[]),
    // haven-ingest only as a dev-dependency: the engine's tests read spells
    // both as it derives them and as ingest's `apc_spell_derived` holds them.
    ("haven-analytics", &["haven-model", "haven-store", "haven-governance", "haven-stats", "haven-charts", "haven-ingest"]),
    // haven-synth only as a dev-dependency: generated fixtures for the tests.
    ("haven-ingest", &["haven-model", "haven-store", "haven-synth"]),
    // Invoice validation: a workload beside the analytics (haven-ingest and
    // haven-synth only as dev-dependencies, for loaded synthetic fixtures).
    ("haven-finance", &["haven-model", "haven-store", "haven-governance", "haven-ingest", "haven-synth"]),
    // Risk stratification: pure scores over plain inputs, and the reader of
    // a governed zone session (haven-governance only as a dev-dependency:
    // its tests open sessions under a risk-stratification grant).
    ("haven-risk", &["haven-model", "haven-stats", "haven-store", "haven-governance", "haven-charts"]),
    ("haven-app", &["haven-model", "haven-store", "haven-governance", "haven-ingest", "haven-analytics", "haven-finance", "haven-risk", "haven-charts"]),
    ("haven-server", &["haven-app", "haven-governance", "haven-store", "haven-analytics", "haven-finance"]),
    ("haven", &["haven-model", "haven-synth", "haven-store", "haven-ingest", "haven-governance", "haven-analytics", "haven-finance", "haven-risk", "haven-app", "haven-server"]),
];

pub fn check(root: &Path) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let crates = root.join("crates");
    let arch = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    for manifest in [root.join("Cargo.toml"), root.join("xtask/Cargo.toml")] {
        let text = std::fs::read_to_string(&manifest).unwrap_or_default();
        problems.extend(fault_injection_in_manifest(&manifest.display().to_string(), &text));
    }
    for entry in std::fs::read_dir(&crates).expect("crates/ exists") {
        let dir = entry.expect("readable").path();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if !arch.contains(&format!("`{name}`")) {
            problems.push(format!("ARCHITECTURE.md does not mention crate `{name}`"));
        }
        check_layering(&dir, &name, &mut problems);
        let manifest = dir.join("Cargo.toml");
        problems.extend(fault_injection_in_manifest(&manifest.display().to_string(), &std::fs::read_to_string(&manifest).unwrap_or_default()));
        let is_lib = dir.join("src/lib.rs").exists();
        check_grant_implementors(&dir, &name, &mut problems);
        for file in rust_files(&dir.join("src")) {
            let text = std::fs::read_to_string(&file).expect("readable source");
            problems.extend(fault_injection_in_source(&name, &file, &text));
            if !text.trim_start().starts_with("//!") {
                problems.push(format!("{}: module lacks a `//!` doc comment", file.display()));
            }
            if is_lib {
                for bad in ["println!", "eprintln!", "dbg!"] {
                    if text.lines().any(|l| l.contains(bad) && !l.trim_start().starts_with("//")) {
                        problems.push(format!("{}: library code uses {bad}", file.display()));
                    }
                }
            }
        }
    }
    problems.extend(secrets_in(&tracked_files(root)));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The files git tracks under `root` (none outside a git checkout).
fn tracked_files(root: &Path) -> Vec<String> {
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).split('\0').filter(|p| !p.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Key files in the repository: a `*.key`, anything in a `*.keys` folder,
/// or a session token. Secrets come from files or the environment at run
/// time, never from the repo (a test run once committed an audit key).
fn secrets_in(paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| {
            let parts: Vec<&str> = p.split('/').collect();
            let file = parts.last().copied().unwrap_or_default();
            file.ends_with(".key") || file == "session" || parts[..parts.len() - 1].iter().any(|d| d.ends_with(".keys"))
        })
        .map(|p| format!("{p}: a key file is tracked by git; secrets never belong in the repository"))
        .collect()
}

/// Only haven-governance issues read grants; the store's own tests may use a
/// bare one. Anything else implementing `ReadGrant` would be an ungoverned
/// way into the zones.
fn check_grant_implementors(dir: &Path, name: &str, problems: &mut Vec<String>) {
    let mut files = rust_files(&dir.join("src"));
    files.extend(rust_files(&dir.join("tests")));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let implements = text.lines().any(|l| l.contains("impl") && l.contains("ReadGrant for"));
        let allowed = name == "haven-governance" || (name == "haven-store" && file.starts_with(dir.join("tests")));
        if implements && !allowed {
            problems.push(format!("{}: implements ReadGrant outside haven-governance", file.display()));
        }
    }
}

/// The store's test-only feature and the variable it reads.
const FAULT_FEATURE: &str = "fault-injection";
const FAULT_CFG: &str = "#[cfg(feature = \"fault-injection\")]";
const CRASH_ENV: &str = "HAVEN_CRASH_AT";

/// The feature may be declared (`fault-injection = []`) and enabled from a
/// `[dev-dependencies]` section, nowhere else: not from `[dependencies]`
/// (or a target's or the workspace's), not in `default`, not through
/// another feature.
fn fault_injection_in_manifest(path: &str, manifest: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut section = String::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).to_owned();
            continue;
        }
        if line.starts_with('#') || !line.contains(FAULT_FEATURE) {
            continue;
        }
        let dev = section == "dev-dependencies" || section.ends_with(".dev-dependencies");
        let declaration = section == "features" && line.replace(' ', "") == format!("{FAULT_FEATURE}=[]");
        if !dev && !declaration {
            problems.push(format!("{path}: `{FAULT_FEATURE}` is enabled outside [dev-dependencies] (in [{section}])"));
        }
    }
    problems
}

/// `HAVEN_CRASH_AT` is named only in haven-store's `fault` module (and
/// tests), and every line that declares or imports that module is right
/// under the feature's `cfg`.
fn fault_injection_in_source(krate: &str, file: &Path, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let is_fault_module = krate == "haven-store" && file.ends_with("src/fault.rs");
    if text.contains(CRASH_ENV) && !is_fault_module {
        problems.push(format!("{}: names {CRASH_ENV} outside haven-store's cfg-gated fault module", file.display()));
    }
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for (i, line) in lines.iter().enumerate() {
        let uses_module = krate == "haven-store" && (line.starts_with("mod fault;") || line.starts_with("pub mod fault;") || line.contains("crate::fault::"));
        if uses_module && !line.starts_with("//") {
            let attr = lines[..i].iter().rev().find(|l| !l.is_empty() && !l.starts_with("//"));
            if attr != Some(&FAULT_CFG) {
                problems.push(format!("{}:{}: uses the fault module without {FAULT_CFG} right above", file.display(), i + 1));
            }
        }
    }
    problems
}

fn check_layering(dir: &Path, name: &str, problems: &mut Vec<String>) {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("crate manifest");
    let Some(allowed) = LAYERS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a) else {
        problems.push(format!("crate `{name}` has no entry in xtask's LAYERS table"));
        return;
    };
    for line in manifest.lines() {
        let dep = line.split(['.', '=', ' ']).next().unwrap_or("");
        if dep.starts_with("haven") && dep != name && !allowed.contains(&dep) {
            problems.push(format!("crate `{name}` depends on `{dep}`, which is not below it"));
        }
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    files(dir).into_iter().filter(|p| p.extension().is_some_and(|x| x == "rs")).collect()
}

/// Every file under `dir` (not folders), in no particular order; the one
/// walk xtask's checks share.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_is_tidy() {
        if let Err(problems) = check(&workspace_root()) {
            panic!("tidy problems:\n{}", problems.join("\n"));
        }
    }

    #[test]
    fn tidy_catches_a_missing_doc_comment_and_a_print() {
        let dir = tempfile_dir();
        let krate = dir.join("crates/haven-model");
        std::fs::create_dir_all(krate.join("src")).unwrap();
        std::fs::write(krate.join("Cargo.toml"), "[package]\nname = \"haven-model\"\n[dependencies]\nhaven-synth = {}\n").unwrap();
        std::fs::write(krate.join("src/lib.rs"), "pub fn f() { println!(\"x\"); }\nimpl haven_store::ReadGrant for X {}\n").unwrap();
        std::fs::write(dir.join("ARCHITECTURE.md"), "nothing\n").unwrap();
        let problems = check(&dir).unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("doc comment") && all.contains("println!") && all.contains("ARCHITECTURE.md") && all.contains("not below it") && all.contains("implements ReadGrant outside haven-governance"), "{all}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tidy_catches_fault_injection_outside_tests() {
        // Enabled from a normal dependency, by default, or through a feature.
        let bad = "[dependencies]\nhaven-store = { workspace = true, features = [\"fault-injection\"] }\n[features]\ndefault = [\"fault-injection\"]\nfault-injection = []\n";
        assert_eq!(fault_injection_in_manifest("Cargo.toml", bad).len(), 2);
        let good = "[features]\nfault-injection = []\n[dev-dependencies]\nhaven-store = { workspace = true, features = [\"fault-injection\"] }\n";
        assert!(fault_injection_in_manifest("Cargo.toml", good).is_empty());
        let target = "[target.'cfg(unix)'.dependencies]\nhaven-store = { features = [\"fault-injection\"] }\n";
        assert_eq!(fault_injection_in_manifest("Cargo.toml", target).len(), 1);
        // The variable read elsewhere, and the module used without its cfg.
        let src = Path::new("crates/haven-store/src/load.rs");
        assert_eq!(fault_injection_in_source("haven-store", src, "//! x\nfn f() { std::env::var(\"HAVEN_CRASH_AT\"); }\n").len(), 1);
        assert_eq!(fault_injection_in_source("haven-store", src, "//! x\nuse crate::fault::crash_point;\n").len(), 1);
        let gated = "//! x\n#[cfg(feature = \"fault-injection\")]\nuse crate::fault::crash_point;\n";
        assert!(fault_injection_in_source("haven-store", src, gated).is_empty());
    }

    #[test]
    fn tidy_catches_a_committed_key() {
        let paths = ["crates/haven/haven-data.keys/audit.key", "x.keys/zone-pseudonymised", "a/b/audit.key", "crates/haven/src/keys.rs"].map(String::from);
        let found = secrets_in(&paths);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(!found.iter().any(|f| f.contains("keys.rs")));
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("haven-tidy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }
}

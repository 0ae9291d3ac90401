//! Tidy rules, after rust-analyzer's `xtask/src/tidy.rs`:
//! * every Rust module starts with a `//!` doc comment;
//! * library crates contain no `println!`, `eprintln!` or `dbg!` (output is
//!   the binary's business, and stray prints can leak patient data);
//! * `ARCHITECTURE.md` mentions every crate under `crates/`;
//! * layering: each crate depends only on crates below it (DESIGN.md §3).

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
    ("haven", &["haven-model", "haven-synth", "haven-store", "haven-ingest", "haven-governance", "haven-analytics"]),
];

pub fn check(root: &Path) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let crates = root.join("crates");
    let arch = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    for entry in std::fs::read_dir(&crates).expect("crates/ exists") {
        let dir = entry.expect("readable").path();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if !arch.contains(&format!("`{name}`")) {
            problems.push(format!("ARCHITECTURE.md does not mention crate `{name}`"));
        }
        check_layering(&dir, &name, &mut problems);
        let is_lib = dir.join("src/lib.rs").exists();
        check_grant_implementors(&dir, &name, &mut problems);
        for file in rust_files(&dir.join("src")) {
            let text = std::fs::read_to_string(&file).expect("readable source");
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
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
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
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
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

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("haven-tidy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }
}

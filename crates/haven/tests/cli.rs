//! End-to-end tests of the `haven` binary as a user runs it.

use std::process::Command;

fn haven() -> Command {
    Command::new(env!("CARGO_BIN_EXE_haven"))
}

#[test]
fn synth_writes_the_files_its_manifest_lists() {
    let dir = tempfile::tempdir().unwrap();
    let out = haven().args(["synth", "--scale", "small", "--json", "--out"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = manifest["files"].as_object().unwrap();
    assert!(files.len() >= 25);
    for (name, rows) in files {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        // Header plus one line per row.
        assert_eq!(text.lines().count() as u64, rows.as_u64().unwrap() + 1, "{name}");
    }
    let on_disk: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(on_disk["config"]["seed"], 42);
}

#[test]
fn bad_arguments_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = haven().args(["synth", "--scale", "huge", "--out"]).arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scale must be small, icb, quarter or national"));
    let out = haven().args(["synth", "--icb", "QZZ", "--out"]).arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown ICB code QZZ"));
}

//! `cargo xtask test`: the README's test command. Installs or checks what the
//! test suite needs on a fresh machine, then runs every test.
//!
//! Why a task rather than a bare `cargo nextest run`: the suite needs tools
//! that are not Cargo dependencies (nextest itself, DuckDB's Python package
//! for the catalogue bench's agreement test, util-linux's `setpriv` for the
//! tests that drop root, Debian's Chromium and chromedriver for haven-server's
//! browser tests), and a new user who runs the bare command sees one missing
//! tool stop nextest at the first failure. Later requirements (PostgreSQL, …)
//! are added to [`REQUIREMENTS`], so CI (`.ci/run`) and the README keep
//! calling exactly this one command.

use std::process::{Command, ExitCode, Stdio};

/// One thing the tests need: how to tell it is there, and how to install it.
struct Requirement {
    /// What it is, for messages.
    what: &'static str,
    /// A command that succeeds when it is present.
    check: &'static [&'static str],
    /// Commands tried in order until one succeeds.
    install: &'static [&'static [&'static str]],
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        what: "openssl and curl (the server's TLS test makes a certificate and calls it)",
        check: &["sh", "-c", "openssl version && curl --version"],
        install: &[
            &["sh", "-c", "apt-get update -qq && apt-get install -y -qq openssl curl"],
            &["sh", "-c", "sudo apt-get update -qq && sudo apt-get install -y -qq openssl curl"],
        ],
    },
    Requirement {
        what: "cargo-nextest (the test runner)",
        check: &["cargo", "nextest", "--version"],
        install: &[&["cargo", "install", "cargo-nextest", "--locked"]],
    },
    Requirement {
        what: "DuckDB's Python package (the catalogue bench's agreement test)",
        check: &["python3", "-c", "import duckdb"],
        install: &[&["python3", "-m", "pip", "install", "--quiet", "duckdb"]],
    },
    Requirement {
        what: "util-linux's setpriv (tests that drop root to another uid)",
        check: &["setpriv", "--version"],
        install: &[
            &["sh", "-c", "apt-get update -qq && apt-get install -y -qq util-linux"],
            &["sh", "-c", "sudo apt-get update -qq && sudo apt-get install -y -qq util-linux"],
        ],
    },
    Requirement {
        what: "Debian's chromium (haven-server's headless browser tests)",
        check: &["chromium", "--version"],
        install: &[
            &["sh", "-c", "apt-get update -qq && apt-get install -y -qq chromium chromium-driver"],
            &["sh", "-c", "sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver"],
        ],
    },
    Requirement {
        what: "Debian's chromium-driver (chromedriver, which drives chromium in the browser tests)",
        check: &["chromedriver", "--version"],
        install: &[
            &["sh", "-c", "apt-get update -qq && apt-get install -y -qq chromium chromium-driver"],
            &["sh", "-c", "sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver"],
        ],
    },
];

fn succeeds(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Checks each requirement, installing what is missing; the names of those
/// that could not be installed.
fn ensure_requirements() -> Vec<&'static str> {
    let mut missing = Vec::new();
    for r in REQUIREMENTS {
        if succeeds(r.check) {
            continue;
        }
        eprintln!("xtask test: installing {}", r.what);
        let installed = r.install.iter().any(|argv| {
            Command::new(argv[0]).args(&argv[1..]).status().is_ok_and(|s| s.success())
        });
        if !installed || !succeeds(r.check) {
            missing.push(r.what);
        }
    }
    missing
}

/// Runs the whole suite; `extra` goes to nextest (e.g. a filter).
pub fn run(extra: &[String]) -> ExitCode {
    let missing = ensure_requirements();
    if !missing.is_empty() {
        for m in &missing {
            eprintln!("xtask test: could not install {m}; install it and run again");
        }
        return ExitCode::FAILURE;
    }
    // --no-fail-fast: one failing test must not hide the state of the others.
    let status = Command::new("cargo")
        .args(["nextest", "run", "--workspace", "--all-targets", "--no-fail-fast"])
        .args(extra)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask test: could not start cargo nextest: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_requirement_can_be_checked_and_installed() {
        for r in REQUIREMENTS {
            assert!(!r.check.is_empty(), "{} has no check", r.what);
            assert!(!r.install.is_empty() && r.install.iter().all(|c| !c.is_empty()), "{} has no install", r.what);
        }
    }

    #[test]
    fn ci_runs_exactly_the_readme_test_command() {
        let root = crate::tidy::workspace_root();
        let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let last = ci.lines().rev().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).unwrap().trim();
        assert_eq!(last, "cargo xtask test", ".ci/run must end with the README's test command");
        assert!(readme.contains("cargo xtask test"), "README must give `cargo xtask test`");
    }
}

//! The `haven` command: parses arguments and hands over to [`commands`].

mod access;
mod analytics;
mod bench;
mod bench_iv;
mod bench_risk;
mod bench_serve;
mod cli;
mod commands;
mod demo_web;
mod finance;
mod governance;
mod ingest;
mod risk;
mod serve;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Before anything is created: every file Haven writes (zones, catalog,
    // quarantine, outputs, certificates, the audit head, keys) is then
    // owner-only (0600, folders 0700) whatever the caller's umask is, so no
    // code path can forget it (issue 14 §10).
    // SAFETY: umask(2) only sets this process's file-creation mask; it
    // cannot fail and touches no memory, and no other thread exists yet.
    let _previous = unsafe { libc::umask(0o077) };
    commands::run(cli::Cli::parse())
}

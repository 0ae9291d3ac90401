//! The `haven` command: parses arguments and hands over to [`commands`].

mod access;
mod analytics;
mod bench;
mod cli;
mod commands;
mod governance;
mod ingest;

use clap::Parser;

fn main() -> std::process::ExitCode {
    commands::run(cli::Cli::parse())
}

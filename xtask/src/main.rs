//! Development chores for the Haven workspace.
//!
//! `cargo xtask tidy` checks the rules that keep the codebase legible (the
//! same checks run as tests, `cargo nextest run -p xtask`); `cargo xtask test`
//! is the README's test command: it installs or checks what the tests need,
//! then runs them all; `cargo xtask frontend` vendors the NHS.UK frontend and
//! axe-core from npm at their pinned versions.

mod frontend;
mod test;
mod tidy;

fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("tidy") => match tidy::check(&tidy::workspace_root()) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(problems) => {
                for p in problems {
                    eprintln!("{p}");
                }
                std::process::ExitCode::FAILURE
            }
        },
        Some("test") => test::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        Some("frontend") => frontend::run(&tidy::workspace_root()),
        _ => {
            eprintln!("usage: cargo xtask tidy | cargo xtask test [NEXTEST ARGS] | cargo xtask frontend");
            std::process::ExitCode::FAILURE
        }
    }
}

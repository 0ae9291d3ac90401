//! Development chores for the Haven workspace.
//!
//! `cargo run -p xtask -- tidy` checks the rules that keep the codebase
//! legible; the same checks run as tests (`cargo nextest run -p xtask`).

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
        _ => {
            eprintln!("usage: cargo run -p xtask -- tidy");
            std::process::ExitCode::FAILURE
        }
    }
}

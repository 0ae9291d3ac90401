//! Who may run which command: the command × role × purpose table of
//! issue 4 §2, enforced before any command runs.
//!
//! Every action runs as (user, role, purpose) under one Data Sharing
//! Agreement in force (DESIGN.md §1). A person signs in with `haven login`
//! and passes the token in `HAVEN_SESSION`; [`authorize`] verifies it (a
//! forged, foreign, expired, signed-out or stale token is refused) and
//! checks the table. Refusals exit with status 3 and are audited.
//!
//! Three commands touch no governed data and need no sign-in: `synth`
//! writes synthetic files, `dsa list|show|check` read the imported agreements
//! (their facts are public register entries; only an administrator's
//! `dsa import` changes them), and `bench` works in a scratch data
//! directory that it made and deletes. Two bootstrap cases need none either,
//! on a data directory that has never been used (no load, user, audit entry
//! or audit head: `haven_governance::bootstrap::is_fresh`): adding the first
//! administrator, and the demo.

use haven_governance::session::Session;

use crate::cli::{
    AuditCommand, BenchCommand, ChallengesCommand, Cli, Command, DsaCommand, IndicatorsCommand, IvCommand, KeysCommand, RiskCommand, OutputsCommand, RetentionCommand,
    UsersCommand,
};

pub use haven_app::operation::Need;

/// The table's name for a parsed command (its subcommand path).
pub fn path(command: &Command) -> &'static str {
    match command {
        Command::Synth(_) => "synth",
        Command::Demo(_) => "demo",
        Command::Ingest(_) => "ingest",
        Command::Keys { what: KeysCommand::Init } => "keys init",
        Command::Keys { what: KeysCommand::List } => "keys list",
        Command::Keys { what: KeysCommand::Rotate { .. } } => "keys rotate",
        Command::Loads(_) => "loads",
        Command::Dq(_) => "dq",
        Command::Users { what: UsersCommand::Add { .. } } => "users add",
        Command::Users { what: UsersCommand::List } => "users list",
        Command::Users { what: UsersCommand::Disable { .. } } => "users disable",
        Command::Users { what: UsersCommand::Mfa { .. } } => "users mfa",
        Command::Users { what: UsersCommand::Unlock { .. } } => "users unlock",
        Command::Login(_) => "login",
        Command::Logout => "logout",
        Command::Whoami => "whoami",
        Command::Dsa { what: DsaCommand::List } => "dsa list",
        Command::Dsa { what: DsaCommand::Show { .. } } => "dsa show",
        Command::Dsa { what: DsaCommand::Check { .. } } => "dsa check",
        Command::Dsa { what: DsaCommand::Import { .. } } => "dsa import",
        Command::Outputs { what: OutputsCommand::Submit { .. } } => "outputs submit",
        Command::Outputs { what: OutputsCommand::List } => "outputs list",
        Command::Outputs { what: OutputsCommand::Show { .. } } => "outputs show",
        Command::Outputs { what: OutputsCommand::Approve { .. } } => "outputs approve",
        Command::Outputs { what: OutputsCommand::Reject { .. } } => "outputs reject",
        Command::Outputs { what: OutputsCommand::Export { .. } } => "outputs export",
        Command::Audit { what: AuditCommand::Verify { .. } } => "audit verify",
        Command::Audit { what: AuditCommand::Checkpoint } => "audit checkpoint",
        Command::Audit { what: AuditCommand::Export { .. } } => "audit export",
        Command::Retention { what: RetentionCommand::Apply(_) } => "retention apply",
        Command::Retention { what: RetentionCommand::Certificates } => "retention certificates",
        Command::Indicators { what: IndicatorsCommand::List } => "indicators list",
        Command::Indicators { what: IndicatorsCommand::Show { .. } } => "indicators show",
        Command::Indicators { what: IndicatorsCommand::Run(_) } => "indicators run",
        Command::Benchmark(_) => "benchmark",
        Command::Iv { what: IvCommand::Run(_) } => "iv run",
        Command::Risk { what: RiskCommand::Run(_) } => "risk run",
        Command::Risk { what: RiskCommand::List { .. } } => "risk list",
        Command::Risk { what: RiskCommand::Patient { .. } } => "risk patient",
        Command::Iv { what: IvCommand::Reasons } => "iv reasons",
        Command::Iv { what: IvCommand::Challenges { what: ChallengesCommand::List { .. } } } => "iv challenges list",
        Command::Iv { what: IvCommand::Challenges { what: ChallengesCommand::Show { .. } } } => "iv challenges show",
        Command::Iv { what: IvCommand::Challenges { what: ChallengesCommand::Update { .. } } } => "iv challenges update",
        Command::Iv { what: IvCommand::ImportResponses { .. } } => "iv import-responses",
        Command::Iv { what: IvCommand::Report { .. } } => "iv report",
        Command::Serve(_) => "serve",
        Command::Bench { what: BenchCommand::Synth(_) } => "bench synth",
        Command::Bench { what: BenchCommand::Ingest(_) } => "bench ingest",
        Command::Bench { what: BenchCommand::Catalogue(_) } => "bench catalogue",
        Command::Bench { what: BenchCommand::Serve(_) } => "bench serve",
        Command::Bench { what: BenchCommand::Iv(_) } => "bench iv",
        Command::Bench { what: BenchCommand::Risk(_) } => "bench risk",
    }
}

/// What the table (`haven_app::operation::TABLE`, shared with the
/// server's routes) says for a command.
pub fn need(path: &str) -> Option<Need> {
    haven_app::operation::for_command(path).map(|o| o.need)
}

/// Why a command may not run.
#[derive(Debug, thiserror::Error)]
#[error("refused: {0}")]
pub struct Refusal(pub String);

/// Whether the table allows `session` (or no session) to run `path`,
/// leaving the agreement check to [`check_agreement`].
pub fn allows(path: &str, session: Option<&Session>) -> Result<(), Refusal> {
    let op = haven_app::operation::for_command(path).ok_or_else(|| Refusal(format!("`haven {path}` is not in the access table")))?;
    haven_app::operation::allows(op, &format!("`haven {path}`"), session).map_err(app_refusal)
}

/// The agreement a signed-in command runs under must be in force today and
/// allow the session's role (for its purpose, or for any purpose), as the
/// latest intact version in the registry says.
pub fn check_agreement(cli: &Cli, path: &str, s: &Session) -> Result<(), Refusal> {
    let Some(op) = haven_app::operation::for_command(path) else { return Ok(()) };
    crate::governance::app(cli).check_agreement(op, s).map_err(app_refusal)
}

/// An application-layer refusal as an access refusal, without saying
/// "refused" twice, and with the CLI's hint on how to sign in.
fn app_refusal(e: haven_app::AppError) -> Refusal {
    let text = e.to_string();
    let text = text.trim_start_matches("refused: ");
    let text = text.replace("needs a sign-in", "needs a sign-in (`haven login`, then set HAVEN_SESSION)").replace("sign in with one", "sign in with --dsa");
    Refusal(text)
}

/// The verified session from `HAVEN_SESSION`, if one is presented.
pub fn session(cli: &Cli) -> Result<Option<Session>, Refusal> {
    let Some(token) = cli.session.as_deref().filter(|t| !t.is_empty()) else { return Ok(None) };
    crate::governance::app(cli).verify(token).map(Some).map_err(app_refusal)
}

/// Bootstrap: a data directory that has never been used lets the first
/// administrator be added, and lets the demo run, without a sign-in; a
/// store the demo made (marked synthetic) lets the demo run again. "No
/// users" is not enough (emptying the users table would re-open both); a
/// directory that cannot be read counts as used.
pub fn bootstrap(cli: &Cli) -> bool {
    let demo_again = matches!(cli.command, Command::Demo(_)) && crate::commands::is_demo_store(&cli.data_dir);
    bootstrap_command(cli) && (demo_again || haven_governance::bootstrap::is_fresh(&cli.data_dir).unwrap_or(false))
}

/// The commands the bootstrap may run unsigned: the first administrator,
/// and the demo.
fn bootstrap_command(cli: &Cli) -> bool {
    match &cli.command {
        Command::Users { what: UsersCommand::Add { role, .. } } => role == "admin",
        Command::Demo(_) => true,
        _ => false,
    }
}

/// Checks the command against the table; the caller audits a refusal.
pub fn authorize(cli: &Cli) -> Result<Option<Session>, Refusal> {
    let path = path(&cli.command);
    if need(path) == Some(Need::Open) {
        return Ok(None);
    }
    let session = session(cli)?;
    if session.is_none() && bootstrap_command(cli) {
        if bootstrap(cli) {
            return Ok(None);
        }
        return Err(Refusal(format!(
            "`haven {path}` needs a sign-in: the unsigned first administrator and demo are only for a data directory that has never been used (no load, user or audit entry) or, for the demo, one the demo made; {} is neither",
            cli.data_dir.display()
        )));
    }
    allows(path, session.as_ref())?;
    if let Some(s) = &session {
        check_agreement(cli, path, s)?;
    }
    Ok(session)
}

#[cfg(test)]
mod tests {
    // The table's own rules (roles without patient data, purposes) are
    // tested beside it in haven-app; this checks the CLI's side of it.
    use clap::CommandFactory;

    use super::*;

    fn leaves(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        let subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|c| c.get_name() != "help").collect();
        if subs.is_empty() {
            out.push(prefix.trim().to_owned());
        }
        for s in subs {
            leaves(s, &format!("{prefix} {}", s.get_name()), out);
        }
    }

    #[test]
    fn the_table_names_every_command_once() {
        let mut all = Vec::new();
        leaves(&Cli::command(), "", &mut all);
        let mut table: Vec<String> = haven_app::operation::TABLE.iter().flat_map(|o| o.commands.iter().map(|c| (*c).to_owned())).collect();
        table.sort();
        let before = table.len();
        table.dedup();
        assert_eq!(before, table.len(), "a command is listed twice");
        all.sort();
        assert_eq!(all, table);
    }
}

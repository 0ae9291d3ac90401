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

use haven_governance::dsa::{Purpose, Role};
use haven_governance::session::{Session, SessionKey, Sessions};
use haven_governance::users::Users;

use crate::cli::{
    AuditCommand, BenchCommand, Cli, Command, DsaCommand, IndicatorsCommand, KeysCommand, OutputsCommand, RetentionCommand, UsersCommand,
};

/// What a command needs before it may run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Need {
    /// No sign-in: the command reads or writes no governed data.
    Open,
    /// A session in one of `roles`, with a purpose as `purpose` says.
    Signed { roles: &'static [Role], purpose: PurposeNeed },
}

/// How a command is bound to a purpose.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PurposeNeed {
    /// Administration, audit and lineage: no patient data, no purpose.
    None,
    /// Work for the agreement as a whole (the DSCRO stage prepares data
    /// for all of its purposes): the session names an agreement in force
    /// that allows the role under at least one purpose.
    Agreement,
    /// One of these purposes, under an agreement in force that covers it
    /// and allows the role.
    OneOf(&'static [Purpose]),
}

use Purpose as P;
use PurposeNeed as N;
use Role as R;

const fn signed(roles: &'static [Role], purpose: PurposeNeed) -> Need {
    Need::Signed { roles, purpose }
}

/// The table. A command missing here fails the test that walks every
/// subcommand clap knows.
pub const TABLE: &[(&str, Need)] = &[
    ("synth", Need::Open),
    ("demo", signed(&[R::Admin], N::None)),
    ("ingest", signed(&[R::Dscro], N::Agreement)),
    ("keys init", signed(&[R::Dscro, R::Admin], N::None)),
    ("keys list", signed(&[R::Dscro, R::Admin, R::Auditor], N::None)),
    ("keys rotate", signed(&[R::Dscro, R::Admin], N::None)),
    ("loads", signed(&[R::Dscro, R::Analyst, R::Auditor, R::Admin], N::None)),
    ("dq", signed(&[R::Dscro, R::Analyst, R::Auditor], N::None)),
    ("users add", signed(&[R::Admin], N::None)),
    ("users list", signed(&[R::Admin, R::Auditor], N::None)),
    ("users disable", signed(&[R::Admin], N::None)),
    ("users mfa", signed(&[R::Admin], N::None)),
    ("users unlock", signed(&[R::Admin], N::None)),
    ("login", Need::Open),
    ("logout", Need::Open),
    ("whoami", Need::Open),
    ("dsa list", Need::Open),
    ("dsa show", Need::Open),
    ("dsa check", Need::Open),
    ("dsa import", signed(&[R::Admin], N::None)),
    ("outputs submit", signed(&[R::Analyst], N::OneOf(&[P::Commissioning, P::RiskStratification, P::PopulationHealthBenchmarking]))),
    ("outputs list", signed(&[R::Analyst, R::Auditor], N::None)),
    ("outputs show", signed(&[R::Analyst, R::Auditor], N::None)),
    ("outputs approve", signed(&[R::Analyst, R::Auditor], N::None)),
    ("outputs reject", signed(&[R::Analyst, R::Auditor], N::None)),
    ("outputs export", signed(&[R::Analyst, R::Viewer], N::None)),
    ("audit verify", signed(&[R::Auditor, R::Admin], N::None)),
    ("audit checkpoint", signed(&[R::Auditor, R::Admin], N::None)),
    ("audit export", signed(&[R::Auditor], N::None)),
    ("retention apply", signed(&[R::Dscro, R::Admin], N::None)),
    ("retention certificates", signed(&[R::Dscro, R::Auditor, R::Admin], N::None)),
    ("indicators list", Need::Open),
    ("indicators show", Need::Open),
    ("indicators run", signed(&[R::Analyst], N::OneOf(&[P::Commissioning]))),
    // The national extract opens only under the benchmarking purpose.
    ("benchmark", signed(&[R::Analyst], N::OneOf(&[P::PopulationHealthBenchmarking]))),
    ("bench synth", Need::Open),
    ("bench ingest", Need::Open),
    ("bench catalogue", Need::Open),
];

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
        Command::Bench { what: BenchCommand::Synth(_) } => "bench synth",
        Command::Bench { what: BenchCommand::Ingest(_) } => "bench ingest",
        Command::Bench { what: BenchCommand::Catalogue(_) } => "bench catalogue",
    }
}

/// What the table says for a command.
pub fn need(path: &str) -> Option<Need> {
    TABLE.iter().find(|(p, _)| *p == path).map(|(_, n)| *n)
}

/// Why a command may not run.
#[derive(Debug, thiserror::Error)]
#[error("refused: {0}")]
pub struct Refusal(pub String);

/// Whether the table allows `session` (or no session) to run `path`,
/// leaving the agreement check to [`check_agreement`].
pub fn allows(path: &str, session: Option<&Session>) -> Result<(), Refusal> {
    let need = need(path).ok_or_else(|| Refusal(format!("`haven {path}` is not in the access table")))?;
    let Need::Signed { roles, purpose } = need else { return Ok(()) };
    let Some(s) = session else {
        return Err(Refusal(format!("`haven {path}` needs a sign-in (`haven login`, then set HAVEN_SESSION)")));
    };
    if !roles.contains(&s.role) {
        let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
        return Err(Refusal(format!("`haven {path}` is for {}; {} is signed in as {}", names.join(", "), s.user, s.role)));
    }
    match purpose {
        PurposeNeed::None => Ok(()),
        PurposeNeed::Agreement if s.dsa.is_some() => Ok(()),
        PurposeNeed::Agreement => Err(Refusal(format!("`haven {path}` runs under a Data Sharing Agreement: sign in with --dsa"))),
        PurposeNeed::OneOf(ps) => match s.purpose {
            Some(p) if ps.contains(&p) => Ok(()),
            other => {
                let names: Vec<&str> = ps.iter().map(|p| p.name()).collect();
                let had = other.map_or("no purpose".to_owned(), |p| format!("purpose {p}"));
                Err(Refusal(format!("`haven {path}` is for purposes {}; the session has {had}", names.join(", "))))
            }
        },
    }
}

/// The agreement a signed-in command runs under must be in force today and
/// allow the session's role (for its purpose, or for any purpose), as the
/// latest intact version in the registry says.
pub fn check_agreement(cli: &Cli, path: &str, s: &Session) -> Result<(), Refusal> {
    let Some(Need::Signed { purpose, .. }) = need(path) else { return Ok(()) };
    if purpose == PurposeNeed::None {
        return Ok(());
    }
    let id = s.dsa.as_deref().ok_or_else(|| Refusal("the session names no agreement".into()))?;
    let dsa = crate::governance::find_dsa(cli, id).map_err(|e| Refusal(format!("{e:#}")))?;
    let today = crate::governance::today();
    let result = match s.purpose {
        Some(p) => dsa.check(today, p, s.role).map(|_| ()),
        None => dsa.in_force(today).and_then(|()| {
            if dsa.purposes.iter().any(|t| t.roles.contains(&s.role)) {
                Ok(())
            } else {
                Err(haven_governance::GovernanceError::Refused(format!("DSA {id} allows role {} no purpose", s.role)))
            }
        }),
    };
    result.map_err(refusal)
}

/// A governance refusal as an access refusal, without saying "refused" twice.
fn refusal(e: haven_governance::GovernanceError) -> Refusal {
    Refusal(e.to_string().trim_start_matches("refused: ").to_owned())
}

/// The verified session from `HAVEN_SESSION`, if one is presented.
pub fn session(cli: &Cli) -> Result<Option<Session>, Refusal> {
    let Some(token) = cli.session.as_deref().filter(|t| !t.is_empty()) else { return Ok(None) };
    let key = SessionKey::load(&crate::ingest::keys_dir(cli)).map_err(refusal)?;
    let users = Users::open(&cli.data_dir).map_err(refusal)?;
    let sessions = Sessions::open(&cli.data_dir).map_err(refusal)?;
    sessions.verify(&users, &key, token, haven_governance::session::now()).map(Some).map_err(refusal)
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
        let mut table: Vec<String> = TABLE.iter().map(|(p, _)| (*p).to_owned()).collect();
        table.sort();
        let before = table.len();
        table.dedup();
        assert_eq!(before, table.len(), "a command is listed twice");
        all.sort();
        assert_eq!(all, table);
    }

    #[test]
    fn roles_without_patient_data_never_run_data_commands() {
        // DESIGN.md §1: viewers, auditors and administrators see no patient
        // data, so none of them may load data or submit outputs built on it.
        for path in ["ingest", "outputs submit"] {
            let Some(Need::Signed { roles, .. }) = need(path) else { panic!("{path} must need a sign-in") };
            for r in [Role::Viewer, Role::Auditor, Role::Admin] {
                assert!(!roles.contains(&r), "{r} may run {path}");
            }
        }
        // Only administrators manage users; only auditors export the audit log.
        assert!(matches!(need("users add"), Some(Need::Signed { roles: [Role::Admin], .. })));
        assert!(matches!(need("audit export"), Some(Need::Signed { roles: [Role::Auditor], .. })));
    }

    #[test]
    fn a_session_must_carry_the_purpose_a_command_is_for() {
        let s = |role, purpose, dsa: Option<&str>| Session {
            user: "u".into(),
            role,
            purpose,
            dsa: dsa.map(str::to_owned),
            practice: None,
            expires_at: 0,
        };
        let demo = Some("DSA-HAVEN-DEMO");
        assert!(allows("outputs submit", Some(&s(Role::Analyst, Some(Purpose::Commissioning), demo))).is_ok());
        let e = allows("outputs submit", Some(&s(Role::Analyst, Some(Purpose::DirectCare), demo))).unwrap_err().to_string();
        assert!(e.contains("the session has purpose direct_care"), "{e}");
        assert!(allows("outputs submit", Some(&s(Role::Analyst, None, None))).unwrap_err().to_string().contains("no purpose"));
        assert!(allows("ingest", Some(&s(Role::Dscro, None, None))).unwrap_err().to_string().contains("sign in with --dsa"));
        assert!(allows("ingest", Some(&s(Role::Dscro, None, demo))).is_ok());
        assert!(allows("ingest", None).unwrap_err().to_string().contains("needs a sign-in"));
        assert!(allows("synth", None).is_ok());
        assert!(allows("no such command", None).is_err());
    }
}

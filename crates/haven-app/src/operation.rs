//! Who may do what: the one operation × role × purpose table that covers
//! every CLI command and every route of the server (issue 4 §2, issue 16
//! §1). A face looks its command or route up here before anything runs;
//! the CLI's test walks every subcommand clap knows and the server's test
//! walks every route it serves against this table.
//!
//! Every action runs as (user, role, purpose) under one Data Sharing
//! Agreement in force (DESIGN.md §1). Open operations touch no governed
//! data: `synth` writes synthetic files, `dsa list|show|check` read public
//! register facts, `bench` works in a scratch store of its own, the sign-in
//! page and the API description are public.

use haven_governance::dsa::{Purpose, Role};
use haven_governance::session::Session;

use crate::AppError;

/// What an operation needs before it may run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Need {
    /// No sign-in: the operation reads or writes no governed data.
    Open,
    /// A session in one of `roles`, with a purpose as `purpose` says.
    Signed { roles: &'static [Role], purpose: PurposeNeed },
}

/// How an operation is bound to a purpose.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PurposeNeed {
    /// Administration, audit, review and lineage: no patient data.
    None,
    /// Work for the agreement as a whole (the DSCRO stage prepares data for
    /// all of its purposes): the session names an agreement in force that
    /// allows the role under at least one purpose.
    Agreement,
    /// One of these purposes, under an agreement in force that covers it
    /// and allows the role.
    OneOf(&'static [Purpose]),
}

/// One use case, as the CLI and the server expose it.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    /// Stable name, used in refusals and the audit log.
    pub name: &'static str,
    pub need: Need,
    /// The CLI subcommand paths that run it (e.g. `outputs approve`).
    pub commands: &'static [&'static str],
    /// The server routes that run it: `METHOD /path` with axum's `{param}`.
    pub routes: &'static [&'static str],
}

use Purpose as P;
use PurposeNeed as N;
use Role as R;

const fn signed(roles: &'static [Role], purpose: PurposeNeed) -> Need {
    Need::Signed { roles, purpose }
}

const fn op(name: &'static str, need: Need, commands: &'static [&'static str], routes: &'static [&'static str]) -> Operation {
    Operation { name, need, commands, routes }
}

/// Every role: pages about one's own session and tokens.
pub const ANY_ROLE: &[Role] = &[R::Dscro, R::Ceff, R::Gp, R::Analyst, R::Viewer, R::Auditor, R::Admin];

/// The purposes an analyst's held outputs are made for.
const ANALYSIS: &[Purpose] = &[P::Commissioning, P::RiskStratification, P::PopulationHealthBenchmarking];

/// The table. A command or route missing here fails the faces' tests.
pub const TABLE: &[Operation] = &[
    op("synth", Need::Open, &["synth"], &[]),
    op("demo", signed(&[R::Admin], N::None), &["demo"], &[]),
    // Starting the server exposes nothing by itself: every request it
    // answers passes this table. What protects the data is that only the
    // service account can read the data and keys folders.
    op("serve", Need::Open, &["serve"], &[]),
    op("ingest", signed(&[R::Dscro], N::Agreement), &["ingest"], &[]),
    op("keys.init", signed(&[R::Dscro, R::Admin], N::None), &["keys init"], &[]),
    op("keys.list", signed(&[R::Dscro, R::Admin, R::Auditor], N::None), &["keys list"], &[]),
    op("keys.rotate", signed(&[R::Dscro, R::Admin], N::None), &["keys rotate"], &[]),
    op("loads", signed(&[R::Dscro, R::Analyst, R::Auditor, R::Admin], N::None), &["loads"], &["GET /loads", "GET /api/loads"]),
    op("dq", signed(&[R::Dscro, R::Analyst, R::Auditor], N::None), &["dq"], &["GET /dq", "GET /api/dq"]),
    // A load's quarantine: file, line, field and reason, never a value.
    op("quarantine", signed(&[R::Dscro, R::Auditor], N::None), &[], &["GET /loads/{id}/quarantine"]),
    op("users.add", signed(&[R::Admin], N::None), &["users add"], &["POST /admin/users"]),
    op("users.list", signed(&[R::Admin, R::Auditor], N::None), &["users list"], &["GET /admin/users", "GET /api/users"]),
    op("users.disable", signed(&[R::Admin], N::None), &["users disable"], &["POST /admin/users/{name}/disable"]),
    op("users.mfa", signed(&[R::Admin], N::None), &["users mfa"], &["POST /admin/users/{name}/mfa"]),
    op("users.unlock", signed(&[R::Admin], N::None), &["users unlock"], &["POST /admin/users/{name}/unlock"]),
    op("practices", signed(&[R::Admin, R::Auditor], N::None), &[], &["GET /admin/practices"]),
    // Every user's tokens: auditors see them, administrators revoke any.
    op("tokens.all", signed(&[R::Admin, R::Auditor], N::None), &[], &["GET /admin/tokens"]),
    op("tokens.revoke_any", signed(&[R::Admin], N::None), &[], &["POST /admin/tokens/{name}/{handle}/revoke"]),
    op("sign-in", Need::Open, &["login"], &["GET /sign-in", "POST /sign-in"]),
    op("sign-out", Need::Open, &["logout"], &[]),
    op("whoami", Need::Open, &["whoami"], &[]),
    // Signed in, in any role: one's own session and personal tokens.
    op("session", signed(ANY_ROLE, N::None), &[], &["GET /", "POST /sign-out", "GET /api/whoami"]),
    op("tokens", signed(ANY_ROLE, N::None), &[], &["GET /tokens", "POST /tokens", "POST /tokens/{handle}/revoke"]),
    op("dsa.read", Need::Open, &["dsa list", "dsa show", "dsa check"], &[]),
    // The web registry shows versions and days to expiry to the roles that
    // answer for agreements.
    op("agreements", signed(&[R::Auditor, R::Admin, R::Dscro, R::Analyst], N::None), &[], &["GET /agreements", "GET /api/agreements"]),
    op("dsa.import", signed(&[R::Admin], N::None), &["dsa import"], &[]),
    op("outputs.submit", signed(&[R::Analyst], N::OneOf(ANALYSIS)), &["outputs submit"], &[]),
    op("outputs.list", signed(&[R::Analyst, R::Auditor], N::None), &["outputs list"], &["GET /outputs", "GET /api/outputs"]),
    op(
        "outputs.show",
        signed(&[R::Analyst, R::Auditor], N::None),
        &["outputs show"],
        &["GET /outputs/{id}", "GET /api/outputs/{id}", "GET /outputs/{id}/view/{name}"],
    ),
    op("outputs.review", signed(&[R::Analyst, R::Auditor], N::None), &["outputs approve", "outputs reject"], &["POST /outputs/{id}/review", "POST /api/outputs/{id}/review"]),
    // What is shown to analysts and viewers outside review: released,
    // disclosure-controlled outputs only; downloads are exports.
    op("outputs.export", signed(&[R::Analyst, R::Viewer], N::None), &["outputs export"], &["GET /released/{id}/{name}"]),
    op(
        "overview",
        signed(&[R::Analyst, R::Viewer], N::None),
        &[],
        &[
            "GET /overview",
            "GET /indicators/{id}",
            "GET /inequalities",
            "GET /benchmarking",
            "GET /areas",
            "GET /areas/{level}/{code}",
            "GET /released",
            "GET /released/{id}",
            "GET /released/{id}/chart/{name}",
            "GET /api/indicators",
            "GET /api/indicators/{id}",
            "GET /api/released",
            "GET /api/released/{id}",
        ],
    ),
    // A practice's dashboard: analysts and viewers any practice, a GP only
    // their own (`App::may_see_practice`; the agreements ask for
    // practice-level dashboards).
    op("practice.dashboard", signed(&[R::Analyst, R::Viewer, R::Gp], N::None), &[], &["GET /practices/{code}", "GET /api/practices/{code}"]),
    op("audit.verify", signed(&[R::Auditor, R::Admin], N::None), &["audit verify"], &["GET /audit", "GET /api/audit"]),
    op("audit.checkpoint", signed(&[R::Auditor, R::Admin], N::None), &["audit checkpoint"], &["POST /audit/checkpoint"]),
    op("audit.export", signed(&[R::Auditor], N::None), &["audit export"], &["GET /audit/export.csv"]),
    op("retention.apply", signed(&[R::Dscro, R::Admin], N::None), &["retention apply"], &[]),
    op("retention.certificates", signed(&[R::Dscro, R::Auditor, R::Admin], N::None), &["retention certificates"], &["GET /retention"]),
    op("indicators.read", Need::Open, &["indicators list", "indicators show"], &[]),
    op("analyses", signed(&[R::Analyst], N::OneOf(ANALYSIS)), &[], &["GET /analyses"]),
    // Queued analyses and validation runs: each user sees only their own
    // (`App::job` refuses anyone else's).
    op("jobs", signed(&[R::Analyst, R::Ceff], N::None), &[], &["GET /jobs/{id}", "GET /api/jobs", "GET /api/jobs/{id}"]),
    op("indicators.run", signed(&[R::Analyst], N::OneOf(&[P::Commissioning])), &["indicators run"], &["POST /analyses/indicators", "POST /api/analyses/indicators"]),
    // The national extract opens only under the benchmarking purpose.
    op("benchmark", signed(&[R::Analyst], N::OneOf(&[P::PopulationHealthBenchmarking])), &["benchmark"], &["POST /analyses/benchmark", "POST /api/analyses/benchmark"]),
    // Invoice validation: the CEfF's finance validators only, under the
    // invoice-validation purpose (issue 17); the reason table is public.
    op("iv.run", signed(&[R::Ceff], N::OneOf(&[P::InvoiceValidation])), &["iv run"], &["POST /finance/run", "POST /api/finance/runs"]),
    // A run's lines are record-level CEfF data: the CEfF only.
    op(
        "iv.results",
        signed(&[R::Ceff], N::OneOf(&[P::InvoiceValidation])),
        &["iv report"],
        &[
            "GET /finance",
            "GET /finance/runs/{id}",
            "GET /finance/runs/{id}/invoices/{invoice}",
            "GET /finance/runs/{id}/reports",
            "GET /api/finance/runs",
            "GET /api/finance/runs/{id}",
            "GET /api/finance/runs/{id}/invoices/{invoice}",
        ],
    ),
    op("iv.reasons", Need::Open, &["iv reasons"], &[]),
    // Risk stratification at pseudonymised level for the ICB (issue 18 §5):
    // its tables leave only as a reviewed output.
    op("risk.run", signed(&[R::Analyst], N::OneOf(&[P::RiskStratification])), &["risk run"], &[]),
    // A GP's own currently registered patients, identifiable, for direct care.
    op("risk.list", signed(&[R::Gp], N::OneOf(&[P::DirectCare])), &["risk list"], &["GET /risk/patients"]),
    // One of those patients' encounters, each view audited.
    op("risk.patient", signed(&[R::Gp], N::OneOf(&[P::DirectCare])), &["risk patient"], &["GET /risk/patients/{nhs}"]),
    // The challenge log holds invoice and line numbers, reasons and
    // amounts, never a patient: auditors read it; validators move it on.
    op("iv.challenges", signed(&[R::Ceff, R::Auditor], N::None), &["iv challenges list", "iv challenges show"], &["GET /finance/challenges", "GET /finance/challenges/{id}", "GET /api/finance/challenges", "GET /api/finance/challenges/{id}"]),
    op("iv.challenges.update", signed(&[R::Ceff], N::OneOf(&[P::InvoiceValidation])), &["iv challenges update", "iv import-responses"], &["POST /finance/challenges/{id}", "POST /finance/responses", "POST /api/finance/challenges/{id}", "POST /api/finance/responses"]),
    op("bench", Need::Open, &["bench synth", "bench ingest", "bench catalogue", "bench serve", "bench iv", "bench risk"], &[]),
    // Public parts of the server: its style sheet and scripts, the API's
    // description, and a liveness probe for the reverse proxy.
    op("public", Need::Open, &[], &["GET /assets/{*path}", "GET /api/openapi.json", "GET /healthz"]),
];

/// The operation a CLI subcommand path runs.
pub fn for_command(path: &str) -> Option<&'static Operation> {
    TABLE.iter().find(|o| o.commands.contains(&path))
}

/// The operation a server route (`METHOD /path`) runs.
pub fn for_route(route: &str) -> Option<&'static Operation> {
    TABLE.iter().find(|o| o.routes.contains(&route))
}

/// Whether `session` (or none) may run `op`, leaving the agreement check to
/// [`crate::App::check_agreement`]. `what` names it in the refusal (the
/// command or route the user asked for).
pub fn allows(op: &Operation, what: &str, session: Option<&Session>) -> Result<(), AppError> {
    let Need::Signed { roles, purpose } = op.need else { return Ok(()) };
    let Some(s) = session else {
        return Err(AppError::Refused(format!("{what} needs a sign-in")));
    };
    if !roles.contains(&s.role) {
        let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
        return Err(AppError::Refused(format!("{what} is for {}; {} is signed in as {}", names.join(", "), s.user, s.role)));
    }
    match purpose {
        PurposeNeed::None => Ok(()),
        PurposeNeed::Agreement if s.dsa.is_some() => Ok(()),
        PurposeNeed::Agreement => Err(AppError::Refused(format!("{what} runs under a Data Sharing Agreement: sign in with one"))),
        PurposeNeed::OneOf(ps) => match s.purpose {
            Some(p) if ps.contains(&p) => Ok(()),
            other => {
                let names: Vec<&str> = ps.iter().map(|p| p.name()).collect();
                let had = other.map_or("no purpose".to_owned(), |p| format!("purpose {p}"));
                Err(AppError::Refused(format!("{what} is for purposes {}; the session has {had}", names.join(", "))))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_commands_and_routes_appear_once() {
        let mut names: Vec<&str> = TABLE.iter().map(|o| o.name).collect();
        let mut commands: Vec<&str> = TABLE.iter().flat_map(|o| o.commands.iter().copied()).collect();
        let mut routes: Vec<&str> = TABLE.iter().flat_map(|o| o.routes.iter().copied()).collect();
        for list in [&mut names, &mut commands, &mut routes] {
            let before = list.len();
            list.sort();
            list.dedup();
            assert_eq!(before, list.len(), "a name, command or route is listed twice");
        }
        for r in routes {
            let (method, path) = r.split_once(' ').expect("METHOD /path");
            assert!(matches!(method, "GET" | "POST") && path.starts_with('/'), "{r}");
        }
    }

    #[test]
    fn roles_without_patient_data_never_run_data_operations() {
        // DESIGN.md §1: viewers, auditors and administrators see no patient
        // data, so none of them may load data or submit outputs built on it.
        for name in ["ingest", "outputs.submit", "indicators.run", "benchmark", "iv.run"] {
            let o = TABLE.iter().find(|o| o.name == name).unwrap();
            let Need::Signed { roles, .. } = o.need else { panic!("{name} must need a sign-in") };
            for r in [Role::Viewer, Role::Auditor, Role::Admin] {
                assert!(!roles.contains(&r), "{r} may run {name}");
            }
        }
        // Record-level CEfF data is for the finance validators alone (issue 17).
        let Need::Signed { roles, .. } = for_command("iv run").unwrap().need else { panic!() };
        assert_eq!(roles, [Role::Ceff]);
        // Only administrators manage users; only auditors export the audit log.
        assert!(matches!(for_command("users add").unwrap().need, Need::Signed { roles: [Role::Admin], .. }));
        assert!(matches!(for_route("GET /audit/export.csv").unwrap().need, Need::Signed { roles: [Role::Auditor], .. }));
        // A viewer reaches held outputs by no route: only released ones.
        for r in ["GET /outputs", "GET /outputs/{id}", "GET /outputs/{id}/view/{name}", "POST /outputs/{id}/review"] {
            let Need::Signed { roles, .. } = for_route(r).unwrap().need else { panic!() };
            assert!(!roles.contains(&Role::Viewer), "{r}");
        }
    }

    #[test]
    fn a_session_must_carry_the_purpose_an_operation_is_for() {
        let s = |role, purpose, dsa: Option<&str>| Session { user: "u".into(), role, purpose, dsa: dsa.map(str::to_owned), practice: None, expires_at: 0 };
        let demo = Some("DSA-HAVEN-DEMO");
        let submit = for_command("outputs submit").unwrap();
        assert!(allows(submit, "x", Some(&s(Role::Analyst, Some(Purpose::Commissioning), demo))).is_ok());
        let e = allows(submit, "x", Some(&s(Role::Analyst, Some(Purpose::DirectCare), demo))).unwrap_err().to_string();
        assert!(e.contains("the session has purpose direct_care"), "{e}");
        assert!(allows(submit, "x", Some(&s(Role::Analyst, None, None))).unwrap_err().to_string().contains("no purpose"));
        let ingest = for_command("ingest").unwrap();
        assert!(allows(ingest, "x", Some(&s(Role::Dscro, None, None))).unwrap_err().to_string().contains("Data Sharing Agreement"));
        assert!(allows(ingest, "x", Some(&s(Role::Dscro, None, demo))).is_ok());
        assert!(allows(ingest, "x", None).unwrap_err().to_string().contains("needs a sign-in"));
        assert!(allows(for_command("synth").unwrap(), "x", None).is_ok());
    }
}

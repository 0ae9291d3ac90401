//! Haven's application layer (issue 16 §1): the use cases — sign in, review
//! and release outputs, audit, agreements, users and tokens — each taking an
//! authenticated [`Actor`], each audited in one place. The CLI (`haven`)
//! and the server (`haven-server`) are thin faces over it: they parse, call
//! and print or render; the rules live here and below.
//!
//! - [`operation`]: the operation × role × purpose table for every command
//!   and route.
//! - [`App`]: one data directory and its keys folder; the audit log, the
//!   agreement registry (read only through the keyed chain) and
//!   authorization.
//! - [`sign_in`]: sign-in (password, second factor, lock-out; a second
//!   factor required for remote access), sign-out and personal API tokens.
//! - [`outputs`]: held outputs for review, release, export and the released
//!   outputs that analysts and viewers see.
//! - [`analyses`]: the indicator catalogue and the benchmark, run for an
//!   analyst and held for review.
//! - [`insight`]: the released indicators and benchmark as the pages show
//!   them (headline, indicator, inequalities, benchmarking, drill-down,
//!   practice dashboard).
//! - [`finance`]: invoice validation for the CEfF (issue 17), its per-line
//!   outcomes kept inside the CEfF.
//! - [`risk`]: risk stratification (issue 18): scores, the evaluated
//!   emergency-admission model and cohorts, held for review.
//! - [`admin`]: users, second factors and lock-outs; the audit log's
//!   verification, checkpoints and entries.

use std::path::{Path, PathBuf};

use haven_governance::audit::{AuditLog, Event};
use haven_governance::dsa::Dsa;
use haven_governance::registry::{Agreement, Registry};
use haven_governance::session::{Session, SessionKey, Sessions};
use haven_governance::users::Users;
use haven_model::Date;

mod actor;
pub mod dscro;
pub mod analyses;
pub mod admin;
mod error;
pub mod finance;
pub mod insight;
pub mod iv_results;
pub mod jobs;
pub mod operation;
pub mod outputs;
pub mod risk;
pub mod sign_in;

pub use actor::Actor;
pub use error::AppError;
pub use operation::{Need, Operation, PurposeNeed};

/// The catalog setting that marks a store the demo made ([`App::is_demo_store`]).
pub const DEMO_STORE: &str = "demo_store";
/// The audit action that attests the demo store's mark.
pub const DEMO_STORE_ACTION: &str = "demo.store";

/// Today's date (UTC).
pub fn today() -> Date {
    Date::from_days((haven_governance::session::now() / 86_400) as i32)
}

/// One Haven deployment: its data directory and its keys folder (outside
/// it). Cheap to make; every use case opens what it needs, so a server
/// shares one `App` across requests and a command makes one per run.
#[derive(Clone, Debug)]
pub struct App {
    data: PathBuf,
    keys: PathBuf,
    /// Released outputs read for the pages, shared by clones.
    cache: std::sync::Arc<insight::Cache>,
    /// Analyses queued by the web app and the API, shared by clones.
    jobs: std::sync::Arc<jobs::Jobs>,
    /// The session key, read from the keys folder once (a server signs
    /// and checks every request with it; it never changes while it runs).
    session_key: std::sync::Arc<std::sync::OnceLock<SessionKey>>,
    /// Agreement versions (id, SHA-256) whose import was found in the keyed
    /// audit chain. The chain is append-only, so an import once found stays
    /// found; a changed text has another SHA-256 and is checked afresh.
    attested: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<(String, String)>>>,
}

impl App {
    pub fn new(data_dir: impl Into<PathBuf>, keys_dir: impl Into<PathBuf>) -> App {
        App {
            data: data_dir.into(),
            keys: keys_dir.into(),
            cache: Default::default(),
            jobs: Default::default(),
            session_key: Default::default(),
            attested: Default::default(),
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The keys folder.
    pub fn keys_dir(&self) -> &Path {
        &self.keys
    }

    /// The audit log, keyed by the audit key in the keys folder.
    pub fn audit_log(&self) -> Result<AuditLog, AppError> {
        Ok(AuditLog::open(&self.data, &self.keys)?)
    }

    /// Appends one event to the audit log.
    pub fn audit(&self, event: Event) -> Result<(), AppError> {
        self.audit_log()?.append(event)?;
        Ok(())
    }

    /// The latest intact version of agreement `id`: the one source every
    /// check reads (never a file). The registry checks the text against its
    /// stored SHA-256, but both sit in the database; the import's audit
    /// entry, MAC'd under the audit key, is what someone with write access
    /// to the database cannot forge.
    pub fn agreement(&self, id: &str) -> Result<Agreement, AppError> {
        let agreement = Registry::open(&self.data)?.get(id)?;
        let sha256 = &agreement.version.sha256;
        let key = (id.to_owned(), sha256.clone());
        if self.attested.lock().is_ok_and(|a| a.contains(&key)) {
            return Ok(agreement);
        }
        if !self.audit_log()?.attests("dsa.import", id, sha256)? {
            return Err(AppError::Refused(format!(
                "DSA {id} version {} has no audited import of its text (SHA-256 {sha256}); it was changed outside Haven",
                agreement.version.version
            )));
        }
        if let Ok(mut a) = self.attested.lock() {
            a.insert(key);
        }
        Ok(agreement)
    }

    /// The terms of agreement `id` (see [`App::agreement`]).
    pub fn dsa(&self, id: &str) -> Result<Dsa, AppError> {
        Ok(self.agreement(id)?.dsa)
    }

    /// Every agreement in the registry, latest version each, with whether
    /// its import is in the keyed chain.
    pub fn agreements(&self) -> Result<Vec<(Agreement, bool)>, AppError> {
        let log = self.audit_log()?;
        let mut out = Vec::new();
        for a in Registry::open(&self.data)?.list()? {
            let attested = log.attests("dsa.import", &a.dsa.id, &a.version.sha256)?;
            out.push((a, attested));
        }
        Ok(out)
    }

    /// The session a token stands for (genuine, unexpired, not revoked or
    /// idle, its user still enabled in the same role).
    pub fn verify(&self, token: &str) -> Result<Session, AppError> {
        let key = self.session_key(false)?;
        let users = Users::open(&self.data)?;
        let sessions = Sessions::open(&self.data)?;
        Ok(sessions.verify(&users, key, token, haven_governance::session::now())?)
    }

    /// The agreement an operation runs under must be in force today and
    /// allow the session's role (for its purpose, or for any purpose), as
    /// the latest intact version in the registry says.
    pub fn check_agreement(&self, op: &Operation, s: &Session) -> Result<(), AppError> {
        let Need::Signed { purpose, .. } = op.need else { return Ok(()) };
        if purpose == PurposeNeed::None {
            return Ok(());
        }
        let id = s.dsa.as_deref().ok_or_else(|| AppError::Refused("the session names no agreement".into()))?;
        let dsa = self.dsa(id)?;
        let today = today();
        match s.purpose {
            Some(p) => dsa.check(today, p, s.role).map(|_| ())?,
            None => {
                dsa.in_force(today)?;
                if !dsa.purposes.iter().any(|t| t.roles.contains(&s.role)) {
                    return Err(AppError::Refused(format!("DSA {id} allows role {} no purpose", s.role)));
                }
            }
        }
        Ok(())
    }

    /// Whether `session` may run `op` (`what` names the command or route):
    /// the table, then the agreement.
    pub fn authorize(&self, op: &Operation, what: &str, session: Option<&Session>) -> Result<(), AppError> {
        operation::allows(op, what, session)?;
        if let Some(s) = session {
            self.check_agreement(op, s)?;
        }
        Ok(())
    }

    /// The anti-forgery token every form of the web session `token` carries.
    pub fn form_token(&self, token: &str) -> Result<String, AppError> {
        Ok(self.session_key(false)?.form_token(token))
    }

    /// The session key: read once, then kept (see the field). `create`
    /// makes one on first use (only signing in may).
    pub(crate) fn session_key(&self, create: bool) -> Result<&SessionKey, AppError> {
        if let Some(key) = self.session_key.get() {
            return Ok(key);
        }
        let key = if create { SessionKey::load_or_create(&self.keys)? } else { SessionKey::load(&self.keys)? };
        Ok(self.session_key.get_or_init(|| key))
    }

    /// Whether `given` is the anti-forgery token of session `token`
    /// (compared in constant time).
    pub fn form_token_matches(&self, token: &str, given: &str) -> Result<bool, AppError> {
        let want = self.form_token(token)?;
        Ok(want.len() == given.len() && want.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
    }

    /// Every load with its lineage (who, when, under which agreement, the
    /// source's SHA-256), newest last.
    pub fn loads(&self) -> Result<Vec<haven_store::LoadRecord>, AppError> {
        Ok(haven_store::Store::open(&self.data)?.catalog().loads()?)
    }

    /// Whether this is a store the demo made (synthetic data only): its
    /// catalog holds the demo's random mark and the keyed audit chain
    /// attests it, so a mark planted without the audit key opens nothing.
    /// Reads only; a store that cannot be read is not one.
    pub fn is_demo_store(&self) -> bool {
        if !self.data.join("catalog.sqlite").is_file() {
            return false;
        }
        let Some(mark) = haven_store::Store::open(&self.data).ok().and_then(|s| s.catalog().setting(DEMO_STORE).ok().flatten()) else { return false };
        self.audit_log().and_then(|log| Ok(log.attested(DEMO_STORE_ACTION, &mark)?)).is_ok_and(|e| !e.is_empty())
    }

    /// Destruction certificates: (id, the certificate's JSON text).
    pub fn certificates(&self) -> Result<Vec<(String, String)>, AppError> {
        Ok(haven_governance::retention::certificates(&self.data)?)
    }

    /// Audits a refusal of `what` (a command or route) for `actor`, with
    /// the reason (refusal reasons name rules and people, never data).
    pub fn audit_refusal(&self, actor: &Actor, what: &str, reason: &str) -> Result<(), AppError> {
        let e = actor.event("", "", "", "refusal", what, "refused", serde_json::json!({"reason": reason}));
        self.audit(e)
    }
}

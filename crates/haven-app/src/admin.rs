//! Administration and audit: users, second factors and lock-outs (audited
//! `user.*`, never a password or a secret), and the audit log's
//! verification, checkpoints and entries.

use haven_governance::audit::{Checkpoint, Entry};
use haven_governance::registry::{sha256_hex, Import, Registry};
use haven_governance::mfa::{Enrolment, Mfa};
use haven_governance::users::{User, UserRole, Users};

use crate::{Actor, App, AppError};

/// A GP practice as administrators manage it: its GP accounts and whether
/// the newest released indicators output has its dashboard.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Practice {
    pub code: String,
    /// (user, disabled, second factor enrolled).
    pub accounts: Vec<(String, bool, bool)>,
    /// The practice has a row in the newest released practice tables.
    pub has_dashboard: bool,
}

/// The audit log's state as an auditor sees it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Verified {
    /// Entries in the chain, when it verifies.
    pub entries: Option<u64>,
    /// Why it does not, with the entry where it breaks.
    pub failure: Option<String>,
}

impl App {
    /// Imports an agreement's text into the registry, auditing the outcome
    /// (new version, unchanged, or refused) with the text's SHA-256 — the
    /// entry every later read of the agreement checks for.
    pub fn import_dsa(&self, actor: &Actor, file_name: &str, text: &str) -> Result<Import, AppError> {
        let sha256 = sha256_hex(text);
        let result = Registry::open(&self.data).and_then(|mut r| r.import(file_name, text, &actor.name()));
        let (id, outcome, detail) = match &result {
            Ok(Import::New(a)) => (a.dsa.id.clone(), "ok", serde_json::json!({"file": file_name, "sha256": sha256, "version": a.version.version})),
            Ok(Import::Unchanged(a)) => (a.dsa.id.clone(), "unchanged", serde_json::json!({"file": file_name, "sha256": sha256, "version": a.version.version})),
            Err(e) => (String::new(), "refused", serde_json::json!({"file": file_name, "sha256": sha256, "reason": e.to_string()})),
        };
        let target = if id.is_empty() { file_name } else { id.as_str() };
        self.audit(actor.event("admin", "administration", &id, "dsa.import", target, outcome, detail))?;
        Ok(result?)
    }

    /// Every user (names, roles, practices; never password hashes).
    pub fn users(&self) -> Result<Vec<User>, AppError> {
        Ok(Users::open(&self.data)?.list()?)
    }

    /// The practices GP accounts are bound to, with the accounts, and every
    /// practice of the newest released indicators output.
    pub fn practices(&self) -> Result<Vec<Practice>, AppError> {
        let mut by: std::collections::BTreeMap<String, Practice> = Default::default();
        let released = self.released_indicators()?;
        let on_dashboard = |code: &str| released.as_ref().is_some_and(|x| x.area(code).is_some() || x.table_has_practice(code));
        for u in self.users()?.into_iter().filter(|u| u.practice.is_some()) {
            let code = u.practice.clone().unwrap_or_default();
            let mfa = self.mfa_enrolled(&u.name)?;
            let p = by.entry(code.clone()).or_insert_with(|| Practice { has_dashboard: on_dashboard(&code), code, accounts: Vec::new() });
            p.accounts.push((u.name, u.disabled, mfa));
        }
        if let Some(x) = &released {
            for a in &x.areas {
                by.entry(a.practice.clone()).or_insert_with(|| Practice { code: a.practice.clone(), accounts: Vec::new(), has_dashboard: true });
            }
        }
        Ok(by.into_values().collect())
    }

    /// Adds a user; audited `user.add`.
    pub fn add_user(&self, actor: &Actor, name: &str, role: &str, practice: Option<&str>, password: &str) -> Result<User, AppError> {
        let result = role.parse::<UserRole>().and_then(|r| Users::open(&self.data)?.add(name, r, practice, password));
        let detail = match &result {
            Ok(u) => serde_json::json!({"role": u.role, "practice": u.practice}),
            Err(e) => serde_json::json!({"reason": e.to_string()}),
        };
        self.audit(actor.event("admin", "administration", "", "user.add", name, if result.is_ok() { "ok" } else { "refused" }, detail))?;
        Ok(result?)
    }

    /// Disables a user (their sessions and tokens stop working); audited.
    pub fn disable_user(&self, actor: &Actor, name: &str) -> Result<(), AppError> {
        let result = Users::open(&self.data).and_then(|mut u| u.disable(name));
        self.audit(actor.event("admin", "administration", "", "user.disable", name, if result.is_ok() { "ok" } else { "refused" }, serde_json::json!({})))?;
        Ok(result?)
    }

    /// Clears a lock-out; audited `user.unlock`.
    pub fn unlock_user(&self, actor: &Actor, name: &str) -> Result<(), AppError> {
        let result = haven_governance::lockout::unlock(&self.data, name);
        self.audit(actor.event("admin", "administration", "", "user.unlock", name, if result.is_ok() { "ok" } else { "refused" }, serde_json::json!({})))?;
        Ok(result?)
    }

    /// Enrols (or resets) a user's second factor; the enrolment (secret,
    /// URI, QR code) is shown once to the administrator and never audited.
    pub fn enrol_mfa(&self, actor: &Actor, name: &str) -> Result<Enrolment, AppError> {
        let result = match Users::open(&self.data)?.get(name) {
            Ok(Some(_)) => Mfa::open(&self.data).and_then(|mut m| m.enrol(name, haven_governance::session::now())).map_err(AppError::from),
            Ok(None) => Err(AppError::NotFound(format!("no user {name}"))),
            Err(e) => Err(e.into()),
        };
        self.audit(actor.event("admin", "administration", "", "user.mfa_enrol", name, if result.is_ok() { "ok" } else { "refused" }, serde_json::json!({})))?;
        result
    }

    /// Whether each user has a second factor.
    pub fn mfa_enrolled(&self, name: &str) -> Result<bool, AppError> {
        Ok(Mfa::open(&self.data)?.is_enrolled(name)?)
    }

    /// Verifies the chain (against a checkpoint the auditor kept, if
    /// given); a broken chain is a result to show, not an error.
    pub fn verify_audit(&self, checkpoint: Option<&str>) -> Result<Verified, AppError> {
        let cp = checkpoint.map(Checkpoint::parse).transpose()?;
        Ok(match self.audit_log()?.verify_with(cp.as_ref()) {
            Ok(n) => Verified { entries: Some(n), failure: None },
            Err(e) => Verified { entries: None, failure: Some(e.to_string()) },
        })
    }

    /// A checkpoint of a verified chain, audited first (`audit.checkpoint`)
    /// so the checkpoint covers its own entry.
    pub fn checkpoint(&self, actor: &Actor) -> Result<Checkpoint, AppError> {
        self.audit_log()?.verify()?;
        self.audit(actor.event("auditor", "audit", "", "audit.checkpoint", "-", "ok", serde_json::json!({})))?;
        Ok(self.audit_log()?.checkpoint()?)
    }

    /// The whole log as CSV, audited `audit.export` first (so the export
    /// holds its own entry).
    pub fn audit_csv(&self, actor: &Actor) -> Result<String, AppError> {
        self.audit(actor.event("auditor", "audit", "", "audit.export", "web", "ok", serde_json::json!({})))?;
        Ok(self.audit_log()?.to_csv()?.0)
    }

    /// The last `limit` entries, newest first.
    pub fn audit_entries(&self, limit: usize) -> Result<Vec<Entry>, AppError> {
        let mut all = self.audit_log()?.entries()?;
        all.reverse();
        all.truncate(limit);
        Ok(all)
    }
}

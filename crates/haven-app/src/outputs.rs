//! Held outputs: review, release, export, and the released outputs that
//! analysts and viewers see. An output leaves only if its manifest is the
//! one its submission put in the audit chain and its approvals are in the
//! chain too: the held files, their manifest rows, the output's SHA-256
//! and its review rows all sit in the data directory, where someone with
//! write access could change them together; the MAC'd `output.submit` and
//! `output.approve` entries they cannot.

use std::path::Path;

use haven_governance::outputs::{Content, HeldFile, Inspected, Output, Outputs, Status, APPROVALS_NEEDED};
use haven_governance::users::Users;

use crate::{Actor, App, AppError};

/// One output with every file of its held folder checked and rendered.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Shown {
    pub output: Output,
    pub files: Vec<Inspected>,
    /// Each file's bytes when it is as written (read once with its check).
    #[serde(skip)]
    pub bytes: Vec<Option<Vec<u8>>>,
}

impl App {
    /// Every output, newest last.
    pub fn outputs(&self) -> Result<Vec<Output>, AppError> {
        Ok(Outputs::open(&self.data)?.list()?)
    }

    /// One output, its files checked against the manifest and rendered:
    /// reviewing needs no access to the data directory.
    pub fn output(&self, id: &str) -> Result<Shown, AppError> {
        Ok(self.output_page(id, None, usize::MAX)?.0)
    }

    /// One page of an output (`page` from 1, `per` files a page; past the
    /// end, the last): every file checked, only the page's files with
    /// their bytes and rendering. Returns the page shown, from 0.
    pub fn output_page(&self, id: &str, page: Option<usize>, per: usize) -> Result<(Shown, usize), AppError> {
        let outputs = Outputs::open(&self.data)?;
        let output = outputs.get(id)?.ok_or_else(|| AppError::NotFound(format!("no output {id}")))?;
        let per = per.max(1);
        let last = outputs.files(id)?.len().saturating_sub(1) / per;
        let index = page.unwrap_or(1).clamp(1, last + 1) - 1;
        let on_page = |i: usize| i / per == index;
        // Every file is checked against the manifest on each call: read and
        // hashed unless its stamp (device, inode, size, mtime, ctime) is the
        // one it had when it last hashed as written; the rendering of bytes
        // already seen (same output, name and SHA-256) is reused. Export
        // hashes everything afresh.
        let verified = Some(&self.cache.verified);
        let (files, bytes) = outputs
            .inspect_verified_by(id, verified, on_page, |sha, name, b, names| self.cache.rendering(id, name, sha, || Outputs::render(name, b, names)))?
            .into_iter()
            .unzip();
        Ok((Shown { output, files, bytes }, index))
    }

    /// Holds a disclosure-controlled table for review under the actor's
    /// agreement and purpose; audited `output.submit` with the manifest's
    /// SHA-256 (what export later checks the held files against).
    /// (One table, `table.csv`, held by [`App::hold`].)
    pub fn submit(&self, actor: &Actor, title: &str, content: &Content) -> Result<Output, AppError> {
        let (id, _) = self.hold(actor, title, |draft| Ok(draft.put("table.csv", content.csv().as_bytes())?))?;
        Outputs::open(&self.data)?.get(&id)?.ok_or_else(|| AppError::NotFound(format!("no output {id}")))
    }

    /// A reviewer approves or rejects (with a reason); the second approval
    /// by someone other than the author releases it. Audited
    /// `output.approve` / `output.reject`.
    pub fn review(&self, actor: &Actor, id: &str, approve: bool, reason: &str) -> Result<Output, AppError> {
        let users = Users::open(&self.data)?;
        if !approve && reason.trim().is_empty() {
            return Err(AppError::Invalid("a rejection needs a reason".into()));
        }
        let result = Outputs::open(&self.data)?.review(&users, id, &actor.name(), approve, reason);
        let action = if approve { "output.approve" } else { "output.reject" };
        let detail = match &result {
            Ok(o) => serde_json::json!({"status": o.status, "reason": reason}),
            Err(e) => serde_json::json!({"reason": e.to_string()}),
        };
        self.audit(actor.event("reviewer", "output_release", "", action, id, if result.is_ok() { "ok" } else { "refused" }, detail))?;
        Ok(result?)
    }

    /// Refuses an output whose manifest or release is not attested by the
    /// audit chain (see the module comment).
    pub fn attested(&self, id: &str) -> Result<Output, AppError> {
        let o = Outputs::open(&self.data)?.get(id)?.ok_or_else(|| AppError::NotFound(format!("no output {id}")))?;
        attest(&self.audit_log()?, o)
    }

    /// Copies a released, attested output's files to `dest` (outside the
    /// data directory); audited `output.export`.
    pub fn export(&self, actor: &Actor, id: &str, dest: &Path) -> Result<(Output, Vec<HeldFile>), AppError> {
        let result = self.attested(id).and_then(|_| Ok(Outputs::open(&self.data)?.export(id, dest)?));
        let detail = match &result {
            Ok((o, files)) => serde_json::json!({"to": dest, "sha256": o.sha256, "files": files.len()}),
            Err(e) => serde_json::json!({"reason": e.to_string()}),
        };
        self.audit(actor.event("analyst", "output_release", "", "output.export", id, if result.is_ok() { "ok" } else { "refused" }, detail))?;
        result
    }

    /// The released outputs whose release the audit chain attests: all an
    /// analyst or viewer sees outside review.
    pub fn released(&self) -> Result<Vec<Output>, AppError> {
        let log = self.audit_log()?;
        Ok(self.outputs()?.into_iter().filter(|o| o.status == Status::Released).filter_map(|o| attest(&log, o).ok()).collect())
    }

    /// One released output, shown as its reviewers saw it; anything else
    /// (held, rejected, unattested) is refused as if it did not exist to
    /// this role.
    pub fn released_output(&self, id: &str) -> Result<Shown, AppError> {
        Ok(self.released_page(id, None, usize::MAX)?.0)
    }

    /// One page of a released output ([`App::output_page`]).
    pub fn released_page(&self, id: &str, page: Option<usize>, per: usize) -> Result<(Shown, usize), AppError> {
        let o = self.attested(id)?;
        if o.status != Status::Released {
            return Err(AppError::Refused(format!("output {id} is not released")));
        }
        self.output_page(id, page, per)
    }

    /// The bytes of one file of a held output, for its reviewers' page (a
    /// chart drawn in the review). Not a download: nothing is audited as
    /// leaving.
    pub fn held_file(&self, id: &str, name: &str) -> Result<Vec<u8>, AppError> {
        Ok(Outputs::open(&self.data)?.held_bytes(id, name)?)
    }

    /// Downloads one file of a released, attested output; audited
    /// `output.download` (a download is an export of one file).
    pub fn released_file(&self, actor: &Actor, id: &str, name: &str) -> Result<Vec<u8>, AppError> {
        let result = self.released_output(id).and_then(|_| self.held_file(id, name));
        let detail = match &result {
            Ok(bytes) => serde_json::json!({"file": name, "bytes": bytes.len()}),
            Err(e) => serde_json::json!({"file": name, "reason": e.to_string()}),
        };
        self.audit(actor.event("", "output_release", "", "output.download", id, if result.is_ok() { "ok" } else { "refused" }, detail))?;
        result
    }
}

/// [`App::attested`] against an open audit log (one log for many outputs).
fn attest(log: &haven_governance::audit::AuditLog, o: Output) -> Result<Output, AppError> {
    let id = o.id.as_str();
    if !log.attests("output.submit", id, &o.sha256)? {
        return Err(AppError::Refused(format!("output {id} has no audited submission of its manifest (SHA-256 {}); it was changed outside Haven", o.sha256)));
    }
    let mut approvers: Vec<String> = log.attested("output.approve", id)?.into_iter().map(|e| e.event.actor).filter(|a| *a != o.author).collect();
    approvers.sort();
    approvers.dedup();
    if o.status == Status::Released && approvers.len() < APPROVALS_NEEDED {
        return Err(AppError::Refused(format!(
            "output {id} is marked released but the audit chain holds {} approval(s) by reviewers other than its author; it was changed outside Haven",
            approvers.len()
        )));
    }
    Ok(o)
}

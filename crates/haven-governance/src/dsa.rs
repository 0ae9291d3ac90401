//! Data Sharing Agreements (DSAs) written as reviewed TOML and enforced as
//! policy (DESIGN.md §1–2).
//!
//! Every action in Haven runs as (user, role, purpose) under one DSA that is
//! in force. A DSA file says who the controllers are, when the agreement runs,
//! which datasets it covers, and for each purpose its legal basis, whether the
//! national data opt-out applies and which roles may process. It also says
//! which records may be kept (minimisation), which datasets may be linked at
//! record level, how long data is retained, whether sublicensing is allowed
//! and where the data may be processed. The shipped agreements live in the
//! repository's `dsa/` folder, one file per agreement, each citing where its
//! facts come from. Haven obeys only agreements an administrator imported
//! into its registry (`crate::registry`); this module parses and checks them.
//!
//! ```toml
//! id = "DSA-HAVEN-DEMO"
//! title = "Haven demonstration agreement (synthetic)"
//! controllers = ["QMJ"]            # ODS codes; the first is the lead controller
//! start = "2024-04-01"             # first day in force
//! end = "2031-03-31"               # last day in force
//! datasets = ["sus_apc", "gp_extract"]
//! minimisation = ["registered", "resident", "hosted"]
//! retention_years = 10
//! sublicensing = false
//! territory = "England and Wales"
//! synthetic = true                 # optional, default false
//! source = "where the facts come from"
//!
//! [[purposes]]
//! purpose = "risk_stratification"
//! legal_basis = "NHS Act 2006 s251 (CAG 7-04(a)/2013)"
//! optout_applies = true
//! roles = ["analyst", "gp", "dscro"]
//!
//! [[linkages]]                     # optional: record-level links allowed
//! purpose = "risk_stratification"
//! datasets = ["sus_apc", "gp_extract"]
//! ```
//!
//! Dataset names are Haven's labels for the flows an agreement covers, in
//! lower case: local flows such as `sus_apc`, `sus_op`, `ecds`, `sus_cc`,
//! `deaths`, `gp_extract`, `invoices`, `mhsds`, and national pseudonymised
//! extracts whose names start with `national` (`national_hes`,
//! `national_ecds`).
//!
//! [`Dsa::from_toml`] refuses, with a message naming the file and the field,
//! a file that is malformed (unknown or missing keys, bad dates or codes) or
//! contradicts itself or the rules Haven enforces:
//! - `end` before `start`, `retention_years` of 0, controllers that are not
//!   3-character ODS codes;
//! - no purposes, a purpose listed twice, a purpose with no roles or no
//!   legal basis;
//! - the opt-out marked as applying to invoice validation or direct care,
//!   where it does not apply (datasets.md §7);
//! - `auditor` or `admin` granted a purpose (they see no patient data), `ceff`
//!   granted anything but invoice validation, or invoice validation granted
//!   to a role outside the CEfF (`ceff`, `dscro`) (DESIGN.md §1,
//!   datasets.md §6.1);
//! - minimisation values other than `registered`, `resident`, `hosted`, or
//!   none at all while the agreement covers local data;
//! - a linkage that joins a national dataset with a local one (never allowed,
//!   DESIGN.md §2), names a dataset the agreement does not cover, or serves a
//!   purpose the agreement does not cover.
//!
//! [`Dsa::in_force`] and [`Dsa::check`] refuse processing under an agreement
//! that has expired or not started, for a purpose it does not cover, or by a
//! role the purpose does not allow.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use haven_model::Date;
use serde::{Deserialize, Serialize};

use crate::GovernanceError;

/// A purpose data may be processed for under a DSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Checking providers' invoices against activity in the CEfF.
    InvoiceValidation,
    /// Risk stratification of the registered population (SUS+ with GP data).
    RiskStratification,
    /// Commissioning analytics on pseudonymised data.
    Commissioning,
    /// Direct care: a GP's view of its own registered patients.
    DirectCare,
    /// Population-health benchmarking against England on the national extract.
    PopulationHealthBenchmarking,
}

impl Purpose {
    /// Every purpose, in declaration order.
    pub const ALL: [Purpose; 5] = [
        Purpose::InvoiceValidation,
        Purpose::RiskStratification,
        Purpose::Commissioning,
        Purpose::DirectCare,
        Purpose::PopulationHealthBenchmarking,
    ];

    /// The purpose's name as written in DSA files and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Purpose::InvoiceValidation => "invoice_validation",
            Purpose::RiskStratification => "risk_stratification",
            Purpose::Commissioning => "commissioning",
            Purpose::DirectCare => "direct_care",
            Purpose::PopulationHealthBenchmarking => "population_health_benchmarking",
        }
    }

    /// The opt-out clean-list purpose code the ingest stage filters by when
    /// the opt-out applies to this purpose (datasets.md §10.10): planning
    /// purposes use `COMMISSIONING`, risk stratification
    /// `RISK_STRATIFICATION`. `None` for invoice validation and direct care,
    /// to which the national data opt-out never applies (datasets.md §7).
    pub fn optout_purpose_code(&self) -> Option<&'static str> {
        match self {
            Purpose::Commissioning | Purpose::PopulationHealthBenchmarking => Some("COMMISSIONING"),
            Purpose::RiskStratification => Some("RISK_STRATIFICATION"),
            Purpose::InvoiceValidation | Purpose::DirectCare => None,
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Purpose {
    type Err = GovernanceError;

    /// Parses a purpose name such as `risk_stratification`.
    fn from_str(s: &str) -> Result<Purpose, GovernanceError> {
        Purpose::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            GovernanceError::Refused(format!("unknown purpose {s:?}; expected one of {}", names(&Purpose::ALL)))
        })
    }
}

/// A user role (DESIGN.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// DSCRO data engineer: identifiable staging, opt-outs, minimisation.
    Dscro,
    /// Finance validator in the Controlled Environment for Finance.
    Ceff,
    /// A GP, for its own registered patients.
    Gp,
    /// ICB analyst: pseudonymised record level and aggregates.
    Analyst,
    /// Aggregate, disclosure-controlled outputs only.
    Viewer,
    /// Information-governance auditor: audit log, DSA registry, lineage.
    Auditor,
    /// Administrator: users, roles, configuration.
    Admin,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 7] =
        [Role::Dscro, Role::Ceff, Role::Gp, Role::Analyst, Role::Viewer, Role::Auditor, Role::Admin];

    /// The role's name as written in DSA files and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Dscro => "dscro",
            Role::Ceff => "ceff",
            Role::Gp => "gp",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = GovernanceError;

    /// Parses a role name such as `analyst`.
    fn from_str(s: &str) -> Result<Role, GovernanceError> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| GovernanceError::User(format!("unknown role {s:?}; expected one of {}", names(&Role::ALL))))
    }
}

fn names<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// What a DSA allows for one purpose.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PurposeTerms {
    /// The purpose.
    pub purpose: Purpose,
    /// The legal basis for the flow, as the agreement states it.
    pub legal_basis: String,
    /// Whether the national data opt-out applies (never for invoice
    /// validation or direct care).
    pub optout_applies: bool,
    /// Roles that may process for this purpose.
    pub roles: Vec<Role>,
}

/// A record-level linkage a DSA allows: the datasets may be joined person by
/// person for the purpose.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Linkage {
    /// The purpose the linkage serves.
    pub purpose: Purpose,
    /// The datasets that may be linked with one another (at least two).
    pub datasets: Vec<String>,
}

/// A validated Data Sharing Agreement. Built only by [`Dsa::from_toml`], so
/// every `Dsa` has passed the checks in the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dsa {
    /// The agreement's reference, e.g. `DARS-NIC-615974-Y3R7Q`.
    pub id: String,
    /// The agreement's title.
    pub title: String,
    /// Controllers' ODS codes; the first is the lead controller.
    pub controllers: Vec<String>,
    /// First day the agreement is in force.
    pub start: Date,
    /// Last day the agreement is in force.
    pub end: Date,
    /// Datasets the agreement covers (Haven's labels; national extracts start
    /// with `national`).
    pub datasets: Vec<String>,
    /// Terms per purpose; each purpose appears once.
    pub purposes: Vec<PurposeTerms>,
    /// Which links to the commissioner keep a record: `registered`,
    /// `resident`, `hosted`. Empty only when every dataset is national.
    pub minimisation: Vec<String>,
    /// Record-level linkages allowed.
    pub linkages: Vec<Linkage>,
    /// Years data may be kept before it is destroyed.
    pub retention_years: u32,
    /// Whether the controller may sublicense the data.
    pub sublicensing: bool,
    /// Where the data may be processed.
    pub territory: String,
    /// Whether this is a synthetic agreement for demonstration.
    pub synthetic: bool,
    /// Where the agreement's facts come from.
    pub source: String,
}

/// The file as written, before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDsa {
    id: String,
    title: String,
    controllers: Vec<String>,
    start: String,
    end: String,
    datasets: Vec<String>,
    purposes: Vec<PurposeTerms>,
    minimisation: Vec<String>,
    #[serde(default)]
    linkages: Vec<Linkage>,
    retention_years: u32,
    sublicensing: bool,
    territory: String,
    #[serde(default)]
    synthetic: bool,
    source: String,
}

const MINIMISATION: [&str; 3] = ["registered", "resident", "hosted"];

/// Whether a dataset label names a national extract.
fn is_national(dataset: &str) -> bool {
    dataset.starts_with("national")
}

impl Dsa {
    /// Parses and validates one DSA file; `file_name` names it in errors.
    pub fn from_toml(file_name: &str, text: &str) -> Result<Dsa, GovernanceError> {
        let bad = |reason: String| GovernanceError::Dsa { file: file_name.to_owned(), reason };
        let raw: RawDsa = toml::from_str(text).map_err(|e| bad(toml_error(text, &e)))?;
        validate(raw).map_err(bad)
    }

    /// The lead controller's ODS code.
    pub fn lead_controller(&self) -> &str {
        &self.controllers[0]
    }

    /// Refuses processing on `on` unless the agreement is in force that day
    /// (`start` and `end` inclusive).
    pub fn in_force(&self, on: Date) -> Result<(), GovernanceError> {
        if on > self.end {
            return Err(GovernanceError::Refused(format!(
                "DSA {} expired on {}; processing under it is refused",
                self.id, self.end
            )));
        }
        if on < self.start {
            return Err(GovernanceError::Refused(format!(
                "DSA {} has not started until {}; processing under it is refused before then",
                self.id, self.start
            )));
        }
        Ok(())
    }

    /// The terms for `purpose`, if the agreement covers it.
    pub fn terms(&self, purpose: Purpose) -> Option<&PurposeTerms> {
        self.purposes.iter().find(|t| t.purpose == purpose)
    }

    /// Allows processing on `on` for `purpose` by `role` only if the agreement
    /// is in force, covers the purpose and grants it to the role; returns the
    /// purpose's terms.
    pub fn check(&self, on: Date, purpose: Purpose, role: Role) -> Result<&PurposeTerms, GovernanceError> {
        self.in_force(on)?;
        let terms = self.terms(purpose).ok_or_else(|| {
            let covered: Vec<Purpose> = self.purposes.iter().map(|t| t.purpose).collect();
            GovernanceError::Refused(format!("DSA {} does not cover {purpose}; it covers {}", self.id, names(&covered)))
        })?;
        if !terms.roles.contains(&role) {
            return Err(GovernanceError::Refused(format!(
                "role {role} may not process for {purpose} under DSA {}; allowed roles: {}",
                self.id,
                names(&terms.roles)
            )));
        }
        Ok(terms)
    }

    /// The opt-out clean-list purpose codes the ingest stage must filter by,
    /// sorted and without repeats.
    pub fn optout_purposes(&self) -> Vec<&'static str> {
        let codes: BTreeSet<&'static str> =
            self.purposes.iter().filter(|t| t.optout_applies).filter_map(|t| t.purpose.optout_purpose_code()).collect();
        codes.into_iter().collect()
    }

    /// Whether datasets `a` and `b` may be linked at record level for
    /// `purpose`: a linkage for the purpose must name both. A national
    /// dataset is never linked with a local one. A dataset "linked" with
    /// itself is allowed if the agreement covers both it and the purpose.
    pub fn allows_linkage(&self, purpose: Purpose, a: &str, b: &str) -> bool {
        if is_national(a) != is_national(b) {
            return false;
        }
        if a == b {
            return self.terms(purpose).is_some() && self.datasets.iter().any(|d| d == a);
        }
        self.linkages
            .iter()
            .any(|l| l.purpose == purpose && l.datasets.iter().any(|d| d == a) && l.datasets.iter().any(|d| d == b))
    }
}

/// Describes a TOML or shape error with where it is: the line and its text
/// for a one-line span, the line range for a table, nothing for the whole
/// file (a missing top-level key).
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let mut message = e.message().trim_end().to_owned();
    if message.contains("invalid type: map, expected a string") {
        message.push_str(" (write dates as quoted strings, e.g. \"2024-04-01\")");
    }
    let Some(span) = e.span() else { return message };
    let (from, to) = (span.start.min(text.len()), span.end.min(text.len()));
    if from == 0 && (text[..to].trim().is_empty() || text[to..].trim().is_empty()) {
        return message;
    }
    let line = text[..from].matches('\n').count() + 1;
    let last = line + text[from..to].trim_end().matches('\n').count();
    if last > line {
        return format!("lines {line}-{last}: {message}");
    }
    let line_start = text[..from].rfind('\n').map_or(0, |i| i + 1);
    match text[line_start..].lines().next().map(str::trim) {
        Some(line_text) if !line_text.is_empty() => format!("line {line} `{line_text}`: {message}"),
        _ => format!("line {line}: {message}"),
    }
}

/// Checks a parsed file; the error names the field and the problem.
fn validate(raw: RawDsa) -> Result<Dsa, String> {
    if raw.id.is_empty() || !raw.id.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'-') {
        return Err(format!("`id` {:?} must be non-empty upper-case letters, digits and '-'", raw.id));
    }
    for (field, value) in [("title", &raw.title), ("territory", &raw.territory)] {
        if value.trim().is_empty() {
            return Err(format!("`{field}` is empty"));
        }
    }
    if raw.source.trim().is_empty() {
        return Err("`source` is empty; say where the agreement's facts come from".into());
    }

    if raw.controllers.is_empty() {
        return Err("`controllers` is empty; name at least the lead controller's ODS code".into());
    }
    for (i, code) in raw.controllers.iter().enumerate() {
        if code.len() != 3 || !code.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return Err(format!(
                "`controllers`: {code:?} is not an ODS code (3 upper-case letters or digits, e.g. QMJ or 00Q)"
            ));
        }
        if raw.controllers[..i].contains(code) {
            return Err(format!("`controllers`: {code} is listed twice"));
        }
    }

    let start = iso_date("start", &raw.start)?;
    let end = iso_date("end", &raw.end)?;
    if end < start {
        return Err(format!("`end` {end} is before `start` {start}"));
    }

    if raw.datasets.is_empty() {
        return Err("`datasets` is empty; an agreement must cover at least one dataset".into());
    }
    for (i, d) in raw.datasets.iter().enumerate() {
        let well_formed = d.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
            && d.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'.');
        if !well_formed {
            return Err(format!(
                "`datasets`: {d:?} is not a dataset name (lower-case letters, digits, '_' and '.', e.g. sus_apc)"
            ));
        }
        if raw.datasets[..i].contains(d) {
            return Err(format!("`datasets`: {d} is listed twice"));
        }
    }

    validate_purposes(&raw.purposes)?;

    for (i, m) in raw.minimisation.iter().enumerate() {
        if !MINIMISATION.contains(&m.as_str()) {
            return Err(format!("`minimisation`: {m:?} is not one of registered, resident, hosted"));
        }
        if raw.minimisation[..i].contains(m) {
            return Err(format!("`minimisation`: {m} is listed twice"));
        }
    }
    if raw.minimisation.is_empty() {
        if let Some(local) = raw.datasets.iter().find(|d| !is_national(d)) {
            return Err(format!(
                "`minimisation` is empty but the agreement covers local dataset {local}; \
                 name at least one of registered, resident, hosted"
            ));
        }
    }

    for link in &raw.linkages {
        validate_linkage(link, &raw.datasets, &raw.purposes)?;
    }

    if raw.retention_years == 0 {
        return Err("`retention_years` is 0; it must be at least 1".into());
    }

    Ok(Dsa {
        id: raw.id,
        title: raw.title,
        controllers: raw.controllers,
        start,
        end,
        datasets: raw.datasets,
        purposes: raw.purposes,
        minimisation: raw.minimisation,
        linkages: raw.linkages,
        retention_years: raw.retention_years,
        sublicensing: raw.sublicensing,
        territory: raw.territory,
        synthetic: raw.synthetic,
        source: raw.source,
    })
}

/// Parses a `YYYY-MM-DD` date field.
fn iso_date(field: &str, text: &str) -> Result<Date, String> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(format!("`{field}` {text:?} is not a date in the form YYYY-MM-DD"));
    }
    Date::parse(text).map_err(|e| format!("`{field}` {text:?}: {e}"))
}

fn validate_purposes(purposes: &[PurposeTerms]) -> Result<(), String> {
    if purposes.is_empty() {
        return Err("`purposes` is empty; an agreement must allow at least one purpose".into());
    }
    for (i, t) in purposes.iter().enumerate() {
        let p = t.purpose;
        if purposes[..i].iter().any(|u| u.purpose == p) {
            return Err(format!("`purposes`: {p} is listed twice"));
        }
        if t.legal_basis.trim().is_empty() {
            return Err(format!("`purposes.legal_basis` for {p} is empty"));
        }
        if t.optout_applies && p.optout_purpose_code().is_none() {
            return Err(format!(
                "`purposes.optout_applies` is true for {p}, but the national data opt-out does not apply \
                 to invoice validation or direct care (datasets.md §7)"
            ));
        }
        if t.roles.is_empty() {
            return Err(format!("`purposes.roles` for {p} is empty; no role could process under it"));
        }
        for (j, r) in t.roles.iter().enumerate() {
            if t.roles[..j].contains(r) {
                return Err(format!("`purposes.roles` for {p} lists {r} twice"));
            }
            if matches!(r, Role::Auditor | Role::Admin) {
                return Err(format!("`purposes.roles` for {p} grants {r}, which sees no patient data (DESIGN.md §1)"));
            }
            if *r == Role::Ceff && p != Purpose::InvoiceValidation {
                return Err(format!(
                    "`purposes.roles` for {p} grants ceff, which works only on invoice validation in the CEfF"
                ));
            }
            if p == Purpose::InvoiceValidation && !matches!(r, Role::Ceff | Role::Dscro) {
                return Err(format!(
                    "`purposes.roles` for invoice_validation grants {r}; only ceff and dscro work in the \
                     CEfF (datasets.md §6.1)"
                ));
            }
        }
    }
    Ok(())
}

fn validate_linkage(link: &Linkage, datasets: &[String], purposes: &[PurposeTerms]) -> Result<(), String> {
    let p = link.purpose;
    if let (Some(national), Some(local)) =
        (link.datasets.iter().find(|d| is_national(d)), link.datasets.iter().find(|d| !is_national(d)))
    {
        return Err(format!(
            "`linkages`: the linkage for {p} joins national dataset {national} with local dataset {local}; \
             the national extract is never linked at record level with local data (DESIGN.md §2)"
        ));
    }
    if !purposes.iter().any(|t| t.purpose == p) {
        return Err(format!("`linkages`: a linkage is for {p}, which the agreement's `purposes` do not cover"));
    }
    if link.datasets.len() < 2 {
        return Err(format!("`linkages`: the linkage for {p} names fewer than two datasets"));
    }
    for (i, d) in link.datasets.iter().enumerate() {
        if !datasets.contains(d) {
            return Err(format!("`linkages`: the linkage for {p} names {d}, which is not in `datasets`"));
        }
        if link.datasets[..i].contains(d) {
            return Err(format!("`linkages`: the linkage for {p} lists {d} twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    /// The repository's agreement files, parsed, by id.
    fn shipped() -> Vec<Dsa> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dsa");
        let mut dsas: Vec<Dsa> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                Dsa::from_toml(&name, &std::fs::read_to_string(&p).unwrap())
                    .unwrap_or_else(|e| panic!("shipped DSAs must load: {e}"))
            })
            .collect();
        dsas.sort_by(|a, b| a.id.cmp(&b.id));
        dsas
    }

    fn shipped_one(id: &str) -> Dsa {
        shipped().into_iter().find(|d| d.id == id).unwrap_or_else(|| panic!("{id} is shipped"))
    }

    fn refusal(r: Result<impl fmt::Debug, GovernanceError>) -> String {
        match r {
            Err(GovernanceError::Refused(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn dsa_every_shipped_file_parses() {
        let dsas = shipped();
        let ids: Vec<&str> = dsas.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "DARS-NIC-193456-W3M0H",
                "DARS-NIC-615974-Y3R7Q",
                "DARS-NIC-617743-X0M9Z",
                "DSA-HAVEN-DEMO",
                "NIC-791919-T4Y0Y"
            ]
        );
        // Each file is named after the agreement it holds.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dsa");
        for d in &dsas {
            assert!(dir.join(format!("{}.toml", d.id)).is_file(), "{} has its own file", d.id);
            assert!(!d.source.is_empty());
        }
        let nw = shipped_one("DARS-NIC-193456-W3M0H");
        assert_eq!(nw.controllers.len(), 31, "31 North West CCGs");
        assert_eq!(shipped_one("DARS-NIC-617743-X0M9Z").retention_years, 10);
        assert_eq!(shipped_one("NIC-791919-T4Y0Y").lead_controller(), "QWE");
        // Only the demo agreement is synthetic.
        assert_eq!(dsas.iter().filter(|d| d.synthetic).map(|d| d.id.as_str()).collect::<Vec<_>>(), ["DSA-HAVEN-DEMO"]);
    }

    #[test]
    fn dsa_ncl_agreement_has_expired() {
        let ncl = shipped_one("DARS-NIC-615974-Y3R7Q");
        assert_eq!(ncl.lead_controller(), "QMJ");
        assert_eq!((ncl.start, ncl.end), (day("2022-11-28"), day("2025-11-27")));
        assert_eq!(
            refusal(ncl.in_force(day("2026-11-22"))),
            "DSA DARS-NIC-615974-Y3R7Q expired on 2025-11-27; processing under it is refused"
        );
        let m = refusal(ncl.check(day("2026-11-22"), Purpose::InvoiceValidation, Role::Ceff));
        assert!(m.contains("expired on 2025-11-27"), "{m}");
        // In force on its first and last days and in between.
        for on in ["2022-11-28", "2024-01-01", "2025-11-27"] {
            ncl.in_force(day(on)).unwrap();
        }
        let iv = ncl.check(day("2024-01-01"), Purpose::InvoiceValidation, Role::Ceff).unwrap();
        assert!(!iv.optout_applies);
        assert!(ncl.check(day("2024-01-01"), Purpose::RiskStratification, Role::Gp).unwrap().optout_applies);
        let before = refusal(ncl.in_force(day("2022-11-27")));
        assert!(before.contains("has not started until 2022-11-28"), "{before}");
    }

    #[test]
    fn dsa_demo_agreement_is_in_force_and_enforced() {
        let demo = shipped_one("DSA-HAVEN-DEMO");
        let today = day("2026-11-22");
        demo.in_force(today).unwrap();
        assert!(demo.synthetic);
        assert_eq!(demo.controllers, ["QMJ"]);
        assert_eq!(demo.retention_years, 10);
        assert_eq!(demo.minimisation, ["registered", "resident", "hosted"]);
        for (purpose, roles) in [
            (Purpose::InvoiceValidation, &[Role::Ceff, Role::Dscro][..]),
            (Purpose::RiskStratification, &[Role::Analyst, Role::Gp, Role::Dscro]),
            (Purpose::Commissioning, &[Role::Analyst, Role::Viewer, Role::Dscro]),
            (Purpose::DirectCare, &[Role::Gp]),
            (Purpose::PopulationHealthBenchmarking, &[Role::Analyst, Role::Viewer]),
        ] {
            for role in Role::ALL {
                let allowed = demo.check(today, purpose, role).is_ok();
                assert_eq!(allowed, roles.contains(&role), "{purpose} by {role}");
            }
        }
        assert_eq!(demo.optout_purposes(), ["COMMISSIONING", "RISK_STRATIFICATION"]);
        assert!(demo.allows_linkage(Purpose::RiskStratification, "sus_apc", "gp_extract"));
        assert!(demo.allows_linkage(Purpose::RiskStratification, "gp_extract", "ecds"));
        assert!(!demo.allows_linkage(Purpose::Commissioning, "sus_apc", "gp_extract"));
        for p in Purpose::ALL {
            assert!(!demo.allows_linkage(p, "national_hes", "sus_apc"), "{p}");
            assert!(!demo.allows_linkage(p, "gp_extract", "national_hes"), "{p}");
        }
        assert!(demo.allows_linkage(Purpose::Commissioning, "sus_apc", "sus_apc"));
        assert!(!demo.allows_linkage(Purpose::Commissioning, "unknown", "unknown"));
        let swl = shipped_one("NIC-791919-T4Y0Y");
        assert!(swl.allows_linkage(Purpose::PopulationHealthBenchmarking, "national_hes", "national_hes"));
        assert!(!swl.allows_linkage(Purpose::Commissioning, "national_hes", "national_hes"));
    }

    #[test]
    fn dsa_refuses_purposes_and_roles_it_does_not_allow() {
        let demo = shipped_one("DSA-HAVEN-DEMO");
        let today = day("2026-11-22");
        let m = refusal(demo.check(today, Purpose::DirectCare, Role::Viewer));
        assert_eq!(m, "role viewer may not process for direct_care under DSA DSA-HAVEN-DEMO; allowed roles: gp");
        let m = refusal(demo.check(today, Purpose::InvoiceValidation, Role::Analyst));
        assert!(m.contains("role analyst may not process for invoice_validation") && m.contains("ceff, dscro"), "{m}");
        let swl = shipped_one("NIC-791919-T4Y0Y");
        let m = refusal(swl.check(day("2026-11-22"), Purpose::InvoiceValidation, Role::Ceff));
        assert_eq!(
            m,
            "DSA NIC-791919-T4Y0Y does not cover invoice_validation; it covers population_health_benchmarking"
        );
        swl.check(day("2026-11-22"), Purpose::PopulationHealthBenchmarking, Role::Analyst).unwrap();
        let m = refusal(swl.in_force(day("2025-06-01")));
        assert!(m.starts_with("DSA NIC-791919-T4Y0Y has not started until 2026-"), "{m}");
        assert!(swl.optout_purposes().is_empty());
    }

    #[test]
    fn dsa_purpose_and_role_names_round_trip() {
        for p in Purpose::ALL {
            assert_eq!(p.name().parse::<Purpose>().unwrap(), p);
            assert_eq!(p.to_string(), p.name());
        }
        for r in Role::ALL {
            assert_eq!(r.name().parse::<Role>().unwrap(), r);
        }
        let e = "research".parse::<Purpose>().unwrap_err().to_string();
        assert!(e.contains("unknown purpose \"research\"") && e.contains("direct_care"), "{e}");
        let e = "superuser".parse::<Role>().unwrap_err().to_string();
        assert!(e.contains("unknown role \"superuser\"") && e.contains("dscro"), "{e}");
        assert_eq!(Purpose::InvoiceValidation.optout_purpose_code(), None);
        assert_eq!(Purpose::DirectCare.optout_purpose_code(), None);
        assert_eq!(Purpose::RiskStratification.optout_purpose_code(), Some("RISK_STRATIFICATION"));
        assert_eq!(Purpose::Commissioning.optout_purpose_code(), Some("COMMISSIONING"));
    }

    const BASE: &str = r#"
id = "DSA-TEST"
title = "Test agreement"
controllers = ["QMJ"]
start = "2024-04-01"
end = "2031-03-31"
datasets = ["sus_apc", "gp_extract", "national_hes"]
minimisation = ["registered", "resident", "hosted"]
retention_years = 5
sublicensing = false
territory = "England and Wales"
synthetic = true
source = "unit test"

[[purposes]]
purpose = "invoice_validation"
legal_basis = "NHS Act 2006 s251 (CAG 7-07(a-c)/2013)"
optout_applies = false
roles = ["ceff", "dscro"]

[[purposes]]
purpose = "risk_stratification"
legal_basis = "NHS Act 2006 s251 (CAG 7-04(a)/2013)"
optout_applies = true
roles = ["analyst", "gp"]

[[purposes]]
purpose = "direct_care"
legal_basis = "UK GDPR Art 6(1)(e) and 9(2)(h)"
optout_applies = false
roles = ["gp"]

[[linkages]]
purpose = "risk_stratification"
datasets = ["sus_apc", "gp_extract"]
"#;

    /// `BASE` with `old` replaced by `new`; `old` must occur.
    fn edit(old: &str, new: &str) -> String {
        assert!(BASE.contains(old), "test edit {old:?} does not match");
        BASE.replacen(old, new, 1)
    }

    fn refused_file(text: &str) -> String {
        match Dsa::from_toml("bad.toml", text) {
            Err(e @ GovernanceError::Dsa { .. }) => {
                let GovernanceError::Dsa { file, reason } = &e else { unreachable!() };
                assert_eq!(file, "bad.toml");
                assert_eq!(e.to_string(), format!("DSA bad.toml: {reason}"));
                reason.clone()
            }
            other => panic!("expected the file to be refused, got {other:?}"),
        }
    }

    #[test]
    fn dsa_base_test_file_is_valid() {
        let d = Dsa::from_toml("good.toml", BASE).unwrap();
        assert_eq!(d.id, "DSA-TEST");
        assert_eq!(d.optout_purposes(), ["RISK_STRATIFICATION"]);
        assert!(d.allows_linkage(Purpose::RiskStratification, "gp_extract", "sus_apc"));
        assert!(!d.allows_linkage(Purpose::DirectCare, "gp_extract", "sus_apc"));
    }

    #[test]
    fn dsa_malformed_and_contradictory_files_are_refused() {
        let purposes_start = BASE.find("[[purposes]]").unwrap();
        let no_purposes = format!("{}purposes = []\n", &BASE[..purposes_start]);
        let cases: Vec<(&str, String, &str)> = vec![
            ("unknown key", format!("colour = \"red\"\n{BASE}"), "unknown field `colour`"),
            ("unknown key in a purpose", edit("optout_applies = false\nroles = [\"gp\"]", "optout_applies = false\nroles = [\"gp\"]\nnote = 1"), "unknown field `note`"),
            ("missing key", edit("territory = \"England and Wales\"\n", ""), "missing field `territory`"),
            ("missing key in a purpose", edit("legal_basis = \"UK GDPR Art 6(1)(e) and 9(2)(h)\"\n", ""), "missing field `legal_basis`"),
            ("not TOML", "id = ".into(), "line 1 `id =`"),
            ("unquoted date", edit("start = \"2024-04-01\"", "start = 2024-04-01"), "write dates as quoted strings"),
            ("end before start", edit("end = \"2031-03-31\"", "end = \"2023-03-31\""), "`end` 2023-03-31 is before `start` 2024-04-01"),
            ("impossible date", edit("start = \"2024-04-01\"", "start = \"2024-02-30\""), "`start` \"2024-02-30\""),
            ("date not ISO", edit("start = \"2024-04-01\"", "start = \"01/04/2024\""), "not a date in the form YYYY-MM-DD"),
            ("empty purposes", no_purposes, "`purposes` is empty"),
            ("duplicate purpose", edit("purpose = \"direct_care\"", "purpose = \"risk_stratification\""), "`purposes`: risk_stratification is listed twice"),
            ("purpose without roles", edit("roles = [\"gp\"]", "roles = []"), "`purposes.roles` for direct_care is empty"),
            ("unknown purpose", edit("purpose = \"direct_care\"", "purpose = \"research\""), "unknown variant `research`"),
            ("unknown role", edit("roles = [\"gp\"]", "roles = [\"nurse\"]"), "unknown variant `nurse`"),
            ("empty legal basis", edit("legal_basis = \"UK GDPR Art 6(1)(e) and 9(2)(h)\"", "legal_basis = \" \""), "`purposes.legal_basis` for direct_care is empty"),
            ("opt-out on invoice validation", edit("optout_applies = false\nroles = [\"ceff\", \"dscro\"]", "optout_applies = true\nroles = [\"ceff\", \"dscro\"]"), "`purposes.optout_applies` is true for invoice_validation, but the national data opt-out does not apply"),
            ("opt-out on direct care", edit("optout_applies = false\nroles = [\"gp\"]", "optout_applies = true\nroles = [\"gp\"]"), "`purposes.optout_applies` is true for direct_care"),
            ("auditor granted a purpose", edit("roles = [\"analyst\", \"gp\"]", "roles = [\"analyst\", \"auditor\"]"), "grants auditor, which sees no patient data"),
            ("ceff outside invoice validation", edit("roles = [\"analyst\", \"gp\"]", "roles = [\"ceff\"]"), "`purposes.roles` for risk_stratification grants ceff"),
            ("invoice validation outside the CEfF", edit("roles = [\"ceff\", \"dscro\"]", "roles = [\"ceff\", \"analyst\"]"), "`purposes.roles` for invoice_validation grants analyst"),
            ("duplicate role", edit("roles = [\"gp\"]", "roles = [\"gp\", \"gp\"]"), "lists gp twice"),
            ("national linked with local", edit("datasets = [\"sus_apc\", \"gp_extract\"]", "datasets = [\"national_hes\", \"sus_apc\"]"), "joins national dataset national_hes with local dataset sus_apc"),
            ("linkage for a purpose not agreed", edit("purpose = \"risk_stratification\"\ndatasets", "purpose = \"commissioning\"\ndatasets"), "`linkages`: a linkage is for commissioning, which the agreement's `purposes` do not cover"),
            ("linkage of an unlisted dataset", edit("datasets = [\"sus_apc\", \"gp_extract\"]", "datasets = [\"sus_op\", \"gp_extract\"]"), "names sus_op, which is not in `datasets`"),
            ("linkage of one dataset", edit("datasets = [\"sus_apc\", \"gp_extract\"]", "datasets = [\"sus_apc\"]"), "fewer than two datasets"),
            ("unknown minimisation", edit("\"hosted\"]", "\"postcode\"]"), "`minimisation`: \"postcode\" is not one of registered, resident, hosted"),
            ("no minimisation with local data", edit("minimisation = [\"registered\", \"resident\", \"hosted\"]", "minimisation = []"), "`minimisation` is empty but the agreement covers local dataset sus_apc"),
            ("zero retention", edit("retention_years = 5", "retention_years = 0"), "`retention_years` is 0"),
            ("negative retention", edit("retention_years = 5", "retention_years = -1"), "retention_years"),
            ("lower-case controller", edit("controllers = [\"QMJ\"]", "controllers = [\"qmj\"]"), "`controllers`: \"qmj\" is not an ODS code"),
            ("long controller", edit("controllers = [\"QMJ\"]", "controllers = [\"QMJ1\"]"), "`controllers`: \"QMJ1\" is not an ODS code"),
            ("punctuated controller", edit("controllers = [\"QMJ\"]", "controllers = [\"Q-J\"]"), "`controllers`: \"Q-J\" is not an ODS code"),
            ("no controllers", edit("controllers = [\"QMJ\"]", "controllers = []"), "`controllers` is empty"),
            ("duplicate controller", edit("controllers = [\"QMJ\"]", "controllers = [\"QMJ\", \"00Q\", \"QMJ\"]"), "`controllers`: QMJ is listed twice"),
            ("bad id", edit("id = \"DSA-TEST\"", "id = \"dsa test\""), "`id` \"dsa test\""),
            ("bad dataset name", edit("\"national_hes\"]", "\"National HES\"]"), "`datasets`: \"National HES\" is not a dataset name"),
            ("no datasets", edit("datasets = [\"sus_apc\", \"gp_extract\", \"national_hes\"]", "datasets = []"), "`datasets` is empty"),
            ("empty source", edit("source = \"unit test\"", "source = \"\""), "`source` is empty"),
        ];
        for (what, text, expected) in cases {
            let reason = refused_file(&text);
            assert!(reason.contains(expected), "{what}: {reason:?} lacks {expected:?}");
        }
        // A missing top-level key has no line to point at.
        assert_eq!(refused_file(&edit("territory = \"England and Wales\"\n", "")), "missing field `territory`");
    }

    #[test]
    fn dsa_national_only_agreement_needs_no_minimisation() {
        let text = edit(
            "datasets = [\"sus_apc\", \"gp_extract\", \"national_hes\"]",
            "datasets = [\"national_hes\", \"national_ecds\"]",
        )
        .replace("minimisation = [\"registered\", \"resident\", \"hosted\"]", "minimisation = []")
        .replace("datasets = [\"sus_apc\", \"gp_extract\"]", "datasets = [\"national_hes\", \"national_ecds\"]");
        let d = Dsa::from_toml("national.toml", &text).unwrap();
        assert!(d.minimisation.is_empty());
        assert!(d.allows_linkage(Purpose::RiskStratification, "national_ecds", "national_hes"));
    }
}

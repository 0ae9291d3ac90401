//! One validation run: every line matched to SUS+ activity and put through
//! every rule, ending `validated` or `challenged` with its reasons; and the
//! invoice-level checks (totals, invoice numbers).

use std::collections::BTreeMap;

use hashbrown::HashMap;
use rayon::prelude::*;

use haven_model::rules::Responsibility;
use haven_model::Date;

use crate::check::{self, Finding, Sus};
use crate::duplicate;
use crate::matching::{Index, MatchedBy, SusRef};
use crate::model::{Code, Config, Inputs, Invoice, Key, Line, Setting};
use crate::reason::Reason;

/// What became of one line.
#[derive(Clone, Debug)]
pub struct LineOutcome {
    pub invoice_id: Code,
    /// Empty when the line's header is missing.
    pub invoice_number: Code,
    pub line_no: i64,
    pub provider: Code,
    pub setting: &'static str,
    pub pod: Code,
    pub activity_date: Option<Date>,
    /// The patient's CEfF token: reports count contributors by it; never
    /// written out.
    pub person: Option<Key>,
    /// The registered practice (SUS+'s where matched, else as billed).
    pub practice: Code,
    /// Billed as non-contracted activity (the invoice's CONTRACT_TYPE).
    pub nca: bool,
    /// The responsible commissioner by Who Pays? as at the activity date
    /// (`check::commissioner_name`).
    pub commissioner: Code,
    pub matched_by: MatchedBy,
    /// The matched SUS+ record's key, as the CEfF zone holds it.
    pub sus_key: Option<Key>,
    /// Billed and expected amounts, pence.
    pub billed: Option<i64>,
    pub expected: Option<i64>,
    pub findings: Vec<Finding>,
}

impl LineOutcome {
    pub fn challenged(&self) -> bool {
        !self.findings.is_empty()
    }

    pub fn outcome(&self) -> &'static str {
        if self.challenged() {
            "challenged"
        } else {
            "validated"
        }
    }

    /// The reason codes, in table order, each once.
    pub fn reasons(&self) -> Vec<Reason> {
        let mut r: Vec<Reason> = self.findings.iter().map(|f| f.reason).collect();
        r.sort();
        r.dedup();
        r
    }
}

/// An invoice-level finding.
#[derive(Clone, Debug)]
pub struct InvoiceFinding {
    pub invoice_id: String,
    pub invoice_number: String,
    pub provider: String,
    pub finding: Finding,
}

/// A run's results.
#[derive(Clone, Debug, Default)]
pub struct Validation {
    pub lines: Vec<LineOutcome>,
    pub invoices: Vec<InvoiceFinding>,
}

impl Validation {
    pub fn challenged(&self) -> impl Iterator<Item = &LineOutcome> {
        self.lines.iter().filter(|l| l.challenged())
    }

    /// Value billed on challenged lines, pence.
    pub fn value_challenged(&self) -> i64 {
        self.challenged().filter_map(|l| l.billed).sum()
    }
}

/// Whether an invoice's activity period starts in `month` (`YYYY-MM`).
fn in_month(inv: Option<&Invoice>, month: Option<&str>) -> bool {
    let Some(month) = month else { return true };
    inv.and_then(|i| i.period_start).is_some_and(|d| d.to_string().starts_with(month))
}

/// Validates every line of `inputs` (reporting those of `month`, when given,
/// though duplicates are found against every earlier month's lines).
pub fn run(inputs: &Inputs, cfg: &Config, month: Option<&str>) -> Validation {
    let ix = Index::new(inputs);
    let orgs = with_health_and_justice(inputs, cfg);
    let headers: HashMap<Code, &Invoice> = inputs.invoices.iter().map(|i| (i.id, i)).collect();
    let header = |l: &Line| headers.get(&l.invoice_id).copied();
    let matches: Vec<(MatchedBy, Option<SusRef>)> = inputs.lines.par_iter().map(|l| ix.find(l)).collect();
    let refs: Vec<Option<SusRef>> = matches.iter().map(|m| m.1).collect();
    let mut order: Vec<usize> = (0..inputs.lines.len()).collect();
    order.par_sort_by_cached_key(|&i| {
        let l = &inputs.lines[i];
        let h = header(l);
        // A line without a header is never the one paid: it sorts last.
        (h.is_none(), h.and_then(|h| h.period_start), h.and_then(|h| h.invoice_date), h.map(|h| h.number.as_str()), l.invoice_id.as_str(), l.line_no)
    });
    let dups = duplicate::find(&inputs.lines, &order, &refs);
    // Each line's rules read only the inputs and the matches and duplicates
    // found above, so lines are checked in parallel (in billing order).
    // The month's lines first, so the outcomes are collected straight into
    // one vector of known length.
    order.retain(|&i| in_month(header(&inputs.lines[i]), month));
    let lines = order
        .par_iter()
        .map(|&i| {
            let l = &inputs.lines[i];
            let h = header(l);
            let (matched_by, r) = matches[i];
            let sus = r.map(|r| ix.get(r));
            let who = check::who_pays(l, sus, orgs.as_ref());
            let mut findings = line_findings(inputs, cfg, &ix, l, h, sus, who.as_ref());
            if let Some(j) = dups[i] {
                let (o, oh) = (&inputs.lines[j], header(&inputs.lines[j]));
                findings.push(Finding::new(Reason::Duplicate, format!("already billed on invoice {} line {}", oh.map_or("(no header)", |h| &h.number), o.line_no)));
            }
            let priced = check::price(l, sus, &inputs.prices, cfg);
            findings.extend(priced.findings);
            findings.sort_by_key(|f| f.reason);
            LineOutcome {
                invoice_id: l.invoice_id.clone(),
                invoice_number: h.map(|h| h.number.clone()).unwrap_or_default(),
                line_no: l.line_no,
                provider: l.procode3.clone(),
                setting: l.setting.map_or("", Setting::name),
                pod: l.pod.clone(),
                activity_date: l.activity_date,
                person: l.person.clone(),
                practice: sus.map(check::Sus::practice).filter(|p| !p.trim().is_empty()).unwrap_or(l.gpprac),
                nca: h.is_some_and(|h| h.nca),
                commissioner: Code::from(check::commissioner_name(who.as_ref().map(|w| &w.0)).as_str()),
                matched_by,
                sus_key: sus.and_then(key_of),
                billed: l.amount,
                expected: priced.expected,
                findings,
            }
        })
        .collect();
    let invoices = invoice_findings(inputs, month);
    Validation { lines, invoices }
}

/// The reference tables with the ICB's health-and-justice practices
/// (`Config::health_and_justice`) named, for Who Pays?.
fn with_health_and_justice<'a>(inputs: &'a Inputs, cfg: &Config) -> std::borrow::Cow<'a, haven_model::rules::OrgTable> {
    if cfg.health_and_justice.is_empty() {
        return std::borrow::Cow::Borrowed(&inputs.orgs);
    }
    let mut orgs = inputs.orgs.clone();
    orgs.set_health_and_justice(cfg.health_and_justice.iter().cloned());
    std::borrow::Cow::Owned(orgs)
}

fn key_of(s: Sus<'_>) -> Option<Key> {
    match s {
        Sus::Spell(s) => s.sus_key.clone().or_else(|| s.provspno.clone()),
        Sus::Attendance(a) => Some(a.key.clone()).filter(|k| !k.is_empty()),
    }
}

/// Every rule but duplicates and price, for one line.
fn line_findings(inputs: &Inputs, cfg: &Config, ix: &Index<'_>, l: &Line, h: Option<&Invoice>, sus: Option<Sus<'_>>, who: Option<&(Responsibility, Date)>) -> Vec<Finding> {
    let mut f = Vec::new();
    if h.is_none() {
        f.push(Finding::new(Reason::NoInvoiceHeader, "the line's INVOICE_ID has no invoice_header row"));
    }
    f.extend(check::line(l, inputs.orgs.is_empty() || inputs.orgs.is_provider(&l.procode3)));
    let responsibility = check::responsibility_of(who, icb_of(inputs, cfg, h));
    // The CEfF copy of SUS+ holds the ICB's own patients only, so for
    // another commissioner's patient a missing record says nothing more.
    let ours = responsibility.is_none();
    f.extend(responsibility);
    if sus.is_none() && ours && matches!(l.setting, Some(Setting::Apc | Setting::Op | Setting::Ae)) {
        f.push(Finding::new(Reason::NoSusRecord, "no SUS+ record by the key quoted, the spell number, or patient, provider, date and setting"));
    }
    f.extend(check::after_death(l, l.person.as_ref().and_then(|p| inputs.deaths.get(p)).copied()));
    if cfg.inside_spell {
        let matched = match sus {
            Some(Sus::Spell(s)) => Some(s),
            _ => None,
        };
        f.extend(check::inside_spell(l, ix.spells_of(l.person.as_ref(), l.procode3), matched));
    }
    if let Some(h) = h {
        f.extend(check::prior_approval(l, h));
    }
    if let Some(Sus::Spell(s)) = sus {
        f.extend(check::ebi(l, s, cfg));
    }
    f
}

/// The ICB validating: the configured one, else the commissioner the
/// invoice is addressed to (a sub-ICB code stands for its ICB).
fn icb_of<'a>(inputs: &'a Inputs, cfg: &'a Config, h: Option<&'a Invoice>) -> &'a str {
    use haven_model::rules::OrgLookup;
    if !cfg.icb.is_empty() {
        return &cfg.icb;
    }
    let code = h.map_or("", |h| h.commissioner.as_str());
    inputs.orgs.sub_icb_icb(code).unwrap_or(code)
}

/// Invoice-level checks: TOTAL_NET against the sum of the lines, and
/// invoice numbers reused by the same provider.
fn invoice_findings(inputs: &Inputs, month: Option<&str>) -> Vec<InvoiceFinding> {
    let mut sums: HashMap<&str, i64> = HashMap::new();
    for l in &inputs.lines {
        *sums.entry(l.invoice_id.as_str()).or_default() += l.amount.unwrap_or(0);
    }
    let mut numbers: BTreeMap<(&str, &str), Vec<&Invoice>> = BTreeMap::new();
    let mut out = Vec::new();
    let finding = |inv: &Invoice, f: Finding| InvoiceFinding { invoice_id: inv.id.to_string(), invoice_number: inv.number.to_string(), provider: inv.provider.to_string(), finding: f };
    for inv in inputs.invoices.iter().filter(|i| in_month(Some(i), month)) {
        numbers.entry((inv.provider.as_str(), inv.number.as_str())).or_default().push(inv);
        let sum = sums.get(inv.id.as_str()).copied().unwrap_or(0);
        if inv.total_net != Some(sum) {
            let total = inv.total_net.map_or("missing".to_string(), |t| format!("{t}p"));
            out.push(finding(inv, Finding::new(Reason::InvoiceTotalMismatch, format!("TOTAL_NET {total}, lines sum to {sum}p"))));
        }
    }
    for invs in numbers.values().filter(|v| v.len() > 1) {
        for inv in invs {
            out.push(finding(inv, Finding::new(Reason::DuplicateInvoiceNumber, format!("{} invoices of this provider share the number", invs.len()))));
        }
    }
    if let Some(acm) = &inputs.acm {
        out.extend(acm_findings(inputs, acm, month).into_iter().map(|(inv, f)| finding(inv, f)));
    }
    out
}

/// The ACM check (datasets.md §6.1: "its total must equal the invoice
/// value"): ACM is returned for contracted activity, monthly, per provider
/// and commissioner, so the contracted invoices of a provider, commissioner
/// and activity month together must total the ACM rows of that month, to
/// the penny. NCA invoices have no ACM and are not checked.
fn acm_findings<'a>(inputs: &'a Inputs, acm: &std::collections::HashMap<(String, String, Date), i64>, month: Option<&str>) -> Vec<(&'a Invoice, Finding)> {
    let mut groups: BTreeMap<(&str, &str, Date), Vec<&Invoice>> = BTreeMap::new();
    for inv in inputs.invoices.iter().filter(|i| !i.nca && in_month(Some(i), month)) {
        if let Some(start) = inv.period_start {
            groups.entry((inv.provider.as_str(), inv.commissioner.as_str(), start.first_of_month())).or_default().push(inv);
        }
    }
    let mut out = Vec::new();
    for ((provider, commissioner, m), invs) in groups {
        let billed: i64 = invs.iter().map(|i| i.total_net.unwrap_or(0)).sum();
        let f = match acm.get(&(provider.to_owned(), commissioner.to_owned(), m)) {
            None => Finding::new(Reason::NoAcmTotal, format!("no ACM rows for provider {provider}, commissioner {commissioner}, {}", &m.to_string()[..7])),
            Some(&total) if total != billed => Finding::new(Reason::AcmTotalMismatch, format!("contracted invoices total {billed}p, ACM {total}p for {}", &m.to_string()[..7])),
            Some(_) => continue,
        };
        out.extend(invs.into_iter().map(|i| (i, f.clone())));
    }
    out
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

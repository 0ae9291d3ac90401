//! The line rules, each a pure function of the line, the SUS+ record it
//! matched and the reference data, giving a [`Finding`] (reason code and the
//! evidence a finance validator reads) or nothing. Sources are in the
//! reason table (`crate::reason::REASONS`) and beside each rule.

use haven_model::rules::{ebi_intervention, price_apc_spell, responsible_commissioner, CodedAdmission, OrgLookup, Responsibility, SpellForPricing};
use haven_model::Date;
use serde::Serialize;

use crate::model::{Attendance, Code, Config, Invoice, Key, Line, Prices, Setting, Spell};
use crate::reason::Reason;

/// A reason and its evidence. Evidence stays in the CEfF: it names the SUS+
/// record's key and amounts, never a patient identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub reason: Reason,
    pub evidence: String,
}

impl Finding {
    pub fn new(reason: Reason, evidence: impl Into<String>) -> Finding {
        Finding { reason, evidence: evidence.into() }
    }
}

/// The SUS+ record a line matched.
#[derive(Clone, Copy, Debug)]
pub enum Sus<'a> {
    Spell(&'a Spell),
    Attendance(&'a Attendance),
}

impl<'a> Sus<'a> {
    /// The registered practice SUS+ gives.
    pub fn practice(self) -> Code {
        match self {
            Sus::Spell(s) => s.practice,
            Sus::Attendance(a) => a.practice,
        }
    }
    fn lsoa(self) -> Option<Code> {
        match self {
            Sus::Spell(s) => s.lsoa,
            Sus::Attendance(a) => a.lsoa,
        }
    }
    fn tretspef(self) -> Code {
        match self {
            Sus::Spell(s) => s.tretspef,
            Sus::Attendance(a) => a.tretspef,
        }
    }
    /// The activity date: admission, appointment or arrival.
    pub fn date(self) -> Option<Date> {
        match self {
            Sus::Spell(s) => s.admidate,
            Sus::Attendance(a) => a.date,
        }
    }
}

/// Pence as pounds, `£12.34` (`-£0.50`).
pub fn money(p: i64) -> String {
    let sign = if p < 0 { "-" } else { "" };
    format!("{sign}£{}.{:02}", p.abs() / 100, p.abs() % 100)
}

/// Who Pays? (datasets.md §6.2, `haven_model::rules::responsible_commissioner`)
/// as at the activity date, from the SUS+ record's registered practice and
/// residence where the line matched one (SUS+ derives them from PDS), else
/// from the practice and the postcode's LSOA the provider billed. `None` when the ICB billed is
/// responsible, or when nothing decides it (no date, no organisation).
pub fn responsibility(line: &Line, sus: Option<Sus<'_>>, orgs: &impl OrgLookup, icb: &str) -> Option<Finding> {
    responsibility_of(who_pays(line, sus, orgs).as_ref(), icb)
}

/// [`responsibility`] from the line's Who Pays? answer already found (by
/// [`who_pays`]), so a run asks it once per line.
pub fn responsibility_of(who_pays: Option<&(Responsibility, Date)>, icb: &str) -> Option<Finding> {
    let (who, on) = who_pays?;
    match who {
        Responsibility::NhsEngland(why) => Some(Finding::new(Reason::NhseCommissioned, format!("Who Pays?: NHS England ({why:?}) on {on}"))),
        Responsibility::SubIcb { sub_icb, icb: other, origin } if other.as_str() != icb => Some(Finding::new(
            Reason::NotResponsibleCommissioner,
            format!("Who Pays?: sub-ICB {sub_icb} of ICB {other} (by {origin:?}) on {on}, not {icb}"),
        )),
        _ => None,
    }
}

/// Who Pays? for a line as at its activity date, with that date (the
/// inputs [`responsibility`] reads); `None` without a date. The
/// health-and-justice step does not apply to A&E (CAM v5.3 step E: "not
/// for A&E POD"), so an A&E attendance of a prison practice's patient
/// falls to the practice's sub-ICB like any other.
pub fn who_pays(line: &Line, sus: Option<Sus<'_>>, orgs: &impl OrgLookup) -> Option<(Responsibility, Date)> {
    if line.setting == Some(Setting::Ae) {
        return who_pays_by(line, sus, &NotHealthAndJustice(orgs));
    }
    who_pays_by(line, sus, orgs)
}

/// The lookups of `O` with no practice health-and-justice (for A&E).
struct NotHealthAndJustice<'a, O>(&'a O);

impl<O: OrgLookup> OrgLookup for NotHealthAndJustice<'_, O> {
    fn practice_sub_icb(&self, practice: &str, on: Date) -> Option<&str> {
        self.0.practice_sub_icb(practice, on)
    }
    fn practice_parent_is_armed_forces(&self, practice: &str) -> bool {
        self.0.practice_parent_is_armed_forces(practice)
    }
    fn practice_is_health_and_justice(&self, _practice: &str) -> bool {
        false
    }
    fn lsoa_sub_icb(&self, lsoa: &str) -> Option<&str> {
        self.0.lsoa_sub_icb(lsoa)
    }
    fn provider_host_sub_icb(&self, procode3: &str) -> Option<&str> {
        self.0.provider_host_sub_icb(procode3)
    }
    fn sub_icb_icb(&self, sub_icb: &str) -> Option<&str> {
        self.0.sub_icb_icb(sub_icb)
    }
}

fn who_pays_by(line: &Line, sus: Option<Sus<'_>>, orgs: &impl OrgLookup) -> Option<(Responsibility, Date)> {
    let practice = sus.map(Sus::practice).filter(|p| !p.trim().is_empty()).unwrap_or(line.gpprac);
    let tretspef = sus.map(Sus::tretspef).filter(|t| !t.is_empty()).unwrap_or(line.tretspef);
    let on = sus.and_then(Sus::date).or(line.activity_date)?;
    let lsoa = sus.and_then(Sus::lsoa).or(line.lsoa);
    Some((responsible_commissioner(&practice, lsoa.as_deref(), &line.procode3, &tretspef, on, orgs), on))
}

/// The responsible commissioner in a report's words: the ICB's code, "NHS
/// England", or "unknown".
pub fn commissioner_name(who: Option<&Responsibility>) -> String {
    match who {
        Some(Responsibility::SubIcb { icb, .. }) => icb.clone(),
        Some(Responsibility::NhsEngland(_)) => "NHS England".into(),
        _ => "unknown".into(),
    }
}

/// The repricing of one line, and a finding when the amount billed is off.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Priced {
    /// What SUS+ activity comes to at the loaded prices, pence.
    pub expected: Option<i64>,
    pub findings: Vec<Finding>,
}

/// Reprices the matched activity and compares it with the amount billed.
///
/// APC: the spell's HRG at the tariff of the financial year of discharge
/// (spells are paid in the year they end; an open spell at admission), by
/// `haven_model::rules::price_apc_spell` — base price for the admission
/// type, excess bed days over the trim point, reduced short-stay emergency
/// price, × MFF (datasets.md §6.3). OP and A&E: SUS+'s own price.
pub fn price(line: &Line, sus: Option<Sus<'_>>, prices: &Prices, cfg: &Config) -> Priced {
    let Some(billed) = line.amount else { return Priced::default() };
    let expected = match sus {
        None => return Priced::default(),
        Some(Sus::Spell(s)) => match reprice(s, prices, cfg) {
            Ok(total) => total,
            Err(f) => return Priced { expected: None, findings: vec![f] },
        },
        Some(Sus::Attendance(a)) => match a.sus_price {
            Some(p) => p,
            None => return Priced::default(),
        },
    };
    let tolerance = cfg.tolerance_pence.max((expected as f64 * cfg.tolerance_share).round() as i64);
    let over = billed - expected;
    let mut findings = Vec::new();
    if over > tolerance || (cfg.challenge_underbilling && -over > tolerance) {
        findings.push(Finding::new(Reason::PriceDifference, format!("billed {}, expected {} (difference {})", money(billed), money(expected), money(over))));
        let sus_hrg = match sus {
            Some(Sus::Spell(s)) => s.hrg.as_str(),
            Some(Sus::Attendance(a)) => a.hrg.as_str(),
            None => "",
        };
        if !line.hrg.is_empty() && !sus_hrg.is_empty() && line.hrg != sus_hrg {
            findings.push(Finding::new(Reason::HrgDifference, format!("billed HRG {}, SUS+ HRG {sus_hrg}", line.hrg)));
        }
    }
    Priced { expected: Some(expected), findings }
}

/// A spell at the loaded prices, or why it cannot be priced.
fn reprice(s: &Spell, prices: &Prices, cfg: &Config) -> Result<i64, Finding> {
    let day = s.disdate.or(s.admidate).ok_or_else(|| Finding::new(Reason::HrgNotInTariff, "the spell has no dates to choose a tariff year by"))?;
    let fyear = day.fyear_code();
    let row = prices.apc.get(&(fyear.clone(), s.hrg.to_string())).ok_or_else(|| Finding::new(Reason::HrgNotInTariff, format!("HRG {} has no row in tariff {fyear}", s.hrg)))?;
    let mff = prices.mff.get(&(fyear.clone(), s.provider.to_string())).copied().unwrap_or(1.0);
    let spell = SpellForPricing { admimeth: &s.admimeth, classpat: &s.classpat, los_net: s.los().unwrap_or(0).max(0), age_years: s.age.map_or(0, |a| if a > 120 { 0 } else { a as u8 }) };
    price_apc_spell(spell, row, mff, cfg.ssem)
        .map(|p| p.total)
        .ok_or_else(|| Finding::new(Reason::HrgNotInTariff, format!("HRG {} has no price for admission method {} in tariff {fyear}", s.hrg, s.admimeth)))
}

/// Activity dated after the patient's registered death.
pub fn after_death(line: &Line, death: Option<Date>) -> Option<Finding> {
    let (death, day) = (death?, line.activity_date?);
    (day > death).then(|| Finding::new(Reason::ActivityAfterDeath, format!("activity {day}, {} days after the registered death", day.days_since(death))))
}

/// A day case, outpatient or A&E attendance strictly inside an inpatient
/// spell of the same patient at the same provider (after the admission
/// day, before the discharge day): the spell's price covers it. The day of
/// admission is excluded because an A&E attendance or a clinic is how many
/// admissions start; the day of discharge because follow-up can begin then.
pub fn inside_spell<'a>(line: &Line, spells: impl IntoIterator<Item = &'a Spell>, matched: Option<&Spell>) -> Option<Finding> {
    let eligible = matches!(line.setting, Some(Setting::Op | Setting::Ae)) || line.is_day_case();
    let day = line.activity_date.filter(|_| eligible)?;
    spells
        .into_iter()
        .filter(|s| s.is_inpatient() && s.provider == line.procode3 && !matched.is_some_and(|m| std::ptr::eq(m, *s)))
        .find(|s| s.admidate.is_some_and(|a| a < day) && s.disdate.is_none_or(|d| day < d))
        .map(|s| {
            let dis = s.disdate.map_or("open".to_string(), |d| d.to_string());
            let key = s.sus_key.as_ref().map_or("without key".to_string(), Key::to_string);
            Finding::new(Reason::InsideSpell, format!("inside SUS+ spell {key} ({} to {dis})", s.admidate.expect("checked")))
        })
}

fn missing(r: &Option<Key>) -> bool {
    r.as_ref().is_none_or(Key::is_empty)
}

/// Elective non-contracted activity needs the prior notification or
/// approval reference the ICB issued (datasets.md §6.1, NCA policies);
/// emergency NCA is payable without one.
pub fn prior_approval(line: &Line, invoice: &Invoice) -> Option<Finding> {
    (invoice.nca && line.is_elective() && missing(&line.prior_approval))
        .then(|| Finding::new(Reason::NoPriorApproval, "elective non-contracted activity without a prior approval reference"))
}

/// An Evidence-Based Interventions list-1 procedure (classified by
/// `haven_model::rules::ebi`, the indicator's rule) billed without a prior
/// approval reference.
pub fn ebi(line: &Line, spell: &Spell, cfg: &Config) -> Option<Finding> {
    if !cfg.ebi_prior_approval || !missing(&line.prior_approval) {
        return None;
    }
    let coded = CodedAdmission {
        diagnoses: spell.diagnoses.iter().map(|c| c.as_str()).collect(),
        procedures: spell.procedures.iter().map(|c| c.as_str()).collect(),
        startage: spell.age,
        sex: Some(spell.sex.as_str()).filter(|s| !s.is_empty()),
        admimeth: Some(spell.admimeth.as_str()).filter(|s| !s.is_empty()),
        admisorc: None,
        epiorder: Some("01"),
        epistat: Some("3"),
        epitype: Some("1"),
        classpat: Some(spell.classpat.as_str()).filter(|s| !s.is_empty()),
        cause: None,
    };
    let i = ebi_intervention(&coded).filter(|i| i.list() == 1)?;
    Some(Finding::new(Reason::EbiNoPriorApproval, format!("EBI list 1: {} without prior approval", i.name())))
}

/// The line's own fields: a quantity and an amount that can be paid, from a
/// provider the reference tables know.
pub fn line(line: &Line, provider_known: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    if line.quantity.is_none_or(|q| q <= 0.0 || q.is_nan()) {
        out.push(Finding::new(Reason::InvalidQuantity, "QUANTITY is missing, zero or negative"));
    }
    if line.amount.is_none_or(|a| a < 0) {
        out.push(Finding::new(Reason::InvalidAmount, "LINE_AMOUNT is missing or negative"));
    }
    if !provider_known {
        out.push(Finding::new(Reason::UnknownProvider, "PROCODE3 is not an organisation in the loaded reference tables"));
    }
    out
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;

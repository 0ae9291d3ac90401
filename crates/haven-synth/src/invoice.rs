//! Providers' invoices to the focus ICB, with backing data, and deliberate
//! errors recorded in a ground-truth file.
//!
//! Every billable local record (APC spell, attended outpatient appointment,
//! ECDS attendance) becomes a candidate line. The assembler bills the focus
//! ICB for lines that are its responsibility, priced as SUS priced them
//! (APC through haven-model's single repricing rule), and injects a known
//! share of wrong lines: another commissioner's patient, duplicates, prices
//! above tariff, activity absent from SUS+, activity after death, and
//! non-contracted activity billed to the wrong ICB (datasets.md §6, §11.9).

use std::collections::BTreeMap;

use haven_model::rules::{price_apc_spell, SpellForPricing, SsemAgeRule, TariffRow};
use haven_model::Date;

use crate::activity::{Ctx, SpellSpec};
use crate::clinical;
use crate::people::Person;
use crate::rng::Rng;
use crate::sink::{RowSink, Sink};

/// The kinds of deliberate error, as written to the ground truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotResponsibleCommissioner,
    Duplicate,
    PriceAboveTariff,
    NoSusRecord,
    ActivityAfterDeath,
    NcaWrongCommissioner,
    /// Elective non-contracted activity billed without its prior
    /// notification reference (NCA policy, datasets.md §6.1).
    NoPriorApproval,
    /// An EBI list-1 procedure billed without prior approval.
    EbiNoPriorApproval,
    /// An attendance or day case dated inside an inpatient spell at the
    /// same provider: billed separately, or scheduled there by chance.
    InsideSpell,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotResponsibleCommissioner => "NOT_RESPONSIBLE_COMMISSIONER",
            Self::Duplicate => "DUPLICATE",
            Self::PriceAboveTariff => "PRICE_ABOVE_TARIFF",
            Self::NoSusRecord => "NO_SUS_RECORD",
            Self::ActivityAfterDeath => "ACTIVITY_AFTER_DEATH",
            Self::NcaWrongCommissioner => "NCA_WRONG_COMMISSIONER",
            Self::NoPriorApproval => "NO_PRIOR_APPROVAL",
            Self::EbiNoPriorApproval => "EBI_NO_PRIOR_APPROVAL",
            Self::InsideSpell => "INSIDE_SPELL",
        }
    }
}

/// One billable record before it is put on an invoice.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub activity_type: &'static str,
    pub person_idx: u64,
    pub nhs: String,
    pub dob: Date,
    pub sex: &'static str,
    pub lsoa: usize,
    pub gpprac: String,
    pub procode3: String,
    pub site: String,
    pub sus_key: String,
    pub provspno: String,
    pub activity_date: Date,
    pub discharge_date: Option<Date>,
    pub admimeth: &'static str,
    pub classpat: &'static str,
    pub firstatt: &'static str,
    pub tretspef: &'static str,
    pub hrg: &'static str,
    pub los: i32,
    pub age: u8,
    pub mff: f64,
    /// SUS price with MFF, pence.
    pub amount: i64,
    pub responsible_icb: Option<String>,
    pub death: Option<Date>,
    /// An Evidence-Based Interventions list-1 procedure.
    pub ebi: bool,
}

impl Candidate {
    pub fn apc(p: &Person, ctx: &Ctx, susspellid: u64, provspno: &str, s: &SpellSpec<'_>, los: i32, mff: f64) -> Self {
        let mut c = Candidate {
            activity_type: "APC",
            sus_key: format!("{susspellid:019}"),
            provspno: provspno.to_string(),
            discharge_date: Some(s.dis),
            admimeth: s.admimeth,
            classpat: s.classpat,
            hrg: s.hrg,
            tretspef: s.tretspef,
            los,
            mff,
            ..Self::base(p, ctx, s.adm)
        };
        c.amount = price(&c).total;
        c
    }

    #[allow(clippy::too_many_arguments)]
    pub fn other(p: &Person, ctx: &Ctx, kind: &'static str, key: u64, day: Date, hrg: &'static str, tretspef: &'static str, firstatt: &'static str, amount: i64, mff: f64) -> Self {
        Candidate {
            activity_type: kind,
            sus_key: if kind == "OP" { format!("{key:014}") } else { format!("{key:015}") },
            hrg,
            tretspef,
            firstatt,
            amount,
            mff,
            ..Self::base(p, ctx, day)
        }
    }

    fn base(p: &Person, ctx: &Ctx, day: Date) -> Self {
        Candidate {
            activity_type: "",
            person_idx: p.idx,
            nhs: p.nhs.expose(),
            dob: p.dob,
            sex: if p.sex == 1 { "1" } else { "2" },
            lsoa: ctx.lsoa,
            gpprac: ctx.gpprac.clone(),
            procode3: ctx.procode3.clone(),
            site: ctx.site.clone(),
            sus_key: String::new(),
            provspno: String::new(),
            activity_date: day,
            discharge_date: None,
            admimeth: "",
            classpat: "",
            firstatt: "",
            tretspef: "",
            hrg: "",
            los: 0,
            age: p.age_on(day).clamp(0, 120) as u8,
            mff: 1.0,
            amount: 0,
            responsible_icb: ctx.icb().map(str::to_string),
            death: None,
            ebi: false,
        }
    }
}

/// The tariff row the generator prices an HRG with (`tariff_apc`).
pub fn tariff_row(hrg: &str) -> TariffRow {
    let (el, nel, el_trim, nel_trim) = clinical::hrg_prices(hrg);
    TariffRow {
        hrg: hrg.to_string(),
        combined_dc_el_price: None,
        dc_price: Some(el * 8 / 10),
        el_price: Some(el),
        el_trim_point_days: Some(el_trim),
        nel_price: Some(nel),
        nel_trim_point_days: Some(nel_trim),
        long_stay_per_day: 30_000,
        ssem_price: Some(nel * 4 / 10),
        ssem_applicable: true,
    }
}

struct Priced {
    unit: i64,
    trim: Option<i32>,
    ebd: i32,
    ebd_amount: i64,
    ssem: bool,
    total: i64,
}

fn price(c: &Candidate) -> Priced {
    if c.activity_type == "APC" {
        let spell = SpellForPricing { admimeth: c.admimeth, classpat: c.classpat, los_net: c.los, age_years: c.age };
        if let Some(p) = price_apc_spell(spell, &tariff_row(c.hrg), c.mff, SsemAgeRule::default()) {
            return Priced { unit: p.base, trim: p.trim_point_days, ebd: p.excess_bed_days, ebd_amount: p.ebd_amount, ssem: p.ssem_applied, total: p.total };
        }
    }
    Priced { unit: (c.amount as f64 / c.mff).round() as i64, trim: None, ebd: 0, ebd_amount: 0, ssem: false, total: c.amount }
}

/// Assembles invoices in the order candidates arrive.
pub struct Assembler {
    focus_icb: &'static str,
    rng: Rng,
    invoices: BTreeMap<(String, i32, bool), Header>,
    pub lines: Vec<u8>,
    pub truth: Vec<u8>,
    pub line_count: u64,
    pub error_counts: BTreeMap<&'static str, u64>,
    postcode: Box<dyn Fn(usize, u64) -> String + Send>,
    hosted: Box<dyn Fn(&str) -> bool + Send>,
}

struct Header {
    number: String,
    id: String,
    lines: u32,
    total: i64,
    provider: String,
    month: i32,
    /// Lines and amount by point of delivery: the provider's ACM rows.
    by_pod: BTreeMap<&'static str, (i64, i64)>,
}

/// Of contracted invoices, the share whose ACM total the provider reports
/// differently from the invoice (a POD row short by one line's amount).
const P_ACM_MISMATCH: f64 = 0.02;

/// Error shares (of eligible lines); about 4% of lines carry an error.
const P_DUPLICATE: f64 = 0.010;
const P_PRICE: f64 = 0.012;
const P_NO_SUS: f64 = 0.006;
const P_WRONG_ICB: f64 = 0.05;
const P_AFTER_DEATH: f64 = 0.15;
/// Of lines needing a prior approval reference, the share billed without.
const P_NO_APPROVAL: f64 = 0.05;
/// Of the ICB's inpatient spells of three days or more, the share followed
/// by an outpatient attendance billed from inside the spell.
const P_INSIDE: f64 = 0.01;
/// What the generator bills for a separately billed outpatient attendance
/// inside a spell (pence; a follow-up's order of price).
const INSIDE_OP_AMOUNT: i64 = 12_000;

impl Assembler {
    pub fn new(
        focus_icb: &'static str,
        seed: u64,
        postcode: Box<dyn Fn(usize, u64) -> String + Send>,
        hosted: Box<dyn Fn(&str) -> bool + Send>,
    ) -> Self {
        Assembler {
            focus_icb,
            rng: Rng::stream(seed, &[0x1A7]),
            invoices: BTreeMap::new(),
            lines: Vec::new(),
            truth: Vec::new(),
            line_count: 0,
            error_counts: BTreeMap::new(),
            postcode,
            hosted,
        }
    }

    pub fn header_row() -> Vec<u8> {
        crate::sink::header(|h| line_row(h, &LineFields::default()))
    }

    /// Takes one chunk's candidates, in order (each person's together).
    pub fn take(&mut self, candidates: Vec<Candidate>) {
        let mut start = 0;
        while start < candidates.len() {
            let person = candidates[start].person_idx;
            let end = candidates[start..].iter().position(|c| c.person_idx != person).map_or(candidates.len(), |n| start + n);
            self.take_person(&candidates[start..end]);
            start = end;
        }
    }

    /// One person's candidates.
    fn take_person(&mut self, group: &[Candidate]) {
        for c in group {
            let ours = c.responsible_icb.as_deref() == Some(self.focus_icb);
            if ours {
                let inside = inside_spell(c, group);
                let mut err = inside.then_some(ErrorKind::InsideSpell);
                let mut amount = c.amount;
                if self.rng.chance(P_PRICE) {
                    amount += amount * self.rng.range(5, 25) / 100;
                    err = Some(ErrorKind::PriceAboveTariff);
                }
                let mut approval = true;
                if self.needs_approval(c) && self.rng.chance(P_NO_APPROVAL) {
                    approval = false;
                    err = Some(if c.ebi { ErrorKind::EbiNoPriorApproval } else { ErrorKind::NoPriorApproval });
                }
                self.bill_with(c, amount, err, 0, approval);
                if self.rng.chance(P_DUPLICATE) {
                    // The same activity billed again on next month's invoice.
                    self.bill_in_month(c, c.amount, Some(ErrorKind::Duplicate), 1);
                }
                if self.rng.chance(P_NO_SUS) {
                    let mut ghost = c.clone();
                    ghost.activity_date = c.activity_date.add_days(self.rng.range(20, 50) as i32);
                    ghost.discharge_date = c.discharge_date.map(|d| d.add_days(ghost.activity_date.days_since(c.activity_date)));
                    ghost.sus_key = String::new();
                    // A ghost dated onto real activity of the same kind at the
                    // same provider would bill that activity, not nothing: none
                    // is made then. One dated into a spell is challenged for that.
                    let real = group.iter().any(|o| o.activity_type == ghost.activity_type && o.procode3 == ghost.procode3 && o.activity_date == ghost.activity_date);
                    if !real {
                        let kind = if inside_spell(&ghost, group) { ErrorKind::InsideSpell } else { ErrorKind::NoSusRecord };
                        self.bill(&ghost, ghost.amount, Some(kind));
                    }
                }
                self.maybe_inside(c);
            } else if c.responsible_icb.is_some() && self.rng.chance(P_WRONG_ICB) {
                let kind = if (self.hosted)(&c.procode3) { ErrorKind::NotResponsibleCommissioner } else { ErrorKind::NcaWrongCommissioner };
                self.bill(c, c.amount, Some(kind));
            }
        }
        if let Some(last) = group.last() {
            self.maybe_after_death(last);
        }
    }

    /// Whether a line for `c` needs a prior approval reference: elective
    /// non-contracted activity, or an EBI list-1 procedure.
    fn needs_approval(&self, c: &Candidate) -> bool {
        c.ebi || (!(self.hosted)(&c.procode3) && is_elective(c))
    }

    /// An outpatient attendance billed from inside one of the ICB's
    /// inpatient spells of three days or more, at the same provider.
    fn maybe_inside(&mut self, c: &Candidate) {
        let Some(dis) = c.discharge_date else { return };
        if c.activity_type != "APC" || c.classpat != "1" || c.los < 3 || !self.rng.chance(P_INSIDE) {
            return;
        }
        let mut op = c.clone();
        op.activity_type = "OP";
        // Strictly between admission and discharge.
        op.activity_date = c.activity_date.add_days(self.rng.range(1, i64::from(dis.days_since(c.activity_date)) - 1) as i32);
        op.discharge_date = None;
        (op.admimeth, op.classpat, op.firstatt, op.hrg, op.los, op.ebi) = ("", "", "2", "WF01A", 0, false);
        op.sus_key = String::new();
        op.provspno = String::new();
        op.amount = INSIDE_OP_AMOUNT;
        self.bill(&op, op.amount, Some(ErrorKind::InsideSpell));
    }

    fn maybe_after_death(&mut self, c: &Candidate) {
        let Some(death) = c.death else { return };
        if c.responsible_icb.as_deref() != Some(self.focus_icb) || !self.rng.chance(P_AFTER_DEATH) {
            return;
        }
        let mut ghost = c.clone();
        ghost.activity_date = death.add_days(self.rng.range(3, 40) as i32);
        ghost.discharge_date = ghost.discharge_date.map(|_| ghost.activity_date.add_days(c.los));
        ghost.sus_key = String::new();
        self.bill(&ghost, ghost.amount, Some(ErrorKind::ActivityAfterDeath));
    }

    fn bill(&mut self, c: &Candidate, amount: i64, err: Option<ErrorKind>) {
        self.bill_in_month(c, amount, err, 0);
    }

    fn bill_in_month(&mut self, c: &Candidate, amount: i64, err: Option<ErrorKind>, months_later: i32) {
        self.bill_with(c, amount, err, months_later, true);
    }

    /// Bills `c`; `approval` false leaves out a prior approval reference the
    /// line needs.
    fn bill_with(&mut self, c: &Candidate, amount: i64, err: Option<ErrorKind>, months_later: i32, approval: bool) {
        let (y, m, _) = c.activity_date.ymd();
        let month = y * 12 + m as i32 - 1 + months_later;
        let contracted = (self.hosted)(&c.procode3);
        let key = (c.procode3.clone(), month, contracted);
        let focus = self.focus_icb;
        let header = self.invoices.entry(key).or_insert_with(|| {
            let number = format!("{}-{}{:02}-{}", c.procode3, month / 12, month % 12 + 1, if contracted { "C" } else { "N" });
            Header { id: invoice_id(&number, focus), number, lines: 0, total: 0, provider: c.procode3.clone(), month, by_pod: BTreeMap::new() }
        });
        header.lines += 1;
        header.total += amount;
        let at = header.by_pod.entry(pod(c)).or_default();
        at.0 += 1;
        at.1 += amount;
        let line_no = header.lines;
        let (number, id) = (header.number.clone(), header.id.clone());
        let priced = price(c);
        let postcode = (self.postcode)(c.lsoa, c.person_idx);
        let needs = c.ebi || (!contracted && is_elective(c));
        let fields = LineFields {
            invoice_id: &id,
            line_no,
            c: Some(c),
            postcode: &postcode,
            prior_approval: match (needs && approval, c.ebi) {
                (false, _) => String::new(),
                (true, true) => format!("IFR{:07}", c.person_idx % 10_000_000),
                (true, false) => format!("NCA{:07}", c.person_idx % 10_000_000),
            },
            priced: Some(&priced),
            amount,
        };
        let mut sink = RowSink::new(&mut self.lines);
        line_row(&mut sink, &fields);
        sink.end();
        self.line_count += 1;
        if let Some(e) = err {
            *self.error_counts.entry(e.code()).or_default() += 1;
            self.truth.extend_from_slice(format!("{number}|{line_no}|{}\n", e.code()).as_bytes());
        }
    }

    /// Aggregate contract monitoring (datasets.md §6.1), once every line is
    /// in: per contracted invoice, one row per point of delivery with its
    /// activity and value, summing to the invoice's total — except on a few
    /// invoices (their own random stream, so nothing else moves), where the
    /// largest POD row is short by its mean line amount. Returns the rows
    /// and the ground truth of those invoices.
    pub fn acm(&self, seed: u64) -> ((Vec<u8>, u64), (Vec<u8>, u64)) {
        let mut rng = Rng::stream(seed, &[0xAC3]);
        let mut out = crate::sink::header(|s| acm_row(s, "", "", 0, "", 0, 0));
        let mut truth = b"INVOICE_NUMBER|ERROR_KIND\n".to_vec();
        let (mut rows, mut wrong) = (0, 0);
        for h in self.invoices.values().filter(|h| h.number.ends_with('C')) {
            let short = rng.chance(P_ACM_MISMATCH);
            let largest = h.by_pod.iter().max_by_key(|(_, v)| v.1).map(|(p, _)| *p);
            for (pod, (n, amount)) in &h.by_pod {
                let amount = if short && Some(*pod) == largest { amount - amount / n.max(&1) } else { *amount };
                let mut sink = RowSink::new(&mut out);
                acm_row(&mut sink, &h.provider, self.focus_icb, h.month, pod, *n, amount);
                sink.end();
                rows += 1;
            }
            if short {
                truth.extend_from_slice(format!("{}|ACM_TOTAL_MISMATCH\n", h.number).as_bytes());
                wrong += 1;
            }
        }
        ((out, rows), (truth, wrong))
    }

    /// Header rows, once every line is in.
    pub fn headers(&self) -> (Vec<u8>, u64) {
        let mut out = crate::sink::header(|h| header_row(h, None, ""));
        for h in self.invoices.values() {
            let mut sink = RowSink::new(&mut out);
            header_row(&mut sink, Some(h), self.focus_icb);
            sink.end();
        }
        (out, self.invoices.len() as u64)
    }
}

/// Elective admission (ADMIMETH 11–13) or a first outpatient attendance
/// (FIRSTATT 1, or 3 by telephone or video): what an NCA policy asks to be
/// notified first (datasets.md §6.1).
fn is_elective(c: &Candidate) -> bool {
    matches!(c.admimeth, "11" | "12" | "13") || matches!(c.firstatt, "1" | "3")
}

/// A day case, outpatient or A&E attendance dated strictly inside one of
/// the person's inpatient spells at the same provider (the rule the
/// validator applies, datasets.md §6.3: the spell's price covers it).
fn inside_spell(c: &Candidate, group: &[Candidate]) -> bool {
    let eligible = c.activity_type != "APC" || c.classpat == "2";
    eligible
        && group.iter().any(|s| {
            s.activity_type == "APC"
                && !matches!(s.classpat, "2" | "3" | "4")
                && s.procode3 == c.procode3
                && s.activity_date < c.activity_date
                && s.discharge_date.is_none_or(|d| c.activity_date < d)
        })
}

fn invoice_id(number: &str, icb: &str) -> String {
    let s = crate::rng::keyed_hex((0x1A7, 0x1D), &[number.as_bytes(), icb.as_bytes()]);
    format!("{}-{}-{}-{}-{}", &s[0..8], &s[8..12], &s[12..16], &s[16..20], &s[20..32])
}

fn header_row<S: Sink>(s: &mut S, h: Option<&Header>, icb: &str) {
    let month = h.map_or(0, |h| h.month);
    let start = Date::from_ymd(month / 12, (month % 12) as u32 + 1, 1).ok();
    let end = Date::from_ymd((month + 1) / 12, ((month + 1) % 12) as u32 + 1, 1).ok().map(|d| d.add_days(-1));
    s.str("INVOICE_ID", h.map_or("", |h| &h.id));
    s.str("INVOICE_NUMBER", h.map_or("", |h| &h.number));
    s.str("PROVIDER_CODE", h.map_or("", |h| &h.provider));
    s.str("COMMISSIONER_CODE", icb);
    s.str("CONTRACT_TYPE", h.map_or("", |h| if h.number.ends_with('C') { "CONTRACTED" } else { "NCA" }));
    s.str("COMMISSIONING_SERIAL_NO", h.map_or("", |h| if h.number.ends_with('C') { "000001" } else { "" }));
    s.date("INVOICE_DATE", end.map(|d| d.add_days(10)));
    s.date("ACTIVITY_PERIOD_START", start);
    s.date("ACTIVITY_PERIOD_END", end);
    s.str("FYEAR", &start.map(|d| d.fyear_code()).unwrap_or_default());
    s.int("TOTAL_NET", h.map(|h| h.total));
    s.int("VAT", h.map(|_| 0));
    s.str("BACKING_DATA_REF", &h.map(|h| format!("PLCM-{}", h.number)).unwrap_or_default());
    s.str("RECEIVED_AT", &end.map(|d| format!("{}T09:00:00", d.add_days(12))).unwrap_or_default());
}

fn acm_row<S: Sink>(s: &mut S, provider: &str, icb: &str, month: i32, pod: &str, activity: i64, amount: i64) {
    let start = (!provider.is_empty()).then(|| Date::from_ymd(month / 12, (month % 12) as u32 + 1, 1).ok()).flatten();
    s.str("PROVIDER_CODE", provider);
    s.str("COMMISSIONER_CODE", icb);
    s.str("COMMISSIONING_SERIAL_NO", if provider.is_empty() { "" } else { "000001" });
    s.date("ACTIVITY_MONTH", start);
    s.str("NATIONAL_POD", pod);
    s.int("ACTIVITY", (!provider.is_empty()).then_some(activity));
    s.int("PRICE_ACTUAL", (!provider.is_empty()).then_some(amount));
}

#[derive(Default)]
struct LineFields<'a> {
    invoice_id: &'a str,
    line_no: u32,
    c: Option<&'a Candidate>,
    postcode: &'a str,
    prior_approval: String,
    priced: Option<&'a Priced>,
    amount: i64,
}

fn line_row<S: Sink>(s: &mut S, f: &LineFields<'_>) {
    let c = f.c;
    let p = f.priced;
    s.str("INVOICE_ID", f.invoice_id);
    s.int("LINE_NO", c.map(|_| i64::from(f.line_no)));
    s.str("NEWNHSNO", c.map_or("", |c| &c.nhs));
    s.date("DOB", c.map(|c| c.dob));
    s.str("POSTCODE", f.postcode);
    s.str("PROVSPNO", c.map_or("", |c| &c.provspno));
    s.str("ACTIVITY_TYPE", c.map_or("", |c| c.activity_type));
    s.str("POD", c.map_or("", pod));
    s.str("GPPRAC", c.map_or("", |c| &c.gpprac));
    s.str("SEX", c.map_or("", |c| c.sex));
    s.str("PROCODE3", c.map_or("", |c| &c.procode3));
    s.str("SITETRET", c.map_or("", |c| &c.site));
    s.str("PRIOR_APPROVAL_REF", &f.prior_approval);
    s.str("SUS_RECORD_KEY", c.map_or("", |c| &c.sus_key));
    s.date("ACTIVITY_DATE", c.map(|c| c.activity_date));
    s.date("DISCHARGE_DATE", c.and_then(|c| c.discharge_date));
    s.str("ADMIMETH", c.map_or("", |c| c.admimeth));
    s.str("CLASSPAT", c.map_or("", |c| c.classpat));
    s.str("FIRSTATT", c.map_or("", |c| c.firstatt));
    s.str("TRETSPEF", c.map_or("", |c| c.tretspef));
    s.str("HRG", c.map_or("", |c| c.hrg));
    s.int("LOS_DAYS", c.filter(|c| c.activity_type == "APC").map(|c| i64::from(c.los)));
    s.int("TRIM_POINT_DAYS", p.and_then(|p| p.trim).map(i64::from));
    s.int("EXCESS_BED_DAYS", p.map(|p| i64::from(p.ebd)));
    s.int("UNIT_PRICE", p.map(|p| p.unit));
    s.int("EBD_AMOUNT", p.map(|p| p.ebd_amount));
    s.str("SSEM_APPLIED", p.map_or("", |p| if p.ssem { "true" } else { "false" }));
    s.float("MFF", c.map(|c| c.mff));
    s.int("OTHER_ADJUSTMENTS", c.map(|_| 0));
    s.float("QUANTITY", c.map(|_| 1.0));
    s.int("LINE_AMOUNT", c.map(|_| f.amount));
    let _ = p.map(|p| p.total);
}

/// National point of delivery of a line (datasets.md §6.1).
fn pod(c: &Candidate) -> &'static str {
    match c.activity_type {
        "APC" if matches!(c.admimeth, "11" | "12" | "13") && c.classpat == "2" => "DC",
        "APC" if matches!(c.admimeth, "11" | "12" | "13") => "EL",
        "APC" if c.admimeth.starts_with('2') && c.los <= 1 => "NELST",
        "APC" if c.admimeth.starts_with('2') => "NEL",
        "APC" => "NELNE",
        "OP" if c.firstatt == "1" || c.firstatt == "3" => "OPFASPCL",
        "OP" => "OPFUPSPCL",
        _ => "AE",
    }
}

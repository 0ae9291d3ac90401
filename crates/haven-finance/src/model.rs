//! What validation reads: invoices and their lines as the provider sent
//! them, the SUS+ activity they bill for (CEfF copies), deaths, prices and
//! organisations. Everything here is plain data; [`crate::read`] fills it
//! from a zone session and tests build it by hand.

use std::collections::HashMap;

use haven_model::rules::{OrgTable, SsemAgeRule, TariffRow};
use haven_model::Date;

/// A code as read (ODS codes, HRGs, points of delivery, specialties,
/// admission method and class, LSOAs, invoice ids and numbers): interned,
/// so each distinct code is held once and a code is an 8-byte handle that
/// compares and hashes as a pointer — a full ICB's year has millions of
/// lines and attendances but only thousands of distinct codes. Interned
/// codes are never freed, so only values from bounded vocabularies are
/// codes; per-record values (tokens, record keys, spell numbers,
/// references) are [`Key`]s.
pub type Code = ustr::Ustr;

pub use crate::key::Key;

/// Where the activity happened (invoice_line ACTIVITY_TYPE, datasets.md §10.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Setting {
    /// Admitted patient care: a provider spell.
    Apc,
    /// An outpatient attendance.
    Op,
    /// An A&E attendance (ECDS, or HES A&E before it).
    Ae,
    /// Critical care, drugs, devices and other items: no SUS+ record to
    /// match in the CEfF copies Haven holds.
    Other,
}

impl Setting {
    pub fn parse(activity_type: &str) -> Setting {
        match activity_type.trim() {
            "APC" => Setting::Apc,
            "OP" => Setting::Op,
            "AE" | "ECDS" => Setting::Ae,
            _ => Setting::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Setting::Apc => "APC",
            Setting::Op => "OP",
            Setting::Ae => "AE",
            Setting::Other => "OTHER",
        }
    }
}

/// An invoice header (invoice_header).
#[derive(Clone, Debug, Default)]
pub struct Invoice {
    pub id: Code,
    pub number: Code,
    pub provider: Code,
    pub commissioner: Code,
    /// CONTRACT_TYPE `NCA`: non-contracted activity.
    pub nca: bool,
    pub period_start: Option<Date>,
    pub period_end: Option<Date>,
    pub invoice_date: Option<Date>,
    /// TOTAL_NET, pence.
    pub total_net: Option<i64>,
}

/// One line of backing data (invoice_line), as billed.
#[derive(Clone, Debug, Default)]
pub struct Line {
    pub invoice_id: Code,
    pub line_no: i64,
    pub setting: Option<Setting>,
    pub pod: Code,
    /// The person's token in the CEfF zone (from the NHS number); `None`
    /// when the provider withheld the NHS number.
    pub person: Option<Key>,
    pub gpprac: Code,
    /// LSOA of the postcode billed (filled at load; the CEfF keeps no
    /// postcode).
    pub lsoa: Option<Code>,
    pub procode3: Code,
    pub prior_approval: Option<Key>,
    /// SUSSPELLID, ATTENDKEY or EC_IDENT as quoted (keyed in the zone).
    pub sus_key: Option<Key>,
    pub provspno: Option<Key>,
    pub activity_date: Option<Date>,
    pub discharge_date: Option<Date>,
    pub admimeth: Code,
    pub classpat: Code,
    pub firstatt: Code,
    pub tretspef: Code,
    pub hrg: Code,
    pub los: Option<i32>,
    pub quantity: Option<f64>,
    /// LINE_AMOUNT, pence.
    pub amount: Option<i64>,
}

impl Line {
    /// Elective admission (ADMIMETH 11–13, datasets.md §1.3) or a first
    /// outpatient attendance (FIRSTATT 1 face to face, 3 by telephone or
    /// video): the activity an NCA policy asks to be notified first.
    pub fn is_elective(&self) -> bool {
        match self.setting {
            Some(Setting::Apc) => matches!(self.admimeth.as_str(), "11" | "12" | "13"),
            Some(Setting::Op) => matches!(self.firstatt.as_str(), "1" | "3"),
            _ => false,
        }
    }

    /// A day case (CLASSPAT 2).
    pub fn is_day_case(&self) -> bool {
        self.setting == Some(Setting::Apc) && self.classpat == "2"
    }
}

/// A SUS+ provider spell, from the CEfF copy of APC episodes grouped by
/// `haven_model::rules::spell_key`.
#[derive(Clone, Debug, Default)]
pub struct Spell {
    pub sus_key: Option<Key>,
    pub provspno: Option<Key>,
    pub person: Option<Key>,
    pub provider: Code,
    pub admidate: Option<Date>,
    pub disdate: Option<Date>,
    pub admimeth: Code,
    pub classpat: Code,
    pub tretspef: Code,
    pub hrg: Code,
    /// Age at admission (STARTAGE of the first episode; 7001–7007 are
    /// under ones, read as 0).
    pub age: Option<u16>,
    pub sex: Code,
    pub practice: Code,
    pub lsoa: Option<Code>,
    pub diagnoses: Vec<Code>,
    pub procedures: Vec<Code>,
}

impl Spell {
    /// Length of stay in days (discharge − admission), what excess bed days
    /// count: the synthetic and HES data have no unbundled critical-care or
    /// rehabilitation days to take off (datasets.md §6.3 "net", partial).
    pub fn los(&self) -> Option<i32> {
        Some(self.disdate?.days_since(self.admidate?))
    }

    /// Ordinary admission (CLASSPAT 1) or an admission of unknown class: an
    /// inpatient stay other activity can fall inside.
    pub fn is_inpatient(&self) -> bool {
        !matches!(self.classpat.as_str(), "2" | "3" | "4")
    }
}

/// A SUS+ outpatient or A&E attendance.
#[derive(Clone, Debug, Default)]
pub struct Attendance {
    pub setting: Option<Setting>,
    pub key: Key,
    pub person: Option<Key>,
    pub provider: Code,
    pub date: Option<Date>,
    pub hrg: Code,
    pub tretspef: Code,
    pub practice: Code,
    pub lsoa: Option<Code>,
    /// The price SUS+ gave it with MFF (OP GRAND_TOTAL_MFF, ECDS
    /// FINAL_PRICE), pence: outpatient and A&E unit prices are not in the
    /// loaded reference tables, so SUS+'s own pricing is the comparison.
    pub sus_price: Option<i64>,
}

/// Prices: the APC tariff by (FYEAR, HRG) and the MFF payment index by
/// (FYEAR, provider).
#[derive(Clone, Debug, Default)]
pub struct Prices {
    pub apc: HashMap<(String, String), TariffRow>,
    pub mff: HashMap<(String, String), f64>,
}

/// Everything one validation run reads.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub invoices: Vec<Invoice>,
    pub lines: Vec<Line>,
    pub spells: Vec<Spell>,
    pub attendances: Vec<Attendance>,
    /// Person token → registered date of death.
    pub deaths: HashMap<Key, Date>,
    pub prices: Prices,
    pub orgs: OrgTable,
    /// ACM value by (provider, commissioner, first day of the activity
    /// month), pence; `None` when no ACM is loaded (the check does not run).
    pub acm: Option<HashMap<(String, String, Date), i64>>,
    /// Optional datasets the session did not open (never loaded, or not
    /// linked for invoice validation by the agreement): the checks that
    /// need them could not run.
    pub not_opened: Vec<String>,
}

/// The ICB's settings for a run. Items the reference marks partial are
/// settings (datasets.md §6.3: the short-stay emergency age rule).
#[derive(Clone, Debug)]
pub struct Config {
    /// The ICB validating (ODS code, e.g. `QMJ`); empty for the
    /// commissioner each invoice is addressed to.
    pub icb: String,
    /// A price difference within this many pence is accepted.
    pub tolerance_pence: i64,
    /// ... or within this share of the expected amount, whichever is larger.
    pub tolerance_share: f64,
    /// Challenge lines billed below the expected price too (off by default:
    /// the commissioner is not overcharged).
    pub challenge_underbilling: bool,
    pub ssem: SsemAgeRule,
    /// Check activity inside an inpatient spell (on by default).
    pub inside_spell: bool,
    /// Require a prior approval reference on EBI list-1 procedures.
    pub ebi_prior_approval: bool,
    /// Health-and-justice (prison) practices, whose patients' activity
    /// other than A&E NHS England commissions (CAM v5.3 step E,
    /// datasets.md §6.2). A setting: the `org` reference table does not
    /// mark them.
    pub health_and_justice: Vec<String>,
}

impl Config {
    /// Practice codes from a list file: one per line or comma-separated,
    /// `#` starting a comment.
    pub fn practice_list(text: &str) -> Vec<String> {
        text.lines().map(|l| l.split('#').next().unwrap_or("")).flat_map(|l| l.split(',')).map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()).collect()
    }

    pub fn for_icb(icb: &str) -> Config {
        Config {
            icb: icb.trim().to_ascii_uppercase(),
            tolerance_pence: 100,
            tolerance_share: 0.0,
            challenge_underbilling: false,
            ssem: SsemAgeRule::default(),
            inside_spell: true,
            ebi_prior_approval: true,
            health_and_justice: Vec::new(),
        }
    }
}

//! The choices of the 30-day emergency readmission indicator that its
//! source leaves open (methods.md §2.1: NHS Digital Compendium I02040 v3,
//! CCG OIS 3.2 v1.4). Only the opening sections of the specification could
//! be read, so the index specialty list and the cancer code list are
//! UNCONFIRMED there; each is an option here, with the usual choice of this
//! family of indicators as the default.

use crate::date::Date;

/// Prefixes of normalised ICD-10 codes (upper case, no dot) that mark a
/// readmitting spell as cancer or chemotherapy for cancer. The default is
/// the typical implementation methods.md §2.1 names: C00–C97 (every `C`
/// code: malignant, so benign and in-situ `D` codes stay counted) and
/// Z51.1/Z51.2 (chemotherapy sessions).
pub const CANCER_OR_CHEMOTHERAPY: [&str; 3] = ["C", "Z511", "Z512"];

/// Whether a normalised ICD-10 `code` starts with one of `prefixes`.
pub fn is_cancer_or_chemotherapy<S: AsRef<str>>(code: &str, prefixes: &[S]) -> bool {
    !code.is_empty() && prefixes.iter().any(|p| code.starts_with(p.as_ref()))
}

/// How a readmission is paired with the discharge it follows (methods.md
/// §2.1: "emergency admissions within 0-29 days inclusive of the last
/// previous discharge ... the numerator is built on the pair (index spell
/// carries the denominator characteristics, readmitting spell must meet the
/// numerator criteria)").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadmissionReading {
    /// The source's wording, and the default: each qualifying emergency
    /// admission pairs with the person's last previous discharge only, and
    /// counts when that discharge is an index spell 0 to `days - 1` days
    /// before. A discharge in between that is not an index (a day case,
    /// say) takes the pair; an excluded readmission (obstetric, cancer)
    /// still ends the window of the index before it, since it is itself a
    /// discharge that a later admission pairs with. The numerator counts
    /// the pairs: §2.1's numerator is "CIP spells that are emergency
    /// admissions", so two readmissions that both follow one discharge
    /// (the second admitted elsewhere before the first ends) count twice.
    #[default]
    LastPreviousDischarge,
    /// An index spell counts once when any qualifying emergency admission
    /// follows its discharge within the window, whatever lies between (the
    /// reading of indicators that ask "was this discharge followed by an
    /// emergency readmission within 30 days": a proportion of discharges).
    AnyAfterIndex,
}

impl ReadmissionReading {
    /// By its command-line name.
    pub fn parse(s: &str) -> Option<ReadmissionReading> {
        match s {
            "last-previous-discharge" => Some(ReadmissionReading::LastPreviousDischarge),
            "any-after-index" => Some(ReadmissionReading::AnyAfterIndex),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ReadmissionReading::LastPreviousDischarge => "last-previous-discharge",
            ReadmissionReading::AnyAfterIndex => "any-after-index",
        }
    }
}

/// One continuous inpatient spell as the readmission pairing reads it.
#[derive(Clone, Debug, Default)]
pub struct CipSpell<'a> {
    pub person: &'a str,
    /// Its first provider spell's key (orders same-day spells).
    pub key: &'a str,
    pub admidate: Option<Date>,
    /// Its first provider spell's discharge (orders spells as linkage does).
    pub first_disdate: Option<Date>,
    /// The CIP's discharge; `None` while any of its spells is open.
    pub disdate: Option<Date>,
    /// Admission method and main specialty of its first provider spell.
    pub admimeth: &'a str,
    pub mainspef: &'a str,
    /// Cancer or chemotherapy coded in any episode of any of its spells,
    /// by the options' code list.
    pub cancer: bool,
}

/// How many readmissions count against each CIP spell in `cips` under
/// `opts` (a number for every CIP; only index spells' numbers are read:
/// the denominator's exclusions are the caller's). Under
/// [`ReadmissionReading::LastPreviousDischarge`] the number of
/// readmissions paired with the CIP; under
/// [`ReadmissionReading::AnyAfterIndex`] 1 or 0. CIPs are taken in each
/// person's order of admission date, first spell's discharge date (none
/// last) and key.
pub fn readmitted(cips: &[CipSpell<'_>], opts: &ReadmissionOptions) -> Vec<u32> {
    let last = |d: Option<Date>| (d.is_none(), d);
    let mut order: Vec<usize> = (0..cips.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&cips[i], &cips[j]);
        (a.person, last(a.admidate), last(a.first_disdate), a.key).cmp(&(b.person, last(b.admidate), last(b.first_disdate), b.key))
    });
    let window = 0..i32::from(opts.days);
    let qualifies = |r: &CipSpell<'_>| {
        let excluded_cancer = r.cancer && !opts.cancer_codes.is_empty();
        r.admimeth.starts_with('2') && !opts.excluded_specialties.iter().any(|s| s == r.mainspef) && !excluded_cancer
    };
    let mut out = vec![0u32; cips.len()];
    for (pos, &ri) in order.iter().enumerate() {
        let r = &cips[ri];
        let Some(adm) = r.admidate.filter(|_| qualifies(r)) else { continue };
        // Earlier CIPs of the same person discharged within the window.
        let earlier = order[..pos].iter().rev().take_while(|&&p| cips[p].person == r.person);
        let within: Vec<(Date, usize)> = earlier
            .filter_map(|&p| cips[p].disdate.filter(|d| window.contains(&adm.days_since(*d))).map(|d| (d, p)))
            .collect();
        match opts.reading {
            ReadmissionReading::AnyAfterIndex => within.iter().for_each(|&(_, p)| out[p] = 1),
            // The latest discharge; among equals, the later in order (the
            // first met walking back).
            ReadmissionReading::LastPreviousDischarge => {
                if let Some(&(_, p)) = within.iter().rev().max_by_key(|(d, _)| *d) {
                    out[p] += 1;
                }
            }
        }
    }
    out
}

/// The open choices of the readmission indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadmissionOptions {
    /// Readmissions count from 0 to `days - 1` days after discharge: 30 in
    /// I02040 v3 (0–29 inclusive); the older NCHOD version used 28.
    pub days: u16,
    /// Index spells only from these main specialties ("selected medical and
    /// surgical specialties", list UNCONFIRMED); `None` counts every
    /// specialty.
    pub index_specialties: Option<Vec<String>>,
    /// Main specialties of the readmitting spell that do not count:
    /// obstetrics (501) in v3; the older version excluded mental health.
    pub excluded_specialties: Vec<String>,
    /// ICD-10 prefixes that exclude a readmitting spell when coded in any
    /// position of any of its episodes (empty: no exclusion). Spells derived
    /// at ingest carry the flag for [`CANCER_OR_CHEMOTHERAPY`]; another list
    /// is applied to the episodes at query time.
    pub cancer_codes: Vec<String>,
    /// How a readmission pairs with a discharge.
    pub reading: ReadmissionReading,
}

impl Default for ReadmissionOptions {
    fn default() -> Self {
        ReadmissionOptions {
            days: 30,
            index_specialties: None,
            excluded_specialties: vec!["501".to_owned()],
            cancer_codes: CANCER_OR_CHEMOTHERAPY.iter().map(|s| s.to_string()).collect(),
            reading: ReadmissionReading::default(),
        }
    }
}

impl ReadmissionOptions {
    /// Whether readmissions pair as under the defaults (window, excluded
    /// specialties, cancer codes and reading; the index specialties choose
    /// only among index spells), so pairs made with the defaults hold.
    pub fn pairs_as_default(&self) -> bool {
        let d = ReadmissionOptions::default();
        self.days == d.days && self.excluded_specialties == d.excluded_specialties && self.default_cancer_codes() && self.reading == d.reading
    }

    /// Whether the cancer exclusion is the one derived spells carry.
    pub fn default_cancer_codes(&self) -> bool {
        self.cancer_codes.iter().map(String::as_str).eq(CANCER_OR_CHEMOTHERAPY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malignant_and_chemotherapy_codes_exclude_benign_and_in_situ_do_not() {
        let p = &CANCER_OR_CHEMOTHERAPY;
        for code in ["C509", "C00", "C97X", "Z511", "Z512"] {
            assert!(is_cancer_or_chemotherapy(code, p), "{code}");
        }
        // D00-D09 in situ, D10-D36 benign, Z51.0 radiotherapy, Z51.3 transfusion.
        for code in ["D050", "D259", "Z510", "Z513", "I10X", ""] {
            assert!(!is_cancer_or_chemotherapy(code, p), "{code}");
        }
        assert!(!is_cancer_or_chemotherapy("C509", &[] as &[&str]));
        assert!(ReadmissionOptions::default().default_cancer_codes());
        assert!(!ReadmissionOptions { cancer_codes: vec![], ..Default::default() }.default_cancer_codes());
    }

    fn d(s: &str) -> Option<Date> {
        Some(Date::parse(s).unwrap())
    }

    /// A CIP of person P1: key, admitted, discharged, method, specialty.
    fn cip<'a>(key: &'a str, adm: &str, dis: &str, meth: &'a str, spef: &'a str) -> CipSpell<'a> {
        CipSpell { person: "P1", key, admidate: d(adm), first_disdate: d(dis), disdate: d(dis), admimeth: meth, mainspef: spef, cancer: false }
    }

    fn flags(cips: &[CipSpell<'_>], reading: ReadmissionReading) -> Vec<u32> {
        readmitted(cips, &ReadmissionOptions { reading, ..Default::default() })
    }

    use ReadmissionReading::{AnyAfterIndex as Any, LastPreviousDischarge as Last};

    #[test]
    fn an_excluded_readmission_takes_the_pair_from_the_index_before_it() {
        // I discharged 5 Jan; X an obstetric (501, excluded) emergency 10–12
        // Jan; R an emergency 20 Jan. R's last previous discharge is X's
        // (20 − 12 = 8 days): X is paired, I is not. Read as "any admission
        // after the index", I counts too (20 − 5 = 15 days).
        let c = [cip("I", "2024-01-01", "2024-01-05", "21", "300"), cip("X", "2024-01-10", "2024-01-12", "21", "501"), cip("R", "2024-01-20", "2024-01-22", "21", "300")];
        assert_eq!(flags(&c, Last), [0, 1, 0]);
        assert_eq!(flags(&c, Any), [1, 1, 0]);
    }

    #[test]
    fn a_discharge_between_that_is_not_an_index_takes_the_pair() {
        // D is an elective day case on 8 Jan between I (5 Jan) and R (15 Jan).
        let c = [cip("I", "2024-01-01", "2024-01-05", "21", "300"), cip("D", "2024-01-08", "2024-01-08", "11", "100"), cip("R", "2024-01-15", "2024-01-16", "21", "300")];
        assert_eq!(flags(&c, Last), [0, 1, 0], "R pairs with D, which the caller then drops as a day case");
        assert_eq!(flags(&c, Any), [1, 1, 0]);
    }

    #[test]
    fn two_readmissions_after_one_index() {
        // In a row: R1 pairs with I, R2 with R1 under both readings.
        let c = [cip("I", "2024-01-01", "2024-01-05", "21", "300"), cip("R1", "2024-01-10", "2024-01-12", "21", "300"), cip("R2", "2024-01-20", "2024-01-21", "21", "300")];
        assert_eq!(flags(&c, Last), [1, 1, 0]);
        assert_eq!(flags(&c, Any), [1, 1, 0]);
        // Overlapping (R2 admitted elsewhere on 15 Jan while R1, 10–25 Jan,
        // is still in): the last discharge before 15 Jan is I's (5 Jan),
        // and before 10 Jan also I's, so both readmissions pair with I —
        // two pairs, 2 in the numerator. Read as "was I followed by a
        // readmission", I counts once.
        let c = [cip("I", "2024-01-01", "2024-01-05", "21", "300"), cip("R1", "2024-01-10", "2024-01-25", "21", "300"), cip("R2", "2024-01-15", "2024-01-16", "21", "300")];
        assert_eq!(flags(&c, Last), [2, 0, 0]);
        assert_eq!(flags(&c, Any), [1, 0, 0]);
    }

    #[test]
    fn a_short_stay_inside_a_longer_one_does_not_hide_the_longer_ones_discharge() {
        // J (3–4 Jan, elsewhere) lies inside I (1–20 Jan). R on 25 Jan: the
        // last previous discharge is I's (5 days); looking only at the next
        // spell by admission (J) would miss it.
        let c = [cip("I", "2024-01-01", "2024-01-20", "21", "300"), cip("J", "2024-01-03", "2024-01-04", "11", "100"), cip("R", "2024-01-25", "2024-01-26", "21", "300")];
        assert_eq!(flags(&c, Last), [1, 0, 0]);
    }

    #[test]
    fn the_window_is_zero_to_days_minus_one_and_other_people_do_not_pair() {
        // 29 days counts, 30 does not (0–29 inclusive); same day counts.
        let c = [cip("I", "2024-01-01", "2024-01-01", "21", "300"), cip("R", "2024-01-30", "2024-01-31", "21", "300")];
        assert_eq!(flags(&c, Last), [1, 0]);
        let c = [cip("I", "2024-01-01", "2024-01-01", "21", "300"), cip("R", "2024-01-31", "2024-01-31", "21", "300")];
        assert_eq!(flags(&c, Last), [0, 0]);
        let mut other = cip("R", "2024-01-02", "2024-01-03", "21", "300");
        other.person = "P2";
        assert_eq!(flags(&[cip("I", "2024-01-01", "2024-01-01", "21", "300"), other], Any), [0, 0]);
        // Elective and cancer readmissions do not count.
        let mut cancer = cip("R", "2024-01-02", "2024-01-03", "21", "300");
        cancer.cancer = true;
        assert_eq!(flags(&[cip("I", "2024-01-01", "2024-01-01", "21", "300"), cancer], Last), [0, 0]);
        assert_eq!(flags(&[cip("I", "2024-01-01", "2024-01-01", "21", "300"), cip("R", "2024-01-02", "2024-01-03", "11", "300")], Last), [0, 0]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A person's CIPs as (admitted day, length of stay, emergency,
        /// obstetric), days from 1 Jan 2024.
        fn cips() -> impl Strategy<Value = Vec<(i32, i32, bool, bool)>> {
            prop::collection::vec((0..120i32, 0..20i32, any::<bool>(), prop::bool::weighted(0.1)), 1..12)
        }

        proptest! {
            /// Each qualifying readmission makes at most one pair, so the
            /// pairs never outnumber the emergency admissions that qualify;
            /// a CIP with a pair is also "followed by a readmission" (the
            /// pair's readmission follows it within the window), and that
            /// reading counts each CIP at most once.
            #[test]
            fn pairs_are_bounded_by_readmissions_and_imply_the_other_reading(rows in cips()) {
                let base = Date::parse("2024-01-01").unwrap().days();
                let keys: Vec<String> = (0..rows.len()).map(|i| format!("K{i:02}")).collect();
                let c: Vec<CipSpell<'_>> = rows
                    .iter()
                    .zip(&keys)
                    .map(|(&(adm, los, emergency, obstetric), key)| CipSpell {
                        person: "P1",
                        key,
                        admidate: Some(Date::from_days(base + adm)),
                        first_disdate: Some(Date::from_days(base + adm + los)),
                        disdate: Some(Date::from_days(base + adm + los)),
                        admimeth: if emergency { "21" } else { "11" },
                        mainspef: if obstetric { "501" } else { "300" },
                        cancer: false,
                    })
                    .collect();
                let (last, any) = (flags(&c, Last), flags(&c, Any));
                let qualifying = rows.iter().filter(|r| r.2 && !r.3).count() as u32;
                prop_assert!(last.iter().sum::<u32>() <= qualifying);
                prop_assert!(any.iter().all(|&n| n <= 1));
                for (l, a) in last.iter().zip(&any) {
                    prop_assert!(*l == 0 || *a == 1);
                }
            }
        }
    }
}

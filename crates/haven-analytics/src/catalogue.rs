//! The indicator catalogue: what each indicator counts, from which data, by
//! which method, and where the definition comes from.
//!
//! Definitions follow `shared/reference/methods.md` and `datasets.md`; where
//! those mark a rule partial or unconfirmed, [`Indicator::choices`] says what
//! Haven does instead, so the choice is visible in `haven indicators show`.

use serde::{Deserialize, Serialize};

/// The record-level base an indicator reads, each with the same normalised
/// breakdown columns — see [`crate::engine`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// Provider spells built from APC episodes (one row per spell key, `haven_model::rules::spell_key`),
    /// placed in the period by discharge date.
    Spells,
    /// The same spells placed by admission date, with their first episode's
    /// codes (`diag_all`, `proc_all`), for admission-based indicators such
    /// as NHS OF 2.3.i (methods.md §3.1: "ADMIDATE in the reporting period").
    Admissions,
    /// Spells with the person's next admission (for readmissions).
    SpellPairs,
    /// ECDS attendances.
    Ecds,
    /// Outpatient appointments.
    Outpatients,
}

impl Base {
    /// The zone dataset it is built from.
    pub fn dataset(self) -> &'static str {
        match self {
            Base::Spells | Base::Admissions | Base::SpellPairs => "apc_episode",
            Base::Ecds => "ecds_attendance",
            Base::Outpatients => "op_attendance",
        }
    }

    /// What one record of the base is, for opportunity figures.
    pub fn noun(self) -> &'static str {
        match self {
            Base::Spells => "spells",
            Base::Admissions => "admissions",
            Base::SpellPairs => "readmissions",
            Base::Ecds => "attendances",
            Base::Outpatients => "appointments",
        }
    }
}

/// How the published value is formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A count (the numerator); no denominator.
    Count,
    /// numerator ÷ denominator as a percentage, with a Wilson 95% interval
    /// (methods.md §6.5).
    Proportion,
    /// numerator ÷ denominator (e.g. mean length of stay = bed days ÷ spells).
    Mean,
    /// A median computed by the query, published only when its denominator is.
    Median,
}

/// How benchmarking compares areas whose populations differ in age and
/// sex (methods.md §6.3–6.4); the published tables stay crude.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standardisation {
    /// Compared as published.
    None,
    /// A count as a directly age- and sex-standardised rate per 100,000
    /// resident population (ESP2013, Dobson intervals), as NHS OF 2.3.i /
    /// CCG OIS 2.6 v1.15 and CCG IAF 127b publish them (methods.md §3.1,
    /// §3.3, §6.3).
    Direct,
    /// A proportion as an indirectly standardised percentage: observed ÷
    /// expected from England's rates by age band, sex and admission type,
    /// times England's percentage (methods.md §2.1 and §6.4).
    Indirect,
}

/// Which direction is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    HigherIsBetter,
    LowerIsBetter,
    /// Context, not performance (e.g. activity volumes).
    Neutral,
}

/// One indicator of the catalogue.
#[derive(Clone, Debug, Serialize)]
pub struct Indicator {
    pub id: &'static str,
    pub title: &'static str,
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub base: Base,
    pub method: Method,
    pub polarity: Polarity,
    pub unit: &'static str,
    pub citation: &'static str,
    /// Decisions where the source is partial or unconfirmed.
    pub choices: &'static str,
    /// SQL over the base's columns: rows counted (1) or summed.
    #[serde(skip)]
    pub num_sql: &'static str,
    /// SQL over the base's columns: the denominator per row (`1` or `0`).
    #[serde(skip)]
    pub den_sql: &'static str,
    /// SQL over the base's columns whose median is the value
    /// ([`Method::Median`]); rows where it is null are left out.
    #[serde(skip)]
    pub median_of: Option<&'static str>,
    /// How benchmarking adjusts for the population's make-up.
    pub standardisation: Standardisation,
}

/// Every indicator Haven computes.
pub fn catalogue() -> Vec<Indicator> {
    vec![
        Indicator {
            id: "apc.spells",
            title: "Discharged provider spells",
            numerator: "provider spells with a discharge date in the period",
            denominator: "-",
            base: Base::Spells,
            method: Method::Count,
            polarity: Polarity::Neutral,
            unit: "spells",
            citation: "HES APC; spells keyed by SUSSPELLID, else provider + PROVSPNOPS, else person + provider + admission date (datasets.md §10.2, §11.1)",
            choices: "An episode belongs to the spell of its SUSSPELLID (when present and not -1), else of its provider and provider spell number (numbers are unique only within a provider), else of its person, provider and admission date: the fallback for extracts with no spell identifier, such as NHS Digital's artificial HES, where two admissions of one person to one provider on one day merge. The load summary says how many episodes each rule keyed. Unfinished episodes count (the spell is open); this indicator counts provider spells, not continuous inpatient spells.",
            num_sql: "1",
            den_sql: "0",
            median_of: None,
            standardisation: Standardisation::Direct,
        },
        Indicator {
            id: "apc.bed_days",
            title: "Bed days of discharged spells",
            numerator: "sum over discharged spells of discharge date − admission date",
            denominator: "-",
            base: Base::Spells,
            method: Method::Count,
            polarity: Polarity::Neutral,
            unit: "days",
            citation: "HES APC SPELDUR convention (datasets.md §10.2)",
            choices: "A same-day spell counts 0 bed days. Bed days are not independent events, so benchmarking shows them per 1,000 residents without an interval and does not flag them.",
            num_sql: "los",
            den_sql: "0",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "apc.los_mean",
            title: "Mean length of stay",
            numerator: "bed days of discharged spells",
            denominator: "discharged spells",
            base: Base::Spells,
            method: Method::Mean,
            polarity: Polarity::LowerIsBetter,
            unit: "days",
            citation: "HES APC (datasets.md §10.2); break down by admission_type for elective/emergency",
            choices: "",
            num_sql: "los",
            den_sql: "1",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "apc.los_median",
            title: "Median length of stay",
            numerator: "median of (discharge date − admission date)",
            denominator: "discharged spells",
            base: Base::Spells,
            method: Method::Median,
            polarity: Polarity::LowerIsBetter,
            unit: "days",
            citation: "HES APC (datasets.md §10.2)",
            choices: "Published only when its count of spells is.",
            num_sql: "0",
            den_sql: "1",
            median_of: Some("los"),
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "apc.zero_los_emergency",
            title: "Emergency admissions with zero length of stay",
            numerator: "emergency spells discharged the day of admission",
            denominator: "emergency spells",
            base: Base::Spells,
            method: Method::Proportion,
            polarity: Polarity::Neutral,
            unit: "%",
            citation: "Emergency = ADMIMETH 2x (datasets.md §11.3)",
            choices: "",
            num_sql: "CASE WHEN admimeth LIKE '2%' AND los = 0 THEN 1 ELSE 0 END",
            den_sql: "CASE WHEN admimeth LIKE '2%' THEN 1 ELSE 0 END",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "apc.elective_wait_median",
            title: "Median elective wait (ELECDUR)",
            numerator: "median days from decision to admit to admission",
            denominator: "elective spells with a known wait",
            base: Base::Spells,
            method: Method::Median,
            polarity: Polarity::LowerIsBetter,
            unit: "days",
            citation: "ELECDUR, NHS Data Dictionary DURATION OF ELECTIVE WAIT (methods.md §8.1)",
            choices: "9998 (not applicable) and 9999 (not known) are excluded; HES waits include suspensions (methods.md §8.1).",
            num_sql: "0",
            den_sql: "CASE WHEN admimeth IN ('11','12','13') AND elecdur BETWEEN 0 AND 8887 THEN 1 ELSE 0 END",
            median_of: Some("CASE WHEN admimeth IN ('11','12','13') AND elecdur BETWEEN 0 AND 8887 THEN elecdur END"),
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "apc.rtt_within_18_weeks",
            title: "Completed RTT pathways within 18 weeks (admitted)",
            numerator: "admissions whose RTT period lasted 126 days or less",
            denominator: "admissions with an RTT start and end date",
            base: Base::Spells,
            method: Method::Proportion,
            polarity: Polarity::HigherIsBetter,
            unit: "%",
            citation: "NHS Constitution 18 weeks; CCG IAF 129a (methods.md §8.1)",
            choices: "Length = RTTPEREND − RTTPERSTART (derived); 126 days counts as within, as the day-level boundary is unconfirmed.",
            num_sql: "CASE WHEN rtt_days BETWEEN 0 AND 126 THEN 1 ELSE 0 END",
            den_sql: "CASE WHEN rtt_days >= 0 THEN 1 ELSE 0 END",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "apc.discharged_to_care_home",
            title: "Discharges to a care home",
            numerator: "spells discharged to a care home (DISDEST 54, 55, 56, 65, 85, 86)",
            denominator: "spells discharged alive",
            base: Base::Spells,
            method: Method::Proportion,
            polarity: Polarity::Neutral,
            unit: "%",
            citation: "Care-home codes, datasets.md §11.4",
            choices: "",
            num_sql: "CASE WHEN disdest IN ('54','55','56','65','85','86') THEN 1 ELSE 0 END",
            den_sql: "CASE WHEN dismeth <> '4' OR dismeth IS NULL THEN 1 ELSE 0 END",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "apc.in_hospital_mortality",
            title: "Spells ending in death in hospital (crude)",
            numerator: "spells whose discharge method is death (DISMETH 4)",
            denominator: "spells discharged",
            base: Base::Spells,
            method: Method::Proportion,
            polarity: Polarity::LowerIsBetter,
            unit: "%",
            citation: "In-hospital deaths as SHMI counts them, methods.md §5",
            choices: "Crude, not risk adjusted. The risk-adjusted ratio (deaths in hospital or within 30 days of discharge against a model fitted on \
                      the national extract) is SHMI-style mortality by provider, written by `haven benchmark` as shmi.csv.",
            num_sql: "CASE WHEN dismeth = '4' THEN 1 ELSE 0 END",
            den_sql: "1",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "apc.delayed_discharge_days",
            title: "Mean days from ready for discharge to discharge",
            numerator: "days from DISREADYDATE to DISDATE",
            denominator: "spells with a ready-for-discharge date",
            base: Base::Spells,
            method: Method::Mean,
            polarity: Polarity::LowerIsBetter,
            unit: "days",
            citation: "DISREADYDATE, HES APC (datasets.md §10.1)",
            choices: "Spells whose ready date is after discharge are ignored as invalid.",
            num_sql: "CASE WHEN delay_days >= 0 THEN delay_days ELSE 0 END",
            den_sql: "CASE WHEN delay_days >= 0 THEN 1 ELSE 0 END",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "apc.emergency_readmission_30d",
            title: "Emergency readmissions within 30 days of discharge",
            numerator: "emergency readmissions (CIP spells) 0–29 days after their last previous discharge, when that discharge is an index CIP spell",
            denominator: "index CIP discharges",
            base: Base::SpellPairs,
            method: Method::Proportion,
            polarity: Polarity::LowerIsBetter,
            unit: "%",
            citation: "NHS Digital Compendium I02040 v3 / CCG OIS 3.2 (methods.md §2.1)",
            choices: "Index: discharged alive, not a day case or regular attender, not maternity; every main specialty (the source's 'selected medical and surgical specialties' list is unconfirmed: `--readmission-index-specialties`). Readmission: emergency, 0–29 days (`--readmission-days`), main specialty not obstetrics 501 (`--readmission-excluded-specialties`), and no cancer or chemotherapy coded in any diagnosis of any of its episodes: ICD-10 C00–C97, Z51.1, Z51.2 (`--readmission-cancer-codes`; the source's code list is unconfirmed). Pairing: methods.md §2.1 counts \"emergency admissions within 0-29 days inclusive of the last previous discharge\" with \"the numerator built on the pair\", so each qualifying readmission is paired with the person's last discharge before it (a CIP that came before it), and the index counts when that discharge is its own: a day case or an excluded readmission in between takes the pair, and a short stay inside a longer one does not hide the longer one's discharge. The numerator counts the pairs: §2.1's numerator is \"CIP spells that are emergency admissions\", so two readmissions that both follow one discharge (the second admitted elsewhere while the first is still in) count twice, and the value is readmissions per 100 index discharges. `--readmission-reading any-after-index` counts each index once when any qualifying emergency admission follows its discharge within the window instead (a proportion of discharges, the reading of \"was this discharge followed by a readmission\"). The unit is the continuous inpatient (CIP) spell: provider spells linked across transfers (datasets.md §11.2, each spell compared with the person's previous one), so a transfer is neither a readmission nor a new index; the CIP ends at its last discharge, is excluded when any of its spells ends in death, and takes its admission fields, specialty and provider from its first provider spell. Benchmarking compares an indirectly standardised percentage by age band, sex, the index spell's admission type and its diagnosis/procedure group: in a surgical main specialty (100–199) with a procedure, the OPCS-4 chapter of the first episode's main procedure, else the ICD-10 chapter of its primary diagnosis (chapters only: the source's 'selected sub-chapters' are unconfirmed).",
            num_sql: "readmitted",
            den_sql: "1",
            median_of: None,
            standardisation: Standardisation::Indirect,
        },
        Indicator {
            id: "apc.acsc_chronic",
            title: "Unplanned admissions for chronic ambulatory care sensitive conditions",
            numerator: "emergency admissions (first episodes) with a chronic ACSC primary diagnosis, admitted in the period",
            denominator: "-",
            base: Base::Admissions,
            method: Method::Count,
            polarity: Polarity::LowerIsBetter,
            unit: "admissions",
            citation: "NHS OF 2.3.i / CCG OIS 2.6 v1.15 (methods.md §3.1; codelists/nhsof_2_3_i_ccgois_2_6_chronic_acsc.csv)",
            choices: "All §3.1 filters and conditions a)-i) are applied by haven_model::rules::avoidable::chronic_acsc. The English-commissioner filter is implicit in the zones. Published as a count; benchmarking compares the directly age- and sex-standardised rate per 100,000 as v1.15 (ESP2013, Dobson, exact limits below 389), over resident rather than GP-registered population; records of unknown age or sex are left out of the rate.",
            num_sql: "CASE WHEN acsc IS NOT NULL THEN 1 ELSE 0 END",
            den_sql: "0",
            median_of: None,
            standardisation: Standardisation::Direct,
        },
        Indicator {
            id: "apc.ucs",
            title: "Emergency admissions for urgent care sensitive conditions",
            numerator: "emergency admissions whose primary diagnosis (for falls, external cause) is one of the 14 urgent care sensitive conditions",
            denominator: "-",
            base: Base::Admissions,
            method: Method::Count,
            polarity: Polarity::LowerIsBetter,
            unit: "admissions",
            citation: "NHS England CCG IAF 2018/19 technical annex, indicator 127b (methods.md §3.3; codelists/ucs_urgent_care_sensitive_ccg_iaf_127b.csv)",
            choices: "Falls from age 75 and pyrexial child to age 6 (127b text; configurable as the annex is inconsistent). Falls are found by their cause code W00-W19 (127b: \"cause codes W00-W19\"): the first episode's CAUSE_4, else CAUSE_3, else, where the extract has no cause field (SUS+), the first external cause (V01-Y98) among its diagnoses, as HES derives CAUSE (HES Data Dictionary: \"a copy of the first diagnosis code that represents an external cause\"); so a W01 coded after an X59 is not a fall. Counted per spell from its first episode. Benchmarking compares the directly standardised rate per 100,000 (by age and sex: the annex names age only; ESP2013, Dobson).",
            num_sql: "CASE WHEN ucs IS NOT NULL THEN 1 ELSE 0 END",
            den_sql: "0",
            median_of: None,
            standardisation: Standardisation::Direct,
        },
        Indicator {
            id: "apc.ebi_list1",
            title: "Evidence-Based Interventions (list 1) performed",
            numerator: "non-emergency admissions matching a list 1 intervention's code logic",
            denominator: "-",
            base: Base::Admissions,
            method: Method::Count,
            polarity: Polarity::LowerIsBetter,
            unit: "admissions",
            citation: "NHS England EBI list 1 (2019); code logic from the Strategy Unit adaptation of the programme SQL (methods.md §4; codelists/ebi_nhp_code_logic.csv)",
            choices: "Only the list 1 interventions with public code logic (11 of 17) are counted; breast reduction, benign skin lesions, hysterectomy and D&C for heavy menstrual bleeding, chalazia and carpal tunnel release have none. Source regex bugs are read as the code list notes intend.",
            num_sql: "CASE WHEN ebi LIKE '1 %' THEN 1 ELSE 0 END",
            den_sql: "0",
            median_of: None,
            standardisation: Standardisation::Direct,
        },
        Indicator {
            id: "apc.ebi_list2",
            title: "Evidence-Based Interventions (list 2, public code logic) performed",
            numerator: "non-emergency admissions matching a list 2 intervention's code logic",
            denominator: "-",
            base: Base::Admissions,
            method: Method::Count,
            polarity: Polarity::LowerIsBetter,
            unit: "admissions",
            citation: "AoMRC EBI list 2 (2020); code logic from the Strategy Unit adaptation (methods.md §4; codelists/ebi_nhp_code_logic.csv)",
            choices: "List 2 membership per item is partly unconfirmed (methods.md §4.1); the list column of the code-logic file is used.",
            num_sql: "CASE WHEN ebi LIKE '2 %' THEN 1 ELSE 0 END",
            den_sql: "0",
            median_of: None,
            standardisation: Standardisation::Direct,
        },
        Indicator {
            id: "ae.attendances",
            title: "A&E attendances",
            numerator: "ECDS attendances arriving in the period (break down by department_type)",
            denominator: "-",
            base: Base::Ecds,
            method: Method::Count,
            polarity: Polarity::Neutral,
            unit: "attendances",
            citation: "ECDS (datasets.md §10.5); HES A&E before ECDS (§10.4)",
            choices: "A period with no ECDS attendance in an extract that holds HES A&E (to 2019-20) is read from HES A&E: ARRIVALDATE, DEPDUR for four hours, AEATTENDDISP 01 for admitted, AEDEPTTYPE for department type.",
            num_sql: "1",
            den_sql: "0",
            median_of: None,
            standardisation: Standardisation::Direct,
        },
        Indicator {
            id: "ae.four_hours",
            title: "A&E attendances within four hours of arrival",
            numerator: "attendances departing 240 minutes or less after arrival",
            denominator: "attendances with a departure time",
            base: Base::Ecds,
            method: Method::Proportion,
            polarity: Polarity::HigherIsBetter,
            unit: "%",
            citation: "NHS Digital A&E performance times; 95% standard from July 2010 (methods.md §8.3)",
            choices: "Attendances with no departure interval are left out of both counts rather than counted as within four hours (the public code's choice, flagged for review in methods.md §8.3).",
            num_sql: "CASE WHEN minutes <= 240 THEN 1 ELSE 0 END",
            den_sql: "CASE WHEN minutes IS NOT NULL THEN 1 ELSE 0 END",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "ae.conversion",
            title: "A&E attendances admitted (conversion rate)",
            numerator: "attendances with an admitted discharge destination",
            denominator: "attendances",
            base: Base::Ecds,
            method: Method::Proportion,
            polarity: Polarity::Neutral,
            unit: "%",
            citation: "ECDS discharge destination 'Admitted' group (datasets.md §3.2); HES A&E AEATTENDDISP 01 (§3.1) before ECDS",
            choices: "Short-stay/SDEC destinations are not counted as admissions.",
            num_sql: "admitted",
            den_sql: "1",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "ae.out_of_hours",
            title: "A&E arrivals out of hours",
            numerator: "arrivals outside 08:00–18:30 Monday to Friday, or on a bank holiday",
            denominator: "attendances with an arrival time",
            base: Base::Ecds,
            method: Method::Proportion,
            polarity: Polarity::Neutral,
            unit: "%",
            citation: "GMS contract core hours, SI 2015/1879 reg. 3A (methods.md §8.4)",
            choices: "The GMS contract definition, not the 08:00–17:59 convention. Good Friday, Christmas Day and the other bank holidays of England and Wales (haven_model::rules::calendar: the 1971 Act's days with substitutes, plus proclaimed one-off days to 2023) are out of hours all day; the list is Scope::holidays.",
            num_sql: "CASE WHEN out_of_hours THEN 1 ELSE 0 END",
            den_sql: "CASE WHEN out_of_hours IS NOT NULL THEN 1 ELSE 0 END",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "op.dna_rate",
            title: "Outpatient did-not-attend rate",
            numerator: "appointments not attended without warning (ATTENDED 3)",
            denominator: "appointments attended or not attended (ATTENDED 3, 5, 6, 7)",
            base: Base::Outpatients,
            method: Method::Proportion,
            polarity: Polarity::LowerIsBetter,
            unit: "%",
            citation: "NHS Data Dictionary ATTENDED OR DID NOT ATTEND (methods.md §8.2)",
            choices: "DNA = 3 only; 7 (late, not seen) counts as an attendance slot, not a DNA, as which publications count 7 is unconfirmed.",
            num_sql: "CASE WHEN attended = '3' THEN 1 ELSE 0 END",
            den_sql: "CASE WHEN attended IN ('3','5','6','7') THEN 1 ELSE 0 END",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "op.patient_cancellation_rate",
            title: "Outpatient appointments cancelled by the patient",
            numerator: "ATTENDED 2",
            denominator: "appointments with an outcome (ATTENDED 2–7)",
            base: Base::Outpatients,
            method: Method::Proportion,
            polarity: Polarity::LowerIsBetter,
            unit: "%",
            citation: "methods.md §8.2",
            choices: "",
            num_sql: "CASE WHEN attended = '2' THEN 1 ELSE 0 END",
            den_sql: "CASE WHEN attended IN ('2','3','4','5','6','7') THEN 1 ELSE 0 END",
            median_of: None,
            standardisation: Standardisation::None,
        },
        Indicator {
            id: "op.hospital_cancellation_rate",
            title: "Outpatient appointments cancelled by the hospital",
            numerator: "ATTENDED 4",
            denominator: "appointments with an outcome (ATTENDED 2–7)",
            base: Base::Outpatients,
            method: Method::Proportion,
            polarity: Polarity::LowerIsBetter,
            unit: "%",
            citation: "methods.md §8.2",
            choices: "",
            num_sql: "CASE WHEN attended = '4' THEN 1 ELSE 0 END",
            den_sql: "CASE WHEN attended IN ('2','3','4','5','6','7') THEN 1 ELSE 0 END",
            median_of: None,
            standardisation: Standardisation::None,
        },
    ]
}

/// One indicator by id.
pub fn find(id: &str) -> Option<Indicator> {
    catalogue().into_iter().find(|i| i.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_entry_is_documented() {
        let all = catalogue();
        let mut ids: Vec<&str> = all.iter().map(|i| i.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for i in &all {
            assert!(!i.title.is_empty() && !i.citation.is_empty(), "{}", i.id);
            assert_eq!(i.method == Method::Median, i.median_of.is_some(), "{}", i.id);
            assert_eq!(i.method == Method::Count, i.den_sql == "0", "{}", i.id);
            // Benchmarking standardises counts directly and proportions indirectly.
            match i.standardisation {
                Standardisation::Direct => assert_eq!(i.method, Method::Count, "{}", i.id),
                Standardisation::Indirect => assert_eq!(i.method, Method::Proportion, "{}", i.id),
                Standardisation::None => {}
            }
        }
    }
}

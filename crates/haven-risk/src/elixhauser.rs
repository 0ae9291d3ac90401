//! Elixhauser comorbidities (Quan 2005 ICD-10 coding) with the van Walraven
//! point weights.
//!
//! Sources: `shared/reference/riskscores.md` §3 with
//! `codelists/elixhauser_quan_icd10.csv` (399 rows, one per condition × code
//! prefix, 31 conditions), which cites:
//!
//! * codes: Quan H, Sundararajan V, Halfon P, et al. Coding algorithms for
//!   defining comorbidities in ICD-9-CM and ICD-10 administrative data.
//!   *Med Care* 2005;43(11):1130-9 (as mapped by the R `comorbidity` and
//!   Python `comorbidipy` packages, identical ICD-10 maps);
//! * weights: van Walraven C, Austin PC, Jennings A, Quan H, Forster AJ. A
//!   modification of the Elixhauser comorbidity measures into a point system
//!   for hospital death using administrative data. *Med Care*
//!   2009;47(6):626-33. Hypertension is split into uncomplicated and
//!   complicated, both weighing 0, so the score is the usual 30-condition
//!   one; it can be negative.
//!
//! `CONDITIONS` transcribes the CSV as `haven_model::rules::comorbidity`
//! does the Charlson list: one entry per CSV condition in CSV order, its
//! `code_prefix` rows in CSV order; a test checks it row for row.
//!
//! Matching, in the order riskscores.md "Recommendations" 1-2 gives:
//!
//! 1. every code is normalised by [`normalise_code`] (upper case, no dot);
//! 2. a code sets *every* condition one of whose prefixes it starts with —
//!    one code can set several (I11.0 chf + hypc, K70.3 ld + alcohol, F31.5
//!    psycho + depre; riskscores.md §3 "One code, several conditions");
//! 3. after all the patient's flags are collected, the hierarchy (the CSV's
//!    `hierarchy` column) drops `hypunc` when `hypc` is present, `diabunc`
//!    when `diabc` is, and `solidtum` when `metacanc` is;
//! 4. the remaining conditions are weighted, each once.

use haven_model::rules::{normalise_code, HesCode};

/// One Elixhauser condition: the CSV rows sharing a `condition` id.
struct Condition {
    /// The CSV `condition` column, e.g. `"chf"`.
    id: &'static str,
    /// CSV `weight_van_walraven`.
    weight_van_walraven: i32,
    /// The condition named by the CSV `hierarchy` column ("set to 0 when X
    /// present"), if any.
    superseded_by: Option<&'static str>,
    /// CSV `code_prefix` values: normalised ICD-10 prefixes (no dot).
    prefixes: &'static [&'static str],
}

impl Condition {
    fn matches(&self, code: &HesCode) -> bool {
        self.prefixes.iter().any(|prefix| code.as_str().starts_with(prefix))
    }
}

/// The 31 conditions of `codelists/elixhauser_quan_icd10.csv`, in CSV order,
/// with their `condition_label` as a comment.
const CONDITIONS: [Condition; 31] = [
    // Congestive heart failure
    Condition {
        id: "chf",
        weight_van_walraven: 7,
        superseded_by: None,
        prefixes: &[
            "I099", "I110", "I130", "I132", "I255", "I420", "I425", "I426", "I427", "I428", "I429", "I43",
            "I50", "P290",
        ],
    },
    // Cardiac arrhythmias
    Condition {
        id: "carit",
        weight_van_walraven: 5,
        superseded_by: None,
        prefixes: &[
            "I441", "I442", "I443", "I456", "I459", "I47", "I48", "I49", "R000", "R001", "R008", "T821", "Z450",
            "Z950",
        ],
    },
    // Valvular disease
    Condition {
        id: "valv",
        weight_van_walraven: -1,
        superseded_by: None,
        prefixes: &[
            "A520", "I05", "I06", "I07", "I08", "I091", "I098", "I34", "I35", "I36", "I37", "I38", "I39",
            "Q230", "Q231", "Q232", "Q233", "Z952", "Z953", "Z954",
        ],
    },
    // Pulmonary circulation disorders
    Condition {
        id: "pcd",
        weight_van_walraven: 4,
        superseded_by: None,
        prefixes: &["I26", "I27", "I280", "I288", "I289"],
    },
    // Peripheral vascular disorders
    Condition {
        id: "pvd",
        weight_van_walraven: 2,
        superseded_by: None,
        prefixes: &[
            "I70", "I71", "I731", "I738", "I739", "I771", "I790", "I792", "K551", "K558", "K559", "Z958", "Z959",
        ],
    },
    // Hypertension, uncomplicated
    Condition {
        id: "hypunc",
        weight_van_walraven: 0,
        superseded_by: Some("hypc"),
        prefixes: &["I10"],
    },
    // Hypertension, complicated
    Condition {
        id: "hypc",
        weight_van_walraven: 0,
        superseded_by: None,
        prefixes: &["I11", "I12", "I13", "I15"],
    },
    // Paralysis
    Condition {
        id: "para",
        weight_van_walraven: 7,
        superseded_by: None,
        prefixes: &[
            "G041", "G114", "G801", "G802", "G81", "G82", "G830", "G831", "G832", "G833", "G834", "G839",
        ],
    },
    // Other neurological disorders
    Condition {
        id: "ond",
        weight_van_walraven: 6,
        superseded_by: None,
        prefixes: &[
            "G10", "G11", "G12", "G13", "G20", "G21", "G22", "G254", "G255", "G312", "G318", "G319", "G32",
            "G35", "G36", "G37", "G40", "G41", "G931", "G934", "R470", "R56",
        ],
    },
    // Chronic pulmonary disease
    Condition {
        id: "cpd",
        weight_van_walraven: 3,
        superseded_by: None,
        prefixes: &[
            "I278", "I279", "J40", "J41", "J42", "J43", "J44", "J45", "J46", "J47", "J60", "J61", "J62", "J63",
            "J64", "J65", "J66", "J67", "J684", "J701", "J703",
        ],
    },
    // Diabetes, uncomplicated
    Condition {
        id: "diabunc",
        weight_van_walraven: 0,
        superseded_by: Some("diabc"),
        prefixes: &[
            "E100", "E101", "E109", "E110", "E111", "E119", "E120", "E121", "E129", "E130", "E131", "E139",
            "E140", "E141", "E149",
        ],
    },
    // Diabetes, complicated
    Condition {
        id: "diabc",
        weight_van_walraven: 0,
        superseded_by: None,
        prefixes: &[
            "E102", "E103", "E104", "E105", "E106", "E107", "E108", "E112", "E113", "E114", "E115", "E116",
            "E117", "E118", "E122", "E123", "E124", "E125", "E126", "E127", "E128", "E132", "E133", "E134",
            "E135", "E136", "E137", "E138", "E142", "E143", "E144", "E145", "E146", "E147", "E148",
        ],
    },
    // Hypothyroidism
    Condition {
        id: "hypothy",
        weight_van_walraven: 0,
        superseded_by: None,
        prefixes: &["E00", "E01", "E02", "E03", "E890"],
    },
    // Renal failure
    Condition {
        id: "rf",
        weight_van_walraven: 5,
        superseded_by: None,
        prefixes: &["I120", "I131", "N18", "N19", "N250", "Z490", "Z491", "Z492", "Z940", "Z992"],
    },
    // Liver disease
    Condition {
        id: "ld",
        weight_van_walraven: 11,
        superseded_by: None,
        prefixes: &[
            "B18", "I85", "I864", "I982", "K70", "K711", "K713", "K714", "K715", "K717", "K72", "K73", "K74",
            "K760", "K762", "K763", "K764", "K765", "K766", "K767", "K768", "K769", "Z944",
        ],
    },
    // Peptic ulcer disease excluding bleeding
    Condition {
        id: "pud",
        weight_van_walraven: 0,
        superseded_by: None,
        prefixes: &["K257", "K259", "K267", "K269", "K277", "K279", "K287", "K289"],
    },
    // AIDS/HIV
    Condition {
        id: "aids",
        weight_van_walraven: 0,
        superseded_by: None,
        prefixes: &["B20", "B21", "B22", "B24"],
    },
    // Lymphoma
    Condition {
        id: "lymph",
        weight_van_walraven: 9,
        superseded_by: None,
        prefixes: &["C81", "C82", "C83", "C84", "C85", "C88", "C96", "C900", "C902"],
    },
    // Metastatic cancer
    Condition {
        id: "metacanc",
        weight_van_walraven: 12,
        superseded_by: None,
        prefixes: &["C77", "C78", "C79", "C80"],
    },
    // Solid tumour without metastasis
    Condition {
        id: "solidtum",
        weight_van_walraven: 4,
        superseded_by: Some("metacanc"),
        prefixes: &[
            "C00", "C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10", "C11", "C12", "C13",
            "C14", "C15", "C16", "C17", "C18", "C19", "C20", "C21", "C22", "C23", "C24", "C25", "C26", "C30",
            "C31", "C32", "C33", "C34", "C37", "C38", "C39", "C40", "C41", "C43", "C45", "C46", "C47", "C48",
            "C49", "C50", "C51", "C52", "C53", "C54", "C55", "C56", "C57", "C58", "C60", "C61", "C62", "C63",
            "C64", "C65", "C66", "C67", "C68", "C69", "C70", "C71", "C72", "C73", "C74", "C75", "C76", "C97",
        ],
    },
    // Rheumatoid arthritis/collagen vascular disease
    Condition {
        id: "rheumd",
        weight_van_walraven: 0,
        superseded_by: None,
        prefixes: &[
            "L940", "L941", "L943", "M05", "M06", "M08", "M120", "M123", "M30", "M310", "M311", "M312", "M313",
            "M32", "M33", "M34", "M35", "M45", "M461", "M468", "M469",
        ],
    },
    // Coagulopathy
    Condition {
        id: "coag",
        weight_van_walraven: 3,
        superseded_by: None,
        prefixes: &["D65", "D66", "D67", "D68", "D691", "D693", "D694", "D695", "D696"],
    },
    // Obesity
    Condition {
        id: "obes",
        weight_van_walraven: -4,
        superseded_by: None,
        prefixes: &["E66"],
    },
    // Weight loss
    Condition {
        id: "wloss",
        weight_van_walraven: 6,
        superseded_by: None,
        prefixes: &["E40", "E41", "E42", "E43", "E44", "E45", "E46", "R634", "R64"],
    },
    // Fluid and electrolyte disorders
    Condition {
        id: "fed",
        weight_van_walraven: 5,
        superseded_by: None,
        prefixes: &["E222", "E86", "E87"],
    },
    // Blood loss anaemia
    Condition {
        id: "blane",
        weight_van_walraven: -2,
        superseded_by: None,
        prefixes: &["D500"],
    },
    // Deficiency anaemia
    Condition {
        id: "dane",
        weight_van_walraven: -2,
        superseded_by: None,
        prefixes: &["D508", "D509", "D51", "D52", "D53"],
    },
    // Alcohol abuse
    Condition {
        id: "alcohol",
        weight_van_walraven: 0,
        superseded_by: None,
        prefixes: &[
            "F10", "E52", "G621", "I426", "K292", "K700", "K703", "K709", "T51", "Z502", "Z714", "Z721",
        ],
    },
    // Drug abuse
    Condition {
        id: "drug",
        weight_van_walraven: -7,
        superseded_by: None,
        prefixes: &["F11", "F12", "F13", "F14", "F15", "F16", "F18", "F19", "Z715", "Z722"],
    },
    // Psychoses
    Condition {
        id: "psycho",
        weight_van_walraven: 0,
        superseded_by: None,
        prefixes: &["F20", "F22", "F23", "F24", "F25", "F28", "F29", "F302", "F312", "F315"],
    },
    // Depression
    Condition {
        id: "depre",
        weight_van_walraven: -3,
        superseded_by: None,
        prefixes: &["F204", "F313", "F314", "F315", "F32", "F33", "F341", "F412", "F432"],
    },
];

/// The conditions present after the hierarchy, in `CONDITIONS` order.
fn present(diagnoses: &[&str]) -> impl Iterator<Item = &'static Condition> {
    let codes: Vec<HesCode> = diagnoses.iter().map(|d| normalise_code(d)).filter(|c| !c.is_empty()).collect();
    let flagged: Vec<&str> = CONDITIONS.iter().filter(|cond| codes.iter().any(|c| cond.matches(c))).map(|cond| cond.id).collect();
    CONDITIONS
        .iter()
        .filter(move |cond| flagged.contains(&cond.id) && !cond.superseded_by.is_some_and(|severe| flagged.contains(&severe)))
}

/// The Elixhauser conditions present (CSV `condition` ids, e.g. `"chf"`,
/// `"hypc"`), each once, after the hierarchy, in CSV order. Conditions
/// weighing 0 (e.g. `hypunc`, `aids`) are still listed.
///
/// `diagnoses` are ICD-10 codes in any HES form; empty and `-` entries are
/// ignored. Which spells and positions they come from is the caller's choice.
pub fn elixhauser_conditions(diagnoses: &[&str]) -> Vec<&'static str> {
    present(diagnoses).map(|cond| cond.id).collect()
}

/// The van Walraven score: the sum of the weights of the conditions present
/// ([`elixhauser_conditions`]), from −19 (every negative weight) to 85 (every
/// positive one, 89, less solid tumour's 4, dropped under metastatic cancer).
pub fn elixhauser_van_walraven(diagnoses: &[&str]) -> i32 {
    present(diagnoses).map(|cond| cond.weight_van_walraven).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The conditions present and the van Walraven score.
    fn check(diagnoses: &[&str], conditions: &[&str], score: i32) {
        assert_eq!(elixhauser_conditions(diagnoses), conditions, "{diagnoses:?}");
        assert_eq!(elixhauser_van_walraven(diagnoses), score, "{diagnoses:?}");
    }

    #[test]
    fn table_is_the_csv_row_for_row() {
        let rows = crate::reference::codelist("elixhauser_quan_icd10.csv");
        let table: Vec<(&Condition, &str)> = CONDITIONS.iter().flat_map(|c| c.prefixes.iter().map(move |p| (c, *p))).collect();
        assert_eq!(rows.len(), 399);
        assert_eq!(table.len(), rows.len(), "one table prefix per CSV row");
        for (row, (cond, prefix)) in rows.iter().zip(table) {
            assert_eq!([row["condition"].as_str(), row["code_prefix"].as_str()], [cond.id, prefix], "CSV order");
            assert_eq!(row["weight_van_walraven"].parse::<i32>().unwrap(), cond.weight_van_walraven, "{prefix}");
            let hierarchy = cond.superseded_by.map(|severe| format!("set to 0 when {severe} present")).unwrap_or_default();
            assert_eq!(row["hierarchy"], hierarchy, "{prefix}");
        }
        let mut ids: Vec<&str> = rows.iter().map(|r| r["condition"].as_str()).collect();
        ids.dedup();
        assert_eq!(ids, CONDITIONS.map(|c| c.id), "the CSV's 31 conditions, each in one run");
    }

    #[test]
    fn every_prefix_is_normalised_and_matches_its_condition() {
        for cond in &CONDITIONS {
            for prefix in cond.prefixes {
                assert_eq!(normalise_code(prefix).as_str(), *prefix);
                assert!(elixhauser_conditions(&[prefix]).contains(&cond.id), "{prefix}");
            }
        }
    }

    #[test]
    fn one_code_sets_two_conditions() {
        // I11.0 hypertensive heart disease with heart failure: chf 7 + hypc 0 = 7.
        check(&["I11.0"], &["chf", "hypc"], 7);
        // K70.3 alcoholic cirrhosis: ld 11 + alcohol 0 = 11.
        check(&["K70.3"], &["ld", "alcohol"], 11);
        // I42.6 alcoholic cardiomyopathy: chf 7 + alcohol 0 = 7.
        check(&["I42.6"], &["chf", "alcohol"], 7);
        // F31.5 bipolar, severe depression with psychosis: psycho 0 + depre −3 = −3.
        check(&["F31.5"], &["psycho", "depre"], -3);
        // I12.0 hypertensive renal disease with renal failure: hypc 0 + rf 5 = 5.
        check(&["I12.0"], &["hypc", "rf"], 5);
    }

    #[test]
    fn hierarchy_hypertension() {
        // I10X uncomplicated hypertension: hypunc 0. With I13.1 (hypc 0 + rf 5): hypunc dropped.
        check(&["I10X"], &["hypunc"], 0);
        check(&["I10X", "I13.1"], &["hypc", "rf"], 5);
    }

    #[test]
    fn hierarchy_diabetes() {
        // E11.9 diabunc 0; E11.5 diabc 0; both: diabc only, still 0.
        check(&["E11.9"], &["diabunc"], 0);
        check(&["E11.5"], &["diabc"], 0);
        check(&["E11.9", "E11.5"], &["diabc"], 0);
    }

    #[test]
    fn hierarchy_solid_tumour() {
        // C34.1 lung: solidtum 4; C78.0 secondary lung: metacanc 12; both: 12, not 16.
        check(&["C34.1"], &["solidtum"], 4);
        check(&["C78.0"], &["metacanc"], 12);
        check(&["C34.1", "C78.0"], &["metacanc"], 12);
    }

    #[test]
    fn negative_weights_add_up() {
        // F11.2 drug −7 + E66.9 obes −4 = −11; with D50.9 dane −2: −13.
        check(&["F11.2", "E66.9"], &["obes", "drug"], -11);
        check(&["F11.2", "E66.9", "D50.9"], &["obes", "dane", "drug"], -13);
    }

    #[test]
    fn every_condition_gives_the_score_range() {
        let dx: Vec<&str> = CONDITIONS.iter().map(|c| c.prefixes[0]).collect();
        assert_eq!(elixhauser_conditions(&dx).len(), 28, "hypunc, diabunc and solidtum dropped");
        // Positive weights 7+5+4+2+7+6+3+5+11+9+12+4+3+6+5 = 89, minus solidtum's 4 = 85;
        // negative −1 −4 −2 −2 −7 −3 = −19. 85 − 19 = 66.
        assert_eq!(elixhauser_van_walraven(&dx), 66);
        let negatives: Vec<&str> = CONDITIONS.iter().filter(|c| c.weight_van_walraven < 0).map(|c| c.prefixes[0]).collect();
        assert_eq!(elixhauser_van_walraven(&negatives), -19);
    }

    fn any_code() -> impl Strategy<Value = &'static str> {
        (0..CONDITIONS.len(), 0..8usize).prop_map(|(i, j)| CONDITIONS[i].prefixes[j % CONDITIONS[i].prefixes.len()])
    }

    proptest! {
        #[test]
        fn hierarchy_never_counts_both_forms(codes in proptest::collection::vec(any_code(), 0..12)) {
            let found = elixhauser_conditions(&codes);
            for (mild, severe) in [("hypunc", "hypc"), ("diabunc", "diabc"), ("solidtum", "metacanc")] {
                prop_assert!(!(found.contains(&mild) && found.contains(&severe)), "{mild} with {severe}: {found:?}");
            }
            let score = elixhauser_van_walraven(&codes);
            prop_assert!((-19..=85).contains(&score), "{score}");
        }

        #[test]
        fn order_and_repetition_do_not_matter(codes in proptest::collection::vec(any_code(), 0..12)) {
            let mut shuffled: Vec<&str> = codes.iter().chain(codes.iter()).rev().copied().collect();
            prop_assert_eq!(elixhauser_conditions(&codes), elixhauser_conditions(&shuffled));
            shuffled.sort();
            prop_assert_eq!(elixhauser_van_walraven(&codes), elixhauser_van_walraven(&shuffled));
        }
    }
}

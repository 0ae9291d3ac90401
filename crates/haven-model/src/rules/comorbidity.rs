//! Charlson comorbidity index: the Quan (2005) ICD-10 coding of the 17
//! Charlson conditions, with either the original (Charlson 1987) or the
//! updated (Quan 2011) weights.
//!
//! Sources: `shared/reference/riskscores.md` §2 with
//! `codelists/charlson_quan_icd10.csv` (289 rows, one per condition × code
//! prefix), which cites:
//!
//! * codes: Quan H, Sundararajan V, Halfon P, et al. Coding algorithms for
//!   defining comorbidities in ICD-9-CM and ICD-10 administrative data.
//!   *Med Care* 2005;43(11):1130-9 (as mapped by the R `comorbidity` and
//!   Python `comorbidipy` packages, which agree prefix for prefix);
//! * `weight_charlson`: Charlson ME, Pompei P, Ales KL, MacKenzie CR.
//!   *J Chronic Dis* 1987;40(5):373-83;
//! * `weight_quan2011`: Quan H, Li B, Couris CM, et al. Updating and
//!   validating the Charlson comorbidity index and score for risk adjustment
//!   in hospital discharge abstracts using data from 6 countries. *Am J
//!   Epidemiol* 2011;173(6):676-82. AIDS/HIV weighs 4, not the 2 of
//!   comorbidipy 0.8.0 and older R `comorbidity` (riskscores.md §2: 4 is what
//!   gives the paper's published maximum of 24).
//!
//! `CONDITIONS` transcribes the CSV as this crate does its other code lists
//! (see `rules::avoidable`, `rules::ebi`): one entry per CSV condition, in CSV
//! order, its `code_prefix` rows in CSV order. The tests check that the table
//! has the CSV's 17 conditions and 289 prefixes, and that every prefix falls
//! in its own condition only.
//!
//! Matching: each diagnosis is normalised with [`normalise_code`] (upper case,
//! no `.`, `-` or whitespace, at most four characters), so `I21.0`, `I210`,
//! `I21X` and `i21` are all read alike, and an empty or `-` entry matches
//! nothing. A code belongs to a condition when its normalised form starts
//! with one of the condition's prefixes (riskscores.md §2: "a code belongs to
//! a condition if it *starts with* the prefix after removing the dot"). Each
//! condition counts once however many codes fall in it.
//!
//! Hierarchy: the CSV's `hierarchy` column holds, for three conditions, "set
//! to 0 when *X* present", and nothing for the other fourteen:
//!
//! | condition | set to 0 when present |
//! | --- | --- |
//! | `mld` mild liver disease | `msld` moderate or severe liver disease |
//! | `diab` diabetes without chronic complication | `diabwc` diabetes with chronic complication |
//! | `canc` any malignancy incl. leukaemia and lymphoma | `metacanc` metastatic solid tumour |
//!
//! So a superseded condition is dropped (neither listed by
//! [`charlson_conditions`] nor weighted by [`charlson_index`]) when its more
//! severe form is present, under either weighting. The rule is one level
//! deep: no superseding condition is itself superseded. This is the
//! reference packages' default (`assign0`, riskscores.md §2).
//!
//! What the codes are (which spells, which look-back window, which diagnosis
//! positions) is the caller's choice; this module only scores the list it is
//! given. Age points (the combined age-comorbidity score of Charlson 1994)
//! are the risk workload's: `haven_risk::charlson` adds them to this index.

use serde::{Deserialize, Serialize};

use super::avoidable::{normalise_code, HesCode};

/// Which published weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharlsonWeights {
    /// Charlson et al. 1987 (CSV `weight_charlson`): 1, 2, 3 or 6 per condition.
    #[default]
    Charlson1987,
    /// Quan et al. 2011 (CSV `weight_quan2011`): 0-6 per condition, AIDS/HIV 4.
    Quan2011,
}

/// One Charlson condition: the CSV rows sharing a `condition` id.
struct Condition {
    /// The CSV `condition` column, e.g. `"ami"`.
    id: &'static str,
    /// CSV `weight_charlson` (Charlson 1987).
    weight_charlson: u32,
    /// CSV `weight_quan2011` (Quan 2011).
    weight_quan2011: u32,
    /// The condition named by the CSV `hierarchy` column ("set to 0 when X
    /// present"), if any.
    superseded_by: Option<&'static str>,
    /// CSV `code_prefix` values: normalised ICD-10 prefixes (no dot).
    prefixes: &'static [&'static str],
}

impl Condition {
    fn weight(&self, weights: CharlsonWeights) -> u32 {
        match weights {
            CharlsonWeights::Charlson1987 => self.weight_charlson,
            CharlsonWeights::Quan2011 => self.weight_quan2011,
        }
    }

    fn matches(&self, code: &HesCode) -> bool {
        let code = code.as_str();
        self.prefixes.iter().any(|prefix| code.starts_with(prefix))
    }
}

/// The 17 conditions of `codelists/charlson_quan_icd10.csv`, in CSV order,
/// with their `condition_label` as a comment.
const CONDITIONS: [Condition; 17] = [
    // Myocardial infarction
    Condition {
        id: "ami",
        weight_charlson: 1,
        weight_quan2011: 0,
        superseded_by: None,
        prefixes: &["I21", "I22", "I252"],
    },
    // Congestive heart failure
    Condition {
        id: "chf",
        weight_charlson: 1,
        weight_quan2011: 2,
        superseded_by: None,
        prefixes: &[
            "I099", "I110", "I130", "I132", "I255", "I420", "I425", "I426", "I427", "I428", "I429",
            "I43", "I50", "P290",
        ],
    },
    // Peripheral vascular disease
    Condition {
        id: "pvd",
        weight_charlson: 1,
        weight_quan2011: 0,
        superseded_by: None,
        prefixes: &[
            "I70", "I71", "I731", "I738", "I739", "I771", "I790", "I792", "K551", "K558", "K559",
            "Z958", "Z959",
        ],
    },
    // Cerebrovascular disease
    Condition {
        id: "cevd",
        weight_charlson: 1,
        weight_quan2011: 0,
        superseded_by: None,
        prefixes: &[
            "G45", "G46", "H340", "I60", "I61", "I62", "I63", "I64", "I65", "I66", "I67", "I68",
            "I69",
        ],
    },
    // Dementia
    Condition {
        id: "dementia",
        weight_charlson: 1,
        weight_quan2011: 2,
        superseded_by: None,
        prefixes: &["F00", "F01", "F02", "F03", "F051", "G30", "G311"],
    },
    // Chronic pulmonary disease
    Condition {
        id: "copd",
        weight_charlson: 1,
        weight_quan2011: 1,
        superseded_by: None,
        prefixes: &[
            "I278", "I279", "J40", "J41", "J42", "J43", "J44", "J45", "J46", "J47", "J60", "J61",
            "J62", "J63", "J64", "J65", "J66", "J67", "J684", "J701", "J703",
        ],
    },
    // Rheumatic (connective tissue) disease
    Condition {
        id: "rheumd",
        weight_charlson: 1,
        weight_quan2011: 1,
        superseded_by: None,
        prefixes: &["M05", "M06", "M315", "M32", "M33", "M34", "M351", "M353", "M360"],
    },
    // Peptic ulcer disease
    Condition {
        id: "pud",
        weight_charlson: 1,
        weight_quan2011: 0,
        superseded_by: None,
        prefixes: &["K25", "K26", "K27", "K28"],
    },
    // Mild liver disease
    Condition {
        id: "mld",
        weight_charlson: 1,
        weight_quan2011: 2,
        superseded_by: Some("msld"),
        prefixes: &[
            "B18", "K700", "K701", "K702", "K703", "K709", "K713", "K714", "K715", "K717", "K73",
            "K74", "K760", "K762", "K763", "K764", "K768", "K769", "Z944",
        ],
    },
    // Diabetes without chronic complication
    Condition {
        id: "diab",
        weight_charlson: 1,
        weight_quan2011: 0,
        superseded_by: Some("diabwc"),
        prefixes: &[
            "E100", "E101", "E106", "E108", "E109", "E110", "E111", "E116", "E118", "E119", "E120",
            "E121", "E126", "E128", "E129", "E130", "E131", "E136", "E138", "E139", "E140", "E141",
            "E146", "E148", "E149",
        ],
    },
    // Diabetes with chronic complication
    Condition {
        id: "diabwc",
        weight_charlson: 2,
        weight_quan2011: 1,
        superseded_by: None,
        prefixes: &[
            "E102", "E103", "E104", "E105", "E107", "E112", "E113", "E114", "E115", "E117", "E122",
            "E123", "E124", "E125", "E127", "E132", "E133", "E134", "E135", "E137", "E142", "E143",
            "E144", "E145", "E147",
        ],
    },
    // Hemiplegia or paraplegia
    Condition {
        id: "hp",
        weight_charlson: 2,
        weight_quan2011: 2,
        superseded_by: None,
        prefixes: &[
            "G041", "G114", "G801", "G802", "G81", "G82", "G830", "G831", "G832", "G833", "G834",
            "G839",
        ],
    },
    // Renal disease
    Condition {
        id: "rend",
        weight_charlson: 2,
        weight_quan2011: 1,
        superseded_by: None,
        prefixes: &[
            "I120", "I131", "N032", "N033", "N034", "N035", "N036", "N037", "N052", "N053", "N054",
            "N055", "N056", "N057", "N18", "N19", "N250", "Z490", "Z491", "Z492", "Z940", "Z992",
        ],
    },
    // Any malignancy incl. leukaemia and lymphoma
    Condition {
        id: "canc",
        weight_charlson: 2,
        weight_quan2011: 2,
        superseded_by: Some("metacanc"),
        prefixes: &[
            "C00", "C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10", "C11",
            "C12", "C13", "C14", "C15", "C16", "C17", "C18", "C19", "C20", "C21", "C22", "C23",
            "C24", "C25", "C26", "C30", "C31", "C32", "C33", "C34", "C37", "C38", "C39", "C40",
            "C41", "C43", "C45", "C46", "C47", "C48", "C49", "C50", "C51", "C52", "C53", "C54",
            "C55", "C56", "C57", "C58", "C60", "C61", "C62", "C63", "C64", "C65", "C66", "C67",
            "C68", "C69", "C70", "C71", "C72", "C73", "C74", "C75", "C76", "C81", "C82", "C83",
            "C84", "C85", "C88", "C90", "C91", "C92", "C93", "C94", "C95", "C96", "C97",
        ],
    },
    // Moderate or severe liver disease
    Condition {
        id: "msld",
        weight_charlson: 3,
        weight_quan2011: 4,
        superseded_by: None,
        prefixes: &["I850", "I859", "I864", "I982", "K704", "K711", "K721", "K729", "K765", "K766", "K767"],
    },
    // Metastatic solid tumour
    Condition {
        id: "metacanc",
        weight_charlson: 6,
        weight_quan2011: 6,
        superseded_by: None,
        prefixes: &["C77", "C78", "C79", "C80"],
    },
    // AIDS/HIV
    Condition {
        id: "aids",
        weight_charlson: 6,
        weight_quan2011: 4,
        superseded_by: None,
        prefixes: &["B20", "B21", "B22", "B24"],
    },
];

/// The conditions present after the hierarchy rule, in `CONDITIONS` order.
fn present(diagnoses: &[&str]) -> impl Iterator<Item = &'static Condition> {
    let codes: Vec<HesCode> = diagnoses.iter().map(|d| normalise_code(d)).filter(|c| !c.is_empty()).collect();
    let found: Vec<&str> =
        CONDITIONS.iter().filter(|cond| codes.iter().any(|c| cond.matches(c))).map(|cond| cond.id).collect();
    CONDITIONS
        .iter()
        .filter(move |cond| found.contains(&cond.id) && !cond.superseded_by.is_some_and(|severe| found.contains(&severe)))
}

/// The conditions present (condition ids as in the CSV `condition` column,
/// e.g. `"ami"`, `"chf"`), each once, after the hierarchy rule, in the CSV's
/// order of conditions.
///
/// `diagnoses` are ICD-10 codes in any HES form (`"I21.0"`, `"I210"`,
/// `"I21X"`, `"i21"`); empty and `"-"` entries are ignored. Presence does not
/// depend on the weighting: a condition weighted 0 by Quan 2011 (e.g. `ami`)
/// is still listed.
pub fn charlson_conditions(diagnoses: &[&str]) -> Vec<&'static str> {
    present(diagnoses).map(|cond| cond.id).collect()
}

/// The Charlson comorbidity index: the sum of the weights of the conditions
/// present ([`charlson_conditions`]), each counted once, superseded
/// conditions not at all. 0 for no codes; at most 29 (Charlson 1987) or 24
/// (Quan 2011).
pub fn charlson_index(diagnoses: &[&str], weights: CharlsonWeights) -> u32 {
    present(diagnoses).map(|cond| cond.weight(weights)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use CharlsonWeights::{Charlson1987, Quan2011};

    #[test]
    fn single_ami_scores_one() {
        assert_eq!(charlson_conditions(&["I21.0"]), ["ami"]);
        // ami: weight_charlson 1.
        assert_eq!(charlson_index(&["I21.0"], Charlson1987), 1);
        assert_eq!(charlson_index(&["I21.0"], CharlsonWeights::default()), 1, "1987 is the default");
        // ami: weight_quan2011 0 (still present, weighs nothing).
        assert_eq!(charlson_index(&["I21.0"], Quan2011), 0);
    }

    #[test]
    fn metastatic_tumour_drops_cancer_under_both_weightings() {
        // I21.9 ami, I50.0 chf, C78.0 metacanc (secondary lung), C18.7 canc (sigmoid colon).
        let dx = ["I21.9", "I50.0", "C78.0", "C18.7"];
        assert_eq!(charlson_conditions(&dx), ["ami", "chf", "metacanc"], "canc set to 0 when metacanc present");
        // 1987: ami 1 + chf 1 + metacanc 6 = 8 (canc's 2 dropped; without the hierarchy 10).
        assert_eq!(charlson_index(&dx, Charlson1987), 8);
        // 2011: ami 0 + chf 2 + metacanc 6 = 8 (canc's 2 dropped; without the hierarchy 10).
        assert_eq!(charlson_index(&dx, Quan2011), 8);
        // Without the metastasis, cancer counts: 1987 1 + 1 + 2 = 4; 2011 0 + 2 + 2 = 4.
        let dx = ["I21.9", "I50.0", "C18.7"];
        assert_eq!(charlson_conditions(&dx), ["ami", "chf", "canc"]);
        assert_eq!(charlson_index(&dx, Charlson1987), 4);
        assert_eq!(charlson_index(&dx, Quan2011), 4);
    }

    #[test]
    fn liver_and_diabetes_hierarchies() {
        // K70.3 mld (alcoholic cirrhosis) + K72.1 msld: msld only. 1987: 3; 2011: 4.
        assert_eq!(charlson_conditions(&["K70.3", "K72.1"]), ["msld"]);
        assert_eq!(charlson_index(&["K70.3", "K72.1"], Charlson1987), 3);
        assert_eq!(charlson_index(&["K70.3", "K72.1"], Quan2011), 4);
        // mld alone: 1987 1; 2011 2.
        assert_eq!(charlson_index(&["K70.3"], Charlson1987), 1);
        assert_eq!(charlson_index(&["K70.3"], Quan2011), 2);
        // E11.9 diab + E11.2 diabwc: diabwc only. 1987: 2; 2011: 1.
        assert_eq!(charlson_conditions(&["E11.9", "E11.2"]), ["diabwc"]);
        assert_eq!(charlson_index(&["E11.9", "E11.2"], Charlson1987), 2);
        assert_eq!(charlson_index(&["E11.9", "E11.2"], Quan2011), 1);
    }

    #[test]
    fn repeated_codes_count_once() {
        // Four AMI codes: ami once, 1987 weight 1.
        let dx = ["I21.0", "I21.4", "I22.1", "I25.2", "I21.0"];
        assert_eq!(charlson_conditions(&dx), ["ami"]);
        assert_eq!(charlson_index(&dx, Charlson1987), 1);
        // Three CHF codes: chf once, 2011 weight 2 (not 6).
        let dx = ["I50.0", "I50.1", "I11.0"];
        assert_eq!(charlson_conditions(&dx), ["chf"]);
        assert_eq!(charlson_index(&dx, Quan2011), 2);
    }

    #[test]
    fn hes_code_forms_all_match() {
        for code in ["I21.0", "I210", "I21X", "i21x", "i21", "I21", " i21.0 "] {
            assert_eq!(charlson_conditions(&[code]), ["ami"], "{code}");
            assert_eq!(charlson_index(&[code], Charlson1987), 1, "{code}");
        }
        // Four-character prefix I25.2: I25.2 and I252 match, I25.1 and bare I25 do not.
        assert_eq!(charlson_conditions(&["I25.2"]), ["ami"]);
        assert_eq!(charlson_conditions(&["I252"]), ["ami"]);
        assert!(charlson_conditions(&["I25.1"]).is_empty());
        assert!(charlson_conditions(&["I25X"]).is_empty());
    }

    #[test]
    fn no_codes_score_zero() {
        for dx in [&[][..], &["-"], &["", "-"], &["-", " "]] {
            assert!(charlson_conditions(dx).is_empty(), "{dx:?}");
            assert_eq!(charlson_index(dx, Charlson1987), 0, "{dx:?}");
            assert_eq!(charlson_index(dx, Quan2011), 0, "{dx:?}");
        }
    }

    #[test]
    fn unrelated_code_scores_zero() {
        for dx in [&["J06X"][..], &["J06.9"], &["-", "J06X", ""]] {
            assert!(charlson_conditions(dx).is_empty(), "{dx:?}");
            assert_eq!(charlson_index(dx, Charlson1987), 0, "{dx:?}");
            assert_eq!(charlson_index(dx, Quan2011), 0, "{dx:?}");
        }
        // Ignored entries do not disturb the others: chf 1987 weight 1.
        assert_eq!(charlson_index(&["-", "J06X", "I50.9", ""], Charlson1987), 1);
    }

    #[test]
    fn every_table_prefix_matches_its_own_condition_only() {
        // The CSV has 289 rows over 17 conditions.
        assert_eq!(CONDITIONS.len(), 17);
        assert_eq!(CONDITIONS.iter().map(|c| c.prefixes.len()).sum::<usize>(), 289);
        for (i, cond) in CONDITIONS.iter().enumerate() {
            assert!(CONDITIONS[..i].iter().all(|other| other.id != cond.id), "{} twice", cond.id);
            assert!(!cond.prefixes.is_empty(), "{}", cond.id);
            for prefix in cond.prefixes {
                assert_eq!(normalise_code(prefix).as_str(), *prefix, "{prefix} is not in normalised form");
                assert_eq!(charlson_conditions(&[prefix]), [cond.id], "{prefix}");
            }
        }
    }

    #[test]
    fn table_is_the_csv_row_for_row() {
        // `shared/reference/codelists/charlson_quan_icd10.csv` (no quoted fields): condition,
        // code_prefix, weight_charlson, weight_quan2011, condition_label, hierarchy, source.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/codelists/charlson_quan_icd10.csv");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let rows: Vec<Vec<&str>> = text.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').collect()).collect();
        let table: Vec<(&Condition, &str)> = CONDITIONS.iter().flat_map(|c| c.prefixes.iter().map(move |p| (c, *p))).collect();
        assert_eq!(rows.len(), table.len(), "one table prefix per CSV row");
        for (row, (cond, prefix)) in rows.iter().zip(table) {
            assert_eq!([row[0], row[1]], [cond.id, prefix], "CSV order");
            assert_eq!(row[2].parse::<u32>().unwrap(), cond.weight_charlson, "{prefix}");
            assert_eq!(row[3].parse::<u32>().unwrap(), cond.weight_quan2011, "{prefix}");
            let hierarchy = cond.superseded_by.map(|severe| format!("set to 0 when {severe} present")).unwrap_or_default();
            assert_eq!(row[5], hierarchy, "{prefix}");
        }
    }

    #[test]
    fn hierarchy_is_the_csv_column_one_level_deep() {
        let superseded: Vec<_> =
            CONDITIONS.iter().filter_map(|c| c.superseded_by.map(|severe| (c.id, severe))).collect();
        assert_eq!(superseded, [("mld", "msld"), ("diab", "diabwc"), ("canc", "metacanc")]);
        for (_, severe) in superseded {
            let target = CONDITIONS.iter().find(|c| c.id == severe).expect("superseding condition exists");
            assert_eq!(target.superseded_by, None, "{severe} is itself superseded");
        }
    }

    #[test]
    fn every_condition_gives_the_published_maxima() {
        // One code per condition (its first prefix): all 17 present before the hierarchy.
        let dx: Vec<&str> = CONDITIONS.iter().map(|c| c.prefixes[0]).collect();
        assert_eq!(charlson_conditions(&dx).len(), 14, "mld, diab and canc dropped");
        // 1987: all 17 weights 1*10 + 2*4 + 3 + 6*2 = 33, minus mld 1, diab 1, canc 2 = 29.
        assert_eq!(charlson_index(&dx, Charlson1987), 29);
        // 2011: all 17 weights 2+2+1+1+2+1+2+1+2+4+6+4 (the non-zero ones) = 28,
        // minus mld 2, diab 0, canc 2 = 24. Both are the published maxima (riskscores.md §2).
        assert_eq!(charlson_index(&dx, Quan2011), 24);
    }
}

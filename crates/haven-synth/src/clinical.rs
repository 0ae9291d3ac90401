//! Clinical vocabularies the generator draws from: chronic conditions with
//! their ICD-10, SNOMED CT and BNF codes, presenting problems for emergency
//! admissions, elective procedures (including Evidence-Based Interventions),
//! and HRGs with synthetic prices.
//!
//! ICD-10 codes for ambulatory-care-sensitive conditions come from
//! `shared/reference/codelists/nhsof_2_3_i_ccgois_2_6_chronic_acsc.csv`; EBI
//! procedure and diagnosis pairs from `ebi_nhp_code_logic.csv`; SNOMED CT and
//! BNF chemical-substance codes are real concepts, but which ones a practice
//! would record is a simplification. HRG codes are real-shaped, their prices
//! synthetic.

/// Long-term conditions tracked per person (bit positions in a `u16`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    Hypertension,
    Diabetes,
    Asthma,
    Copd,
    Chd,
    HeartFailure,
    AtrialFibrillation,
    Ckd,
    Dementia,
    Cancer,
    Depression,
    Stroke,
}

pub const CONDITIONS: [Condition; 12] = [
    Condition::Hypertension,
    Condition::Diabetes,
    Condition::Asthma,
    Condition::Copd,
    Condition::Chd,
    Condition::HeartFailure,
    Condition::AtrialFibrillation,
    Condition::Ckd,
    Condition::Dementia,
    Condition::Cancer,
    Condition::Depression,
    Condition::Stroke,
];

/// Per condition: prevalence by age band (0–17, 18–39, 40–59, 60–74, 75+),
/// strength of the deprivation gradient, log relative rate of emergency
/// admission, secondary ICD-10 code, ACSC primary codes for its exacerbations,
/// SNOMED CT concept for the GP record, BNF codes of typical repeat medicines.
pub struct ConditionFacts {
    pub name: &'static str,
    pub prevalence: [f64; 5],
    pub deprivation_gradient: f64,
    pub emergency_log_rr: f64,
    pub icd10_secondary: &'static str,
    pub acsc_primary: &'static [&'static str],
    pub snomed: &'static str,
    pub bnf: &'static [&'static str],
}

// Prevalences approximate QOF 2023-24 registers by age (NHS Digital QOF
// prevalence tables); relative rates are calibrated so that England has about
// 6.3M emergency admissions a year.
pub const FACTS: [ConditionFacts; 12] = [
    ConditionFacts { name: "hypertension", prevalence: [0.0, 0.03, 0.15, 0.40, 0.60], deprivation_gradient: 0.15, emergency_log_rr: 0.10, icd10_secondary: "I10X", acsc_primary: &["I10X", "I119"], snomed: "38341003", bnf: &["0206020A0AAAAAA", "0205051R0AAAAAA"] },
    ConditionFacts { name: "diabetes", prevalence: [0.002, 0.02, 0.08, 0.16, 0.20], deprivation_gradient: 0.35, emergency_log_rr: 0.35, icd10_secondary: "E119", acsc_primary: &["E119", "E111", "E101", "E149"], snomed: "44054006", bnf: &["0601022B0AAABAB", "0601021M0AAAAAA"] },
    ConditionFacts { name: "asthma", prevalence: [0.08, 0.07, 0.06, 0.06, 0.06], deprivation_gradient: 0.15, emergency_log_rr: 0.25, icd10_secondary: "J459", acsc_primary: &["J459", "J450", "J46X"], snomed: "195967001", bnf: &["0301011R0AAAPAP", "0302000C0AAAAAA"] },
    ConditionFacts { name: "COPD", prevalence: [0.0, 0.002, 0.015, 0.06, 0.09], deprivation_gradient: 0.45, emergency_log_rr: 0.75, icd10_secondary: "J449", acsc_primary: &["J441", "J440", "J449", "J43X", "J42X"], snomed: "13645005", bnf: &["0301020Q0AAACAC", "0301011R0AAAPAP"] },
    ConditionFacts { name: "coronary heart disease", prevalence: [0.0, 0.001, 0.02, 0.08, 0.15], deprivation_gradient: 0.35, emergency_log_rr: 0.35, icd10_secondary: "I259", acsc_primary: &["I209", "I251", "I259"], snomed: "53741008", bnf: &["0212000B0AAABAB", "0209000A0AAAAAA"] },
    ConditionFacts { name: "heart failure", prevalence: [0.0, 0.0005, 0.004, 0.02, 0.07], deprivation_gradient: 0.30, emergency_log_rr: 0.80, icd10_secondary: "I509", acsc_primary: &["I500", "I509", "I110", "J81X"], snomed: "84114007", bnf: &["0202020L0AAAAAA", "0204000H0AAAAAA"] },
    ConditionFacts { name: "atrial fibrillation", prevalence: [0.0, 0.001, 0.006, 0.05, 0.13], deprivation_gradient: 0.05, emergency_log_rr: 0.25, icd10_secondary: "I489", acsc_primary: &["I480", "I489"], snomed: "49436004", bnf: &["0208020Z0AAAAAA", "0204000H0AAAAAA"] },
    ConditionFacts { name: "chronic kidney disease", prevalence: [0.0, 0.002, 0.02, 0.08, 0.22], deprivation_gradient: 0.20, emergency_log_rr: 0.30, icd10_secondary: "N183", acsc_primary: &["N179", "N390"], snomed: "709044004", bnf: &["0205051R0AAAAAA"] },
    ConditionFacts { name: "dementia", prevalence: [0.0, 0.0, 0.001, 0.01, 0.09], deprivation_gradient: 0.10, emergency_log_rr: 0.55, icd10_secondary: "F03X", acsc_primary: &["F03X", "F009", "F019"], snomed: "52448006", bnf: &["0411000D0AAAAAA"] },
    ConditionFacts { name: "cancer", prevalence: [0.001, 0.005, 0.025, 0.07, 0.11], deprivation_gradient: 0.05, emergency_log_rr: 0.45, icd10_secondary: "C509", acsc_primary: &["C349", "C189", "C509", "C61X"], snomed: "363346000", bnf: &["0803041B0AAAAAA"] },
    ConditionFacts { name: "depression", prevalence: [0.01, 0.12, 0.14, 0.12, 0.10], deprivation_gradient: 0.30, emergency_log_rr: 0.20, icd10_secondary: "F329", acsc_primary: &["F329", "F419", "F322"], snomed: "35489007", bnf: &["0403030Q0AAAAAA", "0403010B0AAAAAA"] },
    ConditionFacts { name: "stroke or TIA", prevalence: [0.0, 0.001, 0.01, 0.04, 0.08], deprivation_gradient: 0.30, emergency_log_rr: 0.35, icd10_secondary: "Z864", acsc_primary: &["I639", "G459", "I64X"], snomed: "230690007", bnf: &["0209000C0AAAAAA", "0212000B0AAABAB"] },
];

pub fn facts(c: Condition) -> &'static ConditionFacts {
    &FACTS[c as usize]
}

/// Emergency presentation: primary ICD-10, main specialty / treatment
/// function, HRG, age group it applies to (0 child, 1 adult, 2 any), weight.
pub struct Presentation {
    pub diag: &'static str,
    pub tretspef: &'static str,
    pub hrg: &'static str,
    pub ages: u8,
    pub weight: f64,
}

macro_rules! pres {
    ($d:literal, $t:literal, $h:literal, $a:literal, $w:literal) => {
        Presentation { diag: $d, tretspef: $t, hrg: $h, ages: $a, weight: $w }
    };
}

/// Common emergency primary diagnoses not tied to a long-term condition,
/// including urgent-care-sensitive ones (UCS: CCG IAF 127b) and acute ACSCs.
pub const EMERGENCY: &[Presentation] = &[
    pres!("R074", "300", "EB12C", 1, 8.0),  // chest pain
    pres!("R104", "100", "FD05B", 2, 7.0),  // abdominal pain
    pres!("J189", "300", "DZ11R", 2, 6.0),  // pneumonia
    pres!("N390", "300", "LA04S", 1, 5.0),  // urinary tract infection (UCS)
    pres!("L039", "300", "JD07J", 2, 3.0),  // cellulitis (acute ACSC)
    pres!("S720", "110", "HN12C", 1, 3.0),  // fractured neck of femur
    pres!("R55X", "300", "EB08E", 1, 3.0),  // syncope
    pres!("A419", "300", "WJ06E", 1, 2.5),  // sepsis
    pres!("I214", "320", "EB10D", 1, 2.0),  // myocardial infarction
    pres!("A099", "300", "FD01J", 2, 3.0),  // gastroenteritis
    pres!("R296", "430", "WD11Z", 1, 2.0),  // repeated falls
    pres!("S0600", "110", "AA26H", 2, 1.5), // concussion
    pres!("K359", "100", "FF12C", 2, 1.5),  // acute appendicitis
    pres!("K802", "100", "GC17K", 1, 1.5),  // gallstones
    pres!("F100", "710", "WD22Z", 1, 1.5),  // acute alcohol intoxication (UCS: acute MH crisis)
    pres!("F209", "710", "WD22Z", 1, 0.8),  // schizophrenia (UCS: acute MH crisis)
    pres!("J219", "420", "PD12B", 0, 4.0),  // bronchiolitis
    pres!("B349", "420", "PW16D", 0, 4.0),  // viral infection
    pres!("J069", "420", "PD14B", 0, 3.0),  // upper respiratory infection (UCS)
    pres!("R509", "420", "PW16D", 0, 2.0),  // fever (UCS)
    pres!("R568", "420", "PR02C", 0, 1.0),  // febrile convulsion (UCS)
];

/// Falls (ICD-10 W00–W19) as HES codes them: the fourth character is the
/// place of occurrence (0 home, 1 residential institution, 9 unspecified).
const FALLS: [&str; 8] = ["W190", "W199", "W010", "W011", "W060", "W100", "W180", "W189"];
/// Other external causes of the same injuries: road traffic (V89.2) and
/// assault by bodily force (Y04.0, Y04.9).
const OTHER_CAUSES: [&str; 3] = ["V892", "Y040", "Y049"];

/// The external cause HES records behind an injury presentation (in a
/// secondary diagnosis position and copied into CAUSE_4), or `None` for
/// presentations that are not injuries. Falls dominate among older people:
/// most hip fractures and head injuries after 65 follow a fall (NICE CG124
/// hip fracture; NICE CG176 head injury), while younger people's also come
/// from traffic and assault. `draw` is any well-mixed number (no generator
/// state is used, so adding causes moves no other synthetic value).
pub fn injury_cause(primary: &str, age: i32, draw: u64) -> Option<&'static str> {
    let fall_percent = match primary {
        // "Repeated falls" is itself a fall.
        "R296" => 100,
        "S720" if age >= 65 => 95,
        "S720" => 70,
        "S0600" if age >= 65 => 85,
        "S0600" => 40,
        _ => return None,
    };
    let pick = |list: &[&'static str]| list[((draw / 100) % list.len() as u64) as usize];
    Some(if draw % 100 < fall_percent { pick(&FALLS) } else { pick(&OTHER_CAUSES) })
}

/// Elective procedure: OPCS-4, primary ICD-10, treatment function, HRG, day
/// case share, age range, sex (0 any), weight. EBI interventions follow the
/// code logic in `ebi_nhp_code_logic.csv` so that the indicator finds them.
pub struct Procedure {
    pub opcs: &'static str,
    pub diag: &'static str,
    pub tretspef: &'static str,
    pub hrg: &'static str,
    pub day_case: f64,
    pub min_age: u8,
    pub max_age: u8,
    pub sex: u8,
    pub weight: f64,
    pub ebi: bool,
}

macro_rules! proc_ {
    ($o:literal, $d:literal, $t:literal, $h:literal, $dc:literal, $lo:literal, $hi:literal, $s:literal, $w:literal, $e:literal) => {
        Procedure { opcs: $o, diag: $d, tretspef: $t, hrg: $h, day_case: $dc, min_age: $lo, max_age: $hi, sex: $s, weight: $w, ebi: $e }
    };
}

pub const ELECTIVE: &[Procedure] = &[
    proc_!("C751", "H259", "130", "BZ34C", 0.97, 40, 100, 0, 12.0, false), // cataract
    proc_!("H229", "K573", "301", "FE32Z", 0.98, 30, 100, 0, 10.0, false), // colonoscopy
    proc_!("G451", "K219", "301", "FE21Z", 0.98, 30, 100, 0, 8.0, false),  // upper GI endoscopy
    proc_!("W401", "M170", "110", "HN22C", 0.05, 50, 100, 0, 4.0, false),  // knee replacement
    proc_!("W371", "M161", "110", "HN12C", 0.05, 50, 100, 0, 3.5, false),  // hip replacement
    proc_!("T201", "K409", "100", "FF62B", 0.80, 19, 100, 1, 3.0, false),  // inguinal hernia
    proc_!("J183", "K802", "100", "GA10F", 0.70, 19, 100, 0, 3.0, false),  // cholecystectomy
    proc_!("M459", "R398", "101", "LB72A", 0.95, 30, 100, 0, 3.0, false),  // cystoscopy
    proc_!("X292", "Z511", "303", "SB97Z", 1.00, 19, 100, 0, 4.0, false),  // chemotherapy day case
    proc_!("Q073", "N920", "502", "MA07E", 0.20, 30, 60, 2, 1.0, true),    // hysterectomy for heavy menstrual bleeding
    proc_!("Q103", "N920", "502", "MA10Z", 0.95, 25, 60, 2, 0.8, true),    // D&C for heavy menstrual bleeding
    proc_!("W851", "M171", "110", "HN25A", 0.95, 40, 100, 0, 1.2, true),   // knee arthroscopy in osteoarthritis
    proc_!("A521", "M545", "191", "HC41Z", 0.98, 19, 100, 0, 1.5, true),   // injections for low back pain
    proc_!("F324", "R065", "120", "CA60A", 0.90, 19, 100, 0, 0.4, true),   // snoring surgery
    proc_!("D151", "H653", "120", "CA62A", 0.98, 1, 18, 0, 0.8, true),     // grommets
    proc_!("F341", "J350", "120", "CA60A", 0.70, 3, 40, 0, 1.2, true),     // tonsillectomy
    proc_!("T521", "M720", "110", "HN51C", 0.90, 19, 100, 0, 0.8, true),   // Dupuytren's release
    proc_!("T591", "M674", "110", "HN53C", 0.98, 19, 100, 0, 0.5, true),   // ganglion excision (with M258 secondary)
    proc_!("T691", "M653", "110", "HN53C", 0.98, 19, 100, 0, 0.8, true),   // trigger finger
    proc_!("A651", "G560", "110", "HN53C", 0.98, 19, 100, 0, 1.5, false),  // carpal tunnel release
    proc_!("L841", "I839", "107", "YQ51C", 0.90, 19, 100, 0, 0.8, true),   // varicose veins
    proc_!("S061", "D229", "100", "JC43C", 0.99, 19, 100, 0, 1.0, false),  // benign skin lesion excision
];

/// Maternity and birth HRGs.
pub const DELIVERY_HRG: &str = "NZ30C";
pub const BIRTH_HRG: &str = "PB03Z";

/// HRG prices (pence): (HRG, elective/day case, non-elective, elective trim
/// point, non-elective trim point). Synthetic values of realistic size; the
/// reduced short-stay emergency price is 40% of the non-elective price.
pub fn hrg_prices(hrg: &str) -> (i64, i64, i32, i32) {
    // Derive stable synthetic prices from the HRG code itself so every
    // generated HRG has a tariff row without a hand-kept table.
    let h = hrg.bytes().fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
    let base = 60_000 + (h % 300) as i64 * 1_000; // £600 – £3,590
    let nel = base + 40_000 + (h % 7) as i64 * 15_000;
    let el_trim = 2 + (h % 6) as i32;
    let nel_trim = 5 + (h % 20) as i32;
    (base, nel, el_trim, nel_trim)
}

/// Every HRG the generator can assign, for the tariff table.
pub fn all_hrgs() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = EMERGENCY.iter().map(|p| p.hrg).chain(ELECTIVE.iter().map(|p| p.hrg)).collect();
    v.extend(ACSC_HRGS.iter().map(|(_, h)| *h));
    v.extend([DELIVERY_HRG, BIRTH_HRG, "WD11Z", "SB97Z"]);
    v.sort_unstable();
    v.dedup();
    v
}

/// HRG for an ACSC admission, by the first letter of its primary diagnosis.
pub const ACSC_HRGS: [(char, &str); 7] =
    [('I', "EB03E"), ('J', "DZ65K"), ('E', "KB02K"), ('N', "LA07P"), ('F', "WD22Z"), ('C', "SA03H"), ('G', "AA35C")];

pub fn acsc_hrg(diag: &str) -> &'static str {
    let c = diag.chars().next().unwrap_or('R');
    ACSC_HRGS.iter().find(|(l, _)| *l == c).map_or("WD11Z", |(_, h)| h)
}

/// eFI deficit codes recorded in GP data: (deficit number in
/// `efi_deficits.csv`, SNOMED CT concept). One concept per deficit stands in
/// for the full code sets, which the reference marks as not captured.
pub const EFI_DEFICIT_CODES: [(u8, &str); 12] = [
    (1, "129026007"),  // activity limitation (impaired mobility)
    (8, "161898004"),  // falls
    (10, "15188001"),  // hearing impairment
    (11, "422504002"), // ischaemic heart disease (stands for heart disease)
    (15, "129839007"), // memory and cognitive problems
    (17, "129841000"), // mobility and transfer problems
    (19, "266989007"), // peripheral vascular disease-like vascular problems
    (22, "26663004"),  // polypharmacy stand-in: medication review due
    (25, "106192002"), // social vulnerability
    (30, "165232002"), // urinary incontinence
    (34, "397540003"), // visual impairment
    (36, "225604003"), // weight loss and anorexia
];

/// GP observations: SNOMED CT concept and a value generator key.
pub const BMI_SNOMED: &str = "60621009";
pub const BP_SNOMED: &str = "75367002";

/// Common acute (non-repeat) medicines, BNF presentation codes.
pub const ACUTE_BNF: [&str; 5] = ["0501013B0AAABAB", "0407010H0AAAMAM", "0103050P0AAAAAA", "1001010J0AAADAD", "0501015P0AAAAAA"];

/// ECDS SNOMED CT diagnoses (common ones) and chief complaints.
pub const ECDS_DIAGNOSES: [&str; 10] = [
    "29857009",  // chest pain
    "21522001",  // abdominal pain
    "125605004", // fracture of bone
    "125667009", // contusion
    "68566005",  // urinary tract infection
    "233604007", // pneumonia
    "62315008",  // diarrhoea
    "25064002",  // headache
    "422587007", // nausea
    "271737000", // anaemia
];

//! Evidence-Based Interventions (EBI): which elective admissions are one of
//! the interventions the EBI programme says should be restricted.
//!
//! Source: `shared/reference/codelists/ebi_nhp_code_logic.csv` (the Strategy
//! Unit's adaptation of the EBI programme SQL, The-Strategy-Unit/nhp_data
//! `evidence_based_interventions*.py`, commit cff9dde), explained in
//! methods.md §4.2 and §3.5; list membership from `codelists/ebi_lists.csv`
//! (methods.md §4.1).
//!
//! Common filters (nhp_data `evidence_based_interventions.py`): the admission
//! is not an emergency (ADMIMETH not starting `2`) and has no cancer diagnosis
//! in any position (`C*`, `D0*`, `D37`-`D48`). Age bands: "adult" is 19-120,
//! "child" is 18 or under, STARTAGE 7001-7007 included.
//!
//! The code list has 25 rows (methods.md §4.2 says "24 interventions"); all 25
//! are implemented, one [`EbiIntervention`] each.

use super::avoidable::{admimeth_starts_with_2, age_years, field, CodedAdmission, Codes, LazyCodes};

/// The interventions of the EBI code-logic list, in its (CSV) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EbiIntervention {
    /// ENT: removal of adenoids for glue ear (children).
    AdenoidsForGlueEar,
    /// ENT: grommets for glue ear (children).
    GrommetsForGlueEar,
    /// ENT: snoring surgery without obstructive sleep apnoea (adults).
    SnoringSurgery,
    /// ENT: surgery for chronic rhinosinusitis.
    ChronicRhinosinusitisSurgery,
    /// ENT: tonsillectomy for recurrent tonsillitis.
    Tonsillectomy,
    /// General surgery: appendicectomy without confirmed appendicitis.
    Appendicectomy,
    /// General surgery: cholecystectomy (adults).
    Cholecystectomy,
    /// General surgery: haemorrhoid surgery.
    HaemorrhoidSurgery,
    /// General surgery: repair of minimally symptomatic inguinal hernia (adults).
    InguinalHerniaRepair,
    /// GI: colonoscopy in the management of hereditary colorectal cancer.
    HereditaryColorectalColonoscopy,
    /// GI: upper GI endoscopy.
    UpperGiEndoscopy,
    /// MSK: arthroscopic surgery for meniscal tears.
    MeniscalTearArthroscopy,
    /// MSK: arthroscopic shoulder decompression for subacromial pain.
    ShoulderDecompression,
    /// MSK: injections for non-specific low back pain without sciatica.
    LowBackPainInjections,
    /// MSK: Dupuytren's contracture release (adults).
    DupuytrensRelease,
    /// MSK: fusion surgery for mechanical axial low back pain (adults).
    SpinalFusion,
    /// MSK: ganglion excision.
    GanglionExcision,
    /// MSK: knee arthroscopy for osteoarthritis (adults).
    KneeArthroscopyOsteoarthritis,
    /// MSK: lumbar discectomy (adults).
    LumbarDiscectomy,
    /// MSK: lumbar radiofrequency facet joint denervation (adults).
    FacetJointDenervation,
    /// MSK: trigger finger release (adults).
    TriggerFingerRelease,
    /// MSK: vertebral augmentation for osteoporotic fractures (adults).
    VertebralAugmentation,
    /// Urology: cystoscopy for uncomplicated lower urinary tract symptoms (adult men).
    Cystoscopy,
    /// Urology: surgery for benign prostatic hyperplasia (adult men).
    ProstaticHyperplasiaSurgery,
    /// Vascular: varicose vein interventions.
    VaricoseVeins,
}

/// Who an intervention's rule applies to (CSV column `age_sex_rule`, plus the
/// "male" of the urology diagnosis rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cohort {
    Everyone,
    /// Age 19-120.
    Adult,
    /// Age 18 or under, or STARTAGE 7001-7007.
    Child,
    /// Age 19-120 and SEX 1.
    AdultMale,
}

/// One row of the code list: the cohort and the code logic.
struct Rule {
    intervention: EbiIntervention,
    cohort: Cohort,
    codes: fn(&Codes) -> bool,
}

/// Cancer diagnoses that exclude an admission from every intervention.
const CANCER: [&str; 4] = ["C", "D0", "D3[7-9]", "D4[0-8]"];

impl EbiIntervention {
    /// All interventions in the code list's order.
    pub const ALL: [EbiIntervention; 25] = [
        EbiIntervention::AdenoidsForGlueEar,
        EbiIntervention::GrommetsForGlueEar,
        EbiIntervention::SnoringSurgery,
        EbiIntervention::ChronicRhinosinusitisSurgery,
        EbiIntervention::Tonsillectomy,
        EbiIntervention::Appendicectomy,
        EbiIntervention::Cholecystectomy,
        EbiIntervention::HaemorrhoidSurgery,
        EbiIntervention::InguinalHerniaRepair,
        EbiIntervention::HereditaryColorectalColonoscopy,
        EbiIntervention::UpperGiEndoscopy,
        EbiIntervention::MeniscalTearArthroscopy,
        EbiIntervention::ShoulderDecompression,
        EbiIntervention::LowBackPainInjections,
        EbiIntervention::DupuytrensRelease,
        EbiIntervention::SpinalFusion,
        EbiIntervention::GanglionExcision,
        EbiIntervention::KneeArthroscopyOsteoarthritis,
        EbiIntervention::LumbarDiscectomy,
        EbiIntervention::FacetJointDenervation,
        EbiIntervention::TriggerFingerRelease,
        EbiIntervention::VertebralAugmentation,
        EbiIntervention::Cystoscopy,
        EbiIntervention::ProstaticHyperplasiaSurgery,
        EbiIntervention::VaricoseVeins,
    ];

    /// `"<list> <intervention>"`, e.g. `1 Tonsillectomy for recurrent
    /// tonsillitis`: the form indicator SQL filters on (`LIKE '1 %'`).
    pub fn label(self) -> String {
        format!("{} {}", self.list(), self.name())
    }

    /// The intervention as the code list's `intervention` column writes it.
    pub fn name(self) -> &'static str {
        match self {
            EbiIntervention::AdenoidsForGlueEar => "Removal of adenoids for treatment of glue ear",
            EbiIntervention::GrommetsForGlueEar => "Grommets for glue ear in children",
            EbiIntervention::SnoringSurgery => "Snoring surgery (absence of OSA)",
            EbiIntervention::ChronicRhinosinusitisSurgery => "Surgical intervention for chronic rhinosinusitis",
            EbiIntervention::Tonsillectomy => "Tonsillectomy for recurrent tonsillitis",
            EbiIntervention::Appendicectomy => "Appendicectomy without confirmation of appendicitis",
            EbiIntervention::Cholecystectomy => "Cholecystectomy",
            EbiIntervention::HaemorrhoidSurgery => "Haemorrhoid surgery",
            EbiIntervention::InguinalHerniaRepair => "Repair of minimally symptomatic inguinal hernia",
            EbiIntervention::HereditaryColorectalColonoscopy => {
                "Appropriate colonoscopy in the management of hereditary colorectal cancer"
            }
            EbiIntervention::UpperGiEndoscopy => "Upper GI endoscopy",
            EbiIntervention::MeniscalTearArthroscopy => "Arthroscopic surgery for meniscal tears",
            EbiIntervention::ShoulderDecompression => "Arthroscopic shoulder decompression for subacromial pain",
            EbiIntervention::LowBackPainInjections => "Injections for nonspecific low back pain without sciatica",
            EbiIntervention::DupuytrensRelease => "Dupuytren's contracture release in adults",
            EbiIntervention::SpinalFusion => "Fusion surgery for mechanical axial low back pain",
            EbiIntervention::GanglionExcision => "Ganglion excision",
            EbiIntervention::KneeArthroscopyOsteoarthritis => "Knee arthroscopy for patients with osteoarthritis",
            EbiIntervention::LumbarDiscectomy => "Lumbar discectomy",
            EbiIntervention::FacetJointDenervation => "Lumbar radiofrequency facet joint denervation",
            EbiIntervention::TriggerFingerRelease => "Trigger finger release in adults",
            EbiIntervention::VertebralAugmentation => {
                "Vertebral augmentation for painful osteoporotic vertebral fractures"
            }
            EbiIntervention::Cystoscopy => "Cystoscopy for uncomplicated lower urinary tract symptoms",
            EbiIntervention::ProstaticHyperplasiaSurgery => "Surgical intervention for benign prostatic hyperplasia",
            EbiIntervention::VaricoseVeins => "Varicose vein interventions",
        }
    }

    /// EBI list, from the code list's `ebi_list` column: 1 (NHS England,
    /// 2019) or 2 (AoMRC, Nov 2020; membership "probable" per `ebi_lists.csv`).
    /// Varicose vein interventions are list 1 "as varicose vein surgery".
    pub fn list(self) -> u8 {
        match self {
            EbiIntervention::GrommetsForGlueEar
            | EbiIntervention::SnoringSurgery
            | EbiIntervention::Tonsillectomy
            | EbiIntervention::HaemorrhoidSurgery
            | EbiIntervention::ShoulderDecompression
            | EbiIntervention::LowBackPainInjections
            | EbiIntervention::DupuytrensRelease
            | EbiIntervention::GanglionExcision
            | EbiIntervention::KneeArthroscopyOsteoarthritis
            | EbiIntervention::TriggerFingerRelease
            | EbiIntervention::VaricoseVeins => 1,
            _ => 2,
        }
    }
}

/// The code list as a table, in CSV order; the first matching row wins.
const RULES: [Rule; 25] = [
    Rule { intervention: EbiIntervention::AdenoidsForGlueEar, cohort: Cohort::Child, codes: adenoids },
    Rule { intervention: EbiIntervention::GrommetsForGlueEar, cohort: Cohort::Child, codes: grommets },
    Rule { intervention: EbiIntervention::SnoringSurgery, cohort: Cohort::Adult, codes: snoring },
    Rule { intervention: EbiIntervention::ChronicRhinosinusitisSurgery, cohort: Cohort::Everyone, codes: rhinosinusitis },
    Rule { intervention: EbiIntervention::Tonsillectomy, cohort: Cohort::Everyone, codes: tonsillectomy },
    Rule { intervention: EbiIntervention::Appendicectomy, cohort: Cohort::Everyone, codes: appendicectomy },
    Rule { intervention: EbiIntervention::Cholecystectomy, cohort: Cohort::Adult, codes: cholecystectomy },
    Rule { intervention: EbiIntervention::HaemorrhoidSurgery, cohort: Cohort::Everyone, codes: haemorrhoids },
    Rule { intervention: EbiIntervention::InguinalHerniaRepair, cohort: Cohort::Adult, codes: hernia },
    Rule { intervention: EbiIntervention::HereditaryColorectalColonoscopy, cohort: Cohort::Everyone, codes: colonoscopy },
    Rule { intervention: EbiIntervention::UpperGiEndoscopy, cohort: Cohort::Everyone, codes: upper_gi_endoscopy },
    Rule { intervention: EbiIntervention::MeniscalTearArthroscopy, cohort: Cohort::Everyone, codes: meniscal_tear },
    Rule { intervention: EbiIntervention::ShoulderDecompression, cohort: Cohort::Everyone, codes: shoulder },
    Rule { intervention: EbiIntervention::LowBackPainInjections, cohort: Cohort::Everyone, codes: back_injections },
    Rule { intervention: EbiIntervention::DupuytrensRelease, cohort: Cohort::Adult, codes: dupuytrens },
    Rule { intervention: EbiIntervention::SpinalFusion, cohort: Cohort::Adult, codes: fusion },
    Rule { intervention: EbiIntervention::GanglionExcision, cohort: Cohort::Everyone, codes: ganglion },
    Rule { intervention: EbiIntervention::KneeArthroscopyOsteoarthritis, cohort: Cohort::Adult, codes: knee_arthroscopy },
    Rule { intervention: EbiIntervention::LumbarDiscectomy, cohort: Cohort::Adult, codes: discectomy },
    Rule { intervention: EbiIntervention::FacetJointDenervation, cohort: Cohort::Adult, codes: facet_denervation },
    Rule { intervention: EbiIntervention::TriggerFingerRelease, cohort: Cohort::Adult, codes: trigger_finger },
    Rule { intervention: EbiIntervention::VertebralAugmentation, cohort: Cohort::Adult, codes: vertebral_augmentation },
    Rule { intervention: EbiIntervention::Cystoscopy, cohort: Cohort::AdultMale, codes: cystoscopy },
    Rule { intervention: EbiIntervention::ProstaticHyperplasiaSurgery, cohort: Cohort::AdultMale, codes: prostatic_hyperplasia },
    Rule { intervention: EbiIntervention::VaricoseVeins, cohort: Cohort::Everyone, codes: varicose_veins },
];

/// Classifies an admission as one of the EBI interventions, or `None`.
///
/// * Common filters: ADMIMETH must be present and not start with `2`. A
///   missing or blank ADMIMETH excludes the admission, as it does in the
///   source (Spark's `~startswith("2")` on a null is null, and the filter
///   drops it), so unknown-method activity is never counted as avoidable.
///   Any diagnosis in `C*`, `D0*` or `D37`-`D48` excludes it too.
/// * Each row's cohort (age band, sex) and code rules; a missing age or sex
///   fails a row that needs it.
/// * Rows do not normally overlap; when they do, the first in the code
///   list's order wins ([`EbiIntervention::ALL`]).
pub fn ebi_intervention(a: &CodedAdmission) -> Option<EbiIntervention> {
    ebi_intervention_of(a, &mut LazyCodes::new(a))
}

pub(super) fn ebi_intervention_of(a: &CodedAdmission, codes: &mut LazyCodes) -> Option<EbiIntervention> {
    if field(a.admimeth).is_none() || admimeth_starts_with_2(a.admimeth) {
        return None;
    }
    let codes = codes.get();
    if codes.diag.any(&CANCER) {
        return None;
    }
    RULES
        .iter()
        .find(|r| in_cohort(r.cohort, a) && (r.codes)(codes))
        .map(|r| r.intervention)
}

fn in_cohort(cohort: Cohort, a: &CodedAdmission) -> bool {
    let adult = age_years(a.startage).is_some_and(|y| (19..=120).contains(&y));
    match cohort {
        Cohort::Everyone => true,
        Cohort::Adult => adult,
        Cohort::Child => age_years(a.startage).is_some_and(|y| y <= 18),
        Cohort::AdultMale => adult && field(a.sex) == Some("1"),
    }
}

// The per-row code logic. Pattern notation: see `HesCode::matches`.
// "primary" = position 1, "secondary" = positions 2+, "any" = all positions.

fn adenoids(c: &Codes) -> bool {
    c.proc.any(&["E20[1489]"])
        && c.proc.any(&["D151"])
        && c.diag.primary(&["H65[2349]"])
        && !c.diag.secondary(&["G473", "J32[0-4]", "J328", "J329", "J352", "Q35[13579]", "Q37[0-5]", "Q378", "Q379"])
}

/// "H65 (4th char not 0 or 1) or H66", the source's `H6(5[^01]|6)`.
fn grommets(c: &Codes) -> bool {
    c.proc.primary(&["D151"]) && c.diag.primary(&["H65[^01]", "H66"])
}

fn snoring(c: &Codes) -> bool {
    c.proc.primary(&["F32[4-6]"]) && c.diag.primary(&["R065"]) && !c.diag.secondary(&["G473"])
}

/// E08.1; E12x/E15x/E17x with 4th 1-4, 8, 9; E13x/E14x with 4th 1-9;
/// E16x with 4th 1, 2, 8, 9; E64.1 — with image guidance Y76.1/Y76.2.
fn rhinosinusitis(c: &Codes) -> bool {
    c.proc.any(&["E081", "E1[257][1-489]", "E1[34][1-9]", "E16[1289]", "E641"])
        && c.proc.any(&["Y76[12]"])
        && c.diag.primary(&["J310", "J332", "J333"])
}

fn tonsillectomy(c: &Codes) -> bool {
    c.proc.any(&["F34[1-9]", "F361"])
        && c.diag.any(&["J03", "J350"])
        && !c.diag.any(&["G473", "J36", "J390"])
}

/// K36.7 does not exist in ICD-10 (K36 takes the X filler); kept as coded.
fn appendicectomy(c: &Codes) -> bool {
    c.proc.primary(&["H01[1-389]"]) && !c.diag.any(&["K352", "K353", "K358", "K367"])
}

fn cholecystectomy(c: &Codes) -> bool {
    c.proc.primary(&["J18[1-5]", "J188", "J189"]) && c.diag.primary(&["K851"])
}

/// The source regex `H51(12389)` is a literal that never matches; the
/// intended H51.1-H51.3, H51.8, H51.9 (code-list note) is used instead.
fn haemorrhoids(c: &Codes) -> bool {
    c.proc.primary(&["H51[1-389]"]) && c.diag.any(&["K64", "O224", "O872"])
}

fn hernia(c: &Codes) -> bool {
    c.proc.primary(&["T20"]) && c.diag.primary(&["K402", "K409"])
}

fn colonoscopy(c: &Codes) -> bool {
    c.proc.primary(&["H22[189]", "H68[2489]"])
        && !c.proc.any(&["H68[13]"])
        && !c.diag.any(&["D126", "Q858", "Z08[0-27-9]", "Z09[0-27-9]", "Z121"])
}

fn upper_gi_endoscopy(c: &Codes) -> bool {
    c.proc.primary(&["G16[1-389]", "G19[1289]", "G45[1-489]", "G55[189]", "G65[189]", "G80[1389]"])
}

/// Either procedure route, with M23.2 or (M23.3 and M23.8); no S83.2.
fn meniscal_tear(c: &Codes) -> bool {
    let proc = c.proc.primary(&["W82"])
        || (c.proc.primary(&["W71[45]"]) && c.proc.secondary(&["Y767"]) && c.proc.secondary(&["Z846"]));
    let diag = c.diag.any(&["M232"]) || (c.diag.any(&["M233"]) && c.diag.any(&["M238"]));
    proc && diag && !c.diag.any(&["S832"])
}

fn shoulder(c: &Codes) -> bool {
    let proc = (c.proc.primary(&["O291"]) && c.proc.secondary(&["Y767"]))
        || (c.proc.primary(&["W572", "W844"]) && c.proc.secondary(&["Z812"]));
    proc && c.diag.any(&["M754"]) && !c.diag.any(&["M751"])
}

fn back_injections(c: &Codes) -> bool {
    c.proc.primary(&["A52[1289]", "A577", "A735", "V544"]) && c.diag.primary(&["M545"])
}

fn dupuytrens(c: &Codes) -> bool {
    c.proc.primary(&["T52[1256]", "T54[13]"]) && c.diag.primary(&["M720"])
}

/// The source's exclusion regex `M4(...|45)` yields M44.5, which does not
/// exist; the intended M45 (ankylosing spondylitis, code-list note) is used.
/// Pregnancy back pain (secondary O26.8 with secondary M53.3/M54.3-M54.5)
/// is excluded.
fn fusion(c: &Codes) -> bool {
    let deformity = ["M40[0-2]", "M41", "M42", "M43[01589]", "M45"];
    let pregnancy = c.diag.secondary(&["O268"]) && c.diag.secondary(&["M533", "M54[3-5]"]);
    c.proc.primary(&["V38[2-6]", "V39[3-7]", "V404"])
        && c.diag.primary(&["M54[3-589]"])
        && !c.diag.secondary(&deformity)
        && !pregnancy
}

/// As coded: primary M25.5 or M67.4, and a secondary M25.8. The code list
/// flags the M25.8 requirement "(as coded)" without stating an intended
/// reading, so the source's logic is kept unchanged.
fn ganglion(c: &Codes) -> bool {
    c.proc.primary(&["T59[12]", "T60[12]"])
        && c.diag.primary(&["M255", "M674"])
        && c.diag.secondary(&["M258"])
}

fn knee_arthroscopy(c: &Codes) -> bool {
    let proc = c.proc.primary(&["W85[12]"])
        || (c.proc.primary(&["W802"]) && c.proc.secondary(&["Y767"]) && c.proc.secondary(&["Z846"]));
    proc && c.diag.primary(&["M15", "M17"]) && !c.diag.secondary(&["M238"])
}

fn discectomy(c: &Codes) -> bool {
    let proc = c.proc.primary(&["V33[1-9]", "V51[189]", "V583", "V603"])
        || (c.proc.primary(&["V52[12589]", "V58[89]", "V60[89]"]) && c.proc.secondary(&["Z993"]));
    proc && c.diag.primary(&["M51[01]", "M54[134]"])
}

fn facet_denervation(c: &Codes) -> bool {
    c.proc.primary(&["V48[57]"])
        && c.diag.primary(&["M51[289]", "M54[59]"])
        && c.diag.any(&["Z67[5-7]", "Z993"])
}

/// The source regex `M65(3|[89]4)` targets five-character codes; on HES
/// four-character codes only M65.3 can match, which the code list states as
/// the rule.
fn trigger_finger(c: &Codes) -> bool {
    c.proc.primary(&["T69[1289]", "T70[12]", "T71[189]", "T72[389]"]) && c.diag.primary(&["M653"])
}

fn vertebral_augmentation(c: &Codes) -> bool {
    c.proc.primary(&["V44[45]"]) && c.diag.primary(&["M80[0-589]"])
}

/// F17.1 (tobacco, harmful use) is in the source list; kept as coded.
fn cystoscopy(c: &Codes) -> bool {
    c.proc.primary(&["M45[589]"])
        && !c.proc.secondary(&["M45[1-4]"])
        && c.diag.any(&["F171", "N390", "R31", "R398"])
}

fn prostatic_hyperplasia(c: &Codes) -> bool {
    let procs = ["M61[1-489]", "M641", "M65[1-689]", "M66[12]", "M68[13]", "M704", "M71[189]"];
    c.proc.primary(&procs)
        && c.diag.primary(&["N40"])
        && !c.diag.any(&["N13", "N19", "N17[0-289]", "N18[1-59]"])
}

fn varicose_veins(c: &Codes) -> bool {
    c.proc.primary(&["L84[1-689]", "L8[568][1-389]", "L87[1-9]"])
        && c.diag.primary(&["I83", "O220", "O878", "Q278"])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An elective adult male admission with the given codes.
    fn adm<'a>(diagnoses: &[&'a str], procedures: &[&'a str]) -> CodedAdmission<'a> {
        CodedAdmission {
            diagnoses: diagnoses.to_vec(),
            procedures: procedures.to_vec(),
            startage: Some(45),
            sex: Some("1"),
            admimeth: Some("11"),
            classpat: Some("2"),
            ..Default::default()
        }
    }

    fn aged(mut a: CodedAdmission<'_>, startage: u16) -> CodedAdmission<'_> {
        a.startage = Some(startage);
        a
    }

    fn ebi(diagnoses: &[&str], procedures: &[&str]) -> Option<EbiIntervention> {
        ebi_intervention(&adm(diagnoses, procedures))
    }

    use EbiIntervention as E;

    #[test]
    fn table_order_matches_all_and_lists() {
        let order: Vec<_> = RULES.iter().map(|r| r.intervention).collect();
        assert_eq!(order, E::ALL.to_vec());
        let list1 = E::ALL.iter().filter(|e| e.list() == 1).count();
        assert_eq!((list1, E::ALL.len() - list1), (11, 14));
        let mut names: Vec<_> = E::ALL.iter().map(|e| e.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 25);
    }

    #[test]
    fn common_filters() {
        let a = adm(&["K851"], &["J183"]);
        assert_eq!(ebi_intervention(&a), Some(E::Cholecystectomy));
        for method in [Some("21"), Some("2A"), None, Some(" ")] {
            let b = CodedAdmission { admimeth: method, ..a.clone() };
            assert_eq!(ebi_intervention(&b), None, "{method:?}");
        }
        for method in ["12", "13", "31", "81"] {
            let b = CodedAdmission { admimeth: Some(method), ..a.clone() };
            assert_eq!(ebi_intervention(&b), Some(E::Cholecystectomy), "{method}");
        }
        for cancer in ["C18.7", "D05.1", "D37.0", "D48X", "D39"] {
            assert_eq!(ebi(&["K851", "I10X", cancer], &["J183"]), None, "{cancer}");
        }
        for benign in ["D36.9", "D49", "D12.6"] {
            assert_eq!(ebi(&["K851", benign], &["J183"]), Some(E::Cholecystectomy), "{benign}");
        }
    }

    #[test]
    fn ent_children() {
        let adenoids = adm(&["H653", "R69X"], &["E201", "D151"]);
        assert_eq!(ebi_intervention(&aged(adenoids.clone(), 5)), Some(E::AdenoidsForGlueEar));
        assert_eq!(ebi_intervention(&aged(adenoids.clone(), 7004)), Some(E::AdenoidsForGlueEar));
        assert_eq!(ebi_intervention(&aged(adenoids, 19)), None);
        assert_eq!(ebi_intervention(&aged(adm(&["H653", "J352"], &["E201", "D151"]), 5)), None);
        // Grommets alone: D15.1 primary, H65 not .0/.1, or H66.
        let grommets = adm(&["H65.9"], &["D15.1"]);
        assert_eq!(ebi_intervention(&aged(grommets.clone(), 18)), Some(E::GrommetsForGlueEar));
        assert_eq!(ebi_intervention(&aged(adm(&["H669"], &["D151"]), 3)), Some(E::GrommetsForGlueEar));
        assert_eq!(ebi_intervention(&aged(adm(&["H651"], &["D151"]), 3)), None);
        assert_eq!(ebi_intervention(&grommets), None, "adult");
        let mut no_age = grommets;
        no_age.startage = None;
        assert_eq!(ebi_intervention(&no_age), None);
    }

    #[test]
    fn ent_adults_and_everyone() {
        assert_eq!(ebi(&["R065"], &["F325"]), Some(E::SnoringSurgery));
        assert_eq!(ebi(&["R065", "G473"], &["F325"]), None);
        assert_eq!(ebi_intervention(&aged(adm(&["R065"], &["F325"]), 12)), None);
        assert_eq!(ebi(&["J32.0"], &["E133", "Y761"]), None, "J32.0 is not in the list");
        assert_eq!(ebi(&["J33.2"], &["E133", "Y761"]), Some(E::ChronicRhinosinusitisSurgery));
        assert_eq!(ebi(&["J310"], &["Y762", "E174"]), Some(E::ChronicRhinosinusitisSurgery));
        assert_eq!(ebi(&["J310"], &["E175", "Y762"]), None, "E17.5 excluded");
        assert_eq!(ebi(&["J310"], &["E133"]), None, "needs Y76.1/Y76.2");
        assert_eq!(ebi_intervention(&aged(adm(&["R69X", "J039"], &["F341"]), 8)), Some(E::Tonsillectomy));
        assert_eq!(ebi(&["J350"], &["F361"]), Some(E::Tonsillectomy));
        assert_eq!(ebi(&["J350", "J36X"], &["F341"]), None);
    }

    #[test]
    fn general_surgery() {
        assert_eq!(ebi(&["R10.3"], &["H01.1"]), Some(E::Appendicectomy));
        assert_eq!(ebi(&["R103", "K358"], &["H011"]), None);
        assert_eq!(ebi(&["K851"], &["J188"]), Some(E::Cholecystectomy));
        assert_eq!(ebi(&["K851"], &["J186"]), None);
        assert_eq!(ebi_intervention(&aged(adm(&["K851"], &["J183"]), 18)), None);
        assert_eq!(ebi(&["Z538", "K64.8"], &["H512"]), Some(E::HaemorrhoidSurgery));
        assert_eq!(ebi(&["K648"], &["H514"]), None);
        assert_eq!(ebi(&["K649"], &["X999", "H512"]), None, "haemorrhoid procedure must be primary");
        assert_eq!(ebi(&["K409"], &["T201"]), Some(E::InguinalHerniaRepair));
        assert_eq!(ebi(&["K403"], &["T201"]), None);
    }

    #[test]
    fn gi() {
        assert_eq!(ebi(&["K635"], &["H221"]), Some(E::HereditaryColorectalColonoscopy));
        assert_eq!(ebi(&["K635", "Z080"], &["H221"]), None);
        assert_eq!(ebi(&["K635"], &["H221", "H683"]), None);
        assert_eq!(ebi(&["K635", "Z083"], &["H682"]), Some(E::HereditaryColorectalColonoscopy));
        assert_eq!(ebi(&["K219"], &["G45.1"]), Some(E::UpperGiEndoscopy));
        assert_eq!(ebi(&["K219"], &["G455"]), None);
        assert_eq!(ebi(&["K219"], &["Y981", "G451"]), None, "endoscopy must be primary");
    }

    #[test]
    fn msk_knee_and_shoulder() {
        assert_eq!(ebi(&["M232"], &["W821"]), Some(E::MeniscalTearArthroscopy));
        assert_eq!(ebi(&["M233", "M238"], &["W714", "Y767", "Z846"]), Some(E::MeniscalTearArthroscopy));
        assert_eq!(ebi(&["M233"], &["W821"]), None, "M23.3 needs M23.8");
        assert_eq!(ebi(&["M232", "S832"], &["W821"]), None);
        assert_eq!(ebi(&["M232"], &["W714", "Y767"]), None, "needs Z84.6 too");
        assert_eq!(ebi(&["M754"], &["O291", "Y767"]), Some(E::ShoulderDecompression));
        assert_eq!(ebi(&["M754"], &["W844", "Z812"]), Some(E::ShoulderDecompression));
        assert_eq!(ebi(&["M754", "M751"], &["O291", "Y767"]), None);
        assert_eq!(ebi(&["M754"], &["O291"]), None);
        assert_eq!(ebi(&["M171"], &["W852"]), Some(E::KneeArthroscopyOsteoarthritis));
        assert_eq!(ebi(&["M15.0"], &["W802", "Y767", "Z846"]), Some(E::KneeArthroscopyOsteoarthritis));
        assert_eq!(ebi(&["M171", "M238"], &["W852"]), None);
        assert_eq!(ebi_intervention(&aged(adm(&["M171"], &["W852"]), 121)), None);
    }

    #[test]
    fn msk_spine() {
        assert_eq!(ebi(&["M545"], &["A521"]), Some(E::LowBackPainInjections));
        assert_eq!(ebi(&["M544"], &["A521"]), None, "sciatica");
        assert_eq!(ebi(&["M545"], &["V383"]), Some(E::SpinalFusion));
        assert_eq!(ebi(&["M545", "M45X"], &["V383"]), None, "intended M45 exclusion");
        assert_eq!(ebi(&["M545", "M412"], &["V383"]), None);
        assert_eq!(ebi(&["M545", "O268", "M543"], &["V383"]), None, "pregnancy");
        assert_eq!(ebi(&["M545", "O268"], &["V383"]), Some(E::SpinalFusion));
        assert_eq!(ebi(&["M511"], &["V331"]), Some(E::LumbarDiscectomy));
        assert_eq!(ebi(&["M511"], &["V521", "Z993"]), Some(E::LumbarDiscectomy));
        assert_eq!(ebi(&["M511"], &["V521"]), None);
        assert_eq!(ebi(&["M549", "Z675"], &["V485"]), Some(E::FacetJointDenervation));
        assert_eq!(ebi(&["M549"], &["V485"]), None);
        assert_eq!(ebi(&["M800"], &["V444"]), Some(E::VertebralAugmentation));
        assert_eq!(ebi(&["M806"], &["V444"]), None);
        assert_eq!(ebi_intervention(&aged(adm(&["M800"], &["V444"]), 7001)), None);
    }

    #[test]
    fn msk_hand() {
        assert_eq!(ebi(&["M720"], &["T521"]), Some(E::DupuytrensRelease));
        assert_eq!(ebi_intervention(&aged(adm(&["M720"], &["T521"]), 16)), None);
        assert_eq!(ebi(&["M674", "M258"], &["T591"]), Some(E::GanglionExcision));
        assert_eq!(ebi(&["M674"], &["T591"]), None, "as coded: needs secondary M25.8");
        assert_eq!(ebi(&["M653"], &["T723"]), Some(E::TriggerFingerRelease));
        assert_eq!(ebi(&["M654"], &["T723"]), None);
    }

    #[test]
    fn urology_is_adult_men() {
        let cysto = adm(&["R31X"], &["M459"]);
        assert_eq!(ebi_intervention(&cysto), Some(E::Cystoscopy));
        assert_eq!(ebi_intervention(&CodedAdmission { sex: Some("2"), ..cysto.clone() }), None);
        assert_eq!(ebi_intervention(&CodedAdmission { sex: None, ..cysto.clone() }), None);
        assert_eq!(ebi(&["R31X"], &["M459", "M452"]), None);
        assert_eq!(ebi(&["N40X"], &["M651"]), Some(E::ProstaticHyperplasiaSurgery));
        assert_eq!(ebi(&["N40X", "N184"], &["M651"]), None);
        assert_eq!(ebi(&["N40X", "N186"], &["M651"]), Some(E::ProstaticHyperplasiaSurgery));
        let bph = adm(&["N40X"], &["M651"]);
        assert_eq!(ebi_intervention(&CodedAdmission { sex: Some("2"), ..bph }), None);
    }

    #[test]
    fn varicose_veins_any_age() {
        assert_eq!(ebi(&["I839"], &["L883"]), Some(E::VaricoseVeins));
        assert_eq!(ebi_intervention(&aged(adm(&["Q278"], &["L871"]), 10)), Some(E::VaricoseVeins));
        assert_eq!(ebi(&["I839"], &["L884"]), None);
        assert_eq!(ebi(&["I80"], &["L841"]), None);
    }
}

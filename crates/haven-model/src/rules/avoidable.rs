//! Avoidable-admission classifiers: chronic ambulatory-care-sensitive
//! conditions (NHS OF 2.3.i / CCG OIS 2.6) and urgent-care-sensitive
//! conditions (CCG IAF 127b), plus the lenient HES code matching that they and
//! the Evidence-Based Interventions rules (`rules::ebi`) share.
//!
//! Sources: `shared/reference/methods.md` §3.1 (NHS Digital, *CCG OIS 2.6
//! Unplanned hospitalisation for chronic ACSCs*, indicator specification
//! v1.15, Dec 2018; same definition as NHS OF 2.3.i per the CCG IAF 2018/19
//! technical annex, 106a) with `codelists/nhsof_2_3_i_ccgois_2_6_chronic_acsc.csv`,
//! and §3.3 (NHS England, *CCG IAF 2018/19 Technical Annex*, indicator 127b)
//! with `codelists/ucs_urgent_care_sensitive_ccg_iaf_127b.csv`.
//!
//! Everything here is pure: one admission in, one classification out. The
//! reporting-period (ADMIDATE) and commissioner filters are the caller's.
//!
//! Code patterns in the tables below are written in a small notation that
//! mirrors the source regexes (see [`HesCode::matches`]): `J45` is a prefix,
//! `J46X` is a HES three-character code with its `X` filler (it also matches
//! the bare `J46`), and `J18[1-5]` / `H65[^01]` add a class for the next
//! character.

/// One admission as HES codes it: the fields of the spell's first episode.
///
/// Diagnosis and procedure positions are kept as given: the primary is
/// position 1 (index 0), secondaries are positions 2 and later. An empty or
/// `-` entry is ignored, but it still occupies its position, so an empty
/// `DIAG_4_01` means "no primary diagnosis" rather than promoting
/// `DIAG_4_02` (HES positions are meaningful; the sources test `diag_order`).
#[derive(Clone, Debug, Default)]
pub struct CodedAdmission<'a> {
    /// DIAG_4_01..DIAG_4_20 in position order (primary first). Empty or "-" entries are ignored.
    pub diagnoses: Vec<&'a str>,
    /// OPERTN_4_01..OPERTN_4_24 in position order (primary first). Empty or "-" entries ignored.
    pub procedures: Vec<&'a str>,
    /// STARTAGE: years 0-120, or 7001-7007 for under-ones.
    pub startage: Option<u16>,
    /// SEX: `1` male, `2` female.
    pub sex: Option<&'a str>,
    /// ADMIMETH, e.g. `21`, `2A`, `11`.
    pub admimeth: Option<&'a str>,
    /// ADMISORC (source of admission); `51`-`53` are transfers.
    pub admisorc: Option<&'a str>,
    /// EPIORDER: `01` or `1` for the first episode of the spell.
    pub epiorder: Option<&'a str>,
    /// EPISTAT: `1` unfinished, `3` finished.
    pub epistat: Option<&'a str>,
    /// EPITYPE: `1` general episode.
    pub epitype: Option<&'a str>,
    /// CLASSPAT: `1` ordinary admission.
    pub classpat: Option<&'a str>,
    /// The external cause as HES gives it: CAUSE_4, else CAUSE_3 (`None`
    /// where the extract has no cause field, as SUS+ has not).
    pub cause: Option<&'a str>,
}

/// A diagnosis or procedure code in the lenient HES form used for matching:
/// upper case, without `.`, `-` or whitespace, at most four characters.
///
/// Built only by [`normalise_code`]. An empty code (from `""` or `"-"`)
/// matches no pattern, which is how ignored positions are represented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HesCode {
    buf: [u8; 4],
    len: u8,
}

/// Normalises a raw ICD-10 or OPCS-4 code for matching: upper-cases, drops
/// `.`, `-` and whitespace, and keeps at most the first four characters, so
/// `"I50.0"`, `"i500"` and `"I500-"` are all `I500`.
///
/// This is deliberately more lenient than [`crate::Icd10::normalise`]: the
/// classifiers must never fail on a malformed field, only not match it.
/// A non-ASCII character becomes `?`, which no pattern contains.
pub fn normalise_code(text: &str) -> HesCode {
    let mut code = HesCode::default();
    let kept = text.chars().filter(|c| !matches!(c, '.' | '-') && !c.is_whitespace());
    for (slot, c) in code.buf.iter_mut().zip(kept) {
        *slot = if c.is_ascii() { c.to_ascii_uppercase() as u8 } else { b'?' };
        code.len += 1;
    }
    code
}

impl HesCode {
    /// The normalised code as text (empty for an ignored position).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes()).unwrap_or("")
    }

    /// True for an ignored position (empty or `-` in the source field).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// Does the code match one pattern of the rule tables?
    ///
    /// * `J45` — prefix: matches `J45`, `J450`, `J459`, `J45X`.
    /// * `J46X` — a four-character pattern ending in the HES `X` filler
    ///   matches `J46X` and the bare `J46` (sources write it either way).
    /// * `J18[1-5]`, `H65[^01]`, `E1[257][1-489]` — a bracketed class stands
    ///   for one character in (or, with `^`, not in) the class; the class
    ///   lists characters and `a-b` ranges, as the source regexes do. The
    ///   pattern is still a prefix, so the code must have that character.
    ///
    /// An empty code matches nothing.
    pub fn matches(&self, pattern: &str) -> bool {
        let code = self.bytes();
        let pat = pattern.as_bytes();
        if code.is_empty() {
            return false;
        }
        if pat.len() == 4 && pat[3] == b'X' && !pat.contains(&b'[') {
            return code == pat || code == &pat[..3];
        }
        let mut rest = pat;
        let mut chars = code.iter();
        while let Some((&atom, tail)) = rest.split_first() {
            let Some(&c) = chars.next() else { return false };
            let hit = if atom == b'[' {
                let end = tail.iter().position(|&b| b == b']').unwrap_or(tail.len());
                rest = tail.get(end + 1..).unwrap_or_default();
                in_class(c, &tail[..end])
            } else {
                rest = tail;
                c == atom
            };
            if !hit {
                return false;
            }
        }
        true
    }

    /// Does the code match any of the patterns?
    pub fn matches_any(&self, patterns: &[&str]) -> bool {
        patterns.iter().any(|p| self.matches(p))
    }
}

/// Is `c` in a regex-style character class body (`123`, `1-5`, `^01`)?
fn in_class(c: u8, class: &[u8]) -> bool {
    let (negate, items) = match class.split_first() {
        Some((b'^', rest)) => (true, rest),
        _ => (false, class),
    };
    let mut hit = false;
    let mut i = 0;
    while i < items.len() {
        if items.get(i + 1) == Some(&b'-') && i + 2 < items.len() {
            hit |= (items[i]..=items[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= items[i] == c;
            i += 1;
        }
    }
    hit != negate
}

/// Normalised codes in position order, with the position tests the sources
/// use: primary = position 1, secondary = positions 2+, any = all positions.
#[derive(Clone, Debug, Default)]
pub(super) struct Positions(Vec<HesCode>);

impl Positions {
    fn of(raw: &[&str]) -> Self {
        Positions(raw.iter().map(|t| normalise_code(t)).collect())
    }

    /// Position 1 matches one of the patterns.
    pub(super) fn primary(&self, patterns: &[&str]) -> bool {
        self.0.first().is_some_and(|c| c.matches_any(patterns))
    }

    /// Some position from 2 on matches one of the patterns.
    pub(super) fn secondary(&self, patterns: &[&str]) -> bool {
        self.0.iter().skip(1).any(|c| c.matches_any(patterns))
    }

    /// Some position matches one of the patterns.
    pub(super) fn any(&self, patterns: &[&str]) -> bool {
        self.0.iter().any(|c| c.matches_any(patterns))
    }
}

/// The diagnoses and procedures of one admission, normalised once, and
/// its external cause.
#[derive(Clone, Debug, Default)]
pub(super) struct Codes {
    pub(super) diag: Positions,
    pub(super) proc: Positions,
    pub(super) cause: HesCode,
}

impl Codes {
    pub(super) fn of(a: &CodedAdmission) -> Self {
        let diag = Positions::of(&a.diagnoses);
        let cause = external_cause(a.cause, &diag.0);
        Codes { diag, proc: Positions::of(&a.procedures), cause }
    }
}

/// The admission's external cause of injury or poisoning. HES's CAUSE
/// fields are "a copy of the first diagnosis code that represents an
/// external cause ... ICD-10 code in the range V01-Y98" (HES Data
/// Dictionary, `cause`/`cause3dg`/`cause4dg`): so the supplied `cause`
/// when there is one, else the first diagnosis in V01–Y98 (SUS+ extracts
/// carry no cause field). Empty when there is none.
pub fn external_cause(cause: Option<&str>, diagnoses: &[HesCode]) -> HesCode {
    let supplied = cause.map(normalise_code).filter(|c| !c.is_empty());
    supplied.or_else(|| diagnoses.iter().copied().find(is_external_cause)).unwrap_or_default()
}

/// ICD-10 chapter XX, V01–Y98.
fn is_external_cause(c: &HesCode) -> bool {
    let s = c.as_str();
    s.len() >= 3 && matches!(s.as_bytes()[0], b'V' | b'W' | b'X' | b'Y') && s[..3] >= *"V01" && s[..3] <= *"Y98"
}

/// An admission's [`Codes`], normalised on first use: most admissions fail
/// a classifier's filters before any code is read.
pub(super) struct LazyCodes<'a, 'b> {
    admission: &'b CodedAdmission<'a>,
    codes: Option<Codes>,
}

impl<'a, 'b> LazyCodes<'a, 'b> {
    pub(super) fn new(admission: &'b CodedAdmission<'a>) -> Self {
        LazyCodes { admission, codes: None }
    }

    pub(super) fn get(&mut self) -> &Codes {
        self.codes.get_or_insert_with(|| Codes::of(self.admission))
    }
}

/// Age in whole years from STARTAGE: 0-120 as given, 7001-7007 (under one
/// year, HES TOS) as 0, anything else (invalid) as `None`.
pub fn age_years(startage: Option<u16>) -> Option<u16> {
    match startage? {
        a @ 0..=120 => Some(a),
        7001..=7007 => Some(0),
        _ => None,
    }
}

/// A field trimmed, `None` when missing or blank.
pub(super) fn field(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Is a field present and one of the values (ASCII case-insensitive)?
fn field_in(value: Option<&str>, set: &[&str]) -> bool {
    field(value).is_some_and(|v| set.iter().any(|s| s.eq_ignore_ascii_case(v)))
}

/// Emergency admission for the classifiers: ADMIMETH starts with `2`, as the
/// sources write it (IAF 127b "ADMIMETH 2*", nhp_data `startswith("2")`).
pub(super) fn admimeth_starts_with_2(admimeth: Option<&str>) -> bool {
    field(admimeth).is_some_and(|m| m.starts_with('2'))
}

// ---------------------------------------------------------------------------
// Chronic ACSCs: NHS OF 2.3.i / CCG OIS 2.6
// ---------------------------------------------------------------------------

/// The nine chronic ambulatory-care-sensitive conditions a)-i) of NHS
/// Digital CCG OIS 2.6 v1.15 (methods.md §3.1), which NHS OF 2.3.i shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChronicAcsc {
    /// a) Chronic hepatitis B: primary B18.0/B18.1, no D57 anywhere.
    ChronicHepatitisB,
    /// b) Asthma: primary J45 or J46X.
    Asthma,
    /// c) Congestive heart failure: primary I50, I11.0, J81X, I13.0, without a
    ///    cardiac (K-chapter) procedure.
    CongestiveHeartFailure,
    /// d) Diabetes: primary E10-E14 (all fourth characters).
    Diabetes,
    /// e) COPD: primary J41, J43, J44, J42X, J47X, or J20 with COPD elsewhere.
    Copd,
    /// f) Angina and chronic ischaemic heart disease: primary I20, I25
    ///    without an operative procedure.
    AnginaChronicIhd,
    /// g) Iron, B12 or folate deficiency anaemia: primary D51, D52, D50.1,
    ///    D50.8, D50.9.
    DeficiencyAnaemia,
    /// h) Hypertension: primary I10X, I11.9, without a cardiac procedure.
    Hypertension,
    /// i) Atrial fibrillation/flutter, epilepsy or dementia: primary I48,
    ///    G40, G41, F00-F03.
    AfEpilepsyDementia,
}

/// Procedures whose presence excludes CHF and hypertension (CCG OIS 2.6
/// v1.15 Appendix 2; K73/K74 exist only from 1 Apr 2017, so listing them for
/// earlier years is harmless).
const CARDIAC_PROCEDURES: [&str; 19] = [
    "K0", "K1", "K2", "K3", "K4", "K50", "K52", "K55", "K56", "K57", "K60", "K61", "K66", "K67",
    "K68", "K69", "K71", "K73", "K74",
];

/// Procedures whose presence excludes angina/chronic IHD: OPCS chapters A-T,
/// V, W and X0, X1, X2, X4, X5. Chapters U, Y, Z and X3, X6-X9 (diagnostic
/// imaging, methods, sites, drugs) do not exclude (CCG OIS 2.6 v1.15).
const ANGINA_PROCEDURES: [&str; 8] = ["[A-T]", "V", "W", "X0", "X1", "X2", "X4", "X5"];

/// Diagnoses in any position that turn a primary J20 into COPD.
const COPD_SECONDARY: [&str; 5] = ["J41", "J42", "J43", "J44", "J47"];

/// Emergency admission methods of CCG OIS 2.6 (25 and 2A-2D from 1 Apr 2013,
/// replacing 28; all are accepted whatever the period).
const ACSC_ADMIMETH: [&str; 10] = ["21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D"];

impl ChronicAcsc {
    /// All conditions in the specification's order a)-i).
    pub const ALL: [ChronicAcsc; 9] = [
        ChronicAcsc::ChronicHepatitisB,
        ChronicAcsc::Asthma,
        ChronicAcsc::CongestiveHeartFailure,
        ChronicAcsc::Diabetes,
        ChronicAcsc::Copd,
        ChronicAcsc::AnginaChronicIhd,
        ChronicAcsc::DeficiencyAnaemia,
        ChronicAcsc::Hypertension,
        ChronicAcsc::AfEpilepsyDementia,
    ];

    /// Display name, after the code list's condition groups.
    pub fn name(self) -> &'static str {
        match self {
            ChronicAcsc::ChronicHepatitisB => "Chronic hepatitis B",
            ChronicAcsc::Asthma => "Asthma",
            ChronicAcsc::CongestiveHeartFailure => "Congestive heart failure",
            ChronicAcsc::Diabetes => "Diabetes",
            ChronicAcsc::Copd => "COPD",
            ChronicAcsc::AnginaChronicIhd => "Angina / chronic IHD",
            ChronicAcsc::DeficiencyAnaemia => "Anaemia",
            ChronicAcsc::Hypertension => "Hypertension",
            ChronicAcsc::AfEpilepsyDementia => "Atrial fibrillation, epilepsy or dementia",
        }
    }

    /// Primary-diagnosis patterns (DIAG_3_01 prefixes and DIAG_4_01 codes).
    fn primary_codes(self) -> &'static [&'static str] {
        match self {
            ChronicAcsc::ChronicHepatitisB => &["B180", "B181"],
            ChronicAcsc::Asthma => &["J45", "J46X"],
            ChronicAcsc::CongestiveHeartFailure => &["I50", "I110", "J81X", "I130"],
            ChronicAcsc::Diabetes => &["E10", "E11", "E12", "E13", "E14"],
            ChronicAcsc::Copd => &["J41", "J43", "J44", "J42X", "J47X"],
            ChronicAcsc::AnginaChronicIhd => &["I20", "I25"],
            ChronicAcsc::DeficiencyAnaemia => &["D51", "D52", "D501", "D508", "D509"],
            ChronicAcsc::Hypertension => &["I10X", "I119"],
            ChronicAcsc::AfEpilepsyDementia => &["I48", "G40", "G41", "F00", "F01", "F02", "F03"],
        }
    }

    /// The condition's diagnosis and procedure logic, filters aside.
    fn matches(self, c: &Codes) -> bool {
        let primary = c.diag.primary(self.primary_codes())
            || (self == ChronicAcsc::Copd && c.diag.primary(&["J20"]) && c.diag.any(&COPD_SECONDARY));
        primary
            && match self {
                ChronicAcsc::ChronicHepatitisB => !c.diag.any(&["D57"]),
                ChronicAcsc::CongestiveHeartFailure | ChronicAcsc::Hypertension => {
                    !c.proc.any(&CARDIAC_PROCEDURES)
                }
                ChronicAcsc::AnginaChronicIhd => !c.proc.any(&ANGINA_PROCEDURES),
                _ => true,
            }
    }
}

/// The record filters of CCG OIS 2.6 v1.15 Data Filter 1 (methods.md §3.1
/// table), all of which must hold; a missing field fails its filter.
fn acsc_filters_hold(a: &CodedAdmission) -> bool {
    let first_episode = field(a.epiorder).and_then(|e| e.parse::<u8>().ok()) == Some(1);
    let transfer = field_in(a.admisorc, &["51", "52", "53"]);
    age_years(a.startage).is_some()
        && field_in(a.admimeth, &ACSC_ADMIMETH)
        && field_in(a.epistat, &["1", "3"])
        && field_in(a.sex, &["1", "2"])
        && first_episode
        && field(a.admisorc).is_some()
        && !transfer
        && field_in(a.epitype, &["1"])
        && field_in(a.classpat, &["1"])
}

/// Classifies an admission as an unplanned hospitalisation for a chronic
/// ACSC (NHS OF 2.3.i / CCG OIS 2.6 v1.15, methods.md §3.1).
///
/// `Some` only when every record filter holds (STARTAGE 0-120 or 7001-7007;
/// ADMIMETH 21-25, 28, 2A-2D; EPISTAT 1 or 3; SEX 1 or 2; first episode;
/// ADMISORC present and not 51-53; EPITYPE 1; CLASSPAT 1) and the
/// diagnosis/procedure logic of one condition matches. The conditions do not
/// overlap; should a record ever match two, the first in a)-i) order wins.
pub fn chronic_acsc(a: &CodedAdmission) -> Option<ChronicAcsc> {
    chronic_acsc_of(a, &mut LazyCodes::new(a))
}

fn chronic_acsc_of(a: &CodedAdmission, codes: &mut LazyCodes) -> Option<ChronicAcsc> {
    if !acsc_filters_hold(a) {
        return None;
    }
    let codes = codes.get();
    ChronicAcsc::ALL.into_iter().find(|c| c.matches(codes))
}

// ---------------------------------------------------------------------------
// Urgent care sensitive conditions: CCG IAF 127b
// ---------------------------------------------------------------------------

/// The 14 urgent-care-sensitive conditions of NHS England CCG IAF 2018/19
/// indicator 127b (methods.md §3.3), in the code list's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UcsCondition {
    /// Primary J40-J44 (127b; the 106a table's "F40" is a typo).
    Copd,
    /// Primary diagnosis anywhere in chapter F.
    AcuteMentalHealthCrisis,
    /// Primary R07.2, R07.3, R07.4.
    NonSpecificChestPain,
    /// External cause W00-W19 ([`external_cause`]), at or above the falls age.
    Falls,
    /// Primary R10.
    NonSpecificAbdominalPain,
    /// Primary I80, I81, I82.
    DeepVeinThrombosis,
    /// Primary L03.
    Cellulitis,
    /// Primary R50, at or below the pyrexial-child age.
    PyrexialChild,
    /// Primary T83.0.
    BlockedTubes,
    /// Primary E10-E15, E16.1, E16.2 (E10-E14 at three characters, as printed).
    Hypoglycaemia,
    /// Primary N39.0.
    UrinaryTractInfection,
    /// Primary I20.
    Angina,
    /// Primary G40, G41.
    EpilepticFit,
    /// Primary S00.
    MinorHeadInjuries,
}

/// Age boundaries of the two age-limited UCS conditions.
///
/// Configurable because the source is inconsistent: the 127b text says falls
/// 75+ while the 106a table says "74 years or over", and the 127b pyrexial
/// child is "6 or under" while aafractions.ncc encodes 0-5 (methods.md §3.3,
/// code-list notes). [`Default`] follows the 127b text: 75 and 6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UcsOptions {
    /// Falls count from this age in years (127b: 75; 106a table: 74).
    pub falls_min_age: u16,
    /// Pyrexial child counts up to and including this age (127b: 6; aafractions.ncc: 5).
    pub pyrexial_child_max_age: u16,
}

impl Default for UcsOptions {
    /// The CCG IAF 127b text: falls 75+, pyrexial child 6 or under.
    fn default() -> Self {
        UcsOptions { falls_min_age: 75, pyrexial_child_max_age: 6 }
    }
}

/// Fall external-cause codes W00-W19.
const FALLS_CAUSES: [&str; 2] = ["W0", "W1"];

impl UcsCondition {
    /// All conditions in the code list's (CSV) order.
    pub const ALL: [UcsCondition; 14] = [
        UcsCondition::Copd,
        UcsCondition::AcuteMentalHealthCrisis,
        UcsCondition::NonSpecificChestPain,
        UcsCondition::Falls,
        UcsCondition::NonSpecificAbdominalPain,
        UcsCondition::DeepVeinThrombosis,
        UcsCondition::Cellulitis,
        UcsCondition::PyrexialChild,
        UcsCondition::BlockedTubes,
        UcsCondition::Hypoglycaemia,
        UcsCondition::UrinaryTractInfection,
        UcsCondition::Angina,
        UcsCondition::EpilepticFit,
        UcsCondition::MinorHeadInjuries,
    ];

    /// Display name, as the code list writes the condition.
    pub fn name(self) -> &'static str {
        match self {
            UcsCondition::Copd => "COPD",
            UcsCondition::AcuteMentalHealthCrisis => "Acute mental health crisis",
            UcsCondition::NonSpecificChestPain => "Non-specific chest pain",
            UcsCondition::Falls => "Falls",
            UcsCondition::NonSpecificAbdominalPain => "Non-specific abdominal pain",
            UcsCondition::DeepVeinThrombosis => "Deep vein thrombosis",
            UcsCondition::Cellulitis => "Cellulitis",
            UcsCondition::PyrexialChild => "Pyrexial child",
            UcsCondition::BlockedTubes => "Blocked tubes, catheters and feeding tubes",
            UcsCondition::Hypoglycaemia => "Hypoglycaemia",
            UcsCondition::UrinaryTractInfection => "Urinary tract infection",
            UcsCondition::Angina => "Angina",
            UcsCondition::EpilepticFit => "Epileptic fit",
            UcsCondition::MinorHeadInjuries => "Minor head injuries",
        }
    }

    /// Diagnosis patterns (primary, except falls: any position).
    fn codes(self) -> &'static [&'static str] {
        match self {
            UcsCondition::Copd => &["J40", "J41", "J42", "J43", "J44"],
            UcsCondition::AcuteMentalHealthCrisis => &["F"],
            UcsCondition::NonSpecificChestPain => &["R072", "R073", "R074"],
            UcsCondition::Falls => &FALLS_CAUSES,
            UcsCondition::NonSpecificAbdominalPain => &["R10"],
            UcsCondition::DeepVeinThrombosis => &["I80", "I81", "I82"],
            UcsCondition::Cellulitis => &["L03"],
            UcsCondition::PyrexialChild => &["R50"],
            UcsCondition::BlockedTubes => &["T830"],
            UcsCondition::Hypoglycaemia => &["E10", "E11", "E12", "E13", "E14", "E15", "E161", "E162"],
            UcsCondition::UrinaryTractInfection => &["N390"],
            UcsCondition::Angina => &["I20"],
            UcsCondition::EpilepticFit => &["G40", "G41"],
            UcsCondition::MinorHeadInjuries => &["S00"],
        }
    }

    fn matches(self, c: &Codes, age: Option<u16>, opts: &UcsOptions) -> bool {
        match self {
            UcsCondition::Falls => {
                age.is_some_and(|a| a >= opts.falls_min_age) && c.cause.matches_any(self.codes())
            }
            UcsCondition::PyrexialChild => {
                age.is_some_and(|a| a <= opts.pyrexial_child_max_age) && c.diag.primary(self.codes())
            }
            _ => c.diag.primary(self.codes()),
        }
    }
}

/// Classifies an emergency admission (ADMIMETH starting `2`) as an
/// urgent-care-sensitive condition of CCG IAF 2018/19 indicator 127b
/// (methods.md §3.3).
///
/// * Conditions are identified by the **primary** diagnosis, except falls:
///   127b identifies them by "cause codes W00-W19", at age ≥
///   `opts.falls_min_age`. The cause is [`external_cause`]: the episode's
///   CAUSE_4 (else CAUSE_3), or where the extract has no cause field, what
///   HES would have put there (the first external cause in any diagnosis
///   position).
/// * Age is STARTAGE in years, with 7001-7007 (under one) counting as 0; an
///   invalid or missing age fails the two age-limited conditions only.
/// * When several conditions match (e.g. a primary S00 head injury from a
///   fall at 80), the first in the code list's order wins ([`UcsCondition::ALL`]).
/// * Selecting finished admission episodes (first episodes of spells) and
///   the period is the caller's job.
pub fn urgent_care_sensitive(a: &CodedAdmission, opts: &UcsOptions) -> Option<UcsCondition> {
    urgent_care_sensitive_of(a, opts, &mut LazyCodes::new(a))
}

fn urgent_care_sensitive_of(a: &CodedAdmission, opts: &UcsOptions, codes: &mut LazyCodes) -> Option<UcsCondition> {
    if !admimeth_starts_with_2(a.admimeth) {
        return None;
    }
    let age = age_years(a.startage);
    let codes = codes.get();
    UcsCondition::ALL.into_iter().find(|c| c.matches(codes, age, opts))
}

/// The three classifications of one admission, as [`chronic_acsc`],
/// [`urgent_care_sensitive`] and [`ebi_intervention`] give them, with the
/// codes normalised once for all three rather than once each.
///
/// [`ebi_intervention`]: super::ebi::ebi_intervention
pub fn classify_admission(
    a: &CodedAdmission,
    opts: &UcsOptions,
) -> (Option<ChronicAcsc>, Option<UcsCondition>, Option<super::ebi::EbiIntervention>) {
    let mut codes = LazyCodes::new(a);
    (chronic_acsc_of(a, &mut codes), urgent_care_sensitive_of(a, opts, &mut codes), super::ebi::ebi_intervention_of(a, &mut codes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An admission passing every CCG OIS 2.6 filter, with the given codes.
    fn acsc<'a>(diagnoses: &[&'a str], procedures: &[&'a str]) -> CodedAdmission<'a> {
        CodedAdmission {
            diagnoses: diagnoses.to_vec(),
            procedures: procedures.to_vec(),
            startage: Some(67),
            sex: Some("2"),
            admimeth: Some("21"),
            admisorc: Some("19"),
            epiorder: Some("01"),
            epistat: Some("3"),
            epitype: Some("1"),
            classpat: Some("1"),
            cause: None,
        }
    }

    fn ucs<'a>(diagnoses: &[&'a str], age: u16) -> CodedAdmission<'a> {
        CodedAdmission {
            diagnoses: diagnoses.to_vec(),
            startage: Some(age),
            admimeth: Some("21"),
            ..Default::default()
        }
    }

    fn classify(diagnoses: &[&str], procedures: &[&str]) -> Option<ChronicAcsc> {
        chronic_acsc(&acsc(diagnoses, procedures))
    }

    #[test]
    fn normalisation_and_pattern_notation() {
        assert_eq!(normalise_code("I50.0"), normalise_code("i500"));
        assert_eq!(normalise_code("I500-").as_str(), "I500");
        assert_eq!(normalise_code(" m48.06 ").as_str(), "M480");
        assert!(normalise_code("-").is_empty() && normalise_code("").is_empty());
        let m = |code: &str, pat: &str| normalise_code(code).matches(pat);
        for code in ["J45", "J450", "J459", "J45X", "j45.9"] {
            assert!(m(code, "J45"), "{code}");
        }
        assert!(m("J46X", "J46X") && m("J46", "J46X") && !m("J460", "J46X") && !m("J4", "J46X"));
        assert!(m("B180", "B180") && !m("B18", "B180") && !m("B189", "B180"));
        assert!(m("J183", "J18[1-5]") && !m("J186", "J18[1-5]") && !m("J18", "J18[1-5]"));
        assert!(m("H652", "H65[^01]") && !m("H651", "H65[^01]") && !m("H65", "H65[^01]"));
        assert!(m("E124", "E1[257][1-489]") && m("E178", "E1[257][1-489]") && !m("E125", "E1[257][1-489]"));
        assert!(!m("", "") && !m("-", "F"));
    }

    #[test]
    fn hepatitis_b_needs_no_sickle_cell_anywhere() {
        assert_eq!(classify(&["B18.1"], &[]), Some(ChronicAcsc::ChronicHepatitisB));
        assert_eq!(classify(&["B180", "I10X", "D571"], &[]), None);
        assert_eq!(classify(&["B182"], &[]), None, "hepatitis C is not on the list");
    }

    #[test]
    fn asthma_and_the_record_filters() {
        assert_eq!(classify(&["J459"], &[]), Some(ChronicAcsc::Asthma));
        assert_eq!(classify(&["J46"], &[]), Some(ChronicAcsc::Asthma));
        assert_eq!(classify(&["R69X", "J459"], &[]), None, "secondary asthma does not count");
        let ok = acsc(&["J45X"], &[]);
        assert_eq!(chronic_acsc(&ok), Some(ChronicAcsc::Asthma));
        let fail = |a: CodedAdmission| assert_eq!(chronic_acsc(&a), None, "{a:?}");
        fail(CodedAdmission { admisorc: Some("51"), ..ok.clone() });
        fail(CodedAdmission { admisorc: None, ..ok.clone() });
        fail(CodedAdmission { classpat: Some("2"), ..ok.clone() });
        fail(CodedAdmission { admimeth: Some("11"), ..ok.clone() });
        fail(CodedAdmission { admimeth: Some("2E"), ..ok.clone() });
        fail(CodedAdmission { admimeth: None, ..ok.clone() });
        fail(CodedAdmission { epistat: Some("9"), ..ok.clone() });
        fail(CodedAdmission { sex: Some("9"), ..ok.clone() });
        fail(CodedAdmission { epiorder: Some("02"), ..ok.clone() });
        fail(CodedAdmission { epitype: Some("2"), ..ok.clone() });
        fail(CodedAdmission { startage: Some(121), ..ok.clone() });
        fail(CodedAdmission { startage: None, ..ok.clone() });
        for good in [
            CodedAdmission { epiorder: Some("1"), ..ok.clone() },
            CodedAdmission { startage: Some(7003), ..ok.clone() },
            CodedAdmission { admimeth: Some("2a"), ..ok.clone() },
            CodedAdmission { epistat: Some("1"), sex: Some("1"), ..ok.clone() },
        ] {
            assert_eq!(chronic_acsc(&good), Some(ChronicAcsc::Asthma), "{good:?}");
        }
    }

    #[test]
    fn heart_failure_excluded_by_cardiac_procedures() {
        for dx in ["I500", "I11.0", "J81", "I130"] {
            assert_eq!(classify(&[dx], &["U051"]), Some(ChronicAcsc::CongestiveHeartFailure), "{dx}");
        }
        assert_eq!(classify(&["I500"], &["Y011", "K401"]), None);
        assert_eq!(classify(&["I500"], &["K731"]), None);
        assert_eq!(classify(&["I500"], &["K581"]), Some(ChronicAcsc::CongestiveHeartFailure));
    }

    #[test]
    fn diabetes_any_fourth_character() {
        assert_eq!(classify(&["E119"], &[]), Some(ChronicAcsc::Diabetes));
        assert_eq!(classify(&["E14.1"], &["K401"]), Some(ChronicAcsc::Diabetes));
        assert_eq!(classify(&["E15X"], &[]), None);
    }

    #[test]
    fn copd_direct_and_via_acute_bronchitis() {
        assert_eq!(classify(&["J440"], &[]), Some(ChronicAcsc::Copd));
        assert_eq!(classify(&["J42X"], &[]), Some(ChronicAcsc::Copd));
        assert_eq!(classify(&["J20.9", "I10X", "J44.9"], &[]), Some(ChronicAcsc::Copd));
        assert_eq!(classify(&["J209"], &[]), None, "J20 alone is acute");
        assert_eq!(classify(&["J209", "J45"], &[]), None);
        assert_eq!(classify(&["J40X"], &[]), None);
    }

    #[test]
    fn angina_ignores_non_operative_chapters() {
        assert_eq!(classify(&["I209"], &["X33.8"]), Some(ChronicAcsc::AnginaChronicIhd));
        assert_eq!(classify(&["I251"], &["U201", "Y981", "Z941", "X65"]), Some(ChronicAcsc::AnginaChronicIhd));
        assert_eq!(classify(&["I209"], &["A01.1"]), None);
        assert_eq!(classify(&["I251"], &["X401"]), None);
        assert_eq!(classify(&["I251"], &["U201", "K751"]), None);
    }

    #[test]
    fn anaemia_hypertension_and_group_i() {
        assert_eq!(classify(&["D509"], &[]), Some(ChronicAcsc::DeficiencyAnaemia));
        assert_eq!(classify(&["D520"], &[]), Some(ChronicAcsc::DeficiencyAnaemia));
        assert_eq!(classify(&["D500"], &[]), None, "D50.0 (blood loss) is not listed");
        assert_eq!(classify(&["I10"], &[]), Some(ChronicAcsc::Hypertension));
        assert_eq!(classify(&["I11.9"], &["X651"]), Some(ChronicAcsc::Hypertension));
        assert_eq!(classify(&["I10X"], &["K60.1"]), None);
        for dx in ["I480", "G409", "G41X", "F00.0", "F03X"] {
            assert_eq!(classify(&[dx], &[]), Some(ChronicAcsc::AfEpilepsyDementia), "{dx}");
        }
        assert_eq!(classify(&["F05X"], &[]), None);
        assert_eq!(classify(&["", "I480"], &[]), None, "an empty primary is no primary");
    }

    #[test]
    fn acsc_names_are_distinct() {
        let mut names: Vec<_> = ChronicAcsc::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 9);
    }

    #[test]
    fn ucs_primary_conditions() {
        let d = UcsOptions::default();
        let cases: [(&str, UcsCondition); 13] = [
            ("J40X", UcsCondition::Copd),
            ("F32.1", UcsCondition::AcuteMentalHealthCrisis),
            ("R07.3", UcsCondition::NonSpecificChestPain),
            ("R104", UcsCondition::NonSpecificAbdominalPain),
            ("I802", UcsCondition::DeepVeinThrombosis),
            ("L031", UcsCondition::Cellulitis),
            ("R509", UcsCondition::PyrexialChild),
            ("T83.0", UcsCondition::BlockedTubes),
            ("E162", UcsCondition::Hypoglycaemia),
            ("N39.0", UcsCondition::UrinaryTractInfection),
            ("I209", UcsCondition::Angina),
            ("G41", UcsCondition::EpilepticFit),
            ("S00.9", UcsCondition::MinorHeadInjuries),
        ];
        for (dx, want) in cases {
            assert_eq!(urgent_care_sensitive(&ucs(&[dx], 3), &d), Some(want), "{dx}");
            assert_eq!(urgent_care_sensitive(&ucs(&["R69X", dx], 3), &d), None, "secondary {dx}");
        }
        for dx in ["J45", "R071", "I83", "T831", "E160", "N391", "G43", "S01"] {
            assert_eq!(urgent_care_sensitive(&ucs(&[dx], 40), &d), None, "{dx}");
        }
    }

    #[test]
    fn ucs_needs_an_emergency_admission() {
        let d = UcsOptions::default();
        let mut a = ucs(&["L031"], 40);
        for (method, want) in [(Some("2A"), true), (Some("11"), false), (None, false), (Some(""), false)] {
            a.admimeth = method;
            assert_eq!(urgent_care_sensitive(&a, &d).is_some(), want, "{method:?}");
        }
    }

    #[test]
    fn falls_by_cause_code_and_configurable_age() {
        let d = UcsOptions::default();
        let falls74 = UcsOptions { falls_min_age: 74, ..d };
        let fall = |age| ucs(&["S72.0", "W01X"], age);
        assert_eq!(urgent_care_sensitive(&fall(75), &d), Some(UcsCondition::Falls));
        assert_eq!(urgent_care_sensitive(&fall(74), &d), None);
        assert_eq!(urgent_care_sensitive(&fall(74), &falls74), Some(UcsCondition::Falls));
        assert_eq!(urgent_care_sensitive(&ucs(&["S720", "W20"], 90), &d), None, "W20 is not a fall");
        let mut no_age = fall(80);
        no_age.startage = None;
        assert_eq!(urgent_care_sensitive(&no_age, &d), None);
        // CSV order: mental health precedes falls, falls precede head injury.
        assert_eq!(urgent_care_sensitive(&ucs(&["F051", "W19"], 85), &d), Some(UcsCondition::AcuteMentalHealthCrisis));
        assert_eq!(urgent_care_sensitive(&ucs(&["S009", "W19"], 85), &d), Some(UcsCondition::Falls));
        assert_eq!(urgent_care_sensitive(&ucs(&["S009", "W19"], 60), &d), Some(UcsCondition::MinorHeadInjuries));
    }

    #[test]
    fn falls_read_the_cause_field_before_the_diagnoses() {
        let d = UcsOptions::default();
        // HES artificial shape: a hip fracture with CAUSE_4 W199 and no
        // external cause among the diagnoses: a fall.
        let mut hip = ucs(&["S720", "I10X"], 82);
        assert_eq!(urgent_care_sensitive(&hip, &d), None, "no cause anywhere");
        hip.cause = Some("W199");
        assert_eq!(urgent_care_sensitive(&hip, &d), Some(UcsCondition::Falls));
        hip.cause = Some("W19"); // CAUSE_3
        assert_eq!(urgent_care_sensitive(&hip, &d), Some(UcsCondition::Falls));
        // The cause field wins over the diagnoses: X59 (unspecified
        // accident) is not a fall even with W01 coded later.
        let mut other = ucs(&["S720", "W01X"], 82);
        other.cause = Some("X599");
        assert_eq!(urgent_care_sensitive(&other, &d), None);
        // Without a cause field, the first external cause among the
        // diagnoses is the cause (as HES derives CAUSE): X59 before W01.
        assert_eq!(urgent_care_sensitive(&ucs(&["S720", "X59X", "W01X"], 82), &d), None);
        assert_eq!(urgent_care_sensitive(&ucs(&["S720", "I10X", "W01X"], 82), &d), Some(UcsCondition::Falls));
        // A blank or placeholder cause field falls back to the diagnoses.
        let mut blank = ucs(&["S720", "W10X"], 90);
        blank.cause = Some("-");
        assert_eq!(urgent_care_sensitive(&blank, &d), Some(UcsCondition::Falls));
    }

    #[test]
    fn external_causes_are_v01_to_y98() {
        let codes = |c: &[&str]| c.iter().map(|t| normalise_code(t)).collect::<Vec<_>>();
        assert_eq!(external_cause(None, &codes(&["S720", "V010", "W19X"])).as_str(), "V010");
        assert_eq!(external_cause(None, &codes(&["S720", "V00X", "Y99X", "Z03X"])).as_str(), "", "V00 and Y99 are outside V01-Y98");
        assert_eq!(external_cause(Some(" y98 "), &codes(&["W19X"])).as_str(), "Y98");
    }

    #[test]
    fn pyrexial_child_age_boundary() {
        let d = UcsOptions::default();
        let strict = UcsOptions { pyrexial_child_max_age: 5, ..d };
        let fever = |age| ucs(&["R50.9"], age);
        assert_eq!(urgent_care_sensitive(&fever(6), &d), Some(UcsCondition::PyrexialChild));
        assert_eq!(urgent_care_sensitive(&fever(7), &d), None);
        assert_eq!(urgent_care_sensitive(&fever(6), &strict), None);
        assert_eq!(urgent_care_sensitive(&fever(7005), &strict), Some(UcsCondition::PyrexialChild));
        assert_eq!(urgent_care_sensitive(&fever(500), &d), None, "invalid STARTAGE");
    }

    proptest! {
        #[test]
        fn classifiers_never_panic(
            diags in prop::collection::vec("\\PC{0,6}", 0..22),
            procs in prop::collection::vec("\\PC{0,6}", 0..26),
            fields in prop::collection::vec(prop::option::of("\\PC{0,3}"), 8),
            startage in prop::option::of(any::<u16>()),
            falls in any::<u16>(),
            pyrexia in any::<u16>(),
        ) {
            let a = CodedAdmission {
                diagnoses: diags.iter().map(String::as_str).collect(),
                procedures: procs.iter().map(String::as_str).collect(),
                startage,
                sex: fields[0].as_deref(),
                admimeth: fields[1].as_deref(),
                admisorc: fields[2].as_deref(),
                epiorder: fields[3].as_deref(),
                epistat: fields[4].as_deref(),
                epitype: fields[5].as_deref(),
                classpat: fields[6].as_deref(),
                cause: fields[7].as_deref(),
            };
            let _ = chronic_acsc(&a);
            let _ = urgent_care_sensitive(&a, &UcsOptions { falls_min_age: falls, pyrexial_child_max_age: pyrexia });
            let _ = crate::rules::ebi::ebi_intervention(&a);
        }

        /// Classifying once gives what the three classifiers give apart,
        /// on codes drawn from those the rules look for.
        #[test]
        fn classifying_once_agrees_with_each_classifier(
            diags in prop::collection::vec(prop::sample::select(vec!["J45X", "I10X", "I500", "E119", "J441", "J20", "G409", "R074", "W01", "N390", "L031", "C509", "H652", "J350", "K358", "F03X", "I48X", ""]), 0..6),
            procs in prop::collection::vec(prop::sample::select(vec!["E201", "D151", "F341", "H011", "X701", "K401", "W371", ""]), 0..4),
            admimeth in prop::option::of(prop::sample::select(vec!["11", "12", "21", "22", "2A", "31"])),
            admisorc in prop::sample::select(vec!["19", "51"]),
            startage in prop::option::of(0u16..110),
            sex in prop::sample::select(vec!["1", "2"]),
            cause in prop::option::of(prop::sample::select(vec!["W19X", "W010", "X599", "-", ""])),
        ) {
            let a = CodedAdmission {
                diagnoses: diags.clone(),
                procedures: procs.clone(),
                startage,
                sex: Some(sex),
                admimeth,
                admisorc: Some(admisorc),
                epiorder: Some("01"),
                epistat: Some("3"),
                epitype: Some("1"),
                classpat: Some("1"),
                cause,
            };
            let opts = UcsOptions::default();
            prop_assert_eq!(classify_admission(&a, &opts), (chronic_acsc(&a), urgent_care_sensitive(&a, &opts), crate::rules::ebi::ebi_intervention(&a)));
        }

        #[test]
        fn normalised_codes_are_short_upper_case_and_idempotent(text in "\\PC{0,10}") {
            let code = normalise_code(&text);
            prop_assert!(code.as_str().len() <= 4);
            prop_assert!(!code.as_str().chars().any(|c| c.is_ascii_lowercase() || matches!(c, '.' | '-' | ' ')));
            prop_assert_eq!(normalise_code(code.as_str()), code);
        }

        #[test]
        fn dots_case_and_dashes_do_not_change_a_code(
            letter in "[A-Z]", digits in "[0-9]{2}", fourth in "[0-9X]",
        ) {
            let plain = format!("{letter}{digits}{fourth}");
            let want = normalise_code(&plain);
            prop_assert_eq!(want.as_str(), plain.as_str());
            for variant in [
                format!("{letter}{digits}.{fourth}"),
                plain.to_lowercase(),
                format!("{plain}-"),
                format!(" {letter}{digits}.{fourth}- "),
            ] {
                prop_assert_eq!(normalise_code(&variant), want);
            }
        }
    }
}

//! Issue 18 §1–§3: the data path on the hand-built store of `fixture.rs`,
//! every value worked out by hand below.
//!
//! Index date I = 2024-04-01, default windows: base year and ECDS/OP
//! [2023-04-02, 2024-04-01); diagnoses of spells discharged in
//! [2022-04-02, 2024-04-01); outcome [2024-04-01, 2025-04-01); medicines
//! issued in (2023-04-01, 2024-04-01].
//!
//! Population (registered on I, alive on I), sorted: P1, P3, P4, P6, P7.
//! P2 left B82002 on 2023-12-31 (out); P3 left B82002 on 2024-03-31 and
//! joined A81001 on I itself (in, at A81001); P5 is registered but died on
//! 2024-02-01 (out).

use haven_governance::dsa::Purpose;
use haven_risk::cohort::{counts_by_practice, segment, top_risk, CohortOptions, Group, Segment};
use haven_risk::person::{features, parr30_terms, score, Person, BASELINE_COLUMNS, PARR30_NAME};
use haven_risk::read::{inputs, CodeMaps, Diagnosis, Inputs, PersonInputs, PriorUse, RiskOptions, Sex};
use haven_risk::{ConditionCodeMap, Deficit, DeficitCodeMap, EfiCategory, GpCondition, GpConditionSet, HfrsBand, LongTermCondition, RiskError};

use super::fixture::{day, p1_substances, Fixture, CONDITION_MAP, MAP, P7_SUBSTANCES};

fn options() -> RiskOptions {
    RiskOptions::new(day("2024-04-01"))
}

fn read(f: &Fixture) -> Inputs {
    let (efi, conditions) = (DeficitCodeMap::parse(MAP).unwrap(), ConditionCodeMap::parse(CONDITION_MAP).unwrap());
    inputs(&f.session(Purpose::RiskStratification), &options(), &CodeMaps { efi: Some(&efi), conditions: Some(&conditions) }).unwrap()
}

fn person<'a>(inputs: &'a Inputs, key: &str) -> &'a PersonInputs {
    inputs.people.iter().find(|p| &*p.pseudonym == key).unwrap_or_else(|| panic!("{key} not read"))
}

fn dx(codes: &[&str]) -> Vec<Diagnosis> {
    codes.iter().map(|c| Diagnosis::from_code(c).unwrap()).collect()
}

#[test]
fn issue_18_the_population_is_who_is_registered_and_alive_on_the_index_date() {
    let f = Fixture::build();
    let inputs = read(&f);
    let keys: Vec<&str> = inputs.people.iter().map(|p| &*p.pseudonym).collect();
    assert_eq!(keys, ["P1", "P3", "P4", "P6", "P7"]);
    assert_eq!(inputs.practices, ["A81001", "B82002"]);
    assert!(inputs.not_opened.is_empty(), "{:?}", inputs.not_opened);
    assert!(inputs.efi_read);
    let practice = |k| inputs.practice_of(person(&inputs, k)).to_owned();
    assert_eq!([practice("P1"), practice("P3"), practice("P4"), practice("P6"), practice("P7")], ["A81001", "A81001", "B82002", "B82002", "A81001"]);
    // Ages on 2024-04-01 with a 1 July birthday: 1940 → 83, 1990 → 33,
    // 2024 → 0 (born after I on that reading, but in I's year), 1945 → 78;
    // P6 has no patient row.
    let ages: Vec<Option<u8>> = inputs.people.iter().map(|p| p.age).collect();
    assert_eq!(ages, [Some(83), Some(33), Some(0), None, Some(78)]);
    let sexes: Vec<Sex> = inputs.people.iter().map(|p| p.sex).collect();
    assert_eq!(sexes, [Sex::Female, Sex::Male, Sex::Female, Sex::Unknown, Sex::Male]);
    // E01000001 → decile 3 (two lookup rows), E01000002 → 9; P4 has no LSOA.
    let deciles: Vec<Option<u8>> = inputs.people.iter().map(|p| p.imd_decile).collect();
    assert_eq!(deciles, [Some(3), Some(9), None, None, Some(9)]);
    // P7 dies in the outcome window and stays in, outcome as observed.
    assert_eq!(person(&inputs, "P7").death, Some(day("2024-06-01")));
    assert_eq!(person(&inputs, "P7").outcome_admissions, 1);
}

#[test]
fn issue_18_hospital_use_splits_at_the_index_date() {
    let f = Fixture::build();
    let inputs = read(&f);
    // P1: emergency spells SUS1 (2023-06-10 → 06-15, two episodes: 5 nights)
    // and SUS2 (2024-03-20 → 03-25, 5 nights, within 30 days of I); SUS3 is
    // admitted on I itself, so it is the outcome, not the base year; SUS4
    // (elective, 2021) is before the base year. A&E: A1, A2 (A3 on
    // 2023-04-01 is the day before the base year). OP: O1 attended, O2 DNA
    // (O3 is after I).
    let p1 = person(&inputs, "P1");
    let expected = PriorUse { emergency_admissions: 2, emergency_last_30_days: true, bed_days: 10, ae_attendances: 2, op_attendances: 1, op_dnas: 1, ..PriorUse::default() };
    assert_eq!(p1.prior, expected);
    assert_eq!(p1.outcome_admissions, 1);
    // P3: SUS6 on 2023-04-01 is the day before the base year; SUS7 on its
    // first day, SUS8 (22) and SUS9 (23) are in: 3, all day cases (0 bed
    // days), none in the last 30 days. A4 on 2024-03-31 is the base year's
    // last day. Outcome: SUS10 on 2025-03-31 (last day) in, SUS11 on
    // 2025-04-01 out.
    let p3 = person(&inputs, "P3");
    assert_eq!(p3.prior, PriorUse { emergency_admissions: 3, ae_attendances: 1, ..PriorUse::default() });
    assert_eq!(p3.outcome_admissions, 1);
    // P6: SP1 (keyed by provider + PROVSPNOPS, no SUSSPELLID) is admitted
    // 2023-03-20, before the base year, and discharged 2023-04-12: 10 of its
    // nights are in the base year (04-02 → 04-12), and it is no base-year
    // admission. SUS12 elective 2023-10-01 → 10-04: 3 nights, 1 elective;
    // SUS13 is a regular day attender (CLASSPAT 3), not an elective admission.
    let p6 = person(&inputs, "P6");
    assert_eq!(p6.prior, PriorUse { bed_days: 13, elective_admissions: 1, ..PriorUse::default() });
    assert_eq!(p6.outcome_admissions, 0);
    // P7: O4 attended (6), O5 DNA (7); SUS14 in the outcome window.
    let p7 = person(&inputs, "P7");
    assert_eq!(p7.prior, PriorUse { op_attendances: 1, op_dnas: 1, ..PriorUse::default() });
    assert_eq!(person(&inputs, "P4").prior, PriorUse::default());
}

#[test]
fn issue_18_diagnoses_are_those_of_spells_discharged_in_the_look_back() {
    let f = Fixture::build();
    let inputs = read(&f);
    // P1: SUS1's both episodes (I500, J449, F03X, R296) and SUS2 (N390);
    // SUS3's S000 is discharged after I and SUS4's C780 before 2022-04-02.
    assert_eq!(&*person(&inputs, "P1").diagnoses, dx(&["F03X", "I500", "J449", "N390", "R296"]));
    // P3: SUS6 (2023-04-01) is outside the base year but inside the look-back.
    assert_eq!(&*person(&inputs, "P3").diagnoses, dx(&["E112"]));
    // P6: SP1's first episode codes C780; the spell is discharged 2023-04-12.
    assert_eq!(&*person(&inputs, "P6").diagnoses, dx(&["C780"]));
    // P7: SUS14 is discharged after I.
    assert!(person(&inputs, "P7").diagnoses.is_empty());
}

#[test]
fn issue_18_gp_codes_and_medicines_are_read_in_their_windows() {
    let f = Fixture::build();
    let inputs = read(&f);
    // P1: the fall (2020) maps; the heart failure code is recorded after I;
    // asthma is not in the map.
    assert_eq!(person(&inputs, "P1").deficits.to_set().into_iter().collect::<Vec<_>>(), [Deficit::FALLS]);
    let p7: Vec<Deficit> = person(&inputs, "P7").deficits.to_set().into_iter().collect();
    assert_eq!(p7, [Deficit::DIABETES, Deficit::FALLS, Deficit::HEART_FAILURE, Deficit::RESPIRATORY_DISEASE]);
    // Medicines table: P1's ten chapter-2 substances and P7's five chapter-5
    // ones; 0212000B0 (2023-03-01, before the window) and 0209000A0
    // (2024-04-02, after I) are not read.
    let mut expected: Vec<String> = p1_substances();
    expected.extend(P7_SUBSTANCES.iter().map(|s| s.to_string()));
    assert_eq!(inputs.medicines, expected);
    // P1's 0205051F0 was issued twice (two strengths): its last issue counts.
    let p1 = person(&inputs, "P1");
    assert_eq!(p1.medicines.len(), 10);
    assert!(p1.medicines.iter().all(|i| i.last_issued == day("2024-03-15")));
    assert_eq!(person(&inputs, "P7").medicines.len(), 5);
}

#[test]
fn issue_18_every_score_per_person() {
    let f = Fixture::build();
    let inputs = read(&f);
    let people = score(&inputs);
    let by = |k: &str| people.iter().find(|p| &*inputs.people[p.row as usize].pseudonym == k).unwrap();
    // P1: HFRS F03 2.1 + R29 3.6 + N39 3.2 = 8.9 (I50, J44 score nothing):
    // intermediate. Charlson chf + copd + dementia: 1987 1+1+1 = 3, Quan
    // 2011 2+1+2 = 5. Elixhauser chf 7 + cpd 3 = 10. eFI: falls + the
    // polypharmacy deficit (10 substances ≥ 5) = 2, fit. Medicines: 10 in
    // the last 3 months (chapter 2). Conditions: heart failure, chronic
    // pulmonary disease, dementia.
    let p1 = by("P1");
    assert_eq!((p1.hfrs_tenths, p1.hfrs_band()), (89, HfrsBand::Intermediate));
    assert_eq!((p1.charlson_1987, p1.charlson_quan2011, p1.elixhauser_vw), (3, 5, 10));
    assert_eq!(p1.efi.map(|e| (e.deficits, e.category())), Some((2, EfiCategory::Fit)));
    assert_eq!((p1.medicines, p1.medicines_efi, p1.multimorbidity()), (10, 10, 3));
    for ltc in [LongTermCondition::HeartFailure, LongTermCondition::ChronicPulmonaryDisease, LongTermCondition::Dementia] {
        assert!(p1.conditions.contains(ltc), "{ltc:?}");
    }
    // PARR-30 terms: −2.91821 + 83² × 0.000060581 + 2 × 0.1215 + 0.5258
    // + chf 0.0950 + copd 0.2243 + dementia 0.0467.
    let z = -2.91821 + 6889.0 * 0.000060581 + 0.243 + 0.5258 + 0.0950 + 0.2243 + 0.0467;
    assert!((p1.parr30_log_odds - z).abs() < 1e-12);
    assert_eq!(p1.parr30_log_odds, parr30_terms(Some(83), &inputs.people[0].prior, &["chf", "copd", "dementia"]));
    // P3: E11.2 is diabetes with complications: Charlson 1987 2, 2011 1;
    // Elixhauser diabc weighs 0.
    let p3 = by("P3");
    assert_eq!((p3.hfrs_tenths, p3.charlson_1987, p3.charlson_quan2011, p3.elixhauser_vw, p3.multimorbidity()), (0, 2, 1, 0, 1));
    // P6: C78.0 metastatic: Charlson 6 and 6, Elixhauser 12; no GP data
    // but a map was read, so eFI 0.
    let p6 = by("P6");
    assert_eq!((p6.charlson_1987, p6.charlson_quan2011, p6.elixhauser_vw, p6.metastatic_cancer), (6, 6, 12, true));
    assert_eq!(p6.efi.map(|e| e.deficits), Some(0));
    // P7: four GP deficits + polypharmacy (5 chapter-5 substances in 12
    // months) = 5, mild; none counts for the 10+ measure (chapter 5, and
    // issued more than 3 months before I). Diabetes, heart failure and
    // chronic pulmonary disease from the GP codes alone.
    let p7 = by("P7");
    assert_eq!(p7.efi.map(|e| (e.deficits, e.category())), Some((5, EfiCategory::Mild)));
    assert_eq!((p7.medicines, p7.medicines_efi, p7.multimorbidity(), p7.hfrs_tenths), (0, 5, 3, 0));
}

#[test]
fn issue_18_features_name_every_column_and_carry_the_outcome() {
    let f = Fixture::build();
    let people = score(&read(&f));
    let m = features(&people).unwrap();
    assert_eq!(m.rows(), 5);
    assert_eq!(m.columns().len(), 20 + 18 + 31 + 21 + 1, "20 measures, 18 age bands, 31 long-term conditions, 21 GP-coded conditions and their count");
    // Outcome: P1 (SUS3), P3 (SUS10), P7 (SUS14); not P4, P6.
    assert_eq!(m.outcome(), [true, true, false, false, true]);
    let value = |row: usize, name: &str| m.row(row)[m.column_index(name).unwrap()];
    assert_eq!((value(0, "age"), value(0, "age_squared_100"), value(0, "female")), (83.0, 68.89, 1.0));
    assert_eq!((value(0, "emergency_admissions"), value(0, "bed_days"), value(0, "hfrs_points")), (2.0, 10.0, 8.9));
    assert_eq!((value(3, "age_unknown"), value(3, "imd_unknown"), value(3, "ltc_cancer")), (1.0, 1.0, 1.0));
    assert_eq!(value(1, "ltc_diabetes"), 1.0);
    // Age bands: P1 83 → 80–84; P3 33 → 30–34; P4 0 → 0–4; P6 unknown →
    // none; P7 78 → 75–79. Each known age in exactly one band.
    let bands: Vec<&String> = m.columns().iter().filter(|c| c.starts_with("age_") && c.chars().nth(4).is_some_and(|c| c.is_ascii_digit())).collect();
    assert_eq!(bands.len(), 18);
    assert_eq!((bands[0].as_str(), bands[17].as_str()), ("age_0_4", "age_85_plus"));
    assert_eq!([value(0, "age_80_84"), value(1, "age_30_34"), value(2, "age_0_4"), value(4, "age_75_79")], [1.0; 4]);
    let in_bands = |row: usize| bands.iter().map(|b| value(row, b)).sum::<f64>();
    assert_eq!([in_bands(0), in_bands(1), in_bands(2), in_bands(3), in_bands(4)], [1.0, 1.0, 1.0, 0.0, 1.0]);
    // GP-coded conditions: P1 asthma (heart failure coded after I is not
    // counted); P7 diabetes, heart failure and COPD = 3.
    assert_eq!((value(0, "gp_asthma"), value(0, "gp_heart_failure"), value(0, "gp_conditions")), (1.0, 0.0, 1.0));
    assert_eq!((value(4, "gp_diabetes"), value(4, "gp_copd"), value(4, "gp_conditions")), (1.0, 1.0, 3.0));
    let baseline = m.select(&BASELINE_COLUMNS).unwrap();
    assert_eq!(baseline.columns(), ["emergency_admissions"]);
    assert_eq!(PARR30_NAME, "PARR-30 terms (partial: no hospital term)");
}

#[test]
fn issue_18_cohorts_segments_and_counts_by_practice() {
    let f = Fixture::build();
    let inputs = read(&f);
    let people = score(&inputs);
    let o = CohortOptions::default();
    let segments: Vec<Segment> = people.iter().map(|p| segment(p, &o)).collect();
    // P1 frail (HFRS 8.9); P3 one condition; P4 an infant; P6 metastatic
    // cancer; P7 three conditions, eFI mild and HFRS 0, so not frail.
    assert_eq!(segments, [Segment::Frailty, Segment::OneLongTermCondition, Segment::MaternalAndInfant, Segment::EndOfLife, Segment::TwoOrMoreLongTermConditions]);
    // PARR-30 log-odds order: P1 > P3 (33² × 0.0000606 + 3 × 0.1215 +
    // diabwc 0.1457 = 0.576) > P7 (78²: 0.369) > P6 (metacanc 0.276) > P4;
    // the top 40% of 5 is ⌈2⌉ = P1 and P3, both at A81001.
    let risks: Vec<f64> = people.iter().map(Person::parr30).collect();
    let top = top_risk(&risks, 0.4);
    assert_eq!(top, [true, true, false, false, false]);
    let counts = counts_by_practice(&people, &top, &inputs.practices, &o);
    let cell = |practice: &str, group: &str| {
        let c = counts.iter().find(|c| c.practice == practice && c.group.name() == group).unwrap();
        (c.people, c.top_risk)
    };
    assert_eq!(counts.len(), 2 * Group::all().len(), "every group for both practices, zeros kept");
    assert_eq!(cell("A81001", "all"), (3, 2));
    assert_eq!(cell("B82002", "all"), (2, 0));
    // A81001: P1 frail, polypharmacy, elderly, heart failure, chronic
    // pulmonary disease; P3 diabetes, frequent attender (3 admissions); P7
    // elderly, diabetes, heart failure, chronic pulmonary disease.
    assert_eq!(cell("A81001", "cohort:frailty"), (1, 1));
    assert_eq!(cell("A81001", "cohort:chronic_pulmonary_disease"), (2, 1));
    assert_eq!(cell("A81001", "cohort:diabetes"), (2, 1));
    assert_eq!(cell("A81001", "cohort:heart_failure"), (2, 1));
    assert_eq!(cell("A81001", "cohort:elderly"), (2, 1));
    assert_eq!(cell("A81001", "cohort:polypharmacy"), (1, 1));
    assert_eq!(cell("A81001", "cohort:frequent_attender"), (1, 1));
    assert_eq!(cell("B82002", "segment:end_of_life"), (1, 0));
    assert_eq!(cell("B82002", "segment:maternal_and_infant"), (1, 0));
    assert_eq!(cell("B82002", "cohort:elderly"), (0, 0));
}

#[test]
fn issue_18_reading_twice_gives_identical_output() {
    let f = Fixture::build();
    let (a, b) = (read(&f), read(&f));
    assert_eq!(a, b);
    assert_eq!(score(&a), score(&b));
}

#[test]
fn issue_18_without_a_code_map_no_efi_is_read() {
    let f = Fixture::build();
    let inputs = inputs(&f.session(Purpose::RiskStratification), &options(), &CodeMaps::default()).unwrap();
    assert!(!inputs.efi_read && !inputs.gp_conditions_read);
    assert!(inputs.people.iter().all(|p| p.deficits.is_empty() && p.gp_conditions.is_empty()));
    assert!(score(&inputs).iter().all(|p| p.efi.is_none()));
}

#[test]
fn issue_18_gp_coded_conditions_are_read_through_the_condition_map() {
    // EVENTS on or before I = 2024-04-01 through CONDITION_MAP: P1's asthma
    // (2020-01-01; its heart failure is coded 2024-05-01, after I); P7's
    // diabetes, heart failure and COPD; nobody else has a mapped code.
    let f = Fixture::build();
    let inputs = read(&f);
    assert!(inputs.gp_conditions_read);
    let set = |cs: &[GpCondition]| cs.iter().copied().collect::<GpConditionSet>();
    let got: Vec<GpConditionSet> = inputs.people.iter().map(|p| p.gp_conditions).collect();
    let p7 = set(&[GpCondition::Diabetes, GpCondition::HeartFailure, GpCondition::Copd]);
    assert_eq!(got, [set(&[GpCondition::Asthma]), set(&[]), set(&[]), set(&[]), p7]);
    // The condition map alone: the same conditions, no eFI.
    let conditions = ConditionCodeMap::parse(CONDITION_MAP).unwrap();
    let alone = inputs_with(&f, &CodeMaps { conditions: Some(&conditions), ..CodeMaps::default() });
    assert!(alone.gp_conditions_read && !alone.efi_read);
    assert_eq!(alone.people.iter().map(|p| p.gp_conditions).collect::<Vec<_>>(), got);
    assert!(alone.people.iter().all(|p| p.deficits.is_empty()));
}

fn inputs_with(f: &Fixture, maps: &CodeMaps<'_>) -> Inputs {
    inputs(&f.session(Purpose::RiskStratification), &options(), maps).unwrap()
}

#[test]
fn issue_18_a_grant_that_does_not_link_the_gp_extract_cannot_stratify() {
    // Commissioning links SUS+ but never the GP extract (the demo agreement).
    let f = Fixture::build();
    match inputs(&f.session(Purpose::Commissioning), &options(), &CodeMaps::default()) {
        Err(RiskError::Missing(what)) => assert_eq!(what, "pseudonymised.gp_registration"),
        other => panic!("expected a missing GP extract, got {:?}", other.map(|i| i.people.len())),
    }
}

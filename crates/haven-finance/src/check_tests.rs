//! Each rule on hand-built lines, with the expected outcome worked out here.

use haven_model::rules::{OrgRow, OrgTable, TariffRow};
use haven_model::Date;

use super::*;
use crate::model::{Config, Invoice, Line, Prices, Setting, Spell};
use crate::reason::Reason;

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn orgs() -> OrgTable {
    let row = |code: &str, kind: &str, parent: &str| OrgRow { code: code.into(), kind: kind.into(), parent: parent.into(), ..OrgRow::default() };
    let mut trust = row("RX1", "TRUST", "");
    trust.host = Some("S1".into());
    OrgTable::build(
        [row("P1", "GP_PRACTICE", "S1"), row("P2", "GP_PRACTICE", "S9"), row("PAF", "GP_PRACTICE", "13Q"), row("S1", "SUB_ICB", "QAA"), row("S9", "SUB_ICB", "QZZ"), trust],
        [("E01000009".to_string(), "S9".to_string())],
    )
}

fn apc_line() -> Line {
    Line {
        invoice_id: "I1".into(),
        line_no: 1,
        setting: Some(Setting::Apc),
        person: Some("tok-a".into()),
        gpprac: "P1".into(),
        procode3: "RX1".into(),
        activity_date: Some(day("2024-05-01")),
        admimeth: "21".into(),
        classpat: "1".into(),
        tretspef: "300".into(),
        hrg: "FD01A".into(),
        quantity: Some(1.0),
        amount: Some(303_369),
        ..Line::default()
    }
}

fn spell() -> Spell {
    Spell {
        sus_key: Some("K1".into()),
        person: Some("tok-a".into()),
        provider: "RX1".into(),
        admidate: Some(day("2024-05-01")),
        disdate: Some(day("2024-05-14")),
        admimeth: "21".into(),
        classpat: "1".into(),
        tretspef: "300".into(),
        hrg: "FD01A".into(),
        age: Some(70),
        sex: "2".into(),
        practice: "P1".into(),
        ..Spell::default()
    }
}

fn prices() -> Prices {
    let mut p = Prices::default();
    let row = TariffRow {
        hrg: "FD01A".into(),
        dc_price: Some(80_000),
        el_price: Some(150_000),
        el_trim_point_days: Some(5),
        nel_price: Some(200_000),
        nel_trim_point_days: Some(10),
        long_stay_per_day: 30_000,
        ssem_price: Some(60_000),
        ssem_applicable: true,
        ..TariffRow::default()
    };
    p.apc.insert(("2425".into(), "FD01A".into()), row);
    p.mff.insert(("2425".into(), "RX1".into()), 1.0461);
    p
}

#[test]
fn the_icbs_own_patient_passes_and_another_icbs_is_challenged() {
    let cfg = Config::for_icb("QAA");
    assert_eq!(responsibility(&apc_line(), None, &orgs(), &cfg.icb), None);
    // P2 is in sub-ICB S9 of ICB QZZ.
    let mut l = apc_line();
    l.gpprac = "P2".into();
    let f = responsibility(&l, None, &orgs(), &cfg.icb).unwrap();
    assert_eq!(f.reason, Reason::NotResponsibleCommissioner);
    assert!(f.evidence.contains("QZZ") && f.evidence.contains("Practice"), "{}", f.evidence);
    // The SUS+ record's practice wins over the one billed: SUS says P1.
    let s = spell();
    assert_eq!(responsibility(&l, Some(Sus::Spell(&s)), &orgs(), &cfg.icb), None);
}

#[test]
fn a_prison_practices_patient_is_nhs_englands_except_in_a_and_e() {
    let cfg = Config::for_icb("QAA");
    // P1 is an ordinary practice of S1 (ICB QAA) until the ICB lists it as
    // a health-and-justice practice (CAM v5.3 step E).
    let mut o = orgs();
    assert_eq!(responsibility(&apc_line(), None, &o, &cfg.icb), None);
    o.set_health_and_justice([" p1 ".to_string()]);
    let f = responsibility(&apc_line(), None, &o, &cfg.icb).unwrap();
    assert!(f.reason == Reason::NhseCommissioned && f.evidence.contains("HealthAndJustice"), "{}", f.evidence);
    // "Not for A&E POD": the same patient's A&E attendance is the ICB's.
    let ae = Line { setting: Some(Setting::Ae), tretspef: "180".into(), ..apc_line() };
    assert_eq!(responsibility(&ae, None, &o, &cfg.icb), None);
    // An outpatient attendance is not A&E: NHS England's.
    let op = Line { setting: Some(Setting::Op), ..apc_line() };
    assert_eq!(responsibility(&op, None, &o, &cfg.icb).unwrap().reason, Reason::NhseCommissioned);
}

#[test]
fn no_practice_falls_to_residence_and_armed_forces_to_nhs_england() {
    let cfg = Config::for_icb("QAA");
    let mut s = spell();
    s.practice = "V81999".into();
    s.lsoa = Some("E01000009".into());
    let f = responsibility(&apc_line(), Some(Sus::Spell(&s)), &orgs(), &cfg.icb).unwrap();
    assert!(f.reason == Reason::NotResponsibleCommissioner && f.evidence.contains("Residence"), "{}", f.evidence);
    s.practice = "PAF".into();
    assert_eq!(responsibility(&apc_line(), Some(Sus::Spell(&s)), &orgs(), &cfg.icb).unwrap().reason, Reason::NhseCommissioned);
    // Secondary dental treatment function 140 is NHS England's too.
    s.practice = "P1".into();
    s.tretspef = "140".into();
    assert_eq!(responsibility(&apc_line(), Some(Sus::Spell(&s)), &orgs(), &cfg.icb).unwrap().reason, Reason::NhseCommissioned);
}

#[test]
fn a_spell_is_repriced_with_excess_bed_days_and_mff() {
    let cfg = Config::for_icb("QAA");
    // Non-elective, LoS 13 (1 → 14 May), trim 10: 3 excess days × £300 = £900;
    // (£2,000 + £900) × 1.0461 = £3,033.69 — exactly what the line bills.
    let p = price(&apc_line(), Some(Sus::Spell(&spell())), &prices(), &cfg);
    assert_eq!(p, Priced { expected: Some(303_369), findings: vec![] });
    // £1.00 over is within the default tolerance (100p); £1.01 over is not.
    let mut l = apc_line();
    l.amount = Some(303_469);
    assert!(price(&l, Some(Sus::Spell(&spell())), &prices(), &cfg).findings.is_empty());
    l.amount = Some(303_470);
    let p = price(&l, Some(Sus::Spell(&spell())), &prices(), &cfg);
    assert_eq!(p.findings.iter().map(|f| f.reason).collect::<Vec<_>>(), [Reason::PriceDifference]);
    assert!(p.findings[0].evidence.contains("£3034.70") && p.findings[0].evidence.contains("£3033.69"), "{}", p.findings[0].evidence);
    // Billed at another HRG's price: the HRG difference is named too.
    l.hrg = "FD02B".into();
    let reasons: Vec<Reason> = price(&l, Some(Sus::Spell(&spell())), &prices(), &cfg).findings.iter().map(|f| f.reason).collect();
    assert_eq!(reasons, [Reason::PriceDifference, Reason::HrgDifference]);
    // Under-billing is not challenged unless the ICB asks.
    l.amount = Some(100_000);
    assert!(price(&l, Some(Sus::Spell(&spell())), &prices(), &cfg).findings.is_empty());
    let strict = Config { challenge_underbilling: true, ..cfg };
    assert!(!price(&l, Some(Sus::Spell(&spell())), &prices(), &strict).findings.is_empty());
}

#[test]
fn short_stay_emergency_and_a_missing_hrg() {
    let cfg = Config::for_icb("QAA");
    // LoS 1, adult, SSEM applicable: £600 × 1.0461 = £627.66.
    let mut s = spell();
    s.disdate = Some(day("2024-05-02"));
    assert_eq!(price(&apc_line(), Some(Sus::Spell(&s)), &prices(), &cfg).expected, Some(62_766));
    // An HRG the tariff does not have cannot be repriced: a query, not a guess.
    s.hrg = "ZZ99Z".into();
    let p = price(&apc_line(), Some(Sus::Spell(&s)), &prices(), &cfg);
    assert_eq!((p.expected, p.findings[0].reason), (None, Reason::HrgNotInTariff));
    // The tariff year is the year of discharge: 2025-26 has no row.
    let mut late = spell();
    late.disdate = Some(day("2025-04-02"));
    assert_eq!(price(&apc_line(), Some(Sus::Spell(&late)), &prices(), &cfg).findings[0].reason, Reason::HrgNotInTariff);
}

#[test]
fn activity_after_death_only_when_strictly_after() {
    let l = apc_line();
    assert_eq!(after_death(&l, Some(day("2024-05-01"))), None);
    let f = after_death(&l, Some(day("2024-04-21"))).unwrap();
    assert!(f.reason == Reason::ActivityAfterDeath && f.evidence.contains("10 days"), "{}", f.evidence);
    assert_eq!(after_death(&l, None), None);
}

#[test]
fn outpatient_attendance_inside_an_inpatient_spell() {
    let s = spell(); // 1 to 14 May at RX1.
    let mut op = apc_line();
    op.setting = Some(Setting::Op);
    for (date, inside) in [("2024-05-01", false), ("2024-05-02", true), ("2024-05-13", true), ("2024-05-14", false)] {
        op.activity_date = Some(day(date));
        assert_eq!(inside_spell(&op, [&s], None).is_some(), inside, "{date}");
    }
    // Another provider's clinic is not inside this spell.
    op.activity_date = Some(day("2024-05-05"));
    op.procode3 = "RY2".into();
    assert!(inside_spell(&op, [&s], None).is_none());
    // An ordinary admission is not "inside" another (only day cases are checked),
    // and a day-case spell holds nothing.
    let mut dc = apc_line();
    dc.activity_date = Some(day("2024-05-05"));
    assert!(inside_spell(&dc, [&s], None).is_none());
    dc.classpat = "2".into();
    assert!(inside_spell(&dc, [&s], None).is_some());
    let mut day_case_spell = spell();
    day_case_spell.classpat = "2".into();
    assert!(inside_spell(&dc, [&day_case_spell], None).is_none());
}

#[test]
fn elective_nca_needs_a_prior_approval_reference() {
    let nca = Invoice { nca: true, ..Invoice::default() };
    let contracted = Invoice::default();
    let mut l = apc_line();
    // Emergency NCA is payable without approval.
    assert!(prior_approval(&l, &nca).is_none());
    l.admimeth = "11".into();
    assert_eq!(prior_approval(&l, &nca).unwrap().reason, Reason::NoPriorApproval);
    assert!(prior_approval(&l, &contracted).is_none());
    l.prior_approval = Some("NCA0001234".into());
    assert!(prior_approval(&l, &nca).is_none());
    // A first outpatient attendance by telephone (FIRSTATT 3) is elective too; a follow-up is not.
    let mut op = apc_line();
    op.setting = Some(Setting::Op);
    op.firstatt = "3".into();
    assert!(prior_approval(&op, &nca).is_some());
    op.firstatt = "2".into();
    assert!(prior_approval(&op, &nca).is_none());
}

#[test]
fn an_ebi_list_one_procedure_needs_prior_approval() {
    let cfg = Config::for_icb("QAA");
    // Trigger finger release (OPCS T69.1, primary diagnosis M65.3) for an
    // adult, elective: EBI list 1 (NHS England, 2019).
    let mut s = spell();
    s.admimeth = "11".into();
    s.age = Some(55);
    s.diagnoses = vec!["M653".into()];
    s.procedures = vec!["T691".into()];
    let mut l = apc_line();
    let f = ebi(&l, &s, &cfg).unwrap();
    assert_eq!(f.reason, Reason::EbiNoPriorApproval);
    l.prior_approval = Some("IFR-0042".into());
    assert!(ebi(&l, &s, &cfg).is_none());
    // The same procedure as an emergency is not an EBI intervention.
    s.admimeth = "21".into();
    l.prior_approval = None;
    assert!(ebi(&l, &s, &cfg).is_none());
}

#[test]
fn malformed_quantities_amounts_and_unknown_providers() {
    let mut l = apc_line();
    assert!(line(&l, true).is_empty());
    l.quantity = Some(-1.0);
    l.amount = None;
    let reasons: Vec<Reason> = line(&l, false).into_iter().map(|f| f.reason).collect();
    assert_eq!(reasons, [Reason::InvalidQuantity, Reason::InvalidAmount, Reason::UnknownProvider]);
}

#[test]
fn an_unmatched_line_without_a_practice_pays_by_the_residence_billed() {
    let cfg = Config::for_icb("QAA");
    let mut l = apc_line();
    l.gpprac = "V81999".into();
    // No residence: the provider's host, S1 of QAA, is responsible.
    assert_eq!(responsibility(&l, None, &orgs(), &cfg.icb), None);
    // The postcode billed lies in E01000009, sub-ICB S9 of QZZ.
    l.lsoa = Some("E01000009".into());
    let f = responsibility(&l, None, &orgs(), &cfg.icb).unwrap();
    assert!(f.reason == Reason::NotResponsibleCommissioner && f.evidence.contains("Residence"), "{}", f.evidence);
}

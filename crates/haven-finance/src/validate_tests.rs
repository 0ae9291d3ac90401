//! A whole run over a hand-built ICB: two invoices, a handful of lines,
//! each line's expected outcome worked out below.

use haven_model::rules::{OrgRow, OrgTable, TariffRow};
use haven_model::Date;

use super::*;
use crate::model::{Attendance, Inputs, Prices, Spell};

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn inputs() -> Inputs {
    let row = |code: &str, kind: &str, parent: &str| OrgRow { code: code.into(), kind: kind.into(), parent: parent.into(), ..OrgRow::default() };
    let orgs = OrgTable::build(
        [row("P1", "GP_PRACTICE", "S1"), row("P2", "GP_PRACTICE", "S9"), row("S1", "SUB_ICB", "QAA"), row("S9", "SUB_ICB", "QZZ"), row("RX1", "TRUST", "")],
        [],
    );
    let mut prices = Prices::default();
    let tariff = TariffRow { hrg: "FD01A".into(), nel_price: Some(200_000), nel_trim_point_days: Some(10), long_stay_per_day: 30_000, ..TariffRow::default() };
    prices.apc.insert(("2425".into(), "FD01A".into()), tariff);
    let spell = |key: &str, person: &str, adm: &str, dis: &str| Spell {
        sus_key: Some(key.into()),
        person: Some(person.into()),
        provider: "RX1".into(),
        admidate: Some(day(adm)),
        disdate: Some(day(dis)),
        admimeth: "21".into(),
        classpat: "1".into(),
        tretspef: "300".into(),
        hrg: "FD01A".into(),
        age: Some(60),
        practice: "P1".into(),
        ..Spell::default()
    };
    let invoice = |id: &str, number: &str, month: &str, total: i64| Invoice {
        id: id.into(),
        number: number.into(),
        provider: "RX1".into(),
        commissioner: "QAA".into(),
        nca: false,
        period_start: Some(day(&format!("{month}-01"))),
        period_end: None,
        invoice_date: None,
        total_net: Some(total),
    };
    let line = |invoice: &str, no: i64, key: Option<&str>, person: &str, date: &str, practice: &str| Line {
        invoice_id: invoice.into(),
        line_no: no,
        setting: Some(Setting::Apc),
        person: Some(person.into()),
        gpprac: practice.into(),
        procode3: "RX1".into(),
        sus_key: key.map(Into::into),
        activity_date: Some(day(date)),
        admimeth: "21".into(),
        classpat: "1".into(),
        hrg: "FD01A".into(),
        quantity: Some(1.0),
        amount: Some(200_000),
        ..Line::default()
    };
    let mut op = line("I2", 3, Some("A1"), "tok-b", "2024-06-03", "P1");
    op.setting = Some(Setting::Op);
    op.amount = Some(16_000);
    Inputs {
        invoices: vec![invoice("I1", "RX1-202405", "2024-05", 600_000), invoice("I2", "RX1-202406", "2024-06", 416_000)],
        lines: vec![
            // 1: key K1, LoS 5, within trim: £2,000 expected and billed → validated.
            line("I1", 1, Some("K1"), "tok-a", "2024-05-01", "P1"),
            // 2: key quoted is another patient's (K1 is tok-a's), found by
            // patient, provider and date instead (K2) → validated, demographic.
            line("I1", 2, Some("K1"), "tok-b", "2024-05-10", "P1"),
            // 3: another ICB's patient (P2 → S9 → QZZ) → not responsible only.
            line("I1", 3, None, "tok-c", "2024-05-12", "P2"),
            // I2 line 1: K1 again a month later → duplicate of I1 line 1.
            line("I2", 1, Some("K1"), "tok-a", "2024-05-01", "P1"),
            // I2 line 2: nothing in SUS+ → no SUS record.
            line("I2", 2, None, "tok-a", "2024-06-20", "P1"),
            // I2 line 3: outpatient attendance A1, inside tok-b's spell K2
            // (10 to 20 May)? No: 3 June is after it → validated at SUS's £160.
            op,
            // Line of an invoice with no header.
            line("I9", 1, Some("K2"), "tok-b", "2024-05-10", "P1"),
        ],
        spells: vec![spell("K1", "tok-a", "2024-05-01", "2024-05-06"), spell("K2", "tok-b", "2024-05-10", "2024-05-20")],
        attendances: vec![Attendance {
            setting: Some(Setting::Op),
            key: "A1".into(),
            person: Some("tok-b".into()),
            provider: "RX1".into(),
            date: Some(day("2024-06-03")),
            practice: "P1".into(),
            sus_price: Some(16_000),
            ..Attendance::default()
        }],
        deaths: Default::default(),
        prices,
        orgs,
        acm: None,
        not_opened: Vec::new(),
    }
}

fn outcome<'a>(v: &'a Validation, invoice: &str, line: i64) -> &'a LineOutcome {
    v.lines.iter().find(|l| l.invoice_id == invoice && l.line_no == line).unwrap()
}

#[test]
fn each_line_ends_validated_or_challenged_with_its_reasons() {
    let v = run(&inputs(), &Config::for_icb("QAA"), None);
    assert_eq!(v.lines.len(), 7, "nothing is dropped");
    let l = outcome(&v, "I1", 1);
    assert_eq!((l.outcome(), l.matched_by, l.expected), ("validated", MatchedBy::RecordKey, Some(200_000)));
    let l = outcome(&v, "I1", 2);
    assert_eq!((l.outcome(), l.matched_by, l.sus_key.as_ref().map(ToString::to_string)), ("validated", MatchedBy::Demographic, Some("K2".to_string())));
    assert_eq!(outcome(&v, "I1", 3).reasons(), [Reason::NotResponsibleCommissioner]);
    let dup = outcome(&v, "I2", 1);
    assert_eq!(dup.reasons(), [Reason::Duplicate]);
    assert!(dup.findings[0].evidence.contains("RX1-202405 line 1"), "{}", dup.findings[0].evidence);
    assert_eq!(outcome(&v, "I2", 2).reasons(), [Reason::NoSusRecord]);
    let op = outcome(&v, "I2", 3);
    assert_eq!((op.outcome(), op.expected), ("validated", Some(16_000)));
    // The headerless line bills K2, which I1 line 2 billed first: challenged
    // for both (a line without a header is never the one paid).
    assert_eq!(outcome(&v, "I9", 1).reasons(), [Reason::Duplicate, Reason::NoInvoiceHeader]);
    let challenged: Vec<(&str, i64)> = v.challenged().map(|l| (l.invoice_id.as_str(), l.line_no)).collect();
    assert_eq!(challenged, [("I1", 3), ("I2", 1), ("I2", 2), ("I9", 1)]);
    // Value challenged: four lines of £2,000.
    assert_eq!(v.value_challenged(), 800_000);
}

#[test]
fn contracted_invoices_must_total_the_providers_acm_return() {
    let mut i = inputs();
    let key = |m: &str| ("RX1".to_owned(), "QAA".to_owned(), day(&format!("{m}-01")));
    // ACM for May: EL £5,000 + NEL £1,000 = £6,000, I1's TOTAL_NET: agrees.
    // ACM for June: £4,000 against I2's TOTAL_NET of £4,160 (16,000p more):
    // ACM_TOTAL_MISMATCH on I2, June's only contracted invoice.
    i.acm = Some([(key("2024-05"), 500_000 + 100_000), (key("2024-06"), 400_000)].into_iter().collect());
    let v = run(&i, &Config::for_icb("QAA"), None);
    let found: Vec<(&str, Reason)> = v.invoices.iter().map(|f| (f.invoice_id.as_str(), f.finding.reason)).collect();
    assert_eq!(found, [("I2", Reason::AcmTotalMismatch)]);
    assert!(v.invoices[0].finding.evidence.contains("416000p, ACM 400000p"), "{}", v.invoices[0].finding.evidence);
    // No ACM row for June at all: NO_ACM_TOTAL. An NCA invoice is never
    // checked (ACM covers contracted activity).
    i.acm = Some([(key("2024-05"), 600_000)].into_iter().collect());
    let v = run(&i, &Config::for_icb("QAA"), None);
    assert_eq!(v.invoices.iter().map(|f| f.finding.reason).collect::<Vec<_>>(), [Reason::NoAcmTotal]);
    i.invoices[1].nca = true;
    assert!(run(&i, &Config::for_icb("QAA"), None).invoices.is_empty());
    // Without an ACM feed the check does not run.
    i.invoices[1].nca = false;
    i.acm = None;
    assert!(run(&i, &Config::for_icb("QAA"), None).invoices.is_empty());
}

#[test]
fn invoice_totals_and_reused_numbers() {
    let mut i = inputs();
    // I1's lines sum to 3 × £2,000 = £6,000 = TOTAL_NET; I2's to £2,000 +
    // £2,000 + £160 = £4,160 = TOTAL_NET. Both agree.
    assert!(run(&i, &Config::for_icb("QAA"), None).invoices.is_empty());
    i.invoices[1].total_net = Some(416_001);
    i.invoices[0].number = "RX1-202406".into();
    let v = run(&i, &Config::for_icb("QAA"), None);
    let mut found: Vec<(&str, Reason)> = v.invoices.iter().map(|f| (f.invoice_id.as_str(), f.finding.reason)).collect();
    found.sort();
    assert_eq!(found, [("I1", Reason::DuplicateInvoiceNumber), ("I2", Reason::InvoiceTotalMismatch), ("I2", Reason::DuplicateInvoiceNumber)]);
}

#[test]
fn a_month_reports_its_own_lines_but_finds_duplicates_of_earlier_months() {
    let v = run(&inputs(), &Config::for_icb("QAA"), Some("2024-06"));
    let ids: Vec<(&str, i64)> = v.lines.iter().map(|l| (l.invoice_id.as_str(), l.line_no)).collect();
    assert_eq!(ids, [("I2", 1), ("I2", 2), ("I2", 3)]);
    assert_eq!(v.lines[0].reasons(), [Reason::Duplicate]);
}

#[test]
fn the_icbs_health_and_justice_practices_reach_who_pays() {
    // P1 registered everyone but tok-c; listed as a prison practice, I1
    // line 1 (APC) becomes NHS England's, and so does the outpatient
    // attendance I2 line 3; the other ICB's patient (P2) is unchanged.
    let mut cfg = Config::for_icb("QAA");
    cfg.health_and_justice = vec!["P1".into()];
    let v = run(&inputs(), &cfg, None);
    assert!(outcome(&v, "I1", 1).reasons().contains(&Reason::NhseCommissioned));
    assert!(outcome(&v, "I2", 3).reasons().contains(&Reason::NhseCommissioned));
    assert_eq!(outcome(&v, "I1", 3).reasons(), [Reason::NotResponsibleCommissioner]);
    let before = run(&inputs(), &Config::for_icb("QAA"), None);
    assert!(!outcome(&before, "I1", 1).reasons().contains(&Reason::NhseCommissioned));
}

#[test]
fn a_practice_list_file_is_read_by_line_or_comma_with_comments() {
    assert_eq!(Config::practice_list("# prisons\nY01234\n y05678 , Y09999 # HMP X\n\n"), ["Y01234", "Y05678", "Y09999"]);
}

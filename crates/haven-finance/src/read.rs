//! Reading a run's inputs from a zone session over the CEfF and reference
//! zones. Episodes become spells by `haven_model::rules::spell_key` (the one
//! spell rule); strings are read whatever Arrow string type DataFusion
//! returns.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, Date32Array, Float64Array, Int32Array, Int64Array, StringArray, StringViewArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use haven_model::rules::{spell_key, OrgRow, OrgTable, SpellKeyFields, TariffRow};
use haven_model::Date;
use haven_store::{Zone, ZoneSession};
use rayon::prelude::*;

use crate::error::FinanceError;
use crate::model::{Attendance, Code, Inputs, Invoice, Key, Line, Prices, Setting, Spell};

/// A string column as DataFusion returns it (Utf8View from Parquet, or
/// Utf8), read in place: casting a view column to Utf8 would copy every
/// string of a full ICB's year once more.
enum Strs {
    Utf8(StringArray),
    View(StringViewArray),
}

impl Strs {
    /// The value as stored.
    fn raw(&self, i: usize) -> Option<&str> {
        match self {
            Strs::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strs::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }

    /// A non-blank value, trimmed.
    fn get(&self, i: usize) -> Option<&str> {
        self.raw(i).map(str::trim).filter(|v| !v.is_empty())
    }

    fn len(&self) -> usize {
        match self {
            Strs::Utf8(a) => a.len(),
            Strs::View(a) => a.len(),
        }
    }
}

/// One batch's columns by name, cast to the types validation reads.
struct Cols<'a> {
    b: &'a RecordBatch,
    dataset: &'a str,
}

impl<'a> Cols<'a> {
    fn column(&self, name: &str, ty: &DataType) -> Result<arrow::array::ArrayRef, FinanceError> {
        let shape = || FinanceError::Shape { dataset: self.dataset.into(), column: name.into() };
        let c = self.b.column_by_name(name).ok_or_else(shape)?;
        cast(c, ty).map_err(|_| shape())
    }
    fn text(&self, name: &str) -> Result<Strs, FinanceError> {
        let shape = || FinanceError::Shape { dataset: self.dataset.into(), column: name.into() };
        let c = self.b.column_by_name(name).ok_or_else(shape)?;
        if let Some(v) = c.as_any().downcast_ref::<StringViewArray>() {
            return Ok(Strs::View(v.clone()));
        }
        Ok(Strs::Utf8(self.column(name, &DataType::Utf8)?.as_any().downcast_ref::<StringArray>().expect("cast to Utf8").clone()))
    }
    fn dates(&self, name: &str) -> Result<Date32Array, FinanceError> {
        Ok(self.column(name, &DataType::Date32)?.as_any().downcast_ref::<Date32Array>().expect("cast to Date32").clone())
    }
    fn ints(&self, name: &str) -> Result<Int32Array, FinanceError> {
        Ok(self.column(name, &DataType::Int32)?.as_any().downcast_ref::<Int32Array>().expect("cast to Int32").clone())
    }
    fn money(&self, name: &str) -> Result<Int64Array, FinanceError> {
        Ok(self.column(name, &DataType::Int64)?.as_any().downcast_ref::<Int64Array>().expect("cast to Int64").clone())
    }
    fn floats(&self, name: &str) -> Result<Float64Array, FinanceError> {
        Ok(self.column(name, &DataType::Float64)?.as_any().downcast_ref::<Float64Array>().expect("cast to Float64").clone())
    }
}

/// A non-blank code (interned).
fn s(a: &Strs, i: usize) -> Option<Code> {
    a.get(i).map(Code::from)
}

fn t(a: &Strs, i: usize) -> Code {
    s(a, i).unwrap_or_default()
}

/// A non-blank key (a token, record key, spell number or reference).
fn k(a: &Strs, i: usize) -> Option<Key> {
    a.get(i).map(Key::parse)
}

/// [`t`] and [`s`] as `String`, for the small reference tables whose maps
/// are keyed by `String`.
fn ts(a: &Strs, i: usize) -> String {
    a.get(i).unwrap_or_default().to_owned()
}

fn ss(a: &Strs, i: usize) -> Option<String> {
    a.get(i).map(str::to_owned)
}

fn d(a: &Date32Array, i: usize) -> Option<Date> {
    a.is_valid(i).then(|| Date::from_days(a.value(i)))
}

fn n<T: arrow::datatypes::ArrowPrimitiveType>(a: &arrow::array::PrimitiveArray<T>, i: usize) -> Option<T::Native> {
    a.is_valid(i).then(|| a.value(i))
}

/// The datasets loaded in a zone of the session.
fn tables(zs: &ZoneSession, zone: &str) -> Result<Vec<String>, FinanceError> {
    let batches = zs.sql(&format!("SELECT table_name FROM information_schema.tables WHERE table_schema = '{zone}'"))?;
    let mut out = Vec::new();
    for b in &batches {
        let names = Cols { b, dataset: "information_schema.tables" }.text("table_name")?;
        out.extend((0..names.len()).filter_map(|i| ss(&names, i)));
    }
    Ok(out)
}

/// Runs `query` over `dataset` when it is loaded (else no batches), or
/// fails when `required`.
fn rows(zs: &ZoneSession, have: &[String], zone: &str, dataset: &str, required: bool, query: &str) -> Result<Vec<RecordBatch>, FinanceError> {
    if !have.iter().any(|h| h == dataset) {
        return if required { Err(FinanceError::Missing(format!("{zone}.{dataset}"))) } else { Ok(Vec::new()) };
    }
    Ok(zs.sql(query)?)
}

/// Hands each batch of the `wanted` columns of `zone.dataset` to `f` as the
/// query makes it (a full ICB's year is millions of rows: neither every
/// column nor every batch is held at once). A column the table lacks is
/// left out of the query, so a required one fails in [`Cols`] with the
/// dataset and column named. A dataset not loaded gives no batches, or
/// fails when `required`.
fn each(zs: &ZoneSession, have: &[String], zone: &str, dataset: &str, required: bool, wanted: &[&str], mut f: impl FnMut(&RecordBatch) -> Result<(), FinanceError>) -> Result<(), FinanceError> {
    if !have.iter().any(|h| h == dataset) {
        return if required { Err(FinanceError::Missing(format!("{zone}.{dataset}"))) } else { Ok(()) };
    }
    let present = Zone::from_name(zone).map(|z| zs.columns(z, dataset)).unwrap_or_default();
    let cols: Vec<String> = wanted.iter().filter(|w| present.iter().any(|p| p == *w)).map(|w| format!("\"{w}\"")).collect();
    if cols.is_empty() {
        return Err(FinanceError::Shape { dataset: dataset.into(), column: wanted.first().copied().unwrap_or_default().into() });
    }
    zs.sql_each(&format!("SELECT {} FROM {zone}.{dataset}", cols.join(", ")), |b| f(&b))
}

const LINE_TEXT: [&str; 14] = ["INVOICE_ID", "ACTIVITY_TYPE", "POD", "TOKEN_PERSON_ID", "GPPRAC", "PROCODE3", "PRIOR_APPROVAL_REF", "SUS_RECORD_KEY", "PROVSPNO", "ADMIMETH", "CLASSPAT", "FIRSTATT", "TRETSPEF", "HRG"];
const LINE_OTHER: [&str; 7] = ["LSOA21", "LINE_NO", "ACTIVITY_DATE", "DISCHARGE_DATE", "LOS_DAYS", "QUANTITY", "LINE_AMOUNT"];
const EPISODE_TEXT: [&str; 12] = ["SUSSPELLID", "PROVSPNO", "TOKEN_PERSON_ID", "PROCODE3", "EPIORDER", "ADMIMETH", "CLASSPAT", "TRETSPEF", "SUSHRG", "SEX", "GPPRAC", "LSOA21"];
const EPISODE_OTHER: [&str; 4] = ["ADMIDATE", "DISDATE", "EPISTART", "STARTAGE"];
const OP_TEXT: [&str; 8] = ["ATTENDKEY", "TOKEN_PERSON_ID", "PROCODE3", "SUSHRG", "TRETSPEF", "GPPRAC", "LSOA21", "ATTENDED"];
const ECDS_TEXT: [&str; 6] = ["EC_IDENT", "TOKEN_PERSON_ID", "PROVIDER_CODE", "HEALTH_RESOURCE_GROUP", "PRACTICE_CODE_PATIENT_REGISTRATION", "LSOA21"];

fn diag_names() -> Vec<String> {
    (1..=20).map(|k| format!("DIAG_4_{k:02}")).collect()
}

fn proc_names() -> Vec<String> {
    (1..=24).map(|k| format!("OPERTN_4_{k:02}")).collect()
}

/// The rows of a loaded CEfF dataset (0 when it is not loaded or cannot be
/// counted: the count only sizes a buffer).
fn rows_of(zs: &ZoneSession, have: &[String], dataset: &str) -> usize {
    if !have.iter().any(|h| h == dataset) {
        return 0;
    }
    zs.count_rows(Zone::Ceff, dataset).map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

/// Reads everything a run needs.
pub fn inputs(zs: &ZoneSession) -> Result<Inputs, FinanceError> {
    let ceff = tables(zs, "ceff")?;
    let reference = tables(zs, "reference")?;
    let optional = [("ceff", "apc_episode", &ceff), ("ceff", "op_attendance", &ceff), ("ceff", "ecds_attendance", &ceff), ("ceff", "death", &ceff), ("reference", "mff", &reference), ("reference", "lsoa_lookup", &reference), ("ceff", "acm_total", &ceff)];
    let not_opened = optional.iter().filter(|(_, d, have)| !have.iter().any(|h| h == d)).map(|(z, d, _)| format!("{z}.{d}")).collect();
    // Sized once from the row counts: growing by doubling would copy the
    // lines each time and hold old and new at once.
    let mut lines = Vec::with_capacity(rows_of(zs, &ceff, "invoice_line"));
    each(zs, &ceff, "ceff", "invoice_line", true, &[&LINE_TEXT[..], &LINE_OTHER[..]].concat(), |b| read_lines(b, &mut lines))?;
    let mut episodes = BTreeMap::new();
    let (diags, procs) = (diag_names(), proc_names());
    let wanted: Vec<&str> = EPISODE_TEXT.iter().chain(&EPISODE_OTHER).copied().chain(diags.iter().map(String::as_str)).chain(procs.iter().map(String::as_str)).collect();
    each(zs, &ceff, "ceff", "apc_episode", false, &wanted, |b| read_episodes(b, &mut episodes))?;
    let mut attendances = Vec::with_capacity(rows_of(zs, &ceff, "op_attendance") + rows_of(zs, &ceff, "ecds_attendance"));
    each(zs, &ceff, "ceff", "op_attendance", false, &[&OP_TEXT[..], &["APPTDATE", "GRAND_TOTAL_MFF"]].concat(), |b| read_outpatients(b, &mut attendances))?;
    each(zs, &ceff, "ceff", "ecds_attendance", false, &[&ECDS_TEXT[..], &["ARRIVAL_DATE", "FINAL_PRICE"]].concat(), |b| read_emergency(b, &mut attendances))?;
    Ok(Inputs {
        not_opened,
        invoices: invoices(&rows(zs, &ceff, "ceff", "invoice_header", true, "SELECT * FROM ceff.invoice_header")?)?,
        lines,
        spells: episodes.into_values().map(merge).collect(),
        attendances,
        acm: if ceff.iter().any(|t| t == "acm_total") {
            Some(acm(&zs.sql("SELECT \"PROVIDER_CODE\", \"COMMISSIONER_CODE\", \"ACTIVITY_MONTH\", \"PRICE_ACTUAL\" FROM ceff.acm_total")?)?)
        } else {
            None
        },
        deaths: deaths(&rows(zs, &ceff, "ceff", "death", false, "SELECT \"TOKEN_PERSON_ID\", \"REG_DATE_OF_DEATH\" FROM ceff.death")?)?,
        prices: prices(
            &rows(zs, &reference, "reference", "tariff_apc", true, "SELECT * FROM reference.tariff_apc")?,
            &rows(zs, &reference, "reference", "mff", false, "SELECT * FROM reference.mff")?,
        )?,
        orgs: orgs(
            &rows(zs, &reference, "reference", "org", true, "SELECT * FROM reference.org")?,
            &rows(zs, &reference, "reference", "lsoa_lookup", false, "SELECT \"LSOA21\", \"SUB_ICB\" FROM reference.lsoa_lookup")?,
        )?,
    })
}

/// ACM value by provider, commissioner and month (rows without a month
/// or value add nothing).
fn acm(batches: &[RecordBatch]) -> Result<HashMap<(String, String, Date), i64>, FinanceError> {
    let mut out: HashMap<(String, String, Date), i64> = HashMap::new();
    for b in batches {
        let c = Cols { b, dataset: "acm_total" };
        let (provider, commissioner, month, value) = (c.text("PROVIDER_CODE")?, c.text("COMMISSIONER_CODE")?, c.dates("ACTIVITY_MONTH")?, c.money("PRICE_ACTUAL")?);
        for i in 0..b.num_rows() {
            if let (Some(m), Some(v)) = (d(&month, i), n(&value, i)) {
                *out.entry((ts(&provider, i), ts(&commissioner, i), m.first_of_month())).or_default() += v;
            }
        }
    }
    Ok(out)
}

fn invoices(batches: &[RecordBatch]) -> Result<Vec<Invoice>, FinanceError> {
    let mut out = Vec::new();
    for b in batches {
        let c = Cols { b, dataset: "invoice_header" };
        let (id, number, provider, commissioner, kind) = (c.text("INVOICE_ID")?, c.text("INVOICE_NUMBER")?, c.text("PROVIDER_CODE")?, c.text("COMMISSIONER_CODE")?, c.text("CONTRACT_TYPE")?);
        let (start, end, date, total) = (c.dates("ACTIVITY_PERIOD_START")?, c.dates("ACTIVITY_PERIOD_END")?, c.dates("INVOICE_DATE")?, c.money("TOTAL_NET")?);
        for i in 0..b.num_rows() {
            out.push(Invoice {
                id: t(&id, i),
                number: t(&number, i),
                provider: t(&provider, i),
                commissioner: t(&commissioner, i),
                nca: t(&kind, i) == "NCA",
                period_start: d(&start, i),
                period_end: d(&end, i),
                invoice_date: d(&date, i),
                total_net: n(&total, i),
            });
        }
    }
    Ok(out)
}

fn read_lines(b: &RecordBatch, out: &mut Vec<Line>) -> Result<(), FinanceError> {
    let c = Cols { b, dataset: "invoice_line" };
    let text: Vec<Strs> = LINE_TEXT.iter().map(|name| c.text(name)).collect::<Result<_, _>>()?;
    // A store loaded before LSOA21 was on invoice lines has no such column.
    let lsoa = b.column_by_name("LSOA21").map(|_| c.text("LSOA21")).transpose()?;
    let (line_no, activity, discharge, los, quantity, amount) = (c.ints("LINE_NO")?, c.dates("ACTIVITY_DATE")?, c.dates("DISCHARGE_DATE")?, c.ints("LOS_DAYS")?, c.floats("QUANTITY")?, c.money("LINE_AMOUNT")?);
    // Rows become lines in parallel (interning is thread-safe), appended in
    // their order: a full ICB's year is millions of lines.
    let lines = (0..b.num_rows()).into_par_iter().map(|i| Line {
            invoice_id: t(&text[0], i),
            line_no: n(&line_no, i).map_or(0, i64::from),
            setting: text[1].get(i).map(Setting::parse),
            pod: t(&text[2], i),
            person: k(&text[3], i),
            gpprac: t(&text[4], i),
            lsoa: lsoa.as_ref().and_then(|a| s(a, i)),
            procode3: t(&text[5], i),
            prior_approval: k(&text[6], i),
            sus_key: k(&text[7], i),
            provspno: k(&text[8], i),
            activity_date: d(&activity, i),
            discharge_date: d(&discharge, i),
            admimeth: t(&text[9], i),
            classpat: t(&text[10], i),
            firstatt: t(&text[11], i),
            tretspef: t(&text[12], i),
            hrg: t(&text[13], i),
            los: n(&los, i),
            quantity: n(&quantity, i),
            amount: n(&amount, i),
        });
    out.par_extend(lines);
    Ok(())
}

/// One episode's contribution to its spell.
struct EpisodeRow {
    order: (Code, Option<Date>),
    admidate: Option<Date>,
    disdate: Option<Date>,
    spell: Spell,
}

/// Adds one batch of APC episodes to their spells (keyed by
/// `haven_model::rules::spell_key`).
fn read_episodes(b: &RecordBatch, by_key: &mut BTreeMap<String, Vec<EpisodeRow>>) -> Result<(), FinanceError> {
    let c = Cols { b, dataset: "apc_episode" };
    let text: Vec<Strs> = EPISODE_TEXT.iter().map(|name| c.text(name)).collect::<Result<_, _>>()?;
    let diags: Vec<Strs> = diag_names().iter().filter(|n| b.column_by_name(n).is_some()).map(|n| c.text(n)).collect::<Result<_, _>>()?;
    let procs: Vec<Strs> = proc_names().iter().filter(|n| b.column_by_name(n).is_some()).map(|n| c.text(n)).collect::<Result<_, _>>()?;
    let (admidate, disdate, epistart, age) = (c.dates("ADMIDATE")?, c.dates("DISDATE")?, c.dates("EPISTART")?, c.ints("STARTAGE")?);
    for i in 0..b.num_rows() {
        let fields = SpellKeyFields {
            susspellid: text[0].raw(i),
            procode3: text[3].raw(i),
            provspno: text[1].raw(i),
            person: text[2].raw(i),
            admidate: d(&admidate, i),
        };
        let Some((key, _)) = spell_key(&fields) else { continue };
        let codes = |cols: &[Strs]| cols.iter().filter_map(|a| s(a, i)).filter(|v| v != "-").collect::<Vec<_>>();
        let spell = Spell {
            sus_key: text[0].get(i).filter(|k| *k != "-1").map(Key::parse),
            provspno: k(&text[1], i),
            person: k(&text[2], i),
            provider: t(&text[3], i),
            admidate: d(&admidate, i),
            disdate: d(&disdate, i),
            admimeth: t(&text[5], i),
            classpat: t(&text[6], i),
            tretspef: t(&text[7], i),
            hrg: t(&text[8], i),
            age: n(&age, i).and_then(|a| u16::try_from(a).ok()).map(|a| if a >= 7001 { 0 } else { a }),
            sex: t(&text[9], i),
            practice: t(&text[10], i),
            lsoa: s(&text[11], i),
            diagnoses: codes(&diags),
            procedures: codes(&procs),
        };
        let order = (t(&text[4], i), d(&epistart, i));
        by_key.entry(key).or_default().push(EpisodeRow { order, admidate: spell.admidate, disdate: spell.disdate, spell });
    }
    Ok(())
}

/// A spell from its episodes: admission fields, HRG, age and practice from
/// the first episode (EPIORDER, then episode start); admission the
/// earliest, discharge the latest; patient class the least; every code.
fn merge(mut eps: Vec<EpisodeRow>) -> Spell {
    eps.sort_by(|a, b| a.order.cmp(&b.order));
    let admidate = eps.iter().filter_map(|e| e.admidate).min();
    let disdate = eps.iter().filter_map(|e| e.disdate).max();
    let classpat = eps.iter().map(|e| e.spell.classpat.clone()).filter(|c| !c.is_empty()).min().unwrap_or_default();
    let hrg = eps.iter().map(|e| e.spell.hrg.clone()).find(|h| !h.is_empty()).unwrap_or_default();
    let (diagnoses, procedures) = eps.iter().fold((Vec::new(), Vec::new()), |(mut d, mut p), e| {
        d.extend(e.spell.diagnoses.iter().cloned());
        p.extend(e.spell.procedures.iter().cloned());
        (d, p)
    });
    let first = eps.swap_remove(0).spell;
    Spell { admidate, disdate, classpat, hrg, diagnoses, procedures, ..first }
}

fn read_outpatients(b: &RecordBatch, out: &mut Vec<Attendance>) -> Result<(), FinanceError> {
    let c = Cols { b, dataset: "op_attendance" };
    let text: Vec<Strs> = OP_TEXT.iter().map(|name| c.text(name)).collect::<Result<_, _>>()?;
    let (date, price) = (c.dates("APPTDATE")?, c.money("GRAND_TOTAL_MFF")?);
    // Did-not-attend and cancelled appointments (ATTENDED other than 5 or
    // 6) are not billable activity to match.
    let attended = (0..b.num_rows()).into_par_iter().filter(|&i| matches!(text[7].get(i), Some("5" | "6")));
    out.par_extend(attended.map(|i| Attendance {
            setting: Some(Setting::Op),
            key: k(&text[0], i).unwrap_or_default(),
            person: k(&text[1], i),
            provider: t(&text[2], i),
            date: d(&date, i),
            hrg: t(&text[3], i),
            tretspef: t(&text[4], i),
            practice: t(&text[5], i),
            lsoa: s(&text[6], i),
            sus_price: n(&price, i),
        }));
    Ok(())
}

fn read_emergency(b: &RecordBatch, out: &mut Vec<Attendance>) -> Result<(), FinanceError> {
    let c = Cols { b, dataset: "ecds_attendance" };
    let text: Vec<Strs> = ECDS_TEXT.iter().map(|name| c.text(name)).collect::<Result<_, _>>()?;
    let (date, price) = (c.dates("ARRIVAL_DATE")?, c.money("FINAL_PRICE")?);
    out.par_extend((0..b.num_rows()).into_par_iter().map(|i| Attendance {
            setting: Some(Setting::Ae),
            key: k(&text[0], i).unwrap_or_default(),
            person: k(&text[1], i),
            provider: t(&text[2], i),
            date: d(&date, i),
            hrg: t(&text[3], i),
            tretspef: "180".into(),
            practice: t(&text[4], i),
            lsoa: s(&text[5], i),
            sus_price: n(&price, i),
        }));
    Ok(())
}

fn deaths(batches: &[RecordBatch]) -> Result<HashMap<Key, Date>, FinanceError> {
    let mut out: HashMap<Key, Date> = HashMap::new();
    for b in batches {
        let c = Cols { b, dataset: "death" };
        let (person, date) = (c.text("TOKEN_PERSON_ID")?, c.dates("REG_DATE_OF_DEATH")?);
        for i in 0..b.num_rows() {
            if let (Some(p), Some(day)) = (k(&person, i), d(&date, i)) {
                let e = out.entry(p).or_insert(day);
                *e = (*e).min(day);
            }
        }
    }
    Ok(out)
}

fn prices(tariff: &[RecordBatch], mff: &[RecordBatch]) -> Result<Prices, FinanceError> {
    let mut p = Prices::default();
    for b in tariff {
        let c = Cols { b, dataset: "tariff_apc" };
        let (fyear, hrg) = (c.text("FYEAR")?, c.text("HRG")?);
        let money: Vec<Int64Array> = ["COMBINED_DC_EL_PRICE", "DC_PRICE", "EL_PRICE", "NEL_PRICE", "LONG_STAY_PER_DAY", "SSEM_PRICE"].iter().map(|name| c.money(name)).collect::<Result<_, _>>()?;
        let (el_trim, nel_trim) = (c.ints("EL_TRIM_POINT_DAYS")?, c.ints("NEL_TRIM_POINT_DAYS")?);
        let ssem = c.column("SSEM_APPLICABLE", &DataType::Boolean)?;
        let ssem = ssem.as_any().downcast_ref::<arrow::array::BooleanArray>().expect("cast to Boolean");
        for i in 0..b.num_rows() {
            let row = TariffRow {
                hrg: ts(&hrg, i),
                combined_dc_el_price: n(&money[0], i),
                dc_price: n(&money[1], i),
                el_price: n(&money[2], i),
                el_trim_point_days: n(&el_trim, i),
                nel_price: n(&money[3], i),
                nel_trim_point_days: n(&nel_trim, i),
                long_stay_per_day: n(&money[4], i).unwrap_or(0),
                ssem_price: n(&money[5], i),
                ssem_applicable: ssem.is_valid(i) && ssem.value(i),
            };
            p.apc.insert((ts(&fyear, i), row.hrg.clone()), row);
        }
    }
    for b in mff {
        let c = Cols { b, dataset: "mff" };
        let (fyear, provider, index) = (c.text("FYEAR")?, c.text("PROCODE3")?, c.floats("MFF_PAYMENT_INDEX")?);
        for i in 0..b.num_rows() {
            if let Some(v) = n(&index, i) {
                p.mff.insert((ts(&fyear, i), ts(&provider, i)), v);
            }
        }
    }
    Ok(p)
}

fn orgs(org: &[RecordBatch], lsoa: &[RecordBatch]) -> Result<OrgTable, FinanceError> {
    let mut rows = Vec::new();
    for b in org {
        let c = Cols { b, dataset: "org" };
        let (code, kind, parent, host) = (c.text("ORG_CODE")?, c.text("ORG_TYPE")?, c.text("PARENT_CODE")?, c.text("HOST_ICB")?);
        let (open, close) = (c.dates("OPEN_DATE")?, c.dates("CLOSE_DATE")?);
        for i in 0..b.num_rows() {
            let (Some(code), Some(kind)) = (ss(&code, i), ss(&kind, i)) else { continue };
            rows.push(OrgRow { code, kind, parent: ts(&parent, i), open: d(&open, i), close: d(&close, i), host: ss(&host, i) });
        }
    }
    let mut lsoas = Vec::new();
    for b in lsoa {
        let c = Cols { b, dataset: "lsoa_lookup" };
        let (l, sub) = (c.text("LSOA21")?, c.text("SUB_ICB")?);
        lsoas.extend((0..b.num_rows()).filter_map(|i| Some((ss(&l, i)?, ss(&sub, i)?))));
    }
    Ok(OrgTable::build(rows, lsoas))
}

//! Row validation and standardisation: raw fields in, typed Arrow columns
//! out, with a [`Fault`] for every value that failed a check.
//!
//! A fault in a required field (the primary key, the activity date, the
//! NHS number's check digit, a date out of order) rejects the row; a fault
//! in an optional field nulls that value, or keeps it if only the code is
//! unknown to the reference data, and the row goes on. Faults carry the
//! line and the field, never the value, so the quarantine file holds no
//! patient data.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Array, Date32Builder, Float64Builder, Int32Array, Int32Builder,
    Int64Builder, StringArray, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use haven_model::schema::{Table, CANONICAL_TYPE};
use haven_model::{Date, HesDate, Icd10, NhsNumber, NullPlaceholders};
use haven_model::ods::PracticeField;
use haven_model::opcs4::ProcedureField;

use crate::feed::{Feed, Origin, Roles};
use crate::header::HeaderMap;
use crate::source::RawChunk;

/// What happened to a row or value that failed a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The whole row was left out of every zone.
    Rejected,
    /// The value was replaced by null; the row was kept.
    Nulled,
    /// The value was kept but flagged (e.g. a code unknown to the reference data).
    Kept,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Rejected => "rejected",
            Action::Nulled => "nulled",
            Action::Kept => "kept",
        }
    }
}

/// One failed check, located by line and field.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fault {
    pub line: u64,
    pub field: String,
    pub reason: String,
    pub action: Action,
}

/// How one canonical column is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Code(usize),
    Text(Option<usize>),
    Int32,
    Int64,
    Money,
    Float,
    Date,
    Time,
    DateTime,
    Bool,
    Nhs,
    Icd10,
    Opcs,
    Practice,
    Org,
}

struct ColumnPlan {
    name: String,
    kind: Kind,
    input: Option<usize>,
    required: bool,
    /// Values that mean "not recorded" here: null, not a fault.
    placeholders: Vec<String>,
    /// Width to left-pad a numeric code to with zeros (EPIORDER: HES
    /// writes `01`, NHS Digital's artificial HES `1`).
    zero_pad: Option<usize>,
}

/// Reference sets a validator checks codes against, looked up for every
/// row: hashed with foldhash rather than SipHash.
#[derive(Default)]
pub struct KnownCodes {
    /// Every organisation code in the reference zone; empty means "not loaded, skip the check".
    pub orgs: hashbrown::HashSet<String>,
    /// Postcode → LSOA 2021, to standardise residence.
    pub postcode_lsoa: hashbrown::HashMap<String, String>,
    /// LSOA (2021 or 2011 code) → IMD decile, to fill IMD_DECILE where a
    /// flow gives the LSOA but not the decile (SUS+ carries none).
    pub lsoa_imd: hashbrown::HashMap<String, i32>,
}

/// Everything a worker needs to validate chunks of one file.
pub struct Validator {
    feed: Feed,
    schema: SchemaRef,
    plans: Vec<ColumnPlan>,
    header_len: usize,
    known: Arc<KnownCodes>,
    key_cols: Vec<usize>,
    provider_col: Option<usize>,
    date_order: Vec<(usize, usize)>,
    roles: Roles,
}

/// A validated chunk: the typed batch (every canonical column, nullable)
/// and what the later stages need per row.
pub struct Validated {
    pub index: usize,
    pub batch: RecordBatch,
    pub lines: Vec<u64>,
    pub rejected: Vec<bool>,
    pub nhs: Vec<Option<u64>>,
    pub keys: Vec<Option<RowKey>>,
    pub faults: Vec<Fault>,
    pub dq: DqAcc,
    /// Values read as null because they are the field's "not recorded"
    /// placeholder (`haven_model::NullPlaceholders`).
    pub placeholders: u64,
}

/// A record key for duplicate detection: the number itself when the key is
/// one all-digit column, otherwise a 128-bit hash of the key fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowKey {
    Number(u64),
    Hash(u128),
}

/// Completeness and validity counts per provider and column.
#[derive(Default)]
pub struct DqAcc {
    /// provider → per column [rows, filled, valid]
    pub by_provider: HashMap<String, Vec<[u64; 3]>>,
}

impl DqAcc {
    pub fn merge(&mut self, other: DqAcc) {
        for (p, cols) in other.by_provider {
            let mine = self.by_provider.entry(p).or_insert_with(|| vec![[0; 3]; cols.len()]);
            for (m, o) in mine.iter_mut().zip(cols) {
                for k in 0..3 {
                    m[k] += o[k];
                }
            }
        }
    }
}

/// A value after parsing.
enum Value<'a> {
    Blank,
    Str(&'a str),
    Owned(String),
    I64(i64),
    F64(f64),
    Date(i32),
    Bool(bool),
}

/// A parse outcome: the value, or why it failed and what to do.
type Parsed<'a> = Result<Value<'a>, (&'static str, Action)>;

impl Validator {
    /// Plans the columns of `feed` against a mapped header.
    pub fn new(feed: Feed, map: &HeaderMap, known: Arc<KnownCodes>, placeholders: &NullPlaceholders) -> Validator {
        let table = feed.table;
        let full = table.schema();
        let roles = feed.roles();
        let mut required: Vec<&str> = table.primary_key().to_vec();
        required.extend(roles.required);
        let plans: Vec<ColumnPlan> = full
            .fields()
            .iter()
            .map(|f| ColumnPlan {
                name: f.name().clone(),
                kind: kind_of(table, f, &roles),
                input: map.input_of(f.name()),
                required: required.contains(&f.name().as_str()),
                placeholders: placeholders.for_field(f.name()),
                zero_pad: (f.name() == "EPIORDER").then_some(2),
            })
            .collect();
        let nullable: Vec<Field> = full.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
        let schema = Arc::new(Schema::new(nullable));
        let idx = |name: &str| full.index_of(name).ok();
        Validator {
            feed,
            key_cols: table.primary_key().iter().filter_map(|k| idx(k)).collect(),
            provider_col: roles.provider.and_then(idx),
            date_order: roles
                .date_order
                .iter()
                .filter_map(|(a, b)| Some((idx(a)?, idx(b)?)))
                .collect(),
            schema,
            plans,
            header_len: map.header_len(),
            known,
            roles,
        }
    }

    /// The (all-nullable) schema of validated batches.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Validates one chunk.
    pub fn validate(&self, chunk: &RawChunk) -> Validated {
        let n = chunk.rows.len();
        // Columns the file does not supply are filled with nulls in one go at
        // the end; only mapped columns have builders.
        let mut builders: Vec<Option<Builder>> =
            self.plans.iter().map(|p| p.input.map(|_| Builder::new(p.kind, n))).collect();
        let mut out = Validated {
            index: chunk.index,
            batch: RecordBatch::new_empty(self.schema.clone()),
            lines: Vec::with_capacity(n),
            rejected: vec![false; n],
            nhs: vec![None; n],
            keys: vec![None; n],
            faults: Vec::new(),
            dq: DqAcc::default(),
            placeholders: 0,
        };
        let mut fields: Vec<&[u8]> = Vec::with_capacity(self.header_len);
        // UTF-8 is checked once for the whole chunk (nearly always valid),
        // not once per cell.
        let whole = std::str::from_utf8(&chunk.data).ok();
        // Per provider (raw bytes, so the hot loop does not allocate): index
        // into `tallies`.
        let mut slots: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut tallies: Vec<(Vec<u8>, Vec<[u64; 3]>)> = Vec::new();
        let mut last_slot: Option<usize> = None;
        for row in 0..n {
            let line = chunk.rows[row].0;
            out.lines.push(line);
            fields.clear();
            fields.extend(chunk.fields(row));
            if fields.len() != self.header_len {
                let reason = if fields.len() < self.header_len {
                    format!("has {} fields but the header has {} (too few: truncated line?)", fields.len(), self.header_len)
                } else {
                    format!("has {} fields but the header has {} (too many: unescaped delimiter?)", fields.len(), self.header_len)
                };
                out.faults.push(Fault { line, field: "-".into(), reason, action: Action::Rejected });
                out.rejected[row] = true;
                for b in builders.iter_mut().flatten() {
                    b.null();
                }
                continue;
            }
            let provider = self.provider_raw(&fields);
            // A provider's rows usually come together: reuse the last slot.
            let slot = match last_slot.filter(|&i| tallies[i].0 == provider).or_else(|| slots.get(provider).copied()) {
                Some(i) => i,
                None => {
                    slots.insert(provider.to_vec(), tallies.len());
                    tallies.push((provider.to_vec(), vec![[0; 3]; self.plans.len()]));
                    tallies.len() - 1
                }
            };
            last_slot = Some(slot);
            let counts = &mut tallies[slot].1;
            for (c, plan) in self.plans.iter().enumerate() {
                counts[c][0] += 1;
                let (Some(input), Some(builder)) = (plan.input, builders[c].as_mut()) else { continue };
                let raw = trim(fields[input]);
                if raw.is_empty() && !plan.required {
                    builder.null();
                    continue;
                }
                let parsed = match cell_text(whole, &chunk.data, raw) {
                    Err(_) => Err(("is not valid UTF-8 text", Action::Nulled)),
                    Ok("") => Ok(Value::Blank),
                    Ok(text) if plan.placeholders.iter().any(|p| p == text) => {
                        out.placeholders += 1;
                        Ok(Value::Blank)
                    }
                    Ok(text) if plan.zero_pad.is_some_and(|w| text.len() < w && text.bytes().all(|b| b.is_ascii_digit())) => {
                        Ok(Value::Owned(format!("{text:0>w$}", w = plan.zero_pad.unwrap_or(0))))
                    }
                    Ok(text) => self.parse(plan.kind, text),
                };
                if !raw.is_empty() {
                    counts[c][1] += 1;
                }
                let parsed = match parsed {
                    Ok(Value::Blank) if plan.required => Err(("is required but blank", Action::Rejected)),
                    Err((reason, _)) if plan.required => Err((reason, Action::Rejected)),
                    other => other,
                };
                match parsed {
                    Ok(v) => {
                        if !matches!(v, Value::Blank) {
                            counts[c][2] += 1;
                        }
                        if plan.kind == Kind::Nhs {
                            if let Value::Owned(ref s) = v {
                                out.nhs[row] = s.parse().ok();
                            }
                        }
                        builder.push(v);
                    }
                    Err((reason, action)) => {
                        out.faults.push(Fault { line, field: plan.name.clone(), reason: reason.into(), action });
                        if action == Action::Rejected {
                            out.rejected[row] = true;
                        }
                        if action == Action::Kept {
                            builder.push(Value::Str(std::str::from_utf8(raw).unwrap_or("")));
                        } else {
                            builder.null();
                        }
                    }
                }
            }
            if !self.key_cols.is_empty() && !out.rejected[row] {
                out.keys[row] = Some(self.key_of(&fields));
            }
        }
        for (raw, counts) in tallies {
            out.dq.merge(DqAcc { by_provider: HashMap::from([(provider_name(&raw), counts)]) });
        }
        let columns: Vec<ArrayRef> = builders
            .into_iter()
            .zip(self.schema.fields())
            .map(|(b, f)| match b {
                Some(b) => b.finish(),
                None => arrow::array::new_null_array(f.data_type(), n),
            })
            .collect();
        out.batch = RecordBatch::try_new(self.schema.clone(), columns).expect("builders match the schema");
        self.check_date_order(&mut out);
        out.batch = self.standardise(out.batch);
        out
    }

    fn provider_raw<'f>(&self, fields: &[&'f [u8]]) -> &'f [u8] {
        match self.provider_col.and_then(|c| self.plans[c].input) {
            Some(i) => trim(fields[i]),
            None => b"ALL",
        }
    }

    fn key_of(&self, fields: &[&[u8]]) -> RowKey {
        let raw = |c: usize| self.plans[c].input.map_or(&b""[..], |i| trim(fields[i]));
        if let [c] = self.key_cols[..] {
            let k = raw(c);
            if !k.is_empty() && k.len() <= 19 && k.iter().all(u8::is_ascii_digit) {
                if let Ok(n) = std::str::from_utf8(k).unwrap_or("x").parse() {
                    return RowKey::Number(n);
                }
            }
        }
        use siphasher::sip128::Hasher128;
        use std::hash::Hasher;
        let mut h = siphasher::sip128::SipHasher13::new();
        for &c in &self.key_cols {
            h.write(raw(c));
            h.write_u8(0x1f);
        }
        RowKey::Hash(h.finish128().as_u128())
    }

    fn parse<'a>(&self, kind: Kind, text: &'a str) -> Parsed<'a> {
        match kind {
            Kind::Code(max) => {
                if text.len() > max {
                    Err(("is longer than the field allows", Action::Nulled))
                } else if text.bytes().any(|b| b.is_ascii_lowercase()) {
                    Ok(Value::Owned(text.to_ascii_uppercase()))
                } else {
                    Ok(Value::Str(text))
                }
            }
            Kind::Text(max) => match max {
                Some(m) if text.chars().count() > m => Err(("is longer than the field allows", Action::Nulled)),
                _ => Ok(Value::Str(text)),
            },
            Kind::Int32 => match parse_int(text) {
                Some(v) if i32::try_from(v).is_ok() => Ok(Value::I64(v)),
                Some(_) => Err(("is out of range", Action::Nulled)),
                None => Err(("is not a whole number", Action::Nulled)),
            },
            Kind::Int64 => parse_int(text).map(Value::I64).ok_or(("is not a whole number", Action::Nulled)),
            Kind::Money => parse_money(text).map(Value::I64).ok_or(("is not an amount of money", Action::Nulled)),
            Kind::Float => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Value::F64(v)),
                _ => Err(("is not a number", Action::Nulled)),
            },
            Kind::Date => match HesDate::parse(text) {
                Ok(HesDate::Known(d)) => Ok(Value::Date(d.days())),
                // HES's 1800-01-01 / 1801-01-01: null and invalid submitted.
                Ok(_) => Err(("holds a null-or-invalid date sentinel", Action::Nulled)),
                Err(_) => Err(("is not a valid date", Action::Nulled)),
            },
            Kind::Time => parse_time(text).map(Value::Owned).ok_or(("is not a valid time", Action::Nulled)),
            Kind::DateTime => parse_datetime(text).map(Value::I64).ok_or(("is not a valid date-time", Action::Nulled)),
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "y" | "yes" => Ok(Value::Bool(true)),
                "false" | "f" | "0" | "n" | "no" => Ok(Value::Bool(false)),
                _ => Err(("is not true or false", Action::Nulled)),
            },
            Kind::Nhs => match NhsNumber::parse(text) {
                Ok(n) => Ok(Value::Owned(n.expose())),
                // An NHS number that fails its check cannot be opted out or
                // linked safely, so the row is rejected.
                Err(_) => Err(("is not a valid NHS number (format or check digit)", Action::Rejected)),
            },
            Kind::Icd10 => match Icd10::normalise(text) {
                Ok(code) if code.as_str() == text => Ok(Value::Str(text)),
                Ok(code) => Ok(Value::Owned(code.as_str().to_owned())),
                Err(_) => Err(("is not an ICD-10 code", Action::Nulled)),
            },
            Kind::Opcs => match ProcedureField::parse(text) {
                Ok(None) => Ok(Value::Blank),
                Ok(Some(ProcedureField::NoOperation)) => Ok(Value::Str("-")),
                Ok(Some(ProcedureField::NotKnown)) => Ok(Value::Str("&")),
                Ok(Some(ProcedureField::Code(c))) if c.as_str() == text => Ok(Value::Str(text)),
                Ok(Some(ProcedureField::Code(c))) => Ok(Value::Owned(c.as_str().to_owned())),
                Err(_) => Err(("is not an OPCS-4 code", Action::Nulled)),
            },
            Kind::Practice => match PracticeField::parse(text) {
                Ok(PracticeField::Practice(code)) if code.as_str() == text => self.known_org(Value::Str(text)),
                Ok(PracticeField::Practice(code)) => self.known_org(Value::Owned(code.as_str().to_owned())),
                Ok(default) => Ok(Value::Owned(default.as_code().to_owned())),
                Err(_) => Err(("is not a GP practice code", Action::Nulled)),
            },
            Kind::Org => {
                if text.len() > 9 || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    Err(("is not an organisation code", Action::Nulled))
                } else if text.bytes().any(|b| b.is_ascii_lowercase()) {
                    self.known_org(Value::Owned(text.to_ascii_uppercase()))
                } else {
                    self.known_org(Value::Str(text))
                }
            }
        }
    }

    fn known_org<'a>(&self, code: Value<'a>) -> Parsed<'a> {
        let text = match &code {
            Value::Str(s) => *s,
            Value::Owned(s) => s.as_str(),
            _ => "",
        };
        if self.known.orgs.is_empty() || self.known.orgs.contains(text) {
            Ok(code)
        } else {
            Err(("is not an organisation code in the reference data", Action::Kept))
        }
    }

    /// Rejects rows whose dates are out of order (e.g. discharge before admission).
    fn check_date_order(&self, out: &mut Validated) {
        for &(a, b) in &self.date_order {
            let first = out.batch.column(a).as_any().downcast_ref::<Date32Array>().expect("date column");
            let second = out.batch.column(b).as_any().downcast_ref::<Date32Array>().expect("date column");
            for row in 0..out.lines.len() {
                if out.rejected[row] || first.is_null(row) || second.is_null(row) {
                    continue;
                }
                if first.value(row) > second.value(row) {
                    out.rejected[row] = true;
                    let (fa, fb) = (&self.plans[a].name, &self.plans[b].name);
                    out.faults.push(Fault {
                        line: out.lines[row],
                        field: fb.clone(),
                        reason: format!("{fb} is before {fa}"),
                        action: Action::Rejected,
                    });
                }
            }
        }
    }

    /// Fills derivable blanks: age at activity from date of birth, LSOA from
    /// postcode (datasets.md §10.0: the pseudonymised zones keep age and
    /// LSOA, never date of birth or postcode).
    fn standardise(&self, batch: RecordBatch) -> RecordBatch {
        if self.feed.origin != Origin::Local {
            return batch;
        }
        let mut columns = batch.columns().to_vec();
        let idx = |name: Option<&str>| name.and_then(|n| self.schema.index_of(n).ok());
        if let (Some(age), Some(dob), Some(at)) = (idx(self.roles.age), idx(self.roles.dob), idx(self.roles.activity_date)) {
            let dobs = columns[dob].as_any().downcast_ref::<Date32Array>().expect("DOB is a date").clone();
            let dates = columns[at].as_any().downcast_ref::<Date32Array>().expect("activity date").clone();
            if let Some(ages) = columns[age].as_any().downcast_ref::<Int32Array>() {
                let filled: Int32Array = (0..ages.len())
                    .map(|i| {
                        if ages.is_valid(i) {
                            Some(ages.value(i))
                        } else if dobs.is_valid(i) && dates.is_valid(i) {
                            Some(Date::from_days(dates.value(i)).age_on(Date::from_days(dobs.value(i))))
                        } else {
                            None
                        }
                    })
                    .collect();
                columns[age] = Arc::new(filled);
            }
        }
        if let (Some(lsoa), Some(pc)) = (idx(self.roles.lsoa), idx(self.roles.postcode)) {
            if !self.known.postcode_lsoa.is_empty() {
                let lsoas = columns[lsoa].as_any().downcast_ref::<StringArray>().expect("LSOA text").clone();
                let pcs = columns[pc].as_any().downcast_ref::<StringArray>().expect("postcode text").clone();
                let filled: StringArray = (0..lsoas.len())
                    .map(|i| {
                        if lsoas.is_valid(i) {
                            Some(lsoas.value(i).to_owned())
                        } else if pcs.is_valid(i) {
                            self.known.postcode_lsoa.get(&normalise_postcode(pcs.value(i))).cloned()
                        } else {
                            None
                        }
                    })
                    .collect();
                columns[lsoa] = Arc::new(filled);
            }
        }
        self.fill_imd(&mut columns);
        RecordBatch::try_new(batch.schema(), columns).expect("same shapes")
    }

    /// IMD_DECILE from the LSOA (2021, else 2011) where it is blank.
    fn fill_imd(&self, columns: &mut [ArrayRef]) {
        let Ok(imd) = self.schema.index_of("IMD_DECILE") else { return };
        if self.known.lsoa_imd.is_empty() {
            return;
        }
        let text = |name: &str| self.schema.index_of(name).ok().and_then(|i| columns[i].as_any().downcast_ref::<StringArray>().cloned());
        let lsoas: Vec<StringArray> = [self.roles.lsoa.unwrap_or("LSOA21"), "LSOA11"].iter().filter_map(|n| text(n)).collect();
        let Some(deciles) = columns[imd].as_any().downcast_ref::<Int32Array>().cloned() else { return };
        let filled: Int32Array = (0..deciles.len())
            .map(|i| {
                if deciles.is_valid(i) {
                    return Some(deciles.value(i));
                }
                lsoas.iter().find_map(|a| a.is_valid(i).then(|| self.known.lsoa_imd.get(a.value(i)).copied()).flatten())
            })
            .collect();
        columns[imd] = Arc::new(filled);
    }
}

use arrow::array::Array;

/// A cell of `data` as text: sliced from `whole` (the chunk, when it is all
/// valid UTF-8) or checked alone. Cells are split and trimmed at ASCII
/// bytes, so a slice of valid text is on character boundaries.
fn cell_text<'a>(whole: Option<&'a str>, data: &[u8], raw: &'a [u8]) -> Result<&'a str, std::str::Utf8Error> {
    match whole {
        Some(text) => {
            let start = raw.as_ptr() as usize - data.as_ptr() as usize;
            Ok(&text[start..start + raw.len()])
        }
        None => std::str::from_utf8(raw),
    }
}

/// The data-quality report's name for a provider value: the code only when
/// it has the shape of an ODS provider code (3 to 5 letters and digits, at
/// least one letter). Anything else may be a misplaced patient value (an
/// NHS number or date in a shifted row) and the report must not repeat it
/// (issue 14 item 1).
fn provider_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok("") => "(blank)".to_owned(),
        Ok(s) if (3..=5).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric())
            && s.bytes().any(|b| b.is_ascii_alphabetic()) =>
        {
            s.to_ascii_uppercase()
        }
        _ => "(invalid)".to_owned(),
    }
}

/// Upper case with one space before the inward code: `za14 1aa` → `ZA14 1AA`.
pub fn normalise_postcode(text: &str) -> String {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    if compact.len() > 3 {
        let (out, inw) = compact.split_at(compact.len() - 3);
        format!("{out} {inw}")
    } else {
        compact
    }
}

fn kind_of(table: Table, field: &Field, roles: &Roles) -> Kind {
    let name = field.name().as_str();
    let canonical = field.metadata().get(CANONICAL_TYPE).map(String::as_str).unwrap_or("str");
    if Some(name) == roles.nhs {
        return Kind::Nhs;
    }
    if is_icd10(table, name) {
        return Kind::Icd10;
    }
    if name.starts_with("OPERTN_4_") && !name.ends_with("CONCAT") {
        return Kind::Opcs;
    }
    if matches!(name, "GPPRAC" | "PRACTICE_CODE_PATIENT_REGISTRATION" | "GP_PRACTICE_CODE")
        || (name == "PRACTICE" && table != Table::Org)
    {
        return Kind::Practice;
    }
    if matches!(name, "PROCODE3" | "PROVIDER_CODE" | "SITETRET" | "SITE") && !table.is_reference() {
        return Kind::Org;
    }
    match field.data_type() {
        DataType::Int32 => Kind::Int32,
        DataType::Int64 if canonical == "money" => Kind::Money,
        DataType::Int64 => Kind::Int64,
        DataType::Float64 => Kind::Float,
        DataType::Date32 => Kind::Date,
        DataType::Boolean => Kind::Bool,
        DataType::Timestamp(_, _) => Kind::DateTime,
        _ if canonical == "time" => Kind::Time,
        _ => {
            let width = canonical
                .split_once('(')
                .and_then(|(_, rest)| rest.trim_end_matches(')').parse().ok());
            if canonical.starts_with("code") {
                Kind::Code(width.unwrap_or(usize::MAX))
            } else {
                Kind::Text(width)
            }
        }
    }
}

fn is_icd10(table: Table, name: &str) -> bool {
    let numbered = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
    };
    numbered("DIAG_4_")
        || name == "CAUSE_4"
        || name == "CAUSE_3"
        || (table == Table::Death && (name == "S_UNDERLYING_COD_ICD10" || numbered("S_COD_CODE_")))
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |p| p + 1);
    &b[start..end]
}

/// A whole number, allowing a zero fraction (`54.0`, as the artificial HES
/// files write ages and counts).
fn parse_int(text: &str) -> Option<i64> {
    let t = match text.split_once('.') {
        Some((whole, frac)) if frac.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => text,
    };
    if t.is_empty() || t == "-" {
        return None;
    }
    t.parse().ok()
}

/// Money in pence. A plain integer is pence (the canonical unit); a value
/// with a decimal point is pounds with at most two decimals.
fn parse_money(text: &str) -> Option<i64> {
    match text.split_once('.') {
        None => text.parse().ok(),
        Some((pounds, pence)) => {
            if pence.is_empty() || pence.len() > 2 || !pence.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let negative = pounds.starts_with('-');
            let whole: i64 = if pounds.is_empty() || pounds == "-" { 0 } else { pounds.parse().ok()? };
            let frac: i64 = format!("{pence:0<2}").parse().ok()?;
            let total = whole.checked_abs()?.checked_mul(100)?.checked_add(frac)?;
            Some(if negative || whole < 0 { -total } else { total })
        }
    }
}

/// `HH:MM`, `HH:MM:SS` or HES A&E `hhmm` to `HH:MM[:SS]`; HES's `3000` and
/// `4000` sentinels are not times.
fn parse_time(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let (h, m, s) = match b.len() {
        4 if digits(b) => (&text[0..2], &text[2..4], None),
        5 if b[2] == b':' => (&text[0..2], &text[3..5], None),
        8 if b[2] == b':' && b[5] == b':' => (&text[0..2], &text[3..5], Some(&text[6..8])),
        _ => return None,
    };
    let hv: u32 = h.parse().ok()?;
    let mv: u32 = m.parse().ok()?;
    let sv: Option<u32> = match s {
        Some(s) => Some(s.parse().ok()?),
        None => None,
    };
    if hv > 23 || mv > 59 || sv.is_some_and(|s| s > 59) {
        return None;
    }
    Some(match sv {
        Some(sv) => format!("{hv:02}:{mv:02}:{sv:02}"),
        None => format!("{hv:02}:{mv:02}"),
    })
}

/// `YYYY-MM-DD[T ]HH:MM[:SS]` to microseconds since 1970.
fn parse_datetime(text: &str) -> Option<i64> {
    if text.len() < 16 {
        return None;
    }
    let date = Date::parse(&text[..10]).ok()?;
    let sep = text.as_bytes()[10];
    if sep != b'T' && sep != b' ' {
        return None;
    }
    let time = parse_time(text[11..].trim_end_matches('Z'))?;
    let h: i64 = time[0..2].parse().ok()?;
    let m: i64 = time[3..5].parse().ok()?;
    let s: i64 = if time.len() == 8 { time[6..8].parse().ok()? } else { 0 };
    Some(((date.days() as i64 * 86_400) + h * 3600 + m * 60 + s) * 1_000_000)
}

enum Builder {
    Str(StringBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    F64(Float64Builder),
    Date(Date32Builder),
    Bool(BooleanBuilder),
    Ts(TimestampMicrosecondBuilder),
}

impl Builder {
    fn new(kind: Kind, n: usize) -> Builder {
        match kind {
            Kind::Int32 => Builder::I32(Int32Builder::with_capacity(n)),
            Kind::Int64 | Kind::Money => Builder::I64(Int64Builder::with_capacity(n)),
            Kind::Float => Builder::F64(Float64Builder::with_capacity(n)),
            Kind::Date => Builder::Date(Date32Builder::with_capacity(n)),
            Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(n)),
            Kind::DateTime => Builder::Ts(TimestampMicrosecondBuilder::with_capacity(n)),
            _ => Builder::Str(StringBuilder::with_capacity(n, n * 8)),
        }
    }

    fn null(&mut self) {
        match self {
            Builder::Str(b) => b.append_null(),
            Builder::I32(b) => b.append_null(),
            Builder::I64(b) => b.append_null(),
            Builder::F64(b) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Bool(b) => b.append_null(),
            Builder::Ts(b) => b.append_null(),
        }
    }

    fn push(&mut self, v: Value<'_>) {
        match (self, v) {
            (b, Value::Blank) => b.null(),
            (Builder::Str(b), Value::Str(s)) => b.append_value(s),
            (Builder::Str(b), Value::Owned(s)) => b.append_value(s),
            (Builder::I32(b), Value::I64(x)) => b.append_value(x as i32),
            (Builder::I64(b), Value::I64(x)) => b.append_value(x),
            (Builder::Ts(b), Value::I64(x)) => b.append_value(x),
            (Builder::F64(b), Value::F64(x)) => b.append_value(x),
            (Builder::Date(b), Value::Date(x)) => b.append_value(x),
            (Builder::Bool(b), Value::Bool(x)) => b.append_value(x),
            (b, _) => b.null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Builder::Str(mut b) => Arc::new(b.finish()),
            Builder::I32(mut b) => Arc::new(b.finish()),
            Builder::I64(mut b) => Arc::new(b.finish()),
            Builder::F64(mut b) => Arc::new(b.finish()),
            Builder::Date(mut b) => Arc::new(b.finish()),
            Builder::Bool(mut b) => Arc::new(b.finish()),
            Builder::Ts(mut b) => Arc::new(b.finish()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::split_lines;
    use proptest::prelude::*;

    /// Validates pipe-delimited `rows` (no header) of `op_attendance` with
    /// the given header.
    fn run(header: &[&str], body: &[u8]) -> Validated {
        let feed = Feed::parse("op_attendance").unwrap();
        let names: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        let map = HeaderMap::new(std::path::Path::new("t.psv"), feed, &names).unwrap();
        let v = Validator::new(feed, &map, Arc::new(KnownCodes::default()), &NullPlaceholders::default());
        v.validate(&split_lines(0, 2, body.to_vec()))
    }

    const HEADER: [&str; 6] = ["ATTENDKEY", "NEWNHSNO", "APPTDATE", "REQDATE", "ATTENDED", "GPPRAC"];

    proptest! {
        /// Whatever the bytes, every row is accounted for, faults name a
        /// line and a field of the header, and no fault repeats a value.
        #[test]
        fn faults_locate_rows_and_never_repeat_values(
            rows in proptest::collection::vec(
                proptest::collection::vec(proptest::collection::vec(
                    prop_oneof![Just(b'9'), Just(b'4'), Just(b'-'), Just(b'A'), Just(b'|'), Just(0xffu8), Just(b' '), (b'0'..=b'9')],
                    0..12), 6), 1..20),
        ) {
            let mut body = Vec::new();
            for r in &rows {
                body.extend(r.join(&b'|'));
                body.push(b'\n');
            }
            let v = run(&HEADER, &body);
            prop_assert_eq!(v.lines.len(), v.rejected.len());
            prop_assert_eq!(v.batch.num_rows(), v.lines.len());
            let last = 1 + v.lines.len() as u64 + rows.len() as u64;
            for f in &v.faults {
                prop_assert!(f.line >= 2 && f.line <= last);
                prop_assert!(f.field == "-" || v.batch.schema().field_with_name(&f.field).is_ok());
                for r in &rows {
                    // Trimmed: a value like " 12 " would otherwise "appear" in a
                    // structural message such as "has 12 fields".
                    for value in r.iter().filter(|x| x.trim_ascii().len() >= 4) {
                        let shown = String::from_utf8_lossy(value.trim_ascii());
                        prop_assert!(!f.reason.contains(shown.as_ref()), "reason {:?} repeats a value", f.reason);
                    }
                }
            }
            // A row is rejected exactly when some fault rejected it.
            for (i, line) in v.lines.iter().enumerate() {
                let has = v.faults.iter().any(|f| f.line == *line && f.action == Action::Rejected);
                prop_assert_eq!(has, v.rejected[i]);
            }
        }
    }

    /// Validates `apc_episode` rows with `known` and `placeholders`.
    fn run_apc(header: &[&str], body: &[u8], known: KnownCodes, placeholders: &NullPlaceholders) -> Validated {
        let feed = Feed::parse("apc_episode").unwrap();
        let names: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        let map = HeaderMap::new(std::path::Path::new("t.psv"), feed, &names).unwrap();
        Validator::new(feed, &map, Arc::new(known), placeholders).validate(&split_lines(0, 2, body.to_vec()))
    }

    #[test]
    fn placeholders_are_null_without_a_fault_and_invalid_codes_stay_faults() {
        let header = ["EPIKEY", "NEWNHSNO", "EPISTART", "DIAG_4_01", "DIAG_4_02", "CAUSE_4", "OPERTN_4_01", "MAINSPEF", "EPIORDER"];
        // Line 2: `-` in DIAG_4_02 and CAUSE_4, `&` in DIAG_4_01: three
        // placeholders. The procedure `-` (no operation) and the specialty
        // `&` (not known) are values and stay. Line 3: `Q9Z` is not ICD-10.
        let body = b"1|9434765919|2024-05-01|&|-|-|-|&|1\n2|9434765919|2024-05-01|I500|Q9Z||X999|300|02\n";
        let v = run_apc(&header, body, KnownCodes::default(), &NullPlaceholders::default());
        assert_eq!(v.placeholders, 3);
        let faults: Vec<(u64, &str)> = v.faults.iter().map(|f| (f.line, f.field.as_str())).collect();
        assert_eq!(faults, [(3, "DIAG_4_02")]);
        let col = |name: &str| v.batch.column_by_name(name).unwrap().as_any().downcast_ref::<StringArray>().unwrap().clone();
        assert!(col("DIAG_4_02").is_null(0) && col("CAUSE_4").is_null(0) && col("DIAG_4_01").is_null(0));
        assert_eq!((col("OPERTN_4_01").value(0), col("MAINSPEF").value(0)), ("-", "&"));
        // EPIORDER `1` (artificial HES) is HES's `01`.
        assert_eq!((col("EPIORDER").value(0), col("EPIORDER").value(1)), ("01", "02"));
        // With no placeholders configured, the dashes are faults again.
        let strict = run_apc(&header, body, KnownCodes::default(), &NullPlaceholders::none());
        assert_eq!(strict.placeholders, 0);
        assert_eq!(strict.faults.iter().filter(|f| f.line == 2).count(), 3);
    }

    #[test]
    fn imd_deciles_are_filled_from_the_lsoa_where_a_flow_gives_none() {
        let header = ["EPIKEY", "NEWNHSNO", "EPISTART", "LSOA21", "LSOA11", "IMD_DECILE"];
        let mut known = KnownCodes::default();
        known.lsoa_imd.insert("E01000001".into(), 9);
        known.lsoa_imd.insert("E01012345".into(), 1);
        // Given (kept), from LSOA21, from LSOA11 when LSOA21 is unknown, and
        // neither known (stays null).
        let body = b"1|9434765919|2024-05-01|E01000001||4\n2|9434765919|2024-05-01|E01000001||\n3|9434765919|2024-05-01|E01033999|E01012345|\n4|9434765919|2024-05-01|E01033999||\n";
        let v = run_apc(&header, body, known, &NullPlaceholders::default());
        let imd = v.batch.column_by_name("IMD_DECILE").unwrap().as_any().downcast_ref::<Int32Array>().unwrap().clone();
        assert_eq!((0..4).map(|i| imd.is_valid(i).then(|| imd.value(i))).collect::<Vec<_>>(), [Some(4), Some(9), Some(1), None]);
    }

    #[test]
    fn a_valid_row_passes_and_each_kind_of_fault_is_classified() {
        // 9434765919 is a valid NHS number (check digit 9).
        let v = run(&HEADER, b"1|9434765919|2024-05-01|2024-04-01|5|A81001\n2|9434765918|2024-05-01||5|\n3||2024-05-01|2024-06-01|5|\n4||01/05/2024||x|a81001\n");
        assert_eq!(v.rejected, [false, true, true, false]);
        assert_eq!(v.nhs[0], Some(9_434_765_919));
        let by_line = |l: u64| v.faults.iter().filter(|f| f.line == l).map(|f| (f.field.as_str(), f.action)).collect::<Vec<_>>();
        assert!(by_line(2).is_empty());
        assert_eq!(by_line(3), [("NEWNHSNO", Action::Rejected)]);
        assert_eq!(by_line(4), [("APPTDATE", Action::Rejected)], "the appointment precedes its referral");
        assert!(by_line(5).is_empty(), "DD/MM/YYYY dates and lower-case codes are standardised");
        let gp = v.batch.column_by_name("GPPRAC").unwrap().as_any().downcast_ref::<StringArray>().unwrap().clone();
        assert_eq!(gp.value(3), "A81001");
        let date = v.batch.column_by_name("APPTDATE").unwrap().as_any().downcast_ref::<Date32Array>().unwrap().clone();
        assert_eq!(date.value(3), Date::from_ymd(2024, 5, 1).unwrap().days());
    }

    #[test]
    fn text_is_checked_once_per_chunk_and_invalid_bytes_only_null_their_cell() {
        // Valid UTF-8 with multi-byte characters: cells are sliced from the
        // chunk's text. Ä81001 is not a practice code; the row stays.
        let v = run(&HEADER, "1|9434765919|2024-05-01||5|Ä81001\n2|9434765919|2024-05-02||ë|A81001\n".as_bytes());
        assert_eq!(v.rejected, [false, false]);
        let fields: Vec<(u64, &str)> = v.faults.iter().map(|f| (f.line, f.field.as_str())).collect();
        assert_eq!(fields, [(2, "GPPRAC"), (3, "ATTENDED")]);
        // One invalid byte: that cell alone is nulled as not text.
        let v = run(&HEADER, b"1|9434765919|2024-05-01||5|A8\xff001\n2|9434765919|2024-05-02||5|A81001\n");
        assert_eq!(v.faults.len(), 1);
        assert_eq!((v.faults[0].line, v.faults[0].field.as_str(), v.faults[0].reason.as_str()), (2, "GPPRAC", "is not valid UTF-8 text"));
        let gp = v.batch.column_by_name("GPPRAC").unwrap().as_any().downcast_ref::<StringArray>().unwrap().clone();
        assert!(gp.is_null(0));
        assert_eq!(gp.value(1), "A81001");
    }

    #[test]
    fn numbers_money_and_times_parse_as_documented() {
        assert_eq!(parse_int("54.0"), Some(54));
        assert_eq!(parse_int("54.5"), None);
        assert_eq!(parse_int("-3"), Some(-3));
        assert_eq!(parse_money("191072"), Some(191_072));
        assert_eq!(parse_money("1910.72"), Some(191_072));
        assert_eq!(parse_money("-0.5"), Some(-50));
        assert_eq!(parse_money("1.234"), None);
        assert_eq!(parse_time("1016").as_deref(), Some("10:16"));
        assert_eq!(parse_time("3000"), None);
        assert_eq!(parse_time("14:00:00").as_deref(), Some("14:00:00"));
        assert_eq!(parse_time("24:00"), None);
        // 2024-09-12 is day 19978 since 1970-01-01; 09:00 adds 32,400 s.
        assert_eq!(parse_datetime("2024-09-12T09:00:00"), Some((19_978 * 86_400 + 32_400) * 1_000_000));
        assert_eq!(normalise_postcode(" za14  1aa"), "ZA14 1AA");
    }
}

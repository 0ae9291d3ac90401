//! The `apc_spell_derived` dataset: provider spells derived once from a zone's APC
//! episodes, clustered by person and in admission order, so that indicators
//! read one row per spell and person-history measures (30-day
//! readmissions) are a linear scan here rather than a self-join or window
//! at query time (issue 5 §6).
//!
//! It is a derived dataset (`haven_store::derived_source`): gathered as a
//! zone's first APC load streams (`Streamed`), rebuilt from every load by
//! [`refresh`] after later loads, and invisible to sessions once its episodes
//! change, so it never answers for data no longer there. Without it the
//! analytics engine derives spells from episodes in SQL; that SQL is the
//! reference definition, and this module reproduces it exactly (the
//! engine's tests compare the two on the same data):
//!
//! - episodes are grouped by `haven_model::rules::spell_key` (SUSSPELLID,
//!   else provider + PROVSPNOPS, else person + provider + ADMIDATE), and
//!   the report counts how many episodes each rule keyed;
//! - the spell's person, provider, ICB, sub-ICB, practice, sex, ethnicity,
//!   IMD decile and patient class are the least value over its episodes;
//!   admission date the earliest, discharge date and discharge-ready date
//!   the latest; the RTT period the shortest;
//! - admission method, elective duration, main specialty, admission source,
//!   episode status and type, patient class at admission, age and the
//!   clinical codes come from the episode with `EPIORDER` 01;
//! - discharge destination and method from an episode ending on its own
//!   discharge date;
//! - `cancer` is 1 when any episode codes cancer or chemotherapy in any
//!   diagnosis position (the readmission exclusion's default code list);
//! - the next spell of the same person, ordered by admission date,
//!   discharge date and spell number (nulls last), gives `next_admidate`;
//! - continuous inpatient spells link each spell to the person's previous
//!   one in that order (`haven_model::rules::continues`); every spell
//!   carries its CIP's key (`cips`, its first spell; `cip_first` marks
//!   that spell, a column cheaper to filter on than two keys), discharge (null
//!   while a spell is open), whether any spell ended in death, and whether
//!   any of its spells codes cancer or chemotherapy (`cip_cancer`): the
//!   readmission fields; and, at each CIP's first spell, how many
//!   readmissions count against it under the default options
//!   (`readmitted_default`, by `haven_model::rules::readmitted`; the engine
//!   pairs in SQL for other options);
//! - the chronic ACSC, urgent-care-sensitive (with the default age limits)
//!   and EBI classifications are the `haven_model::rules` functions on the
//!   first episode's codes, as the engine's SQL functions compute them.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, BooleanArray, Date32Array, Date32Builder, Int32Array, Int32Builder, StringArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use hashbrown::{DefaultHashBuilder, HashTable};
use haven_model::rules::avoidable::{classify_admission, CodedAdmission, UcsOptions};
use haven_model::date::Date;
use haven_model::rules::readmission::{is_cancer_or_chemotherapy, readmitted, CipSpell, ReadmissionOptions, CANCER_OR_CHEMOTHERAPY};
use haven_model::rules::{spell_key_into, SpellKeyFields, SpellKeyRule, SpellLinkFields};
use haven_store::{derived_source, FileRecord, LoadRecord, LoadStatus, Store, Zone, ZoneCounts};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::IngestError;

/// The derived dataset's name.
pub const DATASET: &str = "apc_spell_derived";
/// What it is derived from.
pub const SOURCE: &str = "apc_episode";
/// The zones whose episodes analytics reads.
pub const ZONES: [Zone; 2] = [Zone::Pseudonymised, Zone::National];

/// Rows per output batch.
const BATCH: usize = 64 * 1024;
/// A null date or integer in the accumulators.
const NULL: i32 = i32::MIN;
/// A missing string (arena span) or person.
const NONE: u64 = u64::MAX;
const NO_PERSON: u32 = u32::MAX;

/// What one rebuild did.
#[derive(Clone, Debug, Serialize)]
pub struct SpellReport {
    pub zone: String,
    pub episodes: u64,
    pub spells: u64,
    /// How many episodes each rule of the spell key order keyed.
    pub keyed: Keyed,
    /// Seconds spent deriving after the episodes were committed.
    pub seconds: f64,
    /// When the spells were gathered as the load streamed its episodes: the
    /// seconds that took alongside the load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streamed_seconds: Option<f64>,
    /// The new load, or `None` when the dataset was already current.
    pub load_id: Option<String>,
}

/// How many episodes each rule of the spell key order
/// (`haven_model::rules::spell_key`) keyed, and how many no rule could key
/// (no SUSSPELLID, spell number, or person and admission date: they build
/// no spell).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Keyed {
    pub sus_spell_id: u64,
    pub provider_spell_number: u64,
    pub person_provider_admission: u64,
    pub unkeyed: u64,
}

impl Keyed {
    fn add(&mut self, rule: SpellKeyRule) {
        *match rule {
            SpellKeyRule::SusSpellId => &mut self.sus_spell_id,
            SpellKeyRule::ProviderSpellNumber => &mut self.provider_spell_number,
            SpellKeyRule::PersonProviderAdmission => &mut self.person_provider_admission,
        } += 1;
    }

    fn merge(&mut self, o: &Keyed) {
        self.sus_spell_id += o.sus_spell_id;
        self.provider_spell_number += o.provider_spell_number;
        self.person_provider_admission += o.person_provider_admission;
        self.unkeyed += o.unkeyed;
    }

    /// Each rule that keyed any episode, with its count, in key order.
    pub fn used(&self) -> Vec<(SpellKeyRule, u64)> {
        let n = [self.sus_spell_id, self.provider_spell_number, self.person_provider_admission];
        SpellKeyRule::ALL.into_iter().zip(n).filter(|(_, n)| *n > 0).collect()
    }
}

/// Rebuilds `apc_spell_derived` in every zone whose episodes changed since it was
/// last built (a no-op otherwise, so re-running a load stays idempotent).
pub fn refresh(store: &mut Store) -> Result<Vec<SpellReport>, IngestError> {
    let mut out = Vec::new();
    for zone in ZONES {
        let has_source = !store.catalog().files(zone, SOURCE)?.is_empty();
        let has_derived = !store.catalog().files(zone, DATASET)?.is_empty();
        if (has_source || has_derived) && !current(store, zone)? {
            out.push(rebuild(store, zone)?);
        }
    }
    Ok(out)
}

/// Whether `zone`'s spells were built from its episodes as they are now,
/// by this version's derivation (an older Haven's columns differ).
fn current(store: &Store, zone: Zone) -> Result<bool, IngestError> {
    if store.dataset_loads(zone, DATASET)?.is_empty() || !store.is_current(zone, DATASET)? {
        return Ok(false);
    }
    let expected = schema();
    for f in store.catalog().files(zone, DATASET)? {
        let path = store.root().join(&f.path);
        if parquet_schema(&path)?.fields().iter().map(|f| f.name()).ne(expected.fields().iter().map(|f| f.name())) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Derives `zone`'s spells from all its committed episodes and commits
/// them as one load that supersedes the previous derivation.
pub fn rebuild(store: &mut Store, zone: Zone) -> Result<SpellReport, IngestError> {
    let started = Instant::now();
    let files: Vec<PathBuf> = store.catalog().files(zone, SOURCE)?.iter().map(|f| store.root().join(&f.path)).collect();
    let spells = Spells::read(&files)?;
    commit(store, zone, spells, started)
}

/// Spells gathered while a load streams its episodes, so that the first
/// load of a zone (the national year, the usual case) need not read its
/// episodes back from Parquet (issue 5 §6(b)). Workers prepare each shaped
/// batch ([`Streamed::prepare`]); one thread merges them as they come.
pub(crate) struct Streamed {
    zone: Zone,
    hasher: DefaultHashBuilder,
    tx: SyncSender<Prepared>,
    merger: std::thread::JoinHandle<Spells>,
    started: Instant,
}

impl Streamed {
    /// Starts merging for `zone`, with room for about `rows` episodes.
    pub(crate) fn start(zone: Zone, rows: usize) -> Streamed {
        let hasher = DefaultHashBuilder::default();
        let (tx, rx) = sync_channel::<Prepared>(16);
        let merger = std::thread::spawn(move || {
            let mut s = Spells::with_capacity(rows, hasher);
            for p in rx.iter() {
                s.add(&p);
            }
            s
        });
        Streamed { zone, hasher, tx, merger, started: Instant::now() }
    }

    pub(crate) fn zone(&self) -> Zone {
        self.zone
    }

    /// The row-local work on one batch of the zone's shaped episodes (on
    /// the calling worker).
    pub(crate) fn prepare(&self, b: &RecordBatch) -> Result<Prepared, IngestError> {
        Prepared::of(b, &self.hasher)
    }

    /// Hands a prepared batch to the merging thread (blocks while it is
    /// behind, which bounds the memory in flight).
    pub(crate) fn send(&self, p: Prepared) -> Result<(), IngestError> {
        self.tx.send(p).map_err(|_| IngestError::Prerequisite("the spell merging thread stopped".into()))
    }

    /// Commits the spells when the zone's episodes are now exactly this
    /// load's (`load_id`); otherwise spells span loads and `refresh`
    /// rebuilds them from every load, so this returns `None`.
    pub(crate) fn finish(self, store: &mut Store, load_id: &str) -> Result<Option<SpellReport>, IngestError> {
        let Streamed { zone, tx, merger, started, .. } = self;
        drop(tx);
        let spells = merger.join().map_err(|_| IngestError::Prerequisite("the spell merging thread panicked".into()))?;
        let loads = store.dataset_loads(zone, SOURCE)?;
        if loads.len() != 1 || loads[0].id != load_id {
            return Ok(None);
        }
        let mut report = commit(store, zone, spells, Instant::now())?;
        report.streamed_seconds = Some(started.elapsed().as_secs_f64() - report.seconds);
        Ok(Some(report))
    }
}

/// Writes `spells` as `zone`'s derived dataset (sorted by person) and
/// commits it, superseding the previous derivation.
fn commit(store: &mut Store, zone: Zone, spells: Spells, started: Instant) -> Result<SpellReport, IngestError> {
    let started_at = haven_store::timestamp_now();
    let fingerprint = store.fingerprint(zone, SOURCE)?;
    let sources = store.dataset_loads(zone, SOURCE)?;
    let episodes = spells.episodes;
    let keyed = spells.keyed;

    let mut txn = store.begin_load()?;
    let order = spells.order();
    let cips = Cips::of(&spells, &order);
    // Two parts, written in parallel, each a contiguous run of the order.
    let half = order.len().div_ceil(2);
    let parts: Vec<std::ops::Range<usize>> = [0..half, half..order.len()].into_iter().filter(|r| !r.is_empty()).collect();
    let written: Vec<Result<FileRecord, IngestError>> = parts
        .par_iter()
        .enumerate()
        .map(|(part, rows)| {
            let mut w = txn.part_writer(zone, DATASET, schema(), part)?;
            for start in rows.clone().step_by(BATCH) {
                w.write(&spells.batch(&order, &cips, start..(start + BATCH).min(rows.end))?)?;
            }
            Ok(w.finish()?)
        })
        .collect();
    for f in written {
        txn.add_file(f?);
    }
    let n = order.len() as u64;
    // The derivation answers to the agreement its episodes came under, so
    // retention of that agreement reaches it.
    let mut dsas: Vec<Option<String>> = sources.iter().map(|l| l.dsa.clone()).collect();
    dsas.dedup();
    let dsa = if dsas.len() == 1 { dsas.remove(0) } else { None };
    // ... and to the newest version of it among its sources.
    let dsa_version = dsa.as_ref().and_then(|_| sources.iter().filter_map(|l| l.dsa_version).max());
    let replaced: Vec<String> = store.dataset_loads(zone, DATASET)?.into_iter().map(|l| l.id).collect();
    let mut report = SpellReport {
        zone: zone.name().to_owned(),
        episodes,
        spells: n,
        keyed,
        seconds: 0.0,
        streamed_seconds: None,
        load_id: Some(txn.id().to_owned()),
    };
    let record = LoadRecord {
        id: txn.id().to_owned(),
        dataset: DATASET.to_owned(),
        source_path: derived_source(zone, SOURCE),
        source_sha256: fingerprint,
        source_bytes: 0,
        dsa,
        dsa_version,
        operator: "haven (derived)".to_owned(),
        started_at,
        finished_at: haven_store::timestamp_now(),
        status: LoadStatus::Committed,
        key_ids: "{}".to_owned(),
        summary: serde_json::json!({"derived_from": sources.iter().map(|l| &l.id).collect::<Vec<_>>(), "episodes": episodes, "spells": n, "keyed": keyed}).to_string(),
    };
    let counts = [ZoneCounts { zone: Some(zone), read: n, written: n, ..ZoneCounts::default() }];
    store.commit(txn, &record, &counts, &[], &replaced)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The output schema. The person keeps its canonical name so a session
/// bound to a GP practice filters this table as it does episodes.
pub fn schema() -> SchemaRef {
    let f = |name: &str, ty: DataType| Field::new(name, ty, true);
    let text = ["admimeth", "mainspef", "admisorc", "epistat", "epitype", "classpat1", "diag_all", "proc_all", "cause", "disdest", "dismeth"];
    let mut fields = vec![f("spell", DataType::Utf8), f("TOKEN_PERSON_ID", DataType::Utf8), f("admidate", DataType::Date32), f("disdate", DataType::Date32)];
    fields.extend(text.iter().map(|n| f(n, DataType::Utf8)));
    fields.extend([
        f("elecdur", DataType::Int32),
        f("disreadydate", DataType::Date32),
        f("classpat", DataType::Utf8),
        f("rtt_days", DataType::Int32),
        f("provider", DataType::Utf8),
        f("icb", DataType::Utf8),
        f("sub_icb", DataType::Utf8),
        f("practice", DataType::Utf8),
        f("age", DataType::Int32),
        f("sex", DataType::Utf8),
        f("ethnos", DataType::Utf8),
        f("imd_decile", DataType::Int32),
        f("los", DataType::Int32),
        f("delay_days", DataType::Int32),
        f("kind", DataType::Utf8),
        f("next_admidate", DataType::Date32),
        f("acsc", DataType::Utf8),
        f("ucs", DataType::Utf8),
        f("ebi", DataType::Utf8),
        f("episodes", DataType::Int32),
        f("cancer", DataType::Int32),
        f("cips", DataType::Utf8),
        f("cip_first", DataType::Boolean),
        f("cip_disdate", DataType::Date32),
        f("cip_died", DataType::Int32),
        f("cip_cancer", DataType::Int32),
        f("readmitted_default", DataType::Int32),
    ]);
    Arc::new(Schema::new(fields))
}

/// Strings stored back to back; a span is `offset << 16 | length`.
#[derive(Default)]
struct Arena {
    bytes: Vec<u8>,
}

impl Arena {
    fn push(&mut self, s: &[u8]) -> u64 {
        let off = self.bytes.len() as u64;
        self.bytes.extend_from_slice(&s[..s.len().min(0xFFFF)]);
        (off << 16) | s.len().min(0xFFFF) as u64
    }

    fn get(&self, span: u64) -> &[u8] {
        let off = (span >> 16) as usize;
        &self.bytes[off..off + (span & 0xFFFF) as usize]
    }
}

/// Distinct strings numbered in first-seen order, each stored once.
struct Interner {
    arena: Arena,
    spans: Vec<u64>,
    table: HashTable<u32>,
    /// A fast seeded hash (foldhash): the keys are long-lived in memory
    /// only, and SipHash cost a tenth of the derivation.
    hasher: DefaultHashBuilder,
    /// The last string interned: extracts list a spell's episodes (and a
    /// person's) together, so most lookups repeat the previous one.
    last: Option<u32>,
}

impl Interner {
    /// Room for `n` strings of about `bytes` bytes each without regrowing,
    /// hashed by `hasher` (which reader threads share to hash ahead).
    fn with_capacity(n: usize, bytes: usize, hasher: DefaultHashBuilder) -> Interner {
        Interner {
            arena: Arena { bytes: Vec::with_capacity(n * bytes) },
            spans: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
            hasher,
            last: None,
        }
    }

    /// The string's number, and whether it is new.
    #[cfg(test)]
    fn intern(&mut self, s: &[u8]) -> (u32, bool) {
        let h = self.hasher.hash_one(s);
        self.intern_hashed(s, h)
    }

    /// As `intern`, with the string's hash `h` by this interner's hasher
    /// already computed.
    fn intern_hashed(&mut self, s: &[u8], h: u64) -> (u32, bool) {
        if let Some(i) = self.last.filter(|&i| self.get(i) == s) {
            return (i, false);
        }
        let Interner { arena, spans, table, hasher, last } = self;
        if let Some(&i) = table.find(h, |&i| arena.get(spans[i as usize]) == s) {
            *last = Some(i);
            return (i, false);
        }
        let i = spans.len() as u32;
        spans.push(arena.push(s));
        table.insert_unique(h, i, |&j| hasher.hash_one(arena.get(spans[j as usize])));
        *last = Some(i);
        (i, true)
    }

    fn get(&self, i: u32) -> &[u8] {
        self.arena.get(self.spans[i as usize])
    }

    fn text(&self, i: u32) -> Cow<'_, str> {
        String::from_utf8_lossy(self.get(i))
    }
}

/// A short code packed big-endian into an integer, so integer order is the
/// string order and 0 is null (an empty field is null after validation).
fn pack(s: &str, width: usize) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() > width {
        return None;
    }
    Some(b.iter().chain(std::iter::repeat(&0)).take(width).fold(0u64, |v, &c| (v << 8) | c as u64))
}

/// A code unpacked onto the stack (no allocation per cell).
#[derive(Clone, Copy)]
struct Packed {
    bytes: [u8; 8],
    len: u8,
}

impl AsRef<str> for Packed {
    fn as_ref(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl Packed {
    fn as_str(&self) -> &str {
        self.as_ref()
    }
}

fn unpack(v: u64, width: usize) -> Option<Packed> {
    if v == 0 {
        return None;
    }
    let mut p = Packed { bytes: [0; 8], len: 0 };
    for k in (0..width).rev() {
        let c = (v >> (8 * k)) as u8;
        if c != 0 {
            p.bytes[p.len as usize] = c;
            p.len += 1;
        }
    }
    Some(p)
}

/// What a spell takes from its episodes' fields: one episode's values in
/// an [`Episode`], the values so far (by each field's rule, see the module
/// docs) in an [`Acc`]. Null is [`NULL`] for numbers and 0 for codes.
#[derive(Clone, Copy)]
struct Values {
    admidate: i32,
    disdate: i32,
    disready: i32,
    rtt_days: i32,
    elecdur: i32,
    age: i32,
    imd: i32,
    /// Cancer or chemotherapy coded in any position of any episode, by
    /// the readmission indicator's default code list (methods.md §2.1).
    cancer: bool,
    short: [u32; SHORT.len()],
    long: [u64; LONG.len()],
}

impl Values {
    const NULL: Values = Values {
        admidate: NULL,
        disdate: NULL,
        disready: NULL,
        rtt_days: NULL,
        elecdur: NULL,
        age: NULL,
        imd: NULL,
        cancer: false,
        short: [0; SHORT.len()],
        long: [0; LONG.len()],
    };

    /// Folds in one episode's values; `first` when its EPIORDER is 01.
    /// Codes whose rule the episode does not meet arrive as 0.
    fn merge(&mut self, e: &Values, first: bool) {
        min_int(&mut self.admidate, e.admidate);
        max_int(&mut self.disdate, e.disdate);
        max_int(&mut self.disready, e.disready);
        min_int(&mut self.rtt_days, e.rtt_days);
        min_int(&mut self.imd, e.imd);
        self.cancer |= e.cancer;
        for (j, (_, _, rule)) in SHORT.iter().enumerate() {
            if *rule == Rule::AtDischarge {
                self.short[j] = self.short[j].max(e.short[j]);
            } else {
                min_code(&mut self.short[j], e.short[j]);
            }
        }
        for j in 0..LONG.len() {
            min_code(&mut self.long[j], e.long[j]);
        }
        if first {
            min_int(&mut self.elecdur, e.elecdur);
            min_int(&mut self.age, e.age);
        }
    }
}

/// One spell's running aggregates.
#[derive(Clone, Copy)]
struct Acc {
    person: u32,
    episodes: i32,
    v: Values,
    diag: u64,
    proc: u64,
}

const EMPTY: Acc = Acc { person: NO_PERSON, episodes: 0, v: Values::NULL, diag: NONE, proc: NONE };

/// How a code field is aggregated over a spell's episodes.
#[derive(Clone, Copy, PartialEq)]
enum Rule {
    /// Least value over all episodes.
    Min,
    /// Least value over episodes with EPIORDER 01.
    First,
    /// Greatest value over episodes ending on their discharge date.
    AtDischarge,
}

/// Codes of at most four characters: (episode column, output name, rule).
const SHORT: [(&str, &str, Rule); 13] = [
    ("ADMIMETH", "admimeth", Rule::First),
    ("MAINSPEF", "mainspef", Rule::First),
    ("ADMISORC", "admisorc", Rule::First),
    ("EPISTAT", "epistat", Rule::First),
    ("EPITYPE", "epitype", Rule::First),
    ("CLASSPAT", "classpat1", Rule::First),
    ("DISDEST", "disdest", Rule::AtDischarge),
    ("DISMETH", "dismeth", Rule::AtDischarge),
    ("CLASSPAT", "classpat", Rule::Min),
    ("ICB_RESPONSIBILITY", "icb", Rule::Min),
    ("SEX", "sex", Rule::Min),
    ("ETHNOS", "ethnos", Rule::Min),
    // CAUSE_4, else CAUSE_3 (`Cols::cause3`).
    ("CAUSE_4", "cause", Rule::First),
];
/// Codes of at most eight characters.
const LONG: [(&str, &str); 3] = [("PROCODE3", "provider"), ("CCG_RESPONSIBILITY", "sub_icb"), ("GPPRAC", "practice")];
const DATES: [&str; 6] = ["ADMIDATE", "DISDATE", "EPIEND", "DISREADYDATE", "RTTPERSTART", "RTTPEREND"];
const INTS: [&str; 3] = ["ELECDUR", "STARTAGE", "IMD_DECILE"];

fn short_index(name: &str) -> usize {
    SHORT.iter().position(|s| s.1 == name).expect("a SHORT field")
}

/// The episode columns the derivation reads.
fn columns() -> Vec<String> {
    let mut c: Vec<String> = ["SUSSPELLID", "PROVSPNOPS", "TOKEN_PERSON_ID", "EPIORDER", "CAUSE_3"].iter().map(|s| s.to_string()).collect();
    c.extend(SHORT.iter().map(|s| s.0.to_owned()));
    c.extend(LONG.iter().map(|s| s.0.to_owned()));
    c.extend(DATES.iter().chain(INTS.iter()).map(|s| s.to_string()));
    c.extend((1..=20).map(|i| format!("DIAG_4_{i:02}")));
    c.extend((1..=24).map(|i| format!("OPERTN_4_{i:02}")));
    c.sort();
    c.dedup();
    c
}

/// One batch's columns, cast to the types the rules read; `None` where the
/// files lack a column (a missing column is all null).
struct Cols {
    spell: Option<StringArray>,
    susspellid: Option<StringArray>,
    cause3: Option<StringArray>,
    person: Option<StringArray>,
    epiorder: Option<StringArray>,
    short: Vec<Option<StringArray>>,
    long: Vec<Option<StringArray>>,
    dates: Vec<Option<Date32Array>>,
    ints: Vec<Option<Int32Array>>,
    diags: Vec<Option<StringArray>>,
    procs: Vec<Option<StringArray>>,
}

impl Cols {
    fn of(b: &RecordBatch) -> Result<Cols, IngestError> {
        let get = |name: &str, ty: &DataType| -> Result<Option<ArrayRef>, IngestError> {
            match b.schema().index_of(name) {
                Ok(i) => Ok(Some(cast(b.column(i), ty)?)),
                Err(_) => Ok(None),
            }
        };
        let text = |name: &str| -> Result<Option<StringArray>, IngestError> {
            Ok(get(name, &DataType::Utf8)?.and_then(|a| a.as_any().downcast_ref::<StringArray>().cloned()))
        };
        let date = |name: &str| -> Result<Option<Date32Array>, IngestError> {
            Ok(get(name, &DataType::Date32)?.and_then(|a| a.as_any().downcast_ref::<Date32Array>().cloned()))
        };
        let int = |name: &str| -> Result<Option<Int32Array>, IngestError> {
            Ok(get(name, &DataType::Int32)?.and_then(|a| a.as_any().downcast_ref::<Int32Array>().cloned()))
        };
        Ok(Cols {
            spell: text("PROVSPNOPS")?,
            susspellid: text("SUSSPELLID")?,
            cause3: text("CAUSE_3")?,
            person: text("TOKEN_PERSON_ID")?,
            epiorder: text("EPIORDER")?,
            short: SHORT.iter().map(|s| text(s.0)).collect::<Result<_, _>>()?,
            long: LONG.iter().map(|s| text(s.0)).collect::<Result<_, _>>()?,
            dates: DATES.iter().map(|s| date(s)).collect::<Result<_, _>>()?,
            ints: INTS.iter().map(|s| int(s)).collect::<Result<_, _>>()?,
            diags: (1..=20).map(|i| text(&format!("DIAG_4_{i:02}"))).collect::<Result<_, _>>()?,
            procs: (1..=24).map(|i| text(&format!("OPERTN_4_{i:02}"))).collect::<Result<_, _>>()?,
        })
    }
}

fn text_at(a: &Option<StringArray>, i: usize) -> Option<&str> {
    a.as_ref().and_then(|a| (!a.is_null(i)).then(|| a.value(i)))
}

fn date_at(a: &Option<Date32Array>, i: usize) -> i32 {
    a.as_ref().and_then(|a| (!a.is_null(i)).then(|| a.value(i))).unwrap_or(NULL)
}

fn int_at(a: &Option<Int32Array>, i: usize) -> i32 {
    a.as_ref().and_then(|a| (!a.is_null(i)).then(|| a.value(i))).unwrap_or(NULL)
}

fn min_int(slot: &mut i32, v: i32) {
    if v != NULL && (*slot == NULL || v < *slot) {
        *slot = v;
    }
}

fn max_int(slot: &mut i32, v: i32) {
    // NULL is i32::MIN, so any value beats it.
    if v > *slot {
        *slot = v;
    }
}

fn min_code<T: Copy + Ord + Default>(slot: &mut T, v: T) {
    let zero = T::default();
    if v != zero && (*slot == zero || v < *slot) {
        *slot = v;
    }
}

/// One batch of episodes reduced, on a reader thread, to what the spells
/// merge: codes packed, the rules' row-local conditions applied (a code
/// that does not count is 0), first episodes' codes joined, keys hashed.
pub(crate) struct Prepared {
    text: Vec<u8>,
    rows: Vec<Episode>,
    keyed: Keyed,
}

/// A span of [`Prepared::text`]: offset and length.
type Span = (u32, u32);

/// One episode as [`Spells::add`] merges it.
struct Episode {
    spell: Span,
    spell_hash: u64,
    person: Option<(Span, u64)>,
    first: bool,
    v: Values,
    diag: Span,
    proc: Span,
}

impl Prepared {
    fn of(b: &RecordBatch, hasher: &DefaultHashBuilder) -> Result<Prepared, IngestError> {
        let c = Cols::of(b)?;
        let mut p = Prepared { text: Vec::with_capacity(b.num_rows() * 48), rows: Vec::with_capacity(b.num_rows()), keyed: Keyed::default() };
        let mut buf = String::new();
        let mut key = String::new();
        for i in 0..b.num_rows() {
            let d = |j: usize| date_at(&c.dates[j], i);
            let (admidate, disdate, epiend, disready, rtt_start, rtt_end) = (d(0), d(1), d(2), d(3), d(4), d(5));
            let fields = SpellKeyFields {
                susspellid: text_at(&c.susspellid, i),
                procode3: text_at(&c.long[0], i),
                provspno: text_at(&c.spell, i),
                person: text_at(&c.person, i),
                admidate: (admidate != NULL).then(|| Date::from_days(admidate)),
            };
            let Some(rule) = spell_key_into(&fields, &mut key) else {
                p.keyed.unkeyed += 1;
                continue;
            };
            p.keyed.add(rule);
            let spell = key.as_str();
            let first = text_at(&c.epiorder, i) == Some("01");
            let at_discharge = epiend != NULL && epiend == disdate;
            let mut short = [0u32; SHORT.len()];
            for (j, (col, _, rule)) in SHORT.iter().enumerate() {
                let counts = match rule {
                    Rule::Min => true,
                    Rule::First => first,
                    Rule::AtDischarge => at_discharge,
                };
                let v = match text_at(&c.short[j], i) {
                    None if *col == "CAUSE_4" => text_at(&c.cause3, i),
                    v => v,
                };
                if let Some(v) = v.filter(|_| counts) {
                    short[j] = pack(v, 4).ok_or_else(|| too_long(col, 4))? as u32;
                }
            }
            let mut long = [0u64; LONG.len()];
            for (j, (col, _)) in LONG.iter().enumerate() {
                if let Some(v) = text_at(&c.long[j], i) {
                    long[j] = pack(v, 8).ok_or_else(|| too_long(col, 8))?;
                }
            }
            let (mut diag, mut proc) = ((0, 0), (0, 0));
            if first {
                join_codes(&c.diags, i, &mut buf);
                diag = p.put(buf.as_bytes());
                join_codes(&c.procs, i, &mut buf);
                proc = p.put(buf.as_bytes());
            }
            let person = text_at(&c.person, i).map(|s| (p.put(s.as_bytes()), hasher.hash_one(s.as_bytes())));
            let spell_span = p.put(spell.as_bytes());
            p.rows.push(Episode {
                spell: spell_span,
                spell_hash: hasher.hash_one(spell.as_bytes()),
                person,
                first,
                v: Values {
                    admidate,
                    disdate,
                    disready,
                    rtt_days: if rtt_start != NULL && rtt_end != NULL { rtt_end - rtt_start } else { NULL },
                    elecdur: int_at(&c.ints[0], i),
                    age: int_at(&c.ints[1], i),
                    imd: int_at(&c.ints[2], i),
                    cancer: c.diags.iter().any(|a| text_at(a, i).is_some_and(|d| is_cancer_or_chemotherapy(d, &CANCER_OR_CHEMOTHERAPY))),
                    short,
                    long,
                },
                diag,
                proc,
            });
        }
        Ok(p)
    }

    fn put(&mut self, s: &[u8]) -> Span {
        let off = self.text.len() as u32;
        self.text.extend_from_slice(s);
        (off, s.len() as u32)
    }

    fn get(&self, (off, len): Span) -> &[u8] {
        &self.text[off as usize..(off + len) as usize]
    }
}

/// [`Cips::flags`]: a spell of the CIP ended in death (DISMETH 4).
const DIED: u8 = 1;
/// [`Cips::flags`]: a spell of the CIP codes cancer or chemotherapy.
const CANCER: u8 = 2;

/// Continuous inpatient spells along the output order (datasets.md
/// §11.2): each spell is compared with the person's previous one by
/// `haven_model::rules::continues`, as the engine's `LAG` window does.
/// Indexed by position in the order; the CIP fields are held at the
/// position of its first spell.
struct Cips {
    /// The position of the CIP's first spell.
    head: Vec<u32>,
    /// The CIP's discharge: its latest, or NULL while a spell is open.
    end: Vec<i32>,
    /// [`DIED`] and [`CANCER`] over the CIP's spells.
    flags: Vec<u8>,
    /// At a CIP's first spell: whether a readmission counts against the
    /// CIP under the indicator's default options ([`readmissions`]).
    readmitted: Vec<u32>,
}

impl Cips {
    fn of(spells: &Spells, order: &[u32]) -> Cips {
        let n = order.len();
        let mut c = Cips { head: Vec::with_capacity(n), end: vec![NULL; n], flags: vec![0; n], readmitted: Vec::new() };
        let fields = [short_index("admimeth"), short_index("admisorc"), short_index("disdest"), short_index("classpat")];
        let dismeth = short_index("dismeth");
        // DISMETH 4 (died) as packed, compared without unpacking each spell's code.
        let died = pack("4", 4).map(|v| v as u32);
        for p in 0..n {
            let a = &spells.accs[order[p] as usize];
            let prev = p.checked_sub(1).map(|q| &spells.accs[order[q] as usize]);
            let linked = prev.is_some_and(|b| a.person != NO_PERSON && b.person == a.person && continues(b, a, fields));
            let h = if linked {
                let h = c.head[p - 1] as usize;
                // Only a CIP's last spell can be open: nothing links to it.
                c.end[h] = if a.v.disdate == NULL { NULL } else { c.end[h].max(a.v.disdate) };
                h
            } else {
                c.end[p] = a.v.disdate;
                p
            };
            c.head.push(h as u32);
            if Some(a.v.short[dismeth]) == died {
                c.flags[h] |= DIED;
            }
            if a.v.cancer {
                c.flags[h] |= CANCER;
            }
        }
        c.readmitted = readmissions(spells, order, &c);
        c
    }
}

/// How many readmissions count against each CIP, at its first spell's
/// position, under the readmission indicator's default options: the
/// `haven_model::rules::readmitted` rule over each person's CIPs, in the
/// output order (person, admission, discharge, spell key — the rule's own).
/// The engine reads this when its options are the defaults, and pairs in
/// SQL otherwise.
fn readmissions(spells: &Spells, order: &[u32], cips: &Cips) -> Vec<u32> {
    let n = order.len();
    let mut out = vec![0; n];
    let opts = ReadmissionOptions::default();
    let (meth, spef) = (short_index("admimeth"), short_index("mainspef"));
    let date = |d: i32| (d != NULL).then(|| Date::from_days(d));
    let mut start = 0;
    while start < n {
        let person = spells.accs[order[start] as usize].person;
        let mut end = start + 1;
        while person != NO_PERSON && end < n && spells.accs[order[end] as usize].person == person {
            end += 1;
        }
        let heads: Vec<usize> = (start..end).filter(|&p| cips.head[p] as usize == p).collect();
        if person != NO_PERSON && heads.len() > 1 {
            let codes: Vec<[Option<Packed>; 2]> =
                heads.iter().map(|&p| [meth, spef].map(|j| unpack(spells.accs[order[p] as usize].v.short[j] as u64, 4))).collect();
            let keys: Vec<Cow<'_, str>> = heads.iter().map(|&p| spells.spells.text(order[p])).collect();
            fn text(c: &Option<Packed>) -> &str {
                c.as_ref().map_or("", Packed::as_str)
            }
            let cip: Vec<CipSpell<'_>> = heads
                .iter()
                .enumerate()
                .map(|(j, &p)| {
                    let a = &spells.accs[order[p] as usize];
                    CipSpell {
                        person: "",
                        key: &keys[j],
                        admidate: date(a.v.admidate),
                        first_disdate: date(a.v.disdate),
                        disdate: date(cips.end[p]),
                        admimeth: text(&codes[j][0]),
                        mainspef: text(&codes[j][1]),
                        cancer: cips.flags[p] & CANCER != 0,
                    }
                })
                .collect();
            for (j, count) in readmitted(&cip, &opts).into_iter().enumerate() {
                out[heads[j]] = count;
            }
        }
        start = end;
    }
    out
}

/// Whether spell `b` continues spell `a` (the person's previous spell);
/// `fields` are the SHORT positions of ADMIMETH, ADMISORC, DISDEST, CLASSPAT.
fn continues(a: &Acc, b: &Acc, fields: [usize; 4]) -> bool {
    // Most pairs are days apart: settle those before reading any code.
    if a.v.disdate == NULL || b.v.admidate == NULL || !(0..=2).contains(&(b.v.admidate - a.v.disdate)) {
        return false;
    }
    let (ca, cb) = (fields.map(|j| unpack(a.v.short[j] as u64, 4)), fields.map(|j| unpack(b.v.short[j] as u64, 4)));
    haven_model::rules::continues(&link_fields(&a.v, &ca), &link_fields(&b.v, &cb))
}

fn link_fields<'c>(v: &Values, c: &'c [Option<Packed>; 4]) -> SpellLinkFields<'c> {
    fn text(c: &Option<Packed>) -> &str {
        c.as_ref().map_or("", Packed::as_str)
    }
    let date = |d: i32| (d != NULL).then(|| Date::from_days(d));
    SpellLinkFields {
        person: "",
        admidate: date(v.admidate),
        disdate: date(v.disdate),
        admimeth: text(&c[0]),
        admisorc: text(&c[1]),
        disdest: text(&c[2]),
        classpat: text(&c[3]),
    }
}

/// Every spell of a zone, aggregated from its episodes.
struct Spells {
    spells: Interner,
    persons: Interner,
    codes: Arena,
    accs: Vec<Acc>,
    episodes: u64,
    keyed: Keyed,
}

impl Spells {
    /// Reads the episode files (decoded and prepared on reader threads
    /// while this thread merges) and aggregates every episode into its
    /// spell.
    fn read(files: &[PathBuf]) -> Result<Spells, IngestError> {
        // Sized from the files' footers so nothing regrows while reading:
        // at most one spell per episode, and fewer people than spells.
        let rows = files.iter().map(|f| parquet_rows(f)).sum::<Result<usize, IngestError>>()?;
        let hasher = DefaultHashBuilder::default();
        let mut s = Spells::with_capacity(rows, hasher);
        let cols = columns();
        let in_file = |k: usize| {
            move |e: IngestError| match e {
                IngestError::Arrow(e) => IngestError::File { path: files[k].clone(), reason: e.to_string() },
                other => other,
            }
        };
        // Reader threads decode and prepare each batch (the row-local
        // work); this thread only merges episodes into spells.
        let (tx, rx) = sync_channel::<Result<Prepared, IngestError>>(4);
        std::thread::scope(|scope| -> Result<(), IngestError> {
            scope.spawn(|| {
                let _ = files.par_iter().enumerate().try_for_each_with(tx, |tx, (k, path)| {
                    let sent = read_parquet(path, &cols, &mut |b| tx.send(Prepared::of(&b, &hasher).map_err(in_file(k))).map_err(|_| ()));
                    match sent {
                        Ok(()) => Ok(()),
                        Err(Some(e)) => tx.send(Err(e)).map_err(|_| ()),
                        Err(None) => Err(()),
                    }
                });
            });
            for prepared in rx.iter() {
                s.add(&prepared?);
            }
            Ok(())
        })?;
        Ok(s)
    }

    /// Room for `rows` episodes: at most one spell each, and fewer people
    /// than spells.
    fn with_capacity(rows: usize, hasher: DefaultHashBuilder) -> Spells {
        Spells {
            spells: Interner::with_capacity(rows, 16, hasher),
            persons: Interner::with_capacity(rows / 2, 64, hasher),
            codes: Arena::default(),
            accs: Vec::with_capacity(rows),
            episodes: 0,
            keyed: Keyed::default(),
        }
    }

    /// Merges one prepared batch of episodes into their spells.
    fn add(&mut self, p: &Prepared) {
        self.keyed.merge(&p.keyed);
        for e in &p.rows {
            self.episodes += 1;
            let (k, new) = self.spells.intern_hashed(p.get(e.spell), e.spell_hash);
            if new {
                self.accs.push(EMPTY);
            }
            let person = e.person.map(|(span, h)| self.persons.intern_hashed(p.get(span), h).0);
            let a = &mut self.accs[k as usize];
            a.episodes += 1;
            if let Some(p) = person {
                if a.person == NO_PERSON || (p != a.person && self.persons.get(p) < self.persons.get(a.person)) {
                    a.person = p;
                }
            }
            a.v.merge(&e.v, e.first);
            if e.first {
                for (span, slot) in [(e.diag, &mut a.diag), (e.proc, &mut a.proc)] {
                    let codes = p.get(span);
                    if *slot == NONE || codes < self.codes.get(*slot) {
                        *slot = self.codes.push(codes);
                    }
                }
            }
        }
    }

    /// Spell numbers by person (people in first-seen order, spells without
    /// a person last), then admission date, discharge date (nulls last)
    /// and spell number: the order of the engine's readmission window.
    fn order(&self) -> Vec<u32> {
        let last = |d: i32| if d == NULL { i32::MAX } else { d };
        let mut keys: Vec<(u32, i32, i32, u32)> =
            self.accs.iter().enumerate().map(|(k, a)| (a.person, last(a.v.admidate), last(a.v.disdate), k as u32)).collect();
        keys.par_sort_unstable_by(|x, y| (x.0, x.1, x.2).cmp(&(y.0, y.1, y.2)).then_with(|| self.spells.get(x.3).cmp(self.spells.get(y.3))));
        keys.into_iter().map(|k| k.3).collect()
    }

    /// The output rows at `rows` of `order` (the next position holds each
    /// spell's successor).
    fn batch<'s>(&'s self, order: &[u32], cips: &Cips, rows: std::ops::Range<usize>) -> Result<RecordBatch, IngestError> {
        let start = rows.start;
        let chunk = &order[rows];
        // Each column reads every spell of the chunk: gathered once into
        // order, the 37 passes run over contiguous memory, not 37 random
        // walks over all spells.
        let accs: Vec<Acc> = chunk.iter().map(|&k| self.accs[k as usize]).collect();
        // Cells are appended as borrowed text: no allocation per cell.
        let text = |f: &dyn Fn(&Acc, u32) -> Option<Cow<'s, str>>| -> ArrayRef {
            let mut b = StringBuilder::with_capacity(chunk.len(), chunk.len() * 8);
            for (a, &k) in accs.iter().zip(chunk) {
                b.append_option(f(a, k));
            }
            Arc::new(b.finish())
        };
        let packed = |f: &dyn Fn(&Acc) -> Option<Packed>| -> ArrayRef {
            let mut b = StringBuilder::with_capacity(chunk.len(), chunk.len() * 4);
            for a in &accs {
                b.append_option(f(a));
            }
            Arc::new(b.finish())
        };
        let date = |f: &dyn Fn(&Acc) -> i32| -> ArrayRef {
            let mut b = Date32Builder::with_capacity(chunk.len());
            for a in &accs {
                let v = f(a);
                b.append_option((v != NULL).then_some(v));
            }
            Arc::new(b.finish())
        };
        let int = |f: &dyn Fn(&Acc) -> i32| -> ArrayRef {
            let mut b = Int32Builder::with_capacity(chunk.len());
            for a in &accs {
                let v = f(a);
                b.append_option((v != NULL).then_some(v));
            }
            Arc::new(b.finish())
        };
        let diff = |a: i32, b: i32| if a == NULL || b == NULL { NULL } else { a - b };
        let next: Vec<Option<&Acc>> = (0..chunk.len())
            .map(|j| {
                let a = &accs[j];
                let n = order.get(start + j + 1).map(|&k| &self.accs[k as usize]);
                n.filter(|n| a.person != NO_PERSON && n.person == a.person)
            })
            .collect();
        let short = |name: &'static str| {
            let j = short_index(name);
            packed(&move |a| unpack(a.v.short[j] as u64, 4))
        };
        let long = |j: usize| packed(&move |a| unpack(a.v.long[j], 8));
        let codes = |span: u64| (span != NONE).then(|| String::from_utf8_lossy(self.codes.get(span)));
        let classes: Vec<[Option<Cow<'static, str>>; 3]> = accs.iter().map(|a| self.classify(a)).collect();
        let class = |c: usize| -> ArrayRef { Arc::new(classes.iter().map(|x| x[c].as_deref()).collect::<StringArray>()) };
        let next_admidate: Vec<i32> = next.iter().map(|n| n.map_or(NULL, |n| n.v.admidate)).collect();
        // The row's CIP spell, through its first spell.
        let heads: Vec<usize> = (start..start + chunk.len()).map(|p| cips.head[p] as usize).collect();
        let columns: Vec<ArrayRef> = vec![
            text(&|_, k| Some(self.spells.text(k))),
            text(&|a, _| (a.person != NO_PERSON).then(|| self.persons.text(a.person))),
            date(&|a| a.v.admidate),
            date(&|a| a.v.disdate),
            short("admimeth"),
            short("mainspef"),
            short("admisorc"),
            short("epistat"),
            short("epitype"),
            short("classpat1"),
            text(&|a, _| codes(a.diag)),
            text(&|a, _| codes(a.proc)),
            short("cause"),
            short("disdest"),
            short("dismeth"),
            int(&|a| a.v.elecdur),
            date(&|a| a.v.disready),
            short("classpat"),
            int(&|a| a.v.rtt_days),
            long(0),
            short("icb"),
            long(1),
            long(2),
            int(&|a| a.v.age),
            short("sex"),
            short("ethnos"),
            int(&|a| a.v.imd),
            int(&|a| diff(a.v.disdate, a.v.admidate)),
            int(&|a| diff(a.v.disdate, a.v.disready)),
            text(&|a, _| Some(Cow::Borrowed(kind(unpack(a.v.short[0] as u64, 4).as_ref().map(Packed::as_str))))),
            Arc::new(next_admidate.iter().map(|&v| (v != NULL).then_some(v)).collect::<Date32Array>()),
            class(0),
            class(1),
            class(2),
            int(&|a| a.episodes),
            int(&|a| i32::from(a.v.cancer)),
            {
                let mut b = StringBuilder::with_capacity(chunk.len(), chunk.len() * 16);
                for &h in &heads {
                    b.append_value(self.spells.text(order[h]));
                }
                Arc::new(b.finish())
            },
            Arc::new((start..start + chunk.len()).zip(&heads).map(|(p, &h)| Some(p == h)).collect::<BooleanArray>()),
            Arc::new(heads.iter().map(|&h| (cips.end[h] != NULL).then_some(cips.end[h])).collect::<Date32Array>()),
            Arc::new(heads.iter().map(|&h| Some(i32::from(cips.flags[h] & DIED))).collect::<Int32Array>()),
            Arc::new(heads.iter().map(|&h| Some(i32::from(cips.flags[h] & CANCER != 0))).collect::<Int32Array>()),
            Arc::new((start..start + chunk.len()).zip(&heads).map(|(p, &h)| (p == h).then(|| i32::try_from(cips.readmitted[p]).unwrap_or(i32::MAX))).collect::<Int32Array>()),
        ];
        Ok(RecordBatch::try_new(schema(), columns)?)
    }

    /// Chronic ACSC, urgent-care-sensitive and EBI, as the engine's SQL
    /// functions classify the spell's first episode.
    fn classify(&self, a: &Acc) -> [Option<Cow<'static, str>>; 3] {
        let codes = |span: u64| -> Vec<&str> {
            if span == NONE {
                Vec::new()
            } else {
                std::str::from_utf8(self.codes.get(span)).unwrap_or("").split('|').collect()
            }
        };
        let field = |name: &str| unpack(a.v.short[short_index(name)] as u64, 4);
        let (admimeth, admisorc, epistat, epitype, classpat, sex, cause) =
            (field("admimeth"), field("admisorc"), field("epistat"), field("epitype"), field("classpat1"), field("sex"), field("cause"));
        let adm = CodedAdmission {
            diagnoses: codes(a.diag),
            procedures: codes(a.proc),
            startage: (a.v.age != NULL).then_some(a.v.age).and_then(|v| u16::try_from(v).ok()),
            sex: sex.as_ref().map(Packed::as_str),
            admimeth: admimeth.as_ref().map(Packed::as_str),
            admisorc: admisorc.as_ref().map(Packed::as_str),
            epiorder: Some("01"),
            epistat: epistat.as_ref().map(Packed::as_str),
            epitype: epitype.as_ref().map(Packed::as_str),
            classpat: classpat.as_ref().map(Packed::as_str),
            cause: cause.as_ref().map(Packed::as_str),
        };
        let (acsc, ucs, ebi) = classify_admission(&adm, &UcsOptions::default());
        [acsc.map(|c| Cow::Borrowed(c.name())), ucs.map(|c| Cow::Borrowed(c.name())), ebi.map(|e| Cow::Owned(e.label()))]
    }
}

/// The admission type of an admission method (the engine's `kind`).
fn kind(admimeth: Option<&str>) -> &'static str {
    match admimeth {
        Some("11" | "12" | "13") => "Elective",
        Some(m) if m.starts_with('2') => "Emergency",
        Some("31" | "32") => "Maternity",
        _ => "Other",
    }
}

/// The codes of one row joined by `|`, empty where a field is null so
/// positions are kept; trailing empty positions are dropped.
fn join_codes(arrays: &[Option<StringArray>], i: usize, buf: &mut String) {
    buf.clear();
    for (k, a) in arrays.iter().enumerate() {
        if k > 0 {
            buf.push('|');
        }
        if let Some(v) = text_at(a, i) {
            buf.push_str(v);
        }
    }
    let kept = buf.trim_end_matches('|').len();
    buf.truncate(kept);
}

fn too_long(col: &str, width: usize) -> IngestError {
    IngestError::Prerequisite(format!("{SOURCE}.{col}: a value longer than {width} characters; spells not derived"))
}

/// The number of rows of one Parquet file, from its footer.
fn parquet_rows(path: &Path) -> Result<usize, IngestError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| IngestError::Parquet { path: path.to_owned(), source })?;
    Ok(builder.metadata().file_metadata().num_rows().max(0) as usize)
}

fn parquet_schema(path: &Path) -> Result<SchemaRef, IngestError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| IngestError::Parquet { path: path.to_owned(), source })?;
    Ok(builder.schema().clone())
}

/// Streams the named columns of one Parquet file. `Err(None)` means the
/// consumer stopped.
fn read_parquet(path: &Path, columns: &[String], each: &mut dyn FnMut(RecordBatch) -> Result<(), ()>) -> Result<(), Option<IngestError>> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ProjectionMask;
    let pq = |source| Some(IngestError::Parquet { path: path.to_owned(), source });
    let file = std::fs::File::open(path).map_err(|source| Some(IngestError::Read { path: path.to_owned(), source }))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().map(String::as_str));
    for batch in builder.with_projection(mask).with_batch_size(BATCH).build().map_err(pq)? {
        let batch = batch.map_err(|e| Some(IngestError::File { path: path.to_owned(), reason: e.to_string() }))?;
        each(batch).map_err(|_| None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_codes_order_as_strings_and_round_trip() {
        let words = ["", "1", "11", "12", "2", "21", "2A", "501", "A81", "A81001", "Z"];
        for a in words {
            for b in words {
                let (pa, pb) = (pack(a, 8).unwrap(), pack(b, 8).unwrap());
                assert_eq!(pa.cmp(&pb), a.cmp(b), "{a:?} vs {b:?}");
            }
            assert_eq!(unpack(pack(a, 8).unwrap(), 8).map(|p| p.as_str().to_owned()), (!a.is_empty()).then(|| a.to_owned()));
        }
        assert_eq!(pack("12345", 4), None);
    }

    #[test]
    fn codes_keep_positions_and_drop_trailing_blanks() {
        let arrays: Vec<Option<StringArray>> = vec![
            Some(StringArray::from(vec![None, Some("I10X")])),
            Some(StringArray::from(vec![Some("J45X"), None])),
            None,
        ];
        let mut buf = String::new();
        join_codes(&arrays, 0, &mut buf);
        assert_eq!(buf, "|J45X", "an empty primary keeps its position");
        join_codes(&arrays, 1, &mut buf);
        assert_eq!(buf, "I10X");
    }

    #[test]
    fn interned_strings_are_numbered_once() {
        let mut i = Interner::with_capacity(0, 0, DefaultHashBuilder::default());
        assert_eq!(i.intern(b"a"), (0, true));
        assert_eq!(i.intern(b"bb"), (1, true));
        assert_eq!(i.intern(b"a"), (0, false));
        assert_eq!(i.get(1), b"bb");
    }
}

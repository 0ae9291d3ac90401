//! One load, end to end: read → validate → de-duplicate → per zone (opt-outs,
//! minimisation, pseudonymisation) → Parquet parts → atomic commit with
//! lineage.
//!
//! Work goes in windows of a few chunks so memory stays bounded whatever the
//! file size: the workers validate a window's chunks in parallel, one thread
//! de-duplicates them in file order (so "first row wins" is deterministic),
//! then the workers shape and write them in parallel, each into its own
//! Parquet part per zone.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, StringArray};
use haven_store::{DqRow, LoadRecord, LoadStatus, PartWriter, Store, Zone, ZoneCounts};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::IngestError;
use crate::feed::{Feed, Origin};
use crate::header::HeaderMap;
use crate::keys::Keys;
use crate::policy::{Context, IngestPolicy, OptoutList};
use crate::source::{hash_file, split_lines, Chunk, Source};
use crate::spells::{Prepared, SpellReport, Streamed};
use crate::validate::{Action, DqAcc, Fault, RowKey, Validated, Validator};
use crate::zones::ZonePlan;

/// Non-rejecting faults recorded in the quarantine file per field; the data
/// quality report still counts every one.
const NOTES_PER_FIELD: u64 = 1_000;

/// What to load and how.
#[derive(Clone, Debug)]
pub struct IngestRequest {
    pub feed: Feed,
    pub path: PathBuf,
    pub policy: IngestPolicy,
    /// Folder holding the zone keys (outside the data directory).
    pub keys_dir: PathBuf,
    /// Reload a source already loaded, superseding the earlier load.
    pub replace: bool,
    /// Bytes per chunk handed to a worker.
    pub chunk_bytes: usize,
    /// Gather the spells of a zone's first APC load as it streams (on by
    /// default; `haven bench ingest` turns it off to time the load alone).
    pub derive_spells: bool,
    /// Loads this one supersedes whatever its source (an earlier
    /// publication of a reference file, `crate::publisher::superseded`).
    pub supersedes: Vec<String>,
}

impl IngestRequest {
    /// A request with default chunking.
    pub fn new(feed: Feed, path: &Path, policy: IngestPolicy, keys_dir: &Path) -> IngestRequest {
        IngestRequest {
            feed,
            path: path.to_owned(),
            policy,
            keys_dir: keys_dir.to_owned(),
            replace: false,
            chunk_bytes: 8 << 20,
            derive_spells: true,
            supersedes: Vec::new(),
        }
    }
}

/// Progress of a running load.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub bytes: u64,
    pub total_bytes: u64,
    pub rows: u64,
}

/// Whether the load ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Loaded,
    /// The same content was already loaded under this id; nothing changed.
    AlreadyLoaded,
}

/// What a load did: the lineage summary printed by `haven ingest`.
#[derive(Clone, Debug, Serialize)]
pub struct IngestReport {
    pub dataset: String,
    pub file: String,
    pub outcome: Outcome,
    pub load_id: String,
    pub sha256: String,
    pub rows_read: u64,
    pub counts: Vec<ZoneCounts>,
    /// Faults by `FIELD: reason`, all of them (the quarantine file is capped
    /// for values that were only nulled or flagged).
    pub faults: BTreeMap<String, u64>,
    /// Values read as null because they are their field's "not recorded"
    /// placeholder (`-` in a diagnosis position, say): not faults.
    pub placeholders: u64,
    /// Relative path of the quarantine file in the data directory.
    pub quarantine: Option<String>,
    pub unused_columns: Vec<String>,
    pub missing_columns: Vec<String>,
    pub dropped_identifiable_columns: Vec<String>,
    pub replaced: Vec<String>,
    pub warnings: Vec<String>,
    pub seconds: f64,
    /// Spells derived from the episodes as they streamed in (a first load
    /// of a zone's APC episodes); otherwise `spells::refresh` derives them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spells: Vec<SpellReport>,
    /// The opt-out clean list this load applied (the newest loaded), when
    /// any zone it wrote needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optout_list: Option<OptoutList>,
}

/// Loads one file.
pub fn ingest(
    store: &mut Store,
    req: &IngestRequest,
    progress: &mut dyn FnMut(Progress),
) -> Result<IngestReport, IngestError> {
    let started = Instant::now();
    let started_at = haven_store::timestamp_now();
    let feed = req.feed;
    let dataset = feed.name();
    let source = Source::open(&req.path)?;
    let map = HeaderMap::new(&req.path, feed, &source.header)?;
    if let Some(done) = already_loaded(store, req, &dataset)? {
        return Ok(done);
    }
    let zones = feed.zones();
    let roles = feed.roles();
    let person_level = roles.nhs.is_some() && feed.origin == Origin::Local;
    let ctx = Context::load(store, person_level && zones.iter().any(|z| req.policy.optout_purposes.contains_key(z)))?;
    if feed.origin == Origin::Local {
        ctx.require(&req.policy, &zones, person_level)?;
    }
    let keys = if feed.origin == Origin::Local && zones.iter().any(|z| z.has_key()) {
        let mut needed = zones.clone();
        needed.push(Zone::Pseudonymised);
        Keys::check_location(&req.keys_dir, store.root())?;
        let keys = Keys::load(&req.keys_dir, &needed)?;
        keys.check_recorded(store.catalog_mut())?;
        keys
    } else {
        Keys::default()
    };
    let plans = zone_plans(store, req, &keys)?;
    let validator = Validator::new(feed, &map, ctx.known.clone(), &req.policy.null_placeholders);
    let mut stream_spells = plans
        .iter()
        .map(|p| streams_spells(store, req, p.zone))
        .collect::<Result<Vec<bool>, IngestError>>()?;
    let mut streams: Vec<Option<Streamed>> = plans.iter().map(|_| None).collect();
    let mut warnings = Vec::new();

    let txn = store.begin_load()?;
    let slots = rayon::current_num_threads().clamp(1, 8);
    let mut writers: Vec<Vec<PartWriter>> = (0..slots)
        .map(|slot| {
            plans
                .iter()
                .map(|p| txn.part_writer(p.zone, feed.table.name(), p.schema.clone(), slot))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<_, _>>()?;
    let mut quarantine = Quarantine::create(&txn.quarantine_path(), &req.path)?;
    let mut counts: Vec<ZoneCounts> = plans
        .iter()
        .map(|p| ZoneCounts { zone: Some(p.zone), ..ZoneCounts::default() })
        .collect();
    let mut dq = DqAcc::default();
    let mut seen = KeySet::default();
    let mut rows_read = 0u64;
    let mut placeholders = 0u64;
    let mut bytes_done = 0u64;
    let total_bytes = std::fs::metadata(&req.path).map(|m| m.len()).unwrap_or(0);

    let (tx, rx) = sync_channel::<Result<Chunk, IngestError>>(slots * 4);
    let reader_source = Source::open(&req.path)?;
    let chunk_bytes = req.chunk_bytes;
    let reader = std::thread::spawn(move || reader_source.stream(chunk_bytes, tx));
    let window = slots * 2;
    let next_window = |rx: &std::sync::mpsc::Receiver<Result<Chunk, IngestError>>| -> Result<Vec<Chunk>, IngestError> {
        let mut batch = Vec::with_capacity(window);
        while batch.len() < window {
            match rx.recv() {
                Ok(chunk) => batch.push(chunk?),
                Err(_) => break,
            }
        }
        Ok(batch)
    };
    let validate_window = |batch: Vec<Chunk>| -> Vec<Validated> {
        let mut validated: Vec<Validated> = batch
            .into_par_iter()
            .map(|chunk| {
                let raw = match chunk {
                    Chunk::Lines { index, first_line, data } => split_lines(index, first_line, data),
                    Chunk::Split(raw) => raw,
                };
                validator.validate(&raw)
            })
            .collect();
        validated.sort_by_key(|v| v.index);
        validated
    };
    // Each slot shapes and writes its chunks, and prepares the shaped
    // episodes of any zone whose spells are gathered as the load streams.
    type Written = (Vec<ZoneCounts>, Vec<(usize, usize, Result<Prepared, IngestError>)>);
    let write_window = |writers: &mut Vec<Vec<PartWriter>>, validated: &[Validated], streams: &[Option<Streamed>]| -> Result<Written, IngestError> {
        let per_slot: Vec<Result<Written, IngestError>> = writers
            .par_iter_mut()
            .enumerate()
            .map(|(slot, slot_writers)| {
                let mut c: Vec<ZoneCounts> = plans.iter().map(|_| ZoneCounts::default()).collect();
                let mut prepared = Vec::new();
                for v in validated.iter().filter(|v| v.index % slots == slot) {
                    for (z, plan) in plans.iter().enumerate() {
                        let out = plan.apply(v, &roles, &ctx, &req.policy, &mut c[z])?;
                        slot_writers[z].write(&out)?;
                        if let Some(s) = &streams[z] {
                            prepared.push((v.index, z, s.prepare(&out)));
                        }
                    }
                }
                Ok((c, prepared))
            })
            .collect();
        let mut total: Vec<ZoneCounts> = plans.iter().map(|_| ZoneCounts::default()).collect();
        let mut prepared = Vec::new();
        for slot in per_slot {
            let (slot_counts, slot_prepared) = slot?;
            for (t, c) in total.iter_mut().zip(slot_counts) {
                t.add(&c);
            }
            prepared.extend(slot_prepared);
        }
        // Merged in file order, as a rebuild from the parts would see them.
        prepared.sort_by_key(|p| (p.0, p.1));
        Ok((total, prepared))
    };
    // A two-stage pipeline: while one window is shaped and written, the next
    // is validated, so neither stage waits for the other's slowest chunk.
    let mut pending: Vec<Validated> = Vec::new();
    loop {
        let batch = next_window(&rx)?;
        bytes_done += batch.iter().map(chunk_len).sum::<u64>();
        let finished = batch.is_empty();
        let (written, validated) = rayon::join(
            || write_window(&mut writers, &pending, &streams),
            || -> Result<Vec<Validated>, IngestError> {
                let mut validated = validate_window(batch);
                for v in &mut validated {
                    seen.mark_duplicates(v, feed.table.primary_key());
                    rows_read += v.lines.len() as u64;
                    placeholders += v.placeholders;
                    v.faults.sort();
                    quarantine.record(&v.faults)?;
                    dq.merge(std::mem::take(&mut v.dq));
                }
                Ok(validated)
            },
        );
        let (written, prepared) = written?;
        for (total, c) in counts.iter_mut().zip(written) {
            total.add(&c);
        }
        for (_, z, p) in prepared {
            let sent = p.and_then(|p| streams[z].as_ref().map_or(Ok(()), |s| s.send(p)));
            if let Err(e) = sent {
                streams[z] = None;
                warnings.push(format!("spells not gathered during the load ({e}); they are derived afterwards"));
            }
        }
        let validated = validated?;
        if streams.iter().all(Option::is_none) && bytes_done > 0 && rows_read > 0 {
            // Sized from the first window's rows per byte, so the merge's
            // tables do not regrow as the file goes on.
            let rows = (rows_read as f64 * total_bytes.max(bytes_done) as f64 / bytes_done as f64 * 1.05) as usize;
            for (z, plan) in plans.iter().enumerate() {
                if stream_spells[z] {
                    streams[z] = Some(Streamed::start(plan.zone, rows));
                }
            }
            stream_spells.iter_mut().for_each(|s| *s = false);
        }
        pending = validated;
        progress(Progress { bytes: bytes_done, total_bytes, rows: rows_read });
        if finished {
            break;
        }
    }
    drop(rx);
    let (sha256, bytes_read) = reader.join().map_err(|_| IngestError::Prerequisite("reader thread panicked".into()))??;
    source.check_unchanged(Some(bytes_read))?;
    if !req.replace {
        if let Some(prior) = store.catalog().committed_load(&dataset, &sha256)? {
            return Ok(no_op(req, &dataset, prior));
        }
    }

    let mut txn = txn;
    for slot_writers in writers {
        for w in slot_writers {
            txn.add_file(w.finish()?);
        }
    }
    let quarantined = quarantine.finish()?;
    let mut replaced: Vec<String> = req.supersedes.clone();
    if req.replace {
        let name = req.path.to_string_lossy();
        for l in store.catalog().committed_loads_named(&dataset, &name)? {
            replaced.push(l.id);
        }
        if let Some(l) = store.catalog().committed_load(&dataset, &sha256)? {
            replaced.push(l.id);
        }
    }
    replaced.sort();
    replaced.dedup();
    if rows_read == 0 {
        warnings.push("the file has a header and no rows".to_owned());
    }
    if !map.dropped_identifiable.is_empty() {
        warnings.push(format!(
            "identifiable column(s) {} in a national extract were not loaded",
            map.dropped_identifiable.join(", ")
        ));
    }
    let mut report = IngestReport {
        dataset: dataset.clone(),
        file: req.path.display().to_string(),
        outcome: Outcome::Loaded,
        load_id: txn.id().to_owned(),
        sha256: sha256.clone(),
        rows_read,
        counts: counts.clone(),
        faults: quarantine.by_reason.clone(),
        placeholders,
        quarantine: quarantined.then(|| format!("quarantine/{}.csv", txn.id())),
        unused_columns: map.unused.clone(),
        missing_columns: map.missing.clone(),
        dropped_identifiable_columns: map.dropped_identifiable.clone(),
        replaced: replaced.clone(),
        warnings,
        seconds: 0.0,
        spells: Vec::new(),
        optout_list: ctx.optout_list.clone(),
    };
    report.seconds = started.elapsed().as_secs_f64();
    let record = LoadRecord {
        id: txn.id().to_owned(),
        dataset,
        source_path: req.path.display().to_string(),
        source_sha256: sha256,
        source_bytes: bytes_read,
        dsa: req.policy.dsa.clone(),
        dsa_version: req.policy.dsa_version,
        operator: req.policy.operator.clone(),
        started_at,
        finished_at: haven_store::timestamp_now(),
        status: LoadStatus::Committed,
        key_ids: keys.ids_json(),
        summary: serde_json::to_string(&report).unwrap_or_default(),
    };
    let dq_rows = dq_rows(&validator, dq);
    store.commit(txn, &record, &counts, &dq_rows, &replaced)?;
    // The load has committed: a derivation failure only leaves the spells
    // to `spells::refresh`.
    for s in streams.into_iter().flatten() {
        let zone = s.zone();
        match s.finish(store, &report.load_id) {
            Ok(Some(r)) => report.spells.push(r),
            Ok(None) => {}
            Err(e) => report.warnings.push(format!("{} spells not derived during the load ({e})", zone.name())),
        }
    }
    Ok(report)
}

/// Whether to gather `zone`'s spells as this load streams: APC episodes
/// into a zone analytics reads, which will then hold only this load's
/// episodes (none there yet, or a reload). `Streamed::finish` checks again.
fn streams_spells(store: &Store, req: &IngestRequest, zone: Zone) -> Result<bool, IngestError> {
    Ok(req.derive_spells
        && req.feed.table.name() == crate::spells::SOURCE
        && crate::spells::ZONES.contains(&zone)
        && (req.replace || store.dataset_loads(zone, crate::spells::SOURCE)?.is_empty()))
}

fn chunk_len(c: &Chunk) -> u64 {
    match c {
        Chunk::Lines { data, .. } => data.len() as u64,
        Chunk::Split(raw) => raw.data.len() as u64,
    }
}

fn zone_plans(store: &Store, req: &IngestRequest, keys: &Keys) -> Result<Vec<ZonePlan>, IngestError> {
    req.feed
        .zones()
        .into_iter()
        .map(|zone| {
            let links = if req.feed.table == haven_model::schema::Table::CcPeriod && zone != Zone::Staging {
                Some(Arc::new(episode_keys(store, zone)?))
            } else {
                None
            };
            ZonePlan::new(req.feed, zone, keys, &req.policy, links)
        })
        .collect()
}

/// EPIKEYs of the episodes in a zone, for critical-care periods, which carry
/// no person or place of their own.
fn episode_keys(store: &Store, zone: Zone) -> Result<HashSet<String>, IngestError> {
    let mut keys = HashSet::new();
    store.scan(zone, "apc_episode", &["EPIKEY"], |b| {
        if let Some(a) = b.column_by_name("EPIKEY").and_then(|c| c.as_any().downcast_ref::<StringArray>()) {
            keys.extend((0..a.len()).filter(|&i| a.is_valid(i)).map(|i| a.value(i).to_owned()));
        }
        Ok(())
    })?;
    Ok(keys)
}

/// A quick no-op when this file's content is already loaded: checked by name
/// and size first so a new file is not read twice.
fn already_loaded(store: &Store, req: &IngestRequest, dataset: &str) -> Result<Option<IngestReport>, IngestError> {
    if req.replace {
        return Ok(None);
    }
    let len = std::fs::metadata(&req.path).map(|m| m.len()).unwrap_or(0);
    let candidates = store.catalog().committed_loads_named(dataset, &req.path.to_string_lossy())?;
    if !candidates.iter().any(|l| l.source_bytes == len) {
        return Ok(None);
    }
    let (sha, _) = hash_file(&req.path)?;
    Ok(store.catalog().committed_load(dataset, &sha)?.map(|prior| no_op(req, dataset, prior)))
}

fn no_op(req: &IngestRequest, dataset: &str, prior: LoadRecord) -> IngestReport {
    IngestReport {
        dataset: dataset.to_owned(),
        file: req.path.display().to_string(),
        outcome: Outcome::AlreadyLoaded,
        warnings: vec![format!(
            "already loaded as {} on {}; nothing changed (use --replace to reload)",
            prior.id, prior.finished_at
        )],
        load_id: prior.id,
        sha256: prior.source_sha256,
        rows_read: 0,
        counts: Vec::new(),
        faults: BTreeMap::new(),
        placeholders: 0,
        quarantine: None,
        unused_columns: Vec::new(),
        missing_columns: Vec::new(),
        dropped_identifiable_columns: Vec::new(),
        replaced: Vec::new(),
        seconds: 0.0,
        spells: Vec::new(),
        optout_list: None,
    }
}

fn dq_rows(validator: &Validator, dq: DqAcc) -> Vec<DqRow> {
    let names: Vec<String> = validator.schema().fields().iter().map(|f| f.name().clone()).collect();
    let mut rows: Vec<DqRow> = dq
        .by_provider
        .into_iter()
        .flat_map(|(provider, cols)| {
            let names = &names;
            cols.into_iter().enumerate().map(move |(c, [rows, filled, valid])| DqRow {
                provider: provider.clone(),
                field: names[c].clone(),
                rows,
                filled,
                valid,
            })
        })
        .collect();
    rows.sort_by(|a, b| (&a.provider, &a.field).cmp(&(&b.provider, &b.field)));
    rows
}

/// Record keys seen so far in this load. Hashed with foldhash (seeded per
/// process): SipHash on tens of millions of keys cost more than the check.
#[derive(Default)]
struct KeySet {
    numbers: hashbrown::HashSet<u64>,
    hashes: hashbrown::HashSet<u128>,
}

impl KeySet {
    fn mark_duplicates(&mut self, v: &mut Validated, key_cols: &[&str]) {
        for row in 0..v.lines.len() {
            let Some(key) = v.keys[row] else { continue };
            if v.rejected[row] {
                continue;
            }
            let fresh = match key {
                RowKey::Number(n) => self.numbers.insert(n),
                RowKey::Hash(h) => self.hashes.insert(h),
            };
            if !fresh {
                v.rejected[row] = true;
                v.faults.push(Fault {
                    line: v.lines[row],
                    field: key_cols.join("+"),
                    reason: "duplicate record key: an earlier row of this file has the same key".into(),
                    action: Action::Rejected,
                });
            }
        }
    }
}

/// The quarantine CSV: `file,line,field,reason,action` — locations and
/// reasons, never values.
struct Quarantine {
    out: BufWriter<File>,
    path: PathBuf,
    file_name: String,
    rows: u64,
    notes: HashMap<String, u64>,
    by_reason: BTreeMap<String, u64>,
}

impl Quarantine {
    fn create(path: &Path, source: &Path) -> Result<Quarantine, IngestError> {
        let file = File::create(path).map_err(|source| IngestError::Write { path: path.to_owned(), source })?;
        let mut out = BufWriter::new(file);
        writeln!(out, "file,line,field,reason,action").map_err(|source| IngestError::Write { path: path.to_owned(), source })?;
        Ok(Quarantine {
            out,
            path: path.to_owned(),
            file_name: csv_field(&source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
            rows: 0,
            notes: HashMap::new(),
            by_reason: BTreeMap::new(),
        })
    }

    fn record(&mut self, faults: &[Fault]) -> Result<(), IngestError> {
        for f in faults {
            *self.by_reason.entry(format!("{}: {} ({})", f.field, f.reason, f.action.as_str())).or_default() += 1;
            if f.action != Action::Rejected {
                let n = self.notes.entry(f.field.clone()).or_default();
                *n += 1;
                if *n > NOTES_PER_FIELD {
                    continue;
                }
            }
            writeln!(
                self.out,
                "{},{},{},{},{}",
                self.file_name,
                f.line,
                csv_field(&f.field),
                csv_field(&f.reason),
                f.action.as_str()
            )
            .map_err(|source| IngestError::Write { path: self.path.clone(), source })?;
            self.rows += 1;
        }
        Ok(())
    }

    /// Flushes; returns whether anything was quarantined (an empty file is removed).
    fn finish(&mut self) -> Result<bool, IngestError> {
        let err = |source| IngestError::Write { path: self.path.clone(), source };
        self.out.flush().map_err(err)?;
        self.out.get_ref().sync_all().map_err(|source| IngestError::Write { path: self.path.clone(), source })?;
        if self.rows == 0 {
            let _ = std::fs::remove_file(&self.path);
        }
        Ok(self.rows > 0)
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

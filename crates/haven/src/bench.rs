//! `haven bench catalogue`: the indicator catalogue over a national year
//! (issue 5 §6), timed beside DuckDB computing the same definitions on the
//! same files — from the zone's Parquet, and end to end from the
//! pipe-delimited extract.
//!
//! DuckDB runs the SQL Haven's engine generates, translated where the two
//! dialects differ (date arithmetic; the spell key function as a macro), so
//! both compute the same definitions. Indicators that call Haven's clinical-code functions
//! (avoidable admissions, EBI) have no DuckDB equivalent; Haven is timed on
//! the whole catalogue and on the shared subset, and the ratio uses the
//! subset.
//!
//! Benchmarks need no sign-in, so they must never reach a real store
//! (issue 14 §3): every bench checks its arguments before it touches the
//! disk, then works only in a [`Scratch`] folder it created itself and
//! marked as its own, and deletes only that.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use haven_analytics::catalogue::Base;
use haven_analytics::{catalogue, compute_catalogue, Breakdown, Indicator, Period, Scope, Source};
use haven_governance::disclosure::Policy;
use haven_governance::dsa::{Purpose, Role};
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_ingest::{dir, IngestPolicy, IngestRequest, Keys, Origin};
use haven_store::{Store, Zone, ZoneSession};

use crate::cli::{BenchCatalogueArgs, Cli};
use crate::commands::peak_rss_mib;

/// The national datasets the catalogue reads.
const DATASETS: [&str; 3] = ["apc_episode", "op_attendance", "ecds_attendance"];

/// Resets this process's peak-RSS mark so a phase's peak is its own
/// (Linux `clear_refs` 5). False where the kernel refuses: each peak is then
/// the process's since it started.
pub(crate) fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The seconds a bench spent generating and loading its synthetic ICB
/// (`None`: that step was skipped on `--reuse`).
pub(crate) struct Prepared {
    pub(crate) generate: Option<f64>,
    pub(crate) load: Option<f64>,
}

/// The synthetic ICB of a scratch folder (`bench iv`, `bench risk`):
/// generates `years` financial years from 2024-25 at `scale` into
/// `<scratch>/synth` unless a manifest is already there, and loads its
/// DSCRO flows and reference tables (not the national extract) into the
/// scratch data directory — or, with `reuse` and a loaded store, nothing.
/// `what` names the generated period in progress lines.
pub(crate) fn generate_and_load(scratch: &Scratch, scale: haven_synth::Scale, years: u32, reuse: bool, what: &str) -> Result<Prepared> {
    let (synth, data) = (scratch.root().join("synth"), scratch.data());
    let mut prepared = Prepared { generate: None, load: None };
    if reuse && data.join("catalog.sqlite").is_file() {
        return Ok(prepared);
    }
    if !synth.join("manifest.json").is_file() {
        let t = Instant::now();
        let cfg = haven_synth::SynthConfig { scale, years, ..Default::default() };
        haven_synth::generate(&cfg, &synth).with_context(|| format!("generating {what}"))?;
        let secs = t.elapsed().as_secs_f64();
        eprintln!("haven: generated {what} in {secs:.0} s");
        prepared.generate = Some(secs);
    }
    let plan = dir::plan(&synth)?;
    let (secs, _) = ingest_where(plan, &data, &scratch.keys(), |f| f.origin != Origin::National)?;
    eprintln!("haven: loaded the DSCRO flows and reference tables in {secs:.0} s");
    prepared.load = Some(secs);
    Ok(prepared)
}

/// The file a benchmark writes in a scratch folder when it creates it.
const MARKER: &str = "haven-bench-scratch";

/// The only user a benchmark's own data directory holds.
pub(crate) const BENCH_ANALYST: &str = "bench.analyst";
/// The invoice-validation bench's own CEfF user.
pub(crate) const BENCH_FINANCE: &str = "bench.finance";

/// A folder a benchmark created, marked as its own; the only place a bench
/// writes or deletes.
pub(crate) struct Scratch {
    root: PathBuf,
}

impl Scratch {
    /// Creates a new scratch folder: `given` (which must not exist yet; its
    /// parent must), or a new folder under the system's temporary folder.
    /// An existing folder is refused whatever it holds: a bench never
    /// empties a folder it did not make.
    pub(crate) fn create(given: Option<&Path>, prefix: &str) -> Result<Scratch> {
        let root = match given {
            Some(p) => p.to_path_buf(),
            None => {
                let mut random = [0u8; 8];
                getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness for a scratch folder name: {e}"))?;
                std::env::temp_dir().join(format!("{prefix}-{}", haven_store::hex(&random)))
            }
        };
        match std::fs::create_dir(&root) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                bail!("refused: scratch folder {} already exists; a benchmark works only in a new folder it creates (give a path that does not exist)", root.display())
            }
            Err(e) => return Err(e).with_context(|| format!("creating scratch folder {}", root.display())),
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(root.join(MARKER))
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"made by haven bench; deleted by it\n"))
            .with_context(|| format!("marking scratch folder {}", root.display()))?;
        Ok(Scratch { root })
    }

    /// A scratch folder an earlier `bench catalogue --scratch` created: it
    /// carries the marker, and its data directory (if any) holds nothing a
    /// real store has — no audit entry but the bench's own import of the
    /// demo agreement (every real store's first administrator is audited)
    /// and no user but the bench's own.
    pub(crate) fn reuse(path: &Path) -> Result<Scratch> {
        let refuse = |why: &str| anyhow::anyhow!("refused: --reuse {}: {why}; a benchmark reuses only a scratch folder it created", path.display());
        if !path.join(MARKER).is_file() {
            return Err(refuse("it is not a benchmark's scratch folder (no marker)"));
        }
        let scratch = Scratch { root: path.to_path_buf() };
        let history = haven_governance::bootstrap::history(&scratch.data())?;
        // A bench's own data directory audits one thing: importing the demo
        // agreement its loads run under. A real store's log also holds the
        // first administrator's creation, at least.
        if history.audit_actions.iter().any(|a| a != "dsa.import") {
            return Err(refuse("its data directory has an audit log"));
        }
        if history.users.iter().any(|u| u != BENCH_ANALYST && u != BENCH_FINANCE) {
            return Err(refuse("its data directory has users of its own"));
        }
        Ok(scratch)
    }

    /// The data directory inside.
    pub(crate) fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The keys folder inside.
    pub(crate) fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// The folder itself.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Deletes the folder, which the bench made (checked again by its marker).
    pub(crate) fn remove(self) {
        if self.root.join(MARKER).is_file() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

pub fn bench_catalogue(cli: &Cli, a: &BenchCatalogueArgs) -> Result<()> {
    // Every argument is checked before anything is created or opened.
    let period = Period::parse(&a.period)?;
    let plan = dir::plan(&a.from).with_context(|| format!("--from {}", a.from.display()))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let scratch = match (&a.scratch, a.reuse) {
        (Some(path), true) => Scratch::reuse(path)?,
        (given, _) => Scratch::create(given.as_deref(), "haven-bench-catalogue")?,
    };
    let data = scratch.data();

    let (ingest_secs, derive_secs) = match a.reuse && data.join("catalog.sqlite").is_file() {
        true if a.rederive => {
            reset_peak();
            (None, Some(rederive(&data)?))
        }
        true => (None, None),
        false => {
            let (all, derive) = ingest(plan, &data, &scratch.keys())?;
            (Some(all), Some(derive))
        }
    };
    let ingest_peak = peak_rss_mib();
    let zs = open_session(&data, &scratch.keys())?;
    let mut scope = Scope::of(&zs, Source::National, period);
    scope.readmissions = a.readmission.options();
    // Only what the extract holds (an APC-only extract has no OP or ECDS).
    let all: Vec<Indicator> = catalogue().into_iter().filter(|i| haven_analytics::engine::available(&zs, Source::National, i)).collect();
    let shared: Vec<Indicator> = all.iter().filter(|i| i.base != Base::Admissions).cloned().collect();
    let by = [Breakdown::Total, Breakdown::Icb];

    let time = |inds: &[Indicator]| -> Result<(f64, f64, usize)> {
        reset_peak();
        let t = Instant::now();
        let tables = compute_catalogue(&zs, &scope, &Policy::default(), inds, &by)?;
        Ok((t.elapsed().as_secs_f64(), peak_rss_mib().unwrap_or(f64::NAN), tables.len()))
    };
    let (full_secs, full_peak, full_tables) = time(&all)?;
    let (shared_secs, shared_peak, _) = time(&shared)?;
    let episodes = zs.count_rows(Zone::National, "apc_episode")?;
    if !cli.json {
        // Printed before DuckDB runs, so a failed comparison loses nothing.
        eprintln!("haven: ingest {ingest_secs:?} s, catalogue {full_secs:.1} s (peak {full_peak:.0} MiB), shared subset {shared_secs:.1} s (peak {shared_peak:.0} MiB)");
    }

    // Not timed: the same queries again, for comparing answers with DuckDB.
    let answer = if a.duckdb { Some(haven_answer(&zs, &shared, &by, &scope)?) } else { None };
    let duck = if a.duckdb {
        let store = Store::open(&data)?;
        // DuckDB has no spells derived at ingest: it runs the reference SQL
        // that derives them from episodes, as Haven does without them.
        let reference = duckdb_queries(&shared, &by, &scope.clone().from_episodes());
        let parquet = duckdb_run(scratch.root(), &parquet_tables(&store)?, &reference)?;
        if !cli.json {
            eprintln!("duckdb: shared subset on the episode Parquet {:.1} s (peak {:.0} MiB)", parquet.query, parquet.peak);
        }
        // The same engine-independent question on equal inputs: Haven's SQL
        // over the derived spells, run by DuckDB on the same files.
        let derived = if scope.derived_spells { Some(duckdb_run(scratch.root(), &parquet_tables(&store)?, &duckdb_queries(&shared, &by, &scope))?) } else { None };
        let csv = duckdb_run(scratch.root(), &csv_tables(&a.from, &store)?, &reference)?;
        Some((parquet, csv, derived))
    } else {
        None
    };
    // Not timed: each indicator's England total, exact (the national policy
    // of a benchmark's own data directory), for comparing definitions.
    let totals: Option<Vec<serde_json::Value>> = if a.totals {
        let exact = Policy { national: true, ..Policy::default() };
        let tables = compute_catalogue(&zs, &scope, &exact, &all, &[Breakdown::Total])?;
        let cell = |c: Option<haven_governance::disclosure::Cell>| match c {
            Some(haven_governance::disclosure::Cell::Value(v)) => Some(v),
            _ => None,
        };
        Some(tables.iter().map(|t| serde_json::json!([t.indicator, cell(t.total.numerator), cell(t.total.denominator), t.total.value])).collect())
    } else {
        None
    };
    // Every DuckDB run must answer as Haven did, or the timings compare
    // different work.
    let agree = duck.as_ref().is_none_or(|d| duck_answers(d).iter().flatten().all(|x| Some(*x) == answer));
    let result = serde_json::json!({
        "bench": "catalogue", "from": a.from, "period": period.label(), "threads": threads,
        "national_apc_episodes": episodes, "breakdowns": ["total", "icb"],
        "haven_ingest_seconds": ingest_secs, "haven_ingest_peak_rss_mib": ingest_peak, "haven_derive_spells_seconds": derive_secs,
        "haven_catalogue_seconds": full_secs, "haven_catalogue_peak_rss_mib": full_peak, "haven_catalogue_tables": full_tables,
        "haven_shared_seconds": shared_secs, "haven_shared_peak_rss_mib": shared_peak, "shared_indicators": shared.len(),
        "duckdb_parquet_seconds": duck.as_ref().map(|d| d.0.query), "duckdb_parquet_peak_rss_mib": duck.as_ref().map(|d| d.0.peak),
        "duckdb_csv_load_seconds": duck.as_ref().map(|d| d.1.load), "duckdb_csv_query_seconds": duck.as_ref().map(|d| d.1.query),
        "duckdb_csv_peak_rss_mib": duck.as_ref().map(|d| d.1.peak),
        "haven_derived_spells": scope.derived_spells,
        "duckdb_on_derived_spells_seconds": duck.as_ref().and_then(|d| d.2.as_ref()).map(|d| d.query),
        "duckdb_on_derived_spells_peak_rss_mib": duck.as_ref().and_then(|d| d.2.as_ref()).map(|d| d.peak),
        "haven_answer": answer,
        "duckdb_answers": duck.as_ref().map(duck_answers),
        "answers_agree": duck.as_ref().map(|_| agree),
        "england_totals": totals,
    });
    if cli.json {
        println!("{result}");
    } else {
        println!("bench catalogue: {episodes} national APC episodes, {} on {threads} threads", period.label());
        match (ingest_secs, derive_secs) {
            (Some(s), d) => println!("  haven ingest (APC, OP, ECDS, reference)  {s:>8.1} s  peak {:.0} MiB  (of which deriving spells {:.1} s)", ingest_peak.unwrap_or(f64::NAN), d.unwrap_or(0.0)),
            (None, Some(d)) => println!("  haven spells derived again              {d:>8.1} s  peak {:.0} MiB", ingest_peak.unwrap_or(f64::NAN)),
            (None, None) => {}
        }
        println!("  haven catalogue ({} indicators)        {full_secs:>8.1} s  peak {full_peak:.0} MiB", all.len());
        println!("  haven shared subset ({} indicators)     {shared_secs:>8.1} s  peak {shared_peak:.0} MiB", shared.len());
        for t in totals.iter().flatten() {
            println!("  England {:<34} numerator {:>10}  denominator {:>10}  value {}", t[0].as_str().unwrap_or(""), t[1], t[2], t[3]);
        }
        if let Some(runs @ (p, c, d)) = &duck {
            println!("  duckdb shared subset on the Parquet     {:>8.1} s  peak {:.0} MiB", p.query, p.peak);
            if let Some(d) = d {
                println!("  duckdb same SQL as haven on the spells  {:>8.1} s  peak {:.0} MiB", d.query, d.peak);
            }
            println!("  duckdb CSV load + shared subset         {:>8.1} s  peak {:.0} MiB  (load {:.1} s, query {:.1} s)", c.load + c.query, c.peak, c.load, c.query);
            match (answer, agree) {
                (Some(h), true) => println!("  answers agree: {} rows, integer cells summing to {} in every run", h.rows, h.sum),
                _ => println!("  ANSWERS DIFFER: haven {answer:?}; duckdb Parquet, CSV, on the spells {:?}", duck_answers(runs)),
            }
            println!("  ratio haven / duckdb, Parquet: {:.2}", shared_secs / p.query);
            if let Some(s) = ingest_secs {
                println!("  ratio haven / duckdb, end to end: {:.2}", (s + shared_secs) / (c.load + c.query));
            }
        }
    }
    // A named scratch folder stays for `--reuse`; a temporary one goes.
    if a.scratch.is_none() {
        scratch.remove();
    }
    if !agree {
        bail!("DuckDB's answers differ from Haven's: the definitions or their translation disagree");
    }
    Ok(())
}

/// DuckDB's answers: on the episode Parquet, from the CSV, and on the
/// derived spells when Haven has them.
fn duck_answers((parquet, csv, derived): &(Duck, Duck, Option<Duck>)) -> [Option<Answer>; 3] {
    [Some(parquet.answer), Some(csv.answer), derived.as_ref().map(|d| d.answer)]
}

/// Loads the reference tables and the national APC, OP and ECDS files of
/// the planned folder into the scratch data directory (new, or a bench's
/// own) and derives the spells; returns the seconds taken in all and
/// deriving spells.
fn ingest(plan: dir::Plan, data: &Path, keys: &Path) -> Result<(f64, f64)> {
    let wanted = |name: &str| DATASETS.iter().any(|d| name == format!("national.{d}"));
    ingest_where(plan, data, keys, |f| f.origin == Origin::Reference || wanted(&f.name()))
}

/// Loads the planned files `keep` accepts (see [`ingest`]).
pub(crate) fn ingest_where(plan: dir::Plan, data: &Path, keys: &Path, keep: impl Fn(&haven_ingest::feed::Feed) -> bool) -> Result<(f64, f64)> {
    Keys::init(keys)?;
    let mut store = Store::open_for_write(data)?;
    // Loaded under the demo agreement (imported, audited), so the benchmark
    // session's grant admits them like any other load.
    let (name, text) = crate::governance::DEMO_DSA;
    let demo = crate::governance::import_dsa(data, keys, name, text)?;
    let mut policy = IngestPolicy::for_icb("QMJ");
    policy.dsa = Some(demo.agreement().dsa.id.clone());
    policy.dsa_version = Some(demo.agreement().version.version);
    let t = Instant::now();
    let mut spells = Vec::new();
    for (feed, path) in plan.files.into_iter().filter(|(f, _)| keep(f)) {
        let report = crate::ingest::load_one(&mut store, &IngestRequest::new(feed, &path, policy.clone(), keys), true)?;
        spells.extend(report.spells);
    }
    spells.extend(haven_ingest::spells::refresh(&mut store)?);
    let mut derive = 0.0;
    for r in spells {
        if let Some(s) = r.streamed_seconds {
            eprintln!("haven: gathered {} {} episodes into spells during their load ({:.1} s alongside it)", r.episodes, r.zone, s);
        }
        eprintln!("haven: derived {} spells from {} {} episodes in {:.1} s", r.spells, r.episodes, r.zone, r.seconds);
        derive += r.seconds;
    }
    Ok((t.elapsed().as_secs_f64(), derive))
}

/// Derives every zone's spells again from the loaded episodes; returns the
/// seconds taken.
fn rederive(data: &Path) -> Result<f64> {
    let mut store = Store::open_for_write(data)?;
    let mut secs = 0.0;
    for zone in haven_ingest::spells::ZONES {
        if !store.catalog().files(zone, haven_ingest::spells::SOURCE)?.is_empty() {
            let r = haven_ingest::spells::rebuild(&mut store, zone)?;
            eprintln!("haven: derived {} spells from {} {} episodes in {:.1} s", r.spells, r.episodes, r.zone, r.seconds);
            secs += r.seconds;
        }
    }
    Ok(secs)
}

/// A governed session over the national extract, as a benchmarking analyst
/// of the demo agreement (created in the scratch data directory).
fn open_session(data: &Path, keys: &Path) -> Result<ZoneSession> {
    crate::analytics::ensure_tool_analyst(data, BENCH_ANALYST)?;
    let users = Users::open(data)?;
    // The scratch store obeys only what is imported into it, like any other.
    let (name, text) = crate::governance::DEMO_DSA;
    let dsa = crate::governance::import_dsa(data, keys, name, text)?.agreement().dsa.clone();
    let g = grant(&users, BENCH_ANALYST, Role::Analyst, Purpose::PopulationHealthBenchmarking, &dsa, crate::governance::today())?;
    Ok(ZoneSession::open(&Store::open(data)?, &g)?)
}

/// Haven's SQL, one query per base.
fn haven_queries(indicators: &[Indicator], by: &[Breakdown], scope: &Scope) -> Vec<String> {
    let mut bases: Vec<Base> = indicators.iter().map(|i| i.base).collect();
    bases.sort();
    bases.dedup();
    bases
        .into_iter()
        .map(|b| {
            let of: Vec<&Indicator> = indicators.iter().filter(|i| i.base == b).collect();
            haven_analytics::engine::sql(b, &of, by, scope)
        })
        .collect()
}

/// Haven's SQL per base, in DuckDB's dialect: DataFusion casts a date to
/// its day number, DuckDB subtracts the epoch.
fn duckdb_queries(indicators: &[Indicator], by: &[Breakdown], scope: &Scope) -> Vec<String> {
    haven_queries(indicators, by, scope).iter().map(|q| date_casts_to_duckdb(q)).collect()
}

/// Rewrites every `CAST(<expr> AS INT)` as `(<expr> - DATE '1970-01-01')`
/// (in Haven's SQL only dates are cast to INT).
fn date_casts_to_duckdb(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(i) = rest.find("CAST(") {
        out.push_str(&rest[..i]);
        let inner_start = i + 5;
        let mut depth = 1;
        let mut end = inner_start;
        for (k, c) in rest[inner_start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = inner_start + k;
                break;
            }
        }
        let inner = date_casts_to_duckdb(&rest[inner_start..end]);
        match inner.strip_suffix(" AS INT") {
            Some(expr) => out.push_str(&format!("(({expr}) - DATE '1970-01-01')")),
            None => out.push_str(&format!("CAST({inner})")),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Each table DuckDB reads: its Parquet files, or its CSV with column types.
fn parquet_tables(store: &Store) -> Result<serde_json::Value> {
    let mut t = serde_json::Map::new();
    for (zone, ds) in DATASETS.iter().chain([&haven_ingest::spells::DATASET]).map(|d| (Zone::National, *d)).chain([(Zone::Reference, "org")]) {
        let files: Vec<String> = store.dataset_files(zone, ds)?.iter().map(|p| p.display().to_string()).collect();
        if files.is_empty() {
            continue;
        }
        t.insert(format!("{}.{ds}", zone.name()), serde_json::json!({"parquet": files}));
    }
    Ok(serde_json::Value::Object(t))
}

fn csv_tables(from: &Path, store: &Store) -> Result<serde_json::Value> {
    let mut t = serde_json::Map::new();
    let sources: [(Zone, &str, PathBuf); 4] = [
        (Zone::National, "apc_episode", from.join("national/apc_episode.psv")),
        (Zone::National, "op_attendance", from.join("national/op_attendance.psv")),
        (Zone::National, "ecds_attendance", from.join("national/ecds_attendance.psv")),
        (Zone::Reference, "org", from.join("reference/org.psv")),
    ];
    for (zone, ds, path) in sources {
        let Some(file) = store.dataset_files(zone, ds)?.into_iter().next() else { continue };
        let reader = std::fs::File::open(&file).with_context(|| file.display().to_string())?;
        let meta = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(reader)?;
        // The zone's schema is the canonical one; columns the extract lacks
        // are null in the zone, and become typed nulls in DuckDB too.
        let header = std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(&path).with_context(|| path.display().to_string())?))
            .next()
            .transpose()?
            .unwrap_or_default();
        let present: Vec<&str> = header.split('|').collect();
        let (mut types, mut missing) = (serde_json::Map::new(), serde_json::Map::new());
        for f in meta.schema().fields() {
            let ty = serde_json::Value::from(duck_type(f.data_type()));
            if present.contains(&f.name().as_str()) {
                types.insert(f.name().clone(), ty);
            } else {
                missing.insert(f.name().clone(), ty);
            }
        }
        t.insert(format!("{}.{ds}", zone.name()), serde_json::json!({"csv": path, "types": types, "missing": missing}));
    }
    Ok(serde_json::Value::Object(t))
}

fn duck_type(t: &arrow::datatypes::DataType) -> &'static str {
    use arrow::datatypes::DataType as D;
    match t {
        D::Date32 | D::Date64 => "DATE",
        D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64 => "BIGINT",
        D::Float32 | D::Float64 | D::Decimal128(..) => "DOUBLE",
        D::Boolean => "BOOLEAN",
        D::Timestamp(..) => "TIMESTAMP",
        _ => "VARCHAR",
    }
}

struct Duck {
    load: f64,
    query: f64,
    peak: f64,
    answer: Answer,
}

/// What a run of the queries answered, compared across engines: result
/// rows, and the sum of every integer cell (numerators and denominators).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
struct Answer {
    rows: u64,
    sum: i128,
}

/// Haven's answer to its own per-base queries (`scope` as timed).
fn haven_answer(zs: &ZoneSession, indicators: &[Indicator], by: &[Breakdown], scope: &Scope) -> Result<Answer> {
    use arrow::array::{Array, Int64Array};
    let mut a = Answer { rows: 0, sum: 0 };
    for q in haven_queries(indicators, by, scope) {
        for b in zs.sql(&q)? {
            a.rows += b.num_rows() as u64;
            for c in b.columns() {
                if let Some(ints) = c.as_any().downcast_ref::<Int64Array>() {
                    a.sum += ints.iter().flatten().map(i128::from).sum::<i128>();
                }
            }
        }
    }
    Ok(a)
}

/// Runs `queries` in a DuckDB child process over `tables`; times loading
/// (CSV only) and querying separately, with the child's peak RSS.
fn duckdb_run(scratch: &Path, tables: &serde_json::Value, queries: &[String]) -> Result<Duck> {
    let job = scratch.join("duckdb-job.json");
    std::fs::write(&job, serde_json::json!({"tables": tables, "queries": queries}).to_string())?;
    let script = &r#"
import json, sys, time, duckdb
job = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(SPELL_KEY_MACRO)
t = time.time()
for name, src in job["tables"].items():
    schema = name.split(".")[0]
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    if "parquet" in src:
        files = ", ".join("'" + f + "'" for f in src["parquet"])
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{files}])")
    else:
        types = "{" + ", ".join(f"'{k}': '{v}'" for k, v in src["types"].items()) + "}"
        nulls = "".join(f", CAST(NULL AS {v}) AS \"{k}\"" for k, v in src["missing"].items())
        con.execute(f"CREATE TABLE {name} AS SELECT *{nulls} FROM read_csv('{src['csv']}', delim='|', header=true, types={types})")
load = time.time() - t
t = time.time()
rows, total = 0, 0
for q in job["queries"]:
    result = con.execute(q).fetchall()
    rows += len(result)
    total += sum(v for r in result for v in r if isinstance(v, int) and not isinstance(v, bool))
print(load, time.time() - t, PEAK, rows, total)
"#
    .replace("PEAK", PY_PEAK_MIB)
    .replace("SPELL_KEY_MACRO", &format!("{SPELL_KEY_MACRO:?}"));
    let [load, query, peak, rows, sum, ..] = duckdb_script(script, &[job.as_os_str()])?[..] else { bail!("DuckDB printed too few numbers") };
    Ok(Duck { load, query, peak, answer: Answer { rows: rows as u64, sum: sum as i128 } })
}

/// `haven_model::rules::spell_key` as a DuckDB macro, for the engine's
/// `spell_key(...)` calls (Haven registers the Rust function itself): the
/// comparison fails unless DuckDB's answers equal Haven's, so the two
/// cannot drift apart unnoticed.
const SPELL_KEY_MACRO: &str = "CREATE MACRO spell_key(s, p, n, person, adm) AS CASE \
    WHEN s IS NOT NULL AND s <> '' AND s <> '-1' THEN 'S:' || s \
    WHEN n IS NOT NULL AND n <> '' THEN 'P:' || COALESCE(p, '') || ':' || n \
    WHEN person IS NOT NULL AND person <> '' AND adm IS NOT NULL THEN 'A:' || person || ':' || COALESCE(p, '') || ':' || strftime(adm, '%Y-%m-%d') END";

/// Runs a DuckDB Python script with `args`; returns the numbers on its last
/// output line. Scripts report peak memory as VmHWM: a forked child's
/// `ru_maxrss` starts from the parent's.
pub(crate) fn duckdb_script(script: &str, args: &[&std::ffi::OsStr]) -> Result<Vec<f64>> {
    let output = std::process::Command::new("python3").arg("-c").arg(script).args(args).output().context("running python3 for the DuckDB comparison")?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = err.lines().rev().take(6).collect();
        bail!("DuckDB comparison failed (install it with `pip install duckdb`):\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    Ok(last.split_whitespace().filter_map(|x| x.parse().ok()).collect())
}

/// Python that prints this process's peak RSS in MiB.
pub(crate) const PY_PEAK_MIB: &str = r#"next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024.0"#;

#[cfg(test)]
mod tests {
    use super::date_casts_to_duckdb;

    #[test]
    fn date_casts_become_epoch_differences_and_other_casts_stay() {
        let sql = "SELECT CAST(disdate AS INT) - CAST(LEAD(admidate) OVER w AS INT), CAST(SUM(CAST(x AS BIGINT)) AS BIGINT)";
        assert_eq!(
            date_casts_to_duckdb(sql),
            "SELECT ((disdate) - DATE '1970-01-01') - ((LEAD(admidate) OVER w) - DATE '1970-01-01'), CAST(SUM(CAST(x AS BIGINT)) AS BIGINT)"
        );
    }
}

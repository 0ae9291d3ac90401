//! `haven bench iv` (issue 17 §5): invoice validation over a full-size ICB
//! year. The generator writes every resident of the focus ICB (`full-icb`
//! scale: about 1.5 million people for QMJ, one person in 1,000 elsewhere)
//! for one financial year; the DSCRO flows and reference tables load into a
//! scratch store; then Haven reads the CEfF zone and validates every line
//! (timed, with its peak memory), and DuckDB runs the core of the same work
//! on the same Parquet files — each APC line matched to its SUS+ spell by
//! the record key it quotes and repriced from the tariff and MFF — so the
//! two times are a ratio from one run.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use haven_governance::dsa::{Purpose, Role};
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_store::{Store, Zone, ZoneSession};

use crate::bench::{duckdb_script, generate_and_load, reset_peak, Prepared, Scratch, BENCH_FINANCE, PY_PEAK_MIB};
use crate::cli::{BenchIvArgs, Cli};
use crate::commands::peak_rss_mib;


pub fn bench_iv(cli: &Cli, a: &BenchIvArgs) -> Result<()> {
    let scale = haven_synth::Scale::parse(&a.scale).ok_or_else(|| anyhow!("--scale must be small, icb or full-icb, not {:?}", a.scale))?;
    let scratch = match (&a.scratch, a.reuse) {
        (Some(path), true) => Scratch::reuse(path)?,
        (given, _) => Scratch::create(given.as_deref(), "haven-bench-iv")?,
    };
    let result = run(cli, a, scale, &scratch);
    if a.scratch.is_none() {
        scratch.remove();
    }
    result
}

fn run(cli: &Cli, a: &BenchIvArgs, scale: haven_synth::Scale, scratch: &Scratch) -> Result<()> {
    let data = scratch.data();
    let Prepared { generate, load } = generate_and_load(scratch, scale, 1, a.reuse, &format!("the {} year", a.scale))?;
    let zs = open_ceff(&data, &scratch.keys())?;
    reset_peak();
    let t = Instant::now();
    let inputs = haven_finance::read::inputs(&zs)?;
    let read = t.elapsed().as_secs_f64();
    let read_peak = peak_rss_mib().unwrap_or(f64::NAN);
    let v = haven_finance::run(&inputs, &haven_finance::Config::for_icb(""), None);
    let total = t.elapsed().as_secs_f64();
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    let (lines, challenged) = (v.lines.len(), v.challenged().count());
    let apc_price = v.lines.iter().filter(|l| l.setting == "APC" && l.reasons().contains(&haven_finance::Reason::PriceDifference)).count();
    let apc = inputs.lines.iter().filter(|l| l.setting == Some(haven_finance::model::Setting::Apc)).count();
    // DuckDB's count, by Haven: APC lines matched by their record key whose
    // amount differs from the repriced spell by more than £1 either way.
    // Haven challenges only over-billing (Config::challenge_underbilling),
    // and matches lines without a usable key too, so the two counts differ.
    let apc_key_differs = v
        .lines
        .iter()
        .filter(|l| l.setting == "APC" && l.matched_by == haven_finance::matching::MatchedBy::RecordKey)
        .filter(|l| matches!((l.billed, l.expected), (Some(b), Some(e)) if (b - e).abs() > 100))
        .count();
    drop(v);
    drop(inputs);
    let duck = if a.duckdb { Some(duckdb_core(scratch.root(), &Store::open(&data)?)?) } else { None };
    report(cli, a, Timings { generate, load, read, read_peak, total, peak, lines, challenged, apc, apc_price, apc_key_differs }, duck)
}

struct Timings {
    generate: Option<f64>,
    load: Option<f64>,
    read: f64,
    /// Peak resident memory once the inputs are read (before validating).
    read_peak: f64,
    total: f64,
    peak: f64,
    lines: usize,
    challenged: usize,
    apc: usize,
    /// APC lines Haven challenged for their price.
    apc_price: usize,
    /// APC lines matched by key and priced more than £1 off either way
    /// (what DuckDB's join counts).
    apc_key_differs: usize,
}

/// (seconds, peak MiB, APC lines, lines matched, lines priced differently).
type Duck = (f64, f64, u64, u64, u64);

fn report(cli: &Cli, a: &BenchIvArgs, t: Timings, duck: Option<Duck>) -> Result<()> {
    if cli.json {
        let v = serde_json::json!({
            "scale": a.scale, "generate_seconds": t.generate, "load_seconds": t.load,
            "haven_read_seconds": t.read, "haven_read_peak_rss_mib": t.read_peak, "haven_validate_seconds": t.total, "haven_peak_rss_mib": t.peak,
            "lines": t.lines, "apc_lines": t.apc, "challenged": t.challenged, "apc_price_challenged": t.apc_price, "apc_matched_by_key_priced_differently": t.apc_key_differs,
            "duckdb_core_join_seconds": duck.map(|d| d.0), "duckdb_peak_rss_mib": duck.map(|d| d.1),
            "duckdb_apc_lines": duck.map(|d| d.2), "duckdb_matched": duck.map(|d| d.3), "duckdb_price_differs": duck.map(|d| d.4),
            "ratio_haven_to_duckdb": duck.map(|d| t.total / d.0),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("haven bench iv, scale {} (one financial year), 2-core figures as measured here", a.scale);
    if let Some(g) = t.generate {
        println!("  generate                               {g:>8.1} s");
    }
    if let Some(l) = t.load {
        println!("  load (DSCRO flows, reference)          {l:>8.1} s");
    }
    println!("  haven: read the CEfF zone              {:>8.1} s  peak {:.0} MiB", t.read, t.read_peak);
    println!("  haven: read + validate {:>9} lines  {:>8.1} s  peak {:.0} MiB  ({} challenged)", t.lines, t.total, t.peak, t.challenged);
    if let Some((secs, peak, apc, matched, differs)) = duck {
        println!("  duckdb: APC match + reprice join       {secs:>8.1} s  peak {peak:.0} MiB  ({apc} APC lines, {matched} matched by key, {differs} priced differently)");
        println!("  haven: {} APC lines, {} challenged for their price; {} matched by key and priced differently either way (DuckDB's measure)", t.apc, t.apc_price, t.apc_key_differs);
        println!("  ratio haven (whole validation) / duckdb (core join): {:.2}", t.total / secs);
    }
    Ok(())
}

/// A finance validator of the demo agreement in the scratch store, and the
/// CEfF session its grant opens.
fn open_ceff(data: &Path, keys: &Path) -> Result<ZoneSession> {
    crate::analytics::ensure_tool_user(data, BENCH_FINANCE, Role::Ceff)?;
    let users = Users::open(data)?;
    let (name, text) = crate::governance::DEMO_DSA;
    let dsa = crate::governance::import_dsa(data, keys, name, text)?.agreement().dsa.clone();
    let g = grant(&users, BENCH_FINANCE, Role::Ceff, Purpose::InvoiceValidation, &dsa, crate::governance::today())?;
    Ok(ZoneSession::open(&Store::open(data)?, &g)?)
}

/// The core of validation in DuckDB over the CEfF Parquet: every APC line
/// joined to the SUS+ spell its record key names (the spell's first
/// episode for HRG, method and class; its first admission and last
/// discharge), to the tariff of the financial year of discharge and the
/// provider's MFF, repriced as `haven_model::rules::price_apc_spell` does
/// (base by admission type, excess bed days over the trim point, the
/// reduced short-stay emergency price), and compared with the amount billed.
fn duckdb_core(scratch: &Path, store: &Store) -> Result<Duck> {
    let files = |zone: Zone, ds: &str| -> Result<String> {
        let f: Vec<String> = store.dataset_files(zone, ds)?.iter().map(|p| format!("'{}'", p.display())).collect();
        if f.is_empty() {
            bail!("no {ds} in the {} zone", zone.name());
        }
        Ok(format!("read_parquet([{}])", f.join(", ")))
    };
    let sql = CORE_SQL
        .replace("{lines}", &files(Zone::Ceff, "invoice_line")?)
        .replace("{episodes}", &files(Zone::Ceff, "apc_episode")?)
        .replace("{tariff}", &files(Zone::Reference, "tariff_apc")?)
        .replace("{mff}", &files(Zone::Reference, "mff")?);
    let job = scratch.join("duckdb-iv.sql");
    std::fs::write(&job, &sql)?;
    let script = r#"
import sys, time, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
sql = open(sys.argv[1]).read()
t = time.time()
apc, matched, differs = con.execute(sql).fetchone()
print(time.time() - t, PEAK, apc, matched, differs)
"#
    .replace("PEAK", PY_PEAK_MIB);
    let [secs, peak, apc, matched, differs, ..] = duckdb_script(&script, &[job.as_os_str()])?[..] else { bail!("DuckDB printed too few numbers") };
    Ok((secs, peak, apc as u64, matched as u64, differs as u64))
}

const CORE_SQL: &str = r#"
WITH ep AS (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY "SUSSPELLID" ORDER BY "EPIORDER", "EPISTART") AS rn,
         MIN("ADMIDATE") OVER (PARTITION BY "SUSSPELLID") AS adm, MAX("DISDATE") OVER (PARTITION BY "SUSSPELLID") AS dis
  FROM {episodes} WHERE "SUSSPELLID" IS NOT NULL AND "SUSSPELLID" <> '-1'
),
spell AS (SELECT * FROM ep WHERE rn = 1),
line AS (SELECT * FROM {lines} WHERE "ACTIVITY_TYPE" = 'APC'),
matched AS (
  SELECT l."LINE_AMOUNT" AS billed, s."SUSHRG" AS hrg, s."ADMIMETH" AS admimeth, s."CLASSPAT" AS classpat, s."PROCODE3" AS provider,
         s.adm, s.dis, s."STARTAGE" AS age, s."SUSSPELLID" AS key,
         CAST(CASE WHEN month(COALESCE(s.dis, s.adm)) >= 4 THEN year(COALESCE(s.dis, s.adm)) ELSE year(COALESCE(s.dis, s.adm)) - 1 END AS INT) AS fy
  FROM line l LEFT JOIN spell s
    ON s."SUSSPELLID" = l."SUS_RECORD_KEY" AND s."TOKEN_PERSON_ID" = l."TOKEN_PERSON_ID" AND s."PROCODE3" = l."PROCODE3" AND s.adm = l."ACTIVITY_DATE"
),
priced AS (
  SELECT m.*, t.*, COALESCE(f."MFF_PAYMENT_INDEX", 1.0) AS mff,
         GREATEST(COALESCE(date_diff('day', m.adm, m.dis), 0), 0) AS los,
         m.admimeth IN ('11', '12', '13') AS elective
  FROM matched m
  LEFT JOIN {tariff} t ON t."HRG" = m.hrg AND t."FYEAR" = lpad(CAST(m.fy % 100 AS VARCHAR), 2, '0') || lpad(CAST((m.fy + 1) % 100 AS VARCHAR), 2, '0')
  LEFT JOIN {mff} f ON f."PROCODE3" = m.provider AND f."FYEAR" = t."FYEAR"
),
base AS (
  SELECT billed, key, mff, "LONG_STAY_PER_DAY" AS per_day, los,
    CASE WHEN elective THEN COALESCE("COMBINED_DC_EL_PRICE", CASE WHEN classpat = '2' THEN "DC_PRICE" ELSE "EL_PRICE" END)
         WHEN NOT elective AND los <= 1 AND "SSEM_APPLICABLE" AND "SSEM_PRICE" IS NOT NULL AND (CASE WHEN age >= 7001 THEN 0 ELSE COALESCE(age, 0) END) >= 19 THEN "SSEM_PRICE"
         ELSE "NEL_PRICE" END AS price,
    CASE WHEN elective AND classpat = '1' THEN "EL_TRIM_POINT_DAYS" WHEN NOT elective THEN "NEL_TRIM_POINT_DAYS" END AS trim
  FROM priced
)
SELECT COUNT(*) AS apc, COUNT(key) AS matched,
       SUM(CASE WHEN key IS NOT NULL AND price IS NOT NULL
                 AND abs(billed - round((price + GREATEST(los - COALESCE(trim, los), 0) * per_day) * mff)) > 100 THEN 1 ELSE 0 END) AS differs
FROM base
"#;

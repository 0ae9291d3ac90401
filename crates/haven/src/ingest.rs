//! `haven ingest`, `haven keys`, `haven loads`, `haven dq` and
//! `haven bench ingest`: the DSCRO stage at the command line.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use haven_ingest::{dir, ingest, Feed, IngestPolicy, IngestReport, IngestRequest, Keys, Minimisation, Origin, Outcome};
use haven_ingest::spells::SpellReport;
use haven_store::{Catalog, DqRow, Store, Zone};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{BenchIngestArgs, Cli, DqArgs, IngestArgs, KeysCommand, LoadsArgs};

const ICB_SETTING: &str = "controller_icb";

/// Where the keys live: `--keys-dir`, or `<data-dir>.keys` beside the data.
pub fn keys_dir(cli: &Cli) -> PathBuf {
    cli.keys_dir.clone().unwrap_or_else(|| {
        let mut name = cli.data_dir.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "haven-data".into());
        name.push(".keys");
        cli.data_dir.with_file_name(name)
    })
}

pub fn keys(cli: &Cli, what: &KeysCommand) -> Result<()> {
    let dir = keys_dir(cli);
    Keys::check_location(&dir, &cli.data_dir)?;
    match what {
        KeysCommand::Init => {
            let created = Keys::init(&dir)?;
            let names: Vec<&str> = created.iter().map(|z| z.name()).collect();
            let ids = Keys::load(&dir, &created)?.ids_json();
            crate::governance::audit(&cli.data_dir, crate::governance::event("admin", "administration", "", "keys.init", &dir.display().to_string(), "ok", serde_json::json!({"created": names, "key_ids": ids})))?;
            if cli.json {
                let names: Vec<&str> = created.iter().map(|z| z.name()).collect();
                println!("{}", serde_json::json!({"keys_dir": dir, "created": names}));
            } else if created.is_empty() {
                println!("All zone keys already exist in {}; nothing changed.", dir.display());
            } else {
                for z in &created {
                    println!("created key for zone {z} in {}", dir.display());
                }
            }
        }
        KeysCommand::Rotate { zone } => rotate_key(cli, &dir, zone)?,
        KeysCommand::List => {
            let zones: Vec<Zone> = Zone::ALL.into_iter().filter(|z| z.has_key()).collect();
            let keys = Keys::load(&dir, &zones)?;
            if cli.json {
                println!("{}", keys.ids_json());
            } else {
                for z in zones {
                    println!("{:<14} key id {}", z.name(), keys.get(z).map(|k| k.id()).unwrap_or_default());
                }
            }
        }
    }
    Ok(())
}

/// `haven keys rotate --zone Z`: refused while the zone (or, for the
/// pseudonymised key, the direct-care map that carries its tokens) holds
/// data, since tokens made under different keys do not link; otherwise the
/// new key replaces the old (kept, retired) and the catalog and the audit
/// chain record both ids. A refusal is audited too.
fn rotate_key(cli: &Cli, dir: &Path, zone: &str) -> Result<()> {
    let z = Zone::from_name(zone).filter(|z| z.has_key()).ok_or_else(|| {
        anyhow!("--zone {zone:?}: expected a zone with a key (ceff, direct_care or pseudonymised)")
    })?;
    let mut store = Store::open_for_write(&cli.data_dir)?;
    let holders: &[Zone] = if z == Zone::Pseudonymised { &[Zone::Pseudonymised, Zone::DirectCare] } else { &[z] };
    let mut held = Vec::new();
    for h in holders {
        held.extend(store.catalog().datasets(*h)?.into_iter().map(|d| format!("{h}.{d}")));
    }
    let audit = |outcome: &str, detail: serde_json::Value| {
        crate::governance::audit(&cli.data_dir, crate::governance::event("admin", "administration", "", "keys.rotate", z.name(), outcome, detail))
    };
    if !held.is_empty() {
        let reason = format!(
            "zone {z} holds data ({}); tokens made under different keys do not link, so its key cannot be rotated while it holds data",
            held.join(", ")
        );
        audit("refused", serde_json::json!({"reason": reason}))?;
        bail!("refused: {reason}");
    }
    let (old, new) = Keys::rotate(dir, z)?;
    store.catalog_mut().set_setting(&format!("{}{}", haven_ingest::keys::KEY_ID_SETTING, z.name()), &new)?;
    audit("ok", serde_json::json!({"old_key_id": old, "new_key_id": new}))?;
    if cli.json {
        println!("{}", serde_json::json!({"zone": z.name(), "old_key_id": old, "new_key_id": new}));
    } else {
        println!("rotated the key of zone {z}: key id {old} (retired, kept in {}) -> {new}", dir.display());
    }
    Ok(())
}

/// Runs `haven ingest`.
pub fn run_ingest(cli: &Cli, a: &IngestArgs) -> Result<Vec<IngestReport>> {
    let mut store = Store::open_for_write(&cli.data_dir)?;
    let minimisation = Minimisation::parse(&a.minimise).map_err(|e| anyhow!("--minimise: {e}"))?;
    let mut publication = None;
    let (icb_hint, files) = match (&a.from, &a.dataset, &a.file) {
        (Some(from), _, _) => {
            let plan = dir::plan(from)?;
            (plan.icb, plan.files)
        }
        (None, Some(dataset), Some(file)) => match haven_ingest::publisher::Layout::parse(dataset) {
            Some(layout) => {
                publication = Some(layout);
                (None, vec![(Feed { table: layout.table(), origin: Origin::Reference }, file.clone())])
            }
            None => (None, vec![(Feed::parse(dataset)?, file.clone())]),
        },
        _ => bail!("give --from DIR, or --dataset NAME with --file PATH"),
    };
    let icb = controller_icb(&mut store, a.icb.as_deref().or(icb_hint.as_deref()), &files)?;
    let mut policy = IngestPolicy::for_icb(&icb);
    policy.minimisation = minimisation;
    if let Some(spec) = &a.null_placeholders {
        policy.null_placeholders = haven_model::NullPlaceholders::parse(spec).map_err(|e| anyhow!("--null-placeholders: {e}"))?;
    }
    let session = crate::governance::session();
    let dsa = match (a.dsa.as_deref(), session.and_then(|s| s.dsa.as_deref())) {
        (Some(given), Some(signed)) if given != signed => {
            bail!("refused: --dsa {given} differs from the agreement the session runs under ({signed})")
        }
        (given, signed) => given.or(signed),
    };
    if let Some(id) = dsa {
        if let Err(e) = apply_dsa(cli, id, &mut policy, &files) {
            crate::governance::audit(&cli.data_dir, crate::governance::event("dscro", "dscro_processing", id, "ingest", "-", "refused", serde_json::json!({"reason": format!("{e:#}")})))?;
            return Err(e);
        }
    }
    // A signed-in operator is who the lineage names; --operator only labels
    // the demo's own loads.
    match (session, &a.operator) {
        (Some(s), _) => policy.operator = s.user.clone(),
        (None, Some(op)) => policy.operator = op.clone(),
        (None, None) => policy.operator = crate::governance::actor(),
    }
    let mut reports = Vec::new();
    for (feed, path) in files {
        let mut req = match publication {
            Some(layout) => publication_request(cli, &store, layout, &path, a.published.as_deref(), policy.clone())?,
            None => IngestRequest::new(feed, &path, policy.clone(), &keys_dir(cli)),
        };
        req.replace |= a.replace;
        let result = load_one(&mut store, &req, cli.json);
        audit_load(cli, &req, &result)?;
        let report = result.with_context(|| format!("loading {}", path.display()))?;
        if !cli.json {
            print_report(&report);
        }
        reports.push(report);
    }
    refresh_spells(&mut store, cli.json);
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(reports)
}

/// Turns a publisher's reference file (ODS, IoD2019) into its canonical
/// table's file in the data directory: the load request (superseding the
/// earlier publications) for `policy`.
fn publication_request(
    cli: &Cli,
    store: &Store,
    layout: haven_ingest::publisher::Layout,
    file: &Path,
    published: Option<&str>,
    policy: IngestPolicy,
) -> Result<IngestRequest> {
    let published = published.ok_or_else(|| anyhow!("--published YYYY-MM-DD is required for {}: reference files are versioned by publication date", layout.name()))?;
    let date = haven_model::Date::parse(published).map_err(|_| anyhow!("--published {published:?}: expected a date such as 2025-11-14"))?;
    let (req, c) = haven_ingest::publisher::request(store, layout, file, date, policy, &keys_dir(cli))?;
    if !cli.json {
        println!("{:<28} {} rows from {} (published {}, SHA-256 {})", layout.name(), c.rows, file.display(), c.published, &c.source_sha256[..16]);
        for (reason, n) in &c.skipped {
            println!("    {n:>8} rows left out: {reason}");
        }
    }
    Ok(req)
}

/// Rebuilds the derived spell tables whose episodes changed. The loads have
/// committed whatever happens here: if it fails, analytics derives spells
/// from episodes itself, so this warns rather than fails.
pub(crate) fn refresh_spells(store: &mut Store, quiet: bool) {
    match haven_ingest::spells::refresh(store) {
        Ok(reports) if !quiet => reports.iter().for_each(print_spells),
        Ok(_) => {}
        Err(e) => eprintln!("warning: spells not derived ({e}); indicators will derive them from episodes"),
    }
}

/// Runs the load under a Data Sharing Agreement (its latest version in the
/// registry, recorded in the load's lineage): it must be in force today and
/// name the ICB as a controller; its minimisation rules and the opt-out
/// purposes it marks replace the defaults.
fn apply_dsa(cli: &Cli, id: &str, policy: &mut IngestPolicy, files: &[(Feed, PathBuf)]) -> Result<()> {
    let agreement = crate::governance::find_agreement(cli, id)?;
    let dsa = &agreement.dsa;
    dsa.in_force(crate::governance::today())?;
    let local = files.iter().any(|(f, _)| f.origin == Origin::Local);
    if local && !dsa.controllers.iter().any(|c| c.eq_ignore_ascii_case(&policy.icb)) {
        bail!("DSA {id} does not name ICB {} as a controller (controllers: {})", policy.icb, dsa.controllers.join(", "));
    }
    if !dsa.minimisation.is_empty() {
        policy.minimisation = Minimisation::parse(&dsa.minimisation.join(",")).map_err(|e| anyhow!("DSA {id}: {e}"))?;
    }
    let purposes: Vec<String> = dsa.optout_purposes().into_iter().map(str::to_owned).collect();
    policy.optout_purposes.insert(Zone::Pseudonymised, purposes);
    policy.dsa = Some(id.to_owned());
    policy.dsa_version = Some(agreement.version.version);
    Ok(())
}

/// Every load, no-op or failure goes into the audit chain (errors name files,
/// lines and fields, never patient values, so they are safe to keep).
fn audit_load(cli: &Cli, req: &IngestRequest, result: &Result<IngestReport>) -> Result<()> {
    let (outcome, detail) = match result {
        Ok(r) => (
            if r.outcome == Outcome::Loaded { "ok" } else { "already_loaded" },
            serde_json::json!({"load": r.load_id, "file": r.file, "sha256": r.sha256, "rows_read": r.rows_read, "counts": r.counts, "optout_list": r.optout_list}),
        ),
        Err(e) => ("failed", serde_json::json!({"file": req.path, "error": format!("{e:#}")})),
    };
    let dsa = req.policy.dsa.as_deref().unwrap_or("");
    crate::governance::audit(&cli.data_dir, crate::governance::event("dscro", "dscro_processing", dsa, "ingest", &req.feed.name(), outcome, detail))
}

fn controller_icb(store: &mut Store, given: Option<&str>, files: &[(Feed, PathBuf)]) -> Result<String> {
    let saved = store.catalog().setting(ICB_SETTING)?;
    let needs = files.iter().any(|(f, _)| f.origin == Origin::Local);
    match (given, saved) {
        (Some(g), Some(s)) if !g.eq_ignore_ascii_case(&s) => {
            bail!("this data directory belongs to ICB {s}; refusing to load flows for {g} into it")
        }
        (Some(g), _) => {
            let g = g.to_ascii_uppercase();
            store.catalog_mut().set_setting(ICB_SETTING, &g)?;
            Ok(g)
        }
        (None, Some(s)) => Ok(s),
        (None, None) if needs => bail!("no controller ICB known for this data directory: pass --icb ODS"),
        (None, None) => Ok(String::new()),
    }
}

pub(crate) fn load_one(store: &mut Store, req: &IngestRequest, quiet: bool) -> Result<IngestReport> {
    let total = std::fs::metadata(&req.path).map(|m| m.len()).unwrap_or(0);
    let bar = if quiet || total < (64 << 20) { ProgressBar::hidden() } else { ProgressBar::new(total) };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(req.feed.name());
    let report = ingest(store, req, &mut |p| bar.set_position(p.bytes))?;
    bar.finish_and_clear();
    Ok(report)
}

fn print_spells(r: &SpellReport) {
    let streamed = r.streamed_seconds.map(|s| format!(", gathered during the load in {s:.1} s")).unwrap_or_default();
    println!(
        "{:<28} load {}  {} spells from {} episodes in {:.1} s (derived{streamed})",
        format!("{}.{}", r.zone, haven_ingest::spells::DATASET),
        r.load_id.as_deref().unwrap_or("-"),
        r.spells,
        r.episodes,
        r.seconds
    );
    let used: Vec<String> = r.keyed.used().iter().map(|(rule, n)| format!("{n} by {}", rule.describe())).collect();
    let mut line = format!("{:<28} spell keys: {}", "", if used.is_empty() { "none".to_owned() } else { used.join(", ") });
    if r.keyed.unkeyed > 0 {
        line.push_str(&format!("; {} episodes with no spell key (no SUSSPELLID, spell number, or person and admission date) build no spell", r.keyed.unkeyed));
    }
    println!("{line}");
}

fn print_report(r: &IngestReport) {
    if r.outcome == Outcome::AlreadyLoaded {
        println!("{:<28} {}", r.dataset, r.warnings.join("; "));
        return;
    }
    println!(
        "{:<28} load {}  {} rows read in {:.1} s  ({})",
        r.dataset,
        r.load_id,
        r.rows_read,
        r.seconds,
        Path::new(&r.file).file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    );
    for c in &r.counts {
        println!(
            "    {:<14} rejected {:>8}  opted out {:>8}  out of area {:>8}  written {:>10}",
            c.zone.map(|z| z.name()).unwrap_or("-"),
            c.rejected,
            c.opted_out,
            c.out_of_area,
            c.written
        );
    }
    if r.placeholders > 0 {
        println!("    {} values were \"not recorded\" placeholders (e.g. `-` in a diagnosis position), read as null", r.placeholders);
    }
    if let Some(q) = &r.quarantine {
        println!("    quarantine: {q}");
        for (reason, n) in r.faults.iter().take(8) {
            println!("      {n:>8}  {reason}");
        }
        if r.faults.len() > 8 {
            println!("      ... {} more kinds (see the quarantine file and `haven dq`)", r.faults.len() - 8);
        }
    }
    if !r.unused_columns.is_empty() {
        println!("    columns not used ({}): {}", r.unused_columns.len(), abbreviate(&r.unused_columns));
    }
    for w in &r.warnings {
        println!("    warning: {w}");
    }
    r.spells.iter().for_each(print_spells);
}

fn abbreviate(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(12).map(String::as_str).collect();
    if items.len() > 12 {
        format!("{}, ... ({} more)", shown.join(", "), items.len() - 12)
    } else {
        shown.join(", ")
    }
}

pub fn loads(cli: &Cli, a: &LoadsArgs) -> Result<()> {
    let store = Store::open(&cli.data_dir)?;
    let cat = store.catalog();
    let loads = match &a.id {
        Some(id) => vec![cat.load(id)?.ok_or_else(|| anyhow!("no load {id}"))?],
        None => cat.loads()?,
    };
    if cli.json {
        let out: Vec<_> = loads
            .iter()
            .map(|l| -> Result<serde_json::Value> {
                Ok(serde_json::json!({"load": l, "counts": cat.counts(&l.id)?, "files": cat.load_files(&l.id)?, "optout_list": optout_list(l)}))
            })
            .collect::<Result<_>>()?;
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for l in &loads {
        println!(
            "{}  {:<26} {:<10} {}  by {}  dsa {}{}  sha256 {}",
            l.id,
            l.dataset,
            format!("{:?}", l.status).to_lowercase(),
            l.finished_at,
            l.operator,
            l.dsa.as_deref().unwrap_or("-"),
            l.dsa_version.map(|v| format!(" v{v}")).unwrap_or_default(),
            &l.source_sha256[..12.min(l.source_sha256.len())]
        );
        if let Some(list) = optout_list(l) {
            println!("    opt-out list applied: load {}  sha256 {}  loaded {}", list.load, list.sha256, list.loaded_at);
        }
        for c in cat.counts(&l.id)? {
            println!(
                "    {:<14} read {:>9} = rejected {} + opted out {} + out of area {} + written {}",
                c.zone.map(|z| z.name()).unwrap_or("-"),
                c.read,
                c.rejected,
                c.opted_out,
                c.out_of_area,
                c.written
            );
        }
    }
    Ok(())
}

/// The opt-out clean list a load applied, from its lineage summary.
fn optout_list(l: &haven_store::LoadRecord) -> Option<haven_ingest::OptoutList> {
    let summary: serde_json::Value = serde_json::from_str(&l.summary).ok()?;
    serde_json::from_value(summary.get("optout_list")?.clone()).ok()
}

pub fn dq(cli: &Cli, a: &DqArgs) -> Result<()> {
    let store = Store::open(&cli.data_dir)?;
    let cat = store.catalog();
    let loads: Vec<_> = match &a.load {
        Some(id) => vec![cat.load(id)?.ok_or_else(|| anyhow!("no load {id}"))?],
        None => cat.loads()?.into_iter().filter(|l| l.status == haven_store::LoadStatus::Committed).collect(),
    };
    let mut rows: Vec<(String, String, DqRow)> = Vec::new();
    for l in &loads {
        for r in cat.dq(&l.id)? {
            rows.push((l.id.clone(), l.dataset.clone(), r));
        }
    }
    if let Some(out) = &a.out {
        write_dq(out, &rows)?;
    }
    if cli.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(id, ds, r)| serde_json::json!({"load": id, "dataset": ds, "provider": r.provider, "field": r.field,
                "rows": r.rows, "filled": r.filled, "valid": r.valid,
                "completeness": ratio(r.filled, r.rows), "validity": ratio(r.valid, r.filled)}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    print_dq_summary(cat, &loads, &rows)
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// One line per load and provider: overall completeness and validity, then the
/// weakest fields, in the spirit of NHS England's Data Quality Maturity Index
/// (`haven_app::dscro::summarise`, the rule the web app shows too).
fn print_dq_summary(_: &dyn Catalog, loads: &[haven_store::LoadRecord], rows: &[(String, String, DqRow)]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for l in loads {
        let mine: Vec<DqRow> = rows.iter().filter(|(id, _, _)| *id == l.id).map(|(_, _, r)| r.clone()).collect();
        let providers = haven_app::dscro::summarise(&mine);
        writeln!(out, "{} {} ({} providers)", l.dataset, l.id, providers.len())?;
        writeln!(out, "  {:<10} {:>10} {:>13} {:>10}  weakest fields (validity)", "provider", "rows", "completeness", "validity")?;
        for p in providers {
            let weak: Vec<String> = p.weakest.iter().map(|(f, v)| format!("{f} {:.1}%", 100.0 * v)).collect();
            writeln!(
                out,
                "  {:<10} {:>10} {:>12.1}% {:>9.1}%  {}",
                p.provider,
                p.rows,
                100.0 * p.completeness.unwrap_or(0.0),
                100.0 * p.validity.unwrap_or(1.0),
                weak.join(", ")
            )?;
        }
    }
    Ok(())
}

fn write_dq(out: &Path, rows: &[(String, String, DqRow)]) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut csv = String::from("load,dataset,provider,field,rows,filled,valid,completeness,validity\n");
    let mut json = Vec::new();
    for (id, ds, r) in rows {
        let c = ratio(r.filled, r.rows);
        let v = ratio(r.valid, r.filled);
        let fmt = |x: Option<f64>| x.map(|x| format!("{x:.6}")).unwrap_or_default();
        csv.push_str(&format!("{id},{ds},{},{},{},{},{},{},{}\n", r.provider, r.field, r.rows, r.filled, r.valid, fmt(c), fmt(v)));
        json.push(serde_json::json!({"load": id, "dataset": ds, "provider": r.provider, "field": r.field,
            "rows": r.rows, "filled": r.filled, "valid": r.valid, "completeness": c, "validity": v}));
    }
    std::fs::write(out.join("dq.csv"), csv)?;
    std::fs::write(out.join("dq.json"), serde_json::to_string_pretty(&json)?)?;
    Ok(())
}

/// `haven bench ingest`: one file into a fresh data directory, with peak
/// memory, and optionally DuckDB converting the same file to Parquet. The
/// arguments are checked first; then everything happens in a scratch folder
/// the bench creates and deletes (`bench::Scratch`), never in one it did
/// not make.
pub fn bench_ingest(cli: &Cli, a: &BenchIngestArgs) -> Result<()> {
    let feed = Feed::parse(&a.dataset)?;
    let bytes = std::fs::metadata(&a.file)
        .ok()
        .filter(|m| m.is_file())
        .ok_or_else(|| anyhow!("--file {}: no such file", a.file.display()))?
        .len();
    let reference = match &a.reference {
        Some(r) => dir::plan(r).with_context(|| format!("--reference {}", r.display()))?.files,
        None => Vec::new(),
    };
    let scratch = crate::bench::Scratch::create(a.scratch.as_deref(), "haven-bench-ingest")?;
    let result = bench_ingest_in(cli, a, feed, bytes, reference, &scratch);
    scratch.remove();
    result
}

fn bench_ingest_in(cli: &Cli, a: &BenchIngestArgs, feed: Feed, bytes: u64, reference: Vec<(Feed, PathBuf)>, scratch: &crate::bench::Scratch) -> Result<()> {
    let (data, keys) = (scratch.data(), scratch.keys());
    Keys::init(&keys)?;
    let duck = if a.duckdb { Some(duckdb_convert(&a.file, scratch.root())?) } else { None };
    let mut store = Store::open_for_write(&data)?;
    for (feed, path) in reference.into_iter().filter(|(f, _)| f.origin == Origin::Reference) {
        load_one(&mut store, &IngestRequest::new(feed, &path, IngestPolicy::for_icb("QMJ"), &keys), true)?;
    }
    let mut req = IngestRequest::new(feed, &a.file, IngestPolicy::for_icb("QMJ"), &keys);
    req.replace = true;
    // The load alone, as DuckDB's conversion beside it: `bench catalogue`
    // times the spells too.
    req.derive_spells = false;
    let started = Instant::now();
    let report = load_one(&mut store, &req, cli.json)?;
    let secs = started.elapsed().as_secs_f64();
    let peak = crate::commands::peak_rss_mib().unwrap_or(f64::NAN);
    let rows = report.rows_read;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let result = serde_json::json!({
        "bench": "ingest", "file": a.file, "dataset": a.dataset, "bytes": bytes, "rows": rows,
        "seconds": secs, "rows_per_second": rows as f64 / secs, "mib_per_second": bytes as f64 / secs / 1048576.0,
        "peak_rss_mib": peak, "threads": threads,
        "duckdb_seconds": duck.as_ref().map(|d| d.0), "duckdb_peak_rss_mib": duck.as_ref().map(|d| d.1),
        "ratio_duckdb_over_haven": duck.as_ref().map(|d| d.0 / secs),
    });
    if cli.json {
        println!("{result}");
    } else {
        println!("bench ingest: {} ({:.0} MiB, {} rows) on {threads} threads", a.file.display(), bytes as f64 / 1048576.0, rows);
        println!("  haven ingest          {secs:>8.1} s  {:>10.0} rows/s  peak {peak:.0} MiB", rows as f64 / secs);
        if let Some((d, m)) = duck {
            println!("  duckdb CSV -> Parquet {d:>8.1} s  {:>10.0} rows/s  peak {m:.0} MiB", rows as f64 / d);
            println!("  ratio (duckdb time / haven time): {:.2}", d / secs);
        }
    }
    Ok(())
}

/// Times DuckDB's CSV → Parquet of the same file in a child Python process;
/// returns (seconds, peak RSS MiB of that process).
fn duckdb_convert(file: &Path, scratch: &Path) -> Result<(f64, f64)> {
    let out = scratch.join("duckdb.parquet");
    let script = r#"
import sys, time, duckdb
src, dst = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t = time.time()
con.execute(f"COPY (SELECT * FROM read_csv('{src}', delim='|', header=true, all_varchar=false)) TO '{dst}' (FORMAT parquet, COMPRESSION snappy)")
secs = time.time() - t
print(secs, PEAK)
"#
    .replace("PEAK", crate::bench::PY_PEAK_MIB);
    let [secs, peak, ..] = crate::bench::duckdb_script(&script, &[file.as_os_str(), out.as_os_str()])?[..] else {
        bail!("DuckDB printed too few numbers");
    };
    let _ = std::fs::remove_file(&out);
    Ok((secs, peak))
}

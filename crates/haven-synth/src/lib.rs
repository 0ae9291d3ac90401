//! `haven-synth`: a seeded synthetic England with ground truth.
//!
//! [`generate`] writes, for one seed and set of arguments, byte-identical
//! output every time:
//! * `dscro/<ICB>/` — the identifiable flows one ICB's DSCRO receives
//!   (SUS+-style APC, OP, ECDS, critical care, deaths, the GP extract, provider
//!   invoices with backing data, the opt-out clean list), pipe-delimited with
//!   a header row;
//! * `national/` — a pseudonymised HES-style extract of every ICB;
//! * `reference/` — organisations, LSOAs, postcodes, population, tariff, MFF;
//! * `ground_truth/` — every deliberate invoice error and each local person's
//!   true conditions and risk;
//! * `manifest.json` — row counts, seed and parameters.
//!
//! People are generated in chunks, each with its own random stream, in
//! parallel; chunks are written in a fixed order, so memory stays bounded by
//! a window of chunks and the output does not depend on thread count.

pub mod activity;
pub mod clinical;
pub mod geography;
pub mod gp;
pub mod invoice;
pub mod lookup;
pub mod people;
pub mod reference;
pub mod rng;
pub mod rows;
pub mod sink;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use haven_model::age::esp2013_band;
use haven_model::Date;

use activity::{ChunkOut, Plan, Sim};
use geography::{Geography, ICBS};
use invoice::Assembler;
use lookup::Lookup;
use rng::Rng;
use rows::Variant;

/// The one error type of `haven-synth`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("unknown ICB code {0}: expected one of the 42 ICB ODS codes, e.g. QMJ")]
    UnknownIcb(String),
    #[error("invalid option: {0}")]
    Invalid(&'static str),
}

impl SynthError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        SynthError::Io { path: path.to_path_buf(), source }
    }
}

/// How much of England to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// One person in 1,000 (about 58,000 people): seconds, for tests.
    Small,
    /// One person in 50: a demo-sized ICB and national extract.
    Icb,
    /// One person in 4: every national dataset at national proportions,
    /// small enough for the catalogue bench to run DuckDB's in-memory CSV
    /// load beside Haven on one 24 GiB machine (about 5 million APC
    /// episodes a year).
    Quarter,
    /// Everyone: about 20 million APC episodes a year.
    National,
    /// Everyone who lives in the focus ICB (about 1.5 million people for
    /// QMJ), and one person in 1,000 elsewhere (so other commissioners'
    /// patients still appear on its invoices): the full-size ICB year that
    /// `haven bench iv` validates. The national extract is not meant for
    /// benchmarking at this scale.
    FullIcb,
}

impl Scale {
    pub fn fraction(self) -> f64 {
        match self {
            Scale::Small => 0.001,
            Scale::Icb => 0.02,
            Scale::Quarter => 0.25,
            Scale::National | Scale::FullIcb => 1.0,
        }
    }

    /// The share of ICB `icb`'s residents generated when `focus` is the
    /// focus ICB.
    pub fn fraction_of(self, icb: usize, focus: usize) -> f64 {
        match self {
            Scale::FullIcb if icb != focus => Scale::Small.fraction(),
            s => s.fraction(),
        }
    }

    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "small" => Some(Scale::Small),
            "icb" => Some(Scale::Icb),
            "quarter" => Some(Scale::Quarter),
            "national" => Some(Scale::National),
            "full-icb" => Some(Scale::FullIcb),
            _ => None,
        }
    }
}

/// Arguments of one run.
#[derive(Clone, Debug, Serialize)]
pub struct SynthConfig {
    pub seed: u64,
    pub scale: Scale,
    /// ODS code of the ICB whose DSCRO flows are written.
    pub icb: String,
    /// First financial year (2024 = 2024-25).
    pub start_fy: i32,
    pub years: u32,
    /// Write only the APC extracts (used by the generator benchmark).
    pub apc_only: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig { seed: 42, scale: Scale::Small, icb: "QMJ".into(), start_fy: 2024, years: 2, apc_only: false }
    }
}

/// What was written.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub generator: &'static str,
    pub config: SynthConfig,
    pub population_fraction: f64,
    pub period_start: String,
    pub period_end: String,
    pub people: u64,
    pub files: BTreeMap<String, u64>,
    pub invoice_errors: BTreeMap<&'static str, u64>,
}

/// Every streamed output file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Out {
    NationalApc,
    NationalOp,
    NationalEcds,
    NationalCc,
    NationalDeath,
    LocalApc,
    LocalOp,
    LocalEcds,
    LocalCc,
    LocalDeath,
    GpPatient,
    GpRegistration,
    GpEvent,
    GpMedication,
    OptoutClean,
    TruthPerson,
}

impl Out {
    pub const COUNT: usize = 16;
    pub const ALL: [Out; Out::COUNT] = [
        Out::NationalApc,
        Out::NationalOp,
        Out::NationalEcds,
        Out::NationalCc,
        Out::NationalDeath,
        Out::LocalApc,
        Out::LocalOp,
        Out::LocalEcds,
        Out::LocalCc,
        Out::LocalDeath,
        Out::GpPatient,
        Out::GpRegistration,
        Out::GpEvent,
        Out::GpMedication,
        Out::OptoutClean,
        Out::TruthPerson,
    ];

    /// Path under the output folder; `icb` names the DSCRO folder.
    pub fn path(self, icb: &str) -> String {
        let local = |t: &str| format!("dscro/{icb}/{t}.psv");
        match self {
            Out::NationalApc => "national/apc_episode.psv".into(),
            Out::NationalOp => "national/op_attendance.psv".into(),
            Out::NationalEcds => "national/ecds_attendance.psv".into(),
            Out::NationalCc => "national/cc_period.psv".into(),
            Out::NationalDeath => "national/death.psv".into(),
            Out::LocalApc => local("apc_episode"),
            Out::LocalOp => local("op_attendance"),
            Out::LocalEcds => local("ecds_attendance"),
            Out::LocalCc => local("cc_period"),
            Out::LocalDeath => local("death"),
            Out::GpPatient => local("gp_patient"),
            Out::GpRegistration => local("gp_registration"),
            Out::GpEvent => local("gp_event"),
            Out::GpMedication => local("gp_medication"),
            Out::OptoutClean => local("optout_clean_list"),
            Out::TruthPerson => "ground_truth/persons.psv".into(),
        }
    }

    /// The header line, from the same row function that writes values.
    pub fn header(self) -> Vec<u8> {
        use sink::header;
        match self {
            Out::NationalApc => header(|h| rows::apc(h, Variant::National, &Default::default())),
            Out::LocalApc => header(|h| rows::apc(h, Variant::Identifiable, &Default::default())),
            Out::NationalOp => header(|h| rows::op(h, Variant::National, &Default::default())),
            Out::LocalOp => header(|h| rows::op(h, Variant::Identifiable, &Default::default())),
            Out::NationalEcds => header(|h| rows::ecds(h, Variant::National, &Default::default())),
            Out::LocalEcds => header(|h| rows::ecds(h, Variant::Identifiable, &Default::default())),
            Out::NationalCc | Out::LocalCc => header(|h| rows::cc(h, &Default::default())),
            Out::NationalDeath => header(|h| rows::death(h, Variant::National, &Default::default())),
            Out::LocalDeath => header(|h| rows::death(h, Variant::Identifiable, &Default::default())),
            Out::GpPatient => header(|h| gp::patient(h, None)),
            Out::GpRegistration => header(|h| gp::registration(h, None)),
            Out::GpEvent => header(|h| gp::event_row(h, None)),
            Out::GpMedication => header(|h| gp::medication_row(h, None)),
            Out::OptoutClean => b"PURPOSE|NEWNHSNO|CLEANED_ON|SOURCE_FILE\n".to_vec(),
            Out::TruthPerson => b"NEWNHSNO|TOKEN_PERSON_ID|CONDITIONS|EFI_DEFICITS|LOG_RISK|IN_CARE_HOME|OPTED_OUT|DATE_OF_DEATH\n".to_vec(),
        }
    }

    fn is_apc(self) -> bool {
        matches!(self, Out::NationalApc | Out::LocalApc)
    }
}

/// People per chunk: small enough to bound memory, large enough to amortise.
const CHUNK: u64 = 20_000;

struct Chunk {
    icb: usize,
    first_idx: u64,
    len: u64,
    no: u64,
}

/// Generates everything into `out_dir` and returns the manifest.
pub fn generate(cfg: &SynthConfig, out_dir: &Path) -> Result<Manifest, SynthError> {
    generate_with_progress(cfg, out_dir, &mut |_, _| {})
}

/// Generates `cfg` once into `root/<scale>-<key>` and returns that folder,
/// reusing it when it is already complete.
///
/// Test binaries share one generated dataset this way instead of each
/// process generating (and, through a never-dropped static, leaking) its own.
/// `key` must change whenever the output could (callers pass the mtime of
/// the executable that links the generator). Concurrent callers race safely:
/// each writes a private folder and the first rename wins; folders left by
/// older keys are removed.
pub fn generate_shared(cfg: &SynthConfig, root: &Path, key: &str) -> Result<PathBuf, SynthError> {
    let prefix = format!("{:?}-", cfg.scale).to_lowercase();
    let done = root.join(format!("{prefix}{key}"));
    if done.join("manifest.json").is_file() {
        return Ok(done);
    }
    std::fs::create_dir_all(root).map_err(|e| SynthError::io(root, e))?;
    let work = root.join(format!(".{prefix}{key}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    generate(cfg, &work)?;
    if let Err(e) = std::fs::rename(&work, &done) {
        let _ = std::fs::remove_dir_all(&work);
        if !done.join("manifest.json").is_file() {
            return Err(SynthError::io(&done, e));
        }
    }
    for entry in std::fs::read_dir(root).map_err(|e| SynthError::io(root, e))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && entry.path() != done {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    Ok(done)
}

/// A key for [`generate_shared`] that changes when `exe` is rebuilt.
pub fn build_key(exe: &Path) -> String {
    let modified = std::fs::metadata(exe).and_then(|m| m.modified()).ok();
    let nanos = modified.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
    format!("{nanos:x}")
}

/// As [`generate`], calling `progress(done, total)` after each chunk of people.
pub fn generate_with_progress(cfg: &SynthConfig, out_dir: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Manifest, SynthError> {
    let focus = ICBS.iter().position(|i| i.code == cfg.icb).ok_or_else(|| SynthError::UnknownIcb(cfg.icb.clone()))?;
    if cfg.years == 0 || cfg.years > 10 {
        return Err(SynthError::Invalid("--years must be between 1 and 10"));
    }
    let start = Date::from_ymd(cfg.start_fy, 4, 1).map_err(|_| SynthError::Invalid("--start-fy out of range"))?;
    let end = Date::from_ymd(cfg.start_fy + cfg.years as i32, 3, 31).map_err(|_| SynthError::Invalid("--start-fy out of range"))?;
    let fyears: Vec<String> = (0..cfg.years as i32).map(|k| haven_model::date::fyear_code(cfg.start_fy + k)).collect();
    let geo = Geography::build(cfg.seed);
    let lookup = Lookup::new(&geo);
    let plan = Plan {
        lookup: &lookup,
        start,
        end,
        focus_icb: focus,
        token_key: (cfg.seed ^ 0x4E48_5345, cfg.seed.rotate_left(17) ^ 0x544F_4B45),
        apc_only: cfg.apc_only,
    };
    for dir in ["national", "reference", "ground_truth", &format!("dscro/{}", cfg.icb)] {
        let p = out_dir.join(dir);
        std::fs::create_dir_all(&p).map_err(|e| SynthError::io(&p, e))?;
    }
    let outs: Vec<Out> = Out::ALL.into_iter().filter(|o| !cfg.apc_only || o.is_apc()).collect();
    let mut writers: Vec<Option<BufWriter<File>>> = (0..Out::COUNT).map(|_| None).collect();
    let mut rows = [0u64; Out::COUNT];
    for o in &outs {
        let path = out_dir.join(o.path(&cfg.icb));
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(|e| SynthError::io(&path, e))?);
        w.write_all(&o.header()).map_err(|e| SynthError::io(&path, e))?;
        writers[*o as usize] = Some(w);
    }

    let chunks = plan_chunks(|icb| cfg.scale.fraction_of(icb, focus));
    let people: u64 = chunks.iter().map(|c| c.len).sum();
    let postcode_geo = Geography::build(cfg.seed);
    let hosted_geo = Geography::build(cfg.seed);
    let mut assembler = Assembler::new(
        ICBS[focus].code,
        cfg.seed,
        Box::new(move |lsoa, idx| postcode_geo.postcode(lsoa, (idx % 5) as usize)),
        Box::new(move |code| hosted_geo.trusts.iter().any(|t| t.code == code && t.icb == focus)),
    );
    let mut pop: BTreeMap<reference::PopKey, u64> = BTreeMap::new();
    let window = rayon::current_num_threads().max(1) * 2;
    let mut done = 0;
    for batch in chunks.chunks(window) {
        let results: Vec<(ChunkOut, Vec<(reference::PopKey, u64)>)> =
            batch.par_iter().map(|c| run_chunk(cfg, &plan, &fyears, c)).collect();
        for (out, cells) in results {
            for o in &outs {
                let i = *o as usize;
                let w = writers[i].as_mut().expect("writer for every selected output");
                w.write_all(&out.bufs[i]).map_err(|e| SynthError::io(&out_dir.join(o.path(&cfg.icb)), e))?;
                rows[i] += out.rows[i];
            }
            if !cfg.apc_only {
                assembler.take(out.candidates);
                for (k, n) in cells {
                    *pop.entry(k).or_default() += n;
                }
            }
        }
        done += batch.iter().map(|c| c.len).sum::<u64>();
        progress(done, people);
    }
    for (i, w) in writers.iter_mut().enumerate() {
        if let Some(w) = w {
            w.flush().map_err(|e| SynthError::io(&out_dir.join(Out::ALL[i].path(&cfg.icb)), e))?;
        }
    }
    let mut files: BTreeMap<String, u64> = outs.iter().map(|o| (o.path(&cfg.icb), rows[*o as usize])).collect();
    if !cfg.apc_only {
        write_tail(cfg, out_dir, &geo, &fyears, &pop, &assembler, &mut files)?;
    }
    let manifest = Manifest {
        generator: concat!("haven-synth ", env!("CARGO_PKG_VERSION")),
        config: cfg.clone(),
        population_fraction: cfg.scale.fraction(),
        period_start: start.to_string(),
        period_end: end.to_string(),
        people,
        files,
        invoice_errors: assembler.error_counts.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    reference::write_file(&out_dir.join("manifest.json"), &json)?;
    Ok(manifest)
}

/// Reference tables, invoices and MHSDS summary, after all people are done.
fn write_tail(
    cfg: &SynthConfig,
    out_dir: &Path,
    geo: &Geography,
    fyears: &[String],
    pop: &BTreeMap<reference::PopKey, u64>,
    assembler: &Assembler,
    files: &mut BTreeMap<String, u64>,
) -> Result<(), SynthError> {
    let local = format!("dscro/{}", cfg.icb);
    let mut put = |name: String, (bytes, n): (Vec<u8>, u64)| -> Result<(), SynthError> {
        reference::write_file(&out_dir.join(&name), &bytes)?;
        files.insert(name, n);
        Ok(())
    };
    put("reference/org.psv".into(), reference::org(geo))?;
    put("reference/lsoa_lookup.psv".into(), reference::lsoa_lookup(geo))?;
    put("reference/postcode_lookup.psv".into(), reference::postcode_lookup(geo))?;
    put("reference/population.psv".into(), reference::population(geo, fyears, pop))?;
    put("reference/tariff_apc.psv".into(), reference::tariff(fyears))?;
    put("reference/mff.psv".into(), reference::mff(geo, fyears))?;
    put(format!("{local}/invoice_header.psv"), assembler.headers())?;
    let (acm, acm_truth) = assembler.acm(cfg.seed);
    put(format!("{local}/acm_total.psv"), acm)?;
    put("ground_truth/acm_errors.psv".into(), acm_truth)?;
    let mut lines = Assembler::header_row();
    lines.extend_from_slice(&assembler.lines);
    put(format!("{local}/invoice_line.psv"), (lines, assembler.line_count))?;
    let mut truth = b"INVOICE_NUMBER|LINE_NO|ERROR_KIND\n".to_vec();
    truth.extend_from_slice(&assembler.truth);
    let n = assembler.error_counts.values().sum();
    put("ground_truth/invoice_errors.psv".into(), (truth, n))?;
    put(format!("{local}/mhsds_summary.psv"), mhsds_summary(cfg, geo, fyears, pop))?;
    Ok(())
}

/// People per ICB at the scale, then chunks of at most `CHUNK`.
fn plan_chunks(fraction: impl Fn(usize) -> f64) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut idx = 0;
    for (icb, profile) in ICBS.iter().enumerate() {
        let n = (f64::from(profile.pop_k) * 1000.0 * fraction(icb)).round() as u64;
        let mut no = 0;
        let mut off = 0;
        while off < n {
            let len = CHUNK.min(n - off);
            chunks.push(Chunk { icb, first_idx: idx + off, len, no });
            off += len;
            no += 1;
        }
        idx += n;
    }
    chunks
}

/// Newborns take indices above every resident's.
const BIRTH_BASE: u64 = 60_000_000;

fn run_chunk(cfg: &SynthConfig, plan: &Plan<'_>, fyears: &[String], c: &Chunk) -> (ChunkOut, Vec<(reference::PopKey, u64)>) {
    let geo = plan.lookup.geo;
    let mut rng = Rng::stream(cfg.seed, &[c.icb as u64, c.no]);
    let mut out = ChunkOut::new();
    let mut cells: BTreeMap<reference::PopKey, u64> = BTreeMap::new();
    for k in 0..c.len {
        let idx = c.first_idx + k;
        debug_assert!(idx < BIRTH_BASE);
        let person = people::draw(idx, c.icb, plan.start, plan.end, geo, &mut rng);
        let first_candidate = out.candidates.len();
        let death = Sim::new(plan, &person, &mut rng, &mut out).run();
        for cand in &mut out.candidates[first_candidate..] {
            cand.death = death;
        }
        if cfg.apc_only {
            continue;
        }
        count_population(&person, death, plan, fyears.len(), &mut cells);
        let focus = plan.focus_icb;
        let local = geo.lsoas[person.lsoa].icb == focus || person.practice.is_some_and(|p| geo.practices[p].icb == focus);
        gp::write(&person, death, plan.start, plan.end, focus, geo, &mut rng, &mut out);
        if local {
            write_local_person(&person, death, plan, &mut out);
        }
    }
    (out, cells.into_iter().collect())
}

/// Mid-year (30 September) residents by LSOA and registrations by practice.
fn count_population(p: &people::Person, death: Option<Date>, plan: &Plan<'_>, n_fy: usize, cells: &mut BTreeMap<reference::PopKey, u64>) {
    for fy in 0..n_fy {
        let mid = plan.start.add_days(182 + 365 * fy as i32);
        if death.is_some_and(|d| d <= mid) {
            continue;
        }
        let band = esp2013_band(p.age_on(mid).clamp(0, 120) as u8) as u8;
        *cells.entry((fy as u8, 0, p.lsoa_on(mid) as u32, band, p.sex)).or_default() += 1;
        if let Some(pr) = p.practice_on(mid) {
            *cells.entry((fy as u8, 1, pr as u32, band, p.sex)).or_default() += 1;
        }
    }
}

/// The opt-out clean list and ground-truth row of a local person.
fn write_local_person(p: &people::Person, death: Option<Date>, plan: &Plan<'_>, out: &mut ChunkOut) {
    let nhs = p.nhs.expose();
    if !p.opted_out {
        // The national service returns numbers *not* opted out (datasets.md §7),
        // cleaned per purpose; invoice validation is never filtered.
        for purpose in ["COMMISSIONING", "RISK_STRATIFICATION"] {
            let mut row = out.row(Out::OptoutClean);
            use sink::Sink;
            row.str("PURPOSE", purpose);
            row.str("NEWNHSNO", &nhs);
            row.date("CLEANED_ON", Some(plan.end));
            row.str("SOURCE_FILE", "X26HAVEN-310326-0001.dat");
            row.end();
        }
    }
    let conditions: Vec<&str> = clinical::CONDITIONS.iter().filter(|c| p.has(**c)).map(|c| clinical::facts(*c).name).collect();
    let token = activity::token(plan.token_key, p.idx);
    let line = format!(
        "{nhs}|{token}|{}|{}|{:.4}|{}|{}|{}\n",
        conditions.join(";"),
        p.deficits,
        p.log_risk,
        p.in_care_home,
        p.opted_out,
        death.filter(|d| *d <= plan.end).map(|d| d.to_string()).unwrap_or_default()
    );
    out.rows[Out::TruthPerson as usize] += 1;
    out.bufs[Out::TruthPerson as usize].extend_from_slice(line.as_bytes());
}

/// MHSDS published-measure summary for the focus ICB's sub-ICBs, monthly.
fn mhsds_summary(cfg: &SynthConfig, geo: &Geography, fyears: &[String], pop: &BTreeMap<reference::PopKey, u64>) -> (Vec<u8>, u64) {
    let focus = ICBS.iter().position(|i| i.code == cfg.icb).unwrap_or(0);
    let mut by_sub: BTreeMap<usize, u64> = BTreeMap::new();
    for ((fy, kind, area, _, _), n) in pop {
        if *fy == 0 && *kind == 1 && geo.practices[*area as usize].icb == focus {
            *by_sub.entry(geo.practices[*area as usize].sub_icb).or_default() += n;
        }
    }
    let mut rng = Rng::stream(cfg.seed, &[0x3D5]);
    let mut w = b"REPORTING_PERIOD_START|REPORTING_PERIOD_END|STATUS|BREAKDOWN|PRIMARY_LEVEL|PRIMARY_LEVEL_DESCRIPTION|SECONDARY_LEVEL|SECONDARY_LEVEL_DESCRIPTION|MEASURE_ID|MEASURE_VALUE\n".to_vec();
    let mut n = 0;
    for m in 0..12 * fyears.len() as i32 {
        let y = cfg.start_fy + (m + 3) / 12;
        let mo = ((m + 3) % 12) as u32 + 1;
        let start = Date::from_ymd(y, mo, 1).expect("valid month");
        let end = Date::from_ymd(y + i32::from(mo == 12), mo % 12 + 1, 1).expect("valid month").add_days(-1);
        for (sub, people) in &by_sub {
            // Published rates: about 2.4% of people in contact with services
            // (MHS01), 0.03% in hospital (MHS07), 0.04% under the Act (MHS08).
            for (measure, rate) in [("MHS01", 0.024), ("MHS07", 0.0003), ("MHS08", 0.0004)] {
                let value = rng.poisson(*people as f64 * rate);
                // Published files suppress small counts; the marker is "*".
                let text = if value < 5 { "*".to_string() } else { value.to_string() };
                let s = &geo.sub_icbs[*sub];
                w.extend_from_slice(
                    format!("{start}|{end}|Performance|CCG - GP Practice or Residence|{}|{}|NONE|NONE|{measure}|{text}\n", s.code, s.name).as_bytes(),
                );
                n += 1;
            }
        }
    }
    (w, n)
}

//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Haven: governed commissioning analytics for an NHS Integrated Care Board.
#[derive(Debug, Parser)]
#[command(name = "haven", version, about)]
pub struct Cli {
    /// Where Haven keeps its zones and metadata.
    #[arg(long, global = true, env = "HAVEN_DATA_DIR", default_value = "./haven-data")]
    pub data_dir: PathBuf,
    /// Where the zone pseudonymisation keys live; keep it outside the data
    /// directory and out of any repository [default: <data-dir>.keys].
    #[arg(long, global = true, env = "HAVEN_KEYS_DIR")]
    pub keys_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// The session token from `haven login`.
    #[arg(long, global = true, env = "HAVEN_SESSION", hide_env_values = true, hide = true)]
    pub session: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a synthetic England: DSCRO flows for one ICB, a national extract, reference data and ground truth.
    Synth(SynthArgs),
    /// Load an extract into the zones: validate, quarantine, opt-outs, minimise, pseudonymise.
    Ingest(IngestArgs),
    /// Create or list the per-zone pseudonymisation keys.
    Keys {
        #[command(subcommand)]
        what: KeysCommand,
    },
    /// List loads with their lineage counts.
    Loads(LoadsArgs),
    /// Manage users and their roles (passwords are Argon2id-hashed).
    Users {
        #[command(subcommand)]
        what: UsersCommand,
    },
    /// List, show or check Data Sharing Agreements.
    Dsa {
        #[command(subcommand)]
        what: DsaCommand,
    },
    /// Disclosure-controlled outputs: submit, review (two reviewers), export.
    Outputs {
        #[command(subcommand)]
        what: OutputsCommand,
    },
    /// Sign in as (user, role, purpose) under a Data Sharing Agreement; prints a session token for HAVEN_SESSION.
    Login(LoginArgs),
    /// End the session in HAVEN_SESSION; the token is refused from then on.
    Logout,
    /// Show who the session in HAVEN_SESSION signs in as.
    Whoami,
    /// Destroy data outside an agreement's retention window, with a destruction certificate.
    Retention {
        #[command(subcommand)]
        what: RetentionCommand,
    },
    /// The indicator catalogue: list, show one, or run it over the pseudonymised zone.
    Indicators {
        #[command(subcommand)]
        what: IndicatorsCommand,
    },
    /// Benchmark an ICB against England and its nearest peers on the national extract.
    Benchmark(BenchmarkArgs),
    /// Invoice validation in the CEfF: validate the loaded invoices, or list the reason codes.
    Iv {
        #[command(subcommand)]
        what: IvCommand,
    },
    /// Risk stratification: score the registered population, fit and evaluate the emergency-admission model, count cohorts.
    Risk {
        #[command(subcommand)]
        what: RiskCommand,
    },
    /// Verify or export the hash-chained audit log.
    Audit {
        #[command(subcommand)]
        what: AuditCommand,
    },
    /// Data-quality report (completeness and validity per provider and field).
    Dq(DqArgs),
    /// Run the embedded demo: generate the synthetic data and ingest it.
    Demo(DemoArgs),
    /// Serve the web app and JSON API (the one process that reads the data and keys).
    Serve(ServeArgs),
    /// Benchmarks that report throughput and peak memory.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Loopback unless you say otherwise: put a
    /// reverse proxy terminating TLS in front for remote users.
    #[arg(long, env = "HAVEN_BIND", default_value = "127.0.0.1:7878")]
    pub bind: std::net::SocketAddr,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, env = "HAVEN_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key (owner-only, like every key).
    #[arg(long, env = "HAVEN_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed: the same seed and arguments give byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// small (1 in 1,000 people), icb (1 in 50), quarter (1 in 4) or national (everyone).
    #[arg(long, default_value = "small")]
    pub scale: String,
    /// ODS code of the ICB whose DSCRO flows are written.
    #[arg(long, default_value = "QMJ")]
    pub icb: String,
    /// First financial year, e.g. 2024 for 2024-25.
    #[arg(long, default_value_t = 2024)]
    pub start_fy: i32,
    /// Number of financial years.
    #[arg(long, default_value_t = 2)]
    pub years: u32,
    /// Write only the APC extracts (for the generator benchmark).
    #[arg(long)]
    pub apc_only: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the generated data (default: <data-dir>/synth).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scale of the demo data.
    #[arg(long, default_value = "icb")]
    pub scale: String,
    #[arg(long, default_value = "QMJ")]
    pub icb: String,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Rebuild a store the demo made from nothing (refused on any other store).
    #[arg(long)]
    pub fresh: bool,
    /// Stop after loading and analysing instead of serving the web app.
    #[arg(long)]
    pub no_serve: bool,
    /// Where the demo serves the web app.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub bind: std::net::SocketAddr,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time the generator and report rows per second and peak memory.
    Synth(SynthArgs),
    /// Time ingesting one file end to end, optionally beside DuckDB converting it to Parquet.
    Ingest(BenchIngestArgs),
    /// Time the indicator catalogue over a national extract, optionally beside DuckDB on the same definitions.
    Catalogue(BenchCatalogueArgs),
    /// Latency and throughput of the web app and API under concurrent signed-in clients, on the demo's store.
    Serve(BenchServeArgs),
    /// Invoice validation over a full-size ICB year, beside DuckDB's core line-to-SUS matching and repricing join.
    Iv(BenchIvArgs),
    /// Risk stratification over a full-size ICB's two years: read, score, features, fit, evaluate and segment, each timed with its peak memory.
    Risk(BenchRiskArgs),
}

#[derive(Debug, Args)]
pub struct BenchRiskArgs {
    /// Scale of the generated two years: full-icb (every resident of the ICB, about 1.5 million people), icb or small.
    #[arg(long, default_value = "full-icb")]
    pub scale: String,
    /// Scratch folder, created by the bench (it must not exist) and kept for --reuse [default: a new temporary folder, deleted after].
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Reuse the store an earlier run loaded in --scratch (skips generating and loading).
    #[arg(long)]
    pub reuse: bool,
}

#[derive(Debug, Args)]
pub struct BenchIvArgs {
    /// Scale of the generated year: full-icb (every resident of the ICB), icb or small.
    #[arg(long, default_value = "full-icb")]
    pub scale: String,
    /// Scratch folder, created by the bench (it must not exist) and kept for --reuse [default: a new temporary folder, deleted after].
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Reuse the store an earlier run loaded in --scratch (skips generating and loading).
    #[arg(long)]
    pub reuse: bool,
    /// Also run DuckDB (Python package) on the core matching and repricing join over the same Parquet files.
    #[arg(long)]
    pub duckdb: bool,
}

#[derive(Debug, Args)]
pub struct BenchServeArgs {
    /// Scale of the demo store the server holds.
    #[arg(long, default_value = "icb")]
    pub scale: String,
    /// Concurrent signed-in clients (each its own user, session and second factor).
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// Seconds each page is driven for.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Scratch folder, created by the bench (it must not exist) and kept [default: a new temporary folder, deleted after].
    #[arg(long)]
    pub scratch: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Dataset: a table name (apc_episode, op_attendance, ..., org) for a local
    /// flow or reference table, national.<table> for the national extract, or a
    /// publisher's reference file as shipped: ods.epraccur, ods.etr, ods.ets,
    /// ods.eccg (NHS England ODS, no header row), iod2019 (IoD2019 File 7 CSV).
    #[arg(long, requires = "file", conflicts_with = "from")]
    pub dataset: Option<String>,
    /// The file to load (pipe-delimited, CSV or Parquet).
    #[arg(long, requires = "dataset")]
    pub file: Option<PathBuf>,
    /// Load a whole `haven synth` output folder in dependency order.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// The Data Sharing Agreement this load runs under (recorded in lineage).
    #[arg(long)]
    pub dsa: Option<String>,
    /// The controller ICB (ODS code); remembered by the data directory after the first load.
    #[arg(long)]
    pub icb: Option<String>,
    /// Which links keep a record: registered, resident, hosted (comma-separated).
    #[arg(long, default_value = "registered,resident,hosted")]
    pub minimise: String,
    /// Values read as "not recorded" (null, not a fault) in code fields: FIELD_PREFIX=VALUE pairs, comma-separated, or `none` [default: `-` and `&` in DIAG_3_/DIAG_4_/CAUSE_3/CAUSE_4, as NHS Digital's HES conventions use them].
    #[arg(long = "null-placeholders")]
    pub null_placeholders: Option<String>,
    /// Publication date of an ods.* or iod2019 file (YYYY-MM-DD): a newer publication supersedes older ones.
    #[arg(long)]
    pub published: Option<String>,
    /// Reload a file already loaded, superseding the earlier load.
    #[arg(long)]
    pub replace: bool,
    /// Who is running the load [default: $USER].
    #[arg(long)]
    pub operator: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create any missing zone keys (existing keys are never replaced).
    Init,
    /// Show each zone's key id (a fingerprint; never the key).
    List,
    /// Replace a zone's key (only while the zone holds no data: tokens made
    /// under different keys do not link); the old key is kept, retired.
    Rotate {
        /// ceff, direct_care or pseudonymised.
        #[arg(long)]
        zone: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is read from --password-file or HAVEN_PASSWORD.
    Add {
        name: String,
        /// dscro, ceff, gp, analyst, viewer, auditor or admin.
        #[arg(long)]
        role: String,
        /// The practice (ODS code) a gp user is bound to.
        #[arg(long)]
        practice: Option<String>,
        /// File holding the password (first line).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// List users (never their passwords).
    List,
    /// Disable a user; users are never deleted, for the audit trail.
    Disable { name: String },
    /// Unlock a user locked out after repeated failed sign-ins.
    Unlock { name: String },
    /// Enrol a user's second factor (TOTP, RFC 6238): shows the secret, the otpauth URI and a QR code once; enrolling again resets it.
    Mfa { name: String },
}

#[derive(Debug, Subcommand)]
pub enum DsaCommand {
    /// Every imported agreement (latest version), with whether it is in force today.
    List,
    /// One agreement in full, with every version imported (hash, who, when, what changed).
    Show { id: String },
    /// Validate a reviewed agreement file (TOML) and store it as the agreement's next version
    /// (administrators; identical text again changes nothing). Haven reads agreements only from here.
    Import { file: PathBuf },
    /// Whether processing under an agreement is allowed (today, or --on DATE), optionally for a purpose and role.
    Check {
        id: String,
        #[arg(long)]
        on: Option<String>,
        #[arg(long, requires = "role")]
        purpose: Option<String>,
        #[arg(long, requires = "purpose")]
        role: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutputsCommand {
    /// Apply disclosure control to a table of counts (CSV: row label, then one column per
    /// category) and hold the result for review, authored by the signed-in analyst under the session's purpose and agreement.
    Submit {
        #[arg(long)]
        title: String,
        #[arg(long)]
        counts: PathBuf,
        /// hes_ecds (1-7 suppressed, others to the nearest 5) or midpoint6.
        #[arg(long, default_value = "hes_ecds")]
        rule: String,
    },
    /// Every output and its status.
    List,
    /// One output with its reviews and every file rendered (tables as rows, charts by title, description and data), flagging anything not written by Haven.
    Show { id: String },
    /// Approve as the signed-in reviewer (two approvals from reviewers other than the author release it).
    Approve { id: String },
    /// Reject as the signed-in reviewer, with a reason.
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Copy a released output's files (exactly its manifest, each hash re-checked) into a new folder outside the data directory.
    Export {
        id: String,
        /// Folder to create (outside the data directory); existing files are never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain and say where it breaks.
    Verify {
        /// A head from `haven audit checkpoint`: the log must still hold it
        /// (finds a log cut back, emptied or dropped).
        #[arg(long, value_name = "HEAD")]
        checkpoint: Option<String>,
    },
    /// Print the log's head (entries, last MAC, and a MAC over both) for an auditor to keep elsewhere.
    Checkpoint,
    /// Write the log for an NHS England audit.
    Export {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
    },
}

#[derive(Debug, Args)]
pub struct LoadsArgs {
    /// Show one load in full.
    pub id: Option<String>,
}

#[derive(Debug, Args)]
pub struct DqArgs {
    /// The load to report on [default: every committed load].
    #[arg(long)]
    pub load: Option<String>,
    /// Also write dq.csv and dq.json into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// The file to ingest.
    #[arg(long)]
    pub file: PathBuf,
    /// Its dataset name.
    #[arg(long, default_value = "national.apc_episode")]
    pub dataset: String,
    /// Also time DuckDB (Python package) converting the same file to Parquet.
    #[arg(long)]
    pub duckdb: bool,
    /// Load the reference tables of this folder first (not timed), so organisation codes are checked.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Scratch folder for the bench's data directory, created by the bench (it must not exist) and deleted after [default: a new temporary folder].
    #[arg(long)]
    pub scratch: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchCatalogueArgs {
    /// A synthetic (or real) folder with `national/` and `reference/` extracts.
    #[arg(long)]
    pub from: PathBuf,
    /// Financial year, e.g. 2024-25.
    #[arg(long, default_value = "2024-25")]
    pub period: String,
    /// Also run DuckDB (Python package) on the same definitions, from the Parquet and from the CSV.
    #[arg(long)]
    pub duckdb: bool,
    /// Scratch folder for the bench's data directory, created by the bench (it must not exist) and kept for --reuse [default: a new temporary folder, deleted after].
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Reuse the data directory an earlier run loaded in --scratch (skips the timed ingest); only a scratch folder a bench created.
    #[arg(long, requires = "scratch")]
    pub reuse: bool,
    /// With --reuse, derive the spells again (timed, with its own peak memory) before the catalogue.
    #[arg(long, requires = "reuse")]
    pub rederive: bool,
    /// Also print each indicator's England total (numerator, denominator, value; exact, not timed).
    #[arg(long)]
    pub totals: bool,
    #[command(flatten)]
    pub readmission: ReadmissionArgs,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The user name.
    pub user: String,
    /// The purpose of the work: invoice_validation, risk_stratification,
    /// commissioning, direct_care or population_health_benchmarking.
    #[arg(long, requires = "dsa")]
    pub purpose: Option<String>,
    /// The Data Sharing Agreement the work runs under.
    #[arg(long)]
    pub dsa: Option<String>,
    /// How long the session lasts (1 to 12 hours).
    #[arg(long, default_value_t = 8)]
    pub hours: u64,
    /// File holding the password (first line); else HAVEN_PASSWORD.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// The one-time code from the authenticator app, for a user with a second factor.
    #[arg(long, env = "HAVEN_TOTP", hide_env_values = true)]
    pub code: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Delete rows older than the agreement's window (all of them once it has ended) and write a certificate.
    Apply(RetentionArgs),
    /// List the destruction certificates.
    Certificates,
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// The agreement whose loads are checked.
    #[arg(long)]
    pub dsa: String,
    /// Report what would go, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run only: plan as on this later date (YYYY-MM-DD) instead of
    /// today. A destruction always runs as of today.
    #[arg(long)]
    pub on: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum IndicatorsCommand {
    /// Every indicator with its method and source.
    List,
    /// One indicator in full, with the choices made where the source is partial.
    Show { id: String },
    /// Compute the catalogue (or --only IDs) by each breakdown; every table passes disclosure control and is held as an output for review.
    Run(IndicatorsRunArgs),
}

#[derive(Debug, Args)]
pub struct BenchmarkArgs {
    /// The ICB to benchmark (ODS code, e.g. QMJ). The tables and charts are held as an output for review (`haven outputs show ID`).
    #[arg(long)]
    pub icb: String,
    /// Financial year, e.g. 2024-25.
    #[arg(long, default_value = "2024-25")]
    pub period: String,
    /// How many nearest peers (by age structure and deprivation).
    #[arg(long, default_value_t = 10)]
    pub peers: usize,
    /// Comma-separated indicator ids [default: the whole catalogue].
    #[arg(long)]
    pub only: Option<String>,
    #[command(flatten)]
    pub readmission: ReadmissionArgs,
}

#[derive(Debug, Args)]
pub struct IndicatorsRunArgs {
    /// Financial year, e.g. 2024-25.
    #[arg(long, default_value = "2024-25")]
    pub period: String,
    /// Comma-separated indicator ids [default: the whole catalogue].
    #[arg(long)]
    pub only: Option<String>,
    /// Count only the population this ICB (ODS code) is responsible for [default: everyone in the zone].
    #[arg(long)]
    pub icb: Option<String>,
    /// Comma-separated breakdowns: total, month, icb, sub_icb, pcn, practice, provider, age_band, sex, ethnicity, imd_quintile, admission_type.
    #[arg(long, default_value = haven_app::analyses::DEFAULT_BREAKDOWNS)]
    pub by: String,
    /// Derive spells from episodes in the query (the reference definition) instead of reading the `apc_spell_derived` dataset built at ingest: slower, same numbers.
    #[arg(long)]
    pub from_episodes: bool,
    #[command(flatten)]
    pub readmission: ReadmissionArgs,
}

/// The readmission indicator's choices its source leaves open (methods.md
/// §2.1; `haven indicators show apc.emergency_readmission_30d`).
#[derive(Debug, Args)]
pub struct ReadmissionArgs {
    /// Readmissions count from 0 to N-1 days after discharge (30 in I02040 v3; 28 in the older NCHOD version).
    #[arg(long = "readmission-days", default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..))]
    pub days: u16,
    /// Comma-separated main specialties of index spells (the source's list is unconfirmed) [default: every specialty].
    #[arg(long = "readmission-index-specialties")]
    pub index_specialties: Option<String>,
    /// Comma-separated main specialties of readmitting spells that do not count, or `none`.
    #[arg(long = "readmission-excluded-specialties", default_value = "501")]
    pub excluded_specialties: String,
    /// Comma-separated ICD-10 prefixes (no dot) that exclude a readmitting spell coding them anywhere, or `none` (the source's list is unconfirmed).
    #[arg(long = "readmission-cancer-codes", default_value = "C,Z511,Z512")]
    pub cancer_codes: String,
    /// How a readmission pairs with a discharge: `last-previous-discharge` (methods.md §2.1's wording: each emergency admission with the person's last previous discharge) or `any-after-index` (an index counts when any qualifying emergency admission follows within the window).
    #[arg(long = "readmission-reading", default_value = "last-previous-discharge", value_parser = ["last-previous-discharge", "any-after-index"])]
    pub reading: String,
}

impl Default for ReadmissionArgs {
    /// As the flags' defaults (a test checks they agree).
    fn default() -> Self {
        ReadmissionArgs {
            days: 30,
            index_specialties: None,
            excluded_specialties: "501".into(),
            cancer_codes: "C,Z511,Z512".into(),
            reading: "last-previous-discharge".into(),
        }
    }
}

impl ReadmissionArgs {
    pub fn options(&self) -> haven_model::rules::ReadmissionOptions {
        let list = |s: &str| -> Vec<String> {
            if s.trim().eq_ignore_ascii_case("none") {
                return Vec::new();
            }
            s.split(',').map(|c| c.trim().replace('.', "").to_ascii_uppercase()).filter(|c| !c.is_empty()).collect()
        };
        haven_model::rules::ReadmissionOptions {
            days: self.days,
            index_specialties: self.index_specialties.as_deref().map(list),
            excluded_specialties: list(&self.excluded_specialties),
            cancer_codes: list(&self.cancer_codes),
            // clap admits only the names `parse` knows.
            reading: haven_model::rules::ReadmissionReading::parse(&self.reading).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod readmission_tests {
    use super::*;

    #[test]
    fn readmission_flags_default_to_the_rule_defaults_and_parse_lists() {
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            r: ReadmissionArgs,
        }
        let defaults = haven_model::rules::ReadmissionOptions::default();
        assert_eq!(T::parse_from(["t"]).r.options(), defaults);
        assert_eq!(ReadmissionArgs::default().options(), defaults);
        let t = T::parse_from(["t", "--readmission-days", "28", "--readmission-cancer-codes", "none", "--readmission-index-specialties", "300, 301", "--readmission-excluded-specialties", "501,710"]);
        let o = t.r.options();
        assert_eq!((o.days, o.cancer_codes.len()), (28, 0));
        assert_eq!(o.index_specialties, Some(vec!["300".to_owned(), "301".to_owned()]));
        assert_eq!(o.excluded_specialties, ["501", "710"]);
        assert!(T::try_parse_from(["t", "--readmission-days", "0"]).is_err());
        let any = T::parse_from(["t", "--readmission-reading", "any-after-index"]).r.options();
        assert_eq!(any.reading, haven_model::rules::ReadmissionReading::AnyAfterIndex);
        assert!(T::try_parse_from(["t", "--readmission-reading", "next-spell"]).is_err());
    }
}

#[derive(Debug, Subcommand)]
pub enum IvCommand {
    /// Validate the loaded invoices against the CEfF copies of SUS+ (role ceff, purpose invoice_validation).
    Run(IvRunArgs),
    /// The reason codes: code, meaning, the rule that applies it, and its source.
    Reasons,
    /// The challenge and dispute log.
    Challenges {
        #[command(subcommand)]
        what: ChallengesCommand,
    },
    /// Apply a provider's responses (CSV: invoice_number,line_no,accept|dispute,reason) to the challenges sent to it.
    ImportResponses {
        /// The response file.
        file: PathBuf,
    },
    /// A run's accuracy, budget and summary reports, each cell through disclosure control.
    Report {
        /// The run (IV-…); the newest by default.
        #[arg(long)]
        run: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Score everyone registered on the index date, fit the model on 70% and evaluate it on the rest, and hold the evaluation and cohort counts for review (role analyst, purpose risk_stratification).
    Run(RiskRunArgs),
    /// A GP's practice list ranked by the ICB's latest model, with NHS numbers (role gp, purpose direct_care).
    List {
        /// The practice (ODS code); a GP may name only their own.
        #[arg(long)]
        practice: Option<String>,
        /// Histories up to this day (YYYY-MM-DD); by default the end of the model's outcome year.
        #[arg(long)]
        index_date: Option<String>,
        /// How many patients, highest risk first.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One of the GP's registered patients: their encounters with services, and the theograph (role gp, purpose direct_care; every view audited).
    Patient {
        /// The patient's NHS number.
        nhs_number: String,
        /// Write the theograph (SVG) here.
        #[arg(long)]
        theograph: Option<PathBuf>,
        /// The last day shown (YYYY-MM-DD); by default the end of the model's outcome year, else today.
        #[arg(long)]
        to: Option<String>,
        /// Years shown before it.
        #[arg(long, default_value_t = 2)]
        years: u16,
    },
}

#[derive(Debug, Args)]
pub struct RiskRunArgs {
    /// The index date (YYYY-MM-DD): the population registered that day, its history before, the outcome year from it.
    #[arg(long)]
    pub index_date: String,
    /// Seed of the split into fitted and held-out people.
    #[arg(long, default_value_t = 18)]
    pub seed: u64,
    /// The GP-code → eFI-deficit file (CSV code,deficit); without it the eFI is not scored.
    #[arg(long)]
    pub efi_map: Option<PathBuf>,
    /// The GP-code → long-term-condition file (CSV condition,code; conditions named as haven_risk::gp_conditions); without it the model has no GP-coded conditions.
    #[arg(long)]
    pub condition_map: Option<PathBuf>,
    /// The synthetic ground truth (`ground_truth/persons.psv`), for the true-risk ceiling (demo stores only).
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// The top-risk band counted by cohort, as a share of people.
    #[arg(long, default_value_t = 0.05)]
    pub top: f64,
}

#[derive(Debug, Subcommand)]
pub enum ChallengesCommand {
    /// Challenges, newest first.
    List {
        /// Only this status: raised, sent, accepted, disputed, upheld, withdrawn, resolved, superseded.
        #[arg(long)]
        status: Option<String>,
    },
    /// One challenge and its history.
    Show { id: i64 },
    /// Move a challenge on (raised → sent → accepted/disputed → upheld/withdrawn/resolved).
    Update {
        id: i64,
        #[arg(long)]
        status: String,
        /// Why (kept in the challenge's history).
        #[arg(long, default_value = "")]
        note: String,
        /// With --status resolved: the amount recovered, in pounds (e.g. 1234.50); by default the whole amount challenged after an acceptance or an upheld dispute.
        #[arg(long)]
        recovered: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct IvRunArgs {
    /// Report the invoices of one activity month (YYYY-MM); every month by default.
    /// Duplicates are still found against earlier months.
    #[arg(long)]
    pub period: Option<String>,
    /// The ICB validating (ODS code); by default the commissioner each invoice is addressed to.
    #[arg(long)]
    pub icb: Option<String>,
    /// Accept a price difference up to this many pence.
    #[arg(long, default_value_t = 100)]
    pub tolerance_pence: i64,
    /// Health-and-justice (prison) practices, one code per line: their patients' activity other than A&E is NHS England's (CAM step E).
    #[arg(long)]
    pub health_and_justice: Option<PathBuf>,
    /// Score the run against the synthetic ground truth (`ground_truth/invoice_errors.psv`).
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Also hold the accuracy and budget reports (disclosure-controlled) for two-person release.
    #[arg(long)]
    pub report: bool,
}

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
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a synthetic England: DSCRO flows for one ICB, a national extract, reference data and ground truth.
    Synth(SynthArgs),
    /// Run the embedded demo: generate the synthetic data and summarise it.
    Demo(DemoArgs),
    /// Benchmarks that report throughput and peak memory.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed: the same seed and arguments give byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// small (1 in 1,000 people), icb (1 in 50) or national (everyone).
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
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time the generator and report rows per second and peak memory.
    Synth(SynthArgs),
}

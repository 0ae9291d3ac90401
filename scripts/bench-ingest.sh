#!/usr/bin/env bash
# Issue 3 §5: ingest a national-scale APC year (about 20 million episodes,
# pipe-delimited) end to end, beside DuckDB converting the same file from CSV
# to Parquet, and report rows/second, peak memory and the time ratio.
#
# Usage: scripts/bench-ingest.sh [SCRATCH_DIR]   (needs ~20 GB free)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${1:-/tmp/haven-bench-ingest}"
mkdir -p "$scratch"

python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet duckdb
cargo build --release -p haven
bin=target/release/haven

if [ ! -s "$scratch/synth/national/apc_episode.psv" ]; then
  "$bin" bench synth --scale national --years 1 --apc-only --out "$scratch/synth"
fi
# The bench creates its scratch folder itself and refuses an existing one;
# remove an earlier run's folder only if a bench made it (its marker file).
run="$scratch/run"
if [ -f "$run/haven-bench-scratch" ]; then rm -rf "$run"; fi
"$bin" bench ingest --file "$scratch/synth/national/apc_episode.psv" \
  --dataset national.apc_episode --reference "$scratch/synth" --duckdb --scratch "$run"

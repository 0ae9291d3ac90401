#!/usr/bin/env bash
# Issue 5 §6: the indicator catalogue over a national APC year (about 20
# million episodes) beside DuckDB computing the same definitions, from the
# zone's Parquet and end to end from the pipe-delimited extract.
#
# Usage: scripts/bench-catalogue.sh [SCRATCH_DIR] [SCALE]   (SCALE: national
# (APC only: OP and ECDS at national proportions need ~65 GB of CSV), quarter
# (every dataset at national proportions, a quarter of England: ~10 GB of
# CSV, DuckDB's in-memory load fits in 24 GiB) or icb (every dataset, 2% of
# England); needs ~25 GB free at national or quarter scale)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${1:-/tmp/haven-bench-catalogue}"
scale="${2:-national}"
mkdir -p "$scratch"

python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet duckdb
cargo build --release -p haven
bin=target/release/haven

only=""
[ "$scale" = national ] && only="--apc-only"
if [ ! -s "$scratch/synth-$scale/national/apc_episode.psv" ]; then
  "$bin" bench synth --scale "$scale" --years 1 $only --out "$scratch/synth-$scale"
fi
# The bench creates its scratch folder itself and refuses an existing one;
# remove an earlier run's folder only if a bench made it (its marker file).
run="$scratch/run-$scale"
if [ -f "$run/haven-bench-scratch" ]; then rm -rf "$run"; fi
"$bin" bench catalogue --from "$scratch/synth-$scale" --duckdb --scratch "$run"

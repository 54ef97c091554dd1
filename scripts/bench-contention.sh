#!/usr/bin/env bash
# Load test: `evals collect` under exporter and proxy load (6,000 exporter bodies, 3,000 proxied
# calls) beside two `evals run` of 900 samples each, a 100,000-line `traces import` and a
# `traces prune`, all on one store (release build). Passes when collect answered no 5xx, every
# answered call and accepted record is stored, and the runs and the import are complete.
#   ./scripts/bench-contention.sh
#   IMPORT_LINES=20000 ./scripts/bench-contention.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --release --test contention -- --nocapture

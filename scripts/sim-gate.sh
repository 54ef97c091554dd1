#!/usr/bin/env bash
# The gate simulation (README "How the gate was measured"): a noisy agent, 200 cases, fresh
# draws per run, >= 100 trials per scenario, every verdict from the real binary (release).
# Usage: scripts/sim-gate.sh [TRIALS] [SEED] [SCENARIO]   (SCENARIO: a part of the scenarios' names)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --release --quiet --bin evals --example sim_gate
source scripts/lib/target.sh
exec "$target/release/examples/sim_gate" "$target/release/evals" "${1:-100}" "${2:-1}" "${3:-}"

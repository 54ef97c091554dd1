#!/usr/bin/env bash
# The whole loop on the embedded defaults: SQLite store, built-in mock model; no API key, no
# network. Import a capture, look at it, promote a trace, run the demo suite, then run a
# prompt change and watch the gate catch the regression.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
source scripts/lib/target.sh
evals="$target/debug/evals"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export EVALS_STORE="$work/evals.db"

step() {
  printf '\n\033[1m$ %s\033[0m\n' "$*"
  "$@"
}

step "$evals" traces import tests/fixtures/agents-sdk/agents_processor_full.jsonl
step "$evals" traces list
step "$evals" traces show trace_1a36
step "$evals" promote trace_1a36 --dataset demo --datasets "$work/datasets" --verdict pass
step cat "$work"/datasets/demo/*.yaml
step "$evals" run evals/demo.yaml --out "$work/baseline.json"
set +e
step "$evals" run evals/demo-regression.yaml --baseline "$work/baseline.json" \
  --report "md:$work/report.md" --report "html:$work/report.html" --report "junit:$work/junit.xml" --report "json:$work/report.json"
status=$?
set -e
if [ "$status" -ne 1 ]; then
  echo "demo: expected the gate to fail with exit 1 on the French prompt, got $status" >&2
  exit 1
fi
for f in report.md report.html junit.xml report.json; do
  [ -s "$work/$f" ] || { echo "demo: the $f report was not written" >&2; exit 1; }
done
step head -n 3 "$work/report.md"
printf '\nThe prompt change regressed 2 cases and the gate failed with exit 1, as it should.\n'

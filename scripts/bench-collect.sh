#!/usr/bin/env bash
# Benchmark of `evals collect` on loopback (release build): ingest throughput with Agents SDK
# exporter bodies of 128 records, and the latency the recording proxy adds over `evals mock`.
# Targets: >= 50,000 spans/s; <= 2 ms added at p50. Bounded: about a minute.
#   SPANS=256000 CONCURRENCY=4 REQUESTS=500 ./scripts/bench-collect.sh
set -euo pipefail
cd "$(dirname "$0")/.."
spans=${SPANS:-256000}
concurrency=${CONCURRENCY:-4}
requests=${REQUESTS:-500}
cargo build --locked --release --quiet --bin evals --example bench_collect
source scripts/lib/target.sh
evals="$target/release/evals"
bench="$target/release/examples/bench_collect"
source scripts/lib/servers.sh

start "$work/mock.log" "$evals" mock --listen 127.0.0.1:0
mock=$url
start "$work/collect.log" "$evals" --store "$work/evals.db" collect --listen 127.0.0.1:0 --upstream "$mock/v1"
collect=$url
collect_pid=${pids[-1]}
# CPU seconds the collect process spent (user + system), to tell its cost from machine load.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$collect_pid/stat"; }
before=$(cpu)
timeout 300 "$bench" ingest "$collect" "$spans" "$concurrency"
after=$(cpu)
awk -v s="$spans" -v a="$after" -v b="$before" \
  'BEGIN {printf "ingest: collect used %.2f CPU s: %.0f spans per CPU second\n", a - b, s / (a - b)}'
timeout 300 "$bench" proxy "$mock/v1" "$collect/v1" "$requests"
"$evals" --store "$work/evals.db" traces list --limit 1 > /dev/null
echo "store after the run: $(du -h "$work/evals.db" | cut -f1)"

#!/usr/bin/env bash
# Benchmark: the deterministic graders over 100,000 case results must take under 1 s (release).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --locked --release --quiet --example bench_grade

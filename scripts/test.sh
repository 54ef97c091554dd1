#!/usr/bin/env bash
# Every test of the project: formatting, lints, unit and integration tests, and the demo loop.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
./scripts/setup-chromium.sh   # the HTML report is checked in headless Chromium (tests/report.rs)
cargo test --locked
./scripts/demo.sh > /dev/null
./scripts/interop.sh
echo "all tests passed"

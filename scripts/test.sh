#!/usr/bin/env bash
# Every test of the project: formatting, lints, unit and integration tests, and the demo loop.
set -euo pipefail
cd "$(dirname "$0")/.."
# Report snapshots (tests/snapshots/) are checked, never written: a missing or changed one fails.
export INSTA_UPDATE=no
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
./scripts/setup-chromium.sh   # the HTML report is checked in headless Chromium (tests/report.rs)
./scripts/setup-actionlint.sh # the GitHub Actions example is linted (tests/ci_example.rs)
cargo test --locked
./scripts/ui-e2e.sh      # the web app in headless Chromium against `evals ui` (playwright-core from npm)
./scripts/demo.sh > /dev/null
./scripts/interop.sh
echo "all tests passed"

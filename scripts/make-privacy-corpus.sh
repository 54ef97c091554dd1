#!/usr/bin/env bash
# Regenerates the privacy scanner's labelled splits, tests/privacy/dev.jsonl and heldout.jsonl,
# with the pinned Faker the committed files were written with. The output is committed; tests
# only read it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet 'Faker==40.63.0'
python3 tests/privacy/make_splits.py

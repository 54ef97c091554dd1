#!/usr/bin/env bash
# Regenerate tests/fixtures/metrics/reference.json: the similarity scores nltk, rouge-score and
# rapidfuzz give on a fixed set of pairs. Tests read the committed file; only this needs PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv/metrics
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import nltk, rouge_score, rapidfuzz' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check nltk==3.9.1 rouge-score==0.1.2 rapidfuzz==3.10.1
fi
mkdir -p tests/fixtures/metrics
"$venv/bin/python" scripts/reference-metrics.py > tests/fixtures/metrics/reference.json
echo "wrote tests/fixtures/metrics/reference.json"

#!/usr/bin/env bash
# Regenerate tests/fixtures/metrics/reference.json: the similarity scores nltk, rouge-score and
# rapidfuzz give on a fixed set of pairs. Tests read the committed file; only this needs PyPI, and
# Debian's WordNet 3.0 packages for nltk's default METEOR (the data nltk's downloader would fetch).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv/metrics
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import nltk, rouge_score, rapidfuzz' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check nltk==3.9.1 rouge-score==0.1.2 rapidfuzz==3.10.1
fi
if [ ! -f /usr/share/wordnet/index.sense ]; then
  apt-get install -y -qq wordnet-base wordnet-sense-index > /dev/null
fi
# nltk reads WordNet from an nltk_data folder; Debian ships the files without `lexnames`, whose
# table its lexnames(5WN) manual page holds.
wordnet="$venv/nltk_data/corpora/wordnet"
mkdir -p "$wordnet"
ln -sf /usr/share/wordnet/* "$wordnet/"
zcat /usr/share/man/man5/lexnames.5WN.gz | awk -F'\t' '
  /^[0-9][0-9]\t/ { split($2, n, "."); c = n[1] == "noun" ? 1 : n[1] == "verb" ? 2 : n[1] == "adj" ? 3 : 4
                     sub(/ +$/, "", $2); printf "%s\t%s\t%d\n", $1, $2, c }' > "$wordnet/lexnames"
export NLTK_DATA="$PWD/$venv/nltk_data"
mkdir -p tests/fixtures/metrics
"$venv/bin/python" scripts/reference-metrics.py > tests/fixtures/metrics/reference.json
echo "wrote tests/fixtures/metrics/reference.json"

#!/usr/bin/env bash
# Benchmark: the `evals ui` API, release build, over HTTP on loopback (curl's total time per
# request, median of $RUNS after one warm-up request; the first, cold request is shown too).
#   GET /api/v1/traces?q=WORD over the one-million-span store of bench-search.sh (target < 100 ms)
#   GET /api/v1/runs/{id} and /runs/{id}/compare/{base} of two 10,000-case runs (target < 300 ms)
#
#   ./scripts/bench-ui.sh                    # 1,000,000 spans, 10,000 cases
#   SPANS=200000 CASES=2000 ./scripts/bench-ui.sh
#
# The span store is bench-search.sh's (kept in target/bench-search); the runs are made here by
# `evals run` against the in-process mock model, in a scratch folder.
set -euo pipefail
cd "$(dirname "$0")/.."

SPANS=${SPANS:-1000000}
CASES=${CASES:-10000}
RUNS=${RUNS:-7}
cargo build --release --locked --quiet
source scripts/lib/target.sh
evals="$target/release/evals"
source scripts/lib/servers.sh

# The span store: bench-search.sh generates and imports it once (and times its own queries).
SPANS=$SPANS RUNS=1 BENCH_DIR=${BENCH_DIR:-target/bench-search} scripts/bench-search.sh > "$work/search.txt"
traces_db="${BENCH_DIR:-target/bench-search}/evals-$SPANS.db"

# Two runs of CASES cases: the second answers wrong on every case whose question ends in 7.
runs="$work/runs"
mkdir -p "$runs/datasets/d" "$runs/evals"
python3 - "$runs/datasets/d" "$CASES" <<'PY'
import sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(f"{root}/case-{i:05}.yaml", "w") as f:
        f.write(f"id: case-{i:05}\nsource: {{trace_id: t{i}}}\ninput:\n  instructions: Repeat the question in capitals.\n"
                f"  items: [{{role: user, content: 'ask {i}'}}]\n"
                f"recorded: {{output: {{text: 'ASK {i}'}}}}\nlabel: {{failure: {['wrong_tool', 'refusal', 'hallucination'][i % 3]}}}\n"
                f"privacy: {{status: clean}}\ncontent_hash: h{i}\n")
PY
printf 'default:\n  text: "{{ user | upper }}"\n' > "$runs/evals/good.yaml"
printf 'rules:\n  - when: {user: "7$"}\n    text: "something else"\ndefault:\n  text: "{{ user | upper }}"\n' \
  > "$runs/evals/bad.yaml"
for which in good bad; do
  cat > "$runs/evals/$which-suite.yaml" <<YAML
name: bench
target: {model: fake-model}
provider: {mock: $which.yaml, concurrency: 256}
cases: [../datasets/d]
graders:
  - {type: similarity, threshold: 0.99}
YAML
done
(cd "$runs" && EVALS_STORE="$runs/evals.db" "$evals" run evals/good-suite.yaml --no-cache --quiet > /dev/null)
(cd "$runs" && EVALS_STORE="$runs/evals.db" "$evals" run evals/bad-suite.yaml --no-cache --quiet > /dev/null) || true

start "$work/ui-traces.log" env EVALS_STORE="$traces_db" "$evals" ui --listen 127.0.0.1:0
traces_url=$url
# In the runs' folder: the results name their case files relative to it.
pushd "$runs" > /dev/null
start "$work/ui-runs.log" env EVALS_STORE="$runs/evals.db" "$evals" ui --listen 127.0.0.1:0
popd > /dev/null
runs_url=$url

ms() { curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$1" | awk '{ if ($1 != 200) { print "HTTP " $1 > "/dev/stderr"; exit 1 } printf "%d\n", $2 * 1000 + 0.5 }'; }

# label, URL, target ms
measure() {
  local label=$1 u=$2 target=$3 first times sorted median
  first=$(ms "$u")
  times=()
  for _ in $(seq "$RUNS"); do times+=("$(ms "$u")"); done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")
  printf '%-58s first %5d ms   median %5d ms   (target < %d ms)\n' "$label" "$first" "$median" "$target"
}

echo "store: $SPANS spans ($(( $(stat -c %s "$traces_db") / 1048576 )) MB); runs: 2 x $CASES cases"
matches() { curl -s "$traces_url/api/v1/traces?limit=1&q=$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["traces"])'; }
for w in order4242 w5000 Oslo sunny; do
  measure "GET /traces?q=$w ($(matches "$w") traces match, page of 50 + totals)" "$traces_url/api/v1/traces?q=$w" 100
done
measure "GET /traces (no filter)" "$traces_url/api/v1/traces" 100
measure "GET /traces?q=Oslo&model=gpt-5-mini&since=7d" "$traces_url/api/v1/traces?q=Oslo&model=gpt-5-mini&since=7d" 100
measure "GET /traces/stats?q=Oslo" "$traces_url/api/v1/traces/stats?q=Oslo" 100
trace=$(curl -s "$traces_url/api/v1/traces?limit=1&q=order4242" | python3 -c 'import json,sys; print(json.load(sys.stdin)["traces"][0]["id"])')
measure "GET /traces/{id}" "$traces_url/api/v1/traces/$trace" 100

read -r current base < <(curl -s "$runs_url/api/v1/runs" | python3 -c 'import json,sys; r=json.load(sys.stdin)["runs"]; print(r[0]["id"], r[1]["id"])')
measure "GET /runs/{id} (first page of 200 results)" "$runs_url/api/v1/runs/$current" 300
measure "GET /runs/{id}?limit=1000" "$runs_url/api/v1/runs/$current?limit=1000" 300
measure "GET /runs/{id}/compare/{base} (first: computed; then kept)" "$runs_url/api/v1/runs/$current/compare/$base" 300
measure "GET /runs/{id}/compare/{base}?class=regressed" "$runs_url/api/v1/runs/$current/compare/$base?class=regressed" 300
counts=$(curl -s "$runs_url/api/v1/runs/$current/compare/$base" | python3 -c 'import json,sys; print(json.load(sys.stdin)["comparison"]["counts"])')
echo "comparison counts: $counts"

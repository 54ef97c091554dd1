#!/usr/bin/env bash
# Benchmark: import rate of a generated processor JSONL file with one million spans, then
# `evals traces list --search` over that store (target: under 100 ms per query).
#
#   ./scripts/bench-search.sh            # 1,000,000 spans (100,000 traces of 10 spans)
#   SPANS=200000 ./scripts/bench-search.sh
#
# The store and the generated file are kept in $BENCH_DIR (default target/bench-search) and
# reused when the span count is unchanged; delete the folder to start over.
set -euo pipefail
cd "$(dirname "$0")/.."

SPANS=${SPANS:-1000000}
DIR=${BENCH_DIR:-target/bench-search}
RUNS=${RUNS:-7}
mkdir -p "$DIR"
cargo build --release --quiet
source scripts/lib/target.sh
EVALS=$target/release/evals
FILE=$DIR/traces-$SPANS.jsonl
STORE=$DIR/evals-$SPANS.db

now_ms() { date +%s%3N; }

if [ ! -s "$FILE" ]; then
  echo "generating $FILE ..."
  python3 - "$FILE" "$SPANS" <<'PY'
import json, random, sys
from datetime import datetime, timedelta, timezone

path, spans = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
# A Zipf-like vocabulary: a few words everywhere, most of them rare.
vocab = [f"w{i}" for i in range(20000)]
weights = [1.0 / (i + 1) for i in range(len(vocab))]
cities = ["Paris", "Rome", "Oslo", "Lima", "Cairo", "Tokyo", "Quito", "Hanoi"]
start = datetime.now(timezone.utc) - timedelta(days=30)

def words(n):
    return " ".join(rng.choices(vocab, weights, k=n))

def t(base, ms):
    return (base + timedelta(milliseconds=ms)).isoformat()

with open(path, "w") as out:
    w = out.write
    n_traces = spans // 10
    for n in range(n_traces):
        tid = f"trace_{n:032x}"
        base = start + timedelta(seconds=n * 30 * 86400 / n_traces)
        city = rng.choice(cities)
        order = f"order{n}"
        w(json.dumps({"object": "trace", "id": tid, "workflow_name": rng.choice(["support", "weather", "billing"]),
                      "group_id": None, "metadata": {"customer": f"c{n % 500}"}}) + "\n")
        sid = lambda k: f"span_{n:016x}{k:08x}"
        def span(k, parent, a, b, data, error=None):
            w(json.dumps({"object": "trace.span", "id": sid(k), "trace_id": tid, "parent_id": parent,
                          "started_at": t(base, a), "ended_at": t(base, b), "span_data": data, "error": error}) + "\n")
        question = f"weather in {city} for {order} {words(12)}"
        history = [{"role": "user", "content": question}]
        span(0, None, 0, 3000, {"type": "custom", "name": "task", "data": {"name": "Agent workflow"}})
        span(1, sid(0), 1, 2990, {"type": "agent", "name": "Triage", "handoffs": ["Expert"], "tools": ["get_weather"]})
        ms = 2
        for turn in range(3):
            call_id = f"call_{n}_{turn}"
            if turn < 2:
                output = [{"type": "function_call", "call_id": call_id, "name": "get_weather",
                           "arguments": json.dumps({"city": city})}]
            else:
                output = [{"type": "message", "role": "assistant",
                           "content": [{"type": "output_text", "text": f"It is sunny in {city}. {words(20)}"}]}]
            response = {"id": f"resp_{n}_{turn}", "model": rng.choice(["gpt-4.1", "gpt-4.1-mini", "gpt-5-mini"]),
                        "instructions": "Answer, call get_weather, or hand off.", "output": output,
                        "usage": {"input_tokens": 40 + 20 * turn, "output_tokens": 12}}
            dur = rng.randint(200, 900)
            span(2 + 2 * turn, sid(1), ms, ms + dur, {"type": "response", "response_id": response["id"],
                 "response": response, "input": list(history)})
            ms += dur
            if turn < 2:
                result = f"Sunny and {rng.randint(5, 35)}C in {city} {words(4)}"
                span(3 + 2 * turn, sid(1), ms, ms + 5, {"type": "function", "name": "get_weather",
                     "input": json.dumps({"city": city}), "output": result})
                ms += 5
                history += [output[0], {"type": "function_call_output", "call_id": call_id, "output": result}]
        span(9, sid(1), ms, ms + 1, {"type": "handoff", "from_agent": "Triage", "to_agent": "Expert"})
PY
fi

if [ ! -s "$STORE" ]; then
  rm -f "$STORE" "$STORE-wal" "$STORE-shm"
  bytes=$(stat -c %s "$FILE")
  t0=$(now_ms)
  "$EVALS" --store "$STORE" traces import "$FILE" > /dev/null
  t1=$(now_ms)
  ms=$((t1 - t0))
  echo "import: $SPANS spans ($((bytes / 1048576)) MB) in $((ms / 1000)).$(printf %03d $((ms % 1000))) s = $((SPANS * 1000 / ms)) spans/s"
fi
echo "store: $(( $(stat -c %s "$STORE") / 1048576 )) MB"

query() {
  local label=$1; shift
  local times=() matches
  matches=$("$EVALS" --store "$STORE" traces list --jsonl --limit 1000000 "$@" | wc -l)
  for _ in $(seq "$RUNS"); do
    local a b
    a=$(now_ms)
    "$EVALS" --store "$STORE" traces list "$@" > /dev/null
    b=$(now_ms)
    times+=($((b - a)))
  done
  local sorted median
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")
  printf '%-48s %7s traces match   median %4d ms   (runs: %s)\n' "$label" "$matches" "$median" "$(echo $sorted)"
}

echo "traces list (default limit 50, table with totals), whole process wall time:"
query "--search order4242 (one trace)" --search order4242
query "--search w5000 (rare word)" --search w5000
query "--search Oslo (one trace in 8)" --search Oslo
query "--search sunny (every trace)" --search sunny
query "--search 'sunny Oslo w3' (three words)" --search "sunny Oslo w3"
query "--search Oslo --model gpt-5-mini --since 7d" --search Oslo --model gpt-5-mini --since 7d
query "no filter" 

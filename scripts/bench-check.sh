#!/usr/bin/env bash
# Benchmark: `evals check` over 10,000 case files (target: under 1 s on the release build).
# The cases are made by importing generated OpenAI evals samples (instructions, a few turns, an
# ideal answer: about 1.5 KB of YAML each), so every file has a real content hash to verify and
# every text goes through the privacy scanner.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
cargo build --release --quiet
source scripts/lib/target.sh
BIN="$target/release/evals"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 - "$N" > "$WORK/samples.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
system = ("You are the support agent of an online travel shop. Answer in the customer's language, "
          "call get_booking before changing anything, never promise refunds above 500 EUR, and hand off "
          "to the billing agent for invoices. Keep answers under 120 words. ") * 2
cities = ["Paris", "Rome", "Lagos", "Lima", "Oslo", "Cairo", "Seoul", "Quito", "Perth", "Tokyo"]
for i in range(n):
    c = cities[i % len(cities)]
    sample = {"input": [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Hi, booking {100000 + i} to {c} on 2026-12-{i % 28 + 1:02d}: can I move it by {i % 9 + 1} days?"},
        {"role": "assistant", "content": f"Let me look at booking {100000 + i}. The fare rules allow one change for 45.00 EUR."},
        {"role": "user", "content": f"OK, and is breakfast included for {i % 4 + 1} guests in {c}?"},
    ], "ideal": f"Yes: your stay in {c} includes breakfast for {i % 4 + 1} guests, and the change costs 45.00 EUR."}
    print(json.dumps(sample))
PY
cd "$WORK"
"$BIN" dataset import samples.jsonl --format openai-evals --dataset bench > /dev/null
count=$(ls datasets/bench | wc -l)
# Best of three: wall clock, and CPU time (user + system), which shared machines distort less.
TIMEFORMAT='%R %U %S'
best=""
for _ in 1 2 3; do
  { time "$BIN" check datasets > check.out; } 2> time.out || { tail -5 check.out; exit 1; }
  read -r wall user sys < time.out
  if [ -z "$best" ] || [ "$(echo "$wall < $best" | bc)" = 1 ]; then best=$wall; cpu=$(echo "$user + $sys" | bc); fi
done
tail -1 check.out
printf 'evals check: %d case files in %.3f s wall, %.3f s CPU (best of 3, %s cores, load %s)\n' \
  "$count" "$best" "$cpu" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)"
if [ "$(echo "$best < 1.0" | bc)" != 1 ]; then
  echo "slower than the 1 s target" >&2
  exit 1
fi

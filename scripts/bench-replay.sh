#!/usr/bin/env bash
# Replay throughput and memory: N cases against a separate mock process that answers after
# 100 ms, at concurrency C, release build, no cache. Prints wall time, the ratio to the ideal
# time ceil(N / C) × 100 ms, peak RSS, and the CPU time (user, system) of the client and of the
# mock: on a shared machine CPU varies much less with the load than wall time. Targets: 1,000 cases at 50 within 1.05× and ≤ 40 MB;
# 10,000 cases at 256 within 1.15×; 100,000 cases at 1,024 within 1.1× and ≤ 120 MB.
#   scripts/bench-replay.sh                 # every target
#   scripts/bench-replay.sh 2000 100        # one custom point
#   EVALS_BIN=path/to/evals scripts/bench-replay.sh 20000 1024   # a binary built apart (no cargo build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${EVALS_BIN:-}" ]; then
  cargo build --release --locked --quiet
  source scripts/lib/target.sh
fi
evals="${EVALS_BIN:-$target/release/evals}"
source scripts/lib/servers.sh
latency_ms=100

printf 'latency_ms: %s\ndefault:\n  text: "{{ user | upper }}"\n' "$latency_ms" > "$work/mock.yaml"
start "$work/mock.log" "$evals" mock --listen 127.0.0.1:0 --script "$work/mock.yaml"
port=${url##*:}
mock_pid=${pids[-1]}
# The mock's user and system CPU so far, in seconds (utime and stime of /proc/PID/stat).
mock_cpu() {
  python3 - "$mock_pid" <<'PY'
import os, sys
fields = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
tick = os.sysconf("SC_CLK_TCK")
print(int(fields[11]) / tick, int(fields[12]) / tick)
PY
}

bench() {
  local n=$1 c=$2 dir="$work/b$1"
  mkdir -p "$dir/datasets/d" "$dir/evals"
  python3 - "$dir/datasets/d" "$n" <<'PY'
import sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(f"{root}/case-{i:05}.yaml", "w") as f:
        f.write(f"id: case-{i:05}\nsource: {{trace_id: t{i}}}\ninput:\n  items: [{{role: user, content: 'ask {i}'}}]\n"
                f"recorded: {{output: {{text: 'ASK {i}'}}}}\nprivacy: {{status: clean}}\ncontent_hash: h{i}\n")
PY
  cat > "$dir/evals/bench.yaml" <<YAML
name: bench
target: {model: fake-model}
provider: {base_url: 'http://127.0.0.1:$port/v1', api_key_env: BENCH_KEY, concurrency: $c, timeout_s: 30}
cases: [../datasets/d]
graders:
  - {type: similarity, threshold: 0.99}
YAML
  local mock_before
  mock_before=$(mock_cpu)
  (cd "$dir" && BENCH_KEY=none EVALS_STORE="$dir/evals.db" /usr/bin/time -v \
    "$evals" run evals/bench.yaml --no-cache --quiet --out run.json > out.txt 2> time.txt) || {
    cat "$dir/out.txt" "$dir/time.txt" >&2
    exit 1
  }
  local wall rss passed ideal user sys mock
  mock=$(python3 -c "a = '$mock_before'.split(); b = '$(mock_cpu)'.split(); print(f'{float(b[0]) - float(a[0]):.2f} s user + {float(b[1]) - float(a[1]):.2f} s sys')")
  user=$(awk -F': ' '/User time \(seconds\)/ {print $2}' "$dir/time.txt")
  sys=$(awk -F': ' '/System time \(seconds\)/ {print $2}' "$dir/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$dir/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$dir/time.txt")
  passed=$(grep -o '[0-9][0-9]* passed' "$dir/out.txt" | head -1)
  ideal=$(python3 -c "import math; print(math.ceil($n/$c)*$latency_ms/1000)")
  printf '%6d cases, concurrency %4d: wall %5.2f s, ideal %4.1f s, ratio %.3f, peak RSS %5.1f MB (%s)\n' \
    "$n" "$c" "$wall" "$ideal" "$(python3 -c "print($wall/$ideal)")" "$rss" "$passed"
  printf '%34s client CPU %.2f s user + %.2f s sys (%.0f µs a case), mock CPU %s\n' \
    '' "$user" "$sys" "$(python3 -c "print(($user + $sys) / $n * 1e6)")" "$mock"
}

if [ $# -ge 2 ]; then
  bench "$1" "$2"
else
  bench 1000 50
  bench 10000 256
  bench 100000 1024
fi

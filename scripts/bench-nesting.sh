#!/usr/bin/env bash
# Benchmark: hostile nesting in a suite file is refused in linear time (target: 100,000 nested
# `[` or `{a: ` refused by `evals run` in under 50 ms of CPU, release build), at 10k, 40k and 100k
# levels so a return of the quadratic parse shows as a growing ratio.
#
#   ./scripts/bench-nesting.sh
#   EVALS=target/debug/evals ./scripts/bench-nesting.sh    # without building the release
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${EVALS:-}" ]; then
  cargo build --release --quiet
  source scripts/lib/target.sh
  EVALS=$target/release/evals
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# CPU time (user + system) of the process, so a loaded machine's waits do not count.
TIMEFORMAT='%R %U %S'
status=0
for shape in '[' '{a: '; do
  for n in 10000 40000 100000; do
    python3 -c "import sys; sys.stdout.write(sys.argv[1] * int(sys.argv[2]))" "$shape" "$n" > "$WORK/deep.yaml"
    { time { "$EVALS" --store "$WORK/evals.db" run "$WORK/deep.yaml" > /dev/null 2> "$WORK/err" && echo 0 > "$WORK/code" || echo $? > "$WORK/code"; }; } 2> "$WORK/time"
    read -r real user sys < "$WORK/time"
    code=$(cat "$WORK/code")
    cpu_ms=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%d", (u + s) * 1000}')
    printf '%-6s x %6d: %4d ms CPU (%s s wall), exit %d: %s\n' "'$shape'" "$n" "$cpu_ms" "$real" "$code" "$(head -c 100 "$WORK/err")"
    if [ "$code" -ne 2 ] || ! grep -q "nested deeper than 128 levels" "$WORK/err"; then
      echo "FAIL: not refused with its place"; status=1
    fi
    if [ "$n" -eq 100000 ] && [ "$cpu_ms" -ge 50 ]; then
      echo "FAIL: over the 50 ms target"; status=1
    fi
  done
done
exit $status

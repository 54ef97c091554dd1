#!/usr/bin/env bash
# Benchmark: hostile nesting in a suite file is refused in linear time (target: 100,000 nested
# `[` or `{a: ` refused by `evals run` in under 50 ms on the release build), at 10k, 40k and 100k
# levels so a return of the quadratic parse shows as a growing ratio.
#
#   ./scripts/bench-nesting.sh
#   EVALS=target/debug/evals ./scripts/bench-nesting.sh    # without building the release
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${EVALS:-}" ]; then
  cargo build --release --quiet
  EVALS=$PWD/target/release/evals
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
now_ms() { date +%s%3N; }
status=0
for shape in '[' '{a: '; do
  for n in 10000 40000 100000; do
    python3 -c "import sys; sys.stdout.write(sys.argv[1] * int(sys.argv[2]))" "$shape" "$n" > "$WORK/deep.yaml"
    start=$(now_ms)
    set +e
    "$EVALS" --store "$WORK/evals.db" run "$WORK/deep.yaml" 2> "$WORK/err" > /dev/null
    code=$?
    set -e
    ms=$(( $(now_ms) - start ))
    printf '%-6s x %6d: %4d ms, exit %d: %s\n' "'$shape'" "$n" "$ms" "$code" "$(head -c 120 "$WORK/err")"
    if [ "$code" -ne 2 ] || ! grep -q "nested deeper than 128 levels" "$WORK/err"; then
      echo "FAIL: not refused with its place"; status=1
    fi
    if [ "$n" -eq 100000 ] && [ "$ms" -ge 50 ]; then
      echo "FAIL: over the 50 ms target"; status=1
    fi
  done
done
exit $status

#!/usr/bin/env bash
# Interop with the JS Agents SDK (`@openai/agents`, pinned in scripts/interop-js/package-lock.json):
# an app with a function tool, a handoff under the SDK's default name and one renamed, and a
# streamed run goes through `evals collect` to `evals mock`, once on the Responses API and once on
# Chat Completions, exporting with the SDK's own exporter. The CLI must then show one complete
# trace per run that promotes and replays (on the API the agent used), switching agent on the
# handoffs. Needs Node 20+ and the npm registry; the packages go to .venv/interop-js.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.venv/interop-js
mkdir -p "$dir"
cp scripts/interop-js/package.json scripts/interop-js/package-lock.json scripts/interop-js/agent.mjs "$dir/"
# Install again only when the lock file changed since the last install.
if ! cmp -s "$dir/package-lock.json" "$dir/.installed-lock.json"; then
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$dir/.installed-lock.json"
fi
cargo build --locked --quiet --bin evals
source scripts/lib/target.sh
evals="$target/debug/evals"
source scripts/lib/servers.sh

start "$work/mock.log" "$evals" mock --listen 127.0.0.1:0
mock=$url
token=interop-$RANDOM$RANDOM
for mode in responses chat; do
  mkdir -p "$work/$mode"
  export EVALS_STORE="$work/$mode/evals.db"
  start "$work/$mode/collect.log" "$evals" collect --listen 127.0.0.1:0 --upstream "$mock/v1" --token "$token"
  node "$dir/agent.mjs" "$mode" "$url" "$token"
  # Stop collect (SIGTERM commits everything) before checking the store.
  kill -TERM "${pids[-1]}"
  wait "${pids[-1]}" || { echo "collect did not stop cleanly:"; cat "$work/$mode/collect.log"; exit 1; }
  unset 'pids[-1]'
  if grep -q "sk-interop-upstream" "$EVALS_STORE"* "$work/$mode/collect.log"; then
    echo "the upstream key leaked into the store or the log" >&2
    exit 1
  fi
  python3 scripts/interop-js/check.py "$evals" "$work/$mode" "$mode"
done
echo "JS interop passed"

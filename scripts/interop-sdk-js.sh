#!/usr/bin/env bash
# Interop with the plain OpenAI Node SDK (`openai`, pinned in scripts/interop-sdk-js/package-lock.json):
# a call, a streamed call and a call the upstream fails (retried by the SDK) go through `evals
# collect` to `evals mock` (scripts/interop/mock.yaml). The CLI must then show each call as a
# complete trace, the failed one as an error with its attempts, and the good ones must promote and
# replay (scripts/interop/check.py ... sdk). Needs Node 20+ and the npm registry; the package goes
# to .venv/interop-sdk-js.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/npm.sh
dir=.venv/interop-sdk-js
npm_install scripts/interop-sdk-js "$dir" scripts/interop-sdk-js/sdk.mjs
cargo build --locked --quiet --bin evals
source scripts/lib/target.sh
evals="$target/debug/evals"
source scripts/lib/servers.sh

start "$work/mock.log" "$evals" mock --listen 127.0.0.1:0 --script scripts/interop/mock.yaml
export EVALS_STORE="$work/evals.db"
token=interop-$RANDOM$RANDOM
start "$work/collect.log" "$evals" collect --listen 127.0.0.1:0 --upstream "$url/v1" --token "$token"
node "$dir/sdk.mjs" "$url" "$token"
python3 scripts/interop/check.py "$evals" "$work" node-sdk sdk
echo "Node SDK interop passed"

#!/usr/bin/env bash
# End-to-end test of the web app (`evals ui`) in headless Chromium: Debian's /usr/bin/chromium
# (scripts/setup-chromium.sh) driven by playwright-core from npm (pinned in tests/ui/; no browser
# download). A repo is built the way a user builds one, through the CLI: the fixture captures
# imported, a hostile trace (markup and personal data in its text) added, a suite run once and
# once more after a prompt change that regresses it. A second repo holds a 10,000-case run.
# tests/ui/e2e.mjs then drives a server on each, and one with a token on the first. Screenshots of every page at 390 and 1400 px go
# to target/ui-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
source scripts/lib/npm.sh
source scripts/lib/target.sh
node_dir="$target/ui-e2e"
npm_install tests/ui "$node_dir" tests/ui/e2e.mjs
./scripts/setup-chromium.sh
cargo build --locked --quiet --bin evals
evals="$target/debug/evals"
source scripts/lib/servers.sh

# The repo: the demo's mock model and prompt, a suite over the demo cases, the taxonomy.
repo="$work/repo"
mkdir -p "$repo/evals/prompts" "$repo/datasets"
cp evals/taxonomy.yaml evals/mock.yaml "$repo/evals/"
cp evals/prompts/triage.j2 "$repo/evals/prompts/"
cp -r datasets/demo "$repo/datasets/"
suite() {
  cat > "$repo/evals/support.yaml" <<YAML
name: support
target:
  model: fake-model
  instructions: {file: prompts/triage.j2}
  vars: {style: "$1"}
  max_turns: 6
provider: {mock: mock.yaml, concurrency: 4}
cases: [../datasets/demo]
graders:
  - {name: same answer, type: similarity, threshold: 0.9}
gate: {min_pass_rate: 1.0, max_regressions: 0}
YAML
}
cd "$repo"
git init -q
export EVALS_STORE="$repo/.evals/evals.db"
for f in agents-sdk/agents_processor_full.jsonl agents-sdk/agents_processor_chat.jsonl \
  openai-sdk/requests_responses.jsonl otlp/openinference-agents-json/traces/001.raw.json; do
  "$evals" traces import "$root/tests/fixtures/$f" > /dev/null
done
# Two hostile traces: a real Responses API log line from the fixtures with its user text and
# answer replaced by markup and personal data.
python3 - "$root/tests/fixtures/openai-sdk/requests_responses.jsonl" "$work/hostile.jsonl" <<'PY'
import copy, json, sys
logs = [json.loads(line) for line in open(sys.argv[1])]
real = next(l for l in logs if l["endpoint"] == "/v1/responses")
texts = [
    ('<img src=x onerror="window.__xss=1"> my email is ada@example.com, call me at +1 415 555 0100',
     "We wrote to <script>window.__xss=2</script> ada@example.com"),
    ('<svg onload="window.__xss=3"> write to bob@example.org tomorrow', "Done, <b>bob@example.org</b>"),
]
with open(sys.argv[2], "w") as out:
    for i, (question, answer) in enumerate(texts, 1):
        log = copy.deepcopy(real)
        log["request"]["input"] = question
        log["response"]["id"] = f"resp_hostile000{i}"
        log["response"]["output"][0]["content"][0]["text"] = answer
        out.write(json.dumps(log) + "\n")
PY
"$evals" traces import "$work/hostile.jsonl" > /dev/null
suite ""
"$evals" run evals/support.yaml --out "$work/base.json" > "$work/run.log" 2>&1
suite " Always answer in French."
status=0
"$evals" run evals/support.yaml --baseline "$work/base.json" > "$work/run.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || { cat "$work/run.log"; echo "ui-e2e: the French prompt should fail the gate (exit 1), got $status" >&2; exit 1; }

# The big repo: 10,000 cases (OpenAI evals samples imported through the CLI), one run.
big="$work/big"
mkdir -p "$big/evals/prompts"
cp evals/mock.yaml "$big/evals/"
echo 'Answer.' > "$big/evals/prompts/p.j2"
cat > "$big/evals/big.yaml" <<'YAML'
name: big
target: {model: fake-model, instructions: {file: prompts/p.j2}}
provider: {mock: mock.yaml, concurrency: 64}
cases: [../datasets/big]
graders:
  - {name: same answer, type: similarity, threshold: 0.9}
YAML
python3 - "$big/samples.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        ideal = f"HELLO NUMBER {i}" if i % 7 else f"something else {i}"
        f.write(json.dumps({"input": [{"role": "system", "content": "Answer."}, {"role": "user", "content": f"hello number {i}"}], "ideal": ideal}) + "\n")
PY
cd "$big"
export EVALS_STORE="$big/.evals/evals.db"
"$evals" dataset import --format openai-evals --dataset big samples.jsonl > /dev/null
# One case in seven fails its grader, so the gate fails: that exit code is expected here.
"$evals" run evals/big.yaml > /dev/null 2>&1 || [ $? -eq 1 ]
start "$work/big-ui.log" "$evals" ui --listen 127.0.0.1:0
big_ui=$url

cd "$repo"
export EVALS_STORE="$repo/.evals/evals.db"
start "$work/ui.log" "$evals" ui --listen 127.0.0.1:0
ui=$url
token=ui-e2e-$RANDOM$RANDOM
start "$work/token-ui.log" "$evals" ui --listen 127.0.0.1:0 --token "$token"
token_ui=$url
cd "$root"
shots="$target/ui-screenshots"
rm -rf "$shots"
if ! node "$node_dir/e2e.mjs" "$ui" "$repo" "$big_ui" "$evals" "$shots" "$token_ui" "$token"; then
  echo "--- evals ui log:" >&2
  cat "$work/ui.log" >&2
  exit 1
fi

#!/usr/bin/env bash
# Interop with the real clients: an `openai-agents` app with a function tool and a handoff runs
# against `evals mock` through `evals collect`, exporting with the SDK's HTTP exporter (with
# sensitive data on, then off) and with OpenInference over OTLP; its model calls go through the
# collect proxy each time. Then the scenarios of scripts/interop/*.py, the JS Agents SDK and the
# plain Node SDK.
# The CLI must then show complete traces that promote and replay. Then OpenAI's documented python
# grader (rapidfuzz, at the hosted grader image's version) runs in a suite. Needs Python 3.11 and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv/interop
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import agents, openinference.instrumentation.openai_agents, opentelemetry.exporter.otlp.proto.http, opentelemetry.instrumentation.openai_v2, rapidfuzz' 2>/dev/null; then
  python3.11 -m venv "$venv" 2>/dev/null || python3 -m venv "$venv"
  # openai-v2 2.4b0 needs httpx (openai 3 no longer brings it) and the util-genai of its time
  # (from 1.0b0 on, util-genai forces the experimental conventions and refuses CAPTURE_MESSAGE_CONTENT=true).
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    openai-agents==0.24.0 openai==3.60.0 openinference-instrumentation-openai-agents==2.6.0 \
    opentelemetry-sdk==1.45.2 opentelemetry-exporter-otlp-proto-http==1.45.2 \
    opentelemetry-instrumentation-openai-v2==2.4b0 opentelemetry-util-genai==0.4b0 httpx==0.28.1 \
    rapidfuzz==3.10.1
fi
cargo build --locked --quiet --bin evals
source scripts/lib/target.sh
evals="$target/debug/evals"
source scripts/lib/servers.sh

start "$work/mock.log" "$evals" mock --listen 127.0.0.1:0
mock=$url
token=interop-$RANDOM$RANDOM
for mode in exporter sensitive otlp; do
  mkdir -p "$work/$mode"
  export EVALS_STORE="$work/$mode/evals.db"
  start "$work/$mode/collect.log" "$evals" collect --listen 127.0.0.1:0 --upstream "$mock/v1" --token "$token"
  collect=$url
  OPENAI_AGENTS_DISABLE_TRACING=0 "$venv/bin/python" scripts/interop/agent.py "$mode" "$collect" "$token"
  # Stop collect (SIGTERM commits everything) before checking the store.
  kill -TERM "${pids[-1]}"
  wait "${pids[-1]}" || { echo "collect did not stop cleanly:"; cat "$work/$mode/collect.log"; exit 1; }
  unset 'pids[-1]'
  if grep -q "sk-interop-upstream" "$EVALS_STORE"* "$work/$mode/collect.log"; then
    echo "the upstream key leaked into the store or the log" >&2
    exit 1
  fi
  "$venv/bin/python" scripts/interop/check.py "$evals" "$work/$mode" "$mode"
done
# A handoff renamed with tool_name_override, agents on OpenAIChatCompletionsModel, a run continuing
# another by previous_response_id, a chat session of two turns traced as one; each scenario checks
# the store itself (the exporter answers once collect has committed).
for scenario in renamed_handoff chat_model previous_response multi_turn; do
  mkdir -p "$work/$scenario"
  export EVALS_STORE="$work/$scenario/evals.db"
  start "$work/$scenario/collect.log" "$evals" collect --listen 127.0.0.1:0 --upstream "$mock/v1" --token "$token"
  "$venv/bin/python" "scripts/interop/$scenario.py" "$evals" "$url" "$token" "$work/$scenario"
done
# The plain OpenAI SDK (through the proxy, with a call the mock fails) and the OpenTelemetry GenAI
# instrumentation over OTLP protobuf (straight to the mock), against the mock script they need.
start "$work/sdk-mock.log" "$evals" mock --listen 127.0.0.1:0 --script scripts/interop/mock.yaml
sdk_mock=$url
for scenario in openai_sdk openai_v2; do
  mkdir -p "$work/$scenario"
  export EVALS_STORE="$work/$scenario/evals.db"
  start "$work/$scenario/collect.log" "$evals" collect --listen 127.0.0.1:0 --upstream "$sdk_mock/v1" --token "$token"
  "$venv/bin/python" "scripts/interop/$scenario.py" "$evals" "$url" "$token" "$work/$scenario" "$sdk_mock"
done
# The grader's `python3` is the venv's, as the hosted grader's has rapidfuzz.
mkdir -p "$work/python-grader"
EVALS_STORE="$work/python-grader/evals.db" PATH="$PWD/$venv/bin:$PATH" \
  "$venv/bin/python" scripts/interop/python_grader.py "$evals" "$work/python-grader"
scripts/interop-js.sh
scripts/interop-sdk-js.sh
# The pre-commit framework: it accepts this repository's hook manifest, and runs the hook that
# `evals init --pre-commit` configures, which passes on what init wrote and fails on a broken case.
pc=.venv/pre-commit
if [ ! -x "$pc/bin/pre-commit" ]; then
  python3.11 -m venv "$pc" 2>/dev/null || python3 -m venv "$pc"
  "$pc/bin/pip" install --quiet --disable-pip-version-check pre-commit==4.7.0
fi
"$pc/bin/pre-commit" validate-manifest .pre-commit-hooks.yaml
pc=$PWD/$pc
(
  cd "$work" && mkdir hooked && cd hooked
  export PATH="$(dirname "$evals"):$PATH" PRE_COMMIT_HOME="$work/pre-commit-home"
  git init --quiet && git config user.email ci@example.invalid && git config user.name ci
  evals init --mock --pre-commit --yes > /dev/null
  "$pc/bin/pre-commit" validate-config .pre-commit-config.yaml
  git add -A && "$pc/bin/pre-commit" run evals-check --all-files > "$work/hook.log" || { cat "$work/hook.log"; exit 1; }
  printf 'id: broken\n' > datasets/main/broken.yaml && git add -A
  if "$pc/bin/pre-commit" run evals-check --all-files > "$work/hook.log"; then
    echo "the evals-check hook passed a broken case" >&2; cat "$work/hook.log"; exit 1
  fi
  grep -q "broken.yaml" "$work/hook.log" || { echo "the hook did not name the broken file" >&2; cat "$work/hook.log"; exit 1; }
)
echo "interop passed"

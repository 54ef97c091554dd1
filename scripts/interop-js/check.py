"""Check with the evals CLI what collect captured of the JS agent (agent.mjs), then promote and
replay it.

Usage: check.py EVALS_BINARY WORKDIR MODE   (MODE: responses | chat)
The store is $EVALS_STORE; cases go to WORKDIR/datasets, the suite to WORKDIR/evals.
"""

import json
import os
import subprocess
import sys

evals, work, mode = sys.argv[1], sys.argv[2], sys.argv[3]
label = f"js-{mode}"


def cli(*args):
    out = subprocess.run([evals, *args], capture_output=True, text=True, cwd=work)
    if out.returncode != 0:
        sys.exit(f"[{label}] evals {' '.join(args)} exited {out.returncode}:\n{out.stdout}{out.stderr}")
    return out.stdout


def fail(msg):
    sys.exit(f"[{label}] {msg}")


traces = json.loads(cli("traces", "list", "--json"))
if len(traces) != 4:
    fail(f"expected the 4 runs as 4 traces, got {[(t['id'], t['workflow']) for t in traces]}")
runs = {}
for t in traces:
    if t["turns"] == 0 or t["content_turns"] != t["turns"]:
        fail(f"{t['id']}: {t['content_turns']} of {t['turns']} model turns have content")
    if t["input_tokens"] == 0:
        fail(f"{t['id']}: no token usage")
    spans = json.loads(cli("traces", "show", t["id"], "--json"))["spans"]
    handoffs = [s["data"] for s in spans if s["data"]["kind"] == "handoff"]
    tools = [s["data"] for s in spans if s["data"]["kind"] == "tool" and s["data"]["name"] == "get_weather"]
    if handoffs:
        runs[handoffs[0]["to"]] = t["id"]
    elif tools:
        if tools[0].get("output") != "Sunny and 21C in Paris":
            fail(f"{t['id']}: tool output missing: {tools[0]}")
        runs["tool"] = t["id"]
    else:
        runs["streamed"] = t["id"]
if sorted(runs) != ["Billing", "Weather expert", "streamed", "tool"]:
    fail(f"expected a tool run, two handoff runs and a streamed run; found {runs}")

datasets = os.path.join(work, "datasets")
for kind in ("tool", "Weather expert", "Billing"):
    cli("promote", runs[kind], "--dataset", label, "--verdict", "pass", "--datasets", datasets)
cases = {}
for name in os.listdir(os.path.join(datasets, label)):
    with open(os.path.join(datasets, label, name)) as f:
        cases[name] = f.read()
for tool in ("transfer_to_Weather_expert", "escalate_billing"):
    if not any(f"tool: {tool}" in text for text in cases.values()):
        fail(f"no case records the handoff tool {tool}")
if not all("name: get_weather" in text for text in cases.values()):
    fail("a case lost the tools")

os.makedirs(os.path.join(work, "evals"), exist_ok=True)
suite = os.path.join(work, "evals", f"{label}.yaml")
api = "chat_completions" if mode == "chat" else "responses"
with open(suite, "w") as f:
    f.write(
        f"name: {label}\ntarget: {{model: fake-model}}\nprovider: {{mock: builtin, api: {api}}}\n"
        f"cases: [../datasets/{label}]\n"
        "graders:\n  - {name: same answer, type: similarity, threshold: 0.9}\n"
        "gate: {min_pass_rate: 1.0}\n"
    )
out = os.path.join(work, "run.json")
run = cli("run", suite, "--out", out)
if "3 passed" not in run:
    fail(f"replay did not pass all 3 cases:\n{run}")
with open(out) as f:
    results = json.load(f)["results"]
agents = sorted(r["output"].get("agent") or "" for r in results)
if agents != ["Billing", "Triage", "Weather expert"]:
    fail(f"replay did not switch agent on each handoff: final agents {agents}")
print(f"[{label}] 4 complete traces (tool, 2 handoffs, streamed); promoted 3 cases; replay on {api} passed, handoffs switched agent")

"""A Python Agents SDK handoff renamed with `tool_name_override`, captured by `evals collect`
(proxy + the SDK's HTTP exporter), then checked with the CLI: one trace, the case records the
renamed tool, and replay switches agent on it.

Usage: renamed_handoff.py EVALS_BINARY COLLECT_URL TOKEN WORKDIR   (the store is $EVALS_STORE)
"""

import json
import os
import sys

from agents import Agent, Runner, handoff

from check import cli_for, through_collect

evals, collect, token, work = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]
label = "renamed-handoff"

_, processor = through_collect(collect, token)

billing = Agent(name="Billing", instructions="You handle billing.", model="fake-model")
triage = Agent(
    name="Triage",
    instructions="Answer, or escalate billing questions.",
    handoffs=[handoff(billing, tool_name_override="escalate_billing")],
    model="fake-model",
)
r = Runner.run_sync(triage, "call_tool escalate_billing now")
if r.last_agent.name != "Billing":
    sys.exit(f"[{label}] the SDK itself did not hand off: {r.last_agent.name}")
# The exporter answers once collect has committed, so the store is complete after this.
processor.shutdown()


cli = cli_for(evals, work, label)


traces = json.loads(cli("traces", "list", "--json"))
if len(traces) != 1 or traces[0]["content_turns"] != traces[0]["turns"]:
    sys.exit(f"[{label}] expected one complete trace, got {traces}")
datasets = os.path.join(work, "datasets")
cli("promote", traces[0]["id"], "--dataset", label, "--verdict", "pass", "--datasets", datasets)
(name,) = os.listdir(os.path.join(datasets, label))
with open(os.path.join(datasets, label, name)) as f:
    case = f.read()
if "tool: escalate_billing" not in case:
    sys.exit(f"[{label}] the case does not record the renamed handoff:\n{case}")
os.makedirs(os.path.join(work, "evals"), exist_ok=True)
suite = os.path.join(work, "evals", f"{label}.yaml")
with open(suite, "w") as f:
    f.write(
        f"name: {label}\ntarget: {{model: fake-model}}\nprovider: {{mock: builtin}}\ncases: [../datasets/{label}]\n"
        "graders:\n  - {type: handoff_to, agent: Billing}\n  - {type: similarity, threshold: 0.9}\n"
    )
out = os.path.join(work, "run.json")
run = cli("run", suite, "--out", out)
with open(out) as f:
    (result,) = json.load(f)["results"]
if "1 passed" not in run or result["output"].get("agent") != "Billing":
    sys.exit(f"[{label}] replay did not switch to Billing:\n{run}")
print(f"[{label}] one complete trace; the case records escalate_billing; replay handed off to Billing")

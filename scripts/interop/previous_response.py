"""An Agents SDK conversation continued with `previous_response_id`: the second `Runner.run`
sends only its new message and the id of the first run's last response, captured by `evals
collect` (proxy + the SDK's HTTP exporter). Checked with the CLI: the second run's trace
promotes with the earlier turn resolved from the store, replays and passes.

Usage: previous_response.py EVALS_BINARY COLLECT_URL TOKEN WORKDIR   (the store is $EVALS_STORE)
"""

import asyncio
import json
import os
import sys

from agents import Agent, Runner
from check import cli_for, replay, through_collect

evals, collect, token, work = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]
label = "previous-response"
cli = cli_for(evals, work, label)

_, processor = through_collect(collect, token)
agent = Agent(name="Assistant", instructions="Remember the conversation.", model="fake-model")


async def main():
    first = await Runner.run(agent, "my name is Ada")
    second = await Runner.run(agent, "what is my name", previous_response_id=first.last_response_id)
    return first.last_response_id, second.final_output


first_id, answer = asyncio.run(main())
if answer != "WHAT IS MY NAME":
    sys.exit(f"[{label}] the second run answered {answer!r}")
# The exporter answers once collect has committed, so the store is complete after this.
processor.shutdown()

traces = json.loads(cli("traces", "list", "--json"))
if len(traces) != 2:
    sys.exit(f"[{label}] expected the 2 runs as 2 traces, got {[t['id'] for t in traces]}")
second = None
for t in traces:
    spans = json.loads(cli("traces", "show", t["id"], "--json"))["spans"]
    calls = [s["data"] for s in spans if s["data"]["kind"] == "model"]
    if len(calls) != 1 or t["content_turns"] != 1:
        sys.exit(f"[{label}] {t['id']}: {t}")
    if (calls[0].get("params") or {}).get("previous_response_id") == first_id:
        second = t["id"]
if second is None:
    sys.exit(f"[{label}] no trace continues {first_id}")
datasets = os.path.join(work, "datasets")
cli("promote", second, "--dataset", label, "--verdict", "pass", "--datasets", datasets)
[name] = os.listdir(os.path.join(datasets, label))
with open(os.path.join(datasets, label, name)) as f:
    case = f.read()
# The earlier turn, in order, then the new message; the id itself is never replayed.
at = [case.find(text) for text in ("my name is Ada", "MY NAME IS ADA", "what is my name")]
if -1 in at or at != sorted(at) or first_id in case:
    sys.exit(f"[{label}] the case does not hold the resolved conversation:\n{case}")
run = replay(cli, work, label)
if "1 passed" not in run:
    sys.exit(f"[{label}] replay did not pass:\n{run}")
print(f"[{label}] 2 runs as 2 traces; the continued one promoted with the earlier turn from the store; replay passed")

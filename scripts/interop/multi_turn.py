"""A chat session traced as one: two `Runner.run` calls inside one `trace()`, the second sending
the first run's items and a new user message, captured by `evals collect` (proxy + the SDK's HTTP
exporter). Checked with the CLI: the trace promotes as its last user turn, with the first turn as
context, so that the recorded answer is the answer to the case's input; replay passes.

Usage: multi_turn.py EVALS_BINARY COLLECT_URL TOKEN WORKDIR   (the store is $EVALS_STORE)
"""

import asyncio
import json
import os
import sys

from agents import Agent, Runner, trace
from check import cli_for, replay, through_collect

evals, collect, token, work = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]
label = "multi-turn"
cli = cli_for(evals, work, label)

_, processor = through_collect(collect, token)
agent = Agent(name="Assistant", instructions="Remember the conversation.", model="fake-model")


async def main():
    with trace("chat session"):
        first = await Runner.run(agent, "my name is Ada")
        second = await Runner.run(agent, first.to_input_list() + [{"role": "user", "content": "what is my name"}])
    return second.final_output


answer = asyncio.run(main())
if answer != "WHAT IS MY NAME":
    sys.exit(f"[{label}] the second turn answered {answer!r}")
processor.shutdown()

traces = json.loads(cli("traces", "list", "--json"))
if len(traces) != 1:
    sys.exit(f"[{label}] expected the session as 1 trace, got {[t['id'] for t in traces]}")
datasets = os.path.join(work, "datasets")
cli("promote", traces[0]["id"], "--dataset", label, "--verdict", "pass", "--datasets", datasets)
[name] = os.listdir(os.path.join(datasets, label))
with open(os.path.join(datasets, label, name)) as f:
    case = f.read()
# The first turn as context, then the second message; the recorded answer is the second one's.
at = [case.find(text) for text in ("my name is Ada", "MY NAME IS ADA", "what is my name", "WHAT IS MY NAME")]
if -1 in at or at != sorted(at):
    sys.exit(f"[{label}] the case is not the last turn with its context:\n{case}")
run = replay(cli, work, label)
if "1 passed" not in run:
    sys.exit(f"[{label}] replay did not pass:\n{run}")
print(f"[{label}] two user turns in 1 trace; promoted as the last turn with the first as context; replay passed")

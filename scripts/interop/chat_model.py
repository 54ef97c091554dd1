"""A Python Agents SDK app on `OpenAIChatCompletionsModel` (a function tool and a handoff),
captured by `evals collect` (proxy + the SDK's HTTP exporter), then checked with the CLI: one
trace per run although the SDK's generation spans carry no response id, content and tools
complete, tokens counted once, promoted, replayed through Chat Completions, switching agent.

Usage: chat_model.py EVALS_BINARY COLLECT_URL TOKEN WORKDIR   (the store is $EVALS_STORE)
"""

import json
import os
import sys

from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool

from check import cli_for, through_collect

evals, collect, token, work = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]
label = "python-chat"

client, processor = through_collect(collect, token)
model = OpenAIChatCompletionsModel(model="fake-model", openai_client=client)


@function_tool
def get_weather(city: str) -> str:
    """Return the weather for a city."""
    return f"Sunny and 21C in {city}"


expert = Agent(name="Weather expert", instructions="You are the weather expert.", model=model)
triage = Agent(
    name="Triage",
    instructions="Answer, call get_weather, or hand off to the expert.",
    tools=[get_weather],
    handoffs=[expert],
    model=model,
)
Runner.run_sync(triage, "call_tool get_weather city=Paris")
r = Runner.run_sync(triage, "call_tool transfer_to_weather_expert please")
if r.last_agent.name != "Weather expert":
    sys.exit(f"[{label}] the SDK itself did not hand off: {r.last_agent.name}")
# The exporter answers once collect has committed, so the store is complete after this.
processor.shutdown()


cli = cli_for(evals, work, label)


traces = json.loads(cli("traces", "list", "--json"))
if len(traces) != 2:
    sys.exit(f"[{label}] expected the 2 runs as 2 traces, got {[(t['id'], t['workflow']) for t in traces]}")
for t in traces:
    if t["turns"] != 2 or t["content_turns"] != 2 or t["input_tokens"] == 0:
        sys.exit(f"[{label}] {t['id']}: {t}")
datasets = os.path.join(work, "datasets")
for t in traces:
    cli("promote", t["id"], "--dataset", label, "--verdict", "pass", "--datasets", datasets)
for name in os.listdir(os.path.join(datasets, label)):
    with open(os.path.join(datasets, label, name)) as f:
        if "name: get_weather" not in f.read():
            sys.exit(f"[{label}] {name} lost the tools")
os.makedirs(os.path.join(work, "evals"), exist_ok=True)
suite = os.path.join(work, "evals", f"{label}.yaml")
with open(suite, "w") as f:
    f.write(
        f"name: {label}\ntarget: {{model: fake-model}}\nprovider: {{mock: builtin, api: chat_completions}}\n"
        f"cases: [../datasets/{label}]\ngraders:\n  - {{type: similarity, threshold: 0.9}}\n"
    )
out = os.path.join(work, "run.json")
run = cli("run", suite, "--out", out)
with open(out) as f:
    agents = sorted(r["output"].get("agent") or "" for r in json.load(f)["results"])
if "2 passed" not in run or agents != ["Triage", "Weather expert"]:
    sys.exit(f"[{label}] replay did not pass with the handoff switching agent ({agents}):\n{run}")
print(f"[{label}] 2 complete traces; promoted 2 cases with their tools; replay on chat_completions passed, handoff switched agent")

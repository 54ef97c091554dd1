"""Check with the evals CLI that collect captured complete traces, then promote and replay them.

Usage: check.py EVALS_BINARY WORKDIR LABEL [sdk]
The store is $EVALS_STORE; cases go to WORKDIR/datasets/LABEL, the suite to WORKDIR/evals.
Without `sdk`, the three Agents SDK runs of agent.py; with it, the three plain SDK calls of
openai_sdk.py and interop-sdk-js/sdk.mjs (`check_sdk_calls`).
The other scenarios import the helpers (`cli_for`, `through_collect`, `kinds`, `texts`, `replay`)
from here.
"""

import json
import os
import subprocess
import sys


def cli_for(evals, work, label, stderr=False):
    """`evals ARGS` run in WORKDIR, its stdout (and stderr, where warnings go, with `stderr`); a
    non-zero exit fails the scenario named LABEL."""

    def cli(*args):
        out = subprocess.run([evals, *args], capture_output=True, text=True, cwd=work)
        if out.returncode != 0:
            sys.exit(f"[{label}] evals {' '.join(args)} exited {out.returncode}:\n{out.stdout}{out.stderr}")
        return out.stdout + (out.stderr if stderr else "")

    return cli


def through_collect(collect, token):
    """Point the Agents SDK at `evals collect`: model calls through its proxy, traces to its
    exporter route. Returns the client and the processor (shut it down to flush the traces)."""
    from agents import set_default_openai_client, set_trace_processors
    from agents.tracing.processors import BackendSpanExporter, BatchTraceProcessor
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=f"{collect}/v1", api_key="sk-interop-upstream", default_headers={"X-Evals-Token": token})
    set_default_openai_client(client)
    processor = BatchTraceProcessor(BackendSpanExporter(endpoint=f"{collect}/v1/traces/ingest", api_key=token))
    set_trace_processors([processor])
    return client, processor


def kinds(spans, kind):
    return [s["data"] for s in spans if s["data"]["kind"] == kind]


def texts(spans):
    out = []
    for m in kinds(spans, "model"):
        for item in m.get("output") or []:
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("text"):
                    out.append(part["text"])
    return out


def tree_ok(spans):
    ids = {s["id"] for s in spans}
    roots = [s for s in spans if not s.get("parent_id")]
    return len(roots) >= 1 and all(s.get("parent_id") in ids for s in spans if s.get("parent_id"))


def replay(cli, work, label, provider="{mock: builtin}"):
    """Run the cases of WORKDIR/datasets/LABEL against the mock, graded by similarity to what was
    recorded; the terminal report."""
    os.makedirs(os.path.join(work, "evals"), exist_ok=True)
    suite = os.path.join(work, "evals", f"{label}.yaml")
    with open(suite, "w") as f:
        f.write(
            f"name: {label}\ntarget: {{model: fake-model}}\nprovider: {provider}\n"
            f"cases: [../datasets/{label}]\n"
            "graders:\n  - {name: same answer, type: similarity, threshold: 0.9}\n"
            "gate: {min_pass_rate: 1.0}\n"
        )
    return cli("run", suite)


def check_sdk_calls(cli, work, label):
    """The store after a plain SDK made three calls through the collect proxy: "hello plain call",
    "hello streamed call" (streamed) and "fail this call" (a 500 from the mock, retried twice by
    the SDK). Each is a trace with its content; the failed one an error trace showing its three
    attempts; the two good ones promote, replay and pass."""
    traces = json.loads(cli("traces", "list", "--json"))
    if len(traces) != 3:
        fail(label, f"expected the 3 calls as 3 traces, got {[t['id'] for t in traces]}")
    failed = json.loads(cli("traces", "list", "--status", "error", "--json"))
    if len(failed) != 1:
        fail(label, f"--status error found {[t['id'] for t in failed]}")
    shown = cli("traces", "show", failed[0]["id"])
    # The SDK retries a 500 twice: three attempts of one call.
    if "attempt 3" not in shown or "HTTP 500" not in shown:
        fail(label, f"traces show does not print the attempts:\n{shown}")
    good = [t for t in traces if t["id"] != failed[0]["id"]]
    found = set()
    for t in good:
        if t["status"] != "ok" or t["turns"] != 1 or t["content_turns"] != 1 or t["input_tokens"] == 0:
            fail(label, f"{t['id']}: {t}")
        found.update(texts(json.loads(cli("traces", "show", t["id"], "--json"))["spans"]))
        cli("promote", t["id"], "--dataset", label, "--verdict", "pass", "--datasets", os.path.join(work, "datasets"))
    if found != {"HELLO PLAIN CALL", "HELLO STREAMED CALL"}:
        fail(label, f"the stored outputs are {found}")
    run = replay(cli, work, label)
    if "2 passed" not in run:
        fail(label, f"replay did not pass both cases:\n{run}")
    print(f"[{label}] 3 calls as 3 traces (streamed output assembled; the 500 an error trace of 3 attempts); promoted 2; replay passed")


def fail(label, msg):
    sys.exit(f"[{label}] {msg}")


def main():
    evals, work, label = sys.argv[1], sys.argv[2], sys.argv[3]
    cli = cli_for(evals, work, label)
    if sys.argv[4:] == ["sdk"]:
        return check_sdk_calls(cli, work, label)

    traces = json.loads(cli("traces", "list", "--json"))
    if len(traces) != 3:
        fail(label, f"expected the 3 runs as 3 traces, got {[t['id'] for t in traces]}")
    shown = {}
    for t in traces:
        if t["turns"] == 0 or t["content_turns"] != t["turns"]:
            fail(label, f"{t['id']}: {t['content_turns']} of {t['turns']} model turns have content")
        shown[t["id"]] = json.loads(cli("traces", "show", t["id"], "--json"))["spans"]

    by_kind = {}
    for tid, spans in shown.items():
        if not tree_ok(spans):
            fail(label, f"{tid}: spans do not form a tree")
        tools = [t for t in kinds(spans, "tool") if t["name"] == "get_weather"]
        if tools:
            # With sensitive data off the SDK exports the tool span without its output; the model's
            # next input (from the proxy) still has it.
            if label != "sensitive" and tools[0].get("output") != "Sunny and 21C in Paris":
                fail(label, f"{tid}: tool output missing: {tools[0]}")
            if "TOOL RESULT: Sunny and 21C in Paris" not in texts(spans):
                fail(label, f"{tid}: final model text missing: {texts(spans)}")
            by_kind["tool"] = tid
        elif kinds(spans, "handoff"):
            h = kinds(spans, "handoff")[0]
            if (h.get("from"), h.get("to")) != ("Triage", "Weather expert"):
                fail(label, f"{tid}: handoff is {h}")
            by_kind["handoff"] = tid
        elif "HELLO FROM A STREAMED RUN" in texts(spans):
            by_kind["streamed"] = tid
    if sorted(by_kind) != ["handoff", "streamed", "tool"]:
        fail(label, f"expected a tool run, a handoff run and a streamed run; found {by_kind}")

    for kind in ("tool", "handoff"):
        cli("promote", by_kind[kind], "--dataset", label, "--verdict", "pass", "--datasets", os.path.join(work, "datasets"))
    run = replay(cli, work, label)
    if "2 passed" not in run:
        fail(label, f"replay did not pass both cases:\n{run}")
    print(f"[{label}] 3 complete traces (tool call with output, handoff, full text); promoted 2 cases; replay passed")


if __name__ == "__main__":
    main()

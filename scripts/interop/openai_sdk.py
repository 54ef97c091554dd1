"""The plain OpenAI Python SDK calling /v1/responses through the `evals collect` proxy: a call,
a streamed call and a call the upstream fails with a 500 (retried by the SDK). Checked with the
CLI: each call is a trace with its content complete (the streamed output assembled), the failed
call is an error trace listing its attempts, the good ones promote, replay and pass.

Usage: openai_sdk.py EVALS_BINARY COLLECT_URL TOKEN WORKDIR   (the store is $EVALS_STORE)
"""

import sys

import openai
from check import check_sdk_calls, cli_for

evals, collect, token, work = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]
label = "python-sdk"
cli = cli_for(evals, work, label)

client = openai.OpenAI(base_url=f"{collect}/v1", api_key="sk-interop-upstream", default_headers={"X-Evals-Token": token})
r = client.responses.create(model="fake-model", instructions="Be brief.", input="hello plain call")
if r.output_text != "HELLO PLAIN CALL":
    sys.exit(f"[{label}] the SDK got {r.output_text!r}")
streamed = ""
with client.responses.stream(model="fake-model", input="hello streamed call") as stream:
    for event in stream:
        if event.type == "response.output_text.delta":
            streamed += event.delta
if streamed != "HELLO STREAMED CALL":
    sys.exit(f"[{label}] the SDK streamed {streamed!r}")
try:
    client.responses.create(model="fake-model", input="fail this call")
    sys.exit(f"[{label}] the failing call succeeded")
except openai.InternalServerError:
    pass

check_sdk_calls(cli, work, label)

"""The OpenTelemetry GenAI instrumentation (`opentelemetry-instrumentation-openai-v2`) on the
plain OpenAI Python SDK, exporting OTLP/HTTP protobuf spans and log events (content capture on)
to `evals collect`; the model calls go straight to the mock, so all the content comes from the
instrumentation. One run under one parent span: a Chat Completions call asking for a tool, the
tool, the call answering its result. The instrumentation sends no tool definitions. Checked with
the CLI: one trace with both calls' content, promoted (warning that the tool's definition is
inferred), replayed through Chat Completions, passing.

Usage: openai_v2.py EVALS_BINARY COLLECT_URL TOKEN WORKDIR MOCK_URL   (the store is $EVALS_STORE)
"""

import json
import os
import sys

os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"

import openai
from check import cli_for, replay
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

evals, collect, token, work, mock = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4], sys.argv[5]
label = "openai-v2"
cli = cli_for(evals, work, label)

resource = Resource.create({"service.name": "interop-openai-v2"})
headers = {"x-evals-token": token}
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{collect}/v1/traces", headers=headers)))
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{collect}/v1/logs", headers=headers)))
OpenAIInstrumentor().instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)

client = openai.OpenAI(base_url=f"{mock}/v1", api_key="sk-interop-upstream")
tools = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
messages = [{"role": "system", "content": "Answer with the weather tool."}, {"role": "user", "content": "weather in Paris"}]
with tracer_provider.get_tracer("interop").start_as_current_span("weather run"):
    first = client.chat.completions.create(model="fake-model", messages=messages, tools=tools)
    [call] = first.choices[0].message.tool_calls
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "Sunny and 21C in Paris"}]
    second = client.chat.completions.create(model="fake-model", messages=messages, tools=tools)
if second.choices[0].message.content != "TOOL RESULT: Sunny and 21C in Paris":
    sys.exit(f"[{label}] the SDK got {second.choices[0].message.content!r}")
# Both exporters answer once collect has committed.
tracer_provider.shutdown()
logger_provider.shutdown()

traces = json.loads(cli("traces", "list", "--json"))
if len(traces) != 1:
    sys.exit(f"[{label}] expected the run as 1 trace, got {[(t['id'], t['turns']) for t in traces]}")
[t] = traces
if t["turns"] != 2 or t["content_turns"] != 2 or t["input_tokens"] == 0:
    sys.exit(f"[{label}] {t}")
shown = cli("traces", "show", t["id"])
for text in ("weather in Paris", "get_weather", "Sunny and 21C in Paris", "TOOL RESULT: Sunny and 21C in Paris"):
    if text not in shown:
        sys.exit(f"[{label}] {text!r} is not in the trace:\n{shown}")
promoted = cli_for(evals, work, label, stderr=True)("promote", t["id"], "--dataset", label, "--verdict", "pass", "--datasets", os.path.join(work, "datasets"))
if "get_weather" not in promoted or "infer" not in promoted:
    sys.exit(f"[{label}] promotion did not warn that it inferred the tool definition:\n{promoted}")
script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock.yaml")
run = replay(cli, work, label, provider=f"{{mock: '{script}', api: chat_completions}}")
if "1 passed" not in run:
    sys.exit(f"[{label}] replay did not pass:\n{run}")
print(f"[{label}] 1 trace of 2 chat calls over OTLP protobuf, content complete; promoted with the tool inferred; replay on chat_completions passed")

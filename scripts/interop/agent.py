"""An Agents SDK app with a function tool and a handoff, captured by `evals collect`.

Usage: agent.py exporter|sensitive|otlp COLLECT_URL TOKEN

The model client goes through the collect proxy (OPENAI_BASE_URL=COLLECT_URL/v1, the token in
the X-Evals-Token header); the traces go to collect either through the SDK's own HTTP exporter
(`exporter`; `sensitive`: the same with `trace_include_sensitive_data=False`, so the spans carry
neither content nor response ids) or through OpenInference over OTLP/HTTP protobuf (`otlp`).
"""

import asyncio
import sys

from agents import Agent, RunConfig, Runner, function_tool, set_default_openai_client, set_trace_processors
from openai import AsyncOpenAI

mode, collect, token = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]

# The upstream key travels in Authorization untouched; the collect token in its own header.
set_default_openai_client(
    AsyncOpenAI(base_url=f"{collect}/v1", api_key="sk-interop-upstream", default_headers={"X-Evals-Token": token})
)

if mode in ("exporter", "sensitive"):
    from agents.tracing.processors import BackendSpanExporter, BatchTraceProcessor

    # The exporter presents the token as its API key.
    processor = BatchTraceProcessor(BackendSpanExporter(endpoint=f"{collect}/v1/traces/ingest", api_key=token))
    set_trace_processors([processor])
    flush = processor.shutdown
elif mode == "otlp":
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    set_trace_processors([])  # only OpenInference's processor, not the OpenAI exporter
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=f"{collect}/v1/traces", headers={"x-evals-token": token})
    provider.add_span_processor(BatchSpanProcessor(exporter))
    OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)
    flush = provider.shutdown
else:
    sys.exit(f"unknown mode {mode}")


@function_tool
def get_weather(city: str) -> str:
    """Return the weather for a city."""
    return f"Sunny and 21C in {city}"


expert = Agent(name="Weather expert", instructions="You are the weather expert.", model="fake-model")
triage = Agent(
    name="Triage",
    instructions="Answer, call get_weather, or hand off to the expert.",
    tools=[get_weather],
    handoffs=[expert],
    model="fake-model",
)


# What the production guides recommend: no content in the spans.
config = RunConfig(trace_include_sensitive_data=mode != "sensitive")


async def main():
    r = await Runner.run(triage, "call_tool get_weather city=Paris", run_config=config)
    print("tool run:", r.final_output)
    r = await Runner.run(triage, "call_tool transfer_to_weather_expert please", run_config=config)
    print("handoff run:", r.final_output, "by", r.last_agent.name)
    streamed = Runner.run_streamed(triage, "hello from a streamed run", run_config=config)
    async for _ in streamed.stream_events():
        pass
    print("streamed run:", streamed.final_output)


asyncio.run(main())
flush()

// A JS Agents SDK app with a function tool and a handoff, captured by `evals collect`.
//
// Usage: node agent.mjs responses|chat COLLECT_URL TOKEN [CAPTURE.jsonl]
//
// The model client goes through the collect proxy (baseURL COLLECT_URL/v1, the token in the
// X-Evals-Token header), on the Responses API or on Chat Completions; the SDK's own exporter
// sends the traces to collect. With CAPTURE, every exported body is also written there, one
// `{"data": [...]}` per line, as the exporter POSTs it, and every model call that is not
// streamed to CAPTURE with `.calls.jsonl` for `.jsonl`, as `{"endpoint", "request", "response"}`
// (the test fixtures in tests/fixtures/agents-sdk-js/ come from this).
import { appendFileSync } from 'node:fs';
import OpenAI from 'openai';
import {
  Agent,
  BatchTraceProcessor,
  OpenAITracingExporter,
  Runner,
  handoff,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTraceProcessors,
  tool,
} from '@openai/agents';
import { z } from 'zod';

const [mode, collectArg, token, capture] = process.argv.slice(2);
const collect = collectArg.replace(/\/$/, '');
if (mode !== 'responses' && mode !== 'chat') throw new Error(`unknown mode ${mode}`);

async function recordingFetch(url, init) {
  const response = await fetch(url, init);
  const request = JSON.parse(init.body);
  if (!request.stream) {
    const body = await response.clone().json();
    const endpoint = new URL(url).pathname;
    appendFileSync(capture.replace(/\.jsonl$/, '.calls.jsonl'), JSON.stringify({ endpoint, request, response: body }) + '\n');
  }
  return response;
}

// The upstream key travels in Authorization untouched; the collect token in its own header.
setDefaultOpenAIClient(
  new OpenAI({
    baseURL: `${collect}/v1`,
    apiKey: 'sk-interop-upstream',
    defaultHeaders: { 'X-Evals-Token': token },
    ...(capture ? { fetch: recordingFetch } : {}),
  }),
);
setOpenAIAPI(mode === 'chat' ? 'chat_completions' : 'responses');

const exporter = new OpenAITracingExporter({ endpoint: `${collect}/v1/traces/ingest`, apiKey: token });
const exporters = [exporter];
if (capture) {
  exporters.push({
    async export(items) {
      const data = items.map((i) => i.toJSON()).filter((i) => !!i);
      appendFileSync(capture, JSON.stringify({ data }) + '\n');
    },
  });
}
const processors = exporters.map((e) => new BatchTraceProcessor(e));
setTraceProcessors(processors);

const getWeather = tool({
  name: 'get_weather',
  description: 'Return the weather for a city.',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `Sunny and 21C in ${city}`,
});

const expert = new Agent({ name: 'Weather expert', instructions: 'You are the weather expert.', model: 'fake-model' });
const billing = new Agent({ name: 'Billing', instructions: 'You handle billing.', model: 'fake-model' });
const triage = new Agent({
  name: 'Triage',
  instructions: 'Answer, call get_weather, or hand off to the expert.',
  tools: [getWeather],
  // The JS default name (transfer_to_Weather_expert) and an overridden one.
  handoffs: [expert, handoff(billing, { toolNameOverride: 'escalate_billing' })],
  model: 'fake-model',
});

const runner = new Runner();
let r = await runner.run(triage, 'call_tool get_weather city=Paris');
console.log('tool run:', r.finalOutput);
r = await runner.run(triage, 'call_tool transfer_to_Weather_expert please');
console.log('handoff run:', r.finalOutput, 'by', r.lastAgent.name);
r = await runner.run(triage, 'call_tool escalate_billing now');
console.log('renamed handoff run:', r.finalOutput, 'by', r.lastAgent.name);
const streamed = await runner.run(triage, 'hello from a streamed run', { stream: true });
for await (const _ of streamed) {
  // drain the events
}
await streamed.completed;
console.log('streamed run:', streamed.finalOutput);
for (const p of processors) await p.shutdown();

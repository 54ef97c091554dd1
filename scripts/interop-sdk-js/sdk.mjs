// The plain OpenAI Node SDK calling /v1/responses through `evals collect`: a call, a streamed
// call and a call the upstream fails with a 500 (the SDK retries it twice). The store is then
// checked by scripts/interop/check.py ... sdk.
// Usage: node sdk.mjs COLLECT_URL TOKEN
import OpenAI from "openai";

const [collect, token] = process.argv.slice(2);
// The upstream key travels in Authorization untouched; the collect token in its own header.
const client = new OpenAI({
  baseURL: `${collect.replace(/\/$/, "")}/v1`,
  apiKey: "sk-interop-upstream",
  defaultHeaders: { "X-Evals-Token": token },
});

function expect(what, got, want) {
  if (got !== want) {
    console.error(`[node-sdk] ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    process.exit(1);
  }
}

const plain = await client.responses.create({ model: "fake-model", instructions: "Be brief.", input: "hello plain call" });
expect("plain call", plain.output_text, "HELLO PLAIN CALL");
let streamed = "";
const stream = await client.responses.create({ model: "fake-model", input: "hello streamed call", stream: true });
for await (const event of stream) {
  if (event.type === "response.output_text.delta") streamed += event.delta;
}
expect("streamed call", streamed, "HELLO STREAMED CALL");
try {
  await client.responses.create({ model: "fake-model", input: "fail this call" });
  expect("failing call", "succeeded", "an error");
} catch (e) {
  expect("failing call", e.status, 500);
}
console.log("[node-sdk] 3 calls made");

// The official openai SDK against the bridge: a streamed raw-lane answer, then a mission whose
// progress arrives as reasoning-summary events before the report.
// Run: OPENCODE_BRIDGE_KEY=sk-local-codex-bridge node examples/sdk-stream.mjs
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const client = new OpenAI({
  apiKey: process.env.OPENCODE_BRIDGE_KEY ?? 'sk-local-codex-bridge',
  baseURL: process.env.BRIDGE_URL ?? 'http://127.0.0.1:4000/v1',
});

const raw = client.responses.stream({
  model: 'ocg-kimi-k2.6',
  input: 'Name three uses of an LLM gateway.',
});
raw.on('response.output_text.delta', (event) => process.stdout.write(event.delta));
await raw.finalResponse();
console.log('\n');

const mission = client.responses.stream({
  model: 'mission-a3-kimi',
  input: readFileSync(new URL('./handoff-a3.md', import.meta.url), 'utf8'),
});
mission.on('response.reasoning_summary_text.delta', (event) => console.log(`  · ${event.delta}`));
const report = await mission.finalResponse();
console.log(report.output_text);

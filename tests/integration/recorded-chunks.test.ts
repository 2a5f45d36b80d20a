/**
 * Upstream quirks replayed from recorded chunk fixtures (tests/fixtures/chunks/) over real HTTP:
 * Kimi's tool-call special tokens leaking into `content` become real tool calls, and an Anthropic
 * `/messages` thinking block goes back with its signature on the next turn.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/chunks/${name}`, import.meta.url), 'utf8');

/** A loopback upstream that answers each POST with the next recorded stream, byte for byte. */
interface Replay {
  readonly baseUrl: string;
  readonly bodies: Record<string, unknown>[];
  queue(...names: string[]): void;
  close(): Promise<void>;
}

async function startReplay(): Promise<Replay> {
  const pending: string[] = [];
  const bodies: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      bodies.push(JSON.parse(raw) as Record<string, unknown>);
      const name = pending.shift();
      if (name === undefined) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"no fixture"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(fixture(name));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    bodies,
    queue: (...names) => pending.push(...names),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let replay: Replay;
let bridge: BridgeHarness;
let openai: OpenAI;
beforeAll(async () => {
  replay = await startReplay();
  bridge = await startBridge({ env: { UPSTREAM_BASE: replay.baseUrl } });
  openai = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await bridge.close();
  await replay.close();
});
beforeEach(() => replay.bodies.splice(0));

const tools = ['read_file', 'search_text'].map((name) => ({
  type: 'function' as const,
  name,
  parameters: { type: 'object', properties: {} },
  strict: false,
}));

describe('Kimi tool-call tokens in content', () => {
  for (const stream of [false, true]) {
    it(`become function_call items, the markup gone from the text (${stream ? 'stream' : 'JSON'})`, async () => {
      replay.queue('kimi-tool-tokens.sse');
      const params = { model: 'ocg-kimi-k2.6', input: 'Which port?', tools };
      const response = stream
        ? await openai.responses.stream(params).finalResponse()
        : await openai.responses.create(params);
      expect(response.output_text).toBe('Let me look at the config.');
      expect(response.output_text).not.toContain('<|');
      const calls = response.output.flatMap((item) =>
        item.type === 'function_call' ? [[item.call_id, item.name, item.arguments]] : [],
      );
      expect(calls).toEqual([
        ['functions.read_file:0', 'read_file', '{"path": "src/config.ts"}'],
        ['functions.search_text:1', 'search_text', '{"pattern":"PORT"}'],
      ]);
      expect(response.status).toBe('completed');
    });
  }
});

describe('Anthropic /messages thinking signatures', () => {
  it('a thinking block is sent back with its signature on the tool-result turn', async () => {
    replay.queue('messages-thinking-signature.sse', 'messages-text.sse');
    const first = await openai.responses.create({
      model: 'ocg-minimax-m3',
      input: 'Which port?',
      tools,
      stream: false,
    });
    const reasoning = first.output.find((item) => item.type === 'reasoning');
    expect(reasoning?.encrypted_content).toMatch(/^ocb2\./);
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call?.type === 'function_call' && call.call_id).toBe('toolu_01A');

    // The client sends the items back itself (store:false style), as Codex does.
    const second = await openai.responses.create({
      model: 'ocg-minimax-m3',
      store: false,
      tools,
      input: [
        { role: 'user', content: 'Which port?' },
        ...(first.output as never[]),
        { type: 'function_call_output', call_id: 'toolu_01A', output: 'export const PORT = 4000;' },
      ],
    });
    expect(second.output_text).toBe('The port is 4000.');
    const sent = replay.bodies[1] as { messages: { role: string; content: unknown[] }[] };
    expect(sent.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent.messages[1]?.content).toEqual([
      {
        type: 'thinking',
        thinking: 'I need the config file before answering.',
        signature: 'EqQBCkYIBxgCKkDsig0123456789==',
      },
      { type: 'tool_use', id: 'toolu_01A', name: 'read_file', input: { path: 'src/config.ts' } },
    ]);
  });
});

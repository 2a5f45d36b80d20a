import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reply, startMockUpstream } from '../../src/demo/index.js';
import { createLogger } from '../../src/log/index.js';
import { createUpstreamClient, passthroughToOpenAI } from '../../src/upstream/index.js';
import {
  bodyOf,
  call,
  collect,
  iterate,
  registry,
  startHarness,
  testConfig,
  type Harness,
} from './upstream-harness.js';

describe('upstream client: dialects and mapping', () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness({ OPENCODE_GO_API_KEY: 'sk-upstream-test' });
  });
  afterEach(async () => {
    await harness.close();
  });

  it('streams a chat completion with reasoning, text, usage and the cost frame that follows [DONE]', async () => {
    harness.mock.script(
      reply()
        .reasoning('Let me think.')
        .text('Hello there, world.')
        .usage({
          prompt_tokens: 100,
          completion_tokens: 12,
          cached_tokens: 40,
          reasoning_tokens: 5,
        })
        .cost(0.0012)
        .chunkSize(4),
    );
    const parts = await collect(
      harness.client.stream(call(['deepseek-v4-pro'], { sessionKey: 'thread-123' })),
    );

    expect(parts[0]).toEqual({ type: 'response-metadata', model: 'deepseek-v4-pro', attempt: 1 });
    const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('');
    const reasoning = parts
      .flatMap((part) => (part.type === 'reasoning-delta' ? [part.text] : []))
      .join('');
    expect(text).toBe('Hello there, world.');
    expect(reasoning).toBe('Let me think.');
    expect(parts.slice(-3)).toEqual([
      {
        type: 'usage',
        usage: {
          input_tokens: 100,
          cached_input_tokens: 40,
          cache_write_tokens: 0,
          output_tokens: 12,
          reasoning_tokens: 5,
          total_tokens: 112,
        },
      },
      { type: 'cost', usd: 0.0012 },
      { type: 'finish', reason: 'stop' },
    ]);

    const [request] = harness.mock.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers['authorization']).toBe('Bearer sk-upstream-test');
    expect(request?.headers['x-opencode-session']).toBe('thread-123');
    expect(bodyOf(harness.mock, 0)).toMatchObject({
      model: 'deepseek-v4-pro',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('keeps Kimi tool-call ids verbatim and reads Moonshot usage from the choice', async () => {
    harness.mock.script(
      reply()
        .toolCall('read_file', { path: 'src/a.ts' })
        .toolCall('grep', { pattern: 'x' })
        .kimiIds()
        .usageInChoice()
        .usage({ prompt_tokens: 50, completion_tokens: 9, cached_tokens: 30 })
        .chunkSize(5),
    );
    const result = await harness.client.complete(call(['kimi-k2.6']));
    expect(result.model).toBe('kimi-k2.6');
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toEqual([
      { id: 'functions.read_file:0', name: 'read_file', arguments: '{"path":"src/a.ts"}' },
      { id: 'functions.grep:1', name: 'grep', arguments: '{"pattern":"x"}' },
    ]);
    expect(result.usage).toMatchObject({
      input_tokens: 50,
      cached_input_tokens: 30,
      output_tokens: 9,
      total_tokens: 59,
    });
    expect(bodyOf(harness.mock, 0)['temperature']).toBe(1);
  });

  it('accepts a server that ignores stream:true and answers one JSON body', async () => {
    harness.mock.script(reply().reasoning('r').text('plain json').cost(0.5).jsonBody());
    const result = await harness.client.complete(call(['glm-5.2']));
    expect(result).toMatchObject({
      model: 'glm-5.2',
      text: 'plain json',
      reasoning: 'r',
      finishReason: 'stop',
      upstreamCostUsd: 0.5,
    });
  });

  it('speaks Anthropic Messages to a minimax model: x-api-key, anthropic-version, /messages', async () => {
    harness.mock.script(
      reply()
        .reasoning('thinking…')
        .text('From MiniMax.')
        .toolCall('ls', { dir: '.' }, { id: 'toolu_01' })
        .usage({ prompt_tokens: 20, completion_tokens: 6, cached_tokens: 10 })
        .cost(0.0004),
    );
    const result = await harness.client.complete(
      call(['minimax-m3'], {
        request: {
          messages: [
            { role: 'system', content: 'sys' },
            { role: 'user', content: 'go' },
          ],
          tools: [{ type: 'function', function: { name: 'ls', parameters: { type: 'object' } } }],
        },
      }),
    );
    expect(result).toMatchObject({
      model: 'minimax-m3',
      text: 'From MiniMax.',
      reasoning: 'thinking…',
      finishReason: 'tool_calls',
      toolCalls: [{ id: 'toolu_01', name: 'ls', arguments: '{"dir":"."}' }],
      upstreamCostUsd: 0.0004,
    });
    expect(result.usage.cached_input_tokens).toBe(10);
    const [request] = harness.mock.requests;
    expect(request?.path).toBe('/v1/messages');
    expect(request?.headers['x-api-key']).toBe('sk-upstream-test');
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(request?.headers['authorization']).toBeUndefined();
    expect(bodyOf(harness.mock, 0)).toMatchObject({
      model: 'minimax-m3',
      system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral' } }],
      max_tokens: 32_000,
      stream: true,
    });
  });

  it('lists upstream models and caches them', async () => {
    const first = await harness.client.listModels();
    expect(first).toContain('kimi-k2.6');
    const second = await harness.client.listModels();
    expect(second).toEqual(first);
    expect(harness.mock.requests.filter((request) => request.path === '/v1/models')).toHaveLength(
      1,
    );
    expect(harness.mock.requests[0]?.headers['authorization']).toBe('Bearer sk-upstream-test');
  });
});

describe('upstream client: without a key and unreachable', () => {
  it('sends no auth header when no key is configured (local vLLM/Ollama)', async () => {
    const harness = await startHarness();
    try {
      harness.mock.script(reply().text('local'));
      await harness.client.complete(call(['glm-5.2']));
      harness.mock.script(reply().text('local'));
      await harness.client.complete(call(['minimax-m3']));
      expect(harness.mock.requests[0]?.headers['authorization']).toBeUndefined();
      expect(harness.mock.requests[1]?.headers['x-api-key']).toBeUndefined();
    } finally {
      await harness.close();
    }
  });

  it('returns null from listModels when the upstream cannot be reached', async () => {
    const mock = await startMockUpstream();
    const baseUrl = mock.baseUrl;
    await mock.close();
    const client = createUpstreamClient({
      config: testConfig(baseUrl),
      logger: createLogger('silent'),
      registry,
    });
    try {
      expect(await client.listModels()).toBeNull();
    } finally {
      await client.close();
    }
  });
});

describe('passthroughToOpenAI', () => {
  it('posts the body verbatim to {OPENAI_BASE_URL}/responses with the OpenAI key and streams the answer', async () => {
    const mock = await startMockUpstream();
    try {
      mock.script(reply().text('from gpt'));
      const config = testConfig(mock.baseUrl, {
        OPENAI_BASE_URL: mock.baseUrl,
        OPENAI_API_KEY: 'sk-openai-test',
      });
      const body = JSON.stringify({ model: 'gpt-6.1-sol', stream: true, input: 'hi' });
      const result = await passthroughToOpenAI({
        body,
        signal: new AbortController().signal,
        config,
      });
      expect(result.statusCode).toBe(200);
      expect(result.headers['content-type']).toMatch(/event-stream/);
      let text = '';
      for await (const chunk of result.body)
        text += Buffer.from(chunk as Uint8Array).toString('utf8');
      expect(text).toContain('from gpt');
      expect(text).toContain('response.completed');
      const [request] = mock.requests;
      expect(request?.path).toBe('/v1/responses');
      expect(request?.headers['authorization']).toBe('Bearer sk-openai-test');
      expect(request?.body).toEqual(JSON.parse(body));
    } finally {
      await mock.close();
    }
  });
});

describe('passthroughToOpenAI deadlines', () => {
  it('fails with upstream_timeout when OpenAI sends nothing before the first-byte deadline', async () => {
    const mock = await startMockUpstream();
    try {
      mock.script(reply().hang());
      const config = testConfig(mock.baseUrl, {
        OPENAI_BASE_URL: mock.baseUrl,
        OPENAI_API_KEY: 'sk-openai-test',
        UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '0.2',
      });
      await expect(
        passthroughToOpenAI({
          body: '{"model":"gpt-6.1-sol"}',
          signal: new AbortController().signal,
          config,
        }),
      ).rejects.toMatchObject({ code: 'upstream_timeout' });
      expect(mock.requests).toHaveLength(1);
    } finally {
      await mock.close();
    }
  });
});

describe('abort closes the upstream connection', () => {
  it('destroys the socket and frees the slot when the caller aborts mid-stream', async () => {
    let closed!: () => void;
    const socketClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    let upstreamResponse: ServerResponse | undefined;
    const server = createServer((request, response) => {
      request.resume();
      upstreamResponse = response;
      response.socket?.on('close', () => closed());
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(
        `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'first' }, finish_reason: null }] })}\n\n`,
      );
      // …and never another byte: only the client can end this.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = createUpstreamClient({
      config: testConfig(`http://127.0.0.1:${port}/v1`),
      logger: createLogger('silent'),
      registry,
    });
    try {
      const controller = new AbortController();
      const iterator = iterate(client.stream(call(['glm-5.2'], { signal: controller.signal })));
      expect((await iterator.next()).value).toMatchObject({ type: 'response-metadata' });
      expect((await iterator.next()).value).toEqual({ type: 'text-delta', text: 'first' });
      expect(client.concurrency().global.inUse).toBe(1);
      const pending = iterator.next();
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await socketClosed;
      expect(upstreamResponse?.writableEnded).toBe(false);
      expect(client.concurrency()).toEqual({
        global: { inUse: 0, max: 4, queued: 0 },
        perModel: { 'glm-5.2': { inUse: 0, max: 2, queued: 0, configured: 2 } },
      });
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

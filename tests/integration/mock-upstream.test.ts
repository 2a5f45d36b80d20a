import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  conversation,
  demoResponder,
  lastUserText,
  reply,
  startMockUpstream,
  toolNames,
  toolResults,
  type MockUpstream,
  type RecordedRequest,
} from '../../src/demo/index.js';

interface SseFrame {
  event: string | undefined;
  data: string;
}

function parseSse(text: string): SseFrame[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice('event: '.length);
        else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
      }
      return { event, data: data.join('\n') };
    });
}

/** Data payloads parsed as JSON; `[DONE]` and unparseable frames are kept as raw strings. */
function payloads(text: string): unknown[] {
  return parseSse(text).map((frame): unknown => {
    try {
      return JSON.parse(frame.data);
    } catch {
      return frame.data;
    }
  });
}

// Just enough of each wire shape for the assertions below.
interface ChatToolFragment {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}
interface ChatDelta {
  role?: string;
  content?: string;
  reasoning_content?: string;
  tool_calls?: ChatToolFragment[];
}
interface ChatChoice {
  index: number;
  delta: ChatDelta;
  finish_reason: string | null;
  usage?: Record<string, unknown>;
}
interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}
interface ChatChunk {
  object: string;
  model: string;
  choices: ChatChoice[];
  usage?: ChatUsage | null;
  cost?: string;
}
interface AnthropicEvent {
  type: string;
  index?: number;
  message?: { usage: Record<string, number> };
  content_block?: { type: string; id?: string; name?: string };
  delta?: Record<string, string | undefined>;
  usage?: { output_tokens: number };
  cost?: string;
}
interface ResponsesEvent {
  type: string;
  sequence_number: number;
  item?: Record<string, unknown>;
  response?: { status: string; output: unknown[]; usage: unknown; incomplete_details: unknown };
}

function jsonFrames<T>(text: string): T[] {
  return parseSse(text).map((frame) => JSON.parse(frame.data) as T);
}

let mock: MockUpstream;

beforeEach(async () => {
  mock = await startMockUpstream();
});

afterEach(async () => {
  await mock.close();
});

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) {
  const res = await request(`${mock.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test-key', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'kimi-k2.6',
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'hello there' }],
  ...extra,
});

function chunksOf(text: string): ChatChunk[] {
  return payloads(text).filter((p): p is ChatChunk => typeof p === 'object' && p !== null);
}

function deltasOf(text: string): ChatDelta[] {
  return chunksOf(text).flatMap((c) => (c.choices[0] ? [c.choices[0].delta] : []));
}

function finishChoice(text: string): ChatChoice {
  const choices = chunksOf(text).flatMap((c) =>
    c.choices.filter((choice) => choice.finish_reason !== null),
  );
  expect(choices).toHaveLength(1);
  return choices[0]!;
}

interface TokenCounts {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

describe('chat completions dialect', () => {
  it('streams reasoning, text, finish, a usage chunk and [DONE]', async () => {
    mock.script(
      reply().reasoning('think hard').text('Hello world!').chunkSize(4).usage({
        prompt_tokens: 100,
        completion_tokens: 20,
        cached_tokens: 60,
        reasoning_tokens: 5,
      }),
    );
    const res = await post('/chat/completions', chatBody());
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(parseSse(res.text).at(-1)?.data).toBe('[DONE]');
    const chunks = chunksOf(res.text);
    for (const c of chunks) {
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.model).toBe('kimi-k2.6');
    }
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const deltas = deltasOf(res.text);
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe('think hard');
    expect(deltas.flatMap((d) => (d.content ? [d.content] : []))).toEqual(['Hell', 'o wo', 'rld!']);
    expect(finishChoice(res.text).finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      prompt_tokens_details: { cached_tokens: 60 },
      completion_tokens_details: { reasoning_tokens: 5 },
    });
    // include_usage asks for usage:null on every other chunk.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('computes plausible usage when none is scripted', async () => {
    mock.script(reply().reasoning('abcdefgh').text('some answer'));
    const res = await post('/chat/completions', chatBody());
    const usage = chunksOf(res.text).at(-1)?.usage;
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    expect(usage?.completion_tokens_details.reasoning_tokens).toBe(2);
    expect(usage?.prompt_tokens_details.cached_tokens).toBe(0);
  });

  it('streams parallel tool calls: id and name only on the first fragment per index', async () => {
    mock.script(
      reply()
        .toolCall('read_file', { path: 'src/index.ts' })
        .toolCall('list_dir', '{"path":"."}', { id: 'call_custom' }),
    );
    const res = await post('/chat/completions', chatBody());
    const byIndex = new Map<number, ChatToolFragment[]>();
    for (const fragment of deltasOf(res.text).flatMap((d) => d.tool_calls ?? [])) {
      byIndex.set(fragment.index, [...(byIndex.get(fragment.index) ?? []), fragment]);
    }
    expect([...byIndex.keys()]).toEqual([0, 1]);

    const calls = [...byIndex.values()].map((fragments) => {
      const [head, ...rest] = fragments;
      expect(head?.id).toEqual(expect.any(String));
      expect(head?.type).toBe('function');
      expect(head?.function?.name).toEqual(expect.any(String));
      for (const fragment of rest) {
        expect(fragment.id).toBeUndefined();
        expect(fragment.function?.name).toBeUndefined();
      }
      const args = fragments.map((f) => f.function?.arguments ?? '').join('');
      return { id: head?.id, name: head?.function?.name, args };
    });
    expect(calls[0]?.name).toBe('read_file');
    expect(JSON.parse(calls[0]?.args ?? '')).toEqual({ path: 'src/index.ts' });
    expect(calls[1]).toEqual({ id: 'call_custom', name: 'list_dir', args: '{"path":"."}' });
    expect(calls[0]?.id).not.toBe(calls[1]?.id);
    expect(finishChoice(res.text).finish_reason).toBe('tool_calls');
  });

  it('uses Kimi call ids and Moonshot-style usage in the finish choice', async () => {
    mock.script(
      reply()
        .kimiIds()
        .usageInChoice()
        .toolCall('read_file', { path: 'a' })
        .toolCall('read_file', { path: 'b' })
        .usage({ prompt_tokens: 10, completion_tokens: 4, cached_tokens: 3 }),
    );
    const res = await post('/chat/completions', chatBody());
    const ids = deltasOf(res.text)
      .flatMap((d) => d.tool_calls ?? [])
      .flatMap((f) => (f.id === undefined ? [] : [f.id]));
    expect(ids).toEqual(['functions.read_file:0', 'functions.read_file:1']);
    expect(chunksOf(res.text).some((c) => c.choices.length === 0)).toBe(false);
    expect(finishChoice(res.text).usage).toMatchObject({
      prompt_tokens: 10,
      completion_tokens: 4,
      total_tokens: 14,
      cached_tokens: 3,
    });
  });

  it("sends Go's cost frame after [DONE]", async () => {
    mock.script(reply().text('hi').cost(0.0042));
    const res = await post('/chat/completions', chatBody());
    const all = payloads(res.text);
    const done = all.indexOf('[DONE]');
    expect(done).toBeGreaterThan(0);
    expect(all.slice(done + 1)).toEqual([{ choices: [], cost: '0.0042' }]);
  });

  it('answers stream:false with a chat.completion JSON including cost', async () => {
    mock.script(reply().reasoning('why').text('answer').toolCall('exec', { cmd: 'ls' }).cost(0.5));
    const res = await post('/chat/completions', chatBody({ stream: false }));
    expect(res.headers['content-type']).toContain('application/json');
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ object: 'chat.completion', cost: '0.5' });
    expect(body.choices[0].message).toMatchObject({
      role: 'assistant',
      content: 'answer',
      reasoning_content: 'why',
      tool_calls: [{ type: 'function', function: { name: 'exec', arguments: '{"cmd":"ls"}' } }],
    });
    expect(body.choices[0].finish_reason).toBe('tool_calls');
    const usage = body.usage as TokenCounts;
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it('jsonBody() ignores stream:true', async () => {
    mock.script(reply().text('plain').jsonBody());
    const res = await post('/chat/completions', chatBody());
    expect(res.headers['content-type']).toContain('application/json');
    expect(JSON.parse(res.text).choices[0].message.content).toBe('plain');
  });

  it('inserts a malformed frame after n chunks and then continues normally', async () => {
    mock.script(reply().text('abcdefgh').chunkSize(2).malformedChunkAfter(1));
    const res = await post('/chat/completions', chatBody());
    const frames = parseSse(res.text).map((f) => f.data);
    const bad = frames.indexOf('{not json');
    expect(bad).toBeGreaterThan(0);
    expect(JSON.parse(frames[bad - 1] ?? '').choices[0].delta.content).toBe('ab');
    expect(JSON.parse(frames[bad + 1] ?? '').choices[0].delta.content).toBe('cd');
    expect(frames.at(-1)).toBe('[DONE]');
  });

  it('noFinish() ends the stream without finish_reason, usage or [DONE]', async () => {
    mock.script(reply().text('partial').noFinish());
    const res = await post('/chat/completions', chatBody());
    expect(parseSse(res.text).map((f) => f.data)).not.toContain('[DONE]');
    const chunks = chunksOf(res.text);
    expect(chunks.some((c) => c.choices.some((choice) => choice.finish_reason !== null))).toBe(
      false,
    );
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(
      deltasOf(res.text)
        .map((d) => d.content ?? '')
        .join(''),
    ).toBe('partial');
  });
});

describe('anthropic messages dialect', () => {
  it('streams thinking, text and tool_use blocks, then message_delta, message_stop and a cost ping', async () => {
    mock.script(
      reply()
        .reasoning('hmm')
        .text('Let me look.')
        .toolCall('read_file', { path: 'README.md' })
        .usage({ prompt_tokens: 50, completion_tokens: 9, cached_tokens: 20 })
        .cost(0.01),
    );
    const res = await post(
      '/messages',
      {
        model: 'minimax-m3',
        stream: true,
        max_tokens: 100,
        messages: [{ role: 'user', content: 'go' }],
      },
      { 'x-api-key': 'go-key', 'anthropic-version': '2023-06-01' },
    );
    expect(res.status).toBe(200);
    const frames = parseSse(res.text);
    const data = jsonFrames<AnthropicEvent>(res.text);
    expect(data.map((d) => d.type)).toEqual(frames.map((f) => f.event));
    expect(data[0]?.type).toBe('message_start');
    expect(data.slice(-3).map((d) => d.type)).toEqual(['message_delta', 'message_stop', 'ping']);
    expect(data[0]?.message?.usage).toMatchObject({
      input_tokens: 30,
      cache_read_input_tokens: 20,
    });

    const starts = data.filter((d) => d.type === 'content_block_start');
    expect(starts.map((s) => [s.index, s.content_block?.type])).toEqual([
      [0, 'thinking'],
      [1, 'text'],
      [2, 'tool_use'],
    ]);
    expect(starts[2]?.content_block).toMatchObject({ name: 'read_file', id: expect.any(String) });
    const deltas = data.filter((d) => d.type === 'content_block_delta');
    const joined = (index: number, field: string): string =>
      deltas
        .filter((d) => d.index === index)
        .map((d) => d.delta?.[field] ?? '')
        .join('');
    expect(joined(0, 'thinking')).toBe('hmm');
    expect(deltas.some((d) => d.index === 0 && d.delta?.['type'] === 'signature_delta')).toBe(true);
    expect(joined(1, 'text')).toBe('Let me look.');
    expect(JSON.parse(joined(2, 'partial_json'))).toEqual({ path: 'README.md' });
    expect(data.filter((d) => d.type === 'content_block_stop').map((d) => d.index)).toEqual([
      0, 1, 2,
    ]);
    const messageDelta = data.find((d) => d.type === 'message_delta');
    expect(messageDelta?.delta?.['stop_reason']).toBe('tool_use');
    expect(messageDelta?.usage?.output_tokens).toBe(9);
    expect(data.at(-1)).toEqual({ type: 'ping', cost: '0.01' });

    const [recorded] = mock.requests;
    expect(recorded?.headers['x-api-key']).toBe('go-key');
    expect(recorded?.path).toBe('/v1/messages');
  });

  it('answers stream:false with a Messages JSON', async () => {
    mock.script(reply().text('done').finish('length'));
    const res = await post('/messages', { model: 'minimax-m3', max_tokens: 5, messages: [] });
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'max_tokens' });
    expect(body.content).toEqual([{ type: 'text', text: 'done' }]);
  });
});

describe('responses dialect', () => {
  it('streams the canonical event order with sequence numbers, namespaces and full usage', async () => {
    mock.script(
      reply()
        .reasoning('plan')
        .text('Spawning.')
        .toolCall('spawn_agent', { task: 'x' }, { namespace: 'multi_agent_v1' })
        .usage({ prompt_tokens: 11, completion_tokens: 7, cached_tokens: 2, reasoning_tokens: 1 }),
    );
    const res = await post('/responses', { model: 'gpt-6.1', stream: true, input: 'hi' });
    const data = jsonFrames<ResponsesEvent>(res.text);
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_, i) => i));
    expect(data.map((d) => d.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const done = data.filter((d) => d.type === 'response.output_item.done').map((d) => d.item);
    expect(done[0]).toMatchObject({
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: 'plan' }],
    });
    expect(done[1]).toMatchObject({
      type: 'message',
      status: 'completed',
      content: [{ type: 'output_text', text: 'Spawning.' }],
    });
    expect(done[2]).toMatchObject({
      type: 'function_call',
      namespace: 'multi_agent_v1',
      name: 'spawn_agent',
      arguments: '{"task":"x"}',
      call_id: expect.any(String),
    });
    const completed = data.at(-1)?.response;
    expect(completed?.status).toBe('completed');
    expect(completed?.output).toHaveLength(3);
    expect(completed?.usage).toEqual({
      input_tokens: 11,
      input_tokens_details: { cached_tokens: 2 },
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 1 },
      total_tokens: 18,
    });
  });

  it('finishes with response.incomplete on length', async () => {
    mock.script(reply().text('cut').finish('length'));
    const res = await post('/responses', { model: 'm', stream: true, input: 'hi' });
    const last = jsonFrames<ResponsesEvent>(res.text).at(-1);
    expect(last?.type).toBe('response.incomplete');
    expect(last?.response?.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });

  it('answers stream:false with a Response object', async () => {
    mock.script(reply().text('json reply'));
    const res = await post('/responses', { model: 'm', input: 'hi' });
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ object: 'response', status: 'completed', model: 'm' });
    expect(body.output[0].content[0].text).toBe('json reply');
    const usage = body.usage as {
      input_tokens: number;
      output_tokens: number;
      total_tokens: number;
    };
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
  });
});

describe('routing', () => {
  it('lists models', async () => {
    const res = await request(`${mock.baseUrl}/models`);
    const body = (await res.body.json()) as { object: string; data: { id: string }[] };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual(
      expect.arrayContaining([
        'kimi-k2.6',
        'deepseek-v4-pro',
        'deepseek-v4-flash',
        'glm-5.2',
        'minimax-m3',
        'qwen3.7-plus',
      ]),
    );
    expect(body.data[0]).toMatchObject({
      object: 'model',
      owned_by: 'opencode',
      created: expect.any(Number),
    });
  });

  it('answers 404 for unknown routes and 400 for malformed JSON, recording both', async () => {
    const missing = await post('/nope', {});
    expect(missing.status).toBe(404);
    const malformed = await post('/chat/completions', '{"model":');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.text).type).toBe('error');
    expect(mock.requests.map((r) => [r.path, r.body])).toEqual([
      ['/v1/nope', {}],
      ['/v1/chat/completions', '{"model":'],
    ]);
  });

  it('falls back to the default reply when nothing is scripted', async () => {
    const res = await post('/chat/completions', chatBody({ stream: false }));
    expect(JSON.parse(res.text).choices[0].message.content).toBe('mock: no scripted reply');
  });
});

describe('failures', () => {
  it('answers 429 with Retry-After and the Zen error body', async () => {
    mock.script(reply().status(429, { retryAfter: 7 }));
    const res = await post('/chat/completions', chatBody());
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(JSON.parse(res.text)).toEqual({
      type: 'error',
      error: { type: 'RateLimitError', message: expect.any(String) },
    });
  });

  it('sends a custom error body', async () => {
    mock.script(reply().status(401, { body: { error: { message: 'nope' } } }));
    const res = await post('/messages', { model: 'minimax-m3', messages: [] });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toEqual({ error: { message: 'nope' } });
  });

  it('hang() records the request and never sends headers', async () => {
    mock.script(reply().hang());
    const controller = new AbortController();
    const pending = post('/chat/completions', chatBody(), {}, controller.signal);
    const [recorded] = await mock.waitForRequests(1);
    expect(recorded?.path).toBe('/v1/chat/completions');
    controller.abort();
    // Had headers arrived, request() would already have resolved instead of rejecting.
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('resetAfterChunks() sends n chunks and then destroys the socket', async () => {
    mock.script(reply().text('abcdef').chunkSize(2).resetAfterChunks(2));
    const res = await request(`${mock.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody()),
    });
    expect(res.statusCode).toBe(200);
    let received = '';
    const drain = async (): Promise<void> => {
      for await (const chunk of res.body) received += String(chunk);
    };
    await expect(drain()).rejects.toThrow();
    expect(
      deltasOf(received)
        .map((d) => d.content ?? '')
        .join(''),
    ).toBe('abcd');
  });

  it('hangAfterChunks() sends headers and n chunks, and close() ends the hanging socket', async () => {
    mock.script(reply().text('abcdef').chunkSize(3).hangAfterChunks(1));
    const res = await request(`${mock.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody()),
    });
    expect(res.statusCode).toBe(200);
    let received = '';
    let sawFirstChunk: () => void = () => undefined;
    const firstChunk = new Promise<void>((resolve) => (sawFirstChunk = resolve));
    const drain = (async () => {
      for await (const chunk of res.body) {
        received += String(chunk);
        if (received.includes('"content":"abc"')) sawFirstChunk();
      }
    })();
    drain.catch(() => undefined);
    await firstChunk;
    await mock.close();
    await expect(drain).rejects.toThrow();
    expect(received).not.toContain('def');
  });

  it('close() ends a hang() whose headers never came', async () => {
    mock.script(reply().hang());
    const pending = post('/responses', { model: 'm', stream: true, input: 'x' });
    pending.catch(() => undefined);
    await mock.waitForRequests(1);
    await mock.close();
    await expect(pending).rejects.toThrow();
  });
});

describe('script queue', () => {
  const userSays = (text: string) =>
    chatBody({ stream: false, messages: [{ role: 'user', content: text }] });
  const contentOf = (res: { text: string }): string =>
    (JSON.parse(res.text) as { choices: { message: { content: string } }[] }).choices[0]?.message
      .content ?? '';
  const modelOf = (req: RecordedRequest): unknown => (req.body as { model?: unknown }).model;

  it('.when() entries are consumed only by matching requests; others fall to the responder, then the default', async () => {
    const isModel = (model: string) => (req: RecordedRequest) => modelOf(req) === model;
    mock.script(reply().text('for glm').when(isModel('glm-5.2')), reply().text('for anyone'));
    expect(contentOf(await post('/chat/completions', userSays('a')))).toBe('for anyone');
    expect(
      contentOf(await post('/chat/completions', chatBody({ stream: false, model: 'glm-5.2' }))),
    ).toBe('for glm');
    mock.script(reply().text('only deepseek').when(isModel('deepseek-v4-pro')));
    expect(contentOf(await post('/chat/completions', userSays('b')))).toBe(
      'mock: no scripted reply',
    );
    mock.setResponder((req) => reply().text(`responder saw ${String(modelOf(req))}`));
    expect(contentOf(await post('/chat/completions', userSays('c')))).toBe(
      'responder saw kimi-k2.6',
    );
    expect(
      contentOf(
        await post('/chat/completions', chatBody({ stream: false, model: 'deepseek-v4-pro' })),
      ),
    ).toBe('only deepseek');
  });

  it('.times(n) repeats a reply n times', async () => {
    mock.script(reply().status(500).times(3));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1)
      statuses.push((await post('/chat/completions', userSays('x'))).status);
    expect(statuses).toEqual([500, 500, 500, 200]);
  });

  it('a scripted reply is consumed by any of the three endpoints', async () => {
    mock.script(reply().text('one'), reply().text('two'));
    const messages = JSON.parse(
      (await post('/messages', { model: 'minimax-m3', messages: [] })).text,
    );
    expect(messages.content[0].text).toBe('one');
    const responses = JSON.parse((await post('/responses', { model: 'm', input: 'x' })).text);
    expect(responses.output[0].content[0].text).toBe('two');
  });

  it('waitForRequests resolves on arrival and rejects with a clear message on timeout', async () => {
    const waiting = mock.waitForRequests(2);
    await post('/chat/completions', userSays('1'));
    await post('/chat/completions', userSays('2'));
    const seen = await waiting;
    expect(seen.map((r) => lastUserText(r))).toEqual(['1', '2']);
    await expect(mock.waitForRequests(3, 20)).rejects.toThrow(
      /expected 3 request\(s\) within 20 ms, got 2/,
    );
  });

  it('reset() clears the queue and the recorded requests', async () => {
    mock.script(reply().text('scripted'));
    await post('/nope', {});
    mock.reset();
    expect(mock.requests).toEqual([]);
    expect(contentOf(await post('/chat/completions', userSays('x')))).toBe(
      'mock: no scripted reply',
    );
  });
});

describe('demo responder and request accessors', () => {
  it('answers a user turn with reasoning and a quote of the message', async () => {
    mock.setResponder(demoResponder);
    const long =
      'Please explain how the bridge translates namespaced tools into chat completions function names.';
    const res = await post(
      '/chat/completions',
      chatBody({ messages: [{ role: 'user', content: long }] }),
    );
    const deltas = deltasOf(res.text);
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe(
      'Thinking about the request.',
    );
    expect(deltas.map((d) => d.content ?? '').join('')).toBe(
      `Demo model here. You said: "${long.slice(0, 80)}…"`,
    );
  });

  it('answers a tool-result turn without echoing', () => {
    const spec = demoResponder({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: {},
      body: { messages: [{ role: 'tool', tool_call_id: 'c1', content: 'x' }] },
      receivedAt: 0,
    })?.toSpec();
    expect(spec?.text).toBe('Demo model here. I received 1 tool result.');
  });

  it('reads chat, messages and responses histories the same way', () => {
    const at = (path: string, body: unknown): RecordedRequest => ({
      method: 'POST',
      path,
      headers: {},
      body,
      receivedAt: 0,
    });
    const chat = at('/v1/chat/completions', {
      tools: [{ type: 'function', function: { name: 'read_file' } }],
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: [{ type: 'text', text: 'find it' }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'read_file', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'file body' },
      ],
    });
    expect(lastUserText(chat)).toBe('find it');
    expect(toolNames(chat)).toEqual(['read_file']);
    expect(toolResults(chat)).toEqual([{ callId: 'c1', name: 'read_file', output: 'file body' }]);

    const messages = at('/v1/messages', {
      system: 'sys',
      tools: [{ name: 'grep', input_schema: {} }],
      messages: [
        { role: 'user', content: 'search' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 't1', name: 'grep', input: { q: 'x' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'hit' }] },
          ],
        },
      ],
    });
    expect(conversation(messages).map((t) => t.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
    ]);
    expect(toolNames(messages)).toEqual(['grep']);
    expect(toolResults(messages)).toEqual([{ callId: 't1', name: 'grep', output: 'hit' }]);

    const responses = at('/v1/responses', {
      tools: [
        { type: 'function', name: 'exec' },
        {
          type: 'namespace',
          name: 'multi_agent_v1',
          tools: [{ type: 'function', name: 'spawn_agent' }],
        },
      ],
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'run it' }] },
        { type: 'function_call', call_id: 'f1', name: 'exec', arguments: '{}' },
        { type: 'function_call_output', call_id: 'f1', output: 'ok' },
      ],
    });
    expect(lastUserText(responses)).toBe('run it');
    expect(toolNames(responses)).toEqual(['exec', 'spawn_agent']);
    expect(toolResults(responses)).toEqual([{ callId: 'f1', name: 'exec', output: 'ok' }]);
  });
});

describe('replaying a recorded stream', () => {
  it('sends the recording byte for byte, frames after [DONE] and event lines included', async () => {
    const recorded =
      'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n' +
      'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
      'data: [DONE]\n\n' +
      'data: {"choices":[],"cost":"0.001"}\n\n';
    mock.script(reply().replay(recorded));
    const chat = await post('/chat/completions', chatBody());
    expect(chat.status).toBe(200);
    expect(chat.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(chat.text).toBe(recorded);

    const messages = 'event: ping\ndata: {"type":"ping","cost":"0.002"}\n\n';
    mock.script(reply().replay(messages));
    expect((await post('/messages', { model: 'minimax-m3', stream: true })).text).toBe(messages);
  });

  it('can still cut a recording short', async () => {
    mock.script(reply().replay('data: {"a":1}\n\ndata: {"b":2}\n\n').resetAfterChunks(1));
    await expect(post('/chat/completions', chatBody())).rejects.toThrow();
  });

  it('refuses an empty recording', () => {
    expect(() => reply().replay('')).toThrow(RangeError);
  });
});

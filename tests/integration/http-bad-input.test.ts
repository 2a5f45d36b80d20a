/**
 * The daemon's HTTP surface under bad input, over real sockets (node:http, so Host and
 * Content-Type can be anything): every refusal is an OpenAI-shaped error with the catalogue's
 * status and code, nothing answers with CORS headers, the upstream key never leaks, and after
 * each bad request the daemon still serves a good one.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MOCK_MODELS, reply } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';

const UPSTREAM_KEY = 'sk-upstream-test-key';
const AUTH = { authorization: `Bearer ${BRIDGE_KEY}` };
const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };
const MOCK_ONLY_MODEL = 'mock-only-model-x';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly json: unknown;
}

interface ErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly code: string;
    readonly param: string | null;
  };
}

/** Every answer seen, so the suite can check properties that must hold for all of them. */
const answers: Answer[] = [];

function call(
  harness: BridgeHarness,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const { port } = new URL(harness.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: Number(port),
        method,
        path,
        // A browser would send Origin; the bridge must still never answer with CORS headers.
        headers: { origin: 'http://evil.example.com', ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = undefined;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const answer = { status: res.statusCode ?? 0, headers: res.headers, text, json };
          answers.push(answer);
          resolve(answer);
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

function post(
  harness: BridgeHarness,
  body: unknown,
  headers: Record<string, string> = JSON_HEADERS,
): Promise<Answer> {
  return call(harness, 'POST', '/v1/responses', {
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Asserts the OpenAI error shape with the given status and code; returns the error object. */
function expectError(answer: Answer, status: number, code: string): ErrorBody['error'] {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = answer.json as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(typeof body.error.type).toBe('string');
  return body.error;
}

let bridge: BridgeHarness;

beforeAll(async () => {
  bridge = await startBridge({ mock: { models: [...DEFAULT_MOCK_MODELS, MOCK_ONLY_MODEL] } });
});
afterAll(async () => {
  await bridge.close();
  // Properties of every answer the suite saw.
  expect(answers.length).toBeGreaterThan(30);
  for (const answer of answers) {
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(answer.headers['access-control-allow-methods']).toBeUndefined();
    expect(answer.headers['x-bridge-overhead-ms']).toMatch(/^\d+(\.\d+)?$/);
    expect(answer.text).not.toContain(UPSTREAM_KEY);
    expect(JSON.stringify(answer.headers)).not.toContain(UPSTREAM_KEY);
  }
});

beforeEach(() => bridge.mock.reset());

/** After every bad input the daemon must still be alive and answer a good request. */
afterEach(async () => {
  bridge.mock.script(reply().text('still serving'));
  const good = await post(bridge, { model: 'ocg-kimi-k2.6', input: 'hi', stream: false });
  expect(good.status, good.text).toBe(200);
  expect(
    (good.json as { output: { content: { text: string }[] }[] }).output[0]?.content[0]?.text,
  ).toBe('still serving');
});

describe('body problems', () => {
  it('malformed JSON → 400 invalid_json', async () => {
    const error = expectError(
      await post(bridge, '{"model": "ocg-kimi-k2.6", "input": '),
      400,
      'invalid_json',
    );
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBeNull();
  });

  it('wrong content type → 415 unsupported_media_type', async () => {
    const body = JSON.stringify({ model: 'ocg-kimi-k2.6', input: 'hi' });
    expectError(
      await post(bridge, body, { ...AUTH, 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    expectError(
      await post(bridge, 'model=x', {
        ...AUTH,
        'content-type': 'application/x-www-form-urlencoded',
      }),
      415,
      'unsupported_media_type',
    );
  });

  it('application/json with a charset parameter is accepted', async () => {
    bridge.mock.script(reply().text('charset ok'));
    const answer = await post(
      bridge,
      { model: 'ocg-kimi-k2.6', input: 'hi' },
      { ...AUTH, 'content-type': 'application/json; charset=utf-8' },
    );
    expect(answer.status, answer.text).toBe(200);
  });

  it('empty body → 400 invalid_json', async () => {
    expectError(await post(bridge, ''), 400, 'invalid_json');
    expectError(await post(bridge, '   '), 400, 'invalid_json');
  });

  it('a JSON value that is not a request object → 400 invalid_request', async () => {
    expectError(await post(bridge, '[]'), 400, 'invalid_request');
    const missingModel = expectError(await post(bridge, { input: 'hi' }), 400, 'invalid_request');
    expect(missingModel.param).toBe('model');
  });

  it('invalid items name the exact field', async () => {
    const noCallId = expectError(
      await post(bridge, {
        model: 'ocg-kimi-k2.6',
        input: [
          { role: 'user', content: 'hi' },
          { type: 'function_call', name: 'read_file', arguments: '{}' },
        ],
      }),
      400,
      'invalid_request',
    );
    expect(noCallId.param).toBe('input[1].call_id');
    expect(noCallId.message).toContain('input[1].call_id');

    const unknownType = expectError(
      await post(bridge, {
        model: 'ocg-kimi-k2.6',
        input: [{ role: 'user', content: 'hi' }, { type: 'bogus_item_kind' }],
      }),
      400,
      'invalid_request',
    );
    expect(unknownType.message).toContain('bogus_item_kind');
    expect(unknownType.param).toBe('input[1]');
  });

  it('malformed tools name the exact field instead of passing as hosted tools', async () => {
    const cases: [unknown, string][] = [
      [{ type: 'function' }, 'tools[0].name'],
      [{ type: 'custom' }, 'tools[0].name'],
      [{ type: 'function', name: 'x', parameters: 'not a schema' }, 'tools[0].parameters'],
      [{ type: 'namespace', name: 'multi_agent_v1' }, 'tools[0].tools'],
      [
        { type: 'namespace', name: 'multi_agent_v1', tools: [{ type: 'function' }] },
        'tools[0].tools[0].name',
      ],
      [{ name: 'no_type' }, 'tools[0].type'],
    ];
    for (const [tool, param] of cases) {
      const error = expectError(
        await post(bridge, { model: 'ocg-kimi-k2.6', input: 'hi', tools: [tool] }),
        400,
        'invalid_request',
      );
      expect(error.param, JSON.stringify(tool)).toBe(param);
    }
    expect(bridge.mock.requests.filter((recorded) => recorded.method === 'POST')).toHaveLength(0);
  });

  it('bad input is refused as JSON even when the client asked for a stream', async () => {
    const answer = await post(bridge, {
      model: 'ocg-kimi-k2.6',
      stream: true,
      input: [{ type: 'function_call_output', output: 'x' }],
    });
    expect(answer.headers['content-type']).not.toMatch(/event-stream/);
    expect(expectError(answer, 400, 'invalid_request').param).toBe('input[0].call_id');
  });

  it('an unknown previous_response_id → 400 previous_response_not_found naming the id', async () => {
    const error = expectError(
      await post(bridge, { model: 'ocg-kimi-k2.6', input: 'hi', previous_response_id: 'resp_123' }),
      400,
      'previous_response_not_found',
    );
    expect(error.param).toBe('previous_response_id');
    expect(error.message).toContain('resp_123');
    expect(bridge.mock.requests.filter((recorded) => recorded.method === 'POST')).toHaveLength(0);
  });
});

describe('body limit', () => {
  let small: BridgeHarness;
  beforeAll(async () => {
    small = await startBridge({ env: { BODY_LIMIT_BYTES: '2048' } });
  });
  afterAll(async () => small.close());

  it('a body over BODY_LIMIT_BYTES → 413 request_too_large, and the small bridge lives on', async () => {
    const big = JSON.stringify({ model: 'ocg-kimi-k2.6', input: 'x'.repeat(4096) });
    // Sent chunked (no Content-Length), then with an honest Content-Length.
    const error = expectError(await post(small, big), 413, 'request_too_large');
    expect(error.message).toContain('BODY_LIMIT_BYTES');
    expectError(
      await post(small, big, { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(big)) }),
      413,
      'request_too_large',
    );
    expect(small.mock.requests.filter((recorded) => recorded.method === 'POST')).toHaveLength(0);
    small.mock.script(reply().text('small is fine'));
    const ok = await post(small, { model: 'ocg-kimi-k2.6', input: 'hi' });
    expect(ok.status, ok.text).toBe(200);
  });
});

describe('models', () => {
  it('an unknown model → 404 model_not_found listing alternatives', async () => {
    const error = expectError(
      await post(bridge, { model: 'ocg-no-such-model-9', input: 'hi' }),
      404,
      'model_not_found',
    );
    expect(error.param).toBe('model');
    expect(error.message).toContain('no-such-model-9');
    expect(error.message).toContain('mission-a3-kimi');
    expect(error.message).toContain('ocg-kimi-k2.6');
    expect(bridge.mock.requests.some((recorded) => recorded.method === 'POST')).toBe(false);
    // A client that asked for a stream still gets the JSON error, not an SSE body.
    const streamed = await post(bridge, { model: 'no-such-model-9', input: 'hi', stream: true });
    expect(streamed.headers['content-type']).not.toMatch(/event-stream/);
    expectError(streamed, 404, 'model_not_found');
  });

  it('a model only the upstream lists is accepted', async () => {
    bridge.mock.script(reply().text('from the upstream-only model'));
    const answer = await post(bridge, { model: MOCK_ONLY_MODEL, input: 'hi' });
    expect(answer.status, answer.text).toBe(200);
    const upstream = bridge.mock.requests.filter((recorded) => recorded.method === 'POST').at(-1);
    expect((upstream?.body as { model?: string }).model).toBe(MOCK_ONLY_MODEL);
  });

  it('gpt-5.5 with the default strategy → 400 unsupported_bridge_model with guidance', async () => {
    const error = expectError(
      await post(bridge, { model: 'gpt-5.5', input: 'hi' }),
      400,
      'unsupported_bridge_model',
    );
    expect(error.message).toContain('GPT_MODEL_STRATEGY');
    expect(error.message).toMatch(/openai/i);
    expect(bridge.mock.requests.filter((recorded) => recorded.method === 'POST')).toHaveLength(0);
  });

  it('GET /v1/models lists managed aliases, raw aliases and the upstream models', async () => {
    const answer = await call(bridge, 'GET', '/v1/models', { headers: AUTH });
    expect(answer.status).toBe(200);
    const body = answer.json as {
      object: string;
      data: { id: string; object: string; lane: string }[];
      upstream_reachable: boolean;
    };
    expect(body.object).toBe('list');
    expect(body.upstream_reachable).toBe(true);
    const ids = body.data.map((model) => model.id);
    expect(ids).toContain('mission-a3-kimi');
    expect(ids).toContain('ocg-kimi-k2.6');
    for (const id of DEFAULT_MOCK_MODELS) expect(ids).toContain(id);
    expect(body.data.find((model) => model.id === MOCK_ONLY_MODEL)).toMatchObject({
      object: 'model',
      lane: 'upstream',
    });
    expect(body.data.find((model) => model.id === 'mission-a3-kimi')?.lane).toBe('managed');
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('auth, host and routes', () => {
  const routes: [string, string][] = [
    ['POST', '/v1/responses'],
    ['POST', '/responses'],
    ['GET', '/v1/models'],
    ['GET', '/models'],
    ['GET', '/health'],
    ['GET', '/v1/health'],
    ['GET', '/v1/missions'],
    ['GET', '/v1/missions/run_x'],
    ['GET', '/v1/missions/run_x/events'],
    ['GET', '/no/such/route'],
  ];

  it('missing auth → 401 invalid_api_key on every route, /health included', async () => {
    for (const [method, path] of routes) {
      const answer = await call(bridge, method, path, {
        headers: { 'content-type': 'application/json' },
        ...(method === 'POST'
          ? { body: JSON.stringify({ model: 'ocg-kimi-k2.6', input: 'hi' }) }
          : {}),
      });
      const error = expectError(answer, 401, 'invalid_api_key');
      expect(error.type).toBe('authentication_error');
    }
    expect(bridge.mock.requests.filter((recorded) => recorded.method === 'POST')).toHaveLength(0);
  });

  it('a wrong key → 401 invalid_api_key (the upstream key is not a bridge key either)', async () => {
    for (const key of ['sk-wrong', UPSTREAM_KEY, BRIDGE_KEY.slice(0, -1)]) {
      expectError(
        await call(bridge, 'GET', '/health', { headers: { authorization: `Bearer ${key}` } }),
        401,
        'invalid_api_key',
      );
    }
    expectError(
      await call(bridge, 'GET', '/health', { headers: { authorization: BRIDGE_KEY } }),
      401,
      'invalid_api_key',
    );
    expectError(
      await post(
        bridge,
        { model: 'ocg-kimi-k2.6', input: 'hi' },
        { authorization: 'Bearer nope', 'content-type': 'application/json' },
      ),
      401,
      'invalid_api_key',
    );
  });

  it('a foreign Host header → 403 forbidden_host, with or without a key', async () => {
    const { port } = new URL(bridge.url);
    for (const host of [
      'evil.example.com',
      `evil.example.com:${port}`,
      `127.0.0.1.evil.example.com:${port}`,
    ]) {
      const error = expectError(
        await call(bridge, 'GET', '/health', { headers: { ...AUTH, host } }),
        403,
        'forbidden_host',
      );
      expect(error.type).toBe('permission_error');
    }
    expectError(
      await call(bridge, 'GET', '/health', { headers: { host: 'evil.example.com' } }),
      403,
      'forbidden_host',
    );
    expectError(
      await post(
        bridge,
        { model: 'ocg-kimi-k2.6', input: 'hi' },
        { ...JSON_HEADERS, host: 'evil.example.com' },
      ),
      403,
      'forbidden_host',
    );
    expect(bridge.mock.requests.filter((recorded) => recorded.method === 'POST')).toHaveLength(0);
  });

  it('a request without any Host header → 403 forbidden_host', async () => {
    const { port } = new URL(bridge.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.end(`GET /health HTTP/1.0\r\nAuthorization: Bearer ${BRIDGE_KEY}\r\n\r\n`);
      });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 403 /);
    expect(raw).toContain('"code":"forbidden_host"');
    expect(raw.toLowerCase()).not.toContain('access-control-allow-origin');
  });

  it('loopback Host headers are accepted', async () => {
    const { port } = new URL(bridge.url);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      const answer = await call(bridge, 'GET', '/health', { headers: { ...AUTH, host } });
      expect(answer.status, `${host}: ${answer.text}`).toBe(200);
    }
  });

  it('an unknown route → 404 route_not_found naming the real routes', async () => {
    const error = expectError(
      await call(bridge, 'GET', '/v1/nothing-here', { headers: AUTH }),
      404,
      'route_not_found',
    );
    expect(error.message).toContain('/v1/responses');
    expectError(
      await call(bridge, 'GET', '/v1/responses', { headers: AUTH }),
      404,
      'route_not_found',
    );
    expectError(
      await call(bridge, 'DELETE', '/v1/models', { headers: AUTH }),
      404,
      'route_not_found',
    );
  });

  it('no CORS: an OPTIONS preflight gets no access-control-allow-origin', async () => {
    for (const headers of [
      {
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
      { ...AUTH, 'access-control-request-method': 'POST' },
    ]) {
      const answer = await call(bridge, 'OPTIONS', '/v1/responses', { headers });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(answer.headers['access-control-allow-headers']).toBeUndefined();
    }
  });
});

describe('GET /health', () => {
  it('reports identity and never the upstream key', async () => {
    const answer = await call(bridge, 'GET', '/health', { headers: AUTH });
    expect(answer.status).toBe(200);
    const body = answer.json as Record<string, unknown>;
    expect(body).toMatchObject({
      ok: true,
      pid: process.pid,
      project_root: bridge.project,
      upstream_key_present: true,
    });
    expect(typeof body['version']).toBe('string');
    expect(body['version']).not.toBe('');
    expect(typeof body['source_hash']).toBe('string');
    expect(body['source_hash']).not.toBe('');
    expect(body['concurrency']).toMatchObject({ global: { inUse: 0 } });
    expect(answer.text).not.toContain(UPSTREAM_KEY);
    const alias = await call(bridge, 'GET', '/v1/health', { headers: AUTH });
    expect((alias.json as Record<string, unknown>)['pid']).toBe(process.pid);
  });
});

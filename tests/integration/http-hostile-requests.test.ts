import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';

/**
 * Issue 9, Low #6, #7, #8 and #10, over raw sockets (so the request line and headers can be
 * anything): prototype keys are 400s, the Host check accepts exactly the loopback names, slow
 * requests are cut, and the bridge's and Node's own refusals are OpenAI-shaped.
 */

let bridge: BridgeHarness;
let port: number;

beforeAll(async () => {
  bridge = await startBridge({
    env: { BODY_LIMIT_BYTES: String(1024 * 1024), HTTP_REQUEST_TIMEOUT_SECONDS: '2' },
  });
  port = Number(new URL(bridge.url).port);
});
afterAll(async () => bridge.close());

interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
  /** Milliseconds until the server closed or answered. */
  readonly closed: boolean;
}

/**
 * Sends `text` as is and reads the first response (or, with `untilClose`, everything until the
 * server closes) within `waitMs`.
 */
function raw(text: string | Buffer, waitMs = 5000, untilClose = false): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const [head = '', ...rest] = received.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: rest.join('\r\n\r\n'), closed });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      // One complete response is enough.
      const [head, ...rest] = received.split('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(head ?? '')?.[1] ?? NaN);
      if (
        !untilClose &&
        !Number.isNaN(length) &&
        Buffer.byteLength(rest.join('\r\n\r\n')) >= length
      )
        finish();
    });
    socket.on('error', (error) => (received === '' ? reject(error) : finish()));
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(text);
  });
}

function get(path: string, host: string, extra = ''): Promise<RawAnswer> {
  return raw(
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${BRIDGE_KEY}\r\n${extra}Connection: close\r\n\r\n`,
  );
}

function errorOf(answer: RawAnswer): { code: string; type: string; message: string } {
  return (JSON.parse(answer.body) as { error: { code: string; type: string; message: string } })
    .error;
}

function postJson(body: string): Promise<RawAnswer> {
  return raw(
    `POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${BRIDGE_KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

describe('prototype keys are 400s, not 500s (issue 9 Low #6)', () => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    it(`model "${name}"`, async () => {
      const answer = await postJson(JSON.stringify({ model: name, input: 'hi', stream: false }));
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(errorOf(answer).type).toBe('invalid_request_error');
    });
    it(`input item type "${name}"`, async () => {
      const answer = await postJson(
        JSON.stringify({ model: 'glm-5.2', input: [{ type: name, content: 'x' }], stream: false }),
      );
      expect(answer.status).toBe(400);
      expect(errorOf(answer).code).toBe('invalid_request');
    });
  }
});

describe('the Host check accepts exactly the loopback names (issue 9 Low #7)', () => {
  for (const host of [
    '[::1].evil.com',
    '[::1]evil.com',
    '[127.0.0.1]',
    'localhost:evil.com',
    'evil.com',
    '127.0.0.1.evil.com',
    'localhost.evil.com:80',
  ]) {
    it(`refuses Host: ${host}`, async () => {
      const answer = await get('/v1/models', host);
      expect(answer.status).toBe(403);
      expect(errorOf(answer).code).toBe('forbidden_host');
    });
  }
  for (const host of [
    'localhost',
    'localhost:1234',
    '127.0.0.1',
    '127.0.0.1:4000',
    '[::1]',
    '[::1]:80',
    'LOCALHOST',
  ]) {
    it(`accepts Host: ${host}`, async () => {
      const answer = await get('/v1/models', host);
      expect(answer.status).toBe(200);
    });
  }
  it('refuses two Host headers, whichever comes first', async () => {
    const answer = await get('/v1/models', '127.0.0.1', 'Host: evil.com\r\n');
    expect(answer.status).toBe(400);
  });
  it('refuses an absolute-URI request line whose authority is foreign', async () => {
    const answer = await get('http://evil.com/v1/models', '127.0.0.1');
    expect(answer.status).toBe(403);
    expect(errorOf(answer).code).toBe('forbidden_host');
  });
  it('accepts an absolute-URI request line naming the same loopback authority', async () => {
    const answer = await get(`http://127.0.0.1:${port}/v1/models`, `127.0.0.1:${port}`);
    expect(answer.status).toBe(200);
  });
});

describe('slow requests are cut, connections are capped (issue 9 Low #8)', () => {
  it('a body that never finishes is answered 408 and closed', async () => {
    const answer = await raw(
      `POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${BRIDGE_KEY}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`,
      15_000,
      true,
    );
    expect(answer.closed).toBe(true);
    expect(answer.status).toBe(408);
    expect(errorOf(answer).code).toBe('request_timeout');
  });
  it('an unauthenticated body that never finishes is not held open either', async () => {
    const answer = await raw(
      `POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`,
      15_000,
      true,
    );
    expect(answer.status).toBe(401);
    expect(answer.closed).toBe(true);
  });
  it('headers that never finish are cut', async () => {
    const answer = await raw(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `, 15_000, true);
    expect(answer.closed).toBe(true);
    expect(answer.status).toBe(408);
  });
  it('connections over HTTP_MAX_CONNECTIONS are refused at accept', async () => {
    const capped = await startBridge({ env: { HTTP_MAX_CONNECTIONS: '2' } });
    const cappedPort = Number(new URL(capped.url).port);
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(cappedPort, '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      });
    const held = [await open(), await open()];
    try {
      // Give the server a moment to count both before the third arrives.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const third = await open();
      const closed = await new Promise<boolean>((resolve) => {
        third.on('close', () => resolve(true));
        third.on('error', () => undefined);
        setTimeout(() => resolve(false), 5000);
      });
      expect(closed).toBe(true);
    } finally {
      for (const socket of held) socket.destroy();
      await capped.close();
    }
  });
});

describe("the bridge's and Node's own refusals are OpenAI-shaped (issue 9 Low #10)", () => {
  it('a malformed request line is a JSON 400', async () => {
    const answer = await raw('THIS IS NOT HTTP\r\n\r\n');
    expect(answer.status).toBe(400);
    expect(errorOf(answer).type).toBe('invalid_request_error');
  });
  it('a URL too long for the router is a JSON 414', async () => {
    const answer = await get(`/v1/missions/${'x'.repeat(5000)}`, '127.0.0.1');
    expect(answer.status).toBe(414);
    expect(errorOf(answer).type).toBe('invalid_request_error');
  });
  it('a body over the limit reaches an HTTP client as 413, not a broken pipe', async () => {
    const body = Buffer.alloc(40 * 1024 * 1024, 0x61);
    // A real HTTP client: it fails the request on EPIPE/ECONNRESET unless the server lets it
    // finish writing before it closes.
    for (let round = 0; round < 3; round++) {
      const status = await new Promise<number | string>((resolve) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/v1/responses',
            headers: {
              authorization: `Bearer ${BRIDGE_KEY}`,
              'content-type': 'application/json',
              'content-length': body.length,
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        req.end(body);
      });
      expect(status).toBe(413);
    }
  }, 60_000);
});

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { openUpstreamBody } from './open-upstream-body.js';

const servers: Server[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close();
  for (const server of servers.splice(0))
    await new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    });
});

async function serve(handle: (response: ServerResponse, body: string) => void): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => handle(response, body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions?x=1`;
}

function open(url: string, signal = new AbortController().signal) {
  const dispatcher = new Agent();
  agents.push(dispatcher);
  return openUpstreamBody({
    url,
    headers: { 'content-type': 'application/json', 'x-test': 'yes' },
    body: '{"hello":1}',
    dispatcher,
    signal,
  });
}

async function readAll(next: () => Promise<Uint8Array | undefined>): Promise<string> {
  let text = '';
  for (let chunk = await next(); chunk !== undefined; chunk = await next())
    text += Buffer.from(chunk).toString();
  return text;
}

describe('openUpstreamBody', () => {
  it('posts the body with its headers and path, and reads the answer to its end', async () => {
    let seen = '';
    const url = await serve((response, body) => {
      seen = body;
      response.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
      response.write('{"error":');
      response.end('"slow down"}');
    });
    const answer = await open(url);
    expect(seen).toBe('{"hello":1}');
    expect(answer.statusCode).toBe(429);
    expect(answer.headers['retry-after']).toBe('7');
    expect(await readAll(() => answer.next())).toBe('{"error":"slow down"}');
    // After the end it keeps saying so.
    expect(await answer.next()).toBeUndefined();
  });

  it('skips an interim 1xx (103 Early Hints from a proxy) and answers with the real status', async () => {
    const url = await serve((response) => {
      response.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      response.writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' });
      response.end('{"error":"busy"}');
    });
    const answer = await open(url);
    expect(answer.statusCode).toBe(429);
    expect(answer.headers['retry-after']).toBe('3');
    expect(await readAll(() => answer.next())).toBe('{"error":"busy"}');
  });

  it('holds a large body until it is read (pausing the upstream), losing nothing', async () => {
    const piece = 'x'.repeat(64 * 1024);
    const url = await serve((response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let index = 0; index < 64; index += 1) response.write(piece);
      response.end('end');
    });
    const answer = await open(url);
    // Nothing read for a while: the 4 MiB answer must wait in the socket, not in our queue.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const text = await readAll(() => answer.next());
    expect(text.length).toBe(64 * piece.length + 3);
    expect(text.endsWith('end')).toBe(true);
  });

  it('a connection reset mid-body rejects the next read with the network error', async () => {
    const url = await serve((response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {}\n\n');
      setTimeout(() => response.socket?.destroy(), 50);
    });
    const answer = await open(url);
    expect(Buffer.from((await answer.next())!).toString()).toBe('data: {}\n\n');
    await expect(answer.next()).rejects.toMatchObject({ name: expect.any(String) });
  });

  it('an abort before the headers rejects with the reason; one mid-body rejects the read', async () => {
    const url = await serve((response) => {
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: {}\n\n');
      }, 300);
    });
    const early = new AbortController();
    const pending = open(url, early.signal);
    early.abort(new Error('deadline'));
    await expect(pending).rejects.toThrow('deadline');

    const late = new AbortController();
    const answer = await open(url, late.signal);
    await answer.next();
    const read = answer.next();
    late.abort(new Error('client went away'));
    await expect(read).rejects.toThrow('client went away');
  });

  it('an abort while the request still waits for a connection rejects at once', async () => {
    const url = await serve((response) => {
      // Holds its one connection open: the second request queues behind it.
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {}\n\n');
    });
    const dispatcher = new Agent({ connections: 1 });
    agents.push(dispatcher);
    const call = (signal: AbortSignal) =>
      openUpstreamBody({ url, headers: {}, body: '{}', dispatcher, signal });
    const first = await call(new AbortController().signal);
    const queued = new AbortController();
    const second = call(queued.signal);
    queued.abort(new Error('deadline while queued'));
    await expect(second).rejects.toThrow('deadline while queued');
    first.destroy();
  });

  it('destroy() drops an unread body and closes its connection', async () => {
    let closed = false;
    const url = await serve((response) => {
      response.on('close', () => (closed = true));
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {}\n\n');
    });
    const answer = await open(url);
    answer.destroy();
    for (let waited = 0; !closed && waited < 5000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(true);
    await expect(answer.next()).rejects.toThrow('dropped unread');
  });
});

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

import { chatRenderer } from './mock-dialect-chat.js';
import { messagesRenderer } from './mock-dialect-messages.js';
import { responsesRenderer } from './mock-dialect-responses.js';
import { reply, type ReplyBuilder, type ReplySpec } from './mock-reply.js';
import type { DialectRenderer, Frame, RenderContext } from './mock-render.js';
import type {
  Dialect,
  MockUpstream,
  MockUpstreamOptions,
  RecordedRequest,
  Responder,
} from './mock-types.js';

export { reply, ReplyBuilder } from './mock-reply.js';
export type {
  MockUpstream,
  MockUpstreamOptions,
  RecordedRequest,
  Responder,
} from './mock-types.js';

export const DEFAULT_MOCK_MODELS: readonly string[] = [
  'kimi-k2.6',
  'kimi-k3',
  'deepseek-v4-pro',
  'deepseek-v4-flash',
  'glm-5.2',
  'glm-5.3',
  'minimax-m3',
  'qwen3.7-plus',
];

const DEFAULT_WAIT_MS = 5_000;
const NO_SCRIPT_TEXT = 'mock: no scripted reply';

const DIALECT_PATHS: Readonly<Record<string, Dialect>> = {
  '/v1/chat/completions': 'chat',
  '/v1/messages': 'messages',
  '/v1/responses': 'responses',
};

const RENDERERS: Readonly<Record<Dialect, DialectRenderer>> = {
  chat: chatRenderer,
  messages: messagesRenderer,
  responses: responsesRenderer,
};

/** OpenCode Zen's error class names, so default failures look like what Go really sends. */
function zenErrorType(code: number): string {
  if (code === 401) return 'AuthError';
  if (code === 403) return 'RegionError';
  if (code === 404) return 'NotFoundError';
  if (code === 429) return 'RateLimitError';
  if (code >= 500) return 'InternalError';
  return 'InvalidRequestError';
}

function zenErrorMessage(code: number): string {
  if (code === 429) return 'Rate limit exceeded. Please try again later.';
  if (code >= 500) return 'Internal server error';
  return `mock upstream error ${code}`;
}

export function zenErrorBody(code: number, message = zenErrorMessage(code)): unknown {
  return { type: 'error', error: { type: zenErrorType(code), message } };
}

interface QueueEntry {
  readonly spec: ReplySpec;
  remaining: number;
}

interface Waiter {
  readonly count: number;
  readonly resolve: (requests: RecordedRequest[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Resolves once the bytes reached the socket, or at once if the client is gone. */
function writeFrame(res: ServerResponse, text: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    res.write(text, done);
  });
}

class MockUpstreamServer implements MockUpstream {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: QueueEntry[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<Waiter>();
  private readonly models: readonly string[];
  private responder: Responder | undefined;
  private serial = 0;
  private closed = false;

  constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    options: MockUpstreamOptions,
  ) {
    this.models = options.models ?? DEFAULT_MOCK_MODELS;
    this.responder = options.responder;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent)
          sendJson(res, 500, zenErrorBody(500, `mock upstream failed: ${String(error)}`));
        else res.destroy();
      });
    });
  }

  script(...replies: ReplyBuilder[]): void {
    for (const builder of replies) {
      const spec = builder.toSpec();
      this.queue.push({ spec, remaining: spec.times });
    }
  }

  setResponder(responder: Responder | undefined): void {
    this.responder = responder;
  }

  reset(): void {
    this.queue.splice(0);
    this.requests.splice(0);
  }

  waitForRequests(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedRequest[]> {
    if (this.requests.length >= count) return Promise.resolve([...this.requests]);
    if (this.closed)
      return Promise.reject(new Error('waitForRequests: the mock upstream is closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const seen = this.requests.map((r) => `${r.method} ${r.path}`).join(', ') || 'none';
          reject(
            new Error(
              `waitForRequests: expected ${count} request(s) within ${timeoutMs} ms, got ${this.requests.length} (${seen})`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('waitForRequests: the mock upstream was closed'));
    }
    this.waiters.clear();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // server.close() alone waits for open connections, and a hanging reply never ends its own.
    for (const socket of this.sockets) socket.destroy();
    await stopped;
  }

  private record(request: RecordedRequest): void {
    this.requests.push(request);
    for (const waiter of this.waiters) {
      if (this.requests.length >= waiter.count) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve([...this.requests]);
      }
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let body: unknown = undefined;
    let malformed = false;
    if (raw !== '') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        body = raw;
        malformed = true;
      }
    }
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: { ...req.headers },
      body,
      receivedAt: Date.now(),
    };
    this.record(recorded);

    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: this.models.map((id) => ({
          id,
          object: 'model',
          created: 1_767_225_600,
          owned_by: 'opencode',
        })),
      });
      return;
    }
    const dialect = req.method === 'POST' ? DIALECT_PATHS[path] : undefined;
    if (dialect === undefined) {
      sendJson(
        res,
        404,
        zenErrorBody(404, `mock upstream: no route for ${recorded.method} ${path}`),
      );
      return;
    }
    if (malformed || typeof body !== 'object' || body === null || Array.isArray(body)) {
      sendJson(res, 400, zenErrorBody(400, 'mock upstream: request body is not a JSON object'));
      return;
    }

    let spec: ReplySpec;
    try {
      spec = this.pickReply(recorded);
    } catch (error) {
      sendJson(
        res,
        500,
        zenErrorBody(500, `mock upstream: scripted predicate or responder threw: ${String(error)}`),
      );
      return;
    }
    await this.answer(res, dialect, spec, body as Record<string, unknown>);
  }

  private pickReply(request: RecordedRequest): ReplySpec {
    const index = this.queue.findIndex(
      (entry) => entry.spec.when === undefined || entry.spec.when(request),
    );
    const entry = index === -1 ? undefined : this.queue[index];
    if (entry !== undefined) {
      entry.remaining -= 1;
      if (entry.remaining === 0) this.queue.splice(index, 1);
      return entry.spec;
    }
    return (this.responder?.(request) ?? reply().text(NO_SCRIPT_TEXT)).toSpec();
  }

  private async answer(
    res: ServerResponse,
    dialect: Dialect,
    spec: ReplySpec,
    body: Record<string, unknown>,
  ): Promise<void> {
    if (spec.firstByteDelayMs > 0) await delay(spec.firstByteDelayMs);
    const failure = spec.failure;
    if (failure?.kind === 'status') {
      const headers: Record<string, string> = {};
      if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
      sendJson(res, failure.code, failure.body ?? zenErrorBody(failure.code), headers);
      return;
    }
    // Accept the request and never answer; close() destroys the socket.
    if (failure?.kind === 'hang') return;

    if (spec.recordedFrames !== undefined) {
      await this.stream(
        res,
        spec.recordedFrames.map((text) => ({ kind: 'content', text })),
        spec,
      );
      return;
    }

    this.serial += 1;
    const ctx: RenderContext = {
      serial: this.serial,
      model: typeof body['model'] === 'string' ? body['model'] : 'mock-model',
      body,
      created: Math.floor(Date.now() / 1000),
    };
    const renderer = RENDERERS[dialect];
    if (body['stream'] === true && !spec.jsonBody) {
      await this.stream(res, renderer.stream(spec, ctx), spec);
    } else {
      this.answerJson(res, renderer.json(spec, ctx), spec);
    }
  }

  /** A JSON body has no chunks, so chunk-based failures act on the body as a whole. */
  private answerJson(res: ServerResponse, payload: unknown, spec: ReplySpec): void {
    const failure = spec.failure;
    if (failure?.kind === 'hang-after' || failure?.kind === 'reset-after') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      if (failure.kind === 'reset-after') res.destroy();
      return;
    }
    if (spec.malformedAfter !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{not json');
      return;
    }
    sendJson(res, 200, payload);
  }

  private async stream(res: ServerResponse, frames: Frame[], spec: ReplySpec): Promise<void> {
    const controller = new AbortController();
    const { signal } = controller;
    res.on('close', () => controller.abort());
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.flushHeaders();

    const failure = spec.failure;
    const cutAfter =
      failure?.kind === 'hang-after' || failure?.kind === 'reset-after'
        ? failure.chunks
        : undefined;
    let malformedPending = spec.malformedAfter !== undefined;
    let contentSent = 0;
    let first = true;

    // Returns true when the stream must stop here (hang or reset reached).
    const checkpoint = async (): Promise<boolean> => {
      if (malformedPending && contentSent >= (spec.malformedAfter ?? 0)) {
        malformedPending = false;
        await writeFrame(res, 'data: {not json\n\n', signal);
      }
      if (cutAfter !== undefined && contentSent >= cutAfter) {
        if (failure?.kind === 'reset-after') res.destroy();
        return true;
      }
      return false;
    };

    for (const frame of frames) {
      if (signal.aborted) return;
      if (frame.kind !== 'open' && (await checkpoint())) return;
      if (!first && spec.paceMs > 0) {
        try {
          await delay(spec.paceMs, undefined, { signal });
        } catch {
          return;
        }
      }
      first = false;
      await writeFrame(res, frame.text, signal);
      if (frame.kind === 'content') contentSent += 1;
    }
    if (signal.aborted) return;
    // Counts larger than the reply still take effect, at the very end of the stream.
    contentSent = Number.POSITIVE_INFINITY;
    if (await checkpoint()) return;
    res.end();
  }
}

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const server = createServer();
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return new MockUpstreamServer(
    server,
    `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    options,
  );
}

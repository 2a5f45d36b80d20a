import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { BridgeError, toOpenAIErrorBody } from '../errors/index.js';
import type { AppDeps } from './app-deps.js';
import { sendError, toCatalogueError } from './error-handler.js';
import { assertAuthorized, assertLoopbackHost } from './request-guards.js';
import { jsonNestingDepth, maxJsonNestingDepth } from './json-depth.js';
import { elapsedMs, startClock, timing } from './request-timing.js';
import { registerHealthRoutes } from './routes/health-route.js';
import { registerMissionRoutes } from './routes/missions-route.js';
import { registerModelsRoutes } from './routes/models-route.js';
import { registerResponsesRoutes } from './routes/responses-route.js';
import { OVERHEAD_HEADER } from './sse-writer.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received, for the GPT passthrough. */
    rawBody?: string;
  }
}

export interface BuiltApp {
  readonly app: FastifyInstance;
  /** Refuse new requests (503) while in-flight ones finish. */
  readonly startDraining: () => void;
}

/** Builds the Fastify app without listening, so tests can drive it with inject() or listen on port 0. */
export function buildApp(deps: AppDeps): BuiltApp {
  const bodyLimit = deps.config.BODY_LIMIT_BYTES;
  // pino's Logger is a FastifyBaseLogger; naming the instance type keeps route helpers on the default.
  const logger: FastifyBaseLogger = deps.logger;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger,
    // One line per finished request is logged by our onResponse hook instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    genReqId: () => `req_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
    requestIdHeader: false,
    // Receiving a request is bounded (headers, then the whole body: a slow or stalled client is
    // answered 408 and closed, authenticated or not); sending is not, since a long SSE stream or
    // a silent non-streaming mission is legitimate. Node checks these every second here rather
    // than every 30 s (issue 9, Low #8).
    requestTimeout: deps.config.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    http: {
      headersTimeout:
        Math.min(
          deps.config.HTTP_HEADERS_TIMEOUT_SECONDS,
          deps.config.HTTP_REQUEST_TIMEOUT_SECONDS || Number.POSITIVE_INFINITY,
        ) * 1000,
      requestTimeout: deps.config.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
      connectionsCheckingInterval: 1000,
    },
    clientErrorHandler: answerClientError,
    // Fastify's own refusals (a URL segment too long, a malformed URL) in the catalogue's shape.
    frameworkErrors: (error, request, reply) => {
      sendError(reply, request, toCatalogueError(error, bodyLimit));
    },
  });
  app.server.maxConnections = deps.config.HTTP_MAX_CONNECTIONS;
  let draining = false;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit },
    (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      request.rawBody = text;
      if (text.trim() === '') {
        done(
          new BridgeError('invalid_json', 'The request body is empty; send a JSON object.'),
          undefined,
        );
        return;
      }
      if (jsonNestingDepth(text, maxJsonNestingDepth) > maxJsonNestingDepth) {
        done(
          new BridgeError(
            'invalid_request',
            `The request body nests arrays or objects more than ${maxJsonNestingDepth} levels deep; flatten it (tool parameter schemas included).`,
          ),
          undefined,
        );
        return;
      }
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        done(
          new BridgeError(
            'invalid_json',
            `The request body is not valid JSON: ${(error as Error).message}.`,
          ),
          undefined,
        );
      }
    },
  );

  app.addHook('onRequest', async (request, reply) => {
    startClock(request);
    reply.header('x-request-id', request.id);
    assertLoopbackHost(
      hostHeaders(request.raw.rawHeaders),
      request.raw.url,
      deps.config.PROXY_HOST,
    );
    if (draining) {
      reply.header('connection', 'close');
      throw new BridgeError(
        'server_shutting_down',
        'The bridge is shutting down; retry in a moment.',
      );
    }
    assertAuthorized(request.headers.authorization, deps.config.PROXY_API_KEY);
  });

  app.addHook('onSend', async (request, reply) => {
    if (!reply.hasHeader(OVERHEAD_HEADER)) {
      const clock = timing(request);
      reply.header(OVERHEAD_HEADER, (elapsedMs(clock) - clock.upstreamMs).toFixed(3));
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Number(elapsedMs(timing(request)).toFixed(1)),
      },
      'request finished',
    );
  });

  app.setErrorHandler(async (error, request, reply) => {
    const failure = toCatalogueError(error, bodyLimit);
    // The client is still sending a body we refused: read and discard a bounded amount first,
    // so it finishes writing and reads the 413 instead of failing on a reset (issue 9, Low #10).
    if (failure.code === 'request_too_large') {
      await drainRequest(request.raw);
      reply.header('connection', 'close');
    }
    return sendError(reply, request, failure);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      request,
      new BridgeError(
        'route_not_found',
        `No route for ${request.method} ${request.url.split('?')[0] ?? ''}. Routes: POST /v1/responses, GET/DELETE /v1/responses/:id, GET /v1/models, GET /health, GET /v1/missions, GET /v1/missions/:id, GET /v1/missions/:id/events.`,
      ),
    ),
  );

  registerHealthRoutes(app, deps);
  registerModelsRoutes(app, deps);
  registerResponsesRoutes(app, deps);
  registerMissionRoutes(app, deps);

  return {
    app,
    startDraining: () => {
      draining = true;
    },
  };
}

/** Every Host header as sent (Node keeps only the first in `headers`). */
function hostHeaders(raw: readonly string[]): string[] {
  const hosts: string[] = [];
  for (let index = 0; index + 1 < raw.length; index += 2)
    if (raw[index]?.toLowerCase() === 'host') hosts.push(raw[index + 1] ?? '');
  return hosts;
}

/** Most bytes of a refused body read and discarded before answering, and for how long. */
const drainLimitBytes = 64 * 1024 * 1024;
const drainLimitMs = 10_000;

function drainRequest(raw: IncomingMessage): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', done);
      raw.off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > drainLimitBytes) done();
    };
    const timer = setTimeout(done, drainLimitMs);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('error', done);
    raw.resume();
  });
}

/**
 * Node's own refusals (a malformed request line, headers too large, a request that did not
 * arrive in time) in the catalogue's OpenAI shape, then the connection is closed.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const failure =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new BridgeError(
          'request_timeout',
          'The request did not arrive in time (HTTP_REQUEST_TIMEOUT_SECONDS); the connection is closed.',
        )
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new BridgeError('headers_too_large', 'The request headers are too large.')
        : new BridgeError(
            'invalid_request',
            `The request is not valid HTTP/1.1 (${error.code ?? 'parse error'}).`,
          );
  const body = JSON.stringify(toOpenAIErrorBody(failure));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${failure.httpStatus} ${STATUS_CODES[failure.httpStatus] ?? ''}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

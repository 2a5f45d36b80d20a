import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { BridgeError } from '../errors/index.js';
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
    genReqId: () => `req_${randomBytes(8).toString('hex')}`,
    requestIdHeader: false,
    // Long SSE streams must not be cut by Node's default request timeout.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
  });
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
    assertLoopbackHost(request.headers.host, deps.config.PROXY_HOST);
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

  app.setErrorHandler((error, request, reply) =>
    sendError(reply, request, toCatalogueError(error, bodyLimit)),
  );
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      request,
      new BridgeError(
        'route_not_found',
        `No route for ${request.method} ${request.url.split('?')[0] ?? ''}. Routes: POST /v1/responses, GET /v1/models, GET /health, GET /v1/missions, GET /v1/missions/:id, GET /v1/missions/:id/events.`,
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

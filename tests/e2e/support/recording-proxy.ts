import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request exactly as the client (Codex) sent it. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path as seen by the proxy, e.g. `/v1/responses`. */
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawBody: string;
}

export interface RecordingProxyOptions {
  /**
   * Awaited before a recorded request is forwarded: a test can hold one request back (a gate)
   * until it has observed something on the client side, without timers.
   */
  readonly beforeForward?: (request: ProxiedRequest) => Promise<void> | void;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>/v1`, to give Codex instead of the bridge's own base URL. */
  readonly baseURL: string;
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * A loopback pass-through that records what the client sent before forwarding it unchanged to
 * `targetOrigin` (e.g. the bridge's `http://127.0.0.1:PORT`) and streaming the answer back.
 * It lets a test compare Codex's own request with what reached the upstream.
 */
export async function startRecordingProxy(
  targetOrigin: string,
  options: RecordingProxyOptions = {},
): Promise<RecordingProxy> {
  const target = new URL(targetOrigin);
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const recorded: ProxiedRequest = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0] ?? '/',
        headers: { ...req.headers },
        rawBody: body.toString('utf8'),
      };
      requests.push(recorded);
      void Promise.resolve(options.beforeForward?.(recorded)).then(
        () => forward(req, res, body),
        () => res.destroy(),
      );
    });
  });

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    if (res.destroyed) return;
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  }

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

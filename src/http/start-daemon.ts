import { computeSourceHash, packageVersion, type Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createServices } from '../app/index.js';
import { openResponseStore } from '../store/index.js';
import type { AppDeps } from './app-deps.js';
import { buildApp } from './build-app.js';

export interface RunningDaemon {
  /** e.g. http://127.0.0.1:4000 */
  readonly url: string;
  readonly port: number;
  /** Stops accepting work, lets in-flight requests finish (up to BRIDGE_SHUTDOWN_DRAIN_SECONDS), then closes. */
  close(): Promise<void>;
}

export interface StartDaemonOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** How run logs are opened (tests inject a failing disk); `fs/promises.open` otherwise. */
  readonly openLogFile?: Parameters<typeof createServices>[0]['openLogFile'];
}

/** Wires the daemon's parts together and listens on PROXY_HOST:PROXY_PORT. */
export async function startDaemon(options: StartDaemonOptions): Promise<RunningDaemon> {
  const { config, logger } = options;
  const { registry, upstream, missions, spend } = createServices({
    config,
    logger,
    ...(options.openLogFile ? { openLogFile: options.openLogFile } : {}),
  });
  const identity = {
    version: packageVersion(),
    sourceHash: computeSourceHash().hash,
    startedAt: new Date(),
  };
  const responses = openResponseStore(config.CODEX_OSS_PROJECT, {
    ttlSeconds: config.RESPONSE_STORE_TTL_SECONDS,
    maxResponses: config.RESPONSE_STORE_MAX_RESPONSES,
    onWriteError: (error, dropped) =>
      logger.warn(
        { err: error, dropped },
        dropped > 0
          ? 'response store: writes keep failing; the oldest unwritten responses were given up'
          : 'response store: a deferred write failed; the responses stay readable and are retried',
      ),
  });
  const deps: AppDeps = {
    config,
    logger,
    registry,
    upstream,
    missions,
    responses,
    spend,
    identity,
  };
  const { app, startDraining } = buildApp(deps);

  await app.listen({ host: config.PROXY_HOST, port: config.PROXY_PORT });
  // Runs a previous daemon left open (killed mid-mission) are closed as interrupted, in the
  // background: listening does not wait for it.
  missions
    .recoverInterrupted()
    .then(async (closed) => {
      if (closed.length > 0)
        logger.warn({ runs: closed }, 'closed runs left open by an earlier daemon');
      const removed = await missions.removeStaleIsolations();
      if (removed.length > 0)
        logger.warn({ worktrees: removed }, 'removed isolated worktrees of crashed runs');
    })
    .catch((error: unknown) => logger.error({ err: error }, 'recovering interrupted runs failed'));
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PROXY_PORT;
  const host = config.PROXY_HOST.includes(':') ? `[${config.PROXY_HOST}]` : config.PROXY_HOST;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${port}`,
    port,
    close: () => {
      closing ??= (async () => {
        startDraining();
        const drainMs = config.BRIDGE_SHUTDOWN_DRAIN_SECONDS * 1000;
        const timer = setTimeout(() => {
          logger.warn({ drainMs }, 'drain deadline reached; closing the remaining connections');
          app.server.closeAllConnections();
        }, drainMs);
        timer.unref();
        try {
          await app.close();
        } finally {
          clearTimeout(timer);
          await missions.close();
          responses.close();
          await upstream.close();
          spend.close();
        }
      })();
      return closing;
    },
  };
}

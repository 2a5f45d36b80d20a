import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createRegistry, type ModelRegistry } from '../models/index.js';
import { MissionRuntime, type MissionRuntimeDeps } from '../runtime/index.js';
import { openSpendLedger, type SpendLedger } from '../store/index.js';
import { createUpstreamClient, type UpstreamClient } from '../upstream/index.js';
import { implementationKit } from './implementation-kit.js';

export interface BridgeServices {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: ModelRegistry;
  readonly upstream: UpstreamClient;
  readonly missions: MissionRuntime;
  /** The bridge's own count of upstream spend, for the OpenCode Go plan windows. */
  readonly spend: SpendLedger;
  /** Closes the mission runtime (its index), the upstream client and the spend ledger. */
  close(): Promise<void>;
}

/**
 * The one place the bridge's parts are wired together: the model registry, the upstream client
 * and the mission runtime with its implementation lane. The daemon, `mission run`, `delegate`
 * and the MCP server all start from here, so they share one configuration of everything.
 */
export function createServices(options: {
  config: Config;
  logger: Logger;
  /** How run logs are opened; tests pass a failing disk here (`fs/promises.open` otherwise). */
  openLogFile?: MissionRuntimeDeps['openLogFile'];
}): BridgeServices {
  const { config, logger } = options;
  const registry = createRegistry(config);
  const spend = openSpendLedger(config.CODEX_OSS_PROJECT, {
    onWriteError: (error, dropped) =>
      logger.warn(
        { err: error, dropped },
        'spend ledger: a deferred write failed; the spend still counts here and is retried',
      ),
  });
  const upstream = createUpstreamClient({
    config,
    logger,
    registry,
    onSpend: (entry) => spend.record(entry),
  });
  const missions = new MissionRuntime({
    config,
    logger,
    registry,
    upstream,
    implementation: implementationKit,
    spend,
    ...(options.openLogFile ? { openLogFile: options.openLogFile } : {}),
  });
  return {
    config,
    logger,
    registry,
    upstream,
    missions,
    spend,
    close: async () => {
      await missions.close();
      await upstream.close();
      spend.close();
    },
  };
}

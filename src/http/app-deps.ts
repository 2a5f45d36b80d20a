import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { ModelRegistry } from '../models/index.js';
import type { MissionRuntime } from '../runtime/index.js';
import type { ResponseStore, SpendLedger } from '../store/index.js';
import type { UpstreamClient } from '../upstream/index.js';

export interface DaemonIdentity {
  readonly version: string;
  readonly sourceHash: string;
  readonly startedAt: Date;
}

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: ModelRegistry;
  readonly upstream: UpstreamClient;
  readonly missions: MissionRuntime;
  /** Conversation state (PRODUCT.md §2.0). */
  readonly responses: ResponseStore;
  /** The bridge's own count of upstream spend, for the OpenCode Go plan windows. */
  readonly spend: SpendLedger;
  readonly identity: DaemonIdentity;
}

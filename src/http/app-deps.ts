import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { MissionAlias, ModelRegistry } from '../models/index.js';
import type { ResponseEmitter, ResponsesRequest } from '../responses/index.js';
import type { UpstreamClient } from '../upstream/index.js';

export interface DaemonIdentity {
  readonly version: string;
  readonly sourceHash: string;
  readonly startedAt: Date;
}

export interface ManagedRequest {
  readonly request: ResponsesRequest;
  /** Set when the model name is a mission alias; absent when a MissionV1 block in the input chose the lane. */
  readonly missionAlias: MissionAlias | undefined;
  readonly userTexts: readonly string[];
  readonly emitter: ResponseEmitter;
  readonly signal: AbortSignal;
  readonly requestId: string;
}

/** The managed lane (mission runtime). It ends the emitter itself with the mission's report. */
export interface ManagedLane {
  run(input: ManagedRequest): Promise<void>;
}

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: ModelRegistry;
  readonly upstream: UpstreamClient;
  readonly identity: DaemonIdentity;
  readonly managed?: ManagedLane;
}

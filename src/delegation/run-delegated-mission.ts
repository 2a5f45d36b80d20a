import { renderHandoff, type MissionV1 } from '../mission/index.js';
import type { MissionAlias } from '../models/index.js';
import type {
  CommentaryLine,
  EarlierRun,
  MissionOutcome,
  MissionRuntime,
} from '../runtime/index.js';

/** What the runtime needs to run a delegated (or caller-written) mission. */
export interface RunnableMission {
  readonly mission: MissionV1;
  readonly modelAlias: string;
  readonly missionAlias: MissionAlias;
  /** The earlier run, already loaded and verified (MissionRuntime.continuationScope). */
  readonly continuation?: EarlierRun;
}

/**
 * Runs a mission through the same governed path as a handoff over HTTP: the mission is rendered
 * as its `<OSS_HANDOFF_JSON>` block and admitted under its alias, so admission, idempotency,
 * lane caps, the event log and the projections are the runtime's, never a second copy.
 */
export function runDelegatedMission(
  runtime: MissionRuntime,
  runnable: RunnableMission,
  options: {
    readonly signal: AbortSignal;
    readonly onCommentary?: (line: CommentaryLine) => void;
    readonly requestId?: string;
  },
): Promise<MissionOutcome> {
  return runtime.execute({
    userTexts: [renderHandoff(runnable.mission)],
    model: runnable.modelAlias,
    missionAlias: runnable.missionAlias,
    signal: options.signal,
    requestId: options.requestId,
    ...(runnable.continuation ? { continuation: runnable.continuation } : {}),
    ...(options.onCommentary ? { onCommentary: options.onCommentary } : {}),
  });
}

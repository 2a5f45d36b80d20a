import type { Config } from '../config/index.js';
import { BridgeError } from '../errors/index.js';
import type { MissionEvent } from '../events/index.js';
import {
  isMissionInputError,
  prepareMission,
  type MissionV1,
  type PreparedMission,
} from '../mission/index.js';
import type { Logger } from '../log/index.js';
import type { ModelEntry, ModelRegistry } from '../models/index.js';
import type { OpenLogFile } from './end-on-write-failure.js';
import type { MissionIdempotency } from './mission-idempotency.js';
import type { ExecuteMissionInput, MissionOutcome } from './mission-request.js';
import { startRunLog } from './open-run-log.js';
import { redactSecrets } from './redact-secrets.js';
import { rejectionAnswer } from './render-answer.js';
import { emptyTotals, type RunStore } from './run-store.js';

/** A mission that passed admission: what it is and which models may run it, in order. */
export interface AdmittedMission {
  readonly prepared: PreparedMission;
  /** The chosen model, then the fallbacks it may use. */
  readonly chain: readonly ModelEntry[];
  /** Alias fallbacks left out because they are weaker and the mission did not allow it. */
  readonly refusedFallbacks: readonly string[];
}

export type Admission =
  ({ readonly ok: true } & AdmittedMission) | { readonly ok: false; readonly error: BridgeError };

/** Routes a mission may never run on: a parent's provider or a GPT model (reference §3.3). */
const forbiddenRoutes = /^(gpt[-_]|openai\/|opencode_bridge$|openai$|chatgpt$)/i;

/**
 * Admission: the handoff block is parsed and validated into a prepared mission (budgets capped
 * by the request's deadline), its free text redacted, and the request's model resolved to a
 * chain a mission may use. A refusal is a value; anything else thrown is a bug.
 */
export function admitMission(
  input: ExecuteMissionInput,
  deps: { readonly config: Config; readonly registry: ModelRegistry },
): Admission {
  const { config } = deps;
  try {
    const prepared = prepareMission({
      userTexts: input.userTexts,
      aliasTier: input.missionAlias?.tier,
      caps: input.missionAlias?.caps,
      requestDeadlineSeconds: config.REQUEST_DEADLINE_SECONDS,
      maxDeadlineSeconds: config.RUNTIME_MISSION_MAX_DEADLINE_SECONDS,
      reserveSeconds: config.DETERMINISTIC_PARTIAL_RESERVE_SECONDS,
    });
    // The objective goes into prompts, events, commentary and reports: a token pasted into it
    // is redacted once, here, for all of them (and for the idempotency comparison).
    let mission = redactMissionText(prepared.mission);
    if (input.continues !== undefined) mission = withContinues(mission, input.continues);
    const chain = admitModel(input, mission, deps.registry);
    return {
      ok: true,
      prepared: { ...prepared, mission },
      chain,
      refusedFallbacks: refusedFallbacks(input, mission, chain),
    };
  } catch (error) {
    if (
      isMissionInputError(error) ||
      (error instanceof BridgeError &&
        (error.code === 'model_admission_failed' || error.code === 'continuation_not_found'))
    )
      return { ok: false, error };
    throw error;
  }
}

function admitModel(
  input: ExecuteMissionInput,
  mission: MissionV1,
  registry: ModelRegistry,
): ModelEntry[] {
  let primary: ModelEntry;
  let fallbacks: readonly ModelEntry[];
  if (input.missionAlias) {
    primary = input.missionAlias.model;
    fallbacks = input.missionAlias.fallbacks;
  } else {
    const decision = registry.resolve(input.model);
    if (decision.lane !== 'raw') {
      throw new BridgeError(
        'model_admission_failed',
        `model admission failed: "${input.model}" cannot run missions; use a mission alias such as mission-a3-kimi or an OSS model id.`,
      );
    }
    primary = decision.model;
    fallbacks = registry.fallbacksFor(input.model, decision.model, true);
  }
  if (forbiddenRoutes.test(primary.id) || forbiddenRoutes.test(input.model)) {
    throw new BridgeError(
      'model_admission_failed',
      `model admission failed: "${input.model}" routes to ${primary.id}, which a mission may never use (GPT and parent-provider routes are forbidden).`,
    );
  }
  // A weaker fallback may not silently replace the chosen model (reference §3.3).
  const allowDowngrade = mission.allow_capability_downgrade;
  const permitted = fallbacks.filter(
    (entry) =>
      !forbiddenRoutes.test(entry.id) &&
      (allowDowngrade || entry.capabilityTier >= primary.capabilityTier),
  );
  return [primary, ...permitted];
}

function refusedFallbacks(
  input: ExecuteMissionInput,
  mission: MissionV1,
  chain: readonly ModelEntry[],
): string[] {
  if (mission.allow_capability_downgrade) return [];
  return (input.missionAlias?.fallbacks ?? [])
    .filter((entry) => entry.capabilityTier < (chain[0]?.capabilityTier ?? 0))
    .map((entry) => entry.id);
}

function redactMissionText(mission: MissionV1): MissionV1 {
  return {
    ...mission,
    objective: redactSecrets(mission.objective).text,
    answer_obligations: mission.answer_obligations.map((obligation) => ({
      ...obligation,
      question: redactSecrets(obligation.question).text,
    })),
  };
}

function withContinues(mission: MissionV1, id: string): MissionV1 {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) {
    throw new BridgeError(
      'continuation_not_found',
      `continuation_not_found: ${JSON.stringify(id.slice(0, 140))} is not a mission id (letters, digits, ".", "_", "-"; at most 128); pass the mission_id of an earlier run in this project.`,
    );
  }
  return { ...mission, continues: id };
}

/** A mission that failed admission: recorded (so `runs` shows it), answered, never sent upstream. */
export async function recordRejection(
  deps: {
    readonly store: RunStore;
    readonly idempotency: MissionIdempotency;
    readonly logger: Logger;
    readonly openLogFile?: OpenLogFile | undefined;
  },
  runId: string,
  input: ExecuteMissionInput,
  error: BridgeError,
): Promise<MissionOutcome> {
  const { store } = deps;
  const missionId = deps.idempotency.rejectionMissionId(
    rawMissionId(input.userTexts),
    runId,
    store.runIndex(),
  );
  // Validation messages quote the offending value, which can be whatever the user pasted.
  const message = redactSecrets(error.message).text;
  const events: MissionEvent[] = [];
  const writer = await startRunLog(
    { projectRoot: store.projectRoot, runId, logger: deps.logger, openFile: deps.openLogFile },
    (opened) => opened.onEvent((event) => events.push(event)),
    (opened) =>
      opened.append('mission.rejected', 'runtime', {
        code: error.code,
        message,
        mission_id: missionId,
        model_alias: input.model,
      }),
  );
  await writer.append('run.completed', 'runtime', {
    status: 'FAILED',
    reason: error.code,
    reason_text: message,
    totals: emptyTotals(),
  });
  const record = await store.finish(writer, events);
  input.onCommentary?.({
    index: 1,
    kind: 'mission_rejected',
    phase: 'PLAN',
    message: `Mission rejected before any model call: ${error.code}.`,
    severity: 'error',
  });
  const finalText = rejectionAnswer({
    missionId,
    runId,
    error,
    message,
    userTexts: input.userTexts,
  });
  return { runId, missionId, status: 'FAILED', finalText, report: null, record, modelTimeMs: 0 };
}

/** The mission id of a rejected block, when its JSON got that far; only a safe id is used. */
function rawMissionId(userTexts: readonly string[]): string | undefined {
  const match = /"mission_id"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._-]{0,100})"/.exec(
    userTexts.join('\n'),
  );
  return match?.[1];
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { toBridgeError } from '../../errors/index.js';
import type { MissionAlias } from '../../models/index.js';
import type { ResponsesRequest } from '../../responses/index.js';
import type { AppDeps } from '../app-deps.js';
import { openResponseChannel } from '../response-channel.js';

export interface ManagedLaneInput {
  readonly request: ResponsesRequest;
  readonly missionAlias: MissionAlias | undefined;
  readonly userTexts: readonly string[];
  readonly httpRequest: FastifyRequest;
  readonly reply: FastifyReply;
  readonly signal: AbortSignal;
}

/**
 * The managed lane's HTTP half: opens the stream at once (so commentary reaches the client while
 * the mission runs, with keepalives between), then hands the emitter to the mission runtime,
 * which ends it with the report. Items are final when written, so nothing is held back.
 */
export async function runManagedLane(input: ManagedLaneInput, deps: AppDeps): Promise<void> {
  const { request, httpRequest, reply } = input;
  const { emitter, writer, clock, open, sendJson } = openResponseChannel(
    request,
    httpRequest,
    reply,
    deps,
    {
      holdItemDone: false,
      includeEncryptedReasoning: false,
    },
  );
  open();
  try {
    const outcome = await deps.missions.execute({
      userTexts: input.userTexts,
      model: request.model,
      missionAlias: input.missionAlias,
      signal: input.signal,
      requestId: httpRequest.id,
      sessionKey: request.prompt_cache_key ?? undefined,
      onCommentary: (line) => emitter.commentary(line.message),
    });
    clock.upstreamMs += outcome.modelTimeMs;
    emitter.message(outcome.finalText, { phase: 'final_answer' });
    // A replayed or followed mission called no model for this request: nothing to bill here.
    emitter.complete(outcome.reusedRun ? undefined : outcome.record.tokens);
    httpRequest.log.info(
      { runId: outcome.runId, missionId: outcome.missionId, status: outcome.status },
      'mission answered',
    );
  } catch (error) {
    const failure = toBridgeError(error);
    if (!writer) throw failure;
    emitter.fail(failure);
  } finally {
    writer?.end();
  }
  if (!writer) await sendJson();
}

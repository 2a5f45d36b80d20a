import { BridgeError } from '../errors/index.js';
import { findRun, readEventLog, reduceRunRecord, runPaths } from '../events/index.js';
import { promote, type PromoteResult } from './promote.js';

export interface PromoteMissionRequest {
  readonly projectRoot: string;
  /** A mission id or a run id. */
  readonly id: string;
  readonly dryRun?: boolean;
  readonly acceptUnverified?: boolean;
  readonly confirmCritical?: boolean;
  readonly revert?: boolean;
}

export interface PromoteMissionResult extends PromoteResult {
  readonly mission_id: string;
  readonly run_id: string;
  readonly status: string;
}

/**
 * The one code path from a finished implementation run to the main workspace (`codex-oss
 * promote`, `POST /v1/missions/:id/promote`, the MCP `oss_promote`): the patch and its file
 * hashes come from the run's hash-chained log, never from files a reader could have edited.
 */
export async function promoteMission(
  request: PromoteMissionRequest,
): Promise<PromoteMissionResult> {
  const runId = await findRun(request.projectRoot, request.id);
  if (runId === null)
    throw new BridgeError(
      'mission_not_found',
      `No run or mission "${request.id}" in ${request.projectRoot}; list them with codex-oss runs.`,
    );
  const log = await readEventLog(runPaths(request.projectRoot, runId).logPath);
  if (log.chainErrors.length > 0 || log.tornTail !== null)
    throw new BridgeError(
      'promotion_refused',
      `The event log of run ${runId} does not verify (${log.chainErrors[0] ?? 'torn last line'}); a patch from it is not promoted. Run codex-oss audit-mission ${request.id}.`,
    );
  const record = reduceRunRecord(log.events);
  const tier = record.tier;
  if (tier !== 'A5' && tier !== 'A6')
    throw new BridgeError(
      'promotion_refused',
      `Run ${runId} is ${tier ?? 'not a mission'}: only A5 and A6 patches are promoted (an A4 patch is a proposal; apply it yourself after review).`,
    );
  if (record.state === 'running' || record.state === 'waiting_upstream')
    throw new BridgeError(
      'promotion_refused',
      `Run ${runId} is still running; promote it once it has finished.`,
    );
  let patch: Readonly<Record<string, unknown>> | undefined;
  for (const event of log.events) if (event.type === 'patch.proposed') patch = event.payload;
  if (patch === undefined)
    throw new BridgeError('promotion_refused', `Run ${runId} never produced a patch.`);
  const result = await promote({
    projectRoot: request.projectRoot,
    missionId: record.mission_id ?? request.id,
    runId,
    tier,
    status: record.status ?? 'FAILED',
    diff: typeof patch['diff'] === 'string' ? patch['diff'] : '',
    files: Array.isArray(patch['files'])
      ? (patch['files'] as PromoteMissionFile[]).map((file) => ({
          path: file.path,
          change: file.change,
          base_sha256: file.base_sha256,
          new_sha256: file.new_sha256,
        }))
      : [],
    ...(request.dryRun === undefined ? {} : { dryRun: request.dryRun }),
    ...(request.acceptUnverified === undefined
      ? {}
      : { acceptUnverified: request.acceptUnverified }),
    ...(request.confirmCritical === undefined ? {} : { confirmCritical: request.confirmCritical }),
    ...(request.revert === undefined ? {} : { revert: request.revert }),
  });
  return {
    ...result,
    mission_id: record.mission_id ?? request.id,
    run_id: runId,
    status: record.status ?? 'FAILED',
  };
}

interface PromoteMissionFile {
  readonly path: string;
  readonly change: 'add' | 'modify' | 'delete';
  readonly base_sha256: string | null;
  readonly new_sha256: string | null;
}

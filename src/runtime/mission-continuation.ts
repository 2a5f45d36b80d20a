import { BridgeError } from '../errors/index.js';
import {
  findRun,
  readEventLog,
  reduceRunRecord,
  runPaths,
  type MissionEvent,
} from '../events/index.js';
import { isPathInScope, normalizeScopePath, type MissionV1 } from '../mission/index.js';
import type { RunIndex } from '../store/index.js';
import { canonicalJson } from './evidence-ledger.js';
import type { CommentaryChannel } from './commentary-channel.js';
import type { ToolDispatcher } from './tool-dispatcher.js';

/**
 * Continuation (PRODUCT.md §6.3): a new run, with its own mission_id and budgets, that starts
 * from an earlier run's report and evidence. The earlier run is read from its verified event
 * log (never from a projection a user could edit), and the evidence is carried by re-running
 * its reads in the new run's scope, so every carried ref is real here and a file that changed
 * since is said to have changed rather than quoted from memory.
 */
export interface EarlierRun {
  readonly missionId: string;
  readonly runId: string;
  readonly status: string;
  readonly headHash: string;
  readonly tier: string;
  /** The earlier run's answer as its client got it (already redacted when recorded). */
  readonly finalText: string;
  readonly scope: EarlierScope;
  /** Its read-only tool calls that succeeded, in order, once each, with their digests. */
  readonly reads: readonly CarriedRead[];
}

export interface EarlierScope {
  readonly allowedRoots: readonly string[];
  readonly allowedPaths: readonly string[];
}

export interface CarriedRead {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly digest: string;
}

/** The tools whose results depend only on the workspace, so re-running them is the same read. */
const carriedTools = new Set(['read_file', 'search_text', 'list_dir']);
/** Enough to carry a real investigation's evidence, bounded so a long run cannot flood the next. */
const maxCarriedReads = 24;
const maxEarlierAnswerChars = 6000;

const refused = (message: string) => new BridgeError('continuation_refused', message);

/** Finds and verifies the run `mission.continues` names, or throws the reason it cannot. */
export async function loadEarlierRun(
  projectRoot: string,
  index: RunIndex,
  mission: Pick<MissionV1, 'mission_id' | 'continues'>,
): Promise<EarlierRun> {
  const id = mission.continues ?? '';
  if (id === mission.mission_id) {
    throw refused(
      `continuation_refused: mission "${id}" cannot continue itself; give the follow-up its own mission_id (or omit it to get a fresh one) and keep "continues": "${id}".`,
    );
  }
  const runId = index.getRun(id)?.run_id ?? (await findRun(projectRoot, id));
  if (!runId) {
    throw new BridgeError(
      'continuation_not_found',
      `continuation_not_found: no run of mission "${id}" in this project (${projectRoot}). A continuation names the mission_id of an earlier run in the same project; \`codex-oss runs\` lists them.`,
    );
  }
  const read = await readEventLog(runPaths(projectRoot, runId).logPath).catch(() => null);
  if (!read || read.chainErrors.length > 0 || read.tornTail !== null) {
    const why = read
      ? [...read.chainErrors, ...(read.tornTail ? ['a torn last line'] : [])].slice(0, 3).join('; ')
      : 'its event log cannot be read';
    throw refused(
      `continuation_refused: the event log of mission "${id}" (run ${runId}) does not verify (${why}); run \`codex-oss audit-mission ${id}\`. A continuation only starts from evidence the log proves.`,
    );
  }
  const record = reduceRunRecord(read.events);
  if (record.state === 'running' || record.state === 'waiting_upstream' || !record.head_hash) {
    throw refused(
      `continuation_refused: mission "${id}" (run ${runId}) is still running; wait for its report (oss_wait, or GET /v1/missions/${id}), then continue it.`,
    );
  }
  if (record.rejection) {
    throw refused(
      `continuation_refused: mission "${id}" was rejected before any model call (${record.rejection.code}), so there is nothing to continue; send a fresh mission.`,
    );
  }
  const admitted = read.events[0];
  const earlierMission = admitted?.type === 'run.admitted' ? admitted.payload['mission'] : null;
  const scope = scopeOf(earlierMission);
  return {
    missionId: id,
    runId,
    status: record.status ?? 'FAILED',
    headHash: record.head_hash,
    tier: record.tier ?? 'A3',
    finalText: (record.final_text ?? '').slice(0, maxEarlierAnswerChars),
    scope,
    reads: carriedReads(read.events),
  };
}

/**
 * A continuation stays within the scope of the run it continues: every root, path and owned
 * path of the follow-up must lie inside the earlier read scope. Returns what lies outside.
 */
export function outsideEarlierScope(earlier: EarlierScope, mission: MissionV1): string[] {
  const wanted = [
    ...mission.allowed_roots.map((root) => ({ path: root, root: true })),
    ...mission.allowed_paths.map((path) => ({ path, root: false })),
    ...mission.owned_paths.map((path) => ({ path, root: path.endsWith('/') })),
  ];
  const scope = { allowedRoots: earlier.allowedRoots, allowedPaths: earlier.allowedPaths };
  return wanted
    .filter(({ path, root }) => {
      // A root is inside only if an earlier root covers it: an exact earlier path cannot.
      if (root)
        return !isPathInScope(path, { allowedRoots: earlier.allowedRoots, allowedPaths: [] });
      return !isPathInScope(path, scope);
    })
    .map(({ path }) => normalizeScopePath(path) || '.');
}

export function assertWithinEarlierScope(earlier: EarlierRun, mission: MissionV1): void {
  const outside = outsideEarlierScope(earlier.scope, mission);
  if (outside.length === 0) return;
  const roots = earlier.scope.allowedRoots.map((root) => normalizeScopePath(root) || '.');
  throw refused(
    `continuation_refused: ${outside.slice(0, 5).join(', ')} ${outside.length === 1 ? 'lies' : 'lie'} outside the scope of mission "${earlier.missionId}" (roots: ${roots.join(', ') || 'none'}; paths: ${earlier.scope.allowedPaths.join(', ') || 'none'}). A continuation stays within the scope of the run it continues: narrow the follow-up, or start a fresh mission.`,
  );
}

/** What run.admitted records about the link. */
export function continuesPayload(earlier: EarlierRun): {
  mission_id: string;
  run_id: string;
  status: string;
  head_hash: string;
} {
  return {
    mission_id: earlier.missionId,
    run_id: earlier.runId,
    status: earlier.status,
    head_hash: earlier.headHash,
  };
}

/**
 * The opening of a continuation: the earlier answer, then its evidence re-read by the runtime
 * in this run (recorded as runtime calls that spend none of this run's budgets). Reads outside
 * the new scope are refused by the dispatcher like any other and simply not carried.
 */
export async function carryEvidence(
  earlier: EarlierRun,
  dispatcher: ToolDispatcher,
): Promise<{ brief: string[]; carried: number; unchanged: number; changed: string[] }> {
  const parts: string[] = [];
  let carried = 0;
  let unchanged = 0;
  const changed: string[] = [];
  const gone: string[] = [];
  for (const read of earlier.reads) {
    const outcome = await dispatcher.run(read.tool, read.args, 'runtime', { carried: true });
    if (outcome.kind === 'denied' || outcome.critical) continue;
    // A read that succeeded then and fails now (the file is gone) is no evidence: it is said
    // to have changed, and its error stays out of the brief.
    if (outcome.ok === false) {
      changed.push(`${describeRead(read)} (now fails)`);
      gone.push(describeRead(read));
      continue;
    }
    carried += 1;
    const same = outcome.digest === read.digest;
    if (same) unchanged += 1;
    else changed.push(describeRead(read));
    parts.push(
      `Carried from the earlier run (${describeRead(read)}, ${same ? 'unchanged since' : 'CHANGED since the earlier run: trust this copy, not the earlier answer'}):\n${outcome.text}`,
    );
  }
  const header = [
    `This mission continues mission ${earlier.missionId} (run ${earlier.runId}, ${earlier.status}). Its answer, as its client got it:`,
    earlier.finalText || '(the earlier run recorded no answer)',
    `Refs in that answer belong to the earlier run. Its evidence was re-read by the runtime for this run (${carried} of ${earlier.reads.length} reads, ${unchanged} unchanged); cite the refs issued here, and read only what the follow-up needs beyond it.`,
    ...(gone.length > 0
      ? [
          `These earlier reads fail now, so the earlier answer may be out of date where it relied on them: ${gone.join(', ')}.`,
        ]
      : []),
  ];
  return { brief: [header.join('\n\n'), ...parts], carried, unchanged, changed };
}

/** The brief parts a continuation adds to its opening (none for a fresh mission), said aloud. */
export async function continuationBrief(
  earlier: EarlierRun | undefined,
  dispatcher: ToolDispatcher,
  commentary: CommentaryChannel,
): Promise<string[]> {
  if (!earlier) return [];
  const carried = await carryEvidence(earlier, dispatcher);
  await commentary.say(
    'continuation_loaded',
    'PLAN',
    `Continuing mission ${earlier.missionId} (${earlier.status}): the runtime re-read ${carried.carried} of its ${earlier.reads.length} reads, ${carried.unchanged} unchanged${carried.changed.length > 0 ? `, changed: ${carried.changed.slice(0, 3).join(', ')}` : ''}.`,
    carried.changed.length > 0 ? 'warning' : 'info',
  );
  return carried.brief;
}

function describeRead(read: CarriedRead): string {
  const path = typeof read.args['path'] === 'string' ? read.args['path'] : '';
  const pattern = typeof read.args['pattern'] === 'string' ? ` "${read.args['pattern']}"` : '';
  return `${read.tool}${pattern}${path ? ` ${path}` : ''}`;
}

function carriedReads(events: readonly MissionEvent[]): CarriedRead[] {
  const seen = new Set<string>();
  const reads: CarriedRead[] = [];
  for (const event of events) {
    if (event.type !== 'tool.completed') continue;
    const tool = String(event.payload['tool']);
    const args = event.payload['args'];
    if (!carriedTools.has(tool) || args === null || typeof args !== 'object') continue;
    // A read that failed (a missing file) backed nothing in the earlier answer; the runtime's
    // summary of a failed call is `<tool> failed: <code>.` (tool-dispatcher.ts).
    if (String(event.payload['summary']).startsWith(`${tool} failed:`)) continue;
    // A redacted argument would re-run as a different call; such a read is not carried.
    const key = `${tool}:${canonicalJson(args)}`;
    if (key.includes('[REDACTED') || seen.has(key)) continue;
    seen.add(key);
    reads.push({
      tool,
      args: args as Record<string, unknown>,
      digest: String(event.payload['digest']),
    });
    if (reads.length >= maxCarriedReads) break;
  }
  return reads;
}

function scopeOf(mission: unknown): EarlierScope {
  const record =
    mission !== null && typeof mission === 'object' ? (mission as Record<string, unknown>) : {};
  const list = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
  return {
    allowedRoots: list(record['allowed_roots']),
    allowedPaths: [...list(record['allowed_paths']), ...list(record['owned_paths'])],
  };
}

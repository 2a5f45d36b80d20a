import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSafeId } from './event-schema.js';
import { sha256Hex } from './hash-event.js';
import { runPaths, runsDir } from './paths.js';
import {
  MANIFEST_FILE_NAME,
  projectionDir,
  renderManifest,
  renderProjections,
} from './projections.js';
import { readEventLog, readFirstEvent } from './read-event-log.js';
import { reduceRunRecord } from './reduce-run-record.js';

export interface AuditCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface AuditResult {
  /** True only when every check passed. */
  readonly ok: boolean;
  readonly run_id: string | null;
  readonly mission_id: string | null;
  readonly checks: AuditCheck[];
}

/**
 * Proves a mission's projections match its log (`codex-oss audit-mission`): the chain verifies,
 * the log has no torn tail, every projection exists and is byte-equal to a fresh render from the
 * log, and the manifest names the log's head hash and the files' digests.
 *
 * `id` is a run id, or a mission id (the run admitted last wins).
 */
export async function auditMission(projectRoot: string, id: string): Promise<AuditResult> {
  const runId = await findRun(projectRoot, id);
  if (runId === null) {
    return {
      ok: false,
      run_id: null,
      mission_id: null,
      checks: [{ name: 'run_found', ok: false, detail: `no run or mission named ${id}` }],
    };
  }
  const checks: AuditCheck[] = [];
  const { logPath } = runPaths(projectRoot, runId);
  const log = await readEventLog(logPath);
  const record = reduceRunRecord(log.events);
  const head = record.head_hash;

  checks.push({
    name: 'chain_intact',
    ok: log.chainErrors.length === 0 && log.events.length > 0,
    detail:
      log.chainErrors.length > 0
        ? log.chainErrors.join('; ')
        : log.events.length === 0
          ? 'the log has no complete event'
          : `${log.events.length} events, head ${head ?? '-'}`,
  });
  checks.push({
    name: 'torn_tail_absent',
    ok: log.tornTail === null,
    detail:
      log.tornTail === null
        ? 'the log ends with a complete line'
        : `partial line ${log.tornTail.lineNumber} (${log.tornTail.bytes} bytes) after the last event`,
  });

  let dir: string;
  try {
    dir = projectionDir(projectRoot, record);
  } catch (error) {
    // A mission id that cannot name a directory never had projections written.
    checks.push({ name: 'projections_present', ok: false, detail: String(error) });
    return { ok: false, run_id: runId, mission_id: record.mission_id, checks };
  }
  const fresh = renderProjections(record, log.events);
  const expected = Object.keys(fresh);
  const onDisk = new Map<string, string>();
  const missing: string[] = [];
  for (const name of [...expected, MANIFEST_FILE_NAME]) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => null);
    if (text === null) missing.push(name);
    else onDisk.set(name, text);
  }
  checks.push({
    name: 'projections_present',
    ok: missing.length === 0,
    detail: missing.length === 0 ? `all in ${dir}` : `missing in ${dir}: ${missing.join(', ')}`,
  });

  for (const name of expected) {
    const text = onDisk.get(name);
    if (text === undefined) continue;
    const same = text === fresh[name as keyof typeof fresh];
    checks.push({
      name: `projection_matches:${name}`,
      ok: same,
      detail: same
        ? 'byte-equal to a fresh render of the log'
        : 'differs from a fresh render of the log',
    });
  }

  const manifestText = onDisk.get(MANIFEST_FILE_NAME);
  if (manifestText !== undefined) {
    checks.push(checkManifest(manifestText, head, onDisk, expected));
    const same = manifestText === renderManifest(record, fresh);
    checks.push({
      name: `projection_matches:${MANIFEST_FILE_NAME}`,
      ok: same,
      detail: same
        ? 'byte-equal to a fresh render of the log'
        : 'differs from a fresh render of the log',
    });
  }

  return {
    ok: checks.every((c) => c.ok),
    run_id: runId,
    mission_id: record.mission_id,
    checks,
  };
}

function checkManifest(
  text: string,
  head: string | null,
  onDisk: ReadonlyMap<string, string>,
  expected: readonly string[],
): AuditCheck {
  let manifest: { head_hash?: unknown; files?: unknown };
  try {
    manifest = JSON.parse(text) as typeof manifest;
  } catch {
    return { name: 'manifest_head_hash', ok: false, detail: 'manifest is not JSON' };
  }
  if (manifest.head_hash !== head) {
    return {
      name: 'manifest_head_hash',
      ok: false,
      detail: `manifest names head ${String(manifest.head_hash)}, the log's head is ${head ?? '-'}`,
    };
  }
  const files = (
    typeof manifest.files === 'object' && manifest.files !== null ? manifest.files : {}
  ) as Record<string, unknown>;
  const wrong = expected.filter((name) => {
    const text = onDisk.get(name);
    return text !== undefined && files[name] !== sha256Hex(text);
  });
  return {
    name: 'manifest_head_hash',
    ok: wrong.length === 0,
    detail:
      wrong.length === 0
        ? `head ${head ?? '-'}; file digests match`
        : `digest differs for ${wrong.join(', ')}`,
  };
}

/**
 * A run id as given, else the latest run whose first event names `id` as its mission id.
 * "Latest" is the first event's timestamp (admission time), ties broken by run id.
 */
export async function findRun(projectRoot: string, id: string): Promise<string | null> {
  if (!isSafeId(id)) return null;
  const direct = await readFirstEvent(runPaths(projectRoot, id).logPath).catch(() => null);
  if (direct !== null) return id;
  const names = await readdir(runsDir(projectRoot)).catch(() => [] as string[]);
  let best: { runId: string; ts: string } | null = null;
  for (const name of names) {
    if (!isSafeId(name)) continue;
    const first = await readFirstEvent(runPaths(projectRoot, name).logPath).catch(() => null);
    const payload = first?.['payload'] as Record<string, unknown> | undefined;
    if (payload?.['mission_id'] !== id) continue;
    const ts = typeof first?.['ts'] === 'string' ? first['ts'] : '';
    if (best === null || ts > best.ts || (ts === best.ts && name > best.runId)) {
      best = { runId: name, ts };
    }
  }
  return best?.runId ?? null;
}

import { hostname } from 'node:os';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { BridgeError } from '../errors/index.js';
import { canonicalJson, sha256Hex, STATE_DIR, ZERO_HASH } from '../events/index.js';
import { isErrno } from './write-path.js';

/**
 * Every promotion and revert, one JSON line each, hash-chained like the event log: `hash` is the
 * sha256 of the entry's canonical JSON without `hash`, and `prev_hash` is the previous entry's
 * hash (zeros for the first). `audit-mission` and `verifyPromotionLog` replay the chain.
 */

export const PROMOTION_EVENT_SCHEMA = 'promotion_event.v1';

const sha = z.string().regex(/^[0-9a-f]{64}$/);

export const promotionEntrySchema = z
  .object({
    schema: z.literal(PROMOTION_EVENT_SCHEMA),
    seq: z.number().int().positive(),
    ts: z.string(),
    action: z.enum(['promote', 'revert']),
    mission_id: z.string().min(1),
    run_id: z.string().min(1),
    tier: z.enum(['A5', 'A6']),
    status: z.string(),
    files: z.array(
      z
        .object({
          path: z.string().min(1),
          change: z.enum(['add', 'modify', 'delete']),
          before_sha256: sha.nullable(),
          after_sha256: sha.nullable(),
        })
        .strict(),
    ),
    patch_sha256: sha,
    prev_hash: sha,
    hash: sha,
  })
  .strict();

export type PromotionEntry = z.infer<typeof promotionEntrySchema>;
export type PromotionEntryDraft = Omit<
  PromotionEntry,
  'schema' | 'seq' | 'ts' | 'prev_hash' | 'hash'
>;

export interface PromotionLogVerification {
  readonly ok: boolean;
  readonly entries: PromotionEntry[];
  /** One line per problem, naming the line number. */
  readonly errors: string[];
}

export function promotionsDir(projectRoot: string): string {
  return path.join(projectRoot, STATE_DIR, 'promotions');
}

export function promotionLogPath(projectRoot: string): string {
  return path.join(promotionsDir(projectRoot), 'promotions.jsonl');
}

function hashEntry(entry: Omit<PromotionEntry, 'hash'>): string {
  return sha256Hex(canonicalJson(entry));
}

/** Reads and checks the whole chain. A missing log is an empty, valid one. */
export async function verifyPromotionLog(projectRoot: string): Promise<PromotionLogVerification> {
  let text: string;
  try {
    text = await readFile(promotionLogPath(projectRoot), 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { ok: true, entries: [], errors: [] };
    throw error;
  }
  const entries: PromotionEntry[] = [];
  const errors: string[] = [];
  if (text !== '' && !text.endsWith('\n')) errors.push('the last line is incomplete (torn write)');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = ZERO_HASH;
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      errors.push(`${where}: not JSON`);
      return;
    }
    const parsed = promotionEntrySchema.safeParse(raw);
    if (!parsed.success) {
      errors.push(
        `${where}: not a promotion_event.v1 entry (${parsed.error.issues[0]?.message ?? 'invalid'})`,
      );
      return;
    }
    const entry = parsed.data;
    const { hash, ...body } = entry;
    if (hashEntry(body) !== hash) errors.push(`${where}: hash does not match its content (edited)`);
    if (entry.prev_hash !== prev)
      errors.push(`${where}: prev_hash does not link to the entry before`);
    if (entry.seq !== index + 1) errors.push(`${where}: seq ${entry.seq}, expected ${index + 1}`);
    prev = hash;
    entries.push(entry);
  });
  return { ok: errors.length === 0, entries, errors };
}

/** Every promotion and revert of one mission, oldest first. */
export async function promotionsFor(
  projectRoot: string,
  missionId: string,
): Promise<PromotionEntry[]> {
  const { entries } = await verifyPromotionLog(projectRoot);
  return entries.filter((entry) => entry.mission_id === missionId);
}

/**
 * Appends one entry; call it only while holding the promotion lock. The line is written with one
 * write on an O_APPEND descriptor and fsynced before this resolves.
 */
export async function appendPromotionEntry(
  projectRoot: string,
  draft: PromotionEntryDraft,
  chain: PromotionLogVerification,
  now: Date = new Date(),
  openFile: typeof open = open,
): Promise<PromotionEntry> {
  if (!chain.ok) {
    throw new BridgeError(
      'promotion_log_corrupt',
      `The promotion log is damaged: ${chain.errors[0] ?? ''}`,
    );
  }
  const last = chain.entries[chain.entries.length - 1];
  const body: Omit<PromotionEntry, 'hash'> = {
    schema: PROMOTION_EVENT_SCHEMA,
    seq: (last?.seq ?? 0) + 1,
    ts: now.toISOString(),
    ...draft,
    prev_hash: last?.hash ?? ZERO_HASH,
  };
  const entry: PromotionEntry = { ...body, hash: hashEntry(body) };
  const file = promotionLogPath(projectRoot);
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await openFile(file, 'a', 0o644);
  let size: number | null = null;
  try {
    size = (await handle.stat()).size;
    await handle.write(canonicalJson(entry) + '\n');
    await handle.sync();
    // The first line also makes the file: its directory entry must be durable too.
    if (chain.entries.length === 0) await syncDir(path.dirname(file), openFile);
  } catch (error) {
    // A line that may have landed (a failed fsync, a short write) is cut off again: the caller
    // undoes the promotion, and the log must not show one that is not applied, nor a torn line
    // that would block every later promotion.
    if (size !== null)
      await handle
        .truncate(size)
        .then(() => handle.sync())
        .catch(() => undefined);
    await handle.close().catch(() => undefined);
    throw error;
  }
  // The line is on disk: a failing close cannot take it back, so it does not fail the append.
  await handle.close().catch(() => undefined);
  return entry;
}

async function syncDir(dir: string, openFile: typeof open = open): Promise<void> {
  const handle = await openFile(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface LockBody {
  readonly pid: number;
  readonly host: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

const lockWaitMs = 10_000;

/**
 * Runs `task` holding the project's promotion lock (O_EXCL create), so two promotions never
 * interleave their checks, writes and log lines. A lock whose owner died on this host is taken
 * over; a live owner is waited for, then `promotion_locked`.
 */
export async function withPromotionLock<T>(
  projectRoot: string,
  task: () => Promise<T>,
): Promise<T> {
  const dir = promotionsDir(projectRoot);
  await mkdir(dir, { recursive: true });
  const lock = path.join(dir, 'promotions.lock');
  const me: LockBody = { pid: process.pid, host: hostname() };
  const deadline = Date.now() + lockWaitMs;
  let delay = 10;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', 0o644);
      try {
        await handle.write(JSON.stringify(me) + '\n');
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    }
    const owner = await readLockOwner(lock);
    if (
      owner !== null &&
      owner.host === me.host &&
      owner.pid !== process.pid &&
      !isAlive(owner.pid)
    ) {
      // Moved aside first, so two processes racing for the same stale lock cannot both remove it.
      const aside = `${lock}.stale-${process.pid}-${Date.now()}`;
      await rename(lock, aside).then(
        () => unlink(aside),
        () => undefined,
      );
      continue;
    }
    if (Date.now() > deadline) {
      throw new BridgeError(
        'promotion_locked',
        `Another promotion holds ${lock}${owner === null ? '' : ` (pid ${owner.pid} on ${owner.host})`}; retry when it finishes.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 200);
  }
  try {
    return await task();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

async function readLockOwner(lock: string): Promise<LockBody | null> {
  const text = await readFile(lock, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const parsed = JSON.parse(text) as Partial<LockBody>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host };
    }
  } catch {
    // A body still being written (or garbage): treated as held until it is readable.
  }
  return null;
}

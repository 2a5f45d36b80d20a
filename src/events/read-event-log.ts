import { open, readFile } from 'node:fs/promises';
import { hashParsedEvent } from './hash-event.js';
import {
  looksLikeMissionEvent,
  missionEventSchema,
  ZERO_HASH,
  type MissionEvent,
} from './event-schema.js';

/** A last line without its terminating newline: a write cut short (e.g. by SIGKILL). */
export interface TornTail {
  /** 1-based line number of the partial line. */
  readonly lineNumber: number;
  /** Its length in bytes (UTF-8). */
  readonly bytes: number;
}

export interface EventLogReadResult {
  /**
   * Every schema-valid event on a complete line, in file order. When `chainErrors` is non-empty
   * some of these are not trustworthy; callers that need the truth must check it first.
   */
  readonly events: MissionEvent[];
  /** The partial last line, never parsed into `events`; null when the file ends with `\n`. */
  readonly tornTail: TornTail | null;
  /** Precise, ordered problems, e.g. `hash_mismatch at seq 3`, `invalid_json at line 7`. */
  readonly chainErrors: string[];
  /** Bytes of the file up to and including the last complete line. */
  readonly completeBytes: number;
}

const NEWLINE = 0x0a;

/**
 * Reads and verifies a run's `events.jsonl`. Verification covers every complete line: envelope
 * schema, one run id, consecutive seq from 0, each hash recomputed from the canonical JSON, and
 * each prev_hash equal to the previous event's hash (64 zeros at seq 0). After an error it keeps
 * going, comparing against the last good event, so one corrupt line yields a short, precise list.
 */
export async function readEventLog(path: string): Promise<EventLogReadResult> {
  const buffer = await readFile(path);
  return parseEventLog(buffer);
}

/** {@link readEventLog} on bytes already in memory. */
export function parseEventLog(buffer: Buffer): EventLogReadResult {
  const lastNewline = buffer.lastIndexOf(NEWLINE);
  const completeBytes = lastNewline + 1;
  const text = buffer.toString('utf8', 0, completeBytes);
  const lines = completeBytes === 0 ? [] : text.slice(0, -1).split('\n');
  const tornTail =
    completeBytes < buffer.length
      ? { lineNumber: lines.length + 1, bytes: buffer.length - completeBytes }
      : null;

  const events: MissionEvent[] = [];
  const chainErrors: string[] = [];
  let runId: string | null = null;
  let expectedSeq = 0;
  let prevHash = ZERO_HASH;

  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = lines[i] ?? '';
    if (line.length === 0) {
      chainErrors.push(`empty_line at line ${lineNumber}`);
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      chainErrors.push(`invalid_json at line ${lineNumber}`);
      continue;
    }
    if (!looksLikeMissionEvent(raw)) {
      const parsed = missionEventSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where =
          issue === undefined ? '' : `: ${issue.path.join('.') || '(root)'} ${issue.message}`;
        chainErrors.push(`schema_invalid at line ${lineNumber}${where}`);
        continue;
      }
    }
    // Hash what was on disk (raw), not zod's output, so no field is lost or reshaped.
    const event = raw as MissionEvent;
    runId ??= event.run_id;
    if (event.run_id !== runId) chainErrors.push(`run_id_mismatch at seq ${event.seq}`);
    if (event.seq !== expectedSeq) chainErrors.push(`seq_mismatch at line ${lineNumber}`);
    if (hashParsedEvent(event) !== event.hash) {
      chainErrors.push(`hash_mismatch at seq ${event.seq}`);
    }
    if (event.prev_hash !== prevHash) chainErrors.push(`prev_hash_mismatch at seq ${event.seq}`);
    expectedSeq = event.seq + 1;
    prevHash = event.hash;
    events.push(event);
  }
  return { events, tornTail, chainErrors, completeBytes };
}

export interface EventLogVerification {
  readonly ok: boolean;
  readonly eventCount: number;
  /** Hash of the last complete event, or null for an empty log. */
  readonly headHash: string | null;
  readonly tornTail: TornTail | null;
  readonly errors: string[];
}

/** Verifies a log; `ok` means an intact chain and no torn tail. */
export async function verifyEventLog(path: string): Promise<EventLogVerification> {
  const { events, tornTail, chainErrors } = await readEventLog(path);
  return {
    ok: chainErrors.length === 0 && tornTail === null,
    eventCount: events.length,
    headHash: events.at(-1)?.hash ?? null,
    tornTail,
    errors: chainErrors,
  };
}

/**
 * The first complete line of a log, parsed, without reading the whole file: how the audit finds
 * a mission's runs. Null when there is no complete first line or it is not JSON.
 */
export async function readFirstEvent(path: string): Promise<Record<string, unknown> | null> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let position = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) return null;
      const part = chunk.subarray(0, bytesRead);
      const newline = part.indexOf(NEWLINE);
      if (newline >= 0) {
        chunks.push(part.subarray(0, newline));
        break;
      }
      chunks.push(part);
      position += bytesRead;
    }
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

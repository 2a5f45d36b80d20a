import { z } from 'zod';

/** The `schema` value every event line carries (PRODUCT.md §7). */
export const EVENT_SCHEMA = 'mission_event.v1';

/** `prev_hash` of the event at seq 0. */
export const ZERO_HASH = '0'.repeat(64);

export const eventSources = ['runtime', 'model', 'tool', 'client'] as const;
export type EventSource = (typeof eventSources)[number];

const hexHash = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');

/**
 * The envelope of one event line. The payload is an open record: its shape belongs to the event
 * type (see event-types.ts) and unknown types must still read (forward compatibility).
 * `.loose()` keeps envelope keys a newer writer may add, because they are covered by the hash.
 */
export const missionEventSchema = z
  .object({
    schema: z.literal(EVENT_SCHEMA),
    run_id: z.string().min(1),
    seq: z.number().int().nonnegative(),
    ts: z.string().min(1),
    type: z.string().min(1),
    source: z.enum(eventSources),
    payload: z.record(z.string(), z.unknown()),
    prev_hash: hexHash,
    hash: hexHash,
  })
  .loose();

/** One event of a run's log, as written and as read back. */
export interface MissionEvent {
  readonly schema: typeof EVENT_SCHEMA;
  readonly run_id: string;
  readonly seq: number;
  /** ISO-8601 UTC timestamp of admission into the log. */
  readonly ts: string;
  readonly type: string;
  readonly source: EventSource;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly prev_hash: string;
  readonly hash: string;
}

/** Run and mission ids become directory names, so they must be plain, portable names. */
export const SAFE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isSafeId(id: string): boolean {
  return SAFE_ID_PATTERN.test(id) && !id.includes('..');
}

const HEX64 = /^[0-9a-f]{64}$/;
const sourceNames: ReadonlySet<string> = new Set(eventSources);

/**
 * A fast structural check equivalent to `missionEventSchema` for the common case, so verifying
 * 100k lines does not pay zod's per-object cost. It accepts a subset of what the schema accepts
 * (event-schema.test.ts checks the two agree); a value it rejects goes through zod, which then
 * names the problem.
 */
export function looksLikeMissionEvent(value: unknown): value is MissionEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  const payload = e['payload'];
  return (
    e['schema'] === EVENT_SCHEMA &&
    typeof e['run_id'] === 'string' &&
    e['run_id'].length > 0 &&
    typeof e['seq'] === 'number' &&
    Number.isSafeInteger(e['seq']) &&
    e['seq'] >= 0 &&
    typeof e['ts'] === 'string' &&
    e['ts'].length > 0 &&
    typeof e['type'] === 'string' &&
    e['type'].length > 0 &&
    typeof e['source'] === 'string' &&
    sourceNames.has(e['source']) &&
    typeof payload === 'object' &&
    payload !== null &&
    !Array.isArray(payload) &&
    typeof e['prev_hash'] === 'string' &&
    HEX64.test(e['prev_hash']) &&
    typeof e['hash'] === 'string' &&
    HEX64.test(e['hash'])
  );
}

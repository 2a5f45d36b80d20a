import { createHash } from 'node:crypto';
import { canonicalJson, canonicalJsonOmitting, compareCodePoints } from './canonical-json.js';
import type { MissionEvent } from './event-schema.js';

/** Lowercase hex sha256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The contract hash of an event: sha256 of the canonical JSON of the event without `hash`.
 * Works on whatever was read from disk (extra envelope keys included), so a verifier never
 * drops a field the writer hashed.
 */
export function hashEvent(event: Readonly<Record<string, unknown>>): string {
  return sha256Hex(canonicalJsonOmitting(event, 'hash'));
}

/** The envelope fields a writer fills in, minus `payload` and `hash`. */
export interface EventHeader {
  readonly schema: MissionEvent['schema'];
  readonly run_id: string;
  readonly seq: number;
  readonly ts: string;
  readonly type: string;
  readonly source: MissionEvent['source'];
  readonly prev_hash: string;
}

/**
 * The writer's fast path: hashes an envelope whose payload is already in canonical form, so the
 * payload is serialised once per append. The keys below are spelled out in code-point order
 * (payload < prev_hash < run_id < schema < seq < source < ts < type); hash-event.test.ts checks
 * that this equals `hashEvent` on the assembled event.
 */
export function canonicalEnvelope(header: EventHeader, canonicalPayload: string): string {
  return (
    '{"payload":' +
    canonicalPayload +
    ',"prev_hash":' +
    quote(header.prev_hash) +
    ',"run_id":' +
    quote(header.run_id) +
    ',"schema":' +
    quote(header.schema) +
    ',"seq":' +
    JSON.stringify(header.seq) +
    ',"source":' +
    quote(header.source) +
    ',"ts":' +
    quote(header.ts) +
    ',"type":' +
    quote(header.type) +
    '}'
  );
}

// Envelope strings are almost always plain ASCII names, hashes and timestamps; quoting those
// directly skips a JSON.stringify call per field, and anything else still goes through it.
const PLAIN = /^[\w.:+-]*$/;

function quote(text: string): string {
  return PLAIN.test(text) ? '"' + text + '"' : JSON.stringify(text);
}

/**
 * The line written for an event: contract field order for people reading the file, payload
 * reused verbatim from its canonical form. Readers must not rely on the order; the hash does not.
 */
export function eventLine(header: EventHeader, canonicalPayload: string, hash: string): string {
  return (
    '{"schema":' +
    JSON.stringify(header.schema) +
    ',"run_id":' +
    JSON.stringify(header.run_id) +
    ',"seq":' +
    JSON.stringify(header.seq) +
    ',"ts":' +
    JSON.stringify(header.ts) +
    ',"type":' +
    JSON.stringify(header.type) +
    ',"source":' +
    JSON.stringify(header.source) +
    ',"payload":' +
    canonicalPayload +
    ',"prev_hash":' +
    JSON.stringify(header.prev_hash) +
    ',"hash":' +
    JSON.stringify(hash) +
    '}\n'
  );
}

const ENVELOPE_KEYS = 9;

/**
 * `hashEvent` for an event that came out of `JSON.parse` and passed the envelope schema, on the
 * read path where every line of a log is hashed again. Two shortcuts, both exact:
 * - a value from JSON.parse whose keys are already in code-point order at every depth (what our
 *   writer produces) has `JSON.stringify` as its canonical form, and that is native code;
 * - an envelope with exactly the contract's keys is assembled like the writer does.
 * Anything else (extra keys, another writer's key order) takes the general path.
 */
export function hashParsedEvent(event: MissionEvent): string {
  if (Object.keys(event).length !== ENVELOPE_KEYS) {
    return hashEvent(event as unknown as Record<string, unknown>);
  }
  const payload = isOrderedJson(event.payload, 0)
    ? JSON.stringify(event.payload)
    : canonicalJson(event.payload);
  return sha256Hex(canonicalEnvelope(event, payload));
}

// True when every object under `value` lists its keys in code-point order. Only meaningful for
// JSON.parse output (plain objects, arrays, strings, finite numbers, booleans, null).
function isOrderedJson(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > 256) return false;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) if (!isOrderedJson(item, depth + 1)) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0 && compareCodePoints(keys[i - 1] as string, key) >= 0) return false;
    if (!isOrderedJson(record[key], depth + 1)) return false;
  }
  return true;
}

import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import {
  canonicalEnvelope,
  eventLine,
  hashEvent,
  hashParsedEvent,
  sha256Hex,
  type EventHeader,
} from './hash-event.js';
import { ZERO_HASH, type MissionEvent } from './event-schema.js';

describe('event hashing', () => {
  const header: EventHeader = {
    schema: 'mission_event.v1',
    run_id: 'run-1',
    seq: 0,
    ts: '2026-01-01T00:00:00.000Z',
    type: 'run.admitted',
    source: 'runtime',
    prev_hash: ZERO_HASH,
  };
  const payload = { mission_id: 'm1', nested: { b: 'ü', a: [1, 2] } };

  it('the writer fast path equals the generic canonical hash', () => {
    const canonicalPayload = canonicalJson(payload);
    const fast = canonicalEnvelope(header, canonicalPayload);
    expect(fast).toBe(canonicalJson({ ...header, payload }));
    const hash = sha256Hex(fast);
    const line = eventLine(header, canonicalPayload, hash);
    expect(line.endsWith('}\n')).toBe(true);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      'schema',
      'run_id',
      'seq',
      'ts',
      'type',
      'source',
      'payload',
      'prev_hash',
      'hash',
    ]);
    expect(hashEvent(parsed)).toBe(hash);
  });
});

/**
 * Known-answer vectors. Each expected hex was computed outside this codebase, by sha256 (Python's
 * hashlib and `node -e` with `crypto`, agreeing) over the canonical text written out by hand from
 * PRODUCT.md §7. If any of these change, the chain format changed: every existing log would stop
 * verifying.
 */
describe('event hash known-answer vectors', () => {
  const first = {
    schema: 'mission_event.v1',
    run_id: 'run-kav-1',
    seq: 0,
    ts: '2026-01-01T00:00:00.000Z',
    type: 'run.admitted',
    source: 'runtime',
    payload: { nested: { b: 'ü', a: [1, 2] }, mission_id: 'm1' },
    prev_hash: '0'.repeat(64),
  } as const;
  const firstHex = 'fd8045a94d9b692caddec92354df47226f19b8816b48390296c7f0046f771593';
  // Code-point key order (U+E000 before U+1F600, which UTF-16 order reverses), escapes, -0,
  // an exponent and null; chained to the first event.
  const second = {
    schema: 'mission_event.v1',
    run_id: 'run-kav-1',
    seq: 1,
    ts: '2026-01-01T00:00:01.500Z',
    type: 'tool.completed',
    source: 'tool',
    payload: {
      z: 1,
      s: 'line\nbreak "q"',
      n: [1.5, -0, 1e21, null],
      a: { '\u{1F600}': 'astral', '\uE000': 'private', B: true },
    },
    prev_hash: firstHex,
  } as const;
  const secondHex = 'c7634ddccc72894db0f49fdf736c4e2387fc4e4332ebd2e5067c2f94f2093405';
  const secondCanonical =
    '{"payload":{"a":{"B":true,"\uE000":"private","\u{1F600}":"astral"},"n":[1.5,0,1e+21,null],' +
    '"s":"line\\nbreak \\"q\\"","z":1},"prev_hash":"' +
    firstHex +
    '","run_id":"run-kav-1","schema":"mission_event.v1","seq":1,"source":"tool",' +
    '"ts":"2026-01-01T00:00:01.500Z","type":"tool.completed"}';

  it('hashEvent gives the recorded hex for each vector', () => {
    expect(hashEvent(first)).toBe(firstHex);
    expect(hashEvent(second)).toBe(secondHex);
    // `hash` itself is never part of what is hashed.
    expect(hashEvent({ ...second, hash: 'anything' })).toBe(secondHex);
  });

  it('the canonical text is exactly the hand-written one', () => {
    const { payload, ...header } = second;
    expect(canonicalEnvelope(header, canonicalJson(payload))).toBe(secondCanonical);
    expect(sha256Hex(secondCanonical)).toBe(secondHex);
  });

  it('the line the writer emits reads back to the same hash (read path included)', () => {
    const { payload, ...header } = second;
    const line = eventLine(header, canonicalJson(payload), secondHex);
    const parsed = JSON.parse(line) as MissionEvent;
    expect(hashParsedEvent(parsed)).toBe(secondHex);
    expect(hashEvent(parsed as unknown as Record<string, unknown>)).toBe(secondHex);
  });
});

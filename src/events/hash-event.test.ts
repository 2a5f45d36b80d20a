import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import {
  canonicalEnvelope,
  eventLine,
  hashEvent,
  sha256Hex,
  type EventHeader,
} from './hash-event.js';
import { ZERO_HASH } from './event-schema.js';

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

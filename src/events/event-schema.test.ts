import { describe, expect, it } from 'vitest';
import { looksLikeMissionEvent, missionEventSchema } from './event-schema.js';
import { canonicalJsonOmitting } from './canonical-json.js';
import { hashEvent, hashParsedEvent, sha256Hex } from './hash-event.js';
import type { MissionEvent } from './event-schema.js';

const valid = {
  schema: 'mission_event.v1',
  run_id: 'r',
  seq: 0,
  ts: '2026-01-01T00:00:00.000Z',
  type: 'run.admitted',
  source: 'runtime',
  payload: { a: 1 },
  prev_hash: '0'.repeat(64),
  hash: 'a'.repeat(64),
};

describe('envelope checks', () => {
  const variants: [string, unknown][] = [
    ['valid', valid],
    ['extra key', { ...valid, extra: true }],
    ['wrong schema', { ...valid, schema: 'mission_event.v2' }],
    ['empty run id', { ...valid, run_id: '' }],
    ['negative seq', { ...valid, seq: -1 }],
    ['fractional seq', { ...valid, seq: 1.5 }],
    ['string seq', { ...valid, seq: '1' }],
    ['empty ts', { ...valid, ts: '' }],
    ['empty type', { ...valid, type: '' }],
    ['unknown source', { ...valid, source: 'desktop' }],
    ['array payload', { ...valid, payload: [] }],
    ['null payload', { ...valid, payload: null }],
    ['uppercase hash', { ...valid, hash: 'A'.repeat(64) }],
    ['short prev hash', { ...valid, prev_hash: '0'.repeat(63) }],
    ['missing hash', { ...valid, hash: undefined }],
    ['array', [valid]],
    ['null', null],
  ];
  it.each(variants)('the fast check never accepts what zod rejects (%s)', (_name, value) => {
    const zodOk = missionEventSchema.safeParse(value).success;
    if (looksLikeMissionEvent(value)) expect(zodOk).toBe(true);
    // On plain variants of a valid event the two agree exactly.
    if (!Array.isArray(value) && value !== null && !('extra' in (value as object))) {
      expect(looksLikeMissionEvent(value)).toBe(zodOk);
    }
  });
});

describe('hashParsedEvent', () => {
  it('equals the general hash for canonical, reordered, integer-keyed and extended events', () => {
    const payloads = [
      { a: 1, b: { c: [1, { d: 'é', e: null }] } },
      { b: 1, a: 2 },
      { '10': 'x', '9': 'y', a: { z: 1, '😀': 2, '｡': 3 } },
      {},
    ];
    for (const payload of payloads) {
      for (const event of [
        { ...valid, payload },
        { ...valid, payload, extra: 'kept' },
      ]) {
        const parsed = JSON.parse(JSON.stringify(event)) as MissionEvent;
        expect(hashParsedEvent(parsed)).toBe(
          hashEvent(parsed as unknown as Record<string, unknown>),
        );
        expect(hashEvent(parsed as unknown as Record<string, unknown>)).toBe(
          sha256Hex(canonicalJsonOmitting(parsed as unknown as Record<string, unknown>, 'hash')),
        );
      }
    }
  });
});

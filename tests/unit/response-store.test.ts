import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openResponseStore, type ResponseStore } from '../../src/store/index.js';

const dirs: string[] = [];
const stores: ResponseStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(options: { ttlSeconds: number; maxResponses: number }, clock: { now: number }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ocb-store-'));
  dirs.push(dir);
  const store = openResponseStore(dir, {
    ...options,
    now: () => clock.now,
    pruneIntervalMs: 0,
    writeDelayMs: 0,
  });
  stores.push(store);
  return store;
}

function response(id: string, itemId: string) {
  return {
    response: {
      id,
      object: 'response',
      output: [{ id: itemId, type: 'message', role: 'assistant', content: [] }],
    },
    input: [{ type: 'message', id: `in_${id}`, role: 'user', content: 'hi' }],
  };
}

describe('response store', () => {
  it('keeps input and output items by id, readable by the owner only', () => {
    const store = open({ ttlSeconds: 100, maxResponses: 10 }, { now: 1000 });
    expect(store.save(response('resp_1', 'msg_1'))).toBe(true);
    expect(store.get('resp_1')?.input).toHaveLength(1);
    expect(store.item('msg_1')).toMatchObject({ id: 'msg_1', role: 'assistant' });
    expect(store.item('in_resp_1')).toMatchObject({ role: 'user' });
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
  });

  it('hides expired responses at once and prunes them later, items included', () => {
    const clock = { now: 1000 };
    const store = open({ ttlSeconds: 60, maxResponses: 10 }, clock);
    store.save(response('resp_old', 'msg_old'));
    clock.now += 61;
    store.save(response('resp_new', 'msg_new'));
    expect(store.get('resp_old')).toBeNull();
    expect(store.item('msg_old')).toBeNull();
    expect(store.prune()).toBe(1);
    expect(store.get('resp_new')).not.toBeNull();
  });

  it('caps the count, removing the oldest first, in bounded batches', () => {
    const clock = { now: 1000 };
    const store = open({ ttlSeconds: 10_000, maxResponses: 3 }, clock);
    for (let index = 0; index < 6; index += 1) {
      clock.now += 1;
      store.save(response(`resp_${index}`, `msg_${index}`));
    }
    expect(store.prune(2)).toBe(2);
    expect(store.prune(2)).toBe(1);
    expect(store.prune(2)).toBe(0);
    expect(['resp_0', 'resp_1', 'resp_2'].map((id) => store.get(id))).toEqual([null, null, null]);
    expect(store.get('resp_5')).not.toBeNull();
  });

  it('deletes a response with its items, and keeps nothing when disabled', () => {
    const store = open({ ttlSeconds: 100, maxResponses: 10 }, { now: 1000 });
    store.save(response('resp_1', 'msg_1'));
    expect(store.delete('resp_1')).toBe(true);
    expect(store.delete('resp_1')).toBe(false);
    expect(store.item('msg_1')).toBeNull();
    const off = open({ ttlSeconds: 100, maxResponses: 0 }, { now: 1000 });
    expect(off.enabled).toBe(false);
    expect(off.save(response('resp_2', 'msg_2'))).toBe(false);
    expect(off.get('resp_2')).toBeNull();
  });

  it('prunes after saves on its own, but not after every one (a COUNT(*) per response was hot-path cost)', async () => {
    const clock = { now: 1000 };
    const store = open({ ttlSeconds: 10_000, maxResponses: 3 }, clock);
    // One turn writes the saves, the next runs the prune they scheduled.
    const tick = async () => {
      for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    };
    const saveNext = (index: number) => {
      clock.now += 1;
      store.save(response(`resp_${index}`, `msg_${index}`));
    };
    // The first save prunes (nothing pruned yet); the next ones within a second wait their turn.
    saveNext(0);
    await tick();
    for (let index = 1; index < 10; index += 1) saveNext(index);
    await tick();
    expect(store.get('resp_0')).not.toBeNull();
    // Within 32 saves the cap holds again, oldest first.
    for (let index = 10; index < 33; index += 1) saveNext(index);
    await tick();
    const kept = Array.from({ length: 33 }, (_, index) => store.get(`resp_${index}`)).filter(
      (row) => row !== null,
    );
    expect(kept.map((row) => row.id)).toEqual(['resp_30', 'resp_31', 'resp_32']);
  });
});

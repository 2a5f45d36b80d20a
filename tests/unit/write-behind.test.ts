import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openResponseStore, openSpendLedger } from '../../src/store/index.js';
import { WriteBehind } from '../../src/store/write-behind.js';

// Decision 0011: the response store and the spend ledger write in batches. What they promise
// in exchange: a saved row is readable at once, reaches the file within the delay, survives
// close(), and a failing write loses nothing it can keep.

const dirs: string[] = [];
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ocb-write-behind-'));
  dirs.push(dir);
  return dir;
}

/** What another process would read from the file right now. */
function rowsInFile(file: string, table: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const waitMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function saved(id: string) {
  return {
    response: { id, object: 'response', output: [{ id: `msg_${id}`, type: 'message' }] },
    input: [{ id: `in_${id}`, type: 'message', role: 'user', content: 'hi' }],
  };
}

describe('response store: batched writes', () => {
  it('a saved response is readable at once, and in the file once the delay has passed', async () => {
    const root = project();
    const store = openResponseStore(root, {
      ttlSeconds: 100,
      maxResponses: 10,
      pruneIntervalMs: 0,
      writeDelayMs: 100,
    });
    closers.push(() => store.close());
    store.save(saved('resp_a'));
    store.save(saved('resp_b'));
    expect(store.get('resp_a')?.response['id']).toBe('resp_a');
    expect(store.item('msg_resp_b')).toEqual({ id: 'msg_resp_b', type: 'message' });
    expect(store.item('in_resp_a')?.['content']).toBe('hi');
    expect(rowsInFile(store.path, 'responses')).toBe(0);
    await waitMs(500);
    expect(rowsInFile(store.path, 'responses')).toBe(2);
    expect(rowsInFile(store.path, 'response_items')).toBe(4);
    expect(store.get('resp_b')?.input).toEqual(saved('resp_b').input);
  });

  it('close() writes what is pending; a deleted pending response is never written', () => {
    const root = project();
    const options = { ttlSeconds: 100, maxResponses: 10, pruneIntervalMs: 0, writeDelayMs: 60_000 };
    const store = openResponseStore(root, options);
    store.save(saved('resp_kept'));
    store.save(saved('resp_gone'));
    expect(store.delete('resp_gone')).toBe(true);
    expect(store.get('resp_gone')).toBeNull();
    expect(store.item('msg_resp_gone')).toBeNull();
    store.close();
    const reopened = openResponseStore(root, options);
    closers.push(() => reopened.close());
    expect(reopened.get('resp_kept')?.response['id']).toBe('resp_kept');
    expect(reopened.get('resp_gone')).toBeNull();
    expect(rowsInFile(reopened.path, 'responses')).toBe(1);
  });

  it('a copy is returned: changing what get() gave back changes nothing stored', () => {
    const store = openResponseStore(project(), {
      ttlSeconds: 100,
      maxResponses: 10,
      pruneIntervalMs: 0,
      writeDelayMs: 60_000,
    });
    closers.push(() => store.close());
    const entry = saved('resp_c');
    store.save(entry);
    // The caller's object changing after save() (the emitter is done with it) changes nothing.
    entry.response.object = 'changed';
    const first = store.get('resp_c');
    first!.response['object'] = 'also changed';
    expect(store.get('resp_c')?.response['object']).toBe('response');
  });
});

describe('spend ledger: batched writes', () => {
  it('counts a spend at once, writes it within the delay, and close() writes the rest', async () => {
    const root = project();
    const ledger = openSpendLedger(root, { writeDelayMs: 100 });
    const at = Date.now();
    ledger.record({ model: 'kimi-k2.6', usd: 0.25, at });
    ledger.record({ model: 'glm-5.1', usd: 0.5, at: at + 1 });
    expect(ledger.entriesSince(at - 1000)).toEqual([
      { at, usd: 0.25 },
      { at: at + 1, usd: 0.5 },
    ]);
    expect(rowsInFile(ledger.path, 'spend')).toBe(0);
    await waitMs(500);
    expect(rowsInFile(ledger.path, 'spend')).toBe(2);
    ledger.record({ model: 'kimi-k2.6', usd: 1, at: at + 2 });
    // Written and pending together, oldest first, none twice.
    expect(ledger.entriesSince(at).map((entry) => entry.usd)).toEqual([0.25, 0.5, 1]);
    ledger.close();
    expect(rowsInFile(ledger.path, 'spend')).toBe(3);
  });
});

describe('WriteBehind', () => {
  it('keeps the rows of a failed write, tries again later, and bounds what it keeps', () => {
    const written: number[][] = [];
    const errors: { dropped: number }[] = [];
    const done: number[] = [];
    let failing = true;
    const queue = new WriteBehind<number>({
      write: (rows) => {
        if (failing) throw new Error('disk full');
        written.push([...rows]);
      },
      delayMs: 60_000,
      maxPending: 3,
      onError: (_error, dropped) => errors.push({ dropped }),
      onDone: (rows) => done.push(...rows),
    });
    closers.push(() => {
      failing = false;
      queue.flush();
    });
    queue.add(1);
    queue.add(2);
    queue.flush();
    expect(errors).toEqual([{ dropped: 0 }]);
    expect(queue.pending).toEqual([1, 2]);
    queue.add(3);
    queue.add(4);
    queue.flush();
    // Over the bound: the oldest is given up, and said to be done with.
    expect(errors.at(-1)).toEqual({ dropped: 1 });
    expect(queue.pending).toEqual([2, 3, 4]);
    expect(done).toEqual([1]);
    failing = false;
    queue.flush();
    expect(written).toEqual([[2, 3, 4]]);
    expect(queue.pending).toEqual([]);
    expect(done).toEqual([1, 2, 3, 4]);
  });

  it('after close() a row is refused with an error, and a failed last write is not retried', async () => {
    const errors: { message: string; dropped: number }[] = [];
    let writes = 0;
    const queue = new WriteBehind<number>({
      write: () => {
        writes += 1;
        throw new Error('database closed');
      },
      delayMs: 0,
      maxPending: 10,
      onError: (error, dropped) => errors.push({ message: (error as Error).message, dropped }),
    });
    queue.add(1);
    queue.close();
    expect(writes).toBe(1);
    queue.add(2);
    expect(errors).toEqual([
      { message: 'database closed', dropped: 0 },
      { message: 'written after the store was closed', dropped: 1 },
    ]);
    // No retry timer: a second later nothing has tried again.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(writes).toBe(1);
  });

  it('with no delay, writes at the end of the turn, all rows of the turn together', async () => {
    const written: string[][] = [];
    const queue = new WriteBehind<string>({
      write: (rows) => written.push([...rows]),
      delayMs: 0,
      maxPending: 10,
      onError: () => undefined,
    });
    queue.add('a');
    queue.add('b');
    expect(written).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual([['a', 'b']]);
  });
});

import { hostname } from 'node:os';
import type { FileHandle } from 'node:fs/promises';
import {
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readFile,
  readdir,
  rm,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { samplePayloads } from '../../tests/support/event-payloads.js';
import { eventPayloadSchemas } from './event-types.js';
import {
  EventLogError,
  openEventLog,
  readEventLog,
  runPaths,
  type EventPayloadMap,
} from './index.js';

/**
 * Opening a run's log (its refusals, resume and torn tails), the checks `append` makes before an
 * event gets a seq, and the run lock. Real files in a temp dir; each test makes what it reads.
 */

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'event-log-open-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const note = (index: number): EventPayloadMap['commentary.emitted'] => ({
  index,
  kind: 'progress',
  phase: 'EXPLORE',
  message: `line ${index}`,
  severity: 'info',
});

const completed: EventPayloadMap['run.completed'] = {
  status: 'FAILED',
  reason: 'invalid_mission',
  reason_text: 'rejected',
  totals: {
    model_calls: 0,
    tool_calls: 0,
    input_tokens: 0,
    cached_input_tokens: 0,
    output_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
  },
};

/** A closed log of `count` events (an admission, then notes) for `runId`. */
async function writeLog(runId: string, count: number): Promise<string> {
  const writer = await openEventLog({ projectRoot: root, runId });
  await writer.append('run.admitted', 'runtime', samplePayloads['run.admitted']!);
  for (let i = 1; i < count; i++) await writer.append('commentary.emitted', 'runtime', note(i));
  await writer.close();
  return writer.logPath;
}

/**
 * The real log file, with its datasync held while `hold()` is in force (or made to fail): lets a
 * test see what the writer does while a sync is slow, or after one failed.
 */
class HeldSync {
  #gate: Promise<void> | null = null;
  #release: (() => void) | null = null;
  failWith: Error | null = null;

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#release = resolve));
  }

  release(): void {
    this.#release?.();
    this.#gate = null;
  }

  readonly openFile = async (path: string, flags: 'a' | 'ax'): Promise<FileHandle> => {
    const real = await open(path, flags);
    return new Proxy(real, {
      get: (target, property, receiver) => {
        if (property === 'datasync') {
          return async () => {
            if (this.#gate !== null) await this.#gate;
            if (this.failWith !== null) throw this.failWith;
            await target.datasync();
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
  };
}

/** Whether `promise` has settled once everything already queued has run. */
async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('openEventLog: refusals', () => {
  it('refuses group-commit limits that could never flush, before touching the disk', async () => {
    for (const groupCommit of [
      { maxEvents: 0, maxDelayMs: 5 },
      { maxEvents: 1.5, maxDelayMs: 5 },
      { maxEvents: 1, maxDelayMs: -1 },
      { maxEvents: 1, maxDelayMs: Number.NaN },
    ]) {
      await expect(
        openEventLog({ projectRoot: root, runId: 'run-limits', groupCommit }),
      ).rejects.toThrow(new RangeError('groupCommit needs maxEvents >= 1 and maxDelayMs >= 0'));
    }
    expect(await readdir(root)).toEqual([]);
    // The smallest limits are valid: one event per sync, no delay.
    const writer = await openEventLog({
      projectRoot: root,
      runId: 'run-limits',
      groupCommit: { maxEvents: 1, maxDelayMs: 0 },
    });
    await writer.append('run.admitted', 'runtime', samplePayloads['run.admitted']!);
    await writer.append('commentary.emitted', 'runtime', note(1));
    await writer.close();
    expect((await readEventLog(writer.logPath)).events).toHaveLength(2);
  });

  it('refuses a second writer of a run in this process, and says which run', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-twice' });
    const second = openEventLog({ projectRoot: root, runId: 'run-twice', resume: true });
    await expect(second).rejects.toBeInstanceOf(EventLogError);
    await expect(second).rejects.toMatchObject({
      code: 'run_locked',
      message: 'run run-twice already has a writer in this process',
    });
    // The refusal took nothing from the first writer.
    await writer.append('run.admitted', 'runtime', samplePayloads['run.admitted']!);
    await writer.close();
    expect((await readEventLog(writer.logPath)).events).toHaveLength(1);
  });

  it('an error opening the file other than "exists" is passed on as it is, and releases the run', async () => {
    const failure = Object.assign(new Error('the disk went away'), { code: 'EIO' });
    await expect(
      openEventLog({
        projectRoot: root,
        runId: 'run-eio',
        openFile: () => Promise.reject(failure),
      }),
    ).rejects.toBe(failure);
    expect(await readdir(runPaths(root, 'run-eio').runDir)).toEqual([]);
    const writer = await openEventLog({ projectRoot: root, runId: 'run-eio' });
    await writer.close();
  });

  it('a refused open leaves neither its lock nor its registration behind', async () => {
    await writeLog('run-exists', 1);
    const { runDir } = runPaths(root, 'run-exists');
    await expect(openEventLog({ projectRoot: root, runId: 'run-exists' })).rejects.toMatchObject({
      code: 'run_log_exists',
      message: 'run run-exists already has an event log; open it with { resume: true } to continue',
    });
    expect(await readdir(runDir)).toEqual(['events.jsonl']);
    const resumed = await openEventLog({ projectRoot: root, runId: 'run-exists', resume: true });
    expect(resumed.head()?.seq).toBe(0);
    await resumed.close();
    expect(await readdir(runDir)).toEqual(['events.jsonl']);
  });
});

describe('openEventLog: resume', () => {
  it('resuming a run that has no log yet starts one at seq 0', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-new', resume: true });
    expect(writer.head()).toBeNull();
    expect(writer.recoveredTornTail).toBeNull();
    const first = await writer.append('run.admitted', 'runtime', samplePayloads['run.admitted']!);
    await writer.close();
    expect(first.seq).toBe(0);
    expect((await readEventLog(writer.logPath)).chainErrors).toEqual([]);
  });

  it('continues the chain from the last event: its seq and its hash', async () => {
    const path = await writeLog('run-go-on', 3);
    const before = await readEventLog(path);
    const writer = await openEventLog({ projectRoot: root, runId: 'run-go-on', resume: true });
    const last = before.events.at(-1)!;
    expect(writer.head()).toEqual({ seq: last.seq, hash: last.hash });
    expect(writer.recoveredTornTail).toBeNull();
    const next = await writer.append('commentary.emitted', 'runtime', note(9));
    await writer.close();
    expect(next).toMatchObject({ seq: 3, prev_hash: last.hash });
    expect((await readEventLog(path)).chainErrors).toEqual([]);
  });

  it('refuses to continue a log written for another run, naming the mismatch', async () => {
    const other = await writeLog('run-source', 2);
    const { runDir, logPath } = runPaths(root, 'run-copy');
    await mkdir(runDir, { recursive: true });
    await copyFile(other, logPath);
    await expect(
      openEventLog({ projectRoot: root, runId: 'run-copy', resume: true }),
    ).rejects.toMatchObject({
      code: 'chain_invalid',
      message: 'cannot resume run run-copy: run_id_mismatch at seq 0',
    });
    // The refused log is left as it was, and its lock is released.
    expect(await readFile(logPath)).toEqual(await readFile(other));
    expect(await readdir(runDir)).toEqual(['events.jsonl']);
  });

  it('names at most five of the chain errors that stop a resume', async () => {
    const path = await writeLog('run-broken', 9);
    const lines = (await readFile(path, 'utf8')).split('\n');
    // Every other line removed: each gap is a seq and a prev_hash error.
    await writeFile(path, lines.filter((_, index) => index % 2 === 0).join('\n'));
    const errors = (await readEventLog(path)).chainErrors;
    expect(errors.length).toBeGreaterThan(5);
    await expect(
      openEventLog({ projectRoot: root, runId: 'run-broken', resume: true }),
    ).rejects.toMatchObject({
      code: 'chain_invalid',
      message: `cannot resume run run-broken: ${errors.slice(0, 5).join('; ')}`,
    });
  });

  it('sets a torn last line aside, named by where it starts, and cuts it from the log', async () => {
    const path = await writeLog('run-torn', 3);
    const whole = await readFile(path);
    await truncate(path, whole.length - 20);
    const torn = await readFile(path);
    const read = await readEventLog(path);
    expect(read.tornTail).not.toBeNull();
    const writer = await openEventLog({ projectRoot: root, runId: 'run-torn', resume: true });
    expect(writer.recoveredTornTail).toEqual(read.tornTail);
    // Before anything new is written: the log ends at its last whole line.
    expect(await readFile(path)).toEqual(torn.subarray(0, read.completeBytes));
    expect(writer.head()?.seq).toBe(1);
    await writer.close();
    const { runDir } = runPaths(root, 'run-torn');
    expect((await readdir(runDir)).sort()).toEqual([
      'events.jsonl',
      `events.jsonl.torn-${read.completeBytes}`,
    ]);
    // The copy set aside keeps every byte the log had, the partial line included.
    expect(await readFile(join(runDir, `events.jsonl.torn-${read.completeBytes}`))).toEqual(torn);
  });

  it('a resumed log that already ended takes no further event', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-ended' });
    await writer.append('run.completed', 'runtime', completed);
    await writer.close();
    const resumed = await openEventLog({ projectRoot: root, runId: 'run-ended', resume: true });
    await expect(resumed.append('commentary.emitted', 'runtime', note(1))).rejects.toMatchObject({
      code: 'run_already_completed',
      message: 'run run-ended already has its terminal run.completed event',
    });
    await resumed.close();
    // One that did not end goes on.
    await writeLog('run-open', 2);
    const open = await openEventLog({ projectRoot: root, runId: 'run-open', resume: true });
    await expect(open.append('commentary.emitted', 'runtime', note(5))).resolves.toMatchObject({
      seq: 2,
    });
    await open.close();
  });
});

describe('append: what it refuses, and what it says', () => {
  it('names the rule each refused event broke, and the log stays empty', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-refusals' });
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => 'accepted',
        (error: unknown) =>
          error instanceof EventLogError ? `${error.code}: ${error.message}` : 'other',
      );
    expect(await refusal(writer.append('' as never, 'runtime', {} as never))).toBe(
      'invalid_event: event type must be a non-empty string',
    );
    expect(await refusal(writer.append(7 as never, 'runtime', {} as never))).toBe(
      'invalid_event: event type must be a non-empty string',
    );
    expect(await refusal(writer.append('commentary.emitted', 'nobody' as never, note(1)))).toBe(
      'invalid_event: unknown event source "nobody"',
    );
    for (const payload of [null, [], 'text']) {
      expect(await refusal(writer.append('commentary.emitted', 'runtime', payload as never))).toBe(
        'invalid_event: payload of commentary.emitted must be a JSON object',
      );
    }
    expect(await refusal(writer.append('custom.later' as never, 'runtime', {} as never))).toBe(
      'invalid_event: unknown event type "custom.later": every event type is declared in events/event-types.ts',
    );
    expect(
      await refusal(
        writer.append('commentary.emitted', 'runtime', { ...note(1), index: 'one' } as never),
      ),
    ).toMatch(/^invalid_event: payload of commentary\.emitted does not match its schema: index: /);
    expect(
      await refusal(
        writer.append('commentary.emitted', 'runtime', { ...note(1), extra: true } as never),
      ),
    ).toMatch(
      /^invalid_event: payload of commentary\.emitted does not match its schema: \(payload\): /,
    );
    expect(
      await refusal(
        writer.append('tool.requested', 'runtime', { call: 1, tool: 't', args: { n: 1n } }),
      ),
    ).toMatch(/^invalid_event: payload of tool\.requested is not JSON: /);
    // A nested field is named by its path, with zod's own words for what is wrong.
    const badRefs = { ...samplePayloads['tool.completed']!, refs: [3] };
    const zodSays = eventPayloadSchemas['tool.completed'].safeParse(badRefs).error?.issues[0];
    expect(zodSays?.path).toEqual(['refs', 0]);
    expect(await refusal(writer.append('tool.completed', 'tool', badRefs as never))).toBe(
      `invalid_event: payload of tool.completed does not match its schema: refs.0: ${zodSays?.message ?? ''}`,
    );

    expect(writer.head()).toBeNull();
    await writer.close();
    expect(await readFile(writer.logPath, 'utf8')).toBe('');
    expect(await refusal(writer.append('commentary.emitted', 'runtime', note(1)))).toBe(
      'writer_closed: the event log of run run-refusals is closed',
    );
  });

  it('the first event is durable whatever its type; a later one of the same type waits for group commit', async () => {
    const writer = await openEventLog({
      projectRoot: root,
      runId: 'run-first',
      groupCommit: { maxEvents: 1000, maxDelayMs: 60_000 },
    });
    await writer.append('commentary.emitted', 'runtime', note(0));
    expect((await readEventLog(writer.logPath)).events).toHaveLength(1);
    await writer.append('commentary.emitted', 'runtime', note(1));
    expect((await readEventLog(writer.logPath)).events).toHaveLength(1);
    await writer.close();
    expect((await readEventLog(writer.logPath)).events).toHaveLength(2);
  });

  it('a listener that throws is ignored, the others still hear every event, and one can leave', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-listeners' });
    const heard: number[] = [];
    const left: number[] = [];
    writer.onEvent(() => {
      throw new Error('a broken live view');
    });
    writer.onEvent((event) => heard.push(event.seq));
    const leave = writer.onEvent((event) => left.push(event.seq));
    await writer.append('run.admitted', 'runtime', samplePayloads['run.admitted']!);
    leave();
    await writer.append('commentary.emitted', 'runtime', note(1));
    await writer.close();
    expect(heard).toEqual([0, 1]);
    expect(left).toEqual([0]);
    expect((await readEventLog(writer.logPath)).events).toHaveLength(2);
  });

  it('every event is chained and stamped: schema, run, seq, time and the previous hash', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-stamps' });
    const first = await writer.append('run.admitted', 'runtime', samplePayloads['run.admitted']!);
    const second = await writer.append('commentary.emitted', 'runtime', note(1));
    await writer.close();
    expect(first).toMatchObject({
      run_id: 'run-stamps',
      seq: 0,
      type: 'run.admitted',
      source: 'runtime',
      prev_hash: '0'.repeat(64),
    });
    expect(second).toMatchObject({ seq: 1, prev_hash: first.hash, type: 'commentary.emitted' });
    expect(Date.parse(second.ts)).not.toBeNaN();
    expect((await readEventLog(writer.logPath)).events).toEqual([first, second]);
  });
});

describe('append: backpressure and a failed sync', () => {
  it('below four times maxEvents (at least 256), appends never wait for the disk', async () => {
    const writer = await openEventLog({
      projectRoot: root,
      runId: 'run-room',
      groupCommit: { maxEvents: 1000, maxDelayMs: 60_000 },
    });
    await writer.append('run.admitted', 'runtime', samplePayloads['run.admitted']!);
    for (let i = 1; i <= 300; i++) await writer.append('commentary.emitted', 'runtime', note(i));
    // Nothing reached the count or the delay limit: only the first event is on disk.
    expect((await readEventLog(writer.logPath)).events).toHaveLength(1);
    await writer.close();
    expect((await readEventLog(writer.logPath)).events).toHaveLength(301);
  });

  it('while a sync is slow, the 256th buffered event waits for it (backpressure)', async () => {
    const held = new HeldSync();
    const writer = await openEventLog({
      projectRoot: root,
      runId: 'run-backpressure',
      openFile: held.openFile,
      groupCommit: { maxEvents: 1, maxDelayMs: 60_000 },
    });
    await writer.append('run.admitted', 'runtime', samplePayloads['run.admitted']!);
    held.hold();
    // The first note starts a sync that does not finish; the next ones are buffered behind it.
    await writer.append('commentary.emitted', 'runtime', note(1));
    for (let i = 2; i <= 256; i++) {
      const buffered = writer.append('commentary.emitted', 'runtime', note(i));
      expect(await settledNow(buffered)).toBe(true);
    }
    // 255 buffered: the next one is the 256th, and waits.
    const waiting = writer.append('commentary.emitted', 'runtime', note(257));
    expect(await settledNow(waiting)).toBe(false);
    held.release();
    await expect(waiting).resolves.toMatchObject({ seq: 257 });
    await writer.close();
    expect((await readEventLog(writer.logPath)).events).toHaveLength(258);
  });

  it('after a failed sync the writer refuses every later event', async () => {
    const held = new HeldSync();
    const writer = await openEventLog({
      projectRoot: root,
      runId: 'run-failed',
      openFile: held.openFile,
    });
    held.failWith = new Error('no space left');
    await expect(
      writer.append('run.admitted', 'runtime', samplePayloads['run.admitted']!),
    ).rejects.toMatchObject({
      code: 'writer_failed',
      message: 'writing the event log of run run-failed failed: no space left',
    });
    await expect(writer.append('commentary.emitted', 'runtime', note(1))).rejects.toMatchObject({
      code: 'writer_failed',
      message: 'the event log of run run-failed failed',
    });
    await expect(writer.close()).rejects.toMatchObject({ code: 'writer_failed' });
  });
});

describe('the run lock', () => {
  it('is held while the writer is open, names its owner, and goes on close', async () => {
    const { lockPath, runDir } = runPaths(root, 'run-lock');
    const writer = await openEventLog({ projectRoot: root, runId: 'run-lock' });
    const body = await readFile(lockPath, 'utf8');
    expect(body.endsWith('}\n')).toBe(true);
    const owner = JSON.parse(body) as Record<string, unknown>;
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(Date.parse(String(owner['acquired_at']))).not.toBeNaN();
    // Only the lock and the log: the draft the lock was linked from is gone.
    expect((await readdir(runDir)).sort()).toEqual(['events.jsonl', 'events.lock']);
    await writer.close();
    expect(await readdir(runDir)).toEqual(['events.jsonl']);
  });

  it('respects a lock from another host, whatever its pid', async () => {
    await writeLog('run-remote', 1);
    const { lockPath } = runPaths(root, 'run-remote');
    const body = JSON.stringify({ pid: 4_194_304 + 17, host: `${hostname()}-elsewhere` });
    await writeFile(lockPath, body);
    await expect(
      openEventLog({ projectRoot: root, runId: 'run-remote', resume: true }),
    ).rejects.toMatchObject({
      code: 'run_locked',
      message: `run run-remote is locked by pid ${4_194_304 + 17} on ${hostname()}-elsewhere (${lockPath})`,
    });
    // Someone else's lock is left in place.
    expect(await readFile(lockPath, 'utf8')).toBe(body);
  });

  it('takes over a lock whose body cannot be read or names no owner, or that names a pid of this process', async () => {
    await writeLog('run-stale', 1);
    const { lockPath, runDir } = runPaths(root, 'run-stale');
    for (const body of [
      '',
      '{not json',
      JSON.stringify({ pid: 'one', host: hostname() }),
      // An owner needs both a pid and a host: a live pid without a host, or a host without a
      // pid, names nobody (such a body is not one acquireLock writes).
      JSON.stringify({ pid: process.ppid }),
      JSON.stringify({ pid: 'one', host: `${hostname()}-elsewhere` }),
      JSON.stringify({ pid: process.pid, host: hostname() }),
    ]) {
      await writeFile(lockPath, body);
      const writer = await openEventLog({ projectRoot: root, runId: 'run-stale', resume: true });
      const owner = JSON.parse(await readFile(lockPath, 'utf8')) as Record<string, unknown>;
      expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
      await writer.close();
      // The stale lock was moved aside and removed, not left next to the log.
      expect(await readdir(runDir)).toEqual(['events.jsonl']);
    }
  });
});

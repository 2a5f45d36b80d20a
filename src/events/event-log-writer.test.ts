import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { samplePayloads } from '../../tests/support/event-payloads.js';
import {
  durableEventTypes,
  openEventLog,
  type EventPayloadMap,
  type MissionEvent,
} from './index.js';
import type { KnownEventType } from './event-types.js';

/**
 * Wraps the real log file handle and keeps the one fact a crash test cannot see: which bytes had
 * been fdatasync'd at any moment. A SIGKILL loses nothing the OS already buffered, so only this
 * tells a synced event from a merely written one.
 */
class SyncProbe {
  written = '';
  synced = '';
  syncs = 0;

  readonly openFile = async (path: string, flags: 'a' | 'ax'): Promise<FileHandle> => {
    const real = await open(path, flags);
    return new Proxy(real, {
      get: (target, property, receiver) => {
        if (property === 'write') {
          return async (buffer: Buffer, offset: number, length: number) => {
            const result = await target.write(buffer, offset, length);
            this.written += buffer.subarray(offset, offset + result.bytesWritten).toString('utf8');
            return result;
          };
        }
        if (property === 'datasync') {
          return async () => {
            const before = this.written;
            await target.datasync();
            this.syncs += 1;
            this.synced = before;
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
  };

  // The end of the event's own line (a later line names the hash only as prev_hash).
  isSynced(event: MissionEvent): boolean {
    return this.synced.includes(`,"hash":"${event.hash}"}\n`);
  }

  isWritten(event: MissionEvent): boolean {
    return this.written.includes(`,"hash":"${event.hash}"}\n`);
  }
}

const samples = samplePayloads;

const note = (message: string): EventPayloadMap['commentary.emitted'] => ({
  index: 1,
  kind: 'progress',
  phase: 'EXPLORE',
  message,
  severity: 'info',
});

type Append = (type: string, payload?: object) => Promise<MissionEvent>;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'event-log-sync-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function openProbed(
  runId: string,
  groupCommit = { maxEvents: 64, maxDelayMs: 60_000 },
): Promise<{ probe: SyncProbe; append: Append; close: () => Promise<void> }> {
  const probe = new SyncProbe();
  // A long group-commit delay: nothing non-durable is synced by the timer while a test looks.
  const writer = await openEventLog({
    projectRoot: root,
    runId,
    openFile: probe.openFile,
    groupCommit,
  });
  const append: Append = (type, payload) => {
    const body: object | undefined = payload ?? samples[type as KnownEventType];
    if (body === undefined) throw new Error(`no sample payload for ${type}`);
    return writer.append(
      type as never,
      type.startsWith('tool.') ? 'tool' : 'runtime',
      body as never,
    );
  };
  return { probe, append, close: () => writer.close() };
}

describe('event log durability: each contract point is fdatasync-ed before append resolves', () => {
  it('the contract points are durable types (PRODUCT.md: admission, model request, tool results, the end)', () => {
    for (const type of [
      'run.admitted',
      'model.requested',
      'tool.completed',
      'tool.denied',
      'run.completed',
    ]) {
      expect(durableEventTypes.has(type), type).toBe(true);
    }
  });

  it('a durable append resolves only after its own line was synced', async () => {
    const { probe, append, close } = await openProbed('run-durable');
    // seq 0 first (always durable), then a non-durable one to sit in the buffer in front of
    // each durable one: the durable append must sync the buffered event too, in order.
    const first = await append('run.admitted');
    expect(probe.isSynced(first)).toBe(true);
    for (const type of [...durableEventTypes].filter(
      (t) => t !== 'run.completed' && t !== 'run.admitted',
    )) {
      const buffered = await append('commentary.emitted', note(`before ${type}`));
      expect(probe.isSynced(buffered), `commentary before ${type} waits for group commit`).toBe(
        false,
      );
      const syncsBefore = probe.syncs;
      const event = await append(type);
      expect(probe.isSynced(event), `${type} synced when append resolves`).toBe(true);
      expect(probe.isSynced(buffered)).toBe(true);
      expect(probe.syncs).toBe(syncsBefore + 1);
    }
    const end = await append('run.completed');
    expect(probe.isSynced(end)).toBe(true);
    await close();
    expect(
      await readFile(join(root, '.codex-oss', 'runs', 'run-durable', 'events.jsonl'), 'utf8'),
    ).toBe(probe.synced);
  });

  it('non-durable events are group-committed: many appends, one sync', async () => {
    const { probe, append, close } = await openProbed('run-group', {
      maxEvents: 8,
      maxDelayMs: 60_000,
    });
    await append('run.admitted');
    const syncsAfterAdmission = probe.syncs;
    const events: MissionEvent[] = [];
    for (let i = 0; i < 7; i++)
      events.push(await append('commentary.emitted', note(`line ${String(i)}`)));
    // Seven buffered events: under the batch size, so not one has been written or synced yet.
    expect(probe.syncs).toBe(syncsAfterAdmission);
    expect(events.some((event) => probe.isWritten(event))).toBe(false);
    // The eighth fills the batch: one write and one sync for all eight.
    events.push(await append('model.responded'));
    const end = await append('run.completed');
    expect(events.every((event) => probe.isSynced(event))).toBe(true);
    expect(probe.isSynced(end)).toBe(true);
    expect(probe.syncs - syncsAfterAdmission).toBeLessThanOrEqual(2);
    await close();
  });

  it('the delay limit syncs a lone buffered event without a durable one behind it', async () => {
    const { probe, append, close } = await openProbed('run-delay', {
      maxEvents: 64,
      maxDelayMs: 5,
    });
    await append('run.admitted');
    const lone = await append('commentary.emitted', note('alone'));
    expect(probe.isSynced(lone)).toBe(false);
    await expect.poll(() => probe.isSynced(lone), { timeout: 10_000, interval: 20 }).toBe(true);
    await close();
  });
});

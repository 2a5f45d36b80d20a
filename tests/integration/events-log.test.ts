import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EventLogError,
  openEventLog,
  readEventLog,
  runPaths,
  verifyEventLog,
  type EventPayloadMap,
  type MissionEvent,
} from '../../src/events/index.js';
import { samplePayloads } from '../support/event-payloads.js';

// An independent reading of the contract (PRODUCT.md §7), deliberately not sharing code with
// src/events: keys sorted by code point at every depth, no whitespace, JSON.stringify scalars.
function contractCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(contractCanonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const byCodePoint = (a: string, b: string): number => {
      const x = Array.from(a, (c) => c.codePointAt(0)!);
      const y = Array.from(b, (c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(x.length, y.length); i++)
        if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      byCodePoint(a, b),
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${contractCanonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function contractHash(line: Record<string, unknown>): string {
  const withoutHash = Object.fromEntries(Object.entries(line).filter(([k]) => k !== 'hash'));
  return createHash('sha256').update(contractCanonical(withoutHash)).digest('hex');
}

async function rawLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// Payloads that satisfy each type's schema, varied where a test needs it.
const payloads = {
  admitted: (missionId: string): EventPayloadMap['run.admitted'] => ({
    ...samplePayloads['run.admitted']!,
    mission_id: missionId,
  }),
  note: (index: number): EventPayloadMap['commentary.emitted'] => ({
    ...samplePayloads['commentary.emitted']!,
    index,
    message: `line ${index}`,
  }),
  requested: (call: number): EventPayloadMap['model.requested'] => ({
    ...samplePayloads['model.requested']!,
    call,
  }),
  responded: (call: number): EventPayloadMap['model.responded'] => ({
    ...samplePayloads['model.responded']!,
    call,
  }),
  toolRequested: (call: number): EventPayloadMap['tool.requested'] => ({
    ...samplePayloads['tool.requested']!,
    call,
  }),
  toolCompleted: (call: number, refs: string[]): EventPayloadMap['tool.completed'] => ({
    ...samplePayloads['tool.completed']!,
    call,
    refs,
  }),
};

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'events-log-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeSample(runId = 'run-a', count = 6): Promise<string> {
  const writer = await openEventLog({ projectRoot: root, runId });
  await writer.append('run.admitted', 'runtime', {
    mission_id: 'm-1',
    tier: 'A3',
    objective_style: 'open_investigation',
    model_alias: 'mission-a3-kimi',
    model: 'kimi-k2',
    fallback_chain: [],
    fallbacks_refused: [],
    mission: { objective: 'Où est le cache? 日本 😀', nested: { z: 1, a: [true, null] } },
    budgets: {
      tool_budget: 10,
      time_budget_seconds: 120,
      max_model_calls: 8,
      max_cost_usd: null,
      max_output_tokens: null,
      max_files: 20,
      max_observation_bytes: 200000,
    },
    deadline_at: '2026-01-01T00:02:00.000Z',
    request_id: null,
    budget_reductions: [],
    source: 'handoff_block',
    warnings: [],
  });
  for (let i = 1; i < count; i++) {
    await writer.append('commentary.emitted', 'runtime', {
      index: i,
      kind: 'progress',
      phase: 'explore',
      message: `step ${i}`,
      severity: 'info',
    });
  }
  await writer.close();
  return runPaths(root, runId).logPath;
}

describe('event log writer and chain', () => {
  it('writes the contract envelope with a chain an independent verifier accepts', async () => {
    const path = await writeSample();
    const lines = await rawLines(path);
    expect(lines).toHaveLength(6);
    lines.forEach((line, i) => {
      expect(Object.keys(line).sort()).toEqual(
        ['hash', 'payload', 'prev_hash', 'run_id', 'schema', 'seq', 'source', 'ts', 'type'].sort(),
      );
      expect(line['schema']).toBe('mission_event.v1');
      expect(line['run_id']).toBe('run-a');
      expect(line['seq']).toBe(i);
      expect(line['hash']).toMatch(/^[0-9a-f]{64}$/);
      expect(line['hash']).toBe(contractHash(line));
      expect(line['prev_hash']).toBe(i === 0 ? '0'.repeat(64) : lines[i - 1]!['hash']);
    });
    const read = await readEventLog(path);
    expect(read.chainErrors).toEqual([]);
    expect(read.tornTail).toBeNull();
    expect(read.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('returns the events it wrote, equal to what a reader sees, and tracks the head', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-b' });
    expect(writer.head()).toBeNull();
    const seen: MissionEvent[] = [];
    const unsubscribe = writer.onEvent((e) => seen.push(e));
    const first = await writer.append('tool.requested', 'runtime', {
      call: 1,
      tool: 'read_file',
      args: { path: 'm', dropped: undefined, when: new Date(0) },
    });
    const second = await writer.append('tool.requested', 'model', {
      call: 2,
      tool: 'search_text',
      args: { n: Number.NaN },
    });
    unsubscribe();
    await writer.append('commentary.emitted', 'runtime', {
      index: 1,
      kind: 'k',
      phase: 'PLAN',
      message: 'm',
      severity: 'info',
    });
    expect(writer.head()).toEqual({ seq: 2, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await writer.close();
    const { events } = await readEventLog(writer.logPath);
    expect(events[0]).toEqual(first);
    expect(events[1]).toEqual(second);
    expect(first.payload).toEqual({
      call: 1,
      tool: 'read_file',
      args: { path: 'm', when: '1970-01-01T00:00:00.000Z' },
    });
    expect(second.payload).toEqual({ call: 2, tool: 'search_text', args: { n: null } });
    expect(seen).toEqual([first, second]);
  });

  it('refuses an undeclared event type and a payload its schema does not declare', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-schema' });
    await expect(
      writer.append('custom.future_type' as never, 'runtime', {} as never),
    ).rejects.toMatchObject({ code: 'invalid_event', message: /unknown event type/ });
    await expect(
      writer.append('tool.requested', 'runtime', {
        call: 1,
        tool: 'read_file',
        args: {},
        extra: 'not declared',
      } as never),
    ).rejects.toMatchObject({ code: 'invalid_event', message: /tool\.requested.*schema/ });
    await expect(
      writer.append('model.failed', 'runtime', { call: 1, model: 'm', code: 'x' } as never),
    ).rejects.toMatchObject({ code: 'invalid_event', message: /message/ });
    expect(writer.head()).toBeNull();
    await writer.close();
  });

  it('blanks string values under secret-looking keys but keeps token counts', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-c' });
    const event = await writer.append('tool.requested', 'runtime', {
      call: 1,
      tool: 'probe',
      args: {
        api_key: 'sk-live-123',
        nested: { Authorization: 'Bearer abc', list: [{ password: 'hunter2' }], apiKey: 'x' },
        usage: { input_tokens: 12, output_tokens: 3 },
        access_token: 'tok',
        secret_count: 2,
      },
    });
    await writer.close();
    expect(event.payload['args']).toEqual({
      api_key: '[REDACTED]',
      nested: {
        Authorization: '[REDACTED]',
        list: [{ password: '[REDACTED]' }],
        apiKey: '[REDACTED]',
      },
      usage: { input_tokens: 12, output_tokens: 3 },
      access_token: '[REDACTED]',
      secret_count: 2,
    });
    const text = await readFile(writer.logPath, 'utf8');
    expect(text).not.toContain('sk-live-123');
    expect(text).not.toContain('hunter2');
  });

  it('makes durable types durable before resolving and group-commits the rest', async () => {
    const writer = await openEventLog({
      projectRoot: root,
      runId: 'run-d',
      groupCommit: { maxEvents: 1000, maxDelayMs: 60_000 },
    });
    const flushed: number[] = [];
    writer.onFlush((head) => flushed.push(head.seq));
    await writer.append('run.admitted', 'runtime', payloads.admitted('m'));
    expect((await readEventLog(writer.logPath)).events).toHaveLength(1);
    await writer.append('model.requested', 'runtime', payloads.requested(1));
    expect((await readEventLog(writer.logPath)).events).toHaveLength(2);
    await writer.append('model.responded', 'model', payloads.responded(1));
    await writer.append('tool.requested', 'runtime', payloads.toolRequested(1));
    // Buffered, not yet written: the group-commit limits are far away.
    expect((await readEventLog(writer.logPath)).events).toHaveLength(2);
    await writer.append('tool.completed', 'tool', payloads.toolCompleted(1, ['cmd:1']));
    expect((await readEventLog(writer.logPath)).events).toHaveLength(5);
    await writer.append('commentary.emitted', 'runtime', payloads.note(1));
    await writer.flush();
    expect((await readEventLog(writer.logPath)).events).toHaveLength(6);
    expect(flushed).toEqual([0, 1, 4, 5]);
    await writer.close();
  });

  it('flushes when maxEvents is reached', async () => {
    const writer = await openEventLog({
      projectRoot: root,
      runId: 'run-e',
      groupCommit: { maxEvents: 4, maxDelayMs: 60_000 },
    });
    const flushedTo = new Promise<number>((resolve) => {
      writer.onFlush((head) => {
        if (head.seq > 0) resolve(head.seq);
      });
    });
    await writer.append('run.admitted', 'runtime', payloads.admitted('m'));
    for (let i = 1; i <= 4; i++)
      await writer.append('commentary.emitted', 'runtime', payloads.note(i));
    expect(await flushedTo).toBe(4);
    await writer.close();
  });

  it('refuses to append after the terminal event and after close', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-f' });
    await writer.append('run.completed', 'runtime', {
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
    });
    await expect(
      writer.append('commentary.emitted', 'runtime', payloads.note(1)),
    ).rejects.toMatchObject({
      code: 'run_already_completed',
    });
    await writer.close();
    await expect(writer.append('x.y' as never, 'runtime', {} as never)).rejects.toMatchObject({
      code: 'writer_closed',
    });
    await expect(writer.append('' as never, 'runtime', {} as never)).rejects.toBeInstanceOf(
      EventLogError,
    );
  });

  it('rejects payloads that are not JSON objects and unknown sources', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-g' });
    await expect(writer.append('tool.requested', 'runtime', [] as never)).rejects.toMatchObject({
      code: 'invalid_event',
    });
    await expect(
      writer.append('tool.requested', 'nobody' as never, { call: 1, tool: 't', args: {} }),
    ).rejects.toMatchObject({
      code: 'invalid_event',
    });
    await expect(
      writer.append('tool.requested', 'runtime', { call: 1, tool: 't', args: { big: 1n } }),
    ).rejects.toMatchObject({
      code: 'invalid_event',
    });
    expect(writer.head()).toBeNull();
    await writer.close();
  });

  it('allows one writer per run, refuses an existing log, and resumes the chain', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'run-h' });
    await expect(openEventLog({ projectRoot: root, runId: 'run-h' })).rejects.toMatchObject({
      code: 'run_locked',
    });
    await writer.append('run.admitted', 'runtime', payloads.admitted('m'));
    await writer.close();
    expect(await readdir(runPaths(root, 'run-h').runDir)).toEqual(['events.jsonl']);

    await expect(openEventLog({ projectRoot: root, runId: 'run-h' })).rejects.toMatchObject({
      code: 'run_log_exists',
    });
    const resumed = await openEventLog({ projectRoot: root, runId: 'run-h', resume: true });
    expect(resumed.head()?.seq).toBe(0);
    await resumed.append('commentary.emitted', 'runtime', payloads.note(1));
    await resumed.close();
    const verification = await verifyEventLog(resumed.logPath);
    expect(verification).toMatchObject({ ok: true, eventCount: 2, errors: [] });
  });

  it('takes over a stale lock left by a dead process, but not a live one', async () => {
    const { runDir, lockPath } = runPaths(root, 'run-i');
    const writer = await openEventLog({ projectRoot: root, runId: 'run-i' });
    await writer.close();
    const host = (await import('node:os')).hostname();
    // pid 2^22+ is above Linux's pid_max default, so no process has it.
    await writeFile(lockPath, JSON.stringify({ pid: 4_194_304 + 17, host }));
    const resumed = await openEventLog({ projectRoot: root, runId: 'run-i', resume: true });
    await resumed.close();
    // The parent of this worker is alive: its lock must be respected.
    await writeFile(lockPath, JSON.stringify({ pid: process.ppid, host }));
    await expect(
      openEventLog({ projectRoot: root, runId: 'run-i', resume: true }),
    ).rejects.toMatchObject({
      code: 'run_locked',
    });
    expect(runDir).toContain('run-i');
  });

  it('rejects run ids that are not plain directory names', async () => {
    await expect(openEventLog({ projectRoot: root, runId: '../escape' })).rejects.toMatchObject({
      code: 'unsafe_id',
    });
  });
});

describe('reading damaged logs', () => {
  it('reports a torn last line and verifies the chain up to it', async () => {
    const path = await writeSample('run-t', 6);
    const text = await readFile(path, 'utf8');
    const cut = text.length - 25;
    await truncate(path, Buffer.byteLength(text.slice(0, cut)));
    const read = await readEventLog(path);
    expect(read.chainErrors).toEqual([]);
    expect(read.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(read.tornTail).toEqual({
      lineNumber: 6,
      bytes: Buffer.byteLength(text.slice(0, cut)) - read.completeBytes,
    });
    const verification = await verifyEventLog(path);
    expect(verification.ok).toBe(false);
    expect(verification.eventCount).toBe(5);

    // Resuming sets the partial line aside and continues from seq 4.
    const writer = await openEventLog({ projectRoot: root, runId: 'run-t', resume: true });
    expect(writer.recoveredTornTail).toEqual(read.tornTail);
    const next = await writer.append('commentary.emitted', 'runtime', payloads.note(99));
    await writer.close();
    expect(next.seq).toBe(5);
    expect(await verifyEventLog(path)).toMatchObject({ ok: true, eventCount: 6 });
    const names = await readdir(runPaths(root, 'run-t').runDir);
    expect(names.some((n) => n.startsWith('events.jsonl.torn-'))).toBe(true);
  });

  it('names the seq or line of each kind of damage', async () => {
    const path = await writeSample('run-x', 8);
    const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
    const tampered = JSON.parse(lines[3]!) as { payload: { message: string } };
    tampered.payload.message = 'rewritten';
    lines[3] = JSON.stringify(tampered);
    lines[6] = '{not json';
    await writeFile(path, lines.join('\n') + '\n');
    const read = await readEventLog(path);
    expect(read.chainErrors).toEqual([
      'hash_mismatch at seq 3',
      'invalid_json at line 7',
      'seq_mismatch at line 8',
      'prev_hash_mismatch at seq 7',
    ]);
    // seq 4 still links to the hash written on line 4, so only the tampered line is named.
    expect(read.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 7]);
  });

  it('refuses to resume a log whose chain is broken', async () => {
    const path = await writeSample('run-y', 3);
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines.splice(1, 1);
    await writeFile(path, lines.join('\n'));
    await expect(
      openEventLog({ projectRoot: root, runId: 'run-y', resume: true }),
    ).rejects.toMatchObject({
      code: 'chain_invalid',
    });
    expect((await readEventLog(path)).chainErrors).toEqual([
      'seq_mismatch at line 2',
      'prev_hash_mismatch at seq 2',
    ]);
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  auditMission,
  openEventLog,
  projectionFileNames,
  readEventLog,
  reduceRunRecord,
  renderProjections,
  runPaths,
  writeProjections,
  type EventLogWriter,
  type MissionEvent,
} from '../../src/events/index.js';
import { openRunIndex } from '../../src/store/index.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'events-record-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const usage = (input: number, output: number) => ({
  input_tokens: input,
  cached_input_tokens: 10,
  cache_write_tokens: 0,
  output_tokens: output,
  reasoning_tokens: 5,
  total_tokens: input + output,
});

type Stage = 'admitted' | 'waiting' | 'complete' | 'failed' | 'cancelled';

/** A mission as the runtime will log it, stopped at `stage`. */
async function scriptMission(
  writer: EventLogWriter,
  missionId: string,
  stage: Stage,
): Promise<void> {
  await writer.append('run.admitted', 'runtime', {
    mission_id: missionId,
    tier: 'A3',
    objective_style: 'open_investigation',
    model_alias: 'mission-a3-kimi',
    model: 'kimi-k2',
    fallback_chain: [],
    fallbacks_refused: [],
    mission: {
      schema_version: 'oss_agent_mission.v1',
      mission_id: missionId,
      objective: 'Find the cache',
    },
    budgets: {
      tool_budget: 12,
      time_budget_seconds: 300,
      max_model_calls: 10,
      max_cost_usd: 0.5,
      max_output_tokens: null,
      max_files: 30,
      max_observation_bytes: 400000,
    },
    deadline_at: '2026-01-01T00:05:00.000Z',
    request_id: 'req-1',
    budget_reductions: [],
    source: 'handoff_block',
    warnings: [],
  });
  if (stage === 'admitted') return;
  await writer.append('commentary.emitted', 'runtime', {
    index: 1,
    kind: 'plan',
    phase: 'explore',
    message: "I'm reading src/cache.ts",
    severity: 'info',
  });
  await writer.append('model.requested', 'runtime', {
    call: 1,
    model: 'kimi-k2',
    fallback_chain: ['kimi-k2', 'deepseek-v3'],
    forced_final: false,
    message_count: 3,
    prompt_bytes: 2048,
  });
  if (stage === 'waiting') return;
  await writer.append('model.failed', 'runtime', {
    call: 1,
    model: 'kimi-k2',
    code: 'upstream_timeout',
    message: 'timed out',
    retryable: true,
  });
  await writer.append('model.responded', 'model', {
    call: 1,
    model: 'deepseek-v3',
    fallback_from: 'kimi-k2',
    latency_ms: 812,
    usage: usage(1000, 200),
    cost_usd: 0.1,
    upstream_cost_usd: null,
    finish_reason: 'tool_calls',
    action: 'tool_call',
  });
  await writer.append('tool.requested', 'runtime', {
    call: 1,
    tool: 'read_file',
    args: { path: 'src/cache.ts' },
  });
  await writer.append('tool.completed', 'tool', {
    call: 1,
    tool: 'read_file',
    args: { path: 'src/cache.ts' },
    digest: 'a'.repeat(64),
    bytes: 1200,
    refs: ['file:src/cache.ts#L1-L40'],
    cache_hit: false,
    redactions: 0,
    summary: 'read 40 lines',
    path: 'src/cache.ts',
  });
  await writer.append('tool.requested', 'runtime', {
    call: 2,
    tool: 'read_file',
    args: { path: '.env' },
  });
  await writer.append('tool.denied', 'runtime', {
    call: 2,
    tool: 'read_file',
    args: { path: '.env' },
    reason_code: 'denied_path',
    message: '.env is on the deny list',
  });
  await writer.append('tool.requested', 'runtime', {
    call: 3,
    tool: 'search_text',
    args: { pattern: 'ttl' },
  });
  await writer.append('tool.completed', 'tool', {
    call: 3,
    tool: 'search_text',
    args: { pattern: 'ttl' },
    digest: 'b'.repeat(64),
    bytes: 300,
    refs: ['cmd:3', 'file:src/ttl.ts#L3-L3'],
    cache_hit: true,
    redactions: 1,
    summary: 'search found 1 match',
    path: null,
  });
  await writer.append('model.requested', 'runtime', {
    call: 2,
    model: 'deepseek-v3',
    fallback_chain: ['deepseek-v3'],
    forced_final: true,
    message_count: 7,
    prompt_bytes: 4096,
  });
  await writer.append('model.responded', 'model', {
    call: 2,
    model: 'deepseek-v3',
    fallback_from: null,
    latency_ms: 640,
    usage: usage(1500, 300),
    cost_usd: 0.2,
    upstream_cost_usd: 0.25,
    finish_reason: 'stop',
    action: 'final_report',
  });
  const report = {
    status: 'COMPLETE',
    summary: 'The cache lives in src/cache.ts.',
    findings: [
      {
        claim: 'TTL is 60 s',
        evidence_refs: ['file:src/cache.ts#L1-L40', 'cmd:3'],
        confidence: 'high',
      },
    ],
    files_inspected: ['src/cache.ts'],
    uncertainties: ['eviction under load'],
    caveats: [],
    confidence: 'high',
    escalation_recommendation: 'none',
  };
  await writer.append('report.submitted', 'model', { report });
  await writer.append('report.validated', 'runtime', {
    status: 'COMPLETE',
    reasons: [],
    dropped_findings: 0,
    report,
    final_text: 'Status: COMPLETE\n\nThe cache lives in src/cache.ts.',
  });
  const status = stage === 'failed' ? 'FAILED' : stage === 'cancelled' ? 'PARTIAL' : 'COMPLETE';
  const reason =
    stage === 'failed' ? 'upstream_failed' : stage === 'cancelled' ? 'cancelled' : 'valid_report';
  await writer.append('run.completed', 'runtime', {
    status,
    reason,
    reason_text: `ended: ${reason}`,
    totals: {
      model_calls: 2,
      tool_calls: 3,
      input_tokens: 2500,
      cached_input_tokens: 20,
      output_tokens: 500,
      reasoning_tokens: 10,
      total_tokens: 3000,
      cost_usd: 0.35,
    },
  });
}

async function runMission(runId: string, missionId: string, stage: Stage): Promise<MissionEvent[]> {
  const writer = await openEventLog({ projectRoot: root, runId });
  await scriptMission(writer, missionId, stage);
  await writer.close();
  const { events, chainErrors } = await readEventLog(writer.logPath);
  expect(chainErrors).toEqual([]);
  return events;
}

describe('reduceRunRecord', () => {
  it('folds a complete mission', async () => {
    const events = await runMission('run-1', 'mission-1', 'complete');
    const record = reduceRunRecord(events);
    expect(record).toMatchObject({
      schema: 'run_record.v1',
      run_id: 'run-1',
      mission_id: 'mission-1',
      tier: 'A3',
      model_alias: 'mission-a3-kimi',
      model: 'kimi-k2',
      state: 'completed',
      status: 'COMPLETE',
      reason: 'valid_report',
      started_at: events[0]!.ts,
      ended_at: events.at(-1)!.ts,
      last_event_at: events.at(-1)!.ts,
      event_count: events.length,
      head_hash: events.at(-1)!.hash,
      model_calls: 2,
      model_failures: 1,
      tool_calls: 3,
      tools_denied: 1,
      cache_hits: 1,
      observation_bytes: 1500,
      fallbacks_used: [{ from: 'kimi-k2', to: 'deepseek-v3' }],
      tokens: {
        input_tokens: 2500,
        cached_input_tokens: 20,
        cache_write_tokens: 0,
        output_tokens: 500,
        reasoning_tokens: 10,
        total_tokens: 3000,
      },
      // 0.1 estimated + 0.25 reported by the upstream (preferred over the 0.2 estimate).
      cost_usd: 0.35,
      files_inspected: [
        { path: 'src/cache.ts', refs: ['file:src/cache.ts#L1-L40'] },
        { path: 'src/ttl.ts', refs: ['file:src/ttl.ts#L3-L3'] },
      ],
      evidence_refs: ['file:src/cache.ts#L1-L40', 'cmd:3', 'file:src/ttl.ts#L3-L3'],
      final_text: 'Status: COMPLETE\n\nThe cache lives in src/cache.ts.',
      validation: { status: 'COMPLETE', reasons: [], dropped_findings: 0 },
      rejection: null,
    });
    expect(record.commentary).toEqual([
      {
        index: 1,
        kind: 'plan',
        phase: 'explore',
        message: "I'm reading src/cache.ts",
        severity: 'info',
        ts: events[1]!.ts,
      },
    ]);
    expect(record.report?.['summary']).toBe('The cache lives in src/cache.ts.');
    expect(record.models_used.map((m) => [m.model, m.calls, m.cost_usd])).toEqual([
      ['deepseek-v3', 2, 0.35],
    ]);
  });

  it('derives running, waiting_upstream, failed and cancelled', async () => {
    expect(reduceRunRecord(await runMission('r-admitted', 'm-a', 'admitted')).state).toBe(
      'running',
    );
    expect(reduceRunRecord(await runMission('r-waiting', 'm-w', 'waiting')).state).toBe(
      'waiting_upstream',
    );
    const failed = reduceRunRecord(await runMission('r-failed', 'm-f', 'failed'));
    expect([failed.state, failed.status, failed.reason]).toEqual([
      'failed',
      'FAILED',
      'upstream_failed',
    ]);
    const cancelled = reduceRunRecord(await runMission('r-cancel', 'm-c', 'cancelled'));
    expect([cancelled.state, cancelled.status]).toEqual(['cancelled', 'PARTIAL']);
    expect(reduceRunRecord([])).toMatchObject({
      state: 'running',
      event_count: 0,
      head_hash: null,
    });
  });

  it('records a rejected mission, ignores unknown event types and counts payloads off their schema', async () => {
    const writer = await openEventLog({ projectRoot: root, runId: 'r-rejected' });
    await writer.append('mission.rejected', 'runtime', {
      code: 'malformed_handoff_json',
      message: 'Unexpected token at 12',
      mission_id: null,
    });
    await writer.close();
    const read = await readEventLog(writer.logPath);
    const written = read.events[0]!;
    // A newer writer's type and a hand-edited payload: read, never folded as if sound.
    const events = [
      written,
      { ...written, seq: 1, type: 'custom.future_type', payload: { files: 2 } },
      { ...written, seq: 2, type: 'model.responded', payload: { call: 'one' } },
    ];
    const record = reduceRunRecord(events);
    expect(record.invalid_payloads).toBe(1);
    expect(record.models_used).toEqual([]);
    expect(record).toMatchObject({
      state: 'failed',
      status: 'FAILED',
      reason: 'malformed_handoff_json',
      rejection: { code: 'malformed_handoff_json', message: 'Unexpected token at 12' },
      mission_id: null,
      event_count: 3,
      head_hash: events[2]!.hash,
    });
  });
});

describe('projections and audit', () => {
  it('renders deterministically and writes the six files plus a manifest', async () => {
    const events = await runMission('run-p', 'mission-p', 'complete');
    const record = reduceRunRecord(events);
    const once = renderProjections(record, events);
    const again = renderProjections(
      reduceRunRecord(structuredClone(events)),
      structuredClone(events),
    );
    expect(again).toEqual(once);
    expect(Object.keys(once).sort()).toEqual([...projectionFileNames].sort());

    const { dir, manifest } = await writeProjections(root, record, events);
    expect(dir).toBe(join(root, '.codex-oss', 'missions', 'mission-p'));
    expect(manifest).toMatchObject({
      run_id: 'run-p',
      mission_id: 'mission-p',
      head_hash: record.head_hash,
    });
    for (const name of ['report.json', 'run_record.json', 'ledger.json']) {
      const parsed = JSON.parse(await readFile(join(dir, name), 'utf8')) as Record<string, unknown>;
      expect(parsed['source_head_hash']).toBe(record.head_hash);
    }
    const summary = await readFile(join(dir, 'summary.md'), 'utf8');
    expect(summary.trimEnd().split('\n').at(-1)).toBe(`source_head_hash: ${record.head_hash}`);
    const report = JSON.parse(once['report.json']!) as Record<string, unknown>;
    expect(report).toMatchObject({ status: 'COMPLETE', reason: 'valid_report', cost_usd: 0.35 });
    expect((report['findings'] as unknown[]).length).toBe(1);
    const ledger = JSON.parse(once['ledger.json']!) as { commands: unknown[]; denied: unknown[] };
    expect(ledger.commands).toHaveLength(2);
    expect(ledger.denied).toMatchObject([{ call: 2, reason_code: 'denied_path' }]);
    const trace = once['trace.jsonl']!.trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(trace.every((t) => t.type.startsWith('model.') || t.type.startsWith('tool.'))).toBe(
      true,
    );
    expect(trace).toHaveLength(11);
    expect(once['visible_commentary.jsonl']).toBe(
      JSON.stringify({
        index: 1,
        kind: 'plan',
        phase: 'explore',
        message: "I'm reading src/cache.ts",
        severity: 'info',
        ts: events[1]!.ts,
      }) + '\n',
    );

    const audit = await auditMission(root, 'mission-p');
    expect(audit.ok).toBe(true);
    expect(audit.run_id).toBe('run-p');
    expect(audit.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'chain_intact',
        'torn_tail_absent',
        'projections_present',
        'manifest_head_hash',
      ]),
    );
    expect((await auditMission(root, 'run-p')).ok).toBe(true);
  });

  it('fails the audit naming the seq of a tampered payload', async () => {
    const events = await runMission('run-q', 'mission-q', 'complete');
    await writeProjections(root, reduceRunRecord(events), events);
    const { logPath } = runPaths(root, 'run-q');
    const lines = (await readFile(logPath, 'utf8')).split('\n');
    const target = lines.findIndex((l) => l.includes('"type":"tool.completed"'));
    lines[target] = lines[target]!.replace('"bytes":1200', '"bytes":12');
    await writeFile(logPath, lines.join('\n'));

    const audit = await auditMission(root, 'mission-q');
    expect(audit.ok).toBe(false);
    const chain = audit.checks.find((c) => c.name === 'chain_intact')!;
    expect(chain.ok).toBe(false);
    expect(chain.detail).toBe(`hash_mismatch at seq ${target}`);
    expect(audit.checks.find((c) => c.name === 'projection_matches:ledger.json')?.ok).toBe(false);
  });

  it('fails the audit on a torn tail, a stale projection, or a missing run', async () => {
    const events = await runMission('run-r', 'mission-r', 'complete');
    await writeProjections(root, reduceRunRecord(events), events);
    const { logPath } = runPaths(root, 'run-r');
    await writeFile(logPath, '{"schema":"mission_ev', { flag: 'a' });
    const torn = await auditMission(root, 'run-r');
    expect(torn.checks.find((c) => c.name === 'torn_tail_absent')).toMatchObject({ ok: false });
    expect(torn.checks.find((c) => c.name === 'chain_intact')).toMatchObject({ ok: true });
    expect(torn.ok).toBe(false);

    // A later run of the same mission wins the lookup; its projections were never written.
    const later = await openEventLog({ projectRoot: root, runId: 'run-s' });
    await scriptMission(later, 'mission-r', 'waiting');
    await later.close();
    const stale = await auditMission(root, 'mission-r');
    expect(stale.run_id).toBe('run-s');
    expect(stale.checks.find((c) => c.name === 'manifest_head_hash')).toMatchObject({ ok: false });

    expect(await auditMission(root, 'nothing-here')).toMatchObject({ ok: false, run_id: null });
  });
});

describe('run index', () => {
  it('upserts, lists, reports usage and rebuilds to the same records as a direct reduce', async () => {
    const stages: [string, Stage][] = [
      ['run-1', 'complete'],
      ['run-2', 'failed'],
      ['run-3', 'waiting'],
    ];
    const records = [];
    for (const [runId, stage] of stages) {
      records.push(reduceRunRecord(await runMission(runId, `mission-${runId}`, stage)));
    }
    const index = openRunIndex(root);
    try {
      for (const record of records) index.upsertRun(record);
      index.upsertRun(records[0]!); // idempotent
      expect(index.getRun('run-1')).toEqual(records[0]);
      expect(index.getRun('mission-run-2')).toEqual(records[1]);
      expect(index.getRun('missing')).toBeNull();
      expect(
        index
          .listRuns()
          .map((r) => r.run_id)
          .sort(),
      ).toEqual(['run-1', 'run-2', 'run-3']);
      expect(index.listRuns({ state: 'failed' }).map((r) => r.run_id)).toEqual(['run-2']);
      expect(index.listRuns({ status: 'COMPLETE' }).map((r) => r.run_id)).toEqual(['run-1']);
      expect(index.listRuns({ limit: 1 })).toHaveLength(1);

      const usage = index.usage();
      expect(usage.overall).toMatchObject({
        runs: 3,
        model_calls: 5,
        total_tokens: 6000,
        cost_usd: 0.7,
      });
      expect(usage.by_model).toEqual([
        expect.objectContaining({ model: 'deepseek-v3', runs: 2, model_calls: 4, cost_usd: 0.7 }),
      ]);
      expect(index.usage({ since: '2999-01-01T00:00:00Z' }).overall).toMatchObject({
        runs: 0,
        cost_usd: 0,
      });

      // A corrupt log is reported and left out; the others are re-derived from their logs.
      const { logPath } = runPaths(root, 'run-3');
      const text = await readFile(logPath, 'utf8');
      await writeFile(logPath, text.replace('"prompt_bytes":2048', '"prompt_bytes":1'));
      const rebuilt = await index.rebuild(root);
      expect(rebuilt.indexed).toBe(2);
      expect(rebuilt.failed).toMatchObject([
        { run_id: 'run-3', errors: ['hash_mismatch at seq 2'] },
      ]);
      expect(index.getRun('run-1')).toEqual(records[0]);
      expect(index.getRun('run-2')).toEqual(records[1]);
      expect(index.getRun('run-3')).toBeNull();
    } finally {
      index.close();
    }
    // The index persists across opens.
    const reopened = openRunIndex(root);
    expect(reopened.listRuns()).toHaveLength(2);
    reopened.close();
  });
});

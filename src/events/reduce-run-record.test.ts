import { describe, expect, it } from 'vitest';
import { sampleUsage, samplePayloads } from '../../tests/support/event-payloads.js';
import { EVENT_SCHEMA, ZERO_HASH, type MissionEvent } from './event-schema.js';
import { filePathOfRef, reduceRunRecord, RunRecordReducer } from './reduce-run-record.js';

/**
 * The run record is a pure fold of the log: these build the events in memory (schema-valid
 * payloads from tests/support) so each figure a user reads in `codex-oss runs` can be checked
 * against the events that produced it. The writer and reader are tested in events-record.
 */

function events(...specs: [type: string, payload: Record<string, unknown>][]): MissionEvent[] {
  return specs.map(([type, payload], seq) => ({
    schema: EVENT_SCHEMA,
    run_id: 'run-7',
    seq,
    ts: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
    type,
    source: 'runtime',
    payload,
    prev_hash: seq === 0 ? ZERO_HASH : `${seq - 1}`.padStart(64, '0'),
    hash: `${seq}`.padStart(64, '0'),
  }));
}

const admitted = samplePayloads['run.admitted']!;
const responded = samplePayloads['model.responded']!;
const completed = samplePayloads['tool.completed']!;
const denied = samplePayloads['tool.denied']!;
const requested = samplePayloads['tool.requested']!;
const finished = samplePayloads['run.completed']!;

describe('reduceRunRecord', () => {
  it('takes the run id and start from the first event, and the head from the last', () => {
    const log = events(
      ['run.admitted', admitted],
      ['model.requested', samplePayloads['model.requested']!],
    );
    const record = reduceRunRecord(log);
    expect(record).toMatchObject({
      run_id: 'run-7',
      started_at: log[0]!.ts,
      last_event_at: log[1]!.ts,
      head_hash: log[1]!.hash,
      event_count: 2,
      mission_id: 'm-1',
      tier: 'A3',
      objective_style: 'deterministic_lookup',
      model_alias: 'mission-a3-kimi',
      model: 'kimi-k2.6',
      request_id: null,
      deadline_at: '2026-01-01T00:00:00.000Z',
      budgets: admitted.budgets,
      state: 'waiting_upstream',
      ended_at: null,
    });
  });

  it('sums usage and cost per model, preferring the upstream-reported cost', () => {
    const usage = { ...sampleUsage, input_tokens: 10, output_tokens: 5, total_tokens: 15 };
    const record = reduceRunRecord(
      events(
        ['run.admitted', admitted],
        ['model.responded', { ...responded, usage, cost_usd: 0.1, upstream_cost_usd: null }],
        [
          'model.responded',
          {
            ...responded,
            call: 2,
            model: 'glm-5',
            fallback_from: 'kimi-k2.6',
            usage,
            cost_usd: 0.5,
            upstream_cost_usd: 0.2,
          },
        ],
        ['model.responded', { ...responded, call: 3, model: 'glm-5', usage, cost_usd: 0.2 }],
      ),
    );
    // 0.1 estimated + 0.2 reported (not the 0.5 estimate) + 0.2 estimated, without float drift.
    expect(record.cost_usd).toBe(0.5);
    expect(record.tokens).toEqual({
      ...sampleUsage,
      input_tokens: 30,
      output_tokens: 15,
      total_tokens: 45,
    });
    expect(record.models_used).toEqual([
      { model: 'kimi-k2.6', calls: 1, tokens: usage, cost_usd: 0.1 },
      {
        model: 'glm-5',
        calls: 2,
        tokens: { ...usage, input_tokens: 20, output_tokens: 10, total_tokens: 30 },
        cost_usd: 0.4,
      },
    ]);
    expect(record.fallbacks_used).toEqual([{ from: 'kimi-k2.6', to: 'glm-5' }]);
  });

  it('counts a tool call once however many events it has, and folds files from path and refs', () => {
    const record = reduceRunRecord(
      events(
        ['tool.requested', { ...requested, call: 1 }],
        [
          'tool.completed',
          {
            ...completed,
            call: 1,
            bytes: 40,
            path: 'src/a.ts',
            refs: ['file:src/a.ts#L1-L2', 'file:src/b.ts#L3-L3', 'cmd:1'],
          },
        ],
        ['tool.requested', { ...requested, call: 2 }],
        ['tool.denied', { ...denied, call: 2 }],
        [
          'tool.completed',
          {
            ...completed,
            call: 3,
            bytes: 0,
            cache_hit: true,
            path: null,
            refs: ['file:src/a.ts#L1-L1'],
          },
        ],
      ),
    );
    expect(record.tool_calls).toBe(3);
    expect(record.tools_denied).toBe(1);
    expect(record.cache_hits).toBe(1);
    expect(record.observation_bytes).toBe(40);
    expect(record.files_inspected).toEqual([
      {
        path: 'src/a.ts',
        refs: ['file:src/a.ts#L1-L2', 'file:src/b.ts#L3-L3', 'cmd:1', 'file:src/a.ts#L1-L1'],
      },
      { path: 'src/b.ts', refs: ['file:src/b.ts#L3-L3'] },
    ]);
    expect(record.evidence_refs).toEqual([
      'file:src/a.ts#L1-L2',
      'file:src/b.ts#L3-L3',
      'cmd:1',
      'file:src/a.ts#L1-L1',
    ]);
  });

  it('a rejection ends the run unless a run.completed already did', () => {
    const rejected = samplePayloads['mission.rejected']!;
    const early = reduceRunRecord(events(['mission.rejected', { ...rejected, mission_id: 'm-9' }]));
    expect(early).toMatchObject({
      state: 'failed',
      status: 'FAILED',
      reason: 'invalid_mission',
      reason_text: 'bad',
      mission_id: 'm-9',
      rejection: { code: 'invalid_mission', message: 'bad' },
    });
    expect(early.ended_at).toBe(early.started_at);

    const late = reduceRunRecord(
      events(
        ['run.admitted', admitted],
        ['run.completed', finished],
        ['mission.rejected', rejected],
      ),
    );
    expect(late).toMatchObject({ state: 'completed', status: 'COMPLETE', reason: 'valid_report' });
    // The admitted mission id is kept when the rejection names none.
    expect(late.mission_id).toBe('m-1');
  });

  it('a failed model call is counted and no longer waits upstream; a cancelled run says so', () => {
    const failed = reduceRunRecord(
      events(
        ['model.requested', samplePayloads['model.requested']!],
        [
          'model.failed',
          { call: 1, model: 'kimi-k2.6', code: 'upstream_failed', message: 'x', retryable: false },
        ],
      ),
    );
    expect([failed.state, failed.model_calls, failed.model_failures]).toEqual(['running', 1, 1]);
    const cancelled = reduceRunRecord(
      events(['run.completed', { ...finished, status: 'PARTIAL', reason: 'cancelled' }]),
    );
    expect(cancelled.state).toBe('cancelled');
    const failedRun = reduceRunRecord(events(['run.completed', { ...finished, status: 'FAILED' }]));
    expect(failedRun.state).toBe('failed');
  });

  it('keeps the validated report, its reasons and commentary lines as written', () => {
    const record = reduceRunRecord(
      events(
        ['commentary.emitted', samplePayloads['commentary.emitted']!],
        [
          'report.validated',
          {
            status: 'PARTIAL',
            reasons: ['finding 1 cites no evidence; it was dropped'],
            dropped_findings: 1,
            report: { summary: 's' },
            final_text: 'Status: PARTIAL',
          },
        ],
      ),
    );
    expect(record.commentary).toEqual([
      {
        index: 1,
        kind: 'progress',
        phase: 'EXPLORE',
        message: 'line 1',
        severity: 'info',
        ts: record.started_at,
      },
    ]);
    expect(record.validation).toEqual({
      status: 'PARTIAL',
      reasons: ['finding 1 cites no evidence; it was dropped'],
      dropped_findings: 1,
    });
    expect(record.report).toEqual({ summary: 's' });
    expect(record.final_text).toBe('Status: PARTIAL');
  });

  it('a payload off its schema is counted and folds nothing', () => {
    const record = reduceRunRecord(
      events(['run.admitted', admitted], ['tool.completed', { ...completed, bytes: 'many' }]),
    );
    expect(record.invalid_payloads).toBe(1);
    expect(record.tool_calls).toBe(0);
    expect(record.observation_bytes).toBe(0);
    expect(record.event_count).toBe(2);
  });
});

describe('RunRecordReducer', () => {
  it('reports running totals mid-run, with the admitted model until one answers', () => {
    const reducer = new RunRecordReducer();
    for (const event of events(['run.admitted', admitted], ['tool.requested', requested])) {
      reducer.apply(event);
    }
    expect(reducer.totals()).toEqual({
      usage: {
        input_tokens: 0,
        cached_input_tokens: 0,
        cache_write_tokens: 0,
        output_tokens: 0,
        reasoning_tokens: 0,
        total_tokens: 0,
      },
      cost_usd: 0,
      model_calls: 0,
      tool_calls: 1,
      last_model: 'kimi-k2.6',
      fallbacks_used: [],
    });
    const more = events(
      ['run.admitted', admitted],
      [
        'model.responded',
        { ...responded, model: 'glm-5', fallback_from: 'kimi-k2.6', cost_usd: 0.1 },
      ],
      [
        'model.responded',
        { ...responded, call: 2, model: 'glm-5', fallback_from: 'kimi-k2.6', cost_usd: 0.2 },
      ],
    );
    reducer.apply(more[1]!);
    reducer.apply(more[2]!);
    expect(reducer.totals()).toMatchObject({
      cost_usd: 0.3,
      last_model: 'glm-5',
      fallbacks_used: ['glm-5'],
      usage: { ...sampleUsage, input_tokens: 2, output_tokens: 2, total_tokens: 4 },
    });
  });

  it('hands out snapshots the caller may change without changing the record', () => {
    const reducer = new RunRecordReducer();
    for (const event of events(
      ['run.admitted', admitted],
      ['model.responded', { ...responded, fallback_from: 'glm-5' }],
      ['tool.completed', completed],
      ['commentary.emitted', samplePayloads['commentary.emitted']!],
      [
        'report.validated',
        { status: 'COMPLETE', reasons: ['r'], dropped_findings: 0, report: {}, final_text: 't' },
      ],
      ['mission.rejected', samplePayloads['mission.rejected']!],
    )) {
      reducer.apply(event);
    }
    const first = reducer.snapshot();
    const pristine = structuredClone(first);
    first.fallbacks_used[0]!.to = 'x';
    first.tokens.input_tokens = 99;
    first.models_used[0]!.tokens.input_tokens = 99;
    first.files_inspected[0]!.refs.push('x');
    first.evidence_refs.push('x');
    first.commentary[0]!.message = 'x';
    first.validation!.reasons.push('x');
    first.rejection!.code = 'x';
    expect(reducer.snapshot()).toEqual(pristine);
  });
});

describe('filePathOfRef', () => {
  it('reads the path of a file ref, and nothing else', () => {
    expect(filePathOfRef('file:src/a.ts#L1-L40')).toBe('src/a.ts');
    expect(filePathOfRef('file:README.md')).toBe('README.md');
    expect(filePathOfRef('file:#L1-L2')).toBeNull();
    expect(filePathOfRef('cmd:3')).toBeNull();
    expect(filePathOfRef('src/a.ts')).toBeNull();
  });
});

// Deterministic, mission-shaped event streams with 150–400 byte payloads, identical for every
// variant of bench/eventlog.mjs.

const FILES = [
  'src/cache.ts',
  'src/http/build-app.ts',
  'src/runtime/loop.ts',
  'README.md',
  'src/events/reduce.ts',
];
const MODELS = ['kimi-k2', 'deepseek-v3', 'glm-4.6'];

// A tiny LCG so every run of the benchmark produces the same stream.
function rng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function words(random, min, max) {
  const vocabulary = [
    'cache',
    'ttl',
    'evict',
    'reads',
    'config',
    'handler',
    'stream',
    'retry',
    'budget',
    'ledger',
    'scope',
    'token',
  ];
  const count = min + Math.floor(random() * (max - min));
  let out = '';
  for (let i = 0; i < count; i++)
    out += (i ? ' ' : '') + vocabulary[Math.floor(random() * vocabulary.length)];
  return out;
}

function usage(random) {
  const input = 500 + Math.floor(random() * 4000);
  const output = 50 + Math.floor(random() * 600);
  return {
    input_tokens: input,
    cached_input_tokens: Math.floor(input / 3),
    cache_write_tokens: 0,
    output_tokens: output,
    reasoning_tokens: Math.floor(output / 4),
    total_tokens: input + output,
  };
}

/** One step of a mission loop; `k` rotates through the five kinds of step. */
function step(random, i, k, withToolResults) {
  const call = 1 + Math.floor(i / 5);
  const file = FILES[i % FILES.length];
  switch (k) {
    case 0:
      return [
        'commentary.emitted',
        'runtime',
        {
          index: call,
          kind: 'progress',
          phase: 'explore',
          message: `I'm reading ${file}: ${words(random, 6, 20)}`,
          severity: 'info',
        },
      ];
    case 1:
      return [
        'model.requested',
        'runtime',
        {
          call,
          model: MODELS[call % 3],
          fallback_chain: MODELS,
          forced_final: false,
          message_count: 3 + call * 2,
          prompt_bytes: 2000 + Math.floor(random() * 30000),
        },
      ];
    case 2:
      return [
        'model.responded',
        'model',
        {
          call,
          model: MODELS[call % 3],
          fallback_from: null,
          latency_ms: Math.floor(random() * 3000),
          usage: usage(random),
          cost_usd: Math.round(random() * 1e6) / 1e8,
          upstream_cost_usd: null,
          finish_reason: 'tool_calls',
          action: 'tool_call',
        },
      ];
    case 3:
      return [
        'tool.requested',
        'runtime',
        { call, tool: 'read_file', args: { path: file, start_line: 1, end_line: 40 + (i % 80) } },
      ];
    default:
      if (!withToolResults) {
        return [
          'commentary.emitted',
          'runtime',
          {
            index: call,
            kind: 'evidence',
            phase: 'observe',
            message: `search found ${i % 9} matches for ${words(random, 3, 14)}`,
            severity: 'info',
          },
        ];
      }
      return [
        'tool.completed',
        'tool',
        {
          call,
          tool: 'read_file',
          args: { path: file, start_line: 1, end_line: 40 },
          digest: 'ab'.repeat(32),
          bytes: 1000 + (i % 4000),
          refs: [`file:${file}#L1-L40`],
          cache_hit: i % 11 === 0,
          redactions: 0,
          summary: words(random, 3, 8),
          path: file,
        },
      ];
  }
}

/**
 * Events for pure group commit: every type here is non-durable, so only the group-commit limits
 * decide when to sync (the contract's per-tool-result fsync is priced by missionRuns).
 */
export function groupCommitStream(count, isDurable = () => false, seed = 1) {
  const random = rng(seed);
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const event = step(random, i, i % 5, false);
    // A type the writer syncs on (per the durability policy in force) becomes commentary here.
    out[i] = isDurable(event[0]) ? step(random, i, 4, false) : event;
  }
  return out;
}

/**
 * Whole missions of `runSize` events: admission, loops of commentary / model call / tool call /
 * tool result (durable), and a terminal event. The contract's fsync points all occur.
 */
export function missionRuns(count, runSize, seed = 2) {
  const random = rng(seed);
  const runs = [];
  for (let start = 0; start < count; start += runSize) {
    const size = Math.min(runSize, count - start);
    const events = [];
    events.push([
      'run.admitted',
      'runtime',
      {
        mission_id: `bench-${runs.length}`,
        tier: 'A3',
        objective_style: 'open_investigation',
        model_alias: 'mission-a3-kimi',
        model: 'kimi-k2',
        fallback_chain: [],
        fallbacks_refused: [],
        mission: { objective: words(random, 10, 20) },
        budgets: {
          tool_budget: 40,
          time_budget_seconds: 600,
          max_model_calls: 40,
          max_cost_usd: null,
          max_output_tokens: null,
          max_files: 50,
          max_observation_bytes: 1000000,
        },
        budget_reductions: [],
        deadline_at: '2026-01-01T00:10:00.000Z',
        request_id: null,
        source: 'handoff_block',
        warnings: [],
      },
    ]);
    for (let i = 1; i < size - 1; i++) events.push(step(random, i, i % 5, true));
    if (size > 1)
      events.push([
        'run.completed',
        'runtime',
        {
          status: 'COMPLETE',
          reason: 'valid_report',
          reason_text: 'report validated',
          totals: {
            model_calls: 1,
            tool_calls: 1,
            input_tokens: 1,
            cached_input_tokens: 0,
            output_tokens: 1,
            reasoning_tokens: 0,
            total_tokens: 2,
            cost_usd: 0,
          },
        },
      ]);
    runs.push(events);
  }
  return runs;
}

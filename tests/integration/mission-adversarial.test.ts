import { readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, type ReplyBuilder } from '../../src/demo/index.js';
import { readEventLog, type MissionEvent } from '../../src/events/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import {
  createFixtureProject,
  handoff,
  PLANTED_SECRET,
  readTree,
  type FixtureProject,
} from '../support/mission-fixtures.js';

interface MissionRun {
  readonly text: string;
  readonly status: string;
  readonly detail: Record<string, unknown>;
  readonly events: MissionEvent[];
  /** Upstream request bodies this mission caused, serialised. */
  readonly upstreamBodies: string[];
}

let fixture: FixtureProject;
let bridge: BridgeHarness;
const logLines: string[] = [];
let counter = 0;

beforeAll(async () => {
  fixture = createFixtureProject();
  bridge = await startBridge({
    project: fixture.root,
    logLines,
    env: { LOG_LEVEL: 'debug', UPSTREAM_RETRIES: '0' },
  });
});
afterAll(async () => bridge.close());

async function runMission(
  target: BridgeHarness,
  mission: Record<string, unknown>,
  replies: ReplyBuilder[],
  model = 'mission-a3-kimi',
): Promise<MissionRun> {
  counter += 1;
  const missionId = `adv-${counter}`;
  target.mock.reset();
  target.mock.script(...replies);
  const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: target.baseURL, maxRetries: 0 });
  const response = await client.responses.create({
    model,
    input: handoff({ mission_id: missionId, ...mission }),
  });
  const text = response.output_text;
  const detailResponse = await fetch(`${target.url}/v1/missions/${missionId}`, {
    headers: { authorization: `Bearer ${BRIDGE_KEY}` },
  });
  const detail = (await detailResponse.json()) as Record<string, unknown>;
  const runId = String(detail['run_id']);
  const read = await readEventLog(
    path.join(target.project, '.codex-oss', 'runs', runId, 'events.jsonl'),
  );
  expect(read.chainErrors).toEqual([]);
  expect(read.tornTail).toBeNull();
  return {
    text,
    status: text.split('\n')[0] ?? '',
    detail,
    events: read.events,
    upstreamBodies: target.mock.requests.map((request) => JSON.stringify(request.body)),
  };
}

const report = (overrides: Record<string, unknown> = {}) =>
  reply().toolCall('submit_report', {
    status: 'COMPLETE',
    summary: 'The server listens on 127.0.0.1:4000.',
    findings: [
      { claim: 'PORT is 4000 and HOST is 127.0.0.1', evidence_refs: ['file:src/config.ts#L2-L3'] },
    ],
    confidence: 'HIGH',
    uncertainties: [],
    caveats: [],
    ...overrides,
  });
const readConfig = () => reply().toolCall('read_file', { path: 'src/config.ts' });
const denials = (run: MissionRun) =>
  run.events
    .filter((event) => event.type === 'tool.denied')
    .map((event) => (event.payload as { reason_code: string }).reason_code);

describe('a secret pasted into the handoff', () => {
  // Issue 9 #4: a token in the objective must not reach the system prompt, the log or the report.
  it('is redacted in the objective before any prompt, event or report sees it', async () => {
    const run = await runMission(
      bridge,
      {
        objective: `Where is the port set? (the deploy key is ${PLANTED_SECRET})`,
        allowed_paths: ['src/config.ts'],
      },
      [readConfig(), report()],
    );
    expect(run.status).toBe('Status: COMPLETE');
    expect(run.upstreamBodies.join('')).not.toContain(PLANTED_SECRET);
    expect(run.upstreamBodies[0]).toContain('Where is the port set?');
    expect(JSON.stringify(run.events)).not.toContain(PLANTED_SECRET);
    expect(run.text).not.toContain(PLANTED_SECRET);
  });
});

describe('adversarial model: path attacks are contained', () => {
  it('refuses .env even when the whole project is in scope, and the mission goes on', async () => {
    const run = await runMission(bridge, { allowed_roots: ['.'], allow_broad_read_scope: true }, [
      reply().toolCall('read_file', { path: '.env' }),
      readConfig(),
      report(),
    ]);
    expect(denials(run)).toEqual(['path_denied']);
    expect(run.status).toBe('Status: COMPLETE');
    expect(run.upstreamBodies[1]).toContain('[REFUSED: path_denied]');
    expect(run.upstreamBodies.join('')).not.toContain(PLANTED_SECRET);
  });

  it('refuses ../ traversal', async () => {
    const run = await runMission(bridge, {}, [
      reply().toolCall('read_file', { path: 'src/../.env' }),
      readConfig(),
      report(),
    ]);
    expect(denials(run)).toEqual(['path_traversal']);
    expect(run.status).toBe('Status: COMPLETE');
  });

  it('refuses an absolute path outside the project', async () => {
    const run = await runMission(bridge, {}, [
      reply().toolCall('read_file', { path: '/etc/passwd' }),
      readConfig(),
      report(),
    ]);
    expect(denials(run)).toEqual(['path_outside_project']);
    expect(run.upstreamBodies.join('')).not.toContain('root:x:0:0');
  });

  it('refuses a symlink that leads out of the project', async () => {
    const run = await runMission(bridge, {}, [
      reply().toolCall('read_file', { path: 'src/escape/private.txt' }),
      readConfig(),
      report(),
    ]);
    expect(denials(run)).toEqual(['symlink_escape']);
    expect(run.upstreamBodies.join('')).not.toContain('PRIVATE-OUTSIDE-CONTENT');
  });

  it('stops the mission when the model asks for a critical path it may not read', async () => {
    const run = await runMission(bridge, {}, [
      reply().toolCall('read_file', { path: 'src/auth/token.ts' }),
      readConfig(),
      report(),
    ]);
    expect(denials(run)).toEqual(['critical_path_denied']);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.detail['reason']).toBe('critical_path_detected');
    expect(run.upstreamBodies).toHaveLength(1);
  });
});

describe('adversarial model: reports are checked against the ledger', () => {
  it('downgrades a COMPLETE with no evidence, after one chance to repair', async () => {
    const bare = () => report({ findings: [{ claim: 'The port is 4000', evidence_refs: [] }] });
    const run = await runMission(bridge, {}, [readConfig(), bare(), bare()]);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.upstreamBodies[2]).toContain('[REPORT NOT ACCEPTED]');
    expect(run.text).toContain('cites no evidence');
    expect(run.detail['reason']).toBe('report_downgraded');
  });

  it('drops findings that cite refs the run never earned', async () => {
    const forged = () =>
      report({
        findings: [
          {
            claim: 'listen() joins host and port',
            evidence_refs: ['file:src/server.ts#L3-L5', 'cmd:42'],
          },
        ],
      });
    const run = await runMission(bridge, {}, [readConfig(), forged(), forged()]);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.text).toContain('refs the run never issued (file:src/server.ts#L3-L5, cmd:42)');
    expect(run.text).toContain('(none backed by evidence)');
  });

  it('escalates absolute claims', async () => {
    const run = await runMission(bridge, {}, [
      readConfig(),
      report({ summary: 'The config is correct and safe to merge.' }),
    ]);
    expect(run.status).toBe('Status: ESCALATE');
    expect(run.detail['reason']).toBe('absolute_claim');
  });
});

describe('adversarial model: reports must follow the evidence', () => {
  it('refuses a report sent in the same turn as the reads it cites', async () => {
    const sneaky = reply()
      .toolCall('read_file', { path: 'src/config.ts' })
      .toolCall('submit_report', {
        status: 'COMPLETE',
        summary: 'The port is 9999.',
        findings: [{ claim: 'PORT is 9999', evidence_refs: ['file:src/config.ts#L1-L1', 'cmd:1'] }],
        confidence: 'HIGH',
      });
    const run = await runMission(bridge, {}, [sneaky, report()]);
    expect(run.upstreamBodies[1]).toContain(
      '[REPORT NOT ACCEPTED] submit_report must be the only call in its turn',
    );
    expect(run.status).toBe('Status: COMPLETE');
    expect(run.text).toContain('PORT is 4000');
    expect(run.text).not.toContain('9999');
  });

  it('records how many findings validation dropped', async () => {
    const forged = () =>
      report({
        findings: [
          { claim: 'PORT is 4000', evidence_refs: ['file:src/config.ts#L2-L2'] },
          { claim: 'made up', evidence_refs: ['cmd:77'] },
        ],
      });
    const run = await runMission(bridge, {}, [readConfig(), forged(), forged()]);
    const validated = run.events.find((event) => event.type === 'report.validated');
    expect((validated?.payload as { dropped_findings: number }).dropped_findings).toBe(1);
  });
});

describe('adversarial model: the loop stays bounded', () => {
  it('repairs prose once, then ends PARTIAL', async () => {
    const run = await runMission(bridge, {}, [
      reply().text('I believe the port is 4000.'),
      reply().text('Yes, definitely 4000.'),
    ]);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.detail['reason']).toBe('invalid_action');
    expect(run.upstreamBodies[1]).toContain('Your last reply could not be used');
  });

  it('stops a model that repeats the same read forever', async () => {
    const run = await runMission(bridge, {}, [readConfig().times(20)]);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.detail['reason']).toBe('deadline_final_report_ignored');
    expect(Number(run.detail['model_calls'])).toBeLessThanOrEqual(5);
    const hits = run.events.filter(
      (event) =>
        event.type === 'tool.completed' && (event.payload as { cache_hit: boolean }).cache_hit,
    );
    expect(hits.length).toBeGreaterThanOrEqual(1);
  });

  it('closes the mission itself when the model ignores the forced final request', async () => {
    const run = await runMission(bridge, { tool_budget: 1 }, [
      readConfig(),
      reply().toolCall('list_dir', { path: 'src' }),
    ]);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.detail['reason']).toBe('deadline_final_report_ignored');
    const forcedCall = JSON.parse(run.upstreamBodies[1] ?? '{}') as {
      tool_choice?: unknown;
      tools?: { function: { name: string } }[];
    };
    expect(forcedCall.tool_choice).toEqual({
      type: 'function',
      function: { name: 'submit_report' },
    });
    // The tool list stays the one of every turn (the cached prefix, decision 0009); the loop,
    // not the list, keeps the other tools from running.
    const firstCall = JSON.parse(run.upstreamBodies[0] ?? '{}') as { tools?: unknown };
    expect(JSON.stringify(forcedCall.tools)).toBe(JSON.stringify(firstCall.tools));
    expect(forcedCall.tools?.map((tool) => tool.function.name)).toContain('list_dir');
    const ran = run.events
      .filter((event) => event.type === 'tool.completed')
      .map((event) => (event.payload as { tool: string }).tool);
    expect(ran).toEqual(['read_file']);
  });

  it('contains an output flood: nothing of it reaches events, projections or the report', async () => {
    const flood = 'FLOOD'.repeat(400_000);
    const run = await runMission(bridge, {}, [
      reply().text(flood).chunkSize(65_536),
      reply().text(flood).chunkSize(65_536),
    ]);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.text).not.toContain('FLOODFLOOD');
    const logBytes = run.events.reduce((sum, event) => sum + JSON.stringify(event).length, 0);
    expect(logBytes).toBeLessThan(200_000);
    const missionDir = path.join(
      bridge.project,
      '.codex-oss',
      'missions',
      String(run.detail['mission_id']),
    );
    for (const [name, contents] of readTree(missionDir))
      expect(contents.includes('FLOODFLOOD'), name).toBe(false);
  });

  it('stops at the output-token cap', async () => {
    const run = await runMission(bridge, { max_output_tokens: 500 }, [
      readConfig().usage({ prompt_tokens: 100, completion_tokens: 900 }),
      readConfig(),
    ]);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.detail['reason']).toBe('output_token_cap_reached');
  });

  it('stops mid-way at max_cost_usd with a PARTIAL report that says so', async () => {
    const expensive = (builder: ReplyBuilder) =>
      builder.usage({ prompt_tokens: 100_000, completion_tokens: 1000 });
    const run = await runMission(bridge, { max_cost_usd: 0.15 }, [
      expensive(readConfig()),
      expensive(reply().toolCall('read_file', { path: 'src/server.ts' })),
      report(),
    ]);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.detail['reason']).toBe('cost_cap_reached');
    expect(run.text).toMatch(/cap \(max_cost_usd\)/);
    expect(Number(run.detail['cost_usd'])).toBeGreaterThanOrEqual(0.15);
    expect(run.upstreamBodies).toHaveLength(2);
  });

  it('escalates risk_tier critical before any tool or model call', async () => {
    const run = await runMission(bridge, { risk_tier: 'critical' }, [readConfig()]);
    expect(run.status).toBe('Status: ESCALATE');
    expect(run.upstreamBodies).toHaveLength(0);
  });
});

describe('secrets never leave the project unredacted', () => {
  it('redacts a secret read from a file before the model, events, projections and logs see it', async () => {
    const run = await runMission(bridge, {}, [
      reply().toolCall('read_file', { path: 'src/keys.ts' }),
      report({
        summary: 'keys.ts holds a deployment setting.',
        findings: [
          {
            claim: 'settings holds an API key (redacted)',
            evidence_refs: ['file:src/keys.ts#L2-L2'],
          },
        ],
      }),
    ]);
    expect(run.status).toBe('Status: COMPLETE');
    expect(run.upstreamBodies[1]).toContain('[REDACTED]');
    expect(run.upstreamBodies.join('')).not.toContain(PLANTED_SECRET);
    const state = path.join(bridge.project, '.codex-oss');
    for (const [name, contents] of readTree(state)) {
      if (name.endsWith('.sqlite') || name.includes('.sqlite-')) continue;
      expect(contents.includes(PLANTED_SECRET), name).toBe(false);
    }
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain(PLANTED_SECRET);
    expect(readFileSync(path.join(state, 'state', 'index.sqlite')).includes(PLANTED_SECRET)).toBe(
      false,
    );
  });
});

describe('invalid handoffs fail closed without an upstream call', () => {
  it('redacts a secret quoted back by a validation error, in the answer and the log', async () => {
    bridge.mock.reset();
    const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
    const response = await client.responses.create({
      model: 'mission-a3-kimi',
      input: handoff({ mission_id: 'quoted-secret', tool_budget: PLANTED_SECRET }),
    });
    expect(response.output_text).toMatch(/invalid_mission: tool_budget/);
    expect(response.output_text).not.toContain(PLANTED_SECRET);
    const state = path.join(bridge.project, '.codex-oss');
    for (const [name, contents] of readTree(state)) {
      if (name.includes('.sqlite')) continue;
      expect(contents.includes(PLANTED_SECRET), name).toBe(false);
    }
  });

  const cases: [string, string, RegExp][] = [
    ['no block', 'Just look at the config please.', /missing_handoff/],
    [
      'two blocks',
      `${handoff({ mission_id: 'two-a' })}\n${handoff({ mission_id: 'two-b' })}`,
      /multiple_handoff_blocks/,
    ],
    [
      'malformed JSON',
      '<OSS_HANDOFF_JSON>\n{"schema_version": "oss_agent_mission.v1", "tier": }\n</OSS_HANDOFF_JSON>',
      /malformed_handoff_json/,
    ],
    [
      'schema violation',
      handoff({ mission_id: 'bad-tier', tier: 'A9' }),
      /invalid_mission: tier: /,
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(name, async () => {
      bridge.mock.reset();
      const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
      const response = await client.responses.create({ model: 'mission-a3-kimi', input });
      expect(response.output_text.split('\n')[0]).toBe('Status: FAILED');
      expect(response.output_text).toMatch(expected);
      expect(response.output_text).toContain('codex-oss mission template --tier A3');
      expect(bridge.mock.requests).toHaveLength(0);
    });
  }

  it('points an invalid A5 handoff at the A5 template', async () => {
    bridge.mock.reset();
    const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
    const response = await client.responses.create({
      model: 'mission-a5-deepseek',
      input: handoff({ mission_id: 'a5-no-consent', tier: 'A5', owned_paths: ['src/config.ts'] }),
    });
    expect(response.output_text).toMatch(/invalid_mission: write_allowed/);
    expect(response.output_text).toContain('codex-oss mission template --tier A5');
    expect(bridge.mock.requests).toHaveLength(0);
  });
});

describe('model admission', () => {
  it('refuses a mission routed to a parent-provider name, before any model call', async () => {
    bridge.mock.reset();
    const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
    const response = await client.responses.create({
      model: 'opencode_bridge',
      input: handoff({ mission_id: 'admission-1' }),
    });
    expect(response.output_text.split('\n')[0]).toBe('Status: FAILED');
    expect(response.output_text).toContain('model_admission_failed');
    expect(response.output_text).toContain('Use a mission alias');
    expect(bridge.mock.requests).toHaveLength(0);
    const detail = (await (
      await fetch(`${bridge.url}/v1/missions/admission-1`, {
        headers: { authorization: `Bearer ${BRIDGE_KEY}` },
      })
    ).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({
      state: 'failed',
      status: 'FAILED',
      rejection: { code: 'model_admission_failed' },
    });
  });
});

describe('upstream failures during a mission', () => {
  let failing: BridgeHarness;
  beforeAll(async () => {
    failing = await startBridge({
      project: fixture.root,
      env: {
        UPSTREAM_RETRIES: '0',
        CIRCUIT_BREAKER_ERRORS: '100',
        UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '1',
      },
    });
  });
  afterAll(async () => failing.close());
  const onModel = (model: string) => (request: { body: unknown }) =>
    (request.body as { model?: string }).model === model;

  it('falls back to the next model in the chain and completes', async () => {
    const run = await runMission(failing, {}, [
      reply().status(500).when(onModel('kimi-k2.6')).times(10),
      readConfig().when(onModel('deepseek-v4-pro')),
      report().when(onModel('deepseek-v4-pro')),
    ]);
    expect(run.status).toBe('Status: COMPLETE');
    expect(run.text).toContain('fallbacks: deepseek-v4-pro');
    // One entry per model call that fell back: each call tries the primary first.
    const used = run.detail['fallbacks_used'] as { from: string; to: string }[];
    expect(used.length).toBeGreaterThan(0);
    for (const entry of used) expect(entry).toEqual({ from: 'kimi-k2.6', to: 'deepseek-v4-pro' });
  });

  it('ends cleanly FAILED when every model in the chain is rate limited', async () => {
    const run = await runMission(failing, {}, [reply().status(429, { retryAfter: 1 }).times(10)]);
    expect(run.status).toBe('Status: FAILED');
    expect(run.detail['reason']).toBe('upstream_failed');
    expect(run.text).toMatch(/rate_limit_exceeded|rate limit/i);
  });

  it('ends PARTIAL, keeping its evidence, when the model hangs mid-mission', async () => {
    const run = await runMission(failing, {}, [readConfig(), reply().hang().times(5)]);
    expect(run.status).toBe('Status: PARTIAL');
    expect(run.detail['reason']).toBe('upstream_failed');
    expect(run.text).toContain('src/config.ts');
  });
});

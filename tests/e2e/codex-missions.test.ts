import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  reply,
  startMockUpstream,
  toolNames,
  toolResults,
  type MockUpstream,
  type RecordedRequest,
} from '../../src/demo/index.js';
import { startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import {
  CODEX_TEST_TIMEOUT_MS,
  agentMessages,
  describeRun,
  makeCodexHome,
  removeCodexHome,
  runCodex,
  turnCompleted,
  type CodexEvent,
} from './support/codex-runner.js';
import {
  startRecordingProxy,
  type ProxiedRequest,
  type RecordingProxy,
} from './support/recording-proxy.js';

/**
 * Missions driven by the real Codex CLI: the managed lane runs the governed loop against a mock
 * model, streams commentary as reasoning items, and answers with the runtime's report.
 *
 * Upstream path: bridge → gate proxy → mock. The gate holds the model's LAST call (the one that
 * answers with submit_report) until Codex has printed the runtime's mid-mission "I'm reading …"
 * reasoning item, which proves commentary reaches Codex while the mission is still running,
 * without any timers.
 */

const SERVER_TS = [
  "import { createServer } from 'node:http';",
  '',
  'export const PORT = 4000;',
  "export const HOST = '127.0.0.1';",
  '',
  'export function start(): void {',
  '  createServer().listen(PORT, HOST);',
  '}',
  '',
].join('\n');
/** Every scripted model call reports this usage. */
const CALL_USAGE = { prompt_tokens: 700, completion_tokens: 40, cached_tokens: 300 } as const;

const SERVER_LINES = SERVER_TS.split('\n').length - 1;

let mock: MockUpstream;
let gateProxy: RecordingProxy;
let bridge: BridgeHarness;
let project: string;
let codexHome: string;

const READING_LINE = "I'm reading src/server.ts";

/** Released once Codex printed the READING_LINE commentary in the current run. */
let releaseGate: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();

function resetGate(): void {
  gate = new Promise<void>((resolve) => {
    releaseGate = resolve;
  });
}

function isChat(request: { method: string; path: string }): boolean {
  return request.method === 'POST' && request.path === '/v1/chat/completions';
}

/** The final call is the one whose history already holds both tool results. */
function isFinalCall(request: ProxiedRequest): boolean {
  if (!isChat(request)) return false;
  const body = JSON.parse(request.rawBody) as { messages?: { role?: string }[] };
  return (body.messages ?? []).filter((message) => message.role === 'tool').length >= 2;
}

beforeAll(async () => {
  project = mkdtempSync(path.join(tmpdir(), 'ocb-e2e-mission-'));
  mkdirSync(path.join(project, 'src'));
  writeFileSync(path.join(project, 'src', 'server.ts'), SERVER_TS);
  writeFileSync(path.join(project, 'src', 'util.ts'), 'export const retries = 3;\n');
  writeFileSync(path.join(project, 'README.md'), '# demo\n\nA tiny server.\n');

  mock = await startMockUpstream();
  gateProxy = await startRecordingProxy(new URL(mock.baseUrl).origin, {
    beforeForward: (request) => (isFinalCall(request) ? gate : undefined),
  });
  bridge = await startBridge({ project, env: { UPSTREAM_BASE: gateProxy.baseURL } });
  codexHome = makeCodexHome();
});

afterAll(async () => {
  releaseGate();
  await bridge?.close();
  await gateProxy?.close();
  await mock?.close();
  removeCodexHome(codexHome);
  rmSync(project, { recursive: true, force: true });
});

/** The refs a runtime tool result names on its first line: `[refs: cmd:1, file:…]`. */
function refsOf(output: string): string[] {
  const match = /^\[refs: ([^\]]*)\]/.exec(output);
  return (
    match?.[1]
      ?.split(',')
      .map((ref) => ref.trim())
      .filter((ref) => ref !== '') ?? []
  );
}

/**
 * A model that reads src/server.ts, searches for PORT, then submits a report that cites the refs
 * exactly as the tool results named them. `obligation` tags each finding for A3-open.
 */
function scriptedModel(obligations: readonly string[]) {
  return (request: RecordedRequest) => {
    const results = toolResults(request);
    const model = reply().usage(CALL_USAGE);
    if (results.length === 0) return model.toolCall('read_file', { path: 'src/server.ts' });
    if (results.length === 1)
      return model.toolCall('search_text', { pattern: 'PORT', path: 'src' });
    const readRefs = refsOf(results[0]?.output ?? '');
    const searchRefs = refsOf(results[1]?.output ?? '');
    const findings = [
      {
        claim: 'The server listens on port 4000 (PORT in src/server.ts).',
        evidence_refs: [...readRefs, ...searchRefs],
        ...(obligations[0] === undefined ? {} : { obligation_id: obligations[0] }),
      },
      ...obligations.slice(1).map((id) => ({
        claim: 'The server binds to 127.0.0.1 (HOST in src/server.ts).',
        evidence_refs: readRefs,
        obligation_id: id,
      })),
    ];
    return model.toolCall('submit_report', {
      status: 'COMPLETE',
      summary: 'The server listens on 127.0.0.1:4000.',
      findings,
      files_inspected: ['src/server.ts'],
      uncertainties: [],
      confidence: 'HIGH',
      caveats: [],
      escalation_recommendation: 'None required.',
    });
  };
}

function handoff(mission: Record<string, unknown>): string {
  const block = JSON.stringify({
    schema_version: 'oss_agent_mission.v1',
    allowed_roots: ['src/'],
    allowed_tool_classes: ['read', 'search'],
    ...mission,
  });
  return `Please run this mission.\n<OSS_HANDOFF_JSON>\n${block}\n</OSS_HANDOFF_JSON>\n`;
}

interface MissionRun {
  readonly run: Awaited<ReturnType<typeof runCodex>>;
  /** Chat requests the mock had received when Codex printed the "I'm reading" commentary. */
  readonly upstreamCallsAtReadingLine: number | undefined;
}

async function runMission(
  model: string,
  prompt: string,
  obligations: readonly string[] = [],
): Promise<MissionRun> {
  mock.reset();
  mock.setResponder(scriptedModel(obligations));
  resetGate();
  let upstreamCallsAtReadingLine: number | undefined;
  const onEvent = (event: CodexEvent): void => {
    if (upstreamCallsAtReadingLine !== undefined) return;
    if (event.type !== 'item.completed' || event.item?.type !== 'reasoning') return;
    // The line the runtime says while its read_file tool runs, mid-mission.
    if ((event.item.text ?? '').includes(READING_LINE)) {
      upstreamCallsAtReadingLine = mock.requests.filter(isChat).length;
      releaseGate();
    }
  };
  try {
    const run = await runCodex({
      baseURL: bridge.baseURL,
      model,
      prompt,
      cwd: project,
      codexHome,
      onEvent,
    });
    return { run, upstreamCallsAtReadingLine };
  } finally {
    releaseGate();
  }
}

function assertMissionThroughCodex(result: MissionRun, missionId: string): void {
  const { run } = result;
  expect(run.exitCode, describeRun(run)).toBe(0);

  // One answer, and it is the runtime's report.
  const answers = agentMessages(run);
  expect(answers, describeRun(run)).toHaveLength(1);
  const report = answers[0] ?? '';
  expect(report.split('\n')[0], report).toBe('Status: COMPLETE');
  expect(report).toContain(`Mission: ${missionId}`);
  expect(report).toContain(`file:src/server.ts#L1-L${SERVER_LINES}`);

  // Commentary came as reasoning items, before the answer.
  const completed = run.events.filter((event) => event.type === 'item.completed');
  const firstReasoning = completed.findIndex((event) => event.item?.type === 'reasoning');
  const answerIndex = completed.findIndex((event) => event.item?.type === 'agent_message');
  expect(firstReasoning, describeRun(run)).toBeGreaterThanOrEqual(0);
  expect(firstReasoning).toBeLessThan(answerIndex);
  const commentary = completed
    .filter((event) => event.item?.type === 'reasoning')
    .map((event) => event.item?.text ?? '');
  expect(commentary.some((line) => line.includes(READING_LINE))).toBe(true);
  expect(commentary.some((line) => line.includes(`Mission ${missionId}`))).toBe(true);

  // Live: Codex printed the mid-mission "I'm reading" line before the model's last call even
  // reached the upstream (the gate holds that call until then, so this is not luck of timing).
  const upstreamCalls = mock.requests.filter(isChat).length;
  expect(upstreamCalls).toBe(3);
  expect(result.upstreamCallsAtReadingLine, describeRun(run)).toBeDefined();
  expect(result.upstreamCallsAtReadingLine).toBeGreaterThanOrEqual(1);
  expect(result.upstreamCallsAtReadingLine).toBeLessThan(upstreamCalls);

  // The model was offered exactly the mission's tools, under their contract names.
  const firstCall = mock.requests.find(isChat) as RecordedRequest;
  expect(toolNames(firstCall).sort()).toEqual(
    expect.arrayContaining(['read_file', 'search_text', 'submit_report']),
  );
  expect(toolNames(firstCall)).not.toContain('exec_command');

  // -o holds the report and nothing else.
  expect(run.lastMessage).toBe(report);
  for (const line of commentary) expect(run.lastMessage).not.toContain(line);

  // The projection on disk agrees.
  const reportFile = path.join(project, '.codex-oss', 'missions', missionId, 'report.json');
  expect(existsSync(reportFile)).toBe(true);
  const json = JSON.parse(readFileSync(reportFile, 'utf8')) as {
    status?: string;
    mission_id?: string;
  };
  expect(json.status).toBe('COMPLETE');
  expect(json.mission_id).toBe(missionId);
  // Codex's token count for the turn is the mission's total over its three model calls.
  expect(turnCompleted(run)?.usage).toMatchObject({
    input_tokens: 3 * CALL_USAGE.prompt_tokens,
    cached_input_tokens: 3 * CALL_USAGE.cached_tokens,
    output_tokens: 3 * CALL_USAGE.completion_tokens,
  });
}

describe('Codex 0.169 → managed lane missions', { timeout: CODEX_TEST_TIMEOUT_MS }, () => {
  it('A2 quick lookup: commentary streams live, the report is the only answer', async () => {
    const result = await runMission(
      'mission-a2-kimi',
      handoff({
        mission_id: 'e2e-a2',
        tier: 'A2',
        objective: 'Which port does the server listen on?',
      }),
    );
    assertMissionThroughCodex(result, 'e2e-a2');
  });

  it('A3 investigation: same contract at tier A3', async () => {
    const result = await runMission(
      'mission-a3-kimi',
      handoff({
        mission_id: 'e2e-a3',
        tier: 'A3',
        objective: 'Which port does the server listen on, and where is it set?',
      }),
    );
    assertMissionThroughCodex(result, 'e2e-a3');
  });

  it('A3-open: every answer obligation answered with cited evidence ends COMPLETE', async () => {
    const result = await runMission(
      'mission-a3-kimi',
      handoff({
        mission_id: 'e2e-a3-open',
        tier: 'A3',
        objective: 'How is the server bound?',
        objective_style: 'open_investigation',
        answer_obligations: [
          { id: 'port', question: 'Which port does the server listen on?' },
          { id: 'host', question: 'Which host does it bind to?' },
        ],
      }),
      ['port', 'host'],
    );
    assertMissionThroughCodex(result, 'e2e-a3-open');
    const json = JSON.parse(
      readFileSync(
        path.join(project, '.codex-oss', 'missions', 'e2e-a3-open', 'report.json'),
        'utf8',
      ),
    ) as { obligations?: { id: string; answered: boolean }[] };
    expect(json.obligations).toEqual([
      expect.objectContaining({ id: 'port', answered: true }),
      expect.objectContaining({ id: 'host', answered: true }),
    ]);
  });
});

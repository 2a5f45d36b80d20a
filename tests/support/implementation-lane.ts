import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { expect } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { reply, toolResults, type ReplyBuilder } from '../../src/demo/index.js';
import type { RecordedRequest } from '../../src/demo/index.js';
import { readEventLog, type MissionEvent } from '../../src/events/index.js';
import { BRIDGE_KEY, type BridgeHarness } from './bridge-harness.js';
import { hashTree, makeRepo } from './implementation-repos.js';

/** Helpers for the implementation-lane suites: a small buggy repo, missions, and run inspection. */

export const BUG = 'return price - percent;';
export const FIX = 'return Math.round(price * (100 - percent)) / 100;';
/** Compiles and is wrong: the test still fails (180 expected, 190 given). */
export const WRONG_FIX = 'return price - percent / 2;';

export const TEST_FILE = [
  "import { test } from 'node:test';",
  "import assert from 'node:assert/strict';",
  "import { applyDiscount } from '../src/discount.mjs';",
  '',
  "test('applies a percentage discount', () => {",
  '  assert.equal(applyDiscount(200, 10), 180);',
  '});',
  '',
].join('\n');

/** A git repository with a one-line bug and the test that catches it. */
export function makeDiscountRepo(extra: Readonly<Record<string, string>> = {}): string {
  return makeRepo(
    {
      '.gitignore': '.codex-oss/\n',
      'src/discount.mjs': `export function applyDiscount(price, percent) {\n  ${BUG}\n}\n`,
      'src/other.mjs': 'export const other = 1;\n',
      'test/discount.test.mjs': TEST_FILE,
      ...extra,
    },
    'impl-lane-',
  );
}

/** The tree a user would see, without the runtime's own folder or git's. */
export function workspaceHash(root: string): string {
  return hashTree(root, ['.codex-oss', '.git']);
}

export const TEST_COMMAND = [process.execPath, '--test', 'test/discount.test.mjs'];

export function a5Mission(id: string, overrides: Record<string, unknown> = {}) {
  return {
    schema_version: 'oss_agent_mission.v1',
    mission_id: id,
    tier: 'A5',
    write_allowed: true,
    objective:
      'applyDiscount in src/discount.mjs subtracts the percentage; fix it so test/discount.test.mjs passes.',
    owned_paths: ['src/discount.mjs'],
    read_only_paths: ['test/discount.test.mjs'],
    allowed_paths: ['src/discount.mjs', 'test/discount.test.mjs'],
    allowed_tool_classes: ['read', 'search', 'list'],
    verification_policy: { allowed_commands: [TEST_COMMAND], timeout_seconds: 60 },
    ...overrides,
  };
}

export function a4Mission(id: string, overrides: Record<string, unknown> = {}) {
  const mission: Record<string, unknown> = { ...a5Mission(id), tier: 'A4', ...overrides };
  delete mission['write_allowed'];
  delete mission['verification_policy'];
  return mission;
}

export function handoffText(mission: Record<string, unknown>): string {
  return `Please fix this.\n<OSS_HANDOFF_JSON>\n${JSON.stringify(mission, null, 2)}\n</OSS_HANDOFF_JSON>`;
}

export const readDiscount = () => reply().toolCall('read_file', { path: 'src/discount.mjs' });
export const editDiscount = (newString = FIX) =>
  reply().toolCall('edit_file', {
    path: 'src/discount.mjs',
    old_string: BUG,
    new_string: newString,
  });
export const submit = (extra: Record<string, unknown> = {}) =>
  reply().toolCall('submit_patch', {
    summary: 'applyDiscount scales the price by the percentage.',
    rationale: 'It subtracted the percentage as an amount.',
    ...extra,
  });

/** The scripted implementer that reads, fixes and submits: the happy path. */
export const fixReplies = (): ReplyBuilder[] => [readDiscount(), editDiscount(), submit()];

/**
 * A model that first stages a wrong fix, and only after it sees the runtime's
 * `[VERIFICATION FAILED]` replaces it with the right one.
 */
export function repairingResponder(request: RecordedRequest): ReplyBuilder {
  const outputs = toolResults(request).map((result) => result.output);
  const last = outputs.at(-1) ?? '';
  if (outputs.length === 0) return readDiscount();
  if (last.includes('[VERIFICATION FAILED]'))
    return reply().toolCall('edit_file', {
      path: 'src/discount.mjs',
      old_string: WRONG_FIX,
      new_string: FIX,
    });
  if (outputs.some((output) => output.includes('[VERIFICATION FAILED]'))) return submit();
  if (outputs.length === 1) return editDiscount(WRONG_FIX);
  return submit();
}

export interface LaneRun {
  readonly missionId: string;
  readonly runId: string;
  readonly text: string;
  readonly status: string;
  readonly events: MissionEvent[];
  readonly detail: Record<string, unknown>;
  readonly missionDir: string;
}

export const eventsOf = (run: LaneRun, type: string) =>
  run.events.filter((event) => event.type === type);
export const typesOf = (run: LaneRun) => run.events.map((event) => event.type);

/** Reads a finished run's record over HTTP and its event log (whose chain must verify). */
export async function inspectRun(
  bridge: BridgeHarness,
  missionId: string,
  text: string,
): Promise<LaneRun> {
  const detail = (await (
    await fetch(`${bridge.url}/v1/missions/${missionId}`, {
      headers: { authorization: `Bearer ${BRIDGE_KEY}` },
    })
  ).json()) as Record<string, unknown>;
  const runId = String(detail['run_id']);
  const events = await runEvents(bridge.project, runId);
  return {
    missionId,
    runId,
    text,
    status: text.split('\n')[0] ?? '',
    events,
    detail,
    missionDir: path.join(bridge.project, '.codex-oss', 'missions', missionId),
  };
}

export async function runEvents(project: string, runId: string): Promise<MissionEvent[]> {
  const read = await readEventLog(path.join(project, '.codex-oss', 'runs', runId, 'events.jsonl'));
  expect(read.chainErrors).toEqual([]);
  expect(read.tornTail).toBeNull();
  return read.events;
}

/** Runs one mission over real HTTP with the official SDK, the model scripted as given. */
export async function runOverHttp(
  bridge: BridgeHarness,
  mission: Record<string, unknown>,
  model: ReplyBuilder[] | ((request: RecordedRequest) => ReplyBuilder),
  alias = `mission-${String(mission['tier']).toLowerCase()}-deepseek`,
): Promise<LaneRun> {
  bridge.mock.reset();
  if (typeof model === 'function') bridge.mock.setResponder(model);
  else {
    bridge.mock.setResponder(undefined);
    bridge.mock.script(...model);
  }
  const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
  try {
    const response = await client.responses.create({
      model: alias,
      input: handoffText(mission),
    });
    return await inspectRun(bridge, String(mission['mission_id']), response.output_text);
  } finally {
    bridge.mock.setResponder(undefined);
  }
}

export interface CliOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The real CLI, in process, in `cwd`, against the given upstream. */
export async function cli(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliOutcome> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: { OPENCODE_GO_API_KEY: 'sk-upstream-test', LOG_LEVEL: 'silent', ...env },
    cwd,
  });
  return { code, stdout, stderr };
}

export function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** Live processes whose command line carries `token` (a marker a test put in a command). */
export function processesWith(token: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(token)) found.push(Number(entry));
    } catch {
      // Gone in between.
    }
  }
  return found;
}

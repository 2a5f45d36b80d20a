import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MockUpstream } from '../../src/demo/index.js';
import {
  FIX,
  makeDiscountRepo,
  TEST_COMMAND,
  workspaceHash,
} from '../support/implementation-lane.js';
import { tempDir } from '../support/implementation-repos.js';
import {
  eventually,
  missionEvents,
  projectionExists,
  scriptedWorker,
  startMcp,
  startMockUpstream,
  structured,
  tag,
  textOf,
  type McpHarness,
} from '../support/mcp-harness.js';

/**
 * `codex-oss mcp` as an MCP client sees it: the SDK's Client over stdio against the real server
 * process, the scripted mock as the worker, a real git project, real event logs.
 */

let mock: MockUpstream;
let mcp: McpHarness;
let project: string;
let outside: string;
let counter = 0;
const nextId = (label: string) => `mcp-${label}-${++counter}`;

beforeAll(async () => {
  project = makeDiscountRepo();
  outside = tempDir('mcp-outside-');
  writeFileSync(path.join(outside, 'secret.txt'), 'outside\n');
  symlinkSync(outside, path.join(project, 'escape'));
  mock = await startMockUpstream({ responder: scriptedWorker });
  mcp = await startMcp(project, mock);
});
afterAll(async () => {
  await mcp.close();
  await mock.close();
  for (const dir of [project, outside]) rmSync(dir, { recursive: true, force: true });
});

const call = (name: string, args: Record<string, unknown>) =>
  mcp.client.callTool({ name, arguments: args });

describe('MCP tools', () => {
  it('tools/list lists the contract tools, each with an input schema', async () => {
    const { tools } = await mcp.client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'opencode',
        'oss_mission',
        'oss_start',
        'oss_wait',
        'oss_cancel',
        'oss_promote',
        'oss_runs',
      ]),
    );
    const opencode = tools.find((tool) => tool.name === 'opencode');
    expect(opencode?.inputSchema.required).toEqual(['prompt']);
    expect(Object.keys(opencode?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining([
        'prompt',
        'workspace',
        'continuation_id',
        'permission',
        'model',
        'context_paths',
        'file',
        'agent',
        'report_mode',
        'task_note',
        'debug',
        'handoff_file',
        'save_file',
        'save_file_with_wrapper',
        'save_file_with_append_mode',
      ]),
    );
    const permission = opencode?.inputSchema.properties?.['permission'] as { enum?: string[] };
    expect(permission.enum).toEqual(['read-only', 'workspace-write', 'unlimited']);
    const wait = tools.find((tool) => tool.name === 'oss_wait');
    expect(wait?.inputSchema.required).toEqual(['mission_id']);
  });

  it('opencode read-only runs a governed A3 mission to COMPLETE and returns its continuation_id', async () => {
    const handoff = path.join(project, 'notes', 'handoff.md');
    const result = await call('opencode', {
      prompt: 'Where is applyDiscount defined? [read src/discount.mjs]',
      workspace: project,
      context_paths: ['src'],
      debug: true,
      task_note: 'find discount',
      handoff_file: 'notes/handoff.md',
    });
    expect(result.isError).toBeFalsy();
    const text = textOf(result);
    const answer = tag(text, 'answer') ?? '';
    const missionId = tag(text, 'continuation_id') ?? '';
    expect(answer).toContain('Status: COMPLETE');
    expect(answer).toContain('Scope: src/');
    expect(answer).toContain('evidence: file:src/discount.mjs');
    expect(missionId).toMatch(/^dlg-/);
    expect(tag(text, 'thought_process')).toContain('reading src/discount.mjs');
    const debug = tag(text, 'debug_info') ?? '';
    expect(debug).toMatch(/tokens: \d+ total/);
    expect(debug).toMatch(/cost_usd: \d+\.\d{6}/);
    expect(debug).toMatch(/duration_ms: \d+/);
    expect(structured(result)).toMatchObject({ mission_id: missionId, status: 'COMPLETE' });

    const events = await missionEvents(project, missionId);
    const admitted = events[0]?.payload as { tier: string; mission: Record<string, unknown> };
    expect(admitted.tier).toBe('A3');
    expect(admitted.mission['allowed_roots']).toEqual(['src/']);
    expect(events.at(-1)?.payload).toMatchObject({ status: 'COMPLETE' });

    const saved = readFileSync(handoff, 'utf8');
    expect(saved).toContain(
      `<agent-output agent="build" continuation_id="${missionId}" task_note="find discount" status="COMPLETE">`,
    );
    expect(saved).toContain('Status: COMPLETE');

    // A follow-up with continuation_id is a new mission that names the earlier one.
    const next = await call('opencode', {
      prompt: 'And what does it return? [read src/discount.mjs]',
      context_paths: ['src/discount.mjs'],
      continuation_id: missionId,
      handoff_file: 'notes/handoff.md',
    });
    const nextId = tag(textOf(next), 'continuation_id') ?? '';
    expect(nextId).not.toBe(missionId);
    const nextEvents = await missionEvents(project, nextId);
    expect((nextEvents[0]?.payload as { mission: { continues: string } }).mission.continues).toBe(
      missionId,
    );
    // It answered from the earlier evidence, which the runtime re-read: the model read nothing.
    expect(tag(textOf(next), 'answer')).toContain('Status: COMPLETE');
    const reads = nextEvents.filter((event) => event.type === 'tool.requested');
    expect(reads.map((event) => [event.source, event.payload['tool']])).toEqual([
      ['runtime', 'read_file'],
    ]);
    expect(readFileSync(handoff, 'utf8').match(/<agent-output /g)).toHaveLength(2);
  });

  it('with no paths the whole workspace is the scope, explicitly broad, and the answer says so', async () => {
    const result = await call('opencode', {
      prompt: 'Which function does the project export? [read src/discount.mjs]',
      workspace: 'src',
    });
    const text = textOf(result);
    expect(tag(text, 'answer')).toContain('the whole workspace, src/');
    const events = await missionEvents(project, tag(text, 'continuation_id') ?? '');
    const mission = (events[0]?.payload as { mission: Record<string, unknown> }).mission;
    expect(mission['allowed_roots']).toEqual(['src/']);
    expect(mission['allow_broad_read_scope']).toBe(true);
    expect(String(mission['objective'])).toContain('the whole workspace');
  });

  it('progress lines arrive as notifications/progress, in order, as the run recorded them', async () => {
    const progress: { progress: number; message?: string | undefined }[] = [];
    const result = await mcp.client.callTool(
      {
        name: 'opencode',
        arguments: { prompt: 'Find applyDiscount [read src/discount.mjs]', context_paths: ['src'] },
      },
      undefined,
      { onprogress: (update) => progress.push(update) },
    );
    const missionId = tag(textOf(result), 'continuation_id') ?? '';
    const recorded = (await missionEvents(project, missionId))
      .filter((event) => event.type === 'commentary.emitted')
      .map((event) => String(event.payload['message']));
    expect(recorded.length).toBeGreaterThan(2);
    expect(progress.map((update) => update.message)).toEqual(recorded);
    expect(progress.map((update) => update.progress)).toEqual(recorded.map((_, i) => i + 1));
  });

  it('workspace-write runs A5 in isolation to VERIFIED, the workspace byte-identical; oss_promote applies it', async () => {
    const before = workspaceHash(project);
    const missionId = nextId('write');
    const result = await call('opencode', {
      prompt: 'applyDiscount subtracts the percentage; fix it so the test passes.',
      permission: 'workspace-write',
      context_paths: ['src/discount.mjs'],
      verification_commands: [TEST_COMMAND],
      mission_id: missionId,
    });
    const text = textOf(result);
    const answer = tag(text, 'answer') ?? '';
    expect(answer).toContain('Status: VERIFIED');
    expect(answer).toContain('Review packet');
    expect(answer).toContain(`oss_promote with {"mission_id": "${missionId}"}`);
    expect(answer).toContain(`codex-oss promote ${missionId}`);
    expect(workspaceHash(project)).toBe(before);

    const promoted = await call('oss_promote', { mission_id: missionId });
    expect(promoted.isError, textOf(promoted)).toBeFalsy();
    expect(textOf(promoted)).toContain(`Promoted ${missionId}`);
    expect(readFileSync(path.join(project, 'src', 'discount.mjs'), 'utf8')).toContain(FIX);
    const again = await call('oss_promote', { mission_id: missionId });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/^promotion_already_applied: /);
  });

  it('notifications/cancelled (the client aborting its call) cancels the mission and records who did', async () => {
    const missionId = nextId('cancel');
    const controller = new AbortController();
    const before = mock.requests.length;
    const pending = mcp.client.callTool(
      { name: 'opencode', arguments: { prompt: 'Wait forever [hang]', mission_id: missionId } },
      undefined,
      { signal: controller.signal },
    );
    await mock.waitForRequests(before + 1, 20_000);
    controller.abort('the test stops it');
    await expect(pending).rejects.toThrow();
    await eventually(() => projectionExists(project, missionId), 'the cancelled run to end');
    const completed = (await missionEvents(project, missionId)).at(-1);
    expect(completed?.type).toBe('run.completed');
    expect(completed?.payload).toMatchObject({ reason: 'cancelled' });
    expect(String(completed?.payload['reason_text'])).toContain(
      'The MCP client cancelled the opencode request (the test stops it)',
    );
    const waited = await call('oss_wait', { mission_id: missionId });
    expect(structured(waited)).toMatchObject({ mission_id: missionId, state: 'ended' });
  });

  it('unlimited and a workspace outside the project are refused, and the server answers on', async () => {
    const unlimited = await call('opencode', { prompt: 'Do anything', permission: 'unlimited' });
    expect(unlimited.isError).toBe(true);
    expect(textOf(unlimited)).toMatch(
      /^delegation_refused: .*never gives a model unrestricted access/,
    );
    const elsewhere = await call('opencode', { prompt: 'Look', workspace: outside });
    expect(elsewhere.isError).toBe(true);
    expect(textOf(elsewhere)).toMatch(/^delegation_path_refused: .*outside the project/);
    const runs = await call('oss_runs', {});
    expect(runs.isError).toBeFalsy();
    expect(textOf(runs)).toContain('dlg-');
  });
});

describe('bad input over MCP', () => {
  const huge = 'x'.repeat(100_001);
  it.each([
    ['a missing prompt', 'opencode', {}, /prompt/],
    ['a wrong-typed prompt', 'opencode', { prompt: 42 }, /prompt/],
    [
      'context_paths as a string',
      'opencode',
      { prompt: 'x', context_paths: 'src' },
      /context_paths/,
    ],
    [
      'a wrong permission',
      'opencode',
      { prompt: 'x', permission: 'root' },
      /permission must be one of/,
    ],
    ['a huge prompt', 'opencode', { prompt: huge }, /prompt is too large: at most 100000/],
    ['oss_wait without mission_id', 'oss_wait', {}, /mission_id/],
    [
      'oss_wait on an unknown mission',
      'oss_wait',
      { mission_id: 'nope-1' },
      /^mission_not_found: /,
    ],
    [
      'oss_mission with a broken mission',
      'oss_mission',
      { mission: { tier: 'A9' } },
      /invalid_mission/,
    ],
    ['an unknown tool', 'no_such_tool', {}, /Tool no_such_tool not found/],
    [
      'a continuation of an unknown mission',
      'opencode',
      { prompt: 'x', continuation_id: 'never-ran-1' },
      /^continuation_not_found: /,
    ],
    [
      'context_paths outside',
      'opencode',
      { prompt: 'x', context_paths: ['/etc/passwd'] },
      /^delegation_path_refused: context_paths: .*outside the workspace/,
    ],
    [
      'context_paths through a symlink',
      'opencode',
      { prompt: 'x', context_paths: ['escape/secret.txt'] },
      /^delegation_path_refused: .*symlink/,
    ],
    [
      'context_paths with ..',
      'opencode',
      { prompt: 'x', context_paths: ['src/../../x'] },
      /^delegation_path_refused: .*"\.\."/,
    ],
    [
      'file outside',
      'opencode',
      { prompt: 'x', file: ['/etc/hostname'] },
      /^delegation_path_refused: file: /,
    ],
    [
      'file through a symlink',
      'opencode',
      { prompt: 'x', file: ['escape/secret.txt'] },
      /^delegation_path_refused: file: .*symlink/,
    ],
    [
      'handoff_file outside',
      'opencode',
      { prompt: 'x', handoff_file: '/tmp/out.md' },
      /^delegation_path_refused: handoff_file: /,
    ],
    [
      'handoff_file through a symlink',
      'opencode',
      { prompt: 'x', handoff_file: 'escape/out.md' },
      /^delegation_path_refused: handoff_file: .*symlink/,
    ],
    [
      'handoff_file with ..',
      'opencode',
      { prompt: 'x', handoff_file: '../out.md' },
      /^delegation_path_refused: handoff_file: .*"\.\."/,
    ],
    ['handoff_file in .git', 'opencode', { prompt: 'x', handoff_file: '.git/config' }, /deny list/],
  ])('%s is a clear tool error and the server stays up', async (_label, name, args, message) => {
    const before = mock.requests.length;
    const result = await call(name, args);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(message);
    expect(mock.requests.length).toBe(before);
    const { tools } = await mcp.client.listTools();
    expect(tools.length).toBeGreaterThanOrEqual(7);
  });

  it('nothing was written outside the project by the refused handoff files', () => {
    expect(() => readFileSync(path.join(outside, 'out.md'))).toThrow();
  });
});

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPromotionLog } from '../../src/implementation/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import { runGit, tempDir } from '../support/implementation-repos.js';
import {
  a4Mission,
  a5Mission,
  BUG,
  cli,
  editDiscount,
  eventsOf,
  FIX,
  fixReplies,
  handoffText,
  makeDiscountRepo,
  readDiscount,
  readJson,
  repairingResponder,
  runEvents,
  runOverHttp,
  submit,
  typesOf,
  workspaceHash,
  type LaneRun,
} from '../support/implementation-lane.js';

/**
 * The A4–A6 lane end to end: the real daemon over real HTTP (and `codex-oss mission run`), the
 * scripted mock as the implementer, a real git repository, real verification with node --test.
 */

let bridge: BridgeHarness;
let project: string;
let counter = 0;
const scratch: string[] = [];
const nextId = (label: string) => `lane-${label}-${++counter}`;

beforeAll(async () => {
  project = makeDiscountRepo();
  bridge = await startBridge({ project, env: { UPSTREAM_RETRIES: '0' } });
});
afterAll(async () => {
  await bridge.close();
  for (const dir of [project, ...scratch]) rmSync(dir, { recursive: true, force: true });
});

function worktreesLeft(root: string): string[] {
  const dir = path.join(root, '.codex-oss', 'worktrees');
  return existsSync(dir) ? readdirSync(dir) : [];
}

function gitWorktrees(root: string): string[] {
  return runGit(root, ['worktree', 'list', '--porcelain'])
    .split('\n')
    .filter((line) => line.startsWith('worktree '));
}

async function audit(root: string, missionId: string) {
  const result = await cli(root, ['audit-mission', missionId, '--project', root, '--json']);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return result;
}

/** Runs `node --test` on a plain copy of `root` with `patch.diff` applied by `git apply`. */
function applyPatchToCopy(root: string, diff: string): string {
  const base = tempDir('lane-copy-');
  scratch.push(base);
  const copy = path.join(base, 'repo');
  cpSync(root, copy, {
    recursive: true,
    filter: (source) => !/[/\\]\.(git|codex-oss)([/\\]|$)/.test(source),
  });
  writeFileSync(path.join(copy, '..', 'patch.diff'), diff);
  execFileSync('git', ['apply', '--whitespace=nowarn', path.join(copy, '..', 'patch.diff')], {
    cwd: copy,
  });
  return copy;
}

function passesTests(dir: string): boolean {
  try {
    execFileSync(process.execPath, ['--test', 'test/discount.test.mjs'], {
      cwd: dir,
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

function expectContained(run: LaneRun, before: string) {
  expect(workspaceHash(project)).toBe(before);
  expect(worktreesLeft(project)).toEqual([]);
  expect(gitWorktrees(project)).toHaveLength(1);
  expect(typesOf(run)).toContain('run.completed');
}

describe('implementation lane over HTTP', () => {
  it('VERIFIED on a real fix; patch.diff applies and makes the tests pass; audit passes', async () => {
    const before = workspaceHash(project);
    const id = nextId('verified');
    const run = await runOverHttp(bridge, a5Mission(id), fixReplies());
    expect(run.status).toBe('Status: VERIFIED');
    expect(run.text).toContain('Review packet');
    expect(run.text).toContain(`codex-oss promote ${id}`);
    const types = typesOf(run);
    for (const type of [
      'isolation.created',
      'patch.staged',
      'patch.proposed',
      'patch.validated',
      'verification.started',
      'verification.completed',
      'isolation.removed',
    ])
      expect(types, type).toContain(type);
    expect(types).not.toContain('patch.rejected');
    // Each accepted edit is its own patch.staged event, before the runtime builds the diff.
    expect(types.indexOf('patch.staged')).toBeLessThan(types.indexOf('patch.proposed'));
    expect(eventsOf(run, 'patch.staged')[0]?.payload).toMatchObject({ operation: 'edit' });
    const completed = eventsOf(run, 'verification.completed')[0]?.payload as {
      passed: boolean;
      results: { commands: { exit_code: number | null; outcome: string }[] };
    };
    expect(completed.passed).toBe(true);
    expect(completed.results.commands[0]).toMatchObject({ exit_code: 0, outcome: 'passed' });
    expectContained(run, before);

    const diff = readFileSync(path.join(run.missionDir, 'patch.diff'), 'utf8');
    expect(diff).toContain(`-  ${BUG}`);
    expect(diff).toContain(`+  ${FIX}`);
    expect(passesTests(project)).toBe(false);
    expect(passesTests(applyPatchToCopy(project, diff))).toBe(true);
    for (const file of [
      'rollback.diff',
      'implementation_report.json',
      'review_packet.json',
      'verification.json',
    ])
      expect(existsSync(path.join(run.missionDir, file)), file).toBe(true);
    const packet = readJson(path.join(run.missionDir, 'review_packet.json'));
    expect(packet['main_workspace_mutated']).toBe(false);
    expect(packet['promote_command']).toBe(`codex-oss promote ${id}`);
    await audit(project, id);
  });

  it('VERIFICATION_FAILED on a wrong first edit, then repaired to VERIFIED', async () => {
    const before = workspaceHash(project);
    const id = nextId('repair');
    const run = await runOverHttp(bridge, a5Mission(id), repairingResponder);
    expect(run.status).toBe('Status: VERIFIED');
    const verdicts = eventsOf(run, 'verification.completed').map(
      (event) => (event.payload as { passed: boolean }).passed,
    );
    expect(verdicts).toEqual([false, true]);
    expect(eventsOf(run, 'patch.proposed')).toHaveLength(2);
    // The model really saw the failure it repaired.
    const sawFailure = bridge.mock.requests.some((request) =>
      JSON.stringify(request.body).includes('[VERIFICATION FAILED]'),
    );
    expect(sawFailure).toBe(true);
    const diff = readFileSync(path.join(run.missionDir, 'patch.diff'), 'utf8');
    expect(diff).toContain(`+  ${FIX}`);
    expect(diff).not.toContain('percent / 2');
    expectContained(run, before);
    await audit(project, id);
  });

  it('VERIFICATION_FAILED when no repair round is left', async () => {
    const before = workspaceHash(project);
    const id = nextId('failed');
    const run = await runOverHttp(bridge, a5Mission(id, { max_repair_rounds: 0 }), [
      readDiscount(),
      editDiscount('return price - percent / 2;'),
      submit(),
    ]);
    expect(run.status).toBe('Status: VERIFICATION_FAILED');
    expect(eventsOf(run, 'verification.completed')).toHaveLength(1);
    expectContained(run, before);
    await audit(project, id);
  });

  it('APPLIED_UNVERIFIED when the mission allows no command', async () => {
    const before = workspaceHash(project);
    const id = nextId('unverified');
    const run = await runOverHttp(
      bridge,
      a5Mission(id, { verification_policy: { allowed_commands: [] } }),
      fixReplies(),
    );
    expect(run.status).toBe('Status: APPLIED_UNVERIFIED');
    expect(typesOf(run)).toContain('patch.validated');
    expect(typesOf(run)).not.toContain('verification.started');
    expectContained(run, before);
    await audit(project, id);
  });

  it('A4 VALID: the patch is checked and applied nowhere, no worktree left', async () => {
    const before = workspaceHash(project);
    const id = nextId('a4');
    const run = await runOverHttp(bridge, a4Mission(id), fixReplies());
    expect(run.status).toBe('Status: VALID');
    expect(typesOf(run)).toContain('patch.validated');
    expect(typesOf(run)).not.toContain('verification.started');
    expectContained(run, before);
    expect(readFileSync(path.join(run.missionDir, 'patch.diff'), 'utf8')).toContain(`+  ${FIX}`);
    await audit(project, id);
    // An A4 patch is a proposal: nothing promotes it.
    const promoted = await cli(project, ['promote', id, '--project', project]);
    expect(promoted.code).toBe(1);
    expect(workspaceHash(project)).toBe(before);
  });
});

describe('implementation lane through codex-oss mission run', () => {
  it('VERIFIED without a daemon, the main workspace untouched, audit passes', async () => {
    const before = workspaceHash(project);
    const id = nextId('cli');
    writeFileSync(path.join(project, '..', `${id}.md`), handoffText(a5Mission(id)));
    bridge.mock.reset();
    bridge.mock.script(...fixReplies());
    const run = await cli(
      project,
      ['mission', 'run', path.join(project, '..', `${id}.md`), '--model', 'mission-a5-deepseek'],
      { UPSTREAM_BASE: bridge.mock.baseUrl, UPSTREAM_RETRIES: '0' },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('Status: VERIFIED');
    const runs = await cli(project, ['runs', '--json', '--project', project]);
    const row = (JSON.parse(runs.stdout) as { mission_id: string; run_id: string }[]).find(
      (entry) => entry.mission_id === id,
    );
    expect(row).toBeDefined();
    const events = await runEvents(project, String(row?.run_id));
    const types = events.map((event) => event.type);
    expect(types).toContain('verification.completed');
    expect(types).toContain('isolation.removed');
    expect(workspaceHash(project)).toBe(before);
    expect(worktreesLeft(project)).toEqual([]);
    await audit(project, id);
  });
});

describe('promote over HTTP and the CLI', () => {
  const post = (id: string, body: Record<string, unknown> = {}) =>
    fetch(`${bridge.url}/v1/missions/${id}/promote`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('HTTP: applies exactly patch.diff, revert restores byte-for-byte, the log verifies', async () => {
    const id = nextId('promote-http');
    const run = await runOverHttp(bridge, a5Mission(id), fixReplies());
    expect(run.status).toBe('Status: VERIFIED');
    const before = workspaceHash(project);
    const original = readFileSync(path.join(project, 'src', 'discount.mjs'));
    const diff = readFileSync(path.join(run.missionDir, 'patch.diff'), 'utf8');
    const expected = applyPatchToCopy(project, diff);

    const dry = await post(id, { dry_run: true });
    expect(dry.status).toBe(200);
    expect(workspaceHash(project)).toBe(before);

    const applied = await post(id);
    expect(applied.status, await applied.clone().text()).toBe(200);
    expect(workspaceHash(project)).toBe(workspaceHash(expected));
    expect(passesTests(project)).toBe(true);

    const again = await post(id);
    expect(again.status).toBeGreaterThanOrEqual(400);

    const reverted = await post(id, { revert: true });
    expect(reverted.status).toBe(200);
    expect(workspaceHash(project)).toBe(before);
    expect(readFileSync(path.join(project, 'src', 'discount.mjs')).equals(original)).toBe(true);

    const log = await verifyPromotionLog(project);
    expect(log.ok).toBe(true);
    expect(log.errors).toEqual([]);
    const mine = log.entries.filter((entry) => entry.mission_id === id);
    expect(mine.map((entry) => entry.action)).toEqual(['promote', 'revert']);
    await audit(project, id);
  });

  it('CLI: refuses on a changed target and changes nothing', async () => {
    const id = nextId('promote-changed');
    const run = await runOverHttp(bridge, a5Mission(id), fixReplies());
    expect(run.status).toBe('Status: VERIFIED');
    const target = path.join(project, 'src', 'discount.mjs');
    const original = readFileSync(target);
    writeFileSync(target, `${original.toString('utf8')}// user edit\n`);
    try {
      const changed = workspaceHash(project);
      const refused = await cli(project, ['promote', id, '--project', project]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('promotion_target_changed');
      expect(workspaceHash(project)).toBe(changed);
      const overHttp = await post(id);
      expect(overHttp.status).toBeGreaterThanOrEqual(400);
      expect(await overHttp.text()).toContain('promotion_target_changed');
      expect(workspaceHash(project)).toBe(changed);
    } finally {
      writeFileSync(target, original);
    }
  });

  it('CLI: promote then --revert restore byte-for-byte; the log verifies', async () => {
    const id = nextId('promote-cli');
    const run = await runOverHttp(bridge, a5Mission(id), fixReplies());
    expect(run.status).toBe('Status: VERIFIED');
    const before = workspaceHash(project);
    const diff = readFileSync(path.join(run.missionDir, 'patch.diff'), 'utf8');
    const expected = applyPatchToCopy(project, diff);
    const promoted = await cli(project, ['promote', id, '--project', project]);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(workspaceHash(project)).toBe(workspaceHash(expected));
    const reverted = await cli(project, ['promote', id, '--revert', '--project', project]);
    expect(reverted.code, reverted.stderr).toBe(0);
    expect(workspaceHash(project)).toBe(before);
    expect((await verifyPromotionLog(project)).ok).toBe(true);
    await audit(project, id);
  });

  it('an unverified patch needs --accept-unverified (CLI and HTTP)', async () => {
    const id = nextId('promote-unverified');
    const run = await runOverHttp(
      bridge,
      a5Mission(id, { verification_policy: { allowed_commands: [] } }),
      fixReplies(),
    );
    expect(run.status).toBe('Status: APPLIED_UNVERIFIED');
    const before = workspaceHash(project);
    const refused = await cli(project, ['promote', id, '--project', project]);
    expect(refused.code).toBe(1);
    expect(workspaceHash(project)).toBe(before);
    const overHttp = await post(id);
    expect(overHttp.status).toBeGreaterThanOrEqual(400);
    expect(workspaceHash(project)).toBe(before);
    const accepted = await cli(project, [
      'promote',
      id,
      '--accept-unverified',
      '--project',
      project,
    ]);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(workspaceHash(project)).not.toBe(before);
    const reverted = await cli(project, ['promote', id, '--revert', '--project', project]);
    expect(reverted.code, reverted.stderr).toBe(0);
    expect(workspaceHash(project)).toBe(before);
  });

  it('A6 needs --confirm-critical at the CLI and is refused over HTTP', async () => {
    const id = nextId('promote-a6');
    const run = await runOverHttp(bridge, a5Mission(id, { tier: 'A6' }), fixReplies());
    expect(run.status).toBe('Status: VERIFIED');
    expect(run.text).toContain('--confirm-critical');
    const before = workspaceHash(project);
    const overHttp = await post(id);
    expect(overHttp.status).toBeGreaterThanOrEqual(400);
    expect(await overHttp.text()).toContain('--confirm-critical');
    expect(workspaceHash(project)).toBe(before);
    const refused = await cli(project, ['promote', id, '--project', project]);
    expect(refused.code).toBe(1);
    expect(workspaceHash(project)).toBe(before);
    const confirmed = await cli(project, [
      'promote',
      id,
      '--confirm-critical',
      '--project',
      project,
    ]);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(readFileSync(path.join(project, 'src', 'discount.mjs'), 'utf8')).toContain(FIX);
    const reverted = await cli(project, ['promote', id, '--revert', '--project', project]);
    expect(reverted.code, reverted.stderr).toBe(0);
    expect(workspaceHash(project)).toBe(before);
    expect((await verifyPromotionLog(project)).ok).toBe(true);
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  openEventLog,
  runPaths,
  type EventPayloadMap,
  type KnownEventType,
} from '../../src/events/index.js';
import { buildPatch, promoteMission, type BuiltPatch } from '../../src/implementation/index.js';
import { samplePayloads } from '../support/event-payloads.js';
import { gitProject, TempDirs } from '../support/implementation-fixtures.js';

// promoteMission reads the patch and the run's status from the run's own hash-chained log. These
// logs are written with the real writer, event by event, so each refusal has its one cause.

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const base = 'export const keep = 1;\n';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function patchTo(text: string): BuiltPatch {
  return buildPatch([
    {
      path: 'src/keep.ts',
      change: 'modify',
      base: Buffer.from(base),
      current: Buffer.from(text),
      base_sha256: sha(base),
      new_sha256: sha(text),
    },
  ]);
}

const admitted = samplePayloads['run.admitted']!;
const completed = samplePayloads['run.completed']!;

type Step = { [K in KnownEventType]: [K, EventPayloadMap[K]] }[KnownEventType];

const proposed = (patch: BuiltPatch): Step => [
  'patch.proposed',
  {
    round: 1,
    summary: 'change keep',
    rationale: 'the objective',
    claims: null,
    diff: patch.diff,
    rollback: patch.rollback,
    bytes: patch.bytes,
    files: patch.files,
  },
];
const admit = (missionId: string, tier: string): Step => [
  'run.admitted',
  { ...admitted, mission_id: missionId, tier },
];
const end = (status: string): Step => ['run.completed', { ...completed, status }];

async function writeRun(projectRoot: string, runId: string, steps: Step[]): Promise<string> {
  const writer = await openEventLog({ projectRoot, runId });
  try {
    for (const [type, payload] of steps) await writer.append(type, 'runtime', payload);
  } finally {
    await writer.close();
  }
  return runPaths(projectRoot, runId).logPath;
}

function project(): string {
  return gitProject(dirs, { 'src/keep.ts': base });
}

const keep = (root: string): string => readFileSync(path.join(root, 'src/keep.ts'), 'utf8');

describe('promoteMission', () => {
  it('promotes the last patch of a finished A5 run, found by mission id or run id, and says which', async () => {
    const root = project();
    await writeRun(root, 'run-a', [
      admit('m-a', 'A5'),
      proposed(patchTo('export const keep = 2;\n')),
      proposed(patchTo('export const keep = 3;\n')),
      end('VERIFIED'),
    ]);
    const dry = await promoteMission({ projectRoot: root, id: 'm-a', dryRun: true });
    expect(dry).toEqual({
      applied: false,
      dry_run: true,
      action: 'promote',
      files: [{ path: 'src/keep.ts', action: 'modify' }],
      mission_id: 'm-a',
      run_id: 'run-a',
      status: 'VERIFIED',
    });
    expect(keep(root)).toBe(base);
    const applied = await promoteMission({ projectRoot: root, id: 'run-a' });
    expect(applied).toMatchObject({ applied: true, mission_id: 'm-a', run_id: 'run-a' });
    expect(applied.log_entry).toMatchObject({ mission_id: 'm-a', run_id: 'run-a', tier: 'A5' });
    expect(keep(root)).toBe('export const keep = 3;\n');
    const reverted = await promoteMission({ projectRoot: root, id: 'm-a', revert: true });
    expect(reverted).toMatchObject({ applied: true, action: 'revert' });
    expect(keep(root)).toBe(base);
  });

  it('passes the confirmation flags on: unverified and A6 runs promote only with them', async () => {
    const root = project();
    await writeRun(root, 'run-u', [
      admit('m-u', 'A5'),
      proposed(patchTo('export const keep = 4;\n')),
      end('APPLIED_UNVERIFIED'),
    ]);
    const unconfirmed = await promoteMission({ projectRoot: root, id: 'm-u' });
    expect(unconfirmed.refused?.code).toBe('promotion_confirmation_required');
    expect(unconfirmed.status).toBe('APPLIED_UNVERIFIED');
    const accepted = await promoteMission({ projectRoot: root, id: 'm-u', acceptUnverified: true });
    expect(accepted.applied).toBe(true);
    expect((await promoteMission({ projectRoot: root, id: 'm-u', revert: true })).applied).toBe(
      true,
    );

    await writeRun(root, 'run-6', [
      admit('m-6', 'A6'),
      proposed(patchTo('export const keep = 6;\n')),
      end('VERIFIED'),
    ]);
    const critical = await promoteMission({ projectRoot: root, id: 'm-6', dryRun: false });
    expect(critical.refused?.code).toBe('promotion_confirmation_required');
    const confirmed = await promoteMission({ projectRoot: root, id: 'm-6', confirmCritical: true });
    expect(confirmed.applied).toBe(true);
    expect(confirmed.log_entry?.tier).toBe('A6');
    expect(keep(root)).toBe('export const keep = 6;\n');
  });

  it('refuses, with the run named, what is not a finished A5 or A6 run with a patch', async () => {
    const root = project();
    const patch = patchTo('export const keep = 5;\n');
    await writeRun(root, 'run-4', [admit('m-4', 'A4'), proposed(patch), end('VALID')]);
    await writeRun(root, 'run-none', [proposed(patch)]);
    await writeRun(root, 'run-live', [admit('m-live', 'A5'), proposed(patch)]);
    await writeRun(root, 'run-wait', [
      admit('m-wait', 'A5'),
      proposed(patch),
      ['model.requested', samplePayloads['model.requested']!],
    ]);
    await writeRun(root, 'run-nopatch', [admit('m-np', 'A5'), end('VERIFIED')]);
    const refusal = (id: string) => promoteMission({ projectRoot: root, id });
    await expect(refusal('m-4')).rejects.toMatchObject({
      code: 'promotion_refused',
      message:
        'Run run-4 is A4: only A5 and A6 patches are promoted (an A4 patch is a proposal; apply it yourself after review).',
    });
    await expect(refusal('run-none')).rejects.toMatchObject({
      code: 'promotion_refused',
      message:
        'Run run-none is not a mission: only A5 and A6 patches are promoted (an A4 patch is a proposal; apply it yourself after review).',
    });
    for (const id of ['run-live', 'run-wait']) {
      await expect(refusal(id)).rejects.toMatchObject({
        code: 'promotion_refused',
        message: `Run ${id} is still running; promote it once it has finished.`,
      });
    }
    await expect(refusal('m-np')).rejects.toMatchObject({
      code: 'promotion_refused',
      message: 'Run run-nopatch never produced a patch.',
    });
    await expect(refusal('m-unknown')).rejects.toMatchObject({
      code: 'mission_not_found',
      message: `No run or mission "m-unknown" in ${root}; list them with codex-oss runs.`,
    });
    expect(keep(root)).toBe(base);
  });

  it('a run whose log does not verify, edited or torn, promotes nothing', async () => {
    const root = project();
    const log = await writeRun(root, 'run-t', [
      admit('m-t', 'A5'),
      proposed(patchTo('export const keep = 7;\n')),
      end('VERIFIED'),
    ]);
    const original = readFileSync(log, 'utf8');
    // The patch is swapped for another one: the chain no longer links.
    writeFileSync(log, original.replaceAll('keep = 7', 'keep = 8'));
    await expect(promoteMission({ projectRoot: root, id: 'm-t' })).rejects.toMatchObject({
      code: 'promotion_refused',
      message:
        'The event log of run run-t does not verify (hash_mismatch at seq 1); a patch from it is not promoted. Run codex-oss audit-mission m-t.',
    });
    writeFileSync(log, original.slice(0, -5));
    await expect(promoteMission({ projectRoot: root, id: 'run-t' })).rejects.toMatchObject({
      code: 'promotion_refused',
      message:
        'The event log of run run-t does not verify (torn last line); a patch from it is not promoted. Run codex-oss audit-mission run-t.',
    });
    expect(keep(root)).toBe(base);
    writeFileSync(log, original);
    expect((await promoteMission({ projectRoot: root, id: 'm-t' })).applied).toBe(true);
    expect(keep(root)).toBe('export const keep = 7;\n');
  });
});

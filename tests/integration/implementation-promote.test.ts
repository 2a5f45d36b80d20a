import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildPatch,
  promote,
  promotionLogPath,
  promotionsFor,
  StagedWorkspace,
  verifyPromotionLog,
  type BuiltPatch,
  type PromoteRequest,
  type PromoteResult,
} from '../../src/implementation/index.js';
import {
  promote as promoteWithHooks,
  type PromoteHooks,
} from '../../src/implementation/promote.js';
import { appendPromotionEntry } from '../../src/implementation/promotion-log.js';
import { criticalRoots } from '../../src/mission/index.js';
import { copyTree, gitProject, hashTree, TempDirs } from '../support/implementation-fixtures.js';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const baseFiles = {
  'src/app.ts': 'export function add(a: number, b: number) {\n  return a + b;\n}\n',
  'src/old.ts': 'export const old = true;\n',
  'src/keep.ts': 'export const keep = 1;\n',
  'scripts/run.sh': '#!/bin/sh\necho run\n',
  'README.md': 'readme\n',
  'src/crlf file.ts': 'one\r\ntwo\r\nthree',
  'src/naïve.ts': 'unicode\n',
};

/** What promoting `staged()`'s patch does, file by file, in path order. */
const stagedPlan = [
  { path: 'lib/deep/new.ts', action: 'add' },
  { path: 'scripts/run.sh', action: 'modify' },
  { path: 'src/app.ts', action: 'modify' },
  { path: 'src/crlf file.ts', action: 'modify' },
  { path: 'src/naïve.ts', action: 'modify' },
  { path: 'src/old.ts', action: 'delete' },
];

/** Main workspace (a git project), and a VERIFIED-style patch staged in an isolated copy of it. */
async function staged(): Promise<{ main: string; root: string; patch: BuiltPatch }> {
  const main = gitProject(dirs, baseFiles);
  chmodSync(path.join(main, 'scripts/run.sh'), 0o755);
  const root = copyTree(dirs, main, 'promote-root');
  const ws = new StagedWorkspace({
    root,
    ownedPaths: ['src/', 'scripts/', 'lib/'],
    allowDeletions: true,
    criticalRoots,
    criticalWriteAllowed: false,
  });
  const results = [
    await ws.edit('src/app.ts', 'a + b', 'b + a'),
    await ws.edit('scripts/run.sh', 'echo run', 'echo running'),
    await ws.write('lib/deep/new.ts', 'export const fresh = 1;\n'),
    await ws.delete('src/old.ts'),
    await ws.edit('src/crlf file.ts', 'two\r\nthree', 'deux\r\ntrois\r\n'),
    await ws.edit('src/naïve.ts', 'unicode', 'ünïcödé'),
  ];
  for (const result of results) expect(result.ok, result.ok ? '' : result.message).toBe(true);
  return { main, root, patch: buildPatch(ws.changes()) };
}

function request(
  main: string,
  patch: BuiltPatch,
  overrides: Partial<PromoteRequest> = {},
): PromoteRequest {
  return {
    projectRoot: main,
    missionId: 'm-1',
    runId: 'run-1',
    tier: 'A5',
    status: 'VERIFIED',
    diff: patch.diff,
    files: patch.files,
    ...overrides,
  };
}

/** The user's tree as promotion sees it: bridge state and git internals aside. */
function userTree(root: string): Map<string, string> {
  return hashTree(root, ['.git', '.codex-oss']);
}

function refusal(result: PromoteResult): { code: string; message: string; files: string[] } {
  expect(result.applied).toBe(false);
  if (result.refused === undefined) throw new Error('expected a refusal');
  return result.refused;
}

/**
 * Seams for the worst case: at the first rename the promotion log's path becomes a directory (so
 * the append after the renames fails), and the `failAt`-th rename in all, which falls in the
 * undo, throws after `meanwhile` ran.
 */
function failAppendThenUndo(
  main: string,
  failAt: number,
  meanwhile: () => void = () => undefined,
): PromoteHooks {
  const log = promotionLogPath(main);
  let renames = 0;
  return {
    beforeRename: () => {
      renames += 1;
      if (renames === 1) {
        rmSync(log, { force: true });
        mkdirSync(log, { recursive: true });
      }
      if (renames === failAt) {
        meanwhile();
        throw new Error('read-only file system');
      }
    },
  };
}

function leftovers(root: string): string[] {
  return [...userTree(root).keys()].filter((file) => file.includes('.promote-'));
}

describe('promote', () => {
  it('applies exactly the diff: only the target files change, to exactly their new hashes, modes kept', async () => {
    const { main, root, patch } = await staged();
    const before = userTree(main);
    const result = await promote(request(main, patch));
    expect(result.refused).toBeUndefined();
    expect(result.applied).toBe(true);
    expect(result.files).toEqual(stagedPlan);
    const after = userTree(main);
    expect(after).toEqual(userTree(root));
    const changed = [...new Set([...before.keys(), ...after.keys()])]
      .filter((file) => before.get(file) !== after.get(file))
      .sort();
    expect(changed).toEqual([
      'lib',
      'lib/deep',
      'lib/deep/new.ts',
      'scripts/run.sh',
      'src/app.ts',
      'src/crlf file.ts',
      'src/naïve.ts',
      'src/old.ts',
    ]);
    for (const file of patch.files) {
      expect(after.get(file.path)?.split(':')[1] ?? null).toBe(file.new_sha256);
    }
    expect(statSync(path.join(main, 'scripts/run.sh')).mode & 0o777).toBe(0o755);
    expect(leftovers(main)).toEqual([]);

    expect(result.log_entry).toMatchObject({
      seq: 1,
      action: 'promote',
      mission_id: 'm-1',
      run_id: 'run-1',
    });
    const log = await verifyPromotionLog(main);
    expect(log).toMatchObject({ ok: true, errors: [] });
    expect(log.entries).toHaveLength(1);
    expect(log.entries[0]?.files.find((f) => f.path === 'src/app.ts')).toEqual({
      path: 'src/app.ts',
      change: 'modify',
      before_sha256: patch.files.find((f) => f.path === 'src/app.ts')?.base_sha256,
      after_sha256: patch.files.find((f) => f.path === 'src/app.ts')?.new_sha256,
    });
    expect(await promotionsFor(main, 'm-1')).toHaveLength(1);
    expect(await promotionsFor(main, 'other')).toEqual([]);
  });

  it('refuses when a target changed since the base, naming it, and touches nothing', async () => {
    const { main, patch } = await staged();
    writeFileSync(path.join(main, 'src/app.ts'), 'user edit\n');
    mkdirSync(path.join(main, 'lib/deep'), { recursive: true });
    writeFileSync(path.join(main, 'lib/deep/new.ts'), 'already here\n');
    const before = userTree(main);
    const refused = refusal(await promote(request(main, patch)));
    expect(refused.code).toBe('promotion_target_changed');
    expect(refused.files.sort()).toEqual(['lib/deep/new.ts', 'src/app.ts']);
    expect(refused.message).toContain('src/app.ts (changed since the base)');
    expect(refused.message).toContain('lib/deep/new.ts (exists already)');
    expect(userTree(main)).toEqual(before);
    expect((await verifyPromotionLog(main)).entries).toEqual([]);
  });

  it('refuses when a file the patch deletes is already gone', async () => {
    const { main, patch } = await staged();
    unlinkSync(path.join(main, 'src/old.ts'));
    const before = userTree(main);
    const refused = refusal(await promote(request(main, patch)));
    expect(refused.code).toBe('promotion_target_changed');
    expect(refused.files).toEqual(['src/old.ts']);
    expect(userTree(main)).toEqual(before);
  });

  it('dry run checks everything and changes nothing', async () => {
    const { main, patch } = await staged();
    const before = userTree(main);
    const result = await promote(request(main, patch, { dryRun: true }));
    expect(result).toMatchObject({ applied: false, dry_run: true });
    expect(result.refused).toBeUndefined();
    expect(result.files).toHaveLength(6);
    expect(userTree(main)).toEqual(before);
    expect((await verifyPromotionLog(main)).entries).toEqual([]);
    writeFileSync(path.join(main, 'src/keep.ts'), 'unrelated edit\n');
    writeFileSync(path.join(main, 'src/app.ts'), 'user edit\n');
    expect(refusal(await promote(request(main, patch, { dryRun: true }))).code).toBe(
      'promotion_target_changed',
    );
  });

  it('revert restores the base byte for byte, once, and only while the files are as promoted', async () => {
    const { main, patch } = await staged();
    const before = userTree(main);
    expect((await promote(request(main, patch))).applied).toBe(true);
    const promoted = userTree(main);

    writeFileSync(path.join(main, 'src/app.ts'), 'edited after promotion\n');
    const blocked = refusal(await promote(request(main, patch, { revert: true })));
    expect(blocked.code).toBe('promotion_target_changed');
    expect(blocked.files).toEqual(['src/app.ts']);
    expect(readFileSync(path.join(main, 'lib/deep/new.ts'), 'utf8')).toBe(
      'export const fresh = 1;\n',
    );
    // Put back exactly what the promotion wrote: the revert is possible again.
    writeFileSync(path.join(main, 'src/app.ts'), baseFiles['src/app.ts'].replace('a + b', 'b + a'));
    expect(userTree(main)).toEqual(promoted);

    const dry = await promote(request(main, patch, { revert: true, dryRun: true }));
    expect(dry).toMatchObject({ applied: false, dry_run: true, action: 'revert' });
    expect(userTree(main)).toEqual(promoted);

    const reverted = await promote(request(main, patch, { revert: true }));
    expect(reverted.refused).toBeUndefined();
    expect(reverted).toMatchObject({ applied: true, action: 'revert' });
    const after = userTree(main);
    // The directories made for the added file stay (empty); every file is the base again.
    expect(new Map([...after].filter(([, v]) => v !== 'dir'))).toEqual(
      new Map([...before].filter(([, v]) => v !== 'dir')),
    );
    expect(statSync(path.join(main, 'scripts/run.sh')).mode & 0o777).toBe(0o755);

    expect(refusal(await promote(request(main, patch, { revert: true }))).code).toBe(
      'promotion_not_found',
    );
    const log = await verifyPromotionLog(main);
    expect(log.ok).toBe(true);
    expect(log.entries.map((e) => e.action)).toEqual(['promote', 'revert']);
  });

  it('refuses a second promotion, and allows one again after a revert', async () => {
    const { main, patch } = await staged();
    expect((await promote(request(main, patch))).applied).toBe(true);
    const promoted = userTree(main);
    expect(refusal(await promote(request(main, patch))).code).toBe('promotion_already_applied');
    expect(userTree(main)).toEqual(promoted);
    expect((await promote(request(main, patch, { revert: true }))).applied).toBe(true);
    expect((await promote(request(main, patch))).applied).toBe(true);
    expect((await verifyPromotionLog(main)).entries.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('APPLIED_UNVERIFIED needs acceptUnverified, A6 needs confirmCritical, other statuses are refused', async () => {
    const { main, patch } = await staged();
    const before = userTree(main);
    for (const status of ['INVALID', 'VERIFICATION_FAILED', 'ESCALATE', 'FAILED', 'VALID']) {
      expect(
        refusal(
          await promote(
            request(main, patch, { status, acceptUnverified: true, confirmCritical: true }),
          ),
        ).code,
      ).toBe('promotion_refused');
    }
    const unverified = refusal(
      await promote(request(main, patch, { status: 'APPLIED_UNVERIFIED' })),
    );
    expect(unverified.code).toBe('promotion_confirmation_required');
    expect(unverified.message).toContain('--accept-unverified');
    const critical = refusal(await promote(request(main, patch, { tier: 'A6' })));
    expect(critical.code).toBe('promotion_confirmation_required');
    expect(critical.message).toContain('--confirm-critical');
    expect(
      refusal(
        await promote(
          request(main, patch, { tier: 'A6', status: 'APPLIED_UNVERIFIED', confirmCritical: true }),
        ),
      ).code,
    ).toBe('promotion_confirmation_required');
    expect(userTree(main)).toEqual(before);

    expect(
      (
        await promote(
          request(main, patch, { status: 'APPLIED_UNVERIFIED', acceptUnverified: true }),
        )
      ).applied,
    ).toBe(true);
    expect((await promote(request(main, patch, { revert: true }))).applied).toBe(true);
    const a6 = await promote(
      request(main, patch, { tier: 'A6', confirmCritical: true, runId: 'run-2' }),
    );
    expect(a6.applied).toBe(true);
    expect(a6.log_entry).toMatchObject({ tier: 'A6', run_id: 'run-2' });
  });

  it('refuses a diff that disagrees with its file list or hashes, and a target behind a symlink', async () => {
    const { main, patch } = await staged();
    const before = userTree(main);
    const missing = refusal(await promote(request(main, patch, { files: patch.files.slice(1) })));
    expect(missing.code).toBe('promotion_patch_mismatch');
    expect(missing.files).toEqual(['lib/deep/new.ts']);
    const wrongHash = patch.files.map((f) =>
      f.path === 'src/app.ts' ? { ...f, new_sha256: 'f'.repeat(64) } : f,
    );
    expect(refusal(await promote(request(main, patch, { files: wrongHash }))).code).toBe(
      'promotion_patch_mismatch',
    );
    expect(refusal(await promote(request(main, patch, { missionId: '../escape' }))).code).toBe(
      'promotion_refused',
    );
    const doubled = [...patch.files, patch.files[0]].filter((f) => f !== undefined);
    expect(refusal(await promote(request(main, patch, { files: doubled }))).code).toBe(
      'promotion_patch_mismatch',
    );
    const gone = path.join(main, 'no-such-project');
    expect(refusal(await promote(request(gone, patch))).message).toContain('is not a directory');
    expect(userTree(main)).toEqual(before);

    rmSync(path.join(main, 'scripts'), { recursive: true });
    const elsewhere = dirs.make('promote-elsewhere');
    writeFileSync(path.join(elsewhere, 'run.sh'), baseFiles['scripts/run.sh']);
    symlinkSync(elsewhere, path.join(main, 'scripts'));
    const linked = refusal(await promote(request(main, patch)));
    expect(linked.code).toBe('promotion_refused');
    expect(linked.files).toEqual(['scripts/run.sh']);
    expect(readFileSync(path.join(elsewhere, 'run.sh'), 'utf8')).toBe(baseFiles['scripts/run.sh']);
  });

  it('refuses before writing anything when a file stands where a directory is needed', async () => {
    const { main, patch } = await staged();
    writeFileSync(path.join(main, 'lib'), 'a file named lib\n');
    const before = userTree(main);
    const refused = refusal(await promote(request(main, patch)));
    expect(refused.code).toBe('promotion_refused');
    expect(refused.message).toContain("'lib' is a file, not a directory");
    expect(refused.files).toEqual(['lib/deep/new.ts']);
    expect(userTree(main)).toEqual(before);
    expect(leftovers(main)).toEqual([]);
    expect((await verifyPromotionLog(main)).entries).toEqual([]);
  });

  it('is all or nothing when a later rename fails after earlier ones succeeded', async () => {
    const { main, patch } = await staged();
    const before = userTree(main);
    const renamed: string[] = [];
    const result = await promoteWithHooks(request(main, patch), {
      beforeRename: (target, index) => {
        renamed.push(path.relative(main, target));
        if (index === 2) {
          // Another process replaces the third target with a directory mid-promotion.
          unlinkSync(target);
          mkdirSync(path.join(target, 'inner'), { recursive: true });
        }
      },
    });
    expect(refusal(result).code).toBe('promotion_apply_failed');
    expect(renamed).toEqual(['lib/deep/new.ts', 'scripts/run.sh', 'src/app.ts']);
    const after = userTree(main);
    // The two files renamed in before the failure are back at their base bytes and modes.
    expect(after.get('scripts/run.sh')).toBe(before.get('scripts/run.sh'));
    expect(after.has('lib/deep/new.ts')).toBe(false);
    expect(after.get('src/old.ts')).toBe(before.get('src/old.ts'));
    expect(leftovers(main)).toEqual([]);
    expect((await verifyPromotionLog(main)).entries).toEqual([]);
  });

  it('serialises concurrent promotions: both land, in one valid chain; the same mission lands once', async () => {
    const first = await staged();
    const results = await Promise.all([
      promote(
        request(first.main, first.patch, {
          missionId: 'm-a',
          runId: 'run-a',
          files: first.patch.files.filter((f) => f.path !== 'src/app.ts'),
          diff: sectionsWithout(first.patch.diff, 'src/app.ts'),
        }),
      ),
      promote(
        request(first.main, first.patch, {
          missionId: 'm-b',
          runId: 'run-b',
          files: first.patch.files.filter((f) => f.path === 'src/app.ts'),
          diff: sectionsOnly(first.patch.diff, 'src/app.ts'),
        }),
      ),
    ]);
    expect(results.map((r) => r.refused?.message ?? 'applied')).toEqual(['applied', 'applied']);
    const log = await verifyPromotionLog(first.main);
    expect(log.ok).toBe(true);
    expect(log.entries.map((e) => e.mission_id).sort()).toEqual(['m-a', 'm-b']);

    const second = await staged();
    const same = await Promise.all([
      promote(request(second.main, second.patch)),
      promote(request(second.main, second.patch)),
    ]);
    expect(same.filter((r) => r.applied)).toHaveLength(1);
    expect(same.map((r) => r.refused?.code).filter(Boolean)).toEqual(['promotion_already_applied']);
  });
});

function splitSections(diff: string): string[] {
  return diff.split(/(?=^diff --git )/m).filter((s) => s !== '');
}
function sectionsWithout(diff: string, file: string): string {
  return splitSections(diff)
    .filter((s) => !s.startsWith(`diff --git a/${file} `))
    .join('');
}
function sectionsOnly(diff: string, file: string): string {
  return splitSections(diff)
    .filter((s) => s.startsWith(`diff --git a/${file} `))
    .join('');
}

describe('promotion lock', () => {
  it('takes over a lock left by a process that died', async () => {
    const { main, patch } = await staged();
    const lock = path.join(path.dirname(promotionLogPath(main)), 'promotions.lock');
    mkdirSync(path.dirname(lock), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    expect(dead).toBeGreaterThan(0);
    writeFileSync(lock, JSON.stringify({ pid: dead, host: hostname() }) + '\n');
    expect((await promote(request(main, patch))).applied).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });
});

describe('promotion log', () => {
  it('verifies the chain and detects an edited, removed or reordered line; a damaged log blocks promotion', async () => {
    const { main, patch } = await staged();
    expect((await promote(request(main, patch))).applied).toBe(true);
    expect((await promote(request(main, patch, { revert: true }))).applied).toBe(true);
    expect((await promote(request(main, patch))).applied).toBe(true);
    const file = promotionLogPath(main);
    const original = readFileSync(file, 'utf8');
    expect((await verifyPromotionLog(main)).ok).toBe(true);
    const lines = original.trimEnd().split('\n');

    const tampered = lines.map((line, i) => (i === 1 ? line.replace('"run-1"', '"run-9"') : line));
    writeFileSync(file, tampered.join('\n') + '\n');
    const edited = await verifyPromotionLog(main);
    expect(edited.ok).toBe(false);
    expect(edited.errors).toEqual(['line 2: hash does not match its content (edited)']);

    writeFileSync(file, [lines[0], lines[2]].join('\n') + '\n');
    const removed = await verifyPromotionLog(main);
    expect(removed.errors).toEqual([
      'line 2: prev_hash does not link to the entry before',
      'line 2: seq 3, expected 2',
    ]);

    writeFileSync(file, original.slice(0, -10));
    expect((await verifyPromotionLog(main)).errors).toContain(
      'the last line is incomplete (torn write)',
    );

    writeFileSync(file, tampered.join('\n') + '\n');
    const before = userTree(main);
    const touched: string[] = [];
    const blocked = refusal(
      await promoteWithHooks(request(main, patch, { revert: true }), {
        beforeRename: (target) => {
          touched.push(target);
        },
      }),
    );
    expect(blocked.code).toBe('promotion_log_corrupt');
    expect(blocked.message).toContain('line 2');
    // Refused before any file is touched, not written and then undone when the append refuses.
    expect(touched).toEqual([]);
    expect(userTree(main)).toEqual(before);

    writeFileSync(file, original);
    expect((await verifyPromotionLog(main)).ok).toBe(true);
  });
});

describe('what a refused promotion or revert says', () => {
  it('names the promotion on record, the mission without one, and the files a diff and its list disagree on', async () => {
    const { main, patch } = await staged();
    const none = refusal(await promote(request(main, patch, { revert: true })));
    expect(none).toEqual({
      code: 'promotion_not_found',
      message: 'Mission m-1 has no promotion to revert.',
      files: [],
    });
    expect((await promote(request(main, patch))).applied).toBe(true);
    const again = refusal(await promote(request(main, patch, { runId: 'run-9' })));
    expect(again).toEqual({
      code: 'promotion_already_applied',
      message:
        'Mission m-1 is already promoted (run run-1, log entry 1); revert it first to promote again.',
      files: [],
    });
    // Another mission's promotion is not this one's.
    const other = refusal(await promote(request(main, patch, { missionId: 'm-2', revert: true })));
    expect(other.code).toBe('promotion_not_found');

    const [first, ...rest] = patch.files;
    const unlisted = refusal(
      await promote(request(main, patch, { missionId: 'm-3', files: rest, dryRun: true })),
    );
    expect(unlisted).toEqual({
      code: 'promotion_patch_mismatch',
      message: `The diff and the recorded file list disagree (${first?.path ?? ''} not recorded).`,
      files: [first?.path],
    });
    const extra = { ...first!, path: 'src/never.ts' };
    const notInDiff = refusal(
      await promote(
        request(main, patch, { missionId: 'm-3', files: [...patch.files, extra], dryRun: true }),
      ),
    );
    expect(notInDiff.message).toBe(
      'The diff and the recorded file list disagree (src/never.ts not in the diff).',
    );
    expect(notInDiff.files).toEqual(['src/never.ts']);
  });

  it('a revert needs the very diff that was promoted, and says which entry it checked', async () => {
    const { main, patch } = await staged();
    expect((await promote(request(main, patch))).applied).toBe(true);
    const promoted = userTree(main);
    const other = buildPatch([
      {
        path: 'src/keep.ts',
        change: 'modify',
        base: Buffer.from(baseFiles['src/keep.ts']),
        current: Buffer.from('export const keep = 2;\n'),
        base_sha256: sha256Of(baseFiles['src/keep.ts']),
        new_sha256: sha256Of('export const keep = 2;\n'),
      },
    ]);
    const refused = refusal(
      await promote(request(main, patch, { revert: true, diff: other.diff, files: other.files })),
    );
    expect(refused).toEqual({
      code: 'promotion_patch_mismatch',
      message:
        "The diff given is not the one promoted for mission m-1 (log entry 1); pass the run's patch.diff.",
      files: [],
    });
    expect(userTree(main)).toEqual(promoted);
  });

  it('a section that is not a plain text change of the recorded kind is refused by name', async () => {
    const { main, patch } = await staged();
    const relabelled = patch.files.map((file) =>
      file.path === 'src/app.ts' ? { ...file, change: 'add' as const, base_sha256: null } : file,
    );
    expect(refusal(await promote(request(main, patch, { files: relabelled })))).toEqual({
      code: 'promotion_patch_mismatch',
      message: 'The diff section for src/app.ts is not a plain text add.',
      files: ['src/app.ts'],
    });
  });
});

function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A patch of hand-made changes against `baseFiles` (paths outside it are added). */
function patchOf(changes: Record<string, string | null>): BuiltPatch {
  return buildPatch(
    Object.entries(changes).map(([file, text]) => {
      const base = (baseFiles as Record<string, string>)[file] ?? null;
      return {
        path: file,
        change:
          base === null
            ? ('add' as const)
            : text === null
              ? ('delete' as const)
              : ('modify' as const),
        base: base === null ? null : Buffer.from(base),
        current: text === null ? null : Buffer.from(text),
        base_sha256: base === null ? null : sha256Of(base),
        new_sha256: text === null ? null : sha256Of(text),
      };
    }),
  );
}

describe('what promote checks, word for word', () => {
  it('an invalid request is refused with the field and the reason, keeping its action and dry-run flag', async () => {
    const { main, patch } = await staged();
    const before = userTree(main);
    const badTier = await promote(
      request(main, patch, { tier: 'A7' as 'A5', revert: true, dryRun: true }),
    );
    expect(badTier).toMatchObject({ applied: false, dry_run: true, action: 'revert', files: [] });
    expect(refusal(badTier).code).toBe('promotion_refused');
    expect(refusal(badTier).message).toMatch(/^Invalid promotion request: tier: .*A5.*A6/);
    expect(refusal(badTier).files).toEqual([]);

    const badId = refusal(await promote(request(main, patch, { runId: 'run/../x' })));
    expect(badId.message).toBe('Invalid promotion request: runId: not a safe run id');
    const badFile = patch.files.map((f, i) => (i === 1 ? { ...f, change: 'rename' as 'add' } : f));
    const nested = await promote(request(main, patch, { files: badFile }));
    expect(nested).toMatchObject({ dry_run: false, action: 'promote' });
    expect(refusal(nested).message).toMatch(/^Invalid promotion request: files\.1\.change: \S/);
    expect(userTree(main)).toEqual(before);
  });

  it('a project root that is a file, or given relative, is named by its absolute path', async () => {
    const { main, patch } = await staged();
    const file = path.join(main, 'README.md');
    expect(refusal(await promote(request(file, patch)))).toEqual({
      code: 'promotion_refused',
      message: `The project root ${file} is not a directory.`,
      files: [],
    });
    const relative = path.relative(process.cwd(), path.join(main, 'nowhere'));
    expect(refusal(await promote(request(relative, patch))).message).toBe(
      `The project root ${path.join(main, 'nowhere')} is not a directory.`,
    );
    // A relative root that exists promotes into the directory it resolves to.
    const applied = await promote(request(path.relative(process.cwd(), main), patch));
    expect(applied.refused).toBeUndefined();
    expect(readFileSync(path.join(main, 'lib/deep/new.ts'), 'utf8')).toBe(
      'export const fresh = 1;\n',
    );
  });

  it('a dry run answers the whole plan, in path order, for a promotion and for its revert', async () => {
    const { main, patch } = await staged();
    const reversed = [...patch.files].reverse();
    const plan = stagedPlan;
    expect(await promote(request(main, patch, { files: reversed, dryRun: true }))).toEqual({
      applied: false,
      dry_run: true,
      action: 'promote',
      files: plan,
    });
    expect((await promote(request(main, patch))).applied).toBe(true);
    const promoted = userTree(main);
    expect(await promote(request(main, patch, { revert: true, dryRun: true }))).toEqual({
      applied: false,
      dry_run: true,
      action: 'revert',
      files: plan.map((file) => ({
        path: file.path,
        action: file.action === 'add' ? 'delete' : file.action === 'delete' ? 'add' : 'modify',
      })),
    });
    expect(userTree(main)).toEqual(promoted);
    const reverted = await promote(request(main, patch, { revert: true }));
    expect(reverted.log_entry?.files.map((f) => [f.path, f.change])).toEqual([
      ['lib/deep/new.ts', 'delete'],
      ['scripts/run.sh', 'modify'],
      ['src/app.ts', 'modify'],
      ['src/crlf file.ts', 'modify'],
      ['src/naïve.ts', 'modify'],
      ['src/old.ts', 'add'],
    ]);
  });

  it('names every drifted target with its reason, in path order, and every file the diff does not reproduce', async () => {
    const { main, patch } = await staged();
    unlinkSync(path.join(main, 'src/app.ts'));
    writeFileSync(path.join(main, 'scripts/run.sh'), 'user edit\n');
    mkdirSync(path.join(main, 'lib/deep'), { recursive: true });
    writeFileSync(path.join(main, 'lib/deep/new.ts'), 'here already\n');
    const before = userTree(main);
    const drifted = refusal(
      await promote(request(main, patch, { files: [...patch.files].reverse() })),
    );
    expect(drifted).toEqual({
      code: 'promotion_target_changed',
      message:
        "Files changed since the run's base, so nothing was promoted: lib/deep/new.ts (exists already), scripts/run.sh (changed since the base), src/app.ts (missing). Commit or stash those edits and run the mission again.",
      files: ['lib/deep/new.ts', 'scripts/run.sh', 'src/app.ts'],
    });
    expect(userTree(main)).toEqual(before);

    const fresh = await staged();
    const wrong = fresh.patch.files.map((f) =>
      f.path === 'src/app.ts' || f.path === 'lib/deep/new.ts'
        ? { ...f, new_sha256: 'e'.repeat(64) }
        : f,
    );
    expect(refusal(await promote(request(fresh.main, fresh.patch, { files: wrong })))).toEqual({
      code: 'promotion_patch_mismatch',
      message:
        'The diff does not turn the base into the recorded result for: lib/deep/new.ts, src/app.ts.',
      files: ['lib/deep/new.ts', 'src/app.ts'],
    });
    // A hunk whose context is not in the base does not apply at all.
    const stale = fresh.patch.diff.replace('-  return a + b;', '-  return a * b;');
    expect(stale).not.toBe(fresh.patch.diff);
    const notApplied = refusal(await promote(request(fresh.main, fresh.patch, { diff: stale })));
    expect(notApplied.code).toBe('promotion_patch_mismatch');
    expect(notApplied.files).toEqual(['src/app.ts']);
  });

  it('a delete must remove every line, and drift wins over a mismatch', async () => {
    const twoLines = 'export const old = true;\nexport const still = 1;\n';
    const main = gitProject(dirs, { ...baseFiles, 'src/old.ts': twoLines });
    const partial = patchOf({ 'src/old.ts': null }).diff.replace(
      /@@ -1 \+0,0 @@/,
      '@@ -1,1 +0,0 @@',
    );
    const files = [
      {
        path: 'src/old.ts',
        change: 'delete' as const,
        base_sha256: sha256Of(twoLines),
        new_sha256: null,
      },
    ];
    const base = {
      projectRoot: main,
      missionId: 'm-1',
      runId: 'run-1',
      tier: 'A5' as const,
      status: 'VERIFIED',
    };
    const kept = refusal(await promote({ ...base, diff: partial, files }));
    expect(kept.code).toBe('promotion_patch_mismatch');
    expect(kept.files).toEqual(['src/old.ts']);
    expect(readFileSync(path.join(main, 'src/old.ts'), 'utf8')).toBe(twoLines);

    const { main: other, patch } = await staged();
    writeFileSync(path.join(other, 'src/keep.ts'), 'unrelated\n');
    writeFileSync(path.join(other, 'src/app.ts'), 'drifted\n');
    const wrong = patch.files.map((f) =>
      f.path === 'src/naïve.ts' ? { ...f, new_sha256: 'e'.repeat(64) } : f,
    );
    expect(refusal(await promote(request(other, patch, { files: wrong }))).code).toBe(
      'promotion_target_changed',
    );
  });

  it('an unreadable diff, duplicate sections and an empty diff are refused before any target is read', async () => {
    const { main, patch } = await staged();
    // Four sections whose hunks disagree with their headers: the first three are named.
    const miscounted = ['a', 'b', 'c', 'd']
      .map(
        (name) =>
          `diff --git a/src/${name}.ts b/src/${name}.ts\n--- a/src/${name}.ts\n+++ b/src/${name}.ts\n@@ -1,2 +1,2 @@\n-x\n`,
      )
      .join('');
    const counted = refusal(await promote(request(main, patch, { diff: miscounted })));
    expect(counted.message).toBe(
      "The diff cannot be read: line 6: a hunk of 'src/a.ts' does not match its header counts, line 11: a hunk of 'src/b.ts' does not match its header counts, line 16: a hunk of 'src/c.ts' does not match its header counts",
    );
    const garbled = refusal(
      await promote(request(main, patch, { diff: `garbage\n${patch.diff}` })),
    );
    expect(garbled).toEqual({
      code: 'promotion_patch_mismatch',
      message: "The diff cannot be read: line 1: text before the first 'diff --git' header",
      files: [],
    });
    const doubled = `${patch.diff}${sectionsOnly(patch.diff, 'src/app.ts')}`;
    expect(refusal(await promote(request(main, patch, { diff: doubled })))).toEqual({
      code: 'promotion_patch_mismatch',
      message: 'The diff and the recorded file list disagree (duplicate or empty sections).',
      files: [],
    });
    expect(refusal(await promote(request(main, patch, { diff: '', files: [] })))).toEqual({
      code: 'promotion_patch_mismatch',
      message: 'The diff and the recorded file list disagree (duplicate or empty sections).',
      files: [],
    });
    const both = refusal(
      await promote(
        request(main, patch, {
          diff: sectionsWithout(patch.diff, 'src/app.ts'),
          files: patch.files.filter((f) => f.path !== 'src/old.ts'),
        }),
      ),
    );
    expect(both.message).toBe(
      'The diff and the recorded file list disagree (src/old.ts not recorded; src/app.ts not in the diff).',
    );
    expect(both.files).toEqual(['src/old.ts', 'src/app.ts']);
  });

  it('a binary, mode-change or rename section is refused by name even when its kind matches', async () => {
    const { main, patch } = await staged();
    const keep = patchOf({ 'src/keep.ts': 'export const keep = 2;\n' });
    const header = 'diff --git a/src/keep.ts b/src/keep.ts\n';
    const variants = {
      binary: `${header}index 1111111..2222222 100644\nBinary files a/src/keep.ts and b/src/keep.ts differ\n`,
      mode: `${header}old mode 100644\nnew mode 100755\n`,
      rename: `diff --git a/src/keep.ts b/src/kept.ts\nsimilarity index 100%\nrename from src/keep.ts\nrename to src/kept.ts\n`,
    };
    for (const [name, section] of Object.entries(variants)) {
      expect(
        refusal(await promote(request(main, patch, { diff: section, files: keep.files }))),
        name,
      ).toEqual({
        code: 'promotion_patch_mismatch',
        message: 'The diff section for src/keep.ts is not a plain text modify.',
        files: ['src/keep.ts'],
      });
    }
    // The same file as a plain text modify passes those checks.
    expect(
      (await promote(request(main, patch, { diff: keep.diff, files: keep.files }))).applied,
    ).toBe(true);
    expect(readFileSync(path.join(main, 'src/keep.ts'), 'utf8')).toBe('export const keep = 2;\n');
  });
});

describe('the apply and its undo', () => {
  it('a promotion the log cannot record is undone: added files and their directories go, deleted ones come back, modes kept', async () => {
    const { main, patch } = await staged();
    chmodSync(path.join(main, 'src/old.ts'), 0o600);
    const before = userTree(main);
    const log = promotionLogPath(main);
    const result = await promoteWithHooks(request(main, patch), {
      beforeRename: (_target, index) => {
        // Once the checks have passed, the log's path becomes a directory: the append fails.
        if (index === 0) mkdirSync(log, { recursive: true });
      },
    });
    expect(refusal(result)).toEqual({
      code: 'promotion_apply_failed',
      message: expect.stringMatching(
        new RegExp(
          `^Could not record the promote in ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(.*EISDIR.*\\); every file was put back as it was\\.$`,
        ),
      ) as string,
      files: [],
    });
    // lib/deep, made for the added file, is gone again as well.
    expect(userTree(main)).toEqual(before);
    expect(statSync(path.join(main, 'scripts/run.sh')).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(main, 'src/old.ts')).mode & 0o777).toBe(0o600);
    expect(leftovers(main)).toEqual([]);

    // The same for a revert: the promoted files stay as promoted.
    rmSync(log, { recursive: true });
    expect((await promote(request(main, patch))).applied).toBe(true);
    const promoted = userTree(main);
    const original = readFileSync(log);
    const revert = await promoteWithHooks(request(main, patch, { revert: true }), {
      beforeRename: () => {
        // The first rename of the revert (the undo's renames come after and leave it alone).
        if (!existsSync(log) || statSync(log).isDirectory()) return;
        rmSync(log);
        mkdirSync(log);
      },
    });
    expect(refusal(revert).message).toMatch(/^Could not record the revert in .*EISDIR/);
    expect(userTree(main)).toEqual(promoted);
    expect(leftovers(main)).toEqual([]);
    rmSync(log, { recursive: true });
    writeFileSync(log, original);
    expect((await promote(request(main, patch, { revert: true }))).applied).toBe(true);
  });

  it('a log line whose fsync fails is cut off again, and the promotion undone: the log and the files agree', async () => {
    const { main, patch } = await staged();
    const before = userTree(main);
    const log = promotionLogPath(main);
    const failingSync: typeof open = async (...args: Parameters<typeof open>) => {
      const handle = await open(...args);
      handle.sync = () =>
        Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      return handle;
    };
    const result = await promoteWithHooks(request(main, patch), { openLogFile: failingSync });
    expect(refusal(result)).toEqual({
      code: 'promotion_apply_failed',
      message: `Could not record the promote in ${log} (EIO: i/o error, fsync); every file was put back as it was.`,
      files: [],
    });
    expect(userTree(main)).toEqual(before);
    // The line had been written before its fsync failed; it is gone, so the log shows nothing.
    expect(readFileSync(log, 'utf8')).toBe('');
    expect(await verifyPromotionLog(main)).toMatchObject({ ok: true, entries: [] });
    const again = await promote(request(main, patch));
    expect(again.log_entry?.seq).toBe(1);

    // The first line also needs its directory fsynced; if that fails, the line goes too.
    const fresh = await staged();
    const freshLog = promotionLogPath(fresh.main);
    const freshBefore = userTree(fresh.main);
    const failingDirSync: typeof open = async (...args: Parameters<typeof open>) => {
      const handle = await open(...args);
      if (args[0] === path.dirname(freshLog)) {
        handle.sync = () =>
          Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      }
      return handle;
    };
    const dirFailed = await promoteWithHooks(request(fresh.main, fresh.patch), {
      openLogFile: failingDirSync,
    });
    expect(refusal(dirFailed).code).toBe('promotion_apply_failed');
    expect(userTree(fresh.main)).toEqual(freshBefore);
    expect(readFileSync(freshLog, 'utf8')).toBe('');
  });

  it('a promotion neither recorded nor undone says so, file by file, as the files really are', async () => {
    const written = stagedPlan.map((file) => file.path);
    const tail = (action: string) =>
      `Until they are put back the promotion log does not match them: fix the disk, then \`git apply -R --include=<file> ${path.join('.codex-oss', 'missions', 'm-1', 'patch.diff')}\` for each file the ${action} wrote, and ${action} again.`;

    // The undo fails at its first rename: nothing of it happened.
    {
      const { main, patch } = await staged();
      const result = await promoteWithHooks(
        request(main, patch),
        failAppendThenUndo(main, patch.files.length + 1),
      );
      const refused = refusal(result);
      expect(refused.code).toBe('promotion_unrecorded');
      expect(refused.message).toMatch(
        /^The promote wrote its files but could not be recorded in .*promotions\.jsonl \(EISDIR[^)]*\), and undoing it failed \(read-only file system\)\. /,
      );
      expect(refused.message).toContain(
        `Now as the promote wrote them: ${written.join(', ')}. ${tail('promote')}`,
      );
      expect(refused.files).toEqual(written);
      for (const file of patch.files) {
        expect(userTree(main).get(file.path)?.split(':')[1] ?? null, file.path).toBe(
          file.new_sha256,
        );
      }
      expect(leftovers(main)).toEqual([]);
    }

    // The undo fails at its third rename, and its own rollback cannot restore the first two
    // (their backups are gone): those two are back at their base, the rest as promoted.
    {
      const { main, patch } = await staged();
      const before = userTree(main);
      const result = await promoteWithHooks(
        request(main, patch),
        failAppendThenUndo(main, patch.files.length + 3, () => {
          for (const file of leftovers(main).filter((name) => name.endsWith('-old'))) {
            unlinkSync(path.join(main, file));
          }
          // And someone else writes one of the files meanwhile.
          writeFileSync(path.join(main, 'src/crlf file.ts'), 'a third version\n');
        }),
      );
      const refused = refusal(result);
      expect(refused.code).toBe('promotion_unrecorded');
      expect(refused.message).toContain(
        `Now as the promote wrote them: src/app.ts, src/naïve.ts, src/old.ts; back as before: lib/deep/new.ts, scripts/run.sh; neither (check by hand): src/crlf file.ts. ${tail('promote')}`,
      );
      expect(refused.files).toEqual([
        'src/app.ts',
        'src/naïve.ts',
        'src/old.ts',
        'src/crlf file.ts',
      ]);
      const after = userTree(main);
      expect(after.get('scripts/run.sh')).toBe(before.get('scripts/run.sh'));
      expect(after.has('lib/deep/new.ts')).toBe(false);
      expect(after.has('src/old.ts')).toBe(false);
    }

    // A revert that is neither recorded nor undone: its files are put back with a forward apply.
    {
      const { main, patch } = await staged();
      expect((await promote(request(main, patch))).applied).toBe(true);
      const log = promotionLogPath(main);
      const original = readFileSync(log);
      const result = await promoteWithHooks(
        request(main, patch, { revert: true }),
        failAppendThenUndo(main, patch.files.length + 1),
      );
      const refused = refusal(result);
      expect(refused.code).toBe('promotion_unrecorded');
      expect(refused.message).toContain(
        `Now as the revert wrote them: ${written.join(', ')}. Until they are put back the promotion log does not match them: fix the disk, then \`git apply --include=<file> ${path.join('.codex-oss', 'missions', 'm-1', 'patch.diff')}\` for each file the revert wrote, and revert again.`,
      );
      expect(refused.message).toMatch(/^The revert wrote its files but could not be recorded/);
      rmSync(log, { recursive: true });
      writeFileSync(log, original);
    }
  });

  it('a step that fails after its temp file was written removes that temp file too', async () => {
    const { main, patch } = await staged();
    const result = await promoteWithHooks(request(main, patch), {
      beforePrepare: (target, index) => {
        // src/app.ts becomes a directory: its new content is written beside it, then its backup
        // (a hard link, else a copy) cannot be made.
        if (index === 2) {
          unlinkSync(target);
          mkdirSync(target);
        }
      },
    });
    expect(refusal(result)).toMatchObject({ code: 'promotion_apply_failed', files: [] });
    expect(refusal(result).message).toMatch(
      /^Could not write src\/app\.ts \(.+\); every file was left as it was\.$/,
    );
    expect(leftovers(main)).toEqual([]);
    expect(readFileSync(path.join(main, 'scripts/run.sh'), 'utf8')).toBe(
      baseFiles['scripts/run.sh'],
    );
    expect(existsSync(path.join(main, 'lib'))).toBe(false);
  });

  it('a target swapped for a FIFO, a symlink or a directory after its check is refused, without blocking', async () => {
    const swaps: [string, (target: string) => void, string][] = [
      ['a special file', (target) => execFileSync('mkfifo', [target]), 'FIFO'],
      ['a symbolic link', (target) => symlinkSync('/etc/hostname', target), 'symlink'],
      ['a directory', (target) => mkdirSync(target), 'directory'],
    ];
    for (const [what, swap, name] of swaps) {
      const { main, patch } = await staged();
      const result = await promoteWithHooks(request(main, patch), {
        beforeRead: (target) => {
          if (!target.endsWith(path.join('src', 'app.ts'))) return;
          unlinkSync(target);
          swap(target);
        },
      });
      expect(refusal(result), name).toEqual({
        code: 'promotion_refused',
        message: `src/app.ts became ${what} during the promotion, so nothing was written; look at what replaced it, then promote again.`,
        files: ['src/app.ts'],
      });
      // The lock was let go: the next promotion of the project gets as far as its own checks.
      expect(refusal(await promote(request(main, patch))).code, name).toBe('promotion_refused');
      expect(readFileSync(path.join(main, 'scripts/run.sh'), 'utf8')).toBe(
        baseFiles['scripts/run.sh'],
      );
    }
  });

  it('a failed rename puts back a deleted file, removes the directories it made, and says which file failed', async () => {
    const main = gitProject(dirs, { ...baseFiles, 'lib/other.ts': 'other\n' });
    const patch = patchOf({
      'src/old.ts': null,
      'src/zz/deep/new.ts': 'new\n',
      'lib/fresh/a.ts': 'a\n',
    });
    expect(patch.files.map((f) => f.path)).toEqual([
      'lib/fresh/a.ts',
      'src/old.ts',
      'src/zz/deep/new.ts',
    ]);
    const before = userTree(main);
    const result = await promoteWithHooks(request(main, patch), {
      beforeRename: (_target, index) => {
        if (index === 2) throw new Error('disk said no');
      },
    });
    expect(refusal(result)).toEqual({
      code: 'promotion_apply_failed',
      message: 'Could not write src/zz/deep/new.ts (disk said no); every file was left as it was.',
      files: [],
    });
    // src/old.ts was deleted and lib/fresh/a.ts renamed in before the failure: both undone, and
    // the directories made for the added files are gone, while lib (which was there) stays.
    expect(userTree(main)).toEqual(before);
    expect(existsSync(path.join(main, 'src/zz'))).toBe(false);
    expect(existsSync(path.join(main, 'lib/fresh'))).toBe(false);
    expect(readFileSync(path.join(main, 'lib/other.ts'), 'utf8')).toBe('other\n');
    expect(leftovers(main)).toEqual([]);
    expect((await verifyPromotionLog(main)).entries).toEqual([]);
  });

  it('a directory made for an added file stays when something else moved into it meanwhile', async () => {
    const main = gitProject(dirs, baseFiles);
    const patch = patchOf({ 'lib/fresh/a.ts': 'a\n', 'src/keep.ts': 'export const keep = 3;\n' });
    const result = await promoteWithHooks(request(main, patch), {
      beforeRename: (_target, index) => {
        if (index === 1) {
          writeFileSync(path.join(main, 'lib/fresh/user.ts'), 'written meanwhile\n');
          throw new Error('late failure');
        }
      },
    });
    expect(refusal(result).code).toBe('promotion_apply_failed');
    expect(existsSync(path.join(main, 'lib/fresh/a.ts'))).toBe(false);
    expect(readFileSync(path.join(main, 'lib/fresh/user.ts'), 'utf8')).toBe('written meanwhile\n');
    expect(readFileSync(path.join(main, 'src/keep.ts'), 'utf8')).toBe(baseFiles['src/keep.ts']);
    expect(leftovers(main)).toEqual([]);
  });
});

describe('what a revert and the status gate check', () => {
  it('a revert needs neither flag nor a promotable status: it only undoes what is on record', async () => {
    const { main, patch } = await staged();
    const before = userTree(main);
    const flagged = { tier: 'A6' as const, status: 'APPLIED_UNVERIFIED' };
    const promoted = await promote(
      request(main, patch, { ...flagged, acceptUnverified: true, confirmCritical: true }),
    );
    expect(promoted).toMatchObject({ applied: true, dry_run: false, action: 'promote' });
    const reverted = await promote(request(main, patch, { ...flagged, revert: true }));
    expect(reverted.refused).toBeUndefined();
    expect(reverted).toMatchObject({ applied: true, dry_run: false, action: 'revert' });
    expect(new Map([...userTree(main)].filter(([, v]) => v !== 'dir'))).toEqual(
      new Map([...before].filter(([, v]) => v !== 'dir')),
    );
    expect(refusal(await promote(request(main, patch, { status: 'FAILED' })))).toEqual({
      code: 'promotion_refused',
      message:
        'Only VERIFIED runs (or APPLIED_UNVERIFIED ones with --accept-unverified) can be promoted; this run is FAILED.',
      files: [],
    });
  });

  it('hashes that do not fit the change are an invalid request', async () => {
    const { main, patch } = await staged();
    const index = patch.files.findIndex((f) => f.change === 'add');
    const withBase = patch.files.map((f, i) =>
      i === index ? { ...f, base_sha256: 'a'.repeat(64) } : f,
    );
    expect(refusal(await promote(request(main, patch, { files: withBase }))).message).toBe(
      `Invalid promotion request: files.${index}.base_sha256: base_sha256 must be null for an added file, and only then`,
    );
    const modify = patch.files.findIndex((f) => f.change === 'modify');
    const noResult = patch.files.map((f, i) => (i === modify ? { ...f, new_sha256: null } : f));
    expect(refusal(await promote(request(main, patch, { files: noResult }))).message).toBe(
      `Invalid promotion request: files.${modify}.new_sha256: new_sha256 must be null for a deleted file, and only then`,
    );
    const cases: [string, Partial<PromoteRequest['files'][number]>, string][] = [
      [
        'modify',
        { base_sha256: null },
        'base_sha256: base_sha256 must be null for an added file, and only then',
      ],
      [
        'delete',
        { base_sha256: null },
        'base_sha256: base_sha256 must be null for an added file, and only then',
      ],
      [
        'delete',
        { new_sha256: 'b'.repeat(64) },
        'new_sha256: new_sha256 must be null for a deleted file, and only then',
      ],
      [
        'add',
        { new_sha256: null },
        'new_sha256: new_sha256 must be null for a deleted file, and only then',
      ],
    ];
    for (const [change, override, message] of cases) {
      const at = patch.files.findIndex((f) => f.change === change);
      const files = patch.files.map((f, i) => (i === at ? { ...f, ...override } : f));
      expect(refusal(await promote(request(main, patch, { files }))).message, change).toBe(
        `Invalid promotion request: files.${at}.${message}`,
      );
    }
    expect(readFileSync(path.join(main, 'src/app.ts'), 'utf8')).toBe(baseFiles['src/app.ts']);
  });

  it('names what changed since the promotion, and a damaged log by its first three faults', async () => {
    const { main, patch } = await staged();
    expect((await promote(request(main, patch))).applied).toBe(true);
    writeFileSync(path.join(main, 'src/keep.ts'), 'not in the patch\n');
    writeFileSync(path.join(main, 'src/naïve.ts'), 'edited after\n');
    writeFileSync(path.join(main, 'scripts/run.sh'), 'edited after\n');
    expect(refusal(await promote(request(main, patch, { revert: true })))).toEqual({
      code: 'promotion_target_changed',
      message:
        'Files changed since the promotion, so nothing was reverted: scripts/run.sh, src/naïve.ts. Revert those by hand (the promotion log has their hashes).',
      files: ['scripts/run.sh', 'src/naïve.ts'],
    });

    const log = promotionLogPath(main);
    writeFileSync(log, 'not json\n{"also": "wrong"}\n[]\n{}\n');
    const faults = (await verifyPromotionLog(main)).errors;
    expect(faults.length).toBeGreaterThan(3);
    expect(refusal(await promote(request(main, patch, { revert: true })))).toEqual({
      code: 'promotion_log_corrupt',
      message: `The promotion log is damaged: ${faults.slice(0, 3).join(', ')}`,
      files: [],
    });
  });

  it('a log entry the diff does not reproduce is refused on revert, by file', async () => {
    const main = gitProject(dirs, baseFiles);
    const keep = patchOf({ 'src/keep.ts': 'export const keep = 2;\n' });
    const keepSha = (text: string) => sha256Of(text);
    // Entries written by something other than promote (the chain links; the content lies).
    const forge = async (
      missionId: string,
      files: {
        path: string;
        change: 'add' | 'modify' | 'delete';
        before_sha256: string | null;
        after_sha256: string | null;
      }[],
    ) =>
      appendPromotionEntry(
        main,
        {
          action: 'promote',
          mission_id: missionId,
          run_id: 'run-f',
          tier: 'A5',
          status: 'VERIFIED',
          files,
          patch_sha256: sha256Of(keep.diff),
        },
        await verifyPromotionLog(main),
      );
    const revert = async (missionId: string) =>
      refusal(
        await promote({
          projectRoot: main,
          missionId,
          runId: 'run-f',
          tier: 'A5',
          status: 'VERIFIED',
          diff: keep.diff,
          files: keep.files,
          revert: true,
        }),
      );
    const mismatch = (file: string) => ({
      code: 'promotion_patch_mismatch',
      message: `Reversing the diff does not restore the recorded content of: ${file}.`,
      files: [file],
    });
    const base = baseFiles['src/keep.ts'];
    // The diff's result is not what is there: reversing it does not apply.
    await forge('m-noapply', [
      {
        path: 'src/keep.ts',
        change: 'modify',
        before_sha256: keepSha(base),
        after_sha256: keepSha(base),
      },
    ]);
    expect(await revert('m-noapply')).toEqual(mismatch('src/keep.ts'));
    // A file on record that the diff does not hold.
    await forge('m-ghost', [
      {
        path: 'src/ghost.ts',
        change: 'modify',
        before_sha256: keepSha('x'),
        after_sha256: keepSha('y'),
      },
    ]);
    expect(await revert('m-ghost')).toEqual(mismatch('src/ghost.ts'));

    writeFileSync(path.join(main, 'src/keep.ts'), 'export const keep = 2;\n');
    const after = keepSha('export const keep = 2;\n');
    // Reversing applies, but gives other bytes than the recorded base.
    await forge('m-base', [
      { path: 'src/keep.ts', change: 'modify', before_sha256: 'a'.repeat(64), after_sha256: after },
    ]);
    expect(await revert('m-base')).toEqual(mismatch('src/keep.ts'));
    // Recorded as added, but reversing leaves text behind, so deleting it would lose that text.
    await forge('m-add', [
      { path: 'src/keep.ts', change: 'add', before_sha256: null, after_sha256: after },
    ]);
    expect(await revert('m-add')).toEqual(mismatch('src/keep.ts'));
    expect(readFileSync(path.join(main, 'src/keep.ts'), 'utf8')).toBe('export const keep = 2;\n');
    // And the honest entry reverts.
    await forge('m-true', [
      { path: 'src/keep.ts', change: 'modify', before_sha256: keepSha(base), after_sha256: after },
    ]);
    const undone = await promote({
      projectRoot: main,
      missionId: 'm-true',
      runId: 'run-f',
      tier: 'A5',
      status: 'VERIFIED',
      diff: keep.diff,
      files: keep.files,
      revert: true,
    });
    expect(undone.refused).toBeUndefined();
    expect(readFileSync(path.join(main, 'src/keep.ts'), 'utf8')).toBe(base);
  });

  it('a failure while preparing removes every temp file, backup and directory made, and renames nothing', async () => {
    const { main, patch } = await staged();
    const before = userTree(main);
    const renamed: string[] = [];
    const result = await promoteWithHooks(request(main, patch), {
      beforePrepare: (_target, index) => {
        if (index === 2) throw new Error('no space left');
      },
      beforeRename: (target) => {
        renamed.push(target);
      },
    });
    expect(refusal(result)).toEqual({
      code: 'promotion_apply_failed',
      message: 'Could not write src/app.ts (no space left); every file was left as it was.',
      files: [],
    });
    expect(renamed).toEqual([]);
    // lib/deep was made for the added file's temp copy, and scripts/run.sh got a backup link.
    expect(userTree(main)).toEqual(before);
    expect(existsSync(path.join(main, 'lib'))).toBe(false);
    expect(leftovers(main)).toEqual([]);
    expect((await verifyPromotionLog(main)).entries).toEqual([]);
  });
});

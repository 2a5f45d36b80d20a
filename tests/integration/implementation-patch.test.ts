import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildPatch,
  checkPatch,
  isDependencyManifest,
  isTestFile,
  runGitApply,
  StagedWorkspace,
  type FileChange,
  type PatchCheckMission,
  type PatchVerdict,
} from '../../src/implementation/index.js';
import { criticalRoots } from '../../src/mission/index.js';
import type { ImplementationKit } from '../../src/runtime/implementation-ports.js';
import { openEventLog, readEventLog, runPaths } from '../../src/events/index.js';
import {
  copyTree,
  git,
  gitProject,
  hashTree,
  sha256,
  TempDirs,
} from '../support/implementation-fixtures.js';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const baseFiles = {
  'src/app.ts': 'export function add(a: number, b: number) {\n  return a + b;\n}\n',
  'src/no-newline.ts': 'const a = 1;\nconst b = 2;',
  'src/old.ts': 'export const old = true;\n',
  'src/long.ts':
    Array.from({ length: 10 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n',
  'src/auth/session.ts': 'export const ttl = 60;\n',
  'tests/app.test.ts':
    "import { it } from 'vitest';\n\nit('adds', () => {});\n\nit('subtracts', () => {});\n",
  'package.json': '{ "name": "demo" }\n',
  'docs/guide.md': '# Guide\n',
  'src/crlf.ts': 'one\r\ntwo\r\nthree\r\n',
  'src/with space.ts': 'spaced\n',
  'src/naïve.ts': 'unicode\n',
  'assets/logo.bin': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0xff, 0xfe]),
};

const mission: PatchCheckMission = {
  owned_paths: ['src/', 'tests/', 'package.json', 'assets/'],
  max_files_changed: 10,
  max_patch_bytes: 20_000,
  allow_deletions: true,
  critical_path_write_allowed: false,
  critical_path_reason: null,
};

/** A git project, its isolation copy and a staged workspace over the copy. */
function setup(owned: readonly string[] = [...mission.owned_paths, 'docs/']) {
  const project = gitProject(dirs, baseFiles);
  const root = copyTree(dirs, project, 'impl-root');
  const ws = new StagedWorkspace({
    root,
    ownedPaths: owned,
    allowDeletions: true,
    criticalRoots,
    criticalWriteAllowed: true,
  });
  return { project, root, ws };
}

function failedChecks(verdict: PatchVerdict): string[] {
  return verdict.checks.filter((check) => !check.ok).map((check) => check.name);
}

async function ok(result: Promise<{ ok: boolean; message?: string }>): Promise<void> {
  const settled = await result;
  expect(settled.ok, settled.message).toBe(true);
}

describe('buildPatch', () => {
  it('builds a git diff that git applies to a copy of the base, giving exactly the staged tree; rollback restores the base', async () => {
    const { project, root, ws } = setup();
    await ok(ws.edit('src/app.ts', '  return a + b;', '  // sum\n  return a + b;'));
    await ok(ws.edit('src/no-newline.ts', 'const b = 2;', 'const b = 3;'));
    await ok(ws.write('src/new/feature.ts', 'export const feature = 1;\n'));
    await ok(ws.write('src/empty.ts', ''));
    await ok(ws.delete('src/old.ts'));
    await ok(ws.edit('src/crlf.ts', 'two', 'deux'));
    await ok(ws.write('src/with space.ts', 'spaced out\n'));
    await ok(ws.edit('src/naïve.ts', 'unicode', 'ünïcödé'));
    const patch = buildPatch(ws.changes());

    expect(patch.diff).toContain(
      'diff --git a/src/new/feature.ts b/src/new/feature.ts\nnew file mode 100644\n--- /dev/null\n+++ b/src/new/feature.ts\n',
    );
    expect(patch.diff).toContain(
      'diff --git a/src/old.ts b/src/old.ts\ndeleted file mode 100644\n--- a/src/old.ts\n+++ /dev/null\n',
    );
    expect(patch.diff).toContain('\\ No newline at end of file');
    expect(patch.bytes).toBe(Buffer.byteLength(patch.diff));
    expect(patch.files.map((f) => [f.path, f.change, f.added_lines, f.removed_lines])).toEqual([
      ['src/app.ts', 'modify', 1, 0],
      ['src/crlf.ts', 'modify', 1, 1],
      ['src/empty.ts', 'add', 0, 0],
      ['src/naïve.ts', 'modify', 1, 1],
      ['src/new/feature.ts', 'add', 1, 0],
      ['src/no-newline.ts', 'modify', 1, 1],
      ['src/old.ts', 'delete', 0, 1],
      ['src/with space.ts', 'modify', 1, 1],
    ]);
    const old = patch.files.find((f) => f.path === 'src/old.ts');
    expect(old?.base_sha256).toBe(sha256(baseFiles['src/old.ts']));
    expect(old?.new_sha256).toBeNull();

    // Real git, outside a repository: the plain copy of the base.
    const plain = copyTree(dirs, project, 'impl-apply');
    const baseTree = hashTree(plain);
    const applied = await runGitApply({ cwd: plain, args: [], diff: patch.diff });
    expect(applied.stderr).not.toContain('Skipped');
    expect(applied.ok).toBe(true);
    expect(hashTree(plain)).toEqual(hashTree(root));
    const rolledBack = await runGitApply({ cwd: plain, args: [], diff: patch.rollback });
    expect(rolledBack.ok, rolledBack.stderr).toBe(true);
    expect(hashTree(plain)).toEqual(baseTree);

    // And inside the git project itself, with git's own CLI.
    git(project, ['apply', '--check', '-'], patch.diff);
    git(project, ['apply', '-'], patch.diff);
    expect(hashTree(project)).toEqual(hashTree(root));
    git(project, ['apply', '-'], patch.rollback);
    expect(git(project, ['status', '--porcelain'])).toBe('');
  });

  it('marks whole-file rewrites and binary sides', async () => {
    const { ws } = setup();
    await ok(ws.write('src/long.ts', 'export const all = [];\n'));
    const [rewrite] = buildPatch(ws.changes()).files;
    expect(rewrite).toMatchObject({
      path: 'src/long.ts',
      whole_file_rewrite: true,
      removed_lines: 10,
    });
    const small = buildPatch([
      change(
        'src/long.ts',
        baseFiles['src/long.ts'],
        baseFiles['src/long.ts'].replace('v3 = 3', 'v3 = 30'),
      ),
    ]);
    expect(small.files[0]?.whole_file_rewrite).toBe(false);
    const binary = buildPatch([change('assets/logo.bin', baseFiles['assets/logo.bin'], null)]);
    expect(binary.files[0]).toMatchObject({ added_lines: 0, removed_lines: 0 });
    expect(binary.diff).toContain('Binary files differ');
  });
});

function change(
  file: string,
  before: string | Buffer | null,
  after: string | Buffer | null,
): FileChange {
  const base = before === null ? null : Buffer.from(before);
  const current = after === null ? null : Buffer.from(after);
  return {
    path: file,
    change: base === null ? 'add' : current === null ? 'delete' : 'modify',
    base,
    current,
    base_sha256: base === null ? null : sha256(base),
    new_sha256: current === null ? null : sha256(current),
  };
}

describe('checkPatch', () => {
  it('passes a scoped, small, clean patch (outside a git repo and inside one)', async () => {
    const { project, root, ws } = setup();
    await ok(ws.edit('src/app.ts', 'a + b', 'b + a'));
    const patch = buildPatch(ws.changes());
    const base = copyTree(dirs, project, 'impl-base');
    for (const baseRoot of [base, project]) {
      const verdict = await checkPatch({ patch, mission, baseRoot, criticalRoots });
      expect(failedChecks(verdict)).toEqual([]);
      expect(verdict.status).toBe('VALID');
      expect(verdict.reasons).toEqual([]);
      expect(verdict.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining([
          'paths_allowed',
          'path_escape',
          'critical_paths_touched',
          'max_files_ok',
          'max_patch_size_ok',
          'applies_cleanly',
          'secret_scan_ok',
          'binary_changes',
          'mode_changes',
          'deletions_allowed',
          'patch_noop',
        ]),
      );
    }
    expect(root).not.toBe(project);
  });

  it('runs git apply --check against the base directory even when a repository sits above it', async () => {
    const outer = gitProject(dirs, { 'README.md': 'outer\n' });
    const nested = path.join(outer, 'nested-base');
    cpSync(gitProject(dirs, baseFiles), nested, {
      recursive: true,
      filter: (src) => !src.endsWith('.git'),
    });
    const patch = buildPatch([
      change(
        'src/app.ts',
        baseFiles['src/app.ts'],
        baseFiles['src/app.ts'].replace('a + b', 'b + a'),
      ),
    ]);
    const verdict = await checkPatch({ patch, mission, baseRoot: nested, criticalRoots });
    expect(failedChecks(verdict)).toEqual([]);
    // Without the ceiling git would skip every path (exit 0) and a patch that cannot apply would pass.
    writeFileSync(path.join(nested, 'src/app.ts'), 'moved on\n');
    const moved = await checkPatch({
      patch: { diff: patch.diff },
      mission,
      baseRoot: nested,
      criticalRoots,
    });
    expect(failedChecks(moved)).toEqual(['applies_cleanly']);
  });

  it('fails paths_allowed alone for a file outside the owned paths', async () => {
    const { project, ws } = setup();
    await ok(ws.write('docs/guide.md', '# Guide, edited\n'));
    const verdict = await checkPatch({
      patch: buildPatch(ws.changes()),
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(verdict)).toEqual(['paths_allowed']);
    expect(verdict.status).toBe('INVALID');
    expect(verdict.repairable).toBe(true);
    expect(verdict.reasons[0]).toContain('docs/guide.md');
  });

  it('fails paths_allowed for a denied path even when the mission owns its directory', async () => {
    const { project } = setup();
    const patch = buildPatch([change('src/.env', null, 'LOG_LEVEL=debug\n')]);
    const verdict = await checkPatch({ patch, mission, baseRoot: project, criticalRoots });
    expect(failedChecks(verdict)).toEqual(['paths_allowed']);
    expect(verdict.reasons[0]).toContain('path_denied');
  });

  it('fails path_escape for `..` in a diff header (and does not run git apply)', async () => {
    const { project } = setup();
    const diff =
      'diff --git a/src/../../etc/passwd b/src/../../etc/passwd\n--- a/src/../../etc/passwd\n+++ b/src/../../etc/passwd\n@@ -1 +1 @@\n-x\n+y\n';
    const verdict = await checkPatch({
      patch: { diff },
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(verdict)).toEqual(['path_escape', 'applies_cleanly']);
    expect(verdict.checks.find((c) => c.name === 'applies_cleanly')?.detail).toContain('not run');
  });

  it('a critical path fails without permission and escalates with it', async () => {
    const { project } = setup();
    const patch = buildPatch([
      change('src/auth/session.ts', baseFiles['src/auth/session.ts'], 'export const ttl = 30;\n'),
    ]);
    const denied = await checkPatch({ patch, mission, baseRoot: project, criticalRoots });
    expect(failedChecks(denied)).toEqual(['critical_paths_touched']);
    expect(denied.status).toBe('INVALID');
    const withReasonOnly = await checkPatch({
      patch,
      mission: { ...mission, critical_path_write_allowed: true },
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(withReasonOnly)).toEqual(['critical_paths_touched']);
    const allowed = await checkPatch({
      patch,
      mission: {
        ...mission,
        critical_path_write_allowed: true,
        critical_path_reason: 'shorter sessions (ticket 12)',
      },
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(allowed)).toEqual([]);
    expect(allowed.status).toBe('ESCALATE');
    expect(allowed.flags).toContainEqual(
      expect.objectContaining({ code: 'critical_path_write', path: 'src/auth/session.ts' }),
    );
  });

  it('fails max_files_ok and max_patch_size_ok on their own', async () => {
    const { project, ws } = setup();
    await ok(ws.edit('src/app.ts', 'a + b', 'b + a'));
    await ok(ws.write('src/extra.ts', 'export {};\n'));
    const patch = buildPatch(ws.changes());
    const files = await checkPatch({
      patch,
      mission: { ...mission, max_files_changed: 1 },
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(files)).toEqual(['max_files_ok']);
    expect(files.reasons[0]).toContain('at most 1 file');
    const bytes = await checkPatch({
      patch,
      mission: { ...mission, max_patch_bytes: patch.bytes - 1 },
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(bytes)).toEqual(['max_patch_size_ok']);
    const exact = await checkPatch({
      patch,
      mission: { ...mission, max_patch_bytes: patch.bytes },
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(exact)).toEqual([]);
  });

  it('fails applies_cleanly alone when the base does not hold what the diff expects', async () => {
    const { project, ws } = setup();
    await ok(ws.edit('src/app.ts', 'a + b', 'b + a'));
    const patch = buildPatch(ws.changes());
    const moved = copyTree(dirs, project, 'impl-moved');
    writeFileSync(path.join(moved, 'src/app.ts'), 'something else entirely\n');
    const verdict = await checkPatch({
      patch: { diff: patch.diff },
      mission,
      baseRoot: moved,
      criticalRoots,
    });
    expect(failedChecks(verdict)).toEqual(['applies_cleanly']);
    expect(verdict.checks.find((c) => c.name === 'applies_cleanly')?.detail).toContain(
      'src/app.ts',
    );
    // With the recorded hashes the moved base is named as such, and cannot be repaired by edits.
    const withFiles = await checkPatch({ patch, mission, baseRoot: moved, criticalRoots });
    expect(failedChecks(withFiles)).toEqual(['base_sha_match', 'applies_cleanly']);
    expect(withFiles.repairable).toBe(false);
  });

  it('fails secret_scan_ok for an AWS key or a GitHub token in added lines, not in removed ones', async () => {
    const { project, ws } = setup();
    await ok(ws.write('src/config.ts', "export const aws = 'AKIAIOSFODNN7EXAMPLE';\n"));
    await ok(
      ws.edit(
        'src/app.ts',
        '  return a + b;',
        "  const gh = 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789';\n  return a + b;",
      ),
    );
    const verdict = await checkPatch({
      patch: buildPatch(ws.changes()),
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(verdict)).toEqual(['secret_scan_ok']);
    const detail = verdict.checks.find((c) => c.name === 'secret_scan_ok')?.detail ?? '';
    expect(detail).toContain('src/config.ts (aws_access_key)');
    expect(detail).toContain('src/app.ts (github_token)');
    expect(detail).not.toContain('AKIA');
    expect(verdict.reasons.join('\n')).not.toContain('ghp_');
    // Removing a secret is not introducing one.
    const removal = buildPatch([
      change('src/app.ts', "const k = 'AKIAIOSFODNN7EXAMPLE';\n", 'const k = process.env.KEY;\n'),
    ]);
    const base = copyTree(dirs, project, 'impl-secret-base');
    writeFileSync(path.join(base, 'src/app.ts'), "const k = 'AKIAIOSFODNN7EXAMPLE';\n");
    expect(
      failedChecks(await checkPatch({ patch: removal, mission, baseRoot: base, criticalRoots })),
    ).toEqual([]);
  });

  it('fails binary_changes for a binary file (git cannot apply it without an index either)', async () => {
    const { project, ws } = setup();
    await ok(ws.delete('assets/logo.bin'));
    const verdict = await checkPatch({
      patch: buildPatch(ws.changes()),
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(verdict)).toEqual(['binary_changes', 'applies_cleanly']);
    const modified = buildPatch([
      change('assets/logo.bin', baseFiles['assets/logo.bin'], Buffer.from([0x89, 0x00, 0x02])),
    ]);
    const binaryEdit = await checkPatch({
      patch: modified,
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(binaryEdit)).toEqual(['binary_changes', 'applies_cleanly']);
  });

  it('fails mode_changes alone for a mode flip or a symlink in a diff', async () => {
    const { project } = setup();
    const flip = 'diff --git a/src/app.ts b/src/app.ts\nold mode 100644\nnew mode 100755\n';
    const verdict = await checkPatch({
      patch: { diff: flip },
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(verdict)).toEqual(['mode_changes']);
    const flipWithEdit = `${flip}--- a/src/app.ts\n+++ b/src/app.ts\n@@ -1,3 +1,3 @@\n export function add(a: number, b: number) {\n-  return a + b;\n+  return b + a;\n }\n`;
    const edited = await checkPatch({
      patch: { diff: flipWithEdit },
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(edited)).toEqual(['mode_changes']);
    const link =
      'diff --git a/src/link b/src/link\nnew file mode 120000\n--- /dev/null\n+++ b/src/link\n@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n';
    const linked = await checkPatch({
      patch: { diff: link },
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(linked)).toEqual(['mode_changes']);
  });

  it('refuses quoted (unusual) paths and renames read from a diff', async () => {
    const { project } = setup();
    const quoted =
      'diff --git "a/src/x\\ty.ts" "b/src/x\\ty.ts"\nnew file mode 100644\n--- /dev/null\n+++ "b/src/x\\ty.ts"\n@@ -0,0 +1 @@\n+x\n';
    const verdict = await checkPatch({
      patch: { diff: quoted },
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(verdict)).toContain('paths_allowed');
    expect(verdict.status).toBe('INVALID');
    const rename =
      'diff --git a/src/app.ts b/src/moved.ts\nsimilarity index 100%\nrename from src/app.ts\nrename to src/moved.ts\n';
    const renamed = await checkPatch({
      patch: { diff: rename },
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(renamed)).toEqual(['mode_changes']);
  });

  it('fails deletions_allowed alone when the mission does not allow deletions', async () => {
    const { project, ws } = setup();
    await ok(ws.delete('src/old.ts'));
    await ok(ws.edit('src/crlf.ts', 'two', 'deux'));
    await ok(ws.write('src/with space.ts', 'spaced out\n'));
    await ok(ws.edit('src/naïve.ts', 'unicode', 'ünïcödé'));
    const patch = buildPatch(ws.changes());
    const verdict = await checkPatch({
      patch,
      mission: { ...mission, allow_deletions: false },
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(verdict)).toEqual(['deletions_allowed']);
    expect(
      failedChecks(await checkPatch({ patch, mission, baseRoot: project, criticalRoots })),
    ).toEqual([]);
  });

  it('fails patch_noop for an empty patch, and unified_diff_parse for text that is not a diff', async () => {
    const { project } = setup();
    const empty = await checkPatch({
      patch: buildPatch([]),
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(empty)).toEqual(['patch_noop', 'applies_cleanly']);
    expect(empty.repairable).toBe(true);
    const garbage = await checkPatch({
      patch: { diff: 'I changed add() to subtract.\n' },
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(garbage)).toContain('unified_diff_parse');
    expect(garbage.repairable).toBe(false);
    // A content line that looks like a header is read as content, by the hunk counts.
    const tricky = buildPatch([change('src/app.ts', '-- a\nb\n', '--- a\nb\n')]);
    const base = copyTree(dirs, project, 'impl-tricky');
    writeFileSync(path.join(base, 'src/app.ts'), '-- a\nb\n');
    expect(
      failedChecks(await checkPatch({ patch: tricky, mission, baseRoot: base, criticalRoots })),
    ).toEqual([]);
  });

  it('flags dependency manifests, removed tests and whole-file rewrites without failing', async () => {
    const { project, ws } = setup();
    await ok(ws.edit('package.json', '"demo"', '"demo", "dependencies": { "left-pad": "1.3.0" }'));
    await ok(ws.edit('tests/app.test.ts', "\nit('subtracts', () => {});\n", ''));
    await ok(ws.write('src/long.ts', 'export const all = [];\n'));
    const verdict = await checkPatch({
      patch: buildPatch(ws.changes()),
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(failedChecks(verdict)).toEqual([]);
    expect(verdict.status).toBe('VALID');
    const flags = verdict.flags.map((f) => `${f.code} ${f.path ?? ''}`).sort();
    expect(flags).toEqual([
      'dependency_change package.json',
      'full_file_rewrite src/long.ts',
      'test_removal tests/app.test.ts',
    ]);
  });

  it('flags a deleted test file, but not a test that was only moved or a file with no tests', async () => {
    const { project, ws } = setup();
    await ok(ws.delete('tests/app.test.ts'));
    const deleted = await checkPatch({
      patch: buildPatch(ws.changes()),
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(deleted.flags).toEqual([
      { code: 'test_removal', path: 'tests/app.test.ts', detail: 'test file deleted' },
    ]);
    const moved = buildPatch([
      change(
        'tests/app.test.ts',
        baseFiles['tests/app.test.ts'],
        "import { it } from 'vitest';\n\nit('subtracts', () => {});\n\nit('adds', () => {});\n",
      ),
    ]);
    const verdict = await checkPatch({ patch: moved, mission, baseRoot: project, criticalRoots });
    expect(failedChecks(verdict)).toEqual([]);
    expect(verdict.flags).toEqual([]);
  });
});

describe('event log fit', () => {
  it('the built patch and its verdicts are payloads the event log declares (patch.proposed / validated / rejected)', async () => {
    const { project, ws } = setup();
    await ok(ws.edit('src/app.ts', 'a + b', 'b + a'));
    const patch = buildPatch(ws.changes());
    const valid = await checkPatch({ patch, mission, baseRoot: project, criticalRoots });
    const invalid = await checkPatch({
      patch,
      mission: { ...mission, max_files_changed: 0 },
      baseRoot: project,
      criticalRoots,
    });
    const state = dirs.make('impl-events');
    const writer = await openEventLog({ projectRoot: state, runId: 'run-fit' });
    try {
      await writer.append('patch.proposed', 'runtime', {
        round: 1,
        summary: 's',
        rationale: 'r',
        claims: null,
        diff: patch.diff,
        rollback: patch.rollback,
        bytes: patch.bytes,
        files: patch.files,
      });
      expect(valid.status).toBe('VALID');
      await writer.append('patch.validated', 'runtime', {
        round: 1,
        status: 'VALID',
        checks: valid.checks,
        flags: valid.flags,
        reasons: valid.reasons,
      });
      expect(invalid.status).toBe('INVALID');
      await writer.append('patch.rejected', 'runtime', {
        round: 1,
        status: 'INVALID',
        checks: invalid.checks,
        flags: invalid.flags,
        reasons: invalid.reasons,
        repairable: invalid.repairable,
      });
    } finally {
      await writer.close();
    }
    const log = await readEventLog(runPaths(state, 'run-fit').logPath);
    expect(log.events.map((e) => e.type)).toEqual([
      'patch.proposed',
      'patch.validated',
      'patch.rejected',
    ]);
  });
});

describe('fit to the runtime ports', () => {
  it('the patch half of ImplementationKit is these exports (staged changes go to buildPatch as they are)', async () => {
    const kit: Pick<ImplementationKit, 'createStagedWorkspace' | 'buildPatch' | 'checkPatch'> = {
      createStagedWorkspace: (options) => new StagedWorkspace(options),
      // The port names only path and change; the loop hands back what changes() returned.
      buildPatch: (changes) => buildPatch(changes),
      checkPatch: (input) => checkPatch(input),
    };
    const { project, root } = setup();
    const staged = kit.createStagedWorkspace({
      root,
      ownedPaths: ['src/'],
      allowDeletions: false,
      criticalRoots,
      criticalWriteAllowed: false,
    });
    expect((await staged.edit('src/app.ts', 'a + b', 'b + a')).ok).toBe(true);
    const patch = kit.buildPatch(staged.changes());
    expect(patch.files.map((f) => f.path)).toEqual(['src/app.ts']);
    const verdict = await kit.checkPatch({
      patch,
      mission: { ...mission, allow_deletions: false },
      baseRoot: project,
      criticalRoots,
    });
    expect(verdict.status).toBe('VALID');
  });
});

describe('what each check tells the model', () => {
  it('a passing patch: every check names what it found', async () => {
    const { project } = setup();
    const patch = buildPatch([
      change(
        'src/app.ts',
        baseFiles['src/app.ts'],
        baseFiles['src/app.ts'].replace('a + b', 'b + a'),
      ),
    ]);
    const verdict = await checkPatch({ patch, mission, baseRoot: project, criticalRoots });
    expect(verdict.checks.map((check) => [check.name, check.ok, check.detail])).toEqual([
      ['unified_diff_parse', true, '1 file section(s)'],
      ['patch_noop', true, '2 changed line(s)'],
      ['path_escape', true, 'every path stays inside the project'],
      ['paths_allowed', true, 'every path is owned: src/app.ts'],
      ['critical_paths_touched', true, 'no critical path touched'],
      ['max_files_ok', true, '1 file(s) changed, limit 10'],
      ['max_patch_size_ok', true, `${patch.bytes} bytes, limit 20000`],
      ['binary_changes', true, 'no binary change'],
      ['mode_changes', true, 'no mode change, rename or link'],
      ['deletions_allowed', true, 'no file deleted'],
      ['secret_scan_ok', true, 'no secret in added lines'],
      ['base_sha_match', true, 'every base file matches its recorded sha256'],
      ['applies_cleanly', true, 'git apply --check accepts the diff against the base'],
    ]);
    expect(verdict).toMatchObject({ status: 'VALID', flags: [], reasons: [], repairable: false });
  });

  it('a failing patch: each failed check says what it found and how to fix it, in check order', async () => {
    const { project } = setup();
    const patch = buildPatch([
      change('docs/guide.md', baseFiles['docs/guide.md'], '# Guide, edited\n'),
      change('src/auth/session.ts', baseFiles['src/auth/session.ts'], 'export const ttl = 30;\n'),
      change('src/old.ts', baseFiles['src/old.ts'], null),
      change('src/config.ts', null, "export const aws = 'AKIAIOSFODNN7EXAMPLE';\n"),
      change('.env', null, 'A=1\n'),
      change('.git/config', null, 'x\n'),
      change('node_modules/x.js', null, 'x\n'),
      change('secrets/a.txt', null, 'x\n'),
      change('other/b.ts', null, 'x\n'),
    ]);
    // The base moved under one of the files since the edits were staged.
    const moved = copyTree(dirs, project, 'impl-every-failure');
    writeFileSync(path.join(moved, 'src/old.ts'), 'moved on\n');
    const verdict = await checkPatch({
      patch,
      mission: { ...mission, allow_deletions: false, max_files_changed: 1, max_patch_bytes: 10 },
      baseRoot: moved,
      criticalRoots,
    });
    expect(verdict.status).toBe('INVALID');
    expect(verdict.repairable).toBe(false);
    const [applies, ...others] = [...verdict.reasons].reverse();
    expect(others.reverse()).toEqual([
      // Five paths are named, then how many more.
      'paths_allowed: paths outside the owned paths or on the deny list: .env (path_denied), .git/config (path_denied), docs/guide.md (path_not_owned), node_modules/x.js (path_denied), other/b.ts (path_not_owned) and 1 more. Change only owned files (src/, tests/, package.json, assets/); undo the edits to the others.',
      'critical_paths_touched: critical paths touched without critical_path_write_allowed and a reason: src/auth/session.ts. Undo the edits under critical roots; this mission may not change them.',
      'max_files_ok: 9 file(s) changed, limit 1. Change at most 1 file(s); undo the edits that are not needed.',
      `max_patch_size_ok: ${patch.bytes} bytes, limit 10. Make a smaller change: edit the lines that need it instead of rewriting files.`,
      'deletions_allowed: deletions are not allowed: src/old.ts. This mission may not delete files; restore them.',
      'secret_scan_ok: added lines hold secret material: src/config.ts (aws_access_key). Remove the credential; read it from the environment or configuration at run time instead.',
      'base_sha_match: the base changed under: src/old.ts. The base moved since the edits were staged; the run must start again from the new base.',
    ]);
    // git's own words, first line only, then the fix.
    expect(applies).toMatch(
      /^applies_cleanly: git apply --check refused it: error: [^\n;]+\. Edit the current text of the files \(read them again\) so the change applies to the base\.$/,
    );
  });

  it('five refused paths are all named; a sixth is counted', async () => {
    const { project } = setup();
    const five = ['other/a.ts', 'other/b.ts', 'other/c.ts', 'other/d.ts', 'other/e.ts'];
    const detail = async (files: readonly string[]) =>
      (
        await checkPatch({
          patch: buildPatch(files.map((file) => change(file, null, 'x\n'))),
          mission,
          baseRoot: project,
          criticalRoots,
        })
      ).checks.find((check) => check.name === 'paths_allowed')?.detail;
    expect(await detail(five)).toBe(
      `paths outside the owned paths or on the deny list: ${five.map((file) => `${file} (path_not_owned)`).join(', ')}`,
    );
    expect(await detail([...five, 'other/f.ts'])).toMatch(
      /other\/e\.ts \(path_not_owned\) and 1 more$/,
    );
  });

  it('a permitted critical change escalates, and its flag carries the reason', async () => {
    const { project } = setup();
    const patch = buildPatch([
      change('src/auth/session.ts', baseFiles['src/auth/session.ts'], 'export const ttl = 30;\n'),
    ]);
    const verdict = await checkPatch({
      patch,
      mission: {
        ...mission,
        critical_path_write_allowed: true,
        critical_path_reason: 'shorter sessions',
      },
      baseRoot: project,
      criticalRoots,
    });
    expect(verdict.checks.find((check) => check.name === 'critical_paths_touched')).toEqual({
      name: 'critical_paths_touched',
      ok: true,
      detail: 'critical paths touched with permission (escalated for review): src/auth/session.ts',
    });
    expect(verdict).toMatchObject({ status: 'ESCALATE', reasons: [], repairable: false });
    expect(verdict.flags).toEqual([
      {
        code: 'critical_path_write',
        path: 'src/auth/session.ts',
        detail: 'critical path changed (reason: shorter sessions)',
      },
    ]);
  });

  it('binary and mode changes are named; flags say what changed', async () => {
    const { project } = setup();
    const binary = buildPatch([
      change('assets/logo.bin', baseFiles['assets/logo.bin'], Buffer.from([0x00, 0x02, 0xff])),
    ]);
    const binaryVerdict = await checkPatch({
      patch: binary,
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(binaryVerdict.checks.find((check) => check.name === 'binary_changes')?.detail).toBe(
      'binary changes: assets/logo.bin',
    );
    expect(binaryVerdict.reasons).toContain(
      'binary_changes: binary changes: assets/logo.bin. Only text files can be changed; undo the binary ones.',
    );
    const mode = 'diff --git a/src/app.ts b/src/app.ts\nold mode 100644\nnew mode 100755\n';
    const modeVerdict = await checkPatch({
      patch: { diff: mode },
      mission,
      baseRoot: project,
      criticalRoots,
    });
    expect(modeVerdict.reasons).toContain(
      'mode_changes: mode changes, renames or links: src/app.ts. Leave file modes alone and create plain files only.',
    );

    const flagged = buildPatch([
      change('package.json', baseFiles['package.json'], null),
      change('src/requirements-dev.txt', null, 'left-pad==1\n'),
      change(
        'tests/app.test.ts',
        baseFiles['tests/app.test.ts'],
        "import { it } from 'vitest';\n\nit('adds', () => {});\n",
      ),
      change('src/long.ts', baseFiles['src/long.ts'], 'export const all = [];\n'),
    ]);
    const verdict = await checkPatch({ patch: flagged, mission, baseRoot: project, criticalRoots });
    expect(
      [...verdict.flags].sort((a, b) => `${a.path}${a.code}`.localeCompare(`${b.path}${b.code}`)),
    ).toEqual([
      {
        code: 'dependency_change',
        path: 'package.json',
        detail: 'dependency manifest or lockfile deleted',
      },
      {
        code: 'full_file_rewrite',
        path: 'src/long.ts',
        detail: "10 of the file's lines removed or replaced",
      },
      {
        code: 'dependency_change',
        path: 'src/requirements-dev.txt',
        detail: 'dependency manifest or lockfile added',
      },
      {
        code: 'test_removal',
        path: 'tests/app.test.ts',
        detail: "removed test definition(s): it('subtracts', () => {});",
      },
    ]);
  });

  it('which files are dependency manifests and which are tests', () => {
    for (const file of [
      'package.json',
      'sub/Cargo.toml',
      'requirements.txt',
      'requirements-dev.in',
      'constraints.txt',
      'constraints-prod.txt',
      'src/App.csproj',
      'lib.fsproj',
      'old.vbproj',
    ])
      expect([file, isDependencyManifest(file)]).toEqual([file, true]);
    for (const file of [
      'package.json.bak',
      'my-package.json',
      'requirements.md',
      'requirements.txt.orig',
      'dev-requirements.txt',
      'constraints.in',
      'app.csproj.user',
    ])
      expect([file, isDependencyManifest(file)]).toEqual([file, false]);
    expect(isTestFile('src/util.test.ts')).toBe(true);
    expect(isTestFile('tests/helpers.ts')).toBe(true);
    expect(isTestFile('src/util.ts')).toBe(false);
  });

  it('no-ops, escapes, a blank critical reason and allowed deletions are each named', async () => {
    const { project } = setup();
    const run = async (diff: string, overrides: Partial<PatchCheckMission> = {}) =>
      checkPatch({
        patch: { diff },
        mission: { ...mission, ...overrides },
        baseRoot: project,
        criticalRoots,
      });
    // A section that changes no line (and no mode, content or name) is no change at all.
    const headerOnly = await run('diff --git a/src/app.ts b/src/app.ts\n');
    expect(headerOnly.reasons).toContain(
      'patch_noop: the patch changes nothing. Make the edits the objective asks for before submitting.',
    );
    expect(headerOnly.checks.find((check) => check.name === 'applies_cleanly')?.detail).toBe(
      'not run: the structural checks above failed',
    );
    const escape = await run(
      'diff --git a/src/../../etc/passwd b/src/../../etc/passwd\n--- a/src/../../etc/passwd\n+++ b/src/../../etc/passwd\n@@ -1 +1 @@\n-x\n+y\n',
    );
    expect(escape.reasons[0]).toBe(
      'path_escape: paths leave the project: src/../../etc/passwd. Name files relative to the project root, without `..` or absolute paths.',
    );
    // An absolute path is an escape too, not merely a path outside the owned ones.
    const absolute = await run(
      'diff --git a//etc/passwd b//etc/passwd\n--- a//etc/passwd\n+++ b//etc/passwd\n@@ -1 +1 @@\n-x\n+y\n',
    );
    expect(absolute.reasons[0]).toBe(
      'path_escape: paths leave the project: /etc/passwd. Name files relative to the project root, without `..` or absolute paths.',
    );
    expect(failedChecks(absolute)).not.toContain('paths_allowed');
    // One readable section beside one that is not: git apply is not asked about a diff that
    // does not parse.
    const good = buildPatch([
      change('src/app.ts', baseFiles['src/app.ts'], 'export const app = 2;\n'),
    ]).diff;
    const broken = await run(
      `${good}diff --git a/src/b.ts b/src/b.ts\n--- a/src/b.ts\n+++ b/src/b.ts\n@@ -1,3 +1 @@\n-x\n`,
    );
    expect(failedChecks(broken)).toContain('unified_diff_parse');
    expect(broken.checks.find((check) => check.name === 'applies_cleanly')?.detail).toBe(
      'not run: the structural checks above failed',
    );
    const critical = buildPatch([
      change('src/auth/session.ts', baseFiles['src/auth/session.ts'], 'export const ttl = 30;\n'),
    ]).diff;
    const blank = await run(critical, {
      critical_path_write_allowed: true,
      critical_path_reason: '   ',
    });
    expect(failedChecks(blank)).toEqual(['critical_paths_touched']);
    expect(blank.flags).toEqual([]);
    const deletion = await run(
      buildPatch([change('src/old.ts', baseFiles['src/old.ts'], null)]).diff,
    );
    expect(deletion.checks.find((check) => check.name === 'deletions_allowed')).toEqual({
      name: 'deletions_allowed',
      ok: true,
      detail: 'deletions allowed: src/old.ts',
    });
    expect(isDependencyManifest('dev-constraints.txt')).toBe(false);
    expect(isDependencyManifest('constraints.txt.bak')).toBe(false);
  });
});

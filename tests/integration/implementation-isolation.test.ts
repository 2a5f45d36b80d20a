import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createIsolation,
  removeStaleIsolations,
  runVerification,
  type Isolation,
} from '../../src/implementation/index.js';
import {
  hashTree,
  makeRepo,
  runGit,
  tempDir,
  writeFiles,
} from '../support/implementation-repos.js';

const cleanup: string[] = [];
const isolations: Isolation[] = [];

afterEach(async () => {
  for (const isolation of isolations.splice(0)) await isolation.remove().catch(() => undefined);
  for (const dir of cleanup.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function track<T extends string>(dir: T): T {
  cleanup.push(dir);
  return dir;
}

async function isolate(...args: Parameters<typeof createIsolation>): Promise<Isolation> {
  const isolation = await createIsolation(...args);
  isolations.push(isolation);
  return isolation;
}

function worktreePaths(repo: string): string[] {
  return runGit(repo, ['worktree', 'list', '--porcelain'])
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length));
}

const read = (file: string): string => readFileSync(file, 'utf8');

describe('createIsolation in a git repository', () => {
  it('checks out HEAD and carries the uncommitted changes inside the scope, and nothing outside', async () => {
    const repo = track(
      makeRepo({
        '.gitignore': '*.log\n',
        'src/a.ts': 'export const a = 1;\n',
        'src/gone.ts': 'export const gone = true;\n',
        'src/keep.ts': 'export const keep = 1;\n',
        'docs/guide.md': '# Guide\n',
      }),
    );
    const head = runGit(repo, ['rev-parse', 'HEAD']).trim();
    writeFiles(repo, {
      'src/a.ts': 'export const a = 2; // edited, not committed\n',
      'src/new/fresh.ts': 'export const fresh = 1;\n',
      'src/build.log': 'ignored output\n',
      'docs/guide.md': '# Guide, edited outside the scope\n',
      'notes.txt': 'untracked outside the scope\n',
    });
    unlinkSync(path.join(repo, 'src/gone.ts'));
    const statusBefore = runGit(repo, ['status', '--porcelain', '--untracked-files=all']);
    // The working files, and git's index and refs (its worktree bookkeeping is expected to change).
    const workspace = (): string =>
      [
        hashTree(repo, ['.codex-oss', '.git']),
        hashTree(path.join(repo, '.git'), ['worktrees', 'objects', 'logs']),
      ].join(':');
    const treeBefore = workspace();

    const isolation = await isolate({ projectRoot: repo, runId: 'run-1', scopePaths: ['src'] });

    expect(isolation.kind).toBe('git_worktree');
    expect(isolation.root).toBe(path.join(repo, '.codex-oss', 'worktrees', 'run-1'));
    expect(isolation.projectDir).toBe(isolation.root);
    expect(isolation.baseCommit).toBe(head);
    expect(isolation.carried).toEqual(['src/a.ts', 'src/gone.ts', 'src/new/fresh.ts']);
    const wt = isolation.root;
    expect(read(path.join(wt, 'src/a.ts'))).toBe('export const a = 2; // edited, not committed\n');
    expect(read(path.join(wt, 'src/new/fresh.ts'))).toBe('export const fresh = 1;\n');
    expect(existsSync(path.join(wt, 'src/gone.ts'))).toBe(false);
    expect(read(path.join(wt, 'src/keep.ts'))).toBe('export const keep = 1;\n');
    // Outside the scope: HEAD's version, untracked files not carried; ignored files never.
    expect(read(path.join(wt, 'docs/guide.md'))).toBe('# Guide\n');
    expect(existsSync(path.join(wt, 'notes.txt'))).toBe(false);
    expect(existsSync(path.join(wt, 'src/build.log'))).toBe(false);
    // Detached at HEAD, registered, and locked with a reason.
    expect(runGit(wt, ['rev-parse', 'HEAD']).trim()).toBe(head);
    expect(runGit(wt, ['rev-parse', '--abbrev-ref', 'HEAD']).trim()).toBe('HEAD');
    const list = runGit(repo, ['worktree', 'list', '--porcelain']);
    expect(list).toContain(`worktree ${wt}`);
    expect(list).toContain('locked codex-oss run run-1');
    // The main workspace is untouched and its status shows no trace of the isolation.
    expect(workspace()).toBe(treeBefore);
    expect(runGit(repo, ['status', '--porcelain', '--untracked-files=all'])).toBe(statusBefore);
    expect(statusBefore).not.toContain('.codex-oss');

    await isolation.remove();
    expect(existsSync(wt)).toBe(false);
    expect(worktreePaths(repo)).not.toContain(wt);
    await isolation.remove(); // idempotent
    expect(workspace()).toBe(treeBefore);
  });

  it('keeps .codex-oss out of git status even when the project never ran install', async () => {
    const repo = track(makeRepo({ 'a.txt': 'a\n' }));
    expect(existsSync(path.join(repo, '.gitignore'))).toBe(false);
    expect(runGit(repo, ['status', '--porcelain', '--untracked-files=all'])).toBe('');

    const isolation = await isolate({ projectRoot: repo, runId: 'quiet', scopePaths: ['.'] });
    writeFileSync(path.join(isolation.root, 'a.txt'), 'edited in the isolation\n');
    writeFileSync(path.join(isolation.root, 'new.txt'), 'new in the isolation\n');

    expect(runGit(repo, ['status', '--porcelain', '--untracked-files=all'])).toBe('');
    expect(runGit(repo, ['status', '--porcelain', '--ignored'])).toBe('!! .codex-oss/\n');
    expect(read(path.join(repo, '.codex-oss', '.gitignore'))).toMatch(/^\*$/m);
  });

  it('notes submodules and leaves them uninitialised', async () => {
    const lib = track(makeRepo({ 'lib.txt': 'library\n' }, 'impl-sub-'));
    const repo = track(makeRepo({ 'main.txt': 'main\n' }));
    runGit(repo, ['submodule', '--quiet', 'add', lib, 'vendor/lib']);
    runGit(repo, ['commit', '-q', '-m', 'add submodule']);

    const isolation = await isolate({ projectRoot: repo, runId: 'sub', scopePaths: ['.'] });

    expect(isolation.notes).toContain('submodules are not initialised in the worktree: vendor/lib');
    expect(isolation.notes.join('\n')).toContain('Git LFS smudge disabled');
    expect(existsSync(path.join(isolation.root, 'vendor/lib/lib.txt'))).toBe(false);
    expect(read(path.join(isolation.root, 'main.txt'))).toBe('main\n');
  });

  it('copies symlinks as symlinks and skips ones that point outside the project', async () => {
    const outside = track(tempDir('impl-outside-'));
    writeFileSync(path.join(outside, 'secret.txt'), 'outside the project\n');
    const repo = track(makeRepo({ 'src/real.ts': 'real\n' }));
    symlinkSync('real.ts', path.join(repo, 'src/alias.ts'));
    symlinkSync(path.join(repo, 'src/real.ts'), path.join(repo, 'src/absolute.ts'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(repo, 'src/escape.ts'));

    const isolation = await isolate({ projectRoot: repo, runId: 'links', scopePaths: ['src'] });

    const wt = isolation.root;
    expect(readlinkSync(path.join(wt, 'src/alias.ts'))).toBe('real.ts');
    // An absolute link into the project points into the isolation, not back at the workspace.
    expect(readlinkSync(path.join(wt, 'src/absolute.ts'))).toBe('real.ts');
    expect(existsSync(path.join(wt, 'src/escape.ts'))).toBe(false);
    expect(isolation.carried).toEqual(['src/absolute.ts', 'src/alias.ts']);
    expect(isolation.notes).toContain(
      'symlinks pointing outside the project were not copied: src/escape.ts',
    );
  });

  it('maps a project that is a folder of a larger repository', async () => {
    const repo = track(makeRepo({ 'packages/app/index.ts': 'app\n', 'other/x.ts': 'x\n' }));
    const project = path.join(repo, 'packages/app');
    writeFiles(project, { 'index.ts': 'app, edited\n' });

    const isolation = await isolate({ projectRoot: project, runId: 'mono', scopePaths: ['.'] });

    expect(isolation.root).toBe(path.join(project, '.codex-oss', 'worktrees', 'mono'));
    expect(isolation.projectDir).toBe(path.join(isolation.root, 'packages/app'));
    expect(isolation.carried).toEqual(['index.ts']);
    expect(read(path.join(isolation.projectDir, 'index.ts'))).toBe('app, edited\n');
    expect(runGit(repo, ['status', '--porcelain', '--untracked-files=all'])).toBe(
      ' M packages/app/index.ts\n',
    );
  });
});

describe('createIsolation with linked dependency folders', () => {
  it('links ignored folders like node_modules read-only, so verification can use them', async () => {
    const repo = track(
      makeRepo({ '.gitignore': 'node_modules/\n', 'index.js': 'require("dep")\n' }),
    );
    writeFiles(repo, { 'node_modules/dep/index.js': 'module.exports = 42;\n' });
    const before = hashTree(repo, ['.codex-oss', '.git']);

    const isolation = await isolate({
      projectRoot: repo,
      runId: 'deps',
      scopePaths: ['.'],
      linkedPaths: ['node_modules', 'not-there'],
    });

    expect(isolation.linked).toEqual(['node_modules']);
    expect(isolation.carried).toEqual([]);
    expect(readlinkSync(path.join(isolation.root, 'node_modules'))).toBe(
      path.join(repo, 'node_modules'),
    );
    expect(isolation.notes).toContain(
      'linked read-only from the main workspace (not isolated copies): node_modules',
    );
    const run = await runVerification({
      cwd: isolation.root,
      commands: [
        [process.execPath, '-e', 'process.exit(require("dep") === 42 ? 0 : 1)'],
        [process.execPath, '-e', 'require("fs").writeFileSync("node_modules/dep/index.js", "")'],
      ],
      timeoutSeconds: 30,
      networkAllowed: false,
    });
    expect(run.results[0]!.outcome).toBe('passed');
    // Writing through the link is writing to the main workspace: refused or reported.
    expect(run.results[1]!.outcome).toBe(
      run.isolation.filesystem === 'checked' ? 'sandbox_violation' : 'failed',
    );
    if (run.isolation.filesystem !== 'checked') {
      expect(hashTree(repo, ['.codex-oss', '.git'])).toBe(before);
    }
  });
});

describe('createIsolation without a commit to check out', () => {
  it('copies the scope of a plain folder, skipping .git, .codex-oss and node_modules', async () => {
    const project = track(tempDir('impl-plain-'));
    writeFiles(project, {
      'src/a.ts': 'a\n',
      'src/deep/b.ts': 'b\n',
      'src/node_modules/pkg/index.js': 'dependency\n',
      'README.md': 'outside the scope\n',
    });
    const before = hashTree(project);

    const isolation = await isolate({ projectRoot: project, runId: 'plain', scopePaths: ['src'] });

    expect(isolation.kind).toBe('copy');
    expect(isolation.baseCommit).toBeNull();
    expect(isolation.notes).toContain('not a git repository: a plain copy of the scope');
    expect(isolation.carried).toEqual(['src/a.ts', 'src/deep/b.ts']);
    expect(read(path.join(isolation.root, 'src/deep/b.ts'))).toBe('b\n');
    expect(existsSync(path.join(isolation.root, 'src/node_modules'))).toBe(false);
    expect(existsSync(path.join(isolation.root, 'README.md'))).toBe(false);
    expect(hashTree(project)).toBe(before);

    await isolation.remove();
    expect(existsSync(isolation.root)).toBe(false);
  });

  it('copies tracked and unignored files of a repository that has no commit yet', async () => {
    const project = track(tempDir('impl-unborn-'));
    runGit(project, ['init', '-q']);
    writeFiles(project, {
      '.gitignore': 'dist/\n',
      'src/a.ts': 'a\n',
      'dist/out.js': 'built\n',
    });
    runGit(project, ['add', 'src/a.ts']);

    const isolation = await isolate({ projectRoot: project, runId: 'unborn', scopePaths: ['.'] });

    expect(isolation.kind).toBe('copy');
    expect(isolation.notes[0]).toContain('no commit yet');
    expect(isolation.carried).toEqual(['.gitignore', 'src/a.ts']);
    expect(existsSync(path.join(isolation.root, 'dist'))).toBe(false);
    expect(runGit(project, ['status', '--porcelain', '--untracked-files=all'])).not.toContain(
      '.codex-oss',
    );
  });
});

describe('createIsolation refuses', () => {
  it('a project root inside .codex-oss, a reused run id, and a run id that is not a folder name', async () => {
    const repo = track(makeRepo({ 'a.txt': 'a\n' }));
    const first = await isolate({ projectRoot: repo, runId: 'once', scopePaths: ['.'] });

    await expect(
      createIsolation({ projectRoot: first.root, runId: 'nested', scopePaths: ['.'] }),
    ).rejects.toThrow(/inside a \.codex-oss folder/);
    await expect(
      createIsolation({ projectRoot: repo, runId: 'once', scopePaths: ['.'] }),
    ).rejects.toThrow(/already exists/);
    await expect(
      createIsolation({ projectRoot: repo, runId: '../escape', scopePaths: ['.'] }),
    ).rejects.toThrow(/cannot name an isolation folder/);
    await expect(
      createIsolation({ projectRoot: repo, runId: 'up', scopePaths: ['../other'] }),
    ).rejects.toThrow(/leaves the project/);
    expect(existsSync(path.join(repo, '.codex-oss/worktrees/up'))).toBe(false);
  });

  it('a .codex-oss that is a symlink', async () => {
    const repo = track(makeRepo({ 'a.txt': 'a\n' }));
    const elsewhere = track(tempDir('impl-state-'));
    symlinkSync(elsewhere, path.join(repo, '.codex-oss'));
    await expect(
      createIsolation({ projectRoot: repo, runId: 'r', scopePaths: ['.'] }),
    ).rejects.toThrow(/symlink or file there is refused/);
  });
});

describe('createIsolation and git ownership', () => {
  // Only root can hand a folder to another user; git then refuses it as "dubious ownership".
  it.runIf(process.getuid?.() === 0)(
    'refuses a repository git will not open, instead of silently copying it',
    async () => {
      const repo = track(makeRepo({ 'a.txt': 'a\n' }));
      chownSync(repo, 12345, 12345);
      await expect(
        createIsolation({ projectRoot: repo, runId: 'owned', scopePaths: ['.'] }),
      ).rejects.toThrow(/belongs to another user/);
    },
  );
});

describe('removeStaleIsolations', () => {
  it('removes the worktrees of runs that are not live, spares live and kept ones, and prunes', async () => {
    const repo = track(makeRepo({ 'a.txt': 'a\n' }));
    // A run that "crashed": its isolation was never removed.
    const crashed = await createIsolation({
      projectRoot: repo,
      runId: 'crashed',
      scopePaths: ['.'],
    });
    writeFileSync(path.join(crashed.root, 'a.txt'), 'half-done edit\n');
    const live = await isolate({ projectRoot: repo, runId: 'live', scopePaths: ['.'] });
    const kept = await createIsolation({
      projectRoot: repo,
      runId: 'kept',
      scopePaths: ['.'],
      keep: true,
    });
    await kept.remove();
    expect(existsSync(kept.root)).toBe(true);
    // A worktree folder deleted by hand leaves a locked registration behind.
    const vanished = await createIsolation({
      projectRoot: repo,
      runId: 'vanished',
      scopePaths: ['.'],
    });
    rmSync(vanished.root, { recursive: true, force: true });
    runGit(repo, ['worktree', 'prune']);
    expect(worktreePaths(repo)).toContain(vanished.root);

    const removed = await removeStaleIsolations(repo, (runId) => runId === 'live');

    expect(removed).toEqual(['crashed', 'vanished']);
    expect(existsSync(crashed.root)).toBe(false);
    const listed = worktreePaths(repo);
    expect(listed).not.toContain(crashed.root);
    expect(listed).not.toContain(vanished.root);
    expect(listed).toContain(live.root);
    expect(listed).toContain(kept.root);
    expect(existsSync(path.join(live.root, 'a.txt'))).toBe(true);
    expect(read(path.join(repo, 'a.txt'))).toBe('a\n');
    expect(await removeStaleIsolations(repo, (runId) => runId === 'live')).toEqual([]);
    rmSync(kept.root, { recursive: true, force: true });
  });

  it('removes stale copies of a project that is not a git repository', async () => {
    const project = track(tempDir('impl-plain-stale-'));
    writeFiles(project, { 'a.txt': 'a\n' });
    const stale = await createIsolation({ projectRoot: project, runId: 'old', scopePaths: ['.'] });
    mkdirSync(path.join(project, 'elsewhere'));

    expect(await removeStaleIsolations(project, () => false)).toEqual(['old']);
    expect(existsSync(stale.root)).toBe(false);
    expect(lstatSync(path.join(project, 'elsewhere')).isDirectory()).toBe(true);
  });
});

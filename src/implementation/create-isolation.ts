import { constants as fsConstants } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  readdir,
  readlink,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { BridgeError } from '../errors/index.js';
import { git, gitOk } from './git-exec.js';

/**
 * The isolated workspace of an implementation run (A5/A6): `.codex-oss/worktrees/<run_id>/`, a
 * detached git worktree of HEAD plus the user's uncommitted changes inside the mission's scope, or
 * a plain copy of the scope when there is no commit to check out. The model's edits, the patch and
 * the verification commands all happen there; the main workspace is only read.
 */

export interface IsolationRequest {
  /** Absolute, real path of the project. */
  readonly projectRoot: string;
  /** Safe id; becomes the folder name. */
  readonly runId: string;
  /**
   * Project-relative files and folders in the mission's scope (owned, read-only and allowed
   * paths). Uncommitted changes are carried only inside these; `.` is the whole project.
   */
  readonly scopePaths: readonly string[];
  /** keep_worktree: remove() leaves the isolation in place (and startup cleanup spares it). */
  readonly keep?: boolean;
  /**
   * Project-relative folders git ignores that verification needs but the isolation does not get
   * (dependencies: `node_modules`, `.venv`), linked into it as symlinks to the main workspace.
   * The sandbox keeps them read-only; without one, writes into them show as escaped writes.
   */
  readonly linkedPaths?: readonly string[];
}

export interface Isolation {
  /** Absolute: `<projectRoot>/.codex-oss/worktrees/<runId>`. */
  readonly root: string;
  /**
   * Where the project root lies inside the isolation: `root`, unless the project is a folder
   * inside a larger git repository (the worktree then holds the whole repository).
   */
  readonly projectDir: string;
  readonly kind: 'git_worktree' | 'copy';
  /** The commit checked out (git), or null for a copy. */
  readonly baseCommit: string | null;
  /** Project-relative paths copied in (or deleted) to match the user's disk. */
  readonly carried: readonly string[];
  /**
   * Project-relative symlinks made for `linkedPaths`. A `node_modules/` line in .gitignore does
   * not match a symlink, so whoever builds the diff from the isolation must exclude these.
   */
  readonly linked: readonly string[];
  /** Human sentences about what the isolation does not reproduce, for the record. */
  readonly notes: readonly string[];
  /** Idempotent. Removes the worktree (git worktree remove --force + prune) or the copy. */
  remove(): Promise<void>;
}

/** Project-relative folder that holds every isolation. */
export const isolationFolder = path.join('.codex-oss', 'worktrees');

/** Names never copied into a plain copy. */
const skippedNames = new Set(['.git', '.codex-oss', 'node_modules']);

const runIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Marker that a run asked to keep its isolation, so startup cleanup leaves it. */
function keptMarker(base: string, runId: string): string {
  return path.join(base, `${runId}.kept`);
}

function refused(message: string, cause?: unknown): BridgeError {
  return new BridgeError('isolation_failed', message, cause === undefined ? {} : { cause });
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function pathExists(target: string): Promise<boolean> {
  try {
    await lstat(target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function checkProjectRoot(projectRoot: string): Promise<string> {
  if (!path.isAbsolute(projectRoot)) {
    throw refused(`project root must be an absolute path, got "${projectRoot}"`);
  }
  let real: string;
  try {
    real = await realpath(projectRoot);
  } catch (error) {
    throw refused(`project root ${projectRoot} does not exist`, error);
  }
  if (path.resolve(projectRoot) !== real) {
    throw refused(`project root must be a real path (no symlinks): ${projectRoot} is ${real}`);
  }
  if (real.split(path.sep).includes('.codex-oss')) {
    throw refused(
      `project root ${real} lies inside a .codex-oss folder (an isolation of another run); ` +
        'start missions from the real project root',
    );
  }
  return real;
}

function checkRunId(runId: string): void {
  if (!runIdPattern.test(runId) || runId.includes('..')) {
    throw refused(
      `run id "${runId}" cannot name an isolation folder: use letters, digits, '.', '_' and '-' (at most 128)`,
    );
  }
}

/** Scope paths as clean posix paths relative to the project ('' is the whole project). */
function normalizeScope(scopePaths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of scopePaths) {
    const posix = raw.replaceAll('\\', '/');
    if (posix === '' || path.posix.isAbsolute(posix)) {
      throw refused(`scope path "${raw}" must be a non-empty project-relative path`);
    }
    const clean = path.posix.normalize(posix).replace(/\/+$/, '');
    if (clean === '..' || clean.startsWith('../')) {
      throw refused(`scope path "${raw}" leaves the project`);
    }
    out.add(clean === '.' ? '' : clean);
  }
  // The whole project subsumes everything else.
  return out.has('') ? [''] : [...out].sort();
}

/**
 * Makes `.codex-oss/worktrees/` and keeps it out of the user's `git status`.
 *
 * Why `.codex-oss/.gitignore` with `*` rather than relying on install or writing
 * `.git/info/exclude`: `codex-oss install` adds `.codex-oss/` to the project's .gitignore, but the
 * daemon also serves projects where install never ran (or whose .gitignore changed since), and a
 * nested worktree would then show as an untracked `.codex-oss/`. A .gitignore inside our own
 * folder changes nothing the user owns or tracks, works whatever the git layout (in a linked
 * worktree or a submodule `.git` is a file and info/exclude lives elsewhere), and `*` also
 * matches the .gitignore itself, so the whole folder disappears from status.
 */
async function ensureIsolationFolder(projectRoot: string): Promise<string> {
  const stateDir = path.join(projectRoot, '.codex-oss');
  const base = path.join(projectRoot, isolationFolder);
  for (const dir of [stateDir, base]) {
    try {
      const stat = await lstat(dir);
      if (!stat.isDirectory()) {
        throw refused(`${dir} is not a folder (a symlink or file there is refused)`);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dir);
    }
  }
  const ignore = path.join(stateDir, '.gitignore');
  if (!(await pathExists(ignore))) {
    await writeFile(ignore, '# opencode-bridge state: never part of the project\n*\n', {
      flag: 'wx',
    }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
  }
  return base;
}

type Repository =
  | { readonly kind: 'none' }
  | { readonly kind: 'unborn'; readonly toplevel: string; readonly prefix: string }
  | {
      readonly kind: 'git';
      readonly toplevel: string;
      readonly prefix: string;
      readonly head: string;
    };

async function detectRepository(projectRoot: string): Promise<Repository> {
  const probe = await git(projectRoot, ['rev-parse', '--show-toplevel', '--verify', '-q', 'HEAD']);
  const lines = probe.stdout.split('\n').filter((line) => line !== '');
  const toplevel = lines[0];
  if (/dubious ownership/.test(probe.stderr)) {
    // A copy would silently lose git; say what to do instead.
    throw refused(
      `git refuses the repository at ${projectRoot} (it belongs to another user): ` +
        `run the daemon as its owner, or add it with \`git config --global --add safe.directory <path>\``,
    );
  }
  if (toplevel === undefined || !path.isAbsolute(toplevel)) return { kind: 'none' };
  const prefix = path.relative(toplevel, projectRoot).split(path.sep).join('/');
  const head = lines[1];
  if (probe.code !== 0 || head === undefined || !/^[0-9a-f]{40,64}$/.test(head)) {
    return { kind: 'unborn', toplevel, prefix };
  }
  return { kind: 'git', toplevel, prefix, head };
}

export async function createIsolation(req: IsolationRequest): Promise<Isolation> {
  const projectRoot = await checkProjectRoot(req.projectRoot);
  checkRunId(req.runId);
  const scope = normalizeScope(req.scopePaths);
  const base = await ensureIsolationFolder(projectRoot);
  const root = path.join(base, req.runId);
  if (await pathExists(root)) {
    throw refused(
      `isolation ${root} already exists: a run id is never reused (a stale one is removed at startup)`,
    );
  }
  const linked = normalizeScope(req.linkedPaths ?? []).filter((rel) => rel !== '');
  const repo = await detectRepository(projectRoot);
  const keep = req.keep === true;
  const isolation =
    repo.kind === 'git'
      ? await createWorktree(projectRoot, base, root, req.runId, scope, repo, keep)
      : await createCopy(projectRoot, base, root, req.runId, scope, repo, keep);
  if (linked.length === 0) return isolation;
  try {
    const links = await linkDependencies(projectRoot, isolation.projectDir, linked);
    return { ...isolation, linked: links.made, notes: [...isolation.notes, ...links.notes] };
  } catch (error) {
    await isolation.remove().catch(() => undefined);
    throw refused(
      `could not link ${linked.join(', ')} into ${root}: ${(error as Error).message}`,
      error,
    );
  }
}

/**
 * Links each folder of `linked` that exists in the main workspace and not in the isolation. The
 * link targets the folder's real path, which must stay inside the project.
 */
async function linkDependencies(
  projectRoot: string,
  projectDir: string,
  linked: readonly string[],
): Promise<{ made: string[]; notes: string[] }> {
  const made: string[] = [];
  const outside: string[] = [];
  for (const rel of linked) {
    const source = path.join(projectRoot, rel);
    const target = path.join(projectDir, rel);
    let real: string;
    try {
      real = await realpath(source);
    } catch {
      continue;
    }
    if (!isInside(projectRoot, real) || isInside(path.join(projectRoot, '.codex-oss'), real)) {
      outside.push(rel);
      continue;
    }
    if (await pathExists(target)) continue;
    await mkdir(path.dirname(target), { recursive: true });
    await symlink(real, target);
    made.push(rel);
  }
  const notes: string[] = [];
  if (made.length > 0) {
    notes.push(
      `linked read-only from the main workspace (not isolated copies): ${made.join(', ')}`,
    );
  }
  if (outside.length > 0) {
    notes.push(`not linked, they lead outside the project: ${outside.join(', ')}`);
  }
  return { made, notes };
}

// ---- git worktree ------------------------------------------------------------------------------

async function createWorktree(
  projectRoot: string,
  base: string,
  root: string,
  runId: string,
  scope: readonly string[],
  repo: Extract<Repository, { kind: 'git' }>,
  keep: boolean,
): Promise<Isolation> {
  const { toplevel, prefix, head } = repo;
  // --lock: a user's `git worktree prune` or plain `remove` leaves a live run's worktree alone;
  // the reason says whose it is in `git worktree list`.
  await gitOk(toplevel, [
    'worktree',
    'add',
    '--detach',
    '--lock',
    '--reason',
    `codex-oss run ${runId}`,
    root,
    head,
  ]);
  const remove = removerFor(toplevel, base, root, runId, keep);
  try {
    const notes: string[] = ['Git LFS smudge disabled: LFS files are pointer files'];
    if (prefix !== '') {
      notes.push(
        `the project is the folder ${prefix} of the repository ${toplevel}; the worktree holds the whole repository`,
      );
    }
    const projectDir = prefix === '' ? root : path.join(root, ...prefix.split('/'));
    const pathspecs = scope.map((rel) => `:(literal)${joinPosix(prefix, rel) || '.'}`);
    const [status, stage] = await Promise.all([
      gitOk(toplevel, [
        'status',
        '--porcelain=v1',
        '-z',
        '--untracked-files=all',
        '--no-renames',
        '--ignore-submodules=all',
        '--',
        ...pathspecs,
      ]),
      gitOk(toplevel, ['ls-files', '-z', '--stage']),
    ]);
    const submodules = parseGitlinks(stage);
    if (submodules.length > 0) {
      notes.push(`submodules are not initialised in the worktree: ${submodules.join(', ')}`);
    }
    const carried = await carryChanges(toplevel, root, prefix, parseStatus(status), notes);
    return {
      root,
      projectDir,
      kind: 'git_worktree',
      baseCommit: head,
      carried,
      linked: [],
      notes,
      remove,
    };
  } catch (error) {
    await removerFor(toplevel, base, root, runId, false)().catch(() => undefined);
    throw refused(`could not prepare the worktree ${root}: ${(error as Error).message}`, error);
  }
}

function joinPosix(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return `${a}/${b}`;
}

interface StatusEntry {
  readonly path: string;
  readonly code: string;
}

/** `git status --porcelain=v1 -z --no-renames`: "XY path\0" records. */
function parseStatus(output: string): StatusEntry[] {
  const entries: StatusEntry[] = [];
  for (const record of output.split('\0')) {
    if (record.length < 4) continue;
    entries.push({ code: record.slice(0, 2), path: record.slice(3) });
  }
  return entries;
}

/** Paths whose index mode is 160000 (a gitlink: a submodule or a nested repository). */
function parseGitlinks(output: string): string[] {
  const out: string[] = [];
  for (const record of output.split('\0')) {
    if (!record.startsWith('160000 ')) continue;
    const tab = record.indexOf('\t');
    if (tab >= 0) out.push(record.slice(tab + 1));
  }
  return out;
}

async function carryChanges(
  toplevel: string,
  root: string,
  prefix: string,
  entries: readonly StatusEntry[],
  notes: string[],
): Promise<string[]> {
  const carried: string[] = [];
  const nested: string[] = [];
  const skippedLinks: string[] = [];
  const deletions: string[] = [];
  const copies: string[] = [];
  for (const entry of entries) {
    // An untracked folder that is itself a repository is listed once, with a trailing slash.
    if (entry.path.endsWith('/')) {
      nested.push(entry.path.slice(0, -1));
      continue;
    }
    if (await pathExists(path.join(toplevel, entry.path))) copies.push(entry.path);
    else deletions.push(entry.path);
  }
  // Deletions first: a tracked file replaced by a folder of untracked files must go before the
  // folder is created.
  for (const rel of deletions) {
    await rm(path.join(root, rel), { force: true, recursive: true });
    carried.push(rel);
  }
  await forEachLimited(copies, 16, async (rel) => {
    const copied = await copyEntry(
      path.join(toplevel, rel),
      path.join(root, rel),
      toplevel,
      rel,
      skippedLinks,
    );
    if (copied) carried.push(rel);
  });
  if (nested.length > 0) {
    notes.push(
      `nested repositories are not carried into the worktree: ${nested.sort().join(', ')}`,
    );
  }
  noteSkippedLinks(skippedLinks, notes);
  const strip = prefix === '' ? '' : `${prefix}/`;
  return carried.map((rel) => (rel.startsWith(strip) ? rel.slice(strip.length) : rel)).sort();
}

function noteSkippedLinks(skipped: string[], notes: string[]): void {
  if (skipped.length > 0) {
    notes.push(
      `symlinks pointing outside the project were not copied: ${skipped.sort().join(', ')}`,
    );
  }
}

/**
 * Copies one file or symlink from the main workspace. Symlinks are copied as symlinks, never
 * followed, so the copy reads nothing outside the project; a link whose target lies outside the
 * mirrored tree (or inside `.codex-oss/`) is skipped, and an absolute link into the tree is made
 * relative so it points into the isolation rather than back at the main workspace.
 */
async function copyEntry(
  source: string,
  target: string,
  boundary: string,
  rel: string,
  skippedLinks: string[],
): Promise<boolean> {
  const stat = await lstat(source);
  if (!stat.isFile() && !stat.isSymbolicLink()) return false;
  await rm(target, { force: true, recursive: true });
  await mkdir(path.dirname(target), { recursive: true });
  if (stat.isFile()) {
    await copyFile(source, target, fsConstants.COPYFILE_FICLONE);
    return true;
  }
  const link = await readlink(source);
  const resolved = path.resolve(path.dirname(source), link);
  if (!isInside(boundary, resolved) || isInside(path.join(boundary, '.codex-oss'), resolved)) {
    skippedLinks.push(rel);
    return false;
  }
  const relativeLink = path.isAbsolute(link)
    ? path.relative(path.dirname(source), resolved) || '.'
    : link;
  await symlink(relativeLink, target);
  return true;
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// ---- plain copy --------------------------------------------------------------------------------

async function createCopy(
  projectRoot: string,
  base: string,
  root: string,
  runId: string,
  scope: readonly string[],
  repo: Exclude<Repository, { kind: 'git' }>,
  keep: boolean,
): Promise<Isolation> {
  await mkdir(root);
  const remove = removerFor(null, base, root, runId, keep);
  try {
    const notes: string[] = [
      repo.kind === 'none'
        ? 'not a git repository: a plain copy of the scope'
        : 'the repository has no commit yet: a plain copy of the scope (files git ignores left out)',
    ];
    const skippedLinks: string[] = [];
    const files =
      repo.kind === 'unborn'
        ? await listUnbornFiles(projectRoot, scope)
        : await listTree(projectRoot, scope, notes);
    const carried: string[] = [];
    await forEachLimited(files, 16, async (rel) => {
      const copied = await copyEntry(
        path.join(projectRoot, rel),
        path.join(root, rel),
        projectRoot,
        rel,
        skippedLinks,
      );
      if (copied) carried.push(rel);
    });
    noteSkippedLinks(skippedLinks, notes);
    return {
      root,
      projectDir: root,
      kind: 'copy',
      baseCommit: null,
      carried: carried.sort(),
      linked: [],
      notes,
      remove,
    };
  } catch (error) {
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
    throw refused(`could not copy the scope into ${root}: ${(error as Error).message}`, error);
  }
}

/** Files of a repository without commits: tracked in the index or untracked and not ignored. */
async function listUnbornFiles(projectRoot: string, scope: readonly string[]): Promise<string[]> {
  const pathspecs = scope.map((rel) => `:(literal)${rel || '.'}`);
  const out = await gitOk(projectRoot, [
    'ls-files',
    '-z',
    '--cached',
    '--others',
    '--exclude-standard',
    '--',
    ...pathspecs,
  ]);
  return [...new Set(out.split('\0').filter((rel) => rel !== ''))].filter(
    (rel) => !rel.split('/').some((part) => skippedNames.has(part)),
  );
}

/** Files and symlinks under the scope paths, never following a symlinked folder. */
async function listTree(
  projectRoot: string,
  scope: readonly string[],
  notes: string[],
): Promise<string[]> {
  const out: string[] = [];
  const outside: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(projectRoot, rel), { withFileTypes: true });
    for (const entry of entries) {
      if (skippedNames.has(entry.name)) continue;
      const child = joinPosix(rel, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile() || entry.isSymbolicLink()) out.push(child);
    }
  };
  for (const rel of scope) {
    if (rel.split('/').some((part) => skippedNames.has(part))) continue;
    const absolute = path.join(projectRoot, rel);
    let stat;
    try {
      stat = await lstat(absolute);
    } catch (error) {
      // A scope path that does not exist yet (a file the mission will create) has nothing to copy.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    // A folder on the way to the scope path may be a symlink; never read through one that
    // leaves the project.
    const parent = await realpath(path.dirname(absolute));
    if (!isInside(projectRoot, parent)) {
      outside.push(rel);
      continue;
    }
    if (stat.isDirectory()) await walk(rel);
    else if (stat.isFile() || stat.isSymbolicLink()) out.push(rel);
  }
  if (outside.length > 0) {
    notes.push(
      `scope paths reached through a symlink outside the project were not copied: ${outside.join(', ')}`,
    );
  }
  return [...new Set(out)];
}

// ---- removal -----------------------------------------------------------------------------------

function removerFor(
  toplevel: string | null,
  base: string,
  root: string,
  runId: string,
  keep: boolean,
): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => {
    done ??= keep
      ? writeFile(keptMarker(base, runId), `${runId}\n`)
      : removeIsolationAt(toplevel, root);
    return done;
  };
}

async function removeIsolationAt(toplevel: string | null, root: string): Promise<void> {
  if (toplevel !== null) {
    // Twice --force: the worktree is locked, and may hold uncommitted edits.
    const removed = await git(toplevel, ['worktree', 'remove', '--force', '--force', root]);
    if (removed.code === 0 && !(await pathExists(root))) return;
  }
  // git could not remove it (not registered, or a file it cannot delete): delete the folder and
  // drop whatever registration is left.
  await rm(root, { recursive: true, force: true });
  if (toplevel !== null) await git(toplevel, ['worktree', 'prune']);
}

/**
 * Startup cleanup: removes every isolation under `.codex-oss/worktrees/` whose run is not live
 * (and was not kept with keep_worktree), unlocks registrations of worktrees whose folder is
 * already gone, and runs `git worktree prune`. Returns the run ids it removed.
 */
export async function removeStaleIsolations(
  projectRoot: string,
  isLive: (runId: string) => boolean,
): Promise<string[]> {
  const real = await checkProjectRoot(projectRoot);
  const base = path.join(real, isolationFolder);
  const removed = new Set<string>();
  let names: string[] = [];
  try {
    const stat = await lstat(base);
    if (!stat.isDirectory()) throw refused(`${base} is not a folder`);
    names = await readdir(base);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const repo = await detectRepository(real);
  const toplevel = repo.kind === 'none' ? null : repo.toplevel;
  const kept = new Set(
    names.filter((name) => name.endsWith('.kept')).map((name) => name.slice(0, -'.kept'.length)),
  );
  for (const name of names) {
    if (!runIdPattern.test(name) || name.endsWith('.kept')) continue;
    if (kept.has(name) || isLive(name)) continue;
    const root = path.join(base, name);
    if (!(await lstat(root)).isDirectory()) continue;
    await removeIsolationAt(toplevel, root);
    removed.add(name);
  }
  if (toplevel !== null) {
    // A folder deleted by hand leaves a locked registration that prune would keep forever.
    const list = await git(toplevel, ['worktree', 'list', '--porcelain', '-z']);
    for (const record of list.stdout.split('\0\0')) {
      const line = record.split('\0').find((field) => field.startsWith('worktree '));
      if (line === undefined) continue;
      const worktree = line.slice('worktree '.length);
      const name = path.basename(worktree);
      if (path.dirname(worktree) !== base || kept.has(name) || isLive(name)) continue;
      if (await pathExists(worktree)) continue;
      await git(toplevel, ['worktree', 'unlock', worktree]);
      removed.add(name);
    }
    await git(toplevel, ['worktree', 'prune']);
  }
  return [...removed].sort();
}

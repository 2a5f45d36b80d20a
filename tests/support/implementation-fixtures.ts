import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Temp directories made by a test file; `cleanup()` in afterAll removes them all. */
export class TempDirs {
  readonly #dirs: string[] = [];

  make(prefix: string): string {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), `${prefix}-`)));
    this.#dirs.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

export function writeTree(root: string, files: Readonly<Record<string, string | Buffer>>): void {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/** path → sha256 (or `link:` target / `dir`) of everything under root except `.git`. */
export function hashTree(root: string, skip: readonly string[] = ['.git']): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const absolute = path.join(dir, name);
      const relative = path.relative(root, absolute).split(path.sep).join('/');
      if (skip.some((entry) => relative === entry || relative.startsWith(`${entry}/`))) continue;
      const stats = lstatSync(absolute);
      if (stats.isDirectory()) {
        out.set(relative, 'dir');
        walk(absolute);
      } else if (stats.isSymbolicLink()) {
        out.set(relative, 'link');
      } else {
        const mode = (stats.mode & 0o777).toString(8);
        out.set(
          relative,
          `${mode}:${createHash('sha256').update(readFileSync(absolute)).digest('hex')}`,
        );
      }
    }
  };
  walk(root);
  return out;
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function git(cwd: string, args: readonly string[], input?: string): string {
  return execFileSync('git', [...args], {
    cwd,
    encoding: 'utf8',
    input,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** A real git repository holding `files`, committed. */
export function gitProject(
  dirs: TempDirs,
  files: Readonly<Record<string, string | Buffer>>,
): string {
  const root = dirs.make('impl-project');
  writeTree(root, files);
  git(root, ['init', '-q', '-b', 'main']);
  git(root, ['add', '-A']);
  git(root, ['commit', '-q', '-m', 'base']);
  return root;
}

/** A plain copy of a directory (the isolation root a worktree would be). */
export function copyTree(dirs: TempDirs, source: string, prefix = 'impl-copy'): string {
  const target = dirs.make(prefix);
  cpSync(source, target, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => !src.split(path.sep).includes('.git'),
  });
  return target;
}

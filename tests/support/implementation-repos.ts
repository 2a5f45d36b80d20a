import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Test helpers: real repositories in temp folders, and a hash of a tree to prove it untouched. */

export function tempDir(prefix: string): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
}

export function runGit(cwd: string, args: readonly string[]): string {
  return execFileSync(
    'git',
    [
      '-c',
      'user.email=test@example.invalid',
      '-c',
      'user.name=Test',
      '-c',
      'init.defaultBranch=main',
      '-c',
      'protocol.file.allow=always',
      ...args,
    ],
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

export function writeFiles(root: string, files: Readonly<Record<string, string>>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/** A git repository with `files` committed once. */
export function makeRepo(files: Readonly<Record<string, string>>, prefix = 'impl-repo-'): string {
  const root = tempDir(prefix);
  runGit(root, ['init', '-q']);
  writeFiles(root, files);
  runGit(root, ['add', '-A']);
  runGit(root, ['commit', '-q', '-m', 'initial']);
  return root;
}

/**
 * sha256 over every path, type, mode and content under `root` (symlinks by their target),
 * skipping the named top-level entries.
 */
export function hashTree(root: string, skip: readonly string[] = ['.codex-oss']): string {
  const hash = createHash('sha256');
  const walk = (rel: string): void => {
    const names = readdirSync(path.join(root, rel)).sort();
    for (const name of names) {
      if (rel === '' && skip.includes(name)) continue;
      const child = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(root, child);
      const stat = lstatSync(abs);
      hash.update(`${child}\0${stat.mode}\0`);
      if (stat.isSymbolicLink()) hash.update(readlinkSync(abs));
      else if (stat.isFile()) hash.update(readFileSync(abs));
      else if (stat.isDirectory()) walk(child);
      hash.update('\0');
    }
  };
  walk('');
  return hash.digest('hex');
}

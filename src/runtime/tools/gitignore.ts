import fs from 'node:fs';
import ignore, { type Ignore } from 'ignore';
import { maxGlobWildcards } from './glob.js';
import { openFileSync } from './open-verified.js';

/**
 * `.gitignore` rules as git applies them, parsed and matched by the `ignore` package: the root
 * file, `.git/info/exclude`, and a `.gitignore` in any directory the search walks into (its
 * rules are relative to that directory, and a deeper file overrides a shallower one, `!`
 * re-including what a parent file excluded). A rule with more than `maxGlobWildcards` wildcards
 * is skipped (the files it names are searched): it could not be matched in bounded time.
 */

export interface IgnoreMatcher {
  /** Takes in `<dir>/.gitignore` when the walk enters a directory (relative to the root). */
  addDirectory(relativeDir: string): void;
  ignores(relative: string, isDirectory: boolean): boolean;
}

/** Largest ignore file read; a bigger one is not a real ignore file. */
const maxIgnoreFileBytes = 1024 * 1024;

function boundedRules(content: string): string[] {
  return content
    .split(/\r?\n/)
    .filter((line) => (line.match(/(?<!\\)[*?]+/g)?.length ?? 0) <= maxGlobWildcards);
}

/** One ignore file's rules, for paths relative to the directory that holds it. */
export function parseGitignore(content: string): Pick<IgnoreMatcher, 'ignores'> {
  const rules = ignore().add(boundedRules(content));
  return { ignores: (relative, isDirectory) => rules.ignores(pathFor(relative, isDirectory)) };
}

function pathFor(relative: string, isDirectory: boolean): string {
  return isDirectory ? `${relative}/` : relative;
}

/** Reads a small regular file without following a swapped path or blocking on a pipe. */
function readSmallFile(absolute: string): string | null {
  if (fs.lstatSync(absolute, { throwIfNoEntry: false })?.isFile() !== true) return null;
  const opened = openFileSync(absolute);
  if (!opened.ok) return null;
  try {
    if (opened.size > maxIgnoreFileBytes) return null;
    const buffer = Buffer.alloc(opened.size);
    let filled = 0;
    while (filled < buffer.length) {
      const read = fs.readSync(opened.fd, buffer, filled, buffer.length - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return buffer.toString('utf8', 0, filled);
  } catch {
    return null;
  } finally {
    fs.closeSync(opened.fd);
  }
}

/** The project's ignore rules (root `.gitignore` and `.git/info/exclude`), or null when none. */
export function loadGitignore(root: string): IgnoreMatcher | null {
  /** Per directory ('' = root), its rules; checked shallowest first, the last verdict wins. */
  const levels = new Map<string, Ignore>();
  const exclude = readSmallFile(`${root}/.git/info/exclude`);
  const rootFile = readSmallFile(`${root}/.gitignore`);
  if (exclude !== null || rootFile !== null) {
    levels.set('', ignore().add(boundedRules(`${exclude ?? ''}\n${rootFile ?? ''}`)));
  }
  const tried = new Set<string>(['']);
  const matcher: IgnoreMatcher = {
    addDirectory(relativeDir) {
      if (tried.has(relativeDir)) return;
      tried.add(relativeDir);
      const content = readSmallFile(`${root}/${relativeDir}/.gitignore`);
      if (content !== null) levels.set(relativeDir, ignore().add(boundedRules(content)));
    },
    ignores(relative, isDirectory) {
      if (levels.size === 0) return false;
      let ignored = false;
      for (const [dir, rules] of levels) {
        let inner: string;
        if (dir === '') inner = relative;
        else if (relative.startsWith(`${dir}/`)) inner = relative.slice(dir.length + 1);
        else continue;
        const verdict = rules.test(pathFor(inner, isDirectory));
        if (verdict.ignored) ignored = true;
        else if (verdict.unignored) ignored = false;
      }
      return ignored;
    },
  };
  return matcher;
}

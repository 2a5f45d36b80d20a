import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { compileGlob, GlobError } from './glob.js';

/**
 * The basic subset of `.gitignore` the searcher honours (root file only): comments, blank lines,
 * `!` negation, trailing `/` for directories only, leading or inner `/` anchoring to the root,
 * and `*`, `**`, `?`, `[…]`. The last matching rule wins, as in git. Nested `.gitignore` files
 * and `.git/info/exclude` are not read.
 */

interface IgnoreRule {
  readonly regex: RegExp;
  readonly negate: boolean;
  readonly directoryOnly: boolean;
  /** Anchored rules match the whole relative path; others match any single base name. */
  readonly anchored: boolean;
}

export interface IgnoreMatcher {
  ignores(relative: string, isDirectory: boolean): boolean;
}

export function parseGitignore(content: string): IgnoreMatcher {
  const rules: IgnoreRule[] = [];
  for (const rawLine of content.split(/\r?\n/)) {
    let line = rawLine.replace(/(?<!\\)\s+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
      line = line.slice(1);
    }
    let directoryOnly = false;
    if (line.endsWith('/')) {
      directoryOnly = true;
      line = line.slice(0, -1);
    }
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    if (line === '') continue;
    let regex: RegExp;
    try {
      regex = compileGlob(line);
    } catch (error) {
      // A rule too complex to match in bounded time is skipped (the file is searched).
      if (error instanceof GlobError) continue;
      throw error;
    }
    rules.push({ regex, negate, directoryOnly, anchored });
  }

  return {
    ignores(relative: string, isDirectory: boolean): boolean {
      const baseName = relative.slice(relative.lastIndexOf('/') + 1);
      let ignored = false;
      for (const rule of rules) {
        if (rule.directoryOnly && !isDirectory) continue;
        if (rule.regex.test(rule.anchored ? relative : baseName)) ignored = !rule.negate;
      }
      return ignored;
    },
  };
}

/** The project's root `.gitignore`, or null when there is none. */
export async function loadGitignore(root: string): Promise<IgnoreMatcher | null> {
  try {
    return parseGitignore(await readFile(path.join(root, '.gitignore'), 'utf8'));
  } catch {
    return null;
  }
}

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Source identity: a hash of the code that actually runs. A daemon started before a rebuild keeps
 * serving the old code, and the original bridge lost hours to failures blamed on models that were
 * really stale processes. The daemon reports this hash on /health at startup; `status`, `doctor`
 * and `restart` recompute it from disk and compare.
 */

export interface SourceHash {
  /** Lowercase hex sha256. */
  readonly hash: string;
  /** How many files went into it. */
  readonly files: number;
}

const PACKAGE_NAME = 'opencode-bridge';

let cachedRoot: string | undefined;

/**
 * The folder holding this package's package.json. Found by walking up from this module, so it is
 * right both for `src/config/*.ts` (tests) and `dist/config/*.js` (the built CLI and daemon), and
 * for a copy of the package living anywhere.
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && readPackageName(manifest) === PACKAGE_NAME) {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(
        `cannot find the ${PACKAGE_NAME} package.json above ${fileURLToPath(import.meta.url)}; reinstall the package`,
      );
    }
    dir = parent;
  }
}

function readPackageName(manifest: string): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
    return typeof parsed.name === 'string' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}

/** The `version` field of the package's package.json ("0.0.0" if it cannot be read). */
export function packageVersion(root: string = packageRoot()): string {
  try {
    const parsed = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof parsed.version === 'string' ? parsed.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * sha256 over the sorted relative paths and contents of `dist/**\/*.js`, `bin/codex-oss` and
 * `package.json`. Source maps, docs and tests are left out: they do not change what runs. Each file
 * contributes its path, its byte length and its bytes, so moving bytes between files or renaming a
 * file changes the hash.
 */
export function computeSourceHash(root: string = packageRoot()): SourceHash {
  const relativePaths: string[] = [];
  const distDir = path.join(root, 'dist');
  if (existsSync(distDir)) collectJs(distDir, 'dist', relativePaths);
  for (const single of ['bin/codex-oss', 'package.json']) {
    if (existsSync(path.join(root, single))) relativePaths.push(single);
  }
  // Sort by code unit so the order never depends on the file system or the locale.
  relativePaths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const hash = createHash('sha256');
  let files = 0;
  for (const relative of relativePaths) {
    let content: Buffer;
    try {
      content = readFileSync(path.join(root, relative));
    } catch {
      // A file deleted between listing and reading (a rebuild in progress) is simply absent.
      continue;
    }
    hash.update(`${relative}\0${content.length}\0`);
    hash.update(content);
    files += 1;
  }
  return { hash: hash.digest('hex'), files };
}

function collectJs(dir: string, relativeDir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Paths use "/" on every platform so the same tree hashes the same everywhere.
    const relative = `${relativeDir}/${entry.name}`;
    if (entry.isDirectory()) collectJs(path.join(dir, entry.name), relative, out);
    else if (entry.isFile() && entry.name.endsWith('.js')) out.push(relative);
  }
}

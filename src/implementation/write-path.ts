import { constants } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { createPathScope, type PathScope } from '../runtime/index.js';

/**
 * Where a patch may write. The runtime's `createPathScope` resolves *reads*: it needs the path to
 * exist and follows symlinks to an in-scope target. Writes need neither: a new file does not exist
 * yet, and writing through a link changes a file the diff never names. So this wraps the scope for
 * what it already decides (the deny list and critical roots, one implementation for reads and
 * writes) and adds what only writes need: ownership and a no-follow walk of every component.
 */

export type WritePathCode =
  | 'path_empty'
  | 'path_invalid'
  | 'path_traversal'
  | 'path_outside_root'
  | 'path_not_owned'
  | 'path_denied'
  | 'critical_path_denied'
  | 'symlink_escape'
  | 'not_a_file';

export type LexicalVerdict =
  | { readonly ok: true; readonly relative: string; readonly critical: boolean }
  | { readonly ok: false; readonly code: WritePathCode; readonly message: string };

export type WriteTarget =
  | {
      readonly ok: true;
      readonly relative: string;
      readonly absolute: string;
      readonly critical: boolean;
      /** Whether a regular file is there now. */
      readonly exists: boolean;
    }
  | { readonly ok: false; readonly code: WritePathCode; readonly message: string };

export interface WritePolicyOptions {
  readonly ownedPaths: readonly string[];
  readonly criticalRoots: readonly string[];
  readonly criticalWriteAllowed: boolean;
}

/** `./a//b/` → `a/b`; backslashes count as separators (a model on Windows habits). */
export function normaliseRelative(value: string): string {
  return value
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/** One owned entry: a file (exact) or a directory (everything under it). */
interface OwnedEntry {
  readonly path: string;
  readonly directory: boolean;
}

/** Characters a unified diff header cannot carry unquoted, so a patch path may not hold them. */
// eslint-disable-next-line no-control-regex
const unsafePathCharacters = /[\u0000-\u001f\u007f"\\]/;

export class WritePolicy {
  readonly #owned: readonly OwnedEntry[];
  readonly #scope: PathScope;
  readonly #criticalWriteAllowed: boolean;

  /**
   * `root` is only used to decide whether an owned entry without a trailing `/` is an existing
   * directory; checks themselves are lexical (see `checkLexical`).
   */
  constructor(
    options: WritePolicyOptions,
    directoryProbe: (relative: string) => boolean = () => false,
  ) {
    this.#owned = options.ownedPaths
      .map((entry) => {
        const trimmed = entry.trim();
        const normalised = normaliseRelative(trimmed);
        const directory = normalised === '' || /[/\\]$/.test(trimmed) || directoryProbe(normalised);
        return { path: normalised, directory };
      })
      .filter((entry) => entry.path !== '' || entry.directory);
    // The scope is used for its deny list and critical-root matching only; its root is unused.
    this.#scope = createPathScope({
      projectRoot: '/',
      allowedPaths: [],
      allowedRoots: [],
      forbiddenRoots: [],
      criticalRoots: options.criticalRoots,
      criticalReadAllowed: false,
      criticalReason: null,
    });
    this.#criticalWriteAllowed = options.criticalWriteAllowed;
  }

  describeOwned(): string {
    if (this.#owned.length === 0) return 'This mission owns no paths.';
    const names = this.#owned.map((entry) =>
      entry.path === '' ? 'the whole project' : entry.directory ? `${entry.path}/` : entry.path,
    );
    return `Owned: ${names.join(', ')} (relative to the project root).`;
  }

  isOwned(relative: string): boolean {
    return this.#owned.some((entry) =>
      entry.directory
        ? entry.path === '' || relative.startsWith(`${entry.path}/`)
        : relative === entry.path,
    );
  }

  isDenied(relative: string): boolean {
    return this.#scope.isDenied(relative);
  }

  isCritical(relative: string): boolean {
    return this.#scope.isCritical(relative);
  }

  /**
   * Spelling, ownership, deny list and critical roots, without touching the disk. `root` lets an
   * absolute path inside the isolation root through (as its relative form).
   */
  checkLexical(requested: string, root: string | null = null): LexicalVerdict {
    const raw = requested.trim();
    if (raw === '') {
      return {
        ok: false,
        code: 'path_empty',
        message: `A path is required. ${this.describeOwned()}`,
      };
    }
    if (unsafePathCharacters.test(raw)) {
      return {
        ok: false,
        code: 'path_invalid',
        message:
          'The path contains a control character, a quote or a backslash, which a patch cannot carry; rename it.',
      };
    }
    if (
      raw.replace(/\\/g, '/').split('/').includes('..') ||
      safeDecode(raw).split('/').includes('..')
    ) {
      return {
        ok: false,
        code: 'path_traversal',
        message: `'..' segments are not allowed; name the file from the project root. ${this.describeOwned()}`,
      };
    }
    let relative: string;
    if (path.isAbsolute(raw) || /^[A-Za-z]:[\\/]/.test(raw)) {
      const absolute = path.resolve(raw);
      if (root === null || !(absolute === root || absolute.startsWith(`${root}${path.sep}`))) {
        return {
          ok: false,
          code: 'path_outside_root',
          message: `Absolute paths outside the project are not allowed; use a path relative to the project root. ${this.describeOwned()}`,
        };
      }
      relative = normaliseRelative(path.relative(root, absolute));
    } else {
      relative = normaliseRelative(raw);
    }
    if (relative === '') {
      return { ok: false, code: 'not_a_file', message: 'The project root is not a file.' };
    }
    if (this.isDenied(relative)) {
      return {
        ok: false,
        code: 'path_denied',
        message:
          `'${relative}' is on the deny list (git internals, env files, keys and certificates, ` +
          `secrets/, node_modules/, bridge state) and can never be changed by a patch.`,
      };
    }
    if (!this.isOwned(relative)) {
      return {
        ok: false,
        code: 'path_not_owned',
        message: `'${relative}' is not one of the mission's owned paths, so the patch cannot change it. ${this.describeOwned()}`,
      };
    }
    const critical = this.isCritical(relative);
    if (critical && !this.#criticalWriteAllowed) {
      return {
        ok: false,
        code: 'critical_path_denied',
        message: `'${relative}' is under a critical root; changing it needs critical_path_write_allowed with a critical_path_reason.`,
      };
    }
    return { ok: true, relative, critical };
  }

  /**
   * `checkLexical`, then every component under `root` looked at with lstat (never followed): a
   * symlink anywhere in the path is refused, since writing through it would change a file the
   * diff does not name (or one outside the root); a non-directory parent or a non-file target is
   * refused too.
   */
  async resolveTarget(root: string, requested: string): Promise<WriteTarget> {
    const lexical = this.checkLexical(requested, root);
    if (!lexical.ok) return lexical;
    const segments = lexical.relative.split('/');
    let current = root;
    for (let i = 0; i < segments.length; i++) {
      current = path.join(current, segments[i] ?? '');
      const shown = segments.slice(0, i + 1).join('/');
      const last = i === segments.length - 1;
      let stats;
      try {
        stats = await lstat(current);
      } catch (error) {
        if (isErrno(error, 'ENOENT')) break; // the rest does not exist yet: created on write
        if (isErrno(error, 'ENOTDIR')) return notAFile(shown);
        throw error;
      }
      if (stats.isSymbolicLink()) {
        return {
          ok: false,
          code: 'symlink_escape',
          message: `'${shown}' is a symbolic link; a patch never writes through a link (it could change a file outside the project or one the diff does not name).`,
        };
      }
      if (!last && !stats.isDirectory()) return notAFile(shown, 'is a file, not a directory');
      if (last && !stats.isFile()) return notAFile(shown);
      if (last) {
        return {
          ok: true,
          relative: lexical.relative,
          absolute: current,
          critical: lexical.critical,
          exists: true,
        };
      }
    }
    return {
      ok: true,
      relative: lexical.relative,
      absolute: path.join(root, ...segments),
      critical: lexical.critical,
      exists: false,
    };
  }
}

function notAFile(shown: string, what = 'is not a regular file'): WriteTarget {
  return {
    ok: false,
    code: 'not_a_file',
    message: `'${shown}' ${what}; a patch only changes files.`,
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value).replace(/\\/g, '/');
  } catch {
    return value;
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** Open flags for writing a file in place without following a link at the last component. */
export const writeNoFollowFlags =
  constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

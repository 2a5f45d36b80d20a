import { realpathSync } from 'node:fs';
import path from 'node:path';
import { compileGlob, GlobError } from './tools/glob.js';

/**
 * Path scoping: every path a model names goes through `resolve()` before any tool touches the
 * file system. The model never gets a path the runtime did not check on both its spelling and
 * its real location (symlinks followed).
 */

export type PathDenialCode =
  | 'path_empty'
  | 'path_traversal'
  | 'path_outside_project'
  | 'path_denied'
  | 'symlink_escape'
  | 'path_not_allowed'
  | 'critical_path_denied'
  | 'path_not_found';

export type ResolvedPath =
  | {
      readonly ok: true;
      readonly relative: string;
      readonly absolute: string;
      readonly critical: boolean;
    }
  | { readonly ok: false; readonly code: PathDenialCode; readonly message: string };

/** A lexical verdict for a path found while walking an already-resolved directory. */
export type DescendantVerdict =
  | { readonly ok: true; readonly critical: boolean }
  | { readonly ok: false; readonly code: 'path_denied' | 'critical_path_denied' };

export interface PathScopeOptions {
  readonly projectRoot: string;
  readonly allowedPaths: readonly string[];
  readonly allowedRoots: readonly string[];
  readonly forbiddenRoots: readonly string[];
  readonly criticalRoots: readonly string[];
  readonly criticalReadAllowed: boolean;
  readonly criticalReason: string | null;
}

export interface PathScope {
  /** The real (symlink-free) project root. */
  readonly projectRoot: string;
  /**
   * The options this scope was built from (a frozen copy): plain data, so a worker thread can
   * rebuild the same scope with `createPathScope(scope.options)`.
   */
  readonly options: Readonly<PathScopeOptions>;
  resolve(requested: string): ResolvedPath;
  /** Deny list only (built-in plus the mission's forbidden roots), on a normalised relative path. */
  isDenied(relative: string): boolean;
  /** Whether a relative path lies under a critical root. */
  isCritical(relative: string): boolean;
  /** Lexical check for entries met while walking a directory that `resolve()` already accepted. */
  checkDescendant(relative: string): DescendantVerdict;
  /** The relative paths a search covers when the model names none (each allowed root and path). */
  defaultTargets(): string[];
  /** One line naming what the model may read, for error messages. */
  describeAllowed(): string;
}

/** Directory names refused at any depth: git internals, dependencies, secrets, bridge state. */
const deniedSegments = new Set(['.git', 'node_modules', 'secrets', '.codex-oss']);

/**
 * File-name patterns refused at any depth (case-insensitive: a `.ENV` on a case-insensitive file
 * system is the same file). Env files, keys, certificates and the bridge's own env files.
 */
const deniedNamePatterns: readonly RegExp[] = [
  /^\.env$/i,
  /^\.env\..+$/i,
  /^.+\.env$/i,
  /^.+\.env\.local$/i,
  /^\.envrc$/i,
  /\.(pem|key|p12|pfx|keystore|jks)$/i,
  /^id_rsa/i,
  /^id_ed25519/i,
  /^id_ecdsa/i,
  /^id_dsa/i,
  /^opencode-go\.env/i,
];

function isBroadRoot(root: string): boolean {
  return root === '' || root === '.';
}

/** `./a//b/` → `a/b`; `.` and `` → ``. Backslashes count as separators. */
function normaliseRelative(value: string): string {
  const segments = value
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.');
  return segments.join('/');
}

function hasTraversal(value: string): boolean {
  const check = (text: string): boolean => text.replace(/\\/g, '/').split('/').includes('..');
  if (check(value)) return true;
  // A model may percent-encode a traversal (`..%2f.env`); refuse the decoded spelling as well.
  try {
    const decoded = decodeURIComponent(value);
    return decoded !== value && check(decoded);
  } catch {
    return false;
  }
}

function isUnder(relative: string, root: string): boolean {
  if (isBroadRoot(root)) return true;
  return relative === root || relative.startsWith(`${root}/`);
}

interface RootRule {
  readonly prefix: string | null;
  readonly glob: RegExp | null;
  /** A glob with a `/` names a path prefix; without one it names any single segment. */
  readonly globHasSlash: boolean;
}

/** Forbidden roots may be plain prefixes (`build/`) or globs (`*.env`, `config/*.secret`). */
function compileRootRule(entry: string): RootRule | null {
  const normalised = normaliseRelative(entry.trim());
  if (normalised === '') return null;
  if (/[*?[{]/.test(normalised)) {
    let glob: RegExp;
    try {
      glob = compileGlob(normalised, { caseInsensitive: true });
    } catch (error) {
      // A forbidden root too complex to match safely fails closed: it denies every path.
      if (error instanceof GlobError) return { prefix: '', glob: null, globHasSlash: false };
      throw error;
    }
    return { prefix: null, glob, globHasSlash: normalised.includes('/') };
  }
  return { prefix: normalised, glob: null, globHasSlash: false };
}

function ruleMatches(rule: RootRule, relative: string): boolean {
  if (rule.prefix !== null) return isUnder(relative.toLowerCase(), rule.prefix.toLowerCase());
  const glob = rule.glob;
  if (glob === null) return false;
  const segments = relative.split('/');
  if (!rule.globHasSlash) return segments.some((segment) => glob.test(segment));
  for (let i = 1; i <= segments.length; i++) {
    if (glob.test(segments.slice(0, i).join('/'))) return true;
  }
  return false;
}

export function createPathScope(options: PathScopeOptions): PathScope {
  const lexicalRoot = path.resolve(options.projectRoot);
  let realRoot: string;
  try {
    realRoot = realpathSync.native(lexicalRoot);
  } catch {
    realRoot = lexicalRoot;
  }
  const allowedPaths = new Set(options.allowedPaths.map(normaliseRelative).filter((p) => p !== ''));
  const allowedRoots = options.allowedRoots.map((root) => normaliseRelative(root.trim()));
  const forbidden = options.forbiddenRoots
    .map(compileRootRule)
    .filter((rule): rule is RootRule => rule !== null);
  const criticalRoots = options.criticalRoots.map(normaliseRelative).filter((root) => root !== '');
  const criticalPermitted =
    options.criticalReadAllowed &&
    options.criticalReason !== null &&
    options.criticalReason.trim() !== '';

  function isDenied(relative: string): boolean {
    if (relative === '') return false;
    const segments = relative.split('/');
    for (const segment of segments) {
      if (deniedSegments.has(segment.toLowerCase())) return true;
      for (const pattern of deniedNamePatterns) if (pattern.test(segment)) return true;
    }
    return forbidden.some((rule) => ruleMatches(rule, relative));
  }

  function isCritical(relative: string): boolean {
    return criticalRoots.some((root) => isUnder(relative, root));
  }

  /** `exact` when listed in allowed_paths or under a narrow root; `broad` under `.` only. */
  function allowance(relative: string): 'exact' | 'broad' | null {
    if (allowedPaths.has(relative)) return 'exact';
    let broad = false;
    for (const root of allowedRoots) {
      if (isBroadRoot(root)) broad = true;
      else if (isUnder(relative, root)) return 'exact';
    }
    return broad ? 'broad' : null;
  }

  function describeAllowed(): string {
    const parts: string[] = [];
    if (allowedRoots.some(isBroadRoot)) parts.push('the whole project');
    const roots = allowedRoots.filter((root) => !isBroadRoot(root)).map((root) => `${root}/`);
    if (roots.length > 0) parts.push(`paths under ${roots.join(', ')}`);
    if (allowedPaths.size > 0) parts.push(`the files ${[...allowedPaths].join(', ')}`);
    if (parts.length === 0) return 'No paths are allowed for this mission.';
    return `Allowed: ${parts.join('; ')} (relative to the project root).`;
  }

  function denyMessage(shown: string, viaSymlink: boolean): string {
    const subject = viaSymlink
      ? `'${shown}' resolves (through a symlink) to a path that`
      : `'${shown}'`;
    return (
      `${subject} is on the deny list (git internals, env files, keys and certificates, secrets/, ` +
      `node_modules/, bridge state or a forbidden root) and cannot be read. ${describeAllowed()}`
    );
  }

  function criticalVerdict(relative: string, allowed: 'exact' | 'broad'): boolean {
    // A critical path needs the permission, a reason, and a narrow grant (not just `.`).
    return criticalPermitted && allowed === 'exact' && relative !== '';
  }

  function resolve(requested: string): ResolvedPath {
    const raw = requested.trim();
    if (raw === '')
      return { ok: false, code: 'path_empty', message: `A path is required. ${describeAllowed()}` };
    if (raw.includes('\0')) {
      return {
        ok: false,
        code: 'path_denied',
        message: 'The path contains a NUL byte and was refused.',
      };
    }
    if (hasTraversal(raw)) {
      return {
        ok: false,
        code: 'path_traversal',
        message: `'..' segments are not allowed in paths; name the path from the project root. ${describeAllowed()}`,
      };
    }

    let relative: string;
    if (path.isAbsolute(raw)) {
      const absolute = path.resolve(raw);
      const base = [lexicalRoot, realRoot].find(
        (root) => absolute === root || absolute.startsWith(`${root}${path.sep}`),
      );
      if (base === undefined) {
        return {
          ok: false,
          code: 'path_outside_project',
          message: `Absolute paths outside the project root are not allowed; use a path relative to the project root. ${describeAllowed()}`,
        };
      }
      relative = normaliseRelative(path.relative(base, absolute));
    } else {
      relative = normaliseRelative(raw);
    }
    const shown = relative === '' ? '.' : relative;

    if (isDenied(relative))
      return { ok: false, code: 'path_denied', message: denyMessage(shown, false) };
    const allowed = allowance(relative);
    if (allowed === null) {
      return {
        ok: false,
        code: 'path_not_allowed',
        message: `'${shown}' is outside this mission's scope. ${describeAllowed()}`,
      };
    }

    let real: string;
    try {
      real = realpathSync.native(path.join(realRoot, relative));
    } catch {
      return {
        ok: false,
        code: 'path_not_found',
        message: `'${shown}' does not exist. ${describeAllowed()}`,
      };
    }
    if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`)) {
      return {
        ok: false,
        code: 'symlink_escape',
        message: `'${shown}' is a symlink (or inside one) that points outside the project root and was refused.`,
      };
    }
    const realRelative = normaliseRelative(path.relative(realRoot, real));
    if (isDenied(realRelative))
      return { ok: false, code: 'path_denied', message: denyMessage(shown, true) };
    const realAllowed = allowance(realRelative);
    if (realAllowed === null) {
      return {
        ok: false,
        code: 'path_not_allowed',
        message: `'${shown}' resolves (through a symlink) to a path outside this mission's scope. ${describeAllowed()}`,
      };
    }

    const critical = isCritical(relative) || isCritical(realRelative);
    if (
      critical &&
      !(criticalVerdict(relative, allowed) && criticalVerdict(realRelative, realAllowed))
    ) {
      return {
        ok: false,
        code: 'critical_path_denied',
        message:
          `'${shown}' is under a critical root; reading it needs critical_path_read_allowed with a ` +
          `critical_path_reason and an explicit grant of that path or a narrow root containing it.`,
      };
    }
    return { ok: true, relative, absolute: real, critical };
  }

  function checkDescendant(relative: string): DescendantVerdict {
    if (isDenied(relative)) return { ok: false, code: 'path_denied' };
    if (!isCritical(relative)) return { ok: true, critical: false };
    const allowed = allowance(relative);
    if (allowed !== null && criticalVerdict(relative, allowed)) return { ok: true, critical: true };
    return { ok: false, code: 'critical_path_denied' };
  }

  function defaultTargets(): string[] {
    if (allowedRoots.some(isBroadRoot)) return [''];
    const targets = new Set<string>(allowedRoots);
    for (const file of allowedPaths) {
      if (![...targets].some((root) => isUnder(file, root))) targets.add(file);
    }
    return [...targets];
  }

  const frozenOptions: Readonly<PathScopeOptions> = Object.freeze({
    projectRoot: options.projectRoot,
    allowedPaths: Object.freeze([...options.allowedPaths]),
    allowedRoots: Object.freeze([...options.allowedRoots]),
    forbiddenRoots: Object.freeze([...options.forbiddenRoots]),
    criticalRoots: Object.freeze([...options.criticalRoots]),
    criticalReadAllowed: options.criticalReadAllowed,
    criticalReason: options.criticalReason,
  });

  return {
    projectRoot: realRoot,
    options: frozenOptions,
    resolve,
    isDenied,
    isCritical,
    checkDescendant,
    defaultTargets,
    describeAllowed,
  };
}

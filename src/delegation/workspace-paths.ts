import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { BridgeError } from '../errors/index.js';
import { defaultDenyRoots } from '../mission/index.js';
import { createPathScope, type PathScope } from '../runtime/index.js';

/** The workspace of a delegation: a real folder that is the project root or inside it. */
export interface ResolvedWorkspace {
  /** The real (symlink-free) project root. */
  readonly projectRoot: string;
  /** The real workspace folder. */
  readonly absolute: string;
  /** Project-relative, POSIX separators; '' for the project root itself. */
  readonly relative: string;
}

/** A path of the request, checked and expressed as a project-relative scope entry. */
export interface ScopeEntry {
  readonly requested: string;
  readonly absolute: string;
  /** Project-relative; folders end in '/'. */
  readonly entry: string;
  readonly isDirectory: boolean;
  readonly exists: boolean;
}

function refused(message: string): BridgeError {
  return new BridgeError('delegation_path_refused', message);
}

function hasDotDot(value: string): boolean {
  return value.split(/[\\/]+/).includes('..');
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(`${parent}${path.sep}`);
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

function realOrUndefined(target: string): string | undefined {
  try {
    return realpathSync.native(target);
  } catch {
    return undefined;
  }
}

/**
 * The workspace named by a delegation. Relative names are taken from `base` (the project for MCP,
 * the caller's working directory for the CLI). Refused: NUL bytes, `..`, anything whose real
 * location is not the project root or under it (a symlink out counts as outside).
 */
export function resolveWorkspace(
  projectRoot: string,
  workspace: string | undefined,
  base: string = projectRoot,
): ResolvedWorkspace {
  const project = realOrUndefined(projectRoot);
  if (project === undefined)
    throw refused(
      `The project root ${projectRoot} does not exist; start the server with --project DIR.`,
    );
  if (workspace === undefined || workspace.trim() === '')
    return { projectRoot: project, absolute: project, relative: '' };
  const raw = workspace.trim();
  if (raw.includes('\0')) throw refused('workspace contains a NUL byte and was refused.');
  if (hasDotDot(raw))
    throw refused(
      `workspace ${JSON.stringify(raw)} uses ".."; name the project (${project}) or a folder inside it directly.`,
    );
  const lexical = path.resolve(base, raw);
  const real = realOrUndefined(lexical);
  if (real === undefined)
    throw refused(`workspace ${JSON.stringify(raw)} does not exist (resolved to ${lexical}).`);
  if (!statSync(real).isDirectory())
    throw refused(`workspace ${JSON.stringify(raw)} is not a folder.`);
  if (!isInside(real, project)) {
    const via = isInside(lexical, project) || isInside(lexical, path.resolve(projectRoot));
    throw refused(
      via
        ? `workspace ${JSON.stringify(raw)} is a symlink (or inside one) that points outside the project ${project}; refused.`
        : `workspace ${JSON.stringify(raw)} is outside the project ${project}; this server only delegates work inside it (start another with codex-oss mcp --project DIR).`,
    );
  }
  const relative = toPosix(path.relative(project, real));
  if (denyScope(project).isDenied(relative))
    throw refused(
      `workspace ${JSON.stringify(raw)} is on the deny list (git internals, bridge state, secrets, node_modules).`,
    );
  return { projectRoot: project, absolute: real, relative };
}

/** The runtime's own deny list, so a path refused at tool time is refused here first. */
function denyScope(projectRoot: string): PathScope {
  return createPathScope({
    projectRoot,
    allowedPaths: [],
    allowedRoots: ['.'],
    forbiddenRoots: [...defaultDenyRoots],
    criticalRoots: [],
    criticalReadAllowed: false,
    criticalReason: null,
  });
}

/**
 * One path of `context_paths`, `file` or `handoff_file`, relative to the workspace or absolute
 * under it. Refused, each with a message naming the field and the path: NUL bytes, `..`,
 * absolute paths elsewhere, symlinks whose target leaves the workspace, deny-listed paths, and
 * (unless `allowMissing`) paths that do not exist. A missing path is checked through its nearest
 * existing parent, so a file to be created cannot hide behind a symlinked folder.
 */
export function resolveScopePath(
  workspace: ResolvedWorkspace,
  requested: string,
  field: string,
  options: { allowMissing?: boolean } = {},
): ScopeEntry {
  const raw = requested.trim();
  const shown = JSON.stringify(requested.replace(/\0/g, '\\0'));
  if (raw === '') throw refused(`${field}: an empty path was given.`);
  if (raw.includes('\0')) throw refused(`${field}: ${shown} contains a NUL byte and was refused.`);
  if (hasDotDot(raw))
    throw refused(
      `${field}: ${shown} uses ".."; paths must stay inside the workspace ${workspace.absolute}.`,
    );
  const lexical = path.resolve(workspace.absolute, raw);
  if (!isInside(lexical, workspace.absolute))
    throw refused(
      `${field}: ${shown} is outside the workspace ${workspace.absolute}; name a path inside it.`,
    );
  let existing = lexical;
  let real = realOrUndefined(existing);
  while (real === undefined && existing !== workspace.absolute) {
    existing = path.dirname(existing);
    real = realOrUndefined(existing);
  }
  const exists = existing === lexical;
  if (real === undefined || !isInside(real, workspace.absolute))
    throw refused(
      `${field}: ${shown} is a symlink (or inside one) whose target is outside the workspace ${workspace.absolute}; refused.`,
    );
  if (!exists && !options.allowMissing)
    throw refused(`${field}: ${shown} does not exist in the workspace ${workspace.absolute}.`);
  const absolute = exists ? real : path.join(real, path.relative(existing, lexical));
  const relative = toPosix(path.relative(workspace.projectRoot, absolute));
  if (relative === '' || denyScope(workspace.projectRoot).isDenied(relative))
    throw refused(
      relative === ''
        ? `${field}: ${shown} is the project root itself; leave ${field} out to use the whole workspace.`
        : `${field}: ${shown} is on the deny list (git internals, env files, keys and certificates, secrets/, node_modules/, .codex-oss/) and is never in a mission's scope.`,
    );
  const isDirectory = exists && statSync(absolute).isDirectory();
  return {
    requested,
    absolute,
    entry: isDirectory ? `${relative}/` : relative,
    isDirectory,
    exists,
  };
}

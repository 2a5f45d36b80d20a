import { randomBytes } from 'node:crypto';
import { BridgeError } from '../errors/index.js';
import {
  compileMission,
  validateMission,
  type MissionTier,
  type MissionV1,
} from '../mission/index.js';
import type { MissionAlias, ModelRegistry } from '../models/index.js';
import type { EarlierRun } from '../runtime/index.js';
import type { DelegationRequest } from './delegation-request.js';
import { missionAliasFor } from './mission-alias.js';
import {
  resolveScopePath,
  resolveWorkspace,
  type ResolvedWorkspace,
  type ScopeEntry,
} from './workspace-paths.js';

/** A delegation turned into a mission the runtime governs, with what it needs to run it. */
export interface DelegatedMission {
  readonly mission: MissionV1;
  /** The mission alias the run is admitted under (its tier is the mission's). */
  readonly modelAlias: string;
  readonly missionAlias: MissionAlias;
  readonly permission: 'read-only' | 'workspace-write';
  readonly workspace: ResolvedWorkspace;
  /** True when no path was given and the whole workspace is the (explicitly broad) scope. */
  readonly broadScope: boolean;
  /** One line for the answer: what the scope was and why. */
  readonly scopeNote: string;
  /** The verified earlier run this mission continues, when the caller loaded it already. */
  readonly continuation?: EarlierRun;
}

export interface DelegationContext {
  readonly projectRoot: string;
  readonly registry: ModelRegistry;
  /** Where a relative `workspace` is taken from; the project root unless given. */
  readonly base?: string;
  /**
   * The read scope of the run `continuation_id` names (MissionRuntime.continuationScope): a
   * continuation that names no paths of its own stays exactly there (PRODUCT.md §6.3).
   */
  readonly earlierScope?: {
    readonly allowedRoots: readonly string[];
    readonly allowedPaths: readonly string[];
    /** The earlier run as the runtime verified it, passed on so admission need not re-read it. */
    readonly run?: EarlierRun;
  };
}

/** A fresh mission id for a delegation: sortable by time, unique enough to never collide. */
export function newDelegationMissionId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  return `dlg-${stamp}-${randomBytes(4).toString('hex')}`;
}

function invalid(message: string): BridgeError {
  return new BridgeError('delegation_invalid', message);
}

function describeWorkspace(workspace: ResolvedWorkspace): string {
  return workspace.relative === ''
    ? `the project root (${workspace.absolute})`
    : `${workspace.relative}/ (${workspace.absolute})`;
}

/**
 * PRODUCT.md §6.2: a plain delegation becomes a MissionV1. `read-only` (the default) is an A3
 * investigation scoped to `context_paths` and `file`, or to the whole workspace as an explicitly
 * broad scope that the objective and the answer name; `workspace-write` is an A5 mission that owns
 * exactly the given paths and runs in isolation; `unlimited` is refused. Every path is checked
 * here, before anything runs, and becomes a project-relative scope entry.
 */
export function buildDelegatedMission(
  request: DelegationRequest,
  context: DelegationContext,
): DelegatedMission {
  const permission = request.permission ?? 'read-only';
  if (permission === 'unlimited')
    throw new BridgeError(
      'delegation_refused',
      'permission "unlimited" is refused: the runtime never gives a model unrestricted access to the workspace. Use "workspace-write" for an edit (an A5 mission in an isolated worktree that you apply with oss_promote or codex-oss promote after review), or "read-only" for a question.',
    );
  const workspace = resolveWorkspace(context.projectRoot, request.workspace, context.base);
  const write = permission === 'workspace-write';
  const tier: MissionTier = write ? 'A5' : 'A3';
  const entries = (field: string, list: readonly string[] | undefined): ScopeEntry[] =>
    (list ?? []).map((item) => resolveScopePath(workspace, item, field, { allowMissing: write }));
  const contextEntries = entries('context_paths', request.context_paths);
  const fileEntries = entries('file', request.file);
  const given = [...new Set([...contextEntries, ...fileEntries].map((entry) => entry.entry))];
  // A continuation without paths of its own inherits the earlier run's scope, which it may not leave.
  const earlier = given.length === 0 ? context.earlierScope : undefined;
  const inherited = earlier
    ? [
        ...earlier.allowedRoots.map((root) =>
          root === '' || root === '.' ? '.' : root.endsWith('/') ? root : `${root}/`,
        ),
        ...earlier.allowedPaths,
      ]
    : [];
  const scope = given.length > 0 ? given : inherited;
  if (write && inherited.includes('.'))
    throw invalid(
      `mission ${request.continuation_id ?? ''} read the whole project; a workspace-write continuation must name the files it may change in context_paths or file.`,
    );
  if (write && scope.length === 0)
    throw invalid(
      'permission "workspace-write" needs at least one path in context_paths or file: the files (or folders, ending in "/") the patch may change. The runtime never lets a model change files it does not own.',
    );
  const commands = request.verification_commands ?? [];
  if (!write && commands.length > 0)
    throw invalid(
      'verification_commands apply to permission "workspace-write" only: a read-only mission changes nothing to verify.',
    );
  if (
    request.continuation_id !== undefined &&
    request.mission_id !== undefined &&
    request.continuation_id === request.mission_id
  )
    throw invalid(
      `continuation_id and mission_id are both ${JSON.stringify(request.mission_id)}: a continuation is a new mission with its own id (leave mission_id out to get one).`,
    );
  const { name, alias } = missionAliasFor(context.registry, request.model, tier);

  const inheritedBroad = inherited.includes('.');
  const broadScope = !write && (scope.length === 0 || inheritedBroad);
  const place = describeWorkspace(workspace);
  const shownScope = scope.map((entry) => (entry === '.' ? 'the whole project' : entry)).join(', ');
  const scopeNote = earlier
    ? `Scope: the scope of mission ${request.continuation_id ?? ''}, which this one continues: ${shownScope}${write ? ' (owned; the change runs in an isolated worktree and the workspace is unchanged until you promote)' : ''}.`
    : write
      ? `Scope: the mission owns ${shownScope} in ${place}; it ran in an isolated worktree, and the workspace itself is unchanged until you promote.`
      : broadScope
        ? `Scope: the whole workspace, ${place}, was the scope (no context_paths or file were given), minus the deny list (.git/, env files, keys, node_modules/, .codex-oss/).`
        : `Scope: ${shownScope} in ${place}.`;

  const objective = [
    request.prompt.trim(),
    ...(request.report_mode
      ? [
          'Answer as a self-contained document: a short summary first, then each finding with the evidence behind it.',
        ]
      : []),
    ...(broadScope && !earlier ? [scopeNote] : []),
  ].join('\n\n');
  const isRoot = (entry: string) => entry === '.' || entry.endsWith('/');
  const dirs = (list: readonly string[]) => list.filter(isRoot);
  const files = (list: readonly string[]) => list.filter((entry) => !isRoot(entry));
  const broadRoot = workspace.relative === '' ? '.' : `${workspace.relative}/`;
  const mission = compileMission({
    objective,
    tier,
    missionId: request.mission_id ?? newDelegationMissionId(),
    continues: request.continuation_id,
    ...(write
      ? {
          ownedPaths: scope,
          applyMode: 'isolated',
          verificationCommands: commands.filter((command) => typeof command === 'string'),
          verificationArgv: commands.filter((command) => typeof command !== 'string'),
        }
      : scope.length === 0
        ? { allowedRoots: [broadRoot], allowBroadReadScope: true }
        : {
            allowBroadReadScope: inheritedBroad,
            allowedRoots: dirs(scope),
            allowedPaths: files(scope),
            mustInspect: fileEntries.filter((entry) => !entry.isDirectory).map((e) => e.entry),
          }),
  });
  const loaded = context.earlierScope?.run;
  return {
    mission,
    modelAlias: name,
    missionAlias: alias,
    permission,
    workspace,
    broadScope,
    scopeNote,
    ...(loaded !== undefined && loaded.missionId === mission.continues
      ? { continuation: loaded }
      : {}),
  };
}

/**
 * `oss_mission`: a MissionV1 object the caller wrote, validated by the same schema as a handoff
 * block, run under the mission alias of its own tier (on `model`'s profile when given).
 */
export function missionFromObject(
  raw: unknown,
  registry: ModelRegistry,
  model?: string,
): {
  readonly mission: MissionV1;
  readonly modelAlias: string;
  readonly missionAlias: MissionAlias;
} {
  const { mission } = validateMission(raw);
  const { name, alias } = missionAliasFor(registry, model, mission.tier);
  return { mission, modelAlias: name, missionAlias: alias };
}

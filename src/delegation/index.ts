// Public API of the delegation domain: a plain delegation (MCP `opencode`, `codex-oss delegate`)
// turned into a MissionV1 the runtime governs, its paths checked, and run through the runtime.
export {
  buildDelegatedMission,
  missionFromObject,
  newDelegationMissionId,
  type DelegatedMission,
  type DelegationContext,
} from './build-delegated-mission.js';
export {
  delegationPermissions,
  delegationRequestSchema,
  delegationRequestShape,
  maxPromptChars,
  maxScopeEntries,
  type DelegationPermission,
  type DelegationRequest,
} from './delegation-request.js';
export { defaultMissionProfile, missionAliasFor } from './mission-alias.js';
export { runDelegatedMission, type RunnableMission } from './run-delegated-mission.js';
export {
  resolveScopePath,
  resolveWorkspace,
  type ResolvedWorkspace,
  type ScopeEntry,
} from './workspace-paths.js';

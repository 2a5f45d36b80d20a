// Public API of the implementation domain (A4–A6): isolation, staged edits, the runtime-built
// patch and its checks, verification, promotion. Other domains import only from here.
export {
  createIsolation,
  isolationFolder,
  removeStaleIsolations,
  type Isolation,
  type IsolationRequest,
} from './create-isolation.js';
export {
  planVerificationIsolation,
  runVerification,
  type CommandOutcome,
  type CommandResult,
  type EnforcedIsolation,
  type IsolationPlanRequest,
  type VerificationRequest,
  type VerificationRun,
} from './run-verification.js';
export { probeSandbox, type SandboxMechanism, type SandboxProbe } from './sandbox-probe.js';
export {
  defaultMaxFileBytes,
  StagedWorkspace,
  type ChangeKind,
  type EditFailureCode,
  type EditResult,
  type FileChange,
  type StagedWorkspaceOptions,
} from './staged-workspace.js';
export type { WritePathCode } from './write-path.js';
export { buildPatch, type BuiltPatch, type PatchFile } from './build-patch.js';
export {
  checkPatch,
  isDependencyManifest,
  isTestFile,
  type PatchCheck,
  type PatchCheckInput,
  type PatchCheckMission,
  type PatchCheckName,
  type PatchFlag,
  type PatchFlagCode,
  type PatchVerdict,
  type PatchVerdictStatus,
} from './check-patch.js';
export { parseGitDiff, type DiffSection, type ParsedDiff } from './parse-git-diff.js';
export { runGitApply, type GitApplyOptions, type GitApplyResult } from './git-apply.js';
export {
  promote,
  promoteRequestSchema,
  promotionRefusalError,
  type PromoteAction,
  type PromoteRequest,
  type PromoteResult,
} from './promote.js';
export {
  PROMOTION_EVENT_SCHEMA,
  promotionEntrySchema,
  promotionLogPath,
  promotionsFor,
  verifyPromotionLog,
  type PromotionEntry,
  type PromotionLogVerification,
} from './promotion-log.js';
export {
  promoteMission,
  type PromoteMissionRequest,
  type PromoteMissionResult,
} from './promote-mission.js';

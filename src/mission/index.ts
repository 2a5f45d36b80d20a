// Public API of the mission domain: MissionV1 (schema, validation, defaults), handoff
// extraction, plain-text task contracts, admission with budget clamping, templates/compile.
export {
  abusiveTimeBudgetSeconds,
  abusiveToolBudget,
  applyModesByTier,
  criticalRoots,
  defaultDenyRoots,
  missionSchemaVersion,
  missionTiers,
  modeByTier,
  objectiveStyles,
  riskTiers,
  tierBudgetCap,
  toolClasses,
  type ApplyMode,
  type MissionMode,
  type MissionTier,
  type ObjectiveStyle,
  type RiskTier,
  type ToolClass,
} from './constants.js';
export { MissionInputError, isMissionInputError, type MissionErrorCode } from './mission-error.js';
export {
  isPathInScope,
  missionFieldNames,
  missionV1Schema,
  normalizeScopePath,
  parseMissionTier,
  validateMission,
  type AnswerObligation,
  type MissionV1,
  type MissionV1Input,
  type ValidatedMission,
  type VerificationPolicy,
} from './mission-schema.js';
export {
  containsHandoff,
  extractHandoff,
  handoffTag,
  siblingBlockTags,
  type ExtractedHandoff,
  type SiblingBlockTag,
} from './extract-handoff.js';
export { locateJsonError, type JsonErrorPosition } from './json-error-position.js';
export {
  parseTaskContract,
  parseTaskContractFields,
  taskContractToMissionInput,
  type ContractLabel,
  type TaskContractOptions,
} from './parse-task-contract.js';
export {
  clampMissionBudget,
  missingHandoffMessage,
  prepareMission,
  type BudgetClampInput,
  type BudgetReductionReason,
  type MissionBudget,
  type PrepareMissionInput,
  type PreparedMission,
} from './admit-mission.js';
export {
  buildMissionTemplate,
  compileMission,
  renderHandoff,
  stableStringify,
  type CompileMissionFlags,
  type MissionTemplateOptions,
} from './mission-template.js';
export { shellSplit } from './shell-split.js';
export { validateHandoffText, type HandoffValidation } from './validate-handoff.js';

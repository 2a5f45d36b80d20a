export { canonicalJson, compareCodePoints } from './canonical-json.js';
export {
  EVENT_SCHEMA,
  ZERO_HASH,
  eventSources,
  isSafeId,
  missionEventSchema,
  type EventSource,
  type MissionEvent,
} from './event-schema.js';
export {
  durableEventTypes,
  knownEventTypes,
  TERMINAL_EVENT_TYPE,
  type EventPayloadMap,
  type EventType,
  type KnownEventType,
  type MissionBudgets,
  type PayloadFor,
  type RunStatus,
  type TokenUsage,
} from './event-types.js';
export { EventLogError, type EventLogErrorCode } from './event-log-error.js';
export { hashEvent, sha256Hex } from './hash-event.js';
export { missionDir, runPaths, runsDir, STATE_DIR, type RunPaths } from './paths.js';
export { REDACTED, redactPayload } from './redact-payload.js';
export {
  openEventLog,
  type EventLogHead,
  type EventLogWriter,
  type GroupCommitOptions,
  type OpenEventLogOptions,
} from './event-log-writer.js';
export {
  parseEventLog,
  readEventLog,
  readFirstEvent,
  verifyEventLog,
  type EventLogReadResult,
  type EventLogVerification,
  type TornTail,
} from './read-event-log.js';
export {
  filePathOfRef,
  reduceRunRecord,
  RunRecordReducer,
  type CommentaryEntry,
  type FileInspected,
  type ModelUsage,
  type RunRecord,
  type RunState,
} from './reduce-run-record.js';
export {
  MANIFEST_FILE_NAME,
  projectionDir,
  projectionFileNames,
  renderManifest,
  renderProjections,
  writeProjections,
  type ProjectionFileName,
  type ProjectionManifest,
} from './projections.js';
export { auditMission, findRun, type AuditCheck, type AuditResult } from './audit-mission.js';
export { continuationChain, runWriterState, type RunWriterState } from './session-chain.js';

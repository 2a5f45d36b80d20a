// Public API of the runtime domain: what other domains use. Internals are imported from their
// files by this domain's own tests.

export { createPathScope, type PathScope } from './path-scope.js';
export { containsSecret, redactSecrets } from './redact-secrets.js';
export { type ToolContext, type ToolObservation } from './tools/types.js';
export { runTool } from './tools/registry.js';
export { searchTree } from './tools/searcher.js';
export {
  MissionRuntime,
  type ExecuteMissionInput,
  type MissionOutcome,
  type MissionRuntimeDeps,
} from './mission-runtime.js';
export type { MissionReport } from './mission-report.js';
export type { EarlierRun } from './mission-continuation.js';
export type { CommentaryLine } from './commentary-channel.js';
export type { ImplementationKit } from './implementation-ports.js';

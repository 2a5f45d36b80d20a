// Public API of the runtime domain. Other domains import only from here.

export {
  createPathScope,
  type DescendantVerdict,
  type PathDenialCode,
  type PathScope,
  type PathScopeOptions,
  type ResolvedPath,
} from './path-scope.js';
export {
  containsSecret,
  redactionMarker,
  redactSecrets,
  type RedactionResult,
} from './redact-secrets.js';
export { normalizeToolArgs, type NormalizedToolArgs } from './normalize-tool-args.js';
export {
  canonicalJson,
  EvidenceLedger,
  type FileInspected,
  type LedgerStats,
  type LineRangeRequest,
} from './evidence-ledger.js';
export {
  defaultToolLimits,
  type ToolClass,
  type ToolContext,
  type ToolFunctionDefinition,
  type ToolLimits,
  type ToolName,
  type ToolObservation,
  type ToolSpec,
} from './tools/types.js';
export {
  getToolSpec,
  isToolName,
  runTool,
  toolDefinitions,
  toolNamesFor,
  toolSpecs,
} from './tools/registry.js';
export {
  executeReadFile,
  readFileArgs,
  readFileTool,
  type ReadFileArgs,
} from './tools/read-file.js';
export {
  executeSearchText,
  searchTextArgs,
  searchTextTool,
  type SearchTextArgs,
} from './tools/search-text.js';
export { executeListDir, listDirArgs, listDirTool, type ListDirArgs } from './tools/list-dir.js';
export {
  executeGitDiffStat,
  executeGitLog,
  executeGitShowStat,
  executeGitStatus,
  gitDiffStatTool,
  gitLogTool,
  gitShowStatTool,
  gitStatusTool,
} from './tools/git-tools.js';
export {
  searchTree,
  SearchPatternError,
  type SearchLine,
  type SearchMatch,
  type SearchRequest,
  type SearchResult,
} from './tools/searcher.js';
export { compileGlob, createPathGlob, type PathGlob } from './tools/glob.js';
export {
  MissionRuntime,
  type ExecuteMissionInput,
  type MissionOutcome,
  type MissionRuntimeDeps,
} from './mission-runtime.js';
export type { MissionReport } from './mission-report.js';
export type { CommentaryLine } from './commentary-channel.js';
export { renderReport } from './render-report.js';
export type { ImplementationKit } from './implementation-ports.js';

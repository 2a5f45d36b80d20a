export {
  INDEX_SCHEMA_VERSION,
  openRunIndex,
  runSummaryOf,
  type ListRunsOptions,
  type RebuildResult,
  type RunIndex,
  type RunSummary,
  type UsageFigures,
  type UsageReport,
} from './run-index.js';

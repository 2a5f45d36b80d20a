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
export {
  openResponseStore,
  RESPONSE_STORE_SCHEMA_VERSION,
  type ResponseStore,
  type ResponseStoreOptions,
  type StoredResponse,
} from './response-store.js';
export {
  freesUpAt,
  openSpendLedger,
  windowStatuses,
  type SpendLedger,
  type WindowLimit,
  type WindowStatus,
} from './spend-ledger.js';

/**
 * The event types the runtime emits and their payloads (the contract agreed with the runtime).
 * The log accepts any type; the reducer folds only these. Fields that carry objects owned by
 * other domains (the mission, tool args, reports) are `unknown` here so that events never depend
 * on those domains' types.
 */

import type { TokenUsage } from '../usage/index.js';

export type { TokenUsage };

export interface MissionBudgets {
  readonly tool_budget: number;
  readonly time_budget_seconds: number;
  readonly max_model_calls: number;
  readonly max_cost_usd: number | null;
  readonly max_output_tokens: number | null;
  readonly max_files: number;
  readonly max_observation_bytes: number;
}

export type RunStatus = 'COMPLETE' | 'PARTIAL' | 'ESCALATE' | 'FAILED';

export interface EventPayloadMap {
  'run.admitted': {
    readonly mission_id: string;
    readonly tier: string;
    readonly objective_style: string;
    readonly model_alias: string;
    readonly model: string;
    readonly mission: unknown;
    readonly budgets: MissionBudgets;
    readonly deadline_at: string;
    readonly request_id: string | null;
  };
  'mission.rejected': {
    readonly code: string;
    readonly message: string;
    readonly mission_id: string | null;
  };
  'model.requested': {
    readonly call: number;
    readonly model: string;
    readonly fallback_chain: readonly string[];
    readonly forced_final: boolean;
    readonly message_count: number;
    readonly prompt_bytes: number;
  };
  'model.responded': {
    readonly call: number;
    readonly model: string;
    readonly fallback_from: string | null;
    readonly latency_ms: number;
    readonly usage: TokenUsage;
    readonly cost_usd: number;
    readonly upstream_cost_usd: number | null;
    readonly finish_reason: string;
    readonly action: 'tool_call' | 'final_report' | 'text' | 'invalid';
  };
  'model.failed': {
    readonly call: number;
    readonly model: string;
    readonly code: string;
    readonly message: string;
    readonly retryable: boolean;
  };
  'tool.requested': { readonly call: number; readonly tool: string; readonly args: unknown };
  'tool.denied': {
    readonly call: number;
    readonly tool: string;
    readonly args: unknown;
    readonly reason_code: string;
    readonly message: string;
  };
  'tool.completed': {
    readonly call: number;
    readonly tool: string;
    readonly args: unknown;
    /** sha256 hex of the observation text. */
    readonly digest: string;
    readonly bytes: number;
    readonly refs: readonly string[];
    readonly cache_hit: boolean;
    readonly redactions: number;
    readonly summary: string;
    readonly path: string | null;
  };
  'commentary.emitted': {
    readonly index: number;
    readonly kind: string;
    readonly phase: string;
    readonly message: string;
    readonly severity: 'info' | 'warning' | 'error' | 'debug';
  };
  'report.submitted': { readonly report: unknown };
  'report.validated': {
    readonly status: string;
    readonly reasons: readonly string[];
    readonly dropped_findings: number;
    readonly report: unknown;
    readonly final_text: string;
  };
  'run.completed': {
    readonly status: RunStatus;
    readonly reason: string;
    readonly reason_text: string;
    readonly totals: {
      readonly model_calls: number;
      readonly tool_calls: number;
      readonly input_tokens: number;
      readonly cached_input_tokens: number;
      readonly output_tokens: number;
      readonly reasoning_tokens: number;
      readonly total_tokens: number;
      readonly cost_usd: number;
    };
  };
}

export type KnownEventType = keyof EventPayloadMap;

export const knownEventTypes: readonly KnownEventType[] = [
  'run.admitted',
  'mission.rejected',
  'model.requested',
  'model.responded',
  'model.failed',
  'tool.requested',
  'tool.denied',
  'tool.completed',
  'commentary.emitted',
  'report.submitted',
  'report.validated',
  'run.completed',
];

/** Any event type: the known ones autocomplete, others (e.g. `patch.*`) are accepted as-is. */
export type EventType = KnownEventType | (string & NonNullable<unknown>);

/** The payload type `append` expects for a given event type. */
export type PayloadFor<T extends string> = T extends KnownEventType
  ? EventPayloadMap[T]
  : Readonly<Record<string, unknown>>;

/**
 * Types fsynced before `append` resolves (PRODUCT.md §7: admission, each tool result, the
 * terminal event). A rejection is the terminal fact of a mission that never started, and a model
 * request is what makes a crashed run read as `waiting_upstream`, so both are durable too. Seq 0
 * is always durable whatever its type. Everything else is group-committed.
 */
export const durableEventTypes: ReadonlySet<string> = new Set([
  'run.admitted',
  'mission.rejected',
  // Synced before the model is called, so a log that survives a crash shows the run was waiting
  // on the model; one fsync per model call is nothing next to the call itself.
  'model.requested',
  'tool.completed',
  'tool.denied',
  'run.completed',
]);

/** The one terminal event type; nothing may be appended after it. */
export const TERMINAL_EVENT_TYPE = 'run.completed';

/**
 * Every event type the runtime writes, declared once: one zod schema per type. The payload
 * types are inferred from these schemas, the writer validates each append against its type's
 * schema, and the reducer reads payloads through the same schemas. Fields that carry objects
 * owned by other domains (the mission, tool args, reports, patch checks) are `unknown` here so
 * that events never depend on those domains' types.
 */
import { z } from 'zod';
import type { TokenUsage } from '../usage/index.js';

export type { TokenUsage };

const count = z.number().int().nonnegative();
const text = z.string();
const nullableText = z.string().nullable();

const tokenUsage = z.strictObject({
  input_tokens: count,
  cached_input_tokens: count,
  cache_write_tokens: count,
  output_tokens: count,
  reasoning_tokens: count,
  total_tokens: count,
}) satisfies z.ZodType<TokenUsage>;

const budgets = z.strictObject({
  tool_budget: count,
  time_budget_seconds: z.number().nonnegative(),
  max_model_calls: count,
  max_cost_usd: z.number().nonnegative().nullable(),
  max_output_tokens: count.nullable(),
  max_files: count,
  max_observation_bytes: count,
});

const runTotals = z.strictObject({
  model_calls: count,
  tool_calls: count,
  input_tokens: count,
  cached_input_tokens: count,
  output_tokens: count,
  reasoning_tokens: count,
  total_tokens: count,
  cost_usd: z.number().nonnegative(),
});

const fileChange = z.strictObject({
  path: text,
  change: z.enum(['add', 'modify', 'delete']),
  added_lines: count,
  removed_lines: count,
  base_sha256: nullableText,
  new_sha256: nullableText,
  whole_file_rewrite: z.boolean(),
});

export const eventPayloadSchemas = {
  'run.admitted': z.strictObject({
    mission_id: text,
    tier: text,
    objective_style: text,
    model_alias: text,
    model: text,
    fallback_chain: z.array(text),
    fallbacks_refused: z.array(text),
    mission: z.unknown(),
    budgets,
    budget_reductions: z.array(text),
    deadline_at: text,
    request_id: nullableText,
    source: text,
    warnings: z.array(text),
    /** The run this one continues (PRODUCT.md §6.3), when it does. */
    continues: z
      .strictObject({ mission_id: text, run_id: text, status: text, head_hash: text })
      .optional(),
  }),
  'mission.rejected': z.strictObject({
    code: text,
    message: text,
    mission_id: nullableText,
    model_alias: text.optional(),
  }),
  'model.requested': z.strictObject({
    call: count,
    model: text,
    fallback_chain: z.array(text),
    forced_final: z.boolean(),
    message_count: count,
    prompt_bytes: count,
  }),
  'model.responded': z.strictObject({
    call: count,
    model: text,
    fallback_from: nullableText,
    latency_ms: z.number().nonnegative(),
    usage: tokenUsage,
    cost_usd: z.number().nonnegative(),
    upstream_cost_usd: z.number().nullable(),
    finish_reason: text,
    action: z.enum(['tool_call', 'final_report', 'text', 'invalid']),
  }),
  'model.failed': z.strictObject({
    call: count,
    model: text,
    code: text,
    message: text,
    retryable: z.boolean(),
  }),
  'tool.requested': z.strictObject({ call: count, tool: text, args: z.unknown() }),
  'tool.denied': z.strictObject({
    call: count,
    tool: text,
    args: z.unknown(),
    reason_code: text,
    message: text,
  }),
  'tool.completed': z.strictObject({
    call: count,
    tool: text,
    args: z.unknown(),
    /** sha256 hex of the observation text. */
    digest: text,
    bytes: count,
    refs: z.array(text),
    cache_hit: z.boolean(),
    redactions: count,
    summary: text,
    path: nullableText,
  }),
  'commentary.emitted': z.strictObject({
    index: count,
    kind: text,
    phase: text,
    message: text,
    severity: z.enum(['info', 'warning', 'error', 'debug']),
  }),
  'report.submitted': z.strictObject({ report: z.unknown() }),
  'report.validated': z.strictObject({
    status: text,
    reasons: z.array(text),
    dropped_findings: count,
    report: z.unknown(),
    final_text: text,
  }),
  /** The isolated copy an implementation mission works in (PRODUCT.md §6.1). */
  'isolation.created': z.strictObject({
    kind: z.enum(['git_worktree', 'copy']),
    root: text,
    base_commit: nullableText,
    carried: z.array(text),
    notes: z.array(text),
  }),
  'isolation.removed': z.strictObject({ root: text, kept: z.boolean() }),
  /** One edit the model staged in the isolated copy (the user's files are untouched). */
  'patch.staged': z.strictObject({
    operation: z.enum(['edit', 'write', 'delete']),
    path: text,
    added_lines: count,
    removed_lines: count,
  }),
  /** The runtime-built diff of what the model staged, at a `submit_patch`. */
  'patch.proposed': z.strictObject({
    round: count,
    summary: text,
    rationale: text,
    claims: z.unknown(),
    diff: text,
    rollback: text,
    bytes: count,
    files: z.array(fileChange),
  }),
  'patch.validated': z.strictObject({
    round: count,
    status: z.enum(['VALID', 'ESCALATE']),
    checks: z.unknown(),
    flags: z.unknown(),
    reasons: z.array(text),
  }),
  'patch.rejected': z.strictObject({
    round: count,
    status: z.enum(['INVALID', 'ESCALATE']),
    checks: z.unknown(),
    flags: z.unknown(),
    reasons: z.array(text),
    repairable: z.boolean(),
  }),
  'verification.started': z.strictObject({
    round: count,
    commands: z.array(z.array(text)),
    isolation: z.unknown(),
  }),
  'verification.completed': z.strictObject({
    round: count,
    passed: z.boolean(),
    results: z.unknown(),
  }),
  'run.completed': z.strictObject({
    status: text,
    reason: text,
    reason_text: text,
    totals: runTotals,
  }),
} as const;

export type KnownEventType = keyof typeof eventPayloadSchemas;

export type EventPayloadMap = {
  readonly [K in KnownEventType]: z.input<(typeof eventPayloadSchemas)[K]>;
};

export type MissionBudgets = z.infer<typeof budgets>;

export type RunStatus = string;

export const knownEventTypes = Object.keys(eventPayloadSchemas) as readonly KnownEventType[];

/** Event types are the declared ones; the writer refuses any other. */
export type EventType = KnownEventType;

/** The payload type `append` expects for a given event type. */
export type PayloadFor<T extends KnownEventType> = EventPayloadMap[T];

export function isKnownEventType(type: string): type is KnownEventType {
  return Object.hasOwn(eventPayloadSchemas, type);
}

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
  // A verification command may take minutes: its start and result must survive a crash.
  'verification.started',
  'verification.completed',
  'run.completed',
]);

/** The one terminal event type; nothing may be appended after it. */
export const TERMINAL_EVENT_TYPE = 'run.completed';

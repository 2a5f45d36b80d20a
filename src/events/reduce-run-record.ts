import { addUsage, emptyUsage, type MutableTokenUsage, type TokenUsage } from '../usage/index.js';
import type { MissionEvent } from './event-schema.js';
import { eventPayloadSchemas, isKnownEventType, type MissionBudgets } from './event-types.js';

export type RunState = 'running' | 'waiting_upstream' | 'completed' | 'failed' | 'cancelled';

export interface ModelUsage {
  model: string;
  /** Answered calls (model.responded) served by this model. */
  calls: number;
  tokens: MutableTokenUsage;
  cost_usd: number;
}

export interface CommentaryEntry {
  index: number;
  kind: string;
  phase: string;
  message: string;
  severity: string;
  ts: string;
}

export interface FileInspected {
  path: string;
  refs: string[];
}

/**
 * `run_record.v1`: everything known about a run, as a pure fold of its events. Nothing here is
 * stored anywhere but derived from the log; the index and projections are renderings of it.
 */
export interface RunRecord {
  schema: 'run_record.v1';
  run_id: string;
  mission_id: string | null;
  tier: string | null;
  objective_style: string | null;
  model_alias: string | null;
  /** The model admitted for the run (fallbacks are in `fallbacks_used`). */
  model: string | null;
  request_id: string | null;
  /** The run this one continues (PRODUCT.md §6.3), from its run.admitted. */
  continues: { mission_id: string; run_id: string } | null;
  state: RunState;
  status: string | null;
  reason: string | null;
  reason_text: string | null;
  started_at: string | null;
  ended_at: string | null;
  deadline_at: string | null;
  last_event_at: string | null;
  event_count: number;
  /** Events whose payload did not match its type's schema (not folded). */
  invalid_payloads: number;
  head_hash: string | null;
  budgets: MissionBudgets | null;
  model_calls: number;
  model_failures: number;
  tool_calls: number;
  tools_denied: number;
  cache_hits: number;
  observation_bytes: number;
  fallbacks_used: { from: string; to: string }[];
  tokens: MutableTokenUsage;
  /** Sum over answered calls; the upstream's own figure wins over our estimate when present. */
  cost_usd: number;
  models_used: ModelUsage[];
  files_inspected: FileInspected[];
  evidence_refs: string[];
  commentary: CommentaryEntry[];
  report: Record<string, unknown> | null;
  final_text: string | null;
  validation: { status: string | null; reasons: string[]; dropped_findings: number } | null;
  rejection: { code: string; message: string } | null;
}

/**
 * Folds events one at a time; `snapshot()` can be taken at any point (live views, the index).
 * Unknown event types only advance the counters every event advances.
 */
export class RunRecordReducer {
  #runId = '';
  #missionId: string | null = null;
  #tier: string | null = null;
  #objectiveStyle: string | null = null;
  #modelAlias: string | null = null;
  #model: string | null = null;
  #requestId: string | null = null;
  #continues: { mission_id: string; run_id: string } | null = null;
  #status: string | null = null;
  #reason: string | null = null;
  #reasonText: string | null = null;
  #terminal = false;
  #startedAt: string | null = null;
  #endedAt: string | null = null;
  #deadlineAt: string | null = null;
  #lastEventAt: string | null = null;
  #eventCount = 0;
  #headHash: string | null = null;
  #budgets: MissionBudgets | null = null;
  #modelCalls = 0;
  #modelFailures = 0;
  #pendingModelCall = false;
  #lastModel: string | null = null;
  #invalidPayloads = 0;
  readonly #toolCalls = new Set<string>();
  #toolsDenied = 0;
  #cacheHits = 0;
  #observationBytes = 0;
  readonly #fallbacks: { from: string; to: string }[] = [];
  readonly #tokens: MutableTokenUsage = emptyUsage();
  #cost = 0;
  readonly #byModel = new Map<string, ModelUsage>();
  readonly #files = new Map<string, Set<string>>();
  readonly #refs = new Set<string>();
  readonly #commentary: CommentaryEntry[] = [];
  #report: Record<string, unknown> | null = null;
  #finalText: string | null = null;
  #validation: RunRecord['validation'] = null;
  #rejection: RunRecord['rejection'] = null;

  apply(event: MissionEvent): void {
    if (this.#eventCount === 0) {
      this.#runId = event.run_id;
      this.#startedAt = event.ts;
    }
    this.#eventCount++;
    this.#lastEventAt = event.ts;
    this.#headHash = event.hash;
    // Payloads are read through the schemas they were written with; one that does not match
    // (a foreign or hand-edited log) is counted, never folded as if it were sound.
    if (
      isKnownEventType(event.type) &&
      !eventPayloadSchemas[event.type].safeParse(event.payload).success
    ) {
      this.#invalidPayloads++;
      return;
    }
    const p = event.payload;
    switch (event.type) {
      case 'run.admitted':
        this.#missionId = str(p['mission_id']) ?? this.#missionId;
        this.#tier = str(p['tier']);
        this.#objectiveStyle = str(p['objective_style']);
        this.#modelAlias = str(p['model_alias']);
        this.#model = str(p['model']);
        this.#requestId = str(p['request_id']);
        this.#continues = readContinues(p['continues']);
        this.#deadlineAt = str(p['deadline_at']);
        this.#budgets = readBudgets(p['budgets']);
        break;
      case 'mission.rejected': {
        this.#missionId = str(p['mission_id']) ?? this.#missionId;
        const code = str(p['code']) ?? 'rejected';
        const message = str(p['message']) ?? '';
        this.#rejection = { code, message };
        // A rejected mission is over unless a run.completed follows and says otherwise.
        if (!this.#terminal) {
          this.#status = 'FAILED';
          this.#reason = code;
          this.#reasonText = message;
          this.#endedAt = event.ts;
        }
        break;
      }
      case 'model.requested':
        this.#modelCalls++;
        this.#pendingModelCall = true;
        break;
      case 'model.responded':
        this.#pendingModelCall = false;
        this.#foldResponse(p);
        break;
      case 'model.failed':
        this.#pendingModelCall = false;
        this.#modelFailures++;
        break;
      case 'tool.requested':
        this.#toolCalls.add(callKey(p, event.seq));
        break;
      case 'tool.denied':
        this.#toolCalls.add(callKey(p, event.seq));
        this.#toolsDenied++;
        break;
      case 'tool.completed':
        this.#toolCalls.add(callKey(p, event.seq));
        this.#foldToolResult(p);
        break;
      case 'commentary.emitted':
        this.#commentary.push({
          index: num(p['index']),
          kind: str(p['kind']) ?? '',
          phase: str(p['phase']) ?? '',
          message: str(p['message']) ?? '',
          severity: str(p['severity']) ?? 'info',
          ts: event.ts,
        });
        break;
      case 'report.validated':
        this.#report = obj(p['report']);
        this.#finalText = str(p['final_text']);
        this.#validation = {
          status: str(p['status']),
          reasons: strings(p['reasons']),
          dropped_findings: num(p['dropped_findings']),
        };
        break;
      case 'run.completed':
        this.#terminal = true;
        this.#status = str(p['status']);
        this.#reason = str(p['reason']);
        this.#reasonText = str(p['reason_text']);
        this.#endedAt = event.ts;
        break;
      default:
        // report.submitted (the model's claim; report.validated is what counts) and unknown
        // types (forward compatibility) change nothing beyond the counters above.
        break;
    }
  }

  #foldResponse(p: Readonly<Record<string, unknown>>): void {
    const model = str(p['model']) ?? 'unknown';
    this.#lastModel = model;
    const fallbackFrom = str(p['fallback_from']);
    if (fallbackFrom !== null) this.#fallbacks.push({ from: fallbackFrom, to: model });
    const usage = obj(p['usage']) ?? {};
    const cost = finiteOrNull(p['upstream_cost_usd']) ?? num(p['cost_usd']);
    let perModel = this.#byModel.get(model);
    if (perModel === undefined) {
      perModel = { model, calls: 0, tokens: emptyUsage(), cost_usd: 0 };
      this.#byModel.set(model, perModel);
    }
    perModel.calls++;
    perModel.cost_usd += cost;
    this.#cost += cost;
    const counted: TokenUsage = {
      input_tokens: num(usage['input_tokens']),
      cached_input_tokens: num(usage['cached_input_tokens']),
      cache_write_tokens: num(usage['cache_write_tokens']),
      output_tokens: num(usage['output_tokens']),
      reasoning_tokens: num(usage['reasoning_tokens']),
      total_tokens: num(usage['total_tokens']),
    };
    addUsage(this.#tokens, counted);
    addUsage(perModel.tokens, counted);
  }

  #foldToolResult(p: Readonly<Record<string, unknown>>): void {
    if (p['cache_hit'] === true) this.#cacheHits++;
    this.#observationBytes += num(p['bytes']);
    const refs = strings(p['refs']);
    const path = str(p['path']);
    if (path !== null) this.#fileRefs(path, refs);
    for (const ref of refs) {
      this.#refs.add(ref);
      const filePath = filePathOfRef(ref);
      if (filePath !== null && filePath !== path) this.#fileRefs(filePath, [ref]);
    }
  }

  #fileRefs(path: string, refs: readonly string[]): void {
    let set = this.#files.get(path);
    if (set === undefined) {
      set = new Set();
      this.#files.set(path, set);
    }
    for (const ref of refs) set.add(ref);
  }

  /** The running totals alone (cheap: no copy of the record's lists), for a loop in flight. */
  totals(): {
    usage: TokenUsage;
    cost_usd: number;
    model_calls: number;
    tool_calls: number;
    last_model: string | null;
    fallbacks_used: string[];
  } {
    return {
      usage: { ...this.#tokens },
      cost_usd: roundUsd(this.#cost),
      model_calls: this.#modelCalls,
      tool_calls: this.#toolCalls.size,
      last_model: this.#lastModel ?? this.#model,
      fallbacks_used: [...new Set(this.#fallbacks.map((f) => f.to))],
    };
  }

  /**
   * The record as of the last applied event: fresh containers the caller may keep (the `report`
   * object is shared with its event, which nobody mutates).
   */
  snapshot(): RunRecord {
    return {
      schema: 'run_record.v1',
      run_id: this.#runId,
      mission_id: this.#missionId,
      tier: this.#tier,
      objective_style: this.#objectiveStyle,
      model_alias: this.#modelAlias,
      model: this.#model,
      request_id: this.#requestId,
      continues: this.#continues,
      state: this.#state(),
      status: this.#status,
      reason: this.#reason,
      reason_text: this.#reasonText,
      started_at: this.#startedAt,
      ended_at: this.#endedAt,
      deadline_at: this.#deadlineAt,
      last_event_at: this.#lastEventAt,
      event_count: this.#eventCount,
      invalid_payloads: this.#invalidPayloads,
      head_hash: this.#headHash,
      budgets: this.#budgets,
      model_calls: this.#modelCalls,
      model_failures: this.#modelFailures,
      tool_calls: this.#toolCalls.size,
      tools_denied: this.#toolsDenied,
      cache_hits: this.#cacheHits,
      observation_bytes: this.#observationBytes,
      fallbacks_used: this.#fallbacks.map((f) => ({ ...f })),
      tokens: { ...this.#tokens },
      cost_usd: roundUsd(this.#cost),
      models_used: [...this.#byModel.values()].map((m) => ({
        model: m.model,
        calls: m.calls,
        tokens: { ...m.tokens },
        cost_usd: roundUsd(m.cost_usd),
      })),
      files_inspected: [...this.#files].map(([path, refs]) => ({ path, refs: [...refs] })),
      evidence_refs: [...this.#refs],
      commentary: this.#commentary.map((c) => ({ ...c })),
      report: this.#report,
      final_text: this.#finalText,
      validation:
        this.#validation === null
          ? null
          : { ...this.#validation, reasons: [...this.#validation.reasons] },
      rejection: this.#rejection === null ? null : { ...this.#rejection },
    };
  }

  #state(): RunState {
    if (this.#terminal || this.#rejection !== null) {
      if (this.#reason === 'cancelled') return 'cancelled';
      return this.#status === 'FAILED' ? 'failed' : 'completed';
    }
    return this.#pendingModelCall ? 'waiting_upstream' : 'running';
  }
}

/** The RunRecord of a run's events (pure; same events, same record). */
export function reduceRunRecord(events: Iterable<MissionEvent>): RunRecord {
  const reducer = new RunRecordReducer();
  for (const event of events) reducer.apply(event);
  return reducer.snapshot();
}

// Sums of binary fractions drift (0.1 + 0.2); nine decimals is far below a billing cent.
function roundUsd(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

function callKey(p: Readonly<Record<string, unknown>>, seq: number): string {
  const call = p['call'];
  return typeof call === 'number' ? `call:${call}` : `seq:${seq}`;
}

/** `file:src/a.ts#L1-L40` → `src/a.ts`; anything else → null. */
export function filePathOfRef(ref: string): string | null {
  if (!ref.startsWith('file:')) return null;
  const hash = ref.indexOf('#');
  const path = ref.slice(5, hash === -1 ? undefined : hash);
  return path.length > 0 ? path : null;
}

// Payloads are read defensively: the log accepts what the runtime wrote, and a malformed field
// must degrade one figure, never the whole record.
function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function obj(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function readBudgets(value: unknown): MissionBudgets | null {
  const b = obj(value);
  if (b === null) return null;
  return {
    tool_budget: num(b['tool_budget']),
    time_budget_seconds: num(b['time_budget_seconds']),
    max_model_calls: num(b['max_model_calls']),
    max_cost_usd: finiteOrNull(b['max_cost_usd']),
    max_output_tokens: finiteOrNull(b['max_output_tokens']),
    max_files: num(b['max_files']),
    max_observation_bytes: num(b['max_observation_bytes']),
  };
}

function readContinues(value: unknown): { mission_id: string; run_id: string } | null {
  if (value === null || typeof value !== 'object') return null;
  const link = value as Record<string, unknown>;
  const missionId = str(link['mission_id']);
  const runId = str(link['run_id']);
  return missionId && runId ? { mission_id: missionId, run_id: runId } : null;
}

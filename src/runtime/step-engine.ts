import { toBridgeError, type BridgeError } from '../errors/index.js';
import type { MissionV1 } from '../mission/index.js';
import type { ModelEntry } from '../models/index.js';
import type {
  AttemptEvent,
  ChatMessage,
  ChatTool,
  ChatToolCall,
  CompletedCall,
  UpstreamClient,
} from '../upstream/index.js';
import type { TokenUsage } from '../usage/index.js';
import type { CommentaryChannel } from './commentary-channel.js';
import { parseArguments, parseTextAction, type ParsedAction } from './model-protocol.js';
import type { RecordEvent } from './tool-dispatcher.js';

export interface LoopBudget {
  readonly deadlineAt: number;
  /** Time kept back for the one forced final call. */
  readonly finalReserveMs: number;
  /** The forced final call's own timeout. */
  readonly finalCallTimeoutMs: number;
  readonly maxModelCalls: number;
  readonly maxCostUsd: number | null;
  readonly maxOutputTokens: number | null;
  readonly toolBudget: number;
  readonly timeBudgetSeconds: number;
}

/** Run totals as one fold over the run's events sees them (never counters kept on the side). */
export interface RunTotals {
  readonly usage: TokenUsage;
  readonly costUsd: number;
  readonly modelCalls: number;
  /** The model that answered last (after any fallback), or the admitted one. */
  readonly model: string;
  readonly fallbacksUsed: readonly string[];
  readonly toolCalls: number;
}

export interface EngineInput {
  readonly mission: MissionV1;
  readonly runId: string;
  readonly chain: readonly ModelEntry[];
  readonly upstream: UpstreamClient;
  readonly budget: LoopBudget;
  readonly commentary: CommentaryChannel;
  readonly record: RecordEvent;
  readonly totals: () => RunTotals;
  readonly price: (model: string, usage: TokenUsage) => number;
  readonly signal: AbortSignal;
  readonly sessionKey: string;
  /** What the final call delivers, for the user-facing lines: `report` or `patch`. */
  readonly finalNoun: string;
  readonly now?: () => number;
}

/** One model turn: the actions it proposed, each paired with the tool call id to answer. */
export interface ModelTurn {
  readonly actions: readonly { readonly action: ParsedAction; readonly callId?: string }[];
  readonly text: string;
}

export type AskOutcome =
  | { readonly ok: true; readonly turn: ModelTurn }
  | { readonly ok: false; readonly error: BridgeError; readonly cancelled: boolean };

/** A rule that ends the loop before the next model call. */
export interface LoopStop {
  readonly reason: string;
  readonly reasonText: string;
  /** Set when the rule fixes the status (a cost cap is always PARTIAL). */
  readonly partial?: boolean;
}

/**
 * The policy-free half of the governed loop: it asks the model (recording every request and
 * answer), keeps the transcript, and applies the limits every tier shares (deadline, model calls,
 * dollars, output tokens). What a turn's actions mean is the policy's business.
 */
export class StepEngine {
  readonly messages: ChatMessage[] = [];
  /** Why the model was told to finish, once it was. */
  forced: string | undefined;
  private forcedCalls = 0;
  readonly now: () => number;

  constructor(readonly input: EngineInput) {
    this.now = input.now ?? Date.now;
  }

  get remainingMs(): number {
    return this.input.budget.deadlineAt - this.now();
  }

  get totals(): RunTotals {
    return this.input.totals();
  }

  /**
   * Checks the shared limits before a model call. Switches to forced mode (one last call that may
   * only finish) when time, model calls or the policy's own budget say so; returns the rule that
   * ends the loop outright, if any.
   */
  async gate(
    policyExhaustion: string | undefined,
    forcedPrompt: (why: string) => string,
  ): Promise<LoopStop | undefined> {
    const { budget } = this.input;
    const totals = this.totals;
    if (this.input.signal.aborted) return cancelledStop(this.input.signal);
    if (this.forced === undefined) {
      const why =
        this.remainingMs < budget.finalReserveMs
          ? 'Time is nearly up.'
          : totals.modelCalls >= budget.maxModelCalls - 1
            ? `Only one model call is left of ${budget.maxModelCalls}.`
            : policyExhaustion;
      if (why) {
        this.forced = why;
        this.messages.push({ role: 'user', content: forcedPrompt(why) });
        await this.input.commentary.say(
          'runtime_redirect',
          'REPORT',
          `${why} The runtime asked the model for its final ${this.input.finalNoun}.`,
        );
      }
    } else if (this.forcedCalls >= 1) {
      return {
        reason: 'deadline_final_report_ignored',
        reasonText: `The model did not submit its ${this.input.finalNoun} when asked; the runtime closed the mission.`,
      };
    }
    if (this.remainingMs <= 500)
      return {
        reason: 'deadline_reached',
        reasonText: `The mission deadline passed before a ${this.input.finalNoun} arrived.`,
      };
    if (totals.modelCalls >= budget.maxModelCalls)
      return {
        reason: 'model_call_limit_reached',
        reasonText: `The mission used all ${budget.maxModelCalls} model calls.`,
      };
    if (budget.maxCostUsd !== null && totals.costUsd >= budget.maxCostUsd)
      return costCapStop(totals.costUsd, budget.maxCostUsd);
    if (budget.maxOutputTokens !== null && totals.usage.output_tokens >= budget.maxOutputTokens)
      return {
        reason: 'output_token_cap_reached',
        reasonText: `The mission produced ${totals.usage.output_tokens} output tokens, its cap is ${budget.maxOutputTokens}.`,
      };
    return undefined;
  }

  /** One model call with the given tools; `finalTool` is forced when the loop is finishing. */
  async ask(tools: readonly ChatTool[], finalTool: ChatTool): Promise<AskOutcome> {
    const { budget, chain, commentary } = this.input;
    const forced = this.forced !== undefined;
    if (forced) this.forcedCalls += 1;
    const before = this.totals;
    const call = before.modelCalls + 1;
    const remaining = this.remainingMs;
    const timeoutMs = forced
      ? Math.min(remaining, budget.finalCallTimeoutMs)
      : Math.max(1000, remaining - budget.finalReserveMs);
    const maxTokens =
      budget.maxOutputTokens === null
        ? undefined
        : Math.max(256, budget.maxOutputTokens - before.usage.output_tokens);
    await this.input.record('model.requested', 'runtime', {
      call,
      model: chain[0]?.id ?? 'unknown',
      fallback_chain: chain.slice(1).map((entry) => entry.id),
      forced_final: forced,
      message_count: this.messages.length,
      prompt_bytes: Buffer.byteLength(JSON.stringify(this.messages)),
    });
    await commentary.say(
      'model_action_requested',
      forced ? 'REPORT' : 'EXPLORE',
      `I'm asking ${before.model} for the next step (call ${call}).`,
      'debug',
    );
    const started = this.now();
    let answer: CompletedCall;
    try {
      answer = await this.input.upstream.complete({
        chain,
        request: {
          messages: this.messages,
          // The same tool list every turn, forced or not: the tools open the prefix a provider
          // caches, so the final turn reads the whole transcript from cache (decision 0009).
          // tool_choice alone forces the final call; the loop refuses any other tool then.
          tools: [...tools, finalTool],
          tool_choice: forced
            ? { type: 'function', function: { name: finalTool.function.name } }
            : 'auto',
          // Independent reads of one turn run together (tool-batch.ts): fewer round trips.
          parallel_tool_calls: !forced,
          ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
        },
        signal: this.input.signal,
        sessionKey: this.input.sessionKey,
        totalTimeoutMs: timeoutMs,
        onAttempt: (event) => announceAttempt(commentary, event),
      });
    } catch (error) {
      return this.failed(call, toBridgeError(error));
    }
    return this.answered(call, answer, started, finalTool.function.name);
  }

  private async failed(call: number, failure: BridgeError): Promise<AskOutcome> {
    if (this.input.signal.aborted) return { ok: false, error: failure, cancelled: true };
    await this.input.record('model.failed', 'runtime', {
      call,
      model: this.input.chain[0]?.id ?? 'unknown',
      code: failure.code,
      message: failure.message,
      retryable: failure.retryable,
    });
    await this.input.commentary.say(
      'model_action_failed',
      'EXPLORE',
      `The model call failed: ${failure.code}.`,
      'error',
    );
    return { ok: false, error: failure, cancelled: false };
  }

  /** Records the answer, keeps it in the transcript and pairs its actions with their call ids. */
  private async answered(
    call: number,
    answer: CompletedCall,
    started: number,
    finalName: string,
  ): Promise<AskOutcome> {
    const callCost = answer.upstreamCostUsd ?? this.input.price(answer.model, answer.usage);
    const actions = actionsOf(answer, finalName);
    await this.input.record('model.responded', 'model', {
      call,
      model: answer.model,
      fallback_from: answer.fallbackFrom ?? null,
      latency_ms: Math.max(0, this.now() - started),
      usage: { ...answer.usage },
      cost_usd: callCost,
      upstream_cost_usd: answer.upstreamCostUsd ?? null,
      finish_reason: answer.finishReason,
      action: describeActions(actions, answer.text),
    });
    // Only the tool calls we act on go back into the history, each answered in order.
    const toolCalls: ChatToolCall[] = answer.toolCalls.map((toolCall) => ({
      id: toolCall.id,
      type: 'function',
      function: { name: toolCall.name, arguments: toolCall.arguments },
    }));
    this.messages.push({
      role: 'assistant',
      content: answer.text ? answer.text.slice(0, 4000) : null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      ...(answer.reasoning ? { reasoning_content: answer.reasoning } : {}),
    });
    return {
      ok: true,
      turn: {
        text: answer.text,
        actions: actions.map((action, index) => {
          const callId = toolCalls[index]?.id;
          return callId === undefined ? { action } : { action, callId };
        }),
      },
    };
  }

  /** Answers one proposed action: as its tool result when it was a tool call, else as user text. */
  reply(callId: string | undefined, text: string): void {
    if (callId) this.messages.push({ role: 'tool', tool_call_id: callId, content: text });
    else this.messages.push({ role: 'user', content: text });
  }
}

/**
 * The stop for an aborted run. Whoever aborts says who cancelled through the abort reason (a
 * string, or an Error that is not a bare AbortError), so the record names the MCP client,
 * `oss_cancel` or Ctrl-C; an abort without a reason is the HTTP client going away.
 */
export function cancelledStop(signal: AbortSignal): LoopStop {
  const reason: unknown = signal.reason;
  const said =
    typeof reason === 'string'
      ? reason
      : reason instanceof Error && reason.name !== 'AbortError' && reason.name !== 'TimeoutError'
        ? reason.message
        : '';
  const who = said
    .trim()
    .replace(/[.\s]+$/, '')
    .slice(0, 300);
  return {
    reason: 'cancelled',
    reasonText: `${who === '' ? 'The client disconnected' : who}; the runtime cancelled the mission.`,
  };
}

/** PRODUCT.md §4: the cost cap stops a run mid-way with a PARTIAL report that says so. */
export function costCapStop(spent: number, cap: number): LoopStop {
  return {
    reason: 'cost_cap_reached',
    reasonText: `The mission spent $${spent.toFixed(6)} of its $${cap.toFixed(6)} cap (max_cost_usd); the runtime stopped it.`,
    partial: true,
  };
}

/** Fallbacks and retries inside one model call, told to the user as they happen. */
function announceAttempt(commentary: CommentaryChannel, event: AttemptEvent): void {
  if (event.type === 'fallback')
    void commentary
      .say(
        'model_fallback',
        'EXPLORE',
        `${event.from} failed (${event.error.code}); trying ${event.to}.`,
        'warning',
      )
      .catch(() => undefined);
  if (event.type === 'retry')
    void commentary
      .say(
        'model_retry',
        'EXPLORE',
        `${event.model} answered ${event.error.code}; retrying in ${Math.round(event.delayMs / 100) / 10}s.`,
        'debug',
      )
      .catch(() => undefined);
}

function actionsOf(answer: CompletedCall, finalName: string): ParsedAction[] {
  if (answer.toolCalls.length > 0) {
    return answer.toolCalls.map((call): ParsedAction => {
      const args = parseArguments(call.arguments);
      return call.name === finalName
        ? { kind: 'report', report: args }
        : { kind: 'tool', name: call.name, args };
    });
  }
  return [parseTextAction(answer.text, finalName)];
}

function describeActions(
  actions: readonly ParsedAction[],
  text: string,
): 'tool_call' | 'final_report' | 'text' | 'invalid' {
  if (actions.length === 0) return 'invalid';
  if (actions.some((action) => action.kind === 'report')) return 'final_report';
  if (actions[0]?.kind === 'invalid') return text ? 'text' : 'invalid';
  return 'tool_call';
}

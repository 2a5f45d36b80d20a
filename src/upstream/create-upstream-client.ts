import type { Agent } from 'undici';
import { request as undiciRequest } from 'undici';
import type { Config } from '../config/index.js';
import { BridgeError, toBridgeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { priceUsage, type ModelEntry, type ModelRegistry } from '../models/index.js';
import { abortReason, sleep } from './abort.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { isTransientError } from './classify-upstream-error.js';
import { ConcurrencyLimiter, type Release } from './concurrency-limiter.js';
import { asArray, asRecord, asString } from './json-fields.js';
import { decideRetry, type RetryPolicyOptions } from './retry-policy.js';
import { holdSharedAgent, releaseSharedAgent } from './shared-agent.js';
import type { FinishReason, StreamPart, TokenUsage } from './stream-part.js';
import { emptyUsage } from './stream-part.js';
import { runAttempt, upstreamUrl, type AttemptDeadlines } from './upstream-attempt.js';
import type {
  CompletedCall,
  CompletedToolCall,
  ConcurrencySnapshot,
  ModelCall,
  UpstreamClient,
} from './upstream-client.js';

export interface UpstreamClientDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: ModelRegistry;
  /** Backoff jitter source; tests pass a constant. */
  readonly random?: () => number;
  /** Told what each answered call cost (Go's own figure, else priced from usage). */
  readonly onSpend?: (spend: { readonly model: string; readonly usd: number }) => void;
}

/** Per-model limit when MODEL_CONCURRENCY_JSON does not name the model. */
export const defaultModelConcurrency = 2;
const modelsCacheMs = 60_000;
const modelsTimeoutMs = 5_000;

/**
 * The upstream client: one shared undici Agent, per-call deadlines, retries with backoff that
 * honours Retry-After, fallback along the call's chain, a circuit breaker and concurrency limits
 * per model (original-bridge.md §2.11, §3.4; wire-protocol.md §5–§6).
 */
export function createUpstreamClient(deps: UpstreamClientDeps): UpstreamClient {
  return new OpenCodeUpstreamClient(deps);
}

class OpenCodeUpstreamClient implements UpstreamClient {
  private readonly config: Config;
  private readonly logger: Logger;
  private readonly agent: Agent;
  private readonly breaker: CircuitBreaker;
  private readonly global: ConcurrencyLimiter;
  private readonly perModel = new Map<string, ConcurrencyLimiter>();
  /** Per model: the configured slot count and successes since the last change (AIMD). */
  private readonly adaptive = new Map<string, { configured: number; successes: number }>();
  private readonly registry: ModelRegistry;
  private readonly onSpend: UpstreamClientDeps['onSpend'];
  private readonly retryPolicy: RetryPolicyOptions;
  private modelsCache: { readonly at: number; readonly ids: readonly string[] } | undefined;
  private closed = false;

  constructor(deps: UpstreamClientDeps) {
    this.config = deps.config;
    this.registry = deps.registry;
    this.onSpend = deps.onSpend;
    this.logger = deps.logger.child({ component: 'upstream' });
    this.agent = holdSharedAgent();
    this.breaker = new CircuitBreaker({
      threshold: this.config.CIRCUIT_BREAKER_ERRORS,
      cooldownMs: this.config.CIRCUIT_BREAKER_COOLDOWN * 1000,
    });
    const max = this.config.MAX_GLOBAL_UPSTREAM_CONCURRENCY;
    this.global = this.limiter(
      max,
      `all ${max} upstream slots are busy (MAX_GLOBAL_UPSTREAM_CONCURRENCY=${max})`,
      'MAX_GLOBAL_UPSTREAM_CONCURRENCY',
    );
    this.retryPolicy = {
      retries: this.config.UPSTREAM_RETRIES,
      maxDelayMs: this.config.UPSTREAM_RETRY_MAX_DELAY_SECONDS * 1000,
      ...(deps.random === undefined ? {} : { random: deps.random }),
    };
  }

  stream(call: ModelCall): AsyncIterable<StreamPart> {
    return this.run(call);
  }

  async complete(call: ModelCall): Promise<CompletedCall> {
    const started = performance.now();
    let model = call.chain[0]?.id ?? '';
    let fallbackFrom: string | undefined;
    let text = '';
    let reasoning = '';
    const tools = new Map<number, { id: string; name: string; arguments: string }>();
    let usage: TokenUsage = emptyUsage();
    let cost: number | undefined;
    let finishReason: FinishReason = 'stop';
    for await (const part of this.run(call)) {
      switch (part.type) {
        case 'response-metadata':
          model = part.model;
          fallbackFrom = part.fallbackFrom;
          break;
        case 'reasoning-delta':
          reasoning += part.text;
          break;
        case 'reasoning-signature':
          // Missions send their own history back as chat messages; a signature has no use there.
          break;
        case 'text-delta':
          text += part.text;
          break;
        case 'tool-call-start':
          tools.set(part.index, { id: part.id, name: part.name, arguments: '' });
          break;
        case 'tool-call-delta': {
          const tool = tools.get(part.index);
          if (tool !== undefined) tool.arguments += part.argumentsDelta;
          break;
        }
        case 'usage':
          usage = part.usage;
          break;
        case 'cost':
          cost = part.usd;
          break;
        case 'finish':
          finishReason = part.reason;
          break;
      }
    }
    const toolCalls: CompletedToolCall[] = [...tools.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, tool]) => ({ id: tool.id, name: tool.name, arguments: tool.arguments }));
    return {
      model,
      ...(fallbackFrom === undefined ? {} : { fallbackFrom }),
      text,
      reasoning,
      toolCalls,
      finishReason,
      usage,
      ...(cost === undefined ? {} : { upstreamCostUsd: cost }),
      latencyMs: Math.round(performance.now() - started),
    };
  }

  async listModels(signal?: AbortSignal): Promise<readonly string[] | null> {
    const cached = this.modelsCache;
    if (cached !== undefined && Date.now() - cached.at < modelsCacheMs) return cached.ids;
    const timeout = AbortSignal.timeout(modelsTimeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    try {
      const key = this.config.OPENCODE_GO_API_KEY;
      const response = await undiciRequest(upstreamUrl(this.config.UPSTREAM_BASE, 'models'), {
        method: 'GET',
        headers: {
          accept: 'application/json',
          ...(key === undefined || key === '' ? {} : { authorization: `Bearer ${key}` }),
        },
        signal: combined,
        dispatcher: this.agent,
        headersTimeout: modelsTimeoutMs,
        bodyTimeout: modelsTimeoutMs,
      });
      if (response.statusCode >= 400) {
        response.body.destroy();
        this.logger.warn({ status: response.statusCode }, 'GET /models failed');
        return null;
      }
      const payload: unknown = await response.body.json();
      const ids = (asArray(asRecord(payload)?.['data']) ?? [])
        .map((item) => asString(asRecord(item)?.['id']))
        .filter((id): id is string => id !== undefined);
      this.modelsCache = { at: Date.now(), ids };
      return ids;
    } catch (error) {
      this.logger.warn({ err: error }, 'GET /models unreachable');
      return null;
    }
  }

  health(): ReturnType<UpstreamClient['health']> {
    return this.breaker.health();
  }

  concurrency(): ConcurrencySnapshot {
    const perModel: Record<string, ConcurrencySnapshot['perModel'][string]> = {};
    for (const [model, limiter] of this.perModel) {
      const configured = this.adaptive.get(model)?.configured ?? limiter.snapshot().max;
      perModel[model] = { ...limiter.snapshot(), configured };
    }
    return { global: this.global.snapshot(), perModel };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await releaseSharedAgent();
  }

  /**
   * The call loop: for each model of the chain (primary first), wait for slots, then attempt
   * with retries. Retries and fallbacks happen only while nothing has been yielded; once a part
   * is out, a failure is thrown to the caller (Codex would duplicate partial output otherwise,
   * wire-protocol.md finding 4).
   */
  private async *run(call: ModelCall): AsyncGenerator<StreamPart, void, undefined> {
    if (this.closed)
      throw new BridgeError(
        'server_shutting_down',
        'The upstream client is closed; the bridge is shutting down.',
      );
    const primary = call.chain[0];
    if (primary === undefined)
      throw new BridgeError(
        'internal_error',
        'Internal bridge error: model call with an empty chain',
      );
    const totalSeconds =
      call.totalTimeoutMs !== undefined
        ? call.totalTimeoutMs / 1000
        : this.config.UPSTREAM_TIMEOUT_SECONDS;
    const totalMs = totalSeconds * 1000;
    const deadlines: AttemptDeadlines = {
      firstByteMs: this.config.UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS * 1000,
      idleMs: this.config.UPSTREAM_IDLE_TIMEOUT_SECONDS * 1000,
      totalDeadlineAt: totalMs > 0 ? Date.now() + totalMs : Number.POSITIVE_INFINITY,
      totalSeconds,
      ...(call.totalTimeoutSetting === undefined ? {} : { totalSetting: call.totalTimeoutSetting }),
    };
    let yielded = false;
    let lastError: BridgeError | undefined;
    let unavailable: BridgeError | undefined;
    /** Why the previous model of the chain was given up, for the fallback event. */
    let givenUp: BridgeError | undefined;

    for (let position = 0; position < call.chain.length; position += 1) {
      const entry = call.chain[position];
      if (entry === undefined) continue;
      const previous = call.chain[position - 1];
      if (previous !== undefined) {
        const reason = givenUp;
        if (reason !== undefined)
          call.onAttempt?.({ type: 'fallback', from: previous.id, to: entry.id, error: reason });
        this.logger.warn(
          { from: previous.id, to: entry.id, code: reason?.code },
          'upstream fallback',
        );
      }
      if (!this.breaker.tryEnter(entry.id)) {
        unavailable = this.unavailableError(entry.id);
        givenUp = unavailable;
        continue;
      }
      let releaseSlots: Release;
      try {
        releaseSlots = await this.acquireSlots(entry, call, deadlines.totalDeadlineAt);
      } catch (error) {
        this.breaker.recordNeutral(entry.id);
        throw error;
      }
      let outcome: 'success' | 'failure' | 'neutral' = 'neutral';
      let failure: BridgeError | undefined;
      /** What this model billed: tokens streamed before a failure are paid for too. */
      let billedUsage: TokenUsage | undefined;
      let billedUsd: number | undefined;
      try {
        for (let attempt = 1; ; attempt += 1) {
          try {
            for await (const part of runAttempt({
              entry,
              request: call.request,
              baseUrl: this.config.UPSTREAM_BASE,
              apiKey:
                this.config.OPENCODE_GO_API_KEY === ''
                  ? undefined
                  : this.config.OPENCODE_GO_API_KEY,
              sessionKey: call.sessionKey,
              dispatcher: this.agent,
              signal: call.signal,
              deadlines,
            })) {
              if (!yielded) {
                yielded = true;
                yield {
                  type: 'response-metadata',
                  model: entry.id,
                  ...(position > 0 ? { fallbackFrom: primary.id } : {}),
                  attempt,
                };
              }
              if (part.type === 'usage') billedUsage = part.usage;
              else if (part.type === 'cost') billedUsd = part.usd;
              yield part;
            }
            outcome = 'success';
            return;
          } catch (raw) {
            if (call.signal.aborted) throw abortReason(call.signal);
            const error = toBridgeError(raw);
            failure = error;
            this.adapt(entry.id, error);
            const pastDeadline = Date.now() >= deadlines.totalDeadlineAt;
            // A call that ran out of its own total budget says nothing about the model's health.
            outcome = isTransientError(error) && !pastDeadline ? 'failure' : 'neutral';
            if (yielded || pastDeadline) throw error;
            const decision = decideRetry(error, attempt, this.retryPolicy, entry.id);
            if (decision.retry && Date.now() + decision.delayMs < deadlines.totalDeadlineAt) {
              call.onAttempt?.({
                type: 'retry',
                model: entry.id,
                attempt: attempt + 1,
                delayMs: decision.delayMs,
                error,
              });
              this.logger.warn(
                {
                  model: entry.id,
                  attempt: attempt + 1,
                  delayMs: decision.delayMs,
                  code: error.code,
                },
                'upstream retry',
              );
              await sleep(decision.delayMs, call.signal);
              continue;
            }
            const final = decision.retry ? error : decision.error;
            failure = final;
            // Only failures a different model might not share are worth a fallback.
            if (!isTransientError(final)) throw final;
            lastError = final;
            givenUp = final;
            break;
          }
        }
      } finally {
        releaseSlots();
        this.recordSpend(entry, billedUsage, billedUsd);
        if (outcome === 'success') this.adapt(entry.id, 'success');
        if (outcome === 'success') this.breaker.recordSuccess(entry.id);
        else if (outcome === 'failure')
          this.breaker.recordFailure(entry.id, failure?.message ?? 'unknown failure');
        else this.breaker.recordNeutral(entry.id);
      }
    }
    throw (
      lastError ??
      unavailable ??
      new BridgeError('upstream_unavailable', `No model could take the request.`)
    );
  }

  private recordSpend(
    entry: ModelEntry,
    usage: TokenUsage | undefined,
    usd: number | undefined,
  ): void {
    if (this.onSpend === undefined || (usage === undefined && usd === undefined)) return;
    const cost =
      usd ?? (usage === undefined ? 0 : priceUsage(this.registry.entry(entry.id), usage));
    try {
      this.onSpend({ model: entry.id, usd: cost });
    } catch (error) {
      this.logger.warn({ err: error }, 'spend tracking failed');
    }
  }

  /**
   * Adaptive concurrency per model: an upstream 429 halves the model's slots (the provider behind
   * Go is saying "fewer at once"); each run of successes as long as the current limit earns one
   * slot back, up to the configured one. A plan limit is not a concurrency signal and is ignored.
   */
  private adapt(model: string, result: 'success' | BridgeError | undefined): void {
    const limiter = this.perModel.get(model);
    const state = this.adaptive.get(model);
    if (limiter === undefined || state === undefined) return;
    const current = limiter.snapshot().max;
    if (result === 'success') {
      if (current >= state.configured) return;
      state.successes += 1;
      if (state.successes >= current) {
        state.successes = 0;
        limiter.resize(current + 1);
        this.logger.info(
          { model, max: current + 1 },
          'upstream concurrency raised after successes',
        );
      }
      return;
    }
    if (result?.code === 'rate_limit_exceeded' && result.upstreamStatus === 429) {
      state.successes = 0;
      const next = Math.max(1, Math.floor(current / 2));
      if (next < current) {
        limiter.resize(next);
        this.logger.warn({ model, max: next }, 'upstream 429: concurrency for this model halved');
      }
    }
  }

  private unavailableError(model: string): BridgeError {
    const seconds = Math.max(1, Math.ceil(this.breaker.remainingCooldownMs(model) / 1000));
    const health = this.breaker.health()[model];
    const last = health?.lastError === undefined ? '' : ` Last error: ${health.lastError}`;
    return new BridgeError(
      'upstream_unavailable',
      `${model} is paused by the circuit breaker after ${health?.consecutiveErrors ?? this.config.CIRCUIT_BREAKER_ERRORS} consecutive failures; ` +
        `it is tried again in about ${seconds}s (CIRCUIT_BREAKER_COOLDOWN). Pick another model or configure a fallback in FALLBACK_MODEL_MAP_JSON.${last}`,
      { retryAfterSeconds: seconds },
    );
  }

  /**
   * Model slot first, then a global one: a caller waiting for a busy model holds no global slot.
   * The wait ends at the call's own deadline too, so a queued mission call cannot outlive it.
   */
  private async acquireSlots(
    entry: ModelEntry,
    call: ModelCall,
    deadlineAt: number,
  ): Promise<Release> {
    // Free slots on both: no deadline signal to build (AbortSignal.any and a timer per call
    // are a measurable part of a small request's cost).
    if (!call.signal.aborted) {
      const modelSlot = this.modelLimiter(entry.id).tryAcquire();
      const globalSlot = modelSlot && this.global.tryAcquire();
      if (modelSlot && globalSlot)
        return () => {
          globalSlot();
          modelSlot();
        };
      modelSlot?.();
    }
    const onQueued = (position: number): void => {
      call.onAttempt?.({ type: 'queued', model: entry.id, position });
    };
    const remaining = deadlineAt - Date.now();
    const signal = Number.isFinite(remaining)
      ? AbortSignal.any([call.signal, AbortSignal.timeout(Math.max(1, remaining))])
      : call.signal;
    const waitEnded = (error: unknown): unknown =>
      signal.aborted && !call.signal.aborted
        ? new BridgeError(
            'concurrency_queue_full',
            `Waited for an upstream slot for ${entry.id} until the call's deadline; every slot stayed busy (MAX_GLOBAL_UPSTREAM_CONCURRENCY / MODEL_CONCURRENCY_JSON).`,
          )
        : error;
    let releaseModel: Release;
    try {
      releaseModel = await this.modelLimiter(entry.id).acquire({ signal, onQueued });
    } catch (error) {
      throw waitEnded(error);
    }
    try {
      const releaseGlobal = await this.global.acquire({ signal, onQueued });
      return () => {
        releaseGlobal();
        releaseModel();
      };
    } catch (error) {
      releaseModel();
      throw waitEnded(error);
    }
  }

  private modelLimiter(model: string): ConcurrencyLimiter {
    let limiter = this.perModel.get(model);
    if (limiter === undefined) {
      const limits = this.config.MODEL_CONCURRENCY_JSON;
      // Own keys only: a model named `constructor` must not read Object.prototype.
      const max =
        (Object.hasOwn(limits, model) ? limits[model] : undefined) ?? defaultModelConcurrency;
      limiter = this.limiter(
        max,
        `all ${max} slots for ${model} are busy (MODEL_CONCURRENCY_JSON, default ${defaultModelConcurrency} per model)`,
        `MODEL_CONCURRENCY_JSON (for example {"${model}":${max * 2}})`,
      );
      this.perModel.set(model, limiter);
      this.adaptive.set(model, { configured: max, successes: 0 });
    }
    return limiter;
  }

  private limiter(max: number, busy: string, setting: string): ConcurrencyLimiter {
    const queueMax = this.config.UPSTREAM_QUEUE_MAX;
    const queueSeconds = this.config.UPSTREAM_QUEUE_TIMEOUT_SECONDS;
    return new ConcurrencyLimiter({
      max,
      queueMax,
      queueTimeoutMs: queueSeconds * 1000,
      rejection: (reason) => {
        const why =
          reason === 'full'
            ? `${busy} and the wait queue is full (UPSTREAM_QUEUE_MAX=${queueMax})`
            : `${busy} and the request waited ${queueSeconds}s in the queue (UPSTREAM_QUEUE_TIMEOUT_SECONDS)`;
        const retryAfterSeconds = Math.max(1, Math.min(30, Math.ceil(queueSeconds || 5)));
        return new BridgeError(
          'concurrency_queue_full',
          `Upstream concurrency limit reached: ${why}. Raise ${setting} if the upstream allows more; try again in ${retryAfterSeconds}s.`,
          { retryAfterSeconds },
        );
      },
    });
  }
}

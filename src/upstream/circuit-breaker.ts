import type { ModelHealth } from './upstream-client.js';

interface ModelState {
  consecutiveErrors: number;
  lastError: string | undefined;
  openedAt: number | undefined;
  /** Half-open: one call is probing the model; the others still see it as open. */
  trialInFlight: boolean;
}

export interface CircuitBreakerOptions {
  /** CIRCUIT_BREAKER_ERRORS: consecutive failed calls that open the circuit. */
  readonly threshold: number;
  /** CIRCUIT_BREAKER_COOLDOWN in ms: how long an open circuit refuses calls. */
  readonly cooldownMs: number;
  readonly now?: () => number;
}

/**
 * Per-model circuit breaker (original-bridge.md §2.11): after `threshold` consecutive failed
 * calls a model is skipped for the cooldown, so callers go to a fallback at once instead of
 * paying for retries against a model that is down. After the cooldown one trial call is let
 * through; its success closes the circuit, its failure re-opens it.
 */
export class CircuitBreaker {
  private readonly states = new Map<string, ModelState>();
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether a call may go to the model now; in half-open state the first caller gets the trial. */
  tryEnter(model: string): boolean {
    const state = this.states.get(model);
    if (state?.openedAt === undefined) return true;
    if (this.now() < state.openedAt + this.options.cooldownMs) return false;
    if (state.trialInFlight) return false;
    state.trialInFlight = true;
    return true;
  }

  /** Milliseconds until an open circuit admits a trial call (0 when it is not open). */
  remainingCooldownMs(model: string): number {
    const openedAt = this.states.get(model)?.openedAt;
    if (openedAt === undefined) return 0;
    return Math.max(0, openedAt + this.options.cooldownMs - this.now());
  }

  recordSuccess(model: string): void {
    this.states.set(model, {
      consecutiveErrors: 0,
      lastError: undefined,
      openedAt: undefined,
      trialInFlight: false,
    });
  }

  recordFailure(model: string, message: string): void {
    const state = this.state(model);
    state.consecutiveErrors += 1;
    state.lastError = message;
    if (state.trialInFlight || state.consecutiveErrors >= this.options.threshold)
      state.openedAt = this.now();
    state.trialInFlight = false;
  }

  /** The call ended without telling us anything (aborted, or the request's own fault). */
  recordNeutral(model: string): void {
    const state = this.states.get(model);
    if (state !== undefined) state.trialInFlight = false;
  }

  health(): Record<string, ModelHealth> {
    const result: Record<string, ModelHealth> = {};
    for (const [model, state] of this.states) {
      const open =
        state.openedAt !== undefined && this.now() < state.openedAt + this.options.cooldownMs;
      result[model] = {
        status: open ? 'open' : state.consecutiveErrors > 0 ? 'degraded' : 'ok',
        consecutiveErrors: state.consecutiveErrors,
        ...(state.lastError === undefined ? {} : { lastError: state.lastError }),
        ...(state.openedAt === undefined
          ? {}
          : { openedAt: new Date(state.openedAt).toISOString() }),
      };
    }
    return result;
  }

  private state(model: string): ModelState {
    let state = this.states.get(model);
    if (state === undefined) {
      state = {
        consecutiveErrors: 0,
        lastError: undefined,
        openedAt: undefined,
        trialInFlight: false,
      };
      this.states.set(model, state);
    }
    return state;
  }
}

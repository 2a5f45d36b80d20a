import type { StepEngine } from './step-engine.js';
import type { ToolDispatcher } from './tool-dispatcher.js';

/**
 * The read-only tool calls of one model turn, collected in the model's order and run together
 * by the dispatcher (`runBatch`) when the loop reaches a call that must wait for them, or the
 * end of the turn. Each answer goes back under its own tool call id, in order, so the
 * transcript reads exactly as if the calls had run one after the other.
 */
export class ToolBatch<C> {
  private readonly calls: { callId: string | undefined; name: string; args: unknown }[] = [];

  constructor(
    private readonly dispatcher: ToolDispatcher,
    private readonly engine: StepEngine,
    private readonly criticalStop: () => C,
  ) {}

  add(callId: string | undefined, name: string, args: unknown): void {
    this.calls.push({ callId, name, args });
  }

  /** Runs what was collected and answers it; the closure when a critical path ended the run. */
  async flush(): Promise<C | undefined> {
    if (this.calls.length === 0) return undefined;
    const calls = this.calls.splice(0);
    const outcomes = await this.dispatcher.runBatch(calls, 'model');
    let closure: C | undefined;
    for (const [index, call] of calls.entries()) {
      const outcome = outcomes[index];
      if (outcome === undefined) continue;
      this.engine.reply(call.callId, outcome.text);
      if (outcome.critical) closure ??= this.criticalStop();
    }
    return closure;
  }
}

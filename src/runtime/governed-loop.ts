import type { ChatTool } from '../upstream/index.js';
import {
  cancelledStop,
  costCapStop,
  type LoopStop,
  type ModelTurn,
  type StepEngine,
} from './step-engine.js';
import type { ToolDispatcher } from './tool-dispatcher.js';
import { ToolBatch } from './tool-batch.js';

/** What a tier family decides; the loop itself is the same for every tier. */
export interface LoopPolicy<C> {
  /** The call that ends the run (`submit_report`, `submit_patch`). */
  readonly finalTool: ChatTool;
  /**
   * Set when the final call must be alone in its turn (a report may only cite results already
   * seen): the reply to a final call that shares its turn with tool calls.
   */
  onFinalNotAlone?(args: unknown): Promise<string>;
  forcedPrompt(why: string): string;
  repairPrompt(reason: string): string;
  /** The run ends without an accepted final call. `partial` fixes the status at PARTIAL. */
  close(stop: LoopStop): C;
  /** A critical path was requested without permission. */
  criticalStop(): C;
  /** The final call: its reply to the model and, when the run is over, the closure. */
  onFinal(args: unknown, ctx: FinalContext): Promise<{ reply: string; closure?: C }>;
}

export interface FinalContext {
  readonly forced: boolean;
  /** Whether one more model turn is possible (time, calls) for a repair. */
  readonly canRepair: boolean;
}

export interface LoopParts<C> {
  readonly engine: StepEngine;
  readonly dispatcher: ToolDispatcher;
  readonly policy: LoopPolicy<C>;
}

/**
 * The governed plan-act-observe loop (PRODUCT.md §6): ask the model, dispatch what it proposes,
 * observe, decide. The model's actions are proposals; the policy's closure is the outcome.
 */
export async function runGovernedLoop<C>(parts: LoopParts<C>): Promise<C> {
  const { engine, dispatcher, policy } = parts;
  const { budget } = engine.input;
  const repairs = { left: 1 };
  const tools = dispatcher.chatTools();
  for (;;) {
    const stop = await engine.gate(dispatcher.exhaustion(), (why) => policy.forcedPrompt(why));
    if (stop) return policy.close(stop);
    const asked = await engine.ask(tools, policy.finalTool);
    if (!asked.ok) {
      return policy.close(
        asked.cancelled
          ? cancelledStop(engine.input.signal)
          : {
              reason: 'upstream_failed',
              reasonText: `The model could not be reached (${asked.error.code}: ${asked.error.message})`,
            },
      );
    }
    const { actions } = asked.turn;
    const first = actions[0]?.action;
    if (!first || first.kind === 'invalid') {
      const reason = first?.kind === 'invalid' ? first.reason : 'the reply held no action';
      const unusable = await onUnusableReply(parts, reason, repairs);
      if (unusable === 'ask_again') continue;
      return unusable.closure;
    }

    const totals = engine.totals;
    const finishing = actions.some(({ action }) => action.kind === 'report');
    if (budget.maxCostUsd !== null && totals.costUsd >= budget.maxCostUsd && !finishing) {
      for (const { callId } of actions)
        engine.reply(callId, `[REFUSED: cost_cap_reached] The mission's cost cap is spent.`);
      return policy.close(costCapStop(totals.costUsd, budget.maxCostUsd));
    }

    const closure = await runTurn(parts, actions);
    if (closure !== undefined) return closure;
    if (engine.forced !== undefined)
      return policy.close({
        reason: 'deadline_final_report_ignored',
        reasonText: `Asked for its final ${engine.input.finalNoun}, the model proposed more exploration instead; the runtime closed the mission.`,
      });
  }
}

/** A reply with no usable action: one repair prompt, then the run closes (PARTIAL). */
async function onUnusableReply<C>(
  { engine, policy }: LoopParts<C>,
  reason: string,
  repairs: { left: number },
): Promise<'ask_again' | { closure: C }> {
  await engine.input.commentary.say(
    'model_action_invalid',
    'EXPLORE',
    `The model's reply was not a usable action (${reason}).`,
    'warning',
  );
  if (engine.forced !== undefined)
    return {
      closure: policy.close({
        reason: 'deadline_final_report_ignored',
        reasonText: `Asked for its final ${engine.input.finalNoun}, the model answered without one (${reason}).`,
      }),
    };
  if (repairs.left > 0) {
    repairs.left -= 1;
    engine.messages.push({ role: 'user', content: policy.repairPrompt(reason) });
    return 'ask_again';
  }
  return {
    closure: policy.close({
      reason: 'invalid_action',
      reasonText: `The model twice failed to propose a usable action (${reason}).`,
      partial: true,
    }),
  };
}

/**
 * Answers every call of one turn in order: the final call goes to the policy, tools to the
 * dispatcher, and whatever follows the end of the run is skipped. Returns the closure, if any.
 */
async function runTurn<C>(
  { engine, dispatcher, policy }: LoopParts<C>,
  actions: ModelTurn['actions'],
): Promise<C | undefined> {
  const { budget } = engine.input;
  let closure: C | undefined;
  const exploring = actions.some(({ action }) => action.kind === 'tool');
  // Read-only calls of one turn run together (tool-batch.ts); anything else waits for them, so
  // every answer is given in the model's order.
  const batch = new ToolBatch(dispatcher, engine, () => policy.criticalStop());
  for (const { action, callId } of actions) {
    const reply = (text: string) => engine.reply(callId, text);
    if (
      action.kind === 'tool' &&
      closure === undefined &&
      engine.forced === undefined &&
      engine.remainingMs > budget.finalReserveMs &&
      dispatcher.isBatchable(action.name)
    ) {
      batch.add(callId, action.name, action.args);
      continue;
    }
    closure ??= await batch.flush();
    if (closure !== undefined) {
      reply('[SKIPPED] The mission already ended.');
      continue;
    }
    const forced = engine.forced !== undefined;
    if (action.kind === 'report') {
      if (exploring && !forced && policy.onFinalNotAlone) {
        reply(await policy.onFinalNotAlone(action.report));
        continue;
      }
      const canRepair =
        !forced &&
        engine.remainingMs > budget.finalReserveMs &&
        engine.totals.modelCalls < budget.maxModelCalls - 1;
      const outcome = await policy.onFinal(action.report, { forced, canRepair });
      reply(outcome.reply);
      closure = outcome.closure;
      continue;
    }
    if (action.kind === 'invalid') {
      reply(`[REFUSED] ${action.reason}`);
      continue;
    }
    if (forced) {
      reply(`[REFUSED] Only ${policy.finalTool.function.name} is accepted now.`);
      continue;
    }
    if (engine.remainingMs <= budget.finalReserveMs) {
      // Several calls in one turn must not carry the mission past its deadline.
      reply('[SKIPPED] The mission is out of time for more tools.');
      continue;
    }
    const outcome = await dispatcher.run(action.name, action.args, 'model');
    reply(outcome.text);
    if (outcome.critical) closure = policy.criticalStop();
  }
  return closure ?? (await batch.flush());
}

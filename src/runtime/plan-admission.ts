import type { Config } from '../config/index.js';
import { BridgeError } from '../errors/index.js';
import type { MissionV1 } from '../mission/index.js';
import { freesUpAt, windowStatuses, type SpendLedger } from '../store/index.js';
import { configuredWindows, describeClock, describeWait } from '../upstream/index.js';

/**
 * A mission whose `max_cost_usd` is more than what is left in an OpenCode Go plan window would
 * only be cut off mid-run by Go's 429, its work lost; refuse it before it starts instead, saying
 * when enough of the window frees up (delegation.md §5). The count is the bridge's own.
 */
export function assertWithinPlanWindows(
  mission: MissionV1,
  spend: SpendLedger | undefined,
  config: Pick<Config, 'PLAN_LIMITS_JSON'>,
  now: number = Date.now(),
): void {
  const wanted = mission.max_cost_usd;
  if (spend === undefined || wanted === undefined || wanted === null) return;
  const limits = configuredWindows(config.PLAN_LIMITS_JSON);
  const statuses = windowStatuses(spend, limits, now);
  for (const [position, status] of statuses.entries()) {
    if (status.left_usd >= wanted) continue;
    const limit = limits[position];
    if (limit === undefined) continue;
    const frees = freesUpAt(spend, limit, wanted, now);
    const when =
      frees === null
        ? `it never fits: the whole ${status.label} limit is $${status.limit_usd.toFixed(2)}`
        : `enough of it frees up in ${describeWait((frees.getTime() - now) / 1000)} (${describeClock(frees, new Date(now))})`;
    throw new BridgeError(
      'plan_window_exhausted',
      `plan_window_exhausted: mission ${mission.mission_id} may spend up to $${wanted.toFixed(2)} (max_cost_usd), but the OpenCode Go ${status.label} window has $${status.left_usd.toFixed(2)} left of $${status.limit_usd.toFixed(2)} by the bridge's count; ${when}. ` +
        'Lower max_cost_usd, wait, or raise PLAN_LIMITS_JSON if your plan allows more (`codex-oss usage --windows` shows every window).',
    );
  }
}

import { BridgeError } from '../errors/index.js';

/**
 * OpenCode Go's plan windows (delegation.md §5): dollars per rolling 5 hours, week and month. The
 * names are the keys of PLAN_LIMITS_JSON; the labels are how a person says them.
 */
export type PlanWindowName = 'five_hour' | 'week' | 'month';

export const planWindows: readonly {
  readonly name: PlanWindowName;
  readonly label: string;
  readonly seconds: number;
}[] = [
  { name: 'five_hour', label: '5-hour', seconds: 5 * 3600 },
  { name: 'week', label: 'weekly', seconds: 7 * 86_400 },
  // Go anchors the month to the subscription date, which the bridge cannot see: 30 rolling days.
  { name: 'month', label: 'monthly', seconds: 30 * 86_400 },
];

/** "3 h 12 min", "45 min", "2 d 4 h", "40 s": how long until something, in words. */
export function describeWait(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total} s`;
  const minutes = Math.round(total / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  }
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  return restHours === 0 ? `${days} d` : `${days} d ${restHours} h`;
}

/** "14:05 UTC" today, or "Dec 3 14:05 UTC" further out. */
export function describeClock(at: Date, now: Date = new Date()): string {
  const time = `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')} UTC`;
  if (at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) return time;
  const month = at.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${month} ${at.getUTCDate()} ${time}`;
}

/**
 * Which window a limit error is about: Go names it in `metadata.limitName` or the message; failing
 * that, the wait tells (nothing but the 5-hour window resets within 5 hours).
 */
export function windowOfLimit(
  hint: string | undefined,
  retryAfterSeconds: number | undefined,
): (typeof planWindows)[number] | undefined {
  const text = (hint ?? '').toLowerCase();
  if (/week/.test(text)) return planWindows[1];
  if (/month/.test(text)) return planWindows[2];
  if (/\b5[\s-]?h|five[\s-]?hour|rolling/.test(text)) return planWindows[0];
  if (retryAfterSeconds === undefined) return undefined;
  return planWindows.find((window) => retryAfterSeconds <= window.seconds);
}

/**
 * The subscription-limit error: its own class, never retried and never sent to another Go model
 * (the window is the plan's, every model shares it). The message is what the user needs: which
 * window, and when it resets.
 */
export function subscriptionLimitError(options: {
  readonly model: string;
  readonly upstreamText: string;
  readonly limitHint: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamStatus: number | undefined;
  readonly now?: number;
}): BridgeError {
  const { retryAfterSeconds } = options;
  const window = windowOfLimit(options.limitHint, retryAfterSeconds);
  const name = window ? `${window.label} limit` : 'usage limit';
  const now = options.now ?? Date.now();
  const when =
    retryAfterSeconds === undefined
      ? 'the upstream did not say when it resets'
      : `resets in ${describeWait(retryAfterSeconds)} (${describeClock(new Date(now + retryAfterSeconds * 1000), new Date(now))})`;
  return new BridgeError(
    'subscription_limit_reached',
    `Your OpenCode Go ${name} is used up: your OpenCode Go ${name} ${when}. ` +
      `Not retried and no other Go model tried: the limit is the plan's, shared by every model (${options.model}: ${options.upstreamText}). ` +
      'Wait for the reset, turn on "use balance" in the OpenCode Go console, or point the bridge at another upstream.',
    {
      ...(options.upstreamStatus === undefined ? {} : { upstreamStatus: options.upstreamStatus }),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  );
}

/** PLAN_LIMITS_JSON as windows with their dollar limits; a window left out is not tracked. */
export function configuredWindows(
  limits: Readonly<{ [K in PlanWindowName]?: number | undefined }>,
): {
  readonly name: PlanWindowName;
  readonly label: string;
  readonly seconds: number;
  readonly limitUsd: number;
}[] {
  return planWindows.flatMap((window) => {
    const limitUsd = limits[window.name];
    return limitUsd === undefined ? [] : [{ ...window, limitUsd }];
  });
}

// Runtime settings for the demo service.
export const DEFAULT_PORT = 8080;

/** The port comes from the environment when set, else the default. */
export function resolvePort(env: Record<string, string | undefined>): number {
  const raw = env['SERVICE_PORT'];
  const parsed = raw === undefined ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : DEFAULT_PORT;
}

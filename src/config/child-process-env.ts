/**
 * The only environment a child process of the runtime (git, verification commands) inherits:
 * PATH, HOME and the locale. Keys, tokens and GIT_* overrides in the daemon's own environment never
 * reach it. It lives here because nothing outside the config domain reads process.env.
 */
export function scrubbedChildEnv(
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

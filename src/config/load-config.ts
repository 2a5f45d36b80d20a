import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema, DEFAULT_UPSTREAM_BASE, type Config } from './schema.js';

/** Environment variables that are accepted as older spellings of a setting. */
const aliases: Record<string, readonly string[]> = {
  PROXY_API_KEY: ['LITELLM_MASTER_KEY'],
  OPENCODE_GO_API_KEY: ['UPSTREAM_API_KEY', 'OPENCODE_API_KEY'],
};

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      `The bridge configuration has ${problems.length} problem(s):\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Usually process.env. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Values from CLI flags, keyed by the variable they stand for; they win over env. */
  readonly overrides?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Used when neither --project nor CODEX_OSS_PROJECT is given. */
  readonly cwd: string;
  /**
   * Also read `<project>/.codex-oss/env/opencode-go.env` (KEY=VALUE lines), below the real
   * environment and the flags. The daemon's `up` uses it so the key can live in one ignored file.
   */
  readonly readProjectEnvFile?: boolean;
}

export const PROJECT_ENV_FILE = path.join('.codex-oss', 'env', 'opencode-go.env');

/**
 * Parses the whole configuration once. On failure, throws a ConfigError that lists every problem,
 * each naming the variable to set, so a user fixes everything in one go.
 */
export function loadConfig(options: LoadConfigOptions): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const candidates = [key, ...(aliases[key] ?? [])];
    for (const candidate of candidates) {
      const value = options.env[candidate];
      if (value !== undefined && value !== '') {
        raw[key] = value;
        break;
      }
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) raw[key] = value;
  }
  const project = raw['CODEX_OSS_PROJECT'];
  raw['CODEX_OSS_PROJECT'] = path.resolve(options.cwd, typeof project === 'string' ? project : '.');
  if (options.readProjectEnvFile) {
    const file = path.join(String(raw['CODEX_OSS_PROJECT']), PROJECT_ENV_FILE);
    for (const [key, value] of Object.entries(readEnvFile(file))) {
      const canonical =
        Object.entries(aliases).find(([, names]) => names.includes(key))?.[0] ?? key;
      if (canonical in configSchema.shape && raw[canonical] === undefined && value !== '')
        raw[canonical] = value;
    }
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = issue.path.join('.') || '(config)';
        return `${variable}: ${issue.message}`;
      }),
    );
  }
  const parsed = result.data;
  const problems: string[] = [];
  const upstreamIsOpenCodeGo =
    new URL(parsed.UPSTREAM_BASE).host === new URL(DEFAULT_UPSTREAM_BASE).host;

  if (parsed.OPENCODE_GO_API_KEY && parsed.OPENCODE_GO_API_KEY === parsed.PROXY_API_KEY) {
    problems.push(
      'PROXY_API_KEY: the local bridge key equals the upstream key; set PROXY_API_KEY to a different value so clients never hold the upstream key',
    );
  }
  if (parsed.OPENAI_API_KEY && parsed.OPENAI_API_KEY === parsed.PROXY_API_KEY) {
    problems.push(
      'PROXY_API_KEY: the local bridge key equals OPENAI_API_KEY; set PROXY_API_KEY to a different value so clients of the bridge never hold your OpenAI key',
    );
  }
  if (upstreamIsOpenCodeGo && !parsed.OPENCODE_GO_API_KEY && !parsed.ALLOW_MISSING_OPENCODE_KEY) {
    problems.push(
      'OPENCODE_GO_API_KEY: required when UPSTREAM_BASE is OpenCode Go; set it (or UPSTREAM_API_KEY), or set ALLOW_MISSING_OPENCODE_KEY=1 to start without one',
    );
  }
  if (parsed.GPT_MODEL_STRATEGY === 'openai' && !parsed.OPENAI_API_KEY) {
    problems.push('OPENAI_API_KEY: required when GPT_MODEL_STRATEGY=openai');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return deepFreeze({ ...parsed, upstreamIsOpenCodeGo });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** KEY=VALUE lines; `#` comments, blank lines, `export ` prefixes and matching quotes allowed. */
export function readEnvFile(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match?.[1] || line.trimStart().startsWith('#')) continue;
    const value = match[2] ?? '';
    values[match[1]] = /^(['"]).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return values;
}

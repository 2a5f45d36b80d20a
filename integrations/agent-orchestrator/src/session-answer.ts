import { execFile } from 'node:child_process';

/**
 * The part of `codex-oss session --json` this plugin reads. Checked field by field: the plugin
 * ships without dependencies (agent-orchestrator loads it from a path), so no schema library.
 */
export interface SessionAnswer {
  readonly mission_id: string | null;
  readonly state: string;
  readonly status: string | null;
  readonly activity: 'active' | 'ready' | 'idle' | 'waiting_input' | 'blocked' | 'exited';
  readonly summary: string | null;
  readonly summary_is_fallback: boolean;
  readonly tokens: { readonly input_tokens: number; readonly output_tokens: number };
  readonly cost_usd: number;
  readonly updated_at: string | null;
  readonly restore_argv: readonly string[] | null;
}

export type SessionLookup =
  | { readonly kind: 'found'; readonly session: SessionAnswer }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'failed'; readonly reason: string };

const activities = new Set(['active', 'ready', 'idle', 'waiting_input', 'blocked', 'exited']);

/** Asks `<command> session <missionId> --project <dir> --json [extra…]`; never throws. */
export function lookupSession(
  command: string,
  missionId: string,
  projectDir: string,
  extra: readonly string[] = [],
): Promise<SessionLookup> {
  const args = ['session', missionId, '--project', projectDir, '--json', ...extra];
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout: 30_000, maxBuffer: 8 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const parsed = parseJson(stdout);
        if (error !== null) {
          const code = (parsed as { error?: { code?: unknown } } | undefined)?.error?.code;
          resolve(
            code === 'mission_not_found'
              ? { kind: 'not_found' }
              : {
                  kind: 'failed',
                  reason: `${command} session failed: ${stderr.trim() || error.message}`,
                },
          );
          return;
        }
        const session = asSessionAnswer(parsed);
        resolve(
          session === null
            ? {
                kind: 'failed',
                reason: `${command} session printed an answer this plugin cannot read`,
              }
            : { kind: 'found', session },
        );
      },
    );
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function asSessionAnswer(value: unknown): SessionAnswer | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const tokens = v['tokens'] as Record<string, unknown> | null | undefined;
  const argv = v['restore_argv'];
  if (
    typeof v['state'] !== 'string' ||
    typeof v['activity'] !== 'string' ||
    !activities.has(v['activity']) ||
    typeof v['cost_usd'] !== 'number' ||
    typeof tokens !== 'object' ||
    tokens === null ||
    typeof tokens['input_tokens'] !== 'number' ||
    typeof tokens['output_tokens'] !== 'number' ||
    !(argv === null || (Array.isArray(argv) && argv.every((word) => typeof word === 'string')))
  )
    return null;
  return {
    mission_id: typeof v['mission_id'] === 'string' ? v['mission_id'] : null,
    state: v['state'],
    status: typeof v['status'] === 'string' ? v['status'] : null,
    activity: v['activity'] as SessionAnswer['activity'],
    summary: typeof v['summary'] === 'string' ? v['summary'] : null,
    summary_is_fallback: v['summary_is_fallback'] === true,
    tokens: { input_tokens: tokens['input_tokens'], output_tokens: tokens['output_tokens'] },
    cost_usd: v['cost_usd'],
    updated_at: typeof v['updated_at'] === 'string' ? v['updated_at'] : null,
    restore_argv: argv as readonly string[] | null,
  };
}

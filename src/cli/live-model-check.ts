import { z } from 'zod';
import { ConfigError, DEFAULT_UPSTREAM_BASE, loadConfig, type Config } from '../config/index.js';
import { probeBridge } from './bridge-probe.js';
import type { CliIO } from './cli-io.js';
import type { DoctorCheck } from './commands/doctor.js';

export const DEFAULT_LIVE_MODEL = 'ocg-kimi-k2.6';
const LIVE_PROMPT = 'Reply with the single word OK.';
const LIVE_TIMEOUT_MS = 120_000;

const responsesBody = z.looseObject({
  id: z.string().optional(),
  status: z.string().optional(),
  model: z.string().optional(),
  output: z
    .array(
      z.looseObject({
        type: z.string(),
        content: z
          .array(z.looseObject({ type: z.string(), text: z.string().optional() }))
          .optional(),
      }),
    )
    .optional(),
  usage: z
    .looseObject({
      input_tokens: z.number().optional(),
      output_tokens: z.number().optional(),
      total_tokens: z.number().optional(),
    })
    .optional(),
  error: z.looseObject({ message: z.string().optional(), code: z.unknown() }).nullish(),
});

export interface LiveModelResult {
  readonly ok: boolean;
  readonly via: string;
  readonly model: string;
  readonly upstream?: string | undefined;
  readonly latencyMs?: number | undefined;
  readonly inputTokens?: number | undefined;
  readonly outputTokens?: number | undefined;
  readonly reply?: string | undefined;
  readonly problem?: string | undefined;
  readonly fix?: string | undefined;
}

/**
 * One real request through the bridge to the upstream: the proof that OSS inference works from
 * this machine. A running bridge for this project is used as it is (that is what Codex talks to);
 * without one, a bridge is started in this process on a free loopback port with the same
 * configuration `up` would use, and closed afterwards.
 */
export async function liveModelRequest(
  io: CliIO,
  overrides: Record<string, string | undefined>,
  model: string,
): Promise<LiveModelResult> {
  let config: Config;
  try {
    config = loadConfig({ env: io.env, overrides, cwd: io.cwd, readProjectEnvFile: true });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return {
      ok: false,
      via: 'none',
      model,
      problem: `no request sent: the configuration does not load (${error.problems.join('; ')})`,
      fix: 'fix the problems config.load lists, then run `codex-oss doctor --live-model` again',
    };
  }
  const upstreamIsGo = hostOf(config.UPSTREAM_BASE) === hostOf(DEFAULT_UPSTREAM_BASE);
  if (upstreamIsGo && !config.OPENCODE_GO_API_KEY) {
    return {
      ok: false,
      via: 'none',
      model,
      problem: `no request sent: OpenCode Go (${config.UPSTREAM_BASE}) needs a key and none is set`,
      fix: 'put OPENCODE_GO_API_KEY=<your key> in .codex-oss/env/opencode-go.env (or export it), or point UPSTREAM_BASE at your own OpenAI-compatible server',
    };
  }

  const probe = await probeBridge(
    `http://${config.PROXY_HOST}:${config.PROXY_PORT}`,
    config.PROXY_API_KEY,
  );
  if (probe.kind === 'bridge') {
    return send(
      `http://${config.PROXY_HOST}:${config.PROXY_PORT}`,
      config,
      model,
      'running bridge',
    );
  }
  // Loaded here, not at the top: every other doctor check (and every verb) would pay for it.
  const [{ startDaemon }, { createLogger }] = await Promise.all([
    import('../http/index.js'),
    import('../log/index.js'),
  ]);
  const daemon = await startDaemon({
    config: loadConfig({
      env: io.env,
      overrides: { ...overrides, PROXY_PORT: '0', PROXY_HOST: '127.0.0.1' },
      cwd: io.cwd,
      readProjectEnvFile: true,
    }),
    logger: createLogger('silent'),
  });
  try {
    return await send(daemon.url, config, model, 'a bridge started for this check');
  } finally {
    await daemon.close();
  }
}

async function send(
  baseUrl: string,
  config: Config,
  model: string,
  via: string,
): Promise<LiveModelResult> {
  const started = performance.now();
  let status: number;
  let text: string;
  try {
    const response = await fetch(`${baseUrl}/v1/responses`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${config.PROXY_API_KEY}`,
      },
      body: JSON.stringify({ model, input: LIVE_PROMPT, stream: false }),
      signal: AbortSignal.timeout(LIVE_TIMEOUT_MS),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    return {
      ok: false,
      via,
      model,
      problem: `POST ${baseUrl}/v1/responses failed: ${(error as Error).message}`,
      fix: 'check the bridge is running (`codex-oss status`) and try again',
    };
  }
  const latencyMs = Math.round(performance.now() - started);
  let body: z.infer<typeof responsesBody> | undefined;
  try {
    const parsed = responsesBody.safeParse(JSON.parse(text));
    body = parsed.success ? parsed.data : undefined;
  } catch {
    body = undefined;
  }
  const reply = body?.output
    ?.filter((item) => item.type === 'message')
    .flatMap((item) => item.content ?? [])
    .map((part) => part.text ?? '')
    .join('')
    .trim();
  const usage = {
    upstream: config.UPSTREAM_BASE,
    latencyMs,
    inputTokens: body?.usage?.input_tokens,
    outputTokens: body?.usage?.output_tokens,
  };
  if (status === 200 && body?.status === 'completed' && reply) {
    return { ok: true, via, model, reply: reply.slice(0, 80), ...usage };
  }
  const detail = body?.error?.message ?? text.slice(0, 300).trim();
  const upstreamDown = /ECONNREFUSED|fetch failed|connect|ENOTFOUND|timed? ?out/i.test(detail);
  return {
    ok: false,
    via,
    model,
    ...usage,
    problem: `the bridge answered HTTP ${status}${body?.status ? ` (status ${body.status})` : ''} for ${model} via ${config.UPSTREAM_BASE}: ${detail || 'no answer text'}`,
    fix:
      status === 401 || /401|403|auth/i.test(detail)
        ? 'the upstream refused the key: check OPENCODE_GO_API_KEY (or UPSTREAM_API_KEY)'
        : upstreamDown
          ? `nothing answers at UPSTREAM_BASE=${config.UPSTREAM_BASE}: start your model server or fix the URL`
          : 'see the bridge log (`codex-oss status` names it) and `codex-oss doctor --network`',
  };
}

/** The doctor line for a live request. */
export function liveModelCheck(result: LiveModelResult): DoctorCheck {
  const name = 'bridge.oss_inference';
  if (result.ok) {
    return {
      name,
      status: 'pass',
      message:
        `${result.model} at ${result.upstream ?? '?'} answered "${result.reply ?? ''}" in ${result.latencyMs ?? '?'} ms ` +
        `(${result.inputTokens ?? '?'} input + ${result.outputTokens ?? '?'} output tokens; via ${result.via})`,
      fix: '',
    };
  }
  return {
    name,
    status: 'fail',
    message: result.problem ?? 'the live request failed',
    fix: result.fix ?? 'run `codex-oss doctor --network` to check the upstream',
  };
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

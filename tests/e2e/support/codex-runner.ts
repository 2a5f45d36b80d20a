import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BRIDGE_KEY } from '../../support/bridge-harness.js';

/**
 * Runs the pinned Codex CLI (`@openai/codex@0.169.0`) against a bridge, the way a user would
 * (wire-protocol.md §4.3), and hands back its `--json` event stream.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CODEX_BIN = path.join(repoRoot, 'node_modules', '.bin', 'codex');

/** Each Codex run may take up to 60 s (the runner's default kill timer); a test gets headroom. */
export const CODEX_TEST_TIMEOUT_MS = 90_000;

/** One line of `codex exec --json` output. */
export interface CodexEvent {
  readonly type: string;
  readonly item?: CodexItem;
  readonly usage?: CodexUsage;
  readonly error?: { readonly message?: string };
  readonly message?: string;
  readonly thread_id?: string;
  readonly [key: string]: unknown;
}

export interface CodexItem {
  readonly id?: string;
  readonly type: string;
  readonly text?: string;
  readonly message?: string;
  readonly command?: string;
  readonly aggregated_output?: string;
  readonly exit_code?: number | null;
  readonly status?: string;
  readonly tool?: string;
  readonly [key: string]: unknown;
}

export interface CodexUsage {
  readonly input_tokens: number;
  readonly cached_input_tokens: number;
  readonly output_tokens: number;
  readonly reasoning_output_tokens?: number;
  readonly [key: string]: unknown;
}

export type SandboxChoice = 'read-only' | 'workspace-write' | 'danger-full-access' | 'bypass';

export interface RunCodexOptions {
  /** The bridge's `/v1` base URL. */
  readonly baseURL: string;
  readonly model: string;
  readonly prompt: string;
  /** Extra `-c key=value` overrides (each entry is one value, without the `-c`). */
  readonly extraConfig?: readonly string[];
  readonly cwd: string;
  /** The child is killed (by pid) after this long. Default 60 s. */
  readonly timeoutMs?: number;
  /** A CODEX_HOME to use as is (role files…); a fresh one under the home directory otherwise. */
  readonly codexHome?: string;
  /** Default `read-only`. `bypass` is `--dangerously-bypass-approvals-and-sandbox`. */
  readonly sandbox?: SandboxChoice;
  /** Codex's `stream_idle_timeout_ms` for the provider. Default 60000. */
  readonly streamIdleTimeoutMs?: number;
  /** Codex's `stream_max_retries` for the provider. Default 1. */
  readonly streamMaxRetries?: number;
  /** Called for every JSONL event as soon as its line reaches stdout. */
  readonly onEvent?: (event: CodexEvent) => void;
}

export interface CodexRun {
  readonly events: CodexEvent[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** The `-o` file's content (Codex's last agent message), or undefined when it was not written. */
  readonly lastMessage: string | undefined;
}

/**
 * A CODEX_HOME outside /tmp: Codex 0.169 refuses to put its helper binaries under /tmp.
 * The caller removes it with `removeCodexHome`.
 */
export function makeCodexHome(): string {
  return mkdtempSync(path.join(homedir(), '.ocb-e2e-codex-'));
}

export function removeCodexHome(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes a subagent role file into `$CODEX_HOME/agents/<name>.toml` (wire-protocol.md §4.2). */
export function writeRoleFile(
  codexHome: string,
  role: { name: string; description: string; developerInstructions: string; model: string },
): string {
  const dir = path.join(codexHome, 'agents');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${role.name}.toml`);
  const toml = [
    `name = ${JSON.stringify(role.name)}`,
    `description = ${JSON.stringify(role.description)}`,
    `developer_instructions = ${JSON.stringify(role.developerInstructions)}`,
    `model = ${JSON.stringify(role.model)}`,
    '',
  ].join('\n');
  writeFileSync(file, toml);
  return file;
}

function providerArgs(options: RunCodexOptions): string[] {
  const provider = 'model_providers.opencode_bridge';
  const config = [
    'model_provider=opencode_bridge',
    `${provider}.name="OpenCode Go bridge"`,
    `${provider}.base_url=${JSON.stringify(options.baseURL)}`,
    `${provider}.env_key="OPENCODE_BRIDGE_KEY"`,
    `${provider}.wire_api="responses"`,
    `model=${JSON.stringify(options.model)}`,
    `${provider}.request_max_retries=0`,
    `${provider}.stream_max_retries=${options.streamMaxRetries ?? 1}`,
    `${provider}.stream_idle_timeout_ms=${options.streamIdleTimeoutMs ?? 60_000}`,
    ...(options.extraConfig ?? []),
  ];
  return config.flatMap((entry) => ['-c', entry]);
}

function sandboxArgs(choice: SandboxChoice): string[] {
  return choice === 'bypass' ? ['--dangerously-bypass-approvals-and-sandbox'] : ['-s', choice];
}

function parseLine(line: string): CodexEvent | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    return JSON.parse(trimmed) as CodexEvent;
  } catch {
    return undefined;
  }
}

export async function runCodex(options: RunCodexOptions): Promise<CodexRun> {
  const ownHome = options.codexHome === undefined;
  const codexHome = options.codexHome ?? makeCodexHome();
  const outDir = mkdtempSync(path.join(codexHome, 'out-'));
  const lastFile = path.join(outDir, 'last.txt');
  const args = [
    'exec',
    '--skip-git-repo-check',
    '--json',
    ...sandboxArgs(options.sandbox ?? 'read-only'),
    ...providerArgs(options),
    '-o',
    lastFile,
    options.prompt,
  ];

  const events: CodexEvent[] = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  let timedOut = false;

  try {
    const child = spawn(CODEX_BIN, args, {
      cwd: options.cwd,
      env: { ...process.env, CODEX_HOME: codexHome, OPENCODE_BRIDGE_KEY: BRIDGE_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const event = parseLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        if (event !== undefined) {
          events.push(event);
          options.onEvent?.(event);
        }
        newline = pending.indexOf('\n');
      }
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });

    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }, options.timeoutMs ?? 60_000);

    const { code, signal } = await new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
    }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode, exitSignal) =>
        resolve({ code: exitCode, signal: exitSignal }),
      );
    });
    clearTimeout(timer);
    const tail = parseLine(pending);
    if (tail !== undefined) {
      events.push(tail);
      options.onEvent?.(tail);
    }
    const lastMessage = existsSync(lastFile) ? readFileSync(lastFile, 'utf8') : undefined;
    return { events, exitCode: code, signal, timedOut, stdout, stderr, lastMessage };
  } finally {
    if (ownHome) removeCodexHome(codexHome);
    else rmSync(outDir, { recursive: true, force: true });
  }
}

// ---- event helpers -------------------------------------------------------------------------

/** Items from `item.completed` events, optionally of one type. */
export function completedItems(run: { events: readonly CodexEvent[] }, type?: string): CodexItem[] {
  return run.events
    .filter((event) => event.type === 'item.completed' && event.item !== undefined)
    .map((event) => event.item as CodexItem)
    .filter((item) => type === undefined || item.type === type);
}

export function agentMessages(run: { events: readonly CodexEvent[] }): string[] {
  return completedItems(run, 'agent_message').map((item) => item.text ?? '');
}

export function turnCompleted(run: { events: readonly CodexEvent[] }): CodexEvent | undefined {
  return run.events.find((event) => event.type === 'turn.completed');
}

export function turnFailed(run: { events: readonly CodexEvent[] }): CodexEvent | undefined {
  return run.events.find((event) => event.type === 'turn.failed');
}

/** Every error text Codex printed: `error` items and events, and the `turn.failed` message. */
export function errorTexts(run: { events: readonly CodexEvent[] }): string[] {
  const texts: string[] = [];
  for (const event of run.events) {
    if (event.type === 'error' && typeof event.message === 'string') texts.push(event.message);
    if (event.type === 'turn.failed' && typeof event.error?.message === 'string')
      texts.push(event.error.message);
    if (event.type === 'item.completed' && event.item?.type === 'error')
      texts.push(event.item.message ?? '');
  }
  return texts;
}

/** A short dump for assertion messages. */
export function describeRun(run: CodexRun): string {
  return `exit=${String(run.exitCode)} timedOut=${String(run.timedOut)}\nstdout:\n${run.stdout}\nstderr (tail):\n${run.stderr.slice(-2000)}`;
}

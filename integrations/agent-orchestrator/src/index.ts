import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type {
  ActivityDetection,
  ActivityState,
  Agent,
  AgentLaunchConfig,
  AgentPermissionInput,
  AgentSessionInfo,
  PluginManifest,
  PluginModule,
  RuntimeHandle,
  Session,
} from '@composio/ao-core';
import { lookupSession, type SessionLookup } from './session-answer.js';
import { shellQuote } from './shell-quote.js';

const execFileAsync = promisify(execFile);

export const manifest = {
  name: 'codex-oss',
  slot: 'agent',
  description:
    'Agent plugin: governed open-source-model missions through opencode-bridge (codex-oss delegate)',
  version: '0.1.0',
  displayName: 'codex-oss (opencode-bridge)',
} satisfies PluginManifest;

/** What `create(config)` accepts (AO itself passes none to agent plugins: see defaultCommand). */
export interface CodexOssPluginConfig {
  /** The codex-oss executable: a name on PATH or a path (default `$CODEX_OSS_COMMAND`, else `codex-oss`). */
  readonly command: string;
  /** Overrides the permission derived from AO's `permissions` mode. */
  readonly permission?: DelegatePermission;
  /** What a restored session is asked to do next (default: `codex-oss session`'s own follow-up). */
  readonly restorePrompt?: string;
}

export type DelegatePermission = 'read-only' | 'workspace-write';

/**
 * The mission id of an AO session: `ao-` and the session id, with anything a mission id may not
 * hold replaced by `-` (mission ids name directories). Deterministic, so every later question
 * about the session (activity, cost, restore) finds the same mission without any stored state.
 */
export function missionIdFor(sessionId: string): string {
  return `ao-${sessionId.replace(/[^A-Za-z0-9._-]/g, '-').replace(/\.\.+/g, '-')}`.slice(0, 128);
}

/**
 * AO's permission modes onto delegate's: modes that let an agent edit without asking get
 * `workspace-write` (which the bridge still runs in an isolated worktree, never in the workspace,
 * until someone promotes it); `default`, `suggest` and no mode get `read-only`, the safe default
 * of cli-agent-mcp's `opencode` tool too. `unlimited` is never produced: the bridge refuses it.
 */
export function permissionFor(mode: AgentPermissionInput | undefined): DelegatePermission {
  switch (mode) {
    case 'permissionless':
    case 'skip':
    case 'auto-edit':
      return 'workspace-write';
    case 'default':
    case 'suggest':
    case undefined:
      return 'read-only';
  }
}

export function create(config?: Record<string, unknown>): Agent {
  return createCodexOssAgent(readConfig(config ?? {}));
}

export function detect(): boolean {
  try {
    execFileSync(defaultCommand(), ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * AO creates agent plugins without a config, so the executable can also come from
 * `CODEX_OSS_COMMAND` in the orchestrator's environment; else `codex-oss` on PATH.
 */
function defaultCommand(): string {
  const fromEnv = process.env['CODEX_OSS_COMMAND'];
  return fromEnv === undefined || fromEnv.trim() === '' ? 'codex-oss' : fromEnv;
}

const plugin = { manifest, create, detect } satisfies PluginModule<Agent>;
export default plugin;

function readConfig(raw: Record<string, unknown>): CodexOssPluginConfig {
  const command = raw['command'] ?? defaultCommand();
  if (typeof command !== 'string' || command.trim() === '')
    throw new Error(
      'codex-oss plugin: "command" must be the codex-oss executable (a name on PATH or a path)',
    );
  const permission = raw['permission'];
  if (permission !== undefined && permission !== 'read-only' && permission !== 'workspace-write')
    throw new Error(
      `codex-oss plugin: "permission" must be "read-only" or "workspace-write" (got ${JSON.stringify(permission)}); "unlimited" is never delegated`,
    );
  const restorePrompt = raw['restorePrompt'];
  if (
    restorePrompt !== undefined &&
    (typeof restorePrompt !== 'string' || restorePrompt.trim() === '')
  )
    throw new Error('codex-oss plugin: "restorePrompt" must be a non-empty string');
  return {
    command,
    ...(permission === undefined ? {} : { permission }),
    ...(restorePrompt === undefined ? {} : { restorePrompt }),
  };
}

function createCodexOssAgent(config: CodexOssPluginConfig): Agent {
  const processName = path.basename(config.command);

  async function lookup(session: Session, extra: readonly string[] = []): Promise<SessionLookup> {
    const dir = session.workspacePath;
    if (dir === null) return { kind: 'failed', reason: 'the session has no workspace yet' };
    return lookupSession(config.command, missionIdFor(session.id), dir, extra);
  }

  const agent: Agent = {
    name: manifest.name,
    processName,
    promptDelivery: 'inline',

    getLaunchCommand(launch: AgentLaunchConfig): string {
      const agentConfig = launch.projectConfig.agentConfig;
      const model = launch.model ?? agentConfig?.model;
      const permission =
        config.permission ?? permissionFor(launch.permissions ?? agentConfig?.permissions);
      const contextPaths = stringList(agentConfig?.['contextPaths'], 'contextPaths');
      const verification = stringList(
        agentConfig?.['verificationCommands'],
        'verificationCommands',
      );
      if (permission === 'workspace-write' && contextPaths.length === 0)
        throw new Error(
          `codex-oss plugin: session ${launch.sessionId} would run with workspace-write, which owns only the files it is given: set agentConfig.contextPaths (files, or folders ending in "/") in agent-orchestrator.yaml, or permissions: default for a read-only investigation`,
        );
      const argv = [
        config.command,
        'delegate',
        '--mission-id',
        missionIdFor(launch.sessionId),
        // AO starts every session's command in its workspace (tmux -c, spawn cwd).
        '--workspace',
        '.',
        '--permission',
        permission,
        ...(model === undefined ? [] : ['--model', model]),
        ...contextPaths.flatMap((entry) => ['--context-path', entry]),
        ...(permission === 'workspace-write'
          ? verification.flatMap((command) => ['--verification-command', command])
          : []),
        promptOf(launch),
      ];
      return argv.map(shellQuote).join(' ');
    },

    getEnvironment(launch: AgentLaunchConfig): Record<string, string> {
      return {
        AO_SESSION_ID: launch.sessionId,
        ...(launch.issueId === undefined ? {} : { AO_ISSUE_ID: launch.issueId }),
        // The workspace is the project: where getActivityState and the rest look for the
        // mission, whatever CODEX_OSS_PROJECT the orchestrator's own environment holds.
        CODEX_OSS_PROJECT: '.',
      };
    },

    // Required by ao-core 0.2's Agent although deprecated there in favour of getActivityState.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    detectActivity(terminalOutput: string): ActivityState {
      return terminalOutput.trim() === '' ? 'idle' : 'active';
    },

    async getActivityState(
      session: Session,
      readyThresholdMs?: number,
    ): Promise<ActivityDetection | null> {
      const found = await lookup(
        session,
        readyThresholdMs === undefined ? [] : ['--ready-threshold-ms', String(readyThresholdMs)],
      );
      if (found.kind === 'found') {
        const at = Date.parse(found.session.updated_at ?? '');
        return {
          state: found.session.activity,
          ...(Number.isNaN(at) ? {} : { timestamp: new Date(at) }),
        };
      }
      if (found.kind === 'failed') return null;
      // No run yet: delegate is starting (admission writes the first event), or died before it.
      if (session.runtimeHandle === null) return null;
      return (await agent.isProcessRunning(session.runtimeHandle))
        ? { state: 'active', timestamp: new Date() }
        : { state: 'exited', timestamp: new Date() };
    },

    async isProcessRunning(handle: RuntimeHandle): Promise<boolean> {
      try {
        if (handle.runtimeName === 'tmux') return await tmuxRunsCommand(handle.id, processName);
        const pid = Number(handle.data['pid']);
        if (!Number.isInteger(pid) || pid <= 0) return false;
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    },

    async getSessionInfo(session: Session): Promise<AgentSessionInfo | null> {
      const found = await lookup(session);
      if (found.kind !== 'found') return null;
      const { session: answer } = found;
      return {
        summary: answer.summary,
        summaryIsFallback: answer.summary_is_fallback,
        agentSessionId: answer.mission_id,
        cost: {
          inputTokens: answer.tokens.input_tokens,
          outputTokens: answer.tokens.output_tokens,
          estimatedCostUsd: answer.cost_usd,
        },
      };
    },

    async getRestoreCommand(session: Session): Promise<string | null> {
      const found = await lookup(
        session,
        config.restorePrompt === undefined ? [] : ['--prompt', config.restorePrompt],
      );
      if (found.kind !== 'found' || found.session.restore_argv === null) return null;
      const [, ...rest] = found.session.restore_argv;
      return [config.command, ...rest].map(shellQuote).join(' ');
    },
  };
  return agent;
}

/**
 * The prompt delegate gets: AO's system prompt (from its file when there is one) before the task.
 * Read here rather than with `$(cat …)` so the launch command holds no shell expansion at all.
 */
function promptOf(launch: AgentLaunchConfig): string {
  const system =
    launch.systemPromptFile === undefined
      ? launch.systemPrompt
      : readFileSync(launch.systemPromptFile, 'utf8');
  const parts = [system, launch.prompt].filter(
    (part): part is string => part !== undefined && part.trim() !== '',
  );
  if (parts.length === 0)
    throw new Error(
      `codex-oss plugin: session ${launch.sessionId} has no prompt; codex-oss delegate needs a task (spawn it for an issue or with a prompt)`,
    );
  return parts.join('\n\n');
}

/** An optional list of strings from AO's agentConfig, or a clear error naming the key. */
function stringList(value: unknown, key: string): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' && item.trim() !== ''))
    return value as string[];
  throw new Error(`codex-oss plugin: agentConfig.${key} must be a list of non-empty strings`);
}

/** Whether a process named like the command runs on one of the tmux session's pane terminals. */
async function tmuxRunsCommand(target: string, name: string): Promise<boolean> {
  const { stdout: ttys } = await execFileAsync(
    'tmux',
    ['list-panes', '-t', target, '-F', '#{pane_tty}'],
    { timeout: 10_000 },
  );
  const panes = new Set(
    ttys
      .split('\n')
      .map((tty) => tty.trim().replace(/^\/dev\//, ''))
      .filter((tty) => tty !== ''),
  );
  if (panes.size === 0) return false;
  const { stdout: table } = await execFileAsync('ps', ['-eo', 'tty=,args='], { timeout: 10_000 });
  return table.split('\n').some((line) => {
    const [tty, ...args] = line.trim().split(/\s+/);
    return tty !== undefined && panes.has(tty) && args.some((arg) => path.basename(arg) === name);
  });
}

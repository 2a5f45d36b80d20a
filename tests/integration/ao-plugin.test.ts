import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ActivityState, Agent, AgentLaunchConfig, PluginModule } from '@composio/ao-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startMockUpstream, type MockUpstream } from '../../src/demo/index.js';
import {
  aoSession,
  importBuiltPlugin,
  pluginDir,
  processHandle,
  projectConfig,
} from '../support/ao-plugin.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';
import {
  buildPackageCopy,
  cliEnv,
  PidTracker,
  removeDir,
  runCli,
  spawnCli,
  waitFor,
  type BuiltPackage,
} from './cli-harness.js';

/**
 * The agent-orchestrator plugin, driven as the orchestrator drives an Agent plugin: the built
 * module imported, create() called, its answers read from the real `codex-oss` CLI (a private
 * build) against runs made here on the scripted mock upstream.
 */

let pkg: BuiltPackage;
let mock: MockUpstream;
let fixture: FixtureProject;
let plugin: PluginModule<Agent>;
let pluginBuild: string;
let agent: Agent;
const pids = new PidTracker();

const env = () => cliEnv({ UPSTREAM_BASE: mock.baseUrl, OPENCODE_GO_API_KEY: 'sk-upstream-test' });

/** The words a POSIX shell makes of a command line: how the runtime will read the launch command. */
function shellWords(command: string): string[] {
  return execFileSync('sh', ['-c', `printf '%s\\0' ${command}`], { encoding: 'utf8' })
    .split('\0')
    .slice(0, -1);
}

function launch(overrides: Partial<AgentLaunchConfig> = {}): AgentLaunchConfig {
  return {
    sessionId: 'fx-1',
    projectConfig: projectConfig(fixture.root),
    prompt: 'Where is PORT set?',
    ...overrides,
  };
}

/** A COMPLETE mission run through `mission run` under the mission id the plugin gives a session. */
async function completeMission(missionId: string) {
  mock.reset();
  mock.script(
    reply()
      .toolCall('read_file', { path: 'src/config.ts' })
      .usage({ prompt_tokens: 2000, completion_tokens: 100, cached_tokens: 500 }),
    reply()
      .toolCall('submit_report', {
        status: 'COMPLETE',
        summary: 'Port 4000 on 127.0.0.1.',
        findings: [{ claim: 'PORT = 4000', evidence_refs: ['file:src/config.ts#L2-L2'] }],
        confidence: 'HIGH',
      })
      .usage({ prompt_tokens: 2500, completion_tokens: 120 }),
  );
  const file = `handoff-${missionId}.md`;
  writeFileSync(path.join(fixture.root, file), handoff({ mission_id: missionId }));
  const run = await runCli(pkg, ['mission', 'run', file, '--model', 'mission-a3-kimi'], {
    cwd: fixture.root,
    env: env(),
  });
  expect(run.code, run.stderr).toBe(0);
}

/** A report with every output a delegated investigation requires. */
function delegatedReport(summary: string, ref: string) {
  return reply().toolCall('submit_report', {
    status: 'COMPLETE',
    summary,
    findings: [{ claim: summary, evidence_refs: [ref] }],
    files_inspected: ['src/config.ts'],
    uncertainties: [],
    confidence: 'HIGH',
    caveats: [],
    escalation_recommendation: 'None.',
  });
}

beforeAll(async () => {
  const [built, started, imported] = await Promise.all([
    buildPackageCopy(),
    startMockUpstream(),
    importBuiltPlugin(),
  ]);
  pkg = built;
  mock = started;
  plugin = imported.module;
  pluginBuild = imported.dir;
  fixture = createFixtureProject();
  agent = plugin.create({ command: pkg.bin, restorePrompt: "Now check HOST's default too." });
}, 300_000);

afterAll(async () => {
  pids.killAll();
  // Undefined when beforeAll itself failed; nothing else to clean up then.
  await (mock as MockUpstream | undefined)?.close();
  removeDir(path.dirname(fixture.root));
  removeDir(pkg.root);
  removeDir(pluginBuild);
});

describe('the plugin module', () => {
  it('exports the manifest and create() AO loads, at the version of its package.json', () => {
    const pkgJson = JSON.parse(readFileSync(path.join(pluginDir, 'package.json'), 'utf8')) as {
      version: string;
      type: string;
      exports: { '.': { import: string } };
    };
    expect(plugin.manifest).toMatchObject({
      name: 'codex-oss',
      slot: 'agent',
      version: pkgJson.version,
    });
    expect(plugin.manifest.description).not.toBe('');
    expect(pkgJson.type).toBe('module');
    expect(pkgJson.exports['.'].import).toBe('./dist/index.js');
    expect(agent.name).toBe('codex-oss');
    expect(agent.processName).toBe('codex-oss');
  });

  it('takes the executable from CODEX_OSS_COMMAND when AO gives no config, else codex-oss', () => {
    const saved = process.env['CODEX_OSS_COMMAND'];
    try {
      process.env['CODEX_OSS_COMMAND'] = '/opt/bridge/bin/codex-oss';
      expect(shellWords(plugin.create().getLaunchCommand(launch()))[0]).toBe(
        '/opt/bridge/bin/codex-oss',
      );
      delete process.env['CODEX_OSS_COMMAND'];
      expect(shellWords(plugin.create().getLaunchCommand(launch()))[0]).toBe('codex-oss');
    } finally {
      if (saved === undefined) delete process.env['CODEX_OSS_COMMAND'];
      else process.env['CODEX_OSS_COMMAND'] = saved;
    }
  });

  it('refuses a config it cannot use, saying which field and why', () => {
    expect(() => plugin.create({ command: '' })).toThrow(/"command"/);
    expect(() => plugin.create({ permission: 'unlimited' })).toThrow(/never delegated/);
    expect(() => plugin.create({ restorePrompt: 3 })).toThrow(/"restorePrompt"/);
  });
});

describe('getLaunchCommand', () => {
  it('is exactly the delegate command, every word shell-quoted', () => {
    const prompt = `Fix the "port" bug; don't touch $HOME or \`id\`.\nThen $(say) done.`;
    expect(shellWords(agent.getLaunchCommand(launch({ sessionId: 'fx-7', prompt })))).toEqual([
      pkg.bin,
      'delegate',
      '--mission-id',
      'ao-fx-7',
      '--workspace',
      '.',
      '--permission',
      'read-only',
      prompt,
    ]);
    // workspace-write owns only what it is given: AO's agentConfig names it (and how to verify).
    const write = launch({
      sessionId: 'fx-8',
      prompt,
      permissions: 'auto-edit',
      model: 'mission-a5-kimi',
    });
    write.projectConfig.agentConfig = {
      contextPaths: ['src/config.ts', 'src/auth/'],
      verificationCommands: ['npm test -- --run'],
    };
    expect(shellWords(agent.getLaunchCommand(write))).toEqual([
      pkg.bin,
      'delegate',
      '--mission-id',
      'ao-fx-8',
      '--workspace',
      '.',
      '--permission',
      'workspace-write',
      '--model',
      'mission-a5-kimi',
      '--context-path',
      'src/config.ts',
      '--context-path',
      'src/auth/',
      '--verification-command',
      'npm test -- --run',
      prompt,
    ]);
  });

  it("maps AO's permission modes onto read-only and workspace-write, and never beyond", () => {
    const permission = (overrides: Partial<AgentLaunchConfig>) => {
      const config = launch(overrides);
      config.projectConfig.agentConfig = { contextPaths: ['src/'] };
      const words = shellWords(agent.getLaunchCommand(config));
      return words[words.indexOf('--permission') + 1];
    };
    expect(permission({})).toBe('read-only');
    expect(permission({ permissions: 'default' })).toBe('read-only');
    expect(permission({ permissions: 'suggest' })).toBe('read-only');
    expect(permission({ permissions: 'permissionless' })).toBe('workspace-write');
    expect(permission({ permissions: 'skip' })).toBe('workspace-write');
    expect(permission({ permissions: 'auto-edit' })).toBe('workspace-write');
    const fromProject = launch();
    fromProject.projectConfig.agentConfig = {
      permissions: 'auto-edit',
      model: 'mission-a3-glm',
      contextPaths: ['src/'],
    };
    expect(shellWords(agent.getLaunchCommand(fromProject)).slice(6, 10)).toEqual([
      '--permission',
      'workspace-write',
      '--model',
      'mission-a3-glm',
    ]);
    const pinned = plugin.create({ command: pkg.bin, permission: 'read-only' });
    expect(
      shellWords(pinned.getLaunchCommand(launch({ permissions: 'permissionless' }))),
    ).toContain('read-only');
    // No owned paths: refused here, with the fix, rather than launched to be refused.
    expect(() => agent.getLaunchCommand(launch({ permissions: 'permissionless' }))).toThrow(
      /agentConfig\.contextPaths/,
    );
    const bad = launch();
    bad.projectConfig.agentConfig = { contextPaths: 'src/' };
    expect(() => agent.getLaunchCommand(bad)).toThrow(/must be a list/);
  });

  it('puts the system prompt (or its file) before the task, and refuses a session without one', () => {
    const file = path.join(fixture.root, 'system-prompt.txt');
    writeFileSync(file, 'You are worker fx-2. Keep to src/.');
    const words = shellWords(agent.getLaunchCommand(launch({ systemPromptFile: file })));
    expect(words.at(-1)).toBe('You are worker fx-2. Keep to src/.\n\nWhere is PORT set?');
    const inline = shellWords(agent.getLaunchCommand(launch({ systemPrompt: 'Be brief.' })));
    expect(inline.at(-1)).toBe('Be brief.\n\nWhere is PORT set?');
    const withoutPrompt = launch();
    delete withoutPrompt.prompt;
    expect(() => agent.getLaunchCommand(withoutPrompt)).toThrow(/has no prompt/);
  });

  it('derives a mission id a mission may carry from any session id', () => {
    const words = shellWords(agent.getLaunchCommand(launch({ sessionId: 'fx/../9 x' })));
    expect(words[3]).toMatch(/^ao-[A-Za-z0-9._-]+$/);
    expect(words[3]).not.toContain('..');
    expect(agent.getEnvironment(launch({ issueId: 'GH-12' }))).toEqual({
      AO_SESSION_ID: 'fx-1',
      AO_ISSUE_ID: 'GH-12',
      CODEX_OSS_PROJECT: '.',
    });
  });
});

describe('getSessionInfo, getActivityState and getRestoreCommand on a finished mission', () => {
  it("gives the summary, mission id, tokens and dollars AO's OpenCode plugin cannot", async () => {
    await completeMission('ao-fx-info');
    const session = aoSession('fx-info', fixture.root);
    const info = await agent.getSessionInfo(session);
    const expected = (1500 * 0.95 + 500 * 0.16 + 100 * 4 + 2500 * 0.95 + 120 * 4) / 1e6;
    expect(info).toMatchObject({
      summary: 'Port 4000 on 127.0.0.1.',
      summaryIsFallback: false,
      agentSessionId: 'ao-fx-info',
      cost: { inputTokens: 4500, outputTokens: 220 },
    });
    expect(info?.cost?.estimatedCostUsd).toBeCloseTo(expected, 9);

    const activity = await agent.getActivityState(session);
    expect(activity?.state).toBe('exited');
    expect(activity?.timestamp).toBeInstanceOf(Date);

    const restore = await agent.getRestoreCommand?.(session, projectConfig(fixture.root));
    expect(shellWords(restore ?? '')).toEqual([
      pkg.bin,
      'delegate',
      '--continue',
      'ao-fx-info',
      '--workspace',
      fixture.root,
      '--permission',
      'read-only',
      '--model',
      'mission-a3-kimi',
      "Now check HOST's default too.",
    ]);
  });

  it('knows nothing of a session that never ran, and says exited once its process is gone', async () => {
    const session = aoSession('fx-never', fixture.root);
    expect(await agent.getSessionInfo(session)).toBeNull();
    expect(await agent.getRestoreCommand?.(session, projectConfig(fixture.root))).toBeNull();
    expect(await agent.getActivityState(session)).toBeNull();
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    pids.track(sleeper.pid);
    const starting = aoSession('fx-never', fixture.root, processHandle(sleeper.pid));
    expect((await agent.getActivityState(starting))?.state).toBe('active');
    sleeper.kill('SIGKILL');
    await new Promise((resolve) => sleeper.once('exit', resolve));
    expect((await agent.getActivityState(starting))?.state).toBe('exited');
    expect(await agent.isProcessRunning(processHandle(sleeper.pid))).toBe(false);
  });
});

// `codex-oss delegate` is another engineer's verb; until it is registered this one test waits.
const delegateRegistered = readFileSync(
  path.join(import.meta.dirname, '..', '..', 'src', 'cli', 'command-list.ts'),
  'utf8',
).includes('delegateCommand');

describe('a session launched and restored as the orchestrator does it', () => {
  it.skipIf(!delegateRegistered)(
    'goes active → exited with its cost, and its restore command continues it',
    async () => {
      const project = createFixtureProject();
      try {
        const config = launch({ sessionId: 'fx-e2e', projectConfig: projectConfig(project.root) });
        const runEnv = { ...env(), ...agent.getEnvironment(config) };
        mock.reset();
        mock.script(
          // Slow enough that an orchestrator polling every few seconds sees the session at work.
          reply()
            .toolCall('read_file', { path: 'src/config.ts' })
            .usage({ prompt_tokens: 1000, completion_tokens: 40 })
            .firstByteDelayMs(12_000),
          delegatedReport('PORT is 4000.', 'file:src/config.ts#L2-L2').usage({
            prompt_tokens: 1500,
            completion_tokens: 60,
          }),
        );
        // The process runtime: the launch command through a shell, in the session's workspace.
        const child = spawn('sh', ['-c', agent.getLaunchCommand(config)], {
          cwd: project.root,
          env: runEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        pids.track(child.pid);
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
        const session = aoSession('fx-e2e', project.root, processHandle(child.pid));

        const seen: ActivityState[] = [];
        await waitFor(
          'the session to be seen active',
          async () => {
            const state = (await agent.getActivityState(session))?.state;
            if (state) seen.push(state);
            return state === 'active';
          },
          60_000,
        );
        expect(await exited, output).toBe(0);
        const final = await agent.getActivityState(session);
        expect(final?.state).toBe('exited');
        expect(seen).not.toContain('exited');
        const info = await agent.getSessionInfo(session);
        expect(info).toMatchObject({
          summary: 'PORT is 4000.',
          agentSessionId: 'ao-fx-e2e',
          cost: { inputTokens: 2500, outputTokens: 100 },
        });
        const firstCost = info?.cost?.estimatedCostUsd ?? 0;
        expect(firstCost).toBeGreaterThan(0);

        // Restore: the continuation, run the same way; the session now answers for it.
        const restore = await agent.getRestoreCommand?.(session, config.projectConfig);
        expect(restore).toContain('--continue ao-fx-e2e');
        mock.script(
          delegatedReport('HOST defaults to 127.0.0.1.', 'file:src/config.ts#L3-L3').usage({
            prompt_tokens: 2000,
            completion_tokens: 30,
          }),
        );
        const resumed = spawn('sh', ['-c', restore ?? 'false'], {
          cwd: project.root,
          env: runEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        pids.track(resumed.pid);
        let resumedOutput = '';
        resumed.stdout.on('data', (chunk: Buffer) => (resumedOutput += chunk.toString('utf8')));
        resumed.stderr.on('data', (chunk: Buffer) => (resumedOutput += chunk.toString('utf8')));
        const resumedCode = await new Promise<number | null>((resolve) =>
          resumed.once('exit', resolve),
        );
        expect(resumedCode, resumedOutput).toBe(0);
        expect(resumedOutput).toContain('Continues: mission ao-fx-e2e');
        const after = await agent.getSessionInfo(
          aoSession('fx-e2e', project.root, processHandle(resumed.pid)),
        );
        expect(after?.summary).toBe('HOST defaults to 127.0.0.1.');
        expect(after?.agentSessionId).not.toBe('ao-fx-e2e');
        expect(after?.cost?.inputTokens).toBe(4500);
        expect(after?.cost?.estimatedCostUsd).toBeGreaterThan(firstCost);
        expect((await agent.getActivityState(session))?.state).toBe('exited');
      } finally {
        removeDir(path.dirname(project.root));
      }
    },
    180_000,
  );
});

describe('a mission in flight, seen through the plugin', () => {
  it('is active while its process works and exited once it is killed', async () => {
    mock.reset();
    mock.script(reply().toolCall('read_file', { path: 'src/config.ts' }), reply().hang());
    const file = 'handoff-ao-fx-live.md';
    writeFileSync(path.join(fixture.root, file), handoff({ mission_id: 'ao-fx-live' }));
    const child = spawnCli(pkg, ['mission', 'run', file, '--model', 'mission-a3-kimi'], {
      cwd: fixture.root,
      env: { ...env(), UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '600' },
    });
    pids.track(child.child.pid);
    await mock.waitForRequests(2, 30_000);
    const session = aoSession('fx-live', fixture.root, processHandle(child.child.pid));

    const seen: ActivityState[] = [];
    const active = await waitFor('the plugin to see the session active', async () => {
      const state = (await agent.getActivityState(session))?.state;
      if (state) seen.push(state);
      return state === 'active';
    });
    expect(active).toBe(true);
    expect(await agent.isProcessRunning(processHandle(child.child.pid))).toBe(true);
    expect(await agent.getRestoreCommand?.(session, projectConfig(fixture.root))).toBeNull();
    const info = await agent.getSessionInfo(session);
    expect(info?.agentSessionId).toBe('ao-fx-live');
    expect(info?.summaryIsFallback).toBe(true);

    process.kill(child.child.pid ?? 0, 'SIGKILL');
    await child.exited;
    expect(await agent.isProcessRunning(processHandle(child.child.pid))).toBe(false);
    expect((await agent.getActivityState(session))?.state).toBe('exited');
    // Not continuable until a daemon start closes the orphaned run: AO falls back to relaunching.
    expect(await agent.getRestoreCommand?.(session, projectConfig(fixture.root))).toBeNull();
    expect(seen).not.toContain('exited');
  }, 90_000);
});

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Agent, PluginModule, ProjectConfig, RuntimeHandle, Session } from '@composio/ao-core';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const pluginDir = path.join(repoRoot, 'integrations', 'agent-orchestrator');

/**
 * Compiles the agent-orchestrator plugin into a private directory and imports it the way AO does
 * (a dynamic import of the built ESM entry), so a test never runs a stale integrations/…/dist.
 */
export async function importBuiltPlugin(): Promise<{ module: PluginModule<Agent>; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ao-plugin-'));
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const output = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      [tsc, '-p', path.join(pluginDir, 'tsconfig.json'), '--outDir', dir],
      { cwd: repoRoot },
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
  });
  const entry = path.join(dir, 'index.js');
  if (!existsSync(entry)) throw new Error(`the plugin did not build:\n${output}`);
  const imported = (await import(pathToFileURL(entry).href)) as { default: PluginModule<Agent> };
  return { module: imported.default, dir };
}

export function projectConfig(root: string): ProjectConfig {
  return {
    name: 'fixture',
    repo: 'example/fixture',
    path: root,
    defaultBranch: 'main',
    sessionPrefix: 'fx',
  };
}

/** An AO session as the lifecycle manager hands it to an agent plugin. */
export function aoSession(
  id: string,
  workspacePath: string,
  runtimeHandle: RuntimeHandle | null = null,
): Session {
  const now = new Date();
  return {
    id,
    projectId: 'fixture',
    status: 'working',
    activity: null,
    branch: null,
    issueId: null,
    pr: null,
    workspacePath,
    runtimeHandle,
    agentInfo: null,
    createdAt: now,
    lastActivityAt: now,
    metadata: {},
  };
}

export function processHandle(pid: number | undefined): RuntimeHandle {
  return { id: `process-${pid ?? 0}`, runtimeName: 'process', data: { pid } };
}

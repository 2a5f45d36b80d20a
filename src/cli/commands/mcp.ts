import { parseArgs } from 'node:util';
import type { Command } from '../cli-io.js';
import { loadConfigOrReport } from '../load-cli-config.js';
import { parseFlags } from '../parse-flags.js';

const usage = `Usage: codex-oss mcp [--project DIR]

Serves the bridge's MCP tools on stdio for Codex, Claude Code, Cursor or any MCP client:
  opencode     delegate a prompt: read-only (A3 investigation) or workspace-write (A5 in isolation)
  oss_mission  run a MissionV1 object
  oss_start    start either and return the mission_id at once
  oss_wait     progress since the last call, or the final report once the mission ended
  oss_cancel   cancel a running mission (recorded as cancelled)
  oss_promote  apply a finished A5 mission's VERIFIED patch to the workspace
  oss_runs     this project's runs
Missions share the daemon's runtime rules, lane caps, event log, index and configuration
(--project, else CODEX_OSS_PROJECT, else the working directory). Blocking tools answer "still
running" after MCP_SYNC_SECONDS (45). stdout carries only MCP frames; logs go to stderr.
`;

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'serve the delegation tools (opencode, oss_*) over MCP on stdio',
  usage,
  async run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({ args, strict: true, options: { project: { type: 'string' } } }),
    );
    // From here on stdout is the protocol channel: anything printed with console goes to stderr.
    for (const method of ['log', 'info', 'debug', 'warn'] as const)
      console[method] = (...items: unknown[]) => console.error(...items);
    const config = loadConfigOrReport({ project: values.project }, io);
    if (!config) return 2;
    const [{ createServices }, { createLogger }, { serveMcpStdio }] = await Promise.all([
      import('../../app/index.js'),
      import('../../log/index.js'),
      import('../../mcp/index.js'),
    ]);
    const logger = createLogger(config.LOG_LEVEL, {
      write: (line: string) => io.stderr.write(line),
    });
    const services = createServices({ config, logger });
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await serveMcpStdio({ services, signal: controller.signal });
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await services.close();
    }
  },
};

import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  reply,
  startMockUpstream,
  toolResults,
  type MockUpstream,
  type RecordedRequest,
} from '../../src/demo/index.js';
import { createFixtureProject, type FixtureProject } from '../support/mission-fixtures.js';
import {
  CODEX_TEST_TIMEOUT_MS,
  describeRun,
  makeCodexHome,
  removeCodexHome,
  runCodex,
} from './support/codex-runner.js';

/**
 * The real Codex CLI as an MCP client (issue 7): `codex exec` starts `codex-oss mcp` as its MCP
 * server; Codex's own model is a scripted Responses mock that calls the server's `opencode`
 * tool; the bridge runs a governed A3 mission (its model the same mock, over Chat Completions)
 * and the tool's report comes back to Codex and into its final message.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repoRoot, 'bin', 'codex-oss');

let mock: MockUpstream;
let fixture: FixtureProject;
let codexHome: string;

/** Codex's model (Responses) calls the MCP tool, then repeats what the tool answered. */
function codexModel(request: RecordedRequest) {
  const results = toolResults(request);
  if (results.length === 0) {
    return reply().toolCall(
      'opencode',
      {
        prompt: 'Which port does the server listen on?',
        workspace: fixture.root,
        permission: 'read-only',
        context_paths: ['src/config.ts'],
      },
      { namespace: 'mcp__opencode_bridge' },
    );
  }
  return reply().text(`The delegate answered:\n${results.at(-1)?.output ?? '(nothing)'}`);
}

/** The OSS worker's model (Chat Completions, kimi): reads, then reports. */
function workerModel(request: RecordedRequest) {
  const results = toolResults(request);
  if (results.length === 0) return reply().toolCall('read_file', { path: 'src/config.ts' });
  return reply().toolCall('submit_report', {
    status: 'COMPLETE',
    summary: 'The server listens on port 4000 (PORT in src/config.ts).',
    findings: [{ claim: 'PORT is 4000', evidence_refs: ['file:src/config.ts#L2-L2'] }],
    confidence: 'HIGH',
    escalation_recommendation: 'none needed',
  });
}

beforeAll(async () => {
  fixture = createFixtureProject();
  mock = await startMockUpstream({
    responder: (request) =>
      request.path.endsWith('/responses') ? codexModel(request) : workerModel(request),
  });
  codexHome = makeCodexHome();
});

afterAll(async () => {
  await mock?.close();
  removeCodexHome(codexHome);
  rmSync(path.dirname(fixture.root), { recursive: true, force: true });
});

describe('Codex delegates through the MCP server', () => {
  it(
    "calls opencode, and the governed mission's report reaches Codex's final message",
    async () => {
      const server = 'mcp_servers.opencode_bridge';
      const env = {
        UPSTREAM_BASE: mock.baseUrl,
        OPENCODE_GO_API_KEY: 'sk-upstream-test-key',
        LOG_LEVEL: 'warn',
        MCP_SYNC_SECONDS: '40',
      };
      const run = await runCodex({
        baseURL: mock.baseUrl,
        model: 'scripted-delegator',
        prompt: 'Find out which port the server listens on, using the opencode tool.',
        cwd: fixture.root,
        codexHome,
        extraConfig: [
          `${server}.command=${JSON.stringify(process.execPath)}`,
          `${server}.args=${JSON.stringify([bin, 'mcp', '--project', fixture.root])}`,
          `${server}.env=${tomlInlineTable(env)}`,
          `${server}.required=true`,
          `${server}.startup_timeout_sec=30`,
          `${server}.tool_timeout_sec=60`,
          `${server}.default_tools_approval_mode="approve"`,
        ],
      });
      const summary = describeRun(run);
      expect(run.timedOut, summary).toBe(false);
      expect(run.exitCode, summary).toBe(0);
      // Codex offered the server's tools to its model as the mcp__opencode_bridge namespace.
      const codexRequest = mock.requests.find((request) => request.path.endsWith('/responses'));
      expect(JSON.stringify(codexRequest?.body), summary).toContain('mcp__opencode_bridge');
      // The worker's model was asked by the bridge, over Chat Completions, with the runtime's tools.
      const workerRequests = mock.requests.filter((request) =>
        request.path.endsWith('/chat/completions'),
      );
      expect(workerRequests.length, summary).toBe(2);
      expect(JSON.stringify(workerRequests[0]?.body), summary).toContain('submit_report');
      // The tool's answer (a governed report) is what Codex said at the end.
      expect(run.lastMessage, summary).toContain('Status: COMPLETE');
      expect(run.lastMessage, summary).toContain('evidence: file:src/config.ts#L2-L2');
      expect(run.lastMessage, summary).toMatch(/<continuation_id>[^<]+<\/continuation_id>/);
      // And Codex recorded the MCP call as such.
      const call = run.events.find((event) => event.item?.type === 'mcp_tool_call');
      expect(call?.item?.['tool'], summary).toBe('opencode');
    },
    CODEX_TEST_TIMEOUT_MS,
  );
});

function tomlInlineTable(values: Record<string, string>): string {
  return `{${Object.entries(values)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(', ')}}`;
}

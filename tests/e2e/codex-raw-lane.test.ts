import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, toolNames, type RecordedRequest } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import {
  CODEX_TEST_TIMEOUT_MS,
  agentMessages,
  completedItems,
  describeRun,
  makeCodexHome,
  removeCodexHome,
  runCodex,
  turnCompleted,
  type CodexRun,
} from './support/codex-runner.js';
import { startRecordingProxy, type RecordingProxy } from './support/recording-proxy.js';

const MODEL = 'ocg-kimi-k2.6';

let bridge: BridgeHarness;
/** Codex talks to the bridge through this recorder, so tests can read what Codex itself sent. */
let proxy: RecordingProxy;
let codexHome: string;
let cwd: string;

beforeAll(async () => {
  bridge = await startBridge();
  proxy = await startRecordingProxy(bridge.url);
  codexHome = makeCodexHome();
  cwd = mkdtempSync(path.join(tmpdir(), 'ocb-e2e-cwd-'));
});

afterAll(async () => {
  await proxy?.close();
  await bridge?.close();
  removeCodexHome(codexHome);
  rmSync(cwd, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

function chatRequests(): RecordedRequest[] {
  return bridge.mock.requests.filter(
    (r) => r.method === 'POST' && r.path === '/v1/chat/completions',
  );
}

function messagesOf(request: RecordedRequest): Json[] {
  return ((request.body as Json)['messages'] as Json[] | undefined) ?? [];
}

function codex(
  prompt: string,
  extra: Partial<Parameters<typeof runCodex>[0]> = {},
): Promise<CodexRun> {
  proxy.requests.splice(0);
  return runCodex({
    baseURL: proxy.baseURL,
    model: MODEL,
    prompt,
    cwd,
    codexHome,
    timeoutMs: 60_000,
    ...extra,
  });
}

describe('Codex 0.169 → bridge raw lane', { timeout: CODEX_TEST_TIMEOUT_MS }, () => {
  it('answers a text turn with the upstream text and usage', async () => {
    bridge.mock.reset();
    bridge.mock.script(
      reply()
        .text('Hello from the bridge e2e mock.')
        .usage({ prompt_tokens: 1234, completion_tokens: 56, cached_tokens: 200 }),
    );
    const run = await codex('Say hello.');
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(agentMessages(run)).toEqual(['Hello from the bridge e2e mock.']);
    expect(run.lastMessage).toBe('Hello from the bridge e2e mock.');
    // Codex authenticated with the provider's env_key value.
    expect(proxy.requests[0]?.headers['authorization']).toBe(`Bearer ${BRIDGE_KEY}`);
    const usage = turnCompleted(run)?.usage;
    expect(usage).toMatchObject({
      input_tokens: 1234,
      cached_input_tokens: 200,
      output_tokens: 56,
    });
    // The upstream saw the Kimi id, not the bridge alias.
    const [chat] = chatRequests();
    expect((chat?.body as Json)['model']).toBe('kimi-k2.6');
  });

  it('runs a tool call and sends the output back upstream as a tool message', async () => {
    bridge.mock.reset();
    bridge.mock.script(
      reply().toolCall('exec_command', { cmd: 'echo bridge-e2e-ok' }, { id: 'call_echo_1' }),
      reply().text('the command printed bridge-e2e-ok'),
    );
    const run = await codex('Run echo bridge-e2e-ok and tell me what it printed.');
    expect(run.exitCode, describeRun(run)).toBe(0);

    const commands = completedItems(run, 'command_execution');
    expect(commands.length, describeRun(run)).toBeGreaterThanOrEqual(1);
    expect(commands[0]?.command).toContain('echo bridge-e2e-ok');
    expect(commands[0]?.aggregated_output).toContain('bridge-e2e-ok');
    expect(commands[0]?.exit_code).toBe(0);

    const requests = chatRequests();
    expect(requests).toHaveLength(2);
    expect(toolNames(requests[0] as RecordedRequest)).toContain('exec_command');
    const second = messagesOf(requests[1] as RecordedRequest);
    const assistant = second.find(
      (m) => m['role'] === 'assistant' && Array.isArray(m['tool_calls']),
    );
    expect(assistant, JSON.stringify(second.slice(-3))).toBeDefined();
    const calls = assistant?.['tool_calls'] as Json[];
    expect(calls).toHaveLength(1);
    expect(calls[0]?.['id']).toBe('call_echo_1');
    expect((calls[0]?.['function'] as Json)['name']).toBe('exec_command');
    expect(JSON.parse(String((calls[0]?.['function'] as Json)['arguments']))).toMatchObject({
      cmd: 'echo bridge-e2e-ok',
    });
    const tool = second.find((m) => m['role'] === 'tool');
    expect(tool?.['tool_call_id']).toBe('call_echo_1');
    expect(String(tool?.['content'])).toContain('bridge-e2e-ok');
    // The tool message follows the assistant message that made the call.
    expect(second.indexOf(tool as Json)).toBe(second.indexOf(assistant as Json) + 1);

    expect(agentMessages(run)).toEqual(['the command printed bridge-e2e-ok']);
  });

  it('carries upstream reasoning back as reasoning_content through Codex history', async () => {
    bridge.mock.reset();
    bridge.mock.script(
      reply().reasoning('I should list files').toolCall('exec_command', { cmd: 'echo hi' }),
      reply().text('done'),
    );
    const run = await codex('List the files.');
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(completedItems(run, 'reasoning').map((item) => item.text)).toContainEqual(
      expect.stringContaining('I should list files'),
    );
    expect(agentMessages(run)).toEqual(['done']);

    const requests = chatRequests();
    expect(requests).toHaveLength(2);
    const assistant = messagesOf(requests[1] as RecordedRequest).find(
      (m) => m['role'] === 'assistant' && Array.isArray(m['tool_calls']),
    );
    expect(assistant?.['reasoning_content']).toBe('I should list files');

    // The bridge kept nothing: the text came back inside the reasoning item Codex echoed in its
    // second request (store:false, no previous_response_id).
    const codexRequests = proxy.requests.filter((r) => r.path === '/v1/responses');
    expect(codexRequests).toHaveLength(2);
    const secondBody = JSON.parse(
      (codexRequests[1] as (typeof codexRequests)[number]).rawBody,
    ) as Json;
    expect(secondBody['store']).toBe(false);
    expect(secondBody['previous_response_id']).toBeUndefined();
    const echoed = (secondBody['input'] as Json[]).filter((item) => item['type'] === 'reasoning');
    expect(echoed).toHaveLength(1);
    expect(JSON.stringify(echoed[0]?.['summary'])).toContain('I should list files');
    expect(typeof echoed[0]?.['encrypted_content']).toBe('string');
  });
});

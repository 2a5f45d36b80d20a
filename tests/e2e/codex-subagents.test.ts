import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conversation,
  lastUserText,
  reply,
  startMockUpstream,
  toolNames,
  toolResults,
  type MockUpstream,
  type RecordedRequest,
} from '../../src/demo/index.js';
import { startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import {
  CODEX_TEST_TIMEOUT_MS,
  agentMessages,
  completedItems,
  describeRun,
  makeCodexHome,
  removeCodexHome,
  runCodex,
  writeRoleFile,
} from './support/codex-runner.js';
import { startRecordingProxy, type RecordingProxy } from './support/recording-proxy.js';

type Json = Record<string, unknown>;

const SPAWN = 'multi_agent_v1__spawn_agent';
const WAIT = 'multi_agent_v1__wait_agent';

let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'ocb-e2e-cwd-'));
});
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
});

function bodyOf(request: RecordedRequest): Json {
  return request.body as Json;
}

function chatRequests(mock: MockUpstream): RecordedRequest[] {
  return mock.requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions');
}

/** The JSON object a tool returned, or undefined when the output is not JSON. */
function parseOutput(output: string): Json | undefined {
  try {
    const value = JSON.parse(output) as unknown;
    return typeof value === 'object' && value !== null ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

describe(
  'Codex 0.169 subagents through the raw lane (non-GPT parent)',
  { timeout: CODEX_TEST_TIMEOUT_MS },
  () => {
    let bridge: BridgeHarness;
    let codexHome: string;

    beforeAll(async () => {
      bridge = await startBridge();
      codexHome = makeCodexHome();
    });
    afterAll(async () => {
      await bridge?.close();
      removeCodexHome(codexHome);
    });

    it('flattens the multi_agent_v1 namespace upstream and maps spawn_agent back so Codex runs it', async () => {
      // Parent requests carry the flattened namespace tools; the child's request (same provider,
      // wire-protocol.md finding 1) does not, so the tool list tells the two apart.
      bridge.mock.setResponder((request) => {
        if (!toolNames(request).includes(SPAWN)) return reply().text('child says hi');
        const results = toolResults(request);
        if (results.length === 0)
          return reply().toolCall(SPAWN, { message: 'say hi' }, { id: 'call_spawn_1' });
        if (results.length === 1) {
          const agentId = parseOutput(results[0]?.output ?? '')?.['agent_id'];
          if (typeof agentId !== 'string')
            return reply().text(`spawn was not accepted: ${results[0]?.output ?? ''}`);
          return reply().toolCall(WAIT, { targets: [agentId] }, { id: 'call_wait_1' });
        }
        return reply().text('the helper said hi');
      });

      const run = await runCodex({
        baseURL: bridge.baseURL,
        model: 'ocg-kimi-k2.6',
        prompt: 'Spawn a helper.',
        cwd,
        codexHome,
      });
      expect(run.exitCode, describeRun(run)).toBe(0);

      // Upstream saw the namespace flattened into unique chat function names.
      const requests = chatRequests(bridge.mock);
      const first = requests[0] as RecordedRequest;
      const names = toolNames(first);
      expect(names).toEqual(
        expect.arrayContaining([
          'multi_agent_v1__spawn_agent',
          'multi_agent_v1__wait_agent',
          'multi_agent_v1__send_input',
          'multi_agent_v1__close_agent',
          'multi_agent_v1__resume_agent',
          'exec_command',
        ]),
      );
      expect(names).not.toContain('spawn_agent');
      for (const tool of bodyOf(first)['tools'] as Json[]) expect(tool['type']).toBe('function');
      expect(new Set(names).size).toBe(names.length);

      // Codex accepted the call as its own spawn_agent (namespace restored), not "unsupported call".
      const collab = completedItems(run, 'collab_tool_call');
      const spawn = collab.find((item) => item.tool === 'spawn_agent');
      expect(spawn, describeRun(run)).toMatchObject({ status: 'completed', prompt: 'say hi' });
      const childIds = spawn?.['receiver_thread_ids'] as string[];
      expect(childIds).toHaveLength(1);
      const wait = collab.find((item) => item.tool === 'wait');
      expect(wait?.['agents_states']).toMatchObject({
        [childIds[0] as string]: { status: 'completed', message: 'child says hi' },
      });

      // The parent's next request answers the spawn with the child's id.
      const followUp = requests.find(
        (r) => toolNames(r).includes(SPAWN) && toolResults(r).length >= 1,
      );
      expect(followUp).toBeDefined();
      const spawnResult = toolResults(followUp as RecordedRequest).find(
        (r) => r.callId === 'call_spawn_1',
      );
      expect(spawnResult?.name).toBe(SPAWN);
      expect(spawnResult?.output).not.toMatch(/unsupported call/i);
      expect(parseOutput(spawnResult?.output ?? '')?.['agent_id']).toBe(childIds[0]);

      // The child ran on the same model through the bridge, with the spawn message as its task
      // and without the namespace (a child cannot spawn).
      const child = requests.find((r) => !toolNames(r).includes(SPAWN));
      expect(child).toBeDefined();
      expect(bodyOf(child as RecordedRequest)['model']).toBe('kimi-k2.6');
      expect(lastUserText(child as RecordedRequest)).toBe('say hi');

      expect(agentMessages(run)).toEqual(['the helper said hi']);
    });
  },
);

describe(
  'Codex 0.169 GPT parent through the passthrough, OSS subagent through the raw lane',
  { timeout: CODEX_TEST_TIMEOUT_MS },
  () => {
    let bridge: BridgeHarness;
    let openai: MockUpstream;
    let proxy: RecordingProxy;
    let codexHome: string;

    beforeAll(async () => {
      // A second mock plays OpenAI: the passthrough posts to {OPENAI_BASE_URL}/responses and the
      // mock renders the same reply builders as a Responses SSE stream.
      openai = await startMockUpstream();
      bridge = await startBridge({
        env: {
          GPT_MODEL_STRATEGY: 'openai',
          OPENAI_API_KEY: 'sk-test-openai',
          OPENAI_BASE_URL: openai.baseUrl,
        },
      });
      // Codex → recorder → bridge, so the test can compare Codex's bytes with what reached "OpenAI".
      proxy = await startRecordingProxy(bridge.url);
      codexHome = makeCodexHome();
      writeRoleFile(codexHome, {
        name: 'oss-worker',
        description: 'Runs bounded tasks on an open-source model through the bridge.',
        developerInstructions: 'You are the OSS worker. Answer the task in one line.',
        model: 'ocg-kimi-k2.6',
      });
    });
    afterAll(async () => {
      await proxy?.close();
      await bridge?.close();
      await openai?.close();
      removeCodexHome(codexHome);
    });

    it('passes the GPT parent through verbatim and runs the spawned oss-worker on the raw lane', async () => {
      // In 0.169 a gpt-5.5 parent gets the classic `tools` array, with multi_agent_v1 *deferred*
      // (only named in a developer message, reachable through tool_search). Codex still accepts a
      // direct namespaced call to multi_agent_v1.spawn_agent, which is what the "OpenAI" mock sends.
      openai.setResponder((request) => {
        const results = toolResults(request);
        if (results.length === 0) {
          return reply().toolCall(
            'spawn_agent',
            { message: 'Compute the answer.', agent_type: 'oss-worker' },
            { namespace: 'multi_agent_v1', id: 'call_gpt_spawn' },
          );
        }
        if (results.length === 1) {
          const agentId = parseOutput(results[0]?.output ?? '')?.['agent_id'];
          if (typeof agentId !== 'string')
            return reply().text(`spawn was not accepted: ${results[0]?.output ?? ''}`);
          return reply().toolCall(
            'wait_agent',
            { targets: [agentId] },
            { namespace: 'multi_agent_v1', id: 'call_gpt_wait' },
          );
        }
        return reply().text('The worker answered child-result-42.');
      });
      bridge.mock.setResponder(() => reply().text('child-result-42'));

      const run = await runCodex({
        baseURL: proxy.baseURL,
        model: 'gpt-5.5',
        prompt: 'Ask the oss-worker for the answer.',
        cwd,
        codexHome,
      });
      expect(run.exitCode, describeRun(run)).toBe(0);
      expect(agentMessages(run)).toEqual(['The worker answered child-result-42.']);

      // --- the GPT parent: verbatim passthrough to "OpenAI" ---
      const codexParent = proxy.requests.filter(
        (r) => r.path === '/v1/responses' && JSON.parse(r.rawBody).model === 'gpt-5.5',
      );
      const atOpenAI = openai.requests.filter((r) => r.path === '/v1/responses');
      expect(atOpenAI).toHaveLength(3);
      expect(codexParent).toHaveLength(atOpenAI.length);
      atOpenAI.forEach((request, index) => {
        const sent = codexParent[index] as (typeof codexParent)[number];
        expect(request.headers['authorization']).toBe('Bearer sk-test-openai');
        expect(request.headers['content-length']).toBe(String(Buffer.byteLength(sent.rawBody)));
        expect(request.body).toEqual(JSON.parse(sent.rawBody));
        expect(bodyOf(request)['model']).toBe('gpt-5.5');
      });
      // Nothing of the child leaked to OpenAI, and the GPT parent never reached the OSS upstream.
      for (const request of chatRequests(bridge.mock))
        expect(bodyOf(request)['model']).not.toMatch(/^gpt-/);

      // --- the subagent: same provider as the parent (finding 1), role model → raw lane ---
      const codexChild = proxy.requests.filter(
        (r) => r.path === '/v1/responses' && JSON.parse(r.rawBody).model !== 'gpt-5.5',
      );
      expect(codexChild.length).toBeGreaterThanOrEqual(1);
      expect(JSON.parse((codexChild[0] as (typeof codexChild)[number]).rawBody).model).toBe(
        'ocg-kimi-k2.6',
      );
      expect(codexChild[0]?.headers['x-openai-subagent']).toBe('collab_spawn');

      const childChats = chatRequests(bridge.mock);
      expect(childChats).toHaveLength(1);
      const childChat = childChats[0] as RecordedRequest;
      expect(bodyOf(childChat)['model']).toBe('kimi-k2.6');
      expect(childChat.headers['authorization']).toBe('Bearer sk-upstream-test-key');
      const system = conversation(childChat)
        .filter((turn) => turn.role === 'system')
        .map((turn) => turn.text)
        .join('\n');
      expect(system).toContain('You are the OSS worker. Answer the task in one line.');
      expect(lastUserText(childChat)).toBe('Compute the answer.');

      // Codex ran spawn + wait for the parent.
      const collab = completedItems(run, 'collab_tool_call');
      expect(collab.find((item) => item.tool === 'spawn_agent')).toMatchObject({
        status: 'completed',
        prompt: 'Compute the answer.',
      });
      expect(
        JSON.stringify(collab.find((item) => item.tool === 'wait')?.['agents_states']),
      ).toContain('child-result-42');

      // The child's answer reached the parent's later request to OpenAI.
      const spawnOutput = toolResults(atOpenAI[1] as RecordedRequest).find(
        (r) => r.callId === 'call_gpt_spawn',
      );
      expect(spawnOutput?.output).not.toMatch(/unsupported call/i);
      const later = toolResults(atOpenAI[2] as RecordedRequest).find(
        (r) => r.callId === 'call_gpt_wait',
      );
      expect(later?.output).toContain('child-result-42');
    });
  },
);

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';

let bridge: BridgeHarness;
let project: string;
beforeAll(async () => {
  project = mkdtempSync(path.join(tmpdir(), 'ocb-mission-'));
  mkdirSync(path.join(project, 'src'));
  writeFileSync(
    path.join(project, 'src', 'config.ts'),
    'export const PORT = 4000;\nexport const HOST = "127.0.0.1";\n',
  );
  bridge = await startBridge({ project });
});
afterAll(async () => {
  await bridge.close();
  rmSync(project, { recursive: true, force: true });
});

const handoff = (mission: Record<string, unknown>) =>
  `Please investigate.\n<OSS_HANDOFF_JSON>\n${JSON.stringify({ schema_version: 'oss_agent_mission.v1', mission_id: 'smoke-1', tier: 'A3', objective: 'Which port does the server use?', allowed_paths: ['src/config.ts'], allowed_tool_classes: ['read', 'search'], required_outputs: ['findings'], ...mission })}\n</OSS_HANDOFF_JSON>`;

describe('mission smoke', () => {
  it('runs an A3 mission end to end and answers COMPLETE', async () => {
    bridge.mock.script(
      reply().toolCall('read_file', { path: 'src/config.ts' }),
      reply().toolCall('submit_report', {
        status: 'COMPLETE',
        summary: 'The server listens on port 4000.',
        findings: [{ claim: 'PORT is 4000', evidence_refs: ['file:src/config.ts#L1-L1'] }],
        confidence: 'HIGH',
      }),
    );
    const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL });
    const stream = client.responses.stream({ model: 'mission-a3-kimi', input: handoff({}) });
    const commentary: string[] = [];
    stream.on('response.reasoning_summary_text.delta', (event) => commentary.push(event.delta));
    const final = await stream.finalResponse();
    expect(final.output_text.split('\n')[0]).toBe('Status: COMPLETE');
    expect(final.output_text).toContain('evidence: file:src/config.ts#L1-L1');
    expect(commentary[0]).toMatch(/^Mission smoke-1 \(A3\) started on kimi-k2\.6/);
    expect(commentary).toContain("I'm reading src/config.ts.");
    expect(commentary.at(-1)).toMatch(/^Mission ended COMPLETE/);
  });
});

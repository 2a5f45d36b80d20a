import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { reply } from '../../src/demo/index.js';
import { validateMission } from '../../src/mission/index.js';
import { CommentaryChannel } from '../../src/runtime/commentary-channel.js';
import { EvidenceLedger } from '../../src/runtime/evidence-ledger.js';
import { createPathScope } from '../../src/runtime/path-scope.js';
import { runTool } from '../../src/runtime/tools/registry.js';
import { type ToolContext, type ToolObservation } from '../../src/runtime/tools/types.js';
import { ToolDispatcher } from '../../src/runtime/tool-dispatcher.js';
import type { ToolSpec } from '../../src/runtime/tools/types.js';
import { BRIDGE_KEY, startBridge } from '../support/bridge-harness.js';
import { handoff } from '../support/mission-fixtures.js';

/**
 * Issue 9, High #1: a named pipe in an allowed root hung `read_file` (it was opened before its
 * type was checked, and the open blocks until a writer appears), and the mission then ignored
 * its deadline. Special files are refused before any open; a tool that does not return is cut
 * off at the mission deadline by the dispatcher.
 */

let root: string;

function context(signal: AbortSignal = new AbortController().signal): ToolContext {
  const scope = createPathScope({
    projectRoot: root,
    allowedPaths: [],
    allowedRoots: ['src/'],
    forbiddenRoots: [],
    criticalRoots: [],
    criticalReadAllowed: false,
    criticalReason: null,
  });
  return { scope, projectRoot: root, signal, limits: { searchTimeoutMs: 20_000 } };
}

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'special-files-')));
  mkdirSync(path.join(root, 'src', 'pipes'), { recursive: true });
  writeFileSync(path.join(root, 'src', 'app.ts'), 'export const needle = 1;\n');
  writeFileSync(path.join(root, 'src', 'pipes', 'real.ts'), 'export const needle = 2;\n');
  execFileSync('mkfifo', [path.join(root, 'src', 'pipe.fifo')]);
  execFileSync('mkfifo', [path.join(root, 'src', 'pipes', 'inner.fifo')]);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('special files are refused before they are opened (issue 9 High #1)', () => {
  it('read_file on a named pipe returns not_a_regular_file at once', async () => {
    const result = await runTool('read_file', { path: 'src/pipe.fifo' }, context());
    expect(result.ok).toBe(false);
    expect(result.code).toBe('not_a_regular_file');
    expect(result.text).toContain('named pipe');
  });

  it('search_text naming a pipe, or walking past pipes, never blocks', async () => {
    const named = await runTool(
      'search_text',
      { pattern: 'needle', path: 'src/pipe.fifo' },
      context(),
    );
    expect(named.ok).toBe(true);
    expect(named.matches).toBe(0);
    const walked = await runTool('search_text', { pattern: 'needle', path: 'src' }, context());
    expect(walked.matches).toBe(2);
  });

  it('list_dir on a pipe says what it is, and lists pipes as special files', async () => {
    const onPipe = await runTool('list_dir', { path: 'src/pipe.fifo' }, context());
    expect(onPipe.code).toBe('not_a_directory');
    expect(onPipe.text).toContain('named pipe');
    const listing = await runTool('list_dir', { path: 'src/pipes' }, context());
    expect(listing.text).toContain('inner.fifo (special file)');
  });
});

describe('the dispatcher ends a tool that does not return at the mission deadline (issue 9 High #1)', () => {
  it('answers tool_interrupted when the deadline fires, without waiting for the tool', async () => {
    // A tool that never settles stands for any uninterruptible system call.
    const hanging: ToolSpec = {
      name: 'read_file',
      toolClass: 'read',
      description: 'never returns',
      schema: z.object({ path: z.string() }),
      parameters: { type: 'object' },
      execute: () => new Promise<ToolObservation>(() => undefined),
    };
    const mission = validateMission({
      schema_version: 'oss_agent_mission.v1',
      mission_id: 'hang-1',
      tier: 'A3',
      objective: 'Does a hanging tool end at the deadline?',
      allowed_roots: ['src/'],
      allowed_tool_classes: ['read'],
      required_outputs: ['findings'],
    }).mission;
    const events: { type: string; payload: Record<string, unknown> }[] = [];
    const record = (type: string, _source: string, payload: Record<string, unknown>) => {
      events.push({ type, payload });
      return Promise.resolve();
    };
    const deadline = new AbortController();
    const dispatcher = new ToolDispatcher(
      mission,
      context().scope,
      new EvidenceLedger(),
      {
        toolBudget: 10,
        maxFiles: 10,
        maxObservationBytes: 1_000_000,
        maxDuplicates: 3,
        maxLowInformation: 5,
      },
      record,
      new CommentaryChannel({
        mode: 'off',
        maxEvents: 10,
        maxChars: 200,
        record: () => Promise.resolve(),
      }),
      deadline.signal,
      [hanging],
    );
    const pending = dispatcher.run('read_file', { path: 'src/app.ts' }, 'model');
    setTimeout(() => deadline.abort(new DOMException('mission deadline', 'TimeoutError')), 50);
    const outcome = await pending;
    expect(outcome.text).toContain('did not finish before the mission deadline');
    const completed = events.find((event) => event.type === 'tool.completed');
    expect(completed?.payload['summary']).toBe('read_file failed: tool_interrupted.');
  });
});

describe('a mission whose model reads a named pipe finishes (issue 9 High #1)', () => {
  it('refuses the pipe and completes on the next read', async () => {
    const bridge = await startBridge({ project: root, env: { UPSTREAM_RETRIES: '0' } });
    try {
      bridge.mock.script(
        reply().toolCall('read_file', { path: 'src/pipe.fifo' }),
        reply().toolCall('read_file', { path: 'src/app.ts' }),
        reply().toolCall('submit_report', {
          status: 'COMPLETE',
          summary: 'needle is 1.',
          findings: [{ claim: 'needle is 1', evidence_refs: ['file:src/app.ts#L1-L1'] }],
          confidence: 'HIGH',
          uncertainties: [],
          caveats: [],
        }),
      );
      const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
      const response = await client.responses.create({
        model: 'mission-a3-kimi',
        input: handoff({ mission_id: 'fifo-1', objective: 'What is needle?' }),
      });
      expect(response.output_text.split('\n')[0]).toBe('Status: COMPLETE');
      expect(JSON.stringify(bridge.mock.requests[1]?.body)).toContain('is a named pipe');
    } finally {
      await bridge.close();
    }
  });
});

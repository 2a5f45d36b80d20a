import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoResponder } from '../../src/demo/index.js';
import { startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import {
  a5Mission,
  BUG,
  FIX,
  handoffText,
  makeDiscountRepo,
  workspaceHash,
} from '../support/implementation-lane.js';
import { removeDir } from '../integration/cli-harness.js';
import {
  CODEX_TEST_TIMEOUT_MS,
  agentMessages,
  describeRun,
  makeCodexHome,
  removeCodexHome,
  runCodex,
} from './support/codex-runner.js';

/**
 * The real Codex CLI delegates an A5 fix to mission-a5-deepseek through the bridge; the demo
 * implementer plays the model. Codex's final message is the runtime's answer: the status, the
 * review packet with the diff, and the promote command; the main workspace is untouched.
 */

let bridge: BridgeHarness;
let project: string;
let codexHome: string;

beforeAll(async () => {
  project = makeDiscountRepo();
  bridge = await startBridge({ project, mock: { responder: demoResponder } });
  codexHome = makeCodexHome();
});

afterAll(async () => {
  await bridge?.close();
  removeCodexHome(codexHome);
  removeDir(project);
});

describe('Codex runs an A5 implementation mission through the bridge', () => {
  it(
    'answers Status: VERIFIED with the review packet, the diff and the promote command',
    async () => {
      const before = workspaceHash(project);
      const missionId = `codex-a5-${Date.now()}`;
      const run = await runCodex({
        baseURL: bridge.baseURL,
        model: 'mission-a5-deepseek',
        prompt: handoffText(
          a5Mission(missionId, {
            verification_policy: {
              allowed_commands: [['node', '--test', 'test/discount.test.mjs']],
              timeout_seconds: 60,
            },
          }),
        ),
        cwd: project,
        codexHome,
        timeoutMs: CODEX_TEST_TIMEOUT_MS,
      });
      expect(run.exitCode, describeRun(run)).toBe(0);
      const answers = agentMessages(run);
      expect(answers, describeRun(run)).toHaveLength(1);
      const answer = run.lastMessage ?? '';
      expect(answer.split('\n')[0], answer).toBe('Status: VERIFIED');
      expect(answer).toContain('Review packet');
      expect(answer).toContain(`-  ${BUG}`);
      expect(answer).toContain(`+  ${FIX}`);
      expect(answer).toContain(`Promote: codex-oss promote ${missionId}`);

      const missionDir = path.join(project, '.codex-oss', 'missions', missionId);
      expect(readFileSync(path.join(missionDir, 'patch.diff'), 'utf8')).toContain(`+  ${FIX}`);
      expect(workspaceHash(project)).toBe(before);
      const worktrees = path.join(project, '.codex-oss', 'worktrees');
      expect(existsSync(worktrees) ? readdirSync(worktrees) : []).toEqual([]);
    },
    CODEX_TEST_TIMEOUT_MS + 30_000,
  );
});

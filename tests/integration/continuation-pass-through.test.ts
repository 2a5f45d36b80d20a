import { appendFileSync, rmSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/index.js';
import { loadConfig } from '../../src/config/index.js';
import { reply, startMockUpstream, type MockUpstream } from '../../src/demo/index.js';
import {
  buildDelegatedMission,
  delegationRequestSchema,
  runDelegatedMission,
} from '../../src/delegation/index.js';
import { readEventLog, runPaths } from '../../src/events/index.js';
import { createLogger } from '../../src/log/index.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

/**
 * An MCP (or `delegate`) continuation without paths of its own reads the earlier run once: the
 * runtime verifies its log for the scope (`continuationScope`) and admission uses that same
 * verified run instead of reading and verifying the log again. The composition is the one
 * `mcp-server.ts` `delegate()` uses.
 */

let fixture: FixtureProject;
let mock: MockUpstream;
let services: ReturnType<typeof createServices>;
beforeAll(async () => {
  fixture = createFixtureProject();
  mock = await startMockUpstream();
  const config = loadConfig({
    cwd: fixture.root,
    env: {
      UPSTREAM_BASE: mock.baseUrl,
      OPENCODE_GO_API_KEY: 'sk-upstream-test-key',
      CODEX_OSS_PROJECT: fixture.root,
      LOG_LEVEL: 'silent',
      UPSTREAM_RETRIES: '0',
    },
  });
  services = createServices({ config, logger: createLogger('silent') });
});
afterAll(async () => {
  await services.close();
  await mock.close();
  rmSync(path.dirname(fixture.root), { recursive: true, force: true });
});

const report = (claim: string) =>
  reply().toolCall('submit_report', {
    status: 'COMPLETE',
    summary: 'The server listens on 127.0.0.1:4000.',
    findings: [{ claim, evidence_refs: ['file:src/config.ts#L2-L3'] }],
    files_inspected: ['src/config.ts'],
    uncertainties: [],
    caveats: [],
    confidence: 'HIGH',
    // A delegated mission asks for every output (build-delegated-mission.ts).
    escalation_recommendation: 'None.',
  });

async function earlierRun(missionId: string): Promise<{ runId: string; head: string }> {
  mock.reset();
  mock.script(
    reply().toolCall('read_file', { path: 'src/config.ts' }),
    report('PORT is 4000 and HOST is 127.0.0.1'),
  );
  const alias = services.registry.resolve('mission-a3-kimi');
  const outcome = await services.missions.execute({
    userTexts: [handoff({ mission_id: missionId })],
    model: 'mission-a3-kimi',
    missionAlias: alias.lane === 'managed' ? alias.mission : undefined,
    signal: new AbortController().signal,
  });
  expect(outcome.status).toBe('COMPLETE');
  expect(mock.requests).toHaveLength(2);
  const { events } = await readEventLog(runPaths(fixture.root, outcome.runId).logPath);
  return { runId: outcome.runId, head: events.at(-1)?.hash ?? '' };
}

/** What the MCP server does for `opencode` with a continuation_id and no paths. */
async function delegate(continuationId: string) {
  const args = delegationRequestSchema.parse({
    prompt: 'Is the port still 4000?',
    continuation_id: continuationId,
  });
  const earlierScope = await services.missions.continuationScope(continuationId);
  return buildDelegatedMission(args, {
    projectRoot: fixture.root,
    registry: services.registry,
    earlierScope,
  });
}

describe('a continuation reads and verifies the earlier log once', () => {
  it('admission uses the run continuationScope verified, not a second read of its log', async () => {
    const earlier = await earlierRun('pass-earlier');
    const built = await delegate('pass-earlier');
    expect(built.continuation).toMatchObject({ missionId: 'pass-earlier', runId: earlier.runId });

    // The log changes after the one read: a torn line now makes it fail verification. A second
    // read at admission would refuse the continuation; the run verified above is used instead.
    const logPath = runPaths(fixture.root, earlier.runId).logPath;
    appendFileSync(logPath, '{"schema":"ocb.event.v1","torn');
    try {
      mock.script(report('PORT is still 4000 and HOST 127.0.0.1'));
      const outcome = await runDelegatedMission(services.missions, built, {
        signal: new AbortController().signal,
      });
      expect(outcome.status).toBe('COMPLETE');
      const { events } = await readEventLog(runPaths(fixture.root, outcome.runId).logPath);
      // The link pins the log state that was verified.
      expect(events[0]?.payload['continues']).toEqual({
        mission_id: 'pass-earlier',
        run_id: earlier.runId,
        status: 'COMPLETE',
        head_hash: earlier.head,
      });

      // Without the loaded run, admission reads the log again and finds the torn line.
      mock.script(report('PORT is still 4000 and HOST 127.0.0.1'));
      const reread = await runDelegatedMission(
        services.missions,
        {
          // A new id: the same one would be answered from the first run (idempotency).
          mission: { ...built.mission, mission_id: 'pass-reread' },
          modelAlias: built.modelAlias,
          missionAlias: built.missionAlias,
        },
        { signal: new AbortController().signal },
      );
      expect(reread.status).toBe('FAILED');
      expect(reread.finalText).toContain('continuation_refused');
      expect(reread.finalText).toContain('a torn last line');
    } finally {
      // Leave the earlier log as it was for any later reader.
      const { completeBytes } = await readEventLog(logPath);
      truncateSync(logPath, completeBytes);
    }
  });

  it('a loaded run of another mission is not used: admission loads the one the mission names', async () => {
    await earlierRun('pass-a');
    await earlierRun('pass-b');
    const built = await delegate('pass-a');
    const other = (await services.missions.continuationScope('pass-b')).run;
    mock.script(report('PORT is still 4000 and HOST 127.0.0.1'));
    const outcome = await runDelegatedMission(
      services.missions,
      { ...built, continuation: other },
      { signal: new AbortController().signal },
    );
    expect(outcome.status).toBe('COMPLETE');
    const { events } = await readEventLog(runPaths(fixture.root, outcome.runId).logPath);
    expect((events[0]?.payload['continues'] as { mission_id: string }).mission_id).toBe('pass-a');
  });
});

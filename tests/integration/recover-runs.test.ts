import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import {
  auditMission,
  projectionDir,
  readEventLog,
  reduceRunRecord,
} from '../../src/events/index.js';
import { createLogger } from '../../src/log/index.js';
import { recoverRuns } from '../../src/runtime/recover-runs.js';
import { openRunIndex } from '../../src/store/index.js';
import { BRIDGE_KEY, startBridge } from '../support/bridge-harness.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

/**
 * Issue 9, Medium #5: after missions on a full disk and a restart, a torn run was never closed
 * (recovery read only runs already in SQLite), a completed run's projections were missing and
 * not re-rendered, and the index held 3 of 13 runs. Recovery now scans the run folders.
 */

let fixture: FixtureProject;
const missions = ['rec-1', 'rec-2', 'rec-3'];

beforeAll(async () => {
  fixture = createFixtureProject();
  const bridge = await startBridge({ project: fixture.root });
  try {
    for (const missionId of missions) {
      bridge.mock.reset();
      bridge.mock.script(
        reply().toolCall('read_file', { path: 'src/config.ts' }),
        reply().toolCall('submit_report', {
          status: 'COMPLETE',
          summary: 'The port is 4000.',
          findings: [{ claim: 'PORT is 4000', evidence_refs: ['file:src/config.ts#L2-L2'] }],
          confidence: 'HIGH',
          uncertainties: [],
          caveats: [],
        }),
      );
      const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
      await client.responses.create({
        model: 'mission-a3-kimi',
        input: handoff({ mission_id: missionId }),
      });
    }
  } finally {
    await bridge.close();
  }
}, 60_000);
afterAll(() => rmSync(path.dirname(fixture.root), { recursive: true, force: true }));

describe('startup recovery scans the run folders (issue 9 Medium #5)', () => {
  it('closes a torn run the index never knew, re-renders missing projections, rebuilds the index', async () => {
    const state = path.join(fixture.root, '.codex-oss');
    const runIds = readdirSync(path.join(state, 'runs')).sort();
    expect(runIds).toHaveLength(3);
    const logOf = (runId: string) => path.join(state, 'runs', runId, 'events.jsonl');
    const records = await Promise.all(
      runIds.map(async (runId) => reduceRunRecord((await readEventLog(logOf(runId))).events)),
    );
    // 1. The index is lost (the disk filled while it was written).
    rmSync(path.join(state, 'state'), { recursive: true, force: true });
    // 2. A completed run's projections are gone.
    const [first, second] = records;
    rmSync(projectionDir(fixture.root, first!), { recursive: true, force: true });
    // 3. A run's log lost its last lines and ends in a torn write.
    const lines = readFileSync(logOf(runIds[2]!), 'utf8').trimEnd().split('\n');
    const kept = lines.filter(
      (line) => !line.includes('"run.completed"') && !line.includes('"report.validated"'),
    );
    writeFileSync(logOf(runIds[2]!), `${kept.join('\n')}\n{"schema":"mission_event.v1","seq":`);

    const index = openRunIndex(fixture.root);
    try {
      const report = await recoverRuns({
        projectRoot: fixture.root,
        index,
        logger: createLogger('silent'),
        isActive: () => false,
      });
      expect(report.closed).toEqual([runIds[2]]);
      expect(report.projectionsRendered).toEqual(expect.arrayContaining([runIds[0], runIds[2]]));
      expect(report.indexRowsRebuilt.sort()).toEqual(runIds);
      expect(index.listRuns({ limit: 10 })).toHaveLength(3);
      expect(index.getRun(runIds[2]!)).toMatchObject({ state: 'completed', reason: 'interrupted' });
      expect(index.getRun(runIds[1]!)?.status).toBe(second?.status);
    } finally {
      index.close();
    }
    for (const missionId of missions) {
      const audit = await auditMission(fixture.root, missionId);
      expect(audit.ok, `${missionId}: ${JSON.stringify(audit)}`).toBe(true);
    }
  }, 60_000);
});

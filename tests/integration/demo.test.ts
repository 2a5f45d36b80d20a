import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

// `npm run demo` is the README's first command; this runs the same built script (npm test builds first).
describe('npm run demo', () => {
  it('streams a raw-lane answer, then runs an A3 investigation that the runtime validates', async () => {
    const script = path.join(root, 'dist', 'demo', 'run-demo.js');
    expect(existsSync(script), 'dist/demo/run-demo.js is missing: run npm run build').toBe(true);
    const { stdout } = await run(process.execPath, [script], { cwd: root, timeout: 60_000 });
    expect(stdout).toContain('Demo model here. You said: "Say hello to the opencode-bridge demo."');
    expect(stdout).toContain('The runtime refused read_file (path_denied).');
    expect(stdout).toMatch(/^Status: COMPLETE$/m);
    expect(stdout).toContain('evidence: file:src/config.ts#L1-L9');
    expect(stdout).not.toContain('demo-password');
    const projections = /projections: (\S+)\//.exec(stdout)?.[1];
    expect(projections && existsSync(path.join(projections, 'report.json'))).toBe(true);
  }, 90_000);
});

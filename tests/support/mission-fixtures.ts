import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A fake upstream key planted in the fixture; it must never leave the project unredacted. */
export const PLANTED_SECRET = 'sk-live-PLANTEDsecretVALUE0123456789abcdefXYZ';

export interface FixtureProject {
  readonly root: string;
  /** A directory outside the project that a symlink points into. */
  readonly outside: string;
}

/** A small repo: code, a planted secret, a symlink out of the project, a critical root. */
export function createFixtureProject(): FixtureProject {
  const base = mkdtempSync(path.join(tmpdir(), 'ocb-fixture-'));
  const root = path.join(base, 'project');
  const outside = path.join(base, 'outside');
  mkdirSync(path.join(root, 'src', 'auth'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'private.txt'), 'PRIVATE-OUTSIDE-CONTENT\n');
  writeFileSync(
    path.join(root, 'src', 'config.ts'),
    [
      '// Server settings',
      'export const PORT = 4000;',
      'export const HOST = "127.0.0.1";',
      'export const RETRIES = 3;',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(root, 'src', 'server.ts'),
    [
      'import { HOST, PORT } from "./config";',
      '',
      'export function listen() {',
      '  return `${HOST}:${PORT}`;',
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(root, 'src', 'keys.ts'),
    `// deployment settings\nexport const settings = "OPENCODE_GO_API_KEY=${PLANTED_SECRET}";\n`,
  );
  writeFileSync(path.join(root, 'src', 'auth', 'token.ts'), 'export const TOKEN_TTL = 3600;\n');
  writeFileSync(path.join(root, '.env'), `OPENCODE_GO_API_KEY=${PLANTED_SECRET}\n`);
  symlinkSync(outside, path.join(root, 'src', 'escape'));
  execFileSync('git', ['init', '-q'], { cwd: root });
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '-A'], {
    cwd: root,
  });
  execFileSync(
    'git',
    ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'fixture'],
    { cwd: root },
  );
  return { root, outside };
}

export function handoff(
  mission: Record<string, unknown>,
  preface = 'Investigate this for me.',
): string {
  const body = {
    schema_version: 'oss_agent_mission.v1',
    tier: 'A3',
    objective: 'Which port and host does the server listen on?',
    allowed_roots: ['src/'],
    allowed_tool_classes: ['read', 'search', 'list'],
    required_outputs: ['findings', 'confidence'],
    ...mission,
  };
  return `${preface}\n<OSS_HANDOFF_JSON>\n${JSON.stringify(body, null, 2)}\n</OSS_HANDOFF_JSON>`;
}

/** Every file under a directory, recursively, as [relative path, contents]. */
export function readTree(dir: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current)) {
      const full = path.join(current, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out.push([path.relative(dir, full), readFileSync(full, 'utf8')]);
    }
  };
  walk(dir);
  return out;
}

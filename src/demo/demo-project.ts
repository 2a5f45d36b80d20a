import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageRoot, scrubbedChildEnv } from '../config/index.js';

/**
 * A fresh copy of examples/demo-repo, so every run starts clean and the repo stays untouched;
 * made a git repository so the implementation lane works in a real worktree (a plain copy when
 * git is missing). `npm run demo` and `codex-oss smoke` both start from it.
 */
export function prepareDemoProject(label = 'opencode-bridge-demo-'): string {
  const project = path.join(mkdtempSync(path.join(tmpdir(), label)), 'demo-repo');
  cpSync(path.join(packageRoot(), 'examples', 'demo-repo'), project, { recursive: true });
  // Stored as dot-env so the repository never tracks a .env; the demo needs one to refuse.
  renameSync(path.join(project, 'dot-env'), path.join(project, '.env'));
  writeFileSync(path.join(project, '.gitignore'), '.env\n.codex-oss/\n');
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: project,
      stdio: 'ignore',
      env: scrubbedChildEnv({
        GIT_AUTHOR_NAME: 'demo',
        GIT_AUTHOR_EMAIL: 'demo@example.invalid',
        GIT_COMMITTER_NAME: 'demo',
        GIT_COMMITTER_EMAIL: 'demo@example.invalid',
      }),
    });
  try {
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'demo repository');
  } catch {
    // No git here: the implementation lane works on a plain copy instead.
  }
  return project;
}

/** The demo repository's known answers: what the demo model is scripted to find and fix. */
export const DEMO_A3_OBJECTIVE =
  'Which port does the service listen on by default, and how is DEFAULT_PORT overridden?';
export const DEMO_A5_TARGET = path.join('src', 'discount.mjs');
export const DEMO_A5_TEST = path.join('test', 'discount.test.mjs');
export const DEMO_A5_OBJECTIVE =
  'applyDiscount in src/discount.mjs subtracts the percentage instead of applying it; fix it so test/discount.test.mjs passes.';

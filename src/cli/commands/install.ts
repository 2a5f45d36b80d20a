import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot, PROJECT_ENV_FILE } from '../../config/index.js';
import type { CliIO, Command } from '../cli-io.js';
import { parseFlags } from '../parse-flags.js';
import { projectRoot } from '../project-root.js';

const providerBlock = `
[model_providers.opencode_bridge]
name = "OpenCode Go bridge"
base_url = "http://127.0.0.1:4000/v1"
env_key = "OPENCODE_BRIDGE_KEY"
wire_api = "responses"
request_max_retries = 2
stream_max_retries = 2
stream_idle_timeout_ms = 300000
`;

export const installCommand: Command = {
  name: 'install',
  summary: 'set a project up for the bridge: role files, provider block, env file, .gitignore',
  usage: `Usage: codex-oss install [--project PATH] [--force]

Copies the role files (agents/*.toml) into <project>/.codex/agents/, adds the opencode_bridge
provider block to <project>/.codex/config.toml if it has none, creates
<project>/.codex-oss/env/opencode-go.env (mode 0600) from the example, and ignores .codex-oss/ in
<project>/.gitignore. Existing files are kept unless --force. It never changes which provider your
sessions use: that is your choice (see config.toml.example).
`,
  run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: { project: { type: 'string' }, force: { type: 'boolean', default: false } },
      }),
    );
    const root = projectRoot(values.project, io);
    if (!existsSync(root)) {
      io.stderr.write(`The project ${root} does not exist.\n`);
      return Promise.resolve(1);
    }
    const done: string[] = [];
    const kept: string[] = [];
    const source = packageRoot();

    const agentsDir = path.join(root, '.codex', 'agents');
    mkdirSync(agentsDir, { recursive: true });
    for (const file of readdirSync(path.join(source, 'agents')).filter((name) =>
      name.endsWith('.toml'),
    )) {
      const target = path.join(agentsDir, file);
      if (existsSync(target) && !values.force) kept.push(relative(root, target));
      else {
        copyFileSync(path.join(source, 'agents', file), target);
        done.push(relative(root, target));
      }
    }

    const codexConfig = path.join(root, '.codex', 'config.toml');
    const current = existsSync(codexConfig) ? readFileSync(codexConfig, 'utf8') : '';
    if (/^\[model_providers\.opencode_bridge\]/m.test(current))
      kept.push(`${relative(root, codexConfig)} (provider block already there)`);
    else {
      writeFileSync(
        codexConfig,
        `${current}${current === '' || current.endsWith('\n') ? '' : '\n'}${providerBlock}`,
      );
      done.push(`${relative(root, codexConfig)} (provider block added)`);
    }

    const envFile = path.join(root, PROJECT_ENV_FILE);
    mkdirSync(path.dirname(envFile), { recursive: true });
    if (existsSync(envFile) && !values.force) kept.push(relative(root, envFile));
    else {
      copyFileSync(path.join(source, 'opencode-go.env.example'), envFile);
      chmodSync(envFile, 0o600);
      done.push(`${relative(root, envFile)} (mode 0600; put OPENCODE_GO_API_KEY in it)`);
    }

    const gitignore = path.join(root, '.gitignore');
    const ignored = existsSync(gitignore) ? readFileSync(gitignore, 'utf8') : '';
    if (/^\/?\.codex-oss\/?$/m.test(ignored)) kept.push('.gitignore (already ignores .codex-oss/)');
    else {
      writeFileSync(
        gitignore,
        `${ignored}${ignored === '' || ignored.endsWith('\n') ? '' : '\n'}# opencode-bridge state, logs and keys\n.codex-oss/\n`,
      );
      done.push('.gitignore (.codex-oss/ ignored)');
    }

    report(io, root, done, kept);
    return Promise.resolve(0);
  },
};

function relative(root: string, file: string): string {
  return path.relative(root, file);
}

function report(io: CliIO, root: string, done: string[], kept: string[]): void {
  const lines = [`Installed opencode-bridge into ${root}`];
  for (const item of done) lines.push(`  + ${item}`);
  for (const item of kept) lines.push(`  = ${item} (kept; --force to overwrite)`);
  lines.push(
    '',
    'Next:',
    `  1. put your key in ${PROJECT_ENV_FILE} (OPENCODE_GO_API_KEY=...)`,
    `  2. codex-oss up --daemon --project ${root}`,
    '  3. export OPENCODE_BRIDGE_KEY=sk-local-codex-bridge, then codex-oss doctor',
  );
  io.stdout.write(`${lines.join('\n')}\n`);
}

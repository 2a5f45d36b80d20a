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
import {
  agentsBlock,
  CodexConfigError,
  desiredMcpBlock,
  mcpServerTable,
  mcpSyncSeconds,
  mergeAgentsBlock,
  mergeMcpBlock,
  noRecursiveCodexRules,
  packagedRoleFiles,
  parseCodexToml,
  RULES_FILE,
} from '../project-setup.js';

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
  summary:
    'set a project up for the bridge: role files, provider and MCP blocks, AGENTS.md, rules, env file',
  usage: `Usage: codex-oss install [--project PATH] [--mcp] [--force]

Copies the role files (agents/*.toml) into <project>/.codex/agents/, adds the opencode_bridge
provider block to <project>/.codex/config.toml if it has none, writes the delegation block into
<project>/AGENTS.md (between <!-- codex-oss:start --> and <!-- codex-oss:end -->; running install
again replaces only that block), writes <project>/.codex/rules/no-recursive-codex.rules, creates
<project>/.codex-oss/env/opencode-go.env (mode 0600) from the example, and ignores .codex-oss/ in
<project>/.gitignore. Existing role, rule and env files are kept unless --force. It never changes
which provider your sessions use: that is your choice (see config.toml.example).

  --mcp     also add [mcp_servers.opencode_bridge] to <project>/.codex/config.toml, running
            \`codex-oss mcp --project <project>\` with a tool_timeout_sec above MCP_SYNC_SECONDS.
            Other servers, keys and comments in the file are kept; re-running refreshes only the
            keys the bridge needs.
`,
  run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: {
          project: { type: 'string' },
          force: { type: 'boolean', default: false },
          mcp: { type: 'boolean', default: false },
        },
      }),
    );
    const root = projectRoot(values.project, io);
    if (!existsSync(root)) {
      io.stderr.write(`The project ${root} does not exist.\n`);
      return Promise.resolve(1);
    }
    // Everything that can be refused is worked out before the first write, so a bad config.toml
    // or AGENTS.md leaves the project exactly as it was.
    let planned: PlannedEdits;
    try {
      planned = planEdits(root, values.mcp, io);
    } catch (error) {
      if (!(error instanceof CodexConfigError)) throw error;
      io.stderr.write(`install changed nothing: ${error.message}\nFix: ${error.fix}\n`);
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

    const codexConfig = planned.codexConfig;
    if (planned.configText !== planned.configBefore) writeFileSync(codexConfig, planned.configText);
    done.push(...planned.configDone);
    kept.push(...planned.configKept);

    const agentsFile = path.join(root, 'AGENTS.md');
    if (planned.agents.outcome === 'unchanged')
      kept.push('AGENTS.md (delegation block up to date)');
    else {
      writeFileSync(agentsFile, planned.agents.text);
      done.push(`AGENTS.md (delegation block ${planned.agents.outcome})`);
    }

    const rulesFile = path.join(root, RULES_FILE);
    const rules = noRecursiveCodexRules();
    const currentRules = existsSync(rulesFile) ? readFileSync(rulesFile, 'utf8') : undefined;
    if (currentRules === rules) kept.push(`${RULES_FILE} (up to date)`);
    else if (currentRules !== undefined && !values.force)
      kept.push(
        `${RULES_FILE} (differs from the bridge's; doctor checks it still forbids codex exec)`,
      );
    else {
      mkdirSync(path.dirname(rulesFile), { recursive: true });
      writeFileSync(rulesFile, rules);
      done.push(`${RULES_FILE} (workers may not run codex exec)`);
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

interface PlannedEdits {
  readonly codexConfig: string;
  readonly configBefore: string;
  readonly configText: string;
  readonly configDone: string[];
  readonly configKept: string[];
  readonly agents: ReturnType<typeof mergeAgentsBlock>;
}

function planEdits(root: string, withMcp: boolean, io: CliIO): PlannedEdits {
  const codexConfig = path.join(root, '.codex', 'config.toml');
  const name = relative(root, codexConfig);
  const before = existsSync(codexConfig) ? readFileSync(codexConfig, 'utf8') : '';
  parseCodexToml(before, codexConfig);
  const configDone: string[] = [];
  const configKept: string[] = [];
  let text = before;
  if (/^\[model_providers\.opencode_bridge\]/m.test(text))
    configKept.push(`${name} (provider block already there)`);
  else {
    text = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${providerBlock}`;
    configDone.push(`${name} (provider block added)`);
  }
  if (withMcp) {
    let sync: number;
    try {
      sync = mcpSyncSeconds(io.env);
    } catch (error) {
      throw new CodexConfigError(
        (error as Error).message,
        'unset it or set a whole number such as 45',
      );
    }
    const merged = mergeMcpBlock(text, codexConfig, desiredMcpBlock(root, sync));
    text = merged.text;
    if (merged.outcome === 'unchanged') configKept.push(`${name} (MCP server block up to date)`);
    else if (merged.outcome === 'added')
      configDone.push(`${name} ([mcp_servers.opencode_bridge] added)`);
    else
      configDone.push(
        `${name} ([mcp_servers.opencode_bridge] updated: ${merged.changes.join(', ')})`,
      );
  }
  const agentsFile = path.join(root, 'AGENTS.md');
  const agentsText = existsSync(agentsFile) ? readFileSync(agentsFile, 'utf8') : '';
  // The block mentions the MCP tools whenever the project has the server, so a later plain
  // `install` does not take that paragraph away again.
  const hasMcp = mcpServerTable(parseCodexToml(text, codexConfig)) !== undefined;
  const agents = mergeAgentsBlock(agentsText, agentsBlock(packagedRoleFiles(), hasMcp), agentsFile);
  return { codexConfig, configBefore: before, configText: text, configDone, configKept, agents };
}

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

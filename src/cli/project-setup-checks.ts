import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import type { DoctorCheck } from './commands/doctor.js';
import {
  agentsBlock,
  CodexConfigError,
  desiredMcpBlock,
  extractAgentsBlock,
  mcpBlockProblems,
  mcpServerTable,
  mcpSyncSeconds,
  MCP_SERVER_NAME,
  noRecursiveCodexRules,
  packagedRoleFiles,
  parseCodexToml,
  PROJECT_CODEX_CONFIG,
  RECURSIVE_CODEX_COMMANDS,
  RULES_FILE,
} from './project-setup.js';

const execFileAsync = promisify(execFile);

/**
 * doctor's view of what `codex-oss install` writes. A piece that is absent warns (the bridge also
 * works without a project install); a piece that is there but wrong fails, because Codex would act
 * on it. Every line names the command that puts it right.
 */
export async function projectSetupChecks(
  project: string,
  env: Readonly<Record<string, string | undefined>>,
  codexCommand: string | undefined,
): Promise<DoctorCheck[]> {
  const install = `codex-oss install --project ${project}`;
  return [
    roleFilesCheck(project, install),
    mcpBlockCheck(project, env),
    agentsMdCheck(project, install),
    await rulesCheck(project, codexCommand, install),
  ];
}

function roleFilesCheck(project: string, install: string): DoctorCheck {
  const name = 'project.role_files';
  const dir = path.join(project, '.codex', 'agents');
  const missing: string[] = [];
  const wrong: string[] = [];
  const roles = packagedRoleFiles();
  for (const role of roles) {
    const file = path.join(dir, role.file);
    if (!existsSync(file)) {
      missing.push(role.file);
      continue;
    }
    try {
      const parsed = parseToml(readFileSync(file, 'utf8'));
      if (parsed['name'] !== role.name || parsed['model'] !== role.model)
        wrong.push(
          `${role.file} (name/model ${JSON.stringify(parsed['name'])}/${JSON.stringify(parsed['model'])}, expected ${role.name}/${role.model})`,
        );
    } catch (error) {
      wrong.push(`${role.file} (not valid TOML: ${(error as Error).message.split('\n')[0] ?? ''})`);
    }
  }
  if (wrong.length > 0)
    return {
      name,
      status: 'fail',
      message: `${wrong.length} role file(s) in ${dir} do not match the bridge's: ${wrong.join('; ')}`,
      fix: `\`${install} --force\` rewrites them from the bridge's agents/`,
    };
  if (missing.length === roles.length)
    return {
      name,
      status: 'warn',
      message: `no role files in ${dir}, so Codex cannot spawn the OSS workers`,
      fix: `run \`${install}\``,
    };
  if (missing.length > 0)
    return {
      name,
      status: 'warn',
      message: `${missing.length} of ${roles.length} role files missing from ${dir}: ${missing.join(', ')}`,
      fix: `run \`${install}\` (it adds the missing ones and keeps the rest)`,
    };
  return {
    name,
    status: 'pass',
    message: `${roles.length} role files in ${dir} (${roles.map((role) => role.name).join(', ')})`,
    fix: '',
  };
}

function mcpBlockCheck(
  project: string,
  env: Readonly<Record<string, string | undefined>>,
): DoctorCheck {
  const name = 'project.mcp_block';
  const file = path.join(project, PROJECT_CODEX_CONFIG);
  const install = `codex-oss install --mcp --project ${project}`;
  if (!existsSync(file))
    return {
      name,
      status: 'warn',
      message: `${file} does not exist, so Codex in this project has no opencode_bridge MCP tools`,
      fix: `run \`${install}\``,
    };
  let sync: number;
  try {
    sync = mcpSyncSeconds(env);
  } catch (error) {
    return {
      name,
      status: 'fail',
      message: (error as Error).message,
      fix: 'unset MCP_SYNC_SECONDS or set it to a whole number such as 45',
    };
  }
  let table;
  try {
    table = mcpServerTable(parseCodexToml(readFileSync(file, 'utf8'), file));
  } catch (error) {
    if (!(error instanceof CodexConfigError)) throw error;
    return { name, status: 'fail', message: error.message, fix: error.fix };
  }
  if (table === undefined)
    return {
      name,
      status: 'warn',
      message: `${file} has no [mcp_servers.${MCP_SERVER_NAME}] block`,
      fix: `run \`${install}\``,
    };
  const desired = desiredMcpBlock(project, sync);
  const problems = mcpBlockProblems(table, desired, sync);
  if (problems.length > 0)
    return {
      name,
      status: 'fail',
      message: `[mcp_servers.${MCP_SERVER_NAME}] in ${file}: ${problems.join('; ')}`,
      fix: `run \`${install}\` (it rewrites only the keys the bridge needs)`,
    };
  return {
    name,
    status: 'pass',
    message: `[mcp_servers.${MCP_SERVER_NAME}] in ${file} runs codex-oss mcp for this project, tool_timeout_sec ${String(table['tool_timeout_sec'])} ≥ ${desired.tool_timeout_sec} (MCP_SYNC_SECONDS=${sync})`,
    fix: '',
  };
}

function agentsMdCheck(project: string, install: string): DoctorCheck {
  const name = 'project.agents_md';
  const file = path.join(project, 'AGENTS.md');
  if (!existsSync(file))
    return {
      name,
      status: 'warn',
      message: `${file} does not exist, so the parent session is not told how to delegate (fork_turns: "none")`,
      fix: `run \`${install}\``,
    };
  const text = readFileSync(file, 'utf8');
  // Checked on the whole file: an inherited example outside our block breaks a mission just the same.
  if (text.includes('<OSS_HANDOFF_JSON>'))
    return {
      name,
      status: 'fail',
      message: `${file} contains a literal <OSS_HANDOFF_JSON> example; every spawned agent inherits it and may send it as its task`,
      fix: 'delete the example from AGENTS.md; point at `codex-oss mission template --handoff` instead',
    };
  const block = extractAgentsBlock(text);
  if (block === undefined)
    return {
      name,
      status: 'warn',
      message: `${file} has no opencode-bridge delegation block (<!-- codex-oss:start --> … <!-- codex-oss:end -->)`,
      fix: `run \`${install}\` (it appends the block and keeps the rest of the file)`,
    };
  if (!block.includes('fork_turns: "none"'))
    return {
      name,
      status: 'fail',
      message: `the delegation block in ${file} does not say to spawn workers with fork_turns: "none"`,
      fix: `run \`${install}\` (it replaces only the block)`,
    };
  const current = [false, true].map((withMcp) => agentsBlock(packagedRoleFiles(), withMcp));
  if (!current.includes(block))
    return {
      name,
      status: 'warn',
      message: `the delegation block in ${file} differs from this bridge's (edited, or from another version)`,
      fix: `run \`${install}\` to refresh it (text outside the markers is kept)`,
    };
  return { name, status: 'pass', message: `${file} has the delegation block`, fix: '' };
}

async function rulesCheck(
  project: string,
  codexCommand: string | undefined,
  install: string,
): Promise<DoctorCheck> {
  const name = 'project.rules';
  const file = path.join(project, RULES_FILE);
  if (!existsSync(file))
    return {
      name,
      status: 'warn',
      message: `${file} does not exist, so nothing stops a worker from running codex exec`,
      fix: `run \`${install}\``,
    };
  const fix = `run \`${install} --force\` to rewrite it`;
  if (codexCommand === undefined) {
    // No Codex to evaluate it with: the bridge's own file is known good, anything else is unproven.
    const same = readFileSync(file, 'utf8') === noRecursiveCodexRules();
    return same
      ? { name, status: 'pass', message: `${file} is the bridge's rule file`, fix: '' }
      : {
          name,
          status: 'warn',
          message: `${file} differs from the bridge's and Codex is not installed to evaluate it`,
          fix: `install Codex so doctor can evaluate it, or ${fix}`,
        };
  }
  const allowed: string[] = [];
  for (const command of RECURSIVE_CODEX_COMMANDS) {
    try {
      const { stdout } = await execFileAsync(
        codexCommand,
        ['execpolicy', 'check', '--rules', file, ...command],
        { timeout: 15_000, encoding: 'utf8' },
      );
      const decision = (JSON.parse(stdout) as { decision?: unknown }).decision;
      if (decision !== 'forbidden')
        allowed.push(`${command.join(' ')} → ${typeof decision === 'string' ? decision : 'allow'}`);
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
      const reason = stderr
        .split('\n')
        .filter(
          (line) =>
            line.trim() !== '' && !/^\s*\d+: /.test(line) && !line.includes('Stack backtrace'),
        )
        .slice(0, 4)
        .join(' ');
      return {
        name,
        status: 'fail',
        message: `Codex cannot load ${file}: ${reason}`,
        fix,
      };
    }
  }
  if (allowed.length > 0)
    return {
      name,
      status: 'fail',
      message: `${file} does not forbid: ${allowed.join('; ')}`,
      fix,
    };
  return {
    name,
    status: 'pass',
    message: `${file}: codex execpolicy forbids ${RECURSIVE_CODEX_COMMANDS.length} recursive Codex commands`,
    fix: '',
  };
}

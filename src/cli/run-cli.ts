import { packageVersion } from '../config/index.js';
import { UsageError, type CliIO, type Command } from './cli-io.js';

/**
 * Dispatches `codex-oss <verb> [args]` and resolves to the exit code. It never calls process.exit,
 * so tests run verbs in-process; bin/codex-oss sets the exit code.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIO,
  given?: readonly Command[],
): Promise<number> {
  const [verb, ...rest] = argv;
  const commands = given ?? (await defaultCommands(verb));
  if (verb === undefined || verb === '--help' || verb === '-h') {
    io.stdout.write(generalHelp(commands));
    return 0;
  }
  if (verb === '--version' || verb === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (verb === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      io.stdout.write(generalHelp(commands));
      return 0;
    }
    const command = commands.find((candidate) => candidate.name === topic);
    if (command === undefined) return unknownVerb(topic, commands, io);
    io.stdout.write(command.usage);
    return 0;
  }

  const command = commands.find((candidate) => candidate.name === verb);
  if (command === undefined) return unknownVerb(verb, commands, io);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage);
    return 0;
  }
  try {
    return await command.run([...rest], io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`codex-oss ${command.name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    io.stderr.write(
      `codex-oss ${command.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` +
        'This is a bug in codex-oss; please report it with the command you ran.\n',
    );
    return 1;
  }
}

function unknownVerb(verb: string, commands: readonly Command[], io: CliIO): number {
  const close = commands.filter((command) => command.name.startsWith(verb.slice(0, 2)));
  io.stderr.write(
    `codex-oss: unknown command "${verb}".` +
      (close.length > 0
        ? ` Did you mean ${close.map((command) => `"${command.name}"`).join(' or ')}?`
        : '') +
      ' Run `codex-oss --help` for the list of commands.\n',
  );
  return 2;
}

function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 2;
  return (
    'Usage: codex-oss <command> [options]\n\n' +
    'opencode-bridge: a local Responses-API daemon that lets Codex hand bounded work to open-source models.\n\n' +
    'Commands:\n' +
    commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}\n`).join('') +
    '\nRun `codex-oss help <command>` (or `codex-oss <command> --help`) for its options.\n'
  );
}

/**
 * The verbs, loaded on demand. An MCP client spawns `codex-oss mcp` and waits for it before its
 * first turn (Codex gives an optional server about a second), so that verb skips loading all the
 * others.
 */
async function defaultCommands(verb: string | undefined): Promise<readonly Command[]> {
  if (verb === 'mcp') return [(await import('./commands/mcp.js')).mcpCommand];
  return (await import('./command-list.js')).commands;
}

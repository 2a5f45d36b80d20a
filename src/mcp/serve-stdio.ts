import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Readable, Writable } from 'node:stream';
import type { BridgeServices } from '../app/index.js';
import { createMcpServer } from './mcp-server.js';

export interface ServeStdioOptions {
  readonly services: BridgeServices;
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  /** Aborted by the CLI on SIGINT/SIGTERM: running missions are cancelled, then the server ends. */
  readonly signal?: AbortSignal;
}

/**
 * Serves MCP over stdio until the client goes away (stdin ends) or `signal` aborts. Missions
 * still running then are cancelled with a reason that says so, so their runs end recorded
 * rather than interrupted.
 */
export async function serveMcpStdio(options: ServeStdioOptions): Promise<void> {
  const { services } = options;
  const { server, board } = createMcpServer(services);
  const stdin = options.stdin ?? process.stdin;
  const transport = new StdioServerTransport(stdin, options.stdout ?? process.stdout);
  let finish: (why: string) => void = () => undefined;
  const ended = new Promise<string>((resolve) => (finish = resolve));
  transport.onclose = () => finish('The MCP client disconnected');
  // The SDK transport does not notice stdin ending by itself.
  stdin.once('end', () => finish('The MCP client closed stdin'));
  stdin.once('close', () => finish('The MCP client closed stdin'));
  const onSignal = () => finish('The MCP server was stopped (signal)');
  options.signal?.addEventListener('abort', onSignal, { once: true });
  await server.connect(transport);
  services.logger.info({ project: services.missions.projectRoot }, 'MCP server ready on stdio');
  const why = await ended;
  options.signal?.removeEventListener('abort', onSignal);
  await board.cancelAll(why, 10_000);
  await server.close().catch(() => undefined);
}

import { parseArgs } from 'node:util';

import { demoResponder } from './mock-demo-responder.js';
import { startMockUpstream } from './mock-upstream.js';

/**
 * Standalone demo model server: `node dist/demo/mock-upstream-cli.js --port 4010`.
 * Prints its base URL on stdout (one line, so scripts can read it) and serves until SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
  }
  const mock = await startMockUpstream({ host: values.host, port, responder: demoResponder });
  process.stdout.write(`${mock.baseUrl}\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    mock.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`mock upstream: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `mock upstream: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});

import { parseArgs } from 'node:util';
import type { Command } from '../cli-io.js';
import { resolveTarget } from '../bridge-target.js';
import { parseFlags } from '../parse-flags.js';
import { stopBridges } from '../stop-bridges.js';

export const stopCommand: Command = {
  name: 'stop',
  summary: 'stop the bridge on the port and the one in the project pid file',
  usage: `Usage: codex-oss stop [--port N] [--host H] [--project PATH]

Stops the bridge named by <project>/.codex-oss/run/bridge.pid and the bridge answering /health on
the port, even if that one serves another checkout. Sends SIGTERM, waits for in-flight requests
(BRIDGE_SHUTDOWN_DRAIN_SECONDS + 5 s), then SIGKILL. Exits 0 when no bridge is left running.
`,
  async run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: {
          port: { type: 'string' },
          host: { type: 'string' },
          project: { type: 'string' },
        },
      }),
    );
    const outcome = await stopBridges(resolveTarget(values, io), io);
    return outcome.survivors.length === 0 ? 0 : 1;
  },
};

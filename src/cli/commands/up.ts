import { parseArgs } from 'node:util';
import type { Command } from '../cli-io.js';
import { loadConfigOrReport } from '../load-cli-config.js';
import { parseFlags } from '../parse-flags.js';
import { runForeground, startDetachedDaemon } from '../start-daemon.js';

export const upCommand: Command = {
  name: 'up',
  summary: 'start the bridge (foreground; --daemon to run it in the background)',
  usage: `Usage: codex-oss up [--daemon] [--project PATH] [--port N] [--host H]

Starts the bridge on http://127.0.0.1:4000 (PROXY_HOST, PROXY_PORT) serving the project in
--project (CODEX_OSS_PROJECT, default: the current directory).

Foreground (default): logs JSON lines to stdout; Ctrl-C or SIGTERM finishes in-flight requests
(up to BRIDGE_SHUTDOWN_DRAIN_SECONDS) and exits 0; a second signal exits at once.

  --daemon        run in the background; returns once /health answers. Log:
                  <project>/.codex-oss/logs/bridge.log, pid: <project>/.codex-oss/run/bridge.pid
  --project PATH  the project the bridge serves
  --port N        listen port (default 4000)
  --host H        listen address (default 127.0.0.1)
`,
  async run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: {
          daemon: { type: 'boolean', default: false },
          project: { type: 'string' },
          port: { type: 'string' },
          host: { type: 'string' },
        },
      }),
    );
    const config = loadConfigOrReport(values, io);
    if (config === undefined) return 2;
    return values.daemon ? startDetachedDaemon(config, io) : runForeground(config, io);
  },
};

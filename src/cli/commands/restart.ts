import { parseArgs } from 'node:util';
import { computeSourceHash } from '../../config/index.js';
import type { Command } from '../cli-io.js';
import { bridgeBaseUrl, resolveTarget } from '../bridge-target.js';
import { probeBridge, reportedSourceHash } from '../bridge-probe.js';
import { loadConfigOrReport } from '../load-cli-config.js';
import { parseFlags } from '../parse-flags.js';
import { startDetachedDaemon } from '../start-daemon.js';
import { stopBridges } from '../stop-bridges.js';

export const restartCommand: Command = {
  name: 'restart',
  summary: 'stop whatever bridge holds the port, start a daemon, check it runs the code on disk',
  usage: `Usage: codex-oss restart [--project PATH] [--port N] [--host H]

Stops the bridge on the port (even one started from another checkout) and the one in this
project's pid file, starts \`codex-oss up --daemon\`, then checks that the running code is the code
on disk (source hash). Refuses to touch a port held by a program that is not a bridge.
`,
  async run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: {
          project: { type: 'string' },
          port: { type: 'string' },
          host: { type: 'string' },
        },
      }),
    );
    // Validate the configuration first: stopping a working bridge only to fail to start the new
    // one would leave the user with nothing.
    const config = loadConfigOrReport(values, io);
    if (config === undefined) return 2;
    if (config.PROXY_PORT === 0) {
      io.stderr.write('restart needs a fixed port; pass --port N (or set PROXY_PORT).\n');
      return 2;
    }

    const target = {
      ...resolveTarget(values, io),
      host: config.PROXY_HOST,
      port: config.PROXY_PORT,
      baseUrl: bridgeBaseUrl(config.PROXY_HOST, config.PROXY_PORT),
      apiKey: config.PROXY_API_KEY,
      project: config.CODEX_OSS_PROJECT,
      drainSeconds: config.BRIDGE_SHUTDOWN_DRAIN_SECONDS,
    };
    const holder = await probeBridge(target.baseUrl, target.apiKey);
    if (holder.kind === 'foreign') {
      io.stderr.write(
        `Port ${target.port} is held by a program that is not a bridge (${holder.detail}); restart will not stop it. ` +
          'Free the port, or restart on another one with --port N.\n',
      );
      return 1;
    }

    const stopped = await stopBridges(target, io);
    if (stopped.survivors.length > 0) {
      io.stderr.write('Could not stop the old bridge; not starting a new one.\n');
      return 1;
    }

    const started = await startDetachedDaemon(config, io);
    if (started !== 0) return started;

    const after = await probeBridge(target.baseUrl, target.apiKey);
    const onDisk = computeSourceHash();
    const running = after.kind === 'bridge' ? reportedSourceHash(after.health) : undefined;
    if (running !== undefined && running === onDisk.hash) {
      io.stdout.write('Running code matches the code on disk.\n');
      return 0;
    }
    io.stderr.write(
      running === undefined
        ? 'Warning: the new bridge did not report a source hash; cannot confirm it runs the code on disk.\n'
        : `Warning: the running code (${running.slice(0, 12)}) differs from the code on disk (${onDisk.hash.slice(0, 12)}). ` +
            'Rebuild with `npm run build`, then run `codex-oss restart` again.\n',
    );
    return 1;
  },
};

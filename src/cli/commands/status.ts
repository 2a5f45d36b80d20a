import { parseArgs } from 'node:util';
import { computeSourceHash, packageRoot } from '../../config/index.js';
import type { Command } from '../cli-io.js';
import { resolveTarget } from '../bridge-target.js';
import { probeBridge, reportedSourceHash } from '../bridge-probe.js';
import { formatDuration, summarizeModelHealth, summarizeObject, table } from '../format.js';
import { parseFlags } from '../parse-flags.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show whether the bridge runs, what it serves and whether it runs the code on disk',
  usage: `Usage: codex-oss status [--json] [--port N] [--host H]

Reads /health from http://127.0.0.1:4000 (--host/--port, else BRIDGE_URL, else PROXY_HOST and
PROXY_PORT) with PROXY_API_KEY (default sk-local-codex-bridge). Exits 1 when the bridge is down.
`,
  async run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: {
          json: { type: 'boolean', default: false },
          port: { type: 'string' },
          host: { type: 'string' },
        },
      }),
    );
    const target = resolveTarget(values, io);
    const probe = await probeBridge(target.baseUrl, target.apiKey);

    if (probe.kind !== 'bridge') {
      const reason =
        probe.kind === 'down'
          ? `nothing listens on ${target.baseUrl}`
          : probe.kind === 'bridge-locked'
            ? `a bridge on ${target.baseUrl} rejected the key (HTTP ${probe.status}); set PROXY_API_KEY to its key`
            : `${target.baseUrl} is not a bridge (${probe.detail})`;
      if (values.json) {
        io.stdout.write(
          `${JSON.stringify({ running: false, url: target.baseUrl, reason }, null, 2)}\n`,
        );
      } else if (probe.kind === 'down') {
        io.stdout.write(table([['Bridge', `DOWN (${reason})`]]));
        io.stderr.write(
          'Start it with `codex-oss up --daemon` (or `codex-oss up` in the foreground).\n',
        );
      } else {
        io.stdout.write(table([['Bridge', `UNREACHABLE (${reason})`]]));
      }
      return 1;
    }

    const health = probe.health;
    const onDisk = computeSourceHash();
    const running = reportedSourceHash(health);
    const fresh = running !== undefined && running === onDisk.hash;

    if (values.json) {
      io.stdout.write(
        `${JSON.stringify(
          {
            running: true,
            url: target.baseUrl,
            fresh,
            source_hash_running: running ?? null,
            source_hash_on_disk: onDisk.hash,
            package_root: packageRoot(),
            health,
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    }

    const freshness = fresh
      ? 'FRESH (matches the code on disk)'
      : running === undefined
        ? `UNKNOWN (the bridge reports no source hash); run \`codex-oss restart\``
        : `STALE (running ${running.slice(0, 12)}, on disk ${onDisk.hash.slice(0, 12)} in ${packageRoot()}); run \`codex-oss restart\``;
    const upstreamKey =
      health.upstream_key_present === undefined
        ? ''
        : health.upstream_key_present
          ? ' (key present)'
          : ' (key MISSING)';
    io.stdout.write(
      table([
        ['Bridge', `UP at ${target.baseUrl}`],
        ['PID', String(health.pid)],
        [
          'Uptime',
          health.uptime_seconds === undefined
            ? 'not reported'
            : `${formatDuration(health.uptime_seconds)}${health.started_at ? ` (since ${health.started_at})` : ''}`,
        ],
        ['Version', health.version ?? 'not reported'],
        ['Project', health.project_root ?? 'not reported'],
        ['Upstream', `${health.upstream_base ?? 'not reported'}${upstreamKey}`],
        ['GPT models', health.gpt_model_strategy ?? 'not reported'],
        ['Running code', freshness],
        ['Model health', summarizeModelHealth(health.model_health)],
        ['Concurrency', summarizeObject(health.concurrency)],
      ]),
    );
    return 0;
  },
};

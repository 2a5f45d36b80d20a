// One server of the streaming benchmark in its own process, so its CPU and memory are its own:
//   node bench/lib/stream-bench-child.mjs upstream|mock|proxy|daemon '<json options>'
// It reports { type: 'ready', url } over IPC, then answers { id, cmd } messages:
// 'stats' (cpuUsage, memoryUsage, peak RSS), 'pace' (upstream and mock only) and 'stop'.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchPieces, startSseUpstream } from './sse-upstream.mjs';
import { startPipeProxy } from './pipe-proxy.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (path) => import(pathToFileURL(join(repo, 'dist', path)).href);

const role = process.argv[2];
const options = JSON.parse(process.argv[3] ?? '{}');
if (typeof process.send !== 'function') {
  console.error('stream-bench-child must be started with an IPC channel (child_process.fork)');
  process.exit(2);
}

let peakHeapUsed = 0;
const sampler = setInterval(() => {
  peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed);
}, 100);
sampler.unref();

async function start() {
  switch (role) {
    case 'upstream': {
      const upstream = await startSseUpstream({
        pieces: benchPieces(options.deltas, options.deltaBytes),
        paceMs: options.paceMs ?? 0,
      });
      return {
        url: upstream.url,
        setPace: (ms) => upstream.setPace(ms),
        close: () => upstream.close(),
      };
    }
    case 'mock': {
      // The project's own scriptable mock, for its ceiling (and for --upstream mock).
      const { startMockUpstream, reply } = await dist('demo/index.js');
      const text = benchPieces(options.deltas, options.deltaBytes).join('');
      let pace = options.paceMs ?? 0;
      const mock = await startMockUpstream({
        responder: () =>
          reply()
            .text(text)
            .chunkSize(options.deltaBytes ?? 16)
            .paceMs(pace)
            .usage({ prompt_tokens: 12, completion_tokens: 64 }),
      });
      const timer = setInterval(() => mock.reset(), 1000);
      timer.unref();
      return {
        url: mock.baseUrl.replace(/\/v1\/?$/, ''),
        setPace: (ms) => (pace = ms),
        close: () => mock.close(),
      };
    }
    case 'proxy': {
      const proxy = await startPipeProxy(options.target);
      return { url: proxy.url, close: () => proxy.close() };
    }
    case 'daemon': {
      const { loadConfig } = await dist('config/index.js');
      const { startDaemon } = await dist('http/index.js');
      const { createLogger } = await dist('log/index.js');
      const project = mkdtempSync(join(tmpdir(), 'bench-stream-daemon-'));
      const config = loadConfig({
        env: {
          UPSTREAM_BASE: `${options.target}/v1`,
          OPENCODE_GO_API_KEY: 'sk-bench',
          PROXY_PORT: '0',
          CODEX_OSS_PROJECT: project,
          LOG_LEVEL: options.logLevel ?? 'warn',
          MAX_GLOBAL_UPSTREAM_CONCURRENCY: '64',
          MODEL_CONCURRENCY_JSON: '{"kimi-k2.6":64}',
          UPSTREAM_QUEUE_MAX: '256',
        },
        cwd: project,
      });
      const daemon = await startDaemon({
        config,
        logger: createLogger(options.logLevel ?? 'warn'),
      });
      return {
        url: daemon.url,
        close: async () => {
          await daemon.close();
          rmSync(project, { recursive: true, force: true });
        },
      };
    }
    default:
      throw new Error(`unknown role ${String(role)}`);
  }
}

const server = await start();
process.on('message', (message) => {
  void (async () => {
    const { id, cmd } = message;
    if (cmd === 'stats') {
      const memory = process.memoryUsage();
      peakHeapUsed = Math.max(peakHeapUsed, memory.heapUsed);
      process.send({
        id,
        cpu: process.cpuUsage(),
        memory,
        maxRssKb: process.resourceUsage().maxRSS,
        peakHeapUsed,
      });
    } else if (cmd === 'pace') {
      server.setPace?.(message.ms);
      process.send({ id });
    } else if (cmd === 'stop') {
      await server.close();
      process.send({ id }, () => process.exit(0));
    }
  })();
});
process.send({ type: 'ready', url: server.url, pid: process.pid });

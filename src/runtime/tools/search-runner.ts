import { Worker, type WorkerOptions } from 'node:worker_threads';
import { GlobError } from './glob.js';
import { SearchPatternError, type SearchResult } from './searcher.js';
import type { SearchReply, WorkerSearchRequest } from './search-worker-protocol.js';

/**
 * Runs `searchTree` in a worker thread with a hard wall-clock limit. A model-supplied regex such
 * as `^(\w+\s?)*$` can backtrack for minutes inside one `RegExp.exec`, which no time slicing or
 * AbortSignal can interrupt: on the main thread it would freeze the whole daemon (keepalives,
 * other missions, /health). In a worker it blocks only that worker, and `terminate()` stops V8
 * even mid-regex.
 *
 * Workers are reused (start-up is tens of milliseconds; a search that finishes returns its
 * worker to a small idle pool), but each search has a worker to itself, so terminating one for
 * a timeout never fails another mission's search.
 */

export class SearchTimeoutError extends Error {}

/** The worker could not run the search (failed to start, crashed, or threw). */
export class SearchWorkerError extends Error {}

export interface SearchRunOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

const maxIdleWorkers = 2;
const idle: Worker[] = [];
let nextJobId = 1;

/**
 * Built (`dist/…/search-runner.js`) the worker is the compiled `search-worker.js` next to this
 * file. Under vitest this file is TypeScript that vitest transformed, but a worker thread is a
 * fresh Node isolate that vitest does not reach, and Node 20 cannot run `.ts`; so the worker
 * gets a small module hook that maps `./x.js` imports to `./x.ts` and transpiles them with the
 * `typescript` dev dependency. The hook is used only when running from source.
 */
const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(
  fromSource ? './search-worker.ts' : './search-worker.js',
  import.meta.url,
);

const tsHooks = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
let ts;
export function initialize(data) { ts = createRequire(data.base)('typescript'); }
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts'))
      return next(specifier.slice(0, -3) + '.ts', context);
    throw error;
  }
}
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const output = ts.transpileModule(readFileSync(fileName, 'utf8'), {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
  });
  return { format: 'module', source: output.outputText, shortCircuit: true };
}`;

function dataUrl(source: string): string {
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

function workerOptions(): WorkerOptions {
  if (!fromSource) return {};
  const register =
    `import { register } from 'node:module';` +
    `register(${JSON.stringify(dataUrl(tsHooks))}, { data: { base: ${JSON.stringify(import.meta.url)} } });`;
  return { execArgv: ['--import', dataUrl(register)] };
}

function spawnWorker(): Worker {
  const worker = new Worker(workerUrl, workerOptions());
  // An idle worker may fail or exit on its own; it must then leave the pool, and an 'error'
  // with no listener would crash the daemon.
  worker.on('error', () => undefined);
  worker.on('exit', () => {
    const index = idle.indexOf(worker);
    if (index !== -1) idle.splice(index, 1);
  });
  return worker;
}

/**
 * Searches in a worker. Rejects with `SearchTimeoutError` after `timeoutMs` (worker
 * terminated), with the signal's reason on abort (worker terminated), with `SearchPatternError`
 * or `GlobError` for a bad pattern or glob, and with `SearchWorkerError` otherwise.
 */
export function searchInWorker(
  request: WorkerSearchRequest,
  options: SearchRunOptions,
): Promise<SearchResult> {
  const { signal, timeoutMs } = options;
  signal.throwIfAborted();
  const worker = idle.pop() ?? spawnWorker();
  // A busy worker keeps the process alive; an idle one must not.
  worker.ref();
  const id = nextJobId++;
  return new Promise<SearchResult>((resolve, reject) => {
    let settled = false;
    const settle = (keepWorker: boolean): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (keepWorker && idle.length < maxIdleWorkers) {
        worker.unref();
        idle.push(worker);
      } else {
        void worker.terminate();
      }
      return true;
    };
    const onMessage = (reply: SearchReply): void => {
      if (reply.id !== id || !settle(true)) return;
      if (reply.ok) resolve(reply.result);
      else if (reply.kind === 'pattern') reject(new SearchPatternError(reply.message));
      else if (reply.kind === 'glob') reject(new GlobError(reply.message));
      else reject(new SearchWorkerError(reply.message));
    };
    const onError = (error: Error): void => {
      if (settle(false)) reject(new SearchWorkerError(`search worker failed: ${error.message}`));
    };
    const onExit = (code: number): void => {
      if (settle(false)) reject(new SearchWorkerError(`search worker exited (code ${code})`));
    };
    const onAbort = (): void => {
      // The caller sees the abort reason, as `signal.throwIfAborted()` would throw it.
      const reason: unknown = signal.reason;
      if (settle(false)) reject(reason instanceof Error ? reason : new Error(String(reason)));
    };
    const timer = setTimeout(() => {
      if (settle(false)) reject(new SearchTimeoutError(`search exceeded ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    signal.addEventListener('abort', onAbort, { once: true });
    worker.postMessage({ id, request });
  });
}

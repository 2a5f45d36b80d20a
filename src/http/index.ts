export { buildApp, type BuiltApp } from './build-app.js';
export {
  startDaemon,
  createRegistry,
  type RunningDaemon,
  type StartDaemonOptions,
} from './start-daemon.js';
export type { AppDeps, DaemonIdentity } from './app-deps.js';
export { SseWriter, OVERHEAD_HEADER } from './sse-writer.js';
export { collectUserTexts } from './routes/responses-route.js';

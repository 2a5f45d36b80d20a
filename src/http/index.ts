export { buildApp, type BuiltApp } from './build-app.js';
export { startDaemon, type RunningDaemon, type StartDaemonOptions } from './start-daemon.js';
export type { AppDeps, DaemonIdentity } from './app-deps.js';

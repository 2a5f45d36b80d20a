import type { FastifyInstance } from 'fastify';
import { windowStatuses } from '../../store/index.js';
import { configuredWindows } from '../../upstream/index.js';
import type { AppDeps } from '../app-deps.js';

/** Liveness plus identity, so `codex-oss status` can tell a stale daemon from a fresh one. */
export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  const handler = () => ({
    ok: true,
    service: 'opencode-bridge',
    version: deps.identity.version,
    pid: process.pid,
    uptime_seconds: Math.round((Date.now() - deps.identity.startedAt.getTime()) / 1000),
    started_at: deps.identity.startedAt.toISOString(),
    source_hash: deps.identity.sourceHash,
    project_root: deps.config.CODEX_OSS_PROJECT,
    upstream_base: deps.config.UPSTREAM_BASE,
    upstream_key_present: Boolean(deps.config.OPENCODE_GO_API_KEY),
    gpt_model_strategy: deps.config.GPT_MODEL_STRATEGY,
    model_health: deps.upstream.health(),
    concurrency: deps.upstream.concurrency(),
    // The bridge's own count against the OpenCode Go plan windows (PLAN_LIMITS_JSON).
    plan_windows: windowStatuses(deps.spend, configuredWindows(deps.config.PLAN_LIMITS_JSON)),
    missions: deps.missions.lanes(),
  });
  app.get('/health', handler);
  app.get('/v1/health', handler);
}

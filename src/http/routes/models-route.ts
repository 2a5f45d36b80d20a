import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';

interface ModelRow {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  lane: 'managed' | 'raw' | 'upstream';
}

/** GET /v1/models: the bridge's own aliases first, then what the upstream serves (when reachable). */
export function registerModelsRoutes(app: FastifyInstance, deps: AppDeps): void {
  const handler = async (request: FastifyRequest) => {
    const aliases = deps.registry.listAliases();
    const rows: ModelRow[] = [
      ...aliases.managed.map((id) => row(id, 'managed')),
      ...aliases.raw.map((id) => row(id, 'raw')),
    ];
    const controller = new AbortController();
    request.raw.on('close', () => controller.abort());
    const served = await deps.upstream.listModels(controller.signal);
    const known = new Set(rows.map((model) => model.id));
    for (const id of served ?? []) if (!known.has(id)) rows.push(row(id, 'upstream'));
    return { object: 'list', data: rows, upstream_reachable: served !== null };
  };
  app.get('/v1/models', handler);
  app.get('/models', handler);
}

function row(id: string, lane: ModelRow['lane']): ModelRow {
  return {
    id,
    object: 'model',
    created: 0,
    owned_by: lane === 'upstream' ? 'upstream' : 'opencode-bridge',
    lane,
  };
}

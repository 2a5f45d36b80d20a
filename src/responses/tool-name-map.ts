import { createHash } from 'node:crypto';

export interface ToolIdentity {
  readonly name: string;
  readonly namespace?: string;
  readonly kind: 'function' | 'custom';
}

const SEPARATOR = '__';
const MAX_NAME = 64;

/**
 * Chat Completions has no namespaces and only accepts names matching ^[a-zA-Z0-9_-]{1,64}$, so
 * Responses tools are flattened (`multi_agent_v1` + `spawn_agent` → `multi_agent_v1__spawn_agent`)
 * and mapped back when the model calls them; Codex answers "unsupported call" to a namespaced tool
 * returned without its namespace (wire-protocol.md finding 5). The flattening is deterministic, so
 * history items and tools agree without any stored state.
 */
export class ToolNameMap {
  private readonly byFlat = new Map<string, ToolIdentity>();
  private readonly byIdentity = new Map<string, string>();

  register(identity: ToolIdentity): string {
    const key = identityKey(identity.name, identity.namespace);
    const existing = this.byIdentity.get(key);
    if (existing !== undefined) return existing;
    let flat = flatten(identity.name, identity.namespace);
    for (let suffix = 2; this.byFlat.has(flat); suffix += 1) {
      flat = fit(`${flatten(identity.name, identity.namespace)}_${suffix}`);
    }
    this.byFlat.set(flat, identity);
    this.byIdentity.set(key, flat);
    return flat;
  }

  /** The upstream name for a tool seen in history, registering it if the request's tools lacked it. */
  toUpstream(name: string, namespace: string | undefined, kind: ToolIdentity['kind']): string {
    return (
      this.byIdentity.get(identityKey(name, namespace)) ??
      this.register({ name, kind, ...(namespace ? { namespace } : {}) })
    );
  }

  fromUpstream(flat: string): ToolIdentity | undefined {
    return this.byFlat.get(flat);
  }

  get size(): number {
    return this.byFlat.size;
  }
}

function identityKey(name: string, namespace: string | undefined): string {
  return `${namespace ?? ''}\u0000${name}`;
}

function flatten(name: string, namespace: string | undefined): string {
  const joined = namespace ? `${namespace}${SEPARATOR}${name}` : name;
  return fit(joined.replace(/[^a-zA-Z0-9_-]/g, '_'));
}

function fit(name: string): string {
  if (name.length <= MAX_NAME) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_NAME - 9)}_${digest}`;
}

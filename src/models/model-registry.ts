import type { Config } from '../config/index.js';
import type { TokenUsage } from '../usage/index.js';
import {
  legacyAliases,
  missionProfiles,
  modelTable,
  unknownModelDefaults,
  type EndpointFormat,
  type MissionProfile,
  type ModelEntry,
} from './model-table.js';

export type GptStrategy = 'error' | 'openai' | 'oss';

export interface RegistryOptions {
  /** MODEL_MAP_JSON: alias → upstream id, or alias → partial entry (may override a table row). */
  readonly modelMap: Readonly<Record<string, unknown>>;
  /** FALLBACK_MODEL_MAP_JSON: alias or id → ordered fallback ids. */
  readonly fallbackMap: Readonly<Record<string, readonly string[]>>;
  readonly gptStrategy: GptStrategy;
  readonly gptOssFallback: string;
}

export interface MissionAlias {
  readonly alias: string;
  readonly tier: number;
  readonly profile: string;
  readonly model: ModelEntry;
  /** The profile's chain, in order, before any downgrade check. */
  readonly fallbacks: readonly ModelEntry[];
  readonly caps: { readonly maxToolBudget: number; readonly maxTimeSeconds: number };
}

export type LaneDecision =
  | { readonly lane: 'managed'; readonly mission: MissionAlias }
  | {
      readonly lane: 'raw';
      readonly requested: string;
      readonly model: ModelEntry;
      /** False when the id is in neither the table nor MODEL_MAP_JSON (ask the upstream). */
      readonly known: boolean;
      readonly fallbacks: readonly ModelEntry[];
    }
  | { readonly lane: 'gpt-passthrough'; readonly requested: string }
  | { readonly lane: 'gpt-error'; readonly requested: string };

const missionAliasPattern = /^mission-a([2-6])-([a-z0-9][a-z0-9._-]*)$/i;
const gptPattern = /^(openai\/)?gpt[-_]/i;
const endpointFormats: readonly EndpointFormat[] = ['chat', 'messages'];

/** Resolves model names to lanes and model entries. Pure data; built once from config. */
export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();
  private readonly aliasToId = new Map<string, string>();

  constructor(private readonly options: RegistryOptions) {
    for (const entry of modelTable) this.entries.set(entry.id, entry);
    for (const [alias, id] of Object.entries(legacyAliases)) this.aliasToId.set(alias, id);
    for (const [key, value] of Object.entries(options.modelMap)) this.applyOverride(key, value);
  }

  /** Decides the lane for a request's `model` field. */
  resolve(requested: string): LaneDecision {
    const name = requested.trim();
    const mission = this.resolveMissionAlias(name);
    if (mission) return { lane: 'managed', mission };

    const mapped = this.aliasToId.get(name);
    if (mapped !== undefined) return this.raw(name, mapped);

    if (gptPattern.test(name)) {
      switch (this.options.gptStrategy) {
        case 'openai':
          return { lane: 'gpt-passthrough', requested: name };
        case 'oss':
          return this.raw(name, this.stripPrefix(this.options.gptOssFallback));
        case 'error':
          return { lane: 'gpt-error', requested: name };
      }
    }
    return this.raw(name, this.stripPrefix(name));
  }

  /** The entry for an upstream id, or defaults for an id the table does not know. */
  entry(id: string): ModelEntry {
    return this.entries.get(id) ?? { ...unknownModelDefaults, id };
  }

  isKnown(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * The fallback chain for a model, from FALLBACK_MODEL_MAP_JSON (by alias, then by id) or the
   * table. With `allowDowngrade` false, entries of a lower capability tier are left out.
   */
  fallbacksFor(alias: string, entry: ModelEntry, allowDowngrade: boolean): ModelEntry[] {
    const ids =
      ownValue(this.options.fallbackMap, alias) ??
      ownValue(this.options.fallbackMap, entry.id) ??
      entry.fallbacks;
    return ids
      .map((id) => this.entry(this.aliasToId.get(id) ?? this.stripPrefix(id)))
      .filter((candidate) => candidate.id !== entry.id)
      .filter((candidate) => allowDowngrade || candidate.capabilityTier >= entry.capabilityTier);
  }

  /** Every name a client may send, for GET /v1/models. */
  listAliases(): { managed: string[]; raw: string[] } {
    const managed: string[] = [];
    for (let tier = 2; tier <= 6; tier += 1) {
      for (const profile of Object.keys(missionProfiles))
        managed.push(`mission-a${tier}-${profile}`);
    }
    const raw = new Set<string>();
    for (const id of this.entries.keys()) {
      raw.add(`ocg-${id}`);
      raw.add(`opencode-go/${id}`);
      raw.add(id);
    }
    for (const alias of this.aliasToId.keys()) raw.add(alias);
    return { managed, raw: [...raw].sort() };
  }

  private resolveMissionAlias(name: string): MissionAlias | undefined {
    const match = missionAliasPattern.exec(name);
    if (!match) return undefined;
    const tier = Number(match[1]);
    const profileName = (match[2] ?? '').toLowerCase();
    const profile: MissionProfile | undefined = ownValue(missionProfiles, profileName);
    // A profile the table does not name may be any model alias: mission-a3-glm-5.2 runs on glm-5.2.
    const modelId =
      profile?.model ?? this.aliasToId.get(profileName) ?? this.stripPrefix(profileName);
    const model = this.entry(modelId);
    const chainIds = profile?.fallbacksByTier[tier] ?? model.fallbacks;
    const kimiCaps = missionProfiles['kimi']?.capsByTier[tier];
    const caps = profile?.capsByTier[tier] ??
      kimiCaps ?? { maxToolBudget: 14, maxTimeSeconds: 150 };
    return {
      alias: name,
      tier,
      profile: profileName,
      model,
      fallbacks: chainIds.map((id) => this.entry(id)),
      caps,
    };
  }

  private raw(requested: string, id: string): LaneDecision {
    const model = this.entry(id);
    return {
      lane: 'raw',
      requested,
      model,
      known: this.entries.has(id),
      fallbacks: this.fallbacksFor(requested, model, false),
    };
  }

  private stripPrefix(name: string): string {
    if (name.startsWith('ocg-')) return name.slice('ocg-'.length);
    if (name.startsWith('opencode-go/')) return name.slice('opencode-go/'.length);
    return name;
  }

  private applyOverride(key: string, value: unknown): void {
    if (typeof value === 'string') {
      this.aliasToId.set(key, this.stripPrefix(value));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const partial = value as Partial<Record<keyof ModelEntry, unknown>>;
    const id = typeof partial.id === 'string' ? partial.id : this.stripPrefix(key);
    const base = this.entry(id);
    const endpoint = endpointFormats.find((format) => format === partial.endpoint) ?? base.endpoint;
    this.entries.set(id, { ...base, ...(partial as Partial<ModelEntry>), id, endpoint });
    if (key !== id) this.aliasToId.set(key, id);
  }
}

/** The registry the daemon and the CLI use: the table, with the configured overrides applied. */
export function createRegistry(config: Config): ModelRegistry {
  return new ModelRegistry({
    modelMap: config.MODEL_MAP_JSON,
    fallbackMap: config.FALLBACK_MODEL_MAP_JSON,
    gptStrategy: config.GPT_MODEL_STRATEGY,
    gptOssFallback: config.GPT_MODEL_OSS_FALLBACK,
  });
}

/** Dollars for one call at the model's list price (per million tokens). */
export function priceUsage(entry: ModelEntry, usage: TokenUsage): number {
  const uncached = Math.max(
    0,
    usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens,
  );
  const dollars =
    uncached * entry.price.input +
    usage.cached_input_tokens * entry.price.cachedInput +
    usage.cache_write_tokens * (entry.price.cacheWrite ?? entry.price.input) +
    usage.output_tokens * entry.price.output;
  return dollars / 1_000_000;
}

/**
 * A record's own value for a client-supplied key: `__proto__`, `constructor` or `toString` as a
 * model name must find nothing, not Object.prototype's members (issue 9, Low #6).
 */
function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

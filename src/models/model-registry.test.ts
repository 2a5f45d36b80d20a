import { describe, expect, it } from 'vitest';
import { ModelRegistry, priceUsage, type RegistryOptions } from './index.js';

const registry = (overrides: Partial<RegistryOptions> = {}) =>
  new ModelRegistry({
    modelMap: {},
    fallbackMap: {},
    gptStrategy: 'error',
    gptOssFallback: 'deepseek-v4-pro',
    ...overrides,
  });

const ids = (entries: readonly { id: string }[]) => entries.map((entry) => entry.id);

describe('lane resolution', () => {
  it('mission aliases go to the managed lane with the profile model, its tier chain and caps', () => {
    const decision = registry().resolve('mission-a3-kimi');
    expect(decision).toMatchObject({
      lane: 'managed',
      mission: {
        alias: 'mission-a3-kimi',
        tier: 3,
        profile: 'kimi',
        model: { id: 'kimi-k2.6' },
        caps: { maxToolBudget: 14, maxTimeSeconds: 150 },
      },
    });
    if (decision.lane !== 'managed') throw new Error('expected managed');
    // The profile chain, before any downgrade check (the runtime applies the mission's flag).
    expect(ids(decision.mission.fallbacks)).toEqual(['deepseek-v4-pro', 'deepseek-v4-flash']);
    const a6 = registry().resolve('  MISSION-A6-Deepseek ');
    expect(a6).toMatchObject({
      lane: 'managed',
      mission: {
        tier: 6,
        profile: 'deepseek',
        model: { id: 'deepseek-v4-pro' },
        caps: { maxToolBudget: 24 },
      },
    });
  });

  it('a profile the table does not name runs on that model with the kimi caps', () => {
    const decision = registry().resolve('mission-a2-glm-5.2');
    expect(decision).toMatchObject({
      lane: 'managed',
      mission: {
        tier: 2,
        model: { id: 'glm-5.2' },
        caps: { maxToolBudget: 10, maxTimeSeconds: 90 },
      },
    });
    if (decision.lane !== 'managed') throw new Error('expected managed');
    expect(ids(decision.mission.fallbacks)).toEqual(['kimi-k2.6']);
    const prefixed = registry().resolve('mission-a4-ocg-minimax-m3');
    expect(prefixed).toMatchObject({ lane: 'managed', mission: { model: { id: 'minimax-m3' } } });
  });

  it('tiers outside A2-A6 are not mission aliases', () => {
    // The whole name must match: a trailing character outside the profile alphabet is a raw id.
    expect(registry().resolve('mission-a3-kimi!').lane).toBe('raw');
    expect(registry().resolve('mission-a3-kimi/x').lane).toBe('raw');
    expect(registry().resolve('mission-a1-kimi').lane).toBe('raw');
    expect(registry().resolve('mission-a7-kimi').lane).toBe('raw');
    expect(registry().resolve('xmission-a3-kimi').lane).toBe('raw');
  });

  it('raw ids, prefixes and legacy aliases resolve to table entries', () => {
    for (const name of ['kimi-k2.6', 'ocg-kimi-k2.6', 'opencode-go/kimi-k2.6', 'oss_kimi_rapid']) {
      expect(registry().resolve(name), name).toMatchObject({
        lane: 'raw',
        requested: name,
        model: { id: 'kimi-k2.6', capabilityTier: 5 },
        known: true,
      });
    }
    expect(registry().resolve('local-llama')).toMatchObject({
      lane: 'raw',
      model: { id: 'local-llama', endpoint: 'chat', capabilityTier: 4 },
      known: false,
      fallbacks: [],
    });
  });

  it('GPT names follow GPT_MODEL_STRATEGY', () => {
    expect(registry().resolve('gpt-5.5')).toEqual({ lane: 'gpt-error', requested: 'gpt-5.5' });
    expect(registry({ gptStrategy: 'openai' }).resolve('openai/gpt-5.5')).toEqual({
      lane: 'gpt-passthrough',
      requested: 'openai/gpt-5.5',
    });
    expect(
      registry({ gptStrategy: 'oss', gptOssFallback: 'ocg-glm-5.2' }).resolve('gpt_4o'),
    ).toMatchObject({ lane: 'raw', requested: 'gpt_4o', model: { id: 'glm-5.2' } });
    expect(registry().resolve('gptx').lane).toBe('raw');
    // Only a name that starts with gpt (or openai/gpt) is a GPT name.
    expect(registry().resolve('local-gpt-j').lane).toBe('raw');
  });
});

describe('fallbacks never silently downgrade', () => {
  it('the raw lane leaves out a lower-tier fallback and the model itself', () => {
    const decision = registry().resolve('kimi-k2.6');
    if (decision.lane !== 'raw') throw new Error('expected raw');
    // kimi-k2.6 (tier 5) → deepseek-v4-pro (5), deepseek-v4-flash (3): flash is left out.
    expect(ids(decision.fallbacks)).toEqual(['deepseek-v4-pro']);
    const flash = registry().resolve('deepseek-v4-flash');
    if (flash.lane !== 'raw') throw new Error('expected raw');
    // Upgrades are fine.
    expect(ids(flash.fallbacks)).toEqual(['kimi-k2.6']);
  });

  it('fallbacksFor keeps the same tier, and lower tiers only when allowed', () => {
    const r = registry();
    const kimi = r.entry('kimi-k2.6');
    expect(ids(r.fallbacksFor('kimi-k2.6', kimi, false))).toEqual(['deepseek-v4-pro']);
    expect(ids(r.fallbacksFor('kimi-k2.6', kimi, true))).toEqual([
      'deepseek-v4-pro',
      'deepseek-v4-flash',
    ]);
  });

  it('FALLBACK_MODEL_MAP_JSON applies by alias first, then by id, with aliases and prefixes resolved', () => {
    const r = registry({
      fallbackMap: {
        fast: ['ocg-deepseek-v4-flash', 'kimi-k2.6'],
        'kimi-k2.5': ['oss_kimi_rapid', 'kimi-k2.5', 'minimax-m2.5'],
      },
      modelMap: { fast: 'kimi-k2.5' },
    });
    const byAlias = r.resolve('fast');
    if (byAlias.lane !== 'raw') throw new Error('expected raw');
    expect(byAlias.model.id).toBe('kimi-k2.5');
    // By alias: flash (tier 3) is below kimi-k2.5 (tier 4) and left out; kimi-k2.6 (5) stays.
    expect(ids(byAlias.fallbacks)).toEqual(['kimi-k2.6']);
    const byId = r.resolve('kimi-k2.5');
    if (byId.lane !== 'raw') throw new Error('expected raw');
    // By id: the legacy alias resolves, the model itself is dropped, tier 4 equals tier 4.
    expect(ids(byId.fallbacks)).toEqual(['kimi-k2.6', 'minimax-m2.5']);
  });
});

describe('MODEL_MAP_JSON overrides', () => {
  it('maps an alias to an id, or overrides and adds table rows', () => {
    const r = registry({
      modelMap: {
        house: 'ocg-glm-5.2',
        'kimi-k2.6': { capabilityTier: 2, endpoint: 'messages' },
        'my-local': { id: 'llama-3', endpoint: 'nonsense', contextWindow: 8192 },
        ignored: 42,
        empty: null,
      },
    });
    expect(r.resolve('house')).toMatchObject({ lane: 'raw', model: { id: 'glm-5.2' } });
    expect(r.entry('kimi-k2.6')).toMatchObject({
      id: 'kimi-k2.6',
      capabilityTier: 2,
      endpoint: 'messages',
      maxOutputTokens: 65_536,
    });
    // An unknown endpoint keeps the base one; the key becomes an alias of the new id.
    expect(r.resolve('my-local')).toMatchObject({
      lane: 'raw',
      model: { id: 'llama-3', endpoint: 'chat', contextWindow: 8192 },
      known: true,
    });
    expect(r.isKnown('llama-3')).toBe(true);
    expect(r.isKnown('ignored')).toBe(false);
    expect(r.resolve('ignored')).toMatchObject({ known: false });
    expect(r.resolve('empty')).toMatchObject({ known: false, model: { id: 'empty' } });
  });

  it('lists every managed alias and every raw name', () => {
    const { managed, raw } = registry({ modelMap: { house: 'glm-5.2' } }).listAliases();
    expect(managed).toHaveLength(15);
    expect(managed[0]).toBe('mission-a2-kimi');
    expect(managed).toContain('mission-a6-flash');
    expect(raw).toEqual([...raw].sort());
    for (const name of ['kimi-k2.6', 'ocg-kimi-k2.6', 'opencode-go/kimi-k2.6', 'house'])
      expect(raw).toContain(name);
  });
});

describe('priceUsage', () => {
  it('prices uncached, cached, cache-write and output tokens at list price per million', () => {
    const qwen = registry().entry('qwen3.7-plus');
    const usage = {
      input_tokens: 1_000_000,
      cached_input_tokens: 200_000,
      cache_write_tokens: 100_000,
      output_tokens: 500_000,
      reasoning_tokens: 0,
      total_tokens: 1_500_000,
    };
    // 700k × 0.4 + 200k × 0.04 + 100k × 0.5 + 500k × 1.6, per million.
    expect(priceUsage(qwen, usage)).toBeCloseTo(0.28 + 0.008 + 0.05 + 0.8, 12);
    // Without a cache-write price, cache writes cost the input price.
    const kimi = registry().entry('kimi-k2.6');
    expect(priceUsage(kimi, { ...usage, cached_input_tokens: 0, output_tokens: 0 })).toBeCloseTo(
      0.95,
      12,
    );
    // More cached than input never goes negative.
    expect(
      priceUsage(kimi, { ...usage, input_tokens: 10, cached_input_tokens: 20, output_tokens: 0 }),
    ).toBeCloseTo((20 * 0.16 + 100_000 * 0.95) / 1e6, 12);
  });
});

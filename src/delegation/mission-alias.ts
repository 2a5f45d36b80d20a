import { BridgeError } from '../errors/index.js';
import type { MissionTier } from '../mission/index.js';
import { missionProfiles, type MissionAlias, type ModelRegistry } from '../models/index.js';

/** The profile a delegation runs on when the caller names no model. */
export const defaultMissionProfile = 'kimi';

const aliasPattern = /^mission-a[2-6]-([a-z0-9][a-z0-9._-]*)$/i;
const modelIdPattern = /^[a-z0-9][a-z0-9._-]*$/i;

/**
 * The mission alias for a delegation's tier: a mission alias keeps its profile and takes the
 * tier the permission decided (mission-a3-kimi asked for a workspace-write run becomes
 * mission-a5-kimi); a model id becomes the profile that runs it (kimi-k2.6 → kimi) or, for a
 * model no profile names, the per-model alias (mission-a3-glm-5.2). The registry decides what the
 * alias resolves to; the runtime still refuses GPT and parent-provider routes.
 */
export function missionAliasFor(
  registry: ModelRegistry,
  model: string | undefined,
  tier: MissionTier,
): { readonly name: string; readonly alias: MissionAlias } {
  const level = tier.slice(1);
  const requested = (model ?? '').trim();
  let profile: string;
  if (requested === '') profile = defaultMissionProfile;
  else {
    const fromAlias = aliasPattern.exec(requested)?.[1];
    if (fromAlias !== undefined) profile = fromAlias.toLowerCase();
    else {
      const decision = registry.resolve(requested);
      const id = decision.lane === 'raw' ? decision.model.id : undefined;
      if (id === undefined || !modelIdPattern.test(id))
        throw new BridgeError(
          'delegation_invalid',
          `model ${JSON.stringify(requested)} cannot run a delegated mission: name a mission alias (mission-a3-kimi, mission-a5-deepseek) or an OSS model id (kimi-k2.6, deepseek-v4-pro); GPT models never run missions.`,
        );
      profile =
        Object.entries(missionProfiles).find(([, entry]) => entry.model === id)?.[0] ??
        id.toLowerCase();
    }
  }
  const name = `mission-a${level}-${profile}`;
  const decision = registry.resolve(name);
  if (decision.lane !== 'managed')
    throw new BridgeError(
      'delegation_invalid',
      `model ${JSON.stringify(requested)} does not name a mission profile (tried ${name}).`,
    );
  return { name, alias: decision.mission };
}

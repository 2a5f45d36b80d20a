import { BridgeError } from '../errors/index.js';

export type MissionErrorCode =
  'missing_handoff' | 'multiple_handoff_blocks' | 'malformed_handoff_json' | 'invalid_mission';

/**
 * A mission input the bridge refuses before any upstream call. `message` is the first problem
 * (what a FAILED result shows); `problems` lists every problem found, so a caller fixing a
 * hand-written block sees them all at once instead of one per round trip.
 */
export class MissionInputError extends BridgeError {
  readonly problems: readonly string[];
  declare readonly code: MissionErrorCode;

  constructor(
    code: MissionErrorCode,
    problems: readonly string[],
    options: { cause?: unknown } = {},
  ) {
    const first = problems[0] ?? `${code}: mission input rejected`;
    super(code, first, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'MissionInputError';
    this.problems = problems.length > 0 ? [...problems] : [first];
  }
}

export function isMissionInputError(value: unknown): value is MissionInputError {
  return value instanceof MissionInputError;
}

/** One `invalid_mission: <field path>: <why>` line (the contract wording). */
export function invalidMissionProblem(path: string, why: string): string {
  return `invalid_mission: ${path}: ${why}`;
}

export function invalidMission(path: string, why: string): MissionInputError {
  return new MissionInputError('invalid_mission', [invalidMissionProblem(path, why)]);
}

/** `['a', 1, 'b']` → `a[1].b`; the empty path is the mission object itself. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? 'mission' : out;
}

/** Short, quoted description of a value for "(got …)" suffixes. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

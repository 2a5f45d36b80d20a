import {
  isImplementationTier,
  missionSchemaVersion,
  toolClasses,
  type MissionTier,
} from './constants.js';
import { validateMission, type MissionV1 } from './mission-schema.js';
import { shellSplit } from './shell-split.js';

/**
 * Plain-text task contracts (reference §4.7): Codex's native delegation text written as
 * `LABEL: value` lines. A mission alias without a tagged block gets a MissionV1 synthesized from
 * them, so a subagent prompt that never learned the JSON form still runs governed.
 */
export type ContractLabel =
  | 'role'
  | 'goal'
  | 'objective'
  | 'mission_id'
  | 'task_type'
  | 'owned_paths'
  | 'read_only_paths'
  | 'do_not_touch'
  | 'verification_steps'
  | 'deliverable'
  | 'completion_rule'
  | 'escalation_rule';

const sep = '[\\s_-]*';
const labelPatterns: readonly (readonly [ContractLabel, string])[] = [
  ['role', 'ROLE'],
  ['goal', 'GOAL'],
  ['objective', 'OBJECTIVE'],
  ['mission_id', `MISSION${sep}ID`],
  ['task_type', `TASK${sep}TYPE`],
  ['owned_paths', `OWNED${sep}PATHS?`],
  ['read_only_paths', `READ${sep}ONLY${sep}PATHS?`],
  ['do_not_touch', `DO${sep}NOT${sep}TOUCH|FORBIDDEN`],
  ['verification_steps', `VERIFICATION${sep}STEPS?`],
  ['deliverable', 'DELIVERABLES?'],
  ['completion_rule', `COMPLETION${sep}RULE`],
  ['escalation_rule', `ESCALATION${sep}RULE`],
];

// A label line may carry a list bullet, a markdown heading mark or bold markers around the label.
const labelLine = new RegExp(
  `^\\s*(?:[-*+]\\s+)?(?:#+\\s*)?(?:\\*\\*)?\\s*(${labelPatterns.map(([, p]) => `(?:${p})`).join('|')})\\s*(?:\\*\\*)?\\s*:\\s*(?:\\*\\*)?\\s*(.*)$`,
  'i',
);
const exactLabels = labelPatterns.map(
  ([label, pattern]) => [label, new RegExp(`^(?:${pattern})$`, 'i')] as const,
);

/**
 * Reads `LABEL: value` lines. Lines that follow a label append to it until a blank line or the
 * next label; a repeated label replaces the earlier value (the newest message is the contract).
 */
export function parseTaskContractFields(text: string): Partial<Record<ContractLabel, string>> {
  const fields: Partial<Record<ContractLabel, string>> = {};
  let current: ContractLabel | null = null;
  for (const line of text.split(/\r?\n/)) {
    const match = labelLine.exec(line);
    const labelText = match?.[1]?.trim();
    const label = labelText
      ? exactLabels.find(([, pattern]) => pattern.test(labelText))?.[0]
      : undefined;
    if (match && label) {
      current = label;
      fields[label] = (match[2] ?? '').trim();
      continue;
    }
    if (line.trim() === '') {
      current = null;
      continue;
    }
    if (current !== null) {
      const previous = fields[current] ?? '';
      fields[current] = previous === '' ? line.trim() : `${previous}\n${line.trim()}`;
    }
  }
  return fields;
}

const emptyMarkers = new Set(['none', 'n/a', 'na', '-', '(none)', 'nothing']);

/** Comma- or line-separated items; bullets, backticks and quotes around items are dropped. */
function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const items = value
    .split(/[,\n]/)
    .map((item) =>
      item
        .trim()
        .replace(/^[-*+•]\s+/, '')
        .replace(/^[`'"]+|[`'"]+$/g, '')
        .trim(),
    )
    .filter((item) => item !== '' && !emptyMarkers.has(item.toLowerCase()));
  return [...new Set(items)];
}

/** Entries ending in "/" are directories (prefix roots); others are exact paths. */
function splitScope(paths: readonly string[]): { roots: string[]; exact: string[] } {
  return {
    roots: paths.filter((path) => path.endsWith('/')),
    exact: paths.filter((path) => !path.endsWith('/')),
  };
}

/**
 * Only text marked as a command becomes argv: `backticked` spans or lines starting with "$ ".
 * Prose steps ("run the unit tests") stay in completion_contract for the report, because running
 * guessed argv would be worse than running nothing.
 */
function verificationCommands(steps: string | undefined): string[][] {
  if (steps === undefined) return [];
  const commands: string[][] = [];
  for (const line of steps.split(/\n|;/)) {
    const spans = [...line.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? '');
    const dollar = /^\s*(?:[-*+]\s+)?\$\s+(.+)$/.exec(line)?.[1];
    for (const candidate of spans.length > 0 ? spans : dollar ? [dollar] : []) {
      try {
        const argv = shellSplit(candidate.trim());
        if (argv.length > 0) commands.push(argv);
      } catch {
        // An unbalanced quote in prose is not a command; it stays in the contract text.
      }
    }
  }
  return commands;
}

function tierFor(aliasTier: number | undefined, taskType: string | undefined): MissionTier {
  if (aliasTier !== undefined) return `A${aliasTier}` as MissionTier;
  const type = (taskType ?? '').toLowerCase();
  if (type.includes('implementation')) return 'A5';
  if (type.includes('patch')) return 'A4';
  return 'A3';
}

const defaultObligations = [
  'Which files and locations are relevant to the goal?',
  'What evidence from those files supports the answer?',
  'What caveats, uncertainties or uninspected areas remain?',
];

export interface TaskContractOptions {
  /** From the model alias `mission-aN-…`; wins over TASK TYPE. */
  readonly aliasTier?: number;
  /** Seconds since the epoch, for the generated `native_task_<epoch>` id (tests pin it). */
  readonly nowSeconds?: number;
}

/**
 * Builds the raw MissionV1 object a task contract describes, or null when the text has no
 * GOAL/OBJECTIVE label (then it is not a contract and the caller reports missing_handoff).
 */
export function taskContractToMissionInput(
  text: string,
  options: TaskContractOptions = {},
): Record<string, unknown> | null {
  const fields = parseTaskContractFields(text);
  const objective = (fields.objective ?? fields.goal ?? '').replace(/\s*\n\s*/g, ' ').trim();
  if (fields.objective === undefined && fields.goal === undefined) return null;

  const tier = tierFor(options.aliasTier, fields.task_type);
  const implementation = isImplementationTier(tier);
  const readOnly = splitList(fields.read_only_paths);
  const owned = splitList(fields.owned_paths);
  const scope = splitScope([...new Set([...readOnly, ...owned])]);
  const firstPath = readOnly[0] ?? owned[0];
  const nowSeconds = options.nowSeconds ?? Math.floor(Date.now() / 1000);

  const contractText: Record<string, string> = { source: 'task_contract' };
  for (const key of [
    'role',
    'task_type',
    'deliverable',
    'verification_steps',
    'completion_rule',
    'escalation_rule',
  ] as const) {
    const value = fields[key];
    if (value !== undefined && value !== '') contractText[key] = value;
  }

  const mission: Record<string, unknown> = {
    schema_version: missionSchemaVersion,
    mission_id: fields.mission_id?.trim() || `native_task_${nowSeconds}`,
    tier,
    objective,
    risk_tier: 'low',
    write_allowed: tier === 'A5' || tier === 'A6',
    allowed_roots: scope.roots,
    allowed_paths: scope.exact,
    forbidden_roots: splitList(fields.do_not_touch),
    allowed_tool_classes: [...toolClasses],
    tool_budget: tier === 'A2' ? 8 : 14,
    time_budget_seconds: tier === 'A2' ? 90 : 150,
    must_inspect: firstPath === undefined ? [] : [firstPath],
    completion_contract: contractText,
  };

  if (implementation) {
    mission['objective_style'] = 'implementation';
    mission['owned_paths'] = owned;
    mission['read_only_paths'] = readOnly;
    mission['max_files_changed'] = Math.min(20, Math.max(1, owned.length));
    mission['verification_policy'] = {
      allowed_commands: verificationCommands(fields.verification_steps),
    };
  } else {
    const deliverables = splitList(fields.deliverable);
    mission['objective_style'] = 'open_investigation';
    mission['evidence_collection_mode'] = 'agenda_guided';
    mission['exploration_policy'] = {
      after_required_floor: 'allow_model_exploration',
      min_optional_actions_after_floor: 0,
      max_optional_actions_after_floor: 1,
      require_contradiction_search: false,
    };
    mission['answer_obligations'] =
      deliverables.length > 0
        ? deliverables.map((item) => `Provide ${item.replace(/[.\s]+$/, '')}.`)
        : [...defaultObligations];
  }
  return mission;
}

/**
 * A task contract as a validated MissionV1, or null when the text is not a contract. Throws
 * MissionInputError('invalid_mission') when the contract lacks what its tier needs.
 */
export function parseTaskContract(
  text: string,
  options: TaskContractOptions = {},
): MissionV1 | null {
  const input = taskContractToMissionInput(text, options);
  return input === null ? null : validateMission(input).mission;
}

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { CommentaryChannel, type CommentaryLine } from '../../src/runtime/commentary-channel.js';
import { EvidenceLedger } from '../../src/runtime/evidence-ledger.js';
import { admitMission } from '../../src/runtime/mission-admission.js';
import { createPathScope } from '../../src/runtime/path-scope.js';
import { redactSecrets } from '../../src/runtime/redact-secrets.js';
import { runTool } from '../../src/runtime/tools/registry.js';
import { type ToolContext } from '../../src/runtime/tools/types.js';
import { redactWithSecretlint } from '../../src/runtime/secretlint-pass.js';
import { handoff } from '../support/mission-fixtures.js';
import { corpus, type Sample } from './redaction-corpus-samples.js';

/**
 * Issue 9, Medium #4: every format of the corpus (redaction-corpus-samples.ts: the issue's named
 * formats, gitleaks' rule list, secretlint's preset) planted in a file, a file name and a commit,
 * and read back through every sink: the sync redactor (logs, events, the objective, reports),
 * read_file, search_text, the tool pass that adds secretlint, list_dir's names, git's output, the
 * commentary channel and the admitted objective. Prints the rate per format and per sink.
 */

const window = 12;
/** A secret leaks when any `window` characters of it in a row survive. */
function leaks(output: string, secret: string): boolean {
  if (secret.length <= window) return output.includes(secret);
  for (let at = 0; at + window <= secret.length; at++) {
    if (output.includes(secret.slice(at, at + window))) return true;
  }
  return false;
}

/**
 * A secret can be a file name when it is recognisable on its own (a name or command around it is
 * what makes some values secrets), has no `/`, fits, and is not `.`-hidden.
 */
const nameable = (sample: Sample) =>
  sample.standalone &&
  !/[/\n\0]/.test(sample.secret) &&
  !sample.secret.startsWith('.') &&
  Buffer.byteLength(sample.secret) < 240;

let root: string;
const fileOf = (index: number) => `src/sample-${String(index).padStart(3, '0')}.txt`;
function context(): ToolContext {
  const scope = createPathScope({
    projectRoot: root,
    allowedPaths: [],
    allowedRoots: ['src/'],
    forbiddenRoots: [],
    criticalRoots: [],
    criticalReadAllowed: false,
    criticalReason: null,
  });
  return { scope, projectRoot: root, signal: new AbortController().signal };
}

function git(args: string[], input?: string): string {
  return execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'corpus',
      GIT_AUTHOR_EMAIL: 'corpus@example.test',
      GIT_COMMITTER_NAME: 'corpus',
      GIT_COMMITTER_EMAIL: 'corpus@example.test',
    },
  });
}

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'redaction-corpus-')));
  mkdirSync(path.join(root, 'src', 'names'), { recursive: true });
  corpus.forEach((entry, index) => {
    writeFileSync(path.join(root, fileOf(index)), `${entry.text}\n`);
    if (nameable(entry)) writeFileSync(path.join(root, 'src', 'names', entry.secret), 'x\n');
  });
  // One commit per sample, its message the sample's text, written by one git process.
  git(['init', '-q', '-b', 'main']);
  let stream = '';
  corpus.forEach((entry, index) => {
    const message = `${entry.text}\n`;
    const content = `${index}\n`;
    stream +=
      `commit refs/heads/main\ncommitter corpus <corpus@example.test> ${1_700_000_000 + index} +0000\n` +
      `data ${Buffer.byteLength(message)}\n${message}` +
      `M 100644 inline src/log.txt\ndata ${Buffer.byteLength(content)}\n${content}\n`;
  });
  git(['fast-import', '--quiet'], stream);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sinks = [
  'redactSecrets',
  'read_file',
  'search_text',
  'tool pass (secretlint)',
  'list_dir names',
  'refs, files inspected',
  'git_show_stat',
  'commentary',
  'objective',
] as const;
type Sink = (typeof sinks)[number];

let secretlintAlone = 0;

async function measure(): Promise<Map<Sink, (boolean | undefined)[]>> {
  const ctx = context();
  const caught = new Map<Sink, (boolean | undefined)[]>(sinks.map((sink) => [sink, []]));
  const note = (sink: Sink, index: number, text: string) => {
    caught.get(sink)![index] = !leaks(text, corpus[index]?.secret ?? '');
  };
  const lines: CommentaryLine[] = [];
  const commentary = new CommentaryChannel({
    mode: 'detailed',
    maxEvents: corpus.length + 1,
    maxChars: 500,
    record: (line) => {
      lines.push(line);
      return Promise.resolve();
    },
  });
  // The objective as the runtime admits it: parsed from a handoff block, then redacted once for
  // every prompt, event, commentary line and report that quotes it.
  const config = loadConfig({
    cwd: root,
    env: { CODEX_OSS_PROJECT: root, ALLOW_MISSING_OPENCODE_KEY: '1', LOG_LEVEL: 'silent' },
  });
  const registry = new ModelRegistry({
    modelMap: {},
    fallbackMap: {},
    gptStrategy: 'error',
    gptOssFallback: 'deepseek-v4-pro',
  });
  const lane = registry.resolve('mission-a3-kimi');
  if (lane.lane !== 'managed') throw new Error('mission-a3-kimi is not a mission alias');
  const names = await runTool('list_dir', { path: 'src/names' }, ctx);
  expect(names.ok).toBe(true);
  for (const [index, entry] of corpus.entries()) {
    note('redactSecrets', index, redactSecrets(entry.text).text);
    const read = await runTool('read_file', { path: fileOf(index) }, ctx);
    expect(read.ok).toBe(true);
    note('read_file', index, read.text);
    // Search on a word next to the secret, in that one file, so the line comes back.
    const word = /[A-Za-z_]{3,}/.exec(entry.text.replace(entry.secret, ' '))?.[0] ?? '.';
    const search = await runTool('search_text', { pattern: word, path: fileOf(index) }, ctx);
    // Only a search that brought the line back tested anything.
    if (search.text.includes(fileOf(index))) note('search_text', index, search.text);
    note('tool pass (secretlint)', index, (await redactWithSecretlint(read.text)).text);
    // For comparison only (not a sink): what secretlint's preset finds on its own.
    const alone = (await redactWithSecretlint(entry.text)).text;
    if (!leaks(alone, entry.secret)) secretlintAlone++;
    if (nameable(entry)) {
      note('list_dir names', index, names.text);
      // A secret-named file read: the refs it earns, the report's files inspected, a cached read.
      const ledger = new EvidenceLedger();
      const args = { path: `src/names/${entry.secret}` };
      const named = await runTool('read_file', args, ctx);
      expect(named.ok).toBe(true);
      const { refs } = ledger.record(1, 'read_file', args, named);
      const cached = ledger.lookupRead(named.path ?? '')?.text ?? '';
      const shown = [...refs, ...ledger.refs(), JSON.stringify(ledger.filesInspected()), cached];
      expect(cached).not.toBe('');
      note('refs, files inspected', index, shown.join('\n'));
    }
    const show = await runTool('git_show_stat', { rev: `HEAD~${corpus.length - 1 - index}` }, ctx);
    expect(show.ok).toBe(true);
    note('git_show_stat', index, show.text);
    await commentary.say('tool_action_started', 'EXPLORE', entry.text);
    note('commentary', index, lines.at(-1)?.message ?? '');
    const admission = admitMission(
      {
        userTexts: [handoff({ objective: `Where is this used? ${entry.text}` })],
        model: 'mission-a3-kimi',
        missionAlias: lane.mission,
        signal: ctx.signal,
      },
      { config, registry },
    );
    if (!admission.ok) throw admission.error;
    note('objective', index, admission.prepared.mission.objective);
  }
  return caught;
}

describe('redaction corpus (issue 9 Medium #4)', () => {
  it('holds a broad corpus: gitleaks’ and secretlint’s formats besides the named ones', () => {
    const sources = new Set(corpus.map((sample) => sample.source));
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    expect([...sources].filter((source) => source.startsWith('gitleaks:')).length).toBeGreaterThan(
      130,
    );
    expect(
      [...sources].filter((source) => source.startsWith('secretlint:')).length,
    ).toBeGreaterThan(8);
    // Every sample really holds its secret (a split one once its line continuation is joined),
    // and no two formats share one.
    for (const sample of corpus) {
      expect(sample.text.replace(/\\\n[ \t]*/g, '')).toContain(sample.secret);
    }
    expect(new Set(corpus.map((sample) => sample.secret)).size).toBe(corpus.length);
  });

  it('redacts every named format in every sink, and at least 95% of the corpus in each', async () => {
    const caught = await measure();
    const rows = corpus.map((entry, index) => ({
      format: entry.name,
      ...Object.fromEntries(
        [...caught].map(([sink, list]) => [
          sink,
          list[index] === undefined ? '-' : list[index] ? 'ok' : 'LEAK',
        ]),
      ),
    }));
    console.table(rows);
    const rates = Object.fromEntries(
      [...caught].map(([sink, list]) => {
        const applicable = list.filter((value) => value !== undefined);
        const rate = applicable.filter(Boolean).length / applicable.length;
        return [
          sink,
          `${applicable.filter(Boolean).length}/${applicable.length} (${(rate * 100).toFixed(1)}%)`,
        ];
      }),
    );
    console.log(`redaction rate per sink over ${corpus.length} formats:`, rates);
    console.log(`secretlint's preset alone: ${secretlintAlone}/${corpus.length}`);
    const leaked = (index: number) => Object.values(rows[index] ?? {}).includes('LEAK');
    expect(rows.filter((_row, index) => corpus[index]?.named && leaked(index))).toEqual([]);
    // Beyond the rate: only an identifier may leak (see Sample.identifier), so one detector
    // that stops working turns this red even while the rate stays above 95%.
    expect(rows.filter((_row, index) => !corpus[index]?.identifier && leaked(index))).toEqual([]);
    for (const [sink, list] of caught) {
      const applicable = list.filter((value) => value !== undefined);
      expect(applicable.length, sink).toBeGreaterThan(0);
      expect(applicable.filter(Boolean).length / applicable.length, sink).toBeGreaterThanOrEqual(
        0.95,
      );
    }
  }, 180_000);
});

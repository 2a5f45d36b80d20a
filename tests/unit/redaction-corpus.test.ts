import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPathScope } from '../../src/runtime/path-scope.js';
import { redactSecrets } from '../../src/runtime/redact-secrets.js';
import { runTool } from '../../src/runtime/tools/registry.js';
import { type ToolContext } from '../../src/runtime/tools/types.js';
import { redactWithSecretlint } from '../../src/runtime/secretlint-pass.js';

/**
 * Issue 9, Medium #4: a corpus of secret formats (the ones the sweep found leaking, and a broad
 * set after secretlint's and gitleaks' published rule lists), each planted in a file and read
 * back through every sink: the sync redactor (logs, events, commentary, names), read_file,
 * search_text, and the tool pass that adds secretlint. Reports the rate per format and sink.
 * Values are assembled at run time so no scanner mistakes this file for a leak.
 */

const r = (chars: string, n: number, seed = 7): string => {
  let out = '';
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out += chars[x % chars.length] ?? 'a';
  }
  return out;
};
const hex = '0123456789abcdef';
const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

interface Sample {
  readonly name: string;
  /** A line (or lines) of a file holding the secret. */
  readonly text: string;
  /** The part that must not survive (a fragment long enough to be the secret). */
  readonly secret: string;
  /** Named in the issue: must be caught in every sink. */
  readonly named?: boolean;
}

function sample(name: string, secret: string, make: (s: string) => string, named = false): Sample {
  return { name, secret, text: make(secret), named };
}

const awsSecret = r(alnum + '/+', 40, 3);
const corpus: Sample[] = [
  // Named in the issue.
  sample(
    'aws key split over two lines',
    awsSecret,
    (s) => `aws_secret_access_key = "${s.slice(0, 20)}\\\n${s.slice(20)}"`,
    true,
  ),
  {
    name: 'aws key split over two lines (second half)',
    secret: awsSecret.slice(20),
    text: `aws_secret_access_key = "${awsSecret.slice(0, 20)}\\\n${awsSecret.slice(20)}"`,
    named: true,
  },
  sample(
    'token after shell line continuation',
    `ghp_${r(alnum, 36, 5)}`,
    (s) => `curl -H "Authorization: token \\\n  ${s}" https://api.github.com`,
    true,
  ),
  sample(
    'hex-encoded token',
    Buffer.from(`ghp_${r(alnum, 36, 9)}`).toString('hex'),
    (s) => `export GH_TOKEN_HEX=${s}`,
    true,
  ),
  sample(
    'glpat in prose',
    `glpat-${r(alnum, 20, 11)}`,
    (s) => `The deploy uses ${s} for the registry.`,
    true,
  ),
  sample('twilio api key', `SK${r(hex, 32, 13)}`, (s) => `twilio.init("${s}")`, true),
  sample('mailgun key', `key-${r(hex, 32, 17)}`, (s) => `mg = Mailgun("${s}")`, true),
  sample('databricks token', `dapi${r(hex, 32, 19)}`, (s) => `host = x; token_value: ${s}`, true),
  sample(
    'shopify access token',
    `shpat_${r(hex, 32, 23)}`,
    (s) => `client(${JSON.stringify(s)})`,
    true,
  ),
  sample('digitalocean token', `dop_v1_${r(hex, 64, 29)}`, (s) => `doctl auth init -t ${s}`, true),
  sample(
    'hugging face token',
    `hf_${r(alnum.slice(0, 52), 34, 31)}`,
    (s) => `login(${JSON.stringify(s)})`,
    true,
  ),
  sample(
    'sendgrid whole key',
    `SG.${r(alnum, 22, 37)}.${r(alnum, 43, 41)}`,
    (s) => `sg = SendGrid("${s}")`,
    true,
  ),
  {
    name: 'sendgrid second segment',
    secret: r(alnum, 43, 41),
    text: `sg = SendGrid("SG.${r(alnum, 22, 37)}.${r(alnum, 43, 41)}")`,
    named: true,
  },
  sample(
    'netrc password',
    r(alnum, 18, 43),
    (s) => `machine api.example.com login bob password ${s}`,
    true,
  ),
  sample('mysql -p', r(alnum, 14, 47), (s) => `mysql -u root -p${s} app`, true),
  sample('sshpass -p', r(alnum, 14, 53), (s) => `sshpass -p ${s} ssh deploy@host`, true),
  sample('password in a comment', r(alnum, 16, 59), (s) => `# the admin password is ${s}`, true),
  sample('const key = "…"', r(alnum, 32, 61), (s) => `const key = "${s}";`, true),
  sample(
    'url password with @',
    `p@ss${r(alnum, 12, 67)}`,
    (s) => `DATABASE=postgres://app:${s}@db.internal:5432/app`,
    true,
  ),
  // A broad corpus after secretlint's and gitleaks' rule lists.
  sample('aws access key id', `AKIA${r(upper, 16, 71)}`, (s) => `aws_access_key_id=${s}`),
  sample(
    'github pat fine-grained',
    `github_pat_${r(alnum, 22, 73)}_${r(alnum, 59, 79)}`,
    (s) => `token: ${s}`,
  ),
  sample('github oauth', `gho_${r(alnum, 36, 83)}`, (s) => `x = '${s}'`),
  sample(
    'slack bot token',
    `xoxb-${r('0123456789', 12, 89)}-${r('0123456789', 13, 97)}-${r(alnum, 24, 101)}`,
    (s) => `SLACK=${s}`,
  ),
  sample(
    'slack webhook',
    `https://hooks.slack.com/services/T${r(upper, 8, 103)}/B${r(upper, 8, 107)}/${r(alnum, 24, 109)}`,
    (s) => `url: ${s}`,
  ),
  sample('stripe live key', `sk_live_${r(alnum, 24, 113)}`, (s) => `Stripe(${JSON.stringify(s)})`),
  sample('stripe restricted key', `rk_live_${r(alnum, 24, 127)}`, (s) => `stripe = ${s}`),
  sample('openai key', `sk-proj-${r(alnum, 48, 131)}`, (s) => `OPENAI_API_KEY=${s}`),
  sample(
    'anthropic key',
    `sk-ant-api03-${r(alnum, 80, 137)}`,
    (s) => `client = Anthropic(api_key="${s}")`,
  ),
  sample('google api key', `AIza${r(alnum + '-_', 35, 139)}`, (s) => `maps?key=${s}`),
  sample('npm token', `npm_${r(alnum, 36, 149)}`, (s) => `//registry.npmjs.org/:_authToken=${s}`),
  sample('pypi token', `pypi-AgEIcHlwaS5vcmc${r(alnum, 60, 151)}`, (s) => `password = ${s}`),
  sample(
    'jwt',
    `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx${r(alnum, 20, 157)}.${r(alnum, 43, 163)}`,
    (s) => `cookie: session=${s}`,
  ),
  sample(
    'private key block',
    r(alnum, 64, 167),
    (s) => `-----BEGIN RSA PRIVATE KEY-----\n${s}\n-----END RSA PRIVATE KEY-----`,
  ),
  sample(
    'basic auth header',
    Buffer.from(`admin:${r(alnum, 12, 173)}`).toString('base64'),
    (s) => `Authorization: Basic ${s}`,
  ),
  sample('bearer header', r(alnum, 40, 179), (s) => `Authorization: Bearer ${s}`),
  sample('gitlab runner token', `glrt-${r(alnum, 20, 181)}`, (s) => `runner ${s}`),
  sample('linear api key', `lin_api_${r(alnum, 40, 191)}`, (s) => `LINEAR=${s}`),
  sample(
    'azure storage key',
    `${r(alnum + '+/', 86, 193)}==`,
    (s) =>
      `DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${s};EndpointSuffix=core.windows.net`,
  ),
  sample('password env', r(alnum, 20, 197), (s) => `POSTGRES_PASSWORD=${s}`),
  sample('yaml secret', r(alnum, 24, 199), (s) => `client_secret: ${s}`),
  sample(
    'discord bot token',
    `${r(alnum, 24, 211)}.${r(alnum, 6, 223)}.${r(alnum, 38, 227)}`,
    (s) => `bot.login("${s}")`,
  ),
  sample(
    'telegram bot token',
    `${r('0123456789', 10, 229)}:AA${r(alnum, 33, 233)}`,
    (s) => `TELEGRAM_TOKEN=${s}`,
  ),
  sample('square token', `EAAA${r(alnum, 60, 239)}`, (s) => `square: ${s}`),
  sample(
    'mapbox token',
    `pk.eyJ1Ijo${r(alnum, 50, 241)}.${r(alnum, 22, 251)}`,
    (s) => `mapboxgl.accessToken = '${s}'`,
  ),
  sample('newrelic key', `NRAK-${r(upper, 27, 257)}`, (s) => `NEW_RELIC=${s}`),
  sample('doppler token', `dp.pt.${r(alnum, 43, 263)}`, (s) => `doppler ${s}`),
  sample(
    'heroku api key env',
    `${r(hex, 8, 269)}-${r(hex, 4, 271)}-${r(hex, 4, 277)}-${r(hex, 4, 281)}-${r(hex, 12, 283)}`,
    (s) => `HEROKU_API_KEY=${s}`,
  ),
  sample('age secret key', `AGE-SECRET-KEY-1${r(upper, 58, 293)}`, (s) => s),
  sample(
    '1password secret key',
    `A3-${r(upper, 6, 307)}-${r(upper, 11, 311)}-${r(upper, 5, 313)}-${r(upper, 5, 317)}-${r(upper, 5, 331)}`,
    (s) => `op secret: ${s}`,
  ),
];

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

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'redaction-corpus-')));
  mkdirSync(path.join(root, 'src'));
  corpus.forEach((entry, index) =>
    writeFileSync(path.join(root, fileOf(index)), `${entry.text}\n`),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Sink = 'redactSecrets' | 'read_file' | 'search_text' | 'tool pass (secretlint)';

describe('redaction corpus (issue 9 Medium #4)', () => {
  it('redacts every named format in every sink, and at least 95% of the corpus', async () => {
    const ctx = context();
    const caught = new Map<Sink, boolean[]>();
    const note = (sink: Sink, index: number, text: string) => {
      const list = caught.get(sink) ?? [];
      list[index] = !text.includes(corpus[index]?.secret ?? '');
      caught.set(sink, list);
    };
    for (const [index, entry] of corpus.entries()) {
      note('redactSecrets', index, redactSecrets(entry.text).text);
      const read = await runTool('read_file', { path: fileOf(index) }, ctx);
      note('read_file', index, read.text);
      // Search on a word next to the secret, in that one file, so the line comes back.
      const word = /[A-Za-z_]{3,}/.exec(entry.text.replace(entry.secret, ' '))?.[0] ?? 'a';
      const search = await runTool('search_text', { pattern: word, path: fileOf(index) }, ctx);
      note('search_text', index, search.text);
      note('tool pass (secretlint)', index, (await redactWithSecretlint(read.text)).text);
    }
    const rows = corpus.map((entry, index) => ({
      format: entry.name,
      ...Object.fromEntries([...caught].map(([sink, list]) => [sink, list[index] ? 'ok' : 'LEAK'])),
    }));
    console.table(rows);
    const rates = Object.fromEntries(
      [...caught].map(([sink, list]) => [sink, `${list.filter(Boolean).length}/${corpus.length}`]),
    );
    console.log('redaction rate per sink:', rates);
    const leaks = rows.filter(
      (row, index) => corpus[index]?.named && Object.values(row).includes('LEAK'),
    );
    expect(leaks).toEqual([]);
    for (const [, list] of caught) {
      expect(list.filter(Boolean).length / corpus.length).toBeGreaterThanOrEqual(0.95);
    }
  }, 120_000);
});

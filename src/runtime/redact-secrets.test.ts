import { describe, expect, it } from 'vitest';
import { containsSecret, redactSecrets } from './redact-secrets.js';

// Fake credentials assembled at run time, so this file holds no literal that scanners flag.
const fakeKey = (prefix: string, length: number): string =>
  prefix + 'aB3xK9mQ7zR2tW5yP8nL4vC6'.repeat(4).slice(0, length);

const truePositives: readonly { name: string; input: string; leaked: string }[] = [
  {
    name: 'OpenCode key in env file',
    input: `OPENCODE_GO_API_KEY=${fakeKey('sk-', 40)}`,
    leaked: fakeKey('sk-', 40),
  },
  {
    name: 'bare sk- key in prose',
    input: `use ${fakeKey('sk-proj-', 30)} here`,
    leaked: fakeKey('sk-proj-', 30),
  },
  {
    name: 'bearer header',
    input: `Authorization: Bearer ${fakeKey('', 32)}`,
    leaked: fakeKey('', 32),
  },
  {
    name: 'JSON api key',
    input: `{"OPENAI_API_KEY": "not-a-real-value-123"}`,
    leaked: 'not-a-real-value-123',
  },
  { name: 'YAML password', input: 'db:\n  password: hunter2hunter2', leaked: 'hunter2hunter2' },
  {
    name: 'quoted code assignment',
    input: `const GITHUB_TOKEN = "abcdef123456";`,
    leaked: 'abcdef123456',
  },
  {
    name: 'database url',
    input: 'DATABASE_URL=postgres://app:s3cr3t@db.internal:5432/app',
    leaked: 's3cr3t',
  },
  { name: 'AUTH_TOKEN', input: 'export AUTH_TOKEN=tok_live_value', leaked: 'tok_live_value' },
  { name: 'any *_SECRET', input: 'JWT_SECRET=changeme-please', leaked: 'changeme-please' },
  { name: 'any *_PASSWORD', input: 'SMTP_PASSWORD=pa55word!', leaked: 'pa55word!' },
  { name: 'plain PASSWORD', input: 'PASSWORD=letmein', leaked: 'letmein' },
  {
    name: 'GitHub classic token',
    input: `token ${fakeKey('ghp_', 36)}`,
    leaked: fakeKey('ghp_', 36),
  },
  { name: 'GitHub OAuth token', input: `x ${fakeKey('gho_', 36)}`, leaked: fakeKey('gho_', 36) },
  {
    name: 'GitHub fine-grained token',
    input: `x ${fakeKey('github_pat_', 50)}`,
    leaked: fakeKey('github_pat_', 50),
  },
  {
    name: 'Slack token',
    input: `slack xoxb-1234567890-abcdefghij`,
    leaked: 'xoxb-1234567890-abcdefghij',
  },
  {
    name: 'AWS access key id',
    input: 'key AKIAIOSFODNN7EXAMPLE in config',
    leaked: 'AKIAIOSFODNN7EXAMPLE',
  },
  {
    name: 'AWS secret access key',
    input: 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    leaked: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  },
  {
    name: 'JWT',
    input:
      'cookie=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    leaked: 'eyJzdWIiOiIxMjM0NTY3ODkwIn0',
  },
  {
    name: 'URL credentials',
    input: 'clone https://deploy:hunter2@git.example.com/repo.git',
    leaked: 'hunter2',
  },
  { name: 'high-entropy token', input: `token = ${fakeKey('', 40)}`, leaked: fakeKey('', 40) },
  {
    name: 'high-entropy bare',
    input: `value: Zx8Qm2Lp9Rt4Vw7Ny3Kb6Hd1Jf5Gs0Ac`,
    leaked: 'Zx8Qm2Lp9Rt4Vw7Ny3Kb6Hd1Jf5Gs0Ac',
  },
  {
    name: '32 hex api key',
    input: 'apikey 9f86d081884c7d659a2feaa0c55ad015',
    leaked: '9f86d081884c7d659a2feaa0c55ad015',
  },
  { name: 'flag form', input: 'run --api-key=abc123def456', leaked: 'abc123def456' },
];

const trueNegatives: readonly string[] = [
  'commit 3f786850e387550fdab836ed7e6dc881de23001b fixes the parser',
  'sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'const handleUserAuthenticationCallbackWithRetries = () => {};',
  'export function normalizeToolArgumentsForSearchTextRequests() {}',
  'const MAX_TOOL_BUDGET_FOR_MANAGED_INVESTIGATIONS = 20;',
  'import { something } from "../../packages/very-long-package-name/src/components/button-group";',
  'see https://github.com/openai/openai-node/blob/main/src/resources/responses/responses.ts',
  'path: node_modules/@typescript-eslint/eslint-plugin/dist/rules/no-unnecessary-condition.js',
  'password: string;',
  'readonly apiKey: string | undefined;',
  'token: this.token,',
  'const token = await getToken();',
  'OPENAI_API_KEY=${OPENAI_API_KEY}',
  'const OPENAI_API_KEY = process.env.OPENAI_API_KEY;',
  'max_tokens: 4096',
  '"integrity": "sha512-2hF0NcNfA9Z7PL1u8EyPxSbqIcX4iNvHuUZKvMh2qgBO2zmBPlHwqY8W6K4Sj9lA5xW2rS1Tb8yGe7Q0wP5UnA=="',
  'task-runner-for-the-whole-project-and-more-words',
  'uuid 123e4567-e89b-12d3-a456-426614174000',
  'The authentication token expires after one hour.',
  'risk-assessment-and-mitigation-plan-for-release',
  '-----BEGIN PUBLIC KEY----- is fine to show',
];

describe('redactSecrets', () => {
  for (const { name, input, leaked } of truePositives) {
    it(`redacts: ${name}`, () => {
      const result = redactSecrets(input);
      expect(result.text).not.toContain(leaked);
      expect(result.text).toContain('[REDACTED]');
      expect(result.count).toBeGreaterThan(0);
      expect(result.kinds.length).toBeGreaterThan(0);
      expect(containsSecret(input)).toBe(true);
    });
  }

  for (const input of trueNegatives) {
    it(`keeps: ${input.slice(0, 60)}`, () => {
      const result = redactSecrets(input);
      expect(result.text).toBe(input);
      expect(result.count).toBe(0);
      expect(containsSecret(input)).toBe(false);
    });
  }

  it('keeps the name and quotes of a named secret', () => {
    expect(redactSecrets('OPENAI_API_KEY=abc123').text).toBe('OPENAI_API_KEY=[REDACTED]');
    expect(redactSecrets('{"AUTH_TOKEN": "abc123"}').text).toBe('{"AUTH_TOKEN": "[REDACTED]"}');
    expect(redactSecrets('postgres://user:pw@localhost/db').text).toBe(
      'postgres://[REDACTED]@localhost/db',
    );
  });

  it('replaces a whole PEM private key block and keeps the line count', () => {
    const body = Array.from(
      { length: 5 },
      (_, i) => `MIIEowIBAAKCAQEA${i}xYz0123456789abcdefABCDEF+/`,
    ).join('\n');
    const pem = `before\n-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\nafter`;
    const result = redactSecrets(pem);
    expect(result.text).not.toContain('MIIE');
    expect(result.text).not.toContain('PRIVATE KEY');
    expect(result.text.split('\n')).toHaveLength(pem.split('\n').length);
    expect(result.text.startsWith('before\n[REDACTED]')).toBe(true);
    expect(result.text.endsWith('\nafter')).toBe(true);
    expect(result.kinds).toContain('private_key');
  });

  it('redacts a PEM block cut short by a read cap to the end of the text', () => {
    const result = redactSecrets(
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA',
    );
    expect(result.text).not.toContain('b3BlbnNz');
  });

  it('counts every redaction', () => {
    const result = redactSecrets(`A_TOKEN=one\nB_TOKEN=two\n${fakeKey('sk-', 30)}`);
    expect(result.count).toBe(3);
  });
});

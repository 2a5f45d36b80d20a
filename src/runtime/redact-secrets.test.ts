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
    name: 'password named in a comment',
    input: '# the staging password is Winter2024!',
    leaked: 'Winter2024!',
  },
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
  // Verified by the security review: every one of these used to reach the model.
  {
    name: 'docker-compose POSTGRES_PASSWORD (letters-only YAML value)',
    input: 'services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: mysecretpassword\n',
    leaked: 'mysecretpassword',
  },
  {
    name: 'docker-compose MYSQL_ROOT_PASSWORD',
    input: '    MYSQL_ROOT_PASSWORD: rootpass',
    leaked: 'rootpass',
  },
  {
    name: 'PGPASSWORD (no separator before PASSWORD)',
    input: 'PGPASSWORD=hunter2',
    leaked: 'hunter2',
  },
  {
    name: 'PGPASSWORD before a command',
    input: 'PGPASSWORD=hunter2 psql -h db',
    leaked: 'hunter2',
  },
  { name: 'GITHUBTOKEN (no separator)', input: 'GITHUBTOKEN=abc123def', leaked: 'abc123def' },
  { name: 'DB_PASS', input: 'DB_PASS=hunter2', leaked: 'hunter2' },
  { name: 'MYSQL_PWD', input: 'MYSQL_PWD=hunter2', leaked: 'hunter2' },
  { name: 'any *_KEY', input: 'JWT_SIGNING_KEY=supersecretvalue', leaked: 'supersecretvalue' },
  {
    name: 'Authorization: Basic',
    input: 'Authorization: Basic dXNlcjpwYXNzd29yZA==',
    leaked: 'dXNlcjpwYXNzd29yZA==',
  },
  // Close relatives.
  { name: '*_PASSWD', input: 'SMTP_PASSWD=s3cret', leaked: 's3cret' },
  {
    name: '*_SECRET_KEY',
    input: 'DJANGO_SECRET_KEY=django-insecure-abc',
    leaked: 'django-insecure-abc',
  },
  {
    name: '*_PRIVATE_KEY value',
    input: 'APP_PRIVATE_KEY=0xdeadbeefcafe',
    leaked: '0xdeadbeefcafe',
  },
  {
    name: '*_CREDENTIALS',
    input: 'GCP_CREDENTIALS=\'{"type":"service_account"}\'',
    leaked: 'service_account',
  },
  { name: '*_AUTH', input: 'BASIC_AUTH=admin:opensesame', leaked: 'opensesame' },
  {
    name: '.netrc on one line',
    input: 'machine api.example.com login deploy password s3cretpw',
    leaked: 's3cretpw',
  },
  {
    name: '.netrc on several lines',
    input: 'machine api.example.com\n  login deploy\n  password s3cretpw\n',
    leaked: 's3cretpw',
  },
  {
    name: '.netrc read through read_file (line gutter)',
    input: '  1| machine api.example.com\n  2|   login deploy\n  3|   password s3cretpw\n',
    leaked: 's3cretpw',
  },
  {
    name: '.npmrc auth token',
    input: '//registry.npmjs.org/:_authToken=npm_abcdef123456',
    leaked: 'npm_abcdef123456',
  },
  {
    name: '.npmrc _auth',
    input: '//registry.example.com/:_auth=dXNlcjpwYXNz',
    leaked: 'dXNlcjpwYXNz',
  },
  {
    name: 'AWS credentials file (ini, lower case, letters only)',
    input:
      '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMIK7MDENG\n',
    leaked: 'wJalrXUtnFEMIK7MDENG',
  },
  {
    name: 'docker config.json auth',
    input: '{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNzd29yZA=="}}}',
    leaked: 'dXNlcjpwYXNzd29yZA==',
  },
  {
    name: 'mongodb+srv connection string',
    input: 'MONGO_URI=mongodb+srv://app:hunter2@cluster0.example.net/db',
    leaked: 'hunter2',
  },
  {
    name: 'mongodb+srv in YAML',
    input: 'uri: mongodb+srv://app:hunter2@cluster0.example.net/db',
    leaked: 'hunter2',
  },
  {
    name: 'redis URL with password only',
    input: 'redis://:hunter2@cache:6379/0',
    leaked: 'hunter2',
  },
  {
    name: 'ADO.NET connection string',
    input: 'Server=db;Database=app;User Id=sa;Password=hunter2;',
    leaked: 'hunter2',
  },
  {
    name: 'secret assignment inside a non-secret value',
    input: 'docker build --build-arg=NPM_TOKEN=abc123def .',
    leaked: 'abc123def',
  },
  { name: 'lower-case env', input: 'db_password=hunter2', leaked: 'hunter2' },
  { name: 'camelCase JSON key', input: '{"clientSecret":"abc123def"}', leaked: 'abc123def' },
  { name: 'Python dict', input: "config = {'api_key': 'abc123def'}", leaked: 'abc123def' },
  {
    name: 'Java properties',
    input: 'spring.datasource.password=hunter2',
    leaked: 'hunter2',
  },
  {
    name: 'YAML plain word under a lower-case name',
    input: 'password: opensesame',
    leaked: 'opensesame',
  },
  {
    name: 'YAML value with a comment',
    input: 'api_token: abcdefgh  # rotate me',
    leaked: 'abcdefgh',
  },
  {
    name: 'YAML default in a reference',
    input: 'POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-hunter2}',
    leaked: 'hunter2',
  },
  {
    name: 'YAML block scalar',
    input: 'db:\n  password: |\n    correct horse\n    battery staple\nother: 1',
    leaked: 'horse',
  },
  {
    name: 'Kubernetes env list',
    input: '- name: DB_PASSWORD\n  value: hunter2',
    leaked: 'hunter2',
  },
  { name: 'Dockerfile ENV', input: 'ENV POSTGRES_PASSWORD hunter2', leaked: 'hunter2' },
  {
    name: 'CLI flag with a space',
    input: 'mysqladmin --password hunter2 status',
    leaked: 'hunter2',
  },
  { name: 'curl -u', input: 'curl -u admin:hunter2 https://api.example.com', leaked: 'hunter2' },
  {
    name: 'Basic credentials in a curl header',
    input: 'curl -H "Authorization: Basic YWRtaW46aHVudGVyMg==" https://x',
    leaked: 'YWRtaW46aHVudGVyMg==',
  },
  {
    name: 'Authorization header with a short token',
    input: 'Authorization: Token abc123',
    leaked: 'abc123',
  },
  { name: 'Go := with a string', input: 'password := "hunter2"', leaked: 'hunter2' },
  {
    name: 'keyword argument with a literal',
    input: 'connect(password="hunter2")',
    leaked: 'hunter2',
  },
  {
    name: 'JSON password equal to a common word',
    input: '{"DB_PASSWORD": "postgres"}',
    leaked: 'postgres',
  },
  { name: 'weak default in env', input: 'PASSWORD=changeme', leaked: 'changeme' },
  { name: 'PHP define', input: "define('DB_PASSWORD', 'hunter2');", leaked: 'hunter2' },
  {
    name: 'default in an environment lookup',
    input: 'os.getenv("API_TOKEN", "tok-default-123")',
    leaked: 'tok-default-123',
  },
  { name: 'XML element', input: '<password>hunter2</password>', leaked: 'hunter2' },
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
  // TypeScript: types, expressions and variables named like secrets are code, not secrets.
  'interface Login { username: string; password: string; remember?: boolean }',
  'const passwordField = form.password;',
  'if (token === undefined) return;',
  'const key = getApiKey();',
  '  apiKey: options.apiKey ?? process.env.OPENAI_API_KEY,',
  'headers: { Authorization: `Bearer ${token}` },',
  'headers.Authorization = `Bearer ${token}`;',
  '  password: z.string().min(8),',
  '  password: hashedPassword,',
  '  token: accessToken',
  'this.token = token;',
  'let token: string | undefined;',
  'token ||= await refresh();',
  'password !== confirmPassword',
  'if (password == null) {',
  'constructor(private readonly token: string) {}',
  'cancellationToken: CancellationToken',
  'token: Token | null',
  'const lastToken = tokens[tokens.length - 1];',
  // Prose about a password or a secret, not one.
  'The secret is recognisable on its own, with no name around it.',
  '# the password is stored in the vault, never here.',
  // Words and names that merely start like a vendor token's prefix, or share its shape.
  'NotificationServiceProvider.config.defaultNotificationChannelName',
  'ModuleFederationPluginOptions.shared.eagerlyLoadedRemoteModuleNames',
  'git checkout patch-release-2024 && npm run pat:lint',
  'pul-request-template.md and pubkey-format: ed25519',
  'rubygems_mirror: https://rubygems.org  # shippo_live_mode: true',
  'sm_pat_cache_ttl = 3600; sgp_local_config = "./sgp.json"',
  'tfp_version: 2; rdme_sync: false; ico-spinner; sq0atp-style tokens',
  'CLOJARS_USERNAME=deploy; FLWSECK_TEST-mode is off; dt0c01.example is the prefix',
  'API-GATEWAY-CONFIGURATION and API-V2 are route names',
  'See GR1348941 (the runner registration prefix) in the docs.',
  'pk.eyJ is how a Mapbox token starts',
  'order 1234567890123456|shipped-to-warehouse-building-b',
  'user.password = await hash(password, 10);',
  'const STORAGE_KEY = "app-theme";',
  "fetch(url, { credentials: 'include' })",
  'const SECRET_TTL = 3600;',
  'export const redactionMarker = "[REDACTED]";',
  '<input type="password" name="password" autocomplete="current-password" />',
  // Python.
  'def login(self, username: str, password: str) -> bool:',
  'password: Optional[str] = None',
  'self.token = token',
  'self.api_key = api_key',
  '    db.connect(host=host, password=password)',
  'login(user, password=self.password)',
  'SECRET_KEY = os.environ["SECRET_KEY"]',
  'password = getpass.getpass("Password: ")',
  'token = response.json()["access_token"]',
  'api_key = None',
  // Go and Java.
  'password := os.Getenv("DB_PASSWORD")',
  'Password string `json:"password"`',
  'String password = request.getParameter("password");',
  // YAML and env: keys without values, references, placeholders, lookup keys, settings.
  'services:\n  db:\n    environment:\n      POSTGRES_PASSWORD:\n      POSTGRES_USER: app',
  'password:\n  type: string\n  minLength: 8',
  '      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}',
  'GITHUB_TOKEN=$GITHUB_TOKEN',
  'token: ${{ secrets.GITHUB_TOKEN }}',
  'password: "{{ .Values.db.password }}"',
  'API_KEY=<your-key>',
  'API_KEY=xxx',
  'API_KEY=',
  'PASSWORD=""',
  'DB_PASSWORD=***',
  'password: *default_password',
  'token: process.env.TOKEN',
  'GOOGLE_APPLICATION_CREDENTIALS=/etc/gcp/key.json',
  'maxTokens: 4096',
  'MAX_TOKENS=4096',
  'max_token: 100',
  'PASSWORD_MIN_LENGTH=8',
  'sort_key: created_at',
  'primary_key: id',
  'auth: oauth2',
  'auth: true',
  'PWD=/home/user/project',
  'bypass: true',
  'isSecret: false',
  'kind: Secret',
  'secretName: db-credentials',
  // Markdown and prose mentioning passwords and tokens.
  '## Password reset',
  'The password must be at least 8 characters.',
  'Set `DB_PASSWORD` in your `.env` file.',
  'Password: must contain a digit and a symbol',
  '- **password**: the user password',
  '| password | string | The user password |',
  'Use the --password flag to pass the password.',
  'password protected',
  'Basic usage',
  'Basic authentication is supported.',
  'Authorization: string;',
  // Code from this repository that an earlier draft over-redacted.
  "['password', 'token', 'secret']",
  "io.stdout.write(`${check.ok ? 'PASS' : 'FAIL'} ${check.name}`);",
  'config.get("password", "")',
  't("password", "Password")',
  'const CHARS_PER_TOKEN = 4;',
  'env_key = "OPENCODE_BRIDGE_KEY"',
  "'export OPENCODE_GO_API_KEY=<your key from opencode.ai>, then restart',",
  'var a=1,b=function(c){return c.token=d.password,e};',
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

  it('reports what kind of secret each redaction was', () => {
    expect(redactSecrets('PGPASSWORD=hunter2').kinds).toEqual(['named_password']);
    expect(redactSecrets('GITHUBTOKEN=abc123def').kinds).toEqual(['named_token']);
    expect(redactSecrets('JWT_SIGNING_KEY=abc').kinds).toEqual(['named_key']);
    expect(redactSecrets('STRIPE_SECRET=abc').kinds).toEqual(['named_secret']);
    expect(redactSecrets('Authorization: Basic dXNlcjpwYXNzd29yZA==').kinds).toEqual([
      'basic_auth',
    ]);
    expect(redactSecrets('machine h login u password p4ss').kinds).toEqual(['netrc_password']);
    expect(redactSecrets('mongodb+srv://u:p@h/db').kinds).toEqual(['url_credentials']);
  });

  it('keeps names, separators, quotes and code punctuation around a redacted value', () => {
    expect(redactSecrets('POSTGRES_PASSWORD: mysecretpassword').text).toBe(
      'POSTGRES_PASSWORD: [REDACTED]',
    );
    expect(redactSecrets('PGPASSWORD=hunter2 psql -h db').text).toBe(
      'PGPASSWORD=[REDACTED] psql -h db',
    );
    expect(redactSecrets("{'api_key': 'abc123'}").text).toBe("{'api_key': '[REDACTED]'}");
    expect(redactSecrets('Authorization: Basic dXNlcjpwYXNzd29yZA==').text).toBe(
      'Authorization: Basic [REDACTED]',
    );
    expect(redactSecrets('//registry.npmjs.org/:_authToken=npm_abc').text).toBe(
      '//registry.npmjs.org/:_authToken=[REDACTED]',
    );
    expect(redactSecrets('Server=db;Password=hunter2;Port=5432').text).toBe(
      'Server=db;Password=[REDACTED]',
    );
    expect(redactSecrets('login(password=hunter2)').text).toBe('login(password=[REDACTED])');
  });

  it('redacts a YAML block scalar line by line, keeping indentation and line count', () => {
    const input =
      '  4| db:\n  5|   password: |\n  6|     correct horse\n  7|\n  8|     staple\n  9|   user: app';
    expect(redactSecrets(input).text).toBe(
      '  4| db:\n  5|   password: |\n  6|     [REDACTED]\n  7|\n  8|     [REDACTED]\n  9|   user: app',
    );
  });

  it('keeps the demo secrets redacted', () => {
    const stripe = `export const billingConfig = 'STRIPE_SECRET=sk-demo-${'4f9a8b7c'.repeat(4)}';`;
    expect(redactSecrets(stripe).text).toBe(
      "export const billingConfig = 'STRIPE_SECRET=[REDACTED]';",
    );
    expect(redactSecrets('DATABASE_URL=postgres://app:s3cr3t@db:5432/app').text).not.toContain(
      's3cr3t',
    );
  });

  describe('cost stays linear', () => {
    // Patterns were checked by hand for nested quantifiers over overlapping classes (see the
    // comment above the detectors). These tests back that up without a timing assertion: a
    // quadratic pattern needs minutes on 1 MB (an earlier draft took 58 s on `password=f(`), so
    // finishing within vitest's default 5 s timeout is the check.
    const ordinaryModule = [
      "import { createHash } from 'node:crypto';",
      'export interface Credentials { username: string; password: string; token?: string }',
      'export async function login(credentials: Credentials): Promise<Session> {',
      '  const { username, password } = credentials;',
      '  if (password === undefined || password.length < 8) throw new Error("short password");',
      "  const digest = createHash('sha256').update(password).digest('hex');",
      '  const token = await issueToken({ username, digest });',
      '  return { username, token: token, expiresAt: Date.now() + SESSION_TTL_MS };',
      '}',
      '// The password and the token never leave this module.',
      'const SESSION_TTL_MS = 60 * 60 * 1000;',
    ].join('\n');

    it('leaves 1 MB of ordinary source code unchanged', () => {
      const unit = [ordinaryModule, ...trueNegatives].join('\n') + '\n';
      const source = unit.repeat(Math.ceil(1_000_000 / unit.length));
      expect(source.length).toBeGreaterThanOrEqual(1_000_000);
      const result = redactSecrets(source);
      expect(result.count).toBe(0);
      expect(result.text).toBe(source);
    });

    const adversarial: Record<string, string> = {
      'dashed run': 'a-'.repeat(500_000),
      'dotted run': 'a.'.repeat(500_000),
      'chained assignments': 'a='.repeat(500_000),
      'unclosed calls': 'password=f('.repeat(90_000) + ')'.repeat(90_000),
      'unclosed references': 'password=' + '$('.repeat(500_000),
      'unclosed templates': 'password: "' + '{{'.repeat(500_000),
      'one long identifier': 'x'.repeat(1_000_000),
      'whitespace after a name': 'token' + ' '.repeat(1_000_000),
      'quoted keys': '"a": '.repeat(200_000),
      'schemes without credentials': 'http://a'.repeat(125_000),
      'netrc words': 'password '.repeat(110_000),
      'block scalars': '  1| password: |\n'.repeat(60_000),
      'dotted runs shaped like Discord tokens': `M${'a'.repeat(25)}.abcdef.`.repeat(30_000),
      'long numbers and bars': '1234567890123456|'.repeat(60_000),
      'webhook paths': '.webhook.office.com/webhookb2/' + 'a@'.repeat(500_000),
      'Terraform-shaped runs': `${'a'.repeat(14)}.atlasv1.`.repeat(40_000),
      'Mapbox-shaped runs': 'pk.eyJ'.repeat(170_000),
      'NuGet entries': '<add key="Password" value="'.repeat(35_000),
      'prefixed runs': 'sc_aaaaa.aaaa.acc_'.repeat(55_000),
    };
    for (const [name, input] of Object.entries(adversarial)) {
      it(`finishes on 1 MB of ${name}`, () => {
        expect(typeof redactSecrets(input).text).toBe('string');
      });
    }
  });

  it('counts every redaction', () => {
    const result = redactSecrets(`A_TOKEN=one\nB_TOKEN=two\n${fakeKey('sk-', 30)}`);
    expect(result.count).toBe(3);
  });
});

describe('secret names', () => {
  it('names the kind of secret from how the name ends', () => {
    const kinds = (input: string) => redactSecrets(input).kinds;
    expect(kinds('PASS=hunter2')).toEqual(['named_password']);
    expect(kinds('DB_PASS=hunter2')).toEqual(['named_password']);
    expect(kinds('API_KEY=abc123')).toEqual(['named_key']);
    expect(kinds('GCP_CREDENTIALS=abc123')).toEqual(['named_credentials']);
    expect(kinds('DATABASE_URL=postgres://x')).toEqual(['named_connection_string']);
    expect(kinds('SESSION_AUTH=abc123')).toEqual(['named_auth']);
  });

  it('a trailing underscore (a keyword-clash rename) does not hide a secret name', () => {
    expect(redactSecrets('password_ = "hunter2"').text).toBe('password_ = "[REDACTED]"');
    expect(redactSecrets('DB_PASSWORD__=hunter2').text).toBe('DB_PASSWORD__=[REDACTED]');
  });

  it('keeps the shell working directory and lookup keys named by their last word', () => {
    for (const input of ['PWD=/home/app', 'KEY=name', 'DYNAMO_SORT_KEY=created_at']) {
      expect(redactSecrets(input).text, input).toBe(input);
    }
  });
});

describe('the generic high-entropy detector', () => {
  const bare = (token: string) => redactSecrets(`see ${token} here`);
  const hex32 = '9f86d081884c7d659a2feaa0c55ad015';

  it('redacts an opaque token with no name around it, as high_entropy', () => {
    for (const token of [
      'Zx8Qm2Lp9Rt4Vw7Ny3Kb6Hd1Jf5Gs0Ac',
      // base64url with separators is still one opaque token
      'aB3xK9mQ7z-R2tW5yP8nL-4vC6qJ1s-k7',
      // an integrity prefix counts only at the start
      'aB3xK9mQ7zsha256-R2tW5yP8nL4vC6qJ1s',
      // hex that is not a SHA-1, sha256 or sha512 length
      `${hex32}9f86d081aa`,
      hex32.repeat(3),
    ]) {
      const result = bare(token);
      expect(result.text, token).toBe('see [REDACTED] here');
      expect(result.kinds, token).toEqual(['high_entropy']);
    }
  });

  it('keeps digests, integrity hashes, paths and patterned hex', () => {
    for (const token of [
      // sha512 digest (128 hex), SRI integrity value
      hex32.repeat(4),
      'sha256-aB3xK9mQ7zR2tW5yP8nL4vC6qJ1s',
      // a path of ordinary words, absolute
      '/docs/Reports/Q3/Summary2024/PDF/Chart12',
      // hex with little variety, and hex in long same-class runs
      '0a'.repeat(18),
      '0123456789abcdef0123456789abcdefabcdef01ab',
      // padding does not count towards the 32 characters
      'aB3xK9mQ7zR2tW5yP8nL4vC6qJ1==',
    ]) {
      expect(bare(token).text, token).toBe(`see ${token} here`);
    }
  });
});

describe('YAML block scalars', () => {
  it('treats folded and indented headers as block scalars too', () => {
    for (const header of ['>-', '|2', '|+']) {
      expect(redactSecrets(`db:\n  password: ${header}\n    correct horse\n  user: app`).text).toBe(
        `db:\n  password: ${header}\n    [REDACTED]\n  user: app`,
      );
    }
  });
});

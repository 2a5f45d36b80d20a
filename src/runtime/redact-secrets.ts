/**
 * Secret redaction for everything the model (or a log, event or commentary line) may see.
 *
 * Specific detectors run first (PEM blocks, named assignments, vendor token formats), then a
 * generic high-entropy detector catches the rest. The generic one is deliberately shaped for
 * code: identifiers, camelCase words, paths, URLs without credentials, git SHAs (40 hex) and
 * sha256 digests (64 hex) are not secrets and must survive, or evidence becomes unreadable.
 */

export const redactionMarker = '[REDACTED]';

export interface RedactionResult {
  readonly text: string;
  readonly count: number;
  readonly kinds: string[];
}

/** Where a match sits: enough to look at the rest of its line without rescanning the text. */
interface MatchSite {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

type Replacement = string | { readonly text: string; readonly kind: string } | null;

/** A detector whose match is replaced as a whole. */
interface ReplaceDetector {
  readonly kind: string;
  readonly pattern: RegExp;
  /** Returns the replacement for one match (optionally with a finer kind), or null to keep it. */
  readonly replace: (
    match: string,
    groups: readonly (string | undefined)[],
    site: MatchSite,
  ) => Replacement;
}

/**
 * A detector for `name <separator> value`. Its pattern stops where the value starts, and the
 * value is read only when the name is a secret's: a name that is not consumes nothing after its
 * separator, so `--env=PGPASSWORD=x` and `Server=db;Password=x` still reach the secret.
 */
interface AssignmentDetector {
  readonly kind: 'assignment';
  readonly pattern: RegExp;
  readonly read: (match: RegExpExecArray) => { readonly name: string; readonly form: Form };
  /** Sticky pattern for the value; the shared quoted-or-unquoted one when absent. */
  readonly value?: RegExp;
}

/** `hint`: text without it cannot match, so the detector is skipped (one fast scan instead). */
type Detector = (ReplaceDetector | AssignmentDetector) & { readonly hint?: string | RegExp };

/*
 * Every pattern below is linear in the text: no nested quantifiers over overlapping classes, and
 * name-like runs start only where a lookbehind says a run begins, so no run is rescanned from
 * each of its offsets.
 */

/** Context is read at most this far either side of a match, so one long line costs O(matches). */
const contextChars = 200;

function lineBefore(site: MatchSite): string {
  const from = Math.max(0, site.start - contextChars);
  const chunk = site.text.slice(from, site.start);
  return chunk.slice(chunk.lastIndexOf('\n') + 1);
}

function lineAfter(site: MatchSite): string {
  const chunk = site.text.slice(site.end, site.end + contextChars);
  const newline = chunk.indexOf('\n');
  return newline === -1 ? chunk : chunk.slice(0, newline);
}

// ---------------------------------------------------------------------------------------------
// Secret names. A name is split into lower-case words (`PGPASSWORD` → `pgpassword`,
// `signingKey` → `signing_key`, `//registry/:_authToken` → `_auth_token`) and judged by how it
// ends, so any prefix works: `POSTGRES_PASSWORD`, `PGPASSWORD`, `GITHUBTOKEN`, `clientSecret`.
// ---------------------------------------------------------------------------------------------

/** Endings that mark a secret whatever comes before them, even glued on (`PGPASSWORD`). */
const strongEnding =
  /(?:password|passwd|passphrase|secret|token|api_?key|private_?key|access_?key|secret_?key|credentials?|creds|database_?url|db_?url|connection_?string|conn_?str|dsn)$/;
/** Short endings that only count as a whole word (`DB_PASS`, not `bypass`; `MYSQL_PWD`, not
 * the shell's `PWD`); `key` and `auth` also have many innocent uses, filtered below. */
const weakEnding = /(?:^|_)(pass|pwd|pw|auth|key)$/;
/** Leading words that make the name a count, limit or flag, not a credential (`max_tokens`). */
const innocentPrefix =
  /^_*(?:max|min|num|total|count|is|has|use|enable|enabled|require|requires|show|allow|with|no|skip)_|_per_/;
/** `X_KEY` names that are lookup keys, not key material (`sort_key`, `STORAGE_KEY`). */
const innocentKeyWords = new Set([
  'primary',
  'foreign',
  'sort',
  'partition',
  'hash',
  'range',
  'cache',
  'lookup',
  'group',
  'order',
  'unique',
  'public',
  'storage',
  'object',
  'i18n',
  'translation',
  'label',
  'value',
  'id',
  'name',
  'join',
  'shard',
  'routing',
  'dedup',
  'idempotency',
  'event',
  'map',
  'index',
  'row',
  'column',
  'composite',
  'natural',
  'surrogate',
  'query',
  'react',
  'list',
  'dict',
  'item',
  'field',
  'table',
  'bucket',
  's3',
  'short',
  'hot',
  'route',
  'cursor',
  'state',
  'context',
  'theme',
  'config',
  'settings',
  'search',
  'filter',
  'sentinel',
  'message',
  'metadata',
  'prefix',
  'env',
]);

/** `lookup_key` is a `*_KEY` name that may still be a map key (`signing_key` vs `sort_key`). */
type NameKind =
  | 'password'
  | 'token'
  | 'secret'
  | 'key'
  | 'lookup_key'
  | 'credentials'
  | 'connection_string'
  | 'auth';

/** The kind reported for a redaction: `named_password`, `named_token`, `named_key`… */
function kindLabel(kind: NameKind): string {
  return `named_${kind === 'lookup_key' ? 'key' : kind}`;
}

function words(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_');
}

/** Every ending above contains one of these (case-insensitively). */
const mayNameSecret = /pass|pwd|pw|token|secret|key|cred|auth|dsn|url|conn/i;

/** What kind of secret a name holds, or null when the name is not a secret's. */
function secretNameKind(name: string): NameKind | null {
  // Cheap screen first: most names in code contain none of these (this runs per assignment).
  if (!mayNameSecret.test(name)) return null;
  const normal = words(name).replace(/_+$/, '');
  if (innocentPrefix.test(normal)) return null;
  const strong = strongEnding.exec(normal);
  if (strong) {
    const end = strong[0];
    if (/pass/.test(end)) return 'password';
    if (end.endsWith('token')) return 'token';
    if (end === 'secret') return 'secret';
    if (end.endsWith('key')) return 'key';
    if (/cred/.test(end)) return 'credentials';
    return 'connection_string';
  }
  const weak = weakEnding.exec(normal);
  if (!weak) return null;
  const word = weak[1];
  const before = normal.slice(0, weak.index).replace(/^_+/, '');
  if (word === 'auth') return 'auth';
  // Alone, `pwd`/`pw`/`key` are the shell's working directory, a pen, a map key.
  if (before === '') return word === 'pass' ? 'password' : null;
  if (word === 'key') {
    const last = before.slice(before.lastIndexOf('_') + 1);
    return innocentKeyWords.has(last) ? null : 'lookup_key';
  }
  return 'password';
}

// ---------------------------------------------------------------------------------------------
// Values. Decide whether the value after a secret name is the secret itself, or a type, a
// placeholder, a reference to somewhere else, or code.
// ---------------------------------------------------------------------------------------------

/** Types, empty-ish words and fill-me-in markers (`password: string`, `<your-key>`, `xxx`). */
const placeholderValue =
  /^(?:string|str|number|int|integer|float|boolean|bool|any|unknown|null|undefined|none|nil|true|false|yes|no|on|off|never|void|object|optional|required|buffer|uint8array|arraybuffer|bytes|secretstr|x+|\*+|<[^>]*>|%[sd]|\.\.\.|…|your[_-][\w-]*|replace[_-]?me|redacted)$/i;
/** Values for `auth` settings that name a scheme rather than carry one (`auth: oauth2`). */
const authScheme =
  /^(?:basic|bearer|digest|oauth2?|oidc|jwt|saml|ldap|kerberos|ntlm|token|api_?key|password|anonymous|session|cookie|header|sso|mtls|tls|iam|hmac|local|remote|disabled|enabled)$/i;
/** References resolved elsewhere: `${VAR}`, `$VAR`, `$(cmd)`, `{{ .Values.x }}`, `%(x)s`.
 * `${VAR:-default}` is not stripped: its default may be the secret. The inner classes exclude
 * the opening characters, so a run of unclosed `$(` cannot be rescanned once per opening. */
const reference =
  /\$\{[A-Za-z_]\w*(?::?\?[^${}\n]*)?\}|\$\([^$()\n]*\)?|\$[A-Za-z_]\w*|\{\{[^{}\n]*\}\}|%\([^()\n]*\)s/g;
/** Lookups of the environment or a secret store (`process.env.X`, `os.environ["X"]`). */
const environmentLookup = /^(?:process\.env|import\.meta\.env|os\.environ|env|ENV|secrets|vars)\b/;
const identifier = /^[A-Za-z_$][\w$]*$/;
const memberExpression = /^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+$/;
/** What follows a value on its line in code: operators, a comment, a terminator. */
const codeContinuation = /^[ \t]*(?:[|&?:=<>+*/%!.,;)}\]]|as\b|in\b|of\b|instanceof\b|satisfies\b)/;

/** `env`: NAME=value; `spaced`: ENV NAME value / --flag value; `colon`: name: value (YAML,
 * headers, object literals); `equals`: name = value (ini, code); `quoted_key`: "name": value. */
type Form = 'env' | 'spaced' | 'colon' | 'equals' | 'quoted_key';

function normalizeWord(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** True when the value is nothing but references (and punctuation around them). */
function onlyReferences(value: string): boolean {
  reference.lastIndex = 0;
  return !/[A-Za-z0-9]/.test(value.replace(reference, ''));
}

function benignValue(value: string, kind: NameKind): boolean {
  if (value.trim() === '' || value.includes(redactionMarker)) return true;
  if (placeholderValue.test(value) || environmentLookup.test(value)) return true;
  if (/^\$[({]/.test(value) && !/^\$\{\w+:?[-=]/.test(value)) return true; // `$(cat`, `${VAR}`
  // The name of another variable (`token_env: "GITHUB_TOKEN"`), not its value.
  if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(value) && secretNameKind(value) !== null) return true;
  if (/^[*&!:][A-Za-z_][\w.-]*$/.test(value)) return true; // YAML alias/tag, Ruby symbol
  if (onlyReferences(value)) return true;
  if (kind === 'auth' && authScheme.test(value)) return true;
  // A file that holds the credentials is a path, not the credentials.
  if (kind === 'credentials' && /^(?:~|\.{1,2})?\/[\w./-]*$|\.json$/.test(value)) return true;
  // fetch()'s `credentials: 'include'` is a mode, not a credential.
  if (kind === 'credentials' && /^(?:include|omit|same-origin)$/.test(value)) return true;
  return false;
}

/** Splits trailing code punctuation off an unquoted value: `pw),` → [`pw`, `),`]. */
function splitTrail(value: string): [string, string] {
  let cut = value.length;
  while (cut > 0 && ',;)}]'.includes(value[cut - 1] ?? '')) cut--;
  return [value.slice(0, cut), value.slice(cut)];
}

function isScreaming(name: string): boolean {
  const tail = name.slice(name.lastIndexOf('.') + 1);
  return /[A-Z]/.test(tail) && !/[a-z]/.test(tail);
}

/** camelCase / PascalCase words, strictly: random tokens (`wJalrXUtnFEMIK7`) have caps runs. */
const camelCase = /^(?:[a-z][a-z0-9]*|[A-Z][a-z0-9]+)(?:[A-Z][a-z0-9]+)+[A-Z]?$/;
const snakeCase = /^_*[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/;

/** An identifier the way code names variables (`accessToken`, `db_password`, `self.token`). */
function looksLikeCodeName(value: string, name: string): boolean {
  if (memberExpression.test(value)) return true;
  if (!identifier.test(value)) return false;
  const tail = name.slice(name.lastIndexOf('.') + 1);
  return (
    camelCase.test(value) ||
    value.includes('$') ||
    (snakeCase.test(value) && !isScreaming(name)) ||
    normalizeWord(value) === normalizeWord(tail)
  );
}

/**
 * Decides one `name <sep> value`. Returns the value to put back, or null to keep it. Env style
 * (`NAME=value`) redacts any value but references and keyword arguments (`f(password=password)`);
 * the spaced and YAML forms also keep what reads as code, a type, or the start of a sentence.
 */
function decideValue(
  name: string,
  form: Form,
  value: string,
  site: MatchSite,
): { text: string; kind: string } | null {
  const kind = secretNameKind(name);
  if (kind === null) return null;
  const named = { kind: kindLabel(kind) };
  const quote = value[0] === '"' || value[0] === "'" || value[0] === '`' ? value[0] : '';
  if (quote !== '') {
    const closed = value.length > 1 && value.endsWith(quote);
    const inner = value.slice(1, closed ? -1 : undefined);
    if (benignValue(inner, kind)) return null;
    // A template literal with interpolation is an expression, not a stored secret.
    if (quote === '`' && inner.includes('${')) return null;
    if (
      form !== 'env' &&
      normalizeWord(inner) === normalizeWord(name.slice(name.lastIndexOf('.') + 1))
    )
      return null; // i18n labels: `"password": "Password"`
    return { text: `${quote}${redactionMarker}${closed ? quote : ''}`, ...named };
  }
  // `${VAR:-default}`: the default may be the secret itself, so it is never code or a reference.
  if (/^\$\{\w+:?[-=]/.test(value)) return { text: redactionMarker, ...named };
  const [core, trail] = splitTrail(value);
  if (core === '' || benignValue(core, kind)) return null;
  const redacted = { text: `${redactionMarker}${trail}`, ...named };
  // `<your key from the dashboard>`: a placeholder that spans words.
  if (core.startsWith('<') && (core.includes('>') || lineAfter(site).includes('>'))) return null;
  if (form === 'env' || form === 'spaced') {
    // Compact code: `token=getToken()` (indexOf, not /\(.*\)/, which is quadratic on `f(f(f(`).
    const open = value.indexOf('(');
    if (open !== -1 && value.indexOf(')', open) !== -1) return null;
    // Keyword arguments and compact code: `connect(password=password)`,
    // `login(token=self.token, …`, minified `a.token=b.password,c=…`.
    const argument = /^([^,;)]+)[,)]/.exec(value);
    if (argument !== null && looksLikeCodeName(argument[1] ?? '', name)) return null;
    // Prose about a flag: `use the --password flag to set it`.
    if (form === 'spaced' && /^[a-z]+$/.test(core) && /^[ \t]+[a-z]/.test(lineAfter(site)))
      return null;
    return redacted;
  }
  const after = lineAfter(site);
  // Numeric constants in code: `const CHARS_PER_TOKEN = 4;`.
  if (/^\d+$/.test(core) && /^[,;]/.test(trail)) return null;
  // Code: calls, indexing, literals, arrows, generics (`Optional[str]`, `z.string()`).
  if (/[()[\]{}]|=>|&&|\|\||\w<\w/.test(core)) return null;
  if (memberExpression.test(core)) return null;
  // A sentence goes on after the first word: `Password: must be 8 characters long`.
  if (/^[ \t]+[\w'"(]/.test(after) && !/^[ \t]+#/.test(after)) return null;
  if (identifier.test(core)) {
    if (trail !== '' || codeContinuation.test(after)) return null; // `password: pw,`
    if (looksLikeCodeName(core, name)) return null; // `token: accessToken`, `x.token = token`
    // `sort_key: created`, but not `JWT_SIGNING_KEY` (env-style names in YAML) with a word value.
    if (kind === 'lookup_key' && !isScreaming(name) && /^[A-Za-z_]+$/.test(core)) return null;
  }
  return redacted;
}

// ---------------------------------------------------------------------------------------------
// Patterns.
// ---------------------------------------------------------------------------------------------

/** A name starts where no name character precedes it; optional `--` for CLI flags. */
const namePattern = '(?<![\\w.-])(-{0,2}[A-Za-z_][\\w.-]*)';
/** A quoted value (possibly cut at the end of the line) or one unquoted run. */
const valueAt = /"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`[^`\n]*`?|[^\s"'`]+/y;
const quotedValueAt = /"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?/y;

/** A Basic credential is base64 of `user:password`; checking that keeps `Basic usage` as is. */
function isBasicCredential(encoded: string): boolean {
  const decoded = Buffer.from(encoded, 'base64').toString('latin1');
  return decoded.includes(':') && /^[\x20-\x7e]+$/.test(decoded);
}

/** `.netrc` lines: `machine h login u password …`, or `password …` alone on its line. */
function netrcContext(site: MatchSite): boolean {
  const before = lineBefore(site);
  if (/(?:^|\s)(?:machine|login|default|account)[ \t]+\S+[ \t]+$/.test(before)) return true;
  // Alone on its line (a read_file gutter `  12| ` allowed) under a `machine`/`login` line.
  const recent = site.text.slice(Math.max(0, site.start - contextChars), site.start);
  return (
    /^[ \t]*(?:\d+\|[ \t]?)?[ \t]*$/.test(before) &&
    /^[ \t]*$/.test(lineAfter(site)) &&
    /(?:^|\s)(?:machine|login)[ \t]+\S+[ \t]*\r?\n/.test(recent)
  );
}

const detectors: readonly Detector[] = [
  {
    kind: 'private_key',
    // The whole block, or from BEGIN to the end of the text when a read cut the block short.
    pattern:
      /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|(?![\s\S]))/g,
    // Newlines are kept so line numbers after the block stay true.
    replace: (match) => redactionMarker + '\n'.repeat(match.split('\n').length - 1),
  },
  {
    kind: 'authorization_header',
    hint: /authorization/i,
    // Authorization: <scheme> <credentials>, in headers, YAML, JSON and code.
    pattern:
      /(?<![\w-])(Authorization["']?[ \t]*[:=][ \t]*["'`]?[ \t]*)(?:(Basic|Bearer|Token|Bot|ApiKey|Key|OAuth|JWT)([ \t]+))?([A-Za-z0-9._~+/=:-]+)/gi,
    replace: (_match, [prefix = '', scheme, space = '', value = '']) => {
      if (placeholderValue.test(value)) return null;
      if (scheme === undefined && /^[A-Za-z]+$/.test(value)) return null; // `Authorization: Bearer ${t}`
      if (scheme !== undefined && /^basic$/i.test(scheme) && !isBasicCredential(value)) return null;
      const kind =
        scheme !== undefined && /^basic$/i.test(scheme) ? 'basic_auth' : 'authorization_header';
      return { text: `${prefix}${scheme ?? ''}${space}${redactionMarker}`, kind };
    },
  },
  {
    kind: 'basic_auth',
    hint: /basic/i,
    // Basic credentials anywhere else (curl -H, code), recognised by decoding to `user:pass`.
    pattern: /(?<![\w-])(Basic[ \t]+)([A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])/gi,
    replace: (_match, [prefix = '', value = '']) =>
      isBasicCredential(value) ? `${prefix}${redactionMarker}` : null,
  },
  {
    kind: 'assignment',
    // "name": "value" / 'name': value (JSON, Python dicts, object literals, docker config.json)
    // Not after `?`: `ok ? 'PASS' : 'FAIL'` is a ternary.
    pattern: /(?<!\?[ \t]*)(["'])([\w.-]+)\1[ \t]*:[ \t]*/g,
    read: (match) => ({ name: match[2] ?? '', form: 'quoted_key' }),
  },
  {
    kind: 'assignment',
    // NAME=value (env, shell, flags, kwargs, properties, .npmrc, connection strings),
    // NAME = "v" / name := "v" (code), name: value (YAML, headers), name = value (ini/toml).
    pattern: new RegExp(
      `${namePattern}(=(?!=)|[ \\t]*(?::=?|=)[ \\t]*(?=["'\`])|:[ \\t]+|[ \\t]+=(?!=)[ \\t]*)`,
      'g',
    ),
    read: (match) => {
      const separator = match[2] ?? '';
      const form: Form = separator === '=' ? 'env' : separator.includes('=') ? 'equals' : 'colon';
      return { name: match[1] ?? '', form };
    },
  },
  {
    kind: 'assignment',
    hint: /ENV|--/,
    // Space-separated forms: Dockerfile `ENV NAME <value>`, CLI `--password <value>`.
    pattern: /(?<![\w-])(?:ENV[ \t]+|--)([A-Za-z_][\w-]*)[ \t]+(?=[^\s-])/g,
    read: (match) => ({ name: match[1] ?? '', form: 'spaced' }),
  },
  {
    kind: 'assignment',
    hint: 'name:',
    // Kubernetes env lists: `- name: DB_PASSWORD` followed by `value: hunter2`.
    pattern: /\bname:[ \t]*["']?([\w.-]+)["']?[ \t]*\r?\n[ \t]*(?:-[ \t]+)?value:[ \t]*/g,
    read: (match) => ({ name: match[1] ?? '', form: 'env' }),
  },
  {
    kind: 'assignment',
    // Name and value as two string arguments: PHP `define('DB_PASSWORD', 'x')`,
    // `os.getenv("API_TOKEN", "default")`, `setdefault("SECRET_KEY", "x")`. Only as the first
    // argument: in `['password', 'token']` the strings are a list of names.
    pattern: /(?<![[,{][ \t]*)(["'])([\w.-]+)\1[ \t]*,[ \t]*(?=["'])/g,
    read: (match) => ({ name: match[2] ?? '', form: 'quoted_key' }),
    value: quotedValueAt,
  },
  {
    kind: 'xml_secret',
    hint: '</',
    // <password>hunter2</password> (Maven settings.xml, app configs). Content stops at `<`.
    pattern: /<([A-Za-z_][\w.-]*)>([^<\n]+)<\/\1>/g,
    replace: (_match, [name = '', value = ''], site) => {
      const decided = decideValue(name, 'env', value, site);
      // The element's whole content is the value (`{encrypted}` keeps no trailing `}`).
      return decided && { text: `<${name}>${redactionMarker}</${name}>`, kind: decided.kind };
    },
  },
  {
    kind: 'netrc_password',
    hint: 'passw',
    pattern: /(?<![\w-])((?:password|passwd)[ \t]+)([^\s"'`]+)/g,
    replace: (_match, [prefix = '', value = ''], site) =>
      netrcContext(site) && !benignValue(value, 'password') ? prefix + redactionMarker : null,
  },
  {
    kind: 'cli_credentials',
    hint: /-u|--user/,
    // curl -u user:… / --user user:…
    pattern: /(?<!\S)((?:-u|--user)[ \t]*["']?)([^\s:"'@]+:)([^\s"']+)/g,
    replace: (_match, [prefix = '', user = '', password = '']) =>
      benignValue(password, 'password') ? null : prefix + user + redactionMarker,
  },
  {
    // Userinfo runs to the last `@` before the host: a password may itself contain `@`. First,
    // so the rule below (up to the first `@`) cannot leave the rest of such a password behind.
    kind: 'url_credentials',
    hint: '://',
    pattern:
      /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)[^\s:@/"'`]*:[^\s/"'`]*@(?=[^\s@/"'`]*[/:\s"'`]|[^\s@/"'`]*$)/gim,
    replace: (_match, groups) => `${groups[0] ?? ''}${redactionMarker}@`,
  },
  {
    kind: 'url_credentials',
    hint: '://',
    // Credentials in a URL's userinfo, including redis' empty user. The lookbehind makes each scheme
    // start once, instead of at every `.`/`-` word boundary of a long dotted run.
    pattern: /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)[^\s:@/"'`]*:[^\s@/"'`]+@/gi,
    replace: (_match, groups) => `${groups[0] ?? ''}${redactionMarker}@`,
  },
  { kind: 'api_key', pattern: /\bsk-[A-Za-z0-9_-]{20,}/g, replace: () => redactionMarker },
  {
    kind: 'bearer_token',
    pattern: /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{20,}/gi,
    replace: (_match, groups) => `${groups[0] ?? ''}${redactionMarker}`,
  },
  {
    kind: 'github_token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g,
    replace: () => redactionMarker,
  },
  {
    kind: 'slack_token',
    pattern: /\bxox[abposre]-[A-Za-z0-9-]{10,}/g,
    replace: () => redactionMarker,
  },
  {
    kind: 'aws_access_key',
    // Access key ids (AKIA, ASIA…) and the other IAM unique-id prefixes secretlint reports.
    pattern: /\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[0-9A-Z]{16}\b/g,
    replace: () => redactionMarker,
  },
  {
    kind: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g,
    replace: () => redactionMarker,
  },
  // Vendor formats (after secretlint's and gitleaks' published rules; issue 9 Medium #4). Each
  // has a fixed prefix and a bounded body, so each is linear.
  {
    kind: 'vendor_token',
    pattern:
      /\b(?:gl(?:pat|rt|ptt|dt|ft|soat|cbt|imt|agent|ffct|oas)-[A-Za-z0-9_-]{20,}|(?:SK|AC)[0-9a-f]{32}|key-[0-9a-z]{32}|dapi[0-9a-h]{32}(?:-\d)?|shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}|do[opr]_v1_[0-9a-f]{64}|hf_[A-Za-z]{30,}|api_org_[A-Za-z]{30,}|AIza[0-9A-Za-z_-]{35}|NRAK-[A-Z0-9]{27}|AGE-SECRET-KEY-1[0-9A-Z]{58}|(?:sk|rk|pk)_(?:live|test|prod)_[0-9A-Za-z]{16,}|npm_[A-Za-z0-9]{36}|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}|lin_api_[A-Za-z0-9]{40}|dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}|EAAA[A-Za-z0-9_-]{60}|xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+|A3-[A-Z0-9]{6}-[A-Z0-9]{11}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})/g,
    replace: () => redactionMarker,
  },
  {
    // SendGrid keys are three segments; the whole key goes, not only its first part.
    kind: 'vendor_token',
    hint: 'SG.',
    pattern: /\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}/g,
    replace: () => redactionMarker,
  },
  {
    // More prefixed formats from gitleaks' rule list. A prefix that is a common word start
    // (`pat`, `API-`, `pul-`) is followed by a body of a fixed length and alphabet, then a word
    // end, so `patch` or `API-GATEWAY` stay as they are.
    kind: 'vendor_token',
    pattern:
      /\b(?:A3-[A-Z0-9]{6}-[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}|pat[A-Za-z0-9]{14}\.[a-f0-9]{64}|LTAI[A-Za-z0-9]{20}|(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][A-Za-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120}|CLOJARS_[A-Za-z0-9]{60}|v1\.0-[a-f0-9]{24}-[a-f0-9]{146}|dnkey-[A-Za-z0-9=_-]{26}-[A-Za-z0-9=_-]{52}|dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}|FLW(?:SECK|PUBK)_TEST-[a-hA-H0-9]{12,32}(?:-X)?|GR1348941[A-Za-z0-9_-]{20}|[ps]at\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}|s-s4t2(?:ud|af)-[a-f0-9]{64}|pubkey-[a-f0-9]{32}|API-[A-Z0-9]{26}|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|pul-[a-f0-9]{40}|rdme_[a-z0-9]{70}|rubygems_[a-f0-9]{48}|sntryu_[a-f0-9]{64}|sm_[aps]at_[A-Za-z0-9]{16}|shippo_(?:live|test)_[a-fA-F0-9]{40}|sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}|sq0(?:atp|csp)-[A-Za-z0-9_-]{22,60}|tfp_[A-Za-z0-9_.=-]{59})(?![A-Za-z0-9])/g,
    replace: () => redactionMarker,
  },
  {
    // Discord bot tokens: the bot's id (digits) in base64, so M, N or O first, a 6-character
    // timestamp, then the HMAC. Only a first part that decodes to digits counts: a dotted name
    // such as `NotificationServiceProvider.config.defaultChannelName` has the same shape.
    kind: 'vendor_token',
    pattern:
      /\b([MNO][A-Za-z0-9_-]{23,27})\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}(?![A-Za-z0-9_-])/g,
    replace: (_match, [id = '']) =>
      /^\d{17,20}$/.test(Buffer.from(id, 'base64').toString('latin1')) ? redactionMarker : null,
  },
  {
    // Mapbox tokens: `pk.` (public) or `sk.` (secret), then a base64 JSON head and a signature.
    kind: 'vendor_token',
    hint: 'k.eyJ',
    pattern: /\b[ps]k\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/g,
    replace: () => redactionMarker,
  },
  {
    // Facebook app tokens: `<app id>|<app secret>` (the bar may be URL-encoded). The secret
    // has digits; words after a long number (`1234567890123456|shipped-to-warehouse`) do not.
    kind: 'vendor_token',
    hint: /\d{15}/,
    pattern: /\b\d{15,16}(?:\||%7[Cc])([A-Za-z0-9_-]{27,40})(?![A-Za-z0-9_-])/g,
    replace: (_match, [secret = '']) =>
      /\d/.test(secret) && /[A-Za-z]/.test(secret) ? redactionMarker : null,
  },
  {
    // Terraform Cloud tokens: the fixed `.atlasv1.` sits in the middle, so it is the hint.
    kind: 'vendor_token',
    hint: '.atlasv1.',
    pattern: /\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}/g,
    replace: () => redactionMarker,
  },
  {
    // Values that are secrets by a fixed name that ends in no secret word.
    kind: 'vendor_token',
    hint: /_gitlab_session|CONTRIBSYS/,
    pattern:
      /\b(_gitlab_session=|BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM["']?[ \t]*[=:][ \t]*["']?)(?:[0-9a-z]{32}|[a-f0-9]{8}:[a-f0-9]{8})\b/g,
    replace: (_match, [prefix = '']) => prefix + redactionMarker,
  },
  {
    // Microsoft Teams incoming webhooks: the path after `webhookb2/` is the credential.
    kind: 'vendor_token',
    hint: 'webhook.office.com',
    pattern: /(\.webhook\.office\.com\/webhookb2\/)[A-Za-z0-9@/_-]{40,400}/gi,
    replace: (_match, [prefix = '']) => prefix + redactionMarker,
  },
  {
    // NuGet.config: `<add key="ClearTextPassword" value="…" />`.
    kind: 'named_password',
    hint: /password"/i,
    pattern: /(<add[ \t]+key="(?:ClearText)?Password"[ \t]+value=")[^"\n]+"/gi,
    replace: (_match, [prefix = '']) => `${prefix}${redactionMarker}"`,
  },
  {
    // `mysql -pSECRET`, `mysqldump --password=…` is an assignment; `sshpass -p SECRET`.
    kind: 'cli_credentials',
    hint: /mysql|mariadb|sshpass/,
    pattern: /\b((?:mysql|mysqldump|mariadb|mysqladmin)\b[^\n]*?[ \t]-p)([^\s"'`]+)/g,
    replace: (_match, [prefix = '']) => prefix + redactionMarker,
  },
  {
    kind: 'cli_credentials',
    hint: 'sshpass',
    pattern: /\b(sshpass[ \t]+-p[ \t]*)([^\s"'`]+)/g,
    replace: (_match, [prefix = '']) => prefix + redactionMarker,
  },
  {
    // A password named in prose or a comment: "the admin password is hunter2x".
    kind: 'prose_password',
    hint: /passw|passphrase|secret/i,
    // A plain lower-case word goes on the sentence (`the secret is recognisable`, `the password
    // is stored in the vault`); a value with a digit, a capital or a symbol is the password.
    pattern: /\b((?:password|passwd|passphrase|secret)[ \t]+(?:is|was)[ \t]+)([^\s"'`,;]{6,})/gi,
    replace: (_match, [prefix = '', value = '']) =>
      /^[a-z]+\.?$/.test(value) || benignValue(value, 'password') ? null : prefix + redactionMarker,
  },
  {
    // A hex-encoded token: long hex that decodes to a known token prefix.
    kind: 'hex_token',
    hint: /[0-9a-f]{40}/,
    pattern: /\b(?:[0-9a-f]{2}){20,}\b/g,
    replace: (match) => (hexHidesToken(match) ? redactionMarker : null),
  },
  {
    // A redacted value continued on the next line (`"AKIA…\` newline `…rest"`): the rest of the
    // value is the same secret. Runs last, on the text the detectors above already redacted.
    kind: 'continued_secret',
    hint: `${redactionMarker}\\`,
    pattern: /(\[REDACTED\]\\\r?\n[ \t]*)([^\s"'`]+)/g,
    replace: (_match, [prefix = '']) => prefix + redactionMarker,
  },
];

const knownTokenPrefix =
  /^(?:gh[pousr]_|github_pat_|glpat-|sk-|sk_live_|xox[abposr]-|AKIA|ASIA|hf_|npm_|SG\.|shp(?:at|ca|pa|ss)_|dop_v1_|AIza|eyJ)/;

function hexHidesToken(hex: string): boolean {
  // A git SHA (40) or sha256 (64) is hex too, but never decodes to printable token text.
  const decoded = Buffer.from(hex.slice(0, 64), 'hex').toString('latin1');
  return knownTokenPrefix.test(decoded);
}

/** Candidate opaque tokens: long runs of base64/base64url/hex characters. */
const tokenCandidate = /[A-Za-z0-9+/_-]{32,}={0,2}/g;

function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

function charClass(code: number): number {
  if (code >= 48 && code <= 57) return 0; // digit
  if (code >= 65 && code <= 90) return 1; // upper
  if (code >= 97 && code <= 122) return 2; // lower
  return 3;
}

/**
 * Random tokens switch between digits, upper and lower case on about half of adjacent pairs;
 * identifiers and words switch only at word boundaries. Together with entropy this separates
 * `aB3xK9...` from `handleUserAuthentication2FactorCallback`.
 */
function classChangeRatio(value: string): number {
  let changes = 0;
  for (let i = 1; i < value.length; i++) {
    if (charClass(value.charCodeAt(i)) !== charClass(value.charCodeAt(i - 1))) changes++;
  }
  return changes / (value.length - 1);
}

function looksLikeGenericSecret(token: string): boolean {
  const body = token.replace(/=+$/, '');
  if (body.length < 32) return false;
  // Integrity hashes (package-lock, SRI) are public digests, not credentials.
  if (/^sha(?:1|256|384|512)-/i.test(body)) return false;
  if (/^[0-9a-f]+$/i.test(body)) {
    // 40 hex = git SHA-1, 64 hex = sha256 digest, 128 hex = sha512: public identifiers.
    if (body.length === 40 || body.length === 64 || body.length === 128) return false;
    return (
      /[0-9]/.test(body) &&
      /[a-f]/i.test(body) &&
      shannonEntropy(body) >= 3.0 &&
      classChangeRatio(body) >= 0.3
    );
  }
  // Paths and slugs: `/` or `-`/`_` separated words rather than one opaque run.
  const pieces = body.split(/[/_-]+/).filter((piece) => piece !== '');
  const wordLike = (piece: string): boolean =>
    /^(?:[a-z0-9]+|[A-Z][a-z0-9]*|[A-Z0-9]+)$/.test(piece);
  if (pieces.length > 1 && pieces.every(wordLike)) return false;
  const digits = body.replace(/[^0-9]/g, '').length;
  if (digits < 2 || !/[A-Z]/.test(body) || !/[a-z]/.test(body)) return false;
  return shannonEntropy(body) >= 4.0 && classChangeRatio(body) >= 0.35;
}

/** A read_file gutter (`  12| `) and the indentation after it. */
const gutterAndIndent = /^((?:[ \t]*\d+\| ?)?)([ \t]*)/;

/**
 * A YAML block scalar under a secret name (`password: |`, `tls.key: >-`): the value is the more
 * indented lines below. Returns them redacted (indentation and line count kept) and where they
 * end, or null when nothing is indented below. Each line is visited once.
 */
function redactBlockScalar(
  text: string,
  site: MatchSite,
): { readonly text: string; readonly end: number } | null {
  const keyIndent = (gutterAndIndent.exec(lineBefore(site))?.[2] ?? '').length;
  let position = text.indexOf('\n', site.end);
  let out = '';
  let end = -1;
  while (position !== -1) {
    const lineStart = position + 1;
    const newline = text.indexOf('\n', lineStart);
    const line = text.slice(lineStart, newline === -1 ? undefined : newline);
    const [, gutter = '', indent = ''] = gutterAndIndent.exec(line) ?? [];
    const content = line.slice(gutter.length + indent.length);
    if (content.trim() !== '') {
      if (indent.length <= keyIndent) break;
      out += text.slice(end === -1 ? site.end : end, lineStart) + gutter + indent + redactionMarker;
      end = lineStart + line.length;
    }
    position = newline;
  }
  return end === -1 ? null : { text: out, end };
}

/** Runs one assignment detector (see AssignmentDetector) over the text. */
function redactAssignments(
  text: string,
  detector: AssignmentDetector,
  found: (kind: string) => void,
): string {
  const { pattern } = detector;
  const valuePattern = detector.value ?? valueAt;
  let out = '';
  let copied = 0;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const { name, form } = detector.read(match);
    const kind = secretNameKind(name);
    if (kind === null) continue;
    const start = match.index + match[0].length;
    valuePattern.lastIndex = start;
    const value = valuePattern.exec(text)?.[0];
    if (value === undefined) continue;
    const end = start + value.length;
    // A value that was kept (code, a reference) is not rescanned: that keeps the scan linear.
    pattern.lastIndex = end;
    if (form === 'colon' && /^[|>][-+]?\d?$/.test(value)) {
      const block = redactBlockScalar(text, { text, start, end });
      if (block === null) continue;
      out += text.slice(copied, end) + block.text;
      copied = block.end;
      pattern.lastIndex = block.end;
      found(kindLabel(kind));
      continue;
    }
    const decided = decideValue(name, form, value, { text, start, end });
    if (decided === null) continue;
    out += text.slice(copied, start) + decided.text;
    copied = end;
    found(decided.kind);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

export function redactSecrets(text: string): RedactionResult {
  let count = 0;
  const kinds = new Set<string>();
  const found = (kind: string): void => {
    count++;
    kinds.add(kind);
  };
  let out = text;
  for (const detector of detectors) {
    const { hint } = detector;
    if (typeof hint === 'string' ? !out.includes(hint) : hint?.test(out) === false) continue;
    if ('read' in detector) {
      out = redactAssignments(out, detector, found);
      continue;
    }
    const source = out;
    detector.pattern.lastIndex = 0;
    out = source.replace(detector.pattern, (...args: unknown[]) => {
      const match = args[0] as string;
      const groups: (string | undefined)[] = [];
      let i = 1;
      for (; i < args.length && typeof args[i] !== 'number'; i++)
        groups.push(args[i] as string | undefined);
      const start = args[i] as number;
      const replacement = detector.replace(match, groups, {
        text: source,
        start,
        end: start + match.length,
      });
      if (replacement === null) return match;
      if (typeof replacement === 'string') {
        found(detector.kind);
        return replacement;
      }
      found(replacement.kind);
      return replacement.text;
    });
  }
  tokenCandidate.lastIndex = 0;
  out = out.replace(tokenCandidate, (match) => {
    if (!looksLikeGenericSecret(match)) return match;
    found('high_entropy');
    return redactionMarker;
  });
  return { text: out, count, kinds: [...kinds] };
}

export function containsSecret(text: string): boolean {
  return redactSecrets(text).count > 0;
}

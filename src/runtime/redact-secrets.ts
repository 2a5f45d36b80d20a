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

interface Detector {
  readonly kind: string;
  readonly pattern: RegExp;
  /** Returns the replacement for one match, or null to keep the match as it is. */
  readonly replace: (match: string, groups: readonly (string | undefined)[]) => string | null;
}

/** Names whose values are secrets: any *_API_KEY, *_SECRET, *_TOKEN, *_PASSWORD and friends. */
const secretName =
  '(?:[A-Za-z0-9]+[_-])*(?:API[_-]?KEY|SECRET(?:[_-]?(?:ACCESS[_-])?KEY)?|(?:ACCESS|AUTH|REFRESH|BEARER|SESSION)?[_-]?TOKEN|PASSWORD|PASSWD|PASSPHRASE|PRIVATE[_-]KEY|SECRET[_-]ACCESS[_-]KEY|DATABASE[_-]URL|DB[_-]URL|CONNECTION[_-]STRING|AUTH[_-]TOKEN)';

/** Values that are types, placeholders or expressions rather than secrets (`password: string`). */
const placeholderValue =
  /^(?:string|number|boolean|any|unknown|null|undefined|none|nil|true|false|never|object|str|int|bool|optional|required|\*+|x+|<[^>]*>|\$\{?[A-Za-z_]\w*\}?|%[sd]|\.\.\.|…)$/i;
/** Code on the right of `name: ` — calls, arrows, member expressions, bare identifiers. */
const codeExpression = /[()=>]|^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$|^[a-z_$][A-Za-z_$]*$/;

/**
 * Redacts the value after a secret-looking name, keeping the name and any quotes. `envStyle`
 * (`NAME=value`, no spaces) redacts any value; the YAML/TS `name: value` form skips values that
 * read as code, so `password: string` and `token: this.token` survive.
 */
function redactValue(prefix: string, value: string): string | null {
  const quote = value[0] === '"' || value[0] === "'" || value[0] === '`' ? value[0] : '';
  const closed = quote !== '' && value.length > 1 && value.endsWith(quote);
  const inner = quote === '' ? value : value.slice(1, closed ? -1 : undefined);
  if (inner.trim() === '' || inner === redactionMarker || placeholderValue.test(inner)) return null;
  const envStyle = prefix.endsWith('=') && !/\s=$/.test(prefix);
  if (quote === '' && !envStyle && codeExpression.test(inner)) return null;
  return `${prefix}${quote}${redactionMarker}${closed ? quote : ''}`;
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
    kind: 'named_secret',
    // "NAME": "value"  /  'NAME': 'value'  (JSON and object literals)
    pattern: new RegExp(
      `((["'])${secretName}\\2\\s*:\\s*)("(?:[^"\\\\\\n]|\\\\.)*"|'(?:[^'\\\\\\n]|\\\\.)*')`,
      'gi',
    ),
    replace: (_match, groups) => redactValue(groups[0] ?? '', groups[2] ?? ''),
  },
  {
    kind: 'named_secret',
    // NAME=value (env files, shell), NAME = "value" (code), name: value (YAML), name = value
    // (ini/toml); the unquoted spaced forms skip values that read as code.
    pattern: new RegExp(
      `(\\b${secretName}(?:=|\\s*[:=]\\s*(?=["'\`])|:[ \\t]+|[ \\t]+=[ \\t]*))("(?:[^"\\\\\\n]|\\\\.)*"?|'(?:[^'\\\\\\n]|\\\\.)*'?|\`[^\`\\n]*\`?|[^\\s"'\`,;]+)`,
      'gi',
    ),
    replace: (_match, groups) => redactValue(groups[0] ?? '', groups[1] ?? ''),
  },
  {
    kind: 'url_credentials',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s:@/"'`]+:[^\s@/"'`]+@/gi,
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
    pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
    replace: () => redactionMarker,
  },
  {
    kind: 'aws_access_key',
    pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
    replace: () => redactionMarker,
  },
  {
    kind: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g,
    replace: () => redactionMarker,
  },
];

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

export function redactSecrets(text: string): RedactionResult {
  let count = 0;
  const kinds = new Set<string>();
  let out = text;
  for (const detector of detectors) {
    detector.pattern.lastIndex = 0;
    out = out.replace(detector.pattern, (...args: unknown[]) => {
      const match = args[0] as string;
      const groups: (string | undefined)[] = [];
      for (let i = 1; i < args.length && typeof args[i] !== 'number'; i++)
        groups.push(args[i] as string | undefined);
      const replacement = detector.replace(match, groups);
      if (replacement === null) return match;
      count++;
      kinds.add(detector.kind);
      return replacement;
    });
  }
  tokenCandidate.lastIndex = 0;
  out = out.replace(tokenCandidate, (match) => {
    if (!looksLikeGenericSecret(match)) return match;
    count++;
    kinds.add('high_entropy');
    return redactionMarker;
  });
  return { text: out, count, kinds: [...kinds] };
}

export function containsSecret(text: string): boolean {
  return redactSecrets(text).count > 0;
}

/**
 * The redaction corpus (issue 9, Medium #4): one sample per distinct secret format. The formats
 * are the ones the issue names, then one per rule of gitleaks' published rule list
 * (config/gitleaks.toml) whose format is well defined, then secretlint's recommended preset.
 * Only facts were taken from those lists (rule ids, prefixes, lengths, alphabets); every value
 * is generated here at run time, so no scanner mistakes this file for a leak.
 */

export interface Sample {
  readonly name: string;
  /** Where the format comes from: `issue`, `gitleaks:<rule id>` or `secretlint:<rule id>`. */
  readonly source: string;
  /** A line (or lines) of a file holding the secret. */
  readonly text: string;
  /** The credential. It leaks when any 12 characters of it in a row survive. */
  readonly secret: string;
  /** Named in the issue: must be caught in every sink. */
  readonly named: boolean;
  /** Recognisable on its own, with no name or command around it (so it can be a file name). */
  readonly standalone: boolean;
  /**
   * An identifier that gitleaks reports because it sits next to a credential (an OAuth client id,
   * an app id, an account id), not a credential itself. The redactor may keep it: client ids are
   * public by design (they travel in browser URLs), and hiding every id would blind evidence.
   */
  readonly identifier: boolean;
}

// A seeded generator (mulberry32), so the corpus is the same on every run.
let state = 0x9e3779b9;
function next(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (chars: string) => (n: number) =>
  Array.from({ length: n }, () => chars[Math.floor(next() * chars.length)] ?? 'a').join('');

const lowerAlpha = 'abcdefghijklmnopqrstuvwxyz';
const upperAlpha = lowerAlpha.toUpperCase();
const digitChars = '0123456789';
/** hex, lower */
const h = pick('0123456789abcdef');
/** hex, upper */
const H = pick('0123456789ABCDEF');
/** [a-z0-9] */
const l = pick(lowerAlpha + digitChars);
/** [A-Z0-9] */
const u = pick(upperAlpha + digitChars);
/** [A-Za-z0-9] */
const a = pick(upperAlpha + lowerAlpha + digitChars);
/** [A-Za-z] */
const alpha = pick(upperAlpha + lowerAlpha);
/** digits */
const d = pick(digitChars);
/** [A-Za-z0-9_-] */
const w = pick(upperAlpha + lowerAlpha + digitChars + '_-');
/** base64 [A-Za-z0-9+/] */
const b = pick(upperAlpha + lowerAlpha + digitChars + '+/');
/** [a-z0-9=_-] */
const dash = pick(lowerAlpha + digitChars + '=_-');
/** [A-Z2-7], base32 */
const b32 = pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
const base64url = (text: string) => Buffer.from(text).toString('base64url');
/** PEM armour and URL userinfo are joined at run time, so this file holds neither literally. */
const pem = (edge: 'BEGIN' | 'END', kind = '') =>
  ['-----', edge, ' ', kind === '' ? '' : `${kind} `, 'PRIVATE KEY', '-----'].join('');
const userinfo = (scheme: string, user: string, password: string) =>
  [scheme, '://', user, ':', password].join('');
const uuid = () => `${h(8)}-${h(4)}-${h(4)}-${h(4)}-${h(12)}`;

/**
 * Where a token sits when no name says what it is: the detector must know the format itself.
 * Rotated, so no one context carries a format.
 */
const neutral: readonly ((s: string) => string)[] = [
  (s) => `client.init(${JSON.stringify(s)});`,
  (s) => `Use ${s} for the staging deploy.`,
  (s) => `headers: { "X-Custom": "${s}" }`,
  (s) => `args = ["--verbose", '${s}']`,
  (s) => s,
  (s) => `  - ${s}`,
];

function camel(name: string): string {
  return name.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
/** A named assignment the way configs and code write it, rotated over the common syntaxes. */
const named: readonly ((name: string, s: string) => string)[] = [
  (name, s) => `${name}=${s}`,
  (name, s) => `${name.toLowerCase()}: ${s}`,
  (name, s) => `{ "${camel(name)}": "${s}" }`,
  (name, s) => `const ${camel(name)} = '${s}';`,
  (name, s) => `export ${name}="${s}"`,
];

const corpus: Sample[] = [];
let rotation = 0;

function add(
  source: string,
  name: string,
  secret: string,
  text: string,
  { named = false, standalone = false, identifier = false } = {},
): void {
  corpus.push({ source, name, secret, text, named, standalone, identifier });
}
/** A token with a format of its own, in a neutral context. */
function token(source: string, secret: string, name = source.replace(/^\w+:/, '')): void {
  const place = neutral[rotation++ % neutral.length] ?? ((s: string) => s);
  add(source, name, secret, place(secret), { standalone: true });
}
/** A value that is only a secret by its name (gitleaks' keyword rules). */
function keyword(source: string, variable: string, secret: string, identifier = false): void {
  const place = named[rotation++ % named.length] ?? ((n: string, s: string) => `${n}=${s}`);
  add(source, source.replace(/^\w+:/, ''), secret, place(variable, secret), { identifier });
}

// ---- Named in the issue: every sink, every one. -------------------------------------------
const awsSecret = `${a(20)}/${a(9)}+${a(9)}`;
add(
  'issue',
  'aws key split over two lines',
  awsSecret,
  `aws_secret_access_key = "${awsSecret.slice(0, 20)}\\\n${awsSecret.slice(20)}"`,
  { named: true },
);
const continued = `ghp_${a(36)}`;
add(
  'issue',
  'token after shell line continuation',
  continued,
  `curl -H "Authorization: token \\\n  ${continued}" https://api.github.com`,
  { named: true, standalone: true },
);
const hexToken = Buffer.from(`ghp_${a(36)}`).toString('hex');
add('issue', 'hex-encoded token', hexToken, `export GH_TOKEN_HEX=${hexToken}`, {
  named: true,
  standalone: true,
});
const prose = `glpat-${a(20)}`;
add('issue', 'glpat in prose', prose, `The deploy uses ${prose} for the registry.`, {
  named: true,
  standalone: true,
});
const twilio = `SK${h(32)}`;
add('issue', 'twilio api key', twilio, `twilio.init("${twilio}")`, {
  named: true,
  standalone: true,
});
const mailgun = `key-${h(32)}`;
add('issue', 'mailgun key', mailgun, `mg = Mailgun("${mailgun}")`, {
  named: true,
  standalone: true,
});
const databricks = `dapi${h(32)}`;
add('issue', 'databricks token', databricks, `host = x; token_value: ${databricks}`, {
  named: true,
  standalone: true,
});
const shopify = `shpat_${h(32)}`;
add('issue', 'shopify access token', shopify, `client(${JSON.stringify(shopify)})`, {
  named: true,
  standalone: true,
});
const digitalocean = `dop_v1_${h(64)}`;
add('issue', 'digitalocean token', digitalocean, `doctl auth init -t ${digitalocean}`, {
  named: true,
  standalone: true,
});
const huggingface = `hf_${alpha(34)}`;
add('issue', 'hugging face token', huggingface, `login(${JSON.stringify(huggingface)})`, {
  named: true,
  standalone: true,
});
const sendgrid = `SG.${w(22)}.${w(43)}`;
add('issue', 'sendgrid whole key', sendgrid, `sg = SendGrid("${sendgrid}")`, {
  named: true,
  standalone: true,
});
const netrc = a(18);
add('issue', 'netrc password', netrc, `machine api.example.com login bob password ${netrc}`, {
  named: true,
});
const mysql = a(14);
add('issue', 'mysql -p', mysql, `mysql -u root -p${mysql} app`, { named: true });
const sshpass = a(14);
add('issue', 'sshpass -p', sshpass, `sshpass -p ${sshpass} ssh deploy@host`, { named: true });
const comment = a(16);
add('issue', 'password in a comment', comment, `# the admin password is ${comment}`, {
  named: true,
});
const constKey = a(32);
add('issue', 'const key = "…"', constKey, `const key = "${constKey}";`, { named: true });
const atPassword = `p@ss${a(12)}`;
add(
  'issue',
  'url password with @',
  atPassword,
  `DATABASE=${userinfo('postgres', 'app', atPassword)}@db.internal:5432/app`,
  { named: true },
);

// ---- gitleaks' rule list, one sample per rule whose format is well defined. ---------------
token('gitleaks:1password-secret-key', `A3-${u(6)}-${u(11)}-${u(5)}-${u(5)}-${u(5)}`);
token(
  'gitleaks:1password-secret-key',
  `A3-${u(6)}-${u(6)}-${u(5)}-${u(5)}-${u(5)}-${u(5)}`,
  '1password-secret-key (split middle)',
);
token('gitleaks:1password-service-account-token', `ops_eyJ${b(260)}fQ==`);
keyword('gitleaks:adafruit-api-key', 'ADAFRUIT_IO_KEY', dash(32));
keyword('gitleaks:adobe-client-id', 'ADOBE_CLIENT_ID', h(32), true);
token('gitleaks:adobe-client-secret', `p8e-${a(32)}`);
token('gitleaks:age-secret-key', `AGE-SECRET-KEY-1${pick('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L')(58)}`);
keyword('gitleaks:airtable-api-key', 'AIRTABLE_API_KEY', l(17));
token('gitleaks:airtable-personnal-access-token', `pat${a(14)}.${h(64)}`);
keyword('gitleaks:algolia-api-key', 'ALGOLIA_ADMIN_KEY', l(32));
token('gitleaks:alibaba-access-key-id', `LTAI${a(20)}`);
keyword('gitleaks:alibaba-secret-key', 'ALIBABA_SECRET_KEY', l(30));
token('gitleaks:anthropic-admin-api-key', `sk-ant-admin01-${w(93)}AA`);
token('gitleaks:anthropic-api-key', `sk-ant-api03-${w(93)}AA`);
token('gitleaks:artifactory-api-key', `AKCp${a(69)}`);
token('gitleaks:artifactory-reference-token', `cmVmd${a(59)}`);
keyword('gitleaks:asana-client-id', 'ASANA_CLIENT_ID', d(16), true);
keyword('gitleaks:asana-client-secret', 'ASANA_CLIENT_SECRET', l(32));
keyword('gitleaks:atlassian-api-token', 'JIRA_API_TOKEN', `${l(20)}${h(4)}`);
token('gitleaks:atlassian-api-token', `ATATT3${w(183)}=${H(8)}`, 'atlassian-api-token (ATATT3)');
token('gitleaks:authress-service-client-access-key', `sc_${l(12)}.${l(5)}.acc_${l(20)}.${w(60)}`);
token('gitleaks:aws-access-token', `AKIA${b32(16)}`);
token('gitleaks:aws-access-token', `ASIA${b32(16)}`, 'aws-access-token (ASIA)');
token('gitleaks:aws-access-token', `ABIA${b32(16)}`, 'aws-access-token (ABIA)');
token('gitleaks:aws-amazon-bedrock-api-key-long-lived', `ABSK${b(140)}`);
token(
  'gitleaks:aws-amazon-bedrock-api-key-short-lived',
  `bedrock-api-key-${Buffer.from('bedrock.amazonaws.com').toString('base64')}${b(180)}`,
);
token('gitleaks:azure-ad-client-secret', `${a(3)}${d(1)}Q~${w(34)}`);
keyword('gitleaks:beamer-api-token', 'BEAMER_API_KEY', `b_${dash(44)}`);
keyword('gitleaks:bitbucket-client-id', 'BITBUCKET_CLIENT_ID', l(32), true);
keyword('gitleaks:bitbucket-client-secret', 'BITBUCKET_CLIENT_SECRET', dash(64));
keyword('gitleaks:bittrex-access-key', 'BITTREX_ACCESS_KEY', l(32));
keyword('gitleaks:bittrex-secret-key', 'BITTREX_SECRET_KEY', l(32));
keyword('gitleaks:cisco-meraki-api-key', 'MERAKI_API_KEY', h(40));
token('gitleaks:clickhouse-cloud-api-secret-key', `4b1d${a(38)}`);
token('gitleaks:clojars-api-token', `CLOJARS_${l(60)}`);
keyword('gitleaks:cloudflare-api-key', 'CLOUDFLARE_API_TOKEN', dash(40));
keyword('gitleaks:cloudflare-global-api-key', 'CLOUDFLARE_GLOBAL_API_KEY', h(37));
token('gitleaks:cloudflare-origin-ca-key', `v1.0-${h(24)}-${h(146)}`);
keyword('gitleaks:codecov-access-token', 'CODECOV_TOKEN', l(32));
keyword('gitleaks:cohere-api-token', 'CO_API_KEY', a(40));
keyword('gitleaks:coinbase-access-token', 'COINBASE_ACCESS_TOKEN', dash(64));
keyword('gitleaks:confluent-access-token', 'CONFLUENT_ACCESS_TOKEN', l(16));
keyword('gitleaks:confluent-secret-key', 'CONFLUENT_SECRET_KEY', l(64));
keyword('gitleaks:contentful-delivery-api-token', 'CONTENTFUL_DELIVERY_TOKEN', dash(43));
const curlBearer = w(40);
add(
  'gitleaks:curl-auth-header',
  'curl-auth-header',
  curlBearer,
  `curl -sS -H "Authorization: Bearer ${curlBearer}" https://api.example.com/v1/items`,
);
const curlApiKey = a(32);
add(
  'gitleaks:curl-auth-header',
  'curl-auth-header (X-API-Key)',
  curlApiKey,
  `curl --header "X-API-Key: ${curlApiKey}" https://api.example.com/v1/items`,
);
const curlUser = a(16);
add(
  'gitleaks:curl-auth-user',
  'curl-auth-user',
  curlUser,
  `curl -u deploy:${curlUser} https://ci.example.com/api/json`,
);
token('gitleaks:databricks-api-token', `dapi${h(32)}-2`);
keyword('gitleaks:datadog-access-token', 'DATADOG_API_KEY', l(40));
token('gitleaks:defined-networking-api-token', `dnkey-${dash(26)}-${dash(52)}`);
token('gitleaks:digitalocean-access-token', `doo_v1_${h(64)}`);
token('gitleaks:digitalocean-pat', `dop_v1_${h(64)}`);
token('gitleaks:digitalocean-refresh-token', `dor_v1_${h(64)}`);
keyword('gitleaks:discord-api-token', 'DISCORD_API_TOKEN', h(64));
keyword('gitleaks:discord-client-id', 'DISCORD_CLIENT_ID', d(18), true);
keyword('gitleaks:discord-client-secret', 'DISCORD_CLIENT_SECRET', dash(32));
token('gitleaks:doppler-api-token', `dp.pt.${a(43)}`);
keyword('gitleaks:droneci-access-token', 'DRONECI_ACCESS_TOKEN', l(32));
keyword('gitleaks:dropbox-api-token', 'DROPBOX_API_TOKEN', l(15));
keyword(
  'gitleaks:dropbox-long-lived-api-token',
  'DROPBOX_ACCESS_TOKEN',
  `${l(11)}AAAAAAAAAA${dash(43)}`,
);
keyword('gitleaks:dropbox-short-lived-api-token', 'DROPBOX_TOKEN', `sl.${dash(135)}`);
token('gitleaks:duffel-api-token', `duffel_test_${w(43)}`);
token('gitleaks:dynatrace-api-token', `dt0c01.${u(24)}.${a(64)}`);
token('gitleaks:easypost-api-token', `EZAK${a(54)}`);
token('gitleaks:easypost-test-api-token', `EZTK${a(54)}`);
keyword('gitleaks:etsy-access-token', 'ETSY_ACCESS_TOKEN', l(24));
token('gitleaks:facebook-access-token', `${d(15)}|${w(32)}`);
token('gitleaks:facebook-page-access-token', `EAAM${a(120)}`);
keyword('gitleaks:facebook-secret', 'FACEBOOK_APP_SECRET', h(32));
keyword('gitleaks:fastly-api-token', 'FASTLY_API_TOKEN', dash(32));
keyword('gitleaks:finicity-api-token', 'FINICITY_API_TOKEN', h(32));
keyword('gitleaks:finicity-client-secret', 'FINICITY_CLIENT_SECRET', l(20));
keyword('gitleaks:finnhub-access-token', 'FINNHUB_ACCESS_TOKEN', l(20));
keyword('gitleaks:flickr-access-token', 'FLICKR_ACCESS_TOKEN', l(32));
token('gitleaks:flutterwave-encryption-key', `FLWSECK_TEST-${h(12)}`);
token('gitleaks:flutterwave-public-key', `FLWPUBK_TEST-${h(32)}-X`);
token('gitleaks:flutterwave-secret-key', `FLWSECK_TEST-${h(32)}-X`);
token('gitleaks:flyio-access-token', `fo1_${w(43)}`);
token('gitleaks:flyio-access-token', `fm2_${b(120)}`, 'flyio-access-token (fm2_)');
token('gitleaks:frameio-api-token', `fio-u-${w(64)}`);
const freemius = `sk_${a(29)}`;
add(
  'gitleaks:freemius-secret-key',
  'freemius-secret-key',
  freemius,
  `$config = array( 'secret_key' => '${freemius}' );`,
);
keyword('gitleaks:freshbooks-access-token', 'FRESHBOOKS_ACCESS_TOKEN', l(64));
token('gitleaks:gcp-api-key', `AIza${w(35)}`);
keyword('gitleaks:generic-api-key', 'API_KEY', a(24));
token('gitleaks:github-app-token', `ghs_${a(36)}`);
token('gitleaks:github-fine-grained-pat', `github_pat_${a(22)}_${a(59)}`);
token('gitleaks:github-oauth', `gho_${a(36)}`);
token('gitleaks:github-pat', `ghp_${a(36)}`);
token('gitleaks:github-refresh-token', `ghr_${a(36)}`);
token('gitleaks:gitlab-cicd-job-token', `glcbt-${a(3)}_${w(20)}`);
token('gitleaks:gitlab-deploy-token', `gldt-${w(20)}`);
token('gitleaks:gitlab-feature-flag-client-token', `glffct-${w(20)}`);
token('gitleaks:gitlab-feed-token', `glft-${w(20)}`);
token('gitleaks:gitlab-incoming-mail-token', `glimt-${w(25)}`);
token('gitleaks:gitlab-kubernetes-agent-token', `glagent-${w(50)}`);
token('gitleaks:gitlab-oauth-app-secret', `gloas-${w(64)}`);
token('gitleaks:gitlab-pat', `glpat-${w(20)}`);
token('gitleaks:gitlab-pat-routable', `glpat-${w(36)}.01${l(7)}`);
token('gitleaks:gitlab-ptt', `glptt-${h(40)}`);
token('gitleaks:gitlab-rrt', `GR1348941${w(20)}`);
token('gitleaks:gitlab-runner-authentication-token', `glrt-${w(20)}`);
token('gitleaks:gitlab-runner-authentication-token-routable', `glrt-t1_${w(36)}.01${l(7)}`);
token('gitleaks:gitlab-scim-token', `glsoat-${w(20)}`);
const gitlabSession = l(32);
add(
  'gitleaks:gitlab-session-cookie',
  'gitlab-session-cookie',
  gitlabSession,
  `Cookie: _gitlab_session=${gitlabSession}`,
);
keyword('gitleaks:gitter-access-token', 'GITTER_TOKEN', dash(40));
keyword('gitleaks:gocardless-api-token', 'GOCARDLESS_ACCESS_TOKEN', `live_${w(40)}`);
token('gitleaks:grafana-api-key', `eyJrIjoi${a(80)}`);
token('gitleaks:grafana-cloud-api-token', `glc_${b(60)}`);
token('gitleaks:grafana-service-account-token', `glsa_${a(32)}_${h(8)}`);
token('gitleaks:harness-api-key', `pat.${w(22)}.${a(24)}.${a(20)}`);
token('gitleaks:hashicorp-tf-api-token', `${l(14)}.atlasv1.${dash(64)}`);
keyword('gitleaks:hashicorp-tf-password', 'ADMINISTRATOR_LOGIN_PASSWORD', dash(16));
keyword('gitleaks:heroku-api-key', 'HEROKU_API_KEY', uuid());
token('gitleaks:heroku-api-key-v2', `HRKU-AA${w(58)}`);
keyword('gitleaks:hubspot-api-key', 'HUBSPOT_API_KEY', uuid().toUpperCase());
token('gitleaks:huggingface-access-token', `hf_${alpha(34)}`);
token('gitleaks:huggingface-organization-api-token', `api_org_${alpha(34)}`);
token('gitleaks:infracost-api-token', `ico-${a(32)}`);
keyword('gitleaks:intercom-api-key', 'INTERCOM_ACCESS_TOKEN', dash(60));
token('gitleaks:intra42-client-secret', `s-s4t2ud-${h(64)}`);
keyword('gitleaks:jfrog-api-key', 'ARTIFACTORY_API_KEY', l(73));
keyword('gitleaks:jfrog-identity-token', 'JFROG_IDENTITY_TOKEN', l(64));
const jwt = `${base64url('{"alg":"HS256","typ":"JWT"}')}.${Buffer.from(`{"sub":"${a(12)}","iat":1700000000}`).toString('base64url')}.${w(43)}`;
token('gitleaks:jwt', jwt);
token('gitleaks:jwt-base64', Buffer.from(jwt).toString('base64'));
keyword(
  'gitleaks:kraken-access-token',
  'KRAKEN_ACCESS_TOKEN',
  pick(lowerAlpha + digitChars + '/=_+-')(86),
);
const dockerConfig = Buffer.from(
  JSON.stringify({
    auths: { 'registry.example.com': { auth: Buffer.from(`ci:${a(20)}`).toString('base64') } },
  }),
).toString('base64');
add(
  'gitleaks:kubernetes-secret-yaml',
  'kubernetes-secret-yaml',
  dockerConfig,
  `apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: ${dockerConfig}`,
);
keyword('gitleaks:kucoin-access-token', 'KUCOIN_ACCESS_TOKEN', h(24));
keyword('gitleaks:kucoin-secret-key', 'KUCOIN_SECRET_KEY', uuid());
keyword('gitleaks:launchdarkly-access-token', 'LAUNCHDARKLY_ACCESS_TOKEN', dash(40));
token('gitleaks:linear-api-key', `lin_api_${a(40)}`);
keyword('gitleaks:linear-client-secret', 'LINEAR_CLIENT_SECRET', h(32));
keyword('gitleaks:linkedin-client-id', 'LINKEDIN_CLIENT_ID', l(14), true);
keyword('gitleaks:linkedin-client-secret', 'LINKEDIN_CLIENT_SECRET', l(16));
keyword('gitleaks:lob-api-key', 'LOB_API_KEY', `live_${h(35)}`);
keyword('gitleaks:lob-pub-api-key', 'LOB_PUB_API_KEY', `test_pub_${h(31)}`);
keyword('gitleaks:looker-client-id', 'LOOKER_CLIENT_ID', l(20), true);
keyword('gitleaks:looker-client-secret', 'LOOKER_CLIENT_SECRET', l(24));
keyword('gitleaks:mailchimp-api-key', 'MAILCHIMP_API_KEY', `${h(32)}-us12`);
keyword('gitleaks:mailgun-private-api-token', 'MAILGUN_PRIVATE_KEY', `key-${h(32)}`);
keyword('gitleaks:mailgun-pub-key', 'MAILGUN_PUBLIC_KEY', `pubkey-${h(32)}`);
keyword('gitleaks:mailgun-signing-key', 'MAILGUN_SIGNING_KEY', `${h(32)}-${h(8)}-${h(8)}`);
keyword('gitleaks:mapbox-api-token', 'MAPBOX_ACCESS_TOKEN', `pk.${l(60)}.${l(22)}`);
keyword('gitleaks:mattermost-access-token', 'MATTERMOST_ACCESS_TOKEN', l(26));
token('gitleaks:maxmind-license-key', `${a(6)}_${a(29)}_mmk`);
keyword('gitleaks:messagebird-api-token', 'MESSAGEBIRD_API_KEY', l(25));
keyword('gitleaks:messagebird-client-id', 'MESSAGEBIRD_CLIENT_ID', uuid(), true);
const teamsHook = `https://acme.webhook.office.com/webhookb2/${uuid()}@${uuid()}/IncomingWebhook/${h(32)}/${uuid()}`;
add(
  'gitleaks:microsoft-teams-webhook',
  'microsoft-teams-webhook',
  teamsHook.slice(teamsHook.indexOf('/webhookb2/') + 11),
  `notify: ${teamsHook}`,
);
keyword('gitleaks:netlify-access-token', 'NETLIFY_AUTH_TOKEN', dash(43));
keyword('gitleaks:new-relic-browser-api-token', 'NEW_RELIC_BROWSER_KEY', `NRJS-${h(19)}`);
keyword(
  'gitleaks:new-relic-insert-key',
  'NEW_RELIC_INSERT_KEY',
  `NRII-${pick(lowerAlpha + digitChars + '-')(32)}`,
);
keyword('gitleaks:new-relic-user-api-id', 'NEW_RELIC_USER_API_ID', l(64), true);
token('gitleaks:new-relic-user-api-key', `NRAK-${u(27)}`);
token('gitleaks:notion-api-token', `ntn_${d(11)}${a(35)}`);
token('gitleaks:npm-access-token', `npm_${a(36)}`);
const nuget = a(20);
const nugetKey = ['ClearText', 'Password'].join('');
add(
  'gitleaks:nuget-config-password',
  'nuget-config-password',
  nuget,
  `<packageSourceCredentials><feed><add key="${nugetKey}" value="${nuget}" /></feed></packageSourceCredentials>`,
);
keyword('gitleaks:nytimes-access-token', 'NYTIMES_API_KEY', dash(32));
token('gitleaks:octopus-deploy-api-key', `API-${u(26)}`);
keyword('gitleaks:okta-access-token', 'OKTA_API_TOKEN', `00${w(40)}`);
token('gitleaks:openai-api-key', `sk-proj-${w(74)}T3BlbkFJ${w(74)}`);
token('gitleaks:openai-api-key', `sk-${a(20)}T3BlbkFJ${a(20)}`, 'openai-api-key (legacy)');
token('gitleaks:openshift-user-token', `sha256~${w(43)}`);
token('gitleaks:perplexity-api-key', `pplx-${a(48)}`);
keyword('gitleaks:plaid-api-token', 'PLAID_ACCESS_TOKEN', `access-sandbox-${uuid()}`);
keyword('gitleaks:plaid-client-id', 'PLAID_CLIENT_ID', l(24), true);
keyword('gitleaks:plaid-secret-key', 'PLAID_SECRET', l(30));
token('gitleaks:planetscale-api-token', `pscale_tkn_${w(43)}`);
token('gitleaks:planetscale-oauth-token', `pscale_oauth_${w(43)}`);
token('gitleaks:planetscale-password', `pscale_pw_${w(43)}`);
token('gitleaks:postman-api-token', `PMAK-${h(24)}-${h(34)}`);
token('gitleaks:prefect-api-token', `pnu_${a(36)}`);
const opensshKey = b(70);
add(
  'gitleaks:private-key',
  'private-key (openssh)',
  opensshKey,
  `${pem('BEGIN', 'OPENSSH')}\n${opensshKey}\n${b(70)}\n${pem('END', 'OPENSSH')}`,
);
const ecKey = b(64);
add(
  'gitleaks:private-key',
  'private-key (EC)',
  ecKey,
  `${pem('BEGIN', 'EC')}\n${ecKey}\n${pem('END', 'EC')}`,
);
keyword('gitleaks:privateai-api-token', 'PRIVATEAI_API_KEY', l(32));
token('gitleaks:pulumi-api-token', `pul-${h(40)}`);
token('gitleaks:pypi-upload-token', `pypi-AgEIcHlwaS5vcmc${w(70)}`);
keyword('gitleaks:rapidapi-access-token', 'RAPIDAPI_KEY', pick(lowerAlpha + digitChars + '_-')(50));
token('gitleaks:readme-api-token', `rdme_${l(70)}`);
token('gitleaks:rubygems-api-token', `rubygems_${h(48)}`);
token('gitleaks:scalingo-api-token', `tk-us-${w(48)}`);
keyword('gitleaks:sendbird-access-id', 'SENDBIRD_APP_ID', uuid(), true);
keyword('gitleaks:sendbird-access-token', 'SENDBIRD_API_TOKEN', h(40));
token('gitleaks:sendgrid-api-token', `SG.${w(22)}.${w(43)}`);
token('gitleaks:sendinblue-api-token', `xkeysib-${h(64)}-${a(16)}`);
keyword('gitleaks:sentry-access-token', 'SENTRY_AUTH_TOKEN', h(64));
token('gitleaks:sentry-org-token', `sntrys_eyJpYXQiO${b(40)}LCJyZWdpb25fdXJs${b(40)}_${b(43)}`);
token('gitleaks:sentry-user-token', `sntryu_${h(64)}`);
token('gitleaks:settlemint-application-access-token', `sm_aat_${a(16)}`);
token('gitleaks:settlemint-personal-access-token', `sm_pat_${a(16)}`);
token('gitleaks:settlemint-service-access-token', `sm_sat_${a(16)}`);
token('gitleaks:shippo-api-token', `shippo_live_${h(40)}`);
token('gitleaks:shopify-access-token', `shpat_${h(32)}`);
token('gitleaks:shopify-custom-access-token', `shpca_${h(32)}`);
token('gitleaks:shopify-private-app-access-token', `shppa_${h(32)}`);
token('gitleaks:shopify-shared-secret', `shpss_${h(32)}`);
const sidekiq = `${h(8)}:${h(8)}`;
add(
  'gitleaks:sidekiq-secret',
  'sidekiq-secret',
  sidekiq,
  `BUNDLE_ENTERPRISE__CONTRIBSYS__COM=${sidekiq}`,
);
const sidekiqUrl = `${h(8)}:${h(8)}`;
add(
  'gitleaks:sidekiq-sensitive-url',
  'sidekiq-sensitive-url',
  sidekiqUrl,
  `source "https://${sidekiqUrl}@enterprise.contribsys.com/"`,
);
token('gitleaks:slack-app-token', `xapp-${d(1)}-A${u(10)}-${d(13)}-${h(64)}`);
token('gitleaks:slack-bot-token', `xoxb-${d(12)}-${d(13)}-${a(24)}`);
token('gitleaks:slack-config-access-token', `xoxe.xoxp-1-${u(164)}`);
token('gitleaks:slack-config-refresh-token', `xoxe-1-${u(146)}`);
token('gitleaks:slack-legacy-bot-token', `xoxb-${d(11)}-${a(24)}`);
token('gitleaks:slack-legacy-token', `xoxs-${d(10)}-${d(11)}-${d(12)}-${h(64)}`);
token('gitleaks:slack-legacy-workspace-token', `xoxa-2-${a(32)}`);
token('gitleaks:slack-user-token', `xoxp-${d(12)}-${d(12)}-${d(13)}-${a(32)}`);
const slackHook = `T${u(8)}/B${u(8)}/${a(24)}`;
add(
  'gitleaks:slack-webhook-url',
  'slack-webhook-url',
  slackHook,
  `url: https://hooks.slack.com/services/${slackHook}`,
);
const slackWorkflow = b(48);
add(
  'gitleaks:slack-webhook-url',
  'slack-webhook-url (workflows)',
  slackWorkflow,
  `POST https://hooks.slack.com/workflows/${slackWorkflow}`,
);
keyword('gitleaks:snyk-api-token', 'SNYK_TOKEN', uuid());
keyword('gitleaks:sonar-api-token', 'SONAR_TOKEN', `squ_${l(40)}`);
token('gitleaks:sourcegraph-access-token', `sgp_${h(16)}_${h(40)}`);
token('gitleaks:square-access-token', `sq0atp-${w(22)}`);
token('gitleaks:square-access-token', `EAAA${w(60)}`, 'square-access-token (EAAA)');
keyword('gitleaks:squarespace-access-token', 'SQUARESPACE_API_KEY', uuid());
token('gitleaks:stripe-access-token', `sk_live_${a(24)}`);
token('gitleaks:stripe-access-token', `rk_prod_${a(24)}`, 'stripe-access-token (rk_prod)');
keyword('gitleaks:sumologic-access-id', 'SUMO_ACCESS_ID', `su${a(12)}`, true);
keyword('gitleaks:sumologic-access-token', 'SUMO_ACCESS_KEY', l(64));
keyword('gitleaks:telegram-bot-api-token', 'TELEGRAM_BOT_TOKEN', `${d(10)}:A${w(34)}`);
keyword('gitleaks:travisci-access-token', 'TRAVIS_TOKEN', l(22));
token('gitleaks:twilio-api-key', `SK${h(32)}`);
keyword('gitleaks:twitch-api-token', 'TWITCH_API_TOKEN', l(30));
keyword('gitleaks:twitter-access-secret', 'TWITTER_ACCESS_SECRET', l(45));
keyword('gitleaks:twitter-access-token', 'TWITTER_ACCESS_TOKEN', `${d(19)}-${a(30)}`);
keyword('gitleaks:twitter-api-key', 'TWITTER_API_KEY', l(25));
keyword('gitleaks:twitter-api-secret', 'TWITTER_API_SECRET', l(50));
keyword('gitleaks:twitter-bearer-token', 'TWITTER_BEARER_TOKEN', `${'A'.repeat(22)}${a(90)}`);
keyword('gitleaks:typeform-api-token', 'TYPEFORM_API_TOKEN', `tfp_${l(59)}`);
token('gitleaks:vault-batch-token', `hvb.${w(150)}`);
token('gitleaks:vault-service-token', `hvs.${w(95)}`);
keyword('gitleaks:yandex-access-token', 'YANDEX_ACCESS_TOKEN', `t1.${w(40)}.${w(86)}`);
keyword('gitleaks:yandex-api-key', 'YANDEX_API_KEY', `AQVN${w(36)}`);
keyword('gitleaks:yandex-aws-access-token', 'YANDEX_AWS_ACCESS_KEY', `YC${w(38)}`);
keyword('gitleaks:zendesk-secret-key', 'ZENDESK_API_TOKEN', l(40));

// ---- secretlint's recommended preset: the formats gitleaks' list does not already hold. ----
token('secretlint:aws', `AROA${u(16)}`, 'aws (IAM role id, AROA)');
const awsSecretKey = `${a(30)}/${a(4)}+${a(4)}`;
add(
  'secretlint:aws',
  'aws (secret access key)',
  awsSecretKey,
  `AWS_SECRET_ACCESS_KEY="${awsSecretKey}"`,
);
const awsAccount = `${d(4)}-${d(4)}-${d(4)}`;
add('secretlint:aws', 'aws (account id)', awsAccount, `aws_account_id: "${awsAccount}"`, {
  identifier: true,
});
const basicAuth = a(16);
add(
  'secretlint:basicauth',
  'basicauth (URL)',
  basicAuth,
  `fetch("${userinfo('https', 'admin', basicAuth)}@internal.example.com/status")`,
);
const mongo = a(16);
add(
  'secretlint:database-connection-string',
  'database-connection-string (mongodb+srv)',
  mongo,
  `uri = ${userinfo('mongodb+srv', 'app', mongo)}@cluster0.example.mongodb.net/prod?retryWrites=true`,
);
const jdbc = a(16);
add(
  'secretlint:database-connection-string',
  'database-connection-string (jdbc:mysql)',
  jdbc,
  `spring.datasource.url=jdbc:${userinfo('mysql', 'app', jdbc)}@db.internal:3306/shop`,
);
const gcpKey = b(64);
add(
  'secretlint:gcp',
  'gcp (service account JSON)',
  gcpKey,
  `{"type": "service_account", "project_id": "acme", "private_key_id": "${h(40)}", "private_key": "${pem('BEGIN')}\\n${gcpKey}\\n${b(64)}\\n${pem('END')}\\n", "client_email": "ci@acme.iam.gserviceaccount.com"}`,
);
const oauthBasic = `ghp_${a(36)}`;
add(
  'secretlint:github',
  'github (x-oauth-basic URL)',
  oauthBasic,
  `git clone ${userinfo('https', oauthBasic, 'x-oauth-basic')}@github.com/acme/app.git`,
);
const npmrc = a(36);
add(
  'secretlint:npm',
  'npm (.npmrc _authToken)',
  npmrc,
  `//npm.pkg.github.com/:_authToken=${npmrc}`,
);
token(
  'secretlint:1password',
  `ops_${Buffer.from(
    JSON.stringify({
      signInAddress: 'acme.1password.com',
      email: 'ci@acme.test',
      secretKey: `A3-${u(6)}`,
      srpX: h(64),
      muk: { k: w(43) },
    }),
  )
    .toString('base64')
    .replace(/=+$/, '')}`,
  '1password (service account, base64 JSON)',
);
token('secretlint:anthropic', `sk-ant-api04-${w(100)}AA`, 'anthropic (api04)');
token('secretlint:linear', `lin_api_${a(48)}`, 'linear (48)');
token('secretlint:sendgrid', `SG.${w(22)}.${w(20)}-${w(22)}`, 'sendgrid (dash in last segment)');
token('secretlint:shopify', `shpat_${a(48)}`, 'shopify (alphanumeric, 48)');
token('secretlint:slack', `xoxr-${a(12)}-${a(30)}`, 'slack (xoxr refresh)');

// ---- Common shapes of the formats above, as they sit in headers, configs and code. ---------
const basicHeader = Buffer.from(`admin:${a(12)}`).toString('base64');
add('common', 'basic auth header', basicHeader, `Authorization: Basic ${basicHeader}`);
const bearerHeader = a(40);
add('common', 'bearer header', bearerHeader, `Authorization: Bearer ${bearerHeader}`);
const envPassword = a(20);
add('common', 'password env', envPassword, `POSTGRES_PASSWORD=${envPassword}`);
const yamlSecret = a(24);
add('common', 'yaml client_secret', yamlSecret, `client_secret: ${yamlSecret}`);
const azureKey = `${b(86)}==`;
add(
  'common',
  'azure storage connection string',
  azureKey,
  `DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${azureKey};EndpointSuffix=core.windows.net`,
);
// The first part is the bot's id (digits) in base64.
const discordBot = `${Buffer.from(d(18)).toString('base64')}.${w(6)}.${w(38)}`;
add('common', 'discord bot token', discordBot, `bot.login("${discordBot}")`, { standalone: true });
const mapboxPublic = `pk.eyJ1Ijoi${a(20)}In0.${a(22)}`;
add('common', 'mapbox public token', mapboxPublic, `mapboxgl.accessToken = '${mapboxPublic}'`, {
  standalone: true,
});
const session = `${base64url('{"alg":"HS256"}')}.${base64url(`{"sub":"${a(20)}"}`)}.${a(43)}`;
add('common', 'jwt in a cookie', session, `cookie: session=${session}`, { standalone: true });

export { corpus };

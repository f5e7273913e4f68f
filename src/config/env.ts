// The one place that understands the environment. Composition roots (src/workers, src/cli) call
// loadConfig(process.env); everything else receives plain values.
import { isIP } from 'node:net';
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import type { Cm360Credentials } from '../clients/cm360/auth';
import type { PayloadKey } from '../temporal/data-converter';
import { parseRateBudget } from '../clients/hubspot/rate-limit';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        const ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
        if (Number.isFinite(ms) && ms >= 0) return ms;
      } catch {
        // reported below
      }
      ctx.addIssue({ code: 'custom', message: `not a duration like "90m" or "6h": ${JSON.stringify(value)}` });
      return z.NEVER;
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/**
 * A base URL with its scheme, as HubSpot calls it (`https://relay.example.com`, or with a path prefix behind a
 * proxy): HubSpot signs the full URL, so a value without a scheme would fail every signature without a word.
 */
const publicBaseUrl = optionalString.superRefine((v, ctx) => {
  if (v === undefined) return;
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    ctx.addIssue({
      code: 'custom',
      message: `a URL with its scheme, e.g. https://relay.example.com: ${JSON.stringify(v)}`,
    });
  } else if (url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'a base URL without a query or fragment' });
  }
});

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_ID_FORMAT = 'a key id is 1 to 64 letters, digits, dots, dashes or underscores';
const PAYLOAD_KEY_FORMAT = 'a key is 32 random bytes in base64 (44 characters), e.g. `openssl rand -base64 32`';
/** Exactly 32 bytes in canonical base64: anything else would be read as some other key without a word. */
function isPayloadKey(text: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(text) && Buffer.from(text, 'base64').toString('base64') === text;
}

/** proxy-addr's named ranges, which Fastify's trustProxy also takes. */
const TRUST_PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IP address, an address/prefix CIDR, or a named range: what Fastify (proxy-addr) compiles. */
function isTrustedProxyEntry(entry: string): boolean {
  if (TRUST_PROXY_RANGES.has(entry)) return true;
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = address.includes('%') ? 0 : isIP(address);
  if (version === 0) return false;
  if (slash === -1) return true;
  const prefix = entry.slice(slash + 1);
  return /^\d{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * Whose X-Forwarded-Proto / -Host / -For the api believes (Fastify's trustProxy): unset or `false` nobody, `true`
 * everyone, else a comma-separated list of the proxies' addresses or CIDRs. A hop count is refused: Fastify 5
 * ignores it, since it cannot tell a proxy from a client that sends the headers itself. Entries are named by
 * position, never echoed.
 */
const trustProxy = optionalString.transform((value, ctx): boolean | string[] => {
  if (value === undefined || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message:
        "a hop count is not supported (by it Fastify cannot tell a proxy from a client sending X-Forwarded-* itself): give the proxy's IP address or CIDR, true, or false",
    });
    return z.NEVER;
  }
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.flatMap((e, i) => (isTrustedProxyEntry(e) ? [] : [i + 1]));
  if (entries.length === 0 || bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${entries.length === 0 ? 'no entry' : `entry ${bad.join(', ')}`} is not an IP address, a CIDR such as 10.0.0.0/8, or loopback, linklocal or uniquelocal (or give true or false)`,
    });
    return z.NEVER;
  }
  return entries;
});

/** A control URL of an emulator (`relay sandbox …`), e.g. http://127.0.0.1:8089. */
const sandboxUrl = optionalString.pipe(z.url({ error: 'a URL such as http://127.0.0.1:8089' }).optional());

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const envSchema = z
  .object({
    TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    RELAY_TASK_QUEUE: z.string().default('martech-relay'),
    RELAY_HTTP_PORT: port(8080),
    RELAY_HTTP_HOST: z.string().default('127.0.0.1'),
    /** The worker's own health endpoints (/healthz, /readyz) listen here, on RELAY_HTTP_HOST. */
    RELAY_WORKER_HTTP_PORT: port(8081),
    /** trace, debug, info, warn or error; requests are logged at debug. */
    RELAY_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    /** json (one JSON object a line), pretty (readable), or auto: pretty when stdout is a terminal. */
    RELAY_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
    /**
     * `relay worker`: the Temporal SDK's own metrics (task slots, poll and schedule-to-start latencies) are served
     * by its Prometheus exporter on 127.0.0.1 at this port and appended to the worker's /metrics; 0 turns them off.
     */
    RELAY_SDK_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    /**
     * What `relay worker` serves: `workflows` (the workflows and their reads), `uploads` (the vendor uploads, on
     * the `<RELAY_TASK_QUEUE>-uploads` queue), or both (the default), comma-separated.
     */
    RELAY_WORKER_ROLES: z
      .string()
      .default('workflows,uploads')
      .transform((s) => [
        ...new Set(
          s
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
        ),
      ])
      .pipe(z.array(z.enum(['workflows', 'uploads'])).min(1, 'name at least one of workflows, uploads')),
    /** Uploads that may wait in one process's batchers at once: bounds how full a request gets under a burst. */
    RELAY_UPLOAD_SLOTS: z.coerce.number().int().min(1).default(10_000),
    /**
     * How often an uploader reads who else serves the uploads, to take its part of each vendor quota. A new
     * uploader sends its first request after two of these and a second, once the others have made room.
     */
    RELAY_UPLOAD_SHARE_REFRESH: duration('5s'),
    RELAY_API_KEY: optionalString,
    /** Where `relay pendo …` finds the api; unset = http://RELAY_HTTP_HOST:RELAY_HTTP_PORT. */
    RELAY_API_URL: optionalString,
    RELAY_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    /** Largest call-conversion file (or JSON body) `POST /v1/google-ads/calls` reads; 100,000 rows are about 9 MB. */
    RELAY_MAX_CALLS_FILE_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(32 * 1024 * 1024),
    RELAY_DEFAULT_PHONE_REGION: optionalString.refine((v) => v === undefined || /^[A-Za-z]{2}$/.test(v), {
      message: 'must be a two-letter region code such as US',
    }),
    /** base64 of 32 random bytes; encrypts workflow payloads (AES-256-GCM). */
    RELAY_PAYLOAD_KEY: optionalString.refine((v) => v === undefined || isPayloadKey(v), {
      message: PAYLOAD_KEY_FORMAT,
    }),
    /** The id stored with every payload the current key encrypts. */
    RELAY_PAYLOAD_KEY_ID: z
      .string()
      .trim()
      .default('relay-1')
      .refine((v) => KEY_ID.test(v), {
        message: KEY_ID_FORMAT,
      }),
    /** Keys rotated out, `id:base64` separated by commas: they still decrypt what was written under them. */
    RELAY_PAYLOAD_PREVIOUS_KEYS: optionalString.transform((value, ctx): PayloadKey[] => {
      if (value === undefined) return [];
      return value.split(',').flatMap((entry, i) => {
        const [id = '', key = '', ...rest] = entry.trim().split(':');
        // Never echo the entry: it holds a key.
        if (rest.length > 0 || !KEY_ID.test(id) || !isPayloadKey(key)) {
          ctx.addIssue({
            code: 'custom',
            message: `entry ${i + 1} is not id:key (${KEY_ID_FORMAT}; ${PAYLOAD_KEY_FORMAT})`,
          });
          return [];
        }
        return [{ id, key }];
      });
    }),
    /**
     * Who may call the codec endpoints besides holders of the api key: `Authorization: Bearer <token>`, or
     * the token as a path segment (`/codec/t/<token>/decode`) for a Web UI that is given only a URL.
     */
    RELAY_CODEC_TOKEN: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9_-]{16,256}$/.test(v), {
      message: 'must be 16 to 256 letters, digits, dashes or underscores (e.g. `openssl rand -hex 24`)',
    }),
    /** Serve /codec/{encode,decode} on the api so the Web UI can show decrypted payloads. */
    RELAY_SERVE_CODEC: z.stringbool().default(false),
    /** Web UI origins (comma-separated) allowed to call the codec endpoints. */
    RELAY_CODEC_CORS_ORIGINS: z
      .string()
      .default('http://localhost:8233,http://127.0.0.1:8233')
      .transform((s) =>
        s
          .split(',')
          .map((o) => o.trim().replace(/\/$/, ''))
          .filter(Boolean),
      ),

    CM360_PROFILE_ID: optionalString,
    CM360_API_ROOT: optionalString,
    CM360_ACCESS_TOKEN: optionalString,
    CM360_SERVICE_ACCOUNT_KEY_FILE: optionalString,
    CM360_SERVICE_ACCOUNT_KEY_JSON: optionalString,
    CM360_OAUTH_CLIENT_ID: optionalString,
    CM360_OAUTH_CLIENT_SECRET: optionalString,
    CM360_OAUTH_REFRESH_TOKEN: optionalString,
    CM360_QPS: z.coerce.number().positive().default(1),
    CM360_BATCH_LINGER: duration('5s'),
    /** The longest a conversion waits for its request to fill while conversions keep arriving. */
    CM360_BATCH_MAX_WAIT: duration('90s'),
    /** Requests a day the relay may send CM360 for the project (50,000 by default; the quota resets at midnight PT). */
    CM360_DAILY_REQUESTS: z.coerce.number().int().positive().default(50_000),
    CM360_ENHANCE_DELAY: duration('90m'),
    CM360_NOT_FOUND_WINDOW: duration('6h'),
    CM360_DEADLINE: duration('24h'),
    CM360_DEADLINE_SAFETY_MARGIN: duration('10m'),
    /** Conversion event definitions (HubSpot → Google Ads), YAML or JSON. */
    RELAY_CONFIG: optionalString,
    /** The api's public base URL as HubSpot calls it; HubSpot's signatures cover the full URL. */
    RELAY_PUBLIC_URL: publicBaseUrl,
    /**
     * Behind a TLS-terminating proxy: the proxies whose X-Forwarded-Proto and X-Forwarded-Host (and -For) the api
     * believes, so the URL a HubSpot signature is checked against is the one HubSpot called. Unset or `false`:
     * nobody; `true`: every caller; else IP addresses or CIDRs, comma-separated. RELAY_PUBLIC_URL, when set, wins.
     */
    RELAY_TRUST_PROXY: trustProxy,

    HUBSPOT_CLIENT_SECRET: optionalString,
    HUBSPOT_ACCESS_TOKEN: optionalString,
    /** Base URL of the HubSpot API; unset = https://api.hubapi.com. */
    HUBSPOT_API_BASE: optionalString,

    GOOGLE_ADS_DEVELOPER_TOKEN: optionalString,
    GOOGLE_ADS_CLIENT_ID: optionalString,
    GOOGLE_ADS_CLIENT_SECRET: optionalString,
    GOOGLE_ADS_REFRESH_TOKEN: optionalString,
    /** `host:port` of a local (plaintext) Google Ads endpoint such as the sandbox emulator. */
    GOOGLE_ADS_ENDPOINT: optionalString,
    /** Dry run: every upload is sent with validate_only. */
    GOOGLE_ADS_VALIDATE_ONLY: z.stringbool().default(false),
    GOOGLE_ADS_BATCH_LINGER: duration('15s'),
    /** The longest a row waits for its request to fill while rows keep arriving. */
    GOOGLE_ADS_BATCH_MAX_WAIT: duration('3m'),
    /** Upload requests per second the relay sends Google Ads per developer token, across every worker process. */
    GOOGLE_ADS_REQUESTS_PER_SECOND: z.coerce.number().positive().default(5),
    /** Enhancements stop this long before the original conversion is 24 hours old. */
    GOOGLE_ADS_ENHANCEMENT_SAFETY_MARGIN: duration('10m'),

    /** Requests per window the relay sends HubSpot per process, e.g. `190/10s` (Professional private app). */
    HUBSPOT_RATE_LIMIT: z
      .string()
      .default('100/10s')
      .transform((value, ctx) => {
        const budget = parseRateBudget(value, (d) => msToNumber(d as Parameters<typeof msToNumber>[0]));
        if (budget) return budget;
        ctx.addIssue({ code: 'custom', message: `not a budget like "190/10s": ${JSON.stringify(value)}` });
        return z.NEVER;
      }),

    /** Pendo integration key (read-write), sent as x-pendo-integration-key. */
    PENDO_INTEGRATION_KEY: optionalString,
    /** Base URL of the Pendo API; unset = the host of the config's pendo.region. */
    PENDO_API_BASE: optionalString,

    /** `npm start` only: where it keeps the dev server's SQLite file, its log, its keys and sandbox.json (relay demo and relay sandbox read it). */
    RELAY_DATA_DIR: optionalString,
    /** `npm start` only: where the CM360 emulator listens when no credentials are configured. */
    CM360_SANDBOX_PORT: port(8089),
    /** `npm start` only: ports of the HubSpot (HTTP) and Google Ads (gRPC) emulators. */
    HUBSPOT_SANDBOX_PORT: port(8090),
    GOOGLE_ADS_SANDBOX_PORT: port(8091),
    /** `npm start` only: port of the Pendo emulator when no PENDO_INTEGRATION_KEY is set. */
    PENDO_SANDBOX_PORT: port(8092),
    /**
     * `relay sandbox fault|faults|cm360 conversions` only: the control URL of each emulator. It wins over the
     * sandbox.json the running `npm start` wrote to RELAY_DATA_DIR, which wins over the default ports.
     */
    CM360_SANDBOX_URL: sandboxUrl,
    HUBSPOT_SANDBOX_URL: sandboxUrl,
    /** The Google Ads emulator's HTTP control API (not its gRPC port). */
    GOOGLE_ADS_SANDBOX_CONTROL_URL: sandboxUrl,
    PENDO_SANDBOX_URL: sandboxUrl,
  })
  .superRefine((env, ctx) => {
    const ids = [env.RELAY_PAYLOAD_KEY_ID, ...env.RELAY_PAYLOAD_PREVIOUS_KEYS.map((k) => k.id)];
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (repeated.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['RELAY_PAYLOAD_PREVIOUS_KEYS'],
        message: `key id(s) ${[...new Set(repeated)].join(', ')} given twice: every key needs its own id`,
      });
    }
  });

export type RawEnv = z.input<typeof envSchema>;
export type Env = z.output<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment, failing with every offending variable's name (never its value). */
export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>): Env {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The payload keys: the current one (absent when RELAY_PAYLOAD_KEY is unset) and those rotated out. */
export function payloadKeys(env: Env): { current: PayloadKey | undefined; previous: PayloadKey[] } {
  const current = env.RELAY_PAYLOAD_KEY ? { id: env.RELAY_PAYLOAD_KEY_ID, key: env.RELAY_PAYLOAD_KEY } : undefined;
  return { current, previous: env.RELAY_PAYLOAD_PREVIOUS_KEYS };
}

/** Which CM360 credentials the environment provides, if any; partial OAuth settings are an error. */
export function cm360Credentials(env: Env): Cm360Credentials | undefined {
  if (env.CM360_SERVICE_ACCOUNT_KEY_FILE || env.CM360_SERVICE_ACCOUNT_KEY_JSON) {
    return {
      type: 'service-account',
      keyFile: env.CM360_SERVICE_ACCOUNT_KEY_FILE,
      keyJson: env.CM360_SERVICE_ACCOUNT_KEY_JSON,
    };
  }
  const oauth = [env.CM360_OAUTH_CLIENT_ID, env.CM360_OAUTH_CLIENT_SECRET, env.CM360_OAUTH_REFRESH_TOKEN];
  if (oauth.some(Boolean)) {
    const [clientId, clientSecret, refreshToken] = oauth;
    if (!clientId || !clientSecret || !refreshToken) {
      throw new ConfigError(
        'CM360 OAuth needs all of CM360_OAUTH_CLIENT_ID, CM360_OAUTH_CLIENT_SECRET and CM360_OAUTH_REFRESH_TOKEN',
      );
    }
    return { type: 'oauth-refresh-token', clientId, clientSecret, refreshToken };
  }
  if (env.CM360_ACCESS_TOKEN) return { type: 'access-token', accessToken: env.CM360_ACCESS_TOKEN };
  return undefined;
}

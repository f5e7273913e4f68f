// Whole-request failures of the CM360 API, classified once here so callers (the batcher, the
// activities) branch on `kind`/`retryable` and never on raw statuses or Google's reason strings.
import { z } from 'zod';

export type Cm360ErrorKind = 'quota-rate' | 'quota-daily' | 'server' | 'auth' | 'bad-request' | 'network';

export interface Cm360HttpErrorInit {
  /** HTTP status; 0 when no HTTP response was received (network, timeout, token fetch). */
  status: number;
  reason?: string;
  kind: Cm360ErrorKind;
  retryable: boolean;
  message: string;
}

export class Cm360HttpError extends Error {
  override readonly name = 'Cm360HttpError';
  readonly status: number;
  readonly reason?: string;
  readonly kind: Cm360ErrorKind;
  readonly retryable: boolean;

  constructor(init: Cm360HttpErrorInit) {
    super(init.message);
    this.status = init.status;
    this.reason = init.reason;
    this.kind = init.kind;
    this.retryable = init.retryable;
  }
}

// Rate-style reasons: Google's legacy `errors[].reason` values plus the ErrorInfo reason newer
// front ends put in `details`. Both mean "slow down", not "stop for the day".
const RATE_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'quotaExceeded', 'RATE_LIMIT_EXCEEDED']);
const DAILY_REASON = 'dailyLimitExceeded';

export function classifyCm360Status(
  status: number,
  reasons: readonly string[],
): { kind: Cm360ErrorKind; retryable: boolean } {
  // Checked before the 429 rule: a daily limit must park the work whatever status carries it.
  if ((status === 403 || status === 429) && reasons.includes(DAILY_REASON)) {
    return { kind: 'quota-daily', retryable: true };
  }
  if (status === 429) return { kind: 'quota-rate', retryable: true };
  if (status === 403 && reasons.some((r) => RATE_REASONS.has(r))) return { kind: 'quota-rate', retryable: true };
  if (status >= 500) return { kind: 'server', retryable: true };
  // 408 is the server giving up on a slow request: a transport problem, not a bad request.
  if (status === 408) return { kind: 'network', retryable: true };
  if (status === 401 || status === 403) return { kind: 'auth', retryable: false };
  if (status >= 400) return { kind: 'bad-request', retryable: false };
  return { kind: 'server', retryable: true };
}

const googleErrorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    errors: z
      .array(z.object({ domain: z.string().optional(), reason: z.string().optional(), message: z.string().optional() }))
      .optional(),
    details: z.array(z.object({ '@type': z.string().optional(), reason: z.string().optional() })).optional(),
  }),
});

const MAX_MESSAGE_CHARS = 300;

/**
 * Google's messages sometimes quote parts of the request; errors end up in Temporal histories and
 * logs, so anything that looks like a credential or a hashed identifier is blanked and the text is cut.
 */
export function redactCm360Message(message: string): string {
  const redacted = message
    .replace(/Bearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/ya29\.[\w.-]+/g, '[redacted-token]')
    .replace(/\b[0-9a-fA-F]{64}\b/g, '[redacted-hash]');
  return redacted.length > MAX_MESSAGE_CHARS ? `${redacted.slice(0, MAX_MESSAGE_CHARS)}…` : redacted;
}

/** Builds the error for a non-2xx response from its raw body (Google's error JSON, or anything else). */
export function cm360ErrorFromResponse(status: number, bodyText: string): Cm360HttpError {
  let reasons: string[] = [];
  let googleMessage: string | undefined;
  try {
    const parsed = googleErrorSchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) {
      const e = parsed.data.error;
      googleMessage = e.message;
      reasons = [
        ...(e.errors ?? []).map((x) => x.reason),
        ...(e.details ?? []).filter((d) => d['@type']?.endsWith('google.rpc.ErrorInfo')).map((d) => d.reason),
      ].filter((r): r is string => typeof r === 'string' && r.length > 0);
    }
  } catch {
    // Not JSON (an HTML page from a proxy, say): the status alone decides.
  }
  const { kind, retryable } = classifyCm360Status(status, reasons);
  const reason =
    reasons.find((r) => r === DAILY_REASON) ?? reasons.find((r) => RATE_REASONS.has(r)) ?? reasons[0] ?? undefined;
  return new Cm360HttpError({
    status,
    reason,
    kind,
    retryable,
    message: googleMessage ? redactCm360Message(googleMessage) : `HTTP ${status}`,
  });
}

/** A fetch that never produced a response. The underlying error is summarised, not attached as `cause`. */
export function cm360NetworkError(err: unknown, timeoutMs: number): Cm360HttpError {
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new Cm360HttpError({
      status: 0,
      reason: 'timeout',
      kind: 'network',
      retryable: true,
      message: `request timed out after ${timeoutMs} ms`,
    });
  }
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const base = err instanceof Error ? err.message : String(err);
  return new Cm360HttpError({
    status: 0,
    reason: code,
    kind: 'network',
    retryable: true,
    message: redactCm360Message(`network error: ${base}${code ? ` (${code})` : ''}`),
  });
}

/** A 2xx response we cannot attribute to rows; retrying is safe because batchupdate overwrites. */
export function cm360MalformedResponse(status: number, detail: string): Cm360HttpError {
  return new Cm360HttpError({
    status,
    reason: 'malformedResponse',
    kind: 'server',
    retryable: true,
    message: redactCm360Message(`malformed batchupdate response: ${detail}`),
  });
}

// Socket-level codes only: ENOENT for a missing key file is a configuration problem, not a blip.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ENETUNREACH',
]);

/**
 * A failure to obtain an access token. The token endpoint's error object carries the refresh token
 * or signed assertion in its request config, so only its message and status survive.
 */
export function cm360TokenError(err: unknown): Cm360HttpError {
  const e = err as { message?: unknown; status?: unknown; response?: { status?: unknown }; code?: unknown };
  const status =
    typeof e?.response?.status === 'number' ? e.response.status : typeof e?.status === 'number' ? e.status : 0;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const transient = status >= 500 || status === 429 || (status === 0 && code !== undefined && NETWORK_CODES.has(code));
  const message = typeof e?.message === 'string' ? e.message : 'unknown error';
  return new Cm360HttpError({
    status,
    reason: transient ? 'tokenEndpointUnavailable' : 'tokenRefreshFailed',
    kind: transient ? 'network' : 'auth',
    retryable: transient,
    message: redactCm360Message(`could not obtain an access token: ${message}`),
  });
}

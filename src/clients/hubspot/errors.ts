// Failures of HubSpot CRM calls, classified once here so the activities branch on `kind`/`retryable`
// and never on raw statuses, SDK exception classes or HubSpot's message strings.
//
// The SDK throws one ApiException class per generated API module, so `instanceof` cannot be used: an
// exception is recognised by its shape (`code`, `body`, `headers`). Its body is HubSpot's error JSON as sent
// (14.0.1 finds no model named `Error` and keeps the raw object); the 429 policy is still also recovered
// from the message and headers, in case a later SDK starts mapping bodies onto a model without `policyName`.

export type HubSpotErrorKind = 'rate-limit' | 'transient' | 'auth' | 'not-found' | 'invalid';

/** HubSpot's rate-limit policies (the `policyName` of a 429). */
export type HubSpotRateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

export interface HubSpotErrorInit {
  /** HTTP status; 0 when no usable HTTP response was received. */
  status: number;
  kind: HubSpotErrorKind;
  retryable: boolean;
  /** Which call failed, e.g. `getContact`. */
  operation: string;
  /** HubSpot's `category`, e.g. `OBJECT_NOT_FOUND`, `INVALID_AUTHENTICATION`. */
  category?: string;
  policy?: HubSpotRateLimitPolicy;
  /** How long to wait before trying again, when the failure says so. */
  retryAfterMs?: number;
  /** HubSpot's id for the failed request, for their support. */
  correlationId?: string;
}

/**
 * A non-2xx answer to a raw request (the SDK's generic apiRequest, for endpoints it has no method for), shaped
 * like the SDK's exceptions so hubSpotErrorFrom and waitAfter429 read it.
 */
export class HubSpotHttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: unknown,
    readonly headers: Record<string, string>,
  ) {
    // No body text in the message: HubSpot's messages can quote values.
    super(`HTTP ${code}`);
  }
}

export class HubSpotError extends Error {
  override readonly name = 'HubSpotError';
  readonly status: number;
  readonly kind: HubSpotErrorKind;
  readonly retryable: boolean;
  readonly operation: string;
  readonly category?: string;
  readonly policy?: HubSpotRateLimitPolicy;
  readonly retryAfterMs?: number;
  readonly correlationId?: string;

  constructor(init: HubSpotErrorInit) {
    // Built from classified fields only: HubSpot's own messages can quote property values from the request.
    const what = [
      init.status > 0 ? `HTTP ${init.status}` : 'no response',
      init.kind,
      init.policy ?? init.category,
      init.correlationId ? `correlationId ${init.correlationId}` : undefined,
    ].filter((s): s is string => typeof s === 'string' && s.length > 0);
    super(`HubSpot ${init.operation} failed: ${what.join(', ')}`);
    this.status = init.status;
    this.kind = init.kind;
    this.retryable = init.retryable;
    this.operation = init.operation;
    this.category = init.category;
    this.policy = init.policy;
    this.retryAfterMs = init.retryAfterMs;
    this.correlationId = init.correlationId;
  }
}

/** The daily limit resets at midnight in the account's time zone, which the relay does not know. */
export const HUBSPOT_DAILY_LIMIT_RETRY_MS = 60 * 60_000;
const RETRY_AFTER_MS: Record<HubSpotRateLimitPolicy, number> = {
  TEN_SECONDLY_ROLLING: 10_000,
  SECONDLY: 1_000,
  DAILY: HUBSPOT_DAILY_LIMIT_RETRY_MS,
};

export function classifyHubSpotStatus(
  status: number,
  policy?: HubSpotRateLimitPolicy,
): { kind: HubSpotErrorKind; retryable: boolean; retryAfterMs?: number } {
  if (status === 429) return { kind: 'rate-limit', retryable: true, retryAfterMs: policy && RETRY_AFTER_MS[policy] };
  if (status >= 500 || status === 0 || status === 408) return { kind: 'transient', retryable: true };
  // Retrying cannot fix a token or a missing scope; the activity still retries slowly so an operator can.
  if (status === 401 || status === 403) return { kind: 'auth', retryable: false };
  if (status === 404) return { kind: 'not-found', retryable: false };
  if (status >= 400) return { kind: 'invalid', retryable: false };
  return { kind: 'transient', retryable: true };
}

interface SdkApiException {
  code: number;
  body?: unknown;
  headers?: unknown;
}

function isSdkApiException(err: unknown): err is SdkApiException {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'number' &&
    'body' in err &&
    'headers' in err
  );
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function header(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? text(value[0]) : text(value);
  }
  return undefined;
}

/** The 429's policy: `policyName` when the body kept it, else HubSpot's fixed messages, else the headers. */
export function rateLimitPolicyOf(body: unknown, headers: unknown): HubSpotRateLimitPolicy | undefined {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const policyName = text(b.policyName);
  if (policyName === 'TEN_SECONDLY_ROLLING' || policyName === 'SECONDLY' || policyName === 'DAILY') return policyName;
  // Only matched against, never copied: "You have reached your daily limit." / "... ten_secondly_rolling limit."
  const message = text(b.message) ?? '';
  if (/\bdaily\b/i.test(message)) return 'DAILY';
  if (/ten[_ ]?secondly|10[_ -]?second/i.test(message)) return 'TEN_SECONDLY_ROLLING';
  if (/\bsecondly\b/i.test(message)) return 'SECONDLY';
  if (header(headers, 'x-hubspot-ratelimit-daily-remaining') === '0') return 'DAILY';
  if (header(headers, 'x-hubspot-ratelimit-remaining') === '0') return 'TEN_SECONDLY_ROLLING';
  return undefined;
}

/** Any rejection of an SDK call, as a HubSpotError. The original is not attached: it carries headers and body. */
export function hubSpotErrorFrom(err: unknown, operation: string): HubSpotError {
  if (err instanceof HubSpotError) return err;
  if (isSdkApiException(err)) {
    const body = typeof err.body === 'object' && err.body !== null ? (err.body as Record<string, unknown>) : {};
    const policy = err.code === 429 ? rateLimitPolicyOf(body, err.headers) : undefined;
    const { kind, retryable, retryAfterMs } = classifyHubSpotStatus(err.code, policy);
    return new HubSpotError({
      status: err.code,
      kind,
      retryable,
      operation,
      category: text(body.category),
      policy,
      retryAfterMs,
      correlationId: text(body.correlationId),
    });
  }
  // The SDK's own argument check (a missing id): the same call can never succeed.
  if (err instanceof Error && err.name === 'RequiredError') {
    return new HubSpotError({ status: 0, kind: 'invalid', retryable: false, operation, category: 'RequiredError' });
  }
  // A fetch that failed (refused, reset, DNS) or a response the SDK could not parse: nothing says the
  // request was wrong, so it is worth another try.
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return new HubSpotError({
    status: 0,
    kind: 'transient',
    retryable: true,
    operation,
    category: text(cause?.code) ?? (err instanceof Error ? err.name : undefined),
  });
}

// Whole-request failures of the Google Ads API, classified once here so the batcher and the
// activities branch on `kind` and never on gRPC codes or Google's enum names. Deliberately free of
// google-ads-api imports: loading the library's generated protos takes seconds, and code that only
// needs to recognise these errors should not pay for that.
import type { GoogleAdsRowError } from '../../domain/google-ads/types';

export type GoogleAdsRequestErrorKind = 'quota' | 'transient' | 'auth' | 'invalid';

export interface GoogleAdsRequestErrorInit {
  kind: GoogleAdsRequestErrorKind;
  message: string;
  /**
   * The gRPC status, when the failure arrived as a bare status. google-ads-api throws a decoded
   * GoogleAdsFailure in place of the gRPC error whenever Google attached one, and drops the code.
   */
  grpcCode?: number;
  errors?: GoogleAdsRowError[];
  retryDelayMs?: number;
}

export class GoogleAdsRequestError extends Error {
  override readonly name = 'GoogleAdsRequestError';
  readonly kind: GoogleAdsRequestErrorKind;
  readonly grpcCode?: number;
  readonly errors: GoogleAdsRowError[];
  readonly retryDelayMs?: number;

  constructor(init: GoogleAdsRequestErrorInit) {
    super(init.message);
    this.kind = init.kind;
    this.grpcCode = init.grpcCode;
    this.errors = init.errors ?? [];
    this.retryDelayMs = init.retryDelayMs;
  }

  /** Whether sending the same request again can succeed without anyone changing anything. */
  get retryable(): boolean {
    return this.kind !== 'invalid';
  }
}

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), by number. */
export const GRPC_STATUS_NAMES: Readonly<Record<number, string>> = {
  0: 'OK',
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

// Google's guidance: UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE and ABORTED are worth a
// retry with backoff. CANCELLED and DATA_LOSS come from the transport rather than the request.
const TRANSIENT_CODES = new Set([1, 2, 4, 10, 13, 14, 15]);
const AUTH_CODES = new Set([7, 16]);
const RESOURCE_EXHAUSTED = 8;

/**
 * grpc-js reports a failing call-credentials plugin (the OAuth refresh) as UNKNOWN/INTERNAL with
 * this text. A refused refresh token is an auth problem; a token endpoint that cannot be reached is not.
 */
const PLUGIN_FAILURE = /Getting metadata from plugin failed/i;
const OAUTH_REFUSAL = /invalid_grant|invalid_client|unauthorized_client|unauthenticated|\b40[013]\b/i;

export function kindForGrpcStatus(code: number, details = ''): GoogleAdsRequestErrorKind {
  if (PLUGIN_FAILURE.test(details)) return OAUTH_REFUSAL.test(details) ? 'auth' : 'transient';
  if (code === RESOURCE_EXHAUSTED) return 'quota';
  if (AUTH_CODES.has(code)) return 'auth';
  if (TRANSIENT_CODES.has(code)) return 'transient';
  return 'invalid';
}

function kindForRowError(e: GoogleAdsRowError): GoogleAdsRequestErrorKind {
  switch (e.category) {
    case 'quota_error':
      return e.name === 'ACCESS_PROHIBITED' ? 'auth' : 'quota';
    case 'internal_error':
      return e.name === 'ERROR_CODE_NOT_PUBLISHED' ? 'invalid' : 'transient';
    // A wrong login-customer-id (header_error) is account configuration, fixed like credentials are.
    case 'authentication_error':
    case 'authorization_error':
    case 'header_error':
      return 'auth';
    default:
      return 'invalid';
  }
}

// Retryable causes win: a mixed failure is sent again, and a permanent cause then shows up alone.
const KIND_PRECEDENCE: readonly GoogleAdsRequestErrorKind[] = ['quota', 'transient', 'auth', 'invalid'];

export function kindForGoogleAdsErrors(errors: readonly GoogleAdsRowError[]): GoogleAdsRequestErrorKind {
  const kinds = new Set(errors.map(kindForRowError));
  return KIND_PRECEDENCE.find((k) => kinds.has(k)) ?? 'invalid';
}

const MAX_MESSAGE_CHARS = 500;

/**
 * Errors end up in Temporal histories and logs. Google's messages sometimes quote the request, and
 * auth failures can quote credentials, so the known secrets and anything shaped like a token, a
 * SHA-256 digest (hex or base64) or an E.164 phone number (a call conversion's caller id, which is
 * sent in plain text) is blanked before a message leaves the client.
 */
export function redactGoogleAdsMessage(message: string, secrets: readonly string[] = []): string {
  let out = message;
  for (const s of secrets) if (s.length >= 6) out = out.split(s).join('[redacted]');
  out = out
    .replace(/Bearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/ya29\.[\w.-]+/g, '[redacted-token]')
    .replace(/\b1\/\/[\w.-]+/g, '[redacted-token]')
    .replace(/\b[0-9a-fA-F]{64}\b/g, '[redacted-hash]')
    .replace(/[A-Za-z0-9+/]{43}=/g, '[redacted-hash]')
    // After the base64 digests, whose alphabet includes + and digits.
    .replace(/\+\d{7,15}/g, '[redacted-phone]');
  return out.length > MAX_MESSAGE_CHARS ? `${out.slice(0, MAX_MESSAGE_CHARS)}…` : out;
}

function describeErrors(errors: readonly GoogleAdsRowError[]): string {
  const shown = errors.slice(0, 3).map((e) => `${e.category}.${e.name}: ${e.message}`);
  return errors.length > 3 ? `${shown.join('; ')}; and ${errors.length - 3} more` : shown.join('; ');
}

/** A request Google answered with GoogleAdsErrors (already decoded and redacted). */
export function googleAdsRequestErrorFromErrors(errors: GoogleAdsRowError[], grpcCode?: number): GoogleAdsRequestError {
  const kind = kindForGoogleAdsErrors(errors);
  const delays = errors.flatMap((e) =>
    e.category === 'quota_error' && e.retryDelayMs !== undefined ? [e.retryDelayMs] : [],
  );
  return new GoogleAdsRequestError({
    kind,
    grpcCode,
    errors,
    retryDelayMs: delays.length > 0 ? Math.max(...delays) : undefined,
    message: errors.length > 0 ? describeErrors(errors) : 'the request failed without a Google Ads error',
  });
}

/** A bare gRPC status (no GoogleAdsFailure attached): connection trouble, deadlines, auth plugins. */
export function googleAdsRequestErrorFromStatus(
  code: number,
  details: string,
  secrets: readonly string[] = [],
): GoogleAdsRequestError {
  const name = GRPC_STATUS_NAMES[code] ?? 'UNKNOWN_STATUS';
  return new GoogleAdsRequestError({
    kind: kindForGrpcStatus(code, details),
    grpcCode: code,
    message: redactGoogleAdsMessage(`gRPC ${name} (${code}): ${details || 'no details'}`, secrets),
  });
}

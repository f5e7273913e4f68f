// What each CM360 outcome means for a conversion: the retry table of Flow D, in one place.
// Pure: imported by the activity (to raise failures) and the workflow (to branch on their types).
import type { Cm360RowResult } from './types';

/** ApplicationFailure types raised by the CM360 activity and workflow; searchable in the Web UI. */
export const Cm360Failure = {
  /** Row error INVALID_ARGUMENT: the request is wrong; never retried. */
  InvalidArgument: 'Cm360InvalidArgument',
  /** Row error PERMISSION_DENIED (e.g. enhanced-conversion terms not accepted); never retried. */
  PermissionDenied: 'Cm360PermissionDenied',
  /** A row error code the API does not document; not retried. */
  UnknownRowError: 'Cm360UnknownRowError',
  /** Row error INTERNAL: retried with backoff. */
  Internal: 'Cm360Internal',
  /** HTTP 5xx, timeouts, network: retried with backoff. */
  ServerError: 'Cm360ServerError',
  /** HTTP 403 rate limit: retried with backoff. */
  RateLimited: 'Cm360RateLimited',
  /** HTTP 403 daily limit: parked and retried later. */
  DailyQuotaExceeded: 'Cm360DailyQuotaExceeded',
  /** HTTP 401/403 credentials: retried slowly so an operator can fix them before the deadline. */
  AuthError: 'Cm360AuthError',
  /** HTTP 400 for the whole request: never retried. */
  BadRequest: 'Cm360BadRequest',
  /** NOT_FOUND persisted for the whole NOT_FOUND window. */
  NotFoundWindowExpired: 'Cm360NotFoundWindowExpired',
  /** The 24-hour enhancement deadline (less the safety margin) passed before success. */
  DeadlineExceeded: 'Cm360DeadlineExceeded',
} as const;
export type Cm360FailureType = (typeof Cm360Failure)[keyof typeof Cm360Failure];

/** Failure types that must never be retried. */
export const CM360_NON_RETRYABLE: readonly Cm360FailureType[] = [
  Cm360Failure.InvalidArgument,
  Cm360Failure.PermissionDenied,
  Cm360Failure.UnknownRowError,
  Cm360Failure.BadRequest,
];

export type Cm360RowDecision =
  | { action: 'enhanced' }
  | { action: 'not-found'; message: string }
  | { action: 'retry'; failure: Cm360FailureType; message: string }
  | { action: 'fail'; failure: Cm360FailureType; message: string };

/**
 * Decides from one row's ConversionStatus. A row can carry several errors; the most final one wins,
 * so a row that is both NOT_FOUND and INVALID_ARGUMENT is not retried.
 */
export function decideCm360Row(row: Cm360RowResult): Cm360RowDecision {
  if (row.ok) return { action: 'enhanced' };
  const message = row.errors.map((e) => `${e.code}: ${e.message}`).join('; ') || 'row failed without an error';
  const codes = new Set(row.errors.map((e) => e.code));
  if (codes.has('INVALID_ARGUMENT')) return { action: 'fail', failure: Cm360Failure.InvalidArgument, message };
  if (codes.has('PERMISSION_DENIED')) return { action: 'fail', failure: Cm360Failure.PermissionDenied, message };
  const unknown = [...codes].filter((c) => c !== 'NOT_FOUND' && c !== 'INTERNAL');
  if (unknown.length > 0 || codes.size === 0) {
    return { action: 'fail', failure: Cm360Failure.UnknownRowError, message };
  }
  if (codes.has('INTERNAL')) return { action: 'retry', failure: Cm360Failure.Internal, message };
  return { action: 'not-found', message };
}

/** The named durations of Flow D. */
export interface Cm360Timing {
  /** Wait after capture before the first batchupdate (indexing takes up to 90 minutes). */
  enhanceDelayMs: number;
  /** How long NOT_FOUND is retried, counted from the first attempt. */
  notFoundWindowMs: number;
  /** Conversions must be enhanced within this long of capture. */
  deadlineMs: number;
  /** Stop this much before the deadline, against clock differences. */
  safetyMarginMs: number;
}

export const DEFAULT_CM360_TIMING: Cm360Timing = {
  enhanceDelayMs: 90 * 60_000,
  notFoundWindowMs: 6 * 3_600_000,
  deadlineMs: 24 * 3_600_000,
  safetyMarginMs: 10 * 60_000,
};

/** Backoff between NOT_FOUND retries: 5, 10, 20, 40, then every 60 minutes. */
export const NOT_FOUND_BACKOFF = { initialMs: 5 * 60_000, factor: 2, maxMs: 60 * 60_000 };

export interface Cm360Schedule {
  captureMs: number;
  enhanceAtMs: number;
  deadlineMs: number;
}

/** Capture time comes from the conversion's own timestampMicros: the tag's clock, not ours. */
export function cm360Schedule(timestampMicros: string, timing: Cm360Timing): Cm360Schedule {
  const captureMs = Number(BigInt(timestampMicros) / 1000n);
  return {
    captureMs,
    enhanceAtMs: captureMs + timing.enhanceDelayMs,
    deadlineMs: captureMs + timing.deadlineMs - timing.safetyMarginMs,
  };
}

// What the relay does with one Google Ads row error. Pure data plus one lookup, so workflows can
// import it: the decision is replayed from history, never re-derived from a changed client.
import type { GoogleAdsRowError } from './types';

export type GoogleAdsErrorAction =
  | { action: 'retry-later'; delayMs: number }
  | { action: 'already-done' }
  | { action: 'permanent' }
  | { action: 'transient' };

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Google's own wording for TOO_RECENT_EVENT, TOO_RECENT_CALL and TOO_RECENT_CONVERSION_ACTION: "retry after 6 hours". */
export const GOOGLE_ADS_TOO_RECENT_DELAY_MS = 6 * HOUR_MS;
/**
 * TOO_RECENT_CONVERSION on an adjustment. The enum text still asks for a 24-hour-old conversion, but
 * Google dropped that wait on 2024-09-09 and enhancements must arrive within 24 hours of the
 * conversion anyway, so waiting 24 h would always be too late. An hour lets a conversion that is
 * still being processed catch up several times inside the enhancement window.
 */
export const GOOGLE_ADS_TOO_RECENT_CONVERSION_DELAY_MS = HOUR_MS;
/**
 * RESOURCE_EXHAUSTED without a retry_delay: usually the daily operations quota of the developer
 * token, which no short backoff fixes; a quarter of an hour probes it a few times an hour at the
 * cost of one failing request each.
 */
export const GOOGLE_ADS_QUOTA_DEFAULT_DELAY_MS = 15 * MINUTE_MS;
/** RESOURCE_TEMPORARILY_EXHAUSTED without a retry_delay: a short-term rate limit, gone within a minute. */
export const GOOGLE_ADS_TEMPORARY_QUOTA_DEFAULT_DELAY_MS = MINUTE_MS;

type Entry =
  | { action: 'retry-later'; delayMs: number; honoursRetryDelay?: boolean }
  | { action: 'already-done' }
  | { action: 'transient' };

const tooRecent: Entry = { action: 'retry-later', delayMs: GOOGLE_ADS_TOO_RECENT_DELAY_MS };
const alreadyDone: Entry = { action: 'already-done' };
const transient: Entry = { action: 'transient' };

/**
 * Every error the relay does not treat as permanent, by error_code category and enum name. Anything
 * missing here (including codes Google adds later) is permanent: a wrong guess there costs one
 * conversion, a wrong guess the other way retries a hopeless row until its deadline.
 */
export const GOOGLE_ADS_ERROR_TABLE: Readonly<Record<string, Readonly<Record<string, Entry>>>> = {
  conversion_upload_error: {
    TOO_RECENT_EVENT: tooRecent,
    TOO_RECENT_CONVERSION_ACTION: tooRecent,
    TOO_RECENT_CALL: tooRecent,
    // The same order id (or click and time) was already imported: Google kept the first upload.
    ORDER_ID_ALREADY_IN_USE: alreadyDone,
    CLICK_CONVERSION_ALREADY_EXISTS: alreadyDone,
    CALL_CONVERSION_ALREADY_EXISTS: alreadyDone,
    // v25 reports a call conversion sent twice in one request this way and records it once. The
    // other call codes (EXPIRED_CALL, CALL_NOT_FOUND, CONVERSION_PRECEDES_CALL,
    // UNPARSEABLE_CALLERS_PHONE_NUMBER, INVALID_CUSTOMER_FOR_CALL,
    // CONVERSION_TRACKING_NOT_ENABLED_AT_CALL_TIME) stay permanent: resending the row changes nothing.
    DUPLICATE_CALL_CONVERSION_IN_REQUEST: alreadyDone,
    // A click conversion twice in one request: Google processes none of the copies ("were not processed"), so
    // it is no failure of the row and no proof of an upload. The batcher sends an order once per request, so
    // the retry goes out alone and is then uploaded or ORDER_ID_ALREADY_IN_USE.
    DUPLICATE_ORDER_ID: transient,
    DUPLICATE_CLICK_CONVERSION_IN_REQUEST: transient,
  },
  conversion_adjustment_upload_error: {
    TOO_RECENT_CONVERSION_ACTION: tooRecent,
    TOO_RECENT_CONVERSION: { action: 'retry-later', delayMs: GOOGLE_ADS_TOO_RECENT_CONVERSION_DELAY_MS },
    CONVERSION_ALREADY_ENHANCED: alreadyDone,
    RESTATEMENT_ALREADY_EXISTS: alreadyDone,
    // As DUPLICATE_ORDER_ID: the request held the enhancement twice; sent alone it is enhanced or already so.
    DUPLICATE_ENHANCEMENT_IN_REQUEST: transient,
  },
  quota_error: {
    RESOURCE_EXHAUSTED: { action: 'retry-later', delayMs: GOOGLE_ADS_QUOTA_DEFAULT_DELAY_MS, honoursRetryDelay: true },
    RESOURCE_TEMPORARILY_EXHAUSTED: {
      action: 'retry-later',
      delayMs: GOOGLE_ADS_TEMPORARY_QUOTA_DEFAULT_DELAY_MS,
      honoursRetryDelay: true,
    },
  },
  internal_error: {
    INTERNAL_ERROR: transient,
    TRANSIENT_ERROR: transient,
    DEADLINE_EXCEEDED: transient,
  },
};

export function classifyGoogleAdsError(e: GoogleAdsRowError): GoogleAdsErrorAction {
  // Own keys only: a category or name such as `constructor` must not reach Object.prototype.
  const names = Object.hasOwn(GOOGLE_ADS_ERROR_TABLE, e.category) ? GOOGLE_ADS_ERROR_TABLE[e.category] : undefined;
  const entry = names && Object.hasOwn(names, e.name) ? names[e.name] : undefined;
  if (!entry) return { action: 'permanent' };
  if (entry.action !== 'retry-later') return { action: entry.action };
  const given = e.retryDelayMs;
  const useGiven = entry.honoursRetryDelay === true && given !== undefined && Number.isFinite(given) && given > 0;
  return { action: 'retry-later', delayMs: useGiven ? given : entry.delayMs };
}

// Google Ads activities: uploads through the shared per-account batchers. Transient and quota
// problems become retryable ApplicationFailures here (Temporal retries them); what the workflow must
// decide on (already done, retry in hours, permanent) comes back as a row outcome.
import { ApplicationFailure } from '@temporalio/common';
import { GoogleAdsRequestError } from '../clients/google-ads/errors';
import type { OutageCircuits } from '../clients/shared/circuit';
import type { RowSubmitOptions } from '../clients/shared/row-batcher';
import { awaitBatched } from './batched';
import { throughCircuit } from './outage';
import { classifyGoogleAdsError } from '../domain/google-ads/classify';
import { GOOGLE_ADS_NON_RETRYABLE, GoogleAdsFailure } from '../domain/google-ads/failures';
import type {
  ClickConversionRow,
  EnhancementAdjustmentRow,
  GoogleAdsRowError,
  GoogleAdsRowResult,
} from '../domain/google-ads/types';

export { GOOGLE_ADS_NON_RETRYABLE, GoogleAdsFailure };
const AUTH_RETRY_DELAY_MS = 15 * 60_000;

export type UploadOutcome =
  | { outcome: 'UPLOADED' }
  /** A dry run (GOOGLE_ADS_VALIDATE_ONLY): Google accepted the row and stored nothing. */
  | { outcome: 'VALIDATED' }
  | { outcome: 'ALREADY_DONE'; code: string }
  | { outcome: 'RETRY_LATER'; code: string; delayMs: number }
  | { outcome: 'PERMANENT'; code: string; message: string };

export interface GoogleAdsUploaders {
  uploadClick(row: ClickConversionRow, options?: RowSubmitOptions): Promise<GoogleAdsRowResult>;
  uploadEnhancement(row: EnhancementAdjustmentRow, options?: RowSubmitOptions): Promise<GoogleAdsRowResult>;
}

const codeOf = (e: GoogleAdsRowError) => `${e.category}.${e.name}`;

/** Reads one row: the most final error decides (permanent, then retry-later, then already-done). */
export function rowOutcome(result: GoogleAdsRowResult): UploadOutcome {
  if (result.ok) return { outcome: result.validateOnly ? 'VALIDATED' : 'UPLOADED' };
  const decided = result.errors.map((e) => ({ e, d: classifyGoogleAdsError(e) }));
  const permanent = decided.find((x) => x.d.action === 'permanent');
  if (permanent || decided.length === 0) {
    const e = permanent?.e;
    return {
      outcome: 'PERMANENT',
      code: e ? codeOf(e) : 'unknown',
      message: e?.message ?? 'the row failed without an error',
    };
  }
  const transient = decided.find((x) => x.d.action === 'transient');
  if (transient)
    throw ApplicationFailure.retryable(`${codeOf(transient.e)}: ${transient.e.message}`, GoogleAdsFailure.Transient);
  const later = decided.find((x) => x.d.action === 'retry-later');
  if (later && later.d.action === 'retry-later') {
    return { outcome: 'RETRY_LATER', code: codeOf(later.e), delayMs: later.d.delayMs };
  }
  return { outcome: 'ALREADY_DONE', code: codeOf(decided[0]!.e) };
}

export function requestErrorToFailure(err: GoogleAdsRequestError): ApplicationFailure {
  const message = `Google Ads request failed (${err.kind}): ${err.message}`;
  switch (err.kind) {
    case 'quota':
      return ApplicationFailure.create({
        type: GoogleAdsFailure.Quota,
        message,
        nextRetryDelay: err.retryDelayMs,
      });
    case 'transient':
      return ApplicationFailure.create({ type: GoogleAdsFailure.Transient, message });
    case 'auth':
      return ApplicationFailure.create({ type: GoogleAdsFailure.Auth, message, nextRetryDelay: AUTH_RETRY_DELAY_MS });
    case 'invalid':
      return ApplicationFailure.create({ type: GoogleAdsFailure.InvalidRequest, message, nonRetryable: true });
  }
}

/** The circuit's key of a Google Ads account: clicks, enhancements and calls of one account share it. */
export const googleAdsCircuitKey = (customerId: string) => `google-ads:${customerId}`;

/** A request refused for its credentials is an outage of the account (see throughCircuit). */
export function googleAdsOutageOf(err: unknown): { type: string; message: string } | undefined {
  return err instanceof GoogleAdsRequestError && err.kind === 'auth'
    ? { type: GoogleAdsFailure.Auth, message: requestErrorToFailure(err).message }
    : undefined;
}

async function upload<T extends { customerId: string }>(
  send: (row: T, options: RowSubmitOptions) => Promise<GoogleAdsRowResult>,
  row: T,
  heartbeatIntervalMs: number | undefined,
  circuits: OutageCircuits | undefined,
): Promise<UploadOutcome> {
  let result: GoogleAdsRowResult;
  try {
    // One account, one circuit: a credentials failure parks every conversion of the account together.
    result = await throughCircuit(
      circuits,
      googleAdsCircuitKey(row.customerId),
      () => awaitBatched((options) => send(row, options), heartbeatIntervalMs),
      googleAdsOutageOf,
    );
  } catch (err) {
    if (err instanceof GoogleAdsRequestError) throw requestErrorToFailure(err);
    throw err;
  }
  return rowOutcome(result);
}

export function createGoogleAdsActivities(deps: {
  uploaders: GoogleAdsUploaders;
  /** The process's outage circuits (src/activities/outage.ts); without them an auth failure is retried by Temporal. */
  circuits?: OutageCircuits;
  /** How often an upload waiting on its batcher heartbeats; default BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS. */
  heartbeatIntervalMs?: number;
}) {
  return {
    /** ConversionUploadService.UploadClickConversions for one lifecycle conversion. */
    uploadClickConversion(row: ClickConversionRow): Promise<UploadOutcome> {
      return upload((r, o) => deps.uploaders.uploadClick(r, o), row, deps.heartbeatIntervalMs, deps.circuits);
    },
    /** ConversionAdjustmentUploadService.UploadConversionAdjustments (ENHANCEMENT) for one form submission. */
    uploadEnhancement(row: EnhancementAdjustmentRow): Promise<UploadOutcome> {
      return upload((r, o) => deps.uploaders.uploadEnhancement(r, o), row, deps.heartbeatIntervalMs, deps.circuits);
    },
  };
}

export type GoogleAdsActivities = ReturnType<typeof createGoogleAdsActivities>;

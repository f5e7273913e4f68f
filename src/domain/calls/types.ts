// Flow C (call conversions → Google Ads): the shapes rows, outcomes and imports take between the api, the
// activities and the workflows. Pure data, safe to import from workflow code. Rows carry the caller's number in
// plain E.164 (Google needs it so): they travel only inside encrypted payloads, never in ids, attributes or logs.
import type { CallColumn } from './csv';

/** One call, validated and normalized, as it will be sent (its conversion action still named). */
export interface CallImportRow {
  /** Line in the file (1-based), position in the api's list, or the HubSpot call's position in the pull. */
  row: number;
  /** E.164, e.g. +12125550142. */
  callerId: string;
  /** `yyyy-mm-dd HH:mm:ss+HH:mm`. */
  callStartDateTime: string;
  conversionName: string;
  /** `yyyy-mm-dd HH:mm:ss+HH:mm`, after the call start. */
  conversionDateTime: string;
  conversionValue?: number;
  currencyCode: string;
  /** The call's id in HubSpot, for rows of the regular pull. */
  hubspotCallId?: string;
}

export interface RowProblem {
  column: CallColumn;
  reason: string;
}

/** A row refused before upload; its fields as written (each cut to 200 characters) so the report can give it back. */
export interface InvalidCallRow {
  row: number;
  fields: Record<CallColumn, string>;
  problems: RowProblem[];
  hubspotCallId?: string;
}

export interface CallImportCounts {
  rows: number;
  uploaded: number;
  /** Accepted by a dry run (GOOGLE_ADS_VALIDATE_ONLY): nothing stored. */
  validated: number;
  alreadyRecorded: number;
  /** Refused by Google, with the row's code. */
  rejected: number;
  /** Refused by the relay before upload. */
  invalid: number;
  /** Waiting for a retry (TOO_RECENT_CALL and the like). */
  pending: number;
}

export const emptyCallCounts = (rows = 0): CallImportCounts => ({
  rows,
  uploaded: 0,
  validated: 0,
  alreadyRecorded: 0,
  rejected: 0,
  invalid: 0,
  pending: 0,
});

export function addCallCounts(a: CallImportCounts, b: CallImportCounts): CallImportCounts {
  return {
    rows: a.rows + b.rows,
    uploaded: a.uploaded + b.uploaded,
    validated: a.validated + b.validated,
    alreadyRecorded: a.alreadyRecorded + b.alreadyRecorded,
    rejected: a.rejected + b.rejected,
    invalid: a.invalid + b.invalid,
    pending: a.pending + b.pending,
  };
}

/**
 * A refused row as a part keeps it: its number and code, and its own reason only where it differs from the
 * code's (Google's message is the same for every row of a code). The fields stay in the part's input, where
 * the report reads them, so 2,000 refused rows stay a small payload.
 */
export interface RefusedRow {
  row: number;
  outcome: 'REJECTED' | 'INVALID';
  code: string;
  reason?: string;
}

/** A row the report gives back: the template's six fields, and why it did not go in. */
export interface FailedCallRow {
  row: number;
  outcome: 'REJECTED' | 'INVALID';
  fields: Record<CallColumn, string>;
  /** `conversion_upload_error.EXPIRED_CALL`, or the relay's own code (INVALID_ROW, UNKNOWN_CONVERSION_NAME). */
  code: string;
  reason: string;
  hubspotCallId?: string;
}

export type CallImportSource = 'file' | 'api' | 'hubspot';

export const CALL_IMPORT_FLOW = 'call-import';
export const CALL_IMPORT_PART_FLOW = 'call-import-part';
export const CALLS_HUBSPOT_PULL_FLOW = 'calls-hubspot-pull';

/** Rows per part (one UploadCallConversions request at most) and the part's payload budget (Temporal warns at 512 KiB). */
export const CALL_ROWS_PER_PART = 2000;
export const CALL_PART_MAX_BYTES = 448 * 1024;

/** Retry-later rows (TOO_RECENT_CALL, quota) are tried again for this long after the part's first upload. */
export const CALL_RETRY_WINDOW_MS = 3 * 24 * 3_600_000;
/** How long an import waits for parts the api has not started yet (a client that re-posts the file resends them). */
export const CALL_PARTS_ARRIVAL_TIMEOUT_MS = 24 * 3_600_000;

/** How far back the first pull reads when no earlier pull is on record (Google keeps call data 90 days). */
export const CALLS_FIRST_PULL_LOOKBACK_MS = 30 * 24 * 3_600_000;
/**
 * Each pull reads again this far before the last one's watermark: HubSpot's search index lags writes, so a
 * call can appear after a later one was read. The calls the last pull read in that stretch (id and
 * modification time, in its result) are skipped, so the overlap reads nothing twice.
 */
export const CALLS_PULL_OVERLAP_MS = 10 * 60_000;

export const CallImportFailure = {
  CompletedWithFailures: 'CallImportCompletedWithFailures',
  PartsMissing: 'CallImportPartsMissing',
  NotConfigured: 'CallsNotConfigured',
  UnknownConversionName: 'UNKNOWN_CONVERSION_NAME',
  InvalidRow: 'INVALID_ROW',
  /** A part that ended without reporting its end (terminated, reset): its rows not yet settled. */
  PartLost: 'PART_ENDED_WITHOUT_REPORT',
} as const;

/** Upload rounds one run of a part does before it continues as new (its history stays short). */
export const CALL_UPLOAD_ROUNDS_PER_RUN = 20;
/** Retries of rows whose request failed: 1 minute, doubling, at most an hour apart. */
export const CALL_REQUEST_RETRY_MIN_MS = 60_000;
export const CALL_REQUEST_RETRY_MAX_MS = 3_600_000;
/** How often an import checks on parts it has not heard from (a terminated part sends nothing). */
export const CALL_PART_CHECK_INTERVAL_MS = 3_600_000;
/** Longest reason kept per refused row. */
export const CALL_REASON_MAX_CHARS = 200;

/** Workflow ids: the import's comes from a keyed hash of its rows, so the same file posted twice imports once. */
export const callImportPartId = (importId: string, index: number) =>
  `${importId}-part-${String(index + 1).padStart(4, '0')}`;

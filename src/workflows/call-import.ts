// Flow C: one workflow per call-conversion import (a file, a JSON post or a HubSpot pull), and one part workflow
// per ≤ 2,000 rows. The rows travel in the parts' inputs (encrypted payloads, each well under 512 KiB), so the
// import's own history stays a few dozen events however large the file: it only collects each part's counts.
// A part resolves its conversion names, uploads its rows through the shared batcher, waits with a timer and
// retries the rows Google says are too recent, and keeps every refused row with its reason for the report.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { CallActivities } from '../activities/calls';
import type { UploadOutcome } from '../activities/google-ads';
import { GoogleAdsFailure } from '../domain/google-ads/failures';
import { describeProblems, fieldsOf } from '../domain/calls/report';
import {
  addCallCounts,
  CALL_PARTS_ARRIVAL_TIMEOUT_MS,
  CALL_RETRY_WINDOW_MS,
  CallImportFailure,
  emptyCallCounts,
  type CallImportCounts,
  type CallImportRow,
  type CallImportSource,
  type FailedCallRow,
  type InvalidCallRow,
} from '../domain/calls/types';
import { activityFailureCause, trackProgress } from './progress';

export interface CallImportInput {
  importId: string;
  source: CallImportSource;
  customerId: string;
  /** Rows in the import, valid and invalid. */
  rows: number;
  parts: number;
  createdAt: string;
  /** The zone times without an offset were read in (IANA name or ±HH:MM): the failed-rows CSV names it. */
  timeZone: string;
  /** How long to wait for parts that have not reported yet (tests shorten it). */
  partsArrivalTimeoutMs?: number;
}

export type CallImportState = 'RECEIVING' | 'UPLOADING' | 'WAITING_TO_RETRY' | 'COMPLETED' | 'COMPLETED_WITH_FAILURES';

export interface PartProgress {
  index: number;
  workflowId: string;
  counts: CallImportCounts;
  done: boolean;
  nextAttemptAt?: string;
}

export interface CallImportStatus {
  state: CallImportState | 'FAILED';
  importId: string;
  source: CallImportSource;
  customerId: string;
  createdAt: string;
  timeZone: string;
  finishedAt?: string;
  counts: CallImportCounts;
  parts: { expected: number; reported: number; done: number; list: PartProgress[] };
  nextAttemptAt?: string;
  failure?: string;
  lastError?: string;
}

export interface CallImportResult {
  outcome: 'COMPLETED' | 'COMPLETED_WITH_FAILURES';
  importId: string;
  source: CallImportSource;
  customerId: string;
  createdAt: string;
  timeZone: string;
  finishedAt: string;
  counts: CallImportCounts;
  parts: PartProgress[];
}

export const callImportStatusQuery = defineQuery<CallImportStatus>('status');
export const callImportPartProgressSignal = defineSignal<[PartProgress]>('partProgress');

const fmt = (n: number) => n.toLocaleString('en-US');

/** "1,400 of 2,000 rows uploaded (…)": the current details and the CLI's progress line. */
export function countsLine(c: CallImportCounts): string {
  const done = c.uploaded + c.validated;
  const parts = [
    c.validated ? `${fmt(c.validated)} validated only (dry run)` : '',
    c.alreadyRecorded ? `${fmt(c.alreadyRecorded)} already recorded` : '',
    c.rejected ? `${fmt(c.rejected)} rejected by Google` : '',
    c.invalid ? `${fmt(c.invalid)} invalid` : '',
    c.pending ? `${fmt(c.pending)} pending` : '',
  ].filter(Boolean);
  return `${fmt(done)} of ${fmt(c.rows)} rows uploaded${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

export async function callImportWorkflow(input: CallImportInput): Promise<CallImportResult> {
  const parts = new Map<number, PartProgress>();
  const status: CallImportStatus = {
    state: 'RECEIVING',
    importId: input.importId,
    source: input.source,
    customerId: input.customerId,
    createdAt: input.createdAt,
    timeZone: input.timeZone,
    counts: { ...emptyCallCounts(input.rows), pending: input.rows },
    parts: { expected: input.parts, reported: 0, done: 0, list: [] },
  };
  const { report, settle } = trackProgress<CallImportState>(status, 'RECEIVING');
  let changed = false;
  const refresh = () => {
    const list = [...parts.values()].sort((a, b) => a.index - b.index);
    const counts = list.reduce((sum, p) => addCallCounts(sum, p.counts), emptyCallCounts());
    // Parts not heard from yet count as pending, so the total is the import's rows from the start.
    counts.pending += Math.max(0, input.rows - counts.rows);
    counts.rows = input.rows;
    status.counts = counts;
    status.parts = {
      expected: input.parts,
      reported: list.length,
      done: list.filter((p) => p.done).length,
      list,
    };
    const waits = list.flatMap((p) => (!p.done && p.nextAttemptAt ? [p.nextAttemptAt] : []));
    status.nextAttemptAt = waits.sort()[0];
  };
  setHandler(callImportStatusQuery, () => status);
  setHandler(callImportPartProgressSignal, (p) => {
    // A part reports its whole counts each time, so a repeated signal changes nothing.
    const known = parts.get(p.index);
    if (known?.done || p.index < 0 || p.index >= input.parts) return;
    parts.set(p.index, p);
    changed = true;
  });
  report('RECEIVING', `waiting for ${fmt(input.parts)} part(s) of ${fmt(input.rows)} rows`);

  const allReported = () => parts.size === input.parts;
  const allDone = () => allReported() && [...parts.values()].every((p) => p.done);
  const arrived = await condition(allReported, input.partsArrivalTimeoutMs ?? CALL_PARTS_ARRIVAL_TIMEOUT_MS);
  if (!arrived) {
    refresh();
    const missing = Array.from({ length: input.parts }, (_, i) => i).filter((i) => !parts.has(i));
    status.failure = CallImportFailure.PartsMissing;
    status.lastError = `parts ${missing.map((i) => i + 1).join(', ')} never arrived: post the same file again to resend them`;
    settle('FAILED', CallImportFailure.PartsMissing, status.lastError);
    throw ApplicationFailure.create({
      type: CallImportFailure.PartsMissing,
      message: status.lastError,
      nonRetryable: true,
    });
  }
  while (!allDone()) {
    refresh();
    report(
      status.nextAttemptAt && status.counts.pending > 0 ? 'WAITING_TO_RETRY' : 'UPLOADING',
      countsLine(status.counts),
    );
    changed = false;
    await condition(() => changed);
  }
  refresh();
  status.finishedAt = new Date().toISOString();
  status.nextAttemptAt = undefined;
  const failed = status.counts.rejected + status.counts.invalid > 0;
  const result: CallImportResult = {
    outcome: failed ? 'COMPLETED_WITH_FAILURES' : 'COMPLETED',
    importId: input.importId,
    source: input.source,
    customerId: input.customerId,
    createdAt: input.createdAt,
    timeZone: input.timeZone,
    finishedAt: status.finishedAt,
    counts: status.counts,
    parts: status.parts.list,
  };
  if (!failed) {
    settle('COMPLETED', 'OK', countsLine(status.counts));
    return result;
  }
  const reason = [status.counts.rejected ? 'REJECTED_ROWS' : '', status.counts.invalid ? 'INVALID_ROWS' : '']
    .filter(Boolean)
    .join(',');
  settle('COMPLETED_WITH_FAILURES', reason, countsLine(status.counts));
  // Refused rows must not look green: the import fails, carrying its counts (the report lists the rows).
  throw ApplicationFailure.create({
    type: CallImportFailure.CompletedWithFailures,
    message: `${reason}: ${countsLine(status.counts)}`,
    nonRetryable: true,
    details: [result],
  });
}

// ------------------------------------------------------------------------------------------------ parts

export interface CallImportPartInput {
  importId: string;
  index: number;
  customerId: string;
  loginCustomerId?: string;
  rows: CallImportRow[];
  invalid: InvalidCallRow[];
  retryWindowMs?: number;
}

export type CallImportPartState = 'RESOLVING_NAMES' | 'UPLOADING' | 'WAITING_TO_RETRY' | 'DONE';

export interface CallImportPartStatus {
  state: CallImportPartState | 'FAILED';
  importId: string;
  index: number;
  counts: CallImportCounts;
  /** Refused rows so far, with their reasons (the report reads them). */
  failed: FailedCallRow[];
  attempts: number;
  nextAttemptAt?: string;
  failure?: string;
  lastError?: string;
}

export interface CallImportPartResult {
  index: number;
  counts: CallImportCounts;
  failed: FailedCallRow[];
}

export const callImportPartStatusQuery = defineQuery<CallImportPartStatus>('status');

const resolving = proxyActivities<CallActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '1d',
  retry: {
    initialInterval: '10s',
    backoffCoefficient: 2,
    maximumInterval: '15m',
    nonRetryableErrorTypes: [GoogleAdsFailure.InvalidRequest],
  },
});

const uploads = proxyActivities<CallActivities>({
  startToCloseTimeout: '10m',
  scheduleToCloseTimeout: '1d',
  retry: {
    initialInterval: '10s',
    backoffCoefficient: 2,
    maximumInterval: '15m',
    nonRetryableErrorTypes: [GoogleAdsFailure.InvalidRequest],
  },
});

export async function callImportPartWorkflow(input: CallImportPartInput): Promise<CallImportPartResult> {
  const failed: FailedCallRow[] = input.invalid.map((r) => ({
    row: r.row,
    outcome: 'INVALID',
    fields: r.fields,
    code: CallImportFailure.InvalidRow,
    reason: describeProblems(r),
    ...(r.hubspotCallId ? { hubspotCallId: r.hubspotCallId } : {}),
  }));
  const counts: CallImportCounts = {
    ...emptyCallCounts(input.rows.length + input.invalid.length),
    invalid: input.invalid.length,
    pending: input.rows.length,
  };
  const status: CallImportPartStatus = {
    state: 'RESOLVING_NAMES',
    importId: input.importId,
    index: input.index,
    counts,
    failed,
    attempts: 0,
  };
  setHandler(callImportPartStatusQuery, () => status);
  const { report, settle, fail } = trackProgress<CallImportPartState>(status, 'RESOLVING_NAMES');
  const parent = getExternalWorkflowHandle(input.importId);
  const tell = async (done: boolean) => {
    try {
      await parent.signal(callImportPartProgressSignal, {
        index: input.index,
        workflowId: workflowInfo().workflowId,
        counts: { ...counts },
        done,
        ...(status.nextAttemptAt ? { nextAttemptAt: status.nextAttemptAt } : {}),
      });
    } catch {
      // The import was terminated or is gone: this part's own history and result still tell its outcome.
    }
  };
  const refuse = (row: CallImportRow, outcome: FailedCallRow['outcome'], code: string, reason: string) => {
    counts.pending -= 1;
    if (outcome === 'INVALID') counts.invalid += 1;
    else counts.rejected += 1;
    failed.push({
      row: row.row,
      outcome,
      fields: fieldsOf(row),
      code,
      reason,
      ...(row.hubspotCallId ? { hubspotCallId: row.hubspotCallId } : {}),
    });
  };
  /** An activity that gave up ends the part with its type; the rows not sent are reported as pending no more. */
  const gaveUp = async (err: unknown): Promise<never> => {
    const cause = activityFailureCause(err);
    const type = cause?.type ?? (err instanceof ActivityFailure ? `${err.activityType}Failed` : undefined);
    if (!type) throw err;
    await tell(true);
    return fail(type, cause?.message ?? (err as Error).message);
  };

  await tell(false);
  let pending = input.rows;
  let actions: Record<string, string> = {};
  if (pending.length > 0) {
    const names = [...new Set(pending.map((r) => r.conversionName))].sort();
    const resolved = await resolving
      .resolveCallConversionActions({
        customerId: input.customerId,
        ...(input.loginCustomerId ? { loginCustomerId: input.loginCustomerId } : {}),
        names,
      })
      .catch(gaveUp);
    actions = Object.fromEntries(
      Object.entries(resolved).flatMap(([name, r]) => ('resourceName' in r ? [[name, r.resourceName]] : [])),
    );
    pending = pending.filter((row) => {
      const r = resolved[row.conversionName];
      if (r && 'resourceName' in r) return true;
      refuse(row, 'INVALID', CallImportFailure.UnknownConversionName, r?.problem ?? 'the conversion name is unknown');
      return false;
    });
  }

  const firstUploadAt = Date.now();
  const windowMs = input.retryWindowMs ?? CALL_RETRY_WINDOW_MS;
  while (pending.length > 0) {
    status.attempts += 1;
    report('UPLOADING', countsLine(counts));
    const outcomes: UploadOutcome[] = await uploads
      .uploadCallConversions({
        customerId: input.customerId,
        ...(input.loginCustomerId ? { loginCustomerId: input.loginCustomerId } : {}),
        actions,
        rows: pending,
      })
      .catch(gaveUp);
    const later: { row: CallImportRow; code: string; delayMs: number }[] = [];
    pending.forEach((row, i) => {
      const o = outcomes[i] ?? { outcome: 'PERMANENT', code: 'unknown', message: 'no outcome for the row' };
      switch (o.outcome) {
        case 'UPLOADED':
          counts.pending -= 1;
          counts.uploaded += 1;
          break;
        case 'VALIDATED':
          counts.pending -= 1;
          counts.validated += 1;
          break;
        case 'ALREADY_DONE':
          counts.pending -= 1;
          counts.alreadyRecorded += 1;
          break;
        case 'PERMANENT':
          refuse(row, 'REJECTED', o.code, o.message);
          break;
        case 'RETRY_LATER':
          later.push({ row, code: o.code, delayMs: o.delayMs });
          break;
      }
    });
    if (later.length === 0) break;
    const delayMs = Math.max(...later.map((l) => l.delayMs));
    if (Date.now() + delayMs > firstUploadAt + windowMs) {
      for (const l of later) {
        refuse(l.row, 'REJECTED', l.code, `still ${l.code} after retrying for ${Math.round(windowMs / 3_600_000)} h`);
      }
      break;
    }
    status.nextAttemptAt = new Date(Date.now() + delayMs).toISOString();
    report('WAITING_TO_RETRY', `${countsLine(counts)}; ${later.length} row(s) retry at ${status.nextAttemptAt}`);
    await tell(false);
    await sleep(delayMs);
    status.nextAttemptAt = undefined;
    pending = later.map((l) => l.row);
  }
  failed.sort((a, b) => a.row - b.row);
  settle('DONE', failed.length > 0 ? 'SOME_ROWS_FAILED' : 'OK', countsLine(counts));
  await tell(true);
  return { index: input.index, counts, failed };
}

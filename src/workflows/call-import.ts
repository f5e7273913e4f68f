// Flow C: one workflow per call-conversion import (a file, a JSON post or a HubSpot pull), and one part workflow
// per ≤ 2,000 rows. The rows travel in the parts' inputs (encrypted payloads, each under 512 KiB), so the
// import's own history only collects each part's counts: about six events a part (300 for 100,000 rows).
// A part resolves its conversion names, uploads its rows through the shared batcher, waits with a timer and
// retries the rows Google says are too recent, and keeps every refused row's number and reason for the report.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { CallActivities } from '../activities/calls';
import { BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS } from '../domain/activity-timing';
import { uploadTaskQueue } from '../domain/task-queues';
import type { UploadOutcome } from '../activities/google-ads';
import { describeProblems } from '../domain/calls/report';
import {
  addCallCounts,
  CALL_PART_CHECK_INTERVAL_MS,
  CALL_PARTS_ARRIVAL_TIMEOUT_MS,
  CALL_REASON_MAX_CHARS,
  CALL_REQUEST_RETRY_MAX_MS,
  CALL_REQUEST_RETRY_MIN_MS,
  CALL_RETRY_WINDOW_MS,
  CALL_UPLOAD_ROUNDS_PER_RUN,
  CALL_IMPORT_FLOW,
  CALL_IMPORT_PART_FLOW,
  callImportPartId,
  CallImportFailure,
  emptyCallCounts,
  type CallImportCounts,
  type CallImportRow,
  type CallImportSource,
  type InvalidCallRow,
  type RefusedRow,
} from '../domain/calls/types';
import { GoogleAdsFailure } from '../domain/google-ads/failures';
import type { WAITING_FOR_CREDENTIALS } from '../domain/outage';
import { activityFailureCause, outageOf, trackProgress } from './progress';
import { RelayAccount, RelayFlow, RelayStatus } from './search-attributes';

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
  /** The part ended without reporting its end; its unsettled rows count as rejected. */
  lost?: boolean;
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

const fmt = (n: number) => n.toLocaleString('en-US');

const SOURCE_TEXT: Record<CallImportSource, string> = { file: 'a file', api: 'the api', hubspot: 'HubSpot' };

/** How an import is started (by the api or by a pull): its id, input, search attributes and summary. */
export function callImportStart(input: CallImportInput) {
  return {
    workflowId: input.importId,
    args: [input] as [CallImportInput],
    typedSearchAttributes: [
      { key: RelayFlow, value: CALL_IMPORT_FLOW },
      { key: RelayAccount, value: input.customerId },
      { key: RelayStatus, value: 'RECEIVING' },
    ],
    staticSummary: `Call conversions from ${SOURCE_TEXT[input.source]}: ${fmt(input.rows)} row(s) into ${input.customerId}`,
  };
}

/** How a part is started: `parts` is the import's part count, for its summary. */
export function callImportPartStart(input: CallImportPartInput, parts: number) {
  return {
    workflowId: callImportPartId(input.importId, input.index),
    args: [input] as [CallImportPartInput],
    typedSearchAttributes: [
      { key: RelayFlow, value: CALL_IMPORT_PART_FLOW },
      { key: RelayAccount, value: input.customerId },
      { key: RelayStatus, value: 'RESOLVING_NAMES' },
    ],
    staticSummary: `Part ${input.index + 1} of ${parts} of ${input.importId} (${fmt(input.rows.length + input.invalid.length)} rows)`,
  };
}
export const callImportPartProgressSignal = defineSignal<[PartProgress]>('partProgress');

/** "1,400 of 2,000 rows uploaded (…)": the current details and the CLI's progress line. */
export function countsLine(c: CallImportCounts): string {
  const done = c.uploaded + c.validated;
  const parts = [
    c.validated ? `${fmt(c.validated)} validated only (dry run)` : '',
    c.alreadyRecorded ? `${fmt(c.alreadyRecorded)} already recorded` : '',
    c.rejected ? `${fmt(c.rejected)} rejected` : '',
    c.invalid ? `${fmt(c.invalid)} invalid` : '',
    c.pending ? `${fmt(c.pending)} pending` : '',
  ].filter(Boolean);
  return `${fmt(done)} of ${fmt(c.rows)} rows uploaded${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

const watching = proxyActivities<CallActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '1h',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m' },
});

/**
 * The patch after which the import's waits cancel no timer. `condition(fn, timeout)` cancels its timer when `fn`
 * wins; when a part's signal and the timer's firing meet in one workflow task, the real server drops the fired
 * timer, but the time-skipping test server refuses the task ("invalid history builder state for action", its
 * processCancelTimer) and the import hangs there. It hung CI's call-import test once.
 */
export const UNCANCELLED_IMPORT_TIMERS = 'uncancelled-import-timers';

/**
 * A timer the import never cancels; `fired` turns true when it fires. A workflow that ends first drops it, and
 * one that is cancelled cancels it with everything else (then it never fires).
 */
function flagTimer(ms: number): { readonly fired: boolean } {
  const timer = { fired: false };
  sleep(ms).then(
    () => {
      timer.fired = true;
    },
    () => undefined,
  );
  return timer;
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
    status.parts = { expected: input.parts, reported: list.length, done: list.filter((p) => p.done).length, list };
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
  const arrivalMs = input.partsArrivalTimeoutMs ?? CALL_PARTS_ARRIVAL_TIMEOUT_MS;
  const uncancelled = patched(UNCANCELLED_IMPORT_TIMERS);
  let arrived: boolean;
  if (uncancelled) {
    const deadline = flagTimer(arrivalMs);
    await condition(() => allReported() || deadline.fired);
    arrived = allReported();
  } else {
    arrived = await condition(allReported, arrivalMs);
  }
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
  let check = uncancelled ? flagTimer(CALL_PART_CHECK_INTERVAL_MS) : undefined;
  while (!allDone()) {
    refresh();
    report(
      status.nextAttemptAt && status.counts.pending > 0 ? 'WAITING_TO_RETRY' : 'UPLOADING',
      countsLine(status.counts),
    );
    changed = false;
    if (check) {
      const due = check;
      await condition(() => changed || due.fired);
      if (!due.fired) continue;
      check = flagTimer(CALL_PART_CHECK_INTERVAL_MS);
    } else if (await condition(() => changed, CALL_PART_CHECK_INTERVAL_MS)) continue;
    // Every hour while parts are open (before UNCANCELLED_IMPORT_TIMERS: after an hour without news): a part
    // that was terminated or reset sends nothing more, so ask the server.
    const open = [...parts.values()].filter((p) => !p.done);
    const closed = await watching.closedCallImportParts({ workflowIds: open.map((p) => p.workflowId) });
    for (const p of open) {
      if (!closed.includes(p.workflowId) || parts.get(p.index)?.done) continue;
      const c = p.counts;
      parts.set(p.index, {
        ...p,
        done: true,
        lost: true,
        counts: { ...c, rejected: c.rejected + c.pending, pending: 0 },
      });
    }
  }
  refresh();
  status.finishedAt = new Date().toISOString();
  status.nextAttemptAt = undefined;
  const failed = status.counts.rejected + status.counts.invalid > 0;
  const outcome = failed ? 'COMPLETED_WITH_FAILURES' : 'COMPLETED';
  const reason = failed
    ? [status.counts.rejected ? 'REJECTED_ROWS' : '', status.counts.invalid ? 'INVALID_ROWS' : '']
        .filter(Boolean)
        .join(',')
    : 'OK';
  // Refused rows end the import COMPLETED_WITH_FAILURES (RelayStatus), not as a failed workflow: one bad row in
  // 100,000 is an answer to report, and a failed workflow is what may be started again.
  settle(outcome, reason, countsLine(status.counts));
  return {
    outcome,
    importId: input.importId,
    source: input.source,
    customerId: input.customerId,
    createdAt: input.createdAt,
    timeZone: input.timeZone,
    finishedAt: status.finishedAt,
    counts: status.counts,
    parts: status.parts.list,
  };
}

// ------------------------------------------------------------------------------------------------ parts

/** What a part carries into its next run (continue-as-new): row positions and counts, never rows again. */
export interface PartCarried {
  counts: CallImportCounts;
  refused: RefusedRow[];
  reasons: Record<string, string>;
  /** Positions in `rows` still to upload. */
  pending: number[];
  actions: Record<string, string>;
  firstUploadAt: number;
  attempts: number;
  /** Rounds in a row whose request failed (for the backoff). */
  requestFailures: number;
  /** The outage a run of the part waited out (its RelayReason at the end). */
  waitedOut?: string;
}

export interface CallImportPartInput {
  importId: string;
  index: number;
  customerId: string;
  loginCustomerId?: string;
  rows: CallImportRow[];
  invalid: InvalidCallRow[];
  retryWindowMs?: number;
  /** Set by continue-as-new; rows and invalid stay the same in every run, so any run's input has the fields. */
  carried?: PartCarried;
}

export type CallImportPartState = 'RESOLVING_NAMES' | 'UPLOADING' | 'WAITING_TO_RETRY' | 'DONE';

export interface CallImportPartStatus {
  /** WAITING_FOR_CREDENTIALS while the account's credentials are out (see parkedOn). */
  state: CallImportPartState | 'FAILED' | typeof WAITING_FOR_CREDENTIALS;
  importId: string;
  index: number;
  counts: CallImportCounts;
  /** Refused rows so far (numbers and codes; the report takes their fields from the input). */
  refused: RefusedRow[];
  /** Google's message per code, once. */
  reasons: Record<string, string>;
  attempts: number;
  nextAttemptAt?: string;
  failure?: string;
  lastError?: string;
}

export interface CallImportPartResult {
  index: number;
  counts: CallImportCounts;
  refused: RefusedRow[];
  reasons: Record<string, string>;
}

export const callImportPartStatusQuery = defineQuery<CallImportPartStatus>('status');

const retry = {
  initialInterval: '10s',
  backoffCoefficient: 2,
  maximumInterval: '15m',
  nonRetryableErrorTypes: [GoogleAdsFailure.InvalidRequest, CallImportFailure.NotConfigured],
};
const resolving = proxyActivities<CallActivities>({ startToCloseTimeout: '1m', scheduleToCloseTimeout: '1d', retry });
/** The uploads go to their own task queue (uploadTaskQueue), served with enough slots for full batches. */
const uploads = () =>
  proxyActivities<CallActivities>({
    taskQueue: uploadTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '10m',
    scheduleToCloseTimeout: '1d',
    // The upload heartbeats while its rows wait in the batcher: a dead worker's attempt is retried in seconds.
    heartbeatTimeout: BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS,
    retry,
  });

const clip = (text: string) =>
  text.length > CALL_REASON_MAX_CHARS ? `${text.slice(0, CALL_REASON_MAX_CHARS)}…` : text;

export async function callImportPartWorkflow(input: CallImportPartInput): Promise<CallImportPartResult> {
  const carried: PartCarried = input.carried ?? {
    counts: {
      ...emptyCallCounts(input.rows.length + input.invalid.length),
      invalid: input.invalid.length,
      pending: input.rows.length,
    },
    refused: input.invalid.map((r) => ({
      row: r.row,
      outcome: 'INVALID',
      code: CallImportFailure.InvalidRow,
      reason: clip(describeProblems(r)),
    })),
    reasons: {},
    pending: input.rows.map((_, i) => i),
    actions: {},
    firstUploadAt: 0,
    attempts: 0,
    requestFailures: 0,
  };
  const { counts, refused, reasons } = carried;
  const status: CallImportPartStatus = {
    state: input.carried ? 'UPLOADING' : 'RESOLVING_NAMES',
    importId: input.importId,
    index: input.index,
    counts,
    refused,
    reasons,
    attempts: carried.attempts,
  };
  setHandler(callImportPartStatusQuery, () => status);
  const { report, settle, park } = trackProgress<CallImportPartState>(
    status,
    input.carried ? 'UPLOADING' : 'RESOLVING_NAMES',
  );
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
  const refuse = (position: number, outcome: RefusedRow['outcome'], code: string, reason: string) => {
    const row = input.rows[position] as CallImportRow;
    counts.pending -= 1;
    if (outcome === 'INVALID') counts.invalid += 1;
    else counts.rejected += 1;
    const text = clip(reason);
    reasons[code] ??= text;
    refused.push({ row: row.row, outcome, code, ...(reasons[code] === text ? {} : { reason: text }) });
  };
  const finish = async (reason: string): Promise<CallImportPartResult> => {
    refused.sort((a, b) => a.row - b.row);
    status.nextAttemptAt = undefined;
    settle('DONE', reason === 'OK' && carried.waitedOut ? carried.waitedOut : reason, countsLine(counts));
    await tell(true);
    return { index: input.index, counts, refused, reasons };
  };
  /** An activity that gave up: every row not settled yet is refused with its type, and the part ends. */
  const gaveUp = async (err: unknown): Promise<CallImportPartResult> => {
    const cause =
      activityFailureCause(err) ??
      (err instanceof ActivityFailure ? { type: `${err.activityType}Failed`, message: err.message } : undefined);
    if (!cause) throw err;
    for (const position of carried.pending) refuse(position, 'REJECTED', cause.type, cause.message);
    carried.pending = [];
    status.failure = cause.type;
    status.lastError = cause.message;
    return finish(cause.type);
  };

  const windowMs = input.retryWindowMs ?? CALL_RETRY_WINDOW_MS;
  /**
   * A credentials or configuration outage of the account (the activity found its circuit open): the part waits
   * until the account is tried again (WAITING_FOR_CREDENTIALS, the import told when), then tries the same rows
   * again, as long as that is inside the retry window from `since`. Otherwise (or for any other failure) false.
   */
  const parkedOn = async (err: unknown, since: number): Promise<boolean> => {
    const outage = outageOf(err);
    if (!outage || outage.retryAtMs > since + windowMs) return false;
    carried.waitedOut = outage.type;
    status.nextAttemptAt = new Date(outage.retryAtMs).toISOString();
    await tell(false);
    await park(outage);
    status.nextAttemptAt = undefined;
    return true;
  };

  if (!input.carried) {
    await tell(false);
    if (carried.pending.length > 0) {
      const names = [...new Set(carried.pending.map((i) => (input.rows[i] as CallImportRow).conversionName))].sort();
      let resolved: Awaited<ReturnType<CallActivities['resolveCallConversionActions']>>;
      for (;;) {
        try {
          resolved = await resolving.resolveCallConversionActions({
            customerId: input.customerId,
            ...(input.loginCustomerId ? { loginCustomerId: input.loginCustomerId } : {}),
            names,
          });
          break;
        } catch (err) {
          if (await parkedOn(err, Date.now())) continue;
          return gaveUp(err);
        }
      }
      for (const [name, r] of Object.entries(resolved)) if ('resourceName' in r) carried.actions[name] = r.resourceName;
      carried.pending = carried.pending.filter((i) => {
        const name = (input.rows[i] as CallImportRow).conversionName;
        const r = resolved[name];
        if (r && 'resourceName' in r) return true;
        refuse(
          i,
          'INVALID',
          CallImportFailure.UnknownConversionName,
          r?.problem ?? `the conversion name "${name}" is unknown`,
        );
        return false;
      });
    }
    carried.firstUploadAt = Date.now();
  }

  let rounds = 0;
  while (carried.pending.length > 0) {
    if (rounds >= CALL_UPLOAD_ROUNDS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof callImportPartWorkflow>({ ...input, carried });
    }
    rounds += 1;
    carried.attempts += 1;
    status.attempts = carried.attempts;
    report('UPLOADING', countsLine(counts));
    let outcomes: UploadOutcome[];
    try {
      outcomes = await uploads().uploadCallConversions({
        customerId: input.customerId,
        ...(input.loginCustomerId ? { loginCustomerId: input.loginCustomerId } : {}),
        actions: carried.actions,
        rows: carried.pending.map((i) => input.rows[i] as CallImportRow),
      });
    } catch (err) {
      if (await parkedOn(err, carried.firstUploadAt)) continue;
      return gaveUp(err);
    }
    const later: { position: number; code: string; delayMs: number }[] = [];
    carried.pending.forEach((position, i) => {
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
          refuse(position, 'REJECTED', o.code, o.message);
          break;
        case 'RETRY_LATER':
          later.push({ position, code: o.code, delayMs: o.delayMs });
          break;
      }
    });
    if (later.length === 0) break;
    // Rows whose request (or a transient row error) failed back off from a minute to an hour; Google's own
    // delays (six hours) stand.
    const requestFailed = later.some((l) => /^(request|row)\./.test(l.code));
    carried.requestFailures = requestFailed ? carried.requestFailures + 1 : 0;
    const backoff = Math.min(
      CALL_REQUEST_RETRY_MAX_MS,
      CALL_REQUEST_RETRY_MIN_MS * 2 ** Math.max(0, carried.requestFailures - 1),
    );
    const delayMs = Math.max(CALL_REQUEST_RETRY_MIN_MS, requestFailed ? backoff : 0, ...later.map((l) => l.delayMs));
    if (Date.now() + delayMs > carried.firstUploadAt + windowMs) {
      for (const l of later) {
        refuse(
          l.position,
          'REJECTED',
          l.code,
          `still ${l.code} after retrying for ${Math.round(windowMs / 3_600_000)} h`,
        );
      }
      carried.pending = [];
      break;
    }
    carried.pending = later.map((l) => l.position);
    status.nextAttemptAt = new Date(Date.now() + delayMs).toISOString();
    report('WAITING_TO_RETRY', `${countsLine(counts)}; ${fmt(later.length)} row(s) retry at ${status.nextAttemptAt}`);
    await tell(false);
    await sleep(delayMs);
    status.nextAttemptAt = undefined;
  }
  return finish(refused.length > 0 ? 'SOME_ROWS_REFUSED' : 'OK');
}

// Flow C, the regular pull: each run reads HubSpot's inbound calls modified since the last completed run,
// turns those whose outcome maps to a conversion name into rows, and starts one import of them (the import's
// id is a keyed hash of the rows, so the same calls pulled twice import once). The import and its parts are
// children that outlive the pull: a row Google calls too recent can wait hours without holding up the next run.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { CallActivities, CallPullPage } from '../activities/calls';
import { HubSpotFailure } from '../domain/hubspot/failures';
import { CALL_ROWS_PER_PART, CALLS_PULL_OVERLAP_MS, CallImportFailure } from '../domain/calls/types';
import { callImportPartStart, callImportPartWorkflow, callImportStart, callImportWorkflow } from './call-import';
import { trackProgress } from './progress';

export interface CallsHubSpotPullInput {
  trigger: 'schedule' | 'manual';
  customerId: string;
  loginCustomerId?: string;
  /** calls.timeZone, named in the import's report. */
  timeZone: string;
  /** Parts (of up to 2,000 rows) one run reads at most; the rest waits for the next run. */
  maxParts?: number;
}

export type CallsPullState = 'READING' | 'IMPORTING' | 'COMPLETED' | 'NOTHING_NEW';

export interface CallsHubSpotPullResult {
  /** Calls modified after `since` and up to `until` (epoch ms) were read; the next run starts at `until`. */
  since: number;
  until: number;
  read: number;
  rows: number;
  invalid: number;
  /** Calls whose outcome maps to no conversion name. */
  skipped: number;
  /** Calls of the overlap that the previous pull had read, unchanged. */
  alreadyRead: number;
  /** Calls read within the overlap before `until` (id → hs_lastmodifieddate): the next pull skips them. */
  recent: Record<string, number>;
  importId?: string;
  /** The same rows were imported before (same import id). */
  alreadyImported?: boolean;
  /** More calls are waiting: the run stopped at maxParts. */
  more: boolean;
}

/**
 * Parts per run. The pull's history holds each part's rows twice (the page's result and the part's input), so
 * 10 parts of ≤ 448 KiB keep it under 10 MB; more calls wait for the next run.
 */
export const DEFAULT_PULL_MAX_PARTS = 10;

const activities = proxyActivities<CallActivities>({
  startToCloseTimeout: '5m',
  scheduleToCloseTimeout: '1h',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    nonRetryableErrorTypes: [HubSpotFailure.Invalid, CallImportFailure.NotConfigured],
  },
});

export async function callsHubSpotPullWorkflow(input: CallsHubSpotPullInput): Promise<CallsHubSpotPullResult> {
  const status: { state: CallsPullState | 'FAILED' } = { state: 'READING' };
  const { report, settle } = trackProgress<CallsPullState>(status, 'READING');
  const { since, seen } = await activities.callPullStart();
  report('READING', `inbound calls modified after ${new Date(since).toISOString()}`);
  const pages: CallPullPage[] = [];
  let cursor: string | undefined;
  let until = since;
  const maxParts = input.maxParts ?? DEFAULT_PULL_MAX_PARTS;
  do {
    const page = await activities.readHubSpotCallPage({
      since,
      ...(cursor !== undefined ? { cursor } : {}),
      firstRow: 1 + pages.reduce((n, p) => n + p.rows.length + p.invalid.length, 0),
      maxRows: CALL_ROWS_PER_PART,
      seen,
    });
    pages.push(page);
    cursor = page.cursor;
    until = Math.max(until, page.watermark);
  } while (cursor !== undefined && pages.length < maxParts);

  const sum = (f: (p: CallPullPage) => number) => pages.reduce((n, p) => n + f(p), 0);
  const result: CallsHubSpotPullResult = {
    since,
    until,
    read: sum((p) => p.read),
    rows: sum((p) => p.rows.length),
    invalid: sum((p) => p.invalid.length),
    skipped: sum((p) => p.skipped),
    alreadyRead: sum((p) => p.alreadyRead),
    recent: Object.fromEntries(
      pages.flatMap((p) => Object.entries(p.recent)).filter(([, at]) => at >= until - CALLS_PULL_OVERLAP_MS),
    ),
    more: cursor !== undefined,
  };
  const parts = pages.filter((p) => p.rows.length + p.invalid.length > 0);
  if (parts.length === 0) {
    settle('NOTHING_NEW', 'OK', `${result.read} call(s) read, none to import`);
    return result;
  }
  const importId = await activities.callImportKey({
    customerId: input.customerId,
    digests: parts.map((p) => p.digest),
  });
  result.importId = importId;
  report('IMPORTING', `${result.rows + result.invalid} row(s) → ${importId}`);
  const createdAt = new Date().toISOString();
  try {
    await startChild(callImportWorkflow, {
      ...callImportStart({
        importId,
        source: 'hubspot',
        customerId: input.customerId,
        rows: result.rows + result.invalid,
        parts: parts.length,
        createdAt,
        timeZone: input.timeZone,
      }),
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    result.alreadyImported = true;
    settle('COMPLETED', 'ALREADY_IMPORTED', `these calls were imported before: ${importId}`);
    return result;
  }
  for (const [index, page] of parts.entries()) {
    await startChild(callImportPartWorkflow, {
      ...callImportPartStart(
        {
          importId,
          index,
          customerId: input.customerId,
          ...(input.loginCustomerId ? { loginCustomerId: input.loginCustomerId } : {}),
          rows: page.rows,
          invalid: page.invalid,
        },
        parts.length,
      ),
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  }
  settle(
    'COMPLETED',
    'OK',
    `${result.rows + result.invalid} row(s) handed to ${importId} (run ${workflowInfo().runId})`,
  );
  return result;
}

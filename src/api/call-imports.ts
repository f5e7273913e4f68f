// The api's side of a call import: validating rows into parts, starting the import and its parts in Temporal
// (again, idempotently, when the same rows are posted twice), and reading an import back as its report.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { CallsConfig } from '../domain/calls/config';
import type { CallColumn, RawCallRow } from '../domain/calls/csv';
import { callImportId, digestCallRows, splitIntoParts, type CallImportItem } from '../domain/calls/import-id';
import { fieldsOf } from '../domain/calls/report';
import { validateCallRow } from '../domain/calls/rows';
import { parseTimeZone, type CallTimeZone } from '../domain/calls/times';
import {
  CALL_PART_MAX_BYTES,
  CALL_ROWS_PER_PART,
  callImportPartId,
  type CallImportCounts,
  type CallImportSource,
  type FailedCallRow,
} from '../domain/calls/types';
import {
  callImportPartProgressSignal,
  callImportPartStart,
  callImportPartStatusQuery,
  callImportStart,
  callImportPartWorkflow,
  callImportStatusQuery,
  callImportWorkflow,
  type CallImportPartInput,
  type CallImportPartResult,
  type CallImportResult,
} from '../workflows/call-import';
import { RelayStatus } from '../workflows/search-attributes';

export interface RowIssue {
  row: number;
  field: CallColumn | '(file)' | 'Parameters:TimeZone';
  message: string;
}

export interface PreparedImport {
  importId: string;
  /** The zone times without an offset were read in. */
  timeZone: string;
  items: CallImportItem[];
  parts: CallImportItem[][];
  issues: RowIssue[];
  valid: number;
}

/** Rows validated between two turns of the event loop: a 100,000-row file must not stall the api's other routes. */
const ROWS_PER_TURN = 2000;

/** Validates every row and cuts the import into parts; `issues` names every refused row and column. */
export async function prepareCallImport(
  parsed: { timeZone?: string; rows: RawCallRow[] },
  config: CallsConfig,
  payloadKey: string,
  now: number,
): Promise<PreparedImport | { issues: RowIssue[] }> {
  let zone: CallTimeZone = config.zone;
  if (parsed.timeZone !== undefined) {
    const own = parseTimeZone(parsed.timeZone);
    if (!own) {
      return {
        issues: [
          {
            row: 1,
            field: 'Parameters:TimeZone',
            message: `"${parsed.timeZone.slice(0, 60)}" is not an IANA time zone or an offset like -0500`,
          },
        ],
      };
    }
    zone = own;
  }
  const ctx = { zone, region: config.country, defaultCurrency: config.defaultCurrency, now };
  const items: CallImportItem[] = [];
  const issues: RowIssue[] = [];
  for (const [i, raw] of parsed.rows.entries()) {
    if (i > 0 && i % ROWS_PER_TURN === 0) await yieldToLoop();
    const r = validateCallRow(raw, ctx);
    if (r.ok) {
      items.push({ valid: r.row });
    } else {
      items.push({ invalid: r.invalid });
      for (const p of r.invalid.problems) issues.push({ row: raw.row, field: p.column, message: p.reason });
    }
  }
  const valid = items.filter((i) => 'valid' in i).length;
  if (valid === 0) return { issues: issues.length > 0 ? issues : [{ row: 0, field: '(file)', message: 'no rows' }] };
  const parts = splitIntoParts(items, CALL_ROWS_PER_PART, CALL_PART_MAX_BYTES);
  const importId = callImportId(parts.map(digestCallRows), config.customerId, payloadKey);
  const timeZone = zone.kind === 'iana' ? zone.name : zone.text;
  return { importId, timeZone, items, parts, issues, valid };
}

export type StartAnswer = 'started' | 'already-imported' | 'importing';

const PARALLEL_STARTS = 8;

/**
 * Starts the import and its parts. The same rows posted again start nothing new, except what a failed attempt
 * left undone: an import that failed (its parts never all arrived) runs again, a part the first post could not
 * start is started, and parts that finished before tell the new run their outcome.
 */
export async function startCallImport(
  opts: { temporal: Client; taskQueue: string; now?: () => number },
  config: CallsConfig,
  prepared: PreparedImport,
  source: CallImportSource,
): Promise<StartAnswer> {
  const { temporal, taskQueue } = opts;
  const { importId, parts, items } = prepared;
  let answer: StartAnswer = 'started';
  try {
    await temporal.workflow.start(callImportWorkflow, {
      ...callImportStart({
        importId,
        source,
        customerId: config.customerId,
        rows: items.length,
        parts: parts.length,
        createdAt: new Date(opts.now?.() ?? Date.now()).toISOString(),
        timeZone: prepared.timeZone,
      }),
      taskQueue,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const d = await temporal.workflow.getHandle(importId).describe();
    if (d.status.name !== 'RUNNING') return 'already-imported';
    answer = 'importing';
  }
  const startPart = async (index: number): Promise<void> => {
    const part = parts[index] as CallImportItem[];
    const workflowId = callImportPartId(importId, index);
    try {
      await temporal.workflow.start(callImportPartWorkflow, {
        ...callImportPartStart(
          {
            importId,
            index,
            customerId: config.customerId,
            ...(config.loginCustomerId ? { loginCustomerId: config.loginCustomerId } : {}),
            rows: part.flatMap((i) => ('valid' in i ? [i.valid] : [])),
            invalid: part.flatMap((i) => ('invalid' in i ? [i.invalid] : [])),
          },
          parts.length,
        ),
        taskQueue,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // A part that finished for an earlier run of the import tells this run (a running part tells it itself).
      const handle = temporal.workflow.getHandle<typeof callImportPartWorkflow>(workflowId);
      if ((await handle.describe()).status.name !== 'COMPLETED') return;
      const result = await handle.result();
      await temporal.workflow
        .getHandle(importId)
        .signal(callImportPartProgressSignal, { index, workflowId, counts: result.counts, done: true });
    }
  };
  // A few starts at a time: 50 parts one after another kept a 100,000-row POST waiting for many seconds.
  for (let i = 0; i < parts.length; i += PARALLEL_STARTS) {
    await Promise.all(Array.from({ length: Math.min(PARALLEL_STARTS, parts.length - i) }, (_, k) => startPart(i + k)));
  }
  return answer;
}

// ------------------------------------------------------------------------------------------------- report

export interface CallImportReport {
  importId: string;
  state: string;
  running: boolean;
  source?: CallImportSource;
  customerId?: string;
  createdAt?: string;
  /** The zone times without an offset were read in. */
  timeZone?: string;
  finishedAt?: string;
  counts?: CallImportCounts;
  parts?: { expected: number; reported: number; done: number };
  nextAttemptAt?: string;
  error?: string;
  /** Refused rows (invalid or rejected), by row; all of them with `failed=true`, else the first 50. */
  failed: FailedCallRow[];
  failedTotal: number;
  /** Parts whose refused rows could not be read now (the list above lacks them): ask again. */
  partsUnreadable?: string[];
}

const REPORT_SAMPLE = 50;
const QUERY_TIMEOUT_MS = 10_000;
const PARALLEL_READS = 8;

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), QUERY_TIMEOUT_MS).unref();
    }),
  ]);
}

/** The part's refused rows with their fields, read from its input (the rows) and its result or status. */
async function partFailedRows(temporal: Client, workflowId: string): Promise<FailedCallRow[]> {
  const handle = temporal.workflow.getHandle<typeof callImportPartWorkflow>(workflowId);
  const d = await handle.describe();
  // A finished part needs no worker: its result is in history. A running one answers its status query.
  const outcome: Pick<CallImportPartResult, 'refused' | 'reasons'> =
    d.status.name === 'COMPLETED' ? await handle.result() : await withTimeout(handle.query(callImportPartStatusQuery));
  if (outcome.refused.length === 0) return [];
  const history = await handle.fetchHistory();
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  const input = await decodeFromPayloadsAtIndex<CallImportPartInput>(
    temporal.workflow.options.loadedDataConverter,
    0,
    payloads,
  );
  const byRow = new Map<number, { fields: Record<CallColumn, string>; hubspotCallId?: string }>();
  for (const r of input.rows) byRow.set(r.row, { fields: fieldsOf(r), hubspotCallId: r.hubspotCallId });
  for (const r of input.invalid) byRow.set(r.row, { fields: r.fields, hubspotCallId: r.hubspotCallId });
  return outcome.refused.map((f) => {
    const source = byRow.get(f.row);
    return {
      row: f.row,
      outcome: f.outcome,
      code: f.code,
      reason: f.reason ?? outcome.reasons[f.code] ?? f.code,
      fields: source?.fields ?? (Object.fromEntries([]) as Record<CallColumn, string>),
      ...(source?.hubspotCallId ? { hubspotCallId: source.hubspotCallId } : {}),
    };
  });
}

/**
 * The import as an operator reads it: its counts, and (once it has ended, or when asked) its refused rows
 * gathered from its parts, several parts at a time.
 */
export async function callImportReport(temporal: Client, importId: string, all: boolean): Promise<CallImportReport> {
  const handle = temporal.workflow.getHandle<typeof callImportWorkflow>(importId);
  const d = await handle.describe();
  const running = d.status.name === 'RUNNING';
  let error: string | undefined;
  let view: Omit<CallImportReport, 'failed' | 'failedTotal' | 'importId' | 'running'>;
  if (d.status.name === 'COMPLETED') {
    const r: CallImportResult = await handle.result();
    view = {
      state: r.outcome,
      source: r.source,
      customerId: r.customerId,
      createdAt: r.createdAt,
      timeZone: r.timeZone,
      finishedAt: r.finishedAt,
      counts: r.counts,
      parts: { expected: r.parts.length, reported: r.parts.length, done: r.parts.length },
    };
  } else {
    const s = await withTimeout(handle.query(callImportStatusQuery)).catch(() => undefined);
    if (!running) {
      await handle.result().catch((err: unknown) => {
        const cause = (err as { cause?: { type?: string; message?: string } }).cause;
        error = cause?.message ? `${cause.type ?? 'Failure'}: ${cause.message}` : d.status.name;
      });
    }
    view = s
      ? {
          state: s.state,
          source: s.source,
          customerId: s.customerId,
          createdAt: s.createdAt,
          timeZone: s.timeZone,
          ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
          counts: s.counts,
          parts: { expected: s.parts.expected, reported: s.parts.reported, done: s.parts.done },
          ...(s.nextAttemptAt ? { nextAttemptAt: s.nextAttemptAt } : {}),
        }
      : { state: d.typedSearchAttributes.get(RelayStatus) ?? d.status.name, createdAt: d.startTime.toISOString() };
    if (!running && d.closeTime) view.finishedAt ??= d.closeTime.toISOString();
  }
  const failed: FailedCallRow[] = [];
  const unreadable: string[] = [];
  // While it runs, a progress poll needs counts only; the rows are read once it ends, or when asked.
  if (!running || all) {
    const expected = view.parts?.expected ?? 0;
    const ids = Array.from({ length: expected }, (_, i) => callImportPartId(importId, i));
    for (let i = 0; i < ids.length; i += PARALLEL_READS) {
      const batch = ids.slice(i, i + PARALLEL_READS);
      const rows = await Promise.all(
        batch.map((id) =>
          partFailedRows(temporal, id).catch((err: unknown) => {
            // A part that was never started has nothing to report; anything else is a gap in the list.
            if (!(err instanceof WorkflowNotFoundError)) unreadable.push(id);
            return [];
          }),
        ),
      );
      failed.push(...rows.flat());
    }
  }
  failed.sort((a, b) => a.row - b.row);
  return {
    importId,
    running,
    ...view,
    ...(error ? { error } : {}),
    failed: all ? failed : failed.slice(0, REPORT_SAMPLE),
    failedTotal: failed.length,
    ...(unreadable.length > 0 ? { partsUnreadable: unreadable } : {}),
  };
}

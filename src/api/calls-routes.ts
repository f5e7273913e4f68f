// Flow C routes (api key): post calls as Google's call-conversion template (text/csv) or as JSON rows, and read
// an import's report. Rows are validated here, at the edge, and go into Temporal in parts of ≤ 2,000 rows inside
// encrypted payloads; the file itself is never written anywhere. The answer names every refused row and column.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CallsConfig } from '../domain/calls/config';
import { CALL_COLUMNS, columnOf, parseCallCsv, type CallColumn, type RawCallRow } from '../domain/calls/csv';
import { callImportId, digestCallRows, splitIntoParts, type CallImportItem } from '../domain/calls/import-id';
import { validateCallRow } from '../domain/calls/rows';
import { parseTimeZone, type CallTimeZone } from '../domain/calls/times';
import {
  CALL_IMPORT_FLOW,
  CALL_IMPORT_PART_FLOW,
  CALL_PART_MAX_BYTES,
  CALL_ROWS_PER_PART,
  CALLS_HUBSPOT_PULL_FLOW,
  callImportPartId,
  CallImportFailure,
  type CallImportCounts,
  type CallImportSource,
  type FailedCallRow,
} from '../domain/calls/types';
import {
  callImportPartStatusQuery,
  callImportPartWorkflow,
  callImportStatusQuery,
  callImportWorkflow,
  type CallImportResult,
  type CallImportStatus,
} from '../workflows/call-import';
import { callsHubSpotPullWorkflow } from '../workflows/calls-hubspot-pull';
import { RelayAccount, RelayFlow, RelayStatus } from '../workflows/search-attributes';

export interface CallRouteOptions {
  temporal: Client;
  taskQueue: string;
  /** The `calls:` section; without it the routes answer 503 saying so. */
  config?: CallsConfig;
  /** The payload key (base64): import ids are keyed with it. */
  payloadKey?: string;
  /** Largest file (or JSON body) the upload route reads. */
  maxBodyBytes: number;
  now?: () => number;
}

export const CALLS_ROUTE = '/v1/google-ads/calls';
const IMPORT_ID = /^calls-import-[0-9a-f]{24}$/;
const MAX_ISSUES_SHOWN = 1000;
const REPORT_SAMPLE = 50;
const QUERY_TIMEOUT_MS = 10_000;

export interface RowIssue {
  row: number;
  field: CallColumn | '(file)' | 'Parameters:TimeZone';
  message: string;
}

export interface CallImportAnswer {
  importId: string;
  status: 'started' | 'already-imported' | 'importing';
  rows: number;
  valid: number;
  invalid: number;
  parts: number;
  /** The refused rows by row and column (the first 1,000); never sent to Google. */
  issues: RowIssue[];
  report: string;
}

// JSON rows: the template's column names, or the same fields in camelCase.
const JSON_ALIASES: Record<string, CallColumn> = {
  callerPhoneNumber: "Caller's Phone Number",
  callerId: "Caller's Phone Number",
  callStartTime: 'Call Start Time',
  conversionName: 'Conversion Name',
  conversionTime: 'Conversion Time',
  conversionValue: 'Conversion Value',
  conversionCurrency: 'Conversion Currency',
};
const cell = z.union([z.string(), z.number()]).nullable().optional();
const jsonRowSchema = z.record(z.string(), cell);
const jsonBodySchema = z.union([
  z.array(jsonRowSchema).min(1),
  z.strictObject({ timeZone: z.string().optional(), rows: z.array(jsonRowSchema).min(1) }),
]);

type Parsed = { ok: true; timeZone?: string; rows: RawCallRow[] } | { ok: false; issues: RowIssue[] };

function parseJsonBody(body: unknown): Parsed {
  const parsed = jsonBodySchema.safeParse(body);
  if (!parsed.success) {
    return {
      ok: false,
      issues: [{ row: 0, field: '(file)', message: 'expected a list of rows, or { "timeZone", "rows": [...] }' }],
    };
  }
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.rows;
  const timeZone = Array.isArray(parsed.data) ? undefined : parsed.data.timeZone;
  const issues: RowIssue[] = [];
  const rows = list.map((obj, i): RawCallRow => {
    const fields = Object.fromEntries(CALL_COLUMNS.map((c) => [c, ''])) as Record<CallColumn, string>;
    for (const [key, value] of Object.entries(obj)) {
      const column = JSON_ALIASES[key] ?? columnOf(key);
      if (!column) {
        issues.push({ row: i + 1, field: '(file)', message: `unknown field "${key.slice(0, 60)}"` });
        continue;
      }
      fields[column] = value === null || value === undefined ? '' : String(value);
    }
    return { row: i + 1, fields };
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, ...(timeZone !== undefined ? { timeZone } : {}), rows };
}

function parseCsvBody(text: string): Parsed {
  const file = parseCallCsv(text);
  if (file.problems.length > 0) {
    return {
      ok: false,
      issues: file.problems.map((p) => ({
        row: p.line,
        field: p.column === '(file)' && /TimeZone/.test(p.message) ? 'Parameters:TimeZone' : (p.column ?? '(file)'),
        message: p.message,
      })),
    };
  }
  return { ok: true, ...(file.timeZone !== undefined ? { timeZone: file.timeZone } : {}), rows: file.rows };
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

/** Validates every row and cuts the import into parts; `issues` names every refused row and column. */
export function prepareCallImport(
  parsed: { timeZone?: string; rows: RawCallRow[] },
  config: CallsConfig,
  payloadKey: string | undefined,
  now: number,
): PreparedImport | { issues: RowIssue[] } {
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
  for (const raw of parsed.rows) {
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

/** Starts the import and its parts; a repeated post of the same rows starts nothing new (or resends missing parts). */
export async function startCallImport(
  opts: Pick<CallRouteOptions, 'temporal' | 'taskQueue' | 'now'>,
  config: CallsConfig,
  prepared: PreparedImport,
  source: CallImportSource,
): Promise<CallImportAnswer['status']> {
  const { temporal, taskQueue } = opts;
  const { importId, parts, items } = prepared;
  let status: CallImportAnswer['status'] = 'started';
  try {
    await temporal.workflow.start(callImportWorkflow, {
      taskQueue,
      workflowId: importId,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [
        {
          importId,
          source,
          customerId: config.customerId,
          rows: items.length,
          parts: parts.length,
          createdAt: new Date(opts.now?.() ?? Date.now()).toISOString(),
          timeZone: prepared.timeZone,
        },
      ],
      typedSearchAttributes: [
        { key: RelayFlow, value: CALL_IMPORT_FLOW },
        { key: RelayAccount, value: config.customerId },
        { key: RelayStatus, value: 'RECEIVING' },
      ],
      staticSummary: `Call conversions from ${source === 'file' ? 'a file' : 'the api'}: ${items.length.toLocaleString('en-US')} row(s) into ${config.customerId}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const d = await temporal.workflow.getHandle(importId).describe();
    // A closed import is done; a running one may lack parts its first post could not start.
    if (d.status.name !== 'RUNNING') return 'already-imported';
    status = 'importing';
  }
  for (const [index, part] of parts.entries()) {
    try {
      await temporal.workflow.start(callImportPartWorkflow, {
        taskQueue,
        workflowId: callImportPartId(importId, index),
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [
          {
            importId,
            index,
            customerId: config.customerId,
            ...(config.loginCustomerId ? { loginCustomerId: config.loginCustomerId } : {}),
            rows: part.flatMap((i) => ('valid' in i ? [i.valid] : [])),
            invalid: part.flatMap((i) => ('invalid' in i ? [i.invalid] : [])),
          },
        ],
        typedSearchAttributes: [
          { key: RelayFlow, value: CALL_IMPORT_PART_FLOW },
          { key: RelayAccount, value: config.customerId },
          { key: RelayStatus, value: 'RESOLVING_NAMES' },
        ],
        staticSummary: `Part ${index + 1} of ${parts.length} of ${importId} (${part.length} rows)`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return status;
}

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
  /** Refused rows (invalid or rejected by Google), by row; all of them with `failed=true`, else the first 50. */
  failed: FailedCallRow[];
  failedTotal: number;
}

function withTimeout<T>(p: Promise<T>): Promise<T | undefined> {
  return Promise.race([
    p.catch(() => undefined),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), QUERY_TIMEOUT_MS).unref()),
  ]);
}

/** The import as an operator reads it: its counts, and its refused rows gathered from its parts. */
export async function callImportReport(temporal: Client, importId: string, all: boolean): Promise<CallImportReport> {
  const handle = temporal.workflow.getHandle<typeof callImportWorkflow>(importId);
  const d = await handle.describe();
  const running = d.status.name === 'RUNNING';
  let view: Pick<
    CallImportStatus,
    'source' | 'customerId' | 'createdAt' | 'timeZone' | 'counts' | 'finishedAt' | 'nextAttemptAt'
  > & {
    parts: { expected: number; reported: number; done: number };
    state: string;
  };
  let error: string | undefined;
  if (running) {
    const s = await withTimeout(handle.query(callImportStatusQuery));
    view = s
      ? { ...s, parts: { expected: s.parts.expected, reported: s.parts.reported, done: s.parts.done } }
      : {
          state: d.typedSearchAttributes.get(RelayStatus) ?? 'RUNNING',
          source: 'file',
          customerId: '',
          createdAt: d.startTime.toISOString(),
          timeZone: '',
          counts: undefined as never,
          parts: { expected: 0, reported: 0, done: 0 },
        };
  } else {
    let result: CallImportResult | undefined;
    try {
      result = await handle.result();
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === CallImportFailure.CompletedWithFailures) {
        result = cause.details?.[0] as CallImportResult | undefined;
      }
      if (!result) error = cause instanceof ApplicationFailure ? `${cause.type}: ${cause.message}` : String(err);
    }
    const s = result ?? (await withTimeout(handle.query(callImportStatusQuery)));
    view = {
      state: result?.outcome ?? d.typedSearchAttributes.get(RelayStatus) ?? d.status.name,
      source: s?.source ?? 'file',
      customerId: s?.customerId ?? '',
      createdAt: s?.createdAt ?? d.startTime.toISOString(),
      timeZone: s?.timeZone ?? '',
      counts: s?.counts as CallImportCounts,
      finishedAt: result?.finishedAt ?? d.closeTime?.toISOString(),
      parts: result
        ? { expected: result.parts.length, reported: result.parts.length, done: result.parts.length }
        : { expected: 0, reported: 0, done: 0 },
    };
    if (!result && s && 'parts' in s) {
      const p = (s as CallImportStatus).parts;
      view.parts = { expected: p.expected, reported: p.reported, done: p.done };
    }
  }
  const failed: FailedCallRow[] = [];
  const partCount = Math.max(view.parts.expected, view.parts.reported);
  for (let index = 0; index < partCount; index += 1) {
    const part = temporal.workflow.getHandle(callImportPartId(importId, index));
    const s = await withTimeout(part.query(callImportPartStatusQuery));
    if (s) failed.push(...s.failed);
  }
  failed.sort((a, b) => a.row - b.row);
  return {
    importId,
    state: view.state,
    running,
    ...(view.source ? { source: view.source } : {}),
    ...(view.customerId ? { customerId: view.customerId } : {}),
    ...(view.createdAt ? { createdAt: view.createdAt } : {}),
    ...(view.timeZone ? { timeZone: view.timeZone } : {}),
    ...(view.finishedAt ? { finishedAt: view.finishedAt } : {}),
    ...(view.counts ? { counts: view.counts } : {}),
    parts: view.parts,
    ...(view.nextAttemptAt ? { nextAttemptAt: view.nextAttemptAt } : {}),
    ...(error ? { error } : {}),
    failed: all ? failed : failed.slice(0, REPORT_SAMPLE),
    failedTotal: failed.length,
  };
}

const TEMPORAL_UNAVAILABLE = { error: 'Temporal is unavailable; retry the request' };
const NOT_CONFIGURED = {
  error: 'call imports are not configured: add a calls section to the RELAY_CONFIG file',
};

async function temporalCall<T>(log: FastifyBaseLogger, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    log.error({ error: (err as Error).name }, 'Temporal call of a calls route failed');
    return undefined;
  }
}

export function registerCallRoutes(app: FastifyInstance, opts: CallRouteOptions): void {
  void app.register((scope, _options, done) => {
    // Only this scope reads CSV, and it alone may take a large body.
    for (const type of ['text/csv', 'application/csv']) {
      scope.addContentTypeParser(type, { parseAs: 'string', bodyLimit: opts.maxBodyBytes }, (_req, body, next) =>
        next(null, body),
      );
    }

    scope.post(CALLS_ROUTE, { bodyLimit: opts.maxBodyBytes }, async (request, reply) => {
      if (!opts.config) return reply.code(503).send(NOT_CONFIGURED);
      const config = opts.config;
      const type = String(request.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      const isCsv = type === 'text/csv' || type === 'application/csv';
      if (!isCsv && type !== 'application/json') {
        return reply.code(415).send({ error: 'send text/csv (Google’s call-conversion template) or application/json' });
      }
      const parsed = isCsv
        ? parseCsvBody(typeof request.body === 'string' ? request.body : '')
        : parseJsonBody(request.body);
      if (!parsed.ok) return reply.code(400).send({ error: 'nothing in the body is usable', issues: parsed.issues });
      const prepared = prepareCallImport(parsed, config, opts.payloadKey, opts.now?.() ?? Date.now());
      if (!('importId' in prepared)) {
        return reply.code(400).send({
          error: 'no row is usable: every row has a problem',
          issues: prepared.issues.slice(0, MAX_ISSUES_SHOWN),
          issuesTotal: prepared.issues.length,
        });
      }
      const source: CallImportSource = isCsv ? 'file' : 'api';
      const status = await temporalCall(request.log, () => startCallImport(opts, config, prepared, source));
      if (!status) return reply.code(503).send({ ...TEMPORAL_UNAVAILABLE, importId: prepared.importId });
      request.log.info(
        { importId: prepared.importId, rows: prepared.items.length, invalid: prepared.items.length - prepared.valid },
        `call import ${status}`,
      );
      const answer: CallImportAnswer = {
        importId: prepared.importId,
        status,
        rows: prepared.items.length,
        valid: prepared.valid,
        invalid: prepared.items.length - prepared.valid,
        parts: prepared.parts.length,
        issues: prepared.issues.slice(0, MAX_ISSUES_SHOWN),
        report: `${CALLS_ROUTE}/imports/${prepared.importId}`,
      };
      return reply.code(status === 'started' ? 202 : 200).send(answer);
    });
    done();
  });

  app.get<{ Params: { importId: string }; Querystring: { failed?: string } }>(
    `${CALLS_ROUTE}/imports/:importId`,
    async (request, reply) => {
      const id = request.params.importId;
      if (!IMPORT_ID.test(id)) {
        return reply.code(400).send({
          error: 'invalid request',
          issues: [{ field: 'importId', message: 'not a call import id (calls-import-<24 hex>)' }],
        });
      }
      const all = ['1', 'true', 'all'].includes(String(request.query.failed ?? '').toLowerCase());
      try {
        const report = await callImportReport(opts.temporal, id, all);
        // Caller numbers of refused rows, for the key holder who asked: never cached.
        return await reply.header('cache-control', 'no-store').send(report);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return reply.code(404).send({ error: `no import ${id}` });
        request.log.error({ error: (err as Error).name }, 'call import report failed');
        return reply.code(503).send(TEMPORAL_UNAVAILABLE);
      }
    },
  );

  app.post(`${CALLS_ROUTE}/pull`, async (request, reply) => {
    if (!opts.config?.hubspot) {
      return reply
        .code(503)
        .send({ error: 'the HubSpot call pull is not configured: add calls.hubspot to RELAY_CONFIG' });
    }
    const config = opts.config;
    const workflowId = `${CALLS_HUBSPOT_PULL_FLOW}-manual-${new Date(opts.now?.() ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
    const started = await temporalCall(request.log, async () => {
      try {
        await opts.temporal.workflow.start(callsHubSpotPullWorkflow, {
          taskQueue: opts.taskQueue,
          workflowId,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          args: [
            {
              trigger: 'manual',
              customerId: config.customerId,
              timeZone: config.timeZone,
              ...(config.loginCustomerId ? { loginCustomerId: config.loginCustomerId } : {}),
            },
          ],
          typedSearchAttributes: [
            { key: RelayFlow, value: CALLS_HUBSPOT_PULL_FLOW },
            { key: RelayAccount, value: config.customerId },
            { key: RelayStatus, value: 'READING' },
          ],
          staticSummary: `HubSpot calls → Google Ads ${config.customerId} (pulled by hand)`,
        });
        return 'started';
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already-running';
        throw err;
      }
    });
    if (!started) return reply.code(503).send(TEMPORAL_UNAVAILABLE);
    return reply.code(started === 'started' ? 202 : 409).send({ status: started, workflowId });
  });

  app.get<{ Params: { workflowId: string } }>(`${CALLS_ROUTE}/pulls/:workflowId`, async (request, reply) => {
    const id = request.params.workflowId;
    if (!id.startsWith(`${CALLS_HUBSPOT_PULL_FLOW}-`)) {
      return reply
        .code(400)
        .send({ error: 'invalid request', issues: [{ field: 'workflowId', message: 'not a call pull' }] });
    }
    try {
      const handle = opts.temporal.workflow.getHandle<typeof callsHubSpotPullWorkflow>(id);
      const d = await handle.describe();
      if (d.status.name === 'RUNNING') return await reply.send({ workflowId: id, state: 'RUNNING' });
      const result = await handle.result().catch((err: unknown) => ({ error: (err as Error).message }));
      return await reply.send({ workflowId: id, state: d.status.name, ...result });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return reply.code(404).send({ error: `no pull ${id}` });
      return reply.code(503).send(TEMPORAL_UNAVAILABLE);
    }
  });
}

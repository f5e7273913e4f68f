// Flow C routes (api key): post calls as Google's call-conversion template (text/csv) or as JSON rows, and read
// an import's report. Rows are validated here, at the edge, and go into Temporal in parts of ≤ 2,000 rows inside
// encrypted payloads; the file itself is never written anywhere. The answer names every refused row and column.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CallsConfig } from '../domain/calls/config';
import { CALL_COLUMNS, columnOf, parseCallCsv, type CallColumn, type RawCallRow } from '../domain/calls/csv';
import { CALLS_HUBSPOT_PULL_FLOW, type CallImportSource } from '../domain/calls/types';
import { callsHubSpotPullWorkflow } from '../workflows/calls-hubspot-pull';
import { callPullStart, runningCallPulls } from '../schedules/calls-hubspot-pull';
import { callImportReport, prepareCallImport, startCallImport, type RowIssue, type StartAnswer } from './call-imports';

export {
  prepareCallImport,
  startCallImport,
  type CallImportReport,
  type PreparedImport,
  type RowIssue,
} from './call-imports';

export interface CallRouteOptions {
  temporal: Client;
  taskQueue: string;
  /** The `calls:` section; without it the routes answer 503 saying so. */
  config?: CallsConfig;
  /** The payload key (base64): import ids are keyed with a key derived from it. */
  payloadKey: string;
  /** Largest file (or JSON body) the upload route reads. */
  maxBodyBytes: number;
  now?: () => number;
}

export const CALLS_ROUTE = '/v1/google-ads/calls';
const IMPORT_ID = /^calls-import-[0-9a-f]{24}$/;
const MAX_ISSUES_SHOWN = 1000;

export interface CallImportAnswer {
  importId: string;
  status: StartAnswer;
  rows: number;
  valid: number;
  invalid: number;
  parts: number;
  /** The refused rows by row and column (the first 1,000 of issuesTotal); never sent to Google. */
  issues: RowIssue[];
  issuesTotal: number;
  /** Columns of the file that are not the template's: ignored (a Reason column of a failed-rows file, say). */
  ignoredColumns: string[];
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

type Parsed =
  { ok: true; timeZone?: string; rows: RawCallRow[]; ignoredColumns: string[] } | { ok: false; issues: RowIssue[] };

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
  return { ok: true, ...(timeZone !== undefined ? { timeZone } : {}), rows, ignoredColumns: [] };
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
  return {
    ok: true,
    ...(file.timeZone !== undefined ? { timeZone: file.timeZone } : {}),
    rows: file.rows,
    ignoredColumns: file.ignoredColumns,
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
      const prepared = await prepareCallImport(parsed, config, opts.payloadKey, opts.now?.() ?? Date.now());
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
        issuesTotal: prepared.issues.length,
        ignoredColumns: parsed.ignoredColumns,
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
    const workflowId = `${CALLS_HUBSPOT_PULL_FLOW}-manual-${new Date(opts.now?.() ?? Date.now()).toISOString()}`;
    let running: string | undefined;
    const started = await temporalCall(request.log, async () => {
      // One pull at a time, scheduled or by hand: two at once would read the same calls.
      running = (await runningCallPulls(opts.temporal))[0];
      if (running) return 'already-running';
      try {
        await opts.temporal.workflow.start(callsHubSpotPullWorkflow, {
          taskQueue: opts.taskQueue,
          workflowId,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          ...callPullStart(config, 'manual'),
          staticSummary: `HubSpot calls → Google Ads ${config.customerId} (pulled by hand)`,
        });
        return 'started';
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already-running';
        throw err;
      }
    });
    if (!started) return reply.code(503).send(TEMPORAL_UNAVAILABLE);
    return reply.code(started === 'started' ? 202 : 409).send({ status: started, workflowId: running ?? workflowId });
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

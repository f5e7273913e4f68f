// The Pendo import's operator routes (api key): run it now, see how the last night went and what runs next,
// and preview the mapping before the first real night.
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { z } from 'zod';
import { previewPendoImport, type PendoActivityDeps } from '../activities/pendo';
import { HubSpotError } from '../clients/hubspot/errors';
import { PendoHttpError } from '../clients/pendo/client';
import type { PendoConfig } from '../domain/pendo/config';
import { PendoFailure } from '../domain/pendo/types';
import { formatInZone } from '../domain/time-zones';
import {
  describePendoSchedule,
  lastFinishedPendoImport,
  PENDO_SCHEDULE_ID,
  runningPendoImports,
} from '../schedules/pendo-import';
import {
  manualPendoImportId,
  PENDO_IMPORT_FLOW,
  pendoImportStatusQuery,
  pendoImportWorkflow,
  type PendoImportResult,
  type PendoImportStatus,
} from '../workflows/pendo-import';
import { RelayAccount, RelayFlow, RelayStatus } from '../workflows/search-attributes';
import { toFieldIssues } from './validation';

export interface PendoRouteOptions {
  temporal: Client;
  taskQueue: string;
  /** The `pendo:` section; without it every route answers 503 saying so. */
  config?: PendoConfig;
  /** HubSpot and Pendo clients for the preview. */
  clients?: Pick<PendoActivityDeps, 'hubspot' | 'pendo'>;
  now?: () => number;
}

export type SyncAnswer = { status: 'started' | 'already-running'; workflowId: string };

/** Starts a manual import unless one is running (then names it). */
export async function startManualPendoImport(opts: PendoRouteOptions, config: PendoConfig): Promise<SyncAnswer> {
  const running = await runningPendoImports(opts.temporal);
  if (running[0]) return { status: 'already-running', workflowId: running[0].workflowId };
  const workflowId = manualPendoImportId(new Date(opts.now?.() ?? Date.now()));
  try {
    await opts.temporal.workflow.start(pendoImportWorkflow, {
      taskQueue: opts.taskQueue,
      workflowId,
      args: [{ trigger: 'manual' }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: RelayFlow, value: PENDO_IMPORT_FLOW },
        { key: RelayAccount, value: `pendo-${config.region}` },
        { key: RelayStatus, value: 'STARTING' },
      ],
      staticSummary: 'Manual HubSpot → Pendo import ("sync now")',
    });
    return { status: 'started', workflowId };
  } catch (err) {
    // Started by another request in the same second: the same run.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { status: 'already-running', workflowId };
    throw err;
  }
}

export interface RunView {
  workflowId: string;
  /** RelayStatus: STARTING … COMPLETED, COMPLETED_WITH_FAILURES, SKIPPED, FAILED. */
  state: string;
  running: boolean;
  startedAt?: string;
  finishedAt?: string;
  levels?: PendoImportStatus['levels'];
  error?: string;
}

const QUERY_TIMEOUT_MS = 5_000;

/** One import as an operator reads it: the live status of a running one, the outcome of a finished one. */
export async function pendoRunView(temporal: Client, workflowId: string): Promise<RunView> {
  const handle = temporal.workflow.getHandle<typeof pendoImportWorkflow>(workflowId);
  const d = await handle.describe();
  const state = d.typedSearchAttributes.get(RelayStatus) ?? d.status.name;
  if (d.status.name === 'RUNNING') {
    const status = await Promise.race([
      handle.query(pendoImportStatusQuery).catch(() => undefined),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), QUERY_TIMEOUT_MS).unref()),
    ]);
    return {
      workflowId,
      state: status?.state ?? state,
      running: true,
      startedAt: status?.startedAt ?? d.startTime.toISOString(),
      ...(status ? { levels: status.levels } : {}),
    };
  }
  let result: PendoImportResult | undefined;
  let error: string | undefined;
  try {
    result = await handle.result();
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === PendoFailure.CompletedWithFailures) {
      result = cause.details?.[0] as PendoImportResult | undefined;
    }
    error = cause instanceof ApplicationFailure ? `${cause.type ?? 'Failure'}: ${cause.message}` : String(err);
  }
  return {
    workflowId,
    state,
    running: false,
    startedAt: result?.startedAt ?? d.startTime.toISOString(),
    ...(result?.finishedAt || d.closeTime ? { finishedAt: result?.finishedAt ?? d.closeTime?.toISOString() } : {}),
    ...(result ? { levels: result.levels } : {}),
    ...(error ? { error } : {}),
  };
}

export interface PendoStatusView {
  timeZone: string;
  window: string;
  schedule?: { id: string; paused: boolean; nextStart?: string; nextStartUtc?: string; note?: string };
  running?: RunView;
  lastRun?: RunView;
}

export async function pendoStatus(opts: PendoRouteOptions, config: PendoConfig): Promise<PendoStatusView> {
  const [schedule, running, last] = await Promise.all([
    describePendoSchedule(opts.temporal),
    runningPendoImports(opts.temporal),
    lastFinishedPendoImport(opts.temporal),
  ]);
  const next = schedule?.nextStarts[0];
  return {
    timeZone: config.timeZone,
    window: config.window.text,
    ...(schedule
      ? {
          schedule: {
            id: PENDO_SCHEDULE_ID,
            paused: schedule.paused,
            ...(next && !schedule.paused
              ? { nextStart: formatInZone(next.getTime(), config.timeZone), nextStartUtc: next.toISOString() }
              : {}),
            ...(schedule.note ? { note: schedule.note } : {}),
          },
        }
      : {}),
    ...(running[0] ? { running: await pendoRunView(opts.temporal, running[0].workflowId) } : {}),
    ...(last ? { lastRun: await pendoRunView(opts.temporal, last.workflowId) } : {}),
  };
}

const previewQuerySchema = z.strictObject({
  level: z.enum(['visitor', 'account']).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
});

const TEMPORAL_UNAVAILABLE = { error: 'Temporal is unavailable; retry the request' };

/** A Temporal call of a route; undefined (answered 503) when the server cannot be reached. */
async function temporalCall<T>(log: FastifyBaseLogger, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    log.error({ error: (err as Error).name }, 'Temporal call of a Pendo route failed');
    return undefined;
  }
}

const NOT_CONFIGURED = { error: 'the Pendo import is not configured: add a pendo section to the RELAY_CONFIG file' };

export function registerPendoRoutes(app: FastifyInstance, opts: PendoRouteOptions): void {
  app.post('/v1/pendo/sync', async (request, reply) => {
    if (!opts.config) return reply.code(503).send(NOT_CONFIGURED);
    const config = opts.config;
    const answer = await temporalCall(request.log, () => startManualPendoImport(opts, config));
    if (!answer) return reply.code(503).send(TEMPORAL_UNAVAILABLE);
    return reply.code(answer.status === 'started' ? 202 : 409).send(answer);
  });

  app.get('/v1/pendo/status', async (request, reply) => {
    if (!opts.config) return reply.code(503).send(NOT_CONFIGURED);
    const config = opts.config;
    const status = await temporalCall(request.log, () => pendoStatus(opts, config));
    return status ? reply.send(status) : reply.code(503).send(TEMPORAL_UNAVAILABLE);
  });

  app.get<{ Params: { workflowId: string } }>('/v1/pendo/runs/:workflowId', async (request, reply) => {
    const id = request.params.workflowId;
    if (!id.startsWith(`${PENDO_IMPORT_FLOW}-`)) {
      return reply
        .code(400)
        .send({ error: 'invalid request', issues: [{ field: 'workflowId', message: 'not a Pendo import' }] });
    }
    try {
      return reply.send(await pendoRunView(opts.temporal, id));
    } catch (err) {
      if ((err as { name?: string }).name === 'WorkflowNotFoundError')
        return reply.code(404).send({ error: `no import ${id}` });
      throw err;
    }
  });

  app.get('/v1/pendo/preview', async (request, reply) => {
    if (!opts.config || !opts.clients) return reply.code(503).send(NOT_CONFIGURED);
    const query = previewQuerySchema.safeParse(request.query);
    if (!query.success) return reply.code(400).send({ error: 'invalid request', issues: toFieldIssues(query.error) });
    try {
      const levels = await previewPendoImport({ config: opts.config, ...opts.clients }, query.data);
      // Pendo ids and CRM values, for the operator who asked: never cached, never logged.
      return await reply.header('cache-control', 'no-store').send({ levels });
    } catch (err) {
      // A vendor's failure is not ours: 502 with the classified message (it never quotes a body).
      if (err instanceof HubSpotError || err instanceof PendoHttpError)
        return reply.code(502).send({ error: err.message });
      throw err;
    }
  });
}

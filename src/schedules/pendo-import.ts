// The nightly Pendo import's Temporal Schedule: its id, its spec (a daily cron at the window's start in the
// subscription's zone, jitter inside the window, overlap SKIP, an explicit catch-up window) and an idempotent
// apply, run by the worker at start and by `relay pendo schedule apply`.
import { ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { configuredLevels, pendoScheduleSpec, type PendoConfig } from '../domain/pendo/config';
import { RelayAccount, RelayFlow, RelayStatus } from '../workflows/search-attributes';
import { PENDO_IMPORT_FLOW, type pendoImportWorkflow } from '../workflows/pendo-import';
import { applySchedule, describeSchedule, type ApplyOutcome } from './apply';

export const PENDO_SCHEDULE_ID = 'pendo-import';
/** Scheduled runs get the action time appended: `pendo-import-2026-12-02T00:07:31Z`. */
export const PENDO_SCHEDULED_WORKFLOW_ID = 'pendo-import';

export type { ApplyOutcome };

export interface PendoScheduleOptions {
  taskQueue: string;
  /** The `pendo:` section; absent pauses an existing schedule (nothing is deleted). */
  config?: PendoConfig;
}

const NOTE_PREFIX = 'martech-relay';
const PAUSED_NOTE = `${NOTE_PREFIX}: paused because RELAY_CONFIG has no pendo section`;

const duration = (ms: number) => {
  const m = Math.round(ms / 60_000);
  return m % 60 === 0 ? `${m / 60}h` : m >= 60 ? `${Math.floor(m / 60)}h${m % 60}m` : `${m}m`;
};

/**
 * What the schedule should be, as one line. It is kept as the schedule's note (visible in the Web UI), and
 * comparing it is how `apply` knows whether anything changed: the server rewrites a cron into calendars.
 */
export function pendoScheduleNote(opts: Required<PendoScheduleOptions>): string {
  const spec = pendoScheduleSpec(opts.config);
  return (
    `${NOTE_PREFIX}: nightly in ${spec.timezone} window ${opts.config.window.text}, cron "${spec.cron}", ` +
    `jitter ${duration(spec.jitterMs)}, catch-up ${duration(spec.catchupWindowMs)}, task queue ${opts.taskQueue}`
  );
}

function scheduleBody(opts: Required<PendoScheduleOptions>) {
  const spec = pendoScheduleSpec(opts.config);
  const levels = configuredLevels(opts.config);
  const action: ScheduleOptionsStartWorkflowAction<typeof pendoImportWorkflow> = {
    type: 'startWorkflow',
    workflowType: 'pendoImportWorkflow',
    workflowId: PENDO_SCHEDULED_WORKFLOW_ID,
    taskQueue: opts.taskQueue,
    args: [{ trigger: 'schedule' }],
    typedSearchAttributes: [
      { key: RelayFlow, value: PENDO_IMPORT_FLOW },
      { key: RelayAccount, value: `pendo-${opts.config.region}` },
      { key: RelayStatus, value: 'STARTING' },
    ],
    staticSummary: `Nightly HubSpot → Pendo import (${levels.join(' and ')})`,
  };
  return {
    spec: { cronExpressions: [spec.cron], timezone: spec.timezone, jitter: spec.jitterMs },
    action,
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: spec.catchupWindowMs, pauseOnFailure: false },
  };
}

/** Creates the schedule, updates it when the config changed, or pauses it when the config has no pendo section. */
export async function applyPendoSchedule(client: Client, opts: PendoScheduleOptions): Promise<ApplyOutcome> {
  if (!opts.config) return applySchedule(client, PENDO_SCHEDULE_ID, undefined, PAUSED_NOTE);
  const full = { taskQueue: opts.taskQueue, config: opts.config };
  return applySchedule(
    client,
    PENDO_SCHEDULE_ID,
    { body: scheduleBody(full), note: pendoScheduleNote(full) },
    PAUSED_NOTE,
  );
}

export interface PendoScheduleInfo {
  /** The next starts the server plans, jitter included. */
  nextStarts: Date[];
  paused: boolean;
  note?: string;
}

export async function describePendoSchedule(client: Client): Promise<PendoScheduleInfo | undefined> {
  const d = await describeSchedule(client, PENDO_SCHEDULE_ID);
  if (!d) return undefined;
  return {
    nextStarts: d.info.nextActionTimes,
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
  };
}

// --------------------------------------------------------------------------------------------- runs

const FLOW_QUERY = `RelayFlow = "${PENDO_IMPORT_FLOW}"`;

export interface PendoRunSummary {
  workflowId: string;
  runId: string;
  startTime: Date;
  closeTime?: Date;
  relayStatus?: string;
}

async function listRuns(client: Client, query: string, max: number): Promise<PendoRunSummary[]> {
  const out: PendoRunSummary[] = [];
  for await (const w of client.workflow.list({ query, pageSize: max })) {
    out.push({
      workflowId: w.workflowId,
      runId: w.runId,
      startTime: w.startTime,
      ...(w.closeTime ? { closeTime: w.closeTime } : {}),
      ...(w.typedSearchAttributes.get(RelayStatus) ? { relayStatus: w.typedSearchAttributes.get(RelayStatus) } : {}),
    });
    if (out.length >= max) break;
  }
  return out;
}

/** Pendo imports running now, per Temporal's visibility (a continued run counts as the same import). */
export function runningPendoImports(client: Client): Promise<PendoRunSummary[]> {
  return listRuns(client, `${FLOW_QUERY} AND ExecutionStatus = "Running"`, 20);
}

/** The import that finished last, skipped runs aside; undefined before the first one. */
export async function lastFinishedPendoImport(client: Client): Promise<PendoRunSummary | undefined> {
  const closed = await listRuns(
    client,
    `${FLOW_QUERY} AND ExecutionStatus != "Running" AND ExecutionStatus != "ContinuedAsNew" AND RelayStatus != "SKIPPED"`,
    50,
  );
  return closed.sort((a, b) => (b.closeTime?.getTime() ?? 0) - (a.closeTime?.getTime() ?? 0))[0];
}

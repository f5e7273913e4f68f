// The regular HubSpot → Google Ads call pull's Temporal Schedule: its id, its spec (an interval of
// `calls.hubspot.every`, overlap SKIP, a catch-up window of one interval) and an idempotent apply, run by the
// worker at start and by `relay calls schedule apply`. Also where a pull finds the previous one's watermark.
import { ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { CallsConfig } from '../domain/calls/config';
import { CALLS_HUBSPOT_PULL_FLOW } from '../domain/calls/types';
import type { callsHubSpotPullWorkflow } from '../workflows/calls-hubspot-pull';
import { RelayAccount, RelayFlow, RelayStatus } from '../workflows/search-attributes';
import { applySchedule, type ApplyOutcome } from './apply';

export const CALLS_SCHEDULE_ID = 'calls-hubspot-pull';
/** Scheduled runs get the action time appended: `calls-hubspot-pull-2026-12-02T10:00:00Z`. */
export const CALLS_SCHEDULED_WORKFLOW_ID = 'calls-hubspot-pull';

export interface CallsScheduleOptions {
  taskQueue: string;
  /** The `calls:` section; without `calls.hubspot` an existing schedule is paused (nothing is deleted). */
  config?: CallsConfig;
}

const NOTE_PREFIX = 'martech-relay';
const PAUSED_NOTE = `${NOTE_PREFIX}: paused because RELAY_CONFIG has no calls.hubspot section`;

type Configured = { taskQueue: string; config: CallsConfig & { hubspot: NonNullable<CallsConfig['hubspot']> } };

/** What the schedule should be, as one line: kept as the schedule's note, and how apply sees a change. */
export function callsScheduleNote(opts: Configured): string {
  const h = opts.config.hubspot;
  const outcomes = Object.entries(h.outcomes)
    .map(([label, name]) => `${label}→${name}`)
    .join(', ');
  return (
    `${NOTE_PREFIX}: HubSpot calls every ${h.every} into ${opts.config.customerId}` +
    `${opts.config.loginCustomerId ? ` via ${opts.config.loginCustomerId}` : ''} (${outcomes}), task queue ${opts.taskQueue}`
  );
}

/** The input and search attributes of a pull, started by the schedule or by hand. */
export function callPullStart(config: CallsConfig, trigger: 'schedule' | 'manual') {
  return {
    args: [
      {
        trigger,
        customerId: config.customerId,
        timeZone: config.timeZone,
        ...(config.loginCustomerId ? { loginCustomerId: config.loginCustomerId } : {}),
      },
    ] as Parameters<typeof callsHubSpotPullWorkflow>,
    typedSearchAttributes: [
      { key: RelayFlow, value: CALLS_HUBSPOT_PULL_FLOW },
      { key: RelayAccount, value: config.customerId },
      { key: RelayStatus, value: 'READING' },
    ],
  };
}

function scheduleBody(opts: Configured) {
  const { config } = opts;
  const action: ScheduleOptionsStartWorkflowAction<typeof callsHubSpotPullWorkflow> = {
    type: 'startWorkflow',
    workflowType: 'callsHubSpotPullWorkflow',
    workflowId: CALLS_SCHEDULED_WORKFLOW_ID,
    taskQueue: opts.taskQueue,
    ...callPullStart(config, 'schedule'),
    staticSummary: `HubSpot calls → Google Ads ${config.customerId}, every ${config.hubspot.every}`,
  };
  return {
    spec: { intervals: [{ every: config.hubspot.everyMs }] },
    action,
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: config.hubspot.everyMs,
      pauseOnFailure: false,
    },
  };
}

/** Creates the schedule, updates it when the config changed, or pauses it when the pull is not configured. */
export async function applyCallsSchedule(client: Client, opts: CallsScheduleOptions): Promise<ApplyOutcome> {
  const config = opts.config;
  if (!config?.hubspot) return applySchedule(client, CALLS_SCHEDULE_ID, undefined, PAUSED_NOTE);
  const full: Configured = { taskQueue: opts.taskQueue, config: { ...config, hubspot: config.hubspot } };
  return applySchedule(
    client,
    CALLS_SCHEDULE_ID,
    { body: scheduleBody(full), note: callsScheduleNote(full) },
    PAUSED_NOTE,
  );
}

/** Pulls running now (scheduled or by hand), newest first. */
export async function runningCallPulls(client: Client): Promise<string[]> {
  const ids: string[] = [];
  const query = `RelayFlow = "${CALLS_HUBSPOT_PULL_FLOW}" AND ExecutionStatus = "Running"`;
  for await (const w of client.workflow.list({ query, pageSize: 10 })) {
    ids.push(w.workflowId);
    if (ids.length >= 10) break;
  }
  return ids;
}

/** The watermark of the newest completed pull still in the namespace's retention, if any. */
export async function lastCompletedCallPull(
  client: Client,
  customerId: string,
): Promise<{ until: number; recent: Record<string, number> } | undefined> {
  const query = `RelayFlow = "${CALLS_HUBSPOT_PULL_FLOW}" AND RelayAccount = "${customerId}" AND ExecutionStatus = "Completed"`;
  // Visibility lists closed runs newest first; of the few newest, the furthest watermark wins (a manual pull may
  // close after a scheduled one that read further). A year of hourly runs is never read.
  const newest: { workflowId: string; runId: string }[] = [];
  for await (const w of client.workflow.list({ query, pageSize: 5 })) {
    newest.push({ workflowId: w.workflowId, runId: w.runId });
    if (newest.length >= 5) break;
  }
  let best: { until: number; recent: Record<string, number> } | undefined;
  for (const w of newest) {
    const r = await client.workflow.getHandle<typeof callsHubSpotPullWorkflow>(w.workflowId, w.runId).result();
    if (!best || r.until > best.until) best = { until: r.until, recent: r.recent ?? {} };
  }
  return best;
}

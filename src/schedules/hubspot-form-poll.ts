// The HubSpot form polls' Temporal Schedules, one per form definition whose poll is on: `hubspot-form-poll-<id>`,
// an interval of the definition's `poll.every` (default 5m), overlap SKIP, a catch-up window of one interval.
// Applied by the worker at start (created, updated when the definition changed, paused when it is gone,
// switched off or its poll is). Also where a poll finds the previous one's watermark.
import { createHash } from 'node:crypto';
import { ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { HubSpotFormWatermark } from '../clients/hubspot/forms';
import { formPoll, type ConversionEventsConfig, type FormDefinition } from '../domain/conversion-events/definitions';
import { FORM_POLL_FLOW, formPollWorkflowId, type hubspotFormPollWorkflow } from '../workflows/hubspot-form-poll';
import { RelayAccount, RelayFlow, RelayStatus } from '../workflows/search-attributes';
import { applySchedule, type ApplyOutcome } from './apply';

const NOTE_PREFIX = 'martech-relay';
const PAUSED_NOTE = `${NOTE_PREFIX}: paused because RELAY_CONFIG no longer polls this form`;

export interface FormPollScheduleOptions {
  taskQueue: string;
  /** The conversion events; without them every form poll schedule is paused. */
  config?: ConversionEventsConfig;
  /** GOOGLE_ADS_ENHANCEMENT_SAFETY_MARGIN: part of each poll's input. */
  safetyMarginMs: number;
}

/** RelayAccount of a definition's polls: how the next poll finds the last one. */
export const formPollAccount = (definitionId: string) => `hubspot-form:${definitionId}`;

/** The form definitions whose submissions the relay reads from HubSpot. */
export function polledForms(config: ConversionEventsConfig | undefined): FormDefinition[] {
  return (
    (config?.definitions ?? [])
      .filter((d): d is FormDefinition => d.trigger.type === 'form_submission')
      // A manager account never receives enhancements (its form workflows end NOT_SENT): nothing to poll for.
      .filter((d) => d.enabled && d.managerAccount !== true && formPoll(d) !== undefined)
  );
}

/** The input and search attributes of a poll, started by its schedule or by hand. */
export function formPollStart(def: FormDefinition, safetyMarginMs: number, trigger: 'schedule' | 'manual') {
  return {
    args: [{ trigger, definition: def, safetyMarginMs }] as Parameters<typeof hubspotFormPollWorkflow>,
    typedSearchAttributes: [
      { key: RelayFlow, value: FORM_POLL_FLOW },
      { key: RelayAccount, value: formPollAccount(def.id) },
      { key: RelayStatus, value: 'READING' },
    ],
  };
}

function scheduleOf(def: FormDefinition, opts: FormPollScheduleOptions) {
  const poll = formPoll(def)!;
  const action: ScheduleOptionsStartWorkflowAction<typeof hubspotFormPollWorkflow> = {
    type: 'startWorkflow',
    workflowType: 'hubspotFormPollWorkflow',
    workflowId: formPollWorkflowId(def.id),
    taskQueue: opts.taskQueue,
    ...formPollStart(def, opts.safetyMarginMs, 'schedule'),
    staticSummary: `HubSpot form ${def.trigger.formId} → Google Ads enhancements (${def.id}), every ${poll.every}`,
  };
  // The definition travels in the action's input: any change of it (or of the margin) is a new note.
  const digest = createHash('sha256')
    .update(JSON.stringify([def, opts.safetyMarginMs]))
    .digest('hex')
    .slice(0, 16);
  return {
    body: {
      spec: { intervals: [{ every: poll.everyMs }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: poll.everyMs, pauseOnFailure: false },
    },
    note: `${NOTE_PREFIX}: form ${def.trigger.formId} (${def.id}) every ${poll.every}, task queue ${opts.taskQueue}, definition ${digest}`,
  };
}

/** Applies every form poll schedule the config asks for and pauses those it no longer does. */
export async function applyFormPollSchedules(
  client: Client,
  opts: FormPollScheduleOptions,
): Promise<{ scheduleId: string; outcome: ApplyOutcome }[]> {
  const wanted = polledForms(opts.config);
  const outcomes: { scheduleId: string; outcome: ApplyOutcome }[] = [];
  for (const def of wanted) {
    const scheduleId = formPollWorkflowId(def.id);
    outcomes.push({ scheduleId, outcome: await applySchedule(client, scheduleId, scheduleOf(def, opts), PAUSED_NOTE) });
  }
  const keep = new Set(outcomes.map((o) => o.scheduleId));
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(formPollWorkflowId('')) || keep.has(s.scheduleId)) continue;
    outcomes.push({
      scheduleId: s.scheduleId,
      outcome: await applySchedule(client, s.scheduleId, undefined, PAUSED_NOTE),
    });
  }
  return outcomes;
}

/** The watermark of the newest completed poll of a definition still in the namespace's retention, if any. */
export async function lastCompletedFormPoll(
  client: Client,
  definitionId: string,
): Promise<HubSpotFormWatermark | undefined> {
  const query = `RelayFlow = "${FORM_POLL_FLOW}" AND RelayAccount = "${formPollAccount(definitionId)}" AND ExecutionStatus = "Completed"`;
  // Of the few newest, the furthest watermark wins (a manual poll may close after a scheduled one).
  let best: HubSpotFormWatermark | undefined;
  let seen = 0;
  for await (const w of client.workflow.list({ query, pageSize: 5 })) {
    const r = await client.workflow.getHandle<typeof hubspotFormPollWorkflow>(w.workflowId, w.runId).result();
    if (r.watermark && (!best || r.watermark.submittedAtMs > best.submittedAtMs)) best = r.watermark;
    if (++seen >= 5) break;
  }
  return best;
}

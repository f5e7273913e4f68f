// Flow B fed by HubSpot itself: each run of a form definition's Schedule reads the form's submissions newer than
// the last completed run's watermark and starts one form workflow per submission (its id is the form and the
// order id, so a submission read twice starts once). The watermark is returned only after every submission
// before it was started: a run that fails or is cut short leaves the previous watermark, and the next run reads
// those submissions again (their starts answer "already started"). The form workflows are children that
// outlive the poll.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  continueAsNew,
  defineQuery,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { FormPollActivities, FormPollPage, PolledSubmission } from '../activities/hubspot-forms';
import type { HubSpotFormResume, HubSpotFormWatermark } from '../clients/hubspot/forms';
import type { FormDefinition } from '../domain/conversion-events/definitions';
import { googleAdsDateTime } from '../domain/google-ads/rules';
import { HUBSPOT_NON_RETRYABLE } from '../domain/hubspot/failures';
import { formEnhancementStart, formEnhancementWorkflow, type FormEnhancementInput } from './form-enhancement';
import { trackProgress } from './progress';

export const FORM_POLL_FLOW = 'hubspot-form-poll';

export interface FormPollInput {
  trigger: 'schedule' | 'manual';
  definition: FormDefinition;
  safetyMarginMs: number;
  /** Set by continue-as-new: where the run stands. */
  carried?: FormPollCarried;
}

interface FormPollCarried {
  since: HubSpotFormWatermark | null;
  resume: HubSpotFormResume;
  counts: FormPollCounts;
  skippedReasons: Record<string, number>;
}

export interface FormPollCounts {
  read: number;
  started: number;
  /** Already started by an earlier poll (or posted to the forms webhook with the same order id). */
  alreadyStarted: number;
  skipped: number;
  /** Submissions whose order id is their conversionId: the definition's orderIdField was empty or absent. */
  orderIdFromConversionId: number;
}

export interface FormPollResult extends FormPollCounts {
  formId: string;
  definitionId: string;
  /** Where the next poll starts; absent when the form has no submission in the window yet. */
  watermark?: HubSpotFormWatermark;
  /** Why submissions were not started, each reason with how many (never a value). */
  skippedReasons: Record<string, number>;
}

export type FormPollState = 'READING' | 'STARTING' | 'COMPLETED' | 'NOTHING_NEW' | 'FAILED';

export interface FormPollStatus extends FormPollCounts {
  state: FormPollState;
  formId: string;
  definitionId: string;
  pages: number;
  failure?: string;
}

export const formPollStatusQuery = defineQuery<FormPollStatus>('status');

/** The poll workflow of a definition: scheduled runs get the action time appended by the Schedule. */
export function formPollWorkflowId(definitionId: string): string {
  return `hubspot-form-poll-${definitionId}`;
}

/** Activity calls of one run before it continues as new (each reads up to 20 pages of 50). */
const CALLS_PER_RUN = 10;

const activities = proxyActivities<FormPollActivities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '1h',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    nonRetryableErrorTypes: HUBSPOT_NON_RETRYABLE,
  },
});

function enhancementInput(input: FormPollInput, s: PolledSubmission): FormEnhancementInput {
  return {
    formId: input.definition.trigger.formId,
    submissionId: s.orderId,
    submittedAtMs: s.submittedAtMs,
    conversionDateTime: googleAdsDateTime(s.submittedAtMs),
    ...(s.gclid ? { gclid: s.gclid } : {}),
    userIdentifiers: s.userIdentifiers,
    dropped: s.dropped,
    definition: input.definition,
    safetyMarginMs: input.safetyMarginMs,
  };
}

export async function hubspotFormPollWorkflow(input: FormPollInput): Promise<FormPollResult> {
  const def = input.definition;
  const counts: FormPollCounts = input.carried?.counts ?? {
    read: 0,
    started: 0,
    alreadyStarted: 0,
    skipped: 0,
    orderIdFromConversionId: 0,
  };
  const status: FormPollStatus = {
    state: 'READING',
    formId: def.trigger.formId,
    definitionId: def.id,
    pages: 0,
    ...counts,
  };
  setHandler(formPollStatusQuery, () => ({ ...status, ...counts }));
  const { report, settle } = trackProgress<FormPollState>(status, 'READING');
  const skippedReasons: Record<string, number> = input.carried?.skippedReasons ?? {};

  const since = input.carried ? input.carried.since : await activities.lastFormPoll({ definitionId: def.id });
  let resume = input.carried?.resume;
  report(
    'READING',
    `form ${def.trigger.formId}: submissions after ${since ? new Date(since.submittedAtMs).toISOString() : 'the start of the enhancement window'}`,
  );
  const taskQueue = workflowInfo().taskQueue;

  for (let call = 0; ; call++) {
    if (call >= CALLS_PER_RUN && resume) {
      // The cut is safe: the carried watermark is the one this run started from.
      await continueAsNew<typeof hubspotFormPollWorkflow>({
        ...input,
        carried: { since, resume, counts, skippedReasons },
      });
    }
    const page: FormPollPage = await activities.readNewFormSubmissions({
      definition: def,
      ...(since ? { watermark: since } : {}),
      ...(resume ? { resume } : {}),
      safetyMarginMs: input.safetyMarginMs,
    });
    status.pages += 1;
    counts.read += page.submissions.length + page.skipped.length;
    counts.skipped += page.skipped.length;
    for (const s of page.skipped) skippedReasons[s.reason] = (skippedReasons[s.reason] ?? 0) + 1;
    if (page.submissions.length > 0)
      report('STARTING', `${page.submissions.length} submission(s) of form ${def.trigger.formId}`);
    // Oldest first, so a run cut short has started everything before the point it reached.
    for (const s of page.submissions) {
      if (s.orderIdFrom === 'conversionId') counts.orderIdFromConversionId += 1;
      try {
        await startChild(formEnhancementWorkflow, {
          ...formEnhancementStart(enhancementInput(input, s), taskQueue),
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        counts.started += 1;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        counts.alreadyStarted += 1;
      }
    }
    if (page.complete) {
      const result: FormPollResult = {
        formId: def.trigger.formId,
        definitionId: def.id,
        ...counts,
        ...(page.watermark ? { watermark: page.watermark } : since ? { watermark: since } : {}),
        skippedReasons,
      };
      const summary = `${counts.started} started, ${counts.alreadyStarted} already started, ${counts.skipped} skipped`;
      if (counts.read === 0) settle('NOTHING_NEW', 'OK', `no new submission of form ${def.trigger.formId}`);
      else settle('COMPLETED', counts.skipped > 0 ? 'SKIPPED_SUBMISSIONS' : 'OK', summary);
      return result;
    }
    resume = page.resume;
  }
}

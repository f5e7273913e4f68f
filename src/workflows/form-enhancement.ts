// Flow B: one workflow per HubSpot form submission. Uploads a ConversionAdjustment ENHANCEMENT with the
// submission's hashed identifiers, before the original conversion is 24 hours old (less a margin).
import { ActivityFailure, defineQuery, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { GoogleAdsActivities } from '../activities/google-ads';
import { BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS } from '../domain/activity-timing';
import { uploadTaskQueue } from '../domain/task-queues';
import type { FormDefinition } from '../domain/conversion-events/definitions';
import { ENHANCEMENT_WINDOW_MS, Ineligible, type IneligibleReason } from '../domain/google-ads/rules';
import type { EnhancementAdjustmentRow, GoogleAdsUserIdentifier } from '../domain/google-ads/types';
import type { DroppedIdentifier } from '../domain/identifiers/types';
import { activityFailureCause, outageOf, retriesHitDeadline, trackProgress } from './progress';
import { GoogleAdsFailure } from '../domain/google-ads/failures';
import { formIdKey } from '../domain/ids';
import { RelayAccount, RelayFlow } from './search-attributes';

export const FORM_ENHANCEMENT_FLOW = 'hubspot-form-enhancement';

export interface FormEnhancementInput {
  formId: string;
  /** The submission id: the order id of the original conversion. */
  submissionId: string;
  submittedAtMs: number;
  /** `yyyy-mm-dd hh:mm:ss±hh:mm`, as the site recorded the conversion. */
  conversionDateTime: string;
  userAgent?: string;
  gclid?: string;
  userIdentifiers: GoogleAdsUserIdentifier[];
  dropped: DroppedIdentifier[];
  definition: FormDefinition;
  safetyMarginMs: number;
}

/** VALIDATED: a dry run (GOOGLE_ADS_VALIDATE_ONLY); Google accepted the enhancement and stored nothing. */
export type FormEnhancementState =
  | 'UPLOADING'
  | 'WAITING_TO_RETRY'
  /** A credentials or configuration outage of the account: parked until it is tried again. */
  | 'WAITING_FOR_CREDENTIALS'
  | 'ENHANCED'
  | 'VALIDATED'
  | 'NOT_SENT'
  | 'FAILED';

export interface FormEnhancementStatus {
  state: FormEnhancementState;
  definitionId: string;
  deadline: string;
  attempts: number;
  identifiers: string[];
  dropped: DroppedIdentifier[];
  notSent?: { reason: IneligibleReason; detail: string };
  lastError?: string;
  nextAttemptAt?: string;
  failure?: string;
}

export type FormEnhancementResult =
  | { outcome: 'ENHANCED' | 'ALREADY_ENHANCED' | 'VALIDATED'; attempts: number }
  | { outcome: 'NOT_SENT'; reason: IneligibleReason; detail: string };

export const formEnhancementStatusQuery = defineQuery<FormEnhancementStatus>('status');

/**
 * One workflow per submission: the form id in one spelling (GUIDs compare without regard to case) and the
 * order id, last. A HubSpot form id is a fixed-length GUID, so the two parts never run into each other.
 */
export function formWorkflowId(formId: string, submissionId: string): string {
  return `hubspot-form-${formIdKey(formId)}-${submissionId}`;
}

/**
 * How a form submission's workflow is started, by the api's forms endpoint and by the HubSpot forms poll
 * alike: the same id, policies, search attributes and summary.
 */
export function formEnhancementStart(input: FormEnhancementInput, taskQueue: string) {
  return {
    workflowId: formWorkflowId(input.formId, input.submissionId),
    taskQueue,
    args: [input] as [FormEnhancementInput],
    // A failed enhancement may be submitted again; a running or enhanced one never runs twice.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' as const,
    workflowIdConflictPolicy: 'FAIL' as const,
    typedSearchAttributes: [
      { key: RelayFlow, value: FORM_ENHANCEMENT_FLOW },
      { key: RelayAccount, value: `google-ads:${input.definition.customerId}` },
    ],
    staticSummary: `HubSpot form ${input.formId} → Google Ads enhancement · order ${input.submissionId}`,
  };
}

export async function formEnhancementWorkflow(input: FormEnhancementInput): Promise<FormEnhancementResult> {
  const def = input.definition;
  const deadlineMs = input.submittedAtMs + ENHANCEMENT_WINDOW_MS - input.safetyMarginMs;
  const status: FormEnhancementStatus = {
    state: 'UPLOADING',
    definitionId: def.id,
    deadline: new Date(deadlineMs).toISOString(),
    attempts: 0,
    identifiers: input.userIdentifiers.map((u) => Object.keys(u)[0] ?? ''),
    dropped: input.dropped,
  };
  setHandler(formEnhancementStatusQuery, () => status);
  // Uploading and enhanced at the first try write no search attribute (see trackProgress).
  const { report, settle, succeedOtherwise, fail, park } = trackProgress<FormEnhancementState>(status, 'UPLOADING', [
    'UPLOADING',
    'ENHANCED',
  ]);
  const notSent = (reason: IneligibleReason, detail: string): FormEnhancementResult => {
    status.notSent = { reason, detail };
    settle('NOT_SENT', reason, `${reason}: ${detail}`);
    return { outcome: 'NOT_SENT', reason, detail };
  };

  if (def.managerAccount) {
    return notSent(
      Ineligible.ManagerAccount,
      'Google Ads does not accept enhanced conversions for web on manager (MCC) accounts; nothing is uploaded',
    );
  }
  if (!def.enabled) return notSent(Ineligible.DefinitionDisabled, 'the conversion event is switched off');

  const row: EnhancementAdjustmentRow = {
    customerId: def.customerId,
    loginCustomerId: def.loginCustomerId,
    conversionAction: def.trigger.conversionAction,
    orderId: input.submissionId,
    conversionDateTime: input.conversionDateTime,
    ...(input.gclid ? { gclid: input.gclid } : {}),
    ...(input.userAgent ? { userAgent: input.userAgent } : {}),
    ...(def.value.type === 'custom'
      ? { restatement: { adjustedValue: def.value.amount, currencyCode: def.value.currency } }
      : {}),
    userIdentifiers: input.userIdentifiers,
  };

  for (;;) {
    const now = Date.now();
    if (now >= deadlineMs) {
      fail(GoogleAdsFailure.DeadlineExceeded, `not enhanced before ${status.deadline} (24 h less the margin)`);
    }
    status.attempts += 1;
    status.nextAttemptAt = undefined;
    report('UPLOADING', `attempt ${status.attempts}, order ${input.submissionId}`);
    // Transient and quota errors are retried by Temporal, never past the deadline.
    const { uploadEnhancement } = proxyActivities<GoogleAdsActivities>({
      // Uploads have their own task queue, served with enough slots for full batches.
      taskQueue: uploadTaskQueue(workflowInfo().taskQueue),
      startToCloseTimeout: '5m',
      // The upload heartbeats while its row waits in the batcher: a dead worker's attempt is retried in seconds.
      heartbeatTimeout: BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS,
      scheduleToCloseTimeout: deadlineMs - now,
      retry: {
        initialInterval: '10s',
        backoffCoefficient: 2,
        maximumInterval: '10m',
        nonRetryableErrorTypes: [GoogleAdsFailure.InvalidRequest],
      },
    });
    let result;
    try {
      result = await uploadEnhancement(row);
    } catch (err) {
      const outage = outageOf(err);
      if (outage) {
        if (outage.retryAtMs >= deadlineMs) {
          fail(GoogleAdsFailure.DeadlineExceeded, `${outage.type} until past ${status.deadline}: ${outage.message}`);
        }
        await park(outage);
        continue;
      }
      if (retriesHitDeadline(err) || Date.now() >= deadlineMs) {
        const last = err instanceof ActivityFailure ? (err.cause?.message ?? '') : '';
        fail(GoogleAdsFailure.DeadlineExceeded, `still failing at ${status.deadline}: ${last}`);
      }
      const cause = activityFailureCause(err);
      if (cause) fail(cause.type, cause.message);
      throw err;
    }
    switch (result.outcome) {
      case 'UPLOADED':
        report('ENHANCED', `enhanced order ${input.submissionId}`);
        return { outcome: 'ENHANCED', attempts: status.attempts };
      case 'VALIDATED':
        report(
          'VALIDATED',
          `dry run: Google Ads accepted the enhancement of order ${input.submissionId}, stored nothing`,
        );
        return { outcome: 'VALIDATED', attempts: status.attempts };
      case 'ALREADY_DONE':
        // Not the plain way: searchable by its code.
        succeedOtherwise('ENHANCED', result.code, `${result.code}: already enhanced`);
        return { outcome: 'ALREADY_ENHANCED', attempts: status.attempts };
      case 'PERMANENT':
        return fail(GoogleAdsFailure.Permanent, `${result.code}: ${result.message}`, result.code);
      case 'RETRY_LATER': {
        status.lastError = result.code;
        const waitMs = Math.min(result.delayMs, deadlineMs - Date.now());
        status.nextAttemptAt = new Date(Date.now() + waitMs).toISOString();
        report('WAITING_TO_RETRY', `${result.code}; next attempt at ${status.nextAttemptAt}`);
        await sleep(waitMs, { summary: `Google Ads answered ${result.code}` });
      }
    }
  }
}

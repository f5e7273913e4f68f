// Flow A: one workflow per (contact, lifecycle-stage change, conversion event definition). Reads the
// contact (hashed inside the activity), applies every rule, computes the value, and uploads a click
// conversion for Enhanced Conversions for Leads, reading its own row's outcome.
import { ActivityFailure, defineQuery, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { GoogleAdsActivities } from '../activities/google-ads';
import { BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS } from '../domain/activity-timing';
import { uploadTaskQueue } from '../domain/task-queues';
import type { HubSpotActivities } from '../activities/hubspot';
import type { ClickIdProperties, LifecycleDefinition } from '../domain/conversion-events/definitions';
import {
  conversionValue,
  googleAdsDateTime,
  Ineligible,
  lifecycleEligibility,
  lifecycleOrderId,
  pickClickId,
  type ClickIdType,
  type ConversionValue,
  type IneligibleReason,
} from '../domain/google-ads/rules';
import type { ClickConversionRow, GoogleAdsUserIdentifier } from '../domain/google-ads/types';
import type { DroppedIdentifier } from '../domain/identifiers/types';
import { activityFailureCause, outageOf, trackProgress } from './progress';
import { GoogleAdsFailure } from '../domain/google-ads/failures';
import { escapeIdPart } from '../domain/ids';

export const LIFECYCLE_CONVERSION_FLOW = 'hubspot-lifecycle-conversion';
/** TOO_RECENT_* answers are waited out with timers, but not forever. */
export const RETRY_LATER_LIMIT_MS = 3 * 24 * 3_600_000;

export interface LifecycleConversionInput {
  portalId: string;
  eventId: string;
  contactId: string;
  stage: string;
  /** When HubSpot saw the change (the webhook's occurredAt); the contact's own stage timestamp wins. */
  occurredAtMs: number;
  /** The definition as it was when the event arrived. */
  definition: LifecycleDefinition;
  /** The portal's contact properties for gbraid / wbraid, from the config's hubspot section. */
  clickIdProperties?: ClickIdProperties;
}

export type LifecycleState =
  | 'READING_CONTACT'
  | 'UPLOADING'
  | 'WAITING_TO_RETRY'
  /** A credentials or configuration outage of the account: parked until it is tried again. */
  | 'WAITING_FOR_CREDENTIALS'
  | 'UPLOADED'
  | 'ALREADY_UPLOADED'
  /** Dry run (GOOGLE_ADS_VALIDATE_ONLY): Google accepted the row and stored nothing. */
  | 'VALIDATED'
  | 'INELIGIBLE'
  | 'FAILED';

export interface LifecycleStatus {
  state: LifecycleState;
  definitionId: string;
  stage: string;
  stageChangedAt?: string;
  orderId?: string;
  value?: ConversionValue;
  identifiers?: string[];
  dropped?: DroppedIdentifier[];
  hasClickId?: boolean;
  /** Which click id the conversion carries. */
  clickIdType?: ClickIdType;
  /** When HubSpot first recorded the click id, if its history says: the click time the 90-day rule uses. */
  clickRecordedAt?: string;
  attempts: number;
  ineligible?: { reason: IneligibleReason; detail: string };
  lastError?: string;
  nextAttemptAt?: string;
  failure?: string;
}

export type LifecycleResult =
  | { outcome: 'UPLOADED' | 'ALREADY_UPLOADED' | 'VALIDATED'; orderId: string; attempts: number }
  | { outcome: 'INELIGIBLE'; reason: IneligibleReason; detail: string };

export const lifecycleStatusQuery = defineQuery<LifecycleStatus>('status');

/**
 * One workflow per business event — portal, contact, stage, when the change happened, definition — never per
 * webhook delivery: HubSpot delivers one change as contact.propertyChange and object.propertyChange, and
 * redelivers under new event ids. Portal and contact are canonical digits, the time is epoch ms, the stage is
 * escaped, and the definition id comes last, so different events never share an id.
 */
export function lifecycleWorkflowId(e: {
  portalId: string;
  contactId: string;
  stage: string;
  occurredAtMs: number;
  definitionId: string;
}): string {
  const stage = escapeIdPart(e.stage.trim().toLowerCase());
  return `hubspot-lifecycle-${e.portalId}-${e.contactId}-${stage}-${e.occurredAtMs}-${e.definitionId}`;
}

const hubspot = proxyActivities<HubSpotActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '1d',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    nonRetryableErrorTypes: ['HubSpotInvalid'],
  },
});

/** The upload goes to its own task queue (uploadTaskQueue), served with enough slots for full batches. */
const googleAds = () =>
  proxyActivities<GoogleAdsActivities>({
    taskQueue: uploadTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '5m',
    // The upload heartbeats while its row waits in the batcher: a dead worker's attempt is retried in seconds.
    heartbeatTimeout: BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS,
    scheduleToCloseTimeout: '1d',
    retry: {
      initialInterval: '10s',
      backoffCoefficient: 2,
      maximumInterval: '15m',
      nonRetryableErrorTypes: [GoogleAdsFailure.InvalidRequest],
    },
  });

export async function lifecycleConversionWorkflow(input: LifecycleConversionInput): Promise<LifecycleResult> {
  const def = input.definition;
  const status: LifecycleStatus = { state: 'READING_CONTACT', definitionId: def.id, stage: input.stage, attempts: 0 };
  setHandler(lifecycleStatusQuery, () => status);
  // Reading, uploading and uploaded at the first try write no search attribute (see trackProgress). A
  // failure's searchable reason is the Google Ads error code where there is one.
  const { report, settle, fail, park } = trackProgress<LifecycleState>(status, 'READING_CONTACT', [
    'READING_CONTACT',
    'UPLOADING',
    'UPLOADED',
  ]);
  const ineligible = (reason: IneligibleReason, detail: string): LifecycleResult => {
    status.ineligible = { reason, detail };
    settle('INELIGIBLE', reason, `${reason}: ${detail}`);
    return { outcome: 'INELIGIBLE', reason, detail };
  };

  /** An activity that gave up (non-retryable, or retried for a day) ends the workflow with its type. */
  // A credentials or configuration outage parks the workflow (WAITING_FOR_CREDENTIALS) and tries again, for as
  // long as a TOO_RECENT answer would be waited out.
  let parkedSince: number | undefined;
  async function activity<T>(call: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await call();
      } catch (err) {
        const outage = outageOf(err);
        if (outage) {
          parkedSince ??= Date.now();
          if (outage.retryAtMs - parkedSince > RETRY_LATER_LIMIT_MS) {
            fail(outage.type, `${outage.message} (for longer than the retry window)`);
          }
          await park(outage);
          continue;
        }
        const cause = activityFailureCause(err);
        if (cause) fail(cause.type, cause.message);
        if (err instanceof ActivityFailure) fail(`${err.activityType}Failed`, err.cause?.message ?? err.message);
        throw err;
      }
    }
  }

  if (!def.enabled) return ineligible(Ineligible.DefinitionDisabled, 'the conversion event is switched off');

  report('READING_CONTACT', `reading contact ${input.contactId}`);
  const contact = await activity(() =>
    hubspot.readContactForConversion({
      contactId: input.contactId,
      stage: input.stage,
      consentProperty: def.consent?.property,
      sharedFields: def.sharedFields,
      ...(input.clickIdProperties ? { clickIdProperties: input.clickIdProperties } : {}),
    }),
  );
  if (!contact.found) return ineligible(Ineligible.ContactNotFound, `contact ${input.contactId} does not exist`);

  // Click conversions accept hashed email and phone only; address data is for adjustments.
  const identifiers: GoogleAdsUserIdentifier[] = [];
  if (contact.hashed.hashedEmail) identifiers.push({ hashed_email: contact.hashed.hashedEmail });
  if (contact.hashed.hashedPhoneNumber) identifiers.push({ hashed_phone_number: contact.hashed.hashedPhoneNumber });
  const clickId = pickClickId(contact.clickIds);
  const stageChangedAtMs = contact.stageEnteredAt ? Date.parse(contact.stageEnteredAt) : input.occurredAtMs;
  status.stageChangedAt = new Date(stageChangedAtMs).toISOString();
  status.identifiers = identifiers.map((i) => Object.keys(i)[0] ?? '');
  status.dropped = contact.dropped;
  status.hasClickId = clickId !== undefined;
  if (clickId) status.clickIdType = Object.keys(clickId)[0] as ClickIdType;
  const clickRecordedAt = clickId && 'gclid' in clickId ? contact.clickIds.gclidRecordedAt : undefined;
  if (clickRecordedAt) status.clickRecordedAt = clickRecordedAt;

  const eligibility = lifecycleEligibility({
    enabled: def.enabled,
    definitionCreatedAtMs: Date.parse(def.createdAt),
    stageChangedAtMs,
    consent: def.consent,
    consentValue: contact.consentValue,
    contacts: def.contacts,
    hasClickId: clickId !== undefined,
    identifierCount: identifiers.length,
    // Known only when HubSpot's property history dates the click id; otherwise Google's EXPIRED_EVENT decides.
    ...(clickRecordedAt ? { clickAtMs: Date.parse(clickRecordedAt) } : {}),
  });
  if (!eligibility.eligible) return ineligible(eligibility.reason, eligibility.detail);

  const deal =
    def.value.type === 'deal_amount'
      ? await activity(() => hubspot.readMostRecentDeal({ contactId: input.contactId }))
      : null;
  const value = conversionValue(def.value, deal ?? undefined);
  status.value = value;

  const orderId = lifecycleOrderId(def.id, input.contactId, stageChangedAtMs);
  status.orderId = orderId;
  const row: ClickConversionRow = {
    customerId: def.customerId,
    loginCustomerId: def.loginCustomerId,
    conversionAction: def.trigger.conversionAction,
    conversionDateTime: googleAdsDateTime(stageChangedAtMs),
    conversionValue: value.value,
    currencyCode: value.currency,
    orderId,
    ...clickId,
    userIdentifiers: identifiers,
    // Consent is sent only when the definition checks a consent property; the check above passed.
    ...(def.consent ? { adUserDataConsent: 'GRANTED' as const } : {}),
  };

  const giveUpAt = Date.now() + RETRY_LATER_LIMIT_MS;
  for (;;) {
    status.attempts += 1;
    status.nextAttemptAt = undefined;
    report('UPLOADING', `attempt ${status.attempts}, order ${orderId}`);
    const result = await activity(() => googleAds().uploadClickConversion(row));
    switch (result.outcome) {
      case 'UPLOADED':
        report('UPLOADED', `uploaded as order ${orderId}, value ${value.value} ${value.currency}`);
        return { outcome: 'UPLOADED', orderId, attempts: status.attempts };
      case 'VALIDATED':
        report('VALIDATED', `dry run: Google Ads accepted order ${orderId} and stored nothing`);
        return { outcome: 'VALIDATED', orderId, attempts: status.attempts };
      case 'ALREADY_DONE':
        report('ALREADY_UPLOADED', `${result.code}: Google Ads already has order ${orderId}`);
        return { outcome: 'ALREADY_UPLOADED', orderId, attempts: status.attempts };
      case 'PERMANENT':
        return fail(GoogleAdsFailure.Permanent, `${result.code}: ${result.message}`, result.code);
      case 'RETRY_LATER': {
        status.lastError = result.code;
        if (Date.now() + result.delayMs > giveUpAt) {
          fail(GoogleAdsFailure.RetryWindowExpired, `${result.code} for longer than the retry window`);
        }
        status.nextAttemptAt = new Date(Date.now() + result.delayMs).toISOString();
        report('WAITING_TO_RETRY', `${result.code}; next attempt at ${status.nextAttemptAt}`);
        await sleep(result.delayMs, { summary: `Google Ads answered ${result.code}` });
      }
    }
  }
}

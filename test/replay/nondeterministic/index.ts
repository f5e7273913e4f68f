// Negative control for replay: every relay workflow type with its commands in another order. Replaying
// a real history against these must raise a determinism violation, or the replay test proves nothing.
import type { FormPollActivities } from '../../../src/activities/hubspot-forms';
import type { FormPollInput } from '../../../src/workflows/hubspot-form-poll';
import { proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { Cm360Activities } from '../../../src/activities/cm360';
import type { GoogleAdsActivities } from '../../../src/activities/google-ads';
import type { HubSpotActivities } from '../../../src/activities/hubspot';
import type { CallActivities } from '../../../src/activities/calls';
import type { PendoActivities } from '../../../src/activities/pendo';
import type { CallImportInput, CallImportPartInput } from '../../../src/workflows/call-import';
import type { CallsHubSpotPullInput } from '../../../src/workflows/calls-hubspot-pull';
import type { PendoImportInput } from '../../../src/workflows/pendo-import';
import type { Cm360EnhancementInput } from '../../../src/workflows/cm360-enhancement';
import type { FormEnhancementInput } from '../../../src/workflows/form-enhancement';
import type { LifecycleConversionInput } from '../../../src/workflows/lifecycle-conversion';
import { RelayStatus } from '../../../src/workflows/search-attributes';

/** Enhances before waiting for CM360 to index the conversion. */
export async function cm360EnhancementWorkflow(input: Cm360EnhancementInput): Promise<void> {
  const { enhanceCm360Conversion } = proxyActivities<Cm360Activities>({ startToCloseTimeout: '5m' });
  await enhanceCm360Conversion({ profileId: input.profileId, conversion: input.conversion });
  await sleep(input.timing.enhanceDelayMs);
}

/**
 * Reads the deal before the contact and ignores whether the definition is switched off. The first
 * command differs from every real history: an upsert (switched off) or reading the contact.
 */
export async function lifecycleConversionWorkflow(input: LifecycleConversionInput): Promise<void> {
  const hubspot = proxyActivities<HubSpotActivities>({ startToCloseTimeout: '1m' });
  await hubspot.readMostRecentDeal({ contactId: input.contactId });
  await hubspot.readContactForConversion({
    contactId: input.contactId,
    stage: input.stage,
    consentProperty: input.definition.consent?.property,
    sharedFields: input.definition.sharedFields,
  });
}

/**
 * Writes RelayStatus before the first upload (the status the api already set) and uploads to manager
 * accounts too. Real histories start with the upload, or with the NOT_SENT reason.
 */
export async function formEnhancementWorkflow(input: FormEnhancementInput): Promise<void> {
  const { uploadEnhancement } = proxyActivities<GoogleAdsActivities>({ startToCloseTimeout: '5m' });
  upsertSearchAttributes([{ key: RelayStatus, value: 'UPLOADING' }]);
  await uploadEnhancement({
    customerId: input.definition.customerId,
    conversionAction: input.definition.trigger.conversionAction,
    orderId: input.submissionId,
    userIdentifiers: input.userIdentifiers,
  });
}

/** Plans before it checks for a running import, on every run: the first command differs from every real run. */
export async function pendoImportWorkflow(_input: PendoImportInput): Promise<void> {
  const pendo = proxyActivities<PendoActivities>({ startToCloseTimeout: '1m' });
  await pendo.planPendoImport();
}

/** Waits a minute before it listens for its parts: real imports start with their RelayStatus upsert and details. */
export async function callImportWorkflow(_input: CallImportInput): Promise<void> {
  await sleep(60_000);
}

/** Uploads before it resolves the conversion names (and before it reports to its import). */
export async function callImportPartWorkflow(input: CallImportPartInput): Promise<void> {
  const calls = proxyActivities<CallActivities>({ startToCloseTimeout: '1m' });
  await calls.uploadCallConversions({ customerId: input.customerId, actions: {}, rows: input.rows });
}

/** Reads a page before it asks where the last pull stopped. */
export async function callsHubSpotPullWorkflow(_input: CallsHubSpotPullInput): Promise<void> {
  const calls = proxyActivities<CallActivities>({ startToCloseTimeout: '1m' });
  await calls.readHubSpotCallPage({ since: 0, firstRow: 1, maxRows: 10 });
}

/** Reads submissions before it asks where the last poll stopped. */
export async function hubspotFormPollWorkflow(input: FormPollInput): Promise<void> {
  const forms = proxyActivities<FormPollActivities>({ startToCloseTimeout: '1m' });
  await forms.readNewFormSubmissions({ definition: input.definition, safetyMarginMs: input.safetyMarginMs });
}

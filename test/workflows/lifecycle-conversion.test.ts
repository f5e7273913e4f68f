// Flow A on the time-skipping test server: real workflow code, stub HubSpot activities, and the real
// Google Ads activity factory over scripted uploaders, so row and request errors go through the same
// classification as in production.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createGoogleAdsActivities } from '../../src/activities/google-ads';
import { HUBSPOT_CIRCUIT } from '../../src/activities/hubspot';
import { throughCircuit } from '../../src/activities/outage';
import { HubSpotError } from '../../src/clients/hubspot/errors';
import { OutageCircuits } from '../../src/clients/shared/circuit';
import type {
  ContactReadResult,
  ContactSnapshot,
  HubSpotActivities,
  ReadContactRequest,
} from '../../src/activities/hubspot';
import type { HubSpotDeal } from '../../src/clients/hubspot/client';
import { GoogleAdsRequestError } from '../../src/clients/google-ads/errors';
import type { LifecycleDefinition } from '../../src/domain/conversion-events/definitions';
import { GOOGLE_ADS_TOO_RECENT_DELAY_MS } from '../../src/domain/google-ads/classify';
import { Ineligible } from '../../src/domain/google-ads/rules';
import type { ClickConversionRow, GoogleAdsRowResult } from '../../src/domain/google-ads/types';
import {
  LIFECYCLE_CONVERSION_FLOW,
  RETRY_LATER_LIMIT_MS,
  lifecycleConversionWorkflow,
  lifecycleStatusQuery,
  type LifecycleConversionInput,
} from '../../src/workflows/lifecycle-conversion';
import { RelayAccount, RelayFlow, RelayStatus } from '../../src/workflows/search-attributes';
import {
  createTestWorker,
  createTimeSkippingEnv,
  expectCompleted as value,
  expectFailure as failure,
  observeRun,
  uniqueId,
} from '../helpers/temporal';
import { EMAIL_HASH, lifecycleDefinition, NAME_HASH, PHONE_HASH, rowError } from '../helpers/hubspot-google-ads';

const HOUR = 3_600_000;
const GCLID = 'Cj0KCQiA-test-gclid';
/** 2025-03-04 05:06:07 UTC, with a fraction Google's date-time format has no room for. */
const STAGE_ENTERED_AT = '2025-03-04T05:06:07.890Z';
const DAY = 86_400_000;
const STAGE_ENTERED_MS = Date.parse(STAGE_ENTERED_AT);
const ORDER_ID = `hs-sql-to-google-501-${STAGE_ENTERED_MS}`;

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

function contact(overrides: Partial<ContactSnapshot> = {}): ContactSnapshot {
  return {
    found: true,
    // The address is hashed by the activity, but click conversions must never carry it.
    hashed: {
      hashedEmail: EMAIL_HASH,
      hashedPhoneNumber: PHONE_HASH,
      address: { hashedFirstName: NAME_HASH, city: 'mountainview', countryCode: 'US' },
    },
    dropped: [{ field: 'lastName', reason: 'empty after normalization' }],
    clickIds: { gclid: GCLID },
    consentValue: 'True',
    stageEnteredAt: STAGE_ENTERED_AT,
    lifecycleStage: 'salesqualifiedlead',
    ...overrides,
  };
}

const deal = (overrides: Partial<HubSpotDeal> = {}): HubSpotDeal => ({
  id: 'deal-1',
  amount: 1000,
  probability: 0.4,
  closed: false,
  closedWon: false,
  ...overrides,
});

/** Answers each upload from a script that sees the attempt number (1-based). */
type Script = (attempt: number) => GoogleAdsRowResult | Error;

interface RunOptions {
  definition?: LifecycleDefinition;
  contact?: ContactReadResult;
  deal?: HubSpotDeal | null;
  script?: Script;
  occurredAtMs?: number;
  /** Replaces the contact read altogether. */
  contactRead?: HubSpotActivities['readContactForConversion'];
  /** The RelayStatus an earlier release of the api started the workflow with (today's sets none). */
  startedWithStatus?: string;
}

async function run(opts: RunOptions = {}) {
  const uploads: { row: ClickConversionRow; atMs: number }[] = [];
  const contactReads: ReadContactRequest[] = [];
  let dealReads = 0;
  const hubspot: HubSpotActivities = {
    readContactForConversion: (req) => {
      contactReads.push(req);
      if (opts.contactRead) return opts.contactRead(req);
      return Promise.resolve(opts.contact ?? contact());
    },
    readMostRecentDeal: () => {
      dealReads += 1;
      return Promise.resolve(opts.deal === undefined ? deal() : opts.deal);
    },
  };
  const script = opts.script ?? (() => ({ ok: true }));
  const googleAds = createGoogleAdsActivities({
    uploaders: {
      uploadClick: async (row) => {
        uploads.push({ row, atMs: await env.currentTimeMs() });
        const answer = script(uploads.length);
        if (answer instanceof Error) throw answer;
        return answer;
      },
      uploadEnhancement: () => Promise.reject(new Error('Flow A never uploads enhancements')),
    },
  });
  const { worker, taskQueue } = await createTestWorker(env, { ...hubspot, ...googleAds });
  const def = opts.definition ?? lifecycleDefinition();
  const input: LifecycleConversionInput = {
    portalId: '62515',
    eventId: uniqueId('event'),
    contactId: '501',
    stage: def.trigger.stage,
    occurredAtMs: opts.occurredAtMs ?? STAGE_ENTERED_MS + 2_000,
    definition: def,
  };
  // Started as the webhook route starts it, so the search attributes seen here are the ones operators see.
  const handle = await env.client.workflow.start(lifecycleConversionWorkflow, {
    taskQueue,
    workflowId: uniqueId('lifecycle'),
    args: [input],
    typedSearchAttributes: [
      { key: RelayFlow, value: LIFECYCLE_CONVERSION_FLOW },
      { key: RelayAccount, value: `google-ads:${def.customerId}` },
      ...(opts.startedWithStatus ? [{ key: RelayStatus, value: opts.startedWithStatus }] : []),
    ],
  });
  return { ...(await observeRun(worker, handle, lifecycleStatusQuery)), uploads, contactReads, dealReads };
}

describe('lifecycleConversionWorkflow: eligible contacts', () => {
  test('uploads one click conversion built from the contact, the deal and the definition', async () => {
    const r = await run();
    assert.deepEqual(value(r.outcome), { outcome: 'UPLOADED', orderId: ORDER_ID, attempts: 1 });
    assert.equal(r.uploads.length, 1);
    assert.deepEqual(r.uploads[0]!.row, {
      customerId: '1234567890',
      loginCustomerId: '9876543210',
      conversionAction: 'customers/1234567890/conversionActions/555',
      conversionDateTime: '2025-03-04 05:06:07+00:00',
      conversionValue: 400,
      currencyCode: 'EUR',
      orderId: ORDER_ID,
      gclid: GCLID,
      userIdentifiers: [{ hashed_email: EMAIL_HASH }, { hashed_phone_number: PHONE_HASH }],
      adUserDataConsent: 'GRANTED',
    });
    assert.deepEqual(r.contactReads, [
      {
        contactId: '501',
        stage: 'salesqualifiedlead',
        consentProperty: 'ads_consent',
        sharedFields: ['email', 'phone', 'firstName', 'address'],
      },
    ]);
    assert.equal(r.dealReads, 1);
    assert.equal(r.status.state, 'UPLOADED');
    assert.equal(r.status.attempts, 1);
    assert.deepEqual(r.status.value, { value: 400, currency: 'EUR', source: 'weighted-deal-amount' });
    assert.deepEqual(r.status.identifiers, ['hashed_email', 'hashed_phone_number']);
    assert.deepEqual(r.status.dropped, [{ field: 'lastName', reason: 'empty after normalization' }]);
    assert.equal(r.status.hasClickId, true);
    // The plain way writes no search attribute: start, two reads and the upload are its four Actions.
    assert.equal(r.relayStatus, undefined);
    assert.equal(r.relayReason, undefined);
    assert.deepEqual(r.upserts, []);
    assert.deepEqual(r.actions, { total: 4, byKind: { start: 1, activity: 3 } });
  });

  test('a workflow an earlier release started with RelayStatus keeps writing its changes', async () => {
    const r = await run({ startedWithStatus: 'READING_CONTACT' });
    assert.deepEqual(value(r.outcome), { outcome: 'UPLOADED', orderId: ORDER_ID, attempts: 1 });
    assert.equal(r.relayStatus, 'UPLOADED');
    assert.deepEqual(r.upserts, [['RelayStatus'], ['RelayStatus']]);
  });

  test('a click id HubSpot recorded 89 days before the stage change is still uploaded, and shown', async () => {
    const recorded = new Date(Date.parse(STAGE_ENTERED_AT) - 89 * DAY).toISOString();
    const r = await run({ contact: contact({ clickIds: { gclid: GCLID, gclidRecordedAt: recorded } }) });
    assert.equal(value(r.outcome).outcome, 'UPLOADED');
    assert.equal(r.uploads[0]!.row.gclid, GCLID);
    assert.equal(r.status.clickRecordedAt, recorded);
  });

  test('without a gclid the gbraid is the click id; a gclid wins over gbraid and wbraid', async () => {
    const braid = await run({ contact: contact({ clickIds: { gbraid: 'gb-1', wbraid: 'wb-1' } }) });
    assert.equal(value(braid.outcome).outcome, 'UPLOADED');
    const row = braid.uploads[0]!.row;
    assert.equal(row.gbraid, 'gb-1');
    assert.equal(row.gclid ?? row.wbraid, undefined);
    assert.equal(braid.status.clickIdType, 'gbraid');

    const wbraid = await run({ contact: contact({ clickIds: { wbraid: 'wb-1' } }) });
    assert.equal(wbraid.uploads[0]!.row.wbraid, 'wb-1');

    const all = await run({ contact: contact({ clickIds: { gclid: GCLID, gbraid: 'gb-1', wbraid: 'wb-1' } }) });
    const allRow = all.uploads[0]!.row;
    assert.deepEqual([allRow.gclid, allRow.gbraid, allRow.wbraid], [GCLID, undefined, undefined]);
    assert.equal(all.status.clickIdType, 'gclid');
  });

  test('the same stage change gets the same order id in every run', async () => {
    const [a, b] = [await run(), await run()];
    assert.equal(a.uploads[0]!.row.orderId, b.uploads[0]!.row.orderId);
  });

  test('no gclid, a fixed value and no consent property: no gclid, no consent, no deal read', async () => {
    const r = await run({
      definition: lifecycleDefinition({ value: { type: 'custom', amount: 75.5, currency: 'USD' }, consent: undefined }),
      contact: contact({ clickIds: {}, consentValue: undefined, hashed: { hashedEmail: EMAIL_HASH } }),
    });
    assert.equal(value(r.outcome).outcome, 'UPLOADED');
    const row = r.uploads[0]!.row;
    assert.equal(row.conversionValue, 75.5);
    assert.equal(row.currencyCode, 'USD');
    assert.equal('gclid' in row, false);
    assert.equal('adUserDataConsent' in row, false);
    assert.deepEqual(row.userIdentifiers, [{ hashed_email: EMAIL_HASH }]);
    assert.equal(r.contactReads[0]!.consentProperty, undefined);
    assert.equal(r.dealReads, 0);
    assert.equal(r.status.hasClickId, false);
  });

  test('a gclid alone is enough when no shared field survived', async () => {
    const r = await run({ contact: contact({ hashed: {} }) });
    assert.equal(value(r.outcome).outcome, 'UPLOADED');
    assert.deepEqual(r.uploads[0]!.row.userIdentifiers, []);
    assert.equal(r.uploads[0]!.row.gclid, GCLID);
  });

  test("without the contact's stage timestamp, the webhook's occurredAt is the conversion time", async () => {
    const occurredAtMs = Date.parse('2025-06-07T08:09:10.111Z');
    const r = await run({ contact: contact({ stageEnteredAt: undefined }), occurredAtMs });
    assert.equal(value(r.outcome).outcome, 'UPLOADED');
    assert.equal(r.uploads[0]!.row.conversionDateTime, '2025-06-07 08:09:10+00:00');
    assert.equal(r.uploads[0]!.row.orderId, `hs-sql-to-google-501-${occurredAtMs}`);
  });
});

describe('lifecycleConversionWorkflow: ineligible contacts complete without an upload', () => {
  const cases: { name: string; reason: string; opts: RunOptions; readsContact: boolean }[] = [
    {
      name: 'definition switched off',
      reason: Ineligible.DefinitionDisabled,
      opts: { definition: lifecycleDefinition({ enabled: false }) },
      readsContact: false,
    },
    {
      name: 'stage entered before the definition was created (createdAt in +01:00)',
      reason: Ineligible.StageChangedBeforeDefinition,
      opts: { contact: contact({ stageEnteredAt: '2024-12-31T22:59:59.000Z' }) },
      readsContact: true,
    },
    {
      name: 'consent property holds another value',
      reason: Ineligible.NoConsent,
      opts: { contact: contact({ consentValue: 'false' }) },
      readsContact: true,
    },
    {
      name: 'consent property is empty',
      reason: Ineligible.NoConsent,
      opts: { contact: contact({ consentValue: undefined }) },
      readsContact: true,
    },
    {
      name: 'with_click_id definition, contact without a gclid',
      reason: Ineligible.NoClickId,
      opts: { definition: lifecycleDefinition({ contacts: 'with_click_id' }), contact: contact({ clickIds: {} }) },
      readsContact: true,
    },
    {
      name: 'neither a click id nor an email or phone (an address alone does not count)',
      reason: Ineligible.NoIdentifier,
      opts: {
        contact: contact({ clickIds: {}, hashed: { address: { hashedFirstName: NAME_HASH, countryCode: 'US' } } }),
      },
      readsContact: true,
    },
    {
      name: 'HubSpot recorded the click id more than 90 days before the stage change',
      reason: Ineligible.ClickTooOld,
      opts: {
        contact: contact({
          clickIds: { gclid: GCLID, gclidRecordedAt: new Date(Date.parse(STAGE_ENTERED_AT) - 91 * DAY).toISOString() },
        }),
      },
      readsContact: true,
    },
    {
      name: 'contact does not exist',
      reason: Ineligible.ContactNotFound,
      opts: { contact: { found: false } },
      readsContact: true,
    },
  ];

  for (const c of cases) {
    test(`${c.name} → ${c.reason}`, async () => {
      const r = await run(c.opts);
      const result = value(r.outcome);
      assert.equal(result.outcome, 'INELIGIBLE');
      assert.equal(result.outcome === 'INELIGIBLE' && result.reason, c.reason);
      assert.equal(r.uploads.length, 0, 'uploaded an ineligible conversion');
      assert.equal(r.dealReads, 0);
      assert.equal(r.contactReads.length, c.readsContact ? 1 : 0);
      assert.equal(r.status.state, 'INELIGIBLE');
      assert.equal(r.status.ineligible?.reason, c.reason);
      assert.equal(r.relayStatus, 'INELIGIBLE');
      assert.equal(r.relayReason, c.reason);
    });
  }
});

describe('lifecycleConversionWorkflow: HubSpot failures', () => {
  test('a HubSpot read that cannot succeed fails the workflow with its type, without an upload', async () => {
    const r = await run({
      contactRead: () =>
        Promise.reject(
          ApplicationFailure.create({ type: 'HubSpotInvalid', message: 'stage is not internal', nonRetryable: true }),
        ),
    });
    const f = failure(r.outcome);
    assert.equal(f.type, 'HubSpotInvalid');
    assert.equal(r.uploads.length, 0);
    assert.equal(r.relayReason, 'HubSpotInvalid');
  });
});

describe('lifecycleConversionWorkflow: a HubSpot credentials outage', () => {
  test('parks on a timer (5, then 10 minutes), visible as WAITING_FOR_CREDENTIALS, then reads and uploads', async () => {
    const circuits = new OutageCircuits();
    const readsAt: number[] = [];
    const revoked = new HubSpotError({ status: 401, kind: 'auth', retryable: false, operation: 'contacts.getById' });
    const r = await run({
      // The read goes through the process's circuit as createHubSpotActivities sends it.
      contactRead: async () => {
        readsAt.push(await env.currentTimeMs());
        return throughCircuit(
          circuits,
          HUBSPOT_CIRCUIT,
          () => (readsAt.length <= 2 ? Promise.reject(revoked) : Promise.resolve(contact())),
          (err) => (err === revoked ? { type: 'HubSpotAuthError', message: revoked.message } : undefined),
        );
      },
    });
    assert.deepEqual(value(r.outcome), { outcome: 'UPLOADED', orderId: ORDER_ID, attempts: 1 });
    // One read per attempt, parked in between: no 15-minute activity retries.
    const gaps = readsAt.slice(1).map((t, i) => Math.round((t - readsAt[i]!) / 60_000));
    assert.deepEqual(gaps, [5, 10]);
    assert.equal(r.uploads.length, 1);
    // Not the plain way: searchable afterwards by the outage it waited out.
    assert.equal(r.relayStatus, 'UPLOADED');
    assert.equal(r.relayReason, 'HubSpotAuthError');
    assert.equal(r.upserts.filter((keys) => keys.includes('RelayReason') && keys.includes('RelayStatus')).length, 2);
  });
});

describe('lifecycleConversionWorkflow: deal value falls back to the default', () => {
  const cases: { name: string; deal: HubSpotDeal | null }[] = [
    { name: 'no deal', deal: null },
    { name: 'closed lost', deal: deal({ closed: true, closedWon: false }) },
    { name: 'zero amount', deal: deal({ amount: 0 }) },
    { name: 'negative amount', deal: deal({ amount: -120 }) },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const r = await run({ deal: c.deal });
      assert.equal(value(r.outcome).outcome, 'UPLOADED');
      assert.equal(r.uploads[0]!.row.conversionValue, 50);
      assert.equal(r.uploads[0]!.row.currencyCode, 'EUR');
      assert.equal(r.status.value?.source, 'default');
    });
  }

  test('a closed-won deal counts in full', async () => {
    const r = await run({ deal: deal({ amount: 999.99, probability: 1, closed: true, closedWon: true }) });
    assert.equal(r.uploads[0]!.row.conversionValue, 999.99);
  });
});

describe('lifecycleConversionWorkflow: Google Ads answers', () => {
  test('TOO_RECENT_EVENT twice, then success: three attempts at least 6 hours apart', async () => {
    const r = await run({
      script: (n) => (n <= 2 ? rowError('conversion_upload_error', 'TOO_RECENT_EVENT') : { ok: true }),
    });
    assert.deepEqual(value(r.outcome), { outcome: 'UPLOADED', orderId: ORDER_ID, attempts: 3 });
    assert.equal(r.uploads.length, 3);
    for (let i = 1; i < r.uploads.length; i++) {
      const gap = r.uploads[i]!.atMs - r.uploads[i - 1]!.atMs;
      assert.ok(gap >= GOOGLE_ADS_TOO_RECENT_DELAY_MS, `attempt ${i + 1} only ${gap / HOUR} h after the previous`);
      assert.ok(gap < GOOGLE_ADS_TOO_RECENT_DELAY_MS + HOUR, `attempt ${i + 1} ${gap / HOUR} h after the previous`);
    }
    assert.equal(r.status.state, 'UPLOADED');
    assert.equal(r.status.lastError, 'conversion_upload_error.TOO_RECENT_EVENT');
  });

  test('TOO_RECENT_EVENT for three days ends in GoogleAdsRetryWindowExpired', async () => {
    const r = await run({ script: () => rowError('conversion_upload_error', 'TOO_RECENT_EVENT') });
    const f = failure(r.outcome);
    assert.equal(f.type, 'GoogleAdsRetryWindowExpired');
    const span = r.uploads.at(-1)!.atMs - r.uploads[0]!.atMs;
    assert.ok(span <= RETRY_LATER_LIMIT_MS, `kept trying for ${span / HOUR} h`);
    assert.ok(span >= RETRY_LATER_LIMIT_MS - GOOGLE_ADS_TOO_RECENT_DELAY_MS, `gave up after ${span / HOUR} h`);
    assert.equal(r.relayReason, 'GoogleAdsRetryWindowExpired');
  });

  for (const name of ['CLICK_CONVERSION_ALREADY_EXISTS', 'ORDER_ID_ALREADY_IN_USE']) {
    test(`${name} is a success: ALREADY_UPLOADED`, async () => {
      const r = await run({ script: () => rowError('conversion_upload_error', name) });
      const result = value(r.outcome);
      assert.equal(result.outcome, 'ALREADY_UPLOADED');
      assert.equal(r.uploads.length, 1);
      assert.equal(r.status.state, 'ALREADY_UPLOADED');
      assert.equal(r.relayStatus, 'ALREADY_UPLOADED');
    });
  }

  test('a dry run (validate_only) ends VALIDATED, never UPLOADED', async () => {
    const r = await run({ script: () => ({ ok: true, validateOnly: true }) });
    assert.deepEqual(value(r.outcome), { outcome: 'VALIDATED', orderId: ORDER_ID, attempts: 1 });
    assert.equal(r.status.state, 'VALIDATED');
    assert.equal(r.relayStatus, 'VALIDATED');
  });

  test('a permanent row error fails the workflow with the code, without retry', async () => {
    const r = await run({ script: () => rowError('conversion_upload_error', 'EXPIRED_EVENT') });
    const f = failure(r.outcome);
    assert.equal(f.type, 'GoogleAdsPermanentError');
    assert.match(f.message, /conversion_upload_error\.EXPIRED_EVENT/);
    assert.equal(r.uploads.length, 1);
    assert.equal(r.status.state, 'FAILED');
    assert.equal(r.relayStatus, 'FAILED');
    assert.equal(r.relayReason, 'conversion_upload_error.EXPIRED_EVENT');
  });

  test('a transient row error and a transient request error are retried, then success', async () => {
    const answers: (GoogleAdsRowResult | Error)[] = [
      rowError('internal_error', 'INTERNAL_ERROR'),
      new GoogleAdsRequestError({ kind: 'transient', grpcCode: 14, message: 'gRPC UNAVAILABLE (14)' }),
      { ok: true },
    ];
    const r = await run({ script: (n) => answers[n - 1] ?? { ok: true } });
    // Temporal retried the one activity: the workflow saw a single attempt.
    assert.deepEqual(value(r.outcome), { outcome: 'UPLOADED', orderId: ORDER_ID, attempts: 1 });
    assert.equal(r.uploads.length, 3);
  });

  test('a quota request error waits the retry delay Google asked for', async () => {
    const retryDelayMs = 2 * HOUR;
    const r = await run({
      script: (n) =>
        n === 1
          ? new GoogleAdsRequestError({ kind: 'quota', grpcCode: 8, message: 'RESOURCE_EXHAUSTED', retryDelayMs })
          : { ok: true },
    });
    assert.equal(value(r.outcome).outcome, 'UPLOADED');
    assert.equal(r.uploads.length, 2);
    const gap = r.uploads[1]!.atMs - r.uploads[0]!.atMs;
    assert.ok(gap >= retryDelayMs && gap < retryDelayMs + 5 * 60_000, `retried after ${gap / HOUR} h`);
  });

  test('a quota row error waits its retry delay in the workflow', async () => {
    const retryDelayMs = 3 * HOUR;
    const r = await run({
      script: (n) => (n === 1 ? rowError('quota_error', 'RESOURCE_EXHAUSTED', retryDelayMs) : { ok: true }),
    });
    assert.equal(value(r.outcome).outcome, 'UPLOADED');
    assert.equal(r.status.attempts, 2);
    const gap = r.uploads[1]!.atMs - r.uploads[0]!.atMs;
    assert.ok(gap >= retryDelayMs && gap < retryDelayMs + 5 * 60_000, `retried after ${gap / HOUR} h`);
  });

  test('an invalid request fails at once as GoogleAdsInvalidRequest', async () => {
    const r = await run({
      script: () => new GoogleAdsRequestError({ kind: 'invalid', grpcCode: 3, message: 'bad conversion action' }),
    });
    const f = failure(r.outcome);
    assert.equal(f.type, 'GoogleAdsInvalidRequest');
    assert.match(f.message, /bad conversion action/);
    assert.equal(r.uploads.length, 1);
    assert.equal(r.status.state, 'FAILED');
    assert.equal(r.relayReason, 'GoogleAdsInvalidRequest');
  });
});

// End to end on the Temporal CLI dev server: HubSpot's webhooks posted over HTTP to the real api, the real
// worker and activities, the real HubSpot SDK against the HubSpot emulator, and the real google-ads-api
// client over gRPC against the Google Ads emulator. Nothing is faked but the two vendors.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { v3Signature } from '../../src/api/hubspot-signature';
import { loadConfig } from '../../src/config/env';
import { startGoogleAdsEmulator, type GoogleAdsEmulator } from '../../src/sandbox/google-ads';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { startApi, startWorker, type RunningApi, type RunningWorker } from '../../src/workers/composition';
import {
  formEnhancementStatusQuery,
  type formEnhancementWorkflow,
  type FormEnhancementResult,
} from '../../src/workflows/form-enhancement';
import {
  lifecycleStatusQuery,
  type lifecycleConversionWorkflow,
  type LifecycleResult,
} from '../../src/workflows/lifecycle-conversion';
import { RelayFlow, RelayReason, RelayStatus } from '../../src/workflows/search-attributes';
import { countBillableActions } from '../../src/temporal/billable-actions';
import { runRelay } from '../helpers/cli';
import { createDevServerEnv, readableHistory, TEST_PAYLOAD_KEY, uniqueId } from '../helpers/temporal';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const FIXTURE = join(__dirname, '..', 'fixtures', 'hubspot-google-ads.yaml');
const API_KEY = 'e2e-key';
const CLIENT_SECRET = 'e2e-hubspot-client-secret';
const HUBSPOT_TOKEN = 'e2e-hubspot-token';
const DEVELOPER_TOKEN = 'e2e-developer-token';
const PORTAL = 62515;
const DEMO_FORM = '5f1c7a2e-8b3d-4c9e-a6f0-2d4b8e1c3a57';
const MCC_FORM = '0b9e4d61-3f2a-4e8c-9d17-6a5c2f8e4b90';

// Distinctive values, so finding one in a history cannot be a coincidence.
const PERSON = {
  email: ' Zelda.Quintanilla@Example.com ',
  normalizedEmail: 'zelda.quintanilla@example.com',
  phone: '+1 650-253-0000',
  e164: '+16502530000',
  firstname: 'Zelda',
  lastname: 'Quintanilla',
  address: '1600 Amphitheatre Pkwy',
};
const PLAINTEXT = [
  PERSON.email.trim(),
  PERSON.normalizedEmail,
  '650-253-0000',
  '6502530000',
  'Zelda',
  'zelda',
  'Quintanilla',
  'quintanilla',
  'Amphitheatre',
  'amphitheatre',
];

let env: TestWorkflowEnvironment;
let hubspot: HubSpotEmulator;
let googleAds: GoogleAdsEmulator;
let worker: RunningWorker;
let api: RunningApi;

before(async () => {
  env = await createDevServerEnv();
  hubspot = await startHubSpotEmulator({ accessToken: HUBSPOT_TOKEN });
  googleAds = await startGoogleAdsEmulator({
    developerToken: DEVELOPER_TOKEN,
    conversionActions: ['6512349871', '6512349873', '6512349874', '6512349876'],
  });
  const config = loadConfig({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    RELAY_TASK_QUEUE: uniqueId('e2e-hubspot'),
    RELAY_HTTP_PORT: '0',
    RELAY_WORKER_HTTP_PORT: '0',
    // A new uploader waits two refreshes before its first request (src/temporal/upload-share.ts).
    RELAY_UPLOAD_SHARE_REFRESH: '200ms',
    RELAY_API_KEY: API_KEY,
    RELAY_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    RELAY_PAYLOAD_KEY_ID: 'test-key',
    RELAY_DEFAULT_PHONE_REGION: 'US',
    RELAY_CONFIG: FIXTURE,
    HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
    HUBSPOT_API_BASE: hubspot.basePath,
    HUBSPOT_ACCESS_TOKEN: HUBSPOT_TOKEN,
    GOOGLE_ADS_ENDPOINT: `${googleAds.host}:${googleAds.port}`,
    GOOGLE_ADS_DEVELOPER_TOKEN: DEVELOPER_TOKEN,
    GOOGLE_ADS_CLIENT_ID: 'e2e-client-id',
    GOOGLE_ADS_CLIENT_SECRET: 'e2e-client-secret',
    GOOGLE_ADS_REFRESH_TOKEN: 'e2e-refresh-token',
    GOOGLE_ADS_BATCH_LINGER: '50ms',
  });
  worker = await startWorker(config);
  api = await startApi(config);
});

after(async () => {
  await api?.stop();
  await worker?.stop();
  await googleAds?.close();
  await hubspot?.close();
  await env?.teardown();
});

let nextEventId = 7_000;

function lifecycleEvent(contactId: string, stage: string, overrides: Record<string, unknown> = {}) {
  return {
    eventId: nextEventId++,
    subscriptionId: 1234,
    portalId: PORTAL,
    appId: 54321,
    occurredAt: Date.now(),
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: Number(contactId),
    changeSource: 'CRM',
    propertyName: 'lifecyclestage',
    propertyValue: stage,
    ...overrides,
  };
}

type WebhookAnswer = {
  started: { workflowId: string; status: 'started' | 'duplicate' }[];
  ignored: { eventId: string; reason: string }[];
};

/** Posts a batch the way HubSpot does: v3-signed over the exact bytes, method, full URL and a fresh timestamp. */
async function postWebhook(events: unknown[], secret = CLIENT_SECRET) {
  const url = `${api.url}/webhooks/hubspot`;
  const body = JSON.stringify(events);
  const timestamp = String(Date.now());
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': v3Signature(secret, 'POST', url, body, timestamp),
      'x-hubspot-request-timestamp': timestamp,
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as WebhookAnswer };
}

async function postForm(submission: unknown) {
  const res = await fetch(`${api.url}/webhooks/hubspot/forms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(submission),
  });
  return { status: res.status, body: (await res.json()) as { workflowId: string; status: string; dropped: unknown[] } };
}

/**
 * A decoded row as Google reads it. The library puts implicit-presence defaults ('' and enum 0) on the
 * wire, and proto3 cannot tell those from unset fields, so they are left out before comparing.
 */
function asGoogleReadsIt(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asGoogleReadsIt);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== '' && v !== 'UNSPECIFIED')
      .map(([k, v]) => [k, asGoogleReadsIt(v)]),
  );
}

const clicksWithOrderPrefix = (prefix: string) =>
  googleAds
    .uploaded()
    .clicks.filter((c) => c.conversion.order_id?.startsWith(prefix))
    .map((c) => asGoogleReadsIt(c.conversion));
const requestsMentioning = (text: string) => googleAds.requests.filter((r) => JSON.stringify(r.body).includes(text));
const contactReads = (contactId: string) =>
  hubspot.requests.filter((r) => r.path === `/crm/v3/objects/contacts/${contactId}`);

const lifecycleHandle = (workflowId: string) =>
  env.client.workflow.getHandle<typeof lifecycleConversionWorkflow>(workflowId);
const formHandle = (workflowId: string) => env.client.workflow.getHandle<typeof formEnhancementWorkflow>(workflowId);

async function assertNoPlaintext(handle: WorkflowHandle, mustContain: string[] = []) {
  const { text, encryptedPayloads } = await readableHistory(handle);
  assert.ok(encryptedPayloads > 0, 'the history holds encrypted payloads');
  // Proves the payloads were really read: what was hashed is there, what was not is not.
  for (const expected of mustContain) assert.ok(text.includes(expected), `history lacks ${expected}`);
  for (const secret of PLAINTEXT)
    assert.ok(!text.includes(secret), `history of ${handle.workflowId} contains ${secret}`);
}

describe('HubSpot → Google Ads, end to end', () => {
  test('a signed lifecycle change becomes exactly one click conversion with hashed identifiers', async () => {
    const contactId = '501';
    const enteredLead = '2026-11-20T09:08:07.654Z';
    hubspot.upsertContact(contactId, {
      email: PERSON.email,
      phone: PERSON.phone,
      firstname: PERSON.firstname,
      lastname: PERSON.lastname,
      address: PERSON.address,
      lifecyclestage: 'lead',
      hs_google_click_id: 'Cj0KCQiA-e2e-gclid-501',
      google_ads_consent: 'granted',
      hs_v2_date_entered_lead: enteredLead,
    });
    const event = lifecycleEvent(contactId, 'lead');
    const { status, body } = await postWebhook([event]);
    assert.equal(status, 200, JSON.stringify(body));
    const workflowId = `hubspot-lifecycle-${PORTAL}-${contactId}-lead-${event.occurredAt}-lead`;
    assert.deepEqual(body, {
      started: [{ workflowId, eventId: String(event.eventId), status: 'started' }],
      ignored: [],
      rejected: [],
    });

    const handle = lifecycleHandle(workflowId);
    const orderId = `hs-lead-${contactId}-${Date.parse(enteredLead)}`;
    assert.deepEqual(await handle.result(), { outcome: 'UPLOADED', orderId, attempts: 1 } satisfies LifecycleResult);

    const requests = requestsMentioning(orderId);
    assert.equal(requests.length, 1);
    const [request] = requests;
    assert.equal(request?.method, 'UploadClickConversions');
    assert.equal(request?.status, 0);
    assert.equal(request?.body.customer_id, '1234567890');
    assert.equal(request?.body.partial_failure, true);
    assert.equal(request?.metadata['developer-token'], DEVELOPER_TOKEN);
    assert.equal(request?.metadata['login-customer-id'], '1112223333');
    assert.deepEqual(clicksWithOrderPrefix(`hs-lead-${contactId}-`), [
      {
        conversion_action: 'customers/1234567890/conversionActions/6512349871',
        conversion_date_time: '2026-11-20 09:08:07+00:00',
        conversion_value: 10,
        currency_code: 'EUR',
        order_id: orderId,
        gclid: 'Cj0KCQiA-e2e-gclid-501',
        user_identifiers: [{ hashed_email: sha(PERSON.normalizedEmail) }, { hashed_phone_number: sha(PERSON.e164) }],
        consent: { ad_user_data: 'GRANTED' },
      },
    ]);

    // The definition shares email and phone: the names and street are never even read from HubSpot.
    const [read] = contactReads(contactId);
    const asked = new Set([read?.query.properties ?? []].flat().flatMap((p) => p.split(',')));
    for (const p of ['email', 'phone', 'google_ads_consent', 'hs_v2_date_entered_lead', 'hs_google_click_id']) {
      assert.ok(asked.has(p), `did not read ${p}`);
    }
    for (const p of ['firstname', 'lastname', 'address']) assert.ok(!asked.has(p), `read ${p}`);

    const status2 = await handle.query(lifecycleStatusQuery);
    assert.equal(status2.state, 'UPLOADED');
    assert.deepEqual(status2.identifiers, ['hashed_email', 'hashed_phone_number']);
    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(RelayFlow), 'hubspot-lifecycle-conversion');
    // The plain way writes no search attribute: start, contact read and upload (a deal read when valued by one).
    assert.equal(description.typedSearchAttributes.get(RelayStatus), undefined);
    const actions = countBillableActions((await handle.fetchHistory()).events ?? []);
    assert.ok(actions.total <= 4 && !actions.byKind.upsert, JSON.stringify(actions));
    await assertNoPlaintext(handle, [sha(PERSON.normalizedEmail)]);
  });

  test('the customer stage uploads the weighted amount of the most recent deal', async () => {
    const contactId = '504';
    const entered = '2026-11-21T10:00:00Z';
    hubspot.upsertContact(contactId, {
      email: PERSON.email,
      phone: PERSON.phone,
      lifecyclestage: 'customer',
      hs_v2_date_entered_customer: String(Date.parse(entered)),
    });
    const deal = { hs_deal_stage_probability: '0.9', hs_is_closed: 'false', hs_is_closed_won: 'false' };
    hubspot.upsertDeal('8001', { ...deal, amount: '100', createdate: '2026-10-01T00:00:00Z' }, [contactId]);
    hubspot.upsertDeal('8002', { ...deal, amount: '24000', createdate: '2026-11-01T00:00:00Z' }, [contactId]);

    const { status, body } = await postWebhook([lifecycleEvent(contactId, 'customer')]);
    assert.equal(status, 200, JSON.stringify(body));
    const handle = lifecycleHandle(body.started[0]!.workflowId);
    const result = await handle.result();
    assert.equal(result.outcome, 'UPLOADED');
    assert.deepEqual(clicksWithOrderPrefix(`hs-customer-${contactId}-`), [
      {
        conversion_action: 'customers/1234567890/conversionActions/6512349873',
        conversion_date_time: '2026-11-21 10:00:00+00:00',
        conversion_value: 21600,
        currency_code: 'EUR',
        order_id: `hs-customer-${contactId}-${Date.parse(entered)}`,
        // Shares the email only, and checks no consent property, so sends no consent either.
        user_identifiers: [{ hashed_email: sha(PERSON.normalizedEmail) }],
      },
    ]);
    assert.equal((await handle.query(lifecycleStatusQuery)).value?.source, 'weighted-deal-amount');
    await assertNoPlaintext(handle);
  });

  test('a webhook with a bad signature is refused: no workflow, no HubSpot read, no upload', async () => {
    const contactId = '502';
    hubspot.upsertContact(contactId, {
      email: PERSON.email,
      lifecyclestage: 'lead',
      google_ads_consent: 'granted',
      hs_v2_date_entered_lead: '2026-11-20T09:00:00Z',
    });
    const event = lifecycleEvent(contactId, 'lead');
    const { status } = await postWebhook([event], 'not-the-client-secret');
    assert.equal(status, 401);
    await assert.rejects(
      lifecycleHandle(`hubspot-lifecycle-${PORTAL}-${contactId}-lead-${event.occurredAt}-lead`).describe(),
      WorkflowNotFoundError,
    );
    assert.deepEqual(contactReads(contactId), []);
    assert.deepEqual(requestsMentioning(`hs-lead-${contactId}-`), []);
  });

  test('relay hubspot send lifecycle: signed as the api checks it, started and uploaded; a wrong secret is a 401 naming the URL and timestamp checked', async () => {
    const contactId = '509';
    hubspot.upsertContact(contactId, {
      email: PERSON.email,
      lifecyclestage: 'lead',
      hs_google_click_id: 'Cj0KCQiA-e2e-gclid-509',
      google_ads_consent: 'granted',
      hs_v2_date_entered_lead: '2026-11-22T08:00:00Z',
    });
    const cli = (secret: string) =>
      runRelay(
        ['hubspot', 'send', 'lifecycle', '--contact', contactId, '--stage', 'lead', '--portal', String(PORTAL)],
        {
          PATH: process.env.PATH,
          RELAY_API_URL: api.url,
          HUBSPOT_CLIENT_SECRET: secret,
        },
      );
    const sent = await cli(CLIENT_SECRET);
    assert.equal(sent.code, 0, sent.stderr + sent.stdout);
    assert.match(sent.stderr, new RegExp(`POST ${api.url}/webhooks/hubspot \\(signed v3\\) → 200`));
    const answer = JSON.parse(sent.stdout) as WebhookAnswer;
    assert.equal(answer.started[0]?.status, 'started');
    const result = await lifecycleHandle(answer.started[0].workflowId).result();
    assert.equal(result.outcome, 'UPLOADED');
    assert.equal(requestsMentioning(`hs-lead-${contactId}-`).length, 1);

    const refused = await cli('not-the-client-secret');
    assert.equal(refused.code, 1);
    const body = JSON.parse(refused.stdout) as {
      error: string;
      checked: { method: string; url: string; timestamp: string };
    };
    assert.equal(body.checked.method, 'POST');
    assert.equal(body.checked.url, `${api.url}/webhooks/hubspot`);
    assert.match(body.checked.timestamp, /^\d{13}$/);
    assert.match(
      body.error,
      /v3 signature does not match \(checked POST .*\/webhooks\/hubspot with timestamp \d{13}\)/,
    );
    for (const secret of [CLIENT_SECRET, 'not-the-client-secret']) {
      assert.ok(!refused.stdout.includes(secret) && !refused.stderr.includes(secret), 'no secret in the answer');
    }
  });

  test('relay hubspot sign prints the headers a curl needs for the URL the api checks', async () => {
    const body = JSON.stringify([lifecycleEvent('510', 'lead')]);
    const dir = mkdtempSync(join(tmpdir(), 'relay-sign-'));
    const file = join(dir, 'body.json');
    writeFileSync(file, body);
    const signed = await runRelay(['hubspot', 'sign', file], {
      PATH: process.env.PATH,
      RELAY_API_URL: api.url,
      HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
    });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(signed.code, 0, signed.stderr);
    const headers = Object.fromEntries(
      signed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(': ') as [string, string]),
    );
    assert.deepEqual(Object.keys(headers), ['X-HubSpot-Signature-v3', 'X-HubSpot-Request-Timestamp']);
    assert.match(signed.stderr, /^signed POST .*\/webhooks\/hubspot/);
    const res = await fetch(`${api.url}/webhooks/hubspot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    assert.equal(res.status, 200, await res.text());
  });

  test('a redelivered event starts no second workflow and uploads once', async () => {
    const contactId = '503';
    hubspot.upsertContact(contactId, {
      email: PERSON.email,
      lifecyclestage: 'lead',
      google_ads_consent: 'granted',
      hs_v2_date_entered_lead: '2026-11-22T08:00:00Z',
    });
    const event = lifecycleEvent(contactId, 'lead');
    const first = await postWebhook([event]);
    assert.equal(first.status, 200);
    const [started] = first.body.started;
    assert.equal(started?.status, 'started');

    // HubSpot retries with the same eventId and a higher attemptNumber; this one races the first run.
    const retry = await postWebhook([{ ...event, attemptNumber: 1 }]);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body.started, [
      { workflowId: started.workflowId, eventId: String(event.eventId), status: 'duplicate' },
    ]);

    const handle = lifecycleHandle(started.workflowId);
    const { runId } = await handle.describe();
    assert.equal((await handle.result()).outcome, 'UPLOADED');

    // And once the first run has finished, a late redelivery is refused too.
    // Redelivered under a new event id (HubSpot says event ids are not guaranteed unique): the same change.
    const late = await postWebhook([{ ...event, eventId: nextEventId++, attemptNumber: 2 }]);
    assert.deepEqual(
      late.body.started.map((x: { workflowId: string; status: string }) => [x.workflowId, x.status]),
      [[started.workflowId, 'duplicate']],
    );
    assert.equal((await handle.describe()).runId, runId);
    assert.equal(clicksWithOrderPrefix(`hs-lead-${contactId}-`).length, 1);
    assert.equal(requestsMentioning(`hs-lead-${contactId}-`).length, 1);
  });

  test('one change delivered as contact.propertyChange and object.propertyChange in one batch: one workflow, one upload, no failure', async () => {
    const contactId = '507';
    hubspot.upsertContact(contactId, {
      email: PERSON.email,
      lifecyclestage: 'lead',
      hs_google_click_id: 'Cj0KCQiA-e2e-gclid-507',
      google_ads_consent: 'granted',
      hs_v2_date_entered_lead: '2026-11-23T08:00:00Z',
    });
    const legacy = lifecycleEvent(contactId, 'lead');
    const generic = {
      ...legacy,
      eventId: nextEventId++,
      subscriptionType: 'object.propertyChange',
      objectTypeId: '0-1',
    };
    const { status, body } = await postWebhook([legacy, generic]);
    assert.equal(status, 200, JSON.stringify(body));
    const [first, second] = body.started;
    assert.deepEqual([first?.status, second?.status], ['started', 'duplicate']);
    assert.equal(first?.workflowId, second?.workflowId);
    const handle = lifecycleHandle(first!.workflowId);
    assert.equal((await handle.result()).outcome, 'UPLOADED');
    assert.equal(clicksWithOrderPrefix(`hs-lead-${contactId}-`).length, 1);
    assert.equal(requestsMentioning(`hs-lead-${contactId}-`).length, 1);
  });

  test('a form submission becomes one ENHANCEMENT adjustment with every shared identifier', async () => {
    const submissionId = uniqueId('sub');
    // Whole seconds two minutes ago, written as a site in UTC+2 would record it.
    const submittedMs = Math.floor((Date.now() - 120_000) / 1000) * 1000;
    const local = new Date(submittedMs + 2 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const utc = new Date(submittedMs).toISOString().slice(0, 19).replace('T', ' ');
    const { status, body } = await postForm({
      formId: DEMO_FORM,
      submissionId,
      submittedAt: `${local}+02:00`,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) e2e',
      gclid: 'Cj0KCQiA-e2e-form-gclid',
      fields: {
        email: PERSON.email,
        phone: PERSON.phone,
        firstname: PERSON.firstname,
        lastname: PERSON.lastname,
        address: PERSON.address,
        city: 'Mountain View',
        state: 'CA',
        zip: '94043',
        country: 'United States',
      },
    });
    assert.equal(status, 202, JSON.stringify(body));
    assert.deepEqual(body, { workflowId: `hubspot-form-${DEMO_FORM}-${submissionId}`, status: 'started', dropped: [] });

    const handle = formHandle(body.workflowId);
    assert.deepEqual(await handle.result(), { outcome: 'ENHANCED', attempts: 1 } satisfies FormEnhancementResult);
    const requests = requestsMentioning(submissionId);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.method, 'UploadConversionAdjustments');
    assert.equal(requests[0]?.body.customer_id, '1234567890');
    assert.equal(requests[0]?.body.partial_failure, true);
    assert.equal(requests[0]?.metadata['developer-token'], DEVELOPER_TOKEN);
    assert.equal(requests[0]?.metadata['login-customer-id'], '1112223333');
    const enhanced = googleAds.uploaded().enhancements.filter((e) => e.conversion.order_id === submissionId);
    assert.deepEqual(
      enhanced.map((e) => asGoogleReadsIt(e.conversion)),
      [
        {
          conversion_action: 'customers/1234567890/conversionActions/6512349874',
          adjustment_type: 'ENHANCEMENT',
          order_id: submissionId,
          gclid_date_time_pair: { gclid: 'Cj0KCQiA-e2e-form-gclid', conversion_date_time: `${utc}+00:00` },
          user_agent: 'Mozilla/5.0 (X11; Linux x86_64) e2e',
          restatement_value: { adjusted_value: 25, currency_code: 'EUR' },
          user_identifiers: [
            { hashed_email: sha(PERSON.normalizedEmail) },
            { hashed_phone_number: sha(PERSON.e164) },
            {
              address_info: {
                hashed_first_name: sha('zelda'),
                hashed_last_name: sha('quintanilla'),
                hashed_street_address: sha('1600 amphitheatre pkwy'),
                city: 'Mountain View',
                state: 'CA',
                postal_code: '94043',
                country_code: 'US',
              },
            },
          ],
        },
      ],
    );
    assert.equal((await handle.query(formEnhancementStatusQuery)).state, 'ENHANCED');
    // The city is one of the address parts Google takes unhashed, so it must be there: names are not.
    await assertNoPlaintext(handle, [sha(PERSON.normalizedEmail), 'Mountain View']);
  });

  test('a form on a manager account ends NOT_SENT and nothing reaches Google Ads', async () => {
    const submissionId = uniqueId('mcc');
    const { status, body } = await postForm({
      formId: MCC_FORM,
      submissionId,
      submittedAt: new Date(Date.now() - 60_000).toISOString(),
      fields: { email: PERSON.email },
    });
    assert.equal(status, 202, JSON.stringify(body));
    const handle = formHandle(body.workflowId);
    const result = await handle.result();
    assert.equal(result.outcome, 'NOT_SENT');
    assert.equal(result.outcome === 'NOT_SENT' && result.reason, 'MANAGER_ACCOUNT');
    const status2 = await handle.query(formEnhancementStatusQuery);
    assert.equal(status2.state, 'NOT_SENT');
    assert.equal(status2.notSent?.reason, 'MANAGER_ACCOUNT');
    assert.equal(status2.attempts, 0);
    assert.equal((await handle.describe()).typedSearchAttributes.get(RelayReason), 'MANAGER_ACCOUNT');
    assert.deepEqual(requestsMentioning(submissionId), []);
    await assertNoPlaintext(handle);
  });

  test('a contact without consent ends INELIGIBLE (NO_CONSENT) and nothing is uploaded', async () => {
    const contactId = '506';
    hubspot.upsertContact(contactId, {
      email: PERSON.email,
      phone: PERSON.phone,
      lifecyclestage: 'lead',
      hs_google_click_id: 'Cj0KCQiA-e2e-gclid-506',
      google_ads_consent: 'denied',
      hs_v2_date_entered_lead: '2026-11-23T12:00:00Z',
    });
    const { status, body } = await postWebhook([lifecycleEvent(contactId, 'lead')]);
    assert.equal(status, 200, JSON.stringify(body));
    const handle = lifecycleHandle(body.started[0]!.workflowId);
    const result = await handle.result();
    assert.equal(result.outcome, 'INELIGIBLE');
    assert.equal(result.outcome === 'INELIGIBLE' && result.reason, 'NO_CONSENT');
    const status2 = await handle.query(lifecycleStatusQuery);
    assert.equal(status2.state, 'INELIGIBLE');
    assert.equal(status2.ineligible?.reason, 'NO_CONSENT');
    assert.equal((await handle.describe()).typedSearchAttributes.get(RelayReason), 'NO_CONSENT');
    assert.deepEqual(requestsMentioning(`hs-lead-${contactId}-`), []);
    assert.deepEqual(requestsMentioning('Cj0KCQiA-e2e-gclid-506'), []);
    await assertNoPlaintext(handle);
  });
});

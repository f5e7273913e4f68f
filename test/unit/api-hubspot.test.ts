// The HubSpot webhooks' edge: signatures, validation, what is ignored and what would be started. The
// Temporal client points at a closed port, so any start attempt turns the answer into a 503; an interceptor
// records each attempt first, so a test can both prove nothing was started and inspect what would have been.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { Client, Connection, type WorkflowStartInput } from '@temporalio/client';
import { v2Signature, v3Signature } from '../../src/api/hubspot-signature';
import { buildApi } from '../../src/api/server';
import { deadlineBoundRetryInterceptor } from '../../src/temporal/grpc-retry';
import { loadValidConversionEventsConfig } from '../../src/config/conversion-events';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';
import type { FormEnhancementInput } from '../../src/workflows/form-enhancement';
import type { LifecycleConversionInput } from '../../src/workflows/lifecycle-conversion';

const SECRET = 'hubspot-client-secret';
const API_KEY = 'secret-key';
const FIXTURE = join(__dirname, '..', 'fixtures', 'hubspot-google-ads.yaml');
const DEMO_FORM = '5f1c7a2e-8b3d-4c9e-a6f0-2d4b8e1c3a57';
const EMAIL_ONLY_FORM = '7d2e9c41-1a5b-4f3e-8c6d-0e9f1b2a3c4d';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const starts: WorkflowStartInput[] = [];
// As the api connects: no gRPC retry past a call's deadline.
const connection = Connection.lazy({
  address: '127.0.0.1:1',
  connectTimeout: 200,
  interceptors: [deadlineBoundRetryInterceptor()],
});
const temporal = new Client({
  connection,
  interceptors: {
    workflow: [
      {
        startWithDetails: (input, next) => {
          starts.push(input);
          return next(input);
        },
      },
    ],
  },
});
const { config: conversionEvents } = loadValidConversionEventsConfig(FIXTURE);

function api(publicUrl?: string) {
  return buildApi({
    apiKey: API_KEY,
    maxBodyBytes: 64 * 1024,
    cm360: { temporal, taskQueue: 'unused', profileId: 'p1', timing: DEFAULT_CM360_TIMING },
    hubspot: {
      temporal,
      taskQueue: 'hubspot-tq',
      clientSecret: SECRET,
      publicUrl,
      conversionEvents,
      defaultRegion: 'US',
      enhancementSafetyMarginMs: 600_000,
      startTimeoutMs: 300,
    },
  });
}
const app = api();
const behindProxy = api('https://relay.example.com/');

after(async () => {
  await app.close();
  await behindProxy.close();
  await connection.close();
});
beforeEach(() => {
  starts.length = 0;
});

// inject() talks to the app as http://localhost:80.
const LOCAL_BASE = 'http://localhost:80';

interface Signing {
  base?: string;
  /** The full URL signed, when it is not base + path. */
  url?: string;
  timestamp?: number;
  secret?: string;
  signature?: string;
  /** Extra headers, or a header set to undefined to leave it out. */
  headers?: Record<string, string | undefined>;
}

function post(target: typeof app, path: string, body: unknown, signing: Signing = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const timestamp = String(signing.timestamp ?? Date.now());
  const signature =
    signing.signature ??
    v3Signature(
      signing.secret ?? SECRET,
      'POST',
      signing.url ?? `${signing.base ?? LOCAL_BASE}${path}`,
      raw,
      timestamp,
    );
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-hubspot-signature-v3': signature,
    'x-hubspot-request-timestamp': timestamp,
  };
  for (const [name, value] of Object.entries(signing.headers ?? {})) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return target.inject({ method: 'POST', url: path, headers, payload: raw });
}

const webhook = (body: unknown, signing?: Signing) => post(app, '/webhooks/hubspot', body, signing);

function event(overrides: Record<string, unknown> = {}) {
  return {
    eventId: 100,
    subscriptionId: 1234,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1_795_000_000_000,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: 123,
    changeSource: 'CRM',
    propertyName: 'lifecyclestage',
    propertyValue: 'lead',
    ...overrides,
  };
}

type Issues = { error: string; issues: { field: string; message: string }[] };
type WebhookAnswer = {
  started: { workflowId: string; status: string }[];
  ignored: { eventId: string; reason: string }[];
};

describe('POST /webhooks/hubspot: signatures', () => {
  test('401 and nothing started without a signature', async () => {
    const res = await webhook([event()], {
      headers: { 'x-hubspot-signature-v3': undefined, 'x-hubspot-request-timestamp': undefined },
    });
    assert.equal(res.statusCode, 401);
    assert.match(res.json<{ error: string }>().error, /no HubSpot signature/);
    assert.equal(starts.length, 0);
  });

  test('401 and nothing started for a wrong signature, a wrong secret or a tampered body', async () => {
    const wrong = await webhook([event()], { signature: 'bm90IGEgc2lnbmF0dXJl' });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.json<{ error: string }>().error, /does not match/);
    assert.equal((await webhook([event()], { secret: 'another-app' })).statusCode, 401);

    const timestamp = String(Date.now());
    const signedBody = JSON.stringify([event()]);
    const tampered = await app.inject({
      method: 'POST',
      url: '/webhooks/hubspot',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': v3Signature(SECRET, 'POST', `${LOCAL_BASE}/webhooks/hubspot`, signedBody, timestamp),
        'x-hubspot-request-timestamp': timestamp,
      },
      payload: signedBody.replace('"objectId":123', '"objectId":124'),
    });
    assert.equal(tampered.statusCode, 401);
    assert.equal(starts.length, 0);
  });

  test('CRM webhooks need v3: a correct v2 signature (no timestamp, so replayable) is refused', async () => {
    const body = JSON.stringify([event()]);
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/hubspot',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature': v2Signature(SECRET, 'POST', `${LOCAL_BASE}/webhooks/hubspot`, body),
        'x-hubspot-signature-version': 'v2',
      },
      payload: body,
    });
    assert.equal(res.statusCode, 401);
    assert.equal(starts.length, 0);
  });

  test('401 and nothing started for a correct signature older than 5 minutes, or from the future', async () => {
    const old = await webhook([event()], { timestamp: Date.now() - 5 * 60_000 - 1_000 });
    assert.equal(old.statusCode, 401);
    assert.match(old.json<{ error: string }>().error, /older than 5 minutes/);
    const future = await webhook([event()], { timestamp: Date.now() + 5 * 60_000 + 1_000 });
    assert.equal(future.statusCode, 401);
    assert.equal(starts.length, 0);
  });

  test('the signed URL is RELAY_PUBLIC_URL plus the path and query, not the address the api listens on', async () => {
    const path = '/webhooks/hubspot?portal=62515';
    const body = [event({ subscriptionType: 'contact.creation' })];
    const publicBase = 'https://relay.example.com';

    const asCalled = await post(behindProxy, path, body, { base: publicBase });
    assert.equal(asCalled.statusCode, 200, asCalled.body);
    assert.equal((await post(behindProxy, path, body, { base: LOCAL_BASE })).statusCode, 401);
    // The query is part of what is signed.
    const withoutQuery = { url: `${publicBase}/webhooks/hubspot` };
    assert.equal((await post(behindProxy, path, body, withoutQuery)).statusCode, 401);

    // Without publicUrl the request's own scheme and Host are what HubSpot is assumed to have called.
    assert.equal((await post(app, path, body, { base: publicBase })).statusCode, 401);
    assert.equal((await post(app, path, body, { base: LOCAL_BASE })).statusCode, 200);
    assert.equal(starts.length, 0);
  });

  test('a signed request whose path HubSpot percent-encoded still verifies', async () => {
    const path = '/webhooks/hubspot?source=crm%3Alifecycle';
    const body = [event({ subscriptionType: 'contact.creation' })];
    assert.equal((await post(app, path, body)).statusCode, 200);
  });
});

describe('POST /webhooks/hubspot: events', () => {
  test('400 naming the field when every event of the batch is malformed; nothing is started', async () => {
    const res = await webhook([event({ eventId: 101, occurredAt: 'yesterday' }), { ...event(), objectId: undefined }]);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res.json<Issues>().issues.map((i) => i.field),
      ['[0].occurredAt', '[1].objectId'],
    );

    const notABatch = await webhook(event());
    assert.equal(notABatch.statusCode, 400);
    assert.deepEqual(
      notABatch.json<Issues>().issues.map((i) => i.field),
      ['(body)'],
    );
    assert.equal(starts.length, 0);
  });

  for (const [what, change, field, message] of [
    [
      'an occurredAt before 2006 (seconds for milliseconds)',
      { occurredAt: 1_795_000_000 },
      'occurredAt',
      /before 2006/,
    ],
    ['an occurredAt beyond the date range', { occurredAt: 8.64e15 + 1 }, 'occurredAt', /in the future/],
    ['an occurredAt in the future', { occurredAt: Date.now() + 3_600_000 }, 'occurredAt', /in the future/],
    ['an event id over 1,000 bytes', { eventId: 'e'.repeat(1001) }, 'eventId', /at most 200/],
    ['an object id that is not a number', { objectId: 'contact-123' }, 'objectId', /64-bit integer/],
    ['an object id with a lone surrogate', { objectId: '12\ud800' }, 'objectId', /surrogate/],
    ['a decimal portal id', { portalId: 62515.5 }, 'portalId', /decimal is not an id/],
  ] as const) {
    test(`${what} is rejected naming the field; the good event of the same batch is still started`, async () => {
      const res = await webhook([event({ eventId: 1 }), event({ eventId: 2, ...change })]);
      // The good event reached Temporal (down here): 503, and HubSpot's redelivery is idempotent.
      assert.equal(res.statusCode, 503, res.body);
      const body = res.json<
        WebhookAnswer & { rejected: { index: number; issues: { field: string; message: string }[] }[] }
      >();
      assert.deepEqual(
        body.rejected.map((r) => [r.index, r.issues.map((i) => i.field)]),
        [[1, [`[1].${field}`]]],
      );
      assert.match(body.rejected[0]!.issues[0]!.message, message);
      assert.equal(starts.length, 1);
      assert.equal(body.started[0]?.status, 'failed');
    });
  }

  test('400 for a signed body that is not JSON', async () => {
    const res = await webhook('[{"eventId": ');
    assert.equal(res.statusCode, 400);
    assert.equal(starts.length, 0);
  });

  test('events that are not lifecycle-stage changes, or have no enabled definition, are answered 200 as ignored', async () => {
    const res = await webhook([
      event({ eventId: 1, subscriptionType: 'contact.creation', propertyName: undefined, propertyValue: undefined }),
      event({ eventId: 2, propertyName: 'email', propertyValue: 'someone@example.com' }),
      event({ eventId: 3, subscriptionType: 'deal.propertyChange' }),
      event({ eventId: 4, subscriptionType: 'object.propertyChange', objectTypeId: '0-3' }),
      event({ eventId: 5, propertyValue: '' }),
      event({ eventId: 6, propertyValue: 'opportunity' }),
      event({ eventId: 7, propertyValue: 'evangelist' }),
    ]);
    assert.equal(res.statusCode, 200, res.body);
    const answer = res.json<WebhookAnswer>();
    assert.deepEqual(answer.started, []);
    const notLifecycle = 'not a contact lifecycle-stage change';
    assert.deepEqual(answer.ignored, [
      { eventId: '1', reason: notLifecycle },
      { eventId: '2', reason: notLifecycle },
      { eventId: '3', reason: notLifecycle },
      { eventId: '4', reason: notLifecycle },
      { eventId: '5', reason: notLifecycle },
      { eventId: '6', reason: 'no enabled conversion event for stage opportunity' },
      { eventId: '7', reason: 'no enabled conversion event for stage evangelist' },
    ]);
    assert.doesNotMatch(res.body, /someone@example\.com/);
    assert.equal(starts.length, 0);
  });

  test('a lifecycle change with a definition starts one idempotent workflow per definition; 503 while Temporal is down', async () => {
    const res = await webhook([
      event({ eventId: 9, subscriptionType: 'contact.creation' }),
      // The generic (v4) form of the same change, for a contact (object type 0-1).
      event({ eventId: 10, subscriptionType: 'object.propertyChange', objectTypeId: '0-1', propertyValue: 'LEAD' }),
    ]);
    // The sender is told to retry: starting is idempotent per event, so redelivering the batch is safe.
    assert.equal(res.statusCode, 503, res.body);
    assert.deepEqual(res.json<{ ignored: unknown[] }>().ignored, [
      { eventId: '9', reason: 'not a contact lifecycle-stage change' },
    ]);
    assert.equal(starts.length, 1);
    const [start] = starts;
    assert.equal(start?.workflowType, 'lifecycleConversionWorkflow');
    // Keyed on the business event (portal, contact, stage, time, definition), not on the delivery's event id.
    assert.equal(start?.options.workflowId, 'hubspot-lifecycle-62515-123-lead-1795000000000-lead');
    assert.equal(start?.options.taskQueue, 'hubspot-tq');
    assert.equal(start?.options.workflowIdReusePolicy, 'REJECT_DUPLICATE');
    const [input] = start?.options.args as [LifecycleConversionInput];
    assert.equal(input.contactId, '123');
    assert.equal(input.eventId, '10');
    assert.equal(input.portalId, '62515');
    assert.equal(input.stage, 'LEAD');
    assert.equal(input.occurredAtMs, 1_795_000_000_000);
    assert.equal(input.definition.id, 'lead');
    assert.equal(input.definition.trigger.conversionAction, 'customers/1234567890/conversionActions/6512349871');
    assert.equal(input.definition.loginCustomerId, '1112223333');
    assert.deepEqual(input.clickIdProperties, { gbraid: 'site_gbraid', wbraid: 'site_wbraid' });
  });
});

/** An hour ago, to the second, written as a site in UTC+1 would. */
const SUBMITTED_MS = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
const SUBMITTED_AT = new Date(SUBMITTED_MS + 3_600_000)
  .toISOString()
  .replace('T', ' ')
  .replace(/\.\d{3}Z$/, '+01:00');

describe('POST /webhooks/hubspot/forms', () => {
  const forms = (body: unknown, signing?: Signing) => post(app, '/webhooks/hubspot/forms', body, signing);
  const withKey = (body: unknown, key = API_KEY) =>
    app.inject({
      method: 'POST',
      url: '/webhooks/hubspot/forms',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      payload: JSON.stringify(body),
    });

  const submission = (overrides: Record<string, unknown> = {}) => ({
    formId: DEMO_FORM,
    submissionId: 'sub-1',
    submittedAt: SUBMITTED_AT,
    userAgent: 'Mozilla/5.0 (test)',
    fields: {
      email: ' Jane.Doe@Example.com ',
      phone: '+1 650-253-0000',
      firstname: 'Jane',
      lastname: 'Doe',
      address: '1600 Amphitheatre Pkwy',
      city: 'Mountain View',
      state: 'CA',
      zip: '94043',
      country: 'us',
    },
    ...overrides,
  });
  const startedInput = () => {
    assert.equal(starts.length, 1);
    return (starts[0]?.options.args as [FormEnhancementInput])[0];
  };

  test('the api key is accepted instead of a signature; without either, or with a wrong key, 401', async () => {
    assert.equal((await withKey(submission(), 'wrong')).statusCode, 401);
    const unsigned = await forms(submission(), {
      headers: { 'x-hubspot-signature-v3': undefined, 'x-hubspot-request-timestamp': undefined },
    });
    assert.equal(unsigned.statusCode, 401);
    assert.equal(starts.length, 0);

    // Accepted: the only thing left is starting the workflow, which the closed port refuses.
    assert.equal((await withKey(submission())).statusCode, 503);
    assert.equal(starts.length, 1);
    starts.length = 0;
    assert.equal((await forms(submission())).statusCode, 503);
    assert.equal(starts.length, 1);
  });

  for (const [what, at, message] of [
    ['three days old', new Date(Date.now() - 3 * 86_400_000), /more than 24 h/],
    ['older than 24 h less the margin', new Date(Date.now() - 24 * 3_600_000 + 300_000), /more than 24 h/],
    ['in the year 0000', '0000-01-01 00:00:00+00:00', /more than 24 h/],
    ['in the year 9999', '9999-12-31 23:59:59+00:00', /in the future/],
  ] as const) {
    test(`400 naming submittedAt when it is ${what}: nothing is started`, async () => {
      const text =
        typeof at === 'string'
          ? at
          : at
              .toISOString()
              .replace('T', ' ')
              .replace(/\.\d{3}Z$/, '+00:00');
      const res = await withKey(submission({ submittedAt: text }));
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual(
        res.json<Issues>().issues.map((i) => i.field),
        ['submittedAt'],
      );
      assert.match(res.body, message);
      assert.equal(starts.length, 0);
    });
  }

  test('a form id in other letter case is the same form and the same workflow', async () => {
    assert.equal((await withKey(submission({ formId: DEMO_FORM.toUpperCase() }))).statusCode, 503);
    assert.equal(starts[0]?.options.workflowId, `hubspot-form-${DEMO_FORM}-sub-1`);
  });

  test('400 naming submittedAt when it has no offset', async () => {
    const res = await withKey(submission({ submittedAt: '2026-11-24 15:04:05' }));
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res.json<Issues>().issues.map((i) => i.field),
      ['submittedAt'],
    );
    assert.equal(starts.length, 0);
  });

  test('400 naming fields.* when no identifier survives, with the reason and never the value', async () => {
    const res = await withKey(submission({ fields: { email: 'jane at example', phone: 'call me maybe' } }));
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res.json<Issues>().issues.map((i) => i.field),
      ['fields.email', 'fields.phone'],
    );
    assert.doesNotMatch(res.body, /jane at example|call me maybe/);

    // A field the definition does not share is no identifier either.
    const unshared = await withKey(submission({ formId: EMAIL_ONLY_FORM, fields: { phone: '+1 650-253-0000' } }));
    assert.equal(unshared.statusCode, 400);
    assert.deepEqual(
      unshared.json<Issues>().issues.map((i) => i.field),
      ['fields'],
    );
    assert.equal(starts.length, 0);
  });

  test('400 naming unknown fields', async () => {
    const res = await withKey(submission({ fields: { email: 'a@example.com', favouriteColour: 'blue' } }));
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res.json<Issues>().issues.map((i) => i.field),
      ['fields'],
    );
    assert.match(res.body, /favouriteColour/);
  });

  test('422 naming formId for a form no definition triggers', async () => {
    const res = await withKey(submission({ formId: '00000000-0000-0000-0000-000000000000' }));
    assert.equal(res.statusCode, 422);
    assert.deepEqual(
      res.json<Issues>().issues.map((i) => i.field),
      ['formId'],
    );
    assert.equal(starts.length, 0);
  });

  test('only the definition’s shared fields are hashed into the workflow, and no plaintext', async () => {
    assert.equal((await withKey(submission({ formId: EMAIL_ONLY_FORM }))).statusCode, 503);
    const input = startedInput();
    assert.deepEqual(input.userIdentifiers, [{ hashed_email: sha('jane.doe@example.com') }]);
    assert.deepEqual(input.dropped, []);
    assert.equal(input.definition.id, 'newsletter-form');
    assert.equal(starts[0]?.options.workflowId, `hubspot-form-${EMAIL_ONLY_FORM}-sub-1`);
    const text = JSON.stringify(starts[0]?.options);
    for (const plain of ['Jane', 'jane', 'Doe', '650', 'Amphitheatre', 'Mountain View', '94043']) {
      assert.ok(!text.includes(plain), `the start carries ${plain}`);
    }
  });

  test('a form sharing everything sends email, phone and the hashed name and street with the plain address', async () => {
    assert.equal((await withKey(submission())).statusCode, 503);
    const input = startedInput();
    assert.deepEqual(input.userIdentifiers, [
      { hashed_email: sha('jane.doe@example.com') },
      { hashed_phone_number: sha('+16502530000') },
      {
        address_info: {
          hashed_first_name: sha('jane'),
          hashed_last_name: sha('doe'),
          hashed_street_address: sha('1600 amphitheatre pkwy'),
          city: 'Mountain View',
          state: 'CA',
          postal_code: '94043',
          country_code: 'US',
        },
      },
    ]);
    assert.equal(input.submittedAtMs, SUBMITTED_MS);
    assert.equal(
      input.conversionDateTime,
      SUBMITTED_AT.replace('+01:00', '+00:00').replace(/ \d\d/, (h) => ` ${String(Number(h) - 1).padStart(2, '0')}`),
    );
    assert.equal(input.userAgent, 'Mozilla/5.0 (test)');
    assert.equal(input.safetyMarginMs, 600_000);
  });

  test('a country written out, as HubSpot forms store it, is read as its code', async () => {
    const fields = { email: 'a@example.de', phone: '030 1234567', firstname: 'Ravi', country: 'Deutschland' };
    assert.equal((await withKey(submission({ fields }))).statusCode, 503);
    const input = startedInput();
    assert.deepEqual(input.dropped, []);
    assert.deepEqual(input.userIdentifiers, [
      { hashed_email: sha('a@example.de') },
      // Read in Germany, not in the default region (US).
      { hashed_phone_number: sha('+49301234567') },
      { address_info: { hashed_first_name: sha('ravi'), country_code: 'DE' } },
    ]);
  });
});

// The real @hubspot/api-client, wrapped by HubSpotCrmClient, against the real emulator over HTTP.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  HubSpotCrmClient,
  hubSpotDateToIso,
  hubSpotNumber,
  mostRecent,
  type HubSpotDeal,
} from '../../src/clients/hubspot/client';
import {
  classifyHubSpotStatus,
  HUBSPOT_DAILY_LIMIT_RETRY_MS,
  HubSpotError,
  hubSpotErrorFrom,
  rateLimitPolicyOf,
} from '../../src/clients/hubspot/errors';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot/emulator';

const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';
let emulator: HubSpotEmulator;
let client: HubSpotCrmClient;

async function rejection(p: Promise<unknown>): Promise<HubSpotError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HubSpotError, `expected HubSpotError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

const crmRequests = () => emulator.requests.filter((r) => r.path.startsWith('/crm/'));

describe('HubSpotCrmClient against the emulator', () => {
  before(async () => {
    emulator = await startHubSpotEmulator({ accessToken: TOKEN });
    client = new HubSpotCrmClient({ accessToken: TOKEN, basePath: emulator.basePath, retries: 0 });
  });
  after(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    emulator.setFault(undefined);
    emulator.requests.length = 0;
  });

  test('getContact returns the asked-for properties, null where the contact has no value', async () => {
    emulator.upsertContact('101', { email: 'jane.doe@example.com', firstname: 'Jane', lifecyclestage: 'lead' });
    const contact = await client.getContact('101', ['email', 'phone', 'lifecyclestage']);
    assert.ok(contact);
    assert.equal(contact.id, '101');
    assert.equal(contact.properties.email, 'jane.doe@example.com');
    assert.equal(contact.properties.phone, null);
    assert.equal(contact.properties.lifecyclestage, 'lead');
    assert.ok(!('firstname' in contact.properties));

    const [req] = crmRequests();
    assert.equal(req?.path, '/crm/v3/objects/contacts/101');
    assert.deepEqual(req?.query.properties, ['email', 'phone', 'lifecyclestage']);
    assert.match(String(req?.headers['user-agent']), /hubspot-api-client-nodejs/);
  });

  test('getContact returns the history asked for, newest first, with ISO timestamps', async () => {
    const t0 = Date.parse('2026-05-01T10:00:00.000Z');
    emulator.upsertContact('102', { email: 'a@example.com', hs_google_click_id: 'gclid-old' }, t0);
    emulator.upsertContact('102', { hs_google_click_id: 'gclid-new' }, t0 + 86_400_000);
    const contact = await client.getContact('102', ['hs_google_click_id'], ['hs_google_click_id']);
    assert.ok(contact);
    assert.equal(contact.properties.hs_google_click_id, 'gclid-new');
    assert.deepEqual(contact.history, {
      hs_google_click_id: [
        { value: 'gclid-new', timestamp: '2026-05-02T10:00:00.000Z' },
        { value: 'gclid-old', timestamp: '2026-05-01T10:00:00.000Z' },
      ],
    });
    assert.deepEqual(crmRequests().at(-1)?.query.propertiesWithHistory, 'hs_google_click_id');

    const withoutHistory = await client.getContact('102', ['email']);
    assert.deepEqual(withoutHistory?.history, {});
    assert.equal(crmRequests().at(-1)?.query.propertiesWithHistory, undefined);
  });

  test('a contact that does not exist is undefined, not an error', async () => {
    assert.equal(await client.getContact('404404', ['email']), undefined);
  });

  test('getMostRecentDeal picks the latest createdate (ISO or epoch ms) and parses the deal', async () => {
    emulator.upsertContact('201', {});
    emulator.upsertContact('202', {});
    emulator.upsertDeal(
      '5001',
      { amount: '1000', createdate: '2026-01-01T00:00:00.000Z', hs_is_closed: 'true', hs_is_closed_won: 'true' },
      ['201'],
    );
    emulator.upsertDeal(
      '5002',
      {
        amount: '2500.75',
        hs_deal_stage_probability: '0.6',
        hs_is_closed: 'false',
        hs_is_closed_won: 'false',
        createdate: String(Date.parse('2026-03-01T12:00:00.000Z')),
      },
      ['201'],
    );
    emulator.upsertDeal('5003', { amount: '', createdate: '2026-02-01T00:00:00.000Z' }, ['201']);
    // Newer, but another contact's.
    emulator.upsertDeal('5004', { amount: '9', createdate: '2026-06-01T00:00:00.000Z' }, ['202']);

    const deal = await client.getMostRecentDeal('201');
    assert.deepEqual(deal, {
      id: '5002',
      amount: 2500.75,
      probability: 0.6,
      closed: false,
      closedWon: false,
      createdAt: '2026-03-01T12:00:00.000Z',
    });

    const paths = crmRequests().map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(paths, [
      'GET /crm/v4/objects/contacts/201/associations/deals',
      'POST /crm/v3/objects/deals/batch/read',
    ]);
    const body = crmRequests()[1]?.body as { inputs: { id: string }[]; properties: string[] };
    assert.deepEqual(body.inputs.map((i) => i.id).sort(), ['5001', '5002', '5003']);
    for (const p of ['amount', 'hs_deal_stage_probability', 'hs_is_closed', 'hs_is_closed_won', 'createdate']) {
      assert.ok(body.properties.includes(p), p);
    }
  });

  test('no deals, or no such contact, is undefined', async () => {
    emulator.upsertContact('301', {});
    assert.equal(await client.getMostRecentDeal('301'), undefined);
    assert.equal(await client.getMostRecentDeal('303303'), undefined);
    assert.equal(crmRequests().filter((r) => r.method === 'POST').length, 0, 'no batch read without deals');
  });

  test('more than 100 associated deals are read in batches of 100', async () => {
    emulator.upsertContact('401', {});
    for (let i = 1; i <= 150; i++) {
      const day = String(1 + (i % 28)).padStart(2, '0');
      emulator.upsertDeal(String(60_000 + i), { amount: String(i), createdate: `2025-05-${day}T00:00:00Z` }, ['401']);
    }
    emulator.upsertDeal('69999', { amount: '77', createdate: '2025-12-31T00:00:00Z' }, ['401']);
    const deal = await client.getMostRecentDeal('401');
    assert.equal(deal?.id, '69999');
    const reads = crmRequests().filter((r) => r.path === '/crm/v3/objects/deals/batch/read');
    assert.deepEqual(
      reads.map((r) => (r.body as { inputs: unknown[] }).inputs.length),
      [100, 51],
    );
  });

  test('429 TEN_SECONDLY_ROLLING → rate-limit, retryable, 10 s', async () => {
    emulator.upsertContact('501', {});
    emulator.setFault({ type: 'rate-limit', policy: 'TEN_SECONDLY_ROLLING', times: 1 });
    const err = await rejection(client.getContact('501', ['email']));
    assert.equal(err.status, 429);
    assert.equal(err.kind, 'rate-limit');
    assert.equal(err.policy, 'TEN_SECONDLY_ROLLING');
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterMs, 10_000);
    assert.match(err.message, /^HubSpot getContact failed: HTTP 429, rate-limit, TEN_SECONDLY_ROLLING/);
  });

  test('429 DAILY → rate-limit, retryable after the long delay', async () => {
    emulator.upsertContact('502', {});
    emulator.setFault({ type: 'rate-limit', policy: 'DAILY' });
    const err = await rejection(client.getMostRecentDeal('502'));
    assert.equal(err.kind, 'rate-limit');
    assert.equal(err.policy, 'DAILY');
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterMs, HUBSPOT_DAILY_LIMIT_RETRY_MS);
    assert.equal(err.operation, 'getContactDeals');
  });

  test('5xx → transient', async () => {
    emulator.upsertContact('601', {});
    emulator.setFault({ type: 'server-error', status: 503 });
    const err = await rejection(client.getContact('601', []));
    assert.equal(err.status, 503);
    assert.equal(err.kind, 'transient');
    assert.equal(err.retryable, true);
    assert.equal(err.category, 'INTERNAL_ERROR');
  });

  test('401 → auth, not retryable, and the message carries neither the token nor property values', async () => {
    emulator.upsertContact('701', { email: 'secret.person@example.com' });
    const wrong = new HubSpotCrmClient({ accessToken: 'pat-na1-wrong-token-value', basePath: emulator.basePath });
    const err = await rejection(wrong.getContact('701', ['email']));
    assert.equal(err.status, 401);
    assert.equal(err.kind, 'auth');
    assert.equal(err.retryable, false);
    assert.equal(err.category, 'INVALID_AUTHENTICATION');
    const everything = `${err.message} ${JSON.stringify(err)} ${String(err.stack)}`;
    assert.ok(!everything.includes('pat-na1-wrong-token-value'));
    assert.ok(!everything.includes(TOKEN));
    assert.ok(!everything.includes('secret.person'));
    assert.equal(err.cause, undefined);
  });

  test('a refused connection is transient with status 0', async () => {
    const gone = await startHubSpotEmulator();
    const basePath = gone.basePath;
    await gone.close();
    const err = await rejection(new HubSpotCrmClient({ accessToken: TOKEN, basePath }).getContact('1', []));
    assert.equal(err.status, 0);
    assert.equal(err.kind, 'transient');
    assert.equal(err.retryable, true);
  });

  test('retries: 1 retries a 5xx once in process, and survives later clients resetting the SDK singleton', async () => {
    emulator.upsertContact('801', { email: 'r@example.com' });
    const retrying = new HubSpotCrmClient({ accessToken: TOKEN, basePath: emulator.basePath, retries: 1 });
    // The SDK's decorators are process-wide; a later client without retries must not switch them off here.
    new HubSpotCrmClient({ accessToken: TOKEN, basePath: emulator.basePath, retries: 0 });
    emulator.setFault({ type: 'server-error', times: 1 });
    const contact = await retrying.getContact('801', ['email']);
    assert.equal(contact?.properties.email, 'r@example.com');
    assert.deepEqual(
      crmRequests().map((r) => r.status),
      [500, 200],
    );

    emulator.requests.length = 0;
    emulator.setFault({ type: 'server-error', times: 1 });
    await rejection(client.getContact('801', ['email']));
    assert.equal(crmRequests().length, 1, 'retries: 0 makes exactly one attempt');
  });

  test('retries outside 0..5 are refused before any client exists', () => {
    assert.throws(() => new HubSpotCrmClient({ accessToken: TOKEN, retries: 6 }), RangeError);
    assert.throws(() => new HubSpotCrmClient({ accessToken: TOKEN, retries: -1 }), RangeError);
  });
});

describe('HubSpot classification and parsing (pure)', () => {
  test('statuses', () => {
    assert.deepEqual(classifyHubSpotStatus(429, 'DAILY'), {
      kind: 'rate-limit',
      retryable: true,
      retryAfterMs: HUBSPOT_DAILY_LIMIT_RETRY_MS,
    });
    assert.deepEqual(classifyHubSpotStatus(429), { kind: 'rate-limit', retryable: true, retryAfterMs: undefined });
    assert.equal(classifyHubSpotStatus(502).kind, 'transient');
    assert.equal(classifyHubSpotStatus(403).kind, 'auth');
    assert.equal(classifyHubSpotStatus(404).kind, 'not-found');
    assert.deepEqual(classifyHubSpotStatus(400), { kind: 'invalid', retryable: false });
    assert.equal(classifyHubSpotStatus(409).kind, 'invalid');
  });

  test('the 429 policy is recovered from the message or headers when policyName is missing', () => {
    assert.equal(rateLimitPolicyOf({ message: 'You have reached your daily limit.' }, {}), 'DAILY');
    assert.equal(
      rateLimitPolicyOf({ message: 'You have reached your ten_secondly_rolling limit.' }, {}),
      'TEN_SECONDLY_ROLLING',
    );
    assert.equal(rateLimitPolicyOf({ message: 'You have reached your secondly limit.' }, {}), 'SECONDLY');
    assert.equal(rateLimitPolicyOf({}, { 'X-HubSpot-RateLimit-Daily-Remaining': '0' }), 'DAILY');
    assert.equal(rateLimitPolicyOf({}, {}), undefined);
  });

  test('an SDK-shaped exception is classified without copying HubSpot’s message', () => {
    const err = hubSpotErrorFrom(
      {
        code: 400,
        body: {
          status: 'error',
          message: 'Property values were not valid: jane@example.com',
          category: 'VALIDATION_ERROR',
        },
        headers: {},
      },
      'getContact',
    );
    assert.equal(err.kind, 'invalid');
    assert.equal(err.category, 'VALIDATION_ERROR');
    assert.ok(!err.message.includes('jane@example.com'));
  });

  test('the SDK’s missing-argument error is invalid; any other non-HTTP error is transient', () => {
    const required = Object.assign(new Error('Required parameter contactId was null or undefined'), {
      name: 'RequiredError',
    });
    assert.equal(hubSpotErrorFrom(required, 'getContact').kind, 'invalid');
    assert.equal(hubSpotErrorFrom(required, 'getContact').retryable, false);
    const parse = new Error('The mediaType text/html is not supported by ObjectSerializer.parse.');
    assert.equal(hubSpotErrorFrom(parse, 'getContact').kind, 'transient');
  });

  test('hubSpotDateToIso reads ISO and epoch milliseconds, and nothing else', () => {
    assert.equal(hubSpotDateToIso('1767225600000'), '2026-01-01T00:00:00.000Z');
    assert.equal(hubSpotDateToIso('2026-01-01T00:00:00Z'), '2026-01-01T00:00:00.000Z');
    assert.equal(hubSpotDateToIso('2026-01-01T01:00:00+01:00'), '2026-01-01T00:00:00.000Z');
    assert.equal(hubSpotDateToIso('2026-01-01'), '2026-01-01T00:00:00.000Z');
    assert.equal(hubSpotDateToIso('2026-01-01T00:00:00'), '2026-01-01T00:00:00.000Z', 'no zone is UTC');
    for (const v of [null, undefined, '', '  ', 'yesterday', 'March 7', '2026-13-45', '9'.repeat(20)]) {
      assert.equal(hubSpotDateToIso(v), undefined, String(v));
    }
  });

  test('numbers and the most-recent tie-break', () => {
    assert.equal(hubSpotNumber('12.5'), 12.5);
    assert.equal(hubSpotNumber(''), undefined);
    assert.equal(hubSpotNumber('n/a'), undefined);
    const d = (id: string, createdAt?: string): HubSpotDeal => ({ id, closed: false, closedWon: false, createdAt });
    assert.equal(mostRecent([d('9', '2026-01-01T00:00:00.000Z'), d('10', '2026-01-01T00:00:00.000Z')])?.id, '10');
    assert.equal(mostRecent([d('1'), d('2', '2020-01-01T00:00:00.000Z')])?.id, '2');
    assert.equal(mostRecent([]), undefined);
  });
});

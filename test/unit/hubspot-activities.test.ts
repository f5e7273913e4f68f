// The HubSpot activities in Temporal's mock activity context, over the real client and the real emulator.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  countryCodeFromHubSpot,
  createHubSpotActivities,
  HUBSPOT_AUTH_RETRY_DELAY_MS,
  HubSpotFailure,
  type ContactReadResult,
  type ContactSnapshot,
  type HubSpotActivities,
  type ReadContactRequest,
} from '../../src/activities/hubspot';
import { HubSpotCrmClient } from '../../src/clients/hubspot/client';
import { HUBSPOT_DAILY_LIMIT_RETRY_MS } from '../../src/clients/hubspot/errors';
import { hashIdentity } from '../../src/domain/identifiers/hash';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot/emulator';

const TOKEN = 'pat-na1-activities-test';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ALL_FIELDS: ReadContactRequest['sharedFields'] = ['email', 'phone', 'firstName', 'lastName', 'address'];

// Plaintext seeded on the contact, in every spelling that could leak: as stored, normalized, and in parts.
const JANE = {
  email: 'Jane.Doe@Example.com',
  phone: '+1 (650) 253-0000',
  firstname: 'Jane',
  lastname: 'Doe-Smith',
  address: '1600 Amphitheatre Pkwy',
  city: 'Mountain View',
  state: 'CA',
  zip: '94043',
  country: 'United States',
};
const FORBIDDEN = [
  'jane.doe',
  'Jane.Doe',
  'example.com',
  '+16502530000',
  '6502530000',
  '650',
  '253-0000',
  'Jane',
  'jane',
  'Doe',
  'doe',
  'smith',
  'Amphitheatre',
  'amphitheatre',
  '1600',
];

let emulator: HubSpotEmulator;
let activities: HubSpotActivities;
let env: MockActivityEnvironment;

// Temporal calls activities as detached functions; the wrappers only keep the linter's unbound-method rule quiet.
const read = (req: ReadContactRequest, acts: HubSpotActivities = activities): Promise<ContactReadResult> =>
  env.run((r: ReadContactRequest) => acts.readContactForConversion(r), req);
const readDeal = (contactId: string) =>
  env.run((r: { contactId: string }) => activities.readMostRecentDeal(r), { contactId });

/** The result as JSON with digests blanked: short digit runs such as "650" could otherwise match inside one. */
const visible = (result: unknown) => JSON.stringify(result).replace(/"[0-9a-f]{64}"/g, '"<sha256>"');

function found(result: ContactReadResult): ContactSnapshot {
  assert.equal(result.found, true);
  return result;
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a failure');
}

const requestedProperties = (): string[] => {
  const get = emulator.requests.filter((r) => r.path.startsWith('/crm/v3/objects/contacts/')).at(-1);
  const p = get?.query.properties;
  return (Array.isArray(p) ? p : p ? [p] : []).flatMap((x) => x.split(','));
};

describe('HubSpot activities', () => {
  before(async () => {
    emulator = await startHubSpotEmulator({ accessToken: TOKEN });
    const crm = new HubSpotCrmClient({ accessToken: TOKEN, basePath: emulator.basePath, retries: 0 });
    activities = createHubSpotActivities({ crm, defaultRegion: 'US' });
    // Failures are the point of several tests; the worker's WARN line for each is noise here.
    env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    emulator.upsertContact(
      '1001',
      {
        ...JANE,
        mobilephone: '+1 650 555 0100',
        lifecyclestage: 'customer',
        hs_google_click_id: ' Cj0KCQ-test-gclid ',
        ads_consent: 'granted',
        hs_v2_date_entered_customer: '2026-03-04T05:06:07.890Z',
        hs_v2_date_entered_lead: String(Date.parse('2026-01-02T03:04:05.000Z')),
      },
      Date.parse('2025-12-24T00:00:00.000Z'),
    );
  });
  after(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    emulator.setFault(undefined);
    emulator.requests.length = 0;
  });

  test('all fields shared: hashes and plain city/state/postcode/country only — no plaintext anywhere', async () => {
    const result = found(
      await read({ contactId: '1001', stage: 'customer', consentProperty: 'ads_consent', sharedFields: ALL_FIELDS }),
    );
    // The same hashing the api edge does, with HubSpot's "United States" read as US.
    const expected = hashIdentity({
      email: JANE.email,
      phone: JANE.phone,
      firstName: JANE.firstname,
      lastName: JANE.lastname,
      streetAddress: JANE.address,
      city: JANE.city,
      state: JANE.state,
      postalCode: JANE.zip,
      countryCode: 'US',
    }).identity;
    assert.deepEqual(result.hashed, expected);
    assert.equal(result.hashed.hashedEmail, sha('jane.doe@example.com'));
    assert.equal(result.hashed.hashedPhoneNumber, sha('+16502530000'));
    assert.equal(result.hashed.address?.hashedFirstName, sha('jane'));
    assert.equal(result.hashed.address?.postalCode, '94043');
    assert.equal(result.hashed.address?.countryCode, 'US');
    assert.deepEqual(result.dropped, []);
    assert.deepEqual(result.clickIds, { gclid: 'Cj0KCQ-test-gclid', gclidRecordedAt: '2025-12-24T00:00:00.000Z' });
    assert.equal(result.consentValue, 'granted');
    assert.equal(result.lifecycleStage, 'customer');
    assert.equal(result.stageEnteredAt, '2026-03-04T05:06:07.890Z');

    const json = visible(result);
    assert.equal(json.match(/<sha256>/g)?.length, 5);
    for (const plain of FORBIDDEN) assert.ok(!json.includes(plain), `"${plain}" leaked into ${json}`);
  });

  test('only the shared fields are requested from HubSpot and returned', async () => {
    const emailOnly = found(await read({ contactId: '1001', stage: 'customer', sharedFields: ['email'] }));
    assert.deepEqual(Object.keys(emailOnly.hashed), ['hashedEmail']);
    const asked = requestedProperties();
    for (const p of ['email', 'lifecyclestage', 'hs_google_click_id', 'hs_v2_date_entered_customer']) {
      assert.ok(asked.includes(p), p);
    }
    for (const p of ['phone', 'mobilephone', 'firstname', 'lastname', 'address', 'city', 'zip']) {
      assert.ok(!asked.includes(p), `${p} must not be read when not shared`);
    }
    assert.equal(emailOnly.consentValue, undefined, 'no consent property asked, none returned');

    const namesOnly = found(
      await read({ contactId: '1001', stage: 'customer', sharedFields: ['firstName', 'lastName'] }),
    );
    assert.deepEqual(namesOnly.hashed, { address: { hashedFirstName: sha('jane'), hashedLastName: sha('doe-smith') } });

    const none = found(await read({ contactId: '1001', stage: 'customer', sharedFields: [] }));
    assert.deepEqual(none.hashed, {});
    assert.deepEqual(none.clickIds, { gclid: 'Cj0KCQ-test-gclid', gclidRecordedAt: '2025-12-24T00:00:00.000Z' });
  });

  test('phone falls back to mobilephone, read in the contact’s country written as a name', async () => {
    emulator.upsertContact('1002', { mobilephone: '030 1234567', country: 'Deutschland', lifecyclestage: 'lead' });
    const result = found(await read({ contactId: '1002', stage: 'lead', sharedFields: ['phone'] }));
    assert.deepEqual(result.hashed, { hashedPhoneNumber: sha('+49301234567') });
    assert.ok(!visible(result).includes('1234567'));
  });

  test('unusable values are dropped with a reason and never echoed', async () => {
    emulator.upsertContact('1003', {
      email: 'not-an-email',
      city: 'Springfield',
      country: 'Atlantis',
      lifecyclestage: 'lead',
    });
    const result = found(await read({ contactId: '1003', stage: 'lead', sharedFields: ['email', 'address'] }));
    assert.deepEqual(result.hashed, {});
    assert.deepEqual(
      result.dropped.map((d) => d.field),
      ['email', 'city', 'countryCode'],
    );
    const json = visible(result);
    for (const plain of ['not-an-email', 'Springfield', 'Atlantis']) assert.ok(!json.includes(plain), plain);
  });

  test('stage timestamps in epoch milliseconds become ISO; a missing one is absent', async () => {
    const lead = found(await read({ contactId: '1001', stage: 'lead', sharedFields: [] }));
    assert.equal(lead.stageEnteredAt, '2026-01-02T03:04:05.000Z');
    const opportunity = found(await read({ contactId: '1001', stage: 'opportunity', sharedFields: [] }));
    assert.equal(opportunity.stageEnteredAt, undefined);
    assert.ok(!('stageEnteredAt' in opportunity));
  });

  test('the click id is dated by the first time HubSpot recorded its current value', async () => {
    const day = 86_400_000;
    const t0 = Date.parse('2026-02-01T12:00:00.000Z');
    emulator.upsertContact('1010', { email: 'a@example.com', hs_google_click_id: 'gclid-first' }, t0);
    emulator.upsertContact('1010', { hs_google_click_id: 'gclid-second' }, t0 + 10 * day);
    const snapshot = found(await read({ contactId: '1010', stage: 'customer', sharedFields: ['email'] }));
    assert.deepEqual(snapshot.clickIds, { gclid: 'gclid-second', gclidRecordedAt: '2026-02-11T12:00:00.000Z' });
    const get = emulator.requests.filter((r) => r.path === '/crm/v3/objects/contacts/1010').at(-1);
    assert.equal(get?.query.propertiesWithHistory, 'hs_google_click_id');

    // Cleared, then the same click id again: only the run since it came back counts.
    emulator.upsertContact('1010', { hs_google_click_id: null }, t0 + 20 * day);
    emulator.upsertContact('1010', { hs_google_click_id: 'gclid-second' }, t0 + 30 * day);
    const again = found(await read({ contactId: '1010', stage: 'customer', sharedFields: ['email'] }));
    assert.equal(again.clickIds.gclidRecordedAt, '2026-03-03T12:00:00.000Z');

    emulator.upsertContact('1011', { email: 'b@example.com' }, t0);
    const none = found(await read({ contactId: '1011', stage: 'customer', sharedFields: ['email'] }));
    assert.deepEqual(none.clickIds, {});
  });

  test('gbraid and wbraid are read from the portal’s properties for them, trimmed', async () => {
    emulator.upsertContact('1012', { email: 'c@example.com', site_gbraid: ' 0AAAAA-gbraid ', site_wbraid: '' });
    const req: ReadContactRequest = {
      contactId: '1012',
      stage: 'customer',
      sharedFields: ['email'],
      clickIdProperties: { gbraid: 'site_gbraid', wbraid: 'site_wbraid' },
    };
    const snapshot = found(await read(req));
    assert.deepEqual(snapshot.clickIds, { gbraid: '0AAAAA-gbraid' });
    assert.ok(requestedProperties().includes('site_gbraid') && requestedProperties().includes('site_wbraid'));

    const noProperties = found(await read({ ...req, clickIdProperties: undefined }));
    assert.deepEqual(noProperties.clickIds, {});
    const bad = await failure(read({ ...req, clickIdProperties: { wbraid: 'not a name' } }));
    assert.equal(bad.type, HubSpotFailure.Invalid);
  });

  test('a missing contact is { found: false }', async () => {
    assert.deepEqual(await read({ contactId: '999999', stage: 'customer', sharedFields: ALL_FIELDS }), {
      found: false,
    });
  });

  test('a missing contact id, malformed stage or consent property is HubSpotInvalid before any request', async () => {
    for (const req of [
      { contactId: '', stage: 'customer', sharedFields: [] },
      { contactId: '1001', stage: 'customer&properties=email', sharedFields: [] },
      { contactId: '1001', stage: 'customer', consentProperty: 'a b', sharedFields: [] },
      { contactId: '1001', stage: 'customer', sharedFields: ['ssn'] as unknown as ReadContactRequest['sharedFields'] },
    ]) {
      const err = await failure(read(req));
      assert.equal(err.type, HubSpotFailure.Invalid);
      assert.equal(err.nonRetryable, true);
    }
    assert.equal(emulator.requests.length, 0);
  });

  test('DAILY rate limit → HubSpotRateLimited, retryable, parked for the long delay', async () => {
    emulator.setFault({ type: 'rate-limit', policy: 'DAILY' });
    const err = await failure(read({ contactId: '1001', stage: 'customer', sharedFields: ['email'] }));
    assert.equal(err.type, HubSpotFailure.RateLimited);
    assert.equal(err.nonRetryable, false);
    assert.equal(err.nextRetryDelay, HUBSPOT_DAILY_LIMIT_RETRY_MS);
  });

  test('ten-secondly rate limit → HubSpotRateLimited left to the workflow’s backoff', async () => {
    emulator.setFault({ type: 'rate-limit', policy: 'TEN_SECONDLY_ROLLING' });
    const err = await failure(readDeal('1001'));
    assert.equal(err.type, HubSpotFailure.RateLimited);
    assert.equal(err.nonRetryable, false);
    assert.equal(err.nextRetryDelay, undefined);
  });

  test('5xx → HubSpotTransient; 401 → HubSpotAuthError retried slowly, without the token in the message', async () => {
    emulator.setFault({ type: 'server-error', status: 502 });
    const transient = await failure(read({ contactId: '1001', stage: 'customer', sharedFields: [] }));
    assert.equal(transient.type, HubSpotFailure.Transient);
    assert.equal(transient.nonRetryable, false);
    emulator.setFault(undefined);

    const badToken = 'pat-na1-revoked-token';
    const crm = new HubSpotCrmClient({ accessToken: badToken, basePath: emulator.basePath });
    const unauthorized = createHubSpotActivities({ crm });
    const auth = await failure(read({ contactId: '1001', stage: 'customer', sharedFields: [] }, unauthorized));
    assert.equal(auth.type, HubSpotFailure.Auth);
    assert.equal(auth.nonRetryable, false);
    assert.equal(auth.nextRetryDelay, HUBSPOT_AUTH_RETRY_DELAY_MS);
    assert.ok(!auth.message.includes(badToken));
    assert.equal(auth.cause, undefined);
  });

  test('readMostRecentDeal returns the newest deal, or null', async () => {
    emulator.upsertContact('2001', {});
    emulator.upsertDeal(
      '9001',
      { amount: '100', hs_deal_stage_probability: '0.5', createdate: '2026-01-01T00:00:00Z' },
      ['2001'],
    );
    emulator.upsertDeal(
      '9002',
      {
        amount: '300',
        hs_deal_stage_probability: '1',
        hs_is_closed: 'true',
        hs_is_closed_won: 'true',
        createdate: '2026-02-01T00:00:00Z',
      },
      ['2001'],
    );
    assert.deepEqual(await readDeal('2001'), {
      id: '9002',
      amount: 300,
      probability: 1,
      closed: true,
      closedWon: true,
      createdAt: '2026-02-01T00:00:00.000Z',
    });
    assert.equal(await readDeal('1003'), null);
  });
});

describe('countryCodeFromHubSpot', () => {
  test('codes, English and local names, aliases; unknown or non-country regions are undefined', () => {
    assert.equal(countryCodeFromHubSpot('us'), 'US');
    assert.equal(countryCodeFromHubSpot('UK'), 'GB');
    assert.equal(countryCodeFromHubSpot(' United States '), 'US');
    assert.equal(countryCodeFromHubSpot('USA'), 'US');
    assert.equal(countryCodeFromHubSpot('Deutschland'), 'DE');
    assert.equal(countryCodeFromHubSpot('España'), 'ES');
    assert.equal(countryCodeFromHubSpot('Côte d’Ivoire'), 'CI');
    assert.equal(countryCodeFromHubSpot('European Union'), undefined);
    assert.equal(countryCodeFromHubSpot('Atlantis'), undefined);
    assert.equal(countryCodeFromHubSpot(undefined), undefined);
  });
});

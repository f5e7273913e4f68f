// The HubSpot emulator over plain HTTP: its wire format, control API and fault switches.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot/emulator';

const TOKEN = 'pat-na1-emulator-test-token';
let emulator: HubSpotEmulator;

interface ObjectJson {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  archived: boolean;
}
interface ErrorJson {
  status: string;
  message: string;
  category?: string;
  correlationId: string;
  policyName?: string;
  errorType?: string;
}
interface PageJson<T> {
  results: T[];
  paging?: { next: { after: string; link: string } };
}
interface AssociationJson {
  toObjectId: number;
  associationTypes: { category: string; typeId: number; label: string | null }[];
}
interface BatchJson extends PageJson<ObjectJson> {
  status: string;
  numErrors?: number;
  errors?: { category: string; context: { ids: string[] } }[];
}
interface PropertyJson {
  name: string;
  type: string;
  fieldType: string;
  groupName: string;
  hubspotDefined?: boolean;
}
interface RecordedJson {
  method: string;
  path: string;
  query: unknown;
  status: number;
  headers: Record<string, unknown>;
}

/** `T` is the shape the test expects the emulator to answer with; the assertions check it. */
async function call<T = ErrorJson>(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; json: T; headers: Headers }> {
  const res = await fetch(`${emulator.basePath}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

describe('HubSpot emulator', () => {
  before(async () => {
    emulator = await startHubSpotEmulator({ accessToken: TOKEN });
  });
  after(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    emulator.setFault(undefined);
    emulator.requests.length = 0;
  });

  test('seeded contacts read back in HubSpot JSON: requested properties, null when unset, unknown names left out', async () => {
    const seeded = await call<{ ids: string[] }>('POST', '/_sandbox/contacts', {
      id: '501',
      properties: { email: 'ada@example.com', firstname: 'Ada', hs_google_click_id: 'gclid-501' },
    });
    assert.equal(seeded.status, 200);
    assert.deepEqual(seeded.json, { ids: ['501'] });

    const res = await call<ObjectJson>(
      'GET',
      '/crm/v3/objects/contacts/501?properties=email,phone&properties=hs_google_click_id,nope',
    );
    assert.equal(res.status, 200);
    assert.equal(res.json.id, '501');
    assert.equal(res.json.archived, false);
    assert.ok(!Number.isNaN(Date.parse(res.json.createdAt)));
    assert.equal(res.json.properties.email, 'ada@example.com');
    assert.equal(res.json.properties.phone, null);
    assert.equal(res.json.properties.hs_google_click_id, 'gclid-501');
    assert.equal(res.json.properties.hs_object_id, '501');
    assert.ok('createdate' in res.json.properties && 'lastmodifieddate' in res.json.properties);
    assert.ok(!('nope' in res.json.properties));
    assert.ok(!('firstname' in res.json.properties), 'only asked-for properties come back');

    const byEmail = await call<ObjectJson>('GET', '/crm/v3/objects/contacts/ADA@example.com?idProperty=email');
    assert.equal(byEmail.json.id, '501');
  });

  test('the control API takes arrays, assigns ids, merges on upsert and rejects non-numeric ids', async () => {
    const created = await call<{ ids: string[] }>('POST', '/_sandbox/contacts', [
      { properties: { email: 'a@example.com' } },
      {},
    ]);
    assert.equal(created.status, 200);
    assert.equal(created.json.ids.length, 2);
    assert.ok(created.json.ids.every((id: string) => /^\d+$/.test(id)));

    await call('POST', '/_sandbox/contacts', { id: created.json.ids[0], properties: { firstname: 'A' } });
    const merged = await call<ObjectJson>(
      'GET',
      `/crm/v3/objects/contacts/${created.json.ids[0]}?properties=email,firstname`,
    );
    assert.equal(merged.json.properties.email, 'a@example.com');
    assert.equal(merged.json.properties.firstname, 'A');

    const bad = await call('POST', '/_sandbox/contacts', { id: 'abc', properties: {} });
    assert.equal(bad.status, 400);
  });

  test('property history: a change per new value, newest first, dated by the seed `at`; batch reads too', async () => {
    await call('POST', '/_sandbox/contacts', {
      id: '520',
      properties: { email: 'h@example.com', hs_google_click_id: 'gclid-a' },
      at: '2026-04-01T08:00:00Z',
    });
    await call('POST', '/_sandbox/contacts', { id: '520', properties: { hs_google_click_id: 'gclid-a' }, at: 1 });
    await call('POST', '/_sandbox/contacts', {
      id: '520',
      properties: { hs_google_click_id: 'gclid-b' },
      at: Date.parse('2026-04-03T08:00:00Z'),
    });
    type WithHistory = ObjectJson & {
      propertiesWithHistory?: Record<string, { value: string; timestamp: string; sourceType: string }[]>;
    };
    const res = await call<WithHistory>(
      'GET',
      '/crm/v3/objects/contacts/520?properties=email&propertiesWithHistory=hs_google_click_id,phone,nope',
    );
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.json.propertiesWithHistory?.hs_google_click_id?.map(({ value, timestamp }) => [value, timestamp]),
      [
        ['gclid-b', '2026-04-03T08:00:00.000Z'],
        ['gclid-a', '2026-04-01T08:00:00.000Z'],
      ],
      'rewriting the same value adds no entry',
    );
    assert.equal(res.json.propertiesWithHistory?.hs_google_click_id?.[0]?.sourceType, 'API');
    assert.deepEqual(Object.keys(res.json.propertiesWithHistory ?? {}), ['hs_google_click_id']);

    const plain = await call<WithHistory>('GET', '/crm/v3/objects/contacts/520?properties=email');
    assert.ok(!('propertiesWithHistory' in plain.json));

    const batch = await call<{ results: WithHistory[] }>('POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: [{ id: '520' }],
      properties: [],
      propertiesWithHistory: ['email'],
    });
    assert.equal(batch.json.results[0]?.propertiesWithHistory?.email?.[0]?.value, 'h@example.com');

    const bad = await call('POST', '/_sandbox/contacts', { id: '521', properties: {}, at: 'yesterday' });
    assert.equal(bad.status, 400);
  });

  test('an unknown id is a 404 in HubSpot error JSON', async () => {
    const res = await call('GET', '/crm/v3/objects/contacts/987654321');
    assert.equal(res.status, 404);
    assert.equal(res.json.status, 'error');
    assert.equal(res.json.category, 'OBJECT_NOT_FOUND');
    assert.match(res.json.correlationId, /^[0-9a-f-]{36}$/);
  });

  test('deal associations come back through the v4 endpoint, with numeric toObjectId and type 4', async () => {
    emulator.upsertContact('601', { email: 'b@example.com' });
    emulator.upsertContact('602', { email: 'c@example.com' });
    emulator.upsertDeal('7001', { amount: 100 }, ['601']);
    emulator.upsertDeal('7002', { amount: 200 }, ['601', '602']);

    const res = await call<PageJson<AssociationJson>>('GET', '/crm/v4/objects/contacts/601/associations/deals');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {
      results: [
        { toObjectId: 7001, associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 4, label: null }] },
        { toObjectId: 7002, associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 4, label: null }] },
      ],
    });
    const paged = await call<PageJson<AssociationJson>>(
      'GET',
      '/crm/v4/objects/contacts/601/associations/deals?limit=1',
    );
    assert.equal(paged.json.results.length, 1);
    const rest = await call<PageJson<AssociationJson>>(
      'GET',
      `/crm/v4/objects/contacts/601/associations/deals?limit=1&after=${paged.json.paging?.next.after}`,
    );
    assert.equal(rest.json.results[0]?.toObjectId, 7002);
    assert.equal(rest.json.paging, undefined);

    const back = await call<PageJson<AssociationJson>>('GET', '/crm/v4/objects/deals/7002/associations/contacts');
    assert.deepEqual(
      back.json.results.map((r: { toObjectId: number }) => r.toObjectId),
      [601, 602],
    );
    assert.equal((await call('GET', '/crm/v4/objects/contacts/999999/associations/deals')).status, 404);
  });

  test('deal batch read: 200 when all exist, 207 with an OBJECT_NOT_FOUND error otherwise, 400 over 100 inputs', async () => {
    emulator.upsertDeal('7101', { amount: '1500.5', hs_is_closed: false, createdate: '2026-01-02T03:04:05.000Z' });
    const ok = await call<BatchJson>('POST', '/crm/v3/objects/deals/batch/read', {
      inputs: [{ id: '7101' }],
      properties: ['amount', 'hs_is_closed'],
      propertiesWithHistory: [],
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.status, 'COMPLETE');
    assert.equal(ok.json.results[0]?.properties.amount, '1500.5');
    assert.equal(ok.json.results[0]?.properties.hs_is_closed, 'false');
    assert.equal(ok.json.results[0]?.createdAt, '2026-01-02T03:04:05.000Z');

    const partial = await call<BatchJson>('POST', '/crm/v3/objects/deals/batch/read', {
      inputs: [{ id: '7101' }, { id: '424242' }],
      properties: ['amount'],
      propertiesWithHistory: [],
    });
    assert.equal(partial.status, 207);
    assert.equal(partial.json.results.length, 1);
    assert.equal(partial.json.numErrors, 1);
    assert.equal(partial.json.errors?.[0]?.category, 'OBJECT_NOT_FOUND');
    assert.deepEqual(partial.json.errors?.[0]?.context.ids, ['424242']);

    const tooMany = await call('POST', '/crm/v3/objects/deals/batch/read', {
      inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i + 1) })),
      properties: [],
      propertiesWithHistory: [],
    });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.json.category, 'VALIDATION_ERROR');
  });

  test('companies and contacts page with an `after` cursor; limit is capped at 100', async () => {
    const ids = ['8001', '8002', '8003', '8004', '8005'];
    for (const id of ids) emulator.upsertCompany(id, { name: `Company ${id}`, domain: `c${id}.example.com` });
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const res = await call<PageJson<ObjectJson>>(
        'GET',
        `/crm/v3/objects/companies?limit=2${after ? `&after=${after}` : ''}`,
      );
      assert.equal(res.status, 200);
      pages += 1;
      for (const r of res.json.results) {
        seen.push(r.id);
        assert.equal(r.properties.name, `Company ${r.id}`);
        assert.equal(r.properties.domain, `c${r.id}.example.com`);
      }
      after = res.json.paging?.next?.after;
      if (after) assert.match(res.json.paging?.next.link ?? '', /after=/);
    } while (after);
    assert.deepEqual(seen, ids);
    assert.equal(pages, 3);
    assert.equal((await call('GET', '/crm/v3/objects/companies?limit=101')).status, 400);
    assert.equal((await call('GET', '/crm/v3/objects/widgets')).status, 400);
  });

  test('the properties endpoint lists HubSpot-defined and seeded custom properties', async () => {
    emulator.upsertContact('901', { ads_consent_custom: 'yes' });
    const res = await call<PageJson<PropertyJson>>('GET', '/crm/v3/properties/contacts');
    assert.equal(res.status, 200);
    const byName = new Map(res.json.results.map((p: { name: string }) => [p.name, p]));
    const gclid = byName.get('hs_google_click_id') as Record<string, unknown>;
    assert.equal(gclid.groupName, 'conversioninformation');
    assert.equal(gclid.type, 'string');
    assert.equal(gclid.fieldType, 'text');
    assert.equal((byName.get('hs_v2_date_entered_customer') as Record<string, unknown>).type, 'datetime');
    assert.equal((byName.get('ads_consent_custom') as Record<string, unknown>).hubspotDefined, undefined);
    const deals = await call<PageJson<PropertyJson>>('GET', '/crm/v3/properties/deals');
    assert.ok(deals.json.results.some((p: { name: string }) => p.name === 'hs_deal_stage_probability'));
  });

  test('a missing or wrong bearer token is a 401 INVALID_AUTHENTICATION; the control API needs none', async () => {
    const none = await call('GET', '/crm/v3/objects/contacts/501', undefined, null);
    assert.equal(none.status, 401);
    assert.equal(none.json.category, 'INVALID_AUTHENTICATION');
    const wrong = await call('GET', '/crm/v3/objects/contacts/501', undefined, 'someone-else');
    assert.equal(wrong.status, 401);
    assert.equal((await call('GET', '/_sandbox/requests', undefined, null)).status, 200);
  });

  test('requests are recorded with status and without the authorization header, and can be cleared', async () => {
    await call('GET', '/crm/v3/objects/contacts/987?properties=email');
    const res = await call<RecordedJson[]>('GET', '/_sandbox/requests', undefined, null);
    assert.equal(res.json.length, 1);
    const [r] = res.json;
    assert.ok(r);
    assert.equal(r.method, 'GET');
    assert.equal(r.path, '/crm/v3/objects/contacts/987');
    assert.deepEqual(r.query, { properties: 'email' });
    assert.equal(r.status, 404);
    assert.equal(r.headers.authorization, undefined);
    assert.ok(!JSON.stringify(res.json).includes(TOKEN));
    assert.equal((await call('DELETE', '/_sandbox/requests', undefined, null)).status, 204);
    assert.equal(emulator.requests.length, 0);
  });

  test('PUT /_sandbox/fault: DAILY rate limit for two requests, with HubSpot body and headers, then recovery', async () => {
    emulator.upsertContact('1101', { email: 'd@example.com' });
    assert.equal(
      (await call('PUT', '/_sandbox/fault', { type: 'rate-limit', policy: 'DAILY', times: 2 }, null)).status,
      204,
    );
    assert.deepEqual((await call<{ remaining: number }>('GET', '/_sandbox/fault', undefined, null)).json.remaining, 2);
    for (let i = 0; i < 2; i++) {
      const res = await call('GET', '/crm/v3/objects/contacts/1101');
      assert.equal(res.status, 429);
      assert.equal(res.json.policyName, 'DAILY');
      assert.equal(res.json.errorType, 'RATE_LIMIT');
      assert.equal(res.json.message, 'You have reached your daily limit.');
      assert.equal(res.headers.get('x-hubspot-ratelimit-daily-remaining'), '0');
    }
    assert.equal((await call('GET', '/crm/v3/objects/contacts/1101')).status, 200);
    assert.deepEqual((await call<unknown>('GET', '/_sandbox/fault', undefined, null)).json, {
      fault: null,
      remaining: null,
      expiresAt: null,
    });
  });

  test('ten-secondly rate limit and server errors; PUT null and DELETE clear a fault; bad faults are 400', async () => {
    emulator.upsertContact('1201', {});
    await call('PUT', '/_sandbox/fault', { type: 'rate-limit', policy: 'TEN_SECONDLY_ROLLING' }, null);
    const limited = await call('GET', '/crm/v3/objects/contacts/1201');
    assert.equal(limited.status, 429);
    assert.equal(limited.json.policyName, 'TEN_SECONDLY_ROLLING');
    assert.equal(limited.headers.get('x-hubspot-ratelimit-remaining'), '0');
    assert.equal((await call('GET', '/crm/v3/objects/contacts/1201')).status, 429, 'no `times` means until cleared');
    await call('PUT', '/_sandbox/fault', null, null);
    assert.equal((await call('GET', '/crm/v3/objects/contacts/1201')).status, 200);

    emulator.setFault({ type: 'server-error', status: 503 });
    const down = await call('POST', '/crm/v3/objects/deals/batch/read', { inputs: [], properties: [] });
    assert.equal(down.status, 503);
    assert.equal(down.json.status, 'error');
    await call('DELETE', '/_sandbox/fault', undefined, null);
    assert.equal((await call('GET', '/crm/v3/objects/contacts/1201')).status, 200);

    assert.equal((await call('PUT', '/_sandbox/fault', { type: 'rate-limit', policy: 'HOURLY' }, null)).status, 400);
  });

  test('an auth failure wins over a fault, as HubSpot checks the token first', async () => {
    emulator.setFault({ type: 'server-error' });
    assert.equal((await call('GET', '/crm/v3/objects/contacts/1', undefined, 'wrong')).status, 401);
  });
});

describe('HubSpot emulator with seedDemo', () => {
  test('seeds demo contacts with deals, and a second emulator on the same process is independent', async () => {
    const demo = await startHubSpotEmulator({ seedDemo: true });
    const plain = await startHubSpotEmulator();
    try {
      const read = (base: string, path: string) =>
        fetch(`${base}${path}`, { headers: { authorization: 'Bearer anything' } });
      const jane = await read(demo.basePath, '/crm/v3/objects/contacts/1001?properties=email,hs_google_click_id');
      assert.equal(jane.status, 200);
      const body = (await jane.json()) as { properties: Record<string, string> };
      assert.ok(body.properties.hs_google_click_id);
      const deals = (await (await read(demo.basePath, '/crm/v4/objects/contacts/1001/associations/deals')).json()) as {
        results: unknown[];
      };
      assert.equal(deals.results.length, 2);
      assert.equal((await read(plain.basePath, '/crm/v3/objects/contacts/1001')).status, 404);
    } finally {
      await demo.close();
      await plain.close();
    }
  });
});

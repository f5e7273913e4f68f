// The HubSpot call reader (the real @hubspot/api-client) against the HubSpot emulator over HTTP: call outcomes,
// inbound calls modified since an instant in modification order, paging that survives calls being modified
// and HubSpot's 10,000-result cap, associations, deal amounts, ids past 2^53 and 429s. Also the emulator's
// call search itself: filters, sorts, limits and the cap.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HUBSPOT_CALL_PROPERTIES, HubSpotCallReader, type HubSpotCall } from '../../src/clients/hubspot/calls';
import { HubSpotError } from '../../src/clients/hubspot/errors';
import { HubSpotRateLimiter } from '../../src/clients/hubspot/rate-limit';
import {
  DEMO_CALL_IDS,
  DEMO_CONTACT_IDS,
  HUBSPOT_CALL_DISPOSITION_IDS,
  startHubSpotEmulator,
  type HubSpotEmulator,
} from '../../src/sandbox/hubspot';

const TOKEN = 'calls-token';
const fast = new HubSpotRateLimiter({ max: 1000, intervalMs: 1000 });
const CONNECTED = HUBSPOT_CALL_DISPOSITION_IDS.Connected;

/** The emulator's clock, moved by the tests so every write has a known hs_lastmodifieddate. */
let clock = Date.parse('2026-03-01T00:00:00.000Z');
let hubspot: HubSpotEmulator;
let reader: HubSpotCallReader;

before(async () => {
  hubspot = await startHubSpotEmulator({ accessToken: TOKEN, rateLimit: false, now: () => clock });
  reader = new HubSpotCallReader({ accessToken: TOKEN, basePath: hubspot.basePath, limiter: fast });
});
after(async () => {
  await hubspot?.close();
});

/** A fresh stretch of the clock, clear of every earlier test's calls; returns its start. */
function newEra(): number {
  clock += 86_400_000;
  return clock;
}

function inbound(n: number, extra: Record<string, string | number> = {}) {
  return {
    hs_call_direction: 'INBOUND',
    hs_call_from_number: `+1 212-555-01${String(n % 100).padStart(2, '0')}`,
    hs_timestamp: new Date(clock - 60_000).toISOString(),
    hs_call_duration: 1000 * n,
    hs_call_disposition: CONNECTED,
    ...extra,
  };
}

/** Every page from `since` on. */
async function readAll(
  from: HubSpotCallReader,
  since: number,
  limit?: number,
): Promise<{ calls: HubSpotCall[]; pages: number }> {
  const calls: HubSpotCall[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await from.modifiedInboundCalls({ since, cursor, limit });
    pages += 1;
    calls.push(...page.calls);
    cursor = page.cursor;
    assert.ok(pages < 1000, 'paging must end');
  } while (cursor);
  return { calls, pages };
}

function assertModificationOrder(calls: HubSpotCall[]) {
  for (let i = 1; i < calls.length; i++) {
    assert.ok((calls[i - 1]?.lastModifiedMs ?? 0) <= (calls[i]?.lastModifiedMs ?? 0), `out of order at ${i}`);
  }
}

async function http<T>(base: string, method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: (text ? JSON.parse(text) : undefined) as T };
}

interface SearchJson {
  total: number;
  results: { id: string; properties: Record<string, string | null> }[];
  paging?: { next: { after: string } };
  category?: string;
}

describe('HubSpotCallReader', () => {
  test('dispositions: HubSpot default outcomes and their GUIDs, read with the token', async () => {
    hubspot.requests.length = 0;
    const outcomes = await reader.dispositions();
    assert.deepEqual(
      outcomes.map((o) => o.label),
      ['Busy', 'Connected', 'Left live message', 'Left voicemail', 'No answer', 'Wrong number'],
    );
    assert.equal(outcomes.find((o) => o.label === 'Connected')?.id, 'f240bbac-87c9-4f6e-bf70-924b57d47db7');
    assert.equal(outcomes.find((o) => o.label === 'No answer')?.id, '73a0d17f-1163-4015-bdd5-ec830791da20');
    assert.deepEqual(
      hubspot.requests.map((r) => [r.method, r.path, r.status]),
      [['GET', '/calling/v1/dispositions', 200]],
    );
    assert.equal((await http(hubspot.basePath, 'GET', '/calling/v1/dispositions', undefined, null)).status, 401);
    assert.equal((await http(hubspot.basePath, 'GET', '/calls/v1/dispositions')).status, 200);
  });

  test('only inbound calls modified after `since` (exclusive), oldest modification first, only the needed properties', async () => {
    const since = newEra();
    const atSince = hubspot.addCall({ properties: inbound(1) });
    clock += 1000;
    const outbound = hubspot.addCall({ properties: inbound(2, { hs_call_direction: 'OUTBOUND' }) });
    clock += 1000;
    const later = hubspot.addCall({
      // Epoch milliseconds as text, as HubSpot keeps hs_timestamp when an integration wrote it that way.
      properties: inbound(3, { hs_timestamp: String(since - 5000), hs_call_from_number: '(212) 555-0199' }),
    });
    clock -= 500;
    const earlier = hubspot.addCall({ properties: inbound(4, { hs_timestamp: '2026-02-27T10:00:00Z' }) });
    const bare = hubspot.addCall({ properties: { hs_call_direction: 'INBOUND' } });
    clock += 10_000;

    hubspot.requests.length = 0;
    const page = await reader.modifiedInboundCalls({ since });
    assert.equal(page.cursor, undefined, 'one page holds them all');
    const ids = page.calls.map((c) => c.id);
    assert.ok(!ids.includes(atSince), 'since is exclusive');
    assert.ok(!ids.includes(outbound), 'outbound calls are left out');
    assert.deepEqual(new Set(ids.slice(0, 2)), new Set([earlier, bare]), 'modified at the same instant');
    assert.deepEqual(ids.slice(2), [later]);
    assertModificationOrder(page.calls);

    const byId = new Map(page.calls.map((c) => [c.id, c]));
    assert.deepEqual(byId.get(later), {
      id: later,
      direction: 'INBOUND',
      fromNumber: '(212) 555-0199',
      timestampMs: since - 5000,
      durationMs: 3000,
      dispositionId: CONNECTED,
      lastModifiedMs: since + 2000,
      contactIds: [],
      dealIds: [],
    });
    assert.equal(byId.get(earlier)?.timestampMs, Date.parse('2026-02-27T10:00:00Z'), 'ISO hs_timestamp');
    assert.deepEqual(byId.get(bare), {
      id: bare,
      direction: 'INBOUND',
      lastModifiedMs: since + 1500,
      contactIds: [],
      dealIds: [],
    });

    const search = hubspot.requests.find((r) => r.path === '/crm/v3/objects/calls/search');
    const body = search?.body as { filterGroups: unknown; sorts: unknown; properties: unknown };
    assert.deepEqual(body.filterGroups, [
      {
        filters: [
          { propertyName: 'hs_call_direction', operator: 'EQ', value: 'INBOUND' },
          { propertyName: 'hs_lastmodifieddate', operator: 'GT', value: String(since) },
        ],
      },
    ]);
    assert.deepEqual(body.sorts, [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }]);
    assert.deepEqual(body.properties, [...HUBSPOT_CALL_PROPERTIES]);
  });

  test('pages of `limit` in modification order; calls sharing an instant across a page boundary come once each', async () => {
    const since = newEra();
    const added: string[] = [];
    for (let i = 0; i < 25; i++) {
      // Calls 7 to 12 share one instant, across the boundary of the first page of 10.
      if (i <= 7 || i > 12) clock += 1000;
      added.push(hubspot.addCall({ properties: inbound(i) }));
    }
    clock += 1000;
    hubspot.requests.length = 0;
    const sizes: number[] = [];
    const calls: HubSpotCall[] = [];
    let cursor: string | undefined;
    do {
      const page = await reader.modifiedInboundCalls({ since, cursor, limit: 10 });
      sizes.push(page.calls.length);
      calls.push(...page.calls);
      cursor = page.cursor;
    } while (cursor);
    assert.equal(calls.length, 25, 'no call twice');
    assert.deepEqual(new Set(calls.map((c) => c.id)), new Set(added), 'no call missed');
    assert.ok(sizes.length >= 3, `more than two pages (${sizes.join(', ')})`);
    assert.ok(
      sizes.every((n) => n > 0 && n <= 10),
      `pages hold 1 to 10 calls (${sizes.join(', ')})`,
    );
    assert.equal(sizes[0], 10);
    assertModificationOrder(calls);
    const searches = hubspot.requests.filter((r) => r.path === '/crm/v3/objects/calls/search');
    assert.ok(searches.every((r) => (r.body as { limit: number }).limit === 10));
    assert.ok(
      searches.every((r) => (r.body as { after?: unknown }).after === undefined),
      'every page restarts the search instead of following offsets',
    );
  });

  test('a call modified while paging is not skipped, and comes back with its new values', async () => {
    const since = newEra();
    const added: string[] = [];
    for (let i = 0; i < 30; i++) {
      clock += 1000;
      added.push(hubspot.addCall({ properties: inbound(i) }));
    }
    const first = await reader.modifiedInboundCalls({ since, limit: 10 });
    assert.equal(first.calls.length, 10);
    // Modifying a call already read moves it to the end of the list; with offset paging, the call that
    // then slides into its place would never be read.
    const readAlready = added[2] ?? '';
    const notYetRead = added[20] ?? '';
    clock += 1000;
    hubspot.updateCall(readAlready, { hs_call_disposition: HUBSPOT_CALL_DISPOSITION_IDS['Wrong number'] });
    clock += 1000;
    hubspot.updateCall(notYetRead, { hs_call_duration: 999_000 });
    const rest: HubSpotCall[] = [];
    let cursor = first.cursor;
    while (cursor) {
      const page = await reader.modifiedInboundCalls({ since, cursor, limit: 10 });
      rest.push(...page.calls);
      cursor = page.cursor;
    }
    const all = [...first.calls, ...rest];
    assert.deepEqual(new Set(all.map((c) => c.id)), new Set(added), 'every call read');
    assert.equal(all.filter((c) => c.id === readAlready).length, 2, 'the modified call comes again');
    assert.equal(all.filter((c) => c.id === notYetRead).length, 1);
    assert.equal(all.length, 31);
    assert.equal(rest.at(-2)?.id, readAlready);
    assert.equal(rest.at(-2)?.dispositionId, HUBSPOT_CALL_DISPOSITION_IDS['Wrong number']);
    assert.equal(rest.at(-1)?.id, notYetRead);
    assert.equal(rest.at(-1)?.durationMs, 999_000);
  });

  test('associated contacts and deals, deal amounts, and ids past 2^53 exactly as HubSpot sends them', async () => {
    const since = newEra();
    clock += 1000;
    const bigCall = '90071992547409931';
    const bigContact = '123456789012345678';
    const bigDeal = '987654321098765432';
    assert.notEqual(String(Number(bigContact)), bigContact, 'the id is one a JSON number would round');
    hubspot.upsertDeal(bigDeal, { amount: '1234.5' });
    hubspot.upsertDeal('7301', { dealname: 'no amount' });
    hubspot.addCall({ id: bigCall, properties: inbound(1), contactIds: [bigContact, '501'], dealIds: [bigDeal] });
    clock += 1000;
    // More contacts than HubSpot returns for one call in one batch answer (500): the reader follows its paging.
    const crowd = Array.from({ length: 501 }, (_, i) => String(800_000 + i));
    const crowded = hubspot.addCall({ properties: inbound(2), contactIds: crowd, dealIds: ['7301'] });
    clock += 1000;
    const lonely = hubspot.addCall({ properties: inbound(3) });

    const raw = await http(hubspot.basePath, 'POST', '/crm/v4/associations/calls/contacts/batch/read', {
      inputs: [{ id: bigCall }],
    });
    assert.match(raw.text, new RegExp(`"toObjectId":${bigContact}[,}]`), 'HubSpot writes these ids as JSON numbers');

    hubspot.requests.length = 0;
    const page = await reader.modifiedInboundCalls({ since });
    const byId = new Map(page.calls.map((c) => [c.id, c]));
    assert.deepEqual(byId.get(bigCall)?.contactIds.sort(), [bigContact, '501'].sort());
    assert.deepEqual(byId.get(bigCall)?.dealIds, [bigDeal]);
    assert.deepEqual(new Set(byId.get(crowded)?.contactIds), new Set(crowd));
    assert.equal(byId.get(crowded)?.contactIds.length, 501);
    assert.deepEqual(byId.get(lonely)?.contactIds, []);
    assert.deepEqual(byId.get(lonely)?.dealIds, []);
    const contactReads = hubspot.requests.filter((r) => r.path === '/crm/v4/associations/calls/contacts/batch/read');
    const dealReads = hubspot.requests.filter((r) => r.path === '/crm/v4/associations/calls/deals/batch/read');
    assert.equal(dealReads.length, 1, 'one request per association type for the page');
    assert.equal(contactReads.length, 2, 'plus one to follow the crowded call');
    assert.deepEqual((contactReads[1]?.body as { inputs: unknown[] }).inputs, [{ id: crowded, after: '500' }]);

    const amounts = await reader.dealAmounts([bigDeal, '7301', '424242', bigDeal]);
    assert.deepEqual(
      [...amounts],
      [
        [bigDeal, 1234.5],
        ['7301', undefined],
        ['424242', undefined],
      ],
    );
    hubspot.requests.length = 0;
    const many = Array.from({ length: 150 }, (_, i) => String(9_000_000 + i));
    assert.equal((await reader.dealAmounts(many)).size, 150);
    const reads = hubspot.requests.filter((r) => r.path === '/crm/v3/objects/deals/batch/read');
    assert.deepEqual(
      reads.map((r) => (r.body as { inputs: unknown[]; properties: string[] }).inputs.length),
      [100, 50],
    );
    assert.deepEqual((reads[0]?.body as { properties: string[] }).properties, ['amount']);
  });

  test('a ten-secondly 429 is waited out as HubSpot says; a daily one, a 5xx and a bad cursor are thrown, without numbers', async () => {
    const waits: number[] = [];
    const patient = new HubSpotCallReader({
      accessToken: TOKEN,
      basePath: hubspot.basePath,
      limiter: fast,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    const since = newEra();
    clock += 1000;
    const id = hubspot.addCall({ properties: inbound(42) });
    hubspot.setFault({ type: 'rate-limit', policy: 'TEN_SECONDLY_ROLLING', times: 1 });
    const page = await patient.modifiedInboundCalls({ since });
    assert.deepEqual(
      page.calls.map((c) => c.id),
      [id],
    );
    assert.deepEqual(waits, [10_000], 'the window the 429 names');

    hubspot.setFault({ type: 'rate-limit', policy: 'DAILY', times: 1 });
    await assert.rejects(
      patient.dispositions(),
      (err: unknown) => err instanceof HubSpotError && err.policy === 'DAILY' && err.kind === 'rate-limit',
    );
    hubspot.setFault({ type: 'server-error', status: 503, times: 1 });
    await assert.rejects(patient.modifiedInboundCalls({ since }), (err: unknown) => {
      assert.ok(err instanceof HubSpotError);
      assert.equal(err.kind, 'transient');
      assert.equal(err.operation, 'search calls');
      assert.doesNotMatch(err.message, /555|212/);
      return true;
    });
    hubspot.setFault(undefined);
    await assert.rejects(
      patient.modifiedInboundCalls({ since, cursor: 'not-a-cursor' }),
      (err: unknown) => err instanceof HubSpotError && err.kind === 'invalid' && err.category === 'INVALID_CURSOR',
    );
    await assert.rejects(patient.modifiedInboundCalls({ since, limit: 201 }), RangeError);
  });
});

describe('past the 10,000-result cap', () => {
  let big: HubSpotEmulator;
  let bigReader: HubSpotCallReader;
  before(async () => {
    big = await startHubSpotEmulator({ accessToken: TOKEN, rateLimit: false });
    bigReader = new HubSpotCallReader({ accessToken: TOKEN, basePath: big.basePath, limiter: fast });
  });
  after(async () => {
    await big?.close();
  });

  const search = (after: number, limit: number) =>
    http<SearchJson>(big.basePath, 'POST', '/crm/v3/objects/calls/search', {
      filterGroups: [{ filters: [{ propertyName: 'hs_call_direction', operator: 'EQ', value: 'INBOUND' }] }],
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
      properties: ['hs_call_direction'],
      limit,
      after: String(after),
    });

  test('HubSpot answers 400 past 10,000 results, so offset paging cannot read 10,050 calls', async () => {
    big.setSyntheticCalls({ count: 10_050 });
    const ok = await search(9800, 200);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.total, 10_050);
    assert.equal(ok.json.results.length, 200);
    assert.equal(ok.json.paging?.next.after, '10000');
    const past = await search(9900, 200);
    assert.equal(past.status, 400);
    assert.equal(past.json.category, 'VALIDATION_ERROR');
    assert.equal((await search(Number(ok.json.paging?.next.after), 1)).status, 400);
  });

  test('the reader reads all 10,050 matching calls exactly once, in order, without a 400', async () => {
    big.setSyntheticCalls({ count: 10_050 });
    big.requests.length = 0;
    const { calls, pages } = await readAll(bigReader, 0, 200);
    assert.equal(calls.length, 10_050);
    assert.equal(new Set(calls.map((c) => c.id)).size, 10_050);
    assert.equal(calls[0]?.id, '300000000');
    assert.equal(calls.at(-1)?.id, String(300_000_000 + 10_049));
    assertModificationOrder(calls);
    assert.ok(pages >= 51, `${pages} pages`);
    assert.deepEqual(
      big.requests.filter((r) => r.status !== 200 && r.status !== 207),
      [],
      'no request was refused',
    );
  });

  test('10,050 calls modified at the same instant: read in id order, each exactly once', async () => {
    big.setSyntheticCalls({ count: 10_050, stepMs: 0 });
    big.requests.length = 0;
    const { calls } = await readAll(bigReader, 0, 200);
    assert.equal(calls.length, 10_050, 'no call twice');
    assert.equal(new Set(calls.map((c) => c.id)).size, 10_050, 'no call missed');
    assert.ok(big.requests.every((r) => r.status === 200 || r.status === 207));
    big.setSyntheticCalls(undefined);
  });
});

describe('HubSpot emulator: calls', () => {
  const search = (body: unknown) => http<SearchJson>(hubspot.basePath, 'POST', '/crm/v3/objects/calls/search', body);
  const idsOf = (res: { json: SearchJson }) => res.json.results.map((r) => r.id);

  test('search filters EQ, GT, GTE, LT, LTE and IN, groups ORed, with `total`, sorts and `after` paging', async () => {
    const since = newEra();
    const a = hubspot.addCall({ properties: inbound(1, { hs_call_duration: 10_000 }) });
    clock += 1000;
    const b = hubspot.addCall({ properties: inbound(2, { hs_call_duration: 20_000, hs_call_direction: 'OUTBOUND' }) });
    clock += 1000;
    const c = hubspot.addCall({ properties: inbound(3, { hs_call_duration: 30_000 }) });
    const modified = (operator: string, at: number) => ({
      propertyName: 'hs_lastmodifieddate',
      operator,
      value: String(at),
    });
    const sorted = [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }];
    const inEra = modified('GTE', since);

    const gt = await search({ filterGroups: [{ filters: [modified('GT', since)] }], sorts: sorted });
    assert.deepEqual(idsOf(gt), [b, c]);
    assert.equal(gt.json.total, 2);
    assert.deepEqual(idsOf(await search({ filterGroups: [{ filters: [inEra] }], sorts: sorted })), [a, b, c]);
    const iso = new Date(since + 1000).toISOString();
    assert.deepEqual(
      idsOf(
        await search({ filterGroups: [{ filters: [inEra, { ...modified('LTE', 0), value: iso }] }], sorts: sorted }),
      ),
      [a, b],
      'datetime filter values may be ISO text',
    );
    assert.deepEqual(
      idsOf(await search({ filterGroups: [{ filters: [inEra, modified('LT', since + 1000)] }], sorts: sorted })),
      [a],
    );
    assert.deepEqual(
      idsOf(
        await search({
          filterGroups: [
            { filters: [inEra, { propertyName: 'hs_call_direction', operator: 'EQ', value: 'OUTBOUND' }] },
          ],
        }),
      ),
      [b],
    );
    assert.deepEqual(
      idsOf(
        await search({
          filterGroups: [
            { filters: [inEra, { propertyName: 'hs_call_duration', operator: 'IN', values: ['10000', '30000'] }] },
          ],
          sorts: ['-hs_call_duration'],
        }),
      ),
      [c, a],
      'IN on a number, and the string form of a descending sort',
    );
    const ored = await search({
      filterGroups: [
        { filters: [inEra, { propertyName: 'hs_object_id', operator: 'EQ', value: a }] },
        { filters: [inEra, { propertyName: 'hs_call_duration', operator: 'GT', value: '25000' }] },
      ],
      sorts: sorted,
    });
    assert.deepEqual(idsOf(ored), [a, c]);

    const first = await search({ filterGroups: [{ filters: [inEra] }], sorts: sorted, limit: 2 });
    assert.deepEqual(idsOf(first), [a, b]);
    assert.equal(first.json.total, 3);
    assert.equal(first.json.paging?.next.after, '2');
    const second = await search({ filterGroups: [{ filters: [inEra] }], sorts: sorted, limit: 2, after: '2' });
    assert.deepEqual(idsOf(second), [c]);
    assert.equal(second.json.paging, undefined);
    const props = second.json.results[0]?.properties ?? {};
    assert.deepEqual(Object.keys(props).sort(), ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id']);
  });

  test('search refuses what HubSpot refuses: limit over 200, unknown operators, unreadable values', async () => {
    assert.equal((await search({ limit: 201 })).status, 400);
    assert.equal((await search({ limit: 200 })).status, 200);
    const bad = await search({
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'ROUGHLY', value: '1' }] }],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.category, 'VALIDATION_ERROR');
    const unreadable = await search({
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GT', value: 'yesterday' }] }],
    });
    assert.equal(unreadable.status, 400);
    assert.equal((await http(hubspot.basePath, 'POST', '/crm/v3/objects/calls/search', {}, null)).status, 401);
  });

  test('addCall stamps hs_lastmodifieddate with the clock, updateCall moves it; list and read by id', async () => {
    newEra();
    const id = hubspot.addCall({ properties: inbound(5, { hs_call_to_number: '+1 650-555-0100' }) });
    const created = clock;
    assert.throws(() => hubspot.addCall({ id }), /exists/);
    assert.throws(() => hubspot.updateCall('999999999999', {}), /no call/);
    type CallJson = { id: string; properties: Record<string, string | null> };
    const read = await http<CallJson>(
      hubspot.basePath,
      'GET',
      `/crm/v3/objects/calls/${id}?properties=hs_call_from_number,hs_call_to_number`,
    );
    assert.equal(read.status, 200);
    assert.equal(read.json.properties.hs_call_to_number, '+1 650-555-0100');
    assert.equal(read.json.properties.hs_lastmodifieddate, new Date(created).toISOString());
    assert.equal(read.json.properties.hs_createdate, new Date(created).toISOString());
    clock += 60_000;
    hubspot.updateCall(id, { hs_call_to_number: null });
    const updated = await http<CallJson>(
      hubspot.basePath,
      'GET',
      `/crm/v3/objects/calls/${id}?properties=hs_call_to_number`,
    );
    assert.equal(updated.json.properties.hs_call_to_number, null);
    assert.equal(updated.json.properties.hs_lastmodifieddate, new Date(created + 60_000).toISOString());
    assert.equal(updated.json.properties.hs_createdate, new Date(created).toISOString());
    const list = await http<{ results: CallJson[] }>(
      hubspot.basePath,
      'GET',
      `/crm/v3/objects/calls?limit=1&after=${id}&properties=hs_call_direction`,
    );
    assert.equal(list.status, 200);
    assert.equal(list.json.results[0]?.id, id);
    assert.equal(list.json.results[0]?.properties.hs_call_direction, 'INBOUND');
    assert.equal((await http(hubspot.basePath, 'GET', '/crm/v3/objects/calls/123')).status, 404);
  });

  test('seedDemo: inbound calls in varied number formats, two Connected with a contact and a deal, one No answer, one outbound', async () => {
    const demo = await startHubSpotEmulator({ seedDemo: true, rateLimit: false });
    try {
      const demoReader = new HubSpotCallReader({ accessToken: 'any', basePath: demo.basePath, limiter: fast });
      const labels = new Map((await demoReader.dispositions()).map((d) => [d.id, d.label]));
      const { calls } = await demoReader.modifiedInboundCalls({ since: 0 });
      const byId = new Map(calls.map((c) => [c.id, c]));
      assert.ok(!byId.has(DEMO_CALL_IDS.janeOutbound), 'the outbound call is not an inbound one');
      assert.deepEqual(
        new Set(byId.keys()),
        new Set([
          DEMO_CALL_IDS.janeConnected,
          DEMO_CALL_IDS.raviConnected,
          DEMO_CALL_IDS.unknownNoAnswer,
          DEMO_CALL_IDS.noDealsVoicemail,
        ]),
      );
      const jane = byId.get(DEMO_CALL_IDS.janeConnected);
      assert.equal(labels.get(jane?.dispositionId ?? ''), 'Connected');
      assert.deepEqual(jane?.contactIds, [DEMO_CONTACT_IDS.jane]);
      assert.deepEqual(jane?.dealIds, ['3002']);
      const ravi = byId.get(DEMO_CALL_IDS.raviConnected);
      assert.equal(labels.get(ravi?.dispositionId ?? ''), 'Connected');
      assert.deepEqual(ravi?.dealIds, ['3003']);
      assert.ok(Number.isFinite(ravi?.timestampMs), 'an epoch-ms hs_timestamp');
      const unknown = byId.get(DEMO_CALL_IDS.unknownNoAnswer);
      assert.equal(labels.get(unknown?.dispositionId ?? ''), 'No answer');
      assert.deepEqual(unknown?.contactIds, []);
      assert.deepEqual(
        [jane?.fromNumber, ravi?.fromNumber, unknown?.fromNumber],
        ['+1 212-555-0142', '(212) 555-0199', '2125550123'],
      );
      const amounts = await demoReader.dealAmounts([...(jane?.dealIds ?? []), ...(ravi?.dealIds ?? [])]);
      assert.deepEqual([...amounts.values()], [24_000, 8000]);
    } finally {
      await demo.close();
    }
  });
});

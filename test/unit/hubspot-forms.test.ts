// Form submissions: the HubSpot emulator's legacy submissions endpoint over HTTP (order, limits, the offset
// cursor, 404, seeding, demo data) and the form submission reader (the real @hubspot/api-client) against it:
// paging, the watermark, ties of one millisecond, submissions arriving while it pages, maxPages and resuming,
// 429s, repeated field names, and errors that never carry a submitted value.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, mock, test } from 'node:test';
import { HubSpotError } from '../../src/clients/hubspot/errors';
import {
  HubSpotFormSubmissionReader,
  type HubSpotFormSubmission,
  type HubSpotFormWatermark,
} from '../../src/clients/hubspot/forms';
import { HubSpotRateLimiter } from '../../src/clients/hubspot/rate-limit';
import {
  DEMO_FORM_GUIDS,
  DEMO_FORM_SUBMISSIONS,
  startHubSpotEmulator,
  syntheticFormSubmissionValues,
  type HubSpotEmulator,
  type HubSpotStoredFormSubmission,
} from '../../src/sandbox/hubspot';

const TOKEN = 'forms-token';
const fast = new HubSpotRateLimiter({ max: 1000, intervalMs: 1000 });
const PATH = '/form-integrations/v1/submissions/forms/';

/** The emulator's clock, moved by the tests. */
let clock = Date.parse('2026-03-01T12:00:00.000Z');
let hubspot: HubSpotEmulator;
let reader: HubSpotFormSubmissionReader;

before(async () => {
  hubspot = await startHubSpotEmulator({ accessToken: TOKEN, rateLimit: false, now: () => clock });
  reader = new HubSpotFormSubmissionReader({ accessToken: TOKEN, basePath: hubspot.basePath, limiter: fast });
});
after(async () => {
  await hubspot?.close();
});

/** Runs `before(n)` ahead of the n-th request (0-based) it schedules: a hook between page reads. */
class HookedLimiter extends HubSpotRateLimiter {
  private count = 0;
  constructor(private readonly hook: (n: number) => void) {
    super({ max: 1000, intervalMs: 1000 });
  }
  override schedule<T>(call: () => Promise<T>): Promise<T> {
    this.hook(this.count++);
    return super.schedule(call);
  }
}

interface PageJson {
  results: HubSpotStoredFormSubmission[];
  paging?: { next: { after: string; link: string } };
}
interface ErrorJson {
  status: string;
  message: string;
  category: string;
  correlationId: string;
}

async function get<T = PageJson>(path: string, token: string | null = TOKEN) {
  const res = await fetch(`${hubspot.basePath}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, json: (await res.json()) as T };
}

const requestsFor = (guid: string) => hubspot.requests.filter((r) => r.path === `${PATH}${guid}`);
const ids = (list: { conversionId: string }[]) => list.map((s) => s.conversionId);
/** A UUID that sorts where `hex` (one hex digit) says among submissions of one millisecond. */
const uuidOf = (hex: string) =>
  `${hex.repeat(8)}-${hex.repeat(4)}-4${hex.repeat(3)}-8${hex.repeat(3)}-${hex.repeat(12)}`;

/** A new form with `n` synthetic submissions a second apart, the newest a second before the clock. */
function formWith(n: number): { guid: string; stored: HubSpotStoredFormSubmission[] } {
  const guid = randomUUID();
  hubspot.addForm(guid);
  return { guid, stored: hubspot.addSyntheticFormSubmissions(guid, n) };
}

function assertOldestFirst(list: HubSpotFormSubmission[]) {
  for (let i = 1; i < list.length; i++) {
    assert.ok((list[i - 1]?.submittedAtMs ?? 0) <= (list[i]?.submittedAtMs ?? 0), `out of order at ${i}`);
  }
}

describe('HubSpot emulator: form submissions', () => {
  test('newest first, ties by conversionId descending, 20 a page by default, `after` and `link`, no paging on the last page', async () => {
    const { guid, stored } = formWith(25);
    const tie = clock;
    for (const hex of ['a', 'c', 'b']) {
      hubspot.addFormSubmission(guid, { conversionId: uuidOf(hex), submittedAt: tie, values: { email: 'x@y.z' } });
    }
    const first = await get(`${PATH}${guid}`);
    assert.equal(first.status, 200);
    assert.equal(first.json.results.length, 20);
    assert.deepEqual(ids(first.json.results.slice(0, 3)), [uuidOf('c'), uuidOf('b'), uuidOf('a')]);
    assert.deepEqual(ids(first.json.results.slice(3)), ids([...stored].reverse().slice(0, 17)));
    assert.deepEqual(first.json.results[0]?.values, [{ name: 'email', value: 'x@y.z', objectTypeId: '0-1' }]);
    const next = first.json.paging?.next;
    assert.ok(next?.after);
    assert.equal(next.link, `${hubspot.basePath}${PATH}${guid}?limit=20&after=${next.after}`);
    assert.doesNotMatch(next.after, /^\d+$/, 'the cursor is opaque, as HubSpot’s');

    const last = await get(`${PATH}${guid}?after=${next.after}`);
    assert.equal(last.json.results.length, 8);
    assert.equal(last.json.paging, undefined);
    assert.deepEqual(ids(last.json.results), ids([...stored].reverse().slice(17)));
    assert.deepEqual(ids(hubspot.formSubmissions(guid)), ids([...first.json.results, ...last.json.results]));
  });

  test('limit is 1 to 50; a bad limit or cursor is a 400 in HubSpot error JSON', async () => {
    const { guid } = formWith(60);
    assert.equal((await get(`${PATH}${guid}?limit=50`)).json.results.length, 50);
    assert.equal((await get(`${PATH}${guid}?limit=1`)).json.results.length, 1);
    for (const bad of ['51', '0', '-1', 'abc', '1.5', '']) {
      const res = await get<ErrorJson>(`${PATH}${guid}?limit=${bad}`);
      if (bad === '') {
        assert.equal(res.status, 200, 'an empty limit is no limit');
        continue;
      }
      assert.equal(res.status, 400, `limit=${bad}`);
      assert.equal(res.json.status, 'error');
      assert.equal(res.json.category, 'VALIDATION_ERROR');
      assert.match(res.json.message, /between 1 and 50/);
      assert.ok(res.json.correlationId);
    }
    for (const bad of ['20', 'b2Zmc2V0Ong', 'not-a-cursor']) {
      const res = await get<ErrorJson>(`${PATH}${guid}?after=${bad}`);
      assert.equal(res.status, 400, `after=${bad}`);
      assert.equal(res.json.category, 'VALIDATION_ERROR');
    }
  });

  test('an unknown form is a 404; GUIDs compare case-insensitively; a registered empty form is a 200; the token is checked', async () => {
    const unknown = await get<ErrorJson>(`${PATH}${randomUUID()}`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.category, 'OBJECT_NOT_FOUND');
    assert.equal((await get(`${PATH}not-a-guid`)).status, 404);

    const { guid } = formWith(3);
    const upper = await get(`${PATH}${guid.toUpperCase()}`);
    assert.equal(upper.status, 200);
    assert.equal(upper.json.results.length, 3);
    hubspot.addFormSubmission(guid.toUpperCase(), { values: { email: 'a@b.c' } });
    assert.equal(hubspot.formSubmissions(guid).length, 4, 'one form, whatever the case');

    const empty = randomUUID();
    hubspot.addForm(empty);
    hubspot.addForm(empty.toUpperCase());
    assert.deepEqual((await get(`${PATH}${empty}`)).json, { results: [] });
    assert.deepEqual(hubspot.formSubmissions(randomUUID()), []);

    assert.equal((await get(`${PATH}${guid}`, null)).status, 401);
    assert.equal((await get(`${PATH}${guid}`, 'wrong')).status, 401);
    assert.equal(requestsFor(guid).at(-1)?.status, 401, 'recorded as API requests');
  });

  test('the cursor is an offset: a submission arriving at the head makes the next page repeat the last one read', async () => {
    const { guid } = formWith(10);
    const first = await get(`${PATH}${guid}?limit=4`);
    clock += 1000;
    const arrived = hubspot.addFormSubmission(guid, { values: { email: 'new@example.com' } });
    assert.equal(hubspot.formSubmissions(guid)[0]?.conversionId, arrived.conversionId, 'a new one is the newest');
    const second = await get(`${PATH}${guid}?limit=4&after=${first.json.paging?.next.after}`);
    assert.equal(second.json.results[0]?.conversionId, first.json.results[3]?.conversionId, 'repeated');
    assert.equal(second.json.results.length, 4);
  });

  test('seeding: values as a record or a list, defaults, copies; duplicates and bad GUIDs refused; the control API', async () => {
    const guid = randomUUID();
    clock += 1000;
    const a = hubspot.addFormSubmission(guid, { values: { email: 'a@example.com' } });
    assert.match(a.conversionId, /^[0-9a-f-]{36}$/);
    assert.equal(a.submittedAt, clock, 'now, by the emulator’s clock');
    assert.equal(a.pageUrl, undefined);
    const b = hubspot.addFormSubmission(guid, {
      conversionId: uuidOf('d'),
      submittedAt: clock - 5000,
      values: [
        { name: 'email', value: 'b@example.com' },
        { name: 'deal_size', value: 'large', objectTypeId: '0-3' },
      ],
      pageUrl: 'https://www.example.com/b',
    });
    assert.deepEqual(b, {
      conversionId: uuidOf('d'),
      submittedAt: clock - 5000,
      values: [
        { name: 'email', value: 'b@example.com', objectTypeId: '0-1' },
        { name: 'deal_size', value: 'large', objectTypeId: '0-3' },
      ],
      pageUrl: 'https://www.example.com/b',
    });
    b.values.length = 0;
    assert.equal(hubspot.formSubmissions(guid)[1]?.values.length, 2, 'the store hands out copies');
    assert.throws(() => hubspot.addFormSubmission(guid, { conversionId: uuidOf('d'), values: {} }), /already/);
    assert.throws(() => hubspot.addFormSubmission('form-1', { values: {} }), /not a UUID/);
    assert.throws(() => hubspot.addForm('form-1'), /not a UUID/);
    assert.throws(() => hubspot.addFormSubmission(guid, { submittedAt: -1, values: {} }), /epoch ms/);

    const synthetic = hubspot.addSyntheticFormSubmissions(guid, 3, { startMs: 1_000, stepMs: 0 });
    assert.deepEqual(
      synthetic.map((s) => s.submittedAt),
      [1_000, 1_000, 1_000],
    );
    const n = Number(synthetic[0]?.values.find((v) => v.name === 'gtag_transaction_id')?.value.slice(4));
    assert.deepEqual(
      Object.fromEntries((synthetic[0]?.values ?? []).map((v) => [v.name, v.value])),
      syntheticFormSubmissionValues(n),
    );
    const more = hubspot.addSyntheticFormSubmissions(guid, 1);
    assert.notEqual(more[0]?.values.at(-1)?.value, synthetic[0]?.values.at(-1)?.value, 'order ids never repeat');

    const control = randomUUID();
    const post = (body: unknown, formGuid: string = control) =>
      fetch(`${hubspot.basePath}/_sandbox/forms/${formGuid}/submissions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await post([
      { values: { email: 'c@example.com' } },
      { conversionId: uuidOf('e'), submittedAt: '2026-02-28T10:00:00+01:00', values: [{ name: 'email', value: 'd' }] },
    ]);
    assert.equal(created.status, 200);
    assert.equal(((await created.json()) as { conversionIds: string[] }).conversionIds.length, 2);
    assert.equal(hubspot.formSubmissions(control)[1]?.submittedAt, Date.parse('2026-02-28T09:00:00Z'));
    assert.equal((await post({ conversionId: uuidOf('e'), values: {} })).status, 409);
    assert.equal((await post({ values: 'nope' })).status, 400);
    assert.equal((await post({ values: {} }, 'form-1')).status, 400);
    const registered = randomUUID();
    const put = await fetch(`${hubspot.basePath}/_sandbox/forms/${registered}`, { method: 'PUT' });
    assert.equal(put.status, 204);
    assert.equal((await get(`${PATH}${registered}`)).status, 200);
  });

  test('seedDemo: submissions of both example forms from the last few hours, with the demo fields and order ids', async () => {
    const now = Date.parse('2026-03-02T15:00:00.000Z');
    const demo = await startHubSpotEmulator({ seedDemo: true, now: () => now });
    try {
      const demoReader = new HubSpotFormSubmissionReader({
        accessToken: 'any',
        basePath: demo.basePath,
        limiter: fast,
      });
      const read = async (guid: string) => (await demoReader.page(guid)).submissions;
      const demoRequests = await read(DEMO_FORM_GUIDS.demoRequest);
      const newsletter = await read(DEMO_FORM_GUIDS.newsletter);
      assert.equal(DEMO_FORM_GUIDS.demoRequest, '5f1c7a2e-8b3d-4c9e-a6f0-2d4b8e1c3a57');
      assert.equal(DEMO_FORM_GUIDS.newsletter, '0b9e4d61-3f2a-4e8c-9d17-6a5c2f8e4b90');
      assert.deepEqual(ids(demoRequests), [
        DEMO_FORM_SUBMISSIONS.noDealsDemoRequest.conversionId,
        DEMO_FORM_SUBMISSIONS.alexDemoRequest.conversionId,
        DEMO_FORM_SUBMISSIONS.janeDemoRequest.conversionId,
      ]);
      assert.deepEqual(ids(newsletter), [
        DEMO_FORM_SUBMISSIONS.taroNewsletter.conversionId,
        DEMO_FORM_SUBMISSIONS.raviNewsletter.conversionId,
      ]);
      const byId = new Map([...demoRequests, ...newsletter].map((s) => [s.conversionId, s]));
      for (const { conversionId, orderId } of Object.values(DEMO_FORM_SUBMISSIONS)) {
        const s = byId.get(conversionId);
        assert.ok(s);
        assert.equal(s.values.gtag_transaction_id, orderId);
        for (const field of ['email', 'firstname', 'lastname']) assert.ok(s.values[field], field);
        assert.ok(s.submittedAtMs < now && s.submittedAtMs >= now - 4 * 3_600_000, 'within the last few hours');
        assert.match(s.pageUrl ?? '', /^https:\/\/www\.example\.com\//);
      }
      const jane = byId.get(DEMO_FORM_SUBMISSIONS.janeDemoRequest.conversionId);
      assert.deepEqual(Object.keys(jane?.values ?? {}).sort(), [
        'company',
        'email',
        'firstname',
        'gtag_transaction_id',
        'lastname',
        'phone',
      ]);
      assert.equal(jane?.values.email, 'jane.doe@example.com');
    } finally {
      await demo.close();
    }
  });
});

describe('HubSpotFormSubmissionReader', () => {
  test('page: 50 a page across 120 submissions, newest first, values as a record', async () => {
    const { guid, stored } = formWith(120);
    hubspot.requests.length = 0;
    const seen: HubSpotFormSubmission[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await reader.page(guid, { after: cursor });
      sizes.push(page.submissions.length);
      seen.push(...page.submissions);
      cursor = page.after;
    } while (cursor);
    assert.deepEqual(sizes, [50, 50, 20]);
    assert.deepEqual(ids(seen), ids([...stored].reverse()));
    const newest = stored.at(-1);
    assert.deepEqual(seen[0], {
      conversionId: newest?.conversionId,
      submittedAtMs: newest?.submittedAt,
      values: Object.fromEntries((newest?.values ?? []).map((v) => [v.name, v.value])),
      pageUrl: 'https://www.example.com/synthetic-form',
    });
    const requests = requestsFor(guid);
    assert.deepEqual(
      requests.map((r) => [r.method, r.query.limit, r.status]),
      [
        ['GET', '50', 200],
        ['GET', '50', 200],
        ['GET', '50', 200],
      ],
    );
    assert.equal(requests[0]?.query.after, undefined);
    assert.ok(requests[1]?.query.after);
    assert.equal((await reader.page(guid, { limit: 7 })).submissions.length, 7);
    await assert.rejects(reader.page(guid, { limit: 51 }), RangeError);
    await assert.rejects(reader.page(guid, { limit: 0 }), RangeError);
    await assert.rejects(reader.page('not-a-guid'), RangeError);
  });

  test('newSubmissions without a watermark reads them all, oldest first, and ends at the newest', async () => {
    const { guid, stored } = formWith(120);
    hubspot.requests.length = 0;
    const run = await reader.newSubmissions(guid);
    assert.equal(run.complete, true);
    assert.equal(run.resume, undefined);
    assert.deepEqual(ids(run.submissions), ids(stored));
    assertOldestFirst(run.submissions);
    const newest = stored.at(-1);
    assert.deepEqual(run.watermark, { submittedAtMs: newest?.submittedAt, conversionIds: [newest?.conversionId] });
    assert.equal(requestsFor(guid).length, 3);

    const empty = randomUUID();
    hubspot.addForm(empty);
    assert.deepEqual(await reader.newSubmissions(empty), { submissions: [], watermark: undefined, complete: true });
  });

  test('a watermark stops the reading at the first page that reaches it: only the new submissions, one request', async () => {
    const { guid } = formWith(120);
    const { watermark } = await reader.newSubmissions(guid);
    clock += 10_000;
    const fresh = hubspot.addSyntheticFormSubmissions(guid, 5);
    hubspot.requests.length = 0;
    const run = await reader.newSubmissions(guid, watermark);
    assert.equal(run.complete, true);
    assert.deepEqual(ids(run.submissions), ids(fresh));
    assert.equal(requestsFor(guid).length, 1, 'the first page reaches the watermark');
    const newest = fresh.at(-1);
    assert.deepEqual(run.watermark, { submittedAtMs: newest?.submittedAt, conversionIds: [newest?.conversionId] });

    hubspot.requests.length = 0;
    const again = await reader.newSubmissions(guid, run.watermark);
    assert.deepEqual(again, { submissions: [], watermark: run.watermark, complete: true });
    assert.equal(requestsFor(guid).length, 1);
  });

  test('one millisecond: listed submissions are old, unlisted ones new, also when the tie runs past a page', async () => {
    const guid = randomUUID();
    clock += 10_000;
    const t = clock;
    hubspot.addSyntheticFormSubmissions(guid, 30, { startMs: t - 30_000 });
    const tied = hubspot.addSyntheticFormSubmissions(guid, 60, { startMs: t, stepMs: 0 });
    const first = await reader.newSubmissions(guid);
    assert.equal(first.submissions.length, 90);
    assert.equal(first.watermark?.submittedAtMs, t);
    assert.deepEqual(new Set(first.watermark?.conversionIds), new Set(ids(tied)));

    // Of the same millisecond, HubSpot's order puts the first at the head and the second after all 60 others,
    // on the second page.
    const head = hubspot.addFormSubmission(guid, { conversionId: uuidOf('f'), submittedAt: t, values: { n: '1' } });
    const tail = hubspot.addFormSubmission(guid, { conversionId: uuidOf('0'), submittedAt: t, values: { n: '2' } });
    assert.equal(hubspot.formSubmissions(guid)[61]?.conversionId, tail.conversionId);
    hubspot.requests.length = 0;
    const second = await reader.newSubmissions(guid, first.watermark);
    assert.deepEqual(ids(second.submissions), [tail.conversionId, head.conversionId]);
    assert.equal(requestsFor(guid).length, 2, 'read on until a submission older than the watermark');
    assert.equal(second.watermark?.submittedAtMs, t);
    assert.deepEqual(
      new Set(second.watermark?.conversionIds),
      new Set([...ids(tied), head.conversionId, tail.conversionId]),
    );

    const partial: HubSpotFormWatermark = { submittedAtMs: t, conversionIds: ids(tied).slice(0, 58) };
    const third = await reader.newSubmissions(guid, partial);
    assert.deepEqual(
      new Set(ids(third.submissions)),
      new Set([...ids(tied).slice(58), head.conversionId, tail.conversionId]),
    );
  });

  test('submissions arriving at the head between page reads are neither skipped nor returned twice', async () => {
    const { guid, stored } = formWith(120);
    const arrivals: HubSpotStoredFormSubmission[] = [];
    const hooked = new HubSpotFormSubmissionReader({
      accessToken: TOKEN,
      basePath: hubspot.basePath,
      limiter: new HookedLimiter((n) => {
        if (n === 0) return;
        // Three new submissions before the second and before the third page.
        clock += 1000;
        arrivals.push(...hubspot.addSyntheticFormSubmissions(guid, 3, { startMs: clock, stepMs: 0 }));
      }),
    });
    const raw: string[] = [];
    const readPage = hooked.page.bind(hooked);
    hooked.page = async (...args) => {
      const page = await readPage(...args);
      raw.push(...ids(page.submissions));
      return page;
    };
    hubspot.requests.length = 0;
    const run = await hooked.newSubmissions(guid);
    assert.equal(requestsFor(guid).length, 3);
    assert.equal(arrivals.length, 6);
    assert.deepEqual([raw.length, new Set(raw).size], [126, 120], 'the pages repeated 3 + 3 of the 120');
    assert.equal(run.complete, true);
    assert.deepEqual(ids(run.submissions), ids(stored), 'every one that was there, once, in order');

    // The arrivals all lie above the cursor, so this run never reached them: the next poll returns them.
    hubspot.requests.length = 0;
    const next = await reader.newSubmissions(guid, run.watermark);
    assert.deepEqual(new Set(ids(next.submissions)), new Set(ids(arrivals)));
    assert.equal(next.submissions.length, 6);
    assert.equal(requestsFor(guid).length, 1);
  });

  test('arrivals the offset does reach: returned once now, their unread peers of the same millisecond by the next poll', async () => {
    const { guid } = formWith(20);
    const { watermark } = await reader.newSubmissions(guid);
    clock += 10_000;
    const fresh = hubspot.addSyntheticFormSubmissions(guid, 100, { startMs: clock });
    clock += 100_000;
    const arrivals: HubSpotStoredFormSubmission[] = [];
    const hooked = new HubSpotFormSubmissionReader({
      accessToken: TOKEN,
      basePath: hubspot.basePath,
      limiter: new HookedLimiter((n) => {
        // 60 in one millisecond before the second page: more than a page, so the offset lands among them.
        if (n === 1) arrivals.push(...hubspot.addSyntheticFormSubmissions(guid, 60, { startMs: clock, stepMs: 0 }));
      }),
    });
    hubspot.requests.length = 0;
    const run = await hooked.newSubmissions(guid, watermark);
    assert.equal(run.complete, true);
    assert.equal(requestsFor(guid).length, 4);
    const arrived = new Set(ids(arrivals));
    const reached = run.submissions.filter((s) => arrived.has(s.conversionId));
    assert.equal(reached.length, 10, 'the second page starts 10 places into the 60 arrivals');
    assert.deepEqual(
      ids(run.submissions.filter((s) => !arrived.has(s.conversionId))),
      ids(fresh),
      'every one that was there',
    );
    assert.equal(run.watermark?.submittedAtMs, clock);
    assert.deepEqual(new Set(run.watermark?.conversionIds), new Set(ids(reached)));

    const next = await reader.newSubmissions(guid, run.watermark);
    const both = [...ids(run.submissions), ...ids(next.submissions)];
    assert.equal(both.length, 160);
    assert.deepEqual(new Set(both), new Set([...ids(fresh), ...ids(arrivals)]), 'each once over the two polls');
  });

  test('maxPages: an incomplete run keeps the watermark passed in; resuming goes on without repeats and ends at the newest', async () => {
    const { guid } = formWith(10);
    const { watermark } = await reader.newSubmissions(guid);
    assert.ok(watermark);
    clock += 200_000;
    const fresh = hubspot.addSyntheticFormSubmissions(guid, 120);

    const one = await reader.newSubmissions(guid, watermark, { maxPages: 1 });
    assert.equal(one.complete, false);
    assert.deepEqual(one.watermark, watermark, 'unchanged: the older unread pages are not passed');
    assert.deepEqual(ids(one.submissions), ids(fresh.slice(70)), 'the newest 50, oldest first');
    assert.ok(one.resume);
    assert.deepEqual(JSON.parse(JSON.stringify(one.resume)), one.resume, 'plain JSON');

    // Two arrive before the run goes on: the shifted offset repeats two it has already returned.
    clock += 1000;
    const arrivals = hubspot.addSyntheticFormSubmissions(guid, 2, { startMs: clock });
    const two = await reader.newSubmissions(guid, watermark, { maxPages: 1, resume: one.resume });
    assert.equal(two.complete, false);
    assert.deepEqual(two.watermark, watermark);
    assert.deepEqual(ids(two.submissions), ids(fresh.slice(22, 70)));

    const three = await reader.newSubmissions(guid, watermark, { resume: two.resume });
    assert.equal(three.complete, true);
    assert.equal(three.resume, undefined);
    assert.deepEqual(ids(three.submissions), ids(fresh.slice(0, 22)));
    const all = [...one.submissions, ...two.submissions, ...three.submissions];
    assert.equal(new Set(ids(all)).size, 120);
    const newest = fresh.at(-1);
    assert.deepEqual(three.watermark, { submittedAtMs: newest?.submittedAt, conversionIds: [newest?.conversionId] });
    assert.deepEqual(ids((await reader.newSubmissions(guid, three.watermark)).submissions), ids(arrivals));

    // Storing the unchanged watermark of an incomplete call is safe: a poll from it returns everything again.
    const fromStart = await reader.newSubmissions(guid, one.watermark, { maxPages: 10 });
    assert.deepEqual(ids(fromStart.submissions), ids([...fresh, ...arrivals]));

    await assert.rejects(
      reader.newSubmissions(guid, three.watermark, { resume: one.resume }),
      /the watermark its run started with/,
    );
    await assert.rejects(reader.newSubmissions(guid, undefined, { maxPages: 0 }), RangeError);
    const unbounded = await reader.newSubmissions(guid, undefined, { maxPages: 1 });
    assert.equal(unbounded.complete, false);
    assert.equal(unbounded.watermark, undefined, 'no watermark passed in, none to keep');
    assert.equal(unbounded.resume?.since, undefined);
  });

  test('an unknown form is a HubSpotError of kind not-found', async () => {
    await assert.rejects(reader.newSubmissions(randomUUID()), (err: unknown) => {
      assert.ok(err instanceof HubSpotError);
      assert.equal(err.status, 404);
      assert.equal(err.kind, 'not-found');
      assert.equal(err.retryable, false);
      assert.equal(err.category, 'OBJECT_NOT_FOUND');
      return true;
    });
  });

  test('a ten-secondly 429 is waited out as HubSpot says, the rolling budget too; a daily one is thrown', async () => {
    const waits: number[] = [];
    const patient = new HubSpotFormSubmissionReader({
      accessToken: TOKEN,
      basePath: hubspot.basePath,
      limiter: fast,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    const { guid, stored } = formWith(3);
    hubspot.setFault({ type: 'rate-limit', policy: 'TEN_SECONDLY_ROLLING', times: 1 });
    hubspot.requests.length = 0;
    const run = await patient.newSubmissions(guid);
    assert.deepEqual(ids(run.submissions), ids(stored));
    assert.deepEqual(waits, [10_000], 'the window the 429 names');
    assert.deepEqual(
      requestsFor(guid).map((r) => r.status),
      [429, 200],
    );
    hubspot.setFault({ type: 'rate-limit', policy: 'DAILY', times: 1 });
    await assert.rejects(
      patient.newSubmissions(guid),
      (err: unknown) => err instanceof HubSpotError && err.kind === 'rate-limit' && err.policy === 'DAILY',
    );
    hubspot.setFault(undefined);

    // The emulator's own rolling budget: 2 requests per 10 s, so the third page waits for Retry-After.
    let budgetClock = clock;
    const budgeted = await startHubSpotEmulator({ rateLimit: { max: 2, intervalMs: 10_000 }, now: () => budgetClock });
    try {
      const budgetWaits: number[] = [];
      const limited = new HubSpotFormSubmissionReader({
        accessToken: TOKEN,
        basePath: budgeted.basePath,
        limiter: fast,
        sleep: (ms) => {
          budgetWaits.push(ms);
          budgetClock += ms;
          return Promise.resolve();
        },
      });
      const form = randomUUID();
      budgeted.addSyntheticFormSubmissions(form, 120);
      const all = await limited.newSubmissions(form);
      assert.equal(all.submissions.length, 120);
      assert.deepEqual(budgetWaits, [10_000]);
      assert.deepEqual(
        budgeted.requests.map((r) => r.status),
        [200, 200, 429, 200],
      );
    } finally {
      await budgeted.close();
    }
  });

  test('a field HubSpot lists more than once has its values joined with ";"', async () => {
    const guid = randomUUID();
    hubspot.addFormSubmission(guid, {
      values: [
        { name: 'interests', value: 'Pricing' },
        { name: 'email', value: 'multi@example.com' },
        { name: 'interests', value: 'Integrations' },
        { name: 'interests', value: 'Support' },
        { name: '__proto__', value: 'a field like any other' },
      ],
    });
    const [s] = (await reader.page(guid)).submissions;
    assert.equal(s?.values.interests, 'Pricing;Integrations;Support');
    assert.equal(s?.values.email, 'multi@example.com');
    assert.ok(s && Object.hasOwn(s.values, '__proto__'));
    assert.equal(Object.getPrototypeOf(s?.values), Object.prototype);
  });

  describe('errors never carry a submitted value', () => {
    const SECRET_VALUES = ['secret.person@example.com', 'Secretia', '+1 212-555-0166', 'ORD-SECRET-1'];
    const secretResults = [
      {
        conversionId: uuidOf('1'),
        submittedAt: 'yesterday',
        values: [
          { name: 'email', value: SECRET_VALUES[0] },
          { name: 'firstname', value: SECRET_VALUES[1] },
          { name: 'phone', value: SECRET_VALUES[2] },
          { name: 'gtag_transaction_id', value: SECRET_VALUES[3] },
        ],
      },
    ];
    /** What the fake HubSpot answers next: status and body text. */
    let answer: { status: number; body: string } = { status: 200, body: '{}' };
    let fake: Server;
    let fakeReader: HubSpotFormSubmissionReader;
    const logged: unknown[][] = [];

    before(async () => {
      fake = createServer((_req, res) => {
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      const { port } = fake.address() as AddressInfo;
      fakeReader = new HubSpotFormSubmissionReader({
        accessToken: TOKEN,
        basePath: `http://127.0.0.1:${port}`,
        limiter: fast,
        sleep: () => Promise.resolve(),
      });
      for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
        mock.method(console, m, (...args: unknown[]) => void logged.push(args));
      }
    });
    after(async () => {
      mock.restoreAll();
      await new Promise<void>((resolve) => fake?.close(() => resolve()));
    });

    async function failure(fn: () => Promise<unknown>): Promise<HubSpotError> {
      try {
        await fn();
      } catch (err) {
        assert.ok(err instanceof HubSpotError, String(err));
        const text = `${err.message}\n${err.stack ?? ''}\n${JSON.stringify(err)}`;
        for (const value of SECRET_VALUES) assert.ok(!text.includes(value), 'a submitted value in the error');
        return err;
      }
      assert.fail('expected a rejection');
    }

    test('a body of the wrong shape is a non-retryable INVALID_RESPONSE', async () => {
      answer = { status: 200, body: JSON.stringify({ results: secretResults }) };
      const err = await failure(() => fakeReader.newSubmissions(uuidOf('2')));
      assert.deepEqual(
        [err.kind, err.retryable, err.category, err.status],
        ['invalid', false, 'INVALID_RESPONSE', 200],
      );
      answer = {
        status: 200,
        body: JSON.stringify({ results: [{ ...secretResults[0], submittedAt: 1, values: 'x' }] }),
      };
      assert.equal((await failure(() => fakeReader.page(uuidOf('2')))).kind, 'invalid');
    });

    test('a 2xx body that is not JSON, and a cursor that repeats itself, are transient', async () => {
      answer = { status: 200, body: `<html>${SECRET_VALUES.join(' ')}</html>` };
      const cut = await failure(() => fakeReader.page(uuidOf('2')));
      assert.deepEqual([cut.kind, cut.retryable, cut.category], ['transient', true, 'INVALID_RESPONSE']);
      const results = [{ ...secretResults[0], submittedAt: 1 }];
      answer = { status: 200, body: JSON.stringify({ results, paging: { next: { after: 'same' } } }) };
      const loop = await failure(() => fakeReader.page(uuidOf('2'), { after: 'same' }));
      assert.deepEqual([loop.kind, loop.retryable], ['transient', true]);
      answer = { status: 200, body: JSON.stringify({ results: [], paging: { next: { after: 'more' } } }) };
      assert.equal((await failure(() => fakeReader.page(uuidOf('2')))).kind, 'transient');
    });

    test('HubSpot error bodies that quote values are classified without them', async () => {
      const message = `Invalid value ${SECRET_VALUES[0]} for ${SECRET_VALUES[1]}`;
      answer = {
        status: 400,
        body: JSON.stringify({ status: 'error', message, category: 'VALIDATION_ERROR', correlationId: 'c-1' }),
      };
      const bad = await failure(() => fakeReader.page(uuidOf('2')));
      assert.deepEqual(
        [bad.kind, bad.status, bad.category, bad.correlationId],
        ['invalid', 400, 'VALIDATION_ERROR', 'c-1'],
      );
      answer = { status: 503, body: JSON.stringify({ status: 'error', message, category: 'INTERNAL_ERROR' }) };
      assert.equal((await failure(() => fakeReader.page(uuidOf('2')))).kind, 'transient');
      answer = { status: 429, body: JSON.stringify({ status: 'error', message, policyName: 'DAILY' }) };
      assert.equal((await failure(() => fakeReader.page(uuidOf('2')))).policy, 'DAILY');
    });

    test('the emulator’s 4xx and 5xx answers too; and nothing was logged', async () => {
      const guid = randomUUID();
      hubspot.addFormSubmission(guid, {
        values: { email: SECRET_VALUES[0] ?? '', gtag_transaction_id: SECRET_VALUES[3] ?? '' },
      });
      const cursor = await failure(() => reader.page(guid, { after: SECRET_VALUES[3] }));
      assert.deepEqual([cursor.kind, cursor.status], ['invalid', 400]);
      hubspot.setFault({ type: 'server-error', status: 503, times: 1 });
      assert.equal((await failure(() => reader.newSubmissions(guid))).kind, 'transient');
      const read = await reader.newSubmissions(guid);
      assert.equal(read.submissions[0]?.values.email, SECRET_VALUES[0]);
      assert.deepEqual(logged, [], 'the reader logs nothing');
    });
  });
});

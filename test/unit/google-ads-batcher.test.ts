import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, mock, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCallActivities } from '../../src/activities/calls';
import { createGoogleAdsActivities } from '../../src/activities/google-ads';
import { BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS } from '../../src/domain/activity-timing';
import {
  createGoogleAdsLimiter,
  GoogleAdsBatcher,
  GoogleAdsBatcherPool,
  GoogleAdsConversionClient,
  GoogleAdsRequestError,
  type GoogleAdsUploadClient,
} from '../../src/clients/google-ads';
import type {
  CallConversionRow,
  ClickConversionRow,
  EnhancementAdjustmentRow,
  GoogleAdsRowResult,
} from '../../src/domain/google-ads/types';
import { startGoogleAdsEmulator } from '../../src/sandbox/google-ads/emulator';

const CUSTOMER = '1234567890';
const HASH = 'a'.repeat(64);

interface Call {
  service: 'click' | 'call' | 'enhancement';
  customerId: string;
  loginCustomerId: string | undefined;
  orderIds: string[];
  startedAt: number;
}

/** Answers each row with its own order id (a call row: its caller id), so a caller can tell whether it got its own row. */
function fakeClient(fail?: (orderIds: string[]) => Error | undefined) {
  const calls: Call[] = [];
  const answer = (service: Call['service'], customerId: string, login: string | undefined, orderIds: string[]) => {
    calls.push({ service, customerId, loginCustomerId: login, orderIds, startedAt: performance.now() });
    const err = fail?.(orderIds);
    if (err) return Promise.reject(err);
    return Promise.resolve(orderIds.map(echo));
  };
  const client: GoogleAdsUploadClient = {
    uploadClickConversions: (customerId, login, rows) =>
      answer(
        'click',
        customerId,
        login,
        rows.map((r) => r.orderId),
      ),
    uploadCallConversions: (customerId, login, rows) =>
      answer(
        'call',
        customerId,
        login,
        rows.map((r) => r.callerId),
      ),
    uploadEnhancements: (customerId, login, rows) =>
      answer(
        'enhancement',
        customerId,
        login,
        rows.map((r) => r.orderId),
      ),
  };
  return { client, calls };
}

const echo = (orderId: string): GoogleAdsRowResult => ({
  ok: false,
  errors: [{ category: 'echo', name: 'ECHO', message: orderId }],
});

function click(orderId: string, extra: Partial<ClickConversionRow> = {}): ClickConversionRow {
  return {
    customerId: CUSTOMER,
    conversionAction: `customers/${CUSTOMER}/conversionActions/555`,
    conversionDateTime: '2026-11-24 10:15:00+00:00',
    orderId,
    gclid: `g-${orderId}`,
    userIdentifiers: [{ hashed_email: HASH }],
    ...extra,
  };
}

function enhancement(orderId: string, extra: Partial<EnhancementAdjustmentRow> = {}): EnhancementAdjustmentRow {
  return {
    customerId: CUSTOMER,
    conversionAction: `customers/${CUSTOMER}/conversionActions/555`,
    orderId,
    userIdentifiers: [{ hashed_email: HASH }],
    ...extra,
  };
}

function callRow(callerId: string, extra: Partial<CallConversionRow> = {}): CallConversionRow {
  return {
    customerId: CUSTOMER,
    conversionAction: `customers/${CUSTOMER}/conversionActions/6512349874`,
    callerId,
    callStartDateTime: '2026-11-24 10:00:00+00:00',
    conversionDateTime: '2026-11-24 10:20:00+00:00',
    ...extra,
  };
}

const ids = (n: number, prefix = 'o') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('GoogleAdsBatcher', () => {
  test('4,500 concurrent callers become requests of 2000, 2000 and 500, each caller getting its own row', async () => {
    const { client, calls } = fakeClient();
    const batcher = new GoogleAdsBatcher({ client, service: 'click', customerId: CUSTOMER, requestsPerSecond: 1000 });
    const orderIds = ids(4500);
    const results = await Promise.all(orderIds.map((o) => batcher.upload(click(o))));
    assert.deepEqual(
      calls.map((c) => c.orderIds.length),
      [2000, 2000, 500],
    );
    assert.ok(
      calls.every((c) => c.service === 'click' && c.customerId === CUSTOMER && c.loginCustomerId === undefined),
    );
    assert.deepEqual(
      calls.flatMap((c) => c.orderIds),
      orderIds,
    );
    results.forEach((r, i) => assert.deepEqual(r, echo(`o-${i}`)));
    await batcher.close();
  });

  test('a small batch is sent once the linger time after its first row has passed', async () => {
    const { client, calls } = fakeClient();
    const batcher = new GoogleAdsBatcher({
      client,
      service: 'enhancement',
      customerId: CUSTOMER,
      lingerMs: 40,
      requestsPerSecond: 1000,
    });
    const start = performance.now();
    const results = await Promise.all(['a', 'b', 'c'].map((o) => batcher.upload(enhancement(o))));
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.service, 'enhancement');
    assert.deepEqual(calls[0]?.orderIds, ['a', 'b', 'c']);
    assert.ok((calls[0]?.startedAt ?? 0) - start >= 35, 'sent before the linger time');
    assert.deepEqual(results, [echo('a'), echo('b'), echo('c')]);
    await batcher.close();
  });

  test('a request error rejects only the callers of that batch', async () => {
    const boom = new GoogleAdsRequestError({ kind: 'transient', grpcCode: 14, message: 'UNAVAILABLE' });
    const { client, calls } = fakeClient((orderIds) => (orderIds.includes('o-2000') ? boom : undefined));
    const batcher = new GoogleAdsBatcher({ client, service: 'click', customerId: CUSTOMER, requestsPerSecond: 1000 });
    const settled = await Promise.allSettled(ids(4500).map((o) => batcher.upload(click(o))));
    assert.deepEqual(
      calls.map((c) => c.orderIds.length),
      [2000, 2000, 500],
    );
    settled.forEach((s, i) => {
      if (i >= 2000 && i < 4000) assert.deepEqual(s, { status: 'rejected', reason: boom }, `row ${i}`);
      else assert.deepEqual(s, { status: 'fulfilled', value: echo(`o-${i}`) }, `row ${i}`);
    });
    await batcher.close();
  });

  test('a row that can never be sent is refused alone, at once, and does not join a batch', async () => {
    const { client, calls } = fakeClient();
    const batcher = new GoogleAdsBatcher({ client, service: 'click', customerId: CUSTOMER, lingerMs: 5 });
    const [good, bad, otherAccount] = await Promise.allSettled([
      batcher.upload(click('fine')),
      batcher.upload(click('two-ids', { gbraid: 'gb' })),
      batcher.upload(click('elsewhere', { customerId: '555' })),
    ]);
    assert.deepEqual(good, { status: 'fulfilled', value: echo('fine') });
    assert.equal(bad?.status, 'rejected');
    assert.ok(
      bad.status === 'rejected' && bad.reason instanceof GoogleAdsRequestError && bad.reason.kind === 'invalid',
    );
    assert.ok(otherAccount?.status === 'rejected' && otherAccount.reason instanceof RangeError);
    assert.deepEqual(
      calls.map((c) => c.orderIds),
      [['fine']],
    );
    await batcher.close();
  });

  test('close() sends what is queued without waiting for the linger time, then refuses new rows', async () => {
    const { client, calls } = fakeClient();
    const batcher = new GoogleAdsBatcher({ client, service: 'click', customerId: CUSTOMER, lingerMs: 60_000 });
    const pending = batcher.upload(click('late'));
    await batcher.close();
    assert.deepEqual(await pending, echo('late'));
    assert.equal(calls.length, 1);
    await assert.rejects(batcher.upload(click('after')), /closed/);
  });

  test('every request goes through the shared limiter (no wall-clock gaps asserted: Bottleneck spaces them)', async () => {
    const { client, calls } = fakeClient();
    const limiter = createGoogleAdsLimiter({ requestsPerSecond: 1000 });
    const scheduled: number[] = [];
    limiter.on('scheduled', () => scheduled.push(calls.length));
    const batcher = new GoogleAdsBatcher({ client, service: 'click', customerId: CUSTOMER, maxBatchSize: 10, limiter });
    await Promise.all(ids(30).map((o) => batcher.upload(click(o))));
    assert.equal(calls.length, 3);
    assert.equal(scheduled.length, 3, 'one limiter job per request');
    await batcher.close();
    await limiter.stop();
  });
});

describe('GoogleAdsBatcherPool', () => {
  test('one batcher per service, customer and login customer; rows are routed by the account they name', async () => {
    const { client, calls } = fakeClient();
    const pool = new GoogleAdsBatcherPool({ client, lingerMs: 10, requestsPerSecond: 1000 });
    const results = await Promise.all([
      pool.uploadClick(click('c1')),
      pool.uploadClick(click('c2', { customerId: '222' })),
      pool.uploadClick(click('c3', { loginCustomerId: '999' })),
      pool.uploadEnhancement(enhancement('e1')),
      pool.uploadClick(click('c4')),
    ]);
    assert.deepEqual(results, ['c1', 'c2', 'c3', 'e1', 'c4'].map(echo));
    const byBatch = calls
      .map((c) => `${c.service} ${c.customerId} ${c.loginCustomerId ?? '-'}: ${c.orderIds.join(',')}`)
      .sort();
    assert.deepEqual(byBatch, [
      `click ${CUSTOMER} -: c1,c4`,
      `click ${CUSTOMER} 999: c3`,
      'click 222 -: c2',
      `enhancement ${CUSTOMER} -: e1`,
    ]);
    assert.equal(pool.forAccount('click', CUSTOMER), pool.forAccount('click', CUSTOMER));
    await pool.close();
    await assert.rejects(pool.uploadClick(click('after')), /closed/);
  });

  test('call rows go to a call batcher of their own account, beside its click batcher', async () => {
    const { client, calls } = fakeClient();
    const pool = new GoogleAdsBatcherPool({ client, lingerMs: 10, requestsPerSecond: 1000 });
    const results = await Promise.all([
      pool.uploadCall(callRow('+16502530001')),
      pool.uploadClick(click('c1')),
      pool.uploadCall(callRow('+16502530002', { customerId: '222' })),
      pool.uploadCall(callRow('+16502530003')),
      pool.uploadCall(callRow('+16502530004', { loginCustomerId: '999' })),
    ]);
    assert.deepEqual(results, ['+16502530001', 'c1', '+16502530002', '+16502530003', '+16502530004'].map(echo));
    const byBatch = calls
      .map((c) => `${c.service} ${c.customerId} ${c.loginCustomerId ?? '-'}: ${c.orderIds.join(',')}`)
      .sort();
    assert.deepEqual(byBatch, [
      `call ${CUSTOMER} -: +16502530001,+16502530003`,
      `call ${CUSTOMER} 999: +16502530004`,
      'call 222 -: +16502530002',
      `click ${CUSTOMER} -: c1`,
    ]);
    const callBatcher: unknown = pool.forAccount('call', CUSTOMER);
    assert.notEqual(callBatcher, pool.forAccount('click', CUSTOMER));
    assert.equal(pool.forAccount('call', CUSTOMER).service, 'call');
    await pool.close();
  });

  test('a call row whose caller id is not E.164 is refused at once and joins no batch', async () => {
    const { client, calls } = fakeClient();
    const pool = new GoogleAdsBatcherPool({ client, lingerMs: 5, requestsPerSecond: 1000 });
    const [good, bad] = await Promise.allSettled([
      pool.uploadCall(callRow('+16502530010')),
      pool.uploadCall(callRow('(650) 253-0011')),
    ]);
    assert.deepEqual(good, { status: 'fulfilled', value: echo('+16502530010') });
    assert.ok(
      bad?.status === 'rejected' && bad.reason instanceof GoogleAdsRequestError && bad.reason.kind === 'invalid',
    );
    assert.ok(!String(bad.reason.message).includes('253-0011'));
    assert.deepEqual(
      calls.map((c) => c.orderIds),
      [['+16502530010']],
    );
    await pool.close();
  });

  test('call, click and enhancement requests all draw from the one shared limiter', async () => {
    const { client, calls } = fakeClient();
    const limiter = createGoogleAdsLimiter({ requestsPerSecond: 1000 });
    const scheduled: number[] = [];
    limiter.on('scheduled', () => scheduled.push(calls.length));
    const pool = new GoogleAdsBatcherPool({ client, lingerMs: 5, maxBatchSize: 10, limiter });
    await Promise.all([
      ...Array.from({ length: 25 }, (_, i) => pool.uploadCall(callRow(`+1650253${String(i).padStart(4, '0')}`))),
      ...ids(12).map((o) => pool.uploadClick(click(o))),
      pool.uploadEnhancement(enhancement('e1')),
    ]);
    assert.deepEqual(calls.map((c) => c.service).sort(), ['call', 'call', 'call', 'click', 'click', 'enhancement']);
    assert.equal(scheduled.length, calls.length, 'one limiter job per request, whatever the service');
    await pool.close();
    await limiter.stop();
  });
});

describe('GoogleAdsBatcherPool over the real client and emulator', () => {
  test('4,500 rows from concurrent callers: three uploads of 2000/2000/500, row errors and a failed request land on the right callers', async () => {
    const emu = await startGoogleAdsEmulator();
    try {
      const client = new GoogleAdsConversionClient({
        developerToken: 'dev',
        clientId: 'id',
        clientSecret: 'secret',
        refreshToken: 'rt',
        endpoint: { host: emu.host, port: emu.port, insecure: true },
      });
      const pool = new GoogleAdsBatcherPool({ client, requestsPerSecond: 1000, maxConcurrentRequests: 1 });
      emu.setFault({ type: 'row', orderId: 'o-1', category: 'conversion_upload_error', name: 'TOO_RECENT_EVENT' });
      emu.setFault({ type: 'row', orderId: 'o-4321', category: 'conversion_upload_error', name: 'EXPIRED_EVENT' });
      const orderIds = ids(4500);
      const results = await Promise.all(orderIds.map((o) => pool.uploadClick(click(o))));
      assert.deepEqual(
        emu.requests.map((r) => (r.body.conversions as unknown[]).length),
        [2000, 2000, 500],
      );
      results.forEach((r, i) => {
        if (i === 1) assert.deepEqual(r.ok ? [] : r.errors.map((e) => e.name), ['TOO_RECENT_EVENT']);
        else if (i === 4321) assert.deepEqual(r.ok ? [] : r.errors.map((e) => e.name), ['EXPIRED_EVENT']);
        else assert.deepEqual(r, { ok: true }, `row ${i}`);
      });
      assert.equal(emu.uploaded().clicks.length, 4498);

      // A whole-request failure rejects exactly the callers whose rows were in that request.
      emu.setFault({ type: 'unavailable', times: 1 });
      const settled = await Promise.allSettled(ids(2100, 'p').map((o) => pool.uploadClick(click(o))));
      const failedRequest = emu.requests.slice(3).find((r) => r.status === 14);
      assert.ok(failedRequest);
      const inFailed = new Set((failedRequest.body.conversions as { order_id: string }[]).map((c) => c.order_id));
      assert.ok(inFailed.size > 0);
      settled.forEach((s, i) => {
        if (inFailed.has(`p-${i}`)) {
          assert.ok(s.status === 'rejected' && s.reason instanceof GoogleAdsRequestError, `row ${i}`);
          assert.equal(s.reason.kind, 'transient');
        } else {
          assert.deepEqual(s, { status: 'fulfilled', value: { ok: true } }, `row ${i}`);
        }
      });
      await pool.close();
    } finally {
      await emu.close();
    }
  });

  test('one order id twice in a burst (a webhook delivered twice) is sent once: one upload, both callers answered ok', async () => {
    const emu = await startGoogleAdsEmulator();
    try {
      const client = new GoogleAdsConversionClient({
        developerToken: 'dev',
        clientId: 'id',
        clientSecret: 'secret',
        refreshToken: 'rt',
        endpoint: { host: emu.host, port: emu.port, insecure: true },
      });
      const pool = new GoogleAdsBatcherPool({ client, requestsPerSecond: 1000, lingerMs: 50 });
      const results = await Promise.all([
        pool.uploadClick(click('same-order')),
        pool.uploadClick(click('same-order')),
        pool.uploadClick(click('other-order')),
        pool.uploadEnhancement(enhancement('same-order')),
        pool.uploadEnhancement(enhancement('same-order')),
      ]);
      assert.deepEqual(results, Array(5).fill({ ok: true }));
      const clickRequest = emu.requests.find((r) => Array.isArray(r.body.conversions));
      assert.deepEqual(
        (clickRequest?.body.conversions as { order_id: string }[]).map((c) => c.order_id),
        ['same-order', 'other-order'],
      );
      assert.equal(emu.uploaded().clicks.length, 2);
      // The same order id under another conversion action is another conversion: both are sent.
      const other = await Promise.all([
        pool.uploadClick(click('o-x')),
        pool.uploadClick(click('o-x', { conversionAction: `customers/${CUSTOMER}/conversionActions/2` })),
      ]);
      assert.deepEqual(other, [{ ok: true }, { ok: true }]);
      assert.equal(emu.uploaded().clicks.length, 4);
      await pool.close();
    } finally {
      await emu.close();
    }
  });

  test('call rows from concurrent callers share one UploadCallConversions request, each getting its own row', async () => {
    const emu = await startGoogleAdsEmulator();
    try {
      const client = new GoogleAdsConversionClient({
        developerToken: 'dev',
        clientId: 'id',
        clientSecret: 'secret',
        refreshToken: 'rt',
        endpoint: { host: emu.host, port: emu.port, insecure: true },
      });
      const pool = new GoogleAdsBatcherPool({ client, lingerMs: 20, requestsPerSecond: 1000 });
      const callers = Array.from({ length: 50 }, (_, i) => `+1650253${String(i).padStart(4, '0')}`);
      emu.setFault({
        type: 'row',
        callerId: callers[7] as string,
        category: 'conversion_upload_error',
        name: 'EXPIRED_CALL',
      });
      const results = await Promise.all(callers.map((c) => pool.uploadCall(callRow(c))));
      assert.deepEqual(
        emu.requests.map((r) => [r.method, (r.body.conversions as unknown[]).length]),
        [['UploadCallConversions', 50]],
      );
      results.forEach((r, i) => {
        if (i === 7) assert.deepEqual(r.ok ? [] : r.errors.map((e) => e.name), ['EXPIRED_CALL']);
        else assert.deepEqual(r, { ok: true }, `row ${i}`);
      });
      assert.equal(emu.uploaded().calls.length, 49);
      await pool.close();
    } finally {
      await emu.close();
    }
  });
});

/** Answers every row ok and lists each request's order ids (a call row: its caller id). */
function okClient() {
  const requests: { service: string; ids: string[] }[] = [];
  const answer = (service: string, ids: string[]) => {
    requests.push({ service, ids });
    return Promise.resolve(ids.map((): GoogleAdsRowResult => ({ ok: true })));
  };
  const client: GoogleAdsUploadClient = {
    uploadClickConversions: (_c, _l, rows) =>
      answer(
        'click',
        rows.map((r) => r.orderId),
      ),
    uploadCallConversions: (_c, _l, rows) =>
      answer(
        'call',
        rows.map((r) => r.callerId),
      ),
    uploadEnhancements: (_c, _l, rows) =>
      answer(
        'enhancement',
        rows.map((r) => r.orderId),
      ),
  };
  return { client, requests };
}

/** Call activities whose uploads go through `pool`; nothing else of them is used. */
function callActivitiesOver(pool: GoogleAdsBatcherPool) {
  const unused = () => Promise.reject(new Error('not used'));
  return createCallActivities({
    googleAds: { uploadCall: (row, options) => pool.uploadCall(row, options), findConversionActions: unused },
    hubspot: { dispositions: unused, modifiedInboundCalls: unused, dealAmounts: unused },
    lastPull: () => Promise.resolve(undefined),
    closedWorkflows: () => Promise.resolve([]),
    payloadKey: Buffer.alloc(32, 1).toString('base64'),
  });
}

const callImportRow = (row: number, callerId: string) => ({
  row,
  callerId,
  callStartDateTime: '2026-11-24 10:00:00+00:00',
  conversionName: 'Sales call',
  conversionDateTime: '2026-11-24 10:20:00+00:00',
  currencyCode: 'USD',
});

// The activities in Temporal's MockActivityEnvironment over a real batcher pool and a fake Google Ads: only
// setInterval is mocked (the heartbeat), so heartbeats are counted per interval ticked, never by the clock.
describe('Google Ads upload activities: heartbeats and cancellation', () => {
  test("uploadEnhancement heartbeats while its row is queued; a cancelled attempt's row never reaches Google", async (t) => {
    const { client, requests } = okClient();
    const pool = new GoogleAdsBatcherPool({ client, lingerMs: 60_000, requestsPerSecond: 1000 });
    const activities = createGoogleAdsActivities({ uploaders: pool });
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => (heartbeats += 1));
    mock.timers.enable({ apis: ['setInterval'] });
    t.after(() => mock.timers.reset());
    const running = env.run(
      (row: EnhancementAdjustmentRow) => activities.uploadEnhancement(row),
      enhancement('cancelled-order'),
    );
    const other = pool.uploadEnhancement(enhancement('other-order'));
    mock.timers.tick(BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS * 2);
    assert.equal(heartbeats, 2);
    env.cancel();
    await assert.rejects(running, CancelledFailure);
    // close() sends what is still queued at once: only the other caller's row.
    await pool.close();
    assert.deepEqual(await other, { ok: true });
    assert.deepEqual(requests, [{ service: 'enhancement', ids: ['other-order'] }]);
    mock.timers.tick(BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS * 2);
    assert.equal(heartbeats, 2, 'the heartbeat stopped with the attempt');
  });

  test('uploadClickConversion heartbeats until its row is answered, then stops', async (t) => {
    const { client, requests } = okClient();
    const pool = new GoogleAdsBatcherPool({ client, lingerMs: 60_000, requestsPerSecond: 1000 });
    const activities = createGoogleAdsActivities({ uploaders: pool });
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => (heartbeats += 1));
    mock.timers.enable({ apis: ['setInterval'] });
    t.after(() => mock.timers.reset());
    const running = env.run((row: ClickConversionRow) => activities.uploadClickConversion(row), click('o-1'));
    mock.timers.tick(BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS);
    assert.equal(heartbeats, 1);
    await pool.close();
    assert.deepEqual(await running, { outcome: 'UPLOADED' });
    mock.timers.tick(BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS * 3);
    assert.equal(heartbeats, 1);
    assert.deepEqual(requests, [{ service: 'click', ids: ['o-1'] }]);
  });

  test("uploadCallConversions heartbeats while its rows are queued; a cancelled attempt's rows never reach Google", async (t) => {
    const { client, requests } = okClient();
    const pool = new GoogleAdsBatcherPool({ client, lingerMs: 60_000, requestsPerSecond: 1000 });
    const activities = callActivitiesOver(pool);
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => (heartbeats += 1));
    mock.timers.enable({ apis: ['setInterval'] });
    t.after(() => mock.timers.reset());
    const running = env.run(
      (input: Parameters<typeof activities.uploadCallConversions>[0]) => activities.uploadCallConversions(input),
      {
        customerId: CUSTOMER,
        actions: { 'Sales call': `customers/${CUSTOMER}/conversionActions/6512349874` },
        rows: [callImportRow(1, '+16502530001'), callImportRow(2, '+16502530002')],
      },
    );
    mock.timers.tick(BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS * 2);
    assert.equal(heartbeats, 2);
    env.cancel();
    await assert.rejects(running, CancelledFailure);
    await pool.close();
    assert.deepEqual(requests, []);
  });

  test('an upload whose attempt is already cancelled queues nothing', async () => {
    const { client, requests } = okClient();
    const pool = new GoogleAdsBatcherPool({ client, lingerMs: 0, requestsPerSecond: 1000 });
    const env = new MockActivityEnvironment();
    env.cancel();
    await assert.rejects(
      env.run(
        (row: ClickConversionRow) => createGoogleAdsActivities({ uploaders: pool }).uploadClickConversion(row),
        click('o-1'),
      ),
      CancelledFailure,
    );
    await pool.close();
    assert.deepEqual(requests, []);
  });
});

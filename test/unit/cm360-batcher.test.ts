// describe()/test() return promises that the node:test runner itself awaits.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, mock, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCm360Activities, type Cm360EnhanceRequest } from '../../src/activities/cm360';
import { Cm360Batcher, Cm360BatcherPool, createCm360Limiter, type Cm360Client } from '../../src/clients/cm360';
import { Cm360HttpError } from '../../src/clients/cm360/errors';
import { BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS } from '../../src/domain/activity-timing';
import type { Cm360Conversion, Cm360RowResult } from '../../src/domain/cm360/types';

interface Call {
  profileId: string;
  ordinals: string[];
  startedAt: number;
}

/** Answers each row with its own ordinal, so a caller can tell whether it got its own row. */
function fakeClient(fail?: (ordinals: string[]) => Error | undefined) {
  const calls: Call[] = [];
  const waiters: (() => void)[] = [];
  const client: Pick<Cm360Client, 'batchUpdate'> = {
    batchUpdate(profileId, conversions) {
      const ordinals = conversions.map((c) => c.ordinal);
      calls.push({ profileId, ordinals, startedAt: performance.now() });
      waiters.splice(0).forEach((w) => w());
      const err = fail?.(ordinals);
      if (err) return Promise.reject(err);
      return Promise.resolve(ordinals.map((o) => echo(o)));
    },
  };
  const nextCall = () => new Promise<void>((resolve) => waiters.push(resolve));
  return { client, calls, nextCall };
}

const echo = (ordinal: string): Cm360RowResult => ({ ok: false, errors: [{ code: 'ECHO', message: ordinal }] });

function conversion(ordinal: string): Cm360Conversion {
  return {
    matchId: 'm',
    ordinal,
    timestampMicros: '1656950400000000',
    floodlightActivityId: '8888',
    floodlightConfigurationId: '99999',
    quantity: '1',
    value: 1,
    userIdentifiers: [],
  };
}

describe('Cm360Batcher', () => {
  test('2,500 concurrent callers become requests of 1000, 1000 and 500, each caller getting its own row', async () => {
    const { client, calls } = fakeClient();
    const batcher = new Cm360Batcher({ client, profileId: 'p1', queriesPerSecond: 1000 });
    const ordinals = Array.from({ length: 2500 }, (_, i) => `o-${i}`);
    const results = await Promise.all(ordinals.map((o) => batcher.enhance(conversion(o))));
    assert.deepEqual(
      calls.map((c) => c.ordinals.length),
      [1000, 1000, 500],
    );
    assert.ok(calls.every((c) => c.profileId === 'p1'));
    assert.deepEqual(
      calls.flatMap((c) => c.ordinals),
      ordinals,
    );
    results.forEach((r, i) => assert.deepEqual(r, echo(`o-${i}`)));
    await batcher.close();
  });

  test('a small batch is sent once the linger time after its first row has passed', async () => {
    const { client, calls } = fakeClient();
    const batcher = new Cm360Batcher({ client, profileId: 'p1', lingerMs: 40, queriesPerSecond: 1000 });
    const start = performance.now();
    const pending = ['a', 'b', 'c'].map((o) => batcher.enhance(conversion(o)));
    const results = await Promise.all(pending);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.ordinals, ['a', 'b', 'c']);
    assert.ok((calls[0]?.startedAt ?? 0) - start >= 35, 'sent before the linger time');
    assert.deepEqual(results, [echo('a'), echo('b'), echo('c')]);
    await batcher.close();
  });

  // Bottleneck does the spacing (minTime = 1000 / QPS); asserting wall-clock gaps here only measured timer jitter.
  test('every request waits for a slot of the QPS limiter', async () => {
    const { client, calls } = fakeClient();
    const limiter = createCm360Limiter(20);
    let scheduled = 0;
    limiter.on('scheduled', () => (scheduled += 1));
    const batcher = new Cm360Batcher({ client, profileId: 'p1', maxBatchSize: 1, lingerMs: 0, limiter });
    await Promise.all(['1', '2', '3', '4', '5'].map((o) => batcher.enhance(conversion(o))));
    assert.equal(calls.length, 5);
    assert.equal(scheduled, 5);
    await batcher.close();
    await limiter.stop();
  });

  test('rows arriving while a request waits for its slot join that request', async () => {
    const { client, calls, nextCall } = fakeClient();
    const batcher = new Cm360Batcher({ client, profileId: 'p1', lingerMs: 0, queriesPerSecond: 10 });
    const first = batcher.enhance(conversion('first'));
    await nextCall();
    const later: Promise<Cm360RowResult>[] = [];
    for (const o of ['l1', 'l2', 'l3', 'l4', 'l5']) {
      later.push(batcher.enhance(conversion(o)));
      await tick();
    }
    await Promise.all([first, ...later]);
    assert.deepEqual(
      calls.map((c) => c.ordinals),
      [['first'], ['l1', 'l2', 'l3', 'l4', 'l5']],
    );
    await batcher.close();
  });

  test("an HTTP error rejects exactly that batch's callers, with the same error", async () => {
    const boom = new Error('HTTP 503');
    const { client, calls } = fakeClient((ordinals) => (ordinals.includes('b1') ? boom : undefined));
    const batcher = new Cm360Batcher({ client, profileId: 'p1', maxBatchSize: 2, queriesPerSecond: 1000 });
    const settled = await Promise.allSettled(['a1', 'a2', 'b1', 'b2', 'c1'].map((o) => batcher.enhance(conversion(o))));
    assert.deepEqual(
      calls.map((c) => c.ordinals),
      [['a1', 'a2'], ['b1', 'b2'], ['c1']],
    );
    assert.deepEqual(settled[0], { status: 'fulfilled', value: echo('a1') });
    assert.deepEqual(settled[1], { status: 'fulfilled', value: echo('a2') });
    assert.equal(settled[2]?.status === 'rejected' && settled[2].reason, boom);
    assert.equal(settled[3]?.status === 'rejected' && settled[3].reason, boom);
    assert.deepEqual(settled[4], { status: 'fulfilled', value: echo('c1') });
    await batcher.close();
  });

  test('a client that returns the wrong number of rows fails the whole batch', async () => {
    const batcher = new Cm360Batcher({
      client: { batchUpdate: () => Promise.resolve([{ ok: true }]) },
      profileId: 'p1',
      lingerMs: 0,
    });
    const settled = await Promise.allSettled([batcher.enhance(conversion('x')), batcher.enhance(conversion('y'))]);
    assert.ok(settled.every((s) => s.status === 'rejected'));
    await batcher.close();
  });

  test('close() sends what is queued without waiting for the linger time, then refuses new rows', async () => {
    const { client, calls } = fakeClient();
    const batcher = new Cm360Batcher({ client, profileId: 'p1', lingerMs: 60_000 });
    const pending = ['q1', 'q2'].map((o) => batcher.enhance(conversion(o)));
    await batcher.close();
    assert.deepEqual(calls[0]?.ordinals, ['q1', 'q2']);
    assert.deepEqual(await Promise.all(pending), [echo('q1'), echo('q2')]);
    await assert.rejects(batcher.enhance(conversion('late')), /closed/);
    await batcher.close();
  });

  test('rejects a maxBatchSize above the API limit', () => {
    const { client } = fakeClient();
    assert.throws(() => new Cm360Batcher({ client, profileId: 'p', maxBatchSize: 1001 }), RangeError);
  });
});

describe('Cm360BatcherPool', () => {
  test('one batcher per profile, all sharing the QPS limit, each sending to its own profile', async () => {
    const { client, calls } = fakeClient();
    const limiter = createCm360Limiter(20);
    let scheduled = 0;
    limiter.on('scheduled', () => (scheduled += 1));
    const pool = new Cm360BatcherPool({ client, lingerMs: 0, limiter });
    assert.equal(pool.forProfile('p1'), pool.forProfile('p1'));
    assert.notEqual(pool.forProfile('p1'), pool.forProfile('p2'));
    const results = await Promise.all([
      pool.forProfile('p1').enhance(conversion('x1')),
      pool.forProfile('p2').enhance(conversion('x2')),
      pool.forProfile('p3').enhance(conversion('x3')),
    ]);
    assert.deepEqual(results, [echo('x1'), echo('x2'), echo('x3')]);
    assert.deepEqual(calls.map((c) => [c.profileId, c.ordinals]).sort(), [
      ['p1', ['x1']],
      ['p2', ['x2']],
      ['p3', ['x3']],
    ]);
    assert.equal(scheduled, 3, "every profile's request drew from the one limiter");
    await pool.close();
    await limiter.stop();
  });

  test('close() flushes every profile and then refuses new profiles', async () => {
    const { client, calls } = fakeClient();
    const pool = new Cm360BatcherPool({ client, lingerMs: 60_000, queriesPerSecond: 1000 });
    const pending = [pool.forProfile('a').enhance(conversion('a1')), pool.forProfile('b').enhance(conversion('b1'))];
    await pool.close();
    assert.equal(calls.length, 2);
    assert.deepEqual(await Promise.all(pending), [echo('a1'), echo('b1')]);
    assert.throws(() => pool.forProfile('c'), /closed/);
  });

  test("past its part of the daily requests a request fails as CM360's dailyLimitExceeded, unsent", async () => {
    const { client, calls } = fakeClient();
    const pool = new Cm360BatcherPool({ client, lingerMs: 0, queriesPerSecond: 1000, dailyRequests: 4 });
    await pool.setShare(0.5);
    await pool.forProfile('p').enhance(conversion('d1'));
    await pool.forProfile('p').enhance(conversion('d2'));
    const third = await pool
      .forProfile('p')
      .enhance(conversion('d3'))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    assert.ok(third instanceof Cm360HttpError, String(third));
    assert.equal(third.kind, 'quota-daily');
    assert.equal(third.reason, 'dailyLimitExceeded');
    assert.match(third.message, /2 of 2 on \d{4}-\d{2}-\d{2}, Pacific time/);
    assert.equal(calls.length, 2, 'the third request reached CM360');
    assert.equal(pool.dailyUsage?.used, 2);
    await pool.close();
  });
});

// The activity in Temporal's MockActivityEnvironment over a real batcher and a fake CM360: only setInterval is
// mocked (the heartbeat), so heartbeats are counted per interval ticked, never by waiting on the clock.
describe('enhanceCm360Conversion: heartbeats and cancellation', () => {
  test("heartbeats every interval while its row is queued; a cancelled attempt's row never reaches CM360", async (t) => {
    const { client, calls } = fakeClient();
    const batcher = new Cm360Batcher({ client, profileId: 'p1', lingerMs: 60_000, queriesPerSecond: 1000 });
    const activities = createCm360Activities({ batchers: { forProfile: () => batcher } });
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => (heartbeats += 1));
    mock.timers.enable({ apis: ['setInterval'] });
    t.after(() => mock.timers.reset());
    const running = env.run((req: Cm360EnhanceRequest) => activities.enhanceCm360Conversion(req), {
      profileId: 'p1',
      conversion: conversion('c1'),
    });
    mock.timers.tick(BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS * 3);
    assert.equal(heartbeats, 3);
    env.cancel();
    await assert.rejects(running, CancelledFailure);
    // close() sends whatever is still queued at once: nothing is.
    await batcher.close();
    assert.deepEqual(calls, []);
    mock.timers.tick(BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS * 3);
    assert.equal(heartbeats, 3, 'the heartbeat stopped with the attempt');
  });

  test('the heartbeat stops once the row is answered; the other rows of the request are unaffected', async (t) => {
    const calls: string[][] = [];
    const client: Pick<Cm360Client, 'batchUpdate'> = {
      batchUpdate: (_profileId, conversions) => {
        calls.push(conversions.map((c) => c.ordinal));
        return Promise.resolve(conversions.map((): Cm360RowResult => ({ ok: true })));
      },
    };
    const batcher = new Cm360Batcher({ client, profileId: 'p1', lingerMs: 60_000, queriesPerSecond: 1000 });
    const activities = createCm360Activities({ batchers: { forProfile: () => batcher } });
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => (heartbeats += 1));
    mock.timers.enable({ apis: ['setInterval'] });
    t.after(() => mock.timers.reset());
    const mine = env.run((req: Cm360EnhanceRequest) => activities.enhanceCm360Conversion(req), {
      profileId: 'p1',
      conversion: conversion('mine'),
    });
    const other = batcher.enhance(conversion('other'));
    mock.timers.tick(BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS);
    assert.equal(heartbeats, 1);
    // close() sends the queued rows at once, without the linger time.
    await batcher.close();
    assert.deepEqual(await mine, { outcome: 'ENHANCED' });
    assert.deepEqual(await other, { ok: true });
    mock.timers.tick(BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS * 3);
    assert.equal(heartbeats, 1);
    assert.deepEqual(calls, [['mine', 'other']]);
  });

  test('an attempt already cancelled when it starts queues nothing', async () => {
    const { client, calls } = fakeClient();
    const batcher = new Cm360Batcher({ client, profileId: 'p1', lingerMs: 0, queriesPerSecond: 1000 });
    const activities = createCm360Activities({ batchers: { forProfile: () => batcher } });
    const env = new MockActivityEnvironment();
    env.cancel();
    await assert.rejects(
      env.run((req: Cm360EnhanceRequest) => activities.enhanceCm360Conversion(req), {
        profileId: 'p1',
        conversion: conversion('c1'),
      }),
      CancelledFailure,
    );
    await batcher.close();
    assert.deepEqual(calls, []);
  });
});

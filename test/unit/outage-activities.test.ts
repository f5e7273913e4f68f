// The activities' side of a credentials outage: the first failing call opens the account's circuit, every other
// conversion of the account then fails at once with the same retry time (the vendor is not called), and each
// failure reaches the workflow non-retryable with that time, so it parks on a timer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createCm360Activities } from '../../src/activities/cm360';
import { createGoogleAdsActivities } from '../../src/activities/google-ads';
import { createHubSpotActivities } from '../../src/activities/hubspot';
import { HubSpotError } from '../../src/clients/hubspot/errors';
import { Cm360HttpError } from '../../src/clients/cm360/errors';
import { GoogleAdsRequestError } from '../../src/clients/google-ads/errors';
import { OutageCircuits } from '../../src/clients/shared/circuit';
import type { Cm360Conversion } from '../../src/domain/cm360/types';
import type { ClickConversionRow } from '../../src/domain/google-ads/types';
import { isOutageDetails, outageDelayMs } from '../../src/domain/outage';
import type { CallImportRow } from '../../src/domain/calls/types';
import { callerOf, CUSTOMER_ID, scriptedCallActivities } from '../helpers/calls';

const callRow = (i = 0): CallImportRow =>
  ({
    row: i + 2,
    callerId: callerOf(i),
    callStartDateTime: '2026-11-02 15:00:00+00:00',
    conversionDateTime: '2026-11-02 15:30:00+00:00',
    conversionName: 'Sales call',
    currencyCode: 'USD',
  }) satisfies CallImportRow;

const conversion = (ordinal: string): Cm360Conversion => ({
  matchId: 'm',
  ordinal,
  timestampMicros: '1',
  floodlightActivityId: '1',
  floodlightConfigurationId: '2',
  quantity: '1',
  value: 1,
  userIdentifiers: [{ hashedEmail: 'a'.repeat(64) }],
});

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApplicationFailure, String(err));
  return err;
}

describe('outage circuits in the activities', () => {
  test('CM360: one 401 parks every conversion of the profile until the same time; other profiles go on', async () => {
    let calls = 0;
    const circuits = new OutageCircuits();
    const activities = createCm360Activities({
      circuits,
      batchers: {
        forProfile: (profileId) => ({
          enhance: () => {
            calls += 1;
            if (profileId === 'broken') {
              return Promise.reject(
                new Cm360HttpError({ status: 401, kind: 'auth', retryable: true, message: 'bad token' }),
              );
            }
            return Promise.resolve({ ok: true });
          },
        }),
      },
    });
    const env = new MockActivityEnvironment();
    const first = await failureOf(
      env.run((r: Parameters<typeof activities.enhanceCm360Conversion>[0]) => activities.enhanceCm360Conversion(r), {
        profileId: 'broken',
        conversion: conversion('1'),
      }),
    );
    const second = await failureOf(
      env.run((r: Parameters<typeof activities.enhanceCm360Conversion>[0]) => activities.enhanceCm360Conversion(r), {
        profileId: 'broken',
        conversion: conversion('2'),
      }),
    );
    assert.equal(calls, 1, 'the second conversion never reached CM360');
    for (const f of [first, second]) {
      assert.equal(f.type, 'Cm360AuthError');
      assert.equal(f.nonRetryable, true);
      const details: unknown = f.details?.[0];
      assert.ok(isOutageDetails(details));
    }
    const [a, b] = [first, second].map((f) => (f.details?.[0] as { retryAtMs: number }).retryAtMs);
    assert.equal(a, b, 'parked until the same time');
    const scheduled = env.context.info.currentAttemptScheduledTimestampMs;
    assert.equal(a, scheduled + outageDelayMs(1));
    assert.deepEqual(
      await env.run(
        (r: Parameters<typeof activities.enhanceCm360Conversion>[0]) => activities.enhanceCm360Conversion(r),
        { profileId: 'fine', conversion: conversion('3') },
      ),
      {
        outcome: 'ENHANCED',
      },
    );
  });

  test('Google Ads: an auth error of one customer parks its uploads, not another customer’s', async () => {
    const sent: string[] = [];
    const circuits = new OutageCircuits();
    const activities = createGoogleAdsActivities({
      circuits,
      uploaders: {
        uploadClick: (row) => {
          sent.push(row.customerId);
          return row.customerId === '1111111111'
            ? Promise.reject(new GoogleAdsRequestError({ kind: 'auth', grpcCode: 16, message: 'UNAUTHENTICATED' }))
            : Promise.resolve({ ok: true });
        },
        uploadEnhancement: () => Promise.reject(new Error('unused')),
      },
    });
    const row = (customerId: string, orderId: string) =>
      ({
        customerId,
        conversionAction: `customers/${customerId}/conversionActions/1`,
        orderId,
        conversionDateTime: '2026-12-01 10:00:00+00:00',
        gclid: 'g',
        userIdentifiers: [],
      }) as unknown as ClickConversionRow;
    const env = new MockActivityEnvironment();
    const f1 = await failureOf(
      env.run((r: ClickConversionRow) => activities.uploadClickConversion(r), row('1111111111', 'a')),
    );
    const f2 = await failureOf(
      env.run((r: ClickConversionRow) => activities.uploadClickConversion(r), row('1111111111', 'b')),
    );
    assert.equal(f1.type, 'GoogleAdsAuthError');
    assert.equal(f2.type, 'GoogleAdsAuthError');
    assert.deepEqual(
      await env.run((r: ClickConversionRow) => activities.uploadClickConversion(r), row('2222222222', 'c')),
      { outcome: 'UPLOADED' },
    );
    assert.deepEqual(sent, ['1111111111', '2222222222']);
  });

  test('Google Ads calls: an account whose clicks found its credentials revoked parks its call imports too', async () => {
    const circuits = new OutageCircuits();
    let callRequests = 0;
    const clicks = createGoogleAdsActivities({
      circuits,
      uploaders: {
        uploadClick: () =>
          Promise.reject(new GoogleAdsRequestError({ kind: 'auth', grpcCode: 16, message: 'UNAUTHENTICATED' })),
        uploadEnhancement: () => Promise.reject(new Error('unused')),
      },
    });
    const { activities: calls } = scriptedCallActivities(
      () => {
        callRequests += 1;
        return { ok: true };
      },
      { circuits },
    );
    const env = new MockActivityEnvironment();
    const click = {
      customerId: CUSTOMER_ID,
      conversionAction: `customers/${CUSTOMER_ID}/conversionActions/1`,
      orderId: 'a',
      conversionDateTime: '2026-12-01 10:00:00+00:00',
      gclid: 'g',
      userIdentifiers: [],
    } as unknown as ClickConversionRow;
    const opened = await failureOf(env.run((r: ClickConversionRow) => clicks.uploadClickConversion(r), click));
    const input = {
      customerId: CUSTOMER_ID,
      actions: { 'Sales call': `customers/${CUSTOMER_ID}/conversionActions/6512349874` },
      rows: [callRow()],
    };
    const parked = await failureOf(env.run((i: typeof input) => calls.uploadCallConversions(i), input));
    assert.equal(parked.type, 'GoogleAdsAuthError');
    assert.equal(parked.nonRetryable, true);
    const [a, b] = [opened.details?.[0], parked.details?.[0]];
    assert.ok(isOutageDetails(a) && isOutageDetails(b));
    assert.equal(b.retryAtMs, a.retryAtMs, 'the same circuit, the same time');
    assert.equal(callRequests, 0, 'the open circuit sent nothing');
  });

  test('Google Ads calls: a request refused for its credentials opens the circuit, the next fails at once', async () => {
    const circuits = new OutageCircuits();
    let requests = 0;
    const { activities } = scriptedCallActivities(
      () => {
        requests += 1;
        return new GoogleAdsRequestError({ kind: 'auth', grpcCode: 16, message: 'UNAUTHENTICATED' });
      },
      { circuits },
    );
    const env = new MockActivityEnvironment();
    const input = {
      customerId: CUSTOMER_ID,
      actions: { 'Sales call': `customers/${CUSTOMER_ID}/conversionActions/6512349874` },
      rows: [callRow(), callRow(1)],
    };
    const first = await failureOf(env.run((i: typeof input) => activities.uploadCallConversions(i), input));
    const second = await failureOf(env.run((i: typeof input) => activities.uploadCallConversions(i), input));
    for (const f of [first, second]) {
      assert.equal(f.type, 'GoogleAdsAuthError');
      assert.equal(f.nonRetryable, true);
      assert.ok(isOutageDetails(f.details?.[0]));
    }
    assert.equal(requests, 2, 'two rows of one request; the second activity reached nothing');
  });

  test('HubSpot: a revoked token parks the contact and deal reads of every lifecycle conversion together', async () => {
    let calls = 0;
    const circuits = new OutageCircuits();
    const revoked = () =>
      new HubSpotError({ status: 401, kind: 'auth', retryable: false, operation: 'contacts.getById' });
    const activities = createHubSpotActivities({
      circuits,
      crm: {
        getContact: () => {
          calls += 1;
          return Promise.reject(revoked());
        },
        getMostRecentDeal: () => {
          calls += 1;
          return Promise.reject(revoked());
        },
      },
    });
    const env = new MockActivityEnvironment();
    const read = (contactId: string) =>
      env.run(
        (r: Parameters<typeof activities.readContactForConversion>[0]) => activities.readContactForConversion(r),
        { contactId, stage: 'customer', sharedFields: ['email' as const] },
      );
    const first = await failureOf(read('501'));
    assert.equal(first.type, 'HubSpotAuthError');
    assert.equal(first.nonRetryable, true);
    const details: unknown = first.details?.[0];
    assert.ok(isOutageDetails(details));
    // The second contact and the deal read fail at once with the same retry time, without calling HubSpot.
    const second = await failureOf(read('502'));
    const deal = await failureOf(
      env.run((r: Parameters<typeof activities.readMostRecentDeal>[0]) => activities.readMostRecentDeal(r), {
        contactId: '503',
      }),
    );
    assert.equal(calls, 1);
    for (const f of [second, deal]) {
      assert.equal(f.type, 'HubSpotAuthError');
      assert.deepEqual(f.details?.[0], details);
    }
  });
});

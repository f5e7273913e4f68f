// The product's metrics as a scrape shows them: a batcher reports each request (rows, quota wait, answer time)
// and every row's outcome by vendor code; a whole request that fails counts its rows by the error's kind.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Bottleneck from 'bottleneck';
import { RowBatcher } from '../../src/clients/shared/row-batcher';
import { GoogleAdsRequestError } from '../../src/clients/google-ads/errors';
import type { GoogleAdsRowResult } from '../../src/domain/google-ads/types';
import { cm360RowOutcome, googleAdsRowOutcome, RelayMetrics } from '../../src/metrics/relay';

const rowError = (name: string, category = 'conversion_upload_error'): GoogleAdsRowResult => ({
  ok: false,
  errors: [{ category, name, message: name }],
});

function line(text: string, name: string, labels: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return found === undefined ? undefined : Number(found.split(' ').at(-1));
}

describe('relay metrics', () => {
  test('a batcher reports each request: rows, quota wait and time, and each row by outcome and code', async () => {
    const metrics = new RelayMetrics({ processMetrics: false });
    const answers: GoogleAdsRowResult[] = [
      { ok: true },
      rowError('CLICK_CONVERSION_ALREADY_EXISTS'),
      rowError('TOO_RECENT_EVENT'),
      rowError('INVALID_GCLID', 'conversion_upload_error'),
    ];
    let turnWaited = false;
    const batcher = new RowBatcher<number, GoogleAdsRowResult>({
      send: (rows) => Promise.resolve(rows.map((i) => answers[i]!)),
      maxBatchSize: 4,
      lingerMs: 60_000,
      limiter: new Bottleneck({ maxConcurrent: 1 }),
      ownsLimiter: true,
      name: 'test',
      observer: metrics.batchObserver('google_ads', 'click', googleAdsRowOutcome),
      // A turn between processes: counted as quota wait.
      beforeSend: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        turnWaited = true;
      },
    });
    await Promise.all([0, 1, 2, 3].map((i) => batcher.submit(i)));
    await batcher.close();
    assert.ok(turnWaited);
    const text = await metrics.registry.metrics();
    const rows = (outcome: string, code: string) =>
      line(text, 'relay_rows_total', `vendor="google_ads",service="click",outcome="${outcome}",code="${code}"`);
    assert.equal(rows('uploaded', 'OK'), 1);
    assert.equal(rows('already_done', 'conversion_upload_error.CLICK_CONVERSION_ALREADY_EXISTS'), 1);
    assert.equal(rows('retry', 'conversion_upload_error.TOO_RECENT_EVENT'), 1);
    assert.equal(rows('failed', 'conversion_upload_error.INVALID_GCLID'), 1);
    assert.equal(line(text, 'relay_batch_rows_count', 'vendor="google_ads",service="click"'), 1);
    assert.equal(line(text, 'relay_batch_rows_sum', 'vendor="google_ads",service="click"'), 4);
    assert.equal(line(text, 'relay_quota_wait_seconds_count', 'vendor="google_ads",service="click"'), 1);
    assert.equal(
      line(text, 'relay_vendor_request_seconds_count', 'vendor="google_ads",service="click",outcome="ok"'),
      1,
    );
  });

  test('a request that fails as a whole counts its rows by the error kind; an observer that throws fails nothing', async () => {
    const metrics = new RelayMetrics({ processMetrics: false });
    const observer = metrics.batchObserver('google_ads', 'click', googleAdsRowOutcome);
    const batcher = new RowBatcher<number, GoogleAdsRowResult>({
      send: () => Promise.reject(new GoogleAdsRequestError({ kind: 'quota', message: 'RESOURCE_EXHAUSTED' })),
      maxBatchSize: 2,
      lingerMs: 60_000,
      limiter: new Bottleneck({ maxConcurrent: 1 }),
      ownsLimiter: true,
      name: 'test',
      observer: {
        requestSent: (sent) => {
          observer.requestSent(sent);
          throw new Error('a broken observer');
        },
      },
    });
    const settled = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['rejected', 'rejected'],
    );
    assert.match(String((settled[0] as PromiseRejectedResult).reason), /RESOURCE_EXHAUSTED/);
    await batcher.close();
    const text = await metrics.registry.metrics();
    assert.equal(
      line(text, 'relay_rows_total', 'vendor="google_ads",service="click",outcome="retry",code="request.quota"'),
      2,
    );
    assert.equal(
      line(text, 'relay_vendor_request_seconds_count', 'vendor="google_ads",service="click",outcome="error"'),
      1,
    );
  });

  test('CM360 rows read as the workflow decides them', () => {
    assert.deepEqual(cm360RowOutcome({ ok: true }), { outcome: 'uploaded', code: 'OK' });
    assert.deepEqual(cm360RowOutcome({ ok: false, errors: [{ code: 'NOT_FOUND', message: 'm' }] }), {
      outcome: 'retry',
      code: 'NOT_FOUND',
    });
    assert.equal(
      cm360RowOutcome({ ok: false, errors: [{ code: 'INVALID_ARGUMENT', message: 'm' }] }).outcome,
      'failed',
    );
    assert.equal(cm360RowOutcome({ ok: false, errors: [{ code: 'INTERNAL', message: 'm' }] }).outcome, 'retry');
  });
});

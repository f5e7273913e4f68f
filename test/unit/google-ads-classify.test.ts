import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import {
  classifyGoogleAdsError,
  GOOGLE_ADS_ERROR_TABLE,
  GOOGLE_ADS_QUOTA_DEFAULT_DELAY_MS,
  GOOGLE_ADS_TEMPORARY_QUOTA_DEFAULT_DELAY_MS,
  GOOGLE_ADS_TOO_RECENT_CONVERSION_DELAY_MS,
  GOOGLE_ADS_TOO_RECENT_DELAY_MS,
  type GoogleAdsErrorAction,
} from '../../src/domain/google-ads/classify';
import type { GoogleAdsRowError } from '../../src/domain/google-ads/types';

const HOUR = 3_600_000;

const err = (category: string, name: string, retryDelayMs?: number): GoogleAdsRowError => ({
  category,
  name,
  message: 'm',
  ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
});

interface Row {
  category: string;
  name: string;
  retryDelayMs?: number;
  expected: GoogleAdsErrorAction;
}

// One entry per row of the table (plus the defaults and the permanent fallback), each its own test.
const rows: Row[] = [
  {
    category: 'conversion_upload_error',
    name: 'TOO_RECENT_EVENT',
    expected: { action: 'retry-later', delayMs: 6 * HOUR },
  },
  {
    category: 'conversion_upload_error',
    name: 'TOO_RECENT_CONVERSION_ACTION',
    expected: { action: 'retry-later', delayMs: 6 * HOUR },
  },
  {
    category: 'conversion_upload_error',
    name: 'TOO_RECENT_CALL',
    expected: { action: 'retry-later', delayMs: 6 * HOUR },
  },
  { category: 'conversion_upload_error', name: 'ORDER_ID_ALREADY_IN_USE', expected: { action: 'already-done' } },
  {
    category: 'conversion_upload_error',
    name: 'CLICK_CONVERSION_ALREADY_EXISTS',
    expected: { action: 'already-done' },
  },
  { category: 'conversion_upload_error', name: 'CALL_CONVERSION_ALREADY_EXISTS', expected: { action: 'already-done' } },
  {
    category: 'conversion_upload_error',
    name: 'DUPLICATE_CALL_CONVERSION_IN_REQUEST',
    expected: { action: 'already-done' },
  },
  {
    category: 'conversion_adjustment_upload_error',
    name: 'TOO_RECENT_CONVERSION_ACTION',
    expected: { action: 'retry-later', delayMs: 6 * HOUR },
  },
  {
    category: 'conversion_adjustment_upload_error',
    name: 'TOO_RECENT_CONVERSION',
    expected: { action: 'retry-later', delayMs: HOUR },
  },
  {
    category: 'conversion_adjustment_upload_error',
    name: 'CONVERSION_ALREADY_ENHANCED',
    expected: { action: 'already-done' },
  },
  {
    category: 'conversion_adjustment_upload_error',
    name: 'RESTATEMENT_ALREADY_EXISTS',
    expected: { action: 'already-done' },
  },
  {
    category: 'quota_error',
    name: 'RESOURCE_EXHAUSTED',
    retryDelayMs: 42_000,
    expected: { action: 'retry-later', delayMs: 42_000 },
  },
  {
    category: 'quota_error',
    name: 'RESOURCE_TEMPORARILY_EXHAUSTED',
    retryDelayMs: 7_500,
    expected: { action: 'retry-later', delayMs: 7_500 },
  },
  { category: 'conversion_upload_error', name: 'DUPLICATE_ORDER_ID', expected: { action: 'transient' } },
  {
    category: 'conversion_upload_error',
    name: 'DUPLICATE_CLICK_CONVERSION_IN_REQUEST',
    expected: { action: 'transient' },
  },
  {
    category: 'conversion_adjustment_upload_error',
    name: 'DUPLICATE_ENHANCEMENT_IN_REQUEST',
    expected: { action: 'transient' },
  },
  { category: 'internal_error', name: 'INTERNAL_ERROR', expected: { action: 'transient' } },
  { category: 'internal_error', name: 'TRANSIENT_ERROR', expected: { action: 'transient' } },
  { category: 'internal_error', name: 'DEADLINE_EXCEEDED', expected: { action: 'transient' } },
];

describe('classifyGoogleAdsError: the table', () => {
  for (const r of rows) {
    const given = r.retryDelayMs !== undefined ? ` (retry_delay ${r.retryDelayMs} ms)` : '';
    test(`${r.category}.${r.name}${given} → ${JSON.stringify(r.expected)}`, () => {
      assert.deepEqual(classifyGoogleAdsError(err(r.category, r.name, r.retryDelayMs)), r.expected);
    });
  }

  test('every entry of the table is covered above', () => {
    const covered = new Set(rows.map((r) => `${r.category}.${r.name}`));
    for (const [category, names] of Object.entries(GOOGLE_ADS_ERROR_TABLE)) {
      for (const name of Object.keys(names)) assert.ok(covered.has(`${category}.${name}`), `${category}.${name}`);
    }
  });
});

describe('classifyGoogleAdsError: defaults and fallbacks', () => {
  test('the delay constants are the documented ones', () => {
    assert.equal(GOOGLE_ADS_TOO_RECENT_DELAY_MS, 6 * HOUR);
    assert.equal(GOOGLE_ADS_TOO_RECENT_CONVERSION_DELAY_MS, HOUR);
    assert.equal(GOOGLE_ADS_QUOTA_DEFAULT_DELAY_MS, 15 * 60_000);
    assert.equal(GOOGLE_ADS_TEMPORARY_QUOTA_DEFAULT_DELAY_MS, 60_000);
  });

  test('quota_error.RESOURCE_EXHAUSTED without a retry_delay waits the 15-minute default', () => {
    assert.deepEqual(classifyGoogleAdsError(err('quota_error', 'RESOURCE_EXHAUSTED')), {
      action: 'retry-later',
      delayMs: GOOGLE_ADS_QUOTA_DEFAULT_DELAY_MS,
    });
  });

  test('quota_error.RESOURCE_TEMPORARILY_EXHAUSTED without a retry_delay waits the 1-minute default', () => {
    assert.deepEqual(classifyGoogleAdsError(err('quota_error', 'RESOURCE_TEMPORARILY_EXHAUSTED')), {
      action: 'retry-later',
      delayMs: GOOGLE_ADS_TEMPORARY_QUOTA_DEFAULT_DELAY_MS,
    });
  });

  test('a zero or non-finite retry_delay falls back to the default', () => {
    for (const d of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.deepEqual(classifyGoogleAdsError(err('quota_error', 'RESOURCE_EXHAUSTED', d)), {
        action: 'retry-later',
        delayMs: GOOGLE_ADS_QUOTA_DEFAULT_DELAY_MS,
      });
    }
  });

  test('a retry_delay on a non-quota error does not shorten Google’s 6 hours', () => {
    assert.deepEqual(classifyGoogleAdsError(err('conversion_upload_error', 'TOO_RECENT_EVENT', 1_000)), {
      action: 'retry-later',
      delayMs: 6 * HOUR,
    });
  });

  test('everything else is permanent: data errors, other quota errors, unknown categories and names', () => {
    const permanent: [string, string][] = [
      ['conversion_upload_error', 'EXPIRED_EVENT'],
      ['conversion_upload_error', 'CLICK_NOT_FOUND'],
      ['conversion_upload_error', 'INVALID_USER_IDENTIFIER'],
      ['conversion_adjustment_upload_error', 'CONVERSION_NOT_FOUND'],
      ['conversion_adjustment_upload_error', 'MISSING_ORDER_ID_FOR_WEBPAGE'],
      ['quota_error', 'ACCESS_PROHIBITED'],
      ['internal_error', 'ERROR_CODE_NOT_PUBLISHED'],
      ['date_error', 'INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET'],
      ['some_future_error', 'TOO_RECENT_EVENT'],
      ['conversion_upload_error', 'constructor'],
      ['constructor', 'name'],
      ['__proto__', 'TOO_RECENT_EVENT'],
    ];
    for (const [category, name] of permanent) {
      assert.deepEqual(classifyGoogleAdsError(err(category, name)), { action: 'permanent' }, `${category}.${name}`);
    }
  });
});

describe('classifyGoogleAdsError: call conversion codes (v25 ConversionUploadError)', () => {
  // Every value of the v25 enum that concerns calls, with what the relay does about it.
  const callCodes: [string, GoogleAdsErrorAction][] = [
    ['TOO_RECENT_CALL', { action: 'retry-later', delayMs: 6 * HOUR }],
    ['CALL_CONVERSION_ALREADY_EXISTS', { action: 'already-done' }],
    ['DUPLICATE_CALL_CONVERSION_IN_REQUEST', { action: 'already-done' }],
    ['EXPIRED_CALL', { action: 'permanent' }],
    ['CALL_NOT_FOUND', { action: 'permanent' }],
    ['CONVERSION_PRECEDES_CALL', { action: 'permanent' }],
    ['CONVERSION_TRACKING_NOT_ENABLED_AT_CALL_TIME', { action: 'permanent' }],
    ['UNPARSEABLE_CALLERS_PHONE_NUMBER', { action: 'permanent' }],
    ['INVALID_CUSTOMER_FOR_CALL', { action: 'permanent' }],
  ];

  for (const [name, expected] of callCodes) {
    test(`conversion_upload_error.${name} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(classifyGoogleAdsError(err('conversion_upload_error', name)), expected);
    });
  }

  test('the names above are exactly the call codes of the v25 enum the library ships', () => {
    // The protos google-ads-api itself loads: a renamed or new call code shows up here.
    const fromLibrary = createRequire(require.resolve('google-ads-api'));
    const json = fromLibrary('google-ads-node/build/protos/protos.json') as {
      nested: Record<string, { nested: Record<string, unknown> }>;
    };
    const path = ['google', 'ads', 'googleads', 'v25', 'errors', 'ConversionUploadErrorEnum', 'ConversionUploadError'];
    const values = path.reduce<unknown>(
      (node, key) => (node as { nested: Record<string, unknown> }).nested[key],
      json,
    ) as { values: Record<string, number> };
    const enumCallCodes = Object.keys(values.values).filter((n) => /CALL/.test(n));
    assert.deepEqual(enumCallCodes.sort(), callCodes.map(([n]) => n).sort());
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CLICK_WINDOW_MS,
  conversionValue,
  googleAdsDateTime,
  lifecycleEligibility,
  lifecycleOrderId,
  parseOffsetDateTime,
  type EligibilityFacts,
} from '../../src/domain/google-ads/rules';

const base: EligibilityFacts = {
  enabled: true,
  definitionCreatedAtMs: Date.parse('2026-01-01T00:00:00Z'),
  stageChangedAtMs: Date.parse('2026-06-01T00:00:00Z'),
  contacts: 'all',
  hasClickId: false,
  identifierCount: 1,
};

describe('lifecycleEligibility', () => {
  const cases: [string, Partial<EligibilityFacts>, string | undefined][] = [
    ['an enabled definition and a hashed email', {}, undefined],
    ['switched off', { enabled: false }, 'DEFINITION_DISABLED'],
    [
      'stage change before the definition existed',
      { stageChangedAtMs: base.definitionCreatedAtMs - 1 },
      'STAGE_CHANGED_BEFORE_DEFINITION',
    ],
    ['stage change at the very moment of creation', { stageChangedAtMs: base.definitionCreatedAtMs }, undefined],
    [
      'consent required and given (case-insensitive)',
      { consent: { property: 'ads_ok', value: 'Yes' }, consentValue: 'yes' },
      undefined,
    ],
    [
      'consent required and refused',
      { consent: { property: 'ads_ok', value: 'yes' }, consentValue: 'no' },
      'NO_CONSENT',
    ],
    ['consent required and missing', { consent: { property: 'ads_ok', value: 'yes' } }, 'NO_CONSENT'],
    ['only click-id contacts, none', { contacts: 'with_click_id' }, 'NO_CLICK_ID'],
    ['only click-id contacts, with one', { contacts: 'with_click_id', hasClickId: true }, undefined],
    ['no click id and no identifier', { identifierCount: 0 }, 'NO_CLICK_ID_OR_SHARED_DATA'],
    ['a click id alone is enough', { identifierCount: 0, hasClickId: true }, undefined],
    ['click 90 days before', { hasClickId: true, clickAtMs: base.stageChangedAtMs - CLICK_WINDOW_MS }, undefined],
    [
      'click 90 days and 1 ms before',
      { hasClickId: true, clickAtMs: base.stageChangedAtMs - CLICK_WINDOW_MS - 1 },
      'CLICK_OLDER_THAN_90_DAYS',
    ],
  ];
  for (const [name, facts, reason] of cases) {
    test(`${name} → ${reason ?? 'eligible'}`, () => {
      const r = lifecycleEligibility({ ...base, ...facts });
      assert.equal(r.eligible ? undefined : r.reason, reason);
    });
  }
});

describe('conversionValue', () => {
  const dealDef = { type: 'deal_amount' as const, default: 50, currency: 'EUR' };
  const open = { amount: 1000, probability: 0.4, closed: false, closedWon: false };
  test('weighted amount of the most recent deal', () => {
    assert.deepEqual(conversionValue(dealDef, open), { value: 400, currency: 'EUR', source: 'weighted-deal-amount' });
  });
  test('closed won counts at its probability (1.0)', () => {
    assert.equal(
      conversionValue(dealDef, { amount: 999.99, probability: 1, closed: true, closedWon: true }).value,
      999.99,
    );
  });
  const fallbacks: [string, Parameters<typeof conversionValue>[1]][] = [
    ['no deal', undefined],
    ['closed lost', { amount: 1000, probability: 0, closed: true, closedWon: false }],
    ['zero amount', { ...open, amount: 0 }],
    ['negative amount', { ...open, amount: -5 }],
    ['missing amount', { ...open, amount: undefined }],
    ['no probability', { ...open, probability: undefined }],
    ['open deal at probability 0', { ...open, probability: 0 }],
  ];
  for (const [name, deal] of fallbacks) {
    test(`${name} → the default value`, () => {
      const v = conversionValue(dealDef, deal);
      assert.equal(v.source, 'default');
      assert.equal(v.value, 50);
      assert.ok(v.why);
    });
  }
  test('a custom value ignores deals', () => {
    assert.deepEqual(conversionValue({ type: 'custom', amount: 25, currency: 'USD' }, open), {
      value: 25,
      currency: 'USD',
      source: 'custom',
    });
  });
});

describe('date-times', () => {
  test('Google Ads format with an explicit UTC offset', () => {
    assert.equal(googleAdsDateTime(Date.parse('2022-01-01T19:32:45-05:00')), '2022-01-02 00:32:45+00:00');
    assert.equal(googleAdsDateTime(Date.parse('2026-03-09T07:05:00.999Z')), '2026-03-09 07:05:00+00:00');
  });
  test('parses offset date-times and refuses ones without an offset', () => {
    assert.equal(parseOffsetDateTime('2022-01-01 19:32:45-05:00'), Date.parse('2022-01-02T00:32:45Z'));
    assert.equal(parseOffsetDateTime('2022-01-01T19:32:45Z'), Date.parse('2022-01-01T19:32:45Z'));
    assert.equal(parseOffsetDateTime('2022-01-01 19:32:45'), undefined);
    assert.equal(parseOffsetDateTime('yesterday'), undefined);
  });
  test('round trip', () => {
    const ms = Date.parse('2026-11-24T16:00:00Z');
    assert.equal(parseOffsetDateTime(googleAdsDateTime(ms)), ms);
  });
});

test('order ids are deterministic per definition, contact and stage change', () => {
  assert.equal(lifecycleOrderId('lead', '123', 1700000000000), 'hs-lead-123-1700000000000');
  assert.notEqual(lifecycleOrderId('lead', '123', 1), lifecycleOrderId('customer', '123', 1));
});

// The HubSpot → Pendo type translation, one test per row of Pendo's table (seeds/002), from property
// definitions in the JSON HubSpot's /crm/v3/properties/contacts returns.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  parseValue,
  resolveFields,
  schemaTypeMatches,
  translateProperty,
  translateRecord,
  type HubSpotPropertyDefinition,
} from '../../src/domain/pendo/translate';

const { results } = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'hubspot-contact-properties.json'), 'utf8'),
) as { results: HubSpotPropertyDefinition[] };

function definition(name: string): HubSpotPropertyDefinition {
  const d = results.find((r) => r.name === name);
  assert.ok(d, `fixture has ${name}`);
  return d;
}

const pendoTypeOf = (name: string) => {
  const t = translateProperty(definition(name));
  return t.imported ? `${t.pendoType}/${t.parser}` : 'not imported';
};

describe('HubSpot property type → Pendo type', () => {
  test('single-line text → string', () => assert.equal(pendoTypeOf('firstname'), 'string/string'));
  test('multi-line text → string', () => assert.equal(pendoTypeOf('message'), 'string/string'));
  test('phone number (string and phone_number types) → string', () => {
    assert.equal(pendoTypeOf('phone'), 'string/string');
    assert.equal(pendoTypeOf('mobilephone'), 'string/string');
  });
  test('rich text (html) → string', () => assert.equal(pendoTypeOf('hs_content_membership_notes'), 'string/string'));
  test('multiple checkboxes → string', () => assert.equal(pendoTypeOf('hs_buying_role'), 'string/string'));
  test('dropdown select → string', () => assert.equal(pendoTypeOf('industry'), 'string/string'));
  test('radio select (and the enumeration data type) → string', () => {
    assert.equal(pendoTypeOf('hs_lead_status'), 'string/string');
    assert.equal(pendoTypeOf('lifecyclestage'), 'string/string');
  });
  test('single checkbox (bool) → boolean', () => assert.equal(pendoTypeOf('newsletter_opt_in'), 'boolean/boolean'));
  test('number → decimal', () => assert.equal(pendoTypeOf('seats'), 'decimal/number'));
  test('score → decimal', () => assert.equal(pendoTypeOf('hubspotscore'), 'decimal/number'));
  test('calculation by its result: number → decimal, also as a rollup', () => {
    assert.equal(pendoTypeOf('hs_time_to_first_engagement'), 'decimal/number');
    assert.equal(pendoTypeOf('num_associated_deals'), 'decimal/number');
  });
  test('calculation by its result: bool → boolean', () =>
    assert.equal(pendoTypeOf('hs_is_unworked'), 'boolean/boolean'));
  test('calculation by its result: string → string', () => {
    assert.equal(pendoTypeOf('hs_full_name_or_email'), 'string/string');
  });
  test('calculation by its result: datetime → time', () => {
    assert.equal(pendoTypeOf('hs_v2_date_entered_lead'), 'time/datetime');
  });
  test('date picker → time (midnight UTC)', () => assert.equal(pendoTypeOf('renewal_date'), 'time/date'));
  test('datetime → time', () => assert.equal(pendoTypeOf('hs_last_sales_activity_timestamp'), 'time/datetime'));
  test('file → not imported', () => {
    const t = translateProperty(definition('contract_pdf'));
    assert.equal(t.imported, false);
    assert.match(t.imported ? '' : t.detail, /file/);
  });
  test('HubSpot user → string (the owner id)', () => assert.equal(pendoTypeOf('hubspot_owner_id'), 'string/string'));
  test('a type HubSpot may add later is not guessed at', () => {
    const t = translateProperty({ name: 'x', type: 'object_coordinates', fieldType: 'unknown' });
    assert.equal(t.imported, false);
  });
});

describe('values as their Pendo type', () => {
  test('strings go as HubSpot holds them, multiple checkboxes joined by ";" as HubSpot returns them', () => {
    assert.deepEqual(parseValue('string', ' Jane '), { kind: 'value', value: ' Jane ' });
    assert.deepEqual(parseValue('string', 'CHAMPION;DECISION_MAKER'), {
      kind: 'value',
      value: 'CHAMPION;DECISION_MAKER',
    });
    assert.deepEqual(parseValue('string', 'x'.repeat(1501)), { kind: 'invalid' }, 'Pendo text stays under 1,500');
  });
  test('booleans: true/false only', () => {
    assert.deepEqual(parseValue('boolean', 'true'), { kind: 'value', value: true });
    assert.deepEqual(parseValue('boolean', 'false'), { kind: 'value', value: false });
    assert.deepEqual(parseValue('boolean', 'yes'), { kind: 'invalid' });
  });
  test('numbers: decimals and exponents; "abc" and "12abc" are left out, never sent', () => {
    assert.deepEqual(parseValue('number', '12.5'), { kind: 'value', value: 12.5 });
    assert.deepEqual(parseValue('number', '-3'), { kind: 'value', value: -3 });
    assert.deepEqual(parseValue('number', '1e3'), { kind: 'value', value: 1000 });
    for (const bad of ['abc', '12abc', '1,000', 'NaN', 'Infinity', '0x10']) {
      assert.deepEqual(parseValue('number', bad), { kind: 'invalid' }, bad);
    }
  });
  test('dates: epoch milliseconds, a HubSpot date at midnight UTC of its day', () => {
    assert.deepEqual(parseValue('date', '2026-11-30'), { kind: 'value', value: Date.UTC(2026, 10, 30) });
    assert.deepEqual(parseValue('date', String(Date.UTC(2026, 10, 30))), {
      kind: 'value',
      value: Date.UTC(2026, 10, 30),
    });
    assert.deepEqual(parseValue('date', String(Date.UTC(2026, 10, 30, 13))), {
      kind: 'value',
      value: Date.UTC(2026, 10, 30),
    });
    assert.deepEqual(parseValue('datetime', '2026-11-30T13:45:00.000Z'), {
      kind: 'value',
      value: Date.UTC(2026, 10, 30, 13, 45),
    });
    assert.deepEqual(parseValue('datetime', '1767225600000'), { kind: 'value', value: 1767225600000 });
    assert.deepEqual(parseValue('datetime', 'next tuesday'), { kind: 'invalid' });
  });
  test('an empty value is absent (nothing written), not invalid', () => {
    for (const parser of ['string', 'boolean', 'number', 'date', 'datetime'] as const) {
      assert.deepEqual(parseValue(parser, ''), { kind: 'absent' });
      assert.deepEqual(parseValue(parser, null), { kind: 'absent' });
    }
  });
  test('a record: valid values translated, the invalid one left out and named', () => {
    const { fields } = resolveFields(['seats', 'newsletter_opt_in', 'renewal_date', 'firstname'], results);
    const out = translateRecord(fields, {
      seats: 'abc',
      newsletter_opt_in: 'true',
      renewal_date: '2026-01-01',
      firstname: null,
    });
    assert.deepEqual(out, {
      values: { newsletter_opt_in: true, renewal_date: Date.UTC(2026, 0, 1) },
      invalid: ['seats'],
    });
  });
});

describe('choosing fields', () => {
  test('unknown and untranslatable properties are skipped by name, with why', () => {
    const { fields, skipped } = resolveFields(['firstname', 'no_such_property', 'contract_pdf'], results);
    assert.deepEqual(
      fields.map((f) => f.name),
      ['firstname'],
    );
    assert.deepEqual(
      skipped.map((s) => [s.name, s.reason]),
      [
        ['no_such_property', 'UNKNOWN_PROPERTY'],
        ['contract_pdf', 'NOT_SUPPORTED'],
      ],
    );
  });
  test("Pendo's schema types that take each translated type", () => {
    assert.ok(schemaTypeMatches('decimal', 'float'));
    assert.ok(schemaTypeMatches('time', 'time'));
    assert.ok(!schemaTypeMatches('boolean', 'string'));
  });
});

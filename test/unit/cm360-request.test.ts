// describe()/test() return promises that the node:test runner itself awaits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildBatchUpdateRequest } from '../../src/clients/cm360';
import { CM360_MAX_CONVERSIONS_PER_REQUEST, type Cm360Conversion } from '../../src/domain/cm360/types';

// The conversion of the CM360 enhanced-conversions guide, with int64s as decimal strings.
const seedConversion: Cm360Conversion = {
  matchId: 'my-match-id-846513278',
  ordinal: 'my-ordinal-12345678512',
  quantity: '1',
  value: 104.23,
  timestampMicros: '1656950400000000',
  floodlightConfigurationId: '99999',
  floodlightActivityId: '8888',
  userIdentifiers: [
    { hashedEmail: '0c7e6a405862e402eb76a70f8a26fc732d07c32931e9fae9ab1582911d2e8a3b' },
    { hashedPhoneNumber: '1fb1f420856780a29719b994c8764b81770d79f97e2e1861ba938a7a5a15dfb9' },
    {
      addressInfo: {
        hashedFirstName: '81f8f6dde88365f3928796ec7aa53f72820b06db8664f5fe76a7eb13e24546a2',
        hashedLastName: '799ef92a11af918e3fb741df42934f3b568ed2d93ac1df74f1b8d41a27932a6f',
        hashedStreetAddress: '22b7e2d69b91e0ef4a88e81a73d897b92fd9c93ccfbe0a860f77db16c26f662e',
        city: 'seattle',
        state: 'washington',
        countryCode: 'US',
        postalCode: '98101',
      },
    },
  ],
};

describe('buildBatchUpdateRequest', () => {
  test("the guide's example conversion becomes exactly this body", () => {
    const body = buildBatchUpdateRequest([seedConversion]);
    // Compared as serialized JSON too, so a stray undefined field would show up.
    assert.deepEqual(JSON.parse(JSON.stringify(body)), {
      kind: 'dfareporting#conversionsBatchUpdateRequest',
      conversions: [
        {
          matchId: 'my-match-id-846513278',
          ordinal: 'my-ordinal-12345678512',
          timestampMicros: '1656950400000000',
          floodlightActivityId: '8888',
          floodlightConfigurationId: '99999',
          quantity: '1',
          value: 104.23,
          userIdentifiers: [
            { hashedEmail: '0c7e6a405862e402eb76a70f8a26fc732d07c32931e9fae9ab1582911d2e8a3b' },
            { hashedPhoneNumber: '1fb1f420856780a29719b994c8764b81770d79f97e2e1861ba938a7a5a15dfb9' },
            {
              addressInfo: {
                hashedFirstName: '81f8f6dde88365f3928796ec7aa53f72820b06db8664f5fe76a7eb13e24546a2',
                hashedLastName: '799ef92a11af918e3fb741df42934f3b568ed2d93ac1df74f1b8d41a27932a6f',
                hashedStreetAddress: '22b7e2d69b91e0ef4a88e81a73d897b92fd9c93ccfbe0a860f77db16c26f662e',
                city: 'seattle',
                state: 'washington',
                countryCode: 'US',
                postalCode: '98101',
              },
            },
          ],
          kind: 'dfareporting#conversion',
        },
      ],
    });
  });

  test('only the wire fields are sent, whatever else the object carries', () => {
    const withExtras = { ...seedConversion, email: 'plain@example.com', workflowId: 'wf-1' } as Cm360Conversion;
    const [wire] = buildBatchUpdateRequest([withExtras]).conversions;
    assert.deepEqual(Object.keys(wire ?? {}).sort(), [
      'floodlightActivityId',
      'floodlightConfigurationId',
      'kind',
      'matchId',
      'ordinal',
      'quantity',
      'timestampMicros',
      'userIdentifiers',
      'value',
    ]);
  });

  test('keeps request order for many conversions', () => {
    const many = Array.from({ length: 3 }, (_, i) => ({ ...seedConversion, ordinal: `o-${i}` }));
    assert.deepEqual(
      buildBatchUpdateRequest(many).conversions.map((c) => c.ordinal),
      ['o-0', 'o-1', 'o-2'],
    );
  });

  test(`accepts exactly ${CM360_MAX_CONVERSIONS_PER_REQUEST} conversions`, () => {
    const max = Array.from({ length: CM360_MAX_CONVERSIONS_PER_REQUEST }, () => seedConversion);
    assert.equal(buildBatchUpdateRequest(max).conversions.length, CM360_MAX_CONVERSIONS_PER_REQUEST);
  });

  test('rejects one conversion over the limit, and an empty batch', () => {
    const tooMany = Array.from({ length: CM360_MAX_CONVERSIONS_PER_REQUEST + 1 }, () => seedConversion);
    assert.throws(() => buildBatchUpdateRequest(tooMany), RangeError);
    assert.throws(() => buildBatchUpdateRequest([]), RangeError);
  });
});

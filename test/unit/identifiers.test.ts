import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toCm360UserIdentifiers } from '../../src/domain/cm360/identifiers';
import { MAX_USER_IDENTIFIERS } from '../../src/domain/cm360/types';
import {
  hashIdentity,
  isSha256Hex,
  normalizeCity,
  normalizeCountryCode,
  normalizeEmail,
  normalizeFirstName,
  normalizeIdentifier,
  normalizeLastName,
  normalizePhone,
  normalizePostalCode,
  normalizeState,
  normalizeStreetAddress,
  sha256Hex,
  type NormalizeResult,
  type PlainIdentity,
} from '../../src/domain/identifiers';

function value(result: NormalizeResult): string {
  assert.ok(result.ok, `expected ok, got ${JSON.stringify(result)}`);
  return result.value;
}

function reason(result: NormalizeResult): string {
  assert.ok(!result.ok, `expected a drop, got ${JSON.stringify(result)}`);
  return result.reason;
}

const HEX = 'A'.repeat(32) + 'f0'.repeat(16);

describe('sha256Hex / isSha256Hex', () => {
  test('lowercase hex of the UTF-8 bytes', () => {
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.match(sha256Hex('Zoë'), /^[0-9a-f]{64}$/);
  });

  test('recognises 64 hex digits in either case only', () => {
    assert.equal(isSha256Hex(HEX), true);
    assert.equal(isSha256Hex(HEX.toLowerCase()), true);
    assert.equal(isSha256Hex(HEX.slice(1)), false);
    assert.equal(isSha256Hex(`${HEX}0`), false);
    assert.equal(isSha256Hex('g'.repeat(64)), false);
  });
});

describe('normalizeEmail', () => {
  for (const [what, raw] of [
    ['a zero-width space (U+200B)', 'jane\u200b.doe@example.com'],
    ['a right-to-left override (U+202E)', '\u202ejane.doe@example.com'],
    ['a NUL', 'jane.doe\u0000@example.com'],
    ['a BOM and a soft hyphen', '\ufeffjane.d\u00adoe@example.com'],
    ['a zero-width joiner and a line break', 'jane.doe@exam\u200dple.com\n'],
  ] as const) {
    test(`strips ${what} before normalizing: the hash is the one of the address people see`, () => {
      assert.equal(value(normalizeEmail(raw)), 'jane.doe@example.com');
    });
  }

  test('drops an email with half a surrogate pair: no UTF-8 form, no hash anyone can match', () => {
    assert.equal(reason(normalizeEmail('jane\ud800@example.com')), 'not an email address');
  });

  test('trims before lowercasing and removing gmail dots', () => {
    const v = value(normalizeEmail('  Jefferson.Loves.Hiking@GMAIL.com '));
    assert.equal(v, 'jeffersonloveshiking@gmail.com');
    assert.equal(sha256Hex(v), '515d2f967f73864e76937ab2b897210a86fd286016903b1b08c3da07c75f513e');
  });

  test('removes dots in the local part for googlemail.com too', () => {
    assert.equal(value(normalizeEmail('a.b.c@GoogleMail.com')), 'abc@googlemail.com');
  });

  test('keeps dots and +suffix for other domains, and +suffix for gmail', () => {
    assert.equal(value(normalizeEmail('First.Last+news@Example.co.uk')), 'first.last+news@example.co.uk');
    assert.equal(value(normalizeEmail('first.last+news@gmail.com')), 'firstlast+news@gmail.com');
  });

  test('dots in the domain are kept', () => {
    assert.equal(value(normalizeEmail('x@mail.gmail.com')), 'x@mail.gmail.com');
  });

  test('removes intermediate whitespace', () => {
    assert.equal(value(normalizeEmail(' Foo Bar @ Example .com\t')), 'foobar@example.com');
  });

  for (const bad of [
    'not-an-email',
    'a@b',
    '@example.com',
    'a@',
    'a@@example.com',
    'a@b@example.com',
    '...@gmail.com',
  ]) {
    test(`drops ${JSON.stringify(bad)}`, () => {
      assert.equal(reason(normalizeEmail(bad)), 'not an email address');
    });
  }

  test('passes a SHA-256 through, lowercased', () => {
    assert.equal(value(normalizeEmail(` ${HEX} `)), HEX.toLowerCase());
  });
});

describe('normalizePhone', () => {
  test('formatting is removed from a number with +country', () => {
    assert.equal(value(normalizePhone('+1-800-555-0100')), '+18005550100');
    assert.equal(value(normalizePhone('  +1 (800) 555.0100 ')), '+18005550100');
    assert.equal(value(normalizePhone('+1/800/555/0100')), '+18005550100');
  });

  test('a number without +country is read in the region', () => {
    assert.equal(value(normalizePhone('1-800-555-0100', { region: 'US' })), '+18005550100');
    assert.equal(value(normalizePhone('(800) 555-0100', { region: 'US' })), '+18005550100');
    assert.equal(value(normalizePhone('0113 496 0987', { region: 'GB' })), '+441134960987');
  });

  test('the 00 international prefix is understood', () => {
    assert.equal(value(normalizePhone('00 44 113 496 0987', { region: 'GB' })), '+441134960987');
  });

  test('an explicit country code wins over the region', () => {
    assert.equal(value(normalizePhone('+44-113-496-0987', { region: 'US' })), '+441134960987');
    assert.equal(value(normalizePhone('+44-113-496-0987')), '+441134960987');
  });

  test('an explicit +country number is kept even when the metadata calls it invalid', () => {
    assert.equal(value(normalizePhone('+10000000001')), '+10000000001');
  });

  test('a +country number needs 7 to 15 digits', () => {
    assert.equal(value(normalizePhone('+1234567')), '+1234567');
    assert.equal(reason(normalizePhone('+123456')), 'phone number could not be read as E.164');
    assert.equal(reason(normalizePhone('+1234567890123456')), 'phone number could not be read as E.164');
  });

  for (const bad of ['+1-800-FLOWERS', '1-800-FLOWERS', '+1 800 555 0100 ext 5', 'tel:+18005550100', '+1+8005550100']) {
    test(`drops ${JSON.stringify(bad)} (not only digits and separators)`, () => {
      const r = reason(normalizePhone(bad, { region: 'US' }));
      assert.equal(r, 'phone number contains characters other than digits and separators');
    });
  }

  test('drops a number without +country when no region is available', () => {
    assert.equal(
      reason(normalizePhone('800-555-0100')),
      'phone number has no country code and no region is configured',
    );
  });

  test('drops a number that is not even possible in the region (wrong length), or an unknown region', () => {
    assert.equal(reason(normalizePhone('555', { region: 'US' })), 'phone number could not be read as E.164');
    assert.equal(reason(normalizePhone('201 555 01234', { region: 'US' })), 'phone number could not be read as E.164');
    assert.equal(reason(normalizePhone('800-555-0100', { region: 'ZZ' })), 'phone number could not be read as E.164');
  });

  test('formats a possible national number the metadata calls invalid (new ranges come before the library knows them)', () => {
    // 123 is no US area code today; the number has a possible length, and the user typed it so.
    assert.equal(value(normalizePhone('(123) 456-7890', { region: 'US' })), '+11234567890');
    assert.equal(value(normalizePhone('000 000 0001', { region: 'US' })), '+10000000001');
  });

  test('passes a SHA-256 through, lowercased', () => {
    assert.equal(value(normalizePhone(HEX)), HEX.toLowerCase());
  });
});

describe('names and street address', () => {
  test('trim and lowercase', () => {
    assert.equal(value(normalizeFirstName('  Zoë ')), 'zoë');
    assert.equal(value(normalizeLastName('\tMcDonald-Smith ')), 'mcdonald-smith');
    assert.equal(value(normalizeStreetAddress(' 1600 Amphitheatre Pkwy ')), '1600 amphitheatre pkwy');
  });

  test('invisible characters are stripped from names and streets as from emails', () => {
    assert.equal(value(normalizeFirstName('Zo\u200bë\u0000')), 'zoë');
    assert.equal(value(normalizeStreetAddress('1600\u202e Amphitheatre Pkwy')), '1600 amphitheatre pkwy');
    assert.equal(reason(normalizeLastName('\u200b\u200d')), 'last name is empty');
  });

  test('empty after trimming is dropped', () => {
    assert.equal(reason(normalizeFirstName('   ')), 'first name is empty');
    assert.equal(reason(normalizeLastName('')), 'last name is empty');
    assert.equal(reason(normalizeStreetAddress('\n')), 'street address is empty');
  });

  test('a SHA-256 passes through, lowercased', () => {
    assert.equal(value(normalizeFirstName(HEX)), HEX.toLowerCase());
    assert.equal(value(normalizeLastName(HEX)), HEX.toLowerCase());
    assert.equal(value(normalizeStreetAddress(HEX)), HEX.toLowerCase());
  });
});

describe('plain address parts', () => {
  test('city, state and postal code are only trimmed', () => {
    assert.equal(value(normalizeCity(' Mountain View ')), 'Mountain View');
    assert.equal(value(normalizeState(' CA')), 'CA');
    assert.equal(value(normalizePostalCode('94043 ')), '94043');
  });

  test('empty after trimming is dropped', () => {
    assert.equal(normalizeCity('  ').ok, false);
    assert.equal(normalizeState('').ok, false);
    assert.equal(normalizePostalCode(' ').ok, false);
  });

  test('countryCode is trimmed and uppercased', () => {
    assert.equal(value(normalizeCountryCode(' us ')), 'US');
  });

  for (const bad of ['USA', 'U1', 'U', '', 'ß', 'é1', 'Ü S']) {
    test(`countryCode ${JSON.stringify(bad)} is dropped`, () => {
      assert.equal(reason(normalizeCountryCode(bad)), 'countryCode must be exactly two letters');
    });
  }
});

test('normalizeIdentifier dispatches on kind', () => {
  assert.equal(value(normalizeIdentifier('email', ' A@B.com')), 'a@b.com');
  assert.equal(value(normalizeIdentifier('phone', '800 555 0100', { region: 'US' })), '+18005550100');
  assert.equal(value(normalizeIdentifier('countryCode', 'gb')), 'GB');
  assert.equal(value(normalizeIdentifier('city', ' Leeds ')), 'Leeds');
});

describe('hashIdentity', () => {
  const full: PlainIdentity = {
    email: ' Jane.Doe@Gmail.com ',
    phone: '0113 496 0987',
    firstName: ' Jane ',
    lastName: 'DOE',
    streetAddress: '1 Main St',
    city: ' Leeds ',
    state: 'West Yorkshire',
    postalCode: 'LS1 1AA',
    countryCode: 'gb',
  };

  test('hashes everything hashed and keeps plain parts plain', () => {
    const { identity, dropped } = hashIdentity(full);
    assert.deepEqual(dropped, []);
    assert.deepEqual(identity, {
      hashedEmail: sha256Hex('janedoe@gmail.com'),
      hashedPhoneNumber: sha256Hex('+441134960987'),
      address: {
        hashedFirstName: sha256Hex('jane'),
        hashedLastName: sha256Hex('doe'),
        hashedStreetAddress: sha256Hex('1 main st'),
        city: 'Leeds',
        state: 'West Yorkshire',
        postalCode: 'LS1 1AA',
        countryCode: 'GB',
      },
    });
  });

  test('empty, whitespace-only and undefined fields are absent, not dropped', () => {
    const { identity, dropped } = hashIdentity({ email: '  ', phone: '', firstName: undefined, city: '\t' });
    assert.deepEqual(identity, {});
    assert.deepEqual(dropped, []);
  });

  test('a pre-hashed value is passed through, lowercased, not hashed again', () => {
    const { identity } = hashIdentity({ email: HEX, phone: HEX, lastName: HEX });
    assert.equal(identity.hashedEmail, HEX.toLowerCase());
    assert.equal(identity.hashedPhoneNumber, HEX.toLowerCase());
    assert.deepEqual(identity.address, { hashedLastName: HEX.toLowerCase() });
  });

  test("the record's countryCode is the phone region, ahead of the default region", () => {
    const { identity } = hashIdentity({ phone: '0113 496 0987', countryCode: 'GB' }, { defaultRegion: 'US' });
    assert.equal(identity.hashedPhoneNumber, sha256Hex('+441134960987'));
  });

  test('the default region is used when the record has no usable countryCode', () => {
    const { identity, dropped } = hashIdentity({ phone: '800-555-0100', countryCode: 'USA' }, { defaultRegion: 'us' });
    assert.equal(identity.hashedPhoneNumber, sha256Hex('+18005550100'));
    assert.deepEqual(dropped, [{ field: 'countryCode', reason: 'countryCode must be exactly two letters' }]);
  });

  test('a phone without +country and without any region is dropped', () => {
    const { identity, dropped } = hashIdentity({ phone: '800-555-0100' });
    assert.deepEqual(identity, {});
    assert.deepEqual(dropped, [
      { field: 'phone', reason: 'phone number has no country code and no region is configured' },
    ]);
  });

  test('an address needs a name or street address; plain parts alone are dropped', () => {
    const { identity, dropped } = hashIdentity({
      email: 'a@example.com',
      city: 'Leeds',
      state: 'WY',
      postalCode: 'LS1 1AA',
      countryCode: 'GB',
    });
    assert.deepEqual(identity, { hashedEmail: sha256Hex('a@example.com') });
    const why = 'address needs a name or street address to be an identifier';
    assert.deepEqual(dropped, [
      { field: 'city', reason: why },
      { field: 'state', reason: why },
      { field: 'postalCode', reason: why },
      { field: 'countryCode', reason: why },
    ]);
  });

  test('countryCode still serves as phone region when the address is dropped', () => {
    const { identity } = hashIdentity({ phone: '0113 496 0987', countryCode: 'GB' });
    assert.equal(identity.hashedPhoneNumber, sha256Hex('+441134960987'));
    assert.equal(identity.address, undefined);
  });

  test('any one of first name, last name or street address carries the address', () => {
    for (const anchor of ['firstName', 'lastName', 'streetAddress'] as const) {
      const { identity, dropped } = hashIdentity({ [anchor]: 'X', postalCode: '94043', countryCode: 'US' });
      assert.deepEqual(dropped, []);
      assert.equal(identity.address?.postalCode, '94043');
      assert.equal(identity.address?.countryCode, 'US');
      assert.equal(Object.keys(identity.address ?? {}).length, 3);
    }
  });

  test('dropped fields are reported in field order, and reasons never contain the value', () => {
    const plain = {
      countryCode: 'Xy1',
      email: 'secret-person-at-example',
      phone: '+1 SECRET 555',
      firstName: ' ',
    } satisfies PlainIdentity;
    const { identity, dropped } = hashIdentity(plain, { defaultRegion: 'US' });
    assert.deepEqual(identity, {});
    assert.deepEqual(
      dropped.map((d) => d.field),
      ['email', 'phone', 'countryCode'],
    );
    for (const d of dropped) {
      for (const raw of Object.values<string>(plain)) {
        if (raw.trim() !== '') assert.ok(!d.reason.includes(raw.trim()), `reason for ${d.field} leaks its value`);
      }
      assert.ok(!/secret|xy1/i.test(d.reason));
    }
  });

  test('a non-string value at runtime is dropped, not coerced', () => {
    const { identity, dropped } = hashIdentity({ email: 42 } as unknown as PlainIdentity);
    assert.deepEqual(identity, {});
    assert.deepEqual(dropped, [{ field: 'email', reason: 'email is not text' }]);
  });
});

describe('toCm360UserIdentifiers', () => {
  test('email, phone, address in that order, each with one field', () => {
    const { identity } = hashIdentity({
      countryCode: 'US',
      postalCode: '94043',
      lastName: 'Doe',
      phone: '+1 800 555 0100',
      email: 'a@example.com',
    });
    const ids = toCm360UserIdentifiers(identity);
    assert.deepEqual(ids, [
      { hashedEmail: sha256Hex('a@example.com') },
      { hashedPhoneNumber: sha256Hex('+18005550100') },
      { addressInfo: { hashedLastName: sha256Hex('doe'), postalCode: '94043', countryCode: 'US' } },
    ]);
    for (const id of ids) assert.equal(Object.keys(id).length, 1);
    assert.ok(ids.length <= MAX_USER_IDENTIFIERS);
  });

  test('addressInfo keys come in the documented order', () => {
    const ids = toCm360UserIdentifiers({
      address: {
        countryCode: 'US',
        postalCode: 'p',
        state: 's',
        city: 'c',
        hashedStreetAddress: 'h3',
        hashedLastName: 'h2',
        hashedFirstName: 'h1',
      },
    });
    assert.deepEqual(Object.keys(ids[0]?.addressInfo ?? {}), [
      'hashedFirstName',
      'hashedLastName',
      'hashedStreetAddress',
      'city',
      'state',
      'postalCode',
      'countryCode',
    ]);
  });

  test('only present identifiers are emitted', () => {
    assert.deepEqual(toCm360UserIdentifiers({}), []);
    assert.deepEqual(toCm360UserIdentifiers({ hashedPhoneNumber: 'p' }), [{ hashedPhoneNumber: 'p' }]);
  });
});

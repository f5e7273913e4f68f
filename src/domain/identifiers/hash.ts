// The one place plaintext user data becomes what Google receives: normalized, SHA-256 hashed where Google asks
// for hashes, with every field that could not be used reported by name and reason only.
import {
  hashNormalized,
  normalizeCity,
  normalizeCountryCode,
  normalizeEmail,
  normalizeFirstName,
  normalizeLastName,
  normalizePhone,
  normalizePostalCode,
  normalizeState,
  normalizeStreetAddress,
  type NormalizeResult,
} from './normalize';
import {
  PLAIN_IDENTITY_FIELDS,
  type DroppedIdentifier,
  type HashedAddress,
  type HashedIdentity,
  type HashIdentityOptions,
  type PlainIdentity,
} from './types';

const ADDRESS_WITHOUT_ANCHOR = 'address needs a name or street address to be an identifier';

export function hashIdentity(
  plain: PlainIdentity,
  opts: HashIdentityOptions = {},
): { identity: HashedIdentity; dropped: DroppedIdentifier[] } {
  const dropped: DroppedIdentifier[] = [];

  const use = (field: keyof PlainIdentity, normalize: (raw: string) => NormalizeResult): string | undefined => {
    const raw: unknown = plain[field];
    if (raw === undefined || raw === null) return undefined;
    // Records come from CRMs and JSON; a number or object here must not crash the relay or be coerced.
    if (typeof raw !== 'string') {
      dropped.push({ field, reason: `${field} is not text` });
      return undefined;
    }
    if (raw.trim() === '') return undefined;
    const result = normalize(raw);
    if (!result.ok) {
      dropped.push({ field, reason: result.reason });
      return undefined;
    }
    return result.value;
  };

  const countryCode = use('countryCode', normalizeCountryCode);
  const region = countryCode ?? regionOrUndefined(opts.defaultRegion);

  const identity: HashedIdentity = {};
  const email = use('email', normalizeEmail);
  if (email !== undefined) identity.hashedEmail = hashNormalized(email);
  const phone = use('phone', (raw) => normalizePhone(raw, { region }));
  if (phone !== undefined) identity.hashedPhoneNumber = hashNormalized(phone);

  const firstName = use('firstName', normalizeFirstName);
  const lastName = use('lastName', normalizeLastName);
  const streetAddress = use('streetAddress', normalizeStreetAddress);
  const plainParts = {
    city: use('city', normalizeCity),
    state: use('state', normalizeState),
    postalCode: use('postalCode', normalizePostalCode),
    countryCode,
  };

  if (firstName !== undefined || lastName !== undefined || streetAddress !== undefined) {
    const address: HashedAddress = {};
    if (firstName !== undefined) address.hashedFirstName = hashNormalized(firstName);
    if (lastName !== undefined) address.hashedLastName = hashNormalized(lastName);
    if (streetAddress !== undefined) address.hashedStreetAddress = hashNormalized(streetAddress);
    for (const [key, value] of Object.entries(plainParts)) {
      if (value !== undefined) address[key as keyof typeof plainParts] = value;
    }
    identity.address = address;
  } else {
    // City, state, postcode and country alone match too many people for Google to accept as an identifier.
    for (const [key, value] of Object.entries(plainParts)) {
      if (value !== undefined) dropped.push({ field: key as keyof typeof plainParts, reason: ADDRESS_WITHOUT_ANCHOR });
    }
  }

  const order = (field: keyof PlainIdentity): number => PLAIN_IDENTITY_FIELDS.indexOf(field);
  dropped.sort((a, b) => order(a.field) - order(b.field));
  return { identity, dropped };
}

function regionOrUndefined(region: string | undefined): string | undefined {
  if (region === undefined) return undefined;
  const result = normalizeCountryCode(region);
  return result.ok ? result.value : undefined;
}

// Maps a HashedIdentity onto CM360's userIdentifiers: one entry per identifier kind, each with exactly one
// field set, in a fixed order so identical input always produces an identical request body.
import type { HashedIdentity } from '../identifiers/types';
import type { Cm360AddressInfo, Cm360UserIdentifier } from './types';

const ADDRESS_INFO_KEYS = [
  'hashedFirstName',
  'hashedLastName',
  'hashedStreetAddress',
  'city',
  'state',
  'postalCode',
  'countryCode',
] as const satisfies readonly (keyof Cm360AddressInfo)[];

export function toCm360UserIdentifiers(identity: HashedIdentity): Cm360UserIdentifier[] {
  const identifiers: Cm360UserIdentifier[] = [];
  if (identity.hashedEmail !== undefined) identifiers.push({ hashedEmail: identity.hashedEmail });
  if (identity.hashedPhoneNumber !== undefined) identifiers.push({ hashedPhoneNumber: identity.hashedPhoneNumber });
  if (identity.address !== undefined) {
    const addressInfo: Cm360AddressInfo = {};
    for (const key of ADDRESS_INFO_KEYS) {
      const value = identity.address[key];
      if (value !== undefined) addressInfo[key] = value;
    }
    if (Object.keys(addressInfo).length > 0) identifiers.push({ addressInfo });
  }
  return identifiers;
}

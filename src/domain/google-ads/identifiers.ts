import type { HashedIdentity } from '../identifiers/types';
import type { GoogleAdsUserIdentifier } from './types';

/**
 * Google Ads UserIdentifiers from a hashed identity: email, phone, then the address. Click conversions
 * take only the first two (`withAddress: false`); enhancements take all three.
 */
export function toGoogleAdsUserIdentifiers(
  identity: HashedIdentity,
  opts: { withAddress: boolean },
): GoogleAdsUserIdentifier[] {
  const out: GoogleAdsUserIdentifier[] = [];
  if (identity.hashedEmail) out.push({ hashed_email: identity.hashedEmail });
  if (identity.hashedPhoneNumber) out.push({ hashed_phone_number: identity.hashedPhoneNumber });
  const a = identity.address;
  if (opts.withAddress && a) {
    out.push({
      address_info: {
        ...(a.hashedFirstName ? { hashed_first_name: a.hashedFirstName } : {}),
        ...(a.hashedLastName ? { hashed_last_name: a.hashedLastName } : {}),
        ...(a.hashedStreetAddress ? { hashed_street_address: a.hashedStreetAddress } : {}),
        ...(a.city ? { city: a.city } : {}),
        ...(a.state ? { state: a.state } : {}),
        ...(a.postalCode ? { postal_code: a.postalCode } : {}),
        ...(a.countryCode ? { country_code: a.countryCode } : {}),
      },
    });
  }
  return out;
}

// Vendor-neutral identifier shapes. Plaintext lives only at the edge (api, CLI, the activity that reads
// a CRM record); everything after hashIdentity() carries hashes and the plain address parts Google asks for.

/** Plaintext user data as it arrives from a capture, a CRM record or a CSV row. */
export interface PlainIdentity {
  email?: string;
  phone?: string;
  firstName?: string;
  lastName?: string;
  streetAddress?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  /** ISO-3166-1 alpha-2; also the region used to read a phone number written without +country. */
  countryCode?: string;
}

export const PLAIN_IDENTITY_FIELDS = [
  'email',
  'phone',
  'firstName',
  'lastName',
  'streetAddress',
  'city',
  'state',
  'postalCode',
  'countryCode',
] as const satisfies readonly (keyof PlainIdentity)[];

export interface HashedAddress {
  hashedFirstName?: string;
  hashedLastName?: string;
  hashedStreetAddress?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  countryCode?: string;
}

/** The normalized, SHA-256 (lowercase hex) form of a PlainIdentity. */
export interface HashedIdentity {
  hashedEmail?: string;
  hashedPhoneNumber?: string;
  address?: HashedAddress;
}

/** A field that could not be normalized and was left out, with the reason (never the value). */
export interface DroppedIdentifier {
  field: keyof PlainIdentity;
  reason: string;
}

export interface HashIdentityOptions {
  /** Region for phone numbers written without +country when the record has no countryCode. */
  defaultRegion?: string;
}
